/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device core: device table, driver registry, the initialization
 * sequence of VirtIO 1.2 section 3.1.1, queue set-up, interrupts, waiting.
 */
#include <stdbool.h>
#include <string.h>

#include <vio/device.h>
#include <vio/error.h>
#include <vio/mmio.h>
#include <vio/spec/virtio_config.h>

#include "log.h"
#include "vio_config.h"

#define RESET_TIMEOUT_NS 1000000000ull /* 1 s for a device to finish reset */
#define CONFIG_READ_TRIES 64           /* 2.5.1: generation changes before giving up */
#define NS_PER_MS 1000000ull

/* The registry: the library's only global state. */
static struct {
	const struct vio_port *port;
	const struct vio_os *os;
	const struct vio_driver *drivers[CONFIG_VIO_MAX_DRIVERS];
	unsigned ndrivers;
	struct vio_device devices[CONFIG_VIO_MAX_DEVICES];
	unsigned ndevices;
} reg;

int vio_init(const struct vio_port *port, const struct vio_os *os)
{
	if (!port || !port->dma_alloc || !port->dma_free || !port->virt_to_dma || !port->time_ns)
		return VIO_EINVAL;
	if (os && (!os->lock || !os->unlock || !os->event_create || !os->event_wait ||
		   !os->event_signal))
		return VIO_EINVAL;
	memset(&reg, 0, sizeof(reg));
	reg.port = port;
	reg.os = os;
	return 0;
}

const struct vio_port *vio_port(void)
{
	return reg.port;
}

const struct vio_os *vio_os(void)
{
	return reg.os;
}

int vio_driver_register(const struct vio_driver *drv)
{
	if (!drv || !drv->name || !drv->probe || !drv->device_id)
		return VIO_EINVAL;
	for (unsigned i = 0; i < reg.ndrivers; i++)
		if (reg.drivers[i]->device_id == drv->device_id)
			return VIO_EBUSY;
	if (reg.ndrivers == CONFIG_VIO_MAX_DRIVERS)
		return VIO_ENOSPC;
	reg.drivers[reg.ndrivers++] = drv;
	return 0;
}

static const struct vio_driver *find_driver(uint32_t device_id)
{
	for (unsigned i = 0; i < reg.ndrivers; i++)
		if (reg.drivers[i]->device_id == device_id)
			return reg.drivers[i];
	return NULL;
}

unsigned vio_dev_count(void)
{
	return reg.ndevices;
}

struct vio_device *vio_dev_at(unsigned i)
{
	return i < reg.ndevices ? &reg.devices[i] : NULL;
}

struct vio_device *vio_dev_find(uint32_t device_id, unsigned index)
{
	for (unsigned i = 0; i < reg.ndevices; i++) {
		struct vio_device *dev = &reg.devices[i];

		if (dev->t.device_id == device_id && index-- == 0)
			return dev;
	}
	return NULL;
}

const char *vio_dev_interface(const struct vio_device *dev)
{
	return dev->t.legacy ? "legacy" : "modern";
}

bool vio_dev_uses_irq(const struct vio_device *dev)
{
	return CONFIG_VIO_COMPLETION_IRQ && dev->event != NULL;
}

/* "rng0", "rng1", ...: numbered among the devices of the same type. */
static void name_device(struct vio_device *dev)
{
	unsigned n = 0;

	for (struct vio_device *d = reg.devices; d < dev; d++)
		if (d->t.device_id == dev->t.device_id)
			n++;
	vio_snprintf(dev->name, sizeof(dev->name), "%s%u", vio_dev_type_name(dev->t.device_id), n);
}

void vio_dev_fail(struct vio_device *dev, int err)
{
	if (dev->state == VIO_DEV_FAILED)
		return;
	/* 3.1.1: tell the device we gave up on it */
	dev->t.ops->set_status(&dev->t, dev->t.ops->get_status(&dev->t) | VIRTIO_CONFIG_S_FAILED);
	dev->state = VIO_DEV_FAILED;
	dev->error = err;
	for (unsigned i = 0; i < dev->nvqs; i++)
		dev->vqs[i].broken = true;
	vio_err("%s: failed: %s", dev->name, vio_strerror(err));
}

