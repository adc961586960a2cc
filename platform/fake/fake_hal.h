/*
 * Fake platform for unit tests (user space, libc).  Implements vnet_hal.h
 * with bookkeeping that makes driver mistakes visible:
 *  - DMA memory gets an iova that differs from its virtual address, so a
 *    driver that hands the device a pointer instead of an iova is caught;
 *    the device model translates iovas with fake_hal_iova_to_va(), which
 *    refuses any range outside a live allocation;
 *  - every allocation is counted, so a test can assert nothing leaked;
 *  - allocations can be made to fail after N successes;
 *  - time can advance by a fixed step on every vnet_hal_relax(), so bounded
 *    waits end quickly and deterministically in tests.
 */
#ifndef VNET_FAKE_HAL_H
#define VNET_FAKE_HAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Device view of [iova, iova+len): NULL unless wholly inside one live DMA allocation. */
void *fake_hal_iova_to_va(uint64_t iova, size_t len);
/* Live allocations (DMA + private). */
size_t fake_hal_live_dma(void);
size_t fake_hal_live_private(void);
/* Make the next n allocations succeed and every later one fail; -1 = never fail. */
void fake_hal_fail_alloc_after(long n);
/* Add step_ns to the clock at every vnet_hal_relax() (0 = real time only). */
void fake_hal_set_relax_step_ns(uint64_t step_ns);
/* Manual clock: vnet_hal_time_ns() stands still (from now on) except for
 * fake_hal_advance_ns() and the relax step; off: the real clock again. */
void fake_hal_clock_manual(bool on);
void fake_hal_advance_ns(uint64_t ns);
/* Last line logged at or above a level, and a count of lines logged. */
const char *fake_hal_last_log(void);
unsigned long fake_hal_log_count(void);
/* Lines logged at exactly this level (VNET_LOG_ERR .. VNET_LOG_DEBUG). */
unsigned long fake_hal_log_count_level(int level);
/* Print logs to stderr (default off; ORION_VNET_TEST_VERBOSE=1 turns it on). */
void fake_hal_set_echo(int on);

#endif
