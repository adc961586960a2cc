/*
 * Orion's minimal TCP (RFC 9293 subset): one connection at a time, for
 * bulk transfers with a Linux peer through the orion-vnet driver.
 *
 * What it does:
 *   - three-way handshake both ways (tcp_connect, tcp_listen), with the
 *     MSS option (ours: the interface MTU - 40; the peer's taken as the
 *     sending limit, 536 without the option);
 *   - sending a stream of known length from a fill callback: as much as
 *     the peer's window allows, in MSS-sized segments (or TSO super-frames
 *     when the device negotiated HOST_TSO4), then FIN;
 *   - receiving in order into a callback, which consumes at once, so the
 *     advertised window is always TCP_RCV_WND; ACK every second full
 *     segment, at once for PSH, FIN and anything out of order, else from
 *     tcp_poll (delayed ACK);
 *   - retransmission on timeout (RFC 6298 estimator, Karn's rule, 200 ms
 *     minimum, doubling back-off, go-back-N from the oldest unacknowledged
 *     byte; the fill callback regenerates the bytes) and fast retransmit
 *     of one segment after three duplicate ACKs;
 *   - FIN in both directions (FIN_WAIT_1/2, CLOSING, TIME_WAIT, CLOSE_WAIT,
 *     LAST_ACK); TIME_WAIT keeps answering the peer's retransmitted FIN
 *     until the next connection replaces it;
 *   - RST for segments no connection or listener expects (RFC 9293 3.10.7.1
 *     "reset generation"), an ACK in LISTEN, a bad ACK in SYN_SENT or
 *     SYN_RCVD; an RST at exactly the expected sequence aborts, one
 *     elsewhere in the window gets a challenge ACK (RFC 5961);
 *   - every segment's checksum is checked in software unless the device
 *     says DATA_VALID or NEEDS_CSUM (the frame never left the host); the
 *     header's data offset and options are bounds-checked;
 *   - checksum offload (VIRTIO_NET_F_CSUM) and TSO (HOST_TSO4) on transmit
 *     when the device negotiated them.
 * What it does not: congestion control (the window is the only limit:
 *   fine on a point-to-point TAP), window scaling, SACK, timestamps,
 *   out-of-order queueing (such bytes are dropped and re-asked for),
 *   urgent data, more than one connection, IPv6.
 *
 * Sequence space is kept as 64-bit offsets from the ISS (0 = our SYN,
 * 1..total = data, total + 1 = FIN), the same for the peer's side from
 * its ISN; 32-bit sequence numbers exist only on the wire, so a stream
 * may be longer than 4 GiB and every comparison is plain arithmetic.
 * An incoming number is turned into an offset by its signed 32-bit
 * distance from the expected one.
 *
 * Context: interrupts off (the stack's lock) everywhere; net_tcp_input
 * runs from the receive path, tcp_poll and the API from main context
 * (they take the lock).  Segments are built in the stack's one transmit
 * frame (net_tx_payload).
 */
#include "tcp.h"

#include "orion/klib.h"
#include "orion/kprintf.h"
#include "orion/net.h"
#include "orion/timer.h"
#include "net_priv.h"

#define TCP_HLEN 20u
#define IP_HLEN 20u
#define IP_PROTO_TCP 6u
#define TCP_F_FIN 0x01u
#define TCP_F_SYN 0x02u
#define TCP_F_RST 0x04u
#define TCP_F_PSH 0x08u
#define TCP_F_ACK 0x10u
#define TCP_RCV_WND 65535u            /* no window scaling: the largest unscaled window */
#define TCP_MSS_DEFAULT 536u           /* RFC 9293 3.7.1: without the option */
#define MS_NS ((uint64_t)1000000)
#define TCP_RTO_INIT_NS (1000 * MS_NS) /* RFC 6298 2.1 */
#define TCP_RTO_MIN_NS (200 * MS_NS)   /* Linux's minimum; RFC 6298's 1 s is far above a TAP's RTT */
#define TCP_RTO_MAX_NS (8000 * MS_NS)
#define TCP_MAX_RETRIES 10u            /* consecutive timeouts before the connection is aborted */
#define TCP_DUPACKS 3u                 /* RFC 5681 fast retransmit threshold */

