/*
 * vhost-user front-end transport over a Unix stream socket (Linux).
 *
 * The device core (src/core/device.c) thinks in terms of a register-level
 * transport: feature words, a status byte, config bytes, per-queue
 * programming and a doorbell.  vhost-user (QEMU docs/interop/vhost-user.rst)
 * has none of those registers: it is a request/reply message protocol in
 * which the front-end tells the back-end where the rings live.  This file
 * maps one onto the other:
 *
 *   core op                 vhost-user
 *   ---------------------   ----------------------------------------------
 *   get_device_features     GET_FEATURES (cached per connection, in the
 *                           handshake), minus what this transport cannot
 *                           carry (see vu_offered())
 *   set_driver_features     SET_FEATURES (accepted | bit 30 when protocol
 *                           features were negotiated)
 *   set_status FEATURES_OK  SET_MEM_TABLE (the whole DMA arena, one region)
 *   set_status DRIVER_OK    SET_VRING_ENABLE 1 per programmed ring (only
 *                           with protocol features; without, the back-end
 *                           enables a ring when it gets its kick fd)
 *   get_status              emulated locally (vhost-user has no status
 *                           register); with the STATUS protocol feature,
 *                           FEATURES_OK is confirmed with GET_STATUS
 *   reset                   GET_VRING_BASE on every programmed ring (the
 *                           rst: the back-end stops the ring when it gets
 *                           it), then RESET_DEVICE when negotiated
 *   read_config             GET_CONFIG when the CONFIG protocol feature is
 *                           negotiated and works, else a synthesized config
 *   setup_queue             SET_VRING_NUM, SET_VRING_BASE, SET_VRING_ADDR
 *   enable_queue            SET_VRING_KICK (eventfd), SET_VRING_CALL
 *                           (eventfd in interrupt mode, "no fd" in poll mode)
 *   notify                  write(kick eventfd)
 *
 * Every message is built by the freestanding codec
 * (include/vnet/vhost_user_msg.h) and every reply is checked by it before
 * anything in it is used.  A reply that is malformed, truncated, late or
 * for another request leaves the stream in an unknown state: the
 * connection is dropped (the reason logged) and the op fails.  Requests
 * that have no reply carry NEED_REPLY once REPLY_ACK is negotiated and the
 * ack is checked.
 *
 * Addresses: the DMA arena (platform/linux/vnet_hal_linux.c) is one memfd;
 * we register it with guest_phys_addr = userspace_addr = its mapping
 * address, so ring addresses (iovas = our virtual addresses) are valid
 * "user addresses" for SET_VRING_ADDR.
 *
 * What it does not do: the control virtqueue (vhost-user back-ends such as
 * DPDK leave it to the front-end's VMM: QEMU emulates it), hence no MQ;
 * dirty logging/migration; IOTLB (ACCESS_PLATFORM); the back-end request
 * channel; inflight tracking; memory hot-plug.
 *
 * Concurrency: all ops except notify are control path and serialised by
 * the caller (one thread per port).  notify only reads a kick fd that does
 * not change while the device is live.
 */
#define _GNU_SOURCE
#include "vhost_user.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vnet/features.h"
#include "vnet/spec/virtio_config.h"
#include "vnet/spec/virtio_net.h"
#include "vnet/vhost_user_msg.h"
#include "vnet/vnet_hal.h"
#include "vnet_linux.h"

/* Rings we can describe: two per queue pair; the control queue is never
 * created (see the file comment), 64 pairs is plenty for one port. */
#define VU_MAX_VRINGS 128u
#define VU_REPLY_TIMEOUT_MS_DEFAULT 2000u
/* A ring size the protocol can express (spec 2.6: at most 32768). */
#define VU_QUEUE_MAX 32768u
/* VHOST_F_LOG_ALL, the dirty-log feature bit (26) in the vhost feature
 * word: migration only, never accepted. */
#define VU_F_LOG_ALL 26

/* Protocol features we use when offered. */
#define VU_PROTOCOL_WANTED                                                                         \
	((1ull << VHOST_USER_PROTOCOL_F_MQ) | (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK) |          \
	 (1ull << VHOST_USER_PROTOCOL_F_CONFIG) | (1ull << VHOST_USER_PROTOCOL_F_STATUS) |         \
	 (1ull << VHOST_USER_PROTOCOL_F_RESET_DEVICE))

struct vu_vring {
	int kickfd;
	int callfd;
	bool programmed; /* NUM/BASE/ADDR sent this connection */
	bool fds_sent;   /* KICK/CALL sent this connection */
	bool enabled;    /* SET_VRING_ENABLE 1 sent */
	uint16_t size;
};

struct vnet_vhost {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	bool server;
	bool call_fds;
	uint32_t timeout_ms;
	bool have_mac;
	uint8_t mac[6];

	int listen_fd;
	int sock;        /* -1 when down */
	bool handshaken;

	/* Per connection. */
	uint64_t backend_features;  /* GET_FEATURES, raw */
	uint64_t protocol_features; /* negotiated */
	uint16_t queue_pairs;       /* GET_QUEUE_NUM or 1 */
	bool config_real;           /* GET_CONFIG works */
	uint64_t driver_features;   /* what the core accepted */
	uint8_t status;             /* emulated device status */
	bool status_checked;        /* STATUS: FEATURES_OK confirmed */
	bool status_refused;        /* STATUS: back-end dropped FEATURES_OK */
	struct virtio_net_config cfg; /* synthesized config */

