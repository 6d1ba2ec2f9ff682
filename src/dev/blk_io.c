/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-blk blocking calls (VirtIO 1.2 section 5.2.6): a transfer of any
 * length is cut into requests within the device's limits (seg_max,
 * size_max, max_sectors, the discard and write-zeroes limits), up to
 * SYNC_WINDOW of them in flight at once, and the call returns when all are
 * done. The requests are built in blk.c's slots like any other.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <vio/blk.h>
#include <vio/error.h>
#include <vio/spec/virtio_blk.h>

#include "core/log.h"
#include "dev/blk_priv.h"

/* Requests of one blocking call in flight at once: the device works on one
 * while the driver queues the next. */
#define SYNC_WINDOW 4

/* vio_blk_read / vio_blk_write cut a flat buffer into lists of this much. */
#define FLAT_CHUNK_SECTORS (1u << 21) /* 1 GiB: any block size divides it */

/* One blocking call's transfer. */
struct sync {
	struct blk *b;
	struct blk_queue *q;
	enum vio_blk_op op;
	uint64_t sector;        /* first sector of the next request */
	uint64_t left;          /* sectors still to queue; 1 for FLUSH and GET_ID */
	struct blk_cursor cur;  /* READ, WRITE: the data still to queue */
	bool unmap;             /* WRITE_ZEROES */
	char *id;               /* GET_ID */
	/*
	 * Atomic, without vio_lock: the completions run in whatever thread
	 * runs the queue's handler, and each clears its bit with release
	 * ordering after recording its error, so a caller that sees the bit
	 * clear (acquire) also sees the error.
	 */
	unsigned busy;          /* bit i: reqs[i] is queued and its callback has not run */
	int error;              /* the first error */
	/* Last and never cleared as a whole: each is set up when it is used. */
	struct vio_blk_req reqs[SYNC_WINDOW];
};

/* Record err as the call's error unless an earlier one is there. */
static void set_error(struct sync *s, int err)
{
	int none = 0;

	(void)__atomic_compare_exchange_n(&s->error, &none, err, false, __ATOMIC_RELAXED,
					  __ATOMIC_RELAXED);
}

/*
 * A request of the call completed, in whatever thread runs the queue's
 * handler. Clearing the bit is the last access to *s: the caller may
 * return (and its frame go) as soon as it sees it.
 */
static void sync_done(struct vio_blk_req *r)
{
	struct sync *s = r->ctx;
	unsigned bit = 1u << (r - s->reqs);

	if (r->result)
		set_error(s, r->result);
	__atomic_fetch_and(&s->busy, ~bit, __ATOMIC_RELEASE);
}

/*
 * The next discard or write-zeroes range: within the device's limit and,
 * when a discard is split, ending on discard_sector_alignment so that the
 * pieces line up with the device's allocation units.
 */
static uint32_t dwz_count(const struct sync *s)
{
	const struct vio_blk_info *in = &s->b->info;
	uint32_t max = s->op == VIO_BLK_OP_DISCARD ? in->max_discard_sectors
						   : in->max_write_zeroes_sectors;
	uint64_t n = s->left < max ? s->left : max;

	if (s->op == VIO_BLK_OP_DISCARD && n < s->left) {
		uint64_t end = (s->sector + n) / in->discard_alignment * in->discard_alignment;

		if (end > s->sector)
			n = end - s->sector;
	}
	return (uint32_t)n;
}

/*
 * Set up r for the call's next request: every field blk_enqueue and the
 * completion read (the op's own ones are the caller's); no memset of the rest.
 */
static void req_init(struct sync *s, struct vio_blk_req *r)
{
	r->op = s->op;
	r->sector = s->sector;
	r->count = 0;
	r->unmap = false;
	r->sg = NULL; /* the call invalidates its own buffers when it ends */
	r->nsg = 0;
	r->id = NULL;
	r->done = sync_done;
	r->ctx = s;
	r->busy = false; /* its callback ran (or it never was queued) */
	r->internal = true;
}

