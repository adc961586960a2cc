/*
 * Shared by the virtio-net layer tests (test_net.c, test_net_offload.c,
 * test_net_recover.c, test_net_bounce.c, test_net_ctrl.c): the end of a
 * fixture, with the checks every test ends on.  Header-only (like
 * test_vq_common.h) so each test_*.c stays one executable.
 */
#ifndef VNET_TEST_NET_COMMON_H
#define VNET_TEST_NET_COMMON_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fake_hal.h"
#include "netdev_model.h"
#include "vnet/net.h"

/* Destroy *net and check that everything came back: the live DMA and
 * private allocations are as they were before bring-up (dma0, priv0), and
 * neither the device model nor its transport saw a violation; then the
 * model is finished. */
static void net_fx_teardown(struct vnet_net **net, struct netdev_model *m, size_t dma0, size_t priv0)
{
	vnet_net_destroy(*net);
	*net = NULL;
	assert_int_equal(fake_hal_live_dma(), dma0);
	assert_int_equal(fake_hal_live_private(), priv0);
	if (m->violations)
		fail_msg("device model: %u violations, last: %s", m->violations, m->last_violation);
	if (m->ft.violations)
		fail_msg("transport: %u violations, last: %s", m->ft.violations, m->ft.last_violation);
	ndm_fini(m);
}

#endif
