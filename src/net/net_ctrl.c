/*
 * Control queue of the virtio-net layer (VirtIO 1.2 §5.1.6.5): one
 * synchronous command at a time, and every class built on it — RX mode,
 * MAC filter table and address, VLAN filter, announce, queue pairs, guest
 * offloads, notification coalescing (RSS/hash config: net_rss.c) — with
 * the state the driver keeps so a reset can be replayed.
 *
 * What it does: writes class, command and payload into one device-visible
 * buffer, posts it as readable + (result +) one writable ack byte,
 * notifies, and busy-waits for the answer bounded by timeout_ns; a
 * timeout latches the queue broken (the buffer stays with the device
 * until reset).  Each command's outcome is counted and the last failure
 * recorded by class, command and ack (vnet_net_ctrl_last_error).  A
 * setter updates net->cs only after VIRTIO_NET_OK, so the record is what
 * the device accepted; vnet_net_ctrl_replay sends it again.
 * What it does not: queue several commands, or run on the data path.
 * Trusts: the ack byte only once the device completed our own buffer
 * with a used length that covers it (and the result, for commands with
 * one), and only VIRTIO_NET_OK / _ERR as answers: anything else (no ack
 * written, another value, a used length short of result + ack, a used id
 * that is not the command's) is VNET_EPROTO / VNET_EBROKEN, counted in
 * ctrl_errors and logged with the command's name.
 * Serialised by the control thread (vnet/net.h: control calls).
 */
#include "core/vnet_log.h"
#include "core/vnet_mem.h"
#include "net_priv.h"
#include "vnet/features.h"
#include "vnet/net_ctrl.h"

#define NET_CTRL_RESULT_MAX 16u

struct vnet_net_ctrl_buf {
	struct virtio_net_ctrl_hdr hdr;
	uint8_t data[VNET_NET_CTRL_DATA_MAX];
	uint8_t result[NET_CTRL_RESULT_MAX]; /* command-specific-result (device writable) */
	uint8_t ack;
};

int net_ctrl_alloc(struct vnet_net *net)
{
	return vnet_hal_dma_alloc(sizeof(struct vnet_net_ctrl_buf), 64, &net->ctrl_mem);
}

void net_ctrl_free(struct vnet_net *net)
{
	vnet_hal_dma_free(&net->ctrl_mem);
}

bool net_ctrl_is_buffer(const struct vnet_net *net, const void *cookie)
{
	return cookie && cookie == net->ctrl_mem.va;
}

/* ------------------------------------------------------------ names */

static const char *const net_ctrl_classes[] = {"RX", "MAC", "VLAN", "ANNOUNCE", "MQ", "GUEST_OFFLOADS",
                                               "NOTF_COAL", "HASH_TUNNEL", "STATS", "RSS_CTX"};
static const char *const net_ctrl_cmds_rx[] = {"PROMISC", "ALLMULTI", "ALLUNI", "NOMULTI", "NOUNI", "NOBCAST"};
static const char *const net_ctrl_cmds_mac[] = {"TABLE_SET", "ADDR_SET"};
static const char *const net_ctrl_cmds_vlan[] = {"ADD", "DEL"};
static const char *const net_ctrl_cmds_ann[] = {"ACK"};
static const char *const net_ctrl_cmds_mq[] = {"VQ_PAIRS_SET", "RSS_CONFIG", "HASH_CONFIG"};
static const char *const net_ctrl_cmds_off[] = {"SET"};
static const char *const net_ctrl_cmds_coal[] = {"TX_SET", "RX_SET", "VQ_SET", "VQ_GET"};
static const char *const net_ctrl_cmds_tun[] = {"SET"};
static const char *const net_ctrl_cmds_stats[] = {"QUERY", "GET"};

#define NET_CTRL_N(a) (sizeof(a) / sizeof((a)[0]))

const char *vnet_net_ctrl_class_name(uint8_t class_)
{
	return class_ < NET_CTRL_N(net_ctrl_classes) ? net_ctrl_classes[class_] : "?";
}

