/*
 * Device status bits and device-independent feature bits
 * (spec 1.4 "Basic Facilities of a Virtio Device": Device Status Field,
 * Feature Bits; "Reserved Feature Bits").
 */
#ifndef VNET_SPEC_VIRTIO_CONFIG_H
#define VNET_SPEC_VIRTIO_CONFIG_H

#include "virtio_types.h"

/* Device status field (spec "Device Status Field"). */
#define VIRTIO_STATUS_ACKNOWLEDGE        0x01u
#define VIRTIO_STATUS_DRIVER             0x02u
#define VIRTIO_STATUS_DRIVER_OK          0x04u
#define VIRTIO_STATUS_FEATURES_OK        0x08u
#define VIRTIO_STATUS_SUSPEND            0x10u
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 0x40u
#define VIRTIO_STATUS_FAILED             0x80u

/* Reserved (device-independent) feature bits, 24..41. */
/* Legacy only (§6.1 legacy, §2.7.4): any descriptor layout of a message. */
#define VIRTIO_F_ANY_LAYOUT         27
#define VIRTIO_F_INDIRECT_DESC      28
#define VIRTIO_F_EVENT_IDX          29
#define VIRTIO_F_VERSION_1          32
#define VIRTIO_F_ACCESS_PLATFORM    33
#define VIRTIO_F_RING_PACKED        34
#define VIRTIO_F_IN_ORDER           35
#define VIRTIO_F_ORDER_PLATFORM     36
#define VIRTIO_F_SR_IOV             37
#define VIRTIO_F_NOTIFICATION_DATA  38
#define VIRTIO_F_NOTIF_CONFIG_DATA  39
#define VIRTIO_F_RING_RESET         40
#define VIRTIO_F_ADMIN_VQ           41

/* Device type IDs (spec "Device Types"). */
#define VIRTIO_ID_NET 1

#endif
