# Cross toolchain for the Orion kernel on ppc64 (kernel/arch/ppc64/):
# Debian's gcc-powerpc64-linux-gnu.  Used by kernel/CMakeLists.txt twice: included
# to learn ORION_CROSS_CC (is the compiler on PATH?), then as the
# CMAKE_TOOLCHAIN_FILE of the cross build (kernel/cross/).
set(ORION_CROSS_CC powerpc64-linux-gnu-gcc)
set(ORION_CROSS_PKG powerpc64-linux-gnu)
if(NOT ORION_CROSS_PROBE_ONLY)
  set(CMAKE_SYSTEM_NAME Generic)
  set(CMAKE_SYSTEM_PROCESSOR powerpc64)
  set(CMAKE_C_COMPILER ${ORION_CROSS_CC})
  set(CMAKE_ASM_COMPILER ${ORION_CROSS_CC})
  # A freestanding kernel: CMake's test program must not need a C library.
  set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
  set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
endif()
