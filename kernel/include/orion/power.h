/*
 * Leaving the machine: orion_exit, orion_poweroff, orion_reboot and
 * orion_halt are the arch's (orion/arch.h).
 *
 * orion_exit(code) ends the QEMU run with a status that tells a test PASS
 * from FAIL; which status each code gives is declared per arch in
 * kernel/arch/<arch>/qemu.sh.  x86_64: the isa-debug-exit port (0xf4;
 * "-device isa-debug-exit,iobase=0xf4,iosize=0x04" makes QEMU exit with
 * (code << 1) | 1, so PASS = 33 and FAIL = 35); without that device the
 * kernel powers off instead (QEMU then exits 0).
 */
#ifndef ORION_POWER_H
#define ORION_POWER_H

#include "orion/arch.h"

#define ORION_EXIT_PASS 0x10
#define ORION_EXIT_FAIL 0x11

#endif