struct tcb {
	enum tcp_state state;
	bool sender;
	unsigned ifn;
	uint8_t mac[6];
	uint32_t lip, rip;
	uint16_t lport, rport;
	uint32_t iss, irs;
	/* Our side, offsets from iss: snd_una oldest unacknowledged, snd_nxt
	 * next to send (moved back by a timeout), snd_max one past the
	 * highest sent. */
	uint64_t snd_una, snd_nxt, snd_max;
	uint32_t snd_wnd;
	uint64_t total;                  /* data bytes to send (sender) */
	bool want_fin;                   /* send FIN after the data */
	/* Peer's side, offsets from irs: rcv_nxt is the next expected. */
	uint64_t rcv_nxt;
	uint32_t unacked;                /* bytes received since our last ACK */
	bool ack_pending;
	bool fin_rcvd;
	uint16_t mss, peer_mss;
	bool csum, tso;
	tcp_fill_fn fill;
	tcp_recv_fn recv;
	void *arg;
	/* Retransmission timer (RFC 6298), 0 = off. */
	uint64_t rto_ns, deadline;
	unsigned retries;
	bool rtt_on;
	uint64_t rtt_off, rtt_t;
	uint64_t srtt, rttvar;
	unsigned dupacks;
	struct tcp_info info;
};

static struct tcb tc;
static struct tcp_stats ts;
static uint16_t next_port;

static const char *const state_names[] = {
	"CLOSED", "LISTEN", "SYN_SENT", "SYN_RCVD", "ESTABLISHED", "FIN_WAIT_1",
	"FIN_WAIT_2", "CLOSING", "TIME_WAIT", "CLOSE_WAIT", "LAST_ACK",
};

const char *tcp_state_name(enum tcp_state s)
{
	return (unsigned)s < ARRAY_SIZE(state_names) ? state_names[s] : "?";
}

static void set_state(enum tcp_state s)
{
	tc.state = s;
	tc.info.state = s;
}

/* ------------------------------------------------------------ output */

static uint32_t pseudo_sum(uint32_t src, uint32_t dst, size_t len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + IP_PROTO_TCP + (uint32_t)len;
}

/*
 * Build and send one segment in the stack's transmit frame: header at
 * net_tx_payload() + 20, then (SYN) the MSS option, then dlen data bytes
 * written by fill at stream offset doff.  super: a TSO super-frame cut by
 * the device into mss-sized segments.  0, or -1 if the device refused.
 */
static int seg_send(unsigned ifn, const uint8_t mac[6], uint32_t lip, uint32_t rip, uint16_t lport, uint16_t rport,
                    uint32_t seq, uint32_t ack, uint8_t flags, uint16_t mss_opt, uint64_t doff, size_t dlen,
                    bool csum, uint16_t gso_size)
{
	uint8_t *h = net_tx_payload() + IP_HLEN;
	size_t hlen = TCP_HLEN + (mss_opt ? 4u : 0u);
	net_wr16(h, lport);
	net_wr16(h + 2, rport);
	net_wr32(h + 4, seq);
	net_wr32(h + 8, ack);
	h[12] = (uint8_t)((hlen / 4u) << 4);
	h[13] = flags;
	net_wr16(h + 14, TCP_RCV_WND);
	net_wr16(h + 16, 0);
	net_wr16(h + 18, 0);
	if (mss_opt) {
		h[20] = 2; /* kind MSS */
		h[21] = 4;
		net_wr16(h + 22, mss_opt);
	}
	if (dlen)
		tc.fill(tc.arg, doff, h + hlen, dlen);
	size_t len = hlen + dlen;
	struct netdev_txmeta m = {0};
	uint32_t ps = pseudo_sum(lip, rip, len);
	if (csum) {
		/* The device sums from csum_start to the end, this field
		 * included: it holds the pseudo-header sum, folded, not
		 * inverted (VirtIO 1.2 §5.1.6.2, as Linux fills it). */
		m.csum = true;
		m.csum_start = NET_ETH_HLEN + IP_HLEN;
		m.csum_offset = 16;
		net_wr16(h + 16, (uint16_t)~net_csum_fold(ps));
		if (gso_size && dlen > gso_size) {
			m.gso_size = gso_size;
			m.hdr_len = (uint16_t)(NET_ETH_HLEN + IP_HLEN + hlen);
		}
	} else {
		net_wr16(h + 16, net_csum_fold(net_csum_add(ps, h, len)));
	}
	if (net_ip_send_meta(ifn, mac, rip, IP_PROTO_TCP, len, csum ? &m : NULL) != 0) {
		ts.tx_fail++;
		return -1;
	}
	ts.tx_segs++;
	if (csum)
		ts.tx_csum_offloaded++;
	if (m.gso_size) {
		ts.tx_tso++;
		ts.tx_tso_bytes += dlen;
	}
	if (flags & TCP_F_RST)
		ts.rst_tx++;
	return 0;
}

