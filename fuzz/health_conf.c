/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for wghealth.conf: the settings parser, for the defaults
 * and for an interface section, and the section lister. Any input gives
 * settings or -EINVAL with a message naming a line, never a crash, a leak
 * or an unterminated string; settings that parse are within their ranges.
 * The section lister reads a path: the input goes through a memfd. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "wgkit/wgnl_health.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_settings(const struct wgnl_health_settings *s)
{
	if (!memchr(s->ping, '\0', sizeof(s->ping)) || !memchr(s->url, '\0', sizeof(s->url)) ||
	    !memchr(s->wg_config, '\0', sizeof(s->wg_config)) ||
	    !memchr(s->restart_command, '\0', sizeof(s->restart_command)) ||
	    !memchr(s->down_command, '\0', sizeof(s->down_command)) ||
	    !memchr(s->up_command, '\0', sizeof(s->up_command)))
		abort();
	if (s->port_min > s->port_max && s->port_max)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { NULL, "wg0", "defaults" };
	char *buf = malloc(size ? size : 1);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct wgnl_health_settings s;
		struct wgnl_config_error err;
		int r;

		memset(&err, 0, sizeof(err));
		wgnl_health_settings_default(&s);
		r = wgnl_health_conf_parse(buf, size, "fuzz.conf", names[i], &s, &err);
		if (r == 0)
			check_settings(&s);
		else if (r != -EINVAL && r != -ENOMEM)
			abort();
		else if (r == -EINVAL && (!err.message[0] || !err.line))
			abort();
		if (!memchr(err.key, '\0', sizeof(err.key)) ||
		    !memchr(err.message, '\0', sizeof(err.message)))
			abort();
	}
	free(buf);

	int fd = memfd_create("fuzz-health-conf", MFD_CLOEXEC);
	char path[64], **sections = NULL;
	struct wgnl_config_error err;
	int n;

	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = wgnl_health_conf_sections(path, &sections, &err);
	close(fd);
	if (n >= 0) {
		for (int i = 0; i < n; i++)
			if (!sections || !sections[i] || !*sections[i])
				abort();
		if (sections && sections[n])
			abort();
		wgnl_strv_free(sections);
	} else if (sections) {
		abort();
	}
	return 0;
}
