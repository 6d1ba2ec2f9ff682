/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Split virtqueues (VirtIO 1.2 section 2.7).
 *
 * The driver-private state (free list, cookies, offered lengths) lives in
 * vq->slots, outside the memory the device can write: nothing read back from
 * the shared rings is trusted until it has been checked against it.
 */
#include <string.h>

#include <vio/error.h>
#include <vio/io.h>
#include <vio/port.h>
#include <vio/virtqueue.h>

#include "log.h"

#define VQ_SIZE_MAX 32768u /* 2.7: Queue Size is at most 32768 */

/* Legacy devices use the guest's byte order, modern ones little-endian (2.7.1). */
static inline uint16_t to_dev16(const struct vio_vq *vq, uint16_t v)
{
	return vq->cfg.legacy ? v : vio_cpu_to_le16(v);
}

static inline uint32_t to_dev32(const struct vio_vq *vq, uint32_t v)
{
	return vq->cfg.legacy ? v : vio_cpu_to_le32(v);
}

static inline uint64_t to_dev64(const struct vio_vq *vq, uint64_t v)
{
	return vq->cfg.legacy ? v : vio_cpu_to_le64(v);
}

static inline uint16_t from_dev16(const struct vio_vq *vq, uint16_t v)
{
	return vq->cfg.legacy ? v : vio_le16_to_cpu(v);
}

static inline uint32_t from_dev32(const struct vio_vq *vq, uint32_t v)
{
	return vq->cfg.legacy ? v : vio_le32_to_cpu(v);
}

/* Shared fields the device writes are read exactly once, through volatile. */
static inline uint16_t read_shared16(const uint16_t *p)
{
	return *(const volatile uint16_t *)p;
}

static inline uint32_t read_shared32(const uint32_t *p)
{
	return *(const volatile uint32_t *)p;
}

static inline void write_shared16(uint16_t *p, uint16_t v)
{
	*(volatile uint16_t *)p = v;
}

/* 2.7.6 / 2.7.8: the event fields sit right after each ring. */
static inline uint16_t *used_event(struct vio_vq *vq)
{
	return &vq->avail->ring[vq->cfg.size];
}