/* A segment of the connection at our offset off (flags, data if dlen). */
static int conn_send(uint64_t off, uint8_t flags, size_t dlen)
{
	uint16_t mss_opt = (flags & TCP_F_SYN) ? (uint16_t)(net_if_mtu(tc.ifn) - IP_HLEN - TCP_HLEN) : 0;
	uint32_t ack = (flags & TCP_F_ACK) ? tc.irs + (uint32_t)tc.rcv_nxt : 0;
	int rc = seg_send(tc.ifn, tc.mac, tc.lip, tc.rip, tc.lport, tc.rport, tc.iss + (uint32_t)off, ack, flags,
			  mss_opt, off - 1, dlen, tc.csum, tc.tso ? tc.mss : 0);
	if (rc == 0 && (flags & TCP_F_ACK)) {
		tc.unacked = 0;
		tc.ack_pending = false;
	}
	return rc;
}

static void send_ack(void) { conn_send(tc.snd_nxt, TCP_F_ACK, 0); }

/* RST in answer to a segment nothing expects (RFC 9293 3.10.7.1). */
static void send_reset(unsigned ifn, const uint8_t mac[6], uint32_t lip, uint32_t rip, uint16_t lport,
                       uint16_t rport, uint8_t in_flags, uint32_t in_seq, uint32_t in_ack, size_t in_len)
{
	if (in_flags & TCP_F_RST)
		return; /* never answer a reset */
	if (in_flags & TCP_F_ACK) {
		seg_send(ifn, mac, lip, rip, lport, rport, in_ack, 0, TCP_F_RST, 0, 0, 0, false, 0);
	} else {
		uint32_t ack = in_seq + (uint32_t)in_len + ((in_flags & TCP_F_SYN) ? 1u : 0u) +
			       ((in_flags & TCP_F_FIN) ? 1u : 0u);
		seg_send(ifn, mac, lip, rip, lport, rport, 0, ack, TCP_F_RST | TCP_F_ACK, 0, 0, 0, false, 0);
	}
}

static void timer_arm(void)
{
	tc.deadline = timer_ns() + tc.rto_ns;
}

/* Largest data bytes in one frame: an MSS, or a TSO super-frame of whole
 * MSS-sized segments that fits an IPv4 packet. */
static size_t seg_max(void)
{
	if (!tc.tso)
		return tc.mss;
	size_t n = (65535u - IP_HLEN - TCP_HLEN) / tc.mss;
	return n * tc.mss;
}

