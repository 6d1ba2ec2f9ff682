/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Packed virtqueues (VirtIO 1.2 section 2.8) against the device side of the
 * simulator: chains direct and indirect, sizes that are not powers of two,
 * many laps of the ring with chains completed out of order, nothing shown
 * to the device before the kick, prepared chains, notification and
 * interrupt suppression, and a device that writes garbage.
 */
#include <string.h>

#include <vio/device.h>
#include <vio/error.h>
#include <vio/spec/virtio_config.h>
#include <vio/spec/virtio_ring.h>
#include <vio/virtqueue.h>

#include "sim.h"
#include "sim_cache.h"
#include "sim_port.h"
#include "test.h"

#define F(bit) (1ull << (bit))

/* The device model: fills the writable part, holds chains when told to. */
static struct {
	unsigned chains;
	unsigned nout, nin;
	uint32_t out_len, in_len;
	bool hold_odd;  /* hold chains whose first readable byte is odd */
	bool release;   /* serve held chains now */
	unsigned recycle; /* while fewer chains were served: play the driver (recycle_step) */
} ms;

static void recycle_step(void);

static int model_handle(struct sim_dev *d, unsigned q, const struct sim_chain *c)
{
	uint32_t done = 0;

	(void)d;
	(void)q;
	if (ms.hold_odd && !ms.release && c->nout && (*(const uint8_t *)c->out[0].buf & 1))
		return SIM_HOLD;
	if (ms.chains < ms.recycle)
		recycle_step();
	ms.chains++;
	ms.nout = c->nout;
	ms.nin = c->nin;
	ms.out_len = c->out_len;
	ms.in_len = c->in_len;
	for (unsigned i = 0; i < c->nin; i++) {
		memset(c->in[i].buf, 0xa0 + (int)i, c->in[i].len);
		done += c->in[i].len;
	}
	return (int)done;
}

static const struct sim_model model = { .name = "packed", .handle = model_handle };

static struct {
	struct sim_dev *d;
	struct vio_vq *vq;
	struct vio_queue_addrs addrs;
	struct pvirtq_desc *ring;
	unsigned notifies;
	unsigned fails;
} fx;

static void fx_notify(void *ctx, unsigned index)
{
	(void)ctx;
	(void)index;
	fx.notifies++;
}

static void fx_fail(void *ctx)
{
	(void)ctx;
	fx.fails++;
}

#define FX_EVENT_IDX 1u

static int fx_setup(uint32_t size, unsigned flags, uint16_t indirect_max)
{
	struct vio_vq_config cfg = {
		.max_size = size,
		.used_align = 4,
		.event_idx = (flags & FX_EVENT_IDX) != 0,
		.packed = true,
		.indirect_max = indirect_max,
		.notify = fx_notify,
		.fail = fx_fail,
		.ctx = &fx,
	};
	int rc;

	CHECK_EQ(vio_init(sim_port(), NULL), 0);
	memset(&fx, 0, sizeof(fx));
	memset(&ms, 0, sizeof(ms));
	fx.d = sim_dev_new(0, 2, VIRTIO_ID_CONSOLE);
	fx.d->model = &model;
	fx.d->driver_features = F(VIRTIO_F_VERSION_1) | F(VIRTIO_F_RING_PACKED);
	if (flags & FX_EVENT_IDX)
		fx.d->driver_features |= F(VIRTIO_RING_F_EVENT_IDX);
	if (indirect_max)
		fx.d->driver_features |= F(VIRTIO_RING_F_INDIRECT_DESC);
	rc = vio_vq_create(sim_port(), &cfg, &fx.vq);
	CHECK_EQ(rc, 0);
	if (rc)
		return rc;
	vio_vq_addrs(fx.vq, &fx.addrs);
	fx.ring = (void *)(uintptr_t)fx.addrs.desc;
	/* 2.8.10.1 */
	CHECK_EQ(fx.addrs.desc % 16, 0);
	CHECK_EQ(fx.addrs.avail % 4, 0);
	CHECK_EQ(fx.addrs.used % 4, 0);
	sim_queue_attach_packed(fx.d, 0, vio_vq_size(fx.vq), fx.ring,
				(void *)(uintptr_t)fx.addrs.avail, (void *)(uintptr_t)fx.addrs.used);
	return 0;
}

