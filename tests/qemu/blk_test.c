/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The virtio-blk test firmware. The host (test_blk.py) prepares the disk
 * images, boots this firmware and, once it has printed READY, sends one line
 * naming the scenario and its parameters:
 *
 *     CASE <name> [s=<seed>] [t=<seed>] [e=<sector>] [e2=<sector>] [e3=<sector>]
 *          [w=<sector>] [f=1] [r=<sector>] [ms=<timeout>] [wait=<ms>]
 *          [k=<writes per flush>] [n=<writes>]
 *
 * s is the seed of the pattern the host filled the images with, t the seed
 * of what the guest writes (apps/common/pattern.h defines both). The
 * firmware prints what the host checks from the outside, one fact a line:
 *
 *     DEV slot=<n> name=<blkN> iface=<legacy|modern> state=<s> features=<hex>
 *     INFO name=<blkN> capacity=<sectors> block=<bytes> ... (vio_blk_get_info;
 *          irq=1 when completions come by interrupt, 0 when polled)
 *     CSUM <sector> <count> <crc32>    the CRC-32 of what a read returned
 *     WROTE <sector> <count>           pattern t is now on the disk there
 *     ZEROED <op> <sector> <count>     a discard or write-zeroes was done there
 *     ERR <op> <error name>            what a call the device refuses returned
 *     ID slot=<n> len=<n> id=<text>    the device ID (GET_ID)
 *     QUEUES used=<n>, MQ queue=<i> requests=<n>
 *     VALID requests=<n>               requests that reached the device
 *     ELAPSED <op> ms=<n>              how long a timed-out call took
 *     TIMEOUT-WRITE <sector> <count>   a write that timed out (pattern t, then
 *                                      its buffer was overwritten)
 *     AFTER read len=<n> at_return_disk=<n> at_return_prefill=<n> changed_later=<n>
 *                                      a timed-out read's buffer: bytes from the
 *                                      disk or still the prefill when the call
 *                                      returned, and bytes changed since
 *     STATE <blkN> state=<s> status=<hex>  a device after a timeout
 *     RECOVERED <blkN> state=<s> status=<hex>  the same after vio_dev_recover
 *     POSTED bad-chain ...            needsreset: the malformed chain is on the ring
 *     NEEDS-RESET <blkN> status=<hex> the device status before the core acted
 *     IDLE <blkN> state=<s> done=<n> busy=<0|1> result=<error name>
 *                                      after the service loop: the write behind it
 *     FOREIGN intact=<0|1> in_flight=<n>  the chain's cookie after the reset
 *     STALL <write|read> <sector> <count>  stall: this request is about to stall
 *     DW <seq> <sector> <count>       stream write seq completed (case stream)
 *     FLUSH <i> <seq>                 flush i completed: writes 1..seq are durable
 *
 * then a PASS or FAIL line per check and exactly one
 *
 *     RESULT: <passed> passed, <failed> failed
 *
 * before leaving QEMU with status 1 if anything failed, else 0.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vio/blk.h>
#include <vio/device.h>
#include <vio/error.h>
#include <vio/spec/virtio_blk.h>
#include <vio/spec/virtio_config.h>
#include <vio/virtqueue.h>

#include "vio_config.h"

#include "app.h"
#include "board.h"
#include "report.h"
#include "pattern.h"

#define MS 1000000ull
#define SECTOR VIO_BLK_SECTOR_SIZE
#define PAGE 4096u

#define DATA_BYTES (4u * 1024 * 1024 + 64 * 1024) /* a 4 MiB disk at once, and room */
#define SG_MAX 320
#define GUARD 16     /* poisoned bytes checked around every buffer */
#define POISON 0xa5
#define LINE_MAX 128
#define LINE_WAIT_NS (10000 * MS)

static uint8_t data[DATA_BYTES] __attribute__((aligned(PAGE)));
static struct vio_sg sg[SG_MAX];


/* The scenario's parameters from the host's CASE line. */
static struct {
	uint64_t s, t;   /* pattern seeds: the images, the guest's writes */
	uint64_t e, e2, e3; /* sectors the host made fail on read */
	uint64_t w;      /* sector the host made fail on write */
	uint64_t f;      /* 1: the host made the first flush fail */
	uint64_t r;      /* sector of the read the host holds back */
	uint64_t ms;     /* timeout of the held requests, ms */
	uint64_t wait;   /* ms to wait for held requests that were not stopped */
	uint64_t k;      /* stream: writes between flushes */
	uint64_t n;      /* stream: writes in all */
} arg;


/* The error's name, for the host to match (vio_strerror is for people). */
static const char *errname(int err)
{
	switch (err) {
	case 0: return "OK";
	case VIO_EIO: return "VIO_EIO";
	case VIO_EAGAIN: return "VIO_EAGAIN";
	case VIO_ENOMEM: return "VIO_ENOMEM";
	case VIO_EFAULT: return "VIO_EFAULT";
	case VIO_EBUSY: return "VIO_EBUSY";
	case VIO_ENODEV: return "VIO_ENODEV";
	case VIO_EINVAL: return "VIO_EINVAL";
	case VIO_ENOSPC: return "VIO_ENOSPC";
	case VIO_EROFS: return "VIO_EROFS";
	case VIO_ERANGE: return "VIO_ERANGE";
	case VIO_EPROTO: return "VIO_EPROTO";
	case VIO_ENOTSUP: return "VIO_ENOTSUP";
	case VIO_ETIMEDOUT: return "VIO_ETIMEDOUT";
	case VIO_ESHUTDOWN: return "VIO_ESHUTDOWN";
	default: return "VIO_E?";
	}
}

/* A check of an error code: want exactly err. Prints ERR <op> <name> for the host. */
static void expect_err(const char *name, int got, int want)
{
	printf("ERR %s %s\n", name, errname(got));
	if (got != want)
		fail(name, "returned %s (%s), want %s", errname(got), vio_strerror(got),
		     errname(want));
	else
		pass(name);
}

/* ------------------------------------------------------------------ */
/* Devices */

static const char *state_name(enum vio_dev_state s)
{
	switch (s) {
	case VIO_DEV_READY: return "ready";
	case VIO_DEV_NO_DRIVER: return "nodriver";
	case VIO_DEV_REFUSED: return "refused";
	case VIO_DEV_FAILED: return "failed";
	default: return "empty";
	}
}

static void print_devices(void)
{
	for (unsigned i = 0; i < vio_dev_count(); i++) {
		const struct vio_device *dev = vio_dev_at(i);

		printf("DEV slot=%d name=%s type=%s iface=%s state=%s features=%#llx\n", dev->slot,
		       dev->name, vio_dev_type_name(dev->t.device_id), vio_dev_interface(dev),
		       state_name(vio_dev_state(dev)), (unsigned long long)dev->negotiated);
	}
}

static void print_info(const struct vio_device *dev, const struct vio_blk_info *in)
{
	printf("INFO name=%s slot=%d capacity=%llu block=%u seg_max=%u size_max=%u "
	       "max_sectors=%u queues=%u queue_size=%u ro=%d flush=%d writeback=%d wce=%d "
	       "discard=%d max_discard=%u discard_align=%u wz=%d max_wz=%u wz_unmap=%d irq=%d\n",
	       dev->name, dev->slot, (unsigned long long)in->capacity, in->block_size,
	       in->seg_max, in->size_max, in->max_sectors, in->num_queues, in->queue_size,
	       in->read_only, in->flush, in->writeback, in->wce_config, in->discard,
	       in->max_discard_sectors, in->discard_alignment, in->write_zeroes,
	       in->max_write_zeroes_sectors, in->write_zeroes_may_unmap, vio_dev_uses_irq(dev));
}

/* The index-th blk device, live, with its info printed; NULL after a FAIL. */
static struct vio_device *blk_dev(unsigned index, struct vio_blk_info *in)
{
	struct vio_device *dev = vio_dev_find(VIRTIO_ID_BLOCK, index);
	char name[24];
	int r;

	snprintf(name, sizeof(name), "blk%u-ready", index);
	if (!dev) {
		fail(name, "no blk device %u", index);
		return NULL;
	}
	r = vio_blk_get_info(dev, in);
	if (r) {
		fail(name, "%s: %s (device state %s)", dev->name, vio_strerror(r),
		     state_name(vio_dev_state(dev)));
		return NULL;
	}
	print_info(dev, in);
	pass(name);
	return dev;
}

/* ------------------------------------------------------------------ */
/* Buffers: poisoned guards around each segment show a device writing too much */

static void poison_segs(const struct vio_sg *s, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint8_t *p = s[i].buf;

		memset(p - GUARD, POISON, s[i].len + 2 * GUARD);
	}
}

static bool guards_intact(const char *name, const struct vio_sg *s, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *p = s[i].buf;

		for (unsigned g = 0; g < GUARD; g++) {
			if (p[-1 - (int)g] != POISON || p[s[i].len + g] != POISON) {
				fail(name, "segment %u: a byte next to it was overwritten", i);
				return false;
			}
		}
	}
	return true;
}

/*
 * Check that segments s hold pattern seed from disk sector sector on; their
 * CRC-32 in *crc. Fails name at the first wrong byte.
 */
static bool segs_match(const char *name, uint64_t seed, uint64_t sector, const struct vio_sg *s,
		       unsigned n, uint32_t *crc)
{
	uint64_t off = sector * SECTOR;

	*crc = 0;
	for (unsigned i = 0; i < n; i++) {
		size_t bad = pattern_check(seed, off, s[i].buf, s[i].len);

		if (bad < s[i].len) {
			uint64_t at = off + bad;
			unsigned got = ((const uint8_t *)s[i].buf)[bad];

			fail(name, "disk byte %llu (sector %llu + %u, segment %u) is %#04x, "
			     "want %#04x", (unsigned long long)at, (unsigned long long)(at / SECTOR),
			     (unsigned)(at % SECTOR), i, got, pattern_byte(seed, at));
			return false;
		}
		*crc = pattern_crc32(*crc, s[i].buf, s[i].len);
		off += s[i].len;
	}
	return true;
}

