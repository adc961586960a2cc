/*
 * x86_64 entry: boot.S (multiboot v1, long mode, identity map) calls
 * x86_entry(magic, mbi), which turns the multiboot information into a
 * struct orion_boot_info and calls the common orion_main().  Also the
 * arch init hooks orion_main runs (orion/arch.h).
 */
#include <stdint.h>

#include "orion/arch.h"
#include "orion/klib.h"
#include "orion/kprintf.h"
#include "x86/acpi.h"
#include "x86/io.h"
#include "x86/irq.h"
#include "x86/multiboot.h"

__attribute__((noreturn)) void x86_entry(uint32_t magic, uint32_t mbi_pa);
extern const uint64_t boot_pdpt[512];

static struct orion_boot_info boot_info;
static bool bad_magic;
static uint32_t bad_magic_value;

static void add_ram(uint64_t base, uint64_t len)
{
	if (boot_info.nram < ORION_BOOT_MAX_RANGES)
		boot_info.ram[boot_info.nram++] = (struct orion_mem_range){ base, len };
}

void x86_entry(uint32_t magic, uint32_t mbi_pa)
{
	const struct multiboot_info *mbi = (const struct multiboot_info *)(uintptr_t)mbi_pa;

	boot_info.arch = "x86_64";
	if (magic != MULTIBOOT_BOOTLOADER_MAGIC) {
		/* Reported by arch_cpu_init, once the console is up. */
		bad_magic = true;
		bad_magic_value = magic;
		boot_info.cmdline = "";
		orion_main(&boot_info);
	}
	boot_info.cmdline = (mbi->flags & MB_INFO_CMDLINE) ? (const char *)(uintptr_t)mbi->cmdline : "";
	if (mbi->flags & MB_INFO_MMAP) {
		uint64_t p = mbi->mmap_addr, end = p + mbi->mmap_length;
		while (p + sizeof(struct multiboot_mmap_entry) <= end) {
			const struct multiboot_mmap_entry *e = (const void *)(uintptr_t)p;
			if (e->type == 1)
				add_ram(e->addr, e->len);
			p += e->size + 4;
		}
	} else if (mbi->flags & MB_INFO_MEMORY) {
		add_ram(0x100000, (uint64_t)mbi->mem_upper * 1024);
	}
	/* Module 0 (QEMU -initrd) is the initrd: pmm_init keeps its pages, the
	 * configuration reader (kernel/core/config.c) reads it. */
	if ((mbi->flags & MB_INFO_MODS) && mbi->mods_count > 0 && mbi->mods_addr) {
		const struct multiboot_module *m = (const void *)(uintptr_t)mbi->mods_addr;
		if (m->mod_end > m->mod_start) {
			boot_info.initrd_base = m->mod_start;
			boot_info.initrd_len = m->mod_end - m->mod_start;
		}
	}
	/* BIOS data, EBDA and the ACPI tables firmware may keep below 1 MiB. */
	boot_info.reserved[boot_info.nreserved++] = (struct orion_mem_range){ 0, 0x100000 };
	orion_main(&boot_info);
}

void arch_cpu_init(const struct orion_boot_info *bi)
{
	(void)bi;
	if (bad_magic)
		panic("not started by a multiboot loader (magic %#x)", bad_magic_value);
	if (!boot_info.nram)
		panic("mem: loader gave no memory information");
	kprintf("orion: identity map 0-64 GiB with %s pages\n", (boot_pdpt[0] & 0x80) ? "1 GiB" : "2 MiB");
	gdt_init();
	idt_init();
}

void arch_platform_init(void)
{
	acpi_init();
}

void arch_irq_init(void)
{
	apic_init();
}
