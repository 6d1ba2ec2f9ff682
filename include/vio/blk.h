/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-blk driver (block device, VirtIO 1.2 section 5.2).
 *
 * Addresses and counts are in 512-byte sectors, the protocol's unit, whatever
 * the device's logical block size (struct vio_blk_info.block_size); every
 * request must start and end on a logical block boundary.
 *
 * Two APIs over the same request queues:
 *
 * - Blocking calls (vio_blk_read, vio_blk_write, vio_blk_flush, ...) take any
 *   length, split it into requests the device accepts (seg_max, size_max,
 *   max_sectors), keep several of them in flight and return when all are
 *   done. They wait by interrupt or by polling, as the device core decides.
 *
 * - The asynchronous API: a caller-owned struct vio_blk_req describes one
 *   device request; vio_blk_queue adds it to a request queue, vio_blk_kick
 *   tells the device (so a batch costs one notification), vio_blk_submit does
 *   both. vio_blk_poll (or vio_blk_wait) takes completed requests off the
 *   queue and runs their callbacks in the caller's context, never in an
 *   interrupt handler. A request must fit the device's limits (no
 *   splitting); up to one request per ring entry may be in flight.
 *
 * Request headers, status bytes and ID buffers live in DMA memory allocated
 * once at probe time, one set per ring entry: nothing is allocated on the
 * I/O path. Data buffers are the caller's and are handed to the device as
 * they are: they must be memory the device can reach (port->virt_to_dma),
 * and on a platform without cache coherency they should be cache-line
 * aligned so that the invalidation after a read spares their neighbours.
 *
 * Every status byte and used length the device returns is checked: an
 * unknown status or a read that claims to have written less data than asked
 * marks the device failed (VIO_EPROTO); every request in flight then
 * completes with that error, and later calls return VIO_ESHUTDOWN.
 *
 * Completions are handled by each request queue's completion handler, which
 * the device core runs in task context: in the application's service loop
 * (vio_service) or in a thread blocked in a call on the same device. The
 * callbacks of asynchronous requests run there.
 *
 * Threads: every function may be called from several threads at once, on
 * the same queue or on different ones; queue and request-table updates are
 * made under vio_lock, and a blocking call waits on its queue's own event.
 * No function may be called from an interrupt handler, and none with
 * vio_lock held.
 */
#ifndef VIO_BLK_H
#define VIO_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device.h"
#include "virtqueue.h"

#define VIO_BLK_SECTOR_SIZE 512u /* the unit of every address and count here */
#define VIO_BLK_ID_LEN 20        /* longest device ID string, without its NUL */

/*
 * Run-time parameters, given with the driver's registration
 * (vio_driver_register(&vio_blk_driver, &params)); every field 0 means its
 * default, and the device's own limits lower them further.
 */
struct vio_blk_params {
	/* Request queues per device (VIRTIO_BLK_F_MQ); default CONFIG_VIO_BLK_QUEUES_MAX. */
	uint16_t max_queues;
	/* Entries per request queue; default CONFIG_VIO_QUEUE_SIZE_MAX. */
	uint32_t queue_size;
	/*
	 * Data segments in one request, at most VIO_BLK_SEGS_LIMIT; default
	 * VIO_BLK_SEGS_DEFAULT. It sizes the indirect descriptor tables: one of
	 * segments + 2 entries per ring entry when the device offers them.
	 */
	uint16_t max_segments;
	/* Largest read or write request built, in sectors; default VIO_BLK_REQ_SECTORS_DEFAULT. */
	uint32_t max_request_sectors;
	/* Timeout of the blocking calls, ms; default CONFIG_VIO_TIMEOUT_MS. */
	uint32_t timeout_ms;
};

#define VIO_BLK_SEGS_DEFAULT 16         /* data segments per request when params give none */
#define VIO_BLK_SEGS_LIMIT 32           /* a request's segments sit on the stack */
#define VIO_BLK_REQ_SECTORS_DEFAULT 2048u /* 1 MiB: a long transfer is pipelined */

