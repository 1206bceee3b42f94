/* SPDX-License-Identifier: MIT */
/* wgctl sync's state directory and its record (syncstate.c), shared by
 * wgctl (sync, up, down) and wghealth's in-process restart. @dir NULL:
 * $WGCTL_STATE_DIR, else SYNC_STATE_DIR. Functions return 0 or -errno. */
#ifndef WGK_SYNCSTATE_H
#define WGK_SYNCSTATE_H

#include <stdbool.h>
#include <stddef.h>

struct iovec;
struct wgnl_config;
struct wgnl_file_tmp;

#define SYNC_STATE_DIR "/var/lib/wgkit/sync"
/* Version 1 of the record: a config (the desired state, no secrets) after
 * this line (record.h reads it back). */
#define RECORD_MAGIC "# wgctl sync record 1 digest="
/* Bytes of the digest on that line (hex: twice as many characters). */
#define DIGEST_LEN 16

/* The state directory for @dir. */
const char *state_dir(const char *dir);
/* state_digest(): the record's digest of @cfg, hex into @out (2 *
 * DIGEST_LEN + 1). record_text(): the version 1 record of @cfg into *out
 * (caller frees), @digest its state_digest() or NULL. */
void state_digest(const struct wgnl_config *cfg, char *out);
int record_text(struct wgnl_config *cfg, const char *digest, char **out, size_t *len);
/* DIR/IF<suffix>, and DIR/IF.conf (the record). */
int state_file(char *buf, size_t len, const char *dir, const char *ifname, const char *suffix);
int state_path(char *buf, size_t len, const char *dir, const char *ifname);
/* The directory is refused unless the effective user's and only theirs to
 * write: -ENOTDIR, or -EPERM with the reason in @why. */
int state_dir_safe(const char *dir, char *why, size_t wlen);
/* A state file written aside (state_tmp(): *tmp to state_commit()), or in
 * one go; the record is written durably. */
int state_tmp(const char *dir, const char *ifname, const char *suffix, const struct iovec *v, int n,
	      bool durable, struct wgnl_file_tmp **tmp);
int state_commit(struct wgnl_file_tmp *tmp);
int write_state_file(const char *dir, const char *ifname, const char *suffix, const char *text,
		     size_t len, bool durable);
int write_record(const char *dir, const char *ifname, const char *text, size_t len);
/* Drop IF.fast and IF.sec: the next sync takes the full path. */
void fast_forget(const char *dir, const char *ifname);

/* Record @cfg (the desired state just applied to @ifname, without private
 * or preshared keys) as the last applied state that `wgctl sync` compares
 * endpoints against. */
int wgctl_sync_record(const char *dir, const char *ifname, struct wgnl_config *cfg);
/* Drop the record of @ifname (the interface is gone: a later `up` starts a
 * new history). Missing files are not an error. */
void wgctl_sync_forget(const char *dir, const char *ifname);

#endif
