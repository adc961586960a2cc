/*
 * vnetd's two frame paths and the offload mapping between them.
 *
 *   TAP -> port  readv() of [virtio-net header | packet buffers | overflow]
 *                straight into buffers of the port's pool (no copy), the
 *                TAP's header mapped to struct vnet_pkt's offload fields,
 *                vnet_net_tx_burst().  Frames the ring has no room for are
 *                held and the TAP is not read meanwhile (the kernel queues
 *                behind it), for at most VNETD_HOLD_NS; then dropped.
 *   port -> TAP  a frame from vnet_port_poll() (possibly several buffers
 *                with mergeable receive buffers) goes out in one writev()
 *                of [header built from the offload fields | segments].
 *
 * Header mapping (VirtIO 1.2 §5.1.6.2 for what we send, §5.1.6.4 for what
 * we receive; the TAP speaks the same header):
 *   TAP NEEDS_CSUM, csum_start/offset  <-> VNET_PKT_F_CSUM_PARTIAL + fields
 *   TAP DATA_VALID (we write it)        <-  VNET_PKT_F_CSUM_VALID
 *   TAP gso_type/gso_size/hdr_len       <-> VNET_PKT_F_GSO + fields
 * DATA_VALID read from the TAP is dropped: a driver must not set it on
 * transmit (§5.1.6.2.1).  A TAP header asking for an offload the port did
 * not negotiate cannot happen with the TUNSETOFFLOAD we set (vnetd_tap.c),
 * except a partial checksum, which vnetd completes itself; anything else is
 * a counted drop (drop_to_port_bad_header).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "vnet/features.h"
#include "vnet/spec/virtio_net.h"
#include "vnet/virtqueue.h"
#include "vnetd.h"
#include "vnetd_capture.h"

/* How long frames may wait for transmit-ring space before they are dropped
 * (a back-end that is connected but has stopped taking frames). */
#define VNETD_HOLD_NS (100u * 1000000u)

/* ------------------------------------------------------------ checksums */

bool vnetd_csum_complete(uint8_t *frame, uint32_t len, uint16_t start, uint16_t offset)
{
	if ((uint32_t)start + offset + 2u > len)
		return false;
	/* RFC 1071 one's complement sum from csum_start to the end; the field
	 * holds the pseudo-header sum, as Linux leaves it for CHECKSUM_PARTIAL. */
	uint64_t sum = 0;
	uint32_t i = start;
	for (; i + 1 < len; i += 2)
		sum += (uint32_t)frame[i] << 8 | frame[i + 1];
	if (i < len)
		sum += (uint32_t)frame[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	uint16_t c = (uint16_t)~sum;
	frame[start + offset] = (uint8_t)(c >> 8);
	frame[start + offset + 1] = (uint8_t)c;
	return true;
}

/* ---------------------------------------------------------- TAP -> port */

/* The feature a GSO type needs on transmit (VirtIO 1.2 §5.1.6.2), 0 if none
 * exists. */
static uint64_t gso_feature(uint8_t type)
{
	switch (type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_TCPV4: return VNET_BIT(VIRTIO_NET_F_HOST_TSO4);
	case VIRTIO_NET_HDR_GSO_TCPV6: return VNET_BIT(VIRTIO_NET_F_HOST_TSO6);
	case VIRTIO_NET_HDR_GSO_UDP: return VNET_BIT(VIRTIO_NET_F_HOST_UFO);
	case VIRTIO_NET_HDR_GSO_UDP_L4: return VNET_BIT(VIRTIO_NET_F_HOST_USO);
	default: return 0;
	}
}

bool vnetd_tap_hdr_to_pkt(struct vnetd *d, const struct virtio_net_hdr *h, struct vnet_pkt *p)
{
	uint64_t f = d->negotiated;
	p->flags = 0;
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		uint16_t start = vnet_le16_to_cpu(h->csum_start);
		uint16_t off = vnet_le16_to_cpu(h->csum_offset);
		if ((uint32_t)start + off + 2u > p->pkt_len)
			return false;
		if (f & VNET_BIT(VIRTIO_NET_F_CSUM)) {
			p->flags |= VNET_PKT_F_CSUM_PARTIAL;
			p->csum_start = start;
			p->csum_offset = off;
		} else {
			/* Only reachable with a single buffer: without CSUM there is
			 * no GSO, so the frame fits one (tap_read_frame).  The
			 * offsets count from the frame's first byte (p->data). */
			if (p->next || !vnetd_csum_complete(p->data, p->len, start, off))
				return false;
			d->st.sw_csum++;
		}
	}
	if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		uint64_t need = gso_feature(h->gso_type);
		if (!need || !(f & need) || !(p->flags & VNET_PKT_F_CSUM_PARTIAL))
			return false;
		if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) && !(f & VNET_BIT(VIRTIO_NET_F_HOST_ECN)))
			return false;
		p->flags |= VNET_PKT_F_GSO;
		p->gso_type = h->gso_type;
		p->gso_size = vnet_le16_to_cpu(h->gso_size);
		p->hdr_len = vnet_le16_to_cpu(h->hdr_len);
		if (!p->gso_size)
			return false;
	}
	return true;
}

