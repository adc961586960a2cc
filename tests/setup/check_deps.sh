#!/usr/bin/env bash
# Checks that everything tests/setup/deps.list names is present, so a
# forgotten install step fails here, once, naming the Debian package,
# instead of as a dozen unrelated test failures.
#   check_deps.sh [deps.list]     exit 0 all present, 1 something missing
set -u
list=${1:-$(dirname "$0")/deps.list}
[ -r "$list" ] || { echo "setup: FAIL cannot read $list"; exit 1; }
missing=0 checked=0
while read -r kind name pkg _; do
	case "$kind" in ''|'#'*) continue ;; esac
	checked=$((checked + 1))
	case "$kind" in
	prog) command -v "$name" >/dev/null 2>&1 && continue ;;
	pc)   pkg-config --exists "$name" 2>/dev/null && continue ;;
	file) [ -e "$name" ] && continue ;;
	pkg)  dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q "install ok installed" && continue ;;
	*)    echo "setup: FAIL $list: unknown kind '$kind' for $name"; missing=$((missing + 1)); continue ;;
	esac
	echo "setup: MISSING $kind $name: install the Debian package '$pkg' (./vnet.sh setup does)"
	missing=$((missing + 1))
done <"$list"
if [ "$missing" -ne 0 ]; then
	echo "setup: FAIL $missing of $checked dependencies missing"
	exit 1
fi
echo "setup: PASS all $checked dependencies present"
