/* SPDX-License-Identifier: Apache-2.0 */
/* The virtio-gpu device model (gpu_model.h). Host tests run little-endian: fields are native. */
#include <stdlib.h>
#include <string.h>

#include <vio/spec/virtio_config.h>
#include <vio/spec/virtio_gpu.h>

#include "gpu_model.h"
#include "sim_cache.h"

#define REQ_MAX 4096u

struct sim_gpu_res *sim_gpu_find(struct sim_gpu *g, uint32_t id)
{
	for (unsigned i = 0; id && i < SIM_GPU_RES; i++)
		if (g->res[i].id == id)
			return &g->res[i];
	return NULL;
}

static uint32_t nscanouts(const struct sim_dev *d)
{
	uint32_t n;

	memcpy(&n, d->config + VIRTIO_GPU_CFG_NUM_SCANOUTS, 4);
	return n < SIM_GPU_SCANOUTS ? n : SIM_GPU_SCANOUTS;
}

/* Copy len bytes at offset off of the resource's backing into dst; false when beyond it. */
static bool backing_read(const struct sim_gpu_res *r, uint64_t off, void *dst, uint32_t len)
{
	uint8_t *out = dst;

	for (uint32_t i = 0; i < r->nent && len; i++) {
		if (off >= r->len[i]) {
			off -= r->len[i];
			continue;
		}
		uint32_t n = r->len[i] - (uint32_t)off < len ? r->len[i] - (uint32_t)off : len;

		/* What the device sees: on the non-coherent port, only what was cleaned. */
		sim_cache_dev_read(r->addr[i] + off, out, n);
		out += n;
		len -= n;
		off = 0;
	}
	return len == 0;
}

static bool rect_in(const struct sim_gpu_res *r, const struct virtio_gpu_rect *q)
{
	return q->x <= r->width && q->y <= r->height && q->width <= r->width - q->x &&
	       q->height <= r->height - q->y;
}

