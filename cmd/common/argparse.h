/* SPDX-License-Identifier: MIT */
/* Option parsing shared by the wgkit tools: the getopt_long entries several
 * subcommands spell the same way, numbers with bounds, and --interface. */
#ifndef WGK_ARGPARSE_H
#define WGK_ARGPARSE_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>

/* Entries of a struct option table that mean the same in every tool (kept
 * on one line each: clang-format would spread each over four). */
/* clang-format off */
#define WGK_OPT_JSON { "json", no_argument, NULL, 'j' }
#define WGK_OPT_INTERFACE { "interface", required_argument, NULL, 'i' }
#define WGK_OPT_FWMARK { "fwmark", required_argument, NULL, 'm' }
#define WGK_OPT_HELP { "help", no_argument, NULL, 'h' }
#define WGK_OPT_END { NULL, 0, NULL, 0 }
/* clang-format on */

/* Parse an unsigned number in [lo, hi] (decimal, 0x hex or 0 octal; no
 * sign). Returns 0 or -EINVAL; *out is set only on success. */
int wgk_parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out);

/* Copy an --interface argument into @dst (@size bytes, an ifname field).
 * Too long: prints "interface name '...' too long" and returns -EINVAL. */
int wgk_parse_ifname(char *dst, size_t size, const char *arg);

#endif
