/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The test port: vio's port contract for the simulator, no threads. See
 * sim_port.h.
 */
#define _DEFAULT_SOURCE /* mmap flags */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <vio/error.h>

#include "sim.h"
#include "sim_asan.h"
#include "sim_cache.h"
#include "sim_port.h"

/*
 * DMA memory is a pool low in the address space, as on a real board: a
 * legacy device takes a 32-bit page number (4.2.4), so its rings must lie
 * below 16 TiB, where a sanitizer's heap never is. Blocks are handed out
 * in order and never reused before sim_port_reset; under AddressSanitizer
 * the pool is poisoned except for the live blocks (exactly their size), so
 * any access beyond a block, between blocks or after a free is caught.
 */
#define POOL_HINT 0x20000000ul
#define POOL_SIZE (64ul << 20)
#define POOL_REDZONE 64
#define LEGACY_LIMIT (1ull << 44)

#define MAX_IRQS 64
#define LOG_LINES 256
#define LOG_LEN 200

struct alloc {
	void *p;
	size_t size;
};

struct sim_event {
	bool signalled;
	struct sim_event *next;
};

struct irq_entry {
	vio_irq_handler handler;
	void *arg;
	bool pending;
	bool masked; /* irq_mask: the controller no longer delivers it */
};

static uint8_t *pool;
static size_t pool_used;
static struct alloc *allocs;
static unsigned nallocs, cap_allocs, total_allocs;
static struct sim_event *events;
static struct irq_entry irqs[MAX_IRQS];
int sim_msi_limit = SIM_MSI_MAX;
static unsigned irqs_delivered;
static uint64_t clock_ns;
static bool masked;   /* the OS lock is held: interrupts wait */
static bool in_irq;   /* a handler runs */
static bool in_time;  /* time_ns is running the devices */
static char log_lines[LOG_LINES][LOG_LEN];
static enum vio_log_level log_levels[LOG_LINES];
static unsigned nlog;

int sim_dma_fail_after = -1;
uint64_t sim_time_tick_ns = 1000;
uint64_t sim_idle_ns = 1000000;
bool sim_step_in_time = true;
int sim_irq_attach_result;
unsigned sim_waits;
unsigned sim_wait_timeouts;
unsigned sim_runs;
void (*sim_on_run)(unsigned nrun);
bool sim_log_print = true;

/* ------------------------------------------------------------------ */
/* DMA memory */

static void pool_init(void)
{
	void *p;

	if (pool)
		return;
	p = mmap((void *)POOL_HINT, POOL_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		perror("sim: mmap of the DMA pool");
		abort();
	}
	if ((uintptr_t)p + POOL_SIZE > LEGACY_LIMIT)
		fprintf(stderr, "sim: DMA pool at %p: beyond a legacy device's reach\n", p);
	pool = p;
	POISON(pool, POOL_SIZE);
	sim_cache_pool(pool, POOL_SIZE);
}

static void *p_dma_alloc(void *ctx, size_t size, size_t align)
{
	size_t off;
	void *p;

	if (in_irq)
		sim_error("dma_alloc from an interrupt handler");
	if (!size || !align || (align & (align - 1))) {
		sim_error("dma_alloc(%zu, %zu): bad size or alignment", size, align);
		return NULL;
	}
	if (sim_dma_fail_after == 0)
		return NULL;
	if (sim_dma_fail_after > 0)
		sim_dma_fail_after--;
	pool_init();
	if (align < sizeof(void *))
		align = sizeof(void *);
	off = (pool_used + POOL_REDZONE + align - 1) & ~(align - 1);
	if (off > POOL_SIZE || size > POOL_SIZE - off)
		return NULL;
	p = pool + off;
	pool_used = off + size;
	UNPOISON(p, size);
	/* The contract says zeroed; dirty it first so a missing memset would show. */
	memset(p, 0xa5, size);
	memset(p, 0, size);
	sim_cache_alloc(p, size);
	if (nallocs == cap_allocs) {
		unsigned cap = cap_allocs ? 2 * cap_allocs : 64;
		struct alloc *a = realloc(allocs, cap * sizeof(*a));

		if (!a)
			abort();
		allocs = a;
		cap_allocs = cap;
	}
	allocs[nallocs].p = p;
	allocs[nallocs].size = size;
	nallocs++;
	total_allocs++;
	return p;
}

