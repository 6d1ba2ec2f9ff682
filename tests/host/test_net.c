/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-net (VirtIO 1.2 section 5.1) against the simulated network device
 * (tests/sim/net_model.c): probe on both interfaces, the receive path under
 * load (refill, mergeable buffers, buffers held by the application, the
 * callback-less receive), transmit (scatter-gather, a full ring, copies,
 * checksum offload), the control queue, link changes and announcements,
 * several queue pairs, and every way the device can break the protocol.
 * Built twice (interrupt-driven and polled completion); the data-path cases
 * run again on the non-coherent test port, whose cache model fails every
 * clean or invalidate the driver leaves out.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <vio/device.h>
#include <vio/error.h>
#include <vio/mmio.h>
#include <vio/net.h>
#include <vio/spec/virtio_config.h>
#include <vio/spec/virtio_net.h>

#include "net_model.h"
#include "sim.h"
#include "sim_cache.h"
#include "sim_port.h"
#include "test.h"
#include "vio_config.h"

#define SEC 1000000000ull
#define MS 1000000ull
#define CFG(field) ((unsigned)offsetof(struct virtio_net_config, field))
#define BIT(f) (1ull << (f))

static struct {
	uint32_t version;     /* 1 legacy, 2 modern */
	bool noncoherent;
} cfg = { 2, false };

static struct sim_net net;
static struct sim_dev *d;
static struct vio_net_params params;

/* What the callbacks saw. */
static struct {
	unsigned frames, bytes, bad, bufs;
	uint32_t next_seq[SIM_NET_PAIRS];
	unsigned per_queue[SIM_NET_PAIRS];
	unsigned max_bufs;
	bool hold;                       /* keep the buffers instead of releasing them */
	struct vio_net_rxbuf *held[4096];
	unsigned nheld;
	struct vio_net_frame last;
	unsigned tx_done, tx_failed;
	void *last_cookie;
	unsigned links, announces;
	bool link;
	bool ack_announce;
} cb;

/* One buffer per frame in flight (a ring holds 256): the device reads them late. */
static _Alignas(SIM_CACHE_LINE) uint8_t txbuf[512][1536];
static _Alignas(SIM_CACHE_LINE) uint8_t txbig[SIM_NET_FRAME_MAX + 64];
static uint8_t scratch[SIM_NET_FRAME_MAX];

static const struct vio_port *port(void)
{
	return cfg.noncoherent ? sim_port_noncoherent() : sim_port();
}

/* A recognisable frame: broadcast, source naming the queue, the sequence number. */
static void frame(uint8_t *p, uint32_t len, unsigned q, uint32_t seq)
{
	memset(p, 0xff, 6);
	p[6] = 0x02;
	memset(p + 7, 0, 4);
	p[11] = (uint8_t)q;
	p[12] = 0x08;
	p[13] = 0x00;
	for (uint32_t i = 14; i < len; i++)
		p[i] = (uint8_t)(seq * 31u + i * 7u + q);
	if (len >= 18)
		memcpy(p + 14, &seq, 4);
}

/* The frame's queue and sequence number when its bytes are right, else false. */
static bool frame_ok(const uint8_t *p, uint32_t len, unsigned *q, uint32_t *seq)
{
	uint32_t s = 0;

	if (len < 18)
		return false;
	memcpy(&s, p + 14, 4);
	*q = p[11];
	*seq = s;
	for (uint32_t i = 18; i < len; i++)
		if (p[i] != (uint8_t)(s * 31u + i * 7u + *q))
			return false;
	return true;
}

static uint32_t flatten(const struct vio_net_frame *f, uint8_t *out, unsigned *nbufs)
{
	uint32_t off = 0;
	unsigned n = 0;

	for (const struct vio_net_rxbuf *b = f->bufs; b; b = b->next, n++) {
		if (off + b->len > SIM_NET_FRAME_MAX)
			return 0;
		memcpy(out + off, b->data, b->len);
		off += b->len;
	}
	*nbufs = n;
	return off;
}

static void on_rx(struct vio_device *dev, const struct vio_net_frame *f, void *arg)
{
	unsigned q, nbufs = 0;
	uint32_t seq, len;

	(void)arg;
	cb.last = *f;
	len = flatten(f, scratch, &nbufs);
	if (len != f->len || !frame_ok(scratch, len, &q, &seq) || q != f->queue ||
	    q >= SIM_NET_PAIRS || seq != cb.next_seq[q]) {
		cb.bad++;
	} else {
		cb.next_seq[q]++;
		cb.per_queue[q]++;
	}
	cb.frames++;
	cb.bytes += f->len;
	cb.bufs += nbufs;
	if (nbufs > cb.max_bufs)
		cb.max_bufs = nbufs;
	for (struct vio_net_rxbuf *b = f->bufs, *next; b; b = next) {
		next = b->next;
		if (cb.hold && cb.nheld < 4096)
			cb.held[cb.nheld++] = b;
		else
			vio_net_rx_release(dev, b);
	}
}

static void on_tx_done(struct vio_device *dev, void *cookie, int result, void *arg)
{
	(void)dev;
	(void)arg;
	cb.last_cookie = cookie;
	if (result)
		cb.tx_failed++;
	else
		cb.tx_done++;
}

static void on_link(struct vio_device *dev, bool up, void *arg)
{
	(void)dev;
	(void)arg;
	cb.links++;
	cb.link = up;
}

static void on_announce(struct vio_device *dev, void *arg)
{
	(void)arg;
	cb.announces++;
	if (cb.ack_announce)
		CHECK_EQ(vio_net_announce_done(dev), 0); /* queued: it does not wait */
}

static const struct vio_net_ops ops = {
	.rx = on_rx, .tx_done = on_tx_done, .link_changed = on_link, .announce = on_announce,
};

/* A net device in slot 0 with pairs queue pairs, not yet added. */
static void make(unsigned pairs)
{
	memset(&cb, 0, sizeof(cb));
	CHECK_EQ(vio_init(port(), sim_os()), 0);
	CHECK_EQ(vio_driver_register(&vio_net_driver, &params), 0);
	d = sim_dev_new(0, cfg.version, VIRTIO_ID_NET);
	net_model_attach(d, &net, pairs);
}

static struct vio_device *add(int expect)
{
	struct vio_device *dev = NULL;

	CHECK_EQ(vio_mmio_add(d->base, d->irq, 0, &dev), expect);
	CHECK(dev != NULL);
	if (!dev || dev->state != VIO_DEV_READY)
		return NULL;
	CHECK_EQ(vio_dev_uses_irq(dev), !CONFIG_VIO_COMPLETION_POLL);
	return dev;
}

static struct vio_device *setup(unsigned pairs, bool with_ops)
{
	struct vio_device *dev;

	make(pairs);
	dev = add(0);
	if (dev && with_ops)
		CHECK_EQ(vio_net_set_ops(dev, &ops, NULL), 0);
	return dev;
}

/* Let the device run and the driver take what it did, a few rounds. */
static void pump(struct vio_device *dev, unsigned rounds)
{
	(void)dev;
	for (unsigned i = 0; i < rounds; i++) {
		sim_step(d);
		vio_service();
	}
}

