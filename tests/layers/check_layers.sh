#!/usr/bin/env bash
# layer_rules: the dependency rules of docs/design.md, checked on the source
# tree like core_undefined_symbols checks the archive.  Each rule prints the
# offending lines; exit 1 if any rule is broken.
#   check_layers.sh [SOURCE_DIR]
set -u
top=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$top" || exit 1
fail=0

# rule NAME MESSAGE -- grep-args...: fails when grep finds anything.
rule() {
	local name=$1 msg=$2
	shift 3
	local hits
	hits=$(grep -rnE "$@" 2>/dev/null)
	if [ -n "$hits" ]; then
		printf 'layers: FAIL %s: %s\n' "$name" "$msg"
		printf '%s\n' "$hits" | head -20
		fail=1
	else
		printf 'layers: ok   %s\n' "$name"
	fi
}

c_files="--include=*.c --include=*.h"
# shellcheck disable=SC2086
{
rule net-private "src/net uses the device layer only through its API (no core/*_priv.h)" -- \
	$c_files '#[[:space:]]*include[[:space:]]*"core/[a-z_]*_priv\.h"' src/net
rule device-neutral "src/core and src/transport know no device type (no virtio-net names)" -- \
	$c_files '(VIRTIO_[A-Z_]*NET[A-Z0-9_]*|[a-z_]*virtio_net[a-z0-9_]*|vnet_net[a-z0-9_]*|spec/virtio_net\.h|vnet/net\.h)' \
	src/core src/transport
rule no-kernel-headers "nothing under src/ or platform/linux includes the Orion kernel's headers" -- \
	$c_files '#[[:space:]]*include[[:space:]]*[<"]orion/' src platform/linux
rule no-registers "no register access outside the transports (src/core, src/net)" -- \
	$c_files '#[[:space:]]*include[[:space:]]*"(vnet/)?(vnet_hal_pci|vnet_mmio|virtio_pci|virtio_mmio)\.h"' src/core src/net
rule down-only "the virtqueue engine and transports do not include the net layer" -- \
	$c_files '#[[:space:]]*include[[:space:]]*"(vnet/)?(net|vnet_port)\.h"' src/core src/transport
rule conf-public "src/conf (TOML reader, configuration schema) uses the public headers only, no driver internals" -- \
	$c_files '#[[:space:]]*include[[:space:]]*"(core|net|transport)/' src/conf
rule conf-on-top "the driver layers do not include the configuration layer (src/conf sits above them)" -- \
	$c_files '#[[:space:]]*include[[:space:]]*"(vnet/toml\.h|vnet/vnet_config\.h|conf/)' src/core src/net src/transport
rule mgmt-public-api "src/mgmt sits above src/net and uses only the public API (include/vnet), no private header" -- \
	$c_files '#[[:space:]]*include[[:space:]]*"(core|net|transport)/|#[[:space:]]*include[[:space:]]*"(device|vq|net|net_ctrl)_priv\.h"' \
	src/mgmt
rule mgmt-above "nothing below src/mgmt includes the management layer" -- \
	$c_files '#[[:space:]]*include[[:space:]]*"(vnet/)?mgmt(_priv)?\.h"' src/core src/net src/transport
}
# The freestanding rule needs a negative match; grep -v after the fact.
bad=$(grep -rnE --include=*.c --include=*.h '#[[:space:]]*include[[:space:]]*<' src |
	grep -vE '<(stdint|stddef|stdbool|stdarg|stdatomic)\.h>')
if [ -n "$bad" ]; then
	printf 'layers: FAIL freestanding-headers: src/ may include only <stdint.h> <stddef.h> <stdbool.h> <stdarg.h> <stdatomic.h>\n%s\n' "$bad"
	fail=1
else
	echo "layers: ok   freestanding-headers"
fi
[ "$fail" -eq 0 ] && echo "layers: PASS" || echo "layers: FAIL (see docs/design.md, 'Layers and what each may include')"
exit "$fail"
