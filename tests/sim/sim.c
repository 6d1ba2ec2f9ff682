/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The simulated virtio-mmio devices: register file (VirtIO 1.2 section 4.2.2
 * for version 2, 4.2.4 for the legacy version 1) and the device side of the
 * split virtqueue (section 2.7). See sim.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vio/io.h>
#include <vio/spec/virtio_config.h>
#include <vio/spec/virtio_mmio.h>
#include <vio/spec/virtio_ring.h>

#include "sim.h"
#include "sim_cache.h"
#include "sim_port.h"

bool sim_verbose = true;

static struct sim_dev devs[SIM_MAX_DEVS];
static unsigned nerrors;
static char last_error[256];
static const struct sim_threads *threads; /* sim_set_threads */

/*
 * Driver errors may be reported from several threads at once (a port's
 * hooks run in the library's threads, outside the simulator's lock): the
 * count and the message are kept under a lock of their own, a spin lock so
 * that the simulator needs no thread library.
 */
static int error_lock;

static void errors_lock(void)
{
	while (__atomic_exchange_n(&error_lock, 1, __ATOMIC_ACQUIRE))
		;
}

static void errors_unlock(void)
{
	__atomic_store_n(&error_lock, 0, __ATOMIC_RELEASE);
}

void sim_error(const char *fmt, ...)
{
	va_list ap;

	errors_lock();
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	nerrors++;
	if (sim_verbose)
		fprintf(stderr, "sim: driver error: %s\n", last_error);
	errors_unlock();
}

unsigned sim_take_errors(void)
{
	unsigned n;

	errors_lock();
	n = nerrors;
	nerrors = 0;
	errors_unlock();
	return n;
}

unsigned sim_errors(void)
{
	unsigned n;

	errors_lock();
	n = nerrors;
	errors_unlock();
	return n;
}

void sim_set_threads(const struct sim_threads *t)
{
	threads = t;
}

const char *sim_last_error(void)
{
	return last_error;
}

/* A bug in a test or a model, not in the library: stop at once. */
static void sim_bug(const char *what)
{
	fprintf(stderr, "sim: test bug: %s\n", what);
	abort();
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* A DMA address as the CPU sees it (virt_to_dma is the identity). */
static void *cpu_ptr(uint64_t addr)
{
	return (void *)(uintptr_t)addr;
}

/*
 * Ring memory as the device sees it: the memory itself, or on a
 * non-coherent port its view in the cache model (sim_cache.h).
 */
static void *ptr(uint64_t addr)
{
	return sim_cache_dev_ptr(addr);
}

/*
 * Ring and config fields: little-endian on a modern device, the guest's
 * native order on a legacy one (2.7, legacy interface).
 */
/*
 * 16-bit ring fields (indices, flags, event fields, ring entries) are read
 * and written atomically, acquire and release, as the library does
 * (include/vio/arch/host.h): with the device in a thread of its own
 * (sim_pthread_port.h) the driver writes them while the device reads them,
 * and these accesses are what orders the rest of the ring and the buffers
 * between the two threads. Ring fields are naturally aligned (2.7).
 */
static uint16_t rd16(const struct sim_dev *d, const void *p)
{
	uint16_t v = __atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE);

	return sim_is_legacy(d) ? v : vio_le16_to_cpu(v);
}

static uint32_t rd32(const struct sim_dev *d, const void *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return sim_is_legacy(d) ? v : vio_le32_to_cpu(v);
}

static uint64_t rd64(const struct sim_dev *d, const void *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return sim_is_legacy(d) ? v : vio_le64_to_cpu(v);
}

static void wr16(const struct sim_dev *d, void *p, uint16_t v)
{
	if (!sim_is_legacy(d))
		v = vio_cpu_to_le16(v);
	__atomic_store_n((uint16_t *)p, v, __ATOMIC_RELEASE);
}

static void wr32(const struct sim_dev *d, void *p, uint32_t v)
{
	if (!sim_is_legacy(d))
		v = vio_cpu_to_le32(v);
	memcpy(p, &v, 4);
}

static bool has_feature(const struct sim_dev *d, unsigned bit)
{
	return (d->driver_features >> bit) & 1u;
}

static bool event_idx(const struct sim_dev *d)
{
	return has_feature(d, VIRTIO_RING_F_EVENT_IDX);
}

bool sim_offer_packed;

/* What the device offers: its features, and the packed ring when asked to. */
static uint64_t offered(const struct sim_dev *d)
{
	uint64_t f = d->features;

	if (sim_offer_packed && !sim_is_legacy(d))
		f |= 1ull << VIRTIO_F_RING_PACKED;
	return f;
}

/* ------------------------------------------------------------------ */
/* Device table */

static void queue_free(struct sim_queue *q)
{
	/*
	 * Nothing allocated: return before the frees of NULL, which cost a
	 * stack trace each under AddressSanitizer (a reset of the table after
	 * every fuzz input walks all SIM_MAX_DEVS * SIM_MAX_QUEUES queues).
	 */
	if (!q->pheld && !q->id_ndesc && !q->segs && !q->didx && !q->held && !q->busy)
		return;
	if (q->pheld) {
		for (uint32_t i = 0; i < q->num; i++) {
			if (q->pheld[i].out)
				free(q->pheld[i].out);
		}
	}
	free(q->pheld);
	free(q->id_ndesc);
	q->pheld = NULL;
	q->id_ndesc = NULL;
	free(q->segs);
	free(q->didx);
	free(q->held);
	free(q->busy);
	q->segs = NULL;
	q->didx = NULL;
	q->held = NULL;
	q->busy = NULL;
}

/* Take the queue away from the device (reset, QueueReady 0, QueuePFN 0). */
static void queue_disable(struct sim_queue *q)
{
	queue_free(q);
	q->ready = false;
	q->pfn = 0;
	q->last_avail = 0;
	q->used_idx = 0;
	q->nheld = 0;
	q->broken = false;
	q->disable_left = 0;
	q->disabling = false;
	q->race_armed = false;
	q->packed = false;
}

static void store_buffer_clear(void);

static struct sim_region regions[SIM_MAX_REGIONS];
static unsigned nregions;

int sim_region_add(const struct sim_region *r)
{
	if (nregions == SIM_MAX_REGIONS)
		return -1;
	regions[nregions++] = *r;
	return 0;
}

static const struct sim_region *region_at(uintptr_t addr)
{
	for (unsigned i = 0; i < nregions; i++)
		if (addr >= regions[i].base && addr - regions[i].base < regions[i].size)
			return &regions[i];
	return NULL;
}

void sim_reset_all(void)
{
	const char *packed = getenv("VIO_SIM_PACKED");

	sim_offer_packed = packed && *packed && *packed != '0';
	/*
	 * Only slots in use: the others are still zero from the last reset
	 * (sim_dev_new clears a slot before it hands it out), and clearing all
	 * 16 devices of 64 queues each was a third of a fuzz input's time.
	 */
	for (unsigned i = 0; i < SIM_MAX_DEVS; i++) {
		if (!devs[i].used)
			continue;
		for (unsigned j = 0; j < SIM_MAX_QUEUES; j++)
			queue_free(&devs[i].q[j]);
		memset(&devs[i], 0, sizeof(devs[i]));
	}
	errors_lock();
	nerrors = 0;
	last_error[0] = 0;
	errors_unlock();
	store_buffer_clear();
	sim_store_buffer = false;
	threads = NULL;
	nregions = 0;
}

static int null_handle(struct sim_dev *dev, unsigned q, const struct sim_chain *chain)
{
	return 0;
}

const struct sim_model sim_null_model = {
	.name = "null",
	.handle = null_handle,
};

struct sim_dev *sim_dev_new(int slot, uint32_t version, uint32_t device_id)
{
	struct sim_dev *d;

	if (slot < 0 || slot >= SIM_MAX_DEVS || devs[slot].used)
		sim_bug("sim_dev_new: bad or taken slot");
	d = &devs[slot];
	memset(d, 0, sizeof(*d));
	d->used = true;
	d->slot = slot;
	d->base = sim_base(slot);
	d->irq = slot + 1;
	d->magic = VIRTIO_MMIO_MAGIC;
	d->version = version;
	d->device_id = device_id;
	d->vendor_id = 0x554d4551; /* "QEMU", as QEMU reports it */
	d->q[0].num_max = 256;
	d->avail_event = -1;
	d->model = &sim_null_model;
	return d;
}

