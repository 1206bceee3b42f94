// SPDX-License-Identifier: MIT
/* wgctl genkey: a new private key on stdout (the one place, with showconf,
 * where a private key is printed: that is what was asked for). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/compat.h"
#include "wgctl.h"

/* Shared by genkey and genpsk: warn when stdout is a file others can read,
 * as the shell created it with the umask (umask 077 avoids that). */
static void warn_if_exposed(const char *cmd)
{
	struct stat st;

	if (fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_mode & (S_IRWXG | S_IRWXO)))
		wgk_warn("%s: writing a secret key to a file readable by group or others "
			 "(set umask 077 first)",
			 cmd);
}

int wgctl_print_secret(const char *cmd, bool preshared)
{
	wgnl_key key;
	wgnl_key_b64 b64;
	int r, rc = 0;

	warn_if_exposed(cmd);
	r = preshared ? wgnl_key_generate_preshared(key) : wgnl_key_generate_private(key);
	if (r < 0) {
		wgk_error("%s: cannot generate a key: %s", cmd, strerror(-r));
		return WGK_EXIT_SYSTEM;
	}
	wgnl_key_to_base64(b64, key);
	if (printf("%s\n", b64) < 0 || fflush(stdout) != 0) {
		wgk_error("%s: cannot write the key: %s", cmd, strerror(errno));
		rc = WGK_EXIT_SYSTEM;
	}
	wgnl_wipe(key, sizeof(key));
	wgnl_wipe(b64, sizeof(b64));
	return rc;
}

int cmd_genkey(int argc, char **argv)
{
	if (wgctl_wants_help(argc, argv)) {
		printf("Usage: wgctl genkey\n"
		       "Print a new Curve25519 private key in base64 (umask 077 before saving it).\n");
		return WGK_EXIT_OK;
	}
	if (wgctl_no_options("genkey", false, &argc, &argv))
		return WGK_EXIT_USAGE;
	if (argc > 1)
		return wgctl_usage("genkey", "unexpected argument '%s'", wgk_q(argv[1]));
	if (wgctl_no_json("genkey"))
		return WGK_EXIT_USAGE;
	return wgctl_print_secret("genkey", false);
}
