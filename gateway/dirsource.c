// SPDX-License-Identifier: MIT
/* The directory source: Path is one WireGuard config (its [Interface] is
 * ignored) or a folder of *.conf files holding [Peer] sections. Watched with
 * inotify on the folder (for one file: its parent folder, so an editor's
 * write-to-temp-and-rename is seen), rescanned as soon as the events queued
 * now are read: every event watched marks a finished file (closed after
 * writing, renamed, deleted), so nothing waits, and a burst read together
 * is one rescan. Each file is parsed whole: one that does not parse is reported
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
#include <setjmp.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "gw.h"
#include "wgkit/wgnl_sync.h"

#define DEBOUNCE_MS 0
#define CHANGED_MAX 256
/* What the folder's watch reports: a file written, renamed in or out,
 * deleted, its mode or owner changed, a symlink made (IN_CREATE: a file
 * being written is read at IN_CLOSE_WRITE, not half-way); the folder
 * itself gone or moved. */
#define WATCH_MASK                                                                          \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB | IN_CREATE | \
	 IN_DELETE_SELF | IN_MOVE_SELF)
/* What the watch on a symlinked file's target reports (link_set()): the
 * target written, its mode or link count changed (renamed over, deleted),
 * moved away. */
#define LINK_MASK (IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)

/* A file's [Peer] sections as its last good parse had them: the hash of
 * each section's raw bytes (wgnl_sync_text_split()) and the key of the
 * peer it holds, 40 bytes a peer, found by hash through an open-addressed
 * table of indices (4 bytes a slot, at most 4/5 full). A re-read parses
 * only the sections whose hash is not in here. The hashes live in memory
 * only; the timer's and SIGHUP's full re-reads parse whole, so even a
 * 64-bit collision would not outlive FullRereadSeconds. */
struct sent {
	uint64_t h;
	wgnl_key key;
};

struct secidx {
	struct sent *e;
	size_t n, cap;
	uint32_t *slot; /* entry index + 1; 0: empty */
	size_t mask;
};

/* A file as last read: only the keys of its last good parse are kept (the
 * peers themselves live once, in the apply engine's set), so an unchanged
 * or bad file is handed over as "keep". */
struct dfile {
	char name[NAME_MAX + 1];
	struct stat st; /* when last read (good or bad) */
	/* The last good parse: its sections when they paired one to one with
	 * its peers (have_idx), else its keys alone (the next read parses
	 * whole). */
	struct secidx idx;
	bool have_idx;
	uint64_t other_h[2]; /* the bytes outside [Peer] sections (with have_idx) */
	uint64_t text_h[2];  /* the whole text's (with have_idx) */
	wgnl_key *keys;
	size_t n_keys;
	bool good;	      /* parsed at least once */
	bool bad;	      /* the last read did not parse */
	unsigned warned_mode; /* the mode + 1 a key-material warning named (0: none) */
	int lwd;	      /* the watch on its target when it is a symlink (0: none) */
};

struct gw_source {
	char dir[PATH_MAX];	 /* the folder watched */
	char only[NAME_MAX + 1]; /* file mode: the file's name in dir; "" folder mode */
	int ifd;
	int wd;
	int pwd;		 /* the watch on dir's parent, for dir's own name (-1: none) */
	char base[NAME_MAX + 1]; /* dir's last component, as its parent lists it */
	dev_t wdev;		 /* the folder the watch is on (rewatch()) */
	ino_t wino;
	bool missing;	      /* the folder was not there at the last look (logged once) */
	int64_t next_look_ms; /* when dir_tick() next stats the path (see there) */
	/* The files inotify named since the last rescan (wanted names only);
	 * overflow: more than CHANGED_MAX, or an event that names none. */
	char *changed[CHANGED_MAX];
	size_t n_changed;
	bool overflow;
	struct dfile *files;
	size_t n_files;
	int64_t gen;	 /* change id: one per rescan */
	int64_t due_ms;	 /* rescan due (debounce), 0: none */
	int64_t last_ok; /* last rescan that could read the folder */
	bool dups;	 /* the last full rescan skipped a key found in two files */
	/* Files that are symlinks to nothing (the target deleted): no watch
	 * can name a file not there yet, so dir_tick() stats them every
	 * second and reads one when its target is back. */
	char **dangling;
	size_t n_dangling;
	bool lw_warned; /* a target that could not be watched was logged */
};

/* Watch the folder the path names now, not the one first watched: a
 * folder swapped in by rename (a deploy's atomic switch of the whole
 * folder), a symlink to it replaced, or a folder made again after a delete
 * would otherwise go unwatched, its changes seen only at the next timed
 * full read. Its parent is watched for the folder's own name (watch_parent())
 * so such a switch is an event; the folder is opened and watched through
 * its descriptor, so the watch is on the inode fstat() names even if the
 * path moves meanwhile. 0, or -errno (not there). */
static int rewatch(struct gw_source *s)
{
	char fdpath[64];
	struct stat st;
	int fd, wd, r = 0;

	fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
	} else if (s->wd < 0 || st.st_dev != s->wdev || st.st_ino != s->wino) {
		snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
		wd = inotify_add_watch(s->ifd, fdpath, WATCH_MASK);
		if (wd < 0 && errno == ENOENT) /* no /proc: by path */
			wd = inotify_add_watch(s->ifd, s->dir, WATCH_MASK);
		if (wd < 0) {
			r = -errno;
		} else {
			/* The old one: gone with its folder, or on a folder
			 * moved away (whose events are not ours). */
			if (s->wd >= 0 && s->wd != wd) {
				inotify_rm_watch(s->ifd, s->wd);
				gw_log("info", "source: '%s' is another folder now: watching it",
				       s->dir);
			}
			s->wd = wd;
			s->wdev = st.st_dev;
			s->wino = st.st_ino;
		}
	}
	close(fd);
	return r;
}

/* The watch on dir's parent: dir's own name created, moved in or away,
 * deleted there (dir_poll() looks at those events for that name only).
 * Best effort: without it only the timed full read sees a switch. */
