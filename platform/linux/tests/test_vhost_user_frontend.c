/*
 * vhost-user front-end transport against a scripted back-end thread on a
 * socket file.  The back-end decodes every request with the codec, records
 * it (and the fds that came with it) and answers per scenario.  Checked:
 * the message sequence the rst and DPDK depend on (protocol features
 * before SET_OWNER, SET_FEATURES with bit 30 and without what the
 * transport cannot carry, one memory region = the arena with guest_phys ==
 * userspace address, ring messages after the memory table, kick fd / "no
 * call fd" in poll mode, enable after, packed base 0x8000), and that a
 * malformed, foreign, missing or nacked reply fails the call with the
 * documented error and drops the connection.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "vhost_user_linux.h"
#include "vnet/net.h"
#include "vnet/spec/virtio_config.h"
#include "vnet/spec/virtio_net.h"
#include "vnet/vhost_user_msg.h"
#include "vnet_linux.h"

enum scenario {
	SC_NORMAL,
	SC_WRONG_REQUEST, /* GET_FEATURES answered as GET_PROTOCOL_FEATURES */
	SC_SILENT,        /* GET_FEATURES never answered */
	SC_NACK_OWNER,    /* SET_OWNER acked with 1 */
	SC_HANGUP,        /* close right after GET_FEATURES */
};

#define MAX_REC 128
struct rec {
	struct vnet_vu_req req;
	int nfds;
};

struct backend {
	char path[108];
	int lfd;
	enum scenario sc;
	uint64_t features;
	uint64_t pfeatures;
	uint8_t status;                 /* last SET_STATUS (STATUS protocol feature) */
	struct virtio_net_config cfg;   /* served by GET_CONFIG (CONFIG protocol feature) */
	pthread_t th;
	struct rec rec[MAX_REC];
	int nrec;
};

static int read_full(int fd, uint8_t *buf, size_t len, int *fds, int *nfds)
{
	size_t off = 0;
	while (off < len) {
		struct iovec iov = {.iov_base = buf + off, .iov_len = len - off};
		char ctl[CMSG_SPACE(sizeof(int) * 8)];
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl)};
		ssize_t n = recvmsg(fd, &mh, 0);
		if (n <= 0)
			return -1;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			for (int i = 0; i < k; i++)
				memcpy(&fds[(*nfds)++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
		}
		off += (size_t)n;
	}
	return 0;
}

