/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-blk driver (VirtIO 1.2 section 5.2): probe and configuration, the
 * request queues and the asynchronous API. The blocking calls are in
 * blk_io.c.
 *
 * A request is a descriptor chain in the order 5.2.6 draws it: the 16-byte
 * header (device-readable), the data (readable for a write, writable for a
 * read), the status byte (writable). Header and status sit in a per-slot
 * struct blk_dma allocated at probe time, one slot per ring entry, so the
 * I/O path allocates nothing; the caller's data buffers go to the device
 * as they are.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <vio/blk.h>
#include <vio/error.h>
#include <vio/spec/virtio_blk.h>
#include <vio/spec/virtio_config.h>

#include "core/log.h"
#include "dev/blk_priv.h"
#include "vio_config.h"

#define NS_PER_MS 1000000ull
#define CFG(field) ((unsigned)offsetof(struct virtio_blk_config, field))

/* Not a status: the device has not written the byte (5.2.6 defines 0..2). */
#define STATUS_UNSET 0xffu

#define BLK_SIZE_MIN 512u
#define BLK_SIZE_MAX 65536u

static const struct vio_feature_name blk_feature_names[] = {
	{ VIRTIO_BLK_F_BARRIER, "BLK_BARRIER" },
	{ VIRTIO_BLK_F_SIZE_MAX, "BLK_SIZE_MAX" },
	{ VIRTIO_BLK_F_SEG_MAX, "BLK_SEG_MAX" },
	{ VIRTIO_BLK_F_GEOMETRY, "BLK_GEOMETRY" },
	{ VIRTIO_BLK_F_RO, "BLK_RO" },
	{ VIRTIO_BLK_F_BLK_SIZE, "BLK_BLK_SIZE" },
	{ VIRTIO_BLK_F_SCSI, "BLK_SCSI" },
	{ VIRTIO_BLK_F_FLUSH, "BLK_FLUSH" },
	{ VIRTIO_BLK_F_TOPOLOGY, "BLK_TOPOLOGY" },
	{ VIRTIO_BLK_F_CONFIG_WCE, "BLK_CONFIG_WCE" },
	{ VIRTIO_BLK_F_MQ, "BLK_MQ" },
	{ VIRTIO_BLK_F_DISCARD, "BLK_DISCARD" },
	{ VIRTIO_BLK_F_WRITE_ZEROES, "BLK_WRITE_ZEROES" },
	{ VIRTIO_BLK_F_LIFETIME, "BLK_LIFETIME" },
	{ VIRTIO_BLK_F_SECURE_ERASE, "BLK_SECURE_ERASE" },
	{ VIRTIO_BLK_F_ZONED, "BLK_ZONED" },
	{ 0, NULL },
};

static inline uint32_t min32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* 5.2.6.3: legacy headers use the guest's byte order, modern ones little-endian. */
static inline uint32_t dev32(const struct blk *b, uint32_t v)
{
	return b->legacy ? v : vio_cpu_to_le32(v);
}

static inline uint64_t dev64(const struct blk *b, uint64_t v)
{
	return b->legacy ? v : vio_cpu_to_le64(v);
}

/* ------------------------------------------------------------------ */
/* Lookups and argument checks */

int blk_lookup(struct vio_device *dev, unsigned qi, struct blk **bp, struct blk_queue **qp)
{
	struct blk *b;

	if (!dev || dev->driver != &vio_blk_driver || !dev->priv)
		return VIO_ENODEV;
	b = dev->priv;
	if (b->dev != dev || !b->nq)
		return VIO_ENODEV; /* probe did not finish */
	if (qp) {
		if (qi >= b->nq)
			return VIO_EINVAL;
		*qp = &b->q[qi];
	}
	*bp = b;
	return 0;
}

int vio_blk_check(const struct vio_device *dev)
{
	if (!dev || dev->driver != &vio_blk_driver)
		return VIO_ENODEV;
	if (dev->state != VIO_DEV_READY)
		return dev->state == VIO_DEV_FAILED ? VIO_ESHUTDOWN : VIO_ENODEV;
	return 0;
}

int blk_check_range(const struct blk *b, uint64_t sector, uint64_t count)
{
	uint64_t cap = b->info.capacity;

	if (!count || sector % b->block_sectors || count % b->block_sectors)
		return VIO_EINVAL;
	/* 5.2.6.1: never beyond capacity (written to stay clear of overflow) */
	if (sector > cap || count > cap - sector)
		return VIO_ERANGE;
	return 0;
}

int blk_check_sg(const struct vio_sg *sg, unsigned nsg, uint64_t *total)
{
	uint64_t t = 0;

	if (!sg || !nsg)
		return VIO_EINVAL;
	for (unsigned i = 0; i < nsg; i++) {
		if (!sg[i].buf || !sg[i].len)
			return VIO_EINVAL;
		t += sg[i].len;
	}
	*total = t;
	return 0;
}