static void vq_failed(void *ctx)
{
	vio_dev_fail(ctx, VIO_EPROTO);
}

static void vq_notify(void *ctx, unsigned index)
{
	struct vio_device *dev = ctx;

	dev->t.ops->notify(&dev->t, index);
}

static uint32_t pow2_floor(uint32_t v)
{
	uint32_t p = 1;

	while (p <= v / 2)
		p *= 2;
	return p;
}

int vio_dev_vq_setup(struct vio_device *dev, unsigned index, uint32_t max_size,
		     struct vio_vq **out)
{
	struct vio_transport *t = &dev->t;
	struct vio_queue_addrs addrs;
	struct vio_vq_config cfg;
	struct vio_vq *vq;
	uint32_t size;
	int rc;

	if (index >= VIO_MAX_VQS)
		return VIO_EINVAL;
	vq = &dev->vqs[index];
	if (vq->mem)
		return VIO_EBUSY;
	size = t->ops->queue_max(t, index);
	if (size == 0) {
		vio_err("%s: queue %u does not exist (QueueNumMax 0)", dev->name, index);
		return VIO_ENODEV;
	}
	if (size > CONFIG_VIO_QUEUE_SIZE_MAX)
		size = CONFIG_VIO_QUEUE_SIZE_MAX;
	if (max_size && size > max_size)
		size = max_size;
	/* 2.7: a split queue's size is a power of two */
	size = pow2_floor(size > 32768 ? 32768 : size);

	memset(&cfg, 0, sizeof(cfg));
	cfg.index = index;
	cfg.size = size;
	cfg.used_align = t->ops->ring_align(t);
	cfg.legacy = t->legacy;
	cfg.event_idx = vio_dev_has(dev, VIRTIO_RING_F_EVENT_IDX);
	if (vio_dev_has(dev, VIRTIO_RING_F_INDIRECT_DESC))
		cfg.indirect_max = (uint16_t)(dev->driver->indirect_max < size
						      ? dev->driver->indirect_max : size);
	cfg.notify = vq_notify;
	cfg.fail = vq_failed;
	cfg.ctx = dev;
	rc = vio_vq_create(vq, reg.port, &cfg);
	if (rc)
		return rc;
	addrs.desc = vq->desc_dma;
	addrs.avail = vq->avail_dma;
	addrs.used = vq->used_dma;
	rc = t->ops->queue_enable(t, index, size, &addrs);
	if (rc) {
		vio_err("%s: queue %u: the transport refused it: %s", dev->name, index,
			vio_strerror(rc));
		vio_vq_destroy(vq);
		return rc;
	}
	if (!vio_dev_uses_irq(dev))
		vio_vq_disable_irq(vq);
	if (dev->nvqs <= index)
		dev->nvqs = index + 1;
	vio_dbg("%s: queue %u: %u entries", dev->name, index, size);
	*out = vq;
	return 0;
}

static void release(struct vio_device *dev)
{
	const struct vio_port *port = reg.port;

	for (unsigned i = 0; i < dev->nvqs; i++) {
		if (dev->vqs[i].mem) {
			dev->t.ops->queue_disable(&dev->t, i);
			vio_vq_destroy(&dev->vqs[i]);
		}
	}
	dev->nvqs = 0;
	if (dev->priv && dev->driver->remove)
		dev->driver->remove(dev);
	if (dev->event && port->irq_detach)
		port->irq_detach(port->ctx, dev->irq);
	if (dev->priv)
		port->dma_free(port->ctx, dev->priv, dev->driver->priv_size);
	dev->priv = NULL;
}

