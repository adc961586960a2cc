/*
 * orion-vnet feature negotiation: names of feature bits, the virtio-net
 * dependency table, and the computation of the accepted feature set.
 *
 * Model (spec 2.2 "Feature Bits", 6 "Reserved Feature Bits", 5.1.3.1
 * "Feature bit requirements"): the device offers, the driver says what it
 * can honour ("wanted"), and the accepted set is
 *
 *     closure(offered & wanted & known & transport-allowed) | VERSION_1
 *
 * where closure() drops, until nothing changes, every feature whose
 * required features are not also in the set.  Nothing here talks to a
 * device: these are pure functions over 64-bit masks, used by the init
 * sequence in src/core/device.c, by tests, and by tools that print
 * features.  Device-independent ring features (INDIRECT_DESC, EVENT_IDX,
 * RING_PACKED, IN_ORDER, NOTIFICATION_DATA, ACCESS_PLATFORM, RING_RESET,
 * ...) have no dependencies and are accepted exactly when offered, wanted
 * and carried by the transport: the caller passes only what it honours.
 *
 * Limits: feature words are 64 bits.  Net bits 64..70 (RSS_CONTEXT, the
 * UDP-tunnel GSO family, OUT_NET_HEADER, IPSEC) are named but can never be
 * accepted; the dependency table records them in a comment only.
 *
 * All functions are pure and reentrant; any context.
 */
#ifndef VNET_FEATURES_H
#define VNET_FEATURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec/virtio_config.h"
#include "spec/virtio_net.h"
#include "vnet_error.h"

/* VIRTIO_F_SUSPEND (spec 6, bit 43) is not in spec/virtio_config.h yet. */
#ifndef VIRTIO_F_SUSPEND
#define VIRTIO_F_SUSPEND 43
#endif

/* Highest bit number vnet_feature_name() knows (net IPSEC, 70). */
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

/* Every net feature bit below 64 that the spec defines for a modern device
 * (bits 4 and 58 are undefined; 6, 41, 42 are legacy-only). */
#define VNET_FEATURES_NET_KNOWN                                                            \
	(VNET_BIT(VIRTIO_NET_F_CSUM) | VNET_BIT(VIRTIO_NET_F_GUEST_CSUM) |                 \
	 VNET_BIT(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS) | VNET_BIT(VIRTIO_NET_F_MTU) |          \
	 VNET_BIT(VIRTIO_NET_F_MAC) | VNET_BIT(VIRTIO_NET_F_GUEST_TSO4) |                   \
	 VNET_BIT(VIRTIO_NET_F_GUEST_TSO6) | VNET_BIT(VIRTIO_NET_F_GUEST_ECN) |             \
	 VNET_BIT(VIRTIO_NET_F_GUEST_UFO) | VNET_BIT(VIRTIO_NET_F_HOST_TSO4) |              \
	 VNET_BIT(VIRTIO_NET_F_HOST_TSO6) | VNET_BIT(VIRTIO_NET_F_HOST_ECN) |               \
	 VNET_BIT(VIRTIO_NET_F_HOST_UFO) | VNET_BIT(VIRTIO_NET_F_MRG_RXBUF) |               \
	 VNET_BIT(VIRTIO_NET_F_STATUS) | VNET_BIT(VIRTIO_NET_F_CTRL_VQ) |                   \
	 VNET_BIT(VIRTIO_NET_F_CTRL_RX) | VNET_BIT(VIRTIO_NET_F_CTRL_VLAN) |                \
	 VNET_BIT(VIRTIO_NET_F_CTRL_RX_EXTRA) | VNET_BIT(VIRTIO_NET_F_GUEST_ANNOUNCE) |     \
	 VNET_BIT(VIRTIO_NET_F_MQ) | VNET_BIT(VIRTIO_NET_F_CTRL_MAC_ADDR) |                 \
	 VNET_BIT(VIRTIO_NET_F_DEVICE_STATS) | VNET_BIT(VIRTIO_NET_F_HASH_TUNNEL) |         \
	 VNET_BIT(VIRTIO_NET_F_VQ_NOTF_COAL) | VNET_BIT(VIRTIO_NET_F_NOTF_COAL) |           \
	 VNET_BIT(VIRTIO_NET_F_GUEST_USO4) | VNET_BIT(VIRTIO_NET_F_GUEST_USO6) |            \
	 VNET_BIT(VIRTIO_NET_F_HOST_USO) | VNET_BIT(VIRTIO_NET_F_HASH_REPORT) |             \
	 VNET_BIT(VIRTIO_NET_F_GUEST_HDRLEN) | VNET_BIT(VIRTIO_NET_F_RSS) |                 \
	 VNET_BIT(VIRTIO_NET_F_RSC_EXT) | VNET_BIT(VIRTIO_NET_F_STANDBY) |                  \
	 VNET_BIT(VIRTIO_NET_F_SPEED_DUPLEX))

