// SPDX-License-Identifier: MIT
/* The sync state files read back: see record.h. No I/O, no static
 * state (fuzz/sync_record.c drives these alone). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

void wgi_sync_rec2_header(char *out, size_t len, const uint64_t h[2])
{
	snprintf(out, len, RECORD2_MAGIC "%016llx%016llx\n", (unsigned long long)h[0],
		 (unsigned long long)h[1]);
}

int wgi_sync_rec1_digest_parse(const char *buf, size_t len, char *out, size_t outlen)
{
	size_t m = sizeof(RECORD_MAGIC) - 1, n = 0;

	if (outlen)
		out[0] = '\0';
	if (!outlen || len < m || memcmp(buf, RECORD_MAGIC, m))
		return -EINVAL;
	buf += m;
	len -= m;
	while (n < len && buf[n] != '\n') {
		char c = buf[n];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')))
			return -EINVAL;
		n++;
	}
	if (n == len || n >= outlen)
		return -EINVAL;
	memcpy(out, buf, n);
	out[n] = '\0';
	return 0;
}

static int hex64(const char *p, uint64_t *out)
{
	uint64_t v = 0;

	for (int i = 0; i < 16; i++) {
		char c = p[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else
			return -EINVAL;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

int wgi_sync_fast_parse(const char *buf, size_t len, struct wgnl_sync_digest *file,
			struct wgnl_sync_digest *run)
{
	/* "file=" 32 hex " run=" 32 hex "\n" */
	static const size_t want = 5 + 32 + 5 + 32 + 1;

	if (len != want || memcmp(buf, "file=", 5) || memcmp(buf + 37, " run=", 5) ||
	    buf[want - 1] != '\n')
		return -EINVAL;
	if (hex64(buf + 5, &file->a) < 0 || hex64(buf + 21, &file->b) < 0 ||
	    hex64(buf + 42, &run->a) < 0 || hex64(buf + 58, &run->b) < 0)
		return -EINVAL;
	return 0;
}

int wgi_sync_sec_parse(const void *buf, size_t len, const uint64_t h[2],
		       struct wgnl_sync_section **ret, size_t *n, uint64_t iface_h[2],
		       uint64_t *rec_size)
{
	const uint8_t *b = buf;
	struct sec_head head;
	struct wgnl_sync_section *v;
	uint64_t end = 0, th[2];

	*ret = NULL;
	*n = 0;
	*rec_size = 0;
	if (len < sizeof(head))
		return -EINVAL;
	memcpy(&head, b, sizeof(head));
	if (memcmp(head.magic, SEC_MAGIC, 8) || head.text_h[0] != h[0] || head.text_h[1] != h[1])
		return -EINVAL;
	/* The count must say exactly the bytes that follow (no multiply that
	 * can wrap: divide instead). */
	if ((len - sizeof(head)) % sizeof(struct sec_ent) ||
	    head.n != (len - sizeof(head)) / sizeof(struct sec_ent))
		return -EINVAL;
	v = calloc((size_t)head.n + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	th[0] = head.iface_h[0];
	th[1] = head.iface_h[1];
	for (size_t i = 0; i < head.n; i++) {
		struct sec_ent e;

		memcpy(&e, b + sizeof(head) + i * sizeof(e), sizeof(e));
		/* A section is at least "[Peer]\n"; the first comes after the
		 * record's header; each one where the last ended. */
		if (e.len < 7 || e.off < RECORD2_HEAD_LEN || (i && e.off != end) ||
		    e.len > UINT64_MAX - e.off || e.off + e.len > (uint64_t)SIZE_MAX ||
		    e.off + e.len > (uint64_t)INT64_MAX)
			goto bad;
		end = e.off + e.len;
		v[i].h[0] = e.h[0];
		v[i].h[1] = e.h[1];
		v[i].san_off = (size_t)e.off;
		v[i].san_len = (size_t)e.len;
		th[0] = wgi_sync_mix64(th[0] ^ e.h[0]);
		th[1] = wgi_sync_mix64(th[1] + e.h[1]);
	}
	/* As wgnl_sync_text_make() names the text: the table must be the record's. */
	if (head.n)
		th[0] ^= end - RECORD2_HEAD_LEN;
	else
		th[0] = h[0]; /* the [Interface] part's length is not known */
	if (th[0] != h[0] || th[1] != h[1])
		goto bad;
	iface_h[0] = head.iface_h[0];
	iface_h[1] = head.iface_h[1];
	*n = (size_t)head.n;
	*rec_size = end;
	*ret = v;
	return 0;
bad:
	free(v);
	return -EINVAL;
}

int wgi_sync_sections_total(const struct wgnl_sync_section *sec, size_t n, const bool *m,
			    size_t *total)
{
	size_t t = 0;

	for (size_t i = 0; i < n; i++) {
		if (m[i])
			continue;
		if (sec[i].san_len > SIZE_MAX - 1 - t)
			return -EOVERFLOW;
		t += sec[i].san_len;
	}
	*total = t;
	return 0;
}
