/*
 * Boot-time self-tests selected by selftest=NAME on the command line.
 * A test returns 0 for pass.  kmain runs the named test after boot and
 * leaves through orion_exit(ORION_EXIT_PASS or ORION_EXIT_FAIL), printing
 * "orion: selftest NAME PASS|FAIL" first.  "boot" is built in; others
 * (e.g. "net") are registered by whoever owns them before kmain runs the
 * tests, from an init hook (see kernel/README.md).
 */
#ifndef ORION_SELFTEST_H
#define ORION_SELFTEST_H

struct selftest {
	const char *name;
	int (*fn)(void);
};

int selftest_register(const struct selftest *t);
/* Run the named test; -1 if unknown, else its result. */
int selftest_run(const char *name);
void selftest_builtins_init(void);
/* selftest=ctrl (core/selftest_ctrl.c), registered by selftest_builtins_init. */
void selftest_ctrl_register(void);
void selftest_recover_register(void); /* selftest_recover.c: selftest=qreset */

/*
 * Late-init hooks: functions that run after all kernel services are up
 * and before self-tests/shell (e.g. probe virtio-net, register "vnet").
 * Declared weak so a subsystem can define orion_late_init() in its own
 * file without touching kmain.
 */
void orion_late_init(void);

#endif