const char *vnet_net_ctrl_cmd_name(uint8_t class_, uint8_t cmd)
{
	const char *const *t = 0;
	size_t n = 0;
	switch (class_) {
#define NET_CTRL_T(c, a) \
	case c:          \
		t = a;       \
		n = NET_CTRL_N(a); \
		break
		NET_CTRL_T(VIRTIO_NET_CTRL_RX, net_ctrl_cmds_rx);
		NET_CTRL_T(VIRTIO_NET_CTRL_MAC, net_ctrl_cmds_mac);
		NET_CTRL_T(VIRTIO_NET_CTRL_VLAN, net_ctrl_cmds_vlan);
		NET_CTRL_T(VIRTIO_NET_CTRL_ANNOUNCE, net_ctrl_cmds_ann);
		NET_CTRL_T(VIRTIO_NET_CTRL_MQ, net_ctrl_cmds_mq);
		NET_CTRL_T(VIRTIO_NET_CTRL_GUEST_OFFLOADS, net_ctrl_cmds_off);
		NET_CTRL_T(VIRTIO_NET_CTRL_NOTF_COAL, net_ctrl_cmds_coal);
		NET_CTRL_T(VIRTIO_NET_CTRL_HASH_TUNNEL, net_ctrl_cmds_tun);
		NET_CTRL_T(VIRTIO_NET_CTRL_STATS, net_ctrl_cmds_stats);
#undef NET_CTRL_T
	default:
		break;
	}
	return cmd < n ? t[cmd] : "?";
}

/* ------------------------------------------------------------ one command */

static int net_ctrl_fail(struct vnet_net *net, uint8_t class_, uint8_t cmd, uint8_t ack, int rc)
{
	net->cs.last = (struct vnet_net_ctrl_error){class_, cmd, ack, rc};
	if (rc == VNET_EIO)
		net->cs.st.refused++;
	else
		net->cs.st.failed++;
	return rc;
}

/* The front-end serves the control queue (opts.ctrl_local): same answers,
 * same accounting, no ring. */
static int net_ctrl_exec_local(struct vnet_net *net, uint8_t class_, uint8_t cmd, const void *data, uint32_t len,
                               void *out, uint32_t outlen)
{
	if (net->dead)
		return net_ctrl_fail(net, class_, cmd, 0xff, VNET_EBROKEN);
	uint8_t ack = net->opts.ctrl_local(net->opts.ctrl_local_arg, class_, cmd, data, len, out, outlen);
	if (ack == VIRTIO_NET_OK) {
		net->cs.st.ok++;
		return VNET_OK;
	}
	VNET_WARN("%s: control %s.%s refused by the front-end (ack 0x%02x)", vnet_device_name(net->dev),
	          vnet_net_ctrl_class_name(class_), vnet_net_ctrl_cmd_name(class_, cmd), (unsigned)ack);
	return net_ctrl_fail(net, class_, cmd, ack, ack == VIRTIO_NET_ERR ? VNET_EIO : VNET_EPROTO);
}

/*
 * Send class/cmd with len bytes of data; with outlen > 0 the device also
 * writes outlen bytes of command-specific-result (before the ack, spec
 * 5.1.6.5) into out, copied only after VIRTIO_NET_OK.
 */
