// SPDX-License-Identifier: MIT
/* Helpers for bench/gateway_guest.sh (inside the qemu guest):
 *   gw_bench swap NEW DEST LOG PATTERN [TIMEOUT_S]
 *       rename NEW over DEST (what a deploy tool does), then wait until LOG
 *       grows a line holding PATTERN; print the seconds from the rename to
 *       that line. Exit 1 on timeout.
 *   gw_bench wait LOG PATTERN [TIMEOUT_S]
 *       wait for a line holding PATTERN anywhere in LOG; print the seconds
 *       it took (from this call).
 *   gw_bench rss PID        VmRSS of PID in bytes
 *   gw_bench wakelat N GAP_US
 *       how long a process blocked in read() takes to run after another
 *       writes to its pipe, N times GAP_US apart: "p50_ms=… p99_ms=…". What
 *       every wake-up in the timed paths pays (the guest's idle mode).
 * The log is read from its size before the rename, so only new lines count. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* An inotify watch for writes to @log, or -1 (then wait_line() polls). */
static int watch_log(const char *log)
{
	int in = inotify_init1(IN_CLOEXEC);

	if (in >= 0 && inotify_add_watch(in, log, IN_MODIFY) < 0) {
		close(in);
		in = -1;
	}
	return in;
}

/* Scan LOG from @off for a line holding @pat until @deadline. Between
 * looks it sleeps on @in (watch_log(); consumed) until the log is written
 * (a busy poll would take CPU from the daemon it times); @sleep_first: the
 * line cannot be there yet (a swap just made), so no look before the first
 * write. */
static int wait_line(const char *log, off_t off, const char *pat, double deadline, int in,
		     bool sleep_first)
{
	static char buf[1 << 16];
	size_t have = 0;
	int r = -1;

	for (;;) {
		int fd = sleep_first && in >= 0 ? -1 : open(log, O_RDONLY | O_CLOEXEC);
		double left;

		sleep_first = false;
		if (fd >= 0) {
			ssize_t n;

			while ((n = pread(fd, buf + have, sizeof(buf) - 1 - have, off)) > 0) {
				char *nl;

				off += n;
				have += (size_t)n;
				buf[have] = 0;
				while ((nl = memchr(buf, '\n', have))) {
					*nl = 0;
					if (strstr(buf, pat)) {
						close(fd);
						r = 0;
						goto out;
					}
					have -= (size_t)(nl + 1 - buf);
					memmove(buf, nl + 1, have);
				}
				if (have == sizeof(buf) - 1)
					have = 0; /* a line longer than the buffer: drop it */
			}
			close(fd);
		}
		left = deadline - now();
		if (left <= 0)
			goto out;
		if (in >= 0) {
			struct pollfd p = { .fd = in, .events = POLLIN };
			char ev[4096];

			/* Woken by a write; at most 100 ms between looks anyway. */
			if (poll(&p, 1, left > 0.1 ? 100 : (int)(left * 1000) + 1) > 0)
				(void)!read(in, ev, sizeof(ev));
		} else {
			usleep(200);
		}
	}
out:
	if (in >= 0)
		close(in);
	return r;
}

static off_t size_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : 0;
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* gw_bench wakelat N GAP_US: see the top. */
static int wakelat(int n, int gap_us)
{
	double *woke, *lat;
	int go[2], back[2];
	pid_t pid;
	char c = 'x';

	if (n < 1 || gap_us < 0)
		return 1;
	woke = mmap(NULL, sizeof(double), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
		    0);
	lat = calloc((size_t)n, sizeof(*lat));
	if (woke == MAP_FAILED || !lat || pipe(go) < 0 || pipe(back) < 0)
		return 1;
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		close(go[1]);
		while (read(go[0], &c, 1) == 1) {
			*woke = now();
			if (write(back[1], &c, 1) != 1)
				break;
		}
		_exit(0);
	}
	close(go[0]);
	for (int i = 0; i < n; i++) {
		double t0;

		usleep((useconds_t)gap_us);
		t0 = now();
		if (write(go[1], &c, 1) != 1 || read(back[0], &c, 1) != 1)
			return 1;
		lat[i] = (*woke - t0) * 1e3;
	}
	close(go[1]);
	waitpid(pid, NULL, 0);
	qsort(lat, (size_t)n, sizeof(*lat), dbl_cmp);
	printf("p50_ms=%.3f p99_ms=%.3f\n", lat[(n - 1) / 2], lat[(n * 99 + 99) / 100 - 1]);
	free(lat);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 6 && !strcmp(argv[1], "swap")) {
		double tmo = argc > 6 ? atof(argv[6]) : 60, t0;
		off_t off = size_of(argv[4]);
		/* Everything the wait needs is set up before the clock
		 * starts: after the rename this process only sleeps until
		 * the log is written, so the daemon it woke runs at once. */
		int in = watch_log(argv[4]);

		t0 = now();
		if (rename(argv[2], argv[3]) < 0) {
			perror("rename");
			return 1;
		}
		if (wait_line(argv[4], off, argv[5], t0 + tmo, in, true) < 0) {
			fprintf(stderr, "gw_bench: no '%s' in %s after %.0f s\n", argv[5], argv[4],
				tmo);
			return 1;
		}
		printf("%.6f\n", now() - t0);
		return 0;
	}
	if (argc >= 4 && !strcmp(argv[1], "wait")) {
		double tmo = argc > 4 ? atof(argv[4]) : 60, t0 = now();

		if (wait_line(argv[2], 0, argv[3], t0 + tmo, watch_log(argv[2]), false) < 0) {
			fprintf(stderr, "gw_bench: no '%s' in %s after %.0f s\n", argv[3], argv[2],
				tmo);
			return 1;
		}
		printf("%.6f\n", now() - t0);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "rss")) {
		char path[64], line[256];
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%s/status", argv[2]);
		f = fopen(path, "r");
		if (!f) {
			perror(path);
			return 1;
		}
		while (fgets(line, sizeof(line), f)) {
			unsigned long kb;

			if (sscanf(line, "VmRSS: %lu kB", &kb) == 1) {
				printf("%lu\n", kb * 1024);
				fclose(f);
				return 0;
			}
		}
		fclose(f);
		return 1;
	}
	if (argc == 4 && !strcmp(argv[1], "wakelat"))
		return wakelat(atoi(argv[2]), atoi(argv[3]));
	fprintf(stderr, "usage: gw_bench swap NEW DEST LOG PATTERN [TIMEOUT_S] | wait LOG PATTERN "
			"[TIMEOUT_S] | rss PID | wakelat N GAP_US\n");
	return 1;
}
