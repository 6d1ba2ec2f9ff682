/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device core: the device table, the driver registry, the status
 * handshake and feature negotiation (VirtIO 1.2 section 3.1.1), queue set-up,
 * interrupt routing, deferred work, waiting, reset and failure.
 *
 * Typical start-up (task context, single-threaded):
 *
 *     vio_init(&port, &os);                  // or NULL for no OS
 *     vio_driver_register(&vio_rng_driver, NULL);
 *     vio_mmio_add(base, irq, slot, NULL);   // once per virtio-mmio node
 *
 * Each added device is identified, matched to a registered driver by device
 * id, negotiated and set up; the driver's probe runs and the device is live
 * (DRIVER_OK). Devices without a driver stay in the table, reset and idle.
 *
 * Work that arrives unasked. A device's interrupt handler (vio_dev_irq) only
 * reads and acknowledges the interrupt status, notes it and wakes whoever
 * sleeps; the work itself (a queue's completion handler, a configuration
 * change, DEVICE_NEEDS_RESET) is deferred to task context:
 *
 *     for (;;) {                       // a bare-metal main loop, or an
 *         vio_service_wait(timeout);   // RTOS service thread
 *         vio_service();
 *     }
 *
 * A thread blocked in a driver's blocking call (vio_blk_read, ...) runs its
 * own device's deferred work while it waits, so a single-threaded program
 * needs vio_service only for devices nobody waits on. Polled devices (a
 * polling build, no interrupt line, no irq_attach) take the same path:
 * vio_service and the waiters look at their rings instead of an interrupt.
 * docs/threading.md has the whole model.
 *
 * Contexts: every function here is task context unless it says otherwise;
 * vio_dev_irq and vio_dev_irq_queue are interrupt context.
 */
#ifndef VIO_DEVICE_H
#define VIO_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "port.h"
#include "transport.h"
#include "virtqueue.h"

struct vio_device;
struct vio_dev_queue; /* the core's per-queue state */

/* A feature bit with its name, for logs and list_device. */
struct vio_feature_name {
	uint8_t bit;          /* the feature bit's number */
	const char *name;     /* its name in the spec, without VIRTIO_*_F_ */
};

/* A driver of one device type, registered with vio_driver_register. */
struct vio_driver {
	const char *name;    /* short type name: "rng", "blk", ... */
	uint32_t device_id;  /* VIRTIO_ID_* it drives */
	/*
	 * Device-specific features the driver can use. The core adds the ring
	 * and transport features the build enables (VERSION_1 on modern
	 * devices, ANY_LAYOUT on legacy ones, INDIRECT_DESC when
	 * uses_indirect, EVENT_IDX).
	 */
	uint64_t features;
	/* Names of the device-specific feature bits (terminated by name NULL). */
	const struct vio_feature_name *feature_names;
	/* Bytes of driver state the core allocates (zeroed) for each device. */
	size_t priv_size;
	/*
	 * The driver builds chains of several segments, so indirect
	 * descriptor tables (VIRTIO_RING_F_INDIRECT_DESC) are negotiated; each
	 * queue says how long its chains are (struct vio_vq_opts).
	 */
	bool uses_indirect;
	/*
	 * The driver resets single queues (vio_dev_vq_reset), so
	 * VIRTIO_F_RING_RESET is negotiated where the transport can do it.
	 */
	bool uses_queue_reset;
	/*
	 * Optional: trim the features about to be accepted (what both sides
	 * offer) before the device is told, e.g. drop features whose
	 * prerequisite the device did not offer (a device must not offer
	 * them, 2.2, but some do). Task context, before probe.
	 */
	void (*fix_features)(struct vio_device *dev, uint64_t *features);

	/*
	 * Set up queues and state after features are negotiated. Returning an
	 * error resets and fails the device. Task context.
	 */
	int (*probe)(struct vio_device *dev);
	/*
	 * Tear down driver state. The device was reset and its queues are
	 * still there (vio_vq_detach_unused gives back what they held); they
	 * are freed after remove returns. Optional. Task context.
	 */
	void (*remove)(struct vio_device *dev);
	/*
	 * The device's configuration changed (a configuration change
	 * interrupt, or found by polling). Optional. Task context, from the
	 * deferred work: never at the same time as this device's queue
	 * handlers or another config_changed.
	 */
	void (*config_changed)(struct vio_device *dev);
	/*
	 * The device is live (DRIVER_OK set, state READY): the first moment
	 * the driver may notify it (3.1.1: not before DRIVER_OK), to publish
	 * buffers posted at probe or send a first message. Optional. Task
	 * context, once, from vio_dev_add; a failure here is the driver's to
	 * report (vio_dev_fail).
	 */
	void (*started)(struct vio_device *dev);
	/*
	 * Set the device up again after a failure (vio_dev_recover): the core
	 * has called remove, freed the queues, reset the device and
	 * negotiated its features afresh; priv is kept as remove left it, so
	 * the driver re-reads the configuration and re-creates its queues as
	 * probe does, keeping what the application set at run time (a
	 * timeout, callbacks). started runs after it, as after probe.
	 * Optional: without it the device cannot be recovered. Task context.
	 */
	int (*resume)(struct vio_device *dev);
};

