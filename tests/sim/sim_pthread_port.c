/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The POSIX-threads test port: the simulated devices run in a thread of
 * their own and interrupt the library from there. See sim_pthread_port.h.
 */
#define _XOPEN_SOURCE 700 /* PTHREAD_MUTEX_ERRORCHECK, CLOCK_MONOTONIC */

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vio/error.h>

#include "sim.h"
#include "sim_port.h"
#include "sim_pthread_port.h"

#define MAX_IRQS 64               /* lines, one bit each in the pending mask */
#define LOG_LINES 1024
#define LOG_LEN 160
#define WAIT_MAX_NS (3600ull * 1000000000ull) /* a longer wait is a bug: cap it */
#define LOCK_TOKEN 0x5a5au        /* what lock returns and unlock must get back */

struct event {
	pthread_mutex_t m;
	pthread_cond_t c;
	bool signalled;
	struct event *next;
};

struct mutex {
	pthread_mutex_t m;
	struct mutex *next;
};

struct line {
	vio_irq_handler handler;
	void *arg;
	bool masked;
};

/* Under sim_lock (the simulator's lock): the device side. */
static pthread_mutex_t sim_lock;
static pthread_cond_t dev_wake;   /* the device thread sleeps here, on sim_lock */
static bool dev_work;             /* a notification came, or the last step did work */
static bool dev_stop;
static uint64_t lines_raised;     /* lines raised and not yet delivered */
static struct line lines[MAX_IRQS];
static pthread_t dev_thread;
static bool running;

/* The port's interrupt-safe lock (os->lock). */
static pthread_mutex_t port_lock;

/* Events, mutexes and the log, under objs_lock. */
static pthread_mutex_t objs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct event *events;
static struct mutex *mutexes;
static char log_lines[LOG_LINES][LOG_LEN];
static unsigned nlog;

static unsigned irqs_delivered;   /* atomic */

/* What the calling thread is doing. */
static _Thread_local bool in_irq;      /* runs an interrupt handler */
static _Thread_local bool lock_held;   /* holds the port's lock */

/* A pthread call that cannot fail unless the harness is broken. */
static void must(int rc, const char *what)
{
	if (rc) {
		fprintf(stderr, "sim_pthread_port: %s: %s\n", what, strerror(rc));
		abort();
	}
}

static void errorcheck_mutex(pthread_mutex_t *m)
{
	pthread_mutexattr_t a;

	must(pthread_mutexattr_init(&a), "mutexattr_init");
	must(pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK), "mutexattr_settype");
	must(pthread_mutex_init(m, &a), "mutex_init");
	pthread_mutexattr_destroy(&a);
}

/* Hooks run in interrupt context or with the lock held that must not be. */
static void context_check(const char *hook, bool lock_forbidden)
{
	if (in_irq)
		sim_error("%s from an interrupt handler", hook);
	if (lock_forbidden && lock_held)
		sim_error("%s with vio_lock held", hook);
}

/* ------------------------------------------------------------------ */
/* The simulator's side: lock, notifications, interrupts, the device thread */

void sim_thread_lock(void)
{
	must(pthread_mutex_lock(&sim_lock), "simulator lock (taken twice by one thread?)");
}

void sim_thread_unlock(void)
{
	must(pthread_mutex_unlock(&sim_lock), "simulator unlock");
}

static void hook_notified(struct sim_dev *d, unsigned q)
{
	dev_work = true;
	pthread_cond_signal(&dev_wake);
}

static void hook_raise(int irq)
{
	if (irq < 0 || irq >= MAX_IRQS)
		return;
	lines_raised |= 1ull << irq;
	pthread_cond_signal(&dev_wake);
}

static bool hook_in_irq(void)
{
	return in_irq;
}

static const struct sim_threads hooks = {
	.lock = sim_thread_lock,
	.unlock = sim_thread_unlock,
	.notified = hook_notified,
	.raise = hook_raise,
	.in_irq = hook_in_irq,
};

