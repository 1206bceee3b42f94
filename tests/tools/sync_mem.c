// SPDX-License-Identifier: MIT
/* sync_mem: drive the sync from a desired state held in memory, through the
 * public headers only, as a daemon would: no config file, no state
 * directory. For tests/uapi/syncmem.sh, against wireguard-go.
 *
 *   sync_mem IF SOCKDIR OUTDIR [CHECK]
 *
 * Steps: add 1000 peers, change 10 (a second allowed IP each), remove 10.
 * Each step plans (wgnl_sync_plan_stream()) with the desired state applied
 * last, kept in memory, as @last; applies; then plans again, which must be
 * empty. The library talks to SOCKDIR/IF.sock through a proxy socket this
 * tool serves on a thread (OUTDIR/uapi/IF.sock, set with
 * wgnl_ctx_set_uapi_dir()), which counts what crosses the wire: the
 * public_key= and remove=true lines of set=1 requests. After each step the
 * desired state is written to OUTDIR/stepN.conf (for the test to compare
 * with `wg showconf`) and CHECK, when given, runs as `CHECK N`.
 *
 * One line per step on stdout:
 *   step N NAME: wire_set=.. wire_peers=.. wire_removes=.. wire_get=..
 *   plan_add=.. plan_remove=.. plan_update=.. set_msgs=.. get_msgs=.. recv_msgs=..
 * Exit 0, or 1 with a line on stderr. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "wgkit/wgnl.h"
#include "wgkit/wgnl_sync.h"

#define N_PEERS 1000
#define N_CHANGE 10
#define N_REMOVE 10

/* -------------------------------------------------------------- the proxy */

struct wire {
	pthread_mutex_t mu;
	unsigned long set_reqs, get_reqs, peers, removes;
	/* The client's side of the current request. */
	char line[256];
	size_t len;
	int op; /* 0: at a request's start, 1: set, 2: get/other */
};

struct proxy {
	int lfd;
	char real[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct wire w;
};

/* Count the lines the library sends: a request is "set=1" or "get=1",
 * key=value lines, then an empty line. */
static void wire_line(struct wire *w, const char *l)
{
	pthread_mutex_lock(&w->mu);
	if (!*l) {
		w->op = 0;
	} else if (w->op == 0) {
		w->op = strcmp(l, "set=1") ? 2 : 1;
		if (w->op == 1)
			w->set_reqs++;
		else
			w->get_reqs++;
	} else if (w->op == 1 && !strncmp(l, "public_key=", 11)) {
		w->peers++;
	} else if (w->op == 1 && !strcmp(l, "remove=true")) {
		w->removes++;
	}
	pthread_mutex_unlock(&w->mu);
}

static void wire_bytes(struct wire *w, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n') {
			w->line[w->len] = '\0';
			wire_line(w, w->line);
			w->len = 0;
		} else if (w->len < sizeof(w->line) - 1) {
			w->line[w->len++] = p[i];
		}
	}
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Relay one connection both ways until either side closes. */
static void relay(struct proxy *px, int cfd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct pollfd pf[2];
	char buf[65536];
	int sfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memcpy(sa.sun_path, px->real, sizeof(sa.sun_path));
	if (sfd < 0 || connect(sfd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (sfd >= 0)
			close(sfd);
		return;
	}
	px->w.len = 0;
	px->w.op = 0;
	pf[0] = (struct pollfd){ .fd = cfd, .events = POLLIN };
	pf[1] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	for (;;) {
		ssize_t n;

		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[0].revents) {
			n = read(cfd, buf, sizeof(buf));
			if (n <= 0)
				break;
			wire_bytes(&px->w, buf, (size_t)n);
			if (write_all(sfd, buf, (size_t)n) < 0)
				break;
		}
		if (pf[1].revents) {
			n = read(sfd, buf, sizeof(buf));
			if (n <= 0)
				break;
			if (write_all(cfd, buf, (size_t)n) < 0)
				break;
		}
	}
	close(sfd);
}

static void *proxy_main(void *arg)
{
	struct proxy *px = arg;

	for (;;) {
		int cfd = accept4(px->lfd, NULL, NULL, SOCK_CLOEXEC);

		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL;
		}
		relay(px, cfd);
		close(cfd);
	}
}

