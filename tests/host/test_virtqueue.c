/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Split virtqueues (VirtIO 1.2 section 2.7) against the device side of the
 * simulator: enqueue, kick, dequeue, chains, indirect tables, a full ring,
 * index wraparound, notification and interrupt suppression, and a device
 * that writes garbage into the used ring.
 */
#include <string.h>

#include <vio/device.h>
#include <vio/error.h>
#include <vio/spec/virtio_config.h>
#include <vio/spec/virtio_ring.h>
#include <vio/virtqueue.h>

#include "sim.h"
#include "sim_port.h"
#include "test.h"

#define F(bit) (1ull << (bit))

/* The device model: records each chain and fills its writable part. */
static struct {
	unsigned chains;
	unsigned nout, nin;
	uint32_t out_len, in_len;
	uint8_t out_first[8];
	int fill;  /* bytes to write, -1: all offered */
} ms;

static int echo_handle(struct sim_dev *d, unsigned q, const struct sim_chain *c)
{
	uint32_t budget = ms.fill < 0 || (uint32_t)ms.fill > c->in_len ? c->in_len : (uint32_t)ms.fill;
	uint32_t done = 0;

	ms.chains++;
	ms.nout = c->nout;
	ms.nin = c->nin;
	ms.out_len = c->out_len;
	ms.in_len = c->in_len;
	for (unsigned i = 0; i < c->nout && i < 8; i++)
		ms.out_first[i] = *(const uint8_t *)c->out[i].buf;
	for (unsigned i = 0; i < c->nin && done < budget; i++) {
		uint32_t n = c->in[i].len < budget - done ? c->in[i].len : budget - done;

		for (uint32_t k = 0; k < n; k++)
			((uint8_t *)c->in[i].buf)[k] = (uint8_t)(0xc0 + done + k);
		done += n;
	}
	return (int)done;
}

static const struct sim_model echo_model = { .name = "echo", .handle = echo_handle };

static struct {
	struct sim_dev *d;
	struct vio_vq *vq;
	/* The split ring's parts, as the device sees them (a white-box test). */
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	struct vio_queue_addrs addrs;
	unsigned notifies;
	unsigned bad_notifies; /* wrong context or queue index */
	unsigned fails;
} fx;

static void fx_notify(void *ctx, unsigned index)
{
	if (ctx != &fx || index != 0)
		fx.bad_notifies++;
	fx.notifies++;
}

static void fx_fail(void *ctx)
{
	fx.fails++;
}

#define FX_LEGACY 1u
#define FX_EVENT_IDX 2u

/* A queue of size entries on a simulated device that plays its device side. */
static int fx_setup(uint32_t size, unsigned flags, uint16_t indirect_max)
{
	struct vio_vq_config cfg = {
		.index = 0,
		.max_size = size,
		.used_align = (flags & FX_LEGACY) ? 4096 : 4,
		.legacy = (flags & FX_LEGACY) != 0,
		.event_idx = (flags & FX_EVENT_IDX) != 0,
		.indirect_max = indirect_max,
		.notify = fx_notify,
		.fail = fx_fail,
		.ctx = &fx,
	};
	int rc;

	CHECK_EQ(vio_init(sim_port(), NULL), 0); /* for the log */
	memset(&fx, 0, sizeof(fx));
	memset(&ms, 0, sizeof(ms));
	ms.fill = -1;
	fx.d = sim_dev_new(0, (flags & FX_LEGACY) ? 1 : 2, VIRTIO_ID_CONSOLE);
	fx.d->model = &echo_model;
	if (flags & FX_EVENT_IDX)
		fx.d->driver_features |= F(VIRTIO_RING_F_EVENT_IDX);
	if (indirect_max)
		fx.d->driver_features |= F(VIRTIO_RING_F_INDIRECT_DESC);
	rc = vio_vq_create(sim_port(), &cfg, &fx.vq);
	CHECK_EQ(rc, 0);
	if (rc)
		return rc;
	{
		vio_vq_addrs(fx.vq, &fx.addrs);
		fx.desc = (void *)(uintptr_t)fx.addrs.desc;
		fx.avail = (void *)(uintptr_t)fx.addrs.avail;
		fx.used = (void *)(uintptr_t)fx.addrs.used;
		sim_queue_attach(fx.d, 0, vio_vq_size(fx.vq), fx.desc, fx.avail, fx.used);
	}
	return 0;
}

static void fx_teardown(void)
{
	vio_vq_destroy(fx.vq);
	CHECK_EQ(sim_dma_live(), 0);
	CHECK_EQ(fx.bad_notifies, 0);
	sim_dev_del(fx.d);
}

static int put1(void *buf, uint32_t len, void *cookie)
{
	struct vio_sg sg = { buf, len };

	return vio_vq_enqueue(fx.vq, &sg, 0, 1, cookie);
}

static void test_create_args(void)
{
	struct vio_vq_config cfg = { .max_size = 8, .used_align = 4, .notify = fx_notify, .ctx = &fx };
	struct vio_vq *vq;

	cfg.max_size = 0;
	CHECK_EQ(vio_vq_create(sim_port(), &cfg, &vq), VIO_EINVAL);
	cfg.max_size = 8;
	cfg.used_align = 12;
	CHECK_EQ(vio_vq_create(sim_port(), &cfg, &vq), VIO_EINVAL);
	cfg.used_align = 4;
	cfg.notify = NULL;
	CHECK_EQ(vio_vq_create(sim_port(), &cfg, &vq), VIO_EINVAL);
	cfg.notify = fx_notify;
	CHECK_EQ(sim_dma_live(), 0);

	/* 2.7: a split ring is a power of two, at most 32768: the largest that fits. */
	cfg.max_size = 3;
	CHECK_EQ(vio_vq_create(sim_port(), &cfg, &vq), 0);
	CHECK_EQ(vio_vq_size(vq), 2);
	vio_vq_destroy(vq);
	cfg.max_size = 65536;
	CHECK_EQ(vio_vq_create(sim_port(), &cfg, &vq), 0);
	CHECK_EQ(vio_vq_size(vq), 32768);
	CHECK_EQ(vio_vq_num_free(vq), 32768);
	vio_vq_destroy(vq);
	CHECK_EQ(sim_dma_live(), 0);

	/* Out of memory at each allocation: an error, and nothing left behind. */
	cfg.max_size = 8;
	cfg.indirect_max = 4;
	for (int n = 0; n < 4; n++) {
		sim_dma_fail_after = n;
		CHECK_EQ(vio_vq_create(sim_port(), &cfg, &vq), VIO_ENOMEM);
		CHECK_EQ(sim_dma_live(), 0);
	}
	sim_dma_fail_after = -1;
	CHECK_EQ(vio_vq_create(sim_port(), &cfg, &vq), 0);
	CHECK(sim_dma_live() > 0);
	vio_vq_destroy(vq);
	CHECK_EQ(sim_dma_live(), 0);
}