static void *device_main(void *arg)
{
	struct line due[MAX_IRQS];

	sim_thread_lock();
	while (!dev_stop) {
		unsigned n = 0;

		if (!dev_work && !lines_raised) {
			pthread_cond_wait(&dev_wake, &sim_lock);
			continue;
		}
		/*
		 * Step again after any step that completed a chain: a step
		 * reads the avail index, then writes avail_event (2.7.10), and
		 * a driver that published an entry in between may have read
		 * the old event and not notified. The pass after sees it; the
		 * last pass, which finds nothing, leaves an event no driver can
		 * miss. A real device (QEMU) re-checks the ring the same way.
		 */
		dev_work = sim_step_all() != 0;
		for (int i = 0; i < MAX_IRQS; i++) {
			if (!(lines_raised & (1ull << i)) || !lines[i].handler || lines[i].masked)
				continue;
			due[n++] = lines[i];
		}
		lines_raised = 0;
		sim_thread_unlock();
		/* The interrupt: the handler runs here, with the device's lock dropped. */
		in_irq = true;
		for (unsigned i = 0; i < n; i++) {
			due[i].handler(due[i].arg);
			__atomic_fetch_add(&irqs_delivered, 1, __ATOMIC_RELAXED);
		}
		in_irq = false;
		sim_thread_lock();
	}
	sim_thread_unlock();
	return arg;
}

void sim_thread_start(void)
{
	if (running) {
		fprintf(stderr, "sim_pthread_port: started twice\n");
		abort();
	}
	errorcheck_mutex(&sim_lock);
	errorcheck_mutex(&port_lock);
	must(pthread_cond_init(&dev_wake, NULL), "cond_init");
	dev_work = false;
	dev_stop = false;
	lines_raised = 0;
	memset(lines, 0, sizeof(lines));
	__atomic_store_n(&irqs_delivered, 0, __ATOMIC_RELAXED);
	pthread_mutex_lock(&objs_lock);
	nlog = 0;
	pthread_mutex_unlock(&objs_lock);
	sim_set_threads(&hooks);
	must(pthread_create(&dev_thread, NULL, device_main, NULL), "pthread_create");
	running = true;
}

void sim_thread_stop(void)
{
	if (!running)
		return;
	sim_thread_lock();
	dev_stop = true;
	pthread_cond_signal(&dev_wake);
	sim_thread_unlock();
	must(pthread_join(dev_thread, NULL), "pthread_join");
	running = false;
	sim_set_threads(NULL);
	pthread_mutex_lock(&objs_lock);
	while (events) {
		struct event *e = events;

		events = e->next;
		pthread_cond_destroy(&e->c);
		pthread_mutex_destroy(&e->m);
		free(e);
	}
	while (mutexes) {
		struct mutex *m = mutexes;

		mutexes = m->next;
		pthread_mutex_destroy(&m->m);
		free(m);
	}
	pthread_mutex_unlock(&objs_lock);
	memset(lines, 0, sizeof(lines));
	pthread_cond_destroy(&dev_wake);
	pthread_mutex_destroy(&port_lock);
	pthread_mutex_destroy(&sim_lock);
}

