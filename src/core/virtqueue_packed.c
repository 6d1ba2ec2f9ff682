/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Packed virtqueues (VirtIO 1.2 section 2.8): one descriptor ring that both
 * sides write, wrap counters instead of indices, and two event suppression
 * structures, behind the ops of virtqueue_priv.h.
 *
 * The driver-private state lives outside the memory the device can write:
 * per buffer id the cookie, the writable bytes offered, how many ring
 * descriptors the chain took (the device writes one used descriptor per
 * chain and both sides skip the rest, 2.8.6) and whether a kick exposed it.
 * A used descriptor is checked against that before anything is believed.
 *
 * Chains are written into the ring as they are queued but their first
 * descriptor's flags are held back until vio_vq_kick (2.8.21.1: the first
 * descriptor is made available last), so, as with the split ring, the
 * device sees nothing before the kick and one write barrier covers a batch.
 *
 * The ring is read and written by both sides at descriptor granularity, so
 * a platform that keeps coherency by cleaning and invalidating cache lines
 * cannot share it safely (a clean of one descriptor writes back the stale
 * copy of its neighbours the device may just have written). The device core
 * negotiates VIRTIO_F_RING_PACKED only on cache-coherent ports; create
 * refuses the others.
 */
#include <string.h>

#include <vio/error.h>
#include <vio/io.h>
#include <vio/port.h>
#include <vio/spec/virtio_ring.h>

#include "core/log.h"
#include "core/virtqueue_priv.h"

#define NO_ID 0xffffu

/* Per buffer id. */
struct id_slot {
	void *cookie;    /* NULL when the id is not in flight */
	uint32_t in_len; /* bytes the device may write into the chain */
	uint16_t ndesc;  /* ring descriptors the chain takes (1 when indirect) */
	uint16_t next;   /* free-id list link */
	bool reserved;   /* a prepared chain's id: it stays taken */
	bool exposed;    /* a kick made it available: the device may use it */
};

/* A chain's first descriptor whose flags wait for the kick. */
struct held_head {
	uint16_t flags; /* 0: none at this position (a made-available value never is 0) */
	uint16_t id;
};

struct packed {
	struct vio_vq vq; /* first: the common part */

	void *mem; /* ring and both event structures, one DMA block */
	size_t mem_size;
	struct pvirtq_desc *ring;
	struct pvirtq_event_suppress *driver_ev; /* ours: used buffer notifications */
	struct pvirtq_event_suppress *device_ev; /* the device's: our notifications */
	uint64_t ring_dma, driver_dma, device_dma;

	struct id_slot *ids;         /* size entries */
	struct held_head *held;      /* size entries, by ring position */
	struct pvirtq_desc *indirect; /* size tables of indirect_max entries, or NULL */
	size_t indirect_size;

	uint16_t free_id;     /* first free buffer id, NO_ID when none */
	uint16_t next_avail;  /* where the next descriptor goes */
	bool avail_wrap;      /* 2.8.1: Driver Ring Wrap Counter */
	uint16_t exposed_at;  /* first position the device has not been shown */
	uint16_t unexposed;   /* descriptors written since the last kick */
	uint16_t next_used;   /* where the next used descriptor will be */
	bool used_wrap;       /* the device's wrap counter as we track it */
	uint16_t event_desc;  /* what driver_ev->desc holds */
};

static inline struct packed *to_packed(struct vio_vq *vq)
{
	return (struct packed *)vq;
}

static inline const struct packed *to_cpacked(const struct vio_vq *vq)
{
	return (const struct packed *)vq;
}

/* Packed rings exist only on modern devices: little-endian (2.8.13). */
static inline uint16_t le16(const struct packed *p, uint16_t v)
{
	return vio_wire16(p->vq.cfg.legacy, v);
}

static inline uint32_t le32(const struct packed *p, uint32_t v)
{
	return vio_wire32(p->vq.cfg.legacy, v);
}

static inline uint64_t le64(const struct packed *p, uint64_t v)
{
	return vio_wire64(p->vq.cfg.legacy, v);
}

/* 2.8.1: an available descriptor has AVAIL equal to the wrap counter, USED not. */
static inline uint16_t avail_bits(bool wrap)
{
	return wrap ? PVIRTQ_DESC_F_AVAIL : PVIRTQ_DESC_F_USED;
}

/* The flags of the descriptor at pos, as the device left them. */
static inline uint16_t desc_flags(const struct packed *p, uint16_t pos)
{
	return le16(p, vio_shared_read16(&p->ring[pos].flags));
}