	struct vu_vring vr[VU_MAX_VRINGS];
	atomic_ullong kick_errors;
	uint8_t buf[VNET_VU_MSG_MAX];
	uint8_t rbuf[VNET_VU_MSG_MAX];
};


static bool vu_has_proto(const struct vnet_vhost *vu, unsigned bit)
{
	return (vu->protocol_features >> bit) & 1u;
}

static bool vu_protocol_on(const struct vnet_vhost *vu)
{
	return (vu->backend_features >> VHOST_USER_F_PROTOCOL_FEATURES) & 1u;
}

static unsigned vu_ack_flag(const struct vnet_vhost *vu)
{
	return vu_has_proto(vu, VHOST_USER_PROTOCOL_F_REPLY_ACK) ? VNET_VU_NEED_REPLY : 0u;
}

static uint64_t now_ms(void)
{
	return vnet_hal_time_ns() / 1000000u;
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static void vu_forget_connection(struct vnet_vhost *vu)
{
	close_fd(&vu->sock);
	for (unsigned i = 0; i < VU_MAX_VRINGS; i++) {
		close_fd(&vu->vr[i].kickfd);
		close_fd(&vu->vr[i].callfd);
		vu->vr[i].programmed = vu->vr[i].fds_sent = vu->vr[i].enabled = false;
		vu->vr[i].size = 0;
	}
	vu->handshaken = false;
	vu->backend_features = 0;
	vu->protocol_features = 0;
	vu->queue_pairs = 0;
	vu->config_real = false;
	vu->status_checked = vu->status_refused = false;
}

/* The connection is unusable (peer gone, stream out of sync): drop it. */
static int vu_fail(struct vnet_vhost *vu, int rc, const char *what)
{
	if (vu->sock >= 0)
		vnet_linux_logf(VNET_LOG_ERR, "vhost-user %s: %s: %s; dropping the connection", vu->path, what,
		       vnet_strerror(rc));
	vu_forget_connection(vu);
	return rc;
}

/* ------------------------------------------------------------ socket I/O */

/* Send one whole message; fds ride with the first byte (SCM_RIGHTS). */
static int vu_send(struct vnet_vhost *vu, const void *msg, size_t len, const int *fds, unsigned nfds)
{
	if (vu->sock < 0)
		return VNET_ENODEV;
	size_t off = 0;
	while (off < len) {
		struct iovec iov = {.iov_base = (uint8_t *)msg + off, .iov_len = len - off};
		union {
			char buf[CMSG_SPACE(sizeof(int) * VHOST_USER_MAX_RAM_SLOTS)];
			struct cmsghdr align;
		} ctl;
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
		if (off == 0 && nfds) {
			memset(&ctl, 0, sizeof(ctl));
			mh.msg_control = ctl.buf;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
			struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
			memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
		}
		/* MSG_NOSIGNAL: a vanished back-end is an error return, not SIGPIPE. */
		ssize_t n = sendmsg(vu->sock, &mh, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				struct pollfd p = {.fd = vu->sock, .events = POLLOUT};
				if (poll(&p, 1, (int)vu->timeout_ms) <= 0)
					return vu_fail(vu, VNET_ETIMEDOUT, "send blocked");
				continue;
			}
			return vu_fail(vu, VNET_ENODEV, strerror(errno));
		}
		off += (size_t)n;
	}
	return VNET_OK;
}

/* Read exactly len bytes before deadline (ms).  Any fd the back-end sends
 * along is closed: no reply we ask for carries one. */
static int vu_read_exact(struct vnet_vhost *vu, uint8_t *dst, size_t len, uint64_t deadline)
{
	size_t off = 0;
	while (off < len) {
		uint64_t now = now_ms();
		if (now >= deadline)
			return VNET_ETIMEDOUT;
		struct pollfd p = {.fd = vu->sock, .events = POLLIN};
		int pr = poll(&p, 1, (int)(deadline - now));
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr == 0)
			return VNET_ETIMEDOUT;
		if (pr < 0)
			return VNET_ENODEV;
		struct iovec iov = {.iov_base = dst + off, .iov_len = len - off};
		union {
			char buf[CMSG_SPACE(sizeof(int) * 8)];
			struct cmsghdr align;
		} ctl;
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
				    .msg_controllen = sizeof(ctl.buf)};
		ssize_t n = recvmsg(vu->sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return VNET_ENODEV;
		}
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
				size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
				for (size_t i = 0; i < k; i++) {
					int fd;
					memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
					close(fd);
				}
			}
		}
		if (n == 0)
			return VNET_ENODEV; /* orderly shutdown by the back-end */
		off += (size_t)n;
	}
	return VNET_OK;
}

/*
 * Receive one reply into vu->rbuf; *len gets header + payload bytes.  The
 * header is checked here (version, size bound); the caller's codec parser
 * checks REPLY, the request code and the payload.
 */
