/*
 * x86_64 platform devices: the virtio-mmio transports of QEMU's microvm
 * board (arch_devices_init, orion/arch.h).
 *
 * QEMU loads the multiboot kernel on microvm as on pc/q35, but the
 * transport list it appends with auto-kernel-cmdline=on ("
 * virtio_mmio.device=SIZE@BASE:IRQ" per transport that has a device
 * plugged) is added to the fw_cfg command line at machine-done time, after
 * the multiboot loader copied the command line the kernel gets, and only
 * when ACPI is off (QEMU 7.2 microvm_machine_reset: with ACPI the DSDT
 * describes the transports instead, and Orion has no AML reader; the
 * board runs with acpi=off, see kernel/arch/x86_64/qemu.sh).  So the
 * windows are read from fw_cfg itself: the legacy I/O interface (selector
 * 0x510, data 0x511), item FW_CFG_CMDLINE_SIZE (0x14, 32-bit little
 * endian) and FW_CFG_CMDLINE_DATA (0x15).  pc and q35 have fw_cfg too;
 * their command line names no transports, so nothing is registered.
 * IRQ is an IOAPIC GSI (the board runs with ioapic2=off: GSI 0-23).
 */
#include <stdint.h>

#include "orion/arch.h"
#include "orion/klib.h"
#include "orion/kprintf.h"
#include "orion/virtio_mmio.h"
#include "x86/io.h"

#define FW_CFG_SEL 0x510
#define FW_CFG_DATA 0x511
#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_CMDLINE_SIZE 0x14
#define FW_CFG_CMDLINE_DATA 0x15

static char fw_cmdline[1024];

static bool fw_cfg_present(void)
{
	outw(FW_CFG_SEL, FW_CFG_SIGNATURE);
	char sig[4];
	for (unsigned i = 0; i < 4; i++)
		sig[i] = (char)inb(FW_CFG_DATA);
	return !memcmp(sig, "QEMU", 4);
}

/* The fw_cfg command line into fw_cmdline (truncated to fit); its length. */
static size_t fw_cfg_cmdline(void)
{
	outw(FW_CFG_SEL, FW_CFG_CMDLINE_SIZE);
	uint32_t n = 0;
	for (unsigned i = 0; i < 4; i++)
		n |= (uint32_t)inb(FW_CFG_DATA) << (8 * i);
	if (n > sizeof(fw_cmdline) - 1)
		n = sizeof(fw_cmdline) - 1;
	outw(FW_CFG_SEL, FW_CFG_CMDLINE_DATA);
	for (uint32_t i = 0; i < n; i++)
		fw_cmdline[i] = (char)inb(FW_CFG_DATA);
	fw_cmdline[n] = 0;
	return strlen(fw_cmdline);
}

/* A number (decimal or 0x hex) with an optional K/M/G suffix; the end. */
static const char *parse_num(const char *p, uint64_t *v)
{
	uint64_t x = 0;
	const char *s = p;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		p += 2;
		s = p;
		for (;; p++) {
			unsigned d;
			if (*p >= '0' && *p <= '9')
				d = (unsigned)(*p - '0');
			else if (*p >= 'a' && *p <= 'f')
				d = (unsigned)(*p - 'a' + 10);
			else if (*p >= 'A' && *p <= 'F')
				d = (unsigned)(*p - 'A' + 10);
			else
				break;
			x = x * 16 + d;
		}
	} else {
		for (; *p >= '0' && *p <= '9'; p++)
			x = x * 10 + (uint64_t)(*p - '0');
	}
	if (p == s)
		return NULL;
	if (*p == 'K' || *p == 'k')
		x <<= 10, p++;
	else if (*p == 'M' || *p == 'm')
		x <<= 20, p++;
	else if (*p == 'G' || *p == 'g')
		x <<= 30, p++;
	*v = x;
	return p;
}

/* "virtio_mmio.device=SIZE@BASE:IRQ[:ID]" (the Linux syntax QEMU uses). */
static void parse_virtio_mmio(const char *p)
{
	static const char key[] = "virtio_mmio.device=";
	while ((p = strchr(p, 'v')) != NULL) {
		if (strncmp(p, key, sizeof(key) - 1) != 0) {
			p++;
			continue;
		}
		const char *t = p + sizeof(key) - 1;
		uint64_t size, base, irq;
		const char *e = parse_num(t, &size);
		if (e && *e == '@')
			e = parse_num(e + 1, &base);
		else
			e = NULL;
		if (e && *e == ':')
			e = parse_num(e + 1, &irq);
		else
			e = NULL;
		if (!e || (*e && *e != ' ' && *e != ':') || irq > 255) {
			kprintf("virtio-mmio: cannot parse '%.40s'\n", p);
		} else {
			kprintf("virtio-mmio: window %#lx size %#lx gsi %lu (fw_cfg command line)\n", base, size, irq);
			orion_virtio_mmio_add(base, size, (int)irq);
		}
		p = t;
	}
}

void arch_devices_init(void)
{
	if (fw_cfg_present() && fw_cfg_cmdline())
		parse_virtio_mmio(fw_cmdline);
}
