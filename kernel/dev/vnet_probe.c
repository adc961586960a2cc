/*
 * Discovery and bring-up of vnet0..vnet7 (see vnet.c's top comment): every
 * virtio-net PCI function in PCI table order (modern transport, or the
 * legacy 0.9.5 interface for a legacy-only function), then every
 * registered virtio-mmio window holding a network device; per-device
 * options from the command line (vnetN.<key>= over <key>=); interrupt
 * setup; vnet_net_create(); the stack's interface.
 */
#include "vnet_priv.h"

/*
 * Command-line value of key for device d: "vnetN.key" first; then the
 * plain key, which for ip and gw means vnet0 only and for every other key
 * applies to all devices.
 */
static const char *dev_opt(const struct vnetdev *d, const char *key)
{
	char k[32];
	ksnprintf(k, sizeof(k), "%s.%s", d->name, key);
	const char *v = cmdline_get(k);
	if (v)
		return v;
	if ((!strcmp(key, "ip") || !strcmp(key, "gw")) && d->index != 0)
		return NULL;
	return cmdline_get(key);
}

static bool parse_u64(const struct vnetdev *d, const char *key, uint64_t *v, uint64_t max)
{
	const char *s = dev_opt(d, key);
	if (!s)
		return false;
	if (!kstrtou64(s, v) || *v > max) {
		kprintf("%s: ignoring bad %s=%s\n", d->name, key, s);
		return false;
	}
	return true;
}

static void parse_ipcfg(const struct vnetdev *d, struct net_if_cfg *c)
{
	c->ip = 0x0a00020f;   /* 10.0.2.15: QEMU user networking's guest address */
	c->prefix = 24;
	c->gw = 0x0a000202;   /* 10.0.2.2 */
	const char *s = dev_opt(d, "ip");
	uint32_t v;
	if (s) {
		if (net_parse_ip(s, &v)) {
			c->ip = v;
			const char *sl = strchr(s, '/');
			uint64_t len;
			if (sl && kstrtou64(sl + 1, &len) && len >= 1 && len <= 31)
				c->prefix = (uint8_t)len;
		} else {
			kprintf("%s: ignoring bad ip=%s\n", d->name, s);
		}
	}
	s = dev_opt(d, "gw");
	if (s) {
		if (net_parse_ip(s, &v))
			c->gw = v;
		else
			kprintf("%s: ignoring bad gw=%s\n", d->name, s);
	}
	c->mask = c->prefix ? ~0u << (32 - c->prefix) : 0;
}

/* GUEST_ANNOUNCE (opts.announce): gratuitous ARPs for every address of
 * the device; the driver sends ANNOUNCE_ACK when this returns. */
static void vd_announce(void *arg, struct vnet_net *net)
{
	(void)net;
	struct vnetdev *d = arg;
	unsigned long f = irq_save();
	net_announce(d->index);
	irq_restore(f);
	kprintf("%s: announce: gratuitous ARP sent for each address\n", d->name);
}

/* The control plane after bring-up (docs/control-plane.md): the VLAN
 * interfaces of the command line and their ids in the device's VLAN
 * filter; RSS with the default key and table when the device offers it
 * and more than one pair is in use. */
static void dev_ctrl_setup(struct vnetdev *d)
{
	uint16_t vids[NET_VLAN_MAX];
	net_vlan_setup(d->index);
	unsigned n = net_vlan_ids(d->index, vids, NET_VLAN_MAX);
	for (unsigned i = 0; i < n; i++) {
		int rc = vnet_net_vlan_add(d->net, vids[i]);
		if (rc == VNET_ENOTSUP) {
			kprintf("%s: no CTRL_VLAN: the device passes every VLAN unfiltered\n", d->name);
			break;
		}
		if (rc != VNET_OK)
			kprintf("%s: VLAN %u not in the device's filter: %s\n", d->name, vids[i], vnet_strerror(rc));
	}
	struct vnet_net_rss_caps caps;
	vnet_net_rss_get_caps(d->net, &caps);
	const char *rss = dev_opt(d, "rss");
	if (!caps.rss || d->pairs <= 1 || (rss && !strcmp(rss, "off")))
		return;
	static struct vnet_net_rss cfg;
	vnet_net_rss_default(d->net, &cfg);
	int rc = vnet_net_set_rss(d->net, &cfg);
	if (rc != VNET_OK)
		kprintf("%s: RSS not programmed: %s\n", d->name, vnet_strerror(rc));
	else
		kprintf("%s: rss on: %u pairs, %u table entries, %u-byte key, hash types %#x\n", d->name, d->pairs,
			cfg.indir_len, cfg.key_len, cfg.hash_types);
}