static void fx_teardown(void)
{
	vio_vq_destroy(fx.vq);
	CHECK_EQ(sim_dma_live(), 0);
	sim_dev_del(fx.d);
}

static uint8_t bufs[64][64];

static int put(unsigned nout, unsigned nin, unsigned tag, void *cookie)
{
	struct vio_sg sg[8];

	for (unsigned i = 0; i < nout + nin; i++) {
		sg[i].buf = bufs[(tag * 3 + i) % 64];
		sg[i].len = 16 + i;
	}
	if (nout)
		bufs[tag * 3 % 64][0] = (uint8_t)tag;
	return vio_vq_enqueue(fx.vq, sg, nout, nin, cookie);
}

/*
 * 2.6.1 with the packed ring: after the queue reset and every buffer
 * detached, vio_vq_reinit starts the ring at position 0 with both wrap
 * counters 1, zeroed (no old descriptor reads as available), and the
 * queue works as new, wrapping many times. Refused while a buffer is in
 * flight.
 */
static void reinit(unsigned flags)
{
	unsigned errors = 0, detached = 0;
	void *cookie;
	uint32_t len;

	if (fx_setup(4, flags, 0))
		return;
	for (unsigned r = 0; r < 5; r++) {
		for (unsigned i = 0; i < 3; i++)
			errors += put(0, 1, i, (void *)(uintptr_t)(i + 1)) != 0;
		vio_vq_kick(fx.vq);
		sim_step(fx.d);
		for (unsigned i = 0; i < 3; i++)
			errors += vio_vq_dequeue(fx.vq, &cookie, &len) != 0;
	}
	CHECK_EQ(put(0, 1, 0, (void *)1), 0);
	vio_vq_kick(fx.vq);
	sim_step(fx.d);
	CHECK_EQ(put(0, 1, 1, (void *)2), 0);
	CHECK_EQ(vio_vq_reinit(fx.vq), VIO_EBUSY);
	while ((cookie = vio_vq_detach_unused(fx.vq)) != NULL)
		detached++;
	CHECK_EQ(detached, 2);
	CHECK_EQ(vio_vq_reinit(fx.vq), 0);
	for (unsigned i = 0; i < vio_vq_size(fx.vq); i++)
		errors += fx.ring[i].flags != 0;
	CHECK_EQ(vio_vq_num_free(fx.vq), 4);
	CHECK(!vio_vq_has_used(fx.vq));
	sim_queue_attach_packed(fx.d, 0, vio_vq_size(fx.vq), fx.ring,
				(void *)(uintptr_t)fx.addrs.avail, (void *)(uintptr_t)fx.addrs.used);
	for (unsigned r = 0; r < 20000; r++) {
		for (unsigned i = 0; i < 3; i++)
			errors += put(0, 1, i, (void *)(uintptr_t)(i + 1)) != 0;
		vio_vq_kick(fx.vq);
		sim_step(fx.d);
		for (unsigned i = 0; i < 3; i++) {
			errors += vio_vq_dequeue(fx.vq, &cookie, &len) != 0;
			errors += cookie != (void *)(uintptr_t)(i + 1) || len != 16;
		}
	}
	CHECK_EQ(errors, 0);
	CHECK_EQ(fx.fails, 0);
	fx_teardown();
}

static void test_reinit(void)
{
	reinit(0);
}

static void test_reinit_event_idx(void)
{
	reinit(FX_EVENT_IDX);
}

static void test_basic(void)
{
	void *cookie = NULL;
	uint32_t len = 0;

	if (fx_setup(8, 0, 0))
		return;
	CHECK_EQ(vio_vq_size(fx.vq), 8);
	CHECK_EQ(put(1, 2, 0, (void *)1), 0);
	CHECK_EQ(vio_vq_num_free(fx.vq), 5);
	/* 2.8.21.1: nothing is the device's before the kick */
	sim_step(fx.d);
	CHECK_EQ(ms.chains, 0);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), VIO_EAGAIN);
	CHECK(vio_vq_kick(fx.vq));
	CHECK_EQ(fx.notifies, 1);
	sim_step(fx.d);
	CHECK_EQ(ms.chains, 1);
	CHECK_EQ(ms.nout, 1);
	CHECK_EQ(ms.nin, 2);
	CHECK_EQ(ms.out_len, 16);
	CHECK_EQ(ms.in_len, 17 + 18);
	CHECK(vio_vq_has_used(fx.vq));
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), 0);
	CHECK(cookie == (void *)1);
	CHECK_EQ(len, 35);
	CHECK_EQ(vio_vq_num_free(fx.vq), 8);
	CHECK_EQ(vio_vq_in_flight(fx.vq), 0);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), VIO_EAGAIN);
	CHECK_EQ(fx.fails, 0);
	fx_teardown();
}

