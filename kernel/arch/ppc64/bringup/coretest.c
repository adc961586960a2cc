/*
 * Bring-up only: the driver core (src/) straight on this CPU, before the
 * common kernel is arch-neutral.  A minimal HAL (bump arena, identity DMA,
 * the one virtio-net function) and 600 ARP who-has 10.0.2.2 through QEMU
 * user networking: every reply must come back (rings wrap twice).
 */
#include "../e500.h"
#include "../pci_fsl.h"
#include "../timebase.h"
#include "orion/kprintf.h"
#include "orion/klib.h"
#include "vnet/vnet_hal.h"
#include "vnet/vnet_hal_pci.h"
#include "vnet/virtio_pci.h"
#include "vnet/net.h"
#include "vnet/vnet_error.h"
#include "../mpic.h"
#include "../platform.h"

static uint8_t arena[24u << 20] __attribute__((aligned(4096)));
static size_t arena_used;

int vnet_hal_dma_alloc(size_t len, size_t align, struct vnet_dma *out)
{
	if (align < 64)
		align = 64;
	size_t at = (arena_used + align - 1) & ~(align - 1);
	if (at + len > sizeof(arena))
		return VNET_ENOMEM;
	arena_used = at + len;
	memset(arena + at, 0, len);
	out->va = arena + at;
	out->iova = (uint64_t)(uintptr_t)(arena + at);
	out->len = len;
	out->handle = 0;
	return VNET_OK;
}
void vnet_hal_dma_free(struct vnet_dma *dma) { (void)dma; }
void *vnet_hal_zalloc(size_t len)
{
	struct vnet_dma d;
	return vnet_hal_dma_alloc(len, 16, &d) == VNET_OK ? d.va : NULL;
}
void vnet_hal_free(void *p) { (void)p; }
uint64_t vnet_hal_time_ns(void) { return ppc_time_ns(); }
void vnet_hal_relax(void) { }
void vnet_hal_log(enum vnet_log_level level, const char *line) { kprintf("vnet[%d]: %s\n", level, line); }

struct vnet_pci_dev { unsigned dev; uint64_t bar[6], size[6]; };
static struct vnet_pci_dev the_dev;
static int have_dev;

struct vnet_pci_dev *vnet_hal_pci_dev_get(unsigned n) { return n == 0 && have_dev ? &the_dev : NULL; }
void vnet_hal_pci_dev_info(const struct vnet_pci_dev *d, struct vnet_pci_info *o)
{
	uint32_t id = ppc_pci_cfg_read(0, d->dev, 0, 0, 4), ss = ppc_pci_cfg_read(0, d->dev, 0, 0x2c, 4);
	uint32_t cl = ppc_pci_cfg_read(0, d->dev, 0, 8, 4);
	memset(o, 0, sizeof(*o));
	o->vendor_id = (uint16_t)id; o->device_id = (uint16_t)(id >> 16);
	o->subsys_vendor_id = (uint16_t)ss; o->subsys_id = (uint16_t)(ss >> 16);
	o->revision = (uint8_t)cl; o->prog_if = (uint8_t)(cl >> 8); o->subclass = (uint8_t)(cl >> 16);
	o->class_code = (uint8_t)(cl >> 24); o->dev = (uint8_t)d->dev;
	ksnprintf(o->name, sizeof(o->name), "00:%02x.0", d->dev);
}
uint8_t vnet_hal_pci_cfg_read8(struct vnet_pci_dev *d, unsigned off) { return (uint8_t)ppc_pci_cfg_read(0, d->dev, 0, off, 1); }
uint16_t vnet_hal_pci_cfg_read16(struct vnet_pci_dev *d, unsigned off) { return (uint16_t)ppc_pci_cfg_read(0, d->dev, 0, off, 2); }
uint32_t vnet_hal_pci_cfg_read32(struct vnet_pci_dev *d, unsigned off) { return ppc_pci_cfg_read(0, d->dev, 0, off, 4); }
void vnet_hal_pci_cfg_write8(struct vnet_pci_dev *d, unsigned off, uint8_t v) { ppc_pci_cfg_write(0, d->dev, 0, off, 1, v); }
void vnet_hal_pci_cfg_write16(struct vnet_pci_dev *d, unsigned off, uint16_t v) { ppc_pci_cfg_write(0, d->dev, 0, off, 2, v); }
void vnet_hal_pci_cfg_write32(struct vnet_pci_dev *d, unsigned off, uint32_t v) { ppc_pci_cfg_write(0, d->dev, 0, off, 4, v); }
int vnet_hal_pci_bar_map(struct vnet_pci_dev *d, unsigned bar, volatile void **va, uint64_t *len)
{
	if (bar > 5) return VNET_EINVAL;
	if (!d->bar[bar]) return VNET_ENODEV;
	*va = (volatile void *)(uintptr_t)d->bar[bar];
	*len = d->size[bar];
	return VNET_OK;
}
void vnet_hal_pci_bar_unmap(struct vnet_pci_dev *d, unsigned bar) { (void)d; (void)bar; }
void vnet_hal_pci_set_bus_master(struct vnet_pci_dev *d, bool on)
{
	uint16_t c = (uint16_t)ppc_pci_cfg_read(0, d->dev, 0, 4, 2);
	ppc_pci_cfg_write(0, d->dev, 0, 4, 2, on ? (c | 4u) : (c & ~4u));
}
int vnet_hal_pci_msix_enable(struct vnet_pci_dev *d, unsigned n) { (void)d; (void)n; return VNET_ENOTSUP; }
int vnet_hal_pci_msix_bind(struct vnet_pci_dev *d, unsigned e, vnet_pci_irq_fn fn, void *a) { (void)d; (void)e; (void)fn; (void)a; return VNET_ENOTSUP; }
void vnet_hal_pci_msix_mask(struct vnet_pci_dev *d, unsigned e, bool m) { (void)d; (void)e; (void)m; }
void vnet_hal_pci_msix_disable(struct vnet_pci_dev *d) { (void)d; }
int vnet_hal_pci_io_bar(struct vnet_pci_dev *d, unsigned b, uint32_t *l) { (void)d; (void)b; (void)l; return VNET_ENOTSUP; }
uint8_t vnet_hal_pci_io_read8(struct vnet_pci_dev *d, unsigned b, uint32_t o) { (void)d; (void)b; (void)o; return 0xff; }
uint16_t vnet_hal_pci_io_read16(struct vnet_pci_dev *d, unsigned b, uint32_t o) { (void)d; (void)b; (void)o; return 0xffff; }
uint32_t vnet_hal_pci_io_read32(struct vnet_pci_dev *d, unsigned b, uint32_t o) { (void)d; (void)b; (void)o; return ~0u; }
void vnet_hal_pci_io_write8(struct vnet_pci_dev *d, unsigned b, uint32_t o, uint8_t v) { (void)d; (void)b; (void)o; (void)v; }
void vnet_hal_pci_io_write16(struct vnet_pci_dev *d, unsigned b, uint32_t o, uint16_t v) { (void)d; (void)b; (void)o; (void)v; }
void vnet_hal_pci_io_write32(struct vnet_pci_dev *d, unsigned b, uint32_t o, uint32_t v) { (void)d; (void)b; (void)o; (void)v; }