static int net_ctrl_exec(struct vnet_net *net, uint8_t class_, uint8_t cmd, const void *data, uint32_t len,
                         void *out, uint32_t outlen)
{
	if (!net || (len && !data) || len > VNET_NET_CTRL_DATA_MAX || outlen > NET_CTRL_RESULT_MAX ||
	    (outlen && !out))
		return VNET_EINVAL;
	if (!net->ctrl && !net->cs.local)
		return VNET_ENOTSUP;
	const char *dn = vnet_device_name(net->dev);
	const char *cn = vnet_net_ctrl_class_name(class_), *mn = vnet_net_ctrl_cmd_name(class_, cmd);
	net->cs.st.cmds++;
	if (net->cs.local)
		return net_ctrl_exec_local(net, class_, cmd, data, len, out, outlen);
	if (net->dead || vnet_vq_is_broken(net->ctrl))
		return net_ctrl_fail(net, class_, cmd, 0xff, VNET_EBROKEN);
	struct vnet_net_ctrl_buf *cb = net->ctrl_mem.va;
	cb->hdr.class_ = class_;
	cb->hdr.cmd = cmd;
	if (len)
		memcpy(cb->data, data, len);
	if (outlen)
		memset(cb->result, 0, outlen);
	cb->ack = 0xff; /* neither OK nor ERR until the device writes it */
	uint64_t base = net->ctrl_mem.iova;
	struct vnet_sg sg[4];
	unsigned n = 0, out_n;
	sg[n++] = (struct vnet_sg){base, sizeof(cb->hdr)};
	if (len)
		sg[n++] = (struct vnet_sg){base + __builtin_offsetof(struct vnet_net_ctrl_buf, data), len};
	out_n = n;
	if (outlen)
		sg[n++] = (struct vnet_sg){base + __builtin_offsetof(struct vnet_net_ctrl_buf, result), outlen};
	sg[n++] = (struct vnet_sg){base + __builtin_offsetof(struct vnet_net_ctrl_buf, ack), 1};
	int rc = vnet_vq_add(net->ctrl, sg, out_n, n - out_n, cb);
	if (rc != VNET_OK)
		return net_ctrl_fail(net, class_, cmd, 0xff, rc);
	if (vnet_vq_kick_prepare(net->ctrl))
		vnet_device_notify(net->dev, net->ctrl);
	uint64_t deadline = vnet_hal_time_ns() + net->timeout_ns;
	struct vnet_vq_used u;
	for (;;) {
		if (vnet_vq_get_used(net->ctrl, &u, 1) == 1)
			break;
		if (vnet_vq_is_broken(net->ctrl)) {
			/* The engine saw a protocol violation in the answer
			 * (e.g. a used id that is not our command's). */
			net->ctrl_errors++;
			VNET_ERR("%s: control %s.%s: control queue broken by the answer", dn, cn, mn);
			return net_ctrl_fail(net, class_, cmd, 0xff, VNET_EBROKEN);
		}
		if (vnet_hal_time_ns() > deadline) {
			net->ctrl_errors++;
			/* The buffer stays with the device; nothing else may be posted. */
			vnet_vq_mark_broken(net->ctrl, VNET_VQ_FAULT_NONE);
			VNET_ERR("%s: control %s.%s: no answer within the bound (control queue latched broken)", dn, cn,
			         mn);
			return net_ctrl_fail(net, class_, cmd, 0xff, VNET_ETIMEDOUT);
		}
		vnet_hal_relax();
	}
	uint8_t ack = *(volatile uint8_t *)&cb->ack;
	if (u.cookie != cb || u.len < outlen + 1u) {
		/* Completed without writing result and ack (spec 5.1.6.5: the
		 * device writes them; the used length counts them). */
		net->ctrl_errors++;
		VNET_ERR("%s: control %s.%s: completed with used length %u, expected %u (result + ack)", dn, cn, mn,
		         (unsigned)u.len, (unsigned)(outlen + 1u));
		return net_ctrl_fail(net, class_, cmd, ack, VNET_EPROTO);
	}
	if (ack == VIRTIO_NET_OK) {
		if (outlen)
			memcpy(out, cb->result, outlen);
		net->cs.st.ok++;
		return VNET_OK;
	}
	if (ack == VIRTIO_NET_ERR) {
		VNET_WARN("%s: control %s.%s refused by the device (ack ERR)", dn, cn, mn);
		return net_ctrl_fail(net, class_, cmd, ack, VNET_EIO);
	}
	/* Neither OK nor ERR, e.g. still our 0xff: the device did not
	 * answer, it must not be taken for a refusal. */
	net->ctrl_errors++;
	VNET_ERR("%s: control %s.%s answered with ack 0x%02x (neither OK nor ERR)", dn, cn, mn, (unsigned)ack);
	return net_ctrl_fail(net, class_, cmd, ack, VNET_EPROTO);
}

int vnet_net_ctrl_cmd(struct vnet_net *net, uint8_t class_, uint8_t cmd, const void *data, uint32_t len)
{
	return net_ctrl_exec(net, class_, cmd, data, len, 0, 0);
}

static bool net_ctrl_has(const struct vnet_net *net, unsigned bit)
{
	return (net->ctrl || net->cs.local) && vnet_device_has_feature(net->dev, bit);
}

/* ------------------------------------------------------------ RX mode (5.1.6.5.1) */

static int net_ctrl_rx_send(struct vnet_net *net, uint8_t mode, bool on)
{
	uint8_t v = on ? 1 : 0;
	return vnet_net_ctrl_cmd(net, VIRTIO_NET_CTRL_RX, mode, &v, 1);
}

/* The value the device should have for PROMISC/ALLMULTI: the user's, or
 * on when the MAC table overflowed. */
static bool net_ctrl_rx_effective(const struct vnet_net *net, uint8_t mode)
{
	bool on = (net->cs.rx_on >> mode) & 1u;
	if (mode == VNET_NET_RX_PROMISC && net->cs.uc_overflow)
		on = true;
	if (mode == VNET_NET_RX_ALLMULTI && net->cs.mc_overflow)
		on = true;
	return on;
}

