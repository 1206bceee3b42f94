// SPDX-License-Identifier: MIT
/* wg-gatewayd: one loader for the libraries only some configs need (dl.h). */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dl.h"

/* One lock for every library: loading happens a few times per process. */
static pthread_mutex_t dl_lock = PTHREAD_MUTEX_INITIALIZER;

int gw_dl_load(const char *soname, const char *const *names, void **slots, size_t n,
	       const char *hint, char *err, size_t errlen)
{
	void **tmp = NULL, *h;
	const char *why;
	size_t len;
	int r = 0;

	pthread_mutex_lock(&dl_lock);
	if (n && slots[0])
		goto out; /* loaded before: slots are filled all or nothing */
	h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		why = dlerror();
		snprintf(err, errlen, "cannot load %s: %s", soname, why ? why : "unknown error");
		r = -ELIBACC;
		goto out;
	}
	tmp = calloc(n ? n : 1, sizeof(*tmp));
	if (!tmp) {
		snprintf(err, errlen, "cannot load %s: out of memory", soname);
		r = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		dlerror();
		tmp[i] = dlsym(h, names[i]);
		if (!tmp[i]) {
			snprintf(err, errlen, "cannot load %s: it has no symbol %s", soname,
				 names[i]);
			r = -ELIBACC;
			goto fail;
		}
	}
	memcpy(slots, tmp, n * sizeof(*tmp));
	goto out;
fail:
	dlclose(h);
out:
	if (r < 0 && hint && errlen) {
		len = strlen(err);
		snprintf(err + len, errlen - len, " (%s)", hint);
	}
	free(tmp);
	pthread_mutex_unlock(&dl_lock);
	return r;
}