/*
 * 2.8.1: used when AVAIL and USED are equal and match the wrap counter the
 * device had when it wrote there. A descriptor whose two bits differ is one
 * of ours (made available and not used, or a chain's tail the device
 * skipped): never a completion.
 */
static inline bool is_used(uint16_t flags, bool wrap)
{
	bool a = flags & PVIRTQ_DESC_F_AVAIL, u = flags & PVIRTQ_DESC_F_USED;

	return a == u && u == wrap;
}

static inline void step(struct packed *p, uint16_t *pos, bool *wrap, uint16_t n)
{
	uint32_t v = (uint32_t)*pos + n;

	if (v >= p->vq.size) {
		v -= p->vq.size;
		*wrap = !*wrap;
	}
	*pos = (uint16_t)v;
}

static void packed_destroy(struct vio_vq *vq)
{
	struct packed *p = to_packed(vq);
	const struct vio_port *port = vq->port;

	if (p->mem)
		port->dma_free(port->ctx, p->mem, p->mem_size);
	if (p->ids)
		port->dma_free(port->ctx, p->ids, sizeof(*p->ids) * vq->size);
	if (p->held)
		port->dma_free(port->ctx, p->held, sizeof(*p->held) * vq->size);
	if (p->indirect)
		port->dma_free(port->ctx, p->indirect, p->indirect_size);
	port->dma_free(port->ctx, p, sizeof(*p));
}

static void set_driver_event(struct packed *p, uint16_t flags)
{
	vio_shared_write16(&p->driver_ev->flags, le16(p, flags));
}

static int packed_create(const struct vio_port *port, const struct vio_vq_config *cfg,
			 struct vio_vq **out)
{
	uint32_t size = cfg->max_size < PVIRTQ_SIZE_MAX ? cfg->max_size : PVIRTQ_SIZE_MAX;
	size_t ring_bytes;
	struct packed *p;

	/* See the top of the file: no shared ring without coherency. */
	if (port->cache_clean || port->cache_invalidate)
		return VIO_ENOTSUP;

	p = port->dma_alloc(port->ctx, sizeof(*p), sizeof(void *));
	if (!p)
		return VIO_ENOMEM;
	memset(p, 0, sizeof(*p));
	p->vq.ops = &vio_vq_packed_ops;
	p->vq.port = port;
	p->vq.cfg = *cfg;
	p->vq.size = size;
	if (p->vq.cfg.indirect_max > size)
		p->vq.cfg.indirect_max = (uint16_t)size;

	/* 2.8.10.1: ring at 16, each event structure 4 bytes at 4 */
	ring_bytes = sizeof(struct pvirtq_desc) * size;
	p->mem_size = ring_bytes + 2 * sizeof(struct pvirtq_event_suppress);
	p->mem = port->dma_alloc(port->ctx, p->mem_size, PVIRTQ_DESC_ALIGN);
	p->ids = port->dma_alloc(port->ctx, sizeof(*p->ids) * size, sizeof(void *));
	p->held = port->dma_alloc(port->ctx, sizeof(*p->held) * size, sizeof(uint16_t));
	if (p->vq.cfg.indirect_max > 1) {
		p->indirect_size = sizeof(struct pvirtq_desc) * p->vq.cfg.indirect_max * size;
		p->indirect = port->dma_alloc(port->ctx, p->indirect_size, PVIRTQ_DESC_ALIGN);
	} else {
		p->vq.cfg.indirect_max = 0;
	}
	if (!p->mem || !p->ids || !p->held || (p->indirect_size && !p->indirect)) {
		packed_destroy(&p->vq);
		return VIO_ENOMEM;
	}
	/* 2.8.13: the descriptor ring starts zeroed */
	memset(p->mem, 0, p->mem_size);
	memset(p->ids, 0, sizeof(*p->ids) * size);
	memset(p->held, 0, sizeof(*p->held) * size);

	p->ring = p->mem;
	p->driver_ev = (struct pvirtq_event_suppress *)((char *)p->mem + ring_bytes);
	p->device_ev = p->driver_ev + 1;
	p->ring_dma = vq_dma_addr(port, p->ring);
	p->driver_dma = vq_dma_addr(port, p->driver_ev);
	p->device_dma = vq_dma_addr(port, p->device_ev);