int vnet_net_set_rx_mode(struct vnet_net *net, enum vnet_net_rx_mode mode, bool on)
{
	if (!net || (unsigned)mode >= VNET_NET_RX_MODES)
		return VNET_EINVAL;
	unsigned need = mode <= VNET_NET_RX_ALLMULTI ? VIRTIO_NET_F_CTRL_RX : VIRTIO_NET_F_CTRL_RX_EXTRA;
	if (!net_ctrl_has(net, need))
		return VNET_ENOTSUP;
	uint8_t bit = (uint8_t)(1u << mode);
	uint8_t set0 = net->cs.rx_set, on0 = net->cs.rx_on;
	net->cs.rx_set |= bit;
	net->cs.rx_on = on ? (uint8_t)(on0 | bit) : (uint8_t)(on0 & ~bit);
	int rc = net_ctrl_rx_send(net, (uint8_t)mode, net_ctrl_rx_effective(net, (uint8_t)mode));
	if (rc != VNET_OK) {
		net->cs.rx_set = set0;
		net->cs.rx_on = on0;
	}
	return rc;
}

bool vnet_net_get_rx_mode(const struct vnet_net *net, enum vnet_net_rx_mode mode)
{
	return net && (unsigned)mode < VNET_NET_RX_MODES && ((net->cs.rx_on >> mode) & 1u);
}

int vnet_net_set_promisc(struct vnet_net *net, bool on)
{
	return vnet_net_set_rx_mode(net, VNET_NET_RX_PROMISC, on);
}

/* ------------------------------------------------------------ MAC table (5.1.6.5.2) */

/* Build and send TABLE_SET from lists of up to the limit each (an
 * overflowed list is sent empty). */
static int net_ctrl_table_send(struct vnet_net *net, const uint8_t (*uc)[6], uint32_t n_uc,
                               const uint8_t (*mc)[6], uint32_t n_mc)
{
	uint8_t buf[8 + 2 * 6 * VNET_NET_MAC_TABLE_MAX];
	uint32_t off = 0;
	vnet_le32 e = vnet_cpu_to_le32(n_uc);
	memcpy(buf + off, &e, 4);
	off += 4;
	if (n_uc)
		memcpy(buf + off, uc, 6u * n_uc);
	off += 6u * n_uc;
	e = vnet_cpu_to_le32(n_mc);
	memcpy(buf + off, &e, 4);
	off += 4;
	if (n_mc)
		memcpy(buf + off, mc, 6u * n_mc);
	off += 6u * n_mc;
	return vnet_net_ctrl_cmd(net, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, buf, off);
}

/* Bring PROMISC/ALLMULTI in line with the overflow flags (after a table
 * change); only sends what changed from `was`. */
static int net_ctrl_fallback_sync(struct vnet_net *net, bool uc_was, bool mc_was)
{
	int rc = VNET_OK;
	if (uc_was != net->cs.uc_overflow && !((net->cs.rx_on >> VNET_NET_RX_PROMISC) & 1u))
		rc = net_ctrl_rx_send(net, VNET_NET_RX_PROMISC, net->cs.uc_overflow);
	if (rc == VNET_OK && mc_was != net->cs.mc_overflow && !((net->cs.rx_on >> VNET_NET_RX_ALLMULTI) & 1u))
		rc = net_ctrl_rx_send(net, VNET_NET_RX_ALLMULTI, net->cs.mc_overflow);
	return rc;
}

int vnet_net_set_mac_table(struct vnet_net *net, const uint8_t (*uc)[6], uint32_t n_uc, const uint8_t (*mc)[6],
                           uint32_t n_mc)
{
	if (!net || (n_uc && !uc) || (n_mc && !mc))
		return VNET_EINVAL;
	if (!net_ctrl_has(net, VIRTIO_NET_F_CTRL_RX))
		return VNET_ENOTSUP;
	for (uint32_t i = 0; i < n_uc && i < VNET_NET_MAC_TABLE_MAX + 1u; i++)
		if (uc[i][0] & 1u)
			return VNET_EINVAL; /* a group address in the unicast list */
	for (uint32_t i = 0; i < n_mc && i < VNET_NET_MAC_TABLE_MAX + 1u; i++)
		if (!(mc[i][0] & 1u))
			return VNET_EINVAL;
	bool uc_ovf = n_uc > VNET_NET_MAC_TABLE_MAX, mc_ovf = n_mc > VNET_NET_MAC_TABLE_MAX;
	int rc = net_ctrl_table_send(net, uc, uc_ovf ? 0 : n_uc, mc, mc_ovf ? 0 : n_mc);
	if (rc != VNET_OK)
		return rc;
	bool uc_was = net->cs.uc_overflow, mc_was = net->cs.mc_overflow;
	net->cs.table_set = true;
	net->cs.uc_overflow = uc_ovf;
	net->cs.mc_overflow = mc_ovf;
	net->cs.n_uc = uc_ovf ? 0 : n_uc;
	net->cs.n_mc = mc_ovf ? 0 : n_mc;
	if (net->cs.n_uc)
		memcpy(net->cs.uc, uc, 6u * net->cs.n_uc);
	if (net->cs.n_mc)
		memcpy(net->cs.mc, mc, 6u * net->cs.n_mc);
	if (uc_ovf || mc_ovf) {
		net->cs.st.mac_overflows++;
		VNET_INFO("%s: MAC filter: %u unicast / %u multicast addresses, limit %u each: %s%s", vnet_device_name(net->dev),
		          (unsigned)n_uc, (unsigned)n_mc, VNET_NET_MAC_TABLE_MAX, uc_ovf ? "promiscuous " : "",
		          mc_ovf ? "all-multicast" : "");
	}
	return net_ctrl_fallback_sync(net, uc_was, mc_was);
}