static void test_layout(void)
{
	uintptr_t desc, avail, used;

	if (fx_setup(256, 0, 0))
		return;
	desc = (uintptr_t)fx.desc;
	avail = (uintptr_t)fx.avail;
	used = (uintptr_t)fx.used;
	/* 2.7: alignment 16 / 2 / 4, and all of it in DMA memory */
	CHECK_EQ(desc % 16, 0);
	CHECK_EQ(avail % 2, 0);
	CHECK_EQ(used % 4, 0);
	CHECK_EQ(fx.addrs.desc, desc);
	CHECK_EQ(fx.addrs.avail, avail);
	CHECK_EQ(fx.addrs.used, used);
	CHECK(sim_dma_owns(fx.desc, 16 * 256));
	CHECK(sim_dma_owns(fx.avail, 6 + 2 * 256));
	CHECK(sim_dma_owns(fx.used, 6 + 8 * 256));
	CHECK_EQ(vio_vq_num_free(fx.vq), 256);
	CHECK_EQ(vio_vq_in_flight(fx.vq), 0);
	fx_teardown();

	/* 2.7.2 (legacy): one block, used ring at the next 4096 boundary. */
	if (fx_setup(128, FX_LEGACY, 0))
		return;
	desc = (uintptr_t)fx.desc;
	avail = (uintptr_t)fx.avail;
	used = (uintptr_t)fx.used;
	CHECK_EQ(desc % 4096, 0);
	CHECK_EQ(avail, desc + 16 * 128);
	CHECK_EQ(used, (avail + 2 * (3 + 128) + 4095) & ~(uintptr_t)4095);
	CHECK(sim_dma_owns(fx.desc, used + 6 + 8 * 128 - desc));
	fx_teardown();
}

static void basic_round(void)
{
	uint8_t buf[32];
	void *cookie = NULL;
	uint32_t len = 0;

	memset(buf, 0, sizeof(buf));
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), VIO_EAGAIN);
	CHECK(!vio_vq_kick(fx.vq)); /* nothing new */
	CHECK_EQ(put1(buf, sizeof(buf), buf), 0);
	CHECK_EQ(vio_vq_num_free(fx.vq), 7);
	CHECK_EQ(vio_vq_in_flight(fx.vq), 1);
	/* Nothing is visible to the device before the kick. */
	CHECK_EQ(sim_step(fx.d), 0);
	CHECK(vio_vq_kick(fx.vq));
	CHECK_EQ(fx.notifies, 1);
	CHECK(!vio_vq_has_used(fx.vq));
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), VIO_EAGAIN);
	CHECK_EQ(sim_step(fx.d), 1);
	CHECK(vio_vq_has_used(fx.vq));
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), 0);
	CHECK(cookie == buf);
	CHECK_EQ(len, 32);
	CHECK_EQ(buf[0], 0xc0);
	CHECK_EQ(buf[31], 0xc0 + 31);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), VIO_EAGAIN);
	CHECK_EQ(vio_vq_num_free(fx.vq), 8);
	CHECK_EQ(vio_vq_in_flight(fx.vq), 0);
	CHECK_EQ(ms.nout, 0);
	CHECK_EQ(ms.nin, 1);
}

static void test_basic(void)
{
	if (fx_setup(8, 0, 0))
		return;
	basic_round();
	CHECK_EQ(fx.fails, 0);
	fx_teardown();
}

static void test_basic_legacy(void)
{
	if (fx_setup(8, FX_LEGACY, 0))
		return;
	basic_round();
	CHECK_EQ(fx.fails, 0);
	fx_teardown();
}

static void test_chain(void)
{
	uint8_t h[4] = { 0x11 }, data[100] = { 0x22 };
	uint8_t r1[10], r2[20], st[1];
	struct vio_sg sg[5] = { { h, 4 }, { data, 100 }, { r1, 10 }, { r2, 20 }, { st, 1 } };
	void *cookie;
	uint32_t len;
	int tag;

	if (fx_setup(8, 0, 0))
		return;
	CHECK_EQ(vio_vq_enqueue(fx.vq, sg, 2, 3, &tag), 0);
	CHECK_EQ(vio_vq_num_free(fx.vq), 3);
	vio_vq_kick(fx.vq);
	CHECK_EQ(sim_step(fx.d), 1);
	CHECK_EQ(ms.nout, 2);
	CHECK_EQ(ms.nin, 3);
	CHECK_EQ(ms.out_len, 104);
	CHECK_EQ(ms.in_len, 31);
	CHECK_EQ(ms.out_first[0], 0x11);
	CHECK_EQ(ms.out_first[1], 0x22);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), 0);
	CHECK(cookie == &tag);
	CHECK_EQ(len, 31);
	CHECK_EQ(r1[9], 0xc0 + 9);
	CHECK_EQ(r2[0], 0xc0 + 10);
	CHECK_EQ(st[0], 0xc0 + 30);
	CHECK_EQ(vio_vq_num_free(fx.vq), 8);

	/* A device may write less than offered. */
	ms.fill = 5;
	CHECK_EQ(vio_vq_enqueue(fx.vq, sg, 2, 3, &tag), 0);
	vio_vq_kick(fx.vq);
	sim_step(fx.d);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), 0);
	CHECK_EQ(len, 5);

	/* Out-only chains complete with 0 bytes. */
	ms.fill = -1;
	CHECK_EQ(vio_vq_enqueue(fx.vq, sg, 2, 0, &tag), 0);
	vio_vq_kick(fx.vq);
	sim_step(fx.d);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), 0);
	CHECK_EQ(len, 0);
	CHECK_EQ(ms.nin, 0);
	fx_teardown();
}

/*
 * vio_vq_enqueue_bufs: one-segment chains in order, each completed and
 * checked as one from vio_vq_enqueue; as many as fit on a full ring; the
 * argument errors queue nothing.
 */
static uint8_t bufs16[10][16];

/* The first n of bufs16 come back in order, each with all its bytes written, or none. */
static void take_bufs16(unsigned n, bool written)
{
	for (unsigned i = 0; i < n; i++) {
		void *cookie = NULL;
		uint32_t len = 1;

		CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), 0);
		CHECK(cookie == bufs16[i]);
		CHECK_EQ(len, written ? 16 - i : 0); /* all offered, or nothing */
	}
}

