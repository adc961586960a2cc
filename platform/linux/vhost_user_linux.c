/*
 * vhost-user front-end OS ops on Linux: a Unix stream socket carrying
 * messages and fds (SCM_RIGHTS), eventfds as kick/call events, the DMA
 * arena's memfd as the one memory region (include/vnet/vhost_user.h,
 * struct vnet_vhost_os_ops).
 *
 * What it does: socket set-up (client connect with retry, server bind,
 * listen and accept), whole-message send and exact-length receive with
 * bounded waits, hang-up detection with POLLRDHUP, eventfd create /
 * signal / close, and handing the arena to SET_MEM_TABLE.  What it does
 * not: any protocol decision (src/transport/vhost_user/vhost_user.c) or
 * logging of I/O failures (the front-end logs them with the reason given
 * here); the one line it logs is a server socket that cannot listen.
 *
 * Addresses: the DMA arena (vnet_hal_linux.c) is one memfd; it is
 * registered with guest_phys_addr = userspace_addr = its mapping address,
 * so ring addresses (iovas = our virtual addresses) are valid "user
 * addresses" for SET_VRING_ADDR.
 *
 * Every wait is a poll() with a timeout; sockets are non-blocking and
 * close-on-exec; MSG_NOSIGNAL keeps a vanished back-end an error return
 * rather than SIGPIPE.  Concurrency: as the front-end's (one control
 * thread); event_signal is a write() to an fd fixed while the device is
 * live and runs on the data path.
 */
#define _GNU_SOURCE
#include "vhost_user_linux.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vnet/spec/vhost_user.h"
#include "vnet/vnet_hal.h"
#include "vnet_linux.h"

struct vu_linux {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	bool server;
	int listen_fd;
	int sock; /* -1 when down */
};

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static uint64_t now_ms(void)
{
	return vnet_hal_time_ns() / 1000000u;
}

