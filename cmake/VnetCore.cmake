# How the driver core is compiled, written once.
#
# The same sources (src/core, src/net, src/transport/*) are built for each
# consumer with that consumer's flags:
#   vnet-core-objs     freestanding, for libvnet-core.a (the embeddable core)
#   vnet-core-test     hosted, sanitized: unit tests with the fake HAL
#   vnet-core-kernel   the Orion kernel's flags (no red zone, no SSE)
#   vnet-linux-objs    hosted, position independent: libvnet.a / libvnet.so
#   vnet-linux-test    hosted, sanitized: the Linux platform's tests
# Each calls vnet_add_core() below; nothing else lists core sources or the
# warning flags.
include_guard(GLOBAL)

file(GLOB VNET_CORE_SOURCES CONFIGURE_DEPENDS
  ${PROJECT_SOURCE_DIR}/src/core/*.c
  ${PROJECT_SOURCE_DIR}/src/net/*.c
  ${PROJECT_SOURCE_DIR}/src/transport/*/*.c)

# Warnings every copy of the core is built with (the core must compile
# clean under each consumer's flags).
set(VNET_WARN_FLAGS -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -fno-strict-aliasing)
# The embeddable core: no libc, no builtins turned into libc calls, no
# stack protector runtime, one section per function so a consumer's
# --gc-sections drops what it does not reference.
set(VNET_FREESTANDING_FLAGS -ffreestanding -fno-builtin -nostdlib -fno-stack-protector
    -ffunction-sections -fdata-sections)
set(VNET_SAN_FLAGS "")
if(VNET_SANITIZE)
  set(VNET_SAN_FLAGS -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
endif()

# vnet_add_core(<target> KIND OBJECT|STATIC
#               [FLAGS <compile options...>] [LINK_OPTIONS <...>]
#               [EXCLUDE_TRANSPORTS <pci|mmio|vhost_user>...]
#               [SOURCES <further sources>...] [INCLUDES <private include dirs>...]
#               [PIC])
# Defines <target> from the core sources (minus the excluded transports,
# for hosts without their HAL) plus SOURCES, with include/ public and src/
# private.  LINK_OPTIONS propagate to whoever links <target> (sanitizers).
function(vnet_add_core target)
  cmake_parse_arguments(A "PIC" "KIND" "FLAGS;LINK_OPTIONS;EXCLUDE_TRANSPORTS;SOURCES;INCLUDES" ${ARGN})
  if(NOT A_KIND)
    message(FATAL_ERROR "vnet_add_core(${target}): KIND OBJECT or STATIC")
  endif()
  set(srcs ${VNET_CORE_SOURCES})
  foreach(t IN LISTS A_EXCLUDE_TRANSPORTS)
    list(FILTER srcs EXCLUDE REGEX "/src/transport/${t}/")
  endforeach()
  add_library(${target} ${A_KIND} ${srcs} ${A_SOURCES})
  target_include_directories(${target}
    PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    PRIVATE ${PROJECT_SOURCE_DIR}/src ${A_INCLUDES})
  target_compile_options(${target} PRIVATE ${A_FLAGS})
  if(A_LINK_OPTIONS)
    target_link_options(${target} PUBLIC ${A_LINK_OPTIONS})
  endif()
  if(A_PIC)
    set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  endif()
endfunction()

# The management command layer (src/mgmt, vnet/mgmt.h): above src/net,
# public API only, compiled per consumer like the core; whoever links it
# links a copy of the core too.
file(GLOB VNET_MGMT_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/mgmt/*.c)

# vnet_add_mgmt(<target> KIND OBJECT|STATIC [FLAGS <...>] [LINK_OPTIONS <...>] [PIC])
function(vnet_add_mgmt target)
  cmake_parse_arguments(A "PIC" "KIND" "FLAGS;LINK_OPTIONS" ${ARGN})
  add_library(${target} ${A_KIND} ${VNET_MGMT_SOURCES})
  target_include_directories(${target}
    PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(${target} PRIVATE ${A_FLAGS})
  if(A_LINK_OPTIONS)
    target_link_options(${target} PUBLIC ${A_LINK_OPTIONS})
  endif()
  if(A_PIC)
    set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  endif()
endfunction()
