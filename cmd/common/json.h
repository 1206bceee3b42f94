/* SPDX-License-Identifier: MIT */
/* A small streaming JSON writer for the wgkit tools' machine output.
 * Commas, colons and indentation are handled here; strings are escaped per
 * RFC 8259 and invalid UTF-8 becomes U+FFFD, so the output always parses. */
#ifndef WGK_JSON_H
#define WGK_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define WGK_JSON_MAX_DEPTH 16

struct wgk_json {
	FILE *f;
	bool pretty;
	int depth;
	bool after_key;			    /* a key was written, its value is next */
	bool has_items[WGK_JSON_MAX_DEPTH]; /* the container at this depth is not empty */
	bool is_object[WGK_JSON_MAX_DEPTH]; /* ...and is an object (else an array) */
	bool broken;			    /* nesting misuse: finish() reports it */
};

/* Start writing to @f; @pretty: two-space indentation, else one line. */
void wgk_json_init(struct wgk_json *j, FILE *f, bool pretty);
void wgk_json_object_begin(struct wgk_json *j);
void wgk_json_object_end(struct wgk_json *j);
void wgk_json_array_begin(struct wgk_json *j);
void wgk_json_array_end(struct wgk_json *j);
/* The key of the next member of the current object. */
void wgk_json_key(struct wgk_json *j, const char *key);
void wgk_json_string(struct wgk_json *j, const char *s); /* NULL writes null */
void wgk_json_uint(struct wgk_json *j, uint64_t v);
void wgk_json_int(struct wgk_json *j, int64_t v);
void wgk_json_bool(struct wgk_json *j, bool v);
void wgk_json_null(struct wgk_json *j);
/* Key and value in one call. */
void wgk_json_kv_string(struct wgk_json *j, const char *key, const char *s);
void wgk_json_kv_uint(struct wgk_json *j, const char *key, uint64_t v);
void wgk_json_kv_bool(struct wgk_json *j, const char *key, bool v);
/* End the document with a newline and flush. Returns 0, or -EIO when
 * writing failed, or -EINVAL when containers were left open or misnested. */
int wgk_json_finish(struct wgk_json *j);

/* Write @s as a JSON string literal (with the quotes) to @f. */
void wgk_json_write_escaped(FILE *f, const char *s);

#endif
