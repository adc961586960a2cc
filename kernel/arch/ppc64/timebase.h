#ifndef ORION_PPC64_TIMEBASE_H
#define ORION_PPC64_TIMEBASE_H
#include <stdint.h>
void ppc_tb_init(uint32_t hz);      /* 0 = keep the default */
uint32_t ppc_tb_hz(void);
uint64_t ppc_tb_to_ns(uint64_t ticks);
uint64_t ppc_time_ns(void);
uint64_t ppc_time_since_entry_ns(void);
void ppc_delay_ns(uint64_t ns);
#endif
