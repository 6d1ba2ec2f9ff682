/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-console on real threads (tests/sim/sim_pthread_port.h): the
 * simulated console runs in a device thread of its own and interrupts from
 * there while, for each of three ports, one thread writes and another reads
 * 256 KiB in chunks of every size, with and without a service thread.
 * Every byte is checked on both sides. Built in every host preset, so it
 * also runs under ThreadSanitizer (host-tsan), and against the polled
 * library.
 */
#define _XOPEN_SOURCE 700 /* nanosleep */

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <vio/console.h>
#include <vio/device.h>
#include <vio/error.h>
#include <vio/mmio.h>
#include <vio/spec/virtio_config.h>

#include "console_model.h"
#include "sim.h"
#include "sim_pthread_port.h"
#include "test.h"
#include "vio_config.h"

#define SEC 1000000000ull
#define NPORTS 3      /* ports 1 .. NPORTS carry data */
#define BYTES (256u * 1024)

static struct sim_console con;
static struct sim_dev *d;
static struct vio_device *dev;
static uint8_t to_guest[NPORTS][BYTES], from_guest[NPORTS][BYTES];
static uint8_t sink[NPORTS][BYTES], got[NPORTS][BYTES];
static int stop_service;

struct worker {
	pthread_t thread;
	unsigned port;
	int failures;
};

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

/* Chunk sizes that go round 1 .. 3000 bytes. */
static size_t chunk(unsigned i, size_t left)
{
	size_t n = 1 + (i * 797u) % 3000u;

	return n < left ? n : left;
}

static void *writer_main(void *arg)
{
	struct worker *w = arg;
	size_t done = 0;

	for (unsigned i = 0; done < BYTES; i++) {
		int n = vio_console_write(dev, w->port + 1, from_guest[w->port] + done,
					  chunk(i, BYTES - done));

		if (n <= 0) {
			fprintf(stderr, "  port %u: write after %zu bytes: %s\n", w->port + 1, done,
				vio_strerror(n));
			w->failures++;
			break;
		}
		done += (size_t)n;
	}
	if (vio_console_drain(dev, w->port + 1, 10 * SEC))
		w->failures++;
	return NULL;
}

static void *reader_main(void *arg)
{
	struct worker *w = arg;
	size_t done = 0;

	for (unsigned i = 0; done < BYTES; i++) {
		int n = vio_console_read(dev, w->port + 1, got[w->port] + done,
					 chunk(i + 7, BYTES - done), 10 * SEC);

		if (n <= 0) {
			fprintf(stderr, "  port %u: read after %zu bytes: %s\n", w->port + 1, done,
				vio_strerror(n));
			w->failures++;
			break;
		}
		done += (size_t)n;
	}
	return NULL;
}

static void *service_main(void *arg)
{
	while (!__atomic_load_n(&stop_service, __ATOMIC_ACQUIRE)) {
		vio_service_wait(SEC / 100);
		vio_service();
	}
	return arg;
}

static bool start(void)
{
	struct timespec pause = { 0, 1000000 };

	d = sim_dev_new(0, 2, VIRTIO_ID_CONSOLE);
	d->features |= (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_EVENT_IDX);
	sim_console_attach(d, &con, 8);
	sim_console_plug(d, 0, "", true);
	for (unsigned p = 0; p < NPORTS; p++) {
		char name[16];

		snprintf(name, sizeof(name), "port%u", p + 1);
		sim_console_plug(d, p + 1, name, false);
		con.port[p + 1].host_open = true;
		fill(to_guest[p], BYTES, 100 + p);
		fill(from_guest[p], BYTES, 200 + p);
		sim_console_host_write(d, p + 1, to_guest[p], BYTES);
		sim_console_host_sink(d, p + 1, sink[p], BYTES);
	}
	sim_thread_start();
	CHECK_EQ(vio_init(sim_thread_port(), sim_thread_os()), 0);
	CHECK_EQ(vio_driver_register(&vio_console_driver, NULL), 0);
	CHECK_EQ(vio_mmio_add(d->base, d->irq, 0, &dev), 0);
	if (!dev || dev->state != VIO_DEV_READY)
		return false;
	/* The ports come up through the control queue. */
	for (unsigned tries = 0; tries < 5000; tries++) {
		struct vio_console_port_info pi;

		vio_dev_poll(dev);
		if (vio_console_port_info(dev, NPORTS, &pi) == 0 && pi.present && pi.host_open)
			return true;
		nanosleep(&pause, NULL);
	}
	CHECK(!"the ports came up");
	return false;
}

static void run(bool service)
{
	struct worker writers[NPORTS], readers[NPORTS];
	pthread_t svc;

	memset(sink, 0, sizeof(sink));
	memset(got, 0, sizeof(got));
	if (!start()) {
		sim_thread_stop();
		return;
	}
	__atomic_store_n(&stop_service, 0, __ATOMIC_RELAXED);
	if (service)
		CHECK_EQ(pthread_create(&svc, NULL, service_main, NULL), 0);
	for (unsigned p = 0; p < NPORTS; p++) {
		writers[p] = (struct worker){ .port = p };
		readers[p] = (struct worker){ .port = p };
		CHECK_EQ(pthread_create(&writers[p].thread, NULL, writer_main, &writers[p]), 0);
		CHECK_EQ(pthread_create(&readers[p].thread, NULL, reader_main, &readers[p]), 0);
	}
	for (unsigned p = 0; p < NPORTS; p++) {
		CHECK_EQ(pthread_join(writers[p].thread, NULL), 0);
		CHECK_EQ(pthread_join(readers[p].thread, NULL), 0);
		CHECK_EQ(writers[p].failures, 0);
		CHECK_EQ(readers[p].failures, 0);
	}
	if (service) {
		__atomic_store_n(&stop_service, 1, __ATOMIC_RELEASE);
		CHECK_EQ(pthread_join(svc, NULL), 0);
	}
	CHECK_EQ(dev->state, VIO_DEV_READY);
	sim_thread_stop();

	/* The device thread is gone: the simulator is ours again. */
	for (unsigned p = 0; p < NPORTS; p++) {
		CHECK_EQ(con.port[p + 1].out_len, BYTES);
		CHECK(memcmp(sink[p], from_guest[p], BYTES) == 0);
		CHECK(memcmp(got[p], to_guest[p], BYTES) == 0);
	}
}

static void test_console_threads_service(void)
{
	run(true);
}

static void test_console_threads_no_service(void)
{
	run(false);
}

int main(void)
{
	RUN(test_console_threads_service);
	RUN(test_console_threads_no_service);
	return test_report();
}
