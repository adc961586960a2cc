/*
 * vnetd's capture session (vnetd_capture.c) with a consumer slower than the
 * traffic: the client end of a socketpair is not read while 3000 frames
 * pass, so the session's buffer (1 MiB) and the socket fill and frames are
 * dropped.  Then the client stops (shutdown, as vnetctl on SIGINT), reads
 * the whole stream and checks what a user relies on:
 *   - the end marker's counts: captured == the records in the stream,
 *     dropped > 0, captured + dropped == the frames vnetd moved;
 *   - every record is whole and in order: frames 0..captured-1, each
 *     byte as sent (a drop never leaves a partial record);
 *   - the records written as a pcap file are read back by tshark, frame
 *     for frame (tshark is in tests/setup/deps.list).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "vnetctl_pcap.h"
#include "vnetctl_proto.h"
#include "vnetd.h"
#include "vnetd_capture.h"

#define FRAMES 3000u
#define FRAME_LEN 1000u

static void frame_fill(uint8_t *f, uint32_t seq)
{
	memcpy(f, &seq, 4);
	for (uint32_t i = 4; i < FRAME_LEN; i++)
		f[i] = (uint8_t)(seq * 31u + i);
}

/* Read what is there without blocking, appending to *buf; false at EOF. */
static bool drain_some(int fd, uint8_t **buf, size_t *len, size_t *cap)
{
	for (;;) {
		if (*cap - *len < 65536) {
			*cap = *cap * 2 + 65536;
			*buf = realloc(*buf, *cap);
			assert_non_null(*buf);
		}
		ssize_t n = recv(fd, *buf + *len, *cap - *len, MSG_DONTWAIT);
		if (n > 0) {
			*len += (size_t)n;
			continue;
		}
		if (n == 0)
			return false;
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
		return true;
	}
}

static void test_capture_drops_slow_reader(void **state)
{
	(void)state;
	struct vnetd d;
	memset(&d, 0, sizeof(d));
	d.o.tap_name = "captest";
	d.ctl.fd = -1;
	d.ctl.cfg.log_tag = "vnetd[captest]";
	d.ctl.owner_uid = (uint32_t)geteuid();
	d.ctl.ro_gid = (uint32_t)getegid();
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	int small = 4096; /* the kernel's minimum: the session's own buffer must fill */
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	struct vnetctl_peer peer = {.uid = (uint32_t)geteuid(), .gid = (uint32_t)getegid()};
	const char *argv[] = {"capture", vnetd_device_name(&d)};
	vnetd_capture_request(&d, sv[0], &peer, 2, argv);
	close(sv[0]); /* the control server closes its fd; the session has a dup */

	uint8_t hdr[VNETCTL_HDR_LEN + 4];
	assert_int_equal(recv(sv[1], hdr, sizeof hdr, MSG_WAITALL), (ssize_t)sizeof hdr);
	uint32_t plen;
	const char *why;
	assert_int_equal(vnetctl_hdr_decode(hdr, VNETCTL_T_REPLY, &plen, &why), 0);
	char text[256] = {0};
	assert_true(plen > 4 && plen - 4 < sizeof text);
	assert_int_equal(recv(sv[1], text, plen - 4, MSG_WAITALL), (ssize_t)(plen - 4));
	int32_t status;
	const char *t;
	size_t tlen;
	uint8_t payload[4 + sizeof text];
	memcpy(payload, hdr + VNETCTL_HDR_LEN, 4);
	memcpy(payload + 4, text, plen - 4);
	assert_int_equal(vnetctl_reply_decode(payload, plen, &status, &t, &tlen), 0);
	assert_int_equal(status, 0);
	assert_non_null(strstr(text, "capturing vnet0"));

	/* The traffic, nobody reading. */
	static uint8_t f[FRAME_LEN];
	for (uint32_t seq = 0; seq < FRAMES; seq++) {
		frame_fill(f, seq);
		struct vnet_pkt p = {.data = f, .len = FRAME_LEN, .pkt_len = FRAME_LEN};
		vnetd_capture_frame(&p);
	}
	/* The client stops and reads everything up to the end marker. */
	assert_int_equal(shutdown(sv[1], SHUT_WR), 0);
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	int rounds = 0;
	while (drain_some(sv[1], &buf, &len, &cap)) {
		vnetd_capture_flush();
		assert_true(++rounds < 1000000);
	}
	close(sv[1]);

	/* The stream: records, then the end marker, nothing after it. */
	char path[] = "/tmp/test_vnetd_capture.XXXXXX";
	int pf = mkstemp(path);
	assert_true(pf >= 0);
	FILE *pcap = fdopen(pf, "wb");
	assert_non_null(pcap);
	uint8_t g[VNETCTL_PCAP_GLOBAL_LEN];
	vnetctl_pcap_global_encode(g, VNETCTL_PCAP_SNAPLEN_DEFAULT);
	fwrite(g, 1, sizeof g, pcap);
	size_t off = 0;
	uint64_t records = 0, captured = 0, dropped = 0;
	bool ended = false;
	while (off + VNETCTL_PCAP_REC_LEN <= len) {
		struct vnetctl_pcap_rec r;
		vnetctl_pcap_rec_decode(buf + off, &r);
		if (r.incl_len == VNETCTL_PCAP_END) {
			assert_int_equal(len - off, VNETCTL_PCAP_END_LEN);
			vnetctl_pcap_end_decode(buf + off + VNETCTL_PCAP_REC_LEN, &captured, &dropped);
			ended = true;
			break;
		}
		assert_int_equal(r.incl_len, FRAME_LEN);
		assert_int_equal(r.orig_len, FRAME_LEN);
		assert_true(off + VNETCTL_PCAP_REC_LEN + r.incl_len <= len);
		frame_fill(f, (uint32_t)records); /* in order, from the first, no gap */
		assert_memory_equal(buf + off + VNETCTL_PCAP_REC_LEN, f, FRAME_LEN);
		fwrite(buf + off, 1, VNETCTL_PCAP_REC_LEN + r.incl_len, pcap);
		off += VNETCTL_PCAP_REC_LEN + r.incl_len;
		records++;
	}
	assert_int_equal(fclose(pcap), 0);
	free(buf);
	assert_true(ended);
	assert_int_equal(captured, records);
	assert_true(dropped > 0);
	assert_int_equal(captured + dropped, FRAMES);
	printf("slow reader: %llu frames captured, %llu dropped, of %u\n", (unsigned long long)captured,
	       (unsigned long long)dropped, FRAMES);

	/* tshark reads the file: every record a 1000-byte frame. */
	char cmd[256];
	/* stderr apart: tshark warns about running as root there */
	snprintf(cmd, sizeof cmd, "tshark -r %s -T fields -e frame.len 2>%s.err || cat %s.err", path, path, path);
	FILE *ts = popen(cmd, "r");
	assert_non_null(ts);
	char line[128];
	uint64_t read_back = 0;
	while (fgets(line, sizeof line, ts)) {
		assert_string_equal(line, "1000\n");
		read_back++;
	}
	assert_int_equal(pclose(ts), 0);
	unlink(path);
	snprintf(cmd, sizeof cmd, "%s.err", path);
	unlink(cmd);
	assert_int_equal(read_back, captured);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capture_drops_slow_reader),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
