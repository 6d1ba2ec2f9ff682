/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-blk driver internals shared by blk.c (the request queues),
 * blk_probe.c (probe and configuration) and blk_io.c (the blocking calls).
 */
#ifndef VIO_DEV_BLK_PRIV_H
#define VIO_DEV_BLK_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <vio/blk.h>
#include <vio/device.h>
#include <vio/error.h>
#include <vio/spec/virtio_blk.h>

#include "vio_config.h"

/* How long a blocking call waits for a completion unless told otherwise. */
#define BLK_TIMEOUT_DEFAULT_NS ((uint64_t)CONFIG_VIO_TIMEOUT_MS * 1000000u)

/*
 * What a request needs besides its data, one per ring entry, in DMA memory:
 * the header the device reads, a discard/write-zeroes range, the ID buffer
 * and the status byte the device writes. One cache line each, so cleaning
 * or invalidating one never touches another request's.
 */
struct blk_dma {
	struct virtio_blk_outhdr hdr;
	struct virtio_blk_discard_write_zeroes dwz;
	uint8_t id[VIRTIO_BLK_ID_BYTES];
	uint8_t status;
	uint8_t pad[11];
};

_Static_assert(sizeof(struct blk_dma) == 64, "struct blk_dma is one 64-byte line");

struct blk;

/* One request queue (5.2.2: requestq1 .. requestqN). */
struct blk_queue {
	struct blk *b;
	struct vio_vq *vq;
	struct blk_dma *dma;        /* size entries */
	/*
	 * Under vio_lock: size entries, or NULL. Each slot's prepared chain
	 * (header, one data segment, status; <vio/virtqueue.h>), reserved the
	 * first time the slot carries a read or write of one piece, so that
	 * the next ones only set the data segment. Only where such a chain
	 * keeps one ring descriptor (indirect descriptors): a slot then never
	 * holds more than a request of its own would, and whoever else uses
	 * the queue (the benchmark's bare loop) finds the rest free. A slot
	 * whose request needs more segments gives its chain back first.
	 */
	struct vio_vq_chain *chains;
	/* Under vio_lock: */
	struct vio_blk_req **reqs;  /* size entries: the request holding each slot, or NULL */
	uint16_t *free;             /* stack of free slots */
	uint16_t nfree;
	uint16_t size;              /* slots: one per ring entry */
	uint16_t index;
	uint32_t completions;       /* requests completed (or aborted) so far; atomic */
	uint32_t async_done;        /* of them, asynchronous API requests; atomic */
	uint32_t reported;          /* async_done as vio_blk_poll / vio_blk_wait counted it; atomic */
};

struct blk {
	struct vio_device *dev;
	const struct vio_port *port; /* vio_port(), kept for the I/O path (no call per request) */
	struct vio_blk_info info;   /* capacity and writeback under vio_lock after probe */
	struct blk_queue *q;        /* nq entries */
	unsigned nq;
	unsigned nq_alloc;          /* entries of q allocated */
	uint32_t block_sectors;     /* info.block_size / 512 */
	uint64_t timeout_ns;        /* for blocking calls; atomic after probe */
	uint16_t max_segments;      /* the driver's cap on data segments per request */
	uint32_t max_request_sectors;
	uint32_t max_bytes;         /* info.max_sectors in bytes: one request's data at most */
	uint32_t seg1_max;          /* the most one data segment may carry: size_max, max_bytes */
	bool legacy;                /* guest byte order in headers (5.2.6.3) */
};

/* A position in a caller's scatter-gather list. */
struct blk_cursor {
	const struct vio_sg *sg;
	unsigned nsg;
	unsigned i;      /* current entry */
	uint32_t off;    /* bytes of it already taken */
};

/*
 * Find dev's driver state and queue qi (q may be NULL when no queue is
 * wanted), whatever the device's state. Returns 0, VIO_ENODEV (not a blk
 * device) or VIO_EINVAL (no such queue).
 */
int blk_lookup(struct vio_device *dev, unsigned qi, struct blk **b, struct blk_queue **q);

/*
 * vio_blk_check and blk_lookup in one (the per-request entry of the API):
 * the same answers, each field looked at once.
 */
static inline int blk_ready(struct vio_device *dev, unsigned qi, struct blk **bp,
			    struct blk_queue **qp)
{
	struct blk *b;

