// SPDX-License-Identifier: MIT
/* The UAPI backend (lib/uapi/uapi.c) against recorded wireguard-go text and a fake
 * UAPI server: a thread behind a unix socket in a temporary directory that
 * records each request and answers from a script. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <dirent.h>

#include "core/internal.h"
#include "uapi/uapi.h"

/* ------------------------------------------------------------ fixtures */

/* Keys as wireguard-go prints them (lowercase hex). */
#define PRIV_HEX "e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a"
#define PEER1_HEX "b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33"
#define PEER2_HEX "58402e695ba1772b1cc9309755f043251ea77fdcf10fbe63989ceae85fdd4f54"
#define PSK_HEX "188515093e952f5f22e865cef3012e72f8b5f0b598ac0309d5dacce3b70fcf52"
#define ZERO_HEX "0000000000000000000000000000000000000000000000000000000000000000"

/* A recorded `get=1` reply of wireguard-go 0.0.20220316 (two peers). */
static const char recorded_get[] = "private_key=" PRIV_HEX "\n"
				   "listen_port=51820\n"
				   "fwmark=3735928559\n"
				   "public_key=" PEER1_HEX "\n"
				   "preshared_key=" PSK_HEX "\n"
				   "protocol_version=1\n"
				   "endpoint=192.0.2.1:51820\n"
				   "last_handshake_time_sec=1700000000\n"
				   "last_handshake_time_nsec=123456789\n"
				   "tx_bytes=1234\n"
				   "rx_bytes=5678\n"
				   "persistent_keepalive_interval=25\n"
				   "allowed_ip=10.0.0.2/32\n"
				   "allowed_ip=fd00::/64\n"
				   "public_key=" PEER2_HEX "\n"
				   "preshared_key=" ZERO_HEX "\n"
				   "protocol_version=1\n"
				   "endpoint=[2001:db8::1]:443\n"
				   "last_handshake_time_sec=0\n"
				   "last_handshake_time_nsec=0\n"
				   "tx_bytes=0\n"
				   "rx_bytes=0\n"
				   "persistent_keepalive_interval=0\n"
				   "errno=0\n"
				   "\n";

static void hex_key(wgnl_key out, const char *hex)
{
	for (size_t i = 0; i < WGNL_KEY_LEN; i++)
		sscanf(hex + 2 * i, "%2hhx", &out[i]);
}

/* ---------------------------------------------------- fake UAPI server */

#define FAKE_MAX 8

struct fake {
	char dir[64];
	char sock[128];
	int lfd;
	pthread_t thr;
	bool running;
	/* Script: one reply per connection, in order. */
	const char *reply[FAKE_MAX];
	size_t n_reply;
	size_t chunk;	   /* write replies this many bytes at a time (0: at once) */
	size_t read_limit; /* stop reading a request after this many bytes (0: to "\n\n") */
	/* What the clients sent. */
	char *req[FAKE_MAX];
	size_t req_len[FAKE_MAX];
	size_t n_req;
};

/* Fakes still alive after a failed assertion (which skips the test's own
 * clean-up): the group teardown removes their directories. */
static struct fake *live[16];

static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		if (de->d_name[0] != '.')
			unlinkat(dirfd(d), de->d_name, 0);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

static int group_teardown(void **state)
{
	for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++) {
		if (live[i])
			remove_dir(live[i]->dir);
		live[i] = NULL;
	}
	return 0;
}

static void serve_conn(struct fake *f, int fd, const char *reply)
{
	size_t cap = 4096, len = 0;
	char *req = malloc(cap);

	for (;;) {
		ssize_t n;

		if (len + 1 >= cap)
			req = realloc(req, cap *= 2);
		n = read(fd, req + len, f->read_limit ? 1 : cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
		req[len] = '\0';
		if (f->read_limit && len >= f->read_limit)
			break;
		if (memmem(req, len, "\n\n", 2))
			break;
	}
	if (f->n_req < FAKE_MAX) {
		f->req[f->n_req] = req;
		f->req_len[f->n_req++] = len;
	} else {
		free(req);
	}
	for (size_t off = 0, total = strlen(reply); off < total;) {
		size_t n = f->chunk && f->chunk < total - off ? f->chunk : total - off;
		ssize_t w = send(fd, reply + off, n, MSG_NOSIGNAL);

		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(fd);
}

static void *fake_thread(void *arg)
{
	struct fake *f = arg;

	for (size_t i = 0; i < f->n_reply; i++) {
		struct pollfd pfd = { .fd = f->lfd, .events = POLLIN };
		int fd;

		if (poll(&pfd, 1, 5000) != 1)
			break; /* the client made fewer connections: the test says so */
		fd = accept(f->lfd, NULL, NULL);
		if (fd < 0)
			break;
		serve_conn(f, fd, f->reply[i]);
	}
	return NULL;
}

/* A listening socket <tmpdir>/<ifname>.sock. */
static struct fake *fake_new(const char *ifname)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	assert_non_null(f);
	strcpy(f->dir, "/tmp/wgkit-uapi-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->sock, sizeof(f->sock), "%s/%s.sock", f->dir, ifname);
	strcpy(sun.sun_path, f->sock);
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(f->lfd, 8), 0);
	for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++) {
		if (!live[i]) {
			live[i] = f;
			break;
		}
	}
	return f;
}

static void fake_start(struct fake *f)
{
	assert_int_equal(pthread_create(&f->thr, NULL, fake_thread, f), 0);
	f->running = true;
}

static void fake_join(struct fake *f)
{
	if (f->running)
		pthread_join(f->thr, NULL);
	f->running = false;
}

static void fake_free(struct fake *f)
{
	fake_join(f);
	for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++)
		if (live[i] == f)
			live[i] = NULL;
	close(f->lfd);
	remove_dir(f->dir);
	for (size_t i = 0; i < f->n_req; i++)
		free(f->req[i]);
	free(f);
}

static struct wgnl_ctx *ctx_for(const struct fake *f)
{
	struct wgnl_ctx *ctx;

	assert_int_equal(wgnl_ctx_open(&ctx), 0);
	if (f)
		assert_int_equal(wgnl_ctx_set_uapi_dir(ctx, f->dir), 0);
	return ctx;
}

/* ------------------------------------------------------------- parsing */

/* Feed @text line by line (as the reader does), returning the first
 * non-zero result. */