static inline uint16_t *avail_event(struct vio_vq *vq)
{
	return (uint16_t *)&vq->used->ring[vq->cfg.size];
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

int vio_vq_create(struct vio_vq *vq, const struct vio_port *port, const struct vio_vq_config *cfg)
{
	size_t avail_off, used_off, align;
	uint32_t used_align = cfg->used_align < VIRTQ_USED_ALIGN ? VIRTQ_USED_ALIGN : cfg->used_align;

	memset(vq, 0, sizeof(*vq));
	if (!port || !cfg->size || cfg->size > VQ_SIZE_MAX || (cfg->size & (cfg->size - 1)) ||
	    (used_align & (used_align - 1)) || !cfg->notify || cfg->indirect_max > cfg->size)
		return VIO_EINVAL;

	vq->port = port;
	vq->cfg = *cfg;
	vq->cfg.used_align = used_align;
	vq->mem_size = ring_layout(cfg->size, used_align, &avail_off, &used_off);
	align = used_align > VIRTQ_DESC_ALIGN ? used_align : VIRTQ_DESC_ALIGN;
	vq->mem = port->dma_alloc(port->ctx, vq->mem_size, align);
	vq->slots = port->dma_alloc(port->ctx, sizeof(*vq->slots) * cfg->size, sizeof(void *));
	if (cfg->indirect_max > 1) {
		vq->indirect_size = sizeof(struct virtq_desc) * cfg->indirect_max * cfg->size;
		vq->indirect = port->dma_alloc(port->ctx, vq->indirect_size, VIRTQ_DESC_ALIGN);
	} else {
		vq->cfg.indirect_max = 0;
	}
	if (!vq->mem || !vq->slots || (vq->indirect_size && !vq->indirect)) {
		vio_vq_destroy(vq);
		return VIO_ENOMEM;
	}
	memset(vq->mem, 0, vq->mem_size);
	memset(vq->slots, 0, sizeof(*vq->slots) * cfg->size);

	vq->desc = vq->mem;
	vq->avail = (struct virtq_avail *)((char *)vq->mem + avail_off);
	vq->used = (struct virtq_used *)((char *)vq->mem + used_off);
	vq->desc_dma = port->virt_to_dma(port->ctx, vq->desc);
	vq->avail_dma = port->virt_to_dma(port->ctx, vq->avail);
	vq->used_dma = port->virt_to_dma(port->ctx, vq->used);

	for (uint32_t i = 0; i < cfg->size; i++)
		vq->slots[i].next = (uint16_t)(i + 1);
	vq->free_head = 0;
	vq->num_free = (uint16_t)cfg->size;
	if (port->cache_clean)
		port->cache_clean(port->ctx, vq->mem, vq->mem_size);
	return 0;
}

void vio_vq_destroy(struct vio_vq *vq)
{
	const struct vio_port *port = vq->port;

	if (port && vq->mem)
		port->dma_free(port->ctx, vq->mem, vq->mem_size);
	if (port && vq->slots)
		port->dma_free(port->ctx, vq->slots, sizeof(*vq->slots) * vq->cfg.size);
	if (port && vq->indirect)
		port->dma_free(port->ctx, vq->indirect, vq->indirect_size);
	memset(vq, 0, sizeof(*vq));
}

/* The device broke the protocol on this queue: stop using it for good. */
static int vq_fail(struct vio_vq *vq, const char *what, uint32_t a, uint32_t b)
{
	if (!vq->broken) {
		vq->broken = true;
		vio_err("virtqueue %u: %s (%u, %u); queue stopped", vq->cfg.index, what, a, b);
		if (vq->cfg.fail)
			vq->cfg.fail(vq->cfg.ctx);
	}
	return VIO_EPROTO;
}

/*
 * Write n segments as descriptors: into the ring's free list (table NULL),
 * or into an indirect table, linked in order. Returns the last ring
 * descriptor used and adds the device-writable bytes to *in_len.
 */
static uint16_t fill(struct vio_vq *vq, struct virtq_desc *table, const struct vio_sg *sg,
		     unsigned out, unsigned n, uint64_t *in_len)
{
	const struct vio_port *port = vq->port;
	uint16_t idx = table ? 0 : vq->free_head;

	for (unsigned i = 0; i < n; i++) {
		struct virtq_desc *d = table ? &table[i] : &vq->desc[idx];
		uint16_t next = table ? (uint16_t)(i + 1) : vq->slots[idx].next;
		uint16_t flags = 0;

		if (i >= out) {
			flags |= VIRTQ_DESC_F_WRITE;
			*in_len += sg[i].len;
		}
		if (i + 1 < n)
			flags |= VIRTQ_DESC_F_NEXT;
		d->addr = to_dev64(vq, port->virt_to_dma(port->ctx, sg[i].buf));
		d->len = to_dev32(vq, sg[i].len);
		d->flags = to_dev16(vq, flags);
		d->next = to_dev16(vq, next);
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

int vio_vq_enqueue(struct vio_vq *vq, const struct vio_sg *sg, unsigned out, unsigned in,
		   void *cookie)
{
	const struct vio_port *port = vq->port;
	unsigned n = out + in;
	uint16_t head, last, mask = (uint16_t)(vq->cfg.size - 1);
	bool indirect;
	uint64_t in_len = 0;

	if (vq->broken)
		return VIO_ESHUTDOWN;
	if (!cookie || n == 0 || n < out)
		return VIO_EINVAL;
	/* 2.7.5.3.1: a chain, indirect or not, is at most the queue size */
	indirect = vq->cfg.indirect_max && n > 1 && n <= vq->cfg.indirect_max;
	if (n > vq->cfg.size)
		return VIO_EINVAL;
	for (unsigned i = 0; i < n; i++)
		if (!sg[i].len || !sg[i].buf)
			return VIO_EINVAL;
	if ((indirect ? 1 : n) > vq->num_free)
		return VIO_ENOSPC;

	head = vq->free_head;
	if (indirect) {
		/* 2.7.5.3: one ring descriptor points at this head's own table */
		struct virtq_desc *table = vq->indirect + (size_t)head * vq->cfg.indirect_max;
		struct virtq_desc *d = &vq->desc[head];

		fill(vq, table, sg, out, n, &in_len);
		d->addr = to_dev64(vq, port->virt_to_dma(port->ctx, table));
		d->len = to_dev32(vq, (uint32_t)(sizeof(*table) * n));
		d->flags = to_dev16(vq, VIRTQ_DESC_F_INDIRECT);
		if (port->cache_clean)
			port->cache_clean(port->ctx, d, sizeof(*d));
		last = head;
		n = 1;
	} else {
		last = fill(vq, NULL, sg, out, n, &in_len);
	}
	vq->free_head = vq->slots[last].next;
	vq->num_free = (uint16_t)(vq->num_free - n);

	vq->slots[head].cookie = cookie;
	vq->slots[head].ndesc = (uint16_t)n;
	vq->slots[head].in_len = in_len > UINT32_MAX ? UINT32_MAX : (uint32_t)in_len;

	/* 2.7.13.2: the head goes into the next free avail ring entry */
	vq->avail->ring[vq->avail_idx & mask] = to_dev16(vq, head);
	vq->avail_idx++;
	return 0;
}

bool vio_vq_kick(struct vio_vq *vq)
{
	const struct vio_port *port = vq->port;
	uint16_t old = vq->kicked_idx, new = vq->avail_idx;
	bool need;

	if (vq->broken || old == new)
		return false;

	/* 2.7.13.3: descriptors and ring entries are visible before the index */
	vio_wmb();
	write_shared16(&vq->avail->idx, to_dev16(vq, new));
	if (port->cache_clean)
		port->cache_clean(port->ctx, vq->avail, sizeof(uint16_t) * (3 + vq->cfg.size));
	vq->kicked_idx = new;

	/* 2.7.13.4: the index is visible before we read the suppression fields */
	vio_mb();
	if (port->cache_invalidate)
		port->cache_invalidate(port->ctx, vq->used, sizeof(uint16_t) * 2);
	if (vq->cfg.event_idx) {
		if (port->cache_invalidate)
			port->cache_invalidate(port->ctx, avail_event(vq), sizeof(uint16_t));
		need = virtq_need_event(from_dev16(vq, read_shared16(avail_event(vq))), new, old);
	} else {
		need = !(from_dev16(vq, read_shared16(&vq->used->flags)) & VIRTQ_USED_F_NO_NOTIFY);
	}
	if (need)
		vq->cfg.notify(vq->cfg.ctx, vq->cfg.index);
	return need;
}

static uint16_t used_idx(const struct vio_vq *vq)
{
	const struct vio_port *port = vq->port;

	if (port->cache_invalidate)
		port->cache_invalidate(port->ctx, &vq->used->idx, sizeof(uint16_t));
	return from_dev16(vq, read_shared16(&vq->used->idx));
}

bool vio_vq_has_used(const struct vio_vq *vq)
{
	return !vq->broken && used_idx(vq) != vq->last_used;
}

unsigned vio_vq_in_flight(const struct vio_vq *vq)
{
	return (unsigned)(uint16_t)(vq->avail_idx - vq->last_used);
}

int vio_vq_dequeue(struct vio_vq *vq, void **cookie, uint32_t *len)
{
	const struct vio_port *port = vq->port;
	uint16_t idx, pending, mask = (uint16_t)(vq->cfg.size - 1);
	struct vio_vq_slot *slot;
	uint32_t id, written;

	if (vq->broken)
		return VIO_ESHUTDOWN;
	idx = used_idx(vq);
	if (idx == vq->last_used)
		return VIO_EAGAIN;

	/* The device cannot have used more chains than we made available. */
	pending = (uint16_t)(idx - vq->last_used);
	if (pending > vio_vq_in_flight(vq))
		return vq_fail(vq, "used index ran ahead of the available ones", idx, vq->last_used);

	/* 2.7.14: read the entry only after the index that covers it */
	vio_rmb();
	struct virtq_used_elem *e = &vq->used->ring[vq->last_used & mask];
	if (port->cache_invalidate)
		port->cache_invalidate(port->ctx, e, sizeof(*e));
	id = from_dev32(vq, read_shared32(&e->id));
	written = from_dev32(vq, read_shared32(&e->len));

	if (id >= vq->cfg.size)
		return vq_fail(vq, "used id out of range", id, vq->cfg.size);
	slot = &vq->slots[id];
	if (!slot->cookie)
		return vq_fail(vq, "used id not in flight", id, 0);
	if (written > slot->in_len) {
		/*
		 * 2.7.8.1 (legacy interface): many legacy devices set len
		 * wrongly, and drivers are told to ignore it; clamp it so it can
		 * never index past the buffers. A modern device is held to it.
		 */
		if (!vq->cfg.legacy)
			return vq_fail(vq, "used length beyond the writable buffers", written,
				       slot->in_len);
		written = slot->in_len;
	}

	*cookie = slot->cookie;
	if (len)
		*len = written;

	/* Return the chain to the free list, following our own links. */
	uint16_t last = (uint16_t)id;
	for (uint16_t i = 1; i < slot->ndesc; i++)
		last = vq->slots[last].next;
	vq->slots[last].next = vq->free_head;
	vq->free_head = (uint16_t)id;
	vq->num_free = (uint16_t)(vq->num_free + slot->ndesc);
	slot->cookie = NULL;
	slot->ndesc = 0;
	slot->in_len = 0;
	vq->last_used++;

	/* 2.7.10: with the event index, ask to be interrupted at the next entry */
	if (vq->cfg.event_idx && !vq->irq_off)
		write_shared16(used_event(vq), to_dev16(vq, vq->last_used));
	return 0;
}

void vio_vq_disable_irq(struct vio_vq *vq)
{
	vq->irq_off = true;
	if (vq->cfg.event_idx) {
		/* 2.7.10: flags must stay 0; move the event index out of reach */
		write_shared16(used_event(vq), to_dev16(vq, (uint16_t)(vq->last_used - 1)));
	} else {
		write_shared16(&vq->avail->flags, to_dev16(vq, VIRTQ_AVAIL_F_NO_INTERRUPT));
	}
}

bool vio_vq_enable_irq(struct vio_vq *vq)
{
	vq->irq_off = false;
	if (vq->cfg.event_idx)
		write_shared16(used_event(vq), to_dev16(vq, vq->last_used));
	else
		write_shared16(&vq->avail->flags, 0);
	/* The flag store is visible before we look for completions (2.7.10). */
	vio_mb();
	return vio_vq_has_used(vq);
}
