/*
 * Interrupt routing of vnet0..vnet7 (see vnet.c's top comment): the MSI-X
 * entry policy vd_vector_of(), the MSI-X dispatcher, and INTx lines
 * (level-triggered, possibly shared between NICs) with the stuck-line
 * fallback to polling.
 */
#include "vnet_priv.h"

/*
 * The routing policy (see the top comment), used by the driver at queue
 * setup (vnet_net_opts.vd_vector_of) and by vd_irq() to dispatch: one rule,
 * so an entry can never fire for a queue the handler does not look at.
 */
uint16_t vd_vector_of(void *arg, uint16_t vq_index)
{
	const struct vnetdev *d = arg;
	if (d->nvec <= 0)
		return VNET_VECTOR_NONE;
	if (vq_index == VNET_NET_VQ_CONFIG || d->nvec == 1)
		return 0;
	return (uint16_t)(1u + vq_index % (unsigned)(d->nvec - 1));
}

void vd_irq(void *arg, unsigned entry)
{
	struct vnetdev *d = arg;
	if (entry < ARRAY_SIZE(d->entry_irqs))
		d->entry_irqs[entry]++;
	if (!d->net)
		return; /* before bring-up finished (a config interrupt) */
	if (entry == vd_vector_of(d, VNET_NET_VQ_CONFIG)) {
		d->config_irqs++;
		vnet_net_config_changed(d->net);
	}
	if (!d->up)
		return;
	for (uint16_t q = 0; q < d->pairs; q++) {
		if (vd_vector_of(d, (uint16_t)(2u * q)) == entry && !vd_irq_swallow(d, q))
			vd_rx_intr(d, q);
		if (vd_vector_of(d, (uint16_t)(2u * q + 1u)) == entry) {
			vnet_net_tx_irq(d->net, q);
			vnet_net_tx_reclaim(d->net, q);
		}
	}
}

/*
 * INTx (level-triggered, possibly shared, also between our own NICs: on
 * q35 eight PIRQs serve every slot).  Reading ISR returns and clears the
 * pending causes and deasserts the device's line (VirtIO 1.2 §4.1.4.5),
 * so it comes first: the dispatcher's EOI afterwards then finds the line
 * low and the controller (x86: IOAPIC) does not re-deliver.  Every queue pair is looked at
 * for bit 0 (INTx does not say which queue).  Returns whether d had cause.
 */
static bool intx_dev(struct vnetdev *d)
{
	uint32_t isr = vd_read_isr(d);
	d->intx_irqs++;
	if (!(isr & (VIRTIO_PCI_ISR_QUEUE | VIRTIO_PCI_ISR_CONFIG))) {
		d->intx_none++;
		return false;
	}
	if (!d->net)
		return true; /* before bring-up finished: the ISR read was the ack */
	if (isr & VIRTIO_PCI_ISR_CONFIG) {
		d->intx_config++;
		d->config_irqs++;
		vnet_net_config_changed(d->net);
	}
	if ((isr & VIRTIO_PCI_ISR_QUEUE) && d->up) {
		d->intx_queue++;
		for (uint16_t q = 0; q < d->pairs; q++)
			if (!vd_irq_swallow(d, q))
				vd_rx_intr(d, q);
	}
	return true;
}

/* The irq of one line (GSI): every NIC routed to it is asked.  A run of
 * interrupts none of them caused (a line stuck by a device nobody drives)
 * masks the GSI, and those NICs fall back to polling. */
static void vnet_intx(void *arg)
{
	unsigned gsi = (unsigned)(uintptr_t)arg;
	bool any = false;
	for (unsigned i = 0; i < vnet_ndevs; i++) {
		struct vnetdev *d = &vnet_devs[i];
		if (d->intx_vec >= 0 && d->intx.gsi == gsi && d->mode == MODE_INTX)
			any |= intx_dev(d);
	}
	for (unsigned i = 0; i < vnet_ndevs; i++) {
		struct vnetdev *d = &vnet_devs[i];
		if (d->intx_vec < 0 || d->intx.gsi != gsi || d->mode != MODE_INTX)
			continue;
		d->intx_none_run = any ? 0 : d->intx_none_run + 1;
		if (d->intx_none_run >= VNET_INTX_STORM) {
			arch_irq_line_mask(gsi, true);
			d->mode = MODE_ISR_POLL;
			kprintf("%s: gsi %u asserted %u times without virtio-net ISR bits: masked, "
				"polling the ISR from the tick\n", d->name, gsi, d->intx_none_run);
		}
	}
}

/* The NIC (other than d) already routed to gsi, or NULL. */
static struct vnetdev *gsi_owner(const struct vnetdev *d, unsigned gsi)
{
	for (unsigned i = 0; i < vnet_ndevs; i++)
		if (&vnet_devs[i] != d && vnet_devs[i].intx_vec >= 0 && vnet_devs[i].intx.gsi == gsi)
			return &vnet_devs[i];
	return NULL;
}

/* Route the function's INTx to vnet_intx; false (with the reason printed)
 * if the line cannot be routed.  A GSI another NIC already uses keeps its
 * irq and controller entry; the handler asks both. */
bool vd_intx_setup(struct vnetdev *d)
{
	if (d->mw) {
		/* A virtio-mmio window's one line: level-triggered, active high
		 * (QEMU raises it while InterruptStatus is non-zero). */
		memset(&d->intx, 0, sizeof(d->intx));
		d->intx.gsi = (unsigned)d->mw->irq;
		d->intx.level = true;
		ksnprintf(d->intx.path, sizeof(d->intx.path), "virtio-mmio %#lx", d->mw->base);
	} else if (pci_intx_route(d->pd, &d->intx) != 0) {
		kprintf("%s: no MSI-X and INTx not routable (%s)\n", d->name, d->intx.why);
		return false;
	}
	struct vnetdev *o = gsi_owner(d, d->intx.gsi);
	if (o) {
		d->intx_vec = o->intx_vec;
		d->mode = MODE_INTX;   /* the handler asks d from now on */
		if (d->pd)
			pci_disable(d->pd, PCI_CMD_INTX_DISABLE);
		return true;
	}
	int vec = arch_irq_line_attach(d->intx.gsi, d->intx.level, d->intx.active_low, vnet_intx,
				       (void *)(uintptr_t)d->intx.gsi);
	if (vec < 0) {
		kprintf("%s: no MSI-X and INTx gsi %u cannot be attached (not on the interrupt controller, "
			"or no free irq)\n", d->name, d->intx.gsi);
		return false;
	}
	d->intx_vec = vec;
	d->mode = MODE_INTX;   /* the handler asks d from now on */
	if (d->pd)
		pci_disable(d->pd, PCI_CMD_INTX_DISABLE);  /* clearing the bit lets the function assert INTx */
	return true;
}

void vd_intx_teardown(struct vnetdev *d)
{
	if (d->intx_vec < 0)
		return;
	if (d->pd)
		pci_enable(d->pd, PCI_CMD_INTX_DISABLE);
	if (!gsi_owner(d, d->intx.gsi))
		arch_irq_line_detach(d->intx.gsi, d->intx_vec);
	d->intx_vec = -1;
}
