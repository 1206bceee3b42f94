/* SPDX-License-Identifier: MIT */
/*
 * wg-gatewayd: libmicrohttpd, loaded at run time (dl.h) by gw_mhd_load()
 * only when the config has [Http] Listen. http.c includes this instead of
 * <microhttpd.h>: every MHD function it calls becomes a call through
 * gw_mhd, typed as microhttpd.h declares it.
 */
#ifndef WGK_GATEWAY_MHD_H
#define WGK_GATEWAY_MHD_H

#include <microhttpd.h>

#include "dl.h"

#define GW_MHD_SONAME "libmicrohttpd.so.12"

/* Exactly the functions the gateway calls. */
#define GW_MHD_FUNCS(X)                    \
	X(MHD_add_response_header)         \
	X(MHD_create_response_from_buffer) \
	X(MHD_destroy_response)            \
	X(MHD_queue_response)              \
	X(MHD_start_daemon)                \
	X(MHD_stop_daemon)

union gw_mhd {
	struct {
		GW_MHD_FUNCS(GW_DL_FIELD)
	} f;
	void *slot[0 GW_MHD_FUNCS(GW_DL_COUNT)];
};
extern union gw_mhd gw_mhd;

/* Load libmicrohttpd.so.12 (once; later calls are no-ops). 0, or -ELIBACC
 * with one line in @err naming the library and saying what to install. */
int gw_mhd_load(char *err, size_t errlen);

#define MHD_add_response_header (gw_mhd.f.MHD_add_response_header)
#define MHD_create_response_from_buffer (gw_mhd.f.MHD_create_response_from_buffer)
#define MHD_destroy_response (gw_mhd.f.MHD_destroy_response)
#define MHD_queue_response (gw_mhd.f.MHD_queue_response)
#define MHD_start_daemon (gw_mhd.f.MHD_start_daemon)
#define MHD_stop_daemon (gw_mhd.f.MHD_stop_daemon)

#endif
