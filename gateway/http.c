// SPDX-License-Identifier: MIT
/* The management HTTP server: GET /metrics, /readyz, /healthz on [Http]
 * Listen only, through libmicrohttpd (one internal polling thread, a
 * connection limit and an idle timeout). It parses nothing of its own: the
 * URL is compared whole, the method is compared whole. Every answer is
 * built from a copy of the snapshot taken under the metrics mutex, so a
 * slow scrape never holds up the main loop. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edge.h"
#include "mhd.h"

/* A handful of scrapers and probes; anything beyond waits or is refused. */
#define GW_HTTP_CONN_LIMIT 32
#define GW_HTTP_PER_IP_LIMIT 8
#define GW_HTTP_TIMEOUT_S 5

/* libmicrohttpd, loaded on first use (mhd.h): a node without [Http] never
 * maps it nor gnutls, which it pulls in. */
union gw_mhd gw_mhd;
_Static_assert(sizeof(gw_mhd.f) == sizeof(gw_mhd.slot), "one slot per libmicrohttpd function");

int gw_mhd_load(char *err, size_t errlen)
{
	static const char *const names[] = { GW_MHD_FUNCS(GW_DL_NAME) };

	return gw_dl_load(GW_MHD_SONAME, names, gw_mhd.slot, GW_DL_N(names),
			  "[Http] Listen needs it: install Debian's libmicrohttpd12", err, errlen);
}

struct gw_http {
	struct MHD_Daemon *d;
	struct gw *gw;
	pthread_mutex_t lock; /* guards prom (one scrape renders at a time) */
	struct wgnl_prom *prom;
};

#if MHD_VERSION < 0x00097002
typedef int mhd_result;
#else
typedef enum MHD_Result mhd_result;
#endif

static mhd_result reply(struct MHD_Connection *conn, unsigned status, const char *type,
			const char *body, size_t len)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	mhd_result r;

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	r = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return r;
}

static mhd_result text(struct MHD_Connection *conn, unsigned status, const char *body)
{
	return reply(conn, status, "text/plain; charset=utf-8", body, strlen(body));
}

static mhd_result metrics(struct gw_http *h, struct MHD_Connection *conn,
			  const struct gw_snapshot *s, int64_t now)
{
	const char *t;
	size_t len;
	mhd_result r;

	pthread_mutex_lock(&h->lock);
	if (gw_metrics_render(s, now, h->prom) < 0 || wgnl_prom_text(h->prom, &t, &len) < 0) {
		pthread_mutex_unlock(&h->lock);
		return text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot render metrics\n");
	}
	r = reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", t, len);
	pthread_mutex_unlock(&h->lock);
	return r;
}

/* Why the main loop does not count as alive. */
static const char *loop_state(const struct gw_snapshot *s)
{
	return s->loop_ms ? "main loop stalled" : "starting: the main loop has not turned yet";
}

static mhd_result readyz(struct MHD_Connection *conn, const struct gw_snapshot *s, int64_t now)
{
	char body[sizeof(s->not_ready) + 64];

	/* A hung main loop cannot re-evaluate: its last verdict is stale. */
	if (!gw_loop_alive(s, now)) {
		snprintf(body, sizeof(body), "%s\n%s", loop_state(s), s->ready ? "" : s->not_ready);
		return text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, body);
	}
	if (s->ready)
		return text(conn, MHD_HTTP_OK, "ready\n");
	return text(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
		    s->not_ready[0] ? s->not_ready : "not ready\n");
}

static mhd_result stalled(struct MHD_Connection *conn, const struct gw_snapshot *s)
{
	char body[64];

	snprintf(body, sizeof(body), "%s\n", loop_state(s));
	return text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, body);
}

static mhd_result handle(void *cls, struct MHD_Connection *conn, const char *url,
			 const char *method, const char *version, const char *upload,
			 size_t *upload_len, void **con_cls)
{
	struct gw_http *h = cls;
	struct gw_snapshot s;
	int64_t now;

	(void)version, (void)upload, (void)con_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET\n");
	/* A GET with a body: ignore the body. */
	*upload_len = 0;
	gw_metrics_snapshot(&h->gw->metrics, &s);
	now = gw_now_ms();
	if (!strcmp(url, "/metrics"))
		return metrics(h, conn, &s, now);
	if (!strcmp(url, "/readyz"))
		return readyz(conn, &s, now);
	if (!strcmp(url, "/healthz"))
		return gw_loop_alive(&s, now) ? text(conn, MHD_HTTP_OK, "ok\n") : stalled(conn, &s);
	return text(conn, MHD_HTTP_NOT_FOUND, "not found: try /metrics, /readyz, /healthz\n");
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[256];

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	gw_log("warning", "http: %s", line);
}

void gw_http_stop(struct gw *gw)
{
	struct gw_http *h = gw->http;

	if (!h)
		return;
	if (h->d)
		MHD_stop_daemon(h->d);
	wgnl_prom_free(h->prom);
	pthread_mutex_destroy(&h->lock);
	free(h);
	gw->http = NULL;
}

int gw_http_load(const struct gw *gw, char *err, size_t errlen)
{
	return gw->conf.has_http ? gw_mhd_load(err, errlen) : 0;
}

int gw_http_start(struct gw *gw)
{
	const struct gw_conf *c = &gw->conf;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
	char err[512];
	struct gw_http *h;
	int r;

	if (!c->has_http)
		return 0;
	r = gw_mhd_load(err, sizeof(err));
	if (r < 0) {
		gw_log("error", "http: %s", err);
		return r;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	pthread_mutex_init(&h->lock, NULL);
	h->gw = gw;
	gw->http = h;
	r = wgnl_prom_new(&h->prom);
	if (r < 0)
		goto fail;
	errno = 0;
	if (c->http_ep.addr.sa_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* MHD_OPTION_SOCK_ADDR: bound to the management address only, never
	 * the wildcard. */
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, h, MHD_OPTION_EXTERNAL_LOGGER,
				mhd_log, NULL, MHD_OPTION_SOCK_ADDR, &c->http_ep.addr,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)GW_HTTP_CONN_LIMIT,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)GW_HTTP_PER_IP_LIMIT,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)GW_HTTP_TIMEOUT_S,
				MHD_OPTION_END);
	if (!h->d) {
		r = errno ? -errno : -EADDRNOTAVAIL;
		gw_log("error", "http: cannot listen on %s: %s", c->http_listen, strerror(-r));
		goto fail;
	}
	gw_log("info", "http: listening on %s", c->http_listen);
	return 0;
fail:
	gw_http_stop(gw);
	return r;
}
