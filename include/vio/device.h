/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device core: the device table, the driver registry, the status
 * handshake and feature negotiation (VirtIO 1.2 section 3.1.1), queue set-up,
 * interrupt dispatch and waiting, reset and failure.
 *
 * Typical start-up (task context, single-threaded):
 *
 *     vio_init(&port, &os);             // or NULL for no OS
 *     vio_driver_register(&vio_rng_driver);
 *     vio_mmio_add(base, irq, slot);    // once per virtio-mmio node
 *
 * Each added device is identified, matched to a registered driver by device
 * id, negotiated and set up; the driver's probe runs and the device is live
 * (DRIVER_OK). Devices without a driver stay in the table, reset and idle.
 */
#ifndef VIO_DEVICE_H
#define VIO_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "port.h"
#include "transport.h"
#include "virtqueue.h"

#ifndef VIO_MAX_VQS
#define VIO_MAX_VQS 8 /* queues per device the core tracks */
#endif

struct vio_device;

/* A feature bit with its name, for logs and list_device. */
struct vio_feature_name {
	uint8_t bit;
	const char *name;
};

struct vio_driver {
	const char *name;    /* short type name: "rng", "blk", ... */
	uint32_t device_id;  /* VIRTIO_ID_* it drives */
	/*
	 * Device-specific features the driver can use. The core adds the ring
	 * and transport features the build enables (VERSION_1 on modern
	 * devices, INDIRECT_DESC when indirect_max > 1, EVENT_IDX).
	 */
	uint64_t features;
	/* Names of the device-specific feature bits (terminated by name NULL). */
	const struct vio_feature_name *feature_names;
	/* Bytes of driver state the core allocates (zeroed) for each device. */
	size_t priv_size;
	/*
	 * Segments in the driver's longest chain, for indirect descriptor
	 * tables (VIRTIO_RING_F_INDIRECT_DESC); 0 or 1: the driver needs none
	 * and the feature is not negotiated.
	 */
	uint16_t indirect_max;

	/*
	 * Set up queues and state after features are negotiated. Returning an
	 * error fails the device (status FAILED). Task context.
	 */
	int (*probe)(struct vio_device *dev);
	/* Tear down after the device was reset. Optional. Task context. */
	void (*remove)(struct vio_device *dev);
	/*
	 * The device's configuration changed (config interrupt). Optional.
	 * Called from task context, from vio_dev_service.
	 */
	void (*config_changed)(struct vio_device *dev);
};

enum vio_dev_state {
	VIO_DEV_EMPTY = 0,   /* table slot unused */
	VIO_DEV_NO_DRIVER,   /* identified; no driver registered for its id */
	VIO_DEV_REFUSED,     /* its interface or features cannot be used */
	VIO_DEV_READY,       /* driver probed, DRIVER_OK set */
	VIO_DEV_FAILED,      /* handshake failed or the device broke the protocol */
};

struct vio_device {
	enum vio_dev_state state;
	char name[12];               /* type and number among its type: "rng0", "blk1", "input0" */
	int slot;                    /* the board's slot number */
	int irq;                     /* interrupt line, -1 for none */
	uint64_t offered;            /* features the device offered */
	uint64_t negotiated;         /* features both sides accepted */
	int error;                   /* why REFUSED / FAILED (VIO_E...) */
	struct vio_transport t;      /* how to reach it */
	const struct vio_driver *driver;
	void *priv;                  /* driver state, priv_size bytes */
	struct vio_vq vqs[VIO_MAX_VQS];
	unsigned nvqs;
	void *event;                 /* from os->event_create, NULL when polling */
	volatile uint32_t irq_pending; /* VIO_IRQ_* bits seen by the handler */
	uint32_t irq_count;          /* interrupts taken */
};

/*
 * Set up the library with a platform port (required) and OS hooks (NULL
 * for none). Both must outlive the library. Resets the device table.
 * Returns 0 or VIO_EINVAL. Task context, once, before anything else.
 */
int vio_init(const struct vio_port *port, const struct vio_os *os);