static int parse_text(struct wgnl_ctx *ctx, struct wgnl_device *dev, const char *text)
{
	struct wgi_uapi_parser p;
	char *copy = strdup(text), *line = copy;
	int r = 0;

	wgi_uapi_parser_init(&p, dev);
	for (char *nl; (nl = strchr(line, '\n')); line = nl + 1) {
		r = wgi_uapi_parse_line(ctx, &p, line, (size_t)(nl - line));
		if (r)
			break;
	}
	if (r == 1 && p.uapi_errno)
		r = p.uapi_errno;
	free(copy);
	return r;
}

static void uapi_parse__recorded_get__device_and_peers(void **state)
{
	struct wgnl_ctx *ctx = ctx_for(NULL);
	struct wgnl_device *dev = wgnl_device_new("ua0");
	struct wgnl_peer *p1, *p2;
	wgnl_key k, pub;
	char buf[64];

	assert_int_equal(parse_text(ctx, dev, recorded_get), 1);
	hex_key(k, PRIV_HEX);
	assert_memory_equal(dev->private_key, k, WGNL_KEY_LEN);
	assert_int_equal(wgnl_key_public_from_private(pub, k), 0);
	assert_memory_equal(dev->public_key, pub, WGNL_KEY_LEN);
	assert_true(dev->flags & WGNL_DEV_HAS_PRIVATE_KEY);
	assert_true(dev->flags & WGNL_DEV_HAS_PUBLIC_KEY);
	assert_int_equal(dev->listen_port, 51820);
	assert_int_equal(dev->fwmark, 0xdeadbeefu);
	assert_int_equal(dev->n_peers, 2);

	hex_key(k, PEER1_HEX);
	p1 = wgnl_device_find_peer(dev, k);
	assert_non_null(p1);
	hex_key(k, PSK_HEX);
	assert_memory_equal(p1->preshared_key, k, WGNL_KEY_LEN);
	assert_string_equal(wgnl_endpoint_format(&p1->endpoint, buf, sizeof(buf)),
			    "192.0.2.1:51820");
	assert_int_equal(p1->last_handshake.tv_sec, 1700000000);
	assert_int_equal(p1->last_handshake.tv_nsec, 123456789);
	assert_int_equal(p1->tx_bytes, 1234);
	assert_int_equal(p1->rx_bytes, 5678);
	assert_int_equal(p1->persistent_keepalive, 25);
	assert_int_equal(p1->protocol_version, 1);
	assert_int_equal(p1->n_allowedips, 2);
	assert_string_equal(wgnl_prefix_format(&p1->allowedips[0], buf, sizeof(buf)),
			    "10.0.0.2/32");
	assert_string_equal(wgnl_prefix_format(&p1->allowedips[1], buf, sizeof(buf)), "fd00::/64");
	assert_int_equal(p1->flags & 0xff,
			 WGNL_PEER_HAS_PUBLIC_KEY | WGNL_PEER_HAS_PRESHARED_KEY |
				 WGNL_PEER_HAS_ENDPOINT | WGNL_PEER_HAS_KEEPALIVE |
				 WGNL_PEER_HAS_LAST_HANDSHAKE | WGNL_PEER_HAS_RX_TX |
				 WGNL_PEER_HAS_PROTOCOL_VERSION);

	hex_key(k, PEER2_HEX);
	p2 = wgnl_device_find_peer(dev, k);
	assert_non_null(p2);
	assert_true(wgnl_key_is_zero(p2->preshared_key));
	assert_string_equal(wgnl_endpoint_format(&p2->endpoint, buf, sizeof(buf)),
			    "[2001:db8::1]:443");
	assert_int_equal(p2->n_allowedips, 0);
	assert_int_equal(p2->last_handshake.tv_sec, 0);

	wgnl_device_free(dev);
	wgnl_ctx_close(ctx);
}

static void uapi_parse__empty_device__port_and_fwmark_zero(void **state)
{
	struct wgnl_ctx *ctx = ctx_for(NULL);
	struct wgnl_device *dev = wgnl_device_new("ua0");

	assert_int_equal(parse_text(ctx, dev, "errno=0\n\n"), 1);
	assert_int_equal(dev->n_peers, 0);
	assert_false(dev->flags & WGNL_DEV_HAS_PRIVATE_KEY);
	assert_false(dev->flags & WGNL_DEV_HAS_PUBLIC_KEY);
	assert_true(dev->flags & WGNL_DEV_HAS_LISTEN_PORT);
	assert_int_equal(dev->listen_port, 0);
	wgnl_device_free(dev);
	wgnl_ctx_close(ctx);
}

static void uapi_parse__unknown_keys__skipped(void **state)
{
	struct wgnl_ctx *ctx = ctx_for(NULL);
	struct wgnl_device *dev = wgnl_device_new("ua0");

	assert_int_equal(parse_text(ctx, dev,
				    "jc=4\nlisten_port=1\n"
				    "public_key=" PEER1_HEX "\nfuture_key=whatever\n"
				    "allowed_ip=10.1.0.0/16\nerrno=0\n\n"),
			 1);
	assert_int_equal(dev->listen_port, 1);
	assert_int_equal(dev->n_peers, 1);
	assert_int_equal(dev->peers[0].n_allowedips, 1);
	wgnl_device_free(dev);
	wgnl_ctx_close(ctx);
}

