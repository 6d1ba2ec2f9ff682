/* SPDX-License-Identifier: Apache-2.0 */
/* The libFuzzer targets' common part (fuzz.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vio/blk.h>
#include <vio/console.h>
#include <vio/device.h>
#include <vio/gpu.h>
#include <vio/input.h>
#include <vio/mmio.h>
#include <vio/net.h>
#include <vio/rng.h>
#include <vio/spec/virtio_config.h>

#include "fuzz.h"
#include "sim.h"
#include "sim_cache.h"
#include "sim_port.h"

/* FUZZ_TRACE set: print every action (to see what an input does). */
static bool trace;
static const uint8_t *fz_p;
static size_t fz_n;

void fz_start(const uint8_t *data, size_t size)
{
	fz_p = data;
	fz_n = size;
}

bool fz_more(void)
{
	return fz_n != 0;
}

uint8_t fz_u8(void)
{
	if (!fz_n)
		return 0;
	fz_n--;
	return *fz_p++;
}

uint16_t fz_u16(void)
{
	uint16_t v = fz_u8();

	return (uint16_t)(v | fz_u8() << 8);
}

uint32_t fz_u32(void)
{
	uint32_t v = fz_u16();

	return v | (uint32_t)fz_u16() << 16;
}

uint64_t fz_u64(void)
{
	uint64_t v = fz_u32();

	return v | (uint64_t)fz_u32() << 32;
}

void fz_bytes(void *dst, size_t n)
{
	size_t k = n < fz_n ? n : fz_n;

	memcpy(dst, fz_p, k);
	memset((uint8_t *)dst + k, 0, n - k);
	fz_p += k;
	fz_n -= k;
}

uint64_t fz_timeout(void)
{
	/* The port's clock is fake: an empty wait advances it by 1 ms. */
	return (uint64_t)(fz_u8() % 8) * 1000000u;
}

/*
 * While a blocking call waits, the device may do anything a device action
 * does (2.1.2, 4.2.2: NEEDS_RESET, config changes and interrupts come at
 * any moment), except run the library (vio_service) from inside it.
 */
static struct sim_dev *fz_on_run_dev;

static void fz_on_run(unsigned nrun)
{
	uint8_t op = fz_u8();

	(void)nrun;
	if (fz_on_run_dev && op != 0 && op < FZ_DEV_OPS && op != 7)
		fz_device_op(fz_on_run_dev, op);
}

const struct vio_port *fz_begin(uint8_t mode)
{
	bool polled = mode & 1;
	/* One input in four on a port without cache coherency (sim_cache.h). */
	bool noncoherent = (mode & 6) == 6;
	const struct vio_port *port;

	sim_reset_all();
	sim_port_reset();
	trace = getenv("FUZZ_TRACE") != NULL;
	sim_verbose = trace;
	sim_log_print = false;
	fz_on_run_dev = NULL;
	sim_on_run = fz_on_run;
	/*
	 * A coarse fake clock, 1 ms a read: a 5 ms timeout ends after five
	 * reads. A polled wait reads the clock every POLL_CLOCK_EVERY passes,
	 * and a dead device's waits were most of an input's time at 250 us a
	 * read (2.3x the executions per second now, the same coverage of the
	 * working corpora).
	 */
	sim_time_tick_ns = 1000000;
	if (noncoherent)
		port = polled ? sim_port_noncoherent_polled() : sim_port_noncoherent();
	else
		port = polled ? sim_port_polled() : sim_port();
	vio_init(port, sim_os());
	return port;
}

void fz_end(void)
{
	unsigned errs = sim_take_errors();

	/*
	 * Driver errors (protocol violations the strict simulated device
	 * saw) are listed on request: against a hostile device some are the
	 * device's doing (a queue it broke itself), so they do not fail a run.
	 */
	if (errs && getenv("FUZZ_SIM_ERRORS"))
		fprintf(stderr, "fuzz: %u driver error(s), last: %s\n", errs, sim_last_error());
	fz_on_run_dev = NULL;
	sim_reset_all();
	sim_port_reset();
}

