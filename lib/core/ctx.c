// SPDX-License-Identifier: MIT
/* The context and the backend dispatch behind the public get/set/list calls. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

#define WGNL_DEFAULT_UAPI_DIR "/var/run/wireguard"

int wgnl_ctx_open(struct wgnl_ctx **ret)
{
	struct wgnl_ctx *ctx;

	*ret = NULL;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->buf = malloc(WGI_RECV_BUF);
	if (!ctx->buf) {
		free(ctx);
		return -ENOMEM;
	}
	ctx->caps = -1;
	strcpy(ctx->uapi_dir, WGNL_DEFAULT_UAPI_DIR);
	*ret = ctx;
	return 0;
}

void wgnl_ctx_close(struct wgnl_ctx *ctx)
{
	if (!ctx)
		return;
	wgi_nl_close(&ctx->genl);
	wgi_nl_close(&ctx->rtnl);
	free(ctx->buf);
	free(ctx);
}

void wgnl_ctx_set_backend(struct wgnl_ctx *ctx, enum wgnl_backend_kind kind)
{
	ctx->backend = kind;
}

int wgnl_ctx_set_uapi_dir(struct wgnl_ctx *ctx, const char *dir)
{
	if (strlen(dir) >= sizeof(ctx->uapi_dir))
		return -ENAMETOOLONG;
	strcpy(ctx->uapi_dir, dir);
	return 0;
}

static bool uapi_socket_exists(const struct wgnl_ctx *ctx, const char *ifname)
{
	char path[sizeof(ctx->uapi_dir) + WGNL_IFNAMSIZ + 8];
	struct stat st;

	if (!ifname || !*ifname || strchr(ifname, '/'))
		return false;
	snprintf(path, sizeof(path), "%s/%s.sock", ctx->uapi_dir, ifname);
	/* A directory we may not search (wireguard-go makes it 0700 or 0755):
	 * take the socket's side, so the caller hears "permission denied"
	 * rather than "no such device" for a device that may well exist. The
	 * kernel's side would refuse an unprivileged caller all the same. */
	if (stat(path, &st) < 0)
		return errno == EACCES;
	return S_ISSOCK(st.st_mode);
}

enum wgnl_backend_kind wgnl_backend_detect(struct wgnl_ctx *ctx, const char *ifname)
{
	if (ctx->backend != WGNL_BACKEND_AUTO)
		return ctx->backend;
	/* As `wg` does: a UAPI socket for the name wins over the kernel. */
	return uapi_socket_exists(ctx, ifname) ? WGNL_BACKEND_UAPI : WGNL_BACKEND_KERNEL;
}

const struct wgi_backend_ops *wgi_backend_for(struct wgnl_ctx *ctx, const char *ifname)
{
	if (ctx->ops_override)
		return ctx->ops_override;
	return wgnl_backend_detect(ctx, ifname) == WGNL_BACKEND_UAPI ? &wgi_uapi_ops :
								       &wgi_kernel_ops;
}

const char *wgnl_ctx_last_error(const struct wgnl_ctx *ctx)
{
	return ctx->errmsg[0] ? ctx->errmsg : NULL;
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
	static const struct wgi_backend_ops *const all[] = { &wgi_kernel_ops, &wgi_uapi_ops };
	char **names = NULL;
	size_t n = 0, out = 0;
	int r;

	*ret = NULL;
	wgi_clear_error(ctx);
	for (size_t i = 0; i < WGI_ARRAY_SIZE(all); i++) {
		const struct wgi_backend_ops *ops = ctx->ops_override ? ctx->ops_override : all[i];

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
