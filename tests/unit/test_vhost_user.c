/*
 * vhost-user front-end (src/transport/vhost_user/vhost_user.c) over an
 * in-memory OS: no socket, no eventfd, no Linux.  The fake struct
 * vnet_vhost_os_ops below hands every sent message to a scripted back-end
 * built on the codec and queues its reply for recv(); events are
 * counters.  What this shows: the protocol runs on nothing but the OS ops
 * table and the HAL (the core is freestanding), the handles the OS layer
 * makes are the ones that travel with SET_MEM_TABLE / SET_VRING_KICK /
 * SET_VRING_CALL and are all closed again, notify() signals the kick
 * event, failures of the OS layer become the documented errors, and the
 * device layer's hooks (struct vnet_vhost_device_ops) decide the offer and
 * a back-end-less config: the front-end itself strips only vhost-user's
 * own feature bits.  The Linux socket side is tested by
 * platform/linux/tests/test_vhost_user_frontend.c and the testpmd tests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "fake_hal.h"
#include "vnet/features.h"
#include "vnet/spec/virtio_config.h"
#include "vnet/vhost_user.h"
#include "vnet/vhost_user_msg.h"

#define MAX_REC 64
#define MEM_HANDLE 77
#define MEM_ADDR 0x7f0000000000ull
#define MEM_SIZE (8ull << 20)
#define EV_FIRST 100

struct fake_os {
	/* back-end script */
	uint64_t features, pfeatures;
	bool silent;                /* never answer */
	bool refuse_send;           /* send() fails as a vanished peer */
	bool signal_fails;          /* event_signal() fails */
	enum vnet_vhost_peer peer;
	/* recorded */
	struct vnet_vu_req rec[MAX_REC];
	int rec_fds[MAX_REC][2];
	int nrec;
	uint8_t rx[VNET_VU_MSG_MAX];
	size_t rx_len, rx_off;
	bool connected;
	int connects, disconnects, destroys;
	int events_made, events_closed, signals, last_signalled;
	bool ev_open[32];
};

static struct fake_os OS;

static int fo_connect(void *ctx, uint32_t timeout_ms)
{
	struct fake_os *o = ctx;
	(void)timeout_ms;
	o->connected = true;
	o->connects++;
	return VNET_OK;
}

static void fo_disconnect(void *ctx)
{
	struct fake_os *o = ctx;
	o->connected = false;
	o->disconnects++;
}

static void fo_answer(struct fake_os *o, const struct vnet_vu_req *r)
{
	uint8_t *out = o->rx + o->rx_len;
	size_t cap = sizeof(o->rx) - o->rx_len;
	int len = -1;
	switch (r->request) {
	case VHOST_USER_GET_FEATURES:
		len = vnet_vu_build_reply_u64(out, cap, r->request, o->features);
		break;
	case VHOST_USER_GET_PROTOCOL_FEATURES:
		len = vnet_vu_build_reply_u64(out, cap, r->request, o->pfeatures);
		break;
	case VHOST_USER_GET_QUEUE_NUM:
		len = vnet_vu_build_reply_u64(out, cap, r->request, 3);
		break;
	case VHOST_USER_GET_VRING_BASE:
		len = vnet_vu_build_reply_vring_state(out, cap, r->request, r->u.state.index, 0);
		break;
	case VHOST_USER_GET_CONFIG:
		len = vnet_vu_build_reply_config(out, cap, r->u.config.offset, 0, 0, NULL); /* "failed" */
		break;
	default:
		if (r->need_reply)
			len = vnet_vu_build_reply_u64(out, cap, r->request, 0);
		break;
	}
	if (len > 0)
		o->rx_len += (size_t)len;
}

