// SPDX-License-Identifier: MIT
/* Unit tests of lib/core/fileio.c: wgnl_file_read() (regular files, a FIFO read
 * to EOF, the size bound) and the atomic writer (round trip, mode, no
 * temporary file left on failure, a symlink at the target replaced or
 * followed as asked). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "wgkit/wgnl.h"

struct fx {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/wgkit-fileio-unit.XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/file", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* Entries of @dir other than "." and "..". */
static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static int put(const char *path, const char *text, unsigned flags)
{
	struct iovec v = { (void *)text, strlen(text) };

	return wgnl_file_write_atomic(path, &v, 1, flags);
}

static void assert_content(const char *path, const char *want)
{
	char *buf;
	size_t len;

	assert_int_equal(wgnl_file_read(path, 0, &buf, &len), 0);
	assert_int_equal(len, strlen(want));
	assert_string_equal(buf, want);
	free(buf);
}

static void unit__write_then_read__round_trip_mode_0600_no_temp(void **state)
{
	struct fx *f = *state;
	struct iovec v[3] = { { "one ", 4 }, { "", 0 }, { "two\n", 4 } };
	struct stat st;

	assert_int_equal(wgnl_file_write_atomic(f->path, v, 3, 0), 0);
	assert_content(f->path, "one two\n");
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	/* Replaced whole, durably, same mode. */
	assert_int_equal(put(f->path, "x", WGNL_FILE_SYNC), 0);
	assert_content(f->path, "x");
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(entries(f->dir), 1);
}

static void unit__public_flag__mode_0644_even_under_umask_077(void **state)
{
	struct fx *f = *state;
	mode_t old = umask(077);
	struct stat st;

	assert_int_equal(put(f->path, "metric 1\n", WGNL_FILE_PUBLIC), 0);
	umask(old);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
}

static void unit__empty_write__empty_file_read_as_empty_string(void **state)
{
	struct fx *f = *state;

	assert_int_equal(wgnl_file_write_atomic(f->path, NULL, 0, 0), 0);
	assert_content(f->path, "");
}

static void unit__fifo__read_to_eof(void **state)
{
	struct fx *f = *state;
	char *buf;
	size_t len;
	pid_t pid;
	int st;

	assert_int_equal(mkfifo(f->path, 0600), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(f->path, O_WRONLY);
		char chunk[1000];

		memset(chunk, 'a', sizeof(chunk));
		/* In pieces with pauses: a reader that stops at the first
		 * short read or at a size hint loses the rest. */
		for (int i = 0; i < 10; i++) {
			if (fd < 0 || write(fd, chunk, sizeof(chunk)) != (ssize_t)sizeof(chunk))
				_exit(1);
			usleep(2000);
		}
		_exit(0);
	}
	assert_int_equal(wgnl_file_read(f->path, 0, &buf, &len), 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(len, 10000);
	assert_int_equal(buf[len], '\0');
	for (size_t i = 0; i < len; i++)
		if (buf[i] != 'a')
			fail_msg("byte %zu is %d", i, buf[i]);
	free(buf);
}

static void unit__size_bound__efbig_at_max_plus_one(void **state)
{
	struct fx *f = *state;
	char *buf = (char *)1;
	size_t len = 1;

	assert_int_equal(put(f->path, "0123456789", 0), 0);
	assert_int_equal(wgnl_file_read(f->path, 10, &buf, &len), 0);
	assert_int_equal(len, 10);
	free(buf);
	assert_int_equal(wgnl_file_read(f->path, 9, &buf, &len), -EFBIG);
	assert_null(buf);
	assert_int_equal(len, 0);
	/* A directory and a missing file: -errno, nothing returned. */
	assert_int_equal(wgnl_file_read(f->dir, 0, &buf, &len), -EISDIR);
	assert_null(buf);
	assert_int_equal(wgnl_file_read("/nonexistent/wgkit", 0, &buf, &len), -ENOENT);
	assert_null(buf);
}

static void unit__missing_directory__enoent_nothing_created(void **state)
{
	struct fx *f = *state;
	char path[200];

	snprintf(path, sizeof(path), "%s/no/file", f->dir);
	assert_int_equal(put(path, "x", WGNL_FILE_SYNC), -ENOENT);
	assert_int_equal(entries(f->dir), 0);
}

/* A write that fails half way (the file size limit: root is not stopped by
 * a read-only directory, RLIMIT_FSIZE stops everyone) leaves the old file
 * and no temporary file. */
static void unit__failing_write__old_file_kept_no_temp(void **state)
{
	struct fx *f = *state;
	static char big[64 * 1024];
	struct iovec v = { big, sizeof(big) };
	struct rlimit old, lim = { 4096, 4096 };
	void (*oldsig)(int);
	int r;

	assert_int_equal(put(f->path, "old", 0), 0);
	memset(big, 'b', sizeof(big));
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim.rlim_max = old.rlim_max;
	oldsig = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	r = wgnl_file_write_atomic(f->path, &v, 1, WGNL_FILE_SYNC);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, oldsig);
	assert_int_equal(r, -EFBIG);
	assert_content(f->path, "old");
	assert_int_equal(entries(f->dir), 1);
}

