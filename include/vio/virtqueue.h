/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Virtqueues (VirtIO 1.2 section 2.5 onwards): an opaque queue used only
 * through the functions below, whatever the ring layout behind it. The split
 * ring (section 2.7) is src/core/virtqueue_split.c, the packed ring (2.8)
 * src/core/virtqueue_packed.c; nothing outside the ring files knows a
 * ring's layout, indices or size rules.
 *
 * "Cookie in, cookie out": a driver enqueues a scatter-gather chain with a
 * cookie (its request), kicks when it has queued what it wants, and gets the
 * cookie back with the number of bytes the device wrote when the device is
 * done. The device-readable ("out") segments come first, the device-writable
 * ("in") ones after, as the spec draws every request.
 *
 * Everything the device writes is checked before use: a used id out of
 * range, not in flight or never made available, a length beyond what was
 * offered, or a used index that runs ahead of what was made available marks
 * the queue broken, calls the failure hook (the device core then resets and
 * fails the device) and returns VIO_EPROTO; the queue then refuses all
 * further work with VIO_ESHUTDOWN.
 *
 * Context and locking: a queue is not thread-safe. Its owner serializes
 * every call on it (the device core's queue lock, vio_dev_lock, is the
 * usual tool). Nothing here waits, logs from interrupt context or allocates,
 * except vio_vq_create and vio_vq_destroy (task context, probe time). All
 * other calls are task context.
 */
#ifndef VIO_VIRTQUEUE_H
#define VIO_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "transport.h"

struct vio_port;
struct vio_vq; /* opaque */

/* One segment of a request. */
struct vio_sg {
	void *buf;     /* CPU address of the bytes */
	uint32_t len;  /* how many */
};

/* How vio_vq_create sets a queue up. */
struct vio_vq_config {
	unsigned index;       /* queue number on the device */
	/*
	 * Most entries the queue may have (the device's maximum, the driver's
	 * and the build's, whichever is least). The ring picks its size at or
	 * below it (a split ring: the largest power of two); vio_vq_size says.
	 */
	uint32_t max_size;
	uint32_t used_align;  /* from the transport's ring_align */
	bool legacy;          /* guest-native byte order instead of little-endian */
	bool event_idx;       /* VIRTIO_RING_F_EVENT_IDX was negotiated */
	bool packed;          /* VIRTIO_F_RING_PACKED was negotiated: the packed layout */
	/*
	 * A used length beyond the chain's writable bytes is clamped instead
	 * of failing the queue, as on legacy devices (2.7.8.1): for a queue
	 * whose device is known to report what it read (see struct
	 * vio_vq_opts.clamp_used_len).
	 */
	bool clamp_used_len;
	/*
	 * VIRTIO_RING_F_INDIRECT_DESC was negotiated: chains of 2 to
	 * indirect_max segments go into a per-entry indirect table and take one
	 * ring descriptor. 0: no indirect descriptors.
	 */
	uint16_t indirect_max;
	/* Tell the device new buffers are available. Task context. */
	void (*notify)(void *ctx, unsigned index);
	/* Called once when the device breaks the protocol on this queue. */
	void (*fail)(void *ctx);
	void *ctx;
};

/*
 * Allocate and lay out a queue for cfg (ring memory from the port's DMA
 * allocator) and store it in *out. Returns 0, VIO_EINVAL (a size of 0, a bad
 * alignment, no notify hook) or VIO_ENOMEM. Task context, probe time.
 */
int vio_vq_create(const struct vio_port *port, const struct vio_vq_config *cfg,
		  struct vio_vq **out);

/* Free the queue and its memory; the device must no longer use it. Task context. */
void vio_vq_destroy(struct vio_vq *vq);

/* The addresses the transport gives the device (descriptor, driver, device areas). */
void vio_vq_addrs(const struct vio_vq *vq, struct vio_queue_addrs *addrs);

unsigned vio_vq_index(const struct vio_vq *vq); /* queue number on the device */
unsigned vio_vq_size(const struct vio_vq *vq);  /* entries */
unsigned vio_vq_num_free(const struct vio_vq *vq); /* descriptors free now */
unsigned vio_vq_in_flight(const struct vio_vq *vq); /* chains queued and not yet dequeued */
/* Most segments one chain may have (the ring size, or the indirect table's). */
unsigned vio_vq_max_chain(const struct vio_vq *vq);

/*
 * Queue a chain of out device-readable segments followed by in
 * device-writable ones, with cookie (not NULL) to be returned on completion.
 * A chain of several segments uses an indirect table when the queue has
 * them (one ring descriptor; section 2.7.5.3). The device does not see it
 * before vio_vq_kick. Returns 0, VIO_EINVAL (no segments, a zero-length or
 * NULL segment, a NULL cookie, more segments than vio_vq_max_chain),
 * VIO_ENOSPC (not enough free descriptors now: complete some and retry) or
 * VIO_ESHUTDOWN (the queue is broken).
 */