static void watch_parent(struct gw_source *s)
{
	char parent[PATH_MAX];
	size_t n = strlen(s->dir);
	char *slash;

	while (n > 1 && s->dir[n - 1] == '/')
		n--;
	if (n >= sizeof(parent))
		return;
	memcpy(parent, s->dir, n);
	parent[n] = '\0';
	slash = strrchr(parent, '/');
	if (!slash) { /* "peers.d": its parent is "." */
		if (n >= sizeof(s->base))
			return;
		memcpy(s->base, parent, n + 1);
		strcpy(parent, ".");
	} else {
		if (strlen(slash + 1) >= sizeof(s->base) || !slash[1] || !strcmp(slash + 1, ".") ||
		    !strcmp(slash + 1, ".."))
			return;
		strcpy(s->base, slash + 1);
		if (slash == parent)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	if (!strcmp(s->base, ".") || !strcmp(s->base, ".."))
		return;
	s->pwd = inotify_add_watch(
		s->ifd, parent, IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR);
}

/* A file holding a private or preshared key that group or others can
 * read: said once per file and mode, as wgctl says it of configs. */
static void warn_secret_mode(struct dfile *f, const char *path, const struct stat *st,
			     const struct wgnl_config *cfg)
{
	const char *secret = cfg ? wgk_config_secret(cfg) : NULL;
	unsigned mode = (unsigned)(st->st_mode & 07777);

	if (!secret || !(mode & 077) || f->warned_mode == mode + 1)
		return;
	f->warned_mode = mode + 1;
	gw_log("warning", "source: %s " WGK_SECRET_MODE_FMT, path, secret, mode);
}

static void sx_free(struct secidx *x)
{
	free(x->e);
	free(x->slot);
	memset(x, 0, sizeof(*x));
}

/* The slot holding @h's entry, or the empty slot where it would go. */
static inline __attribute__((always_inline)) size_t sx_probe(const struct secidx *x, uint64_t h)
{
	size_t i = (size_t)h & x->mask;

	while (x->slot[i] && x->e[x->slot[i] - 1].h != h)
		i = (i + 1) & x->mask;
	return i;
}

/* The entry with hash @h: its index, or -1. */
static inline __attribute__((always_inline)) ssize_t sx_find(const struct secidx *x, uint64_t h)
{
	size_t i;

	if (!x->slot)
		return -1;
	i = sx_probe(x, h);
	return x->slot[i] ? (ssize_t)x->slot[i] - 1 : -1;
}

/* A table for @n entries at most 4/5 full, every entry put in again. */
static int sx_rehash(struct secidx *x, size_t n)
{
	size_t size = 16;
	uint32_t *slot;

	while (size * 4 < n * 5)
		size *= 2;
	slot = calloc(size, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	free(x->slot);
	x->slot = slot;
	x->mask = size - 1;
	for (size_t j = 0; j < x->n; j++)
		x->slot[sx_probe(x, x->e[j].h)] = (uint32_t)j + 1;
	return 0;
}

/* A new index of @n sections: hash @h[i] holds key @keys[i]. */
static int sx_build(struct secidx *x, const struct wgnl_sync_section *sec, const wgnl_key *keys,
		    size_t n)
{
	struct secidx nx = { .e = malloc((n ? n : 1) * sizeof(*nx.e)), .n = n, .cap = n };

	if (!nx.e)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		nx.e[i].h = sec[i].h[0];
		memcpy(nx.e[i].key, keys[i], WGNL_KEY_LEN);
	}
	if (sx_rehash(&nx, n) < 0) {
		free(nx.e);
		return -ENOMEM;
	}
	sx_free(x);
	*x = nx;
	return 0;
}

/* Take entry @j out: its slot by backward shift (linear probing keeps no
 * tombstones), then the last entry moved into its place. */
static void sx_del(struct secidx *x, size_t j)
{
	size_t i = sx_probe(x, x->e[j].h), k, home;

	for (k = (i + 1) & x->mask; x->slot[k]; k = (k + 1) & x->mask) {
		home = (size_t)x->e[x->slot[k] - 1].h & x->mask;
		/* The entry at k may move to i unless its home lies in (i, k]. */
		if (i <= k ? (i < home && home <= k) : (i < home || home <= k))
			continue;
		x->slot[i] = x->slot[k];
		i = k;
	}
	x->slot[i] = 0;
	if (j != x->n - 1) {
		x->slot[sx_probe(x, x->e[x->n - 1].h)] = (uint32_t)j + 1;
		x->e[j] = x->e[x->n - 1];
	}
	x->n--;
}

/* Add hash @h holding @key (not in the index). 0 or -ENOMEM. */
static int sx_add(struct secidx *x, uint64_t h, const uint8_t *key)
{
	if (x->n == x->cap) {
		size_t ncap = x->cap < 16 ? 16 : x->cap + x->cap / 2;
		struct sent *ne = realloc(x->e, ncap * sizeof(*ne));

		if (!ne)
			return -ENOMEM;
		x->e = ne;
		x->cap = ncap;
	}
	if (!x->slot || (x->n + 1) * 5 > (x->mask + 1) * 4) {
		if (sx_rehash(x, x->n + 1) < 0)
			return -ENOMEM;
	}
	x->e[x->n].h = h;
	memcpy(x->e[x->n].key, key, WGNL_KEY_LEN);
	x->slot[sx_probe(x, h)] = (uint32_t)x->n + 1;
	x->n++;
	return 0;
}

static void dfile_clear(struct dfile *f)
{
	free(f->keys);
	f->keys = NULL;
	f->n_keys = 0;
	sx_free(&f->idx);
	f->have_idx = false;
	f->good = f->bad = false;
}

/* A file mapped rather than read costs no copy and no fresh pages, but a
 * file truncated while mapped raises SIGBUS at the first byte touched past
 * its new end. So the mapping is only touched under a guard: the handler
 * jumps back to the reader, which then reads the file the ordinary way. */
static __thread sigjmp_buf *bus_jmp;
static __thread const char *bus_lo, *bus_hi;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	const char *a = si->si_addr;

	(void)uc;
	if (bus_jmp && a >= bus_lo && a < bus_hi)
		siglongjmp(*bus_jmp, 1);
	/* Not ours: the default action, at once (the fault repeats). */
	signal(sig, SIG_DFL);
}

static int sigbus_guard_install(void)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO | SA_NODEFER };

	sigemptyset(&sa.sa_mask);
	return sigaction(SIGBUS, &sa, NULL) < 0 ? -errno : 0;
}

static int dir_open(struct gw_source **ret, const struct gw_conf *c, char *err, size_t errlen)
{
	struct gw_source *s;
	struct stat st;
	char *slash;
	int r;

	*ret = NULL;
	if (stat(c->registry_path, &st) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: Path: cannot use '%s': %s", c->path, c->registry_path,
			 strerror(errno));
		return r;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ifd = s->wd = s->pwd = -1;
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
	if (sigbus_guard_install() < 0) {
		snprintf(err, errlen, "cannot install the SIGBUS guard: %s", strerror(errno));
		free(s);
		return -errno;
	}
	s->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	r = s->ifd < 0 ? -errno : rewatch(s);
	if (r == 0)
		watch_parent(s);
	if (r < 0) {
		snprintf(err, errlen, "%s: Path: cannot watch '%s': %s", c->path, s->dir,
			 strerror(-r));
		if (s->ifd >= 0)
			close(s->ifd);
		free(s);
		return r;
	}
	*ret = s;
	return 0;
}

static void dangling_clear(struct gw_source *s)
{
	for (size_t i = 0; i < s->n_dangling; i++)
		free(s->dangling[i]);
	free(s->dangling);
	s->dangling = NULL;
	s->n_dangling = 0;
}

