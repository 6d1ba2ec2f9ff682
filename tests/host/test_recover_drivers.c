/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vio_dev_recover for net, console, input and gpu against their simulated
 * devices: each is failed (a control command never answered: the timeout;
 * DEVICE_NEEDS_RESET, VirtIO 1.2 section 2.1.2), recovered, and must work
 * again as the host model sees it: frames both ways, console ports found
 * again by name, key events read, GPU commands answered. No DMA memory may
 * be left behind across cycles. test_recover.c has blk and rng.
 */
#include <string.h>

#include <vio/console.h>
#include <vio/device.h>
#include <vio/error.h>
#include <vio/gpu.h>
#include <vio/input.h>
#include <vio/mmio.h>
#include <vio/net.h>
#include <vio/spec/virtio_config.h>
#include <vio/spec/virtio_gpu.h>
#include <vio/spec/virtio_input.h>
#include <vio/spec/virtio_net.h>

#include "console_model.h"
#include "gpu_model.h"
#include "input_model.h"
#include "net_model.h"
#include "sim.h"
#include "sim_port.h"
#include "test.h"

#define MS 1000000ull
#define SEC 1000000000ull

static struct sim_dev *d;

static struct vio_device *add(uint32_t version)
{
	struct vio_device *dev = NULL;

	CHECK_EQ(vio_mmio_add(d->base, d->irq, 0, &dev), 0);
	CHECK(dev != NULL);
	return dev && dev->state == VIO_DEV_READY ? dev : NULL;
}

static void make(const struct vio_driver *drv, const void *params, uint32_t version,
		 uint32_t id)
{
	CHECK_EQ(vio_init(sim_port(), sim_os()), 0);
	CHECK_EQ(vio_driver_register(drv, params), 0);
	d = sim_dev_new(0, version, id);
	if (version == 2)
		d->features |= 1ull << VIRTIO_F_VERSION_1;
}

/* DEVICE_NEEDS_RESET, noticed by the next service pass: the device is failed. */
static void needs_reset(struct vio_device *dev)
{
	sim_needs_reset(d);
	vio_dev_service(dev);
	CHECK_EQ(dev->state, VIO_DEV_FAILED);
}

static void settle(void)
{
	for (int i = 0; i < 30; i++) {
		sim_step_all();
		vio_service();
	}
}

/* ------------------------------------------------------------------ */
/* net */

static struct sim_net net;
static const struct vio_net_params net_params = { .timeout_ms = 20 }; /* control commands */
static unsigned links_up, links_down;

static void on_link(struct vio_device *dev, bool up, void *arg)
{
	(void)dev;
	(void)arg;
	if (up)
		links_up++;
	else
		links_down++;
}

static const struct vio_net_ops net_ops = { .link_changed = on_link };

/* A frame each way: the model sees the one sent, the guest receives the one injected. */
static void net_works(struct vio_device *dev, uint8_t tag)
{
	uint8_t frame[60], out[1600];
	unsigned sent = net.tx_frames;

	memset(frame, tag, sizeof(frame));
	CHECK_EQ(vio_net_send_copy(dev, 0, frame, sizeof(frame)), 0);
	for (int i = 0; i < 20 && net.tx_frames == sent; i++) {
		sim_step_all();
		vio_net_poll(dev);
	}
	CHECK_EQ(net.tx_frames, sent + 1);
	CHECK_EQ(net_model_inject(d, 0, frame, sizeof(frame), 0), 0);
	CHECK_EQ(vio_net_recv(dev, out, sizeof(out), SEC), (int)sizeof(frame));
	CHECK(memcmp(out, frame, sizeof(frame)) == 0);
}

