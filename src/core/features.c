/*
 * Device-neutral feature negotiation (see include/vnet/features.h for the
 * model): the names of the device-independent bits (VirtIO 1.2 §6), a
 * formatter over any name function, and the closure over a dependency
 * table the device layer passes in.
 *
 * The table is data, walked by one generic fixed-point loop, so a device
 * type's rules can be read against its spec section line by line where the
 * device layer keeps them (each device layer owns its table).  The
 * device-independent bits have no requirements (§6 lists none).
 *
 * What this file does not do: know any device type's bits or rules,
 * decide what the driver wants (the device layer does), or talk to the
 * device (src/core/device.c does).
 */
#include "vnet/features.h"

#include "vnet_log.h"

/* Spec 6 "Reserved Feature Bits" and 6.1 legacy.  Bit 42 is not defined
 * device-independently (device types may use it). */
static const char *const common_names[44] = {
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
	[VIRTIO_F_SUSPEND] = "SUSPEND",
};

const char *vnet_feature_common_name(unsigned bit)
{
	if (bit >= sizeof(common_names) / sizeof(common_names[0]))
		return NULL;
	return common_names[bit];
}

size_t vnet_features_format_names(char *buf, size_t size, uint64_t features, vnet_feature_name_fn namer)
{
	if (!buf || size == 0)
		return 0;
	buf[0] = '\0';
	size_t pos = 0;
	for (unsigned bit = 0; bit < 64; bit++) {
		if (!(features & (1ULL << bit)))
			continue;
		char one[40];
		/* Called, not stored: the address of an extern function would
		 * need the GOT in a PIE-default build (core_undefined_symbols). */
		const char *name = namer ? namer(bit) : vnet_feature_common_name(bit);
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

uint64_t vnet_features_close(const struct vnet_feature_rule *rules, size_t n, uint64_t set)
{
	if (!rules)
		n = 0;
	/*
	 * Fixed point: removing one feature can break another's rule (e.g.
	 * a checksum offload dropped takes the segmentation offloads needing
	 * it, which may leave a third with none of its "any" bits).  Every
	 * pass that changes anything removes at least one bit, so at most 64
	 * passes; the bound is explicit anyway.
	 */
	for (unsigned pass = 0; pass <= 64; pass++) {
		uint64_t before = set;
		for (size_t i = 0; i < n; i++) {
			const struct vnet_feature_rule *r = &rules[i];
			if (r->bit < 64 && (set & VNET_BIT(r->bit)) && !rule_met(r, set))
				set &= ~VNET_BIT(r->bit);
		}
		if (set == before)
			break;
	}
	return set;
}

int vnet_features_validate(const struct vnet_feature_rule *rules, size_t n, uint64_t set, bool spec_only,
			   unsigned *bad_bit)
{
	unsigned worst = 64;
	if (!rules)
		n = 0;
	for (size_t i = 0; i < n; i++) {
		const struct vnet_feature_rule *r = &rules[i];
		if (spec_only && r->source != VNET_FRULE_SPEC)
			continue;
		if (r->bit < 64 && (set & VNET_BIT(r->bit)) && !rule_met(r, set) && r->bit < worst)
			worst = r->bit;
	}
	if (worst == 64)
		return VNET_OK;
	if (bad_bit)
		*bad_bit = worst;
	return VNET_EINVAL;
}

int vnet_features_negotiate(uint64_t offered, uint64_t wanted, uint64_t transport_features, uint64_t device_known,
			    const struct vnet_feature_rule *rules, size_t nrules, uint64_t *accepted)
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
	 * unsupported by the transport, or not defined for the device type
	 * (the device layer's mask; the reserved range is the core's). */
	uint64_t known = (device_known & ~VNET_FEATURES_RESERVED_RANGE) |
			 (VNET_FEATURES_DEVICE_INDEPENDENT & transport_features);

	/* Spec 2.2.1: never accept what was not offered, nor a feature whose
	 * requirement is not accepted. */
	*accepted = vnet_features_close(rules, nrules, offered & wanted & known);
	return VNET_OK;
}

int vnet_features_negotiate_legacy(uint64_t offered, uint64_t wanted, uint64_t transport_features,
				   uint64_t device_known, const struct vnet_feature_rule *rules, size_t nrules,
				   uint64_t *accepted)
{
	/* Legacy: 32 feature bits (§4.1.4.10, one feature word each way),
	 * no VERSION_1; ANY_LAYOUT is legacy-only and is what lets the
	 * driver put the header and the data in one descriptor. */
	uint64_t indep = (VNET_FEATURES_DEVICE_INDEPENDENT | VNET_BIT(VIRTIO_F_ANY_LAYOUT)) & ~VNET_BIT(VIRTIO_F_VERSION_1);
	uint64_t known = (device_known & ~VNET_FEATURES_RESERVED_RANGE) |
			 (indep & (transport_features | VNET_BIT(VIRTIO_F_ANY_LAYOUT)));
	*accepted = vnet_features_close(rules, nrules, offered & wanted & known & 0xffffffffull);
	return VNET_OK;
}
