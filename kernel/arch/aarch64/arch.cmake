# aarch64 (QEMU virt, ELF loaded by "qemu-system-aarch64 -kernel").
# Included by kernel/OrionKernel.cmake with ORION_ARCH_DIR set; defines the
# ORION_ARCH_* variables described in kernel/arch/README.md.
file(GLOB ORION_ARCH_SOURCES CONFIGURE_DEPENDS ${ORION_ARCH_DIR}/*.c ${ORION_ARCH_DIR}/*.S)
# -mgeneral-regs-only: the kernel never saves FP/SIMD state.
# -mstrict-align: the C code before the MMU is on (platform.c's DTB walk,
#   mmu.c) runs with every data access Device memory, where an unaligned
#   access faults; GCC must never emit one (README.md, "Boot").
# -mno-outline-atomics: inline LSE/LL-SC atomics, not libgcc's helpers that
#   pick an implementation from HWCAP (no auxv in a kernel).
set(ORION_ARCH_CFLAGS -mgeneral-regs-only -mstrict-align -mno-outline-atomics -mcmodel=small)
set(ORION_ARCH_ASMFLAGS -fno-pic)
# One RWX segment is deliberate (linker.ld); the cross build cannot probe
# the flag (its try-compile builds static libraries only), Debian 12's
# binutils has it.
set(ORION_ARCH_LDFLAGS -Wl,-z,max-page-size=0x1000 -Wl,--no-warn-rwx-segments)
set(ORION_ARCH_LINKER_SCRIPT ${ORION_ARCH_DIR}/linker.ld)