static void uapi_parse__malformed__ebadmsg(void **state)
{
	static const char *const bad[] = {
		"listen_port\nerrno=0\n\n",		   /* no '=' */
		"=1\nerrno=0\n\n",			   /* empty key */
		"listen_port=70000\nerrno=0\n\n",	   /* out of range */
		"listen_port=-1\nerrno=0\n\n",		   /* sign */
		"fwmark=4294967296\nerrno=0\n\n",	   /* overflow */
		"private_key=abc\nerrno=0\n\n",		   /* short key */
		"private_key=" PRIV_HEX "00\nerrno=0\n\n", /* long key */
		"public_key=zz" PEER1_HEX "\nerrno=0\n\n",
		"public_key=" PEER1_HEX "\npublic_key=" PEER1_HEX "\nerrno=0\n\n", /* twice */
		"public_key=" PEER1_HEX "\nendpoint=nowhere\nerrno=0\n\n",
		"public_key=" PEER1_HEX "\nallowed_ip=10.0.0.0/33\nerrno=0\n\n",
		"public_key=" PEER1_HEX "\nlast_handshake_time_nsec=1000000000\nerrno=0\n\n",
		/* past the year 9999; near INT64_MAX it overflowed tv_sec * 1000 */
		"public_key=" PEER1_HEX "\nlast_handshake_time_sec=253402300800\nerrno=0\n\n",
		"public_key=" PEER1_HEX
		"\nlast_handshake_time_sec=9223372036854775807\nerrno=0\n\n",
		"public_key=" PEER1_HEX
		"\nlast_handshake_time_sec=18446744073709551615\nerrno=0\n\n",
		"public_key=" PEER1_HEX "\nlisten_port=1\nerrno=0\n\n", /* device key in a peer */
		"listen_port=1\n\nerrno=0\n\n",				/* blank before errno */
		"errno=zero\n\n", "errno=0\nlisten_port=1\n",		/* text after errno */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct wgnl_ctx *ctx = ctx_for(NULL);
		struct wgnl_device *dev = wgnl_device_new("ua0");
		int r = parse_text(ctx, dev, bad[i]);

		if (r != -EBADMSG)
			fail_msg("case %zu: %d for %s", i, r, bad[i]);
		assert_non_null(wgnl_ctx_last_error(ctx));
		assert_non_null(strstr(wgnl_ctx_last_error(ctx), "line"));
		wgnl_device_free(dev);
		wgnl_ctx_close(ctx);
	}
}

static void uapi_parse__uppercase_hex__accepted(void **state)
{
	struct wgnl_ctx *ctx = ctx_for(NULL);
	struct wgnl_device *dev = wgnl_device_new("ua0");

	assert_int_equal(
		parse_text(
			ctx, dev,
			"public_key=B85996FECC9C7F1FC6D2572A76EDA11D59BCD20BE8E543B15CE4BD85A8E75A33\n"
			"errno=0\n\n"),
		1);
	assert_int_equal(dev->n_peers, 1);
	wgnl_device_free(dev);
	wgnl_ctx_close(ctx);
}

static void uapi_parse__handshake_at_year_9999__accepted(void **state)
{
	struct wgnl_ctx *ctx = ctx_for(NULL);
	struct wgnl_device *dev = wgnl_device_new("ua0");

	(void)state;
	assert_int_equal(parse_text(ctx, dev,
				    "public_key=" PEER1_HEX
				    "\nlast_handshake_time_sec=253402300799\n"
				    "errno=0\n\n"),
			 1);
	assert_int_equal(dev->n_peers, 1);
	assert_int_equal(dev->peers[0].last_handshake.tv_sec, 253402300799LL);
	wgnl_device_free(dev);
	wgnl_ctx_close(ctx);
}

static void uapi_parse__zone_of_another_namespace__scope_dropped(void **state)
{
	struct wgnl_ctx *ctx = ctx_for(NULL);
	struct wgnl_device *dev = wgnl_device_new("ua0");
	char buf[64];

	assert_int_equal(parse_text(ctx, dev,
				    "public_key=" PEER1_HEX "\n"
				    "endpoint=[fe80::1%ua-no-such-if]:51820\nerrno=0\n\n"),
			 1);
	assert_string_equal(wgnl_endpoint_format(&dev->peers[0].endpoint, buf, sizeof(buf)),
			    "[fe80::1]:51820");
	wgnl_device_free(dev);
	wgnl_ctx_close(ctx);
}

/* ----------------------------------------------------------------- get */

static void uapi_get__fake_server__device_and_stats(void **state)
{
	struct fake *f = fake_new("ua0");
	struct wgnl_ctx *ctx = ctx_for(f);
	struct wgnl_device *dev = NULL;
	struct wgnl_stats st;
	char priv[2 * WGNL_KEY_LEN + 1];

	f->reply[f->n_reply++] = recorded_get;
	fake_start(f);
	/* AUTO picks UAPI because the socket exists. */
	assert_int_equal(wgnl_backend_detect(ctx, "ua0"), WGNL_BACKEND_UAPI);
	assert_int_equal(wgnl_device_get(ctx, "ua0", &dev), 0);
	fake_join(f);
	assert_non_null(dev);
	assert_string_equal(dev->name, "ua0");
	assert_int_equal(dev->n_peers, 2);
	assert_int_equal(f->n_req, 1);
	assert_string_equal(f->req[0], "get=1\n\n");
	wgnl_stats_get(ctx, &st);
	assert_int_equal(st.get_msgs, 1);
	assert_int_equal(st.set_msgs, 0);
	/* The reply held the private key in hex; the receive buffer is wiped. */
	strcpy(priv, PRIV_HEX);
	assert_null(memmem(ctx->buf, WGI_RECV_BUF, priv, strlen(priv)));
	wgnl_device_free(dev);
	wgnl_ctx_close(ctx);
	fake_free(f);
}

static void uapi_caps__socket_device__none_without_netlink(void **state)
{
	struct fake *f = fake_new("ua0");
	struct wgnl_ctx *ctx = ctx_for(f);
	struct wgnl_stats st;

	/* The UAPI backend answers for its device; the kernel is not asked. */
	assert_int_equal(wgnl_device_caps(ctx, "ua0"), 0);
	assert_int_equal(wgnl_device_caps(ctx, "bad/name"), -EINVAL);
	wgnl_stats_get(ctx, &st);
	assert_int_equal(st.recv_msgs, 0);
	wgnl_ctx_close(ctx);
	fake_free(f);
}

static void uapi_get__reply_one_byte_at_a_time__parsed(void **state)
{
	struct fake *f = fake_new("ua0");
	struct wgnl_ctx *ctx = ctx_for(f);
	struct wgnl_device *dev = NULL;

	f->reply[f->n_reply++] = recorded_get;
	f->chunk = 1;
	fake_start(f);
	assert_int_equal(wgi_uapi_ops.get_device(ctx, "ua0", &dev), 0);
	fake_join(f);
	assert_non_null(dev);
	assert_int_equal(dev->n_peers, 2);
	assert_int_equal(dev->peers[0].n_allowedips + dev->peers[1].n_allowedips, 2);
	wgnl_device_free(dev);
	wgnl_ctx_close(ctx);
	fake_free(f);
}

