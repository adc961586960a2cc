# orion_kernel(<target> ARCH <arch> OUTPUT <file name>): the Orion kernel
# for one architecture, written once for the native build (kernel/
# CMakeLists.txt) and the cross builds (kernel/cross/CMakeLists.txt).
#
# kernel/arch/<arch>/arch.cmake defines ORION_ARCH_SOURCES, _CFLAGS,
# _ASMFLAGS, _LDFLAGS and _LINKER_SCRIPT (kernel/arch/README.md).  The
# arch's sources form their own object library: only they see
# kernel/arch/<arch>/include, so common code cannot include an arch header.
include_guard(GLOBAL)

set(ORION_KERNEL_DIR ${CMAKE_CURRENT_LIST_DIR})
file(GLOB ORION_COMMON_SOURCES CONFIGURE_DEPENDS
  ${ORION_KERNEL_DIR}/lib/*.c
  ${ORION_KERNEL_DIR}/mm/*.c
  ${ORION_KERNEL_DIR}/dev/*.c
  ${ORION_KERNEL_DIR}/core/*.c
  ${ORION_KERNEL_DIR}/net/*.c
  ${ORION_KERNEL_DIR}/hal/*.c)

# Every architecture: freestanding, frame pointers for panic backtraces,
# no PIC.  GCC must not turn lib/string.c's loops back into memset/memcpy
# calls.
set(ORION_COMMON_CFLAGS
  -ffreestanding -fno-builtin -nostdlib -fno-stack-protector
  -fno-pic -fno-pie -fno-omit-frame-pointer
  -fno-asynchronous-unwind-tables -fno-unwind-tables ${VNET_WARN_FLAGS})
if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
  list(APPEND ORION_COMMON_CFLAGS -fno-tree-loop-distribute-patterns)
endif()

function(orion_kernel target)
  cmake_parse_arguments(A "" "ARCH;OUTPUT" "" ${ARGN})
  set(ORION_ARCH_DIR ${ORION_KERNEL_DIR}/arch/${A_ARCH})
  unset(ORION_ARCH_SOURCES)
  unset(ORION_ARCH_CFLAGS)
  unset(ORION_ARCH_ASMFLAGS)
  unset(ORION_ARCH_LDFLAGS)
  unset(ORION_ARCH_LINKER_SCRIPT)
  include(${ORION_ARCH_DIR}/arch.cmake)
  set(cflags ${ORION_COMMON_CFLAGS} ${ORION_ARCH_CFLAGS})

  add_library(${target}-arch OBJECT ${ORION_ARCH_SOURCES})
  target_include_directories(${target}-arch PRIVATE
    ${ORION_ARCH_DIR}/include ${ORION_KERNEL_DIR}/include ${ORION_KERNEL_DIR}/hal ${VNET_ROOT}/include)
  target_compile_options(${target}-arch PRIVATE
    $<$<COMPILE_LANGUAGE:C>:${cflags}>
    $<$<COMPILE_LANGUAGE:ASM>:${ORION_ARCH_ASMFLAGS}>)

  add_executable(${target} ${ORION_COMMON_SOURCES} $<TARGET_OBJECTS:${target}-arch>)
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME ${A_OUTPUT}
    SUFFIX ""
    LINK_DEPENDS ${ORION_ARCH_LINKER_SCRIPT}
    POSITION_INDEPENDENT_CODE OFF)
  target_include_directories(${target} PRIVATE
    ${ORION_KERNEL_DIR}/include ${ORION_KERNEL_DIR}/hal ${VNET_ROOT}/include)
  target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:C>:${cflags}>)
  # One RWX segment is deliberate (see the linker scripts); newer ld warns.
  # Asked of the linker itself: check_linker_flag cannot link a test
  # program with a freestanding cross toolchain.
  if(NOT DEFINED ORION_LD_NO_RWX_WARN)
    execute_process(COMMAND ${CMAKE_C_COMPILER} -Wl,--help OUTPUT_VARIABLE ld_help ERROR_QUIET)
    string(FIND "${ld_help}" "no-warn-rwx-segments" pos)
    if(pos GREATER -1)
      set(ORION_LD_NO_RWX_WARN ON CACHE INTERNAL "ld knows --no-warn-rwx-segments")
    else()
      set(ORION_LD_NO_RWX_WARN OFF CACHE INTERNAL "ld knows --no-warn-rwx-segments")
    endif()
  endif()
  if(ORION_LD_NO_RWX_WARN)
    target_link_options(${target} PRIVATE -Wl,--no-warn-rwx-segments)
  endif()
  target_link_options(${target} PRIVATE
    -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,noexecstack
    ${ORION_ARCH_LDFLAGS} -Wl,-T,${ORION_ARCH_LINKER_SCRIPT})

  # The driver core, compiled again with the kernel's flags: the project's
  # libvnet-core.a is built for the host ABI (x86_64: with the red zone and
  # maybe SSE code, both of which break in a kernel).  Archive members are
  # only pulled in when the kernel references them.
  vnet_add_core(${target}-vnet-core KIND STATIC FLAGS ${cflags})
  # The management command layer (src/mgmt) with the same flags, for the
  # shell's virtio_net_* commands (kernel/core/mgmt_shell.c).
  vnet_add_mgmt(${target}-vnet-mgmt KIND STATIC FLAGS ${cflags})
  # The configuration schema (src/conf: toml.c, vnet_config.c, the same
  # code vnetd uses) for the initrd's file (kernel/core/config.c).  Built
  # here rather than with vnet_add_conf so the cross builds, which do not
  # read src/conf/CMakeLists.txt, get it too.
  file(GLOB conf_srcs CONFIGURE_DEPENDS ${VNET_ROOT}/src/conf/*.c)
  add_library(${target}-vnet-conf STATIC ${conf_srcs})
  target_include_directories(${target}-vnet-conf PRIVATE ${VNET_ROOT}/include)
  target_compile_options(${target}-vnet-conf PRIVATE ${cflags})
  target_link_libraries(${target} PRIVATE ${target}-vnet-mgmt ${target}-vnet-core ${target}-vnet-conf)
  # libgcc for the compiler's helper calls (128-bit division on some arches).
  target_link_libraries(${target} PRIVATE gcc)
endfunction()
