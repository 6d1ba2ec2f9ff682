/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-pci, the modern interface (VirtIO 1.2 section 4.1.4): the common
 * configuration structure, per-queue notification addresses, the ISR byte
 * and the device configuration, each in the BAR region pci.c checked.
 */
#include <stdbool.h>
#include <stddef.h>

#include <vio/error.h>
#include <vio/io.h>
#include <vio/pci.h>
#include <vio/port.h>
#include <vio/spec/virtio_config.h>
#include <vio/spec/virtio_pci.h>
#include <vio/spec/virtio_ring.h>

#include "core/log.h"
#include "transport/pci_priv.h"

/* How long a queue reset (VIRTIO_F_RING_RESET) may take. */
#define QUEUE_RESET_TIMEOUT_NS 100000000ull

static inline struct pci_state *st(struct vio_transport *t)
{
	return t->priv;
}

static inline uintptr_t common(struct vio_transport *t, unsigned off)
{
	return st(t)->common.addr + off;
}

/* 4.1.4.3.1: 64-bit fields are written as two 32-bit halves, low first. */
static void write64(struct vio_transport *t, unsigned off, uint64_t v)
{
	vio_write32(common(t, off), (uint32_t)v);
	vio_write32(common(t, off + 4), (uint32_t)(v >> 32));
}

static int modern_reset(struct vio_transport *t, const struct vio_port *port, uint64_t timeout_ns)
{
	return vio_pci_reset_status(common(t, VIRTIO_PCI_COMMON_STATUS), port, timeout_ns);
}

static uint8_t modern_get_status(struct vio_transport *t)
{
	return vio_read8(common(t, VIRTIO_PCI_COMMON_STATUS));
}

static void modern_set_status(struct vio_transport *t, uint8_t status)
{
	vio_write8(common(t, VIRTIO_PCI_COMMON_STATUS), status);
}

static uint64_t modern_get_features(struct vio_transport *t)
{
	uint64_t f;

	vio_write32(common(t, VIRTIO_PCI_COMMON_DFSELECT), 0);
	f = vio_read32(common(t, VIRTIO_PCI_COMMON_DF));
	vio_write32(common(t, VIRTIO_PCI_COMMON_DFSELECT), 1);
	return f | (uint64_t)vio_read32(common(t, VIRTIO_PCI_COMMON_DF)) << 32;
}

static void modern_set_features(struct vio_transport *t, uint64_t features)
{
	st(t)->features = features;
	vio_write32(common(t, VIRTIO_PCI_COMMON_GFSELECT), 0);
	vio_write32(common(t, VIRTIO_PCI_COMMON_GF), (uint32_t)features);
	vio_write32(common(t, VIRTIO_PCI_COMMON_GFSELECT), 1);
	vio_write32(common(t, VIRTIO_PCI_COMMON_GF), (uint32_t)(features >> 32));
}

static uint32_t modern_config_generation(struct vio_transport *t)
{
	return vio_read8(common(t, VIRTIO_PCI_COMMON_CFGGENERATION));
}

static uint32_t modern_config_read(struct vio_transport *t, unsigned off, unsigned width)
{
	return vio_pci_region_read(&st(t)->device, off, width);
}

static void modern_config_write(struct vio_transport *t, unsigned off, unsigned width, uint32_t v)
{
	vio_pci_region_write(&st(t)->device, off, width, v);
}

/* Select queue index; false when the device has no such queue. */
static bool select_queue(struct vio_transport *t, unsigned index)
{
	if (index >= st(t)->nqueues)
		return false;
	vio_write16(common(t, VIRTIO_PCI_COMMON_Q_SELECT), (uint16_t)index);
	return true;
}

static uint32_t modern_queue_max(struct vio_transport *t, unsigned index)
{
	/* 4.1.4.3: queue_size reads the maximum; 0 means the queue is unavailable */
	if (!select_queue(t, index))
		return 0;
	return vio_read16(common(t, VIRTIO_PCI_COMMON_Q_SIZE));
}

static uint32_t modern_ring_align(struct vio_transport *t)
{
	(void)t;
	return VIRTQ_USED_ALIGN;
}

