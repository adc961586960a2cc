/*
 * virtio-pci modern layout (spec 4.1 "Virtio Over PCI Bus",
 * transport-pci.tex): PCI identifiers, the vendor-specific capabilities
 * that locate the virtio structures inside the BARs, the common
 * configuration structure, the ISR bits and NO_VECTOR.
 *
 * Only layouts and constants are here; src/transport/pci/virtio_pci.c is
 * what reads them, and it checks every value before use.  All multi-byte
 * fields are little-endian (vnet_le*).  Offsets the spec fixes are checked
 * at compile time so a packing mistake fails the build rather than pointing
 * a register write at the wrong field.  The legacy (I/O BAR 0) layout of
 * VirtIO 1.2 §4.1.4.10 is at the end, for the legacy transport
 * (src/transport/pci/virtio_pci_legacy.c).
 */
#ifndef VNET_SPEC_VIRTIO_PCI_H
#define VNET_SPEC_VIRTIO_PCI_H

#include <stddef.h>
#include <stdint.h>

#include "virtio_types.h"

/* ---- PCI identification (spec 4.1.2 "PCI Device Discovery") ---- */
#define VIRTIO_PCI_VENDOR_ID              0x1af4u
/* Modern (non-transitional) ids: 0x1040 + virtio device type. */
#define VIRTIO_PCI_DEVICE_ID_MODERN_BASE  0x1040u
#define VIRTIO_PCI_DEVICE_ID_MODERN_LAST  0x107fu
#define VIRTIO_PCI_DEVICE_ID_MODERN(type) (VIRTIO_PCI_DEVICE_ID_MODERN_BASE + (type))
/* Transitional ids 0x1000..0x103f; the subsystem device id is the virtio
 * device type (spec 4.1.2.3 "Legacy Interfaces: A Note on PCI Device
 * Discovery").  0x1000 is the network device. */
#define VIRTIO_PCI_DEVICE_ID_TRANS_FIRST  0x1000u
#define VIRTIO_PCI_DEVICE_ID_TRANS_LAST   0x103fu
#define VIRTIO_PCI_DEVICE_ID_TRANS_NET    0x1000u
#define VIRTIO_PCI_DEVICE_ID_NET          VIRTIO_PCI_DEVICE_ID_MODERN(1)   /* 0x1041 */

/* ---- generic PCI configuration header bits the transport needs ---- */
#define VIRTIO_PCI_CFG_STATUS             0x06u   /* 16-bit status register */
#define VIRTIO_PCI_STATUS_CAP_LIST        0x0010u /* capabilities list present */
#define VIRTIO_PCI_CFG_CAP_PTR            0x34u   /* 8-bit first capability pointer */
#define VIRTIO_PCI_CFG_HEADER_END         0x40u   /* capabilities live at/after this */
#define VIRTIO_PCI_CFG_SPACE_SIZE         0x100u  /* legacy config space: 256 bytes */
#define VIRTIO_PCI_CAP_ID_VNDR            0x09u   /* vendor-specific capability */
/* At most (256 - 64) / 4 capabilities fit in legacy config space. */
#define VIRTIO_PCI_CAP_MAX                48u

/* ---- virtio structure capability (spec 4.1.4 "Virtio Structure PCI Capabilities") ---- */
#define VIRTIO_PCI_CAP_COMMON_CFG         1
#define VIRTIO_PCI_CAP_NOTIFY_CFG         2
#define VIRTIO_PCI_CAP_ISR_CFG            3
#define VIRTIO_PCI_CAP_DEVICE_CFG         4
#define VIRTIO_PCI_CAP_PCI_CFG            5
#define VIRTIO_PCI_CAP_SHARED_MEMORY_CFG  8
#define VIRTIO_PCI_CAP_VENDOR_CFG         9

/* Highest BAR number a capability may name; larger values are reserved
 * and the capability MUST be ignored (spec 4.1.4.1). */
#define VIRTIO_PCI_BAR_MAX                5u

struct virtio_pci_cap {
	uint8_t cap_vndr;      /* VIRTIO_PCI_CAP_ID_VNDR */
	uint8_t cap_next;      /* next capability pointer, 0 = end */
	uint8_t cap_len;       /* this capability incl. extra data */
	uint8_t cfg_type;      /* VIRTIO_PCI_CAP_* */
	uint8_t bar;           /* 0..5 */
	uint8_t id;            /* distinguishes several caps of one type */
	uint8_t padding[2];
	vnet_le32 offset;      /* structure start within the BAR */
	vnet_le32 length;      /* structure length in bytes */
};