/* Build and queue the next request of the transfer in reqs[i]. */
static int sync_next(struct sync *s, unsigned i)
{
	struct vio_sg piece[VIO_BLK_SEGS_LIMIT];
	struct vio_blk_req *r = &s->reqs[i];
	struct blk_cursor c = s->cur;
	uint32_t len = 0, count = 1;
	unsigned n = 0;
	int rc;

	req_init(s, r);
	switch (s->op) {
	case VIO_BLK_OP_READ:
	case VIO_BLK_OP_WRITE:
		len = blk_cut(s->b, &c, piece, &n, s->b->max_bytes);
		if (!len)
			return VIO_EINVAL; /* too fragmented to carry one block in seg_max pieces */
		count = len >> VIRTIO_BLK_SECTOR_SHIFT;
		break;
	case VIO_BLK_OP_DISCARD:
	case VIO_BLK_OP_WRITE_ZEROES:
		count = dwz_count(s);
		r->count = count;
		r->unmap = s->unmap;
		break;
	case VIO_BLK_OP_GET_ID:
		r->id = s->id;
		break;
	default:
		break;
	}
	/* Set before it can complete; only this thread sets bits. */
	__atomic_fetch_or(&s->busy, 1u << i, __ATOMIC_RELAXED);
	rc = blk_enqueue(s->b, s->q, r, piece, n, len);
	if (rc) {
		__atomic_fetch_and(&s->busy, ~(1u << i), __ATOMIC_RELAXED);
		return rc;
	}
	s->cur = c;
	s->sector += count;
	s->left -= count;
	return 0;
}

/* The first request of the window not in flight, or SYNC_WINDOW. */
static unsigned free_req(unsigned busy)
{
	unsigned i = 0;

	while (i < SYNC_WINDOW && (busy & (1u << i)))
		i++;
	return i;
}

/*
 * The wait of a blocking call ended with rc (not 0): record it, and when
 * requests are still the device's, give up on the device so that they end.
 */
static void sync_wait_failed(struct sync *s, int rc, uint64_t timeout)
{
	struct vio_device *dev = s->b->dev;

	if (rc == VIO_ETIMEDOUT && __atomic_load_n(&s->busy, __ATOMIC_ACQUIRE)) {
		/*
		 * Requests on this stack frame are still the device's: it is
		 * reset (vio_dev_fail) before they are taken back, so it cannot
		 * write into the caller's buffers after we return.
		 */
		vio_err("%s: queue %u: no completion in %llu ms; giving up on the device",
			dev->name, s->q->index, (unsigned long long)(timeout / 1000000u));
		vio_dev_fail(dev, VIO_ETIMEDOUT);
	}
	set_error(s, rc);
	/* A failed device: this ends every request still in flight. */
	blk_drain(s->b, s->q);
}

static int sync_run(struct sync *s)
{
	struct vio_device *dev = s->b->dev;
	struct blk_queue *q = s->q;
	uint64_t timeout;
	unsigned busy;
	uint32_t seen;
	int rc, error;
	uintptr_t l;

	for (;;) {
		bool queued = false, retried = false;

		/*
		 * The count first: a completion after it wakes the wait below
		 * even if it comes before the wait starts.
		 */
		seen = blk_progress_mark(q);
		busy = __atomic_load_n(&s->busy, __ATOMIC_ACQUIRE);
		error = __atomic_load_n(&s->error, __ATOMIC_RELAXED);
		while (!error && s->left) {
			unsigned i = free_req(busy);

			if (i == SYNC_WINDOW)
				break;
			rc = sync_next(s, i);
			/*
			 * A full ring makes room as requests complete; the kick
			 * below publishes whatever fills it, ours or not.
			 */
			if (rc == VIO_ENOSPC && vio_blk_in_flight(dev, q->index)) {
				queued = true;
				break;
			}
			/* They all completed since sync_next looked: there is room now. */
			if (rc == VIO_ENOSPC && !retried) {
				retried = true;
				continue;
			}
			if (rc) {
				set_error(s, rc);
				error = rc;
				break;
			}
			busy |= 1u << i;
			queued = true;
		}
		if (queued) {
			l = vio_lock();
			vio_vq_kick(q->vq);
			vio_unlock(l);
		}
		busy = __atomic_load_n(&s->busy, __ATOMIC_ACQUIRE);
		error = __atomic_load_n(&s->error, __ATOMIC_RELAXED);
		if (!busy && (error || !s->left))
			break;
		timeout = __atomic_load_n(&s->b->timeout_ns, __ATOMIC_RELAXED); /* vio_blk_set_timeout */
		rc = blk_wait_progress(s->b, q, seen, timeout);
		if (!rc)
			continue;
		sync_wait_failed(s, rc, timeout);
		if (__atomic_load_n(&s->busy, __ATOMIC_ACQUIRE))
			break; /* unreachable: the drain ended them all */
	}
	return __atomic_load_n(&s->error, __ATOMIC_RELAXED);
}

/*
 * A transfer of one request (a read or write of one piece: the common
 * blocking call) without the window: queue it, kick, wait. Returns
 * VIO_ENOSPC, having queued nothing, when the ring has no room (sync_run
 * then waits for some).
 */