	if (!dev || dev->driver != &vio_blk_driver)
		return VIO_ENODEV;
	if (vio_dev_state(dev) != VIO_DEV_READY)
		return vio_dev_state(dev) == VIO_DEV_FAILED ? VIO_ESHUTDOWN : VIO_ENODEV;
	b = dev->priv;
	if (!b || b->dev != dev || !b->nq)
		return VIO_ENODEV; /* probe did not finish */
	if (qi >= b->nq)
		return VIO_EINVAL;
	*bp = b;
	*qp = &b->q[qi];
	return 0;
}

/*
 * Check an I/O range: a whole number of logical blocks, inside the
 * capacity. Returns 0, VIO_EINVAL or VIO_ERANGE. The logical block is a
 * power of two (blk_probe.c refuses others), so the checks are masks.
 */
static inline int blk_check_range(const struct blk *b, uint64_t sector, uint64_t count)
{
	uint64_t cap = __atomic_load_n(&b->info.capacity, __ATOMIC_RELAXED); /* may change */

	if (!count || ((sector | count) & (b->block_sectors - 1)))
		return VIO_EINVAL;
	/* 5.2.6.1: never beyond capacity (written to stay clear of overflow) */
	if (sector > cap || count > cap - sector)
		return VIO_ERANGE;
	return 0;
}

/*
 * Check a caller's scatter list (entries with a buffer and a length) and
 * return its total length in *total. Returns 0 or VIO_EINVAL.
 */
int blk_check_sg(const struct vio_sg *sg, unsigned nsg, uint64_t *total);

/*
 * Cut the next request's data off the cursor: at most info.seg_max pieces of
 * at most info.size_max bytes and max_bytes in all, trimmed to whole logical
 * blocks; advances the cursor. Returns the bytes taken (0 when the list is
 * used up or too fragmented to carry one block).
 */
uint32_t blk_cut_any(const struct blk *b, struct blk_cursor *c, struct vio_sg *piece,
		     unsigned *n, uint32_t max_bytes);

static inline uint32_t blk_cut(const struct blk *b, struct blk_cursor *c, struct vio_sg *piece,
			       unsigned *n, uint32_t max_bytes)
{
	/*
	 * The common case, inline: the rest of the list's last entry in one
	 * piece, within the limits and in whole blocks (a power of two).
	 */
	if (c->i + 1 == c->nsg) {
		const struct vio_sg *s = &c->sg[c->i];
		uint32_t rest = s->len - c->off;

		if (rest && rest <= b->seg1_max && rest <= max_bytes &&
		    !(rest & (b->info.block_size - 1))) {
			piece[0].buf = (uint8_t *)s->buf + c->off;
			piece[0].len = rest;
			c->i++;
			c->off = 0;
			*n = 1;
			return rest;
		}
	}
	return blk_cut_any(b, c, piece, n, max_bytes);
}

/*
 * Build req's request (header, data pieces, status) in a free slot of q and
 * add it to the ring without notifying. req->op, sector, count, unmap and id
 * are used; data is the READ/WRITE data (n pieces, len bytes), already
 * within the device's limits. Returns 0, VIO_ENOSPC or VIO_ESHUTDOWN.
 */
int blk_enqueue(struct blk *b, struct blk_queue *q, struct vio_blk_req *req,
		const struct vio_sg *data, unsigned n, uint32_t len);

/*
 * blk_enqueue of a READ or WRITE of one piece (buf, len: checked), and the
 * kick, under one vio_lock round trip where it can. Returns as blk_enqueue.
 */
int blk_enqueue_kick(struct blk *b, struct blk_queue *q, struct vio_blk_req *req, void *buf,
		     uint32_t len);

/*
 * Take q's completed requests off the ring and run their callbacks. When the
 * device has failed, it is reset (vio_dev_fail) and every request still in
 * flight is completed with its error. Returns the count completed. The
 * queue's completion handler; any thread may call it.
 */
unsigned blk_drain(struct blk *b, struct blk_queue *q);
void blk_queue_handler(struct vio_device *dev, struct vio_vq *vq, void *arg);

/*
 * Wait (vio_dev_wait) until a request of q completes after the mark seen
 * (blk_progress_mark), at most timeout_ns. Take the mark before looking at
 * what is waited for: the request may be completed by another thread (the
 * service, another caller) in between, and a mark taken after that would
 * wait for a completion that never comes. Returns 0, VIO_ETIMEDOUT or
 * VIO_ESHUTDOWN.
 */
static inline uint32_t blk_progress_mark(const struct blk_queue *q)
{
	return __atomic_load_n(&q->completions, __ATOMIC_ACQUIRE);
}

int blk_wait_progress(struct blk *b, struct blk_queue *q, uint32_t seen, uint64_t timeout_ns);

#endif
