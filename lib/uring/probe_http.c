/* SPDX-License-Identifier: MIT */
/* HTTP(S) probes through the libcurl multi interface: every probe is an
 * easy handle on one multi handle, at most max_inflight at once, results in
 * the same struct wgnl_probe as the io_uring probes. The probe engine calls
 * wgi_http_step() from its loop, waiting in curl_multi_poll() on libcurl's
 * sockets and the ring's eventfd together, so HTTP probes run alongside the
 * ICMP/UDP/TCP ones instead of after them. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <curl/curl.h>

#include "probe.h"

/* libcurl and the thirty libraries it pulls in cost every process 10-15 ms
 * of dynamic linking at start-up (bench/README.md), a tenth of probing
 * 10,000 hosts; only runs with HTTP probes need it, so it is loaded on
 * first use, through its stable soname, and never unloaded. */
static struct {
	__typeof__(&curl_global_init) global_init;
	__typeof__(&curl_multi_init) multi_init;
	__typeof__(&curl_multi_cleanup) multi_cleanup;
	__typeof__(&curl_multi_add_handle) multi_add_handle;
	__typeof__(&curl_multi_remove_handle) multi_remove_handle;
	__typeof__(&curl_multi_perform) multi_perform;
	__typeof__(&curl_multi_info_read) multi_info_read;
	__typeof__(&curl_multi_poll) multi_poll;
	__typeof__(&curl_easy_init) easy_init;
	__typeof__(&curl_easy_cleanup) easy_cleanup;
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	int err;
} cu;
static pthread_once_t cu_once = PTHREAD_ONCE_INIT;

static void cu_load(void)
{
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		cu.err = -ENOSYS;
		return;
	}
#define SYM(field, name)                            \
	do {                                        \
		void *f_ = dlsym(h, name);          \
		if (!f_) {                          \
			cu.err = -ENOSYS;           \
			return;                     \
		}                                   \
		memcpy(&cu.field, &f_, sizeof(f_)); \
	} while (0)
	SYM(global_init, "curl_global_init");
	SYM(multi_init, "curl_multi_init");
	SYM(multi_cleanup, "curl_multi_cleanup");
	SYM(multi_add_handle, "curl_multi_add_handle");
	SYM(multi_remove_handle, "curl_multi_remove_handle");
	SYM(multi_perform, "curl_multi_perform");
	SYM(multi_info_read, "curl_multi_info_read");
	SYM(multi_poll, "curl_multi_poll");
	SYM(easy_init, "curl_easy_init");
	SYM(easy_cleanup, "curl_easy_cleanup");
	SYM(easy_setopt, "curl_easy_setopt");
	SYM(easy_getinfo, "curl_easy_getinfo");
#undef SYM
	if (cu.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		cu.err = -EIO;
}

struct wgi_http {
	CURLM *m;
	CURL **hs; /* per probe, NULL when not running */
	struct wgnl_probe *p;
	size_t n, next, left;
	unsigned running;
	const struct wgnl_probe_opts *o;
	struct wgnl_probe_stats *st;
	uint32_t fwmark;
};

static size_t discard(char *ptr, size_t size, size_t nmemb, void *data)
{
	(void)ptr;
	(void)data;
	return size * nmemb;
}

static int set_mark(void *data, curl_socket_t fd, curlsocktype purpose)
{
	struct wgi_http *h = data;
	(void)purpose;
	if (h->fwmark && setsockopt(fd, SOL_SOCKET, SO_MARK, &h->fwmark, sizeof(h->fwmark)) < 0)
		return CURL_SOCKOPT_ERROR;
	return CURL_SOCKOPT_OK;
}