/* Send what the window allows: data, then FIN once wanted. */
static void output(void)
{
	if (tc.state != TCP_ESTABLISHED && tc.state != TCP_CLOSE_WAIT && tc.state != TCP_FIN_WAIT_1 &&
	    tc.state != TCP_CLOSING && tc.state != TCP_LAST_ACK)
		return;
	uint64_t data_end = 1 + tc.total; /* offset after the last data byte = the FIN's */
	for (;;) {
		uint64_t right = tc.snd_una + tc.snd_wnd;
		if (tc.snd_nxt < data_end) {
			uint64_t lim = data_end < right ? data_end : right;
			if (lim <= tc.snd_nxt)
				break; /* window closed: the timer probes it */
			uint64_t avail = lim - tc.snd_nxt;
			size_t len = avail < seg_max() ? (size_t)avail : seg_max();
			/* Avoid silly small segments while bytes are in flight:
			 * wait for the window to open by a full MSS. */
			if (len < tc.mss && tc.snd_nxt + len < data_end && tc.snd_una < tc.snd_nxt)
				break;
			uint8_t flags = TCP_F_ACK;
			bool last = tc.snd_nxt + len == data_end;
			if (last)
				flags |= TCP_F_PSH;
			if (last && tc.want_fin && tc.snd_nxt + len < right)
				flags |= TCP_F_FIN;
			if (conn_send(tc.snd_nxt, flags, len) != 0)
				break; /* ring full: tcp_poll tries again */
			if (!tc.rtt_on && tc.snd_nxt == tc.snd_max) {
				tc.rtt_on = true;
				tc.rtt_off = tc.snd_nxt + len;
				tc.rtt_t = timer_ns();
			}
			tc.snd_nxt += len + ((flags & TCP_F_FIN) ? 1u : 0u);
		} else if (tc.want_fin && tc.snd_nxt == data_end) {
			if (conn_send(tc.snd_nxt, TCP_F_ACK | TCP_F_FIN, 0) != 0)
				break;
			tc.snd_nxt++;
		} else {
			break;
		}
		if (tc.snd_nxt > tc.snd_max)
			tc.snd_max = tc.snd_nxt;
		if (tc.snd_nxt > data_end) {
			/* The FIN is out. */
			if (tc.state == TCP_ESTABLISHED)
				set_state(TCP_FIN_WAIT_1);
			else if (tc.state == TCP_CLOSE_WAIT)
				set_state(TCP_LAST_ACK);
		}
	}
	/* Bytes in flight, or a closed window with bytes left (the timer
	 * then sends a window probe). */
	bool left = tc.snd_nxt < data_end + (tc.want_fin ? 1u : 0u);
	if ((tc.snd_una < tc.snd_max || (left && tc.snd_wnd == 0)) && !tc.deadline)
		timer_arm();
}

/* ------------------------------------------------------------ input */

/* The MSS option of a SYN; 0 without one.  false if the options are
 * malformed (a length running past the header). */
static bool parse_opts(const uint8_t *o, size_t n, uint16_t *mss)
{
	*mss = 0;
	size_t i = 0;
	while (i < n) {
		uint8_t kind = o[i];
		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= n || o[i + 1] < 2 || i + o[i + 1] > n)
			return false;
		if (kind == 2 && o[i + 1] == 4)
			*mss = net_rd16(o + i + 2);
		i += o[i + 1];
	}
	return true;
}

static void conn_closed(const char *why)
{
	set_state(TCP_CLOSED);
	tc.deadline = 0;
	if (why && !tc.info.error)
		tc.info.error = why;
	if (!tc.info.t_done_ns)
		tc.info.t_done_ns = timer_ns();
}

/* Sending MSS: the peer's, capped by our MTU and by what the device takes
 * in one frame (a jumbo MTU with buffers smaller than a jumbo frame: we
 * then send smaller segments than we receive, which TCP allows). */
static void set_mss(uint16_t peer)
{
	unsigned ours = net_if_mtu(tc.ifn) - IP_HLEN - TCP_HLEN;
	struct netdev_caps c;
	if (netdev_caps(tc.ifn, &c) && c.max_tx >= NET_ETH_HLEN + IP_HLEN + TCP_HLEN + 64u &&
	    c.max_tx - NET_ETH_HLEN - IP_HLEN - TCP_HLEN < ours)
		ours = c.max_tx - NET_ETH_HLEN - IP_HLEN - TCP_HLEN;
	tc.peer_mss = peer ? peer : TCP_MSS_DEFAULT;
	tc.mss = (uint16_t)(tc.peer_mss < ours ? tc.peer_mss : ours);
	if (tc.mss < 64)
		tc.mss = 64; /* a peer asking for less gets a sane floor */
	tc.info.mss = tc.mss;
	tc.info.peer_mss = tc.peer_mss;
}

/* An RTT sample (RFC 6298 2.2/2.3, shifts of 1/8 and 1/4). */
static void rtt_sample(uint64_t r)
{
	if (!tc.srtt) {
		tc.srtt = r;
		tc.rttvar = r / 2;
	} else {
		uint64_t d = tc.srtt > r ? tc.srtt - r : r - tc.srtt;
		tc.rttvar = (3 * tc.rttvar + d) / 4;
		tc.srtt = (7 * tc.srtt + r) / 8;
	}
	uint64_t rto = tc.srtt + 4 * tc.rttvar;
	tc.rto_ns = rto < TCP_RTO_MIN_NS ? TCP_RTO_MIN_NS : rto > TCP_RTO_MAX_NS ? TCP_RTO_MAX_NS : rto;
}

