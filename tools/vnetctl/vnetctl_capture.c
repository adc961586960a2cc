/*
 * vnetctl capture DEV FILE [--count N] [--snaplen N]: the frames vnetd
 * moves for DEV (both directions) into a libpcap file FILE ("-": stdout),
 * LINKTYPE_ETHERNET, microsecond timestamps (vnetctl_pcap.h).
 *
 * Ends after N frames, or on SIGINT/SIGTERM: vnetctl then shuts its side
 * of the socket and vnetd answers with the end marker (captured and
 * dropped counts).  The counts go to stderr:
 *   "vnetctl: capture: N frames captured, M dropped by vnetd"
 * Exit status as for other commands: 0 done, 1 refused arguments or
 * unknown device, 3 not allowed, 2 usage or socket errors, or the stream
 * ended without vnetd's end marker.
 */
#define _GNU_SOURCE
#include "vnetctl_capture.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vnetctl_pcap.h"
#include "vnetctl_proto.h"
#include "vnetctl_sock.h"

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

/* len bytes from fd; 0, or -1 at EOF, an error, or (after SIGINT/SIGTERM)
 * when vnetd has not answered the shutdown within 2 s.  Polls so that a
 * signal arriving outside the read is still seen. */
static int rd(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	int waited_ms = 0;
	while (len) {
		if (g_stop == 1) {
			g_stop = 2; /* once: ask vnetd for its end marker */
			shutdown(fd, SHUT_WR);
		}
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int pr = poll(&pfd, 1, 100);
		if (pr < 0 && errno != EINTR)
			return -1;
		if (pr <= 0) {
			if (g_stop == 2 && (waited_ms += 100) >= 2000)
				return -1;
			continue;
		}
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int capture_usage(void)
{
	fprintf(stderr, "usage: vnetctl [--socket PATH] capture DEV FILE|- [--count N] [--snaplen N (default %u)]\n",
		VNETCTL_PCAP_SNAPLEN_DEFAULT);
	return 2;
}

int vnetctl_capture_main(const char *sock, int argc, char **argv)
{
	const char *dev = NULL, *file = NULL, *count = NULL, *snap = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--count") && i + 1 < argc)
			count = argv[++i];
		else if (!strcmp(argv[i], "--snaplen") && i + 1 < argc)
			snap = argv[++i];
		else if (!dev && argv[i][0] != '-')
			dev = argv[i];
		else if (dev && !file && (argv[i][0] != '-' || !strcmp(argv[i], "-")))
			file = argv[i];
		else
			return capture_usage();
	}
	if (!dev || !file)
		return capture_usage();
	uint32_t snaplen = VNETCTL_PCAP_SNAPLEN_DEFAULT;
	if (snap) {
		char *end;
		unsigned long v = strtoul(snap, &end, 10);
		if (*end || end == snap || v < 1 || v > VNETCTL_PCAP_SNAPLEN_MAX) {
			fprintf(stderr, "vnetctl: capture: --snaplen %s: expected 1..%u\n", snap, VNETCTL_PCAP_SNAPLEN_MAX);
			return 2;
		}
		snaplen = (uint32_t)v;
	}
	const char *args[6];
	int n = 0;
	args[n++] = "capture";
	args[n++] = dev;
	if (count) {
		args[n++] = "--count";
		args[n++] = count;
	}
	if (snap) {
		args[n++] = "--snaplen";
		args[n++] = snap;
	}
	static uint8_t req[VNETCTL_HDR_LEN + VNETCTL_REQ_MAX];
	size_t rlen = vnetctl_request_encode(req, sizeof req, n, args);
	if (!rlen) {
		fprintf(stderr, "vnetctl: capture: request too long\n");
		return 2;
	}
	int fd = vnetctl_connect(sock);
	if (fd < 0) {
		fprintf(stderr, "vnetctl: cannot reach vnetd at %s: %s\n", sock, strerror(errno));
		return 2;
	}
	struct sigaction act = {.sa_handler = on_signal}; /* no SA_RESTART: read() ends with EINTR */
	sigaction(SIGINT, &act, NULL);
	sigaction(SIGTERM, &act, NULL);
	signal(SIGPIPE, SIG_IGN);
	uint8_t hdr[VNETCTL_HDR_LEN];
	uint32_t plen;
	const char *why;
	if (send(fd, req, rlen, MSG_NOSIGNAL) != (ssize_t)rlen || rd(fd, hdr, sizeof hdr) < 0) {
		fprintf(stderr, "vnetctl: %s: vnetd closed the connection without a reply\n", sock);
		return 2;
	}
	if (vnetctl_hdr_decode(hdr, VNETCTL_T_REPLY, &plen, &why) < 0 || plen < 4 || plen > 4096) {
		fprintf(stderr, "vnetctl: %s: malformed reply%s%s\n", sock, why ? ": " : "", why ? why : "");
		return 2;
	}
	uint8_t payload[4096];
	int32_t status;
	const char *text;
	size_t tlen;
	if (rd(fd, payload, plen) < 0 || vnetctl_reply_decode(payload, plen, &status, &text, &tlen) < 0) {
		fprintf(stderr, "vnetctl: %s: reply cut short\n", sock);
		return 2;
	}
	if (status != 0) {
		fwrite(text, 1, tlen, stderr);
		close(fd);
		return status == VNETCTL_REFUSED ? 3 : 1;
	}
	FILE *out = strcmp(file, "-") ? fopen(file, "wb") : stdout;
	if (!out) {
		fprintf(stderr, "vnetctl: capture: %s: %s\n", file, strerror(errno));
		close(fd);
		return 2;
	}
	uint8_t g[VNETCTL_PCAP_GLOBAL_LEN];
	vnetctl_pcap_global_encode(g, snaplen);
	fwrite(g, 1, sizeof g, out);
	fflush(out);
	uint8_t *frame = malloc(VNETCTL_PCAP_SNAPLEN_MAX);
	uint64_t got = 0, vn_captured = 0, vn_dropped = 0;
	int rc = 0;
	bool ended = false;
	while (frame) {
		uint8_t rh[VNETCTL_PCAP_REC_LEN];
		struct vnetctl_pcap_rec r;
		if (rd(fd, rh, sizeof rh) < 0)
			break;
		vnetctl_pcap_rec_decode(rh, &r);
		if (r.incl_len == VNETCTL_PCAP_END) {
			uint8_t e[16];
			if (rd(fd, e, sizeof e) == 0) {
				vnetctl_pcap_end_decode(e, &vn_captured, &vn_dropped);
				ended = true;
			}
			break;
		}
		if (r.incl_len > snaplen || r.incl_len > r.orig_len) {
			fprintf(stderr, "vnetctl: capture: malformed record from vnetd (incl_len %u, snaplen %u)\n",
				(unsigned)r.incl_len, (unsigned)snaplen);
			rc = 2;
			break;
		}
		if (rd(fd, frame, r.incl_len) < 0)
			break;
		if (fwrite(rh, 1, sizeof rh, out) != sizeof rh || fwrite(frame, 1, r.incl_len, out) != r.incl_len) {
			fprintf(stderr, "vnetctl: capture: %s: write failed: %s\n", file, strerror(errno));
			rc = 2;
			break;
		}
		got++;
		if (out == stdout && fflush(out) != 0) { /* a reader on a pipe sees each frame at once */
			fprintf(stderr, "vnetctl: capture: stdout: %s\n", strerror(errno));
			rc = 2;
			break;
		}
	}
	free(frame);
	close(fd);
	if ((out == stdout ? fflush(out) : fclose(out)) != 0) {
		fprintf(stderr, "vnetctl: capture: %s: %s\n", file, strerror(errno));
		rc = 2;
	}
	if (ended) {
		fprintf(stderr, "vnetctl: capture: %llu frames captured, %llu dropped by vnetd\n",
			(unsigned long long)got, (unsigned long long)vn_dropped);
		if (vn_captured != got && !rc) {
			fprintf(stderr, "vnetctl: capture: vnetd says it sent %llu frames\n", (unsigned long long)vn_captured);
			rc = 2;
		}
	} else if (!rc) {
		fprintf(stderr, "vnetctl: capture: %llu frames captured; the stream ended without vnetd's counts "
			"(drops unknown)\n", (unsigned long long)got);
		rc = 2;
	}
	return rc;
}
