/*
 * vhost-user front-end: the protocol, freestanding, over an OS ops table.
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
 *                           handshake), minus vhost-user's own bits and
 *                           whatever the device layer's offer() removes
 *   set_driver_features     SET_FEATURES (accepted | bit 30 when protocol
 *                           features were negotiated)
 *   set_status FEATURES_OK  SET_MEM_TABLE (the OS layer's one DMA region)
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
 *                           negotiated and works, else the device layer's
 *                           read_config()
 *   setup_queue             SET_VRING_NUM, SET_VRING_BASE, SET_VRING_ADDR
 *   enable_queue            SET_VRING_KICK (event), SET_VRING_CALL
 *                           (event in interrupt mode, "no fd" in poll mode)
 *   notify                  signal the kick event
 *
 * Every message is built by the codec (include/vnet/vhost_user_msg.h) and
 * every reply is checked by it before anything in it is used.  A reply that
 * is malformed, truncated, late or for another request leaves the stream in
 * an unknown state: the connection is dropped (the reason logged) and the
 * op fails.  Requests that have no reply carry NEED_REPLY once REPLY_ACK is
 * negotiated and the ack is checked.
 *
 * What it does not do: the OS side (sockets, fd passing, eventfds, the
 * memory region: struct vnet_vhost_os_ops, Linux in platform/linux/
 * vhost_user_linux.c); anything device-specific (struct
 * vnet_vhost_device_ops; the port's is platform/linux/vnet_port.c); the
 * control virtqueue (vhost-user back-ends such as DPDK leave it to the
 * front-end's VMM); dirty logging/migration; IOTLB (ACCESS_PLATFORM); the
 * back-end request channel; inflight tracking; memory hot-plug.
 *
 * Trust: the back-end is another process, trusted no more than a device;
 * everything it sends goes through the codec's checks first.  The OS layer
 * is trusted.
 *
 * Concurrency: all ops except notify are control path and serialised by
 * the caller (one thread per port).  notify only reads a kick handle that
 * does not change while the device is live; kick_errors is atomic.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/vnet_log.h"
#include "core/vnet_mem.h"
#include "vnet/features.h"
#include "vnet/spec/virtio_config.h"
#include "vnet/vhost_user.h"
#include "vnet/vhost_user_msg.h"
#include "vnet/vnet_hal.h"

/* Rings we can describe: 64 pairs' worth is plenty for one device. */
#define VU_MAX_VRINGS 128u
#define VU_REPLY_TIMEOUT_MS_DEFAULT 2000u
/* A ring size the protocol can express (spec 2.6: at most 32768). */
#define VU_QUEUE_MAX 32768u
/* VHOST_F_LOG_ALL, the dirty-log feature bit (26) in the vhost feature
 * word: migration only, never accepted. */
#define VU_F_LOG_ALL 26
/* GET_CONFIG probe length without a device layer's choice. */
#define VU_CONFIG_PROBE_DEFAULT 4u
/* Log names (socket paths) are cut here; a Unix socket path is < 108. */
#define VU_NAME_MAX 128u

/* Protocol features we use when offered. */
#define VU_PROTOCOL_WANTED                                                                         \
	((1ull << VHOST_USER_PROTOCOL_F_MQ) | (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK) |          \
	 (1ull << VHOST_USER_PROTOCOL_F_CONFIG) | (1ull << VHOST_USER_PROTOCOL_F_STATUS) |         \
	 (1ull << VHOST_USER_PROTOCOL_F_RESET_DEVICE))

#define VU_ERR(vu, fmt, ...) VNET_ERR("vhost-user %s: " fmt, (vu)->name, ##__VA_ARGS__)
#define VU_WARN(vu, fmt, ...) VNET_WARN("vhost-user %s: " fmt, (vu)->name, ##__VA_ARGS__)
#define VU_INFO(vu, fmt, ...) VNET_INFO("vhost-user %s: " fmt, (vu)->name, ##__VA_ARGS__)

struct vu_vring {
	int kickfd;
	int callfd;
	bool programmed; /* NUM/BASE/ADDR sent this connection */
	bool fds_sent;   /* KICK/CALL sent this connection */
	bool enabled;    /* SET_VRING_ENABLE 1 sent */
	uint16_t size;
};

