/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The console device model (VirtIO 1.2 section 5.3); console_model.h says
 * what it plays and what it checks.
 */
#include <string.h>

#include <vio/spec/virtio_config.h>
#include <vio/spec/virtio_console.h>

#include "console_model.h"
#include "sim.h"

/* The port whose receive (rx true) or transmit queue is q, or -1 for the control queues. */
static int port_of_queue(unsigned q, bool *rx)
{
	*rx = (q % 2) == 0;
	if (q < 2)
		return 0;
	if (q < 4)
		return -1;
	return (int)(q - 2) / 2;
}

/* 5.3.6.2 (legacy devices use the guest's byte order; the host is little-endian either way) */
static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

void sim_console_ctrl_raw(struct sim_dev *d, const void *msg, uint32_t len)
{
	struct sim_console *con = d->model_ctx;
	unsigned i;

	if (con->ctrl_count == SIM_CON_CTRL_QUEUE || len > SIM_CON_CTRL_MSG) {
		sim_error("console model: control queue overflow (test bug)");
		return;
	}
	i = (con->ctrl_head + con->ctrl_count++) % SIM_CON_CTRL_QUEUE;
	memcpy(con->ctrl[i], msg, len);
	con->ctrl_len[i] = len;
}

static void ctrl_with(struct sim_dev *d, uint32_t id, uint16_t event, uint16_t value,
		      const void *extra, uint32_t extra_len)
{
	uint8_t m[SIM_CON_CTRL_MSG];

	put32(m, id);
	put16(m + 4, event);
	put16(m + 6, value);
	if (extra_len)
		memcpy(m + 8, extra, extra_len);
	sim_console_ctrl_raw(d, m, 8 + extra_len);
}

void sim_console_ctrl(struct sim_dev *d, uint32_t id, uint16_t event, uint16_t value)
{
	ctrl_with(d, id, event, value, NULL, 0);
}

void sim_console_plug(struct sim_dev *d, unsigned id, const char *name, bool console)
{
	struct sim_console *con = d->model_ctx;
	struct sim_con_port *p = &con->port[id];

	p->exists = true;
	p->console = console;
	p->ready = -1;
	p->guest_open = -1;
	strncpy(p->name, name ? name : "", sizeof(p->name) - 1);
	if (con->device_ready)
		sim_console_ctrl(d, id, VIRTIO_CONSOLE_DEVICE_ADD, 1);
}

void sim_console_unplug(struct sim_dev *d, unsigned id)
{
	struct sim_console *con = d->model_ctx;

	con->port[id].exists = false;
	con->port[id].ready = -1;
	if (con->device_ready)
		sim_console_ctrl(d, id, VIRTIO_CONSOLE_DEVICE_REMOVE, 0);
}

void sim_console_host_open(struct sim_dev *d, unsigned id, bool open)
{
	struct sim_console *con = d->model_ctx;

	con->port[id].host_open = open;
	if (con->multiport && con->port[id].ready == 1)
		sim_console_ctrl(d, id, VIRTIO_CONSOLE_PORT_OPEN, open);
}

void sim_console_resize(struct sim_dev *d, unsigned id, uint16_t cols, uint16_t rows)
{
	struct sim_console *con = d->model_ctx;
	uint8_t size[4];

	if (con->multiport && id != 0) {
		put16(size, cols);
		put16(size + 2, rows);
		ctrl_with(d, id, VIRTIO_CONSOLE_RESIZE, 0, size, 4);
		return;
	}
	put16(size, cols);
	put16(size + 2, rows);
	sim_config_change(d, VIRTIO_CONSOLE_CFG_COLS, size, 4);
}

void sim_console_host_write(struct sim_dev *d, unsigned id, const void *buf, size_t len)
{
	struct sim_con_port *p = &((struct sim_console *)d->model_ctx)->port[id];

	p->in = buf;
	p->in_len = len;
	p->in_pos = 0;
}

void sim_console_host_sink(struct sim_dev *d, unsigned id, void *buf, size_t cap)
{
	struct sim_con_port *p = &((struct sim_console *)d->model_ctx)->port[id];

	p->out = buf;
	p->out_cap = cap;
	p->out_len = 0;
}