/* The port and OS hooks given to vio_init (os may be NULL). */
const struct vio_port *vio_port(void);
const struct vio_os *vio_os(void);

/*
 * Make drv available to devices added after this call. Returns 0,
 * VIO_EBUSY (a driver for that id is registered) or VIO_ENOSPC.
 * Task context.
 */
int vio_driver_register(const struct vio_driver *drv);

/*
 * Add the virtio-mmio device at base, with interrupt line irq (-1 for none)
 * and the board's slot number. An empty slot (device id 0) is not added and
 * returns VIO_ENODEV. Otherwise the device enters the table whatever
 * happens next (a refused or failed device shows why) and, on success,
 * *out (if not NULL) points at it. Returns 0 when the device is READY or
 * has no driver, else the error that stopped it. Task context.
 */
int vio_mmio_add(uintptr_t base, int irq, int slot, struct vio_device **out);

/* The device table: entries 0 .. vio_dev_count()-1, in the order added. */
unsigned vio_dev_count(void);
struct vio_device *vio_dev_at(unsigned i);

/* The index-th device (0-based) of a device id, or NULL. */
struct vio_device *vio_dev_find(uint32_t device_id, unsigned index);

/* Whether feature bit is negotiated. */
static inline bool vio_dev_has(const struct vio_device *dev, unsigned bit)
{
	return (dev->negotiated >> bit) & 1u;
}

/* "legacy" or "modern". */
const char *vio_dev_interface(const struct vio_device *dev);

/* A readable device type name for a device id ("blk", "net", ...; "unknown"). */
const char *vio_dev_type_name(uint32_t device_id);

/* A readable name for feature bit of dev (device-specific or ring), or NULL. */
const char *vio_dev_feature_name(const struct vio_device *dev, unsigned bit);

/*
 * For drivers, in probe: create queue index with at most max_size entries
 * (0: the build's CONFIG_VIO_QUEUE_SIZE_MAX), sized to the largest power of
 * two the device and the build allow, and give it to the device. Returns 0
 * with *vq set, VIO_ENODEV (the device has no such queue: QueueNumMax 0),
 * VIO_ENOMEM or a transport error. Task context.
 */
int vio_dev_vq_setup(struct vio_device *dev, unsigned index, uint32_t max_size,
		     struct vio_vq **vq);

/*
 * Read device-specific config at offset off (1, 2, 4 or 8 bytes), converted
 * to CPU order, retried until the config generation is stable (section
 * 2.5.1; on legacy devices, which have no generation, an 8-byte field is
 * read until two reads agree). Returns 0 or VIO_EPROTO
 * when the device never gives a stable value. Task context.
 */
int vio_dev_config_read(struct vio_device *dev, unsigned off, unsigned width, uint64_t *val);
int vio_dev_config_write(struct vio_device *dev, unsigned off, unsigned width, uint64_t val);

/*
 * Mark the device failed: status FAILED, state FAILED, error err; every
 * queue refuses new work. Idempotent. Task context.
 */
void vio_dev_fail(struct vio_device *dev, int err);

/*
 * Interrupt entry: acknowledge the device's interrupt status, note it and
 * wake a waiter. Does not touch any ring. Interrupt context (or polled).
 */
void vio_dev_irq(void *dev);

/*
 * Handle what the interrupt handler noted: a configuration change is passed
 * to the driver's config_changed; NEEDS_RESET fails the device. Drivers call
 * it from their wait loops. Task context.
 */
void vio_dev_service(struct vio_device *dev);

/*
 * Wait until done(arg) returns true, at most timeout_ns. done is called
 * first before any wait, and after every interrupt (interrupt mode) or in a
 * loop (polling mode: no interrupt line, no irq_attach, or a polling build);
 * it is where the driver drains its queues. Returns 0, VIO_ETIMEDOUT, or
 * VIO_ESHUTDOWN when the device failed meanwhile. Task context.
 */
int vio_dev_wait(struct vio_device *dev, bool (*done)(void *arg), void *arg, uint64_t timeout_ns);

/* Whether completions come by interrupt (true) or polling (false). */
bool vio_dev_uses_irq(const struct vio_device *dev);

#endif
