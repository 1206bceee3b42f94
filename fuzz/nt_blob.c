/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the wireguard-nt blob codec (lib/windows/nt_blob.c,
 * plain C, built here on Linux): the input is a configuration blob as
 * WireGuardGetConfiguration returns it (seeds: blobs the stand-in
 * wireguard.dll reported). It is handed over in an 8-byte-aligned heap
 * block of exactly its size, so ASan sees any read past it. What parses is
 * built back into a set blob of the size wgi_nt_blob_size() gives, which
 * must parse again to the same peers, keys, keepalives, endpoints and
 * allowed IPs. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "windows/nt_blob.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_peer(const struct wgnl_peer *a, const struct wgnl_peer *b)
{
	if (memcmp(a->public_key, b->public_key, WGNL_KEY_LEN) ||
	    (a->flags & WGNL_PEER_HAS_PRESHARED_KEY) != (b->flags & WGNL_PEER_HAS_PRESHARED_KEY) ||
	    ((a->flags & WGNL_PEER_HAS_PRESHARED_KEY) &&
	     memcmp(a->preshared_key, b->preshared_key, WGNL_KEY_LEN)) ||
	    a->persistent_keepalive != b->persistent_keepalive ||
	    (a->flags & WGNL_PEER_HAS_ENDPOINT) != (b->flags & WGNL_PEER_HAS_ENDPOINT) ||
	    ((a->flags & WGNL_PEER_HAS_ENDPOINT) &&
	     !wgnl_endpoint_equal(&a->endpoint, &b->endpoint)) ||
	    a->n_allowedips != b->n_allowedips)
		abort();
	for (size_t i = 0; i < a->n_allowedips; i++)
		if (wgnl_prefix_cmp(&a->allowedips[i], &b->allowedips[i]))
			abort();
}

static void roundtrip(struct wgnl_ctx *ctx, const struct wgnl_device *dev)
{
	struct wgnl_device *back = wgnl_device_new("fuzz");
	uint8_t *buf;
	size_t bytes = 0;

	if (!back)
		abort();
	if (wgi_nt_blob_size(ctx, dev, &bytes) < 0) {
		wgnl_device_free(back);
		return;
	}
	buf = aligned_alloc(8, (bytes + 7) & ~(size_t)7);
	if (!buf)
		abort();
	memset(buf, 0, bytes);
	wgi_nt_blob_build(dev, buf);
	if (wgi_nt_blob_parse(ctx, buf, bytes, back) < 0 || back->n_peers != dev->n_peers)
		abort();
	for (size_t i = 0; i < dev->n_peers; i++)
		same_peer(&dev->peers[i], &back->peers[i]);
	wgnl_wipe(buf, bytes);
	free(buf);
	wgnl_device_free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct wgnl_ctx *ctx;
	struct wgnl_device *dev;
	uint8_t *blob;

	if (!ctx && wgnl_ctx_open(&ctx) < 0)
		abort();
	blob = aligned_alloc(8, (size + 7) & ~(size_t)7);
	dev = wgnl_device_new("fuzz");
	if (!blob || !dev)
		abort();
	memcpy(blob, data, size);
	if (wgi_nt_blob_parse(ctx, blob, size, dev) == 0)
		roundtrip(ctx, dev);
	wgnl_device_free(dev);
	free(blob);
	return 0;
}