static void find_dev(void)
{
	for (unsigned dv = 0; dv < 32; dv++) {
		uint32_t id = ppc_pci_cfg_read(0, dv, 0, 0, 4);
		if (id != 0x10001af4 && id != 0x10411af4)
			continue;
		the_dev.dev = dv;
		uint16_t cmd = (uint16_t)ppc_pci_cfg_read(0, dv, 0, 4, 2);
		ppc_pci_cfg_write(0, dv, 0, 4, 2, cmd & ~3u);
		for (unsigned b = 0; b < 6; b++) {
			unsigned off = 0x10 + 4 * b;
			uint32_t o = ppc_pci_cfg_read(0, dv, 0, off, 4);
			if (o & 1) continue;
			int is64 = ((o >> 1) & 3) == 2;
			uint32_t hi = is64 ? ppc_pci_cfg_read(0, dv, 0, off + 4, 4) : 0;
			ppc_pci_cfg_write(0, dv, 0, off, 4, ~0u);
			uint64_t m = ppc_pci_cfg_read(0, dv, 0, off, 4) & ~0xfull;
			ppc_pci_cfg_write(0, dv, 0, off, 4, o);
			if (is64) {
				ppc_pci_cfg_write(0, dv, 0, off + 4, 4, ~0u);
				m |= (uint64_t)ppc_pci_cfg_read(0, dv, 0, off + 4, 4) << 32;
				ppc_pci_cfg_write(0, dv, 0, off + 4, 4, hi);
			} else m |= 0xffffffff00000000ull;
			uint64_t base = ((uint64_t)hi << 32) | (o & ~0xfu);
			if (m != 0xffffffff00000000ull && base) { the_dev.bar[b] = base; the_dev.size[b] = ~m + 1; }
			if (is64) b++;
		}
		ppc_pci_cfg_write(0, dv, 0, 4, 2, cmd);
		have_dev = 1;
		return;
	}
}

static bool strstr_(const char *h, const char *n)
{
	size_t l = strlen(n);
	for (; *h; h++)
		if (!strncmp(h, n, l))
			return true;
	return false;
}

static const uint8_t gw_ip[4] = { 10, 0, 2, 2 }, my_ip[4] = { 10, 0, 2, 15 };

static struct vnet_pci *irq_pci;
static volatile unsigned irq_seen;
static void intx(void *arg)
{
	(void)arg;
	if (vnet_pci_isr(irq_pci))   /* reading ISR drops the line */
		irq_seen++;
}