static void *backend_main(void *arg)
{
	struct backend *b = arg;
	int s = accept(b->lfd, NULL, NULL);
	if (s < 0)
		return NULL;
	uint8_t msg[VNET_VU_MSG_MAX], out[VNET_VU_MSG_MAX];
	for (;;) {
		int fds[16], nfds = 0;
		if (read_full(s, msg, 12, fds, &nfds) != 0)
			break;
		uint32_t size;
		memcpy(&size, msg + 8, 4);
		if (size > VNET_VU_MAX_PAYLOAD || read_full(s, msg + 12, size, fds, &nfds) != 0)
			break;
		struct vnet_vu_req r;
		enum vnet_vu_err why;
		if (vnet_vu_parse_request(msg, 12 + size, &r, &why) != VNET_OK)
			break;
		if (b->nrec < MAX_REC) {
			b->rec[b->nrec].req = r;
			b->rec[b->nrec].nfds = nfds;
			/* Read by the test thread while we run (see the STATUS test). */
			__atomic_store_n(&b->nrec, b->nrec + 1, __ATOMIC_RELEASE);
		}
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
		int len = -1;
		switch (r.request) {
		case VHOST_USER_GET_FEATURES:
			if (b->sc == SC_SILENT)
				continue;
			if (b->sc == SC_HANGUP)
				goto done;
			len = vnet_vu_build_reply_u64(out, sizeof(out),
						      b->sc == SC_WRONG_REQUEST ? VHOST_USER_GET_PROTOCOL_FEATURES
										: VHOST_USER_GET_FEATURES,
						      b->features);
			break;
		case VHOST_USER_GET_PROTOCOL_FEATURES:
			len = vnet_vu_build_reply_u64(out, sizeof(out), r.request, b->pfeatures);
			break;
		case VHOST_USER_GET_QUEUE_NUM:
			len = vnet_vu_build_reply_u64(out, sizeof(out), r.request, 1);
			break;
		case VHOST_USER_GET_VRING_BASE:
			len = vnet_vu_build_reply_vring_state(out, sizeof(out), r.request, r.u.state.index, 0);
			break;
		case VHOST_USER_GET_STATUS:
			len = vnet_vu_build_reply_u64(out, sizeof(out), r.request, b->status);
			break;
		case VHOST_USER_GET_CONFIG:
			if ((uint64_t)r.u.config.offset + r.u.config.size <= sizeof(b->cfg))
				len = vnet_vu_build_reply_config(out, sizeof(out), r.u.config.offset, r.u.config.size, 0,
								 (const uint8_t *)&b->cfg + r.u.config.offset);
			else
				len = vnet_vu_build_reply_config(out, sizeof(out), r.u.config.offset, 0, 0, NULL);
			break;
		case VHOST_USER_SET_STATUS:
			b->status = (uint8_t)r.u.u64;
			if (r.need_reply)
				len = vnet_vu_build_reply_u64(out, sizeof(out), r.request, 0);
			break;
		default:
			if (r.need_reply)
				len = vnet_vu_build_reply_u64(out, sizeof(out), r.request,
							      (b->sc == SC_NACK_OWNER && r.request == VHOST_USER_SET_OWNER));
			break;
		}
		if (len > 0 && write(s, out, (size_t)len) != len)
			break;
	}
done:
	close(s);
	return NULL;
}

static struct backend *backend_start(enum scenario sc, uint64_t features, uint64_t pfeatures)
{
	struct backend *b = calloc(1, sizeof(*b));
	snprintf(b->path, sizeof(b->path), "/tmp/vnet-test-vu-%d-%d.sock", (int)getpid(), (int)sc);
	unlink(b->path);
	b->sc = sc;
	b->features = features;
	b->pfeatures = pfeatures;
	b->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	strcpy(sa.sun_path, b->path);
	assert_int_equal(bind(b->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(b->lfd, 1), 0);
	pthread_create(&b->th, NULL, backend_main, b);
	return b;
}

static void backend_stop(struct backend *b)
{
	pthread_join(b->th, NULL);
	close(b->lfd);
	unlink(b->path);
}

static struct vnet_vhost *connect_to(struct backend *b, uint32_t reply_ms)
{
	/* The port's virtio-net layer, as vnet_port_open() passes it. */
	static struct vnet_port_vhost_net_cfg netcfg;
	struct vnet_vhost_linux_opts o = {.path = b->path, .reply_timeout_ms = reply_ms,
					  .device = &vnet_port_vhost_net, .device_arg = &netcfg};
	struct vnet_vhost *vu;
	assert_int_equal(vnet_vhost_linux_open(&o, &vu), VNET_OK);
	assert_int_equal(vnet_vhost_connect(vu, 2000), VNET_OK);
	return vu;
}

/* Index of the first recorded request `req` at or after `from`, -1 if none. */
static int find(const struct backend *b, uint32_t req, int from)
{
	for (int i = from; i < b->nrec; i++)
		if (b->rec[i].req.request == req)
			return i;
	return -1;
}

#define DPDK_LIKE_FEATURES                                                                                 \
	(VNET_BIT(VIRTIO_F_VERSION_1) | VNET_BIT(VHOST_USER_F_PROTOCOL_FEATURES) |                         \
	 VNET_BIT(VIRTIO_NET_F_MRG_RXBUF) | VNET_BIT(VIRTIO_NET_F_CTRL_VQ) | VNET_BIT(VIRTIO_NET_F_MQ) |   \
	 VNET_BIT(VIRTIO_F_RING_PACKED) | VNET_BIT(VIRTIO_F_EVENT_IDX) | VNET_BIT(VIRTIO_F_ACCESS_PLATFORM))
#define PFEATURES ((1ull << VHOST_USER_PROTOCOL_F_MQ) | (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK) | \
		   (1ull << VHOST_USER_PROTOCOL_F_LOG_SHMFD))