void vnet_net_mac_filter_state(const struct vnet_net *net, struct vnet_net_mac_filter_state *st)
{
	memset(st, 0, sizeof(*st));
	if (!net)
		return;
	st->n_uc = net->cs.n_uc;
	st->n_mc = net->cs.n_mc;
	st->uc_overflow = net->cs.uc_overflow;
	st->mc_overflow = net->cs.mc_overflow;
}

int vnet_net_set_mac(struct vnet_net *net, const uint8_t mac[6])
{
	if (!net || !mac || (mac[0] & 1u))
		return VNET_EINVAL;
	if (!net_ctrl_has(net, VIRTIO_NET_F_CTRL_MAC_ADDR))
		return VNET_ENOTSUP;
	int rc = vnet_net_ctrl_cmd(net, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, mac, 6);
	if (rc != VNET_OK)
		return rc;
	memcpy(net->mac, mac, 6);
	net->cs.mac_set = true;
	return VNET_OK;
}

/* ------------------------------------------------------------ VLAN (5.1.6.5.3) */

static int net_ctrl_vlan_send(struct vnet_net *net, uint8_t cmd, uint16_t vid)
{
	vnet_le16 v = vnet_cpu_to_le16(vid);
	return vnet_net_ctrl_cmd(net, VIRTIO_NET_CTRL_VLAN, cmd, &v, 2);
}

static int net_ctrl_vlan(struct vnet_net *net, uint8_t cmd, uint16_t vid)
{
	if (!net || vid > 4095u)
		return VNET_EINVAL;
	if (!net_ctrl_has(net, VIRTIO_NET_F_CTRL_VLAN))
		return VNET_ENOTSUP;
	int rc = net_ctrl_vlan_send(net, cmd, vid);
	if (rc != VNET_OK)
		return rc;
	uint32_t bit = 1u << (vid & 31u);
	if (cmd == VIRTIO_NET_CTRL_VLAN_ADD)
		net->cs.vlan[vid >> 5] |= bit;
	else
		net->cs.vlan[vid >> 5] &= ~bit;
	net->cs.vlan_used = true;
	return VNET_OK;
}

int vnet_net_vlan_add(struct vnet_net *net, uint16_t vid)
{
	return net_ctrl_vlan(net, VIRTIO_NET_CTRL_VLAN_ADD, vid);
}

int vnet_net_vlan_del(struct vnet_net *net, uint16_t vid)
{
	return net_ctrl_vlan(net, VIRTIO_NET_CTRL_VLAN_DEL, vid);
}

bool vnet_net_vlan_present(const struct vnet_net *net, uint16_t vid)
{
	return net && vid < 4096u && ((net->cs.vlan[vid >> 5] >> (vid & 31u)) & 1u);
}

/* ------------------------------------------------------------ guest offloads (5.1.6.5.8) */

/* The receive offloads the command may carry (spec 5.1.6.5.8: GUEST_*
 * feature bits; the UDP-tunnel ones are above 64 and never negotiated). */
#define NET_CTRL_GUEST_OFFLOADS                                                                            \
	(VNET_BIT(VIRTIO_NET_F_GUEST_CSUM) | VNET_BIT(VIRTIO_NET_F_GUEST_TSO4) | VNET_BIT(VIRTIO_NET_F_GUEST_TSO6) | \
	 VNET_BIT(VIRTIO_NET_F_GUEST_ECN) | VNET_BIT(VIRTIO_NET_F_GUEST_UFO) | VNET_BIT(VIRTIO_NET_F_GUEST_USO4) |    \
	 VNET_BIT(VIRTIO_NET_F_GUEST_USO6))

static int net_ctrl_offloads_send(struct vnet_net *net, uint64_t offloads)
{
	vnet_le64 v = vnet_cpu_to_le64(offloads);
	return vnet_net_ctrl_cmd(net, VIRTIO_NET_CTRL_GUEST_OFFLOADS, VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET, &v, 8);
}

