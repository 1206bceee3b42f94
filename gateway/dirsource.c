// SPDX-License-Identifier: MIT
/* The directory source: Path is one WireGuard config (its [Interface] is
 * ignored) or a folder of *.conf files holding [Peer] sections. Watched with
 * inotify on the folder (for one file: its parent folder, so an editor's
 * write-to-temp-and-rename is seen), debounced DEBOUNCE_MS after the last
 * event. Each file is parsed whole: one that does not parse is reported
 * (file:line: key: why) and its peers stay as they were last good, never
 * half applied; the other files still apply. A rescan is a full read for
 * the sink: files whose inode, size or mtime changed are parsed again and
 * their peers handed over as rows (the apply engine sends only what
 * differs), the others' peers are kept by key. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gw.h"

#define DEBOUNCE_MS 20

/* A file as last read: only the keys of its last good parse are kept (the
 * peers themselves live once, in the apply engine's set), so an unchanged
 * or bad file costs 32 bytes a peer and is handed over as "keep". */
struct dfile {
	char name[NAME_MAX + 1];
	struct stat st; /* when last read (good or bad) */
	wgnl_key *keys; /* of the last good parse */
	size_t n_keys;
	bool good; /* parsed at least once */
	bool bad;  /* the last read did not parse */
};

struct gw_source {
	char dir[PATH_MAX];	 /* the folder watched */
	char only[NAME_MAX + 1]; /* file mode: the file's name in dir; "" folder mode */
	int ifd;
	int wd;
	struct dfile *files;
	size_t n_files;
	int64_t gen;	 /* change id: one per rescan */
	int64_t due_ms;	 /* rescan due (debounce), 0: none */
	int64_t last_ok; /* last rescan that could read the folder */
};

static void dfile_clear(struct dfile *f)
{
	free(f->keys);
	f->keys = NULL;
	f->n_keys = 0;
	f->good = f->bad = false;
}

static int dir_open(struct gw_source **ret, const struct gw_conf *c, char *err, size_t errlen)
{
	struct gw_source *s;
	struct stat st;
	char *slash;

	*ret = NULL;
	if (stat(c->registry_path, &st) < 0) {
		int r = -errno;

		snprintf(err, errlen, "%s: Path: cannot use '%s': %s", c->path, c->registry_path,
			 strerror(errno));
		return r;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ifd = s->wd = -1;
	if (S_ISDIR(st.st_mode)) {
		snprintf(s->dir, sizeof(s->dir), "%s", c->registry_path);
	} else {
		snprintf(s->dir, sizeof(s->dir), "%s", c->registry_path);
		slash = strrchr(s->dir, '/');
		if (strlen(slash ? slash + 1 : s->dir) >= sizeof(s->only)) {
			snprintf(err, errlen, "%s: Path: file name too long", c->path);
			free(s);
			return -ENAMETOOLONG;
		}
		if (!slash) {
			strcpy(s->only, s->dir);
			strcpy(s->dir, ".");
		} else {
			strcpy(s->only, slash + 1);
			if (slash == s->dir)
				slash[1] = '\0';
			else
				*slash = '\0';
		}
	}
	s->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s->ifd >= 0)
		s->wd = inotify_add_watch(s->ifd, s->dir,
					  IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
						  IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF);
	if (s->ifd < 0 || s->wd < 0) {
		int r = -errno;

		snprintf(err, errlen, "%s: Path: cannot watch '%s': %s", c->path, s->dir,
			 strerror(errno));
		if (s->ifd >= 0)
			close(s->ifd);
		free(s);
		return r;
	}
	*ret = s;
	return 0;
}

static void dir_close(struct gw_source *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_files; i++)
		dfile_clear(&s->files[i]);
	free(s->files);
	if (s->ifd >= 0)
		close(s->ifd);
	free(s);
}

static int dir_fd(struct gw_source *s)
{
	return s->ifd;
}

