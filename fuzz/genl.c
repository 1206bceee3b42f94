/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the generic netlink dump parsers: the first byte
 * picks the parser, the rest is back-to-back netlink messages as the kernel
 * sends them (seeds: the recorded bytes of tests/unit/genl_fixtures.c).
 *   0: WG_CMD_GET_DEVICE dump into a device, then a round trip: the device
 *      is built into WG_CMD_SET_DEVICE messages (same layout) and those
 *      parse back to the same peers, keys, allowed IPs, endpoints;
 *   1: the same dump streamed peer by peer through a callback;
 *   2: the CTRL_CMD_GETPOLICY dump of the family.
 * Each message is handed over in a heap block of exactly nlmsg_len bytes,
 * so ASan sees any read past it. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>

#include "linux/genl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int each_msg(const uint8_t *data, size_t size,
		    int (*fn)(const struct nlmsghdr *nlh, void *arg), void *arg)
{
	/* Aligned, as the receive buffer is. */
	uint8_t *buf = malloc(size ? size : 1);
	const struct nlmsghdr *m = (const struct nlmsghdr *)buf;
	int left = (int)size, r = 0;

	if (!buf)
		abort();
	memcpy(buf, data, size);
	/* mnl_nlmsg_ok() compares nlmsg_len as an int: a length above
	 * INT_MAX passes it (the kernel never sends one). */
	for (; mnl_nlmsg_ok(m, left) && m->nlmsg_len <= (uint32_t)left && r >= 0;
	     m = mnl_nlmsg_next(m, &left)) {
		struct nlmsghdr *c = malloc(m->nlmsg_len);

		if (!c)
			abort();
		memcpy(c, m, m->nlmsg_len);
		r = fn(c, arg);
		free(c);
	}
	free(buf);
	return r;
}

static int parse_one(const struct nlmsghdr *nlh, void *arg)
{
	int r = wgi_genl_parse_msg(nlh, arg);

	if (r != 0 && r != -EBADMSG && r != -ENOMEM)
		abort();
	return r;
}

static int policy_one(const struct nlmsghdr *nlh, void *arg)
{
	int r = wgi_genl_policy_parse(nlh, arg);

	if (r != 0 && r != -EBADMSG)
		abort();
	return r;
}

static int stream_cb(const struct wgnl_device *dev, const struct wgnl_peer *peer, void *data)
{
	size_t *n = data;

	if (!(peer->flags & WGNL_PEER_HAS_PUBLIC_KEY) && peer->n_allowedips > 1U << 24)
		abort();
	(*n)++;
	return 0;
}

/* Device -> set messages -> device: the same peers, as far as a set
 * carries them (keys, preshared key, endpoint, keepalive, allowed IPs). */
static void roundtrip(struct wgnl_device *dev)
{
	struct wgi_genl_parse st = { .dev = wgnl_device_new(dev->name) };
	struct wgi_genl_set_cursor cur = { 0 };
	uint8_t *msg = malloc(WGI_GENL_SET_BUF);
	int r;

	if (!st.dev || !msg)
		abort();
	dev->flags &= ~(uint32_t)WGNL_DEV_REPLACE_PEERS;
	for (size_t i = 0; i < dev->n_peers; i++)
		dev->peers[i].flags &=
			~(uint32_t)(WGNL_PEER_REMOVE | WGNL_PEER_UPDATE_ONLY | WGNL_PEER_SKIP);
	while ((r = wgi_genl_build_set(dev, 0x20, msg, WGI_GENL_SET_BUF, &cur)) > 0) {
		if (wgi_genl_parse_msg((struct nlmsghdr *)msg, &st) != 0)
			abort();
		if (cur.msgs > 100000)
			abort();
	}
	free(msg);
	if (r < 0) { /* a prefix of an unknown family, a name too long: refused */
		if (r != -EINVAL)
			abort();
		wgnl_device_free(st.dev);
		return;
	}
	if (st.dev->n_peers != dev->n_peers)
		abort();
	for (size_t i = 0; i < dev->n_peers; i++) {
		const struct wgnl_peer *a = &dev->peers[i];
		const struct wgnl_peer *b = wgnl_device_find_peer(st.dev, a->public_key);

		if (!b || a->n_allowedips != b->n_allowedips ||
		    !wgnl_key_equal(a->preshared_key, b->preshared_key) ||
		    ((a->flags & WGNL_PEER_HAS_ENDPOINT) &&
		     !wgnl_endpoint_equal(&a->endpoint, &b->endpoint)) ||
		    ((a->flags & WGNL_PEER_HAS_KEEPALIVE) &&
		     a->persistent_keepalive != b->persistent_keepalive))
			abort();
		for (size_t k = 0; k < a->n_allowedips; k++)
			if (wgnl_prefix_cmp(&a->allowedips[k], &b->allowedips[k]))
				abort();
	}
	wgnl_device_free(st.dev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned mode;

	if (!size)
		return 0;
	mode = data[0] % 3;
	data++;
	size--;
	if (mode == 0) {
		struct wgi_genl_parse st = { .dev = wgnl_device_new("wgfz") };

		if (!st.dev)
			abort();
		if (each_msg(data, size, parse_one, &st) == 0)
			roundtrip(st.dev);
		wgi_genl_parse_release(&st);
		wgnl_device_free(st.dev);
	} else if (mode == 1) {
		size_t n = 0;
		struct wgi_genl_parse st = { .dev = wgnl_device_new("wgfz"),
					     .cb = stream_cb,
					     .cb_data = &n };

		if (!st.dev)
			abort();
		if (each_msg(data, size, parse_one, &st) == 0 && wgi_genl_parse_flush(&st) != 0)
			abort();
		if (st.dev->n_peers)
			abort(); /* streamed peers never join the device */
		wgi_genl_parse_release(&st);
		wgnl_device_free(st.dev);
	} else {
		struct wgi_genl_policy pol;

		memset(&pol, 0, sizeof(pol));
		if (each_msg(data, size, policy_one, &pol) == 0) {
			int r = wgi_genl_policy_aip_flags(&pol);

			if (r != 0 && r != 1 && r != -ENOENT)
				abort();
		}
	}
	return 0;
}
