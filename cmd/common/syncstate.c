// SPDX-License-Identifier: MIT
/* The state wgctl sync keeps per interface ($WGCTL_STATE_DIR, else
 * /var/lib/wgkit/sync): the record of the desired state applied last, the
 * safe state directory, atomic state files. Here rather than in sync.c
 * because `up` writes the record and `down` forgets it, and wghealth runs
 * those in-process for its restart (quickrun.c). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <sodium.h>

#include "wgkit/wgnl.h"

#include "syncstate.h"

const char *state_dir(const char *dir)
{
	const char *env = getenv("WGCTL_STATE_DIR");

	if (dir && *dir)
		return dir;
	return env && *env ? env : SYNC_STATE_DIR;
}

/* ------------------------------------------------------------ the record */

static void digest_put(crypto_generichash_state *st, const void *p, size_t len)
{
	crypto_generichash_update(st, p, len);
}

static void digest_prefix(crypto_generichash_state *st, const struct wgnl_prefix *p)
{
	uint8_t b[20] = { 0 };

	b[0] = (uint8_t)p->family;
	b[1] = p->cidr;
	memcpy(b + 4, &p->ip6, p->family == AF_INET ? 4 : 16);
	digest_put(st, b, sizeof(b));
}

/* A digest of what the record holds, from the parsed (and resolved) desired
 * state: a sync whose digest matches the record's first line need not
 * format and rewrite 100k peers. Hex into @out (2 * DIGEST_LEN + 1). */
void state_digest(const struct wgnl_config *cfg, char *out)
{
	const struct wgnl_device *d = cfg->dev;
	const struct wgnl_quick *q = &cfg->quick;
	crypto_generichash_state st;
	uint8_t h[DIGEST_LEN];
	uint32_t v[6];

	if (sodium_init() < 0) {
		strcpy(out, "none");
		return;
	}
	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	v[0] = d->flags & (WGNL_DEV_HAS_LISTEN_PORT | WGNL_DEV_HAS_FWMARK);
	v[1] = d->listen_port;
	v[2] = d->fwmark;
	v[3] = q->mtu;
	v[4] = q->table_mode;
	v[5] = q->table;
	digest_put(&st, v, sizeof(v));
	for (size_t i = 0; i < q->n_addresses; i++)
		digest_prefix(&st, &q->addresses[i]);
	for (size_t i = 0; i < d->n_peers; i++) {
		const struct wgnl_peer *p = &d->peers[i];
		uint8_t ep[20] = { 0 };
		uint32_t pv[2] = { (uint32_t)p->n_allowedips, (p->flags & WGNL_PEER_HAS_KEEPALIVE) ?
								      p->persistent_keepalive :
								      0 };

		digest_put(&st, p->public_key, WGNL_KEY_LEN);
		if ((p->flags & WGNL_PEER_HAS_ENDPOINT) && p->endpoint.addr.sa_family == AF_INET) {
			ep[0] = 4;
			memcpy(ep + 2, &p->endpoint.addr4.sin_port, 2);
			memcpy(ep + 4, &p->endpoint.addr4.sin_addr, 4);
		} else if ((p->flags & WGNL_PEER_HAS_ENDPOINT) &&
			   p->endpoint.addr.sa_family == AF_INET6) {
			ep[0] = 6;
			memcpy(ep + 2, &p->endpoint.addr6.sin6_port, 2);
			memcpy(ep + 4, &p->endpoint.addr6.sin6_addr, 16);
		}
		digest_put(&st, ep, sizeof(ep));
		digest_put(&st, pv, sizeof(pv));
		for (size_t k = 0; k < p->n_allowedips; k++)
			digest_prefix(&st, &p->allowedips[k]);
	}
	crypto_generichash_final(&st, h, sizeof(h));
	for (size_t i = 0; i < sizeof(h); i++)
		sprintf(out + 2 * i, "%02x", h[i]);
}

/* The record: @cfg as a config without private and preshared keys, hooks or
 * DNS, endpoints numeric (as resolved now, which is what was applied).
 * @digest: state_digest() of @cfg when the caller has it, else NULL. */
