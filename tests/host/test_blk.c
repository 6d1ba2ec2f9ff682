/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-blk (VirtIO 1.2 section 5.2) against the simulated block device
 * (tests/sim/blk_model.c): configuration checks at probe, request building
 * and splitting, the asynchronous API, completion order, and every error
 * path. Built twice: interrupt-driven and polled completion.
 */
#include <stddef.h>
#include <string.h>

#include <vio/blk.h>
#include <vio/device.h>
#include <vio/error.h>
#include <vio/mmio.h>
#include <vio/spec/virtio_blk.h>
#include <vio/spec/virtio_ring.h>
#include <vio/spec/virtio_config.h>
#include <vio/virtqueue.h>

#include "blk_model.h"
#include "dev/blk_priv.h"
#include "sim.h"
#include "sim_port.h"
#include "test.h"
#include "vio_config.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define DISK_SECTORS 16384u /* 8 MiB */
#define CFG(field) ((unsigned)offsetof(struct virtio_blk_config, field))

static struct sim_blk blk;
static struct sim_dev *d;
static uint8_t disk[DISK_SECTORS * 512];
static uint8_t buf[4 << 20];
static uint8_t buf2[4 << 20];

static uint8_t pattern(uint64_t off, unsigned seed)
{
	return (uint8_t)(((off + seed) * 2654435761u) >> 24);
}

static void fill(uint8_t *p, size_t len, uint64_t off, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = pattern(off + i, seed);
}

static bool same(const uint8_t *p, size_t len, uint64_t off, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != pattern(off + i, seed))
			return false;
	return true;
}

/* A blk device in slot 0 over the disk (seed 1), not yet added. */
static void make(uint32_t version)
{
	CHECK_EQ(vio_init(sim_port(), sim_os()), 0);
	CHECK_EQ(vio_driver_register(&vio_blk_driver, NULL), 0);
	d = sim_dev_new(0, version, VIRTIO_ID_BLOCK);
	sim_blk_attach(d, &blk, disk, DISK_SECTORS);
	fill(disk, sizeof(disk), 0, 1);
}

/* Add it; expect rc. Returns the device when it is ready. */
static struct vio_device *add(int expect)
{
	struct vio_device *dev = NULL;

	CHECK_EQ(vio_mmio_add(d->base, d->irq, 0, &dev), expect);
	CHECK(dev != NULL);
	if (!dev || dev->state != VIO_DEV_READY)
		return NULL;
	CHECK_EQ(vio_dev_uses_irq(dev), !CONFIG_VIO_COMPLETION_POLL);
	return dev;
}

static struct vio_device *setup(uint32_t version)
{
	make(version);
	return add(0);
}

static struct vio_blk_info info_of(struct vio_device *dev)
{
	struct vio_blk_info in;

	memset(&in, 0, sizeof(in));
	CHECK_EQ(vio_blk_get_info(dev, &in), 0);
	return in;
}

/* ------------------------------------------------------------------ */
/* Probe */

static void probe_defaults(uint32_t version)
{
	struct vio_device *dev = setup(version);
	struct vio_blk_info in;

	if (!dev)
		return;
	CHECK_STR(dev->name, "blk0");
	in = info_of(dev);
	CHECK_EQ(in.capacity, DISK_SECTORS);
	CHECK_EQ(in.block_size, 512);
	CHECK_EQ(in.physical_block_size, 512);
	CHECK_EQ(in.cylinders, 1024);
	CHECK_EQ(in.heads, 16);
	CHECK_EQ(in.sectors_per_track, 63);
	CHECK_EQ(in.num_queues, 1);
	CHECK_EQ(in.queue_size, 256);
	CHECK_EQ(in.seg_max, VIO_BLK_SEGS_DEFAULT);
	CHECK_EQ(in.size_max, UINT32_MAX);
	CHECK_EQ(in.max_sectors, VIO_BLK_REQ_SECTORS_DEFAULT);
	CHECK(!in.read_only);
	CHECK(in.flush);
	CHECK(in.writeback);
	CHECK(in.wce_config);
	CHECK(in.discard);
	CHECK(in.write_zeroes);
	CHECK(in.write_zeroes_may_unmap);
	CHECK_EQ(in.max_discard_sectors, 0x3fffff);
	CHECK_EQ(in.discard_alignment, 1);
	CHECK_EQ(vio_blk_writeback(dev), 1);
	/* 5.2.3: what the driver accepted */
	CHECK(vio_dev_has(dev, VIRTIO_BLK_F_FLUSH));
	CHECK(vio_dev_has(dev, VIRTIO_BLK_F_CONFIG_WCE));
	CHECK(vio_dev_has(dev, VIRTIO_RING_F_INDIRECT_DESC));
	CHECK(!vio_dev_has(dev, VIRTIO_BLK_F_SCSI));
	CHECK_STR(vio_dev_feature_name(dev, VIRTIO_BLK_F_DISCARD), "BLK_DISCARD");
	CHECK(sim_log_contains("blk0: 16384 sectors"));
	CHECK_EQ(vio_blk_in_flight(dev, 0), 0);
}

static void test_probe_modern(void)
{
	probe_defaults(2);
}

static void test_probe_legacy(void)
{
	probe_defaults(1);
}

static void test_probe_minimal(void)
{
	struct vio_device *dev;
	struct vio_blk_info in;

	/* No optional feature at all: one segment per request, no flush, no cache. */
	make(2);
	d->features = 1ull << VIRTIO_F_VERSION_1;
	dev = add(0);
	if (!dev)
		return;
	in = info_of(dev);
	CHECK_EQ(in.seg_max, 1);
	CHECK_EQ(in.block_size, 512);
	CHECK(!in.flush && !in.writeback && !in.wce_config && !in.discard && !in.write_zeroes);
	CHECK_EQ(in.cylinders, 0);
	CHECK_EQ(vio_blk_flush(dev), 0);
	CHECK_EQ(blk.flushes, 0);
	CHECK_EQ(vio_blk_set_writeback(dev, true), VIO_ENOTSUP);
	CHECK_EQ(vio_blk_discard(dev, 0, 8), VIO_ENOTSUP);
	CHECK_EQ(vio_blk_write_zeroes(dev, 0, 8, false), VIO_ENOTSUP);
	/* Reads still work, one segment (and one request per buffer) at a time. */
	CHECK_EQ(vio_blk_read(dev, 10, buf, 16), 0);
	CHECK(same(buf, 16 * 512, 10 * 512, 1));
	CHECK_EQ(blk.max_segs, 1);
}

static void test_probe_topology(void)
{
	struct vio_device *dev;
	struct vio_blk_info in;

	make(2);
	sim_config_set(d, CFG(blk_size), 4, 4096);
	sim_config_set(d, CFG(topology.physical_block_exp), 1, 1);
	sim_config_set(d, CFG(topology.alignment_offset), 1, 2);
	sim_config_set(d, CFG(topology.min_io_size), 2, 1);
	sim_config_set(d, CFG(topology.opt_io_size), 4, 32);
	sim_config_set(d, CFG(size_max), 4, 65536);
	sim_config_set(d, CFG(seg_max), 4, 8);
	d->features |= 1ull << VIRTIO_BLK_F_SIZE_MAX;
	dev = add(0);
	if (!dev)
		return;
	in = info_of(dev);
	CHECK_EQ(in.block_size, 4096);
	CHECK_EQ(in.physical_block_size, 8192);
	CHECK_EQ(in.alignment_offset, 2);
	CHECK_EQ(in.min_io_size, 4096);
	CHECK_EQ(in.opt_io_size, 32 * 4096);
	CHECK_EQ(in.size_max, 65536);
	CHECK_EQ(in.seg_max, 8);
	CHECK_EQ(in.max_sectors, 8 * 65536 / 512);
}

