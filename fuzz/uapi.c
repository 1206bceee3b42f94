/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the UAPI reply parser: the input is what a
 * userspace implementation (wireguard-go) answers to `get=1`, read by the
 * library's own streamed reader over a socketpair, as for a real socket.
 * Any input gives a device or -EBADMSG / a -errno the reply carried, never
 * a crash, a leak or a read out of bounds; a parsed device's peers have
 * valid keys and can be looked up by them. Round trip: the device is
 * written by the library's own `set=1` writer, and that request, read as a
 * reply (the same key=value lines without the set's action lines), parses
 * back to the same keys, port, fwmark, peers, endpoints, keepalives and
 * allowed IPs. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "uapi/uapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The text @dev's set request carries, as a get reply: the lines a reply
 * never has dropped, "errno=0" and the blank line appended. */
static char *set_request_as_reply(struct wgnl_ctx *ctx, const struct wgnl_device *dev, size_t *len)
{
	static const char ok[] = "errno=0\n\n";
	static char req[1 << 20];
	size_t n = 0, o = 0;
	char *out;
	int sv[2];
	ssize_t k;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	/* The answer is waiting before the request is written. */
	if (write(sv[1], ok, sizeof(ok) - 1) != (ssize_t)sizeof(ok) - 1)
		abort();
	if (wgi_uapi_set_fd(ctx, sv[0], dev, NULL) != 0)
		abort();
	close(sv[0]);
	while ((k = read(sv[1], req + n, sizeof(req) - n)) > 0)
		n += (size_t)k;
	close(sv[1]);
	out = malloc(n + sizeof(ok));
	if (!out)
		abort();
	for (size_t pos = 0; pos < n;) {
		const char *nl = memchr(req + pos, '\n', n - pos);
		size_t l = nl ? (size_t)(nl - (req + pos)) + 1 : n - pos;
		const char *line = req + pos;

		pos += l;
		if (l == 1 || !strncmp(line, "set=", 4) || !strncmp(line, "replace_peers=", 14) ||
		    !strncmp(line, "replace_allowed_ips=", 20) ||
		    !strncmp(line, "update_only=", 12))
			continue;
		memcpy(out + o, line, l);
		o += l;
	}
	memcpy(out + o, ok, sizeof(ok) - 1);
	*len = o + sizeof(ok) - 1;
	return out;
}

static void roundtrip(struct wgnl_ctx *ctx, const struct wgnl_device *dev)
{
	struct wgnl_device *dev2 = NULL;
	size_t len;
	char *text = set_request_as_reply(ctx, dev, &len);
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	if (write(sv[1], text, len) != (ssize_t)len)
		abort();
	shutdown(sv[1], SHUT_WR);
	if (wgi_uapi_get_fd(ctx, sv[0], "fz0", &dev2) != 0) {
		fprintf(stderr, "the set request does not parse as a reply: %s\n%.*s",
			wgnl_ctx_last_error(ctx), (int)len, text);
		abort();
	}
	close(sv[0]);
	close(sv[1]);
	free(text);
	if (dev2->n_peers != dev->n_peers ||
	    (dev->flags & WGNL_DEV_HAS_PRIVATE_KEY &&
	     !wgnl_key_equal(dev->private_key, dev2->private_key)) ||
	    dev->listen_port != dev2->listen_port || dev->fwmark != dev2->fwmark)
		abort();
	for (size_t i = 0; i < dev->n_peers; i++) {
		const struct wgnl_peer *a = &dev->peers[i];
		const struct wgnl_peer *b = wgnl_device_find_peer(dev2, a->public_key);

		if (!b || a->n_allowedips != b->n_allowedips ||
		    !wgnl_key_equal(a->preshared_key, b->preshared_key) ||
		    ((a->flags & WGNL_PEER_HAS_ENDPOINT) &&
		     !wgnl_endpoint_equal(&a->endpoint, &b->endpoint)) ||
		    a->persistent_keepalive != b->persistent_keepalive)
			abort();
		for (size_t k = 0; k < a->n_allowedips; k++)
			if (wgnl_prefix_cmp(&a->allowedips[k], &b->allowedips[k]))
				abort();
	}
	wgnl_device_free(dev2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct wgnl_ctx *ctx;
	struct wgnl_device *dev = NULL;
	int sv[2], r;

	/* The socket buffer takes it all before the reader runs. */
	if (size > 65536)
		return 0;
	if (!ctx && wgnl_ctx_open(&ctx) < 0)
		abort();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	if (size && write(sv[1], data, size) != (ssize_t)size)
		abort();
	shutdown(sv[1], SHUT_WR);
	r = wgi_uapi_get_fd(ctx, sv[0], "fz0", &dev);
	close(sv[0]);
	close(sv[1]);
	if (r < 0) {
		if (dev)
			abort();
		return 0;
	}
	if (!dev)
		abort();
	for (size_t i = 0; i < dev->n_peers; i++) {
		const struct wgnl_peer *p = &dev->peers[i];

		if (wgnl_device_find_peer(dev, p->public_key) != p)
			abort();
		for (size_t k = 0; k < p->n_allowedips; k++)
			if (p->allowedips[k].cidr > (p->allowedips[k].family == AF_INET ? 32 : 128))
				abort();
	}
	roundtrip(ctx, dev);
	wgnl_device_free(dev);
	return 0;
}
