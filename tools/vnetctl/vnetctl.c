/*
 * vnetctl - send one management command to a running vnetd over its
 * control socket and print the answer (docs/management.md).
 *
 *   vnetctl [--socket PATH] [--json] COMMAND [ARGS...]
 *
 * The command's names, arguments and output are those of the Orion
 * kernel's shell (src/mgmt runs them inside vnetd); vnetctl only frames
 * the request (vnetctl_proto.h) and prints the reply: to stdout when the
 * command succeeded (or with --json, so a script always gets the object),
 * to stderr otherwise.
 * Exit status: 0 done; 1 the command failed (unknown device, bad value,
 * ...); 3 vnetd refused it (access control); 2 usage, no vnetd on the
 * socket, or a malformed reply.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vnetctl_capture.h"
#include "vnetctl_proto.h"
#include "vnetctl_sock.h"

#define VNETCTL_DEFAULT_SOCKET "/run/vnetd/control.sock"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: vnetctl [--socket PATH] [--json] COMMAND [ARGS...]\n"
		"       vnetctl [--socket PATH] capture DEV FILE|- [--count N] [--snaplen N]\n"
		"Run a management command in vnetd (the same commands as the Orion kernel's shell;\n"
		"`vnetctl help` lists them).\n"
		"\n"
		"  --socket PATH  vnetd's control socket (default $VNETCTL_SOCKET or %s)\n"
		"  --json         one JSON object instead of aligned text\n"
		"vnetctl monitor [DEV] [--interval S] [--count N] [--json]: performance_stats every S seconds\n"
		"vnetctl perf [DEV] --watch SECONDS [--json]: the same, one a second, SECONDS times\n"
		"  --help\n"
		"Exit status: 0 ok, 1 the command failed, 3 refused by access control, 2 usage or no vnetd.\n",
		VNETCTL_DEFAULT_SOCKET);
}

int main(int argc, char **argv)
{
	const char *sock = getenv("VNETCTL_SOCKET");
	if (!sock || !*sock)
		sock = VNETCTL_DEFAULT_SOCKET;
	bool json = false;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--socket") && i + 1 < argc) {
			sock = argv[++i];
		} else if (!strncmp(argv[i], "--socket=", 9)) {
			sock = argv[i] + 9;
		} else if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "vnetctl: unknown option '%s' (vnetctl --help)\n", argv[i]);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	extern int vnetctl_monitor(const char *sock, bool json, int argc, char **argv); /* vnetctl_monitor.c */
	if (!strcmp(argv[i], "monitor"))
		return vnetctl_monitor(sock, json, argc - i - 1, argv + i + 1);
	if (!strcmp(argv[i], "capture")) /* a stream into a pcap file: vnetctl_capture.c */
		return vnetctl_capture_main(sock, argc - i, argv + i);
	/* performance_stats --watch SECONDS: the kernel shell's refreshing
	 * table; here the monitor, one table a second, SECONDS of them. */
	if (!strcmp(argv[i], "virtio_net_performance_stats") || !strcmp(argv[i], "perf")) {
		for (int k = i + 1; k < argc; k++) {
			if (strcmp(argv[k], "--watch"))
				continue;
			char *end = NULL;
			long secs = k + 1 < argc ? strtol(argv[k + 1], &end, 10) : 0;
			if (!end || *end || secs < 1 || secs > 3600) {
				fprintf(stderr, "vnetctl: %s: --watch takes SECONDS, 1 to 3600\n", argv[i]);
				return 2;
			}
			char *margs[8];
			int mn = 0;
			for (int j = i + 1; j < argc && mn < 4; j++)
				if (j != k && j != k + 1)
					margs[mn++] = argv[j];
			margs[mn++] = "--count";
			margs[mn++] = argv[k + 1];
			return vnetctl_monitor(sock, json, mn, margs);
		}
	}
	const char *args[VNETCTL_ARGC_MAX];
	int n = 0;
	for (; i < argc; i++) {
		if (n == VNETCTL_ARGC_MAX - 1) {
			fprintf(stderr, "vnetctl: too many arguments (at most %d)\n", VNETCTL_ARGC_MAX - 1);
			return 2;
		}
		if (!strcmp(argv[i], "--json")) {
			json = true;
			continue;
		}
		args[n++] = argv[i];
	}
	if (json)
		args[n++] = "--json";
	static uint8_t req[VNETCTL_HDR_LEN + VNETCTL_REQ_MAX];
	size_t rlen = vnetctl_request_encode(req, sizeof req, n, args);
	if (!rlen) {
		fprintf(stderr, "vnetctl: the request is too long or has an empty argument\n");
		return 2;
	}
	int fd = vnetctl_connect(sock);
	if (fd < 0) {
		fprintf(stderr, "vnetctl: cannot reach vnetd at %s: %s\n", sock, strerror(errno));
		return 2;
	}
	struct timeval tv = {.tv_sec = 30};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	uint8_t hdr[VNETCTL_HDR_LEN];
	uint32_t plen;
	const char *why;
	if (vnetctl_io_full(fd, req, rlen, true) < 0 || vnetctl_io_full(fd, hdr, sizeof hdr, false) < 0) {
		fprintf(stderr, "vnetctl: %s: vnetd closed the connection without a reply\n", sock);
		return 2;
	}
	if (vnetctl_hdr_decode(hdr, VNETCTL_T_REPLY, &plen, &why) < 0) {
		fprintf(stderr, "vnetctl: %s: malformed reply: %s\n", sock, why);
		return 2;
	}
	uint8_t *payload = malloc(plen ? plen : 1);
	if (!payload || vnetctl_io_full(fd, payload, plen, false) < 0) {
		fprintf(stderr, "vnetctl: %s: reply cut short\n", sock);
		return 2;
	}
	close(fd);
	int32_t status;
	const char *text;
	size_t tlen;
	if (vnetctl_reply_decode(payload, plen, &status, &text, &tlen) < 0) {
		fprintf(stderr, "vnetctl: %s: malformed reply: too short\n", sock);
		return 2;
	}
	FILE *out = (status == 0 || json) ? stdout : stderr;
	fwrite(text, 1, tlen, out);
	if (tlen && text[tlen - 1] != '\n')
		fputc('\n', out);
	free(payload);
	if (status == VNETCTL_REFUSED)
		return 3;
	return status == 0 ? 0 : 1;
}