/* A device whose config cannot be true is refused, its memory given back. */
static void refused(unsigned off, unsigned width, uint64_t val, uint64_t feature,
		    const char *msg)
{
	struct vio_device *dev = NULL;

	make(2);
	d->features |= feature;
	sim_config_set(d, off, width, val);
	CHECK_EQ(vio_mmio_add(d->base, d->irq, 0, &dev), VIO_EPROTO);
	CHECK(dev != NULL);
	if (dev) {
		CHECK_EQ(dev->state, VIO_DEV_FAILED);
		CHECK_EQ(dev->error, VIO_EPROTO);
		CHECK_EQ(vio_blk_read(dev, 0, buf, 1), VIO_ESHUTDOWN);
		CHECK_EQ(vio_blk_poll(dev, 0), VIO_ENODEV);
	}
	CHECK(d->status & VIRTIO_CONFIG_S_FAILED);
	CHECK(sim_log_contains(msg));
	CHECK_EQ(sim_dma_live(), 0);
}

static void test_probe_refused(void)
{
	uint64_t mq = 1ull << VIRTIO_BLK_F_MQ, sm = 1ull << VIRTIO_BLK_F_SIZE_MAX;

	refused(CFG(blk_size), 4, 1000, 0, "blk_size 1000");
	sim_reset_all();
	sim_port_reset();
	refused(CFG(blk_size), 4, 256, 0, "blk_size 256");
	sim_reset_all();
	sim_port_reset();
	refused(CFG(blk_size), 4, 131072, 0, "blk_size 131072");
	sim_reset_all();
	sim_port_reset();
	refused(CFG(seg_max), 4, 0, 0, "seg_max 0");
	sim_reset_all();
	sim_port_reset();
	refused(CFG(size_max), 4, 0, sm, "size_max 0");
	sim_reset_all();
	sim_port_reset();
	refused(CFG(num_queues), 2, 0, mq, "num_queues 0");
	sim_reset_all();
	sim_port_reset();
	refused(CFG(capacity), 8, UINT64_MAX, 0, "capacity");
	sim_reset_all();
	sim_port_reset();
	refused(CFG(writeback), 1, 7, 0, "writeback 7");
	sim_reset_all();
	sim_port_reset();
	/* seg_max 1 of size_max 100 bytes cannot carry a sector */
	make(2);
	d->features |= sm;
	sim_config_set(d, CFG(seg_max), 4, 1);
	sim_config_set(d, CFG(size_max), 4, 100);
	CHECK_EQ(vio_mmio_add(d->base, d->irq, 0, NULL), VIO_EPROTO);
	CHECK(sim_log_contains("cannot carry one 512-byte block"));
	CHECK_EQ(sim_dma_live(), 0);
	sim_reset_all();
	sim_port_reset();
	/* A discard limit below one block of a 4 KiB disk */
	make(2);
	sim_config_set(d, CFG(blk_size), 4, 4096);
	sim_config_set(d, CFG(max_discard_sectors), 4, 4);
	CHECK_EQ(vio_mmio_add(d->base, d->irq, 0, NULL), VIO_EPROTO);
	CHECK(sim_log_contains("max_discard_sectors 4"));
	CHECK_EQ(sim_dma_live(), 0);
}

static void test_probe_small_ring(void)
{
	struct vio_device *dev = NULL;

	/* 2 entries cannot hold header, data and status without indirect descriptors. */
	make(2);
	d->features &= ~(1ull << VIRTIO_RING_F_INDIRECT_DESC);
	d->q[0].num_max = 2;
	CHECK_EQ(vio_mmio_add(d->base, d->irq, 0, &dev), VIO_ENOTSUP);
	CHECK(sim_log_contains("a request needs 3"));
	CHECK_EQ(sim_dma_live(), 0);
}

static void test_probe_no_memory(void)
{
	struct vio_device *dev = NULL;

	int n, rc = VIO_ENOMEM;

	/* Out of DMA memory part-way through probe: nothing is left behind. */
	for (n = 0; n < 32 && rc == VIO_ENOMEM; n++) {
		sim_reset_all();
		sim_port_reset();
		make(2);
		sim_dma_fail_after = n;
		rc = vio_mmio_add(d->base, d->irq, 0, &dev);
		if (rc == VIO_ENOMEM)
			CHECK_EQ(sim_dma_live(), 0);
	}
	/* priv, ring, slots, indirect tables, headers, request table, free list */
	CHECK_EQ(rc, 0);
	CHECK(n >= 7);
}

/* ------------------------------------------------------------------ */
/* Blocking reads and writes */

static void rw_roundtrip(uint32_t version)
{
	static const uint32_t counts[] = { 1, 8, 2047, 2048, 2049, 5000 };
	struct vio_device *dev = setup(version);
	uint64_t sector = 3;

	if (!dev)
		return;
	for (unsigned i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		uint32_t n = counts[i];
		unsigned reads = blk.reads, writes = blk.writes;
		unsigned reqs = (n + VIO_BLK_REQ_SECTORS_DEFAULT - 1) / VIO_BLK_REQ_SECTORS_DEFAULT;

		CHECK_EQ(vio_blk_read(dev, sector, buf, n), 0);
		CHECK(same(buf, (size_t)n * 512, sector * 512, 1));
		CHECK_EQ(blk.reads - reads, reqs);
		fill(buf, (size_t)n * 512, 0, 100 + i);
		CHECK_EQ(vio_blk_write(dev, sector, buf, n), 0);
		CHECK(same(disk + sector * 512, (size_t)n * 512, 0, 100 + i));
		CHECK_EQ(blk.writes - writes, reqs);
		/* Nothing beyond the range was touched. */
		CHECK(same(disk + (sector + n) * 512, 512, (sector + n) * 512, 1));
		memset(buf2, 0, (size_t)n * 512);
		CHECK_EQ(vio_blk_read(dev, sector, buf2, n), 0);
		CHECK(!memcmp(buf, buf2, (size_t)n * 512));
		sector += n + 1;
	}
	/* The last sector, and the whole disk at once. */
	CHECK_EQ(vio_blk_read(dev, DISK_SECTORS - 1, buf, 1), 0);
	CHECK(same(buf, 512, (DISK_SECTORS - 1) * 512ull, 1));
	CHECK_EQ(vio_blk_read(dev, 0, buf, sizeof(buf) / 512), 0);
	CHECK(!memcmp(buf, disk, sizeof(buf)));
	CHECK(blk.max_bytes <= VIO_BLK_REQ_SECTORS_DEFAULT * 512);
	CHECK_EQ(dev->state, VIO_DEV_READY);
	CHECK_EQ(vio_blk_in_flight(dev, 0), 0);
	/* 5.2.6.4: a request of several segments took one ring entry. */
	CHECK(d->q[0].max_chain >= 3);
}

static void test_rw_modern(void)
{
	rw_roundtrip(2);
}

static void test_rw_legacy(void)
{
	rw_roundtrip(1);
}

static void test_rw_no_indirect(void)
{
	struct vio_device *dev;
	struct vio_sg sg[8];

	make(1);
	d->features &= ~(1ull << VIRTIO_RING_F_INDIRECT_DESC);
	d->q[0].num_max = 16;
	dev = add(0);
	if (!dev)
		return;
	/* 14 data descriptors fit in 16 entries with header and status. */
	CHECK_EQ(info_of(dev).seg_max, 14);
	for (unsigned i = 0; i < 8; i++) {
		sg[i].buf = buf + i * 4096;
		sg[i].len = 4096;
	}
	fill(buf, 8 * 4096, 0, 7);
	CHECK_EQ(vio_blk_writev(dev, 0, 64, sg, 8), 0);
	CHECK(same(disk + 64 * 512, 8 * 4096, 0, 7));
	CHECK_EQ(blk.max_segs, 8);
	CHECK_EQ(vio_blk_readv(dev, 0, 64, sg, 8), 0);
	CHECK(same(buf, 8 * 4096, 0, 7));
}