	for (uint32_t i = 0; i < size; i++)
		p->ids[i].next = i + 1 < size ? (uint16_t)(i + 1) : NO_ID;
	p->free_id = 0;
	p->avail_wrap = true; /* 2.8.1: both wrap counters start at 1 */
	p->used_wrap = true;
	p->vq.num_free = size;
	if (cfg->event_idx) {
		/* Interrupt at the first used descriptor: position 0, wrap 1. */
		p->event_desc = 0x8000u;
		p->driver_ev->desc = le16(p, p->event_desc);
		set_driver_event(p, PVIRTQ_EVENT_F_DESC);
	}
	*out = &p->vq;
	return 0;
}

static void packed_addrs(const struct vio_vq *vq, struct vio_queue_addrs *a)
{
	const struct packed *p = to_cpacked(vq);

	/* 2.8: the transport's descriptor, driver and device areas */
	a->desc = p->ring_dma;
	a->avail = p->driver_dma;
	a->used = p->device_dma;
}

static uint16_t take_id(struct packed *p)
{
	uint16_t id = p->free_id;

	if (id != NO_ID)
		p->free_id = p->ids[id].next;
	return id;
}

static void put_id(struct packed *p, uint16_t id)
{
	p->ids[id].next = p->free_id;
	p->free_id = id;
}

/*
 * Write one descriptor at next_avail and step past it. The first of a
 * chain keeps its flags back for the kick; the others get theirs now,
 * which the device cannot act on before it has seen the first.
 */
static inline void put_desc(struct packed *p, uint64_t addr, uint32_t len, uint16_t id,
			    uint16_t flags, bool first)
{
	struct pvirtq_desc *d = &p->ring[p->next_avail];

	flags |= avail_bits(p->avail_wrap);
	d->addr = le64(p, addr);
	d->len = le32(p, len);
	d->id = le16(p, id);
	if (first) {
		p->held[p->next_avail].flags = flags;
		p->held[p->next_avail].id = id;
	} else {
		vio_shared_write16(&d->flags, le16(p, flags));
	}
	step(p, &p->next_avail, &p->avail_wrap, 1);
}

/* 2.8.7: an indirect table's entries carry only the WRITE flag. */
static inline void put_table_entry(struct packed *p, struct pvirtq_desc *e, uint64_t addr,
				   uint32_t len, bool writable)
{
	e->addr = le64(p, addr);
	e->len = le32(p, len);
	e->id = 0;
	e->flags = le16(p, writable ? VIRTQ_DESC_F_WRITE : 0);
}

static inline struct pvirtq_desc *table_of(struct packed *p, uint16_t id)
{
	return p->indirect + (size_t)id * p->vq.cfg.indirect_max;
}

static inline void track(struct packed *p, uint16_t id, void *cookie, uint32_t in_len,
			 uint16_t ndesc)
{
	struct id_slot *slot = &p->ids[id];

	slot->cookie = cookie;
	slot->in_len = in_len;
	slot->ndesc = ndesc;
	slot->exposed = false;
	p->unexposed = (uint16_t)(p->unexposed + ndesc);
	p->vq.in_flight++;
}

static int packed_enqueue(struct vio_vq *vq, const struct vio_sg *sg, unsigned out, unsigned in,
			  void *cookie)
{
	struct packed *p = to_packed(vq);
	const struct vio_port *port = vq->port;
	unsigned n = out + in;
	bool indirect = vq->cfg.indirect_max && n > 1 && n <= vq->cfg.indirect_max;
	uint16_t ndesc = (uint16_t)(indirect ? 1 : n);
	uint64_t in_len = 0;
	uint16_t id;

	if (ndesc > vq->num_free || p->free_id == NO_ID)
		return VIO_ENOSPC;
	id = take_id(p);
	if (indirect) {
		/* 2.8.7: one ring descriptor points at this id's own table */
		struct pvirtq_desc *table = table_of(p, id);

		for (unsigned i = 0; i < n; i++) {
			put_table_entry(p, &table[i], vq_dma_addr(port, sg[i].buf), sg[i].len, i >= out);
			if (i >= out)
				in_len += sg[i].len;
		}
		put_desc(p, vq_dma_addr(port, table), (uint32_t)(sizeof(*table) * n), id,
			 VIRTQ_DESC_F_INDIRECT, true);
	} else {
		/* 2.8.6: NEXT on all but the last; the id goes with each (the last counts) */
		for (unsigned i = 0; i < n; i++) {
			uint16_t flags = i + 1 < n ? VIRTQ_DESC_F_NEXT : 0;

			if (i >= out) {
				flags |= VIRTQ_DESC_F_WRITE;
				in_len += sg[i].len;
			}
			put_desc(p, vq_dma_addr(port, sg[i].buf), sg[i].len, id, flags, i == 0);
		}
	}
	vq->num_free -= ndesc;
	track(p, id, cookie, in_len > UINT32_MAX ? UINT32_MAX : (uint32_t)in_len, ndesc);
	return 0;
}

