/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-rng (VirtIO 1.2 section 5.4) against the simulated entropy device.
 * Built twice: against the default library (interrupt-driven completion)
 * and against the polling configuration.
 *
 * The device fills buffers from a fixed stream (sim_rng_byte), so every
 * byte a read returns is checked: reads of any size, one after the other,
 * must give the stream in order.
 */
#include <string.h>

#include <vio/device.h>
#include <vio/error.h>
#include <vio/mmio.h>
#include <vio/rng.h>
#include <vio/spec/virtio_config.h>

#include "sim.h"
#include "sim_port.h"
#include "test.h"
#include "vio_config.h"

#define SEC 1000000000ull
#define MS 1000000ull

static struct sim_rng rng;
static struct sim_dev *d;
static uint32_t stream_pos; /* where the next byte read should be in the stream */

static struct vio_device *setup_features(uint32_t version, uint64_t features)
{
	struct vio_device *dev = NULL;

	CHECK_EQ(vio_init(sim_port(), sim_os()), 0);
	CHECK_EQ(vio_driver_register(&vio_rng_driver, NULL), 0);
	d = sim_dev_new(0, version, VIRTIO_ID_RNG);
	d->features = features;
	if (version == 2)
		d->features |= 1ull << VIRTIO_F_VERSION_1;
	sim_rng_attach(d, &rng);
	stream_pos = 0;
	CHECK_EQ(vio_mmio_add(d->base, d->irq, 0, &dev), 0);
	CHECK(dev != NULL);
	if (dev) {
		CHECK_EQ(dev->state, VIO_DEV_READY);
		CHECK_STR(dev->name, "rng0");
		/* The polling build never takes interrupts. */
		CHECK_EQ(vio_dev_uses_irq(dev), !CONFIG_VIO_COMPLETION_POLL);
	}
	return dev;
}

static struct vio_device *setup(uint32_t version)
{
	return setup_features(version, 0);
}

/* buf[0..n) continues the device's stream. */
static bool stream_ok(const uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] != sim_rng_byte(stream_pos + (uint32_t)i))
			return false;
	}
	stream_pos += (uint32_t)n;
	return true;
}

static void read_sizes(uint32_t version, uint64_t features)
{
	static const size_t sizes[] = { 1, 7, 255, 256, 257, 1000, 5000, 3, 4096, 1 };
	static uint8_t buf[8192];
	struct vio_device *dev = setup_features(version, features);

	if (!dev)
		return;
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(buf, 0, sizeof(buf));
		CHECK_EQ(vio_rng_read(dev, buf, sizes[i], SEC), (int)sizes[i]);
		CHECK(stream_ok(buf, sizes[i]));
		/* Nothing beyond len is touched. */
		CHECK_EQ(buf[sizes[i]], 0);
	}
	CHECK_EQ(dev->state, VIO_DEV_READY);
	CHECK(rng.requests > 8); /* larger reads than the ring holds took many requests */
	CHECK_EQ(vio_rng_read(dev, buf, 0, SEC), 0);
	if (vio_dev_uses_irq(dev)) {
		CHECK(dev->irq_count > 0);
	} else {
		/* Polled: the driver asked the device not to interrupt (2.7.7). */
		CHECK_EQ(d->q[0].irqs, 0);
		CHECK(d->q[0].irqs_suppressed > 0);
		CHECK_EQ(dev->irq_count, 0);
	}
}

static void test_read_modern(void)
{
	read_sizes(2, 0);
}

static void test_read_legacy(void)
{
	read_sizes(1, 0);
}

#define RING_FEATURES ((1ull << VIRTIO_RING_F_EVENT_IDX) | (1ull << VIRTIO_RING_F_INDIRECT_DESC))

static void test_read_event_idx(void)
{
	/* The used_event / avail_event protocol (2.7.10) end to end. */
	read_sizes(2, RING_FEATURES);
	CHECK_EQ(d->driver_features & (1ull << VIRTIO_RING_F_EVENT_IDX),
		 (uint64_t)CONFIG_VIO_RING_EVENT_IDX << VIRTIO_RING_F_EVENT_IDX);
}

