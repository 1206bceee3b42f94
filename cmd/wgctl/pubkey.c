// SPDX-License-Identifier: MIT
/* wgctl pubkey: private key on stdin, public key on stdout. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "wgctl.h"

int cmd_pubkey(int argc, char **argv)
{
	char buf[128];
	size_t len = 0, start = 0;
	wgnl_key priv, pub;
	wgnl_key_b64 b64;
	ssize_t n;
	int r;

	if (wgctl_wants_help(argc, argv)) {
		printf("Usage: wgctl pubkey < private.key\n"
		       "Read a base64 private key on stdin, print its public key.\n");
		return WGK_EXIT_OK;
	}
	if (wgctl_no_options("pubkey", false, &argc, &argv))
		return WGK_EXIT_USAGE;
	if (argc > 1)
		return wgctl_usage("pubkey", "unexpected argument '%s'", wgk_qs(argv[1]));
	if (wgctl_no_json("pubkey"))
		return WGK_EXIT_USAGE;
	/* A key and a newline fit easily; more than the buffer is not a key. */
	while (len < sizeof(buf)) {
		n = read(STDIN_FILENO, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = errno;
			wgnl_wipe(buf, sizeof(buf));
			wgk_error("pubkey: cannot read stdin: %s", strerror(r));
			return WGK_EXIT_SYSTEM;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	while (len && isspace((unsigned char)buf[len - 1]))
		len--;
	while (start < len && isspace((unsigned char)buf[start]))
		start++;
	if (len == sizeof(buf) || len - start != WGNL_KEY_B64_LEN) {
		wgnl_wipe(buf, sizeof(buf));
		wgk_error("pubkey: stdin does not hold a valid private key");
		return WGK_EXIT_INPUT;
	}
	buf[len] = '\0';
	r = wgnl_key_from_base64(priv, buf + start);
	wgnl_wipe(buf, sizeof(buf));
	if (r < 0) {
		wgk_error("pubkey: stdin does not hold a valid private key");
		return WGK_EXIT_INPUT;
	}
	r = wgnl_key_public_from_private(pub, priv);
	wgnl_wipe(priv, sizeof(priv));
	if (r < 0) {
		wgk_error("pubkey: cannot derive the public key: %s", strerror(-r));
		return r == -EINVAL ? WGK_EXIT_INPUT : WGK_EXIT_SYSTEM;
	}
	wgnl_key_to_base64(b64, pub);
	printf("%s\n", b64);
	if (fflush(stdout) != 0) {
		wgk_error("pubkey: cannot write the key: %s", strerror(errno));
		return WGK_EXIT_SYSTEM;
	}
	return WGK_EXIT_OK;
}
