// SPDX-License-Identifier: MIT
/* The POSIX layer of the Windows build (lib/core/compat.h), exercised
 * through the public calls that rest on it, under wine: replacing a file
 * that exists (MoveFileExW), reading a folder (EISDIR), the health lock
 * (LockFileEx), memory streams (a sync record and a health state written
 * and read back), Winsock started once for getaddrinfo(). One line per case,
 * "ok - NAME" or "FAIL - NAME: why"; exit 0 when all passed.
 *   compat_test.exe DIR   (DIR: an empty folder to work in) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wgkit/wgnl.h"
#include "wgkit/wgnl_health.h"
#include "wgkit/wgnl_sync.h"

static int failed;

static void result(const char *name, int good, const char *why)
{
	if (good) {
		printf("ok - %s\n", name);
	} else {
		printf("FAIL - %s: %s\n", name, why);
		failed++;
	}
}

static char *path_in(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	if (!p)
		exit(2);
	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

static void atomic_replace(const char *dir)
{
	char *p = path_in(dir, "replace.txt"), *text = NULL, why[128];
	struct iovec one = { (void *)"one\n", 4 }, two = { (void *)"second\r\n", 8 };
	size_t len = 0;
	int r1, r2, r3;

	r1 = wgnl_file_write_atomic(p, &one, 1, WGNL_FILE_SYNC);
	r2 = wgnl_file_write_atomic(p, &two, 1, WGNL_FILE_SYNC);
	r3 = wgnl_file_read(p, 0, &text, &len);
	snprintf(why, sizeof(why), "write %d, replace %d, read %d, %zu bytes", r1, r2, r3, len);
	result("wgnl_file_write_atomic replaces an existing file, bytes kept as written",
	       !r1 && !r2 && !r3 && len == 8 && !memcmp(text, "second\r\n", 8), why);
	wgnl_free(text);
	free(p);
}

static void read_folder(const char *dir)
{
	char *text = NULL, why[64];
	size_t len;
	int r = wgnl_file_read(dir, 0, &text, &len);

	snprintf(why, sizeof(why), "got %d", r);
	result("wgnl_file_read of a folder: -EISDIR", r == -EISDIR && !text, why);
}

static void health_lock(const char *dir)
{
	char *p = path_in(dir, "wg0.lock"), why[64];
	int fd1 = -1, fd2 = -1, r1, r2, r3;

	r1 = wgnl_health_lock(p, &fd1);
	r2 = wgnl_health_lock(p, &fd2);
	if (fd1 >= 0)
		close(fd1);
	r3 = wgnl_health_lock(p, &fd2);
	if (fd2 >= 0)
		close(fd2);
	snprintf(why, sizeof(why), "first %d, second %d, after close %d", r1, r2, r3);
	result("wgnl_health_lock: taken, refused while held (-EWOULDBLOCK), taken again",
	       !r1 && r2 == -EWOULDBLOCK && !r3, why);
	free(p);
}

static void health_state(const char *dir)
{
	struct wgnl_health_state st, back;
	char *p = path_in(dir, "wg0.state"), *text = NULL, why[96];
	int r1, r2, r3;

	memset(&st, 0, sizeof(st));
	memset(&back, 0, sizeof(back));
	st.last_check_ms = 1700000000123;
	st.consecutive_bad = 3;
	st.attempt = 2;
	r1 = wgnl_health_state_format(&st, &text);
	r2 = wgnl_health_state_save(p, &st);
	r3 = wgnl_health_state_load(p, &back);
	snprintf(why, sizeof(why), "format %d, save %d, load %d", r1, r2, r3);
	result("health state: formatted through a memory stream, saved, loaded back",
	       r1 > 0 && text && strstr(text, "consecutive_bad 3\n") && !r2 && !r3 &&
		       back.last_check_ms == st.last_check_ms && back.attempt == 2,
	       why);
	wgnl_free(text);
	wgnl_health_state_clear(&back);
	free(p);
}

static void sync_record(const char *dir)
{
	static const char conf[] =
		"[Interface]\r\nListenPort = 51820\r\n\r\n[Peer]\r\n"
		"PublicKey = HXQnoncTPuYQt9rYnhwFUrAH7EeB88G4vjM1Gs4NLho=\r\n"
		"AllowedIPs = 10.0.0.2/32, fd00::2/128\r\nEndpoint = 192.0.2.1:51820\r\n";
	struct wgnl_config *cfg = NULL, *back = NULL;
	struct wgnl_config_error err;
	char *sd = path_in(dir, "state"), why[160];
	int r1, r2 = -1, r3 = -1;

	r1 = wgnl_config_parse(conf, sizeof(conf) - 1, "crlf.conf", 0, &cfg, &err);
	if (!r1)
		r2 = wgnl_sync_record_save(sd, "wg0", cfg, 0);
	if (!r2)
		r3 = wgnl_sync_record_load(sd, "wg0", &back);
	snprintf(why, sizeof(why), "parse %d (%s), save %d, load %d", r1, r1 ? err.message : "", r2,
		 r3);
	result("sync record of a CRLF config: saved (memory stream, mkdir, rename), loaded back",
	       !r1 && !r2 && !r3 && back && back->dev->n_peers == 1 &&
		       back->dev->listen_port == 51820 && back->dev->peers[0].n_allowedips == 2,
	       why);
	wgnl_config_free(cfg);
	wgnl_config_free(back);
	free(sd);
}

static void resolve(void)
{
	union wgnl_endpoint ep;
	char buf[64] = "", why[96];
	int r = wgnl_endpoint_resolve(&ep, "localhost:51820");

	if (!r)
		wgnl_endpoint_format(&ep, buf, sizeof(buf));
	snprintf(why, sizeof(why), "got %d '%s'", r, buf);
	result("wgnl_endpoint_resolve of localhost (Winsock started by the library)",
	       !r && (!strcmp(buf, "127.0.0.1:51820") || !strcmp(buf, "[::1]:51820")), why);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: compat_test.exe DIR\n");
		return 2;
	}
	atomic_replace(argv[1]);
	read_folder(argv[1]);
	health_lock(argv[1]);
	health_state(argv[1]);
	sync_record(argv[1]);
	resolve();
	return failed ? 1 : 0;
}