static void test_read_event_idx_legacy(void)
{
	read_sizes(1, RING_FEATURES);
	CHECK_EQ(d->driver_features & (1ull << VIRTIO_RING_F_EVENT_IDX),
		 (uint64_t)CONFIG_VIO_RING_EVENT_IDX << VIRTIO_RING_F_EVENT_IDX);
}

static void test_read_short_fills(void)
{
	static uint8_t buf[3000];
	struct vio_device *dev = setup(2);

	if (!dev)
		return;
	/* 5.4.6: the device may fill less than offered. */
	rng.max_fill = 10;
	CHECK_EQ(vio_rng_read(dev, buf, sizeof(buf), SEC), (int)sizeof(buf));
	CHECK(stream_ok(buf, sizeof(buf)));
	/* Empty completions are retried, not returned. */
	rng.max_fill = 0;
	rng.zero_fills = 5;
	CHECK_EQ(vio_rng_read(dev, buf, 500, SEC), 500);
	CHECK(stream_ok(buf, 500));
	CHECK_EQ(rng.zero_fills, 0);
}

static void test_read_later(void)
{
	static uint8_t buf[1000];
	struct vio_device *dev = setup(2);

	if (!dev)
		return;
	/* Each request completes a few device steps after it was made. */
	rng.delay = 5;
	CHECK_EQ(vio_rng_read(dev, buf, sizeof(buf), SEC), (int)sizeof(buf));
	CHECK(stream_ok(buf, sizeof(buf)));
	if (vio_dev_uses_irq(dev))
		CHECK(dev->irq_count >= 4);
}

static void test_nonblock(void)
{
	uint8_t buf[1000];
	struct vio_device *dev = setup(2);
	int n;

	if (!dev)
		return;
	/* The device runs only when the test says so. */
	sim_step_in_time = false;
	CHECK_EQ(vio_rng_read_nonblock(dev, buf, 64), VIO_EAGAIN);
	CHECK_EQ(vio_rng_read_nonblock(dev, buf, 64), VIO_EAGAIN);
	CHECK_EQ(sim_step(d), 1); /* one request, not one per call */
	n = vio_rng_read_nonblock(dev, buf, 64);
	CHECK_EQ(n, 64);
	CHECK(n > 0 && stream_ok(buf, (size_t)n));
	n = vio_rng_read_nonblock(dev, buf, sizeof(buf));
	CHECK(n > 0 && n < (int)sizeof(buf));
	CHECK(n > 0 && stream_ok(buf, (size_t)n));
	/* Used up: another request is out, not served yet. */
	CHECK_EQ(vio_rng_read_nonblock(dev, buf, sizeof(buf)), VIO_EAGAIN);
	sim_step(d);
	n = vio_rng_read_nonblock(dev, buf, 10);
	CHECK_EQ(n, 10);
	CHECK(n > 0 && stream_ok(buf, (size_t)n));
	/* Blocking and non-blocking reads share one stream. */
	sim_step_in_time = true;
	CHECK_EQ(vio_rng_read(dev, buf, 700, SEC), 700);
	CHECK(stream_ok(buf, 700));
}

static void test_timeout(void)
{
	uint8_t buf[300];
	struct vio_device *dev = setup(2);
	uint64_t t0;

	if (!dev)
		return;
	/* A device that never answers: a timeout at the deadline, not a hang. */
	rng.hold = true;
	t0 = sim_now();
	CHECK_EQ(vio_rng_read(dev, buf, 16, 10 * MS), VIO_ETIMEDOUT);
	CHECK(sim_now() - t0 >= 10 * MS);
	CHECK(sim_now() - t0 < SEC);
	CHECK_EQ(sim_held(d, 0), 1);
	CHECK_EQ(vio_rng_read_nonblock(dev, buf, 16), VIO_EAGAIN);
	/* A short per-call timeout: the request is young, the device stays in service. */
	CHECK_EQ(dev->state, VIO_DEV_READY);

	/* It wakes up: the request it held is served and reading goes on. */
	rng.hold = false;
	CHECK_EQ(vio_rng_read(dev, buf, sizeof(buf), SEC), (int)sizeof(buf));
	CHECK(stream_ok(buf, sizeof(buf)));
	CHECK_EQ(sim_held(d, 0), 0);
}