/* Keep d->stash holding d->read_segs buffers; false if the pool ran dry. */
static bool stash_fill(struct vnetd *d)
{
	while (d->nstash < d->read_segs) {
		struct vnet_pkt *p = vnet_net_pkt_alloc(d->net);
		if (!p) {
			/* Completed transmissions are the buffers we can get back now. */
			vnet_net_tx_reclaim(d->net, 0);
			p = vnet_net_pkt_alloc(d->net);
			if (!p)
				return false;
		}
		d->stash[d->nstash++] = p;
	}
	return true;
}

void vnetd_stash_release(struct vnetd *d)
{
	for (unsigned i = 0; i < d->nstash; i++)
		vnet_net_pkt_free(d->net, d->stash[i]);
	d->nstash = 0;
}

/*
 * One frame from the TAP into stash buffers.  Returns 1 with *out set,
 * 0 when the TAP is empty (or the pool is), -1 for a frame read and
 * dropped (counted).
 */
static int tap_read_frame(struct vnetd *d, struct vnet_pkt **out)
{
	if (!stash_fill(d)) {
		d->starved = true;
		return 0;
	}
	d->starved = false;
	uint8_t hbuf[VNETD_TAP_HDR_MAX];
	struct iovec iov[VNETD_MAX_SEGS + 2];
	unsigned n = 0;
	iov[n++] = (struct iovec){.iov_base = hbuf, .iov_len = d->tap_hdr_len};
	uint32_t room = d->stash[0]->room;
	for (unsigned i = 0; i < d->read_segs; i++)
		iov[n++] = (struct iovec){.iov_base = d->stash[i]->data, .iov_len = room};
	/* A frame longer than the buffers ends here, so it is seen (and
	 * counted) rather than cut short. */
	iov[n++] = (struct iovec){.iov_base = d->discard, .iov_len = VNETD_FRAME_MAX};
	ssize_t r = readv(d->tap_fd, iov, (int)n);
	if (r < 0) {
		if (errno != EAGAIN && errno != EINTR)
			d->st.tap_read_errors++;
		return 0;
	}
	if ((size_t)r < d->tap_hdr_len) {
		d->st.tap_read_errors++;
		return 0;
	}
	uint32_t flen = (uint32_t)((size_t)r - d->tap_hdr_len);
	d->st.tap_in_frames++;
	d->st.tap_in_bytes += flen;
	if (flen == 0 || flen > room * d->read_segs) {
		d->st.drop_to_port_too_long += flen != 0;
		d->st.drop_to_port_bad_header += flen == 0;
		return -1;
	}
	unsigned nseg = (flen + room - 1) / room;
	struct vnet_pkt *head = d->stash[0];
	uint32_t left = flen;
	for (unsigned i = 0; i < nseg; i++) {
		struct vnet_pkt *s = d->stash[i];
		s->len = left < room ? left : room;
		left -= s->len;
		s->next = i + 1 < nseg ? d->stash[i + 1] : NULL;
	}
	head->pkt_len = flen;
	head->nseg = (uint8_t)nseg;
	memmove(d->stash, d->stash + nseg, (d->nstash - nseg) * sizeof(d->stash[0]));
	d->nstash -= nseg;
	struct virtio_net_hdr h;
	memcpy(&h, hbuf, sizeof(h));
	if (!vnetd_tap_hdr_to_pkt(d, &h, head)) {
		d->st.drop_to_port_bad_header++;
		vnet_net_pkt_free(d->net, head);
		return -1;
	}
	vnetd_capture_frame(head);
	*out = head;
	return 1;
}