/*
 * 2.8.10 / 2.8.14: does the device's event ask for a notification for the
 * n descriptors just exposed, ending before next_avail? Its offset and wrap
 * name one descriptor of this lap or the one before.
 */
static bool event_hit(const struct packed *p, uint16_t off_wrap, uint16_t n)
{
	int32_t event = off_wrap & 0x7fffu;
	int32_t end = p->next_avail;

	if (((off_wrap >> 15) != 0) != p->avail_wrap)
		event -= (int32_t)p->vq.size;
	return end - 1 - event >= 0 && end - 1 - event < (int32_t)n;
}

static bool packed_kick(struct vio_vq *vq)
{
	struct packed *p = to_packed(vq);
	uint16_t n = p->unexposed, pos = p->exposed_at, flags;
	bool wrap = false;

	if (!n)
		return false;
	/* 2.8.21.1: every descriptor written before the first one's flags */
	vio_wmb();
	for (uint16_t k = 0; k < n; k++) {
		struct held_head *h = &p->held[pos];

		if (h->flags) {
			p->ids[h->id].exposed = true;
			vio_shared_write16(&p->ring[pos].flags, le16(p, h->flags));
			h->flags = 0;
		}
		step(p, &pos, &wrap, 1);
	}
	p->exposed_at = pos;
	p->unexposed = 0;

	/* 2.8.21.2: the flags are visible before we read the device's event structure */
	vio_mb();
	flags = le16(p, vio_shared_read16(&p->device_ev->flags)) & 3u;
	if (flags == PVIRTQ_EVENT_F_DISABLE)
		return false;
	if (flags == PVIRTQ_EVENT_F_DESC && vq->cfg.event_idx &&
	    !event_hit(p, le16(p, vio_shared_read16(&p->device_ev->desc)), n))
		return false;
	vq->cfg.notify(vq->cfg.ctx, vq->cfg.index);
	return true;
}

static bool packed_has_used(const struct vio_vq *vq)
{
	const struct packed *p = to_cpacked(vq);

	return is_used(desc_flags(p, p->next_used), p->used_wrap);
}

/* The position and wrap of the next used descriptor, as an event value (2.8.14). */
static inline uint16_t next_used_event(const struct packed *p)
{
	return (uint16_t)(p->next_used | (p->used_wrap ? 0x8000u : 0));
}

/*
 * 2.8.10: ask for an interrupt at the next used descriptor, then look
 * again: the device stores the descriptor and then reads our event, we do
 * the mirror image, and without a full barrier on both sides each can miss
 * the other's store. Returns whether a completion arrived meanwhile.
 */
static bool arm_event(struct packed *p)
{
	uint16_t ev = next_used_event(p);

	if (ev == p->event_desc)
		return false;
	p->event_desc = ev;
	vio_shared_write16(&p->driver_ev->desc, le16(p, ev));
	vio_mb();
	return packed_has_used(&p->vq);
}

static void *release(struct packed *p, uint16_t id)
{
	struct id_slot *slot = &p->ids[id];
	void *cookie = slot->cookie;

	slot->cookie = NULL;
	slot->in_len = 0;
	slot->exposed = false;
	p->vq.in_flight--;
	if (!slot->reserved) {
		p->vq.num_free += slot->ndesc;
		put_id(p, id);
	}
	return cookie;
}

/*
 * Take up to max used descriptors, each checked against what the driver
 * posted (the id slots, outside device-writable memory). When the ring is
 * caught up with interrupts on, the device is asked for an interrupt at
 * the next one (arm_event) and what came meanwhile is taken too, so a
 * short batch means nothing is pending. A descriptor that breaks the
 * protocol after good ones is left where it is: the next call starts with
 * it and reports it, as one dequeue per descriptor would.
 */