static struct vio_net_info info_of(struct vio_device *dev)
{
	struct vio_net_info in;

	memset(&in, 0, sizeof(in));
	CHECK_EQ(vio_net_get_info(dev, &in), 0);
	return in;
}

static struct vio_net_stats stats_of(struct vio_device *dev)
{
	struct vio_net_stats st;

	memset(&st, 0, sizeof(st));
	CHECK_EQ(vio_net_get_stats(dev, &st), 0);
	return st;
}

/* Receive buffers on ring q of dev (posted, not yet used). */
static unsigned posted(struct vio_device *dev, unsigned pair)
{
	return vio_vq_in_flight(vio_dev_vq(dev, 2 * pair));
}

static int inject(unsigned q, uint32_t len, uint32_t seq, uint8_t flags)
{
	static uint8_t f[SIM_NET_FRAME_MAX];

	frame(f, len, q, seq);
	return net_model_inject(d, q, f, len, flags);
}

/* Send frame seq of len bytes on pair q as nseg segments. */
static int send(struct vio_device *dev, unsigned q, uint32_t len, uint32_t seq, unsigned nseg,
		const struct vio_net_tx_csum *csum)
{
	uint8_t *p = len > sizeof(txbuf[0]) ? txbig : txbuf[seq % 512];
	struct vio_sg sg[8];
	uint32_t off = 0;

	frame(p, len, q, seq);
	for (unsigned i = 0; i < nseg; i++) {
		uint32_t n = i == nseg - 1 ? len - off : len / nseg;

		sg[i].buf = p + off;
		sg[i].len = n;
		off += n;
	}
	return vio_net_send(dev, q, sg, nseg, csum, (void *)(uintptr_t)(seq + 1));
}

static bool tx_logged(unsigned i, unsigned q, uint32_t len, uint32_t seq)
{
	const struct sim_net_frame *f = net_model_tx(d, i);
	static uint8_t want[SIM_NET_FRAME_MAX];

	frame(want, len, q, seq);
	return f && f->len == len && f->pair == q && !memcmp(f->data, want, len);
}

/* ------------------------------------------------------------------ */
/* Probe */

static void test_probe(void)
{
	struct vio_device *dev = setup(1, false);
	struct vio_net_info in;
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

	if (!dev)
		return;
	CHECK_STR(dev->name, "net0");
	in = info_of(dev);
	CHECK(!memcmp(in.mac, mac, 6));
	CHECK(in.mac_from_device);
	CHECK(in.link_up && in.has_status);
	CHECK_EQ(in.mtu, 1500);
	CHECK_EQ(in.hdr_len, 12);
	CHECK(in.mrg_rxbuf && in.csum && in.guest_csum && in.ctrl_vq && in.ctrl_rx);
	CHECK(in.ctrl_mac && in.announce);
	CHECK_EQ(in.queue_pairs, 1);
	CHECK_EQ(in.max_queue_pairs, 1);
	CHECK_EQ(in.rx_queue_size, 256);
	CHECK_EQ(in.tx_queue_size, 256);
	CHECK_EQ(in.rx_buffer_size, 2048 - 12);
	if (cfg.version == 2) {
		CHECK_EQ(in.speed, 1000);
		CHECK_EQ(in.duplex, 1);
	} else {
		/* SPEED_DUPLEX is bit 63: a legacy device shows 32 feature bits */
		CHECK_EQ(in.speed, VIO_NET_SPEED_UNKNOWN);
		CHECK_EQ(in.duplex, VIO_NET_DUPLEX_UNKNOWN);
		CHECK(vio_dev_has(dev, VIRTIO_F_ANY_LAYOUT));
	}
	CHECK(!vio_dev_has(dev, VIRTIO_NET_F_GUEST_TSO4));
	CHECK_STR(vio_dev_feature_name(dev, VIRTIO_NET_F_MRG_RXBUF), "NET_MRG_RXBUF");
	CHECK(sim_log_contains("net0: mac 52:54:00:12:34:56"));
	/* The receive ring was filled once the device was live. */
	sim_step(d);
	CHECK_EQ(posted(dev, 0), 256);
	CHECK_EQ(sim_held(d, 0), 256);
	CHECK_EQ(vio_net_check(dev), 0);
}

/* Legacy without MRG_RXBUF: the 10-byte header; without ANY_LAYOUT, apart. */
static void legacy_layout(bool any_layout)
{
	struct vio_device *dev;
	struct vio_net_info in;

	make(1);
	d->features &= ~BIT(VIRTIO_NET_F_MRG_RXBUF);
	if (!any_layout)
		d->features &= ~BIT(VIRTIO_F_ANY_LAYOUT);
	dev = add(0);
	if (!dev)
		return;
	CHECK_EQ(vio_net_set_ops(dev, &ops, NULL), 0);
	in = info_of(dev);
	CHECK_EQ(in.hdr_len, cfg.version == 1 ? 10 : 12);
	CHECK(!in.mrg_rxbuf);
	CHECK(in.rx_buffer_size >= 1500 + 14 + 4);
	CHECK_EQ(vio_dev_has(dev, VIRTIO_F_ANY_LAYOUT), cfg.version == 1 && any_layout);
	CHECK(sim_log_contains("header apart") == (cfg.version == 1 && !any_layout));
	/* Both directions; the model checks the header's descriptor. */
	for (uint32_t i = 0; i < 20; i++) {
		CHECK_EQ(inject(0, 60 + i * 70, i, 0), 0);
		CHECK_EQ(send(dev, 0, 60 + i * 70, i, 1 + i % 3, NULL), 0);
	}
	pump(dev, 4);
	CHECK_EQ(cb.frames, 20);
	CHECK_EQ(cb.bad, 0);
	CHECK_EQ(cb.tx_done, 20);
	for (uint32_t i = 0; i < 20; i++)
		CHECK(tx_logged(i, 0, 60 + i * 70, i));
}

static void test_layout_any(void)
{
	legacy_layout(true);
}

static void test_layout_apart(void)
{
	legacy_layout(false);
}

static void test_mac(void)
{
	struct vio_device *dev;
	struct vio_net_info in;
	static const uint8_t mine[6] = { 0x02, 1, 2, 3, 4, 5 };

	make(1);
	d->features &= ~BIT(VIRTIO_NET_F_MAC);
	dev = add(0);
	if (!dev)
		return;
	in = info_of(dev);
	CHECK(!in.mac_from_device);
	CHECK_EQ(in.mac[0] & 3, 2); /* locally administered, unicast */

	sim_reset_all();
	sim_port_reset();
	params.mac_set = true;
	memcpy(params.mac, mine, 6);
	make(1);
	d->features &= ~BIT(VIRTIO_NET_F_MAC);
	dev = add(0);
	if (!dev)
		return;
	in = info_of(dev);
	CHECK(!memcmp(in.mac, mine, 6));
	CHECK(!in.mac_from_device);
}

