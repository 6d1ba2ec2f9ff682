/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The rings of the benchmarks' independent loops (indep_loop.c,
 * indep_net_loop.c), written from the VirtIO 1.2 specification and sharing
 * no code with vio: the barriers, the split ring's layout (2.7) and the
 * packed ring (2.8) with its wrap counters and event suppression. Inline:
 * this is the loops' fast path.
 *
 * Both boards are little-endian, so the rings' little-endian fields (and a
 * legacy device's guest-endian ones, 2.7.1) are plain stores.
 */
#ifndef INDEP_RING_H
#define INDEP_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INDEP_QSIZE 256u /* every loop's queue size: a legacy PCI device's own (4.1.5.1) */

/*
 * Barriers. Ring stores before the index or flags store that publishes
 * them (2.7.13.3, 2.8.21.1), that store before the read of the device's
 * suppression fields (2.7.13.4, 2.8.21.3: a full fence), what the device
 * published before the entries it covers (2.7.14, 2.8.21.2), and memory
 * before the notification's register write.
 */
#if defined(__riscv)
#define mb() __asm__ volatile("fence iorw, iorw" ::: "memory")
#define wmb() __asm__ volatile("fence w, w" ::: "memory")
#define rmb() __asm__ volatile("fence r, r" ::: "memory")
#define io_wmb() __asm__ volatile("fence w, o" ::: "memory")
#elif defined(__aarch64__)
#define mb() __asm__ volatile("dmb sy" ::: "memory")
#define wmb() __asm__ volatile("dmb ishst" ::: "memory")
#define rmb() __asm__ volatile("dmb ishld" ::: "memory")
#define io_wmb() __asm__ volatile("dmb oshst" ::: "memory")
#else
#error "unknown architecture"
#endif

static inline uint16_t shared16(const uint16_t *p)
{
	return *(const volatile uint16_t *)p;
}

/* 2.7.5, 2.7.6, 2.7.8: split ring flags. */
#define DESC_F_NEXT 1u
#define DESC_F_WRITE 2u
#define AVAIL_F_NO_INTERRUPT 1u
#define USED_F_NO_NOTIFY 1u

/* 2.7.5 / 2.7.6 / 2.7.8: the split ring's three parts. */
struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[INDEP_QSIZE];
	uint16_t used_event; /* 2.7.10: with VIRTIO_F_EVENT_IDX */
};

struct used_elem {
	uint32_t id;
	uint32_t len;
};

struct used {
	uint16_t flags;
	uint16_t idx;
	struct used_elem ring[INDEP_QSIZE];
	uint16_t avail_event; /* 2.7.10: with VIRTIO_F_EVENT_IDX */
};

/*
 * 2.7.2 (the legacy layout, also valid for modern devices): descriptors,
 * then the available ring, then the used ring on the next 4 KiB boundary.
 */
#define SPLIT_USED_OFF ((sizeof(struct desc) * INDEP_QSIZE + sizeof(struct avail) + 4095) & \
			~(size_t)4095)
#define SPLIT_BYTES (SPLIT_USED_OFF + sizeof(struct used))

/* 2.7.10: vring_need_event: does moving the index from old to new pass event? */
static inline bool split_need_event(uint16_t event, uint16_t new, uint16_t old)
{
	return (uint16_t)(new - event - 1) < (uint16_t)(new - old);
}

/* 2.8.1, 2.8.10: packed descriptor flags, event suppression flags. */
#define PD_F_AVAIL (1u << 7)
#define PD_F_USED (1u << 15)
#define EV_ENABLE 0u
#define EV_DISABLE 1u
#define EV_DESC 2u

/* 2.8.13: a packed descriptor; 2.8.14: an event suppression structure. */
struct pdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t id;
	uint16_t flags;
};

struct evsup {
	uint16_t off_wrap;
	uint16_t flags;
};

/*
 * A packed ring of INDEP_QSIZE descriptors: the positions and wrap counters
 * of both sides (2.8.1), and the batch's first descriptor, whose flags are
 * written last so that the device sees a whole batch or none of it.
 */
struct packed {
	struct pdesc *desc;
	struct evsup *drv_ev, *dev_ev;
	uint16_t next_avail, next_used, head, head_flags;
	bool avail_wrap, used_wrap, head_pending;
	uint32_t made, kicked_made; /* descriptors made available: in all, at the last kick */
};

/* The descriptors, then each event suppression structure in its own line. */
#define PACKED_DRV_OFF (sizeof(struct pdesc) * INDEP_QSIZE)
#define PACKED_DEV_OFF (PACKED_DRV_OFF + 64)
#define PACKED_BYTES (PACKED_DEV_OFF + 64)