void fz_register_all(void)
{
	static const struct vio_blk_params blk = { .max_queues = 2, .queue_size = 8, .timeout_ms = 5 };
	/* A dozen receive buffers: the default's megabytes cost most of an
	 * input in zeroing and reach no more code. */
	static const struct vio_net_params net = {
		.max_queue_pairs = 2, .rx_queue_size = 8, .tx_queue_size = 8, .timeout_ms = 5,
		.rx_buffers = 12,
	};
	static const struct vio_console_params con = { .max_ports = 4, .timeout_ms = 5 };
	static const struct vio_input_params in = { .timeout_ms = 5 };
	static const struct vio_gpu_params gpu = { .timeout_ms = 5 };

	vio_driver_register(&vio_net_driver, &net);
	vio_driver_register(&vio_blk_driver, &blk);
	vio_driver_register(&vio_console_driver, &con);
	vio_driver_register(&vio_rng_driver, NULL);
	vio_driver_register(&vio_input_driver, &in);
	vio_driver_register(&vio_gpu_driver, &gpu);
}

struct sim_dev *fz_dev_new(uint32_t device_id)
{
	uint8_t v = fz_u8();
	struct sim_dev *d;

	/* 2 of 3 modern; a third of those offers the packed layout. */
	sim_offer_packed = v % 3 == 2;
	d = sim_dev_new(0, v % 3 == 0 ? 1 : 2, device_id);
	return d;
}

/* The hostile model: the real one (inner) answers only when the stream says so. */
static const struct sim_model *inner;

static unsigned chain_fill(const struct sim_chain *c, uint32_t len, bool zero)
{
	uint32_t left = len;

	for (unsigned i = 0; i < c->nin && left; i++) {
		uint32_t k = c->in[i].len < left ? c->in[i].len : left;

		if (zero)
			memset(c->in[i].buf, 0, k);
		else
			fz_bytes(c->in[i].buf, k);
		left -= k;
	}
	return len;
}

static int hostile_handle(struct sim_dev *d, unsigned q, const struct sim_chain *c)
{
	uint8_t op = fz_u8();
	uint32_t len;

	if (trace)
		fprintf(stderr, "fuzz: q%u chain %u (in %u): answer %u\n", q, c->head, c->in_len, op % 8);
	switch (op % 8) {
	case 5:
		return SIM_HOLD;
	case 6:
		/* Fuzz bytes, any length up to the writable space. */
		len = c->in_len ? fz_u32() % (c->in_len + 1) : 0;
		return (int)chain_fill(c, len, false);
	case 7:
		/* Zeros over everything (a status byte of 0 is "OK" for most types). */
		if (op & 0x80)
			return (int)chain_fill(c, c->in_len, true);
		/* A length with nothing written (stale bytes). */
		return c->in_len ? (int)(fz_u32() % (c->in_len + 1)) : 0;
	default:
		return inner && inner->handle ? inner->handle(d, q, c) : 0;
	}
}

static void hostile_reset(struct sim_dev *d)
{
	if (inner && inner->reset)
		inner->reset(d);
}

static void hostile_config_write(struct sim_dev *d, unsigned off, unsigned width)
{
	uint8_t op;

	if (inner && inner->config_write)
		inner->config_write(d, off, width);
	op = fz_u8();
	/* The answer to the write (input's select/subsel) is anything. */
	if (op & 1 && d->config_size) {
		unsigned at = fz_u8() % d->config_size;
		unsigned n = op >> 1;

		if (n > d->config_size - at)
			n = d->config_size - at;
		fz_bytes(d->config + at, n);
	}
}

static const struct sim_model hostile_model = {
	.name = "hostile",
	.handle = hostile_handle,
	.reset = hostile_reset,
	.config_write = hostile_config_write,
};