static int sync_one(struct sync *s, void *buf, uint32_t len)
{
	struct vio_blk_req *r = &s->reqs[0];
	struct blk_queue *q = s->q;
	uint64_t timeout;
	uint32_t seen;
	int rc;

	req_init(s, r);
	s->busy = 1;
	rc = blk_enqueue_kick(s->b, q, r, buf, len);
	if (rc) {
		s->busy = 0;
		return rc;
	}
	s->left = 0;
	for (;;) {
		/* The count first: see blk_wait_progress. */
		seen = blk_progress_mark(q);
		if (!__atomic_load_n(&s->busy, __ATOMIC_ACQUIRE))
			break;
		timeout = __atomic_load_n(&s->b->timeout_ns, __ATOMIC_RELAXED);
		rc = blk_wait_progress(s->b, q, seen, timeout);
		if (rc) {
			sync_wait_failed(s, rc, timeout);
			break;
		}
	}
	return __atomic_load_n(&s->error, __ATOMIC_RELAXED);
}

/* Set up a call on a checked device and queue: no memset of the request window. */
static void sync_init(struct sync *s, struct blk *b, struct blk_queue *q, enum vio_blk_op op)
{
	s->b = b;
	s->q = q;
	s->op = op;
	s->sector = 0;
	s->left = 0;
	s->cur = (struct blk_cursor){ NULL, 0, 0, 0 };
	s->unmap = false;
	s->id = NULL;
	s->busy = 0;
	s->error = 0;
}

/* Begin a blocking call on queue qi. */
static int sync_start(struct vio_device *dev, unsigned qi, enum vio_blk_op op, struct sync *s)
{
	struct blk_queue *q;
	struct blk *b;
	int rc;

	rc = vio_blk_check(dev);
	if (!rc)
		rc = blk_lookup(dev, qi, &b, &q);
	if (!rc)
		sync_init(s, b, q, op);
	return rc;
}

/*
 * A READ or WRITE of total bytes whose arguments have been checked. Inline
 * in both callers: a blocking read or write is mostly this.
 */
__attribute__((always_inline)) static inline int rw_checked(struct blk *b, struct blk_queue *q,
							    enum vio_blk_op op, uint64_t sector,
							    const struct vio_sg *sg, unsigned nsg,
							    uint64_t total)
{
	const struct vio_port *port = b->port;
	struct sync s;
	int rc;

	sync_init(&s, b, q, op);
	s.sector = sector;
	s.left = total >> VIRTIO_BLK_SECTOR_SHIFT;
	s.cur = (struct blk_cursor){ sg, nsg, 0, 0 };
	rc = VIO_ENOSPC;
	/* One request carries it all: the common case, without the window. */
	if (nsg == 1 && total <= b->seg1_max && total <= b->max_bytes)
		rc = sync_one(&s, sg[0].buf, (uint32_t)total);
	if (rc == VIO_ENOSPC)
		rc = sync_run(&s);
	/* The CPU may have pulled stale lines in while the device wrote. */
	if (op == VIO_BLK_OP_READ && port->cache_invalidate)
		for (unsigned i = 0; i < nsg; i++)
			port->cache_invalidate(port->ctx, sg[i].buf, sg[i].len);
	return rc;
}

static int rw(struct vio_device *dev, unsigned queue, enum vio_blk_op op, uint64_t sector,
	      const struct vio_sg *sg, unsigned nsg)
{
	struct blk_queue *q;
	struct blk *b;
	uint64_t total;
	int rc;

	rc = vio_blk_check(dev);
	if (!rc)
		rc = blk_lookup(dev, queue, &b, &q);
	if (rc)
		return rc;
	if (op == VIO_BLK_OP_WRITE && b->info.read_only)
		return VIO_EROFS;
	rc = blk_check_sg(sg, nsg, &total);
	if (rc)
		return rc;
	if (total & (b->info.block_size - 1)) /* a power of two (blk_probe.c) */
		return VIO_EINVAL;
	rc = blk_check_range(b, sector, total >> VIRTIO_BLK_SECTOR_SHIFT);
	if (rc)
		return rc;
	return rw_checked(b, q, op, sector, sg, nsg, total);
}

int vio_blk_readv(struct vio_device *dev, unsigned queue, uint64_t sector,
		  const struct vio_sg *sg, unsigned nsg)
{
	return rw(dev, queue, VIO_BLK_OP_READ, sector, sg, nsg);
}

int vio_blk_writev(struct vio_device *dev, unsigned queue, uint64_t sector,
		   const struct vio_sg *sg, unsigned nsg)
{
	return rw(dev, queue, VIO_BLK_OP_WRITE, sector, sg, nsg);
}

