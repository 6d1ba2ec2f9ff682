/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-mmio transport (VirtIO 1.2 section 4.2), versions 1 and 2.
 *
 * Only this file touches virtio-mmio registers. The legacy page size and
 * the queue PFN stay here (4.2.4); the rest of vio sees one interface.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <vio/error.h>
#include <vio/io.h>
#include <vio/mmio.h>
#include <vio/port.h>
#include <vio/spec/virtio_mmio.h>
#include <vio/spec/virtio_ring.h>

#include "core/log.h"
#include "vio_config.h"

/* 4.2.4: the page size we tell a legacy device; QueuePFN counts these. */
#define LEGACY_PAGE_SIZE 4096u
#define LEGACY_PAGE_SHIFT 12

static inline uint32_t rd(const struct vio_transport *t, unsigned off)
{
	return vio_read32(t->base + off);
}

static inline void wr(const struct vio_transport *t, unsigned off, uint32_t v)
{
	vio_write32(t->base + off, v);
}

int vio_mmio_identify(struct vio_transport *t, uintptr_t base, int irq)
{
	memset(t, 0, sizeof(*t));
	t->ops = &vio_mmio_ops;
	t->base = base;
	t->irq = irq;

	/* 4.2.3.1.1: check MagicValue and Version before anything else */
	if (rd(t, VIRTIO_MMIO_MAGIC_VALUE) != VIRTIO_MMIO_MAGIC)
		return VIO_ENODEV;
	t->version = rd(t, VIRTIO_MMIO_VERSION);
	if (t->version != 1 && t->version != 2) {
		t->unsupported = true;
		t->device_id = rd(t, VIRTIO_MMIO_DEVICE_ID);
		return 0;
	}
	t->legacy = t->version == 1;
	/* 4.2.3.1.1: DeviceID 0 is a placeholder; no other register may be accessed */
	t->device_id = rd(t, VIRTIO_MMIO_DEVICE_ID);
	if (t->device_id == 0)
		return 0;
	t->vendor_id = rd(t, VIRTIO_MMIO_VENDOR_ID);
	return 0;
}

int vio_mmio_add(uintptr_t base, int irq, int slot, struct vio_device **out)
{
	struct vio_transport t;

	if (!vio_port())
		return VIO_EINVAL;
	if (vio_mmio_identify(&t, base, irq)) {
		vio_err("virtio-mmio@%#lx: bad magic value, not a virtio device", (unsigned long)base);
		return VIO_ENODEV;
	}
	return vio_dev_add(&t, slot, out);
}

static int mmio_reset(struct vio_transport *t, const struct vio_port *port, uint64_t timeout_ns)
{
	uint64_t start = port->time_ns(port->ctx);

	/* 4.2.3.1.1 / 2.1.2: writing 0 resets; the device reads back 0 when done */
	wr(t, VIRTIO_MMIO_STATUS, 0);
	while (rd(t, VIRTIO_MMIO_STATUS) != 0) {
		if (port->time_ns(port->ctx) - start > timeout_ns)
			return VIO_ETIMEDOUT;
	}
	return 0;
}

static uint8_t mmio_get_status(struct vio_transport *t)
{
	return (uint8_t)rd(t, VIRTIO_MMIO_STATUS);
}

static void mmio_set_status(struct vio_transport *t, uint8_t status)
{
	wr(t, VIRTIO_MMIO_STATUS, status);
}

