// SPDX-License-Identifier: MIT
/* What `up` and `down` share outside the library: finding the config and
 * the interface name (wg-quick rules), running hooks, resolvconf, starting a
 * userspace implementation, and the recorded config path. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <sys/wait.h>
#endif

#include "core/compat.h"
#include "quick.h"

#define CONF_DIR "/etc/wireguard"

static bool quick_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '=' || c == '+' || c == '.' || c == '-';
}

static bool quick_name_ok(const char *s, size_t n)
{
	if (!n || n >= WGNL_IFNAMSIZ)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!quick_name_char(s[i]))
			return false;
	return true;
}

int quick_target(const char *cmd, const char *arg, struct quick_target *t)
{
	const char *base, *dot;
	size_t n = strlen(arg);

	memset(t, 0, sizeof(*t));
	if (strchr(arg, '/') || (n > 5 && !strcmp(arg + n - 5, ".conf"))) {
		if (n >= sizeof(t->path))
			return wgctl_usage(cmd, "config path too long");
		memcpy(t->path, arg, n + 1);
		base = strrchr(arg, '/');
		base = base ? base + 1 : arg;
		dot = strrchr(base, '.');
		if (!dot || strcmp(dot, ".conf") || !quick_name_ok(base, (size_t)(dot - base))) {
			wgk_error(
				"%s: '%s': the file name must be <interface>.conf with an interface "
				"name of 1-15 characters [a-zA-Z0-9_=+.-]",
				cmd, wgk_qs(arg));
			return WGK_EXIT_INPUT;
		}
		memcpy(t->ifname, base, (size_t)(dot - base));
		return 0;
	}
	if (!quick_name_ok(arg, n))
		return wgctl_usage(cmd, "invalid interface name '%s'", wgk_qs(arg));
	memcpy(t->ifname, arg, n + 1);
	snprintf(t->path, sizeof(t->path), "%s/%s.conf", CONF_DIR, arg);
	return 0;
}

int quick_down_target(const char *cmd, const char *arg, struct quick_target *t)
{
	char path[PATH_MAX];
	int rc = quick_target(cmd, arg, t);

	if (rc)
		return rc;
	/* A name: the file `up` used, when it recorded one. */
	if (!strchr(arg, '/') && strcmp(arg, t->path) &&
	    quick_path_recorded(t->ifname, path, sizeof(path)) == 1)
		snprintf(t->path, sizeof(t->path), "%s", path);
	return 0;
}

#ifdef _WIN32
/* Windows: nothing is started. The library refuses hooks before any change
 * (quick_opts_init() gives it no hook callback), DNS= is ignored as without
 * resolvconf, and there is no userspace implementation to start. */
static int run(char *const argv[], const char *input)
{
	return -EOPNOTSUPP;
}

static void describe_status(char *buf, size_t len, int status)
{
	snprintf(buf, len, "could not run: %s", strerror(status < 0 ? -status : EIO));
}
#else
/* Run argv with @input (may be NULL) on its stdin; returns the wait status
 * or -errno. */
