/* SPDX-License-Identifier: MIT */
/*
 * libwg-netlink: a writer of the Prometheus text exposition format (0.0.4),
 * for node_exporter textfiles (wghealth) and /metrics endpoints (the
 * gateway). It writes into a growing buffer the caller then hands to a file
 * or a socket; it never writes a FILE (a FILE does not cross a DLL's C
 * runtime). Per family: "# HELP" and "# TYPE" once, then its samples;
 * label values are escaped (backslash, double quote, newline), HELP text
 * too (backslash, newline). Conventions as in wgnl.h; errors are sticky:
 * after the first failure every call returns it and writes nothing.
 */
#ifndef WGKIT_WGNL_PROM_H
#define WGKIT_WGNL_PROM_H

#include "wgkit/wgnl_decls.h"

#include <stddef.h>
#include <stdint.h>

WGNL_DECLS_BEGIN

enum wgnl_prom_type {
	WGNL_PROM_COUNTER = 0,
	WGNL_PROM_GAUGE,
	WGNL_PROM_HISTOGRAM,
	WGNL_PROM_UNTYPED,
};

/* One label of a sample. Names match [a-zA-Z_][a-zA-Z0-9_]*; the value is
 * any string (escaped on output). */
struct wgnl_prom_label {
	const char *name;
	const char *value;
};

struct wgnl_prom;

/* A new, empty writer in *ret (NULL on failure); free with
 * wgnl_prom_free(). Returns 0 or -ENOMEM. */
int wgnl_prom_new(struct wgnl_prom **ret);
/* Free @p and its buffer. NULL-safe. */
void wgnl_prom_free(struct wgnl_prom *p);
/* The text written so far in *text (NUL-terminated, owned by @p, valid
 * until the next call on @p; "" when empty), its length in *len (may be
 * NULL). Returns 0, or the first error of a call before (-ENOMEM, ...):
 * the text is then incomplete. */
int wgnl_prom_text(const struct wgnl_prom *p, const char **text, size_t *len);
/* Empty the buffer and forget the families (reuse for the next scrape);
 * also clears a sticky error. */
void wgnl_prom_clear(struct wgnl_prom *p);

/* Start family @name: "# HELP name help" and "# TYPE name type", only the
 * first time @name is seen by this writer. @help may be NULL (no HELP
 * line). Returns 0, -EINVAL (bad metric name) or -ENOMEM. */
int wgnl_prom_family_begin(struct wgnl_prom *p, const char *name, enum wgnl_prom_type type,
			   const char *help);
/* One sample "name{labels} value" with an integer value. @labels may be
 * NULL when @n_labels is 0. Returns 0, -EINVAL (bad metric or label name)
 * or -ENOMEM. */
int wgnl_prom_put_u64(struct wgnl_prom *p, const char *name, const struct wgnl_prom_label *labels,
		      size_t n_labels, uint64_t v);
/* The same with a floating-point value: @precision digits after the point
 * ("%.*f", at most 30), or the shortest text that reads back as @v when @precision is
 * negative. NaN and the infinities are "NaN", "+Inf", "-Inf". */
int wgnl_prom_put_double(struct wgnl_prom *p, const char *name,
			 const struct wgnl_prom_label *labels, size_t n_labels, double v,
			 int precision);
/* A histogram's samples for one label set: "name_bucket{labels,le="B"}"
 * for each of the @n_bounds finite upper bounds (ascending) with the cumulative
 * count, le="+Inf" with @count, then "name_sum" and "name_count". @counts
 * holds the observations per bucket (not cumulative): counts[i] those
 * <= bounds[i] and above bounds[i - 1]. Returns 0, -EINVAL (bad names,
 * bounds not ascending, per-bucket counts above @count) or -ENOMEM. */
int wgnl_prom_put_histogram(struct wgnl_prom *p, const char *name,
			    const struct wgnl_prom_label *labels, size_t n_labels,
			    const double *bounds, const uint64_t *counts, size_t n_bounds,
			    double sum, uint64_t count);

WGNL_DECLS_END
#endif
