/*
 * Fake transport: an in-memory virtio device behind struct
 * vnet_transport_ops, for the device-core unit tests (see
 * fake_transport.h for the behaviour and the switches).
 *
 * The spec rules it enforces on the driver are written from the device's
 * point of view, independently of src/core/device.c, so a driver bug shows
 * up as a recorded violation rather than as a mirror of itself.
 */
#include "fake_transport.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vnet/spec/virtio_config.h"
#include "vnet/spec/virtio_types.h"

static void violation(struct fake_transport *ft, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ft->last_violation, sizeof(ft->last_violation), fmt, ap);
	va_end(ap);
	ft->violations++;
}

static void record(struct fake_transport *ft, enum ft_event_type t, uint32_t a, uint64_t b)
{
	if (ft->n_events < FT_MAX_EVENTS)
		ft->events[ft->n_events++] = (struct ft_event){t, a, b};
}

void fake_transport_init(struct fake_transport *ft, uint64_t offered, uint16_t num_queues, uint16_t qmax)
{
	memset(ft, 0, sizeof(*ft));
	ft->offered = offered;
	ft->num_queues = num_queues;
	for (unsigned i = 0; i < num_queues && i < FT_MAX_QUEUES; i++)
		ft->q[i].max_size = qmax;
	ft->config_len = FT_CONFIG_MAX;
	ft->vector_limit = 0xffff;
	ft->config_vector = VNET_VECTOR_NONE;
}

void fake_transport_set_config(struct fake_transport *ft, uint32_t off, const void *data, uint32_t len)
{
	memcpy(ft->config + off, data, len);
	ft->generation++;
}

void fake_transport_set_config_alt(struct fake_transport *ft, uint32_t off, const void *data, uint32_t len)
{
	memcpy(ft->config_alt + off, data, len);
}

unsigned fake_transport_count(const struct fake_transport *ft, enum ft_event_type t)
{
	unsigned n = 0;
	for (unsigned i = 0; i < ft->n_events; i++)
		n += ft->events[i].type == t;
	return n;
}

int fake_transport_first(const struct fake_transport *ft, enum ft_event_type t)
{
	for (unsigned i = 0; i < ft->n_events; i++)
		if (ft->events[i].type == t)
			return (int)i;
	return -1;
}

int fake_transport_first_status_with(const struct fake_transport *ft, uint8_t bit)
{
	for (unsigned i = 0; i < ft->n_events; i++)
		if (ft->events[i].type == FT_EV_STATUS && (ft->events[i].a & bit))
			return (int)i;
	return -1;
}

/* ---- ops ---- */

static int ft_get_device_features(void *ctx, uint64_t *features)
{
	struct fake_transport *ft = ctx;
	*features = ft->offered;
	return VNET_OK;
}

static int ft_set_driver_features(void *ctx, uint64_t features)
{
	struct fake_transport *ft = ctx;
	record(ft, FT_EV_FEATURES, 0, features);
	/* Spec 3.1.1 step 4: after DRIVER, before FEATURES_OK. */
	if (!(ft->status & VIRTIO_STATUS_DRIVER) || (ft->status & VIRTIO_STATUS_FEATURES_OK))
		violation(ft, "driver features written in status 0x%02x", ft->status);
	ft->driver_features = features;
	ft->driver_features_written = true;
	return VNET_OK;
}

static int ft_get_status(void *ctx)
{
	struct fake_transport *ft = ctx;
	ft->status_reads++;
	if (ft->resetting) {
		if (ft->reset_never_completes || ft->reset_polls_left > 0) {
			if (!ft->reset_never_completes)
				ft->reset_polls_left--;
			/* Mid-reset the register still shows the old value. */
			return ft->status_before_reset ? ft->status_before_reset : VIRTIO_STATUS_ACKNOWLEDGE;
		}
		ft->resetting = false;
	}
	return ft->status | (ft->needs_reset ? VIRTIO_STATUS_DEVICE_NEEDS_RESET : 0);
}

