/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-input on real threads (tests/sim/sim_pthread_port.h): the
 * simulated keyboard and mouse run in the device thread, a reader thread
 * per device takes events with vio_input_read while another thread sets
 * the keyboard's LEDs over and over, with and without a service thread.
 * Built in every host preset, and under ThreadSanitizer in host-tsan.
 *
 * Whatever the timing, each reader must see its device's motions in order,
 * every group whole, and the groups it got plus those the driver counted
 * as dropped must be all the device sent; every LED change must reach the
 * device.
 */
#define _XOPEN_SOURCE 700 /* nanosleep */

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <vio/device.h>
#include <vio/error.h>
#include <vio/input.h>
#include <vio/mmio.h>
#include <vio/spec/virtio_config.h>
#include <vio/spec/virtio_input.h>

#include "input_model.h"
#include "sim.h"
#include "sim_pthread_port.h"
#include "test.h"

#define SEC 1000000000ull
#define GROUPS 2000u /* per device: far more than the driver's queue (the model holds 4096) */
#define LED_ROUNDS 200u

static struct sim_input model[2];
static struct vio_device *devs[2];

struct reader {
	pthread_t thread;
	unsigned idx;
	unsigned groups, marks, failures;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	struct vio_input_event ev[16];
	struct vio_input_info info;
	unsigned last = 0, in_group = 0;

	for (;;) {
		int n = vio_input_read(devs[r->idx], ev, 16, SEC / 5);

		if (n == VIO_ETIMEDOUT)
			break; /* the device has sent everything */
		if (n <= 0) {
			fprintf(stderr, "  input%u: read: %s\n", r->idx, vio_strerror(n));
			r->failures++;
			break;
		}
		for (int i = 0; i < n; i++) {
			if (ev[i].type == EV_SYN && ev[i].code == SYN_DROPPED) {
				r->marks++;
				r->failures += in_group != 0;
			} else if (ev[i].type == EV_SYN) {
				r->groups++;
				r->failures += in_group != 1;
				in_group = 0;
			} else {
				r->failures += (unsigned)ev[i].value <= last;
				last = (unsigned)ev[i].value;
				in_group++;
			}
		}
	}
	if (vio_input_get_info(devs[r->idx], &info) || r->groups + info.dropped_groups != GROUPS ||
	    (info.dropped_groups != 0) != (r->marks != 0)) {
		fprintf(stderr, "  input%u: %u groups read, %llu dropped, %u marks\n", r->idx,
			r->groups, (unsigned long long)info.dropped_groups, r->marks);
		r->failures++;
	}
	return NULL;
}

static void *leds_main(void *arg)
{
	unsigned *failures = arg;

	const uint32_t on = VIO_INPUT_LED_CAPS | VIO_INPUT_LED_NUM;

	/* Both LEDs change every round: two status events each. */
	for (unsigned i = 0; i < LED_ROUNDS; i++) {
		if (vio_input_set_leds(devs[0], i % 2 ? 0 : on) != 2)
			(*failures)++;
	}
	return NULL;
}

static int stop_service;

static void *service_main(void *arg)
{
	while (!__atomic_load_n(&stop_service, __ATOMIC_ACQUIRE)) {
		vio_service_wait(SEC / 100);
		vio_service();
	}
	return arg;
}

static void run(bool service)
{
	struct reader readers[2];
	unsigned led_failures = 0;
	pthread_t leds, svc;

	for (unsigned i = 0; i < 2; i++) {
		struct sim_dev *d = sim_dev_new((int)i, 2, VIRTIO_ID_INPUT);

		d->features |= (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_EVENT_IDX);
		sim_input_attach(d, &model[i], i ? SIM_INPUT_MOUSE : SIM_INPUT_KEYBOARD);
		for (unsigned g = 0; g < GROUPS; g++) {
			if (i)
				sim_input_push(&model[i], EV_REL, REL_X, g + 1);
			else
				sim_input_push(&model[i], EV_KEY, (uint16_t)(1 + g % KEY_Z), g + 1);
			sim_input_push(&model[i], EV_SYN, SYN_REPORT, 0);
		}
	}
	sim_thread_start();
	CHECK_EQ(vio_init(sim_thread_port(), sim_thread_os()), 0);
	CHECK_EQ(vio_driver_register(&vio_input_driver, NULL), 0);
	for (unsigned i = 0; i < 2; i++) {
		devs[i] = NULL;
		CHECK_EQ(vio_mmio_add(sim_base((int)i), (int)i + 1, (int)i, &devs[i]), 0);
		if (!devs[i] || devs[i]->state != VIO_DEV_READY) {
			sim_thread_stop();
			return;
		}
	}
	__atomic_store_n(&stop_service, 0, __ATOMIC_RELAXED);
	if (service)
		CHECK_EQ(pthread_create(&svc, NULL, service_main, NULL), 0);
	for (unsigned i = 0; i < 2; i++) {
		readers[i] = (struct reader){ .idx = i };
		CHECK_EQ(pthread_create(&readers[i].thread, NULL, reader_main, &readers[i]), 0);
	}
	CHECK_EQ(pthread_create(&leds, NULL, leds_main, &led_failures), 0);
	for (unsigned i = 0; i < 2; i++) {
		CHECK_EQ(pthread_join(readers[i].thread, NULL), 0);
		CHECK_EQ(readers[i].failures, 0);
	}
	CHECK_EQ(pthread_join(leds, NULL), 0);
	CHECK_EQ(led_failures, 0);
	if (service) {
		__atomic_store_n(&stop_service, 1, __ATOMIC_RELEASE);
		CHECK_EQ(pthread_join(svc, NULL), 0);
	}
	/* Give the last status buffers time to come back. */
	for (unsigned tries = 0; tries < 1000; tries++) {
		struct timespec pause = { 0, 1000000 };
		unsigned n;

		vio_dev_poll(devs[0]);
		sim_thread_lock();
		n = model[0].nstatus;
		sim_thread_unlock();
		if (n == 2 * LED_ROUNDS)
			break;
		nanosleep(&pause, NULL);
	}
	CHECK_EQ(devs[0]->state, VIO_DEV_READY);
	CHECK_EQ(devs[1]->state, VIO_DEV_READY);
	sim_thread_stop();
	CHECK_EQ(model[0].nstatus, 2 * LED_ROUNDS);
	CHECK_EQ(model[0].events_sent, 2 * GROUPS);
	CHECK_EQ(model[1].events_sent, 2 * GROUPS);
}

static void test_input_threads_service(void)
{
	run(true);
}

static void test_input_threads_no_service(void)
{
	run(false);
}

int main(void)
{
	RUN(test_input_threads_service);
	RUN(test_input_threads_no_service);
	return test_report();
}