_Static_assert(offsetof(struct virtio_pci_cap, cap_vndr) == 0, "virtio_pci_cap.cap_vndr");
_Static_assert(offsetof(struct virtio_pci_cap, cap_next) == 1, "virtio_pci_cap.cap_next");
_Static_assert(offsetof(struct virtio_pci_cap, cap_len) == 2, "virtio_pci_cap.cap_len");
_Static_assert(offsetof(struct virtio_pci_cap, cfg_type) == 3, "virtio_pci_cap.cfg_type");
_Static_assert(offsetof(struct virtio_pci_cap, bar) == 4, "virtio_pci_cap.bar");
_Static_assert(offsetof(struct virtio_pci_cap, id) == 5, "virtio_pci_cap.id");
_Static_assert(offsetof(struct virtio_pci_cap, offset) == 8, "virtio_pci_cap.offset");
_Static_assert(offsetof(struct virtio_pci_cap, length) == 12, "virtio_pci_cap.length");
_Static_assert(sizeof(struct virtio_pci_cap) == 16, "virtio_pci_cap size");

/* Notification capability (spec 4.1.4.4): the queue notify address is
 * cap.offset + queue_notify_off * notify_off_multiplier. */
struct virtio_pci_notify_cap {
	struct virtio_pci_cap cap;
	vnet_le32 notify_off_multiplier;
};

_Static_assert(offsetof(struct virtio_pci_notify_cap, notify_off_multiplier) == 16,
	       "virtio_pci_notify_cap.notify_off_multiplier");
_Static_assert(sizeof(struct virtio_pci_notify_cap) == 20, "virtio_pci_notify_cap size");

/* ---- common configuration (spec 4.1.4.3 "Common configuration structure layout") ---- */
struct virtio_pci_common_cfg {
	/* About the whole device. */
	vnet_le32 device_feature_select;   /* rw */
	vnet_le32 device_feature;          /* ro */
	vnet_le32 driver_feature_select;   /* rw */
	vnet_le32 driver_feature;          /* rw */
	vnet_le16 config_msix_vector;      /* rw */
	vnet_le16 num_queues;              /* ro */
	uint8_t device_status;             /* rw; writing 0 resets */
	uint8_t config_generation;         /* ro */
	/* About the virtqueue selected by queue_select. */
	vnet_le16 queue_select;            /* rw */
	vnet_le16 queue_size;              /* rw; reads the maximum after reset */
	vnet_le16 queue_msix_vector;       /* rw; reads NO_VECTOR if mapping failed */
	vnet_le16 queue_enable;            /* rw; the driver never writes 0 */
	vnet_le16 queue_notify_off;        /* ro; in units of notify_off_multiplier */
	vnet_le64 queue_desc;              /* rw, two 32-bit halves, low first */
	vnet_le64 queue_driver;            /* rw */
	vnet_le64 queue_device;            /* rw */
	/* Exist only in devices that offer the matching feature. */
	vnet_le16 queue_notif_config_data; /* ro; VIRTIO_F_NOTIF_CONFIG_DATA (was queue_notify_data) */
	vnet_le16 queue_reset;             /* rw; VIRTIO_F_RING_RESET */
	/* About the administration virtqueues (VIRTIO_F_ADMIN_VQ). */
	vnet_le16 admin_queue_index;       /* ro */
	vnet_le16 admin_queue_num;         /* ro */
};

