# x86_64 boot tests (included by kernel/CMakeLists.txt with ORION_KERNEL_ELF
# set): the kernel under QEMU with a virtio-net-pci device.  KVM when
# /dev/kvm opens, TCG otherwise; the *_tcg variants force TCG so both paths
# are covered.  Skipped (exit 77) when qemu-system-x86_64 is missing.
set(ORION_BOOT_TEST ${ORION_KERNEL_DIR}/tests/boot_test.sh)
foreach(machine pc q35)
  add_test(NAME kernel_boot_${machine}
    COMMAND ${ORION_BOOT_TEST} --machine ${machine} --kernel ${ORION_KERNEL_ELF}
            --log ${CMAKE_CURRENT_BINARY_DIR}/boot-${machine}.log)
  add_test(NAME kernel_boot_${machine}_tcg
    COMMAND ${ORION_BOOT_TEST} --machine ${machine} --accel tcg --kernel ${ORION_KERNEL_ELF}
            --log ${CMAKE_CURRENT_BINARY_DIR}/boot-${machine}-tcg.log)
  set_tests_properties(kernel_boot_${machine} kernel_boot_${machine}_tcg PROPERTIES
    TIMEOUT 120 SKIP_RETURN_CODE 77 LABELS "kernel;integration")
endforeach()
# An unhandled exception must dump registers and exit with FAIL (35).
add_test(NAME kernel_fault_dump
  COMMAND ${ORION_BOOT_TEST} --machine pc --selftest fault --kernel ${ORION_KERNEL_ELF}
          --log ${CMAKE_CURRENT_BINARY_DIR}/boot-fault.log)
set_tests_properties(kernel_fault_dump PROPERTIES
  TIMEOUT 120 SKIP_RETURN_CODE 77 LABELS "kernel;integration")