static void test_mtu(void)
{
	struct vio_device *dev;
	struct vio_net_info in;

	make(1);
	d->features &= ~BIT(VIRTIO_NET_F_MRG_RXBUF);
	sim_config_set(d, CFG(mtu), 2, 9000);
	dev = add(0);
	if (!dev)
		return;
	CHECK_EQ(vio_net_set_ops(dev, &ops, NULL), 0);
	in = info_of(dev);
	CHECK_EQ(in.mtu, 9000);
	CHECK(in.rx_buffer_size >= 9000 + 14 + 4);
	CHECK_EQ(send(dev, 0, 9014, 0, 3, NULL), 0);
	pump(dev, 2); /* the next calls reuse its buffer */
	CHECK_EQ(send(dev, 0, 9015, 1, 3, NULL), VIO_EMSGSIZE);
	CHECK_EQ(send(dev, 0, 13, 1, 1, NULL), VIO_EMSGSIZE);
	CHECK_EQ(vio_net_send_copy(dev, 0, txbuf[0], 9015), VIO_EMSGSIZE);
	CHECK_EQ(inject(0, 9014, 0, 0), 0);
	pump(dev, 3);
	CHECK_EQ(net.tx_frames, 1);
	CHECK(tx_logged(0, 0, 9014, 0));
	CHECK_EQ(cb.frames, 1);
	CHECK_EQ(cb.bad, 0);
	CHECK_EQ(cb.max_bufs, 1);
}

static void test_mtu_default(void)
{
	struct vio_device *dev;

	make(1);
	d->features &= ~BIT(VIRTIO_NET_F_MTU);
	sim_config_set(d, CFG(mtu), 2, 9000); /* not offered: ignored */
	dev = add(0);
	if (!dev)
		return;
	CHECK_EQ(info_of(dev).mtu, 1500);
	CHECK_EQ(send(dev, 0, 1515, 0, 1, NULL), VIO_EMSGSIZE);
	CHECK_EQ(send(dev, 0, 1514, 0, 1, NULL), 0);
	pump(dev, 2);
	CHECK_EQ(net.tx_frames, 1);
}

/* A configuration the spec forbids refuses the device. */
static void refused(void (*spoil)(void))
{
	struct vio_device *dev = NULL;

	make(4);
	spoil();
	CHECK_EQ(vio_mmio_add(d->base, d->irq, 0, &dev), VIO_EPROTO);
	CHECK(dev && dev->state == VIO_DEV_FAILED);
	CHECK(sim_log_contains("refused"));
	CHECK_EQ(vio_net_send_copy(dev, 0, txbuf[0], 60), VIO_ENODEV);
	CHECK_EQ(sim_dma_live(), 0); /* everything given back */
}

static void mtu_low(void)
{
	sim_config_set(d, CFG(mtu), 2, 67);
}

static void pairs_zero(void)
{
	sim_config_set(d, CFG(max_virtqueue_pairs), 2, 0);
}

static void pairs_high(void)
{
	sim_config_set(d, CFG(max_virtqueue_pairs), 2, 0x8001);
}

static void no_ctrl_vq(void)
{
	d->features &= ~BIT(VIRTIO_NET_F_CTRL_VQ);
}

static void test_refused(void)
{
	refused(mtu_low);
	sim_reset_all();
	sim_port_reset();
	refused(pairs_zero);
	sim_reset_all();
	sim_port_reset();
	refused(pairs_high);
}

/*
 * 5.1.3.1: control features offered without CTRL_VQ (QEMU with ctrl_vq=off
 * does it) are not accepted; the device works without a control queue.
 */
static void test_ctrl_features_without_ctrl_vq(void)
{
	uint64_t ctrl = BIT(VIRTIO_NET_F_CTRL_RX) | BIT(VIRTIO_NET_F_CTRL_MAC_ADDR) |
			BIT(VIRTIO_NET_F_GUEST_ANNOUNCE) | BIT(VIRTIO_NET_F_MQ);
	struct vio_device *dev;
	struct vio_net_info in;

	make(4);
	no_ctrl_vq();
	dev = add(0);
	if (!dev)
		return;
	CHECK_EQ(d->driver_features & (ctrl | BIT(VIRTIO_NET_F_CTRL_VQ)), 0);
	CHECK(sim_log_contains("offered without CTRL_VQ"));
	in = info_of(dev);
	CHECK(!in.ctrl_vq && !in.ctrl_rx);
	CHECK_EQ(in.queue_pairs, 1);
	CHECK_EQ(vio_net_set_promisc(dev, true), VIO_ENOTSUP);
	CHECK_EQ(send(dev, 0, 60, 0, 1, NULL), 0);
	pump(dev, 2);
	CHECK_EQ(net.tx_frames, 1);
}

/* Running out of DMA memory anywhere in probe gives everything back. */
static void test_probe_nomem(void)
{
	for (int k = 0; k < 200; k++) {
		struct vio_device *dev = NULL;
		int rc;

		sim_reset_all();
		sim_port_reset();
		params.max_queue_pairs = 2;
		make(2);
		sim_dma_fail_after = k;
		rc = vio_mmio_add(d->base, d->irq, 0, &dev);
		sim_dma_fail_after = -1;
		if (!rc) {
			CHECK(k > 10);
			CHECK_EQ(dev->state, VIO_DEV_READY);
			return;
		}
		CHECK_EQ(rc, VIO_ENOMEM);
		CHECK_EQ(sim_dma_live(), 0);
	}
	CHECK(false); /* never got through */
}

/* ------------------------------------------------------------------ */
/* Receive */

/* Thousands of frames in bursts bigger than the ring, every byte checked. */
static void test_rx_load(void)
{
	struct vio_device *dev = setup(1, true);
	uint32_t seq = 0;
	struct vio_net_stats st;
	uint64_t bytes = 0;

	if (!dev)
		return;
	for (unsigned burst = 0; burst < 12; burst++) {
		unsigned n = 300 + burst * 17;

		for (unsigned i = 0; i < n; i++, seq++) {
			uint32_t len = 60 + (seq * 97) % (1514 - 60 + 1);

			CHECK_EQ(inject(0, len, seq, 0), 0);
			bytes += len;
		}
		for (unsigned r = 0; r < 20 && net_model_pending(d, 0); r++) {
			pump(dev, 1);
			CHECK(posted(dev, 0) > 0); /* never dry */
		}
		CHECK_EQ(net_model_pending(d, 0), 0);
	}
	pump(dev, 1);
	CHECK_EQ(cb.frames, seq);
	CHECK_EQ(cb.bad, 0);
	CHECK_EQ(cb.next_seq[0], seq);
	CHECK_EQ(posted(dev, 0), 256);
	st = stats_of(dev);
	CHECK_EQ(st.rx_frames, seq);
	CHECK_EQ(st.rx_bytes, bytes);
	CHECK_EQ(st.rx_drops, 0);
	CHECK_EQ(st.rx_errors, 0);
	CHECK_EQ(dev->state, VIO_DEV_READY);
}