/* The driver, for vio_driver_register. */
extern const struct vio_driver vio_blk_driver;

/* What the device said about itself, checked, and the limits in force. */
struct vio_blk_info {
	uint64_t capacity;            /* 512-byte sectors */
	uint32_t block_size;          /* logical block, bytes (blk_size or 512) */
	uint32_t physical_block_size; /* bytes (topology; else block_size) */
	uint32_t alignment_offset;    /* first aligned logical block (topology) */
	uint32_t min_io_size;         /* suggested minimum I/O, bytes (0: no hint) */
	uint32_t opt_io_size;         /* optimal I/O, bytes (0: no hint) */
	uint16_t cylinders;           /* geometry; 0 when the device gives none */
	uint8_t heads;                /* geometry: heads */
	uint8_t sectors_per_track;    /* geometry: sectors per track */

	uint32_t seg_max;             /* data segments per request the driver uses */
	uint32_t size_max;            /* bytes per segment (UINT32_MAX: no limit) */
	uint32_t max_sectors;         /* sectors per read/write request */

	uint16_t num_queues;          /* request queues in use */
	uint16_t queue_size;          /* entries of the smallest queue */

	bool read_only;               /* VIRTIO_BLK_F_RO: writes are refused */
	bool flush;                   /* VIRTIO_BLK_F_FLUSH negotiated */
	bool writeback;               /* the device caches writes: flush makes them stable */
	bool wce_config;              /* VIRTIO_BLK_F_CONFIG_WCE: writeback can be toggled */

	bool discard;                 /* VIRTIO_BLK_F_DISCARD */
	bool write_zeroes;            /* VIRTIO_BLK_F_WRITE_ZEROES */
	bool write_zeroes_may_unmap;  /* a write-zeroes with unmap may deallocate */
	uint32_t max_discard_sectors; /* per request */
	uint32_t discard_alignment;   /* sectors; requests are split on these boundaries */
	uint32_t max_write_zeroes_sectors; /* per request */
};

/* Request types of struct vio_blk_req. */
enum vio_blk_op {
	VIO_BLK_OP_READ = 0,
	VIO_BLK_OP_WRITE,
	VIO_BLK_OP_FLUSH,
	VIO_BLK_OP_DISCARD,
	VIO_BLK_OP_WRITE_ZEROES,
	VIO_BLK_OP_GET_ID,
};

/*
 * One device request of the asynchronous API, owned by the caller. Fill the
 * fields marked "in", then vio_blk_queue or vio_blk_submit it; it belongs to
 * the driver until its callback has run (the struct, its sg array and the
 * buffers must stay valid and untouched until then).
 */
struct vio_blk_req {
	enum vio_blk_op op;        /* in */
	uint64_t sector;           /* in: first sector (READ, WRITE, DISCARD, WRITE_ZEROES) */
	uint32_t count;            /* in: sectors (DISCARD, WRITE_ZEROES) */
	bool unmap;                /* in: WRITE_ZEROES may deallocate the range */
	const struct vio_sg *sg;   /* in: data (READ, WRITE); total a whole number of blocks */
	unsigned nsg;              /* in: entries of sg */
	char *id;                  /* in: GET_ID: receives the ID, VIO_BLK_ID_LEN + 1 bytes */
	/*
	 * in: called once when the request is done, with result set; may be
	 * NULL. Runs in task context where the device's deferred work runs
	 * (vio_service, vio_blk_poll, vio_blk_wait or a blocking call on the
	 * same device) and may queue new requests.
	 */
	void (*done)(struct vio_blk_req *req);
	void *ctx;                 /* in: for the caller */

	int result;                /* out: 0 or VIO_E... when done ran */

	/* Private to the driver. */
	uint32_t data_len;
	uint16_t slot;
	uint8_t queue;
	bool busy;
	bool internal;             /* a blocking call's own request */
};

/* 0 when dev is a live blk device (else VIO_ENODEV or VIO_ESHUTDOWN). Any context; no lock. */
int vio_blk_check(const struct vio_device *dev);