unsigned sim_thread_irqs(void)
{
	return __atomic_load_n(&irqs_delivered, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------ */
/* Port hooks */

static void *p_dma_alloc(void *ctx, size_t size, size_t align)
{
	const struct vio_port *pool = sim_port();
	void *p;

	context_check("dma_alloc", false);
	/* The simulator reads the pool's table (rings must lie in DMA memory). */
	sim_thread_lock();
	p = pool->dma_alloc(pool->ctx, size, align);
	sim_thread_unlock();
	return p;
}

static void p_dma_free(void *ctx, void *ptr, size_t size)
{
	const struct vio_port *pool = sim_port();

	context_check("dma_free", false);
	sim_thread_lock();
	pool->dma_free(pool->ctx, ptr, size);
	sim_thread_unlock();
}

static uint64_t p_virt_to_dma(void *ctx, const void *ptr)
{
	return (uint64_t)(uintptr_t)ptr;
}

static int p_irq_attach(void *ctx, int irq, vio_irq_handler handler, void *arg)
{
	int rc = 0;

	context_check("irq_attach", true);
	if (irq < 0 || irq >= MAX_IRQS || !handler)
		return VIO_EINVAL;
	sim_thread_lock();
	if (lines[irq].handler) {
		rc = VIO_EBUSY;
	} else {
		lines[irq].handler = handler;
		lines[irq].arg = arg;
		lines[irq].masked = false;
	}
	sim_thread_unlock();
	return rc;
}

static void p_irq_detach(void *ctx, int irq, void *arg)
{
	(void)arg; /* one handler per line here */
	context_check("irq_detach", true);
	if (irq < 0 || irq >= MAX_IRQS)
		return;
	sim_thread_lock();
	memset(&lines[irq], 0, sizeof(lines[irq]));
	sim_thread_unlock();
}

static void p_irq_mask(void *ctx, int irq)
{
	if (irq < 0 || irq >= MAX_IRQS)
		return;
	sim_thread_lock();
	lines[irq].masked = true;
	sim_thread_unlock();
}

static uint64_t p_time_ns(void *ctx)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void p_log(void *ctx, enum vio_log_level level, const char *msg)
{
	static const char tag[] = "EWID";

	context_check("log", true);
	pthread_mutex_lock(&objs_lock);
	snprintf(log_lines[nlog++ % LOG_LINES], LOG_LEN, "%s", msg);
	pthread_mutex_unlock(&objs_lock);
	if (level <= VIO_LOG_WARN)
		fprintf(stderr, "vio %c: %s\n", level <= VIO_LOG_DEBUG ? tag[level] : '?', msg);
}

unsigned sim_thread_log_count(const char *needle)
{
	unsigned n, c = 0;

	pthread_mutex_lock(&objs_lock);
	n = nlog < LOG_LINES ? nlog : LOG_LINES;
	for (unsigned i = 0; i < n; i++)
		c += strstr(log_lines[i], needle) != NULL;
	pthread_mutex_unlock(&objs_lock);
	return c;
}

/* ------------------------------------------------------------------ */
/* OS hooks */

static uintptr_t p_lock(void *ctx)
{
	int rc = pthread_mutex_lock(&port_lock);

	if (rc) {
		/* EDEADLK: the library took its lock twice (it is not recursive). */
		fprintf(stderr, "sim_pthread_port: vio_lock: %s\n", strerror(rc));
		abort();
	}
	lock_held = true;
	return LOCK_TOKEN;
}

static void p_unlock(void *ctx, uintptr_t state)
{
	if (state != LOCK_TOKEN)
		sim_error("vio_unlock with %#lx, not what vio_lock returned", (unsigned long)state);
	lock_held = false;
	must(pthread_mutex_unlock(&port_lock), "vio_unlock");
}

static int p_event_create(void *ctx, void **out)
{
	struct event *e;
	pthread_condattr_t a;

	context_check("event_create", true);
	e = calloc(1, sizeof(*e));
	if (!e)
		return VIO_ENOMEM;
	must(pthread_mutex_init(&e->m, NULL), "mutex_init");
	/* Timeouts on the monotonic clock, the one time_ns reads. */
	must(pthread_condattr_init(&a), "condattr_init");
	must(pthread_condattr_setclock(&a, CLOCK_MONOTONIC), "condattr_setclock");
	must(pthread_cond_init(&e->c, &a), "cond_init");
	pthread_condattr_destroy(&a);
	pthread_mutex_lock(&objs_lock);
	e->next = events;
	events = e;
	pthread_mutex_unlock(&objs_lock);
	*out = e;
	return 0;
}

static int p_event_wait(void *ctx, void *event, uint64_t timeout_ns)
{
	struct event *e = event;
	struct timespec dl;
	uint64_t ns;
	bool got;

	context_check("event_wait", true);
	if (timeout_ns > WAIT_MAX_NS)
		timeout_ns = WAIT_MAX_NS;
	ns = p_time_ns(ctx) + timeout_ns;
	dl.tv_sec = (time_t)(ns / 1000000000ull);
	dl.tv_nsec = (long)(ns % 1000000000ull);
	pthread_mutex_lock(&e->m);
	while (!e->signalled)
		if (pthread_cond_timedwait(&e->c, &e->m, &dl) == ETIMEDOUT)
			break;
	got = e->signalled;
	e->signalled = false;
	pthread_mutex_unlock(&e->m);
	return got ? 0 : VIO_ETIMEDOUT;
}

static void p_event_signal(void *ctx, void *event)
{
	struct event *e = event;

	/* Interrupt or task context: a semaphore given from an interrupt. */
	pthread_mutex_lock(&e->m);
	e->signalled = true;
	pthread_cond_signal(&e->c);
	pthread_mutex_unlock(&e->m);
}

static void p_event_destroy(void *ctx, void *event)
{
	struct event *e = event;

	context_check("event_destroy", true);
	pthread_mutex_lock(&objs_lock);
	for (struct event **pp = &events; *pp; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			pthread_cond_destroy(&e->c);
			pthread_mutex_destroy(&e->m);
			free(e);
			break;
		}
	}
	pthread_mutex_unlock(&objs_lock);
}

static int p_mutex_create(void *ctx, void **out)
{
	struct mutex *m;

	context_check("mutex_create", true);
	m = calloc(1, sizeof(*m));
	if (!m)
		return VIO_ENOMEM;
	errorcheck_mutex(&m->m);
	pthread_mutex_lock(&objs_lock);
	m->next = mutexes;
	mutexes = m;
	pthread_mutex_unlock(&objs_lock);
	*out = m;
	return 0;
}

static void p_mutex_lock(void *ctx, void *mutex)
{
	struct mutex *m = mutex;

	context_check("mutex_lock", true);
	must(pthread_mutex_lock(&m->m), "vio mutex_lock (taken twice by one thread?)");
}

static void p_mutex_unlock(void *ctx, void *mutex)
{
	struct mutex *m = mutex;

	context_check("mutex_unlock", false);
	must(pthread_mutex_unlock(&m->m), "vio mutex_unlock (not the owner?)");
}

static void p_mutex_destroy(void *ctx, void *mutex)
{
	struct mutex *m = mutex;

	context_check("mutex_destroy", true);
	pthread_mutex_lock(&objs_lock);
	for (struct mutex **pp = &mutexes; *pp; pp = &(*pp)->next) {
		if (*pp == m) {
			*pp = m->next;
			pthread_mutex_destroy(&m->m);
			free(m);
			break;
		}
	}
	pthread_mutex_unlock(&objs_lock);
}

static const struct vio_port port = {
	.dma_alloc = p_dma_alloc,
	.dma_free = p_dma_free,
	.virt_to_dma = p_virt_to_dma,
	.irq_attach = p_irq_attach,
	.irq_detach = p_irq_detach,
	.irq_mask = p_irq_mask,
	.time_ns = p_time_ns,
	.log = p_log,
};

static const struct vio_os os = {
	.lock = p_lock,
	.unlock = p_unlock,
	.event_create = p_event_create,
	.event_wait = p_event_wait,
	.event_signal = p_event_signal,
	.event_destroy = p_event_destroy,
	.mutex_create = p_mutex_create,
	.mutex_lock = p_mutex_lock,
	.mutex_unlock = p_mutex_unlock,
	.mutex_destroy = p_mutex_destroy,
};

const struct vio_port *sim_thread_port(void)
{
	return &port;
}

const struct vio_os *sim_thread_os(void)
{
	return &os;
}
