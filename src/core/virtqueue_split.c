/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Split virtqueues (VirtIO 1.2 section 2.7): the layout, the indices and the
 * power-of-two size rule, behind the ops of virtqueue_priv.h.
 *
 * The driver-private state (free list, cookies, offered lengths, where each
 * chain sits in the available ring) lives in the slots, outside the memory
 * the device can write: nothing read back from the shared rings is trusted
 * until it has been checked against it.
 *
 * On a platform without cache coherency every field the driver writes is
 * cleaned before the device may look at it, and every field the device
 * writes is invalidated before the driver reads it.
 */
#include <string.h>

#include <vio/error.h>
#include <vio/io.h>
#include <vio/port.h>
#include <vio/spec/virtio_ring.h>

#include "core/log.h"
#include "core/virtqueue_priv.h"

#define VQ_SIZE_MAX 32768u /* 2.7: Queue Size is at most 32768 */
#define CACHE_LINE 64u     /* the largest line a non-coherent port is expected to have */

/* Per-chain bookkeeping, indexed by the chain's head descriptor. */
struct slot {
	void *cookie;      /* NULL when the head is not in flight */
	uint32_t in_len;   /* bytes the device may write into this chain */
	uint16_t ndesc;    /* ring descriptors the chain holds */
	uint16_t next;     /* free-list link, kept out of device-visible memory */
	uint16_t avail_pos; /* the available-ring position it was given */
	bool reserved;     /* a prepared chain's head: its descriptors stay put */
};

struct split {
	struct vio_vq vq; /* first: the common part */

	/* The shared ring memory, one block from the port's DMA allocator. */
	void *mem;
	size_t mem_size;
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint64_t desc_dma, avail_dma, used_dma;

	struct slot *slots;          /* size entries */
	struct virtq_desc *indirect; /* size tables of indirect_max entries, or NULL */
	size_t indirect_size;

	uint16_t mask;         /* size - 1 */
	uint16_t free_head;    /* first free descriptor */
	uint16_t avail_idx;    /* our copy of avail->idx */
	uint16_t kicked_idx;   /* avail_idx as last published */
	uint16_t last_used;    /* next used-ring entry to consume */
	uint16_t used_event;   /* the value last written to used_event */
};

static inline struct split *to_split(struct vio_vq *vq)
{
	return (struct split *)vq;
}

static inline const struct split *to_csplit(const struct vio_vq *vq)
{
	return (const struct split *)vq;
}

/* Legacy devices use the guest's byte order, modern ones little-endian (2.7.1). */
static inline uint16_t to_dev16(const struct split *s, uint16_t v)
{
	return vio_wire16(s->vq.cfg.legacy, v);
}

static inline uint32_t to_dev32(const struct split *s, uint32_t v)
{
	return vio_wire32(s->vq.cfg.legacy, v);
}

static inline uint64_t to_dev64(const struct split *s, uint64_t v)
{
	return vio_wire64(s->vq.cfg.legacy, v);
}

static inline uint16_t from_dev16(const struct split *s, uint16_t v)
{
	return vio_wire16(s->vq.cfg.legacy, v);
}

static inline uint32_t from_dev32(const struct split *s, uint32_t v)
{
	return vio_wire32(s->vq.cfg.legacy, v);
}

static inline void clean(const struct split *s, const void *p, size_t len)
{
	const struct vio_port *port = s->vq.port;

	if (port->cache_clean)
		port->cache_clean(port->ctx, p, len);
}

static inline void invalidate(const struct split *s, const void *p, size_t len)
{
	const struct vio_port *port = s->vq.port;

	if (port->cache_invalidate)
		port->cache_invalidate(port->ctx, p, len);
}

/* 2.7.6 / 2.7.8: the event fields sit right after each ring. */
static inline uint16_t *used_event_field(struct split *s)
{
	return &s->avail->ring[s->vq.size];
}

static inline uint16_t *avail_event_field(struct split *s)
{
	return (uint16_t *)&s->used->ring[s->vq.size];
}

/* A driver-written 16-bit ring field: store it and make it visible to the device. */
static inline void publish16(struct split *s, uint16_t *field, uint16_t v)
{
	vio_shared_write16(field, to_dev16(s, v));
	clean(s, field, sizeof(*field));
}

static inline uint16_t used_idx(const struct split *s)
{
	invalidate(s, &s->used->idx, sizeof(uint16_t));
	return from_dev16(s, vio_shared_read16(&s->used->idx));
}

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* 2.7.2: descriptor table, then avail ring, then used ring at used_align. */
static size_t ring_layout(uint32_t size, uint32_t used_align, size_t *avail_off, size_t *used_off)
{
	size_t desc_bytes = sizeof(struct virtq_desc) * size;
	size_t avail_bytes = sizeof(uint16_t) * (3 + size); /* flags, idx, ring[], used_event */
	size_t used_bytes = sizeof(uint16_t) * 3 + sizeof(struct virtq_used_elem) * size;

	*avail_off = desc_bytes;
	*used_off = align_up(desc_bytes + avail_bytes, used_align);
	return *used_off + used_bytes;
}