/*
 * Many laps of a ring whose size is no power of two, chains of one to four
 * descriptors crossing the end of the ring, half of them held by the
 * device and completed after later ones: every cookie comes back once,
 * with its length, and the free count ends where it started.
 */
static void run_laps(unsigned size, uint16_t indirect_max, unsigned flags)
{
	unsigned next = 0, back = 0, seen[400];
	uint32_t want_len[400];

	if (fx_setup(size, flags, indirect_max))
		return;
	memset(seen, 0, sizeof(seen));
	ms.hold_odd = true;
	while (back < 400) {
		void *cookie;
		uint32_t len;
		int rc;

		/* Fill what fits, kick, let the device run. */
		while (next < 400) {
			unsigned n = 1 + next % 4, nout = n / 2, nin = n - nout;

			want_len[next] = 0;
			for (unsigned i = nout; i < n; i++)
				want_len[next] += 16 + i;
			rc = put(nout, nin, next, (void *)(uintptr_t)(next + 1));
			if (rc == VIO_ENOSPC)
				break;
			CHECK_EQ(rc, 0);
			if (rc)
				goto out;
			next++;
		}
		vio_vq_kick(fx.vq);
		ms.release = vio_vq_num_free(fx.vq) < 4 || next == 400;
		sim_step(fx.d);
		ms.release = false;
		while ((rc = vio_vq_dequeue(fx.vq, &cookie, &len)) == 0) {
			unsigned k = (unsigned)(uintptr_t)cookie - 1;

			CHECK(k < next);
			if (k >= next)
				goto out;
			CHECK_EQ(seen[k], 0);
			CHECK_EQ(len, want_len[k]);
			seen[k]++;
			back++;
		}
		CHECK_EQ(rc, VIO_EAGAIN);
		if (rc != VIO_EAGAIN)
			goto out;
	}
	CHECK_EQ(vio_vq_num_free(fx.vq), size);
	CHECK_EQ(vio_vq_in_flight(fx.vq), 0);
	CHECK_EQ(fx.fails, 0);
out:
	fx_teardown();
}

static void test_laps_direct(void)
{
	run_laps(7, 0, 0);
}

static void test_laps_indirect(void)
{
	run_laps(5, 4, FX_EVENT_IDX);
}

static void test_laps_event_idx(void)
{
	run_laps(13, 0, FX_EVENT_IDX);
}

static void test_full(void)
{
	if (fx_setup(4, 0, 0))
		return;
	CHECK_EQ(put(0, 3, 0, (void *)1), 0);
	CHECK_EQ(put(0, 2, 1, (void *)2), VIO_ENOSPC);
	CHECK_EQ(put(0, 1, 2, (void *)3), 0);
	CHECK_EQ(put(0, 1, 3, (void *)4), VIO_ENOSPC);
	CHECK_EQ(vio_vq_num_free(fx.vq), 0);
	vio_vq_kick(fx.vq);
	sim_step(fx.d);
	for (unsigned i = 0; i < 2; i++) {
		void *c;

		CHECK_EQ(vio_vq_dequeue(fx.vq, &c, NULL), 0);
	}
	CHECK_EQ(vio_vq_num_free(fx.vq), 4);
	fx_teardown();
}