static void enqueue_bufs(unsigned flags)
{
	uint8_t (*buf)[16] = bufs16;
	struct vio_sg sg[10];
	void *cookies[10];

	if (fx_setup(8, flags, 0))
		return;
	for (unsigned i = 0; i < 10; i++) {
		sg[i].buf = buf[i];
		sg[i].len = 16 - i;
		cookies[i] = buf[i];
	}
	CHECK_EQ(vio_vq_enqueue_bufs(fx.vq, sg, cookies, 3, true), 3);
	CHECK_EQ(vio_vq_num_free(fx.vq), 5);
	CHECK_EQ(vio_vq_in_flight(fx.vq), 3);
	CHECK(vio_vq_kick(fx.vq));
	CHECK_EQ(sim_step(fx.d), 3);
	CHECK_EQ(ms.nin, 1);
	CHECK_EQ(ms.nout, 0);
	take_bufs16(3, true);
	for (unsigned i = 0; i < 3; i++)
		CHECK_EQ(buf[i][0], 0xc0);
	/* A full ring takes what fits, from the first. */
	CHECK_EQ(vio_vq_enqueue_bufs(fx.vq, sg, cookies, 10, true), 8);
	CHECK_EQ(vio_vq_num_free(fx.vq), 0);
	CHECK_EQ(vio_vq_enqueue_bufs(fx.vq, sg + 8, cookies + 8, 2, true), 0);
	vio_vq_kick(fx.vq);
	CHECK_EQ(sim_step(fx.d), 8);
	take_bufs16(8, true);
	/* Device-readable ones complete with no bytes written. */
	CHECK_EQ(vio_vq_enqueue_bufs(fx.vq, sg, cookies, 2, false), 2);
	vio_vq_kick(fx.vq);
	CHECK_EQ(sim_step(fx.d), 2);
	CHECK_EQ(ms.nout, 1);
	CHECK_EQ(ms.nin, 0);
	take_bufs16(2, false);
	/* Bad arguments: nothing queued. */
	cookies[1] = NULL;
	CHECK_EQ(vio_vq_enqueue_bufs(fx.vq, sg, cookies, 3, true), VIO_EINVAL);
	cookies[1] = buf[1];
	sg[2].len = 0;
	CHECK_EQ(vio_vq_enqueue_bufs(fx.vq, sg, cookies, 3, true), VIO_EINVAL);
	sg[2].len = 4;
	sg[0].buf = NULL;
	CHECK_EQ(vio_vq_enqueue_bufs(fx.vq, sg, cookies, 3, true), VIO_EINVAL);
	CHECK_EQ(vio_vq_enqueue_bufs(fx.vq, NULL, cookies, 3, true), VIO_EINVAL);
	CHECK_EQ(vio_vq_num_free(fx.vq), 8);
	CHECK_EQ(vio_vq_in_flight(fx.vq), 0);
	CHECK_EQ(vio_vq_enqueue_bufs(fx.vq, sg + 1, cookies + 1, 0, true), 0);
	vio_vq_break(fx.vq);
	CHECK_EQ(vio_vq_enqueue_bufs(fx.vq, sg + 1, cookies + 1, 2, true), VIO_ESHUTDOWN);
	CHECK_EQ(fx.fails, 0);
	fx_teardown();
}

static void test_enqueue_bufs(void)
{
	enqueue_bufs(0);
}

static void test_enqueue_bufs_legacy(void)
{
	enqueue_bufs(FX_LEGACY);
}

static void test_enqueue_einval(void)
{
	uint8_t b[8];
	struct vio_sg sg[9];
	int tag;

	if (fx_setup(8, 0, 0))
		return;
	for (unsigned i = 0; i < 9; i++) {
		sg[i].buf = b;
		sg[i].len = sizeof(b);
	}
	CHECK_EQ(vio_vq_enqueue(fx.vq, sg, 0, 1, NULL), VIO_EINVAL);
	CHECK_EQ(vio_vq_enqueue(fx.vq, sg, 0, 0, &tag), VIO_EINVAL);
	CHECK_EQ(vio_vq_enqueue(fx.vq, sg, 9, 0, &tag), VIO_EINVAL);
	CHECK_EQ(vio_vq_enqueue(fx.vq, sg, 4, 5, &tag), VIO_EINVAL);
	sg[1].len = 0;
	CHECK_EQ(vio_vq_enqueue(fx.vq, sg, 1, 2, &tag), VIO_EINVAL);
	sg[1].len = 8;
	sg[2].buf = NULL;
	CHECK_EQ(vio_vq_enqueue(fx.vq, sg, 1, 2, &tag), VIO_EINVAL);
	/* Nothing was taken. */
	CHECK_EQ(vio_vq_num_free(fx.vq), 8);
	CHECK_EQ(vio_vq_in_flight(fx.vq), 0);
	CHECK(!vio_vq_kick(fx.vq));
	CHECK_EQ(fx.notifies, 0);
	fx_teardown();
}

static void test_ring_full(void)
{
	uint8_t buf[9][4];
	struct vio_sg sg[3] = { { buf[0], 4 }, { buf[1], 4 }, { buf[2], 4 } };
	void *cookie;
	uint32_t len;

	if (fx_setup(8, 0, 0))
		return;
	for (unsigned i = 0; i < 8; i++)
		CHECK_EQ(put1(buf[i], 4, buf[i]), 0);
	CHECK_EQ(vio_vq_num_free(fx.vq), 0);
	CHECK_EQ(put1(buf[8], 4, buf[8]), VIO_ENOSPC);
	CHECK_EQ(vio_vq_in_flight(fx.vq), 8);
	CHECK(vio_vq_kick(fx.vq));
	CHECK_EQ(sim_step(fx.d), 8);
	/* Completed in order, cookies back one by one. */
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), 0);
	CHECK(cookie == buf[0]);
	CHECK_EQ(put1(buf[8], 4, buf[8]), 0);
	CHECK_EQ(put1(buf[8], 4, buf[8]), VIO_ENOSPC);
	/* A chain of three needs three free descriptors. */
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), 0);
	CHECK(cookie == buf[1]);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), 0);
	CHECK_EQ(vio_vq_num_free(fx.vq), 2);
	CHECK_EQ(vio_vq_enqueue(fx.vq, sg, 1, 2, buf), VIO_ENOSPC);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), 0);
	CHECK_EQ(vio_vq_enqueue(fx.vq, sg, 1, 2, buf), 0);
	CHECK_EQ(vio_vq_num_free(fx.vq), 0);
	vio_vq_kick(fx.vq);
	sim_step(fx.d);
	for (unsigned i = 4; i < 8; i++) {
		CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), 0);
		CHECK(cookie == buf[i]);
	}
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), 0);
	CHECK(cookie == buf[8]);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), 0);
	CHECK(cookie == buf);
	CHECK_EQ(len, 8);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), VIO_EAGAIN);
	CHECK_EQ(vio_vq_num_free(fx.vq), 8);
	CHECK_EQ(fx.fails, 0);
	fx_teardown();
}

