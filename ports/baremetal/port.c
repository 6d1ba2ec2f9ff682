/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vio's port contract on the board API, without an operating system; see
 * vio_baremetal.h and include/vio/port.h for what each hook promises.
 *
 * DMA memory: a first-fit pool over board_dma_region(). Free blocks form an
 * address-ordered list kept inside the free memory itself; freeing merges a
 * block with free neighbours. Every block starts and ends on a GRAIN
 * boundary, so a split always leaves room for a list entry. QEMU's devices
 * are cache coherent and see physical addresses: there is no
 * virt_to_dma (the identity) and there are no cache hooks.
 *
 * Waiting: interrupts are masked around the check of the event's flag and
 * the sleep, and wfi wakes on a pending interrupt even while masked, so a
 * signal between the check and the sleep is not lost; unmasking then runs
 * the handler, and the loop sees the flag.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <vio/error.h>
#include <vio/port.h>

#include "board.h"
#include "vio_baremetal.h"

#define GRAIN 64u

struct free_block {
	size_t size; /* bytes, a multiple of GRAIN */
	struct free_block *next;
};

struct event {
	volatile uint32_t signalled;
};

static struct free_block *free_list;
static uintptr_t pool_start, pool_end;
static size_t pool_used;

static void port_log(void *ctx, enum vio_log_level level, const char *msg)
{
	static const char *const tags[] = {
		[VIO_LOG_ERR] = "error: ",
		[VIO_LOG_WARN] = "warning: ",
		[VIO_LOG_INFO] = "",
		[VIO_LOG_DEBUG] = "debug: ",
	};
	unsigned l = (unsigned)level;

	(void)ctx;
	printf("vio: %s%s\n", l < sizeof(tags) / sizeof(tags[0]) ? tags[l] : "", msg);
}

static uintptr_t round_up(uintptr_t v, uintptr_t a)
{
	return (v + a - 1) & ~(a - 1);
}

void vio_baremetal_init(void)
{
	uintptr_t start, end;
	size_t size;

	if (free_list || pool_end)
		return; /* once only */
	board_dma_region(&start, &size);
	end = (start + size) & ~(uintptr_t)(GRAIN - 1);
	start = round_up(start, GRAIN);
	if (size == 0 || end <= start || end - start < GRAIN)
		return;
	pool_start = start;
	pool_end = end;
	free_list = (struct free_block *)start;
	free_list->size = end - start;
	free_list->next = NULL;
}

void vio_baremetal_pool_stats(size_t *used, size_t *total)
{
	uintptr_t s = board_irq_save();

	if (used)
		*used = pool_used;
	if (total)
		*total = pool_end - pool_start;
	board_irq_restore(s);
}

static void *dma_alloc(void *ctx, size_t size, size_t align)
{
	struct free_block **prev, *b;
	uintptr_t s;

	(void)ctx;
	if (align == 0)
		align = GRAIN;
	if (align & (align - 1))
		return NULL;
	if (align < GRAIN)
		align = GRAIN;
	if (size == 0)
		size = 1;
	if (size > SIZE_MAX - GRAIN || align > pool_end - pool_start)
		return NULL;
	size = round_up(size, GRAIN);

	s = board_irq_save();
	for (prev = &free_list; (b = *prev) != NULL; prev = &b->next) {
		uintptr_t bs = (uintptr_t)b, be = bs + b->size;
		uintptr_t start = round_up(bs, align);
		struct free_block *rest = b->next;

		if (start < bs || start > be || be - start < size)
			continue;
		/* The tail after the allocation stays free. */
		if (be - start > size) {
			rest = (struct free_block *)(start + size);
			rest->size = be - (start + size);
			rest->next = b->next;
		}
		/* So does the head before it (a whole number of grains, or none). */
		if (start > bs) {
			b->size = start - bs;
			b->next = rest;
		} else {
			*prev = rest;
		}
		pool_used += size;
		board_irq_restore(s);
		memset((void *)start, 0, size);
		return (void *)start;
	}
	board_irq_restore(s);
	return NULL;
}