/* mac=52:54:00:..: the device's address (VIRTIO_NET_CTRL_MAC_ADDR_SET
 * or the config space, net_ctrl.h); mac is updated when it took. */
static void vd_apply_mac(struct vnetdev *d, uint8_t mac[6])
{
	const char *s = dev_opt(d, "mac");
	uint8_t m[6];
	if (!s)
		return;
	for (unsigned k = 0; k < 6; k++) {
		char h[5] = { '0', 'x', s[3 * k], s[3 * k] ? s[3 * k + 1] : 0, 0 };
		uint64_t b;
		if (!h[2] || !h[3] || (k < 5 && s[3 * k + 2] != ':') || !kstrtou64(h, &b) || b > 0xff) {
			kprintf("%s: ignoring bad mac=%s\n", d->name, s);
			return;
		}
		m[k] = (uint8_t)b;
	}
	int rc = vnet_net_set_mac(d->net, m);
	if (rc != VNET_OK) {
		kprintf("%s: mac=%s not set: %s\n", d->name, s, vnet_strerror(rc));
		return;
	}
	memcpy(mac, m, 6);
}

bool vd_is_virtio_net(const struct pci_dev *p)
{
	return p->vendor == 0x1af4 && (p->device == 0x1041 || (p->device == 0x1000 && p->subsys_id == 1));
}


/* "00:02.0" for a PCI function, "mmio@feb00000" for a virtio-mmio window. */
static const char *dev_label(const struct vnetdev *d)
{
	return d->pd ? d->pd->name : vnet_mmio_name(d->mmio);
}

void vd_remove_transport(struct vnetdev *d)
{
	if (d->pci)
		vnet_pci_remove(d->pci);
	if (d->leg)
		vnet_pci_legacy_remove(d->leg);
	if (d->mmio)
		vnet_mmio_remove(d->mmio);
	d->pci = NULL;
	d->leg = NULL;
	d->mmio = NULL;
}

/* PCI: probe the function through the modern transport.  virtio-mmio
 * windows were probed already (vd_bringup_all needs the device type
 * before it names a device). */