static void dir_close(struct gw_source *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_files; i++)
		dfile_clear(&s->files[i]);
	free(s->files);
	for (size_t i = 0; i < s->n_changed; i++)
		free(s->changed[i]);
	dangling_clear(s);
	if (s->ifd >= 0)
		close(s->ifd); /* and every watch with it */
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
	if (s->only[0]) {
		/* One file: no folder to list, only whether it is there. */
		char path[PATH_MAX + NAME_MAX + 2];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", s->dir, s->only);
		if (lstat(path, &st) < 0)
			return errno == ENOENT ? 0 : -errno;
		v = malloc(sizeof(*v));
		if (!v || !(v[0] = strdup(s->only))) {
			free(v);
			return -ENOMEM;
		}
		*ret = v;
		*n = 1;
		return 0;
	}
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

/* One file read again against the index of its last good parse. */
struct reread {
	char *text;
	size_t len;
	size_t map_len;		 /* text maps the file, this size (0: wgnl_file_read()) */
	struct wgnl_sync_text t; /* its sections (wgnl_sync_text_split()) */
	uint32_t *match;	 /* per section: its index entry + 1, 0: new */
	uint64_t *seen;		 /* per index entry: matched (a bitmap) */
	size_t n_new;		 /* sections not in the index */
	bool split;		 /* t holds the split */
	bool other;		 /* the bytes outside [Peer] sections changed */
	struct wgnl_config *cfg; /* the new sections parsed, in order (NULL: none) */
	char *gather;		 /* the text cfg was parsed from */
	size_t gather_len;
};

static void reread_clear(struct reread *rr)
{
	if (rr->text && rr->map_len) {
		munmap(rr->text, rr->map_len);
	} else if (rr->text) {
		wgnl_wipe(rr->text, rr->len);
		wgnl_free(rr->text);
	}
	if (rr->gather) {
		wgnl_wipe(rr->gather, rr->gather_len);
		free(rr->gather);
	}
	wgnl_sync_text_clear(&rr->t);
	free(rr->match);
	free(rr->seen);
	wgnl_config_free(rr->cfg);
	memset(rr, 0, sizeof(*rr));
}

/* Append @n bytes at @p to @buf (*off), with a newline if they end without
 * one (a file's last line). */
static void put_part(char *buf, size_t *off, const char *p, size_t n)
{
	if (!n)
		return;
	memcpy(buf + *off, p, n);
	*off += n;
	if (p[n - 1] != '\n')
		buf[(*off)++] = '\n';
}

/* Match the sections of rr->text against @f's index and parse only the new
 * ones (with the bytes outside [Peer] sections, when those changed, so
 * what they say is checked too). 0: rr->cfg holds exactly one peer per new
 * section, in order (NULL when none); -EAGAIN: parse the file whole (no
 * index, a section twice, a new section that does not parse alone or
 * does not hold exactly one peer); -ENOMEM. */
static int reread_match(const struct dfile *f, const char *path, struct reread *rr)
{
	const struct wgnl_sync_text *t = &rr->t;
	struct wgnl_config_error e;
	size_t total = 0, off = 0, prev = 0;
	char *buf;
	int r;

	if (!f->have_idx)
		return -EAGAIN;
	r = wgnl_sync_text_split(rr->text, rr->len, &rr->t);
	if (r < 0)
		return r;
	rr->split = true;
	rr->other = t->iface_h[0] != f->other_h[0] || t->iface_h[1] != f->other_h[1];
	rr->match = calloc(t->n_sec ? t->n_sec : 1, sizeof(*rr->match));
	rr->seen = calloc(f->idx.n / 64 + 1, sizeof(*rr->seen));
	if (!rr->match || !rr->seen)
		return -ENOMEM;
	for (size_t i = 0; i < t->n_sec; i++) {
		ssize_t j = sx_find(&f->idx, t->sec[i].h[0]);

		if (j < 0) {
			rr->n_new++;
			total += t->sec[i].orig_len + 1;
			continue;
		}
		if (rr->seen[j / 64] & (1ULL << (j % 64)))
			return -EAGAIN; /* the same section twice: the parser tells */
		rr->seen[j / 64] |= 1ULL << (j % 64);
		rr->match[i] = (uint32_t)j + 1;
	}
	if (!rr->n_new && !rr->other)
		return 0;
	if (rr->other)
		total += rr->len + t->n_sec + 1;
	buf = rr->gather = malloc(total + 1);
	if (!buf)
		return -ENOMEM;
	/* The bytes outside [Peer] sections first: before the first, between
	 * sections (another kind of section), after the last. */
	for (size_t i = 0; rr->other && i <= t->n_sec; i++) {
		size_t to = i < t->n_sec ? t->sec[i].orig_off : rr->len;

		put_part(buf, &off, rr->text + prev, to - prev);
		if (i < t->n_sec)
			prev = t->sec[i].orig_off + t->sec[i].orig_len;
	}
	for (size_t i = 0; i < t->n_sec; i++)
		if (!rr->match[i])
			put_part(buf, &off, rr->text + t->sec[i].orig_off, t->sec[i].orig_len);
	buf[off] = '\0';
	memset(&e, 0, sizeof(e));
	/* wg-quick keys in an [Interface] are fine: it is ignored. Endpoints
	 * are not resolved: peers keep none. */
	rr->gather_len = off;
	r = wgnl_config_parse(buf, off, path, WGNL_CONFIG_QUICK, &rr->cfg, &e);
	if (r < 0 || rr->cfg->dev->n_peers != rr->n_new)
		return -EAGAIN;
	return 0;
}

/* Map regular file @path read-only into rr->text (rr->map_len). -errno, or
 * -EAGAIN when it is empty, not regular, or too big to map. Not populated:
 * the faults of the one pass over it map the pages around each (fault-
 * around), cheaper than MAP_POPULATE measured in the guest. */
static int reread_map(struct reread *rr, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), r = -EAGAIN;
	struct stat st;
	void *m;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    st.st_size <= (256 << 20)) {
		m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m != MAP_FAILED) {
			rr->text = m;
			rr->len = rr->map_len = (size_t)st.st_size;
			r = 0;
		}
	}
	close(fd);
	return r;
}

/* @fn(@rr, @arg) over file @path mapped into rr->text, under the SIGBUS
 * guard. The mapping stays until reread_clear() (so unmapping is not paid
 * before the change is applied), but nothing reads rr->text after @fn: what
 * @fn keeps of the text it copies. -EAGAIN when the file cannot be mapped
 * or shrank meanwhile (the caller reads it the ordinary way), else what
 * @fn returns. */
static int mapped_call(struct reread *rr, const char *path,
		       int (*fn)(struct reread *, const void *), const void *arg)
{
	sigjmp_buf jb;
	int r;

	if (reread_map(rr, path) < 0)
		return -EAGAIN;
	if (sigsetjmp(jb, 1) == 0) {
		bus_lo = rr->text;
		bus_hi = rr->text + rr->map_len;
		bus_jmp = &jb;
		r = fn(rr, arg);
		bus_jmp = NULL;
		return r == -EAGAIN ? -EINVAL : r;
	}
	bus_jmp = NULL;
	gw_log("info", "source: %s changed while read; reading it again", path);
	reread_clear(rr);
	return -EAGAIN;
}

