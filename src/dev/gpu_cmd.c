/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-gpu command transport: batches on the control queue (5.7.6.7:
 * every request is answered by a response header on the same chain) and
 * fire-and-forget commands on the cursor queue (5.7.6.10), plus the 2D
 * commands built on them.
 *
 * A batch is up to GPU_SLOTS commands queued together and notified once;
 * the device executes a queue's commands in order, so a transfer queued
 * before a flush has landed when the flush runs. Each response is checked
 * against what its command may get back.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <vio/error.h>
#include <vio/gpu.h>

#include "core/log.h"
#include "gpu_priv.h"

#define HDR ((uint32_t)sizeof(struct virtio_gpu_ctrl_hdr))

void gpu_ctrl_done(struct vio_device *dev, struct vio_vq *vq, void *arg)
{
	struct gpu *g = arg;
	bool event = false;
	void *cookie;
	uint32_t len;
	uintptr_t s;
	int rc;

	(void)dev;
	s = vio_lock();
	while ((rc = vio_vq_dequeue(vq, &cookie, &len)) == 0) {
		struct gpu_slot *sl = cookie; /* the virtqueue hands back only what was queued */

		sl->done = true;
		sl->used_len = len;
		if (sl == &g->ev) {
			g->ev_done = true;
			event = true;
		} else if (g->pending) {
			g->pending--;
		}
	}
	if (rc != VIO_EAGAIN)
		g->error = rc;
	vio_unlock(s);
	if (event)
		gpu_event_answered(g);
}

void gpu_cursor_done(struct vio_device *dev, struct vio_vq *vq, void *arg)
{
	struct gpu *g = arg;
	void *cookie;
	uint32_t len;
	uintptr_t s;
	int rc;

	(void)dev;
	s = vio_lock();
	/* 5.7.6.10: the device writes nothing back; the slot is free again. */
	while ((rc = vio_vq_dequeue(vq, &cookie, &len)) == 0)
		if (g->n_cursor_free < GPU_CURSOR_SLOTS)
			g->cursor_free[g->n_cursor_free++] = (uint16_t)((uintptr_t)cookie - 1u);
	if (rc != VIO_EAGAIN)
		g->error = rc;
	vio_unlock(s);
}

int gpu_begin(struct vio_device *dev, struct gpu **g)
{
	if (!dev || dev->driver != &vio_gpu_driver)
		return VIO_ENODEV;
	if (vio_dev_state(dev) != VIO_DEV_READY)
		return vio_dev_state(dev) == VIO_DEV_FAILED ? VIO_ESHUTDOWN : VIO_ENODEV;
	*g = dev->priv;
	return 0;
}

static bool batch_free(void *arg)
{
	struct gpu *g = arg;
	uintptr_t s = vio_lock();
	bool ok = !g->busy || g->error;

	vio_unlock(s);
	return ok;
}

int gpu_claim(struct gpu *g)
{
	for (;;) {
		uintptr_t s = vio_lock();
		int rc = g->error;

		if (!rc && !g->busy) {
			g->busy = true;
			vio_unlock(s);
			return 0;
		}
		vio_unlock(s);
		if (rc)
			return rc;
		/* Another caller's batch is with the device: wait for its end. */
		rc = vio_dev_wait(g->dev, g->ctrlq, batch_free, g, g->timeout_ns);
		if (rc)
			return rc;
	}
}

void gpu_release(struct gpu *g)
{
	uintptr_t s = vio_lock();

	g->busy = false;
	vio_unlock(s);
}

void *gpu_prep(struct gpu *g, unsigned i, uint32_t type, uint32_t req_len, unsigned flags,
	       uint32_t want)
{
	struct gpu_slot *sl = &g->slot[i];
	struct virtio_gpu_ctrl_hdr *h = sl->req;

	memset(sl->req, 0, GPU_REQ_SIZE);
	h->type = gpu_w32(g, type);
	sl->fence = 0;
	if (flags & VIO_GPU_FENCE) {
		/* 5.7.6.7: the device answers a fenced command once it has finished it. */
		uintptr_t s = vio_lock();

		sl->fence = ++g->next_fence;
		vio_unlock(s);
		h->flags = gpu_w32(g, VIRTIO_GPU_FLAG_FENCE);
		h->fence_id = gpu_w64(g, sl->fence);
	}
	sl->req_len = req_len;
	sl->extra = NULL;
	sl->extra_len = 0;
	sl->resp = g->resp_mem + (size_t)i * GPU_RESP_SIZE;
	sl->resp_len = GPU_RESP_SIZE;
	sl->want = want;
	return sl->req;
}

