// SPDX-License-Identifier: MIT
/* The context and the backend dispatch behind the public get/set/list calls:
 * the one place where a backend is chosen. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <stdio.h>

#include "compat.h"
#include "internal.h"

/* The WireGuard backends of this OS. Which one serves a device is decided
 * here and nowhere else (wgi_backend_for()): the forced kind, else the first
 * backend that claims the name, else the one that claims nothing (the
 * fallback). wgnl_device_list() asks them all, in this order. */
#ifdef _WIN32
static const struct wgi_backend_ops *const backends[] = {
	&wgi_nt_backend,
};
#else
static const struct wgi_backend_ops *const backends[] = {
	&wgi_kernel_ops,
	&wgi_uapi_ops,
};
#endif
_Static_assert(WGI_ARRAY_SIZE(backends) <= WGI_BACKENDS_MAX, "raise WGI_BACKENDS_MAX");

/* The network ops of this OS. */
#ifdef _WIN32
static const struct wgi_net_ops *const net_ops = &wgi_iphlp_net;
#else
static const struct wgi_net_ops *const net_ops = &wgi_rtnl_ops;
#endif

int wgnl_ctx_open(struct wgnl_ctx **ret)
{
	struct wgnl_ctx *ctx;
	int r;

	*ret = NULL;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->net = net_ops;
	ctx->buf = malloc(WGI_RECV_BUF);
	if (!ctx->buf) {
		free(ctx);
		return -ENOMEM;
	}
	for (size_t i = 0; i < WGI_ARRAY_SIZE(backends); i++) {
		if (!backends[i]->open)
			continue;
		r = backends[i]->open(&ctx->backend_priv[i]);
		if (r < 0) {
			wgnl_ctx_close(ctx);
			return r;
		}
	}
	if (ctx->net->open) {
		r = ctx->net->open(&ctx->net_priv);
		if (r < 0) {
			wgnl_ctx_close(ctx);
			return r;
		}
	}
	*ret = ctx;
	return 0;
}

void wgnl_ctx_close(struct wgnl_ctx *ctx)
{
	if (!ctx)
		return;
	for (size_t i = 0; i < WGI_ARRAY_SIZE(backends); i++)
		if (backends[i]->close)
			backends[i]->close(ctx->backend_priv[i]);
	if (ctx->net->close)
		ctx->net->close(ctx->net_priv);
	free(ctx->buf);
	free(ctx);
}

void wgnl_ctx_set_backend(struct wgnl_ctx *ctx, enum wgnl_backend_kind kind)
{
	ctx->backend = kind;
}

void *wgi_backend_priv(const struct wgnl_ctx *ctx, const struct wgi_backend_ops *ops)
{
	for (size_t i = 0; i < WGI_ARRAY_SIZE(backends); i++)
		if (backends[i] == ops)
			return ctx->backend_priv[i];
	return NULL;
}

void *wgi_net_priv(const struct wgnl_ctx *ctx)
{
	return ctx->net_priv;
}

static const struct wgi_backend_ops *backend_of_kind(enum wgnl_backend_kind kind)
{
	for (size_t i = 0; i < WGI_ARRAY_SIZE(backends); i++)
		if (backends[i]->kind == kind)
			return backends[i];
	return NULL;
}

static const struct wgi_backend_ops *backend_detect(struct wgnl_ctx *ctx, const char *ifname)
{
	const struct wgi_backend_ops *fallback = NULL, *ops;

	if (ctx->backend != WGNL_BACKEND_AUTO) {
		ops = backend_of_kind(ctx->backend);
		if (ops)
			return ops;
	}
	for (size_t i = 0; i < WGI_ARRAY_SIZE(backends); i++) {
		if (!backends[i]->claims)
			fallback = fallback ? fallback : backends[i];
		else if (ctx->backend == WGNL_BACKEND_AUTO && backends[i]->claims(ctx, ifname))
			return backends[i];
	}
	return fallback;
}

enum wgnl_backend_kind wgnl_backend_detect(struct wgnl_ctx *ctx, const char *ifname)
{
	if (ctx->backend != WGNL_BACKEND_AUTO)
		return ctx->backend;
	return backend_detect(ctx, ifname)->kind;
}

const struct wgi_backend_ops *wgi_backend_for(struct wgnl_ctx *ctx, const char *ifname)
{
	if (ctx->ops_override)
		return ctx->ops_override;
	return backend_detect(ctx, ifname);
}

void wgi_backend_release_stale(struct wgnl_ctx *ctx, const char *ifname)
{
	const struct wgi_backend_ops *ops = wgi_backend_for(ctx, ifname);

	if (ops && ops->release_stale)
		ops->release_stale(ctx, ifname);
}

const char *wgnl_ctx_last_error(const struct wgnl_ctx *ctx)
{
	return ctx->errmsg[0] ? ctx->errmsg : NULL;
}

void wgi_set_error(struct wgnl_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->errmsg, sizeof(ctx->errmsg), fmt, ap);
	va_end(ap);
}

void wgi_clear_error(struct wgnl_ctx *ctx)
{
	ctx->errmsg[0] = '\0';
}

uint32_t wgi_ifindex(const char *name)
{
	return name && *name ? if_nametoindex(name) : 0;
}

void wgnl_stats_get(const struct wgnl_ctx *ctx, struct wgnl_stats *out)
{
	*out = ctx->stats;
}

void wgnl_stats_reset(struct wgnl_ctx *ctx)
{
	memset(&ctx->stats, 0, sizeof(ctx->stats));
}

