/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Template port: every hook of the port contract (include/vio/port.h),
 * stubbed, with its contract. A new platform starts by copying this folder.
 *
 * README
 *
 * A platform gives vio two things:
 *
 *  1. struct vio_port (required): DMA memory, address translation, optional
 *     cache maintenance, optional interrupt attach, a clock and a log.
 *  2. struct vio_os (optional; pass NULL to vio_init for a single thread of
 *     control that spins while it waits): an interrupt-safe lock and a
 *     binary event to sleep on until an interrupt wakes the waiter.
 *
 * Register access and barriers are not part of the port: they are the inline
 * functions of <vio/io.h>, one small header per architecture
 * (include/vio/arch/). A new architecture adds one there.
 *
 * Start-up, in task context:
 *
 *     vio_template_init();
 *     vio_init(vio_template_port(), vio_template_os());
 *     vio_driver_register(&vio_rng_driver, NULL);
 *     vio_mmio_add(base, irq, slot, NULL);   // for each virtio-mmio node
 *
 * Rules every hook follows:
 *  - Hooks marked "any context" may run in an interrupt handler: no
 *    sleeping, no locks that can be held by a task without masking
 *    interrupts.
 *  - vio never calls malloc. All its memory comes from dma_alloc, at probe
 *    time only; the I/O path allocates nothing.
 *  - Errors are negative VIO_E... codes from <vio/error.h>.
 *
 * ports/baremetal/ is a complete implementation on the boards in boards/,
 * and tests/sim/sim_port.c one on the host simulator; both are worth
 * reading next to this file.
 */
#include <stddef.h>
#include <stdint.h>

#include <vio/error.h>
#include <vio/port.h>

#include "vio_port_template.h"

/* Platform state the hooks share; reached through the ctx pointer. */
struct template_ctx {
	int unused; /* e.g. the DMA pool, the timer, the log sink */
};

static struct template_ctx ctx;

/*
 * Required. Return size bytes of zeroed memory aligned to align (a power of
 * two, up to the legacy page size of 4096) that the device can read and
 * write by DMA: physically contiguous, reachable by the device's bus, and
 * mapped so that the CPU and the device agree (uncached, or cached with
 * cache_clean/cache_invalidate below). Keep rings off pages that hold code
 * when the platform is an emulator that penalizes self-modifying code.
 * Called at probe time only. Return NULL when out of memory.
 * Task context.
 */
static void *template_dma_alloc(void *c, size_t size, size_t align)
{
	(void)c;
	(void)size;
	(void)align;
	return NULL;
}

/*
 * Required. Give back ptr from dma_alloc; size is the size it was
 * allocated with. The device no longer uses it. Task context.
 */
static void template_dma_free(void *c, void *ptr, size_t size)
{
	(void)c;
	(void)ptr;
	(void)size;
}

/*
 * Optional. The address the device must use for CPU address ptr: the
 * physical (bus) address, after any IOMMU or bus offset. ptr may be any
 * byte inside a dma_alloc block or a caller's buffer handed to a driver.
 * Where CPU and device addresses are the same, leave the hook NULL: the
 * I/O path then makes no call for it. Any context.
 */
static uint64_t template_virt_to_dma(void *c, const void *ptr)
{
	(void)c;
	return (uint64_t)(uintptr_t)ptr;
}

/*
 * Optional: leave NULL on cache-coherent platforms (QEMU). Write back the
 * data cache over [ptr, ptr+len) so the device reads what the CPU wrote.
 * Any context.
 */
static void template_cache_clean(void *c, const void *ptr, size_t len)
{
	(void)c;
	(void)ptr;
	(void)len;
}

/*
 * Optional: leave NULL on cache-coherent platforms. Invalidate the data
 * cache over [ptr, ptr+len) so the CPU reads what the device wrote.
 * Any context.
 */
static void template_cache_invalidate(void *c, const void *ptr, size_t len)
{
	(void)c;
	(void)ptr;
	(void)len;
}

/*
 * Optional: leave NULL to poll every device. Route interrupt line irq (in
 * the board's numbering, as passed to vio_mmio_add) to handler(arg),
 * level-triggered, and enable it. The handler runs in interrupt context;
 * vio's handler only reads and acknowledges the device's interrupt status
 * and signals the device's event. Return 0, or VIO_EINVAL for a bad or
 * taken line (vio then polls that device). Task context, probe time.
 */
static int template_irq_attach(void *c, int irq, vio_irq_handler handler, void *arg)
{
	(void)c;
	(void)irq;
	(void)handler;
	(void)arg;
	return VIO_ENOTSUP;
}

