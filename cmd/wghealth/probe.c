// SPDX-License-Identifier: MIT
/* wghealth probe: probe many targets at once through the library's io_uring
 * engine and print one result per target (text or --json). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

#include "core/compat.h"
#include "argparse.h"
#include "err.h"
#include "exitcodes.h"
#include "json.h"
#include "wghealth.h"
#include "wgkit/wgnl_probe.h"

static void help(FILE *f)
{
	fprintf(f,
		"Usage: wghealth probe [--json] [--quiet] [--timeout MS] [--interface IF] [--fwmark N]\n"
		"         [--tcp PORT | --udp PORT] [--max-inflight N] [--file PATH] [TARGET...]\n"
		"TARGET: ADDR (ICMP echo, or --tcp/--udp PORT), icmp:ADDR, tcp:ADDR:PORT,\n"
		"udp:ADDR:PORT, http://... or https://... ; --file reads one per line (# comments).\n"
		"Every result is printed with its RTT; --quiet prints only the summary.\n"
		"Exit: 0 all targets answered, 3 some did not, 1 usage, 2 bad target, 5 system.\n");
}

/* Names point into argv or into the target file, read whole into @text:
 * no copy per target (10,000 strdup()s were a tenth of the user time of a
 * 10,000-target run). */
struct target_list {
	struct wgnl_probe *p;
	const char **names;
	size_t n, cap;
	char *text;
};

static int parse_addr(union wgnl_endpoint *ep, const char *s, bool want_port)
{
	char buf[300];
	size_t n = strlen(s);

	memset(ep, 0, sizeof(*ep));
	if (want_port)
		return wgnl_endpoint_resolve(ep, s) < 0 ? -EINVAL : 0;
	if (n >= sizeof(buf))
		return -EINVAL;
	if (s[0] == '[' && n > 2 && s[n - 1] == ']') {
		memcpy(buf, s + 1, n - 2);
		buf[n - 2] = 0;
	} else {
		memcpy(buf, s, n + 1);
	}
	if (inet_pton(AF_INET, buf, &ep->addr4.sin_addr) == 1) {
		ep->addr4.sin_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, &ep->addr6.sin6_addr) == 1) {
		ep->addr6.sin6_family = AF_INET6;
		return 0;
	}
	/* A host name: resolve with a dummy port. */
	if (strlen(buf) + 3 < sizeof(buf)) {
		strcat(buf, ":0");
		if (wgnl_endpoint_resolve(ep, buf) == 0)
			return 0;
	}
	return -EINVAL;
}

static int add_target(struct target_list *t, const char *s, enum wgnl_probe_kind defkind,
		      uint16_t defport)
{
	struct wgnl_probe p;
	char buf[320];
	int r = 0;

	memset(&p, 0, sizeof(p));
	if (!strncmp(s, "http://", 7) || !strncmp(s, "https://", 8)) {
		p.kind = WGNL_PROBE_HTTP;
	} else if (!strncmp(s, "icmp:", 5)) {
		p.kind = WGNL_PROBE_ICMP;
		r = parse_addr(&p.target, s + 5, false);
	} else if (!strncmp(s, "tcp:", 4) || !strncmp(s, "udp:", 4)) {
		p.kind = s[0] == 't' ? WGNL_PROBE_TCP : WGNL_PROBE_UDP;
		r = parse_addr(&p.target, s + 4, true);
	} else if (defkind == WGNL_PROBE_ICMP) {
		p.kind = WGNL_PROBE_ICMP;
		r = parse_addr(&p.target, s, false);
	} else {
		p.kind = defkind;
		/* A bare address with the default port. */
		if (strchr(s, ':') && !strchr(s, '['))
			snprintf(buf, sizeof(buf), "[%s]:%u", s, defport);
		else
			snprintf(buf, sizeof(buf), "%s:%u", s, defport);
		r = parse_addr(&p.target, buf, true);
	}
	if (r < 0)
		return r;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct wgnl_probe *np = realloc(t->p, cap * sizeof(*np));
		if (!np)
			return -ENOMEM;
		t->p = np;
		const char **nn = realloc(t->names, cap * sizeof(*nn));
		if (!nn)
			return -ENOMEM;
		t->names = nn;
		t->cap = cap;
	}
	t->names[t->n] = s;
	if (p.kind == WGNL_PROBE_HTTP)
		p.url = s;
	t->p[t->n++] = p;
	return 0;
}

static const char *status_word(int st)
{
	switch (st) {
	case 0:
		return "reachable";
	case -ECONNREFUSED:
		return "refused";
	case -ETIMEDOUT:
		return "timeout";
	case -EHOSTUNREACH:
	case -ENETUNREACH:
		return "unreachable";
	default:
		return "error";
	}
}

/* What the command line asked for. */
struct probe_args {
	struct wgnl_probe_opts o;
	enum wgnl_probe_kind defkind;
	uint16_t defport;
	bool json, quiet;
	const char *file;
};