static int vu_recv(struct vnet_vhost *vu, uint32_t request, size_t *len)
{
	if (vu->sock < 0)
		return VNET_ENODEV;
	/* SET_MEM_TABLE makes the back-end map and walk the whole arena
	 * (DPDK builds a page table of it: ~0.2-0.4 s for 256 MiB of 4 KiB
	 * pages on a busy host), so it gets five times the usual bound. */
	uint32_t tmo = request == VHOST_USER_SET_MEM_TABLE ? 5u * vu->timeout_ms : vu->timeout_ms;
	uint64_t deadline = now_ms() + tmo;
	int rc = vu_read_exact(vu, vu->rbuf, VHOST_USER_HDR_SIZE, deadline);
	if (rc != VNET_OK)
		return vu_fail(vu, rc, rc == VNET_ETIMEDOUT ? "no reply in time" : "connection lost");
	struct vhost_user_hdr h;
	enum vnet_vu_err why;
	rc = vnet_vu_hdr_decode(vu->rbuf, VHOST_USER_HDR_SIZE, &h, &why);
	if (rc != VNET_OK) {
		vnet_linux_logf(VNET_LOG_ERR, "vhost-user %s: bad reply header to %s: %s", vu->path,
		       vnet_vu_request_name(request), vnet_vu_strerror(why));
		return vu_fail(vu, VNET_EPROTO, "malformed reply");
	}
	rc = vu_read_exact(vu, vu->rbuf + VHOST_USER_HDR_SIZE, h.size, deadline);
	if (rc != VNET_OK)
		return vu_fail(vu, rc, rc == VNET_ETIMEDOUT ? "truncated reply (timeout)" : "connection lost");
	*len = VHOST_USER_HDR_SIZE + h.size;
	uint64_t took = now_ms() + tmo - deadline;
	if (took >= 100)
		vnet_linux_logf(VNET_LOG_INFO, "vhost-user %s: reply to %s took %llu ms", vu->path, vnet_vu_request_name(request),
		       (unsigned long long)took);
	return VNET_OK;
}

/* Log and drop the connection for a reply the codec rejected. */
static int vu_bad_reply(struct vnet_vhost *vu, uint32_t request, int rc, enum vnet_vu_err why)
{
	if (rc == VNET_EIO) {
		/* Well-formed "I failed": the stream is in sync, keep it. */
		vnet_linux_logf(VNET_LOG_ERR, "vhost-user %s: back-end failed %s", vu->path, vnet_vu_request_name(request));
		return VNET_EIO;
	}
	vnet_linux_logf(VNET_LOG_ERR, "vhost-user %s: reply to %s rejected: %s", vu->path, vnet_vu_request_name(request),
	       vnet_vu_strerror(why));
	return vu_fail(vu, VNET_EPROTO, "protocol violation");
}

/*
 * Send a request built in vu->buf (len bytes from the builder, or the
 * builder's negative error) that has no reply of its own; wait for the
 * REPLY_ACK when it was requested.
 */
static int vu_send_noreply(struct vnet_vhost *vu, int len, unsigned flags, const int *fds, unsigned nfds)
{
	if (len < 0)
		return len;
	uint32_t request;
	memcpy(&request, vu->buf, sizeof(request));
	int rc = vu_send(vu, vu->buf, (size_t)len, fds, nfds);
	if (rc != VNET_OK || !(flags & VNET_VU_NEED_REPLY))
		return rc;
	size_t rlen;
	rc = vu_recv(vu, request, &rlen);
	if (rc != VNET_OK)
		return rc;
	enum vnet_vu_err why;
	uint64_t code = 0;
	rc = vnet_vu_parse_ack(vu->rbuf, rlen, request, &code, &why);
	if (rc != VNET_OK) {
		if (rc == VNET_EIO)
			vnet_linux_logf(VNET_LOG_ERR, "vhost-user %s: back-end nacked %s (code %llu)", vu->path,
			       vnet_vu_request_name(request), (unsigned long long)code);
		return vu_bad_reply(vu, request, rc, why);
	}
	return VNET_OK;
}

/* Send a request that always has a reply; the reply is left in rbuf. */
static int vu_transact(struct vnet_vhost *vu, int len, size_t *rlen)
{
	if (len < 0)
		return len;
	uint32_t request;
	memcpy(&request, vu->buf, sizeof(request));
	int rc = vu_send(vu, vu->buf, (size_t)len, NULL, 0);
	if (rc != VNET_OK)
		return rc;
	return vu_recv(vu, request, rlen);
}

/* ------------------------------------------------------------ connection */

