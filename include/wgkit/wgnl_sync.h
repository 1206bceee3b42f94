/* SPDX-License-Identifier: MIT */
/*
 * libwg-netlink: what a sync remembers between runs. The plan itself
 * (wgnl_sync_plan(), wgnl_sync_apply()) is in wgnl.h and needs none of this:
 * a daemon that keeps the last desired device in memory passes it as @last,
 * or NULL. This header is for callers that keep state on disk as `wgctl sync`
 * does, in a state directory @dir (the caller chooses it; nothing here reads
 * the environment):
 *  - <IF>.conf, the record: the desired state last applied, without secrets,
 *    as a config (version 1) or as canonical text (version 2);
 *  - <IF>.sec, where each [Peer] section stands in a version 2 record;
 *  - <IF>.fast, the hash of the file last applied and the digest the device
 *    had after it, so that an unchanged file on an unchanged device is not
 *    even parsed.
 * Plus the pieces those are made of: the canonical text of a config and its
 * [Peer] sections, the sections two texts share, and an order-independent
 * digest of a device. Every file read back is distrusted: any doubt costs the
 * caller the full path, never a wrong plan. Conventions as in wgnl.h.
 */
#ifndef WGKIT_WGNL_SYNC_H
#define WGKIT_WGNL_SYNC_H

#include "wgkit/wgnl_decls.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "wgkit/wgnl.h"

WGNL_DECLS_BEGIN

/* --------------------------------------------------- what absent means */

/* How a config file's absent fields are read when it is applied whole. */
enum wgnl_config_semantics {
	/* `wg setconf`: absent PrivateKey, ListenPort and FwMark mean none
	 * (port 0: any), the peers replace the running ones, each peer's
	 * allowed IPs replace its running ones. */
	WGNL_SEM_SETCONF = 0,
	/* `wg syncconf`: absent PrivateKey and FwMark mean none, an absent
	 * ListenPort keeps the running port; meant for wgnl_sync_plan(), which
	 * works out the peers (WGNL_DEV_REPLACE_PEERS is cleared). */
	WGNL_SEM_SYNCCONF = 1,
};

/* Set @dev's flags (and zero its absent fields) so that it says what @sem
 * says the file meant. */
void wgnl_config_apply_semantics(struct wgnl_device *dev, enum wgnl_config_semantics sem);

/* ------------------------------------------------------ canonical text */

/* One [Peer] section: its bytes in the original text (header line up to
 * the next header) and in the canonical text. */
struct wgnl_sync_section {
	size_t orig_off, orig_len;
	size_t san_off, san_len;
	uint64_t h[2]; /* 128-bit hash of the canonical bytes */
};

struct wgnl_sync_text {
	char *san; /* canonical text */
	size_t san_len;
	size_t iface_len;	       /* canonical bytes before the first [Peer] */
	uint64_t iface_h[2];	       /* their hash */
	uint64_t text_h[2];	       /* of the whole canonical text (from the others) */
	struct wgnl_sync_section *sec; /* the [Peer] sections, in file order */
	size_t n_sec;
};

/* Canonical form of a config, line by line as the parser reads it: comments
 * and blank lines dropped, each line trimmed, and the value of every
 * PrivateKey and PresharedKey line replaced by wgnl_sync_secret_hash() of the
 * key (base64), unless the key is all zero. So the canonical text and its
 * hashes (not cryptographic) say nothing about a secret. @out is the
 * caller's, emptied with wgnl_sync_text_clear(). Returns 0, -ENOMEM, or
 * -EINVAL for what this path does not handle and leaves to the full parser:
 * a NUL byte, an unknown section, [Interface] after a [Peer], a secret that
 * is not a 44-character base64 key. */
