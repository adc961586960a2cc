# riscv64 (QEMU virt under OpenSBI, "qemu-system-riscv64 -M virt -bios
# default -kernel ELF").  Included by kernel/OrionKernel.cmake with
# ORION_ARCH_DIR set; defines the ORION_ARCH_* variables described in
# kernel/arch/README.md.
file(GLOB ORION_ARCH_SOURCES CONFIGURE_DEPENDS ${ORION_ARCH_DIR}/*.c ${ORION_ARCH_DIR}/*.S)
# RV64IMAC: no F/D (the kernel never saves FP state, so the compiler must
# not use FP registers: lp64 soft-float ABI), Zicsr/Zifencei spelled out
# as binutils 2.38+ requires.  medany: the kernel is linked at 0x80200000,
# outside medlow's +-2 GiB around 0, and addresses everything PC-relative.
set(ORION_ARCH_CFLAGS -march=rv64imac_zicsr_zifencei -mabi=lp64 -mcmodel=medany)
set(ORION_ARCH_ASMFLAGS -march=rv64imac_zicsr_zifencei -mabi=lp64 -mcmodel=medany -fno-pic)
# One RWX segment is deliberate (linker.ld); binutils 2.39+ warns about it.
set(ORION_ARCH_LDFLAGS -Wl,-z,max-page-size=0x1000 -Wl,--no-warn-rwx-segments)
set(ORION_ARCH_LINKER_SCRIPT ${ORION_ARCH_DIR}/linker.ld)