/* Move c forward by bytes. */
static void advance(struct blk_cursor *c, uint32_t bytes)
{
	while (bytes && c->i < c->nsg) {
		uint32_t left = c->sg[c->i].len - c->off;

		if (bytes < left) {
			c->off += bytes;
			return;
		}
		bytes -= left;
		c->i++;
		c->off = 0;
	}
}

uint32_t blk_cut(const struct blk *b, struct blk_cursor *c, struct vio_sg *piece, unsigned *np,
		 uint32_t max_bytes)
{
	struct blk_cursor start = *c;
	uint32_t total = 0, excess;
	unsigned n = 0;

	while (c->i < c->nsg && n < b->info.seg_max && total < max_bytes) {
		const struct vio_sg *s = &c->sg[c->i];
		uint32_t take = min32(min32(s->len - c->off, b->info.size_max), max_bytes - total);

		piece[n].buf = (uint8_t *)s->buf + c->off;
		piece[n].len = take;
		n++;
		total += take;
		advance(c, take);
	}
	/* Every request is a whole number of logical blocks: give back the tail. */
	excess = total % b->info.block_size;
	total -= excess;
	while (excess) {
		uint32_t t = min32(excess, piece[n - 1].len);

		piece[n - 1].len -= t;
		excess -= t;
		if (!piece[n - 1].len)
			n--;
	}
	*c = start;
	advance(c, total);
	*np = n;
	return total;
}

/* ------------------------------------------------------------------ */
/* Building and completing requests */

static uint32_t type_of(enum vio_blk_op op)
{
	switch (op) {
	case VIO_BLK_OP_READ: return VIRTIO_BLK_T_IN;
	case VIO_BLK_OP_WRITE: return VIRTIO_BLK_T_OUT;
	case VIO_BLK_OP_FLUSH: return VIRTIO_BLK_T_FLUSH;
	case VIO_BLK_OP_DISCARD: return VIRTIO_BLK_T_DISCARD;
	case VIO_BLK_OP_WRITE_ZEROES: return VIRTIO_BLK_T_WRITE_ZEROES;
	default: return VIRTIO_BLK_T_GET_ID;
	}
}

int blk_enqueue(struct blk *b, struct blk_queue *q, struct vio_blk_req *req,
		const struct vio_sg *data, unsigned n, uint32_t len)
{
	const struct vio_port *port = vio_port();
	struct vio_sg sg[VIO_BLK_SEGS_MAX + 2];
	unsigned out = 1, in = 1, k = 1;
	struct blk_dma *d;
	uint16_t slot;
	int rc;

	if (!q->nfree)
		return VIO_ENOSPC;
	slot = q->free[q->nfree - 1];
	d = &q->dma[slot];

	/* 5.2.6: header; the sector is 0 for everything but reads and writes */
	d->hdr.type = dev32(b, type_of(req->op));
	d->hdr.ioprio = 0;
	d->hdr.sector = dev64(b, req->op == VIO_BLK_OP_READ || req->op == VIO_BLK_OP_WRITE
					 ? req->sector : 0);
	d->status = STATUS_UNSET;
	sg[0].buf = &d->hdr;
	sg[0].len = sizeof(d->hdr);

	switch (req->op) {
	case VIO_BLK_OP_READ:
	case VIO_BLK_OP_WRITE:
		for (unsigned i = 0; i < n; i++)
			sg[k++] = data[i];
		if (req->op == VIO_BLK_OP_WRITE)
			out += n;
		else
			in += n;
		break;
	case VIO_BLK_OP_DISCARD:
	case VIO_BLK_OP_WRITE_ZEROES:
		/* 5.2.6: one range; unmap must be 0 for a discard */
		d->dwz.sector = dev64(b, req->sector);
		d->dwz.num_sectors = dev32(b, req->count);
		d->dwz.flags = dev32(b, req->op == VIO_BLK_OP_WRITE_ZEROES && req->unmap
					? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0);
		sg[k].buf = &d->dwz;
		sg[k++].len = sizeof(d->dwz);
		out++;
		break;
	case VIO_BLK_OP_GET_ID:
		/* Zeroed first: bytes the device leaves alone read as NUL. */
		memset(d->id, 0, sizeof(d->id));
		sg[k].buf = d->id;
		sg[k++].len = sizeof(d->id);
		in++;
		break;
	default: /* FLUSH: 5.2.6.1, no data */
		break;
	}
	sg[k].buf = &d->status;
	sg[k++].len = 1;

	/*
	 * The virtqueue cleans what the device reads; the lines the device
	 * writes (status, ID, read data) are cleaned too, so no dirty line is
	 * written back over what the device put there.
	 */
	if (port->cache_clean) {
		port->cache_clean(port->ctx, d, sizeof(*d));
		if (req->op == VIO_BLK_OP_READ)
			for (unsigned i = 0; i < n; i++)
				port->cache_clean(port->ctx, data[i].buf, data[i].len);
	}

	rc = vio_vq_enqueue(q->vq, sg, out, in, req);
	if (rc)
		return rc == VIO_EINVAL ? VIO_ERANGE : rc; /* a chain the ring cannot hold */
	q->nfree--;
	q->reqs[slot] = req;
	req->slot = slot;
	req->queue = q->index;
	req->data_len = len;
	req->result = 0;
	req->busy = true;
	return 0;
}

