# aarch64 CTests (included by kernel/CMakeLists.txt with ORION_KERNEL_ELF,
# ORION_KERNEL_TARGET and ORION_KERNEL_DIR set).  QEMU virt under TCG;
# skipped (77) without qemu-system-aarch64.
#
# The echo tests: 300 requested datagrams (the client sends every size
# 1..1472 at least once, so 1472 in all) through tests/integration/
# kernel_udp_echo.sh, split and packed (QEMU's packed=on plus ring=packed,
# and the vnet0 line must say so):
#   virt (GICv2): mmio (SPI, level) and pci (MSI-X through GICv2m);
#   virt-gicv3:   pci over INTx (no ITS driver) and mmio;
#   pci in poll mode (no interrupts at all).
set(ORION_A64_ECHO ${CMAKE_SOURCE_DIR}/tests/integration/kernel_udp_echo.sh)
set(ORION_A64_TESTS "")
foreach(transport mmio pci)
  foreach(ring split packed)
    set(name kernel_aarch64_${transport}_echo_${ring})
    set(opts "")
    if(ring STREQUAL "packed")
      set(opts ",packed=on")
    endif()
    if(transport STREQUAL "pci")
      set(irq "mode irq msix [1-9]")        # MSI-X through the GICv2m frame
    else()
      set(irq "mode intx gsi 47 ")           # the top virtio-mmio window's SPI
    endif()
    add_test(NAME ${name}
      COMMAND ${ORION_A64_ECHO} --kernel ${ORION_KERNEL_ELF} --arch aarch64 --transport ${transport}
              --count 300 --dev-opts "${opts}" --append ring=${ring}
              --expect "^vnet0: up .* ring ${ring} " --expect "^vnet0: up .* ${irq}"
              --log ${CMAKE_CURRENT_BINARY_DIR}/${name}.log)
    list(APPEND ORION_A64_TESTS ${name})
  endforeach()
endforeach()

add_test(NAME kernel_aarch64_gicv3_pci_echo_intx
  COMMAND ${ORION_A64_ECHO} --kernel ${ORION_KERNEL_ELF} --arch aarch64 --machine virt-gicv3
          --transport pci --count 300 --expect "^vnet0: up .* mode intx gsi [3-6] "
          --log ${CMAKE_CURRENT_BINARY_DIR}/kernel_aarch64_gicv3_pci_echo_intx.log)
add_test(NAME kernel_aarch64_gicv3_mmio_echo_packed
  COMMAND ${ORION_A64_ECHO} --kernel ${ORION_KERNEL_ELF} --arch aarch64 --machine virt-gicv3
          --transport mmio --count 300 --dev-opts ",packed=on" --append ring=packed
          --expect "^vnet0: up .* ring packed .* mode intx gsi 47 "
          --log ${CMAKE_CURRENT_BINARY_DIR}/kernel_aarch64_gicv3_mmio_echo_packed.log)
add_test(NAME kernel_aarch64_pci_echo_poll
  COMMAND ${ORION_A64_ECHO} --kernel ${ORION_KERNEL_ELF} --arch aarch64 --transport pci
          --count 300 --append mode=poll --expect "^vnet0: up .* mode poll "
          --log ${CMAKE_CURRENT_BINARY_DIR}/kernel_aarch64_pci_echo_poll.log)
list(APPEND ORION_A64_TESTS kernel_aarch64_gicv3_pci_echo_intx kernel_aarch64_gicv3_mmio_echo_packed
  kernel_aarch64_pci_echo_poll)

# Boot self-test (PCI, MSI-X) and the unhandled-exception path.
add_test(NAME kernel_aarch64_boot
  COMMAND ${ORION_KERNEL_DIR}/arch/aarch64/tests/boot_test.sh --kernel ${ORION_KERNEL_ELF}
          --log ${CMAKE_CURRENT_BINARY_DIR}/kernel_aarch64_boot.log)
add_test(NAME kernel_aarch64_fault_dump
  COMMAND ${ORION_KERNEL_DIR}/arch/aarch64/tests/boot_test.sh --kernel ${ORION_KERNEL_ELF}
          --selftest fault --log ${CMAKE_CURRENT_BINARY_DIR}/kernel_aarch64_fault_dump.log)
# The NIC behind the second of two PCIe root ports: bus numbering, bridge
# windows, MSI-X through the bridge (virt) and the INTx swizzle (GICv3).
add_test(NAME kernel_aarch64_bridge_ping_msix
  COMMAND ${ORION_KERNEL_DIR}/arch/aarch64/tests/boot_test.sh --kernel ${ORION_KERNEL_ELF}
          --selftest ping --bridge 1 --log ${CMAKE_CURRENT_BINARY_DIR}/kernel_aarch64_bridge_ping_msix.log)
add_test(NAME kernel_aarch64_gicv3_bridge_ping_intx
  COMMAND ${ORION_KERNEL_DIR}/arch/aarch64/tests/boot_test.sh --kernel ${ORION_KERNEL_ELF}
          --selftest ping --bridge 1 --machine virt-gicv3
          --log ${CMAKE_CURRENT_BINARY_DIR}/kernel_aarch64_gicv3_bridge_ping_intx.log)
list(APPEND ORION_A64_TESTS kernel_aarch64_boot kernel_aarch64_fault_dump
  kernel_aarch64_bridge_ping_msix kernel_aarch64_gicv3_bridge_ping_intx)

set_tests_properties(${ORION_A64_TESTS} PROPERTIES
  TIMEOUT 120 SKIP_RETURN_CODE 77 LABELS "kernel;integration")