struct vnet_vhost {
	char name[VU_NAME_MAX];
	bool call_fds;
	uint32_t timeout_ms;
	const struct vnet_vhost_os_ops *os;
	void *os_ctx;
	const struct vnet_vhost_device_ops *dev;
	void *dev_arg;

	bool connected;
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

static void vu_event_close(struct vnet_vhost *vu, int *h)
{
	if (*h >= 0) {
		vu->os->event_close(vu->os_ctx, *h);
		*h = -1;
	}
}

static void vu_forget_connection(struct vnet_vhost *vu)
{
	if (vu->connected)
		vu->os->disconnect(vu->os_ctx);
	vu->connected = false;
	for (unsigned i = 0; i < VU_MAX_VRINGS; i++) {
		vu_event_close(vu, &vu->vr[i].kickfd);
		vu_event_close(vu, &vu->vr[i].callfd);
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
	if (vu->connected)
		VU_ERR(vu, "%s: %s; dropping the connection", what, vnet_strerror(rc));
	vu_forget_connection(vu);
	return rc;
}

/* ------------------------------------------------------------ messages */

/* Send one whole message with its handles. */
static int vu_send(struct vnet_vhost *vu, const void *msg, size_t len, const int *fds, unsigned nfds)
{
	if (!vu->connected)
		return VNET_ENODEV;
	const char *why = "connection lost";
	int rc = vu->os->send(vu->os_ctx, msg, len, fds, nfds, vu->timeout_ms, &why);
	if (rc == VNET_OK)
		return VNET_OK;
	if (rc == VNET_ETIMEDOUT)
		return vu_fail(vu, VNET_ETIMEDOUT, "send blocked");
	return vu_fail(vu, VNET_ENODEV, why ? why : "connection lost");
}

/*
 * Receive one reply into vu->rbuf; *len gets header + payload bytes.  The
 * header is checked here (version, size bound); the caller's codec parser
 * checks REPLY, the request code and the payload.
 */
static int vu_recv(struct vnet_vhost *vu, uint32_t request, size_t *len)
{
	if (!vu->connected)
		return VNET_ENODEV;
	/* SET_MEM_TABLE makes the back-end map and walk the whole arena
	 * (DPDK builds a page table of it: ~0.2-0.4 s for 256 MiB of 4 KiB
	 * pages on a busy host), so it gets five times the usual bound. */
	uint32_t tmo = request == VHOST_USER_SET_MEM_TABLE ? 5u * vu->timeout_ms : vu->timeout_ms;
	uint64_t deadline = now_ms() + tmo;
	int rc = vu->os->recv(vu->os_ctx, vu->rbuf, VHOST_USER_HDR_SIZE, deadline * 1000000u);
	if (rc != VNET_OK)
		return vu_fail(vu, rc, rc == VNET_ETIMEDOUT ? "no reply in time" : "connection lost");
	struct vhost_user_hdr h;
	enum vnet_vu_err why;
	rc = vnet_vu_hdr_decode(vu->rbuf, VHOST_USER_HDR_SIZE, &h, &why);
	if (rc != VNET_OK) {
		VU_ERR(vu, "bad reply header to %s: %s", vnet_vu_request_name(request), vnet_vu_strerror(why));
		return vu_fail(vu, VNET_EPROTO, "malformed reply");
	}
	/* h.size is bounded by the decoder (VNET_VU_MAX_PAYLOAD): it fits. */
	if (h.size) {
		rc = vu->os->recv(vu->os_ctx, vu->rbuf + VHOST_USER_HDR_SIZE, h.size, deadline * 1000000u);
		if (rc != VNET_OK)
			return vu_fail(vu, rc,
				       rc == VNET_ETIMEDOUT ? "truncated reply (timeout)" : "connection lost");
	}
	*len = VHOST_USER_HDR_SIZE + h.size;
	uint64_t took = now_ms() + tmo - deadline;
	if (took >= 100)
		VU_INFO(vu, "reply to %s took %llu ms", vnet_vu_request_name(request), (unsigned long long)took);
	return VNET_OK;
}

/* Log and drop the connection for a reply the codec rejected. */
static int vu_bad_reply(struct vnet_vhost *vu, uint32_t request, int rc, enum vnet_vu_err why)
{
	if (rc == VNET_EIO) {
		/* Well-formed "I failed": the stream is in sync, keep it. */
		VU_ERR(vu, "back-end failed %s", vnet_vu_request_name(request));
		return VNET_EIO;
	}
	VU_ERR(vu, "reply to %s rejected: %s", vnet_vu_request_name(request), vnet_vu_strerror(why));
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
			VU_ERR(vu, "back-end nacked %s (code %llu)", vnet_vu_request_name(request),
			       (unsigned long long)code);
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
	if (!out)
		return VNET_EINVAL;
	*out = NULL;
	if (!opts || !opts->name || !opts->name[0] || !opts->os)
		return VNET_EINVAL;
	const struct vnet_vhost_os_ops *os = opts->os;
	if (!os->connect || !os->disconnect || !os->send || !os->recv || !os->peer ||
	    !os->event_create || !os->event_signal || !os->event_close || !os->mem_region ||
	    !os->destroy)
		return VNET_EINVAL;
	struct vnet_vhost *vu = vnet_hal_zalloc(sizeof(*vu));
	if (!vu)
		return VNET_ENOMEM;
	size_t k;
	for (k = 0; k + 1 < sizeof(vu->name) && opts->name[k]; k++)
		vu->name[k] = opts->name[k];
	vu->name[k] = '\0';
	vu->call_fds = opts->call_fds;
	vu->timeout_ms = opts->reply_timeout_ms ? opts->reply_timeout_ms : VU_REPLY_TIMEOUT_MS_DEFAULT;
	vu->os = os;
	vu->os_ctx = opts->os_ctx;
	vu->dev = opts->device;
	vu->dev_arg = opts->device_arg;
	for (unsigned i = 0; i < VU_MAX_VRINGS; i++)
		vu->vr[i].kickfd = vu->vr[i].callfd = -1;
	atomic_init(&vu->kick_errors, 0);
	*out = vu;
	return VNET_OK;
}

void vnet_vhost_destroy(struct vnet_vhost *vu)
{
	if (!vu)
		return;
	vu_forget_connection(vu);
	vu->os->destroy(vu->os_ctx);
	vnet_hal_free(vu);
}

int vnet_vhost_connect(struct vnet_vhost *vu, uint32_t timeout_ms)
{
	if (!vu)
		return VNET_EINVAL;
	if (vu->connected)
		return VNET_EBUSY;
	int rc = vu->os->connect(vu->os_ctx, timeout_ms);
	if (rc == VNET_OK)
		vu->connected = true;
	return rc;
}

void vnet_vhost_disconnect(struct vnet_vhost *vu)
{
	if (vu)
		vu_forget_connection(vu);
}

bool vnet_vhost_is_connected(const struct vnet_vhost *vu)
{
	return vu && vu->connected;
}

int vnet_vhost_call_fd(const struct vnet_vhost *vu, uint16_t index)
{
	return (vu && index < VU_MAX_VRINGS) ? vu->vr[index].callfd : -1;
}

void *vnet_vhost_os_ctx(const struct vnet_vhost *vu)
{
	return vu ? vu->os_ctx : NULL;
}

uint16_t vnet_vhost_queue_pairs(const struct vnet_vhost *vu)
{
	return vu ? vu->queue_pairs : 0;
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
	if (!vu || !vu->connected)
		return VNET_ENODEV;
	switch (vu->os->peer(vu->os_ctx)) {
	case VNET_VHOST_PEER_HUNGUP:
		VU_WARN(vu, "back-end hung up");
		vu_forget_connection(vu);
		return VNET_ENODEV;
	case VNET_VHOST_PEER_CLOSED:
		VU_WARN(vu, "back-end closed the connection");
		vu_forget_connection(vu);
		return VNET_ENODEV;
	case VNET_VHOST_PEER_DATA:
		/* Nothing is outstanding, so this is not a reply: the back-end
		 * speaks out of turn; we cannot resynchronise. */
		return vu_fail(vu, VNET_EPROTO, "unsolicited message from the back-end");
	default:
		return VNET_OK;
	}
}

/* Probe GET_CONFIG once: DPDK's vhost back-end, for one, may offer CONFIG
 * but answers with the empty "failed" reply when no handler exists. */
static void vu_probe_config(struct vnet_vhost *vu)
{
	vu->config_real = false;
	if (!vu_has_proto(vu, VHOST_USER_PROTOCOL_F_CONFIG))
		return;
	uint32_t plen = vu->dev && vu->dev->config_probe_len ? vu->dev->config_probe_len
							      : VU_CONFIG_PROBE_DEFAULT;
	if (plen > VHOST_USER_MAX_CONFIG_SIZE)
		plen = VHOST_USER_MAX_CONFIG_SIZE;
	size_t rlen;
	uint8_t tmp[VHOST_USER_MAX_CONFIG_SIZE];
	int rc = vu_transact(vu, vnet_vu_build_get_config(vu->buf, sizeof(vu->buf), 0, 0, plen), &rlen);
	if (rc != VNET_OK)
		return;
	enum vnet_vu_err why;
	rc = vnet_vu_parse_config(vu->rbuf, rlen, 0, plen, tmp, &why);
	if (rc == VNET_OK)
		vu->config_real = true;
	else if (rc != VNET_EIO)
		vu_bad_reply(vu, VHOST_USER_GET_CONFIG, rc, why);
	else
		VU_INFO(vu, "GET_CONFIG unsupported by the back-end: using a local config");
}

int vnet_vhost_handshake(struct vnet_vhost *vu)
{
	if (!vu || !vu->connected)
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
	if (!vu->connected)
		return VNET_EPROTO;

	vu->status = 0;
	vu->handshaken = true;
	VU_INFO(vu, "back-end features 0x%016llx, protocol features 0x%llx, %u queue pair(s), config %s",
		(unsigned long long)vu->backend_features, (unsigned long long)vu->protocol_features,
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
	/* The rest is the device layer's call: what its device type cannot
	 * do over vhost-user, what a local config can honestly answer. */
	if (vu->dev && vu->dev->offer)
		f = vu->dev->offer(vu->dev_arg, vu, f, vu->config_real);
	return f;
}

static int vu_get_device_features(void *ctx, uint64_t *features)
{
	struct vnet_vhost *vu = ctx;
	if (!vu->connected || !vu->handshaken)
		return VNET_ENODEV;
	*features = vu_offered(vu);
	return VNET_OK;
}

static int vu_set_driver_features(void *ctx, uint64_t features)
{
	struct vnet_vhost *vu = ctx;
	if (!vu->connected)
		return VNET_ENODEV;
	uint64_t wire = features;
	if (vu->dev && vu->dev->wire)
		wire = vu->dev->wire(vu->dev_arg, vu, features);
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
	if (!vu->connected) {
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
	int fd = -1;
	uint64_t base = 0, size = 0;
	int rc = vu->os->mem_region(vu->os_ctx, &fd, &base, &size);
	if (rc != VNET_OK)
		return rc;
	/* guest_phys_addr = userspace_addr = the driver's address of the
	 * region, so ring and buffer addresses (the driver's iovas) are valid
	 * "user addresses" for SET_VRING_ADDR. */
	struct vhost_user_mem_region r = {
		.guest_phys_addr = base,
		.memory_size = size,
		.userspace_addr = base,
		.mmap_offset = 0,
	};
	unsigned fl = vu_ack_flag(vu);
	return vu_send_noreply(vu, vnet_vu_build_set_mem_table(vu->buf, sizeof(vu->buf), fl, &r, 1), fl, &fd, 1);
}

static int vu_set_status(void *ctx, uint8_t status)
{
	struct vnet_vhost *vu = ctx;
	uint8_t added = (uint8_t)(status & ~vu->status);
	if (!vu->connected) {
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
	for (unsigned i = 0; i < VU_MAX_VRINGS && vu->connected; i++) {
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
	if (vu->connected && vu_has_proto(vu, VHOST_USER_PROTOCOL_F_RESET_DEVICE) && vu->status) {
		unsigned fl = vu_ack_flag(vu);
		vu_send_noreply(vu, vnet_vu_build_reset_device(vu->buf, sizeof(vu->buf), fl), fl, NULL, 0);
	}
	if (vu->connected && vu_has_proto(vu, VHOST_USER_PROTOCOL_F_STATUS) && vu->status) {
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
	if (!vu->connected)
		return VNET_ENODEV;
	if (!vu->config_real) {
		/* The back-end has no config space: the device layer's local
		 * one, or none at all. */
		if (vu->dev && vu->dev->read_config)
			return vu->dev->read_config(vu->dev_arg, vu, offset, buf, len);
		return VNET_ERANGE;
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
	if (!vu->connected)
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
	if (!vu->connected)
		return VNET_ENODEV;
	if (index >= VU_MAX_VRINGS || !vu->vr[index].programmed)
		return VNET_EINVAL;
	struct vu_vring *r = &vu->vr[index];
	if (r->kickfd < 0 && vu->os->event_create(vu->os_ctx, &r->kickfd) != VNET_OK)
		r->kickfd = -1;
	if (r->kickfd < 0)
		return VNET_ENOMEM;
	if (vu->call_fds && r->callfd < 0) {
		if (vu->os->event_create(vu->os_ctx, &r->callfd) != VNET_OK)
			r->callfd = -1;
		if (r->callfd < 0)
			return VNET_ENOMEM;
	}
	unsigned fl = vu_ack_flag(vu);
	int rc = vu_send_noreply(vu, vnet_vu_build_set_vring_kick(vu->buf, sizeof(vu->buf), fl, index, true), fl,
				 &r->kickfd, 1);
	if (rc != VNET_OK)
		return rc;
	/* Poll mode: "no fd" - the back-end then never signals (and saves the
	 * event write per burst); we never sleep on used buffers. */
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
	(void)data; /* NOTIFICATION_DATA is not carried by an event kick */
	if (index >= VU_MAX_VRINGS)
		return;
	int fd = vu->vr[index].kickfd;
	if (fd < 0)
		return;
	if (vu->os->event_signal(vu->os_ctx, fd) != VNET_OK)
		atomic_fetch_add(&vu->kick_errors, 1);
}

/* -------------------------------------------------------- multiqueue */

int vnet_vhost_enable_pairs(struct vnet_vhost *vu, uint16_t pairs)
{
	if (!vu || pairs == 0)
		return VNET_EINVAL;
	if (!vu->connected)
		return VNET_ENODEV;
	if (!vu_protocol_on(vu))
		return VNET_ENOTSUP;
	unsigned want = 2u * pairs, programmed = 0;
	for (unsigned i = 0; i < VU_MAX_VRINGS; i++)
		programmed += vu->vr[i].programmed && vu->vr[i].fds_sent;
	if (want > programmed)
		return VNET_EINVAL;
	unsigned fl = vu_ack_flag(vu);
	for (unsigned i = 0; i < VU_MAX_VRINGS; i++) {
		struct vu_vring *r = &vu->vr[i];
		bool on = i < want;
		if (!r->programmed || !r->fds_sent || r->enabled == on)
			continue;
		int rc = vu_send_noreply(vu, vnet_vu_build_set_vring_enable(vu->buf, sizeof(vu->buf), fl, i, on), fl,
					 NULL, 0);
		if (rc != VNET_OK)
			return rc;
		r->enabled = on;
	}
	return VNET_OK;
}

uint16_t vnet_vhost_enabled_rings(const struct vnet_vhost *vu)
{
	uint16_t n = 0;
	for (unsigned i = 0; vu && i < VU_MAX_VRINGS; i++)
		n += vu->vr[i].enabled;
	return n;
}

const struct vnet_transport_ops vnet_vhost_ops = {
	.name = "vhost-user",
	/* Ring features a vhost-user back-end implements itself.  Not
	 * carried: ACCESS_PLATFORM (would need IOTLB messages), NOTIFICATION_DATA
	 * (an event carries no data), RING_RESET (no per-queue reset
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