/* A flat buffer: one list entry at a time (an entry's length is 32 bits). */
static int rw_flat(struct vio_device *dev, enum vio_blk_op op, uint64_t sector, void *buf,
		   uint32_t count)
{
	struct blk_queue *q;
	struct blk *b;
	int rc = blk_ready(dev, 0, &b, &q);

	if (rc)
		return rc;
	if (!buf || !count)
		return VIO_EINVAL;
	/* The whole range is checked before the first piece reaches the device. */
	if (op == VIO_BLK_OP_WRITE && b->info.read_only)
		return VIO_EROFS;
	rc = blk_check_range(b, sector, count);
	if (rc)
		return rc;
	while (count) {
		uint32_t n = count < FLAT_CHUNK_SECTORS ? count : FLAT_CHUNK_SECTORS;
		struct vio_sg sg = { buf, n << VIRTIO_BLK_SECTOR_SHIFT };

		/* Each piece is within the range checked above, in whole blocks. */
		rc = rw_checked(b, q, op, sector, &sg, 1, sg.len);
		if (rc)
			return rc;
		buf = (uint8_t *)buf + sg.len;
		sector += n;
		count -= n;
	}
	return 0;
}

int vio_blk_read(struct vio_device *dev, uint64_t sector, void *buf, uint32_t count)
{
	return rw_flat(dev, VIO_BLK_OP_READ, sector, buf, count);
}

int vio_blk_write(struct vio_device *dev, uint64_t sector, const void *buf, uint32_t count)
{
	/* The device only reads the buffer of a write. */
	return rw_flat(dev, VIO_BLK_OP_WRITE, sector, (void *)(uintptr_t)buf, count);
}

int vio_blk_flush(struct vio_device *dev)
{
	struct sync s;
	int rc;

	rc = sync_start(dev, 0, VIO_BLK_OP_FLUSH, &s);
	if (rc)
		return rc;
	/* 5.2.6.2: without a write-back cache a completed write is stable */
	if (!s.b->info.flush || !__atomic_load_n(&s.b->info.writeback, __ATOMIC_RELAXED))
		return 0;
	s.left = 1;
	return sync_run(&s);
}

static int dwz(struct vio_device *dev, enum vio_blk_op op, uint64_t sector, uint64_t count,
	       bool unmap)
{
	const struct vio_blk_info *in;
	struct sync s;
	int rc;

	rc = sync_start(dev, 0, op, &s);
	if (rc)
		return rc;
	in = &s.b->info;
	if (op == VIO_BLK_OP_DISCARD ? !in->discard : !in->write_zeroes)
		return VIO_ENOTSUP;
	if (in->read_only)
		return VIO_EROFS;
	rc = blk_check_range(s.b, sector, count);
	if (rc)
		return rc;
	s.sector = sector;
	s.left = count;
	s.unmap = unmap;
	return sync_run(&s);
}

int vio_blk_discard(struct vio_device *dev, uint64_t sector, uint64_t count)
{
	return dwz(dev, VIO_BLK_OP_DISCARD, sector, count, false);
}

int vio_blk_write_zeroes(struct vio_device *dev, uint64_t sector, uint64_t count, bool unmap)
{
	return dwz(dev, VIO_BLK_OP_WRITE_ZEROES, sector, count, unmap);
}

int vio_blk_get_id(struct vio_device *dev, char *buf, size_t len)
{
	struct sync s;
	int rc;

	rc = sync_start(dev, 0, VIO_BLK_OP_GET_ID, &s);
	if (rc)
		return rc;
	if (!buf || len < VIO_BLK_ID_LEN + 1)
		return VIO_EINVAL;
	buf[0] = '\0';
	s.id = buf;
	s.left = 1;
	rc = sync_run(&s);
	if (rc) {
		buf[0] = '\0';
		return rc;
	}
	return (int)strlen(buf);
}

int vio_blk_set_writeback(struct vio_device *dev, bool writeback)
{
	const unsigned off = (unsigned)offsetof(struct virtio_blk_config, writeback);
	struct sync s;
	uint64_t v;
	int rc;

	rc = sync_start(dev, 0, VIO_BLK_OP_FLUSH, &s);
	if (rc)
		return rc;
	if (!s.b->info.wce_config)
		return VIO_ENOTSUP;
	/*
	 * 5.2.6.1: after writing 0 the driver may not assume earlier volatile
	 * writes were committed; flush them first so they are.
	 */
	if (!writeback && __atomic_load_n(&s.b->info.writeback, __ATOMIC_RELAXED)) {
		rc = vio_blk_flush(dev);
		if (rc)
			return rc;
	}
	rc = vio_dev_config_write(dev, off, 1, writeback ? 1 : 0);
	if (!rc)
		rc = vio_dev_config_read(dev, off, 1, &v);
	if (rc)
		return rc;
	if (v != (writeback ? 1u : 0u)) {
		vio_err("%s: the device kept writeback %u after %u was written", dev->name,
			(unsigned)v, writeback ? 1u : 0u);
		return VIO_EIO;
	}
	__atomic_store_n(&s.b->info.writeback, writeback, __ATOMIC_RELAXED);
	return 0;
}
