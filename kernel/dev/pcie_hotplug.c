/*
 * PCIe native hot-plug of virtio-net functions (PCI Express Base Spec
 * 4.0 §6.7 "PCI Express Hot-Plug Support", registers in §7.5.3: the PCI
 * Express capability's Slot Capabilities/Control/Status at +0x14/+0x18/
 * +0x1A and Link Status at +0x12), as QEMU's q35 `pcie-root-port`s
 * implement it.
 *
 * Slots: every root or downstream port with Slot Implemented and
 * Hot-Plug Capable, found after the boot bring-up (pcie_hotplug_init).
 * Detection: the 100 Hz tick reads each slot's status, acknowledges the
 * bits it saw (they are RW1C), latches them with the time it saw them, and
 * reads the vendor id of an occupied slot's function (all ones = gone).
 * The work itself (bring-up busy-waits; detach resets) runs in main context
 * from netdev_service() (the shell's idle loop, net waits).  Polling rather
 * than the port's MSI/INTx: one code path on every board, nothing to route,
 * and detection within one tick (10 ms).
 *
 * Events:
 *   - presence detected (PDC or DLLSC with PDS set, or the attention button
 *     with PDS set: QEMU 7.2 reports a hot-add as PDC + ABP) on an empty slot: power
 *     the slot on (Power Controller Control = on, Power Indicator on), wait
 *     for the data link layer (Link Status DLLLA, when the port reports it)
 *     and for the function to answer config reads (vendor id != 0xffff;
 *     both bounded), assign its BARs inside the port's memory windows that
 *     firmware reserved (pci_ecam_assign_fn, the ECAM code's placement),
 *     add it to the PCI table and bring it up as the lowest free vnetN
 *     (netdev_attach_pci).  The spec's 100 ms wait after link-up (§6.7.3.3)
 *     is replaced by polling the vendor id: a virtual function answers (or
 *     answers all ones) at once.
 *   - attention button pressed (QMP device_del): orderly removal at once
 *     (the OS may wait 5 s for a second press that cancels; QEMU does not
 *     need it): netdev_detach (every buffer back, device reset, vectors
 *     freed, name freed), the function leaves the PCI table, and the slot is
 *     powered off with its Power Indicator off — which is QEMU's signal to
 *     complete the unplug (DEVICE_DELETED).
 *   - presence lost (PDC with PDS clear, DLLSC with DLLLA clear) or all-ones
 *     vendor id while a function is attached: surprise removal,
 *     netdev_detach(NETDEV_DETACH_SURPRISE) — nothing is written to the
 *     device and no reset is waited for (the driver is latched dead, its
 *     memory kept) — then the slot is powered off.
 * Every handled event prints one line with the time from the tick that saw
 * it to the end of the work ("in N ms"), the figure the product's 50 ms
 * detection target is about (plus up to one tick period before the tick
 * saw it).
 * Shell: `hotplug` lists the slots; `hotplug cut N` powers slot N off behind
 * the driver's back (fault injection: QEMU removes the function at once, and
 * the driver must notice it as a surprise removal).
 */
#include "orion/mm.h"
#include "orion/netdev_hotplug.h"
#include "orion/pci_ecam.h"
#include "vnet_priv.h"

#define PCI_CAP_EXP 0x10
#define EXP_FLAGS 0x02
#define EXP_FLAGS_SLOT (1u << 8)
#define EXP_LNKCAP 0x0c
#define EXP_LNKCAP_DLLLARC (1u << 20)
#define EXP_LNKSTA 0x12
#define EXP_LNKSTA_DLLLA (1u << 13)
#define EXP_SLTCAP 0x14
#define SLTCAP_ABP (1u << 0)
#define SLTCAP_PCP (1u << 1)
#define SLTCAP_PIP (1u << 4)
#define SLTCAP_HPS (1u << 5)
#define SLTCAP_HPC (1u << 6)
#define EXP_SLTCTL 0x18
#define SLTCTL_ABPE (1u << 0)
#define SLTCTL_PDCE (1u << 3)
#define SLTCTL_PIC (3u << 8)
#define SLTCTL_PIC_ON (1u << 8)
#define SLTCTL_PIC_OFF (3u << 8)
#define SLTCTL_PCC (1u << 10)      /* 1 = power off */
#define SLTCTL_DLLSCE (1u << 12)
#define EXP_SLTSTA 0x1a
#define SLTSTA_ABP (1u << 0)
#define SLTSTA_PFD (1u << 1)
#define SLTSTA_PDC (1u << 3)
#define SLTSTA_CC (1u << 4)
#define SLTSTA_PDS (1u << 6)
#define SLTSTA_DLLSC (1u << 8)
#define HP_GONE (1u << 15)         /* ours: the function reads all ones */
#define HP_MAX_SLOTS 16
#define HP_WAIT_NS (1000 * MS_NS)

