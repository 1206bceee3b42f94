/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for wgnl_sync_text_split() (lib/sync/text.c), which
 * wg-gatewayd's directory source runs over every peers file it re-reads:
 * any bytes must split without crashing or reading out of bounds, into
 * [Peer] sections that lie inside the text, in order, without overlap,
 * each starting at a line whose first non-blank byte is '[' (a UTF-8 BOM
 * aside), with its length in h[1]; the same bytes twice give the same
 * hashes, and a changed byte inside one section changes no other's. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wgkit/wgnl_sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *t, size_t size, const struct wgnl_sync_text *a)
{
	size_t end = 0;

	if (a->san || (a->n_sec && !a->sec))
		abort();
	for (size_t i = 0; i < a->n_sec; i++) {
		const struct wgnl_sync_section *s = &a->sec[i];
		size_t k = s->orig_off;

		if (s->orig_off < end || !s->orig_len || s->orig_len > size - s->orig_off ||
		    s->h[1] != s->orig_len)
			abort();
		if (k && t[k - 1] != '\n' && !(k == 3 && !memcmp(t, "\xef\xbb\xbf", 3)))
			abort();
		while (k < size && (t[k] == ' ' || t[k] == '\t'))
			k++;
		if (k >= size || t[k] != '[')
			abort();
		end = s->orig_off + s->orig_len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wgnl_sync_text a, b;
	char *t = malloc(size ? size : 1);

	if (!t)
		return 0;
	memcpy(t, data, size);
	if (wgnl_sync_text_split(t, size, &a) < 0) {
		free(t);
		return 0;
	}
	check(t, size, &a);
	/* Flip the last byte of the first section when it lies past the
	 * header line and neither it nor its flip is a line break or '[':
	 * no section comes or goes, and only that section's hash may move. */
	if (a.n_sec && wgnl_sync_text_split(t, size, &b) == 0) {
		const struct wgnl_sync_section *s0 = &a.sec[0];
		const char *nl = memchr(t + s0->orig_off, '\n', s0->orig_len);
		size_t at = s0->orig_off + s0->orig_len - 1;
		char c = t[at], f = (char)(c ^ 1);

		if (b.n_sec != a.n_sec || memcmp(a.sec, b.sec, a.n_sec * sizeof(*a.sec)))
			abort();
		wgnl_sync_text_clear(&b);
		if (nl && t + at > nl && c != '\n' && f != '\n' && c != '[' && f != '[') {
			t[at] = f;
			if (wgnl_sync_text_split(t, size, &b) == 0) {
				if (b.n_sec != a.n_sec)
					abort();
				for (size_t i = 1; i < a.n_sec; i++)
					if (a.sec[i].h[0] != b.sec[i].h[0])
						abort();
				wgnl_sync_text_clear(&b);
			}
		}
	}
	wgnl_sync_text_clear(&a);
	free(t);
	return 0;
}