static void test_split_limits(void)
{
	struct vio_device *dev;
	struct vio_sg sg[5];
	static const uint32_t lens[5] = { 100, 412, 1000, 536, 2048 };
	uint32_t off = 0;

	/* seg_max 2 and size_max 1024: at most 2 KiB per request. */
	make(2);
	d->features |= 1ull << VIRTIO_BLK_F_SIZE_MAX;
	sim_config_set(d, CFG(seg_max), 4, 2);
	sim_config_set(d, CFG(size_max), 4, 1024);
	dev = add(0);
	if (!dev)
		return;
	CHECK_EQ(info_of(dev).max_sectors, 4);
	fill(buf, 64 * 512, 0, 9);
	CHECK_EQ(vio_blk_write(dev, 100, buf, 64), 0);
	CHECK_EQ(blk.writes, 16);
	CHECK(same(disk + 100 * 512, 64 * 512, 0, 9));
	CHECK_EQ(blk.max_segs, 2);
	CHECK_EQ(blk.max_seg_len, 1024);

	/* Odd-sized pieces: each request is cut back to whole sectors. */
	for (unsigned i = 0; i < 5; i++) {
		sg[i].buf = buf2 + off + i; /* unaligned on purpose */
		sg[i].len = lens[i];
		off += lens[i];
	}
	blk.writes = 0;
	memset(buf2, 0, sizeof(sg) + off + 8);
	CHECK_EQ(vio_blk_readv(dev, 0, 100, sg, 5), 0);
	off = 0;
	for (unsigned i = 0; i < 5; i++) {
		CHECK(same(sg[i].buf, lens[i], off, 9));
		off += lens[i];
	}
	for (unsigned i = 0; i < blk.ntrace && i < SIM_BLK_TRACE; i++)
		CHECK(blk.trace[i].status == VIRTIO_BLK_S_OK);
	/* Pieces too small to make a sector in two segments: refused, nothing sent. */
	for (unsigned i = 0; i < 5; i++) {
		sg[i].buf = buf + i * 200;
		sg[i].len = i < 4 ? 200 : 224;
	}
	blk.reads = 0;
	CHECK_EQ(vio_blk_readv(dev, 0, 0, sg, 5), VIO_EINVAL);
	CHECK_EQ(blk.reads, 0);
	CHECK_EQ(vio_blk_in_flight(dev, 0), 0);
}

static void test_rw_bad_args(void)
{
	struct vio_device *dev = setup(2);
	struct vio_sg sg[2] = { { buf, 512 }, { buf2, 0 } };

	if (!dev)
		return;
	CHECK_EQ(vio_blk_read(dev, 0, NULL, 1), VIO_EINVAL);
	CHECK_EQ(vio_blk_read(dev, 0, buf, 0), VIO_EINVAL);
	CHECK_EQ(vio_blk_write(dev, 0, NULL, 1), VIO_EINVAL);
	CHECK_EQ(vio_blk_read(dev, DISK_SECTORS, buf, 1), VIO_ERANGE);
	CHECK_EQ(vio_blk_read(dev, DISK_SECTORS - 1, buf, 2), VIO_ERANGE);
	CHECK_EQ(vio_blk_write(dev, UINT64_MAX, buf, 1), VIO_ERANGE);
	CHECK_EQ(vio_blk_read(dev, UINT64_MAX - 1, buf, 4), VIO_ERANGE);
	CHECK_EQ(vio_blk_readv(dev, 0, 0, sg, 2), VIO_EINVAL);   /* an empty segment */
	sg[1].len = 100;
	CHECK_EQ(vio_blk_readv(dev, 0, 0, sg, 2), VIO_EINVAL);   /* not whole sectors */
	CHECK_EQ(vio_blk_readv(dev, 0, 0, NULL, 1), VIO_EINVAL);
	CHECK_EQ(vio_blk_readv(dev, 0, 0, sg, 0), VIO_EINVAL);
	sg[1].len = 512;
	CHECK_EQ(vio_blk_readv(dev, 1, 0, sg, 2), VIO_EINVAL);   /* no queue 1 */
	CHECK_EQ(vio_blk_readv(dev, 0, 0, sg, 2), 0);
	CHECK_EQ(vio_blk_read(NULL, 0, buf, 1), VIO_ENODEV);
	CHECK_EQ(vio_blk_get_info(dev, NULL), VIO_EINVAL);
	/* Nothing but the last good read reached the device. */
	CHECK_EQ(blk.reads, 1);
	CHECK_EQ(blk.writes, 0);
}

static void test_block_size_4k(void)
{
	struct vio_device *dev;

	make(1);
	sim_config_set(d, CFG(blk_size), 4, 4096);
	dev = add(0);
	if (!dev)
		return;
	CHECK_EQ(info_of(dev).block_size, 4096);
	CHECK_EQ(vio_blk_read(dev, 1, buf, 8), VIO_EINVAL);
	CHECK_EQ(vio_blk_read(dev, 0, buf, 4), VIO_EINVAL);
	CHECK_EQ(vio_blk_write(dev, 8, buf, 12), VIO_EINVAL);
	CHECK_EQ(vio_blk_discard(dev, 8, 9), VIO_EINVAL);
	CHECK_EQ(blk.reads + blk.writes + blk.discards, 0);
	CHECK_EQ(vio_blk_read(dev, 8, buf, 16), 0);
	CHECK(same(buf, 16 * 512, 8 * 512, 1));
	fill(buf, 8 * 512, 0, 4);
	CHECK_EQ(vio_blk_write(dev, 16, buf, 8), 0);
	CHECK(same(disk + 16 * 512, 8 * 512, 0, 4));
}

static void test_read_only(void)
{
	struct vio_device *dev;
	struct vio_blk_req req;
	struct vio_sg sg = { buf, 512 };

	make(2);
	d->features |= 1ull << VIRTIO_BLK_F_RO;
	dev = add(0);
	if (!dev)
		return;
	CHECK(info_of(dev).read_only);
	CHECK_EQ(vio_blk_write(dev, 0, buf, 1), VIO_EROFS);
	CHECK_EQ(vio_blk_writev(dev, 0, 0, &sg, 1), VIO_EROFS);
	CHECK_EQ(vio_blk_discard(dev, 0, 8), VIO_EROFS);
	CHECK_EQ(vio_blk_write_zeroes(dev, 0, 8, true), VIO_EROFS);
	memset(&req, 0, sizeof(req));
	req.op = VIO_BLK_OP_WRITE;
	req.sg = &sg;
	req.nsg = 1;
	CHECK_EQ(vio_blk_submit(dev, 0, &req), VIO_EROFS);
	req.op = VIO_BLK_OP_WRITE_ZEROES;
	req.count = 8;
	CHECK_EQ(vio_blk_submit(dev, 0, &req), VIO_EROFS);
	CHECK_EQ(blk.writes + blk.discards + blk.write_zeroes, 0);
	CHECK(same(disk, 4096, 0, 1));
	CHECK_EQ(vio_blk_read(dev, 0, buf, 8), 0);
	CHECK(same(buf, 4096, 0, 1));
	/* Flushing a read-only disk is harmless. */
	CHECK_EQ(vio_blk_flush(dev), 0);
}

/* ------------------------------------------------------------------ */
/* Flush, cache mode, ID */

static void test_flush_and_cache(void)
{
	struct vio_device *dev = setup(2);

	if (!dev)
		return;
	CHECK_EQ(vio_blk_flush(dev), 0);
	CHECK_EQ(blk.flushes, 1);
	/* To write-through: flush first, then the mode. */
	CHECK_EQ(vio_blk_set_writeback(dev, false), 0);
	CHECK_EQ(blk.flushes, 2);
	CHECK_EQ(d->config[CFG(writeback)], 0);
	CHECK_EQ(vio_blk_writeback(dev), 0);
	CHECK(!info_of(dev).writeback);
	/* Nothing to flush in write-through. */
	CHECK_EQ(vio_blk_flush(dev), 0);
	CHECK_EQ(blk.flushes, 2);
	CHECK_EQ(vio_blk_set_writeback(dev, true), 0);
	CHECK_EQ(d->config[CFG(writeback)], 1);
	CHECK_EQ(vio_blk_flush(dev), 0);
	CHECK_EQ(blk.flushes, 3);
	/* A device that keeps its mode. */
	blk.wce_stuck = true;
	CHECK_EQ(vio_blk_set_writeback(dev, false), VIO_EIO);
	CHECK_EQ(vio_blk_writeback(dev), 1);
	/* A flush the device fails. */
	blk.status_once = VIRTIO_BLK_S_IOERR;
	CHECK_EQ(vio_blk_flush(dev), VIO_EIO);
	CHECK_EQ(dev->state, VIO_DEV_READY);
}