void sim_dev_del(struct sim_dev *d)
{
	for (unsigned j = 0; j < SIM_MAX_QUEUES; j++)
		queue_free(&d->q[j]);
	memset(d, 0, sizeof(*d));
}

struct sim_dev *sim_dev_at_slot(int slot)
{
	if (slot < 0 || slot >= SIM_MAX_DEVS || !devs[slot].used)
		return NULL;
	return &devs[slot];
}

struct sim_dev *sim_dev_by_base(uintptr_t addr)
{
	for (unsigned i = 0; i < SIM_MAX_DEVS; i++) {
		if (devs[i].used && addr >= devs[i].base && addr - devs[i].base < SIM_STRIDE)
			return &devs[i];
	}
	return NULL;
}

int sim_status_logged(const struct sim_dev *d, uint8_t status)
{
	for (unsigned i = 0; i < d->nstatus_log && i < SIM_STATUS_LOG; i++) {
		if (d->status_log[i] == status)
			return (int)i;
	}
	return -1;
}

void sim_config_set(struct sim_dev *d, unsigned off, unsigned width, uint64_t val)
{
	uint8_t b[8];

	if (width > 8 || off + width > SIM_CONFIG_MAX)
		sim_bug("sim_config_set out of range");
	for (unsigned i = 0; i < width; i++) {
		/* Little-endian; a legacy device is native, and hosts are little-endian. */
		b[i] = (uint8_t)(val >> (8 * i));
	}
	memcpy(d->config + off, b, width);
	if (off + width > d->config_size)
		d->config_size = off + width;
}

/* ------------------------------------------------------------------ */
/* Interrupts */

void sim_raise(struct sim_dev *d, uint32_t bits)
{
	d->int_status |= bits;
	d->irqs++;
	if (threads && threads->raise)
		threads->raise(d->irq); /* delivered by the device thread, outside the lock */
	else
		sim_irq_line(d->irq);
}

void sim_config_change(struct sim_dev *d, unsigned off, const void *data, unsigned len)
{
	if (off + len > SIM_CONFIG_MAX)
		sim_bug("sim_config_change out of range");
	if (len)
		memcpy(d->config + off, data, len);
	if (off + len > d->config_size)
		d->config_size = off + len;
	/* 2.5.1: the generation changes with every change of the config. */
	d->config_gen++;
	sim_raise(d, VIRTIO_MMIO_INT_CONFIG);
}

void sim_needs_reset(struct sim_dev *d)
{
	d->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	/* 2.1.2: a live device signals it with a configuration change notification. */
	if (d->status & VIRTIO_CONFIG_S_DRIVER_OK)
		sim_raise(d, VIRTIO_MMIO_INT_CONFIG);
}

/* ------------------------------------------------------------------ */
/* Reset and status */

static void device_reset(struct sim_dev *d)
{
	d->status = 0;
	d->dev_feat_sel = 0;
	d->drv_feat_sel = 0;
	d->driver_features = 0;
	d->queue_sel = 0;
	d->int_status = 0;
	d->fok_pending = false;
	for (unsigned i = 0; i < SIM_MAX_QUEUES; i++) {
		queue_disable(&d->q[i]);
		d->q[i].num = 0;
		d->q[i].align = 0;
		d->q[i].desc = d->q[i].driver = d->q[i].device = 0;
	}
	if (d->model->reset)
		d->model->reset(d);
}

static uint32_t status_read(struct sim_dev *d)
{
	if (d->reset_left) {
		if (d->reset_left > 0)
			d->reset_left--;
		return d->reset_shadow;
	}
	/* 3.1.1 step 6: the driver re-reads the status after FEATURES_OK. */
	if (d->fok_pending) {
		d->fok_pending = false;
		d->features_ok_reread = true;
	}
	return d->status;
}

static void features_ok(struct sim_dev *d, uint8_t *v)
{
	bool ok = !d->refuse_features_ok;

	if (d->driver_features & ~offered(d)) {
		sim_error("dev%d: FEATURES_OK with features not offered: %#llx of %#llx", d->slot,
			  (unsigned long long)d->driver_features, (unsigned long long)offered(d));
		ok = false;
	}
	if (!has_feature(d, VIRTIO_F_VERSION_1)) {
		sim_error("dev%d: modern device: FEATURES_OK without VERSION_1", d->slot);
		ok = false;
	}
	/* 3.1.1 step 5-6: a device that does not accept them leaves the bit clear. */
	if (!ok)
		*v &= (uint8_t)~VIRTIO_CONFIG_S_FEATURES_OK;
	d->fok_pending = true;
}

