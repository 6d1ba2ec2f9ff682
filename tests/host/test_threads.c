/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The concurrency contract, on real threads (tests/sim/sim_pthread_port.h):
 * the simulated devices run in a thread of their own and interrupt from
 * there, while several application threads issue blocking and asynchronous
 * virtio-blk requests at once, to one device and to several of its request
 * queues (VIRTIO_BLK_F_MQ, 5.2.2) and to a second (legacy) device. A service
 * thread runs the deferred work, or nobody does and the blocked callers run
 * it themselves; meanwhile the device's capacity keeps changing
 * (configuration change interrupts, 5.2.6.2 and 4.2.3.3).
 *
 * Every byte is checked: each thread writes patterns of its own over a range
 * of sectors nobody else touches, reads them back, and at the end the disks
 * of the simulated devices must hold exactly what each thread wrote last.
 * Built twice (interrupt-driven and polled completion) in every host
 * preset; host-tsan runs it under ThreadSanitizer, the others under
 * AddressSanitizer. test_port_checks first proves that the port reports
 * what it claims to catch.
 */
#define _XOPEN_SOURCE 700 /* nanosleep */

#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <vio/blk.h>
#include <vio/device.h>
#include <vio/error.h>
#include <vio/io.h>
#include <vio/mmio.h>
#include <vio/spec/virtio_blk.h>
#include <vio/spec/virtio_config.h>
#include <vio/spec/virtio_mmio.h>

#include "blk_model.h"
#include "sim.h"
#include "sim_port.h"
#include "sim_pthread_port.h"
#include "test.h"
#include "vio_config.h"

#define SEC 1000000000ull
#define CFG(field) ((unsigned)offsetof(struct virtio_blk_config, field))

#define NTHREADS 4
#define NQ 4                           /* request queues of device A */
#define DISK_SECTORS 4096u             /* 2 MiB per device */
#define REGION (DISK_SECTORS / NTHREADS) /* sectors each thread owns, on each device */
#define SLICE 16u                      /* sectors per transfer (8 KiB) */
#define SLICE_BYTES (SLICE * 512u)
#define NSLICES (REGION / SLICE)
#define ROUNDS 64
#define ASYNC 4                        /* asynchronous requests a thread has in flight */
#define WAIT_NS (20 * SEC)             /* nothing here should ever wait that long */
#define CONFIG_CHANGES_MIN 20            /* the storm goes on while the threads work */

_Static_assert(NSLICES >= 2 * ASYNC, "a round's asynchronous slices are distinct");

static struct sim_blk blk_a, blk_b;
static struct sim_dev *da, *db;
static struct vio_device *dev_a, *dev_b;
static uint8_t disk_a[DISK_SECTORS * 512], disk_b[DISK_SECTORS * 512];

static const struct vio_blk_params params = {
	.max_queues = NQ,
	.timeout_ms = 20000,
};

/* ------------------------------------------------------------------ */
/* Patterns: a value per 8-byte word of the disk, per writer's seed */

static uint64_t word(uint64_t off, uint32_t seed)
{
	return (off / 8 + 1) * 0x9e3779b97f4a7c15ull ^ ((uint64_t)seed << 32 | seed);
}

static void pattern(uint8_t *p, uint64_t off, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = word(off + i, seed);

		memcpy(p + i, &v, 8);
	}
}

/* ------------------------------------------------------------------ */
/* An application thread */

/* One asynchronous request and its completion flag (set by the callback). */
struct aop {
	struct vio_blk_req req;
	struct vio_sg sg;
	int done;
};

struct worker {
	unsigned id;
	pthread_t thread;
	uint32_t seed_a[NSLICES];  /* the pattern each slice of the region holds */
	uint32_t seed_b[NSLICES];
	unsigned failures;
	uint8_t wbuf[ASYNC][SLICE_BYTES];
	uint8_t rbuf[ASYNC][SLICE_BYTES];
	uint8_t expect[SLICE_BYTES];
	struct aop ops[ASYNC];
};

static struct worker workers[NTHREADS];
static int stop_service;
static unsigned workers_done; /* atomic */

/* test.h's counters are the main thread's: a worker counts its own. */
#define WCHECK(w, cond)                                                              \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "%s:%d: thread %u: FAILED: %s\n", __FILE__,  \
				__LINE__, (w)->id, #cond);                           \
			(w)->failures++;                                             \
		}                                                                    \
	} while (0)

