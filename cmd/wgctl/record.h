/* SPDX-License-Identifier: MIT */
/* wgctl sync's state files read back (record.c): the first lines of the
 * record, the .fast digests and the .sec section table. Pure functions over
 * bytes, no I/O and no static state, so that fuzz/sync_record.c can link
 * record.c alone. Everything here is distrusted input: the state directory
 * can be edited, truncated or left half written, and any doubt sends sync
 * down the full path. */
#ifndef WGCTL_RECORD_H
#define WGCTL_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/syncstate.h"
#include "synctext.h"

struct digest128 {
	uint64_t a, b;
};

/* Version 1: RECORD_MAGIC (syncstate.h). */
/* Version 2: the canonical text (synctext.h) after this line. */
#define RECORD2_MAGIC "# wgctl sync record 2 text="
/* RECORD2_MAGIC, 32 hex digits and a newline. */
#define RECORD2_HEAD_LEN (sizeof(RECORD2_MAGIC) - 1 + 33)

/* <IF>.fast: one line. */
#define FAST_FMT "file=%016llx%016llx run=%016llx%016llx\n"

/* <IF>.sec: a head, then one entry per [Peer] section of the record, in
 * record order. Local state, host byte order. */
#define SEC_MAGIC "wgksec1\n"

struct sec_head {
	char magic[8];
	uint64_t text_h[2], iface_h[2];
	uint64_t n;
};

struct sec_ent {
	uint64_t h[2];
	uint64_t off; /* in the record file */
	uint64_t len;
};

/* The version 2 header naming canonical text @h into @out (at least
 * RECORD2_HEAD_LEN + 1 bytes). */
void rec2_header(char *out, size_t len, const uint64_t h[2]);

/* The digest of a version 1 record's first line (@buf, @len bytes, need not
 * be terminated) into @out (@outlen bytes, terminated). Returns 0, or
 * -EINVAL when @buf does not start with such a line (out is ""). */
int rec_digest_parse(const char *buf, size_t len, char *out, size_t outlen);

/* Parse <IF>.fast (@len bytes): exactly one FAST_FMT line. 0 or -EINVAL. */
int rec_fast_parse(const char *buf, size_t len, struct digest128 *file, struct digest128 *run);

/* Parse and check <IF>.sec (@len bytes) describing canonical text @h: the
 * entries as sections (caller frees *ret; san_off/san_len are offsets in
 * the record file), their count, the [Interface] part's hash, and the size
 * the record must have (*rec_size; 0 when there is no section to say).
 * Every entry is checked with overflow-safe arithmetic: non-empty, after the
 * record's header, each starting where the one before ended (no gap, no
 * overlap, no reordering), the last ending where the record ends; and the
 * table's hashes must combine into @h as st_canonical() combines them.
 * Returns 0, -ENOMEM, or -EINVAL on any doubt. */
int rec_sec_parse(const void *buf, size_t len, const uint64_t h[2], struct st_section **ret,
		  size_t *n, uint64_t iface_h[2], uint64_t *rec_size);

/* The total length of the sections of @sec (@n) whose flag in @m is false,
 * into *total. 0, or -EOVERFLOW. */
int rec_sections_total(const struct st_section *sec, size_t n, const bool *m, size_t *total);

#endif
