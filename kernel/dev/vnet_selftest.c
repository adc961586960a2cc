/*
 * selftest=ping and selftest=echo over vnet0 (the boot and integration
 * tests' entry points), and the one-line counter summary they print.
 */
#include "vnet_priv.h"

/*
 * One line of counters printed at the end of the network self-tests, for
 * scripts: vnet0's interrupt mode and how often each source fired, and the
 * frames each queue pair received and sent.
 */
static void vd_print_counters(struct vnetdev *d)
{
	if (!d || !d->net)
		return;
	unsigned long f = irq_save();
	uint64_t irqs = 0;
	if (d->mode == MODE_IRQ)
		for (unsigned i = 0; i < ARRAY_SIZE(d->entry_irqs); i++)
			irqs += d->entry_irqs[i];
	uint64_t intx = d->intx_irqs, intx_q = d->intx_queue, none = d->intx_none, isr = d->isr_reads;
	irq_restore(f);
	kprintf("%s: counters mode %s msix_irqs %lu intx_irqs %lu intx_queue %lu intx_none %lu isr_reads %lu rx",
		d->name, vd_mode_name(d->mode), irqs, intx, intx_q, none, isr);
	struct vnet_net_queue_stats st;
	for (uint16_t q = 0; q < d->pairs; q++) {
		f = irq_save();
		vnet_net_get_stats(d->net, q, &st);
		irq_restore(f);
		kprintf(" %u:%lu", q, st.rx_packets);
	}
	kprintf(" tx");
	for (uint16_t q = 0; q < d->pairs; q++) {
		f = irq_save();
		vnet_net_get_stats(d->net, q, &st);
		irq_restore(f);
		kprintf(" %u:%lu", q, st.tx_packets);
	}
	kprintf("\n");
}

static int selftest_ping(void)
{
	if (!netdev_up(0)) {
		kprintf("selftest ping: FAIL vnet0 is not up\n");
		return -1;
	}
	struct net_ping_result r;
	uint32_t gw = net_cfg(0)->gw;
	net_ping(0, gw, 3, 1000 * MS_NS, &r);
	vd_print_counters(vd_get(0));
	if (r.received != 3) {
		kprintf("selftest ping: FAIL %u of %u echo replies from the gateway\n", r.received, r.sent);
		return -1;
	}
	kprintf("selftest ping: PASS rtt min/avg/max = %lu/%lu/%lu us\n", r.min_ns / 1000, r.avg_ns / 1000,
		r.max_ns / 1000);
	return 0;
}

/* Serve (ARP, ICMP echo, UDP echo on port 7, on every interface) until the
 * stop datagram arrives on any of them. */
static int selftest_echo(void)
{
	if (!netdev_up(0)) {
		kprintf("selftest echo: FAIL vnet0 is not up\n");
		return -1;
	}
	kprintf("vnet0: echo service on udp port %u; stop with the datagram \"%s\"\n", NET_UDP_ECHO_PORT,
		NET_ECHO_STOP_MAGIC);
	while (!net_echo_stop_requested())
		net_wait_once();
	/* Let the echo of the stop datagram leave before powering off. */
	uint64_t end = timer_ns() + 50 * MS_NS;
	while (timer_ns() < end)
		net_wait_once();
	struct net_stats s;
	for (unsigned i = 1; i < vnet_ndevs; i++)
		if (net_get_stats(i, &s))
			kprintf("vnet%u: udp echoed %lu, udp bad %lu, ip bad csum %lu\n", i, s.udp_echo_tx, s.udp_bad,
				s.ip_bad_csum);
	net_get_stats(0, &s);
	vd_print_counters(vd_get(0));
	kprintf("selftest echo: PASS udp echoed %lu, udp bad %lu, ip bad csum %lu\n", s.udp_echo_tx, s.udp_bad,
		s.ip_bad_csum);
	return 0;
}

static const struct selftest ping_test = {"ping", selftest_ping};
static const struct selftest echo_test = {"echo", selftest_echo};

void vd_selftest_init(void)
{
	selftest_register(&ping_test);
	selftest_register(&echo_test);
}