struct match_arg {
	const struct dfile *f;
	const char *path;
};

static int match_fn(struct reread *rr, const void *arg)
{
	const struct match_arg *m = arg;

	return reread_match(m->f, m->path, rr);
}

/* reread_match() over the file mapped; read whole (a copy) when it
 * cannot be mapped or shrank meanwhile. 0 or -EAGAIN (parse it whole). */
static int reread_match_mapped(const struct dfile *f, const char *path, struct reread *rr)
{
	struct match_arg m = { f, path };
	int r = mapped_call(rr, path, match_fn, &m);

	if (r != -EAGAIN)
		return r < 0 ? -EAGAIN : 0;
	if (wgnl_file_read(path, 0, &rr->text, &rr->len) < 0)
		return -EAGAIN;
	return reread_match(f, path, rr) < 0 ? -EAGAIN : 0;
}

static int split_fn(struct reread *rr, const void *arg)
{
	(void)arg;
	return wgnl_sync_text_split(rr->text, rr->len, &rr->t);
}

/* The text hash (wgnl_sync_text_split()'s text_h) of file @path as it is
 * now. 0 or -errno. */
static int file_text_h(const char *path, uint64_t th[2])
{
	struct reread rr = { 0 };
	int r = mapped_call(&rr, path, split_fn, NULL);

	if (r == -EAGAIN) {
		r = wgnl_file_read(path, 0, &rr.text, &rr.len);
		if (r == 0)
			r = split_fn(&rr, NULL);
	}
	if (r == 0) {
		th[0] = rr.t.text_h[0];
		th[1] = rr.t.text_h[1];
	}
	reread_clear(&rr);
	return r;
}

/* Remember @f's sections: section i of @t holds the key @keys[i]. Without
 * memory for the index, the keys alone (the next read parses whole). */
static void remember(struct dfile *f, const struct wgnl_sync_text *t, wgnl_key *keys, size_t n_keys)
{
	free(f->keys);
	f->keys = NULL;
	f->n_keys = 0;
	if (t && t->n_sec == n_keys &&
	    sx_build(&f->idx, t->sec, (const wgnl_key *)keys, n_keys) == 0) {
		f->have_idx = true;
		f->other_h[0] = t->iface_h[0];
		f->other_h[1] = t->iface_h[1];
		f->text_h[0] = t->text_h[0];
		f->text_h[1] = t->text_h[1];
		free(keys);
		return;
	}
	sx_free(&f->idx);
	f->have_idx = false;
	f->keys = keys;
	f->n_keys = n_keys;
}

/* Remember @f's peers as parsed from the whole file (@cfg, its sections @t:
 * one to one, in order). 0 or -ENOMEM (nothing remembered). */
static int remember_peers(struct dfile *f, const struct wgnl_sync_text *t,
			  const struct wgnl_config *cfg)
{
	size_t n = cfg->dev->n_peers;
	wgnl_key *keys = malloc((n ? n : 1) * sizeof(*keys));

	if (!keys)
		return -ENOMEM;
	for (size_t k = 0; k < n; k++)
		memcpy(keys[k], cfg->dev->peers[k].public_key, WGNL_KEY_LEN);
	remember(f, t, keys, n);
	return 0;
}

/* The new sections of a re-read (reread_match() == 0): the keys of the
 * unchanged ones into @keep (*n_keep), the index made anew. */
static int reread_keep(struct dfile *f, const char *path, struct reread *rr, wgnl_key *keep,
		       size_t *n_keep)
{
	const struct wgnl_sync_text *t = &rr->t;
	wgnl_key *keys = malloc((t->n_sec ? t->n_sec : 1) * sizeof(*keys));
	size_t ni = 0;

	if (!keys)
		return -ENOMEM;
	*n_keep = 0;
	for (size_t i = 0; i < t->n_sec; i++) {
		if (rr->match[i]) {
			memcpy(keys[i], f->idx.e[rr->match[i] - 1].key, WGNL_KEY_LEN);
			memcpy(keep[(*n_keep)++], keys[i], WGNL_KEY_LEN);
		} else {
			memcpy(keys[i], rr->cfg->dev->peers[ni++].public_key, WGNL_KEY_LEN);
		}
	}
	gw_log("info", "source: %s: %zu of %zu [Peer] sections changed, only those parsed", path,
	       rr->n_new, t->n_sec);
	remember(f, t, keys, t->n_sec);
	return 0;
}

/* Where in the file (1 for the first [Peer]) each new section of a
 * re-read lies, for messages; NULL without memory (then by count). */
static size_t *new_positions(const struct reread *rr)
{
	size_t *pos = malloc((rr->n_new ? rr->n_new : 1) * sizeof(*pos)), k = 0;

	for (size_t i = 0; pos && i < rr->t.n_sec; i++)
		if (!rr->match[i])
			pos[k++] = i + 1;
	return pos;
}

/* Read file @f (named f->name in the folder): 0 with the peers to hand
 * over as rows in *ret (NULL: none new) and in @keep (*n_keep, malloc'd
 * or NULL) the keys of peers that stand as they were (sections unchanged
 * since the last good parse); <0 when the file does not parse (reported;
 * its last good keys stay). @whole: parse it whole, index or not (the
 * timer's and SIGHUP's safety net). *pos (malloc'd, may be NULL): the
 * position in the file of each peer in *ret, when not all were parsed. */
static int read_file(struct gw_source *s, struct dfile *f, const struct stat *st,
		     struct gw_sink *sink, bool whole, struct wgnl_config **ret, wgnl_key **keep,
		     size_t *n_keep, size_t **pos)
{
	struct wgnl_config_error e;
	struct wgnl_config *cfg = NULL;
	struct reread rr = { 0 };
	char path[PATH_MAX + NAME_MAX + 2], why[PATH_MAX + NAME_MAX + 512];
	int r;

	*ret = NULL;
	*keep = NULL;
	*n_keep = 0;
	*pos = NULL;
	f->st = *st;
	snprintf(path, sizeof(path), "%s/%s", s->dir, f->name);
	memset(&e, 0, sizeof(e));
	r = wgnl_file_read(path, 0, &rr.text, &rr.len);
	if (r == 0) {
		if (!whole && f->have_idx && !f->bad && reread_match(f, path, &rr) == 0) {
			*keep = malloc((rr.t.n_sec ? rr.t.n_sec : 1) * sizeof(**keep));
			if (*keep && reread_keep(f, path, &rr, *keep, n_keep) == 0) {
				cfg = rr.cfg; /* NULL: no new section */
				*pos = new_positions(&rr);
				rr.cfg = NULL;
				goto done;
			}
			free(*keep);
			*keep = NULL;
			*n_keep = 0;
		}
		if (!rr.split && wgnl_sync_text_split(rr.text, rr.len, &rr.t) < 0)
			memset(&rr.t, 0, sizeof(rr.t));
		r = wgnl_config_parse(rr.text, rr.len, path, WGNL_CONFIG_QUICK, &cfg, &e);
	} else {
		r = wgnl_config_parse_file(path, WGNL_CONFIG_QUICK, &cfg, &e);
	}
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
		goto out;
	}
	/* Sections and peers one to one, in order: remembered by section. */
	if (remember_peers(f, &rr.t, cfg) < 0) {
		/* Cannot remember it: as if it did not parse. */
		wgnl_config_free(cfg);
		cfg = NULL;
		f->bad = true;
		r = -ENOMEM;
		goto out;
	}