/* A reply far larger than the receive buffer, split at arbitrary points. */
static char *big_reply(size_t n_peers, size_t *len)
{
	size_t cap = n_peers * 400 + 64, off = 0;
	char *s = malloc(cap);

	assert_non_null(s);
	off += (size_t)sprintf(s + off, "private_key=" PRIV_HEX "\nlisten_port=51820\n");
	for (size_t i = 0; i < n_peers; i++) {
		off += (size_t)sprintf(s + off,
				       "public_key=%056x%08zx\npreshared_key=" ZERO_HEX "\n"
				       "protocol_version=1\nendpoint=10.%zu.%zu.1:%zu\n"
				       "last_handshake_time_sec=0\nlast_handshake_time_nsec=0\n"
				       "tx_bytes=%zu\nrx_bytes=0\npersistent_keepalive_interval=0\n"
				       "allowed_ip=10.%zu.%zu.0/24\nallowed_ip=fd00::%zx/128\n",
				       0, i, (i >> 8) & 255, i & 255, 1024 + i % 60000, i,
				       (i >> 8) & 255, i & 255, i);
	}
	off += (size_t)sprintf(s + off, "errno=0\n\n");
	*len = off;
	return s;
}

static void uapi_get__20k_peers_split_reply__all_parsed(void **state)
{
	const size_t n = 20000;
	struct fake *f = fake_new("ua0");
	struct wgnl_ctx *ctx = ctx_for(f);
	struct wgnl_device *dev = NULL;
	size_t len;
	char *text = big_reply(n, &len);

	assert_true(len > 4 * WGI_RECV_BUF);
	f->reply[f->n_reply++] = text;
	f->chunk = 4093; /* lines straddle every read */
	fake_start(f);
	assert_int_equal(wgi_uapi_ops.get_device(ctx, "ua0", &dev), 0);
	fake_join(f);
	assert_non_null(dev);
	assert_int_equal(dev->n_peers, n);
	for (size_t i = 0; i < n; i += 997) {
		wgnl_key k = { 0 };
		struct wgnl_peer *p;

		k[28] = (uint8_t)(i >> 24);
		k[29] = (uint8_t)(i >> 16);
		k[30] = (uint8_t)(i >> 8);
		k[31] = (uint8_t)i;
		p = wgnl_device_find_peer(dev, k);
		assert_non_null(p);
		assert_int_equal(p->tx_bytes, i);
		assert_int_equal(p->n_allowedips, 2);
	}
	wgnl_device_free(dev);
	wgnl_ctx_close(ctx);
	fake_free(f);
	free(text);
}

static void uapi_get__errno_reply__negative_errno_and_message(void **state)
{
	static const char *const replies[] = { "errno=-19\n\n", "errno=19\n\n" };

	for (size_t i = 0; i < 2; i++) {
		struct fake *f = fake_new("ua0");
		struct wgnl_ctx *ctx = ctx_for(f);
		struct wgnl_device *dev = NULL;

		f->reply[f->n_reply++] = replies[i];
		fake_start(f);
		assert_int_equal(wgnl_device_get(ctx, "ua0", &dev), -ENODEV);
		assert_null(dev);
		assert_non_null(wgnl_ctx_last_error(ctx));
		assert_non_null(strstr(wgnl_ctx_last_error(ctx), "errno=-19"));
		assert_non_null(strstr(wgnl_ctx_last_error(ctx), "'ua0'"));
		wgnl_ctx_close(ctx);
		fake_free(f);
	}
}

static void uapi_get__truncated_reply__ebadmsg(void **state)
{
	static const char *const replies[] = {
		"listen_port=1\n",	  /* closed before errno */
		"listen_port=1\nerrno=0", /* cut inside a line */
		"",			  /* nothing at all */
	};

	for (size_t i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
		struct fake *f = fake_new("ua0");
		struct wgnl_ctx *ctx = ctx_for(f);
		struct wgnl_device *dev = NULL;

		f->reply[f->n_reply++] = replies[i];
		fake_start(f);
		assert_int_equal(wgnl_device_get(ctx, "ua0", &dev), -EBADMSG);
		assert_null(dev);
		assert_non_null(wgnl_ctx_last_error(ctx));
		wgnl_ctx_close(ctx);
		fake_free(f);
	}
}

static void uapi_get__errno_without_blank_line__accepted(void **state)
{
	struct fake *f = fake_new("ua0");
	struct wgnl_ctx *ctx = ctx_for(f);
	struct wgnl_device *dev = NULL;

	f->reply[f->n_reply++] = "listen_port=7\nerrno=0\n";
	fake_start(f);
	assert_int_equal(wgnl_device_get(ctx, "ua0", &dev), 0);
	assert_int_equal(dev->listen_port, 7);
	wgnl_device_free(dev);
	wgnl_ctx_close(ctx);
	fake_free(f);
}

static void uapi_get__endless_line__ebadmsg(void **state)
{
	struct fake *f = fake_new("ua0");
	struct wgnl_ctx *ctx = ctx_for(f);
	struct wgnl_device *dev = NULL;
	char *junk = malloc(64 * 1024);

	memset(junk, 'a', 64 * 1024 - 1);
	junk[64 * 1024 - 1] = '\0';
	f->reply[f->n_reply++] = junk;
	fake_start(f);
	assert_int_equal(wgnl_device_get(ctx, "ua0", &dev), -EBADMSG);
	assert_non_null(strstr(wgnl_ctx_last_error(ctx), "longer"));
	wgnl_ctx_close(ctx);
	fake_free(f);
	free(junk);
}

/* Over a socketpair, without the directory. */
struct pair_arg {
	int fd;
	const char *reply;
	char req[64];
};

static void *pair_thread(void *arg)
{
	struct pair_arg *a = arg;
	ssize_t n = read(a->fd, a->req, sizeof(a->req) - 1);

	if (n > 0)
		a->req[n] = '\0';
	if (write(a->fd, a->reply, strlen(a->reply)) < 0)
		return NULL;
	close(a->fd);
	return NULL;
}

static void uapi_get_fd__socketpair__parsed(void **state)
{
	struct wgnl_ctx *ctx = ctx_for(NULL);
	struct wgnl_device *dev = NULL;
	struct pair_arg a = { .reply = recorded_get };
	pthread_t thr;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	a.fd = sv[1];
	assert_int_equal(pthread_create(&thr, NULL, pair_thread, &a), 0);
	assert_int_equal(wgi_uapi_get_fd(ctx, sv[0], "ua9", &dev), 0);
	pthread_join(thr, NULL);
	close(sv[0]);
	assert_string_equal(a.req, "get=1\n\n");
	assert_string_equal(dev->name, "ua9");
	assert_int_equal(dev->n_peers, 2);
	wgnl_device_free(dev);
	wgnl_ctx_close(ctx);
}