static int ft_set_status(void *ctx, uint8_t v)
{
	struct fake_transport *ft = ctx;
	record(ft, FT_EV_STATUS, v, 0);
	if (ft->n_status_writes < FT_MAX_EVENTS)
		ft->status_writes[ft->n_status_writes++] = v;
	if (ft->resetting)
		violation(ft, "status 0x%02x written before reset completed", v);
	if (v == 0)
		violation(ft, "status 0 written through set_status (reset is a separate op)");
	/* Spec 2.1.1: the driver MUST NOT clear a status bit.  FEATURES_OK the
	 * device itself dropped is not the driver's to keep. */
	uint8_t cleared = (uint8_t)(ft->status & ~v);
	if (cleared)
		violation(ft, "driver cleared status bits 0x%02x (0x%02x -> 0x%02x)", cleared, ft->status, v);
	uint8_t added = (uint8_t)(v & ~ft->status);
	/* Spec 3.1.1 order: ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK. */
	if ((added & VIRTIO_STATUS_DRIVER) && !(v & VIRTIO_STATUS_ACKNOWLEDGE))
		violation(ft, "DRIVER set without ACKNOWLEDGE (0x%02x)", v);
	if ((added & VIRTIO_STATUS_FEATURES_OK) && !(v & VIRTIO_STATUS_DRIVER))
		violation(ft, "FEATURES_OK set without DRIVER (0x%02x)", v);
	if ((added & VIRTIO_STATUS_DRIVER_OK) && !(ft->status & VIRTIO_STATUS_FEATURES_OK))
		violation(ft, "DRIVER_OK set without FEATURES_OK accepted (0x%02x)", v);
	if ((added & VIRTIO_STATUS_FEATURES_OK) && !ft->driver_features_written)
		violation(ft, "FEATURES_OK set before driver features were written");
	if (added & VIRTIO_STATUS_FEATURES_OK) {
		/* Spec 2.2.2: the device may refuse a subset it cannot
		 * support by not keeping FEATURES_OK. */
		bool ok = !ft->refuse_features_ok && !(ft->driver_features & ~ft->offered) &&
			  (ft->driver_features & VNET_BIT(VIRTIO_F_VERSION_1));
		if (!ok)
			v &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
		if (ft->needs_reset_at_features_ok)
			ft->needs_reset = true;
	}
	ft->status = v;
	return VNET_OK;
}

static int ft_reset(void *ctx)
{
	struct fake_transport *ft = ctx;
	record(ft, FT_EV_RESET, 0, 0);
	ft->status_before_reset = ft->status;
	ft->status = 0;
	ft->resetting = true;
	ft->reset_polls_left = ft->reset_delay_polls;
	ft->needs_reset = false; /* spec 2.4.1: status reinitialised to 0 */
	ft->driver_features = 0;
	ft->driver_features_written = false;
	ft->config_vector = VNET_VECTOR_NONE;
	for (unsigned i = 0; i < FT_MAX_QUEUES; i++) {
		ft->q[i].configured = false;
		ft->q[i].enabled = false;
		ft->q[i].resetting = false;
	}
	return VNET_OK;
}

static uint32_t ft_config_generation(void *ctx)
{
	struct fake_transport *ft = ctx;
	ft->generation_reads++;
	if (ft->gen_never_settles)
		return ft->generation++;
	return ft->generation;
}

static int ft_read_config(void *ctx, uint32_t off, void *buf, uint32_t len)
{
	struct fake_transport *ft = ctx;
	ft->config_reads++;
	if ((uint64_t)off + len > ft->config_len)
		return VNET_ERANGE;
	uint8_t *out = buf;
	if (ft->config_tears > 0) {
		/* First half from the current version, then the device
		 * updates its config (generation bumps), second half from the
		 * new one: exactly the torn read spec 2.5.1 warns about. */
		ft->config_tears--;
		uint32_t half = len / 2;
		memcpy(out, ft->config + off, half);
		uint8_t tmp[FT_CONFIG_MAX];
		memcpy(tmp, ft->config, sizeof(tmp));
		memcpy(ft->config, ft->config_alt, sizeof(tmp));
		memcpy(ft->config_alt, tmp, sizeof(tmp));
		ft->generation++;
		memcpy(out + half, ft->config + off + half, len - half);
		return VNET_OK;
	}
	memcpy(out, ft->config + off, len);
	return VNET_OK;
}

static uint16_t ft_num_queues(void *ctx)
{
	struct fake_transport *ft = ctx;
	return ft->num_queues;
}

static uint16_t ft_queue_max_size(void *ctx, uint16_t index)
{
	struct fake_transport *ft = ctx;
	return index < FT_MAX_QUEUES ? ft->q[index].max_size : 0;
}