int vio_vq_enqueue(struct vio_vq *vq, const struct vio_sg *sg, unsigned out, unsigned in,
		   void *cookie);

/*
 * Queue n chains of one segment each, all device-writable (dev_writes) or
 * all device-readable: chain i is sg[i] with cookies[i] (not NULL). What a
 * receive refill posts at once; each chain is tracked and checked on
 * completion as one from vio_vq_enqueue, and the arguments are checked
 * once per call rather than per chain. Returns how many were queued, in
 * order from the first: fewer than n (0 included) when the ring ran out of
 * free descriptors. VIO_EINVAL (a zero-length or NULL segment, a NULL
 * cookie or array) or VIO_ESHUTDOWN queue none. The device does not see
 * them before vio_vq_kick.
 */
int vio_vq_enqueue_bufs(struct vio_vq *vq, const struct vio_sg *sg, void *const *cookies,
			unsigned n, bool dev_writes);

/*
 * Publish what was queued since the last kick and notify the device unless
 * it asked not to be (section 2.7.10). Returns true when it notified.
 */
bool vio_vq_kick(struct vio_vq *vq);

/*
 * Take one completed chain. Returns 0 with *cookie and *len (bytes the
 * device says it wrote) set, VIO_EAGAIN when nothing is pending, VIO_EPROTO
 * when the device broke the protocol (the queue is then broken) or
 * VIO_ESHUTDOWN when it already was. When it returns VIO_EAGAIN with
 * interrupts enabled, the device has been asked to interrupt for the next
 * completion, with the barrier section 2.7.10 requires, so a completion
 * racing with the call is never missed.
 */
int vio_vq_dequeue(struct vio_vq *vq, void **cookie, uint32_t *len);

/* One completed chain, as vio_vq_dequeue_batch returns it. */
struct vio_vq_used {
	void *cookie; /* the cookie the chain was added with */
	uint32_t len; /* bytes the device says it wrote */
};

/*
 * vio_vq_dequeue for up to max (at least 1) chains at once, into used[] in
 * the order the device completed them; every chain is checked as
 * vio_vq_dequeue checks it. Returns how many it took (0: none pending),
 * VIO_EPROTO (the device broke the protocol: the queue is then broken),
 * VIO_ESHUTDOWN (it already was) or VIO_EINVAL. A chain that breaks the
 * protocol after good ones is not taken: the call returns the good ones
 * and the next call reports it. When it returns fewer than max with
 * interrupts enabled, the device has been asked to interrupt for the next
 * completion, as when vio_vq_dequeue returns VIO_EAGAIN: the caller need
 * not look again.
 */
int vio_vq_dequeue_batch(struct vio_vq *vq, struct vio_vq_used *used, unsigned max);

/* Whether the device has completed chains not yet dequeued. */
bool vio_vq_has_used(const struct vio_vq *vq);

/* Ask the device not to interrupt for this queue (a hint; section 2.7.7). */
void vio_vq_disable_irq(struct vio_vq *vq);

/*
 * Ask the device to interrupt again when it uses a buffer. Returns true if
 * chains completed meanwhile, which the caller must then dequeue itself
 * since no interrupt may come for them.
 */
bool vio_vq_enable_irq(struct vio_vq *vq);

/*
 * Prepared chains: a request shape used over and over (a block request's
 * header, data and status) is reserved once and re-armed per request, so
 * the per-request work is the segments that change and making the chain
 * available. A reserved chain keeps its ring descriptors for good (on the
 * split ring with indirect descriptors one ring descriptor and its
 * indirect table, without them a fixed run of descriptors); a packed ring
 * writes its descriptors from the chain at submit instead. In flight it is
 * tracked and checked like any other chain: vio_vq_dequeue returns its
 * cookie, and what the device writes about it is held to the same rules.
 *
 * The struct is the caller's memory (one per prepared request, kept as
 * long as the chain is reserved) and private to the virtqueue: the caller
 * never reads or writes its fields. Locking as for every call here.
 */
#define VIO_VQ_CHAIN_SEGS 4 /* most segments one prepared chain may have */

/* A prepared chain (the comment above). */
struct vio_vq_chain {
	void *table;                     /* the layout's: where the descriptors are */
	void *buf[VIO_VQ_CHAIN_SEGS];    /* the template: each segment's buffer, */
	uint32_t len[VIO_VQ_CHAIN_SEGS]; /* its length */
	uint32_t in_len;                 /* device-writable bytes in all */
	uint16_t idx[VIO_VQ_CHAIN_SEGS]; /* the layout's: descriptor of each segment */
	uint16_t id;                     /* the layout's: the chain's name in the ring */
	uint8_t nseg;                    /* 0: not reserved */
	uint8_t set;                     /* bit i: segment i was set */
	uint8_t dirty;                   /* bit i: set since the last submit */
	uint8_t writable;                /* bit i: segment i is device-writable */
};