int record_text(struct wgnl_config *cfg, const char *digest, char **out, size_t *len)
{
	struct wgnl_device *dev = cfg->dev;
	struct wgnl_config view = *cfg;
	uint32_t dflags = dev->flags, *pflags = NULL;
	char **names = NULL;
	FILE *f;
	int r;

	*out = NULL;
	if (dev->n_peers) {
		pflags = calloc(dev->n_peers, sizeof(*pflags));
		names = calloc(dev->n_peers, sizeof(*names));
		if (!pflags || !names) {
			free(pflags);
			free(names);
			return -ENOMEM;
		}
	}
	view.quick.pre_up = view.quick.post_up = view.quick.pre_down = view.quick.post_down = NULL;
	view.quick.n_pre_up = view.quick.n_post_up = view.quick.n_pre_down = 0;
	view.quick.n_post_down = 0;
	view.quick.dns = NULL;
	view.quick.n_dns = 0;
	dev->flags &= ~(uint32_t)WGNL_DEV_HAS_PRIVATE_KEY;
	for (size_t i = 0; i < dev->n_peers; i++) {
		pflags[i] = dev->peers[i].flags;
		names[i] = dev->peers[i].endpoint_name;
		dev->peers[i].flags &= ~(uint32_t)WGNL_PEER_HAS_PRESHARED_KEY;
		if (!dev->peers[i].endpoint.addr.sa_family)
			dev->peers[i].flags &= ~(uint32_t)WGNL_PEER_HAS_ENDPOINT;
		dev->peers[i].endpoint_name = NULL;
	}
	f = open_memstream(out, len);
	r = f ? 0 : -ENOMEM;
	if (f) {
		char own[2 * DIGEST_LEN + 1];

		if (!digest) {
			state_digest(cfg, own);
			digest = own;
		}
		fprintf(f, RECORD_MAGIC "%s\n", digest);
		r = wgnl_config_write(f, &view, WGNL_CONFIG_QUICK);
	}
	if (f && fclose(f) != 0 && r == 0)
		r = -EIO;
	dev->flags = dflags;
	for (size_t i = 0; i < dev->n_peers; i++) {
		dev->peers[i].flags = pflags[i];
		dev->peers[i].endpoint_name = names[i];
	}
	free(pflags);
	free(names);
	if (r < 0) {
		free(*out);
		*out = NULL;
	}
	return r;
}

int state_file(char *buf, size_t len, const char *dir, const char *ifname, const char *suffix)
{
	if ((size_t)snprintf(buf, len, "%s/%s%s", state_dir(dir), ifname, suffix) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int state_path(char *buf, size_t len, const char *dir, const char *ifname)
{
	return state_file(buf, len, dir, ifname, ".conf");
}

/* A state directory someone else can write could feed sync a forged
 * record: refused unless it is the effective user's and only theirs to
 * write. One that does not exist yet is created 0700. 0, -ENOTDIR, or
 * -EPERM with the reason in @why. */
int state_dir_safe(const char *dir, char *why, size_t wlen)
{
	const char *d = state_dir(dir);
	struct stat st;

	why[0] = '\0';
	if (stat(d, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, wlen, "not a directory");
		return -ENOTDIR;
	}
	if (st.st_uid != geteuid()) {
		snprintf(why, wlen, "owned by uid %u, not by the effective user (uid %u)",
			 (unsigned)st.st_uid, (unsigned)geteuid());
		return -EPERM;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, wlen, "writable by group or others (mode %04o)",
			 (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

/* Write the @n buffers @v to a new file beside <IF><suffix> (0600, synced
 * to disk when @durable) and close it; *tmp is what state_commit() puts in
 * place. */
int state_tmp(const char *dir, const char *ifname, const char *suffix, const struct iovec *v, int n,
	      bool durable, struct wgnl_file_tmp **tmp)
{
	char path[PATH_MAX];
	const char *d = state_dir(dir);
	char why[128];
	int r = 0;

	*tmp = NULL;

	r = state_dir_safe(dir, why, sizeof(why));
	if (r < 0)
		return r;
	/* Parents as needed; the last level 0700 (peers and addresses are not
	 * for everyone to read). */
	snprintf(path, sizeof(path), "%s", d);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	r = state_file(path, sizeof(path), dir, ifname, suffix);
	if (r < 0)
		return r;
	r = wgnl_file_tmp_open(path, durable ? WGNL_FILE_SYNC : 0, tmp);
	if (r == 0)
		r = wgnl_file_tmp_write(*tmp, v, n);
	if (r == 0)
		r = wgnl_file_tmp_close(*tmp);
	if (r < 0) {
		wgnl_file_tmp_abort(*tmp);
		*tmp = NULL;
	}
	return r;
}

/* Put @tmp (from state_tmp()) in the place of its file; @tmp is freed. */
int state_commit(struct wgnl_file_tmp *tmp)
{
	return wgnl_file_tmp_commit(tmp);
}

int write_state_file(const char *dir, const char *ifname, const char *suffix, const char *text,
		     size_t len, bool durable)
{
	struct iovec v = { (void *)text, len };
	struct wgnl_file_tmp *tmp;
	int r = state_tmp(dir, ifname, suffix, &v, 1, durable, &tmp);

	return r < 0 ? r : state_commit(tmp);
}

int write_record(const char *dir, const char *ifname, const char *text, size_t len)
{
	return write_state_file(dir, ifname, ".conf", text, len, true);
}

/* Without .fast neither quick path is taken; .sec goes with it. */
void fast_forget(const char *dir, const char *ifname)
{
	char path[PATH_MAX];

	if (state_file(path, sizeof(path), dir, ifname, ".fast") == 0)
		unlink(path);
	if (state_file(path, sizeof(path), dir, ifname, ".sec") == 0)
		unlink(path);
}

int wgctl_sync_record(const char *dir, const char *ifname, struct wgnl_config *cfg)
{
	char *text;
	size_t len;
	int r = record_text(cfg, NULL, &text, &len);

	if (r < 0)
		return r;
	/* `up` does not know the file's bytes: the next sync parses. */
	fast_forget(dir, ifname);
	r = write_record(dir, ifname, text, len);
	free(text);
	return r;
}

void wgctl_sync_forget(const char *dir, const char *ifname)
{
	char path[PATH_MAX];

	fast_forget(dir, ifname);
	if (state_path(path, sizeof(path), dir, ifname) == 0)
		unlink(path);
}
