/* SPDX-License-Identifier: MIT */
/* wgctl up/down helpers (quick.c). Functions returning "an exit code" print
 * their one error line and return 0 on success. */
#ifndef WGCTL_QUICK_H
#define WGCTL_QUICK_H

#include <limits.h>

#include "wgctl.h"

/* wg-quick's default when neither FwMark nor ListenPort names the table. */
#define QUICK_DEFAULT_TABLE 51820
#define QUICK_DEFAULT_MTU 1420

struct quick_target {
	char path[PATH_MAX];
	char ifname[WGNL_IFNAMSIZ];
};

/* CONF (a path: contains '/' or ends in .conf; the interface is its base
 * name without .conf) or IF (/etc/wireguard/IF.conf). Exit code. */
int quick_target(const char *cmd, const char *arg, struct quick_target *t);
/* Run @hooks with `sh -c`, %i replaced by @ifname; stop at the first that
 * fails (exit code; @key names them: "PreUp"). */
int quick_hooks(const char *cmd, const char *ifname, const char *key, char **hooks, size_t n);
/* resolvconf in $PATH? */
bool quick_have_resolvconf(void);
/* `resolvconf -a IF -m 0 -x` fed with the DNS= entries (exit code). */
int quick_dns_set(const char *cmd, const char *ifname, const struct wgnl_quick *q);
/* `resolvconf -d IF -f`; 0 or -EIO. */
int quick_dns_unset(const char *ifname);
/* Does any peer of @dev route the whole @family (a /0 allowed IP)? */
bool quick_has_default(const struct wgnl_device *dev, uint16_t family);
/* The two policy rules wg-quick adds for a default route via table @table. */
void quick_rules(uint16_t family, uint32_t table, struct wgnl_rule out[2]);
/* sysctl net.ipv4.conf.all.src_valid_mark=1 (a warning naming @cmd when
 * it cannot be set), as wg-quick does for IPv4 policy routing. */
void quick_src_valid_mark(const char *cmd);
/* The config path `up` used for @ifname, recorded (absolute) so that
 * `down IF` finds it: record (0 or -errno), read into @out (1 found, 0 none,
 * -errno), forget. */
int quick_path_record(const char *ifname, const char *path);
int quick_path_recorded(const char *ifname, char *out, size_t len);
void quick_path_forget(const char *ifname);
/* The userspace implementation to start: @opt (--userspace=PROG), else
 * $WG_QUICK_USERSPACE_IMPLEMENTATION, else "wireguard-go". */
const char *quick_userspace_prog(const char *opt);
/* Run `PROG IFNAME` (as wg-quick does) and wait, bounded, until the link and
 * its UAPI socket exist. Exit code (0: ready). */
int quick_userspace_start(const char *cmd, struct wgnl_ctx *ctx, const char *prog,
			  const char *ifname);
/* Write @cfg (wg-quick format) to @path through a 0600 temporary file and a
 * rename. Returns 0 or -errno. */
int quick_write_file(const char *path, const struct wgnl_config *cfg);

#endif