int vnet_vhost_create(const struct vnet_vhost_opts *opts, struct vnet_vhost **out)
{
	if (!opts || !out || !opts->path || !opts->path[0])
		return VNET_EINVAL;
	*out = NULL;
	struct vnet_vhost *vu = calloc(1, sizeof(*vu));
	if (!vu)
		return VNET_ENOMEM;
	if (strlen(opts->path) >= sizeof(vu->path)) {
		free(vu);
		return VNET_EINVAL;
	}
	strcpy(vu->path, opts->path);
	vu->server = opts->server;
	vu->call_fds = opts->call_fds;
	vu->timeout_ms = opts->reply_timeout_ms ? opts->reply_timeout_ms : VU_REPLY_TIMEOUT_MS_DEFAULT;
	if (opts->mac) {
		vu->have_mac = true;
		memcpy(vu->mac, opts->mac, 6);
	}
	vu->listen_fd = -1;
	vu->sock = -1;
	for (unsigned i = 0; i < VU_MAX_VRINGS; i++)
		vu->vr[i].kickfd = vu->vr[i].callfd = -1;
	atomic_init(&vu->kick_errors, 0);

	if (vu->server) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		strcpy(sa.sun_path, vu->path);
		/* A stale socket from an earlier run would make bind fail; remove
		 * it, but never anything that is not a socket. */
		struct stat stt;
		if (lstat(vu->path, &stt) == 0 && S_ISSOCK(stt.st_mode))
			unlink(vu->path);
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 1) != 0) {
			vnet_linux_logf(VNET_LOG_ERR, "vhost-user %s: cannot listen: %s", vu->path, strerror(errno));
			if (fd >= 0)
				close(fd);
			free(vu);
			return VNET_ENODEV;
		}
		vu->listen_fd = fd;
	}
	*out = vu;
	return VNET_OK;
}

void vnet_vhost_destroy(struct vnet_vhost *vu)
{
	if (!vu)
		return;
	vu_forget_connection(vu);
	if (vu->listen_fd >= 0) {
		close_fd(&vu->listen_fd);
		unlink(vu->path);
	}
	free(vu);
}

static int vu_try_connect_once(struct vnet_vhost *vu)
{
	if (vu->server) {
		int fd = accept4(vu->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return VNET_EAGAIN;
		vu->sock = fd;
		return VNET_OK;
	}
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	strcpy(sa.sun_path, vu->path);
	/* Non-blocking: every wait is an explicit, bounded poll.  A Unix
	 * socket connect completes at once or fails (EAGAIN: backlog full,
	 * ENOENT/ECONNREFUSED: nobody there); all of those mean "retry". */
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return VNET_ENOMEM;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return VNET_EAGAIN;
	}
	vu->sock = fd;
	return VNET_OK;
}

int vnet_vhost_connect(struct vnet_vhost *vu, uint32_t timeout_ms)
{
	if (!vu)
		return VNET_EINVAL;
	if (vu->sock >= 0)
		return VNET_EBUSY;
	uint64_t deadline = now_ms() + timeout_ms;
	for (;;) {
		int rc = vu_try_connect_once(vu);
		if (rc != VNET_EAGAIN)
			return rc;
		uint64_t now = now_ms();
		if (now >= deadline)
			return VNET_ENODEV;
		uint64_t wait = deadline - now;
		if (vu->server) {
			struct pollfd p = {.fd = vu->listen_fd, .events = POLLIN};
			poll(&p, 1, (int)wait);
		} else {
			/* The back-end may not be up yet: retry every 50 ms. */
			if (wait > 50)
				wait = 50;
			struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)wait * 1000000L};
			nanosleep(&ts, NULL);
		}
	}
}

void vnet_vhost_disconnect(struct vnet_vhost *vu)
{
	if (vu)
		vu_forget_connection(vu);
}

bool vnet_vhost_is_connected(const struct vnet_vhost *vu)
{
	return vu && vu->sock >= 0;
}

int vnet_vhost_socket_fd(const struct vnet_vhost *vu)
{
	return vu ? vu->sock : -1;
}

int vnet_vhost_listen_fd(const struct vnet_vhost *vu)
{
	return vu ? vu->listen_fd : -1;
}

int vnet_vhost_call_fd(const struct vnet_vhost *vu, uint16_t index)
{
	return (vu && index < VU_MAX_VRINGS) ? vu->vr[index].callfd : -1;
}

uint64_t vnet_vhost_backend_features(const struct vnet_vhost *vu)
{
	return vu->backend_features;
}

uint64_t vnet_vhost_protocol_features(const struct vnet_vhost *vu)
{
	return vu->protocol_features;
}

uint64_t vnet_vhost_kick_errors(const struct vnet_vhost *vu)
{
	return atomic_load(&((struct vnet_vhost *)vu)->kick_errors);
}

int vnet_vhost_check(struct vnet_vhost *vu)
{
	if (!vu || vu->sock < 0)
		return VNET_ENODEV;
	struct pollfd p = {.fd = vu->sock, .events = POLLIN | POLLRDHUP};
	if (poll(&p, 1, 0) <= 0)
		return VNET_OK;
	if (p.revents & (POLLHUP | POLLERR | POLLRDHUP)) {
		vnet_linux_logf(VNET_LOG_WARN, "vhost-user %s: back-end hung up", vu->path);
		vu_forget_connection(vu);
		return VNET_ENODEV;
	}
	if (p.revents & POLLIN) {
		char c;
		ssize_t n = recv(vu->sock, &c, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			vnet_linux_logf(VNET_LOG_WARN, "vhost-user %s: back-end closed the connection", vu->path);
			vu_forget_connection(vu);
			return VNET_ENODEV;
		}
		if (n > 0) {
			/* Nothing is outstanding, so this is not a reply: the
			 * back-end speaks out of turn; we cannot resynchronise. */
			return vu_fail(vu, VNET_EPROTO, "unsolicited message from the back-end");
		}
	}
	return VNET_OK;
}

