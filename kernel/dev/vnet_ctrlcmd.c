/*
 * The shell's "vnet ctrl vnetN ...": control-queue classes at runtime
 * (docs/control-plane.md, spec 5.1.6.5): RX mode, MAC filter tables,
 * the default MAC.  Each command prints the driver's error on failure.
 */
#include "vnet_priv.h"

static const char *const rx_modes[VNET_NET_RX_MODES] = {"promisc", "allmulti", "alluni",
							  "nomulti", "nouni",    "nobcast"};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "aa:bb:cc:dd:ee:ff" -> mac; false on anything else. */
static bool parse_mac(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		int h = hexval(s[0]), l = h < 0 ? -1 : hexval(s[1]);
		if (l < 0)
			return false;
		mac[i] = (uint8_t)(h << 4 | l);
		s += 2;
		if (i < 5 && *s++ != ':')
			return false;
	}
	return *s == 0;
}

static int usage(void)
{
	kprintf("usage: vnet ctrl vnetN rx promisc|allmulti|alluni|nomulti|nouni|nobcast on|off\n"
		"       vnet ctrl vnetN mac AA:BB:CC:DD:EE:FF\n"
		"       vnet ctrl vnetN table [MAC...]   (group-bit MACs go to the multicast table)\n");
	return 1;
}

static int report(struct vnetdev *d, const char *what, int rc)
{
	if (rc == VNET_OK) {
		kprintf("%s: %s: ok\n", d->name, what);
		return 0;
	}
	struct vnet_net_ctrl_error e;
	vnet_net_ctrl_last_error(d->net, &e);
	kprintf("%s: %s failed: %s (class %s cmd %s)\n", d->name, what, vnet_strerror(rc),
		vnet_net_ctrl_class_name(e.class_), vnet_net_ctrl_cmd_name(e.class_, e.cmd));
	return 1;
}

/* argv[0] = "vnetN", argv[1] = sub-command. */
int vd_ctrl_cmd(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	int ifn = net_if_parse(argv[0]);
	struct vnetdev *d = ifn < 0 ? NULL : vd_get((unsigned)ifn);
	if (!d || !d->net) {
		kprintf("%s: not up\n", argv[0]);
		return 1;
	}
	if (!strcmp(argv[1], "rx") && argc == 4) {
		bool on = !strcmp(argv[3], "on");
		if (!on && strcmp(argv[3], "off"))
			return usage();
		for (unsigned m = 0; m < VNET_NET_RX_MODES; m++)
			if (!strcmp(argv[2], rx_modes[m]))
				return report(d, rx_modes[m], vnet_net_set_rx_mode(d->net, (enum vnet_net_rx_mode)m, on));
		return usage();
	}
	if (!strcmp(argv[1], "mac") && argc == 3) {
		uint8_t mac[6];
		if (!parse_mac(argv[2], mac) || (mac[0] & 1)) {
			kprintf("%s: not a unicast MAC: %s\n", d->name, argv[2]);
			return 1;
		}
		int rc = vnet_net_set_mac(d->net, mac);
		if (rc == VNET_OK) {
			unsigned long f = irq_save();
			net_set_mac((unsigned)ifn, mac);
			irq_restore(f);
		}
		return report(d, "mac", rc);
	}
	if (!strcmp(argv[1], "table")) {
		static uint8_t uc[SHELL_MAX_ARGS][6], mc[SHELL_MAX_ARGS][6];
		uint32_t nuc = 0, nmc = 0;
		for (int i = 2; i < argc; i++) {
			uint8_t mac[6];
			if (!parse_mac(argv[i], mac)) {
				kprintf("%s: not a MAC: %s\n", d->name, argv[i]);
				return 1;
			}
			memcpy((mac[0] & 1) ? mc[nmc++] : uc[nuc++], mac, 6);
		}
		int rc = vnet_net_set_mac_table(d->net, nuc ? uc : NULL, nuc, nmc ? mc : NULL, nmc);
		if (rc == VNET_OK)
			kprintf("%s: table: %u unicast %u multicast\n", d->name, nuc, nmc);
		return report(d, "table", rc);
	}
	return usage();
}