/* Frames over several 2 KiB buffers (5.1.6.4, num_buffers). */
static void test_rx_mergeable(void)
{
	struct vio_device *dev;
	static const uint32_t lens[] = { 2036, 2037, 4000, 6000, 9014, 60, 8100, 2048 };

	make(1);
	sim_config_set(d, CFG(mtu), 2, 9000);
	dev = add(0);
	if (!dev)
		return;
	CHECK_EQ(vio_net_set_ops(dev, &ops, NULL), 0);
	for (unsigned round = 0; round < 40; round++) {
		for (unsigned i = 0; i < 8; i++)
			CHECK_EQ(inject(0, lens[i], round * 8 + i, 0), 0);
		pump(dev, 3);
	}
	pump(dev, 3);
	CHECK_EQ(cb.frames, 320);
	CHECK_EQ(cb.bad, 0);
	CHECK_EQ(cb.max_bufs, 5); /* 12 + 9014 bytes in 2048-byte buffers */
	CHECK_EQ(net.max_num_buffers, 5);
	CHECK_EQ(posted(dev, 0), 256);
}

/* The application holds frames (zero-copy) and gives them back later. */
static void test_rx_hold(void)
{
	struct vio_device *dev;

	params.rx_buffers = 512; /* more buffers than ring entries */
	dev = setup(1, true);
	if (!dev)
		return;
	cb.hold = true;
	for (uint32_t i = 0; i < 200; i++)
		CHECK_EQ(inject(0, 100 + i, i, 0), 0);
	pump(dev, 3);
	CHECK_EQ(cb.nheld, 200);
	CHECK_EQ(posted(dev, 0), 256); /* refilled from the spare buffers */
	for (uint32_t i = 200; i < 400; i++)
		CHECK_EQ(inject(0, 100 + i, i, 0), 0);
	pump(dev, 4);
	CHECK_EQ(cb.nheld, 400);
	CHECK_EQ(posted(dev, 0), 112); /* 512 - 400 */
	/* What is held is intact: more traffic never reused it. */
	for (unsigned i = 0; i < cb.nheld; i++) {
		unsigned q;
		uint32_t s;

		CHECK(frame_ok(cb.held[i]->data, cb.held[i]->len, &q, &s) && s == i);
	}
	/* Release half now: they go straight back on the ring. */
	for (unsigned i = 0; i < 200; i++)
		vio_net_rx_release(dev, cb.held[i]);
	CHECK_EQ(posted(dev, 0), 256);
	/* A second release of the same buffer is refused. */
	vio_net_rx_release(dev, cb.held[0]);
	CHECK(sim_log_contains("not lent"));
	for (unsigned i = 200; i < 400; i++)
		vio_net_rx_release(dev, cb.held[i]);
	cb.hold = false;
	for (uint32_t i = 400; i < 700; i++)
		CHECK_EQ(inject(0, 60, i, 0), 0);
	pump(dev, 5);
	CHECK_EQ(cb.frames, 700);
	CHECK_EQ(cb.bad, 0);
	CHECK_EQ(posted(dev, 0), 256);
}

/* Without a callback: vio_net_recv, and a bounded waiting list. */
static void test_recv(void)
{
	struct vio_device *dev = setup(1, false);
	static uint8_t out[SIM_NET_FRAME_MAX];
	struct vio_net_stats st;
	unsigned q;
	uint32_t s, kept;
	int rc;

	if (!dev)
		return;
	CHECK_EQ(vio_net_recv(dev, out, sizeof(out), 0), VIO_EAGAIN);
	CHECK_EQ(vio_net_recv(dev, out, sizeof(out), 5 * MS), VIO_ETIMEDOUT);
	for (uint32_t i = 0; i < 5; i++)
		CHECK_EQ(inject(0, 200 + i, i, 0), 0);
	/* The device delivers while the caller waits. */
	for (uint32_t i = 0; i < 4; i++) {
		rc = vio_net_recv(dev, out, sizeof(out), SEC);
		CHECK_EQ(rc, (int)(200 + i));
		CHECK(rc > 0 && frame_ok(out, (uint32_t)rc, &q, &s) && s == i);
	}
	CHECK_EQ(vio_net_recv(dev, out, 100, 0), VIO_EMSGSIZE); /* dropped */
	CHECK_EQ(vio_net_recv(dev, out, sizeof(out), 0), VIO_EAGAIN);
	CHECK_EQ(stats_of(dev).rx_drops, 1);

	/* Nobody reads: at most half the buffers wait, the oldest go first. */
	for (uint32_t burst = 0; burst < 5; burst++) {
		for (uint32_t i = 0; i < 200; i++)
			CHECK_EQ(inject(0, 64, 1000 + burst * 200 + i, 0), 0);
		for (unsigned r = 0; r < 5; r++) {
			pump(dev, 1);
			CHECK(posted(dev, 0) >= 128);
		}
	}
	st = stats_of(dev);
	kept = 1000 - (uint32_t)(st.rx_drops - 1);
	CHECK_EQ(kept, 128);
	for (uint32_t i = 0; i < kept; i++) {
		rc = vio_net_recv(dev, out, sizeof(out), 0);
		CHECK_EQ(rc, 64);
		CHECK(rc > 0 && frame_ok(out, 64, &q, &s) && s == 2000 - kept + i);
	}
	CHECK_EQ(vio_net_recv(dev, out, sizeof(out), 0), VIO_EAGAIN);
	CHECK_EQ(posted(dev, 0), 256);
	/* Waiting frames go to a callback installed later; recv is then refused. */
	CHECK_EQ(inject(0, 80, 0, 0), 0);
	pump(dev, 2);
	CHECK_EQ(vio_net_set_ops(dev, &ops, NULL), 0);
	CHECK_EQ(vio_net_recv(dev, out, sizeof(out), 0), VIO_EBUSY);
	vio_net_poll(dev);
	CHECK_EQ(cb.frames, 1);
	CHECK_EQ(cb.bad, 0);
}

/* ------------------------------------------------------------------ */
/* Transmit */

static void test_tx(void)
{
	struct vio_device *dev = setup(1, true);
	struct vio_net_stats st;
	uint64_t bytes = 0;

	if (!dev)
		return;
	for (uint32_t i = 0; i < 600; i++) {
		uint32_t len = 14 + (i * 131) % 1501;

		CHECK_EQ(send(dev, 0, len, i, 1 + i % 8, NULL), 0);
		bytes += len;
		if (i % 50 == 49)
			pump(dev, 2);
	}
	pump(dev, 2);
	CHECK_EQ(net.tx_frames, 600);
	CHECK_EQ(cb.tx_done, 600);
	CHECK_EQ(cb.last_cookie, (void *)(uintptr_t)600);
	for (uint32_t i = 600 - SIM_NET_TX_LOG; i < 600; i++)
		CHECK(tx_logged(i, 0, 14 + (i * 131) % 1501, i));
	st = stats_of(dev);
	CHECK_EQ(st.tx_frames, 600);
	CHECK_EQ(st.tx_bytes, bytes);
	CHECK_EQ(st.tx_busy, 0);
	/* Bad arguments, nothing taken. */
	{
		struct vio_sg sg[9];

		for (unsigned i = 0; i < 9; i++)
			sg[i] = (struct vio_sg){ txbuf[0] + i * 10, 10 };
		CHECK_EQ(vio_net_send(dev, 0, sg, 9, NULL, NULL), VIO_EINVAL);
		CHECK_EQ(vio_net_send(dev, 1, sg, 2, NULL, NULL), VIO_EINVAL);
		CHECK_EQ(vio_net_send(dev, 0, NULL, 1, NULL, NULL), VIO_EINVAL);
	}
	pump(dev, 1);
	CHECK_EQ(net.tx_frames, 600);
}

