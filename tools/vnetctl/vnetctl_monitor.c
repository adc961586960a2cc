/*
 * vnetctl monitor [DEV] [--interval S] [--count N] [--json]
 *
 * A live view of virtio_net_performance_stats (docs/management.md): one
 * call to set the baseline, then one every S seconds (default 1), each
 * reporting the rates over the interval since the previous one, the
 * smoothed rates, per queue pair occupancy, frames per poll and per
 * interrupt, latency percentiles and feature use.  Text: the table,
 * redrawn in place (screen cleared) when stdout is a terminal, otherwise
 * one table after the other; --json: one JSON object per interval, one per
 * line.  N intervals (default: until interrupted).  Exit 0, 1 when a
 * command failed, 2 when vnetd is unreachable.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vnetctl_proto.h"
#include "vnetctl_sock.h"

int vnetctl_monitor(const char *sock, bool json, int argc, char **argv);

/* One command: status (or 2 when vnetd is unreachable) and its output in
 * a malloc'd, NUL-terminated *text. */
static int mon_call(const char *sock, int n, const char *const *args, char **text)
{
	static uint8_t req[VNETCTL_HDR_LEN + VNETCTL_REQ_MAX];
	*text = NULL;
	size_t rlen = vnetctl_request_encode(req, sizeof req, n, args);
	if (!rlen)
		return 2;
	int fd = vnetctl_connect(sock);
	if (fd < 0)
		return 2;
	uint8_t hdr[VNETCTL_HDR_LEN];
	uint32_t plen;
	const char *why;
	uint8_t *payload = NULL;
	int rc = 2;
	if (vnetctl_io_full(fd, req, rlen, true) == 0 && vnetctl_io_full(fd, hdr, sizeof hdr, false) == 0 &&
	    vnetctl_hdr_decode(hdr, VNETCTL_T_REPLY, &plen, &why) == 0 && (payload = malloc(plen + 1u)) &&
	    vnetctl_io_full(fd, payload, plen, false) == 0) {
		int32_t status;
		const char *t;
		size_t tlen;
		if (vnetctl_reply_decode(payload, plen, &status, &t, &tlen) == 0 && (*text = malloc(tlen + 1u))) {
			memcpy(*text, t, tlen);
			(*text)[tlen] = 0;
			rc = status == 0 ? 0 : 1;
		}
	}
	free(payload);
	close(fd);
	return rc;
}

static void mon_sleep(double s)
{
	struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int vnetctl_monitor(const char *sock, bool json, int argc, char **argv)
{
	double interval = 1.0;
	long count = 0;
	const char *dev = NULL;
	for (int i = 0; i < argc; i++) {
		char *end;
		if (!strcmp(argv[i], "--interval") && i + 1 < argc) {
			interval = strtod(argv[++i], &end);
			if (*end || !(interval >= 0.05 && interval <= 3600)) {
				fprintf(stderr, "vnetctl monitor: --interval takes seconds, 0.05 to 3600\n");
				return 2;
			}
		} else if (!strcmp(argv[i], "--count") && i + 1 < argc) {
			count = strtol(argv[++i], &end, 10);
			if (*end || count < 1) {
				fprintf(stderr, "vnetctl monitor: --count takes a number >= 1\n");
				return 2;
			}
		} else if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (argv[i][0] != '-' && !dev) {
			dev = argv[i];
		} else {
			fprintf(stderr, "usage: vnetctl monitor [DEV] [--interval S] [--count N] [--json]\n");
			return 2;
		}
	}
	const char *args[3];
	int n = 0;
	args[n++] = "virtio_net_performance_stats";
	if (dev)
		args[n++] = dev;
	if (json)
		args[n++] = "--json";
	bool tty = !json && isatty(STDOUT_FILENO);
	char *text;
	int rc = mon_call(sock, n, args, &text); /* the baseline */
	if (rc) {
		if (rc == 2)
			fprintf(stderr, "vnetctl: cannot reach vnetd at %s\n", sock);
		else
			fprintf(stderr, "%s\n", text ? text : "vnetctl monitor: command failed");
		free(text);
		return rc;
	}
	free(text);
	for (long k = 0; !count || k < count; k++) {
		mon_sleep(interval);
		rc = mon_call(sock, n, args, &text);
		if (rc == 2) {
			fprintf(stderr, "vnetctl: lost vnetd at %s\n", sock);
			return 2;
		}
		size_t len = text ? strlen(text) : 0;
		if (rc) {
			fprintf(stderr, "%s%s", text ? text : "", len && text[len - 1] == '\n' ? "" : "\n");
			free(text);
			return 1;
		}
		if (tty)
			fputs("\033[H\033[2J", stdout);
		/* JSON: the object on one line (the daemon prints it so) */
		fputs(text, stdout);
		if (!len || text[len - 1] != '\n')
			fputc('\n', stdout);
		if (!json && !tty)
			fputc('\n', stdout);
		fflush(stdout);
		free(text);
	}
	return 0;
}
