/* SPDX-License-Identifier: MIT */
/* wgctl: what the subcommand files share. */
#ifndef WGCTL_H
#define WGCTL_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "wgkit/wgnl.h"

#include "err.h"
#include "exitcodes.h"
#include "fail.h"
#include "json.h"
#include "iflock.h"
#include "syncstate.h"

/* Global options, taken out of argv by main() wherever they appear. */
struct wgctl_opts {
	bool json;	  /* --json: machine output where the command has one */
	bool show_keys;	  /* --show-keys: print private and preshared keys */
	bool quiet;	  /* -q, --quiet: no summary or progress lines on success */
	bool allow_empty; /* --allow-empty: sync/syncconf/setconf may apply an empty file */
	double wait;	  /* --wait SECONDS: how long to wait for the interface's lock */
};
extern struct wgctl_opts wgctl_opt;

/* One subcommand per file behind the table in main.c (struct wgk_cmd,
 * dispatch.h): argv[0] is its name. Returns an exit code (exitcodes.h). */
int cmd_show(int argc, char **argv);
int cmd_showconf(int argc, char **argv);
int cmd_set(int argc, char **argv);
int cmd_setconf(int argc, char **argv);
int cmd_addconf(int argc, char **argv);
int cmd_syncconf(int argc, char **argv);
int cmd_genkey(int argc, char **argv);
int cmd_pubkey(int argc, char **argv);
int cmd_genpsk(int argc, char **argv);
int cmd_up(int argc, char **argv);
int cmd_down(int argc, char **argv);
int cmd_peer(int argc, char **argv);
int cmd_sync(int argc, char **argv);
int cmd_reresolve(int argc, char **argv);

/* ---------------------------------------------------------- util.c */
/* Helpers returning "an exit code" print their one error line themselves
 * and return 0 on success. */

/* True when the arguments ask for help (-h or --help anywhere, help first). */
bool wgctl_wants_help(int argc, char **argv);
/* Refuse --json for a command that has no JSON output (exit code). */
int wgctl_no_json(const char *cmd);
/* getopt_long() over a subcommand's argv (argv[0] its name; main() never
 * calls getopt, so optind starts at 1). @in_order: options only before the
 * first operand (wg's keyword grammars, where a value may begin with '-');
 * otherwise options and operands mix. Returns the next option's val, -1 at
 * the end (operands from optind on), ':' for an option missing its value
 * (argv[optind - 1] names it; the caller says so), or '?' after printing
 * "unknown option" (the caller returns WGK_EXIT_USAGE). Long options
 * without a short form take vals from WGCTL_OPT_LONG on. */
#define WGCTL_OPT_LONG 256
int wgctl_getopt(const char *cmd, bool in_order, int argc, char **argv, const char *shortopts,
		 const struct option *longopts);
/* After wgctl_getopt() returned -1: drop the options, so that argv[0] is
 * still the name and argv[1..] the operands. */
void wgctl_drop_options(int *argc, char ***argv);
/* A subcommand that takes no options: any "-x" or "--xyz" is the usage
 * error; the options are dropped from argv. 0 or WGK_EXIT_USAGE. */
int wgctl_no_options(const char *cmd, bool in_order, int *argc, char ***argv);

/* A valid interface name: 1-15 bytes, no '/', whitespace or ':'. */
bool wgctl_valid_ifname(const char *name);

/* Read WireGuard device @ifname (exit code). A missing device is reported
 * as not found whatever the backend said (no kernel module, no socket). */
int wgctl_get_device(struct wgnl_ctx *ctx, const char *ifname, struct wgnl_device **ret);
/* Apply @dev (exit code); @what names the change in the error line. */
int wgctl_set_device(struct wgnl_ctx *ctx, const struct wgnl_device *dev, const char *what);

/* Strict numbers: decimal digits only (and 0x hex when @hex), no sign, no
 * space, value <= @max. Returns 0 or -EINVAL. */
int wgctl_parse_u32(const char *s, uint32_t max, bool hex, uint32_t *out);
/* "N" seconds or "off" (0). Returns 0 or -EINVAL. */
int wgctl_parse_keepalive(const char *s, uint16_t *out);
/* fwmark: "off", decimal or 0x hex. Returns 0 or -EINVAL. */
int wgctl_parse_fwmark(const char *s, uint32_t *out);
/* Decode a base64 public key given on the command line (exit code; the error
 * names @cmd and quotes the key). */
