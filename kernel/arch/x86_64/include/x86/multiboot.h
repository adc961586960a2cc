/* Multiboot (v1) information structure, the subset Orion reads. */
#ifndef X86_MULTIBOOT_H
#define X86_MULTIBOOT_H

#include <stdint.h>

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u
#define MB_INFO_MEMORY (1u << 0)
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MODS (1u << 3)
#define MB_INFO_MMAP (1u << 6)

struct multiboot_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper;
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
} __attribute__((packed));

/* One module (QEMU -initrd FILE[,FILE2...]: module 0 is FILE). */
struct multiboot_module {
	uint32_t mod_start, mod_end;   /* physical, end exclusive */
	uint32_t string;               /* its name (the path QEMU was given) */
	uint32_t reserved;
} __attribute__((packed));

struct multiboot_mmap_entry {
	uint32_t size;        /* of the rest of the entry */
	uint64_t addr, len;
	uint32_t type;        /* 1 = usable RAM */
} __attribute__((packed));

#endif
