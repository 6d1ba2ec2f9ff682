/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The block device model (VirtIO 1.2 section 5.2) for host tests: an
 * in-memory disk behind the simulated virtio-mmio device, configured like
 * QEMU 7.2's virtio-blk-device and checking the driver as strictly as the
 * spec allows.
 *
 * Every request is checked for what a driver MUST (and SHOULD) do: framing
 * (a 16-byte header alone in the first descriptor, the status byte alone in
 * the last), data lengths, segment counts and sizes within seg_max and
 * size_max, ranges inside the capacity and aligned to blk_size, no write
 * reaching a read-only disk, flush with sector 0 and no data, GET_ID with
 * 20 bytes, discard without unmap, ranges within the discard and
 * write-zeroes limits. A violation is a driver error (sim_error); the
 * request then gets the status QEMU would give it.
 *
 * Knobs make the device misbehave: hold requests, I/O errors at a sector, a
 * forced or missing status byte, odd used lengths. (The simulator serves a
 * queue in order; a test that wants completions out of order writes them
 * itself with sim_used_push.)
 */
#ifndef VIO_SIM_BLK_MODEL_H
#define VIO_SIM_BLK_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "sim.h"

#define SIM_BLK_TRACE 256   /* requests remembered, in arrival order */

/* What the used length of a completion says. */
enum sim_blk_len {
	SIM_BLK_LEN_FULL = 0,  /* every writable byte, as QEMU reports it */
	SIM_BLK_LEN_STATUS,    /* 1: as if only the status byte were written */
	SIM_BLK_LEN_ZERO,      /* 0, as some legacy devices report */
	SIM_BLK_LEN_SHORT,     /* one byte less than the writable bytes */
};

/* One request as the device saw it. */
struct sim_blk_op {
	uint32_t type;
	uint64_t sector;     /* header sector, or the range's for discard / write zeroes */
	uint32_t count;      /* sectors of data, or of the range */
	uint32_t flags;      /* discard / write-zeroes flags */
	unsigned nseg;       /* data descriptors (ranges for discard / write zeroes) */
	unsigned queue;
	uint8_t status;      /* what the device wrote */
};

struct sim_blk {
	/* the medium: set by sim_blk_attach */
	uint8_t *disk;
	uint64_t sectors;

	/* knobs */
	bool hold;             /* keep every request pending until cleared */
	int status;            /* -1: the real status; else written for every request */
	int status_once;       /* -1: none; else the next request's status byte */
	bool no_status;        /* never write the status byte */
	uint64_t ioerr_sector; /* reads and writes covering it fail with IOERR (UINT64_MAX: none) */
	enum sim_blk_len len;  /* used length reported */
	const char *serial;    /* GET_ID; NULL: "" */
	bool wce_stuck;        /* writes to writeback do not take */

	/* observed */
	unsigned reads, writes, flushes, discards, write_zeroes, get_ids, unknown;
	unsigned per_queue[SIM_MAX_QUEUES];
	unsigned max_segs;     /* most data descriptors in one read or write */
	uint32_t max_seg_len;  /* longest data descriptor */
	uint32_t max_bytes;    /* longest read or write */
	struct sim_blk_op trace[SIM_BLK_TRACE];
	unsigned ntrace;       /* requests served (the trace keeps the first SIM_BLK_TRACE) */
	uint8_t wce;           /* the cache mode as the device keeps it */
};

extern const struct sim_model sim_blk_model;

/*
 * Make d a blk device over disk (sectors * 512 bytes), with QEMU 7.2's
 * defaults: features SEG_MAX, GEOMETRY, BLK_SIZE, TOPOLOGY, FLUSH,
 * CONFIG_WCE, DISCARD, WRITE_ZEROES and the ring's INDIRECT_DESC and
 * EVENT_IDX (plus VERSION_1 on a modern device, SCSI on a legacy one);
 * seg_max 254, blk_size 512, write-back cache, discard and write zeroes
 * limited to 0x3fffff sectors and one range. Change any of it with
 * d->features and sim_config_set before the driver probes. b is zeroed.
 */
void sim_blk_attach(struct sim_dev *d, struct sim_blk *b, uint8_t *disk, uint64_t sectors);

#endif
