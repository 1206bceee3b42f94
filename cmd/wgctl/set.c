// SPDX-License-Identifier: MIT
/* wgctl set: wg set's grammar and semantics. Everything is parsed and
 * checked first; the device is changed by one wgnl_device_set() call. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "wgctl.h"

static void set_help(void)
{
	printf("Usage: wgctl set <interface> [listen-port <port>] [fwmark <mark>|off]\n"
	       "         [private-key <file>] [peer <base64 public key> [remove] [update-only]\n"
	       "         [preshared-key <file>] [endpoint <host>:<port>]\n"
	       "         [persistent-keepalive <seconds>|off] [allowed-ips <ip>/<cidr>[,...]]]...\n"
	       "allowed-ips replaces the peer's list (\"\" clears it); \"+ip/cidr,-ip/cidr\" adds\n"
	       "and removes single entries instead. An empty key file removes the key.\n");
}

int cmd_set(int argc, char **argv)
{
	struct wgnl_device *dev = NULL;
	struct wgnl_peer *peer = NULL;
	struct wgnl_ctx *ctx = NULL;
	size_t n_peer_args = 0;
	char what[128] = "set the configuration";
	const char *peer_arg = NULL;
	bool empty;
	uint32_t v;
	int rc = 0, r;

	if (wgctl_wants_help(argc, argv)) {
		set_help();
		return WGK_EXIT_OK;
	}
	/* Only before the interface: after it, wg's keywords, whose values
	 * may begin with '-' (allowed-ips -10.0.0.0/8). */
	if (wgctl_no_options("set", true, &argc, &argv))
		return WGK_EXIT_USAGE;
	if (argc < 2)
		return wgctl_usage("set", "expected an interface name");
	if (wgctl_no_json("set"))
		return WGK_EXIT_USAGE;
	if (!wgctl_valid_ifname(argv[1]))
		return wgctl_usage("set", "invalid interface name '%s'", wgk_qs(argv[1]));
	dev = wgnl_device_new(argv[1]);
	if (!dev) {
		wgk_error("set: out of memory");
		return WGK_EXIT_SYSTEM;
	}
	for (int i = 2; i < argc && !rc; i++) {
		const char *a = argv[i];

		if (peer) {
			if (!strcmp(a, "remove")) {
				peer->flags |= WGNL_PEER_REMOVE;
				continue;
			}
			if (!strcmp(a, "update-only")) {
				peer->flags |= WGNL_PEER_UPDATE_ONLY;
				continue;
			}
			r = wgctl_peer_option("set", peer, argc, argv, &i);
			if (r >= 0) {
				rc = r;
				continue;
			}
		}
		if (!strcmp(a, "peer")) {
			wgnl_key pub;

			if (i + 1 >= argc) {
				rc = wgctl_usage("set", "'peer' needs a public key");
				break;
			}
			peer_arg = argv[++i];
			rc = wgctl_parse_pubkey("set", peer_arg, pub);
			if (rc)
				break;
			/* Naming the same peer twice continues its settings. */
			r = wgnl_device_add_peer(dev, pub, &peer);
			if (r < 0 && r != -EEXIST) {
				wgk_error("set: out of memory");
				rc = WGK_EXIT_SYSTEM;
			}
			n_peer_args++;
			continue;
		}
		if (peer) {
			rc = wgctl_usage("set", "unknown peer option '%s'", wgk_qs(a));
			break;
		}
		if (i + 1 >= argc && (!strcmp(a, "listen-port") || !strcmp(a, "fwmark") ||
				      !strcmp(a, "private-key"))) {
			rc = wgctl_usage("set", "'%s' needs a value", a);
			break;
		}
		if (!strcmp(a, "listen-port")) {
			if (wgctl_parse_u32(argv[++i], 65535, false, &v) < 0) {
				wgk_error("set: invalid listen-port '%s' (0-65535)",
					  wgk_qs(argv[i]));
				rc = WGK_EXIT_INPUT;
				break;
			}
			dev->listen_port = (uint16_t)v;
			dev->flags |= WGNL_DEV_HAS_LISTEN_PORT;
		} else if (!strcmp(a, "fwmark")) {
			if (wgctl_parse_fwmark(argv[++i], &dev->fwmark) < 0) {
				wgk_error("set: invalid fwmark '%s' (number, 0x hex or off)",
					  wgk_qs(argv[i]));
				rc = WGK_EXIT_INPUT;
				break;
			}
			dev->flags |= WGNL_DEV_HAS_FWMARK;
		} else if (!strcmp(a, "private-key")) {
			rc = wgctl_read_key_file("set", argv[++i], "private key", dev->private_key,
						 &empty);
			dev->flags |= WGNL_DEV_HAS_PRIVATE_KEY;
		} else {
			rc = wgctl_usage("set", "unknown option '%s'", wgk_qs(a));
		}
	}
	if (!rc)
		rc = wgctl_lock("set", argv[1]);
	if (!rc)
		rc = wgctl_open(&ctx);
	if (!rc)
		rc = wgctl_resolve_allowedip_edits(ctx, dev, "set");
	if (!rc) {
		if (n_peer_args == 1 && !dev->flags && dev->n_peers == 1)
			snprintf(what, sizeof(what), "%s peer '%s'",
				 dev->peers[0].flags & WGNL_PEER_REMOVE ? "remove" : "set",
				 wgk_q(peer_arg));
		rc = wgctl_set_device(ctx, dev, what);
	}
	wgnl_device_free(dev);
	wgnl_ctx_close(ctx);
	return rc;
}
