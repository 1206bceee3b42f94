/* SPDX-License-Identifier: MIT */
/* The body of the conf and quick harnesses: any input parses or fails with
 * a documented error (and an error message that names a line when it is
 * about one, never empty, never quoting anything that could be key
 * material); whatever parses is written, and the written text
 * parses again and writes back byte for byte the same (parse -> write ->
 * parse gives the same model, as the writer prints every field it keeps). */
#ifndef FUZZ_CONF_ROUNDTRIP_H
#define FUZZ_CONF_ROUNDTRIP_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wgkit/wgnl.h"

static char *conf_write_text(const struct wgnl_config *cfg, unsigned flags, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	if (!f)
		abort();
	if (wgnl_config_write(f, cfg, flags) != 0)
		abort();
	fclose(f);
	return text;
}

static int conf_roundtrip_one(const uint8_t *data, size_t size, unsigned flags)
{
	struct wgnl_config *cfg = NULL, *cfg2 = NULL;
	struct wgnl_config_error err;
	char *text1, *text2;
	size_t len1, len2;
	int r;

	/* A private heap copy, so ASan sees any read past the end. */
	char *buf = malloc(size ? size : 1);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	r = wgnl_config_parse(buf, size, "fuzz.conf", flags, &cfg, &err);
	free(buf);
	if (r != 0) {
		if (r != -EINVAL && r != -ENOMEM)
			abort();
		if (cfg || !err.message[0] || strcmp(err.file, "fuzz.conf"))
			abort();
		/* Issue 9.7: no error quotes key-like text, whatever the input. */
		if (wgnl_text_may_be_key(err.message) || wgnl_text_may_be_key(err.key)) {
			fprintf(stderr, "key-like text in an error: [%s] %s\n", err.key,
				err.message);
			abort();
		}
		return 0;
	}
	if (!cfg || !cfg->dev)
		abort();
	text1 = conf_write_text(cfg, flags, &len1);
	r = wgnl_config_parse(text1, len1, "written.conf", flags, &cfg2, &err);
	if (r != 0) {
		fprintf(stderr, "written text does not parse: %u: [%s] %s\n---\n%s---\n", err.line,
			err.key, err.message, text1);
		abort();
	}
	text2 = conf_write_text(cfg2, flags, &len2);
	if (len1 != len2 || memcmp(text1, text2, len1)) {
		fprintf(stderr, "round trip differs:\n---\n%s---\n%s---\n", text1, text2);
		abort();
	}
	if (cfg->dev->n_peers != cfg2->dev->n_peers || cfg->dev->flags != cfg2->dev->flags)
		abort();
	for (size_t i = 0; i < cfg->dev->n_peers; i++)
		if (!wgnl_key_equal(cfg->dev->peers[i].public_key,
				    cfg2->dev->peers[i].public_key) ||
		    cfg->dev->peers[i].n_allowedips != cfg2->dev->peers[i].n_allowedips ||
		    !wgnl_endpoint_equal(&cfg->dev->peers[i].endpoint,
					 &cfg2->dev->peers[i].endpoint))
			abort();
	free(text1);
	free(text2);
	wgnl_config_free(cfg);
	wgnl_config_free(cfg2);
	return 0;
}

#endif
