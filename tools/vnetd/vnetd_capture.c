/*
 * vnetd's capture session (vnetd_capture.h, docs/management.md "capture").
 *
 * One session at a time.  The frames are copied (up to the snap length)
 * into a bounded buffer as pcap records and sent from it with
 * non-blocking writes, so a slow client never stalls the data path: a
 * frame that does not fit is a capture drop, counted and reported in the
 * end marker.  The session ends when the count is reached (the end
 * marker is queued and sent) or when the client hangs up (a failed send).
 *
 * Access: the frames are user data, so capture is treated like a
 * changing command: root and vnetd's own uid only.
 */
#define _GNU_SOURCE
#include "vnetd_capture.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vnet/vnet_error.h"
#include "vnetctl_pcap.h"

#define CAP_BUF (1u << 20) /* bytes of records waiting for the client */

static struct {
	int fd;              /* -1: no session */
	bool ending;         /* end marker queued: no more frames */
	uint32_t snaplen;
	uint64_t count;      /* 0: until the client hangs up */
	uint64_t captured, dropped;
	size_t head, len;    /* FIFO in buf: bytes [head, head+len) */
	const char *tap;
	uint8_t buf[CAP_BUF];
} cap = {.fd = -1};

static void cap_reply(int fd, int32_t status, const char *text)
{
	size_t len = strlen(text);
	uint8_t hdr[VNETCTL_HDR_LEN + 4];
	vnetctl_hdr_encode(hdr, VNETCTL_T_REPLY, (uint32_t)(len + 4));
	vnetctl_reply_status_encode(hdr + VNETCTL_HDR_LEN, status);
	/* The reply is small and the socket empty: a blocking-free send
	 * takes it whole. */
	if (send(fd, hdr, sizeof hdr, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)sizeof hdr && len)
		(void)send(fd, text, len, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static bool parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

void vnetd_capture_request(struct vnetd *d, int fd, const struct vnetctl_peer *peer, int argc,
			   const char *const *argv)
{
	char msg[256];
	enum vnetctl_access a = vnet_ctlsrv_check(&d->ctl, peer, -1, true, "'capture' (user data)");
	if (a != VNETCTL_ALLOW) {
		snprintf(msg, sizeof msg, "error: capture: permission denied: %s (uid %u)\n", vnetctl_access_reason(a),
			 (unsigned)peer->uid);
		cap_reply(fd, VNETCTL_REFUSED, msg);
		return;
	}
	uint64_t count = 0, snap = VNETCTL_PCAP_SNAPLEN_DEFAULT;
	const char *dev = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--count") && i + 1 < argc) {
			if (!parse_u64(argv[++i], 1, UINT32_MAX, &count))
				goto bad;
		} else if (!strcmp(argv[i], "--snaplen") && i + 1 < argc) {
			if (!parse_u64(argv[++i], 1, VNETCTL_PCAP_SNAPLEN_MAX, &snap))
				goto bad;
		} else if (!dev && argv[i][0] != '-') {
			dev = argv[i];
		} else {
			goto bad;
		}
	}
	if (!dev) {
	bad:
		snprintf(msg, sizeof msg,
			 "error: usage: capture DEV [--count N (1..%u)] [--snaplen N (1..%u)]\n", UINT32_MAX,
			 VNETCTL_PCAP_SNAPLEN_MAX);
		cap_reply(fd, VNET_EINVAL, msg);
		return;
	}
	if (strcmp(dev, vnetd_device_name(d)) != 0) {
		snprintf(msg, sizeof msg, "error: capture: no device '%s' (this vnetd has '%s')\n", dev,
			 vnetd_device_name(d));
		cap_reply(fd, VNET_ENODEV, msg);
		return;
	}
	if (cap.fd >= 0) {
		cap_reply(fd, VNET_EBUSY, "error: capture: another capture is running on this vnetd\n");
		return;
	}
	int s = dup(fd);
	if (s < 0) {
		snprintf(msg, sizeof msg, "error: capture: %s\n", strerror(errno));
		cap_reply(fd, VNET_ENOMEM, msg);
		return;
	}
	snprintf(msg, sizeof msg, "capturing %s snaplen %u\n", dev, (unsigned)snap);
	cap_reply(s, 0, msg);
	cap.fd = s;
	cap.ending = false;
	cap.snaplen = (uint32_t)snap;
	cap.count = count;
	cap.captured = cap.dropped = 0;
	cap.head = cap.len = 0;
	cap.tap = d->o.tap_name;
	fprintf(stderr, "vnetd[%s]: control: capture of %s started for uid %u (count %llu, snaplen %u)\n",
		d->o.tap_name, dev, (unsigned)peer->uid, (unsigned long long)count, (unsigned)snap);
}

