/*
 * virtio-mmio register front-end for unit tests: a version-2 register
 * window (VirtIO 1.2 §4.2.2) in front of any device back-end that speaks
 * struct vnet_transport_ops (the fake transport, the virtio-net device
 * model), so the real MMIO transport can drive the existing device models
 * register by register.
 *
 * What it does:
 *  - owns a window of memory (the address range handed to vnet_mmio_probe)
 *    and answers the transport's accesses to it through the hooks the
 *    transport is compiled with (VNET_MMIO_TEST_HOOKS, see
 *    src/transport/mmio/virtio_mmio.c): the control registers with their
 *    selector semantics (DeviceFeaturesSel, DriverFeaturesSel, QueueSel),
 *    Status (0 = reset of the back-end), QueueReady (1 = the back-end's
 *    setup_queue + enable_queue with the latched size and addresses),
 *    QueueNotify (the back-end's notify), InterruptStatus/ACK,
 *    ConfigGeneration and the configuration space at 0x100 (the back-end's
 *    config_generation and read_config);
 *  - checks the driver side of §4.2.2.2 on every access: control registers
 *    only 32 bits wide and aligned, no read of a write-only register, no
 *    write to a read-only one, no access outside the described registers,
 *    no queue register written while QueueReady is 1, DeviceFeaturesSel /
 *    DriverFeaturesSel written before the feature words, no undefined
 *    InterruptACK bits, no configuration write.  Each breach counts in
 *    `bad` with the last described in `last_bad`; tests assert bad == 0;
 *  - lies on request: MagicValue, Version, DeviceID and VendorID are plain
 *    fields; qmax_force overrides QueueNumMax; queue_ready_stuck_at makes
 *    QueueReady read a fixed value; status_extra ORs bits into Status;
 *    all_ones makes every read return 0xffffffff (a vanished device).
 * What it does not do: interrupts on its own (the test sets int_status),
 *  shared memory, legacy registers.  QueueReset (RING_RESET, §4.2.2) is
 *  passed to the back-end's reset_queue: it reads 1 until the back-end
 *  completes, then 0 with QueueReady 0 (fmm_queue_reset_*).
 *
 * Not thread-safe: one test thread drives it.  Up to FMM_MAX windows may be
 * live at once (the hooks find the window an address belongs to).
 */
#ifndef VNET_TEST_FAKE_MMIO_H
#define VNET_TEST_FAKE_MMIO_H

#include <stdbool.h>
#include <stdint.h>

#include "vnet/transport.h"

/* Accesses that hit no live window (a wild pointer); tests assert 0. */
extern unsigned fmm_stray_accesses;

#define FMM_MAX 4
#define FMM_QUEUES 16
#define FMM_WINDOW_DEFAULT 0x200u

struct fmm_queue {
	uint32_t num, ready;
	uint32_t desc[2], driver[2], device[2];
	bool num_written;
	bool resetting;                 /* QueueReset written 1, the back-end not done yet */
};

struct fake_mmio {
	/* ---- the device behind the window ---- */
	const struct vnet_transport_ops *dev_ops;
	void *dev_ctx;

	/* ---- identity (tests may set anything) ---- */
	uint32_t magic, version, device_id, vendor_id;

	/* ---- misbehaviour switches ---- */
	bool all_ones;                  /* every read returns 0xffffffff, writes vanish */
	int64_t qmax_force;             /* >= 0: QueueNumMax reads this for every queue */
	int64_t queue_ready_stuck_at;   /* >= 0: QueueReady reads this whatever was written */
	uint32_t status_extra;          /* ORed into every Status read */

	/* ---- interrupt (the test raises, the driver acknowledges) ---- */
	uint32_t int_status;

	/* ---- register state ---- */
	uint8_t *window;
	uint32_t window_len;
	uint32_t dfsel, drvfsel, qsel;
	bool dfsel_written, drvfsel_written;
	uint32_t drv_features[2];
	bool features_sent;             /* handed to the back-end for this negotiation */
	struct fmm_queue q[FMM_QUEUES];

	/* ---- records ---- */
	unsigned reads, writes;
	unsigned notifies;
	uint32_t last_notify;
	unsigned acks;
	uint32_t last_ack;
	unsigned resets;
	unsigned queue_resets;          /* QueueReset completions */
	unsigned bad;
	char last_bad[200];
};

/*
 * Put a version-2 window of window_len bytes (0: FMM_WINDOW_DEFAULT) in
 * front of (ops, ctx), as device type device_id (magic "virt", vendor
 * 0x554d4551 "QEMU").  Returns 0, or -1 (out of memory, too many live).
 */
int fmm_init(struct fake_mmio *f, const struct vnet_transport_ops *ops, void *ctx,
	     uint32_t device_id, uint32_t window_len);
void fmm_fini(struct fake_mmio *f);

/* The address range to hand to vnet_mmio_probe(). */
static inline volatile void *fmm_base(struct fake_mmio *f)
{
	return f->window;
}

#endif