/* Where a device table entry stands (vio_dev_state). */
enum vio_dev_state {
	VIO_DEV_EMPTY = 0,   /* table slot unused */
	VIO_DEV_NO_DRIVER,   /* identified; no driver registered for its id */
	VIO_DEV_REFUSED,     /* its interface or features cannot be used */
	VIO_DEV_READY,       /* driver probed, DRIVER_OK set */
	VIO_DEV_FAILED,      /* handshake failed or the device broke the protocol; reset */
};

/* How a device interrupts (vio_dev_irq_mode), decided when its driver starts. */
enum vio_irq_mode {
	VIO_IRQ_MODE_POLLED = 0,  /* no interrupt: the service and the waits poll */
	VIO_IRQ_MODE_LINE,        /* its interrupt line (virtio-mmio, PCI INTx), status read */
	VIO_IRQ_MODE_MSIX_SHARED, /* PCI MSI-X: one vector for the configuration, one for all queues */
	VIO_IRQ_MODE_MSIX,        /* PCI MSI-X: a vector for each queue and one for the configuration */
};

struct vio_dev_vector;

/* One entry of the device table: a device found by a transport. */
struct vio_device {
	enum vio_dev_state state;    /* read it with vio_dev_state() */
	char name[12];               /* type and number among its type: "rng0", "blk1", "input0" */
	int slot;                    /* the board's slot number */
	int irq;                     /* interrupt line, -1 for none */
	uint64_t offered;            /* features the device offered */
	uint64_t negotiated;         /* features both sides accepted */
	int error;                   /* why REFUSED / FAILED (VIO_E...) */
	struct vio_transport t;      /* how to reach it */
	const struct vio_driver *driver; /* the driver bound to it, or NULL */
	const void *params;          /* the driver's run-time parameters (registration), or NULL */
	void *priv;                  /* driver state, priv_size bytes */
	uint32_t irq_count;          /* interrupts taken */
	uint32_t notify_count;       /* notifications sent (queue kicks that reached the device) */

	/* The core's own; drivers use the functions below. */
	struct vio_dev_queue *queues;
	unsigned nqueues;
	uint32_t pending;            /* deferred work noted by the interrupt handler */
	uint32_t empty_irqs;         /* interrupts with nothing to report since a service; atomic */
	uint32_t polls;              /* service passes of a polled device */
	void *mutex;                 /* serializes a failure's reset (os->mutex_*) */
	bool irq_attached;           /* the port's irq_attach took its handler */
	bool line_masked;            /* its line was masked by a storm: polled from then on; atomic */
	uint8_t irq_mode;            /* enum vio_irq_mode */
	uint16_t nvectors;           /* MSI-X vectors the device interrupts with */
	struct vio_dev_vector *vectors; /* and what each one stands for */
	bool busy;                   /* a thread runs this device's deferred work */
	bool rerun;                  /* more work was noted meanwhile */
	bool resetting;              /* vio_dev_fail is resetting it */
	bool reset_done;             /* the failure's reset has been done */
	bool gone;                   /* unplugged: its registers are out of reach (vio_dev_remove) */
};

/* Per-queue options for vio_dev_vq_setup. */
struct vio_vq_opts {
	/* Most entries the driver wants (0: the build's CONFIG_VIO_QUEUE_SIZE_MAX). */
	uint32_t max_size;
	/*
	 * Segments of the driver's longest chain on this queue, for indirect
	 * tables when they were negotiated (0 or 1: none).
	 */
	uint16_t indirect_max;
	/*
	 * The queue carries only device-readable buffers and the driver reads
	 * no used length from it, but devices in the field report the bytes
	 * they read there (QEMU's virtio-input status queue): clamp such a
	 * length to the chain's writable bytes instead of failing the device.
	 */
	bool clamp_used_len;
	/*
	 * The completion handler: called in task context whenever the queue
	 * may have used buffers (after an interrupt, or when a polled queue
	 * has some), whether or not anyone waits. It drains the queue with
	 * vio_vq_dequeue until VIO_EAGAIN. Never called twice at once, nor at
	 * the same time as the device's other handlers and config_changed.
	 * NULL: the driver drains the queue itself from its wait loops.
	 */
	void (*handler)(struct vio_device *dev, struct vio_vq *vq, void *arg);
	void *arg;
};