/* vio_vq_enqueue_bufs on a packed ring: as many as fit, in order, each checked on completion. */
static void test_enqueue_bufs(void)
{
	struct vio_sg sg[6];
	void *cookies[6];

	if (fx_setup(4, 0, 0))
		return;
	for (unsigned i = 0; i < 6; i++) {
		sg[i].buf = bufs[i];
		sg[i].len = 16;
		cookies[i] = (void *)(uintptr_t)(i + 1);
	}
	CHECK_EQ(vio_vq_enqueue_bufs(fx.vq, sg, cookies, 6, true), 4);
	CHECK_EQ(vio_vq_num_free(fx.vq), 0);
	CHECK_EQ(vio_vq_enqueue_bufs(fx.vq, sg, cookies, 1, true), 0);
	vio_vq_kick(fx.vq);
	sim_step(fx.d);
	CHECK_EQ(ms.chains, 4);
	CHECK_EQ(ms.nin, 1);
	for (unsigned i = 0; i < 4; i++) {
		void *c = NULL;
		uint32_t len = 0;

		CHECK_EQ(vio_vq_dequeue(fx.vq, &c, &len), 0);
		CHECK(c == cookies[i]);
		CHECK_EQ(len, 16);
	}
	cookies[0] = NULL;
	CHECK_EQ(vio_vq_enqueue_bufs(fx.vq, sg, cookies, 2, true), VIO_EINVAL);
	CHECK_EQ(vio_vq_num_free(fx.vq), 4);
	CHECK_EQ(fx.fails, 0);
	fx_teardown();
}

/* 2.8.10: the device's event structure decides whether a kick notifies. */
static void test_notify_suppression(void)
{
	void *c;

	if (fx_setup(8, FX_EVENT_IDX, 0))
		return;
	/* The device asks for the next position it will read: position 0. */
	CHECK_EQ(put(0, 1, 0, (void *)1), 0);
	CHECK(vio_vq_kick(fx.vq));
	sim_step(fx.d); /* consumes it; now asks for position 1 */
	CHECK_EQ(vio_vq_dequeue(fx.vq, &c, NULL), 0);
	CHECK_EQ(put(0, 1, 1, (void *)2), 0);
	CHECK(vio_vq_kick(fx.vq));
	/* Not run since: the event still names position 1, already exposed. */
	CHECK_EQ(put(0, 1, 2, (void *)3), 0);
	CHECK(!vio_vq_kick(fx.vq));
	CHECK_EQ(fx.notifies, 2);
	sim_step(fx.d);
	/* A device that wants no notifications at all. */
	fx.d->used_flags = VIRTQ_USED_F_NO_NOTIFY;
	sim_step(fx.d);
	CHECK_EQ(put(0, 1, 3, (void *)4), 0);
	CHECK(!vio_vq_kick(fx.vq));
	CHECK_EQ(fx.notifies, 2);
	/* A kick with nothing new notifies nobody. */
	CHECK(!vio_vq_kick(fx.vq));
	fx_teardown();
}

static void irq_case(unsigned flags)
{
	struct sim_queue *q;
	void *c;

	if (fx_setup(8, flags, 0))
		return;
	q = &fx.d->q[0];
	vio_vq_disable_irq(fx.vq);
	CHECK_EQ(put(0, 1, 0, (void *)1), 0);
	vio_vq_kick(fx.vq);
	sim_step(fx.d);
	CHECK_EQ(q->irqs, 0);
	CHECK_EQ(q->irqs_suppressed, 1);
	/* Completions that came while interrupts were off are reported. */
	CHECK(vio_vq_enable_irq(fx.vq));
	CHECK_EQ(vio_vq_dequeue(fx.vq, &c, NULL), 0);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &c, NULL), VIO_EAGAIN);
	CHECK(!vio_vq_enable_irq(fx.vq));
	CHECK_EQ(put(0, 1, 1, (void *)2), 0);
	vio_vq_kick(fx.vq);
	sim_step(fx.d);
	CHECK_EQ(q->irqs, 1);
	/* With the event index, each empty dequeue asks for the next one. */
	CHECK_EQ(vio_vq_dequeue(fx.vq, &c, NULL), 0);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &c, NULL), VIO_EAGAIN);
	CHECK_EQ(put(0, 1, 2, (void *)3), 0);
	vio_vq_kick(fx.vq);
	sim_step(fx.d);
	CHECK_EQ(q->irqs, 2);
	fx_teardown();
}

static void test_irq(void)
{
	irq_case(0);
}

static void test_irq_event_idx(void)
{
	irq_case(FX_EVENT_IDX);
}