int vnet_net_set_guest_offloads(struct vnet_net *net, uint64_t offloads)
{
	if (!net)
		return VNET_EINVAL;
	if (!net_ctrl_has(net, VIRTIO_NET_F_CTRL_GUEST_OFFLOADS))
		return VNET_ENOTSUP;
	/* Spec 5.1.6.5.8.1: MUST NOT enable an offload not negotiated. */
	if ((offloads & ~NET_CTRL_GUEST_OFFLOADS) || (offloads & ~net->features))
		return VNET_EINVAL;
	int rc = net_ctrl_offloads_send(net, offloads);
	if (rc != VNET_OK)
		return rc;
	net->cs.offloads = offloads;
	net->cs.offloads_set = true;
	return VNET_OK;
}

uint64_t vnet_net_get_guest_offloads(const struct vnet_net *net)
{
	if (!net)
		return 0;
	/* Until set, the device uses every negotiated one (spec 5.1.6.5.8). */
	return net->cs.offloads_set ? net->cs.offloads : (net->features & NET_CTRL_GUEST_OFFLOADS);
}

/* ------------------------------------------------------------ announce (5.1.6.5.4) */

int vnet_net_announce_ack(struct vnet_net *net)
{
	if (!net)
		return VNET_EINVAL;
	if (!net_ctrl_has(net, VIRTIO_NET_F_GUEST_ANNOUNCE))
		return VNET_ENOTSUP;
	int rc = vnet_net_ctrl_cmd(net, VIRTIO_NET_CTRL_ANNOUNCE, VIRTIO_NET_CTRL_ANNOUNCE_ACK, 0, 0);
	if (rc == VNET_OK)
		net->cs.announce_pending = false;
	return rc;
}

bool vnet_net_announce_pending(const struct vnet_net *net)
{
	return net && net->cs.announce_pending;
}

void net_ctrl_announce(struct vnet_net *net)
{
	if (!net_ctrl_has(net, VIRTIO_NET_F_GUEST_ANNOUNCE))
		return;
	net->cs.st.announces++;
	net->cs.announce_pending = true;
	if (!net->opts.announce)
		return; /* the host acks after its own announcement */
	/* Spec 5.1.6.5.4: notify peers first, then ANNOUNCE_ACK. */
	net->opts.announce(net->opts.announce_arg, net);
	(void)vnet_net_announce_ack(net);
}

/* ------------------------------------------------------------ coalescing (5.1.6.5.9) */

static int net_ctrl_coal_send(struct vnet_net *net, bool tx, const struct vnet_net_coal *c)
{
	struct virtio_net_ctrl_coal w = {vnet_cpu_to_le32(c->max_packets), vnet_cpu_to_le32(c->max_usecs)};
	return vnet_net_ctrl_cmd(net, VIRTIO_NET_CTRL_NOTF_COAL,
	                         tx ? VIRTIO_NET_CTRL_NOTF_COAL_TX_SET : VIRTIO_NET_CTRL_NOTF_COAL_RX_SET, &w,
	                         sizeof(w));
}

int vnet_net_set_coal(struct vnet_net *net, bool tx, const struct vnet_net_coal *c)
{
	if (!net || !c)
		return VNET_EINVAL;
	if (!net_ctrl_has(net, VIRTIO_NET_F_NOTF_COAL))
		return VNET_ENOTSUP;
	int rc = net_ctrl_coal_send(net, tx, c);
	if (rc != VNET_OK)
		return rc;
	unsigned k = tx ? 0 : 1;
	net->cs.coal[k] = *c;
	net->cs.coal_set[k] = true;
	/* Spec 5.1.6.5.9 example: TX_SET/RX_SET override every queue's own
	 * parameters of that direction. */
	for (unsigned i = 0; i < VNET_NET_COAL_VQ_MAX; i++)
		if ((i & 1u) == (tx ? 1u : 0u))
			net->cs.vq_coal_set &= ~(1ull << i);
	return VNET_OK;
}

/* vq_index must name an enabled receive or transmit queue (spec 5.1.6.5.9.1). */
static bool net_ctrl_vq_enabled(const struct vnet_net *net, uint16_t vq_index)
{
	return vq_index / 2u < net->pairs;
}

static int net_ctrl_vq_coal_send(struct vnet_net *net, uint16_t vq_index, const struct vnet_net_coal *c)
{
	struct virtio_net_ctrl_coal_vq w = {
		.vq_index = vnet_cpu_to_le16(vq_index),
		.reserved = 0,
		.coal = {vnet_cpu_to_le32(c->max_packets), vnet_cpu_to_le32(c->max_usecs)},
	};
	return vnet_net_ctrl_cmd(net, VIRTIO_NET_CTRL_NOTF_COAL, VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET, &w, sizeof(w));
}

