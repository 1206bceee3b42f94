// SPDX-License-Identifier: MIT
/* The wghealth state file: what one run leaves for the next. A small text
 * format, strictly parsed (a corrupt file is refused as a whole, never half
 * read), written through a temporary file and rename so a crash leaves the
 * old or the new file, never a torn one.
 *
 *   wghealth-state 1
 *   last_check 1700000000123
 *   ...
 *   peer <base64 key> <rx> <tx> <last_handshake_ms> <verdict> <reasons>
 *        [<consecutive_bad> <attempt> <next_attempt_ms>]
 *   end <number of lines before this one>
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/compat.h"
#include "wgkit/wgnl_health.h"

#define STATE_MAGIC "wghealth-state 1"
#define MAX_PEERS 100000

void wgnl_health_state_clear(struct wgnl_health_state *st)
{
	if (!st)
		return;
	free(st->peers);
	memset(st, 0, sizeof(*st));
}

static int parse_i64(const char *s, int64_t *out)
{
	char *end;

	if (!*s || (*s != '-' && (*s < '0' || *s > '9')))
		return -1;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

static int parse_u32(const char *s, uint32_t *out)
{
	uint64_t v;

	if (parse_u64(s, &v) || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int parse_peer(char *args, struct wgnl_health_state *st)
{
	char *f[9], *save = NULL;
	int n = 0;
	uint64_t rx, tx;
	int64_t hs, next = 0;
	uint32_t verdict, reasons, bad = 0, attempt = 0;

	for (char *t = strtok_r(args, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		if (n == 9)
			return -1;
		f[n++] = t;
	}
	/* Six fields before the per-peer policy was kept: still read. */
	if ((n != 6 && n != 9) || parse_u64(f[1], &rx) || parse_u64(f[2], &tx) ||
	    parse_i64(f[3], &hs) || hs < 0 || parse_u32(f[4], &verdict) ||
	    verdict > WGNL_HEALTH_IDLE || parse_u32(f[5], &reasons))
		return -1;
	if (n == 9 && (parse_u32(f[6], &bad) || parse_u32(f[7], &attempt) ||
		       parse_i64(f[8], &next) || next < 0))
		return -1;
	if (st->n_peers >= MAX_PEERS)
		return -1;
	/* Capacity doubles at each power of two: amortised O(1) per peer. */
	struct wgnl_health_peer_state *v = st->peers;
	size_t np = st->n_peers;
	if (np == 0 || ((np & (np - 1)) == 0 && np >= 16)) {
		v = realloc(st->peers, (np ? 2 * np : 16) * sizeof(*v));
		if (!v)
			return -2;
		st->peers = v;
	}
	struct wgnl_health_peer_state *p = &v[st->n_peers];
	memset(p, 0, sizeof(*p));
	if (wgnl_key_from_base64(p->public_key, f[0]) < 0)
		return -1;
	p->rx_bytes = rx;
	p->tx_bytes = tx;
	p->last_handshake_ms = hs;
	p->verdict = (uint8_t)verdict;
	p->reasons = reasons;
	p->consecutive_bad = bad;
	p->attempt = attempt;
	p->next_attempt_ms = next;
	st->n_peers++;
	return 0;
}

int wgnl_health_state_parse(const char *text, size_t len, struct wgnl_health_state *st)
{
	char line[256];
	size_t pos = 0;
	unsigned lines = 0;
	bool ended = false;
	int r = -EBADMSG;

	wgnl_health_state_clear(st);
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n;

		if (!nl || ended)
			goto bad; /* a torn last line, or anything after "end" */
		n = (size_t)(nl - (text + pos));
		if (n >= sizeof(line) || memchr(text + pos, 0, n))
			goto bad;
		memcpy(line, text + pos, n);
		line[n] = 0;
		pos += n + 1;
		if (lines == 0) {
			if (strcmp(line, STATE_MAGIC))
				goto bad;
			lines++;
			continue;
		}
		char *val = strchr(line, ' ');
		if (!val)
			goto bad;
		*val++ = 0;
		int64_t i64;
		uint32_t u32;
		uint64_t u64;
		if (!strcmp(line, "end")) {
			if (parse_u32(val, &u32) || u32 != lines)
				goto bad;
			ended = true;
			continue;
		}
		lines++;
		if (!strcmp(line, "peer")) {
			int pr = parse_peer(val, st);
			if (pr == -2) {
				r = -ENOMEM;
				goto bad;
			}
			if (pr)
				goto bad;
		} else if (!strcmp(line, "last_check") && !parse_i64(val, &i64) && i64 >= 0) {
			st->last_check_ms = i64;
		} else if (!strcmp(line, "verdict") && wgnl_health_verdict_from_name(val) >= 0) {
			st->verdict = (uint8_t)wgnl_health_verdict_from_name(val);
		} else if (!strcmp(line, "reasons") && !parse_u32(val, &u32)) {
			st->reasons = u32;
		} else if (!strcmp(line, "consecutive_bad") && !parse_u32(val, &u32)) {
			st->consecutive_bad = u32;
		} else if (!strcmp(line, "attempt") && !parse_u32(val, &u32)) {
			st->attempt = u32;
		} else if (!strcmp(line, "next_attempt") && !parse_i64(val, &i64) && i64 >= 0) {
			st->next_attempt_ms = i64;
		} else if (!strcmp(line, "cooldown_until") && !parse_i64(val, &i64) && i64 >= 0) {
			st->cooldown_until_ms = i64;
		} else if (!strcmp(line, "last_remedy") && !parse_i64(val, &i64) && i64 >= 0) {
			st->last_remedy_ms = i64;
		} else if (!strcmp(line, "last_remedy_failed") && !parse_u32(val, &u32) &&
			   u32 <= 1) {
			st->last_remedy_failed = u32;
		} else if (!strcmp(line, "underlay_down") && !parse_u32(val, &u32) && u32 <= 1) {
			st->underlay_down = u32;
		} else if (!strcmp(line, "remedies_total") && !parse_u64(val, &u64)) {
			st->remedies_total = u64;
		} else {
			goto bad;
		}
	}
	if (!ended)
		goto bad;
	return 0;
