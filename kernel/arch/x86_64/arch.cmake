# x86_64 (QEMU pc/q35, multiboot v1 via "qemu-system-x86_64 -kernel").
# Included by kernel/OrionKernel.cmake with ORION_ARCH_DIR set; defines the
# ORION_ARCH_* variables described in kernel/arch/README.md.
file(GLOB ORION_ARCH_SOURCES CONFIGURE_DEPENDS ${ORION_ARCH_DIR}/*.c ${ORION_ARCH_DIR}/*.S)
# No red zone (interrupts would clobber it), no SSE/x87 (the kernel never
# saves FPU state), small code model at a 1 MiB identity-mapped load
# address.
set(ORION_ARCH_CFLAGS
  -m64 -mno-red-zone -mno-sse -mno-sse2 -mno-mmx -mno-80387 -mgeneral-regs-only
  -mcmodel=small)
set(ORION_ARCH_ASMFLAGS -m64 -fno-pic)
set(ORION_ARCH_LDFLAGS -Wl,-z,max-page-size=0x1000)
set(ORION_ARCH_LINKER_SCRIPT ${ORION_ARCH_DIR}/linker.ld)
