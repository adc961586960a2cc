/*
 * ICMP echo client (`ping`), ARP resolution with retries, and the stack's
 * shell commands (`ping <ip> [count] [vnetN]`, `net stats [vnetN]`).
 *
 * These run in main context.  They take the stack's lock (interrupts off)
 * to send and to look at shared state, and wait for the receive path with
 * interrupts on: net_wait_once() runs the devices' main-context service
 * (netdev_service: receive work an interrupt deferred past its budget,
 * and poll mode), then `hlt` until the next interrupt if nothing is left.  Every wait
 * has a deadline; the 100 Hz tick bounds each `hlt`.
 *
 * RTT: the send time is taken right before the frame is handed to the
 * driver, the receive time when the stack processes the reply (in the
 * interrupt handler, or in the poll loop), both from the TSC.
 */
#include "orion/arch.h"
#include "orion/klib.h"
#include "orion/kprintf.h"
#include "orion/net.h"
#include "orion/shell.h"
#include "orion/timer.h"
#include "net_priv.h"

#define PING_ID 0x4f52u           /* "OR" */
#define PING_DATA_LEN 56u         /* the classic ping payload (the default) */
#define MS_NS 1000000ull

static struct {
	bool active, got, bad_data;
	uint32_t dst;
	uint16_t seq;
	size_t len;               /* data bytes of the request */
	uint64_t t_sent, t_recv;
} pend;
static uint16_t next_seq = 1;

static uint8_t ping_byte(uint16_t seq, size_t i) { return (uint8_t)(i * 7u + seq); }

void net_ping_reply(uint32_t src, uint16_t id, uint16_t seq, const uint8_t *data, size_t len)
{
	if (!pend.active || pend.got || id != PING_ID || seq != pend.seq || src != pend.dst)
		return;
	pend.t_recv = timer_ns();
	bool ok = len == pend.len;
	for (size_t i = 0; ok && i < len; i++)
		ok = data[i] == ping_byte(seq, i);
	pend.bad_data = !ok;
	pend.got = true;
}

void net_wait_once(void)
{
	/* Deferred receive work and poll mode run here, in main context;
	 * the check and the wait are atomic (arch_idle; x86 sti; hlt), so
	 * work an interrupt defers after the check still wakes us at the
	 * latest on the tick. */
	irq_disable();
	bool more = netdev_service();
	if (more || netdev_needs_poll()) {
		irq_enable();
		cpu_relax();
		timer_poll_tick();
	} else {
		/* Sleep until the next interrupt (an MSI-X message, or at the
		 * latest the 10 ms tick). */
		arch_idle();
	}
}

bool net_arp_resolve(unsigned ifn, uint32_t ip, uint8_t mac[6], uint64_t timeout_ns, unsigned tries)
{
	if (tries == 0)
		tries = 1;
	for (unsigned t = 0; t < tries; t++) {
		unsigned long f = irq_save();
		bool hit = net_arp_lookup(ifn, ip, mac);
		if (!hit)
			net_arp_request(ifn, ip);
		irq_restore(f);
		if (hit)
			return true;
		uint64_t deadline = timer_ns() + timeout_ns / tries;
		while (timer_ns() < deadline) {
			f = irq_save();
			hit = net_arp_lookup(ifn, ip, mac);
			irq_restore(f);
			if (hit)
				return true;
			net_wait_once();
		}
	}
	return false;
}

/* Send one echo request and wait for its reply.  Returns 1 with *rtt_ns
 * set, 0 on timeout, -1 if it could not be sent. */
