/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device core: device table, driver registry, the initialization
 * sequence of VirtIO 1.2 section 3.1.1, queue set-up, interrupt routing,
 * deferred work, waiting, reset and failure. Everything device-type
 * specific is the driver's, everything bus-specific the transport's.
 */
#include <stdbool.h>
#include <string.h>

#include <vio/device.h>
#include <vio/error.h>
#include <vio/spec/virtio_config.h>
#include <vio/spec/virtio_types.h>

#include "core/log.h"
#include "vio_config.h"

#define RESET_TIMEOUT_NS 1000000000ull /* 1 s for a device to finish reset */
#define CONFIG_READ_TRIES 64           /* 2.5.1: generation changes before giving up */
#define IRQ_STORM_LIMIT 1000u          /* empty interrupts without a service pass between */
#define POLL_STATUS_EVERY 256u         /* service passes of a polled device per status read */
#define POLL_CLOCK_EVERY 16u           /* passes of a polled wait per clock read */

/* Deferred work bits in dev->pending, beside VIO_IRQ_QUEUE / VIO_IRQ_CONFIG. */
#define PENDING_STORM 0x100u  /* the line was masked: an interrupt storm */
#define PENDING_BROKEN 0x200u /* a queue saw the device break the protocol */
#define PENDING_LATE 0x400u   /* InterruptStatus bits from a device already reset */
#define PENDING_MASKED 0x800u /* another device's storm masked the line this one shares */

struct vio_dev_queue {
	struct vio_vq *vq;
	void (*handler)(struct vio_device *dev, struct vio_vq *vq, void *arg);
	void *arg;
	void *event;      /* its waiter sleeps here (interrupt mode) */
	void *mutex;      /* one waiter at a time (os->mutex_*) */
	/*
	 * Both atomic: the service takes pending and looks for waiters without
	 * vio_lock (a signal to a waiter that just left only makes its next
	 * wait look once more; one that is just arriving looks before it
	 * sleeps).
	 */
	uint32_t waiters; /* threads in vio_dev_wait on it (0 or 1, or 2 briefly) */
	uint32_t pending; /* may have used buffers: run the handler (a word: RISC-V has no byte AMO) */
};

struct driver_entry {
	const struct vio_driver *drv;
	const void *params;
};

/* The registry: the library's only global state. */
static struct {
	const struct vio_port *port;
	const struct vio_os *os;
	struct driver_entry drivers[CONFIG_VIO_MAX_DRIVERS];
	unsigned ndrivers;
	struct vio_device devices[CONFIG_VIO_MAX_DEVICES];
	unsigned ndevices;
	void *service_event; /* vio_service_wait sleeps here */
	uint32_t work;       /* some interrupt noted work since the last vio_service */
} reg;

static const struct vio_vq_opts default_opts;

/*
 * The state is written here only, under the lock or at start-up, and read
 * by any thread without it (vio_dev_state): a release store, so a reader
 * that sees FAILED also sees the queues broken before it.
 */
static void set_state(struct vio_device *dev, enum vio_dev_state st)
{
	__atomic_store_n(&dev->state, st, __ATOMIC_RELEASE);
}

