/*
 * The shell's "vnet bench tx|rx|echo SECONDS [vnetN] [--size B] [--pair Q]":
 * a poll-mode data-path benchmark through the core's burst API
 * (issue 14, the kernel half of bench/kernel-vs-linux.sh).
 *   tx    pre-built UDP/IPv4 frames (64 bytes unless --size) in bursts of
 *         BENCH_BURST through vnet_net_tx_burst;
 *   rx    vnet_net_rx_burst, count and free;
 *   echo  receive, swap the Ethernet addresses and send the frame back
 *         (testpmd's macswap in reverse).
 * The whole run holds interrupts off (the single CPU's one lock, see
 * vnet_priv.h) and the pair's receive notifications disabled, so neither
 * the tick nor the device interrupts it; the device's previous state is
 * restored afterwards (an interrupt-mode pair gets its notifications
 * re-armed and any frames that arrived meanwhile are served).  The counts
 * printed are the kernel's own: frames the driver took (tx) or returned
 * (rx); the receiver's count is what a benchmark should report.
 */
#include "vnet_priv.h"

#define BENCH_BURST 32u
#define BENCH_SIZE_MIN 60u

enum bench_kind { BENCH_TX, BENCH_RX, BENCH_ECHO };

struct bench_res {
	uint64_t frames, bytes, full, drops, polls_empty;
	uint64_t calls, call_ns, call_max_ns; /* the burst calls: count, time inside, worst */
};

/* Time one burst call (rdtsc-cheap timer_ns): where a slow run spends. */
static inline void bench_call_time(struct bench_res *r, uint64_t t0)
{
	uint64_t d = timer_ns() - t0;
	r->calls++;
	r->call_ns += d;
	if (d > r->call_max_ns)
		r->call_max_ns = d;
}