/* Where a dependency rule comes from. */
enum vnet_feature_rule_source {
	/* 5.1.3.1 "Feature bit requirements": the driver MUST NOT accept the
	 * feature without its requirements (spec 2.2.1). */
	VNET_FRULE_SPEC = 0,
	/* A driver-normative "SHOULD NOT negotiate X if it does not
	 * negotiate Y" (spec 5.1.4.2). */
	VNET_FRULE_SHOULD = 1,
	/* The feature only enables control-queue commands, so it is
	 * meaningless without CTRL_VQ; this driver does not accept it alone. */
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

/* The dependency table (static, read-only); *n gets its length. */
const struct vnet_feature_rule *vnet_feature_rules(size_t *n);

/* Short name of a feature bit without the VIRTIO_F_/VIRTIO_NET_F_ prefix
 * ("VERSION_1", "GUEST_TSO4"); legacy-only bits carry a "(legacy)" suffix.
 * NULL for a bit the spec does not define. */
const char *vnet_feature_name(unsigned bit);

/*
 * Space-separated names of the bits set in features, lowest first; an
 * undefined bit is printed as "bit<N>".  Always NUL-terminates (size > 0);
 * when buf is too small the list ends in "..." .  Returns the length
 * written (excluding the NUL).
 */
size_t vnet_features_format(char *buf, size_t size, uint64_t features);

/* Drop, until a fixed point, every feature of `set` whose rule is not met
 * (all rule sources).  Idempotent; result is a subset of `set`. */
uint64_t vnet_features_close(uint64_t set);

/*
 * Check that `set` is self-consistent: every rule (only VNET_FRULE_SPEC
 * rules when spec_only) is met for every bit in the set.  Returns VNET_OK,
 * or VNET_EINVAL with *bad_bit (if non-NULL) set to the lowest offending
 * feature.  spec_only is what to hold a device's offer to (spec 2.2.2:
 * the device MUST NOT offer a feature whose requirements it does not
 * offer); the full check is what this driver's own accepted set obeys.
 */
int vnet_features_validate(uint64_t set, bool spec_only, unsigned *bad_bit);

/*
 * Compute the accepted feature set.
 *   offered: the device's 64 feature bits;
 *   wanted: what the driver can honour (VERSION_1 is added: spec 6.1,
 *           the driver MUST accept it when offered);
 *   transport_features: device-independent bits (24..43) the transport
 *           carries; others in that range are never accepted.
 * Bits the spec does not define for a modern net device are never
 * accepted, whatever `wanted` says.
 * Returns VNET_OK with *accepted set, or VNET_ENOTSUP (and *accepted = 0)
 * if the device does not offer VIRTIO_F_VERSION_1: this driver has no
 * legacy mode (spec 2.2.3: that is how a legacy device is detected).
 */
int vnet_features_negotiate(uint64_t offered, uint64_t wanted, uint64_t transport_features,
			    uint64_t *accepted);

static inline bool vnet_features_has(uint64_t features, unsigned bit)
{
	return bit < 64 && (features & (1ULL << bit)) != 0;
}

#endif
