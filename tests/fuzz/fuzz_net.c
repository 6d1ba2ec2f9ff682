/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-net (VirtIO 1.2 section 5.1) against a hostile network device:
 * any MAC, status, MTU, speed and queue-pair count in config space
 * (5.1.4), receive buffers filled with any header (num_buffers, flags,
 * csum_start/offset, 5.1.6) and length, any control-queue ack (5.1.6.5),
 * transmit completions with any id and length; the application holds and
 * gives back received buffers at any time.
 */
#include <stdint.h>
#include <string.h>

#include <vio/device.h>
#include <vio/net.h>
#include <vio/spec/virtio_config.h>

#include "fuzz.h"
#include "net_model.h"
#include "sim.h"

#define HELD_MAX 64
#define NTX 4

static struct sim_net net;
static struct sim_dev *d;
static struct vio_net_rxbuf *held[HELD_MAX];
static unsigned nheld;
static uint8_t frame[SIM_NET_FRAME_MAX];
static uint8_t txbuf[NTX][128];
static bool tx_busy[NTX];

static void on_rx(struct vio_device *dev, const struct vio_net_frame *f, void *arg)
{
	(void)arg;
	/* Touch every byte the driver says is there (ASan checks the bounds). */
	for (struct vio_net_rxbuf *b = f->bufs; b;) {
		struct vio_net_rxbuf *next = b->next;
		volatile uint8_t sum = 0;

		for (uint32_t i = 0; i < b->len; i++)
			sum = (uint8_t)(sum + b->data[i]);
		if (nheld < HELD_MAX && (fz_u8() & 1))
			held[nheld++] = b;
		else
			vio_net_rx_release(dev, b);
		b = next;
	}
}

static void on_tx_done(struct vio_device *dev, void *cookie, int result, void *arg)
{
	(void)dev;
	(void)result;
	(void)arg;
	tx_busy[(uint8_t(*)[128])cookie - txbuf] = false;
}

static void on_announce(struct vio_device *dev, void *arg)
{
	(void)arg;
	if (fz_u8() & 1)
		(void)vio_net_announce_done(dev);
}

/* With an rx callback frames go to it; without, to vio_net_recv. */
static const struct vio_net_ops ops = {
	.rx = on_rx, .tx_done = on_tx_done, .announce = on_announce,
};
static const struct vio_net_ops ops_recv = {
	.tx_done = on_tx_done, .announce = on_announce,
};

static void api(struct vio_device *dev, uint8_t op)
{
	static const uint8_t macs[3][VIO_NET_ALEN] = {
		{ 0x52, 0x54, 0, 1, 2, 3 }, { 0x33, 0x33, 0, 0, 0, 1 }, { 1, 0, 0x5e, 0, 0, 1 },
	};
	struct vio_net_info info;
	struct vio_net_stats stats;
	unsigned q = fz_u8() % 3;

	switch (op % 16) {
	case 0:
	case 1: {
		unsigned i = fz_u8() % NTX;
		struct vio_sg sg[2] = { { txbuf[i], 60 }, { txbuf[i] + 60, 68 } };
		struct vio_net_tx_csum csum = { fz_u8(), fz_u8() };

		if (tx_busy[i])
			break;
		tx_busy[i] = true;
		if ((op & 1 ? vio_net_send(dev, q, sg, 1 + (fz_u8() & 1), fz_u8() & 1 ? &csum : NULL,
					   txbuf[i])
			    : vio_net_queue(dev, q, sg, 1 + (fz_u8() & 1), NULL, txbuf[i])) != 0)
			tx_busy[i] = false;
		break;
	}
	case 2:
		vio_net_kick(dev, q);
		break;
	case 3:
		(void)vio_net_send_copy(dev, q, frame, fz_u16() % 2048);
		break;
	case 4:
		(void)vio_net_recv(dev, frame, fz_u16() % sizeof(frame), fz_timeout());
		break;
	case 5:
		if (nheld)
			vio_net_rx_release(dev, held[--nheld]);
		break;
	case 6:
		vio_net_poll(dev);
		break;
	case 7:
		(void)vio_net_set_promisc(dev, q & 1);
		break;
	case 8:
		(void)vio_net_set_allmulti(dev, q & 1);
		break;
	case 9:
		(void)vio_net_set_mac_filter(dev, macs, fz_u8() % 4, macs + 1, fz_u8() % 3);
		break;
	case 10:
		(void)vio_net_set_mac(dev, macs[q]);
		break;
	case 11:
		(void)vio_net_set_queue_pairs(dev, fz_u8() % 4);
		break;
	case 12:
		(void)vio_net_announce_done(dev);
		break;
	case 13:
		(void)vio_net_get_info(dev, &info);
		(void)vio_net_get_stats(dev, &stats);
		break;
	case 14: {
		/* A frame the real model delivers, with any header fields. */
		uint32_t len = fz_u16() % sizeof(frame);

		fz_bytes(frame, len < 64 ? len : 64);
		(void)net_model_inject_hdr(d, q, frame, len, fz_u8(), fz_u8(), fz_u16(), fz_u16());
		break;
	}
	default:
		net.ctrl_ack = fz_u8() & 0x80 ? -1 : fz_u8();
		net.rx_num_buffers = fz_u8() & 0x80 ? -1 : fz_u16();
		net.rx_short_once = fz_u8() & 1;
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct vio_net_params params = {
		.max_queue_pairs = 2, .rx_queue_size = 8, .tx_queue_size = 8, .rx_buffers = 12,
		.tx_copy_buffers = 4, .timeout_ms = 5,
	};
	struct vio_device *dev;

	fz_start(data, size);
	fz_begin(fz_u8());
	nheld = 0;
	memset(tx_busy, 0, sizeof(tx_busy));
	vio_driver_register(&vio_net_driver, &params);
	d = fz_dev_new(VIRTIO_ID_NET);
	net_model_attach(d, &net, 1 + fz_u8() % 2);
	fz_hostile(d);
	dev = fz_add(d);
	if (dev)
		(void)vio_net_set_ops(dev, fz_u8() & 1 ? &ops_recv : &ops, NULL);
	fz_run(d, dev, 256, api);
	fz_end();
	return 0;
}
