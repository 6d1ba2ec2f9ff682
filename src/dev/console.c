/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-console driver (VirtIO 1.2 section 5.3): probe and set-up, the
 * queries, configuration changes and emergency write. The ports' data is
 * console_io.c, the multiport control protocol console_ctrl.c.
 *
 * Queues: every port the driver tracks gets its receive/transmit pair at
 * probe time, the control pair too (5.3.2), whether the port exists yet or
 * not: QEMU creates every queue up to max_nr_ports with the device, the
 * core sets queues up only before DRIVER_OK (3.1.1), and small rings and
 * few buffers per port (struct vio_console_params) keep that cheap. A port
 * the device adds later only gets its receive buffers posted.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <vio/console.h>
#include <vio/error.h>
#include <vio/spec/virtio_config.h>

#include "console_priv.h"
#include "core/log.h"
#include "params.h"

void con_notify(struct con *c, unsigned port, enum vio_console_event ev)
{
	if (c->p.event)
		c->p.event(c->dev, port, ev, c->p.ctx);
}

int vio_console_check(const struct vio_device *dev)
{
	if (!dev || dev->driver != &vio_console_driver)
		return VIO_ENODEV;
	if (vio_dev_state(dev) != VIO_DEV_READY)
		return vio_dev_state(dev) == VIO_DEV_FAILED ? VIO_ESHUTDOWN : VIO_ENODEV;
	return 0;
}

/* The driver state of a live console, for a call whose pointer argument arg is not NULL. */
static int con_of(struct vio_device *dev, const void *arg, struct con **out)
{
	int rc = vio_console_check(dev);

	if (rc)
		return rc;
	if (!arg)
		return VIO_EINVAL;
	*out = dev->priv;
	return 0;
}

int vio_console_get_info(struct vio_device *dev, struct vio_console_info *info)
{
	struct con *c;
	uintptr_t s;
	int rc = con_of(dev, info, &c);

	if (rc)
		return rc;
	s = vio_lock();
	info->multiport = c->multiport;
	info->size = vio_dev_has(dev, VIRTIO_CONSOLE_F_SIZE);
	info->emerg_write = vio_dev_has(dev, VIRTIO_CONSOLE_F_EMERG_WRITE);
	info->max_nr_ports = c->max_nr_ports;
	info->ports = (uint16_t)c->nports;
	info->bad_ctrl = c->bad_ctrl;
	info->ctrl_msgs = c->ctrl_msgs;
	vio_unlock(s);
	return 0;
}

int vio_console_port_info(struct vio_device *dev, unsigned port,
			  struct vio_console_port_info *info)
{
	struct con_port *cp;
	struct con *c;
	uintptr_t s;
	int rc = con_of(dev, info, &c);

	if (rc)
		return rc;
	if (port >= c->nports)
		return VIO_ERANGE;
	cp = &c->port[port];
	s = vio_lock();
	info->present = cp->present;
	info->host_open = cp->host_open;
	info->console = cp->console;
	info->cols = cp->cols;
	info->rows = cp->rows;
	memcpy(info->name, cp->name, sizeof(info->name));
	info->rx_bytes = cp->rx_bytes;
	info->tx_bytes = cp->tx_bytes;
	vio_unlock(s);
	return 0;
}

int vio_console_find(struct vio_device *dev, const char *name)
{
	struct con *c;
	uintptr_t s;
	int rc = con_of(dev, name, &c);

	if (rc)
		return rc;
	if (!name[0])
		return VIO_EINVAL;
	rc = VIO_ENODEV;
	s = vio_lock();
	for (unsigned i = 0; i < c->nports && rc < 0; i++) {
		if (c->port[i].present && strcmp(c->port[i].name, name) == 0)
			rc = (int)i;
	}
	vio_unlock(s);
	return rc;
}

int vio_console_emerg_write(struct vio_device *dev, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	/* No lock and no state check beyond the driver: the device may be failed or broken. */
	if (!dev || dev->driver != &vio_console_driver)
		return VIO_ENODEV;
	if (!vio_dev_has(dev, VIRTIO_CONSOLE_F_EMERG_WRITE))
		return VIO_ENOTSUP;
	if ((!buf && len) || len > INT32_MAX)
		return VIO_EINVAL;
	/* 5.3.4: each write of emerg_wr outputs one character on port 0. */
	for (size_t i = 0; i < len; i++)
		vio_dev_config_write(dev, VIRTIO_CONSOLE_CFG_EMERG_WR, 4, p[i]);
	return (int)len;
}

static struct vio_console_params params_of(const struct vio_device *dev)
{
	struct vio_console_params p = { 0 };