static void status_write(struct sim_dev *d, uint32_t val)
{
	uint8_t old = d->status;
	uint8_t v = (uint8_t)val;

	if (val > 0xff)
		sim_error("dev%d: status %#x does not fit 8 bits", d->slot, val);
	if (d->nstatus_log < SIM_STATUS_LOG)
		d->status_log[d->nstatus_log] = v;
	d->nstatus_log++;

	if (v == 0) {
		uint8_t shown = old ? old : VIRTIO_CONFIG_S_ACKNOWLEDGE;

		d->resets++;
		device_reset(d);
		/* A slow (or stuck) device shows the old status for a while. */
		d->reset_left = d->reset_delay;
		d->reset_shadow = shown;
		return;
	}
	if (d->reset_left) {
		sim_error("dev%d: status %#x written before the reset completed", d->slot, v);
		return;
	}
	/* Only a reset clears bits (NEEDS_RESET is the device's; a write-back is fine). */
	if ((v & old & (uint8_t)~VIRTIO_CONFIG_S_NEEDS_RESET) !=
	    (old & (uint8_t)~VIRTIO_CONFIG_S_NEEDS_RESET)) {
		sim_error("dev%d: status %#x clears bits of %#x without a reset", d->slot, v, old);
		return;
	}
	v |= old & VIRTIO_CONFIG_S_NEEDS_RESET;
	if (!(v & VIRTIO_CONFIG_S_FAILED)) {
		/* 3.1.1: ACKNOWLEDGE, DRIVER, FEATURES_OK (not legacy), DRIVER_OK. */
		if ((v & VIRTIO_CONFIG_S_DRIVER) && !(v & VIRTIO_CONFIG_S_ACKNOWLEDGE))
			sim_error("dev%d: DRIVER before ACKNOWLEDGE", d->slot);
		if ((v & VIRTIO_CONFIG_S_FEATURES_OK) && !(v & VIRTIO_CONFIG_S_DRIVER))
			sim_error("dev%d: FEATURES_OK before DRIVER", d->slot);
		if ((v & VIRTIO_CONFIG_S_DRIVER_OK) && !(v & VIRTIO_CONFIG_S_DRIVER))
			sim_error("dev%d: DRIVER_OK before DRIVER", d->slot);
		if (!sim_is_legacy(d) && (v & VIRTIO_CONFIG_S_DRIVER_OK) &&
		    !(v & VIRTIO_CONFIG_S_FEATURES_OK))
			sim_error("dev%d: DRIVER_OK without FEATURES_OK on a modern device", d->slot);
	}
	if (!sim_is_legacy(d) && (v & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    !(old & VIRTIO_CONFIG_S_FEATURES_OK))
		features_ok(d, &v);
	d->status = v;
}

/* ------------------------------------------------------------------ */
/* Queue set-up */

static struct sim_queue *cur_queue(struct sim_dev *d)
{
	if (d->queue_sel >= SIM_MAX_QUEUES || !d->q[d->queue_sel].num_max)
		return NULL;
	return &d->q[d->queue_sel];
}

static size_t avail_size(const struct sim_dev *d, uint32_t num)
{
	return 4 + 2 * (size_t)num + (event_idx(d) ? 2 : 0);
}

static size_t used_size(const struct sim_dev *d, uint32_t num)
{
	return 4 + 8 * (size_t)num + (event_idx(d) ? 2 : 0);
}

static bool queue_alloc(struct sim_queue *q)
{
	if (q->packed) {
		q->id_ndesc = calloc(q->num, sizeof(*q->id_ndesc));
		q->pheld = calloc(q->num, sizeof(*q->pheld));
		if (!q->id_ndesc || !q->pheld)
			sim_bug("out of memory");
	}
	q->segs = calloc(q->num, sizeof(*q->segs));
	q->didx = calloc(q->num, sizeof(*q->didx));
	q->held = calloc(q->num, sizeof(*q->held));
	q->busy = calloc(q->num, sizeof(*q->busy));
	if (!q->segs || !q->didx || !q->held || !q->busy)
		sim_bug("out of memory");
	return true;
}

static void queue_go(struct sim_queue *q)
{
	queue_alloc(q);
	q->ready = true;
	q->last_avail = 0;
	q->used_idx = 0;
	q->nheld = 0;
	q->broken = false;
	q->avail_wrap = true; /* 2.8.1: both wrap counters start at 1 */
	q->used_wrap = true;
}

/* Checks shared by both interfaces; false leaves the queue off. */
static bool queue_check(struct sim_dev *d, unsigned qi, struct sim_queue *q)
{
	if (!q->num) {
		sim_error("dev%d: queue %u enabled without QueueNum", d->slot, qi);
		return false;
	}
	/* 2.6.1.2: with RING_RESET a reset queue may be enabled again while live. */
	if (!(d->status & VIRTIO_CONFIG_S_DRIVER) ||
	    ((d->status & VIRTIO_CONFIG_S_DRIVER_OK) &&
	     !(d->driver_features & (1ull << VIRTIO_F_RING_RESET)))) {
		sim_error("dev%d: queue %u enabled in status %#x (3.1.1 step 7)", d->slot, qi,
			  d->status);
		return false;
	}
	if (!sim_is_legacy(d) && !(d->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
		sim_error("dev%d: queue %u enabled before FEATURES_OK", d->slot, qi);
		return false;
	}
	return true;
}

/* 4.2.2: QueueReady = 1 with the addresses in QueueDesc/QueueDriver/QueueDevice. */
static void queue_enable_modern(struct sim_dev *d)
{
	unsigned qi = d->queue_sel;
	struct sim_queue *q = cur_queue(d);

	if (!q) {
		sim_error("dev%d: QueueReady on missing queue %u", d->slot, qi);
		return;
	}
	if (q->ready) {
		sim_error("dev%d: QueueReady 1 on a live queue %u", d->slot, qi);
		return;
	}
	if (!queue_check(d, qi, q))
		return;
	q->packed = has_feature(d, VIRTIO_F_RING_PACKED);
	if (q->packed) {
		/* 2.8.10.1: ring at 16, each event suppression structure 4 bytes at 4 */
		if (!q->desc || q->desc % PVIRTQ_DESC_ALIGN || !q->driver ||
		    q->driver % PVIRTQ_EVENT_ALIGN || !q->device || q->device % PVIRTQ_EVENT_ALIGN ||
		    !sim_dma_owns(cpu_ptr(q->desc), 16 * (size_t)q->num) ||
		    !sim_dma_owns(cpu_ptr(q->driver), 4) || !sim_dma_owns(cpu_ptr(q->device), 4)) {
			sim_error("dev%d: queue %u: bad packed ring addresses %#llx %#llx %#llx",
				  d->slot, qi, (unsigned long long)q->desc,
				  (unsigned long long)q->driver, (unsigned long long)q->device);
			return;
		}
		queue_go(q);
		return;
	}
	/* 2.7: alignment of the three parts. */
	if (!q->desc || q->desc % VIRTQ_DESC_ALIGN || !q->driver || q->driver % VIRTQ_AVAIL_ALIGN ||
	    !q->device || q->device % VIRTQ_USED_ALIGN) {
		sim_error("dev%d: queue %u: bad ring addresses %#llx %#llx %#llx", d->slot, qi,
			  (unsigned long long)q->desc, (unsigned long long)q->driver,
			  (unsigned long long)q->device);
		return;
	}
	if (!sim_dma_owns(cpu_ptr(q->desc), 16 * (size_t)q->num) ||
	    !sim_dma_owns(cpu_ptr(q->driver), avail_size(d, q->num)) ||
	    !sim_dma_owns(cpu_ptr(q->device), used_size(d, q->num))) {
		sim_error("dev%d: queue %u: ring not inside DMA memory", d->slot, qi);
		return;
	}
	queue_go(q);
}

/* 4.2.4: QueuePFN with GuestPageSize, QueueNum and QueueAlign written before. */
static void queue_enable_legacy(struct sim_dev *d, uint32_t pfn)
{
	unsigned qi = d->queue_sel;
	struct sim_queue *q = cur_queue(d);
	uint32_t align;
	uint64_t end;

	if (!q) {
		sim_error("dev%d: QueuePFN on missing queue %u", d->slot, qi);
		return;
	}
	if (q->ready) {
		sim_error("dev%d: QueuePFN on a live queue %u", d->slot, qi);
		return;
	}
	if (!d->guest_page_size) {
		sim_error("dev%d: QueuePFN before GuestPageSize", d->slot);
		return;
	}
	if (!queue_check(d, qi, q))
		return;
	/* QEMU's default when the driver does not write QueueAlign. */
	align = q->align ? q->align : 4096;
	q->pfn = pfn;
	/* 2.7.2 (legacy): descriptors, then avail, then used at the alignment. */
	q->desc = (uint64_t)pfn * d->guest_page_size;
	q->driver = q->desc + 16ull * q->num;
	q->device = align_up(q->driver + 2ull * (3 + q->num), align);
	end = q->device + 2ull * 3 + 8ull * q->num;
	if (!sim_dma_owns(cpu_ptr(q->desc), (size_t)(end - q->desc))) {
		sim_error("dev%d: queue %u: legacy ring %#llx..%#llx not inside DMA memory", d->slot,
			  qi, (unsigned long long)q->desc, (unsigned long long)end);
		q->pfn = 0;
		return;
	}
	queue_go(q);
}

void sim_queue_attach(struct sim_dev *d, unsigned qi, uint32_t num, void *desc, void *avail,
		      void *used)
{
	struct sim_queue *q = &d->q[qi];

	if (qi >= SIM_MAX_QUEUES || !is_pow2(num))
		sim_bug("sim_queue_attach: bad queue");
	queue_disable(q);
	if (q->num_max < num)
		q->num_max = num;
	q->num = num;
	q->desc = (uintptr_t)desc;
	q->driver = (uintptr_t)avail;
	q->device = (uintptr_t)used;
	d->bypass = true;
	queue_go(q);
}

void sim_queue_attach_packed(struct sim_dev *d, unsigned qi, uint32_t num, void *ring,
			     void *driver_event, void *device_event)
{
	struct sim_queue *q = &d->q[qi];

	if (qi >= SIM_MAX_QUEUES || !num || num > 32768)
		sim_bug("sim_queue_attach_packed: bad queue");
	queue_disable(q);
	if (q->num_max < num)
		q->num_max = num;
	q->num = num;
	q->desc = (uintptr_t)ring;
	q->driver = (uintptr_t)driver_event;
	q->device = (uintptr_t)device_event;
	q->packed = true;
	d->bypass = true;
	queue_go(q);
}

/* ------------------------------------------------------------------ */
/* Config space */

static bool config_access_ok(struct sim_dev *d, unsigned off, unsigned width, const char *what)
{
	if (width != 1 && width != 2 && width != 4) {
		sim_error("dev%d: config %s of width %u", d->slot, what, width);
		return false;
	}
	/* 4.2.2.2: naturally aligned accesses to the config space. */
	if (off % width) {
		sim_error("dev%d: unaligned config %s at %u width %u", d->slot, what, off, width);
		return false;
	}
	if (off + width > d->config_size) {
		sim_error("dev%d: config %s at %u width %u beyond the %u config bytes", d->slot,
			  what, off, width, d->config_size);
		return false;
	}
	return true;
}

static uint32_t config_read(struct sim_dev *d, unsigned off, unsigned width)
{
	uint32_t v = 0;

	if (!config_access_ok(d, off, width, "read"))
		return 0xffffffffu;
	d->config_reads++;
	for (unsigned i = 0; i < width; i++)
		v |= (uint32_t)d->config[off + i] << (8 * i);
	if (d->config_changes) {
		if (d->config_changes > 0)
			d->config_changes--;
		/* As if the device changed the field between the driver's reads. */
		v ^= ((d->config_reads & 0x7fu) + 1) * 0x01010101u;
	}
	if (width < 4)
		v &= (1u << (8 * width)) - 1;
	return v;
}

static void config_write(struct sim_dev *d, unsigned off, unsigned width, uint32_t v)
{
	if (!config_access_ok(d, off, width, "write"))
		return;
	d->config_writes++;
	for (unsigned i = 0; i < width; i++)
		d->config[off + i] = (uint8_t)(v >> (8 * i));
	if (d->model->config_write)
		d->model->config_write(d, off, width);
}

/* ------------------------------------------------------------------ */
/* Register file */

static struct sim_dev *lookup(uintptr_t addr, const char *what, unsigned width)
{
	struct sim_dev *d = sim_dev_by_base(addr);

	if (!d)
		sim_error("%s%u of unmapped address %#lx", what, width * 8, (unsigned long)addr);
	return d;
}

/*
 * An interrupt handler only reads and acknowledges the interrupt status
 * (the design's rule; 4.2.3.4 says what it must do, nothing more): any
 * other register access from interrupt context, such as the
 * read-modify-write of a status, is a driver error.
 */
static void irq_context_check(struct sim_dev *d, unsigned off, bool write)
{
	if (!threads || !threads->in_irq || !threads->in_irq())
		return;
	if (write ? off == VIRTIO_MMIO_INTERRUPT_ACK : off == VIRTIO_MMIO_INTERRUPT_STATUS)
		return;
	sim_error("dev%d: %s of register %#x from an interrupt handler", d->slot,
		  write ? "write" : "read", off);
}

static bool modern_only(struct sim_dev *d, unsigned off)
{
	if (sim_is_legacy(d)) {
		sim_error("dev%d: legacy device: access to modern register %#x", d->slot, off);
		return false;
	}
	return true;
}

static bool legacy_only(struct sim_dev *d, unsigned off)
{
	if (!sim_is_legacy(d)) {
		sim_error("dev%d: modern device: access to legacy register %#x", d->slot, off);
		return false;
	}
	return true;
}

/*
 * 4.2.3.1.1: a slot showing DeviceID 0 has no device behind it; the driver
 * reads MagicValue, Version and DeviceID and nothing else, ever.
 */
static bool id0_access_ok(struct sim_dev *d, unsigned off, const char *what)
{
	if (d->device_id != 0 || off == VIRTIO_MMIO_MAGIC_VALUE || off == VIRTIO_MMIO_VERSION ||
	    off == VIRTIO_MMIO_DEVICE_ID)
		return true;
	d->bad_id0_accesses++;
	sim_error("dev%d: %s of register %#x on a slot with DeviceID 0", d->slot, what, off);
	return false;
}

/* 4.2.2.2: the device shows QueueReady 0 once it has stopped using the queue. */
static uint32_t queue_ready_read(struct sim_queue *q)
{
	if (!q->disabling)
		return q->ready;
	if (q->disable_left < 0)
		return 1;
	if (q->disable_left > 0) {
		q->disable_left--;
		return 1;
	}
	queue_disable(q);
	return 0;
}

static void queue_ready_clear(struct sim_dev *d, struct sim_queue *q)
{
	if (!q->ready || !d->queue_ready_lag) {
		queue_disable(q);
		return;
	}
	/* A slow device: the queue goes on until QueueReady reads 0 (or a reset). */
	q->disabling = true;
	q->disable_left = d->queue_ready_lag;
}

static uint32_t mmio_read(uintptr_t addr, unsigned width)
{
	const struct sim_region *r = region_at(addr);
	struct sim_dev *d;
	struct sim_queue *q;
	unsigned off;

	if (r)
		return r->read(r->ctx, addr - r->base, width);
	d = lookup(addr, "read", width);
	if (!d)
		return 0xffffffffu;
	off = (unsigned)(addr - d->base);
	if (!id0_access_ok(d, off, "read"))
		return 0;
	if (off >= VIRTIO_MMIO_CONFIG)
		return config_read(d, off - VIRTIO_MMIO_CONFIG, width);
	/* 4.2.2.2: control registers are read and written 32 bits wide, aligned. */
	if (width != 4 || off % 4) {
		sim_error("dev%d: read of register %#x width %u", d->slot, off, width);
		return 0;
	}
	irq_context_check(d, off, false);
	d->reads[off / 4]++;
	q = cur_queue(d);

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return d->magic;
	case VIRTIO_MMIO_VERSION:
		return d->version;
	case VIRTIO_MMIO_DEVICE_ID:
		return d->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return d->vendor_id;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		/* 4.2.4: a legacy device has 32 feature bits (QEMU shows 0 for word 1). */
		if (d->dev_feat_sel == 0)
			return (uint32_t)offered(d);
		if (d->dev_feat_sel == 1 && !sim_is_legacy(d))
			return (uint32_t)(offered(d) >> 32);
		return 0;
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return q ? q->num_max : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		if (!modern_only(d, off))
			return 0;
		return q ? queue_ready_read(q) : 0;
	case VIRTIO_MMIO_QUEUE_PFN:
		if (!legacy_only(d, off))
			return 0;
		return q ? q->pfn : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return d->int_status;
	case VIRTIO_MMIO_STATUS:
		return status_read(d);
	case VIRTIO_MMIO_CONFIG_GENERATION:
		if (!modern_only(d, off))
			return 0;
		d->gen_reads++;
		if (d->config_gen_changes) {
			if (d->config_gen_changes > 0)
				d->config_gen_changes--;
			d->config_gen++;
		}
		return d->config_gen;
	default:
		sim_error("dev%d: read of write-only or unknown register %#x", d->slot, off);
		return 0;
	}
}

static void features_write(struct sim_dev *d, uint32_t v)
{
	/* 2.6.1.2: with RING_RESET a reset queue may be enabled again while live. */
	if (!(d->status & VIRTIO_CONFIG_S_DRIVER) ||
	    ((d->status & VIRTIO_CONFIG_S_DRIVER_OK) &&
	     !(d->driver_features & (1ull << VIRTIO_F_RING_RESET)))) {
		sim_error("dev%d: DriverFeatures written in status %#x", d->slot, d->status);
		return;
	}
	/* 3.1.1 step 5: no change of features once FEATURES_OK is set. */
	if (d->status & VIRTIO_CONFIG_S_FEATURES_OK) {
		sim_error("dev%d: DriverFeatures written after FEATURES_OK", d->slot);
		return;
	}
	if (d->drv_feat_sel == 0) {
		d->driver_features = (d->driver_features & ~0xffffffffull) | v;
	} else if (d->drv_feat_sel == 1 && !sim_is_legacy(d)) {
		d->driver_features = (d->driver_features & 0xffffffffull) | ((uint64_t)v << 32);
	} else if (v) {
		sim_error("dev%d: DriverFeatures word %u = %#x on a %s device", d->slot,
			  d->drv_feat_sel, v, sim_is_legacy(d) ? "legacy" : "modern");
	}
}

static void queue_addr_write(struct sim_dev *d, unsigned off, uint32_t v)
{
	struct sim_queue *q = cur_queue(d);
	uint64_t *field;
	bool high = off & 4;

	if (!q) {
		sim_error("dev%d: ring address for missing queue %u", d->slot, d->queue_sel);
		return;
	}
	/* 4.2.2.2: addresses only while the queue is not ready. */
	if (q->ready) {
		sim_error("dev%d: ring address written to live queue %u", d->slot, d->queue_sel);
		return;
	}
	if (off < VIRTIO_MMIO_QUEUE_DRIVER_LOW)
		field = &q->desc;
	else if (off < VIRTIO_MMIO_QUEUE_DEVICE_LOW)
		field = &q->driver;
	else
		field = &q->device;
	if (high)
		*field = (*field & 0xffffffffull) | ((uint64_t)v << 32);
	else
		*field = (*field & ~0xffffffffull) | v;
}

static void mmio_write(uintptr_t addr, uint32_t v, unsigned width)
{
	const struct sim_region *r = region_at(addr);
	struct sim_dev *d;
	struct sim_queue *q;
	unsigned off;

	/* <vio/io.h>: a register write is ordered after the memory accesses before it. */
	sim_store_drain();
	if (r) {
		r->write(r->ctx, addr - r->base, v, width);
		return;
	}
	d = lookup(addr, "write", width);

	if (!d)
		return;
	off = (unsigned)(addr - d->base);
	if (!id0_access_ok(d, off, "write"))
		return;
	if (off >= VIRTIO_MMIO_CONFIG) {
		config_write(d, off - VIRTIO_MMIO_CONFIG, width, v);
		return;
	}
	if (width != 4 || off % 4) {
		sim_error("dev%d: write of register %#x width %u", d->slot, off, width);
		return;
	}
	irq_context_check(d, off, true);
	d->writes[off / 4]++;
	d->last_write[off / 4] = v;
	q = cur_queue(d);

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		d->dev_feat_sel = v;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		features_write(d, v);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		d->drv_feat_sel = v;
		break;
	case VIRTIO_MMIO_GUEST_PAGE_SIZE:
		if (!legacy_only(d, off))
			break;
		if (!is_pow2(v))
			sim_error("dev%d: GuestPageSize %u", d->slot, v);
		else
			d->guest_page_size = v;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		d->queue_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
		if (!q) {
			sim_error("dev%d: QueueNum for missing queue %u", d->slot, d->queue_sel);
		} else if (q->ready) {
			sim_error("dev%d: QueueNum on live queue %u", d->slot, d->queue_sel);
		} else if (!v || v > q->num_max ||
			   (!is_pow2(v) && !has_feature(d, VIRTIO_F_RING_PACKED))) {
			/* 2.7: a split queue's size is a power of two; 2.8: a packed one need not be. */
			sim_error("dev%d: QueueNum %u (max %u)", d->slot, v, q->num_max);
		} else {
			q->num = v;
		}
		break;
	case VIRTIO_MMIO_QUEUE_ALIGN:
		if (!legacy_only(d, off))
			break;
		if (!q)
			sim_error("dev%d: QueueAlign for missing queue %u", d->slot, d->queue_sel);
		else if (!is_pow2(v))
			sim_error("dev%d: QueueAlign %u", d->slot, v);
		else
			q->align = v;
		break;
	case VIRTIO_MMIO_QUEUE_PFN:
		if (!legacy_only(d, off))
			break;
		if (v)
			queue_enable_legacy(d, v);
		else if (q)
			queue_disable(q);
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (!modern_only(d, off))
			break;
		if (v == 1)
			queue_enable_modern(d);
		else if (v == 0 && q)
			queue_ready_clear(d, q);
		else
			sim_error("dev%d: QueueReady %u", d->slot, v);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		if (v >= SIM_MAX_QUEUES || !d->q[v].ready) {
			sim_error("dev%d: notify of queue %u which is not live", d->slot, v);
			break;
		}
		if (!d->bypass && !(d->status & VIRTIO_CONFIG_S_DRIVER_OK))
			sim_error("dev%d: notify before DRIVER_OK", d->slot);
		d->q[v].notifies++;
		if (threads && threads->notified)
			threads->notified(d, v);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		/* 4.2.2.2: only the bits InterruptStatus defines (0: used buffer, 1: config). */
		if (v & ~(uint32_t)(VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG))
			sim_error("dev%d: InterruptACK %#x has undefined bits", d->slot, v);
		d->int_status &= ~v;
		break;
	case VIRTIO_MMIO_STATUS:
		status_write(d, v);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		if (modern_only(d, off))
			queue_addr_write(d, off, v);
		break;
	default:
		sim_error("dev%d: write of read-only or unknown register %#x", d->slot, off);
		break;
	}
}