static void bring_up(enum vnet_net_ring ring)
{
	struct backend *b = backend_start(SC_NORMAL, DPDK_LIKE_FEATURES, PFEATURES);
	struct vnet_vhost *vu = connect_to(b, 2000);
	assert_int_equal(vnet_vhost_handshake(vu), VNET_OK);
	struct vnet_net_opts no = {.ring = ring, .no_ctrl_vq = true, .queue_size = 64};
	struct vnet_net *net;
	assert_int_equal(vnet_net_create(&vnet_vhost_ops, vu, &no, &net), VNET_OK);
	struct vnet_net_info info;
	vnet_net_get_info(net, &info);
	/* The core never sees bit 30, the control queue, MQ or ACCESS_PLATFORM. */
	assert_int_equal(info.offered & (VNET_BIT(VHOST_USER_F_PROTOCOL_FEATURES) | VNET_BIT(VIRTIO_NET_F_CTRL_VQ) |
					 VNET_BIT(VIRTIO_NET_F_MQ)), 0);
	assert_int_equal(info.negotiated & VNET_BIT(VIRTIO_F_ACCESS_PLATFORM), 0);
	vnet_net_destroy(net);
	vnet_vhost_destroy(vu); /* closes the socket: the back-end thread ends */
	backend_stop(b);

	/* Sequence. */
	assert_true(b->nrec > 10);
	assert_int_equal(b->rec[0].req.request, VHOST_USER_GET_FEATURES);
	assert_int_equal(b->rec[1].req.request, VHOST_USER_GET_PROTOCOL_FEATURES);
	assert_int_equal(b->rec[2].req.request, VHOST_USER_SET_PROTOCOL_FEATURES);
	/* Only what we use: LOG_SHMFD (offered) is not accepted. */
	assert_int_equal(b->rec[2].req.u.u64, (1ull << VHOST_USER_PROTOCOL_F_MQ) |
						      (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK));
	assert_false(b->rec[2].req.need_reply); /* REPLY_ACK not yet in force */
	assert_int_equal(b->rec[3].req.request, VHOST_USER_GET_QUEUE_NUM);
	int own = find(b, VHOST_USER_SET_OWNER, 0);
	assert_true(own > 3);
	assert_true(b->rec[own].req.need_reply);
	int sf = find(b, VHOST_USER_SET_FEATURES, own);
	assert_true(sf > own);
	uint64_t wire = b->rec[sf].req.u.u64;
	assert_true(wire & VNET_BIT(VHOST_USER_F_PROTOCOL_FEATURES));
	assert_true(wire & VNET_BIT(VIRTIO_F_VERSION_1));
	assert_int_equal(wire & (VNET_BIT(VIRTIO_NET_F_CTRL_VQ) | VNET_BIT(VIRTIO_NET_F_MQ) |
				 VNET_BIT(VIRTIO_F_ACCESS_PLATFORM)), 0);
	assert_int_equal(!!(wire & VNET_BIT(VIRTIO_F_RING_PACKED)), ring == VNET_NET_RING_PACKED);
	int mt = find(b, VHOST_USER_SET_MEM_TABLE, sf);
	assert_true(mt > sf);
	assert_int_equal(b->rec[mt].nfds, 1);
	assert_int_equal(b->rec[mt].req.u.mem.nregions, 1);
	void *base;
	size_t size;
	assert_int_equal(vnet_linux_arena_get(NULL, &base, &size), VNET_OK);
	const struct vhost_user_mem_region *reg = &b->rec[mt].req.u.mem.regions[0];
	assert_int_equal(reg->guest_phys_addr, (uint64_t)(uintptr_t)base);
	assert_int_equal(reg->userspace_addr, (uint64_t)(uintptr_t)base);
	assert_int_equal(reg->memory_size, size);
	assert_int_equal(reg->mmap_offset, 0);
	for (uint32_t q = 0; q < 2; q++) {
		int num = -1, vb = -1, addr = -1, kick = -1, call = -1, en = -1;
		for (int i = mt; i < b->nrec; i++) {
			const struct vnet_vu_req *r = &b->rec[i].req;
			uint32_t idx = r->request == VHOST_USER_SET_VRING_ADDR ? r->u.addr.index
				       : (r->request == VHOST_USER_SET_VRING_KICK || r->request == VHOST_USER_SET_VRING_CALL)
					       ? (uint32_t)(r->u.u64 & VHOST_USER_VRING_IDX_MASK)
					       : r->u.state.index;
			if (idx != q)
				continue;
			if (r->request == VHOST_USER_SET_VRING_NUM && num < 0) {
				num = i;
				assert_int_equal(r->u.state.num, 64);
			}
			if (r->request == VHOST_USER_SET_VRING_BASE && vb < 0) {
				vb = i;
				assert_int_equal(r->u.state.num, ring == VNET_NET_RING_PACKED ? 0x8000u : 0u);
			}
			if (r->request == VHOST_USER_SET_VRING_ADDR && addr < 0) {
				addr = i;
				assert_true(r->u.addr.desc >= (uint64_t)(uintptr_t)base &&
					    r->u.addr.desc < (uint64_t)(uintptr_t)base + size);
			}
			if (r->request == VHOST_USER_SET_VRING_KICK && kick < 0) {
				kick = i;
				assert_int_equal(b->rec[i].nfds, 1);
			}
			if (r->request == VHOST_USER_SET_VRING_CALL && call < 0) {
				call = i;
				/* Poll mode: "no fd". */
				assert_true(r->u.u64 & VHOST_USER_VRING_NOFD_MASK);
				assert_int_equal(b->rec[i].nfds, 0);
			}
			if (r->request == VHOST_USER_SET_VRING_ENABLE && en < 0) {
				en = i;
				assert_int_equal(r->u.state.num, 1);
			}
		}
		assert_true(num > mt && vb > num && addr > vb && kick > addr && call > kick && en > call);
	}
	/* destroy stopped the rings. */
	assert_true(find(b, VHOST_USER_GET_VRING_BASE, mt) > 0);
	free(b);
}

