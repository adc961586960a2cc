/*
 * The shell's "vnet info|stats [vnetN]": device state, features, queue
 * and interrupt counters of one device.
 */
#include "vnet_priv.h"

/*
 * "what 0x...: NAME NAME ..." wrapped at word boundaries into lines of at
 * most ~100 columns, continuation lines indented: a TAP back-end offers
 * more names than one kprintf (256-byte buffer) holds, and a cut list
 * would hide exactly the features at the end (RSS, SPEED_DUPLEX...).
 */
static void print_features(const char *what, uint64_t feat)
{
	static char buf[1024];
	char head[64], word[40];
	vnet_features_format(buf, sizeof(buf), feat);
	int col = ksnprintf(head, sizeof(head), "%s %#lx:", what, feat);
	kprintf("%s", head);
	for (const char *p = buf; *p;) {
		while (*p == ' ')
			p++;
		size_t n = 0;
		while (p[n] && p[n] != ' ')
			n++;
		if (!n)
			break;
		size_t c = n < sizeof(word) - 1 ? n : sizeof(word) - 1;
		memcpy(word, p, c);
		word[c] = 0;
		if (col + 1 + (int)c > 100) {
			kprintf("\n   ");
			col = 3;
		}
		kprintf(" %s", word);
		col += 1 + (int)c;
		p += n;
	}
	kprintf("\n");
}

/* The engine's counters of the current ring, then the buffer accounting
 * over the device's life (vnet/net.h, struct vnet_net_vq_acct). */
static void vq_stats_line(struct vnet_net *net, const char *label, struct vnet_vq *vq)
{
	if (!vq)
		return;
	struct vnet_vq_stats s;
	struct vnet_net_vq_acct a;
	struct vnet_vq_ring_state r;
	unsigned long f = irq_save();
	vnet_vq_get_stats(vq, &s);
	vnet_vq_get_ring_state(vq, &r);
	int arc = vnet_net_get_vq_acct(net, vnet_vq_index(vq), &a);
	irq_restore(f);
	kprintf("  %-5s size %u added %lu completed %lu kicks %lu suppressed %lu full %lu bad_len %lu faults %lu "
		"broken %s\n",
		label, vnet_vq_size(vq), s.added, s.completed, s.kicks, s.kicks_suppressed, s.full, s.bad_len, s.faults,
		vnet_vq_is_broken(vq) ? "YES" : "no");
	if (arc == VNET_OK)
		/* first word "buffers", not the label: scripts pick the engine
		 * line by its label (kernel_link_flap.sh) */
		kprintf("  buffers %-5s posted %lu completed %lu reclaimed %lu leaked %lu in_flight %lu balanced %s\n",
			label, a.posted, a.completed, a.reclaimed, a.leaked, a.in_flight,
			vnet_net_vq_acct_balanced(&a) ? "yes" : "NO");
	/* Both sides' view of the ring (vnet_vq_get_ring_state): a queue that
	 * went quiet with used_ready yes and notify on lost a notification. */
	kprintf("  ring %-5s avail %#x used %#x device_used %#x used_ready %s notify %s driver_event %#x/%#x "
		"device_event %#x/%#x\n", label, r.avail_pos, r.used_pos, r.device_used, r.used_ready ? "yes" : "no",
		r.cb_enabled ? "on" : "off", r.driver_event, r.driver_flags, r.device_event, r.device_flags);
}

static void cmd_info(struct vnetdev *d)
{
	struct vnet_net_info ni;
	unsigned long fl = irq_save();
	vnet_net_get_info(d->net, &ni);
	irq_restore(fl);
	kprintf("%s: %s, mac %02x:%02x:%02x:%02x:%02x:%02x (%s), mtu %u, link %s\n", d->name,
		d->pci ? vnet_pci_name(d->pci) : d->leg ? d->pd->name : vnet_mmio_name(d->mmio),
		ni.mac[0], ni.mac[1], ni.mac[2], ni.mac[3], ni.mac[4], ni.mac[5],
		ni.mac_from_device ? "from device" : "generated", ni.mtu, ni.link_up ? "up" : "down");
	print_features("offered   ", ni.offered);
	print_features("negotiated", ni.negotiated);
	kprintf("queues: %u pair(s) in use of %u, control queue %s, ring %s, queue size %u, header %u bytes\n",
		ni.queue_pairs, ni.max_queue_pairs, ni.ctrl_vq ? "yes" : "no", vd_ring_name(ni.layout), ni.queue_size,
		ni.hdr_len);
	kprintf("mode %s, MSI-X vectors %d, transport violations %u, up %lu ms after kernel entry\n",
		vd_mode_name(d->mode), d->nvec,
		d->pci ? vnet_pci_violations(d->pci) : d->leg ? vnet_pci_legacy_violations(d->leg)
						     : vnet_mmio_violations(d->mmio),
		d->up_ms);
	if (d->intx_vec >= 0) {
		const struct pci_intx_route *r = &d->intx;
		if (d->pd)
			kprintf("intx: pin INT%c line %u, bus-0 slot %u INT%c, %s", 'A' + r->pin - 1, r->line,
				r->root_slot, 'A' + r->root_pin - 1, r->path);
		else
			kprintf("intx: %s", r->path);
		bool masked = false, pending = false;
		bool known = arch_irq_line_state(r->gsi, &masked, &pending);
		kprintf(" -> gsi %u %s active-%s, irq %#x, line %s%s\n", r->gsi, r->level ? "level" : "edge",
			r->active_low ? "low" : "high", d->intx_vec,
			!known ? "state unknown" : masked ? "masked" : "unmasked", pending ? " pending" : "");
	}
}