static void cap_put(const uint8_t *p, size_t n)
{
	size_t tail = (cap.head + cap.len) % CAP_BUF;
	size_t first = CAP_BUF - tail < n ? CAP_BUF - tail : n;
	memcpy(cap.buf + tail, p, first);
	memcpy(cap.buf, p + first, n - first);
	cap.len += n;
}

static void cap_end(const char *why)
{
	fprintf(stderr, "vnetd[%s]: control: capture ended (%s): %llu captured, %llu dropped\n", cap.tap, why,
		(unsigned long long)cap.captured, (unsigned long long)cap.dropped);
	close(cap.fd);
	cap.fd = -1;
}

void vnetd_capture_flush(void)
{
	/* The client shut its side (vnetctl on SIGINT): end with the marker. */
	char c;
	if (cap.fd >= 0 && !cap.ending && recv(cap.fd, &c, 1, MSG_DONTWAIT) == 0) {
		uint8_t e[VNETCTL_PCAP_END_LEN];
		vnetctl_pcap_end_encode(e, cap.captured, cap.dropped);
		cap_put(e, sizeof e);
		cap.ending = true;
	}
	while (cap.fd >= 0 && cap.len) {
		size_t n = CAP_BUF - cap.head < cap.len ? CAP_BUF - cap.head : cap.len;
		ssize_t w = send(cap.fd, cap.buf + cap.head, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (w <= 0) {
			cap_end("the client hung up");
			return;
		}
		cap.head = (cap.head + (size_t)w) % CAP_BUF;
		cap.len -= (size_t)w;
	}
	if (cap.fd >= 0 && cap.ending && !cap.len)
		cap_end(cap.count && cap.captured >= cap.count ? "count reached" : "client stopped");
}

void vnetd_capture_frame(const struct vnet_pkt *pkt)
{
	if (cap.fd < 0)
		return;
	if (!cap.ending) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
		struct vnetctl_pcap_rec r = vnetctl_pcap_rec_make(us, pkt->pkt_len, cap.snaplen);
		/* Keep room for the end marker, always. */
		if (CAP_BUF - cap.len < VNETCTL_PCAP_REC_LEN + r.incl_len + VNETCTL_PCAP_END_LEN) {
			cap.dropped++;
		} else {
			uint8_t h[VNETCTL_PCAP_REC_LEN];
			vnetctl_pcap_rec_encode(h, &r);
			cap_put(h, sizeof h);
			uint32_t left = r.incl_len;
			for (const struct vnet_pkt *s = pkt; s && left; s = s->next) {
				uint32_t n = s->len < left ? s->len : left;
				cap_put(s->data, n);
				left -= n;
			}
			if (left) { /* segments shorter than pkt_len said: pad, never leave the record short */
				static const uint8_t zero[64];
				while (left) {
					uint32_t n = left < sizeof zero ? left : (uint32_t)sizeof zero;
					cap_put(zero, n);
					left -= n;
				}
			}
			cap.captured++;
		}
		if (cap.count && cap.captured >= cap.count) {
			uint8_t e[VNETCTL_PCAP_END_LEN];
			vnetctl_pcap_end_encode(e, cap.captured, cap.dropped);
			cap_put(e, sizeof e);
			cap.ending = true;
		}
	}
	vnetd_capture_flush();
}