_Static_assert(offsetof(struct virtio_pci_common_cfg, device_feature_select) == 0x00, "common_cfg");
_Static_assert(offsetof(struct virtio_pci_common_cfg, device_feature) == 0x04, "common_cfg");
_Static_assert(offsetof(struct virtio_pci_common_cfg, driver_feature_select) == 0x08, "common_cfg");
_Static_assert(offsetof(struct virtio_pci_common_cfg, driver_feature) == 0x0c, "common_cfg");
_Static_assert(offsetof(struct virtio_pci_common_cfg, config_msix_vector) == 0x10, "common_cfg");
_Static_assert(offsetof(struct virtio_pci_common_cfg, num_queues) == 0x12, "common_cfg");
_Static_assert(offsetof(struct virtio_pci_common_cfg, device_status) == 0x14, "common_cfg");
_Static_assert(offsetof(struct virtio_pci_common_cfg, config_generation) == 0x15, "common_cfg");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_select) == 0x16, "common_cfg");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_size) == 0x18, "common_cfg");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_msix_vector) == 0x1a, "common_cfg");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_enable) == 0x1c, "common_cfg");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_notify_off) == 0x1e, "common_cfg");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_desc) == 0x20, "common_cfg");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_driver) == 0x28, "common_cfg");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_device) == 0x30, "common_cfg");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_notif_config_data) == 0x38, "common_cfg");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_reset) == 0x3a, "common_cfg");
_Static_assert(offsetof(struct virtio_pci_common_cfg, admin_queue_index) == 0x3c, "common_cfg");
_Static_assert(offsetof(struct virtio_pci_common_cfg, admin_queue_num) == 0x3e, "common_cfg");
_Static_assert(sizeof(struct virtio_pci_common_cfg) == 0x40, "common_cfg size");

/* A virtio 1.0 device's common cfg ends after queue_device; the two
 * feature-dependent fields came later.  The transport requires the 1.0
 * part and uses the rest only when the capability length covers it. */
#define VIRTIO_PCI_COMMON_CFG_LEN_V1_0 offsetof(struct virtio_pci_common_cfg, queue_notif_config_data)
#define VIRTIO_PCI_COMMON_CFG_LEN_NOTIF_DATA offsetof(struct virtio_pci_common_cfg, queue_reset)
#define VIRTIO_PCI_COMMON_CFG_LEN_RESET offsetof(struct virtio_pci_common_cfg, admin_queue_index)

/* ---- ISR status (spec 4.1.4.5), read-to-clear ---- */
#define VIRTIO_PCI_ISR_QUEUE              0x01u  /* used buffer notification */
#define VIRTIO_PCI_ISR_CONFIG             0x02u  /* configuration change */

/* ---- MSI-X (spec 4.1.5.1.2 "MSI-X Vector Configuration") ---- */
#define VIRTIO_MSI_NO_VECTOR              0xffffu

/* ---- legacy interface: the I/O BAR 0 header (VirtIO 1.2 §4.1.4.10) ----
 * Byte offsets into the first I/O region; widths in the comments.  The
 * device-specific configuration follows the header at 20, or at 24 while
 * MSI-X is enabled (two vector fields are inserted).  Queue Address holds
 * the ring's physical address divided by 4096, and the ring follows the
 * legacy layout of §2.7.2 with an alignment of 4096 (§4.1.5.1.3.1). */
#define VIRTIO_PCI_LEGACY_HOST_FEATURES   0x00u  /* 32, R: device features 0..31 */
#define VIRTIO_PCI_LEGACY_GUEST_FEATURES  0x04u  /* 32, RW: driver features 0..31 */
#define VIRTIO_PCI_LEGACY_QUEUE_PFN       0x08u  /* 32, RW: Queue Address */
#define VIRTIO_PCI_LEGACY_QUEUE_NUM       0x0cu  /* 16, R: queue_size (fixed) */
#define VIRTIO_PCI_LEGACY_QUEUE_SEL       0x0eu  /* 16, RW */
#define VIRTIO_PCI_LEGACY_QUEUE_NOTIFY    0x10u  /* 16, RW */
#define VIRTIO_PCI_LEGACY_STATUS          0x12u  /* 8, RW */
#define VIRTIO_PCI_LEGACY_ISR             0x13u  /* 8, R: read clears */
#define VIRTIO_PCI_LEGACY_CONFIG_MSIX_VEC 0x14u  /* 16, RW, only while MSI-X is on */
#define VIRTIO_PCI_LEGACY_QUEUE_MSIX_VEC  0x16u  /* 16, RW, only while MSI-X is on */
#define VIRTIO_PCI_LEGACY_CONFIG          0x14u  /* device config without MSI-X */
#define VIRTIO_PCI_LEGACY_CONFIG_MSIX     0x18u  /* device config with MSI-X */
#define VIRTIO_PCI_LEGACY_QUEUE_ALIGN     4096u
#define VIRTIO_PCI_LEGACY_PFN_SHIFT       12u
/* Valid MSI-X table entries are 0..0x7ff. */
#define VIRTIO_PCI_MSIX_MAX_VECTORS       0x800u

#endif
