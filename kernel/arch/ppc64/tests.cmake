# ppc64 (big-endian e5500 on QEMU ppce500, always TCG): the UDP echo through
# virtio-net-pci with split and with packed rings - 300 datagrams of sizes
# 1..1472, every byte checked - plus the exception paths.  Included by
# kernel/CMakeLists.txt with ORION_KERNEL_ELF set.
set(ppc_echo ${CMAKE_SOURCE_DIR}/tests/integration/kernel_udp_echo.sh)
add_test(NAME kernel_ppc64_pci_echo_split
  COMMAND ${ppc_echo} --kernel ${ORION_KERNEL_ELF} --arch ppc64 --transport pci --count 300
          --log ${CMAKE_CURRENT_BINARY_DIR}/ppc64-echo-split.log)
add_test(NAME kernel_ppc64_pci_echo_packed
  COMMAND ${ppc_echo} --kernel ${ORION_KERNEL_ELF} --arch ppc64 --transport pci --count 300
          --dev-opts ,packed=on --log ${CMAKE_CURRENT_BINARY_DIR}/ppc64-echo-packed.log)
set_tests_properties(kernel_ppc64_pci_echo_split kernel_ppc64_pci_echo_packed PROPERTIES
  TIMEOUT 240 SKIP_RETURN_CODE 77 LABELS "kernel;integration")
# The same echo with the other interrupt paths: INTx through the MPIC
# (vectors=0: the device has no MSI-X) and polling (mode=poll).
add_test(NAME kernel_ppc64_pci_echo_intx
  COMMAND ${ppc_echo} --kernel ${ORION_KERNEL_ELF} --arch ppc64 --transport pci --count 300
          --dev-opts ,vectors=0 --expect "^vnet0: up .* mode intx"
          --log ${CMAKE_CURRENT_BINARY_DIR}/ppc64-echo-intx.log)
add_test(NAME kernel_ppc64_pci_echo_poll
  COMMAND ${ppc_echo} --kernel ${ORION_KERNEL_ELF} --arch ppc64 --transport pci --count 300
          --append mode=poll --expect "^vnet0: up .* mode poll"
          --log ${CMAKE_CURRENT_BINARY_DIR}/ppc64-echo-poll.log)
# selftest=boot (exceptions, MSI-X, the virtio-net function through the
# HAL) and an unhandled exception's register dump ending in FAIL.
set(ppc_boot ${ORION_KERNEL_DIR}/arch/ppc64/tests/boot_test.sh)
add_test(NAME kernel_ppc64_boot
  COMMAND ${ppc_boot} --kernel ${ORION_KERNEL_ELF} --selftest boot
          --log ${CMAKE_CURRENT_BINARY_DIR}/ppc64-boot.log)
add_test(NAME kernel_ppc64_fault_dump
  COMMAND ${ppc_boot} --kernel ${ORION_KERNEL_ELF} --selftest fault
          --log ${CMAKE_CURRENT_BINARY_DIR}/ppc64-fault.log)
set_tests_properties(kernel_ppc64_pci_echo_intx kernel_ppc64_pci_echo_poll
                     kernel_ppc64_boot kernel_ppc64_fault_dump PROPERTIES
  TIMEOUT 240 SKIP_RETURN_CODE 77 LABELS "kernel;integration")