static int vl_try_connect_once(struct vu_linux *l)
{
	if (l->server) {
		int fd = accept4(l->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return VNET_EAGAIN;
		l->sock = fd;
		return VNET_OK;
	}
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	strcpy(sa.sun_path, l->path);
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
	l->sock = fd;
	return VNET_OK;
}

static int vl_connect(void *ctx, uint32_t timeout_ms)
{
	struct vu_linux *l = ctx;
	uint64_t deadline = now_ms() + timeout_ms;
	for (;;) {
		int rc = vl_try_connect_once(l);
		if (rc != VNET_EAGAIN)
			return rc;
		uint64_t now = now_ms();
		if (now >= deadline)
			return VNET_ENODEV;
		uint64_t wait = deadline - now;
		if (l->server) {
			struct pollfd p = {.fd = l->listen_fd, .events = POLLIN};
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

static void vl_disconnect(void *ctx)
{
	struct vu_linux *l = ctx;
	close_fd(&l->sock);
}

/* Send one whole message; fds ride with the first byte (SCM_RIGHTS). */
static int vl_send(void *ctx, const void *msg, size_t len, const int *fds, unsigned nfds, uint32_t timeout_ms,
		   const char **why)
{
	struct vu_linux *l = ctx;
	if (l->sock < 0)
		return VNET_ENODEV;
	if (nfds > VHOST_USER_MAX_RAM_SLOTS)
		return VNET_EINVAL;
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
		ssize_t n = sendmsg(l->sock, &mh, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				struct pollfd p = {.fd = l->sock, .events = POLLOUT};
				if (poll(&p, 1, (int)timeout_ms) <= 0)
					return VNET_ETIMEDOUT;
				continue;
			}
			if (why)
				*why = strerror(errno);
			return VNET_ENODEV;
		}
		off += (size_t)n;
	}
	return VNET_OK;
}

/* Read exactly len bytes before deadline_ns.  Any fd the back-end sends
 * along is closed: no reply we ask for carries one. */
static int vl_recv(void *ctx, void *buf, size_t len, uint64_t deadline_ns)
{
	struct vu_linux *l = ctx;
	uint8_t *dst = buf;
	if (l->sock < 0)
		return VNET_ENODEV;
	uint64_t deadline = deadline_ns / 1000000u;
	size_t off = 0;
	while (off < len) {
		uint64_t now = now_ms();
		if (now >= deadline)
			return VNET_ETIMEDOUT;
		struct pollfd p = {.fd = l->sock, .events = POLLIN};
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
		ssize_t n = recvmsg(l->sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
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

static enum vnet_vhost_peer vl_peer(void *ctx)
{
	struct vu_linux *l = ctx;
	if (l->sock < 0)
		return VNET_VHOST_PEER_CLOSED;
	struct pollfd p = {.fd = l->sock, .events = POLLIN | POLLRDHUP};
	if (poll(&p, 1, 0) <= 0)
		return VNET_VHOST_PEER_QUIET;
	if (p.revents & (POLLHUP | POLLERR | POLLRDHUP))
		return VNET_VHOST_PEER_HUNGUP;
	if (p.revents & POLLIN) {
		char c;
		ssize_t n = recv(l->sock, &c, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return VNET_VHOST_PEER_CLOSED;
		if (n > 0)
			return VNET_VHOST_PEER_DATA;
	}
	return VNET_VHOST_PEER_QUIET;
}

static int vl_event_create(void *ctx, int *h)
{
	(void)ctx;
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0)
		return VNET_ENOMEM;
	*h = fd;
	return VNET_OK;
}

static int vl_event_signal(void *ctx, int h)
{
	(void)ctx;
	uint64_t one = 1;
	/* EAGAIN means the counter is saturated: a kick is pending anyway. */
	if (write(h, &one, sizeof(one)) != (ssize_t)sizeof(one) && errno != EAGAIN)
		return VNET_EIO;
	return VNET_OK;
}

static void vl_event_close(void *ctx, int h)
{
	(void)ctx;
	if (h >= 0)
		close(h);
}

static int vl_mem_region(void *ctx, int *h, uint64_t *addr, uint64_t *size)
{
	(void)ctx;
	int fd;
	void *base;
	size_t sz;
	int rc = vnet_linux_arena_get(&fd, &base, &sz);
	if (rc != VNET_OK)
		return rc;
	*h = fd;
	*addr = (uint64_t)(uintptr_t)base;
	*size = sz;
	return VNET_OK;
}

static void vl_destroy(void *ctx)
{
	struct vu_linux *l = ctx;
	if (!l)
		return;
	close_fd(&l->sock);
	if (l->listen_fd >= 0) {
		close_fd(&l->listen_fd);
		unlink(l->path);
	}
	free(l);
}

const struct vnet_vhost_os_ops vnet_vhost_linux_ops = {
	.connect = vl_connect,
	.disconnect = vl_disconnect,
	.send = vl_send,
	.recv = vl_recv,
	.peer = vl_peer,
	.event_create = vl_event_create,
	.event_signal = vl_event_signal,
	.event_close = vl_event_close,
	.mem_region = vl_mem_region,
	.destroy = vl_destroy,
};

int vnet_vhost_linux_open(const struct vnet_vhost_linux_opts *opts, struct vnet_vhost **out)
{
	if (!opts || !out || !opts->path || !opts->path[0])
		return VNET_EINVAL;
	*out = NULL;
	struct vu_linux *l = calloc(1, sizeof(*l));
	if (!l)
		return VNET_ENOMEM;
	if (strlen(opts->path) >= sizeof(l->path)) {
		free(l);
		return VNET_EINVAL;
	}
	strcpy(l->path, opts->path);
	l->server = opts->server;
	l->listen_fd = -1;
	l->sock = -1;

	if (l->server) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		strcpy(sa.sun_path, l->path);
		/* A stale socket from an earlier run would make bind fail; remove
		 * it, but never anything that is not a socket. */
		struct stat stt;
		if (lstat(l->path, &stt) == 0 && S_ISSOCK(stt.st_mode))
			unlink(l->path);
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 1) != 0) {
			vnet_linux_logf(VNET_LOG_ERR, "vhost-user %s: cannot listen: %s", l->path, strerror(errno));
			if (fd >= 0)
				close(fd);
			free(l);
			return VNET_ENODEV;
		}
		l->listen_fd = fd;
	}
	struct vnet_vhost_opts vo = {
		.name = l->path,
		.call_fds = opts->call_fds,
		.reply_timeout_ms = opts->reply_timeout_ms,
		.os = &vnet_vhost_linux_ops,
		.os_ctx = l,
		.device = opts->device,
		.device_arg = opts->device_arg,
	};
	int rc = vnet_vhost_create(&vo, out);
	if (rc != VNET_OK)
		vl_destroy(l);
	return rc;
}

int vnet_vhost_socket_fd(const struct vnet_vhost *vu)
{
	const struct vu_linux *l = vnet_vhost_os_ctx(vu);
	return l ? l->sock : -1;
}

int vnet_vhost_listen_fd(const struct vnet_vhost *vu)
{
	const struct vu_linux *l = vnet_vhost_os_ctx(vu);
	return l ? l->listen_fd : -1;
}
