/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The split virtqueue's notification suppression (VirtIO 1.2 section
 * 2.7.10) on a platform without DMA coherency (tests/sim/sim_cache.h):
 * what the driver writes to say when it wants interrupts (the avail ring's
 * flags, or its used_event) must reach the device's view before the device
 * next completes a chain, not only at the next kick.
 *
 * Each case has a chain completed by the device at a moment the driver
 * chooses, after it changed its mind about interrupts and without a kick in
 * between: the interrupts the device raises must follow the driver's wish.
 * The rings use the legacy layout (used ring on its own page), so only the
 * suppression fields are in question here.
 */
#include <string.h>

#include <vio/device.h>
#include <vio/spec/virtio_config.h>
#include <vio/spec/virtio_ring.h>
#include <vio/error.h>
#include <vio/virtqueue.h>

#include "sim.h"
#include "sim_cache.h"
#include "sim_port.h"
#include "test.h"

/* The device completes at most budget chains (-1: all), writing nothing. */
static int budget;

static int budget_handle(struct sim_dev *d, unsigned q, const struct sim_chain *c)
{
	(void)d;
	(void)q;
	(void)c;
	if (budget == 0)
		return SIM_HOLD;
	if (budget > 0)
		budget--;
	return 0;
}

static const struct sim_model budget_model = { .name = "budget", .handle = budget_handle };

static struct {
	struct sim_dev *d;
	struct vio_vq *vq;
	unsigned notifies;
} fx;

static _Alignas(SIM_CACHE_LINE) uint8_t data[4 * SIM_CACHE_LINE];

static void fx_notify(void *ctx, unsigned index)
{
	(void)ctx;
	(void)index;
	fx.notifies++;
}

static bool fx_setup(bool event_idx)
{
	struct vio_vq_config cfg = {
		.index = 0,
		.max_size = 8,
		.used_align = 4096,
		.legacy = false,
		.event_idx = event_idx,
		.notify = fx_notify,
		.ctx = &fx,
	};
	const struct vio_port *port = sim_port_noncoherent();
	int rc;

	CHECK_EQ(vio_init(port, NULL), 0); /* for the log */
	memset(&fx, 0, sizeof(fx));
	budget = -1;
	fx.d = sim_dev_new(0, 2, VIRTIO_ID_CONSOLE);
	fx.d->model = &budget_model;
	if (event_idx)
		fx.d->driver_features |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	rc = vio_vq_create(port, &cfg, &fx.vq);
	CHECK_EQ(rc, 0);
	if (rc)
		return false;
	{
		struct vio_queue_addrs a;

		vio_vq_addrs(fx.vq, &a);
		sim_queue_attach(fx.d, 0, vio_vq_size(fx.vq), (void *)(uintptr_t)a.desc,
				 (void *)(uintptr_t)a.avail, (void *)(uintptr_t)a.used);
	}
	return true;
}

static void fx_teardown(void)
{
	vio_vq_destroy(fx.vq);
	sim_dev_del(fx.d);
}

/* Queue and publish chain i: one device-readable line of data. */
static void put(unsigned i)
{
	struct vio_sg sg = { data + i * SIM_CACHE_LINE, SIM_CACHE_LINE };

	CHECK_EQ(vio_vq_enqueue(fx.vq, &sg, 1, 0, data + i * SIM_CACHE_LINE), 0);
}

static void take(unsigned i)
{
	void *cookie = NULL;
	uint32_t len = 1;

	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), 0);
	CHECK(cookie == data + i * SIM_CACHE_LINE);
	CHECK_EQ(len, 0);
}

/* Interrupts turned off while a chain is with the device: it must not interrupt. */
static void disable_while_busy(bool event_idx)
{
	if (!fx_setup(event_idx))
		return;
	budget = 0;
	put(0);
	vio_vq_kick(fx.vq);
	CHECK_EQ(sim_step(fx.d), 0);
	vio_vq_disable_irq(fx.vq);
	budget = -1;
	CHECK_EQ(sim_step(fx.d), 1);
	CHECK_EQ(fx.d->q[0].irqs, 0);
	CHECK_EQ(fx.d->q[0].irqs_suppressed, 1);
	take(0);
	fx_teardown();
}

static void test_disable_flags(void)
{
	disable_while_busy(false);
}

static void test_disable_event_idx(void)
{
	disable_while_busy(true);
}

/* Interrupts turned back on while a chain is with the device: it must interrupt. */
static void enable_while_busy(bool event_idx)
{
	if (!fx_setup(event_idx))
		return;
	vio_vq_disable_irq(fx.vq);
	budget = 0;
	put(0);
	vio_vq_kick(fx.vq);
	CHECK_EQ(sim_step(fx.d), 0);
	CHECK(!vio_vq_enable_irq(fx.vq));
	budget = -1;
	CHECK_EQ(sim_step(fx.d), 1);
	CHECK_EQ(fx.d->q[0].irqs, 1);
	CHECK_EQ(fx.d->q[0].irqs_suppressed, 0);
	take(0);
	fx_teardown();
}

static void test_enable_flags(void)
{
	enable_while_busy(false);
}

static void test_enable_event_idx(void)
{
	enable_while_busy(true);
}

/*
 * Two chains out, completed one at a time: draining the queue after the
 * first (dequeue until VIO_EAGAIN) moves used_event on (2.7.10), cleaned,
 * so the second must interrupt too.
 */
static void test_dequeue_moves_used_event(void)
{
	if (!fx_setup(true))
		return;
	budget = 0;
	put(0);
	put(1);
	vio_vq_kick(fx.vq);
	CHECK_EQ(sim_step(fx.d), 0);
	budget = 1;
	CHECK_EQ(sim_step(fx.d), 1);
	CHECK_EQ(fx.d->q[0].irqs, 1);
	take(0);
	{
		void *cookie;
		uint32_t len;

		CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), VIO_EAGAIN);
	}
	budget = 1;
	CHECK_EQ(sim_step(fx.d), 1);
	CHECK_EQ(fx.d->q[0].irqs, 2);
	CHECK_EQ(fx.d->q[0].irqs_suppressed, 0);
	take(1);
	fx_teardown();
}

/* vio_vq_enqueue_bufs here: its descriptors reach the device's view like vio_vq_enqueue's. */
static void test_enqueue_bufs(void)
{
	struct vio_sg sg[2] = { { data, SIM_CACHE_LINE }, { data + SIM_CACHE_LINE, SIM_CACHE_LINE } };
	void *cookies[2] = { data, data + SIM_CACHE_LINE };

	if (!fx_setup(false))
		return;
	CHECK_EQ(vio_vq_enqueue_bufs(fx.vq, sg, cookies, 2, false), 2);
	vio_vq_kick(fx.vq);
	CHECK_EQ(sim_step(fx.d), 2);
	take(0);
	take(1);
	fx_teardown();
}

int main(void)
{
	RUN(test_disable_flags);
	RUN(test_disable_event_idx);
	RUN(test_enable_flags);
	RUN(test_enable_event_idx);
	RUN(test_dequeue_moves_used_event);
	RUN(test_enqueue_bufs);
	return test_report();
}