static bool wanted(const struct gw_source *s, const char *name)
{
	size_t n = strlen(name);

	if (s->only[0])
		return !strcmp(name, s->only);
	return name[0] != '.' && n > 5 && !strcmp(name + n - 5, ".conf");
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names to read now, sorted (malloc'd array of malloc'd strings). */
static int list_names(struct gw_source *s, char ***ret, size_t *n)
{
	char **v = NULL, **nv;
	size_t cap = 0, len = 0;
	struct dirent *de;
	DIR *d;

	*ret = NULL;
	*n = 0;
	d = opendir(s->dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!wanted(s, de->d_name))
			continue;
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				goto nomem;
			v = nv;
		}
		v[len] = strdup(de->d_name);
		if (!v[len])
			goto nomem;
		len++;
	}
	closedir(d);
	if (len > 1)
		qsort(v, len, sizeof(*v), name_cmp);
	*ret = v;
	*n = len;
	return 0;
nomem:
	closedir(d);
	for (size_t i = 0; i < len; i++)
		free(v[i]);
	free(v);
	return -ENOMEM;
}

static bool same_stat(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Parse file @f (named f->name in the folder): its config in *ret, or
 * NULL when it does not parse (reported; its last good keys stay). */
static void read_file(struct gw_source *s, struct dfile *f, const struct stat *st,
		      struct gw_sink *sink, struct wgnl_config **ret)
{
	struct wgnl_config_error e;
	struct wgnl_config *cfg = NULL;
	char path[PATH_MAX + NAME_MAX + 2], why[PATH_MAX + NAME_MAX + 512];
	wgnl_key *keys;
	int r;

	*ret = NULL;
	f->st = *st;
	snprintf(path, sizeof(path), "%s/%s", s->dir, f->name);
	memset(&e, 0, sizeof(e));
	/* wg-quick keys in the [Interface] of a whole config are fine: it is
	 * ignored. Endpoints are not resolved: peers keep none. */
	r = wgnl_config_parse_file(path, WGNL_CONFIG_QUICK, &cfg, &e);
	if (r < 0) {
		if (e.line)
			snprintf(why, sizeof(why), "%s:%u: %s: %s", path, e.line,
				 e.key[0] ? e.key : "-", e.message);
		else
			snprintf(why, sizeof(why), "%s: %s", path,
				 e.message[0] ? e.message : strerror(-r));
		if (f->good)
			strncat(why, " (its last good peers kept)", sizeof(why) - strlen(why) - 1);
		f->bad = true;
		sink->bad(sink, 0, why);
		return;
	}
	keys = malloc((cfg->dev->n_peers ? cfg->dev->n_peers : 1) * sizeof(*keys));
	if (!keys) {
		/* Cannot remember it: as if it did not parse. */
		wgnl_config_free(cfg);
		f->bad = true;
		return;
	}
	for (size_t k = 0; k < cfg->dev->n_peers; k++)
		memcpy(keys[k], cfg->dev->peers[k].public_key, WGNL_KEY_LEN);
	free(f->keys);
	f->keys = keys;
	f->n_keys = cfg->dev->n_peers;
	if (f->bad)
		gw_log("info", "source: %s parses again", path);
	f->bad = false;
	f->good = true;
	*ret = cfg;
}

/* Rescan the folder and hand every peer of every file to @sink as one full
 * read. */
static int rescan(struct gw_source *s, struct gw_sink *sink, bool force)
{
	struct wgnl_device *keys;
	struct dfile *nf;
	char **names;
	size_t n;
	int r;

	r = list_names(s, &names, &n);
	if (r < 0) {
		gw_log("error", "source: cannot read '%s': %s", s->dir, strerror(-r));
		return r;
	}
	nf = calloc(n ? n : 1, sizeof(*nf));
	if (!nf) {
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
		return -ENOMEM;
	}
	/* Carry each file still there over; both lists are sorted. */
	for (size_t i = 0, j = 0; i < n; i++) {
		while (j < s->n_files && strcmp(s->files[j].name, names[i]) < 0)
			j++;
		if (j < s->n_files && !strcmp(s->files[j].name, names[i])) {
			nf[i] = s->files[j];
			memset(&s->files[j], 0, sizeof(s->files[j]));
		} else {
			snprintf(nf[i].name, sizeof(nf[i].name), "%s", names[i]);
		}
		free(names[i]);
	}
	free(names);
	for (size_t j = 0; j < s->n_files; j++)
		dfile_clear(&s->files[j]); /* files gone */
	free(s->files);
	s->files = nf;
	s->n_files = n;

	/* Which file each key came from this time: a key in two files is
	 * the second file's mistake (else the peer would flap between them
	 * on every rescan). protocol_version holds the file's index. */
	keys = wgnl_device_new("");
	if (!keys)
		return -ENOMEM;
	s->gen++;
	sink->full_begin(sink);
	for (size_t i = 0; i < s->n_files; i++) {
		struct dfile *f = &s->files[i];
		char path[PATH_MAX + NAME_MAX + 2];
		struct wgnl_config *cfg;
		struct wgnl_peer *seen;
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", s->dir, f->name);
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
			/* Gone meanwhile, or not a file: as if absent. */
			dfile_clear(f);
			f->bad = false;
			continue;
		}
		cfg = NULL;
		if (force || !(f->good || f->bad) || !same_stat(&f->st, &st))
			read_file(s, f, &st, sink, &cfg);
		if (!cfg) {
			/* Unchanged, or bad: its peers stay as they are. */
			for (size_t k = 0; k < f->n_keys; k++) {
				if (wgnl_device_add_peer(keys, f->keys[k], &seen) == 0)
					seen->protocol_version = (uint32_t)i;
				sink->keep(sink, f->keys[k]);
			}
			continue;
		}
		for (size_t k = 0; k < cfg->dev->n_peers; k++) {
			struct gw_row row = {
				.id = 0,
				.change_id = s->gen,
				.removed = false,
				.peer = &cfg->dev->peers[k],
			};
			char why[PATH_MAX + 2 * NAME_MAX + 96];

			r = wgnl_device_add_peer(keys, row.peer->public_key, &seen);
			if (r == -EEXIST) {
				snprintf(why, sizeof(why),
					 "%s/%s: peer %zu: its PublicKey is already in %s; skipped",
					 s->dir, f->name, k + 1,
					 s->files[seen->protocol_version].name);
				sink->bad(sink, 0, why);
				continue;
			}
			if (r == 0)
				seen->protocol_version = (uint32_t)i;
			sink->row(sink, &row);
		}
		wgnl_config_free(cfg);
	}
	wgnl_device_free(keys);
	sink->full_end(sink, s->gen);
	s->last_ok = gw_now_ms();
	/* The parse and the key index were big and are gone. */
	malloc_trim(0);
	return 0;
}

