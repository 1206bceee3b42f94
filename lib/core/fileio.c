// SPDX-License-Identifier: MIT
/* Files: read one whole to EOF with a size bound; replace one atomically
 * (a fresh temporary file beside it, written, optionally synced, renamed
 * over it). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "internal.h"

/* A file larger than this is refused (-EFBIG): 10,000 peers with a few
 * allowed IPs each take about 2 MiB of config. */
#define FILE_MAX (256U << 20)

/* Grow a buffer that may hold secrets: a realloc() could leave the old
 * copy behind. */
static int grow_secret(char **buf, size_t *cap, size_t used, size_t max)
{
	size_t ncap = *cap * 2;
	char *n;

	if (ncap > max + 1)
		ncap = max + 1;
	if (ncap <= *cap)
		return -EFBIG;
	n = malloc(ncap);
	if (!n)
		return -ENOMEM;
	memcpy(n, *buf, used);
	wgnl_wipe(*buf, *cap);
	free(*buf);
	*buf = n;
	*cap = ncap;
	return 0;
}

int wgnl_file_read(const char *path, size_t max, char **ret, size_t *len)
{
	struct stat st;
	size_t cap = 4096, used = 0;
	char *buf;
	int fd, r = 0;

	*ret = NULL;
	*len = 0;
	if (!max || max > FILE_MAX)
		max = FILE_MAX;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return -EISDIR;
	}
	/* The size is only a hint (a pipe says 0, /proc files lie): the loop
	 * reads to EOF whatever it said. One byte more, so EOF shows without
	 * growing. */
	if (S_ISREG(st.st_mode) && st.st_size > 0) {
		if ((uint64_t)st.st_size > max) {
			close(fd);
			return -EFBIG;
		}
		cap = (size_t)st.st_size + 2;
	}
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t n;

		if (used + 1 >= cap) {
			r = grow_secret(&buf, &cap, used, max);
			if (r < 0)
				break;
		}
		n = read(fd, buf + used, cap - used - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (used > max) {
			r = -EFBIG;
			break;
		}
	}
	close(fd);
	if (r < 0) {
		wgnl_wipe(buf, cap);
		free(buf);
		return r;
	}
	buf[used] = '\0';
	*ret = buf;
	*len = used;
	return 0;
}

struct wgnl_file_tmp {
	char *path; /* the target (resolved with WGNL_FILE_FOLLOW) */
	char *tmp;  /* the temporary file beside it */
	unsigned flags;
	int fd;	 /* -1 once closed */
	int err; /* the first failure; commit then fails with it */
};

/* Drop @t: the temporary file goes unless @keep (it was renamed). */
static void tmp_free(struct wgnl_file_tmp *t, bool keep)
{
	if (t->fd >= 0)
		close(t->fd);
	if (!keep)
		unlink(t->tmp);
	free(t->tmp);
	free(t->path);
	free(t);
}

int wgnl_file_tmp_open(const char *path, unsigned flags, struct wgnl_file_tmp **ret)
{
	struct wgnl_file_tmp *t;
	size_t n;
	int r;

	*ret = NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->fd = -1;
	t->flags = flags;
	/* A link that does not resolve (dangling, or no file yet) is replaced
	 * itself, as without the flag. */
	if (flags & WGNL_FILE_FOLLOW)
		t->path = realpath(path, NULL);
	if (!t->path)
		t->path = strdup(path);
	n = t->path ? strlen(t->path) : 0;
	t->tmp = t->path ? malloc(n + sizeof(".tmp.XXXXXX")) : NULL;
	if (!t->tmp) {
		free(t->path);
		free(t);
		return -ENOMEM;
	}
	memcpy(t->tmp, t->path, n);
	memcpy(t->tmp + n, ".tmp.XXXXXX", sizeof(".tmp.XXXXXX"));
	/* The directory may be writable by others: a fixed or guessable name
	 * could be a planted symlink. mkostemp creates a fresh file (O_EXCL)
	 * and never follows one; the rename then replaces whatever is at
	 * @path, a symlink included, without following it. */
	t->fd = mkostemp(t->tmp, O_CLOEXEC);
	if (t->fd < 0) {
		r = -errno;
		free(t->tmp);
		free(t->path);
		free(t);
		return r;
	}
	if (fchmod(t->fd, flags & WGNL_FILE_PUBLIC ? 0644 : 0600) < 0) {
		r = -errno;
		tmp_free(t, false);
		return r;
	}
	*ret = t;
	return 0;
}

int wgnl_file_tmp_fd(const struct wgnl_file_tmp *t)
{
	return t->fd;
}

int wgnl_file_tmp_write(struct wgnl_file_tmp *t, const struct iovec *v, int n)
{
	if (t->err)
		return t->err;
	if (t->fd < 0)
		return t->err = -EBADF;
	for (int i = 0; i < n; i++) {
		const char *b = v[i].iov_base;
		size_t off = 0;

		while (off < v[i].iov_len) {
			ssize_t w = write(t->fd, b + off, v[i].iov_len - off);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return t->err = w < 0 ? -errno : -EIO;
			off += (size_t)w;
		}
	}
	return 0;
}

int wgnl_file_tmp_close(struct wgnl_file_tmp *t)
{
	if (t->fd < 0)
		return t->err;
	if (!t->err && (t->flags & WGNL_FILE_SYNC) && fsync(t->fd) < 0)
		t->err = -errno;
	if (close(t->fd) < 0 && !t->err)
		t->err = -errno;
	t->fd = -1;
	return t->err;
}

int wgnl_file_tmp_commit(struct wgnl_file_tmp *t)
{
	int r = wgnl_file_tmp_close(t);

	if (!r && rename(t->tmp, t->path) < 0)
		r = -errno;
	tmp_free(t, r == 0);
	return r;
}

void wgnl_file_tmp_abort(struct wgnl_file_tmp *t)
{
	if (t)
		tmp_free(t, false);
}

int wgnl_file_write_atomic(const char *path, const struct iovec *v, int n, unsigned flags)
{
	struct wgnl_file_tmp *t;
	int r = wgnl_file_tmp_open(path, flags, &t);

	if (r < 0)
		return r;
	r = wgnl_file_tmp_write(t, v, n);
	if (r < 0) {
		wgnl_file_tmp_abort(t);
		return r;
	}
	return wgnl_file_tmp_commit(t);
}