static void wraparound(unsigned flags)
{
	static uint8_t bufs[3][16];
	unsigned rounds = 70000, errors = 0;
	void *cookie;
	uint32_t len;

	if (fx_setup(4, flags, 0))
		return;
	/* Three in flight at a time on a ring of four: the free list rotates too. */
	for (unsigned r = 0; r < rounds; r++) {
		for (unsigned i = 0; i < 3; i++)
			errors += put1(bufs[i], 16, bufs[i]) != 0;
		vio_vq_kick(fx.vq);
		errors += sim_step(fx.d) != 3;
		for (unsigned i = 0; i < 3; i++) {
			errors += vio_vq_dequeue(fx.vq, &cookie, &len) != 0;
			errors += cookie != bufs[i] || len != 16;
		}
		errors += vio_vq_dequeue(fx.vq, &cookie, &len) != VIO_EAGAIN;
	}
	CHECK_EQ(errors, 0);
	/* 2.7.6 / 2.7.8: the indices are free-running 16-bit counters. */
	CHECK_EQ(fx.avail->idx, (uint16_t)(3 * rounds));
	CHECK_EQ(fx.used->idx, (uint16_t)(3 * rounds));
	CHECK_EQ(fx.d->q[0].completed, 3 * rounds);
	CHECK_EQ(vio_vq_num_free(fx.vq), 4);
	CHECK_EQ(fx.fails, 0);
	fx_teardown();
}

static void test_wraparound(void)
{
	wraparound(0);
}

static void test_wraparound_event_idx(void)
{
	wraparound(FX_EVENT_IDX);
}

/*
 * 2.6.1: after a queue reset and every chain detached, vio_vq_reinit
 * starts the rings over at index 0 (the device's view after its queue
 * reset: sim_queue_attach), and the queue works as new, round the ring
 * many times. Refused while a chain is in flight.
 */
static void reinit(unsigned flags)
{
	static uint8_t bufs[3][16];
	unsigned errors = 0, detached = 0;
	void *cookie;
	uint32_t len;

	if (fx_setup(4, flags, 0))
		return;
	/* The indices at 15 and the free list rotated. */
	for (unsigned r = 0; r < 5; r++) {
		for (unsigned i = 0; i < 3; i++)
			errors += put1(bufs[i], 16, bufs[i]) != 0;
		vio_vq_kick(fx.vq);
		errors += sim_step(fx.d) != 3;
		for (unsigned i = 0; i < 3; i++)
			errors += vio_vq_dequeue(fx.vq, &cookie, &len) != 0;
	}
	/* One chain completed and not taken, one the device never saw. */
	CHECK_EQ(put1(bufs[0], 16, bufs[0]), 0);
	vio_vq_kick(fx.vq);
	CHECK_EQ(sim_step(fx.d), 1);
	CHECK_EQ(put1(bufs[1], 16, bufs[1]), 0);
	CHECK_EQ(vio_vq_reinit(fx.vq), VIO_EBUSY);
	while ((cookie = vio_vq_detach_unused(fx.vq)) != NULL)
		detached++;
	CHECK_EQ(detached, 2);
	CHECK_EQ(vio_vq_reinit(fx.vq), 0);
	CHECK_EQ(fx.avail->idx, 0);
	CHECK_EQ(fx.used->idx, 0);
	CHECK_EQ(vio_vq_num_free(fx.vq), 4);
	CHECK_EQ(vio_vq_in_flight(fx.vq), 0);
	CHECK(!vio_vq_has_used(fx.vq));
	sim_queue_attach(fx.d, 0, vio_vq_size(fx.vq), fx.desc, fx.avail, fx.used);
	for (unsigned r = 0; r < 30000; r++) {
		for (unsigned i = 0; i < 3; i++)
			errors += put1(bufs[i], 16, bufs[i]) != 0;
		vio_vq_kick(fx.vq);
		errors += sim_step(fx.d) != 3;
		for (unsigned i = 0; i < 3; i++) {
			errors += vio_vq_dequeue(fx.vq, &cookie, &len) != 0;
			errors += cookie != bufs[i] || len != 16;
		}
	}
	CHECK_EQ(errors, 0);
	CHECK_EQ(fx.avail->idx, (uint16_t)(3 * 30000));
	CHECK_EQ(fx.used->idx, (uint16_t)(3 * 30000));
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

static void test_no_notify(void)
{
	uint8_t b[4];
	void *cookie;
	uint32_t len;

	if (fx_setup(8, 0, 0))
		return;
	/* 2.7.10: the device says it needs no notification (it polls). */
	fx.d->used_flags = VIRTQ_USED_F_NO_NOTIFY;
	sim_step(fx.d);
	CHECK_EQ(put1(b, 4, b), 0);
	CHECK(!vio_vq_kick(fx.vq));
	CHECK_EQ(fx.notifies, 0);
	CHECK_EQ(fx.d->q[0].notifies, 0);
	CHECK_EQ(sim_step(fx.d), 1);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), 0);

	fx.d->used_flags = 0;
	sim_step(fx.d);
	CHECK_EQ(put1(b, 4, b), 0);
	CHECK(vio_vq_kick(fx.vq));
	CHECK_EQ(fx.notifies, 1);
	fx_teardown();
}

static void test_event_idx_notify(void)
{
	uint8_t b[4][4];
	void *cookie;
	uint32_t len;

	if (fx_setup(8, FX_EVENT_IDX, 0))
		return;
	/* avail_event is 0: the first buffer is worth a notification. */
	CHECK_EQ(put1(b[0], 4, b[0]), 0);
	CHECK(vio_vq_kick(fx.vq));
	sim_step(fx.d); /* the device now asks for a notification at index 1 */
	CHECK_EQ(put1(b[1], 4, b[1]), 0);
	CHECK_EQ(put1(b[2], 4, b[2]), 0);
	CHECK(vio_vq_kick(fx.vq));
	CHECK_EQ(fx.notifies, 2);
	/* A device that asks to be notified far ahead gets no notification. */
	fx.d->avail_event = 100;
	sim_step(fx.d);
	CHECK_EQ(put1(b[3], 4, b[3]), 0);
	CHECK(!vio_vq_kick(fx.vq));
	CHECK_EQ(fx.notifies, 2);
	sim_step(fx.d);
	for (unsigned i = 0; i < 4; i++) {
		CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), 0);
		CHECK(cookie == b[i]);
	}
	/* The driver never sets flags with the event index (2.7.10). */
	CHECK_EQ(fx.avail->flags, 0);
	fx_teardown();
}

