/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the sync state files read back
 * (lib/sync/record.c): any bytes as a .sec table, a .fast line or a record
 * header must parse or be refused without crashing or reading out of
 * bounds, and whatever .sec table is accepted must describe sections that
 * tile a record exactly (each non-empty, after the header, in order,
 * without gap or overlap, the last ending at the size it reports), so that
 * reading them back can never leave the record or its allocation. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sync/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_sec(const uint8_t *data, size_t size)
{
	struct wgnl_sync_section *sec = NULL;
	struct sec_head head;
	uint64_t h[2] = { 0, 0 }, iface_h[2], rec_size, end;
	size_t n = 0, total;
	bool *m;

	/* The hash it must describe: the one it names, so the checks past
	 * the header get exercised. */
	if (size >= sizeof(head)) {
		memcpy(&head, data, sizeof(head));
		h[0] = head.text_h[0];
		h[1] = head.text_h[1];
	}
	if (wgi_sync_sec_parse(data, size, h, &sec, &n, iface_h, &rec_size) < 0) {
		if (sec)
			abort();
		return;
	}
	end = n ? sec[0].san_off : 0;
	if (n && end < RECORD2_HEAD_LEN)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (sec[i].san_off != end || !sec[i].san_len ||
		    sec[i].san_len > SIZE_MAX - sec[i].san_off)
			abort();
		end = sec[i].san_off + sec[i].san_len;
	}
	if (end != rec_size)
		abort();
	m = calloc(n + 1, sizeof(*m));
	if (!m)
		abort();
	if (wgi_sync_sections_total(sec, n, m, &total) == 0 && total > rec_size)
		abort();
	free(m);
	free(sec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wgnl_sync_digest f, r;
	char digest[64];

	check_sec(data, size);
	if (wgi_sync_fast_parse((const char *)data, size, &f, &r) == 0 &&
	    size != strlen("file= run=\n") + 64)
		abort();
	if (wgi_sync_rec1_digest_parse((const char *)data, size, digest, sizeof(digest)) == 0 &&
	    strlen(digest) >= sizeof(digest))
		abort();
	return 0;
}
