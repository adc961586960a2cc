/*
 * orion-vnet management commands, host-neutral (src/mgmt, docs/management.md):
 * the 13 virtio_net_* commands (and their short aliases, and `help`) parsed
 * from argv, validated, executed over the vnet_net API (vnet/net.h,
 * vnet/net_ctrl.h) and a small host ops table, and printed as aligned text
 * or one JSON object (`--json`) through a caller-supplied sink.
 *
 * Rules every command keeps:
 *  - validation first: an unknown command, device, queue, feature (name or
 *    bit) or value is an error message and nothing is changed;
 *  - output is streamed through vnet_mgmt_sink in bounded pieces; nothing
 *    is allocated; a command's text and JSON carry the same fields;
 *  - an error prints "error: <text>" (text) or {"ok":false,"command":...,
 *    "error":"<text>","code":"<vnet_strerror>"} (JSON) and returns a
 *    negative vnet_err.
 * Context: control path.  The host serialises calls with each other and
 * with its data path as it does for other control calls (the kernel runs
 * a command with interrupts off); commands may busy-wait, bounded by the
 * device's timeout.  Freestanding: no libc beyond mem*.
 */
#ifndef VNET_MGMT_H
#define VNET_MGMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net.h"

#define VNET_MGMT_DEVS_MAX 16u    /* devices whose rate baselines are kept */
#define VNET_MGMT_NAME_MAX 16u    /* device name bytes, NUL included */

/* Where output goes: called with pieces of at most a few hundred bytes. */
struct vnet_mgmt_sink {
	void (*write)(void *arg, const char *s, size_t n);
	void *arg;
};

/* Counters the host keeps itself (optional, shown by performance_stats and
 * device_info): e.g. the kernel's MSI-X entry counts. */
struct vnet_mgmt_host_counters {
	uint64_t interrupts;     /* every interrupt the host took for the device */
	uint64_t deferred;       /* receive work deferred past a handler's budget */
	uint64_t tx_nobuf;       /* frames the host could not queue (no buffer / ring slot) */
};

struct vnet_mgmt_host_ops {
	/* The device called name, or NULL (unknown or not up). */
	struct vnet_net *(*find)(void *arg, const char *name);
	/* Device names in host order: the i-th, or NULL past the end. */
	const char *(*name_at)(void *arg, unsigned i);
	/* Orderly teardown of one device: every buffer returned, the device
	 * reset, the name freed.  VNET_OK or a negative vnet_err.  NULL: the
	 * host cannot remove devices (VNET_ENOTSUP). */
	int (*remove)(void *arg, const char *name);
	/* Monotonic clock, nanoseconds (performance_stats rates). */
	uint64_t (*now_ns)(void *arg);
	/* Optional (NULL): the host's own counters of a device; false = none. */
	bool (*host_counters)(void *arg, const char *name, struct vnet_mgmt_host_counters *c);
	/* Optional (NULL): told after a command changed the queue pairs in
	 * use or restarted the device (the host re-reads info, e.g. pairs). */
	void (*changed)(void *arg, const char *name);
	/* Optional (NULL): the i-th configuration value of a device (device_info
	 * "config": key, effective value, where it came from: "file",
	 * "cmdline" or "default"); false past the end. */
	bool (*config_at)(void *arg, const char *name, unsigned i, const char **key, const char **value,
			  const char **source);
};

/* One device's state kept between calls (performance_stats baselines,
 * the wanted feature set after feature_set).  Private to src/mgmt. */
struct vnet_mgmt_slot {
	char name[VNET_MGMT_NAME_MAX];
	bool used, have_base, have_wanted;
	uint64_t base_ns;
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes, drops, errors;
	uint64_t rx_interrupts, tx_interrupts, rx_irq_packets, host_interrupts;
	uint64_t wanted;
	/* performance monitor: EWMA (weight 1/4) of the device's interval rates
	 * (packets and events in 1/100 per second, bytes per second), and per
	 * queue pair baselines of the first VNET_MGMT_PERF_QMAX pairs */
	bool have_ewma;
	uint64_t ewma[6];
	struct vnet_mgmt_qbase {
		uint64_t rx_packets, tx_packets, rx_bytes, tx_bytes, drops, errors, polls, rx_interrupts,
			rx_irq_packets;
	} qbase[8];
};
#define VNET_MGMT_PERF_QMAX 8u

struct vnet_mgmt {
	const struct vnet_mgmt_host_ops *ops;
	void *arg;
	struct vnet_mgmt_slot slot[VNET_MGMT_DEVS_MAX];
};

void vnet_mgmt_init(struct vnet_mgmt *m, const struct vnet_mgmt_host_ops *ops, void *arg);

/*
 * Run one command: argv[0] is the command (full name or alias), the rest
 * its arguments; `--json` anywhere selects JSON.  Returns VNET_OK, or a
 * negative vnet_err (the error was printed).  argv is not modified.
 */
int vnet_mgmt_run(struct vnet_mgmt *m, int argc, const char *const *argv, const struct vnet_mgmt_sink *out);

/* The command table, for hosts that register each name (the kernel shell)
 * and for access control (vnetctl: read-only commands for the group). */
struct vnet_mgmt_cmd_info {
	const char *name;        /* "virtio_net_device_info" */
	const char *alias;       /* "devinfo" */
	const char *usage;       /* arguments, e.g. "[DEV] [--json]" */
	const char *summary;     /* one line */
	bool changes;            /* changes device state (false: read-only) */
};
const struct vnet_mgmt_cmd_info *vnet_mgmt_commands(size_t *n);
/* The entry for a full name or alias, NULL if none ("help" is read-only
 * and has an entry too). */
const struct vnet_mgmt_cmd_info *vnet_mgmt_lookup(const char *name);

/* Forget a device's baselines (the host calls it when a device goes). */
void vnet_mgmt_forget(struct vnet_mgmt *m, const char *name);

#endif