void fz_hostile(struct sim_dev *d)
{
	uint8_t n;

	inner = d->model;
	d->model = &hostile_model;
	/* Drop offered features, so every combination is reached. */
	d->features &= ~fz_u64();
	if (!sim_is_legacy(d))
		d->features |= 1ull << VIRTIO_F_VERSION_1;
	/* Overwrite config spans before the probe reads them. */
	n = fz_u8() % 8;
	for (uint8_t i = 0; i < n && d->config_size; i++) {
		unsigned at = fz_u8() % d->config_size;
		unsigned len = fz_u8() % 32;

		if (len > d->config_size - at)
			len = d->config_size - at;
		fz_bytes(d->config + at, len);
	}
	fz_on_run_dev = d;
}

struct vio_device *fz_add(struct sim_dev *d)
{
	struct vio_device *dev = NULL;

	(void)vio_mmio_add(d->base, d->irq, 0, &dev);
	return dev;
}

static unsigned live_queue(struct sim_dev *d, unsigned q)
{
	for (unsigned i = 0; i < SIM_MAX_QUEUES; i++) {
		unsigned k = (q + i) % SIM_MAX_QUEUES;

		if (d->q[k].ready && d->q[k].num)
			return k;
	}
	return SIM_MAX_QUEUES;
}

void fz_device_op(struct sim_dev *d, uint8_t op)
{
	uint8_t b;
	unsigned q;

	if (trace)
		fprintf(stderr, "fuzz: device op %u\n", op);
	switch (op) {
	case 0:
		sim_step(d);
		break;
	case 1:
		/* The next completion (or every one) breaks the ring protocol. */
		b = fz_u8();
		d->evil = (enum sim_evil)(b % 7);
		d->evil_sticky = (b & 0x80) != 0;
		break;
	case 2:
		/* An interrupt with any status bits (4.2.2 InterruptStatus). */
		sim_raise(d, fz_u32());
		break;
	case 3:
		sim_needs_reset(d);
		break;
	case 4: {
		uint8_t buf[16];
		unsigned at = d->config_size ? fz_u8() % d->config_size : 0;
		unsigned len = fz_u8() % sizeof(buf);

		if (len > d->config_size - at)
			len = d->config_size - at;
		fz_bytes(buf, len);
		sim_config_change(d, at, buf, len);
		break;
	}
	case 5:
		b = fz_u8();
		d->config_gen_changes = b & 3;
		d->config_changes = (b >> 2) & 3;
		break;
	case 6: {
		/* A used entry with any id, length and index step (2.7.8, 2.8.21). */
		uint32_t id, len;
		uint16_t step;

		q = live_queue(d, fz_u8());
		id = fz_u16();
		len = fz_u32();
		step = fz_u8();
		if (q < SIM_MAX_QUEUES)
			sim_used_push(d, q, id, len, step ? step : 1);
		break;
	}
	case 7:
		(void)vio_service();
		break;
	case 8:
		(void)sim_irq_storm(d->irq, 64);
		break;
	case 9:
		d->used_flags = fz_u16();
		d->avail_event = fz_u8() & 0x80 ? -1 : fz_u16();
		break;
	case 10:
		sim_advance((uint64_t)fz_u16() * 1000u);
		break;
	case 11:
		d->irq_always = !d->irq_always;
		break;
	case 12:
		/* Status readback games: a reset that takes a while to show. */
		d->reset_delay = fz_u8() % 4;
		break;
	case 13:
		d->keeps_running = !d->keeps_running;
		break;
	case 14:
		d->queue_ready_lag = fz_u8() % 4;
		break;
	default:
		sim_step_all();
		(void)vio_service();
		break;
	}
}

void fz_run(struct sim_dev *d, struct vio_device *dev, unsigned max_ops,
	    void (*api)(struct vio_device *dev, uint8_t op))
{
	for (unsigned i = 0; i < max_ops && fz_more(); i++) {
		uint8_t op = fz_u8();

		if (op < FZ_DEV_OPS)
			fz_device_op(d, op);
		else if (dev) {
			if (trace)
				fprintf(stderr, "fuzz: api op %u\n", (uint8_t)(op - FZ_DEV_OPS));
			api(dev, (uint8_t)(op - FZ_DEV_OPS));
		}
	}
}
