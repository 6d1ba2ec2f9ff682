/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-gpu driver (VirtIO 1.2 section 5.7): the 2D protocol.
 *
 * This is the protocol: scanouts and their modes, EDID, 2D resources and
 * their backing memory, transfers and flushes, the cursor queue and display
 * events. Drawing is <vio/fb.h>, built on these calls.
 *
 * Commands on the control queue are synchronous: a call queues its
 * command(s), notifies once and waits for the response(s). One batch is with
 * the device at a time per GPU; other callers wait their turn. The cursor
 * queue is independent: cursor calls queue and return without waiting for
 * the control queue.
 *
 * Errors: every response is checked. A device error reaches the caller as
 * its own code:
 *     VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID  VIO_ENOENT
 *     VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID   VIO_ENXIO
 *     VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER    VIO_ERANGE (a rectangle out of bounds, ...)
 *     VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY        VIO_ENOBUFS (the host ran out)
 *     VIRTIO_GPU_RESP_ERR_UNSPEC, others       VIO_EIO
 * and the GPU keeps working. A response the device may not send (shorter
 * than its type, a type that does not answer the command, a fence it was not
 * given) fails the device with VIO_EPROTO.
 *
 * Contexts: every function is task context, never with vio_lock held.
 */
#ifndef VIO_GPU_H
#define VIO_GPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device.h"
#include "spec/virtio_gpu.h"

/* The driver, for vio_driver_register. */
extern const struct vio_driver vio_gpu_driver;

/* Run-time parameters (vio_driver_register's params); zero fields: defaults. */
struct vio_gpu_params {
	uint32_t timeout_ms; /* per command batch (0: CONFIG_VIO_TIMEOUT_MS) */
};

/* What EDID says about a monitor (vio_gpu_edid_parse). */
struct vio_gpu_edid {
	bool valid;            /* the blob passed every check */
	uint32_t width;        /* the preferred mode (first detailed timing), 0 if none */
	uint32_t height;       /* ... its height, 0 if none */
	char name[14];         /* the monitor name descriptor (0xFC), "" if none */
	char vendor[4];        /* three-letter manufacturer id */
};

/* One scanout (a head) as the device last described it. */
struct vio_gpu_scanout {
	bool enabled;                 /* the host shows it (a window or a display) */
	uint32_t x, y, width, height; /* the preferred mode's rectangle */
	struct vio_gpu_edid edid;     /* valid only with VIRTIO_GPU_F_EDID */
};

/* What the device said about itself and what the driver counted. */
struct vio_gpu_info {
	unsigned scanouts;       /* num_scanouts, 1..VIRTIO_GPU_MAX_SCANOUTS */
	bool edid;               /* VIRTIO_GPU_F_EDID negotiated */
	uint32_t display_events; /* VIRTIO_GPU_EVENT_DISPLAY seen since probe */
	bool stale;              /* an event came after the last vio_gpu_refresh (the modes
				  * are re-read by the driver; the EDID is not) */
	uint32_t bad_responses;  /* error responses the device sent (for diagnostics) */
};

/* A rectangle of a resource or a scanout, in pixels. */
struct vio_gpu_rect {
	uint32_t x, y, width, height; /* top left corner and size */
};

/* Flags of the commands below. */
#define VIO_GPU_FENCE 1u /* VIRTIO_GPU_FLAG_FENCE: return only once the host finished */

/* Fill info. Returns 0, VIO_EINVAL (info NULL) or VIO_ENODEV (dev is not a live GPU). */
int vio_gpu_get_info(struct vio_device *dev, struct vio_gpu_info *info);

/* Scanout i as last read (vio_gpu_refresh). Returns 0, VIO_ENODEV or VIO_EINVAL. */
int vio_gpu_get_scanout(struct vio_device *dev, unsigned i, struct vio_gpu_scanout *out);

/*
 * Read the display information again (GET_DISPLAY_INFO for every scanout,
 * then GET_EDID for each enabled one when EDID was negotiated). The probe
 * does it once; after a display event (vio_gpu_set_event_handler) the
 * application calls it. An EDID that fails its checks leaves that scanout's
 * edid.valid false and is no error.
 */
int vio_gpu_refresh(struct vio_device *dev);

