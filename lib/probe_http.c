/* SPDX-License-Identifier: MIT */
/* HTTP(S) probes through the libcurl multi interface: every probe is an
 * easy handle on one multi handle, at most max_inflight at once, results in
 * the same struct wgnl_probe as the io_uring probes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <curl/curl.h>

#include "probe.h"

struct http_ctx {
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
	struct http_ctx *c = data;
	(void)purpose;
	if (c->fwmark && setsockopt(fd, SOL_SOCKET, SO_MARK, &c->fwmark, sizeof(c->fwmark)) < 0)
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

int wgi_probe_http_run(struct wgnl_probe *p, size_t n, const struct wgnl_probe_opts *o,
		       struct wgnl_probe_stats *st)
{
	struct http_ctx ctx = {.fwmark = o->fwmark};
	CURLM *m;
	size_t next = 0;
	unsigned running = 0;
	int r = 0;

	CURL **hs;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -EIO;
	hs = calloc(n, sizeof(*hs));
	m = curl_multi_init();
	if (!m || !hs) {
		free(hs);
		if (m)
			curl_multi_cleanup(m);
		return -ENOMEM;
	}
	for (;;) {
		while (next < n && running < o->max_inflight) {
			struct wgnl_probe *q = &p[next];
			if (q->kind != WGNL_PROBE_HTTP || !q->url) {
				if (q->kind == WGNL_PROBE_HTTP)
					q->status = -EINVAL;
				next++;
				continue;
			}
			CURL *h = curl_easy_init();
			if (!h) {
				r = -ENOMEM;
				goto out;
			}
			uint32_t tmo = q->timeout_ms ? q->timeout_ms : o->timeout_ms;
			curl_easy_setopt(h, CURLOPT_URL, q->url);
			curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)tmo);
			curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
			curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
			curl_easy_setopt(h, CURLOPT_PRIVATE, (void *)q);
			curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
			curl_easy_setopt(h, CURLOPT_USERAGENT, "wgkit-probe");
			if (o->ifname[0]) {
				char ifopt[WGNL_IFNAMSIZ + 4];
				strcpy(ifopt, "if!");
				strcat(ifopt, o->ifname);
				curl_easy_setopt(h, CURLOPT_INTERFACE, ifopt);
			}
			if (o->fwmark) {
				curl_easy_setopt(h, CURLOPT_SOCKOPTFUNCTION, set_mark);
				curl_easy_setopt(h, CURLOPT_SOCKOPTDATA, &ctx);
			}
			if (curl_multi_add_handle(m, h) != CURLM_OK) {
				curl_easy_cleanup(h);
				r = -ENOMEM;
				goto out;
			}
			hs[next] = h;
			st->sent++;
			running++;
			next++;
		}
		if (!running && next >= n)
			break;
		int still;
		if (curl_multi_perform(m, &still) != CURLM_OK) {
			r = -EIO;
			goto out;
		}
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(m, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			CURL *h = msg->easy_handle;
			struct wgnl_probe *q = NULL;
			curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&q);
			curl_off_t t = 0;
			curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &t);
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &q->http_code);
			q->status = curl_status(msg->data.result);
			if (q->status == 0 || q->status == -ECONNREFUSED) {
				q->rtt_ns = (uint64_t)t * 1000;
				st->answered++;
			} else if (q->status == -ETIMEDOUT) {
				st->timed_out++;
			}
			curl_multi_remove_handle(m, h);
			curl_easy_cleanup(h);
			hs[q - p] = NULL;
			running--;
		}
		if (running && curl_multi_poll(m, NULL, 0, 100, NULL) != CURLM_OK) {
			r = -EIO;
			goto out;
		}
	}
out:
	/* Handles still attached after a failure. */
	for (size_t i = 0; i < n; i++) {
		if (hs[i]) {
			curl_multi_remove_handle(m, hs[i]);
			curl_easy_cleanup(hs[i]);
		}
	}
	free(hs);
	curl_multi_cleanup(m);
	return r;
}