/*
 * Set up the library with a platform port (required) and OS hooks (NULL
 * for none). Both must outlive the library. Resets the device table.
 * Returns 0, VIO_EINVAL (a required hook is missing) or VIO_ENOMEM.
 * Task context, once, before anything else and before any other thread
 * uses vio; takes no lock.
 */
int vio_init(const struct vio_port *port, const struct vio_os *os);

/* The port and OS hooks given to vio_init (os may be NULL). Any context. */
const struct vio_port *vio_port(void);
const struct vio_os *vio_os(void);

/*
 * Make drv available to devices added after this call, with its run-time
 * parameters params (the driver's own struct, e.g. struct vio_blk_params;
 * NULL for its defaults; it must outlive the devices). Returns 0,
 * VIO_EINVAL, VIO_EBUSY (a driver for that id is registered) or VIO_ENOSPC.
 * Task context, start-up, one thread (the registry takes no lock).
 */
int vio_driver_register(const struct vio_driver *drv, const void *params);

/*
 * Add the device a transport found (t filled by it: ops, identification,
 * interrupt line) with the board's slot number. The device enters the table
 * whatever happens next (a refused or failed device shows why) and *out
 * (if not NULL) points at it. Returns 0 when the device is READY or has no
 * driver, else the error that stopped it; VIO_ENODEV for an empty slot
 * (device id 0, not added), VIO_ENOSPC when the table is full. Task context,
 * start-up, one thread: the table takes no lock, and other threads may use a
 * device only once this returned. Its interrupt may come from the moment its
 * queues are set up.
 */
int vio_dev_add(const struct vio_transport *t, int slot, struct vio_device **out);

/* The device table: entries 0 .. vio_dev_count()-1, in the order added. Any context. */
unsigned vio_dev_count(void);
struct vio_device *vio_dev_at(unsigned i);

/* The index-th device (0-based) of a device id, or NULL. Any context. */
struct vio_device *vio_dev_find(uint32_t device_id, unsigned index);

/*
 * The device's state as any thread sees it: the core changes it (a failure
 * can come from any thread using the device), drivers and applications
 * read it without a lock to decide whether to go on. Any context.
 */
static inline enum vio_dev_state vio_dev_state(const struct vio_device *dev)
{
	return __atomic_load_n(&dev->state, __ATOMIC_ACQUIRE);
}

/* Whether feature bit is negotiated. Any context. */
static inline bool vio_dev_has(const struct vio_device *dev, unsigned bit)
{
	return (dev->negotiated >> bit) & 1u;
}

/* "legacy" or "modern". Any context. */
const char *vio_dev_interface(const struct vio_device *dev);

/* A readable device type name for a device id ("blk", "net", ...; "unknown"). Any context. */
const char *vio_dev_type_name(uint32_t device_id);

/* A readable name for feature bit of dev (device-specific or ring), or NULL. Any context. */
const char *vio_dev_feature_name(const struct vio_device *dev, unsigned bit);

/*
 * For drivers, in probe: create queue index as opts says (NULL: defaults),
 * sized within what the device, the driver and the build allow, and give it
 * to the device. Queue numbers need not be dense; the core keeps as many
 * records as the highest index needs. Returns 0 with *vq set, VIO_ENODEV
 * (the device has no such queue), VIO_EBUSY (already set up), VIO_ENOMEM or
 * a transport error. Task context, probe time; takes vio_lock to publish
 * the queue to the interrupt handler.
 */
int vio_dev_vq_setup(struct vio_device *dev, unsigned index, const struct vio_vq_opts *opts,
		     struct vio_vq **vq);

/* Queue index of dev, or NULL when it was not set up. Any context. */
struct vio_vq *vio_dev_vq(const struct vio_device *dev, unsigned index);

