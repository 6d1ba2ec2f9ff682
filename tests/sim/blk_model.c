/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The block device model (blk_model.h): an in-memory disk that serves
 * virtio-blk requests (VirtIO 1.2 section 5.2.6) the way QEMU 7.2 does and
 * reports every step a driver must not take as a driver error.
 */
#include <stddef.h>
#include <string.h>

#include <vio/spec/virtio_blk.h>
#include <vio/spec/virtio_config.h>

#include "blk_model.h"

#define SECTOR 512u
#define CFG(field) ((unsigned)offsetof(struct virtio_blk_config, field))

/* Config and request fields: little-endian, or native on legacy; hosts are little-endian. */
static uint64_t get(const uint8_t *p, unsigned width)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < width; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static uint64_t cfg(const struct sim_dev *d, unsigned off, unsigned width)
{
	return get(d->config + off, width);
}

static bool negotiated(const struct sim_dev *d, unsigned bit)
{
	return (d->driver_features >> bit) & 1;
}

/* Copy between the disk and a list of segments. */
static void xfer(struct sim_blk *b, uint64_t sector, const struct sim_seg *seg, unsigned n,
		 bool to_disk)
{
	uint8_t *p = b->disk + sector * SECTOR;

	for (unsigned i = 0; i < n; i++) {
		if (to_disk)
			memcpy(p, seg[i].buf, seg[i].len);
		else
			memcpy(seg[i].buf, p, seg[i].len);
		p += seg[i].len;
	}
}

