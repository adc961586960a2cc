/*
 * 802.1Q VLANs in Orion's test stack, in software: virtio-net has no tag
 * offload, so a VLAN interface's frames get their tag inserted here on
 * transmit and stripped here on receive (IEEE 802.1Q: TPID 0x8100, then
 * the TCI: PCP 3 bits, DEI 1 bit, VID 12 bits).
 *
 * A VLAN interface ("vnetN.VID") is a stack interface of its own (index
 * NET_MAX_IF and up, orion/net.h): its address, counters and ARP cache,
 * and ARP, ICMP echo, UDP echo and TCP served on it as on the base
 * interface.  It sends through its device (netdev_* with the device
 * index) without offloads (netdev_caps is false for its index: the
 * device would not find the L4 header behind the tag).
 *
 * Configuration (net_vlan_setup, called by the glue after net_init):
 *   vnetN.vlan=ID[,ID...]   VLANs of device vnetN ("vlan=" means vnet0),
 *                           ID 1..4094 (0 is a priority tag, 4095 reserved)
 *   vnetN.ID.ip=A.B.C.D[/M] the VLAN interface's address (required)
 *   vnetN.ID.gw=A.B.C.D     its gateway (none by default)
 * The glue adds every ID to the device's VLAN filter (CTRL_VLAN).
 *
 * Receive: a tagged frame on the base interface is counted there
 * (vlan_rx), checked (vlan_bad: truncated tag, a tag on a VLAN
 * interface's frame i.e. a stacked tag), and handed without its tag to
 * the VLAN interface of its VID; a VID not configured is dropped and
 * counted (vlan_unknown).  A priority tag (VID 0) is delivered to the base
 * interface untagged.  The tag's priority is not kept.
 *
 * Context: interrupts off (orion/net.h); the strip buffer is static
 * because nothing here runs concurrently and a VLAN interface never
 * recurses (stacked tags are dropped).
 */
#include "orion/cmdline.h"
#include "orion/klib.h"
#include "orion/kprintf.h"
#include "orion/net.h"
#include "net_priv.h"

struct vlan_slot {
	bool used;
	unsigned dev;
	uint16_t vid;
};
static struct vlan_slot slots[NET_VLAN_MAX];
static uint8_t rxbuf[NET_FRAME_MAX + NET_VLAN_HLEN];

int net_vlan_find(unsigned dev, uint16_t vid)
{
	for (unsigned i = 0; i < NET_VLAN_MAX; i++)
		if (slots[i].used && slots[i].dev == dev && slots[i].vid == vid)
			return (int)(NET_MAX_IF + i);
	return -1;
}

unsigned net_vlan_ids(unsigned dev, uint16_t *vids, unsigned max)
{
	unsigned n = 0;
	for (unsigned i = 0; i < NET_VLAN_MAX && n < max; i++)
		if (slots[i].used && slots[i].dev == dev)
			vids[n++] = slots[i].vid;
	return n;
}

char *net_if_name(unsigned ifn, char *buf)
{
	if (ifn >= NET_MAX_IF && ifn < NET_IF_SLOTS && slots[ifn - NET_MAX_IF].used)
		ksnprintf(buf, 16, "vnet%u.%u", slots[ifn - NET_MAX_IF].dev, slots[ifn - NET_MAX_IF].vid);
	else
		ksnprintf(buf, 16, "vnet%u", ifn);
	return buf;
}

/* ------------------------------------------------------------ data path */

size_t net_vlan_tag(unsigned dev, uint8_t *frame, size_t len, uint16_t vid)
{
	/* Destination and source MAC stay; the tag goes where the EtherType
	 * was, the EtherType and payload move back by 4 bytes. */
	memmove(frame + 12 + NET_VLAN_HLEN, frame + 12, len - 12);
	net_wr16(frame + 12, NET_ETH_P_8021Q);
	net_wr16(frame + 14, vid & 0x0fffu); /* PCP 0, DEI 0 */
	struct net_stats *st = net_if_stats(dev);
	if (st)
		st->vlan_tx++;
	return len + NET_VLAN_HLEN;
}