static void split_destroy(struct vio_vq *vq)
{
	struct split *s = to_split(vq);
	const struct vio_port *port = vq->port;

	if (s->mem)
		port->dma_free(port->ctx, s->mem, s->mem_size);
	if (s->slots)
		port->dma_free(port->ctx, s->slots, sizeof(*s->slots) * vq->size);
	if (s->indirect)
		port->dma_free(port->ctx, s->indirect, s->indirect_size);
	port->dma_free(port->ctx, s, sizeof(*s));
}

static int split_create(const struct vio_port *port, const struct vio_vq_config *cfg,
			struct vio_vq **out)
{
	uint32_t used_align = cfg->used_align < VIRTQ_USED_ALIGN ? VIRTQ_USED_ALIGN : cfg->used_align;
	uint32_t size = 1;
	size_t avail_off, used_off, align;
	struct split *s;

	if (used_align & (used_align - 1))
		return VIO_EINVAL;
	/*
	 * Without cache coherency the used ring (the device's) must not share
	 * a cache line with the avail ring (the driver's): a clean of one
	 * would write stale bytes over the other.
	 */
	if (port->cache_clean && used_align < CACHE_LINE)
		used_align = CACHE_LINE;
	/* 2.7: a split queue's size is a power of two, at most 32768 */
	while (size * 2 <= cfg->max_size && size * 2 <= VQ_SIZE_MAX)
		size *= 2;

	s = port->dma_alloc(port->ctx, sizeof(*s), sizeof(void *));
	if (!s)
		return VIO_ENOMEM;
	memset(s, 0, sizeof(*s));
	s->vq.ops = &vio_vq_split_ops;
	s->vq.port = port;
	s->vq.cfg = *cfg;
	s->vq.cfg.used_align = used_align;
	s->vq.size = size;
	s->mask = (uint16_t)(size - 1);
	if (s->vq.cfg.indirect_max > size)
		s->vq.cfg.indirect_max = (uint16_t)size;

	s->mem_size = ring_layout(size, used_align, &avail_off, &used_off);
	align = used_align > VIRTQ_DESC_ALIGN ? used_align : VIRTQ_DESC_ALIGN;
	s->mem = port->dma_alloc(port->ctx, s->mem_size, align);
	s->slots = port->dma_alloc(port->ctx, sizeof(*s->slots) * size, sizeof(void *));
	if (s->vq.cfg.indirect_max > 1) {
		s->indirect_size = sizeof(struct virtq_desc) * s->vq.cfg.indirect_max * size;
		s->indirect = port->dma_alloc(port->ctx, s->indirect_size, VIRTQ_DESC_ALIGN);
	} else {
		s->vq.cfg.indirect_max = 0;
	}
	if (!s->mem || !s->slots || (s->indirect_size && !s->indirect)) {
		split_destroy(&s->vq);
		return VIO_ENOMEM;
	}
	memset(s->mem, 0, s->mem_size);
	memset(s->slots, 0, sizeof(*s->slots) * size);

	s->desc = s->mem;
	s->avail = (struct virtq_avail *)((char *)s->mem + avail_off);
	s->used = (struct virtq_used *)((char *)s->mem + used_off);
	s->desc_dma = vq_dma_addr(port, s->desc);
	s->avail_dma = vq_dma_addr(port, s->avail);
	s->used_dma = vq_dma_addr(port, s->used);

	for (uint32_t i = 0; i < size; i++)
		s->slots[i].next = (uint16_t)(i + 1);
	s->vq.num_free = size;
	clean(s, s->mem, s->mem_size);
	*out = &s->vq;
	return 0;
}

static void split_addrs(const struct vio_vq *vq, struct vio_queue_addrs *a)
{
	const struct split *s = to_csplit(vq);

	a->desc = s->desc_dma;
	a->avail = s->avail_dma;
	a->used = s->used_dma;
}

/*
 * fill_any() on a platform with no DMA map and no cache maintenance (QEMU, most
 * MCUs): the same descriptors with no call in the loop, so the compiler
 * keeps it in scratch registers instead of saving a dozen around the calls.
 */
static uint16_t fill_plain(struct split *s, struct virtq_desc *table, const struct vio_sg *sg,
			   unsigned out, unsigned n, uint64_t *in_len)
{
	const struct slot *slots = s->slots;
	struct virtq_desc *ring = s->desc;
	uint16_t idx = table ? 0 : s->free_head, last = idx;
	uint64_t writable = 0;

	for (unsigned i = 0; i < n; i++) {
		struct virtq_desc *d = table ? &table[i] : &ring[idx];
		uint16_t next = table ? (uint16_t)(i + 1) : slots[idx].next;
		uint16_t flags = i + 1 < n ? VIRTQ_DESC_F_NEXT : 0;

		if (i >= out) {
			flags |= VIRTQ_DESC_F_WRITE;
			writable += sg[i].len;
		}
		d->addr = to_dev64(s, (uint64_t)(uintptr_t)sg[i].buf);
		d->len = to_dev32(s, sg[i].len);
		d->flags = to_dev16(s, flags);
		d->next = to_dev16(s, next);
		last = idx;
		idx = next;
	}
	*in_len += writable;
	return last;
}

