/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the STUN decoder: any input must decode or fail with
 * one of the documented errors, without crashing or reading out of bounds;
 * whatever decodes must survive a rebuild and decode to the same fields;
 * and any input carried as a SOFTWARE value must get the FINGERPRINT a
 * bitwise CRC-32 computes (the library's is slicing-by-8, so every length
 * and alignment of its eight-byte loop and its tail gets exercised). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wgkit/wgnl_stun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t crc32_bitwise(const uint8_t *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFU;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xEDB88320U ^ (c >> 1) : c >> 1;
	}
	return ~c;
}

static void check_fingerprint(const uint8_t *data, size_t size)
{
	static const uint8_t tid[WGNL_STUN_TID_LEN] = { 0 };
	uint8_t out[WGNL_STUN_MAX_MSG];
	struct wgnl_stun_writer w;
	/* Every tail and alignment shows up well below this; longer inputs
	 * would only slow the decoder's fuzzing down. */
	if (size > 200)
		size = 200;
	wgnl_stun_writer_init(&w, out, sizeof(out), 0x0101, tid);
	wgnl_stun_put(&w, 0x8022 /* SOFTWARE */, data, size);
	int n = wgnl_stun_finish(&w, true);
	if (n < 28)
		abort();
	uint32_t want = crc32_bitwise(out, (size_t)n - 8) ^ 0x5354554eU;
	uint32_t got = (uint32_t)out[n - 4] << 24 | (uint32_t)out[n - 3] << 16 |
		       (uint32_t)out[n - 2] << 8 | out[n - 1];
	if (got != want)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wgnl_stun_msg m, m2;
	uint8_t out[WGNL_STUN_MAX_MSG];
	/* Copy so ASan sees reads past the exact length. */
	uint8_t *buf = malloc(size ? size : 1);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	check_fingerprint(buf, size);
	int r = wgnl_stun_decode(buf, size, &m);
	if (r != 0 && r != -EINVAL && r != -EMSGSIZE && r != -EBADMSG && r != -EOPNOTSUPP)
		abort();
	if (r == 0 || r == -EOPNOTSUPP) {
		/* Touch every string the decoder handed out. */
		volatile uint8_t sink = 0;
		for (size_t i = 0; i < m.software_len; i++)
			sink ^= (uint8_t)m.software[i];
		for (size_t i = 0; i < m.error_reason_len; i++)
			sink ^= (uint8_t)m.error_reason[i];
		(void)sink;

		struct wgnl_stun_writer w;
		wgnl_stun_writer_init(&w, out, sizeof(out), m.type, m.tid);
		if (m.flags & WGNL_STUN_HAS_XOR_MAPPED)
			wgnl_stun_put_addr(&w, WGNL_STUN_ATTR_XOR_MAPPED_ADDRESS, &m.xor_mapped);
		if (m.flags & WGNL_STUN_HAS_OTHER_ADDRESS)
			wgnl_stun_put_addr(&w, WGNL_STUN_ATTR_OTHER_ADDRESS, &m.other_address);
		if (m.flags & WGNL_STUN_HAS_ERROR_CODE)
			wgnl_stun_put_error(&w, m.error_code, NULL);
		if (m.flags & WGNL_STUN_HAS_CHANGE_REQUEST)
			wgnl_stun_put_u32(&w, WGNL_STUN_ATTR_CHANGE_REQUEST, m.change_request);
		int n = wgnl_stun_finish(&w, true);
		if (n < 0)
			abort();
		if (wgnl_stun_decode(out, (size_t)n, &m2) != 0)
			abort();
		if (m2.type != m.type || memcmp(m2.tid, m.tid, sizeof(m.tid)) ||
		    ((m.flags & WGNL_STUN_HAS_XOR_MAPPED) &&
		     memcmp(&m2.xor_mapped, &m.xor_mapped, sizeof(m.xor_mapped))) ||
		    m2.error_code != m.error_code || m2.change_request != m.change_request)
			abort();
	}
	free(buf);
	return 0;
}
