/*
 * vnet_ctlsrv: the control socket server shared by vnetd and vnet-bench
 * (docs/management.md "control socket").  One Unix stream socket, one
 * request per connection (tools/vnetctl/vnetctl_proto.h), answered by the
 * management command layer (src/mgmt, vnet/mgmt.h) over the host ops the
 * owner gives, with access control by the peer's credentials
 * (SO_PEERCRED, SO_PEERGROUPS):
 *   root and the owner's uid: every command;
 *   members of the read-only group (cfg.group, else the owner's group):
 *   read-only commands;
 *   everyone else: nothing.  Every refusal is logged on stderr.
 *
 * Single-threaded and polled: the listening socket is non-blocking, the
 * owner calls vnet_ctlsrv_serve() from its own loop (between frame bursts)
 * or when vnet_ctlsrv_fd() polls readable.  A client gets 500 ms to send
 * its request and take the reply, so a stuck client stalls the owner's
 * loop at most that long.
 */
#ifndef VNET_CTLSRV_H
#define VNET_CTLSRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vnet/mgmt.h"
#include "vnetctl_proto.h"

struct vnet_ctlsrv;

struct vnet_ctlsrv_cfg {
	const char *path;              /* the socket file */
	const char *group;             /* read-only group by name; NULL: the process's group */
	const char *log_tag;           /* log prefix, e.g. "vnetd[tap0]" */
	const struct vnet_mgmt_host_ops *ops; /* the command layer's host (devices, clock) */
	void *ops_arg;
	/* false: changing commands are refused even for root and the owner
	 * ("not served by this host"), after the access check. */
	bool allow_changes;
	/* Optional: a request the host answers itself instead of the command
	 * layer (vnetd: "capture", a stream).  True: taken (the server still
	 * closes its fd; a host keeping the stream dup()s it). */
	bool (*special)(void *arg, struct vnet_ctlsrv *s, int fd, const struct vnetctl_peer *peer, int argc,
			const char *const *argv);
	/* Optional: called at the start of every vnet_ctlsrv_serve(). */
	void (*tick)(void *arg);
	void *hook_arg;
};

struct vnet_ctlsrv {
	int fd;                        /* listening, -1 when none */
	struct vnet_ctlsrv_cfg cfg;
	uint32_t owner_uid;            /* changing commands: root and this uid */
	uint32_t ro_gid;               /* read-only commands: members of this group */
	uint64_t requests, refused;
	struct vnet_mgmt *mgmt;
};

/* Create the socket (mode 0666: anyone may connect and be told why not).
 * A stale socket file is replaced; one a live server answers on is not.
 * 0, or -1 after printing the reason. */
int vnet_ctlsrv_open(struct vnet_ctlsrv *s, const struct vnet_ctlsrv_cfg *cfg);
/* Accept and answer pending requests (at most 8); never blocks on an
 * empty listen queue. */
void vnet_ctlsrv_serve(struct vnet_ctlsrv *s);
/* Close and unlink the socket; safe on a server that never opened. */
void vnet_ctlsrv_close(struct vnet_ctlsrv *s);
/* The access decision for peer (pid for the log, <= 0: unknown), counting
 * and logging a refusal of what ("'capture' (user data)"). */
enum vnetctl_access vnet_ctlsrv_check(struct vnet_ctlsrv *s, const struct vnetctl_peer *peer, int pid, bool changes,
				      const char *what);
/* One reply frame: status and text (cut at VNETCTL_REPLY_MAX). */
void vnet_ctlsrv_reply(int fd, int32_t status, const char *text, size_t len);
/* CLOCK_MONOTONIC in ns: a now_ns for host ops. */
uint64_t vnet_ctlsrv_now_ns(void *arg);

#endif
