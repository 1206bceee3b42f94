/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the UAPI reply parser: the input is what a
 * userspace implementation (wireguard-go) answers to `get=1`, read by the
 * library's own streamed reader over a socketpair, as for a real socket.
 * Any input gives a device or -EBADMSG / a -errno the reply carried, never
 * a crash, a leak or a read out of bounds; a parsed device's peers have
 * valid keys and can be looked up by them. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "uapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct wgnl_ctx *ctx;
	struct wgnl_device *dev = NULL;
	int sv[2], r;

	/* The socket buffer takes it all before the reader runs. */
	if (size > 65536)
		return 0;
	if (!ctx && wgnl_open(&ctx) < 0)
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
	wgnl_device_free(dev);
	return 0;
}