int wgnl_sync_text_make(const char *text, size_t len, struct wgnl_sync_text *out);
/* The [Peer] sections of @text as they stand, without canonical text: for
 * a caller that keeps the sections of a file it re-reads (wg-gatewayd's
 * directory source) and parses only those whose bytes changed. A section
 * starts at a line whose first non-blank byte is '['; one headed [Peer]
 * (any case, blanks and a comment after it allowed) goes to @out->sec with
 * orig_off/orig_len, a 64-bit hash of its raw bytes in h[0] and its length
 * in h[1] (san_off and san_len 0); the bytes of every other part (what precedes the first
 * section, [Interface], anything unknown) are hashed together into
 * iface_h, so a change there shows. @out->san stays NULL. No secret is
 * hashed away: keep these hashes in memory only. 0 or -ENOMEM; what does
 * not parse is left to the parser. */
int wgnl_sync_text_split(const char *text, size_t len, struct wgnl_sync_text *out);
/* Free what wgnl_sync_text_make() or _split() put in @t and zero it
 * (NULL-safe). */
void wgnl_sync_text_clear(struct wgnl_sync_text *t);

/* Pair each section of @now with an equal one of @old (same length and
 * 128-bit hash of the canonical bytes; each old section pairs at most
 * once). @old_m and @now_m (arrays of @n_old and now->n_sec) say which were
 * paired. Returns the number of pairs or -ENOMEM. */
ssize_t wgnl_sync_text_match(const struct wgnl_sync_section *old, size_t n_old,
			     const struct wgnl_sync_text *now, bool *old_m, bool *now_m);

/* What stands for a secret key in canonical text and in digests:
 * unkeyed BLAKE2b-256 of the 32 key bytes. 0, or -EIO. */
int wgnl_sync_secret_hash(uint8_t out[32], const uint8_t key[32]);

/* -------------------------------------------------------------- digest */

/* An order-independent 128-bit digest of a device as the kernel holds it
 * (peers, keys, allowed IPs, keepalive, port, fwmark; not endpoints, which
 * roaming changes). Not cryptographic: secrets enter only hashed. A sum of
 * per-peer hashes, so a stream of peers can be digested as it comes. */
struct wgnl_sync_digest {
	uint64_t a, b;
};

/* Add @p to @sum. 0, -ENOMEM or -EIO. */
int wgnl_sync_digest_add(struct wgnl_sync_digest *sum, const struct wgnl_peer *p);
/* Close @sum (of @n_peers peers) with @dev's own fields: its public key
 * (derived from the private key when only that is known), listen port and
 * fwmark. */
void wgnl_sync_digest_finish(struct wgnl_sync_digest *sum, size_t n_peers,
			     const struct wgnl_device *dev);
/* The digest of @dev (its peers, then wgnl_sync_digest_finish()) into @out.
 * 0, -ENOMEM or -EIO. */
int wgnl_sync_digest_device(const struct wgnl_device *dev, struct wgnl_sync_digest *out);
/* The digest a device @before will have once @want (WGNL_SEM_SYNCCONF) is
 * applied: an absent listen port keeps @before's. 0, -ENOMEM or -EIO. */
int wgnl_sync_digest_expect(const struct wgnl_device *want, const struct wgnl_device *before,
			    struct wgnl_sync_digest *out);

/* ---------------------------------------------------------- the record */

enum wgnl_sync_record_flags {
	/* Write even when the record already says the same (else skipped). */
	WGNL_SYNC_RECORD_FORCE = 1U << 0,
	/* wgnl_sync_record_applied(): also write <IF>.fast. */
	WGNL_SYNC_RECORD_FAST = 1U << 1,
};

/* Is @dir fit to hold records? It must be a directory of the effective user
 * that neither group nor others can write (else a forged record could steer
 * a sync); one that does not exist yet is fine (the first save creates it
 * 0700). 0, -ENOTDIR, -EPERM, or -errno from stat(); @why (@wlen bytes) says
 * why in words for -ENOTDIR and -EPERM, "" otherwise. */
int wgnl_sync_dir_check(const char *dir, char *why, size_t wlen);
/* Remove the temporary files a sync of @ifname killed while saving left in
 * @dir. Only while holding the interface (no other writer). Best effort. */