static int fo_send(void *ctx, const void *msg, size_t len, const int *fds, unsigned nfds, uint32_t timeout_ms,
		   const char **why)
{
	struct fake_os *o = ctx;
	(void)timeout_ms;
	assert_true(o->connected);
	if (o->refuse_send) {
		*why = "peer vanished (test)";
		return VNET_ENODEV;
	}
	struct vnet_vu_req r;
	enum vnet_vu_err e;
	assert_int_equal(vnet_vu_parse_request(msg, len, &r, &e), VNET_OK);
	/* The handles that travel are exactly the ones the request needs. */
	assert_int_equal(nfds, r.nfds);
	assert_true(o->nrec < MAX_REC);
	o->rec[o->nrec] = r;
	o->rec_fds[o->nrec][0] = nfds > 0 ? fds[0] : -1;
	o->rec_fds[o->nrec][1] = (int)nfds;
	o->nrec++;
	if (!o->silent)
		fo_answer(o, &r);
	return VNET_OK;
}

static int fo_recv(void *ctx, void *buf, size_t len, uint64_t deadline_ns)
{
	struct fake_os *o = ctx;
	(void)deadline_ns;
	if (!o->connected)
		return VNET_ENODEV;
	if (o->rx_len - o->rx_off < len)
		return VNET_ETIMEDOUT; /* nothing more will come: as if the bound passed */
	memcpy(buf, o->rx + o->rx_off, len);
	o->rx_off += len;
	if (o->rx_off == o->rx_len)
		o->rx_off = o->rx_len = 0;
	return VNET_OK;
}

static enum vnet_vhost_peer fo_peer(void *ctx)
{
	return ((struct fake_os *)ctx)->peer;
}

static int fo_event_create(void *ctx, int *h)
{
	struct fake_os *o = ctx;
	int n = o->events_made++;
	assert_true(n < 32);
	o->ev_open[n] = true;
	*h = EV_FIRST + n;
	return VNET_OK;
}

static int fo_event_signal(void *ctx, int h)
{
	struct fake_os *o = ctx;
	assert_true(h >= EV_FIRST && o->ev_open[h - EV_FIRST]);
	o->signals++;
	o->last_signalled = h;
	return o->signal_fails ? VNET_EIO : VNET_OK;
}

static void fo_event_close(void *ctx, int h)
{
	struct fake_os *o = ctx;
	assert_true(h >= EV_FIRST && o->ev_open[h - EV_FIRST]);
	o->ev_open[h - EV_FIRST] = false;
	o->events_closed++;
}

static int fo_mem_region(void *ctx, int *h, uint64_t *addr, uint64_t *size)
{
	(void)ctx;
	*h = MEM_HANDLE;
	*addr = MEM_ADDR;
	*size = MEM_SIZE;
	return VNET_OK;
}

static void fo_destroy(void *ctx)
{
	((struct fake_os *)ctx)->destroys++;
}

static const struct vnet_vhost_os_ops fake_os_ops = {
	.connect = fo_connect,
	.disconnect = fo_disconnect,
	.send = fo_send,
	.recv = fo_recv,
	.peer = fo_peer,
	.event_create = fo_event_create,
	.event_signal = fo_event_signal,
	.event_close = fo_event_close,
	.mem_region = fo_mem_region,
	.destroy = fo_destroy,
};

/* A device layer for a made-up device type: removes feature bit 5,
 * serves a 4-byte config when the back-end has none. */
static int dev_offer_calls;
static bool dev_offer_config_real = true;

static uint64_t dev_offer(void *arg, const struct vnet_vhost *vu, uint64_t f, bool config_real)
{
	assert_ptr_equal(arg, &OS);
	assert_non_null(vu);
	dev_offer_calls++;
	dev_offer_config_real = config_real;
	return f & ~VNET_BIT(5);
}

static int dev_read_config(void *arg, const struct vnet_vhost *vu, uint32_t offset, void *buf, uint32_t len)
{
	static const uint8_t cfg[4] = {0xde, 0xad, 0xbe, 0xef};
	(void)arg;
	(void)vu;
	if ((uint64_t)offset + len > sizeof(cfg))
		return VNET_ERANGE;
	memcpy(buf, cfg + offset, len);
	return VNET_OK;
}

static const struct vnet_vhost_device_ops test_dev = {
	.config_probe_len = 4,
	.offer = dev_offer,
	.read_config = dev_read_config,
};

#define PF_ALL                                                                                     \
	((1ull << VHOST_USER_PROTOCOL_F_MQ) | (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK) |          \
	 (1ull << VHOST_USER_PROTOCOL_F_CONFIG))