/*
 * Write n segments as descriptors: into the ring's free list (table NULL),
 * or into an indirect table, linked in order. Returns the last ring
 * descriptor used and adds the device-writable bytes to *in_len.
 */
__attribute__((noinline)) static uint16_t fill_any(struct split *s, struct virtq_desc *table, const struct vio_sg *sg,
			 unsigned out, unsigned n, uint64_t *in_len)
{
	const struct vio_port *port = s->vq.port;
	uint16_t idx = table ? 0 : s->free_head;

	for (unsigned i = 0; i < n; i++) {
		struct virtq_desc *d = table ? &table[i] : &s->desc[idx];
		uint16_t next = table ? (uint16_t)(i + 1) : s->slots[idx].next;
		uint16_t flags = 0;

		if (i >= out) {
			flags |= VIRTQ_DESC_F_WRITE;
			*in_len += sg[i].len;
		}
		if (i + 1 < n)
			flags |= VIRTQ_DESC_F_NEXT;
		d->addr = to_dev64(s, vq_dma_addr(port, sg[i].buf));
		d->len = to_dev32(s, sg[i].len);
		d->flags = to_dev16(s, flags);
		d->next = to_dev16(s, next);
		if (port->cache_clean) {
			if (i < out)
				port->cache_clean(port->ctx, sg[i].buf, sg[i].len);
			port->cache_clean(port->ctx, d, sizeof(*d));
		}
		if (i + 1 < n)
			idx = next;
	}
	return idx;
}

/*
 * fill_plain() into an indirect table: linked by position, nothing of the
 * ring's free list to follow, so one pass of plain stores per segment
 * (the header and frame of every transmitted network frame come here).
 */
__attribute__((always_inline)) static inline void fill_table_plain(struct split *s, struct virtq_desc *table, const struct vio_sg *sg,
			     unsigned out, unsigned n, uint64_t *in_len)
{
	uint64_t writable = 0;

	for (unsigned i = 0; i < n; i++) {
		uint16_t flags = i + 1 < n ? VIRTQ_DESC_F_NEXT : 0;

		if (i >= out) {
			flags |= VIRTQ_DESC_F_WRITE;
			writable += sg[i].len;
		}
		table[i].addr = to_dev64(s, (uint64_t)(uintptr_t)sg[i].buf);
		table[i].len = to_dev32(s, sg[i].len);
		table[i].flags = to_dev16(s, flags);
		table[i].next = to_dev16(s, (uint16_t)(i + 1));
	}
	*in_len += writable;
}

static uint16_t fill(struct split *s, struct virtq_desc *table, const struct vio_sg *sg,
		     unsigned out, unsigned n, uint64_t *in_len)
{
	const struct vio_port *port = s->vq.port;

	if (!port->virt_to_dma && !port->cache_clean)
		return fill_plain(s, table, sg, out, n, in_len);
	return fill_any(s, table, sg, out, n, in_len);
}

static int split_enqueue(struct vio_vq *vq, const struct vio_sg *sg, unsigned out, unsigned in,
			 void *cookie)
{
	struct split *s = to_split(vq);
	const struct vio_port *port = vq->port;
	unsigned n = out + in;
	uint64_t in_len = 0;
	uint16_t head, last;
	bool indirect = vq->cfg.indirect_max && n > 1 && n <= vq->cfg.indirect_max;

	if ((indirect ? 1 : n) > vq->num_free)
		return VIO_ENOSPC;

	head = s->free_head;
	if (indirect) {
		/* 2.7.5.3: one ring descriptor points at this head's own table */
		struct virtq_desc *table = s->indirect + (size_t)head * vq->cfg.indirect_max;
		struct virtq_desc *d = &s->desc[head];

		if (!port->virt_to_dma && !port->cache_clean)
			fill_table_plain(s, table, sg, out, n, &in_len);
		else
			fill_any(s, table, sg, out, n, &in_len);
		d->addr = to_dev64(s, vq_dma_addr(port, table));
		d->len = to_dev32(s, (uint32_t)(sizeof(*table) * n));
		d->flags = to_dev16(s, VIRTQ_DESC_F_INDIRECT);
		clean(s, d, sizeof(*d));
		last = head;
		n = 1;
	} else {
		last = fill(s, NULL, sg, out, n, &in_len);
	}
	s->free_head = s->slots[last].next;
	vq->num_free -= n;
	vq->in_flight++;

	s->slots[head].cookie = cookie;
	s->slots[head].ndesc = (uint16_t)n;
	s->slots[head].in_len = in_len > UINT32_MAX ? UINT32_MAX : (uint32_t)in_len;
	s->slots[head].avail_pos = s->avail_idx;

	/* 2.7.13.2: the head goes into the next free avail ring entry */
	s->avail->ring[s->avail_idx & s->mask] = to_dev16(s, head);
	s->avail_idx++;
	return 0;
}

