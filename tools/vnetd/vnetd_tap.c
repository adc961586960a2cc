/*
 * The TAP side of vnetd: /dev/net/tun with IFF_TAP | IFF_NO_PI |
 * IFF_VNET_HDR, so every frame read or written carries a virtio-net header
 * in front (Linux's Documentation/networking/tuntap.rst; the header layout
 * is the VirtIO 1.2 §5.1.6 one).
 *
 * - The header size is set with TUNSETVNETHDRSZ to the size the port uses,
 *   and the header is made little-endian with TUNSETVNETLE (a modern
 *   virtio-net header is little-endian, VirtIO 1.2 §5.1.6; on a
 *   little-endian host that is the default anyway).
 * - TUNSETOFFLOAD tells the kernel which offloads it may leave to us on
 *   frames it hands to the TAP (what we read): a partial checksum needs the
 *   device to complete it (VIRTIO_NET_F_CSUM), a TSO/UFO/USO super-frame
 *   needs it to segment (HOST_TSO4/6, HOST_ECN, HOST_UFO, HOST_USO).  Frames
 *   we write to the TAP may carry any offload: the kernel takes them all.
 * - The carrier follows the back-end (TUNSETCARRIER): while the port is
 *   down the kernel sees no link, so it stops queueing frames for it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vnet/features.h"
#include "vnet/spec/virtio_net.h"
#include "vnetd.h"

/* Linux 6.2 added UDP segmentation offload to tun; older headers lack it. */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif

int vnetd_tap_open(const char *name, char *err, size_t errlen)
{
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open /dev/net/tun: %s%s", strerror(errno),
			 errno == EACCES || errno == EPERM ? " (needs root or CAP_NET_ADMIN)" : "");
		return -1;
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		snprintf(err, errlen, "TAP '%s': TUNSETIFF failed: %s%s", name, strerror(e),
			 e == EPERM ? " (needs CAP_NET_ADMIN, or a persistent TAP owned by this user)"
			 : e == EBUSY ? " (another process holds it)"
			 : e == EINVAL ? " (a device of that name that is not a single-queue TAP?)" : "");
		close(fd);
		return -1;
	}
	return fd;
}

int vnetd_tap_set_hdr_len(int fd, unsigned len, char *err, size_t errlen)
{
	int sz = (int)len;
	if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0) {
		snprintf(err, errlen, "TUNSETVNETHDRSZ %u: %s", len, strerror(errno));
		return -1;
	}
	int le = 1;
	/* Only big-endian hosts need it; a kernel without it is little-endian
	 * only (TUNSETVNETLE exists since Linux 4.0). */
	if (ioctl(fd, TUNSETVNETLE, &le) < 0 && errno != EINVAL && errno != ENOTTY) {
		snprintf(err, errlen, "TUNSETVNETLE: %s", strerror(errno));
		return -1;
	}
	return 0;
}

unsigned vnetd_tun_offloads_for(uint64_t f)
{
	unsigned t = 0;
	/* Segmentation needs the checksum too: the device fills the TCP/UDP
	 * checksum of every segment (VirtIO 1.2 §5.1.3.1: HOST_TSO4 requires
	 * CSUM), and tun refuses TSO flags without TUN_F_CSUM. */
	if (!(f & VNET_BIT(VIRTIO_NET_F_CSUM)))
		return 0;
	t |= TUN_F_CSUM;
	if (f & VNET_BIT(VIRTIO_NET_F_HOST_TSO4))
		t |= TUN_F_TSO4;
	if (f & VNET_BIT(VIRTIO_NET_F_HOST_TSO6))
		t |= TUN_F_TSO6;
	if ((t & (TUN_F_TSO4 | TUN_F_TSO6)) && (f & VNET_BIT(VIRTIO_NET_F_HOST_ECN)))
		t |= TUN_F_TSO_ECN;
	if (f & VNET_BIT(VIRTIO_NET_F_HOST_UFO))
		t |= TUN_F_UFO;
	if (f & VNET_BIT(VIRTIO_NET_F_HOST_USO))
		t |= TUN_F_USO4 | TUN_F_USO6;
	return t;
}

int vnetd_tap_set_offloads(int fd, unsigned tun_f, char *err, size_t errlen)
{
	if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)tun_f) == 0)
		return (int)tun_f;
	/* A kernel older than 6.2 refuses the USO bits (EINVAL): go on without. */
	unsigned without_uso = tun_f & ~(unsigned)(TUN_F_USO4 | TUN_F_USO6);
	if (errno == EINVAL && without_uso != tun_f && ioctl(fd, TUNSETOFFLOAD, (unsigned long)without_uso) == 0)
		return (int)without_uso;
	snprintf(err, errlen, "TUNSETOFFLOAD 0x%x: %s", tun_f, strerror(errno));
	return -1;
}

_Static_assert(VNETD_TUN_F_GSO == (TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_UFO | TUN_F_USO4 | TUN_F_USO6),
	       "VNETD_TUN_F_GSO lists the segmentation offloads");

bool vnetd_tap_has_uso(int fd)
{
	/* A kernel that does not know the bits refuses them (EINVAL); the
	 * real offloads are set later from what the port negotiated. */
	bool ok = ioctl(fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_USO4 | TUN_F_USO6)) == 0;
	(void)ioctl(fd, TUNSETOFFLOAD, 0ul);
	return ok;
}

void vnetd_tap_set_carrier(int fd, bool on)
{
	int v = on ? 1 : 0;
	/* Linux >= 5.0; without it the carrier simply stays up. */
	(void)ioctl(fd, TUNSETCARRIER, &v);
}

const char *vnetd_tun_offload_names(unsigned t, char *buf, size_t len)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{TUN_F_CSUM, "csum"}, {TUN_F_TSO4, "tso4"}, {TUN_F_TSO6, "tso6"}, {TUN_F_TSO_ECN, "tso_ecn"},
		{TUN_F_UFO, "ufo"},   {TUN_F_USO4, "uso4"}, {TUN_F_USO6, "uso6"},
	};
	size_t n = 0;
	buf[0] = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(t & names[i].bit))
			continue;
		int w = snprintf(buf + n, len - n, "%s%s", n ? "," : "", names[i].name);
		if (w < 0 || (size_t)w >= len - n)
			break;
		n += (size_t)w;
	}
	if (!n)
		snprintf(buf, len, "none");
	return buf;
}
