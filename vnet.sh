#!/usr/bin/env bash
# orion-vnet: one entry point for newcomers and CI.
#
#   ./vnet.sh demo    install what is needed, build, boot the Orion kernel under
#                     QEMU with virtio-net-pci and pass real traffic (main job)
#   ./vnet.sh test    install what is needed, build (ASan+UBSan), run every test
#   ./vnet.sh setup   only install the packages
#   ./vnet.sh build   only configure and build into build/
#
# Package installation uses apt-get (as root, or through sudo).
set -euo pipefail
cd "$(dirname "$0")"

# The Debian packages come from tests/setup/deps.list (third column), the
# same list the setup_deps CTest checks, so installing and checking cannot
# drift apart.
mapfile -t PACKAGES < <(awk '!/^[[:space:]]*(#|$)/ {print $3}' tests/setup/deps.list | sort -u)

need_install() {
	local missing=()
	for p in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	printf '%s\n' "${missing[@]}"
}

setup() {
	mapfile -t missing < <(need_install)
	if [ "${#missing[@]}" -eq 0 ] || [ -z "${missing[0]}" ]; then
		echo "vnet.sh: all packages present"
		return
	fi
	echo "vnet.sh: installing ${missing[*]}"
	local sudo=()
	[ "$(id -u)" -eq 0 ] || sudo=(sudo)
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

build() {
	cmake -S . -B build -DVNET_SANITIZE=ON >/dev/null
	cmake --build build -j"$(nproc)"
}

case "${1:-}" in
setup) setup ;;
build) setup; build ;;
test)
	setup
	build
	ctest --test-dir build --output-on-failure -j2 "${@:2}"
	;;
demo)
	setup
	build
	exec kernel/tests/demo.sh "${@:2}"
	;;
*)
	sed -n '2,12p' "$0"
	exit 2
	;;
esac
