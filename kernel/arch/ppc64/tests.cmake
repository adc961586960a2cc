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
