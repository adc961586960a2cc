/*
 * The device lifecycle of spec 3.1 "Device Initialization", written once
 * above the transport ops, plus the other multi-step device interactions
 * every transport shares: the bounded wait for reset completion, the
 * generation-checked configuration read, queue setup checks, single-queue
 * reset, and the FAILED / DEVICE_NEEDS_RESET handling.
 *
 * What this file does not do: it knows no register layout (the transport
 * ops do), decides no features (the caller passes what it can honour;
 * features.c applies the spec's rules), and builds no rings (virtqueue.c).
 *
 * Trust: the device is untrusted.  Status is re-read where the spec makes
 * the device's answer matter (reset completion, FEATURES_OK, after
 * DRIVER_OK); queue sizes are checked against what the device reported;
 * every wait is bounded by vnet_hal_time_ns() or by a retry count.
 *
 * Status writes: the driver MUST NOT clear a status bit (spec 2.1.1), so
 * dev->status shadows every bit we have set and each write is
 * shadow | new bit; only reset() returns the register to 0.
 */
#include "device_priv.h"

#include "vnet/features.h"
#include "vnet/spec/virtio_config.h"
#include "vnet/vnet_hal.h"
#include "vnet_log.h"
#include "vnet_mem.h"
#include "vq_priv.h"

#define DEV_ERR(dev, fmt, ...) VNET_ERR("%s: " fmt, (dev)->name, ##__VA_ARGS__)
#define DEV_WARN(dev, fmt, ...) VNET_WARN("%s: " fmt, (dev)->name, ##__VA_ARGS__)
#define DEV_INFO(dev, fmt, ...) VNET_INFO("%s: " fmt, (dev)->name, ##__VA_ARGS__)

/* Log a feature list as names, split over as many lines as needed (a log
 * line is at most ~255 characters). */
static void log_feature_names(struct vnet_device *dev, enum vnet_log_level lvl, const char *what,
			      uint64_t features)
{
	char names[640];
	vnet_features_format_names(names, sizeof(names), features, dev->feature_name);
	const size_t chunk = 180;
	size_t len = 0;
	while (names[len])
		len++;
	size_t pos = 0;
	do {
		size_t n = len - pos;
		if (n > chunk) {
			n = chunk;
			/* break at a space so names stay whole */
			while (n > 1 && names[pos + n] != ' ')
				n--;
		}
		char part[200];
		size_t i;
		for (i = 0; i < n && i + 1 < sizeof(part); i++)
			part[i] = names[pos + i];
		part[i] = '\0';
		vnet_log(lvl, "%s: %s: %s", dev->name, what, part);
		pos += n;
		while (pos < len && names[pos] == ' ')
			pos++;
	} while (pos < len);
}

int vnet_device_init(struct vnet_device *dev, const struct vnet_transport_ops *ops, void *ctx,
		     const struct vnet_device_opts *opts)
{
	if (!dev)
		return VNET_EINVAL;
	memset(dev, 0, sizeof(*dev));
	if (!ops || !ops->get_device_features || !ops->set_driver_features || !ops->get_status ||
	    !ops->set_status || !ops->reset || !ops->config_generation || !ops->read_config ||
	    !ops->num_queues || !ops->queue_max_size || !ops->setup_queue || !ops->notify)
		return VNET_EINVAL;
	dev->ops = ops;
	dev->ctx = ctx;
	dev->reset_timeout_ns = VNET_DEVICE_RESET_TIMEOUT_NS_DEFAULT;
	dev->queue_reset_timeout_ns = VNET_DEVICE_RESET_TIMEOUT_NS_DEFAULT;
	dev->config_retries = VNET_DEVICE_CONFIG_RETRIES_DEFAULT;
	const char *name = ops->name ? ops->name : "virtio";
	if (opts) {
		if (opts->reset_timeout_ns)
			dev->reset_timeout_ns = opts->reset_timeout_ns;
		if (opts->queue_reset_timeout_ns)
			dev->queue_reset_timeout_ns = opts->queue_reset_timeout_ns;
		if (opts->config_retries)
			dev->config_retries = opts->config_retries;
		if (opts->name)
			name = opts->name;
		dev->rules = opts->rules;
		dev->nrules = opts->rules ? opts->nrules : 0;
		dev->known = opts->known;
		dev->feature_name = opts->feature_name;
	}
	/* No device-type mask given: every device-type bit the caller wants
	 * (the device-independent range stays the core's to filter). */
	if (!dev->known)
		dev->known = ~VNET_FEATURES_RESERVED_RANGE;

	size_t i;
	for (i = 0; i + 1 < sizeof(dev->name) && name[i]; i++)
		dev->name[i] = name[i];
	dev->name[i] = '\0';
	dev->state = VNET_DEV_BOUND;
	return VNET_OK;
}