/* Probe GET_CONFIG once: DPDK's net back-end, for one, may offer CONFIG
 * but answers with the empty "failed" reply when no handler exists. */
static void vu_probe_config(struct vnet_vhost *vu)
{
	vu->config_real = false;
	if (!vu_has_proto(vu, VHOST_USER_PROTOCOL_F_CONFIG))
		return;
	size_t rlen;
	uint8_t tmp[sizeof(struct virtio_net_config)];
	int rc = vu_transact(vu, vnet_vu_build_get_config(vu->buf, sizeof(vu->buf), 0, 0, 12), &rlen);
	if (rc != VNET_OK)
		return;
	enum vnet_vu_err why;
	rc = vnet_vu_parse_config(vu->rbuf, rlen, 0, 12, tmp, &why);
	if (rc == VNET_OK)
		vu->config_real = true;
	else if (rc != VNET_EIO)
		vu_bad_reply(vu, VHOST_USER_GET_CONFIG, rc, why);
	else
		vnet_linux_logf(VNET_LOG_INFO, "vhost-user %s: GET_CONFIG unsupported by the back-end: using a local config",
		       vu->path);
}

int vnet_vhost_handshake(struct vnet_vhost *vu)
{
	if (!vu || vu->sock < 0)
		return VNET_ENODEV;
	size_t rlen;
	enum vnet_vu_err why;
	int rc = vu_transact(vu, vnet_vu_build_get_features(vu->buf, sizeof(vu->buf), 0), &rlen);
	if (rc != VNET_OK)
		return rc;
	uint64_t f;
	rc = vnet_vu_parse_features(vu->rbuf, rlen, &f, &why);
	if (rc != VNET_OK)
		return vu_bad_reply(vu, VHOST_USER_GET_FEATURES, rc, why);
	vu->backend_features = f;
	vu->protocol_features = 0;
	vu->queue_pairs = 1;

	if (vu_protocol_on(vu)) {
		rc = vu_transact(vu, vnet_vu_build_get_protocol_features(vu->buf, sizeof(vu->buf), 0), &rlen);
		if (rc != VNET_OK)
			return rc;
		uint64_t pf;
		rc = vnet_vu_parse_protocol_features(vu->rbuf, rlen, &pf, &why);
		if (rc != VNET_OK)
			return vu_bad_reply(vu, VHOST_USER_GET_PROTOCOL_FEATURES, rc, why);
		uint64_t acc = pf & VU_PROTOCOL_WANTED;
		/* No NEED_REPLY here: REPLY_ACK is not in force until this
		 * message has been processed. */
		rc = vu_send_noreply(vu, vnet_vu_build_set_protocol_features(vu->buf, sizeof(vu->buf), 0, acc), 0,
				     NULL, 0);
		if (rc != VNET_OK)
			return vu_fail(vu, rc, "SET_PROTOCOL_FEATURES");
		vu->protocol_features = acc;
		if (vu_has_proto(vu, VHOST_USER_PROTOCOL_F_MQ)) {
			rc = vu_transact(vu, vnet_vu_build_get_queue_num(vu->buf, sizeof(vu->buf), 0), &rlen);
			if (rc != VNET_OK)
				return rc;
			uint64_t qn;
			rc = vnet_vu_parse_queue_num(vu->rbuf, rlen, &qn, &why);
			if (rc != VNET_OK)
				return vu_bad_reply(vu, VHOST_USER_GET_QUEUE_NUM, rc, why);
			vu->queue_pairs = (uint16_t)(qn > VU_MAX_VRINGS / 2 ? VU_MAX_VRINGS / 2 : qn);
		}
	}
	rc = vu_send_noreply(vu, vnet_vu_build_set_owner(vu->buf, sizeof(vu->buf), vu_ack_flag(vu)), vu_ack_flag(vu),
			     NULL, 0);
	if (rc != VNET_OK)
		return rc == VNET_EIO ? vu_fail(vu, rc, "SET_OWNER refused") : rc;
	vu_probe_config(vu);
	if (vu->sock < 0)
		return VNET_EPROTO;

	/* The configuration we present when the back-end has none.  Status
	 * and MTU are not offered in that case (vu_offered), so only the MAC
	 * (when the application gave one) and max_virtqueue_pairs matter. */
	memset(&vu->cfg, 0, sizeof(vu->cfg));
	if (vu->have_mac)
		memcpy(vu->cfg.mac, vu->mac, 6);
	vu->cfg.status = vnet_cpu_to_le16(VIRTIO_NET_S_LINK_UP);
	vu->cfg.max_virtqueue_pairs = vnet_cpu_to_le16(vu->queue_pairs);
	vu->status = 0;
	vu->handshaken = true;
	vnet_linux_logf(VNET_LOG_INFO,
	       "vhost-user %s: back-end features 0x%016llx, protocol features 0x%llx, %u queue pair(s), config %s",
	       vu->path, (unsigned long long)vu->backend_features, (unsigned long long)vu->protocol_features,
	       (unsigned)vu->queue_pairs, vu->config_real ? "from back-end" : "local");
	return VNET_OK;
}