static void cmd_stats(struct vnetdev *d)
{
	/* Every pair, each read under the lock on its own: a consistent
	 * snapshot per pair is enough, and printing happens with interrupts on. */
	for (uint16_t q = 0; q < d->pairs; q++) {
		struct vnet_net_queue_stats s;
		unsigned long fl = irq_save();
		vnet_net_get_stats(d->net, q, &s);
		irq_restore(fl);
		kprintf("pair %u rx: packets %lu bytes %lu drops %lu errors %lu kicks %lu interrupts %lu merged %lu "
			"no_buf %lu\n",
			q, s.rx_packets, s.rx_bytes, s.rx_drops, s.rx_errors, s.rx_kicks, s.rx_interrupts, s.rx_merged,
			s.rx_no_buf);
		kprintf("pair %u tx: packets %lu bytes %lu drops %lu errors %lu kicks %lu interrupts %lu\n", q,
			s.tx_packets, s.tx_bytes, s.tx_drops, s.tx_errors, s.tx_kicks, s.tx_interrupts);
		kprintf("pair %u poll: polls %lu budget_exhausted %lu rearm_races %lu missed_notify %lu\n", q, s.polls,
			s.poll_budget_exhausted, s.poll_rearm_races, s.rx_missed_notify);
		/* Software moderation (opts.rx_moderation; moder=off disables). */
		uint64_t ppi = s.rx_interrupts ? s.rx_irq_packets * 100 / s.rx_interrupts : 0;
		kprintf("pair %u moder: interrupts %lu irq_packets %lu per_irq %lu.%02lu held %lu level %lu "
			"tx_stops %lu tx_wakes %lu\n", q, s.rx_interrupts, s.rx_irq_packets, ppi / 100, ppi % 100,
			s.moder_held, s.moder_level, s.tx_stops, s.tx_wakes);
	}
	/* Received and sent frames per queue pair on one line each, as
	 * `rx Q:COUNT ...` (what the RSS tests read). */
	for (int dir = 0; dir < 2; dir++) {
		kprintf("%s", dir ? "tx" : "rx");
		for (uint16_t q = 0; q < d->pairs; q++) {
			struct vnet_net_queue_stats s;
			unsigned long fl = irq_save();
			vnet_net_get_stats(d->net, q, &s);
			irq_restore(fl);
			kprintf(" %u:%lu", q, dir ? s.tx_packets : s.rx_packets);
		}
		kprintf("\n");
	}
	kprintf("virtqueues:\n");
	for (uint16_t q = 0; q < d->pairs; q++) {
		char l[8];
		ksnprintf(l, sizeof(l), "rx%u", q);
		vq_stats_line(d->net, l, vnet_net_rxq(d->net, q));
		ksnprintf(l, sizeof(l), "tx%u", q);
		vq_stats_line(d->net, l, vnet_net_txq(d->net, q));
	}
	vq_stats_line(d->net, "ctrl", vnet_net_ctrlq(d->net));
	kprintf("msix entries:");
	for (int i = 0; i < d->nvec && i < (int)ARRAY_SIZE(d->entry_irqs); i++) {
		if (i && i % 16 == 0)
			kprintf("\n             ");
		kprintf(" %d:%lu", i, d->entry_irqs[i]);
		if (d->pd && i < PCI_MSIX_MAX && d->pd->msix_vec[i] >= 0)
			kprintf("@%#x", d->pd->msix_vec[i]);   /* the irq (x86_64: IDT vector) it is bound to */
		bool masked, pending;
		if (d->pd && pci_msix_entry_state(d->pd, (unsigned)i, &masked, &pending) && (masked || pending))
			kprintf("%s%s", masked ? "/masked" : "", pending ? "/pending" : "");
	}
	kprintf("\n");
	if (d->intx_vec >= 0)
		kprintf("intx gsi %u: interrupts %lu queue %lu config %lu none %lu\n", d->intx.gsi, d->intx_irqs,
			d->intx_queue, d->intx_config, d->intx_none);
	unsigned long fl = irq_save();
	uint64_t deferred = d->deferred, dpolls = d->deferred_polls, pending = d->pending;
	irq_restore(fl);
	kprintf("rx budget %u: deferred %lu deferred_polls %lu pending %#lx\n", VNET_RX_BUDGET, deferred, dpolls,
		pending);
	kprintf("lost notifications: rescued from the tick %lu%s (interrupt came later anyway: %lu), interrupts "
		"dropped by lostirq %lu (%u to go)\n", d->rx_missed, d->rescue_off ? " (rescue OFF)" : "",
		d->rx_missed_late, d->irq_dropped, d->irq_drop);
	kprintf("glue: isr_reads %lu linearised %lu too_long %lu tx_nobuf %lu tx_too_big %lu tx_link_down %lu "
		"pool_free %u\n", d->isr_reads, d->linearised, d->too_long, d->tx_nobuf, d->tx_too_big, d->tx_link_down,
		vnet_net_pool_free_count(d->net));
}

