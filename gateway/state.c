// SPDX-License-Identifier: MIT
/* The state file: what a daemon knew when it last changed its device, so
 * the next start can tell a device in step before it reads its registry
 * again. RUN_DIR/IF.gwstate (wgk_run_dir(): /run/wgkit, tmpfs, gone at
 * boot), 0600, written whole and renamed into place after an apply that
 * changed it. It holds the identity of the source's content (the
 * directory source: every file's name and text hash), the peers' part of
 * the digest that content gave (wgnl_peerset_peers_digest(): sums, no
 * secret) and their count, with the version that wrote it and a check.
 * A start whose source has that content and whose device has that digest
 * is in step before a byte is parsed; anything else (no file, another
 * version, other content, a device changed while the daemon was down)
 * takes the ordinary full read. The registry is read in full right after
 * such a start anyway, and a difference is planned away then. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "exitcodes.h"
#include "gw.h"
#include "iflock.h"

#define STATE_MAGIC "WGKGWST1"

struct state_file {
	char magic[8];
	char version[24];
	char ifname[16];
	uint64_t id[2];
	uint64_t sum_a, sum_b;
	uint64_t n;
	uint64_t check;
};

static uint64_t check_of(const struct state_file *f)
{
	return gw_fnv1a(0xcbf29ce484222325ULL, f, offsetof(struct state_file, check));
}

static int state_path(char *path, size_t len, const char *ifname, const char *suffix)
{
	return (size_t)snprintf(path, len, "%s/%s.gwstate%s", wgk_run_dir(), ifname, suffix) >=
			       len ?
		       -ENAMETOOLONG :
		       0;
}

static void fill(struct state_file *f, const char *ifname, const struct gw_state *st)
{
	memset(f, 0, sizeof(*f));
	memcpy(f->magic, STATE_MAGIC, sizeof(f->magic));
	snprintf(f->version, sizeof(f->version), "%s", WGKIT_VERSION);
	snprintf(f->ifname, sizeof(f->ifname), "%s", ifname);
	memcpy(f->id, st->id, sizeof(f->id));
	f->sum_a = st->sum.a;
	f->sum_b = st->sum.b;
	f->n = st->n;
	f->check = check_of(f);
}

int gw_state_load(const char *ifname, struct gw_state *st)
{
	struct state_file f, want;
	char path[PATH_MAX];
	ssize_t n;
	int fd, r;

	r = state_path(path, sizeof(path), ifname, "");
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return -errno;
	n = read(fd, &f, sizeof(f));
	close(fd);
	if (n != (ssize_t)sizeof(f))
		return -EINVAL;
	/* Ours, this version's, this interface's, whole. */
	fill(&want, ifname, &(struct gw_state){ 0 });
	if (memcmp(f.magic, want.magic, sizeof(f.magic)) ||
	    memcmp(f.version, want.version, sizeof(f.version)) ||
	    memcmp(f.ifname, want.ifname, sizeof(f.ifname)) || f.check != check_of(&f))
		return -EINVAL;
	memcpy(st->id, f.id, sizeof(st->id));
	st->sum.a = f.sum_a;
	st->sum.b = f.sum_b;
	st->n = f.n;
	return 0;
}

int gw_state_save(const char *ifname, const struct gw_state *st)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	struct state_file f;
	int fd, r;

	if (state_path(path, sizeof(path), ifname, "") < 0 ||
	    state_path(tmp, sizeof(tmp), ifname, ".tmp") < 0)
		return -ENAMETOOLONG;
	fill(&f, ifname, st);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (fd < 0)
		return -errno;
	r = write(fd, &f, sizeof(f)) == (ssize_t)sizeof(f) ? 0 : -EIO;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

void gw_state_forget(const char *ifname)
{
	char path[PATH_MAX];

	if (state_path(path, sizeof(path), ifname, "") == 0)
		unlink(path);
}
