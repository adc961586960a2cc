/*
 * Calls into OpenSBI (RISC-V SBI spec 2.0): ecall with the extension id
 * in a7, the function id in a6, arguments in a0..a5; error in a0, value
 * in a1.  Used for the early console (before the DTB names the UART), the
 * timer (S-mode cannot write mtimecmp) and, without a test finisher,
 * system reset.  Any context; OpenSBI serialises on its side.
 */
#include <stdbool.h>

#include "riscv64/riscv.h"

struct sbiret sbi_ecall(long ext, long fid, unsigned long a0, unsigned long a1, unsigned long a2)
{
	register unsigned long r0 __asm__("a0") = a0;
	register unsigned long r1 __asm__("a1") = a1;
	register unsigned long r2 __asm__("a2") = a2;
	register unsigned long r6 __asm__("a6") = (unsigned long)fid;
	register unsigned long r7 __asm__("a7") = (unsigned long)ext;
	__asm__ volatile("ecall" : "+r"(r0), "+r"(r1) : "r"(r2), "r"(r6), "r"(r7) : "memory");
	return (struct sbiret){ .error = (long)r0, .value = (long)r1 };
}

/* Base extension, sbi_probe_extension (FID 3): non-zero value = present. */
bool sbi_has_extension(long ext)
{
	struct sbiret r = sbi_ecall(SBI_EXT_BASE, 3, (unsigned long)ext, 0, 0);
	return r.error == 0 && r.value != 0;
}

/* Legacy console putchar (EID 0x01): deprecated but present in every
 * OpenSBI QEMU ships, and needs no device knowledge. */
void sbi_console_putchar(int c)
{
	sbi_ecall(0x01, 0, (unsigned long)(unsigned char)c, 0, 0);
}

void sbi_set_timer(uint64_t stime)
{
	static int have_time = -1;
	if (have_time < 0)
		have_time = sbi_has_extension(SBI_EXT_TIME);
	if (have_time)
		sbi_ecall(SBI_EXT_TIME, 0, stime, 0, 0);
	else
		sbi_ecall(0x00, 0, stime, 0, 0);   /* legacy set_timer */
}

/* SRST system_reset (FID 0): type 0 shutdown, reason 0 none / 1 failure.
 * QEMU's virt machine then exits 0 either way: the reason is not visible
 * to the host, which is why orion_exit() prefers the test finisher. */
void sbi_shutdown(bool failure)
{
	if (sbi_has_extension(SBI_EXT_SRST))
		sbi_ecall(SBI_EXT_SRST, 0, 0, failure ? 1 : 0, 0);
	sbi_ecall(0x08, 0, 0, 0, 0);             /* legacy shutdown */
}