static void dma_free(void *ctx, void *ptr, size_t size)
{
	struct free_block *before = NULL, *next, *b;
	uintptr_t p = (uintptr_t)ptr, s;

	(void)ctx;
	if (!ptr)
		return;
	if (size == 0)
		size = 1;
	if (size > SIZE_MAX - GRAIN)
		goto bad;
	size = round_up(size, GRAIN);
	if ((p & (GRAIN - 1)) || p < pool_start || p > pool_end || pool_end - p < size)
		goto bad;

	s = board_irq_save();
	for (next = free_list; next && (uintptr_t)next < p; next = next->next)
		before = next;
	/* It must not overlap a free neighbour, as a double free would. */
	if ((next && p + size > (uintptr_t)next) ||
	    (before && (uintptr_t)before + before->size > p)) {
		board_irq_restore(s);
		goto bad;
	}
	if (before && (uintptr_t)before + before->size == p) {
		b = before; /* grows the block before it */
		b->size += size;
	} else {
		b = (struct free_block *)p;
		b->size = size;
		b->next = next;
		if (before)
			before->next = b;
		else
			free_list = b;
	}
	if (next && (uintptr_t)b + b->size == (uintptr_t)next) {
		b->size += next->size;
		b->next = next->next;
	}
	pool_used -= size;
	board_irq_restore(s);
	return;

bad:
	port_log(NULL, VIO_LOG_ERR, "dma_free: not a live allocation; ignored");
}

static int irq_attach(void *ctx, int irq, vio_irq_handler handler, void *arg)
{
	(void)ctx;
	return board_irq_attach(irq, handler, arg);
}

static void irq_detach(void *ctx, int irq, void *arg)
{
	(void)ctx;
	board_irq_detach(irq, arg);
}

static void irq_mask(void *ctx, int irq)
{
	(void)ctx;
	board_irq_mask(irq);
}

static int msi_attach(void *ctx, vio_irq_handler handler, void *arg, uint64_t *addr,
		      uint32_t *data)
{
	(void)ctx;
	return board_msi_attach(handler, arg, addr, data);
}

static void msi_detach(void *ctx, int handle)
{
	(void)ctx;
	board_msi_detach(handle);
}

static uint64_t time_ns(void *ctx)
{
	(void)ctx;
	return board_time_ns();
}

static uintptr_t os_lock(void *ctx)
{
	(void)ctx;
	return board_irq_save();
}

static void os_unlock(void *ctx, uintptr_t state)
{
	(void)ctx;
	board_irq_restore(state);
}

static int event_create(void *ctx, void **event)
{
	struct event *ev = dma_alloc(ctx, sizeof(*ev), sizeof(uint32_t));

	if (!ev)
		return VIO_ENOMEM;
	ev->signalled = 0;
	*event = ev;
	return 0;
}

/* Task context with interrupts enabled: the handler must run to signal. */
static int event_wait(void *ctx, void *event, uint64_t timeout_ns)
{
	struct event *ev = event;
	uint64_t now = board_time_ns();
	uint64_t deadline = timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + timeout_ns;

	(void)ctx;
	for (;;) {
		uintptr_t s = board_irq_save();

		if (ev->signalled) {
			ev->signalled = 0;
			board_irq_restore(s);
			return 0;
		}
		if (board_time_ns() >= deadline) {
			board_irq_restore(s);
			return VIO_ETIMEDOUT;
		}
		board_idle_until(deadline);
		board_irq_restore(s);
	}
}

static void event_signal(void *ctx, void *event)
{
	struct event *ev = event;

	(void)ctx;
	ev->signalled = 1;
}

static const struct vio_port port = {
	.ctx = NULL,
	.dma_alloc = dma_alloc,
	.dma_free = dma_free,
	.virt_to_dma = NULL, /* the identity */
	.cache_clean = NULL,
	.cache_invalidate = NULL,
	.irq_attach = irq_attach,
	.irq_detach = irq_detach,
	.irq_mask = irq_mask,
	.msi_attach = msi_attach,
	.msi_detach = msi_detach,
	.time_ns = time_ns,
	.log = port_log,
};

static const struct vio_os os = {
	.ctx = NULL,
	.lock = os_lock,
	.unlock = os_unlock,
	.event_create = event_create,
	.event_wait = event_wait,
	.event_signal = event_signal,
};

const struct vio_port *vio_baremetal_port(void)
{
	return &port;
}

const struct vio_os *vio_baremetal_os(void)
{
	return &os;
}