static int setup(void **state)
{
	(void)state;
	memset(&OS, 0, sizeof(OS));
	OS.features = VNET_BIT(VIRTIO_F_VERSION_1) | VNET_BIT(VHOST_USER_F_PROTOCOL_FEATURES) | VNET_BIT(26) |
		      VNET_BIT(5) | VNET_BIT(6);
	OS.pfeatures = PF_ALL;
	dev_offer_calls = 0;
	return 0;
}

static struct vnet_vhost *open_vu(const struct vnet_vhost_device_ops *dev, bool call_fds)
{
	struct vnet_vhost_opts o = {
		.name = "fake",
		.call_fds = call_fds,
		.os = &fake_os_ops,
		.os_ctx = &OS,
		.device = dev,
		.device_arg = &OS,
	};
	struct vnet_vhost *vu = NULL;
	assert_int_equal(vnet_vhost_create(&o, &vu), VNET_OK);
	assert_int_equal(vnet_vhost_connect(vu, 0), VNET_OK);
	assert_int_equal(vnet_vhost_connect(vu, 0), VNET_EBUSY);
	return vu;
}

static int find(uint32_t req, int from)
{
	for (int i = from; i < OS.nrec; i++)
		if (OS.rec[i].request == req)
			return i;
	return -1;
}

/* Bring-up through the transport ops, as the device core drives them. */
static void test_bring_up_over_os_ops(void **state)
{
	(void)state;
	size_t priv = fake_hal_live_private();
	struct vnet_vhost *vu = open_vu(&test_dev, true);
	const struct vnet_transport_ops *ops = &vnet_vhost_ops;
	assert_int_equal(vnet_vhost_handshake(vu), VNET_OK);
	assert_int_equal(vnet_vhost_queue_pairs(vu), 3);
	assert_int_equal(ops->num_queues(vu), 6);

	/* The offer: vhost-user's bit 30 and LOG_ALL (26) removed by the
	 * front-end, bit 5 by the device layer, the rest untouched. */
	uint64_t f = 0;
	assert_int_equal(ops->get_device_features(vu, &f), VNET_OK);
	assert_int_equal(f, VNET_BIT(VIRTIO_F_VERSION_1) | VNET_BIT(6));
	assert_int_equal(dev_offer_calls, 1);
	assert_false(dev_offer_config_real); /* GET_CONFIG answered "failed" */

	/* No config space at the back-end: the device layer serves it. */
	uint8_t c[2];
	assert_int_equal(ops->read_config(vu, 2, c, 2), VNET_OK);
	assert_int_equal(c[0], 0xbe);
	assert_int_equal(c[1], 0xef);
	assert_int_equal(ops->read_config(vu, 3, c, 2), VNET_ERANGE);

	assert_int_equal(ops->set_driver_features(vu, f), VNET_OK);
	int sf = find(VHOST_USER_SET_FEATURES, 0);
	assert_true(sf >= 0);
	assert_int_equal(OS.rec[sf].u.u64, f | VNET_BIT(VHOST_USER_F_PROTOCOL_FEATURES));

	uint8_t st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK;
	assert_int_equal(ops->set_status(vu, st), VNET_OK);
	assert_int_equal(ops->get_status(vu), st);
	/* The memory table is the OS layer's region, sent with its handle. */
	int mt = find(VHOST_USER_SET_MEM_TABLE, sf);
	assert_true(mt > sf);
	assert_int_equal(OS.rec_fds[mt][1], 1);
	assert_int_equal(OS.rec_fds[mt][0], MEM_HANDLE);
	assert_int_equal(OS.rec[mt].u.mem.nregions, 1);
	assert_int_equal(OS.rec[mt].u.mem.regions[0].guest_phys_addr, MEM_ADDR);
	assert_int_equal(OS.rec[mt].u.mem.regions[0].userspace_addr, MEM_ADDR);
	assert_int_equal(OS.rec[mt].u.mem.regions[0].memory_size, MEM_SIZE);

	struct vnet_queue_setup q = {.index = 0, .size = 64, .desc = MEM_ADDR, .driver = MEM_ADDR + 0x1000,
				     .device = MEM_ADDR + 0x2000, .vector = VNET_VECTOR_NONE};
	assert_int_equal(ops->setup_queue(vu, &q), VNET_OK);
	assert_int_equal(ops->enable_queue(vu, 0), VNET_OK);
	/* Kick and call events made by the OS layer, each sent with its message. */
	assert_int_equal(OS.events_made, 2);
	int kick = find(VHOST_USER_SET_VRING_KICK, mt);
	int call = find(VHOST_USER_SET_VRING_CALL, mt);
	assert_true(kick > mt && call > kick);
	assert_int_equal(OS.rec_fds[kick][1], 1);
	assert_int_equal(OS.rec_fds[call][1], 1);
	assert_int_equal(vnet_vhost_call_fd(vu, 0), OS.rec_fds[call][0]);
	assert_int_equal(vnet_vhost_call_fd(vu, 1), -1);

	st |= VIRTIO_STATUS_DRIVER_OK;
	assert_int_equal(ops->set_status(vu, st), VNET_OK);
	int en = find(VHOST_USER_SET_VRING_ENABLE, call);
	assert_true(en > call);
	assert_int_equal(OS.rec[en].u.state.index, 0);
	assert_int_equal(OS.rec[en].u.state.num, 1);

	/* The doorbell is a signal of the kick event. */
	ops->notify(vu, 0, 0);
	assert_int_equal(OS.signals, 1);
	assert_int_equal(OS.last_signalled, OS.rec_fds[kick][0]);
	ops->notify(vu, 1, 0); /* not enabled: nothing */
	assert_int_equal(OS.signals, 1);
	assert_int_equal(vnet_vhost_kick_errors(vu), 0);
	OS.signal_fails = true;
	ops->notify(vu, 0, 0);
	assert_int_equal(vnet_vhost_kick_errors(vu), 1);

	/* Reset stops the programmed ring; destroy closes every event, drops
	 * the connection and releases the OS context. */
	int before = OS.nrec;
	assert_int_equal(ops->reset(vu), VNET_OK);
	int vb = find(VHOST_USER_GET_VRING_BASE, before);
	assert_true(vb >= before);
	assert_int_equal(OS.rec[vb].u.state.index, 0);
	assert_int_equal(ops->get_status(vu), 0);
	vnet_vhost_destroy(vu);
	assert_int_equal(OS.events_closed, OS.events_made);
	assert_int_equal(OS.disconnects, 1);
	assert_int_equal(OS.destroys, 1);
	assert_int_equal(fake_hal_live_private(), priv);
}

