/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-console (VirtIO 1.2 section 5.3) against the simulated console
 * (tests/sim/console_model.h). Built twice: against the default library
 * (interrupt-driven completion) and the polling configuration; every case
 * runs on a coherent port and on the non-coherent one (the cache model of
 * sim_cache.h), and the data cases on legacy and modern devices.
 *
 * Covered: bulk data both ways checked byte for byte, with the host
 * reading slower than the guest writes (transmit ring full, the writer
 * waits) and the guest reading slower than the host writes (receive
 * buffers all filled, the device waits); batching (descriptors and
 * notifications per write); the non-blocking calls; multiport ports added,
 * named, opened, closed, resized, removed and added again; every kind of
 * malformed control message, refused and counted; emergency write.
 */
#include <string.h>

#include <vio/console.h>
#include <vio/device.h>
#include <vio/error.h>
#include <vio/mmio.h>
#include <vio/spec/virtio_config.h>
#include <vio/spec/virtio_console.h>

#include "console_model.h"
#include "sim.h"
#include "sim_cache.h"
#include "sim_port.h"
#include "test.h"
#include "vio_config.h"

#define SEC 1000000000ull
#define BULK (1u << 20)

static struct sim_console con;
static struct sim_dev *d;
static struct vio_console_params params;
static bool noncoherent;

static uint8_t big[BULK], big2[BULK], sink[BULK];

/* Events the driver gave the application, in order. */
static struct {
	unsigned port;
	enum vio_console_event ev;
} evs[256];
static unsigned nevs;

static void on_event(struct vio_device *dev, unsigned port, enum vio_console_event ev, void *ctx)
{
	(void)dev;
	(void)ctx;
	if (ev == VIO_CONSOLE_EV_DATA)
		return;
	if (nevs < sizeof(evs) / sizeof(evs[0])) {
		evs[nevs].port = port;
		evs[nevs].ev = ev;
	}
	nevs++;
}

/* Whether port got event ev since the last clear, and forget the list. */
static bool saw(unsigned port, enum vio_console_event ev)
{
	for (unsigned i = 0; i < nevs && i < sizeof(evs) / sizeof(evs[0]); i++) {
		if (evs[i].port == port && evs[i].ev == ev)
			return true;
	}
	return false;
}

static struct vio_device *setup(uint32_t version, uint32_t max_nr_ports)
{
	struct vio_device *dev = NULL;

	CHECK_EQ(vio_init(noncoherent ? sim_port_noncoherent() : sim_port(), sim_os()), 0);
	params.event = on_event;
	CHECK_EQ(vio_driver_register(&vio_console_driver, &params), 0);
	d = sim_dev_new(0, version, VIRTIO_ID_CONSOLE);
	if (version == 2)
		d->features |= 1ull << VIRTIO_F_VERSION_1;
	d->features |= (1ull << VIRTIO_RING_F_EVENT_IDX) | (1ull << VIRTIO_RING_F_INDIRECT_DESC);
	sim_console_attach(d, &con, max_nr_ports);
	nevs = 0;
	return dev;
}

static struct vio_device *add(void)
{
	struct vio_device *dev = NULL;

	CHECK_EQ(vio_mmio_add(d->base, d->irq, 0, &dev), 0);
	CHECK(dev != NULL);
	if (!dev || dev->state != VIO_DEV_READY)
		return NULL;
	CHECK_STR(dev->name, "console0");
	return dev;
}

