/*
 * Fake transport for unit tests: implements struct vnet_transport_ops over
 * an in-memory device that follows the spec's status-register semantics,
 * and records what the driver did so tests can assert the exact order.
 *
 * Device behaviour (spec 2.1 Device Status Field, 2.2 Feature Bits, 2.4
 * Device Reset, 2.5 Device Configuration Space):
 *  - reset() starts a reset; status reads the old value for
 *    reset_delay_polls reads (forever with reset_never_completes), then 0;
 *  - FEATURES_OK is kept only if the driver features are a subset of the
 *    offered ones and include VERSION_1 (and refuse_features_ok is off);
 *  - config space with a generation counter: config_tears makes that many
 *    reads see the contents flip mid-read (the generation bumps each
 *    time); gen_never_settles bumps the generation on every read of it;
 *  - queue max sizes per index (0 = queue not available).
 * Protocol violations by the driver (clearing a status bit, writing
 * features at the wrong time, queue setup outside FEATURES_OK..DRIVER_OK,
 * notify before DRIVER_OK, size above max, ...) are counted in
 * `violations` with the last one described in `last_violation`.
 *
 * Not thread-safe: one test thread drives it.
 */
#ifndef VNET_FAKE_TRANSPORT_H
#define VNET_FAKE_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "vnet/transport.h"

#define FT_MAX_QUEUES 16
#define FT_MAX_EVENTS 128
#define FT_CONFIG_MAX 64

enum ft_event_type {
	FT_EV_RESET = 1,       /* a: 0 */
	FT_EV_STATUS,          /* a: value written */
	FT_EV_FEATURES,        /* b: features written */
	FT_EV_SETUP_QUEUE,     /* a: index */
	FT_EV_ENABLE_QUEUE,    /* a: index */
	FT_EV_RESET_QUEUE,     /* a: index */
	FT_EV_NOTIFY,          /* a: index, b: data */
	FT_EV_CONFIG_VECTOR,   /* a: vector */
};

struct ft_event {
	enum ft_event_type type;
	uint32_t a;
	uint64_t b;
};

struct ft_queue {
	uint16_t max_size;           /* 0: not available */
	bool configured;
	bool enabled;
	struct vnet_queue_setup setup;
	unsigned notifies;
	uint32_t last_notify_data;
	unsigned reset_polls_left;   /* reset_queue in progress: EAGAIN this many more calls */
	bool resetting;
};

struct fake_transport {
	/* ---- device side (tests set these) ---- */
	uint64_t offered;
	uint16_t num_queues;              /* reported by num_queues() */
	struct ft_queue q[FT_MAX_QUEUES];
	uint8_t config[FT_CONFIG_MAX];
	uint8_t config_alt[FT_CONFIG_MAX];/* the other version for config_tears */
	uint32_t config_len;
	uint32_t generation;
	uint16_t vector_limit;            /* vectors >= this read back NO_VECTOR (0xffff: all ok) */

	/* ---- misbehaviour switches ---- */
	bool reset_never_completes;
	unsigned reset_delay_polls;       /* status reads stay non-zero this many times */
	bool refuse_features_ok;
	bool gen_never_settles;
	unsigned config_tears;            /* reads that see the config change mid-copy */
	bool needs_reset;                 /* status shows DEVICE_NEEDS_RESET (a reset clears it) */
	bool needs_reset_at_features_ok;  /* the device enters NEEDS_RESET when FEATURES_OK is set */
	unsigned queue_reset_polls;       /* reset_queue returns EAGAIN this many times */
	bool queue_reset_never_completes;

	/* ---- state and records (tests read these) ---- */
	uint8_t status;                   /* device status as stored */
	uint8_t status_before_reset;
	unsigned reset_polls_left;
	bool resetting;
	uint64_t driver_features;         /* last written */
	bool driver_features_written;
	uint16_t config_vector;
	unsigned config_reads;            /* read_config calls */
	unsigned generation_reads;        /* config_generation calls */
	unsigned status_reads;
	uint8_t status_writes[FT_MAX_EVENTS];
	unsigned n_status_writes;
	struct ft_event events[FT_MAX_EVENTS];
	unsigned n_events;
	unsigned violations;
	char last_violation[160];

	/* optional doorbell hook, e.g. to drive tests/devmodel */
	void (*on_notify)(void *arg, uint16_t index, uint32_t data);
	void *on_notify_arg;
};

/* Ops table: transport_features carries every device-independent bit the
 * core knows.  Copy it and change transport_features to model a narrower
 * transport. */
extern const struct vnet_transport_ops fake_transport_ops;

/* A sane device: offers `offered`, num_queues queues of max size qmax,
 * config length FT_CONFIG_MAX zero-filled, status 0, no switches. */
void fake_transport_init(struct fake_transport *ft, uint64_t offered, uint16_t num_queues,
			 uint16_t qmax);

/* Replace config bytes [off, off+len) (bumps the generation, as a device
 * config change would).  fake_transport_set_config_alt() sets the other
 * version that config_tears flips to. */
void fake_transport_set_config(struct fake_transport *ft, uint32_t off, const void *data, uint32_t len);
void fake_transport_set_config_alt(struct fake_transport *ft, uint32_t off, const void *data, uint32_t len);

/* Count of recorded events of one type, and the position of the first one
 * (or -1). */
unsigned fake_transport_count(const struct fake_transport *ft, enum ft_event_type t);
int fake_transport_first(const struct fake_transport *ft, enum ft_event_type t);
/* Position of the first FT_EV_STATUS event whose value has `bit` set, or -1. */
int fake_transport_first_status_with(const struct fake_transport *ft, uint8_t bit);

#endif