static void test_bring_up_split(void **state)
{
	(void)state;
	bring_up(VNET_NET_RING_SPLIT);
}

static void test_bring_up_packed(void **state)
{
	(void)state;
	bring_up(VNET_NET_RING_PACKED);
}

/*
 * A back-end offering every optional protocol feature the front-end uses
 * (MQ, REPLY_ACK, CONFIG, STATUS, RESET_DEVICE; testpmd offers only MQ,
 * REPLY_ACK and STATUS): all are accepted, the MAC comes from GET_CONFIG,
 * the status byte travels with SET_STATUS and FEATURES_OK is confirmed with
 * GET_STATUS, and the reset at destroy stops every ring with
 * GET_VRING_BASE before RESET_DEVICE.
 */
static void test_status_config_reset_device(void **state)
{
	(void)state;
	const uint64_t pf = (1ull << VHOST_USER_PROTOCOL_F_MQ) | (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK) |
			    (1ull << VHOST_USER_PROTOCOL_F_CONFIG) | (1ull << VHOST_USER_PROTOCOL_F_STATUS) |
			    (1ull << VHOST_USER_PROTOCOL_F_RESET_DEVICE);
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0xab, 0xcd, 0xef};
	struct backend *b = backend_start(SC_NORMAL, DPDK_LIKE_FEATURES | VNET_BIT(VIRTIO_NET_F_MAC), pf);
	memcpy(b->cfg.mac, mac, sizeof(mac));
	struct vnet_vhost *vu = connect_to(b, 2000);
	assert_int_equal(vnet_vhost_handshake(vu), VNET_OK);
	struct vnet_net_opts no = {.ring = VNET_NET_RING_SPLIT, .no_ctrl_vq = true, .queue_size = 64};
	struct vnet_net *net;
	assert_int_equal(vnet_net_create(&vnet_vhost_ops, vu, &no, &net), VNET_OK);
	struct vnet_net_info info;
	vnet_net_get_info(net, &info);
	assert_true(info.mac_from_device);
	assert_memory_equal(info.mac, mac, sizeof(mac));
	/* Requests up to DRIVER_OK: each carried NEED_REPLY and was answered,
	 * so the back-end has recorded them all by now. */
	int live = __atomic_load_n(&b->nrec, __ATOMIC_ACQUIRE);
	vnet_net_destroy(net);
	vnet_vhost_destroy(vu);
	backend_stop(b);

	assert_int_equal(b->rec[2].req.request, VHOST_USER_SET_PROTOCOL_FEATURES);
	assert_int_equal(b->rec[2].req.u.u64, pf);
	assert_int_equal(b->rec[3].req.request, VHOST_USER_GET_QUEUE_NUM);
	int own = find(b, VHOST_USER_SET_OWNER, 0);
	assert_true(find(b, VHOST_USER_GET_CONFIG, own) > own);
	/* Status: FEATURES_OK sent, then read back; DRIVER_OK sent last. */
	int fok = -1, dok = -1;
	for (int i = own; i < live; i++) {
		const struct vnet_vu_req *r = &b->rec[i].req;
		if (r->request != VHOST_USER_SET_STATUS)
			continue;
		assert_true(r->need_reply); /* REPLY_ACK in force */
		if (fok < 0 && (r->u.u64 & VIRTIO_STATUS_FEATURES_OK))
			fok = i;
		if (r->u.u64 & VIRTIO_STATUS_DRIVER_OK)
			dok = i;
	}
	assert_true(fok > own && dok > fok);
	int gs = find(b, VHOST_USER_GET_STATUS, fok);
	assert_true(gs > fok && gs < dok);
	/* Destroy: both rings stopped (GET_VRING_BASE), then RESET_DEVICE and
	 * status 0. */
	int vb0 = -1, vb1 = -1;
	for (int i = live; i < b->nrec; i++) {
		const struct vnet_vu_req *r = &b->rec[i].req;
		if (r->request == VHOST_USER_GET_VRING_BASE && r->u.state.index == 0 && vb0 < 0)
			vb0 = i;
		if (r->request == VHOST_USER_GET_VRING_BASE && r->u.state.index == 1 && vb1 < 0)
			vb1 = i;
	}
	assert_true(vb0 >= live && vb1 >= live);
	int rd = find(b, VHOST_USER_RESET_DEVICE, live);
	assert_true(rd > vb0 && rd > vb1);
	int s0 = find(b, VHOST_USER_SET_STATUS, rd);
	assert_true(s0 > rd);
	assert_int_equal(b->rec[s0].req.u.u64, 0);
	free(b);
}

