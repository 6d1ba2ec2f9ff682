/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-pci, the legacy interface of transitional devices (VirtIO 1.2
 * sections 4.1.4.8 and 4.1.5): the registers in I/O BAR0, 32 feature bits,
 * the queue given as a page frame number, the ISR read to clear.
 */
#include <stdbool.h>
#include <stddef.h>

#include <vio/error.h>
#include <vio/io.h>
#include <vio/pci.h>
#include <vio/port.h>
#include <vio/spec/virtio_pci.h>
#include <vio/spec/virtio_ring.h>

#include "transport/pci_priv.h"

static inline uintptr_t reg(struct vio_transport *t, unsigned off)
{
	return ((struct pci_state *)t->priv)->io + off;
}

static int legacy_reset(struct vio_transport *t, const struct vio_port *port, uint64_t timeout_ns)
{
	return vio_pci_reset_status(reg(t, VIRTIO_PCI_LEGACY_STATUS), port, timeout_ns);
}

static uint8_t legacy_get_status(struct vio_transport *t)
{
	return vio_read8(reg(t, VIRTIO_PCI_LEGACY_STATUS));
}

static void legacy_set_status(struct vio_transport *t, uint8_t status)
{
	vio_write8(reg(t, VIRTIO_PCI_LEGACY_STATUS), status);
}

static uint64_t legacy_get_features(struct vio_transport *t)
{
	/* 4.1.4.8: the legacy interface has 32 feature bits */
	return vio_read32(reg(t, VIRTIO_PCI_LEGACY_HOST_FEATURES));
}

static void legacy_set_features(struct vio_transport *t, uint64_t features)
{
	((struct pci_state *)t->priv)->features = features;
	vio_write32(reg(t, VIRTIO_PCI_LEGACY_GUEST_FEATURES), (uint32_t)features);
}

static uint32_t legacy_config_generation(struct vio_transport *t)
{
	(void)t;
	return 0; /* legacy devices have no generation counter */
}

static uint32_t legacy_config_read(struct vio_transport *t, unsigned off, unsigned width)
{
	return vio_pci_region_read(&((struct pci_state *)t->priv)->device, off, width);
}

static void legacy_config_write(struct vio_transport *t, unsigned off, unsigned width, uint32_t v)
{
	vio_pci_region_write(&((struct pci_state *)t->priv)->device, off, width, v);
}

static uint32_t legacy_queue_max(struct vio_transport *t, unsigned index)
{
	if (index > UINT16_MAX)
		return 0;
	vio_write16(reg(t, VIRTIO_PCI_LEGACY_QUEUE_SEL), (uint16_t)index);
	return vio_read16(reg(t, VIRTIO_PCI_LEGACY_QUEUE_NUM));
}

static uint32_t legacy_ring_align(struct vio_transport *t)
{
	(void)t;
	return VIRTIO_PCI_LEGACY_ALIGN;
}

static int legacy_queue_enable(struct vio_transport *t, unsigned index, uint32_t size,
			       const struct vio_queue_addrs *a)
{
	uint64_t pfn = a->desc >> VIRTIO_PCI_LEGACY_PFN_SHIFT;
	uint32_t num = legacy_queue_max(t, index);

	if (num == 0)
		return VIO_ENODEV;
	/* 4.1.5.1: the legacy queue size is the device's; the driver cannot choose */
	if (size != num)
		return VIO_EINVAL;
	/* 2.7.2 legacy layout: one block from the PFN, the used ring 4 KiB aligned */
	if ((a->desc & (VIRTIO_PCI_LEGACY_ALIGN - 1)) || pfn > UINT32_MAX ||
	    a->avail != a->desc + sizeof(struct virtq_desc) * size ||
	    (a->used & (VIRTIO_PCI_LEGACY_ALIGN - 1)) || a->used < a->avail)
		return VIO_EFAULT;
	if (vio_read32(reg(t, VIRTIO_PCI_LEGACY_QUEUE_PFN)) != 0)
		return VIO_EBUSY;
	vio_write32(reg(t, VIRTIO_PCI_LEGACY_QUEUE_PFN), (uint32_t)pfn);
	return 0;
}

static int legacy_queue_disable(struct vio_transport *t, unsigned index)
{
	if (index > UINT16_MAX)
		return 0;
	vio_write16(reg(t, VIRTIO_PCI_LEGACY_QUEUE_SEL), (uint16_t)index);
	vio_write32(reg(t, VIRTIO_PCI_LEGACY_QUEUE_PFN), 0);
	return 0;
}

static void legacy_notify(struct vio_transport *t, unsigned index)
{
	vio_write16(reg(t, VIRTIO_PCI_LEGACY_QUEUE_NOTIFY), (uint16_t)index);
}

static uint32_t legacy_ack_irq(struct vio_transport *t)
{
	/* 4.1.4.5: reading the ISR clears it and deasserts INTx */
	return vio_read8(reg(t, VIRTIO_PCI_LEGACY_ISR)) &
	       (VIRTIO_PCI_ISR_QUEUE | VIRTIO_PCI_ISR_CONFIG);
}

static int legacy_msix_route(struct vio_transport *t, unsigned index, uint16_t vec)
{
	uintptr_t r = reg(t, VIRTIO_MSI_LEGACY_CONFIG_VECTOR);

	/* 4.1.4.8: the vector registers exist only while MSI-X is enabled */
	if (!((struct pci_state *)t->priv)->msix_on)
		return VIO_ENOTSUP;
	if (index != VIO_TRANSPORT_CONFIG) {
		if (index > UINT16_MAX)
			return VIO_ENODEV;
		vio_write16(reg(t, VIRTIO_PCI_LEGACY_QUEUE_SEL), (uint16_t)index);
		r = reg(t, VIRTIO_MSI_LEGACY_QUEUE_VECTOR);
	}
	/* 4.1.5.1.2: a vector the device cannot use reads back as NO_VECTOR */
	vio_write16(r, vec);
	return vio_read16(r) == vec ? 0 : VIO_ENOTSUP;
}

const struct vio_transport_ops vio_pci_legacy_ops = {
	.name = "virtio-pci",
	.reset = legacy_reset,
	.get_status = legacy_get_status,
	.set_status = legacy_set_status,
	.get_features = legacy_get_features,
	.set_features = legacy_set_features,
	.config_generation = legacy_config_generation,
	.config_read = legacy_config_read,
	.config_write = legacy_config_write,
	.queue_max = legacy_queue_max,
	.ring_align = legacy_ring_align,
	.queue_enable = legacy_queue_enable,
	.queue_disable = legacy_queue_disable,
	.notify = legacy_notify,
	.ack_irq = legacy_ack_irq,
	.msix_count = vio_pci_msix_count,
	.msix_set = vio_pci_msix_set,
	.msix_enable = vio_pci_msix_enable,
	.msix_route = legacy_msix_route,
	.release = vio_pci_release,
};