/* A full ring is VIO_EBUSY with nothing lost. */
static void test_tx_full(void)
{
	struct vio_device *dev = setup(1, true);
	uint32_t sent = 0, busy = 0;

	if (!dev)
		return;
	net.tx_hold = true;
	while (sent < 1000) {
		int rc = send(dev, 0, 100, sent, 2, NULL);

		if (rc == VIO_EBUSY) {
			busy++;
			break;
		}
		CHECK_EQ(rc, 0);
		sent++;
	}
	CHECK(sent >= 128 && sent <= 256);
	CHECK_EQ(stats_of(dev).tx_busy, 1);
	pump(dev, 1);
	CHECK_EQ(net.tx_frames, 0);
	net.tx_hold = false;
	while (sent < 1000) {
		int rc = send(dev, 0, 100, sent, 2, NULL);

		if (rc == VIO_EBUSY) {
			busy++;
			pump(dev, 1);
			continue;
		}
		CHECK_EQ(rc, 0);
		sent++;
	}
	pump(dev, 2);
	CHECK_EQ(net.tx_frames, 1000);
	CHECK_EQ(cb.tx_done, 1000);
	for (uint32_t i = 1000 - SIM_NET_TX_LOG; i < 1000; i++)
		CHECK(tx_logged(i, 0, 100, i));
	CHECK_EQ(stats_of(dev).tx_busy, busy);
}

static void test_tx_copy(void)
{
	struct vio_device *dev = setup(1, true);
	static uint8_t f[1514];
	uint32_t sent = 0;

	if (!dev)
		return;
	while (sent < 100) {
		int rc;

		frame(f, 60 + sent * 13, 0, sent);
		rc = vio_net_send_copy(dev, 0, f, 60 + sent * 13);
		memset(f, 0, sizeof(f)); /* the caller's again */
		if (rc == VIO_EBUSY) {
			pump(dev, 1);
			continue;
		}
		CHECK_EQ(rc, 0);
		sent++;
	}
	pump(dev, 2);
	CHECK_EQ(net.tx_frames, 100);
	for (uint32_t i = 0; i < 100; i++)
		CHECK(tx_logged(i, 0, 60 + i * 13, i));
	CHECK(stats_of(dev).tx_busy > 0); /* 16 copy buffers */
	CHECK_EQ(cb.tx_done, 0);          /* copies have no tx_done */
}

/* ------------------------------------------------------------------ */
/* Checksums */

static void test_csum(void)
{
	struct vio_device *dev = setup(1, true);
	struct vio_net_tx_csum cs = { 34, 16 };
	struct vio_net_tx_csum bad = { 90, 10 };
	static uint8_t f[200];

	if (!dev)
		return;
	CHECK_EQ(send(dev, 0, 100, 0, 2, &cs), 0);
	CHECK_EQ(send(dev, 0, 100, 1, 2, &bad), VIO_EINVAL);
	CHECK_EQ(send(dev, 0, 100, 1, 2, NULL), 0);
	pump(dev, 2);
	CHECK_EQ(net.tx_frames, 2);
	CHECK_EQ(net.tx_log[0].flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	CHECK_EQ(net.tx_log[0].csum_start, 34);
	CHECK_EQ(net.tx_log[0].csum_offset, 16);
	CHECK_EQ(net.tx_log[1].flags, 0);

	frame(f, 100, 0, 0);
	CHECK_EQ(net_model_inject_hdr(d, 0, f, 100, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 34, 6), 0);
	pump(dev, 2);
	CHECK_EQ(cb.last.csum, VIO_NET_CSUM_PARTIAL);
	CHECK_EQ(cb.last.csum_start, 34);
	CHECK_EQ(cb.last.csum_offset, 6);
	CHECK_EQ(inject(0, 100, 1, VIRTIO_NET_HDR_F_DATA_VALID), 0);
	pump(dev, 2);
	CHECK_EQ(cb.last.csum, VIO_NET_CSUM_VALID);
	CHECK_EQ(inject(0, 100, 2, 0), 0);
	pump(dev, 2);
	CHECK_EQ(cb.last.csum, VIO_NET_CSUM_NONE);
	/* Offsets outside the frame, or GSO never negotiated: dropped and counted. */
	frame(f, 100, 0, 3);
	CHECK_EQ(net_model_inject_hdr(d, 0, f, 100, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 90, 20), 0);
	CHECK_EQ(net_model_inject_hdr(d, 0, f, 100, 0, VIRTIO_NET_HDR_GSO_TCPV4, 0, 0), 0);
	pump(dev, 2);
	CHECK_EQ(cb.frames, 3);
	CHECK_EQ(stats_of(dev).rx_errors, 2);
	CHECK_EQ(dev->state, VIO_DEV_READY);
	CHECK_EQ(posted(dev, 0), 256);
}

static void test_csum_off(void)
{
	struct vio_device *dev;
	struct vio_net_tx_csum cs = { 34, 16 };

	make(1);
	d->features &= ~(BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_GUEST_CSUM));
	dev = add(0);
	if (!dev)
		return;
	CHECK_EQ(vio_net_set_ops(dev, &ops, NULL), 0);
	CHECK_EQ(send(dev, 0, 100, 0, 1, &cs), VIO_ENOTSUP);
	/* Flags the driver did not ask for: the frame is dropped. */
	CHECK_EQ(inject(0, 100, 0, VIRTIO_NET_HDR_F_DATA_VALID), 0);
	CHECK_EQ(inject(0, 100, 0, 0), 0);
	pump(dev, 2);
	CHECK_EQ(cb.frames, 1);
	CHECK_EQ(cb.last.csum, VIO_NET_CSUM_NONE);
	CHECK_EQ(stats_of(dev).rx_errors, 1);
}

/* ------------------------------------------------------------------ */
/* Control queue, link, announce */

static void test_ctrl(void)
{
	struct vio_device *dev = setup(1, true);
	static const uint8_t uc[2][6] = { { 2, 0, 0, 0, 0, 1 }, { 2, 0, 0, 0, 0, 2 } };
	static const uint8_t mc[3][6] = { { 1, 0, 0x5e, 0, 0, 1 }, { 1, 0, 0x5e, 0, 0, 2 },
					  { 0x33, 0x33, 0, 0, 0, 1 } };
	static const uint8_t mac[6] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee };
	static uint8_t many[65][6];

	if (!dev)
		return;
	CHECK_EQ(vio_net_set_promisc(dev, true), 0);
	CHECK(net.promisc);
	CHECK_EQ(vio_net_set_allmulti(dev, true), 0);
	CHECK(net.allmulti);
	CHECK_EQ(vio_net_set_promisc(dev, false), 0);
	CHECK(!net.promisc);
	CHECK_EQ(vio_net_set_mac_filter(dev, uc, 2, mc, 3), 0);
	CHECK_EQ(net.n_uc, 2);
	CHECK_EQ(net.n_mc, 3);
	CHECK(!memcmp(net.mc[2], mc[2], 6));
	CHECK_EQ(vio_net_set_mac_filter(dev, NULL, 0, NULL, 0), 0);
	CHECK_EQ(net.n_uc + net.n_mc, 0);
	CHECK_EQ(vio_net_set_mac_filter(dev, many, 65, NULL, 0), VIO_ERANGE);
	CHECK_EQ(vio_net_set_mac(dev, mac), 0);
	CHECK(!memcmp(d->config, mac, 6));
	CHECK(!memcmp(info_of(dev).mac, mac, 6));
	CHECK_EQ(vio_net_set_queue_pairs(dev, 1), VIO_ENOTSUP); /* no MQ */
	/* The device says no. */
	net.ctrl_ack = VIRTIO_NET_ERR;
	CHECK_EQ(vio_net_set_promisc(dev, true), VIO_EIO);
	net.ctrl_ack = 7;
	CHECK_EQ(vio_net_set_allmulti(dev, false), VIO_EIO);
	net.ctrl_ack = -1;
	CHECK_EQ(vio_net_set_allmulti(dev, false), 0);
	CHECK_EQ(dev->state, VIO_DEV_READY);
	/* Traffic still flows. */
	CHECK_EQ(inject(0, 100, 0, 0), 0);
	CHECK_EQ(send(dev, 0, 100, 0, 1, NULL), 0);
	pump(dev, 2);
	CHECK_EQ(cb.frames, 1);
	CHECK_EQ(net.tx_frames, 1);
}

