/*
 * virtio-net's feature knowledge (VirtIO 1.2 §5.1.3 "Feature bits"): the
 * names of its bits and its dependency table, handed to the device-neutral
 * negotiation in src/core (vnet_device_opts.rules/known/feature_name).
 *
 * The dependency table is exhaustive for the net feature bits that fit in
 * 64 bits:
 *  - every row of §5.1.3.1 "Feature bit requirements" whose feature is
 *    below bit 64 (source VNET_FRULE_SPEC).  The rows for bits >= 64
 *    cannot apply because those bits are never accepted:
 *        RSS_CONTEXT (64)             needs CTRL_VQ and RSS
 *        GUEST_UDP_TUNNEL_GSO (65)    needs GUEST_TSO4, GUEST_TSO6, GUEST_USO4, GUEST_USO6
 *        GUEST_UDP_TUNNEL_GSO_CSUM    needs GUEST_UDP_TUNNEL_GSO
 *        HOST_UDP_TUNNEL_GSO (67)     needs HOST_TSO4, HOST_TSO6, HOST_USO
 *        HOST_UDP_TUNNEL_GSO_CSUM     needs HOST_UDP_TUNNEL_GSO
 *    (whoever widens the feature word adds them here);
 *  - the two driver-normative SHOULDs of §5.1.4.2 (HASH_REPORT and
 *    CTRL_RX_EXTRA not without CTRL_VQ; source VNET_FRULE_SHOULD);
 *  - the features that only add control-queue commands but are missing
 *    from the spec's table (CTRL_GUEST_OFFLOADS, DEVICE_STATS): accepting
 *    them without CTRL_VQ would promise commands the driver cannot send
 *    (source VNET_FRULE_USE).
 * Net features with no row (MTU, MAC, GUEST_CSUM, CSUM, MRG_RXBUF, STATUS,
 * CTRL_VQ, GUEST_HDRLEN, STANDBY, SPEED_DUPLEX) have no requirement.
 *
 * Names: net bits here, device-independent ones from the core
 * (vnet_feature_common_name).  Bit 41 is ADMIN_VQ in §6 and the legacy
 * GUEST_RSC4 for net; neither is ever accepted here, the
 * device-independent meaning is shown.  Bits 64..70 are named but can
 * never be accepted (64-bit feature words).
 * What this file does not do: negotiate (src/core/features.c), or decide
 * what the driver wants (net_setup.c).  Pure data and pure functions.
 */
#include "vnet/features.h"
#include "vnet/net.h"

#define B(x) VNET_BIT(VIRTIO_NET_F_##x)

static const struct vnet_feature_rule net_feat_rules[] = {
	/* 5.1.3.1, receive (guest) offloads */
	{VIRTIO_NET_F_GUEST_TSO4, VNET_FRULE_SPEC, B(GUEST_CSUM), 0},
	{VIRTIO_NET_F_GUEST_TSO6, VNET_FRULE_SPEC, B(GUEST_CSUM), 0},
	{VIRTIO_NET_F_GUEST_ECN, VNET_FRULE_SPEC, 0, B(GUEST_TSO4) | B(GUEST_TSO6)},
	{VIRTIO_NET_F_GUEST_UFO, VNET_FRULE_SPEC, B(GUEST_CSUM), 0},
	{VIRTIO_NET_F_GUEST_USO4, VNET_FRULE_SPEC, B(GUEST_CSUM), 0},
	{VIRTIO_NET_F_GUEST_USO6, VNET_FRULE_SPEC, B(GUEST_CSUM), 0},
	/* 5.1.3.1, transmit (host) offloads */
	{VIRTIO_NET_F_HOST_TSO4, VNET_FRULE_SPEC, B(CSUM), 0},
	{VIRTIO_NET_F_HOST_TSO6, VNET_FRULE_SPEC, B(CSUM), 0},
	{VIRTIO_NET_F_HOST_ECN, VNET_FRULE_SPEC, 0, B(HOST_TSO4) | B(HOST_TSO6)},
	{VIRTIO_NET_F_HOST_UFO, VNET_FRULE_SPEC, B(CSUM), 0},
	{VIRTIO_NET_F_HOST_USO, VNET_FRULE_SPEC, B(CSUM), 0},
	{VIRTIO_NET_F_RSC_EXT, VNET_FRULE_SPEC, 0, B(HOST_TSO4) | B(HOST_TSO6)},
	/* 5.1.3.1, control queue users */
	{VIRTIO_NET_F_CTRL_RX, VNET_FRULE_SPEC, B(CTRL_VQ), 0},
	{VIRTIO_NET_F_CTRL_VLAN, VNET_FRULE_SPEC, B(CTRL_VQ), 0},
	{VIRTIO_NET_F_GUEST_ANNOUNCE, VNET_FRULE_SPEC, B(CTRL_VQ), 0},
	{VIRTIO_NET_F_MQ, VNET_FRULE_SPEC, B(CTRL_VQ), 0},
	{VIRTIO_NET_F_CTRL_MAC_ADDR, VNET_FRULE_SPEC, B(CTRL_VQ), 0},
	{VIRTIO_NET_F_NOTF_COAL, VNET_FRULE_SPEC, B(CTRL_VQ), 0},
	{VIRTIO_NET_F_RSS, VNET_FRULE_SPEC, B(CTRL_VQ), 0},
	{VIRTIO_NET_F_VQ_NOTF_COAL, VNET_FRULE_SPEC, B(CTRL_VQ), 0},
	{VIRTIO_NET_F_HASH_TUNNEL, VNET_FRULE_SPEC, B(CTRL_VQ), B(RSS) | B(HASH_REPORT)},
	/* 5.1.4.2 driver SHOULD NOTs */
	{VIRTIO_NET_F_HASH_REPORT, VNET_FRULE_SHOULD, B(CTRL_VQ), 0},
	{VIRTIO_NET_F_CTRL_RX_EXTRA, VNET_FRULE_SHOULD, B(CTRL_VQ), 0},
	/* control-queue-only features the spec's table omits */
	{VIRTIO_NET_F_CTRL_GUEST_OFFLOADS, VNET_FRULE_USE, B(CTRL_VQ), 0},
	{VIRTIO_NET_F_DEVICE_STATS, VNET_FRULE_USE, B(CTRL_VQ), 0},
};

