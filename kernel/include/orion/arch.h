/*
 * The architecture contract: everything the common kernel (core/, dev/,
 * hal/, net/, mm/, lib/) needs from the CPU and the board, and nothing
 * else.  Each kernel/arch/<arch>/ implements every function declared here
 * (kernel/arch/README.md is the porting guide); common code includes this
 * header and never an architecture's own headers.
 *
 * Conventions
 *   - One CPU.  "Interrupts off" (irq_save/irq_disable) is the only lock
 *     between interrupt handlers, the tick and main context.
 *   - Physical memory is identity mapped (virtual == physical) for RAM and
 *     device registers the arch reports (PCI BARs, virtio-mmio windows).
 *   - An "irq" is the arch's own interrupt number, the index into its
 *     handler table: an IDT vector on x86_64, a GIC INTID on aarch64, a
 *     PLIC source on riscv64.  0 <= irq < arch_irq_limit().  A "line" is a
 *     wired platform interrupt input as firmware/DTB names it (x86: IOAPIC
 *     GSI; GIC: SPI number; PLIC: source id); arch_irq_line_attach() turns
 *     a line into an irq with a handler.
 *
 * Boot order (kernel/core/main.c, orion_main):
 *   arch boot code (stack, BSS, CPU mode, MMU/identity map) fills a
 *   struct orion_boot_info and calls orion_main(), which runs
 *     timer_mark_entry      (reads arch_counter_read(): must work at entry)
 *     arch_console_init     (polled output from here on)
 *     cmdline_init(bi->cmdline)
 *     arch_cpu_init(bi)     (exception vectors, descriptor tables)
 *     pmm_init(bi), heap
 *     arch_platform_init()  (firmware tables: ACPI, DTB walk, ...)
 *     arch_timer_init()     (counter frequency known after this)
 *     arch_irq_init()       (interrupt controller; interrupts stay off)
 *     irq_enable()
 *     arch_tick_start()     (periodic tick calling timer_tick(), or none)
 *     serial_enable_irq()   (arch_console_irq_enable)
 *     pci_init()            (arch_pci_init, then the common scan)
 *     arch_devices_init()   (register virtio-mmio windows, ...)
 *     ... device bring-up, "orion: boot ok", selftest or shell.
 */
#ifndef ORION_ARCH_H
#define ORION_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------ boot */

struct orion_mem_range {
	uint64_t base, len;
};

#define ORION_BOOT_MAX_RANGES 32

struct orion_boot_info {
	const char *arch;          /* "x86_64", "aarch64", ... (printed at boot) */
	const char *cmdline;       /* NUL-terminated, "" if none; copied before pmm_init */
	/* Usable RAM.  pmm_init frees these ranges (below ORION_PMM_LIMIT),
	 * then takes back reserved[], the kernel image (__kernel_start ..
	 * __kernel_end from the arch's linker script) and the initrd. */
	struct orion_mem_range ram[ORION_BOOT_MAX_RANGES];
	unsigned nram;
	/* Inside RAM but never to be allocated (x86: the first MiB; the DTB
	 * blob; firmware-owned memory). */
	struct orion_mem_range reserved[ORION_BOOT_MAX_RANGES];
	unsigned nreserved;
	uint64_t initrd_base, initrd_len;   /* 0, 0 if none */
	const void *dtb;                    /* flattened device tree, or NULL */
};

/* Common entry point (kernel/core/main.c); never returns. */
__attribute__((noreturn)) void orion_main(const struct orion_boot_info *bi);

/* Linker-script symbols every arch provides. */
extern char __kernel_start[], __kernel_end[];

/* Arch init hooks, called once by orion_main in the order above. */
void arch_cpu_init(const struct orion_boot_info *bi);
void arch_platform_init(void);
void arch_irq_init(void);
/* Register platform devices the common drivers cannot discover (e.g.
 * orion_virtio_mmio_add for each virtio-mmio window); after pci_init. */
void arch_devices_init(void);

/* ------------------------------------------------------------ CPU */

/* Save the interrupt state and disable interrupts; restore it. */
unsigned long irq_save(void);
void irq_restore(unsigned long flags);
bool irq_enabled(void);
void irq_enable(void);
void irq_disable(void);
/* Spin-wait hint (PAUSE, YIELD, ...). */
void cpu_relax(void);
/*
 * Called with interrupts disabled after the caller checked for work: enable
 * interrupts and wait for one, atomically (no wake-up lost between the
 * check and the wait; x86 "sti; hlt").  Returns with interrupts enabled.
 * An arch in poll mode (arch_has_irqs() false) enables interrupts, runs
 * timer_poll_tick() and returns at once.
 */
void arch_idle(void);
/* False when the arch runs without interrupts (poll mode): the common
 * code then never waits for an interrupt. */
bool arch_has_irqs(void);
/* Print " 0x..." return addresses of the caller's stack (panic). */
void arch_backtrace(void);

/* ------------------------------------------------------------ interrupts */

typedef void (*irq_handler_fn)(void *arg);

/* Handler table size: irqs are 0 .. arch_irq_limit() - 1. */
unsigned arch_irq_limit(void);
/* Install fn(arg) on irq (replaces any previous handler); 0 or -1.  The
 * arch's dispatcher acknowledges/EOIs after the handler returns; handlers
 * run with interrupts off. */
int irq_register(int irq, irq_handler_fn fn, void *arg);
void irq_unregister(int irq);
/* Times irq fired since boot. */
uint64_t irq_count(int irq);

/*
 * Wired interrupt lines (PCI INTx after routing, virtio-mmio, UARTs).
 * attach: program the controller for line (trigger and polarity as given;
 * an arch whose controller fixes them may ignore the flags), install
 * fn(arg), unmask; returns the irq (>= 0) or -1 (line not on the
 * controller, none free).  One handler per line: the caller shares it.
 */
