/*
 * vnet_config.h - the configuration file's schema, written once for both
 * hosts (vnetd and the Orion kernel; docs/configuration.md lists every key).
 *
 *   [virtio_net]            driver-wide keys (the product description's)
 *   [control]               vnetd's control socket (user space only)
 *   [[device]]              one table per device: name, socket, mode, tap,
 *                           mac, pairs, ring, queue_size, vlans
 *
 * vnet_config_parse() reads a whole document (src/conf/toml.c) into a
 * struct vnet_config, checking every key's type and range.  It is all or
 * nothing: on any error it returns -1 with the line, the key (dotted:
 * "virtio_net.transmit_tso_enabled", "device[1].mac") and the reason, and
 * *cfg holds the defaults only, so nothing starts with half of a file.
 * Unknown tables and keys are errors (a misspelt key would otherwise be
 * silently ignored).
 *
 * vnet_config_net_opts() and vnet_config_port_opts() map the result onto
 * the driver's options (include/vnet/net.h, vnet_port.h); what can only be
 * applied once the device runs (MAC, VLAN filter, coalescing) the host
 * applies through net_ctrl.h after start, logging what the device cannot
 * honour.  Freestanding: no allocation, no libc.
 */
#ifndef VNET_VNET_CONFIG_H
#define VNET_VNET_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net.h"
#include "toml.h"
#include "vnet_port.h"

#define VNET_CONFIG_MAX_DEVICES 8u   /* the kernel's vnet0..vnet7 */
#define VNET_CONFIG_MAX_VLANS 64u
#define VNET_CONFIG_NAME_MAX 16u     /* device and TAP names incl. NUL (IFNAMSIZ) */
#define VNET_CONFIG_PATH_MAX 108u    /* socket paths incl. NUL (sun_path) */
#define VNET_CONFIG_GROUP_MAX 33u    /* group names incl. NUL */
/* Storage a host hands vnet_config_parse for the document (enough for
 * any sensible file; a larger one is refused with "too many values"). */
#define VNET_CONFIG_TOML_NODES 1024u
#define VNET_CONFIG_TOML_STRS 16384u

/* [virtio_net]: every key of the product description. */
struct vnet_config_net {
	uint32_t virtio_device_max_count;      /* devices driven; 1..8, default 8 */
	uint32_t virtio_device_max_queues;     /* queue pairs per device at most; 1..256, default 1 */
	uint32_t virtio_device_timeout;        /* ms, bound for device waits; 1..60000, default 1000 */
	bool virtio_device_interrupt_enabled;  /* interrupts (true) or polling; default true */
	uint32_t transmit_virtqueue_size;      /* ring size; power of two 2..32768; default 0 = host's */
	uint32_t transmit_descriptor_count;    /* buffers per transmit queue; <= ring size; 0 = host's */
	bool transmit_tso_enabled;             /* HOST_TSO4/6 (+HOST_ECN); default true */
	bool transmit_checksum_offload;        /* CSUM; default true */
	bool transmit_vlan_enabled;            /* 802.1Q-tagged frames may be sent; default true */
	uint32_t receive_virtqueue_size;       /* as transmit (the driver has one ring size) */
	uint32_t receive_descriptor_count;     /* buffers posted per receive queue; <= ring size */
	bool receive_checksum_offload;         /* GUEST_CSUM; default true */
	bool receive_vlan_enabled;             /* CTRL_VLAN filter with the device's vlans; default true */
	bool receive_rss_enabled;              /* RSS when offered (and > 1 pair); default true */
	uint32_t interrupt_coalescing_timer;   /* usecs; 0 = off (default); NOTF_COAL */
	uint32_t interrupt_coalescing_packets; /* frames; 0 = off (default); NOTF_COAL */
	bool flow_control_enabled;             /* hold traffic while a tx ring is full; default true */
	bool multi_queue_enabled;              /* MQ: more than one pair; default true */
};

