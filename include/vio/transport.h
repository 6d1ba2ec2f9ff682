/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The transport interface: how the device core reaches a device, whatever
 * the bus. A transport knows registers and queue addresses; it never parses
 * a device's requests. virtio-mmio (versions 1 and 2) is in src/transport/.
 *
 * All operations are called from task context with the device owned by the
 * caller, except ack_irq, which is called from the interrupt handler.
 */
#ifndef VIO_TRANSPORT_H
#define VIO_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>

struct vio_port;
struct vio_transport;

/* Bits returned by ack_irq (the same values as virtio-mmio's). */
#define VIO_IRQ_QUEUE 1u
#define VIO_IRQ_CONFIG 2u

struct vio_queue_addrs {
	uint64_t desc;  /* descriptor table (device address) */
	uint64_t avail; /* driver area */
	uint64_t used;  /* device area */
};

struct vio_transport_ops {
	const char *name;

	/*
	 * Write 0 to the status and wait (bounded by timeout_ns, measured with
	 * the port's clock) until the device reads back 0. VIO_ETIMEDOUT if it
	 * never does.
	 */
	int (*reset)(struct vio_transport *t, const struct vio_port *port, uint64_t timeout_ns);
	uint8_t (*get_status)(struct vio_transport *t);
	void (*set_status)(struct vio_transport *t, uint8_t status);

	/* The device's feature bits (only 32 on a legacy device). */
	uint64_t (*get_features)(struct vio_transport *t);
	/* Tell the device which features the driver accepts. */
	void (*set_features)(struct vio_transport *t, uint64_t features);

	/* Config generation counter; constant 0 where the interface has none. */
	uint32_t (*config_generation)(struct vio_transport *t);
	/* One config-space access of width 1, 2 or 4 bytes at offset off, raw. */
	uint32_t (*config_read)(struct vio_transport *t, unsigned off, unsigned width);
	void (*config_write)(struct vio_transport *t, unsigned off, unsigned width, uint32_t v);

	/* Largest size queue index accepts; 0 when the queue does not exist. */
	uint32_t (*queue_max)(struct vio_transport *t, unsigned index);
	/*
	 * The alignment the used ring (device area) needs. The virtqueue always
	 * lays its three parts out as one contiguous block (section 2.7.2), so
	 * this is the only thing a transport has to say: 4 on a modern
	 * interface, the legacy page size on the legacy one.
	 */
	uint32_t (*ring_align)(struct vio_transport *t);
	/* Give queue index of size entries at addrs to the device and enable it. */
	int (*queue_enable)(struct vio_transport *t, unsigned index, uint32_t size,
			    const struct vio_queue_addrs *addrs);
	/* Take the queue back (only valid after a reset on legacy). */
	void (*queue_disable)(struct vio_transport *t, unsigned index);
	/* Tell the device queue index has new buffers. Any context. */
	void (*notify)(struct vio_transport *t, unsigned index);
	/* Read and acknowledge the interrupt status: VIO_IRQ_* bits. IRQ context. */
	uint32_t (*ack_irq)(struct vio_transport *t);
};

/*
 * One transport instance. Its storage lives in the device table entry; the
 * fields are the transport's own business.
 */
struct vio_transport {
	const struct vio_transport_ops *ops;
	uintptr_t base;     /* register block */
	uint32_t version;   /* interface version as the transport reports it */
	bool legacy;        /* legacy interface: native byte order, 32 feature bits */
	uint32_t device_id; /* 0: no device behind this transport */
	uint32_t vendor_id;
};

#endif