static void test_flush_without_config_wce(void)
{
	struct vio_device *dev;

	/* 5.2.5.1: FLUSH without CONFIG_WCE means write-back. */
	make(1);
	d->features &= ~(1ull << VIRTIO_BLK_F_CONFIG_WCE);
	sim_config_set(d, CFG(writeback), 1, 0);
	dev = add(0);
	if (!dev)
		return;
	CHECK_EQ(vio_blk_writeback(dev), 1);
	CHECK_EQ(vio_blk_flush(dev), 0);
	CHECK_EQ(blk.flushes, 1);
	CHECK_EQ(vio_blk_set_writeback(dev, false), VIO_ENOTSUP);
}

static void test_wce_without_flush(void)
{
	struct vio_device *dev;

	/* 5.2.5.2: CONFIG_WCE comes with FLUSH; without it the mode is left alone. */
	make(2);
	d->features &= ~(1ull << VIRTIO_BLK_F_FLUSH);
	sim_config_set(d, CFG(writeback), 1, 0);
	dev = add(0);
	if (!dev)
		return;
	CHECK(!info_of(dev).wce_config);
	CHECK(!info_of(dev).writeback);
	CHECK(sim_log_contains("CONFIG_WCE without FLUSH"));
	CHECK_EQ(vio_blk_set_writeback(dev, true), VIO_ENOTSUP);
	CHECK_EQ(vio_blk_flush(dev), 0);
	CHECK_EQ(blk.flushes, 0);
	CHECK_EQ(d->config[CFG(writeback)], 0);
}

static void test_get_id(void)
{
	struct vio_device *dev = setup(2);
	char id[VIO_BLK_ID_LEN + 1];

	if (!dev)
		return;
	CHECK_EQ(vio_blk_get_id(dev, id, sizeof(id)), 0);
	CHECK_STR(id, "");
	blk.serial = "vio-disk-0001";
	CHECK_EQ(vio_blk_get_id(dev, id, sizeof(id)), 13);
	CHECK_STR(id, "vio-disk-0001");
	/* 20 bytes: no NUL from the device; the driver terminates it. */
	blk.serial = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	CHECK_EQ(vio_blk_get_id(dev, id, sizeof(id)), 20);
	CHECK_STR(id, "ABCDEFGHIJKLMNOPQRST");
	blk.serial = "a\001b\377c";
	CHECK_EQ(vio_blk_get_id(dev, id, sizeof(id)), 5);
	CHECK_STR(id, "a?b?c");
	CHECK_EQ(vio_blk_get_id(dev, id, VIO_BLK_ID_LEN), VIO_EINVAL);
	CHECK_EQ(vio_blk_get_id(dev, NULL, 64), VIO_EINVAL);
	blk.status_once = VIRTIO_BLK_S_UNSUPP;
	CHECK_EQ(vio_blk_get_id(dev, id, sizeof(id)), VIO_ENOTSUP);
	CHECK_STR(id, "");
	CHECK_EQ(blk.get_ids, 5);
}

/* ------------------------------------------------------------------ */
/* Discard and write zeroes */

static void test_discard_split(void)
{
	struct vio_device *dev;
	unsigned first;

	make(2);
	sim_config_set(d, CFG(max_discard_sectors), 4, 100);
	sim_config_set(d, CFG(discard_sector_alignment), 4, 16);
	sim_config_set(d, CFG(max_write_zeroes_sectors), 4, 64);
	dev = add(0);
	if (!dev)
		return;
	CHECK_EQ(info_of(dev).discard_alignment, 16);
	CHECK_EQ(vio_blk_discard(dev, 10, 300), 0);
	/* 10..96, 96..192, 192..288, 288..310: limit 100, ends on 16 when split */
	CHECK_EQ(blk.discards, 4);
	CHECK_EQ(blk.trace[0].sector, 10);
	CHECK_EQ(blk.trace[0].count, 86);
	CHECK_EQ(blk.trace[1].sector, 96);
	CHECK_EQ(blk.trace[1].count, 96);
	CHECK_EQ(blk.trace[3].sector, 288);
	CHECK_EQ(blk.trace[3].count, 22);
	for (unsigned i = 0; i < 4; i++) {
		CHECK_EQ(blk.trace[i].flags, 0); /* 5.2.6.1: no unmap on a discard */
		CHECK_EQ(blk.trace[i].nseg, 1);
	}
	CHECK_EQ(disk[10 * 512], 0xd5);
	CHECK_EQ(disk[310 * 512 - 1], 0xd5);
	CHECK(same(disk + 310 * 512, 512, 310 * 512, 1));
	CHECK(same(disk + 9 * 512, 512, 9 * 512, 1));

	first = blk.ntrace;
	CHECK_EQ(vio_blk_write_zeroes(dev, 1000, 150, true), 0);
	CHECK_EQ(blk.write_zeroes, 3);
	CHECK_EQ(blk.trace[first].count, 64);
	CHECK_EQ(blk.trace[first].flags, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	CHECK_EQ(blk.trace[first + 2].count, 22);
	for (unsigned i = 0; i < 150 * 512; i++)
		if (disk[1000 * 512 + i])
			CHECK_EQ(disk[1000 * 512 + i], 0);
	CHECK_EQ(vio_blk_write_zeroes(dev, 2000, 8, false), 0);
	CHECK_EQ(blk.trace[blk.ntrace - 1].flags, 0);

	CHECK_EQ(vio_blk_discard(dev, 0, 0), VIO_EINVAL);
	CHECK_EQ(vio_blk_discard(dev, DISK_SECTORS - 4, 8), VIO_ERANGE);
	CHECK_EQ(vio_blk_write_zeroes(dev, UINT64_MAX, 1, false), VIO_ERANGE);
	/* The device fails one piece: the error comes back. */
	blk.status_once = VIRTIO_BLK_S_IOERR;
	CHECK_EQ(vio_blk_discard(dev, 0, 400), VIO_EIO);
	CHECK_EQ(dev->state, VIO_DEV_READY);
}

/* ------------------------------------------------------------------ */
/* Device errors */

static void test_ioerr(void)
{
	struct vio_device *dev = setup(2);

	if (!dev)
		return;
	blk.ioerr_sector = 3000;
	CHECK_EQ(vio_blk_read(dev, 0, buf, 4096), VIO_EIO);
	CHECK_EQ(vio_blk_write(dev, 2999, buf, 2), VIO_EIO);
	CHECK_EQ(dev->state, VIO_DEV_READY);
	/* Everything in flight completed: the next call starts clean. */
	CHECK_EQ(vio_blk_in_flight(dev, 0), 0);
	CHECK_EQ(vio_blk_read(dev, 0, buf, 2048), 0);
	CHECK(same(buf, 2048 * 512, 0, 1));
	blk.status_once = VIRTIO_BLK_S_UNSUPP;
	CHECK_EQ(vio_blk_read(dev, 0, buf, 8), VIO_ENOTSUP);
	CHECK_EQ(dev->state, VIO_DEV_READY);
}

static void bad_status(bool never_written)
{
	struct vio_device *dev = setup(2);

	if (!dev)
		return;
	if (never_written)
		blk.no_status = true;
	else
		blk.status = 7;
	CHECK_EQ(vio_blk_read(dev, 0, buf, 8), VIO_EPROTO);
	CHECK_EQ(dev->state, VIO_DEV_FAILED);
	CHECK_EQ(dev->error, VIO_EPROTO);
	CHECK(d->status & VIRTIO_CONFIG_S_FAILED);
	CHECK(sim_log_contains(never_written ? "never written" : "status 7"));
	CHECK_EQ(vio_blk_read(dev, 0, buf, 8), VIO_ESHUTDOWN);
	CHECK_EQ(vio_blk_flush(dev), VIO_ESHUTDOWN);
	CHECK_EQ(vio_blk_poll(dev, 0), VIO_ESHUTDOWN);
	CHECK_EQ(vio_blk_in_flight(dev, 0), 0);
}

static void test_bad_status(void)
{
	bad_status(false);
}

static void test_status_never_written(void)
{
	bad_status(true);
}

static void test_used_len_modern(void)
{
	struct vio_device *dev = setup(2);

	if (!dev)
		return;
	/* The status byte alone is enough where no data is read. */
	blk.len = SIM_BLK_LEN_STATUS;
	fill(buf, 4096, 0, 3);
	CHECK_EQ(vio_blk_write(dev, 0, buf, 8), 0);
	CHECK_EQ(vio_blk_flush(dev), 0);
	/* A successful read that claims less than the data: protocol error. */
	blk.len = SIM_BLK_LEN_SHORT;
	CHECK_EQ(vio_blk_read(dev, 0, buf, 8), VIO_EPROTO);
	CHECK_EQ(dev->state, VIO_DEV_FAILED);
	CHECK(sim_log_contains("used length"));
}

/* 2.7.8: a used length that does not even cover the status byte is not believed. */
static void test_used_len_no_status(void)
{
	struct vio_device *dev = setup(2);

	if (!dev)
		return;
	blk.len = SIM_BLK_LEN_ZERO;
	fill(buf, 4096, 0, 3);
	CHECK_EQ(vio_blk_write(dev, 0, buf, 8), VIO_EPROTO);
	CHECK_EQ(dev->state, VIO_DEV_FAILED);
	CHECK(sim_log_contains("used length 0"));
}

/* A GET_ID whose used length leaves out the ID bytes did not write them. */
static void test_used_len_get_id(void)
{
	struct vio_device *dev = setup(2);
	char id[VIO_BLK_ID_LEN + 1];

	if (!dev)
		return;
	blk.len = SIM_BLK_LEN_STATUS;
	CHECK_EQ(vio_blk_get_id(dev, id, sizeof(id)), VIO_EPROTO);
	CHECK_EQ(dev->state, VIO_DEV_FAILED);
	CHECK_STR(id, "");
}

static void test_used_len_legacy(void)
{
	struct vio_device *dev = setup(1);

	if (!dev)
		return;
	/* 5.2.6.3: legacy used lengths are ignored. */
	blk.len = SIM_BLK_LEN_ZERO;
	CHECK_EQ(vio_blk_read(dev, 0, buf, 8), 0);
	CHECK(same(buf, 4096, 0, 1));
	blk.len = SIM_BLK_LEN_STATUS;
	CHECK_EQ(vio_blk_read(dev, 8, buf, 8), 0);
	blk.len = SIM_BLK_LEN_SHORT;
	CHECK_EQ(vio_blk_read(dev, 16, buf, 8), 0);
	CHECK_EQ(dev->state, VIO_DEV_READY);
}

static void test_evil_ring(void)
{
	struct vio_device *dev = setup(2);
	int rc;

	if (!dev)
		return;
	d->evil = SIM_EVIL_LEN;
	rc = vio_blk_read(dev, 0, buf, 4096);
	CHECK(rc == VIO_EPROTO || rc == VIO_ESHUTDOWN);
	CHECK_EQ(dev->state, VIO_DEV_FAILED);
	CHECK_EQ(vio_blk_in_flight(dev, 0), 0);
	CHECK_EQ(vio_blk_read(dev, 0, buf, 1), VIO_ESHUTDOWN);
}

static void test_timeout(void)
{
	struct vio_device *dev = setup(2);
	uint64_t t0;

	if (!dev)
		return;
	CHECK_EQ(vio_blk_set_timeout(dev, 20 * MS), 0);
	blk.hold = true;
	t0 = sim_now();
	CHECK_EQ(vio_blk_read(dev, 0, buf, 8), VIO_ETIMEDOUT);
	CHECK(sim_now() - t0 >= 20 * MS);
	CHECK(sim_now() - t0 < SEC);
	/* The request could not be taken back: the device is out of service. */
	CHECK_EQ(dev->state, VIO_DEV_FAILED);
	CHECK_EQ(dev->error, VIO_ETIMEDOUT);
	CHECK_EQ(vio_blk_in_flight(dev, 0), 0);
	CHECK(sim_log_contains("no completion in 20 ms"));
}

/* [p, p+len) still holds the byte it was filled with. */
static bool untouched(const uint8_t *p, size_t len, uint8_t byte)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != byte)
			return false;
	return true;
}

