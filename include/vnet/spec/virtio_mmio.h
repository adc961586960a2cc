/*
 * virtio-mmio register layout, version 2 (VirtIO 1.2 §4.2 "Virtio Over
 * MMIO", transport-mmio.tex): the magic value, the version numbers, the
 * control registers of §4.2.2 by offset, the InterruptStatus bits and
 * where the device-specific configuration space starts.
 *
 * Only layouts and constants are here; src/transport/mmio/virtio_mmio.c is
 * what reads them, and it checks every value before use.  Every control
 * register is a 32-bit little-endian word accessed with 32-bit aligned
 * loads and stores (§4.2.2.2).  struct virtio_mmio_regs names the words at
 * their offsets so that the offsets the spec fixes are checked at compile
 * time: a packing mistake fails the build rather than pointing a write at
 * the wrong register.  The legacy (version 1) layout of §4.2.4 is named
 * only by its version number: the transport refuses such devices.  The
 * shared-memory registers (SHMSel...) are listed for the layout; this
 * driver never touches them (§4.2.3.1.1: drivers not expecting shared
 * memory MUST NOT use them).
 */
#ifndef VNET_SPEC_VIRTIO_MMIO_H
#define VNET_SPEC_VIRTIO_MMIO_H

#include <stddef.h>
#include <stdint.h>

#include "virtio_types.h"

/* MagicValue: "virt" in little-endian byte order (§4.2.2). */
#define VIRTIO_MMIO_MAGIC          0x74726976u
/* Version: 2 for virtio 1.x devices, 1 for legacy ones (§4.2.2, §4.2.4). */
#define VIRTIO_MMIO_VERSION        2u
#define VIRTIO_MMIO_VERSION_LEGACY 1u

/* Control register offsets (§4.2.2, table "MMIO Device Register Layout");
 * R = read-only, W = write-only, RW. */
#define VIRTIO_MMIO_MAGIC_VALUE         0x000u /* R */
#define VIRTIO_MMIO_VERSION_REG         0x004u /* R */
#define VIRTIO_MMIO_DEVICE_ID           0x008u /* R: virtio device type, 0 = placeholder */
#define VIRTIO_MMIO_VENDOR_ID           0x00cu /* R */
#define VIRTIO_MMIO_DEVICE_FEATURES     0x010u /* R: 32 bits selected by DeviceFeaturesSel */
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014u /* W */
#define VIRTIO_MMIO_DRIVER_FEATURES     0x020u /* W */
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024u /* W */
#define VIRTIO_MMIO_QUEUE_SEL           0x030u /* W */
#define VIRTIO_MMIO_QUEUE_NUM_MAX       0x034u /* R: QueueSizeMax, 0 = queue not available */
#define VIRTIO_MMIO_QUEUE_NUM           0x038u /* W: QueueSize */
#define VIRTIO_MMIO_QUEUE_READY         0x044u /* RW */
#define VIRTIO_MMIO_QUEUE_NOTIFY        0x050u /* W */
#define VIRTIO_MMIO_INTERRUPT_STATUS    0x060u /* R */
#define VIRTIO_MMIO_INTERRUPT_ACK       0x064u /* W */
#define VIRTIO_MMIO_STATUS              0x070u /* RW: device status; writing 0 resets */
#define VIRTIO_MMIO_QUEUE_DESC_LOW      0x080u /* W */
#define VIRTIO_MMIO_QUEUE_DESC_HIGH     0x084u /* W */
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW    0x090u /* W: driver (avail) area */
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH   0x094u /* W */
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW    0x0a0u /* W: device (used) area */
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH   0x0a4u /* W */
#define VIRTIO_MMIO_SHM_SEL             0x0acu /* W (unused here) */
#define VIRTIO_MMIO_SHM_LEN_LOW         0x0b0u /* R (unused here) */
#define VIRTIO_MMIO_SHM_LEN_HIGH        0x0b4u
#define VIRTIO_MMIO_SHM_BASE_LOW        0x0b8u
#define VIRTIO_MMIO_SHM_BASE_HIGH       0x0bcu
#define VIRTIO_MMIO_QUEUE_RESET         0x0c0u /* RW, with VIRTIO_F_RING_RESET */
#define VIRTIO_MMIO_CONFIG_GENERATION   0x0fcu /* R */
#define VIRTIO_MMIO_CONFIG              0x100u /* device-specific configuration space */

/* InterruptStatus / InterruptACK bits (§4.2.2); other bits are undefined
 * and the driver MUST ignore them and MUST NOT acknowledge them
 * (§4.2.2.2). */
#define VIRTIO_MMIO_INT_VRING  0x1u /* used buffer notification */
#define VIRTIO_MMIO_INT_CONFIG 0x2u /* configuration change notification */
#define VIRTIO_MMIO_INT_MASK   (VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG)