/* tx_burst what is held; the rest stays held.  Frames the core took and
 * freed as malformed, or refused untouched, are counted as refused. */
static void send_pending(struct vnetd *d, uint64_t now_ns)
{
	/* What each frame offloads, noted before the device owns it. */
	uint16_t flags[VNETD_BURST];
	uint32_t lens[VNETD_BURST];
	for (unsigned i = 0; i < d->npending; i++) {
		flags[i] = d->pending[i]->flags;
		lens[i] = d->pending[i]->pkt_len;
	}
	struct vnet_net_queue_stats before, after;
	vnet_net_get_stats(d->net, 0, &before);
	unsigned taken = vnet_net_tx_burst(d->net, 0, d->pending, d->npending);
	vnet_net_get_stats(d->net, 0, &after);
	uint64_t core_dropped = after.tx_drops - before.tx_drops;
	uint64_t refused = (after.tx_errors - before.tx_errors) - core_dropped;
	d->st.drop_to_port_refused += core_dropped;
	d->st.port_out_frames += taken - core_dropped;
	d->st.port_out_bytes += after.tx_bytes - before.tx_bytes;
	/* Offload counters over the frames taken (the core drops none that
	 * vnetd built from a header it could map). */
	for (unsigned i = 0; i < taken; i++) {
		if (flags[i] & VNET_PKT_F_CSUM_PARTIAL)
			d->st.port_out_csum++;
		if (flags[i] & VNET_PKT_F_GSO) {
			d->st.port_out_gso++;
			d->st.port_out_gso_bytes += lens[i];
		}
	}
	unsigned rest = d->npending - taken;
	if (refused && rest) {
		/* The frame at the break is one the core will never take
		 * (nothing vnetd builds should be, unless the queue latched
		 * broken): drop it, do not stall; say so once. */
		if (!d->refusal_logged) {
			d->refusal_logged = true;
			fprintf(stderr, "vnetd[%s]: the port refused a frame (transmit queue broken? see the libvnet "
					"error above); dropping and counting in drop_to_port_refused\n", d->o.tap_name);
		}
		vnet_net_pkt_free(d->net, d->pending[taken]);
		d->st.drop_to_port_refused++;
		taken++;
		rest--;
	}
	if (taken) {
		memmove(d->pending, d->pending + taken, rest * sizeof(d->pending[0]));
		d->npending = rest;
		d->pending_since_ns = now_ns;
	}
}

static void drop_pending(struct vnetd *d, uint64_t *counter)
{
	for (unsigned i = 0; i < d->npending; i++)
		vnet_net_pkt_free(d->net, d->pending[i]);
	*counter += d->npending;
	d->npending = 0;
}

