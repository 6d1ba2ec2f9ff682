/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The virtqueue, both layouts (VirtIO 1.2 sections 2.7 and 2.8), with the
 * fuzzer as the device: it writes the split ring's used entries, used
 * index (any jump) and flags, or the packed ring's descriptors (any id,
 * length and AVAIL/USED flags, so any wrap-counter game) and event
 * structures, straight into ring memory, or lets the simulated device
 * serve what was made available (through the hostile model). In between
 * the driver side calls every virtqueue API.
 *
 * Besides the sanitizers, the target checks the queue's own contract: a
 * dequeue gives only cookies of chains in flight, each once, with a
 * length no larger than the chain's writable bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vio/error.h>
#include <vio/spec/virtio_config.h>
#include <vio/spec/virtio_ring.h>
#include <vio/virtqueue.h>

#include "fuzz.h"
#include "sim.h"
#include "sim_cache.h"
#include "sim_port.h"

#define NCOOKIE 64

static uint8_t bufs[8][64];
static struct {
	bool in_flight;
	uint32_t in_len;
} ck[NCOOKIE];
static struct vio_vq_chain chains[2];
static int chain_ck[2]; /* the cookie of each prepared chain's last submit, or -1 */
static bool clamp;
/*
 * The fuzzer wrote packed descriptors itself: the simulated device must no
 * longer walk the ring, it would trust a length the fuzzer wrote into a
 * descriptor the driver made available (the simulator's problem, not the
 * library's).
 */
static bool raw_packed;

static void vq_notify(void *ctx, unsigned index)
{
	(void)ctx;
	(void)index;
}

static void vq_fail(void *ctx)
{
	(void)ctx;
}

static void contract(const char *what)
{
	fprintf(stderr, "fuzz_vq: the queue broke its contract: %s\n", what);
	abort();
}

static int free_cookie(void)
{
	for (int i = 0; i < NCOOKIE; i++) {
		if (!ck[i].in_flight)
			return i;
	}
	return -1;
}

static void took(void *cookie, uint32_t len, bool check_len)
{
	uintptr_t i = (uintptr_t)cookie - 1;

	if (i >= NCOOKIE || !ck[i].in_flight)
		contract("a cookie not in flight");
	if (check_len && len > ck[i].in_len)
		contract("a used length beyond the writable bytes");
	ck[i].in_flight = false;
}

static void driver_op(struct vio_vq *vq, uint8_t op)
{
	struct vio_sg sg[8];
	void *cookie;
	uint32_t len;
	int c, rc;

	switch (op % 10) {
	case 0:
	case 1: {
		unsigned out = fz_u8() % 4, in = fz_u8() % 5;
		uint32_t in_len = 0;

		if (!out && !in)
			in = 1;
		c = free_cookie();
		if (c < 0)
			break;
		for (unsigned i = 0; i < out + in; i++) {
			sg[i].buf = bufs[i];
			sg[i].len = 1 + fz_u8() % 64;
			if (i >= out)
				in_len += sg[i].len;
		}
		if (vio_vq_enqueue(vq, sg, out, in, (void *)(uintptr_t)(c + 1)) == 0) {
			ck[c].in_flight = true;
			ck[c].in_len = in_len;
		}
		break;
	}
	case 2:
		(void)vio_vq_kick(vq);
		break;
	case 3:
	case 4:
		for (unsigned n = 0; n < 8; n++) {
			rc = vio_vq_dequeue(vq, &cookie, &len);
			if (rc != 0)
				break;
			took(cookie, len, !clamp);
		}
		break;
	case 5:
		(void)vio_vq_has_used(vq);
		(void)vio_vq_num_free(vq);
		(void)vio_vq_in_flight(vq);
		break;
	case 6:
		if (fz_u8() & 1)
			vio_vq_disable_irq(vq);
		else
			(void)vio_vq_enable_irq(vq);
		break;
	case 7: {
		/* A prepared chain: reserve, set its segments, submit (or release). */
		unsigned k = fz_u8() & 1;
		struct vio_vq_chain *ch = &chains[k];
		unsigned nseg = 1 + fz_u8() % VIO_VQ_CHAIN_SEGS;

		if (!ch->nseg && vio_vq_chain_reserve(vq, nseg, ch) != 0)
			break;
		for (unsigned i = 0; i < ch->nseg; i++)
			(void)vio_vq_chain_set(vq, ch, i, bufs[i], 1 + fz_u8() % 64, fz_u8() & 1);
		c = free_cookie();
		if (c >= 0 && (fz_u8() & 3) && vio_vq_chain_submit(vq, ch, (void *)(uintptr_t)(c + 1)) == 0) {
			ck[c].in_flight = true;
			ck[c].in_len = ch->in_len;
			chain_ck[k] = c;
		}
		break;
	}
	case 8: {
		unsigned k = fz_u8() & 1;
		struct vio_vq_chain *ch = &chains[k];

		/* Only a chain not in flight may be released (virtqueue.h). */
		if (ch->nseg && (chain_ck[k] < 0 || !ck[chain_ck[k]].in_flight))
			vio_vq_chain_release(vq, ch);
		break;
	}
	default:
		if (fz_u8() == 0xa5)
			vio_vq_break(vq);
		break;
	}
}