	if (dev->params)
		p = *(const struct vio_console_params *)dev->params;
	p.max_ports = (uint16_t)param_or(p.max_ports, CONFIG_VIO_CONSOLE_MAX_PORTS,
					 CONFIG_VIO_CONSOLE_MAX_PORTS);
	p.rx_buffers = (uint16_t)param_or(p.rx_buffers, CONFIG_VIO_CONSOLE_RX_BUFFERS,
					  CON_BUFS_LIMIT);
	p.tx_buffers = (uint16_t)param_or(p.tx_buffers, CONFIG_VIO_CONSOLE_TX_BUFFERS,
					  CON_BUFS_LIMIT);
	p.buf_size = param_or(p.buf_size, CONFIG_VIO_CONSOLE_BUF_SIZE, 65536);
	p.timeout_ms = param_or(p.timeout_ms, CONFIG_VIO_TIMEOUT_MS, UINT32_MAX);
	return p;
}

/* Read cols and rows into port 0 (5.3.4); true when they changed. */
static bool read_size(struct con *c)
{
	uint64_t cols = 0, rows = 0;
	bool changed;
	uintptr_t s;

	if (!vio_dev_has(c->dev, VIRTIO_CONSOLE_F_SIZE))
		return false;
	if (vio_dev_config_read(c->dev, VIRTIO_CONSOLE_CFG_COLS, 2, &cols) ||
	    vio_dev_config_read(c->dev, VIRTIO_CONSOLE_CFG_ROWS, 2, &rows))
		return false;
	s = vio_lock();
	changed = c->port[0].cols != cols || c->port[0].rows != rows;
	c->port[0].cols = (uint16_t)cols;
	c->port[0].rows = (uint16_t)rows;
	vio_unlock(s);
	return changed;
}

/* One port's queues and buffers. */
static int port_setup(struct con *c, unsigned id)
{
	const struct vio_port *port = vio_port();
	struct con_port *cp = &c->port[id];
	struct vio_vq_opts rx = { .max_size = c->p.rx_buffers, .handler = con_rx_done, .arg = cp };
	struct vio_vq_opts tx = { .max_size = c->p.tx_buffers, .handler = con_tx_done, .arg = cp };
	int rc;

	cp->con = c;
	cp->id = id;
	rc = vio_dev_vq_setup(c->dev, virtio_console_rxq(id), &rx, &cp->rxq);
	if (!rc)
		rc = vio_dev_vq_setup(c->dev, virtio_console_txq(id), &tx, &cp->txq);
	if (rc)
		return rc;
	/* One buffer per ring entry: a full ring is the only backpressure. */
	cp->nrx = vio_vq_size(cp->rxq) < c->p.rx_buffers ? vio_vq_size(cp->rxq) : c->p.rx_buffers;
	cp->ntx = vio_vq_size(cp->txq) < c->p.tx_buffers ? vio_vq_size(cp->txq) : c->p.tx_buffers;
	cp->rx_mem = port->dma_alloc(port->ctx, (size_t)cp->nrx * c->p.buf_size, 64);
	cp->tx_mem = port->dma_alloc(port->ctx, (size_t)cp->ntx * c->p.buf_size, 64);
	if (!cp->rx_mem || !cp->tx_mem)
		return VIO_ENOMEM;
	for (unsigned i = 0; i < cp->nrx; i++)
		cp->rx_free[cp->n_rx_free++] = (uint16_t)(cp->nrx - 1 - i);
	for (unsigned i = 0; i < cp->ntx; i++)
		cp->tx_free[cp->n_tx_free++] = (uint16_t)(cp->ntx - 1 - i);
	cp->tx_irq = true; /* a new queue interrupts; the first write turns it off */
	return 0;
}

static int ctrl_setup(struct con *c)
{
	const struct vio_port *port = vio_port();
	struct vio_vq_opts rx = { .max_size = CON_CTRL_RX_BUFS, .handler = con_ctrl_rx_done, .arg = c };
	struct vio_vq_opts tx = { .max_size = CON_CTRL_TX_SLOTS, .handler = con_ctrl_tx_done, .arg = c };
	int rc;

	rc = vio_dev_vq_setup(c->dev, VIRTIO_CONSOLE_CTRL_RX, &rx, &c->crxq);
	if (!rc)
		rc = vio_dev_vq_setup(c->dev, VIRTIO_CONSOLE_CTRL_TX, &tx, &c->ctxq);
	if (rc)
		return rc;
	/* As many buffers as the rings take at once (a build's small QUEUE_SIZE_MAX). */
	c->ncrx = vio_vq_size(c->crxq) < CON_CTRL_RX_BUFS ? vio_vq_size(c->crxq) : CON_CTRL_RX_BUFS;
	c->crx_mem = port->dma_alloc(port->ctx, CON_CTRL_RX_BUFS * CON_CTRL_BUF, 64);
	c->ctx_mem = port->dma_alloc(port->ctx,
				     CON_CTRL_TX_SLOTS * sizeof(struct virtio_console_control), 64);
	if (!c->crx_mem || !c->ctx_mem)
		return VIO_ENOMEM;
	for (unsigned i = 0; i < CON_CTRL_TX_SLOTS && i < vio_vq_size(c->ctxq); i++)
		c->ctx_free[c->n_ctx_free++] = (uint16_t)i;
	return 0;
}