int vnet_device_create(const struct vnet_transport_ops *ops, void *ctx, const struct vnet_device_opts *opts,
		       struct vnet_device **out)
{
	if (!out)
		return VNET_EINVAL;
	*out = 0;
	struct vnet_device *dev = vnet_hal_zalloc(sizeof(*dev));
	if (!dev)
		return VNET_ENOMEM;
	int rc = vnet_device_init(dev, ops, ctx, opts);
	if (rc != VNET_OK) {
		vnet_hal_free(dev);
		return rc;
	}
	*out = dev;
	return VNET_OK;
}

void vnet_device_destroy(struct vnet_device *dev)
{
	/* No device access: the owner reset it (or gave up on it) first. */
	vnet_hal_free(dev);
}

/* Set one more status bit, keeping every bit set before (spec 2.1.1). */
static int status_add(struct vnet_device *dev, uint8_t bit)
{
	uint8_t v = (uint8_t)(dev->status | bit);
	int rc = dev->ops->set_status(dev->ctx, v);
	if (rc < 0) {
		DEV_ERR(dev, "writing device status 0x%02x failed: %s", v, vnet_strerror(rc));
		return rc;
	}
	dev->status = v;
	return VNET_OK;
}

void vnet_device_fail(struct vnet_device *dev)
{
	if (!dev || dev->state == VNET_DEV_UNBOUND)
		return;
	/* Spec 2.1 / 3.1.1: FAILED tells the device we gave up; best effort,
	 * there is nothing more to do if even this write fails. */
	uint8_t v = (uint8_t)(dev->status | VIRTIO_STATUS_FAILED);
	if (dev->ops->set_status(dev->ctx, v) == VNET_OK)
		dev->status = v;
	dev->state = VNET_DEV_FAILED;
	dev->features = 0;
}

int vnet_device_reset(struct vnet_device *dev)
{
	if (!dev || dev->state == VNET_DEV_UNBOUND)
		return VNET_EINVAL;
	dev->features = 0;
	dev->offered = 0;
	dev->status = 0;
	dev->state = VNET_DEV_BOUND;

	/* Spec 2.4: the reset mechanism is the transport's; completion is
	 * status reading back 0 (spec 2.4.2 "Driver Requirements: Device
	 * Reset").  Until then the device may still touch the rings, so the
	 * caller must not free them before this returns VNET_OK. */
	int rc = dev->ops->reset(dev->ctx);
	if (rc < 0) {
		DEV_ERR(dev, "starting device reset failed: %s", vnet_strerror(rc));
		return rc;
	}
	uint64_t start = vnet_hal_time_ns();
	for (;;) {
		int st = dev->ops->get_status(dev->ctx);
		if (st < 0) {
			DEV_ERR(dev, "reading device status during reset failed: %s", vnet_strerror(st));
			return st;
		}
		if (st == 0)
			return VNET_OK;
		if (vnet_hal_time_ns() - start >= dev->reset_timeout_ns) {
			DEV_ERR(dev, "device reset did not complete: status still 0x%02x after %llu ms",
				(unsigned)st, (unsigned long long)(dev->reset_timeout_ns / 1000000u));
			return VNET_ETIMEDOUT;
		}
		vnet_hal_relax();
	}
}

int vnet_device_probe(struct vnet_device *dev)
{
	if (!dev || dev->state == VNET_DEV_UNBOUND)
		return VNET_EINVAL;

	/* Spec 3.1.1 step 1: reset the device.  If the reset never
	 * completes, FAILED is not written: a device still resetting is in
	 * no state to take status writes; only a later reset can help. */
	int rc = vnet_device_reset(dev);
	if (rc < 0) {
		dev->state = VNET_DEV_FAILED;
		return rc;
	}
	/* Step 2: ACKNOWLEDGE, the OS has noticed the device. */
	rc = status_add(dev, VIRTIO_STATUS_ACKNOWLEDGE);
	if (rc < 0)
		goto err_fail;
	/* Step 3: DRIVER, the OS knows how to drive it. */
	rc = status_add(dev, VIRTIO_STATUS_DRIVER);
	if (rc < 0)
		goto err_fail;
	/* Step 4, first half: read the device feature bits. */
	uint64_t offered = 0;
	rc = dev->ops->get_device_features(dev->ctx, &offered);
	if (rc < 0) {
		DEV_ERR(dev, "reading device features failed: %s", vnet_strerror(rc));
		goto err_fail;
	}
	dev->offered = offered;
	/* Spec 2.2.2: the device MUST NOT offer a feature whose requirements
	 * it does not offer.  Not fatal: the closure in negotiate() drops the
	 * orphan; worth a warning because it shows a buggy device. */
	unsigned bad = 0;
	if (vnet_features_validate(dev->rules, dev->nrules, offered, true, &bad) != VNET_OK) {
		const char *bn = dev->feature_name ? dev->feature_name(bad) : vnet_feature_common_name(bad);
		DEV_WARN(dev, "device offers %s (bit %u) without the features it requires (spec 2.2.2); "
			      "it will not be accepted",
			 bn ? bn : "?", bad);
	}
	dev->state = VNET_DEV_PROBED;
	return VNET_OK;

err_fail:
	vnet_device_fail(dev);
	return rc;
}