static uint64_t mmio_get_features(struct vio_transport *t)
{
	uint64_t f;

	wr(t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	f = rd(t, VIRTIO_MMIO_DEVICE_FEATURES);
	if (t->legacy) /* 4.2.4: a legacy device has only the first 32 bits */
		return f;
	wr(t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	return f | (uint64_t)rd(t, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
}

static void mmio_set_features(struct vio_transport *t, uint64_t features)
{
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	if (t->legacy)
		return;
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
}

static uint32_t mmio_config_generation(struct vio_transport *t)
{
	/* 4.2.4: legacy devices have no ConfigGeneration register */
	return t->legacy ? 0 : rd(t, VIRTIO_MMIO_CONFIG_GENERATION);
}

static uint32_t mmio_config_read(struct vio_transport *t, unsigned off, unsigned width)
{
	uintptr_t addr = t->base + VIRTIO_MMIO_CONFIG + off;

	switch (width) {
	case 1: return vio_read8(addr);
	case 2: return vio_read16(addr);
	default: return vio_read32(addr);
	}
}

static void mmio_config_write(struct vio_transport *t, unsigned off, unsigned width, uint32_t v)
{
	uintptr_t addr = t->base + VIRTIO_MMIO_CONFIG + off;

	switch (width) {
	case 1: vio_write8(addr, (uint8_t)v); break;
	case 2: vio_write16(addr, (uint16_t)v); break;
	default: vio_write32(addr, v); break;
	}
}

static uint32_t mmio_queue_max(struct vio_transport *t, unsigned index)
{
	wr(t, VIRTIO_MMIO_QUEUE_SEL, index);
	return rd(t, VIRTIO_MMIO_QUEUE_NUM_MAX);
}

static uint32_t mmio_ring_align(struct vio_transport *t)
{
	/* 4.2.4: legacy rings are one block with the used ring on a page boundary */
	return t->legacy ? LEGACY_PAGE_SIZE : VIRTQ_USED_ALIGN;
}

static int legacy_queue_enable(struct vio_transport *t, uint32_t size,
			       const struct vio_queue_addrs *a)
{
	uint64_t pfn = a->desc >> LEGACY_PAGE_SHIFT;

	/* 4.2.4: the device finds avail and used from the PFN, the size and the alignment */
	if ((a->desc & (LEGACY_PAGE_SIZE - 1)) || pfn > UINT32_MAX ||
	    a->avail != a->desc + sizeof(struct virtq_desc) * size ||
	    (a->used & (LEGACY_PAGE_SIZE - 1)) || a->used < a->avail)
		return VIO_EFAULT;
	if (rd(t, VIRTIO_MMIO_QUEUE_PFN) != 0)
		return VIO_EBUSY;
	wr(t, VIRTIO_MMIO_GUEST_PAGE_SIZE, LEGACY_PAGE_SIZE);
	wr(t, VIRTIO_MMIO_QUEUE_NUM, size);
	wr(t, VIRTIO_MMIO_QUEUE_ALIGN, LEGACY_PAGE_SIZE);
	wr(t, VIRTIO_MMIO_QUEUE_PFN, (uint32_t)pfn);
	return 0;
}

static int modern_queue_enable(struct vio_transport *t, uint32_t size,
			       const struct vio_queue_addrs *a)
{
	/* 4.2.3.2: the queue must not be in use */
	if (rd(t, VIRTIO_MMIO_QUEUE_READY) != 0)
		return VIO_EBUSY;
	wr(t, VIRTIO_MMIO_QUEUE_NUM, size);
	wr(t, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)a->desc);
	wr(t, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(a->desc >> 32));
	wr(t, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)a->avail);
	wr(t, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(a->avail >> 32));
	wr(t, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)a->used);
	wr(t, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(a->used >> 32));
	wr(t, VIRTIO_MMIO_QUEUE_READY, 1);
	return 0;
}

static int mmio_queue_enable(struct vio_transport *t, unsigned index, uint32_t size,
			     const struct vio_queue_addrs *addrs)
{
	uint32_t max;

	wr(t, VIRTIO_MMIO_QUEUE_SEL, index);
	max = rd(t, VIRTIO_MMIO_QUEUE_NUM_MAX);
	if (max == 0)
		return VIO_ENODEV;
	if (size == 0 || size > max)
		return VIO_EINVAL;
	return t->legacy ? legacy_queue_enable(t, size, addrs) : modern_queue_enable(t, size, addrs);
}

/* How long a modern device may take to show QueueReady 0. */
#define QUEUE_DISABLE_TIMEOUT_NS 100000000ull

static int mmio_queue_disable(struct vio_transport *t, unsigned index)
{
	const struct vio_port *port = vio_port();
	uint64_t start;

	wr(t, VIRTIO_MMIO_QUEUE_SEL, index);
	if (t->legacy) {
		wr(t, VIRTIO_MMIO_QUEUE_PFN, 0);
		return 0;
	}
	/* 4.2.2.2: write 0 to QueueReady, then read it back until it shows 0 */
	wr(t, VIRTIO_MMIO_QUEUE_READY, 0);
	start = port->time_ns(port->ctx);
	while (rd(t, VIRTIO_MMIO_QUEUE_READY) != 0)
		if (port->time_ns(port->ctx) - start > QUEUE_DISABLE_TIMEOUT_NS)
			return VIO_ETIMEDOUT;
	return 0;
}

static void mmio_notify(struct vio_transport *t, unsigned index)
{
	wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, index);
}

static uint32_t mmio_ack_irq(struct vio_transport *t)
{
	uint32_t status = rd(t, VIRTIO_MMIO_INTERRUPT_STATUS);

	/*
	 * 4.2.3.4: acknowledge exactly what we saw, so a new event re-asserts;
	 * 4.2.2.2: only the defined bits, whatever else the device shows.
	 */
	status &= VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG;
	if (status)
		wr(t, VIRTIO_MMIO_INTERRUPT_ACK, status);
	return status;
}

const struct vio_transport_ops vio_mmio_ops = {
	.name = "virtio-mmio",
	.reset = mmio_reset,
	.get_status = mmio_get_status,
	.set_status = mmio_set_status,
	.get_features = mmio_get_features,
	.set_features = mmio_set_features,
	.config_generation = mmio_config_generation,
	.config_read = mmio_config_read,
	.config_write = mmio_config_write,
	.queue_max = mmio_queue_max,
	.ring_align = mmio_ring_align,
	.queue_enable = mmio_queue_enable,
	.queue_disable = mmio_queue_disable,
	.notify = mmio_notify,
	.ack_irq = mmio_ack_irq,
};