static int ping_one(unsigned ifn, uint32_t ip, const uint8_t mac[6], size_t dlen, uint64_t timeout_ns,
                    uint64_t *rtt_ns)
{
	unsigned long f = irq_save();
	uint16_t seq = next_seq++;
	uint8_t *icmp = net_tx_payload() + 20;
	icmp[0] = 8;
	icmp[1] = 0;
	net_wr16(icmp + 2, 0);
	net_wr16(icmp + 4, PING_ID);
	net_wr16(icmp + 6, seq);
	for (size_t i = 0; i < dlen; i++)
		icmp[8 + i] = ping_byte(seq, i);
	net_wr16(icmp + 2, net_csum_fold(net_csum_add(0, icmp, 8 + dlen)));
	pend.active = true;
	pend.got = false;
	pend.dst = ip;
	pend.seq = seq;
	pend.len = dlen;
	pend.t_sent = timer_ns();
	int rc = net_ip_send(ifn, mac, ip, 1, 8 + dlen);
	irq_restore(f);
	if (rc != 0) {
		pend.active = false;
		return -1;
	}
	uint64_t deadline = pend.t_sent + timeout_ns;
	for (;;) {
		f = irq_save();
		bool got = pend.got;
		irq_restore(f);
		if (got)
			break;
		if (timer_ns() > deadline) {
			pend.active = false;
			return 0;
		}
		net_wait_once();
	}
	pend.active = false;
	if (pend.bad_data) {
		kprintf("ping: reply icmp_seq=%u with corrupted payload\n", seq);
		return 0;
	}
	*rtt_ns = pend.t_recv - pend.t_sent;
	kprintf("%u bytes from %u.%u.%u.%u: icmp_seq=%u rtt=%lu us\n", (unsigned)(8 + dlen), ip >> 24,
		(ip >> 16) & 255, (ip >> 8) & 255, ip & 255, seq, *rtt_ns / 1000);
	return 1;
}

int net_ping(unsigned ifn, uint32_t ip, unsigned count, uint64_t timeout_ns, struct net_ping_result *res)
{
	return net_ping_size(ifn, ip, count, PING_DATA_LEN, timeout_ns, res);
}

int net_ping_size(unsigned ifn, uint32_t ip, unsigned count, size_t dlen, uint64_t timeout_ns,
                  struct net_ping_result *res)
{
	struct net_ping_result r = {0};
	char ipbuf[16];
	uint8_t mac[6];
	uint32_t hop = net_next_hop(ifn, ip);
	net_fmt_ip(ip, ipbuf);
	if (!netdev_up(net_if_dev(ifn)) || !net_cfg(ifn)) {
		char nm[16];
		kprintf("ping: %s is not up\n", net_if_name(ifn, nm));
		if (res)
			*res = r;
		return 0;
	}
	kprintf("PING %s: %u data bytes, %u requests\n", ipbuf, (unsigned)dlen, count);
	uint64_t total = 0;
	for (unsigned i = 0; i < count; i++) {
		/* Resolve per request: an entry may expire, and the first ARP
		 * request can be lost while the peer learns about us. */
		if (!net_arp_resolve(ifn, hop, mac, timeout_ns, 3)) {
			char hb[16];
			kprintf("ping: no ARP reply from %s\n", net_fmt_ip(hop, hb));
			r.sent++;
			continue;
		}
		uint64_t rtt = 0;
		int rc = ping_one(ifn, ip, mac, dlen, timeout_ns, &rtt);
		r.sent++;
		if (rc < 0)
			kprintf("ping: transmit failed (no buffer, or larger than the MTU: net stats tx_too_big)\n");
		else if (rc == 0)
			kprintf("ping: request %u timed out\n", i + 1);
		if (rc != 1)
			continue;
		if (r.received == 0 || rtt < r.min_ns)
			r.min_ns = rtt;
		if (rtt > r.max_ns)
			r.max_ns = rtt;
		total += rtt;
		r.received++;
		if (i + 1 < count)
			delay_ms(10); /* spacing, so a burst is not mistaken for a flood */
	}
	if (r.received)
		r.avg_ns = total / r.received;
	kprintf("--- %s ping: %u sent, %u received, rtt min/avg/max = %lu/%lu/%lu us\n", ipbuf, r.sent,
		r.received, r.min_ns / 1000, r.avg_ns / 1000, r.max_ns / 1000);
	if (res)
		*res = r;
	return (int)r.received;
}

/* ------------------------------------------------------------ shell */

/* ping <A.B.C.D> [count] [vnetN] [-s size]: without a device, the
 * interface whose subnet holds the address, else vnet0 (net_if_for);
 * size = ICMP data bytes (default 56, at most a 64 KiB IPv4 packet; more
 * than the MTU allows is refused by the stack and counted). */