/* Every register access of the library enters the simulator here, under its lock. */
uint32_t vio_host_mmio_read(uintptr_t addr, unsigned width)
{
	const struct sim_threads *t = threads;
	uint32_t v;

	if (t)
		t->lock();
	v = mmio_read(addr, width);
	if (t)
		t->unlock();
	return v;
}

void vio_host_mmio_write(uintptr_t addr, uint32_t v, unsigned width)
{
	const struct sim_threads *t = threads;

	if (t)
		t->lock();
	mmio_write(addr, v, width);
	if (t)
		t->unlock();
}

/* ------------------------------------------------------------------ */
/* The device side of the split ring (2.7) */

/*
 * Walk the chain at head as a device would (2.7.4, 2.7.5): every index in
 * range, no loop, no longer than the queue, readable before writable,
 * indirect only when negotiated. Returns false on a bad chain.
 */
static bool walk(struct sim_dev *d, unsigned qi, uint16_t head, struct sim_chain *c,
		 bool check_busy)
{
	struct sim_queue *q = &d->q[qi];
	const uint8_t *tab = ptr(q->desc);
	unsigned tabn = q->num, i = head, steps = 0, nseg = 0, ndirect = 0;
	bool indirect = false, seen_write = false;

	memset(c, 0, sizeof(*c));
	c->head = head;
	if (head >= q->num) {
		sim_error("dev%d q%u: avail head %u >= size %u", d->slot, qi, head, q->num);
		return false;
	}
	for (;;) {
		const uint8_t *desc = tab + 16 * (size_t)i;
		uint64_t addr = rd64(d, desc);
		uint32_t len = rd32(d, desc + 8);
		uint16_t flags = rd16(d, desc + 12);
		uint16_t next = rd16(d, desc + 14);

		if (++steps > tabn) {
			sim_error("dev%d q%u: descriptor loop in chain %u", d->slot, qi, head);
			return false;
		}
		if (!indirect) {
			if (check_busy && q->busy[i]) {
				sim_error("dev%d q%u: descriptor %u reused while the device owns it",
					  d->slot, qi, i);
				return false;
			}
			q->didx[ndirect++] = (uint16_t)i;
		}
		if (flags & VIRTQ_DESC_F_INDIRECT) {
			/* 2.7.5.3 */
			if (!has_feature(d, VIRTIO_RING_F_INDIRECT_DESC) || indirect ||
			    (flags & VIRTQ_DESC_F_NEXT) || !len || len % 16 ||
			    !sim_dma_owns(cpu_ptr(addr), len)) {
				sim_error("dev%d q%u: bad indirect descriptor in chain %u", d->slot,
					  qi, head);
				return false;
			}
			tab = ptr(addr);
			tabn = len / 16;
			i = 0;
			steps = 0;
			indirect = true;
			continue;
		}
		/* Memory the driver owns only, as packed_seg() checks it. */
		if (!len || !addr || addr + len < addr || !sim_dma_reachable(cpu_ptr(addr), len)) {
			sim_error("dev%d q%u: chain %u: descriptor %u addr %#llx len %u", d->slot, qi,
				  head, i, (unsigned long long)addr, len);
			return false;
		}
		/* 2.7.4.2: a chain is no longer than the queue. */
		if (nseg >= q->num) {
			sim_error("dev%d q%u: chain %u longer than the queue", d->slot, qi, head);
			return false;
		}
		if (flags & VIRTQ_DESC_F_WRITE) {
			seen_write = true;
			c->nin++;
			c->in_len += len;
		} else {
			/* 2.7.4.2: device-readable descriptors come first. */
			if (seen_write) {
				sim_error("dev%d q%u: chain %u: readable after writable", d->slot,
					  qi, head);
				return false;
			}
			c->nout++;
			c->out_len += len;
		}
		q->segs[nseg].buf = sim_cache_seg_map(addr, len, flags & VIRTQ_DESC_F_WRITE);
		q->segs[nseg].len = len;
		nseg++;
		if (!(flags & VIRTQ_DESC_F_NEXT))
			break;
		if (next >= tabn) {
			sim_error("dev%d q%u: chain %u: next %u >= %u", d->slot, qi, head, next,
				  tabn);
			return false;
		}
		i = next;
	}
	c->out = q->segs;
	c->in = q->segs + c->nout;
	if (nseg > q->max_chain)
		q->max_chain = nseg;
	/* Remember the descriptors so busy marks can be set and cleared. */
	for (unsigned k = ndirect; k < q->num; k++)
		q->didx[k] = 0xffff;
	return true;
}