int vnet_net_set_vq_coal(struct vnet_net *net, uint16_t vq_index, const struct vnet_net_coal *c)
{
	if (!net || !c)
		return VNET_EINVAL;
	if (!net_ctrl_has(net, VIRTIO_NET_F_VQ_NOTF_COAL))
		return VNET_ENOTSUP;
	if (!net_ctrl_vq_enabled(net, vq_index))
		return VNET_EINVAL;
	int rc = net_ctrl_vq_coal_send(net, vq_index, c);
	if (rc != VNET_OK)
		return rc;
	if (vq_index < VNET_NET_COAL_VQ_MAX) {
		net->cs.vq_coal[vq_index] = *c;
		net->cs.vq_coal_set |= 1ull << vq_index;
	}
	return VNET_OK;
}

int vnet_net_get_vq_coal(struct vnet_net *net, uint16_t vq_index, struct vnet_net_coal *c)
{
	if (!net || !c)
		return VNET_EINVAL;
	if (!net_ctrl_has(net, VIRTIO_NET_F_VQ_NOTF_COAL))
		return VNET_ENOTSUP;
	if (!net_ctrl_vq_enabled(net, vq_index))
		return VNET_EINVAL;
	struct virtio_net_ctrl_coal_vq q = {.vq_index = vnet_cpu_to_le16(vq_index)};
	struct virtio_net_ctrl_coal r;
	/* Data: the le16 vq_index + reserved; result: the coal struct. */
	int rc = net_ctrl_exec(net, VIRTIO_NET_CTRL_NOTF_COAL, VIRTIO_NET_CTRL_NOTF_COAL_VQ_GET, &q, 4, &r, sizeof(r));
	if (rc != VNET_OK)
		return rc; /* spec: ignore the values on ERR */
	c->max_packets = vnet_le32_to_cpu(r.max_packets);
	c->max_usecs = vnet_le32_to_cpu(r.max_usecs);
	return VNET_OK;
}

/* ------------------------------------------------------------ queue pairs (5.1.6.5.5) */

int vnet_net_set_queue_pairs(struct vnet_net *net, uint16_t pairs)
{
	if (!net || pairs == 0 || pairs > net->created)
		return VNET_EINVAL;
	if (!vnet_device_has_feature(net->dev, VIRTIO_NET_F_MQ))
		return pairs == 1 ? VNET_OK : VNET_ENOTSUP;
	vnet_le16 v = vnet_cpu_to_le16(pairs);
	int rc = vnet_net_ctrl_cmd(net, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &v, sizeof(v));
	if (rc != VNET_OK)
		return rc;
	net->pairs = pairs;
	return net_rss_after_pairs(net);
}

/* ------------------------------------------------------------ link (5.1.4) */

void net_ctrl_read_speed(struct vnet_net *net)
{
	net->cs.speed = VIRTIO_NET_SPEED_UNKNOWN;
	net->cs.duplex = VIRTIO_NET_DUPLEX_UNKNOWN;
	if (!vnet_device_has_feature(net->dev, VIRTIO_NET_F_SPEED_DUPLEX))
		return;
	vnet_le32 sp;
	uint8_t du;
	if (vnet_device_read_config(net->dev, __builtin_offsetof(struct virtio_net_config, speed), &sp, 4) != VNET_OK ||
	    vnet_device_read_config(net->dev, __builtin_offsetof(struct virtio_net_config, duplex), &du, 1) != VNET_OK)
		return;
	net->cs.speed = vnet_le32_to_cpu(sp);
	/* Spec 5.1.4.2: speed above 0x7fffffff and duplex other than 0/1 are unknown. */
	net->cs.duplex = (du == VIRTIO_NET_DUPLEX_HALF || du == VIRTIO_NET_DUPLEX_FULL) ? du : VIRTIO_NET_DUPLEX_UNKNOWN;
}

unsigned net_ctrl_tx_flow(struct vnet_net *net, struct vnet_net_q *q, unsigned done, unsigned n)
{
	(void)net;
	if (done < n && vnet_vq_num_free(q->tx) == 0) {
		if (!q->mod.tx_stopped) {
			q->mod.tx_stopped = true;
			q->st.tx_stops++;
		}
	} else {
		net_ctrl_tx_wake_check(q);
	}
	return done;
}

void net_ctrl_tx_wake_check(struct vnet_net_q *q)
{
	if (q->mod.tx_stopped && vnet_vq_num_free(q->tx) > 0) {
		q->mod.tx_stopped = false;
		q->st.tx_wakes++;
	}
}