static void device_op(struct sim_dev *d, struct vio_vq *vq, const struct vio_queue_addrs *a,
		      bool packed, uint8_t op)
{
	unsigned num = vio_vq_size(vq);

	switch (op % 4) {
	case 0:
		if (!packed) {
			/* A used entry anywhere in the ring (2.7.8). */
			struct virtq_used *u = (void *)(uintptr_t)a->used;
			unsigned at = fz_u16() % num;

			u->ring[at].id = fz_u32();
			u->ring[at].len = fz_u32();
		} else {
			/* A descriptor anywhere, any flags (2.8.1, 2.8.21). */
			struct pvirtq_desc *r = (void *)(uintptr_t)a->desc;
			unsigned at = fz_u16() % num;

			raw_packed = true;
			r[at].len = fz_u32();
			r[at].id = fz_u16();
			__atomic_store_n(&r[at].flags, fz_u16(), __ATOMIC_RELEASE);
		}
		break;
	case 1:
		if (!packed) {
			struct virtq_used *u = (void *)(uintptr_t)a->used;
			uint16_t step = fz_u16();

			/* Index jumps of any size, backwards too. */
			__atomic_store_n(&u->idx, (uint16_t)(u->idx + step), __ATOMIC_RELEASE);
			u->flags = fz_u16();
		} else {
			struct pvirtq_event_suppress *e = (void *)(uintptr_t)a->used;

			e->desc = fz_u16();
			e->flags = fz_u16();
		}
		break;
	case 2:
		if (!packed) {
			/* avail_event (2.7.10) after the used ring. */
			struct virtq_used *u = (void *)(uintptr_t)a->used;

			*(volatile uint16_t *)&u->ring[num] = fz_u16();
		}
		break;
	default:
		/* The simulated device serves what is available. */
		if (!raw_packed)
			fz_device_op(d, op & 1 ? 0 : 1);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vio_vq_config cfg = { .notify = vq_notify, .fail = vq_fail, .used_align = 4 };
	struct vio_queue_addrs a;
	struct sim_dev *d;
	struct vio_vq *vq;
	uint8_t flags;

	fz_start(data, size);
	fz_begin(0);
	memset(ck, 0, sizeof(ck));
	memset(chains, 0, sizeof(chains));
	chain_ck[0] = chain_ck[1] = -1;
	raw_packed = false;
	flags = fz_u8();
	cfg.max_size = 1 + fz_u8() % 64;
	cfg.packed = flags & 1;
	cfg.event_idx = (flags & 2) != 0;
	cfg.clamp_used_len = clamp = (flags & 4) != 0;
	cfg.indirect_max = flags & 8 ? 2 + fz_u8() % 8 : 0;
	cfg.legacy = !cfg.packed && (flags & 16);
	if (cfg.legacy)
		cfg.used_align = 4096;
	d = sim_dev_new(0, cfg.legacy ? 1 : 2, VIRTIO_ID_CONSOLE);
	d->driver_features = cfg.legacy ? 0 : 1ull << VIRTIO_F_VERSION_1;
	if (cfg.packed)
		d->driver_features |= 1ull << VIRTIO_F_RING_PACKED;
	if (cfg.event_idx)
		d->driver_features |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	if (cfg.indirect_max)
		d->driver_features |= 1ull << VIRTIO_RING_F_INDIRECT_DESC;
	/* Split rings also on a port without cache coherency (the packed ring refuses one). */
	if (vio_vq_create(!cfg.packed && (flags & 32) ? sim_port_noncoherent() : sim_port(), &cfg,
			  &vq) != 0) {
		fz_end();
		return 0;
	}
	vio_vq_addrs(vq, &a);
	if (cfg.packed)
		sim_queue_attach_packed(d, 0, vio_vq_size(vq), (void *)(uintptr_t)a.desc,
					(void *)(uintptr_t)a.avail, (void *)(uintptr_t)a.used);
	else
		sim_queue_attach(d, 0, vio_vq_size(vq), (void *)(uintptr_t)a.desc,
				 (void *)(uintptr_t)a.avail, (void *)(uintptr_t)a.used);
	fz_hostile(d);
	for (unsigned i = 0; i < 512 && fz_more(); i++) {
		uint8_t op = fz_u8();

		if (getenv("FUZZ_TRACE"))
			fprintf(stderr, "op %#x free %u in_flight %u broken %d\n", op,
				vio_vq_num_free(vq), vio_vq_in_flight(vq), vio_vq_is_broken(vq));
		if (op & 0x80)
			device_op(d, vq, &a, cfg.packed, op & 0x7f);
		else
			driver_op(vq, op);
	}
	/* 3.3.1: after the device is reset, every chain comes back once. */
	for (void *cookie; (cookie = vio_vq_detach_unused(vq)) != NULL;)
		took(cookie, 0, false);
	for (int i = 0; i < NCOOKIE; i++) {
		if (ck[i].in_flight)
			contract("a chain in flight never came back");
	}
	vio_vq_destroy(vq);
	fz_end();
	return 0;
}