static void test_ctrl_missing(void)
{
	struct vio_device *dev;
	static const uint8_t mac[6] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee };

	make(1);
	d->features &= ~(BIT(VIRTIO_NET_F_CTRL_VQ) | BIT(VIRTIO_NET_F_CTRL_RX) |
			 BIT(VIRTIO_NET_F_CTRL_MAC_ADDR) | BIT(VIRTIO_NET_F_GUEST_ANNOUNCE));
	dev = add(0);
	if (!dev)
		return;
	CHECK_EQ(vio_net_set_promisc(dev, true), VIO_ENOTSUP);
	CHECK_EQ(vio_net_announce_done(dev), VIO_ENOTSUP);
	/* 5.1.6.5.2 legacy: the config field is written; modern: read-only */
	CHECK_EQ(vio_net_set_mac(dev, mac), cfg.version == 1 ? 0 : VIO_ENOTSUP);
	if (cfg.version == 1)
		CHECK(!memcmp(d->config, mac, 6));
}

/* A command with no ack, or none at all, fails the device. */
static void ctrl_broken(bool hold)
{
	struct vio_device *dev;

	params.timeout_ms = 20; /* a polled wait spins through every simulated microsecond */
	dev = setup(1, true);

	if (!dev)
		return;
	CHECK_EQ(send(dev, 0, 100, 0, 1, NULL), 0); /* in flight when it fails */
	net.tx_hold = true;
	pump(dev, 1);
	if (hold)
		net.ctrl_hold = true;
	else
		net.ctrl_no_ack = true;
	CHECK_EQ(vio_net_set_promisc(dev, true), hold ? VIO_ETIMEDOUT : VIO_EPROTO);
	CHECK_EQ(dev->state, VIO_DEV_FAILED);
	CHECK_EQ(dev->error, hold ? VIO_ETIMEDOUT : VIO_EPROTO);
	CHECK_EQ(cb.tx_failed, 1); /* given back after the reset */
	CHECK_EQ(stats_of(dev).tx_errors, 1);
	CHECK_EQ(vio_net_set_promisc(dev, true), VIO_ESHUTDOWN);
	CHECK_EQ(send(dev, 0, 100, 1, 1, NULL), VIO_ESHUTDOWN);
}

static void test_ctrl_no_ack(void)
{
	ctrl_broken(false);
}

static void test_ctrl_timeout(void)
{
	ctrl_broken(true);
}

static void test_link(void)
{
	struct vio_device *dev = setup(1, true);
	uint16_t st = 0;

	if (!dev)
		return;
	pump(dev, 1);
	sim_config_change(d, CFG(status), &st, 2);
	for (unsigned i = 0; i < 300 && !cb.links; i++)
		vio_service();
	CHECK_EQ(cb.links, 1);
	CHECK(!cb.link);
	CHECK(!info_of(dev).link_up);
	st = VIRTIO_NET_S_LINK_UP;
	sim_config_change(d, CFG(status), &st, 2);
	for (unsigned i = 0; i < 300 && cb.links < 2; i++)
		vio_service();
	CHECK_EQ(cb.links, 2);
	CHECK(cb.link);
	CHECK(info_of(dev).link_up);
	/* The same status again is no change. */
	sim_config_change(d, CFG(status), &st, 2);
	for (unsigned i = 0; i < 300; i++)
		vio_service();
	CHECK_EQ(cb.links, 2);
}

static void test_announce(void)
{
	struct vio_device *dev = setup(1, true);
	uint16_t st = VIRTIO_NET_S_LINK_UP | VIRTIO_NET_S_ANNOUNCE;

	if (!dev)
		return;
	sim_config_change(d, CFG(status), &st, 2);
	for (unsigned i = 0; i < 300 && !cb.announces; i++)
		vio_service();
	CHECK_EQ(cb.announces, 1);
	CHECK_EQ(cb.links, 0);
	/* Still asked: not announced twice before the ack. */
	sim_config_change(d, CFG(status), &st, 2);
	for (unsigned i = 0; i < 300; i++)
		vio_service();
	CHECK_EQ(cb.announces, 1);
	CHECK_EQ(vio_net_announce_done(dev), 0);
	pump(dev, 2);
	CHECK_EQ(net.announce_acks, 1);
	CHECK_EQ(d->config[CFG(status)], VIRTIO_NET_S_LINK_UP);
	/* Asked again, acknowledged from the callback itself. */
	cb.ack_announce = true;
	sim_config_change(d, CFG(status), &st, 2);
	for (unsigned i = 0; i < 300 && cb.announces < 2; i++)
		vio_service();
	CHECK_EQ(cb.announces, 2);
	pump(dev, 2);
	CHECK_EQ(net.announce_acks, 2);
	/* A command right behind the ack waits for the buffer. */
	cb.ack_announce = false;
	sim_config_change(d, CFG(status), &st, 2);
	for (unsigned i = 0; i < 300 && cb.announces < 3; i++)
		vio_service();
	CHECK_EQ(vio_net_announce_done(dev), 0);
	CHECK_EQ(vio_net_set_promisc(dev, true), 0);
	CHECK_EQ(net.announce_acks, 3);
	CHECK(net.promisc);
	/* A refused ack is logged; the device goes on. */
	sim_config_change(d, CFG(status), &st, 2);
	for (unsigned i = 0; i < 300 && cb.announces < 4; i++)
		vio_service();
	CHECK_EQ(cb.announces, 4);
	net.ctrl_ack = VIRTIO_NET_ERR;
	CHECK_EQ(vio_net_announce_done(dev), 0);
	pump(dev, 2);
	CHECK(sim_log_contains("announcement ack was answered"));
	CHECK_EQ(dev->state, VIO_DEV_READY);
	sim_config_change(d, CFG(status), &st, 2);
	for (unsigned i = 0; i < 300 && cb.announces < 5; i++)
		vio_service();
	CHECK_EQ(cb.announces, 5);
	net.ctrl_ack = -1;
	CHECK_EQ(vio_net_set_allmulti(dev, true), 0);
}

