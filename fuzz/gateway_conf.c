/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for wg-gatewayd's gateway.conf parser (gateway/conf.c).
 * Any input gives a config or -errno with a one-line message naming the
 * file, never a crash, a leak or an unterminated string; a config that
 * parses holds its required keys; the private key (of a credential the
 * harness provides, and a PrivateKeyFile it may name) is never in the
 * message, whatever the text holds. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../gateway/gw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The key the seeds name: PrivateKeyCredential = k, PrivateKeyFile =
 * /tmp/wgkit-fuzz-gwconf/k. */
#define KEY_B64 "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
static const char dir[] = "/tmp/wgkit-fuzz-gwconf";

static void setup(void)
{
	static int done;
	FILE *f;

	if (done)
		return;
	done = 1;
	mkdir(dir, 0700);
	f = fopen("/tmp/wgkit-fuzz-gwconf/k", "w");
	if (!f)
		abort();
	fputs(KEY_B64 "\n", f);
	fclose(f);
	chmod("/tmp/wgkit-fuzz-gwconf/k", 0600);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	struct gw_conf c;
	char err[512];
	int r;

	if (!buf)
		return 0;
	setup();
	memcpy(buf, data, size);
	memset(err, 'x', sizeof(err));
	r = gw_conf_parse_text(&c, "fuzz.conf", buf, size, dir, err, sizeof(err));
	if (!memchr(err, '\0', sizeof(err)))
		abort();
	/* No piece of the key of 20 characters or more (wgnl_text_may_be_key()). */
	for (size_t i = 0; i + 20 <= sizeof(KEY_B64) - 1; i++)
		if (memmem(err, strnlen(err, sizeof(err)), KEY_B64 + i, 20))
			abort();
	if (r == 0) {
		if (err[0] || !c.ifname[0] || wgnl_key_is_zero(c.private_key) || !c.listen_port)
			abort();
		if (c.source == GW_SOURCE_DIRECTORY && !c.registry_path[0])
			abort();
		if (c.source == GW_SOURCE_POSTGRESQL && !c.conninfo)
			abort();
		if (c.n_anycast > GW_MAX_ANYCAST || c.n_stun > GW_MAX_STUN)
			abort();
		gw_conf_clear(&c);
	} else if (strncmp(err, "fuzz.conf", 9) || strchr(err, '\n')) {
		abort();
	}
	free(buf);
	return 0;
}