static void test_irq_suppress(void)
{
	uint8_t b[4];
	void *cookie;
	uint32_t len;

	if (fx_setup(8, 0, 0))
		return;
	vio_vq_disable_irq(fx.vq);
	CHECK_EQ(fx.avail->flags, VIRTQ_AVAIL_F_NO_INTERRUPT);
	CHECK_EQ(put1(b, 4, b), 0);
	vio_vq_kick(fx.vq);
	sim_step(fx.d);
	CHECK_EQ(fx.d->q[0].irqs, 0);
	CHECK_EQ(fx.d->q[0].irqs_suppressed, 1);
	/* Re-enabling reports what completed meanwhile, since no interrupt came. */
	CHECK(vio_vq_enable_irq(fx.vq));
	CHECK_EQ(fx.avail->flags, 0);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), 0);
	CHECK(!vio_vq_enable_irq(fx.vq));
	CHECK_EQ(put1(b, 4, b), 0);
	vio_vq_kick(fx.vq);
	sim_step(fx.d);
	CHECK_EQ(fx.d->q[0].irqs, 1);
	CHECK_EQ(fx.d->irqs, 1);
	CHECK_EQ(fx.d->int_status, 1);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), 0);
	fx_teardown();
}

static void test_irq_suppress_event_idx(void)
{
	uint8_t b[4];
	void *cookie;
	uint32_t len;

	if (fx_setup(8, FX_EVENT_IDX, 0))
		return;
	CHECK_EQ(put1(b, 4, b), 0);
	vio_vq_kick(fx.vq);
	sim_step(fx.d);
	CHECK_EQ(fx.d->q[0].irqs, 1);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), 0);

	vio_vq_disable_irq(fx.vq);
	/* 2.7.10: with the event index the flags stay 0. */
	CHECK_EQ(fx.avail->flags, 0);
	for (unsigned i = 0; i < 3; i++) {
		CHECK_EQ(put1(b, 4, b), 0);
		vio_vq_kick(fx.vq);
		sim_step(fx.d);
	}
	CHECK_EQ(fx.d->q[0].irqs, 1);
	CHECK_EQ(fx.d->q[0].irqs_suppressed, 3);
	CHECK(vio_vq_enable_irq(fx.vq));
	for (unsigned i = 0; i < 3; i++)
		CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), 0);
	CHECK(!vio_vq_enable_irq(fx.vq));
	CHECK_EQ(put1(b, 4, b), 0);
	vio_vq_kick(fx.vq);
	sim_step(fx.d);
	CHECK_EQ(fx.d->q[0].irqs, 2);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), 0);
	fx_teardown();
}

/*
 * 2.7.10, the event-index race: the driver stores used_event and reads the
 * used index; the device stores the used index and reads used_event. Each
 * side needs a full barrier between its store and its load, or both loads
 * can see the old values: the driver finds nothing and waits, the device
 * thinks no interrupt is wanted, and the completion waits for a timeout.
 * The simulator's store buffer keeps the driver's store from the device
 * until a full barrier, and race_used_event lets the device complete the
 * chain in exactly that window. Either side must notice: the driver
 * dequeues the chain, or the device raises the interrupt.
 */
static void expect_noticed(int rc, void *cookie, void *want, unsigned irqs_before)
{
	void *c = NULL;
	uint32_t len;

	CHECK(rc == 0 || rc == VIO_EAGAIN);
	CHECK(rc == 0 ? cookie == want : fx.d->q[0].irqs > irqs_before);
	CHECK_EQ(fx.d->q[0].completed, 2);
	if (rc == 0)
		return;
	/* What the interrupt's handler would do next. */
	CHECK_EQ(vio_vq_dequeue(fx.vq, &c, &len), 0);
	CHECK(c == want);
}

static void test_event_idx_race(void)
{
	uint8_t a[4], b[4];
	void *cookie = NULL;
	uint32_t len;
	unsigned irqs;
	int rc;

	/* Dequeue finds the ring empty and asks for an interrupt (used_event). */
	if (fx_setup(8, FX_EVENT_IDX, 0))
		return;
	sim_store_buffer = true;
	fx.d->race_used_event = true;
	CHECK_EQ(put1(a, 4, a), 0);
	vio_vq_kick(fx.vq);
	sim_step(fx.d);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), 0);
	CHECK(cookie == a);
	CHECK_EQ(put1(b, 4, b), 0);
	vio_vq_kick(fx.vq);
	CHECK_EQ(sim_stores_buffered(), 0); /* the kick's barrier published avail->idx */
	irqs = fx.d->q[0].irqs;
	cookie = NULL;
	rc = vio_vq_dequeue(fx.vq, &cookie, &len);
	expect_noticed(rc, cookie, b, irqs);
	sim_store_drain();
	fx_teardown();

	/* Interrupts are turned back on while the device completes. */
	if (fx_setup(8, FX_EVENT_IDX, 0))
		return;
	sim_store_buffer = true;
	fx.d->race_used_event = true;
	CHECK_EQ(put1(a, 4, a), 0);
	vio_vq_kick(fx.vq);
	sim_step(fx.d);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), 0);
	vio_vq_disable_irq(fx.vq);
	CHECK_EQ(put1(b, 4, b), 0);
	vio_vq_kick(fx.vq);
	irqs = fx.d->q[0].irqs;
	rc = vio_vq_enable_irq(fx.vq) ? 0 : VIO_EAGAIN;
	cookie = NULL;
	if (rc == 0)
		rc = vio_vq_dequeue(fx.vq, &cookie, &len);
	expect_noticed(rc, cookie, b, irqs);
	sim_store_drain();
	fx_teardown();
}