/*
 * A device that, like QEMU's, takes no notice of FAILED: it still holds the
 * request when the driver gives up on it and would complete it later,
 * writing into the buffer. The driver must reset it (which drops what it
 * holds) before the buffer goes back to the caller: nothing the device
 * does afterwards may land there.
 */
static void test_timeout_late_device(void)
{
	struct vio_device *dev = setup(2);

	if (!dev)
		return;
	d->keeps_running = true;
	CHECK_EQ(vio_blk_set_timeout(dev, 20 * MS), 0);
	blk.hold = true;
	memset(buf, 0xa5, 4096);
	CHECK_EQ(vio_blk_read(dev, 0, buf, 8), VIO_ETIMEDOUT);
	CHECK_EQ(dev->state, VIO_DEV_FAILED);
	/* Reset before the call returned: the held request is gone with the queue. */
	CHECK_EQ(d->resets, 2);
	CHECK_EQ(sim_held(d, 0), 0);
	CHECK(!d->q[0].ready);
	/* The device runs again long after: nothing reaches the buffer. */
	blk.hold = false;
	sim_advance(SEC);
	sim_step_all();
	CHECK(untouched(buf, 4096, 0xa5));
	CHECK_EQ(blk.reads, 0);
}

static unsigned reset_at_run;

static void reset_at(unsigned nrun)
{
	if (nrun == reset_at_run)
		sim_needs_reset(d);
}

static void test_needs_reset(void)
{
	struct vio_device *dev = setup(2);
	int rc;

	if (!dev)
		return;
	blk.hold = true;
	reset_at_run = 3;
	sim_on_run = reset_at;
	rc = vio_blk_read(dev, 0, buf, 8);
	CHECK(rc == VIO_EIO || rc == VIO_ESHUTDOWN);
	CHECK_EQ(dev->state, VIO_DEV_FAILED);
	CHECK_EQ(vio_blk_in_flight(dev, 0), 0);
	sim_on_run = NULL;
	/* Recovered (vio_dev_recover), it reads the disk again. */
	blk.hold = false;
	CHECK_EQ(vio_dev_recover(dev), 0);
	CHECK_EQ(dev->state, VIO_DEV_READY);
	CHECK_EQ(vio_blk_read(dev, 16, buf, 8), 0);
	CHECK(same(buf, 8 * 512, 16 * 512, 1));
}

/* ------------------------------------------------------------------ */
/* The asynchronous API */

struct done_log {
	struct vio_blk_req *order[64];
	unsigned n;
};

static struct done_log done_log;

static void on_done(struct vio_blk_req *req)
{
	if (done_log.n < 64)
		done_log.order[done_log.n] = req;
	done_log.n++;
}

static void init_req(struct vio_blk_req *r, enum vio_blk_op op, uint64_t sector,
		     struct vio_sg *sg, unsigned nsg)
{
	memset(r, 0, sizeof(*r));
	r->op = op;
	r->sector = sector;
	r->sg = sg;
	r->nsg = nsg;
	r->done = on_done;
}

static void test_async_batch(void)
{
	struct vio_device *dev = setup(2);
	struct vio_blk_req reqs[8];
	struct vio_sg sg[8];

	if (!dev)
		return;
	memset(&done_log, 0, sizeof(done_log));
	sim_step_in_time = false;
	for (unsigned i = 0; i < 8; i++) {
		sg[i].buf = buf + i * 4096;
		sg[i].len = 4096;
		init_req(&reqs[i], VIO_BLK_OP_READ, i * 100, &sg[i], 1);
		CHECK_EQ(vio_blk_queue(dev, 0, &reqs[i]), 0);
		CHECK(reqs[i].busy);
	}
	/* Queued, not yet told: the device sees nothing. */
	CHECK_EQ(d->q[0].notifies, 0);
	CHECK_EQ(sim_step(d), 0);
	CHECK_EQ(vio_blk_in_flight(dev, 0), 8);
	CHECK_EQ(vio_blk_queue(dev, 0, &reqs[0]), VIO_EBUSY);
	vio_blk_kick(dev, 0);
	CHECK_EQ(d->q[0].notifies, 1);
	CHECK_EQ(sim_step(d), 8);
	/* Completed by the device, but callbacks run only when polled. */
	CHECK_EQ(done_log.n, 0);
	CHECK_EQ(vio_blk_poll(dev, 0), 8);
	CHECK_EQ(done_log.n, 8);
	for (unsigned i = 0; i < 8; i++) {
		CHECK(done_log.order[i] == &reqs[i]);
		CHECK_EQ(reqs[i].result, 0);
		CHECK(!reqs[i].busy);
		CHECK(same(buf + i * 4096, 4096, i * 100 * 512ull, 1));
	}
	CHECK_EQ(vio_blk_poll(dev, 0), 0);
	CHECK_EQ(vio_blk_in_flight(dev, 0), 0);
	/* vio_blk_wait with nothing in flight returns at once. */
	CHECK_EQ(vio_blk_wait(dev, 0, SEC), 0);
}