/* Returns -1 to go on, or the exit code to leave with. */
static int parse_args(int argc, char **argv, struct probe_args *a)
{
	static const struct option opts[] = {
		WGK_OPT_JSON,
		{ "quiet", no_argument, NULL, 'q' },
		{ "timeout", required_argument, NULL, 'T' },
		WGK_OPT_INTERFACE,
		WGK_OPT_FWMARK,
		{ "tcp", required_argument, NULL, 't' },
		{ "udp", required_argument, NULL, 'u' },
		{ "max-inflight", required_argument, NULL, 'M' },
		{ "file", required_argument, NULL, 'f' },
		WGK_OPT_HELP,
		WGK_OPT_END,
	};
	uint32_t v;
	int c;

	memset(a, 0, sizeof(*a));
	a->o.size = sizeof(a->o);
	a->defkind = WGNL_PROBE_ICMP;
	optind = 1;
	while ((c = getopt_long(argc, argv, "hjq", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			a->json = true;
			break;
		case 'q':
			a->quiet = true;
			break;
		case 'i':
			if (wgk_parse_ifname(a->o.ifname, sizeof(a->o.ifname), optarg) < 0)
				return WGK_EXIT_USAGE;
			break;
		case 'f':
			a->file = optarg;
			break;
		case 'T':
		case 'm':
		case 't':
		case 'u':
		case 'M':
			/* --fwmark may be 0; ports are 1-65535; the rest >= 1. */
			if (wgk_parse_u32(optarg, c == 'm' ? 0 : 1,
					  c == 't' || c == 'u' ? 65535 : 0xffffffffU, &v) < 0) {
				wgk_error("invalid number '%s'", wgk_q(optarg));
				return WGK_EXIT_USAGE;
			}
			if (c == 'T')
				a->o.timeout_ms = v;
			else if (c == 'm')
				a->o.fwmark = v;
			else if (c == 'M')
				a->o.max_inflight = v;
			else {
				a->defkind = c == 't' ? WGNL_PROBE_TCP : WGNL_PROBE_UDP;
				a->defport = (uint16_t)v;
			}
			break;
		case 'h':
			help(stdout);
			return WGK_EXIT_OK;
		default:
			help(stderr);
			return WGK_EXIT_USAGE;
		}
	}
	return -1;
}

/* Read @file ("-": stdin) whole into t->text and add one target per line
 * (blanks and # comments skipped). Returns an exit code. */
static int read_target_file(struct target_list *t, const char *file, const struct probe_args *a)
{
	FILE *f = strcmp(file, "-") ? fopen(file, "r") : stdin;
	size_t len = 0, cap = 0;
	unsigned lineno = 0;
	int rc = WGK_EXIT_OK;

	if (!f) {
		int e = errno;
		wgk_error("cannot open '%s': %s", wgk_q(file), strerror(e));
		return wgk_exit_for_file_errno(-e);
	}
	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 65536;
			char *nt = realloc(t->text, cap + 1);
			if (!nt) {
				wgk_error("out of memory reading '%s'", wgk_q(file));
				rc = WGK_EXIT_SYSTEM;
				break;
			}
			t->text = nt;
		}
		size_t got = fread(t->text + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	bool bad = rc == WGK_EXIT_OK && ferror(f);
	if (f != stdin)
		fclose(f);
	if (bad) {
		wgk_error("cannot read '%s'", wgk_q(file));
		rc = WGK_EXIT_SYSTEM;
	}
	if (rc != WGK_EXIT_OK)
		return rc;
	t->text[len] = 0;
	for (char *line = t->text, *nl; line < t->text + len; line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(t->text + len - line));
		if (!nl)
			nl = t->text + len;
		*nl = 0;
		lineno++;
		char *s = line + strspn(line, " \t");
		s[strcspn(s, " \t\r#")] = 0;
		if (!*s)
			continue;
		if (add_target(t, s, a->defkind, a->defport) < 0) {
			wgk_error("%s:%u: invalid target '%s'", wgk_q(file), lineno, wgk_q(s));
			return WGK_EXIT_INPUT;
		}
	}
	return WGK_EXIT_OK;
}

/* The targets of the command line, then of --file. Returns an exit code. */
static int collect_targets(struct target_list *t, int argc, char **argv, const struct probe_args *a)
{
	int rc;

	for (int i = optind; i < argc; i++) {
		if (add_target(t, argv[i], a->defkind, a->defport) < 0) {
			wgk_error("invalid target '%s'", wgk_q(argv[i]));
			return WGK_EXIT_INPUT;
		}
	}
	if (a->file && (rc = read_target_file(t, a->file, a)) != WGK_EXIT_OK)
		return rc;
	if (t->n == 0) {
		wgk_error("no targets");
		help(stderr);
		return WGK_EXIT_USAGE;
	}
	return WGK_EXIT_OK;
}

/* Outcomes by status. */
struct probe_counts {
	size_t ok, refused, timeout, error;
};

static void count_results(const struct target_list *t, struct probe_counts *n)
{
	memset(n, 0, sizeof(*n));
	for (size_t i = 0; i < t->n; i++) {
		int s = t->p[i].status;
		n->ok += s == 0;
		n->refused += s == -ECONNREFUSED;
		n->timeout += s == -ETIMEDOUT;
		n->error += s != 0 && s != -ECONNREFUSED && s != -ETIMEDOUT;
	}
}