int vio_init(const struct vio_port *port, const struct vio_os *os)
{
	if (!port || !port->dma_alloc || !port->dma_free || !port->time_ns)
		return VIO_EINVAL;
	if (os && (!os->lock || !os->unlock || !os->event_create || !os->event_wait ||
		   !os->event_signal))
		return VIO_EINVAL;
	if (os && (!os->mutex_create != !os->mutex_lock || !os->mutex_lock != !os->mutex_unlock))
		return VIO_EINVAL;
	memset(&reg, 0, sizeof(reg));
	reg.port = port;
	reg.os = os;
	if (os && os->event_create(os->ctx, &reg.service_event)) {
		reg.service_event = NULL;
		return VIO_ENOMEM;
	}
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

uintptr_t vio_lock(void)
{
	return reg.os ? reg.os->lock(reg.os->ctx) : 0;
}

void vio_unlock(uintptr_t state)
{
	if (reg.os)
		reg.os->unlock(reg.os->ctx, state);
}

static void signal_event(void *event)
{
	if (event)
		reg.os->event_signal(reg.os->ctx, event);
}

int vio_driver_register(const struct vio_driver *drv, const void *params)
{
	if (!drv || !drv->name || !drv->probe || !drv->device_id)
		return VIO_EINVAL;
	for (unsigned i = 0; i < reg.ndrivers; i++)
		if (reg.drivers[i].drv->device_id == drv->device_id)
			return VIO_EBUSY;
	if (reg.ndrivers == CONFIG_VIO_MAX_DRIVERS)
		return VIO_ENOSPC;
	reg.drivers[reg.ndrivers].drv = drv;
	reg.drivers[reg.ndrivers].params = params;
	reg.ndrivers++;
	return 0;
}

static const struct driver_entry *find_driver(uint32_t device_id)
{
	for (unsigned i = 0; i < reg.ndrivers; i++)
		if (reg.drivers[i].drv->device_id == device_id)
			return &reg.drivers[i];
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
	/* A masked line delivers nothing: its devices are polled (vio_dev_irq). */
	return CONFIG_VIO_COMPLETION_IRQ && dev->irq_attached &&
	       !(dev->irq_mode == VIO_IRQ_MODE_LINE &&
		 __atomic_load_n(&dev->line_masked, __ATOMIC_ACQUIRE));
}

enum vio_irq_mode vio_dev_irq_mode(const struct vio_device *dev)
{
	return vio_dev_uses_irq(dev) ? (enum vio_irq_mode)dev->irq_mode : VIO_IRQ_MODE_POLLED;
}

const char *vio_dev_irq_mode_name(const struct vio_device *dev)
{
	switch (vio_dev_irq_mode(dev)) {
	case VIO_IRQ_MODE_LINE: return "line";
	case VIO_IRQ_MODE_MSIX_SHARED: return "msix-shared";
	case VIO_IRQ_MODE_MSIX: return "msix";
	default: return "polled";
	}
}

struct vio_vq *vio_dev_vq(const struct vio_device *dev, unsigned index)
{
	return index < dev->nqueues ? dev->queues[index].vq : NULL;
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

/* ------------------------------------------------------------------ */
/* Deferred work: noting it (interrupt context) */

/*
 * Note work for dev and wake whoever should do it: the waiters of the
 * queues concerned and the service. index is a queue, ALL_QUEUES or
 * NO_QUEUE (bits only).
 */
#define ALL_QUEUES 0x10000u
#define NO_QUEUE 0x20000u

static void note(struct vio_device *dev, uint32_t bits, unsigned index)
{
	uintptr_t s = vio_lock();

	__atomic_fetch_or(&dev->pending, bits, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < dev->nqueues; i++) {
		struct vio_dev_queue *q = &dev->queues[i];

		if (!q->vq || (index != ALL_QUEUES && index != i))
			continue;
		__atomic_store_n(&q->pending, 1, __ATOMIC_RELEASE);
		if (__atomic_load_n(&q->waiters, __ATOMIC_RELAXED))
			signal_event(q->event);
	}
	/* A configuration change concerns every waiter (NEEDS_RESET ends their waits). */
	if (bits & (VIO_IRQ_CONFIG | PENDING_STORM)) {
		for (unsigned i = 0; i < dev->nqueues; i++)
			if (__atomic_load_n(&dev->queues[i].waiters, __ATOMIC_RELAXED))
				signal_event(dev->queues[i].event);
	}
	__atomic_store_n(&reg.work, 1, __ATOMIC_RELEASE);
	if (reg.os)
		signal_event(reg.service_event);
	vio_unlock(s);
}

/*
 * A device on line irq had something to report: for the others sharing the
 * line (PCI INTx), the interrupts they found empty were this one's, not a
 * storm. Interrupt context.
 */
static void line_had_work(int irq)
{
	unsigned n = __atomic_load_n(&reg.ndevices, __ATOMIC_ACQUIRE);

	for (unsigned i = 0; i < n; i++)
		if (reg.devices[i].irq == irq)
			__atomic_store_n(&reg.devices[i].empty_irqs, 0, __ATOMIC_RELAXED);
}

/* Unplugged (vio_dev_remove): its registers are out of reach. */
static bool is_gone(const struct vio_device *dev)
{
	return __atomic_load_n(&dev->gone, __ATOMIC_ACQUIRE);
}

/*
 * dev stormed and its line is masked now: every device interrupting
 * through that line (PCI INTx shares one among several) would wait for an
 * interrupt that never comes. They are polled from now on, their waiters
 * woken to find that out; the storming one is failed by the service.
 * Interrupt context.
 */
static void storm_masked(struct vio_device *dev)
{
	unsigned n = __atomic_load_n(&reg.ndevices, __ATOMIC_ACQUIRE);

	__atomic_store_n(&dev->line_masked, true, __ATOMIC_RELEASE);
	note(dev, PENDING_STORM, NO_QUEUE);
	for (unsigned i = 0; i < n; i++) {
		struct vio_device *d = &reg.devices[i];

		/* Once each (byte-sized atomics: loads and stores only, for rv64) */
		if (d == dev || d->irq != dev->irq || !d->irq_attached ||
		    d->irq_mode != VIO_IRQ_MODE_LINE ||
		    __atomic_load_n(&d->line_masked, __ATOMIC_ACQUIRE))
			continue;
		__atomic_store_n(&d->line_masked, true, __ATOMIC_RELEASE);
		note(d, PENDING_MASKED, ALL_QUEUES);
	}
}

/*
 * 2.4: a reset device has nothing in flight and nothing to report. An
 * interrupt from one (bits: what it said) is a completion it was late
 * with, or a device that ignored the reset: no handler runs; the service
 * says so in the log (the bits ride along with the note). Every interrupt
 * entry (line, queue vector, shared vector) asks this first.
 */
static bool late_irq(struct vio_device *dev, uint32_t bits)
{
	if (!__atomic_load_n(&dev->reset_done, __ATOMIC_ACQUIRE))
		return false;
	note(dev, PENDING_LATE | bits, NO_QUEUE);
	return true;
}

void vio_dev_irq(void *arg)
{
	struct vio_device *dev = arg;
	uint32_t isr;

	/* An unplugged function reads all ones and its BARs may be gone: leave it alone. */
	if (is_gone(dev))
		return;
	isr = dev->t.ops->ack_irq(&dev->t);
	if (!isr) {
		/*
		 * Nothing to report (a shared line, or a late duplicate). A
		 * device that keeps interrupting with nothing to report would
		 * never let a task run: mask its line and let the service fail
		 * it. Every service pass clears the count, so only interrupts
		 * back to back with no task in between add up.
		 */
		if (__atomic_add_fetch(&dev->empty_irqs, 1, __ATOMIC_RELAXED) == IRQ_STORM_LIMIT) {
			if (reg.port->irq_mask) {
				reg.port->irq_mask(reg.port->ctx, dev->irq);
				storm_masked(dev);
			} else {
				note(dev, PENDING_STORM, NO_QUEUE);
			}
		}
		return;
	}
	__atomic_fetch_add(&dev->irq_count, 1, __ATOMIC_RELAXED); /* vectors may run on several CPUs */
	line_had_work(dev->irq);
	if (late_irq(dev, isr & (VIO_IRQ_QUEUE | VIO_IRQ_CONFIG)))
		return;
	note(dev, isr, (isr & VIO_IRQ_QUEUE) ? ALL_QUEUES : NO_QUEUE);
}

/* What an MSI-X vector stands for: a queue's index, or one of these. */
#define VEC_ALL_QUEUES 0xfffeu /* every queue (the shared queue vector) */
#define VEC_EVERYTHING 0xfffdu /* every queue and the configuration: a one-entry table */

struct vio_dev_vector {
	struct vio_device *dev;
	unsigned what; /* a queue, VIO_DEV_IRQ_CONFIG, VEC_ALL_QUEUES or VEC_EVERYTHING */
	int handle;    /* from the port's msi_attach; -1 before */
};

/*
 * A message-signalled interrupt: the vector itself says what happened,
 * nothing needs acknowledging. Only the one-entry table's vector reads the
 * ISR status, to tell a configuration change from a used buffer (4.1.4.5:
 * the device sets its configuration bit whether MSI-X is on or not).
 */
static void vector_irq(void *arg)
{
	const struct vio_dev_vector *v = arg;
	struct vio_device *dev = v->dev;

	uint32_t bits = VIO_IRQ_QUEUE;

	if (v->what != VEC_EVERYTHING && v->what != VEC_ALL_QUEUES) {
		vio_dev_irq_queue(dev, v->what);
		return;
	}
	if (is_gone(dev))
		return;
	if (v->what == VEC_EVERYTHING)
		bits |= dev->t.ops->ack_irq(&dev->t) & VIO_IRQ_CONFIG;
	__atomic_fetch_add(&dev->irq_count, 1, __ATOMIC_RELAXED);
	if (late_irq(dev, bits))
		return;
	note(dev, bits, ALL_QUEUES);
}

void vio_dev_irq_queue(struct vio_device *dev, unsigned index)
{
	uint32_t bits = index == VIO_DEV_IRQ_CONFIG ? VIO_IRQ_CONFIG : VIO_IRQ_QUEUE;

	__atomic_fetch_add(&dev->irq_count, 1, __ATOMIC_RELAXED); /* vectors may run on several CPUs */
	if (late_irq(dev, bits))
		return;
	note(dev, bits, bits == VIO_IRQ_CONFIG ? NO_QUEUE : index);
}

/* ------------------------------------------------------------------ */
/* Failure */

void vio_dev_fail(struct vio_device *dev, int err)
{
	const struct vio_os *os = reg.os;
	struct vio_transport *t = &dev->t;
	bool first;
	uintptr_t s;
	int rc;

	/* A refused device was never driven: nothing to fail, no registers to reset. */
	if (vio_dev_state(dev) == VIO_DEV_REFUSED)
		return;
	/* Whoever comes second waits here until the first one's reset is done. */
	if (dev->mutex)
		os->mutex_lock(os->ctx, dev->mutex);
	s = vio_lock();
	first = !dev->reset_done && !dev->resetting;
	if (first) {
		dev->resetting = true;
		set_state(dev, VIO_DEV_FAILED);
		if (!dev->error)
			dev->error = err;
		for (unsigned i = 0; i < dev->nqueues; i++)
			if (dev->queues[i].vq)
				vio_vq_break(dev->queues[i].vq);
	}
	vio_unlock(s);
	if (!first) {
		if (dev->mutex)
			os->mutex_unlock(os->ctx, dev->mutex);
		return;
	}

	if (is_gone(dev)) {
		/* Unplugged: nothing to tell and nothing to reset; it can touch no buffer now. */
		vio_err("%s: failed: %s; the device is gone", dev->name, vio_strerror(dev->error));
		goto reset_done;
	}
	/* 3.1.1: tell the device we gave up on it ... */
	t->ops->set_status(t, t->ops->get_status(t) | VIRTIO_CONFIG_S_FAILED);
	/*
	 * ... and stop it (3.3.1): after the reset it no longer reads or
	 * writes any buffer, so the driver may give them back.
	 */
	rc = t->ops->reset(t, reg.port, RESET_TIMEOUT_NS);
	if (rc)
		vio_err("%s: failed: %s; the device did not confirm its reset", dev->name,
			vio_strerror(dev->error));
	else
		vio_err("%s: failed: %s; device reset", dev->name, vio_strerror(dev->error));
	if (!rc)
		t->ops->set_status(t, VIRTIO_CONFIG_S_FAILED); /* for the host to see */

reset_done:
	s = vio_lock();
	dev->resetting = false;
	dev->reset_done = true;
	vio_unlock(s);
	/* Every handler runs once more to end what is in flight; every waiter wakes. */
	note(dev, VIO_IRQ_QUEUE, ALL_QUEUES);
	note(dev, VIO_IRQ_CONFIG, NO_QUEUE);
	if (dev->mutex)
		os->mutex_unlock(os->ctx, dev->mutex);
}

/* The virtqueue's failure hook runs under the driver's lock: only note it. */
static void vq_failed(void *ctx)
{
	struct vio_device *dev = ctx;

	__atomic_fetch_or(&dev->pending, PENDING_BROKEN, __ATOMIC_RELAXED);
	__atomic_store_n(&reg.work, 1, __ATOMIC_RELEASE);
}

static void vq_notify(void *ctx, unsigned index)
{
	struct vio_device *dev = ctx;

	dev->notify_count++;
	dev->t.ops->notify(&dev->t, index);
}

/* ------------------------------------------------------------------ */
/* Queues */

/* Make room for queue records up to index (probe time). */
static int grow_queues(struct vio_device *dev, unsigned index)
{
	const struct vio_port *port = reg.port;
	struct vio_dev_queue *old = dev->queues, *q;
	unsigned n = index + 1, was;
	uintptr_t s;

	if (index < dev->nqueues)
		return 0;
	q = port->dma_alloc(port->ctx, sizeof(*q) * n, sizeof(void *));
	if (!q)
		return VIO_ENOMEM;
	memset(q, 0, sizeof(*q) * n);
	if (old)
		memcpy(q, old, sizeof(*q) * dev->nqueues);
	/* The interrupt handler walks the records: swap them under the lock. */
	s = vio_lock();
	was = dev->nqueues;
	dev->queues = q;
	dev->nqueues = n;
	vio_unlock(s);
	if (old)
		port->dma_free(port->ctx, old, sizeof(*old) * was);
	return 0;
}

static void queue_free(struct vio_dev_queue *q)
{
	const struct vio_os *os = reg.os;

	if (q->vq)
		vio_vq_destroy(q->vq);
	if (q->event && os->event_destroy)
		os->event_destroy(os->ctx, q->event);
	if (q->mutex && os->mutex_destroy)
		os->mutex_destroy(os->ctx, q->mutex);
	memset(q, 0, sizeof(*q));
}

int vio_dev_vq_setup(struct vio_device *dev, unsigned index, const struct vio_vq_opts *opts,
		     struct vio_vq **out)
{
	const struct vio_os *os = reg.os;
	struct vio_transport *t = &dev->t;
	struct vio_dev_queue nq, *q;
	struct vio_queue_addrs addrs;
	struct vio_vq_config cfg;
	uint32_t max;
	uintptr_t s;
	int rc;

	if (!opts)
		opts = &default_opts;
	if (index >= VIO_DEV_IRQ_CONFIG || !out)
		return VIO_EINVAL;
	if (index < dev->nqueues && dev->queues[index].vq)
		return VIO_EBUSY;
	max = t->ops->queue_max(t, index);
	if (max == 0) {
		vio_err("%s: queue %u does not exist", dev->name, index);
		return VIO_ENODEV;
	}
	/* A legacy virtio-pci queue has the device's size or none (4.1.5.1). */
	if (!t->fixed_queue_size) {
		if (max > CONFIG_VIO_QUEUE_SIZE_MAX)
			max = CONFIG_VIO_QUEUE_SIZE_MAX;
		if (opts->max_size && max > opts->max_size)
			max = opts->max_size;
	}
	rc = grow_queues(dev, index);
	if (rc)
		return rc;

	memset(&cfg, 0, sizeof(cfg));
	cfg.index = index;
	cfg.max_size = max;
	cfg.used_align = t->ops->ring_align(t);
	cfg.legacy = t->legacy;
	cfg.event_idx = vio_dev_has(dev, VIRTIO_RING_F_EVENT_IDX);
	cfg.packed = vio_dev_has(dev, VIRTIO_F_RING_PACKED);
	cfg.clamp_used_len = opts->clamp_used_len;
	if (vio_dev_has(dev, VIRTIO_RING_F_INDIRECT_DESC) && opts->indirect_max > 1)
		cfg.indirect_max = opts->indirect_max;
	cfg.notify = vq_notify;
	cfg.fail = vq_failed;
	cfg.ctx = dev;

	memset(&nq, 0, sizeof(nq));
	nq.handler = opts->handler;
	nq.arg = opts->arg;
	rc = vio_vq_create(reg.port, &cfg, &nq.vq);
	if (!rc && vio_dev_uses_irq(dev))
		rc = os->event_create(os->ctx, &nq.event);
	if (!rc && os && os->mutex_create)
		rc = os->mutex_create(os->ctx, &nq.mutex);
	if (!rc) {
		vio_vq_addrs(nq.vq, &addrs);
		rc = t->ops->queue_enable(t, index, vio_vq_size(nq.vq), &addrs);
		if (rc)
			vio_err("%s: queue %u: the transport refused it: %s", dev->name, index,
				vio_strerror(rc));
	}
	if (rc) {
		queue_free(&nq);
		return rc;
	}
	if (!vio_dev_uses_irq(dev))
		vio_vq_disable_irq(nq.vq);
	q = &dev->queues[index];
	s = vio_lock();
	*q = nq;
	vio_unlock(s);
	vio_dbg("%s: queue %u: %u entries", dev->name, index, vio_vq_size(nq.vq));
	*out = nq.vq;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Adding a device */

static void msix_free(struct vio_device *dev);

/* Give back the device's interrupt line or MSI-X vectors (the port's; no register of a gone one). */
static void release_irq(struct vio_device *dev)
{
	const struct vio_port *port = reg.port;

	if (dev->irq_attached && dev->irq_mode == VIO_IRQ_MODE_LINE && port->irq_detach) {
		port->irq_detach(port->ctx, dev->irq, dev);
		dev->irq_attached = false;
		dev->irq_mode = VIO_IRQ_MODE_POLLED;
		/* irq_attach enables the line again; without irq_detach it stays masked. */
		__atomic_store_n(&dev->line_masked, false, __ATOMIC_RELEASE);
	}
	if (dev->vectors) {
		/* A reset device forgets its vectors (4.1.4.3): take them anew on recovery. */
		msix_free(dev);
		dev->irq_attached = false;
		dev->irq_mode = VIO_IRQ_MODE_POLLED;
	}
}

/*
 * Take a reset device's queues down: the driver gives back what they held
 * (remove), then they are freed. The driver state stays.
 */
static void release_queues(struct vio_device *dev)
{
	const struct vio_port *port = reg.port;
	struct vio_transport *t = &dev->t;
	struct vio_dev_queue *queues = dev->queues;
	unsigned n = dev->nqueues;
	uintptr_t s;

	release_irq(dev);
	for (unsigned i = 0; i < n && !is_gone(dev); i++)
		if (queues[i].vq && t->ops->queue_disable(t, i))
			vio_warn("%s: queue %u never showed disabled", dev->name, i);
	if (dev->priv && dev->driver->remove)
		dev->driver->remove(dev);
	/* Without irq_detach the handler stays: it must find no records. */
	s = vio_lock();
	dev->queues = NULL;
	dev->nqueues = 0;
	vio_unlock(s);
	for (unsigned i = 0; i < n; i++)
		queue_free(&queues[i]);
	if (queues)
		port->dma_free(port->ctx, queues, sizeof(*queues) * n);
}

static void release(struct vio_device *dev)
{
	const struct vio_port *port = reg.port;

	release_queues(dev);
	if (dev->irq_attached && !port->irq_detach) {
		dev->irq_attached = false; /* as before: the device is out of use */
		dev->irq_mode = VIO_IRQ_MODE_POLLED;
	}
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
	else
		/* 6.3 (legacy interface): a transitional driver accepts ANY_LAYOUT */
		f |= 1ull << VIRTIO_F_ANY_LAYOUT;
	if (CONFIG_VIO_RING_INDIRECT && dev->driver->uses_indirect)
		f |= 1ull << VIRTIO_RING_F_INDIRECT_DESC;
	if (CONFIG_VIO_RING_EVENT_IDX)
		f |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	/* 2.6.1: single-queue reset, for a driver that does it, where the transport can */
	if (dev->driver->uses_queue_reset && dev->t.queue_reset && !dev->t.legacy)
		f |= 1ull << VIRTIO_F_RING_RESET;
	/*
	 * 2.8: the packed ring, modern devices only, and only where the ring
	 * needs no cache maintenance (src/core/virtqueue_packed.c says why).
	 */
	if (CONFIG_VIO_RING_PACKED && !dev->t.legacy && !reg.port->cache_clean &&
	    !reg.port->cache_invalidate)
		f |= 1ull << VIRTIO_F_RING_PACKED;
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
	if (dev->driver->fix_features)
		dev->driver->fix_features(dev, &dev->negotiated);
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

/* ------------------------------------------------------------------ */
/* MSI-X vectors (virtio-pci, 4.1.4.3 and 4.1.5.1.2) */

/* Queues a device may have that get an MSI-X route (the transport's bound). */
#define MSIX_MAX_QUEUES 256u

static bool has_msix(const struct vio_device *dev)
{
	const struct vio_transport_ops *o = dev->t.ops;
	const struct vio_port *port = reg.port;

	return port->msi_attach && port->msi_detach && o->msix_count && o->msix_set &&
	       o->msix_enable && o->msix_route;
}

/* Give the vectors back: MSI-X off first, so that no message arrives after. */
static void msix_free(struct vio_device *dev)
{
	const struct vio_port *port = reg.port;

	if (!is_gone(dev))
		dev->t.ops->msix_enable(&dev->t, false);
	for (unsigned v = 0; v < dev->nvectors; v++)
		if (dev->vectors[v].handle >= 0)
			port->msi_detach(port->ctx, dev->vectors[v].handle);
	port->dma_free(port->ctx, dev->vectors, sizeof(*dev->vectors) * dev->nvectors);
	dev->vectors = NULL;
	dev->nvectors = 0;
}

/* The queues the device has: indices from 0 until one reads absent. */
static unsigned count_queues(struct vio_device *dev)
{
	unsigned n = 0;

	while (n < MSIX_MAX_QUEUES && dev->t.ops->queue_max(&dev->t, n) != 0)
		n++;
	return n;
}

/*
 * Take nvec vectors from the platform for the device's nq queues: vector 0
 * for configuration changes and one per queue (per_queue), or vector 1 for
 * all queues (vector 0 for everything with nvec 1). Program the table,
 * turn MSI-X on and route every queue, reading each route back. Any
 * failure undoes it all.
 */
static int msix_try(struct vio_device *dev, unsigned nvec, unsigned nq, bool per_queue)
{
	const struct vio_port *port = reg.port;
	struct vio_transport *t = &dev->t;
	unsigned shared_vec = nvec > 1 ? 1 : 0;
	int rc = 0;

	dev->vectors = port->dma_alloc(port->ctx, sizeof(*dev->vectors) * nvec, sizeof(void *));
	if (!dev->vectors)
		return VIO_ENOMEM;
	dev->nvectors = (uint16_t)nvec;
	for (unsigned v = 0; v < nvec; v++) {
		dev->vectors[v].dev = dev;
		dev->vectors[v].handle = -1;
		dev->vectors[v].what = v == 0 ? (nvec == 1 ? VEC_EVERYTHING : VIO_DEV_IRQ_CONFIG)
				       : per_queue ? v - 1 : VEC_ALL_QUEUES;
	}
	for (unsigned v = 0; v < nvec && !rc; v++) {
		uint64_t addr = 0;
		uint32_t data = 0;
		int h = port->msi_attach(port->ctx, vector_irq, &dev->vectors[v], &addr, &data);

		if (h < 0) {
			rc = h;
			break;
		}
		dev->vectors[v].handle = h;
		rc = t->ops->msix_set(t, v, addr, data);
	}
	if (!rc) {
		t->ops->msix_enable(t, true);
		rc = t->ops->msix_route(t, VIO_TRANSPORT_CONFIG, 0);
	}
	for (unsigned q = 0; q < nq && !rc; q++)
		rc = t->ops->msix_route(t, q, (uint16_t)(per_queue ? q + 1 : shared_vec));
	if (rc)
		msix_free(dev);
	return rc;
}

/*
 * A vector per queue and one for the configuration if the table, the
 * platform and the device allow it; else one shared vector for the
 * queues; else VIO_ENOTSUP (the line, then).
 */
static int attach_msix(struct vio_device *dev)
{
	struct vio_transport *t = &dev->t;
	unsigned n, nq;
	int rc = VIO_ENOTSUP;

	if (!has_msix(dev) || (n = t->ops->msix_count(t)) == 0)
		return VIO_ENOTSUP;
	nq = count_queues(dev);
	if (nq + 1 <= n) {
		rc = msix_try(dev, nq + 1, nq, true);
		if (rc == 0) {
			dev->irq_mode = VIO_IRQ_MODE_MSIX;
			return 0;
		}
		vio_info("%s: MSI-X: no vector for each of %u queues (%s); sharing", dev->name, nq,
			 vio_strerror(rc));
	}
	/* Two vectors (configuration, queues), or one for everything if that is all there is. */
	rc = n > 1 ? msix_try(dev, 2, nq, false) : VIO_ENOSPC;
	if (rc)
		rc = msix_try(dev, 1, nq, false);
	if (rc == 0) {
		dev->irq_mode = VIO_IRQ_MODE_MSIX_SHARED;
		return 0;
	}
	vio_info("%s: MSI-X not usable (%s); interrupt line %d", dev->name, vio_strerror(rc),
		 dev->irq);
	return rc;
}

/* Polled unless the build, the port and the transport allow interrupts. */
static void choose_irq(struct vio_device *dev)
{
	const struct vio_port *port = reg.port;
	int rc;

	if (!CONFIG_VIO_COMPLETION_IRQ || !reg.os)
		return;
	if (dev->irq_attached)
		return; /* recovered, and the port cannot detach its line: still attached */
	if (attach_msix(dev) == 0) {
		dev->irq_attached = true;
		return;
	}
	if (dev->irq < 0 || !port->irq_attach)
		return;
	rc = port->irq_attach(port->ctx, dev->irq, vio_dev_irq, dev);
	if (rc) {
		vio_warn("%s: interrupt %d not available (%s); polling", dev->name, dev->irq,
			 vio_strerror(rc));
		return;
	}
	dev->irq_attached = true;
	dev->irq_mode = VIO_IRQ_MODE_LINE;
}

static int attach_irq(struct vio_device *dev)
{
	choose_irq(dev);
	if (dev->nvectors)
		vio_info("%s: interrupts: %s, %u vector%s", dev->name, vio_dev_irq_mode_name(dev),
			 dev->nvectors, dev->nvectors > 1 ? "s" : "");
	else
		vio_info("%s: interrupts: %s", dev->name, vio_dev_irq_mode_name(dev));
	return 0;
}

/*
 * 3.1.1: the driver initialization sequence, for a device with a driver;
 * resume: the driver's state is there already (vio_dev_recover).
 */
static int start(struct vio_device *dev, bool resume)
{
	const struct vio_os *os = reg.os;
	struct vio_transport *t = &dev->t;
	int rc;

	t->ops->set_status(t, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	t->ops->set_status(t, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	rc = negotiate(dev);
	if (rc)
		return rc;
	if (os && os->mutex_create && !dev->mutex && os->mutex_create(os->ctx, &dev->mutex)) {
		dev->mutex = NULL;
		return VIO_ENOMEM;
	}
	if (!resume && dev->driver->priv_size) {
		dev->priv = reg.port->dma_alloc(reg.port->ctx, dev->driver->priv_size, 16);
		if (!dev->priv)
			return VIO_ENOMEM;
		memset(dev->priv, 0, dev->driver->priv_size);
	}
	rc = attach_irq(dev);
	if (rc)
		return rc;
	rc = resume ? dev->driver->resume(dev) : dev->driver->probe(dev);
	if (rc) {
		vio_err("%s: driver %s failed: %s", dev->name, resume ? "resume" : "probe",
			vio_strerror(rc));
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

/* The interface the device speaks is one this build leaves out. */
static bool iface_excluded(const struct vio_transport *t)
{
	return t->legacy ? CONFIG_VIO_IFACE_MODERN : CONFIG_VIO_IFACE_LEGACY;
}

static void refuse(struct vio_device *dev, int err)
{
	set_state(dev, VIO_DEV_REFUSED);
	dev->error = err;
}

int vio_dev_add(const struct vio_transport *t, int slot, struct vio_device **out)
{
	const struct driver_entry *entry;
	struct vio_device *dev;
	int rc;

	if (!reg.port || !t || !t->ops)
		return VIO_EINVAL;
	if (t->device_id == 0 || reg.ndevices == CONFIG_VIO_MAX_DEVICES) {
		if (t->device_id)
			vio_err("%s@%#lx: device table full (CONFIG_VIO_MAX_DEVICES)", t->ops->name,
				(unsigned long)t->base);
		if (t->ops->release)
			t->ops->release((struct vio_transport *)t);
		return t->device_id ? VIO_ENOSPC : VIO_ENODEV;
	}

	dev = &reg.devices[reg.ndevices];
	memset(dev, 0, sizeof(*dev));
	dev->t = *t;
	dev->slot = slot;
	dev->irq = t->irq;
	/* Entered whole: another device's interrupt handler reads the table (line_had_work). */
	__atomic_store_n(&reg.ndevices, reg.ndevices + 1, __ATOMIC_RELEASE);
	name_device(dev);
	if (out)
		*out = dev;

	if (t->unsupported) {
		refuse(dev, VIO_ENOTSUP);
		vio_err("%s: refused: unknown %s version %u", dev->name, t->ops->name, t->version);
		return VIO_ENOTSUP;
	}
	if (iface_excluded(t)) {
		refuse(dev, VIO_ENOTSUP);
		vio_err("%s: refused: %s device (%s version %u), but this build drives %s",
			dev->name, t->legacy ? "legacy" : "modern", t->ops->name, t->version,
			iface_build());
		return VIO_ENOTSUP;
	}

	rc = dev->t.ops->reset(&dev->t, reg.port, RESET_TIMEOUT_NS);
	if (rc) {
		set_state(dev, VIO_DEV_FAILED);
		dev->error = rc;
		vio_err("%s: the device did not finish its reset", dev->name);
		return rc;
	}

	entry = find_driver(t->device_id);
	if (!entry) {
		/* Leave it reset; show what it offers. */
		dev->offered = dev->t.ops->get_features(&dev->t);
		set_state(dev, VIO_DEV_NO_DRIVER);
		vio_info("%s: %s %s at %#lx, no driver", dev->name, vio_dev_interface(dev),
			 t->ops->name, (unsigned long)t->base);
		return 0;
	}
	dev->driver = entry->drv;
	dev->params = entry->params;

	rc = start(dev, false);
	if (rc) {
		/* Reset before the rings and buffers are freed (3.3.1). */
		vio_dev_fail(dev, rc);
		release(dev);
		if (rc == VIO_ENOTSUP)
			set_state(dev, VIO_DEV_REFUSED);
		return rc;
	}
	set_state(dev, VIO_DEV_READY);
	log_features(dev);
	if (dev->driver->started) {
		dev->driver->started(dev);
		if (vio_dev_state(dev) != VIO_DEV_READY)
			return dev->error ? dev->error : VIO_ESHUTDOWN;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Configuration space */

int vio_dev_config_read(struct vio_device *dev, unsigned off, unsigned width, uint64_t *val)
{
	const struct vio_transport_ops *ops = dev->t.ops;
	struct vio_transport *t = &dev->t;

	if (width != 1 && width != 2 && width != 4 && width != 8)
		return VIO_EINVAL;
	if (vio_dev_state(dev) == VIO_DEV_REFUSED || is_gone(dev))
		return VIO_ENODEV; /* no registers to reach (a virtio-pci one may have no state) */
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
	if (vio_dev_state(dev) == VIO_DEV_REFUSED || is_gone(dev))
		return VIO_ENODEV;
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

/* ------------------------------------------------------------------ */
/* Deferred work: doing it (task context) */

/*
 * Take the work noted for dev; a polled device looks at its rings and at
 * its status (every time when status is set, else now and then).
 */
static uint32_t take_work(struct vio_device *dev, bool polled, bool status)
{
	uint32_t pending;
	uintptr_t s;

	if (polled && vio_dev_state(dev) == VIO_DEV_READY) {
		s = vio_lock();
		for (unsigned i = 0; i < dev->nqueues; i++) {
			struct vio_dev_queue *q = &dev->queues[i];

			if (q->vq && q->handler && vio_vq_has_used(q->vq))
				__atomic_store_n(&q->pending, 1, __ATOMIC_RELEASE);
		}
		vio_unlock(s);
		if (++dev->polls % POLL_STATUS_EVERY == 0 || status) {
			uint32_t isr = dev->t.ops->ack_irq(&dev->t);

			__atomic_fetch_or(&dev->pending, isr & VIO_IRQ_CONFIG, __ATOMIC_RELAXED);
		}
	}
	pending = __atomic_exchange_n(&dev->pending, 0, __ATOMIC_ACQUIRE);
	return pending;
}

static void handle_device_events(struct vio_device *dev, uint32_t pending)
{
	/*
	 * 2.1.2: DEVICE_NEEDS_RESET comes with a configuration change
	 * interrupt. Looked at first: a device that needs a reset may also
	 * hold its line up (QEMU's, once broken, no longer lowers it), and
	 * the storm that makes is its consequence, not its cause.
	 */
	if ((pending & VIO_IRQ_CONFIG) && vio_dev_state(dev) == VIO_DEV_READY &&
	    (dev->t.ops->get_status(&dev->t) & VIRTIO_CONFIG_S_NEEDS_RESET)) {
		vio_err("%s: the device needs a reset", dev->name);
		vio_dev_fail(dev, VIO_EIO);
	}
	if (pending & PENDING_STORM) {
		vio_err("%s: %u interrupts in a row with nothing to report; line %d masked",
			dev->name, IRQ_STORM_LIMIT, dev->irq);
		vio_dev_fail(dev, VIO_EIO);
	}
	if (pending & PENDING_BROKEN)
		vio_dev_fail(dev, VIO_EPROTO);
	if (pending & PENDING_LATE)
		vio_warn("%s: interrupt after the device was reset (status %#x); ignored", dev->name,
			 (unsigned)(pending & (VIO_IRQ_QUEUE | VIO_IRQ_CONFIG)));
	if (pending & PENDING_MASKED)
		vio_warn("%s: line %d masked (a device sharing it stormed); polling", dev->name,
			 dev->irq);
	if (!(pending & VIO_IRQ_CONFIG) || vio_dev_state(dev) != VIO_DEV_READY)
		return;
	if (dev->driver && dev->driver->config_changed)
		dev->driver->config_changed(dev);
}

/*
 * Run the handler of every queue with work noted. Without vio_lock: taking
 * the flag is one atomic exchange, and the handler takes the driver's lock
 * itself.
 */
static void run_queues(struct vio_device *dev)
{
	for (unsigned i = 0; i < dev->nqueues; i++) {
		struct vio_dev_queue *q = &dev->queues[i];

		if (!__atomic_exchange_n(&q->pending, 0, __ATOMIC_ACQ_REL))
			continue;
		if (q->handler)
			q->handler(dev, q->vq, q->arg);
		/* Its waiter (if any) looks at what the handler did. */
		if (__atomic_load_n(&q->waiters, __ATOMIC_ACQUIRE))
			signal_event(q->event);
	}
}

static bool more_work(struct vio_device *dev)
{
	if (dev->rerun || __atomic_load_n(&dev->pending, __ATOMIC_RELAXED))
		return true;
	for (unsigned i = 0; i < dev->nqueues; i++)
		if (__atomic_load_n(&dev->queues[i].pending, __ATOMIC_RELAXED))
			return true;
	return false;
}

static void service(struct vio_device *dev, bool status)
{
	bool polled = !vio_dev_uses_irq(dev);
	uintptr_t s;

	if (vio_dev_state(dev) != VIO_DEV_READY && vio_dev_state(dev) != VIO_DEV_FAILED)
		return;
	s = vio_lock();
	/* A task runs: no storm. Atomic: the interrupt handler counts without the lock. */
	__atomic_store_n(&dev->empty_irqs, 0, __ATOMIC_RELAXED);
	if (dev->busy) {
		dev->rerun = true; /* the thread that is at it takes this too */
		vio_unlock(s);
		return;
	}
	dev->busy = true;
	/* Whatever asked for a rerun before this is taken by the pass below. */
	dev->rerun = false;
	vio_unlock(s);

	for (;;) {
		uint32_t pending;
		bool again;

		pending = take_work(dev, polled, status);
		status = false;
		if (pending & ~VIO_IRQ_QUEUE)
			handle_device_events(dev, pending);
		run_queues(dev);
		s = vio_lock();
		again = more_work(dev);
		if (!again)
			dev->busy = false;
		else
			dev->rerun = false; /* the next pass takes it */
		vio_unlock(s);
		if (!again)
			break;
	}
}

void vio_dev_service(struct vio_device *dev)
{
	service(dev, true);
}

void vio_dev_poll(struct vio_device *dev)
{
	if (vio_dev_state(dev) != VIO_DEV_READY && vio_dev_state(dev) != VIO_DEV_FAILED)
		return;
	note(dev, VIO_IRQ_QUEUE, ALL_QUEUES);
	service(dev, false);
}

unsigned vio_service(void)
{
	unsigned n = 0;

	__atomic_store_n(&reg.work, 0, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < reg.ndevices; i++) {
		struct vio_device *dev = &reg.devices[i];
		bool more;
		uintptr_t s;

		if (vio_dev_state(dev) != VIO_DEV_READY && vio_dev_state(dev) != VIO_DEV_FAILED)
			continue;
		/* The interrupt handler and the other threads' service passes change these. */
		s = vio_lock();
		more = more_work(dev);
		vio_unlock(s);
		if (more || !vio_dev_uses_irq(dev)) { /* more_work includes dev->pending */
			vio_dev_service(dev);
			n++;
		}
	}
	return n;
}

/* A polled device with completions waiting. */
static bool polled_work(void)
{
	bool any = false;

	for (unsigned i = 0; i < reg.ndevices && !any; i++) {
		struct vio_device *dev = &reg.devices[i];
		uintptr_t s;

		if (vio_dev_state(dev) != VIO_DEV_READY || vio_dev_uses_irq(dev))
			continue;
		s = vio_lock();
		for (unsigned j = 0; j < dev->nqueues && !any; j++)
			any = dev->queues[j].vq && vio_vq_has_used(dev->queues[j].vq);
		vio_unlock(s);
	}
	return any;
}

static bool any_polled(void)
{
	for (unsigned i = 0; i < reg.ndevices; i++)
		if (reg.devices[i].state == VIO_DEV_READY && !vio_dev_uses_irq(&reg.devices[i]))
			return true;
	return false;
}

int vio_service_wait(uint64_t timeout_ns)
{
	const struct vio_port *port = reg.port;
	uint64_t start = port->time_ns(port->ctx);
	bool polled = any_polled();

	for (;;) {
		uint64_t elapsed;

		if (__atomic_load_n(&reg.work, __ATOMIC_ACQUIRE))
			return 0;
		if (polled && polled_work())
			return 0;
		elapsed = port->time_ns(port->ctx) - start;
		if (elapsed >= timeout_ns)
			return VIO_ETIMEDOUT;
		if (!polled && reg.os)
			reg.os->event_wait(reg.os->ctx, reg.service_event, timeout_ns - elapsed);
	}
}

/* ------------------------------------------------------------------ */
/* Waiting */

/*
 * Polled: whether a service pass or the waiter's check would find anything
 * new (one look under vio_lock): work noted, a used entry on a queue with a
 * handler, or on vq, which the waiter's check may drain itself.
 */
static bool poll_ready(struct vio_device *dev, struct vio_vq *vq)
{
	bool any = __atomic_load_n(&dev->pending, __ATOMIC_RELAXED) != 0;
	uintptr_t s = vio_lock();

	any = any || vio_vq_has_used(vq);
	for (unsigned i = 0; i < dev->nqueues && !any; i++) {
		struct vio_dev_queue *q = &dev->queues[i];

		any = q->vq && q->handler && vio_vq_has_used(q->vq);
	}
	vio_unlock(s);
	return any;
}

int vio_dev_wait(struct vio_device *dev, struct vio_vq *vq, bool (*done)(void *arg), void *arg,
		 uint64_t timeout_ns)
{
	const struct vio_port *port = reg.port;
	const struct vio_os *os = reg.os;
	unsigned index = vq ? vio_vq_index(vq) : 0;
	bool irq;
	struct vio_dev_queue *q;
	bool started = false;
	uint64_t start = 0;
	unsigned passes = 0;
	int rc;

	if (!vq || index >= dev->nqueues || dev->queues[index].vq != vq || !done)
		return VIO_EINVAL;
	q = &dev->queues[index];
	if (q->mutex)
		os->mutex_lock(os->ctx, q->mutex);
	__atomic_fetch_add(&q->waiters, 1, __ATOMIC_ACQ_REL);

	for (;;) {
		/* Each pass: a storm on a shared line may have made it polled. */
		irq = vio_dev_uses_irq(dev);
		/*
		 * Polled, a pass with no used entry and nothing noted skips the
		 * service pass and the caller's check: each takes vio_lock more
		 * than once, and the spin runs many passes per request. Every
		 * POLL_CLOCK_EVERY-th pass runs both anyway, so what another
		 * thread completed, and the device status the service reads now
		 * and then (take_work), are still seen within a bounded number of
		 * passes.
		 */
		if (irq || passes % POLL_CLOCK_EVERY == 0 || poll_ready(dev, vq)) {
			service(dev, false);
			if (done(arg)) {
				rc = 0;
				break;
			}
			if (vio_dev_state(dev) != VIO_DEV_READY) {
				rc = VIO_ESHUTDOWN;
				break;
			}
		}
		/*
		 * The clock from the first miss on (most waits end at the first
		 * look); a polled wait reads it every POLL_CLOCK_EVERY passes
		 * only, a pass being far shorter than any timeout.
		 */
		if (irq || passes++ % POLL_CLOCK_EVERY == 0) {
			uint64_t now = port->time_ns(port->ctx), elapsed;

			if (!started) {
				start = now;
				started = true;
			}
			elapsed = now - start;
			if (elapsed >= timeout_ns) {
				rc = done(arg) ? 0 : VIO_ETIMEDOUT;
				break;
			}
			/* Polled, the next service pass looks at the rings again. */
			if (irq)
				os->event_wait(os->ctx, q->event, timeout_ns - elapsed);
		}
	}

	__atomic_fetch_sub(&q->waiters, 1, __ATOMIC_ACQ_REL);
	if (q->mutex)
		os->mutex_unlock(os->ctx, q->mutex);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Recovery */

/* Forget the failure: the device is about to be set up from the start. */
static void clear_failure(struct vio_device *dev)
{
	uintptr_t s = vio_lock();

	dev->reset_done = false;
	dev->error = 0;
	dev->negotiated = 0;
	__atomic_store_n(&dev->pending, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&dev->empty_irqs, 0, __ATOMIC_RELAXED);
	vio_unlock(s);
}

/*
 * Keep every service pass out of dev (they see busy and leave its work
 * noted): VIO_EAGAIN while one runs. release_service lets them in again.
 */
static int hold_service(struct vio_device *dev)
{
	uintptr_t s = vio_lock();
	int rc = dev->busy ? VIO_EAGAIN : 0;

	dev->busy = true;
	vio_unlock(s);
	return rc;
}

static void release_service(struct vio_device *dev)
{
	uintptr_t s = vio_lock();

	dev->busy = false; /* what was noted meanwhile stays noted: the next pass takes it */
	vio_unlock(s);
}

int vio_dev_recover(struct vio_device *dev)
{
	const struct vio_driver *drv = dev ? dev->driver : NULL;
	bool resume;
	int rc;

	if (!drv || vio_dev_state(dev) != VIO_DEV_FAILED || !dev->reset_done)
		return VIO_EINVAL;
	if (is_gone(dev))
		return VIO_ENODEV; /* unplugged: only vio_dev_replug brings it back */
	/* A device that failed while it was added has no driver state left: probe it afresh. */
	resume = dev->priv != NULL;
	if (resume && !drv->resume)
		return VIO_ENOTSUP;
	/* The handlers end what the failure left in flight, with the failure's error. */
	service(dev, false);
	/* Keep every service pass out while the queues go and come. */
	rc = hold_service(dev);
	if (rc)
		return rc;

	if (resume)
		release_queues(dev);
	/* 3.1.1 step 1: reset (vio_dev_fail left FAILED in the status for the host). */
	rc = dev->t.ops->reset(&dev->t, reg.port, RESET_TIMEOUT_NS);
	clear_failure(dev);
	if (!rc)
		rc = start(dev, resume);
	if (rc) {
		vio_dev_fail(dev, rc); /* reset before the rings go (3.3.1) */
		if (resume)
			release_queues(dev); /* the state stays for the next try */
		else
			release(dev);
	} else {
		set_state(dev, VIO_DEV_READY);
		vio_info("%s: recovered", dev->name);
		log_features(dev);
	}
	release_service(dev);
	if (rc)
		return rc;
	if (drv->started) {
		drv->started(dev);
		if (vio_dev_state(dev) != VIO_DEV_READY)
			return dev->error ? dev->error : VIO_ESHUTDOWN;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Resetting one queue */

/* The MSI-X table entry queue index was routed to (msix_try), or -1. */
static int queue_vector(const struct vio_device *dev, unsigned index)
{
	for (unsigned v = 0; v < dev->nvectors; v++) {
		unsigned what = dev->vectors[v].what;

		if (what == index || what == VEC_ALL_QUEUES || what == VEC_EVERYTHING)
			return (int)v;
	}
	return -1;
}

int vio_dev_vq_reset(struct vio_device *dev, unsigned index, void (*reclaim)(void *arg),
		     void *arg)
{
	struct vio_transport *t;
	struct vio_queue_addrs addrs;
	struct vio_vq *vq;
	uintptr_t s;
	int rc, vec;

	if (!dev || !reclaim)
		return VIO_EINVAL;
	if (!vio_dev_has(dev, VIRTIO_F_RING_RESET))
		return VIO_ENOTSUP;
	if (vio_dev_state(dev) != VIO_DEV_READY)
		return VIO_ESHUTDOWN;
	vq = vio_dev_vq(dev, index);
	if (!vq)
		return VIO_EINVAL;
	t = &dev->t;
	/* No service pass looks at the queue while it goes and comes back. */
	rc = hold_service(dev);
	if (rc)
		return rc;

	/* 2.6.1.1: after the reset the device no longer uses the queue's buffers. */
	rc = t->ops->queue_disable(t, index);
	if (!rc) {
		reclaim(arg);
		s = vio_lock();
		rc = vio_vq_reinit(vq);
		vio_unlock(s);
		if (rc)
			vio_err("%s: queue %u: the driver kept a buffer through its reset", dev->name,
				index);
	}
	/* 4.1.4.3: the reset queue forgot its vector (QEMU: NO_VECTOR); route it again. */
	vec = dev->irq_mode == VIO_IRQ_MODE_MSIX ? queue_vector(dev, index) : -1;
	if (!rc && vec >= 0)
		rc = t->ops->msix_route(t, index, (uint16_t)vec);
	if (!rc) {
		vio_vq_addrs(vq, &addrs);
		rc = t->ops->queue_enable(t, index, vio_vq_size(vq), &addrs);
	}
	release_service(dev);
	if (rc) {
		vio_err("%s: queue %u: reset failed: %s", dev->name, index, vio_strerror(rc));
		vio_dev_fail(dev, rc);
		return rc;
	}
	vio_info("%s: queue %u reset", dev->name, index);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Hot-unplug and hot-plug */

void vio_dev_remove(struct vio_device *dev, bool present)
{
	enum vio_dev_state st = dev ? vio_dev_state(dev) : VIO_DEV_EMPTY;

	if (st == VIO_DEV_EMPTY)
		return;
	if (st != VIO_DEV_READY && st != VIO_DEV_FAILED) {
		/* No driver, or refused: nothing in flight, nothing to stop; it only leaves. */
		__atomic_store_n(&dev->gone, true, __ATOMIC_RELEASE);
	} else if (present) {
		/* Still answering: reset it, so it stops using its buffers before it loses power. */
		vio_dev_fail(dev, VIO_ENODEV);
		__atomic_store_n(&dev->gone, true, __ATOMIC_RELEASE);
	} else {
		/* Gone already: never write to it, not even the failure's reset. */
		__atomic_store_n(&dev->gone, true, __ATOMIC_RELEASE);
		vio_dev_fail(dev, VIO_ENODEV);
	}
	vio_info("%s: removed", dev->name);
}

int vio_dev_replug(struct vio_device *dev, const struct vio_transport *t)
{
	if (!dev || !t || !is_gone(dev) || t->device_id != dev->t.device_id || t->unsupported)
		return VIO_EINVAL;
	/* The old line or vectors go while it is still gone: the new function may route elsewhere. */
	release_irq(dev);
	if (dev->t.ops && dev->t.ops->release)
		dev->t.ops->release(&dev->t); /* frees memory only: no register is touched */
	dev->t = *t;
	dev->irq = t->irq;
	__atomic_store_n(&dev->gone, false, __ATOMIC_RELEASE);
	vio_info("%s: plugged in again (%s)", dev->name, t->legacy ? "legacy" : "modern");
	if (vio_dev_state(dev) != VIO_DEV_FAILED)
		return 0; /* no driver, refused: nothing to recover */
	return vio_dev_recover(dev);
}