static void test_reply_for_other_request_is_eproto(void **state)
{
	(void)state;
	struct backend *b = backend_start(SC_WRONG_REQUEST, DPDK_LIKE_FEATURES, PFEATURES);
	struct vnet_vhost *vu = connect_to(b, 2000);
	assert_int_equal(vnet_vhost_handshake(vu), VNET_EPROTO);
	assert_false(vnet_vhost_is_connected(vu));
	vnet_vhost_destroy(vu);
	backend_stop(b);
	free(b);
}

static void test_missing_reply_times_out(void **state)
{
	(void)state;
	struct backend *b = backend_start(SC_SILENT, DPDK_LIKE_FEATURES, PFEATURES);
	struct vnet_vhost *vu = connect_to(b, 100);
	assert_int_equal(vnet_vhost_handshake(vu), VNET_ETIMEDOUT);
	assert_false(vnet_vhost_is_connected(vu));
	vnet_vhost_destroy(vu);
	backend_stop(b);
	free(b);
}

static void test_nacked_request_fails(void **state)
{
	(void)state;
	struct backend *b = backend_start(SC_NACK_OWNER, DPDK_LIKE_FEATURES, PFEATURES);
	struct vnet_vhost *vu = connect_to(b, 2000);
	assert_int_equal(vnet_vhost_handshake(vu), VNET_EIO);
	vnet_vhost_destroy(vu);
	backend_stop(b);
	free(b);
}

