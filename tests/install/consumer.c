/* A program built against an installed libvnet (tests/install/check_install.sh):
 * it must compile with only the installed headers and link with only the
 * installed library.  Opening a port without a socket path is an option
 * error, answered without touching any back-end. */
#include <stdio.h>
#include <string.h>

#include <vnet/vnet_port.h>

int main(void)
{
	struct vnet_port_opts o;
	struct vnet_port *p = NULL;
	memset(&o, 0, sizeof(o));
	int rc = vnet_port_open(&o, &p);
	if (rc != VNET_EINVAL || p != NULL) {
		printf("consumer: FAIL vnet_port_open without socket_path returned %d (%s)\n", rc, vnet_strerror(rc));
		return 1;
	}
	printf("consumer: PASS vnet_port_open without socket_path: %s\n", vnet_strerror(rc));
	return 0;
}