#undef B

const struct vnet_feature_rule *vnet_net_feature_rules(size_t *n)
{
	if (n)
		*n = sizeof(net_feat_rules) / sizeof(net_feat_rules[0]);
	return net_feat_rules;
}

/* Net bits of §5.1.3 (and legacy ones marked so). */
static const char *const net_feat_names[VNET_FEATURE_BIT_MAX + 1] = {
	[VIRTIO_NET_F_CSUM] = "CSUM",
	[VIRTIO_NET_F_GUEST_CSUM] = "GUEST_CSUM",
	[VIRTIO_NET_F_CTRL_GUEST_OFFLOADS] = "CTRL_GUEST_OFFLOADS",
	[VIRTIO_NET_F_MTU] = "MTU",
	[VIRTIO_NET_F_MAC] = "MAC",
	[VIRTIO_NET_F_GSO] = "GSO(legacy)",
	[VIRTIO_NET_F_GUEST_TSO4] = "GUEST_TSO4",
	[VIRTIO_NET_F_GUEST_TSO6] = "GUEST_TSO6",
	[VIRTIO_NET_F_GUEST_ECN] = "GUEST_ECN",
	[VIRTIO_NET_F_GUEST_UFO] = "GUEST_UFO",
	[VIRTIO_NET_F_HOST_TSO4] = "HOST_TSO4",
	[VIRTIO_NET_F_HOST_TSO6] = "HOST_TSO6",
	[VIRTIO_NET_F_HOST_ECN] = "HOST_ECN",
	[VIRTIO_NET_F_HOST_UFO] = "HOST_UFO",
	[VIRTIO_NET_F_MRG_RXBUF] = "MRG_RXBUF",
	[VIRTIO_NET_F_STATUS] = "STATUS",
	[VIRTIO_NET_F_CTRL_VQ] = "CTRL_VQ",
	[VIRTIO_NET_F_CTRL_RX] = "CTRL_RX",
	[VIRTIO_NET_F_CTRL_VLAN] = "CTRL_VLAN",
	[VIRTIO_NET_F_CTRL_RX_EXTRA] = "CTRL_RX_EXTRA",
	[VIRTIO_NET_F_GUEST_ANNOUNCE] = "GUEST_ANNOUNCE",
	[VIRTIO_NET_F_MQ] = "MQ",
	[VIRTIO_NET_F_CTRL_MAC_ADDR] = "CTRL_MAC_ADDR",
	[VIRTIO_NET_F_GUEST_RSC6] = "GUEST_RSC6(legacy)",
	[VIRTIO_NET_F_DEVICE_STATS] = "DEVICE_STATS",
	[VIRTIO_NET_F_HASH_TUNNEL] = "HASH_TUNNEL",
	[VIRTIO_NET_F_VQ_NOTF_COAL] = "VQ_NOTF_COAL",
	[VIRTIO_NET_F_NOTF_COAL] = "NOTF_COAL",
	[VIRTIO_NET_F_GUEST_USO4] = "GUEST_USO4",
	[VIRTIO_NET_F_GUEST_USO6] = "GUEST_USO6",
	[VIRTIO_NET_F_HOST_USO] = "HOST_USO",
	[VIRTIO_NET_F_HASH_REPORT] = "HASH_REPORT",
	[VIRTIO_NET_F_GUEST_HDRLEN] = "GUEST_HDRLEN",
	[VIRTIO_NET_F_RSS] = "RSS",
	[VIRTIO_NET_F_RSC_EXT] = "RSC_EXT",
	[VIRTIO_NET_F_STANDBY] = "STANDBY",
	[VIRTIO_NET_F_SPEED_DUPLEX] = "SPEED_DUPLEX",
	[VIRTIO_NET_F_RSS_CONTEXT] = "RSS_CONTEXT",
	[VIRTIO_NET_F_GUEST_UDP_TUNNEL_GSO] = "GUEST_UDP_TUNNEL_GSO",
	[VIRTIO_NET_F_GUEST_UDP_TUNNEL_GSO_CSUM] = "GUEST_UDP_TUNNEL_GSO_CSUM",
	[VIRTIO_NET_F_HOST_UDP_TUNNEL_GSO] = "HOST_UDP_TUNNEL_GSO",
	[VIRTIO_NET_F_HOST_UDP_TUNNEL_GSO_CSUM] = "HOST_UDP_TUNNEL_GSO_CSUM",
	[VIRTIO_NET_F_OUT_NET_HEADER] = "OUT_NET_HEADER",
	[VIRTIO_NET_F_IPSEC] = "IPSEC",
};

const char *vnet_feature_name(unsigned bit)
{
	if (bit > VNET_FEATURE_BIT_MAX)
		return NULL;
	return net_feat_names[bit] ? net_feat_names[bit] : vnet_feature_common_name(bit);
}

size_t vnet_features_format(char *buf, size_t size, uint64_t features)
{
	return vnet_features_format_names(buf, size, features, vnet_feature_name);
}