static void test_hangup_is_enodev_and_noticed(void **state)
{
	(void)state;
	struct backend *b = backend_start(SC_HANGUP, DPDK_LIKE_FEATURES, PFEATURES);
	struct vnet_vhost *vu = connect_to(b, 2000);
	assert_int_equal(vnet_vhost_handshake(vu), VNET_ENODEV);
	assert_false(vnet_vhost_is_connected(vu));
	assert_int_equal(vnet_vhost_check(vu), VNET_ENODEV);
	/* Ops on a dropped connection fail cleanly; reset completes locally. */
	uint64_t f;
	assert_int_equal(vnet_vhost_ops.get_device_features(vu, &f), VNET_ENODEV);
	assert_int_equal(vnet_vhost_ops.reset(vu), VNET_OK);
	assert_int_equal(vnet_vhost_ops.get_status(vu), 0);
	vnet_vhost_destroy(vu);
	backend_stop(b);
	free(b);
}

static void test_no_protocol_features(void **state)
{
	(void)state;
	/* A back-end without bit 30: no protocol messages, no SET_VRING_ENABLE. */
	struct backend *b = backend_start(SC_NORMAL, VNET_BIT(VIRTIO_F_VERSION_1), 0);
	struct vnet_vhost *vu = connect_to(b, 2000);
	assert_int_equal(vnet_vhost_handshake(vu), VNET_OK);
	struct vnet_net_opts no = {.no_ctrl_vq = true, .queue_size = 64};
	struct vnet_net *net;
	assert_int_equal(vnet_net_create(&vnet_vhost_ops, vu, &no, &net), VNET_OK);
	vnet_net_destroy(net);
	vnet_vhost_destroy(vu);
	backend_stop(b);
	assert_int_equal(find(b, VHOST_USER_GET_PROTOCOL_FEATURES, 0), -1);
	assert_int_equal(find(b, VHOST_USER_SET_VRING_ENABLE, 0), -1);
	int sf = find(b, VHOST_USER_SET_FEATURES, 0);
	assert_true(sf >= 0);
	assert_int_equal(b->rec[sf].req.u.u64 & VNET_BIT(VHOST_USER_F_PROTOCOL_FEATURES), 0);
	/* Without REPLY_ACK nothing asks for a reply. */
	assert_false(b->rec[find(b, VHOST_USER_SET_OWNER, 0)].req.need_reply);
	free(b);
}

int main(void)
{
	vnet_linux_arena_init(8u << 20);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bring_up_split),
		cmocka_unit_test(test_bring_up_packed),
		cmocka_unit_test(test_status_config_reset_device),
		cmocka_unit_test(test_reply_for_other_request_is_eproto),
		cmocka_unit_test(test_missing_reply_times_out),
		cmocka_unit_test(test_nacked_request_fails),
		cmocka_unit_test(test_hangup_is_enodev_and_noticed),
		cmocka_unit_test(test_no_protocol_features),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