static bool batch_done(void *arg)
{
	struct gpu *g = arg;
	uintptr_t s = vio_lock();
	bool done = g->pending == 0 || g->error;

	vio_unlock(s);
	return done;
}

/* A device error response as the caller's error code (gpu.h). */
static int resp_error(uint32_t type)
{
	switch (type) {
	case VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID: return VIO_ENOENT;
	case VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID: return VIO_ENXIO;
	case VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER: return VIO_ERANGE;
	case VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY: return VIO_ENOBUFS;
	default: return VIO_EIO;
	}
}

static const char *cmd_name(uint32_t type)
{
	switch (type) {
	case VIRTIO_GPU_CMD_GET_DISPLAY_INFO: return "GET_DISPLAY_INFO";
	case VIRTIO_GPU_CMD_RESOURCE_CREATE_2D: return "RESOURCE_CREATE_2D";
	case VIRTIO_GPU_CMD_RESOURCE_UNREF: return "RESOURCE_UNREF";
	case VIRTIO_GPU_CMD_SET_SCANOUT: return "SET_SCANOUT";
	case VIRTIO_GPU_CMD_RESOURCE_FLUSH: return "RESOURCE_FLUSH";
	case VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D: return "TRANSFER_TO_HOST_2D";
	case VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING: return "RESOURCE_ATTACH_BACKING";
	case VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING: return "RESOURCE_DETACH_BACKING";
	case VIRTIO_GPU_CMD_GET_EDID: return "GET_EDID";
	default: return "command";
	}
}

/*
 * What slot sl's answer means: 0, the mapped device error, or VIO_EPROTO
 * for an answer the device may not give.
 */
static int check(struct gpu *g, struct gpu_slot *sl)
{
	const struct vio_port *port = vio_port();
	const struct virtio_gpu_ctrl_hdr *h = sl->resp;
	const struct virtio_gpu_ctrl_hdr *q = sl->req;
	uint32_t type, cmd = gpu_w32(g, q->type);

	if (port->cache_invalidate)
		port->cache_invalidate(port->ctx, sl->resp, sl->resp_len);
	if (sl->used_len < HDR) {
		vio_err("%s: %s answered with %u bytes, less than a header", g->dev->name,
			cmd_name(cmd), (unsigned)sl->used_len);
		return VIO_EPROTO;
	}
	type = gpu_w32(g, h->type);
	if (type >= VIRTIO_GPU_RESP_ERR_UNSPEC && type < VIRTIO_GPU_RESP_ERR_UNSPEC + 0x100) {
		uintptr_t s = vio_lock();

		g->bad_responses++;
		vio_unlock(s);
		vio_info("%s: %s refused (response %#x)", g->dev->name, cmd_name(cmd),
			 (unsigned)type);
		return resp_error(type);
	}
	if (type != sl->want) {
		vio_err("%s: %s answered with type %#x, want %#x", g->dev->name, cmd_name(cmd),
			(unsigned)type, (unsigned)sl->want);
		return VIO_EPROTO;
	}
	if (sl->used_len < sl->resp_len) {
		vio_err("%s: %s response of %u bytes, its type has %u", g->dev->name,
			cmd_name(cmd), (unsigned)sl->used_len, (unsigned)sl->resp_len);
		return VIO_EPROTO;
	}
	if (sl->fence && (!(gpu_w32(g, h->flags) & VIRTIO_GPU_FLAG_FENCE) ||
			  gpu_w64(g, h->fence_id) != sl->fence)) {
		vio_err("%s: %s fence %llu not answered", g->dev->name, cmd_name(cmd),
			(unsigned long long)sl->fence);
		return VIO_EPROTO;
	}
	return 0;
}