/* Without a device layer the offer passes unchanged (minus vhost-user's
 * own bits) and a back-end without config space has an empty one. */
static void test_no_device_layer(void **state)
{
	(void)state;
	struct vnet_vhost *vu = open_vu(NULL, false);
	assert_int_equal(vnet_vhost_handshake(vu), VNET_OK);
	uint64_t f = 0;
	assert_int_equal(vnet_vhost_ops.get_device_features(vu, &f), VNET_OK);
	assert_int_equal(f, VNET_BIT(VIRTIO_F_VERSION_1) | VNET_BIT(5) | VNET_BIT(6));
	uint8_t c;
	assert_int_equal(vnet_vhost_ops.read_config(vu, 0, &c, 1), VNET_ERANGE);
	/* GET_CONFIG was probed with the default 4 bytes. */
	int gc = find(VHOST_USER_GET_CONFIG, 0);
	assert_true(gc >= 0);
	assert_int_equal(OS.rec[gc].u.config.size, 4);
	vnet_vhost_destroy(vu);
	assert_int_equal(OS.destroys, 1);
}

/* OS-layer failures become the documented errors and drop the connection. */
static void test_os_failures(void **state)
{
	(void)state;
	/* No reply by the bound. */
	OS.silent = true;
	struct vnet_vhost *vu = open_vu(&test_dev, false);
	assert_int_equal(vnet_vhost_handshake(vu), VNET_ETIMEDOUT);
	assert_false(vnet_vhost_is_connected(vu));
	assert_int_equal(OS.disconnects, 1);
	assert_int_equal(vnet_vhost_ops.get_device_features(vu, &(uint64_t){0}), VNET_ENODEV);
	assert_int_equal(vnet_vhost_ops.reset(vu), VNET_OK); /* local */

	/* The peer vanished under send. */
	OS.silent = false;
	OS.refuse_send = true;
	assert_int_equal(vnet_vhost_connect(vu, 0), VNET_OK);
	assert_int_equal(vnet_vhost_handshake(vu), VNET_ENODEV);
	assert_false(vnet_vhost_is_connected(vu));
	assert_true(strstr(fake_hal_last_log(), "peer vanished (test)") != NULL);
	vnet_vhost_destroy(vu);
}

