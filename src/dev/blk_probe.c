/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-blk driver: probe (VirtIO 1.2 sections 5.2.3 to 5.2.5). The
 * configuration space is read once, checked, and turned into the limits
 * every request is built to; a device that describes itself in a way that
 * cannot be true is refused. Then one request queue per virtqueue, with one
 * slot of DMA memory (header, status, ID) per ring entry.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <vio/blk.h>
#include <vio/error.h>
#include <vio/spec/virtio_blk.h>
#include <vio/spec/virtio_config.h>

#include "core/log.h"
#include "dev/blk_priv.h"
#include "dev/params.h"
#include "vio_config.h"

#define CFG(field) ((unsigned)offsetof(struct virtio_blk_config, field))

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
	if (vio_dev_has(dev, VIRTIO_BLK_F_CONFIG_WCE)) {
		/* 5.2.5.1: read only after FEATURES_OK, which the core has set */
		rc = cfg_read(b, CFG(writeback), 1, &v);
		if (rc)
			return rc;
		if (v > 1)
			return nonsense(b, "writeback", v, "is neither 0 nor 1");
		in->writeback = v == 1;
		/*
		 * 5.2.5.2: a device with CONFIG_WCE offers FLUSH. Without it a
		 * write-back cache could never be made stable: leave the mode alone.
		 */
		in->wce_config = in->flush;
		if (!in->flush)
			vio_warn("%s: CONFIG_WCE without FLUSH: the cache mode is not switched",
				 dev->name);
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
		if (b->nq > b->nq_alloc)
			b->nq = b->nq_alloc;
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

static int setup_queue(struct blk *b, unsigned i, uint32_t queue_size)
{
	const struct vio_port *port = vio_port();
	struct blk_queue *q = &b->q[i];
	struct vio_vq_opts opts = {
		.max_size = queue_size,
		/* header + data segments + status in one ring entry */
		.indirect_max = (uint16_t)(b->max_segments + 2),
		.handler = blk_queue_handler,
		.arg = q,
	};
	uint32_t size;
	int rc;

	q->b = b;
	rc = vio_dev_vq_setup(b->dev, i, &opts, &q->vq);
	if (rc)
		return rc;
	size = vio_vq_size(q->vq);
	/* Header, one data segment and status: the shortest read or write. */
	if (size < 3) {
		vio_err("%s: refused: queue %u has %u entries, a request needs 3", b->dev->name, i,
			(unsigned)size);
		return VIO_ENOTSUP;
	}
	q->index = (uint16_t)i;
	q->dma = port->dma_alloc(port->ctx, sizeof(*q->dma) * size, sizeof(*q->dma));
	q->reqs = port->dma_alloc(port->ctx, sizeof(*q->reqs) * size, sizeof(void *));
	q->free = port->dma_alloc(port->ctx, sizeof(*q->free) * size, sizeof(uint16_t));
	q->size = (uint16_t)size;
	if (!q->dma || !q->reqs || !q->free)
		return VIO_ENOMEM;
	memset(q->reqs, 0, sizeof(*q->reqs) * size);
	if (vio_vq_chain_cost(q->vq, 3) == 1) {
		q->chains = port->dma_alloc(port->ctx, sizeof(*q->chains) * size, sizeof(void *));
		if (!q->chains)
			return VIO_ENOMEM;
		memset(q->chains, 0, sizeof(*q->chains) * size);
	}
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
	if (q->chains)
		port->dma_free(port->ctx, q->chains, sizeof(*q->chains) * q->size);
	memset(q, 0, sizeof(*q));
}

static int setup_queues(struct blk *b, uint32_t queue_size)
{
	unsigned want = b->nq, i;
	int rc;

	b->nq = 0; /* not usable until every queue is set up */
	for (i = 0; i < want; i++) {
		rc = setup_queue(b, i, queue_size);
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
	in->seg_max = min32(min32(in->seg_max, b->max_segments), qmin - 2);
	bytes = (uint64_t)in->seg_max * in->size_max;
	if (bytes > (uint64_t)b->max_request_sectors << VIRTIO_BLK_SECTOR_SHIFT)
		bytes = (uint64_t)b->max_request_sectors << VIRTIO_BLK_SECTOR_SHIFT;
	bytes -= bytes % in->block_size;
	if (!bytes) {
		vio_err("%s: refused: %u segments of size_max %u cannot carry one %u-byte block",
			b->dev->name, in->seg_max, in->size_max, in->block_size);
		return VIO_EPROTO;
	}
	in->max_sectors = (uint32_t)(bytes >> VIRTIO_BLK_SECTOR_SHIFT);
	b->max_bytes = (uint32_t)bytes;
	b->seg1_max = min32(in->size_max, b->max_bytes);
	return 0;
}

static void log_info(const struct blk *b)
{
	const struct vio_blk_info *in = &b->info;

	vio_info("%s: %llu sectors (%llu MiB), block %u, %u queue%s of %u, seg_max %u, "
		 "%u KiB/request%s%s%s%s", b->dev->name, (unsigned long long)in->capacity,
		 (unsigned long long)(in->capacity >> 11), in->block_size, in->num_queues,
		 in->num_queues == 1 ? "" : "s", in->queue_size, in->seg_max,
		 in->max_sectors / 2, in->read_only ? ", read-only" : "",
		 in->writeback ? ", write-back" : ", write-through",
		 in->discard ? ", discard" : "", in->write_zeroes ? ", write-zeroes" : "");
}

/* The run-time parameters, each 0 replaced by its default. */
static struct vio_blk_params params_of(const struct vio_device *dev)
{
	struct vio_blk_params p = { 0 };

	if (dev->params)
		p = *(const struct vio_blk_params *)dev->params;
	if (!p.max_queues)
		p.max_queues = CONFIG_VIO_BLK_QUEUES_MAX;
	p.max_segments = (uint16_t)param_or(p.max_segments, VIO_BLK_SEGS_DEFAULT,
					    VIO_BLK_SEGS_LIMIT);
	if (!p.max_request_sectors)
		p.max_request_sectors = VIO_BLK_REQ_SECTORS_DEFAULT;
	p.timeout_ms = param_or(p.timeout_ms, CONFIG_VIO_TIMEOUT_MS, UINT32_MAX);
	return p;
}

static int blk_probe(struct vio_device *dev)
{
	const struct vio_port *port = vio_port();
	struct vio_blk_params p = params_of(dev);
	struct blk *b = dev->priv;
	int rc;

	b->dev = dev;
	b->port = port;
	b->legacy = dev->t.legacy;
	b->timeout_ns = (uint64_t)p.timeout_ms * 1000000u;
	b->max_segments = p.max_segments;
	b->max_request_sectors = p.max_request_sectors;
	b->q = port->dma_alloc(port->ctx, sizeof(*b->q) * p.max_queues, sizeof(void *));
	if (!b->q)
		return VIO_ENOMEM;
	memset(b->q, 0, sizeof(*b->q) * p.max_queues);
	b->nq_alloc = p.max_queues;
	rc = read_geometry(b);
	if (!rc)
		rc = read_limits(b);
	if (!rc)
		rc = read_dwz(b);
	if (!rc)
		rc = setup_queues(b, p.queue_size);
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
	const struct vio_port *port = vio_port();
	struct blk *b = dev->priv;

	if (!b->q)
		return;
	for (unsigned i = 0; i < b->nq_alloc; i++)
		free_queue(&b->q[i]);
	port->dma_free(port->ctx, b->q, sizeof(*b->q) * b->nq_alloc);
	b->q = NULL;
	b->nq = 0;
}

/*
 * vio_dev_recover: the device was reset and blk_remove gave back the
 * queues. Probe again from the configuration (the capacity may have
 * changed), keeping the timeout the application set.
 */
static int blk_resume(struct vio_device *dev)
{
	struct blk *b = dev->priv;
	uint64_t timeout = __atomic_load_n(&b->timeout_ns, __ATOMIC_RELAXED);
	int rc;

	memset(b, 0, sizeof(*b));
	rc = blk_probe(dev);
	__atomic_store_n(&b->timeout_ns, timeout, __ATOMIC_RELAXED);
	return rc;
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
		uintptr_t s;

		vio_info("%s: capacity %llu -> %llu sectors", dev->name,
			 (unsigned long long)b->info.capacity, (unsigned long long)v);
		/* The I/O paths read it without waiting for this handler. */
		s = vio_lock();
		__atomic_store_n(&b->info.capacity, v, __ATOMIC_RELAXED);
		vio_unlock(s);
	}
	if (vio_dev_has(dev, VIRTIO_BLK_F_CONFIG_WCE) && !cfg_read(b, CFG(writeback), 1, &v) &&
	    v <= 1) {
		/* Under the lock too: vio_blk_get_info copies info whole under it. */
		uintptr_t s = vio_lock();

		__atomic_store_n(&b->info.writeback, v == 1, __ATOMIC_RELAXED);
		vio_unlock(s);
	}
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
	.uses_indirect = true, /* header + data segments + status in one ring entry */
	.probe = blk_probe,
	.remove = blk_remove,
	.config_changed = blk_config_changed,
	.resume = blk_resume,
};
