/* SPDX-License-Identifier: MIT */
/* wgpunch: STUN client and server over io_uring. One file per subcommand. */
#ifndef WGPUNCH_H
#define WGPUNCH_H

#include <stdbool.h>
#include <stdint.h>

#include "wgkit/wgnl.h"

/* The subcommands, behind the table in main.c (struct wgk_cmd, dispatch.h). */
int cmd_discover(int argc, char **argv);
int cmd_stun_server(int argc, char **argv);

/* Parse "ADDR", "ADDR:PORT", "[V6]:PORT" or "V6" (numeric; @defport when no
 * port is given). Returns 0 or -EINVAL. */
int wgpunch_parse_ep(union wgnl_endpoint *out, const char *s, uint16_t defport);

#endif