struct hp_slot {
	struct pci_dev *port;
	unsigned cap;          /* PCI Express capability offset */
	unsigned psn;          /* physical slot number */
	unsigned bus;          /* the port's secondary bus */
	uint32_t sltcap;
	bool dllla_reported;
	struct pci_dev *fn;    /* function 0 on the slot, NULL when empty */
	int ifn;               /* its vnetN, -1 none */
	bool cut;              /* `hotplug cut`: powered off behind the driver */
	/* Latched by the tick (interrupts off), taken by main context. */
	uint16_t pending;
	uint64_t event_ns;
	uint64_t ticks, adds, removes, surprises;
	uint64_t last_add_us, last_remove_us;
};

static struct hp_slot slots[HP_MAX_SLOTS];
static unsigned nslots;
static bool in_service;

static uint16_t rd16(struct hp_slot *s, unsigned off) { return pci_cfg_read16(s->port, s->cap + off); }
static void wr16(struct hp_slot *s, unsigned off, uint16_t v) { pci_cfg_write16(s->port, s->cap + off, v); }

/* Slot Control: change the bits in mask to val (read-modify-write; RW1C
 * status is elsewhere, so nothing is cleared by accident). */
static void sltctl(struct hp_slot *s, uint16_t mask, uint16_t val)
{
	uint16_t c = rd16(s, EXP_SLTCTL);
	wr16(s, EXP_SLTCTL, (uint16_t)((c & ~mask) | val));
}

static void hp_tick(void *arg)
{
	(void)arg;
	for (unsigned i = 0; i < nslots; i++) {
		struct hp_slot *s = &slots[i];
		s->ticks++;
		uint16_t st = rd16(s, EXP_SLTSTA);
		uint16_t ev = st & (SLTSTA_ABP | SLTSTA_PDC | SLTSTA_DLLSC | SLTSTA_PFD);
		if (st & (ev | SLTSTA_CC))
			wr16(s, EXP_SLTSTA, (uint16_t)(st & (ev | SLTSTA_CC)));
		if (s->fn && s->ifn >= 0 && !(s->pending & HP_GONE) &&
		    (arch_pci_cfg_read(s->fn->bus, s->fn->dev, s->fn->fn, 0, 2) & 0xffff) == 0xffff)
			ev |= HP_GONE;
		if (ev) {
			if (!s->pending)
				s->event_ns = timer_ns();
			s->pending |= ev;
		}
	}
}

/* The port's forwarding windows (PCI-to-PCI Bridge Spec 1.2 §3.2.5) as
 * allocation windows for pci_ecam_assign_fn; x86: PCI address == CPU address. */
static uint32_t cfg_rd(void *ctx, unsigned bus, unsigned devfn, unsigned off, unsigned width)
{
	(void)ctx;
	return off < 256 ? arch_pci_cfg_read(bus, devfn >> 3, devfn & 7, off, width) : 0xffffffffu;
}

static void cfg_wr(void *ctx, unsigned bus, unsigned devfn, unsigned off, unsigned width, uint32_t v)
{
	(void)ctx;
	if (off < 256)
		arch_pci_cfg_write(bus, devfn >> 3, devfn & 7, off, width, v);
}

static void hp_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void hp_log(const char *fmt, ...)
{
	(void)fmt;   /* placement failures are counted (stats.bars_failed) and reported by slot_add */
}

static void window(struct pci_ecam_window *w, uint64_t base, uint64_t limit)
{
	memset(w, 0, sizeof(*w));
	if (limit <= base)
		return;
	w->present = true;
	w->pci = w->cpu = w->next = base;
	w->size = limit - base + 1;
}