/*
 * Be told of display events (VIRTIO_GPU_EVENT_DISPLAY, 5.7.4). On an event
 * the driver clears it and reads the display information again by itself
 * (GET_DISPLAY_INFO, beside any caller's commands); once the new modes are
 * in, fn(dev, arg) runs, in task context from the device's deferred work,
 * without any lock held. The EDID of a scanout whose mode changed is then
 * marked invalid and info.stale stays set until vio_gpu_refresh reads the
 * EDID again (with VIRTIO_GPU_F_EDID). fn must not issue GPU commands
 * itself (it runs where the device's completions are handled): note the
 * change and call vio_gpu_refresh or redraw later.
 */
void vio_gpu_set_event_handler(struct vio_device *dev,
			       void (*fn)(struct vio_device *dev, void *arg), void *arg);

/* A resource id no other caller of this function got (1, 2, ...). */
uint32_t vio_gpu_new_resource_id(struct vio_device *dev);

/* RESOURCE_CREATE_2D: format is a VIRTIO_GPU_FORMAT_* value. */
int vio_gpu_resource_create(struct vio_device *dev, uint32_t id, uint32_t format, uint32_t width,
			    uint32_t height);
/* RESOURCE_UNREF */
int vio_gpu_resource_unref(struct vio_device *dev, uint32_t id);

/*
 * RESOURCE_ATTACH_BACKING: the resource's pixels live in the n pieces of
 * DMA memory in pages, in order (the guest's scattered pages, 5.7.6.8).
 * At most VIO_GPU_MAX_ENTRIES pieces. The memory must stay put until the
 * backing is detached or the resource unreferenced.
 */
#define VIO_GPU_MAX_ENTRIES 64
int vio_gpu_attach_backing(struct vio_device *dev, uint32_t id, const struct vio_sg *pages,
			   unsigned n);
/* RESOURCE_DETACH_BACKING */
int vio_gpu_detach_backing(struct vio_device *dev, uint32_t id);

/* SET_SCANOUT: show r of resource id on scanout (id 0: turn the scanout off). */
int vio_gpu_set_scanout(struct vio_device *dev, unsigned scanout, uint32_t id,
			const struct vio_gpu_rect *r);

/*
 * TRANSFER_TO_HOST_2D: copy rectangle r of the resource from its backing
 * (whose row length is the resource's width) to the host. offset is where
 * the rectangle's first pixel is in the backing.
 */
int vio_gpu_transfer(struct vio_device *dev, uint32_t id, const struct vio_gpu_rect *r,
		     uint64_t offset, unsigned flags);
/* RESOURCE_FLUSH: show rectangle r of the resource on the scanouts that use it. */
int vio_gpu_flush(struct vio_device *dev, uint32_t id, const struct vio_gpu_rect *r,
		  unsigned flags);
/*
 * TRANSFER_TO_HOST_2D and RESOURCE_FLUSH of the same rectangle, queued
 * together with one notification: the usual update.
 */
int vio_gpu_update(struct vio_device *dev, uint32_t id, const struct vio_gpu_rect *r,
		   uint64_t offset, unsigned flags);
/*
 * TRANSFER, then SET_SCANOUT to the resource, then FLUSH, in one batch: a
 * page flip. The host shows the new resource only with its whole picture.
 */
int vio_gpu_flip(struct vio_device *dev, unsigned scanout, uint32_t id,
		 const struct vio_gpu_rect *r, unsigned flags);

/*
 * The cursor queue (5.7.6.10). UPDATE_CURSOR shows resource id (a 64x64
 * resource whose pixels were transferred; 0 hides the cursor) with its hot
 * spot at (x, y) of scanout; MOVE_CURSOR moves it. Both return once the
 * command is queued, without waiting for the device.
 */
int vio_gpu_cursor_update(struct vio_device *dev, unsigned scanout, uint32_t id, uint32_t x,
			  uint32_t y, uint32_t hot_x, uint32_t hot_y);
int vio_gpu_cursor_move(struct vio_device *dev, unsigned scanout, uint32_t x, uint32_t y);

/*
 * Check and read an EDID blob (base block and extensions): the fixed
 * header, each block's checksum, the extension count against len. Fills
 * *out (out->valid false when the blob is refused). Returns 0 or
 * VIO_EINVAL (too short, a bad header or checksum). Any context.
 */
int vio_gpu_edid_parse(const uint8_t *blob, size_t len, struct vio_gpu_edid *out);

#endif