static void test_async_all_ops(void)
{
	struct vio_device *dev = setup(2);
	struct vio_blk_req r[6];
	struct vio_sg sg[2] = { { buf, 1024 }, { buf2, 512 } };
	char id[VIO_BLK_ID_LEN + 1];
	int n = 0;

	if (!dev)
		return;
	memset(&done_log, 0, sizeof(done_log));
	blk.serial = "async-id";
	fill(buf, 1024, 0, 5);
	fill(buf2, 512, 1024, 5);
	init_req(&r[0], VIO_BLK_OP_WRITE, 40, sg, 2);
	init_req(&r[1], VIO_BLK_OP_FLUSH, 0, NULL, 0);
	init_req(&r[2], VIO_BLK_OP_DISCARD, 80, NULL, 0);
	r[2].count = 16;
	init_req(&r[3], VIO_BLK_OP_WRITE_ZEROES, 96, NULL, 0);
	r[3].count = 8;
	r[3].unmap = true;
	init_req(&r[4], VIO_BLK_OP_GET_ID, 0, NULL, 0);
	r[4].id = id;
	for (unsigned i = 0; i < 5; i++)
		CHECK_EQ(vio_blk_queue(dev, 0, &r[i]), 0);
	vio_blk_kick(dev, 0);
	while (done_log.n < 5 && n >= 0)
		n = vio_blk_wait(dev, 0, SEC);
	CHECK_EQ(done_log.n, 5);
	for (unsigned i = 0; i < 5; i++)
		CHECK_EQ(r[i].result, 0);
	CHECK(same(disk + 40 * 512, 1536, 0, 5));
	CHECK_EQ(disk[80 * 512], 0xd5);
	CHECK_EQ(disk[96 * 512 + 100], 0);
	CHECK_STR(id, "async-id");
	CHECK_EQ(blk.flushes, 1);

	/* Requests the driver refuses before they reach the device. */
	init_req(&r[5], VIO_BLK_OP_READ, 0, sg, 2);
	sg[1].len = 100;
	CHECK_EQ(vio_blk_submit(dev, 0, &r[5]), VIO_EINVAL);
	sg[1].len = 512;
	r[5].sector = DISK_SECTORS - 1;
	CHECK_EQ(vio_blk_submit(dev, 0, &r[5]), VIO_ERANGE);
	{
		struct vio_sg big = { buf, (VIO_BLK_REQ_SECTORS_DEFAULT + 8) * 512 };

		init_req(&r[5], VIO_BLK_OP_READ, 0, &big, 1);
		CHECK_EQ(vio_blk_submit(dev, 0, &r[5]), VIO_ERANGE); /* one request only */
	}
	{
		struct vio_sg many[VIO_BLK_SEGS_DEFAULT + 1];

		for (unsigned i = 0; i <= VIO_BLK_SEGS_DEFAULT; i++) {
			many[i].buf = buf + i * 512;
			many[i].len = 512;
		}
		init_req(&r[5], VIO_BLK_OP_READ, 0, many, VIO_BLK_SEGS_DEFAULT + 1);
		CHECK_EQ(vio_blk_submit(dev, 0, &r[5]), VIO_ERANGE);
		init_req(&r[5], VIO_BLK_OP_READ, 0, many, VIO_BLK_SEGS_DEFAULT);
		CHECK_EQ(vio_blk_submit(dev, 0, &r[5]), 0);
		CHECK_EQ(vio_blk_wait(dev, 0, SEC), 1);
		CHECK_EQ(r[5].result, 0);
	}
	init_req(&r[5], VIO_BLK_OP_DISCARD, 0, NULL, 0);
	r[5].count = 0x400000;
	CHECK_EQ(vio_blk_submit(dev, 0, &r[5]), VIO_ERANGE);
	init_req(&r[5], VIO_BLK_OP_GET_ID, 0, NULL, 0);
	CHECK_EQ(vio_blk_submit(dev, 0, &r[5]), VIO_EINVAL);
	init_req(&r[5], (enum vio_blk_op)42, 0, NULL, 0);
	CHECK_EQ(vio_blk_submit(dev, 0, &r[5]), VIO_EINVAL);
	CHECK_EQ(vio_blk_submit(dev, 0, NULL), VIO_EINVAL);
	CHECK_EQ(vio_blk_submit(dev, 3, &r[0]), VIO_EINVAL);
	CHECK_EQ(vio_blk_in_flight(dev, 0), 0);
}

static void test_async_full(void)
{
	struct vio_device *dev;
	struct vio_blk_req reqs[4];
	struct vio_sg sg = { buf, 512 };
	int rc;

	/* 8 entries, no indirect tables: each read takes 3 of them. */
	make(2);
	d->features &= ~(1ull << VIRTIO_RING_F_INDIRECT_DESC);
	d->q[0].num_max = 8;
	dev = add(0);
	if (!dev)
		return;
	memset(&done_log, 0, sizeof(done_log));
	sim_step_in_time = false;
	for (unsigned i = 0; i < 3; i++)
		init_req(&reqs[i], VIO_BLK_OP_READ, i, &sg, 1);
	CHECK_EQ(vio_blk_submit(dev, 0, &reqs[0]), 0);
	CHECK_EQ(vio_blk_submit(dev, 0, &reqs[1]), 0);
	CHECK_EQ(vio_blk_submit(dev, 0, &reqs[2]), VIO_ENOSPC);
	CHECK(!reqs[2].busy);
	/* Waiting makes room. */
	sim_step_in_time = true;
	rc = vio_blk_wait(dev, 0, SEC);
	CHECK(rc >= 1);
	CHECK_EQ(vio_blk_submit(dev, 0, &reqs[2]), 0);
	while (vio_blk_in_flight(dev, 0) && rc >= 0)
		rc = vio_blk_wait(dev, 0, SEC);
	CHECK_EQ(done_log.n, 3);
	/* A blocking call behind a full ring of someone else's requests. */
	sim_step_in_time = false;
	CHECK_EQ(vio_blk_submit(dev, 0, &reqs[0]), 0);
	CHECK_EQ(vio_blk_submit(dev, 0, &reqs[1]), 0);
	sim_step_in_time = true;
	CHECK_EQ(vio_blk_read(dev, 50, buf2, 4), 0);
	CHECK(same(buf2, 2048, 50 * 512, 1));
	CHECK_EQ(done_log.n, 5);
	CHECK_EQ(vio_blk_in_flight(dev, 0), 0);
}

/*
 * Find the ring head of an in-flight request as the device sees it: the
 * descriptor whose chain (or indirect table) starts with the request's
 * header in the driver's slot (on a packed ring: that chain's buffer id).
 */
static int head_of(struct vio_device *dev, unsigned q, const struct vio_blk_req *r)
{
	struct blk *b = dev->priv;
	const struct sim_queue *sq = &d->q[q];
	const struct virtq_desc *desc = (const void *)(uintptr_t)sq->desc;
	uint64_t hdr = (uintptr_t)&b->q[q].dma[r->slot].hdr;

	if (sq->packed) {
		/* 2.8: the chain's buffer id is what the device completes */
		const struct pvirtq_desc *pd = (const void *)(uintptr_t)sq->desc;

		for (unsigned i = 0; i < sq->num; i++) {
			uint64_t first = pd[i].addr;

			if (pd[i].flags & VIRTQ_DESC_F_INDIRECT)
				first = ((const struct pvirtq_desc *)(uintptr_t)pd[i].addr)[0].addr;
			if (first == hdr)
				return pd[i].id;
		}
		return -1;
	}
	for (unsigned i = 0; i < sq->num; i++) {
		uint64_t first = desc[i].addr;

		if (desc[i].flags & VIRTQ_DESC_F_INDIRECT)
			first = ((const struct virtq_desc *)(uintptr_t)desc[i].addr)[0].addr;
		if (first == hdr)
			return (int)i;
	}
	return -1;
}