/*
 * Chains of one segment each, as many as fit (vio_vq_enqueue_bufs): the
 * ring's bookkeeping per chain and nothing else. Where the port maps
 * addresses or maintains caches, split_enqueue does each.
 */
static int split_enqueue_bufs(struct vio_vq *vq, const struct vio_sg *sg, void *const *cookies,
			      unsigned n, bool dev_writes)
{
	struct split *s = to_split(vq);
	const struct vio_port *port = vq->port;
	struct slot *slots = s->slots;
	const uint16_t flags = to_dev16(s, dev_writes ? VIRTQ_DESC_F_WRITE : 0);
	uint16_t head = s->free_head, avail = s->avail_idx;
	unsigned k = n < vq->num_free ? n : vq->num_free;

	if (port->virt_to_dma || port->cache_clean) {
		for (unsigned i = 0; i < k; i++)
			(void)split_enqueue(vq, &sg[i], !dev_writes, dev_writes, cookies[i]);
		return (int)k;
	}
	for (unsigned i = 0; i < k; i++) {
		struct virtq_desc *d = &s->desc[head];
		struct slot *slot = &slots[head];

		/* 2.7.5: no NEXT flag, so the device never follows d->next */
		d->addr = to_dev64(s, (uint64_t)(uintptr_t)sg[i].buf);
		d->len = to_dev32(s, sg[i].len);
		d->flags = flags;
		slot->cookie = cookies[i];
		slot->ndesc = 1;
		slot->in_len = dev_writes ? sg[i].len : 0;
		slot->avail_pos = avail;
		/* 2.7.13.2: the head goes into the next free avail ring entry */
		s->avail->ring[avail & s->mask] = to_dev16(s, head);
		avail++;
		head = slot->next;
	}
	s->free_head = head;
	s->avail_idx = avail;
	vq->num_free -= k;
	vq->in_flight += k;
	return (int)k;
}

/*
 * The kick; hooks: the port maintains caches (a constant, so that the copy
 * for a coherent port calls nothing but the notify).
 */
__attribute__((always_inline)) static inline bool kick(struct vio_vq *vq, const bool hooks)
{
	struct split *s = to_split(vq);
	uint16_t old = s->kicked_idx, new = s->avail_idx;
	bool need;

	if (old == new)
		return false;

	/*
	 * The new ring entries (their descriptors were cleaned as written):
	 * one range, two when they wrap, not a call per entry.
	 */
	if (hooks && vq->port->cache_clean) {
		uint16_t first = old & s->mask, n = (uint16_t)(new - old);
		uint32_t tail = vq->size - first;

		if (n > tail) {
			clean(s, &s->avail->ring[first], sizeof(uint16_t) * tail);
			clean(s, &s->avail->ring[0], sizeof(uint16_t) * (n - tail));
		} else {
			clean(s, &s->avail->ring[first], sizeof(uint16_t) * n);
		}
	}
	/* 2.7.13.3: descriptors and ring entries are visible before the index */
	vio_wmb();
	vio_shared_write16(&s->avail->idx, to_dev16(s, new));
	if (hooks)
		clean(s, &s->avail->idx, sizeof(uint16_t));
	s->kicked_idx = new;

	/* 2.7.13.4: the index is visible before we read the suppression fields */
	vio_mb();
	if (vq->cfg.event_idx) {
		if (hooks)
			invalidate(s, avail_event_field(s), sizeof(uint16_t));
		need = virtq_need_event(from_dev16(s, vio_shared_read16(avail_event_field(s))),
					new, old);
	} else {
		if (hooks)
			invalidate(s, &s->used->flags, sizeof(uint16_t));
		need = !(from_dev16(s, vio_shared_read16(&s->used->flags)) & VIRTQ_USED_F_NO_NOTIFY);
	}
	if (need)
		vq->cfg.notify(vq->cfg.ctx, vq->cfg.index);
	return need;
}

__attribute__((noinline)) static bool kick_any(struct vio_vq *vq)
{
	return kick(vq, true);
}

static bool split_kick(struct vio_vq *vq)
{
	const struct vio_port *port = vq->port;

	if (port->cache_clean || port->cache_invalidate)
		return kick_any(vq);
	return kick(vq, false);
}

static bool split_has_used(const struct vio_vq *vq)
{
	const struct split *s = to_csplit(vq);

	return used_idx(s) != s->last_used;
}

/*
 * 2.7.10: with the event index, ask for an interrupt at the next used entry.
 * The store must be visible before the used index is read again: the device
 * does the mirror image (stores the index, then reads used_event), and
 * without a full barrier on both sides each can miss the other's store.
 * Returns whether entries arrived meanwhile.
 */
