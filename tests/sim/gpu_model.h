/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The virtio-gpu device model (VirtIO 1.2 section 5.7), 2D only, for host
 * tests: scanouts with modes and EDID blobs the test sets, resources with
 * their backing (the guest's mem entries, read as the device would) and a
 * host copy filled by TRANSFER_TO_HOST_2D, so a test can compare what the
 * host holds with what the guest drew. Error responses follow the spec
 * (and QEMU 7.2's checks): an unknown resource id, a rectangle outside its
 * resource, a scanout beyond num_scanouts.
 *
 * Knobs make the answers malformed: too short, of the wrong type, with the
 * fence dropped, an EDID size larger than the response holds.
 */
#ifndef VIO_SIM_GPU_MODEL_H
#define VIO_SIM_GPU_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "sim.h"

#define SIM_GPU_RES 16
#define SIM_GPU_SCANOUTS 16
#define SIM_GPU_ENTRIES 128

struct sim_gpu_res {
	uint32_t id;               /* 0: free */
	uint32_t format, width, height;
	uint32_t nent;             /* backing entries attached (0: none) */
	uint64_t addr[SIM_GPU_ENTRIES];
	uint32_t len[SIM_GPU_ENTRIES];
	uint32_t *host;            /* the host's copy, width * height pixels */
};

struct sim_gpu_scanout {
	bool enabled;              /* knob */
	uint32_t width, height;    /* knob: the mode */
	uint8_t edid[1024];        /* knob: the blob GET_EDID returns */
	uint32_t edid_len;         /* knob */
	uint32_t res;              /* observed: the resource SET_SCANOUT put on it */
	uint32_t rx, ry, rw, rh;   /* observed: its rectangle */
};

struct sim_gpu {
	struct sim_gpu_res res[SIM_GPU_RES];
	struct sim_gpu_scanout scanout[SIM_GPU_SCANOUTS];
	/* knobs: the next answer(s) misbehave */
	int short_resp;            /* answer with this many bytes (>= 0), -1: off */
	uint32_t wrong_type;       /* answer with this type instead, 0: off */
	bool drop_fence;           /* answer a fenced command without the fence */
	uint32_t edid_size;        /* claim this EDID size, 0: the real one */
	bool sticky;               /* the knobs stay on after one answer */
	/* observed */
	unsigned cmds;             /* control commands served */
	unsigned count[16];        /* per command type & 0xf (0x0100 .. 0x010a) */
	unsigned cursor_updates, cursor_moves;
	uint32_t cursor_res, cursor_x, cursor_y;
	uint32_t last_nent;        /* entries of the last ATTACH_BACKING */
	uint32_t flushes;
	uint32_t last_flush[4];    /* x, y, w, h of the last RESOURCE_FLUSH */
	uint32_t last_transfer[4]; /* x, y, w, h of the last TRANSFER_TO_HOST_2D */
	uint32_t last_flags;       /* flags of the last command */
	uint32_t events_cleared;   /* bits the driver wrote to events_clear */
};

extern const struct sim_model sim_gpu_model;
/* Make d a GPU with nscanouts (written to config as is) driven by g (zeroed here). */
void sim_gpu_attach(struct sim_dev *d, struct sim_gpu *g, uint32_t nscanouts);
/* Free the model's host copies. */
void sim_gpu_free(struct sim_gpu *g);
/* A valid 128-byte EDID for a w x h preferred mode named name, into out. */
void sim_gpu_make_edid(uint8_t out[128], uint32_t w, uint32_t h, const char *name);
/* Raise VIRTIO_GPU_EVENT_DISPLAY (events_read) with a configuration change. */
void sim_gpu_display_event(struct sim_dev *d);
/* The resource with id, or NULL. */
struct sim_gpu_res *sim_gpu_find(struct sim_gpu *g, uint32_t id);

#endif