static void mark_busy(struct sim_queue *q, uint8_t val)
{
	for (unsigned k = 0; k < q->num && q->didx[k] != 0xffff; k++)
		q->busy[q->didx[k]] = val;
}

static void used_write(struct sim_dev *d, struct sim_queue *q, uint32_t id, uint32_t len)
{
	uint64_t at = q->device + 4 + 8 * (uint64_t)(q->used_idx % q->num);
	uint8_t *elem = ptr(at);

	wr32(d, elem, id);
	wr32(d, elem + 4, len);
	sim_cache_dev_wrote(at, 8);
	q->used_idx++;
}

static void used_publish(struct sim_dev *d, struct sim_queue *q)
{
	/* 2.7.8.2: the entry is written before the index that exposes it. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	wr16(d, (uint8_t *)ptr(q->device) + 2, q->used_idx);
	sim_cache_dev_wrote(q->device + 2, 2);
}

/*
 * Take the misbehaviour knob for the completion of chain id and apply what
 * it does to the used id and length (both layouts). Returns the knob.
 */
static enum sim_evil evil_take(struct sim_dev *d, const struct sim_queue *q, uint32_t *id,
			       uint32_t *len, uint32_t in_len)
{
	enum sim_evil evil = d->evil;

	if (!d->evil_sticky)
		d->evil = SIM_EVIL_NONE;
	switch (evil) {
	case SIM_EVIL_ID_TWICE:
		/* Ids are reused at once: the last one may be this one again. */
		*id = q->last_id != *id ? q->last_id : (*id + 1u) % q->num;
		break;
	case SIM_EVIL_ID_RANGE:
		*id = q->num + 7;
		break;
	case SIM_EVIL_ID_FREE:
		/* Meant for a single chain of one descriptor in flight. */
		*id = (*id + 1u) % q->num;
		break;
	case SIM_EVIL_LEN:
		*len = in_len + 1;
		break;
	default:
		break;
	}
	return evil;
}

static void complete(struct sim_dev *d, struct sim_queue *q, uint16_t head, uint32_t len,
		     uint32_t in_len)
{
	uint32_t id = head;
	enum sim_evil evil = evil_take(d, q, &id, &len, in_len);

	used_write(d, q, id, len);
	if (evil == SIM_EVIL_EXTRA)
		used_write(d, q, id, len);
	q->last_id = head;
	if (evil == SIM_EVIL_IDX_JUMP)
		q->used_idx = (uint16_t)(q->used_idx + q->num + 1);
	used_publish(d, q);
	q->completed++;
}

/* Serve the chain at head. Returns false when the model holds it. */
static bool serve(struct sim_dev *d, unsigned qi, uint16_t head, bool first)
{
	struct sim_queue *q = &d->q[qi];
	struct sim_chain c;
	int r;

	if (!walk(d, qi, head, &c, first)) {
		sim_cache_seg_release(false);
		q->broken = true;
		return true;
	}
	r = d->model->handle(d, qi, &c);
	/* What the model wrote reaches the device's view only for a served chain. */
	sim_cache_seg_release(r != SIM_HOLD);
	if (r == SIM_HOLD) {
		if (first)
			mark_busy(q, 1);
		return false;
	}
	if (r < 0 || (uint32_t)r > c.in_len)
		sim_bug("model returned a bad length");
	if (!first)
		mark_busy(q, 0);
	complete(d, q, head, (uint32_t)r, c.in_len);
	return true;
}

/* ------------------------------------------------------------------ */
/* The device side of the packed ring (2.8) */

/* 2.8.1: available when AVAIL matches the wrap counter and USED does not. */
static bool packed_avail(uint16_t flags, bool wrap)
{
	bool a = flags & PVIRTQ_DESC_F_AVAIL, u = flags & PVIRTQ_DESC_F_USED;

	return a == wrap && u != wrap;
}

static void packed_step(const struct sim_queue *q, uint16_t *pos, bool *wrap, unsigned n)
{
	uint32_t v = (uint32_t)*pos + n;

	while (v >= q->num) {
		v -= q->num;
		*wrap = !*wrap;
	}
	*pos = (uint16_t)v;
}

/* One segment of a chain, checked as walk() checks a split one. */
static bool packed_seg(struct sim_dev *d, unsigned qi, struct sim_chain *c, unsigned *nseg,
		       uint64_t addr, uint32_t len, bool writable, bool *seen_write)
{
	struct sim_queue *q = &d->q[qi];

	/* Memory the driver owns only: the device writes used descriptors
	 * into this ring, and a hostile one (fuzz_common's hand-pushed used
	 * entries) may overwrite an available descriptor's length before it
	 * takes the chain; the model must not copy past the driver's buffer. */
	if (!len || !addr || addr + len < addr || !sim_dma_reachable(cpu_ptr(addr), len)) {
		sim_error("dev%d q%u: packed chain: addr %#llx len %u", d->slot, qi,
			  (unsigned long long)addr, len);
		return false;
	}
	if (*nseg >= q->num) {
		sim_error("dev%d q%u: packed chain longer than the queue", d->slot, qi);
		return false;
	}
	if (writable) {
		*seen_write = true;
		c->nin++;
		c->in_len += len;
	} else {
		/* 2.8.17: device-writable elements after every readable one */
		if (*seen_write) {
			sim_error("dev%d q%u: packed chain: readable after writable", d->slot, qi);
			return false;
		}
		c->nout++;
		c->out_len += len;
	}
	q->segs[*nseg].buf = sim_cache_seg_map(addr, len, writable);
	q->segs[*nseg].len = len;
	(*nseg)++;
	return true;
}

/*
 * Read the chain made available at last_avail (2.8.6, 2.8.7): every
 * descriptor carries the available flags of its own lap, the buffer id is
 * the last descriptor's, an indirect descriptor stands alone and its table
 * has nothing but WRITE flags. Sets *id and *ndesc (ring descriptors taken).
 */
static bool packed_walk(struct sim_dev *d, unsigned qi, struct sim_chain *c, uint16_t *id,
			uint16_t *ndesc)
{
	struct sim_queue *q = &d->q[qi];
	uint16_t pos = q->last_avail;
	bool wrap = q->avail_wrap, seen_write = false;
	unsigned nseg = 0, n = 0;

	memset(c, 0, sizeof(*c));
	for (;;) {
		const uint8_t *desc = (const uint8_t *)ptr(q->desc) + 16 * (size_t)pos;
		uint16_t flags = rd16(d, desc + 14);
		uint64_t addr = rd64(d, desc);
		uint32_t len = rd32(d, desc + 8);

		if (!packed_avail(flags, wrap)) {
			sim_error("dev%d q%u: packed chain: descriptor %u not available (flags %#x)",
				  d->slot, qi, pos, flags);
			return false;
		}
		*id = rd16(d, desc + 12);
		n++;
		if (flags & VIRTQ_DESC_F_INDIRECT) {
			const uint8_t *tab = ptr(addr);

			if (!has_feature(d, VIRTIO_RING_F_INDIRECT_DESC) || n > 1 ||
			    (flags & VIRTQ_DESC_F_NEXT) || !len || len % 16 ||
			    !sim_dma_owns(cpu_ptr(addr), len) || len / 16 > q->num) {
				sim_error("dev%d q%u: bad packed indirect descriptor at %u", d->slot, qi,
					  pos);
				return false;
			}
			for (uint32_t i = 0; i < len / 16; i++) {
				const uint8_t *e = tab + 16 * (size_t)i;
				uint16_t ef = rd16(d, e + 14);

				/* 2.8.19: WRITE is the only flag a table entry may carry */
				if (ef & ~VIRTQ_DESC_F_WRITE) {
					sim_error("dev%d q%u: packed indirect entry %u flags %#x",
						  d->slot, qi, i, ef);
					return false;
				}
				if (!packed_seg(d, qi, c, &nseg, rd64(d, e), rd32(d, e + 8),
						ef & VIRTQ_DESC_F_WRITE, &seen_write))
					return false;
			}
		} else if (!packed_seg(d, qi, c, &nseg, addr, len, flags & VIRTQ_DESC_F_WRITE,
				       &seen_write)) {
			return false;
		}
		packed_step(q, &pos, &wrap, 1);
		if (!(flags & VIRTQ_DESC_F_NEXT))
			break;
		if (n >= q->num) {
			sim_error("dev%d q%u: packed chain longer than the queue", d->slot, qi);
			return false;
		}
	}
	if (*id >= q->num) {
		sim_error("dev%d q%u: packed buffer id %u >= size %u", d->slot, qi, *id, q->num);
		return false;
	}
	if (q->id_ndesc[*id]) {
		sim_error("dev%d q%u: packed buffer id %u reused while the device holds it", d->slot,
			  qi, *id);
		return false;
	}
	c->head = *id;
	c->out = q->segs;
	c->in = q->segs + c->nout;
	if (nseg > q->max_chain)
		q->max_chain = nseg;
	*ndesc = (uint16_t)n;
	return true;
}

/*
 * 2.8.1 / 2.8.6: one used descriptor for the chain at the device's used
 * position, flags last, then skip the chain's other descriptors.
 */
static void packed_used_write(struct sim_dev *d, struct sim_queue *q, uint32_t id, uint32_t len,
			      uint16_t ndesc)
{
	uint64_t at = q->desc + 16 * (uint64_t)q->used_idx;
	uint8_t *desc = ptr(at);

	wr16(d, desc + 12, (uint16_t)id);
	wr32(d, desc + 8, len);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	wr16(d, desc + 14, q->used_wrap ? PVIRTQ_DESC_F_AVAIL | PVIRTQ_DESC_F_USED : 0);
	sim_cache_dev_wrote(at, 16);
	packed_step(q, &q->used_idx, &q->used_wrap, ndesc);
	q->used_moved += ndesc;
}

static void packed_complete(struct sim_dev *d, struct sim_queue *q, uint16_t id, uint32_t len,
			    uint32_t in_len)
{
	uint16_t ndesc = q->id_ndesc[id];
	uint32_t uid = id;
	enum sim_evil evil = evil_take(d, q, &uid, &len, in_len);

	/* No used index to jump: an id nobody has instead. */
	if (evil == SIM_EVIL_IDX_JUMP)
		uid = q->num + 7;
	q->id_ndesc[id] = 0;
	packed_used_write(d, q, uid, len, ndesc);
	if (evil == SIM_EVIL_EXTRA)
		packed_used_write(d, q, uid, len, 1);
	q->last_id = id;
	q->completed++;
}

/* Serve a chain (a snapshot when held). Returns false when the model holds it. */
static bool packed_serve(struct sim_dev *d, unsigned qi, uint16_t id, struct sim_chain *c)
{
	struct sim_queue *q = &d->q[qi];
	int r = d->model->handle(d, qi, c);

	sim_cache_seg_release(r != SIM_HOLD);
	if (r == SIM_HOLD)
		return false;
	if (r < 0 || (uint32_t)r > c->in_len)
		sim_bug("model returned a bad length");
	packed_complete(d, q, id, (uint32_t)r, c->in_len);
	return true;
}

/*
 * Keep a chain the model holds: the ring slots it came in may be written
 * with other chains' used descriptors before it completes (2.8), so its
 * segments are copied.
 */
static void packed_hold(struct sim_queue *q, uint16_t id, const struct sim_chain *c)
{
	struct sim_chain *h = &q->pheld[id];
	unsigned n = c->nout + c->nin;

	*h = *c;
	h->out = calloc(n, sizeof(*h->out));
	if (!h->out)
		sim_bug("out of memory");
	memcpy(h->out, c->out, n * sizeof(*h->out));
	h->in = h->out + c->nout;
	q->held[q->nheld++] = id;
}

static unsigned process_packed(struct sim_dev *d, unsigned qi)
{
	struct sim_queue *q = &d->q[qi];
	uint8_t *dev_ev = ptr(q->device);
	const uint8_t *drv_ev = ptr(q->driver);
	uint32_t old_moved = q->used_moved, moved;
	unsigned before = q->completed;

	/* Held chains first, in the order they came. */
	while (q->nheld && !q->broken) {
		uint16_t id = q->held[0];
		struct sim_chain *h = &q->pheld[id];

		if (!packed_serve(d, qi, id, h))
			break;
		free(h->out);
		memset(h, 0, sizeof(*h));
		q->nheld--;
		memmove(q->held, q->held + 1, q->nheld * sizeof(*q->held));
	}

	/* 2.8.21.2: the event written at the end of the last step is visible first */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	while (!q->broken) {
		const uint8_t *desc = (const uint8_t *)ptr(q->desc) + 16 * (size_t)q->last_avail;
		struct sim_chain c;
		uint16_t id, ndesc;

		if (!packed_avail(rd16(d, desc + 14), q->avail_wrap))
			break;
		/* 2.8.21.1: the descriptors only after the flags that expose them */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (!packed_walk(d, qi, &c, &id, &ndesc)) {
			sim_cache_seg_release(false);
			q->broken = true;
			break;
		}
		packed_step(q, &q->last_avail, &q->avail_wrap, ndesc);
		q->id_ndesc[id] = ndesc;
		if (q->nheld) {
			/* Keep the order: the chain waits behind the held ones. */
			sim_cache_seg_release(false);
			packed_hold(q, id, &c);
			continue;
		}
		if (!packed_serve(d, qi, id, &c))
			packed_hold(q, id, &c);
	}
	if (q->broken)
		return q->completed - before;

	/* 2.8.10: what the device asks of the driver's notifications */
	if (d->used_flags & VIRTQ_USED_F_NO_NOTIFY) {
		wr16(d, dev_ev + 2, PVIRTQ_EVENT_F_DISABLE);
	} else if (event_idx(d)) {
		wr16(d, dev_ev, (uint16_t)(q->last_avail | (q->avail_wrap ? 0x8000u : 0)));
		wr16(d, dev_ev + 2, PVIRTQ_EVENT_F_DESC);
	} else {
		wr16(d, dev_ev + 2, PVIRTQ_EVENT_F_ENABLE);
	}
	sim_cache_dev_wrote(q->device, 4);

	moved = q->used_moved - old_moved;
	if (moved) {
		uint16_t flags;
		bool want;

		/* 2.8.10: does the driver want this interrupt? */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		flags = rd16(d, drv_ev + 2) & 3u;
		if (flags == PVIRTQ_EVENT_F_DESC && event_idx(d) && moved >= q->num) {
			/* A lap or more used since the last look: every offset was passed. */
			want = true;
		} else if (flags == PVIRTQ_EVENT_F_DESC && event_idx(d)) {
			uint16_t off_wrap = rd16(d, drv_ev);
			int32_t ev = off_wrap & 0x7fffu, end = q->used_idx;

			/*
			 * The event names a descriptor of this lap or the one
			 * before; it was passed when it is among the moved
			 * positions that end before end (the count, not the
			 * positions, says how many: see used_moved).
			 */
			if (((off_wrap >> 15) != 0) != q->used_wrap)
				ev -= (int32_t)q->num;
			want = end - 1 - ev >= 0 && end - 1 - ev < (int32_t)moved;
		} else {
			want = flags != PVIRTQ_EVENT_F_DISABLE;
		}
		if (want || d->irq_always) {
			q->irqs++;
			sim_raise(d, VIRTIO_MMIO_INT_VRING);
		} else {
			q->irqs_suppressed++;
		}
	}
	return q->completed - before;
}

static unsigned process_queue(struct sim_dev *d, unsigned qi)
{
	struct sim_queue *q = &d->q[qi];
	uint8_t *avail = ptr(q->driver);
	uint8_t *used = ptr(q->device);
	uint16_t old_used = q->used_idx, aidx;
	unsigned before = q->completed;

	if (!q->ready || q->broken)
		return 0;
	if (q->packed)
		return process_packed(d, qi);

	/* Held chains first, in the order they came. */
	while (q->nheld && !q->broken) {
		if (!serve(d, qi, q->held[0], false))
			break;
		q->nheld--;
		memmove(q->held, q->held + 1, q->nheld * sizeof(*q->held));
	}

	/*
	 * 2.7.10: the avail_event written at the end of the last step is
	 * visible before the index is read again; the driver does the mirror
	 * image (publish the index, full barrier, read the event), so one of
	 * the two always sees the other's store. It matters once the device
	 * runs in a thread of its own (sim_pthread_port.h).
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	aidx = rd16(d, avail + 2);
	if ((uint16_t)(aidx - q->last_avail) > q->num) {
		sim_error("dev%d q%u: avail idx %u ran %u ahead of %u", d->slot, qi, aidx,
			  (uint16_t)(aidx - q->last_avail), q->last_avail);
		q->broken = true;
		return 0;
	}
	/* 2.7.13: read the ring entries only after the index. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	while (q->last_avail != aidx && !q->broken) {
		uint16_t head = rd16(d, avail + 4 + 2 * (size_t)(q->last_avail % q->num));

		q->last_avail++;
		if (q->nheld) {
			struct sim_chain c;

			/* Keep the order: the chain waits behind the held ones. */
			if (!walk(d, qi, head, &c, true)) {
				sim_cache_seg_release(false);
				q->broken = true;
				break;
			}
			sim_cache_seg_release(false);
			mark_busy(q, 1);
			q->held[q->nheld++] = head;
			continue;
		}
		if (!serve(d, qi, head, true))
			q->held[q->nheld++] = head;
	}
	if (q->broken)
		return q->completed - before;

	/* 2.7.10: what the device asks of the driver's notifications. */
	wr16(d, used, d->used_flags);
	sim_cache_dev_wrote(q->device, 2);
	if (event_idx(d)) {
		uint16_t ev = d->avail_event >= 0 ? (uint16_t)d->avail_event : q->last_avail;

		wr16(d, used + 4 + 8 * (size_t)q->num, ev);
		sim_cache_dev_wrote(q->device + 4 + 8 * (uint64_t)q->num, 2);
	}

	if (q->used_idx != old_used) {
		bool want;

		/* 2.7.7.2 / 2.7.10: does the driver want this interrupt? */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (event_idx(d)) {
			uint16_t used_event = rd16(d, avail + 4 + 2 * (size_t)q->num);

			want = virtq_need_event(used_event, q->used_idx, old_used);
		} else {
			want = !(rd16(d, avail) & VIRTQ_AVAIL_F_NO_INTERRUPT);
		}
		if (want || d->irq_always) {
			q->irqs++;
			sim_raise(d, VIRTIO_MMIO_INT_VRING);
		} else {
			q->irqs_suppressed++;
		}
	}
	return q->completed - before;
}