done:
	warn_secret_mode(f, path, st, cfg);
	if (f->bad)
		gw_log("info", "source: %s parses again", path);
	f->bad = false;
	f->good = true;
	*ret = cfg;
	r = 0;
out:
	reread_clear(&rr);
	return r;
}

/* The keys of one rescan and the file each came from (a key in two files is
 * the second file's mistake): open addressing, grown at half full. */
struct kslot {
	wgnl_key key;
	uint32_t file; /* index + 1; 0: empty */
};

struct keyset {
	struct kslot *v;
	size_t mask, n;
};

static size_t kslot_of(const struct keyset *ks, const uint8_t *key)
{
	uint64_t a, b;
	size_t i;

	memcpy(&a, key, 8);
	memcpy(&b, key + 8, 8);
	i = (size_t)((a ^ (b * 0x9e3779b97f4a7c15ULL)) >> 7) & ks->mask;
	while (ks->v[i].file && memcmp(ks->v[i].key, key, WGNL_KEY_LEN))
		i = (i + 1) & ks->mask;
	return i;
}

/* 1 when added, 0 when there already (*owner: its file's index), -ENOMEM. */
static int keyset_add(struct keyset *ks, const uint8_t *key, uint32_t file, uint32_t *owner)
{
	size_t i;

	if ((ks->n + 1) * 2 > ks->mask + 1 || !ks->v) {
		size_t cap = ks->v ? (ks->mask + 1) * 2 : 1024;
		struct keyset g = { calloc(cap, sizeof(*g.v)), cap - 1, ks->n };

		if (!g.v)
			return -ENOMEM;
		for (size_t j = 0; ks->v && j <= ks->mask; j++)
			if (ks->v[j].file)
				g.v[kslot_of(&g, ks->v[j].key)] = ks->v[j];
		free(ks->v);
		*ks = g;
	}
	i = kslot_of(ks, key);
	if (ks->v[i].file) {
		*owner = ks->v[i].file - 1;
		return 0;
	}
	memcpy(ks->v[i].key, key, WGNL_KEY_LEN);
	ks->v[i].file = file + 1;
	ks->n++;
	return 1;
}

/* The keys of @f's last good parse: in the section index when there is
 * one. */
static size_t dfile_count(const struct dfile *f)
{
	return f->have_idx ? f->idx.n : f->n_keys;
}

static const uint8_t *dfile_key(const struct dfile *f, size_t k)
{
	return f->have_idx ? f->idx.e[k].key : f->keys[k];
}

/* Whether @name in the folder is a symlink. */
static bool is_link(const struct gw_source *s, const char *name)
{
	char path[PATH_MAX + NAME_MAX + 2];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", s->dir, name);
	return lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
}

/* Stop watching @f's target, unless another file of the folder (a second
 * symlink to it) shares the watch. */
static void link_drop(struct gw_source *s, struct dfile *f)
{
	int wd = f->lwd;

	if (!wd)
		return;
	f->lwd = 0;
	for (size_t i = 0; i < s->n_files; i++)
		if (s->files[i].lwd == wd)
			return;
	inotify_rm_watch(s->ifd, wd);
}

/* @f (in the folder) a symlink: watch the file it names, whose changes
 * through its own path (edited in place, renamed over, deleted) make no
 * event in the folder. Called after each look at @f; the watch follows
 * the inode the link names now. */
static void link_set(struct gw_source *s, struct dfile *f)
{
	char path[PATH_MAX + NAME_MAX + 2];
	int wd = 0;

	if (is_link(s, f->name)) {
		snprintf(path, sizeof(path), "%s/%s", s->dir, f->name);
		wd = inotify_add_watch(s->ifd, path, LINK_MASK);
		if (wd < 0) {
			if (!s->lw_warned)
				gw_log("warning",
				       "source: cannot watch the file %s points to: %s; its changes "
				       "wait for the next full read",
				       path, strerror(errno));
			s->lw_warned = true;
			wd = 0;
		}
	}
	if (wd == f->lwd)
		return;
	link_drop(s, f);
	f->lwd = wd;
}

/* @name (in the folder) is not there as a file: if it is a symlink to
 * nothing (its target deleted), remember it for dir_tick() to look at. */
static void dangling_note(struct gw_source *s, const char *name)
{
	char path[PATH_MAX + NAME_MAX + 2], **v;
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", s->dir, name);
	if (!is_link(s, name) || stat(path, &st) == 0 || errno != ENOENT)
		return; /* not a symlink, or to something (a folder...) */
	for (size_t i = 0; i < s->n_dangling; i++)
		if (!strcmp(s->dangling[i], name))
			return;
	v = realloc(s->dangling, (s->n_dangling + 1) * sizeof(*v));
	if (!v)
		return; /* the full read finds it */
	s->dangling = v;
	if ((v[s->n_dangling] = strdup(name)))
		s->n_dangling++;
}

/* Rescan the folder and hand every peer of every file to @sink as one full
 * read. */