void vd_dev_bringup(struct vnetdev *d)
{
	int rc;
	if (d->pd) {
		rc = vnet_pci_probe(orion_hal_pci_dev(d->pd), &d->pci);
		if (rc == VNET_PCI_LEGACY_ONLY) {
			/* No virtio 1.x capabilities: a legacy-only function.  The
			 * 0.9.5 header in I/O BAR 0 (VirtIO 1.2 §4.1.4.10): INTx
			 * only, split rings, the legacy net header. */
			d->pci = NULL;
			rc = vnet_pci_legacy_probe(orion_hal_pci_dev(d->pd), &d->leg);
			if (rc != VNET_OK) {
				kprintf("%s: virtio-net %s 1af4:%04x not supported: legacy-only device, and its I/O BAR "
					"interface is unusable: %s\n", d->name, d->pd->name, d->pd->device,
					vnet_strerror(rc));
				d->leg = NULL;
				return;
			}
			kprintf("%s: virtio-net %s 1af4:%04x is legacy-only: using the virtio 0.9.5 I/O BAR interface "
				"(INTx, split rings)\n", d->name, d->pd->name, d->pd->device);
		} else if (rc != VNET_OK) {
			kprintf("%s: virtio-net %s 1af4:%04x not supported: %s\n", d->name, d->pd->name, d->pd->device,
				vnet_strerror(rc));
			d->pci = NULL;
			return;
		}
	}

	struct vnet_net_opts o = {0};
	uint64_t v;
	const char *mode = dev_opt(d, "mode");
	d->mode = (mode && !strcmp(mode, "poll")) ? MODE_POLL : MODE_IRQ;
	if (mode && strcmp(mode, "poll") && strcmp(mode, "irq"))
		kprintf("%s: unknown mode=%s, using irq\n", d->name, mode);
	const char *ring = dev_opt(d, "ring");
	o.ring = VNET_NET_RING_AUTO;
	if (ring && !strcmp(ring, "split"))
		o.ring = VNET_NET_RING_SPLIT;
	else if (ring && !strcmp(ring, "packed") && d->leg)
		kprintf("%s: ring=packed ignored: a legacy device has split rings only\n", d->name);
	else if (ring && !strcmp(ring, "packed"))
		o.ring = VNET_NET_RING_PACKED;
	if (parse_u64(d, "qsize", &v, 32768))
		o.queue_size = (uint16_t)v;
	o.queue_pairs = 1;
	if (parse_u64(d, "pairs", &v, VNET_MAX_PAIRS) && v > 0)
		o.queue_pairs = (uint16_t)v;
	/* Checksum offload both ways unless offload=off: the stack fills
	 * CSUM_PARTIAL headers for TCP and skips its own check of frames
	 * the device marks DATA_VALID or NEEDS_CSUM (kernel/net/stack.c).
	 * buf=N: bytes per packet buffer (a frame larger than one is sent
	 * as a chain and received over mergeable buffers). */
	const char *offl = dev_opt(d, "offload");
	o.tx_csum = o.rx_csum = !(offl && !strcmp(offl, "off"));
	/* TSO both ways with it: the stack sends TCP super-frames and takes
	 * coalesced ones (linearised in deliver(), up to NET_FRAME_MAX). */
	o.tx_tso4 = o.rx_tso4 = o.tx_csum;
	if (parse_u64(d, "buf", &v, 65536 + 4096) && v >= 2048)
		o.buf_size = (uint32_t)v;
	o.timeout_ns = 1000 * MS_NS;
	if (parse_u64(d, "timeout", &v, 60000) && v > 0)   /* ms */
		o.timeout_ns = v * MS_NS;
	/* Control plane: gratuitous ARPs on GUEST_ANNOUNCE unless
	 * announce=off; software receive interrupt moderation (vnet_net_poll)
	 * unless moder=off. */
	const char *ann = dev_opt(d, "announce");
	if (!(ann && !strcmp(ann, "off"))) { /* announce=off: the flag stays pending for vnet_net_announce_ack */
		o.announce = vd_announce;
		o.announce_arg = d;
	}
	/* hash=off: do not accept HASH_REPORT (taken when the device offers
	 * it: a 20-byte header whose hash "vnet hashlog" shows, §5.1.6.4.4). */
	const char *hash = dev_opt(d, "hash");
	o.hash_report = !(hash && !strcmp(hash, "off"));
	const char *moder = dev_opt(d, "moder");
	o.rx_moderation = !(moder && !strcmp(moder, "off"));
	/* Pool: one receive ring's worth plus room for transmits in flight,
	 * rather than the driver's default (three rings' worth): the pool is
	 * zeroed at bring-up, and under slow virtualisation (a nested, PVM
	 * KVM) every zeroed page costs milliseconds of boot time. */
	o.pool_size = (uint32_t)(o.queue_size ? o.queue_size : 256u) * o.queue_pairs + 128u;
	if (parse_u64(d, "pool", &v, 65536) && v >= 64)
		o.pool_size = (uint32_t)v;

	if (d->mode == MODE_IRQ) {
		unsigned want = 1u + 2u * o.queue_pairs + 1u;  /* config + rx/tx per pair + ctrl */
		/* virtio-mmio has no MSI-X: its one line is the INTx path. */
		rc = d->pci ? vnet_pci_irq_setup(d->pci, want, vd_irq, d) : 0;
		if (rc < 0) {
			kprintf("%s: interrupt setup failed: %s\n", d->name, vnet_strerror(rc));
			goto fail_pci;
		}
		d->nvec = rc;
		if (rc == 0 && d->mw && d->mw->irq < 0) {
			kprintf("%s: virtio-mmio window without an interrupt: polling InterruptStatus from the "
				"%u Hz tick\n", d->name, TIMER_HZ);
			d->mode = MODE_ISR_POLL;
		} else if (rc == 0) {
			if (vd_intx_setup(d)) {
				d->mode = MODE_INTX;
			} else {
				kprintf("%s: polling the ISR status from the %u Hz tick\n", d->name, TIMER_HZ);
				d->mode = MODE_ISR_POLL;
			}
		}
	}
	d->pool_size = o.pool_size;
	o.vector_of = vd_vector_of;
	o.vector_arg = d;
	o.name = d->name;   /* the core's log lines name this vnetN, not the first one */

	if (d->pci)
		rc = vnet_net_create(vd_pci_ops(), d->pci, &o, &d->net);
	else if (d->leg)
		rc = vnet_net_create(vnet_pci_legacy_ops(), d->leg, &o, &d->net);
	else
		rc = vnet_net_create(vnet_mmio_ops(), d->mmio, &o, &d->net);
	if (rc != VNET_OK) {
		const char *why = rc == VNET_EIO ? "device refused the feature set (FEATURES_OK not kept) or failed"
						 : vnet_strerror(rc);
		kprintf("%s: virtio-net %s not supported: %s (%s)\n", d->name, dev_label(d), why, vnet_strerror(rc));
		d->net = NULL;
		goto fail_pci;
	}
	struct vnet_net_info ni;
	vnet_net_get_info(d->net, &ni);
	vd_apply_mac(d, ni.mac);
	d->pairs = ni.queue_pairs <= VNET_MAX_PAIRS ? ni.queue_pairs : VNET_MAX_PAIRS;
	/* Frame bytes one pool buffer holds: netdev_tx_meta's chain unit. */
	struct vnet_pkt *probe = vnet_net_pkt_alloc(d->net);
	d->tx_room = probe ? probe->room : 0;
	if (probe)
		vnet_net_pkt_free(d->net, probe);
	/* Transmit completions are reclaimed on the next send; no interrupt. */
	for (uint16_t q = 0; q < d->pairs; q++)
		vnet_vq_disable_cb(vnet_net_txq(d->net, q));

	struct net_if_cfg c;
	memset(&c, 0, sizeof(c));
	memcpy(c.mac, ni.mac, 6);
	c.mtu = ni.mtu;
	parse_ipcfg(d, &c);
	unsigned long f = irq_save();
	net_init(d->index, &c);
	d->up = true;
	/* Queues are created with callbacks off (the engine's choice): one
	 * service pass per pair arms the receive interrupt (vnet_net_poll
	 * re-arms an empty ring); what raced in is left to main context. */
	if (d->mode == MODE_IRQ || d->mode == MODE_INTX)
		for (uint16_t q = 0; q < d->pairs; q++)
			if (vd_service_pair(d, q, VNET_RX_BUDGET, 0))
				d->pending |= 1ull << q;
	irq_restore(f);
	vd_tick_start();   /* polls a polled device; rescues lost notifications of the others */
	dev_ctrl_setup(d);

	d->up_ms = timer_since_entry_ns() / MS_NS;
	char ip[16], gw[16], how[16] = "";
	if (d->mode == MODE_INTX)
		ksnprintf(how, sizeof(how), " gsi %u", d->intx.gsi);
	kprintf("%s: up mac %02x:%02x:%02x:%02x:%02x:%02x ip %s/%u gw %s link %s ring %s qsize %u pairs %u "
		"mode %s%s msix %d mtu %u (%lu ms since kernel entry)\n",
		d->name, ni.mac[0], ni.mac[1], ni.mac[2], ni.mac[3], ni.mac[4], ni.mac[5], net_fmt_ip(c.ip, ip),
		c.prefix, net_fmt_ip(c.gw, gw), ni.link_up ? "up" : "down", vd_ring_name(ni.layout), ni.queue_size,
		d->pairs, vd_mode_name(d->mode), how, d->nvec, ni.mtu, d->up_ms);
	return;

fail_pci:
	vd_intx_teardown(d);
	d->mode = MODE_POLL;
	vd_remove_transport(d);
	d->nvec = 0;
}

