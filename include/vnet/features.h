/*
 * orion-vnet feature negotiation, device-neutral: the computation of the
 * accepted feature set over a dependency table the device layer supplies,
 * names of the device-independent bits, and a formatter.
 *
 * Model (VirtIO 1.2 §2.2 "Feature Bits", §6 "Reserved Feature Bits"): the
 * device offers, the driver says what it can honour ("wanted"), and the
 * accepted set is
 *
 *     closure(offered & wanted & known & transport-allowed) | VERSION_1
 *
 * where `known` is what the device type defines (the device layer's mask)
 * plus the device-independent bits the transport carries, and closure()
 * drops, until nothing changes, every feature whose required features are
 * not also in the set.  The dependency rules are the device type's (for
 * virtio-net: §5.1.3.1, table in src/net/net_features.c): this file and
 * src/core know no device type.  Device-independent ring features
 * (INDIRECT_DESC, EVENT_IDX, RING_PACKED, IN_ORDER, NOTIFICATION_DATA,
 * ACCESS_PLATFORM, RING_RESET, ...) have no dependencies and are accepted
 * exactly when offered, wanted and carried by the transport.
 *
 * Names: vnet_feature_common_name() knows the device-independent bits;
 * vnet_feature_name() and vnet_features_format() know virtio-net's as well
 * and are implemented by the net layer (src/net/net_features.c), declared
 * here for the callers that print features.
 *
 * Limits: feature words are 64 bits.  All functions are pure and
 * reentrant; any context.
 */
#ifndef VNET_FEATURES_H
#define VNET_FEATURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec/virtio_config.h"
#include "vnet_error.h"

/* VIRTIO_F_SUSPEND (spec 6, bit 43) is not in spec/virtio_config.h yet. */
#ifndef VIRTIO_F_SUSPEND
#define VIRTIO_F_SUSPEND 43
#endif

/* Highest bit number a feature-name function is asked about. */
#define VNET_FEATURE_BIT_MAX 127u

/*
 * Device-independent bits the core understands (spec 6): INDIRECT_DESC,
 * EVENT_IDX, VERSION_1, ACCESS_PLATFORM, RING_PACKED, IN_ORDER,
 * ORDER_PLATFORM, SR_IOV, NOTIFICATION_DATA, NOTIF_CONFIG_DATA,
 * RING_RESET, ADMIN_VQ, SUSPEND.  Legacy-only bits (NOTIFY_ON_EMPTY 24,
 * ANY_LAYOUT 27, bit 30) are deliberately absent: never accepted.
 */
#define VNET_FEATURES_DEVICE_INDEPENDENT                                                   \
	(VNET_BIT(VIRTIO_F_INDIRECT_DESC) | VNET_BIT(VIRTIO_F_EVENT_IDX) |                 \
	 VNET_BIT(VIRTIO_F_VERSION_1) | VNET_BIT(VIRTIO_F_ACCESS_PLATFORM) |               \
	 VNET_BIT(VIRTIO_F_RING_PACKED) | VNET_BIT(VIRTIO_F_IN_ORDER) |                    \
	 VNET_BIT(VIRTIO_F_ORDER_PLATFORM) | VNET_BIT(VIRTIO_F_SR_IOV) |                   \
	 VNET_BIT(VIRTIO_F_NOTIFICATION_DATA) | VNET_BIT(VIRTIO_F_NOTIF_CONFIG_DATA) |     \
	 VNET_BIT(VIRTIO_F_RING_RESET) | VNET_BIT(VIRTIO_F_ADMIN_VQ) |                     \
	 VNET_BIT(VIRTIO_F_SUSPEND))

/* The device-independent ("reserved", spec 2.2) bit range, 24..43, of which
 * a transport carries a subset (struct vnet_transport_ops.transport_features). */
#define VNET_FEATURES_RESERVED_RANGE (((1ULL << 44) - 1) & ~((1ULL << 24) - 1))

/* Where a dependency rule comes from. */
enum vnet_feature_rule_source {
	/* The device type's "Feature bit requirements" (virtio-net: §5.1.3.1):
	 * the driver MUST NOT accept the feature without them (§2.2.1). */
	VNET_FRULE_SPEC = 0,
	/* A driver-normative "SHOULD NOT negotiate X if it does not
	 * negotiate Y" (virtio-net: §5.1.4.2). */
	VNET_FRULE_SHOULD = 1,
	/* The feature only enables commands sent on a queue another feature
	 * provides (virtio-net: the control queue), so it is meaningless
	 * without that feature; this driver does not accept it alone. */
	VNET_FRULE_USE = 2,
};