static int rescan(struct gw_source *s, struct gw_sink *sink, bool force)
{
	struct keyset keys = { 0 };
	struct dfile *nf;
	char **names;
	size_t n, dups = 0;
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
	for (size_t j = 0; j < s->n_files; j++) {
		/* Files gone. (A watch a file still there shares is made
		 * again by its link_set() below.) */
		if (s->files[j].lwd)
			inotify_rm_watch(s->ifd, s->files[j].lwd);
		dfile_clear(&s->files[j]);
	}
	free(s->files);
	s->files = nf;
	s->n_files = n;

	/* Which file each key came from this time: a key in two files is
	 * the second file's mistake (else the peer would flap between them
	 * on every rescan). */
	s->gen++;
	dangling_clear(s);
	sink->full_begin(sink);
	for (size_t i = 0; i < s->n_files; i++) {
		struct dfile *f = &s->files[i];
		char path[PATH_MAX + NAME_MAX + 2];
		struct wgnl_config *cfg;
		uint32_t owner;
		wgnl_key *kept;
		size_t n_kept, *pos = NULL;
		struct stat st;
		bool read;

		snprintf(path, sizeof(path), "%s/%s", s->dir, f->name);
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
			/* Gone meanwhile, or not a file: as if absent. */
			link_drop(s, f);
			dfile_clear(f);
			f->bad = false;
			dangling_note(s, f->name);
			continue;
		}
		link_set(s, f);
		cfg = NULL;
		kept = NULL;
		n_kept = 0;
		read = force || !(f->good || f->bad) || !same_stat(&f->st, &st);
		if (!read || read_file(s, f, &st, sink, force, &cfg, &kept, &n_kept, &pos) < 0) {
			/* Unchanged, or bad: its peers stay as they are. */
			for (size_t k = 0; k < dfile_count(f); k++) {
				dups += keyset_add(&keys, dfile_key(f, k), (uint32_t)i, &owner) ==
					0;
				sink->keep(sink, dfile_key(f, k));
			}
			continue;
		}
		/* Peers of unchanged sections stand as they are. */
		for (size_t k = 0; k < n_kept; k++) {
			dups += keyset_add(&keys, kept[k], (uint32_t)i, &owner) == 0;
			sink->keep(sink, kept[k]);
		}
		free(kept);
		if (!cfg) {
			free(pos);
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

			r = keyset_add(&keys, row.peer->public_key, (uint32_t)i, &owner);
			if (r == 0) {
				dups++;
				snprintf(why, sizeof(why),
					 "%s/%s: peer %zu: its PublicKey is already in %s; skipped",
					 s->dir, f->name, pos ? pos[k] : k + 1,
					 s->files[owner].name);
				sink->bad(sink, 0, why);
				continue;
			}
			sink->row(sink, &row);
		}
		wgnl_config_free(cfg);
		free(pos);
	}
	free(keys.v);
	s->dups = dups > 0;
	sink->full_end(sink, s->gen);
	s->last_ok = gw_now_ms();
	/* The parse and the key index were big and are gone. */
	malloc_trim(0);
	return 0;
}

/* A peer of a section gone from a file: removed, unless a new section
 * holds it again. */
struct gone {
	wgnl_key key;
	bool again;
};

static int gone_cmp(const void *a, const void *b)
{
	return memcmp(a, b, WGNL_KEY_LEN);
}

/* The one file of the folder that changed since the last rescan, with its
 * stat in @st; NULL when none did. *full: the folder changed otherwise (a
 * file came or went, two changed, the folder cannot be read). */
static struct dfile *one_changed(struct gw_source *s, struct stat *st, bool *full)
{
	struct dfile *f = NULL;
	char **names;
	size_t n;
	bool same;

	*full = true;
	if (list_names(s, &names, &n) < 0)
		return NULL;
	same = n == s->n_files;
	for (size_t i = 0; i < n; i++) {
		same = same && !strcmp(names[i], s->files[i].name);
		free(names[i]);
	}
	free(names);
	if (!same)
		return NULL;
	for (size_t i = 0; i < s->n_files; i++) {
		char path[PATH_MAX + NAME_MAX + 2];
		struct stat now;

		snprintf(path, sizeof(path), "%s/%s", s->dir, s->files[i].name);
		if (stat(path, &now) < 0 || !S_ISREG(now.st_mode))
			return NULL;
		if ((s->files[i].good || s->files[i].bad) && same_stat(&s->files[i].st, &now))
			continue;
		if (f)
			return NULL; /* two: the full rescan */
		f = &s->files[i];
		*st = now;
	}
	*full = false;
	return f;
}

/* The rows of a quick rescan (change id @gen): the removal of the peer
 * with key @key; every peer of @cfg (NULL: none). */
static void hand_removal(struct gw_sink *sink, int64_t gen, const uint8_t *key)
{
	struct wgnl_peer p = { 0 };
	struct gw_row row = { .change_id = gen, .removed = true, .peer = &p };

	memcpy(p.public_key, key, WGNL_KEY_LEN);
	sink->row(sink, &row);
}

static void hand_peers(struct gw_sink *sink, int64_t gen, const struct wgnl_config *cfg)
{
	for (size_t k = 0; cfg && k < cfg->dev->n_peers; k++) {
		struct gw_row row = { .change_id = gen, .peer = &cfg->dev->peers[k] };

		sink->row(sink, &row);
	}
}

/* The quick rescan of file @f, changed (its stat now @now), whose last
 * parse was good and is indexed by section, the last full rescan having
 * found no key in two files. It hands over only what changed, as rows: the
 * peers of its new sections, the removal of the peers of its sections
 * gone. No full read (nothing marked, kept or swept): the cost is reading
 * and hashing the file, not handing over every peer. 0, or -EAGAIN when
 * the full rescan must decide (and report). */
static int delta_file(struct gw_source *s, struct gw_sink *sink, struct dfile *f,
		      const struct stat *now, const struct timespec *t0)
{
	char path[PATH_MAX + NAME_MAX + 2];
	struct reread rr = { 0 };
	struct gone *gone = NULL;
	size_t *gone_at = NULL, n_gone = 0, n_sec;
	struct stat st = *now;
	int r = -EAGAIN;

	if (!f->good || f->bad || !f->have_idx)
		return -EAGAIN;
	snprintf(path, sizeof(path), "%s/%s", s->dir, f->name);
	if (reread_match_mapped(f, path, &rr) < 0)
		goto out;
	n_sec = rr.t.n_sec;
	/* The sections gone: index entries no section matched. */
	n_gone = f->idx.n - (n_sec - rr.n_new);
	gone = malloc((n_gone ? n_gone : 1) * sizeof(*gone));
	gone_at = malloc((n_gone ? n_gone : 1) * sizeof(*gone_at));
	if (!gone || !gone_at)
		goto out;
	for (size_t j = 0, k = 0; j < f->idx.n && k < n_gone; j++) {
		if (rr.seen[j / 64] & (1ULL << (j % 64)))
			continue;
		memcpy(gone[k].key, f->idx.e[j].key, WGNL_KEY_LEN);
		gone[k].again = false;
		gone_at[k++] = j;
	}
	qsort(gone, n_gone, sizeof(*gone), gone_cmp);
	/* A new section's key must be new, or one of a section gone from this
	 * file: anything else (another section of it, another file) is a key
	 * twice, which the full rescan reports. */
	for (size_t k = 0; rr.cfg && k < rr.cfg->dev->n_peers; k++) {
		const uint8_t *key = rr.cfg->dev->peers[k].public_key;
		struct gone *g = bsearch(key, gone, n_gone, sizeof(*gone), gone_cmp);

		if (g && !g->again)
			g->again = true;
		else if (g || sink->has(sink, key))
			goto out;
	}
	warn_secret_mode(f, path, &st, rr.cfg);
	s->gen++;
	for (size_t k = 0; k < n_gone; k++)
		if (!gone[k].again)
			hand_removal(sink, s->gen, gone[k].key);
	hand_peers(sink, s->gen, rr.cfg);
	sink->position(sink, s->gen);
	s->last_ok = gw_now_ms();
	gw_log("info",
	       "source: %s: %zu of %zu [Peer] sections changed, only those parsed; %zu gone; no full read ms=%.3f",
	       path, rr.n_new, n_sec, n_gone, gw_elapsed_ms(t0));
	/* The change goes to the device now: it does not wait for the
	 * bookkeeping below, nor for the mapping to go. */
	if (sink->flush)
		sink->flush(sink);
	/* The index follows: gone entries out (from the last, as the last
	 * entry moves into a hole), new ones in. */
	for (size_t k = n_gone; k-- > 0;)
		sx_del(&f->idx, gone_at[k]);
	r = 0;
	for (size_t i = 0, k = 0; i < n_sec && r == 0; i++)
		if (!rr.match[i])
			r = sx_add(&f->idx, rr.t.sec[i].h[0], rr.cfg->dev->peers[k++].public_key);
	if (r < 0) {
		/* No memory for the index: read the file whole next time. */
		sx_free(&f->idx);
		f->have_idx = false;
		f->good = false;
		s->due_ms = gw_now_ms();
		r = 0;
	} else {
		f->st = st;
		f->other_h[0] = rr.t.iface_h[0];
		f->other_h[1] = rr.t.iface_h[1];
		f->text_h[0] = rr.t.text_h[0];
		f->text_h[1] = rr.t.text_h[1];
	}
out:
	free(gone);
	free(gone_at);
	reread_clear(&rr);
	return r;
}