static void test_indirect(void)
{
	uint8_t h[4] = { 0x33 }, r[8][8];
	struct vio_sg sg[6] = { { h, 4 }, { r[0], 8 }, { r[1], 8 }, { r[2], 8 }, { r[3], 8 },
				{ r[4], 8 } };
	void *cookie;
	uint32_t len;
	int tags[9];

	if (fx_setup(8, 0, 4))
		return;
	/* 2.7.5.3: a chain of three takes one ring descriptor. */
	CHECK_EQ(vio_vq_enqueue(fx.vq, sg, 1, 2, &tags[0]), 0);
	CHECK_EQ(vio_vq_num_free(fx.vq), 7);
	vio_vq_kick(fx.vq);
	CHECK_EQ(sim_step(fx.d), 1);
	CHECK_EQ(ms.nout, 1);
	CHECK_EQ(ms.nin, 2);
	CHECK_EQ(ms.out_first[0], 0x33);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), 0);
	CHECK(cookie == &tags[0]);
	CHECK_EQ(len, 16);
	CHECK_EQ(vio_vq_num_free(fx.vq), 8);

	/* Eight such chains fill the ring of eight. */
	for (unsigned i = 0; i < 8; i++)
		CHECK_EQ(vio_vq_enqueue(fx.vq, sg, 1, 3, &tags[i]), 0);
	CHECK_EQ(vio_vq_enqueue(fx.vq, sg, 1, 3, &tags[8]), VIO_ENOSPC);
	vio_vq_kick(fx.vq);
	CHECK_EQ(sim_step(fx.d), 8);
	for (unsigned i = 0; i < 8; i++) {
		CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), 0);
		CHECK(cookie == &tags[i]);
		CHECK_EQ(len, 24);
	}

	/* One segment needs no table; more than indirect_max go in the ring. */
	CHECK_EQ(put1(r[0], 8, &tags[0]), 0);
	CHECK_EQ(vio_vq_num_free(fx.vq), 7);
	CHECK_EQ(vio_vq_enqueue(fx.vq, sg, 1, 5, &tags[1]), 0);
	CHECK_EQ(vio_vq_num_free(fx.vq), 1);
	vio_vq_kick(fx.vq);
	CHECK_EQ(sim_step(fx.d), 2);
	CHECK_EQ(ms.nin, 5);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), 0);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), 0);
	CHECK(cookie == &tags[1]);
	CHECK_EQ(len, 40);
	CHECK_EQ(vio_vq_num_free(fx.vq), 8);
	CHECK_EQ(fx.fails, 0);
	fx_teardown();
}

/* After a protocol violation the queue refuses everything, without crashing. */
static void check_broken(void)
{
	uint8_t b[4];
	void *cookie;
	uint32_t len;

	CHECK(vio_vq_is_broken(fx.vq));
	CHECK_EQ(fx.fails, 1);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), VIO_ESHUTDOWN);
	CHECK_EQ(put1(b, 4, b), VIO_ESHUTDOWN);
	CHECK(!vio_vq_kick(fx.vq));
	CHECK(!vio_vq_has_used(fx.vq));
	CHECK_EQ(fx.fails, 1);
	CHECK(sim_log_count(VIO_LOG_ERR) > 0);
}

/* One good round trip, then one with the device misbehaving as told. */
static void evil(enum sim_evil how)
{
	uint8_t a[16], b[16];
	void *cookie = NULL;
	uint32_t len = 0;

	if (fx_setup(8, 0, 0))
		return;
	CHECK_EQ(put1(a, sizeof(a), a), 0);
	vio_vq_kick(fx.vq);
	sim_step(fx.d);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), 0);
	CHECK_EQ(put1(b, sizeof(b), b), 0);
	vio_vq_kick(fx.vq);
	fx.d->evil = how;
	sim_step(fx.d);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), VIO_EPROTO);
	check_broken();
	fx_teardown();
}

static void test_evil_id_range(void)
{
	evil(SIM_EVIL_ID_RANGE);
}

static void test_evil_id_twice(void)
{
	uint8_t a[16], b[16];
	void *cookie = NULL;
	uint32_t len = 0;

	/* Chain a completes, then b is reported with a's id again; b never completes. */
	if (fx_setup(8, 0, 0))
		return;
	CHECK_EQ(put1(a, sizeof(a), a), 0);
	vio_vq_kick(fx.vq);
	sim_step(fx.d);
	CHECK_EQ(put1(b, sizeof(b), b), 0);
	vio_vq_kick(fx.vq);
	fx.d->evil = SIM_EVIL_ID_TWICE;
	sim_step(fx.d);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), 0);
	CHECK(cookie == a);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), VIO_EPROTO);
	check_broken();
	fx_teardown();
}

/* The same in one batch: the good completion comes back, the bad one is reported next. */
static void test_evil_id_twice_batch(void)
{
	uint8_t a[16], b[16];
	struct vio_vq_used u[4];

	if (fx_setup(8, 0, 0))
		return;
	CHECK_EQ(put1(a, sizeof(a), a), 0);
	vio_vq_kick(fx.vq);
	sim_step(fx.d);
	CHECK_EQ(put1(b, sizeof(b), b), 0);
	vio_vq_kick(fx.vq);
	fx.d->evil = SIM_EVIL_ID_TWICE;
	sim_step(fx.d);
	CHECK_EQ(vio_vq_dequeue_batch(fx.vq, u, 4), 1);
	CHECK(u[0].cookie == a);
	CHECK(!vio_vq_is_broken(fx.vq));
	CHECK_EQ(vio_vq_dequeue_batch(fx.vq, u, 4), VIO_EPROTO);
	check_broken();
	CHECK_EQ(vio_vq_dequeue_batch(fx.vq, u, 4), VIO_ESHUTDOWN);
	fx_teardown();
}

static void test_evil_extra(void)
{
	evil(SIM_EVIL_EXTRA);
}

static void test_evil_id_free(void)
{
	evil(SIM_EVIL_ID_FREE);
}

static void test_evil_len(void)
{
	evil(SIM_EVIL_LEN);
}

/* 2.7.8.1: a legacy device's too-long used length is clamped, not trusted. */
static void test_legacy_len_clamped(void)
{
	uint8_t b[16];
	struct vio_sg sg = { b, sizeof(b) };
	void *cookie = NULL;
	uint32_t len = 0;

	if (fx_setup(8, FX_LEGACY, 0))
		return;
	CHECK_EQ(vio_vq_enqueue(fx.vq, &sg, 0, 1, b), 0);
	vio_vq_kick(fx.vq);
	sim_used_push(fx.d, 0, 0, 4096, 1);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), 0);
	CHECK(cookie == b);
	CHECK_EQ(len, sizeof(b));
	CHECK(!vio_vq_is_broken(fx.vq));
	fx_teardown();
}

/*
 * 2.7.13: a chain becomes the device's when the avail index that covers it
 * is published; a used entry for one still being put together (enqueued,
 * not yet kicked) is a protocol error at once, not a completion. Counting
 * chains enqueued instead of chains published would accept both below.
 */
static void test_evil_never_published(void)
{
	uint8_t a[16], b[16];
	void *cookie = NULL;
	uint32_t len = 0;

	/* a published, b only enqueued: the device reports b. */
	if (fx_setup(8, 0, 0))
		return;
	CHECK_EQ(put1(a, sizeof(a), a), 0);
	vio_vq_kick(fx.vq);
	CHECK_EQ(put1(b, sizeof(b), b), 0);
	sim_used_push(fx.d, 0, 1, 0, 1);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), VIO_EPROTO);
	CHECK(cookie == NULL);
	check_broken();
	fx_teardown();

	/* Nothing published at all. */
	if (fx_setup(8, 0, 0))
		return;
	CHECK_EQ(put1(a, sizeof(a), a), 0);
	sim_used_push(fx.d, 0, 0, 0, 1);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), VIO_EPROTO);
	CHECK(cookie == NULL);
	check_broken();
	fx_teardown();
}