/*
 * vnet lostirq [vnetN] COUNT [norescue]: fault injection.  The next COUNT
 * receive interrupts of the device are swallowed (as a device or interrupt
 * path that loses them: with EVENT_IDX the device does not notify again,
 * so the queue stays quiet until someone polls it).  The tick's
 * lost-notification check (vd_rx_rescue) then services the queue within
 * 10-20 ms; norescue turns that check off until the next lostirq without
 * it, to show what it prevents.
 */
static int cmd_lostirq(int argc, char **argv)
{
	int ifn = 0, a = 2;
	if (argc >= 3 && !strncmp(argv[2], "vnet", 4))
		ifn = net_if_parse(argv[a++]);
	bool norescue = argc == a + 2 && !strcmp(argv[a + 1], "norescue");
	uint64_t n = 0;
	if (ifn < 0 || a >= argc || (argc != a + 1 && !norescue) || !kstrtou64(argv[a], &n) || n > 1000000) {
		kprintf("usage: vnet lostirq [vnetN] COUNT [norescue]\n");
		return 1;
	}
	struct vnetdev *d = vd_get((unsigned)ifn);
	if (!d || !d->net) {
		kprintf("vnet%d: not up\n", ifn);
		return 1;
	}
	unsigned long f = irq_save();
	d->irq_drop = (uint32_t)n;
	d->rescue_off = norescue;
	uint64_t dropped = d->irq_dropped, missed = d->rx_missed;
	irq_restore(f);
	kprintf("%s: the next %lu receive interrupt(s) will be dropped; lost-notification rescue %s (dropped so "
		"far %lu, rescued %lu)\n", d->name, n, norescue ? "OFF" : "on", dropped, missed);
	return 0;
}

static int cmd_vnet(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "bench"))
		return vd_bench_cmd(argc, argv); /* vnet_bench.c */
	if (argc >= 2 && !strcmp(argv[1], "hashlog")) {
		int hn = argc >= 3 ? net_if_parse(argv[2]) : 0;
		bool clear = argc == 4 && !strcmp(argv[3], "clear");
		struct vnetdev *hd = hn >= 0 ? vd_get((unsigned)hn) : NULL;
		if (argc > 4 || (argc == 4 && !clear) || hn < 0) {
			kprintf("usage: vnet hashlog [vnetN] [clear]\n");
			return 1;
		}
		if (!hd || !hd->net) {
			kprintf("vnet%d: not up\n", hn);
			return 1;
		}
		return vd_hashlog_cmd(hd, clear);
	}
	if (argc >= 2 && !strcmp(argv[1], "lostirq"))
		return cmd_lostirq(argc, argv);
	int ifn = argc == 3 ? net_if_parse(argv[2]) : 0;
	if (argc < 2 || argc > 3 || (strcmp(argv[1], "info") && strcmp(argv[1], "stats")) || ifn < 0) {
		kprintf("usage: vnet info|stats [vnetN] | hashlog [vnetN] [clear] | bench tx|rx|echo SECONDS ... | "
			"lostirq [vnetN] COUNT [norescue]\n");
		return 1;
	}
	struct vnetdev *d = vd_get((unsigned)ifn);
	if (!d || !d->net) {
		kprintf("vnet%d: not up\n", ifn);
		return 1;
	}
	if (!strcmp(argv[1], "info"))
		cmd_info(d);
	else
		cmd_stats(d);
	return 0;
}

static const struct shell_cmd vnet_cmd = {"vnet", "vnet info|stats [vnetN]: virtio-net device state and counters; "
						  "vnet bench tx|rx|echo SECONDS [vnetN] [--size B] [--pair Q]; "
						  "vnet hashlog [vnetN] [clear]: last 512 frames' rx hash; "
						  "vnet lostirq [vnetN] COUNT [norescue]: drop receive interrupts (fault injection) "
						  "(default vnet0; control: virtio_net_control_set)", cmd_vnet};

void vd_cmd_init(void)
{
	shell_register(&vnet_cmd);
}