/* -------------------------------------------------------- transport ops */

/* What the core may see of the back-end's offer. */
static uint64_t vu_offered(const struct vnet_vhost *vu)
{
	uint64_t f = vu->backend_features;
	/* Bit 30 is vhost-user's own, VHOST_F_LOG_ALL is migration. */
	f &= ~(VNET_BIT(VHOST_USER_F_PROTOCOL_FEATURES) | VNET_BIT(VU_F_LOG_ALL));
	/* The back-end does not process the control queue (a VMM front-end
	 * like QEMU emulates it), so nothing that needs it; MQ is among
	 * those (spec 5.1.3.1: MQ requires CTRL_VQ). */
	f &= ~(VNET_BIT(VIRTIO_NET_F_CTRL_VQ) | VNET_BIT(VIRTIO_NET_F_MQ));
	if (!vu->config_real) {
		/* Only what our synthesized config can honestly answer. */
		f &= ~(VNET_BIT(VIRTIO_NET_F_STATUS) | VNET_BIT(VIRTIO_NET_F_MTU) | VNET_BIT(VIRTIO_NET_F_MAC) |
		       VNET_BIT(VIRTIO_NET_F_SPEED_DUPLEX) | VNET_BIT(VIRTIO_NET_F_RSS) |
		       VNET_BIT(VIRTIO_NET_F_HASH_REPORT));
		if (vu->have_mac)
			f |= VNET_BIT(VIRTIO_NET_F_MAC);
	}
	return f;
}

static int vu_get_device_features(void *ctx, uint64_t *features)
{
	struct vnet_vhost *vu = ctx;
	if (vu->sock < 0 || !vu->handshaken)
		return VNET_ENODEV;
	*features = vu_offered(vu);
	return VNET_OK;
}

static int vu_set_driver_features(void *ctx, uint64_t features)
{
	struct vnet_vhost *vu = ctx;
	if (vu->sock < 0)
		return VNET_ENODEV;
	uint64_t wire = features;
	if (vu_protocol_on(vu))
		wire |= VNET_BIT(VHOST_USER_F_PROTOCOL_FEATURES);
	unsigned fl = vu_ack_flag(vu);
	int rc = vu_send_noreply(vu, vnet_vu_build_set_features(vu->buf, sizeof(vu->buf), fl, wire), fl, NULL, 0);
	if (rc == VNET_OK)
		vu->driver_features = features;
	return rc;
}

static int vu_get_status(void *ctx)
{
	struct vnet_vhost *vu = ctx;
	if (vu->sock < 0) {
		/* Gone: a reset (local) brings it back to 0; until then the
		 * device "needs reset" (spec 2.1.2). */
		return vu->status ? (vu->status | VIRTIO_STATUS_DEVICE_NEEDS_RESET) : 0;
	}
	uint8_t st = vu->status;
	if ((st & VIRTIO_STATUS_FEATURES_OK) && vu_has_proto(vu, VHOST_USER_PROTOCOL_F_STATUS) &&
	    !vu->status_checked) {
		size_t rlen;
		int rc = vu_transact(vu, vnet_vu_build_get_status(vu->buf, sizeof(vu->buf), 0), &rlen);
		if (rc != VNET_OK)
			return rc;
		enum vnet_vu_err why;
		uint8_t bst;
		rc = vnet_vu_parse_status(vu->rbuf, rlen, &bst, &why);
		if (rc != VNET_OK)
			return vu_bad_reply(vu, VHOST_USER_GET_STATUS, rc, why);
		vu->status_checked = true;
		vu->status_refused = !(bst & VIRTIO_STATUS_FEATURES_OK);
	}
	if (vu->status_refused)
		st &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	return st;
}

static int vu_send_mem_table(struct vnet_vhost *vu)
{
	int fd;
	void *base;
	size_t size;
	int rc = vnet_linux_arena_get(&fd, &base, &size);
	if (rc != VNET_OK)
		return rc;
	struct vhost_user_mem_region r = {
		.guest_phys_addr = (uint64_t)(uintptr_t)base,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)base,
		.mmap_offset = 0,
	};
	unsigned fl = vu_ack_flag(vu);
	return vu_send_noreply(vu, vnet_vu_build_set_mem_table(vu->buf, sizeof(vu->buf), fl, &r, 1), fl, &fd, 1);
}