struct vnetdev *vd_new_dev(const char *what)
{
	struct vnetdev *d = NULL;
	for (unsigned i = 0; i < vnet_ndevs && !d; i++)
		if (vnet_devs[i].vacant)
			d = &vnet_devs[i];   /* a name freed by a detach (vnet_hotplug.c) */
	if (!d && vnet_ndevs == VNET_MAX_DEVS) {
		kprintf("vnet: virtio-net %s ignored: at most %u devices (vnet0..vnet%u)\n", what, VNET_MAX_DEVS,
			VNET_MAX_DEVS - 1);
		return NULL;
	}
	unsigned index = d ? d->index : vnet_ndevs;
	if (!d)
		d = &vnet_devs[vnet_ndevs];
	unsigned long f = irq_save();
	memset(d, 0, sizeof(*d));
	d->index = index;
	ksnprintf(d->name, sizeof(d->name), "vnet%u", d->index);
	d->intx_vec = -1;
	d->tx_pair = VD_TX_STEER;
	if (index == vnet_ndevs)
		vnet_ndevs++;
	irq_restore(f);
	return d;
}

/* Every registered virtio-mmio window (orion/virtio_mmio.h) after the PCI
 * functions: probe it, keep it if it is a network device (DeviceID 1). */
static void mmio_bringup_all(void)
{
	for (unsigned i = 0; i < orion_virtio_mmio_count(); i++) {
		const struct orion_virtio_mmio_window *w = orion_virtio_mmio_get(i);
		char label[24];
		ksnprintf(label, sizeof(label), "mmio@%lx", w->base);
		struct vnet_mmio *m;
		int rc = vnet_mmio_probe(phys_to_virt(w->base), w->size, label, &m);
		if (rc == VNET_MMIO_EMPTY || rc == VNET_ENODEV)
			continue;   /* an empty slot (DeviceID 0, silent) or nothing there (logged by the transport) */
		if (rc != VNET_OK) {
			kprintf("vnet: virtio-mmio %s not usable: %s\n", label, rc == VNET_ENOTSUP ?
				"legacy (version 1) device; QEMU needs -global virtio-mmio.force-legacy=false" :
				vnet_strerror(rc));
			continue;
		}
		if (vnet_mmio_device_type(m) != 1) {
			vnet_mmio_remove(m);
			continue;
		}
		char what[48];
		ksnprintf(what, sizeof(what), "%s (irq %d)", label, w->irq);
		struct vnetdev *d = vd_new_dev(what);
		if (!d) {
			vnet_mmio_remove(m);
			continue;
		}
		d->mw = w;
		d->mmio = m;
		kprintf("%s: virtio-net %s irq %d\n", d->name, label, w->irq);
		vd_dev_bringup(d);
	}
}

void vd_bringup_all(void)
{
	for (unsigned n = 0; n < pci_count(); n++) {
		struct pci_dev *p = pci_get(n);
		if (!vd_is_virtio_net(p))
			continue;
		char what[32];
		ksnprintf(what, sizeof(what), "%s 1af4:%04x", p->name, p->device);
		struct vnetdev *d = vd_new_dev(what);
		if (!d)
			continue;
		d->pd = p;
		vd_dev_bringup(d);
	}
	mmio_bringup_all();
	pcie_hotplug_init();
	if (!vnet_ndevs)
		kprintf("vnet0: no virtio-net PCI function or virtio-mmio device found: network disabled\n");
}