/*
 * Copy the device's information into *info. Returns 0 or an error as above.
 * Task context, any thread; takes vio_lock (the capacity and the cache
 * mode change with the configuration).
 */
int vio_blk_get_info(struct vio_device *dev, struct vio_blk_info *info);

/*
 * Blocking I/O. sector and count in 512-byte sectors; both must be
 * multiples of the logical block (block_size / 512). Returns 0 or:
 *   VIO_EINVAL   NULL buffer, zero count, misaligned for the device, a
 *                scatter list too fragmented for seg_max;
 *   VIO_ERANGE   beyond the capacity;
 *   VIO_EROFS    a write to a read-only device;
 *   VIO_EIO      the device reported an I/O error (VIRTIO_BLK_S_IOERR);
 *   VIO_ENOTSUP  the device does not support the request (VIRTIO_BLK_S_UNSUPP);
 *   VIO_EPROTO   the device broke the protocol; it is now failed;
 *   VIO_ETIMEDOUT no completion within the device's timeout; the device is
 *                then marked failed, since the requests cannot be taken back;
 *   VIO_ESHUTDOWN / VIO_ENODEV: not a live blk device.
 * After an error, part of a multi-request transfer may have been done.
 * Task context, any thread; uses queue 0, whose requests from several
 * threads interleave (one of them sleeps on the queue at a time, the
 * queue's mutex). Takes vio_lock briefly; never with it held.
 */
int vio_blk_read(struct vio_device *dev, uint64_t sector, void *buf, uint32_t count);
int vio_blk_write(struct vio_device *dev, uint64_t sector, const void *buf, uint32_t count);

/*
 * The same with a scatter-gather list (the segments' total length is the
 * transfer, a whole number of logical blocks) on request queue queue. The
 * same context and locking, on that queue.
 */
int vio_blk_readv(struct vio_device *dev, unsigned queue, uint64_t sector,
		  const struct vio_sg *sg, unsigned nsg);
int vio_blk_writev(struct vio_device *dev, unsigned queue, uint64_t sector,
		   const struct vio_sg *sg, unsigned nsg);

/*
 * Make every completed write stable (VIRTIO_BLK_T_FLUSH). Returns 0 at once
 * when the device caches nothing (no VIRTIO_BLK_F_FLUSH, or writethrough).
 * Errors as above. Task context, any thread; queue 0, as vio_blk_read.
 */
int vio_blk_flush(struct vio_device *dev);

/*
 * Discard (trim) count sectors from sector, or write zeroes over them
 * (unmap: the device may deallocate them, reads return zeroes either way).
 * Split to the device's limits. VIO_ENOTSUP when the device lacks the
 * feature; other errors as above. Task context, any thread; queue 0, as
 * vio_blk_read.
 */
int vio_blk_discard(struct vio_device *dev, uint64_t sector, uint64_t count);
int vio_blk_write_zeroes(struct vio_device *dev, uint64_t sector, uint64_t count, bool unmap);

/*
 * The device ID string (VIRTIO_BLK_T_GET_ID), NUL-terminated, in buf of len
 * bytes (at least VIO_BLK_ID_LEN + 1). Bytes that are not printable ASCII
 * are replaced by '?'. Returns its length (0 when the device has none),
 * VIO_EINVAL, VIO_ENOTSUP or an error as above. Task context, any thread;
 * queue 0, as vio_blk_read.
 */
int vio_blk_get_id(struct vio_device *dev, char *buf, size_t len);

/*
 * Write-back (true) or write-through (false) cache, as the device reports it
 * (VIRTIO_BLK_F_CONFIG_WCE); without that feature the mode the driver
 * assumes (write-back when VIRTIO_BLK_F_FLUSH is negotiated). Returns 0 or 1,
 * or an error as above. Task context, any thread; takes no lock (one
 * atomic read).
 */
int vio_blk_writeback(struct vio_device *dev);

