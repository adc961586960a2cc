#!/usr/bin/env bash
# arch_neutral: the common kernel (everything under kernel/ except
# kernel/arch/) must not depend on an architecture (kernel/arch/README.md):
# no architecture header, no architecture #if, no instruction in inline asm.
# Exit 0 clean, 1 with the offending lines listed.
set -u
root=${1:?usage: arch_neutral.sh REPO_ROOT}
cd "$root/kernel" || exit 2
dirs=(core dev hal lib mm net include)
fail=0
report() {
	echo "arch_neutral: FAIL $1:"
	echo "$2"
	fail=1
}
out=$(grep -rnE '#include "(x86|arm|aarch64|riscv|ppc|powerpc)[^"]*/' "${dirs[@]}")
[ -z "$out" ] || report "an architecture header included from common code" "$out"
out=$(grep -rnE '^\s*#\s*(if|ifdef|ifndef|elif).*(__x86_64__|__i386__|__aarch64__|__arm__|__riscv|__powerpc|__PPC|_ARCH_PPC)' "${dirs[@]}")
[ -z "$out" ] || report "an architecture #if in common code" "$out"
# The one allowed asm: arch.h's empty optimisation barrier in phys_to_virt.
out=$(grep -rnE '__asm__|asm *\(' "${dirs[@]}" | grep -vE '__asm__\(""')
[ -z "$out" ] || report "inline asm with an instruction in common code" "$out"
[ "$fail" = 0 ] && echo "arch_neutral: PASS (kernel/{${dirs[*]}} name no architecture)"
exit "$fail"