static int modern_queue_enable(struct vio_transport *t, unsigned index, uint32_t size,
			       const struct vio_queue_addrs *a)
{
	struct pci_state *s = st(t);
	uint32_t max;
	uint64_t off;

	if (!select_queue(t, index))
		return VIO_ENODEV;
	max = vio_read16(common(t, VIRTIO_PCI_COMMON_Q_SIZE));
	if (max == 0)
		return VIO_ENODEV;
	if (size == 0 || size > max)
		return VIO_EINVAL;
	if (vio_read16(common(t, VIRTIO_PCI_COMMON_Q_ENABLE)) != 0)
		return VIO_EBUSY;
	/*
	 * 4.1.4.4: the queue's notification address is cap.offset +
	 * queue_notify_off * notify_off_multiplier, and 4.1.4.4.1 has the
	 * device keep it inside the capability: check, it is device input.
	 */
	off = (uint64_t)vio_read16(common(t, VIRTIO_PCI_COMMON_Q_NOFF)) * s->notify_mult;
	if (off > s->notify.len || s->notify.len - off < 2) {
		vio_err("virtio-pci: queue %u notification offset %#llx outside the %u-byte area",
			index, (unsigned long long)off, s->notify.len);
		return VIO_EPROTO;
	}
	s->qnotify[index] = s->notify.addr + (uintptr_t)off;
	/* Without MSI-X the interrupt is INTx through the ISR (4.1.5.1.2); with it msix_route chose. */
	if (!s->msix_on)
		vio_write16(common(t, VIRTIO_PCI_COMMON_Q_MSIX), VIRTIO_MSI_NO_VECTOR);
	vio_write16(common(t, VIRTIO_PCI_COMMON_Q_SIZE), (uint16_t)size);
	write64(t, VIRTIO_PCI_COMMON_Q_DESCLO, a->desc);
	write64(t, VIRTIO_PCI_COMMON_Q_AVAILLO, a->avail);
	write64(t, VIRTIO_PCI_COMMON_Q_USEDLO, a->used);
	vio_write16(common(t, VIRTIO_PCI_COMMON_Q_ENABLE), 1);
	return 0;
}

static int modern_queue_disable(struct vio_transport *t, unsigned index)
{
	const struct vio_port *port = vio_port();
	uint64_t start;

	if (!select_queue(t, index))
		return 0;
	/* After a reset every queue reads disabled (the usual case: the core resets first). */
	if (vio_read16(common(t, VIRTIO_PCI_COMMON_Q_ENABLE)) == 0)
		return 0;
	/*
	 * 4.1.4.3.2: a driver must not write 0 to queue_enable; with
	 * VIRTIO_F_RING_RESET it resets the one queue and waits for queue_reset
	 * to read 0 again (the queue is then disabled).
	 */
	if (!(st(t)->features & (1ull << VIRTIO_F_RING_RESET)) ||
	    st(t)->common.len < VIRTIO_PCI_COMMON_Q_RESET + 2)
		return VIO_ETIMEDOUT;
	vio_write16(common(t, VIRTIO_PCI_COMMON_Q_RESET), 1);
	start = port->time_ns(port->ctx);
	while (vio_read16(common(t, VIRTIO_PCI_COMMON_Q_RESET)) != 0)
		if (port->time_ns(port->ctx) - start > QUEUE_RESET_TIMEOUT_NS)
			return VIO_ETIMEDOUT;
	return 0;
}

static void modern_notify(struct vio_transport *t, unsigned index)
{
	struct pci_state *s = st(t);

	/* 4.1.5.2: without NOTIFICATION_DATA the driver writes the queue index, 16 bits */
	if (index < s->nqueues && s->qnotify[index])
		vio_write16(s->qnotify[index], (uint16_t)index);
}

static uint32_t modern_ack_irq(struct vio_transport *t)
{
	/* 4.1.4.5: reading the ISR status clears it and deasserts INTx */
	return vio_read8(st(t)->isr.addr) & (VIRTIO_PCI_ISR_QUEUE | VIRTIO_PCI_ISR_CONFIG);
}

static int modern_msix_route(struct vio_transport *t, unsigned index, uint16_t vec)
{
	uintptr_t reg = common(t, VIRTIO_PCI_COMMON_MSIX);

	if (index != VIO_TRANSPORT_CONFIG) {
		if (!select_queue(t, index))
			return VIO_ENODEV;
		reg = common(t, VIRTIO_PCI_COMMON_Q_MSIX);
	}
	/* 4.1.5.1.2: a vector the device cannot use reads back as NO_VECTOR */
	vio_write16(reg, vec);
	return vio_read16(reg) == vec ? 0 : VIO_ENOTSUP;
}

const struct vio_transport_ops vio_pci_modern_ops = {
	.name = "virtio-pci",
	.reset = modern_reset,
	.get_status = modern_get_status,
	.set_status = modern_set_status,
	.get_features = modern_get_features,
	.set_features = modern_set_features,
	.config_generation = modern_config_generation,
	.config_read = modern_config_read,
	.config_write = modern_config_write,
	.queue_max = modern_queue_max,
	.ring_align = modern_ring_align,
	.queue_enable = modern_queue_enable,
	.queue_disable = modern_queue_disable,
	.notify = modern_notify,
	.ack_irq = modern_ack_irq,
	.msix_count = vio_pci_msix_count,
	.msix_set = vio_pci_msix_set,
	.msix_enable = vio_pci_msix_enable,
	.msix_route = modern_msix_route,
	.release = vio_pci_release,
};