int vnet_device_negotiate(struct vnet_device *dev, uint64_t wanted)
{
	if (!dev || dev->state == VNET_DEV_UNBOUND)
		return VNET_EINVAL;
	int rc;
	if (dev->state != VNET_DEV_PROBED) {
		rc = vnet_device_probe(dev);
		if (rc < 0)
			return rc;
	}

	/* Step 4, second half: the subset of offered features the driver
	 * understands, closed under the dependency rules (features.c). */
	uint64_t accepted = 0;
	bool legacy = dev->ops->legacy && !(dev->offered & VNET_BIT(VIRTIO_F_VERSION_1));
	if (legacy)
		rc = vnet_features_negotiate_legacy(dev->offered, wanted, dev->ops->transport_features, dev->known,
						    dev->rules, dev->nrules, &accepted);
	else
		rc = vnet_features_negotiate(dev->offered, wanted, dev->ops->transport_features, dev->known,
					     dev->rules, dev->nrules, &accepted);
	if (rc == VNET_ENOTSUP) {
		DEV_ERR(dev, "device does not offer VIRTIO_F_VERSION_1 (offered 0x%016llx): "
			     "legacy devices are not supported",
			(unsigned long long)dev->offered);
		goto err_fail;
	}
	if (rc < 0)
		goto err_fail;
	rc = dev->ops->set_driver_features(dev->ctx, accepted);
	if (rc < 0) {
		DEV_ERR(dev, "writing driver features failed: %s", vnet_strerror(rc));
		goto err_fail;
	}

	if (legacy) {
		/* §3.1.2 legacy: no FEATURES_OK handshake; the features are
		 * final once written. */
		dev->features = accepted;
		dev->state = VNET_DEV_FEATURES_OK;
		return VNET_OK;
	}

	/* Step 5: FEATURES_OK; no new feature bits after this. */
	rc = status_add(dev, VIRTIO_STATUS_FEATURES_OK);
	if (rc < 0)
		goto err_fail;

	/* Step 6: re-read status; if FEATURES_OK did not stick the device
	 * does not support this subset and is unusable (spec 3.1.1). */
	int st = dev->ops->get_status(dev->ctx);
	if (st < 0) {
		rc = st;
		DEV_ERR(dev, "re-reading device status failed: %s", vnet_strerror(rc));
		goto err_fail;
	}
	if (!(st & VIRTIO_STATUS_FEATURES_OK)) {
		DEV_ERR(dev, "device refused FEATURES_OK (status 0x%02x) for features 0x%016llx",
			(unsigned)st, (unsigned long long)accepted);
		log_feature_names(dev, VNET_LOG_ERR, "refused feature set", accepted);
		rc = VNET_EIO;
		goto err_fail;
	}
	if (st & VIRTIO_STATUS_DEVICE_NEEDS_RESET) {
		DEV_ERR(dev, "device set DEVICE_NEEDS_RESET during feature negotiation (status 0x%02x)",
			(unsigned)st);
		rc = VNET_EIO;
		goto err_fail;
	}
	dev->features = accepted;
	dev->state = VNET_DEV_FEATURES_OK;
	return VNET_OK;

err_fail:
	vnet_device_fail(dev);
	return rc;
}

uint64_t vnet_device_offered(const struct vnet_device *dev)
{
	return dev ? dev->offered : 0;
}

uint64_t vnet_device_features(const struct vnet_device *dev)
{
	return dev ? dev->features : 0;
}

bool vnet_device_has_feature(const struct vnet_device *dev, unsigned bit)
{
	return dev && vnet_features_has(dev->features, bit);
}