void wgnl_sync_dir_sweep(const char *dir, const char *ifname);

/* The record's path, @dir/@ifname.conf, into @buf. 0 or -ENAMETOOLONG. */
int wgnl_sync_record_path(char *buf, size_t len, const char *dir, const char *ifname);
/* The version 1 record of @cfg: a config without private and preshared
 * keys, hooks or DNS, endpoints numeric, after a line naming its digest.
 * @cfg is borrowed (changed while it runs, restored). *out is freed with
 * wgnl_free(). 0, -ENOMEM or -EIO. */
int wgnl_sync_record_format(struct wgnl_config *cfg, char **out, size_t *len);
/* Read the record of @ifname back as the desired state last applied (either
 * version): *ret (wgnl_config_free()) is NULL when there is none. 0,
 * -EBADMSG when it does not parse, or -errno from reading it. */
int wgnl_sync_record_load(const char *dir, const char *ifname, struct wgnl_config **ret);
/* Save @cfg as the version 1 record of @ifname (0600, durable, atomic),
 * creating @dir as needed; unless WGNL_SYNC_RECORD_FORCE, not when the record
 * already names the same digest. 0, wgnl_sync_dir_check()'s codes, or -errno
 * from writing. */
int wgnl_sync_record_save(const char *dir, const char *ifname, struct wgnl_config *cfg,
			  unsigned flags);
/* Save canonical text @t as the version 2 record of @ifname and its .sec
 * table; unless WGNL_SYNC_RECORD_FORCE, not when the record is already @t.
 * Codes as wgnl_sync_record_save(). */
int wgnl_sync_record_save_text(const char *dir, const char *ifname, const struct wgnl_sync_text *t,
			       unsigned flags);

/* After @cfg (WGNL_SEM_SYNCCONF) was applied whole over a device whose own
 * fields were @running: save the record, as version 2 from @t (the file's
 * canonical text) when given and no endpoint is a host name, else as
 * version 1 (each rewritten only when it differs); then, with
 * WGNL_SYNC_RECORD_FAST and a version 2 record saved, write <IF>.fast (the
 * text and the digest the device now has), else remove it. Returns what
 * the save returns. */
int wgnl_sync_record_applied(const char *dir, const char *ifname, struct wgnl_config *cfg,
			     const struct wgnl_sync_text *t, const struct wgnl_device *running,
			     unsigned flags);

/* wgnl_sync_record_save_text() in two steps: write the files beside their
 * places now (*ret, NULL on failure), put them in place with
 * wgnl_sync_stage_commit() once the device holds @t, or drop them with
 * wgnl_sync_stage_abort(). Codes as wgnl_sync_record_save(). */
struct wgnl_sync_stage;
int wgnl_sync_record_stage(const char *dir, const char *ifname, const struct wgnl_sync_text *t,
			   struct wgnl_sync_stage **ret);
/* Put the staged record in place, then its .sec table; frees @s. 0 or
 * -errno from rename(). */
int wgnl_sync_stage_commit(struct wgnl_sync_stage *s);
/* Remove the staged files and free @s (NULL-safe). */
void wgnl_sync_stage_abort(struct wgnl_sync_stage *s);

/* The .sec table of @ifname when it describes canonical text @h: the
 * sections (san_off/san_len are offsets in the record file; *ret freed with
 * wgnl_free()), their count, the [Interface] part's hash and the size the
 * record must have. Every entry is checked. 0, -ENOMEM, -EINVAL (any doubt),
 * or -errno from reading. */
int wgnl_sync_record_sections(const char *dir, const char *ifname, const uint64_t h[2],
			      struct wgnl_sync_section **ret, size_t *n, uint64_t iface_h[2],
			      uint64_t *rec_size);
