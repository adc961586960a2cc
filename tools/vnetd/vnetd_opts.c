/*
 * vnetd's command line.  Every mistake gets one line on stderr naming the
 * option and what is wrong with it, and exit status 2, before anything is
 * opened: a TAP name the kernel would refuse, a missing required option,
 * a number out of range, an unknown option, a stray argument.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnetd.h"

void vnetd_usage(FILE *out)
{
	fprintf(out,
		"usage: vnetd --vhost-user PATH [--server] --tap NAME [options]\n"
		"Bridge a vhost-user port to a Linux TAP device (IFF_VNET_HDR).\n"
		"\n"
		"  --vhost-user PATH        the back-end's vhost-user socket (required)\n"
		"  --server                 listen on PATH for the back-end (default: connect to it)\n"
		"  --tap NAME               TAP device to create or attach to (required, <= %d characters)\n"
		"  --irq                    interrupt mode: sleep on the port's call eventfds and the TAP (default)\n"
		"  --poll                   poll mode: never sleep (one busy core)\n"
		"  --queues N               queue pairs; vhost-user ports run one, so only 1\n"
		"  --offloads on|off        checksum and segmentation offloads (default on)\n"
		"  --ring auto|split|packed virtqueue layout (default auto: packed if offered)\n"
		"  --queue-size N           ring size, a power of two (default 1024)\n"
		"  --pool N                 packet buffers (default: sized for the rings)\n"
		"  --connect-timeout-ms N   how long to wait for the first back-end (default 10000)\n"
		"  --reconnect-ms N         client mode: retry period after a loss (default 1000)\n"
		"  --quiet                  no start-up line\n"
		"  --config FILE            TOML configuration (docs/configuration.md); options given here override it\n"
		"  --device NAME            which [[device]] of the file (needed when it has several)\n"
		"  --control PATH           control socket for vnetctl (default: [control] socket of the file; none)\n"
		"  --help\n"
		"\n"
		"Signals: SIGUSR1 prints a stats line; SIGTERM/SIGINT stop (stats and buffer count printed).\n",
		IFNAMSIZ - 1);
}

/* "The kernel would refuse it" (dev_valid_name): empty, too long, "." or
 * "..", or containing '/', ':' or white space. */
static const char *tap_name_problem(const char *name)
{
	static char why[96];
	size_t n = strlen(name);
	if (n == 0)
		return "is empty";
	if (n > IFNAMSIZ - 1) {
		snprintf(why, sizeof(why), "is %zu characters; Linux interface names have at most %d", n,
			 IFNAMSIZ - 1);
		return why;
	}
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return "is not a valid interface name";
	for (const char *c = name; *c; c++)
		if (*c == '/' || *c == ':' || *c == ' ' || (*c >= '\t' && *c <= '\r'))
			return "contains '/', ':' or white space, which interface names cannot";
	return NULL;
}

/* Parse a decimal in [lo, hi]; false (and a message) otherwise. */
static bool parse_u32(const char *opt, const char *s, unsigned long lo, unsigned long hi, uint32_t *out)
{
	char *end;
	errno = 0;
	if (!s || !*s || *s == '-' || *s == '+') {
		fprintf(stderr, "vnetd: %s needs a number, got '%s'\n", opt, s ? s : "");
		return false;
	}
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v < lo || v > hi) {
		fprintf(stderr, "vnetd: %s '%s': expected a number from %lu to %lu\n", opt, s, lo, hi);
		return false;
	}
	*out = (uint32_t)v;
	return true;
}

enum {
	OPT_VHOST = 256, OPT_SERVER, OPT_TAP, OPT_IRQ, OPT_POLL, OPT_QUEUES, OPT_OFFLOADS, OPT_RING,
	OPT_QSIZE, OPT_POOL, OPT_CONNECT_TIMEOUT, OPT_RECONNECT, OPT_QUIET, OPT_HELP, OPT_CONFIG, OPT_DEVICE,
	OPT_CONTROL,
};

/* --config and --device before everything else: the file gives the
 * defaults the rest of the command line overrides. */
static int prescan_config(int argc, char **argv, struct vnetd_opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char **dst = NULL;
		const char *a = argv[i], *v = NULL;
		if (!strcmp(a, "--"))
			break;
		if (!strcmp(a, "--config") || !strcmp(a, "--device")) {
			dst = a[2] == 'c' ? &o->config_path : &o->device_name;
			if (i + 1 >= argc) {
				fprintf(stderr, "vnetd: option '%s' needs an argument\n", a);
				return 2;
			}
			v = argv[++i];
		} else if (!strncmp(a, "--config=", 9) || !strncmp(a, "--device=", 9)) {
			dst = a[2] == 'c' ? &o->config_path : &o->device_name;
			v = a + 9;
		}
		if (dst)
			*dst = v;
	}
	if (o->device_name && !o->config_path) {
		fprintf(stderr, "vnetd: --device needs --config FILE\n");
		return 2;
	}
	return o->config_path ? vnetd_config_load(o->config_path, o->device_name, o) : 0;
}

