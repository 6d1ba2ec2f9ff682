/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The port contract: everything vio needs from a platform.
 *
 * A platform hands vio one const struct vio_port (and optionally one const
 * struct vio_os) at start-up with vio_init(). vio never calls malloc and has
 * no weak symbols: every hook it uses is here. ports/template/ stubs each one
 * with its contract; ports/baremetal/ is the implementation the QEMU boards
 * use. Register access and memory barriers are the inline functions of
 * <vio/io.h>, chosen per architecture.
 */
#ifndef VIO_PORT_H
#define VIO_PORT_H

#include <stddef.h>
#include <stdint.h>

/* Levels of the log hook, most important first. */
enum vio_log_level {
	VIO_LOG_ERR = 0,
	VIO_LOG_WARN = 1,
	VIO_LOG_INFO = 2,
	VIO_LOG_DEBUG = 3,
};

/* An interrupt handler as vio hands it to irq_attach. */
typedef void (*vio_irq_handler)(void *arg);

/* The platform port: what vio needs from the platform, handed to vio_init. */
struct vio_port {
	/* Passed as the first argument of every hook below. */
	void *ctx;

	/*
	 * Required. Allocate size bytes of zeroed memory aligned to align (a
	 * power of two) that the device can read and write by DMA. Used at
	 * probe time only (rings, request headers, driver state), never on the
	 * I/O path. Returns NULL when out of memory. Task context.
	 */
	void *(*dma_alloc)(void *ctx, size_t size, size_t align);

	/* Required. Give back memory from dma_alloc (same size). Task context. */
	void (*dma_free)(void *ctx, void *ptr, size_t size);

	/*
	 * Optional. The address the device uses for CPU address ptr. NULL
	 * when the device sees CPU addresses as they are (QEMU, most MCUs):
	 * that spares an indirect call per buffer on the I/O path. Any
	 * context.
	 */
	uint64_t (*virt_to_dma)(void *ctx, const void *ptr);

	/*
	 * Optional (NULL on cache-coherent platforms such as QEMU). Write back
	 * the CPU cache over [ptr, ptr+len) before the device reads it, and
	 * invalidate it before the CPU reads what the device wrote. Any context.
	 */
	void (*cache_clean)(void *ctx, const void *ptr, size_t len);
	void (*cache_invalidate)(void *ctx, const void *ptr, size_t len);

	/*
	 * Optional; NULL means every device is polled. Route interrupt line irq
	 * (as the board numbers it) to handler(arg) and enable it. The handler
	 * runs in interrupt context and only reads and acknowledges the
	 * device's interrupt status and wakes waiters. A line may be shared
	 * by several devices (PCI INTx): attach a second handler to it where
	 * the platform can (each handler then runs on every interrupt of the
	 * line, and finds out from its device whether it was meant), or fail,
	 * and that device is polled. Returns 0 or a negative VIO_E... code.
	 * Task context, probe time.
	 */
	int (*irq_attach)(void *ctx, int irq, vio_irq_handler handler, void *arg);

	/*
	 * Optional: undo the irq_attach of line irq that passed arg (the
	 * other handlers of a shared line stay). Task context.
	 */
	void (*irq_detach)(void *ctx, int irq, void *arg);

	/*
	 * Optional. Stop interrupt line irq from being delivered, from inside
	 * its own handler: vio masks a line whose device keeps interrupting
	 * with nothing to report (an interrupt storm would otherwise keep the
	 * CPU from ever running a task). Any context.
	 */
	void (*irq_mask)(void *ctx, int irq);

	/*
	 * Optional, both or neither; NULL: every device interrupts through
	 * its line (irq_attach). Allocate one message-signalled interrupt
	 * (PCI MSI-X), route it to handler(arg) and enable it, edge-triggered:
	 * the device raises it by writing the 32-bit *data to the device
	 * address *addr. Returns a handle (>= 0) for msi_detach, or a
	 * negative VIO_E... code when the platform has none left, and vio
	 * then shares one vector among a device's queues or falls back to
	 * the line. The handler runs in interrupt context; nothing needs to
	 * be acknowledged at the device. Task context, probe time.
	 */
	int (*msi_attach)(void *ctx, vio_irq_handler handler, void *arg, uint64_t *addr,
			  uint32_t *data);
	/* Disable and give back the interrupt msi_attach returned handle for. Task context. */
	void (*msi_detach)(void *ctx, int handle);

	/*
	 * Required. A monotonic clock in nanoseconds, for timeouts and
	 * benchmarks. Any context.
	 */
	uint64_t (*time_ns)(void *ctx);

	/*
	 * Optional. Print one formatted line (no trailing newline) at a level.
	 * Task context (vio does not log from interrupt handlers).
	 */
	void (*log)(void *ctx, enum vio_log_level level, const char *msg);
};

/*
 * The operating-system hooks. Optional as a whole: without it vio assumes a
 * single thread of control, spins while it waits and takes no locks.
 * docs/threading.md says which thread calls what.
 */
struct vio_os {
	void *ctx; /* passed as the first argument of every hook below */

	/*
	 * Interrupt-safe lock around short critical sections shared with
	 * interrupt handlers (never held while waiting). lock returns a value
	 * that unlock restores (saved interrupt state). Any context.
	 */
	uintptr_t (*lock)(void *ctx);
	void (*unlock)(void *ctx, uintptr_t state);

	/*
	 * Create a waitable event (a binary semaphore on an RTOS) and store its
	 * handle in *event. Task context, probe time. Returns 0 or VIO_E....
	 */
	int (*event_create)(void *ctx, void **event);

	/*
	 * Block until event is signalled or timeout_ns has passed. A signal
	 * that came before the wait must not be lost. Returns 0 when
	 * signalled, VIO_ETIMEDOUT otherwise; spurious returns are allowed.
	 * Task context.
	 */
	int (*event_wait)(void *ctx, void *event, uint64_t timeout_ns);

	/* Signal event. Interrupt or task context. */
	void (*event_signal)(void *ctx, void *event);

	/* Optional: free an event from event_create (NULL: events are never freed). Task context. */
	void (*event_destroy)(void *ctx, void *event);

	/*
	 * Optional, all three or none: a sleeping mutex (a mutex or binary
	 * semaphore on an RTOS), for callers that may block while holding it.
	 * vio holds one around a blocking wait on a queue so that two threads
	 * never wait on the same queue's event at once, and around a device's
	 * reset after a failure. Without them vio assumes one thread per
	 * device. Task context.
	 */
	int (*mutex_create)(void *ctx, void **mutex);
	void (*mutex_lock)(void *ctx, void *mutex);
	void (*mutex_unlock)(void *ctx, void *mutex);
	/* Optional: free a mutex from mutex_create. Task context. */
	void (*mutex_destroy)(void *ctx, void *mutex);
};

#endif