/* ---------------------------------------------------------- connecting */

static void uapi_get__no_socket__enodev(void **state)
{
	struct fake *f = fake_new("other");
	struct wgnl_ctx *ctx = ctx_for(f);
	struct wgnl_device *dev = NULL;

	wgnl_ctx_set_backend(ctx, WGNL_BACKEND_UAPI);
	assert_int_equal(wgnl_device_get(ctx, "ua0", &dev), -ENODEV);
	assert_non_null(strstr(wgnl_ctx_last_error(ctx), "ua0.sock"));
	wgnl_ctx_close(ctx);
	fake_free(f);
}

static void uapi_get__stale_socket__enodev(void **state)
{
	struct fake *f = fake_new("ua0");
	struct wgnl_ctx *ctx = ctx_for(f);
	struct wgnl_device *dev = NULL;

	/* The daemon is gone: the socket file stays, nothing listens. */
	close(f->lfd);
	f->lfd = -1;
	assert_int_equal(wgnl_device_get(ctx, "ua0", &dev), -ENODEV);
	assert_non_null(strstr(wgnl_ctx_last_error(ctx), "stale"));
	wgnl_ctx_close(ctx);
	fake_free(f);
}

/* ----------------------------------------------------------------- set */

static struct wgnl_device *sample_device(void)
{
	struct wgnl_device *dev = wgnl_device_new("ua0");
	struct wgnl_peer *p;
	struct wgnl_prefix pfx;
	wgnl_key k;

	hex_key(dev->private_key, PRIV_HEX);
	dev->listen_port = 51820;
	dev->fwmark = 0x10;
	dev->flags = WGNL_DEV_HAS_PRIVATE_KEY | WGNL_DEV_HAS_LISTEN_PORT | WGNL_DEV_HAS_FWMARK |
		     WGNL_DEV_REPLACE_PEERS;

	hex_key(k, PEER1_HEX);
	assert_int_equal(wgnl_device_add_peer(dev, k, &p), 0);
	hex_key(p->preshared_key, PSK_HEX);
	assert_int_equal(wgnl_endpoint_parse(&p->endpoint, "[fd00::1]:51820"), 0);
	p->persistent_keepalive = 25;
	p->flags |= WGNL_PEER_HAS_PRESHARED_KEY | WGNL_PEER_HAS_ENDPOINT | WGNL_PEER_HAS_KEEPALIVE |
		    WGNL_PEER_REPLACE_ALLOWEDIPS;
	assert_int_equal(wgnl_prefix_parse(&pfx, "10.0.0.2/32"), 0);
	assert_int_equal(wgnl_peer_add_allowedip(p, &pfx), 0);
	assert_int_equal(wgnl_prefix_parse(&pfx, "fd00::/64"), 0);
	assert_int_equal(wgnl_peer_add_allowedip(p, &pfx), 0);

	hex_key(k, PEER2_HEX);
	assert_int_equal(wgnl_device_add_peer(dev, k, &p), 0);
	p->flags |= WGNL_PEER_REMOVE;

	memset(k, 0x11, sizeof(k));
	assert_int_equal(wgnl_device_add_peer(dev, k, &p), 0);
	p->flags |= WGNL_PEER_SKIP;

	memset(k, 0x22, sizeof(k));
	assert_int_equal(wgnl_device_add_peer(dev, k, &p), 0);
	p->flags |= WGNL_PEER_UPDATE_ONLY | WGNL_PEER_HAS_KEEPALIVE;
	assert_int_equal(wgnl_prefix_parse(&pfx, "10.9.0.0/16"), 0);
	assert_int_equal(wgnl_peer_add_allowedip(p, &pfx), 0);
	return dev;
}

/* The set=1 request of sample_device(), byte for byte. */
static const char sample_request[] =
	"set=1\n"
	"private_key=" PRIV_HEX "\n"
	"listen_port=51820\n"
	"fwmark=16\n"
	"replace_peers=true\n"
	"public_key=" PEER1_HEX "\n"
	"preshared_key=" PSK_HEX "\n"
	"endpoint=[fd00::1]:51820\n"
	"persistent_keepalive_interval=25\n"
	"replace_allowed_ips=true\n"
	"allowed_ip=10.0.0.2/32\n"
	"allowed_ip=fd00::/64\n"
	"public_key=" PEER2_HEX "\n"
	"remove=true\n"
	"public_key=2222222222222222222222222222222222222222222222222222222222222222\n"
	"update_only=true\n"
	"persistent_keepalive_interval=0\n"
	"allowed_ip=10.9.0.0/16\n"
	"\n";

static void uapi_set__sample_device__exact_request(void **state)
{
	const char *want = sample_request;
	struct fake *f = fake_new("ua0");
	struct wgnl_ctx *ctx = ctx_for(f);
	struct wgnl_device *dev = sample_device();
	struct wgnl_stats st;

	f->reply[f->n_reply++] = "errno=0\n\n";
	fake_start(f);
	assert_int_equal(wgnl_device_set(ctx, dev), 0);
	fake_join(f);
	assert_int_equal(f->n_req, 1);
	assert_string_equal(f->req[0], want);
	wgnl_stats_get(ctx, &st);
	assert_int_equal(st.set_msgs, 1);
	assert_int_equal(st.get_msgs, 0);
	/* The request held the private key; the buffer it was built in is wiped. */
	assert_null(memmem(ctx->buf, WGI_RECV_BUF, PRIV_HEX, strlen(PRIV_HEX)));
	assert_null(memmem(ctx->buf, WGI_RECV_BUF, PSK_HEX, strlen(PSK_HEX)));
	wgnl_device_free(dev);
	wgnl_ctx_close(ctx);
	fake_free(f);
}

/* ------------------------------------------ the protocol without a socket */

struct text_sink {
	char text[4096];
	size_t len;
	unsigned flushes;
	int fail; /* returned by every flush when set */
};

static int text_flush(void *arg, const char *buf, size_t len)
{
	struct text_sink *s = arg;

	s->flushes++;
	if (s->fail)
		return s->fail;
	assert_true(s->len + len < sizeof(s->text));
	memcpy(s->text + s->len, buf, len);
	s->len += len;
	return 0;
}