bad:
	wgnl_health_state_clear(st);
	return r;
}

int wgnl_health_state_format(const struct wgnl_health_state *st, char **ret)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	unsigned lines = 1;

	*ret = NULL;
	if (!f)
		return -ENOMEM;
	fprintf(f, "%s\n", STATE_MAGIC);
	fprintf(f, "last_check %" PRId64 "\n", st->last_check_ms);
	fprintf(f, "verdict %s\n", wgnl_health_verdict_name((enum wgnl_health_verdict)st->verdict));
	fprintf(f, "reasons %" PRIu32 "\n", st->reasons);
	fprintf(f, "consecutive_bad %" PRIu32 "\n", st->consecutive_bad);
	fprintf(f, "attempt %" PRIu32 "\n", st->attempt);
	fprintf(f, "next_attempt %" PRId64 "\n", st->next_attempt_ms);
	fprintf(f, "cooldown_until %" PRId64 "\n", st->cooldown_until_ms);
	fprintf(f, "last_remedy %" PRId64 "\n", st->last_remedy_ms);
	fprintf(f, "last_remedy_failed %d\n", st->last_remedy_failed ? 1 : 0);
	fprintf(f, "underlay_down %d\n", st->underlay_down ? 1 : 0);
	fprintf(f, "remedies_total %" PRIu64 "\n", st->remedies_total);
	lines += 11;
	for (size_t i = 0; i < st->n_peers; i++) {
		const struct wgnl_health_peer_state *p = &st->peers[i];
		wgnl_key_b64 k;

		wgnl_key_to_base64(k, p->public_key);
		fprintf(f,
			"peer %s %" PRIu64 " %" PRIu64 " %" PRId64 " %u %" PRIu32 " %" PRIu32
			" %" PRIu32 " %" PRId64 "\n",
			k, p->rx_bytes, p->tx_bytes, p->last_handshake_ms, p->verdict, p->reasons,
			p->consecutive_bad, p->attempt, p->next_attempt_ms);
		lines++;
	}
	fprintf(f, "end %u\n", lines);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	if (size > INT_MAX) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	return (int)size;
}

int wgnl_health_state_load(const char *path, struct wgnl_health_state *st)
{
	char *buf;
	size_t len;
	int r;

	wgnl_health_state_clear(st);
	/* A state file is small; a huge one (64 MiB or more) is corrupt. */
	r = wgnl_file_read(path, (64U << 20) - 1, &buf, &len);
	if (r < 0)
		return r == -EFBIG ? -EBADMSG : r;
	r = wgnl_health_state_parse(buf, len, st);
	free(buf);
	return r;
}

int wgnl_health_state_save(const char *path, const struct wgnl_health_state *st)
{
	struct iovec v;
	char *text = NULL;
	int n, r;

	n = wgnl_health_state_format(st, &text);
	if (n < 0)
		return n;
	/* The directory may be writable by others: the writer's temporary
	 * file is fresh (O_EXCL, 0600), and a symlink at @path is replaced,
	 * never followed. */
	v = (struct iovec){ text, (size_t)n };
	r = wgnl_file_write_atomic(path, &v, 1, WGNL_FILE_SYNC);
	free(text);
	return r;
}

int wgnl_health_lock(const char *path, int *fd)
{
	int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	*fd = -1;
	if (f < 0)
		return -errno;
	if (flock(f, LOCK_EX | LOCK_NB) < 0) {
		int e = errno == EWOULDBLOCK ? -EWOULDBLOCK : -errno;
		close(f);
		return e;
	}
	*fd = f;
	return 0;
}