bool vnet_net_tx_stopped(const struct vnet_net *net, uint16_t qp)
{
	return net && qp < net->pairs && net->q[qp].mod.tx_stopped;
}

unsigned net_ctrl_tx_link_down(struct vnet_net *net, uint16_t qp, unsigned n)
{
	/* Gated, not dropped: the frames stay the caller's (tx_burst's
	 * contract for frames past the returned count). */
	net->q[qp].st.tx_link_down += n;
	return 0;
}

void vnet_net_get_link(const struct vnet_net *net, struct vnet_net_link *link)
{
	memset(link, 0, sizeof(*link));
	if (!net)
		return;
	link->up = net->link_up;
	link->speed_known = net->cs.speed <= VIRTIO_NET_SPEED_MAX_VALID;
	link->speed_mbps = link->speed_known ? net->cs.speed : 0;
	link->duplex = net->cs.duplex;
	link->changes = net->cs.link_changes;
}

/* ------------------------------------------------------------ state, replay */

void vnet_net_ctrl_last_error(const struct vnet_net *net, struct vnet_net_ctrl_error *e)
{
	memset(e, 0, sizeof(*e));
	if (net)
		*e = net->cs.last;
}

void vnet_net_ctrl_get_stats(const struct vnet_net *net, struct vnet_net_ctrl_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (net)
		*st = net->cs.st;
}

static void net_ctrl_keep(int *first, int rc)
{
	if (rc != VNET_OK && *first == VNET_OK)
		*first = rc;
}

int vnet_net_ctrl_replay(struct vnet_net *net)
{
	if (!net)
		return VNET_EINVAL;
	if (!net->ctrl && !net->cs.local)
		return VNET_OK;
	int first = VNET_OK;
	struct net_ctrl_state *s = &net->cs;
	s->st.replays++;
	if (s->mac_set && net_ctrl_has(net, VIRTIO_NET_F_CTRL_MAC_ADDR))
		net_ctrl_keep(&first, vnet_net_ctrl_cmd(net, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, net->mac, 6));
	/* RX modes: the user's, plus the overflow fallback. */
	for (uint8_t m = 0; m < VNET_NET_RX_MODES; m++) {
		unsigned need = m <= VNET_NET_RX_ALLMULTI ? VIRTIO_NET_F_CTRL_RX : VIRTIO_NET_F_CTRL_RX_EXTRA;
		bool forced = (m == VNET_NET_RX_PROMISC && s->uc_overflow) || (m == VNET_NET_RX_ALLMULTI && s->mc_overflow);
		if ((((s->rx_set >> m) & 1u) || forced) && net_ctrl_has(net, need))
			net_ctrl_keep(&first, net_ctrl_rx_send(net, m, net_ctrl_rx_effective(net, m)));
	}
	if (s->table_set && net_ctrl_has(net, VIRTIO_NET_F_CTRL_RX))
		net_ctrl_keep(&first, net_ctrl_table_send(net, (const uint8_t(*)[6])s->uc, s->n_uc,
		                                          (const uint8_t(*)[6])s->mc, s->n_mc));
	/* VLAN: the device's table is empty after reset; add what we had. */
	if (s->vlan_used && net_ctrl_has(net, VIRTIO_NET_F_CTRL_VLAN))
		for (uint16_t vid = 0; vid < 4096u; vid++)
			if ((s->vlan[vid >> 5] >> (vid & 31u)) & 1u)
				net_ctrl_keep(&first, net_ctrl_vlan_send(net, VIRTIO_NET_CTRL_VLAN_ADD, vid));
	if (s->offloads_set && net_ctrl_has(net, VIRTIO_NET_F_CTRL_GUEST_OFFLOADS))
		net_ctrl_keep(&first, net_ctrl_offloads_send(net, s->offloads));
	net_ctrl_keep(&first, net_rss_replay(net));
	if (net_ctrl_has(net, VIRTIO_NET_F_NOTF_COAL))
		for (unsigned k = 0; k < 2; k++)
			if (s->coal_set[k])
				net_ctrl_keep(&first, net_ctrl_coal_send(net, k == 0, &s->coal[k]));
	if (net_ctrl_has(net, VIRTIO_NET_F_VQ_NOTF_COAL))
		for (uint16_t i = 0; i < VNET_NET_COAL_VQ_MAX; i++)
			if (((s->vq_coal_set >> i) & 1u) && net_ctrl_vq_enabled(net, i))
				net_ctrl_keep(&first, net_ctrl_vq_coal_send(net, i, &s->vq_coal[i]));
	if (first != VNET_OK)
		VNET_ERR("%s: control state replay incomplete: %s", vnet_device_name(net->dev), vnet_strerror(first));
	return first;
}
