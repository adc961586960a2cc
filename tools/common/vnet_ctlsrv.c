/*
 * The control socket server shared by vnetd and vnet-bench (vnet_ctlsrv.h,
 * docs/management.md).  The decision on every request is made here, from
 * the kernel's view of the peer (SO_PEERCRED, SO_PEERGROUPS), never from
 * anything the peer sends.
 */
#define _GNU_SOURCE
#include "vnet_ctlsrv.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vnet/vnet_error.h"

#define CTL_IO_TIMEOUT_MS 500

uint64_t vnet_ctlsrv_now_ns(void *arg)
{
	(void)arg;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int vnet_ctlsrv_open(struct vnet_ctlsrv *s, const struct vnet_ctlsrv_cfg *cfg)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->cfg = *cfg;
	const char *path = cfg->path, *tag = cfg->log_tag;
	s->owner_uid = (uint32_t)geteuid();
	s->ro_gid = (uint32_t)getegid();
	if (cfg->group) {
		struct group *g = getgrnam(cfg->group);
		if (!g) {
			fprintf(stderr, "%s: control.group '%s': no such group\n", tag, cfg->group);
			return -1;
		}
		s->ro_gid = (uint32_t)g->gr_gid;
	}
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa.sun_path) {
		fprintf(stderr, "%s: control socket %s: path too long (at most %zu bytes)\n", tag, path,
			sizeof sa.sun_path - 1);
		return -1;
	}
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	s->mgmt = calloc(1, sizeof *s->mgmt);
	int fd = s->mgmt ? socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0) : -1;
	if (fd < 0) {
		fprintf(stderr, "%s: control socket: %s\n", tag, s->mgmt ? strerror(errno) : "out of memory");
		free(s->mgmt);
		s->mgmt = NULL;
		return -1;
	}
	vnet_mgmt_init(s->mgmt, cfg->ops, cfg->ops_arg);
	/* A socket file left by a server that died is replaced; one that
	 * still answers belongs to a running one and is not. */
	struct stat st;
	if (lstat(path, &st) == 0) {
		const char *why = NULL;
		if (!S_ISSOCK(st.st_mode)) {
			why = "exists and is not a socket";
		} else {
			int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0)
				why = "another server answers on it";
			if (probe >= 0)
				close(probe);
		}
		if (why) {
			fprintf(stderr, "%s: control socket %s: %s\n", tag, path, why);
			close(fd);
			free(s->mgmt);
			s->mgmt = NULL;
			return -1;
		}
		unlink(path);
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || chmod(path, 0666) < 0 || listen(fd, 8) < 0) {
		fprintf(stderr, "%s: control socket %s: %s\n", tag, path, strerror(errno));
		close(fd);
		free(s->mgmt);
		s->mgmt = NULL;
		return -1;
	}
	s->fd = fd;
	return 0;
}

void vnet_ctlsrv_close(struct vnet_ctlsrv *s)
{
	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
		unlink(s->cfg.path);
	}
	free(s->mgmt);
	s->mgmt = NULL;
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

void vnet_ctlsrv_reply(int fd, int32_t status, const char *text, size_t len)
{
	uint8_t hdr[VNETCTL_HDR_LEN + 4];
	if (len > VNETCTL_REPLY_MAX - 4)
		len = VNETCTL_REPLY_MAX - 4;
	vnetctl_hdr_encode(hdr, VNETCTL_T_REPLY, (uint32_t)(len + 4));
	vnetctl_reply_status_encode(hdr + VNETCTL_HDR_LEN, status);
	if (io_full(fd, hdr, sizeof hdr, false) == 0 && len)
		io_full(fd, (void *)text, len, false);
}