__attribute__((always_inline)) static inline bool arm_event(struct split *s, const bool hooks)
{
	if (s->used_event == s->last_used)
		return false;
	s->used_event = s->last_used;
	vio_shared_write16(used_event_field(s), to_dev16(s, s->last_used));
	if (hooks)
		clean(s, used_event_field(s), sizeof(uint16_t));
	vio_mb();
	if (hooks)
		invalidate(s, &s->used->idx, sizeof(uint16_t));
	return from_dev16(s, vio_shared_read16(&s->used->idx)) != s->last_used;
}

/* hooks: the port may maintain caches; without, the copy calls nothing. */

/* Return the descriptors of the chain at head to the free list, following our own links. */
static void free_descs(struct split *s, struct slot *slot, uint16_t head)
{
	uint16_t last = head;

	for (uint16_t i = 1; i < slot->ndesc; i++)
		last = s->slots[last].next;
	s->slots[last].next = s->free_head;
	s->free_head = head;
	s->vq.num_free += slot->ndesc;
	slot->ndesc = 0;
}

/*
 * The chain at head is no longer in flight; a prepared chain keeps its
 * descriptors. Inline: it is part of every dequeue.
 */
__attribute__((always_inline)) static inline void *release(struct split *s, uint16_t head)
{
	struct slot *slot = &s->slots[head];
	void *cookie = slot->cookie;

	if (!slot->reserved)
		free_descs(s, slot, head);
	s->vq.in_flight--;
	slot->cookie = NULL;
	slot->in_len = 0;
	return cookie;
}

/*
 * Take up to max used entries, each checked against what the driver
 * posted (the slots, outside device-writable memory) before anything of it
 * is believed: the used index is read once per run of entries, not once
 * per entry, and the ring's indices stay in registers over the run. When
 * the ring is caught up with interrupts on, the device is asked for an
 * interrupt at the next entry (arm_event) and what came meanwhile is
 * taken too, so a short batch means nothing is pending and the caller need
 * not look again. An entry that breaks the protocol after good ones is
 * left where it is: the next call starts with it and reports it, exactly
 * as one dequeue per entry would.
 */
__attribute__((always_inline)) static inline int dequeue_batch(struct vio_vq *vq,
								struct vio_vq_used *out,
								unsigned max, const bool hooks)
{
	struct split *s = to_split(vq);
	struct slot *slots = s->slots;
	struct virtq_used_elem *ring = s->used->ring;
	const uint32_t size = vq->size;
	const uint16_t mask = s->mask, avail = s->avail_idx, kicked = s->kicked_idx;
	/* Available-ring positions not yet published: the device has none of them (2.7.13). */
	const uint16_t unpublished = (uint16_t)(avail - kicked);
	uint16_t last = s->last_used, idx;
	uint32_t id = 0, written = 0;
	const char *why;
	unsigned n = 0;

	for (;;) {
		if (hooks)
			invalidate(s, &s->used->idx, sizeof(uint16_t));
		idx = from_dev16(s, vio_shared_read16(&s->used->idx));
		/* The device cannot have used more chains than were made available. */
		if ((uint16_t)(idx - last) > (uint16_t)(kicked - last)) {
			why = "used index ran ahead of the available ones";
			id = idx;
			written = last;
			goto bad;
		}
		/* 2.7.14: read the entries only after the index that covers them */
		vio_rmb();
		for (; last != idx && n < max; n++, last++) {
			struct virtq_used_elem *e = &ring[last & mask];
			struct slot *slot;

			if (hooks)
				invalidate(s, e, sizeof(*e));
			id = from_dev32(s, vio_shared_read32(&e->id));
			written = from_dev32(s, vio_shared_read32(&e->len));
			if (id >= size) {
				why = "used id out of range";
				written = size;
				goto bad;
			}
			slot = &slots[id];
			if (!slot->cookie) {
				why = "used id not in flight";
				written = 0;
				goto bad;
			}
			if ((uint16_t)(avail - slot->avail_pos) <= unpublished) {
				why = "used id never made available";
				written = 0;
				goto bad;
			}
			if (written > slot->in_len) {
				/*
				 * 2.7.8.1 (legacy interface): many legacy devices set
				 * len wrongly, and drivers are told to ignore it;
				 * clamp it so it can never index past the buffers. A
				 * modern device is held to it, unless its driver says
				 * the queue's lengths mean nothing.
				 */
				if (!vq->cfg.legacy && !vq->cfg.clamp_used_len) {
					why = "used length beyond the writable buffers";
					id = written;
					written = slot->in_len;
					goto bad;
				}
				written = slot->in_len;
			}
			out[n].cookie = release(s, (uint16_t)id);
			out[n].len = written;
		}
		s->last_used = last;
		/*
		 * Full (the caller comes back), or caught up with no interrupt
		 * to ask for: done.
		 */
		if (n == max || vq->irq_off || !vq->cfg.event_idx || !arm_event(s, hooks))
			return (int)n;
	}

bad:
	s->last_used = last;
	if (n)
		return (int)n; /* the next call starts with this one and reports it */
	return vio_vq_protocol_error(vq, why, id, written);
}