/* The quick rescan when inotify did not say which files changed (its queue
 * overflowed, the folder was switched): exactly one file changed, found by
 * listing the folder and comparing every file's stat. */
static int rescan_delta(struct gw_source *s, struct gw_sink *sink)
{
	struct timespec t0;
	struct dfile *f;
	struct stat st;
	bool full;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (s->dups || !sink->has)
		return -EAGAIN;
	f = one_changed(s, &st, &full);
	if (full)
		return -EAGAIN;
	if (!f)
		return 0; /* an event that changed nothing */
	if (delta_file(s, sink, f, &st, &t0) < 0)
		return -EAGAIN;
	link_set(s, f);
	return 0;
}

/* The index of the file named @name in s->files (sorted by name), or -1. */
static ssize_t file_at(const struct gw_source *s, const char *name)
{
	size_t lo = 0, hi = s->n_files;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s->files[mid].name, name);

		if (!c)
			return (ssize_t)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* A file new in the folder: parsed whole, remembered by section, its peers
 * handed over when every key is new. 0, or -EAGAIN: it does not parse, or
 * holds a key twice or one a peer has already (the full rescan reports it
 * with its file and line). */
static int add_file(struct gw_source *s, struct gw_sink *sink, const char *name,
		    const struct stat *st)
{
	char path[PATH_MAX + NAME_MAX + 2];
	struct reread rr = { 0 };
	struct wgnl_config *cfg = NULL;
	struct dfile *v, *f;
	size_t at, n;
	int r = -EAGAIN;

	snprintf(path, sizeof(path), "%s/%s", s->dir, name);
	if (wgnl_file_read(path, 0, &rr.text, &rr.len) < 0 ||
	    wgnl_config_parse(rr.text, rr.len, path, WGNL_CONFIG_QUICK, &cfg, NULL) < 0)
		goto out;
	n = cfg->dev->n_peers;
	for (size_t k = 0; k < n; k++) {
		const uint8_t *key = cfg->dev->peers[k].public_key;

		if (sink->has(sink, key))
			goto out;
		for (size_t j = 0; j < k; j++)
			if (!memcmp(cfg->dev->peers[j].public_key, key, WGNL_KEY_LEN))
				goto out;
	}
	if (wgnl_sync_text_split(rr.text, rr.len, &rr.t) < 0)
		memset(&rr.t, 0, sizeof(rr.t));
	v = realloc(s->files, (s->n_files + 1) * sizeof(*v));
	if (!v) {
		r = -ENOMEM;
		goto out;
	}
	s->files = v;
	for (at = 0; at < s->n_files && strcmp(s->files[at].name, name) < 0; at++)
		;
	memmove(&s->files[at + 1], &s->files[at], (s->n_files - at) * sizeof(*v));
	s->n_files++;
	f = &s->files[at];
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->st = *st;
	/* Without memory to remember it, it stays unread: the full rescan
	 * reads it. */
	if (remember_peers(f, &rr.t, cfg) < 0) {
		r = -ENOMEM;
		goto out;
	}
	f->good = true;
	warn_secret_mode(f, path, st, cfg);
	s->gen++;
	hand_peers(sink, s->gen, cfg);
	sink->position(sink, s->gen);
	gw_log("info", "source: %s: a new file, %zu peers; no full read", path, n);
	r = 0;
out:
	wgnl_config_free(cfg);
	reread_clear(&rr);
	return r;
}

/* File s->files[@i] gone from the folder: the removal of its last good
 * peers handed over (no other file holds them: s->dups is false). */
static void drop_file(struct gw_source *s, struct gw_sink *sink, size_t i)
{
	struct dfile *f = &s->files[i];
	size_t n = dfile_count(f);

	s->gen++;
	for (size_t k = 0; k < n; k++)
		hand_removal(sink, s->gen, dfile_key(f, k));
	sink->position(sink, s->gen);
	gw_log("info", "source: %s/%s: gone, its %zu peers removed; no full read", s->dir, f->name,
	       n);
	link_drop(s, f);
	dfile_clear(f);
	memmove(f, f + 1, (s->n_files - i - 1) * sizeof(*f));
	s->n_files--;
}

/* The quick rescan of the files inotify named (s->changed): each changed
 * one by its sections (delta_file()), each new one parsed whole, each gone
 * one's peers removed; the other files are not even stat'ed, so a folder
 * of 10,000 one-peer files costs what one file costs. Only while no key is
 * in two files, sink->has is there and inotify could say (dir_tick()).
 * 0, or -EAGAIN: the full rescan decides (what was handed over before it
 * is read again). */
static int rescan_names(struct gw_source *s, struct gw_sink *sink)
{
	struct timespec t0;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	qsort(s->changed, s->n_changed, sizeof(*s->changed), name_cmp);
	for (size_t i = 0; i < s->n_changed; i++) {
		char path[PATH_MAX + NAME_MAX + 2];
		const char *name = s->changed[i];
		ssize_t at = file_at(s, name);
		struct stat st;
		bool there;

		if (i && !strcmp(name, s->changed[i - 1]))
			continue;
		snprintf(path, sizeof(path), "%s/%s", s->dir, name);
		there = stat(path, &st) == 0;
		if (there && !S_ISREG(st.st_mode))
			return -EAGAIN;
		if (at >= 0 && there) {
			struct dfile *f = &s->files[at];

			if ((f->good || f->bad) && same_stat(&f->st, &st))
				continue;
			r = delta_file(s, sink, f, &st, &t0);
		} else if (at >= 0) {
			drop_file(s, sink, (size_t)at);
			r = 0;
		} else if (there) {
			r = add_file(s, sink, name, &st);
		} else {
			r = 0; /* came and went */
		}
		if (r < 0)
			return -EAGAIN;
		if (!there)
			dangling_note(s, name);
		else if ((at = file_at(s, name)) >= 0)
			link_set(s, &s->files[at]);
	}
	s->last_ok = gw_now_ms();
	if (sink->flush)
		sink->flush(sink);
	return 0;
}