int gpu_run(struct gpu *g, unsigned n)
{
	const struct vio_port *port = vio_port();
	unsigned queued = 0;
	uintptr_t s;
	int rc = 0, first = 0;

	s = vio_lock();
	if (g->error) {
		vio_unlock(s);
		return g->error;
	}
	for (unsigned i = 0; i < n; i++) {
		struct gpu_slot *sl = &g->slot[i];
		struct vio_sg sg[3];
		unsigned out = 0;

		sg[out++] = (struct vio_sg){ sl->req, sl->req_len };
		if (sl->extra)
			sg[out++] = (struct vio_sg){ (void *)(uintptr_t)sl->extra, sl->extra_len };
		sg[out] = (struct vio_sg){ sl->resp, sl->resp_len };
		/* No dirty line may be written back over what the device writes. */
		if (port->cache_clean)
			port->cache_clean(port->ctx, sl->resp, sl->resp_len);
		sl->done = false;
		sl->used_len = 0;
		rc = vio_vq_enqueue(g->ctrlq, sg, out, 1, sl);
		if (rc)
			break;
		g->pending++;
		queued++;
	}
	if (queued)
		vio_vq_kick(g->ctrlq);
	vio_unlock(s);
	if (queued) {
		int w = vio_dev_wait(g->dev, g->ctrlq, batch_done, g, g->timeout_ns);

		if (w == VIO_ETIMEDOUT) {
			/* The device may still answer into our slots: stop it first. */
			vio_dev_fail(g->dev, VIO_ETIMEDOUT);
			return w;
		}
		if (w)
			return w;
		s = vio_lock();
		w = g->error;
		vio_unlock(s);
		if (w)
			return w;
	}
	for (unsigned i = 0; i < queued; i++) {
		int c = check(g, &g->slot[i]);

		if (c == VIO_EPROTO) {
			vio_dev_fail(g->dev, VIO_EPROTO);
			return c;
		}
		if (c && !first)
			first = c;
	}
	return rc ? rc : first;
}

/* One command with a header-only answer, as one batch. */
static int simple(struct vio_device *dev, uint32_t type, const void *body, uint32_t len,
		  unsigned flags)
{
	struct gpu *g;
	uint8_t *req;
	int rc = gpu_begin(dev, &g);

	if (rc)
		return rc;
	rc = gpu_claim(g);
	if (rc)
		return rc;
	req = gpu_prep(g, 0, type, HDR + len, flags, VIRTIO_GPU_RESP_OK_NODATA);
	memcpy(req + HDR, body, len);
	rc = gpu_run(g, 1);
	gpu_release(g);
	return rc;
}

uint32_t vio_gpu_new_resource_id(struct vio_device *dev)
{
	struct gpu *g;
	uint32_t id;
	uintptr_t s;

	if (gpu_begin(dev, &g))
		return 0;
	s = vio_lock();
	id = ++g->next_id;
	vio_unlock(s);
	return id;
}

int vio_gpu_resource_create(struct vio_device *dev, uint32_t id, uint32_t format, uint32_t width,
			    uint32_t height)
{
	struct gpu *g;
	uint32_t body[4];
	int rc = gpu_begin(dev, &g);

	if (rc)
		return rc;
	if (!width || !height)
		return VIO_EINVAL;
	body[0] = gpu_w32(g, id);
	body[1] = gpu_w32(g, format);
	body[2] = gpu_w32(g, width);
	body[3] = gpu_w32(g, height);
	return simple(dev, VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, body, sizeof(body), 0);
}

static int id_cmd(struct vio_device *dev, uint32_t type, uint32_t id)
{
	struct gpu *g;
	uint32_t body[2];
	int rc = gpu_begin(dev, &g);

	if (rc)
		return rc;
	body[0] = gpu_w32(g, id);
	body[1] = 0;
	return simple(dev, type, body, sizeof(body), 0);
}

int vio_gpu_resource_unref(struct vio_device *dev, uint32_t id)
{
	return id_cmd(dev, VIRTIO_GPU_CMD_RESOURCE_UNREF, id);
}

int vio_gpu_detach_backing(struct vio_device *dev, uint32_t id)
{
	return id_cmd(dev, VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING, id);
}

