/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The transport interface: how the device core reaches a device, whatever
 * the bus. A transport knows registers, queue addresses and how a device
 * interrupts; it never parses a device's requests. virtio-mmio (versions 1
 * and 2) is src/transport/mmio.c.
 *
 * A transport identifies a device and fills a struct vio_transport (its ops,
 * the identification and its own private state), then hands it to
 * vio_dev_add (<vio/device.h>), which does everything else: the status
 * handshake, feature negotiation, queue set-up and interrupt routing.
 *
 * All operations are called from task context by the device core, which
 * serializes them per device, except ack_irq (interrupt context) and notify
 * (task context, under the device's queue lock).
 */
#ifndef VIO_TRANSPORT_H
#define VIO_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>

struct vio_port;
struct vio_transport;

/* msix_route's index for the configuration change interrupt. */
#define VIO_TRANSPORT_CONFIG 0xffffu

/* Bits returned by ack_irq (the same values as virtio-mmio's and PCI's ISR). */
#define VIO_IRQ_QUEUE 1u
#define VIO_IRQ_CONFIG 2u

/* Where a queue's three parts are, for queue_enable. */
struct vio_queue_addrs {
	uint64_t desc;  /* descriptor table (device address) */
	uint64_t avail; /* driver area */
	uint64_t used;  /* device area */
};

/* What a transport does for the core; every operation is task context unless it says so. */
struct vio_transport_ops {
	const char *name; /* "virtio-mmio", "virtio-pci" */

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
	 * The alignment the used ring (device area) needs. The split ring
	 * always lays its three parts out as one contiguous block (section
	 * 2.7.2), so this is the only thing a transport has to say: 4 on a
	 * modern interface, the legacy page size on the legacy one.
	 */
	uint32_t (*ring_align)(struct vio_transport *t);
	/* Give queue index of size entries at addrs to the device and enable it. */
	int (*queue_enable)(struct vio_transport *t, unsigned index, uint32_t size,
			    const struct vio_queue_addrs *addrs);
	/*
	 * Take the queue back (on legacy only valid after a reset). Returns 0,
	 * or VIO_ETIMEDOUT when the device never shows the queue disabled.
	 */
	int (*queue_disable)(struct vio_transport *t, unsigned index);
	/* Tell the device queue index has new buffers. Task context. */
	void (*notify)(struct vio_transport *t, unsigned index);
	/*
	 * Read and acknowledge the interrupt status: VIO_IRQ_* bits. Interrupt
	 * context; reads and acknowledges, nothing else.
	 */
	uint32_t (*ack_irq)(struct vio_transport *t);
	/*
	 * Optional, all four or none: message-signalled interrupts (PCI
	 * MSI-X, VirtIO 1.2 4.1.4.3 and 4.1.5.1.2). msix_count: entries in
	 * the device's vector table (0: it has none). msix_set: write entry's
	 * message (device address addr, data) and unmask it. msix_enable:
	 * MSI-X on (true; the line and the ISR status are then unused) or off
	 * with every entry masked (false). msix_route: send the configuration
	 * change interrupt (index VIO_TRANSPORT_CONFIG) or queue index's to
	 * table entry vec (VIRTIO_MSI_NO_VECTOR: to none), and read it back:
	 * VIO_ENOTSUP when the device refused it (4.1.5.1.2: it reads
	 * NO_VECTOR). Task context, probe time, before the queue is enabled.
	 */
	unsigned (*msix_count)(struct vio_transport *t);
	int (*msix_set)(struct vio_transport *t, unsigned entry, uint64_t addr, uint32_t data);
	void (*msix_enable)(struct vio_transport *t, bool on);
	int (*msix_route)(struct vio_transport *t, unsigned index, uint16_t vec);
	/* Optional: free the transport's private state (the device is gone). */
	void (*release)(struct vio_transport *t);
};

/*
 * One transport instance: filled by the transport, copied into the device
 * table by vio_dev_add. The core reads the identification; priv and base
 * are the transport's own business.
 */
struct vio_transport {
	const struct vio_transport_ops *ops; /* the transport's operations */
	void *priv;         /* the transport's private state, or NULL */
	uintptr_t base;     /* where the device is, as the board named it (logs, tables) */
	/*
	 * Where the device sits on its bus, for tables: a PCI function's
	 * bus << 8 | device << 3 | function; 0 on virtio-mmio.
	 */
	uint32_t bus_addr;
	int irq;            /* interrupt line of the whole device, -1 for none */
	uint32_t version;   /* interface version as the transport reports it */
	bool legacy;        /* legacy interface: native byte order, 32 feature bits */
	/*
	 * The device sets each queue's size and the driver cannot choose a
	 * smaller one (legacy virtio-pci): queues get exactly queue_max.
	 */
	bool fixed_queue_size;
	/*
	 * The transport can reset one queue (2.6.1) when VIRTIO_F_RING_RESET
	 * is negotiated: queue_disable then resets it and queue_enable takes
	 * it back. Only virtio-pci's common configuration has the register
	 * here; virtio-mmio's QueueReset is left out, as QEMU offers the
	 * feature on virtio-mmio without the register.
	 */
	bool queue_reset;
	uint32_t device_id; /* 0: no device behind this transport */
	uint32_t vendor_id; /* the device's vendor id */
	/*
	 * The transport cannot drive this device (an interface version it does
	 * not know): it enters the table refused, and nothing but the
	 * identification was touched.
	 */
	bool unsupported;
};

#endif
