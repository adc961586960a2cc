#!/usr/bin/env bash
# install_consumer: `cmake --install` the build into a scratch prefix, then
# build tests/install/consumer.c against it three ways (CMake package,
# static and shared; pkg-config) and run each.  Also checks that headers
# of what libvnet does not implement (PCI, MMIO) are not installed.
#   check_install.sh BUILD_DIR SCRATCH_DIR
set -eu
build=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >"$work/install.log"
fail=0
for h in vnet/virtio_pci.h vnet/vnet_hal_pci.h vnet/vnet_mmio.h; do
	if [ -e "$prefix/include/$h" ]; then echo "install: FAIL $h installed, but libvnet has no PCI/MMIO transport"; fail=1; fi
done
for h in vnet/net.h vnet/vnet_port.h vnet/vnet_linux.h vnet/vnet_hal.h; do
	[ -e "$prefix/include/$h" ] || { echo "install: FAIL $h not installed"; fail=1; }
done
# CMake package.
mkdir -p "$work/cmake-src"
sed "s|@SRC@|$here/consumer.c|" "$here/CMakeLists.txt.in" >"$work/cmake-src/CMakeLists.txt"
cmake -S "$work/cmake-src" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" >"$work/consumer-cmake.log" 2>&1 ||
	{ cat "$work/consumer-cmake.log"; echo "install: FAIL find_package(vnet)"; exit 1; }
cmake --build "$work/cmake-build" >>"$work/consumer-cmake.log" 2>&1 ||
	{ cat "$work/consumer-cmake.log"; echo "install: FAIL building against vnet::vnet"; exit 1; }
"$work/cmake-build/consumer_static" || fail=1
LD_LIBRARY_PATH=$prefix/lib "$work/cmake-build/consumer_shared" || fail=1
if ldd "$work/cmake-build/consumer_static" | grep -q libvnet; then echo "install: FAIL vnet::vnet linked the shared library"; fail=1; fi
# pkg-config.
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
# shellcheck disable=SC2046
gcc -std=c11 -o "$work/consumer_pc" "$here/consumer.c" $(pkg-config --cflags --libs libvnet) ||
	{ echo "install: FAIL building with pkg-config libvnet"; exit 1; }
export LD_LIBRARY_PATH=$prefix/lib
"$work/consumer_pc" || fail=1
[ "$fail" -eq 0 ] && echo "install: PASS find_package(vnet) static+shared and pkg-config libvnet"
exit "$fail"