/* check(): what the OS layer sees on the idle stream decides. */
static void test_check_peer_states(void **state)
{
	(void)state;
	struct vnet_vhost *vu = open_vu(&test_dev, false);
	assert_int_equal(vnet_vhost_handshake(vu), VNET_OK);
	OS.peer = VNET_VHOST_PEER_QUIET;
	assert_int_equal(vnet_vhost_check(vu), VNET_OK);
	assert_true(vnet_vhost_is_connected(vu));
	OS.peer = VNET_VHOST_PEER_DATA;
	assert_int_equal(vnet_vhost_check(vu), VNET_EPROTO);
	assert_false(vnet_vhost_is_connected(vu));
	assert_true(strstr(fake_hal_last_log(), "unsolicited message from the back-end") != NULL);

	OS.peer = VNET_VHOST_PEER_HUNGUP;
	assert_int_equal(vnet_vhost_connect(vu, 0), VNET_OK);
	assert_int_equal(vnet_vhost_check(vu), VNET_ENODEV);
	assert_false(vnet_vhost_is_connected(vu));
	assert_true(strstr(fake_hal_last_log(), "back-end hung up") != NULL);

	OS.peer = VNET_VHOST_PEER_CLOSED;
	assert_int_equal(vnet_vhost_connect(vu, 0), VNET_OK);
	assert_int_equal(vnet_vhost_check(vu), VNET_ENODEV);
	assert_true(strstr(fake_hal_last_log(), "back-end closed the connection") != NULL);
	assert_int_equal(vnet_vhost_check(vu), VNET_ENODEV);
	vnet_vhost_destroy(vu);
	assert_int_equal(OS.connects, 3);
	assert_int_equal(OS.disconnects, 3);
}

static void test_create_refuses_incomplete_ops(void **state)
{
	(void)state;
	struct vnet_vhost_os_ops partial = fake_os_ops;
	partial.event_signal = NULL;
	struct vnet_vhost_opts o = {.name = "fake", .os = &partial, .os_ctx = &OS};
	struct vnet_vhost *vu = (struct vnet_vhost *)(uintptr_t)1;
	assert_int_equal(vnet_vhost_create(&o, &vu), VNET_EINVAL);
	assert_null(vu);
	o.os = NULL;
	assert_int_equal(vnet_vhost_create(&o, &vu), VNET_EINVAL);
	o.os = &fake_os_ops;
	o.name = "";
	assert_int_equal(vnet_vhost_create(&o, &vu), VNET_EINVAL);
	assert_int_equal(OS.destroys, 0); /* a refused create leaves os_ctx to the caller */
}

/* ------------------------------------------------ multiqueue (control plane) */

/* The device layer emulates a feature (bit 6 here) the back-end must not see. */
static uint64_t dev_wire(void *arg, const struct vnet_vhost *vu, uint64_t f)
{
	(void)arg;
	(void)vu;
	return f & ~VNET_BIT(6);
}

static const struct vnet_vhost_device_ops mq_dev = {
	.config_probe_len = 4,
	.offer = dev_offer,
	.read_config = dev_read_config,
	.wire = dev_wire,
};

/* Count SET_VRING_ENABLE messages from `from` with num == on, per ring. */
static int count_enable(int from, unsigned idx, bool on)
{
	int n = 0;
	for (int i = from; i < OS.nrec; i++)
		n += OS.rec[i].request == VHOST_USER_SET_VRING_ENABLE && OS.rec[i].u.state.index == idx &&
		     OS.rec[i].u.state.num == (on ? 1u : 0u);
	return n;
}