/* The driver said PORT_READY: tell it what QEMU tells it (virtio-serial-bus.c). */
static void port_ready(struct sim_dev *d, struct sim_con_port *p, unsigned id)
{
	if (p->console)
		sim_console_ctrl(d, id, VIRTIO_CONSOLE_CONSOLE_PORT, 1);
	if (p->name[0])
		ctrl_with(d, id, VIRTIO_CONSOLE_PORT_NAME, 1, p->name,
			  (uint32_t)strlen(p->name) + 1);
	if (p->host_open)
		sim_console_ctrl(d, id, VIRTIO_CONSOLE_PORT_OPEN, 1);
}

static int ctrl_tx(struct sim_dev *d, const struct sim_chain *c)
{
	struct sim_console *con = d->model_ctx;
	uint8_t m[8];
	uint32_t id;
	uint16_t event, value;

	if (c->nin || c->nout != 1 || c->out_len != 8) {
		sim_error("console: control message of %u bytes in %u+%u segments", c->out_len,
			  c->nout, c->nin);
		return 0;
	}
	memcpy(m, c->out[0].buf, 8);
	id = m[0] | m[1] << 8 | (uint32_t)m[2] << 16 | (uint32_t)m[3] << 24;
	event = (uint16_t)(m[4] | m[5] << 8);
	value = (uint16_t)(m[6] | m[7] << 8);
	con->ctrl_from_driver++;
	if (event == VIRTIO_CONSOLE_DEVICE_READY) {
		if (value != 1 || con->device_ready)
			sim_error("console: DEVICE_READY %u (ready already: %d)", value,
				  con->device_ready);
		con->device_ready = true;
		for (unsigned i = 0; i < con->max_nr_ports; i++) {
			if (con->port[i].exists)
				sim_console_ctrl(d, i, VIRTIO_CONSOLE_DEVICE_ADD, 1);
		}
		return 0;
	}
	if (!con->device_ready) {
		sim_error("console: control event %u before DEVICE_READY", event);
		return 0;
	}
	if (id >= con->max_nr_ports) {
		sim_error("console: control event %u for port %u of %u", event, id,
			  con->max_nr_ports);
		return 0;
	}
	switch (event) {
	case VIRTIO_CONSOLE_PORT_READY:
		/* A port QEMU has unplugged meanwhile: it ignores the answer. */
		if (!con->port[id].exists)
			return 0;
		con->port[id].ready = value;
		if (value == 1)
			port_ready(d, &con->port[id], id);
		break;
	case VIRTIO_CONSOLE_PORT_OPEN:
		if (con->port[id].exists)
			con->port[id].guest_open = value;
		break;
	default:
		sim_error("console: control event %u from the driver", event);
	}
	return 0;
}

static int ctrl_rx(struct sim_dev *d, const struct sim_chain *c)
{
	struct sim_console *con = d->model_ctx;
	const uint8_t *m;
	uint32_t len, done = 0;

	if (c->nout) {
		sim_error("console: control receive buffer with readable segments");
		return 0;
	}
	if (!con->ctrl_count)
		return SIM_HOLD;
	m = con->ctrl[con->ctrl_head];
	len = con->ctrl_len[con->ctrl_head];
	con->ctrl_head = (con->ctrl_head + 1) % SIM_CON_CTRL_QUEUE;
	con->ctrl_count--;
	/* QEMU cuts a message to the buffer it finds (iov_from_buf). */
	for (unsigned i = 0; i < c->nin && done < len; i++) {
		uint32_t n = len - done < c->in[i].len ? len - done : c->in[i].len;

		memcpy(c->in[i].buf, m + done, n);
		done += n;
	}
	return (int)done;
}