/*
 * A device storming on a line it shares with this one (PCI INTx): the line
 * is masked and the storming device failed; this one would wait for
 * interrupts that never come. It is polled from then on: a read still
 * completes, the log says why, and the device stays in service.
 */
static void test_storm_on_shared_line(void)
{
	static struct sim_rng rng2;
	struct vio_device *dev = setup(2), *dev2 = NULL;
	struct sim_dev *d2;
	uint8_t buf[64];
	int own_irq;

	if (!dev || CONFIG_VIO_COMPLETION_POLL)
		return;
	d2 = sim_dev_new(1, 2, VIRTIO_ID_RNG);
	d2->features |= 1ull << VIRTIO_F_VERSION_1;
	sim_rng_attach(d2, &rng2);
	CHECK_EQ(vio_mmio_add(d2->base, d2->irq, 1, &dev2), 0);
	if (!dev2)
		return;
	/* dev2 shares dev's line from now on (the sim port gave them two). */
	own_irq = dev2->irq;
	dev2->irq = dev->irq;
	for (unsigned i = 0; i < 1000; i++)
		vio_dev_irq(dev2);
	CHECK(sim_irq_masked(dev->irq));
	vio_service();
	CHECK_EQ(dev2->state, VIO_DEV_FAILED);
	CHECK_EQ(dev->state, VIO_DEV_READY);
	CHECK(!vio_dev_uses_irq(dev));
	CHECK_STR(vio_dev_irq_mode_name(dev), "polled");
	CHECK(sim_log_contains("rng0: line 1 masked (a device sharing it stormed); polling"));
	CHECK_EQ(vio_rng_read(dev, buf, sizeof(buf), SEC), (int)sizeof(buf));
	CHECK(stream_ok(buf, sizeof(buf)));
	CHECK_EQ(dev->state, VIO_DEV_READY);
	dev2->irq = own_irq;
}

/*
 * A request the device holds for the device's timeout (the parameters'
 * timeout_ms) is never coming back: the read that notices fails and
 * resets the device; recovered, it reads again.
 */
static void test_timeout_dead(void)
{
	static const struct vio_rng_params params = { .timeout_ms = 30 };
	struct vio_device *dev = NULL;
	uint8_t buf[300];

	CHECK_EQ(vio_init(sim_port(), sim_os()), 0);
	CHECK_EQ(vio_driver_register(&vio_rng_driver, &params), 0);
	d = sim_dev_new(0, 2, VIRTIO_ID_RNG);
	d->features |= 1ull << VIRTIO_F_VERSION_1;
	sim_rng_attach(d, &rng);
	CHECK_EQ(vio_mmio_add(d->base, d->irq, 0, &dev), 0);
	if (!dev)
		return;
	rng.hold = true;
	CHECK_EQ(vio_rng_read(dev, buf, 16, 10 * MS), VIO_ETIMEDOUT);
	CHECK_EQ(dev->state, VIO_DEV_READY);
	CHECK_EQ(vio_rng_read(dev, buf, 16, 40 * MS), VIO_ETIMEDOUT);
	CHECK_EQ(dev->state, VIO_DEV_FAILED);
	CHECK_EQ(dev->error, VIO_ETIMEDOUT);
	CHECK_EQ(sim_held(d, 0), 0); /* reset: the device dropped it */
	CHECK(sim_log_contains("no answer in 30 ms"));
	CHECK_EQ(vio_rng_read_nonblock(dev, buf, 16), VIO_ESHUTDOWN);
	rng.hold = false;
	CHECK_EQ(vio_dev_recover(dev), 0);
	CHECK_EQ(vio_rng_read(dev, buf, sizeof(buf), SEC), (int)sizeof(buf));
}

static struct vio_device *script_dev;
static unsigned script_at;

static void release_at(unsigned nrun)
{
	if (nrun == script_at)
		rng.hold = false;
}