static int ft_setup_queue(void *ctx, const struct vnet_queue_setup *q)
{
	struct fake_transport *ft = ctx;
	record(ft, FT_EV_SETUP_QUEUE, q->index, 0);
	if (q->index >= FT_MAX_QUEUES || q->index >= ft->num_queues) {
		violation(ft, "setup of queue %u that does not exist", q->index);
		return VNET_EINVAL;
	}
	struct ft_queue *fq = &ft->q[q->index];
	bool between = (ft->status & VIRTIO_STATUS_FEATURES_OK) && !(ft->status & VIRTIO_STATUS_DRIVER_OK);
	bool after_qreset = (ft->status & VIRTIO_STATUS_DRIVER_OK) && !fq->enabled &&
			    (ft->driver_features & VNET_BIT(VIRTIO_F_RING_RESET));
	if (!between && !after_qreset)
		violation(ft, "queue %u set up in status 0x%02x", q->index, ft->status);
	if (q->size == 0 || q->size > fq->max_size) {
		violation(ft, "queue %u size %u above max %u", q->index, q->size, fq->max_size);
		return VNET_EINVAL;
	}
	if (q->vector != VNET_VECTOR_NONE && q->vector >= ft->vector_limit)
		return VNET_EIO; /* read back NO_VECTOR: could not map */
	fq->setup = *q;
	fq->configured = true;
	return VNET_OK;
}

static int ft_enable_queue(void *ctx, uint16_t index)
{
	struct fake_transport *ft = ctx;
	record(ft, FT_EV_ENABLE_QUEUE, index, 0);
	if (index >= FT_MAX_QUEUES || !ft->q[index].configured) {
		violation(ft, "enable of unconfigured queue %u", index);
		return VNET_EINVAL;
	}
	ft->q[index].enabled = true;
	return VNET_OK;
}

static int ft_reset_queue(void *ctx, uint16_t index)
{
	struct fake_transport *ft = ctx;
	record(ft, FT_EV_RESET_QUEUE, index, 0);
	if (index >= FT_MAX_QUEUES)
		return VNET_EINVAL;
	if (!(ft->driver_features & VNET_BIT(VIRTIO_F_RING_RESET)))
		violation(ft, "queue reset without RING_RESET negotiated");
	struct ft_queue *fq = &ft->q[index];
	if (!fq->resetting) {
		fq->resetting = true;
		fq->reset_polls_left = ft->queue_reset_polls;
	}
	if (ft->queue_reset_never_completes)
		return VNET_EAGAIN;
	if (fq->reset_polls_left > 0) {
		fq->reset_polls_left--;
		return VNET_EAGAIN;
	}
	fq->resetting = false;
	fq->configured = false;
	fq->enabled = false;
	return VNET_OK;
}

static void ft_notify(void *ctx, uint16_t index, uint32_t data)
{
	struct fake_transport *ft = ctx;
	record(ft, FT_EV_NOTIFY, index, data);
	if (!(ft->status & VIRTIO_STATUS_DRIVER_OK))
		violation(ft, "notify of queue %u before DRIVER_OK", index);
	if (index < FT_MAX_QUEUES) {
		ft->q[index].notifies++;
		ft->q[index].last_notify_data = data;
	}
	if (ft->on_notify)
		ft->on_notify(ft->on_notify_arg, index, data);
}

static int ft_set_config_vector(void *ctx, uint16_t vector)
{
	struct fake_transport *ft = ctx;
	record(ft, FT_EV_CONFIG_VECTOR, vector, 0);
	if (vector != VNET_VECTOR_NONE && vector >= ft->vector_limit) {
		ft->config_vector = VNET_VECTOR_NONE;
		return VNET_EIO;
	}
	ft->config_vector = vector;
	return VNET_OK;
}

const struct vnet_transport_ops fake_transport_ops = {
	.name = "fake",
	.transport_features = VNET_BIT(VIRTIO_F_INDIRECT_DESC) | VNET_BIT(VIRTIO_F_EVENT_IDX) |
			      VNET_BIT(VIRTIO_F_VERSION_1) | VNET_BIT(VIRTIO_F_ACCESS_PLATFORM) |
			      VNET_BIT(VIRTIO_F_RING_PACKED) | VNET_BIT(VIRTIO_F_IN_ORDER) |
			      VNET_BIT(VIRTIO_F_ORDER_PLATFORM) | VNET_BIT(VIRTIO_F_NOTIFICATION_DATA) |
			      VNET_BIT(VIRTIO_F_RING_RESET),
	.get_device_features = ft_get_device_features,
	.set_driver_features = ft_set_driver_features,
	.get_status = ft_get_status,
	.set_status = ft_set_status,
	.reset = ft_reset,
	.config_generation = ft_config_generation,
	.read_config = ft_read_config,
	.num_queues = ft_num_queues,
	.queue_max_size = ft_queue_max_size,
	.setup_queue = ft_setup_queue,
	.enable_queue = ft_enable_queue,
	.reset_queue = ft_reset_queue,
	.notify = ft_notify,
	.set_config_vector = ft_set_config_vector,
};