/* The sections of @sec (@n, from wgnl_sync_record_sections()) whose flag in
 * @m is false, read from the record of @ifname and concatenated into *out
 * (NUL-terminated, wgnl_free()). The record must be canonical text @h of
 * @rec_size bytes and each section must hash as the table says. 0, -ENOMEM,
 * -EINVAL (any doubt) or -errno. */
int wgnl_sync_record_gather(const char *dir, const char *ifname, const uint64_t h[2],
			    const struct wgnl_sync_section *sec, size_t n, const bool *m,
			    uint64_t rec_size, char **out, size_t *len);
/* Remove the record of @ifname, its .sec and .fast files. Best effort. */
void wgnl_sync_record_forget(const char *dir, const char *ifname);

/* Read <IF>.fast: the canonical text last applied (@file: its text_h) and
 * the device's digest after it (@run). 0, -EINVAL, or -errno. */
int wgnl_sync_fast_load(const char *dir, const char *ifname, struct wgnl_sync_digest *file,
			struct wgnl_sync_digest *run);
/* Write <IF>.fast (not durable: a lost one costs the full path); on failure
 * it is forgotten. 0 or -errno. */
int wgnl_sync_fast_save(const char *dir, const char *ifname, const struct wgnl_sync_digest *file,
			const struct wgnl_sync_digest *run);
/* Remove <IF>.fast and <IF>.sec (neither quick path is then taken). */
void wgnl_sync_fast_forget(const char *dir, const char *ifname);

/* ---------------------------------------------------- the quick paths */
/* With <IF>.fast and a version 2 record, a sync need not parse a whole file
 * nor plan against a whole dump: the running device is digested as it
 * streams in (wgnl_sync_dump_*), and when the digest is the one recorded
 * the file's changed [Peer] sections are all there is to plan
 * (wgnl_sync_delta_*). */

/* A running device digested peer by peer: every peer's key and hash, and
 * every allowed IP's hash. */
struct wgnl_sync_dump;
/* *ret freed with wgnl_sync_dump_free() (NULL-safe). 0 or -ENOMEM. */
int wgnl_sync_dump_new(struct wgnl_sync_dump **ret);
void wgnl_sync_dump_free(struct wgnl_sync_dump *d);
/* A wgnl_device_get_stream() callback: pass the dump as @data. 0 or
 * -ENOMEM. */
int wgnl_sync_dump_peer(const struct wgnl_device *dev, const struct wgnl_peer *peer, void *data);
/* The digest of the dumped device (@info: its own fields, from the
 * stream). */
void wgnl_sync_dump_digest(const struct wgnl_sync_dump *d, const struct wgnl_device *info,
			   struct wgnl_sync_digest *out);

/* What changed in a config file since the version 2 record of @ifname. */
struct wgnl_sync_delta;
/* @text (the file) and @now (its wgnl_sync_text_make()) against the record
 * of canonical text @rec_h (from wgnl_sync_fast_load()): 1 when it is the
 * same text (*ret NULL); 0 with *ret (wgnl_sync_delta_free()) holding the
 * [Peer] sections that differ, parsed; -EAGAIN when only the full path can
 * tell (no section, [Interface] changed, a record or .sec in doubt, a
 * section that does not parse or names a host). */
int wgnl_sync_delta_make(const char *dir, const char *ifname, const char *text,
			 const struct wgnl_sync_text *now, const uint64_t rec_h[2],
			 struct wgnl_sync_delta **ret);
void wgnl_sync_delta_free(struct wgnl_sync_delta *d);
/* The plan between the changed sections of @d, the old ones standing for
 * the running peers (the caller has checked that @dump digests to what
 * .fast recorded), and *expect, the digest the device will have once it is
 * applied. @info: the running device's own fields; @flags as for
 * wgnl_sync_plan(). 0 (*ret: wgnl_plan_free()), -ENOMEM, or -EAGAIN when
 * the full path must decide (a new section's key already runs in an
 * unchanged one, an allowed IP two peers would claim). */