/* The rename fails (a directory is in the way): no temporary file left. */
static void unit__rename_fails__temp_removed(void **state)
{
	struct fx *f = *state;
	char inner[200];
	struct wgnl_file_tmp *t;
	int r;

	assert_int_equal(mkdir(f->path, 0700), 0);
	snprintf(inner, sizeof(inner), "%s/x", f->path);
	assert_int_equal(put(inner, "x", 0), 0);
	r = put(f->path, "x", 0);
	assert_true(r == -EISDIR || r == -ENOTEMPTY || r == -EEXIST);
	assert_int_equal(entries(f->dir), 1);
	/* The same through the steps; abort removes the file too. */
	assert_int_equal(wgnl_file_tmp_open(f->path, 0, &t), 0);
	assert_true(wgnl_file_tmp_fd(t) >= 0);
	assert_int_equal(entries(f->dir), 2);
	wgnl_file_tmp_abort(t);
	wgnl_file_tmp_abort(NULL);
	assert_int_equal(entries(f->dir), 1);
	assert_int_equal(wgnl_file_tmp_open(f->path, 0, &t), 0);
	assert_int_equal(wgnl_file_tmp_close(t), 0);
	assert_int_equal(wgnl_file_tmp_fd(t), -1);
	assert_true(wgnl_file_tmp_commit(t) < 0);
	assert_int_equal(entries(f->dir), 1);
}

/* The default: a symlink at the target is replaced by the new file, and the
 * file it pointed at is untouched (a directory writable by others). */
static void unit__planted_symlink__replaced_not_followed(void **state)
{
	struct fx *f = *state;
	char victim[200];
	struct stat st;

	snprintf(victim, sizeof(victim), "%s/victim", f->dir);
	assert_int_equal(put(victim, "precious\n", WGNL_FILE_PUBLIC), 0);
	assert_int_equal(symlink(victim, f->path), 0);
	assert_int_equal(put(f->path, "new\n", WGNL_FILE_PUBLIC), 0);
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_content(f->path, "new\n");
	assert_content(victim, "precious\n");
	/* A dangling link is replaced the same way. */
	unlink(f->path);
	assert_int_equal(symlink("/nonexistent/wgkit-victim", f->path), 0);
	assert_int_equal(put(f->path, "new2\n", 0), 0);
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(entries(f->dir), 2);
}

/* WGNL_FILE_FOLLOW (wg-quick's SaveConfig): the link stays, the file it
 * resolves to is replaced, 0600, and no temporary file is left anywhere. */
static void unit__follow_flag__link_kept_target_replaced(void **state)
{
	struct fx *f = *state;
	char sub[200], real[220];
	struct stat st;
	struct wgnl_file_tmp *t;
	struct iovec v = { "streamed\n", 9 };

	snprintf(sub, sizeof(sub), "%s/real", f->dir);
	snprintf(real, sizeof(real), "%s/wg0.conf", sub);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(put(real, "old\n", WGNL_FILE_PUBLIC), 0);
	assert_int_equal(symlink(real, f->path), 0);
	assert_int_equal(wgnl_file_tmp_open(f->path, WGNL_FILE_FOLLOW | WGNL_FILE_SYNC, &t), 0);
	assert_int_equal(wgnl_file_tmp_write(t, &v, 1), 0);
	assert_int_equal(wgnl_file_tmp_commit(t), 0);
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_content(real, "streamed\n");
	assert_int_equal(stat(real, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(entries(f->dir), 2);
	assert_int_equal(entries(sub), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(unit__write_then_read__round_trip_mode_0600_no_temp),
		T(unit__public_flag__mode_0644_even_under_umask_077),
		T(unit__empty_write__empty_file_read_as_empty_string),
		T(unit__fifo__read_to_eof),
		T(unit__size_bound__efbig_at_max_plus_one),
		T(unit__missing_directory__enoent_nothing_created),
		T(unit__failing_write__old_file_kept_no_temp),
		T(unit__rename_fails__temp_removed),
		T(unit__planted_symlink__replaced_not_followed),
		T(unit__follow_flag__link_kept_target_replaced),
#undef T
	};

	return cmocka_run_group_tests_name("fileio", tests, NULL, NULL);
}
