/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A simulated virtio-input device (VirtIO 1.2 section 5.8) for host tests.
 *
 * Configuration: a table of (select, subsel) entries; when the driver
 * writes select or subsel the model shows the matching entry's size and
 * bytes (size 0 when there is none), as QEMU's virtio-input.c does. Entries
 * are raw, so a test can give any size, including ones beyond the field.
 *
 * Event queue: events the test pushes go out one per buffer, in order;
 * buffers wait (SIM_HOLD) while there is nothing to send. Each event may
 * carry a length to report other than 8 (a malformed completion).
 *
 * Status queue: events the driver sends are recorded.
 */
#ifndef VIO_SIM_INPUT_MODEL_H
#define VIO_SIM_INPUT_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "sim.h"

#define SIM_INPUT_CFG_MAX 48
#define SIM_INPUT_EVENTS 4096
#define SIM_INPUT_STATUS 256

struct sim_input_cfg {
	uint8_t select, subsel;
	uint8_t size;          /* what the device says, whatever the bytes */
	uint8_t data[128];
};

struct sim_input_ev {
	uint16_t type, code;
	uint32_t value;
	uint32_t len;          /* bytes to report written (8 normally) */
};

struct sim_input {
	struct sim_input_cfg cfg[SIM_INPUT_CFG_MAX];
	unsigned ncfg;
	struct sim_input_ev ev[SIM_INPUT_EVENTS];
	unsigned ev_head, ev_count;
	/* observed */
	struct sim_input_ev status[SIM_INPUT_STATUS];
	unsigned nstatus;
	unsigned events_sent;
};

extern const struct sim_model sim_input_model;

enum sim_input_kind { SIM_INPUT_KEYBOARD, SIM_INPUT_MOUSE, SIM_INPUT_TABLET, SIM_INPUT_TOUCH };

/*
 * Make d an input device driven by in (zeroed by this call), described as
 * QEMU's virtio-input-hid describes that kind (a touch screen as a tablet
 * with ten multi-touch slots), with serial "sim-<kind>".
 */
void sim_input_attach(struct sim_dev *d, struct sim_input *in, enum sim_input_kind kind);

/* Add or replace the entry (select, subsel): size bytes of data (size may exceed 128). */
void sim_input_cfg(struct sim_input *in, uint8_t select, uint8_t subsel, const void *data,
		   unsigned size);

/* Queue an event for the driver (len: the used length to report, 8 for a good one). */
void sim_input_push(struct sim_input *in, uint16_t type, uint16_t code, uint32_t value);
void sim_input_push_len(struct sim_input *in, uint16_t type, uint16_t code, uint32_t value,
			uint32_t len);

#endif