/*
 * Optional: forget the handler of line irq attached with arg, and disable
 * the line when it was the last one. Task context.
 */
static void template_irq_detach(void *c, int irq, void *arg)
{
	(void)c;
	(void)irq;
	(void)arg;
}

/*
 * Optional, both or neither (NULL: PCI devices use their INTx line).
 * Allocate one message-signalled interrupt, route it to handler(arg),
 * edge-triggered, enable it, and say what the device writes to raise it:
 * the 32-bit *data at device address *addr (on a GICv2m frame, the SPI's
 * INTID at MSI_SETSPI_NS; on an IMSIC, the interrupt identity at the
 * hart's interrupt file). Return a handle >= 0 for msi_detach, or
 * VIO_ENOSPC when none is left (vio then shares vectors or uses INTx).
 * The handler needs no acknowledgement at the device. Task context.
 */
static int template_msi_attach(void *c, vio_irq_handler handler, void *arg, uint64_t *addr,
			       uint32_t *data)
{
	(void)c;
	(void)handler;
	(void)arg;
	(void)addr;
	(void)data;
	return VIO_ENOTSUP;
}

/* Optional: disable and free the interrupt of handle. Task context. */
static void template_msi_detach(void *c, int handle)
{
	(void)c;
	(void)handle;
}

/*
 * Required. A monotonic clock in nanoseconds (never goes back, need not
 * start at 0). Timeouts and benchmarks use it, so it should tick at least
 * every few microseconds. Any context.
 */
static uint64_t template_time_ns(void *c)
{
	(void)c;
	return 0;
}

/*
 * Optional. Emit one log line at level (no trailing newline in msg; add
 * one). vio never logs from an interrupt handler. Task context.
 */
static void template_log(void *c, enum vio_log_level level, const char *msg)
{
	(void)c;
	(void)level;
	(void)msg;
}

static const struct vio_port template_port = {
	.ctx = &ctx,
	.dma_alloc = template_dma_alloc,
	.dma_free = template_dma_free,
	.virt_to_dma = template_virt_to_dma,
	.cache_clean = template_cache_clean,          /* NULL if coherent */
	.cache_invalidate = template_cache_invalidate, /* NULL if coherent */
	.irq_attach = template_irq_attach,            /* NULL to poll */
	.irq_detach = template_irq_detach,
	.msi_attach = template_msi_attach,            /* NULL: INTx only */
	.msi_detach = template_msi_detach,
	.time_ns = template_time_ns,
	.log = template_log,
};

/*
 * Interrupt-safe lock around short critical sections shared with interrupt
 * handlers: mask interrupts (and take a spin lock on SMP) and return the
 * previous state, which unlock restores. Never held while waiting; may
 * nest. Any context.
 */
static uintptr_t template_lock(void *c)
{
	(void)c;
	return 0;
}

static void template_unlock(void *c, uintptr_t state)
{
	(void)c;
	(void)state;
}

/*
 * Create a binary event (a semaphore with a count of at most one) and
 * store its handle in *event. Return 0 or VIO_ENOMEM. Task context, probe
 * time.
 */
static int template_event_create(void *c, void **event)
{
	(void)c;
	*event = NULL;
	return VIO_ENOMEM;
}

/*
 * Block the calling task until event is signalled or timeout_ns has
 * passed; consume the signal. A signal given before the wait must not be
 * lost (check-then-sleep with interrupts masked, or a counting primitive).
 * Return 0 when signalled, VIO_ETIMEDOUT otherwise; returning early for no
 * reason is allowed (vio re-checks). Without an RTOS: mask interrupts,
 * test the flag, sleep until an interrupt or the deadline, unmask.
 * Task context.
 */
static int template_event_wait(void *c, void *event, uint64_t timeout_ns)
{
	(void)c;
	(void)event;
	(void)timeout_ns;
	return VIO_ETIMEDOUT;
}

/* Signal event, waking its waiter. Interrupt or task context. */
static void template_event_signal(void *c, void *event)
{
	(void)c;
	(void)event;
}

static const struct vio_os template_os = {
	.ctx = &ctx,
	.lock = template_lock,
	.unlock = template_unlock,
	.event_create = template_event_create,
	.event_wait = template_event_wait,
	.event_signal = template_event_signal,
};

/*
 * Set up what the hooks need (DMA pool, timer, interrupt controller) once,
 * before vio_init. Task context.
 */
void vio_template_init(void)
{
}

const struct vio_port *vio_template_port(void)
{
	return &template_port;
}

const struct vio_os *vio_template_os(void)
{
	return &template_os;
}