unsigned sim_step(struct sim_dev *d)
{
	unsigned n = 0;

	if (!d || !d->used)
		return 0;
	if (!d->bypass) {
		uint8_t stop = VIRTIO_CONFIG_S_NEEDS_RESET;

		/* QEMU ignores FAILED: only a reset stops its device (keeps_running). */
		if (!d->keeps_running)
			stop |= VIRTIO_CONFIG_S_FAILED;
		if (!(d->status & VIRTIO_CONFIG_S_DRIVER_OK) || d->reset_left || (d->status & stop))
			return 0;
	}
	for (unsigned i = 0; i < SIM_MAX_QUEUES; i++)
		n += process_queue(d, i);
	return n;
}

unsigned sim_step_all(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < SIM_MAX_DEVS; i++) {
		if (devs[i].used)
			n += sim_step(&devs[i]);
	}
	return n;
}

unsigned sim_held(const struct sim_dev *d, unsigned qi)
{
	return qi < SIM_MAX_QUEUES ? d->q[qi].nheld : 0;
}

void sim_used_push(struct sim_dev *d, unsigned qi, uint32_t id, uint32_t len, uint16_t idx_step)
{
	struct sim_queue *q = &d->q[qi];

	if (qi >= SIM_MAX_QUEUES || !q->ready)
		sim_bug("sim_used_push on a queue that is not live");
	if (q->packed) {
		packed_used_write(d, q, id, len, id < q->num && q->id_ndesc[id] ? q->id_ndesc[id] : 1);
		return;
	}
	used_write(d, q, id, len);
	q->used_idx = (uint16_t)(q->used_idx + idx_step - 1);
	used_publish(d, q);
}