static int proxy_start(struct proxy *px, const char *ifname, const char *sockdir, const char *dir)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	pthread_t th;

	if ((size_t)snprintf(px->real, sizeof(px->real), "%s/%s.sock", sockdir, ifname) >=
		    sizeof(px->real) ||
	    (size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s.sock", dir, ifname) >=
		    sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	pthread_mutex_init(&px->w.mu, NULL);
	unlink(sa.sun_path);
	px->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (px->lfd < 0 || bind(px->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(px->lfd, 8) < 0)
		return -errno;
	if (pthread_create(&th, NULL, proxy_main, px))
		return -EAGAIN;
	pthread_detach(th);
	return 0;
}

/* ------------------------------------------------------- desired states */

struct keys {
	wgnl_key priv, pub[N_PEERS];
};

static int make_keys(struct keys *k)
{
	wgnl_key p;

	if (wgnl_key_generate_private(k->priv) < 0)
		return -EIO;
	for (size_t i = 0; i < N_PEERS; i++)
		if (wgnl_key_generate_private(p) < 0 ||
		    wgnl_key_public_from_private(k->pub[i], p) < 0)
			return -EIO;
	wgnl_wipe(p, sizeof(p));
	return 0;
}

/* The desired state after step @step (1: all peers; 2: the first N_CHANGE
 * with a second allowed IP; 3: and the last N_REMOVE gone), built from
 * nothing as a control plane would. NULL on failure. */
static struct wgnl_device *desired(const char *ifname, const struct keys *k, int step)
{
	struct wgnl_device *d = wgnl_device_new(ifname);
	size_t n = step >= 3 ? N_PEERS - N_REMOVE : N_PEERS;

	if (!d || wgnl_device_reserve(d, n) < 0)
		goto bad;
	memcpy(d->private_key, k->priv, WGNL_KEY_LEN);
	d->listen_port = 52990;
	d->flags |= WGNL_DEV_HAS_PRIVATE_KEY | WGNL_DEV_HAS_LISTEN_PORT;
	for (size_t i = 0; i < n; i++) {
		struct wgnl_peer *p;
		struct wgnl_prefix a;
		char s[64];

		if (wgnl_device_add_peer(d, k->pub[i], &p) < 0)
			goto bad;
		snprintf(s, sizeof(s), "198.18.%zu.%zu:%zu", i / 250, i % 250 + 1, 40000 + i);
		if (wgnl_endpoint_parse(&p->endpoint, s) < 0)
			goto bad;
		p->flags |= WGNL_PEER_HAS_ENDPOINT;
		snprintf(s, sizeof(s), "10.%zu.%zu.%zu/32", 100 + i / 65536, i / 256 % 256,
			 i % 256);
		if (wgnl_prefix_parse(&a, s) < 0 || wgnl_peer_add_allowedip(p, &a) < 0)
			goto bad;
		if (step >= 2 && i < N_CHANGE) {
			snprintf(s, sizeof(s), "fd99::%zx/128", i + 1);
			if (wgnl_prefix_parse(&a, s) < 0 || wgnl_peer_add_allowedip(p, &a) < 0)
				goto bad;
		}
	}
	/* What a config file would mean by the same fields. */
	wgnl_config_apply_semantics(d, WGNL_SEM_SYNCCONF);
	return d;
bad:
	wgnl_device_free(d);
	return NULL;
}

static int write_want(const char *outdir, int step, struct wgnl_device *d)
{
	struct wgnl_config c = { .dev = d };
	char path[4096];
	FILE *f;
	int r;

	snprintf(path, sizeof(path), "%s/step%d.conf", outdir, step);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	r = wgnl_config_write(f, &c, 0);
	if (fclose(f) != 0 && r == 0)
		r = -EIO;
	return r;
}

/* ------------------------------------------------------------- the steps */

static int fail(struct wgnl_ctx *ctx, const char *what, int r)
{
	const char *why = ctx ? wgnl_ctx_last_error(ctx) : NULL;

	fprintf(stderr, "sync_mem: %s: %s%s%s\n", what, strerror(r < 0 ? -r : r), why ? ": " : "",
		why ? why : "");
	return 1;
}

static int step_run(struct wgnl_ctx *ctx, struct proxy *px, const char *ifname, int step,
		    const char *name, const struct wgnl_device *want,
		    const struct wgnl_device *last)
{
	struct wgnl_plan *plan = NULL, *again = NULL;
	struct wgnl_stats st;
	unsigned long set0, get0, peers0, rm0;
	int r;

	pthread_mutex_lock(&px->w.mu);
	set0 = px->w.set_reqs, get0 = px->w.get_reqs, peers0 = px->w.peers, rm0 = px->w.removes;
	pthread_mutex_unlock(&px->w.mu);
	wgnl_stats_reset(ctx);
	r = wgnl_sync_plan_stream(ctx, want, last, 0, &plan, NULL);
	if (r < 0)
		return fail(ctx, "plan", r);
	r = wgnl_sync_apply(ctx, plan);
	if (r < 0) {
		wgnl_plan_free(plan);
		return fail(ctx, "apply", r);
	}
	wgnl_stats_get(ctx, &st);
	pthread_mutex_lock(&px->w.mu);
	printf("step %d %s: wire_set=%lu wire_peers=%lu wire_removes=%lu wire_get=%lu "
	       "plan_add=%zu plan_remove=%zu plan_update=%zu set_msgs=%llu get_msgs=%llu "
	       "recv_msgs=%llu\n",
	       step, name, px->w.set_reqs - set0, px->w.peers - peers0, px->w.removes - rm0,
	       px->w.get_reqs - get0, plan->n_add, plan->n_remove, plan->n_update,
	       (unsigned long long)st.set_msgs, (unsigned long long)st.get_msgs,
	       (unsigned long long)st.recv_msgs);
	pthread_mutex_unlock(&px->w.mu);
	fflush(stdout);
	wgnl_plan_free(plan);
	/* The device now equals the desired state: planning again finds
	 * nothing to send. */
	r = wgnl_sync_plan_stream(ctx, want, want, 0, &again, NULL);
	if (r < 0)
		return fail(ctx, "plan again", r);
	r = wgnl_plan_is_empty(again);
	if (!r)
		fprintf(stderr,
			"sync_mem: step %d: the device differs after the apply (%zu to add, %zu to "
			"remove, %zu to update)\n",
			step, again->n_add, again->n_remove, again->n_update);
	wgnl_plan_free(again);
	return r ? 0 : 1;
}

int main(int argc, char **argv)
{
	static const char *const names[] = { "", "add", "change", "remove" };
	static struct keys k;
	static struct proxy px;
	struct wgnl_device *want[4] = { NULL };
	struct wgnl_ctx *ctx = NULL;
	char dir[4096];
	int rc = 1, r;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: sync_mem IF SOCKDIR OUTDIR [CHECK]\n");
		return 1;
	}
	umask(077); /* stepN.conf holds the private key */
	snprintf(dir, sizeof(dir), "%s/uapi", argv[3]);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return fail(NULL, "mkdir", -errno);
	if ((r = make_keys(&k)) < 0)
		return fail(NULL, "keys", r);
	if ((r = proxy_start(&px, argv[1], argv[2], dir)) < 0)
		return fail(NULL, "proxy", r);
	if ((r = wgnl_ctx_open(&ctx)) < 0)
		return fail(NULL, "open", r);
	wgnl_ctx_set_backend(ctx, WGNL_BACKEND_UAPI);
	if ((r = wgnl_ctx_set_uapi_dir(ctx, dir)) < 0) {
		rc = fail(ctx, "uapi dir", r);
		goto out;
	}
	for (int step = 1; step <= 3; step++) {
		char cmd[8192];

		want[step] = desired(argv[1], &k, step);
		if (!want[step]) {
			rc = fail(ctx, "desired state", -ENOMEM);
			goto out;
		}
		/* The last desired state is the one held from the step before
		 * (none before the first): no record on disk. */
		if (step_run(ctx, &px, argv[1], step, names[step], want[step], want[step - 1]))
			goto out;
		if ((r = write_want(argv[3], step, want[step])) < 0) {
			rc = fail(ctx, "write the desired state", r);
			goto out;
		}
		if (argc == 5) {
			snprintf(cmd, sizeof(cmd), "%s %d", argv[4], step);
			if (system(cmd) != 0) {
				fprintf(stderr, "sync_mem: step %d: '%s' failed\n", step, cmd);
				goto out;
			}
		}
	}
	rc = 0;
out:
	for (int i = 0; i < 4; i++)
		wgnl_device_free(want[i]);
	wgnl_ctx_close(ctx);
	return rc;
}