static uint16_t ip_csum(const uint8_t *h, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)h[i] << 8 | h[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Ethernet + IPv4 + UDP to 02:00:00:00:00:02 / 10.0.0.2:9 from the
 * device's address / 10.0.0.1:1024; payload zero (UDP checksum 0, none). */
static void build_frame(uint8_t *f, uint32_t len, const uint8_t mac[6])
{
	memset(f, 0, len);
	static const uint8_t dst[6] = {2, 0, 0, 0, 0, 2};
	memcpy(f, dst, 6);
	memcpy(f + 6, mac, 6);
	f[12] = 0x08;
	uint8_t *ip = f + 14;
	uint16_t iplen = (uint16_t)(len - 14);
	ip[0] = 0x45;
	ip[2] = (uint8_t)(iplen >> 8);
	ip[3] = (uint8_t)iplen;
	ip[8] = 64;
	ip[9] = 17;
	ip[12] = 10, ip[15] = 1;
	ip[16] = 10, ip[19] = 2;
	uint16_t c = ip_csum(ip, 20);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	uint8_t *udp = ip + 20;
	uint16_t ulen = (uint16_t)(iplen - 20);
	udp[0] = 0x04, udp[1] = 0x00; /* 1024 */
	udp[3] = 9;
	udp[4] = (uint8_t)(ulen >> 8);
	udp[5] = (uint8_t)ulen;
}

static void run_tx(struct vnetdev *d, uint16_t q, const uint8_t *frame, uint32_t len, uint64_t end,
		   struct bench_res *r)
{
	struct vnet_pkt *b[BENCH_BURST];
	while (timer_ns() < end) {
		unsigned n = 0;
		while (n < BENCH_BURST) {
			struct vnet_pkt *p = vnet_net_pkt_alloc(d->net);
			if (!p)
				break;
			memcpy(p->data, frame, len);
			p->len = len;
			p->next = NULL;
			p->flags = 0;
			b[n++] = p;
		}
		if (!n) {
			vnet_net_tx_reclaim(d->net, q);
			r->full++;
			continue;
		}
		uint64_t c0 = timer_ns();
		unsigned k = vnet_net_tx_burst(d->net, q, b, n);
		bench_call_time(r, c0);
		r->frames += k;
		r->bytes += (uint64_t)k * len;
		if (k < n) {
			r->full++;
			for (unsigned i = k; i < n; i++)
				vnet_net_pkt_free(d->net, b[i]);
		}
	}
}

static void run_rx(struct vnetdev *d, uint16_t q, bool echo, uint64_t end, struct bench_res *r)
{
	struct vnet_pkt *b[BENCH_BURST];
	while (timer_ns() < end) {
		uint64_t c0 = timer_ns();
		unsigned n = vnet_net_rx_burst(d->net, q, b, BENCH_BURST);
		bench_call_time(r, c0);
		if (!n) {
			r->polls_empty++;
			if (echo)
				vnet_net_tx_reclaim(d->net, q);
			continue;
		}
		for (unsigned i = 0; i < n; i++) {
			r->frames++;
			r->bytes += b[i]->pkt_len;
		}
		if (!echo) {
			for (unsigned i = 0; i < n; i++)
				vnet_net_pkt_free(d->net, b[i]);
			continue;
		}
		for (unsigned i = 0; i < n; i++) {
			uint8_t t[6], *f = b[i]->data;
			if (b[i]->len >= 12) {
				memcpy(t, f, 6);
				memcpy(f, f + 6, 6);
				memcpy(f + 6, t, 6);
			}
			b[i]->flags = 0; /* no offload metadata on the way back */
		}
		unsigned k = vnet_net_tx_burst(d->net, q, b, n);
		for (unsigned i = k; i < n; i++) {
			vnet_net_pkt_free(d->net, b[i]);
			r->drops++;
		}
	}
}

static int usage(void)
{
	kprintf("usage: vnet bench tx|rx|echo SECONDS [vnetN] [--size B] [--pair Q]\n");
	return 1;
}

int vd_bench_cmd(int argc, char **argv)
{
	if (argc < 4)
		return usage();
	enum bench_kind kind;
	if (!strcmp(argv[2], "tx"))
		kind = BENCH_TX;
	else if (!strcmp(argv[2], "rx"))
		kind = BENCH_RX;
	else if (!strcmp(argv[2], "echo"))
		kind = BENCH_ECHO;
	else
		return usage();
	uint64_t secs, size = 64, pair = 0;
	if (!kstrtou64(argv[3], &secs) || !secs || secs > 3600)
		return usage();
	int ifn = 0;
	for (int i = 4; i < argc; i++) {
		if (!strcmp(argv[i], "--size") && i + 1 < argc) {
			if (!kstrtou64(argv[++i], &size))
				return usage();
		} else if (!strcmp(argv[i], "--pair") && i + 1 < argc) {
			if (!kstrtou64(argv[++i], &pair))
				return usage();
		} else if ((ifn = net_if_parse(argv[i])) < 0) {
			return usage();
		}
	}
	struct vnetdev *d = vd_get((unsigned)ifn);
	if (!d || !d->net || !d->up) {
		kprintf("vnet%d: not up\n", ifn);
		return 1;
	}
	if (pair >= d->pairs) {
		kprintf("%s: pair %lu out of range (%u pair(s))\n", d->name, pair, d->pairs);
		return 1;
	}
	if (size < BENCH_SIZE_MIN || size > d->tx_room || size > 1514) {
		kprintf("%s: --size %lu out of range (%u..%u)\n", d->name, size, BENCH_SIZE_MIN,
			d->tx_room < 1514 ? d->tx_room : 1514);
		return 1;
	}
	uint16_t q = (uint16_t)pair;
	static uint8_t frame[1514];
	struct vnet_net_info ni;
	unsigned long fl = irq_save();
	vnet_net_get_info(d->net, &ni);
	irq_restore(fl);
	build_frame(frame, (uint32_t)size, ni.mac);

	struct vnet_net_queue_stats s0, s1;
	struct bench_res r = {0};
	bool irq_mode = !vd_polled(d);
	fl = irq_save(); /* poll mode: nothing interrupts the run */
	vnet_net_get_stats(d->net, q, &s0);
	if (irq_mode)
		vnet_net_rx_intr_disable(d->net, q);
	uint64_t t0 = timer_ns(), end = t0 + secs * 1000000000ull;
	if (kind == BENCH_TX)
		run_tx(d, q, frame, (uint32_t)size, end, &r);
	else
		run_rx(d, q, kind == BENCH_ECHO, end, &r);
	uint64_t t1 = timer_ns();
	vnet_net_tx_reclaim(d->net, q);
	vnet_net_get_stats(d->net, q, &s1);
	/* Report before re-arming: under a flood (testpmd txonly) the
	 * interrupts that follow the re-arm can keep a slow (nested) vCPU busy
	 * long enough that the shell looked hung; the figures are out first. */
	uint64_t ns = t1 - t0 ? t1 - t0 : 1;
	uint64_t kpps = r.frames * 1000000ull / ns; /* thousands of frames per second */
	kprintf("bench %s %s pair %u size %lu: frames %lu bytes %lu ns %lu mpps(own count) %lu.%03lu\n", argv[2],
		d->name, q, kind == BENCH_TX ? size : 0, r.frames, r.bytes, ns, kpps / 1000, kpps % 1000);
	kprintf("bench %s %s: ring_full %lu echo_drops %lu empty_polls %lu driver rx_drops %lu rx_errors %lu "
		"tx_drops %lu tx_errors %lu tx_kicks %lu rx_kicks %lu\n",
		argv[2], d->name, r.full, r.drops, r.polls_empty, s1.rx_drops - s0.rx_drops,
		s1.rx_errors - s0.rx_errors, s1.tx_drops - s0.tx_drops, s1.tx_errors - s0.tx_errors,
		s1.tx_kicks - s0.tx_kicks, s1.rx_kicks - s0.rx_kicks);
	kprintf("bench %s %s: burst calls %lu ns in them %lu worst %lu\n", argv[2], d->name, r.calls, r.call_ns,
		r.call_max_ns);
	/* Back to how the device ran: re-arm the pair and serve what came in
	 * meanwhile (the stack's frames: ARP, echo) the ordinary way. */
	if (irq_mode && !vnet_net_rx_intr_enable(d->net, q))
		(void)vd_service_pair(d, q, VNET_POLL_BUDGET, 0);
	irq_restore(fl);

	return 0;
}