static unsigned assign(struct hp_slot *s, struct pci_ecam *h)
{
	memset(h, 0, sizeof(*h));
	h->node = -1;
	h->bus_start = 0;
	h->bus_end = 255;
	h->ops.read = cfg_rd;
	h->ops.write = cfg_wr;
	h->log = hp_log;
	struct pci_dev *p = s->port;
	uint16_t mb = pci_cfg_read16(p, 0x20), ml = pci_cfg_read16(p, 0x22);
	window(&h->mem32, (uint64_t)(mb & 0xfff0) << 16, ((uint64_t)(ml & 0xfff0) << 16) | 0xfffff);
	uint16_t pb = pci_cfg_read16(p, 0x24), pl = pci_cfg_read16(p, 0x26);
	uint64_t pbase = (uint64_t)(pb & 0xfff0) << 16, plim = ((uint64_t)(pl & 0xfff0) << 16) | 0xfffff;
	if ((pb & 0xf) == 1) {
		pbase |= (uint64_t)pci_cfg_read32(p, 0x28) << 32;
		plim |= (uint64_t)pci_cfg_read32(p, 0x2c) << 32;
	}
	window(&h->mem64, pbase, plim);
	h->mem64.prefetchable = true;
	uint8_t ib = pci_cfg_read8(p, 0x1c), il = pci_cfg_read8(p, 0x1d);
	window(&h->io, (uint64_t)(ib & 0xf0) << 8 | (uint64_t)pci_cfg_read16(p, 0x30) << 16,
	       ((uint64_t)(il & 0xf0) << 8 | 0xfff) | (uint64_t)pci_cfg_read16(p, 0x32) << 16);
	if (h->io.present && h->io.next < 0x1000)
		h->io.next = 0x1000;
	return pci_ecam_assign_fn(h, s->bus, 0, 0);
}

static void slot_power_off(struct hp_slot *s)
{
	if (s->sltcap & SLTCAP_PCP)
		sltctl(s, SLTCTL_PCC | SLTCTL_PIC, SLTCTL_PCC | ((s->sltcap & SLTCAP_PIP) ? SLTCTL_PIC_OFF : 0));
}

static void slot_add(struct hp_slot *s, uint64_t t0)
{
	if (s->sltcap & SLTCAP_PCP)
		sltctl(s, SLTCTL_PCC | SLTCTL_PIC, (s->sltcap & SLTCAP_PIP) ? SLTCTL_PIC_ON : 0);
	uint64_t w0 = timer_ns();
	while (s->dllla_reported && !(rd16(s, EXP_LNKSTA) & EXP_LNKSTA_DLLLA) && timer_ns() - w0 < HP_WAIT_NS)
		cpu_relax();
	while ((arch_pci_cfg_read(s->bus, 0, 0, 0, 2) & 0xffff) == 0xffff && timer_ns() - w0 < HP_WAIT_NS)
		cpu_relax();
	if ((arch_pci_cfg_read(s->bus, 0, 0, 0, 2) & 0xffff) == 0xffff) {
		kprintf("pcie: slot %u (%s): presence detected but no function answers on bus %02x: slot powered "
			"off\n", s->psn, s->port->name, s->bus);
		slot_power_off(s);
		return;
	}
	uint64_t wait_us = (timer_ns() - w0) / 1000u;
	struct pci_ecam h;
	unsigned en = assign(s, &h);
	struct pci_dev *pd = pci_hotplug_add(s->bus, 0, 0);
	if (!pd) {
		slot_power_off(s);
		return;
	}
	s->fn = pd;
	s->ifn = -1;
	kprintf("pcie: slot %u (%s): %s %04x:%04x present (seen %lu us after the event, link and config "
		"ready after %lu us more), %u BARs placed (mem window %#lx+%#lx)%s\n", s->psn, s->port->name,
		pd->name, pd->vendor, pd->device, (w0 - t0) / 1000u, wait_us, h.stats.bars, h.mem32.pci, h.mem32.size,
		h.stats.bars_failed ? ", some BARs did not fit" : "");
	if (!(en & PCI_CMD_MEM) || h.stats.bars_failed) {
		kprintf("pcie: slot %u: BARs not assigned: function left alone\n", s->psn);
		return;
	}
	int n = netdev_attach_pci(pd);
	s->adds++;
	s->last_add_us = (timer_ns() - t0) / 1000u;
	if (n >= 0) {
		s->ifn = n;
		kprintf("pcie: slot %u: vnet%d up in %lu.%03lu ms from the slot event\n", s->psn, n,
			s->last_add_us / 1000u, s->last_add_us % 1000u);
	} else if (n == VNET_EIO) {
		/* The name is taken by the failed device (as at boot) until removal. */
		for (unsigned i = 0; i < vnet_ndevs; i++)
			if (vnet_devs[i].pd == pd && !vnet_devs[i].vacant)
				s->ifn = (int)i;
	} else {
		kprintf("pcie: slot %u: %s not used (%s)\n", s->psn, pd->name, vnet_strerror(n));
	}
}