/* Prepared chains: the ring room is set aside, the id kept, across laps. */
static void chain_case(uint16_t indirect_max)
{
	struct vio_vq_chain ch;
	uint8_t hdr[16], data[64], status;
	void *c;
	uint32_t len;

	if (fx_setup(5, 0, indirect_max))
		return;
	memset(&ch, 0, sizeof(ch));
	CHECK_EQ(vio_vq_chain_cost(fx.vq, 3), indirect_max ? 1u : 3u);
	CHECK_EQ(vio_vq_chain_reserve(fx.vq, 3, &ch), 0);
	CHECK_EQ(vio_vq_num_free(fx.vq), indirect_max ? 4u : 2u);
	CHECK_EQ(vio_vq_chain_set(fx.vq, &ch, 0, hdr, sizeof(hdr), false), 0);
	CHECK_EQ(vio_vq_chain_set(fx.vq, &ch, 2, &status, 1, true), 0);
	for (unsigned i = 0; i < 12; i++) {
		CHECK_EQ(vio_vq_chain_set(fx.vq, &ch, 1, data, 8 + i, true), 0);
		CHECK_EQ(vio_vq_chain_submit(fx.vq, &ch, &ch), 0);
		CHECK_EQ(vio_vq_chain_submit(fx.vq, &ch, &ch), VIO_EBUSY);
		/* A one-descriptor chain beside it, so the positions move. */
		CHECK_EQ(put(0, 1, i, (void *)1), 0);
		vio_vq_kick(fx.vq);
		sim_step(fx.d);
		CHECK_EQ(ms.chains, 2 * (i + 1));
		CHECK_EQ(vio_vq_dequeue(fx.vq, &c, &len), 0);
		CHECK(c == &ch);
		CHECK_EQ(len, 8 + i + 1);
		CHECK_EQ(vio_vq_dequeue(fx.vq, &c, &len), 0);
		CHECK(c == (void *)1);
	}
	/* The set and the submit in one call; both completions in one batch. */
	CHECK_EQ(vio_vq_chain_submit_seg(fx.vq, &ch, 3, data, 8, true, &ch), VIO_EINVAL);
	CHECK_EQ(vio_vq_chain_submit_seg(fx.vq, &ch, 2, &status, 1, false, &ch), VIO_EINVAL);
	for (unsigned i = 0; i < 12; i++) {
		struct vio_vq_used u[4];

		CHECK_EQ(vio_vq_chain_submit_seg(fx.vq, &ch, 1, data, 16 + i, true, &ch), 0);
		CHECK_EQ(vio_vq_chain_submit_seg(fx.vq, &ch, 1, data, 8, true, &ch), VIO_EBUSY);
		CHECK_EQ(put(0, 1, i, (void *)1), 0);
		vio_vq_kick(fx.vq);
		sim_step(fx.d);
		CHECK_EQ(vio_vq_dequeue_batch(fx.vq, u, 4), 2);
		CHECK(u[0].cookie == &ch);
		CHECK_EQ(u[0].len, 16 + i + 1);
		CHECK(u[1].cookie == (void *)1);
		CHECK_EQ(vio_vq_dequeue_batch(fx.vq, u, 4), 0);
	}
	CHECK_EQ(vio_vq_num_free(fx.vq), indirect_max ? 4u : 2u);
	vio_vq_chain_release(fx.vq, &ch);
	CHECK_EQ(vio_vq_num_free(fx.vq), 5);
	CHECK_EQ(fx.fails, 0);
	fx_teardown();
}

/*
 * The driver, on another thread in a real system, while the device works:
 * take back what is used (an empty dequeue asks for an interrupt at the
 * next position, 2.8.10) and post as many buffers again. Run from inside
 * a device step (model_handle), so one step goes round the ring more than
 * once.
 */
static void recycle_step(void)
{
	void *c;

	while (vio_vq_dequeue(fx.vq, &c, NULL) == 0) {
		CHECK_EQ(put(0, 1, 1, c), 0);
		vio_vq_kick(fx.vq);
	}
}

/*
 * 2.8.10 with the event index: the driver asks for an interrupt at a
 * position the device then passes within the same step, after the step
 * went round the ring (4 positions) more than once. The device must count
 * what it used, not compare positions and wrap counters: 11 used here
 * end 3 positions on, with the wrap counter it started with.
 */