/* The ACK field of a segment in a synchronised state.  false if it
 * acknowledges something never sent (answered with an ACK, dropped). */
static bool process_ack(uint32_t ack, uint32_t wnd, size_t dlen, bool fin)
{
	int32_t d = (int32_t)(ack - (tc.iss + (uint32_t)tc.snd_una));
	if (d < 0)
		return true; /* old duplicate */
	uint64_t una = tc.snd_una + (uint32_t)d;
	if (una > tc.snd_max) {
		ts.rx_unacceptable++;
		send_ack();
		return false;
	}
	if (d > 0) {
		tc.snd_una = una;
		tc.retries = 0;
		tc.dupacks = 0;
		if (tc.rtt_on && una >= tc.rtt_off) {
			rtt_sample(timer_ns() - tc.rtt_t);
			tc.rtt_on = false;
		}
		if (tc.snd_nxt < una)
			tc.snd_nxt = una; /* after a go-back-N, acks may pass what we re-sent */
		tc.deadline = 0;
		if (tc.snd_una < tc.snd_max)
			timer_arm();
		uint64_t acked = una - 1;
		tc.info.acked = acked < tc.total ? acked : tc.total;
	} else if (dlen == 0 && !fin && wnd == tc.snd_wnd && tc.snd_una < tc.snd_max) {
		if (++tc.dupacks == TCP_DUPACKS && tc.snd_una >= 1 && tc.snd_una <= tc.total) {
			/* Fast retransmit: the segment at snd_una, once. */
			uint64_t left = 1 + tc.total - tc.snd_una;
			size_t len = left < tc.mss ? (size_t)left : tc.mss;
			if (conn_send(tc.snd_una, TCP_F_ACK, len) == 0) {
				ts.fast_retransmits++;
				ts.retransmits++;
				tc.rtt_on = false;
			}
		}
	}
	/* The peer answers: timeouts so far were not a dead path (a zero
	 * window answered probe after probe must not abort). */
	tc.retries = 0;
	if (tc.snd_wnd == 0 && wnd > 0 && tc.deadline && tc.snd_una == tc.snd_max)
		tc.deadline = 0; /* the window opened: no probe due */
	tc.snd_wnd = wnd;
	/* Our FIN acknowledged? */
	bool fin_acked = tc.want_fin && tc.snd_una == tc.total + 2;
	if (fin_acked) {
		if (tc.state == TCP_FIN_WAIT_1)
			set_state(TCP_FIN_WAIT_2);
		else if (tc.state == TCP_CLOSING)
			set_state(TCP_TIME_WAIT);
		else if (tc.state == TCP_LAST_ACK)
			conn_closed(NULL);
		if (tc.sender && !tc.info.t_done_ns)
			tc.info.t_done_ns = timer_ns();
	}
	return true;
}

/* Data and FIN of an acceptable segment at peer offset off. */
static void process_data(uint64_t off, const uint8_t *data, size_t dlen, bool fin, bool psh)
{
	if (tc.state != TCP_ESTABLISHED && tc.state != TCP_FIN_WAIT_1 && tc.state != TCP_FIN_WAIT_2) {
		/* Their FIN is in: anything more is a retransmission. */
		if (dlen || fin)
			send_ack();
		return;
	}
	if (!dlen && !fin)
		return;
	if (off > tc.rcv_nxt) {
		ts.rx_out_of_order++;
		send_ack(); /* a duplicate ACK asks for the missing bytes */
		return;
	}
	uint64_t skip = tc.rcv_nxt - off;
	if (skip > dlen || (skip == dlen && !fin)) {
		ts.rx_dup++;
		send_ack();
		return;
	}
	data += skip;
	dlen -= (size_t)skip;
	if (dlen) {
		if (tc.recv)
			tc.recv(tc.arg, tc.rcv_nxt - 1, data, dlen); /* a sender takes and drops what the peer sends */
		tc.rcv_nxt += dlen;
		tc.info.received += dlen;
		tc.unacked += (uint32_t)dlen;
	}
	if (fin) {
		tc.rcv_nxt++;
		tc.fin_rcvd = true;
		if (!tc.sender && !tc.info.t_done_ns)
			tc.info.t_done_ns = timer_ns();
		if (tc.state == TCP_ESTABLISHED) {
			set_state(TCP_CLOSE_WAIT);
			tc.want_fin = true; /* we have nothing more to say: close at once */
		} else if (tc.state == TCP_FIN_WAIT_1) {
			set_state(TCP_CLOSING);
		} else {
			set_state(TCP_TIME_WAIT);
			tc.deadline = 0;
		}
		send_ack();
		return;
	}
	if (psh || tc.unacked >= 2u * tc.mss)
		send_ack();
	else
		tc.ack_pending = true;
}