static int run(char *const argv[], const char *input)
{
	int pfd[2] = { -1, -1 }, status;
	pid_t pid;

	if (input && pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		int r = -errno;

		if (input) {
			close(pfd[0]);
			close(pfd[1]);
		}
		return r;
	}
	if (pid == 0) {
		if (input && dup2(pfd[0], STDIN_FILENO) < 0)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (input) {
		size_t len = strlen(input), off = 0;
		void (*old)(int) = signal(SIGPIPE, SIG_IGN);

		close(pfd[0]);
		while (off < len) {
			ssize_t w = write(pfd[1], input + off, len - off);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			off += (size_t)w;
		}
		close(pfd[1]);
		signal(SIGPIPE, old);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return status;
}

static void describe_status(char *buf, size_t len, int status)
{
	if (status < 0)
		snprintf(buf, len, "could not run: %s", strerror(-status));
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		snprintf(buf, len, "could not run (exit status 127)");
	else if (WIFEXITED(status))
		snprintf(buf, len, "failed with exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, len, "failed");
}
#endif

int quick_hook(const char *cmd, const char *key, const char *line)
{
	char *argv[] = { (char *)"sh", (char *)"-c", (char *)line, NULL }, why[96];
	int st = run(argv, NULL);

	if (st != 0) {
		describe_status(why, sizeof(why), st);
		wgk_error("%s: %s hook '%s' %s", cmd, key, wgk_qs(line), why);
		return WGK_EXIT_SYSTEM;
	}
	return 0;
}

bool quick_have_resolvconf(void)
{
#ifdef _WIN32
	return false;
#else
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	if (!path || !*path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");

		if (n && n + sizeof("/resolvconf") < sizeof(buf)) {
			memcpy(buf, path, n);
			strcpy(buf + n, "/resolvconf");
			if (access(buf, X_OK) == 0)
				return true;
		}
		path += n;
		if (*path == ':')
			path++;
	}
	return false;
#endif
}

int quick_dns_set(const char *cmd, const char *ifname, const struct wgnl_quick *q)
{
	char *argv[] = {
		(char *)"resolvconf", (char *)"-a", (char *)ifname, (char *)"-m", (char *)"0",
		(char *)"-x",	      NULL
	};
	size_t len = 1;
	char *input, why[96];
	int st;

	/* Addresses are name servers, anything else is a search domain. */
	for (size_t i = 0; i < q->n_dns; i++)
		len += strlen(q->dns[i]) + sizeof("nameserver \nsearch \n");
	input = malloc(len);
	if (!input) {
		wgk_error("%s: out of memory", cmd);
		return WGK_EXIT_SYSTEM;
	}
	input[0] = '\0';
	for (size_t i = 0; i < q->n_dns; i++) {
		struct wgnl_prefix p;

		if (wgnl_prefix_parse(&p, q->dns[i]) == 0 && !strchr(q->dns[i], '/'))
			strcat(input, "nameserver ");
		else
			strcat(input, "search ");
		strcat(input, q->dns[i]);
		strcat(input, "\n");
	}
	st = run(argv, input);
	free(input);
	if (st != 0) {
		describe_status(why, sizeof(why), st);
		wgk_error("%s: cannot set DNS for '%s': resolvconf %s", cmd, wgk_q(ifname), why);
		return WGK_EXIT_SYSTEM;
	}
	return 0;
}

int quick_dns_unset(const char *ifname)
{
	char *argv[] = { (char *)"resolvconf", (char *)"-d", (char *)ifname, (char *)"-f", NULL };

	return run(argv, NULL) == 0 ? 0 : -EIO;
}

/* Beside the record `wgctl sync` keeps (sync.c: $WGCTL_STATE_DIR, else
 * /var/lib/wgkit/sync): IF.path holds the config `up` used. */
static int path_file(char *buf, size_t len, const char *ifname)
{
	const char *dir = getenv("WGCTL_STATE_DIR");

	if (!dir || !*dir)
		dir = "/var/lib/wgkit/sync";
	if ((size_t)snprintf(buf, len, "%s/%s.path", dir, ifname) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int quick_path_record(const char *ifname, const char *path)
{
	char file[PATH_MAX], *real = realpath(path, NULL), *slash;
	struct iovec v[2];
	int r;

	if (!real)
		return -errno;
	r = path_file(file, sizeof(file), ifname);
	if (r < 0) {
		free(real);
		return r;
	}
	slash = strrchr(file, '/');
	*slash = '\0';
	if (mkdir(file, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		free(real);
		return r;
	}
	*slash = '/';
	v[0] = (struct iovec){ real, strlen(real) };
	v[1] = (struct iovec){ "\n", 1 };
	r = wgnl_file_write_atomic(file, v, 2, 0);
	free(real);
	return r;
}

int quick_path_recorded(const char *ifname, char *out, size_t len)
{
	char file[PATH_MAX];
	ssize_t n;
	int fd, r = path_file(file, sizeof(file), ifname);

	if (r < 0)
		return r;
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	n = read(fd, out, len - 1);
	r = n < 0 ? -errno : 0;
	close(fd);
	if (r < 0)
		return r;
	out[n] = '\0';
	out[strcspn(out, "\n")] = '\0';
	/* Only an absolute path, whole: anything else is no record. */
	return out[0] == '/' && (size_t)n < len - 1 ? 1 : 0;
}

void quick_path_forget(const char *ifname)
{
	char file[PATH_MAX];

	if (path_file(file, sizeof(file), ifname) == 0)
		unlink(file);
}

const char *quick_userspace_prog(const char *opt)
{
	const char *env = getenv("WG_QUICK_USERSPACE_IMPLEMENTATION");

	if (opt && *opt)
		return opt;
	return env && *env ? env : "wireguard-go";
}

/* wireguard-go makes its TUN device and socket, then detaches and exits 0;
 * an implementation that stays in the foreground is left running once its
 * socket is there. 10 s: under load or emulation the Go runtime alone can
 * take seconds to start. */
#define USERSPACE_WAIT_TENTHS 100

#ifdef _WIN32
int quick_userspace_start(const char *cmd, struct wgnl_ctx *ctx, const char *prog,
			  const char *ifname)
{
	wgk_error("%s: cannot start the userspace implementation '%s' for '%s': not supported "
		  "on Windows",
		  cmd, wgk_q(prog), ifname);
	return WGK_EXIT_SYSTEM;
}
#else
int quick_userspace_start(const char *cmd, struct wgnl_ctx *ctx, const char *prog,
			  const char *ifname)
{
	char *argv[] = { (char *)prog, (char *)ifname, NULL }, why[96];
	struct wgnl_link link;
	int status, devnull;
	bool exited = false;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		wgk_error("%s: cannot start '%s' for '%s': %s", cmd, wgk_q(prog), ifname,
			  strerror(errno));
		return WGK_EXIT_SYSTEM;
	}
	if (pid == 0) {
		/* Its banner and log are not ours to print; a failure is
		 * reported by its exit status. */
		devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (devnull >= 0) {
			dup2(devnull, STDIN_FILENO);
			dup2(devnull, STDOUT_FILENO);
			dup2(devnull, STDERR_FILENO);
		}
		signal(SIGPIPE, SIG_DFL);
		execvp(prog, argv);
		_exit(127);
	}
	for (int i = 0; i < USERSPACE_WAIT_TENTHS; i++) {
		if (!exited) {
			pid_t w = waitpid(pid, &status, WNOHANG);

			if (w == pid) {
				exited = true;
				if (status != 0)
					break;
			}
		}
		if (wgnl_backend_detect(ctx, ifname) == WGNL_BACKEND_UAPI &&
		    wgnl_link_get(ctx, ifname, &link) == 0)
			return 0;
		if (exited && i > 20)
			break; /* detached, yet nothing after 2 s more */
		usleep(100000);
	}
	if (!exited) {
		/* Ours, started above: stopped by its pid. */
		kill(pid, SIGTERM);
		waitpid(pid, &status, 0);
		wgk_error("%s: '%s' did not create '%s' and its UAPI socket within %d s", cmd,
			  wgk_q(prog), ifname, USERSPACE_WAIT_TENTHS / 10);
		return WGK_EXIT_SYSTEM;
	}
	if (status == 0)
		snprintf(why, sizeof(why), "exited without creating it");
	else
		describe_status(why, sizeof(why), status);
	wgk_error("%s: cannot start the userspace implementation '%s' for '%s': %s", cmd,
		  wgk_q(prog), ifname, why);
	return WGK_EXIT_SYSTEM;
}
#endif