int vio_gpu_attach_backing(struct vio_device *dev, uint32_t id, const struct vio_sg *pages,
			   unsigned n)
{
	const struct vio_port *port = vio_port();
	struct gpu *g;
	uint8_t *req;
	uint32_t body[2];
	int rc = gpu_begin(dev, &g);

	if (rc)
		return rc;
	if (!pages || !n || n > VIO_GPU_MAX_ENTRIES)
		return VIO_EINVAL;
	for (unsigned i = 0; i < n; i++)
		if (!pages[i].buf || !pages[i].len)
			return VIO_EINVAL;
	rc = gpu_claim(g);
	if (rc)
		return rc;
	/* 5.7.6.8: the entries follow the request, as a segment of their own here. */
	for (unsigned i = 0; i < n; i++) {
		uint64_t a = port->virt_to_dma ? port->virt_to_dma(port->ctx, pages[i].buf)
					       : (uint64_t)(uintptr_t)pages[i].buf;

		g->entries[i].addr = gpu_w64(g, a);
		g->entries[i].length = gpu_w32(g, pages[i].len);
		g->entries[i].padding = 0;
	}
	body[0] = gpu_w32(g, id);
	body[1] = gpu_w32(g, n);
	req = gpu_prep(g, 0, VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, HDR + sizeof(body), 0,
		       VIRTIO_GPU_RESP_OK_NODATA);
	memcpy(req + HDR, body, sizeof(body));
	g->slot[0].extra = g->entries;
	g->slot[0].extra_len = n * (uint32_t)sizeof(struct virtio_gpu_mem_entry);
	rc = gpu_run(g, 1);
	gpu_release(g);
	return rc;
}

static void put_rect(const struct gpu *g, struct virtio_gpu_rect *w, const struct vio_gpu_rect *r)
{
	w->x = gpu_w32(g, r->x);
	w->y = gpu_w32(g, r->y);
	w->width = gpu_w32(g, r->width);
	w->height = gpu_w32(g, r->height);
}

static void prep_transfer(struct gpu *g, unsigned i, uint32_t id, const struct vio_gpu_rect *r,
			  uint64_t offset, unsigned flags)
{
	struct virtio_gpu_transfer_to_host_2d *t =
		gpu_prep(g, i, VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, sizeof(*t), flags,
			 VIRTIO_GPU_RESP_OK_NODATA);

	put_rect(g, &t->r, r);
	t->offset = gpu_w64(g, offset);
	t->resource_id = gpu_w32(g, id);
}

static void prep_flush(struct gpu *g, unsigned i, uint32_t id, const struct vio_gpu_rect *r,
		       unsigned flags)
{
	struct virtio_gpu_resource_flush *f =
		gpu_prep(g, i, VIRTIO_GPU_CMD_RESOURCE_FLUSH, sizeof(*f), flags,
			 VIRTIO_GPU_RESP_OK_NODATA);

	put_rect(g, &f->r, r);
	f->resource_id = gpu_w32(g, id);
}

static void prep_scanout(struct gpu *g, unsigned i, unsigned scanout, uint32_t id,
			 const struct vio_gpu_rect *r)
{
	struct virtio_gpu_set_scanout *o =
		gpu_prep(g, i, VIRTIO_GPU_CMD_SET_SCANOUT, sizeof(*o), 0,
			 VIRTIO_GPU_RESP_OK_NODATA);

	put_rect(g, &o->r, r);
	o->scanout_id = gpu_w32(g, scanout);
	o->resource_id = gpu_w32(g, id);
}

/* Claim, let prep fill the batch, run it, release. */
static int batch(struct vio_device *dev, const struct vio_gpu_rect *r,
		 unsigned (*prep)(struct gpu *g, const void *arg), const void *arg)
{
	struct gpu *g;
	int rc = gpu_begin(dev, &g);

	if (rc)
		return rc;
	if (!r)
		return VIO_EINVAL;
	rc = gpu_claim(g);
	if (rc)
		return rc;
	rc = gpu_run(g, prep(g, arg));
	gpu_release(g);
	return rc;
}

struct xfer {
	uint32_t id;
	const struct vio_gpu_rect *r;
	uint64_t offset;
	unsigned flags;
	unsigned scanout;
	int what; /* 0 transfer, 1 flush, 2 both, 3 flip, 4 set_scanout */
};

static unsigned prep_xfer(struct gpu *g, const void *arg)
{
	const struct xfer *x = arg;
	unsigned n = 0;

	if (x->what == 4) {
		prep_scanout(g, n++, x->scanout, x->id, x->r);
		return n;
	}
	if (x->what != 1)
		prep_transfer(g, n++, x->id, x->r, x->offset, x->what == 0 ? x->flags : 0);
	if (x->what == 3)
		prep_scanout(g, n++, x->scanout, x->id, x->r);
	if (x->what != 0)
		prep_flush(g, n++, x->id, x->r, x->flags);
	return n;
}