/* ------------------------------------------------------------------ */
/* The library's barriers and shared-ring accesses (include/vio/arch/host.h) */

#define STORE_BUFFER 16 /* entries; a fuller buffer drains its oldest store */

unsigned sim_full_barriers;
bool sim_store_buffer;

static struct {
	uint16_t *p;
	uint16_t v;
} sb[STORE_BUFFER];
static unsigned nsb;

static void store_buffer_clear(void)
{
	nsb = 0;
}

unsigned sim_stores_buffered(void)
{
	return nsb;
}

/* The oldest store becomes visible (stores drain in program order, as on TSO). */
static void drain_one(void)
{
	__atomic_store_n(sb[0].p, sb[0].v, __ATOMIC_RELEASE);
	nsb--;
	memmove(sb, sb + 1, nsb * sizeof(sb[0]));
}

void sim_store_drain(void)
{
	while (nsb)
		drain_one();
}

/*
 * Where p is for a device with race_used_event: queue q's used_event field
 * (2.7.8: after the avail ring) or its used index (2.7.8: after the flags).
 */
static struct sim_queue *race_queue(const void *p, bool used_event, struct sim_dev **dev)
{
	/* The race is scripted for one thread; a threaded device makes its own. */
	if (threads)
		return NULL;
	for (unsigned i = 0; i < SIM_MAX_DEVS; i++) {
		struct sim_dev *d = &devs[i];

		if (!d->used || !d->race_used_event || !event_idx(d))
			continue;
		for (unsigned j = 0; j < SIM_MAX_QUEUES; j++) {
			struct sim_queue *q = &d->q[j];
			uint64_t at = used_event ? q->driver + 4 + 2 * (uint64_t)q->num : q->device + 2;
			uintptr_t u = (uintptr_t)p;

			/* packed: the driver's event offset, and any descriptor's flags */
			if (q->ready && q->packed &&
			    (used_event ? cpu_ptr(q->driver) == p
					: u >= q->desc && u < q->desc + 16 * (uint64_t)q->num &&
						  (u - q->desc) % 16 == 14)) {
				*dev = d;
				return q;
			}
			if (q->ready && !q->packed && cpu_ptr(at) == p) {
				*dev = d;
				return q;
			}
		}
	}
	return NULL;
}

