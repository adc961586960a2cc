# riscv64 CTests (included by kernel/CMakeLists.txt with ORION_KERNEL_ELF
# set, only when riscv64-linux-gnu-gcc built the kernel): the UDP echo of
# 300 datagrams (every size 1..1472 is still covered: the client sends each
# size once at least) over QEMU virt's virtio-mmio and PCIe, with split and
# packed rings.  TCG (a riscv64 guest cannot use this host's KVM).  Skipped
# (77) without qemu-system-riscv64.
#
# What each must show besides the byte-for-byte echo: the ring layout the
# test asked for was negotiated ("vnet0: up ... ring R"), vnet0 is the
# device of the transport under test, and its interrupts really arrived
# through the PLIC (intx_irqs > 0 in the counters line): a wrong
# interrupt-map or PLIC context would otherwise be hidden by the polling
# fallback of the echo loop.
set(ORION_RISCV64_ECHO ${CMAKE_SOURCE_DIR}/tests/integration/kernel_udp_echo.sh)
foreach(transport mmio pci)
  if(transport STREQUAL "mmio")
    # virt's virtio-mmio slots are PLIC sources 1..8; the first -device
    # lands in the highest window (0x10008000, source 8).
    set(where "^vnet0: virtio-net mmio@[0-9a-f]+ irq [1-8]$")
    set(gsi "gsi [1-8] ")
    set(devopts "")
  else()
    # slot S pin A -> source 32 + S mod 4 (interrupt-map).
    set(where "^orion: virtio-net 00:0[0-9a-f]\\.0 1af4:1041 modern")
    set(gsi "gsi 3[2-5] ")
    set(devopts ",disable-legacy=on")
  endif()
  foreach(ring split packed)
    set(opts "${devopts}")
    if(ring STREQUAL "packed")
      set(opts "${opts},packed=on")
    endif()
    set(name kernel_riscv64_${transport}_echo_${ring})
    add_test(NAME ${name}
      COMMAND ${ORION_RISCV64_ECHO} --kernel ${ORION_KERNEL_ELF} --arch riscv64 --transport ${transport}
              --count 300 --append ring=${ring} --dev-opts "${opts}"
              --log ${CMAKE_CURRENT_BINARY_DIR}/${name}.log
              --expect "${where}"
              --expect "^vnet0: up .* ring ${ring} .* mode intx ${gsi}"
              --expect "^vnet0: counters mode intx msix_irqs 0 intx_irqs [1-9]")
    set_tests_properties(${name} PROPERTIES
      TIMEOUT 180 SKIP_RETURN_CODE 77 LABELS "kernel;integration;riscv64")
  endforeach()
endforeach()

# Boot and fault: selftest=boot on virt with a virtio-net-pci NIC (DTB
# walk, PCI BARs placed, SBI timer ticks, exception dispatch, MSI-X refused
# for want of an MSI target) must exit PASS (33); an unhandled load access
# fault must print the trap dump and exit FAIL (35).
foreach(selftest boot fault)
  add_test(NAME kernel_riscv64_${selftest}
    COMMAND ${ORION_KERNEL_DIR}/arch/riscv64/tests/boot_test.sh --kernel ${ORION_KERNEL_ELF}
            --selftest ${selftest} --log ${CMAKE_CURRENT_BINARY_DIR}/kernel_riscv64_${selftest}.log)
  set_tests_properties(kernel_riscv64_${selftest} PROPERTIES
    TIMEOUT 120 SKIP_RETURN_CODE 77 LABELS "kernel;integration;riscv64")
endforeach()
