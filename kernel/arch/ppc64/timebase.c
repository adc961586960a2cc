/* Time from the timebase (mftb): 64-bit, frequency from the DTB's
 * /cpus/<cpu>/timebase-frequency (QEMU: 400 MHz). */
#include "e500.h"
#include "timebase.h"

static uint32_t tb_hz = E500_TB_FREQ_DEFAULT;
static uint64_t tb_at_entry;

void ppc_tb_init(uint32_t hz)
{
	if (hz)
		tb_hz = hz;
	tb_at_entry = ppc_mftb();
}

uint32_t ppc_tb_hz(void)
{
	return tb_hz;
}

uint64_t ppc_tb_to_ns(uint64_t ticks)
{
	/* Split to keep ticks * 1e9 from overflowing. */
	uint64_t s = ticks / tb_hz, r = ticks % tb_hz;
	return s * 1000000000ull + r * 1000000000ull / tb_hz;
}

uint64_t ppc_time_ns(void)
{
	return ppc_tb_to_ns(ppc_mftb());
}

uint64_t ppc_time_since_entry_ns(void)
{
	return ppc_tb_to_ns(ppc_mftb() - tb_at_entry);
}

void ppc_delay_ns(uint64_t ns)
{
	uint64_t end = ppc_time_ns() + ns;
	while (ppc_time_ns() < end)
		__asm__ volatile("or 1,1,1" ::: "memory");   /* low SMT priority hint */
}