/*
 * Without cache maintenance (QEMU, most MCUs) the loop calls nothing, so
 * the compiler keeps it in scratch registers, as for fill_plain.
 */
__attribute__((noinline)) static int dequeue_batch_any(struct vio_vq *vq,
						       struct vio_vq_used *out, unsigned max)
{
	return dequeue_batch(vq, out, max, true);
}

static int split_dequeue_batch(struct vio_vq *vq, struct vio_vq_used *out, unsigned max)
{
	const struct vio_port *port = vq->port;

	if (port->cache_invalidate || port->cache_clean)
		return dequeue_batch_any(vq, out, max);
	return dequeue_batch(vq, out, max, false);
}

static void split_disable_irq(struct vio_vq *vq)
{
	struct split *s = to_split(vq);

	vq->irq_off = true;
	if (vq->cfg.event_idx) {
		/* 2.7.10: flags must stay 0; move the event index out of reach */
		s->used_event = (uint16_t)(s->last_used - 1);
		publish16(s, used_event_field(s), s->used_event);
	} else {
		publish16(s, &s->avail->flags, VIRTQ_AVAIL_F_NO_INTERRUPT);
	}
}

static bool split_enable_irq(struct vio_vq *vq)
{
	struct split *s = to_split(vq);

	vq->irq_off = false;
	if (vq->cfg.event_idx) {
		s->used_event = s->last_used;
		publish16(s, used_event_field(s), s->last_used);
	} else {
		publish16(s, &s->avail->flags, 0);
	}
	/* The store is visible before we look for completions (2.7.10). */
	vio_mb();
	return !vq->broken && used_idx(s) != s->last_used;
}

static void *split_detach_unused(struct vio_vq *vq)
{
	struct split *s = to_split(vq);

	for (uint32_t i = 0; i < vq->size; i++)
		if (s->slots[i].cookie)
			return release(s, (uint16_t)i);
	return NULL;
}

/*
 * The queue was reset on its own (2.6.1) and every chain detached: the
 * rings start over at index 0, as the device now expects. The descriptor
 * table stays as it is: free descriptors on the free list, a prepared
 * chain's with what it wrote once.
 */
static void split_reinit(struct vio_vq *vq)
{
	struct split *s = to_split(vq);
	size_t off = (size_t)((char *)s->avail - (char *)s->mem);

	/* The device wrote the used ring last: drop stale lines before writing over it. */
	invalidate(s, s->avail, s->mem_size - off);
	memset(s->avail, 0, s->mem_size - off);
	s->avail_idx = 0;
	s->kicked_idx = 0;
	s->last_used = 0;
	s->used_event = 0;
	if (vq->irq_off)
		split_disable_irq(vq);
	clean(s, s->avail, s->mem_size - off);
}

/* ------------------------------------------------------------------ */
/* Prepared chains */

/* With indirect descriptors a chain of 2 to indirect_max segments takes one (2.7.5.3). */
static bool chain_indirect(const struct vio_vq *vq, unsigned nseg)
{
	return vq->cfg.indirect_max && nseg > 1 && nseg <= vq->cfg.indirect_max;
}

static unsigned split_chain_cost(const struct vio_vq *vq, unsigned nseg)
{
	if (chain_indirect(vq, nseg))
		return 1;
	return nseg <= vq->size ? nseg : 0;
}

/*
 * Take the descriptors off the free list for good and write what never
 * changes: the links, the NEXT flags and, for an indirect chain, the ring
 * descriptor pointing at the head's own table. The segments' addresses and
 * lengths come with vio_vq_chain_set.
 */