/*
 * Switch the device's cache mode (needs VIRTIO_BLK_F_CONFIG_WCE, else
 * VIO_ENOTSUP). Going to write-through flushes first, so writes completed
 * before stay stable. VIO_EIO when the device does not take the new mode.
 * Task context; uses queue 0; no other request may be in flight on any
 * queue, nor may another thread change the mode at the same time.
 */
int vio_blk_set_writeback(struct vio_device *dev, bool writeback);

/*
 * How long a blocking call waits for the next completion before it gives
 * up (and fails the device); 0 restores CONFIG_VIO_TIMEOUT_MS. Task
 * context, any thread; calls already waiting may still use the old one.
 */
int vio_blk_set_timeout(struct vio_device *dev, uint64_t timeout_ns);

/*
 * Asynchronous API.
 *
 * vio_blk_queue checks req and adds it to request queue queue without
 * telling the device. Returns 0 (req is now the driver's), or, with req
 * untouched and still the caller's:
 *   VIO_EINVAL   a bad field (op, NULL or empty buffers, misaligned sector
 *                or length, op not supported by this request layout);
 *   VIO_ERANGE   beyond the capacity, or larger than one request may be
 *                (max_sectors, seg_max, max_discard_sectors, ...);
 *   VIO_EROFS    WRITE, DISCARD or WRITE_ZEROES on a read-only device;
 *   VIO_ENOTSUP  FLUSH, DISCARD or WRITE_ZEROES the device did not offer;
 *   VIO_EBUSY    req is already in flight;
 *   VIO_ENOSPC   the queue is full now: kick, complete some and retry
 *                (vio_blk_wait waits for room);
 *   VIO_ESHUTDOWN / VIO_ENODEV as above.
 * A FLUSH covers the writes completed before it was queued (5.2.6.2).
 * Task context, any thread; takes vio_lock briefly, never with it held.
 */
int vio_blk_queue(struct vio_device *dev, unsigned queue, struct vio_blk_req *req);

/*
 * Tell the device about everything queued on queue since the last kick (by
 * any thread). Task context, any thread; takes vio_lock, never with it held.
 */
void vio_blk_kick(struct vio_device *dev, unsigned queue);

/* vio_blk_queue and vio_blk_kick in one. The same context and locking. */
int vio_blk_submit(struct vio_device *dev, unsigned queue, struct vio_blk_req *req);

/*
 * Look at the device's rings now and run its deferred work (vio_dev_poll): the completed
 * requests of every queue are taken off the rings and their callbacks run,
 * without waiting. Returns how many requests of queue completed since the
 * last vio_blk_poll or vio_blk_wait on it counted them (0 when none), or
 * VIO_ESHUTDOWN / VIO_ENODEV; if the device failed, every request still in
 * flight on the queue is completed with the device's error first. With
 * several threads on a queue, each completion is counted by one of them.
 * Task context, any thread; the callbacks run in the caller's thread (or in
 * another one that runs the device's work at the time); never with
 * vio_lock held.
 */
int vio_blk_poll(struct vio_device *dev, unsigned queue);

/*
 * Kick queue, then wait up to timeout_ns until at least one of its requests
 * has completed that vio_blk_poll / vio_blk_wait did not count yet, running
 * the callbacks. Returns how many (0 at once when none is in flight),
 * VIO_ETIMEDOUT, or an error as for vio_blk_poll.
 * The requests stay the driver's after a timeout. Any thread's completion
 * on the queue ends the wait and is counted by one caller only: a thread
 * that waits for its own requests checks them (e.g. in their callbacks)
 * and waits again. Task context, any thread; one thread sleeps on a queue
 * at a time (vio_dev_wait); never with vio_lock held.
 */
int vio_blk_wait(struct vio_device *dev, unsigned queue, uint64_t timeout_ns);

/*
 * Requests of queue in flight (queued and not yet completed, any thread's);
 * 0 on a bad queue. Task context, any thread; takes vio_lock.
 */
unsigned vio_blk_in_flight(struct vio_device *dev, unsigned queue);

#endif