static int console_probe(struct vio_device *dev)
{
	struct con *c = dev->priv;
	uint64_t v;
	int rc;

	c->dev = dev;
	c->p = params_of(dev);
	c->timeout_ns = (uint64_t)c->p.timeout_ms * 1000000u;
	c->legacy = dev->t.legacy;
	c->multiport = vio_dev_has(dev, VIRTIO_CONSOLE_F_MULTIPORT);
	c->max_nr_ports = 1;
	if (c->multiport) {
		rc = vio_dev_config_read(dev, VIRTIO_CONSOLE_CFG_MAX_NR_PORTS, 4, &v);
		if (rc)
			return rc;
		if (v == 0) {
			vio_err("%s: max_nr_ports is 0", dev->name);
			return VIO_EPROTO;
		}
		c->max_nr_ports = (uint32_t)v;
	}
	c->nports = c->max_nr_ports < c->p.max_ports ? c->max_nr_ports : c->p.max_ports;
	read_size(c);
	rc = port_setup(c, 0);
	if (rc)
		return rc;
	if (c->multiport) {
		rc = ctrl_setup(c);
		if (rc)
			return rc;
	}
	for (unsigned i = 1; i < c->nports; i++) {
		rc = port_setup(c, i);
		if (rc == VIO_ENODEV) {
			/* Fewer queues than max_nr_ports promised: track what is there. */
			vio_warn("%s: no queues for port %u, tracking %u ports", dev->name, i, i);
			c->nports = i;
			break;
		}
		if (rc)
			return rc;
	}
	if (!c->multiport) {
		/* 5.3.6: without MULTIPORT, port 0 exists and is open from the start. */
		c->port[0].present = true;
		c->port[0].host_open = true;
	}
	return 0;
}

/* After DRIVER_OK: publish port 0's buffers and start the control protocol. */
static void console_started(struct vio_device *dev)
{
	struct con *c = dev->priv;
	uintptr_t s;

	if (!c->multiport) {
		s = vio_lock();
		if (con_rx_post(&c->port[0]))
			vio_vq_kick(c->port[0].rxq);
		vio_unlock(s);
		return;
	}
	con_ctrl_start(c);
}

static void console_config_changed(struct vio_device *dev)
{
	struct con *c = dev->priv;

	/* 5.3.4: a new size of the console (port 0). */
	if (read_size(c))
		con_notify(c, 0, VIO_CONSOLE_EV_RESIZED);
}

static void console_remove(struct vio_device *dev)
{
	const struct vio_port *port = vio_port();
	struct con *c = dev->priv;

	if (!c)
		return;
	for (unsigned i = 0; i < CONFIG_VIO_CONSOLE_MAX_PORTS; i++) {
		struct con_port *cp = &c->port[i];

		if (cp->rx_mem)
			port->dma_free(port->ctx, cp->rx_mem, (size_t)cp->nrx * c->p.buf_size);
		if (cp->tx_mem)
			port->dma_free(port->ctx, cp->tx_mem, (size_t)cp->ntx * c->p.buf_size);
		cp->rx_mem = cp->tx_mem = NULL;
	}
	if (c->crx_mem)
		port->dma_free(port->ctx, c->crx_mem, CON_CTRL_RX_BUFS * CON_CTRL_BUF);
	if (c->ctx_mem)
		port->dma_free(port->ctx, c->ctx_mem,
			       CON_CTRL_TX_SLOTS * sizeof(struct virtio_console_control));
	c->crx_mem = c->ctx_mem = NULL;
}

/*
 * vio_dev_recover: the device was reset and console_remove gave back the
 * buffers. Nothing the application set lives here (its callback is in the
 * parameters): probe again; started sends DEVICE_READY and the device
 * announces its ports afresh (5.3.6.2).
 */
static int console_resume(struct vio_device *dev)
{
	memset(dev->priv, 0, sizeof(struct con));
	return console_probe(dev);
}

static const struct vio_feature_name console_features[] = {
	{ VIRTIO_CONSOLE_F_SIZE, "SIZE" },
	{ VIRTIO_CONSOLE_F_MULTIPORT, "MULTIPORT" },
	{ VIRTIO_CONSOLE_F_EMERG_WRITE, "EMERG_WRITE" },
	{ 0, NULL },
};

const struct vio_driver vio_console_driver = {
	.name = "console",
	.device_id = VIRTIO_ID_CONSOLE,
	.features = (1ull << VIRTIO_CONSOLE_F_SIZE) | (1ull << VIRTIO_CONSOLE_F_MULTIPORT) |
		    (1ull << VIRTIO_CONSOLE_F_EMERG_WRITE),
	.feature_names = console_features,
	.priv_size = sizeof(struct con),
	.probe = console_probe,
	.remove = console_remove,
	.config_changed = console_config_changed,
	.started = console_started,
	.resume = console_resume,
};
