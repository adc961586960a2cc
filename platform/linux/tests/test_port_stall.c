/*
 * Recovery in the vhost-user port: a back-end that stays connected but
 * stops processing (tests/integration/vhost/bad_backend.py --fault good:
 * it answers every control message and never touches a ring).
 *
 * Checked: with transmit work pending and no completion for the port's
 * stall_timeout_ms, the TX watchdog counts a back-end stall
 * (VNET_RECOVER_BACKEND_STALL) and recovers by a device reset and re-init
 * over the same connection; the back-end keeps stalling, so after the
 * streak limit the port gives up on it and disconnects (stall_gave_up),
 * every buffer back in the pool; the counters agree with each other.
 * Needs python3 (Debian: python3); skipped (77) without it.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "vnet/net.h"
#include "vnet/net_recover.h"
#include "vnet/virtqueue.h"
#include "vnet/vnet_port.h"

static char backend_py[512];

static void find_backend(void)
{
	/* __FILE__ is platform/linux/tests/test_port_stall.c under the source root. */
	snprintf(backend_py, sizeof(backend_py), "%s", __FILE__);
	char *cut = strstr(backend_py, "platform/linux/tests/");
	assert_non_null(cut);
	snprintf(cut, sizeof(backend_py) - (size_t)(cut - backend_py), "tests/integration/vhost/bad_backend.py");
}

static pid_t start_backend(const char *sock)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execlp("python3", "python3", backend_py, sock, "--fault", "good", "--timeout", "30", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200; i++) {
		struct stat st;
		if (stat(sock, &st) == 0 && S_ISSOCK(st.st_mode))
			return pid;
		struct timespec ts = {0, 20000000};
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	fail_msg("bad_backend.py did not listen on %s", sock);
	return -1;
}

static uint32_t pool_total(struct vnet_net *net)
{
	return vnet_net_pool_free_count(net) + vnet_vq_outstanding(vnet_net_rxq(net, 0)) +
	       vnet_vq_outstanding(vnet_net_txq(net, 0));
}

static void test_backend_stall(void **state)
{
	(void)state;
	char sock[64];
	snprintf(sock, sizeof(sock), "/tmp/recover-stall-%d.sock", (int)getpid());
	pid_t be = start_backend(sock);
	struct vnet_port_opts o;
	memset(&o, 0, sizeof(o));
	o.socket_path = sock;
	o.queue_size = 64;
	o.stall_timeout_ms = 100;
	o.reconnect_ms = 60000; /* no reconnect within the test */
	struct vnet_port *port = NULL;
	int rc = vnet_port_open(&o, &port);
	if (rc != VNET_OK) {
		kill(be, SIGKILL);
		waitpid(be, NULL, 0);
		fail_msg("vnet_port_open against bad_backend.py: %s", vnet_strerror(rc));
	}
	struct vnet_net *net = vnet_port_net(port);
	uint32_t total = pool_total(net);
	struct vnet_port_stats ps;
	memset(&ps, 0, sizeof(ps));
	/* Keep one frame pending; the back-end never completes it. */
	for (int it = 0; it < 2000 && ps.stall_gave_up == 0; it++) {
		if (vnet_port_is_up(port) && vnet_vq_outstanding(vnet_net_txq(net, 0)) == 0) {
			struct vnet_pkt *p = vnet_net_pkt_alloc(net);
			assert_non_null(p);
			memset(p->data, 0xee, 60);
			p->len = 60;
			if (vnet_net_tx_burst(net, 0, &p, 1) != 1)
				vnet_net_pkt_free(net, p);
		}
		(void)vnet_port_service(port, 5);
		vnet_port_get_stats(port, &ps);
	}
	struct vnet_net_recover_stats rs;
	vnet_net_recover_get_stats(net, &rs);
	printf("stalls %lu gave_up %lu device_resets %lu fails %lu reclaimed %lu streak %u\n", (unsigned long)ps.stalls,
	       (unsigned long)ps.stall_gave_up, (unsigned long)rs.device_resets, (unsigned long)rs.device_reset_fails,
	       (unsigned long)rs.reclaimed, rs.streak);
	assert_int_equal(ps.stall_gave_up, 1);
	assert_true(rs.dead);
	assert_false(vnet_port_is_up(port));
	/* Every attempt was a back-end stall, each a device reset over the
	 * same connection that worked until the limit. */
	assert_int_equal(rs.by_cause[VNET_RECOVER_BACKEND_STALL], ps.stalls);
	assert_int_equal(rs.by_cause[VNET_RECOVER_TX_WATCHDOG], 0);
	assert_int_equal(rs.device_resets + rs.device_reset_fails, ps.stalls - ps.stall_gave_up);
	assert_true(rs.device_resets >= 1);
	assert_true(rs.reclaimed >= ps.stalls); /* at least the pending frame each time */
	assert_int_equal(ps.disconnects, 1);
	/* Down: everything is back in the pool. */
	assert_int_equal(vnet_net_pool_free_count(net), total);
	vnet_port_close(port);
	kill(be, SIGTERM);
	waitpid(be, NULL, 0);
	unlink(sock);
}

int main(void)
{
	if (system("python3 -c 'import socket' >/dev/null 2>&1") != 0) {
		printf("skip: python3 not found (Debian package python3)\n");
		return 77;
	}
	find_backend();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backend_stall),
	};
	return cmocka_run_group_tests(tests, 0, 0);
}