int wgctl_parse_pubkey(const char *cmd, const char *s, wgnl_key out);
/* Read a key file (private or preshared key in base64, surrounding
 * whitespace allowed). An empty file sets *empty and a zero key (it removes
 * the key). Warns when the file is readable by others. Exit code; the
 * file's content is never printed. */
int wgctl_read_key_file(const char *cmd, const char *path, const char *what, wgnl_key out,
			bool *empty);
/* Read config file @path whole, to EOF (wgnl_file_read(): pipes, FIFOs,
 * /dev/stdin work), into *text (caller wipes and frees); exit code, the
 * error naming @cmd and the file. */
int wgctl_read_conf(const char *cmd, const char *path, char **text, size_t *len);
/* Warn when @path, a regular file, holds a private or preshared key (as
 * parsed into @cfg) and group or others may read it. */
void wgctl_warn_secret_file(const char *cmd, const char *path, const struct wgnl_config *cfg);
/* The config says nothing at all (no device field, no peer, no wg-quick
 * key): the file was empty, only comments, or only section headers. */
bool wgctl_conf_is_empty(const struct wgnl_config *cfg);
/* Print why an empty @path is refused (see --allow-empty); exit code. */
int wgctl_empty_refused(const char *cmd, const char *path);
/* Where two [Peer] sections of @dev (parsed from @path, text @text of @len
 * bytes, NULL if not at hand) list the same allowed IP, drop it from the
 * earlier ones, as the kernel ends up after setconf of the file (the last
 * insert wins), and warn naming both file:lines. Returns how many were
 * dropped, or -ENOMEM. */
int wgctl_allowedip_conflicts(struct wgnl_device *dev, const char *path, const char *text,
			      size_t len);
/* Take the per-interface lock (/run/wgkit/IF.lock, or $WGCTL_LOCK_DIR),
 * waiting up to wgctl_opt.wait seconds for another wgctl to finish (exit
 * code; the error names the lock). Held until exit. Hooks run under it see
 * $WGCTL_LOCK_HELD=IF and do not wait for it (wgk_if_lock(), iflock.h). */
int wgctl_lock(const char *cmd, const char *ifname);
/* --max-remove N and --max-change PCT of sync and syncconf (-1: none). */
struct wgctl_limits {
	long max_remove;
	int max_change;
};
/* Take --max-remove and --max-change out of argv (exit code on a bad value). */
int wgctl_limit_opts(const char *cmd, int *argc, char **argv, struct wgctl_limits *l);
/* The value @v of --max-remove (@change false) or --max-change into @l
 * (exit code on a bad value). */
int wgctl_limit_value(const char *cmd, bool change, const char *v, struct wgctl_limits *l);
/* Refuse @plan when it removes more than max_remove peers, or adds, removes
 * and updates more than max_change percent of the peers running now (a
 * device without peers: no percentage). Prints why; exit code (2) or 0. */
int wgctl_limits_check(const char *cmd, const char *ifname, const struct wgctl_limits *l,
		       const struct wgnl_plan *plan);

/* ---------------------------------------------------------- peeropts.c */
/* Parse the peer option at argv[*i] (endpoint, preshared-key,
 * persistent-keepalive, allowed-ips) with its value into @peer, advancing
 * *i past the value. Returns 0, -1 when argv[*i] is no peer option, or an
 * exit code. allowed-ips "a,b" replaces the list; "+a,-b" edits it (removals
 * carry WGNL_PREFIX_REMOVE until wgctl_resolve_allowedip_edits()). */
int wgctl_peer_option(const char *cmd, struct wgnl_peer *peer, int argc, char **argv, int *i);
/* Where the backend cannot remove one allowed IP, turn each peer's "+/-"
 * edits into a full replacement list computed from the running device
 * (exit code). */
int wgctl_resolve_allowedip_edits(struct wgnl_ctx *ctx, struct wgnl_device *dev, const char *cmd);

/* setconf.c: the argument check, config load and context open that
 * setconf, addconf and syncconf share (exit code). The config's device is
 * named argv[1]. */
int wgctl_conf_cmd_load(const char *cmd, int argc, char **argv, struct wgnl_ctx **ctx,
			struct wgnl_config **cfg);

/* genkey.c: print a new private (or preshared) key (exit code). */
int wgctl_print_secret(const char *cmd, bool preshared);

/* show.c: @p as a peer object of the JSON schema (docs/json.md). */
void wgctl_json_peer(struct wgk_json *j, const struct wgnl_peer *p);

/* Seconds since the epoch of a handshake, 0 for never. */
uint64_t wgctl_handshake_secs(const struct wgnl_peer *peer);

#endif