static int split_chain_reserve(struct vio_vq *vq, unsigned nseg, struct vio_vq_chain *chain)
{
	struct split *s = to_split(vq);
	bool indirect = chain_indirect(vq, nseg);
	uint16_t head = s->free_head, last = head, idx = head;

	if ((indirect ? 1 : nseg) > vq->num_free)
		return VIO_ENOSPC;
	if (indirect) {
		struct virtq_desc *table = s->indirect + (size_t)head * vq->cfg.indirect_max;
		struct virtq_desc *d = &s->desc[head];

		for (unsigned i = 0; i < nseg; i++) {
			table[i].addr = 0;
			table[i].len = 0;
			table[i].flags = to_dev16(s, i + 1 < nseg ? VIRTQ_DESC_F_NEXT : 0);
			table[i].next = to_dev16(s, (uint16_t)(i + 1));
			chain->idx[i] = (uint16_t)i;
		}
		clean(s, table, sizeof(*table) * nseg);
		d->addr = to_dev64(s, vq_dma_addr(vq->port, table));
		d->len = to_dev32(s, (uint32_t)(sizeof(*table) * nseg));
		d->flags = to_dev16(s, VIRTQ_DESC_F_INDIRECT);
		d->next = 0;
		clean(s, d, sizeof(*d));
		chain->table = table;
		s->slots[head].ndesc = 1;
	} else {
		/* A run off the free list, linked in the ring as in our own links. */
		for (unsigned i = 0; i < nseg; i++) {
			struct virtq_desc *d = &s->desc[idx];
			uint16_t next = s->slots[idx].next;

			d->addr = 0;
			d->len = 0;
			d->flags = to_dev16(s, i + 1 < nseg ? VIRTQ_DESC_F_NEXT : 0);
			d->next = to_dev16(s, next);
			clean(s, d, sizeof(*d));
			chain->idx[i] = idx;
			last = idx;
			idx = next;
		}
		chain->table = s->desc;
		s->slots[head].ndesc = (uint16_t)nseg;
	}
	s->free_head = s->slots[last].next;
	vq->num_free -= s->slots[head].ndesc;
	s->slots[head].reserved = true;
	chain->id = head;
	chain->nseg = (uint8_t)nseg;
	return 0;
}

static void split_chain_release(struct vio_vq *vq, struct vio_vq_chain *chain)
{
	struct split *s = to_split(vq);
	struct slot *slot = &s->slots[chain->id];

	slot->reserved = false;
	free_descs(s, slot, chain->id);
}

/*
 * Write the segments set since the last submit from the chain's template.
 * No call in the loop where the port has no hooks, as for fill_plain.
 */
static void chain_write_plain(struct split *s, struct vio_vq_chain *chain)
{
	struct virtq_desc *table = chain->table;
	unsigned nseg = chain->nseg, dirty = chain->dirty, w = chain->writable;

	for (unsigned i = 0; dirty; i++, dirty >>= 1) {
		struct virtq_desc *d = table + chain->idx[i];
		uint16_t flags = i + 1 < nseg ? VIRTQ_DESC_F_NEXT : 0;

		if (!(dirty & 1u))
			continue;
		if (w & (1u << i))
			flags |= VIRTQ_DESC_F_WRITE;
		d->addr = to_dev64(s, (uint64_t)(uintptr_t)chain->buf[i]);
		d->len = to_dev32(s, chain->len[i]);
		d->flags = to_dev16(s, flags);
	}
	chain->dirty = 0;
}

/* The same with the port's address map and cache maintenance. */
__attribute__((noinline)) static void chain_write_any(struct split *s,
						      struct vio_vq_chain *chain)
{
	const struct vio_port *port = s->vq.port;
	struct virtq_desc *table = chain->table;
	unsigned nseg = chain->nseg;

	for (unsigned i = 0; i < nseg; i++) {
		struct virtq_desc *d = table + chain->idx[i];
		uint16_t flags = i + 1 < nseg ? VIRTQ_DESC_F_NEXT : 0;

		if (!(chain->dirty & (1u << i)))
			continue;
		if (chain->writable & (1u << i))
			flags |= VIRTQ_DESC_F_WRITE;
		d->addr = to_dev64(s, vq_dma_addr(port, chain->buf[i]));
		d->len = to_dev32(s, chain->len[i]);
		d->flags = to_dev16(s, flags);
		clean(s, d, sizeof(*d));
	}
	chain->dirty = 0;
}

/* The device-readable buffers: their contents may have changed since they were set. */
__attribute__((noinline)) static void chain_clean_out(struct split *s,
						      const struct vio_vq_chain *chain)
{
	const struct vio_port *port = s->vq.port;

	for (unsigned i = 0; i < chain->nseg; i++)
		if (!(chain->writable & (1u << i)))
			port->cache_clean(port->ctx, chain->buf[i], chain->len[i]);
}

/* The chain's head into the next available ring entry, as split_enqueue does. */
static inline void chain_publish(struct split *s, struct slot *slot, uint16_t head,
				 const struct vio_vq_chain *chain, void *cookie)
{
	s->vq.in_flight++;
	slot->cookie = cookie;
	slot->in_len = chain->in_len;
	slot->avail_pos = s->avail_idx;
	/* 2.7.13.2: the head goes into the next free avail ring entry */
	s->avail->ring[s->avail_idx & s->mask] = to_dev16(s, head);
	s->avail_idx++;
}

/* split_chain_submit where the port maps addresses or maintains caches. */
__attribute__((noinline)) static int chain_submit_any(struct split *s,
						      struct vio_vq_chain *chain, void *cookie)
{
	uint16_t head = chain->id;
	struct slot *slot = &s->slots[head];

	if (slot->cookie)
		return VIO_EBUSY;
	chain_write_any(s, chain);
	if (s->vq.port->cache_clean)
		chain_clean_out(s, chain);
	chain_publish(s, slot, head, chain, cookie);
	return 0;
}