/* The control registers as one structure (every field a vnet_le32). */
struct virtio_mmio_regs {
	vnet_le32 magic_value;          /* 0x000 */
	vnet_le32 version;              /* 0x004 */
	vnet_le32 device_id;            /* 0x008 */
	vnet_le32 vendor_id;            /* 0x00c */
	vnet_le32 device_features;      /* 0x010 */
	vnet_le32 device_features_sel;  /* 0x014 */
	vnet_le32 reserved0[2];
	vnet_le32 driver_features;      /* 0x020 */
	vnet_le32 driver_features_sel;  /* 0x024 */
	vnet_le32 reserved1[2];         /* 0x028: legacy GuestPageSize */
	vnet_le32 queue_sel;            /* 0x030 */
	vnet_le32 queue_num_max;        /* 0x034 */
	vnet_le32 queue_num;            /* 0x038 */
	vnet_le32 reserved2[2];         /* 0x03c, 0x040: legacy QueueAlign, QueuePFN */
	vnet_le32 queue_ready;          /* 0x044 */
	vnet_le32 reserved3[2];
	vnet_le32 queue_notify;         /* 0x050 */
	vnet_le32 reserved4[3];
	vnet_le32 interrupt_status;     /* 0x060 */
	vnet_le32 interrupt_ack;        /* 0x064 */
	vnet_le32 reserved5[2];
	vnet_le32 status;               /* 0x070 */
	vnet_le32 reserved6[3];
	vnet_le32 queue_desc_low;       /* 0x080 */
	vnet_le32 queue_desc_high;      /* 0x084 */
	vnet_le32 reserved7[2];
	vnet_le32 queue_driver_low;     /* 0x090 */
	vnet_le32 queue_driver_high;    /* 0x094 */
	vnet_le32 reserved8[2];
	vnet_le32 queue_device_low;     /* 0x0a0 */
	vnet_le32 queue_device_high;    /* 0x0a4 */
	vnet_le32 reserved9;
	vnet_le32 shm_sel;              /* 0x0ac */
	vnet_le32 shm_len_low;          /* 0x0b0 */
	vnet_le32 shm_len_high;         /* 0x0b4 */
	vnet_le32 shm_base_low;         /* 0x0b8 */
	vnet_le32 shm_base_high;        /* 0x0bc */
	vnet_le32 queue_reset;          /* 0x0c0 */
	vnet_le32 reserved10[14];
	vnet_le32 config_generation;    /* 0x0fc */
	/* 0x100: device-specific configuration space */
};

#define VIRTIO_MMIO_REG_CHECK(field, off) \
	_Static_assert(offsetof(struct virtio_mmio_regs, field) == (off), "virtio-mmio: " #field)
VIRTIO_MMIO_REG_CHECK(magic_value, VIRTIO_MMIO_MAGIC_VALUE);
VIRTIO_MMIO_REG_CHECK(version, VIRTIO_MMIO_VERSION_REG);
VIRTIO_MMIO_REG_CHECK(device_id, VIRTIO_MMIO_DEVICE_ID);
VIRTIO_MMIO_REG_CHECK(vendor_id, VIRTIO_MMIO_VENDOR_ID);
VIRTIO_MMIO_REG_CHECK(device_features, VIRTIO_MMIO_DEVICE_FEATURES);
VIRTIO_MMIO_REG_CHECK(device_features_sel, VIRTIO_MMIO_DEVICE_FEATURES_SEL);
VIRTIO_MMIO_REG_CHECK(driver_features, VIRTIO_MMIO_DRIVER_FEATURES);
VIRTIO_MMIO_REG_CHECK(driver_features_sel, VIRTIO_MMIO_DRIVER_FEATURES_SEL);
VIRTIO_MMIO_REG_CHECK(queue_sel, VIRTIO_MMIO_QUEUE_SEL);
VIRTIO_MMIO_REG_CHECK(queue_num_max, VIRTIO_MMIO_QUEUE_NUM_MAX);
VIRTIO_MMIO_REG_CHECK(queue_num, VIRTIO_MMIO_QUEUE_NUM);
VIRTIO_MMIO_REG_CHECK(queue_ready, VIRTIO_MMIO_QUEUE_READY);
VIRTIO_MMIO_REG_CHECK(queue_notify, VIRTIO_MMIO_QUEUE_NOTIFY);
VIRTIO_MMIO_REG_CHECK(interrupt_status, VIRTIO_MMIO_INTERRUPT_STATUS);
VIRTIO_MMIO_REG_CHECK(interrupt_ack, VIRTIO_MMIO_INTERRUPT_ACK);
VIRTIO_MMIO_REG_CHECK(status, VIRTIO_MMIO_STATUS);
VIRTIO_MMIO_REG_CHECK(queue_desc_low, VIRTIO_MMIO_QUEUE_DESC_LOW);
VIRTIO_MMIO_REG_CHECK(queue_desc_high, VIRTIO_MMIO_QUEUE_DESC_HIGH);
VIRTIO_MMIO_REG_CHECK(queue_driver_low, VIRTIO_MMIO_QUEUE_DRIVER_LOW);
VIRTIO_MMIO_REG_CHECK(queue_driver_high, VIRTIO_MMIO_QUEUE_DRIVER_HIGH);
VIRTIO_MMIO_REG_CHECK(queue_device_low, VIRTIO_MMIO_QUEUE_DEVICE_LOW);
VIRTIO_MMIO_REG_CHECK(queue_device_high, VIRTIO_MMIO_QUEUE_DEVICE_HIGH);
VIRTIO_MMIO_REG_CHECK(shm_sel, VIRTIO_MMIO_SHM_SEL);
VIRTIO_MMIO_REG_CHECK(shm_base_high, VIRTIO_MMIO_SHM_BASE_HIGH);
VIRTIO_MMIO_REG_CHECK(queue_reset, VIRTIO_MMIO_QUEUE_RESET);
VIRTIO_MMIO_REG_CHECK(config_generation, VIRTIO_MMIO_CONFIG_GENERATION);
_Static_assert(sizeof(struct virtio_mmio_regs) == VIRTIO_MMIO_CONFIG,
	       "virtio-mmio: configuration space starts at 0x100");
#undef VIRTIO_MMIO_REG_CHECK

#endif