static int dir_full(struct gw_source *s, struct gw_sink *sink)
{
	s->due_ms = 0;
	return rescan(s, sink, true);
}

/* Drain inotify; a relevant event (re)arms the debounce. */
static int dir_poll(struct gw_source *s, struct gw_sink *sink)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool hit = false;
	ssize_t n;

	for (;;) {
		n = read(s->ifd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			if ((ev->mask & (IN_Q_OVERFLOW | IN_DELETE_SELF | IN_MOVE_SELF)) ||
			    (ev->len && wanted(s, ev->name)))
				hit = true;
			p += sizeof(*ev) + ev->len;
		}
	}
	if (hit)
		s->due_ms = gw_now_ms() + DEBOUNCE_MS;
	return 0;
}

static int dir_tick(struct gw_source *s, struct gw_sink *sink, int64_t now_ms)
{
	if (!s->due_ms)
		return -1;
	if (now_ms < s->due_ms)
		return (int)(s->due_ms - now_ms);
	s->due_ms = 0;
	rescan(s, sink, false);
	return -1;
}

static bool dir_connected(struct gw_source *s)
{
	return true;
}

static int64_t dir_last_ok(struct gw_source *s)
{
	return s->last_ok;
}

const struct gw_source_ops gw_dirsource_ops = {
	.name = "directory",
	.open = dir_open,
	.fd = dir_fd,
	.full = dir_full,
	.poll = dir_poll,
	.tick = dir_tick,
	.connected = dir_connected,
	.last_ok_ms = dir_last_ok,
	.close = dir_close,
};
