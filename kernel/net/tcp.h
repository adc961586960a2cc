/*
 * Orion's minimal TCP (tcp.c): one connection at a time, enough for a
 * bulk transfer with a Linux peer in either direction (tcp_cmd.c).
 *
 * A connection either sends a stream of a known length (tcp_connect:
 * active open, the bytes come from a fill callback by stream offset, so
 * a retransmission regenerates them and no send buffer is kept) or
 * receives one (tcp_listen: passive open of the next SYN to the port,
 * in-order bytes go to a receive callback at once, so the window stays
 * open).  The sender closes (FIN) after its last byte; the receiver
 * closes when the peer's FIN arrives.
 *
 * Context: every function here takes the stack's lock itself except
 * net_tcp_input (net_priv.h), which the stack calls with it held.  The
 * callbacks run with the lock held (from the receive path or tcp_poll).
 */
#ifndef ORION_NET_TCP_H
#define ORION_NET_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tcp_state {
	TCP_CLOSED,
	TCP_LISTEN,
	TCP_SYN_SENT,
	TCP_SYN_RCVD,
	TCP_ESTABLISHED,
	TCP_FIN_WAIT_1,
	TCP_FIN_WAIT_2,
	TCP_CLOSING,
	TCP_TIME_WAIT,
	TCP_CLOSE_WAIT,
	TCP_LAST_ACK,
};

const char *tcp_state_name(enum tcp_state s);

/* Stream source: write len bytes of the stream from offset off to buf. */
typedef void (*tcp_fill_fn)(void *arg, uint64_t off, uint8_t *buf, size_t len);
/* Stream sink: len in-order bytes at stream offset off. */
typedef void (*tcp_recv_fn)(void *arg, uint64_t off, const uint8_t *data, size_t len);

/* Counters since boot (every connection). */
struct tcp_stats {
	uint64_t rx_segs, tx_segs;
	uint64_t rx_bad_csum, rx_bad_hdr;       /* dropped: checksum, header/length/offset */
	uint64_t rx_csum_offloaded;             /* checksum not checked in software (DATA_VALID / NEEDS_CSUM) */
	uint64_t rx_coalesced;                  /* GUEST_TSO super-frames received */
	uint64_t rx_no_conn;                    /* no connection or listener: answered with RST */
	uint64_t rx_unacceptable;               /* out of window / unexpected in this state */
	uint64_t rx_out_of_order, rx_dup;       /* dropped (the ACK asks for the missing bytes) */
	uint64_t rst_tx, rst_rx;
	uint64_t retransmits, timeouts, fast_retransmits;
	uint64_t tx_csum_offloaded, tx_tso, tx_tso_bytes;
	uint64_t tx_fail;                       /* frames the device refused (retried) */
};

/* The current (or last) connection. */
struct tcp_info {
	enum tcp_state state;
	bool sender;
	uint32_t local_ip, remote_ip;
	uint16_t local_port, remote_port;
	uint16_t mss;                   /* effective sending MSS */
	uint16_t peer_mss;
	uint64_t total;                 /* sender: bytes to send */
	uint64_t acked;                 /* sender: bytes the peer acknowledged */
	uint64_t received;              /* receiver: in-order bytes delivered */
	/* timer_ns() of the open, ESTABLISHED, and the end: sender, data
	 * and FIN acknowledged; receiver, the peer's FIN; or the abort.
	 * 0 = not yet. */
	uint64_t t_open_ns, t_established_ns, t_done_ns;
	bool tso, csum;                 /* offloads in use on this connection */
	const char *error;              /* NULL, or why the connection was aborted */
};

/* Passive open: accept the next SYN to port on any interface.  0, or -1
 * if a connection is in progress. */
int tcp_listen(uint16_t port, tcp_recv_fn fn, void *arg);
/* Active open to ip:port through ifn, next hop MAC already resolved, to
 * send `total` bytes from fn and then FIN.  0 or -1. */
int tcp_connect(unsigned ifn, const uint8_t mac[6], uint32_t ip, uint16_t port, uint64_t total, tcp_fill_fn fn,
                void *arg);
/* Main context, often (every wake-up): retransmission timer, delayed
 * ACKs, sending what the window allows. */
void tcp_poll(void);
/* True when the connection is over: closed, TIME_WAIT, or aborted. */
bool tcp_done(void);
/* Abort (RST to the peer if synchronised) with a reason. */
void tcp_abort(const char *why);
void tcp_get_info(struct tcp_info *out);
void tcp_get_stats(struct tcp_stats *out);

#endif
