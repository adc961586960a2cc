/*
 * Feature bit names, the virtio-net dependency table and the negotiation
 * arithmetic (see include/vnet/features.h for the model).
 *
 * The dependency table is data, walked by one generic fixed-point loop, so
 * the rules can be read against the spec line by line.  It is exhaustive
 * for the net feature bits that fit in 64 bits:
 *
 *  - every row of spec 5.1.3.1 "Feature bit requirements" whose feature
 *    is below bit 64 (source VNET_FRULE_SPEC).  The rows for bits >= 64
 *    cannot apply because those bits are never accepted:
 *        RSS_CONTEXT (64)             needs CTRL_VQ and RSS
 *        GUEST_UDP_TUNNEL_GSO (65)    needs GUEST_TSO4, GUEST_TSO6, GUEST_USO4, GUEST_USO6
 *        GUEST_UDP_TUNNEL_GSO_CSUM    needs GUEST_UDP_TUNNEL_GSO
 *        HOST_UDP_TUNNEL_GSO (67)     needs HOST_TSO4, HOST_TSO6, HOST_USO
 *        HOST_UDP_TUNNEL_GSO_CSUM     needs HOST_UDP_TUNNEL_GSO
 *    (whoever widens the feature word adds them here);
 *  - the two driver-normative SHOULDs of spec 5.1.4.2 (HASH_REPORT and
 *    CTRL_RX_EXTRA not without CTRL_VQ; source VNET_FRULE_SHOULD);
 *  - the features that only add control-queue commands but are missing
 *    from the spec's table (CTRL_GUEST_OFFLOADS, DEVICE_STATS): accepting
 *    them without CTRL_VQ would promise commands the driver cannot send
 *    (source VNET_FRULE_USE).
 * Net features with no row (MTU, MAC, GUEST_CSUM, CSUM, MRG_RXBUF, STATUS,
 * CTRL_VQ, GUEST_HDRLEN, STANDBY, SPEED_DUPLEX) have no requirement.  The
 * device-independent bits have none either (spec 6 lists none).
 *
 * What this file does not do: decide what the driver wants (src/net does),
 * or talk to the device (src/core/device.c does).
 */
#include "vnet/features.h"

#include "vnet_log.h"

#define B(x) VNET_BIT(VIRTIO_NET_F_##x)