static void test_async_out_of_order(void)
{
	static const unsigned order[4] = { 2, 0, 3, 1 };
	static const uint8_t status[4] = { VIRTIO_BLK_S_OK, VIRTIO_BLK_S_IOERR,
					   VIRTIO_BLK_S_UNSUPP, VIRTIO_BLK_S_OK };
	static const int expect[4] = { 0, VIO_EIO, VIO_ENOTSUP, 0 };
	struct vio_device *dev = setup(2);
	struct vio_blk_req reqs[4];
	struct vio_sg sg[4];
	int heads[4];
	struct blk *b;

	if (!dev)
		return;
	b = dev->priv;
	memset(&done_log, 0, sizeof(done_log));
	/* The test plays the device: nothing runs by itself. */
	sim_step_in_time = false;
	for (unsigned i = 0; i < 4; i++) {
		sg[i].buf = buf + i * 512;
		sg[i].len = 512;
		init_req(&reqs[i], VIO_BLK_OP_READ, i, &sg[i], 1);
		CHECK_EQ(vio_blk_queue(dev, 0, &reqs[i]), 0);
	}
	vio_blk_kick(dev, 0);
	/*
	 * 5.2: the device may complete requests in any order. Every head is
	 * found first: on a packed ring a used descriptor overwrites a slot.
	 */
	for (unsigned i = 0; i < 4; i++) {
		heads[i] = head_of(dev, 0, &reqs[i]);
		CHECK(heads[i] >= 0);
		if (heads[i] < 0)
			return;
	}
	for (unsigned k = 0; k < 4; k++) {
		unsigned i = order[k];
		int head = heads[i];

		memset(buf + i * 512, 0x40 + i, 512);
		b->q[0].dma[reqs[i].slot].status = status[i];
		sim_used_push(d, 0, (uint32_t)head, 513, 1);
	}
	CHECK_EQ(vio_blk_poll(dev, 0), 4);
	CHECK_EQ(done_log.n, 4);
	for (unsigned k = 0; k < 4; k++) {
		unsigned i = order[k];

		CHECK(done_log.order[k] == &reqs[i]);
		CHECK_EQ(reqs[i].result, expect[i]);
	}
	CHECK_EQ(dev->state, VIO_DEV_READY);
	CHECK_EQ(vio_blk_in_flight(dev, 0), 0);
}

static void test_async_abort(void)
{
	struct vio_device *dev = setup(2);
	struct vio_blk_req reqs[3];
	struct vio_sg sg = { buf, 512 };

	if (!dev)
		return;
	memset(&done_log, 0, sizeof(done_log));
	blk.hold = true;
	for (unsigned i = 0; i < 3; i++) {
		init_req(&reqs[i], VIO_BLK_OP_READ, i, &sg, 1);
		CHECK_EQ(vio_blk_submit(dev, 0, &reqs[i]), 0);
	}
	/* Waiting times out; the requests stay the driver's. */
	CHECK_EQ(vio_blk_wait(dev, 0, 5 * MS), VIO_ETIMEDOUT);
	CHECK_EQ(vio_blk_in_flight(dev, 0), 3);
	CHECK_EQ(done_log.n, 0);
	CHECK_EQ(dev->state, VIO_DEV_READY);
	/* The device needs a reset: every request ends, once, with the error. */
	sim_needs_reset(d);
	vio_dev_service(dev);
	CHECK_EQ(dev->state, VIO_DEV_FAILED);
	CHECK_EQ(vio_blk_poll(dev, 0), VIO_ESHUTDOWN);
	CHECK_EQ(done_log.n, 3);
	for (unsigned i = 0; i < 3; i++) {
		CHECK_EQ(reqs[i].result, VIO_EIO);
		CHECK(!reqs[i].busy);
	}
	CHECK_EQ(vio_blk_submit(dev, 0, &reqs[0]), VIO_ESHUTDOWN);
	CHECK_EQ(vio_blk_poll(dev, 0), VIO_ESHUTDOWN);
	CHECK_EQ(done_log.n, 3);
}

static unsigned done_while_live; /* requests ended while the device still had its queue */

static void on_done_check_reset(struct vio_blk_req *req)
{
	on_done(req);
	done_while_live += d->q[0].ready;
}

/*
 * The asynchronous requests a failure ends go back to their owners only
 * after the device was reset: a device that ignores FAILED (like QEMU's)
 * and serves them later writes nothing into their buffers.
 */
static void test_async_abort_late_device(void)
{
	struct vio_device *dev = setup(2);
	struct vio_blk_req reqs[3];
	struct vio_sg sg[3];

	if (!dev)
		return;
	d->keeps_running = true;
	memset(&done_log, 0, sizeof(done_log));
	done_while_live = 0;
	blk.hold = true;
	memset(buf, 0xa5, 3 * 512);
	for (unsigned i = 0; i < 3; i++) {
		sg[i].buf = buf + 512 * i;
		sg[i].len = 512;
		init_req(&reqs[i], VIO_BLK_OP_READ, i, &sg[i], 1);
		reqs[i].done = on_done_check_reset;
		CHECK_EQ(vio_blk_submit(dev, 0, &reqs[i]), 0);
	}
	CHECK_EQ(vio_blk_wait(dev, 0, 5 * MS), VIO_ETIMEDOUT);
	CHECK_EQ(sim_held(d, 0), 3);
	/* The driver gives up on the device (any failure takes this path). */
	vio_dev_fail(dev, VIO_EIO);
	vio_dev_service(dev);
	CHECK_EQ(done_log.n, 3);
	CHECK_EQ(done_while_live, 0);
	for (unsigned i = 0; i < 3; i++) {
		CHECK(reqs[i].result < 0);
		CHECK(!reqs[i].busy);
	}
	CHECK_EQ(sim_held(d, 0), 0);
	blk.hold = false;
	sim_step_all();
	CHECK(untouched(buf, 3 * 512, 0xa5));
	CHECK_EQ(blk.reads, 0);
}

/*
 * A chain the driver did not post (the queue is public through
 * vio_dev_vq) comes back from the reset with a cookie that is no request:
 * the driver's own requests end with the error, the stranger is left
 * alone, and the queue works again after recovery. Its cookie points at
 * 8 bytes, less than a request: reading it as one is an overflow.
 */
static uint8_t foreign[8];

static void test_abort_foreign_chain(void)
{
	struct vio_device *dev = setup(2);
	struct vio_blk_req reqs[2];
	struct vio_sg sg = { buf, 512 };
	struct vio_sg bad[2] = { { buf2, 8 }, { buf2 + 64, 1 } };

	if (!dev)
		return;
	memset(&done_log, 0, sizeof(done_log));
	memset(foreign, 0x5a, sizeof(foreign));
	blk.hold = true;
	init_req(&reqs[0], VIO_BLK_OP_READ, 0, &sg, 1);
	CHECK_EQ(vio_blk_queue(dev, 0, &reqs[0]), 0);
	CHECK_EQ(vio_vq_enqueue(vio_dev_vq(dev, 0), bad, 1, 1, foreign), 0);
	init_req(&reqs[1], VIO_BLK_OP_READ, 8, &sg, 1);
	CHECK_EQ(vio_blk_submit(dev, 0, &reqs[1]), 0);
	sim_needs_reset(d);
	vio_dev_service(dev);
	CHECK_EQ(dev->state, VIO_DEV_FAILED);
	CHECK_EQ(done_log.n, 2);
	for (unsigned i = 0; i < 2; i++) {
		CHECK_EQ(reqs[i].result, VIO_EIO);
		CHECK(!reqs[i].busy);
	}
	CHECK(untouched(foreign, sizeof(foreign), 0x5a));
	CHECK_EQ(vio_blk_in_flight(dev, 0), 0); /* every slot is free again */
	blk.hold = false;
	CHECK_EQ(vio_dev_recover(dev), 0);
	CHECK_EQ(vio_blk_read(dev, 16, buf, 8), 0);
	CHECK(same(buf, 8 * 512, 16 * 512, 1));
	CHECK_EQ(done_log.n, 2);
}

static void resubmit(struct vio_blk_req *req)
{
	on_done(req);
	if (done_log.n < 10)
		CHECK_EQ(vio_blk_submit(req->ctx, 0, req), 0);
}

