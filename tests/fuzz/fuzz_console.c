/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-console (VirtIO 1.2 section 5.3) against a hostile console: any
 * cols, rows, max_nr_ports and emerg_wr in config space (5.3.4), control
 * messages of any event, id, value and length, names without a terminator
 * (5.3.6.2), received data of any length on any port, transmit
 * completions with any id and length.
 */
#include <stdint.h>
#include <string.h>

#include <vio/console.h>
#include <vio/device.h>
#include <vio/spec/virtio_config.h>

#include "console_model.h"
#include "fuzz.h"
#include "sim.h"

static struct sim_console con;
static struct sim_dev *d;
static uint32_t nports; /* the model's ports: plugging beyond them is a test bug to it */
static uint8_t buf[1024];

static void on_event(struct vio_device *dev, unsigned port, enum vio_console_event ev, void *ctx)
{
	struct vio_console_port_info pi;

	(void)ev;
	(void)ctx;
	(void)vio_console_port_info(dev, port, &pi);
}

static void api(struct vio_device *dev, uint8_t op)
{
	struct vio_console_info info;
	struct vio_console_port_info pi;
	unsigned port = fz_u8() % 5;
	size_t len = fz_u16() % sizeof(buf);

	switch (op % 12) {
	case 0:
		(void)vio_console_write(dev, port, buf, len);
		break;
	case 1:
		(void)vio_console_write_nonblock(dev, port, buf, len);
		break;
	case 2:
		(void)vio_console_drain(dev, port, fz_timeout());
		break;
	case 3:
		(void)vio_console_read(dev, port, buf, len, fz_timeout());
		break;
	case 4:
		(void)vio_console_read_nonblock(dev, port, buf, len);
		break;
	case 5:
		(void)vio_console_emerg_write(dev, buf, len % 64);
		break;
	case 6:
		(void)vio_console_get_info(dev, &info);
		(void)vio_console_port_info(dev, port, &pi);
		break;
	case 7:
		(void)vio_console_find(dev, fz_u8() & 1 ? "org.fuzz.0" : "");
		break;
	case 8: {
		/* A raw control message from the device (5.3.6.2), any length. */
		uint8_t msg[64];
		uint32_t n = fz_u8() % sizeof(msg);

		fz_bytes(msg, n);
		sim_console_ctrl_raw(d, msg, n);
		break;
	}
	case 9:
		port %= nports;
		if (fz_u8() & 1)
			sim_console_plug(d, port, fz_u8() & 1 ? "org.fuzz.0" : NULL, fz_u8() & 1);
		else
			sim_console_unplug(d, port);
		break;
	case 10:
		port %= nports;
		sim_console_host_open(d, port, fz_u8() & 1);
		sim_console_resize(d, port, fz_u16(), fz_u16());
		break;
	default:
		port %= nports;
		fz_bytes(buf, len < 32 ? len : 32);
		sim_console_host_write(d, port, buf, len);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct vio_console_params params = {
		.max_ports = 4, .rx_buffers = 4, .tx_buffers = 4, .buf_size = 64, .timeout_ms = 5,
		.event = on_event,
	};
	struct vio_device *dev;

	fz_start(data, size);
	fz_begin(fz_u8());
	vio_driver_register(&vio_console_driver, &params);
	d = fz_dev_new(VIRTIO_ID_CONSOLE);
	nports = 1 + fz_u8() % 6;
	sim_console_attach(d, &con, nports);
	fz_hostile(d);
	dev = fz_add(d);
	fz_run(d, dev, 256, api);
	fz_end();
	return 0;
}
