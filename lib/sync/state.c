// SPDX-License-Identifier: MIT
/* The sync's state directory: the record of the desired state last applied
 * (version 1: a config; version 2: canonical text), its .sec table, the
 * .fast digests, and the safety of the directory that holds them. The
 * formats are read back by record.c. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/compat.h"
#include "record.h"

/* Records are read whole, up to this size (as wgctl reads config files). */
#define SYNC_MAX_FILE (256U << 20)

static int state_file(char *buf, size_t len, const char *dir, const char *ifname,
		      const char *suffix)
{
	if ((size_t)snprintf(buf, len, "%s/%s%s", dir, ifname, suffix) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int wgnl_sync_record_path(char *buf, size_t len, const char *dir, const char *ifname)
{
	return state_file(buf, len, dir, ifname, ".conf");
}

int wgnl_sync_dir_check(const char *dir, char *why, size_t wlen)
{
	struct stat st;

	why[0] = '\0';
	if (stat(dir, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, wlen, "not a directory");
		return -ENOTDIR;
	}
#ifndef _WIN32
	/* Windows guards the folder with its ACL, which st_uid and st_mode
	 * do not show (docs/windows.md). */
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
#endif
	return 0;
}

/* Write the @n buffers @v to a new file beside <IF><suffix> (0600, synced
 * to disk when @durable) and close it; *tmp is what wgnl_file_tmp_commit()
 * puts in place. */
static int state_tmp(const char *dir, const char *ifname, const char *suffix, const struct iovec *v,
		     int n, bool durable, struct wgnl_file_tmp **tmp)
{
	char path[PATH_MAX];
	char why[128];
	int r = 0;

	*tmp = NULL;

	r = wgnl_sync_dir_check(dir, why, sizeof(why));
	if (r < 0)
		return r;
	/* Parents as needed; the last level 0700 (peers and addresses are not
	 * for everyone to read). */
	snprintf(path, sizeof(path), "%s", dir);
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

/* Remove what a sync killed between state_tmp() and the commit left:
 * <IF><suffix>.tmp.XXXXXX, or <IF><suffix>.XXXXXX from earlier versions (the
 * incremental path stages the next record before it applies). Only under
 * the interface's lock, where no other sync writes them; a name that fits
 * no other interface's file. */
void wgnl_sync_dir_sweep(const char *dir, const char *ifname)
{
	static const char *const sfx[] = { ".conf", ".sec", ".fast", ".path" };
	size_t n = strlen(ifname);
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		const char *rest = de->d_name + n;

		if (strncmp(de->d_name, ifname, n))
			continue;
		for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
			size_t k = strlen(sfx[i]);

			const char *x = rest + k + 1;

			if (strncmp(rest, sfx[i], k) || rest[k] != '.')
				continue;
			if (!strncmp(x, "tmp.", 4))
				x += 4;
			if (strlen(x) != 6 ||
			    strspn(x, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				      "0123456789") != 6)
				continue;
#ifdef _WIN32
			{
				char p[PATH_MAX];

				if (snprintf(p, sizeof(p), "%s/%s", dir, de->d_name) <
				    (int)sizeof(p))
					unlink(p);
			}
#else
			unlinkat(dirfd(d), de->d_name, 0);
#endif
			break;
		}
	}
	closedir(d);
}

static int write_state_file(const char *dir, const char *ifname, const char *suffix,
			    const char *text, size_t len, bool durable)
{
	struct iovec v = { (void *)text, len };
	struct wgnl_file_tmp *tmp;
	int r = state_tmp(dir, ifname, suffix, &v, 1, durable, &tmp);

	return r < 0 ? r : wgnl_file_tmp_commit(tmp);
}

/* ------------------------------------------------ the record, version 1 */

/* The record: @cfg as a config without private and preshared keys, hooks or
 * DNS, endpoints numeric (as resolved now, which is what was applied).
 * @digest: wgi_sync_state_digest() of @cfg when the caller has it, else
 * NULL. */
static int record_text(struct wgnl_config *cfg, const char *digest, char **out, size_t *len)
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
		char own[2 * WGI_SYNC_DIGEST_LEN + 1];

		if (!digest) {
			wgi_sync_state_digest(cfg, own);
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

int wgnl_sync_record_format(struct wgnl_config *cfg, char **out, size_t *len)
{
	return record_text(cfg, NULL, out, len);
}

/* The digest on the record's first line into @out ("" when there is none). */
static void record_digest(const char *path, char *out, size_t len)
{
	char line[128];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	out[0] = '\0';
	if (fd < 0)
		return;
	n = pread(fd, line, sizeof(line), 0);
	close(fd);
	if (n > 0)
		wgi_sync_rec1_digest_parse(line, (size_t)n, out, len);
}

int wgnl_sync_record_save(const char *dir, const char *ifname, struct wgnl_config *cfg,
			  unsigned flags)
{
	char path[PATH_MAX], have[2 * WGI_SYNC_DIGEST_LEN + 8], want[2 * WGI_SYNC_DIGEST_LEN + 1];
	const char *digest = NULL;
	char *text;
	size_t len;
	int r;

	if (!(flags & WGNL_SYNC_RECORD_FORCE)) {
		r = wgnl_sync_record_path(path, sizeof(path), dir, ifname);
		if (r < 0)
			return r;
		/* Rewritten only when what it would say differs. */
		record_digest(path, have, sizeof(have));
		wgi_sync_state_digest(cfg, want);
		if (!strcmp(have, want))
			return 0;
		digest = want;
	}
	r = record_text(cfg, digest, &text, &len);
	if (r < 0)
		return r;
	r = write_state_file(dir, ifname, ".conf", text, len, true);
	free(text);
	return r;
}

int wgnl_sync_record_load(const char *dir, const char *ifname, struct wgnl_config **ret)
{
	struct wgnl_config_error e;
	char path[PATH_MAX], *text;
	size_t len;
	int r;

	*ret = NULL;
	r = wgnl_sync_record_path(path, sizeof(path), dir, ifname);
	if (r < 0)
		return r;
	r = wgnl_file_read(path, SYNC_MAX_FILE, &text, &len);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	memset(&e, 0, sizeof(e));
	if (wgnl_config_parse(text, len, path, WGNL_CONFIG_QUICK, ret, &e) < 0) {
		*ret = NULL;
		r = -EBADMSG;
	}
	wgnl_free(text);
	return r;
}

void wgnl_sync_record_forget(const char *dir, const char *ifname)
{
	char path[PATH_MAX];

	wgnl_sync_fast_forget(dir, ifname);
	if (wgnl_sync_record_path(path, sizeof(path), dir, ifname) == 0)
		unlink(path);
}

/* ------------------------------------------------ the record, version 2 */
/* For a plain config without endpoint host names the record is the file
 * itself in canonical form (text.c: comments dropped, lines trimmed,
 * private and preshared keys replaced by their hash), after a first line
 * naming the hash of that canonical text. It parses as the desired state
 * last applied, like version 1, and it lets the next sync of an edited file
 * parse only the [Peer] sections that changed. Next to it, <IF>.sec
 * (record.h): where each [Peer] section stands in the record and its hash,
 * so that the next sync finds the changed sections without reading the
 * record, then reads only those. */

struct wgnl_sync_stage {
	struct wgnl_file_tmp *rec, *sec;
};

/* Does the record open on @fd start with the header of canonical text @h? */
static bool record2_fd_is(int fd, const uint64_t h[2])
{
	char head[RECORD2_HEAD_LEN + 8], line[sizeof(head)];
	size_t n;

	wgi_sync_rec2_header(head, sizeof(head), h);
	n = strlen(head);
	return pread(fd, line, n, 0) == (ssize_t)n && !memcmp(line, head, n);
}

/* Is the record at @path version 2 of canonical text @h? */
static bool record2_current(const char *path, const uint64_t h[2])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool is;

	if (fd < 0)
		return false;
	is = record2_fd_is(fd, h);
	close(fd);
	return is;
}

int wgnl_sync_record_sections(const char *dir, const char *ifname, const uint64_t h[2],
			      struct wgnl_sync_section **ret, size_t *n, uint64_t iface_h[2],
			      uint64_t *rec_size)
{
	char path[PATH_MAX], *buf;
	size_t len;
	int r;

	*ret = NULL;
	if (state_file(path, sizeof(path), dir, ifname, ".sec") < 0)
		return -ENAMETOOLONG;
	r = wgnl_file_read(path, SYNC_MAX_FILE, &buf, &len);
	if (r < 0)
		return r;
	r = wgi_sync_sec_parse(buf, len, h, ret, n, iface_h, rec_size);
	wgnl_free(buf);
	return r;
}

int wgnl_sync_record_gather(const char *dir, const char *ifname, const uint64_t h[2],
			    const struct wgnl_sync_section *sec, size_t n, const bool *m,
			    uint64_t rec_size, char **out, size_t *len)
{
	size_t total = 0, off = 0;
	char path[PATH_MAX], *buf = NULL;
	struct stat st;
	int fd, r = -EINVAL;

	*out = NULL;
	if (wgnl_sync_record_path(path, sizeof(path), dir, ifname) < 0)
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (!record2_fd_is(fd, h) || fstat(fd, &st) < 0 ||
	    (n && (uint64_t)st.st_size != rec_size) ||
	    wgi_sync_sections_total(sec, n, m, &total) < 0)
		goto out;
	buf = malloc(total + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t sh[2];

		if (m[i])
			continue;
		if (pread(fd, buf + off, sec[i].san_len, (off_t)sec[i].san_off) !=
		    (ssize_t)sec[i].san_len)
			goto out;
		wgi_sync_bytes_hash(buf + off, sec[i].san_len, sh);
		if (sh[0] != sec[i].h[0] || sh[1] != sec[i].h[1])
			goto out;
		off += sec[i].san_len;
	}
	buf[off] = '\0';
	*len = off;
	*out = buf;
	buf = NULL;
	r = 0;
out:
	free(buf);
	close(fd);
	return r;
}

int wgnl_sync_record_stage(const char *dir, const char *ifname, const struct wgnl_sync_text *t,
			   struct wgnl_sync_stage **ret)
{
	char head[RECORD2_HEAD_LEN + 8];
	struct wgnl_sync_stage *s;
	struct iovec v[2];
	struct sec_head sh;
	struct sec_ent *e;
	size_t n;
	int r;

	*ret = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	wgi_sync_rec2_header(head, sizeof(head), t->text_h);
	n = strlen(head);
	v[0] = (struct iovec){ head, n };
	v[1] = (struct iovec){ t->san, t->san_len };
	r = state_tmp(dir, ifname, ".conf", v, 2, true, &s->rec);
	if (r < 0) {
		free(s);
		return r;
	}
	e = calloc(t->n_sec + 1, sizeof(*e));
	if (!e) {
		wgnl_sync_stage_abort(s);
		return -ENOMEM;
	}
	memset(&sh, 0, sizeof(sh));
	memcpy(sh.magic, SEC_MAGIC, 8);
	memcpy(sh.text_h, t->text_h, sizeof(sh.text_h));
	memcpy(sh.iface_h, t->iface_h, sizeof(sh.iface_h));
	sh.n = t->n_sec;
	for (size_t i = 0; i < t->n_sec; i++) {
		e[i].h[0] = t->sec[i].h[0];
		e[i].h[1] = t->sec[i].h[1];
		e[i].off = n + t->sec[i].san_off;
		e[i].len = t->sec[i].san_len;
	}
	v[0] = (struct iovec){ &sh, sizeof(sh) };
	v[1] = (struct iovec){ e, t->n_sec * sizeof(*e) };
	r = state_tmp(dir, ifname, ".sec", v, 2, false, &s->sec);
	free(e);
	if (r < 0) {
		wgnl_sync_stage_abort(s);
		return r;
	}
	*ret = s;
	return 0;
}

/* The record first: a .sec file that does not match it is ignored. */
int wgnl_sync_stage_commit(struct wgnl_sync_stage *s)
{
	int r = wgnl_file_tmp_commit(s->rec);

	if (r < 0) {
		wgnl_file_tmp_abort(s->sec);
		free(s);
		return r;
	}
	/* Without it the next sync takes the full path, nothing worse. */
	r = wgnl_file_tmp_commit(s->sec);
	free(s);
	return r;
}

void wgnl_sync_stage_abort(struct wgnl_sync_stage *s)
{
	if (!s)
		return;
	wgnl_file_tmp_abort(s->rec);
	wgnl_file_tmp_abort(s->sec);
	free(s);
}

int wgnl_sync_record_save_text(const char *dir, const char *ifname, const struct wgnl_sync_text *t,
			       unsigned flags)
{
	struct wgnl_sync_stage *s;
	char path[PATH_MAX];
	int r;

	if (!(flags & WGNL_SYNC_RECORD_FORCE)) {
		r = wgnl_sync_record_path(path, sizeof(path), dir, ifname);
		if (r < 0)
			return r;
		/* Rewritten only when what it would say differs. */
		if (record2_current(path, t->text_h))
			return 0;
	}
	r = wgnl_sync_record_stage(dir, ifname, t, &s);
	return r < 0 ? r : wgnl_sync_stage_commit(s);
}

int wgnl_sync_record_applied(const char *dir, const char *ifname, struct wgnl_config *cfg,
			     const struct wgnl_sync_text *t, const struct wgnl_device *running,
			     unsigned flags)
{
	struct wgnl_sync_digest fh, run;
	bool v2 = t && !wgi_sync_has_names(cfg);
	int r;

	/* Rewritten only when what it would say differs. */
	if (v2)
		r = wgnl_sync_record_save_text(dir, ifname, t, 0);
	else
		r = wgnl_sync_record_save(dir, ifname, cfg, 0);
	if (r == 0 && v2 && (flags & WGNL_SYNC_RECORD_FAST) &&
	    wgnl_sync_digest_expect(cfg->dev, running, &run) == 0) {
		fh = (struct wgnl_sync_digest){ t->text_h[0], t->text_h[1] };
		wgnl_sync_fast_save(dir, ifname, &fh, &run);
	} else {
		wgnl_sync_fast_forget(dir, ifname);
	}
	return r;
}

/* ------------------------------------------------------- the fast path */
/* A no-op sync is the common case (a control plane re-applying the same
 * file): parsing a 100k-peer file costs more than dumping the device. So
 * after each sync the record keeps, in <IF>.fast, a hash of the file's
 * canonical text (comments and blank lines do not count) and the digest the
 * device must have when it still equals the file. When both match, nothing
 * is parsed and nothing is sent. */

int wgnl_sync_fast_load(const char *dir, const char *ifname, struct wgnl_sync_digest *file,
			struct wgnl_sync_digest *run)
{
	char path[PATH_MAX], *buf = NULL;
	size_t len;
	int r;

	if (state_file(path, sizeof(path), dir, ifname, ".fast") < 0)
		return -ENAMETOOLONG;
	r = wgnl_file_read(path, 256, &buf, &len);
	if (r < 0)
		return r;
	r = wgi_sync_fast_parse(buf, len, file, run);
	wgnl_free(buf);
	return r;
}

int wgnl_sync_fast_save(const char *dir, const char *ifname, const struct wgnl_sync_digest *file,
			const struct wgnl_sync_digest *run)
{
	char line[96];
	int n = snprintf(line, sizeof(line), FAST_FMT, (unsigned long long)file->a,
			 (unsigned long long)file->b, (unsigned long long)run->a,
			 (unsigned long long)run->b);
	int r = write_state_file(dir, ifname, ".fast", line, (size_t)n, false);

	/* A lost or stale .fast file only costs the full path next time. */
	if (r < 0)
		wgnl_sync_fast_forget(dir, ifname);
	return r;
}

/* Without .fast neither quick path is taken; .sec goes with it. */
void wgnl_sync_fast_forget(const char *dir, const char *ifname)
{
	char path[PATH_MAX];

	if (state_file(path, sizeof(path), dir, ifname, ".fast") == 0)
		unlink(path);
	if (state_file(path, sizeof(path), dir, ifname, ".sec") == 0)
		unlink(path);
}
