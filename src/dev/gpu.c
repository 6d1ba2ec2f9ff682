/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-gpu driver (VirtIO 1.2 section 5.7): probe, the displays
 * (GET_DISPLAY_INFO, GET_EDID) and display events. Commands are
 * gpu_cmd.c; drawing is src/fb/.
 *
 * virtio-gpu is a VirtIO 1.0 device, but QEMU also offers it on legacy
 * virtio-mmio, where it reads every field little-endian: the guest's own
 * order on the boards vio supports, so vio_wire* serves both interfaces.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <vio/error.h>
#include <vio/gpu.h>
#include <vio/spec/virtio_config.h>

#include "core/log.h"
#include "gpu_priv.h"
#include "vio_config.h"

#define HDR ((uint32_t)sizeof(struct virtio_gpu_ctrl_hdr))
/* Larger than any display QEMU makes; a mode beyond it is taken as garbage. */
#define GPU_MODE_MAX 16384u

int vio_gpu_get_info(struct vio_device *dev, struct vio_gpu_info *info)
{
	struct gpu *g;
	uintptr_t s;
	int rc = gpu_begin(dev, &g);

	if (rc)
		return rc;
	if (!info)
		return VIO_EINVAL;
	s = vio_lock();
	info->scanouts = g->nscanouts;
	info->edid = vio_dev_has(dev, VIRTIO_GPU_F_EDID);
	info->display_events = g->display_events;
	info->stale = g->stale;
	info->bad_responses = g->bad_responses;
	vio_unlock(s);
	return 0;
}

int vio_gpu_get_scanout(struct vio_device *dev, unsigned i, struct vio_gpu_scanout *out)
{
	struct gpu *g;
	uintptr_t s;
	int rc = gpu_begin(dev, &g);

	if (rc)
		return rc;
	if (!out || i >= g->nscanouts)
		return VIO_EINVAL;
	s = vio_lock();
	*out = g->scanout[i];
	vio_unlock(s);
	return 0;
}

void vio_gpu_set_event_handler(struct vio_device *dev,
			       void (*fn)(struct vio_device *dev, void *arg), void *arg)
{
	struct gpu *g;
	uintptr_t s;

	if (gpu_begin(dev, &g))
		return;
	s = vio_lock();
	g->event_fn = fn;
	g->event_arg = arg;
	vio_unlock(s);
}

void gpu_parse_modes(struct gpu *g, const struct virtio_gpu_resp_display_info *r,
		     struct vio_gpu_scanout *modes)
{
	/* 5.7.6.8: one entry per scanout; those beyond num_scanouts are not read. */
	for (unsigned i = 0; i < g->nscanouts; i++) {
		const struct virtio_gpu_display_one *p = &r->pmodes[i];
		struct vio_gpu_scanout *m = &modes[i];

		m->enabled = gpu_w32(g, p->enabled) != 0;
		m->x = gpu_w32(g, p->r.x);
		m->y = gpu_w32(g, p->r.y);
		m->width = gpu_w32(g, p->r.width);
		m->height = gpu_w32(g, p->r.height);
		if (m->enabled && (!m->width || !m->height || m->width > GPU_MODE_MAX ||
				   m->height > GPU_MODE_MAX)) {
			vio_warn("%s: scanout %u: mode %ux%u refused", g->dev->name, i,
				 (unsigned)m->width, (unsigned)m->height);
			m->enabled = false;
		}
	}
}

