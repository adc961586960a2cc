/*
 * vnetctl_proto.c - framing and the access rule (vnetctl_proto.h).
 */
#include <string.h>

#include "vnetctl_proto.h"

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void vnetctl_hdr_encode(uint8_t hdr[VNETCTL_HDR_LEN], uint8_t type, uint32_t len)
{
	memcpy(hdr, "VNCT", 4);
	hdr[4] = VNETCTL_VERSION;
	hdr[5] = type;
	hdr[6] = hdr[7] = 0;
	put_le32(hdr + 8, len);
}

int vnetctl_hdr_decode(const uint8_t hdr[VNETCTL_HDR_LEN], uint8_t want, uint32_t *len, const char **why)
{
	const char *w = NULL;
	uint32_t l = get_le32(hdr + 8);
	if (memcmp(hdr, "VNCT", 4))
		w = "bad magic (not a vnetctl frame)";
	else if (hdr[4] != VNETCTL_VERSION)
		w = "unsupported protocol version";
	else if (hdr[5] != want)
		w = "unexpected frame type";
	else if (hdr[6] || hdr[7])
		w = "reserved bytes not zero";
	else if (l > (want == VNETCTL_T_REQUEST ? VNETCTL_REQ_MAX : VNETCTL_REPLY_MAX))
		w = "payload too long";
	if (why)
		*why = w;
	if (w)
		return -1;
	*len = l;
	return 0;
}

size_t vnetctl_request_encode(uint8_t *buf, size_t cap, int argc, const char *const *argv)
{
	if (argc < 1 || argc > VNETCTL_ARGC_MAX)
		return 0;
	size_t len = 2;
	for (int i = 0; i < argc; i++) {
		size_t n = argv[i] ? strlen(argv[i]) : 0;
		if (n == 0)
			return 0;
		len += n + 1;
	}
	if (len > VNETCTL_REQ_MAX || VNETCTL_HDR_LEN + len > cap)
		return 0;
	vnetctl_hdr_encode(buf, VNETCTL_T_REQUEST, (uint32_t)len);
	uint8_t *p = buf + VNETCTL_HDR_LEN;
	p[0] = (uint8_t)argc;
	p[1] = (uint8_t)((unsigned)argc >> 8);
	p += 2;
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]) + 1;
		memcpy(p, argv[i], n);
		p += n;
	}
	return VNETCTL_HDR_LEN + len;
}

int vnetctl_request_decode(const uint8_t *payload, uint32_t len, int *argc, const char *argv[VNETCTL_ARGC_MAX],
			   const char **why)
{
	const char *w = NULL;
	if (len < 2) {
		w = "request too short";
		goto bad;
	}
	unsigned n = (unsigned)payload[0] | (unsigned)payload[1] << 8;
	if (n < 1 || n > VNETCTL_ARGC_MAX) {
		w = "argument count out of range (1..32)";
		goto bad;
	}
	uint32_t off = 2;
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *end = off < len ? memchr(payload + off, 0, len - off) : NULL;
		if (!end) {
			w = "argument not NUL-terminated inside the request";
			goto bad;
		}
		if ((uint32_t)(end - payload) == off) {
			w = "empty argument";
			goto bad;
		}
		argv[i] = (const char *)payload + off;
		off = (uint32_t)(end - payload) + 1;
	}
	if (off != len) {
		w = "bytes after the last argument";
		goto bad;
	}
	*argc = (int)n;
	return 0;
bad:
	if (why)
		*why = w;
	return -1;
}

void vnetctl_reply_status_encode(uint8_t out[4], int32_t status)
{
	put_le32(out, (uint32_t)status);
}

int vnetctl_reply_decode(const uint8_t *payload, uint32_t len, int32_t *status, const char **text, size_t *text_len)
{
	if (len < 4)
		return -1;
	*status = (int32_t)get_le32(payload);
	*text = (const char *)payload + 4;
	*text_len = len - 4;
	return 0;
}

enum vnetctl_access vnetctl_access_decide(const struct vnetctl_peer *peer, uint32_t owner_uid, uint32_t ro_gid,
					  bool changes)
{
	if (peer->uid == 0 || peer->uid == owner_uid)
		return VNETCTL_ALLOW;
	bool member = peer->gid == ro_gid;
	for (uint32_t i = 0; !member && peer->groups && i < peer->ngroups; i++)
		member = peer->groups[i] == ro_gid;
	if (!member)
		return VNETCTL_DENY_ALL;
	return changes ? VNETCTL_DENY_CHANGE : VNETCTL_ALLOW;
}

const char *vnetctl_access_reason(enum vnetctl_access a)
{
	switch (a) {
	case VNETCTL_ALLOW: return "allowed";
	case VNETCTL_DENY_CHANGE: return "changing commands are for root and the socket's owner only";
	case VNETCTL_DENY_ALL: return "not root, the socket's owner or a member of its read-only group";
	}
	return "?";
}
