/*
 * orion-vnet virtio-pci modern transport: what a host (the Orion kernel, a
 * test) calls to turn a PCI function into a struct vnet_transport_ops +
 * ctx pair for the device core (include/vnet/device.h).
 *
 * Typical use:
 *
 *   struct vnet_pci *p;
 *   for (n = 0; (pdev = vnet_hal_pci_dev_get(n)); n++) {
 *           vnet_hal_pci_dev_info(pdev, &info);
 *           if (vnet_pci_identify(&info, &type) == VNET_OK && type == MY_TYPE &&
 *               vnet_pci_probe(pdev, &p) == VNET_OK)
 *                   break;
 *   }
 *   nvec = vnet_pci_irq_setup(p, 3, my_irq, me);   // 0: no MSI-X, poll ISR
 *   vnet_device_init(&dev, vnet_pci_ops(), p, NULL);
 *   vnet_device_negotiate(...); vnet_device_setup_queue(..., vector); ...
 *   ...
 *   vnet_device_reset(&dev); vnet_pci_remove(p);
 *
 * The transport only ever speaks the modern interface (virtio 1.x
 * capabilities).  A device without them (legacy-only, e.g. QEMU
 * disable-modern=on) is answered with VNET_PCI_LEGACY_ONLY, for the host
 * to hand to the legacy transport below (or to refuse, with its own words).
 *
 * Concurrency: like every transport, the caller serialises all calls on one
 * device except the ops' notify() (data path, concurrent per queue) and
 * vnet_pci_isr() (any context, including an interrupt handler).
 */
#ifndef VNET_VIRTIO_PCI_H
#define VNET_VIRTIO_PCI_H

#include <stdint.h>

#include "transport.h"
#include "vnet_error.h"
#include "vnet_hal_pci.h"

/* One probed virtio-pci function (opaque; owned by the transport). */
struct vnet_pci;

/* Queues the transport keeps per-queue state for: num_queues above this
 * is reported as this (a device may advertise up to 65535; a NIC driver
 * has no use for more than a few hundred, and the state is allocated at
 * probe). */
#define VNET_PCI_MAX_QUEUES 1024u

/* vnet_pci_probe(): the function has no virtio capabilities, a legacy-only
 * device (VirtIO 1.2 §4.1.5.1.1).  Positive, so never mistaken for a
 * negative enum vnet_err (VNET_ENOTSUP may come from the HAL's BAR map);
 * nothing is logged: the host says what it does about it. */
#define VNET_PCI_LEGACY_ONLY 1

/*
 * The virtio device type (VirtIO 1.2 §5 "Device Types": 1 network, 2 block,
 * ...) a PCI function's ids name, without touching the function: vendor
 * 0x1af4 with a modern device id 0x1041..0x107f (type = id - 0x1040), or a
 * transitional id 0x1000..0x103f whose subsystem device id is the type
 * (VirtIO 1.2 §4.1.2, §4.1.2.3).  info comes from vnet_hal_pci_dev_info().
 * Returns VNET_OK with *type set (1..63); VNET_ENODEV (another vendor, or a
 * 0x1af4 id outside 0x1000..0x107f: not a virtio function); VNET_EPROTO (in
 * the virtio range but naming no type: 0x1040, the reserved type 0, or a
 * transitional id whose subsystem id is 0 or above 0x3f); VNET_EINVAL.
 * *type is 0 on failure.  Pure; no log; any context.
 */
int vnet_pci_identify(const struct vnet_pci_info *info, uint32_t *type);

/*
 * Recognise and bind a virtio PCI function of any device type (see
 * vnet_pci_identify(); transitional devices are driven through their
 * modern interface).  The transport knows no device type: the caller picks
 * the functions it drives, before probe with vnet_pci_identify() or after
 * it with vnet_pci_device_type() (then vnet_pci_remove() the others).
 * Walks and checks the capability list, maps the BARs holding the common,
 * notify, ISR and device-config structures, reads num_queues and enables
 * bus mastering.  The device is not reset here: the core does that in
 * vnet_device_probe().
 *
 * Returns VNET_OK with *out set; VNET_ENODEV (not a virtio function; no
 * log for another vendor's function, since callers probe every function,
 * a warning naming the id for a 0x1af4 one), VNET_EPROTO (a virtio id
 * naming no device type, logged; or a malformed capability list or
 * capability, logged with the field), VNET_PCI_LEGACY_ONLY (positive,
 * not an error, nothing logged: no virtio capabilities, a legacy-only
 * device; the host decides whether to bind vnet_pci_legacy_probe() and
 * what to print), VNET_ERANGE (a capability's
 * offset/length does not fit its BAR or is too short; logged), a
 * vnet_hal_pci_bar_map() error, VNET_ENOMEM.  Never faults on a malformed
 * list.  May sleep; probe context.
 */
int vnet_pci_probe(struct vnet_pci_dev *pdev, struct vnet_pci **out);