void net_vlan_input(unsigned ifn, const uint8_t *frame, size_t len, unsigned rxflags)
{
	struct net_stats *st = net_if_stats(ifn);
	if (!st)
		return;
	st->vlan_rx++;
	/* A VLAN interface's frame with another tag (QinQ), or a tag with no
	 * EtherType behind it: not ours to serve. */
	if (ifn >= NET_MAX_IF || len < NET_ETH_HLEN + NET_VLAN_HLEN || len - NET_VLAN_HLEN > NET_FRAME_MAX) {
		st->vlan_bad++;
		return;
	}
	uint16_t vid = net_rd16(frame + 14) & 0x0fffu;
	int vif = vid ? net_vlan_find(ifn, vid) : (int)ifn;
	if (vif < 0) {
		st->vlan_unknown++;
		return;
	}
	memcpy(rxbuf, frame, 12);
	memcpy(rxbuf + 12, frame + 12 + NET_VLAN_HLEN, len - 12 - NET_VLAN_HLEN);
	if (vif == (int)ifn && net_rd16(rxbuf + 12) == NET_ETH_P_8021Q) {
		st->vlan_bad++; /* a priority tag around another tag */
		return;
	}
	/* The device's checksum flags describe the frame, tag or not. */
	net_input_meta((unsigned)vif, rxbuf, len - NET_VLAN_HLEN, rxflags);
}

void net_announce(unsigned dev)
{
	if (net_cfg(dev))
		(void)net_arp_announce(dev);
	for (unsigned i = 0; i < NET_VLAN_MAX; i++)
		if (slots[i].used && slots[i].dev == dev)
			(void)net_arp_announce(NET_MAX_IF + i);
}

/* ------------------------------------------------------------ configuration */

/* "A.B.C.D[/M]" into c (prefix 24 without /M); false on bad syntax. */
static bool parse_cidr(const char *s, struct net_if_cfg *c)
{
	uint32_t ip;
	if (!net_parse_ip(s, &ip))
		return false;
	c->ip = ip;
	c->prefix = 24;
	const char *sl = strchr(s, '/');
	if (sl) {
		uint64_t len;
		if (!kstrtou64(sl + 1, &len) || len < 1 || len > 31)
			return false;
		c->prefix = (uint8_t)len;
	}
	c->mask = ~0u << (32 - c->prefix);
	return true;
}

static bool vlan_add(unsigned dev, uint16_t vid)
{
	char key[32], name[16];
	ksnprintf(name, sizeof(name), "vnet%u.%u", dev, vid);
	const struct net_if_cfg *base = net_cfg(dev);
	if (!base)
		return false;
	if (net_vlan_find(dev, vid) >= 0) {
		kprintf("%s: VLAN listed twice, ignored\n", name);
		return false;
	}
	struct net_if_cfg c;
	memset(&c, 0, sizeof(c));
	memcpy(c.mac, base->mac, 6);
	c.mtu = base->mtu;
	ksnprintf(key, sizeof(key), "%s.ip", name);
	const char *ip = cmdline_get(key);
	if (!ip || !parse_cidr(ip, &c)) {
		kprintf("%s: %s %s=%s: VLAN not added (needs %s=A.B.C.D[/M])\n", name, ip ? "bad" : "no address",
			key, ip ? ip : "", key);
		return false;
	}
	ksnprintf(key, sizeof(key), "%s.gw", name);
	const char *gw = cmdline_get(key);
	uint32_t v;
	if (gw && net_parse_ip(gw, &v))
		c.gw = v;
	else if (gw)
		kprintf("%s: ignoring bad %s=%s\n", name, key, gw);
	unsigned i = 0;
	while (i < NET_VLAN_MAX && slots[i].used)
		i++;
	if (i == NET_VLAN_MAX) {
		kprintf("%s: at most %u VLAN interfaces in all: not added\n", name, NET_VLAN_MAX);
		return false;
	}
	unsigned long f = net_lock();
	slots[i].used = true;
	slots[i].dev = dev;
	slots[i].vid = vid;
	net_init_vlan(NET_MAX_IF + i, dev, vid, &c);
	net_unlock(f);
	char a[16];
	kprintf("%s: up vlan %u ip %s/%u on vnet%u\n", name, vid, net_fmt_ip(c.ip, a), c.prefix, dev);
	return true;
}

unsigned net_vlan_setup(unsigned dev)
{
	char key[24];
	ksnprintf(key, sizeof(key), "vnet%u.vlan", dev);
	const char *s = cmdline_get(key);
	if (!s && dev == 0)
		s = cmdline_get("vlan");
	if (!s)
		return 0;
	unsigned added = 0;
	while (*s) {
		char tok[8];
		size_t n = 0;
		while (s[n] && s[n] != ',')
			n++;
		uint64_t vid = 0;
		bool ok = n > 0 && n < sizeof(tok);
		if (ok) {
			memcpy(tok, s, n);
			tok[n] = 0;
			ok = kstrtou64(tok, &vid) && vid >= 1 && vid <= 4094;
		}
		if (!ok)
			kprintf("vnet%u: ignoring bad VLAN id '%.*s' in vlan= (1..4094)\n", dev, (int)n, s);
		else if (vlan_add(dev, (uint16_t)vid))
			added++;
		s += n;
		if (*s == ',')
			s++;
	}
	return added;
}