static void slot_remove(struct hp_slot *s, bool surprise, uint64_t t0)
{
	int ifn = s->ifn;
	/* The name may have been detached meanwhile by someone else (a
	 * management command) and even reused: detach only our function. */
	if (ifn >= 0 && (vnet_devs[ifn].vacant || vnet_devs[ifn].pd != s->fn))
		ifn = -1;
	if (ifn >= 0)
		netdev_detach((unsigned)ifn, surprise ? NETDEV_DETACH_SURPRISE : 0, NULL);
	if (s->fn)
		pci_hotplug_remove(s->fn);
	s->fn = NULL;
	s->ifn = -1;
	slot_power_off(s);
	s->removes++;
	s->surprises += surprise;
	s->last_remove_us = (timer_ns() - t0) / 1000u;
	kprintf("pcie: slot %u: %s%s removed%s in %lu.%03lu ms from the slot event, slot powered off\n", s->psn,
		ifn >= 0 ? "vnet" : "function", "", surprise ? " (surprise)" : "", s->last_remove_us / 1000u,
		s->last_remove_us % 1000u);
	if (ifn >= 0)
		kprintf("pcie: slot %u: vnet%d gone\n", s->psn, ifn);
}

/* Called from netdev_service(), which may run with interrupts off (the
 * shell's idle hook holds the kernel's lock): the slot work (a bring-up
 * busy-waits on the device; a detach waits for its reset) runs with
 * interrupts on, as at boot, so the tick and the other NICs keep being
 * served meanwhile; detach takes the lock itself where it changes shared
 * state.  Returns true if it did something (the idle loop then looks at
 * its input again before sleeping). */
bool pcie_hotplug_service(void)
{
	if (in_service || !nslots)
		return false;
	bool any = false;
	for (unsigned i = 0; i < nslots && !any; i++)
		any = slots[i].pending != 0;
	if (!any)
		return false;
	in_service = true;
	unsigned long f0 = irq_save();
	irq_enable();
	for (unsigned i = 0; i < nslots; i++) {
		struct hp_slot *s = &slots[i];
		unsigned long f = irq_save();
		uint16_t ev = s->pending;
		uint64_t t0 = s->event_ns;
		s->pending = 0;
		irq_restore(f);
		if (!ev)
			continue;
		uint16_t st = rd16(s, EXP_SLTSTA);
		bool present = (st & SLTSTA_PDS) != 0;
		bool link = !s->dllla_reported || (rd16(s, EXP_LNKSTA) & EXP_LNKSTA_DLLLA);
		if (s->fn) {
			if ((ev & HP_GONE) || ((ev & (SLTSTA_PDC | SLTSTA_DLLSC)) && (!present || !link)))
				slot_remove(s, true, t0);
			else if (ev & SLTSTA_ABP)
				slot_remove(s, false, t0);
		} else if (present) {
			/* QEMU signals a hot-add as presence change plus an
			 * attention-button press (the button a user would push
			 * after inserting a card): either means "bring it up". */
			slot_add(s, t0);
		}
		s->cut = false;
	}
	irq_restore(f0);
	in_service = false;
	return true;
}

