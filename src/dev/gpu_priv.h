/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-gpu driver internals, shared by gpu.c (probe, displays) and gpu_cmd.c (commands). */
#ifndef VIO_GPU_PRIV_H
#define VIO_GPU_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <vio/device.h>
#include <vio/gpu.h>
#include <vio/spec/virtio_gpu.h>

/* Commands one control batch holds: a flip is transfer, set_scanout, flush. */
#define GPU_SLOTS 4u
/* Bytes of a slot's request (the largest 2D request is 56) and response. */
#define GPU_REQ_SIZE 64u
#define GPU_RESP_SIZE ((uint32_t)sizeof(struct virtio_gpu_ctrl_hdr))
/* Cursor commands queued and not yet taken back. */
#define GPU_CURSOR_SLOTS 8u

/* One command of a batch, in the driver's DMA memory. */
struct gpu_slot {
	void *req;          /* GPU_REQ_SIZE bytes, device-readable */
	uint32_t req_len;
	const void *extra;  /* a second device-readable segment (attach's entries), or NULL */
	uint32_t extra_len;
	void *resp;         /* device-writable: the slot's own header, or the big response */
	uint32_t resp_len;
	uint32_t want;      /* the OK response type that answers it */
	uint64_t fence;     /* fence id sent, 0: not fenced */
	/* Under vio_lock: */
	bool done;
	uint32_t used_len;  /* what the device says it wrote */
};

struct gpu {
	struct vio_device *dev;
	struct vio_vq *ctrlq;
	struct vio_vq *cursorq;
	uint64_t timeout_ns;
	unsigned nscanouts;
	/* DMA memory */
	uint8_t *req_mem;       /* GPU_SLOTS * GPU_REQ_SIZE */
	uint8_t *resp_mem;      /* GPU_SLOTS * GPU_RESP_SIZE */
	struct virtio_gpu_resp_edid *big; /* the large responses (display info, EDID) */
	struct virtio_gpu_mem_entry *entries; /* VIO_GPU_MAX_ENTRIES */
	struct virtio_gpu_update_cursor *cursor_mem; /* GPU_CURSOR_SLOTS */
	struct gpu_slot slot[GPU_SLOTS];
	/*
	 * GET_DISPLAY_INFO sent on a display event, outside any caller's
	 * batch: its own request and response (ev_resp) in DMA memory.
	 */
	struct gpu_slot ev;
	struct virtio_gpu_resp_display_info *ev_resp;
	/* Under vio_lock: */
	bool busy;              /* a caller owns the control batch */
	unsigned pending;       /* slots with the device */
	int error;              /* the control queue broke */
	uint16_t cursor_free[GPU_CURSOR_SLOTS];
	unsigned n_cursor_free;
	uint32_t next_id;
	uint64_t next_fence;
	uint32_t display_events;
	bool stale;             /* an event came after the last vio_gpu_refresh */
	bool ev_busy;           /* the event's GET_DISPLAY_INFO is with the device */
	bool ev_done;           /* ... and came back, not yet taken */
	uint32_t bad_responses;
	void (*event_fn)(struct vio_device *dev, void *arg);
	void *event_arg;
	/* Scanouts as last read (vio_gpu_refresh); written by the batch owner. */
	struct vio_gpu_scanout scanout[VIRTIO_GPU_MAX_SCANOUTS];
};

/* gpu.c */
/* Read a GET_DISPLAY_INFO answer into modes (the scanouts' EDID left as it is). */
void gpu_parse_modes(struct gpu *g, const struct virtio_gpu_resp_display_info *r,
		     struct vio_gpu_scanout *modes);
/* The event's GET_DISPLAY_INFO came back: take it, tell the application. No lock held. */
void gpu_event_answered(struct gpu *g);

/* gpu_cmd.c */
void gpu_ctrl_done(struct vio_device *dev, struct vio_vq *vq, void *arg);
void gpu_cursor_done(struct vio_device *dev, struct vio_vq *vq, void *arg);
/* Check that dev is a live GPU; its state in *g. */
int gpu_begin(struct vio_device *dev, struct gpu **g);
/* Own the control batch (waits for another caller's batch); gpu_release gives it back. */
int gpu_claim(struct gpu *g);
void gpu_release(struct gpu *g);
/* Fill slot i's header: type, flags (VIO_GPU_FENCE) and the answer it wants. */
void *gpu_prep(struct gpu *g, unsigned i, uint32_t type, uint32_t req_len, unsigned flags,
	       uint32_t want);
/* Send slots 0..n-1 with one notification, wait for all and check each answer. */
int gpu_run(struct gpu *g, unsigned n);

/*
 * A request or response field in the device's byte order (either way): a
 * VirtIO 1.0 device is little-endian (1.4) on both interfaces, since QEMU's
 * virtio-gpu reads little-endian on the legacy transport too (gpu.c), so
 * this is vio_wire's modern order whatever the transport.
 */
static inline uint32_t gpu_w32(const struct gpu *g, uint32_t v)
{
	(void)g;
	return vio_wire32(false, v);
}

static inline uint64_t gpu_w64(const struct gpu *g, uint64_t v)
{
	(void)g;
	return vio_wire64(false, v);
}

#endif
