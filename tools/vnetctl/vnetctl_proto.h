/*
 * vnetctl_proto.h - the control socket's protocol and access rule, shared
 * by vnetctl (the client) and vnetd (the server); docs/management.md.
 *
 * One frame each way over a Unix stream socket:
 *
 *   offset size  field
 *   0      4     magic "VNCT"
 *   4      1     version (1)
 *   5      1     type: 1 request, 2 reply
 *   6      2     reserved, 0
 *   8      4     payload length, little-endian (request <= 4096, reply <= 1 MiB)
 *   12     ...   payload
 *
 * Request payload: argc (u16 LE, 1..32), then argc strings, each
 * NUL-terminated and non-empty, and nothing after the last NUL.  argv[0]
 * is the command (full name or alias); "--json" may be one of the
 * arguments, as in the kernel shell.
 * Reply payload: status (i32 LE: 0 ok; a negative vnet_err the command
 * returned; VNETCTL_REFUSED access refused; VNETCTL_EBADREQ malformed
 * request), then the command's output, text or JSON, not terminated.
 *
 * Pure functions (no I/O): every length is checked against the buffer it
 * describes, so a peer's frame is never read past its end.
 */
#ifndef VNETCTL_PROTO_H
#define VNETCTL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VNETCTL_HDR_LEN 12u
#define VNETCTL_VERSION 1u
#define VNETCTL_T_REQUEST 1u
#define VNETCTL_T_REPLY 2u
#define VNETCTL_REQ_MAX 4096u
#define VNETCTL_REPLY_MAX (1u << 20)
#define VNETCTL_ARGC_MAX 32
#define VNETCTL_REFUSED (-1000)
#define VNETCTL_EBADREQ (-1001)

/* Header for a payload of len bytes into hdr. */
void vnetctl_hdr_encode(uint8_t hdr[VNETCTL_HDR_LEN], uint8_t type, uint32_t len);
/* 0 and *len, or -1 with *why: bad magic, version, type other than want,
 * or a length above the type's maximum. */
int vnetctl_hdr_decode(const uint8_t hdr[VNETCTL_HDR_LEN], uint8_t want, uint32_t *len, const char **why);

/* Request frame (header + payload) into buf; its length, or 0 when argc
 * is out of range, an argument is empty or it does not fit cap /
 * VNETCTL_REQ_MAX. */
size_t vnetctl_request_encode(uint8_t *buf, size_t cap, int argc, const char *const *argv);
/* Request payload -> argv pointers into payload (which must stay alive);
 * 0, or -1 with *why. */
int vnetctl_request_decode(const uint8_t *payload, uint32_t len, int *argc, const char *argv[VNETCTL_ARGC_MAX],
			   const char **why);
/* The 4 status bytes at the start of a reply payload. */
void vnetctl_reply_status_encode(uint8_t out[4], int32_t status);
/* Reply payload -> status and text (pointer into payload). -1 if short. */
int vnetctl_reply_decode(const uint8_t *payload, uint32_t len, int32_t *status, const char **text,
			 size_t *text_len);

/* The access rule (SO_PEERCRED, docs/management.md):
 *   root and the socket's owner: every command;
 *   a member of the read-only group (primary or supplementary): read-only
 *   commands;
 *   anyone else: nothing. */
struct vnetctl_peer {
	uint32_t uid, gid;
	const uint32_t *groups; /* supplementary groups, may be NULL */
	uint32_t ngroups;
};
enum vnetctl_access {
	VNETCTL_ALLOW = 0,
	VNETCTL_DENY_CHANGE,  /* a group member asked for a changing command */
	VNETCTL_DENY_ALL,     /* not root, owner or group member */
};
enum vnetctl_access vnetctl_access_decide(const struct vnetctl_peer *peer, uint32_t owner_uid, uint32_t ro_gid,
					  bool changes);
const char *vnetctl_access_reason(enum vnetctl_access a);

#endif