int vio_gpu_set_scanout(struct vio_device *dev, unsigned scanout, uint32_t id,
			const struct vio_gpu_rect *r)
{
	struct xfer x = { .id = id, .r = r, .scanout = scanout, .what = 4 };

	return batch(dev, r, prep_xfer, &x);
}

int vio_gpu_transfer(struct vio_device *dev, uint32_t id, const struct vio_gpu_rect *r,
		     uint64_t offset, unsigned flags)
{
	struct xfer x = { .id = id, .r = r, .offset = offset, .flags = flags, .what = 0 };

	return batch(dev, r, prep_xfer, &x);
}

int vio_gpu_flush(struct vio_device *dev, uint32_t id, const struct vio_gpu_rect *r,
		  unsigned flags)
{
	struct xfer x = { .id = id, .r = r, .flags = flags, .what = 1 };

	return batch(dev, r, prep_xfer, &x);
}

int vio_gpu_update(struct vio_device *dev, uint32_t id, const struct vio_gpu_rect *r,
		   uint64_t offset, unsigned flags)
{
	struct xfer x = { .id = id, .r = r, .offset = offset, .flags = flags, .what = 2 };

	return batch(dev, r, prep_xfer, &x);
}

int vio_gpu_flip(struct vio_device *dev, unsigned scanout, uint32_t id,
		 const struct vio_gpu_rect *r, unsigned flags)
{
	struct xfer x = { .id = id, .r = r, .flags = flags, .scanout = scanout, .what = 3 };

	return batch(dev, r, prep_xfer, &x);
}

static bool cursor_slot_free(void *arg)
{
	struct gpu *g = arg;
	uintptr_t s = vio_lock();
	bool ok = g->n_cursor_free || g->error;

	vio_unlock(s);
	return ok;
}

static int cursor_send(struct vio_device *dev, uint32_t type, unsigned scanout, uint32_t id,
		       uint32_t x, uint32_t y, uint32_t hot_x, uint32_t hot_y)
{
	struct virtio_gpu_update_cursor *c;
	struct gpu *g;
	struct vio_sg sg;
	unsigned slot;
	uintptr_t s;
	int rc = gpu_begin(dev, &g);

	if (rc)
		return rc;
	if (scanout >= g->nscanouts)
		return VIO_EINVAL;
	for (;;) {
		s = vio_lock();
		rc = g->error;
		if (!rc && g->n_cursor_free)
			break;
		vio_unlock(s);
		if (rc)
			return rc;
		rc = vio_dev_wait(dev, g->cursorq, cursor_slot_free, g, g->timeout_ns);
		if (rc)
			return rc;
	}
	slot = g->cursor_free[--g->n_cursor_free];
	c = &g->cursor_mem[slot];
	memset(c, 0, sizeof(*c));
	c->hdr.type = gpu_w32(g, type);
	c->pos.scanout_id = gpu_w32(g, scanout);
	c->pos.x = gpu_w32(g, x);
	c->pos.y = gpu_w32(g, y);
	c->resource_id = gpu_w32(g, id);
	c->hot_x = gpu_w32(g, hot_x);
	c->hot_y = gpu_w32(g, hot_y);
	sg = (struct vio_sg){ c, sizeof(*c) };
	/* Cleaned by the virtqueue as it queues it (device-readable). */
	rc = vio_vq_enqueue(g->cursorq, &sg, 1, 0, (void *)(uintptr_t)(slot + 1u));
	if (rc)
		g->cursor_free[g->n_cursor_free++] = (uint16_t)slot;
	else
		vio_vq_kick(g->cursorq);
	vio_unlock(s);
	return rc;
}

int vio_gpu_cursor_update(struct vio_device *dev, unsigned scanout, uint32_t id, uint32_t x,
			  uint32_t y, uint32_t hot_x, uint32_t hot_y)
{
	return cursor_send(dev, VIRTIO_GPU_CMD_UPDATE_CURSOR, scanout, id, x, y, hot_x, hot_y);
}

int vio_gpu_cursor_move(struct vio_device *dev, unsigned scanout, uint32_t x, uint32_t y)
{
	return cursor_send(dev, VIRTIO_GPU_CMD_MOVE_CURSOR, scanout, 0, x, y, 0, 0);
}