/* Copy the ID out of DMA memory: NUL-terminated, printable (5.2.6: NUL-padded, max 20). */
static void copy_id(char *dst, const uint8_t *src)
{
	unsigned i;

	for (i = 0; i < VIRTIO_BLK_ID_BYTES && src[i]; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? (char)src[i] : '?';
	dst[i] = '\0';
}

/* Give the slot back and run the callback. */
static void finish(struct blk_queue *q, struct vio_blk_req *req, int result)
{
	q->reqs[req->slot] = NULL;
	q->free[q->nfree++] = req->slot;
	q->completions++;
	req->busy = false;
	req->result = result;
	if (req->done)
		req->done(req);
}

/* Judge a completed request by its status byte and used length. */
static int judge(struct blk *b, struct blk_queue *q, struct vio_blk_req *req, uint8_t status,
		 uint32_t len)
{
	switch (status) {
	case VIRTIO_BLK_S_OK:
		break;
	case VIRTIO_BLK_S_IOERR:
		return VIO_EIO;
	case VIRTIO_BLK_S_UNSUPP:
		return VIO_ENOTSUP;
	default:
		/* 5.2.6: only three values exist; 0xff means it was never written */
		vio_err("%s: queue %u: request status %u is not a VirtIO status%s", b->dev->name,
			q->index, status, status == STATUS_UNSET ? " (never written)" : "");
		return VIO_EPROTO;
	}
	/*
	 * 2.7.8: the used length counts the bytes written, status included.
	 * A modern device that read successfully wrote all the data; a shorter
	 * length says some of it is not there. Legacy devices are known to
	 * report lengths that mean nothing (5.2.6.3: the driver SHOULD ignore
	 * them). The virtqueue has already refused lengths beyond the buffers,
	 * and nothing here indexes memory with it.
	 */
	if (!b->legacy && req->op == VIO_BLK_OP_READ && len < (uint64_t)req->data_len + 1) {
		vio_err("%s: queue %u: read of %u bytes completed with used length %u",
			b->dev->name, q->index, req->data_len, len);
		return VIO_EPROTO;
	}
	return 0;
}

static void complete(struct blk *b, struct blk_queue *q, struct vio_blk_req *req, uint32_t len)
{
	const struct vio_port *port = vio_port();
	struct blk_dma *d = &q->dma[req->slot];
	uint8_t status;
	int rc;

	if (port->cache_invalidate) {
		port->cache_invalidate(port->ctx, d, sizeof(*d));
		if (req->op == VIO_BLK_OP_READ && req->sg)
			for (unsigned i = 0; i < req->nsg; i++)
				port->cache_invalidate(port->ctx, req->sg[i].buf, req->sg[i].len);
	}
	status = *(volatile uint8_t *)&d->status;
	rc = judge(b, q, req, status, len);
	if (rc == VIO_EPROTO)
		vio_dev_fail(b->dev, VIO_EPROTO); /* before the callback: no new work */
	if (!rc && req->op == VIO_BLK_OP_GET_ID)
		copy_id(req->id, d->id);
	finish(q, req, rc);
}

/* The device failed: every request still in flight on q ends with its error. */
static unsigned abort_all(struct blk *b, struct blk_queue *q)
{
	int err = b->dev->error ? b->dev->error : VIO_ESHUTDOWN;
	unsigned n = 0;

	for (unsigned slot = 0; slot < q->size; slot++) {
		struct vio_blk_req *req = q->reqs[slot];

		if (req) {
			finish(q, req, err);
			n++;
		}
	}
	return n;
}

unsigned blk_drain(struct blk *b, struct blk_queue *q)
{
	unsigned n = 0;
	void *cookie;
	uint32_t len;
	int rc;

	while ((rc = vio_vq_dequeue(q->vq, &cookie, &len)) == 0) {
		complete(b, q, cookie, len);
		n++;
	}
	/* VIO_EPROTO / VIO_ESHUTDOWN: the queue is broken and the device failed */
	if (rc != VIO_EAGAIN || b->dev->state != VIO_DEV_READY)
		n += abort_all(b, q);
	return n;
}

struct progress {
	struct blk *b;
	struct blk_queue *q;
	uint32_t seen;
};

static bool progressed(void *arg)
{
	struct progress *p = arg;
	const struct vio_os *os = vio_os();
	struct blk *b = p->b;

	blk_drain(b, p->q);
	/*
	 * The device has one interrupt for all its queues, and the OS event
	 * wakes one waiter. A waiter that finds completions for another
	 * queue's waiter passes the wake-up on.
	 */
	if (os && vio_dev_uses_irq(b->dev)) {
		for (unsigned i = 0; i < b->nq; i++) {
			struct blk_queue *o = &b->q[i];

			if (o != p->q && o->waiters && vio_vq_has_used(o->vq)) {
				os->event_signal(os->ctx, b->dev->event);
				break;
			}
		}
	}
	return p->q->completions != p->seen || b->dev->state != VIO_DEV_READY;
}

int blk_wait_progress(struct blk *b, struct blk_queue *q, uint64_t timeout_ns)
{
	struct progress p = { b, q, q->completions };
	int rc;

	q->waiters++;
	rc = vio_dev_wait(b->dev, progressed, &p, timeout_ns);
	q->waiters--;
	if (!rc && b->dev->state != VIO_DEV_READY)
		rc = VIO_ESHUTDOWN;
	return rc;
}

/* ------------------------------------------------------------------ */
/* The asynchronous API */

/* Check req against the device; cut READ/WRITE data into pieces. */
static int check_req(struct blk *b, struct vio_blk_req *req, struct vio_sg *piece, unsigned *n,
		     uint32_t *len)
{
	const struct vio_blk_info *in = &b->info;
	struct blk_cursor c;
	uint64_t total;
	int rc;

	*n = 0;
	*len = 0;
	switch (req->op) {
	case VIO_BLK_OP_READ:
	case VIO_BLK_OP_WRITE:
		if (req->op == VIO_BLK_OP_WRITE && in->read_only)
			return VIO_EROFS;
		rc = blk_check_sg(req->sg, req->nsg, &total);
		if (rc)
			return rc;
		if (total % in->block_size)
			return VIO_EINVAL;
		rc = blk_check_range(b, req->sector, total >> VIRTIO_BLK_SECTOR_SHIFT);
		if (rc)
			return rc;
		if (total > (uint64_t)in->max_sectors << VIRTIO_BLK_SECTOR_SHIFT)
			return VIO_ERANGE;
		c = (struct blk_cursor){ req->sg, req->nsg, 0, 0 };
		*len = blk_cut(b, &c, piece, n, (uint32_t)total);
		/* Not all of it fits in seg_max segments of size_max bytes. */
		return *len == total ? 0 : VIO_ERANGE;
	case VIO_BLK_OP_FLUSH:
		return in->flush ? 0 : VIO_ENOTSUP;
	case VIO_BLK_OP_DISCARD:
	case VIO_BLK_OP_WRITE_ZEROES:
		if (req->op == VIO_BLK_OP_DISCARD ? !in->discard : !in->write_zeroes)
			return VIO_ENOTSUP;
		if (in->read_only)
			return VIO_EROFS;
		rc = blk_check_range(b, req->sector, req->count);
		if (rc)
			return rc;
		if (req->count > (req->op == VIO_BLK_OP_DISCARD ? in->max_discard_sectors
							      : in->max_write_zeroes_sectors))
			return VIO_ERANGE;
		return 0;
	case VIO_BLK_OP_GET_ID:
		return req->id ? 0 : VIO_EINVAL;
	default:
		return VIO_EINVAL;
	}
}

int vio_blk_queue(struct vio_device *dev, unsigned queue, struct vio_blk_req *req)
{
	struct vio_sg piece[VIO_BLK_SEGS_MAX];
	struct blk_queue *q;
	struct blk *b;
	uint32_t len;
	unsigned n;
	int rc;

	rc = vio_blk_check(dev);
	if (!rc)
		rc = blk_lookup(dev, queue, &b, &q);
	if (rc)
		return rc;
	if (!req)
		return VIO_EINVAL;
	if (req->busy)
		return VIO_EBUSY;
	rc = check_req(b, req, piece, &n, &len);
	if (rc)
		return rc;
	return blk_enqueue(b, q, req, piece, n, len);
}

void vio_blk_kick(struct vio_device *dev, unsigned queue)
{
	struct blk_queue *q;
	struct blk *b;

	if (!blk_lookup(dev, queue, &b, &q))
		vio_vq_kick(q->vq);
}

int vio_blk_submit(struct vio_device *dev, unsigned queue, struct vio_blk_req *req)
{
	int rc = vio_blk_queue(dev, queue, req);

	if (!rc)
		vio_blk_kick(dev, queue);
	return rc;
}

int vio_blk_poll(struct vio_device *dev, unsigned queue)
{
	struct blk_queue *q;
	struct blk *b;
	unsigned n;
	int rc;

	rc = blk_lookup(dev, queue, &b, &q);
	if (rc)
		return rc;
	/* Polled: now and then look for config changes and NEEDS_RESET too. */
	if (dev->state == VIO_DEV_READY && !vio_dev_uses_irq(dev) && ++q->polls % 256 == 0)
		vio_dev_service(dev);
	n = blk_drain(b, q);
	if (dev->state != VIO_DEV_READY)
		return VIO_ESHUTDOWN;
	return (int)n;
}

int vio_blk_wait(struct vio_device *dev, unsigned queue, uint64_t timeout_ns)
{
	struct blk_queue *q;
	struct blk *b;
	uint32_t before;
	int rc;

	rc = blk_lookup(dev, queue, &b, &q);
	if (rc)
		return rc;
	before = q->completions;
	if (dev->state == VIO_DEV_READY) {
		vio_vq_kick(q->vq);
		if (q->nfree == q->size)
			return 0; /* nothing to wait for */
		rc = blk_wait_progress(b, q, timeout_ns);
	}
	if (dev->state != VIO_DEV_READY) {
		blk_drain(b, q); /* end what is left with the device's error */
		return VIO_ESHUTDOWN;
	}
	if (rc)
		return rc;
	return (int)(q->completions - before);
}

unsigned vio_blk_in_flight(struct vio_device *dev, unsigned queue)
{
	struct blk_queue *q;
	struct blk *b;

	if (blk_lookup(dev, queue, &b, &q))
		return 0;
	return (unsigned)(q->size - q->nfree);
}

int vio_blk_get_info(struct vio_device *dev, struct vio_blk_info *info)
{
	struct blk *b;
	int rc;

	rc = vio_blk_check(dev);
	if (!rc)
		rc = blk_lookup(dev, 0, &b, NULL);
	if (rc)
		return rc;
	if (!info)
		return VIO_EINVAL;
	*info = b->info;
	return 0;
}

int vio_blk_writeback(struct vio_device *dev)
{
	struct blk *b;
	int rc;

	rc = vio_blk_check(dev);
	if (!rc)
		rc = blk_lookup(dev, 0, &b, NULL);
	if (rc)
		return rc;
	return b->info.writeback ? 1 : 0;
}

int vio_blk_set_timeout(struct vio_device *dev, uint64_t timeout_ns)
{
	struct blk *b;
	int rc;

	rc = blk_lookup(dev, 0, &b, NULL);
	if (rc)
		return rc;
	b->timeout_ns = timeout_ns ? timeout_ns : (uint64_t)CONFIG_VIO_TIMEOUT_MS * NS_PER_MS;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Probe: configuration space (5.2.4, 5.2.5) and queues */

static int cfg_read(struct blk *b, unsigned off, unsigned width, uint64_t *v)
{
	return vio_dev_config_read(b->dev, off, width, v);
}

/* A device that describes itself in a way that cannot be true is refused. */
static int nonsense(const struct blk *b, const char *field, uint64_t v, const char *why)
{
	vio_err("%s: refused: %s %llu %s", b->dev->name, field, (unsigned long long)v, why);
	return VIO_EPROTO;
}

static int read_geometry(struct blk *b)
{
	struct vio_device *dev = b->dev;
	struct vio_blk_info *in = &b->info;
	uint64_t v;
	int rc;

	rc = cfg_read(b, CFG(capacity), 8, &v);
	if (rc)
		return rc;
	if (v > UINT64_MAX >> VIRTIO_BLK_SECTOR_SHIFT)
		return nonsense(b, "capacity", v, "sectors is beyond 2^64 bytes");
	in->capacity = v;

	/* 5.2.5: blk_size is the logical block; 512 without the feature */
	in->block_size = VIRTIO_BLK_SECTOR_SIZE;
	if (vio_dev_has(dev, VIRTIO_BLK_F_BLK_SIZE)) {
		rc = cfg_read(b, CFG(blk_size), 4, &v);
		if (rc)
			return rc;
		if (v < BLK_SIZE_MIN || v > BLK_SIZE_MAX || (v & (v - 1)))
			return nonsense(b, "blk_size", v, "is not a power of two from 512 to 65536");
		in->block_size = (uint32_t)v;
	}
	b->block_sectors = in->block_size >> VIRTIO_BLK_SECTOR_SHIFT;
	in->physical_block_size = in->block_size;

	if (vio_dev_has(dev, VIRTIO_BLK_F_GEOMETRY)) {
		rc = cfg_read(b, CFG(geometry.cylinders), 2, &v);
		in->cylinders = (uint16_t)v;
		if (!rc)
			rc = cfg_read(b, CFG(geometry.heads), 1, &v);
		in->heads = (uint8_t)v;
		if (!rc)
			rc = cfg_read(b, CFG(geometry.sectors), 1, &v);
		in->sectors_per_track = (uint8_t)v;
		if (rc)
			return rc;
	}

	/* 5.2.5: topology is a hint; an impossible one is ignored, not fatal */
	if (vio_dev_has(dev, VIRTIO_BLK_F_TOPOLOGY)) {
		uint64_t exp, align, min_io, opt_io;

		rc = cfg_read(b, CFG(topology.physical_block_exp), 1, &exp);
		if (!rc)
			rc = cfg_read(b, CFG(topology.alignment_offset), 1, &align);
		if (!rc)
			rc = cfg_read(b, CFG(topology.min_io_size), 2, &min_io);
		if (!rc)
			rc = cfg_read(b, CFG(topology.opt_io_size), 4, &opt_io);
		if (rc)
			return rc;
		if (exp > 15 || ((uint64_t)in->block_size << exp) > (1u << 24)) {
			vio_warn("%s: ignoring topology: physical_block_exp %u", dev->name,
				 (unsigned)exp);
		} else {
			uint64_t bs = in->block_size;

			in->physical_block_size = (uint32_t)(bs << exp);
			in->alignment_offset = (uint32_t)align;
			in->min_io_size = (uint32_t)(min_io * bs);
			in->opt_io_size = opt_io * bs > UINT32_MAX ? UINT32_MAX
								    : (uint32_t)(opt_io * bs);
		}
	}
	return 0;
}

static int read_limits(struct blk *b)
{
	struct vio_device *dev = b->dev;
	struct vio_blk_info *in = &b->info;
	uint64_t v;
	int rc;

	in->size_max = UINT32_MAX;
	if (vio_dev_has(dev, VIRTIO_BLK_F_SIZE_MAX)) {
		rc = cfg_read(b, CFG(size_max), 4, &v);
		if (rc)
			return rc;
		if (!v)
			return nonsense(b, "size_max", v, "leaves no room for data");
		in->size_max = (uint32_t)v;
	}
	/* Without SEG_MAX the device promised nothing: one data segment (as Linux). */
	in->seg_max = 1;
	if (vio_dev_has(dev, VIRTIO_BLK_F_SEG_MAX)) {
		rc = cfg_read(b, CFG(seg_max), 4, &v);
		if (rc)
			return rc;
		if (!v)
			return nonsense(b, "seg_max", v, "leaves no room for data");
		in->seg_max = (uint32_t)v;
	}

	in->read_only = vio_dev_has(dev, VIRTIO_BLK_F_RO);
	in->flush = vio_dev_has(dev, VIRTIO_BLK_F_FLUSH);
	in->wce_config = vio_dev_has(dev, VIRTIO_BLK_F_CONFIG_WCE);
	if (in->wce_config) {
		/* 5.2.5.1: read only after FEATURES_OK, which the core has set */
		rc = cfg_read(b, CFG(writeback), 1, &v);
		if (rc)
			return rc;
		if (v > 1)
			return nonsense(b, "writeback", v, "is neither 0 nor 1");
		in->writeback = v == 1;
	} else {
		/* 5.2.5.1: FLUSH without CONFIG_WCE means a write-back cache */
		in->writeback = in->flush;
	}

	b->nq = 1;
	if (vio_dev_has(dev, VIRTIO_BLK_F_MQ)) {
		rc = cfg_read(b, CFG(num_queues), 2, &v);
		if (rc)
			return rc;
		if (!v)
			return nonsense(b, "num_queues", v, "leaves no request queue");
		b->nq = (unsigned)v;
		if (b->nq > CONFIG_VIO_BLK_QUEUES_MAX)
			b->nq = CONFIG_VIO_BLK_QUEUES_MAX;
		if (b->nq > VIO_MAX_VQS)
			b->nq = VIO_MAX_VQS;
	}
	return 0;
}

/*
 * 5.2.4: the discard / write-zeroes limits, in 512-byte sectors, rounded
 * down to whole logical blocks. 0 means no limit (as Linux reads it); a
 * limit below one block cannot be honoured.
 */
static int read_dwz_limit(struct blk *b, unsigned off, const char *field, uint32_t *out)
{
	uint64_t v, lim;
	int rc;

	rc = cfg_read(b, off, 4, &v);
	if (rc)
		return rc;
	lim = v ? v : UINT32_MAX;
	lim -= lim % b->block_sectors;
	if (!lim)
		return nonsense(b, field, v, "is less than one logical block");
	*out = (uint32_t)lim;
	return 0;
}

static int read_dwz(struct blk *b)
{
	struct vio_device *dev = b->dev;
	struct vio_blk_info *in = &b->info;
	uint64_t v;
	int rc;

	in->discard = vio_dev_has(dev, VIRTIO_BLK_F_DISCARD);
	if (in->discard) {
		rc = read_dwz_limit(b, CFG(max_discard_sectors), "max_discard_sectors",
				    &in->max_discard_sectors);
		if (!rc)
			rc = cfg_read(b, CFG(discard_sector_alignment), 4, &v);
		if (rc)
			return rc;
		/* A hint for splitting; one that is not whole blocks cannot be used. */
		in->discard_alignment = v && v % b->block_sectors == 0 && v <= UINT32_MAX / 2
					? (uint32_t)v : b->block_sectors;
		/* max_discard_seg: every request carries one range, which any device takes. */
	}
	in->write_zeroes = vio_dev_has(dev, VIRTIO_BLK_F_WRITE_ZEROES);
	if (in->write_zeroes) {
		rc = read_dwz_limit(b, CFG(max_write_zeroes_sectors), "max_write_zeroes_sectors",
				    &in->max_write_zeroes_sectors);
		if (!rc)
			rc = cfg_read(b, CFG(write_zeroes_may_unmap), 1, &v);
		if (rc)
			return rc;
		in->write_zeroes_may_unmap = v != 0;
	}
	return 0;
}

static int setup_queue(struct blk *b, unsigned i)
{
	const struct vio_port *port = vio_port();
	struct blk_queue *q = &b->q[i];
	uint32_t size;
	int rc;

	rc = vio_dev_vq_setup(b->dev, i, 0, &q->vq);
	if (rc)
		return rc;
	size = q->vq->cfg.size;
	/* Header, one data segment and status: the shortest read or write. */
	if (size < 3) {
		vio_err("%s: refused: queue %u has %u entries, a request needs 3", b->dev->name, i,
			(unsigned)size);
		return VIO_ENOTSUP;
	}
	q->index = (uint8_t)i;
	q->dma = port->dma_alloc(port->ctx, sizeof(*q->dma) * size, sizeof(*q->dma));
	q->reqs = port->dma_alloc(port->ctx, sizeof(*q->reqs) * size, sizeof(void *));
	q->free = port->dma_alloc(port->ctx, sizeof(*q->free) * size, sizeof(uint16_t));
	q->size = (uint16_t)size;
	if (!q->dma || !q->reqs || !q->free)
		return VIO_ENOMEM;
	memset(q->reqs, 0, sizeof(*q->reqs) * size);
	for (uint32_t s = 0; s < size; s++)
		q->free[s] = (uint16_t)(size - 1 - s); /* slot 0 on top */
	q->nfree = (uint16_t)size;
	return 0;
}

static void free_queue(struct blk_queue *q)
{
	const struct vio_port *port = vio_port();

	if (q->dma)
		port->dma_free(port->ctx, q->dma, sizeof(*q->dma) * q->size);
	if (q->reqs)
		port->dma_free(port->ctx, q->reqs, sizeof(*q->reqs) * q->size);
	if (q->free)
		port->dma_free(port->ctx, q->free, sizeof(*q->free) * q->size);
	memset(q, 0, sizeof(*q));
}

static int setup_queues(struct blk *b)
{
	unsigned want = b->nq, i;
	int rc;

	b->nq = 0; /* not usable until every queue is set up */
	for (i = 0; i < want; i++) {
		rc = setup_queue(b, i);
		if (rc == VIO_ENODEV && i > 0) {
			/* num_queues promised more than there are: use what exists */
			vio_warn("%s: num_queues says %u, but queue %u does not exist", b->dev->name,
				 want, i);
			free_queue(&b->q[i]);
			break;
		}
		if (rc)
			return rc;
	}
	b->nq = i;
	return 0;
}

/* The limits a request is built to, from the device's and the rings'. */
static int settle_limits(struct blk *b)
{
	struct vio_blk_info *in = &b->info;
	uint32_t qmin = UINT16_MAX;
	uint64_t bytes;

	for (unsigned i = 0; i < b->nq; i++)
		qmin = min32(qmin, b->q[i].size);
	in->num_queues = (uint16_t)b->nq;
	in->queue_size = (uint16_t)qmin;
	/*
	 * 2.7.5.3.1 / 2.7.13.1: a chain, indirect or not, is at most the queue
	 * size; the driver's own cap sizes its indirect tables.
	 */
	in->seg_max = min32(min32(in->seg_max, VIO_BLK_SEGS_MAX), qmin - 2);
	bytes = (uint64_t)in->seg_max * in->size_max;
	if (bytes > (uint64_t)VIO_BLK_REQ_SECTORS_MAX << VIRTIO_BLK_SECTOR_SHIFT)
		bytes = (uint64_t)VIO_BLK_REQ_SECTORS_MAX << VIRTIO_BLK_SECTOR_SHIFT;
	bytes -= bytes % in->block_size;
	if (!bytes) {
		vio_err("%s: refused: %u segments of size_max %u cannot carry one %u-byte block",
			b->dev->name, in->seg_max, in->size_max, in->block_size);
		return VIO_EPROTO;
	}
	in->max_sectors = (uint32_t)(bytes >> VIRTIO_BLK_SECTOR_SHIFT);
	return 0;
}

static void log_info(const struct blk *b)
{
	const struct vio_blk_info *in = &b->info;

	vio_info("%s: %llu sectors (%llu MiB), block %u, %u queue%s of %u, %u segs, "
		 "%u KiB/request%s%s%s%s", b->dev->name, (unsigned long long)in->capacity,
		 (unsigned long long)(in->capacity >> 11), in->block_size, in->num_queues,
		 in->num_queues == 1 ? "" : "s", in->queue_size, in->seg_max,
		 in->max_sectors / 2, in->read_only ? ", read-only" : "",
		 in->writeback ? ", write-back" : ", write-through",
		 in->discard ? ", discard" : "", in->write_zeroes ? ", write-zeroes" : "");
}

static int blk_probe(struct vio_device *dev)
{
	struct blk *b = dev->priv;
	int rc;

	b->dev = dev;
	b->legacy = dev->t.legacy;
	b->timeout_ns = (uint64_t)CONFIG_VIO_TIMEOUT_MS * NS_PER_MS;
	rc = read_geometry(b);
	if (!rc)
		rc = read_limits(b);
	if (!rc)
		rc = read_dwz(b);
	if (!rc)
		rc = setup_queues(b);
	if (!rc)
		rc = settle_limits(b);
	if (rc) {
		b->nq = 0;
		return rc;
	}
	log_info(b);
	return 0;
}

static void blk_remove(struct vio_device *dev)
{
	struct blk *b = dev->priv;

	for (unsigned i = 0; i < CONFIG_VIO_BLK_QUEUES_MAX; i++)
		free_queue(&b->q[i]);
	b->nq = 0;
}

/* 5.2.6.2: the capacity may change; the device signals it with a config change. */
static void blk_config_changed(struct vio_device *dev)
{
	struct blk *b = dev->priv;
	uint64_t v;

	if (!b || !b->nq || cfg_read(b, CFG(capacity), 8, &v))
		return;
	if (v > UINT64_MAX >> VIRTIO_BLK_SECTOR_SHIFT) {
		vio_err("%s: new capacity %llu sectors is beyond 2^64 bytes", dev->name,
			(unsigned long long)v);
		vio_dev_fail(dev, VIO_EPROTO);
		return;
	}
	if (v != b->info.capacity) {
		vio_info("%s: capacity %llu -> %llu sectors", dev->name,
			 (unsigned long long)b->info.capacity, (unsigned long long)v);
		b->info.capacity = v;
	}
	if (b->info.wce_config && !cfg_read(b, CFG(writeback), 1, &v) && v <= 1)
		b->info.writeback = v == 1;
}

const struct vio_driver vio_blk_driver = {
	.name = "blk",
	.device_id = VIRTIO_ID_BLOCK,
	/* 5.2.3: everything but the legacy BARRIER/SCSI, LIFETIME, SECURE_ERASE, ZONED */
	.features = (1ull << VIRTIO_BLK_F_SIZE_MAX) | (1ull << VIRTIO_BLK_F_SEG_MAX) |
		    (1ull << VIRTIO_BLK_F_GEOMETRY) | (1ull << VIRTIO_BLK_F_RO) |
		    (1ull << VIRTIO_BLK_F_BLK_SIZE) | (1ull << VIRTIO_BLK_F_FLUSH) |
		    (1ull << VIRTIO_BLK_F_TOPOLOGY) | (1ull << VIRTIO_BLK_F_CONFIG_WCE) |
		    (1ull << VIRTIO_BLK_F_MQ) | (1ull << VIRTIO_BLK_F_DISCARD) |
		    (1ull << VIRTIO_BLK_F_WRITE_ZEROES),
	.feature_names = blk_feature_names,
	.priv_size = sizeof(struct blk),
	/* header + data segments + status in one ring slot */
	.indirect_max = VIO_BLK_SEGS_MAX + 2,
	.probe = blk_probe,
	.remove = blk_remove,
	.config_changed = blk_config_changed,
};