static int cmd_ping(int argc, char **argv)
{
	uint32_t ip;
	uint64_t count = 3, size = PING_DATA_LEN;
	int ifn = -1;
	bool bad = false;
	if (argc >= 4 && !strcmp(argv[argc - 2], "-s")) {
		bad = !kstrtou64(argv[argc - 1], &size) || size > 65535u - 20u - 8u;
		argc -= 2;
	}
	if (argc > 2 && argc <= 4 && (ifn = net_if_parse(argv[argc - 1])) >= 0)
		argc--;
	if (bad || argc < 2 || argc > 3 || !net_parse_ip(argv[1], &ip) ||
	    (argc > 2 && (!kstrtou64(argv[2], &count) || count == 0 || count > 100000))) {
		kprintf("usage: ping <A.B.C.D> [count] [vnetN] [-s size]\n");
		return 1;
	}
	if (ifn < 0)
		ifn = (int)net_if_for(ip);
	return net_ping_size((unsigned)ifn, ip, (unsigned)count, (size_t)size, 1000 * MS_NS, NULL) == (int)count ? 0 : 1;
}

static int cmd_net(int argc, char **argv)
{
	int ifn = argc == 3 ? net_if_parse(argv[2]) : 0;
	if (argc < 2 || argc > 3 || strcmp(argv[1], "stats") != 0 || ifn < 0) {
		kprintf("usage: net stats [vnetN|vnetN.VID]\n");
		return 1;
	}
	struct net_stats s;
	if (!net_get_stats((unsigned)ifn, &s)) {
		char nm[16];
		kprintf("%s: not up\n", net_if_name((unsigned)ifn, nm));
		return 1;
	}
	kprintf("eth:  rx %lu tx %lu tx_fail %lu runt %lu not_for_us %lu unknown_type %lu\n", s.rx_frames,
		s.tx_frames, s.tx_fail, s.rx_runt, s.rx_not_for_us, s.rx_unknown_ethertype);
	kprintf("arp:  rx %lu (req %lu reply %lu bad %lu) tx req %lu reply %lu cache_timeouts %lu\n", s.arp_rx,
		s.arp_req_rx, s.arp_reply_rx, s.arp_bad, s.arp_req_tx, s.arp_reply_tx, s.arp_cache_timeouts);
	kprintf("ipv4: rx %lu bad_hdr %lu bad_csum %lu bad_len %lu frag_dropped %lu not_for_us %lu unknown_proto %lu\n",
		s.ip_rx, s.ip_bad_hdr, s.ip_bad_csum, s.ip_bad_len, s.ip_frag_dropped, s.ip_not_for_us,
		s.ip_unknown_proto);
	kprintf("icmp: rx %lu bad %lu echo_req_rx %lu echo_reply_tx %lu echo_reply_rx %lu\n", s.icmp_rx, s.icmp_bad,
		s.icmp_echo_req_rx, s.icmp_echo_reply_tx, s.icmp_echo_reply_rx);
	kprintf("udp:  rx %lu bad %lu no_port %lu echo_tx %lu\n", s.udp_rx, s.udp_bad, s.udp_no_port, s.udp_echo_tx);
	kprintf("size: mtu %u tx_too_big %lu; csum offloaded rx %lu tx %lu\n", net_if_mtu((unsigned)ifn), s.tx_too_big,
		s.rx_csum_offloaded, s.tx_csum_offloaded);
	kprintf("vlan: rx %lu unknown_vid %lu bad %lu tx %lu; arp announce_tx %lu\n", s.vlan_rx, s.vlan_unknown,
		s.vlan_bad, s.vlan_tx, s.arp_announce_tx);
	return 0;
}

static const struct shell_cmd ping_cmd = {"ping", "ping <A.B.C.D> [count] [vnetN] [-s size]: ICMP echo, RTT in us", cmd_ping};
static const struct shell_cmd net_cmd = {"net", "net stats [vnetN|vnetN.VID]: IPv4 stack counters (default vnet0)",
					 cmd_net};

void net_shell_init(void)
{
	shell_register(&ping_cmd);
	shell_register(&net_cmd);
	net_tcp_shell_init();
}