static int vu_set_status(void *ctx, uint8_t status)
{
	struct vnet_vhost *vu = ctx;
	uint8_t added = (uint8_t)(status & ~vu->status);
	if (vu->sock < 0) {
		/* FAILED may always be recorded: it is the driver giving up. */
		if (added == VIRTIO_STATUS_FAILED) {
			vu->status = status;
			return VNET_OK;
		}
		return VNET_ENODEV;
	}
	int rc;
	if (added & VIRTIO_STATUS_FEATURES_OK) {
		/* Features are fixed now; the memory table must precede any
		 * ring address (the back-end translates them through it). */
		rc = vu_send_mem_table(vu);
		if (rc != VNET_OK)
			return rc;
		vu->status_checked = false;
	}
	if ((added & VIRTIO_STATUS_DRIVER_OK) && vu_protocol_on(vu)) {
		/* With protocol features, rings start disabled (rst "Ring
		 * states"); enable the ones the core set up. */
		unsigned fl = vu_ack_flag(vu);
		for (unsigned i = 0; i < VU_MAX_VRINGS; i++) {
			if (!vu->vr[i].fds_sent || vu->vr[i].enabled)
				continue;
			rc = vu_send_noreply(vu, vnet_vu_build_set_vring_enable(vu->buf, sizeof(vu->buf), fl, i, true), fl,
					     NULL, 0);
			if (rc != VNET_OK)
				return rc;
			vu->vr[i].enabled = true;
		}
	}
	if (vu_has_proto(vu, VHOST_USER_PROTOCOL_F_STATUS)) {
		unsigned fl = vu_ack_flag(vu);
		rc = vu_send_noreply(vu, vnet_vu_build_set_status(vu->buf, sizeof(vu->buf), fl, status), fl, NULL, 0);
		if (rc != VNET_OK)
			return rc;
	}
	vu->status = status;
	return VNET_OK;
}

static int vu_reset(void *ctx)
{
	struct vnet_vhost *vu = ctx;
	/* Stop every ring the back-end knows: GET_VRING_BASE is the rst's
	 * "stop the ring" and only returns once the back-end has stopped
	 * using it, so the rings may be freed afterwards. */
	for (unsigned i = 0; i < VU_MAX_VRINGS && vu->sock >= 0; i++) {
		if (!vu->vr[i].programmed)
			continue;
		size_t rlen;
		int rc = vu_transact(vu, vnet_vu_build_get_vring_base(vu->buf, sizeof(vu->buf), 0, i), &rlen);
		if (rc == VNET_OK) {
			enum vnet_vu_err why;
			uint32_t num;
			rc = vnet_vu_parse_vring_base(vu->rbuf, rlen, i, &num, &why);
			if (rc != VNET_OK)
				vu_bad_reply(vu, VHOST_USER_GET_VRING_BASE, rc, why);
		}
		vu->vr[i].programmed = vu->vr[i].fds_sent = vu->vr[i].enabled = false;
	}
	if (vu->sock >= 0 && vu_has_proto(vu, VHOST_USER_PROTOCOL_F_RESET_DEVICE) && vu->status) {
		unsigned fl = vu_ack_flag(vu);
		vu_send_noreply(vu, vnet_vu_build_reset_device(vu->buf, sizeof(vu->buf), fl), fl, NULL, 0);
	}
	if (vu->sock >= 0 && vu_has_proto(vu, VHOST_USER_PROTOCOL_F_STATUS) && vu->status) {
		unsigned fl = vu_ack_flag(vu);
		vu_send_noreply(vu, vnet_vu_build_set_status(vu->buf, sizeof(vu->buf), fl, 0), fl, NULL, 0);
	}
	/* Any failure above dropped the connection, which stops a vhost-user
	 * back-end just as surely; either way the device is reset now. */
	for (unsigned i = 0; i < VU_MAX_VRINGS; i++)
		vu->vr[i].programmed = vu->vr[i].fds_sent = vu->vr[i].enabled = false;
	vu->status = 0;
	vu->driver_features = 0;
	vu->status_checked = vu->status_refused = false;
	return VNET_OK;
}

static uint32_t vu_config_generation(void *ctx)
{
	(void)ctx;
	return 0; /* vhost-user has no generation counter */
}

static int vu_read_config(void *ctx, uint32_t offset, void *buf, uint32_t len)
{
	struct vnet_vhost *vu = ctx;
	if (vu->sock < 0)
		return VNET_ENODEV;
	if (!vu->config_real) {
		if ((uint64_t)offset + len > sizeof(vu->cfg))
			return VNET_ERANGE;
		memcpy(buf, (const uint8_t *)&vu->cfg + offset, len);
		return VNET_OK;
	}
	if (len == 0 || len > VHOST_USER_MAX_CONFIG_SIZE)
		return VNET_ERANGE;
	size_t rlen;
	int rc = vu_transact(vu, vnet_vu_build_get_config(vu->buf, sizeof(vu->buf), 0, offset, len), &rlen);
	if (rc != VNET_OK)
		return rc;
	enum vnet_vu_err why;
	rc = vnet_vu_parse_config(vu->rbuf, rlen, offset, len, buf, &why);
	if (rc != VNET_OK)
		return vu_bad_reply(vu, VHOST_USER_GET_CONFIG, rc, why);
	return VNET_OK;
}

static uint16_t vu_num_queues(void *ctx)
{
	struct vnet_vhost *vu = ctx;
	unsigned n = 2u * (vu->queue_pairs ? vu->queue_pairs : 1u);
	return (uint16_t)(n > VU_MAX_VRINGS ? VU_MAX_VRINGS : n);
}

static uint16_t vu_queue_max_size(void *ctx, uint16_t index)
{
	return index < vu_num_queues(ctx) ? (uint16_t)VU_QUEUE_MAX : 0;
}