/*
 * One dependency: `bit` may be accepted only if every bit of `all` and, when
 * `any` is non-zero, at least one bit of `any` are accepted too.
 */
struct vnet_feature_rule {
	uint8_t bit;
	uint8_t source;   /* enum vnet_feature_rule_source */
	uint64_t all;
	uint64_t any;
};

/* Name of a feature bit, or NULL when the namer does not define it. */
typedef const char *(*vnet_feature_name_fn)(unsigned bit);

/* Short name of a device-independent bit (§6, without the VIRTIO_F_
 * prefix: "VERSION_1", "RING_PACKED"; legacy-only bits carry "(legacy)");
 * NULL for any other bit. */
const char *vnet_feature_common_name(unsigned bit);

/*
 * Space-separated names of the bits set in features, lowest first, as
 * `name` gives them (NULL: vnet_feature_common_name); a bit without a name
 * is printed as "bit<N>".  Always NUL-terminates (size > 0); when buf is
 * too small the list ends in "..." .  Returns the length written
 * (excluding the NUL).
 */
size_t vnet_features_format_names(char *buf, size_t size, uint64_t features, vnet_feature_name_fn name);

/* Drop, until a fixed point, every feature of `set` whose rule in
 * rules[0..n) is not met (all rule sources).  Idempotent; the result is a
 * subset of `set`. */
uint64_t vnet_features_close(const struct vnet_feature_rule *rules, size_t n, uint64_t set);

/*
 * Check that `set` is self-consistent: every rule of rules[0..n) (only
 * VNET_FRULE_SPEC rules when spec_only) is met for every bit in the set.
 * Returns VNET_OK, or VNET_EINVAL with *bad_bit (if non-NULL) set to the
 * lowest offending feature.  spec_only is what to hold a device's offer to
 * (§2.2.2: the device MUST NOT offer a feature whose requirements it does
 * not offer); the full check is what the driver's own accepted set obeys.
 */
int vnet_features_validate(const struct vnet_feature_rule *rules, size_t n, uint64_t set, bool spec_only,
			   unsigned *bad_bit);

/*
 * Compute the accepted feature set.
 *   offered: the device's 64 feature bits;
 *   wanted: what the driver can honour (VERSION_1 is added: §6.1, the
 *           driver MUST accept it when offered);
 *   transport_features: device-independent bits (24..43) the transport
 *           carries; others in that range are never accepted;
 *   device_known: the device-type bits (outside 24..43) the device layer
 *           knows; bits it does not know are never accepted, whatever
 *           `wanted` says (bits 24..43 in it are ignored);
 *   rules[0..nrules): the device type's dependency table (may be empty).
 * Returns VNET_OK with *accepted set, or VNET_ENOTSUP (and *accepted = 0)
 * if the device does not offer VIRTIO_F_VERSION_1: there is no legacy mode
 * (§2.2.3: that is how a legacy device is detected).
 */
int vnet_features_negotiate(uint64_t offered, uint64_t wanted, uint64_t transport_features, uint64_t device_known,
			    const struct vnet_feature_rule *rules, size_t nrules, uint64_t *accepted);

/*
 * The same for a legacy interface (a transport with ops->legacy, e.g. the
 * virtio 0.9.5 PCI I/O header, VirtIO 1.2 §4.1.4.10) whose device does not
 * offer VIRTIO_F_VERSION_1: only bits 0..31 exist, VERSION_1 is never
 * accepted, and of the device-independent bits only those the transport
 * carries plus VIRTIO_F_ANY_LAYOUT (27, legacy message framing, §2.7.4 /
 * §5.1.6.6) may be.  Always VNET_OK.
 */
int vnet_features_negotiate_legacy(uint64_t offered, uint64_t wanted, uint64_t transport_features,
				   uint64_t device_known, const struct vnet_feature_rule *rules, size_t nrules,
				   uint64_t *accepted);

/*
 * virtio-net names, implemented by the net layer (src/net/net_features.c):
 * vnet_feature_name() is the short name of a device-independent or
 * virtio-net bit (without VIRTIO_F_/VIRTIO_NET_F_), NULL for a bit neither
 * defines; vnet_features_format() is vnet_features_format_names() with it.
 */
const char *vnet_feature_name(unsigned bit);
size_t vnet_features_format(char *buf, size_t size, uint64_t features);

static inline bool vnet_features_has(uint64_t features, unsigned bit)
{
	return bit < 64 && (features & (1ULL << bit)) != 0;
}

#endif