static int cmd_hotplug(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "cut")) {
		uint64_t n;
		for (unsigned i = 0; kstrtou64(argv[2], &n) && i < nslots; i++) {
			if (slots[i].psn != n)
				continue;
			slots[i].cut = true;
			kprintf("pcie: slot %u: power cut behind the driver (fault injection)\n", slots[i].psn);
			sltctl(&slots[i], SLTCTL_PCC | SLTCTL_PIC, SLTCTL_PCC | SLTCTL_PIC_OFF);
			return 0;
		}
		kprintf("hotplug: no slot %s\n", argv[2]);
		return 1;
	}
	if (argc != 1) {
		kprintf("usage: hotplug [cut SLOT]\n");
		return 1;
	}
	kprintf("hotplug: %u slots (polled at %u Hz); pages free %lu, heap bytes %lu\n", nslots, TIMER_HZ,
		(unsigned long)pmm_free_pages(), (unsigned long)heap_bytes_in_use());
	for (unsigned i = 0; i < nslots; i++) {
		struct hp_slot *s = &slots[i];
		uint16_t c = rd16(s, EXP_SLTCTL), st = rd16(s, EXP_SLTSTA);
		char what[16] = "empty";
		if (s->fn && s->ifn >= 0)
			ksnprintf(what, sizeof(what), "vnet%d", s->ifn);
		else if (s->fn)
			ksnprintf(what, sizeof(what), "%s", s->fn->name);
		kprintf("slot %u port %s bus %02x: %s presence %s power %s (ctl %#x sta %#x pending %#x ticks %lu) adds %lu removes %lu surprises %lu "
			"last add %lu us last remove %lu us\n", s->psn, s->port->name, s->bus, what,
			(st & SLTSTA_PDS) ? "yes" : "no", (c & SLTCTL_PCC) ? "off" : "on", c, st, s->pending, s->ticks, s->adds, s->removes,
			s->surprises, s->last_add_us, s->last_remove_us);
	}
	return 0;
}

static const struct shell_cmd hotplug_cmd = {"hotplug", "hotplug [cut SLOT]: PCIe hot-plug slots, or cut a "
							"slot's power behind the driver (fault injection)", cmd_hotplug};

void pcie_hotplug_init(void)
{
	for (unsigned n = 0; n < pci_count() && nslots < HP_MAX_SLOTS; n++) {
		struct pci_dev *p = pci_get(n);
		if (p->vendor == 0xffff || p->header_type != 1)
			continue;
		unsigned cap = pci_cap_find(p, PCI_CAP_EXP, 0);
		if (!cap)
			continue;
		uint16_t flags = pci_cfg_read16(p, cap + EXP_FLAGS);
		unsigned type = (flags >> 4) & 0xf;   /* 4 root port, 6 downstream port */
		if ((type != 4 && type != 6) || !(flags & EXP_FLAGS_SLOT))
			continue;
		uint32_t sc = pci_cfg_read32(p, cap + EXP_SLTCAP);
		if (!(sc & SLTCAP_HPC))
			continue;
		struct hp_slot *s = &slots[nslots++];
		memset(s, 0, sizeof(*s));
		s->port = p;
		s->cap = cap;
		s->sltcap = sc;
		s->psn = sc >> 19;
		s->bus = pci_cfg_read8(p, 0x19);
		s->ifn = -1;
		s->dllla_reported = (pci_cfg_read32(p, cap + EXP_LNKCAP) & EXP_LNKCAP_DLLLARC) != 0;
		for (unsigned i = 0; i < vnet_ndevs; i++)
			if (vnet_devs[i].pd && vnet_devs[i].pd->bus == s->bus) {
				s->fn = vnet_devs[i].pd;
				s->ifn = (int)i;
			}
		/* Events we poll for; no hot-plug interrupt (HPIE off). */
		sltctl(s, SLTCTL_ABPE | SLTCTL_PDCE | SLTCTL_DLLSCE, SLTCTL_ABPE | SLTCTL_PDCE | SLTCTL_DLLSCE);
		uint16_t st = rd16(s, EXP_SLTSTA);
		wr16(s, EXP_SLTSTA, st & (SLTSTA_ABP | SLTSTA_PDC | SLTSTA_DLLSC | SLTSTA_PFD | SLTSTA_CC));
		kprintf("pcie: slot %u port %s bus %02x: hot-plug%s%s, %s\n", s->psn, p->name, s->bus,
			(sc & SLTCAP_ABP) ? " attention-button" : "", (sc & SLTCAP_HPS) ? " surprise" : "",
			s->fn ? s->fn->name : "empty");
	}
	if (nslots) {
		shell_register(&hotplug_cmd);
		if (timer_add_tick_hook(hp_tick, NULL) != 0)
			kprintf("pcie: no tick hook left: hot-plug events are not seen\n");
	}
}