/* ------------------------------------------------------------------ */
/* Several queue pairs */

static void test_mq(void)
{
	struct vio_device *dev;
	struct vio_net_info in;

	params.max_queue_pairs = 4;
	dev = setup(6, true);
	if (!dev)
		return;
	in = info_of(dev);
	CHECK_EQ(in.max_queue_pairs, 6);
	CHECK_EQ(in.queue_pairs, 4); /* enabled once the device was live */
	CHECK_EQ(net.pairs, 4);
	for (unsigned p = 0; p < 4; p++)
		CHECK_EQ(posted(dev, p), 256);
	CHECK(vio_dev_vq(dev, 12) != NULL); /* control queue: 2 * max_virtqueue_pairs */
	for (uint32_t i = 0; i < 400; i++) {
		for (unsigned p = 0; p < 4; p++) {
			CHECK_EQ(inject(p, 60 + i, i, 0), 0);
			CHECK_EQ(send(dev, p, 60 + i, i, 2, NULL), 0);
		}
		if (i % 64 == 63)
			pump(dev, 2);
	}
	pump(dev, 3);
	CHECK_EQ(cb.bad, 0);
	for (unsigned p = 0; p < 4; p++) {
		CHECK_EQ(cb.per_queue[p], 400);
		CHECK_EQ(net.tx_per_pair[p], 400);
		CHECK_EQ(net.rx_per_pair[p], 400);
	}
	CHECK_EQ(cb.tx_done, 1600);
	CHECK_EQ(send(dev, 4, 60, 0, 1, NULL), VIO_EINVAL);
	CHECK_EQ(vio_net_set_queue_pairs(dev, 5), VIO_ERANGE);
	CHECK_EQ(vio_net_set_queue_pairs(dev, 0), VIO_ERANGE);
	CHECK_EQ(vio_net_set_queue_pairs(dev, 2), 0);
	CHECK_EQ(net.pairs, 2);
	CHECK_EQ(info_of(dev).queue_pairs, 2);
	CHECK_EQ(send(dev, 2, 60, 0, 1, NULL), VIO_EINVAL);
}

/* ------------------------------------------------------------------ */
/* A device that breaks the protocol */

/* The device is failed, with what it held given back and lent buffers intact. */
static void broken(struct vio_device *dev, int err)
{
	struct vio_net_stats st = stats_of(dev);

	CHECK_EQ(dev->state, VIO_DEV_FAILED);
	CHECK_EQ(dev->error, err);
	CHECK_EQ(vio_net_check(dev), VIO_ESHUTDOWN);
	CHECK_EQ(send(dev, 0, 100, 0, 1, NULL), VIO_ESHUTDOWN);
	CHECK_EQ(vio_net_recv(dev, scratch, sizeof(scratch), 0), VIO_ESHUTDOWN);
	CHECK_EQ(posted(dev, 0), 0);
	CHECK_EQ(st.tx_errors, cb.tx_failed);
	/* Lent buffers stay valid and can be given back. */
	for (unsigned i = 0; i < cb.nheld; i++) {
		unsigned q;
		uint32_t s;

		CHECK(frame_ok(cb.held[i]->data, cb.held[i]->len, &q, &s));
		vio_net_rx_release(dev, cb.held[i]);
	}
	cb.nheld = 0;
	pump(dev, 2);
	CHECK_EQ(posted(dev, 0), 0);
}

/* Frames before the fault arrive; a held one stays readable. */
static struct vio_device *victim(bool mergeable)
{
	struct vio_device *dev;

	make(1);
	if (!mergeable)
		d->features &= ~BIT(VIRTIO_NET_F_MRG_RXBUF);
	dev = add(0);
	if (!dev)
		return NULL;
	CHECK_EQ(vio_net_set_ops(dev, &ops, NULL), 0);
	cb.hold = true;
	CHECK_EQ(inject(0, 300, 0, 0), 0);
	CHECK_EQ(send(dev, 0, 100, 0, 1, NULL), 0);
	net.tx_hold = true;
	pump(dev, 2);
	CHECK_EQ(cb.nheld, 1);
	return dev;
}

/* The frame after the victim's, which meets the knob. */
static void feed(struct vio_device *dev)
{
	CHECK_EQ(inject(0, 300, 1, 0), 0);
	pump(dev, 2);
}

static void test_bad_short(void)
{
	struct vio_device *dev = victim(true);

	if (!dev)
		return;
	net.rx_short_once = true;
	feed(dev);
	CHECK(sim_log_contains("shorter than the header"));
	CHECK_EQ(cb.tx_failed, 1);
	broken(dev, VIO_EPROTO);
}

static void test_bad_long(void)
{
	struct vio_device *dev = victim(true);

	if (!dev)
		return;
	d->evil = SIM_EVIL_LEN; /* beyond the buffer: the virtqueue catches it */
	feed(dev);
	if (cfg.version == 1) {
		/* 2.7.8.1 (legacy): the length is clamped to the buffer, never beyond it */
		CHECK_EQ(dev->state, VIO_DEV_READY);
		CHECK_EQ(cb.frames, 2);
		CHECK_EQ(cb.last.len, 2048 - 12);
		return;
	}
	broken(dev, VIO_EPROTO);
}

static void bad_num_buffers(int nb)
{
	struct vio_device *dev = victim(true);

	if (!dev)
		return;
	net.rx_num_buffers = nb;
	feed(dev);
	CHECK(sim_log_contains("num_buffers"));
	CHECK_EQ(cb.frames, 1);
	broken(dev, VIO_EPROTO);
}

static void test_bad_num_buffers_zero(void)
{
	bad_num_buffers(0);
}

static void test_bad_num_buffers_many(void)
{
	bad_num_buffers(300); /* 256 were posted */
}

/* Without MRG_RXBUF, num_buffers means nothing (and a 10-byte header has none). */
static void test_num_buffers_ignored(void)
{
	struct vio_device *dev = victim(false);

	if (!dev)
		return;
	net.rx_num_buffers = 0;
	feed(dev);
	CHECK_EQ(cb.frames, 2);
	CHECK_EQ(dev->state, VIO_DEV_READY);
}

static void test_bad_tx_len(void)
{
	struct vio_device *dev = victim(true);

	if (!dev)
		return;
	CHECK_EQ(send(dev, 0, 100, 1, 1, NULL), 0);
	d->evil = SIM_EVIL_LEN; /* a transmit buffer has nothing to write */
	net.tx_hold = false;
	pump(dev, 2);
	if (cfg.version == 1) {
		/* 2.7.8.1 (legacy): clamped to 0 */
		CHECK_EQ(dev->state, VIO_DEV_READY);
		CHECK_EQ(cb.tx_done, 2);
		return;
	}
	/* Neither frame counts as sent: both come back failed after the reset. */
	CHECK_EQ(cb.tx_done, 0);
	CHECK_EQ(cb.tx_failed, 2);
	broken(dev, VIO_EPROTO);
}