int wgnl_sync_delta_plan(struct wgnl_sync_delta *d, const struct wgnl_sync_dump *dump,
			 const struct wgnl_device *info, unsigned flags, struct wgnl_plan **ret,
			 struct wgnl_sync_digest *expect);

/* ------------------------------------------------- deciding a sync */
/* What `wgctl sync` decides between reading a file and printing, for any
 * caller holding a desired config (a daemon keeps it in memory): how the
 * config is read, whether the record is needed, which path a sync takes. */

struct wgnl_quick_opts;
struct wgnl_quick_plan;

enum wgnl_sync_config_flags {
	/* A wg-quick config whatever keys it holds (the file `wgctl up` brought
	 * the interface up from): its routes and policy routing follow it. */
	WGNL_SYNC_QUICK = 1U << 8,
	/* Send a changed allowed-IP list whole even where the device could
	 * remove one IP. */
	WGNL_SYNC_NO_DELTA = 1U << 9,
};

/* Is @cfg synced as a wg-quick config (addresses, MTU, routes too)? True
 * with WGNL_SYNC_QUICK, or when it has Address, MTU, Table or DNS. */
bool wgnl_sync_config_is_quick(const struct wgnl_config *cfg, unsigned flags);
/* Read @cfg as `wg syncconf` does (wgnl_config_apply_semantics(),
 * WGNL_SEM_SYNCCONF) and, for a wg-quick config with policy routing, give
 * the device the fwmark of its table as `up` did. */
void wgnl_sync_config_prepare(struct wgnl_config *cfg, unsigned flags);
/* The wgnl_sync_plan() flags for device @ifname: WGNL_SYNC_ALLOWEDIP_REMOVE
 * when it can remove one allowed IP (wgnl_device_caps()) and @flags lacks
 * WGNL_SYNC_NO_DELTA, else 0. */
unsigned wgnl_sync_plan_flags(struct wgnl_ctx *ctx, const char *ifname, unsigned flags);

/* The full path's plan (wgnl_sync_full_plan()); the caller's, emptied with
 * wgnl_sync_full_clear(). */
struct wgnl_sync_full {
	struct wgnl_plan *plan;	       /* the device's */
	struct wgnl_quick_plan *quick; /* addresses, routes, MTU (NULL: no wg-quick config) */
	struct wgnl_device *running;   /* the running device's own fields (no peers) */
	struct wgnl_config *last;      /* the record compared with (NULL: none) */
	int record_err;		       /* the record's -errno (planned without it) */
	bool quick_failed;	       /* the failure was a wg-quick step's */
	bool delta;		       /* allowed IPs as additions and removals */
	bool changed;		       /* something to do */
};
/* Plan the sync of device cfg->dev->name to @cfg (prepared here with
 * wgnl_sync_config_prepare(); @flags: wgnl_sync_config_flags). With @dir,
 * the record of the last sync is read when the plan needs it (wg-quick
 * config, an endpoint); one that cannot be read leaves record_err (-EBADMSG
 * for one that does not parse) and the plan made without it. Then the
 * running device is read as a stream and, for a wg-quick config, what is
 * around it (@qopts: its events, may be NULL). Changes nothing. 0, -ENOMEM,
 * or the read's -errno (quick_failed: a wg-quick read). Clear @out after,
 * on failure too. */
int wgnl_sync_full_plan(struct wgnl_ctx *ctx, struct wgnl_config *cfg, const char *dir,
			unsigned flags, const struct wgnl_quick_opts *qopts,
			struct wgnl_sync_full *out);
/* Apply @f (from wgnl_sync_full_plan() of @cfg): what goes around the
 * device before it (wgnl_quick_apply(), WGNL_QUICK_BEFORE_DEVICE), the plan,
 * then the rest (WGNL_QUICK_AFTER_DEVICE); @qopts as for the plan. Stops at
 * the first failure, part of it applied. 0, or the -errno of the step
 * (quick_failed: a wg-quick step). */