int vnetd_parse_opts(int argc, char **argv, struct vnetd_opts *o, bool *help)
{
	static const struct option lopts[] = {
		{"vhost-user", required_argument, NULL, OPT_VHOST},
		{"server", no_argument, NULL, OPT_SERVER},
		{"tap", required_argument, NULL, OPT_TAP},
		{"irq", no_argument, NULL, OPT_IRQ},
		{"poll", no_argument, NULL, OPT_POLL},
		{"queues", required_argument, NULL, OPT_QUEUES},
		{"offloads", required_argument, NULL, OPT_OFFLOADS},
		{"ring", required_argument, NULL, OPT_RING},
		{"queue-size", required_argument, NULL, OPT_QSIZE},
		{"pool", required_argument, NULL, OPT_POOL},
		{"connect-timeout-ms", required_argument, NULL, OPT_CONNECT_TIMEOUT},
		{"reconnect-ms", required_argument, NULL, OPT_RECONNECT},
		{"quiet", no_argument, NULL, OPT_QUIET},
		{"help", no_argument, NULL, OPT_HELP},
		{"config", required_argument, NULL, OPT_CONFIG},
		{"device", required_argument, NULL, OPT_DEVICE},
		{"control", required_argument, NULL, OPT_CONTROL},
		{NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof(*o));
	o->offloads = true;
	o->connect_timeout_ms = 10000;
	o->reconnect_ms = 1000;
	*help = false;
	bool saw_irq = false, saw_poll = false;
	uint32_t v;
	int prc = prescan_config(argc, argv, o);
	if (prc)
		return prc;
	opterr = 0; /* our own messages */
	optind = 1;
	for (;;) {
		/* ":" first: a missing argument is ':' rather than '?'. */
		int c = getopt_long(argc, argv, ":", lopts, NULL);
		if (c == -1)
			break;
		switch (c) {
		case OPT_VHOST:
			if (!optarg[0]) {
				fprintf(stderr, "vnetd: --vhost-user needs a socket path\n");
				return 2;
			}
			o->vhost_path = optarg;
			break;
		case OPT_SERVER: o->server = true; break;
		case OPT_TAP: o->tap_name = optarg; break;
		case OPT_IRQ: saw_irq = true; o->poll_mode = false; break;
		case OPT_POLL: saw_poll = true; o->poll_mode = true; break;
		case OPT_QUEUES:
			if (!parse_u32("--queues", optarg, 1, 65535, &v))
				return 2;
			if (v != 1) {
				fprintf(stderr, "vnetd: --queues %u: a vhost-user port runs one queue pair "
						"(no control queue, hence no MQ); only --queues 1 is supported\n", v);
				return 2;
			}
			break;
		case OPT_OFFLOADS:
			o->offloads_cli = true;
			if (!strcmp(optarg, "on")) {
				o->offloads = true;
			} else if (!strcmp(optarg, "off")) {
				o->offloads = false;
			} else {
				fprintf(stderr, "vnetd: --offloads '%s': expected on or off\n", optarg);
				return 2;
			}
			break;
		case OPT_RING:
			if (!strcmp(optarg, "auto")) {
				o->ring = VNET_NET_RING_AUTO;
			} else if (!strcmp(optarg, "split")) {
				o->ring = VNET_NET_RING_SPLIT;
			} else if (!strcmp(optarg, "packed")) {
				o->ring = VNET_NET_RING_PACKED;
			} else {
				fprintf(stderr, "vnetd: --ring '%s': expected auto, split or packed\n", optarg);
				return 2;
			}
			break;
		case OPT_QSIZE:
			if (!parse_u32("--queue-size", optarg, 2, 32768, &v))
				return 2;
			if (v & (v - 1)) {
				fprintf(stderr, "vnetd: --queue-size %u: must be a power of two\n", v);
				return 2;
			}
			o->queue_size = (uint16_t)v;
			break;
		case OPT_POOL:
			if (!parse_u32("--pool", optarg, 64, 1u << 20, &o->pool_size))
				return 2;
			o->pool_cli = true;
			break;
		case OPT_CONNECT_TIMEOUT:
			if (!parse_u32("--connect-timeout-ms", optarg, 1, INT_MAX, &o->connect_timeout_ms))
				return 2;
			break;
		case OPT_RECONNECT:
			if (!parse_u32("--reconnect-ms", optarg, 1, 3600000, &o->reconnect_ms))
				return 2;
			break;
		case OPT_QUIET: o->quiet = true; break;
		case OPT_CONFIG:
		case OPT_DEVICE:
			break; /* read by prescan_config */
		case OPT_CONTROL:
			if (!optarg[0]) {
				fprintf(stderr, "vnetd: --control needs a socket path\n");
				return 2;
			}
			o->control_path = optarg;
			break;
		case OPT_HELP:
			*help = true;
			vnetd_usage(stdout);
			return 0;
		case ':':
			fprintf(stderr, "vnetd: option '%s' needs an argument\n", argv[optind - 1]);
			return 2;
		default:
			/* getopt has stepped past the offending word. */
			fprintf(stderr, "vnetd: unknown option '%s' (vnetd --help lists the options)\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vnetd: unexpected argument '%s' (vnetd --help lists the options)\n", argv[optind]);
		return 2;
	}
	if (saw_irq && saw_poll) {
		fprintf(stderr, "vnetd: --irq and --poll exclude each other\n");
		return 2;
	}
	if (o->control_path && strlen(o->control_path) >= 108) {
		fprintf(stderr, "vnetd: control socket path too long (at most 107 bytes): %s\n", o->control_path);
		return 2;
	}
	if (!o->vhost_path) {
		fprintf(stderr, "vnetd: --vhost-user PATH is required (the back-end's vhost-user socket)\n");
		return 2;
	}
	if (!o->tap_name) {
		fprintf(stderr, "vnetd: --tap NAME is required (the TAP device to bridge to)\n");
		return 2;
	}
	const char *why = tap_name_problem(o->tap_name);
	if (why) {
		fprintf(stderr, "vnetd: --tap '%s' %s\n", o->tap_name, why);
		return 2;
	}
	return 0;
}