static void test_irq_event_idx_laps(void)
{
	struct sim_queue *q;
	unsigned got = 0;
	void *c;

	if (fx_setup(4, FX_EVENT_IDX, 0))
		return;
	q = &fx.d->q[0];
	for (unsigned i = 0; i < 4; i++)
		CHECK_EQ(put(0, 1, i, (void *)(uintptr_t)(i + 1)), 0);
	ms.recycle = 8;
	vio_vq_kick(fx.vq);
	sim_step(fx.d);
	ms.recycle = 0;
	CHECK_EQ(ms.chains, 11);
	/* The driver's last look armed position 3 of the second lap; 7 .. 10 are used. */
	CHECK(vio_vq_has_used(fx.vq));
	CHECK_EQ(q->irqs, 1);
	CHECK_EQ(q->irqs_suppressed, 0);
	while (vio_vq_dequeue(fx.vq, &c, NULL) == 0)
		got++;
	CHECK_EQ(got, 4);
	CHECK_EQ(fx.fails, 0);
	fx_teardown();
}

static void test_chain_direct(void)
{
	chain_case(0);
}

static void test_chain_indirect(void)
{
	chain_case(4);
}

static void test_detach_unused(void)
{
	unsigned got = 0;

	if (fx_setup(6, 0, 0))
		return;
	CHECK_EQ(put(1, 1, 0, (void *)1), 0);
	CHECK_EQ(put(0, 1, 1, (void *)2), 0);
	vio_vq_kick(fx.vq);
	CHECK_EQ(put(0, 1, 2, (void *)3), 0); /* never kicked */
	while (vio_vq_detach_unused(fx.vq))
		got++;
	CHECK_EQ(got, 3);
	CHECK_EQ(vio_vq_num_free(fx.vq), 6);
	CHECK_EQ(vio_vq_in_flight(fx.vq), 0);
	fx_teardown();
}

/* A used descriptor the device should never have written: the queue stops. */
static void evil_case(enum sim_evil evil, unsigned before)
{
	void *c;
	uint32_t len;

	if (fx_setup(8, 0, 0))
		return;
	test_allow_sim_errors();
	for (unsigned i = 0; i < before; i++) {
		CHECK_EQ(put(0, 1, i, (void *)(uintptr_t)(i + 1)), 0);
		vio_vq_kick(fx.vq);
		sim_step(fx.d);
		CHECK_EQ(vio_vq_dequeue(fx.vq, &c, &len), 0);
	}
	fx.d->evil = evil;
	CHECK_EQ(put(0, 1, 7, (void *)9), 0);
	vio_vq_kick(fx.vq);
	sim_step(fx.d);
	/* The chain's own used descriptor, then one for nothing in flight. */
	if (evil == SIM_EVIL_EXTRA)
		CHECK_EQ(vio_vq_dequeue(fx.vq, &c, &len), 0);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &c, &len), VIO_EPROTO);
	CHECK_EQ(fx.fails, 1);
	CHECK(vio_vq_is_broken(fx.vq));
	CHECK_EQ(vio_vq_dequeue(fx.vq, &c, &len), VIO_ESHUTDOWN);
	CHECK_EQ(put(0, 1, 9, (void *)11), VIO_ESHUTDOWN);
	fx_teardown();
}

static void test_evil_id_range(void)
{
	evil_case(SIM_EVIL_ID_RANGE, 0);
}

static void test_evil_id_twice(void)
{
	evil_case(SIM_EVIL_ID_TWICE, 2);
}

static void test_evil_id_free(void)
{
	evil_case(SIM_EVIL_ID_FREE, 1);
}

static void test_evil_len(void)
{
	evil_case(SIM_EVIL_LEN, 3);
}

static void test_evil_extra(void)
{
	evil_case(SIM_EVIL_EXTRA, 1);
}

/* A used descriptor for a chain queued but never kicked. */
static void test_evil_unexposed(void)
{
	void *c;

	if (fx_setup(8, 0, 0))
		return;
	CHECK_EQ(put(0, 1, 0, (void *)1), 0);
	sim_used_push(fx.d, 0, 0, 0, 1);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &c, NULL), VIO_EPROTO);
	CHECK_EQ(fx.fails, 1);
	fx_teardown();
}