static int packed_dequeue_batch(struct vio_vq *vq, struct vio_vq_used *out, unsigned max)
{
	struct packed *p = to_packed(vq);
	uint32_t id = 0, written = 0, a = 0, b = 0;
	const char *why;
	unsigned n = 0;

	while (n < max) {
		struct pvirtq_desc *d = &p->ring[p->next_used];
		struct id_slot *slot;

		if (!is_used(desc_flags(p, p->next_used), p->used_wrap)) {
			if (vq->irq_off || !vq->cfg.event_idx || !arm_event(p))
				break;
		}
		/* 2.8.22: read the descriptor only after the flags that say it is used */
		vio_rmb();
		id = le16(p, vio_shared_read16(&d->id));
		written = le32(p, vio_shared_read32(&d->len));

		if (id >= vq->size) {
			why = "used id out of range";
			a = id;
			b = vq->size;
			goto bad;
		}
		slot = &p->ids[id];
		if (!slot->cookie) {
			why = "used id not in flight";
			a = id;
			goto bad;
		}
		if (!slot->exposed) {
			why = "used id never made available";
			a = id;
			goto bad;
		}
		/*
		 * 2.8.4: the length the device initialized. QEMU leaves WRITE
		 * clear in used descriptors, so the length is taken whatever the
		 * flag and held to what the chain offered, unless the queue's
		 * driver says its lengths mean nothing
		 * (vio_vq_config.clamp_used_len).
		 */
		if (written > slot->in_len) {
			if (!vq->cfg.clamp_used_len) {
				why = "used length beyond the writable buffers";
				a = written;
				b = slot->in_len;
				goto bad;
			}
			written = slot->in_len;
		}
		/* 2.8.6: the chain's other descriptors are skipped */
		step(p, &p->next_used, &p->used_wrap, slot->ndesc);
		out[n].cookie = release(p, (uint16_t)id);
		out[n].len = written;
		n++;
	}
	return (int)n;

bad:
	if (n)
		return (int)n; /* the next call starts with this one and reports it */
	return vio_vq_protocol_error(vq, why, a, b);
}

static void packed_disable_irq(struct vio_vq *vq)
{
	struct packed *p = to_packed(vq);

	vq->irq_off = true;
	set_driver_event(p, PVIRTQ_EVENT_F_DISABLE);
}

static bool packed_enable_irq(struct vio_vq *vq)
{
	struct packed *p = to_packed(vq);

	vq->irq_off = false;
	if (vq->cfg.event_idx) {
		p->event_desc = next_used_event(p);
		vio_shared_write16(&p->driver_ev->desc, le16(p, p->event_desc));
		/* the offset is in place before the flags point the device at it */
		vio_wmb();
		set_driver_event(p, PVIRTQ_EVENT_F_DESC);
	} else {
		set_driver_event(p, PVIRTQ_EVENT_F_ENABLE);
	}
	/* 2.8.22: the store is visible before we look for completions */
	vio_mb();
	return !vq->broken && packed_has_used(vq);
}

static void *packed_detach_unused(struct vio_vq *vq)
{
	struct packed *p = to_packed(vq);

	for (uint32_t i = 0; i < vq->size; i++)
		if (p->ids[i].cookie)
			return release(p, (uint16_t)i);
	return NULL;
}

/*
 * The queue was reset on its own (2.6.1) and every buffer detached: the
 * ring starts over at position 0 with both wrap counters 1 (2.8.1), zeroed
 * so that no old descriptor reads as available. Buffer ids stay where they
 * are (free ones on the free list, a prepared chain's with it).
 */
static void packed_reinit(struct vio_vq *vq)
{
	struct packed *p = to_packed(vq);

	memset(p->mem, 0, p->mem_size);
	memset(p->held, 0, sizeof(*p->held) * vq->size);
	p->next_avail = 0;
	p->avail_wrap = true;
	p->exposed_at = 0;
	p->unexposed = 0;
	p->next_used = 0;
	p->used_wrap = true;
	p->event_desc = 0;
	if (vq->irq_off)
		packed_disable_irq(vq);
	else if (vq->cfg.event_idx) {
		p->event_desc = 0x8000u; /* the first used descriptor: position 0, wrap 1 */
		p->driver_ev->desc = le16(p, p->event_desc);
		set_driver_event(p, PVIRTQ_EVENT_F_DESC);
	}
}

/* ------------------------------------------------------------------ */
/* Prepared chains */

static bool chain_indirect(const struct vio_vq *vq, unsigned nseg)
{
	return vq->cfg.indirect_max && nseg > 1 && nseg <= vq->cfg.indirect_max;
}