/* Serve one control command in req (len bytes); the answer goes to resp, its length returned. */
static uint32_t serve(struct sim_dev *d, struct sim_gpu *g, const uint8_t *req, uint32_t len,
		      uint8_t *resp)
{
	const struct virtio_gpu_ctrl_hdr *h = (const void *)req;
	struct virtio_gpu_ctrl_hdr *o = (void *)resp;
	uint32_t rlen = sizeof(*o);
	struct sim_gpu_res *r;

	o->type = VIRTIO_GPU_RESP_OK_NODATA;
	g->count[h->type & 0xf]++;
	g->last_flags = h->flags;
	switch (h->type) {
	case VIRTIO_GPU_CMD_GET_DISPLAY_INFO: {
		struct virtio_gpu_resp_display_info *di = (void *)resp;

		o->type = VIRTIO_GPU_RESP_OK_DISPLAY_INFO;
		for (uint32_t i = 0; i < nscanouts(d); i++) {
			di->pmodes[i].enabled = g->scanout[i].enabled;
			di->pmodes[i].r.width = g->scanout[i].width;
			di->pmodes[i].r.height = g->scanout[i].height;
		}
		rlen = sizeof(*di);
		break;
	}
	case VIRTIO_GPU_CMD_GET_EDID: {
		const struct virtio_gpu_get_edid *q = (const void *)req;
		struct virtio_gpu_resp_edid *e = (void *)resp;

		if (len < sizeof(*q) || q->scanout >= nscanouts(d)) {
			o->type = VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
			break;
		}
		o->type = VIRTIO_GPU_RESP_OK_EDID;
		e->size = g->edid_size ? g->edid_size : g->scanout[q->scanout].edid_len;
		memcpy(e->edid, g->scanout[q->scanout].edid, sizeof(e->edid));
		rlen = sizeof(*e);
		break;
	}
	case VIRTIO_GPU_CMD_RESOURCE_CREATE_2D: {
		const struct virtio_gpu_resource_create_2d *q = (const void *)req;

		if (len < sizeof(*q) || !q->resource_id || sim_gpu_find(g, q->resource_id)) {
			o->type = VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
			break;
		}
		r = sim_gpu_find(g, 0);
		for (unsigned i = 0; !r && i < SIM_GPU_RES; i++)
			if (!g->res[i].id)
				r = &g->res[i];
		/* The host's memory: a resource of more than 64 MiB does not fit. */
		if (!r || (uint64_t)q->width * q->height > (16u << 20)) {
			o->type = VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
			break;
		}
		memset(r, 0, sizeof(*r));
		r->id = q->resource_id;
		r->format = q->format;
		r->width = q->width;
		r->height = q->height;
		r->host = calloc((size_t)q->width * q->height, 4);
		break;
	}
	case VIRTIO_GPU_CMD_RESOURCE_UNREF:
	case VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING: {
		const struct virtio_gpu_resource_unref *q = (const void *)req;

		r = len >= sizeof(*q) ? sim_gpu_find(g, q->resource_id) : NULL;
		if (!r) {
			o->type = VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
			break;
		}
		r->nent = 0;
		if (h->type == VIRTIO_GPU_CMD_RESOURCE_UNREF) {
			free(r->host);
			memset(r, 0, sizeof(*r));
		}
		break;
	}
	case VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING: {
		const struct virtio_gpu_resource_attach_backing *q = (const void *)req;
		const struct virtio_gpu_mem_entry *e = (const void *)(q + 1);

		r = len >= sizeof(*q) ? sim_gpu_find(g, q->resource_id) : NULL;
		if (!r) {
			o->type = VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
			break;
		}
		if (q->nr_entries > SIM_GPU_ENTRIES ||
		    q->nr_entries > (len - sizeof(*q)) / sizeof(*e)) {
			sim_error("dev%d: ATTACH_BACKING of %u entries in %u bytes", d->slot,
				  q->nr_entries, len);
			o->type = VIRTIO_GPU_RESP_ERR_UNSPEC;
			break;
		}
		g->last_nent = q->nr_entries;
		r->nent = q->nr_entries;
		for (uint32_t i = 0; i < q->nr_entries; i++) {
			r->addr[i] = e[i].addr;
			r->len[i] = e[i].length;
		}
		break;
	}
	case VIRTIO_GPU_CMD_SET_SCANOUT: {
		const struct virtio_gpu_set_scanout *q = (const void *)req;

		if (len < sizeof(*q) || q->scanout_id >= nscanouts(d)) {
			o->type = VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
			break;
		}
		r = sim_gpu_find(g, q->resource_id);
		if (q->resource_id && !r) {
			o->type = VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
			break;
		}
		if (r && !rect_in(r, &q->r)) {
			o->type = VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
			break;
		}
		g->scanout[q->scanout_id].res = q->resource_id;
		g->scanout[q->scanout_id].rx = q->r.x;
		g->scanout[q->scanout_id].ry = q->r.y;
		g->scanout[q->scanout_id].rw = q->r.width;
		g->scanout[q->scanout_id].rh = q->r.height;
		break;
	}
	case VIRTIO_GPU_CMD_RESOURCE_FLUSH: {
		const struct virtio_gpu_resource_flush *q = (const void *)req;

		r = len >= sizeof(*q) ? sim_gpu_find(g, q->resource_id) : NULL;
		if (!r) {
			o->type = VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
			break;
		}
		if (!rect_in(r, &q->r)) {
			o->type = VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
			break;
		}
		g->flushes++;
		memcpy(g->last_flush, &q->r, sizeof(g->last_flush));
		break;
	}
	case VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D: {
		const struct virtio_gpu_transfer_to_host_2d *q = (const void *)req;

		r = len >= sizeof(*q) ? sim_gpu_find(g, q->resource_id) : NULL;
		if (!r || !r->nent) {
			o->type = r ? VIRTIO_GPU_RESP_ERR_UNSPEC : VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
			break;
		}
		if (!rect_in(r, &q->r)) {
			o->type = VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
			break;
		}
		memcpy(g->last_transfer, &q->r, sizeof(g->last_transfer));
		/* Row h of the rectangle starts at offset + h * stride in the backing. */
		for (uint32_t y = 0; y < q->r.height; y++)
			if (!backing_read(r, q->offset + (uint64_t)y * r->width * 4,
					  r->host + (size_t)(q->r.y + y) * r->width + q->r.x,
					  q->r.width * 4)) {
				o->type = VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
				break;
			}
		break;
	}
	default:
		o->type = VIRTIO_GPU_RESP_ERR_UNSPEC;
		break;
	}
	if ((h->flags & VIRTIO_GPU_FLAG_FENCE) && !g->drop_fence) {
		/* 5.7.6.7: the fence comes back with the answer. */
		o->flags |= VIRTIO_GPU_FLAG_FENCE;
		o->fence_id = h->fence_id;
	}
	return rlen;
}