static void test_complete_during_wait(void)
{
	uint8_t buf[100];
	struct vio_device *dev = setup(1);

	if (!dev)
		return;
	rng.hold = true;
	script_at = 50;
	sim_on_run = release_at;
	CHECK_EQ(vio_rng_read(dev, buf, sizeof(buf), SEC), (int)sizeof(buf));
	CHECK(stream_ok(buf, sizeof(buf)));
	CHECK(sim_runs >= 50);
}

static unsigned config_changes_sent;

static void config_change_every_3(unsigned nrun)
{
	if (nrun % 3 == 0 && config_changes_sent < 10) {
		config_changes_sent++;
		sim_config_change(d, 0, NULL, 0);
	}
}

static void test_config_change_during_read(void)
{
	static uint8_t buf[3000];
	struct vio_device *dev = setup(2);

	if (!dev)
		return;
	/* Configuration interrupts (rng has no config) do not disturb a read. */
	rng.delay = 3;
	config_changes_sent = 0;
	sim_on_run = config_change_every_3;
	CHECK_EQ(vio_rng_read(dev, buf, sizeof(buf), SEC), (int)sizeof(buf));
	CHECK(stream_ok(buf, sizeof(buf)));
	CHECK(config_changes_sent > 0);
	CHECK_EQ(dev->state, VIO_DEV_READY);
}

static void reset_at(unsigned nrun)
{
	if (nrun == script_at)
		sim_needs_reset(d);
}

static void test_needs_reset_during_read(void)
{
	uint8_t buf[100];
	struct vio_device *dev = setup(2);
	uint64_t t0;
	int rc;

	if (!dev)
		return;
	script_dev = dev;
	rng.hold = true;
	script_at = 3;
	sim_on_run = reset_at;
	t0 = sim_now();
	rc = vio_rng_read(dev, buf, sizeof(buf), SEC);
	CHECK(rc == VIO_ESHUTDOWN || rc == VIO_EIO);
	/* Noticed at once, not at the deadline. */
	CHECK(sim_now() - t0 < SEC / 2);
	CHECK_EQ(dev->state, VIO_DEV_FAILED);
	CHECK(d->status & VIRTIO_CONFIG_S_FAILED);
	CHECK_EQ(vio_rng_read(dev, buf, sizeof(buf), SEC), VIO_ESHUTDOWN);
	CHECK_EQ(vio_rng_read_nonblock(dev, buf, sizeof(buf)), VIO_ESHUTDOWN);
	/* Recovered (vio_dev_recover), it reads again. */
	sim_on_run = NULL;
	rng.hold = false;
	CHECK_EQ(vio_dev_recover(dev), 0);
	CHECK(!(d->status & VIRTIO_CONFIG_S_FAILED));
	CHECK_EQ(vio_rng_read(dev, buf, sizeof(buf), SEC), (int)sizeof(buf));
}

/* A device that writes garbage into the used ring: an error, then out of service. */
static void evil(enum sim_evil how, bool nonblock)
{
	uint8_t buf[600];
	struct vio_device *dev = setup(2);
	uint64_t t0;
	int rc = 0;

	if (!dev)
		return;
	CHECK_EQ(vio_rng_read(dev, buf, 16, SEC), 16);
	d->evil = how;
	t0 = sim_now();
	if (nonblock) {
		for (unsigned i = 0; i < 100; i++) {
			sim_step(d);
			rc = vio_rng_read_nonblock(dev, buf, sizeof(buf));
			if (rc < 0 && rc != VIO_EAGAIN)
				break;
		}
	} else {
		rc = vio_rng_read(dev, buf, sizeof(buf), SEC);
	}
	CHECK(rc == VIO_EPROTO || rc == VIO_ESHUTDOWN);
	CHECK(sim_now() - t0 < SEC / 2);
	CHECK_EQ(dev->state, VIO_DEV_FAILED);
	CHECK_EQ(dev->error, VIO_EPROTO);
	CHECK(d->status & VIRTIO_CONFIG_S_FAILED);
	CHECK(sim_log_count(VIO_LOG_ERR) > 0);
	CHECK_EQ(vio_rng_read(dev, buf, 16, SEC), VIO_ESHUTDOWN);
	CHECK_EQ(vio_rng_read_nonblock(dev, buf, 16), VIO_ESHUTDOWN);
}