static bool conn_matches(unsigned ifn, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport)
{
	return tc.state != TCP_CLOSED && tc.state != TCP_LISTEN && tc.ifn == ifn && tc.rip == src && tc.lip == dst &&
	       tc.rport == sport && tc.lport == dport;
}

void net_tcp_input(unsigned ifn, const uint8_t *eth_src, uint32_t src, uint32_t dst, const uint8_t *p, size_t n,
                   unsigned rxflags)
{
	ts.rx_segs++;
	if (n < TCP_HLEN) {
		ts.rx_bad_hdr++;
		return;
	}
	size_t hlen = (size_t)(p[12] >> 4) * 4u;
	if (hlen < TCP_HLEN || hlen > n) {
		ts.rx_bad_hdr++;
		return;
	}
	if (rxflags & (NET_RX_CSUM_VALID | NET_RX_CSUM_PARTIAL)) {
		ts.rx_csum_offloaded++;
	} else if (net_csum_fold(net_csum_add(pseudo_sum(src, dst, n), p, n)) != 0) {
		ts.rx_bad_csum++;
		return;
	}
	if (rxflags & NET_RX_GSO)
		ts.rx_coalesced++;
	uint16_t sport = net_rd16(p), dport = net_rd16(p + 2);
	uint32_t seq = net_rd32(p + 4), ack = net_rd32(p + 8);
	uint8_t flags = p[13];
	uint32_t wnd = net_rd16(p + 14);
	const uint8_t *data = p + hlen;
	size_t dlen = n - hlen;
	uint16_t peer_mss;
	if (!parse_opts(p + TCP_HLEN, hlen - TCP_HLEN, &peer_mss)) {
		ts.rx_bad_hdr++;
		return;
	}
	if (flags & TCP_F_RST)
		ts.rst_rx++;

	if (!conn_matches(ifn, src, dst, sport, dport)) {
		if (tc.state == TCP_LISTEN && dport == tc.lport && (flags & (TCP_F_SYN | TCP_F_ACK | TCP_F_RST)) == TCP_F_SYN) {
			/* Passive open (RFC 9293 3.10.7.2). */
			tc.ifn = ifn;
			memcpy(tc.mac, eth_src, 6);
			tc.lip = dst;
			tc.rip = src;
			tc.rport = sport;
			tc.irs = seq;
			tc.rcv_nxt = 1;
			tc.iss = (uint32_t)(timer_ns() * 2654435761u);
			tc.snd_una = 0;
			tc.snd_nxt = 0;
			tc.snd_max = 0;
			tc.snd_wnd = wnd;
			set_mss(peer_mss);
			struct netdev_caps c;
			tc.csum = netdev_caps(ifn, &c) && c.tx_csum;
			tc.tso = tc.csum && c.tx_tso4;
			tc.info.csum = tc.csum;
			tc.info.tso = tc.tso;
			tc.info.local_ip = dst;
			tc.info.remote_ip = src;
			tc.info.remote_port = sport;
			tc.info.t_open_ns = timer_ns();
			set_state(TCP_SYN_RCVD);
			if (conn_send(0, TCP_F_SYN | TCP_F_ACK, 0) == 0)
				tc.snd_nxt = tc.snd_max = 1;
			timer_arm();
			return;
		}
		if (tc.state == TCP_LISTEN && dport == tc.lport && (flags & TCP_F_RST))
			return; /* LISTEN ignores resets */
		ts.rx_no_conn++;
		send_reset(ifn, eth_src, dst, src, dport, sport, flags, seq, ack, dlen);
		return;
	}

	if (tc.state == TCP_SYN_SENT) {
		bool ack_ok = (flags & TCP_F_ACK) && ack == tc.iss + 1;
		if ((flags & TCP_F_ACK) && !ack_ok) {
			ts.rx_unacceptable++;
			send_reset(ifn, eth_src, dst, src, dport, sport, flags, seq, ack, dlen);
			return;
		}
		if (flags & TCP_F_RST) {
			if (ack_ok)
				conn_closed("connection refused (RST)");
			return;
		}
		if (!(flags & TCP_F_SYN) || !ack_ok) {
			ts.rx_unacceptable++; /* simultaneous open is not supported */
			return;
		}
		tc.irs = seq;
		tc.rcv_nxt = 1;
		tc.snd_una = 1;
		tc.snd_wnd = wnd;
		tc.deadline = 0;
		tc.retries = 0;
		set_mss(peer_mss);
		if (tc.rtt_on) {
			rtt_sample(timer_ns() - tc.rtt_t);
			tc.rtt_on = false;
		}
		set_state(TCP_ESTABLISHED);
		tc.info.t_established_ns = timer_ns();
		send_ack();
		output();
		return;
	}

	/* Synchronised states (and SYN_RCVD).  Where does the segment sit in
	 * the peer's sequence space? */
	uint64_t off = tc.rcv_nxt + (uint64_t)(int64_t)(int32_t)(seq - (tc.irs + (uint32_t)tc.rcv_nxt));
	if (flags & TCP_F_RST) {
		if (off == tc.rcv_nxt)
			conn_closed("connection reset by peer");
		else if (off > tc.rcv_nxt && off < tc.rcv_nxt + TCP_RCV_WND)
			send_ack(); /* challenge ACK (RFC 5961 3.2) */
		else
			ts.rx_unacceptable++;
		return;
	}
	if (flags & TCP_F_SYN) {
		if (tc.state == TCP_SYN_RCVD && seq == tc.irs) {
			conn_send(0, TCP_F_SYN | TCP_F_ACK, 0); /* our SYN-ACK was lost */
		} else {
			ts.rx_unacceptable++;
			send_ack(); /* RFC 5961 4.2 */
		}
		return;
	}
	if (!(flags & TCP_F_ACK)) {
		ts.rx_unacceptable++;
		return;
	}
	if (tc.state == TCP_SYN_RCVD) {
		if (ack != tc.iss + 1) {
			ts.rx_unacceptable++;
			send_reset(ifn, eth_src, dst, src, dport, sport, flags, seq, ack, dlen);
			return;
		}
		tc.snd_una = 1;
		tc.deadline = 0;
		tc.retries = 0;
		set_state(TCP_ESTABLISHED);
		tc.info.t_established_ns = timer_ns();
	}
	if (!process_ack(ack, wnd, dlen, (flags & TCP_F_FIN) != 0))
		return;
	if (tc.state == TCP_CLOSED)
		return;
	process_data(off, data, dlen, (flags & TCP_F_FIN) != 0, (flags & TCP_F_PSH) != 0);
	output();
}