static void test_async_resubmit_from_callback(void)
{
	struct vio_device *dev = setup(1);
	struct vio_blk_req req;
	struct vio_sg sg = { buf, 4096 };
	int rc = 0;

	if (!dev)
		return;
	memset(&done_log, 0, sizeof(done_log));
	init_req(&req, VIO_BLK_OP_READ, 0, &sg, 1);
	req.done = resubmit;
	req.ctx = dev;
	CHECK_EQ(vio_blk_submit(dev, 0, &req), 0);
	while (done_log.n < 10 && rc >= 0)
		rc = vio_blk_wait(dev, 0, SEC);
	CHECK_EQ(done_log.n, 10);
	CHECK_EQ(blk.reads, 10);
	CHECK_EQ(vio_blk_in_flight(dev, 0), 0);
}

/* ------------------------------------------------------------------ */
/* Multi-queue */

static void test_multiqueue(void)
{
	struct vio_device *dev;
	struct vio_blk_req r0, r2;
	struct vio_sg s0 = { buf, 4096 }, s2 = { buf2, 4096 };

	make(2);
	d->features |= 1ull << VIRTIO_BLK_F_MQ;
	sim_config_set(d, CFG(num_queues), 2, 3);
	d->q[1].num_max = 128;
	d->q[2].num_max = 64;
	dev = add(0);
	if (!dev)
		return;
	CHECK_EQ(info_of(dev).num_queues, 3);
	CHECK_EQ(info_of(dev).queue_size, 64);
	CHECK_EQ(dev->nqueues, 3);
	CHECK_EQ(vio_blk_readv(dev, 2, 8, &s0, 1), 0);
	CHECK_EQ(blk.per_queue[2], 1);
	CHECK(same(buf, 4096, 8 * 512, 1));
	CHECK_EQ(vio_blk_readv(dev, 3, 8, &s0, 1), VIO_EINVAL);
	/* Two queues in use at once, each with its own completions. */
	memset(&done_log, 0, sizeof(done_log));
	init_req(&r0, VIO_BLK_OP_READ, 16, &s0, 1);
	init_req(&r2, VIO_BLK_OP_READ, 32, &s2, 1);
	sim_step_in_time = false;
	CHECK_EQ(vio_blk_submit(dev, 0, &r0), 0);
	CHECK_EQ(vio_blk_submit(dev, 2, &r2), 0);
	CHECK_EQ(sim_step(d), 2);
	/* Polling one queue runs the device's handlers: both complete, each counted on its queue. */
	CHECK_EQ(vio_blk_poll(dev, 2), 1);
	CHECK_EQ(done_log.n, 2);
	CHECK_EQ(vio_blk_in_flight(dev, 0), 0);
	CHECK_EQ(vio_blk_in_flight(dev, 2), 0);
	CHECK_EQ(vio_blk_poll(dev, 0), 1);
	CHECK_EQ(vio_blk_poll(dev, 0), 0);
	CHECK(same(buf, 4096, 16 * 512, 1));
	CHECK(same(buf2, 4096, 32 * 512, 1));
	CHECK_EQ(blk.per_queue[0], 1);
	CHECK_EQ(blk.per_queue[2], 2);
}

static void test_multiqueue_limits(void)
{
	struct vio_device *dev;

	/* More queues than the build takes: CONFIG_VIO_BLK_QUEUES_MAX. */
	make(2);
	d->features |= 1ull << VIRTIO_BLK_F_MQ;
	sim_config_set(d, CFG(num_queues), 2, 64);
	for (unsigned i = 1; i < SIM_MAX_QUEUES; i++)
		d->q[i].num_max = 32;
	dev = add(0);
	if (dev)
		CHECK_EQ(info_of(dev).num_queues, CONFIG_VIO_BLK_QUEUES_MAX);
	sim_reset_all();
	sim_port_reset();
	/* num_queues promises a queue the device does not have: use the others. */
	make(1);
	d->features |= 1ull << VIRTIO_BLK_F_MQ;
	sim_config_set(d, CFG(num_queues), 2, 3);
	d->q[1].num_max = 32;
	dev = add(0);
	if (dev) {
		CHECK_EQ(info_of(dev).num_queues, 2);
		CHECK(sim_log_contains("does not exist"));
		CHECK_EQ(vio_blk_readv(dev, 1, 0, &(struct vio_sg){ buf, 512 }, 1), 0);
	}
}

/* ------------------------------------------------------------------ */
/* Configuration changes and odd callers */

static void test_capacity_change(void)
{
	struct vio_device *dev = setup(2);
	uint8_t cap[8] = { 0 };

	if (!dev)
		return;
	/* 5.2.6.2: the device grows; a configuration change tells the driver. */
	cap[1] = 0x80; /* 32768 sectors */
	sim_config_change(d, CFG(capacity), cap, 8);
	vio_dev_service(dev);
	CHECK_EQ(info_of(dev).capacity, 32768);
	CHECK(sim_log_contains("capacity 16384 -> 32768"));
	/* and shrinks: the range check follows */
	cap[1] = 0x10;
	sim_config_change(d, CFG(capacity), cap, 8);
	vio_dev_service(dev);
	CHECK_EQ(info_of(dev).capacity, 4096);
	CHECK_EQ(vio_blk_read(dev, 4096, buf, 1), VIO_ERANGE);
	CHECK_EQ(vio_blk_read(dev, 4095, buf, 1), 0);
}

static void test_not_blk(void)
{
	struct sim_rng rng;
	struct sim_dev *r;
	struct vio_device *dev = NULL;
	struct vio_blk_info in;
	char id[32];

	CHECK_EQ(vio_init(sim_port(), sim_os()), 0);
	r = sim_dev_new(1, 2, VIRTIO_ID_RNG);
	r->features = 1ull << VIRTIO_F_VERSION_1;
	sim_rng_attach(r, &rng);
	CHECK_EQ(vio_mmio_add(r->base, r->irq, 1, &dev), 0); /* no driver registered */
	CHECK_EQ(vio_blk_read(dev, 0, buf, 1), VIO_ENODEV);
	CHECK_EQ(vio_blk_get_info(dev, &in), VIO_ENODEV);
	CHECK_EQ(vio_blk_get_id(dev, id, sizeof(id)), VIO_ENODEV);
	CHECK_EQ(vio_blk_poll(dev, 0), VIO_ENODEV);
	CHECK_EQ(vio_blk_wait(dev, 0, SEC), VIO_ENODEV);
	CHECK_EQ(vio_blk_in_flight(dev, 0), 0);
	CHECK_EQ(vio_blk_set_timeout(NULL, 0), VIO_ENODEV);
	vio_blk_kick(dev, 0);
	vio_blk_kick(NULL, 0);
}

int main(void)
{
	RUN(test_probe_modern);
	RUN(test_probe_legacy);
	RUN(test_probe_minimal);
	RUN(test_probe_topology);
	RUN(test_probe_refused);
	RUN(test_probe_small_ring);
	RUN(test_probe_no_memory);
	RUN(test_rw_modern);
	RUN(test_rw_legacy);
	RUN(test_rw_no_indirect);
	RUN(test_split_limits);
	RUN(test_rw_bad_args);
	RUN(test_block_size_4k);
	RUN(test_read_only);
	RUN(test_flush_and_cache);
	RUN(test_flush_without_config_wce);
	RUN(test_wce_without_flush);
	RUN(test_get_id);
	RUN(test_discard_split);
	RUN(test_ioerr);
	RUN(test_bad_status);
	RUN(test_status_never_written);
	RUN(test_used_len_modern);
	RUN(test_used_len_no_status);
	RUN(test_used_len_get_id);
	RUN(test_used_len_legacy);
	RUN(test_evil_ring);
	RUN(test_timeout);
	RUN(test_timeout_late_device);
	RUN(test_needs_reset);
	RUN(test_async_batch);
	RUN(test_async_all_ops);
	RUN(test_async_full);
	RUN(test_async_out_of_order);
	RUN(test_async_abort);
	RUN(test_async_abort_late_device);
	RUN(test_abort_foreign_chain);
	RUN(test_async_resubmit_from_callback);
	RUN(test_multiqueue);
	RUN(test_multiqueue_limits);
	RUN(test_capacity_change);
	RUN(test_not_blk);
	return test_report();
}