static void net_cycles(uint32_t version)
{
	struct vio_device *dev;
	unsigned live;

	make(&vio_net_driver, &net_params, version, VIRTIO_ID_NET);
	net_model_attach(d, &net, 1);
	dev = add(version);
	if (!dev)
		return;
	CHECK_EQ(vio_net_set_ops(dev, &net_ops, NULL), 0);
	net_works(dev, 1);
	live = sim_dma_live();
	for (unsigned cycle = 0; cycle < 5; cycle++) {
		/* A control command the device never answers: the timeout fails it. */
		net.ctrl_hold = true;
		CHECK_EQ(vio_net_set_promisc(dev, true), VIO_ETIMEDOUT);
		CHECK_EQ(dev->state, VIO_DEV_FAILED);
		CHECK_EQ(vio_net_send_copy(dev, 0, "x", 1), VIO_ESHUTDOWN);
		net.ctrl_hold = false;
		CHECK_EQ(vio_dev_recover(dev), 0);
		CHECK_EQ(dev->state, VIO_DEV_READY);
		/* The receive ring is posted again and the callbacks stayed. */
		net_works(dev, (uint8_t)(2 + cycle));
		CHECK_EQ(vio_net_set_promisc(dev, true), 0);
		CHECK(net.promisc);
		CHECK_EQ(sim_dma_live(), live);
	}
	/* The link: the device says down, then up; the callback installed before hears it. */
	links_up = links_down = 0;
	needs_reset(dev);
	CHECK_EQ(vio_dev_recover(dev), 0);
	sim_config_change(d, 6, "\0\0", 2);
	settle();
	CHECK_EQ(links_down, 1);
}

/*
 * What the application set survives a reset: the device forgets it (the
 * model's reset, like QEMU's, clears the filters and modes, restores the
 * configured MAC and goes back to one pair), the driver sends it again.
 */
static const struct vio_net_params net_mq_params = { .timeout_ms = 20, .max_queue_pairs = 4 };

static void net_replays(uint32_t version)
{
	static const uint8_t uc[2][VIO_NET_ALEN] = { { 0x02, 0, 0, 0, 0, 1 },
						      { 0x02, 0, 0, 0, 0, 2 } };
	static const uint8_t mc[3][VIO_NET_ALEN] = { { 0x01, 0, 0x5e, 0, 0, 1 },
						      { 0x01, 0, 0x5e, 0, 0, 2 },
						      { 0x33, 0x33, 0, 0, 0, 1 } };
	static const uint8_t mac[VIO_NET_ALEN] = { 0x02, 'r', 'e', 'p', 'l', 'y' };
	struct vio_net_info info;
	struct vio_device *dev;

	make(&vio_net_driver, &net_mq_params, version, VIRTIO_ID_NET);
	net_model_attach(d, &net, 4);
	dev = add(version);
	if (!dev)
		return;
	CHECK_EQ(net.pairs, 4);
	CHECK_EQ(vio_net_set_queue_pairs(dev, 2), 0);
	CHECK_EQ(vio_net_set_promisc(dev, true), 0);
	CHECK_EQ(vio_net_set_allmulti(dev, true), 0);
	CHECK_EQ(vio_net_set_mac_filter(dev, uc, 2, mc, 3), 0);
	CHECK_EQ(vio_net_set_mac(dev, mac), 0);
	for (unsigned cycle = 0; cycle < 2; cycle++) {
		needs_reset(dev);
		CHECK_EQ(vio_dev_recover(dev), 0);
		CHECK_EQ(dev->state, VIO_DEV_READY);
		CHECK(net.promisc);
		CHECK(net.allmulti);
		CHECK_EQ(net.n_uc, 2);
		CHECK_EQ(net.n_mc, 3);
		CHECK(memcmp(net.uc, uc, sizeof(uc)) == 0);
		CHECK(memcmp(net.mc, mc, sizeof(mc)) == 0);
		CHECK(memcmp(d->config, mac, VIO_NET_ALEN) == 0); /* config offset 0: mac */
		CHECK_EQ(net.pairs, 2);
		CHECK_EQ(vio_net_get_info(dev, &info), 0);
		CHECK(memcmp(info.mac, mac, VIO_NET_ALEN) == 0);
		CHECK_EQ(info.queue_pairs, 2);
		net_works(dev, (uint8_t)(10 + cycle));
	}
	/*
	 * A device that refuses them now (acks VIRTIO_NET_ERR): recovered all
	 * the same, with a warning each, and the driver says what is in force.
	 */
	needs_reset(dev);
	net.ctrl_ack = VIRTIO_NET_ERR;
	CHECK_EQ(vio_dev_recover(dev), 0);
	CHECK_EQ(dev->state, VIO_DEV_READY);
	CHECK_EQ(vio_net_get_info(dev, &info), 0);
	CHECK(memcmp(info.mac, mac, VIO_NET_ALEN) != 0);
	CHECK_EQ(info.queue_pairs, 1);
	net.ctrl_ack = -1;
	net_works(dev, 20);
}