/* ------------------------------------------------------------ API */

static void conn_reset_state(void)
{
	memset(&tc, 0, sizeof(tc));
	tc.rto_ns = TCP_RTO_INIT_NS;
}

static bool conn_busy(void)
{
	return tc.state != TCP_CLOSED && tc.state != TCP_TIME_WAIT;
}

int tcp_listen(uint16_t port, tcp_recv_fn fn, void *arg)
{
	unsigned long f = net_lock();
	if (conn_busy() || !fn) {
		net_unlock(f);
		return -1;
	}
	conn_reset_state();
	tc.lport = port;
	tc.recv = fn;
	tc.arg = arg;
	tc.info.local_port = port;
	set_state(TCP_LISTEN);
	net_unlock(f);
	return 0;
}

int tcp_connect(unsigned ifn, const uint8_t mac[6], uint32_t ip, uint16_t port, uint64_t total, tcp_fill_fn fn,
                void *arg)
{
	unsigned long f = net_lock();
	const struct net_if_cfg *c = net_cfg(ifn);
	if (conn_busy() || !fn || !c) {
		net_unlock(f);
		return -1;
	}
	conn_reset_state();
	if (!next_port)
		next_port = (uint16_t)(49152u + (timer_ns() >> 10) % 16000u);
	tc.sender = true;
	tc.ifn = ifn;
	memcpy(tc.mac, mac, 6);
	tc.lip = c->ip;
	tc.rip = ip;
	tc.lport = next_port++;
	if (next_port < 49152u)
		next_port = 49152u;
	tc.rport = port;
	tc.total = total;
	tc.want_fin = true;
	tc.fill = fn;
	tc.arg = arg;
	tc.iss = (uint32_t)(timer_ns() * 2654435761u);
	set_mss(0);
	struct netdev_caps caps;
	tc.csum = netdev_caps(ifn, &caps) && caps.tx_csum;
	tc.tso = tc.csum && caps.tx_tso4;
	tc.info.sender = true;
	tc.info.csum = tc.csum;
	tc.info.tso = tc.tso;
	tc.info.local_ip = tc.lip;
	tc.info.remote_ip = ip;
	tc.info.local_port = tc.lport;
	tc.info.remote_port = port;
	tc.info.total = total;
	tc.info.t_open_ns = timer_ns();
	set_state(TCP_SYN_SENT);
	tc.rtt_on = true;
	tc.rtt_off = 1;
	tc.rtt_t = timer_ns();
	if (conn_send(0, TCP_F_SYN, 0) == 0)
		tc.snd_nxt = tc.snd_max = 1;
	timer_arm();
	net_unlock(f);
	return 0;
}