/* GET_DISPLAY_INFO into modes. The caller owns the batch. */
static int display_info(struct gpu *g, struct vio_gpu_scanout *modes)
{
	const struct virtio_gpu_resp_display_info *r = (const void *)g->big;
	int rc;

	gpu_prep(g, 0, VIRTIO_GPU_CMD_GET_DISPLAY_INFO, HDR, 0, VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	g->slot[0].resp = g->big;
	g->slot[0].resp_len = sizeof(*r);
	rc = gpu_run(g, 1);
	if (!rc)
		gpu_parse_modes(g, r, modes);
	return rc;
}

/* GET_EDID of scanout i into *e (e->valid false when refused). The caller owns the batch. */
static int edid(struct gpu *g, unsigned i, struct vio_gpu_edid *e)
{
	struct virtio_gpu_get_edid *q;
	uint32_t size;
	int rc;

	q = gpu_prep(g, 0, VIRTIO_GPU_CMD_GET_EDID, sizeof(*q), 0, VIRTIO_GPU_RESP_OK_EDID);
	q->scanout = gpu_w32(g, i);
	g->slot[0].resp = g->big;
	g->slot[0].resp_len = sizeof(*g->big);
	memset(e, 0, sizeof(*e));
	rc = gpu_run(g, 1);
	if (rc)
		return rc;
	size = gpu_w32(g, g->big->size);
	if (size > sizeof(g->big->edid)) {
		vio_warn("%s: scanout %u: EDID of %u bytes, more than the response holds",
			 g->dev->name, i, (unsigned)size);
		return 0;
	}
	if (vio_gpu_edid_parse(g->big->edid, size, e))
		vio_warn("%s: scanout %u: EDID refused (header, checksum or length)", g->dev->name, i);
	return 0;
}

int vio_gpu_refresh(struct vio_device *dev)
{
	struct vio_gpu_scanout modes[VIRTIO_GPU_MAX_SCANOUTS];
	struct gpu *g;
	uintptr_t s;
	int rc = gpu_begin(dev, &g);

	if (rc)
		return rc;
	rc = gpu_claim(g);
	if (rc)
		return rc;
	s = vio_lock();
	g->stale = false; /* an event from now on makes it stale again */
	vio_unlock(s);
	memset(modes, 0, sizeof(modes));
	rc = display_info(g, modes);
	for (unsigned i = 0; !rc && i < g->nscanouts; i++)
		if (modes[i].enabled && vio_dev_has(dev, VIRTIO_GPU_F_EDID))
			rc = edid(g, i, &modes[i].edid);
	s = vio_lock();
	if (!rc)
		memcpy(g->scanout, modes, sizeof(modes));
	else
		g->stale = true; /* not read: still to do */
	vio_unlock(s);
	gpu_release(g);
	return rc;
}

/*
 * Send GET_DISPLAY_INFO for a display event on the event slot, beside any
 * caller's batch. Returns whether it went (false: one is out already, or
 * the queue has no room or broke). Under vio_lock.
 */
static bool event_query(struct gpu *g)
{
	const struct vio_port *port = vio_port();
	struct gpu_slot *sl = &g->ev;
	struct virtio_gpu_ctrl_hdr *h = sl->req;
	struct vio_sg sg[2];

	if (g->ev_busy || g->error)
		return g->ev_busy;
	memset(h, 0, sizeof(*h));
	h->type = gpu_w32(g, VIRTIO_GPU_CMD_GET_DISPLAY_INFO);
	sg[0] = (struct vio_sg){ sl->req, HDR };
	sg[1] = (struct vio_sg){ sl->resp, sl->resp_len };
	if (port->cache_clean)
		port->cache_clean(port->ctx, sl->resp, sl->resp_len);
	sl->done = false;
	sl->used_len = 0;
	if (vio_vq_enqueue(g->ctrlq, sg, 1, 1, sl))
		return false;
	g->ev_busy = true;
	vio_vq_kick(g->ctrlq);
	return true;
}

void gpu_event_answered(struct gpu *g)
{
	const struct vio_port *port = vio_port();
	struct vio_gpu_scanout modes[VIRTIO_GPU_MAX_SCANOUTS];
	const struct virtio_gpu_resp_display_info *r = g->ev_resp;
	void (*fn)(struct vio_device *, void *);
	uint32_t len, type;
	void *arg;
	uintptr_t s;

	s = vio_lock();
	len = g->ev.used_len;
	g->ev_done = false;
	g->ev_busy = false;
	memcpy(modes, g->scanout, sizeof(modes));
	vio_unlock(s);
	if (port->cache_invalidate)
		port->cache_invalidate(port->ctx, g->ev.resp, g->ev.resp_len);
	type = len >= HDR ? gpu_w32(g, r->hdr.type) : 0;
	/*
	 * Checked like any answer; a bad one leaves the modes as they were
	 * (still stale, so vio_gpu_refresh reads them again).
	 */
	if (type != VIRTIO_GPU_RESP_OK_DISPLAY_INFO || len < sizeof(*r)) {
		vio_warn("%s: display event: GET_DISPLAY_INFO answered with type %#x, %u bytes",
			 g->dev->name, (unsigned)type, (unsigned)len);
	} else {
		gpu_parse_modes(g, r, modes);
	}
	s = vio_lock();
	if (type == VIRTIO_GPU_RESP_OK_DISPLAY_INFO && len >= sizeof(*r)) {
		for (unsigned i = 0; i < g->nscanouts; i++) {
			/* The EDID belongs to the old mode until vio_gpu_refresh reads it. */
			if (modes[i].width != g->scanout[i].width ||
			    modes[i].height != g->scanout[i].height || !modes[i].enabled)
				memset(&modes[i].edid, 0, sizeof(modes[i].edid));
			g->scanout[i] = modes[i];
		}
		/* Without EDID the modes were all there was to read. */
		if (!vio_dev_has(g->dev, VIRTIO_GPU_F_EDID))
			g->stale = false;
	}
	fn = g->event_fn;
	arg = g->event_arg;
	vio_unlock(s);
	if (fn)
		fn(g->dev, arg);
}

static void gpu_config_changed(struct vio_device *dev)
{
	struct gpu *g = dev->priv;
	void (*fn)(struct vio_device *, void *) = NULL;
	void *arg = NULL;
	uint64_t ev = 0;
	uintptr_t s;

	if (vio_dev_config_read(dev, VIRTIO_GPU_CFG_EVENTS_READ, 4, &ev) ||
	    !(ev & VIRTIO_GPU_EVENT_DISPLAY))
		return;
	/* 5.7.4: the driver clears the events it handled by writing them to events_clear. */
	vio_dev_config_write(dev, VIRTIO_GPU_CFG_EVENTS_CLEAR, 4, VIRTIO_GPU_EVENT_DISPLAY);
	vio_info("%s: display configuration changed", dev->name);
	s = vio_lock();
	g->display_events++;
	g->stale = true;
	/*
	 * 5.7.6.8: the driver reads the display information again. The
	 * answer comes to gpu_ctrl_done, which tells the application; if it
	 * cannot go now, the application is told at once and the information
	 * stays stale for vio_gpu_refresh.
	 */
	if (!event_query(g)) {
		fn = g->event_fn;
		arg = g->event_arg;
	}
	vio_unlock(s);
	if (fn)
		fn(dev, arg);
}

static uint64_t timeout_of(const struct vio_device *dev)
{
	const struct vio_gpu_params *p = dev->params;
	uint32_t ms = p && p->timeout_ms ? p->timeout_ms : CONFIG_VIO_TIMEOUT_MS;

	return (uint64_t)ms * 1000000u;
}

static int gpu_probe(struct vio_device *dev)
{
	const struct vio_port *port = vio_port();
	struct gpu *g = dev->priv;
	struct vio_vq_opts ctrl = { .max_size = 16, .indirect_max = 3, .handler = gpu_ctrl_done,
				    .arg = g };
	struct vio_vq_opts cur = { .max_size = GPU_CURSOR_SLOTS, .handler = gpu_cursor_done,
				   .arg = g };
	uint64_t v;
	int rc;

	g->dev = dev;
	g->timeout_ns = timeout_of(dev);
	rc = vio_dev_config_read(dev, VIRTIO_GPU_CFG_NUM_SCANOUTS, 4, &v);
	if (rc)
		return rc;
	/* 5.7.4: 1 to 16 scanouts; anything else cannot be driven. */
	if (v < 1 || v > VIRTIO_GPU_MAX_SCANOUTS) {
		vio_err("%s: num_scanouts %llu outside 1..%u", dev->name, (unsigned long long)v,
			VIRTIO_GPU_MAX_SCANOUTS);
		return VIO_EPROTO;
	}
	g->nscanouts = (unsigned)v;
	/* 5.7.2: controlq 0, cursorq 1. */
	rc = vio_dev_vq_setup(dev, VIRTIO_GPU_CONTROLQ, &ctrl, &g->ctrlq);
	if (!rc)
		rc = vio_dev_vq_setup(dev, VIRTIO_GPU_CURSORQ, &cur, &g->cursorq);
	if (rc)
		return rc;
	g->req_mem = port->dma_alloc(port->ctx, GPU_SLOTS * GPU_REQ_SIZE, 64);
	g->resp_mem = port->dma_alloc(port->ctx, GPU_SLOTS * GPU_RESP_SIZE, 64);
	g->big = port->dma_alloc(port->ctx, sizeof(*g->big), 64);
	g->entries = port->dma_alloc(port->ctx,
				     VIO_GPU_MAX_ENTRIES * sizeof(struct virtio_gpu_mem_entry), 64);
	g->cursor_mem = port->dma_alloc(port->ctx, GPU_CURSOR_SLOTS * sizeof(*g->cursor_mem), 64);
	g->ev.req = port->dma_alloc(port->ctx, GPU_REQ_SIZE, 64);
	g->ev_resp = port->dma_alloc(port->ctx, sizeof(*g->ev_resp), 64);
	if (!g->req_mem || !g->resp_mem || !g->big || !g->entries || !g->cursor_mem ||
	    !g->ev.req || !g->ev_resp)
		return VIO_ENOMEM;
	g->ev.resp = g->ev_resp;
	g->ev.resp_len = sizeof(*g->ev_resp);
	for (unsigned i = 0; i < GPU_SLOTS; i++)
		g->slot[i].req = g->req_mem + (size_t)i * GPU_REQ_SIZE;
	for (unsigned i = 0; i < GPU_CURSOR_SLOTS && i < vio_vq_size(g->cursorq); i++)
		g->cursor_free[g->n_cursor_free++] = (uint16_t)i;
	return 0;
}

/* After DRIVER_OK the first commands may go: learn the displays. */
static void gpu_started(struct vio_device *dev)
{
	int rc = vio_gpu_refresh(dev);

	if (rc)
		vio_warn("%s: reading the displays: %s", dev->name, vio_strerror(rc));
}

static void gpu_remove(struct vio_device *dev)
{
	const struct vio_port *port = vio_port();
	struct gpu *g = dev->priv;

	if (!g)
		return;
	if (g->req_mem)
		port->dma_free(port->ctx, g->req_mem, GPU_SLOTS * GPU_REQ_SIZE);
	if (g->resp_mem)
		port->dma_free(port->ctx, g->resp_mem, GPU_SLOTS * GPU_RESP_SIZE);
	if (g->big)
		port->dma_free(port->ctx, g->big, sizeof(*g->big));
	if (g->entries)
		port->dma_free(port->ctx, g->entries,
			       VIO_GPU_MAX_ENTRIES * sizeof(struct virtio_gpu_mem_entry));
	if (g->cursor_mem)
		port->dma_free(port->ctx, g->cursor_mem, GPU_CURSOR_SLOTS * sizeof(*g->cursor_mem));
	if (g->ev.req)
		port->dma_free(port->ctx, g->ev.req, GPU_REQ_SIZE);
	if (g->ev_resp)
		port->dma_free(port->ctx, g->ev_resp, sizeof(*g->ev_resp));
	g->ev.req = NULL;
	g->ev_resp = NULL;
	g->req_mem = g->resp_mem = NULL;
	g->big = NULL;
	g->entries = NULL;
	g->cursor_mem = NULL;
}

/*
 * vio_dev_recover: the device was reset and gpu_remove gave back the
 * buffers. The reset destroyed every resource and scanout on the device
 * (5.7.6: they are the driver's to create): the application sets them up
 * again. Its event handler and the ids and fences handed out stay.
 */
static int gpu_resume(struct vio_device *dev)
{
	struct gpu *g = dev->priv;
	void (*fn)(struct vio_device *, void *) = g->event_fn;
	void *arg = g->event_arg;
	uint32_t next_id = g->next_id;
	uint64_t next_fence = g->next_fence;

	memset(g, 0, sizeof(*g));
	g->event_fn = fn;
	g->event_arg = arg;
	g->next_id = next_id;
	g->next_fence = next_fence;
	return gpu_probe(dev);
}

static const struct vio_feature_name gpu_features[] = {
	{ VIRTIO_GPU_F_VIRGL, "VIRGL" },
	{ VIRTIO_GPU_F_EDID, "EDID" },
	{ VIRTIO_GPU_F_RESOURCE_UUID, "RESOURCE_UUID" },
	{ VIRTIO_GPU_F_RESOURCE_BLOB, "RESOURCE_BLOB" },
	{ VIRTIO_GPU_F_CONTEXT_INIT, "CONTEXT_INIT" },
	{ 0, NULL },
};

const struct vio_driver vio_gpu_driver = {
	.name = "gpu",
	.device_id = VIRTIO_ID_GPU,
	.features = 1ull << VIRTIO_GPU_F_EDID, /* 2D only: no VIRGL, no blobs */
	.feature_names = gpu_features,
	.priv_size = sizeof(struct gpu),
	.uses_indirect = true,
	.probe = gpu_probe,
	.remove = gpu_remove,
	.config_changed = gpu_config_changed,
	.started = gpu_started,
	.resume = gpu_resume,
};