static void p_dma_free(void *ctx, void *p, size_t size)
{
	if (in_irq)
		sim_error("dma_free from an interrupt handler");
	if (!p)
		return;
	for (unsigned i = 0; i < nallocs; i++) {
		if (allocs[i].p != p)
			continue;
		if (allocs[i].size != size)
			sim_error("dma_free(%p, %zu) of an allocation of %zu bytes", p, size,
				  allocs[i].size);
		sim_dma_freeing(p, allocs[i].size);
		/* Not reused before the next reset: a later access is a use after free. */
		POISON(p, allocs[i].size);
		sim_cache_free(p, allocs[i].size);
		allocs[i] = allocs[--nallocs];
		return;
	}
	sim_error("dma_free(%p, %zu): not allocated by dma_alloc", p, size);
}

static uint64_t p_virt_to_dma(void *ctx, const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

unsigned sim_dma_live(void)
{
	return nallocs;
}

size_t sim_dma_live_bytes(void)
{
	size_t n = 0;

	for (unsigned i = 0; i < nallocs; i++)
		n += allocs[i].size;
	return n;
}

unsigned sim_dma_allocs(void)
{
	return total_allocs;
}

bool sim_dma_owns(const void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p;

	for (unsigned i = 0; i < nallocs; i++) {
		uintptr_t b = (uintptr_t)allocs[i].p;

		if (a >= b && len <= allocs[i].size && a - b <= allocs[i].size - len)
			return true;
	}
	return false;
}

bool sim_dma_reachable(const void *p, size_t len)
{
#if SIM_ASAN
	/* The pool is poisoned outside its live blocks, exactly (p_dma_alloc). */
	return __asan_region_is_poisoned((void *)(uintptr_t)p, len) == NULL;
#else
	uintptr_t a = (uintptr_t)p, lo = (uintptr_t)pool;

	if (pool && a < lo + POOL_SIZE && (a >= lo || len > lo - a))
		return sim_dma_owns(p, len);
	return true;
#endif
}

/* ------------------------------------------------------------------ */
/* Interrupts */

static void deliver(int irq)
{
	struct irq_entry *e = &irqs[irq];

	e->pending = false;
	irqs_delivered++;
	in_irq = true;
	e->handler(e->arg);
	in_irq = false;
}

/*
 * Some line may be pending (set with every pending flag, cleared when a
 * pass finds none left): every unlock calls deliver_pending, and the fuzz
 * targets unlock millions of times with nothing pending.
 */
static bool any_pending;

static void deliver_pending(void)
{
	bool left = false;

	if (!any_pending)
		return;
	for (int i = 0; i < MAX_IRQS; i++) {
		if (irqs[i].pending && irqs[i].handler && !irqs[i].masked && !masked && !in_irq)
			deliver(i);
	}
	/* After the pass: a handler may have left any line pending. */
	for (int i = 0; i < MAX_IRQS; i++)
		left = left || irqs[i].pending;
	any_pending = left;
}

void sim_irq_line(int irq)
{
	if (irq < 0 || irq >= MAX_IRQS || !irqs[irq].handler || irqs[irq].masked)
		return; /* nobody listens: the status stays set for a poller */
	if (masked || in_irq) {
		irqs[irq].pending = true;
		any_pending = true;
		return;
	}
	deliver(irq);
}

/*
 * A level-triggered line held high: the controller takes the interrupt
 * again as soon as the handler returns, whatever the handler did.
 */
unsigned sim_irq_storm(int irq, unsigned max)
{
	unsigned n = 0;

	while (n < max && sim_irq_attached(irq) && !irqs[irq].masked) {
		deliver(irq);
		n++;
	}
	return n;
}

bool sim_irq_masked(int irq)
{
	return irq >= 0 && irq < MAX_IRQS && irqs[irq].masked;
}

static void p_irq_mask(void *ctx, int irq)
{
	if (irq < 0 || irq >= MAX_IRQS || !irqs[irq].handler) {
		sim_error("irq_mask(%d) of a line not attached", irq);
		return;
	}
	irqs[irq].masked = true;
	irqs[irq].pending = false;
}

bool sim_irq_attached(int irq)
{
	return irq >= 0 && irq < MAX_IRQS && irqs[irq].handler;
}

unsigned sim_irqs_delivered(void)
{
	return irqs_delivered;
}

static int p_irq_attach(void *ctx, int irq, vio_irq_handler handler, void *arg)
{
	if (in_irq)
		sim_error("irq_attach from an interrupt handler");
	if (sim_irq_attach_result)
		return sim_irq_attach_result;
	if (irq < 0 || irq >= MAX_IRQS || !handler || irqs[irq].handler)
		return VIO_EINVAL;
	irqs[irq].handler = handler;
	irqs[irq].arg = arg;
	irqs[irq].pending = false;
	return 0;
}

/*
 * Message-signalled interrupts are lines SIM_MSI_BASE.. of the same table,
 * raised with sim_irq_line too; the message is the line's number at
 * SIM_MSI_ADDR.
 */
static int p_msi_attach(void *ctx, vio_irq_handler handler, void *arg, uint64_t *addr,
			uint32_t *data)
{
	for (int i = 0; i < sim_msi_limit && SIM_MSI_BASE + i < MAX_IRQS; i++) {
		if (irqs[SIM_MSI_BASE + i].handler)
			continue;
		int rc = p_irq_attach(ctx, SIM_MSI_BASE + i, handler, arg);

		if (rc)
			return rc;
		*addr = SIM_MSI_ADDR;
		*data = (uint32_t)(SIM_MSI_BASE + i);
		return i;
	}
	return VIO_ENOSPC;
}

static void p_msi_detach(void *ctx, int handle)
{
	(void)ctx;
	if (handle < 0 || SIM_MSI_BASE + handle >= MAX_IRQS ||
	    !irqs[SIM_MSI_BASE + handle].handler) {
		sim_error("msi_detach(%d) of an MSI not attached", handle);
		return;
	}
	memset(&irqs[SIM_MSI_BASE + handle], 0, sizeof(irqs[0]));
}

static void p_irq_detach(void *ctx, int irq, void *arg)
{
	if (irq < 0 || irq >= MAX_IRQS || !irqs[irq].handler || irqs[irq].arg != arg) {
		sim_error("irq_detach(%d) of a line not attached", irq);
		return;
	}
	memset(&irqs[irq], 0, sizeof(irqs[irq]));
}

/* ------------------------------------------------------------------ */
/* Clock */

uint64_t sim_now(void)
{
	return clock_ns;
}

void sim_advance(uint64_t ns)
{
	clock_ns += ns;
}

/* The CPU waits: the devices get to run (and the test's script with them). */
static void run_devices(void)
{
	in_time = true;
	sim_runs++;
	if (sim_on_run)
		sim_on_run(sim_runs);
	sim_step_all();
	in_time = false;
}

static uint64_t p_time_ns(void *ctx)
{
	uint64_t t = clock_ns;

	clock_ns += sim_time_tick_ns;
	/* The device works while the CPU spins on the clock. */
	if (sim_step_in_time && !in_time && !in_irq)
		run_devices();
	return t;
}

/* ------------------------------------------------------------------ */
/* Log */

static void p_log(void *ctx, enum vio_log_level level, const char *msg)
{
	static const char tag[] = "EWID";
	unsigned i = nlog++ % LOG_LINES;

	if (in_irq)
		sim_error("log from an interrupt handler: %s", msg);
	snprintf(log_lines[i], LOG_LEN, "%s", msg);
	log_levels[i] = level;
	if (sim_log_print)
		fprintf(stderr, "vio %c: %s\n", level <= VIO_LOG_DEBUG ? tag[level] : '?', msg);
}

bool sim_log_contains(const char *needle)
{
	unsigned n = nlog < LOG_LINES ? nlog : LOG_LINES;

	for (unsigned i = 0; i < n; i++) {
		if (strstr(log_lines[i], needle))
			return true;
	}
	return false;
}

unsigned sim_log_count(enum vio_log_level level)
{
	unsigned n = nlog < LOG_LINES ? nlog : LOG_LINES, c = 0;

	for (unsigned i = 0; i < n; i++)
		c += log_levels[i] == level;
	return c;
}

/* ------------------------------------------------------------------ */
/* OS hooks */

static uintptr_t p_lock(void *ctx)
{
	bool was = masked;

	masked = true;
	return was;
}

static void p_unlock(void *ctx, uintptr_t state)
{
	masked = state != 0;
	/* An interrupt raised meanwhile is taken now, as a controller would. */
	if (!masked)
		deliver_pending();
}

static int p_event_create(void *ctx, void **event)
{
	struct sim_event *e = calloc(1, sizeof(*e));

	if (in_irq)
		sim_error("event_create from an interrupt handler");
	if (!e)
		return VIO_ENOMEM;
	e->next = events;
	events = e;
	*event = e;
	return 0;
}

static bool take_signal(struct sim_event *e)
{
	if (!e->signalled)
		return false;
	e->signalled = false;
	return true;
}

static int p_event_wait(void *ctx, void *event, uint64_t timeout_ns)
{
	struct sim_event *e = event;
	uint64_t idle;

	if (in_irq)
		sim_error("event_wait from an interrupt handler");
	if (masked)
		sim_error("event_wait with the lock held");
	sim_waits++;
	if (take_signal(e))
		return 0;
	/* The device runs while the CPU sleeps; its interrupt signals e. */
	if (!in_time)
		run_devices();
	if (take_signal(e)) {
		clock_ns += sim_time_tick_ns;
		return 0;
	}
	/* Nothing happened: time passes (at most sim_idle_ns per wait). */
	idle = timeout_ns < sim_idle_ns ? timeout_ns : sim_idle_ns;
	clock_ns += idle ? idle : 1;
	if (idle < timeout_ns)
		return 0; /* a spurious return; the caller waits again */
	sim_wait_timeouts++;
	return VIO_ETIMEDOUT;
}

static void p_event_signal(void *ctx, void *event)
{
	struct sim_event *e = event;

	e->signalled = true;
}

static const struct vio_port port_irq = {
	.dma_alloc = p_dma_alloc,
	.dma_free = p_dma_free,
	.virt_to_dma = p_virt_to_dma,
	.irq_attach = p_irq_attach,
	.irq_detach = p_irq_detach,
	.irq_mask = p_irq_mask,
	.msi_attach = p_msi_attach,
	.msi_detach = p_msi_detach,
	.time_ns = p_time_ns,
	.log = p_log,
};

static const struct vio_port port_polled = {
	.dma_alloc = p_dma_alloc,
	.dma_free = p_dma_free,
	.virt_to_dma = p_virt_to_dma,
	.time_ns = p_time_ns,
	.log = p_log,
};

/* A platform without DMA coherency: the cache model of sim_cache.h. */
static const struct vio_port port_nc_irq = {
	.dma_alloc = p_dma_alloc,
	.dma_free = p_dma_free,
	.virt_to_dma = p_virt_to_dma,
	.cache_clean = sim_cache_clean,
	.cache_invalidate = sim_cache_invalidate,
	.irq_attach = p_irq_attach,
	.irq_detach = p_irq_detach,
	.irq_mask = p_irq_mask,
	.time_ns = p_time_ns,
	.log = p_log,
};

static const struct vio_port port_nc_polled = {
	.dma_alloc = p_dma_alloc,
	.dma_free = p_dma_free,
	.virt_to_dma = p_virt_to_dma,
	.cache_clean = sim_cache_clean,
	.cache_invalidate = sim_cache_invalidate,
	.time_ns = p_time_ns,
	.log = p_log,
};

static const struct vio_os os = {
	.lock = p_lock,
	.unlock = p_unlock,
	.event_create = p_event_create,
	.event_wait = p_event_wait,
	.event_signal = p_event_signal,
};

const struct vio_port *sim_port(void)
{
	return &port_irq;
}

const struct vio_port *sim_port_polled(void)
{
	return &port_polled;
}

/* The hooks are only meaningful with the device on its own view: turn it on. */
static void cache_model_on(void)
{
	if (sim_cache_on())
		return;
	sim_cache_enable();
	for (unsigned i = 0; i < nallocs; i++)
		sim_cache_adopt(allocs[i].p, allocs[i].size);
}

const struct vio_port *sim_port_noncoherent(void)
{
	cache_model_on();
	return &port_nc_irq;
}

const struct vio_port *sim_port_noncoherent_polled(void)
{
	cache_model_on();
	return &port_nc_polled;
}

const struct vio_os *sim_os(void)
{
	return &os;
}

void sim_port_reset(void)
{
	if (pool) {
		/*
		 * Zero what was handed out (every run starts from the same
		 * memory) and poison it. Only the part handed out since the last
		 * reset: the rest was never unpoisoned nor written (the
		 * allocator only moves up), and the fuzz targets reset after
		 * every input. A memset, not madvise(MADV_DONTNEED): giving the
		 * pages back made the next input fault every one of them in
		 * again, the largest cost of a fuzz input that probes a device.
		 */
		size_t used = pool_used + POOL_REDZONE;

		if (used > POOL_SIZE)
			used = POOL_SIZE;
		UNPOISON(pool, used);
		memset(pool, 0, used);
		POISON(pool, used);
	}
	sim_cache_reset();
	pool_used = 0;
	nallocs = 0;
	free(allocs);
	allocs = NULL;
	cap_allocs = 0;
	total_allocs = 0;
	while (events) {
		struct sim_event *e = events;

		events = e->next;
		free(e);
	}
	memset(irqs, 0, sizeof(irqs));
	any_pending = false;
	irqs_delivered = 0;
	clock_ns = 1000000000ull;
	masked = false;
	in_irq = false;
	in_time = false;
	nlog = 0;
	sim_dma_fail_after = -1;
	sim_time_tick_ns = 1000;
	sim_idle_ns = 1000000;
	sim_step_in_time = true;
	sim_irq_attach_result = 0;
	sim_msi_limit = SIM_MSI_MAX;
	sim_waits = 0;
	sim_wait_timeouts = 0;
	sim_runs = 0;
	sim_on_run = NULL;
	sim_log_print = true;
}