int vnet_device_read_config(struct vnet_device *dev, uint32_t offset, void *buf, uint32_t len)
{
	if (!dev || dev->state < VNET_DEV_PROBED || (!buf && len))
		return VNET_EINVAL;
	if (len == 0)
		return VNET_OK;
	if ((uint64_t)offset + len > 0xffffffffull)
		return VNET_ERANGE;

	/* Spec 2.5.1: reads wider than 32 bits or across fields are not
	 * atomic; retry until the generation is the same before and after.
	 * A device whose generation never settles is broken: bounded. */
	for (unsigned attempt = 0; attempt < dev->config_retries; attempt++) {
		uint32_t before = dev->ops->config_generation(dev->ctx);
		int rc = dev->ops->read_config(dev->ctx, offset, buf, len);
		if (rc < 0)
			return rc;
		uint32_t after = dev->ops->config_generation(dev->ctx);
		if (after == before)
			return VNET_OK;
		dev->config_retries_seen++;
	}
	DEV_ERR(dev, "config generation did not settle in %u reads (offset %u, len %u)",
		dev->config_retries, offset, len);
	return VNET_ETIMEDOUT;
}

uint16_t vnet_device_num_queues(struct vnet_device *dev)
{
	if (!dev || dev->state == VNET_DEV_UNBOUND)
		return 0;
	return dev->ops->num_queues(dev->ctx);
}

uint16_t vnet_device_queue_max_size(struct vnet_device *dev, uint16_t index)
{
	if (!dev || dev->state == VNET_DEV_UNBOUND)
		return 0;
	uint16_t n = dev->ops->num_queues(dev->ctx);
	if (n && index >= n)
		return 0;
	return dev->ops->queue_max_size(dev->ctx, index);
}

int vnet_device_setup_queue_raw(struct vnet_device *dev, const struct vnet_queue_setup *q,
				bool layout_packed)
{
	if (!dev || !q)
		return VNET_EINVAL;
	/* Spec 3.1.1 step 7 happens between FEATURES_OK and DRIVER_OK; after
	 * DRIVER_OK only a queue reset with RING_RESET (spec 2.6.1) allows
	 * re-programming a queue. */
	bool ok_state = dev->state == VNET_DEV_FEATURES_OK ||
			(dev->state == VNET_DEV_LIVE &&
			 vnet_features_has(dev->features, VIRTIO_F_RING_RESET));
	if (!ok_state) {
		DEV_ERR(dev, "queue %u set up outside feature negotiation / queue reset", q->index);
		return VNET_EINVAL;
	}
	if (layout_packed != vnet_features_has(dev->features, VIRTIO_F_RING_PACKED)) {
		DEV_ERR(dev, "queue %u is %s but RING_PACKED was %snegotiated", q->index,
			layout_packed ? "packed" : "split", layout_packed ? "not " : "");
		return VNET_EINVAL;
	}
	uint16_t n = dev->ops->num_queues(dev->ctx);
	if (n && q->index >= n) {
		DEV_ERR(dev, "queue %u does not exist (device has %u)", q->index, n);
		return VNET_ENODEV;
	}
	uint16_t max = dev->ops->queue_max_size(dev->ctx, q->index);
	if (max == 0) {
		DEV_ERR(dev, "queue %u is not available (max size 0)", q->index);
		return VNET_ENODEV;
	}
	if (q->size == 0 || q->size > max) {
		DEV_ERR(dev, "queue %u: size %u not in 1..%u (device maximum)", q->index, q->size, max);
		return VNET_EINVAL;
	}
	/* Spec 2.7: a split queue's size is a power of two. */
	if (!layout_packed && (q->size & (q->size - 1u))) {
		DEV_ERR(dev, "queue %u: split ring size %u is not a power of two", q->index, q->size);
		return VNET_EINVAL;
	}
	int rc = dev->ops->setup_queue(dev->ctx, q);
	if (rc < 0) {
		DEV_ERR(dev, "queue %u setup failed: %s", q->index, vnet_strerror(rc));
		return rc;
	}
	if (dev->ops->enable_queue) {
		rc = dev->ops->enable_queue(dev->ctx, q->index);
		if (rc < 0) {
			DEV_ERR(dev, "queue %u enable failed: %s", q->index, vnet_strerror(rc));
			return rc;
		}
	}
	return VNET_OK;
}

int vnet_device_setup_queue(struct vnet_device *dev, struct vnet_vq *vq, uint16_t vector)
{
	if (!dev || !vq)
		return VNET_EINVAL;
	struct vnet_queue_setup q;
	memset(&q, 0, sizeof(q));
	q.index = vnet_vq_index(vq);
	q.size = vnet_vq_size(vq);
	q.vector = vector;
	vnet_vq_ring_addrs(vq, &q.desc, &q.driver, &q.device);
	return vnet_device_setup_queue_raw(dev, &q, vnet_vq_layout(vq) == VNET_VQ_PACKED);
}