static void test_net_modern(void)
{
	net_cycles(2);
}

static void test_net_legacy(void)
{
	net_cycles(1);
}

static void test_net_replay_modern(void)
{
	net_replays(2);
}

static void test_net_replay_legacy(void)
{
	net_replays(1);
}

/* ------------------------------------------------------------------ */
/* console */

static struct sim_console con;
static struct vio_console_params con_params;

static void console_recover(uint32_t version)
{
	static uint8_t sink[64];
	struct vio_device *dev;
	uint8_t got[16];
	unsigned live;
	int port;

	make(&vio_console_driver, &con_params, version, VIRTIO_ID_CONSOLE);
	sim_console_attach(d, &con, 4);
	sim_console_plug(d, 0, "", true);
	con.port[0].host_open = true;
	sim_console_plug(d, 2, "org.vio.beta", false);
	con.port[2].host_open = true;
	dev = add(version);
	if (!dev)
		return;
	settle();
	CHECK_EQ(vio_console_find(dev, "org.vio.beta"), 2);
	live = sim_dma_live();
	for (unsigned cycle = 0; cycle < 3; cycle++) {
		needs_reset(dev);
		CHECK_EQ(vio_console_write(dev, 2, "x", 1), VIO_ESHUTDOWN);
		con.device_ready = false;
		CHECK_EQ(vio_dev_recover(dev), 0);
		settle();
		/* DEVICE_READY again; the ports are announced and found again. */
		CHECK(con.device_ready);
		port = vio_console_find(dev, "org.vio.beta");
		CHECK_EQ(port, 2);
		if (port != 2)
			return;
		memset(sink, 0, sizeof(sink));
		sim_console_host_sink(d, 2, sink, sizeof(sink));
		CHECK_EQ(vio_console_write(dev, 2, "hello", 5), 5);
		CHECK_EQ(vio_console_drain(dev, 2, SEC), 0);
		CHECK(memcmp(sink, "hello", 5) == 0);
		sim_console_host_write(d, 2, "back", 4);
		CHECK_EQ(vio_console_read(dev, 2, got, sizeof(got), SEC), 4);
		CHECK(memcmp(got, "back", 4) == 0);
		CHECK_EQ(sim_dma_live(), live);
	}
}

static void test_console_modern(void)
{
	console_recover(2);
}

static void test_console_legacy(void)
{
	console_recover(1);
}

/* ------------------------------------------------------------------ */
/* input */

static struct sim_input inp;
static const struct vio_input_params input_params = { .timeout_ms = 20 };

/* A device that takes buffers and answers none. */
static int hold_all(struct sim_dev *dev, unsigned q, const struct sim_chain *chain)
{
	(void)dev;
	(void)q;
	(void)chain;
	return SIM_HOLD;
}

static const struct sim_model hold_model = { .name = "hold", .handle = hold_all };

static void test_input(void)
{
	struct vio_input_event ev[8];
	struct vio_input_info info;
	struct vio_device *dev;
	unsigned live;
	int n;

	make(&vio_input_driver, &input_params, 2, VIRTIO_ID_INPUT);
	sim_input_attach(d, &inp, SIM_INPUT_KEYBOARD);
	dev = add(2);
	if (!dev)
		return;
	live = sim_dma_live();
	for (unsigned cycle = 0; cycle < 4; cycle++) {
		if (cycle % 2 == 0) {
			needs_reset(dev);
		} else {
			/* LEDs to a device that keeps every status buffer: the timeout fails it. */
			const struct sim_model *model = d->model;
			int rc = 0;

			d->model = &hold_model;
			for (unsigned i = 0; i < 200 && rc >= 0; i++)
				rc = vio_input_set_leds(dev, i & 1 ? 0 : 7);
			/* The call that timed out may have sent some LEDs first: the next one sees it. */
			CHECK(rc == VIO_ETIMEDOUT || rc == VIO_ESHUTDOWN);
			CHECK_EQ(dev->state, VIO_DEV_FAILED);
			CHECK_EQ(dev->error, VIO_ETIMEDOUT);
			d->model = model;
		}
		CHECK_EQ(vio_input_read_nonblock(dev, ev, 8), VIO_ESHUTDOWN);
		CHECK_EQ(vio_dev_recover(dev), 0);
		/* The configuration was read again; the event buffers are posted again. */
		CHECK_EQ(vio_input_get_info(dev, &info), 0);
		CHECK_EQ(info.kind, VIO_INPUT_KEYBOARD);
		sim_input_push(&inp, EV_KEY, 30, 1);
		sim_input_push(&inp, EV_SYN, SYN_REPORT, 0);
		n = vio_input_read(dev, ev, 8, SEC);
		CHECK_EQ(n, 2);
		if (n == 2)
			CHECK(ev[0].type == EV_KEY && ev[0].code == 30 && ev[0].value == 1);
		CHECK_EQ(sim_dma_live(), live);
	}
}