static int check_name(struct wgnl_ctx *ctx, const char *ifname)
{
	if (!ifname || !*ifname || strlen(ifname) >= WGNL_IFNAMSIZ || strchr(ifname, '/')) {
		wgi_set_error(ctx, "invalid interface name");
		return -EINVAL;
	}
	return 0;
}

int wgnl_device_get(struct wgnl_ctx *ctx, const char *ifname, struct wgnl_device **ret)
{
	int r;

	*ret = NULL;
	wgi_clear_error(ctx);
	r = check_name(ctx, ifname);
	if (r < 0)
		return r;
	return wgi_backend_for(ctx, ifname)->get_device(ctx, ifname, ret);
}

int wgnl_device_set(struct wgnl_ctx *ctx, const struct wgnl_device *dev)
{
	int r;

	wgi_clear_error(ctx);
	r = check_name(ctx, dev->name);
	if (r < 0)
		return r;
	return wgi_backend_for(ctx, dev->name)->set_device(ctx, dev);
}

/* The whole device read at once, then handed to @cb peer by peer: for a
 * backend whose reply is one block anyway (a UAPI text reply). */
static int get_stream_whole(struct wgnl_ctx *ctx, const struct wgi_backend_ops *ops,
			    const char *ifname, wgnl_peer_cb cb, void *data,
			    struct wgnl_device **ret)
{
	struct wgnl_device *dev;
	int r;

	r = ops->get_device(ctx, ifname, &dev);
	if (r < 0)
		return r;
	for (size_t i = 0; i < dev->n_peers && r >= 0; i++)
		r = cb(dev, &dev->peers[i], data);
	for (size_t i = 0; i < dev->n_peers; i++)
		wgi_peer_clear(&dev->peers[i]);
	dev->n_peers = 0;
	if (r >= 0)
		r = wgi_device_reindex(dev);
	if (r < 0) {
		wgnl_device_free(dev);
		return r;
	}
	*ret = dev;
	return 0;
}

int wgnl_device_get_stream(struct wgnl_ctx *ctx, const char *ifname, wgnl_peer_cb cb, void *data,
			   struct wgnl_device **ret)
{
	const struct wgi_backend_ops *ops;
	int r;

	*ret = NULL;
	wgi_clear_error(ctx);
	r = check_name(ctx, ifname);
	if (r < 0)
		return r;
	ops = wgi_backend_for(ctx, ifname);
	if (ops->get_device_stream)
		return ops->get_device_stream(ctx, ifname, cb, data, ret);
	return get_stream_whole(ctx, ops, ifname, cb, data, ret);
}

static int caps_of(struct wgnl_ctx *ctx, const struct wgi_backend_ops *ops)
{
	return ops && ops->caps ? ops->caps(ctx) : 0;
}

int wgnl_ctx_caps(struct wgnl_ctx *ctx)
{
	return caps_of(ctx, backend_of_kind(WGNL_BACKEND_KERNEL));
}

int wgnl_device_caps(struct wgnl_ctx *ctx, const char *ifname)
{
	int r = check_name(ctx, ifname);

	if (r < 0)
		return r;
	return caps_of(ctx, wgi_backend_for(ctx, ifname));
}

int wgi_kernel_device_clear_peers(struct wgnl_ctx *ctx, const char *ifname)
{
	const struct wgi_backend_ops *ops = ctx->ops_override;
	struct wgnl_device *dev;
	int r;

	if (!ops)
		ops = backend_of_kind(WGNL_BACKEND_KERNEL);
	if (!ops)
		return -EOPNOTSUPP;
	if (ops->clear_peers)
		return ops->clear_peers(ctx, ifname);
	dev = wgnl_device_new(ifname);
	if (!dev)
		return -ENOMEM;
	dev->flags = WGNL_DEV_REPLACE_PEERS;
	r = ops->set_device(ctx, dev);
	wgnl_device_free(dev);
	return r;
}

/* The library's own free(), so that what it allocated goes back to the
 * allocator it came from whatever runtime the caller links. */
void wgnl_free(void *p)
{
	free(p);
}

void wgnl_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

static int strv_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int wgnl_device_list(struct wgnl_ctx *ctx, char ***ret)
{
	char **names = NULL;
	size_t n = 0, out = 0;
	int r;

	*ret = NULL;
	wgi_clear_error(ctx);
	for (size_t i = 0; i < WGI_ARRAY_SIZE(backends); i++) {
		const struct wgi_backend_ops *ops = ctx->ops_override ? ctx->ops_override :
									backends[i];

		r = ops->list_devices(ctx, &names, &n);
		/* A kernel without WireGuard still lists UAPI devices. */
		if (r < 0 && r != -EPROTONOSUPPORT && r != -ENOENT) {
			wgnl_strv_free(names);
			return r;
		}
		if (ctx->ops_override)
			break;
	}
	if (!names) {
		names = calloc(1, sizeof(*names));
		if (!names)
			return -ENOMEM;
	}
	qsort(names, n, sizeof(*names), strv_cmp);
	for (size_t i = 0; i < n; i++) {
		if (out && !strcmp(names[out - 1], names[i])) {
			free(names[i]);
			continue;
		}
		names[out++] = names[i];
	}
	names[out] = NULL;
	*ret = names;
	return (int)out;
}

int wgi_strv_push(char ***names, size_t *n, const char *name)
{
	char **v = realloc(*names, (*n + 2) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	*names = v;
	v[*n] = strdup(name);
	if (!v[*n]) {
		v[*n] = NULL;
		return -ENOMEM;
	}
	v[++*n] = NULL;
	return 0;
}