static int vu_setup_queue(void *ctx, const struct vnet_queue_setup *q)
{
	struct vnet_vhost *vu = ctx;
	if (vu->sock < 0)
		return VNET_ENODEV;
	if (q->index >= VU_MAX_VRINGS)
		return VNET_EINVAL;
	unsigned fl = vu_ack_flag(vu);
	int rc = vu_send_noreply(vu, vnet_vu_build_set_vring_num(vu->buf, sizeof(vu->buf), fl, q->index, q->size), fl,
				 NULL, 0);
	if (rc != VNET_OK)
		return rc;
	/* Where the back-end starts.  Split: avail index 0.  Packed: index 0
	 * with the wrap counter (bit 15) at its initial value 1 (spec 2.8.1:
	 * both wrap counters start at 1). */
	bool packed = (vu->driver_features & VNET_BIT(VIRTIO_F_RING_PACKED)) != 0;
	uint32_t base = packed ? 0x8000u : 0u;
	rc = vu_send_noreply(vu, vnet_vu_build_set_vring_base(vu->buf, sizeof(vu->buf), fl, q->index, base), fl, NULL,
			     0);
	if (rc != VNET_OK)
		return rc;
	/* The rst's order is descriptor, used, available: for a packed ring
	 * "used" is the device event suppression area and "available" the
	 * driver's. */
	struct vhost_user_vring_addr a = {
		.index = q->index,
		.flags = 0,
		.desc = q->desc,
		.used = q->device,
		.avail = q->driver,
		.log = 0,
	};
	rc = vu_send_noreply(vu, vnet_vu_build_set_vring_addr(vu->buf, sizeof(vu->buf), fl, &a), fl, NULL, 0);
	if (rc != VNET_OK)
		return rc;
	vu->vr[q->index].programmed = true;
	vu->vr[q->index].size = q->size;
	return VNET_OK;
}

static int vu_enable_queue(void *ctx, uint16_t index)
{
	struct vnet_vhost *vu = ctx;
	if (vu->sock < 0)
		return VNET_ENODEV;
	if (index >= VU_MAX_VRINGS || !vu->vr[index].programmed)
		return VNET_EINVAL;
	struct vu_vring *r = &vu->vr[index];
	if (r->kickfd < 0)
		r->kickfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->kickfd < 0)
		return VNET_ENOMEM;
	if (vu->call_fds && r->callfd < 0) {
		r->callfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (r->callfd < 0)
			return VNET_ENOMEM;
	}
	unsigned fl = vu_ack_flag(vu);
	int rc = vu_send_noreply(vu, vnet_vu_build_set_vring_kick(vu->buf, sizeof(vu->buf), fl, index, true), fl,
				 &r->kickfd, 1);
	if (rc != VNET_OK)
		return rc;
	/* Poll mode: "no fd" - the back-end then never signals (and saves the
	 * eventfd write per burst); we never sleep on used buffers. */
	bool has_call = r->callfd >= 0;
	rc = vu_send_noreply(vu, vnet_vu_build_set_vring_call(vu->buf, sizeof(vu->buf), fl, index, has_call), fl,
			     has_call ? &r->callfd : NULL, has_call ? 1u : 0u);
	if (rc != VNET_OK)
		return rc;
	r->fds_sent = true;
	return VNET_OK;
}

static void vu_notify(void *ctx, uint16_t index, uint32_t data)
{
	struct vnet_vhost *vu = ctx;
	(void)data; /* NOTIFICATION_DATA is not carried by eventfd kicks */
	if (index >= VU_MAX_VRINGS)
		return;
	int fd = vu->vr[index].kickfd;
	if (fd < 0)
		return;
	uint64_t one = 1;
	/* EAGAIN means the counter is saturated: a kick is pending anyway. */
	if (write(fd, &one, sizeof(one)) != (ssize_t)sizeof(one) && errno != EAGAIN)
		atomic_fetch_add(&vu->kick_errors, 1);
}

const struct vnet_transport_ops vnet_vhost_ops = {
	.name = "vhost-user",
	/* Ring features a vhost-user back-end implements itself.  Not
	 * carried: ACCESS_PLATFORM (would need IOTLB messages), NOTIFICATION_DATA
	 * (an eventfd carries no data), RING_RESET (no per-queue reset
	 * message), ORDER_PLATFORM (the peer is a CPU, not hardware),
	 * SR_IOV/ADMIN_VQ/NOTIF_CONFIG_DATA (PCI only). */
	.transport_features = VNET_BIT(VIRTIO_F_INDIRECT_DESC) | VNET_BIT(VIRTIO_F_EVENT_IDX) |
			      VNET_BIT(VIRTIO_F_VERSION_1) | VNET_BIT(VIRTIO_F_RING_PACKED) |
			      VNET_BIT(VIRTIO_F_IN_ORDER),
	.get_device_features = vu_get_device_features,
	.set_driver_features = vu_set_driver_features,
	.get_status = vu_get_status,
	.set_status = vu_set_status,
	.reset = vu_reset,
	.config_generation = vu_config_generation,
	.read_config = vu_read_config,
	.num_queues = vu_num_queues,
	.queue_max_size = vu_queue_max_size,
	.setup_queue = vu_setup_queue,
	.enable_queue = vu_enable_queue,
	.reset_queue = NULL,
	.notify = vu_notify,
	.set_config_vector = NULL,
};
