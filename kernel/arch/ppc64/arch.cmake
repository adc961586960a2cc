# ppc64: big-endian 64-bit PowerPC, QEMU ppce500 with an e5500 (Book3E),
# ELFv1.  Included by kernel/OrionKernel.cmake with ORION_ARCH_DIR set;
# defines the ORION_ARCH_* variables described in kernel/arch/README.md.
# The bring-up build (bringup/) is not part of the kernel.
file(GLOB ORION_ARCH_SOURCES CONFIGURE_DEPENDS ${ORION_ARCH_DIR}/*.c ${ORION_ARCH_DIR}/*.S)
# e5500, 64-bit, big-endian, ELFv1 (function descriptors + TOC: boot.S
# loads r2 from ppc64_start's descriptor).  No FP, AltiVec or VSX: the
# kernel never enables MSR[FP] nor saves that state, so the compiler must
# not use it (soft-float also keeps GCC from using FP registers for
# block moves).
set(ORION_ARCH_CFLAGS -mcpu=e5500 -m64 -mbig-endian -mabi=elfv1 -msoft-float -mno-altivec -mno-vsx)
set(ORION_ARCH_ASMFLAGS -mcpu=e5500 -m64 -mbig-endian -fno-pic)
# One RWX segment is deliberate (linker.ld); binutils 2.39+ warns otherwise.
set(ORION_ARCH_LDFLAGS -m64 -mbig-endian -Wl,--no-warn-rwx-segments)
set(ORION_ARCH_LINKER_SCRIPT ${ORION_ARCH_DIR}/linker.ld)