int arch_irq_line_attach(unsigned line, bool level, bool active_low, irq_handler_fn fn, void *arg);
void arch_irq_line_mask(unsigned line, bool masked);
/* Mask the line, remove the handler, release the irq. */
void arch_irq_line_detach(unsigned line, int irq);
/* Controller state of a line for diagnostics: false if unknown. */
bool arch_irq_line_state(unsigned line, bool *masked, bool *pending);

/*
 * Message-signalled interrupts (PCI MSI-X).  arch_msi_alloc: a free irq
 * that can be the target of a message, or -1 (none left, or the arch has
 * no MSI support: then PCI devices use INTx or poll).  arch_msi_compose:
 * the address/data pair a device writes to raise irq (edge, to this CPU);
 * 0, or -1 if irq is not an MSI target.
 */
bool arch_msi_supported(void);
int arch_msi_alloc(void);
void arch_msi_free(int irq);
int arch_msi_compose(int irq, uint64_t *addr, uint32_t *data);

/* ------------------------------------------------------------ console */

void arch_console_init(void);
/* One raw byte (no "\n" translation); bounded wait, never hangs. */
void arch_console_putc(char c);
/* A received byte, or -1 if none (never blocks). */
int arch_console_getc(void);
/* Arrange for rx() to run (interrupts off) when input arrives; rx drains
 * with arch_console_getc.  False: no interrupt, input stays polled. */
bool arch_console_irq_enable(void (*rx)(void));

/* ------------------------------------------------------------ time */

/* A free-running counter, readable from kernel entry on, and its
 * frequency (valid after arch_timer_init; 0 before). */
uint64_t arch_counter_read(void);
uint64_t arch_counter_hz(void);
void arch_timer_init(void);       /* learn/calibrate arch_counter_hz */
/* Start a periodic interrupt at TIMER_HZ that calls timer_tick(); false
 * if the arch has none (then timer_poll_tick() from arch_idle and the
 * delay loops keeps hooks running). */
bool arch_tick_start(void);

/* ------------------------------------------------------------ PCI */

/*
 * Configuration space.  arch_pci_init: find the host bridge (and, where
 * firmware assigned no BARs, assign them and enable decoding, e.g. through
 * dev/pci_ecam.c) before the common scan; 0, or -1 if the machine has no
 * PCI.  Reads of an absent function return all ones.  width is 1, 2 or 4
 * and off is aligned to it; off < 256.
 */
int arch_pci_init(void);
uint32_t arch_pci_cfg_read(unsigned bus, unsigned dev, unsigned fn, unsigned off, unsigned width);
void arch_pci_cfg_write(unsigned bus, unsigned dev, unsigned fn, unsigned off, unsigned width, uint32_t v);

/*
 * PCI I/O space, for I/O BARs (only the legacy virtio-pci interface uses
 * them).  OPTIONAL: kernel/hal/vnet_hal_pci.c has weak defaults saying
 * "no I/O space" (a legacy-only device is then reported unsupported); an
 * arch with I/O access overrides all three.  addr is the I/O BAR's bus
 * address plus the offset (x86_64: the port number; elsewhere the arch
 * maps it into its I/O window); width 1, 2 or 4; values in CPU order (the
 * arch converts if its window is little-endian MMIO on a big-endian CPU).
 */
bool arch_pci_io_supported(void);
uint32_t arch_pci_io_read(uint64_t addr, unsigned width);
void arch_pci_io_write(uint64_t addr, unsigned width, uint32_t v);

struct pci_dev;
struct pci_intx_route;
/* Where a function's INTx pin arrives (the board's routing after the
 * common bridge swizzle in r->root_slot/root_pin); fills r->gsi (the
 * line), level, active_low and r->path (how, for "vnet info"); 0, or -1
 * with r->why set. */
int arch_pci_intx_route(const struct pci_dev *d, struct pci_intx_route *r);

/* ------------------------------------------------------------ exit */

/* Leave QEMU with "code" (ORION_EXIT_PASS/FAIL, orion/power.h); the QEMU
 * exit status each code gives is the arch's (kernel/arch/<arch>/qemu.sh). */
__attribute__((noreturn)) void orion_exit(unsigned code);
__attribute__((noreturn)) void orion_poweroff(void);
__attribute__((noreturn)) void orion_reboot(void);
/* Interrupts off, stop forever. */
__attribute__((noreturn)) void orion_halt(void);

/* ------------------------------------------------------------ self-tests */

/* The arch's part of selftest=boot: an exception is caught by a
 * registered handler and execution resumes; 0 or -1 (message printed). */
int arch_selftest_exception(void);
/* selftest=fault: raise an exception no handler catches (must not return
 * normally: the arch's dump + panic exits FAIL). */
void arch_raise_fault(void);

/* ------------------------------------------------------------ memory */

/* Physical address -> pointer (identity map).  The empty asm hides the
 * constant from GCC, which warns about accesses to low fixed addresses. */
static inline void *phys_to_virt(uint64_t pa)
{
	__asm__("" : "+r"(pa));
	return (void *)(uintptr_t)pa;
}

/* End of the identity map: RAM and device registers below it are reachable
 * through phys_to_virt (x86_64: 64 GiB). */
uint64_t arch_phys_limit(void);

/* CPU-endian 32-bit MMIO (kernel drivers; the driver core has its own
 * little-endian accessors in include/vnet/). */
static inline uint32_t mmio_read32(uintptr_t a) { return *(volatile uint32_t *)a; }
static inline void mmio_write32(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }

#endif
