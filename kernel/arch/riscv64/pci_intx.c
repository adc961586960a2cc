/*
 * riscv64 PCI INTx routing (orion/arch.h arch_pci_intx_route): the host
 * bridge's interrupt-map (Devicetree Spec v0.4 §2.4.3, "Interrupt
 * Nexus"; PCI bus binding: the child unit address is phys.hi/mid/lo with
 * the device number in phys.hi bits 15:11, the child interrupt the pin,
 * 1 = INTA).  The common code has already swizzled the pin through any
 * bridges to the root bus (r->root_slot, r->root_pin); here the
 * (slot << 11, pin) key, masked with interrupt-map-mask, is looked up
 * entry by entry.  Each entry is child address (#address-cells of the
 * host, 3), child interrupt (#interrupt-cells of the host, 1), the parent
 * controller's phandle, its unit address (#address-cells of the parent,
 * 0 when absent) and its interrupt specifier (#interrupt-cells of the
 * parent).  On QEMU virt the parent is the PLIC and the specifier one
 * cell, the source: slot S pin P arrives at PLIC source 32 + (S + P - 1)
 * mod 4.  PCI INTx is level-triggered, active low on the wire, which the
 * PLIC gateway sees as a level "asserted" input: nothing to program.
 */
#include <stdint.h>

#include "orion/arch.h"
#include "orion/fdt.h"
#include "orion/kprintf.h"
#include "orion/pci.h"
#include "riscv.h"

#define MAP_MAX_CELLS 8   /* child address + child interrupt cells we accept */

int rv_pci_host_node(void);
int rv_pci_host_node(void)
{
	if (rv_fdt_err != FDT_OK)
		return -1;
	int n = fdt_find_compatible(&rv_fdt, -1, "pci-host-ecam-generic");
	return (n >= 0 && fdt_is_enabled(&rv_fdt, n)) ? n : -1;
}

int arch_pci_intx_route(const struct pci_dev *d, struct pci_intx_route *r)
{
	(void)d;
	int host = rv_pci_host_node();
	if (host < 0) {
		r->why = "no pci-host-ecam-generic node in the device tree";
		return -1;
	}
	uint32_t len, mlen = 0;
	const uint8_t *map = fdt_prop(&rv_fdt, host, "interrupt-map", &len);
	const uint8_t *mask = fdt_prop(&rv_fdt, host, "interrupt-map-mask", &mlen);
	uint32_t ac = fdt_address_cells(&rv_fdt, host);
	uint32_t ic = fdt_prop_u32(&rv_fdt, host, "#interrupt-cells", 1);
	if (!map || len % 4) {
		r->why = "the host bridge has no interrupt-map";
		return -1;
	}
	if (ac + ic > MAP_MAX_CELLS || ic < 1 || (mask && mlen != 4 * (ac + ic))) {
		r->why = "interrupt-map: unexpected #address-cells/#interrupt-cells";
		return -1;
	}
	uint32_t key[MAP_MAX_CELLS] = { 0 }, m[MAP_MAX_CELLS];
	key[0] = (uint32_t)r->root_slot << 11;      /* bus 0, function 0 */
	key[ac] = r->root_pin;
	for (uint32_t i = 0; i < ac + ic; i++) {
		m[i] = mask ? fdt_be32(mask + 4 * i) : 0xffffffffu;
		key[i] &= m[i];
	}
	uint32_t o = 0, cells = len / 4;
	while (o < cells) {
		if (cells - o < ac + ic + 1)
			break;
		bool match = true;
		for (uint32_t i = 0; i < ac + ic; i++)
			if ((fdt_be32(map + 4 * (o + i)) & m[i]) != key[i])
				match = false;
		int parent = fdt_node_by_phandle(&rv_fdt, fdt_be32(map + 4 * (o + ac + ic)));
		if (parent < 0)
			break;
		uint32_t pac = fdt_prop_u32(&rv_fdt, parent, "#address-cells", 0);
		uint32_t pic = fdt_prop_u32(&rv_fdt, parent, "#interrupt-cells", 0);
		uint32_t spec = o + ac + ic + 1 + pac;
		if (pic < 1 || cells - o < ac + ic + 1 + pac + pic)
			break;
		if (match) {
			if (parent != rv_plic_node) {
				r->why = "interrupt-map routes the pin to a controller other than our PLIC";
				return -1;
			}
			r->gsi = fdt_be32(map + 4 * spec);
			r->level = true;
			r->active_low = false;
			ksnprintf(r->path, sizeof(r->path), "interrupt-map slot %u INT%c -> plic %u", r->root_slot,
				  'A' + (r->root_pin - 1) % 4, r->gsi);
			return 0;
		}
		o = spec + pic;
	}
	r->why = o < cells ? "interrupt-map is malformed" : "interrupt-map has no entry for the slot and pin";
	return -1;
}
