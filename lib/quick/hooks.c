// SPDX-License-Identifier: MIT
/* The PreUp/PostUp/PreDown/PostDown hooks: %i expanded here, run by the
 * caller's callback (the library never forks). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "quick.h"

/* Replace every "%i" by the interface name. */
static char *expand_hook(const char *hook, const char *ifname)
{
	size_t n = 1, il = strlen(ifname);
	char *out, *o;

	for (const char *p = hook; *p; p++)
		n += (p[0] == '%' && p[1] == 'i') ? il : 1;
	out = malloc(n);
	if (!out)
		return NULL;
	o = out;
	for (const char *p = hook; *p; p++) {
		if (p[0] == '%' && p[1] == 'i') {
			memcpy(o, ifname, il);
			o += il;
			p++;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return out;
}

int wgi_quick_hooks(const struct wgnl_quick_opts *o, const char *ifname, const char *key,
		    char **cmds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *line = expand_hook(cmds[i], ifname);
		struct wgnl_quick_event ev = { .step = WGNL_QUICK_HOOK,
					       .hook = key,
					       .command = line };
		int r;

		if (!line) {
			ev.kind = WGNL_QUICK_EV_FAIL;
			ev.step = WGNL_QUICK_NONE;
			ev.err = -ENOMEM;
			return wgi_quick_emit(o, ifname, ev);
		}
		ev.kind = WGNL_QUICK_EV_START;
		wgi_quick_emit(o, ifname, ev);
		r = o->hook ? o->hook(o->arg, ifname, key, line) : -EOPNOTSUPP;
		if (r < 0) {
			ev.kind = WGNL_QUICK_EV_FAIL;
			ev.err = r;
			ev.by_callback = o->hook != NULL;
			wgi_quick_emit(o, ifname, ev);
		}
		free(line);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Hooks without a callback to run them: refused before any change. */
int wgi_quick_hooks_runnable(const struct wgnl_quick_opts *o, const char *ifname, const char *key,
			     size_t n)
{
	if (!n || o->hook)
		return 0;
	return wgi_quick_emit(o, ifname,
			      (struct wgnl_quick_event){ .kind = WGNL_QUICK_EV_FAIL,
							 .step = WGNL_QUICK_HOOK,
							 .err = -EOPNOTSUPP,
							 .hook = key });
}
