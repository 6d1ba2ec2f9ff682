/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The firmwares' use of a virtio-console beyond its driver: crash reports
 * through emergency write, and (CONFIG_VIO_APP_STDIO_CONSOLE) stdin and
 * stdout on port 0, line-buffered so a line of output costs one buffer and
 * one notification, not one per character.
 */
#include <stddef.h>
#include <stdint.h>

#include <vio/console.h>
#include <vio/error.h>
#include <vio/spec/virtio_config.h>

#include "vio_config.h"

#include "app.h"
#include "board.h"

#if CONFIG_VIO_DRIVER_CONSOLE

static struct vio_device *emerg_dev;

/* From the fault handler: no lock, no ring, only the configuration space. */
static void emerg_sink(const char *buf, size_t len)
{
	vio_console_emerg_write(emerg_dev, buf, len);
}

#if CONFIG_VIO_APP_STDIO_CONSOLE
static struct vio_device *io_dev;
static char line[256];
static size_t line_len;

static void io_flush(void)
{
	size_t done = 0;

	while (done < line_len) {
		int n = vio_console_write(io_dev, 0, line + done, line_len - done);

		/* The host side closed or the device failed: drop, as a UART would. */
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	line_len = 0;
}

static void io_write(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		line[line_len++] = buf[i];
		if (buf[i] == '\n' || line_len == sizeof(line))
			io_flush();
	}
}

static int io_getc(void)
{
	char c;

	return vio_console_read_nonblock(io_dev, 0, &c, 1) == 1 ? (unsigned char)c : -1;
}

static const struct board_stdio io = { io_write, io_flush, io_getc };
#endif

void app_console_start(void)
{
	struct vio_device *dev = vio_dev_find(VIRTIO_ID_CONSOLE, 0);
	struct vio_console_info info;

	if (vio_console_get_info(dev, &info))
		return;
	if (info.emerg_write) {
		emerg_dev = dev;
		board_set_fault_sink(emerg_sink);
	}
#if CONFIG_VIO_APP_STDIO_CONSOLE
	/*
	 * With MULTIPORT, port 0 appears (and the host's side opens) through
	 * control messages: give them a moment, or the first lines are lost.
	 */
	for (uint64_t end = board_time_ns() + 2000000000u; board_time_ns() < end;) {
		struct vio_console_port_info pi;

		if (vio_console_port_info(dev, 0, &pi) == 0 && pi.present && pi.host_open)
			break;
		vio_service();
	}
	io_dev = dev;
	board_stdio_set(&io);
#endif
}

#else

void app_console_start(void)
{
}

#endif