/* Retransmission timeout: back off, go back to the oldest unacknowledged
 * byte (or the SYN), and send again. */
static void on_timeout(void)
{
	tc.deadline = 0;
	if (++tc.retries > TCP_MAX_RETRIES) {
		tcp_abort("retransmission timeout");
		return;
	}
	ts.timeouts++;
	ts.retransmits++;
	/* One line per timeout (the back-off bounds them): what a person or
	 * a test watching the console sees of a stalled path. */
	kprintf("tcp: retransmission timeout %u after %lu ms, resending from byte %lu (state %s)\n", tc.retries,
		tc.rto_ns / MS_NS, tc.snd_una ? tc.snd_una - 1 : 0, tcp_state_name(tc.state));
	tc.rtt_on = false; /* Karn: no sample from a retransmitted segment */
	tc.rto_ns = tc.rto_ns * 2 > TCP_RTO_MAX_NS ? TCP_RTO_MAX_NS : tc.rto_ns * 2;
	tc.dupacks = 0;
	if (tc.state == TCP_SYN_SENT || tc.state == TCP_SYN_RCVD) {
		uint8_t fl = tc.state == TCP_SYN_SENT ? TCP_F_SYN : TCP_F_SYN | TCP_F_ACK;
		if (conn_send(0, fl, 0) == 0)
			tc.snd_nxt = tc.snd_max = 1;
		timer_arm();
		return;
	}
	tc.snd_nxt = tc.snd_una;
	if (tc.snd_wnd == 0 && tc.snd_una <= tc.total) {
		/* Zero window probe: one byte beyond the window. */
		if (conn_send(tc.snd_una, TCP_F_ACK, 1) == 0 && tc.snd_una + 1 > tc.snd_nxt)
			tc.snd_nxt = tc.snd_una + 1;
		if (tc.snd_nxt > tc.snd_max)
			tc.snd_max = tc.snd_nxt;
	} else {
		output();
	}
	if (!tc.deadline)
		timer_arm();
}

void tcp_poll(void)
{
	unsigned long f = net_lock();
	if (tc.deadline && timer_ns() >= tc.deadline)
		on_timeout();
	if (tc.state >= TCP_ESTABLISHED && tc.state != TCP_TIME_WAIT) {
		if (tc.ack_pending)
			send_ack();
		output();
	}
	net_unlock(f);
}

bool tcp_done(void)
{
	unsigned long f = net_lock();
	bool d = tc.state == TCP_CLOSED || tc.state == TCP_TIME_WAIT;
	net_unlock(f);
	return d;
}

void tcp_abort(const char *why)
{
	unsigned long f = net_lock();
	if (tc.state >= TCP_SYN_RCVD && tc.state != TCP_TIME_WAIT)
		conn_send(tc.snd_nxt, TCP_F_RST | TCP_F_ACK, 0);
	conn_closed(why ? why : "aborted");
	net_unlock(f);
}

void tcp_get_info(struct tcp_info *out)
{
	unsigned long f = net_lock();
	*out = tc.info;
	net_unlock(f);
}

void tcp_get_stats(struct tcp_stats *out)
{
	unsigned long f = net_lock();
	*out = ts;
	net_unlock(f);
}