enum vnet_config_mode {
	VNET_CONFIG_CLIENT = 0,                /* connect to the back-end's socket */
	VNET_CONFIG_SERVER,                    /* listen, the back-end connects */
};

/* [[device]] */
struct vnet_config_device {
	char name[VNET_CONFIG_NAME_MAX];       /* "vnet0": how commands name it; default vnetN by position */
	char socket[VNET_CONFIG_PATH_MAX];     /* vhost-user socket (vnetd) */
	enum vnet_config_mode mode;            /* "client" (default) | "server" (vnetd) */
	char tap[VNET_CONFIG_NAME_MAX];        /* TAP name (vnetd) */
	bool has_mac;
	uint8_t mac[6];                        /* "52:54:00:12:34:56"; unicast */
	uint16_t pairs;                        /* queue pairs wanted; 0 = 1; <= max_queues */
	enum vnet_net_ring ring;               /* "auto" (default) | "split" | "packed" */
	uint16_t queue_size;                   /* this device's ring size; 0 = the [virtio_net] one */
	uint16_t n_vlans;
	uint16_t vlans[VNET_CONFIG_MAX_VLANS]; /* VLAN filter ids 0..4095, no duplicates */
	uint32_t line;                         /* where its [[device]] header is */
	uint32_t pairs_line;                   /* where pairs is set (0: not set), for a host's refusal */
};

/* [control] (vnetd) */
struct vnet_config_control {
	char socket[VNET_CONFIG_PATH_MAX];     /* control socket path; "" = none */
	char group[VNET_CONFIG_GROUP_MAX];     /* group allowed read-only commands; "" = the socket's group */
};

struct vnet_config {
	struct vnet_config_net net;
	struct vnet_config_control control;
	uint32_t n_devices;
	struct vnet_config_device dev[VNET_CONFIG_MAX_DEVICES];
	/* Which [virtio_net] keys the file set (bit = index in the key table,
	 * vnet_config_net_key_name), so a host can tell a default from a
	 * value and the command line can override only what it names. */
	uint32_t net_set;
};

struct vnet_config_error {
	uint32_t line, col;                    /* 0 when not tied to a place */
	char key[64];                          /* dotted key, "" for a syntax error */
	char msg[160];
};

/* The defaults (what an empty file gives). */
void vnet_config_defaults(struct vnet_config *cfg);

/*
 * Parse text[0..len-1] (need not be NUL-terminated).  nodes/strs: scratch
 * for the TOML document (VNET_CONFIG_TOML_NODES / _STRS are plenty); free
 * after the call.  Returns 0, or -1 with *err filled and *cfg = defaults.
 */
int vnet_config_parse(struct vnet_config *cfg, const char *text, size_t len, struct vnet_toml_node *nodes,
		      uint32_t n_nodes, char *strs, uint32_t n_strs, struct vnet_config_error *err);

/* "FILE:LINE: KEY: REASON" (or "FILE:LINE:COL: REASON" for a syntax
 * error) into buf; returns buf.  file may be NULL ("config"). */
char *vnet_config_error_format(const struct vnet_config_error *err, const char *file, char *buf, size_t len);

/* The device named name, or NULL. */
const struct vnet_config_device *vnet_config_find_device(const struct vnet_config *cfg, const char *name);

/*
 * Driver options for a device (dev may be NULL: [virtio_net] only).
 * Fills the fields the file speaks about and leaves the rest as the
 * caller set them (call after memset/the host's own defaults).
 */
void vnet_config_net_opts(const struct vnet_config *cfg, const struct vnet_config_device *dev,
			  struct vnet_net_opts *o);
/* The same for a vhost-user port (socket, mode, sizes, interrupt mode,
 * timeouts, and .net as above).  socket_path points into *dev. */
void vnet_config_port_opts(const struct vnet_config *cfg, const struct vnet_config_device *dev,
			   struct vnet_port_opts *po);

/* Key names of [virtio_net] in table order (NULL past the end). */
const char *vnet_config_net_key_name(unsigned idx);

#endif