int vnet_device_reset_queue(struct vnet_device *dev, uint16_t index)
{
	if (!dev || (dev->state != VNET_DEV_FEATURES_OK && dev->state != VNET_DEV_LIVE))
		return VNET_EINVAL;
	if (!vnet_features_has(dev->features, VIRTIO_F_RING_RESET) || !dev->ops->reset_queue)
		return VNET_ENOTSUP;
	/* Spec 2.6.1.1: the queue is reset once the device reports it so;
	 * until then it may still use the ring.  Bounded poll. */
	uint64_t start = vnet_hal_time_ns();
	for (;;) {
		int rc = dev->ops->reset_queue(dev->ctx, index);
		if (rc == VNET_OK)
			return VNET_OK;
		if (rc != VNET_EAGAIN) {
			DEV_ERR(dev, "queue %u reset failed: %s", index, vnet_strerror(rc));
			return rc;
		}
		if (vnet_hal_time_ns() - start >= dev->queue_reset_timeout_ns) {
			DEV_ERR(dev, "queue %u reset did not complete within %llu ms", index,
				(unsigned long long)(dev->queue_reset_timeout_ns / 1000000u));
			return VNET_ETIMEDOUT;
		}
		vnet_hal_relax();
	}
}

int vnet_device_set_config_vector(struct vnet_device *dev, uint16_t vector)
{
	if (!dev || dev->state == VNET_DEV_UNBOUND)
		return VNET_EINVAL;
	if (!dev->ops->set_config_vector)
		return VNET_ENOTSUP;
	int rc = dev->ops->set_config_vector(dev->ctx, vector);
	if (rc < 0)
		DEV_ERR(dev, "config vector %u not accepted: %s", vector, vnet_strerror(rc));
	return rc;
}

int vnet_device_driver_ok(struct vnet_device *dev)
{
	if (!dev || dev->state != VNET_DEV_FEATURES_OK)
		return VNET_EINVAL;
	/* Spec 3.1.1 step 8: DRIVER_OK, the device is live. */
	int rc = status_add(dev, VIRTIO_STATUS_DRIVER_OK);
	if (rc < 0)
		goto err_fail;
	/* Not required by the spec, but cheap: a device that already gave up
	 * (NEEDS_RESET) or forgot FEATURES_OK is better reported now than as
	 * silent queues later. */
	int st = dev->ops->get_status(dev->ctx);
	if (st < 0) {
		rc = st;
		goto err_fail;
	}
	/* A legacy device never had FEATURES_OK written (§3.1.2 legacy). */
	bool legacy = dev->ops->legacy && !(dev->features & VNET_BIT(VIRTIO_F_VERSION_1));
	if ((st & VIRTIO_STATUS_DEVICE_NEEDS_RESET) || (!legacy && !(st & VIRTIO_STATUS_FEATURES_OK))) {
		DEV_ERR(dev, "device not usable after DRIVER_OK (status 0x%02x)", (unsigned)st);
		rc = VNET_EIO;
		goto err_fail;
	}
	dev->state = VNET_DEV_LIVE;
	return VNET_OK;

err_fail:
	vnet_device_fail(dev);
	return rc;
}

void vnet_device_notify(struct vnet_device *dev, struct vnet_vq *vq)
{
	/* Spec 3.1.1: no available-buffer notification before DRIVER_OK. */
	if (dev->state != VNET_DEV_LIVE)
		return;
	/* VirtIO 1.2 §2.7.13 / §2.8.21: the ring writes kick_prepare
	 * published reach the device before the doorbell does, on every
	 * transport (an MMIO store, a port write, an eventfd). */
	vq_io_wmb();
	dev->ops->notify(dev->ctx, vnet_vq_index(vq), vnet_vq_notify_data(vq));
}

int vnet_device_status(struct vnet_device *dev)
{
	if (!dev || dev->state == VNET_DEV_UNBOUND)
		return VNET_EINVAL;
	return dev->ops->get_status(dev->ctx);
}

bool vnet_device_needs_reset(struct vnet_device *dev)
{
	int st = vnet_device_status(dev);
	if (st < 0)
		return true;
	return (st & VIRTIO_STATUS_DEVICE_NEEDS_RESET) != 0;
}

bool vnet_device_is_live(const struct vnet_device *dev)
{
	return dev && dev->state == VNET_DEV_LIVE;
}

const char *vnet_device_name(const struct vnet_device *dev)
{
	return dev ? dev->name : "";
}