/* Features this build can use besides the driver's own. */
static uint64_t core_features(const struct vio_device *dev)
{
	uint64_t f = 0;

	if (!dev->t.legacy)
		f |= 1ull << VIRTIO_F_VERSION_1;
	if (CONFIG_VIO_RING_INDIRECT && dev->driver->indirect_max > 1)
		f |= 1ull << VIRTIO_RING_F_INDIRECT_DESC;
	if (CONFIG_VIO_RING_EVENT_IDX)
		f |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	return f;
}

static int negotiate(struct vio_device *dev)
{
	struct vio_transport *t = &dev->t;
	uint64_t wanted = dev->driver->features | core_features(dev);

	dev->offered = t->ops->get_features(t);
	if (t->legacy) {
		/* 4.2.4: 32 feature bits; VERSION_1 must not be offered or accepted */
		wanted &= 0xffffffffull;
	} else if (!(dev->offered & (1ull << VIRTIO_F_VERSION_1))) {
		/* 6.1: a modern driver refuses a device without VERSION_1 */
		vio_err("%s: modern interface but VERSION_1 not offered", dev->name);
		return VIO_ENOTSUP;
	}
	dev->negotiated = dev->offered & wanted;
	t->ops->set_features(t, dev->negotiated);
	if (t->legacy)
		return 0;
	/* 3.1.1 steps 5-6: FEATURES_OK, then check the device kept it */
	t->ops->set_status(t, t->ops->get_status(t) | VIRTIO_CONFIG_S_FEATURES_OK);
	if (!(t->ops->get_status(t) & VIRTIO_CONFIG_S_FEATURES_OK)) {
		vio_err("%s: the device refused features %#llx", dev->name,
			(unsigned long long)dev->negotiated);
		return VIO_ENOTSUP;
	}
	return 0;
}

static int attach_irq(struct vio_device *dev)
{
	const struct vio_port *port = reg.port;
	const struct vio_os *os = reg.os;
	int rc;

	if (!CONFIG_VIO_COMPLETION_IRQ || dev->irq < 0 || !port->irq_attach || !os)
		return 0; /* polled */
	/*
	 * The line first: the port has no way to free an event, so one is made
	 * only for a line we got. Until dev->event is set the handler only
	 * acknowledges, and nobody waits yet.
	 */
	rc = port->irq_attach(port->ctx, dev->irq, vio_dev_irq, dev);
	if (rc) {
		vio_warn("%s: interrupt %d not available (%s); polling", dev->name, dev->irq,
			 vio_strerror(rc));
		return 0;
	}
	rc = os->event_create(os->ctx, &dev->event);
	if (rc) {
		dev->event = NULL;
		if (port->irq_detach)
			port->irq_detach(port->ctx, dev->irq);
	}
	return rc;
}