static int data(struct sim_dev *d, unsigned id, bool rx, const struct sim_chain *c)
{
	struct sim_console *con = d->model_ctx;
	struct sim_con_port *p = &con->port[id];
	uint32_t done = 0;

	if (id >= con->max_nr_ports) {
		sim_error("console: queue of port %u of %u", id, con->max_nr_ports);
		return 0;
	}
	if (rx) {
		if (c->nout) {
			sim_error("console: port %u receive buffer with readable segments", id);
			return 0;
		}
		if (p->in_pos == p->in_len || (con->multiport && !p->exists))
			return SIM_HOLD;
		for (unsigned i = 0; i < c->nin && p->in_pos < p->in_len; i++) {
			size_t n = p->in_len - p->in_pos < c->in[i].len ? p->in_len - p->in_pos
									: c->in[i].len;

			memcpy(c->in[i].buf, p->in + p->in_pos, n);
			p->in_pos += n;
			done += (uint32_t)n;
		}
		p->rx_chains++;
		return (int)done;
	}
	if (c->nin) {
		sim_error("console: port %u transmit buffer with writable segments", id);
		return 0;
	}
	/* QEMU drops output to a port nobody has open on the host side. */
	if (con->multiport && (!p->exists || !p->host_open)) {
		p->tx_chains++;
		return 0;
	}
	if (p->out_len + c->out_len > p->out_cap)
		return SIM_HOLD;
	for (unsigned i = 0; i < c->nout; i++) {
		memcpy(p->out + p->out_len, c->out[i].buf, c->out[i].len);
		p->out_len += c->out[i].len;
	}
	p->tx_chains++;
	return 0;
}

static int console_handle(struct sim_dev *d, unsigned q, const struct sim_chain *c)
{
	bool rx;
	int id = port_of_queue(q, &rx);

	if (id < 0)
		return rx ? ctrl_rx(d, c) : ctrl_tx(d, c);
	return data(d, (unsigned)id, rx, c);
}

static void console_config_write(struct sim_dev *d, unsigned off, unsigned width)
{
	struct sim_console *con = d->model_ctx;

	/* 5.3.4: a write of emerg_wr outputs its character. */
	if (off == VIRTIO_CONSOLE_CFG_EMERG_WR && width == 4 &&
	    (d->features >> VIRTIO_CONSOLE_F_EMERG_WRITE) & 1) {
		if (con->emerg_len < sizeof(con->emerg))
			con->emerg[con->emerg_len++] = d->config[off];
		return;
	}
	sim_error("console: config write of %u bytes at %u", width, off);
}

static void console_reset(struct sim_dev *d)
{
	struct sim_console *con = d->model_ctx;

	con->device_ready = false;
	con->ctrl_count = 0;
	for (unsigned i = 0; i < SIM_CON_PORTS; i++)
		con->port[i].ready = -1;
}

const struct sim_model sim_console_model = {
	.name = "console",
	.handle = console_handle,
	.reset = console_reset,
	.config_write = console_config_write,
};

void sim_console_attach(struct sim_dev *d, struct sim_console *con, uint32_t max_nr_ports)
{
	unsigned nq = max_nr_ports > 1 ? 2 + 2 * max_nr_ports : 2;

	memset(con, 0, sizeof(*con));
	con->multiport = max_nr_ports > 1;
	con->max_nr_ports = max_nr_ports;
	for (unsigned i = 0; i < SIM_CON_PORTS; i++) {
		con->port[i].ready = -1;
		con->port[i].guest_open = -1;
	}
	d->device_id = VIRTIO_ID_CONSOLE;
	d->model = &sim_console_model;
	d->model_ctx = con;
	d->features |= (1ull << VIRTIO_CONSOLE_F_SIZE) | (1ull << VIRTIO_CONSOLE_F_EMERG_WRITE);
	if (con->multiport)
		d->features |= 1ull << VIRTIO_CONSOLE_F_MULTIPORT;
	for (unsigned q = 0; q < nq && q < SIM_MAX_QUEUES; q++)
		d->q[q].num_max = SIM_CON_QUEUE_SIZE;
	d->config_size = sizeof(struct virtio_console_config);
	sim_config_set(d, VIRTIO_CONSOLE_CFG_COLS, 2, 80);
	sim_config_set(d, VIRTIO_CONSOLE_CFG_ROWS, 2, 25);
	sim_config_set(d, VIRTIO_CONSOLE_CFG_MAX_NR_PORTS, 4, max_nr_ports);
	/* Without MULTIPORT, port 0 is there and open from the start. */
	if (!con->multiport) {
		con->port[0].exists = true;
		con->port[0].host_open = true;
	}
}
