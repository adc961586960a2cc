/*
 * State shared by the Orion kernel's virtio-net glue, split by job:
 *   vnet.c          the device table, the data path (receive service,
 *                   transmit for the stack), the tick, orion_late_init;
 *   vnet_irq.c      interrupt routing (MSI-X entries, INTx lines);
 *   vnet_probe.c    discovery (PCI functions, virtio-mmio windows),
 *                   per-device options and bring-up;
 *   vnet_cmd.c      the shell's "vnet info|stats";
 *   vnet_selftest.c selftest=ping and selftest=echo.
 * vnet.c's top comment describes how packets move.  Everything here runs
 * with interrupts off while it touches a struct vnetdev (single CPU).
 */
#ifndef ORION_DEV_VNET_PRIV_H
#define ORION_DEV_VNET_PRIV_H

#include "orion/cmdline.h"
#include "orion/arch.h"
#include "orion/klib.h"
#include "orion/kprintf.h"
#include "orion/net.h"
#include "orion/pci.h"
#include "orion/selftest.h"
#include "orion/serial.h"
#include "orion/shell.h"
#include "orion/timer.h"
#include "orion/virtio_mmio.h"
#include "orion_hal.h"
#include "vnet/device.h"
#include "vnet/features.h"
#include "vnet/net.h"
#include "vnet/net_ctrl.h"
#include "vnet/net_recover.h"
#include "vnet/spec/virtio_pci.h"
#include "vnet/transport.h"
#include "vnet/virtio_mmio.h"
#include "vnet/virtio_pci.h"
#include "vnet/virtqueue.h"


#define VNET_MAX_DEVS NET_MAX_IF  /* vnet0..vnet7 */
#define VNET_MAX_PAIRS 64u        /* pairs= bound; pending is a 64-bit mask */
#define VNET_RX_BUDGET 64u        /* frames per pair per interrupt or deferred poll */
#define VNET_POLL_BUDGET 512u     /* frames per pair per poll-mode call */
#define VNET_LINEAR_MAX NET_FRAME_MAX /* largest multi-buffer frame we linearise (a 64 KiB IPv4 packet) */
#define MS_NS 1000000ull
#define VD_TX_STEER 0xffffu       /* tx_pair outside a receive pass: pick the pair by flow hash */
/* Consecutive INTx interrupts with ISR 0 after which the line is deemed
 * stuck by another device and the NIC falls back to polling.  A shared
 * line legitimately produces a few; a stuck level line produces one per
 * EOI, i.e. thousands per second. */
#define VNET_INTX_STORM 10000u

enum vnet_mode { MODE_IRQ, MODE_INTX, MODE_ISR_POLL, MODE_POLL };

static inline const char *vd_mode_name(enum vnet_mode m)
{
	static const char *const names[] = {"irq", "intx", "isr-poll", "poll"};
	return (unsigned)m < ARRAY_SIZE(names) ? names[m] : "?";
}

struct vnetdev {
	unsigned index;
	char name[8];             /* "vnetN" */
	struct pci_dev *pd;       /* PCI function, or NULL for virtio-mmio */
	struct vnet_pci *pci;
	struct vnet_pci_legacy *leg;  /* legacy-only PCI function (0.9.5 I/O BAR header) */
	const struct orion_virtio_mmio_window *mw;  /* virtio-mmio window, or NULL */
	struct vnet_mmio *mmio;
	struct vnet_net *net;
	enum vnet_mode mode;
	int nvec;                 /* MSI-X entries bound, 0 none */
	uint16_t pairs;
	bool up;
	uint64_t up_ms;
	uint64_t linearised, too_long, tx_nobuf, tx_too_big, tx_link_down, isr_reads, config_irqs;
	uint32_t tx_room;         /* frame bytes one pool buffer holds (netdev_caps.max_tx) */
	uint64_t entry_irqs[PCI_MSIX_MAX]; /* the HAL binds no entry beyond this */
	/* Receive work left over by an interrupt handler's budget: bit q =
	 * pair q waits for netdev_service(); deferrals counted, and the
	 * main-context polls that served them. */
	uint64_t pending;
	uint64_t deferred, deferred_polls;
	uint64_t rx_missed;          /* receive queues the tick serviced: no interrupt for a tick (vd_rx_rescue) */
	uint64_t rx_missed_late;     /* ... whose interrupt came afterwards and found nothing (late, not lost) */
	uint64_t rescued_mask;       /* bit q: pair q was rescued, its next interrupt is judged late or not */
	uint64_t rx_frames;          /* frames delivered to the stack (deliver) */
	/* Fault injection (vnet lostirq): receive interrupts to swallow, as a
	 * device or interrupt path that loses them; rescue_off turns the
	 * tick's lost-notification check off (to show what it prevents). */
	uint32_t irq_drop;
	uint64_t irq_dropped;
	bool rescue_off;
	/* INTx */
	struct pci_intx_route intx;
	int intx_vec;             /* the arch irq of the line, -1 none */
	uint64_t intx_irqs, intx_queue, intx_config, intx_none;
	unsigned intx_none_run;
	uint16_t tx_pair;         /* pair a reply leaves on (see the top comment); VD_TX_STEER outside a receive pass */
	/* Hot-plug (vnet_hotplug.c): the name is free (detached); the device
	 * is gone (surprise removal: its transport answers VNET_ENODEV); the
	 * pool size asked for at bring-up (detach checks every buffer is back). */
	bool vacant, gone;
	uint32_t pool_size;
};