/* 3.1.1: the driver initialization sequence, for a device with a driver. */
static int start(struct vio_device *dev)
{
	struct vio_transport *t = &dev->t;
	int rc;

	t->ops->set_status(t, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	t->ops->set_status(t, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	rc = negotiate(dev);
	if (rc)
		return rc;
	if (dev->driver->priv_size) {
		dev->priv = reg.port->dma_alloc(reg.port->ctx, dev->driver->priv_size, 16);
		if (!dev->priv)
			return VIO_ENOMEM;
	}
	rc = attach_irq(dev);
	if (rc)
		return rc;
	rc = dev->driver->probe(dev);
	if (rc) {
		vio_err("%s: driver probe failed: %s", dev->name, vio_strerror(rc));
		return rc;
	}
	/* 3.1.1 step 8 */
	t->ops->set_status(t, t->ops->get_status(t) | VIRTIO_CONFIG_S_DRIVER_OK);
	if (t->ops->get_status(t) & VIRTIO_CONFIG_S_NEEDS_RESET)
		return VIO_EIO;
	return 0;
}

static void log_features(const struct vio_device *dev)
{
	char line[200];
	size_t n = 0;

	for (unsigned bit = 0; bit < 64 && n < sizeof(line); bit++) {
		if (!vio_dev_has(dev, bit))
			continue;
		const char *name = vio_dev_feature_name(dev, bit);
		n += (size_t)(name ? vio_snprintf(line + n, sizeof(line) - n, " %s", name)
				   : vio_snprintf(line + n, sizeof(line) - n, " bit%u", bit));
	}
	line[n < sizeof(line) ? n : sizeof(line) - 1] = '\0';
	vio_info("%s: %s %s at %#lx irq %d, features%s", dev->name, vio_dev_interface(dev),
		 dev->t.ops->name, (unsigned long)dev->t.base, dev->irq, n ? line : " none");
}

static const char *iface_build(void)
{
	return CONFIG_VIO_IFACE_LEGACY ? "legacy only (CONFIG_VIO_IFACE_LEGACY)"
				       : "modern only (CONFIG_VIO_IFACE_MODERN)";
}

int vio_mmio_add(uintptr_t base, int irq, int slot, struct vio_device **out)
{
	struct vio_device *dev;
	struct vio_transport t;
	int rc;

	if (!reg.port)
		return VIO_EINVAL;
	rc = vio_mmio_identify(&t, base);
	if (rc == VIO_ENODEV) {
		vio_err("virtio-mmio@%#lx: bad magic value, not a virtio device", (unsigned long)base);
		return VIO_ENODEV;
	}
	if (t.device_id == 0 && rc == 0)
		return VIO_ENODEV; /* empty slot */
	if (reg.ndevices == CONFIG_VIO_MAX_DEVICES) {
		vio_err("virtio-mmio@%#lx: device table full (CONFIG_VIO_MAX_DEVICES)",
			(unsigned long)base);
		return VIO_ENOSPC;
	}

	dev = &reg.devices[reg.ndevices++];
	memset(dev, 0, sizeof(*dev));
	dev->t = t;
	dev->slot = slot;
	dev->irq = irq;
	name_device(dev);
	if (out)
		*out = dev;

	if (rc) {
		dev->state = VIO_DEV_REFUSED;
		dev->error = rc;
		if (t.version != 1 && t.version != 2)
			vio_err("%s: refused: unknown virtio-mmio version %u", dev->name, t.version);
		else
			vio_err("%s: refused: %s device (virtio-mmio version %u), but this build "
				"drives %s", dev->name, t.legacy ? "legacy" : "modern", t.version,
				iface_build());
		return rc;
	}

	rc = t.ops->reset(&dev->t, reg.port, RESET_TIMEOUT_NS);
	if (rc) {
		dev->state = VIO_DEV_FAILED;
		dev->error = rc;
		vio_err("%s: the device did not finish its reset", dev->name);
		return rc;
	}

	dev->driver = find_driver(t.device_id);
	if (!dev->driver) {
		/* Leave it reset; show what it offers. */
		dev->offered = dev->t.ops->get_features(&dev->t);
		dev->state = VIO_DEV_NO_DRIVER;
		vio_info("%s: %s virtio-mmio at %#lx, no driver", dev->name, vio_dev_interface(dev),
			 (unsigned long)base);
		return 0;
	}

	rc = start(dev);
	if (rc) {
		vio_dev_fail(dev, rc);
		release(dev);
		if (rc == VIO_ENOTSUP)
			dev->state = VIO_DEV_REFUSED;
		return rc;
	}
	dev->state = VIO_DEV_READY;
	log_features(dev);
	return 0;
}

int vio_dev_config_read(struct vio_device *dev, unsigned off, unsigned width, uint64_t *val)
{
	const struct vio_transport_ops *ops = dev->t.ops;
	struct vio_transport *t = &dev->t;

	if (width != 1 && width != 2 && width != 4 && width != 8)
		return VIO_EINVAL;
	for (unsigned tries = 0; tries < CONFIG_READ_TRIES; tries++) {
		uint32_t gen = ops->config_generation(t);
		uint64_t v;

		if (width == 8) {
			v = ops->config_read(t, off, 4);
			v |= (uint64_t)ops->config_read(t, off + 4, 4) << 32;
		} else {
			v = ops->config_read(t, off, width);
		}
		if (ops->config_generation(t) != gen)
			continue;
		if (t->legacy && width == 8) {
			/* no generation counter: read again until two reads agree */
			uint64_t again = ops->config_read(t, off, 4);

			again |= (uint64_t)ops->config_read(t, off + 4, 4) << 32;
			if (again != v)
				continue;
		}
		if (!t->legacy) { /* 4.2.2: modern config space is little-endian */
			v = width == 8 ? vio_le64_to_cpu(v)
			    : width == 4 ? vio_le32_to_cpu((uint32_t)v)
			    : width == 2 ? vio_le16_to_cpu((uint16_t)v) : v;
		}
		*val = v;
		return 0;
	}
	vio_err("%s: configuration space never stable", dev->name);
	return VIO_EPROTO;
}

int vio_dev_config_write(struct vio_device *dev, unsigned off, unsigned width, uint64_t val)
{
	const struct vio_transport_ops *ops = dev->t.ops;
	struct vio_transport *t = &dev->t;

	if (width != 1 && width != 2 && width != 4 && width != 8)
		return VIO_EINVAL;
	if (!t->legacy)
		val = width == 8 ? vio_cpu_to_le64(val)
		      : width == 4 ? vio_cpu_to_le32((uint32_t)val)
		      : width == 2 ? vio_cpu_to_le16((uint16_t)val) : val;
	if (width == 8) {
		ops->config_write(t, off, 4, (uint32_t)val);
		ops->config_write(t, off + 4, 4, (uint32_t)(val >> 32));
	} else {
		ops->config_write(t, off, width, (uint32_t)val);
	}
	return 0;
}

void vio_dev_irq(void *arg)
{
	struct vio_device *dev = arg;
	uint32_t isr = dev->t.ops->ack_irq(&dev->t);

	if (!isr)
		return; /* shared line, or already handled */
	__atomic_fetch_or(&dev->irq_pending, isr, __ATOMIC_RELAXED);
	dev->irq_count++;
	if (dev->event)
		reg.os->event_signal(reg.os->ctx, dev->event);
}

void vio_dev_service(struct vio_device *dev)
{
	uint32_t pending;

	if (!vio_dev_uses_irq(dev))
		vio_dev_irq(dev); /* polled: read the status ourselves */
	pending = __atomic_exchange_n(&dev->irq_pending, 0, __ATOMIC_RELAXED);
	if (!(pending & VIO_IRQ_CONFIG) || dev->state != VIO_DEV_READY)
		return;
	/* 2.1.2: DEVICE_NEEDS_RESET comes with a configuration change interrupt */
	if (dev->t.ops->get_status(&dev->t) & VIRTIO_CONFIG_S_NEEDS_RESET) {
		vio_err("%s: the device needs a reset", dev->name);
		vio_dev_fail(dev, VIO_EIO);
		return;
	}
	if (dev->driver->config_changed)
		dev->driver->config_changed(dev);
}

int vio_dev_wait(struct vio_device *dev, bool (*done)(void *arg), void *arg, uint64_t timeout_ns)
{
	const struct vio_port *port = reg.port;
	uint64_t start = port->time_ns(port->ctx);
	unsigned spins = 0;

	for (;;) {
		if (done(arg))
			return 0;
		if (dev->state != VIO_DEV_READY)
			return VIO_ESHUTDOWN;
		uint64_t elapsed = port->time_ns(port->ctx) - start;
		if (elapsed >= timeout_ns)
			return done(arg) ? 0 : VIO_ETIMEDOUT;
		if (vio_dev_uses_irq(dev)) {
			if (dev->irq_pending & VIO_IRQ_CONFIG)
				vio_dev_service(dev);
			reg.os->event_wait(reg.os->ctx, dev->event, timeout_ns - elapsed);
		} else if (++spins % 256 == 0) {
			vio_dev_service(dev); /* now and then: config changes, NEEDS_RESET */
		}
	}
}