static unsigned packed_chain_cost(const struct vio_vq *vq, unsigned nseg)
{
	if (chain_indirect(vq, nseg))
		return 1;
	return nseg <= vq->size ? nseg : 0;
}

/*
 * A packed ring has no descriptor that stays a chain's: reserving takes a
 * buffer id for good (and its indirect table) and sets the ring room the
 * chain needs aside from num_free, so a submit always finds it.
 */
static int packed_chain_reserve(struct vio_vq *vq, unsigned nseg, struct vio_vq_chain *chain)
{
	struct packed *p = to_packed(vq);
	uint16_t cost = (uint16_t)packed_chain_cost(vq, nseg), id;

	if (cost > vq->num_free || p->free_id == NO_ID)
		return VIO_ENOSPC;
	id = take_id(p);
	p->ids[id].reserved = true;
	p->ids[id].ndesc = cost;
	vq->num_free -= cost;
	chain->table = chain_indirect(vq, nseg) ? table_of(p, id) : NULL;
	for (unsigned i = 0; i < nseg; i++)
		chain->idx[i] = (uint16_t)i;
	chain->id = id;
	chain->nseg = (uint8_t)nseg;
	return 0;
}

static void packed_chain_release(struct vio_vq *vq, struct vio_vq_chain *chain)
{
	struct packed *p = to_packed(vq);
	struct id_slot *slot = &p->ids[chain->id];

	slot->reserved = false;
	vq->num_free += slot->ndesc;
	put_id(p, chain->id);
}

static int packed_chain_submit(struct vio_vq *vq, struct vio_vq_chain *chain, void *cookie)
{
	struct packed *p = to_packed(vq);
	const struct vio_port *port = vq->port;
	struct id_slot *slot = &p->ids[chain->id];
	unsigned nseg = chain->nseg, w = chain->writable;

	if (slot->cookie)
		return VIO_EBUSY;
	if (chain->table) {
		/* The table is this id's alone: only what changed is written. */
		struct pvirtq_desc *table = chain->table;

		for (unsigned i = 0, dirty = chain->dirty; dirty; i++, dirty >>= 1)
			if (dirty & 1u)
				put_table_entry(p, &table[i], vq_dma_addr(port, chain->buf[i]),
						chain->len[i], w & (1u << i));
		put_desc(p, vq_dma_addr(port, table), (uint32_t)(sizeof(*table) * nseg), chain->id,
			 VIRTQ_DESC_F_INDIRECT, true);
	} else {
		/* Ring positions move at every submit: the whole chain is written. */
		for (unsigned i = 0; i < nseg; i++) {
			uint16_t flags = i + 1 < nseg ? VIRTQ_DESC_F_NEXT : 0;

			if (w & (1u << i))
				flags |= VIRTQ_DESC_F_WRITE;
			put_desc(p, vq_dma_addr(port, chain->buf[i]), chain->len[i], chain->id, flags,
				 i == 0);
		}
	}
	chain->dirty = 0;
	track(p, chain->id, cookie, chain->in_len, slot->ndesc);
	return 0;
}

/*
 * vio_vq_chain_set of one segment and the submit in one: the descriptors
 * are written from the template at every submit anyway.
 */
static int packed_chain_submit_seg(struct vio_vq *vq, struct vio_vq_chain *chain, unsigned seg,
				   void *buf, uint32_t len, bool dev_writes, void *cookie)
{
	struct packed *p = to_packed(vq);
	int rc;

	rc = vq_chain_seg_check(chain, seg, buf, len, dev_writes, cookie);
	if (rc)
		return rc;
	if (p->ids[chain->id].cookie)
		return VIO_EBUSY;
	vq_chain_seg_set(chain, seg, buf, len, dev_writes);
	return packed_chain_submit(vq, chain, cookie);
}

const struct vio_vq_ops vio_vq_packed_ops = {
	.create = packed_create,
	.destroy = packed_destroy,
	.addrs = packed_addrs,
	.enqueue = packed_enqueue,
	.kick = packed_kick,
	.dequeue_batch = packed_dequeue_batch,
	.has_used = packed_has_used,
	.disable_irq = packed_disable_irq,
	.enable_irq = packed_enable_irq,
	.detach_unused = packed_detach_unused,
	.reinit = packed_reinit,
	.chain_cost = packed_chain_cost,
	.chain_reserve = packed_chain_reserve,
	.chain_release = packed_chain_release,
	.chain_submit = packed_chain_submit,
	.chain_submit_seg = packed_chain_submit_seg,
};