extern struct vnetdev vnet_devs[VNET_MAX_DEVS];
extern unsigned vnet_ndevs;

static inline struct vnetdev *vd_get(unsigned ifn)
{
	return ifn < vnet_ndevs ? &vnet_devs[ifn] : NULL;
}

/* Served by the tick and main context rather than by interrupts. */
static inline bool vd_polled(const struct vnetdev *d)
{
	return d->up && (d->mode == MODE_ISR_POLL || d->mode == MODE_POLL);
}

static inline const char *vd_ring_name(enum vnet_vq_layout l) { return l == VNET_VQ_PACKED ? "packed" : "split"; }

/* Fault injection (vnet lostirq): true if this receive interrupt of pair q
 * is to be swallowed (counted); never one that finds q already deferred. */
static inline bool vd_irq_swallow(struct vnetdev *d, uint16_t q)
{
	if (!d->irq_drop || (d->pending & (1ull << q)))
		return false;
	d->irq_drop--;
	d->irq_dropped++;
	return true;
}

/* vnet.c: the data path. */
bool vd_service_pair(struct vnetdev *d, uint16_t q, unsigned budget, unsigned flags);
void vd_rx_intr(struct vnetdev *d, uint16_t q);
uint32_t vd_read_isr(struct vnetdev *d);
void vd_tick_start(void);       /* hook the tick once: polls polled devices, rescues lost notifications */

/* vnet_irq.c: interrupt routing. */
uint16_t vd_vector_of(void *arg, uint16_t vq_index);
void vd_irq(void *arg, unsigned entry);
bool vd_intx_setup(struct vnetdev *d);
void vd_intx_teardown(struct vnetdev *d);

/* vnet_probe.c: discovery and bring-up of every device. */
void vd_bringup_all(void);
/* The lowest free name (a vacant entry, else a new one), or NULL (with a
 * message naming `what`) when all VNET_MAX_DEVS are taken; the bring-up of
 * one device (PCI: d->pd set); the transport's release. */
struct vnetdev *vd_new_dev(const char *what);
void vd_dev_bringup(struct vnetdev *d);
void vd_remove_transport(struct vnetdev *d);
bool vd_is_virtio_net(const struct pci_dev *p);

/* vnet_hotplug.c: netdev_detach/netdev_attach_pci (orion/netdev_hotplug.h);
 * the modern PCI transport's ops as the glue uses them (reset and status
 * answer VNET_ENODEV once d->gone). */
const struct vnet_transport_ops *vd_pci_ops(void);
/* pcie_hotplug.c: find hot-plug slots (after the boot bring-up); serve
 * their events from main context (netdev_service). */
void pcie_hotplug_init(void);
bool pcie_hotplug_service(void);

/* vnet_cmd.c, vnet_selftest.c: registration. */
void vd_cmd_init(void);
/* vnet_hashlog.c: per-frame receive hash records, "vnet hashlog". */
void vd_hashlog_rx(const struct vnetdev *d, const struct vnet_pkt *p);
int vd_hashlog_cmd(struct vnetdev *d, bool clear);
void vd_selftest_init(void);
/* vnet_bench.c: "vnet bench ..." (argv[1] == "bench"). */
int vd_bench_cmd(int argc, char **argv);

#endif