static void uapi_write_set__small_buffer__same_text_in_pieces(void **state)
{
	struct wgnl_device *dev = sample_device();
	struct text_sink s = { 0 };
	char buf[300];
	struct wgi_uapi_writer w = {
		.buf = buf, .cap = sizeof(buf), .flush = text_flush, .arg = &s
	};

	assert_int_equal(wgi_uapi_write_set(&w, dev, NULL), 0);
	assert_string_equal(s.text, sample_request);
	assert_true(s.flushes > 1);
	assert_true(w.hiwater <= sizeof(buf));
	wgnl_device_free(dev);
}

static void uapi_write_set__sink_fails__rest_dropped_error_kept(void **state)
{
	struct wgnl_device *dev = sample_device();
	struct text_sink s = { .fail = -EPIPE };
	char buf[300];
	struct wgi_uapi_writer w = {
		.buf = buf, .cap = sizeof(buf), .flush = text_flush, .arg = &s
	};

	assert_int_equal(wgi_uapi_write_set(&w, dev, NULL), -EPIPE);
	assert_int_equal(s.flushes, 1);
	assert_int_equal(s.len, 0);
	wgnl_device_free(dev);
}

static void uapi_error__errno_lines__mapped_and_explained(void **state)
{
	struct wgnl_device *dev = wgnl_device_new("ua0");
	struct wgnl_ctx *ctx;

	assert_int_equal(wgnl_ctx_open(&ctx), 0);
	dev->listen_port = 51820;
	dev->flags = WGNL_DEV_HAS_LISTEN_PORT;
	assert_int_equal(wgi_uapi_error(ctx, "ua0", "set", -EADDRINUSE, dev), -EADDRINUSE);
	assert_non_null(strstr(wgnl_ctx_last_error(ctx), "cannot use listen port 51820"));
	assert_int_equal(wgi_uapi_error(ctx, "ua0", "get", -EINVAL, NULL), -EINVAL);
	assert_non_null(strstr(wgnl_ctx_last_error(ctx), "refused the get"));
	assert_int_equal(wgi_uapi_error(ctx, "ua0", "set", -EPROTO, NULL), -EPROTO);
	assert_non_null(strstr(wgnl_ctx_last_error(ctx), "protocol error (UAPI errno=-71)"));
	wgnl_device_free(dev);
	wgnl_ctx_close(ctx);
}

static void uapi_set__empty_change__bare_transaction(void **state)
{
	struct fake *f = fake_new("ua0");
	struct wgnl_ctx *ctx = ctx_for(f);
	struct wgnl_device *dev = wgnl_device_new("ua0");

	f->reply[f->n_reply++] = "errno=0\n\n";
	fake_start(f);
	assert_int_equal(wgnl_device_set(ctx, dev), 0);
	fake_join(f);
	assert_string_equal(f->req[0], "set=1\n\n");
	wgnl_device_free(dev);
	wgnl_ctx_close(ctx);
	fake_free(f);
}

static void uapi_set__port_in_use__eaddrinuse_names_port(void **state)
{
	struct fake *f = fake_new("ua0");
	struct wgnl_ctx *ctx = ctx_for(f);
	struct wgnl_device *dev = wgnl_device_new("ua0");

	dev->flags = WGNL_DEV_HAS_LISTEN_PORT;
	dev->listen_port = 4242;
	f->reply[f->n_reply++] = "errno=-98\n\n";
	fake_start(f);
	assert_int_equal(wgnl_device_set(ctx, dev), -EADDRINUSE);
	assert_non_null(strstr(wgnl_ctx_last_error(ctx), "4242"));
	wgnl_device_free(dev);
	wgnl_ctx_close(ctx);
	fake_free(f);
}

static void uapi_set__rejected_value__einval_explained(void **state)
{
	struct fake *f = fake_new("ua0");
	struct wgnl_ctx *ctx = ctx_for(f);
	struct wgnl_device *dev = sample_device();

	f->reply[f->n_reply++] = "errno=-22\n\n";
	fake_start(f);
	assert_int_equal(wgnl_device_set(ctx, dev), -EINVAL);
	assert_non_null(strstr(wgnl_ctx_last_error(ctx), "invalid"));
	assert_non_null(strstr(wgnl_ctx_last_error(ctx), "errno=-22"));
	wgnl_device_free(dev);
	wgnl_ctx_close(ctx);
	fake_free(f);
}

/* wireguard-go answers a bad line at once and closes on the rest of a long
 * request: the client must survive EPIPE and report the answer. */
static void uapi_set__server_answers_early_and_closes__its_errno(void **state)
{
	struct fake *f = fake_new("ua0");
	struct wgnl_ctx *ctx = ctx_for(f);
	struct wgnl_device *dev = wgnl_device_new("ua0");
	struct wgnl_peer *p;

	for (uint32_t i = 0; i < 20000; i++) {
		wgnl_key k = { 1 };

		memcpy(k + 4, &i, sizeof(i));
		assert_int_equal(wgnl_device_add_peer(dev, k, &p), 0);
	}
	f->reply[f->n_reply++] = "errno=-22\n\n";
	f->read_limit = 100;
	fake_start(f);
	assert_int_equal(wgnl_device_set(ctx, dev), -EINVAL);
	fake_join(f);
	wgnl_device_free(dev);
	wgnl_ctx_close(ctx);
	fake_free(f);
}

static void uapi_set__closed_without_answer__ebadmsg(void **state)
{
	struct fake *f = fake_new("ua0");
	struct wgnl_ctx *ctx = ctx_for(f);
	struct wgnl_device *dev = wgnl_device_new("ua0");

	f->reply[f->n_reply++] = "";
	fake_start(f);
	assert_int_equal(wgnl_device_set(ctx, dev), -EBADMSG);
	assert_non_null(wgnl_ctx_last_error(ctx));
	wgnl_device_free(dev);
	wgnl_ctx_close(ctx);
	fake_free(f);
}

static void uapi_set__bad_prefix__einval_nothing_sent(void **state)
{
	struct fake *f = fake_new("ua0");
	struct wgnl_ctx *ctx = ctx_for(f);
	struct wgnl_device *dev = sample_device();
	struct pollfd pfd = { .fd = f->lfd, .events = POLLIN };

	dev->peers[0].allowedips[1].cidr = 129;
	assert_int_equal(wgnl_device_set(ctx, dev), -EINVAL);
	assert_non_null(strstr(wgnl_ctx_last_error(ctx), "allowed IP #2"));
	/* No connection was even made. */
	assert_int_equal(poll(&pfd, 1, 0), 0);
	wgnl_device_free(dev);
	wgnl_ctx_close(ctx);
	fake_free(f);
}