int coretest(const char *ring);
int coretest(const char *ring)
{
	struct vnet_pci *pci;
	struct vnet_net *net;
	find_dev();
	if (!have_dev) { kprintf("coretest: no virtio-net\n"); return -1; }
	int rc = vnet_pci_probe(&the_dev, &pci);
	if (rc) { kprintf("coretest: probe %s\n", vnet_strerror(rc)); return -1; }
	bool use_irq = strstr_(ring, ",irq");
	unsigned src = 0;
	if (use_irq) {
		unsigned pin = vnet_hal_pci_cfg_read8(&the_dev, 0x3d);
		if (ppc_pci_intx(the_dev.dev, 0, pin, &src) != 0) { kprintf("coretest: no INTx route\n"); return -1; }
		kprintf("coretest: INTx pin %u -> MPIC source %u\n", pin, src);
		irq_pci = pci;
		ppc64_mpic_init(E500_CCSR_BASE + 0x40000);
		ppc64_mpic_route(src, false, 5, intx, 0);
		ppc64_irq_on();
	}
	struct vnet_net_opts o = {0};
	o.ring = !strncmp(ring, "packed", 6) ? VNET_NET_RING_PACKED : VNET_NET_RING_SPLIT;
	o.queue_pairs = 1;
	rc = vnet_net_create(vnet_pci_ops(), pci, &o, &net);
	if (rc) { kprintf("coretest: create %s\n", vnet_strerror(rc)); return -1; }
	struct vnet_net_info ni;
	vnet_net_get_info(net, &ni);
	kprintf("coretest: %s ring, qsize %u, hdr %u, mac %02x:%02x:%02x:%02x:%02x:%02x, features %llx\n",
		ni.layout == VNET_VQ_PACKED ? "packed" : "split", ni.queue_size, ni.hdr_len,
		ni.mac[0], ni.mac[1], ni.mac[2], ni.mac[3], ni.mac[4], ni.mac[5],
		(unsigned long long)ni.negotiated);
	unsigned ok = 0, n = 600;
	for (unsigned i = 0; i < n; i++) {
		struct vnet_pkt *p = vnet_net_pkt_alloc(net);
		if (!p) { vnet_net_tx_reclaim(net, 0); p = vnet_net_pkt_alloc(net); }
		if (!p) { kprintf("coretest: pool empty\n"); break; }
		uint8_t *f = p->data;
		memset(f, 0xff, 6); memcpy(f + 6, ni.mac, 6); f[12] = 0x08; f[13] = 0x06;
		uint8_t arp[28] = { 0, 1, 8, 0, 6, 4, 0, 1 };
		memcpy(arp + 8, ni.mac, 6); memcpy(arp + 14, my_ip, 4);
		memset(arp + 18, 0, 6); memcpy(arp + 24, gw_ip, 4);
		memcpy(f + 14, arp, 28); memset(f + 42, 0, 18);
		p->len = p->pkt_len = 60;
		unsigned before = irq_seen;
		bool armed = use_irq && vnet_net_rx_intr_enable(net, 0);
		if (vnet_net_tx_burst(net, 0, &p, 1) != 1) { kprintf("coretest: tx refused\n"); vnet_net_pkt_free(net, p); break; }
		uint64_t end = ppc_time_ns() + 2000000000ull;
		int got = 0;
		if (use_irq && armed) {
			while (irq_seen == before && ppc_time_ns() < end)
				;
			if (irq_seen == before) { kprintf("coretest: no interrupt for request %u\n", i); break; }
			vnet_net_rx_irq(net, 0);
		}
		while (!got && ppc_time_ns() < end) {
			struct vnet_pkt *r[8];
			unsigned k = vnet_net_rx_burst(net, 0, r, 8);
			for (unsigned j = 0; j < k; j++) {
				const uint8_t *d = r[j]->data;
				if (r[j]->len >= 42 && d[12] == 8 && d[13] == 6 && d[21] == 2 &&
				    !memcmp(d + 28, gw_ip, 4) && !memcmp(d + 32, ni.mac, 6))
					got = 1;
				vnet_net_pkt_free(net, r[j]);
			}
			vnet_net_tx_reclaim(net, 0);
		}
		if (!got) { kprintf("coretest: no ARP reply to request %u\n", i); break; }
		ok++;
	}
	struct vnet_net_queue_stats st;
	vnet_net_get_stats(net, 0, &st);
	if (use_irq)
		kprintf("coretest: %u INTx interrupts (MPIC count %llu)\n", irq_seen, (unsigned long long)ppc64_mpic_count(src));
	kprintf("coretest: %u/%u ARP replies; rx %llu pkts %llu drops %llu errs, tx %llu pkts %llu drops\n", ok, n,
		(unsigned long long)st.rx_packets, (unsigned long long)st.rx_drops, (unsigned long long)st.rx_errors,
		(unsigned long long)st.tx_packets, (unsigned long long)st.tx_drops);
	vnet_net_destroy(net);
	vnet_pci_remove(pci);
	return ok == n ? 0 : -1;
}