/* Forget which files inotify named (after any rescan). */
static void forget_changed(struct gw_source *s)
{
	for (size_t i = 0; i < s->n_changed; i++)
		free(s->changed[i]);
	s->n_changed = 0;
	s->overflow = false;
}

/* rewatch() before a rescan. A folder not there (deleted, or between the
 * two renames of a swap) is logged once and looked for every second by
 * dir_tick(); the peers stay as they are meanwhile. 0 or -errno. */
static int follow(struct gw_source *s)
{
	int r = rewatch(s);

	if (r == 0) {
		if (s->missing)
			gw_log("info", "source: '%s' is there again", s->dir);
		s->missing = false;
		return 0;
	}
	if (!s->missing)
		gw_log("error",
		       "source: cannot watch '%s': %s; the peers stay as they are, looking again "
		       "every second",
		       s->dir, strerror(-r));
	s->missing = true;
	s->due_ms = gw_now_ms() + 1000;
	return r;
}

static int dir_full(struct gw_source *s, struct gw_sink *sink)
{
	s->due_ms = 0;
	forget_changed(s);
	/* A folder not there: nothing read, nothing to retry from the loop
	 * (dir_tick() looks again every second and reads it when it is back). */
	if (follow(s) < 0)
		return 0;
	return rescan(s, sink, true);
}

/* Remember that inotify named file @name (once is enough). */
static void note_changed(struct gw_source *s, const char *name)
{
	if (s->overflow)
		return;
	for (size_t i = 0; i < s->n_changed; i++)
		if (!strcmp(s->changed[i], name))
			return;
	if (s->n_changed == CHANGED_MAX || !(s->changed[s->n_changed] = strdup(name))) {
		s->overflow = true;
		return;
	}
	s->n_changed++;
}

/* The symlinks to nothing (dangling_note()): one whose target is back is
 * read as a changed file; one no longer a symlink is the folder's watch's
 * business. */
static void dangling_look(struct gw_source *s)
{
	size_t k = 0;

	for (size_t i = 0; i < s->n_dangling; i++) {
		char path[PATH_MAX + NAME_MAX + 2], *name = s->dangling[i];
		bool link = is_link(s, name);
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", s->dir, name);
		if (link && stat(path, &st) < 0) {
			s->dangling[k++] = name; /* still to nothing */
			continue;
		}
		if (link) {
			note_changed(s, name);
			if (!s->due_ms)
				s->due_ms = gw_now_ms();
		}
		free(name);
	}
	s->n_dangling = k;
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

			if (ev->mask & IN_Q_OVERFLOW) {
				hit = s->overflow = true;
			} else if (ev->wd == s->pwd && s->pwd >= 0) {
				if (ev->len && !strcmp(ev->name, s->base)) /* the folder itself */
					hit = s->overflow = true;
			} else if (ev->wd == s->wd) {
				if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
					hit = s->overflow = true;
				} else if (ev->len && wanted(s, ev->name) &&
					   (!(ev->mask & IN_CREATE) || is_link(s, ev->name))) {
					hit = true;
					note_changed(s, ev->name);
				}
			} else {
				/* The target of a symlinked file (or of several). */
				for (size_t i = 0; i < s->n_files; i++) {
					if (s->files[i].lwd != ev->wd)
						continue;
					if (ev->mask & IN_IGNORED) /* the watch is gone */
						s->files[i].lwd = 0;
					note_changed(s, s->files[i].name);
					hit = true;
				}
			}
			p += sizeof(*ev) + ev->len;
		}
	}
	if (hit)
		s->due_ms = gw_now_ms() + DEBOUNCE_MS;
	return 0;
}

static int dir_tick(struct gw_source *s, struct gw_sink *sink, int64_t now_ms)
{
	struct stat st;
	int r;

	/* Once a second, whether the path still names the folder watched: a
	 * symlink flipped on the way to it (Path = current/peers.d, current a
	 * release) makes no event in the folder nor in its parent. */
	if (now_ms >= s->next_look_ms) {
		s->next_look_ms = now_ms + 1000;
		dangling_look(s);
		if (!s->missing && !s->due_ms &&
		    (stat(s->dir, &st) < 0 || st.st_dev != s->wdev || st.st_ino != s->wino)) {
			s->overflow = true;
			s->due_ms = now_ms;
		}
	}
	if (!s->due_ms)
		return -1;
	if (now_ms < s->due_ms)
		return (int)(s->due_ms - now_ms);
	s->due_ms = 0;
	if (follow(s) < 0)
		return (int)(s->due_ms - now_ms);
	/* The files inotify named; else (it could not say) the one file that
	 * changed, found by stat; else the folder whole. */
	if (!s->dups && sink->has && !s->overflow && s->n_changed)
		r = rescan_names(s, sink);
	else
		r = rescan_delta(s, sink);
	if (r == -EAGAIN)
		rescan(s, sink, false);
	forget_changed(s);
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

/* Two FNV-1a lanes over each file's name (with its NUL) and text hash,
 * the second lane taking the hash's halves the other way round. */
static void id_add(uint64_t id[2], const char *name, const uint64_t th[2])
{
	id[0] = gw_fnv1a(gw_fnv1a(id[0], name, strlen(name) + 1), th, 2 * sizeof(*th));
	id[1] = gw_fnv1a(gw_fnv1a(gw_fnv1a(id[1], name, strlen(name) + 1), &th[1], sizeof(*th)),
			 &th[0], sizeof(*th));
}

/* The identity of the folder's content: the folder, every file's name and
 * text hash.
 * @now: as the files are on disk (start-up, before any read; no peer is
 * handed over); else as the last rescan left them, only when every file
 * parsed good and by sections, and no key was in two files. 0, -EAGAIN
 * (none to give), or -errno. */
static int dir_content_id(struct gw_source *s, bool now, uint64_t id[2])
{
	char path[PATH_MAX + NAME_MAX + 2];
	char **names;
	size_t n;
	int r = 0;

	id[0] = 0xcbf29ce484222325ULL;
	id[1] = 0x84222325cbf29ce4ULL;
	/* The folder too: the same files elsewhere are another registry. */
	id_add(id, s->dir, (const uint64_t[2]){ 0, 0 });
	if (!now) {
		if (s->dups)
			return -EAGAIN;
		for (size_t i = 0; i < s->n_files; i++) {
			const struct dfile *f = &s->files[i];

			if (!f->good || f->bad || !f->have_idx)
				return -EAGAIN;
			id_add(id, f->name, f->text_h);
		}
		return 0;
	}
	r = list_names(s, &names, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		uint64_t th[2];

		snprintf(path, sizeof(path), "%s/%s", s->dir, names[i]);
		if (r == 0)
			r = file_text_h(path, th);
		if (r == 0)
			id_add(id, names[i], th);
		free(names[i]);
	}
	free(names);
	return r;
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
	.content_id = dir_content_id,
	.close = dir_close,
};