/* A frame the device split over more buffers than it delivered: a reset ends it. */
static void test_bad_partial(void)
{
	struct vio_device *dev;

	params.rx_queue_size = 4;
	make(1);
	sim_config_set(d, CFG(mtu), 2, 9000);
	dev = add(0);
	if (!dev)
		return;
	CHECK_EQ(vio_net_set_ops(dev, &ops, NULL), 0);
	CHECK_EQ(info_of(dev).rx_queue_size, 4);
	/* 9014 bytes need 5 buffers; 4 are posted: num_buffers says too many */
	CHECK_EQ(inject(0, 9014, 0, 0), 0);
	pump(dev, 2);
	CHECK(sim_log_contains("num_buffers"));
	broken(dev, VIO_EPROTO);
}

/* ------------------------------------------------------------------ */


/*
 * vio_net_reset_pair (2.6.1) where the transport resets single queues: a
 * test transport, on which the simulated device takes QueueReady 0 and a
 * later QueueReady 1 as the queue's reset and its re-enabling. Frames the
 * device holds end with VIO_ECANCELED and never reach the wire, the
 * receive ring is posted afresh, both rings start over at 0 on the
 * device's side, and frames flow both ways after it.
 */
static void test_reset_pair(void)
{
	struct vio_device *dev = NULL;
	struct vio_transport t;
	struct vio_net_stats st;

	if (cfg.version == 1)
		return; /* 32 feature bits: no RING_RESET on the legacy interface */
	make(1);
	d->features |= 1ull << VIRTIO_F_RING_RESET;
	CHECK_EQ(vio_mmio_identify(&t, d->base, d->irq), 0);
	t.queue_reset = true;
	CHECK_EQ(vio_dev_add(&t, 0, &dev), 0);
	if (!dev || dev->state != VIO_DEV_READY)
		return;
	CHECK_EQ(vio_net_set_ops(dev, &ops, NULL), 0);
	CHECK(vio_dev_has(dev, VIRTIO_F_RING_RESET));
	for (uint32_t i = 0; i < 40; i++) {
		CHECK_EQ(inject(0, 60 + i, i, 0), 0);
		CHECK_EQ(send(dev, 0, 60 + i, i, 1, NULL), 0);
	}
	pump(dev, 3);
	CHECK_EQ(cb.frames, 40);
	CHECK_EQ(cb.tx_done, 40);
	/* Three frames the device takes and holds. */
	net.tx_hold = true;
	for (uint32_t i = 0; i < 3; i++)
		CHECK_EQ(send(dev, 0, 100, 1000 + i, 2, NULL), 0);
	pump(dev, 2);
	CHECK_EQ(cb.tx_done + cb.tx_failed, 40);
	CHECK_EQ(vio_net_reset_pair(dev, 0), 0);
	CHECK_EQ(cb.tx_failed, 3);
	CHECK_EQ(posted(dev, 0), 256);
	CHECK_EQ(d->q[0].used_idx, 0);
	CHECK_EQ(d->q[1].used_idx, 0);
	CHECK_EQ(net.tx_frames, 40);
	net.tx_hold = false;
	for (uint32_t i = 40; i < 400; i++) {
		CHECK_EQ(inject(0, 60 + i % 1400, i, 0), 0);
		CHECK_EQ(send(dev, 0, 60 + i % 1400, i, 1 + i % 3, NULL), 0);
		if (i % 64 == 63)
			pump(dev, 2);
	}
	pump(dev, 3);
	CHECK_EQ(cb.frames, 400);
	CHECK_EQ(cb.bad, 0);
	CHECK_EQ(cb.tx_done, 400);
	CHECK_EQ(net.tx_frames, 400);
	CHECK(tx_logged(399, 0, 60 + 399 % 1400, 399));
	st = stats_of(dev);
	CHECK_EQ(st.tx_errors, 3);
	CHECK_EQ(vio_dev_state(dev), VIO_DEV_READY);
	CHECK_EQ(vio_net_reset_pair(dev, 1), VIO_ERANGE);
}

/* Over plain virtio-mmio RING_RESET is not taken, offered or not (vio/transport.h). */
static void test_reset_pair_unsupported(void)
{
	struct vio_device *dev;

	make(1);
	if (cfg.version == 2)
		d->features |= 1ull << VIRTIO_F_RING_RESET;
	dev = add(0);
	if (!dev)
		return;
	CHECK(!vio_dev_has(dev, VIRTIO_F_RING_RESET));
	CHECK_EQ(vio_net_reset_pair(dev, 0), VIO_ENOTSUP);
	CHECK_EQ(vio_dev_vq_reset(dev, 0, NULL, NULL), VIO_EINVAL);
}

struct tcase {
	const char *name;
	void (*fn)(void);
	bool noncoherent; /* run on the non-coherent port too */
};

static const struct tcase cases[] = {
	{ "probe", test_probe, true },
	{ "layout_any", test_layout_any, true },
	{ "layout_apart", test_layout_apart, true },
	{ "mac", test_mac, false },
	{ "mtu", test_mtu, true },
	{ "mtu_default", test_mtu_default, false },
	{ "refused", test_refused, false },
	{ "ctrl_features_without_ctrl_vq", test_ctrl_features_without_ctrl_vq, false },
	{ "probe_nomem", test_probe_nomem, false },
	{ "rx_load", test_rx_load, true },
	{ "rx_mergeable", test_rx_mergeable, true },
	{ "rx_hold", test_rx_hold, true },
	{ "recv", test_recv, true },
	{ "tx", test_tx, true },
	{ "tx_full", test_tx_full, true },
	{ "tx_copy", test_tx_copy, true },
	{ "csum", test_csum, true },
	{ "csum_off", test_csum_off, false },
	{ "ctrl", test_ctrl, true },
	{ "ctrl_missing", test_ctrl_missing, false },
	{ "ctrl_no_ack", test_ctrl_no_ack, true },
	{ "ctrl_timeout", test_ctrl_timeout, false },
	{ "link", test_link, false },
	{ "announce", test_announce, true },
	{ "mq", test_mq, true },
	{ "reset_pair", test_reset_pair, true },
	{ "reset_pair_unsupported", test_reset_pair_unsupported, false },
	{ "bad_short", test_bad_short, true },
	{ "bad_long", test_bad_long, false },
	{ "bad_num_buffers_zero", test_bad_num_buffers_zero, false },
	{ "bad_num_buffers_many", test_bad_num_buffers_many, false },
	{ "num_buffers_ignored", test_num_buffers_ignored, false },
	{ "bad_tx_len", test_bad_tx_len, false },
	{ "bad_partial", test_bad_partial, false },
};

static const struct tcase *current;

static void run_current(void)
{
	memset(&params, 0, sizeof(params));
	current->fn();
}

int main(void)
{
	char name[96];

	for (uint32_t version = 1; version <= 2; version++) {
		for (int nc = 0; nc <= 1; nc++) {
			for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
				if (nc && !cases[i].noncoherent)
					continue;
				cfg.version = version;
				cfg.noncoherent = nc;
				current = &cases[i];
				snprintf(name, sizeof(name), "%s %s%s", cases[i].name,
					 version == 1 ? "legacy" : "modern",
					 nc ? " non-coherent" : "");
				test_run(name, run_current);
			}
		}
	}
	return test_report();
}
