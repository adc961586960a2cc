/*
 * vnetd_capture.c: `vnetctl capture` (docs/management.md): the frames vnetd
 * moves, both directions, streamed to one control-socket client in the
 * libpcap record format (tools/vnetctl/vnetctl_pcap.h).
 */
#ifndef VNETD_CAPTURE_H
#define VNETD_CAPTURE_H

#include "vnetctl_proto.h"
#include "vnetd.h"

/* A "capture" request on fd (the control server still closes its fd:
 * the session keeps a dup).  Answers refusals and errors itself. */
void vnetd_capture_request(struct vnetd *d, int fd, const struct vnetctl_peer *peer, int argc,
			   const char *const *argv);
/* One frame vnetd moves (either direction, head segment); never blocks. */
void vnetd_capture_frame(const struct vnet_pkt *pkt);
/* Send what is buffered, without blocking; ends a finished session. */
void vnetd_capture_flush(void);

#endif
