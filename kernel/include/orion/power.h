/*
 * Leaving the machine.
 *
 * orion_exit(code) first writes code to the isa-debug-exit port (0xf4):
 * with "-device isa-debug-exit,iobase=0xf4,iosize=0x04" QEMU exits with
 * status (code << 1) | 1.  Without that device the write is ignored and
 * the kernel powers off instead (QEMU then exits 0).
 */
#ifndef ORION_POWER_H
#define ORION_POWER_H

#define ORION_EXIT_PASS 0x10   /* QEMU status 33 */
#define ORION_EXIT_FAIL 0x11   /* QEMU status 35 */
#define ORION_DEBUG_EXIT_PORT 0xf4

__attribute__((noreturn)) void orion_exit(unsigned code);
/* ACPI S5 via FADT PM1a_CNT, then 0x604 (QEMU q35/pc with SeaBIOS PM base), 0xB004 (old QEMU). */
__attribute__((noreturn)) void orion_poweroff(void);
/* Keyboard controller 0xFE, then port 0xCF9, then a triple fault. */
__attribute__((noreturn)) void orion_reboot(void);
/* cli; hlt forever. */
__attribute__((noreturn)) void orion_halt(void);

#endif
