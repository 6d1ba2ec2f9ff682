/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-input driver internals, shared by input.c (probe, configuration,
 * queries) and input_ev.c (the event and status queues).
 */
#ifndef VIO_DEV_INPUT_PRIV_H
#define VIO_DEV_INPUT_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <vio/input.h>
#include <vio/spec/virtio_input.h>

#include "vio_config.h"

#define INPUT_BUFS_LIMIT 256 /* event buffers per device */
/*
 * Events copied off the ring per pass of the completion handler (it goes
 * round again while there are more), and status buffers per device: both
 * as the build configures them, not the limit, so a device's state is as
 * large as the build asked for.
 */
#define INPUT_STAGE CONFIG_VIO_INPUT_EVENT_BUFFERS
#define INPUT_STATUS_LIMIT CONFIG_VIO_INPUT_STATUS_BUFFERS

struct input {
	struct vio_device *dev;
	struct vio_input_params p; /* with the defaults filled in */
	uint64_t timeout_ns;
	bool legacy;
	struct vio_vq *evq, *stq;
	struct virtio_input_event *ev_mem; /* nev buffers, DMA memory */
	struct virtio_input_event *st_mem; /* nst buffers, DMA memory */
	unsigned nev, nst;

	/* The configuration, read at probe and not changed after. */
	struct vio_input_info info;       /* description part; counters live below */
	uint8_t bits[VIO_INPUT_TYPES][VIO_INPUT_CODES / 8];
	uint8_t bits_size[VIO_INPUT_TYPES]; /* bytes the device gave */
	struct vio_input_absinfo abs[VIO_INPUT_AXES];
	uint64_t have_abs;                /* bit a: abs[a] came from the device */

	/* The completion handler's own (it never runs twice at once). */
	struct vio_input_event stage[INPUT_STAGE]; /* copied off the ring, not yet checked */
	struct vio_input_event group[VIO_INPUT_GROUP_MAX];
	unsigned ngroup;
	bool group_lost;                  /* this group overflowed: drop up to its SYN_REPORT */

	/* Under vio_lock: */
	struct vio_input_event fifo[CONFIG_VIO_INPUT_QUEUE_SIZE];
	unsigned fifo_head, fifo_count;
	bool gap;                         /* the newest entry queued is a SYN_DROPPED mark */
	uint16_t st_free[INPUT_STATUS_LIMIT];
	unsigned n_st_free;
	uint64_t events, groups, dropped_events, dropped_groups, bad_events, abs_out_of_range;
	uint64_t status_sent;
	uint32_t leds;
	bool leds_set;                    /* the application set LEDs: replayed after a reset */
	uint32_t replay_leds;             /* after a recovery with leds_set: what input_started sends */
	int error;                        /* a queue broke */
};

/* input_ev.c */
void input_ev_done(struct vio_device *dev, struct vio_vq *vq, void *arg);
void input_st_done(struct vio_device *dev, struct vio_vq *vq, void *arg);
/* Post every event buffer (after DRIVER_OK). */
void input_ev_start(struct input *in);
/*
 * After vio_dev_recover: send the state of every LED the device declared,
 * leds giving those on (the reset forgot what the application set). Task
 * context.
 */
void input_replay_leds(struct input *in, uint32_t leds);

#endif