/* 5.2.6.1: whole sectors, inside the capacity; QEMU also wants whole blocks. */
static uint8_t check_range(struct sim_dev *d, const char *what, uint64_t sector, uint64_t bytes)
{
	struct sim_blk *b = d->model_ctx;
	uint64_t cap = cfg(d, CFG(capacity), 8);
	uint32_t bs = negotiated(d, VIRTIO_BLK_F_BLK_SIZE) ? (uint32_t)cfg(d, CFG(blk_size), 4)
							   : SECTOR;
	uint64_t count = bytes / SECTOR;

	if (!bytes || bytes % SECTOR) {
		sim_error("dev%d: blk %s of %llu bytes, not whole sectors", d->slot, what,
			  (unsigned long long)bytes);
		return VIRTIO_BLK_S_IOERR;
	}
	if (sector > cap || count > cap - sector || sector + count > b->sectors) {
		sim_error("dev%d: blk %s of sectors %llu+%llu beyond the capacity %llu", d->slot,
			  what, (unsigned long long)sector, (unsigned long long)count,
			  (unsigned long long)cap);
		return VIRTIO_BLK_S_IOERR;
	}
	if (bs >= SECTOR && ((sector * SECTOR) % bs || bytes % bs)) {
		sim_error("dev%d: blk %s of sectors %llu+%llu not aligned to blk_size %u", d->slot,
			  what, (unsigned long long)sector, (unsigned long long)count, bs);
		return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

/* seg_max and size_max, as far as they were negotiated. */
static void check_segs(struct sim_dev *d, const struct sim_seg *seg, unsigned n, uint64_t bytes)
{
	struct sim_blk *b = d->model_ctx;

	if (negotiated(d, VIRTIO_BLK_F_SEG_MAX) && n > cfg(d, CFG(seg_max), 4))
		sim_error("dev%d: blk request with %u data segments, seg_max %u", d->slot, n,
			  (unsigned)cfg(d, CFG(seg_max), 4));
	for (unsigned i = 0; i < n; i++) {
		if (negotiated(d, VIRTIO_BLK_F_SIZE_MAX) && seg[i].len > cfg(d, CFG(size_max), 4))
			sim_error("dev%d: blk segment of %u bytes, size_max %u", d->slot, seg[i].len,
				  (unsigned)cfg(d, CFG(size_max), 4));
		if (seg[i].len > b->max_seg_len)
			b->max_seg_len = seg[i].len;
	}
	if (n > b->max_segs)
		b->max_segs = n;
	if (bytes > b->max_bytes)
		b->max_bytes = (uint32_t)bytes;
}

static bool covers(const struct sim_blk *b, uint64_t sector, uint64_t bytes)
{
	return b->ioerr_sector >= sector && b->ioerr_sector < sector + bytes / SECTOR;
}

static uint8_t do_rw(struct sim_dev *d, const struct sim_chain *c, bool write, uint64_t sector,
		     struct sim_blk_op *op)
{
	struct sim_blk *b = d->model_ctx;
	const struct sim_seg *seg = write ? c->out + 1 : c->in;
	unsigned n = write ? c->nout - 1 : c->nin - 1;
	uint64_t bytes = write ? c->out_len - 16 : c->in_len - 1;
	uint8_t st;

	if (write ? c->nin != 1 : c->nout != 1)
		sim_error("dev%d: blk %s with data in the wrong direction", d->slot,
			  write ? "write" : "read");
	op->nseg = n;
	op->count = (uint32_t)(bytes / SECTOR);
	check_segs(d, seg, n, bytes);
	st = check_range(d, write ? "write" : "read", sector, bytes);
	if (st)
		return st;
	if (write && negotiated(d, VIRTIO_BLK_F_RO)) {
		/* 5.2.6.2: a read-only device fails writes and writes nothing */
		sim_error("dev%d: blk write reached a read-only device", d->slot);
		return VIRTIO_BLK_S_IOERR;
	}
	if (covers(b, sector, bytes))
		return VIRTIO_BLK_S_IOERR;
	xfer(b, sector, seg, n, write);
	return VIRTIO_BLK_S_OK;
}

static uint8_t do_dwz(struct sim_dev *d, const struct sim_chain *c, bool zeroes,
		      struct sim_blk_op *op)
{
	struct sim_blk *b = d->model_ctx;
	const char *what = zeroes ? "write-zeroes" : "discard";
	unsigned feature = zeroes ? VIRTIO_BLK_F_WRITE_ZEROES : VIRTIO_BLK_F_DISCARD;
	uint32_t max = (uint32_t)cfg(d, zeroes ? CFG(max_write_zeroes_sectors)
					       : CFG(max_discard_sectors), 4);
	uint32_t max_seg = (uint32_t)cfg(d, zeroes ? CFG(max_write_zeroes_seg)
						   : CFG(max_discard_seg), 4);
	unsigned nrange = 0;
	uint8_t st = VIRTIO_BLK_S_OK;

	if (!negotiated(d, feature)) {
		sim_error("dev%d: blk %s without its feature", d->slot, what);
		return VIRTIO_BLK_S_UNSUPP;
	}
	if (c->nin != 1)
		sim_error("dev%d: blk %s with device-writable data", d->slot, what);
	for (unsigned i = 1; i < c->nout; i++) {
		if (c->out[i].len % 16) {
			/* 5.2.6.1: whole struct virtio_blk_discard_write_zeroes */
			sim_error("dev%d: blk %s data of %u bytes", d->slot, what, c->out[i].len);
			return VIRTIO_BLK_S_IOERR;
		}
		for (uint32_t off = 0; off < c->out[i].len; off += 16) {
			const uint8_t *r = (const uint8_t *)c->out[i].buf + off;
			uint64_t sector = get(r, 8);
			uint32_t count = (uint32_t)get(r + 8, 4), flags = (uint32_t)get(r + 12, 4);

			nrange++;
			op->sector = sector;
			op->count = count;
			op->flags = flags;
			/* 5.2.6.2: unknown flags, or unmap on a discard: UNSUPP */
			if (flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP ||
			    (!zeroes && (flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP))) {
				sim_error("dev%d: blk %s with flags %#x", d->slot, what, flags);
				st = VIRTIO_BLK_S_UNSUPP;
				continue;
			}
			if (count > max) {
				sim_error("dev%d: blk %s of %u sectors, limit %u", d->slot, what,
					  count, max);
				st = VIRTIO_BLK_S_IOERR;
				continue;
			}
			if (check_range(d, what, sector, (uint64_t)count * SECTOR)) {
				st = VIRTIO_BLK_S_IOERR;
				continue;
			}
			/* Discarded sectors read back as a pattern nobody may rely on. */
			memset(b->disk + sector * SECTOR, zeroes ? 0 : 0xd5, (size_t)count * SECTOR);
		}
	}
	op->nseg = nrange;
	if (!nrange || nrange > max_seg) {
		sim_error("dev%d: blk %s with %u ranges, limit %u", d->slot, what, nrange, max_seg);
		return VIRTIO_BLK_S_IOERR;
	}
	return st;
}

static uint8_t do_get_id(struct sim_dev *d, const struct sim_chain *c)
{
	struct sim_blk *b = d->model_ctx;
	const char *serial = b->serial ? b->serial : "";
	size_t n = strlen(serial) + 1;

	/* 5.2.6.1: exactly 20 bytes of data */
	if (c->nout != 1 || c->nin != 2 || c->in[0].len != VIRTIO_BLK_ID_BYTES) {
		sim_error("dev%d: blk GET_ID with %u readable, %u writable buffers (%u bytes)",
			  d->slot, c->nout, c->nin, c->in_len);
		return VIRTIO_BLK_S_IOERR;
	}
	/* As QEMU: NUL-terminated only when shorter than 20 bytes. */
	memcpy(c->in[0].buf, serial, n < VIRTIO_BLK_ID_BYTES ? n : VIRTIO_BLK_ID_BYTES);
	return VIRTIO_BLK_S_OK;
}

static int blk_handle(struct sim_dev *d, unsigned q, const struct sim_chain *c)
{
	struct sim_blk *b = d->model_ctx;
	struct sim_blk_op op;
	uint32_t type, ioprio, len;
	uint64_t sector;
	uint8_t st;

	if (b->hold)
		return SIM_HOLD;

	/* 5.2.6.4 (legacy framing, and what every device accepts): header, data, status */
	if (c->nout < 1 || c->nin < 1 || c->out[0].len != 16 || c->in[c->nin - 1].len != 1) {
		sim_error("dev%d q%u: blk request framing: %u readable (first %u bytes), "
			  "%u writable (last %u bytes)", d->slot, q, c->nout,
			  c->nout ? c->out[0].len : 0, c->nin, c->nin ? c->in[c->nin - 1].len : 0);
		return 0;
	}
	type = (uint32_t)get(c->out[0].buf, 4);
	ioprio = (uint32_t)get((const uint8_t *)c->out[0].buf + 4, 4);
	sector = get((const uint8_t *)c->out[0].buf + 8, 8);
	if (ioprio)
		sim_error("dev%d: blk header reserved field %u", d->slot, ioprio);

	memset(&op, 0, sizeof(op));
	op.type = type;
	op.sector = sector;
	op.queue = q;
	switch (type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		st = do_rw(d, c, type == VIRTIO_BLK_T_OUT, sector, &op);
		if (type == VIRTIO_BLK_T_OUT)
			b->writes++;
		else
			b->reads++;
		break;
	case VIRTIO_BLK_T_FLUSH:
		/* 5.2.6.1: sector 0, no data */
		if (sector || c->nout != 1 || c->nin != 1)
			sim_error("dev%d: blk flush with sector %llu or data", d->slot,
				  (unsigned long long)sector);
		if (!negotiated(d, VIRTIO_BLK_F_FLUSH))
			sim_error("dev%d: blk flush without VIRTIO_BLK_F_FLUSH", d->slot);
		st = VIRTIO_BLK_S_OK;
		b->flushes++;
		break;
	case VIRTIO_BLK_T_GET_ID:
		if (sector)
			sim_error("dev%d: blk GET_ID with sector %llu", d->slot,
				  (unsigned long long)sector);
		st = do_get_id(d, c);
		b->get_ids++;
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		if (sector)
			sim_error("dev%d: blk discard/write-zeroes header sector %llu", d->slot,
				  (unsigned long long)sector);
		st = do_dwz(d, c, type == VIRTIO_BLK_T_WRITE_ZEROES, &op);
		if (type == VIRTIO_BLK_T_DISCARD)
			b->discards++;
		else
			b->write_zeroes++;
		break;
	default:
		sim_error("dev%d: blk request type %u", d->slot, type);
		st = VIRTIO_BLK_S_UNSUPP;
		b->unknown++;
		break;
	}
	if (b->status_once >= 0) {
		st = (uint8_t)b->status_once;
		b->status_once = -1;
	} else if (b->status >= 0) {
		st = (uint8_t)b->status;
	}
	if (!b->no_status)
		*(uint8_t *)c->in[c->nin - 1].buf = st;
	op.status = st;
	if (b->ntrace < SIM_BLK_TRACE)
		b->trace[b->ntrace] = op;
	b->ntrace++;
	if (q < SIM_MAX_QUEUES)
		b->per_queue[q]++;

	switch (b->len) {
	case SIM_BLK_LEN_STATUS:
		len = 1;
		break;
	case SIM_BLK_LEN_ZERO:
		len = 0;
		break;
	case SIM_BLK_LEN_SHORT:
		len = c->in_len - 1;
		break;
	default:
		len = c->in_len; /* QEMU: the whole writable part, whatever was written */
		break;
	}
	return (int)len;
}

/* 5.2.4: only writeback is writable (VIRTIO_BLK_F_CONFIG_WCE). */
static void blk_config_write(struct sim_dev *d, unsigned off, unsigned width)
{
	struct sim_blk *b = d->model_ctx;

	if (off != CFG(writeback) || width != 1) {
		sim_error("dev%d: blk config write of %u bytes at %u", d->slot, width, off);
		return;
	}
	if (!negotiated(d, VIRTIO_BLK_F_CONFIG_WCE))
		sim_error("dev%d: blk writeback written without VIRTIO_BLK_F_CONFIG_WCE", d->slot);
	if (b->wce_stuck)
		d->config[off] = b->wce;
	else
		b->wce = d->config[off];
}

const struct sim_model sim_blk_model = {
	.name = "blk",
	.handle = blk_handle,
	.config_write = blk_config_write,
};

void sim_blk_attach(struct sim_dev *d, struct sim_blk *b, uint8_t *disk, uint64_t sectors)
{
	memset(b, 0, sizeof(*b));
	b->disk = disk;
	b->sectors = sectors;
	b->status = -1;
	b->status_once = -1;
	b->ioerr_sector = UINT64_MAX;
	b->wce = 1;
	d->device_id = VIRTIO_ID_BLOCK;
	d->model = &sim_blk_model;
	d->model_ctx = b;
	d->features = (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_GEOMETRY) |
		      (1ull << VIRTIO_BLK_F_BLK_SIZE) | (1ull << VIRTIO_BLK_F_TOPOLOGY) |
		      (1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_BLK_F_CONFIG_WCE) |
		      (1ull << VIRTIO_BLK_F_DISCARD) | (1ull << VIRTIO_BLK_F_WRITE_ZEROES) |
		      (1ull << VIRTIO_RING_F_INDIRECT_DESC) | (1ull << VIRTIO_RING_F_EVENT_IDX);
	if (sim_is_legacy(d))
		d->features |= 1ull << VIRTIO_BLK_F_SCSI;
	else
		d->features |= 1ull << VIRTIO_F_VERSION_1;

	sim_config_set(d, CFG(capacity), 8, sectors);
	sim_config_set(d, CFG(size_max), 4, 0);
	sim_config_set(d, CFG(seg_max), 4, 254);
	sim_config_set(d, CFG(geometry.cylinders), 2, 1024);
	sim_config_set(d, CFG(geometry.heads), 1, 16);
	sim_config_set(d, CFG(geometry.sectors), 1, 63);
	sim_config_set(d, CFG(blk_size), 4, SECTOR);
	sim_config_set(d, CFG(topology.physical_block_exp), 1, 0);
	sim_config_set(d, CFG(topology.alignment_offset), 1, 0);
	sim_config_set(d, CFG(topology.min_io_size), 2, 0);
	sim_config_set(d, CFG(topology.opt_io_size), 4, 0);
	sim_config_set(d, CFG(writeback), 1, 1);
	sim_config_set(d, CFG(num_queues), 2, 1);
	sim_config_set(d, CFG(max_discard_sectors), 4, 0x3fffff);
	sim_config_set(d, CFG(max_discard_seg), 4, 1);
	sim_config_set(d, CFG(discard_sector_alignment), 4, 1);
	sim_config_set(d, CFG(max_write_zeroes_sectors), 4, 0x3fffff);
	sim_config_set(d, CFG(max_write_zeroes_seg), 4, 1);
	sim_config_set(d, CFG(write_zeroes_may_unmap), 1, 1);
	sim_config_set(d, CFG(unused1), 3, 0);
}