static const struct vnet_feature_rule feature_rules[] = {
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

const struct vnet_feature_rule *vnet_feature_rules(size_t *n)
{
	if (n)
		*n = sizeof(feature_rules) / sizeof(feature_rules[0]);
	return feature_rules;
}

/* Names: device-independent bits from spec 6 "Reserved Feature Bits" and
 * 6.1 legacy; net bits from spec 5.1.3.  Bit 41 is ADMIN_VQ in spec 6 and
 * the legacy GUEST_RSC4 for net; neither is ever accepted here, the
 * device-independent meaning is shown. */
static const char *const feature_names[VNET_FEATURE_BIT_MAX + 1] = {
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
	[24] = "NOTIFY_ON_EMPTY(legacy)",
	[27] = "ANY_LAYOUT(legacy)",
	[VIRTIO_F_INDIRECT_DESC] = "INDIRECT_DESC",
	[VIRTIO_F_EVENT_IDX] = "EVENT_IDX",
	[30] = "UNUSED_30(legacy)",
	[VIRTIO_F_VERSION_1] = "VERSION_1",
	[VIRTIO_F_ACCESS_PLATFORM] = "ACCESS_PLATFORM",
	[VIRTIO_F_RING_PACKED] = "RING_PACKED",
	[VIRTIO_F_IN_ORDER] = "IN_ORDER",
	[VIRTIO_F_ORDER_PLATFORM] = "ORDER_PLATFORM",
	[VIRTIO_F_SR_IOV] = "SR_IOV",
	[VIRTIO_F_NOTIFICATION_DATA] = "NOTIFICATION_DATA",
	[VIRTIO_F_NOTIF_CONFIG_DATA] = "NOTIF_CONFIG_DATA",
	[VIRTIO_F_RING_RESET] = "RING_RESET",
	[VIRTIO_F_ADMIN_VQ] = "ADMIN_VQ",
	[VIRTIO_NET_F_GUEST_RSC6] = "GUEST_RSC6(legacy)",
	[VIRTIO_F_SUSPEND] = "SUSPEND",
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
	return feature_names[bit];
}

size_t vnet_features_format(char *buf, size_t size, uint64_t features)
{
	if (!buf || size == 0)
		return 0;
	buf[0] = '\0';
	size_t pos = 0;
	for (unsigned bit = 0; bit < 64; bit++) {
		if (!(features & (1ULL << bit)))
			continue;
		char one[40];
		const char *name = vnet_feature_name(bit);
		size_t n = name ? vnet_snprintf(one, sizeof(one), "%s%s", pos ? " " : "", name)
				: vnet_snprintf(one, sizeof(one), "%sbit%u", pos ? " " : "", bit);
		if (n >= sizeof(one))
			n = sizeof(one) - 1;
		/* Keep room for " ..." if more names could follow. */
		if (pos + n + 4 >= size) {
			const char *ell = pos ? " ..." : "...";
			size_t i = 0;
			while (ell[i] && pos + 1 < size)
				buf[pos++] = ell[i++];
			buf[pos] = '\0';
			return pos;
		}
		for (size_t i = 0; i < n; i++)
			buf[pos++] = one[i];
		buf[pos] = '\0';
	}
	return pos;
}

static bool rule_met(const struct vnet_feature_rule *r, uint64_t set)
{
	if ((set & r->all) != r->all)
		return false;
	if (r->any && !(set & r->any))
		return false;
	return true;
}

uint64_t vnet_features_close(uint64_t set)
{
	/*
	 * Fixed point: removing one feature can break another's rule (e.g.
	 * dropping GUEST_CSUM drops GUEST_TSO4, which may leave GUEST_ECN
	 * without any TSO).  Every pass that changes anything removes at
	 * least one bit, so at most 64 passes; the bound is explicit anyway.
	 */
	for (unsigned pass = 0; pass <= 64; pass++) {
		uint64_t before = set;
		for (size_t i = 0; i < sizeof(feature_rules) / sizeof(feature_rules[0]); i++) {
			const struct vnet_feature_rule *r = &feature_rules[i];
			if ((set & VNET_BIT(r->bit)) && !rule_met(r, set))
				set &= ~VNET_BIT(r->bit);
		}
		if (set == before)
			break;
	}
	return set;
}

int vnet_features_validate(uint64_t set, bool spec_only, unsigned *bad_bit)
{
	unsigned worst = 64;
	for (size_t i = 0; i < sizeof(feature_rules) / sizeof(feature_rules[0]); i++) {
		const struct vnet_feature_rule *r = &feature_rules[i];
		if (spec_only && r->source != VNET_FRULE_SPEC)
			continue;
		if ((set & VNET_BIT(r->bit)) && !rule_met(r, set) && r->bit < worst)
			worst = r->bit;
	}
	if (worst == 64)
		return VNET_OK;
	if (bad_bit)
		*bad_bit = worst;
	return VNET_EINVAL;
}

int vnet_features_negotiate(uint64_t offered, uint64_t wanted, uint64_t transport_features,
			    uint64_t *accepted)
{
	*accepted = 0;
	/* Spec 2.2.3: no VERSION_1 means a legacy device; there is no legacy
	 * mode here, so refuse (the caller sets FAILED, spec 2.2.1). */
	if (!(offered & VNET_BIT(VIRTIO_F_VERSION_1)))
		return VNET_ENOTSUP;

	/* Spec 6.1: the driver MUST accept VERSION_1 when offered. */
	wanted |= VNET_BIT(VIRTIO_F_VERSION_1);
	transport_features |= VNET_BIT(VIRTIO_F_VERSION_1);

	/* Spec 2.2.1: never accept a bit that is not described, reserved,
	 * unsupported by the transport, or not defined for the device type. */
	uint64_t known = VNET_FEATURES_NET_KNOWN |
			 (VNET_FEATURES_DEVICE_INDEPENDENT & transport_features);

	/* Spec 2.2.1: never accept what was not offered, nor a feature whose
	 * requirement is not accepted. */
	*accepted = vnet_features_close(offered & wanted & known);
	return VNET_OK;
}
