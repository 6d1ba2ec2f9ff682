/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The virtio-input test firmware (tests/qemu/test_input.py drives it). It
 * brings up every input device, prints what each declared:
 *
 *     INPUT dev=<name> kind=<kind> iface=<legacy|modern> name=<ID_NAME>
 *     ABS dev=<name> axis=<n> min=<v> max=<v>
 *
 * then READY, and takes commands from the UART, one a line:
 *
 *     watch      print every event as it is read, EV <dev> <type> <code> <value>,
 *                until the line `stop`
 *     hold       run the devices' work (buffers go back to the devices) but
 *                read nothing until the line `release`, then print what is
 *                queued: the driver's queue overruns when the host sends more
 *     leds <n>   set the first keyboard's LEDs to n (bit 0 num, 1 caps, 2 scroll)
 *     quit       end (RESULT line, exit status)
 *
 * After watch and hold every device's counters follow (STAT lines) and
 * DONE <command>.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vio/device.h>
#include <vio/error.h>
#include <vio/input.h>
#include <vio/spec/virtio_config.h>
#include <vio/spec/virtio_input.h>

#include "app.h"
#include "board.h"
#include "report.h"

#define MS 1000000ull
#define MAX_DEVS 8

static struct vio_device *devs[MAX_DEVS];
static unsigned ndevs;

/* The next UART line, collected without waiting: true when line holds one. */
static bool uart_poll(char *line, size_t size, size_t *n)
{
	int c;

	while ((c = board_console_getc()) >= 0) {
		if (c == '\r' || c == '\n') {
			if (!*n)
				continue;
			line[*n] = '\0';
			*n = 0;
			return true;
		}
		if (*n + 1 < size)
			line[(*n)++] = (char)c;
	}
	return false;
}

static void describe(struct vio_device *dev)
{
	struct vio_input_info info;
	struct vio_input_absinfo abs;

	if (vio_input_get_info(dev, &info)) {
		fail("info", "%s: no info", dev->name);
		return;
	}
	printf("INPUT dev=%s kind=%s iface=%s name=%s\n", dev->name,
	       vio_input_kind_name(info.kind), vio_dev_interface(dev), info.name);
	for (unsigned a = 0; a < VIO_INPUT_AXES; a++) {
		if (vio_input_abs(dev, a, &abs) == 0)
			printf("ABS dev=%s axis=%u min=%ld max=%ld\n", dev->name, a, (long)abs.min,
			       (long)abs.max);
	}
}

/*
 * Print what every device has queued; returns the events printed. A few
 * events a read: each read also runs the device's work, which gives its
 * buffers back, and a line on the UART takes tens of microseconds.
 */
static unsigned drain(void)
{
	static struct vio_input_event ev[8];
	unsigned total = 0;

	for (unsigned i = 0; i < ndevs; i++) {
		int n;

		while ((n = vio_input_read_nonblock(devs[i], ev, 8)) > 0) {
			for (int k = 0; k < n; k++)
				printf("EV %s %u %u %ld\n", devs[i]->name, ev[k].type, ev[k].code,
				       (long)ev[k].value);
			total += (unsigned)n;
		}
		if (n != VIO_EAGAIN)
			fail("read", "%s: %s", devs[i]->name, vio_strerror(n));
	}
	return total;
}

static void stats(const char *what)
{
	for (unsigned i = 0; i < ndevs; i++) {
		struct vio_input_info info;

		if (vio_input_get_info(devs[i], &info))
			continue;
		printf("STAT %s events=%llu groups=%llu dropped_events=%llu dropped_groups=%llu "
		       "bad=%llu out_of_range=%llu\n", devs[i]->name,
		       (unsigned long long)info.events, (unsigned long long)info.groups,
		       (unsigned long long)info.dropped_events,
		       (unsigned long long)info.dropped_groups,
		       (unsigned long long)info.bad_events,
		       (unsigned long long)info.abs_out_of_range);
	}
	printf("DONE %s\n", what);
	fflush(stdout);
}

/* Until the UART says stop: print events as they come, or (hold) only run the devices. */
static void run(bool hold, const char *until)
{
	char line[32];
	size_t n = 0;

	printf("GO\n");
	fflush(stdout);
	for (;;) {
		/* Sleeps until a device interrupts (or 1 ms for the UART). */
		vio_service_wait(MS);
		vio_service();
		if (!hold && drain())
			fflush(stdout);
		if (uart_poll(line, sizeof(line), &n) && strcmp(line, until) == 0)
			break;
	}
	drain();
}

static void leds(const char *arg)
{
	struct vio_input_info info;
	unsigned long v = strtoul(arg, NULL, 0);

	for (unsigned i = 0; i < ndevs; i++) {
		int rc;

		if (!vio_input_has(devs[i], EV_LED, -1))
			continue;
		rc = vio_input_set_leds(devs[i], (uint32_t)v);
		vio_input_get_info(devs[i], &info);
		printf("LEDS %s rc=%d leds=%lu sent=%llu\n", devs[i]->name, rc,
		       (unsigned long)info.leds, (unsigned long long)info.status_sent);
		if (rc < 0)
			fail("leds", "%s: %s", devs[i]->name, vio_strerror(rc));
		return;
	}
	fail("leds", "no device with LEDs");
}

int main(void)
{
	char line[64];
	size_t n = 0;

	app_vio_start();
	for (unsigned i = 0; ndevs < MAX_DEVS; i++) {
		struct vio_device *dev = vio_dev_find(VIRTIO_ID_INPUT, i);

		if (!dev)
			break;
		if (vio_input_check(dev)) {
			fail("probe", "%s: %s", dev->name, vio_strerror(dev->error));
			continue;
		}
		devs[ndevs++] = dev;
		describe(dev);
	}
	printf("READY\n");
	fflush(stdout);
	for (;;) {
		vio_service_wait(MS);
		vio_service();
		if (!uart_poll(line, sizeof(line), &n))
			continue;
		if (strcmp(line, "watch") == 0) {
			run(false, "stop");
			stats("watch");
		} else if (strcmp(line, "hold") == 0) {
			run(true, "release");
			stats("hold");
		} else if (strncmp(line, "leds ", 5) == 0) {
			leds(line + 5);
			printf("DONE leds\n");
		} else if (strcmp(line, "quit") == 0) {
			break;
		} else {
			fail("command", "unknown '%s'", line);
		}
		fflush(stdout);
	}
	pass("input");
	report_finish();
}