/* The LED state of each declared LED, as the device last heard it (-1: never). */
static int led_heard(unsigned led)
{
	int v = -1;

	for (unsigned i = 0; i < inp.nstatus && i < SIM_INPUT_STATUS; i++)
		if (inp.status[i].type == EV_LED && inp.status[i].code == led)
			v = (int)inp.status[i].value;
	return v;
}

/* The LEDs the application set are sent again after a reset, every declared one. */
static void test_input_leds(void)
{
	struct vio_device *dev;

	make(&vio_input_driver, &input_params, 2, VIRTIO_ID_INPUT);
	sim_input_attach(d, &inp, SIM_INPUT_KEYBOARD);
	dev = add(2);
	if (!dev)
		return;
	CHECK(vio_input_set_leds(dev, VIO_INPUT_LED_CAPS | VIO_INPUT_LED_SCROLL) > 0);
	settle();
	needs_reset(dev);
	inp.nstatus = 0;
	CHECK_EQ(vio_dev_recover(dev), 0);
	settle();
	CHECK_EQ(led_heard(LED_NUML), 0);
	CHECK_EQ(led_heard(LED_CAPSL), 1);
	CHECK_EQ(led_heard(LED_SCROLLL), 1);
	/* And the driver knows it: setting the same LEDs sends nothing. */
	CHECK_EQ(vio_input_set_leds(dev, VIO_INPUT_LED_CAPS | VIO_INPUT_LED_SCROLL), 0);
}

/* ------------------------------------------------------------------ */
/* gpu */

static struct sim_gpu gpu;

static void test_gpu(void)
{
	struct vio_gpu_scanout before, after;
	struct vio_device *dev;
	unsigned live, infos;

	make(&vio_gpu_driver, NULL, 2, VIRTIO_ID_GPU);
	sim_gpu_attach(d, &gpu, 1);
	gpu.scanout[0].enabled = true;
	gpu.scanout[0].width = 640;
	gpu.scanout[0].height = 480;
	dev = add(2);
	if (dev) {
		CHECK_EQ(vio_gpu_resource_create(dev, 1, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 64, 64), 0);
		CHECK_EQ(vio_gpu_get_scanout(dev, 0, &before), 0);
		CHECK(before.enabled);
		live = sim_dma_live();
		for (unsigned cycle = 0; cycle < 3; cycle++) {
			needs_reset(dev);
			CHECK_EQ(vio_gpu_refresh(dev), VIO_ESHUTDOWN);
			infos = gpu.count[VIRTIO_GPU_CMD_GET_DISPLAY_INFO & 0xf];
			CHECK_EQ(vio_dev_recover(dev), 0);
			/* started asked for the displays again, and commands are answered. */
			CHECK_EQ(gpu.count[VIRTIO_GPU_CMD_GET_DISPLAY_INFO & 0xf], infos + 1);
			CHECK_EQ(vio_gpu_get_scanout(dev, 0, &after), 0);
			CHECK(after.enabled && after.width == before.width &&
			      after.height == before.height);
			CHECK_EQ(vio_gpu_resource_create(dev, 2 + cycle,
							 VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 64, 64), 0);
			CHECK_EQ(sim_dma_live(), live);
		}
	}
	sim_gpu_free(&gpu);
}

int main(void)
{
	RUN(test_net_modern);
	RUN(test_net_legacy);
	RUN(test_net_replay_modern);
	RUN(test_net_replay_legacy);
	RUN(test_console_modern);
	RUN(test_console_legacy);
	RUN(test_input);
	RUN(test_input_leds);
	RUN(test_gpu);
	return test_report();
}