static void test_evil_id_range(void)
{
	evil(SIM_EVIL_ID_RANGE, false);
}

static void test_evil_id_free(void)
{
	evil(SIM_EVIL_ID_FREE, false);
}

static void test_evil_len(void)
{
	evil(SIM_EVIL_LEN, false);
}

static void test_evil_idx_jump(void)
{
	evil(SIM_EVIL_IDX_JUMP, false);
}

static void test_evil_extra(void)
{
	evil(SIM_EVIL_EXTRA, false);
}

static void test_evil_nonblock(void)
{
	evil(SIM_EVIL_LEN, true);
}

static int dummy_probe(struct vio_device *dev)
{
	return 0;
}

static const struct vio_driver dummy = {
	.name = "dummy",
	.device_id = VIRTIO_ID_CONSOLE,
	.probe = dummy_probe,
};

static void test_not_rng(void)
{
	struct sim_dev *c = sim_dev_new(1, 2, VIRTIO_ID_CONSOLE);
	struct sim_dev *r = sim_dev_new(2, 2, VIRTIO_ID_RNG);
	struct vio_device *dc = NULL, *dr = NULL, *dev;
	uint8_t buf[8];

	dev = setup(2);
	CHECK_EQ(vio_driver_register(&dummy, NULL), 0);
	c->features = 1ull << VIRTIO_F_VERSION_1;
	CHECK_EQ(vio_mmio_add(c->base, c->irq, 1, &dc), 0);
	CHECK_EQ(vio_rng_read(NULL, buf, 8, SEC), VIO_ENODEV);
	CHECK_EQ(vio_rng_read_nonblock(NULL, buf, 8), VIO_ENODEV);
	CHECK_EQ(vio_rng_read(dc, buf, 8, SEC), VIO_ENODEV);
	CHECK_EQ(vio_rng_read_nonblock(dc, buf, 8), VIO_ENODEV);
	if (dev)
		CHECK_EQ(vio_rng_read(dev, NULL, 8, SEC), VIO_EINVAL);
	/* An rng that was refused (no VERSION_1 on a modern device) is not live. */
	CHECK_EQ(vio_mmio_add(r->base, r->irq, 2, &dr), VIO_ENOTSUP);
	CHECK(dr != NULL);
	if (dr) {
		int rc = vio_rng_read(dr, buf, 8, SEC);

		CHECK(rc == VIO_ENODEV || rc == VIO_ESHUTDOWN);
	}
}

static void test_queue_missing(void)
{
	struct vio_device *dev = NULL;

	CHECK_EQ(vio_init(sim_port(), sim_os()), 0);
	CHECK_EQ(vio_driver_register(&vio_rng_driver, NULL), 0);
	d = sim_dev_new(0, 2, VIRTIO_ID_RNG);
	d->features = 1ull << VIRTIO_F_VERSION_1;
	d->q[0].num_max = 0;
	sim_rng_attach(d, &rng);
	CHECK_EQ(vio_mmio_add(d->base, d->irq, 0, &dev), VIO_ENODEV);
	if (dev)
		CHECK_EQ(dev->state, VIO_DEV_FAILED);
	CHECK_EQ(sim_dma_live(), 0);
}

int main(void)
{
	RUN(test_read_modern);
	RUN(test_storm_on_shared_line);
	RUN(test_read_legacy);
	RUN(test_read_event_idx);
	RUN(test_read_event_idx_legacy);
	RUN(test_read_short_fills);
	RUN(test_config_change_during_read);
	RUN(test_read_later);
	RUN(test_nonblock);
	RUN(test_timeout);
	RUN(test_timeout_dead);
	RUN(test_complete_during_wait);
	RUN(test_needs_reset_during_read);
	RUN(test_evil_id_range);
	RUN(test_evil_id_free);
	RUN(test_evil_len);
	RUN(test_evil_idx_jump);
	RUN(test_evil_extra);
	RUN(test_evil_nonblock);
	RUN(test_not_rng);
	RUN(test_queue_missing);
	return test_report();
}
