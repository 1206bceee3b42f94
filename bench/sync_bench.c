// SPDX-License-Identifier: MIT
/* Helpers for bench/sync_guest.sh (run inside the qemu guest):
 *   sync_bench gen N CHURN_PERMILLE SEED   a config of N peers on stdout;
 *       CHURN_PERMILLE of them (per thousand) differ from SEED 0's: half
 *       replaced by new keys, half with a moved allowed IP
 *   sync_bench time CMD [ARG...]           run CMD (stdout to /dev/null),
 *       print its wall time in seconds; exit with its status
 *   sync_bench dump IF                     the bare dump: wgnl_device_get()
 *       and nothing else; prints "SECONDS PEERS GET_MSGS RECV_MSGS"
 * Keys are deterministic 32-byte strings (any 32 bytes configure a peer). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "wgkit/wgnl.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint32_t mix(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	return x;
}

static void key_b64(wgnl_key_b64 out, uint32_t i, uint32_t gen, int clamp)
{
	wgnl_key k;

	for (unsigned j = 0; j < WGNL_KEY_LEN; j += 4) {
		uint32_t v = mix(i * 2654435761U + j * 40503U + gen * 97U + 1);

		memcpy(k + j, &v, 4);
	}
	if (clamp) {
		/* As `wg genkey` writes it: the kernel clamps what it is given,
		 * and wg syncconf would see an unclamped key as changed. */
		k[0] &= 248;
		k[31] = (uint8_t)((k[31] & 127) | 64);
	}
	wgnl_key_to_base64(out, k);
}

static int gen(uint32_t n, uint32_t permille, uint32_t seed)
{
	wgnl_key_b64 b64;

	key_b64(b64, 0xffffffffU, 0, 1);
	printf("[Interface]\nPrivateKey = %s\nListenPort = 51820\n", b64);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t h = mix(i ^ (seed * 0x9e3779b9U)) % 1000, keygen = 0, net = 10;

		if (seed && h < permille) {
			if (h % 2)
				keygen = seed; /* replaced: a new key */
			else
				net = 11; /* a moved allowed IP */
		}
		key_b64(b64, i, keygen, 0);
		printf("\n[Peer]\nPublicKey = %s\nAllowedIPs = %u.%u.%u.%u/32\n", b64, net,
		       (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
	}
	return fflush(stdout) ? 1 : 0;
}

static int run_timed(char **argv)
{
	double t0 = now(), t1;
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return 127;
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		if (fd >= 0)
			dup2(fd, STDOUT_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 127;
	t1 = now();
	printf("%.4f\n", t1 - t0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int bare_dump(const char *ifname)
{
	struct wgnl_device *dev;
	struct wgnl_stats st;
	struct wgnl_ctx *ctx;
	double t0 = now(), t1;
	size_t n;
	int r;

	r = wgnl_ctx_open(&ctx);
	if (r < 0)
		return 1;
	r = wgnl_device_get(ctx, ifname, &dev);
	if (r < 0) {
		fprintf(stderr, "sync_bench: dump %s: %s\n", ifname, strerror(-r));
		wgnl_ctx_close(ctx);
		return 1;
	}
	n = dev->n_peers;
	wgnl_device_free(dev);
	wgnl_stats_get(ctx, &st);
	wgnl_ctx_close(ctx);
	t1 = now();
	printf("%.4f %zu %llu %llu\n", t1 - t0, n, (unsigned long long)st.get_msgs,
	       (unsigned long long)st.recv_msgs);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "gen"))
		return gen((uint32_t)strtoul(argv[2], NULL, 10),
			   (uint32_t)strtoul(argv[3], NULL, 10),
			   (uint32_t)strtoul(argv[4], NULL, 10));
	if (argc >= 3 && !strcmp(argv[1], "time"))
		return run_timed(argv + 2);
	if (argc == 3 && !strcmp(argv[1], "dump"))
		return bare_dump(argv[2]);
	fprintf(stderr, "usage: sync_bench gen N CHURN_PERMILLE SEED | time CMD... | dump IF\n");
	return 2;
}
