/*
 * Leaving the machine on aarch64 virt.
 *
 * orion_exit(code): QEMU's semihosting SYS_EXIT (ARM semihosting v2,
 * "SYS_EXIT (0x18)": on A64 the parameter block is {reason, subcode},
 * ADP_Stopped_ApplicationExit with the status as subcode) makes QEMU exit
 * with that status when it runs with
 * "-semihosting-config enable=on,target=native".  The status is
 * (code << 1) | 1, the same as x86's isa-debug-exit, so PASS is 33 and
 * FAIL 35 on every architecture.  Without semihosting the HLT traps
 * (exceptions.c skips it) and the kernel powers off through PSCI
 * SYSTEM_OFF (QEMU exits 0).
 * PSCI (DEN 0022): SYSTEM_OFF 0x84000008, SYSTEM_RESET 0x84000009, through
 * HVC or SMC as the DTB's /psci "method" says.
 */
#include <stdint.h>

#include "orion/power.h"
#include "aarch64.h"

#define SEMIHOST_SYS_EXIT 0x18
#define ADP_STOPPED_APPLICATION_EXIT 0x20026
#define PSCI_SYSTEM_OFF 0x84000008u
#define PSCI_SYSTEM_RESET 0x84000009u

static uint64_t psci_call(uint32_t fn)
{
	register uint64_t x0 __asm__("x0") = fn;
	if (!a64_plat.psci)
		return (uint64_t)-1;
	if (a64_plat.psci_smc)
		__asm__ volatile("smc #0" : "+r"(x0) :: "x1", "x2", "x3", "memory");
	else
		__asm__ volatile("hvc #0" : "+r"(x0) :: "x1", "x2", "x3", "memory");
	return x0;
}

void a64_semihost_exit(unsigned status)
{
	static volatile uint64_t block[2];
	block[0] = ADP_STOPPED_APPLICATION_EXIT;
	block[1] = status;
	register uint64_t x0 __asm__("x0") = SEMIHOST_SYS_EXIT;
	register uint64_t x1 __asm__("x1") = (uint64_t)(uintptr_t)block;
	__asm__ volatile("hlt #0xf000" : "+r"(x0) : "r"(x1) : "memory");
}

void orion_halt(void)
{
	__asm__ volatile("msr daifset, #0xf" ::: "memory");
	for (;;)
		__asm__ volatile("wfi");
}

void orion_poweroff(void)
{
	psci_call(PSCI_SYSTEM_OFF);
	orion_halt();
}

void orion_reboot(void)
{
	psci_call(PSCI_SYSTEM_RESET);
	orion_halt();
}

void orion_exit(unsigned code)
{
	a64_semihost_exit((code << 1) | 1);
	orion_poweroff();
}