/*
 * Reset queue index alone (VirtIO 1.2 section 2.6.1, VIRTIO_F_RING_RESET)
 * while the device and its other queues go on: the device stops using the
 * queue and forgets it; reclaim(arg) then takes back every buffer the
 * queue held (vio_vq_detach_unused until NULL, in flight or completed and
 * not yet taken); the queue starts over empty, the same size, and is given
 * to the device again, with its MSI-X vector. The driver re-posts what it
 * keeps posted afterwards. Returns 0; VIO_ENOTSUP (RING_RESET not
 * negotiated); VIO_EINVAL (no such queue); VIO_ESHUTDOWN (the device is not
 * READY); VIO_EAGAIN (a service pass runs right now: try again); or the
 * transport's error, the device then failed (vio_dev_fail). Task context,
 * never with vio_lock held; no other thread may be inside a call on the
 * queue meanwhile.
 */
int vio_dev_vq_reset(struct vio_device *dev, unsigned index, void (*reclaim)(void *arg),
		     void *arg);

/*
 * Read device-specific config at offset off (1, 2, 4 or 8 bytes), converted
 * to CPU order, retried until the config generation is stable (section
 * 2.5.1; on legacy devices, which have no generation, an 8-byte field is
 * read until two reads agree). Returns 0, VIO_EINVAL, VIO_ENODEV for a
 * refused device (VIO_DEV_REFUSED: it is not driven, and its registers may
 * be out of reach) or VIO_EPROTO when the device never gives a stable value. Task context, any thread; takes no
 * lock, so never call it with vio_lock held (a device may be slow to
 * answer). Two threads changing the same field must agree between them.
 */
int vio_dev_config_read(struct vio_device *dev, unsigned off, unsigned width, uint64_t *val);
int vio_dev_config_write(struct vio_device *dev, unsigned off, unsigned width, uint64_t val);

/*
 * The port's interrupt-safe lock (os->lock), for the short critical
 * sections a driver shares between threads: every call on a queue, the
 * driver's request tables. Not recursive; never held while waiting, logging
 * or calling back into an application. Without OS hooks it does nothing.
 * Any context.
 */
uintptr_t vio_lock(void);
void vio_unlock(uintptr_t state);

/*
 * Give up on the device: every queue refuses new work, the device is told
 * (FAILED) and reset, with a bounded wait, so it can no longer touch any
 * buffer; only then does this return, and only then may the driver give
 * buffers back to their owners (vio_vq_detach_unused). Waiters wake and see
 * VIO_ESHUTDOWN. Idempotent: a second call, from any thread, returns once
 * the first one's reset is done. A refused device (VIO_DEV_REFUSED) was
 * never driven and is left as it is. Task context; never with vio_lock
 * held. Takes the device's mutex (os->mutex_*) for the reset and vio_lock
 * briefly; logs.
 */
void vio_dev_fail(struct vio_device *dev, int err);

/*
 * Bring a failed device back into service (VirtIO 1.2 section 3.1.1 from
 * the start): its deferred work runs once more, so every request the
 * failure ended has been completed with an error; the queues are freed,
 * the device is reset, its features are negotiated again and the driver's
 * resume re-creates its queues, re-reads its configuration and re-posts
 * its receive buffers; the device is READY again and started runs. A
 * device that failed while it was being added is probed afresh instead.
 * Returns 0; VIO_EINVAL (the device is not FAILED, or its failure's reset
 * is not done); VIO_ENOTSUP (its driver cannot resume); VIO_EAGAIN
 * (another thread runs its deferred work right now: try again); or the
 * error that failed it again (it is then FAILED, as before). Task
 * context; never with vio_lock held. No other thread may be inside a call
 * on the device meanwhile: the threads that saw VIO_ESHUTDOWN or
 * VIO_ETIMEDOUT wait until the recovering thread says it is back (a call
 * that starts during recovery finds the device FAILED and returns
 * VIO_ESHUTDOWN at its first check).
 */
int vio_dev_recover(struct vio_device *dev);

/*
 * The device is leaving the bus (a PCI hot-unplug): fail it for good, as
 * vio_dev_fail does, so every request in flight ends with an error and
 * every waiter wakes with VIO_ESHUTDOWN. present says whether it still
 * answers (an unplug request: it is reset first, so it stops using its
 * buffers before it loses power); without it (a surprise removal) nothing
 * is written to it. Either way the core never reads or writes its
 * registers again (a removed function reads all ones): interrupts for it
 * are dropped, configuration reads return VIO_ENODEV, vio_dev_recover
 * refuses it. Only vio_dev_replug brings it back. Task context; never
 * with vio_lock held.
 */
