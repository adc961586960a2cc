/*
 * vnetd's counters, described once (name, offset) so the stats line on
 * SIGUSR1 and at exit, docs/vnetd.md and the tests use the same names.
 * One line, "vnetd[TAP]: WHAT key=value ...", on stdout, flushed.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>

#include "vnetd.h"

struct vnetd_stat_desc {
	const char *name;
	size_t off;
};

#define VNETD_STAT(f) {#f, offsetof(struct vnetd_stats, f)}
static const struct vnetd_stat_desc vnetd_stat_descs[] = {
	VNETD_STAT(tap_in_frames),        VNETD_STAT(tap_in_bytes),
	VNETD_STAT(port_out_frames),      VNETD_STAT(port_out_bytes),
	VNETD_STAT(port_in_frames),       VNETD_STAT(port_in_bytes),
	VNETD_STAT(tap_out_frames),       VNETD_STAT(tap_out_bytes),
	VNETD_STAT(drop_to_port_down),    VNETD_STAT(drop_to_port_too_long),
	VNETD_STAT(drop_to_port_bad_header), VNETD_STAT(drop_to_port_ring_full),
	VNETD_STAT(drop_to_port_refused), VNETD_STAT(drop_to_port_shutdown),
	VNETD_STAT(drop_to_tap_down),     VNETD_STAT(drop_to_tap_rejected),
	VNETD_STAT(drop_to_tap_error),    VNETD_STAT(drop_to_tap_segments),
	VNETD_STAT(port_out_csum),        VNETD_STAT(port_out_gso),
	VNETD_STAT(port_out_gso_bytes),   VNETD_STAT(tap_out_csum),
	VNETD_STAT(tap_out_csum_valid),   VNETD_STAT(tap_out_gso),
	VNETD_STAT(tap_out_gso_bytes),    VNETD_STAT(sw_csum),
	VNETD_STAT(backend_losses),       VNETD_STAT(backend_returns),
	VNETD_STAT(tap_read_errors),      VNETD_STAT(tap_wakeups),
};

void vnetd_stats_print(const struct vnetd *d, const char *what)
{
	printf("vnetd[%s]: %s", d->o.tap_name, what);
	for (size_t i = 0; i < sizeof(vnetd_stat_descs) / sizeof(vnetd_stat_descs[0]); i++) {
		const uint64_t *v = (const uint64_t *)((const char *)&d->st + vnetd_stat_descs[i].off);
		printf(" %s=%" PRIu64, vnetd_stat_descs[i].name, *v);
	}
	/* The port's and the driver core's own view: back-end sessions,
	 * interrupt-mode sleeps, frames the core dropped before vnetd saw
	 * them (a bad header from the back-end, rx_drops), frames sent through
	 * an indirect table. */
	struct vnet_port_stats ps;
	vnet_port_get_stats(d->port, &ps);
	struct vnet_net_queue_stats qs;
	vnet_net_get_stats(d->net, 0, &qs);
	printf(" connects=%" PRIu64 " disconnects=%" PRIu64 " inflight_reclaimed=%" PRIu64 " intr_sleeps=%" PRIu64
	       " intr_wakeups=%" PRIu64 " core_rx_drops=%" PRIu64 " core_rx_errors=%" PRIu64 " core_tx_errors=%" PRIu64
	       " core_rx_no_buf=%" PRIu64 " core_tx_indirect=%" PRIu64 "\n",
	       ps.connects, ps.disconnects, ps.inflight_reclaimed, ps.intr_sleeps, ps.intr_wakeups, qs.rx_drops,
	       qs.rx_errors, qs.tx_errors, qs.rx_no_buf, qs.tx_indirect);
	fflush(stdout);
}