static void print_json(const struct target_list *t, bool quiet, const struct probe_counts *n,
		       double secs, const struct wgnl_probe_stats *st)
{
	struct wgk_json j;

	wgk_json_init(&j, stdout, false);
	wgk_json_object_begin(&j);
	if (!quiet) {
		wgk_json_key(&j, "results");
		wgk_json_array_begin(&j);
		for (size_t i = 0; i < t->n; i++) {
			const struct wgnl_probe *p = &t->p[i];
			wgk_json_object_begin(&j);
			wgk_json_kv_string(&j, "target", t->names[i]);
			wgk_json_kv_string(&j, "kind", wgnl_probe_kind_name(p->kind));
			wgk_json_kv_string(&j, "status", status_word(p->status));
			if (p->status == 0 || p->status == -ECONNREFUSED)
				wgk_json_kv_uint(&j, "rtt_us", p->rtt_ns / 1000);
			else if (p->status != -ETIMEDOUT)
				wgk_json_kv_string(&j, "error", strerror(-p->status));
			if (p->kind == WGNL_PROBE_HTTP && p->http_code)
				wgk_json_kv_uint(&j, "http_code", (uint64_t)p->http_code);
			wgk_json_object_end(&j);
		}
		wgk_json_array_end(&j);
	}
	wgk_json_key(&j, "summary");
	wgk_json_object_begin(&j);
	wgk_json_kv_uint(&j, "targets", t->n);
	wgk_json_kv_uint(&j, "reachable", n->ok);
	wgk_json_kv_uint(&j, "refused", n->refused);
	wgk_json_kv_uint(&j, "timeout", n->timeout);
	wgk_json_kv_uint(&j, "error", n->error);
	wgk_json_kv_uint(&j, "elapsed_us", (uint64_t)(secs * 1e6));
	wgk_json_kv_uint(&j, "ring_enters", st->ring_enters);
	wgk_json_kv_uint(&j, "other_syscalls", st->other_syscalls);
	wgk_json_kv_bool(&j, "icmp_raw", st->icmp_raw);
	wgk_json_object_end(&j);
	wgk_json_object_end(&j);
	wgk_json_finish(&j);
}

static void print_text(const struct target_list *t, bool quiet, const struct probe_counts *n,
		       double secs, const struct wgnl_probe_stats *st)
{
	for (size_t i = 0; !quiet && i < t->n; i++) {
		const struct wgnl_probe *p = &t->p[i];
		if (p->status == 0 || p->status == -ECONNREFUSED)
			printf("%s %s %s %.3f ms\n", t->names[i], wgnl_probe_kind_name(p->kind),
			       status_word(p->status), (double)p->rtt_ns / 1e6);
		else if (p->status == -ETIMEDOUT)
			printf("%s %s timeout\n", t->names[i], wgnl_probe_kind_name(p->kind));
		else
			printf("%s %s %s (%s)\n", t->names[i], wgnl_probe_kind_name(p->kind),
			       status_word(p->status), strerror(-p->status));
	}
	printf("probe: %zu targets, %zu reachable, %zu refused, %zu timeout, %zu error in %.3f s "
	       "(ring_enters=%llu other_syscalls=%llu)\n",
	       t->n, n->ok, n->refused, n->timeout, n->error, secs,
	       (unsigned long long)st->ring_enters, (unsigned long long)st->other_syscalls);
}

/* Run the probes, timing the run in *secs. Returns an exit code. */
static int run_probes(struct target_list *t, const struct wgnl_probe_opts *o,
		      struct wgnl_probe_stats *st, double *secs)
{
	struct timespec t0, t1;
	struct rlimit rl;
	int r;

	/* One socket per UDP/TCP probe in flight. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = wgnl_probe_run(t->p, t->n, o, st);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (r < 0) {
		wgk_error("probing failed: %s%s", strerror(-r),
			  r == -EPERM ? " (ICMP needs CAP_NET_RAW or net.ipv4.ping_group_range)" :
					"");
		return r == -EPERM ? WGK_EXIT_PERM : WGK_EXIT_SYSTEM;
	}
	*secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	return WGK_EXIT_OK;
}

int cmd_probe(int argc, char **argv)
{
	struct probe_args a;
	struct wgnl_probe_stats st;
	struct probe_counts n;
	struct target_list t = { 0 };
	double secs;
	int rc;

	if ((rc = parse_args(argc, argv, &a)) >= 0)
		return rc;
	if ((rc = collect_targets(&t, argc, argv, &a)) != WGK_EXIT_OK)
		goto out;
	if ((rc = run_probes(&t, &a.o, &st, &secs)) != WGK_EXIT_OK)
		goto out;
	count_results(&t, &n);
	if (a.json)
		print_json(&t, a.quiet, &n, secs, &st);
	else
		print_text(&t, a.quiet, &n, secs, &st);
	if (n.ok + n.refused < t.n)
		rc = WGK_EXIT_NOTFOUND;
out:
	free(t.names);
	free(t.p);
	free(t.text);
	return rc;
}