/* ----------------------------------------------- allowed-IP removals */

static struct wgnl_device *removal_device(void)
{
	struct wgnl_device *dev = wgnl_device_new("ua0");
	struct wgnl_peer *p;
	struct wgnl_prefix pfx;
	wgnl_key k;

	hex_key(k, PEER1_HEX);
	assert_int_equal(wgnl_device_add_peer(dev, k, &p), 0);
	assert_int_equal(wgnl_prefix_parse(&pfx, "10.0.0.2/32"), 0);
	pfx.flags = WGNL_PREFIX_REMOVE;
	assert_int_equal(wgnl_peer_add_allowedip(p, &pfx), 0);
	assert_int_equal(wgnl_prefix_parse(&pfx, "10.0.0.9/32"), 0);
	assert_int_equal(wgnl_peer_add_allowedip(p, &pfx), 0);
	return dev;
}

static void uapi_set__removal_native__minus_syntax(void **state)
{
	struct fake *f = fake_new("ua0");
	struct wgnl_ctx *ctx = ctx_for(f);
	struct wgnl_device *dev = removal_device();

	f->reply[f->n_reply++] = "errno=0\n\n"; /* the probe: understood */
	f->reply[f->n_reply++] = "errno=0\n\n";
	fake_start(f);
	assert_int_equal(wgnl_device_set(ctx, dev), 0);
	fake_join(f);
	assert_int_equal(f->n_req, 2);
	assert_non_null(strstr(f->req[0], "update_only=true\nallowed_ip=-"));
	assert_string_equal(f->req[1], "set=1\npublic_key=" PEER1_HEX "\n"
				       "allowed_ip=-10.0.0.2/32\nallowed_ip=10.0.0.9/32\n\n");
	wgnl_device_free(dev);
	wgnl_ctx_close(ctx);
	fake_free(f);
}

static void uapi_set__removal_unsupported__peer_list_replaced(void **state)
{
	struct fake *f = fake_new("ua0");
	struct wgnl_ctx *ctx = ctx_for(f);
	struct wgnl_device *dev = removal_device();
	struct wgnl_stats st;

	f->reply[f->n_reply++] = "errno=-22\n\n"; /* the probe: wireguard-go 0.0.20220316 */
	f->reply[f->n_reply++] = "public_key=" PEER1_HEX "\nallowed_ip=10.0.0.1/32\n"
				 "allowed_ip=10.0.0.2/32\nallowed_ip=10.1.0.0/16\nerrno=0\n\n";
	f->reply[f->n_reply++] = "errno=0\n\n";
	fake_start(f);
	assert_int_equal(wgnl_device_set(ctx, dev), 0);
	fake_join(f);
	assert_int_equal(f->n_req, 3);
	assert_string_equal(f->req[1], "get=1\n\n");
	assert_string_equal(f->req[2], "set=1\npublic_key=" PEER1_HEX "\n"
				       "replace_allowed_ips=true\n"
				       "allowed_ip=10.0.0.1/32\nallowed_ip=10.0.0.9/32\n"
				       "allowed_ip=10.1.0.0/16\n\n");
	assert_null(wgnl_ctx_last_error(ctx));
	wgnl_stats_get(ctx, &st);
	assert_int_equal(st.set_msgs, 2); /* the probe and the change */
	assert_int_equal(st.get_msgs, 1);
	wgnl_device_free(dev);
	wgnl_ctx_close(ctx);
	fake_free(f);
}

/* Removals only: no prefix is claimed, so the claimed list stays NULL and
 * must not reach qsort() (NULL with 0 elements is UB under glibc's nonnull;
 * make check-asan's UBSan traps it). Issue 9, item 16. */
static void uapi_set__only_removals_unsupported__no_qsort_of_null(void **state)
{
	struct fake *f = fake_new("ua0");
	struct wgnl_ctx *ctx = ctx_for(f);
	struct wgnl_device *dev = wgnl_device_new("ua0");
	struct wgnl_peer *p;
	struct wgnl_prefix pfx;
	wgnl_key k;

	hex_key(k, PEER1_HEX);
	assert_int_equal(wgnl_device_add_peer(dev, k, &p), 0);
	assert_int_equal(wgnl_prefix_parse(&pfx, "10.0.0.2/32"), 0);
	pfx.flags = WGNL_PREFIX_REMOVE;
	assert_int_equal(wgnl_peer_add_allowedip(p, &pfx), 0);
	f->reply[f->n_reply++] = "errno=-22\n\n"; /* the probe: no native removal */
	f->reply[f->n_reply++] = "public_key=" PEER1_HEX "\nallowed_ip=10.0.0.1/32\n"
				 "allowed_ip=10.0.0.2/32\nerrno=0\n\n";
	f->reply[f->n_reply++] = "errno=0\n\n";
	fake_start(f);
	assert_int_equal(wgnl_device_set(ctx, dev), 0);
	fake_join(f);
	assert_int_equal(f->n_req, 3);
	assert_string_equal(f->req[2], "set=1\npublic_key=" PEER1_HEX "\n"
				       "replace_allowed_ips=true\nallowed_ip=10.0.0.1/32\n\n");
	wgnl_device_free(dev);
	wgnl_ctx_close(ctx);
	fake_free(f);
}