static uint32_t segs_sectors(const struct vio_sg *s, unsigned n)
{
	uint64_t t = 0;

	for (unsigned i = 0; i < n; i++)
		t += s[i].len;
	return (uint32_t)(t / SECTOR);
}

/* Fill segments with pattern seed as found from sector sector on. */
static void segs_fill(uint64_t seed, uint64_t sector, const struct vio_sg *s, unsigned n)
{
	uint64_t off = sector * SECTOR;

	for (unsigned i = 0; i < n; i++) {
		pattern_fill(seed, off, s[i].buf, s[i].len);
		off += s[i].len;
	}
}

/*
 * Scatter lists over data[]: each segment starts GUARD bytes or more past the
 * previous one's end, so the guards never overlap.
 */

/* n segments of len bytes at stride bytes, from data + first. */
static unsigned sg_strided(unsigned n, uint32_t len, uint32_t stride, uint32_t first)
{
	for (unsigned i = 0; i < n; i++) {
		sg[i].buf = data + first + (size_t)i * stride;
		sg[i].len = len;
	}
	return n;
}

/* One flat buffer of count sectors at data + off (off >= GUARD). */
static unsigned sg_flat(uint32_t count, uint32_t off)
{
	sg[0].buf = data + off;
	sg[0].len = count * SECTOR;
	return 1;
}

/*
 * Segments of odd lengths at odd addresses, reps times the same 14, then one
 * more to make whole sectors: what a file system's scattered buffers look
 * like. More than seg_max of them make the driver cut a request inside a
 * segment, off any sector boundary of it.
 */