/* Lay a packed ring over ring (PACKED_BYTES, zeroed, 16-byte aligned at least). */
static inline void packed_init(struct packed *r, void *ring)
{
	uint8_t *m = ring;

	r->desc = (struct pdesc *)m;
	r->drv_ev = (struct evsup *)(m + PACKED_DRV_OFF);
	r->dev_ev = (struct evsup *)(m + PACKED_DEV_OFF);
	r->next_avail = r->next_used = 0;
	r->head_pending = false;
	r->made = r->kicked_made = 0;
	/* 2.8.1: both wrap counters start at 1. */
	r->avail_wrap = r->used_wrap = true;
}

/*
 * 2.8.21.1: one descriptor into the next position, made available at once
 * unless it is the batch's first (packed_publish does that one). A chain's
 * descriptors follow each other, every one but the last with NEXT (2.8.6);
 * all of them carry the buffer's id.
 */
static inline void packed_add(struct packed *r, uint64_t addr, uint32_t len, uint16_t id,
			      uint16_t flags)
{
	struct pdesc *d = &r->desc[r->next_avail];
	uint16_t f = (uint16_t)(flags | (r->avail_wrap ? PD_F_AVAIL : PD_F_USED));

	d->addr = addr;
	d->len = len;
	d->id = id;
	if (!r->head_pending) {
		r->head = r->next_avail;
		r->head_flags = f;
		r->head_pending = true;
	} else {
		d->flags = f;
	}
	if (++r->next_avail == INDEP_QSIZE) {
		r->next_avail = 0;
		r->avail_wrap = !r->avail_wrap;
	}
	r->made++;
}

/*
 * 2.8.10: with descriptor events the device asks for a notification when
 * the descriptor at (offset, wrap counter) becomes available. Descriptor
 * number c (counted from the start) sits at c mod INDEP_QSIZE with wrap
 * counter 1 in even rounds of the ring: is the one asked for among this
 * batch's?
 */
static inline bool packed_asked(const struct packed *r, uint16_t off_wrap)
{
	uint32_t off = off_wrap & 0x7fffu, wrap = off_wrap >> 15;
	uint32_t old = r->kicked_made, c;

	if (off >= INDEP_QSIZE)
		return false;
	c = old + ((off + INDEP_QSIZE - old % INDEP_QSIZE) % INDEP_QSIZE);
	return c - old < r->made - old && wrap == (1u ^ ((c / INDEP_QSIZE) & 1u));
}

/* 2.8.21.1 / 2.8.21.3: make the batch available; true when the device wants a notification. */
static inline bool packed_publish(struct packed *r)
{
	uint16_t f;
	bool need;

	if (!r->head_pending)
		return false;
	wmb();
	*(volatile uint16_t *)&r->desc[r->head].flags = r->head_flags;
	r->head_pending = false;
	mb();
	f = shared16(&r->dev_ev->flags);
	need = f == EV_ENABLE || (f == EV_DESC && packed_asked(r, shared16(&r->dev_ev->off_wrap)));
	r->kicked_made = r->made;
	return need;
}

/* 2.8.21.2: has the device used the descriptor at the next used position? */
static inline bool packed_has_used(const struct packed *r)
{
	uint16_t f = shared16(&r->desc[r->next_used].flags);

	return !(f & PD_F_AVAIL) == !r->used_wrap && !(f & PD_F_USED) == !r->used_wrap;
}

/*
 * 2.8.10 (with VIRTIO_F_EVENT_IDX): ask for a used-buffer notification when
 * the device writes the next used position, none for those after it. The
 * caller fences and looks at the ring again: a buffer may have been used
 * meanwhile.
 */
static inline void packed_event_at_next(struct packed *r)
{
	r->drv_ev->off_wrap = (uint16_t)(r->next_used | (r->used_wrap ? 0x8000u : 0));
	r->drv_ev->flags = EV_DESC;
}

/*
 * 2.8.21.2: the next used buffer, if there is one: its id and the length
 * written, the position moved past the ndesc descriptors it was made of.
 */
static inline bool packed_take(struct packed *r, unsigned ndesc, uint32_t *id, uint32_t *len)
{
	const struct pdesc *d = &r->desc[r->next_used];

	if (!packed_has_used(r))
		return false;
	rmb();
	*id = d->id;
	*len = d->len;
	r->next_used = (uint16_t)(r->next_used + ndesc);
	if (r->next_used >= INDEP_QSIZE) {
		r->next_used = (uint16_t)(r->next_used - INDEP_QSIZE);
		r->used_wrap = !r->used_wrap;
	}
	return true;
}

#endif
