/* SPDX-License-Identifier: MIT */
/* The wireguard-nt configuration blob to and from the device model: no
 * Win32 call, so the libFuzzer harness (fuzz/nt_blob.c) builds it on
 * Linux too. Address families are translated between the driver's values
 * (2, 23) and the host's AF_INET / AF_INET6. Never installed. */
#ifndef WGI_WINDOWS_NT_BLOB_H
#define WGI_WINDOWS_NT_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "core/internal.h"

/* Parse the @bytes at @b (8-byte aligned) as GetConfiguration returns
 * them into @dev, checking every count against @bytes. 0, -EBADMSG (the
 * explanation kept in @ctx) or -ENOMEM. */
int wgi_nt_blob_parse(struct wgnl_ctx *ctx, const uint8_t *b, size_t bytes,
		      struct wgnl_device *dev);
/* Check that @dev can be sent (no non-zero fwmark, no single allowed-IP
 * removal, sane families and prefix lengths) and put the blob's size in
 * *bytes. 0, -EOPNOTSUPP, -EINVAL or -E2BIG (over 4 GiB). */
int wgi_nt_blob_size(struct wgnl_ctx *ctx, const struct wgnl_device *dev, size_t *bytes);
/* Write the blob of @dev into @buf: wgi_nt_blob_size() bytes, zeroed and
 * 8-byte aligned by the caller (reserved fields and padding stay zero). */
void wgi_nt_blob_build(const struct wgnl_device *dev, uint8_t *buf);

#endif