static int curl_status(CURLcode rc)
{
	switch (rc) {
	case CURLE_OK:
		return 0;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
		return -EHOSTUNREACH;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

int wgi_http_new(struct wgnl_probe *p, size_t n, const struct wgnl_probe_opts *o,
		 struct wgnl_probe_stats *st, struct wgi_http **ret)
{
	struct wgi_http *h;
	size_t count = 0;

	*ret = NULL;
	if (!o->size)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (p[i].kind != WGNL_PROBE_HTTP)
			continue;
		if (!p[i].url)
			p[i].status = -EINVAL;
		else
			count++;
	}
	if (!count)
		return 0;
	pthread_once(&cu_once, cu_load);
	if (cu.err) {
		/* No libcurl here: every HTTP probe says so, the rest run. */
		for (size_t i = 0; i < n; i++)
			if (p[i].kind == WGNL_PROBE_HTTP && p[i].url)
				p[i].status = cu.err;
		return 0;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->hs = calloc(n, sizeof(*h->hs));
	h->m = cu.multi_init();
	if (!h->m || !h->hs) {
		wgi_http_free(h);
		return -ENOMEM;
	}
	h->p = p;
	h->n = n;
	h->left = count;
	h->o = o;
	h->st = st;
	h->fwmark = o->fwmark;
	*ret = h;
	return 0;
}

static int start(struct wgi_http *h, size_t i)
{
	struct wgnl_probe *q = &h->p[i];
	CURL *c = cu.easy_init();
	if (!c)
		return -ENOMEM;
	uint32_t tmo = q->timeout_ms ? q->timeout_ms : h->o->timeout_ms;
	cu.easy_setopt(c, CURLOPT_URL, q->url);
	cu.easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)tmo);
	cu.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cu.easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	cu.easy_setopt(c, CURLOPT_PRIVATE, (void *)q);
	cu.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	cu.easy_setopt(c, CURLOPT_USERAGENT, "wgkit-probe");
	if (h->o->ifname[0]) {
		char ifopt[WGNL_IFNAMSIZ + 4];
		strcpy(ifopt, "if!");
		strcat(ifopt, h->o->ifname);
		cu.easy_setopt(c, CURLOPT_INTERFACE, ifopt);
	}
	if (h->fwmark) {
		cu.easy_setopt(c, CURLOPT_SOCKOPTFUNCTION, set_mark);
		cu.easy_setopt(c, CURLOPT_SOCKOPTDATA, h);
	}
	if (cu.multi_add_handle(h->m, c) != CURLM_OK) {
		cu.easy_cleanup(c);
		return -ENOMEM;
	}
	h->hs[i] = c;
	h->st->sent++;
	h->running++;
	return 0;
}

int wgi_http_step(struct wgi_http *h, int fd, int timeout_ms, bool *fd_ready)
{
	int r, still;

	*fd_ready = false;
	while (h->next < h->n && h->running < h->o->max_inflight) {
		size_t i = h->next++;
		if (h->p[i].kind == WGNL_PROBE_HTTP && h->p[i].url && (r = start(h, i)) < 0)
			return r;
	}
	if (cu.multi_perform(h->m, &still) != CURLM_OK)
		return -EIO;
	CURLMsg *msg;
	int queued;
	while ((msg = cu.multi_info_read(h->m, &queued))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		CURL *c = msg->easy_handle;
		struct wgnl_probe *q = NULL;
		cu.easy_getinfo(c, CURLINFO_PRIVATE, (char **)&q);
		curl_off_t t = 0;
		cu.easy_getinfo(c, CURLINFO_TOTAL_TIME_T, &t);
		cu.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &q->http_code);
		q->status = curl_status(msg->data.result);
		if (q->status == 0 || q->status == -ECONNREFUSED) {
			q->rtt_ns = (uint64_t)t * 1000;
			h->st->answered++;
		} else if (q->status == -ETIMEDOUT) {
			h->st->timed_out++;
		}
		cu.multi_remove_handle(h->m, c);
		cu.easy_cleanup(c);
		h->hs[q - h->p] = NULL;
		h->running--;
		h->left--;
	}
	/* Finished handles free in-flight room: start more before waiting. */
	if (!h->left || timeout_ms <= 0 || (h->next < h->n && h->running < h->o->max_inflight))
		return (int)h->left;
	struct curl_waitfd wfd = { .fd = fd, .events = CURL_WAIT_POLLIN };
	if (cu.multi_poll(h->m, fd >= 0 ? &wfd : NULL, fd >= 0 ? 1 : 0, timeout_ms, NULL) !=
	    CURLM_OK)
		return -EIO;
	*fd_ready = fd >= 0 && (wfd.revents & CURL_WAIT_POLLIN);
	return (int)h->left;
}

void wgi_http_free(struct wgi_http *h)
{
	if (!h)
		return;
	for (size_t i = 0; h->hs && i < h->n; i++) {
		if (h->hs[i]) {
			cu.multi_remove_handle(h->m, h->hs[i]);
			cu.easy_cleanup(h->hs[i]);
		}
	}
	free(h->hs);
	if (h->m)
		cu.multi_cleanup(h->m);
	free(h);
}
