/*
 * vnetd's control socket (docs/management.md): the shared server
 * (tools/common/vnet_ctlsrv.h: SO_PEERCRED access control, the command
 * layer) over vnetd's host ops (vnetd_cmds.c), plus the one request vnetd
 * answers itself, "capture" (a stream: vnetd_capture.c).
 *
 * Served from the main loop between frame bursts: the listening socket is
 * non-blocking and polled with the TAP (vnetd.c).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "vnetd.h"
#include "vnetd_capture.h"

static bool ctl_special(void *arg, struct vnet_ctlsrv *s, int fd, const struct vnetctl_peer *peer, int argc,
			const char *const *argv)
{
	(void)s;
	if (strcmp(argv[0], "capture"))
		return false;
	vnetd_capture_request(arg, fd, peer, argc, argv);
	return true;
}

static void ctl_tick(void *arg)
{
	(void)arg;
	vnetd_capture_flush();
}

int vnetd_control_open(struct vnetd *d)
{
	d->ctl.fd = -1;
	if (!d->o.control_path)
		return 0;
	snprintf(d->ctl_tag, sizeof d->ctl_tag, "vnetd[%s]", d->o.tap_name);
	struct vnet_ctlsrv_cfg cfg = {
		.path = d->o.control_path,
		.group = d->o.control_group,
		.log_tag = d->ctl_tag,
		.ops = vnetd_host_ops(),
		.ops_arg = d,
		.allow_changes = true,
		.special = ctl_special,
		.tick = ctl_tick,
		.hook_arg = d,
	};
	return vnet_ctlsrv_open(&d->ctl, &cfg);
}

void vnetd_control_serve(struct vnetd *d)
{
	vnet_ctlsrv_serve(&d->ctl);
}

void vnetd_control_close(struct vnetd *d)
{
	vnet_ctlsrv_close(&d->ctl);
}