bool vnetd_tap_to_port(struct vnetd *d, uint64_t now_ns)
{
	if (d->npending) {
		send_pending(d, now_ns);
		if (d->npending) {
			if (d->o.no_flow_control || now_ns - d->pending_since_ns > VNETD_HOLD_NS)
				drop_pending(d, &d->st.drop_to_port_ring_full);
			return true;
		}
	}
	unsigned n = 0;
	bool empty = false;
	while (n < VNETD_BURST) {
		struct vnet_pkt *p;
		int r = tap_read_frame(d, &p);
		if (r == 0) {
			empty = true;
			break;
		}
		if (r > 0)
			d->pending[n++] = p;
	}
	if (n) {
		d->npending = n;
		d->pending_since_ns = now_ns;
		send_pending(d, now_ns);
	}
	return !empty || d->npending;
}

void vnetd_drain_while_down(struct vnetd *d)
{
	drop_pending(d, &d->st.drop_to_port_down);
	/* The pool is all ours while the port is down: read into it and drop. */
	for (unsigned i = 0; i < 4u * VNETD_BURST; i++) {
		struct vnet_pkt *p;
		int r = tap_read_frame(d, &p);
		if (r == 0)
			break;
		if (r > 0) {
			vnet_net_pkt_free(d->net, p);
			d->st.drop_to_port_down++;
		}
	}
}

void vnetd_flush_pending(struct vnetd *d)
{
	if (d->npending && vnet_port_is_up(d->port))
		send_pending(d, 0);
	drop_pending(d, &d->st.drop_to_port_shutdown);
}

/* ---------------------------------------------------------- port -> TAP */

void vnetd_pkt_to_tap_hdr(struct vnetd *d, const struct vnet_pkt *p, struct virtio_net_hdr *h)
{
	memset(h, 0, sizeof(*h));
	if (p->flags & VNET_PKT_F_CSUM_PARTIAL) {
		h->flags |= VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h->csum_start = vnet_cpu_to_le16(p->csum_start);
		h->csum_offset = vnet_cpu_to_le16(p->csum_offset);
		d->st.tap_out_csum++;
	} else if (p->flags & VNET_PKT_F_CSUM_VALID) {
		h->flags |= VIRTIO_NET_HDR_F_DATA_VALID;
		d->st.tap_out_csum_valid++;
	}
	if (p->flags & VNET_PKT_F_GSO) {
		h->gso_type = p->gso_type;
		h->gso_size = vnet_cpu_to_le16(p->gso_size);
		h->hdr_len = vnet_cpu_to_le16(p->hdr_len);
		d->st.tap_out_gso++;
		d->st.tap_out_gso_bytes += p->pkt_len;
	}
}

void vnetd_port_to_tap(void *arg, struct vnet_pkt *pkt)
{
	struct vnetd *d = arg;
	vnetd_capture_frame(pkt);
	d->st.port_in_frames++;
	d->st.port_in_bytes += pkt->pkt_len;
	uint8_t hbuf[VNETD_TAP_HDR_MAX];
	memset(hbuf, 0, sizeof(hbuf));
	struct virtio_net_hdr h;
	vnetd_pkt_to_tap_hdr(d, pkt, &h);
	memcpy(hbuf, &h, sizeof(h));
	struct iovec iov[VNETD_MAX_SEGS + 1];
	unsigned n = 0;
	iov[n++] = (struct iovec){.iov_base = hbuf, .iov_len = d->tap_hdr_len};
	for (struct vnet_pkt *s = pkt; s; s = s->next) {
		if (n == VNETD_MAX_SEGS + 1) {
			d->st.drop_to_tap_segments++;
			vnet_net_pkt_free(d->net, pkt);
			return;
		}
		iov[n++] = (struct iovec){.iov_base = s->data, .iov_len = s->len};
	}
	ssize_t r;
	do
		r = writev(d->tap_fd, iov, (int)n);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		if (errno == EIO)
			d->st.drop_to_tap_down++;
		else if (errno == EINVAL)
			d->st.drop_to_tap_rejected++;
		else
			d->st.drop_to_tap_error++;
	} else {
		d->st.tap_out_frames++;
		d->st.tap_out_bytes += pkt->pkt_len;
	}
	vnet_net_pkt_free(d->net, pkt);
}
