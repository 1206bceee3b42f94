/* SPDX-License-Identifier: MIT */
/* The sync state files read back (record.c): the first lines of the
 * record, the .fast digests and the .sec section table. Pure functions over
 * bytes, no I/O and no static state (fuzz/sync_record.c drives them). Everything here is distrusted input: the state directory
 * can be edited, truncated or left half written, and any doubt sends sync
 * down the full path. */
#ifndef WGI_SYNC_RECORD_H
#define WGI_SYNC_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wgkit/wgnl_sync.h"

/* A 64-bit finaliser (splitmix64's): the mixing step of every hash here. */
static inline uint64_t wgi_sync_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* The version 1 record's digest of a desired state (parsed and resolved):
 * 2 * WGI_SYNC_DIGEST_LEN hex digits and a NUL into @out ("none" when
 * libsodium cannot start). A sync whose digest matches the record's first
 * line need not format and rewrite 100k peers. */
#define WGI_SYNC_DIGEST_LEN 16
void wgi_sync_state_digest(const struct wgnl_config *cfg, char *out);

/* Does a peer of @cfg name its endpoint by host name (which may resolve
 * differently next time)? */
bool wgi_sync_has_names(const struct wgnl_config *cfg);

/* The 128-bit hash wgnl_sync_text_make() gives a section's canonical bytes. */
void wgi_sync_bytes_hash(const char *p, size_t len, uint64_t out[2]);

/* Version 1: a config (the desired state, no secrets) after this line. */
#define RECORD_MAGIC "# wgctl sync record 1 digest="
/* Version 2: the canonical text (wgnl_sync.h) after this line. */
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
void wgi_sync_rec2_header(char *out, size_t len, const uint64_t h[2]);

/* The digest of a version 1 record's first line (@buf, @len bytes, need not
 * be terminated) into @out (@outlen bytes, terminated). Returns 0, or
 * -EINVAL when @buf does not start with such a line (out is ""). */
int wgi_sync_rec1_digest_parse(const char *buf, size_t len, char *out, size_t outlen);

/* Parse <IF>.fast (@len bytes): exactly one FAST_FMT line. 0 or -EINVAL. */
int wgi_sync_fast_parse(const char *buf, size_t len, struct wgnl_sync_digest *file,
			struct wgnl_sync_digest *run);

/* Parse and check <IF>.sec (@len bytes) describing canonical text @h: the
 * entries as sections (caller frees *ret; san_off/san_len are offsets in
 * the record file), their count, the [Interface] part's hash, and the size
 * the record must have (*rec_size; 0 when there is no section to say).
 * Every entry is checked with overflow-safe arithmetic: non-empty, after the
 * record's header, each starting where the one before ended (no gap, no
 * overlap, no reordering), the last ending where the record ends; and the
 * table's hashes must combine into @h as wgnl_sync_text_make() combines them.
 * Returns 0, -ENOMEM, or -EINVAL on any doubt. */
int wgi_sync_sec_parse(const void *buf, size_t len, const uint64_t h[2],
		       struct wgnl_sync_section **ret, size_t *n, uint64_t iface_h[2],
		       uint64_t *rec_size);

/* The total length of the sections of @sec (@n) whose flag in @m is false,
 * into *total. 0, or -EOVERFLOW. */
int wgi_sync_sections_total(const struct wgnl_sync_section *sec, size_t n, const bool *m,
			    size_t *total);

#endif