static unsigned sg_odd(unsigned reps)
{
	static const uint32_t lens[] = { 1, 511, 100, 412, 3000, 72, 1000, 24, 4103, 505, 7, 33,
					 2048, 1 };
	const unsigned nl = sizeof(lens) / sizeof(lens[0]);
	uint32_t off = 3 * GUARD + 1, total = 0;
	unsigned n = 0;

	for (; n < reps * nl && n + 1 < SG_MAX; n++) {
		sg[n].buf = data + off;
		sg[n].len = lens[n % nl];
		total += sg[n].len;
		off += sg[n].len + 2 * GUARD + 3;
	}
	/* Round up to whole sectors with one last segment. */
	if (total % SECTOR) {
		sg[n].buf = data + off;
		sg[n].len = SECTOR - total % SECTOR;
		n++;
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* Reading and writing, checked */

/* Read into sg[0..n) with vio_blk_readv (queue q) and check it against seed. */
static bool check_readv(struct vio_device *dev, unsigned q, const char *name, uint64_t seed,
			uint64_t sector, unsigned n)
{
	uint32_t count = segs_sectors(sg, n), crc;
	int r;

	poison_segs(sg, n);
	r = vio_blk_readv(dev, q, sector, sg, n);
	if (r) {
		fail(name, "readv of %u sectors at %llu in %u segments: %s", count,
		     (unsigned long long)sector, n, vio_strerror(r));
		return false;
	}
	if (!guards_intact(name, sg, n) || !segs_match(name, seed, sector, sg, n, &crc))
		return false;
	printf("CSUM %llu %u %08lx\n", (unsigned long long)sector, count, (unsigned long)crc);
	pass(name);
	return true;
}

/* The same through vio_blk_read and one flat buffer at data + off. */
static bool check_read(struct vio_device *dev, const char *name, uint64_t seed, uint64_t sector,
		       uint32_t count, uint32_t off)
{
	uint32_t crc;
	int r;

	sg_flat(count, off);
	poison_segs(sg, 1);
	r = vio_blk_read(dev, sector, sg[0].buf, count);
	if (r) {
		fail(name, "read of %u sectors at %llu: %s", count, (unsigned long long)sector,
		     vio_strerror(r));
		return false;
	}
	if (!guards_intact(name, sg, 1) || !segs_match(name, seed, sector, sg, 1, &crc))
		return false;
	printf("CSUM %llu %u %08lx\n", (unsigned long long)sector, count, (unsigned long)crc);
	pass(name);
	return true;
}

/* Write pattern arg.t to sg[0..n) at sector (vio_blk_writev); WROTE for the host. */
static bool do_writev(struct vio_device *dev, unsigned q, const char *name, uint64_t sector,
		      unsigned n)
{
	uint32_t count = segs_sectors(sg, n);
	int r;

	segs_fill(arg.t, sector, sg, n);
	r = vio_blk_writev(dev, q, sector, sg, n);
	if (r) {
		fail(name, "writev of %u sectors at %llu in %u segments: %s", count,
		     (unsigned long long)sector, n, vio_strerror(r));
		return false;
	}
	printf("WROTE %llu %u\n", (unsigned long long)sector, count);
	pass(name);
	return true;
}

static bool do_write(struct vio_device *dev, const char *name, uint64_t sector, uint32_t count)
{
	int r;

	sg_flat(count, GUARD);
	segs_fill(arg.t, sector, sg, 1);
	r = vio_blk_write(dev, sector, sg[0].buf, count);
	if (r) {
		fail(name, "write of %u sectors at %llu: %s", count, (unsigned long long)sector,
		     vio_strerror(r));
		return false;
	}
	printf("WROTE %llu %u\n", (unsigned long long)sector, count);
	pass(name);
	return true;
}

/* Every byte of buf is zero; else fails name at the first that is not. */
static bool all_zero(const char *name, uint64_t sector, const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i]) {
			fail(name, "sector %llu + %u reads %#04x after zeroing",
			     (unsigned long long)(sector + i / SECTOR), (unsigned)(i % SECTOR),
			     buf[i]);
			return false;
		}
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* Case read: every shape of read against the host's pattern s */

static void case_read(void)
{
	struct vio_blk_info in;
	struct vio_device *dev = blk_dev(0, &in);
	uint32_t seg_sectors, m, whole;
	uint64_t cap;
	char name[48];
	unsigned n;

	if (!dev)
		return;
	cap = in.capacity;
	m = in.max_sectors;                       /* the driver's largest request */
	seg_sectors = in.seg_max * (PAGE / SECTOR); /* seg_max pages */
	whole = cap < (DATA_BYTES - 2 * GUARD) / SECTOR ? (uint32_t)cap
							 : (DATA_BYTES - 2 * GUARD) / SECTOR;
	if (cap < 2u * m + 64 || cap < 4u * seg_sectors) {
		fail("read-geometry", "capacity %llu is too small for the shapes",
		     (unsigned long long)cap);
		return;
	}

	/* Flat buffers: small and odd counts, then across the split limits. */
	check_read(dev, "read-one", arg.s, 0, 1, GUARD);
	check_read(dev, "read-one-mid", arg.s, 777, 1, GUARD);
	check_read(dev, "read-odd3", arg.s, 3, 3, GUARD);
	check_read(dev, "read-odd7", arg.s, 11, 7, GUARD);
	check_read(dev, "read-odd13", arg.s, 29, 13, GUARD);
	check_read(dev, "read-odd127", arg.s, 61, 127, GUARD);
	check_read(dev, "read-segpages-1", arg.s, 100, seg_sectors - 1, GUARD);
	check_read(dev, "read-segpages", arg.s, 300, seg_sectors, GUARD);
	check_read(dev, "read-segpages+1", arg.s, 501, seg_sectors + 1, GUARD);
	check_read(dev, "read-max-1", arg.s, 1000, m - 1, GUARD);
	check_read(dev, "read-max", arg.s, 1001, m, GUARD);
	check_read(dev, "read-max+1", arg.s, 3, m + 1, GUARD);
	check_read(dev, "read-2max+5", arg.s, 7, 2 * m + 5, GUARD);
	check_read(dev, "read-last", arg.s, cap - 1, 1, GUARD);
	check_read(dev, "read-last13", arg.s, cap - 13, 13, GUARD);
	check_read(dev, "read-whole", arg.s, 0, whole, GUARD);
	/* Virtio puts no alignment on data buffers: an odd address works. */
	check_read(dev, "read-odd-address", arg.s, 5, 9, GUARD + 1);

	/* Scatter lists of separate pages: below, at and above seg_max of them. */
	snprintf(name, sizeof(name), "readv-pages%u", in.seg_max - 1);
	check_readv(dev, 0, name, arg.s, 40, sg_strided(in.seg_max - 1, PAGE, 2 * PAGE, PAGE));
	snprintf(name, sizeof(name), "readv-pages%u", in.seg_max);
	check_readv(dev, 0, name, arg.s, 41, sg_strided(in.seg_max, PAGE, 2 * PAGE, PAGE));
	snprintf(name, sizeof(name), "readv-pages%u", in.seg_max + 1);
	check_readv(dev, 0, name, arg.s, 42, sg_strided(in.seg_max + 1, PAGE, 2 * PAGE, PAGE));
	snprintf(name, sizeof(name), "readv-pages%u", 2 * in.seg_max + 1);
	check_readv(dev, 0, name, arg.s, 43, sg_strided(2 * in.seg_max + 1, PAGE, 2 * PAGE, PAGE));
	/* Pages adding up to just below, at and above the largest request. */
	if (m / 8 + 1 <= SG_MAX && (m / 8 + 2) * 2 * PAGE <= DATA_BYTES) {
		snprintf(name, sizeof(name), "readv-pages%u", m / 8 - 1);
		check_readv(dev, 0, name, arg.s, 44, sg_strided(m / 8 - 1, PAGE, 2 * PAGE, PAGE));
		snprintf(name, sizeof(name), "readv-pages%u", m / 8);
		check_readv(dev, 0, name, arg.s, 45, sg_strided(m / 8, PAGE, 2 * PAGE, PAGE));
		snprintf(name, sizeof(name), "readv-pages%u", m / 8 + 1);
		check_readv(dev, 0, name, arg.s, 46, sg_strided(m / 8 + 1, PAGE, 2 * PAGE, PAGE));
	}
	/* One sector a segment, three times seg_max and one. */
	check_readv(dev, 0, "readv-sectors", arg.s, 2000,
		    sg_strided(3 * in.seg_max + 1, SECTOR, SECTOR + 2 * GUARD, GUARD));
	/* Odd lengths at odd addresses, segments straddling sectors and requests. */
	check_readv(dev, 0, "readv-odd", arg.s, 2100, sg_odd(1));
	check_readv(dev, 0, "readv-odd-long", arg.s, 2200, sg_odd(3));
	/* The same list at the very end of the disk. */
	n = sg_odd(1);
	check_readv(dev, 0, "readv-odd-last", arg.s, cap - segs_sectors(sg, n), n);
}

/* ------------------------------------------------------------------ */
/* Case write: pattern t over known ranges, flushed; the host compares the image */

struct range {
	uint64_t sector;
	uint32_t count;
};

static void case_write(void)
{
	static const struct {
		const char *name;
		uint64_t sector;
		uint32_t count; /* 0: computed below */
	} ranges[] = {
		{ "write-one", 0, 1 },
		{ "write-odd3", 9, 3 },
		{ "write-odd13", 64, 13 },
		{ "write-segpages+1", 300, 0 },
		{ "write-max+1", 600, 0 },
	};
	struct range done[16];
	struct vio_blk_info in;
	struct vio_device *dev = blk_dev(0, &in);
	unsigned nd = 0, n;
	uint64_t cap;
	int r, wb;

	if (!dev)
		return;
	cap = in.capacity;
	if (cap < 4200 || in.max_sectors > 2048) {
		fail("write-geometry", "capacity %llu / max_sectors %u do not fit the ranges",
		     (unsigned long long)cap, in.max_sectors);
		return;
	}
	for (unsigned i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		uint32_t count = ranges[i].count;

		if (!count)
			count = i == 3 ? in.seg_max * (PAGE / SECTOR) + 1 : in.max_sectors + 1;
		if (do_write(dev, ranges[i].name, ranges[i].sector, count))
			done[nd++] = (struct range){ ranges[i].sector, count };
	}
	if (do_write(dev, "write-last", cap - 1, 1))
		done[nd++] = (struct range){ cap - 1, 1 };
	n = sg_odd(3);
	if (do_writev(dev, 0, "writev-odd", 3000, n))
		done[nd++] = (struct range){ 3000, segs_sectors(sg, n) };
	n = sg_strided(in.seg_max + 1, PAGE, 2 * PAGE, PAGE);
	if (do_writev(dev, 0, "writev-pages", 3500, n))
		done[nd++] = (struct range){ 3500, segs_sectors(sg, n) };

	/* A write-through stretch, where the device offers to switch (CONFIG_WCE). */
	wb = vio_blk_writeback(dev);
	printf("CACHE writeback=%d wce=%d\n", wb, in.wce_config);
	if (in.wce_config) {
		r = vio_blk_set_writeback(dev, false);
		if (r)
			fail("write-through", "set_writeback(false): %s", vio_strerror(r));
		else if (vio_blk_writeback(dev) != 0)
			fail("write-through", "still write-back after switching");
		else if (do_write(dev, "write-through", 4000, 5))
			done[nd++] = (struct range){ 4000, 5 };
		r = vio_blk_set_writeback(dev, wb == 1);
		if (r)
			fail("write-back-again", "set_writeback(%d): %s", wb == 1, vio_strerror(r));
		else
			pass("write-back-again");
	}

	r = vio_blk_flush(dev);
	if (r)
		fail("flush", "%s", vio_strerror(r));
	else
		pass("flush");

	/* Each range reads back as t, the sector on each side as s. */
	for (unsigned i = 0; i < nd; i++) {
		char name[48];

		snprintf(name, sizeof(name), "readback-%llu+%u", (unsigned long long)done[i].sector,
			 done[i].count);
		check_read(dev, name, arg.t, done[i].sector, done[i].count, GUARD);
		/* The neighbours keep the host's pattern. */
		if (done[i].sector > 0)
			check_read(dev, "untouched-before", arg.s, done[i].sector - 1, 1, GUARD);
		if (done[i].sector + done[i].count < cap)
			check_read(dev, "untouched-after", arg.s, done[i].sector + done[i].count, 1,
				   GUARD);
	}
}

/* ------------------------------------------------------------------ */
/* Case readonly: every kind of write is refused before it reaches the device */

static void case_readonly(void)
{
	struct vio_blk_info in;
	struct vio_device *dev = blk_dev(0, &in);
	struct vio_blk_req req;
	int r;

	if (!dev)
		return;
	if (!in.read_only || !vio_dev_has(dev, VIRTIO_BLK_F_RO))
		fail("ro-feature", "read_only %d, BLK_RO %snegotiated", in.read_only,
		     vio_dev_has(dev, VIRTIO_BLK_F_RO) ? "" : "not ");
	else
		pass("ro-feature");

	sg_flat(8, GUARD);
	pattern_fill(arg.t, 0, sg[0].buf, sg[0].len);
	expect_err("write", vio_blk_write(dev, 0, sg[0].buf, 8), VIO_EROFS);
	expect_err("writev", vio_blk_writev(dev, 0, 16, sg, 1), VIO_EROFS);
	memset(&req, 0, sizeof(req));
	req.op = VIO_BLK_OP_WRITE;
	req.sector = 32;
	req.sg = sg;
	req.nsg = 1;
	expect_err("queue-write", vio_blk_submit(dev, 0, &req), VIO_EROFS);
	/* A device without the feature is refused for that first (the host checks which). */
	expect_err("discard", vio_blk_discard(dev, 0, 8), in.discard ? VIO_EROFS : VIO_ENOTSUP);
	expect_err("zero", vio_blk_write_zeroes(dev, 0, 8, false),
		   in.write_zeroes ? VIO_EROFS : VIO_ENOTSUP);
	expect_err("zero-unmap", vio_blk_write_zeroes(dev, 64, 8, true),
		   in.write_zeroes ? VIO_EROFS : VIO_ENOTSUP);
	r = vio_blk_flush(dev);
	if (r)
		fail("flush", "%s", vio_strerror(r));
	else
		pass("flush");
	/* Reads still work, and nothing was written. */
	check_read(dev, "read-after", arg.s, 0, 128, GUARD);
}

/* ------------------------------------------------------------------ */
/* Case dwz: discard and write-zeroes read back as zeroes, the rest untouched */

static void zero_range(struct vio_device *dev, const char *name, bool discard, bool unmap,
		       uint64_t sector, uint32_t count)
{
	int r = discard ? vio_blk_discard(dev, sector, count)
			: vio_blk_write_zeroes(dev, sector, count, unmap);

	if (r) {
		fail(name, "%s of %u sectors at %llu: %s",
		     discard ? "discard" : "write-zeroes", count, (unsigned long long)sector,
		     vio_strerror(r));
		return;
	}
	printf("ZEROED %s %llu %u\n", discard ? "discard" : unmap ? "zero-unmap" : "zero",
	       (unsigned long long)sector, count);
	sg_flat(count, GUARD);
	poison_segs(sg, 1);
	r = vio_blk_read(dev, sector, sg[0].buf, count);
	if (r)
		fail(name, "reading back: %s", vio_strerror(r));
	else if (all_zero(name, sector, sg[0].buf, sg[0].len))
		pass(name);
}

/* Two requests' worth and a bit (the driver must split it), at most cap sectors. */
static uint32_t split_count(uint32_t max, uint32_t more, uint32_t cap)
{
	uint64_t n = 2ull * max + more;

	return n < cap ? (uint32_t)n : cap;
}

static void case_dwz(void)
{
	struct vio_blk_info in;
	struct vio_device *dev = blk_dev(0, &in);

	if (!dev)
		return;
	if (in.discard) {
		zero_range(dev, "discard-aligned", true, false, 1024, 1024);
		zero_range(dev, "discard-small", true, false, 3000, 8);
		/* Beyond max_discard_sectors: the driver splits it. */
		zero_range(dev, "discard-split", true, false, 4096,
			   split_count(in.max_discard_sectors, 8, 1500));
	} else {
		expect_err("discard", vio_blk_discard(dev, 1024, 8), VIO_ENOTSUP);
	}
	if (in.write_zeroes) {
		zero_range(dev, "zero", false, false, 100, 7);
		zero_range(dev, "zero-unmap", false, true, 200, 64);
		zero_range(dev, "zero-split", false, false, 6000,
			   split_count(in.max_write_zeroes_sectors, 3, 1000));
		zero_range(dev, "zero-last", false, true, in.capacity - 3, 3);
	} else {
		expect_err("zero", vio_blk_write_zeroes(dev, 100, 7, false), VIO_ENOTSUP);
	}
	/* Next to the zeroed ranges the host's pattern is intact. */
	check_read(dev, "untouched-before", arg.s, 1023, 1, GUARD);
	check_read(dev, "untouched-between", arg.s, 107, 93, GUARD);
	check_read(dev, "untouched-after", arg.s, 264, 8, GUARD);
	if (vio_blk_flush(dev))
		fail("flush", "failed");
}

/* ------------------------------------------------------------------ */
/* Case id: the device ID of every blk device */

static void case_id(void)
{
	char id[VIO_BLK_ID_LEN + 1], name[24];
	struct vio_device *dev;
	int r;

	for (unsigned i = 0; (dev = vio_dev_find(VIRTIO_ID_BLOCK, i)) != NULL; i++) {
		snprintf(name, sizeof(name), "id-%s", dev->name);
		memset(id, 'x', sizeof(id));
		r = vio_blk_get_id(dev, id, sizeof(id));
		if (r < 0) {
			fail(name, "%s", vio_strerror(r));
			continue;
		}
		printf("ID slot=%d len=%d id=%s\n", dev->slot, r, id);
		if ((size_t)r != strlen(id) || r > VIO_BLK_ID_LEN)
			fail(name, "returned %d for a %u-character ID", r, (unsigned)strlen(id));
		else
			pass(name);
		/* A buffer too small for every ID is refused. */
		snprintf(name, sizeof(name), "id-short-%s", dev->name);
		expect_err(name, vio_blk_get_id(dev, id, VIO_BLK_ID_LEN), VIO_EINVAL);
	}
}

/* ------------------------------------------------------------------ */
/* Case mq: requests in flight on every queue at once */

#define MQ_PER_QUEUE 8
#define MQ_SECTORS 16

struct mq_req {
	struct vio_blk_req req;
	struct vio_sg sg;
};

static struct mq_req mq[CONFIG_VIO_BLK_QUEUES_MAX][MQ_PER_QUEUE];
static unsigned mq_done[CONFIG_VIO_BLK_QUEUES_MAX], mq_errors;

static void mq_complete(struct vio_blk_req *req)
{
	mq_done[req->queue]++;
	if (req->result) {
		fail("mq-request", "queue %u sector %llu: %s", req->queue,
		     (unsigned long long)req->sector, vio_strerror(req->result));
		mq_errors++;
	}
}

/*
 * Queue MQ_PER_QUEUE requests of op on each of nq queues (sector base +
 * (q * MQ_PER_QUEUE + k) * MQ_SECTORS), kick every queue, then poll them all
 * until everything completed. Returns whether all did without an error.
 */
static bool mq_round(struct vio_device *dev, unsigned nq, enum vio_blk_op op, uint64_t base,
		     uint32_t buf_off)
{
	uint64_t deadline = board_time_ns() + (uint64_t)CONFIG_VIO_TIMEOUT_MS * MS;
	unsigned want = nq * MQ_PER_QUEUE, got = 0;
	const char *what = op == VIO_BLK_OP_WRITE ? "mq-write" : "mq-read";
	int r;

	mq_errors = 0;
	for (unsigned q = 0; q < nq; q++) {
		for (unsigned k = 0; k < MQ_PER_QUEUE; k++) {
			struct mq_req *m = &mq[q][k];
			unsigned i = q * MQ_PER_QUEUE + k;

			memset(&m->req, 0, sizeof(m->req));
			m->sg.buf = data + buf_off + (size_t)i * (MQ_SECTORS * SECTOR + PAGE);
			m->sg.len = MQ_SECTORS * SECTOR;
			m->req.op = op;
			m->req.sector = base + (uint64_t)i * MQ_SECTORS;
			m->req.sg = &m->sg;
			m->req.nsg = 1;
			m->req.done = mq_complete;
			if (op == VIO_BLK_OP_WRITE)
				pattern_fill(arg.t, m->req.sector * SECTOR, m->sg.buf, m->sg.len);
			else
				memset(m->sg.buf, POISON, m->sg.len);
			r = vio_blk_queue(dev, q, &m->req);
			if (r) {
				fail(what, "queue %u request %u: %s", q, k, vio_strerror(r));
				return false;
			}
		}
		if (vio_blk_in_flight(dev, q) != MQ_PER_QUEUE)
			fail(what, "queue %u: %u in flight, want %u", q, vio_blk_in_flight(dev, q),
			     MQ_PER_QUEUE);
	}
	/* Everything is queued before any queue is told: all of them work at once. */
	for (unsigned q = 0; q < nq; q++)
		vio_blk_kick(dev, q);
	while (got < want) {
		for (unsigned q = 0; q < nq; q++) {
			r = vio_blk_poll(dev, q);
			if (r < 0) {
				fail(what, "poll queue %u: %s", q, vio_strerror(r));
				return false;
			}
			got += (unsigned)r;
		}
		if (got < want && board_time_ns() > deadline) {
			fail(what, "%u of %u requests completed in time", got, want);
			return false;
		}
	}
	if (mq_errors)
		return false;
	pass(what);
	return true;
}

static void case_mq(void)
{
	struct vio_blk_info in;
	struct vio_device *dev = blk_dev(0, &in);
	const uint64_t wbase = 1024, rbase = 4096;
	unsigned nq;
	char name[32];
	uint32_t crc;

	if (!dev)
		return;
	nq = in.num_queues;
	printf("QUEUES used=%u\n", nq);
	if (nq > CONFIG_VIO_BLK_QUEUES_MAX) {
		fail("mq-queues", "%u queues, more than the build's %u", nq,
		     CONFIG_VIO_BLK_QUEUES_MAX);
		return;
	}

	/* Writes of pattern t on every queue at once. */
	if (mq_round(dev, nq, VIO_BLK_OP_WRITE, wbase, PAGE))
		printf("WROTE %llu %u\n", (unsigned long long)wbase,
		       nq * MQ_PER_QUEUE * MQ_SECTORS);
	if (vio_blk_flush(dev))
		fail("mq-flush", "flush failed");

	/* Reads on every queue at once: the writes back, then the host's pattern. */
	for (unsigned pass_no = 0; pass_no < 2; pass_no++) {
		uint64_t base = pass_no ? rbase : wbase, seed = pass_no ? arg.s : arg.t;

		if (!mq_round(dev, nq, VIO_BLK_OP_READ, base, PAGE))
			continue;
		for (unsigned q = 0; q < nq; q++) {
			for (unsigned k = 0; k < MQ_PER_QUEUE; k++) {
				struct mq_req *m = &mq[q][k];

				snprintf(name, sizeof(name), "mq-data-q%u-%u", q, pass_no);
				if (!segs_match(name, seed, m->req.sector, &m->sg, 1, &crc))
					break;
				if (k == MQ_PER_QUEUE - 1)
					pass(name);
			}
		}
	}

	/*
	 * Asynchronous reads queued on queue 0 but not kicked, then a blocking
	 * read on the same queue: its kick sends them along too. Those that
	 * complete while it waits have their callbacks run there; the rest
	 * complete by polling alone, which never kicks.
	 */
	if (nq > 0) {
		unsigned before = mq_done[0];
		uint64_t deadline;

		mq_errors = 0;
		for (unsigned k = 0; k < MQ_PER_QUEUE; k++) {
			struct mq_req *m = &mq[0][k];

			memset(&m->req, 0, sizeof(m->req));
			m->sg.buf = data + PAGE + (size_t)k * (MQ_SECTORS * SECTOR + PAGE);
			m->sg.len = MQ_SECTORS * SECTOR;
			memset(m->sg.buf, POISON, m->sg.len);
			m->req.op = VIO_BLK_OP_READ;
			m->req.sector = rbase + 512 + (uint64_t)k * MQ_SECTORS;
			m->req.sg = &m->sg;
			m->req.nsg = 1;
			m->req.done = mq_complete;
			if (vio_blk_queue(dev, 0, &m->req))
				fail("mq-mixed", "queueing request %u failed", k);
		}
		check_read(dev, "mq-mixed-blocking", arg.s, 7000, 64, DATA_BYTES / 2);
		deadline = board_time_ns() + (uint64_t)CONFIG_VIO_TIMEOUT_MS * MS;
		while (vio_blk_in_flight(dev, 0) && board_time_ns() < deadline)
			if (vio_blk_poll(dev, 0) < 0)
				break;
		if (mq_done[0] - before != MQ_PER_QUEUE || vio_blk_in_flight(dev, 0))
			fail("mq-mixed", "%u of %u queued requests completed, %u in flight",
			     mq_done[0] - before, MQ_PER_QUEUE, vio_blk_in_flight(dev, 0));
		else if (!mq_errors)
			pass("mq-mixed");
		for (unsigned k = 0; k < MQ_PER_QUEUE; k++) {
			struct mq_req *m = &mq[0][k];

			if (m->req.busy)
				break;
			if (!segs_match("mq-mixed-data", arg.s, m->req.sector, &m->sg, 1, &crc))
				break;
		}
	}

	/* A blocking call on each queue, too. */
	for (unsigned q = 0; q < nq; q++) {
		snprintf(name, sizeof(name), "mq-readv-q%u", q);
		check_readv(dev, q, name, arg.s, 6000 + q * 64,
			    sg_strided(in.seg_max + 1, PAGE, 2 * PAGE, PAGE));
	}
	for (unsigned q = 0; q < nq; q++)
		printf("MQ queue=%u requests=%u\n", q, mq_done[q]);
}

/* ------------------------------------------------------------------ */
/* Case eio: an error QEMU injects reaches the caller, and the device goes on */

static void case_eio(void)
{
	struct vio_blk_info in;
	struct vio_device *dev = blk_dev(0, &in);
	struct vio_blk_req req;
	uint64_t deadline;
	int r;

	if (!dev)
		return;
	/* A blocking read over the failing sector. */
	sg_flat(8, GUARD);
	r = vio_blk_read(dev, arg.e - 3, sg[0].buf, 8);
	expect_err("read-eio", r, VIO_EIO);
	/* The same read again succeeds (the error was injected once). */
	check_read(dev, "read-again", arg.s, arg.e - 3, 8, GUARD);
	check_read(dev, "read-elsewhere", arg.s, 0, 64, GUARD);

	/*
	 * A long read, several requests in flight, one of them failing: the
	 * call reports the error once all are done.
	 */
	sg_flat(2 * in.max_sectors + 10, GUARD);
	r = vio_blk_read(dev, arg.e3 - in.max_sectors - 5, sg[0].buf, 2 * in.max_sectors + 10);
	expect_err("long-read-eio", r, VIO_EIO);
	check_read(dev, "long-read-again", arg.s, arg.e3 - in.max_sectors - 5,
		   2 * in.max_sectors + 10, GUARD);

	/* The asynchronous API gets it in req.result. */
	sg_flat(4, GUARD);
	memset(&req, 0, sizeof(req));
	req.op = VIO_BLK_OP_READ;
	req.sector = arg.e2;
	req.sg = sg;
	req.nsg = 1;
	r = vio_blk_submit(dev, 0, &req);
	deadline = board_time_ns() + (uint64_t)CONFIG_VIO_TIMEOUT_MS * MS;
	while (!r && req.busy && board_time_ns() < deadline)
		r = vio_blk_poll(dev, 0) < 0 ? VIO_ESHUTDOWN : 0;
	if (r)
		fail("queue-read-eio", "submit/poll: %s", vio_strerror(r));
	else if (req.busy)
		fail("queue-read-eio", "no completion");
	else
		expect_err("queue-read-eio", req.result, VIO_EIO);
	check_read(dev, "queue-read-again", arg.s, arg.e2, 4, GUARD);

	/* A write error, then the same write succeeds. */
	sg_flat(4, GUARD);
	pattern_fill(arg.t, arg.w * SECTOR, sg[0].buf, sg[0].len);
	expect_err("write-eio", vio_blk_write(dev, arg.w, sg[0].buf, 4), VIO_EIO);
	do_write(dev, "write-again", arg.w, 4);
	if (arg.f)
		expect_err("flush-eio", vio_blk_flush(dev), VIO_EIO);
	r = vio_blk_flush(dev);
	if (r)
		fail("flush", "%s", vio_strerror(r));
	else
		pass("flush");
	if (vio_dev_state(dev) != VIO_DEV_READY)
		fail("eio-state", "the device is %s after I/O errors", state_name(vio_dev_state(dev)));
	else
		pass("eio-state");
}

/* ------------------------------------------------------------------ */
/* Case badinput: bad arguments are refused before anything reaches the device */

static unsigned valid_requests;

static void case_badinput(void)
{
	struct vio_blk_info in;
	struct vio_device *dev = blk_dev(0, &in);
	struct vio_blk_req req;
	uint32_t bs, crc;
	uint64_t cap;
	unsigned n;
	int r;

	if (!dev)
		return;
	cap = in.capacity;
	bs = in.block_size / SECTOR; /* sectors a logical block */
	if (bs < 2)
		fail("badinput-block", "block size %u: the misaligned cases need a larger one",
		     in.block_size);

	sg_flat(2 * bs, GUARD);
	/* Beyond the capacity, or wrapping around. */
	expect_err("read-beyond", vio_blk_read(dev, cap, sg[0].buf, bs), VIO_ERANGE);
	expect_err("read-across-end", vio_blk_read(dev, cap - bs, sg[0].buf, 2 * bs), VIO_ERANGE);
	/* The last block of a 64-bit sector space: sector + count wraps to 0 + bs. */
	expect_err("read-wrap", vio_blk_readv(dev, 0, UINT64_MAX - (bs - 1), sg, 1), VIO_ERANGE);
	expect_err("write-beyond", vio_blk_write(dev, cap, sg[0].buf, bs), VIO_ERANGE);
	expect_err("discard-beyond", vio_blk_discard(dev, cap, bs),
		   in.discard ? VIO_ERANGE : VIO_ENOTSUP);
	expect_err("zero-beyond", vio_blk_write_zeroes(dev, cap - bs, 2 * bs, false),
		   in.write_zeroes ? VIO_ERANGE : VIO_ENOTSUP);
	/* Nothing to do, or nowhere to put it. */
	expect_err("read-count0", vio_blk_read(dev, 0, sg[0].buf, 0), VIO_EINVAL);
	expect_err("write-count0", vio_blk_write(dev, 0, sg[0].buf, 0), VIO_EINVAL);
	expect_err("read-null", vio_blk_read(dev, 0, NULL, bs), VIO_EINVAL);
	expect_err("readv-nsg0", vio_blk_readv(dev, 0, 0, sg, 0), VIO_EINVAL);
	expect_err("discard-count0", vio_blk_discard(dev, 0, 0),
		   in.discard ? VIO_EINVAL : VIO_ENOTSUP);
	/* Not whole logical blocks: sector, count, buffer length. */
	expect_err("read-misaligned-sector", vio_blk_read(dev, 1, sg[0].buf, bs), VIO_EINVAL);
	expect_err("read-misaligned-count", vio_blk_read(dev, 0, sg[0].buf, bs + 1), VIO_EINVAL);
	sg[0].len = SECTOR;
	expect_err("readv-misaligned-buffer", vio_blk_readv(dev, 0, 0, sg, 1), VIO_EINVAL);
	sg[0].len = in.block_size + 100;
	expect_err("readv-misaligned-buffer2", vio_blk_readv(dev, 0, 0, sg, 1), VIO_EINVAL);
	sg[0].len = 0;
	expect_err("readv-empty-segment", vio_blk_readv(dev, 0, 0, sg, 1), VIO_EINVAL);
	/* More than seg_max segments too short to make one block between them. */
	n = sg_strided(in.block_size / 16, 16, 16 + 2 * GUARD, GUARD);
	expect_err("readv-too-fragmented", vio_blk_readv(dev, 0, 0, sg, n), VIO_EINVAL);
	sg_flat(2 * bs, GUARD);
	expect_err("zero-misaligned", vio_blk_write_zeroes(dev, 1, bs, false),
		   in.write_zeroes ? VIO_EINVAL : VIO_ENOTSUP);
	/* The asynchronous API: the same checks, and a request too large for one go. */
	memset(&req, 0, sizeof(req));
	req.op = VIO_BLK_OP_READ;
	req.sector = cap;
	req.sg = sg;
	req.nsg = 1;
	expect_err("queue-beyond", vio_blk_submit(dev, 0, &req), VIO_ERANGE);
	req.sector = 1;
	expect_err("queue-misaligned", vio_blk_submit(dev, 0, &req), VIO_EINVAL);
	req.sector = 0;
	sg_flat(in.max_sectors + bs, GUARD);
	expect_err("queue-too-large", vio_blk_submit(dev, 0, &req), VIO_ERANGE);
	sg_flat(bs, GUARD);
	/* One request takes at most seg_max segments. */
	req.nsg = sg_strided(in.seg_max + 1, in.block_size, in.block_size + 2 * GUARD, GUARD);
	expect_err("queue-too-many-segments", vio_blk_submit(dev, 0, &req), VIO_ERANGE);
	req.nsg = 1;
	req.op = (enum vio_blk_op)99;
	expect_err("queue-bad-op", vio_blk_submit(dev, 0, &req), VIO_EINVAL);
	req.op = VIO_BLK_OP_READ;
	expect_err("queue-bad-queue", vio_blk_submit(dev, in.num_queues, &req), VIO_EINVAL);
	expect_err("not-a-blk", vio_blk_read(NULL, 0, sg[0].buf, bs), VIO_ENODEV);

	/* Now the valid requests, counted: the host compares with QEMU's notifications. */
	check_read(dev, "valid-read", arg.s, 0, 2 * bs, GUARD);
	valid_requests++;
	req = (struct vio_blk_req){ .op = VIO_BLK_OP_READ, .sector = bs, .sg = sg, .nsg = 1 };
	sg_flat(bs, GUARD + 1); /* an odd address is fine */
	r = vio_blk_queue(dev, 0, &req);
	if (r) {
		fail("valid-queue", "%s", vio_strerror(r));
	} else {
		expect_err("queue-busy", vio_blk_queue(dev, 0, &req), VIO_EBUSY);
		r = vio_blk_wait(dev, 0, (uint64_t)CONFIG_VIO_TIMEOUT_MS * MS);
		valid_requests++;
		if (r != 1 || req.busy || req.result)
			fail("valid-queue", "wait returned %d, result %s", r, errname(req.result));
		else if (segs_match("valid-queue", arg.s, bs, sg, 1, &crc))
			pass("valid-queue");
	}
	printf("VALID requests=%u\n", valid_requests);
}

/* ------------------------------------------------------------------ */
/*
 * Case timeout: requests the host's throttled drives hold past a short
 * timeout. The driver gives up on the device, and must reset it before the
 * buffers go back to the caller (3.3.1): once the call has returned, the
 * device may neither write into a read's buffer nor read a write's buffer.
 * Both drives hold pattern s; the host throttles each to one request a
 * second, so a request right after a first one waits about a second. The
 * read goes to blk0, the write (pattern t) to blk1.
 */

#define TIMEOUT_PREFILL 0x3c  /* a read's buffer before the call */
#define TIMEOUT_LATE_FILL 0xc3 /* a write's buffer once the call has returned */
#define TIMEOUT_SECTORS 8u

/* Sleep ms milliseconds, waking on interrupts only to sleep again. */
static void idle_ms(uint64_t ms)
{
	uint64_t deadline = board_time_ns() + ms * MS;

	while (board_time_ns() < deadline) {
		uintptr_t irq = board_irq_save();

		board_idle_until(deadline);
		board_irq_restore(irq);
	}
}

/*
 * Ready dev for a request its throttled drive holds back: a first read
 * fills the throttle's bucket (it passes at once), then the timeout becomes
 * arg.ms so that the next request, made right after, outlasts it. Returns
 * whether the first read passed.
 */
static bool timeout_prime(struct vio_device *dev, const char *what)
{
	char name[32];
	int r;

	snprintf(name, sizeof(name), "%s-first", what);
	if (!check_read(dev, name, arg.s, 0, TIMEOUT_SECTORS, GUARD))
		return false;
	r = vio_blk_set_timeout(dev, arg.ms * MS);
	if (r)
		fail(what, "set_timeout: %s", vio_strerror(r));
	return !r;
}

/* What a device shows after it was given up: FAILED to the caller and on the bus. */
static void timeout_state(struct vio_device *dev, const char *what, void *buf)
{
	unsigned status = dev->t.ops->get_status(&dev->t);
	char name[32];

	printf("STATE %s state=%s status=%#x\n", dev->name, state_name(vio_dev_state(dev)), status);
	snprintf(name, sizeof(name), "%s-failed", what);
	if (vio_dev_state(dev) != VIO_DEV_FAILED || !(status & VIRTIO_CONFIG_S_FAILED))
		fail(name, "state %s, status %#x: want failed with FAILED set",
		     state_name(vio_dev_state(dev)), status);
	else
		pass(name);
	/* Later calls are refused, not sent to a device that was reset. */
	snprintf(name, sizeof(name), "%s-after", what);
	expect_err(name, vio_blk_read(dev, 0, buf, TIMEOUT_SECTORS), VIO_ESHUTDOWN);
}

/* Where the write after the recovery goes, from w: clear of the held write. */
#define RECOVER_OFFSET 64u

/*
 * Bring a device the timeout failed back (vio_dev_recover): READY again,
 * DRIVER_OK and no FAILED on the bus. Its timeout stays what the
 * application set; the throttle would outlast it, so the default again.
 */
static void timeout_recover(struct vio_device *dev, const char *what)
{
	unsigned status;
	int r = vio_dev_recover(dev);

	if (r) {
		fail(what, "vio_dev_recover: %s", vio_strerror(r));
		return;
	}
	status = dev->t.ops->get_status(&dev->t);
	printf("RECOVERED %s state=%s status=%#x\n", dev->name, state_name(vio_dev_state(dev)),
	       status);
	if (vio_dev_state(dev) != VIO_DEV_READY || !(status & VIRTIO_CONFIG_S_DRIVER_OK) ||
	    (status & VIRTIO_CONFIG_S_FAILED))
		fail(what, "state %s, status %#x: want ready with DRIVER_OK and not FAILED",
		     state_name(vio_dev_state(dev)), status);
	else
		pass(what);
	r = vio_blk_set_timeout(dev, 0);
	if (r)
		fail(what, "set_timeout: %s", vio_strerror(r));
}

static void case_timeout(void)
{
	const size_t len = TIMEOUT_SECTORS * SECTOR;
	/* Clear of the first reads' buffer (sg_flat at data + GUARD) and its guards. */
	uint8_t *rbuf = data + 4 * PAGE, *snap = data + 8 * PAGE, *wbuf = data + 12 * PAGE;
	struct vio_sg rsg = { rbuf, TIMEOUT_SECTORS * SECTOR };
	struct vio_blk_info in;
	struct vio_device *rdev = blk_dev(0, &in), *wdev = blk_dev(1, &in);
	unsigned from_disk = 0, prefill = 0, changed = 0;
	uint64_t t0;
	int r;

	if (!rdev || !wdev)
		return;
	if (!arg.ms || arg.wait < 2 * arg.ms) {
		fail("timeout-args", "need ms=<timeout> and wait=<ms> of at least twice that");
		return;
	}
	poison_segs(&rsg, 1);
	memset(rbuf, TIMEOUT_PREFILL, len);

	/* The read: it must time out, and what the buffer holds then is final. */
	if (!timeout_prime(rdev, "timeout-read"))
		return;
	t0 = board_time_ns();
	r = vio_blk_read(rdev, arg.r, rbuf, TIMEOUT_SECTORS);
	printf("ELAPSED read ms=%llu\n", (unsigned long long)((board_time_ns() - t0) / MS));
	expect_err("timeout-read", r, VIO_ETIMEDOUT);
	memcpy(snap, rbuf, len);

	/* The write: once it returned, the buffer is the caller's to reuse. */
	pattern_fill(arg.t, arg.w * SECTOR, wbuf, len);
	if (!timeout_prime(wdev, "timeout-write"))
		return;
	t0 = board_time_ns();
	r = vio_blk_write(wdev, arg.w, wbuf, TIMEOUT_SECTORS);
	memset(wbuf, TIMEOUT_LATE_FILL, len);
	printf("ELAPSED write ms=%llu\n", (unsigned long long)((board_time_ns() - t0) / MS));
	expect_err("timeout-write", r, VIO_ETIMEDOUT);
	printf("TIMEOUT-WRITE %llu %u\n", (unsigned long long)arg.w, TIMEOUT_SECTORS);

	/*
	 * Long enough for the throttled requests to have been served had the
	 * device kept them: any byte of the read's buffer that changes now was
	 * written by a device the driver claimed to have stopped.
	 */
	idle_ms(arg.wait);
	for (size_t i = 0; i < len; i++) {
		changed += rbuf[i] != snap[i];
		if (snap[i] == pattern_byte(arg.s, arg.r * SECTOR + i))
			from_disk++;
		else if (snap[i] == TIMEOUT_PREFILL)
			prefill++;
	}
	/* QEMU's reset drains the request, so its data may land before the call returns. */
	printf("AFTER read len=%u at_return_disk=%u at_return_prefill=%u changed_later=%u\n",
	       (unsigned)len, from_disk, prefill, changed);
	if (changed)
		fail("timeout-read-quiet", "%u of %u bytes of the buffer changed after the call "
		     "returned", changed, (unsigned)len);
	else if (from_disk + prefill != len)
		fail("timeout-read-quiet", "%u bytes are neither the disk's nor the prefill",
		     (unsigned)len - from_disk - prefill);
	else if (guards_intact("timeout-read-quiet", &rsg, 1))
		pass("timeout-read-quiet");
	timeout_state(rdev, "timeout-read", rbuf);
	timeout_state(wdev, "timeout-write", wbuf);
	timeout_recover(rdev, "recover-read");
	timeout_recover(wdev, "recover-write");
	/* Back in service: a read sees the disk, a write reaches the image. */
	check_read(rdev, "recover-read-data", arg.s, arg.r, TIMEOUT_SECTORS, GUARD);
	do_write(wdev, "recover-write-data", arg.w + RECOVER_OFFSET, TIMEOUT_SECTORS);
}

/* ------------------------------------------------------------------ */
/*
 * Case needsreset: the device breaks, and the application goes on after a
 * recovery. The test (not the driver) posts one malformed chain on the
 * driver's request queue, an 8-byte "header" and a status byte, with an
 * asynchronous write (pattern t at w) behind it, and kicks once. QEMU's
 * virtio-blk refuses the chain ("virtio-blk request outhdr too short",
 * virtio_error): a VERSION_1 device then sets DEVICE_NEEDS_RESET and sends
 * a configuration change interrupt (2.1.2), which the core sees in a
 * service pass while the application idles; it fails the device (VIO_EIO)
 * and resets it, which ends the write with that error. A legacy device is
 * only marked broken and completes nothing more: a blocking read with a
 * short timeout (ms) gives up on it, which resets it the same way. The
 * chain's cookie is the test's, not a request of the driver's: it must
 * come back from the reset untouched. Then vio_dev_recover, and the
 * device reads the disk and writes (pattern t at w + 64) again.
 */
#define NR_SECTORS 8u
#define NR_CANARY 0x5a

static uint8_t nr_foreign[8]; /* the malformed chain's cookie: the driver must not touch it */
static unsigned nr_done_calls;

static void nr_done(struct vio_blk_req *req)
{
	(void)req;
	nr_done_calls++;
}

/* What an application's main loop does while nothing is asked of the disk. */
static void idle_service(struct vio_device *dev, uint64_t ms, bool until_failed)
{
	uint64_t deadline = board_time_ns() + ms * MS;

	while (board_time_ns() < deadline) {
		uintptr_t irq;

		vio_service();
		if (until_failed && vio_dev_state(dev) != VIO_DEV_READY)
			return;
		irq = board_irq_save();
		board_idle_until(board_time_ns() + MS);
		board_irq_restore(irq);
	}
}

static void case_needsreset(void)
{
	const uint32_t len = NR_SECTORS * SECTOR;
	uint8_t *bad_hdr = data + 16 * PAGE, *wbuf = data + 20 * PAGE, *rbuf = data + 24 * PAGE;
	struct vio_sg bad[2] = { { bad_hdr, 8 }, { bad_hdr + 64, 1 } };
	struct vio_sg wsg = { wbuf, NR_SECTORS * SECTOR };
	struct vio_blk_info in;
	struct vio_device *dev = blk_dev(0, &in);
	struct vio_blk_req req;
	unsigned status = 0;
	uint64_t deadline;
	bool modern, intact = true;
	int r;

	if (!dev)
		return;
	if (!arg.ms || !arg.wait) {
		fail("needsreset-args", "need ms=<timeout> and wait=<ms>");
		return;
	}
	modern = vio_dev_has(dev, VIRTIO_F_VERSION_1);
	if (!check_read(dev, "needsreset-before", arg.s, arg.r, NR_SECTORS, GUARD))
		return;

	memset(nr_foreign, NR_CANARY, sizeof(nr_foreign));
	memset(bad_hdr, 0, 2 * GUARD + 64);
	bad_hdr[64] = 0xff;
	pattern_fill(arg.t, arg.w * SECTOR, wbuf, len);
	memset(&req, 0, sizeof(req));
	req.op = VIO_BLK_OP_WRITE;
	req.sector = arg.w;
	req.sg = &wsg;
	req.nsg = 1;
	req.done = nr_done;
	/* In this order on the ring: the device meets the bad chain first. */
	r = vio_vq_enqueue(vio_dev_vq(dev, 0), bad, 1, 1, nr_foreign);
	if (r) {
		fail("needsreset-post", "vio_vq_enqueue: %s", vio_strerror(r));
		return;
	}
	r = vio_blk_queue(dev, 0, &req);
	if (r) {
		fail("needsreset-post", "vio_blk_queue: %s", vio_strerror(r));
		return;
	}
	vio_blk_kick(dev, 0);
	printf("POSTED bad-chain out=8 in=1, write %llu %u behind it\n",
	       (unsigned long long)arg.w, NR_SECTORS);

	/*
	 * The device status as the device shows it, before the core acts on
	 * it (it acts in a service pass only): modern, NEEDS_RESET comes;
	 * legacy, it never does.
	 */
	deadline = board_time_ns() + (modern ? arg.wait : arg.ms) * MS;
	do {
		status = dev->t.ops->get_status(&dev->t);
	} while (!(status & VIRTIO_CONFIG_S_NEEDS_RESET) && board_time_ns() < deadline);
	printf("NEEDS-RESET %s status=%#x\n", dev->name, status);
	if (!(status & VIRTIO_CONFIG_S_NEEDS_RESET) != !modern)
		fail("needsreset-status", "status %#x on a %s device", status,
		     modern ? "modern" : "legacy");
	else
		pass("needsreset-status");

	/* The application idles; its main loop runs the service, nothing else. */
	idle_service(dev, modern ? arg.wait : arg.ms, true);
	printf("IDLE %s state=%s done=%u busy=%d result=%s\n", dev->name,
	       state_name(vio_dev_state(dev)), nr_done_calls, req.busy, errname(req.result));
	if (modern) {
		/* The configuration change ended the write: VIO_EIO, the core's error for it. */
		if (vio_dev_state(dev) != VIO_DEV_FAILED || nr_done_calls != 1 || req.busy)
			fail("needsreset-idle", "state %s, %u callbacks: want failed and the write "
			     "ended", state_name(vio_dev_state(dev)), nr_done_calls);
		else
			expect_err("needsreset-pending", req.result, VIO_EIO);
	} else {
		/* A broken legacy device says nothing: the write is still out. */
		if (vio_dev_state(dev) != VIO_DEV_READY || nr_done_calls || !req.busy)
			fail("needsreset-idle", "state %s, %u callbacks: want ready and the write "
			     "still out", state_name(vio_dev_state(dev)), nr_done_calls);
		else
			pass("needsreset-idle");
		r = vio_blk_set_timeout(dev, arg.ms * MS);
		if (r)
			fail("needsreset-timeout", "set_timeout: %s", vio_strerror(r));
		expect_err("needsreset-read-timeout", vio_blk_read(dev, arg.r, rbuf, NR_SECTORS),
			   VIO_ETIMEDOUT);
		if (nr_done_calls != 1 || req.busy)
			fail("needsreset-pending", "%u callbacks after the timeout", nr_done_calls);
		else
			expect_err("needsreset-pending", req.result, VIO_ETIMEDOUT);
	}
	for (unsigned i = 0; i < sizeof(nr_foreign); i++)
		intact &= nr_foreign[i] == NR_CANARY;
	printf("FOREIGN intact=%d in_flight=%u\n", intact, vio_blk_in_flight(dev, 0));
	if (!intact || vio_blk_in_flight(dev, 0))
		fail("needsreset-foreign", "the chain's cookie %s, %u requests in flight",
		     intact ? "intact" : "written", vio_blk_in_flight(dev, 0));
	else
		pass("needsreset-foreign");
	timeout_state(dev, "needsreset", rbuf);
	timeout_recover(dev, "needsreset-recover");
	/* Back in service: the disk as the host made it, a write that reaches the image. */
	check_read(dev, "needsreset-read-after", arg.s, arg.r, NR_SECTORS, GUARD);
	if (do_write(dev, "needsreset-write-after", arg.w + RECOVER_OFFSET, NR_SECTORS))
		check_read(dev, "needsreset-readback", arg.t, arg.w + RECOVER_OFFSET, NR_SECTORS,
			   GUARD);
	r = vio_blk_flush(dev);
	if (r)
		fail("needsreset-flush", "%s", vio_strerror(r));
	else
		pass("needsreset-flush");
}

/* ------------------------------------------------------------------ */
/*
 * Case stall: the host's drive stops the VM on an error (werror=stop,
 * rerror=stop) and blkdebug fails one write (at w) and one read (at r)
 * once. QEMU pauses the whole machine with the request held; the host
 * checks, then sends QMP cont, and QEMU retries it. The calls here must
 * simply succeed, however long the pause: the guest's clock (the RISC-V
 * timer, the Arm generic timer) follows QEMU's virtual clock, which stands
 * still while the VM is stopped, so no timeout runs during the pause.
 * STALL lines tell the host which request is about to stall; ELAPSED
 * what the guest's clock saw of it.
 */
#define STALL_SECTORS 8u

static void case_stall(void)
{
	struct vio_blk_info in;
	struct vio_device *dev = blk_dev(0, &in);
	uint64_t t0;

	if (!dev)
		return;
	check_read(dev, "stall-first", arg.s, 0, STALL_SECTORS, GUARD);
	printf("STALL write %llu %u\n", (unsigned long long)arg.w, STALL_SECTORS);
	fflush(stdout);
	t0 = board_time_ns();
	do_write(dev, "stall-write", arg.w, STALL_SECTORS);
	printf("ELAPSED write ms=%llu\n", (unsigned long long)((board_time_ns() - t0) / MS));
	printf("STALL read %llu %u\n", (unsigned long long)arg.r, STALL_SECTORS);
	fflush(stdout);
	t0 = board_time_ns();
	check_read(dev, "stall-read", arg.s, arg.r, STALL_SECTORS, GUARD);
	printf("ELAPSED read ms=%llu\n", (unsigned long long)((board_time_ns() - t0) / MS));
	/* And on: more writes, a flush, what was written reads back. */
	do_write(dev, "stall-more", arg.w + RECOVER_OFFSET, STALL_SECTORS);
	if (vio_blk_flush(dev))
		fail("stall-flush", "flush failed");
	else
		pass("stall-flush");
	check_read(dev, "stall-readback", arg.t, arg.w, STALL_SECTORS, GUARD);
	check_read(dev, "stall-readback-more", arg.t, arg.w + RECOVER_OFFSET, STALL_SECTORS, GUARD);
}

/* ------------------------------------------------------------------ */
/*
 * Case stream: the durability test's writer. test_blk.py kills QEMU
 * (SIGKILL) somewhere in this stream and checks that every write a FLUSH
 * line covers is on the image. Write seq (1, 2, ...) puts count sectors at
 * sector (the schedule below, which test_blk.py computes too, so later
 * writes overwrite earlier ones); each of its sectors holds its disk
 * sector and seq as little-endian 64-bit words, then pattern t + seq, so
 * the host can tell from any sector which write left it there. After
 * every k writes a VIRTIO_BLK_T_FLUSH (5.2.6: data the device acknowledged
 * before a flush completed is on stable storage once the flush completes).
 * Each write and flush is reported only after it completed.
 */
#define STREAM_REGION 2048u /* sectors the stream overwrites (the first 1 MiB) */

static void stream_sector_fill(uint8_t *p, uint64_t sector, uint64_t seq)
{
	pattern_fill(arg.t + seq, sector * SECTOR, p, SECTOR);
	for (unsigned b = 0; b < 8; b++) {
		p[b] = (uint8_t)(sector >> (8 * b));
		p[8 + b] = (uint8_t)(seq >> (8 * b));
	}
}

static void case_stream(void)
{
	struct vio_blk_info in;
	struct vio_device *dev = blk_dev(0, &in);
	uint64_t k = arg.k ? arg.k : 1, n = arg.n ? arg.n : 100000, flushes = 0;
	uint8_t *buf = data + PAGE;

	if (!dev)
		return;
	/* Without FLUSH a completed write promises nothing (5.2.6.2). */
	if (!in.flush || in.capacity < STREAM_REGION) {
		fail("stream-device", "flush=%d capacity=%llu: want FLUSH and %u sectors", in.flush,
		     (unsigned long long)in.capacity, STREAM_REGION);
		return;
	}
	for (uint64_t seq = 1; seq <= n; seq++) {
		uint32_t count = 1 + (uint32_t)(seq * 5 % 8);
		uint64_t sector = seq * 389 % (STREAM_REGION - 8);
		int r;

		for (uint32_t i = 0; i < count; i++)
			stream_sector_fill(buf + i * SECTOR, sector + i, seq);
		r = vio_blk_write(dev, sector, buf, count);
		if (r) {
			fail("stream-write", "write %llu (%u sectors at %llu): %s",
			     (unsigned long long)seq, count, (unsigned long long)sector,
			     vio_strerror(r));
			return;
		}
		printf("DW %llu %llu %u\n", (unsigned long long)seq, (unsigned long long)sector,
		       count);
		if (seq % k && seq != n)
			continue;
		r = vio_blk_flush(dev);
		if (r) {
			fail("stream-flush", "flush after write %llu: %s", (unsigned long long)seq,
			     vio_strerror(r));
			return;
		}
		printf("FLUSH %llu %llu\n", (unsigned long long)++flushes, (unsigned long long)seq);
		fflush(stdout);
	}
	pass("stream");
}

/*
 * Case hotplug: the stream's writes (stream_sector_fill, the same
 * schedule), HP_DEPTH of them in flight at once, while the host unplugs
 * the disk (QMP device_del: the slot's attention button) and plugs it in
 * again (device_add). Between completions the loop polls the PCI slots
 * (app_pci_hotplug_poll), as an application's service loop does. Every
 * write ends in exactly one line, printed when its callback ran:
 *
 *     HW <seq> <sector> <count>          completed: on the disk
 *     HF <seq> <sector> <count> <error>  ended with an error (may or may not be there)
 *
 * STREAMING after w completions tells the host to unplug; UNPLUGGED once
 * the device was removed and every write in flight had ended; REPLUGGED
 * when it is READY again; n more writes after that, a flush, and
 * HOTPLUG failed=<n> done=<n> after=<n>.
 */
#define HP_DEPTH 8u
#define HP_WAIT_NS (20000 * MS)

static struct {
	struct vio_blk_req req[HP_DEPTH];
	struct vio_sg sg[HP_DEPTH];
	uint64_t seq[HP_DEPTH];
	bool busy[HP_DEPTH];
	unsigned inflight, failed, done, after;
	bool back;
} hp;

static void hp_done(struct vio_blk_req *req)
{
	unsigned i = (unsigned)(req - hp.req);
	uint64_t seq = hp.seq[i];
	uint64_t sector = req->sector;
	unsigned count = hp.sg[i].len / SECTOR;

	hp.inflight--;
	hp.busy[i] = false;
	if (req->result) {
		hp.failed++;
		printf("HF %llu %llu %u %s\n", (unsigned long long)seq, (unsigned long long)sector,
		       count, errname(req->result));
		return;
	}
	hp.done++;
	hp.after += hp.back;
	printf("HW %llu %llu %u\n", (unsigned long long)seq, (unsigned long long)sector, count);
}

/* Issue write seq in request slot i (free). */
static int hp_issue(struct vio_device *dev, unsigned i, uint64_t seq)
{
	uint8_t *buf = data + PAGE + (size_t)i * 8 * SECTOR;
	uint32_t count = 1 + (uint32_t)(seq * 5 % 8);
	uint64_t sector = seq * 389 % (STREAM_REGION - 8);
	int r;

	for (uint32_t k = 0; k < count; k++)
		stream_sector_fill(buf + k * SECTOR, sector + k, seq);
	memset(&hp.req[i], 0, sizeof(hp.req[i]));
	hp.sg[i].buf = buf;
	hp.sg[i].len = count * SECTOR;
	hp.req[i].op = VIO_BLK_OP_WRITE;
	hp.req[i].sector = sector;
	hp.req[i].sg = &hp.sg[i];
	hp.req[i].nsg = 1;
	hp.req[i].done = hp_done;
	hp.seq[i] = seq;
	r = vio_blk_submit(dev, 0, &hp.req[i]);
	if (r == 0) {
		hp.inflight++;
		hp.busy[i] = true;
	}
	return r;
}

static void case_hotplug(void)
{
	struct vio_blk_info in;
	struct vio_device *dev = blk_dev(0, &in);
	uint64_t seq = 0, deadline = board_time_ns() + HP_WAIT_NS;
	uint64_t start_after = arg.w ? arg.w : 32, more = arg.n ? arg.n : 64, issued_after = 0;
	bool streaming = false, gone = false;

	if (!dev)
		return;
	if (!in.flush || in.capacity < STREAM_REGION) {
		fail("hotplug-device", "flush=%d capacity=%llu: want FLUSH and %u sectors", in.flush,
		     (unsigned long long)in.capacity, STREAM_REGION);
		return;
	}
	while (!(hp.back && issued_after >= more && hp.inflight == 0)) {
		bool ready = vio_dev_state(dev) == VIO_DEV_READY;

		if (board_time_ns() > deadline) {
			fail("hotplug", "still waiting after %llu ms: streaming=%d unplugged=%d back=%d "
			     "in flight %u", (unsigned long long)(HP_WAIT_NS / MS), streaming, gone,
			     hp.back, hp.inflight);
			return;
		}
		for (unsigned i = 0; ready && i < HP_DEPTH && !(hp.back && issued_after >= more);
		     i++) {
			int r;

			if (hp.busy[i])
				continue;
			r = hp_issue(dev, i, seq + 1);
			if (r == VIO_EAGAIN || r == VIO_ENOSPC)
				break;
			if (r) {
				/* The device left between the state check and the submit. */
				ready = false;
				break;
			}
			seq++;
			issued_after += hp.back;
		}
		/* The slots first: the writes just issued are in flight when the button is seen. */
		(void)app_pci_hotplug_poll();
		/* Every slot taken: sleep until a completion (spinning would slow QEMU down). */
		if (hp.inflight == HP_DEPTH)
			(void)vio_blk_wait(dev, 0, MS);
		else
			(void)vio_blk_poll(dev, 0);
		if (!streaming && hp.done >= start_after) {
			streaming = true;
			printf("STREAMING\n");
		}
		if (!gone && vio_dev_state(dev) != VIO_DEV_READY && hp.inflight == 0) {
			gone = true;
			printf("UNPLUGGED\n");
		}
		if (gone && !hp.back && vio_dev_state(dev) == VIO_DEV_READY) {
			hp.back = true;
			printf("REPLUGGED\n");
		}
		fflush(stdout);
		if (gone && !hp.back)
			idle_ms(1); /* nothing to do until the slot changes: do not spin */
	}
	if (vio_blk_flush(dev) != 0) {
		fail("hotplug-flush", "flush after the replug failed");
		return;
	}
	printf("HOTPLUG failed=%u done=%u after=%u\n", hp.failed, hp.done, hp.after);
	if (hp.after != more)
		fail("hotplug-after", "%u writes completed after the replug, want %llu", hp.after,
		     (unsigned long long)more);
	else
		pass("hotplug");
}

static const struct {
	const char *name;
	void (*run)(void);
} cases[] = {
	{ "read", case_read },
	{ "write", case_write },
	{ "readonly", case_readonly },
	{ "dwz", case_dwz },
	{ "id", case_id },
	{ "mq", case_mq },
	{ "eio", case_eio },
	{ "badinput", case_badinput },
	{ "timeout", case_timeout },
	{ "needsreset", case_needsreset },
	{ "stall", case_stall },
	{ "stream", case_stream },
	{ "hotplug", case_hotplug },
};

/* One line from the console, without waiting more than LINE_WAIT_NS. */
static int read_line(char *buf, size_t size)
{
	uint64_t deadline = board_time_ns() + LINE_WAIT_NS;
	size_t n = 0;

	while (board_time_ns() < deadline) {
		int c = board_console_getc();

		if (c < 0) {
			uintptr_t irq = board_irq_save();

			board_idle_until(board_time_ns() + MS);
			board_irq_restore(irq);
			continue;
		}
		if (c == '\r' || c == '\n') {
			if (!n)
				continue;
			buf[n] = '\0';
			return (int)n;
		}
		if (n + 1 < size)
			buf[n++] = (char)c;
	}
	return -1;
}

/* The next blank-separated word of *p (NUL-terminated in place), or NULL. */
static char *next_word(char **p)
{
	char *w = *p;

	while (*w == ' ')
		w++;
	if (!*w)
		return NULL;
	*p = w;
	while (**p && **p != ' ')
		(*p)++;
	if (**p)
		*(*p)++ = '\0';
	return w;
}

static void run_case(char *line)
{
	static const struct {
		const char *name;
		uint64_t *value;
	} params[] = {
		{ "s", &arg.s }, { "t", &arg.t }, { "e", &arg.e }, { "e2", &arg.e2 },
		{ "e3", &arg.e3 }, { "w", &arg.w }, { "f", &arg.f }, { "r", &arg.r },
		{ "ms", &arg.ms }, { "wait", &arg.wait }, { "k", &arg.k }, { "n", &arg.n },
	};
	char *p = line, *word;
	const char *name;
	size_t k;

	word = next_word(&p);
	name = next_word(&p);
	if (!word || strcmp(word, "CASE") || !name) {
		fail("case", "expected 'CASE <name> ...'");
		return;
	}
	while ((word = next_word(&p)) != NULL) {
		char *eq = strchr(word, '=');
		uint64_t v;

		if (!eq) {
			fail("case", "bad parameter '%s'", word);
			return;
		}
		*eq = '\0';
		v = strtoull(eq + 1, NULL, 0);
		for (k = 0; k < sizeof(params) / sizeof(params[0]); k++)
			if (!strcmp(word, params[k].name))
				break;
		if (k < sizeof(params) / sizeof(params[0]))
			*params[k].value = v;
		else
			fail("case", "unknown parameter '%s'", word);
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!strcmp(cases[i].name, name)) {
			printf("running %s\n", name);
			cases[i].run();
			return;
		}
	}
	fail("case", "unknown case '%s'", name);
}

int main(void)
{
	char line[LINE_MAX];
	int added;

	printf("vio-blk-test on %s\n", board_info()->name);
	added = app_vio_start();
	if (added < 0)
		fail("start", "app_vio_start: %s", vio_strerror(added));
	print_devices();
	printf("READY\n");
	fflush(stdout);
	if (read_line(line, sizeof(line)) < 0)
		fail("case", "no CASE line from the host");
	else
		run_case(line);
	report_finish();
}