/*
 * A hostile device writes a used descriptor over a chain it has not
 * taken (its length field with it), the driver's flags land after it, and
 * the device then takes the chain with the length it wrote itself. The
 * simulated device must refuse the chain, not copy past the driver's
 * buffer: fuzz_net found its model doing that (docs/fuzzing.md). Once
 * with a buffer of the test's own, once with a DMA block.
 */
static void test_device_overwrote_len(void)
{
	const struct vio_port *port = sim_port();

	for (int dma = 0; dma < 2; dma++) {
		struct vio_sg sg;
		uint16_t flags;
		unsigned errors;

		if (fx_setup(8, 0, 0))
			return;
		sg.buf = dma ? port->dma_alloc(NULL, 64, 16) : bufs[63];
		sg.len = 16;
		CHECK(sg.buf != NULL);
		CHECK_EQ(vio_vq_enqueue(fx.vq, &sg, 0, 1, (void *)1), 0);
		flags = fx.ring[0].flags;
		sim_used_push(fx.d, 0, 0, 0x06060606u, 1);
		CHECK_EQ(fx.ring[0].len, 0x06060606u);
		fx.ring[0].flags = flags;
		test_allow_sim_errors();
		errors = sim_errors();
		vio_vq_kick(fx.vq);
		sim_step(fx.d);
		CHECK(sim_errors() > errors);
		CHECK_EQ(ms.chains, 0);
		if (dma)
			port->dma_free(NULL, sg.buf, 64);
		fx_teardown();
	}
}

/*
 * 2.8.1: a descriptor whose AVAIL and USED bits differ is never a
 * completion, even with USED matching the wrap counter.
 */
static void test_half_used_flags(void)
{
	void *c;

	if (fx_setup(8, 0, 0))
		return;
	CHECK_EQ(put(0, 1, 0, (void *)1), 0);
	vio_vq_kick(fx.vq);
	fx.ring[0].flags = PVIRTQ_DESC_F_USED;
	CHECK(!vio_vq_has_used(fx.vq));
	CHECK_EQ(vio_vq_dequeue(fx.vq, &c, NULL), VIO_EAGAIN);
	fx.ring[0].flags = PVIRTQ_DESC_F_AVAIL | PVIRTQ_DESC_F_USED;
	fx.ring[0].id = 0;
	fx.ring[0].len = 0;
	CHECK_EQ(vio_vq_dequeue(fx.vq, &c, NULL), 0);
	CHECK(c == (void *)1);
	CHECK_EQ(fx.fails, 0);
	fx_teardown();
}

/* A non-coherent port gets no packed ring (see virtqueue_packed.c). */
static void test_noncoherent_refused(void)
{
	struct vio_vq_config cfg = { .max_size = 8, .packed = true, .notify = fx_notify };
	struct vio_vq *vq = NULL;

	CHECK_EQ(vio_vq_create(sim_port_noncoherent(), &cfg, &vq), VIO_ENOTSUP);
	CHECK(vq == NULL);
}

int main(void)
{
	test_run("basic", test_basic);
	test_run("laps_direct", test_laps_direct);
	test_run("laps_indirect", test_laps_indirect);
	test_run("laps_event_idx", test_laps_event_idx);
	test_run("full", test_full);
	test_run("enqueue_bufs", test_enqueue_bufs);
	test_run("notify_suppression", test_notify_suppression);
	test_run("irq", test_irq);
	test_run("irq_event_idx", test_irq_event_idx);
	test_run("irq_event_idx_laps", test_irq_event_idx_laps);
	test_run("chain_direct", test_chain_direct);
	test_run("chain_indirect", test_chain_indirect);
	test_run("detach_unused", test_detach_unused);
	test_run("reinit", test_reinit);
	test_run("reinit_event_idx", test_reinit_event_idx);
	test_run("evil_id_range", test_evil_id_range);
	test_run("evil_id_twice", test_evil_id_twice);
	test_run("evil_id_free", test_evil_id_free);
	test_run("evil_len", test_evil_len);
	test_run("evil_extra", test_evil_extra);
	test_run("evil_unexposed", test_evil_unexposed);
	test_run("device_overwrote_len", test_device_overwrote_len);
	test_run("half_used_flags", test_half_used_flags);
	test_run("noncoherent_refused", test_noncoherent_refused);
	return test_report();
}