static void test_evil_idx_jump(void)
{
	evil(SIM_EVIL_IDX_JUMP);
}

static void test_evil_raw(void)
{
	uint8_t b[16];
	struct vio_sg sg = { b, sizeof(b) };
	void *cookie;
	uint32_t len;

	/* used->idx ahead by more than the queue size */
	if (fx_setup(8, 0, 0))
		return;
	CHECK_EQ(put1(b, sizeof(b), b), 0);
	vio_vq_kick(fx.vq);
	sim_used_push(fx.d, 0, 0, 0, 9);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), VIO_EPROTO);
	check_broken();
	fx_teardown();

	/* a used entry with nothing in flight at all */
	if (fx_setup(8, 0, 0))
		return;
	sim_used_push(fx.d, 0, 0, 0, 1);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), VIO_EPROTO);
	check_broken();
	fx_teardown();

	/* a length on a chain with nothing device-writable */
	if (fx_setup(8, 0, 0))
		return;
	CHECK_EQ(vio_vq_enqueue(fx.vq, &sg, 1, 0, b), 0);
	vio_vq_kick(fx.vq);
	sim_used_push(fx.d, 0, 0, 1, 1);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), VIO_EPROTO);
	check_broken();
	fx_teardown();

	/* an id inside an indirect chain's table range but not a head */
	if (fx_setup(8, 0, 4))
		return;
	struct vio_sg two[2] = { { b, 8 }, { b + 8, 8 } };
	CHECK_EQ(vio_vq_enqueue(fx.vq, two, 0, 2, b), 0);
	vio_vq_kick(fx.vq);
	sim_used_push(fx.d, 0, 3, 0, 1);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), VIO_EPROTO);
	check_broken();
	fx_teardown();
}

/*
 * Prepared chains, with and without indirect descriptors: reserved once,
 * re-armed with a new data segment per submit, the device sees the whole
 * chain each time; the ring checks hold for them as for any chain.
 */