/* Let the device and the driver's deferred work run until things settle. */
static void settle(void)
{
	for (int i = 0; i < 30; i++) {
		sim_step_all();
		vio_service();
	}
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

/* A host that reads its socket slowly: room for a few hundred more bytes at each device run. */
static void slow_host(unsigned nrun)
{
	(void)nrun;
	if (con.port[0].out_cap < BULK)
		con.port[0].out_cap += con.port[0].out_cap + 300 < BULK ? 300 : BULK - con.port[0].out_cap;
}

static void bulk(uint32_t version)
{
	struct vio_device *dev;
	size_t got = 0;
	unsigned notifies;
	int n;

	setup(version, 1);
	dev = add();
	if (!dev)
		return;
	fill(big, BULK, version);
	/* Guest to host, the host slower than the guest: the writer waits for room. */
	sim_console_host_sink(d, 0, sink, 0);
	sim_on_run = slow_host;
	CHECK_EQ(vio_console_write(dev, 0, big, BULK), (int)BULK);
	CHECK_EQ(vio_console_drain(dev, 0, SEC), 0);
	CHECK_EQ(con.port[0].out_len, BULK);
	sim_on_run = NULL;
	con.port[0].out_cap = BULK;
	settle();
	CHECK_EQ(con.port[0].out_len, BULK);
	CHECK(memcmp(sink, big, BULK) == 0);
	/* Whole buffers, one notification per call at most (fewer with EVENT_IDX). */
	CHECK(con.port[0].tx_chains <= BULK / CONFIG_VIO_CONSOLE_BUF_SIZE + 1);
	CHECK(d->q[1].notifies <= con.port[0].tx_chains);

	/* Small writes: one descriptor and at most one notification each. */
	sim_console_host_sink(d, 0, sink, BULK);
	notifies = d->q[1].notifies;
	for (int i = 0; i < 100; i++)
		CHECK_EQ(vio_console_write(dev, 0, "hello, world\n", 13), 13);
	settle();
	CHECK_EQ(con.port[0].out_len, 1300);
	CHECK(d->q[1].notifies - notifies <= 100);
	CHECK(memcmp(sink + 1287, "hello, world\n", 13) == 0);

	/* Host to guest, the guest slower than the host: nothing is lost while it does not read. */
	fill(big2, BULK, version + 7);
	sim_console_host_write(d, 0, big2, BULK);
	settle();
	CHECK(con.port[0].in_pos < BULK); /* the device waits for buffers */
	memset(big, 0, BULK);
	while (got < BULK) {
		n = vio_console_read(dev, 0, big + got, 333, SEC);
		if (n <= 0) {
			CHECK_EQ(n, 1);
			break;
		}
		got += (size_t)n;
	}
	CHECK(memcmp(big, big2, BULK) == 0);
	CHECK_EQ(vio_console_read(dev, 0, big, 10, SEC / 100), VIO_ETIMEDOUT);
	CHECK_EQ(dev->state, VIO_DEV_READY);
}

static void test_bulk_modern(void)
{
	bulk(2);
}

static void test_bulk_legacy(void)
{
	bulk(1);
}

/*
 * A long write with every transmit buffer free and a quick host: adjacent
 * buffers go out as one descriptor, they come back in the same order, and
 * no transmit interrupt is asked for while no writer waits.
 */
static void test_tx_runs(void)
{
	struct vio_device *dev;
	uint32_t ring = CONFIG_VIO_CONSOLE_TX_BUFFERS * CONFIG_VIO_CONSOLE_BUF_SIZE;
	unsigned irqs;

	setup(2, 1);
	dev = add();
	if (!dev)
		return;
	fill(big, BULK, 5);
	sim_console_host_sink(d, 0, sink, BULK);
	irqs = d->q[1].irqs;
	for (unsigned i = 0; i < 4; i++) {
		CHECK_EQ(vio_console_write(dev, 0, big + (size_t)i * ring, ring), (int)ring);
		settle();
		CHECK_EQ(con.port[0].tx_chains, i + 1);
	}
	CHECK_EQ(d->q[1].irqs - irqs, 0u);
	CHECK_EQ(vio_console_drain(dev, 0, SEC), 0);
	CHECK_EQ(con.port[0].out_len, 4 * ring);
	CHECK(memcmp(sink, big, 4 * ring) == 0);
}

static void test_nonblock(void)
{
	struct vio_device *dev;
	uint32_t ring = CONFIG_VIO_CONSOLE_TX_BUFFERS * CONFIG_VIO_CONSOLE_BUF_SIZE;
	uint8_t buf[64];
	int n;

	setup(2, 1);
	dev = add();
	if (!dev)
		return;
	sim_step_in_time = false;
	fill(big, BULK, 3);
	sim_console_host_sink(d, 0, sink, 0); /* the host reads nothing yet */
	CHECK_EQ(vio_console_write_nonblock(dev, 0, big, BULK), (int)ring);
	CHECK_EQ(vio_console_write_nonblock(dev, 0, big, 10), VIO_EAGAIN);
	con.port[0].out_cap = BULK;
	sim_step(d);
	CHECK_EQ(vio_console_write_nonblock(dev, 0, big + ring, 100), 100);
	sim_step(d);
	CHECK_EQ(con.port[0].out_len, ring + 100);
	CHECK(memcmp(sink, big, ring + 100) == 0);

	CHECK_EQ(vio_console_read_nonblock(dev, 0, buf, sizeof(buf)), VIO_EAGAIN);
	sim_console_host_write(d, 0, "typed", 5);
	sim_step(d);
	n = vio_console_read_nonblock(dev, 0, buf, sizeof(buf));
	CHECK_EQ(n, 5);
	CHECK(memcmp(buf, "typed", 5) == 0);
	/* Bad calls. */
	CHECK_EQ(vio_console_write_nonblock(dev, 1, buf, 1), VIO_ERANGE);
	CHECK_EQ(vio_console_write_nonblock(NULL, 0, buf, 1), VIO_ENODEV);
	CHECK_EQ(vio_console_read_nonblock(dev, 0, NULL, 1), VIO_EINVAL);
}

static void test_size(void)
{
	struct vio_console_port_info pi;
	struct vio_console_info info;
	struct vio_device *dev;

	setup(2, 1);
	dev = add();
	if (!dev)
		return;
	CHECK_EQ(vio_console_get_info(dev, &info), 0);
	CHECK(!info.multiport);
	CHECK(info.size);
	CHECK(info.emerg_write);
	CHECK_EQ(info.ports, 1);
	CHECK_EQ(vio_console_port_info(dev, 0, &pi), 0);
	CHECK(pi.present && pi.host_open);
	CHECK_EQ(pi.cols, 80);
	CHECK_EQ(pi.rows, 25);
	/* 5.3.4: a configuration change brings the new size. */
	sim_console_resize(d, 0, 132, 43);
	settle();
	CHECK(saw(0, VIO_CONSOLE_EV_RESIZED));
	CHECK_EQ(vio_console_port_info(dev, 0, &pi), 0);
	CHECK_EQ(pi.cols, 132);
	CHECK_EQ(pi.rows, 43);
}

/* A device with four ports as the QEMU test has them. */
static struct vio_device *multiport(uint32_t version)
{
	struct vio_device *dev;

	setup(version, 8);
	sim_console_plug(d, 0, "", true);
	con.port[0].host_open = true;
	sim_console_plug(d, 1, "org.vio.alpha", false);
	con.port[1].host_open = true;
	sim_console_plug(d, 2, "org.vio.beta", false);
	sim_console_plug(d, 3, "org.vio.gamma", false);
	con.port[3].host_open = true;
	dev = add();
	if (dev)
		settle();
	return dev;
}

static void ports(uint32_t version)
{
	struct vio_console_port_info pi;
	struct vio_device *dev = multiport(version);
	uint8_t buf[32];

	if (!dev)
		return;
	CHECK(con.device_ready);
	CHECK_EQ(vio_console_find(dev, "org.vio.alpha"), 1);
	CHECK_EQ(vio_console_find(dev, "org.vio.beta"), 2);
	CHECK_EQ(vio_console_find(dev, "org.vio.gamma"), 3);
	CHECK_EQ(vio_console_find(dev, "org.vio.none"), VIO_ENODEV);
	for (unsigned i = 0; i < 4; i++) {
		CHECK_EQ(con.port[i].ready, 1);
		CHECK_EQ(con.port[i].guest_open, 1);
		CHECK(saw(i, VIO_CONSOLE_EV_ADDED));
	}
	CHECK_EQ(vio_console_port_info(dev, 0, &pi), 0);
	CHECK(pi.present && pi.console && pi.host_open);
	CHECK_EQ(vio_console_port_info(dev, 2, &pi), 0);
	CHECK(pi.present && !pi.console && !pi.host_open);
	CHECK_STR(pi.name, "org.vio.beta");
	CHECK_EQ(vio_console_port_info(dev, 4, &pi), 0);
	CHECK(!pi.present);

	/* Data per port, to the right port. */
	sim_console_host_sink(d, 3, sink, 100);
	CHECK_EQ(vio_console_write(dev, 3, "to gamma", 8), 8);
	settle();
	CHECK_EQ(con.port[3].out_len, 8);
	sim_console_host_write(d, 1, "from alpha", 10);
	CHECK_EQ(vio_console_read(dev, 1, buf, sizeof(buf), SEC), 10);
	CHECK(memcmp(buf, "from alpha", 10) == 0);

	/* The host closes and opens a port. */
	CHECK_EQ(vio_console_write(dev, 2, "x", 1), VIO_ENOTCONN);
	nevs = 0;
	sim_console_host_open(d, 2, true);
	settle();
	CHECK(saw(2, VIO_CONSOLE_EV_OPENED));
	sim_console_host_sink(d, 2, sink, 100);
	CHECK_EQ(vio_console_write(dev, 2, "x", 1), 1);
	sim_console_host_open(d, 3, false);
	settle();
	CHECK(saw(3, VIO_CONSOLE_EV_CLOSED));
	CHECK_EQ(vio_console_port_info(dev, 3, &pi), 0);
	CHECK(!pi.host_open);
	CHECK_EQ(vio_console_write(dev, 3, "x", 1), VIO_ENOTCONN);

	/* A resize of one port. */
	sim_console_resize(d, 1, 100, 30);
	settle();
	CHECK(saw(1, VIO_CONSOLE_EV_RESIZED));
	CHECK_EQ(vio_console_port_info(dev, 1, &pi), 0);
	CHECK_EQ(pi.cols, 100);
	CHECK_EQ(pi.rows, 30);

	/* Removed and added again, under another name. */
	nevs = 0;
	sim_console_unplug(d, 3);
	settle();
	CHECK(saw(3, VIO_CONSOLE_EV_REMOVED));
	CHECK_EQ(vio_console_find(dev, "org.vio.gamma"), VIO_ENODEV);
	CHECK_EQ(vio_console_write(dev, 3, "x", 1), VIO_ENODEV);
	CHECK_EQ(vio_console_read(dev, 3, buf, 1, SEC), VIO_ENODEV);
	sim_console_plug(d, 3, "org.vio.delta", false);
	sim_console_plug(d, 5, "org.vio.late", false);
	con.port[5].host_open = true;
	settle();
	CHECK(saw(3, VIO_CONSOLE_EV_ADDED));
	CHECK(saw(5, VIO_CONSOLE_EV_NAMED));
	CHECK_EQ(vio_console_find(dev, "org.vio.delta"), 3);
	CHECK_EQ(vio_console_find(dev, "org.vio.late"), 5);
	sim_console_host_write(d, 5, "late", 4);
	CHECK_EQ(vio_console_read(dev, 5, buf, sizeof(buf), SEC), 4);
	sim_console_host_write(d, 3, "delta", 5);
	CHECK_EQ(vio_console_read(dev, 3, buf, sizeof(buf), SEC), 5);
	CHECK(memcmp(buf, "delta", 5) == 0);
	CHECK_EQ(dev->state, VIO_DEV_READY);
	{
		struct vio_console_info info;

		CHECK_EQ(vio_console_get_info(dev, &info), 0);
		CHECK_EQ(info.bad_ctrl, 0);
		CHECK(info.multiport);
		CHECK_EQ(info.max_nr_ports, 8);
	}
}

static void test_ports_modern(void)
{
	ports(2);
}

static void test_ports_legacy(void)
{
	ports(1);
}

static void test_data_before_add(void)
{
	struct vio_device *dev;
	uint8_t buf[64];

	/*
	 * The host has bytes for port 1 from the start, and the core runs every
	 * queue's handler (a poll) before the device said DEVICE_ADD: no buffer
	 * may be posted for the port until then, or the add would throw away
	 * what arrived in it.
	 */
	setup(2, 4);
	sim_console_plug(d, 1, "early", false);
	con.port[1].host_open = true;
	sim_console_host_write(d, 1, "early bytes", 11);
	sim_step_in_time = false;
	dev = add();
	if (!dev)
		return;
	vio_dev_poll(dev);
	sim_step(d);
	vio_dev_poll(dev);
	CHECK_EQ(con.port[1].in_pos, 0);
	sim_step_in_time = true;
	settle();
	CHECK_EQ(vio_console_find(dev, "early"), 1);
	CHECK_EQ(vio_console_read(dev, 1, buf, sizeof(buf), SEC), 11);
	CHECK(memcmp(buf, "early bytes", 11) == 0);
}

static void test_ports_beyond_limit(void)
{
	struct vio_console_info info;
	struct vio_device *dev;

	/* The build tracks fewer ports than the device has: the others are refused politely. */
	params.max_ports = 2;
	setup(2, 8);
	sim_console_plug(d, 1, "one", false);
	sim_console_plug(d, 6, "six", false);
	dev = add();
	if (!dev)
		return;
	settle();
	CHECK_EQ(con.port[1].ready, 1);
	CHECK_EQ(con.port[6].ready, 0);
	CHECK_EQ(vio_console_get_info(dev, &info), 0);
	CHECK_EQ(info.ports, 2);
	CHECK_EQ(info.bad_ctrl, 0);
	CHECK_EQ(vio_console_find(dev, "six"), VIO_ENODEV);
	params.max_ports = 0;
}

/* Each malformed message is refused, counted and changes nothing. */
static void test_malformed(void)
{
	struct vio_console_port_info pi;
	struct vio_console_info info;
	struct vio_device *dev = multiport(2);
	uint8_t m[200];
	uint32_t bad = 0;
	unsigned count = 0;

	if (!dev)
		return;
	sim_log_print = false;
#define EXPECT_BAD()                                                 \
	do {                                                         \
		settle();                                            \
		CHECK_EQ(vio_console_get_info(dev, &info), 0);       \
		CHECK_EQ(info.bad_ctrl, ++bad);                      \
		CHECK_EQ(dev->state, VIO_DEV_READY);                 \
		count++;                                             \
	} while (0)
	nevs = 0;
	/* Too short: nothing, and half a header. */
	sim_console_ctrl_raw(d, m, 0);
	EXPECT_BAD();
	memset(m, 0, sizeof(m));
	m[0] = 1;
	m[4] = VIRTIO_CONSOLE_PORT_OPEN;
	sim_console_ctrl_raw(d, m, 7);
	EXPECT_BAD();
	/* Unknown events, and those only a driver sends. */
	sim_console_ctrl(d, 1, 99, 0);
	EXPECT_BAD();
	sim_console_ctrl(d, 1, VIRTIO_CONSOLE_DEVICE_READY, 1);
	EXPECT_BAD();
	sim_console_ctrl(d, 1, VIRTIO_CONSOLE_PORT_READY, 1);
	EXPECT_BAD();
	/* Ports out of range. */
	sim_console_ctrl(d, 8, VIRTIO_CONSOLE_DEVICE_ADD, 1);
	EXPECT_BAD();
	sim_console_ctrl(d, 0xffffffffu, VIRTIO_CONSOLE_PORT_OPEN, 1);
	EXPECT_BAD();
	/* Ports that are not there. */
	sim_console_ctrl(d, 6, VIRTIO_CONSOLE_RESIZE, 0);
	EXPECT_BAD();
	sim_console_ctrl(d, 6, VIRTIO_CONSOLE_DEVICE_REMOVE, 0);
	EXPECT_BAD();
	/* ... but PORT_OPEN ahead of DEVICE_ADD is what QEMU does: ignored, not refused. */
	sim_console_ctrl(d, 6, VIRTIO_CONSOLE_PORT_OPEN, 1);
	settle();
	CHECK_EQ(vio_console_get_info(dev, &info), 0);
	CHECK_EQ(info.bad_ctrl, bad);
	/* An open state that is neither. */
	sim_console_ctrl(d, 2, VIRTIO_CONSOLE_PORT_OPEN, 2);
	EXPECT_BAD();
	/* A resize without its size. */
	sim_console_ctrl(d, 1, VIRTIO_CONSOLE_RESIZE, 0);
	EXPECT_BAD();
	/* Names: no terminator, too long, cut by the buffer. */
	memset(m, 0, sizeof(m));
	m[0] = 1;
	m[4] = VIRTIO_CONSOLE_PORT_NAME;
	memcpy(m + 8, "evil", 4);
	sim_console_ctrl_raw(d, m, 12);
	EXPECT_BAD();
	memset(m + 8, 'a', VIO_CONSOLE_NAME_MAX + 1);
	m[8 + VIO_CONSOLE_NAME_MAX + 1] = 0;
	sim_console_ctrl_raw(d, m, 8 + VIO_CONSOLE_NAME_MAX + 2);
	EXPECT_BAD();
	memset(m + 8, 'b', 190);
	m[198] = 0;
	sim_console_ctrl_raw(d, m, 199);
	EXPECT_BAD();
	CHECK_EQ(count, 14);
	CHECK(sim_log_contains("control message rejected"));

	/* Nothing changed. */
	CHECK_EQ(nevs, 0);
	CHECK_EQ(vio_console_port_info(dev, 1, &pi), 0);
	CHECK_STR(pi.name, "org.vio.alpha");
	CHECK(pi.host_open);
	CHECK_EQ(pi.cols, 0);
	CHECK_EQ(vio_console_port_info(dev, 2, &pi), 0);
	CHECK(!pi.host_open);
	CHECK_EQ(vio_console_port_info(dev, 6, &pi), 0);
	CHECK(!pi.present);
	/* A name of exactly the longest length is taken. */
	memset(m + 8, 'c', VIO_CONSOLE_NAME_MAX);
	m[8 + VIO_CONSOLE_NAME_MAX] = 0;
	sim_console_ctrl_raw(d, m, 8 + VIO_CONSOLE_NAME_MAX + 1);
	settle();
	CHECK_EQ(vio_console_get_info(dev, &info), 0);
	CHECK_EQ(info.bad_ctrl, bad);
	CHECK_EQ(vio_console_port_info(dev, 1, &pi), 0);
	CHECK_EQ(strlen(pi.name), VIO_CONSOLE_NAME_MAX);
	/* And the ports still work. */
	sim_console_host_write(d, 1, "still", 5);
	CHECK_EQ(vio_console_read(dev, 1, m, sizeof(m), SEC), 5);
#undef EXPECT_BAD
}

static void test_small_rings(void)
{
	struct vio_device *dev;
	size_t got = 0;
	int n;

	/* Rings of 4 entries everywhere: fewer buffers than the driver would like, still lossless. */
	setup(2, 4);
	for (unsigned q = 0; q < 10; q++)
		d->q[q].num_max = 4;
	sim_console_plug(d, 0, "", true);
	sim_console_plug(d, 1, "one", false);
	sim_console_plug(d, 2, "two", false);
	sim_console_plug(d, 3, "three", false);
	for (unsigned i = 0; i < 4; i++)
		con.port[i].host_open = true;
	dev = add();
	if (!dev)
		return;
	settle();
	CHECK_EQ(vio_console_find(dev, "three"), 3);
	CHECK_EQ(con.port[3].ready, 1);
	fill(big, 20000, 5);
	sim_console_host_sink(d, 2, sink, sizeof(sink));
	CHECK_EQ(vio_console_write(dev, 2, big, 20000), 20000);
	CHECK_EQ(vio_console_drain(dev, 2, SEC), 0);
	CHECK_EQ(con.port[2].out_len, 20000);
	CHECK(memcmp(sink, big, 20000) == 0);
	sim_console_host_write(d, 1, big, 20000);
	while (got < 20000) {
		n = vio_console_read(dev, 1, big2 + got, 20000 - got, SEC);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	CHECK_EQ(got, 20000);
	CHECK(memcmp(big2, big, 20000) == 0);
}

static void test_max_nr_ports_zero(void)
{
	struct vio_device *dev = NULL;

	setup(2, 4);
	sim_config_set(d, VIRTIO_CONSOLE_CFG_MAX_NR_PORTS, 4, 0);
	sim_log_print = false;
	CHECK_EQ(vio_mmio_add(d->base, d->irq, 0, &dev), VIO_EPROTO);
	CHECK(dev && dev->state == VIO_DEV_FAILED);
}

static void test_emerg_write(void)
{
	struct vio_device *dev;

	setup(2, 1);
	dev = add();
	if (!dev)
		return;
	CHECK_EQ(vio_console_emerg_write(dev, "panic!\n", 7), 7);
	CHECK_EQ(con.emerg_len, 7);
	CHECK(memcmp(con.emerg, "panic!\n", 7) == 0);
	/* The queues are gone: it still gets out. */
	sim_log_print = false;
	vio_dev_fail(dev, VIO_EPROTO);
	CHECK_EQ(vio_console_write(dev, 0, "x", 1), VIO_ESHUTDOWN);
	CHECK_EQ(vio_console_emerg_write(dev, "again", 5), 5);
	CHECK_EQ(con.emerg_len, 12);
	CHECK_EQ(vio_console_emerg_write(NULL, "x", 1), VIO_ENODEV);
}

static void test_emerg_not_offered(void)
{
	struct vio_device *dev;

	setup(1, 1);
	d->features &= ~(1ull << VIRTIO_CONSOLE_F_EMERG_WRITE);
	dev = add();
	if (!dev)
		return;
	CHECK_EQ(vio_console_emerg_write(dev, "x", 1), VIO_ENOTSUP);
	CHECK_EQ(con.emerg_len, 0);
}

static void test_remove_frees(void)
{
	struct vio_device *dev = multiport(2);

	if (!dev)
		return;
	/* Everything the driver allocated goes back once the device fails. */
	sim_log_print = false;
	vio_dev_fail(dev, VIO_EPROTO);
	CHECK_EQ(vio_console_write(dev, 1, "x", 1), VIO_ESHUTDOWN);
}

static void run_all(void)
{
	RUN(test_bulk_modern);
	RUN(test_bulk_legacy);
	RUN(test_tx_runs);
	RUN(test_nonblock);
	RUN(test_size);
	RUN(test_ports_modern);
	RUN(test_ports_legacy);
	RUN(test_data_before_add);
	RUN(test_ports_beyond_limit);
	RUN(test_malformed);
	RUN(test_small_rings);
	RUN(test_max_nr_ports_zero);
	RUN(test_emerg_write);
	RUN(test_emerg_not_offered);
	RUN(test_remove_frees);
}

int main(void)
{
	run_all();
	noncoherent = true;
	run_all();
	return test_report();
}