void vio_dev_remove(struct vio_device *dev, bool present);

/*
 * A removed device (vio_dev_remove) is back, found by its transport as t
 * (the same device type, possibly at new addresses): the old transport
 * state is released, t takes its place and the device is recovered
 * (vio_dev_recover): the driver's state, and with it the application's
 * handle on the device, is the one it had before. Returns 0; VIO_EINVAL
 * (dev was not removed, or t is for another device type); or what
 * vio_dev_recover returns. Task context, the thread that removed it; no
 * other thread inside a call on the device.
 */
int vio_dev_replug(struct vio_device *dev, const struct vio_transport *t);

/*
 * Interrupt entry for a device's line (the transport's shared interrupt):
 * acknowledge the device's interrupt status, note it and wake the waiters
 * and the service. Touches no ring, logs nothing, reads and writes no
 * register but the interrupt status and its acknowledgement. Interrupt
 * context; takes vio_lock (a spin lock on SMP) for the few words it
 * writes and signals events.
 */
void vio_dev_irq(void *dev);

/*
 * Interrupt entry for a transport with a vector per queue (or one for the
 * configuration, index VIO_DEV_IRQ_CONFIG): the interrupt itself says what
 * happened, nothing is read. Interrupt context; takes vio_lock as
 * vio_dev_irq does.
 */
#define VIO_DEV_IRQ_CONFIG 0xffffu
void vio_dev_irq_queue(struct vio_device *dev, unsigned index);

/*
 * Run dev's deferred work now, in the caller's thread: configuration
 * changes, DEVICE_NEEDS_RESET, interrupt storms, and the completion handler
 * of every queue that may have used buffers. If another thread is running
 * it already, that thread does the work (including what was noted after it
 * started) and this returns at once. Task context, any thread; never with
 * vio_lock held: it takes it briefly and runs the handlers without it.
 */
void vio_dev_service(struct vio_device *dev);

/*
 * Look at every queue of dev now, as if the device had interrupted, and run
 * its deferred work (vio_dev_service): for a caller that polls for
 * completions whatever the interrupts say. Task context, any thread; never
 * with vio_lock held (as vio_dev_service).
 */
void vio_dev_poll(struct vio_device *dev);

/*
 * Run the deferred work of every device (vio_dev_service on each). The one
 * call an application's main loop or service thread makes. Returns how
 * many devices it ran a service pass for: those with work noted, and every
 * polled device (whose rings it looks at each time). Task context, any thread (usually one); never
 * with vio_lock held (as vio_dev_service).
 */
unsigned vio_service(void);

/*
 * Sleep until some device has deferred work, at most timeout_ns. Returns 0
 * when there is work (or may be: spurious returns are allowed) or
 * VIO_ETIMEDOUT. With polled devices it spins, looking at their rings.
 * Task context, any thread; never with vio_lock held (it sleeps on the
 * service event, and takes vio_lock to look at polled rings).
 */
int vio_service_wait(uint64_t timeout_ns);

/*
 * Wait until done(arg) returns true, at most timeout_ns, for work on queue
 * vq of dev. While it waits it runs dev's deferred work (vio_dev_service),
 * so the handlers that complete the caller's requests run even without a
 * service thread. done is called first before any wait and after every
 * wake-up. Only one thread waits on a queue at a time (a second one sleeps
 * on the queue's mutex until the first returns, when the OS hooks have
 * one); waiters on different queues never take each other's wake-ups.
 * Returns 0, VIO_ETIMEDOUT, or VIO_ESHUTDOWN when the device failed
 * meanwhile. Task context; never with vio_lock held.
 */
int vio_dev_wait(struct vio_device *dev, struct vio_vq *vq, bool (*done)(void *arg), void *arg,
		 uint64_t timeout_ns);

/* Whether completions come by interrupt (true) or polling (false). Any context. */
bool vio_dev_uses_irq(const struct vio_device *dev);

/*
 * How dev interrupts: enum vio_irq_mode, and as text ("polled", "line",
 * "msix-shared", "msix"). A PCI device with MSI-X gets a vector per queue
 * plus one for configuration changes; when the platform has too few
 * (port msi_attach) or the device's table is too small or the device
 * refuses one (reads NO_VECTOR back), one vector for all its queues and
 * one for the configuration (a single one when the table has one entry);
 * failing that its INTx line. Any context.
 */
enum vio_irq_mode vio_dev_irq_mode(const struct vio_device *dev);
const char *vio_dev_irq_mode_name(const struct vio_device *dev);

#endif