/* A call that must return 0; says what it returned instead. */
#define WCHECK_OK(w, call)                                                           \
	do {                                                                         \
		int rc_ = (call);                                                    \
		if (rc_) {                                                           \
			fprintf(stderr, "%s:%d: thread %u: FAILED: %s returned %s\n",   \
				__FILE__, __LINE__, (w)->id, #call, vio_strerror(rc_)); \
			(w)->failures++;                                             \
		}                                                                    \
	} while (0)

static uint64_t slice_sector(const struct worker *w, unsigned slice)
{
	return (uint64_t)w->id * REGION + (uint64_t)slice * SLICE;
}

/* Does buf hold the pattern seed of slice? */
static bool holds(struct worker *w, const uint8_t *buf, unsigned slice, uint32_t seed)
{
	pattern(w->expect, slice_sector(w, slice) * 512, SLICE_BYTES, seed);
	return memcmp(buf, w->expect, SLICE_BYTES) == 0;
}

static uint32_t next_seed(const struct worker *w, unsigned round, unsigned step)
{
	return (w->id + 1) << 16 | round << 4 | (step + 1);
}

static void aop_done(struct vio_blk_req *r)
{
	struct aop *o = r->ctx;

	/* Runs in whatever thread runs the queue's handler. */
	__atomic_store_n(&o->done, 1, __ATOMIC_RELEASE);
}

static void aop_init(struct aop *o, enum vio_blk_op op, uint64_t sector, void *buf)
{
	memset(o, 0, sizeof(*o));
	o->sg.buf = buf;
	o->sg.len = SLICE_BYTES;
	o->req.op = op;
	o->req.sector = sector;
	o->req.sg = &o->sg;
	o->req.nsg = 1;
	o->req.done = aop_done;
	o->req.ctx = o;
}

/* Submit; a full queue makes room as requests complete. */
static int aop_submit(struct vio_device *dev, unsigned q, struct aop *o)
{
	int rc;

	while ((rc = vio_blk_submit(dev, q, &o->req)) == VIO_ENOSPC) {
		rc = vio_blk_wait(dev, q, WAIT_NS);
		if (rc < 0)
			return rc;
		if (rc == 0)
			sched_yield();
	}
	return rc;
}

/* Wait until every request of ops has run its callback. */
static int aop_wait(struct vio_device *dev, unsigned q, struct aop *ops, unsigned n)
{
	for (;;) {
		unsigned left = 0;
		int rc;

		for (unsigned i = 0; i < n; i++)
			left += !__atomic_load_n(&ops[i].done, __ATOMIC_ACQUIRE);
		if (!left)
			return 0;
		/*
		 * Another thread's completions wake us too, and one whose
		 * callback is still running leaves the queue idle for a
		 * moment: wait again.
		 */
		rc = vio_blk_wait(dev, q, WAIT_NS);
		if (rc < 0)
			return rc;
		if (rc == 0)
			sched_yield();
	}
}

/* Blocking calls on queue 0 (shared by every thread) and on a queue of the thread's own. */
static void blocking_round(struct worker *w, struct vio_device *dev, uint32_t *seeds,
			   unsigned round, unsigned step, unsigned queue)
{
	unsigned s1 = (round * 5 + step) % NSLICES, s2 = (round * 3 + step + 1) % NSLICES;
	uint32_t seed1 = next_seed(w, round, step), seed2 = next_seed(w, round, step + 1);
	struct vio_sg sg[2];
	int rc;

	pattern(w->wbuf[0], slice_sector(w, s1) * 512, SLICE_BYTES, seed1);
	memset(w->rbuf[0], 0, SLICE_BYTES);
	rc = vio_blk_write(dev, slice_sector(w, s1), w->wbuf[0], SLICE);
	WCHECK(w, rc == 0);
	if (!rc)
		seeds[s1] = seed1;
	WCHECK_OK(w, vio_blk_read(dev, slice_sector(w, s1), w->rbuf[0], SLICE));
	WCHECK(w, holds(w, w->rbuf[0], s1, seeds[s1]));

	/* Two segments, split where the slice's halves meet. */
	if (s2 == s1)
		s2 = (s2 + 1) % NSLICES;
	pattern(w->wbuf[1], slice_sector(w, s2) * 512, SLICE_BYTES, seed2);
	sg[0] = (struct vio_sg){ w->wbuf[1], SLICE_BYTES / 2 };
	sg[1] = (struct vio_sg){ w->wbuf[1] + SLICE_BYTES / 2, SLICE_BYTES / 2 };
	rc = vio_blk_writev(dev, queue, slice_sector(w, s2), sg, 2);
	WCHECK(w, rc == 0);
	if (!rc)
		seeds[s2] = seed2;
	memset(w->rbuf[1], 0, SLICE_BYTES);
	sg[0] = (struct vio_sg){ w->rbuf[1], SLICE_BYTES / 2 };
	sg[1] = (struct vio_sg){ w->rbuf[1] + SLICE_BYTES / 2, SLICE_BYTES / 2 };
	WCHECK_OK(w, vio_blk_readv(dev, queue, slice_sector(w, s2), sg, 2));
	WCHECK(w, holds(w, w->rbuf[1], s2, seeds[s2]));
}

/* ASYNC writes on queue qw, then reads of the same slices on queue qr. */
static void async_round(struct worker *w, struct vio_device *dev, uint32_t *seeds,
			unsigned round, unsigned qw, unsigned qr)
{
	unsigned first = (round * 7) % NSLICES;
	uint32_t seed[ASYNC];
	int rc;

	for (unsigned i = 0; i < ASYNC; i++) {
		unsigned s = (first + i) % NSLICES;

		seed[i] = next_seed(w, round, 8 + i);
		pattern(w->wbuf[i], slice_sector(w, s) * 512, SLICE_BYTES, seed[i]);
		aop_init(&w->ops[i], VIO_BLK_OP_WRITE, slice_sector(w, s), w->wbuf[i]);
		rc = aop_submit(dev, qw, &w->ops[i]);
		WCHECK(w, rc == 0);
		if (rc)
			w->ops[i].done = 1; /* never queued */
	}
	WCHECK_OK(w, aop_wait(dev, qw, w->ops, ASYNC));
	for (unsigned i = 0; i < ASYNC; i++) {
		WCHECK(w, w->ops[i].req.result == 0);
		if (!w->ops[i].req.result)
			seeds[(first + i) % NSLICES] = seed[i];
	}

	for (unsigned i = 0; i < ASYNC; i++) {
		unsigned s = (first + i) % NSLICES;

		memset(w->rbuf[i], 0, SLICE_BYTES);
		aop_init(&w->ops[i], VIO_BLK_OP_READ, slice_sector(w, s), w->rbuf[i]);
		rc = aop_submit(dev, qr, &w->ops[i]);
		WCHECK(w, rc == 0);
		if (rc)
			w->ops[i].done = 1;
	}
	WCHECK_OK(w, aop_wait(dev, qr, w->ops, ASYNC));
	for (unsigned i = 0; i < ASYNC; i++) {
		unsigned s = (first + i) % NSLICES;

		WCHECK(w, w->ops[i].req.result == 0);
		WCHECK(w, holds(w, w->rbuf[i], s, seeds[s]));
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	for (unsigned r = 0; r < ROUNDS; r++) {
		struct vio_blk_info in;

		/* Device A: queue 0 for everyone, a queue of its own, then two shared ones. */
		blocking_round(w, dev_a, w->seed_a, r, 0, w->id % NQ);
		async_round(w, dev_a, w->seed_a, r, (w->id + r) % NQ, (w->id + r + 1) % NQ);
		/* Device B: one queue shared by every thread. */
		blocking_round(w, dev_b, w->seed_b, r, 2, 0);
		async_round(w, dev_b, w->seed_b, r, 0, 0);
		/* The capacity changes under us, but never below where we write. */
		WCHECK_OK(w, vio_blk_get_info(dev_a, &in));
		WCHECK(w, in.capacity >= DISK_SECTORS);
		if (r % 4 == 3)
			WCHECK_OK(w, vio_blk_flush(dev_a));
	}
	__atomic_fetch_add(&workers_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *service_main(void *arg)
{
	while (!__atomic_load_n(&stop_service, __ATOMIC_ACQUIRE)) {
		vio_service_wait(SEC / 100);
		vio_service();
	}
	return arg;
}

/* ------------------------------------------------------------------ */
/* Set-up and the final checks */

static bool start(void)
{
	pattern(disk_a, 0, sizeof(disk_a), 0);
	pattern(disk_b, 0, sizeof(disk_b), 0);
	/* A: modern, four request queues of different sizes (small: full rings happen). */
	da = sim_dev_new(0, 2, VIRTIO_ID_BLOCK);
	sim_blk_attach(da, &blk_a, disk_a, DISK_SECTORS);
	da->features |= 1ull << VIRTIO_BLK_F_MQ;
	sim_config_set(da, CFG(num_queues), 2, NQ);
	da->q[0].num_max = 32;
	da->q[1].num_max = 16;
	da->q[2].num_max = 16;
	da->q[3].num_max = 8;
	/* B: legacy, one queue. */
	db = sim_dev_new(1, 1, VIRTIO_ID_BLOCK);
	sim_blk_attach(db, &blk_b, disk_b, DISK_SECTORS);
	db->q[0].num_max = 16;

	sim_thread_start();
	CHECK_EQ(vio_init(sim_thread_port(), sim_thread_os()), 0);
	CHECK_EQ(vio_driver_register(&vio_blk_driver, &params), 0);
	/* Probed while the device thread runs, as on a board. */
	CHECK_EQ(vio_mmio_add(da->base, da->irq, 0, &dev_a), 0);
	CHECK_EQ(vio_mmio_add(db->base, db->irq, 1, &dev_b), 0);
	if (!dev_a || !dev_b || dev_a->state != VIO_DEV_READY || dev_b->state != VIO_DEV_READY)
		return false;
	/* The polled build looks at the rings instead; the device thread is the same. */
	CHECK_EQ(vio_dev_uses_irq(dev_a), !CONFIG_VIO_COMPLETION_POLL);
	CHECK_EQ(vio_dev_uses_irq(dev_b), !CONFIG_VIO_COMPLETION_POLL);
	CHECK_EQ(dev_a->nqueues, NQ);
	memset(workers, 0, sizeof(workers));
	return true;
}

/* A configuration change interrupt from device A: a new capacity. */
static void change_capacity(uint64_t sectors)
{
	uint8_t le[8];

	for (unsigned i = 0; i < 8; i++)
		le[i] = (uint8_t)(sectors >> (8 * i));
	sim_thread_lock();
	sim_config_change(da, CFG(capacity), le, sizeof(le));
	sim_thread_unlock();
}

static void check_disk(const uint8_t *disk, const struct worker *w, const uint32_t *seeds)
{
	static uint8_t expect[SLICE_BYTES];

	for (unsigned s = 0; s < NSLICES; s++) {
		uint64_t off = ((uint64_t)w->id * REGION + (uint64_t)s * SLICE) * 512;

		pattern(expect, off, SLICE_BYTES, seeds[s]);
		if (memcmp(disk + off, expect, SLICE_BYTES)) {
			CHECK(!"the disk holds what the thread wrote last");
			fprintf(stderr, "  thread %u slice %u (sector %llu)\n", w->id, s,
				(unsigned long long)(off / 512));
		}
	}
}

static void run(bool service)
{
	pthread_t svc;
	struct vio_blk_info in;
	struct timespec pause = { 0, 1000000 };
	uint64_t changes = 0;

	if (!start()) {
		sim_thread_stop();
		return;
	}
	__atomic_store_n(&stop_service, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&workers_done, 0, __ATOMIC_RELAXED);
	if (service)
		CHECK_EQ(pthread_create(&svc, NULL, service_main, NULL), 0);
	for (unsigned i = 0; i < NTHREADS; i++) {
		workers[i].id = i;
		CHECK_EQ(pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]), 0);
	}
	/* The storm: the capacity grows as long as the threads do I/O. */
	while (changes < CONFIG_CHANGES_MIN ||
	       __atomic_load_n(&workers_done, __ATOMIC_ACQUIRE) < NTHREADS) {
		change_capacity(DISK_SECTORS + ++changes);
		nanosleep(&pause, NULL);
	}
	for (unsigned i = 0; i < NTHREADS; i++) {
		CHECK_EQ(pthread_join(workers[i].thread, NULL), 0);
		CHECK_EQ(workers[i].failures, 0);
	}
	/* The last change is seen: by the service thread, or by our own poll. */
	memset(&in, 0, sizeof(in));
	for (unsigned tries = 0; tries < 2000; tries++) {
		if (!service)
			vio_dev_poll(dev_a);
		if (vio_blk_get_info(dev_a, &in) || in.capacity == DISK_SECTORS + changes)
			break;
		nanosleep(&pause, NULL);
	}
	CHECK_EQ(in.capacity, DISK_SECTORS + changes);
	CHECK(sim_thread_log_count("blk0: capacity") > 0);
	if (service) {
		__atomic_store_n(&stop_service, 1, __ATOMIC_RELEASE);
		CHECK_EQ(pthread_join(svc, NULL), 0);
	}

	CHECK_EQ(dev_a->state, VIO_DEV_READY);
	CHECK_EQ(dev_b->state, VIO_DEV_READY);
	for (unsigned q = 0; q < NQ; q++)
		CHECK_EQ(vio_blk_in_flight(dev_a, q), 0);
	CHECK_EQ(vio_blk_in_flight(dev_b, 0), 0);
	CHECK_EQ(sim_thread_irqs() > 0, !CONFIG_VIO_COMPLETION_POLL);
	sim_thread_stop();

	/* The device thread is gone: the simulator is ours again. */
	for (unsigned q = 0; q < NQ; q++)
		CHECK(blk_a.per_queue[q] > 0);
	CHECK(blk_b.per_queue[0] > 0);
	for (unsigned i = 0; i < NTHREADS; i++) {
		check_disk(disk_a, &workers[i], workers[i].seed_a);
		check_disk(disk_b, &workers[i], workers[i].seed_b);
	}
	fprintf(stderr, "  %u requests on A (%u %u %u %u by queue), %u on B; %llu configuration "
		"changes, %u seen by the driver\n", blk_a.ntrace, blk_a.per_queue[0],
		blk_a.per_queue[1], blk_a.per_queue[2], blk_a.per_queue[3], blk_b.ntrace,
		(unsigned long long)changes, sim_thread_log_count("blk0: capacity"));
}

/* A service thread runs the deferred work while the callers block. */
static void test_threads_service(void)
{
	run(true);
}

/* Nobody runs vio_service: every blocked caller runs its device's work itself. */
static void test_threads_no_service(void)
{
	run(false);
}

/* ------------------------------------------------------------------ */
/* The port's own checks: what it would report, it reports */

static int bad_done;

/* An interrupt handler that does what none may: log, and read a register it need not. */
static void bad_handler(void *arg)
{
	const struct vio_port *p = sim_thread_port();

	p->log(p->ctx, VIO_LOG_DEBUG, "a line from an interrupt handler");
	(void)vio_read32(da->base + VIRTIO_MMIO_STATUS);
	__atomic_store_n(&bad_done, 1, __ATOMIC_RELEASE);
}

static void test_port_checks(void)
{
	const struct vio_port *p = sim_thread_port();
	const struct vio_os *os = sim_thread_os();
	uint64_t start;
	uintptr_t s;
	void *ev;

	test_allow_sim_errors();
	sim_verbose = false;
	da = sim_dev_new(0, 2, VIRTIO_ID_BLOCK);
	sim_thread_start();
	__atomic_store_n(&bad_done, 0, __ATOMIC_RELAXED);
	CHECK_EQ(p->irq_attach(p->ctx, da->irq, bad_handler, NULL), 0);
	sim_thread_lock();
	sim_raise(da, VIRTIO_MMIO_INT_CONFIG);
	sim_thread_unlock();
	start = p->time_ns(p->ctx);
	while (!__atomic_load_n(&bad_done, __ATOMIC_ACQUIRE) && p->time_ns(p->ctx) - start < 5 * SEC)
		sched_yield();
	CHECK(__atomic_load_n(&bad_done, __ATOMIC_ACQUIRE));
	CHECK_EQ(sim_take_errors(), 2);

	/* Waiting or logging with the interrupt lock held. */
	CHECK_EQ(os->event_create(os->ctx, &ev), 0);
	s = os->lock(os->ctx);
	CHECK_EQ(os->event_wait(os->ctx, ev, 1000), VIO_ETIMEDOUT);
	p->log(p->ctx, VIO_LOG_DEBUG, "a line with the lock held");
	os->unlock(os->ctx, s);
	CHECK_EQ(sim_take_errors(), 2);
	/* A signal before the wait is kept; a timeout runs on the real clock. */
	os->event_signal(os->ctx, ev);
	CHECK_EQ(os->event_wait(os->ctx, ev, 0), 0);
	start = p->time_ns(p->ctx);
	CHECK_EQ(os->event_wait(os->ctx, ev, 20000000), VIO_ETIMEDOUT);
	CHECK(p->time_ns(p->ctx) - start >= 20000000);
	sim_thread_stop();
	/* Counted once the handler returned: the device thread is joined now. */
	CHECK_EQ(sim_thread_irqs(), 1);
	sim_verbose = true;
}

int main(void)
{
	RUN(test_port_checks);
	RUN(test_threads_service);
	RUN(test_threads_no_service);
	return test_report();
}