enum vnetctl_access vnet_ctlsrv_check(struct vnet_ctlsrv *s, const struct vnetctl_peer *peer, int pid, bool changes,
				      const char *what)
{
	enum vnetctl_access a = vnetctl_access_decide(peer, s->owner_uid, s->ro_gid, changes);
	if (a != VNETCTL_ALLOW) {
		s->refused++;
		char p[24] = "";
		if (pid > 0)
			snprintf(p, sizeof p, " pid %d", pid);
		fprintf(stderr, "%s: control: refused %s for uid %u gid %u%s: %s\n", s->cfg.log_tag, what,
			(unsigned)peer->uid, (unsigned)peer->gid, p, vnetctl_access_reason(a));
	}
	return a;
}

/* Output of one command into a bounded buffer (the reply). */
struct ctl_out {
	char *buf;
	size_t len, cap;
};

static void ctl_out_write(void *arg, const char *p, size_t n)
{
	struct ctl_out *o = arg;
	if (n > o->cap - o->len)
		n = o->cap - o->len;
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static void serve_one(struct vnet_ctlsrv *s, int fd)
{
	const char *tag = s->cfg.log_tag;
	struct ucred cred;
	socklen_t cl = sizeof cred;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0) {
		fprintf(stderr, "%s: control: SO_PEERCRED: %s; connection closed\n", tag, strerror(errno));
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
		fprintf(stderr, "%s: control: malformed request from uid %u pid %d: %s\n", tag, (unsigned)cred.uid,
			(int)cred.pid, why ? why : "cut short");
		vnet_ctlsrv_reply(fd, VNETCTL_EBADREQ, msg, (size_t)n);
		return;
	}
	s->requests++;
	struct vnetctl_peer peer = {.uid = (uint32_t)cred.uid, .gid = (uint32_t)cred.gid, .groups = g32,
				    .ngroups = ngroups};
	if (s->cfg.special && s->cfg.special(s->cfg.hook_arg, s, fd, &peer, argc, argv))
		return;
	const struct vnet_mgmt_cmd_info *ci = vnet_mgmt_lookup(argv[0]);
	bool changes = ci ? ci->changes : false; /* unknown names fail without effect */
	char what[160];
	snprintf(what, sizeof what, "'%s' (%s)", argv[0], changes ? "changing" : "read-only");
	enum vnetctl_access a = vnet_ctlsrv_check(s, &peer, (int)cred.pid, changes, what);
	char msg[256];
	if (a != VNETCTL_ALLOW) {
		int n = snprintf(msg, sizeof msg, "error: %s: permission denied: %s (uid %u)\n", argv[0],
				 vnetctl_access_reason(a), (unsigned)cred.uid);
		vnet_ctlsrv_reply(fd, VNETCTL_REFUSED, msg, (size_t)n);
		return;
	}
	if (changes && !s->cfg.allow_changes) {
		int n = snprintf(msg, sizeof msg, "error: %s: changes device state; %s serves read-only commands only\n",
				 argv[0], tag);
		vnet_ctlsrv_reply(fd, VNET_ENOTSUP, msg, (size_t)n);
		return;
	}
	struct ctl_out out = {.buf = malloc(VNETCTL_REPLY_MAX - 4), .len = 0, .cap = VNETCTL_REPLY_MAX - 4};
	if (!out.buf) {
		static const char oom[] = "error: out of memory\n";
		vnet_ctlsrv_reply(fd, VNET_ENOMEM, oom, sizeof oom - 1);
		return;
	}
	struct vnet_mgmt_sink sink = {.write = ctl_out_write, .arg = &out};
	int rc = vnet_mgmt_run(s->mgmt, argc, argv, &sink);
	vnet_ctlsrv_reply(fd, rc, out.buf, out.len);
	free(out.buf);
}

void vnet_ctlsrv_serve(struct vnet_ctlsrv *s)
{
	if (s->fd < 0)
		return;
	if (s->cfg.tick)
		s->cfg.tick(s->cfg.hook_arg);
	for (int i = 0; i < 8; i++) {
		int fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			return; /* EAGAIN: nothing pending */
		/* The accepted socket is blocking; io_full polls with a bound. */
		int fl = fcntl(fd, F_GETFL);
		if (fl >= 0)
			fcntl(fd, F_SETFL, fl | O_NONBLOCK);
		serve_one(s, fd);
		close(fd);
	}
}