int wgnl_sync_full_apply(struct wgnl_ctx *ctx, const struct wgnl_config *cfg,
			 struct wgnl_sync_full *f, const struct wgnl_quick_opts *qopts);
/* Free what @f holds and zero it (NULL-safe). */
void wgnl_sync_full_clear(struct wgnl_sync_full *f);

enum wgnl_sync_path {
	WGNL_SYNC_PATH_FULL = 0,	/* parse the whole config, plan against a dump */
	WGNL_SYNC_PATH_FAST = 1,	/* same text, same device: nothing to do */
	WGNL_SYNC_PATH_INCREMENTAL = 2, /* plan only the changed [Peer] sections */
};
/* Which path a sync of @ifname takes, with <IF>.fast loaded (@rec_run),
 * the running device dumped into @dump (@info: its own fields) and the
 * config's text compared with the record (@same: wgnl_sync_delta_make()
 * returned 1; else @d, its delta or NULL). A device whose digest is not
 * @rec_run was changed behind the record: FULL. Same text: FAST. With @d,
 * its plan (wgnl_sync_delta_plan(), flags from wgnl_sync_plan_flags() of
 * @flags) into *ret (wgnl_plan_free()) and *expect: INCREMENTAL, or FULL
 * when it cannot tell. Returns the path, or -ENOMEM. */
int wgnl_sync_path_choose(struct wgnl_ctx *ctx, const char *ifname,
			  const struct wgnl_sync_dump *dump, const struct wgnl_device *info,
			  const struct wgnl_sync_digest *rec_run, bool same,
			  struct wgnl_sync_delta *d, unsigned flags, struct wgnl_plan **ret,
			  struct wgnl_sync_digest *expect);
/* After the INCREMENTAL plan was applied: record @now (put staged @stage in
 * place, consumed, or save it when NULL) and write <IF>.fast with @expect;
 * when the record fails, forget .fast (the next sync takes the full path).
 * 0 or the record's -errno. */
int wgnl_sync_delta_applied(const char *dir, const char *ifname, struct wgnl_sync_stage *stage,
			    const struct wgnl_sync_text *now,
			    const struct wgnl_sync_digest *expect);

/* ------------------------------------------------ a desired peer set */
/* The desired peers of one device held in memory by a daemon that learns
 * them row by row (wg-gatewayd): upsert and remove by public key in O(1),
 * the changes since the last wgnl_peerset_delta() collected as ONE device
 * for wgnl_device_set() (only changed peers, never a dump), mark-and-sweep
 * for a full re-read, and the device's digest kept up to date per change.
 * Peers are kept with their key, allowed IPs (masked, sorted, unique),
 * preshared key and keepalive; never an endpoint, so a set never touches a
 * running endpoint. Not thread-safe. */
struct wgnl_peerset;

struct wgnl_peerset_counts {
	size_t added, updated, removed;
};

/* A new, empty set for device @ifname in *ret (NULL on failure); free with
 * wgnl_peerset_free() (NULL-safe). 0 or -ENOMEM. */
int wgnl_peerset_new(const char *ifname, struct wgnl_peerset **ret);
void wgnl_peerset_free(struct wgnl_peerset *s);
/* The device's own fields (owned by @s; it holds no peers): the caller sets
 * the private key, listen port or fwmark it wants, with their HAS_* bits. */
struct wgnl_device *wgnl_peerset_device(struct wgnl_peerset *s);
/* A new device in *ret (wgnl_device_free()): those own fields and every
 * desired peer, for wgnl_sync_plan_stream() (at start-up, for a repair).
 * The set itself keeps peers compact (about 70 bytes for a peer with one
 * allowed IP), so this costs the full model only while it lives. 0 or
 * -ENOMEM. */
