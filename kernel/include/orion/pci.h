/*
 * PCI, architecture-neutral: configuration space goes through the arch
 * (arch_pci_cfg_read/write in orion/arch.h: x86_64 uses mechanism #1,
 * ports 0xCF8/0xCFC, the first 256 bytes of each function; others ECAM
 * or their host bridge's indirect registers).
 *
 * pci_init() scans from bus 0 following PCI-to-PCI bridges, decodes every
 * BAR with the write-ones probe (decoding disabled meanwhile) and keeps up
 * to PCI_MAX_DEVS functions in a static table: a struct pci_dev pointer is
 * valid memory forever (a hot-removed function's entry is marked vendor
 * 0xffff and reused by the next hot-added one: pci_hotplug_add below).
 * BAR addresses are the firmware's (SeaBIOS on x86) or were assigned by
 * arch_pci_init before the scan (a hot-added function's by
 * dev/pcie_hotplug.c); pci.c does not reassign them.  A memory BAR's base is a CPU physical (== virtual) address.
 */
#ifndef ORION_PCI_H
#define ORION_PCI_H

#include <stdint.h>
#include <stdbool.h>

#define PCI_MAX_DEVS 64
#define PCI_MSIX_MAX 64          /* entries tracked per device */

enum pci_bar_type { PCI_BAR_NONE = 0, PCI_BAR_MEM32, PCI_BAR_MEM64, PCI_BAR_IO };

struct pci_bar {
	uint64_t base;       /* physical (== virtual) or I/O port */
	uint64_t size;
	uint8_t type;        /* enum pci_bar_type; the upper half of a 64-bit BAR is NONE */
	bool prefetchable;
};

struct pci_dev {
	uint8_t bus, dev, fn;
	uint16_t vendor, device, subsys_vendor, subsys_id;
	uint8_t class_code, subclass, prog_if, revision, header_type;
	uint8_t irq_line, irq_pin;
	struct pci_bar bar[6];
	char name[8];        /* "bb:dd.f" */
	/* MSI-X state, valid after pci_msix_enable. */
	uint8_t msix_cap;    /* config offset, 0 if none */
	uint16_t msix_size;  /* table entries */
	volatile uint32_t *msix_table;
	bool msix_on;
	int16_t msix_vec[PCI_MSIX_MAX];  /* vector bound per entry, -1 none */
};

#define PCI_CAP_MSI 0x05
#define PCI_CAP_VENDOR 0x09
#define PCI_CAP_MSIX 0x11

#define PCI_CMD_IO (1u << 0)
#define PCI_CMD_MEM (1u << 1)
#define PCI_CMD_MASTER (1u << 2)
#define PCI_CMD_INTX_DISABLE (1u << 10)

void pci_init(void);
unsigned pci_count(void);
struct pci_dev *pci_get(unsigned i);
/* nth (0-based) device with this vendor and device id (0xffff = any). */
struct pci_dev *pci_find(uint16_t vendor, uint16_t device, unsigned nth);
/* Print the device table (bus:dev.fn vendor:device class, BARs if verbose). */
void pci_print(bool verbose);
/* Short name of a few known devices ("virtio-net (modern)"), or NULL. */
const char *pci_known_name(const struct pci_dev *d);

/* Config space; off < 256, naturally aligned.  Interrupt-safe. */
uint8_t pci_cfg_read8(const struct pci_dev *d, unsigned off);
uint16_t pci_cfg_read16(const struct pci_dev *d, unsigned off);
uint32_t pci_cfg_read32(const struct pci_dev *d, unsigned off);
void pci_cfg_write8(const struct pci_dev *d, unsigned off, uint8_t v);
void pci_cfg_write16(const struct pci_dev *d, unsigned off, uint16_t v);
void pci_cfg_write32(const struct pci_dev *d, unsigned off, uint32_t v);

/*
 * Capability walk: offset of the first capability with id cap_id after
 * config offset `after` (0 = from the start of the list), or 0.  Call again
 * with the returned offset to find the next one (virtio has several
 * vendor-specific capabilities).  The walk is bounded (48 steps) against
 * looping lists.
 */
unsigned pci_cap_find(const struct pci_dev *d, uint8_t cap_id, unsigned after);

/* Set command-register bits (PCI_CMD_*); returns the new command value. */
uint16_t pci_enable(struct pci_dev *d, uint16_t cmd_bits);
void pci_disable(struct pci_dev *d, uint16_t cmd_bits);

/*
 * MSI-X.  pci_msix_enable() turns MSI-X on with every entry masked and
 * returns how many entries may be used (min(nvec, table size)) or -1 if
 * the function has no MSI-X capability.  pci_msix_set() programs entry
 * idx to deliver `vector` to the BSP and unmasks it; pci_msix_mask()
 * toggles the per-entry mask; pci_msix_disable() masks everything and
 * clears the enable bit (vectors are not freed: that is the caller's).
 */
int pci_msix_enable(struct pci_dev *d, unsigned nvec);
int pci_msix_set(struct pci_dev *d, unsigned idx, int irq);
void pci_msix_mask(struct pci_dev *d, unsigned idx, bool masked);
void pci_msix_disable(struct pci_dev *d);
/* Entry idx: masked (its Vector Control mask or the function mask) and
 * pending (its bit in the Pending Bit Array: a message the function holds
 * back because it is masked).  False if MSI-X is off or the PBA unreadable. */
bool pci_msix_entry_state(struct pci_dev *d, unsigned idx, bool *masked, bool *pending);

/*
 * Where the function's legacy interrupt (INTx) arrives: Interrupt Pin
 * (config 0x3D) after the bridge swizzle (common, pci.c), then the board's
 * routing to an interrupt line with its trigger mode and polarity
 * (arch_pci_intx_route; the rules for QEMU's pc and q35 are in
 * kernel/arch/x86_64/pci.c).  Returns 0 with *r filled, or -1 with r->why
 * saying why the line cannot be routed.
 */
struct pci_intx_route {
	uint8_t pin, line;          /* raw Interrupt Pin (1=INTA) and Line */
	uint8_t root_slot, root_pin; /* after the swizzle, on bus 0 */
	unsigned gsi;               /* the platform line (x86: IOAPIC GSI) */
	bool level, active_low;
	char path[48];              /* the arch's route, e.g. "ich9 PIRQE" */
	const char *why;            /* reason when not routable */
};
int pci_intx_route(const struct pci_dev *d, struct pci_intx_route *r);
/* The function at bus:dev.fn in the table, or NULL. */
struct pci_dev *pci_find_at(unsigned bus, unsigned dev, unsigned fn);

/*
 * Hot-plug (kernel/dev/pcie_hotplug.c).  pci_hotplug_add: read a function
 * that appeared after the scan (its BARs already assigned) into the table
 * and return it, or NULL if nothing answers there or the table is full.
 * pci_hotplug_remove: the function is gone; its entry stays allocated
 * (old pointers remain valid memory) with vendor 0xffff, which no lookup
 * matches, and is reused by the next pci_hotplug_add.
 */
struct pci_dev *pci_hotplug_add(unsigned bus, unsigned dev, unsigned fn);
void pci_hotplug_remove(struct pci_dev *d);

#endif