/*
 * Undo probe: mask and release MSI-X vectors, write device status 0 and
 * wait (bounded, 1 s) for it to read back 0, disable bus mastering (only
 * if the reset completed: a device that did not reset may still DMA),
 * unmap the BARs and free p.  The caller has stopped using the queues.
 * NULL-safe.  May sleep.
 */
void vnet_pci_remove(struct vnet_pci *p);

/* The ops table; ctx is the struct vnet_pci * from vnet_pci_probe(). */
const struct vnet_transport_ops *vnet_pci_ops(void);

/* Interrupt callback: entry is the MSI-X table entry that fired (the value
 * to pass as a queue or config vector).  Interrupt context. */
typedef void (*vnet_pci_vector_fn)(void *arg, unsigned entry);

/*
 * Enable MSI-X with up to want_vectors entries (at most 0x800) and bind
 * every granted entry i to cb(arg, i).  Call after probe and before
 * setting up queues; queue and config vectors must then be < the returned
 * count (setup_queue/set_config_vector refuse others with VNET_EINVAL).
 * Returns the number of entries bound (>= 1), 0 if the function has no
 * MSI-X (or want_vectors is 0): the host then uses INTx and
 * vnet_pci_isr(), and queues are set up with VNET_VECTOR_NONE; VNET_ENOTSUP
 * if there is neither MSI-X nor an ISR capability; VNET_EINVAL (cb NULL,
 * called twice); VNET_ENOMEM; a vnet_hal_pci_msix_* error.  May sleep.
 */
int vnet_pci_irq_setup(struct vnet_pci *p, unsigned want_vectors, vnet_pci_vector_fn cb,
		       void *arg);

/*
 * INTx mode: read the ISR status byte, which clears it and deasserts the
 * interrupt (spec 4.1.4.5).  Bit 0 (VIRTIO_PCI_ISR_QUEUE): look at every
 * queue; bit 1 (VIRTIO_PCI_ISR_CONFIG): re-read the configuration.
 * Returns 0 if the device has no ISR capability.  Do not call for queue
 * interrupts while MSI-X is on (spec: SHOULD NOT access ISR then).  Any
 * context.
 */
uint8_t vnet_pci_isr(struct vnet_pci *p);

/* Values read from the device that failed a range check since probe
 * (hostile queue sizes, notify offsets, vector read-backs...). */
unsigned vnet_pci_violations(const struct vnet_pci *p);

/* The virtio device type of a probed function (1 network, 2 block, ...;
 * see vnet_pci_identify()); 0 for NULL. */
uint32_t vnet_pci_device_type(const struct vnet_pci *p);

/* "pci bb:dd.f", for log lines. */
const char *vnet_pci_name(const struct vnet_pci *p);

/* ---- the legacy interface (src/transport/pci/virtio_pci_legacy.c) ----
 *
 * For a function vnet_pci_probe() answered with VNET_PCI_LEGACY_ONLY (no virtio
 * capabilities: a legacy-only device, e.g. QEMU disable-modern=on): the
 * virtio 0.9.5 header in I/O BAR 0 (VirtIO 1.2 §4.1.4.10), INTx only,
 * split rings only, feature bits 0..31, queue sizes fixed by the device.
 * Needs the I/O BAR functions of vnet_hal_pci.h.  The ops table says
 * .legacy, so the device core negotiates without VIRTIO_F_VERSION_1 (bits
 * 0..31, no FEATURES_OK step), the split engine allocates the legacy ring
 * layout (used ring 4096-aligned) setup_queue checks for, and the net
 * layer uses the legacy header (10 bytes, 12 with MRG_RXBUF); the Orion
 * kernel drives QEMU's disable-modern=on this way (kernel_udp_echo_legacy).
 */
struct vnet_pci_legacy;

/*
 * Bind a legacy virtio function: vendor 0x1af4, a transitional device id
 * 0x1000..0x103f whose subsystem id is the type, an I/O BAR 0 holding at
 * least the 20-byte header.  Enables bus mastering; no reset (the core's).
 * Returns VNET_OK with *out set; VNET_ENODEV (another vendor, no log; a
 * non-transitional id or a function reading all-ones, logged);
 * VNET_EPROTO (no device type); VNET_ERANGE (BAR too short); a
 * vnet_hal_pci_io_bar() error (logged); VNET_EINVAL; VNET_ENOMEM.
 */
int vnet_pci_legacy_probe(struct vnet_pci_dev *pdev, struct vnet_pci_legacy **out);
/* Write status 0, wait (bounded, 1 s) for it, disable bus mastering if it
 * reset, free.  NULL-safe. */
void vnet_pci_legacy_remove(struct vnet_pci_legacy *l);
/* The ops table; ctx is the struct vnet_pci_legacy *. */
const struct vnet_transport_ops *vnet_pci_legacy_ops(void);
/* INTx: read (and so clear) the ISR byte; VIRTIO_PCI_ISR_* bits.  Any context. */
uint8_t vnet_pci_legacy_isr(struct vnet_pci_legacy *l);
unsigned vnet_pci_legacy_violations(const struct vnet_pci_legacy *l);
uint32_t vnet_pci_legacy_device_type(const struct vnet_pci_legacy *l);

#endif