/* VQ_PAIRS_SET as the port serves it: rings beyond 2 * pairs disabled,
 * brought back when asked, each change one SET_VRING_ENABLE; the wire
 * features lose what the device layer emulates. */
static void test_enable_pairs(void **state)
{
	(void)state;
	struct vnet_vhost *vu = open_vu(&mq_dev, false);
	const struct vnet_transport_ops *ops = &vnet_vhost_ops;
	assert_int_equal(vnet_vhost_handshake(vu), VNET_OK);
	uint64_t f = 0;
	assert_int_equal(ops->get_device_features(vu, &f), VNET_OK);
	assert_int_equal(ops->set_driver_features(vu, f), VNET_OK);
	int sf = find(VHOST_USER_SET_FEATURES, 0);
	assert_int_equal(OS.rec[sf].u.u64, (f & ~VNET_BIT(6)) | VNET_BIT(VHOST_USER_F_PROTOCOL_FEATURES));
	uint8_t st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK;
	assert_int_equal(ops->set_status(vu, st), VNET_OK);
	for (uint16_t i = 0; i < 6; i++) {
		struct vnet_queue_setup q = {.index = i, .size = 64, .desc = MEM_ADDR + 0x3000u * i,
					     .driver = MEM_ADDR + 0x3000u * i + 0x1000, .device = MEM_ADDR + 0x3000u * i + 0x2000,
					     .vector = VNET_VECTOR_NONE};
		assert_int_equal(ops->setup_queue(vu, &q), VNET_OK);
		assert_int_equal(ops->enable_queue(vu, i), VNET_OK);
	}
	assert_int_equal(ops->set_status(vu, st | VIRTIO_STATUS_DRIVER_OK), VNET_OK);
	assert_int_equal(vnet_vhost_enabled_rings(vu), 6);
	int mark = OS.nrec;
	assert_int_equal(vnet_vhost_enable_pairs(vu, 3), VNET_OK); /* no change: nothing sent */
	assert_int_equal(OS.nrec, mark);
	assert_int_equal(vnet_vhost_enable_pairs(vu, 1), VNET_OK);
	assert_int_equal(vnet_vhost_enabled_rings(vu), 2);
	for (unsigned i = 2; i < 6; i++)
		assert_int_equal(count_enable(mark, i, false), 1);
	assert_int_equal(count_enable(mark, 0, false) + count_enable(mark, 1, false), 0);
	mark = OS.nrec;
	assert_int_equal(vnet_vhost_enable_pairs(vu, 2), VNET_OK);
	assert_int_equal(vnet_vhost_enabled_rings(vu), 4);
	assert_int_equal(count_enable(mark, 2, true) + count_enable(mark, 3, true), 2);
	assert_int_equal(OS.nrec - mark, 2);
	assert_int_equal(vnet_vhost_enable_pairs(vu, 4), VNET_EINVAL); /* more than programmed */
	assert_int_equal(vnet_vhost_enable_pairs(vu, 0), VNET_EINVAL);
	vnet_vhost_destroy(vu);
}

/* Without protocol features rings cannot be enabled one by one. */
static void test_enable_pairs_needs_protocol(void **state)
{
	(void)state;
	OS.features &= ~VNET_BIT(VHOST_USER_F_PROTOCOL_FEATURES);
	struct vnet_vhost *vu = open_vu(&mq_dev, false);
	assert_int_equal(vnet_vhost_handshake(vu), VNET_OK);
	assert_int_equal(vnet_vhost_enable_pairs(vu, 1), VNET_ENOTSUP);
	vnet_vhost_destroy(vu);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_bring_up_over_os_ops, setup),
		cmocka_unit_test_setup(test_no_device_layer, setup),
		cmocka_unit_test_setup(test_os_failures, setup),
		cmocka_unit_test_setup(test_check_peer_states, setup),
		cmocka_unit_test_setup(test_create_refuses_incomplete_ops, setup),
		cmocka_unit_test_setup(test_enable_pairs, setup),
		cmocka_unit_test_setup(test_enable_pairs_needs_protocol, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
