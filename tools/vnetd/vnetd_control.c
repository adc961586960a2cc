/*
 * vnetd's control socket: vnetctl's requests (tools/vnetctl/vnetctl_proto.h)
 * answered by the management commands (vnetd_cmds.c), with access control
 * by the peer's credentials (SO_PEERCRED, SO_PEERGROUPS); docs/management.md.
 *
 * The socket file is mode 0666 so that anyone can connect and be told
 * why not: the decision is vnetd's, made per request from the kernel's
 * view of the peer (not from anything the peer sends), and every refusal
 * is logged on stderr with the peer's uid, gid and pid.
 *   root and vnetd's own uid (the socket's owner): every command;
 *   members of the read-only group ([control] group, else vnetd's own
 *   group): read-only commands;
 *   everyone else: nothing.
 *
 * Served from the main loop, one request per connection, between frame
 * bursts: the listening socket is non-blocking and polled with the TAP;
 * a client gets 500 ms to send its request and to take the reply, so a
 * stuck client stalls the data path at most that long.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vnetctl_proto.h"
#include "vnetd.h"
#include "vnetd_capture.h"

#define CTL_IO_TIMEOUT_MS 500

int vnetd_control_open(struct vnetd *d)
{
	d->ctl_fd = -1;
	if (!d->o.control_path)
		return 0;
	const char *path = d->o.control_path;
	d->ctl_owner_uid = (uint32_t)geteuid();
	d->ctl_ro_gid = (uint32_t)getegid();
	if (d->o.control_group) {
		struct group *g = getgrnam(d->o.control_group);
		if (!g) {
			fprintf(stderr, "vnetd: control.group '%s': no such group\n", d->o.control_group);
			return -1;
		}
		d->ctl_ro_gid = (uint32_t)g->gr_gid;
	}
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		fprintf(stderr, "vnetd: control socket: %s\n", strerror(errno));
		return -1;
	}
	/* A socket file left by a vnetd that died is replaced; one that
	 * still answers belongs to a running vnetd and is not. */
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			fprintf(stderr, "vnetd: control socket %s: exists and is not a socket\n", path);
			close(fd);
			return -1;
		}
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0) {
			close(probe);
			close(fd);
			fprintf(stderr, "vnetd: control socket %s: another vnetd answers on it\n", path);
			return -1;
		}
		if (probe >= 0)
			close(probe);
		unlink(path);
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || chmod(path, 0666) < 0 || listen(fd, 8) < 0) {
		fprintf(stderr, "vnetd: control socket %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	d->ctl_fd = fd;
	return 0;
}

void vnetd_control_close(struct vnetd *d)
{
	if (d->ctl_fd < 0)
		return;
	close(d->ctl_fd);
	d->ctl_fd = -1;
	unlink(d->o.control_path);
}

/* Read or write len bytes within the I/O timeout; -1 otherwise. */
static int io_full(int fd, void *buf, size_t len, bool rd)
{
	uint8_t *p = buf;
	while (len) {
		struct pollfd pfd = {.fd = fd, .events = rd ? POLLIN : POLLOUT};
		int pr = poll(&pfd, 1, CTL_IO_TIMEOUT_MS);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			return -1;
		ssize_t n = rd ? recv(fd, p, len, 0) : send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void reply(int fd, int32_t status, const char *text, size_t len)
{
	uint8_t hdr[VNETCTL_HDR_LEN + 4];
	if (len > VNETCTL_REPLY_MAX - 4)
		len = VNETCTL_REPLY_MAX - 4;
	vnetctl_hdr_encode(hdr, VNETCTL_T_REPLY, (uint32_t)(len + 4));
	vnetctl_reply_status_encode(hdr + VNETCTL_HDR_LEN, status);
	if (io_full(fd, hdr, sizeof hdr, false) == 0 && len)
		io_full(fd, (void *)text, len, false);
}

static void serve_one(struct vnetd *d, int fd)
{
	const char *tap = d->o.tap_name;
	struct ucred cred;
	socklen_t cl = sizeof cred;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0) {
		fprintf(stderr, "vnetd[%s]: control: SO_PEERCRED: %s; connection closed\n", tap, strerror(errno));
		return;
	}
	/* Supplementary groups as the kernel has them (Linux >= 4.13). */
	gid_t groups[64];
	socklen_t gl = sizeof groups;
	uint32_t ngroups = 0, g32[64];
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &gl) == 0) {
		ngroups = (uint32_t)(gl / sizeof groups[0]);
		for (uint32_t i = 0; i < ngroups; i++)
			g32[i] = (uint32_t)groups[i];
	}
	uint8_t hdr[VNETCTL_HDR_LEN];
	static uint8_t payload[VNETCTL_REQ_MAX];
	uint32_t len;
	const char *why = NULL;
	int argc;
	const char *argv[VNETCTL_ARGC_MAX];
	if (io_full(fd, hdr, sizeof hdr, true) < 0)
		return; /* gone or silent: nothing to answer */
	if (vnetctl_hdr_decode(hdr, VNETCTL_T_REQUEST, &len, &why) < 0 || io_full(fd, payload, len, true) < 0 ||
	    vnetctl_request_decode(payload, len, &argc, argv, &why) < 0) {
		char msg[128];
		int n = snprintf(msg, sizeof msg, "error: malformed request: %s\n", why ? why : "cut short");
		fprintf(stderr, "vnetd[%s]: control: malformed request from uid %u pid %d: %s\n", tap,
			(unsigned)cred.uid, (int)cred.pid, why ? why : "cut short");
		reply(fd, VNETCTL_EBADREQ, msg, (size_t)n);
		return;
	}
	d->ctl_requests++;
	struct vnetctl_peer peer = {.uid = (uint32_t)cred.uid, .gid = (uint32_t)cred.gid, .groups = g32,
				    .ngroups = ngroups};
	if (!strcmp(argv[0], "capture")) { /* a stream, not one reply: vnetd_capture.c */
		vnetd_capture_request(d, fd, &peer, argc, argv);
		return;
	}
	bool changes = vnetd_cmd_changes(argv[0]);
	enum vnetctl_access a = vnetctl_access_decide(&peer, d->ctl_owner_uid, d->ctl_ro_gid, changes);
	if (a != VNETCTL_ALLOW) {
		d->ctl_refused++;
		fprintf(stderr, "vnetd[%s]: control: refused '%s' (%s) for uid %u gid %u pid %d: %s\n", tap, argv[0],
			changes ? "changing" : "read-only", (unsigned)cred.uid, (unsigned)cred.gid, (int)cred.pid,
			vnetctl_access_reason(a));
		char msg[256];
		int n = snprintf(msg, sizeof msg, "error: %s: permission denied: %s (uid %u)\n", argv[0],
				 vnetctl_access_reason(a), (unsigned)cred.uid);
		reply(fd, VNETCTL_REFUSED, msg, (size_t)n);
		return;
	}
	struct vnetd_out out = {.buf = malloc(VNETCTL_REPLY_MAX - 4), .len = 0, .cap = VNETCTL_REPLY_MAX - 4};
	if (!out.buf) {
		static const char oom[] = "error: vnetd is out of memory\n";
		reply(fd, VNET_ENOMEM, oom, sizeof oom - 1);
		return;
	}
	int rc = vnetd_cmd_run(d, argc, argv, &out);
	reply(fd, rc, out.buf, out.len);
	free(out.buf);
}

void vnetd_control_serve(struct vnetd *d)
{
	if (d->ctl_fd < 0)
		return;
	vnetd_capture_flush();
	for (int i = 0; i < 8; i++) {
		int fd = accept4(d->ctl_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			return; /* EAGAIN: nothing pending */
		/* The accepted socket is blocking; io_full polls with a bound. */
		int fl = fcntl(fd, F_GETFL);
		if (fl >= 0)
			fcntl(fd, F_SETFL, fl | O_NONBLOCK);
		serve_one(d, fd);
		close(fd);
	}
}
