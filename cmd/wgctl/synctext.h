/* SPDX-License-Identifier: MIT */
/* The text side of wgctl sync's incremental path (synctext.c): a config
 * file reduced to a canonical form that holds no secret, cut into its
 * [Peer] sections, and the sections two such texts share. */
#ifndef WGCTL_SYNCTEXT_H
#define WGCTL_SYNCTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One [Peer] section: its bytes in the original text (header line up to
 * the next header) and in the canonical text. */
struct st_section {
	size_t orig_off, orig_len;
	size_t san_off, san_len;
	uint64_t h[2]; /* 128-bit hash of the canonical bytes */
};

struct st_text {
	char *san; /* canonical text (malloc'd) */
	size_t san_len;
	size_t iface_len;	/* canonical bytes before the first [Peer] */
	uint64_t iface_h[2];	/* their hash */
	uint64_t text_h[2];	/* of the whole canonical text (from the others) */
	struct st_section *sec; /* the [Peer] sections, in file order */
	size_t n_sec;
};

/* Canonical form of a config, line by line as the parser reads it: comments
 * and blank lines dropped, each line trimmed, and the value of every
 * PrivateKey and PresharedKey line replaced by st_secret_hash() of the key
 * (base64), unless the key is all zero. So the canonical text and its
 * hashes (not cryptographic) say nothing about a secret. Returns 0,
 * -ENOMEM, or -EINVAL for what this path does not handle and leaves to the
 * full parser: a NUL byte, an unknown section, [Interface] after a [Peer],
 * a secret that is not a 44-character base64 key. */
int st_canonical(const char *text, size_t len, struct st_text *out);
void st_free(struct st_text *t);

/* Pair each section of @now with an equal one of @old (same length and
 * 128-bit hash of the canonical bytes; each old section pairs at most
 * once). @old_m and @now_m (arrays of @n_old and now->n_sec) say which were
 * paired. Returns the number of pairs or -ENOMEM. */
ssize_t st_match(const struct st_section *old, size_t n_old, const struct st_text *now, bool *old_m,
		 bool *now_m);

/* What stands for a secret key in canonical text and in digests:
 * unkeyed BLAKE2b-256 of the 32 key bytes. 0, or -EIO. */
int st_secret_hash(uint8_t out[32], const uint8_t key[32]);

/* A 64-bit finaliser (splitmix64's): the mixing step of every hash here.
 * Inline, so that record.c (fuzzed alone) has it without synctext.c. */
static inline uint64_t st_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* The 128-bit hash st_canonical() gives a section's canonical bytes. */
void st_bytes_hash(const char *p, size_t len, uint64_t out[2]);

#endif