static void uapi_merge__order_masking_claims__kernel_semantics(void **state)
{
	struct wgnl_peer cur = { 0 }, want = { 0 };
	struct wgnl_prefix pfx, claimed[1], *res;
	char buf[64];
	size_t n;
	const char *cur_list[] = { "10.0.0.1/32", "10.0.1.7/24", "10.5.0.0/16", "fd00::1/128" };
	struct {
		const char *s;
		bool rm;
	} ops[] = {
		{ "10.0.1.0/24", true }, /* removes 10.0.1.7/24 once masked */
		{ "10.7.0.0/16", false }, { "10.7.0.0/16", true },  /* added then removed: gone */
		{ "fd00::1/128", true },  { "fd00::1/128", false }, /* removed then added: stays */
	};

	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(wgnl_prefix_parse(&pfx, cur_list[i]), 0);
		assert_int_equal(wgnl_peer_add_allowedip(&cur, &pfx), 0);
	}
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(wgnl_prefix_parse(&pfx, ops[i].s), 0);
		pfx.flags = ops[i].rm ? WGNL_PREFIX_REMOVE : 0;
		assert_int_equal(wgnl_peer_add_allowedip(&want, &pfx), 0);
	}
	/* 10.5.0.0/16 moves to another peer of the same set. */
	assert_int_equal(wgnl_prefix_parse(&claimed[0], "10.5.0.0/16"), 0);
	assert_int_equal(wgi_uapi_merge_allowedips(&cur, &want, claimed, 1, &res, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(wgnl_prefix_format(&res[0], buf, sizeof(buf)), "10.0.0.1/32");
	assert_string_equal(wgnl_prefix_format(&res[1], buf, sizeof(buf)), "fd00::1/128");
	free(res);

	/* No current peer: only what the set adds and keeps. */
	assert_int_equal(wgi_uapi_merge_allowedips(NULL, &want, NULL, 0, &res, &n), 0);
	assert_int_equal(n, 1);
	free(res);
	free(cur.allowedips);
	free(want.allowedips);
}

/* ---------------------------------------------------------------- list */

static void uapi_list__directory__sockets_only(void **state)
{
	struct fake *f = fake_new("ua1");
	struct wgnl_ctx *ctx = ctx_for(f);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char path[256], **names = NULL;
	size_t n = 0;
	int fd, s2, s3;

	/* Another socket, a regular file named like one, a socket without the
	 * suffix, and a name too long for an interface. */
	s2 = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/ua0.sock", f->dir);
	assert_int_equal(bind(s2, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(s2, 1), 0);
	/* A daemon that died leaves a socket nothing listens on: left out. */
	s3 = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/ua9.sock", f->dir);
	assert_int_equal(bind(s3, (struct sockaddr *)&sun, sizeof(sun)), 0);
	snprintf(path, sizeof(path), "%s/notasocket.sock", f->dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(wgi_uapi_ops.list_devices(ctx, &names, &n), 0);
	assert_int_equal(n, 2);
	assert_true((!strcmp(names[0], "ua0") && !strcmp(names[1], "ua1")) ||
		    (!strcmp(names[0], "ua1") && !strcmp(names[1], "ua0")));
	assert_null(names[2]);
	wgnl_strv_free(names);

	/* Through the public call: sorted. */
	wgnl_ctx_set_backend(ctx, WGNL_BACKEND_UAPI);
	assert_int_equal(wgnl_device_list(ctx, &names), 2);
	assert_string_equal(names[0], "ua0");
	assert_string_equal(names[1], "ua1");
	wgnl_strv_free(names);

	unlink(path);
	unlink(sun.sun_path);
	snprintf(path, sizeof(path), "%s/ua0.sock", f->dir);
	unlink(path);
	close(s2);
	close(s3);
	wgnl_ctx_close(ctx);
	fake_free(f);
}

static void uapi_list__missing_directory__empty(void **state)
{
	struct wgnl_ctx *ctx = ctx_for(NULL);
	char **names = NULL;
	size_t n = 0;

	assert_int_equal(wgnl_ctx_set_uapi_dir(ctx, "/nonexistent/wgkit-uapi"), 0);
	assert_int_equal(wgi_uapi_ops.list_devices(ctx, &names, &n), 0);
	assert_int_equal(n, 0);
	assert_null(names);
	wgnl_ctx_close(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(uapi_parse__recorded_get__device_and_peers),
		cmocka_unit_test(uapi_parse__empty_device__port_and_fwmark_zero),
		cmocka_unit_test(uapi_parse__unknown_keys__skipped),
		cmocka_unit_test(uapi_parse__malformed__ebadmsg),
		cmocka_unit_test(uapi_parse__uppercase_hex__accepted),
		cmocka_unit_test(uapi_parse__handshake_at_year_9999__accepted),
		cmocka_unit_test(uapi_parse__zone_of_another_namespace__scope_dropped),
		cmocka_unit_test(uapi_get__fake_server__device_and_stats),
		cmocka_unit_test(uapi_caps__socket_device__none_without_netlink),
		cmocka_unit_test(uapi_get__reply_one_byte_at_a_time__parsed),
		cmocka_unit_test(uapi_get__20k_peers_split_reply__all_parsed),
		cmocka_unit_test(uapi_get__errno_reply__negative_errno_and_message),
		cmocka_unit_test(uapi_get__truncated_reply__ebadmsg),
		cmocka_unit_test(uapi_get__errno_without_blank_line__accepted),
		cmocka_unit_test(uapi_get__endless_line__ebadmsg),
		cmocka_unit_test(uapi_get_fd__socketpair__parsed),
		cmocka_unit_test(uapi_set__only_removals_unsupported__no_qsort_of_null),
		cmocka_unit_test(uapi_get__no_socket__enodev),
		cmocka_unit_test(uapi_get__stale_socket__enodev),
		cmocka_unit_test(uapi_set__sample_device__exact_request),
		cmocka_unit_test(uapi_write_set__small_buffer__same_text_in_pieces),
		cmocka_unit_test(uapi_write_set__sink_fails__rest_dropped_error_kept),
		cmocka_unit_test(uapi_error__errno_lines__mapped_and_explained),
		cmocka_unit_test(uapi_set__empty_change__bare_transaction),
		cmocka_unit_test(uapi_set__port_in_use__eaddrinuse_names_port),
		cmocka_unit_test(uapi_set__rejected_value__einval_explained),
		cmocka_unit_test(uapi_set__server_answers_early_and_closes__its_errno),
		cmocka_unit_test(uapi_set__closed_without_answer__ebadmsg),
		cmocka_unit_test(uapi_set__bad_prefix__einval_nothing_sent),
		cmocka_unit_test(uapi_set__removal_native__minus_syntax),
		cmocka_unit_test(uapi_set__removal_unsupported__peer_list_replaced),
		cmocka_unit_test(uapi_merge__order_masking_claims__kernel_semantics),
		cmocka_unit_test(uapi_list__directory__sockets_only),
		cmocka_unit_test(uapi_list__missing_directory__empty),
	};

	return cmocka_run_group_tests_name("uapi", tests, NULL, group_teardown);
}
