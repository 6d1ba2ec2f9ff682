/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The virtio-console benchmark firmware (run_console_bench.py). It brings
 * vio up, takes the first console device and the port named "bench" on it
 * (a QEMU virtserialport on a Unix socket chardev), reads one command a
 * line from the UART and answers with one line; nothing is printed while
 * a workload runs.
 *
 *   info
 *       INFO iface=<legacy|modern> mode=<irq|poll> port=<n> multiport=<0|1>
 *            event_idx=<0|1>
 *
 *   tx <bytes>
 *       writes bytes to the port with vio_console_write, in chunks of
 *       CHUNK bytes, as fast as it takes them, then vio_console_drain:
 *       RES n=<bytes> ns=<first write to drained> kicks=<notifications>
 *           irqs=<interrupts>
 *
 *   rx <bytes>
 *       prints "RX READY", then reads with vio_console_read until bytes
 *       came: RES n= ns=<from READY to the last byte> kicks= irqs=
 *
 *   quit
 *       leaves QEMU with status 0.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vio/device.h>
#include <vio/error.h>
#include <vio/spec/virtio_config.h>
#include <vio/spec/virtio_ring.h>

#include "vio_config.h"
#if CONFIG_VIO_DRIVER_CONSOLE
#include <vio/console.h>
#endif

#include "app.h"
#include "board.h"

#define CHUNK 65536u
#define NS_PER_MS 1000000ull
#define TIMEOUT_NS (30ull * 1000000000ull)

#if CONFIG_VIO_DRIVER_CONSOLE

static struct vio_device *dev;
static unsigned port;
static uint8_t buf[CHUNK];

static int run_tx(uint32_t bytes, uint64_t *ns)
{
	uint32_t done = 0;
	uint64_t t0 = board_time_ns();

	while (done < bytes) {
		uint32_t n = bytes - done < CHUNK ? bytes - done : CHUNK;
		int rc = vio_console_write(dev, port, buf, n);

		if (rc < 0)
			return rc;
		done += (uint32_t)rc;
	}
	int rc = vio_console_drain(dev, port, TIMEOUT_NS);

	*ns = board_time_ns() - t0;
	return rc;
}

static int run_rx(uint32_t bytes, uint64_t *ns)
{
	uint32_t done = 0;
	uint64_t t0;

	/* Anything left over from before is not counted. */
	while (vio_console_read_nonblock(dev, port, buf, CHUNK) > 0)
		;
	printf("RX READY\n");
	t0 = board_time_ns();
	while (done < bytes) {
		uint32_t n = bytes - done < CHUNK ? bytes - done : CHUNK;
		int rc = vio_console_read(dev, port, buf, n, TIMEOUT_NS);

		if (rc < 0)
			return rc;
		done += (uint32_t)rc;
	}
	*ns = board_time_ns() - t0;
	return 0;
}

static void cmd_run(const char *kind, const char *arg)
{
	uint32_t bytes = (uint32_t)strtoul(arg, NULL, 0);
	uint32_t kick0 = dev->notify_count, irq0 = dev->irq_count;
	uint64_t ns = 0;
	int rc;

	if (!bytes) {
		printf("ERR bad arguments\n");
		return;
	}
	rc = strcmp(kind, "tx") == 0 ? run_tx(bytes, &ns) : run_rx(bytes, &ns);
	if (rc) {
		printf("ERR %s: %s\n", kind, vio_strerror(rc));
		return;
	}
	printf("RES kind=%s n=%lu ns=%llu kicks=%u irqs=%u\n", kind, (unsigned long)bytes,
	       (unsigned long long)ns, dev->notify_count - kick0, dev->irq_count - irq0);
}

/* One line from the UART, without echo; the device's work runs meanwhile. */
static void read_line(char *line, size_t size)
{
	size_t n = 0;

	for (;;) {
		int c = board_console_getc();

		if (c < 0) {
			(void)vio_service_wait(NS_PER_MS);
			(void)vio_service();
			continue;
		}
		if (c == '\r' || c == '\n') {
			if (n == 0)
				continue;
			break;
		}
		if (n + 1 < size)
			line[n++] = (char)c;
	}
	line[n] = '\0';
}

static int setup(void)
{
	struct vio_console_port_info pi;
	int p = VIO_ENODEV;

	dev = vio_dev_find(VIRTIO_ID_CONSOLE, 0);
	if (vio_console_check(dev)) {
		printf("ERR no virtio-console device\n");
		return VIO_ENODEV;
	}
	/* The named port appears through control messages: give them a moment. */
	for (uint64_t end = board_time_ns() + 5000 * NS_PER_MS; board_time_ns() < end;) {
		p = vio_console_find(dev, "bench");
		if (p >= 0)
			break;
		(void)vio_service_wait(NS_PER_MS);
		(void)vio_service();
	}
	if (p < 0) {
		printf("ERR no port named bench\n");
		return VIO_ENODEV;
	}
	port = (unsigned)p;
	(void)vio_console_port_info(dev, port, &pi);
	memset(buf, 'v', sizeof(buf));
	return 0;
}

int main(void)
{
	struct vio_console_info info = { 0 };
	char line[128];

	app_vio_start();
	if (setup())
		board_exit(1);
	(void)vio_console_get_info(dev, &info);
	printf("BENCH READY %s\n", board_info()->name);
	for (;;) {
		read_line(line, sizeof(line));
		if (strcmp(line, "info") == 0) {
			printf("INFO iface=%s mode=%s port=%u multiport=%d event_idx=%d\n",
			       vio_dev_interface(dev), vio_dev_uses_irq(dev) ? "irq" : "poll", port,
			       info.multiport, vio_dev_has(dev, VIRTIO_RING_F_EVENT_IDX));
		} else if (strncmp(line, "tx ", 3) == 0 || strncmp(line, "rx ", 3) == 0) {
			line[2] = '\0';
			cmd_run(line, line + 3);
		} else if (strcmp(line, "quit") == 0) {
			board_exit(0);
		} else {
			printf("ERR unknown command '%s'\n", line);
		}
	}
}

#else /* !CONFIG_VIO_DRIVER_CONSOLE */

int main(void)
{
	printf("ERR this build has no virtio-console driver (CONFIG_VIO_DRIVER_CONSOLE)\n");
	board_exit(1);
}

#endif
