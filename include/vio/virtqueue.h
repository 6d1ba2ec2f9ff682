/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Virtqueues (VirtIO 1.2 section 2.7, split rings).
 *
 * "Cookie in, cookie out": a driver enqueues a scatter-gather chain with a
 * cookie (its request), notifies when it has queued what it wants, and gets
 * the cookie back with the number of bytes the device wrote when the device
 * is done. The device-readable ("out") segments come first, the
 * device-writable ("in") ones after, as the spec draws every request.
 *
 * Everything the device writes is checked before use: a used id out of range
 * or not in flight, a length beyond what was offered or a used index that
 * runs ahead of what was made available marks the queue broken, calls the
 * failure hook (the device core marks the device failed) and returns
 * VIO_EPROTO; the queue then refuses all further work with VIO_ESHUTDOWN.
 *
 * Locking: a queue is not thread-safe; its owner (the driver) serializes
 * calls. No function here waits or allocates except vio_vq_create and
 * vio_vq_destroy (probe time).
 */
#ifndef VIO_VIRTQUEUE_H
#define VIO_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec/virtio_ring.h"
#include "transport.h"

struct vio_port;

/* One segment of a request. */
struct vio_sg {
	void *buf;
	uint32_t len;
};

/* Per-descriptor-chain bookkeeping, private to the virtqueue. */
struct vio_vq_slot {
	void *cookie;     /* NULL when the chain head is not in flight */
	uint32_t in_len;  /* bytes the device may write into this chain */
	uint16_t ndesc;   /* descriptors the chain holds */
	uint16_t next;    /* free-list link, kept out of device-visible memory */
};

struct vio_vq_config {
	unsigned index;       /* queue number on the device */
	uint32_t size;        /* entries; a power of two */
	uint32_t used_align;  /* from the transport's ring_align */
	bool legacy;          /* guest-native byte order instead of little-endian */
	bool event_idx;       /* VIRTIO_RING_F_EVENT_IDX was negotiated */
	/*
	 * VIRTIO_RING_F_INDIRECT_DESC was negotiated: chains of 2 to
	 * indirect_max segments (at most size) go into a per-head indirect
	 * table and take one ring descriptor. 0: no indirect descriptors.
	 */
	uint16_t indirect_max;
	/* Tell the device new buffers are available. Any context. */
	void (*notify)(void *ctx, unsigned index);
	/* Called once when the device breaks the protocol on this queue. */
	void (*fail)(void *ctx);
	void *ctx;
};

struct vio_vq {
	const struct vio_port *port;
	struct vio_vq_config cfg;

	/* The shared ring memory, one block from the port's DMA allocator. */
	void *mem;
	size_t mem_size;
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint64_t desc_dma, avail_dma, used_dma;

	struct vio_vq_slot *slots; /* size entries, indexed by chain head */
	struct virtq_desc *indirect; /* size tables of indirect_max entries, or NULL */
	size_t indirect_size;

	uint16_t free_head;   /* first free descriptor */
	uint16_t num_free;    /* free descriptors */
	uint16_t avail_idx;   /* our copy of avail->idx */
	uint16_t kicked_idx;  /* avail_idx at the last notification */
	uint16_t last_used;   /* next used-ring entry to consume */
	bool irq_off;         /* the driver asked for no interrupts */
	bool broken;
};

/*
 * Allocate and lay out the ring memory for cfg->size entries (section 2.7.2
 * layout, used ring aligned to cfg->used_align) and initialize vq. The
 * addresses for the transport are in vq->desc_dma/avail_dma/used_dma.
 * Returns 0, VIO_EINVAL (size not a power of two or above 32768) or
 * VIO_ENOMEM. Task context, probe time.
 */
int vio_vq_create(struct vio_vq *vq, const struct vio_port *port, const struct vio_vq_config *cfg);

/* Free the ring memory; the device must no longer use it. Task context. */
void vio_vq_destroy(struct vio_vq *vq);

/*
 * Queue a chain of out device-readable segments followed by in
 * device-writable ones, with cookie (not NULL) to be returned on completion.
 * A chain of several segments uses an indirect table when the queue has
 * them (one ring descriptor; section 2.7.5.3). The device does not see it
 * before vio_vq_kick. Returns 0, VIO_EINVAL (no segments, a zero-length
 * segment, a NULL cookie, more segments than the ring or an indirect table
 * holds), VIO_ENOSPC (not enough free descriptors now: complete some and
 * retry) or VIO_ESHUTDOWN (the queue is broken).
 */
int vio_vq_enqueue(struct vio_vq *vq, const struct vio_sg *sg, unsigned out, unsigned in,
		   void *cookie);

/*
 * Publish what was queued since the last kick and notify the device unless
 * it asked not to be (VIRTQ_USED_F_NO_NOTIFY, or the event index, section
 * 2.7.10). Returns true when it notified.
 */
bool vio_vq_kick(struct vio_vq *vq);

/*
 * Take one completed chain. Returns 0 with *cookie and *len (bytes the
 * device says it wrote) set, VIO_EAGAIN when nothing is pending, VIO_EPROTO
 * when the device broke the protocol (the queue is then broken) or
 * VIO_ESHUTDOWN when it already was.
 */
int vio_vq_dequeue(struct vio_vq *vq, void **cookie, uint32_t *len);

/* Whether the device has completed chains not yet dequeued. */
bool vio_vq_has_used(const struct vio_vq *vq);

/*
 * Ask the device not to interrupt for this queue (a hint; section 2.7.7),
 * e.g. while the driver polls.
 */
void vio_vq_disable_irq(struct vio_vq *vq);

/*
 * Ask the device to interrupt again when it uses a buffer. Returns true if
 * chains completed meanwhile, which the caller must then dequeue itself
 * since no interrupt may come for them.
 */
bool vio_vq_enable_irq(struct vio_vq *vq);

/* Free descriptors now. */
static inline unsigned vio_vq_num_free(const struct vio_vq *vq)
{
	return vq->num_free;
}

/* Chains in flight (queued and not yet dequeued). */
unsigned vio_vq_in_flight(const struct vio_vq *vq);

#endif