void vio_host_mb(void)
{
	/* Any of the library's threads. */
	__atomic_fetch_add(&sim_full_barriers, 1, __ATOMIC_RELAXED);
	/* A full barrier completes every earlier store before any later load. */
	sim_store_drain();
}

void vio_host_shared_store16(uint16_t *p, uint16_t v)
{
	struct sim_dev *d;
	struct sim_queue *q = race_queue(p, true, &d);

	if (q)
		q->race_armed = true;
	if (!sim_store_buffer) {
		__atomic_store_n(p, v, __ATOMIC_RELEASE);
		return;
	}
	if (sim_cache_on())
		sim_bug("the store buffer is for the coherent ports");
	if (nsb == STORE_BUFFER)
		drain_one();
	sb[nsb].p = p;
	sb[nsb].v = v;
	nsb++;
}

uint16_t vio_host_shared_load16(const uint16_t *p, uint16_t v)
{
	struct sim_dev *d;
	struct sim_queue *q;

	/* A CPU reads its own stores, buffered or not (store-to-load forwarding). */
	for (unsigned i = nsb; i-- > 0;) {
		if (sb[i].p == p) {
			v = sb[i].v;
			break;
		}
	}
	/*
	 * 2.7.10: the window between the driver's store of used_event and the
	 * used index it reads next. The device completes what it can right
	 * now: it writes the used index, executes a full barrier and reads
	 * used_event, which it sees only if the driver's barrier made it
	 * visible. The value loaded above stays what the driver gets.
	 */
	q = race_queue(p, false, &d);
	if (q && q->race_armed) {
		q->race_armed = false;
		sim_step(d);
	}
	return v;
}

void sim_dma_freeing(const void *p, size_t size)
{
	uintptr_t lo = (uintptr_t)p, hi = lo + size;

	for (unsigned i = 0; i < SIM_MAX_DEVS; i++) {
		struct sim_dev *d = &devs[i];

		/* Ring-only tests attach rings by hand and never reset. */
		if (!d->used || d->bypass)
			continue;
		for (unsigned j = 0; j < SIM_MAX_QUEUES; j++) {
			const struct sim_queue *q = &d->q[j];
			uint64_t parts[3] = { q->desc, q->driver, q->device };

			if (!q->ready)
				continue;
			for (unsigned k = 0; k < 3; k++) {
				if (parts[k] >= lo && parts[k] < hi) {
					sim_error("dev%d: ring memory of live queue %u freed (3.3.1: reset "
						  "or disable the queue first)", d->slot, j);
					return;
				}
			}
		}
	}
	/* The CPU's own stores land before its later reuse of the memory: drain them now. */
	sim_store_drain();
}
