# The Orion kernel on x86_64 is built natively (kernel/CMakeLists.txt, the
# host compiler on an x86_64 host).  This file exists for a cross build of
# it from another host: Debian's gcc-x86-64-linux-gnu.
set(ORION_CROSS_CC x86_64-linux-gnu-gcc)
set(ORION_CROSS_PKG x86-64-linux-gnu)
if(NOT ORION_CROSS_PROBE_ONLY)
  set(CMAKE_SYSTEM_NAME Generic)
  set(CMAKE_SYSTEM_PROCESSOR x86_64)
  set(CMAKE_C_COMPILER ${ORION_CROSS_CC})
  set(CMAKE_ASM_COMPILER ${ORION_CROSS_CC})
  set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
  set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
endif()