int wgnl_peerset_build(const struct wgnl_peerset *s, struct wgnl_device **ret);
/* Desired peers; changes waiting for the next delta. */
size_t wgnl_peerset_count(const struct wgnl_peerset *s);
size_t wgnl_peerset_pending(const struct wgnl_peerset *s);
/* Add or replace the desired peer with @p's public key (@p borrowed; its
 * endpoint ignored). Returns 1 when the set changed (the change is
 * queued), 0 when it already held the same peer, -EINVAL (no public key, a
 * bad allowed IP) or -ENOMEM. During a mark it marks the peer seen. */
int wgnl_peerset_upsert(struct wgnl_peerset *s, const struct wgnl_peer *p);
/* Whether the set holds a desired peer with public key @pub. O(1). */
bool wgnl_peerset_has(const struct wgnl_peerset *s, const wgnl_key pub);
/* Remove the desired peer @pub: 1 (queued), 0 (not in the set), -ENOMEM. */
int wgnl_peerset_remove(struct wgnl_peerset *s, const wgnl_key pub);
/* During a mark: peer @pub stays as it is (its source was not read again,
 * or did not parse). 1 when the set holds it, 0 when not. */
int wgnl_peerset_keep(struct wgnl_peerset *s, const wgnl_key pub);
/* A full re-read starts: every peer unseen until upserted or kept. Sweep: remove
 * every peer still unseen (queued); returns how many, or -ENOMEM. Unmark:
 * the re-read failed, keep every peer. */
void wgnl_peerset_mark(struct wgnl_peerset *s);
ssize_t wgnl_peerset_sweep(struct wgnl_peerset *s);
void wgnl_peerset_unmark(struct wgnl_peerset *s);
/* The queued changes as one device in *ret (wgnl_device_free(); no peers:
 * nothing changed) for wgnl_device_set(): new and changed peers whole
 * (allowed IPs replacing, preshared key and keepalive always set, zero for
 * none), removed ones with WGNL_PEER_REMOVE. The queue starts empty again.
 * @counts (may be NULL): peers added, updated, removed since the last delta
 * (a peer added and removed in between counts nowhere). 0 or -ENOMEM. */
int wgnl_peerset_delta(struct wgnl_peerset *s, struct wgnl_device **ret,
		       struct wgnl_peerset_counts *counts);
/* Drop the queued changes (after a plan made the device equal the set). */
void wgnl_peerset_forget_pending(struct wgnl_peerset *s);
/* The digest (wgnl_sync_digest_device()) a device equal to the set has:
 * its own fields as the set's device asks for them, those it does not as
 * @running (the device's own fields; may be NULL) has them. O(1). */
void wgnl_peerset_digest(const struct wgnl_peerset *s, const struct wgnl_device *running,
			 struct wgnl_sync_digest *out);
/* The peers' part of that digest (a sum over the peers, no secret in it)
 * and their count: what a daemon remembers across a restart, to tell a
 * device in step before it has read its peers again. O(1). */
void wgnl_peerset_peers_digest(const struct wgnl_peerset *s, struct wgnl_sync_digest *sum,
			       size_t *n);
/* wgnl_peerset_digest() as if the set held @n peers whose part is @peers
 * (from wgnl_peerset_peers_digest(), maybe of an earlier run), with @s's
 * own fields. O(1). */
void wgnl_peerset_digest_as(const struct wgnl_peerset *s, const struct wgnl_sync_digest *peers,
			    size_t n, const struct wgnl_device *running,
			    struct wgnl_sync_digest *out);
/* The digest of running device @ifname, read as a stream (memory bounded at
 * any size); each peer also goes to @cb (may be NULL; as for
 * wgnl_device_get_stream(), NULL peer: the dump restarts), so one dump can
 * serve a caller's counts too. *running (may be NULL; wgnl_device_free())
 * gets its own fields. 0, @cb's error, or what wgnl_device_get_stream()
 * returns (-ENODEV, ...). */
int wgnl_sync_digest_running(struct wgnl_ctx *ctx, const char *ifname, wgnl_peer_cb cb, void *data,
			     struct wgnl_sync_digest *out, struct wgnl_device **running);

WGNL_DECLS_END
#endif