static int gpu_handle(struct sim_dev *d, unsigned q, const struct sim_chain *c)
{
	static uint8_t req[REQ_MAX], resp[sizeof(struct virtio_gpu_resp_edid)];
	struct sim_gpu *g = d->model_ctx;
	uint32_t len = 0, rlen, done = 0;

	for (unsigned i = 0; i < c->nout; i++) {
		uint32_t n = c->out[i].len < REQ_MAX - len ? c->out[i].len : REQ_MAX - len;

		memcpy(req + len, c->out[i].buf, n);
		len += n;
	}
	if (len < sizeof(struct virtio_gpu_ctrl_hdr)) {
		sim_error("dev%d: gpu request of %u bytes", d->slot, len);
		return 0;
	}
	if (q == VIRTIO_GPU_CURSORQ) {
		const struct virtio_gpu_update_cursor *u = (const void *)req;

		if (len < sizeof(*u) || c->nin)
			sim_error("dev%d: cursor command of %u bytes, %u writable", d->slot, len,
				  c->nin);
		if (u->hdr.type == VIRTIO_GPU_CMD_UPDATE_CURSOR) {
			g->cursor_updates++;
			g->cursor_res = u->resource_id;
		} else {
			g->cursor_moves++;
		}
		g->cursor_x = u->pos.x;
		g->cursor_y = u->pos.y;
		return 0;
	}
	if (q != VIRTIO_GPU_CONTROLQ || !c->nin) {
		sim_error("dev%d: gpu command on queue %u without a response buffer", d->slot, q);
		return 0;
	}
	memset(resp, 0, sizeof(resp));
	rlen = serve(d, g, req, len, resp);
	g->cmds++;
	if (g->wrong_type)
		((struct virtio_gpu_ctrl_hdr *)resp)->type = g->wrong_type;
	if (g->short_resp >= 0)
		rlen = (uint32_t)g->short_resp < rlen ? (uint32_t)g->short_resp : rlen;
	if (!g->sticky) {
		g->wrong_type = 0;
		g->short_resp = -1;
		g->drop_fence = false;
	}
	for (unsigned i = 0; i < c->nin && done < rlen; i++) {
		uint32_t n = c->in[i].len < rlen - done ? c->in[i].len : rlen - done;

		memcpy(c->in[i].buf, resp + done, n);
		done += n;
	}
	return (int)done;
}

static void gpu_config_write(struct sim_dev *d, unsigned off, unsigned width)
{
	struct sim_gpu *g = d->model_ctx;
	uint32_t clear, read;

	if (off != VIRTIO_GPU_CFG_EVENTS_CLEAR || width != 4) {
		sim_error("dev%d: gpu config write at %u", d->slot, off);
		return;
	}
	/* 5.7.4: events_clear clears those bits of events_read. */
	memcpy(&clear, d->config + VIRTIO_GPU_CFG_EVENTS_CLEAR, 4);
	memcpy(&read, d->config + VIRTIO_GPU_CFG_EVENTS_READ, 4);
	read &= ~clear;
	memcpy(d->config + VIRTIO_GPU_CFG_EVENTS_READ, &read, 4);
	g->events_cleared |= clear;
}

const struct sim_model sim_gpu_model = {
	.name = "gpu",
	.handle = gpu_handle,
	.config_write = gpu_config_write,
};

void sim_gpu_attach(struct sim_dev *d, struct sim_gpu *g, uint32_t n)
{
	memset(g, 0, sizeof(*g));
	g->short_resp = -1;
	d->device_id = VIRTIO_ID_GPU;
	d->model = &sim_gpu_model;
	d->model_ctx = g;
	d->q[1].num_max = 256;
	sim_config_set(d, VIRTIO_GPU_CFG_EVENTS_READ, 4, 0);
	sim_config_set(d, VIRTIO_GPU_CFG_EVENTS_CLEAR, 4, 0);
	sim_config_set(d, VIRTIO_GPU_CFG_NUM_SCANOUTS, 4, n);
	sim_config_set(d, VIRTIO_GPU_CFG_NUM_CAPSETS, 4, 0);
}

void sim_gpu_free(struct sim_gpu *g)
{
	for (unsigned i = 0; i < SIM_GPU_RES; i++) {
		free(g->res[i].host);
		g->res[i].host = NULL;
	}
}

void sim_gpu_make_edid(uint8_t e[128], uint32_t w, uint32_t h, const char *name)
{
	static const uint8_t hdr[8] = { 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0 };
	uint8_t *dtd = e + 54, *nd = e + 72, sum = 0;
	size_t n = strlen(name);

	memset(e, 0, 128);
	memcpy(e, hdr, 8);
	e[8] = 0x59; /* "VIO": V=22, I=9, O=15 -> 0101 1001 0010 1111 */
	e[9] = 0x2f;
	e[18] = 1;
	e[19] = 4;
	dtd[0] = 0x01; /* pixel clock, any non-zero */
	dtd[1] = 0x1d;
	dtd[2] = (uint8_t)w;
	dtd[4] = (uint8_t)((w >> 8) << 4);
	dtd[5] = (uint8_t)h;
	dtd[7] = (uint8_t)((h >> 8) << 4);
	nd[3] = 0xfc;
	for (size_t i = 0; i < 13; i++)
		nd[5 + i] = i < n ? (uint8_t)name[i] : (i == n ? 0x0a : 0x20);
	for (int i = 0; i < 127; i++)
		sum = (uint8_t)(sum + e[i]);
	e[127] = (uint8_t)(0x100 - sum);
}

void sim_gpu_display_event(struct sim_dev *d)
{
	uint32_t ev = VIRTIO_GPU_EVENT_DISPLAY;

	sim_config_change(d, VIRTIO_GPU_CFG_EVENTS_READ, &ev, 4);
}