static void prepared(uint16_t indirect_max, unsigned cost)
{
	uint8_t h[4] = { 0x44 }, st[1], d1[8], d2[16];
	struct vio_vq_chain c, c2;
	void *cookie;
	uint32_t len;
	int tag;

	if (fx_setup(8, 0, indirect_max))
		return;
	memset(&c, 0, sizeof(c));
	memset(&c2, 0, sizeof(c2));
	CHECK_EQ(vio_vq_chain_cost(fx.vq, 3), cost);
	CHECK_EQ(vio_vq_chain_reserve(fx.vq, 0, &c), VIO_EINVAL);
	CHECK_EQ(vio_vq_chain_reserve(fx.vq, VIO_VQ_CHAIN_SEGS + 1, &c), VIO_EINVAL);
	CHECK_EQ(vio_vq_chain_reserve(fx.vq, 3, &c), 0);
	CHECK_EQ(vio_vq_chain_reserve(fx.vq, 3, &c), VIO_EINVAL); /* already */
	CHECK_EQ(vio_vq_num_free(fx.vq), 8 - cost);
	CHECK_EQ(vio_vq_chain_set(fx.vq, &c, 0, h, sizeof(h), false), 0);
	CHECK_EQ(vio_vq_chain_set(fx.vq, &c, 3, h, sizeof(h), false), VIO_EINVAL);
	CHECK_EQ(vio_vq_chain_set(fx.vq, &c, 1, NULL, 8, true), VIO_EINVAL);
	CHECK_EQ(vio_vq_chain_submit(fx.vq, &c, &tag), VIO_EINVAL); /* segments not set */
	CHECK_EQ(vio_vq_chain_set(fx.vq, &c, 2, st, 1, true), 0);
	/* 2.7.4.2: a readable segment after a writable one */
	CHECK_EQ(vio_vq_chain_set(fx.vq, &c, 1, d1, sizeof(d1), false), 0);
	CHECK_EQ(vio_vq_chain_set(fx.vq, &c, 2, st, 1, false), 0);
	CHECK_EQ(vio_vq_chain_set(fx.vq, &c, 1, d1, sizeof(d1), true), 0);
	CHECK_EQ(vio_vq_chain_submit(fx.vq, &c, &tag), VIO_EINVAL);
	CHECK_EQ(vio_vq_chain_set(fx.vq, &c, 2, st, 1, true), 0);
	CHECK_EQ(vio_vq_chain_submit(fx.vq, &c, NULL), VIO_EINVAL);

	for (unsigned round = 0; round < 20; round++) {
		bool big = round & 1;

		CHECK_EQ(vio_vq_chain_set(fx.vq, &c, 1, big ? d2 : d1, big ? 16 : 8, true), 0);
		CHECK_EQ(vio_vq_chain_submit(fx.vq, &c, &tag), 0);
		CHECK_EQ(vio_vq_chain_submit(fx.vq, &c, &tag), VIO_EBUSY);
		CHECK_EQ(vio_vq_in_flight(fx.vq), 1);
		vio_vq_kick(fx.vq);
		CHECK_EQ(sim_step(fx.d), 1);
		CHECK_EQ(ms.nout, 1);
		CHECK_EQ(ms.nin, 2);
		CHECK_EQ(ms.out_first[0], 0x44);
		CHECK_EQ(ms.in_len, big ? 17u : 9u);
		CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), 0);
		CHECK(cookie == &tag);
		CHECK_EQ(len, big ? 17u : 9u);
		CHECK_EQ(vio_vq_num_free(fx.vq), 8 - cost);
	}
	/* A write's shape: the data segment readable. */
	CHECK_EQ(vio_vq_chain_set(fx.vq, &c, 1, d2, 16, false), 0);
	CHECK_EQ(vio_vq_chain_submit(fx.vq, &c, &tag), 0);
	vio_vq_kick(fx.vq);
	CHECK_EQ(sim_step(fx.d), 1);
	CHECK_EQ(ms.nout, 2);
	CHECK_EQ(ms.nin, 1);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), 0);
	CHECK_EQ(len, 1);

	/* The set and the submit in one call: the same checks, the same chain. */
	CHECK_EQ(vio_vq_chain_submit_seg(fx.vq, &c, 3, d1, 8, true, &tag), VIO_EINVAL);
	CHECK_EQ(vio_vq_chain_submit_seg(fx.vq, &c, 1, NULL, 8, true, &tag), VIO_EINVAL);
	CHECK_EQ(vio_vq_chain_submit_seg(fx.vq, &c, 1, d1, 0, true, &tag), VIO_EINVAL);
	CHECK_EQ(vio_vq_chain_submit_seg(fx.vq, &c, 1, d1, 8, true, NULL), VIO_EINVAL);
	/* 2.7.4.2: the status made readable after a writable data segment */
	CHECK_EQ(vio_vq_chain_set(fx.vq, &c, 1, d1, 8, true), 0);
	CHECK_EQ(vio_vq_chain_submit_seg(fx.vq, &c, 2, st, 1, false, &tag), VIO_EINVAL);
	CHECK_EQ(vio_vq_in_flight(fx.vq), 0);
	for (unsigned round = 0; round < 6; round++) {
		bool big = round & 1, rd = round < 4;

		CHECK_EQ(vio_vq_chain_submit_seg(fx.vq, &c, 1, big ? d2 : d1, big ? 16 : 8, rd,
						 &tag), 0);
		CHECK_EQ(vio_vq_chain_submit_seg(fx.vq, &c, 1, d1, 8, rd, &tag), VIO_EBUSY);
		vio_vq_kick(fx.vq);
		CHECK_EQ(sim_step(fx.d), 1);
		CHECK_EQ(ms.nout, rd ? 1 : 2);
		CHECK_EQ(ms.nin, rd ? 2 : 1);
		CHECK_EQ(ms.in_len, rd ? (big ? 17u : 9u) : 1u);
		CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), 0);
		CHECK(cookie == &tag);
		CHECK_EQ(len, rd ? (big ? 17u : 9u) : 1u);
	}
	/* The template keeps the last segment: a plain submit sends it again. */
	CHECK_EQ(vio_vq_chain_set(fx.vq, &c, 1, d2, 16, true), 0);
	CHECK_EQ(vio_vq_chain_submit(fx.vq, &c, &tag), 0);
	vio_vq_kick(fx.vq);
	CHECK_EQ(sim_step(fx.d), 1);
	CHECK_EQ(ms.in_len, 17u);
	{
		struct vio_vq_used u[4];

		/* Taken in a batch: one completion, nothing after it. */
		CHECK_EQ(vio_vq_dequeue_batch(fx.vq, u, 0), VIO_EINVAL);
		CHECK_EQ(vio_vq_dequeue_batch(fx.vq, u, 4), 1);
		CHECK(u[0].cookie == &tag);
		CHECK_EQ(u[0].len, 17u);
		CHECK_EQ(vio_vq_dequeue_batch(fx.vq, u, 4), 0);
	}

	/* Ordinary chains share the ring; a released chain's descriptors come back. */
	CHECK_EQ(put1(d1, 8, d1), 0);
	CHECK_EQ(vio_vq_chain_reserve(fx.vq, 2, &c2), 0);
	vio_vq_chain_release(fx.vq, &c2);
	vio_vq_kick(fx.vq);
	CHECK_EQ(sim_step(fx.d), 1);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), 0);
	CHECK(cookie == d1);
	vio_vq_chain_release(fx.vq, &c);
	CHECK_EQ(vio_vq_num_free(fx.vq), 8);

	/* Detached after a reset like any other chain, descriptors kept. */
	CHECK_EQ(vio_vq_chain_reserve(fx.vq, 3, &c), 0);
	CHECK_EQ(vio_vq_chain_set(fx.vq, &c, 0, h, sizeof(h), false), 0);
	CHECK_EQ(vio_vq_chain_set(fx.vq, &c, 1, d1, 8, true), 0);
	CHECK_EQ(vio_vq_chain_set(fx.vq, &c, 2, st, 1, true), 0);
	CHECK_EQ(vio_vq_chain_submit(fx.vq, &c, &tag), 0);
	CHECK(vio_vq_detach_unused(fx.vq) == &tag);
	CHECK(vio_vq_detach_unused(fx.vq) == NULL);
	CHECK_EQ(vio_vq_num_free(fx.vq), 8 - cost);

	/* The device reports it twice, or beyond its writable bytes: refused. */
	CHECK_EQ(vio_vq_chain_submit(fx.vq, &c, &tag), 0);
	vio_vq_kick(fx.vq);
	sim_used_push(fx.d, 0, c.id, 9, 1);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), 0);
	sim_used_push(fx.d, 0, c.id, 9, 1);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), VIO_EPROTO);
	check_broken();
	CHECK_EQ(vio_vq_chain_submit(fx.vq, &c, &tag), VIO_ESHUTDOWN);
	vio_vq_chain_release(fx.vq, &c);
	fx_teardown();

	if (fx_setup(8, 0, indirect_max))
		return;
	memset(&c, 0, sizeof(c));
	CHECK_EQ(vio_vq_chain_reserve(fx.vq, 3, &c), 0);
	CHECK_EQ(vio_vq_chain_set(fx.vq, &c, 0, h, sizeof(h), false), 0);
	CHECK_EQ(vio_vq_chain_set(fx.vq, &c, 1, d1, 8, true), 0);
	CHECK_EQ(vio_vq_chain_set(fx.vq, &c, 2, st, 1, true), 0);
	CHECK_EQ(vio_vq_chain_submit(fx.vq, &c, &tag), 0);
	vio_vq_kick(fx.vq);
	sim_used_push(fx.d, 0, c.id, 10, 1);
	CHECK_EQ(vio_vq_dequeue(fx.vq, &cookie, &len), VIO_EPROTO);
	check_broken();
	fx_teardown();
}

static void test_prepared_indirect(void)
{
	prepared(4, 1);
}

static void test_prepared_run(void)
{
	prepared(0, 3);
}

int main(void)
{
	RUN(test_create_args);
	RUN(test_layout);
	RUN(test_basic);
	RUN(test_basic_legacy);
	RUN(test_chain);
	RUN(test_enqueue_bufs);
	RUN(test_enqueue_bufs_legacy);
	RUN(test_enqueue_einval);
	RUN(test_ring_full);
	RUN(test_wraparound);
	RUN(test_wraparound_event_idx);
	RUN(test_reinit);
	RUN(test_reinit_event_idx);
	RUN(test_no_notify);
	RUN(test_event_idx_notify);
	RUN(test_irq_suppress);
	RUN(test_irq_suppress_event_idx);
	RUN(test_event_idx_race);
	RUN(test_indirect);
	RUN(test_evil_id_range);
	RUN(test_evil_id_twice);
	RUN(test_evil_id_twice_batch);
	RUN(test_evil_extra);
	RUN(test_evil_id_free);
	RUN(test_evil_len);
	RUN(test_legacy_len_clamped);
	RUN(test_evil_never_published);
	RUN(test_evil_idx_jump);
	RUN(test_evil_raw);
	RUN(test_prepared_indirect);
	RUN(test_prepared_run);
	return test_report();
}