/*
 * Ring descriptors a chain of nseg segments keeps while reserved (0: such a
 * chain cannot be reserved on this queue). Lets a driver decide whether
 * prepared requests leave room for the ones it builds with vio_vq_enqueue.
 */
unsigned vio_vq_chain_cost(const struct vio_vq *vq, unsigned nseg);

/*
 * Reserve a chain of nseg segments (1 to VIO_VQ_CHAIN_SEGS) for good into
 * chain (zeroed, or released). Every segment must be set
 * (vio_vq_chain_set) before the first submit. Returns 0, VIO_EINVAL (a bad
 * nseg, a chain already reserved), VIO_ENOSPC
 * (not enough free descriptors now) or VIO_ESHUTDOWN. Task context.
 */
int vio_vq_chain_reserve(struct vio_vq *vq, unsigned nseg, struct vio_vq_chain *chain);

/*
 * Give a reserved chain's descriptors back (it must not be in flight); the
 * struct may then be reserved again. Task context.
 */
void vio_vq_chain_release(struct vio_vq *vq, struct vio_vq_chain *chain);

/*
 * Point segment seg of a reserved chain at buf (len bytes, device-writable
 * when dev_writes). It keeps the value over any number of submits: set only
 * what changes. Only the chain's template changes here; the layout writes
 * it into the ring at the next submit, so setting a chain in flight changes
 * nothing the device sees. Returns 0 or VIO_EINVAL (no such segment, a NULL
 * buffer, a length of 0). Inline: it is the per-request call.
 */
static inline int vio_vq_chain_set(struct vio_vq *vq, struct vio_vq_chain *chain, unsigned seg,
				   void *buf, uint32_t len, bool dev_writes)
{
	uint8_t bit = (uint8_t)(1u << (seg & 7u));

	(void)vq;
	if (seg >= chain->nseg || !buf || !len)
		return VIO_EINVAL;
	/*
	 * The writable bytes are kept in the caller's (driver-private)
	 * memory: what the device could have written is never read back to
	 * learn a length.
	 */
	if (chain->writable & bit)
		chain->in_len -= chain->len[seg];
	if (dev_writes) {
		chain->in_len += len;
		chain->writable |= bit;
	} else {
		chain->writable &= (uint8_t)~bit;
	}
	chain->buf[seg] = buf;
	chain->len[seg] = len;
	chain->set |= bit;
	chain->dirty |= bit;
	return 0;
}

/*
 * Make a reserved chain available with cookie (not NULL), as vio_vq_enqueue
 * does; the device sees it after vio_vq_kick. Its segments are as last set;
 * on a platform without cache coherency the device-readable ones are
 * cleaned here, since their contents may have changed since they were set.
 * Returns 0, VIO_EINVAL (not reserved, a segment never set, a
 * device-writable segment before a readable one (2.7.4.2), a NULL cookie),
 * VIO_EBUSY (already in flight) or VIO_ESHUTDOWN.
 */
int vio_vq_chain_submit(struct vio_vq *vq, struct vio_vq_chain *chain, void *cookie);

/*
 * vio_vq_chain_set of segment seg and vio_vq_chain_submit in one call, the
 * per-request call of a prepared chain whose requests differ in one
 * segment (a block request's data): the layout writes that segment's
 * descriptor straight from the arguments. Same checks and results as the
 * two calls; on an error nothing changes (the template keeps its old
 * segment).
 */
int vio_vq_chain_submit_seg(struct vio_vq *vq, struct vio_vq_chain *chain, unsigned seg,
			    void *buf, uint32_t len, bool dev_writes, void *cookie);

/* Stop the queue for good: every later call refuses work (VIO_ESHUTDOWN). */
void vio_vq_break(struct vio_vq *vq);
bool vio_vq_is_broken(const struct vio_vq *vq);

/*
 * After the device was reset (and only then, section 3.3.1), take back one
 * chain the device never completed: returns its cookie and frees its
 * descriptors, or NULL when none is left. Task context.
 */
void *vio_vq_detach_unused(struct vio_vq *vq);

/*
 * After the device reset this one queue (2.6.1, VIRTIO_F_RING_RESET) and
 * every chain was detached: start the rings over, empty, at index 0 (the
 * device's state after a queue reset), the same memory and size, ready to
 * be enabled again. VIO_EBUSY while a chain is still in flight. Task
 * context.
 */
int vio_vq_reinit(struct vio_vq *vq);

#endif
