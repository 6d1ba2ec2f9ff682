/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-blk driver (VirtIO 1.2 section 5.2): the request queues and the
 * asynchronous API. Probe and configuration are in blk_probe.c, the
 * blocking calls in blk_io.c.
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

#include "core/log.h"
#include "dev/blk_priv.h"
#include "vio_config.h"

/* Not a status: the device has not written the byte (5.2.6 defines 0..2). */
#define STATUS_UNSET 0xffu

static inline uint32_t min32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* 5.2.6.3: legacy headers use the guest's byte order, modern ones little-endian. */
static inline uint32_t dev32(const struct blk *b, uint32_t v)
{
	return vio_wire32(b->legacy, v);
}

static inline uint64_t dev64(const struct blk *b, uint64_t v)
{
	return vio_wire64(b->legacy, v);
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
	if (vio_dev_state(dev) != VIO_DEV_READY)
		return vio_dev_state(dev) == VIO_DEV_FAILED ? VIO_ESHUTDOWN : VIO_ENODEV;
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

uint32_t blk_cut_any(const struct blk *b, struct blk_cursor *c, struct vio_sg *piece,
		     unsigned *np, uint32_t max_bytes)
{
	struct blk_cursor start;
	uint32_t total = 0, excess;
	unsigned n = 0;

	start = *c;
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
	excess = total & (b->info.block_size - 1);
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

/* enqueue_prepared: the request goes the general way. */
#define USE_GENERAL 1

/*
 * Reserve the slot's prepared chain (under vio_lock): header and status
 * are set once, only the data segment changes per request. Out of line:
 * it runs once per slot.
 */
__attribute__((noinline)) static int prepare_slot(struct blk_queue *q, uint16_t slot)
{
	struct vio_vq_chain *c = &q->chains[slot];
	struct blk_dma *d = &q->dma[slot];
	int rc = vio_vq_chain_reserve(q->vq, 3, c);

	if (rc)
		return rc;
	(void)vio_vq_chain_set(q->vq, c, 0, &d->hdr, sizeof(d->hdr), false);
	(void)vio_vq_chain_set(q->vq, c, 2, &d->status, 1, true);
	return 0;
}

/* What the device writes must not meet a dirty line: see blk_enqueue. */
__attribute__((noinline)) static void clean_prepared(const struct vio_port *port,
						     struct blk_dma *d, void *buf, uint32_t len,
						     bool read)
{
	port->cache_clean(port->ctx, d, sizeof(*d));
	if (read)
		port->cache_clean(port->ctx, buf, len);
}

/*
 * A read or write of one piece (checked by the caller) through the slot's
 * prepared chain: the header, the data segment and the available ring
 * entry are all that is written. Returns 0, VIO_ESHUTDOWN, or USE_GENERAL
 * when the general path must take it (no free slot: it says why; no chain
 * to be had).
 */
__attribute__((always_inline)) static inline int enqueue_prepared(struct blk *b, struct blk_queue *q, struct vio_blk_req *req,
			    void *buf, uint32_t len, bool kick)
{
	const struct vio_port *port = b->port;
	bool read = req->op == VIO_BLK_OP_READ;
	struct vio_vq_chain *c;
	struct blk_dma *d;
	uint16_t slot;
	uintptr_t s;
	int rc;

	s = vio_lock();
	if (req->busy || !q->nfree)
		goto general;
	slot = q->free[q->nfree - 1];
	c = &q->chains[slot];
	if (!c->nseg && prepare_slot(q, slot))
		goto general;
	d = &q->dma[slot];
	/* 5.2.6: the header */
	d->hdr.type = dev32(b, read ? VIRTIO_BLK_T_IN : VIRTIO_BLK_T_OUT);
	d->hdr.ioprio = 0;
	d->hdr.sector = dev64(b, req->sector);
	d->status = STATUS_UNSET;
	if (port->cache_clean)
		clean_prepared(port, d, buf, len, read);
	rc = vio_vq_chain_submit_seg(q->vq, c, 1, buf, len, read, req);
	if (!rc) {
		q->nfree--;
		q->reqs[slot] = req;
		req->slot = slot;
		req->queue = (uint8_t)q->index;
		req->data_len = len;
		req->result = 0;
		req->busy = true;
		if (kick)
			vio_vq_kick(q->vq);
	}
	vio_unlock(s);
	return rc;
general:
	vio_unlock(s);
	return USE_GENERAL;
}

/*
 * Any request, its whole chain built here (see blk_enqueue), kicked under
 * the same lock when kick is set. Out of line: its frame is large.
 */
__attribute__((noinline)) static int enqueue_general(struct blk *b, struct blk_queue *q,
						     struct vio_blk_req *req,
						     const struct vio_sg *data, unsigned n,
						     uint32_t len, bool kick)
{
	const struct vio_port *port = b->port;
	struct vio_sg sg[VIO_BLK_SEGS_LIMIT + 2];
	unsigned out = 1, in = 1, k = 1;
	struct blk_dma *d;
	uint16_t slot;
	uintptr_t s;
	int rc;

	s = vio_lock();
	if (req->busy || !q->nfree) {
		vio_unlock(s);
		return req->busy ? VIO_EBUSY : vio_vq_is_broken(q->vq) ? VIO_ESHUTDOWN : VIO_ENOSPC;
	}
	slot = q->free[q->nfree - 1];
	d = &q->dma[slot];

	/* 5.2.6: header; the sector is 0 for everything but reads and writes */
	d->hdr.type = dev32(b, type_of(req->op));
	d->hdr.ioprio = 0;
	d->hdr.sector = dev64(b, req->op == VIO_BLK_OP_READ || req->op == VIO_BLK_OP_WRITE
					 ? req->sector : 0);
	d->status = STATUS_UNSET;

	/* The general path builds the whole chain: the slot's prepared one goes back. */
	if (q->chains && q->chains[slot].nseg)
		vio_vq_chain_release(q->vq, &q->chains[slot]);

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
	if (!rc) {
		q->nfree--;
		q->reqs[slot] = req;
		req->slot = slot;
		req->queue = (uint8_t)q->index;
		req->data_len = len;
		req->result = 0;
		req->busy = true;
		if (kick)
			vio_vq_kick(q->vq);
	}
	vio_unlock(s);
	if (rc == VIO_EINVAL)
		return VIO_ERANGE; /* a chain the ring cannot hold */
	return rc;
}

/* blk_enqueue, inline where the asynchronous API queues a request. */
__attribute__((always_inline)) static inline int enqueue(struct blk *b, struct blk_queue *q,
							 struct vio_blk_req *req,
							 const struct vio_sg *data, unsigned n,
							 uint32_t len)
{
	if (q->chains && n == 1 && (req->op == VIO_BLK_OP_READ || req->op == VIO_BLK_OP_WRITE)) {
		int rc = enqueue_prepared(b, q, req, data[0].buf, len, false);

		if (rc != USE_GENERAL)
			return rc;
	}
	return enqueue_general(b, q, req, data, n, len, false);
}

int blk_enqueue(struct blk *b, struct blk_queue *q, struct vio_blk_req *req,
		const struct vio_sg *data, unsigned n, uint32_t len)
{
	return enqueue(b, q, req, data, n, len);
}

int blk_enqueue_kick(struct blk *b, struct blk_queue *q, struct vio_blk_req *req, void *buf,
		     uint32_t len)
{
	struct vio_sg piece = { buf, len };
	int rc;

	if (q->chains) {
		rc = enqueue_prepared(b, q, req, buf, len, true);
		if (rc != USE_GENERAL)
			return rc;
	}
	return enqueue_general(b, q, req, &piece, 1, len, true);
}

/* Copy the ID out of DMA memory: NUL-terminated, printable (5.2.6: NUL-padded, max 20). */
static void copy_id(char *dst, const uint8_t *src)
{
	unsigned i;

	for (i = 0; i < VIRTIO_BLK_ID_BYTES; i++) {
		/* Each byte read once: the device could change it between looks. */
		uint8_t c = *(const volatile uint8_t *)&src[i];

		if (!c)
			break;
		dst[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	dst[i] = '\0';
}

/* Give the slot back (under vio_lock): the request is the caller's again. */
static void release_slot(struct blk_queue *q, struct vio_blk_req *req, int result)
{
	q->reqs[req->slot] = NULL;
	q->free[q->nfree++] = req->slot;
	req->busy = false;
	req->result = result;
}

/* Outside the lock: the callback, then the count the waiters watch. */
static void finish(struct blk_queue *q, struct vio_blk_req *req)
{
	bool counted = !req->internal; /* req may be the caller's again after done */

	if (req->done)
		req->done(req);
	if (counted)
		__atomic_fetch_add(&q->async_done, 1, __ATOMIC_RELEASE);
	__atomic_fetch_add(&q->completions, 1, __ATOMIC_RELEASE);
}

/*
 * Judge a completed request by its status byte and used length; say why a
 * protocol violation is one when say is set (not under vio_lock: it logs).
 */
static int judge(struct blk *b, struct blk_queue *q, struct vio_blk_req *req, uint8_t status,
		 uint32_t len, bool say)
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
		if (say)
			vio_err("%s: queue %u: request status %u is not a VirtIO status%s", b->dev->name,
				q->index, status, status == STATUS_UNSET ? " (never written)" : "");
		return VIO_EPROTO;
	}
	/*
	 * 2.7.8: the used length counts the bytes written, status included. A
	 * modern device wrote the status byte after all the data it wrote: a
	 * used length that does not cover the data of a read, the ID of a
	 * GET_ID or even the status byte says the device did not write what it
	 * claims. Legacy devices are known to report lengths that mean nothing
	 * (5.2.6.3: the driver SHOULD ignore them). The virtqueue has already
	 * refused lengths beyond the buffers, and nothing here indexes memory
	 * with it.
	 */
	if (!b->legacy) {
		uint64_t need = 1;

		if (req->op == VIO_BLK_OP_READ)
			need += req->data_len;
		else if (req->op == VIO_BLK_OP_GET_ID)
			need += VIRTIO_BLK_ID_BYTES;
		if (len < need) {
			if (say)
				vio_err("%s: queue %u: request of type %u completed with used length "
					"%u, less than the %u bytes it must have written", b->dev->name,
					q->index, (unsigned)req->op, len, (unsigned)need);
			return VIO_EPROTO;
		}
	}
	return 0;
}

/*
 * Whether cookie is a request this driver put on q (under vio_lock). The
 * queue is reachable through vio_dev_vq, so a chain someone else posted
 * (a benchmark's bare loop, a test) may come back from the reset with a
 * cookie that is no struct vio_blk_req: compared with the slots, never
 * read through.
 */
static bool blk_owns(const struct blk_queue *q, const void *cookie)
{
	for (unsigned i = 0; i < q->size; i++)
		if (q->reqs[i] == cookie)
			return true;
	return false;
}

/* The device failed and was reset: every request still in flight on q ends with its error. */
static unsigned abort_all(struct blk *b, struct blk_queue *q)
{
	int err = b->dev->error ? b->dev->error : VIO_ESHUTDOWN;
	unsigned n = 0, foreign = 0;

	for (;;) {
		struct vio_blk_req *req = NULL;
		uintptr_t s = vio_lock();
		void *cookie = vio_vq_detach_unused(q->vq);

		/* 3.3.1: after the reset the device holds none of them; each goes back once. */
		if (cookie && blk_owns(q, cookie)) {
			req = cookie;
			release_slot(q, req, err);
		}
		vio_unlock(s);
		if (!cookie)
			break;
		if (!req) {
			foreign++; /* its descriptors are free again; the rest is its poster's */
			continue;
		}
		finish(q, req);
		n++;
	}
	if (foreign)
		vio_warn("%s: queue %u: %u chain%s the driver did not post dropped at the reset",
			 b->dev->name, q->index, foreign, foreign == 1 ? "" : "s");
	return n;
}

/*
 * Completions taken off the ring under one vio_lock round trip, in one
 * vio_vq_dequeue_batch (which reads the used index once for them all).
 */
#define DRAIN_BATCH 8

/* Judge one completion and give its slot back (under vio_lock); returns its result. */
static inline int complete_one(struct blk *b, struct blk_queue *q, const struct vio_port *port,
			       struct vio_blk_req *req, uint32_t len, uint8_t *statusp)
{
	struct blk_dma *d = &q->dma[req->slot];
	uint8_t status;
	int result;

	if (port->cache_invalidate) {
		port->cache_invalidate(port->ctx, d, sizeof(*d));
		if (req->op == VIO_BLK_OP_READ && req->sg)
			for (unsigned i = 0; i < req->nsg; i++)
				port->cache_invalidate(port->ctx, req->sg[i].buf, req->sg[i].len);
	}
	status = *(volatile uint8_t *)&d->status;
	result = judge(b, q, req, status, len, false);
	if (!result && req->op == VIO_BLK_OP_GET_ID)
		copy_id(req->id, d->id);
	release_slot(q, req, result);
	*statusp = status;
	return result;
}

unsigned blk_drain(struct blk *b, struct blk_queue *q)
{
	const struct vio_port *port = b->port;
	unsigned n = 0;
	int rc;

	for (;;) {
		struct vio_vq_used used[DRAIN_BATCH];
		unsigned k, i, bad, counted = 0;
		uint8_t status = 0;
		uintptr_t s;

		s = vio_lock();
		rc = vio_vq_dequeue_batch(q->vq, used, DRAIN_BATCH);
		k = rc > 0 ? (unsigned)rc : 0;
		bad = k;
		for (i = 0; i < k; i++) {
			if (complete_one(b, q, port, used[i].cookie, used[i].len, &status) ==
			    VIO_EPROTO) {
				bad = i; /* the device is failed before anything else goes back */
				break;
			}
		}
		vio_unlock(s);
		if (bad < k) {
			/* Says why, outside the lock (status and length as judged). */
			judge(b, q, used[bad].cookie, status, used[bad].len, true);
			vio_dev_fail(b->dev, VIO_EPROTO); /* reset before any buffer goes back */
			/*
			 * What the device completed after the bad one was taken off
			 * the ring with it: it ends with the device's error, as
			 * what is still in flight does (abort_all).
			 */
			if (bad + 1 < k) {
				int err = b->dev->error ? b->dev->error : VIO_ESHUTDOWN;

				s = vio_lock();
				for (i = bad + 1; i < k; i++)
					release_slot(q, used[i].cookie, err);
				vio_unlock(s);
			}
			rc = VIO_EPROTO;
		}
		/* Outside the lock: the callbacks, then the counts the waiters watch. */
		for (i = 0; i < k; i++) {
			struct vio_blk_req *req = used[i].cookie;

			counted += !req->internal; /* req may be the caller's again after done */
			if (req->done)
				req->done(req);
		}
		if (k) {
			if (counted)
				__atomic_fetch_add(&q->async_done, counted, __ATOMIC_RELEASE);
			__atomic_fetch_add(&q->completions, k, __ATOMIC_RELEASE);
		}
		n += k;
		/* A short batch: the ring is caught up (and the interrupt re-armed). */
		if (rc < 0 || k < DRAIN_BATCH)
			break;
	}
	/* VIO_EPROTO / VIO_ESHUTDOWN: the queue is broken and the device failing */
	if (rc < 0 || vio_dev_state(b->dev) != VIO_DEV_READY) {
		vio_dev_fail(b->dev, rc == VIO_EPROTO ? VIO_EPROTO : VIO_ESHUTDOWN);
		n += abort_all(b, q);
	}
	return n;
}

void blk_queue_handler(struct vio_device *dev, struct vio_vq *vq, void *arg)
{
	struct blk_queue *q = arg;

	blk_drain(q->b, q);
}

struct progress {
	struct blk *b;
	struct blk_queue *q;
	uint32_t seen;
};

static bool progressed(void *arg)
{
	struct progress *p = arg;

	return __atomic_load_n(&p->q->completions, __ATOMIC_ACQUIRE) != p->seen ||
	       vio_dev_state(p->b->dev) != VIO_DEV_READY;
}

int blk_wait_progress(struct blk *b, struct blk_queue *q, uint32_t seen, uint64_t timeout_ns)
{
	struct progress p = { b, q, seen };
	int rc;

	/*
	 * Polled, the completion is often there at the first look: this
	 * thread runs the queue's handler itself (it may run in any thread,
	 * and with the service at the same time) instead of a whole service
	 * pass. When that is not enough the wait below runs the service, which
	 * also looks at the device's status.
	 */
	if (!vio_dev_uses_irq(b->dev) && vio_dev_state(b->dev) == VIO_DEV_READY) {
		blk_drain(b, q);
		if (progressed(&p))
			return vio_dev_state(b->dev) == VIO_DEV_READY ? 0 : VIO_ESHUTDOWN;
	}
	rc = vio_dev_wait(b->dev, q->vq, progressed, &p, timeout_ns);
	if (!rc && vio_dev_state(b->dev) != VIO_DEV_READY)
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
		if (req->nsg == 1 && req->sg && req->sg->buf && req->sg->len &&
		    req->sg->len <= b->seg1_max && !(req->sg->len & (in->block_size - 1))) {
			/* One piece that needs no cutting: the common case. */
			rc = blk_check_range(b, req->sector, req->sg->len >> VIRTIO_BLK_SECTOR_SHIFT);
			if (rc)
				return rc;
			piece[0] = req->sg[0];
			*n = 1;
			*len = req->sg->len;
			return 0;
		}
		rc = blk_check_sg(req->sg, req->nsg, &total);
		if (rc)
			return rc;
		if (total & (in->block_size - 1))
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

/*
 * Any request: checked, cut into pieces and queued. Out of line: its frame
 * holds a scatter list of VIO_BLK_SEGS_LIMIT pieces, which the one-piece
 * read or write of vio_blk_queue's fast path has no use for.
 */
__attribute__((noinline)) static int queue_general(struct blk *b, struct blk_queue *q,
						   struct vio_blk_req *req)
{
	struct vio_sg piece[VIO_BLK_SEGS_LIMIT];
	uint32_t len;
	unsigned n;
	int rc;

	rc = check_req(b, req, piece, &n, &len);
	if (rc)
		return rc;
	return enqueue(b, q, req, piece, n, len);
}

int vio_blk_queue(struct vio_device *dev, unsigned queue, struct vio_blk_req *req)
{
	const struct vio_sg *sg;
	struct blk_queue *q;
	struct blk *b;
	int rc;

	rc = blk_ready(dev, queue, &b, &q);
	if (rc)
		return rc;
	if (!req)
		return VIO_EINVAL;
	/*
	 * The common case, one piece that needs no cutting, checked as
	 * check_req checks it and queued through the slot's prepared chain;
	 * whatever fails a test here goes the general way, which checks it
	 * again and says why.
	 */
	sg = req->sg;
	if (q->chains && (req->op == VIO_BLK_OP_READ ||
			  (req->op == VIO_BLK_OP_WRITE && !b->info.read_only)) &&
	    req->nsg == 1 && sg && sg->buf && sg->len && sg->len <= b->seg1_max &&
	    !(sg->len & (b->info.block_size - 1)) &&
	    !blk_check_range(b, req->sector, sg->len >> VIRTIO_BLK_SECTOR_SHIFT)) {
		rc = enqueue_prepared(b, q, req, sg->buf, sg->len, false);
		if (rc != USE_GENERAL)
			return rc;
	}
	return queue_general(b, q, req);
}

void vio_blk_kick(struct vio_device *dev, unsigned queue)
{
	struct blk_queue *q;
	struct blk *b;
	uintptr_t s;

	if (blk_lookup(dev, queue, &b, &q))
		return;
	s = vio_lock();
	vio_vq_kick(q->vq);
	vio_unlock(s);
}

int vio_blk_submit(struct vio_device *dev, unsigned queue, struct vio_blk_req *req)
{
	int rc = vio_blk_queue(dev, queue, req);

	if (!rc)
		vio_blk_kick(dev, queue);
	return rc;
}

/*
 * Completions of q not yet counted by vio_blk_poll / vio_blk_wait, now
 * counted. Lock-free: reported only moves forward, to a count read after
 * the value it replaces, so two callers never count one completion twice.
 */
static int take_reported(struct blk_queue *q)
{
	uint32_t was = __atomic_load_n(&q->reported, __ATOMIC_ACQUIRE), now;

	do {
		now = __atomic_load_n(&q->async_done, __ATOMIC_ACQUIRE);
	} while (!__atomic_compare_exchange_n(&q->reported, &was, now, false, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	return (int)(now - was);
}

int vio_blk_poll(struct vio_device *dev, unsigned queue)
{
	struct blk_queue *q;
	struct blk *b;
	int rc;

	rc = blk_lookup(dev, queue, &b, &q);
	if (rc)
		return rc;
	vio_dev_poll(dev);
	if (vio_dev_state(dev) != VIO_DEV_READY) {
		blk_drain(b, q); /* end what is left with the device's error */
		return VIO_ESHUTDOWN;
	}
	return take_reported(q);
}

int vio_blk_wait(struct vio_device *dev, unsigned queue, uint64_t timeout_ns)
{
	struct blk_queue *q;
	struct blk *b;
	bool idle, news;
	uint32_t seen;
	uintptr_t s;
	int rc = 0;

	rc = blk_lookup(dev, queue, &b, &q);
	if (rc)
		return rc;
	if (vio_dev_state(dev) == VIO_DEV_READY) {
		s = vio_lock();
		vio_vq_kick(q->vq);
		/*
		 * The mark goes with what idle and news say: a request that
		 * another thread completes right after still wakes the wait.
		 */
		seen = blk_progress_mark(q);
		idle = q->nfree == q->size;
		news = __atomic_load_n(&q->async_done, __ATOMIC_ACQUIRE) !=
		       __atomic_load_n(&q->reported, __ATOMIC_RELAXED);
		vio_unlock(s);
		if (!news && idle)
			return 0; /* nothing to wait for */
		if (!news)
			rc = blk_wait_progress(b, q, seen, timeout_ns);
	}
	if (vio_dev_state(dev) != VIO_DEV_READY) {
		blk_drain(b, q); /* end what is left with the device's error */
		return VIO_ESHUTDOWN;
	}
	if (rc)
		return rc;
	return take_reported(q);
}

unsigned vio_blk_in_flight(struct vio_device *dev, unsigned queue)
{
	struct blk_queue *q;
	struct blk *b;
	unsigned n;
	uintptr_t s;

	if (blk_lookup(dev, queue, &b, &q))
		return 0;
	s = vio_lock();
	n = (unsigned)(q->size - q->nfree);
	vio_unlock(s);
	return n;
}

int vio_blk_get_info(struct vio_device *dev, struct vio_blk_info *info)
{
	struct blk *b;
	uintptr_t s;
	int rc;

	rc = vio_blk_check(dev);
	if (!rc)
		rc = blk_lookup(dev, 0, &b, NULL);
	if (rc)
		return rc;
	if (!info)
		return VIO_EINVAL;
	s = vio_lock(); /* capacity and writeback change with the configuration */
	*info = b->info;
	vio_unlock(s);
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
	return __atomic_load_n(&b->info.writeback, __ATOMIC_RELAXED) ? 1 : 0;
}

int vio_blk_set_timeout(struct vio_device *dev, uint64_t timeout_ns)
{
	struct blk *b;
	int rc;

	rc = blk_lookup(dev, 0, &b, NULL);
	if (rc)
		return rc;
	/* Blocking calls in other threads read it without the lock. */
	__atomic_store_n(&b->timeout_ns, timeout_ns ? timeout_ns : BLK_TIMEOUT_DEFAULT_NS,
			 __ATOMIC_RELAXED);
	return 0;
}
