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
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gw.h"
#include "wgkit/wgnl_sync.h"

#define DEBOUNCE_MS 0

/* A file as last read: only the keys of its last good parse are kept (the
 * peers themselves live once, in the apply engine's set), so an unchanged
 * or bad file costs 32 bytes a peer and is handed over as "keep". */
struct dfile {
	char name[NAME_MAX + 1];
	struct stat st; /* when last read (good or bad) */
	wgnl_key *keys; /* of the last good parse */
	size_t n_keys;
	/* The last good parse's [Peer] sections by the hash of their canonical
	 * text (wgnl_sync_text_make()), sorted: a changed file parses only the
	 * sections not in here. NULL when the sections and peers did not pair
	 * one to one (the next read parses whole). */
	struct secmap *map;
	size_t n_map;
	uint64_t iface_h[2];
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

struct secmap {
	uint64_t h[2];
	wgnl_key key;
};

static void dfile_clear(struct dfile *f)
{
	free(f->keys);
	f->keys = NULL;
	f->n_keys = 0;
	free(f->map);
	f->map = NULL;
	f->n_map = 0;
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

static int secmap_cmp(const void *a, const void *b)
{
	const struct secmap *x = a, *y = b;

	if (x->h[0] != y->h[0])
		return x->h[0] < y->h[0] ? -1 : 1;
	if (x->h[1] != y->h[1])
		return x->h[1] < y->h[1] ? -1 : 1;
	return 0;
}

/* The sections of @t that the last good parse of @f had too: their keys
 * into @keep (*n_keep), the others' original text gathered into *gathered
 * (their indices in @unk). 0, or -EAGAIN when the file must be parsed whole
 * (no map, the [Interface] part changed), or -ENOMEM. */
static int sections_split(const struct dfile *f, const char *text, const struct wgnl_sync_text *t,
			  wgnl_key *keep, size_t *n_keep, size_t *unk, size_t *n_unk,
			  char **gathered, size_t *glen)
{
	size_t total = 0, off = 0;
	char *buf;

	*n_keep = *n_unk = 0;
	if (!f->map || f->iface_h[0] != t->iface_h[0] || f->iface_h[1] != t->iface_h[1])
		return -EAGAIN;
	for (size_t i = 0; i < t->n_sec; i++) {
		struct secmap k = { .h = { t->sec[i].h[0], t->sec[i].h[1] } };
		const struct secmap *m = bsearch(&k, f->map, f->n_map, sizeof(k), secmap_cmp);

		if (m) {
			memcpy(keep[(*n_keep)++], m->key, WGNL_KEY_LEN);
		} else {
			unk[(*n_unk)++] = i;
			total += t->sec[i].orig_len + 1;
		}
	}
	buf = malloc(total + 1);
	if (!buf)
		return -ENOMEM;
	for (size_t j = 0; j < *n_unk; j++) {
		const struct wgnl_sync_section *sec = &t->sec[unk[j]];

		memcpy(buf + off, text + sec->orig_off, sec->orig_len);
		off += sec->orig_len;
		if (sec->orig_len && buf[off - 1] != '\n')
			buf[off++] = '\n'; /* the file's last line had none */
	}
	buf[off] = '\0';
	*gathered = buf;
	*glen = off;
	return 0;
}

/* Remember @f's sections for the next read: section i of @t holds the key
 * @key_of(i). */
static void secmap_save(struct dfile *f, const struct wgnl_sync_text *t, const wgnl_key *sec_keys)
{
	struct secmap *m = malloc((t->n_sec ? t->n_sec : 1) * sizeof(*m));

	free(f->map);
	f->map = m;
	f->n_map = m ? t->n_sec : 0;
	if (!m)
		return;
	for (size_t i = 0; i < t->n_sec; i++) {
		m[i].h[0] = t->sec[i].h[0];
		m[i].h[1] = t->sec[i].h[1];
		memcpy(m[i].key, sec_keys[i], WGNL_KEY_LEN);
	}
	qsort(m, t->n_sec, sizeof(*m), secmap_cmp);
	f->iface_h[0] = t->iface_h[0];
	f->iface_h[1] = t->iface_h[1];
}

/* Parse the [Peer] sections of @text that changed since the last good parse
 * of @f. 0 with *ret holding only the changed peers and @keep/@n_keep the
 * keys of the unchanged ones (f->keys and the map updated); -EAGAIN when
 * the file must be parsed whole. */
static int read_changed(struct dfile *f, const char *path, const char *text,
			const struct wgnl_sync_text *t, struct wgnl_config **ret, wgnl_key *keep,
			size_t *n_keep)
{
	struct wgnl_config_error e;
	struct wgnl_config *cfg = NULL;
	size_t *unk, n_unk, glen = 0, ki = 0, ui = 0;
	wgnl_key *sec_keys = NULL;
	char *gathered = NULL;
	int r;

	unk = malloc((t->n_sec ? t->n_sec : 1) * sizeof(*unk));
	if (!unk)
		return -ENOMEM;
	r = sections_split(f, text, t, keep, n_keep, unk, &n_unk, &gathered, &glen);
	if (r < 0)
		goto out;
	memset(&e, 0, sizeof(e));
	r = wgnl_config_parse(gathered, glen, path, WGNL_CONFIG_QUICK, &cfg, &e);
	wgnl_wipe(gathered, glen);
	/* A section that does not parse alone, or two that merged: the whole
	 * file's parse tells (and reports the right line). */
	if (r < 0 || cfg->dev->n_peers != n_unk) {
		r = -EAGAIN;
		goto out;
	}
	sec_keys = malloc((t->n_sec ? t->n_sec : 1) * sizeof(*sec_keys));
	if (!sec_keys) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < t->n_sec; i++) {
		if (ui < n_unk && unk[ui] == i)
			memcpy(sec_keys[i], cfg->dev->peers[ui++].public_key, WGNL_KEY_LEN);
		else
			memcpy(sec_keys[i], keep[ki++], WGNL_KEY_LEN);
	}
	gw_log("info", "source: %s: %zu of %zu [Peer] sections changed, only those parsed", path,
	       n_unk, t->n_sec);
	secmap_save(f, t, sec_keys);
	if (!f->map) {
		/* No memory for the map: the keys as a plain list. */
		free(f->keys);
		f->keys = sec_keys;
		f->n_keys = t->n_sec;
		sec_keys = NULL;
	} else {
		free(f->keys);
		f->keys = NULL;
		f->n_keys = 0;
	}
	*ret = cfg;
	cfg = NULL;
	r = 0;
out:
	wgnl_config_free(cfg);
	free(gathered);
	free(sec_keys);
	free(unk);
	return r;
}

/* Read file @f (named f->name in the folder): the peers to hand over as
 * rows in *ret, and in @keep (*n_keep, malloc'd) the keys of peers that
 * stand as they were (sections unchanged since the last good parse). *ret
 * NULL when the file does not parse (reported; its last good keys stay). */
static void read_file(struct gw_source *s, struct dfile *f, const struct stat *st,
		      struct gw_sink *sink, struct wgnl_config **ret, wgnl_key **keep,
		      size_t *n_keep)
{
	struct wgnl_config_error e;
	struct wgnl_config *cfg = NULL;
	struct wgnl_sync_text t = { 0 };
	char path[PATH_MAX + NAME_MAX + 2], why[PATH_MAX + NAME_MAX + 512];
	bool have_t = false;
	wgnl_key *keys;
	char *text = NULL;
	size_t len = 0;
	int r;

	*ret = NULL;
	*keep = NULL;
	*n_keep = 0;
	f->st = *st;
	snprintf(path, sizeof(path), "%s/%s", s->dir, f->name);
	memset(&e, 0, sizeof(e));
	r = wgnl_file_read(path, 0, &text, &len);
	if (r == 0) {
		have_t = wgnl_sync_text_make(text, len, &t) == 0;
		if (have_t && f->map && !f->bad) {
			*keep = malloc((t.n_sec ? t.n_sec : 1) * sizeof(**keep));
			if (*keep && read_changed(f, path, text, &t, &cfg, *keep, n_keep) == 0)
				goto done;
			free(*keep);
			*keep = NULL;
			*n_keep = 0;
		}
		/* wg-quick keys in the [Interface] of a whole config are fine:
		 * it is ignored. Endpoints are not resolved: peers keep none. */
		r = wgnl_config_parse(text, len, path, WGNL_CONFIG_QUICK, &cfg, &e);
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
	keys = malloc((cfg->dev->n_peers ? cfg->dev->n_peers : 1) * sizeof(*keys));
	if (!keys) {
		/* Cannot remember it: as if it did not parse. */
		wgnl_config_free(cfg);
		cfg = NULL;
		f->bad = true;
		goto out;
	}
	for (size_t k = 0; k < cfg->dev->n_peers; k++)
		memcpy(keys[k], cfg->dev->peers[k].public_key, WGNL_KEY_LEN);
	free(f->keys);
	f->keys = keys;
	f->n_keys = cfg->dev->n_peers;
	/* Sections and peers one to one, in order: remembered for next time. */
	if (have_t && t.n_sec == cfg->dev->n_peers) {
		secmap_save(f, &t, (const wgnl_key *)keys);
		if (f->map) { /* the keys live in the map */
			free(f->keys);
			f->keys = NULL;
			f->n_keys = 0;
		}
	} else {
		free(f->map);
		f->map = NULL;
		f->n_map = 0;
	}
done:
	if (f->bad)
		gw_log("info", "source: %s parses again", path);
	f->bad = false;
	f->good = true;
	*ret = cfg;
out:
	if (text) {
		wgnl_wipe(text, len);
		wgnl_free(text);
	}
	wgnl_sync_text_clear(&t);
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

/* The keys of @f's last good parse: in the section map when there is one. */
static size_t dfile_count(const struct dfile *f)
{
	return f->map ? f->n_map : f->n_keys;
}

static const uint8_t *dfile_key(const struct dfile *f, size_t k)
{
	return f->map ? f->map[k].key : f->keys[k];
}

/* Rescan the folder and hand every peer of every file to @sink as one full
 * read. */
static int rescan(struct gw_source *s, struct gw_sink *sink, bool force)
{
	struct keyset keys = { 0 };
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
	 * on every rescan). */
	s->gen++;
	sink->full_begin(sink);
	for (size_t i = 0; i < s->n_files; i++) {
		struct dfile *f = &s->files[i];
		char path[PATH_MAX + NAME_MAX + 2];
		struct wgnl_config *cfg;
		uint32_t owner;
		wgnl_key *kept;
		size_t n_kept;
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", s->dir, f->name);
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
			/* Gone meanwhile, or not a file: as if absent. */
			dfile_clear(f);
			f->bad = false;
			continue;
		}
		cfg = NULL;
		kept = NULL;
		n_kept = 0;
		if (force || !(f->good || f->bad) || !same_stat(&f->st, &st))
			read_file(s, f, &st, sink, &cfg, &kept, &n_kept);
		/* Peers of unchanged sections stand as they are. */
		for (size_t k = 0; k < n_kept; k++) {
			keyset_add(&keys, kept[k], (uint32_t)i, &owner);
			sink->keep(sink, kept[k]);
		}
		free(kept);
		if (!cfg) {
			/* Unchanged, or bad: its peers stay as they are. */
			for (size_t k = 0; k < dfile_count(f); k++) {
				keyset_add(&keys, dfile_key(f, k), (uint32_t)i, &owner);
				sink->keep(sink, dfile_key(f, k));
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

			r = keyset_add(&keys, row.peer->public_key, (uint32_t)i, &owner);
			if (r == 0) {
				snprintf(why, sizeof(why),
					 "%s/%s: peer %zu: its PublicKey is already in %s; skipped",
					 s->dir, f->name, k + 1, s->files[owner].name);
				sink->bad(sink, 0, why);
				continue;
			}
			sink->row(sink, &row);
		}
		wgnl_config_free(cfg);
	}
	free(keys.v);
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