/*
 * Only what changed is written: most submits write one descriptor and the
 * available ring entry. Without port hooks this calls nothing.
 */
static int split_chain_submit(struct vio_vq *vq, struct vio_vq_chain *chain, void *cookie)
{
	struct split *s = to_split(vq);
	const struct vio_port *port = vq->port;
	uint16_t head = chain->id;
	struct slot *slot = &s->slots[head];

	if (port->virt_to_dma || port->cache_clean)
		return chain_submit_any(s, chain, cookie);
	if (slot->cookie)
		return VIO_EBUSY;
	chain_write_plain(s, chain);
	chain_publish(s, slot, head, chain, cookie);
	return 0;
}

/*
 * vio_vq_chain_set of one segment and split_chain_submit in one: the checks
 * of both on the arguments and the template, the template kept as the set
 * would keep it, and, where the port has no hooks and nothing else
 * changed, that segment's descriptor written straight from the arguments.
 */
/* One segment's descriptor of a prepared chain, written from the arguments (no port hooks). */
static void write_seg_desc(struct split *s, const struct vio_vq_chain *chain, unsigned seg,
			   const void *buf, uint32_t len, bool dev_writes)
{
	struct virtq_desc *d = (struct virtq_desc *)chain->table + chain->idx[seg];

	d->addr = to_dev64(s, (uint64_t)(uintptr_t)buf);
	d->len = to_dev32(s, len);
	d->flags = to_dev16(s, (uint16_t)((seg + 1u < chain->nseg ? VIRTQ_DESC_F_NEXT : 0) |
					  (dev_writes ? VIRTQ_DESC_F_WRITE : 0)));
}

__attribute__((noinline)) static int submit_seg_general(struct vio_vq *vq,
							struct vio_vq_chain *chain, unsigned seg,
							void *buf, uint32_t len, bool dev_writes,
							void *cookie)
{
	struct split *s = to_split(vq);
	const struct vio_port *port = vq->port;
	uint16_t head = chain->id;
	struct slot *slot;
	int rc;

	rc = vq_chain_seg_check(chain, seg, buf, len, dev_writes, cookie);
	if (rc)
		return rc;
	slot = &s->slots[head];
	if (slot->cookie)
		return VIO_EBUSY;
	vq_chain_seg_set(chain, seg, buf, len, dev_writes);
	if (port->virt_to_dma || port->cache_clean)
		return chain_submit_any(s, chain, cookie);
	if (chain->dirty == 1u << seg) {
		write_seg_desc(s, chain, seg, buf, len, dev_writes);
		chain->dirty = 0;
	} else {
		chain_write_plain(s, chain);
	}
	chain_publish(s, slot, head, chain, cookie);
	return 0;
}

/*
 * The same in the steady state of a prepared chain, the blk request's
 * case: nothing set since the last submit (so the template as it stands
 * passed that submit's checks), no port hooks, and the segment keeps its
 * direction. Then only the arguments need checking, the writable byte
 * count moves by the length's change, and one descriptor and the
 * available entry are written. Anything else goes the general way.
 */
static int split_chain_submit_seg(struct vio_vq *vq, struct vio_vq_chain *chain, unsigned seg,
				  void *buf, uint32_t len, bool dev_writes, void *cookie)
{
	struct split *s = to_split(vq);
	const struct vio_port *port = vq->port;
	unsigned nseg = chain->nseg;
	uint16_t head = chain->id;
	struct slot *slot;

	if (chain->dirty || port->virt_to_dma || port->cache_clean || seg >= nseg || !buf ||
	    !len || !cookie || chain->set != (1u << nseg) - 1 ||
	    !(chain->writable & (1u << seg)) != !dev_writes)
		return submit_seg_general(vq, chain, seg, buf, len, dev_writes, cookie);
	slot = &s->slots[head];
	if (slot->cookie)
		return VIO_EBUSY;
	if (dev_writes)
		chain->in_len += len - chain->len[seg];
	chain->buf[seg] = buf;
	chain->len[seg] = len;
	write_seg_desc(s, chain, seg, buf, len, dev_writes);
	chain_publish(s, slot, head, chain, cookie);
	return 0;
}

const struct vio_vq_ops vio_vq_split_ops = {
	.create = split_create,
	.destroy = split_destroy,
	.addrs = split_addrs,
	.enqueue = split_enqueue,
	.enqueue_bufs = split_enqueue_bufs,
	.kick = split_kick,
	.dequeue_batch = split_dequeue_batch,
	.has_used = split_has_used,
	.disable_irq = split_disable_irq,
	.enable_irq = split_enable_irq,
	.detach_unused = split_detach_unused,
	.reinit = split_reinit,
	.chain_cost = split_chain_cost,
	.chain_reserve = split_chain_reserve,
	.chain_release = split_chain_release,
	.chain_submit = split_chain_submit,
	.chain_submit_seg = split_chain_submit_seg,
};
