/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-console multiport control protocol (VirtIO 1.2 section 5.3.6.2):
 * the device adds, names, opens, closes, resizes and removes ports through
 * messages on the control receive queue; the driver answers DEVICE_READY,
 * PORT_READY and PORT_OPEN on the control transmit queue.
 *
 * Every message is checked before anything is done with it: too short for
 * its event, an event the device may not send, a port beyond max_nr_ports,
 * a port that is not there, a name without its terminator or too long. A
 * rejected message is logged and counted, and changes nothing.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <vio/console.h>
#include <vio/error.h>

#include "console_priv.h"
#include "core/log.h"

#define HDR ((uint32_t)sizeof(struct virtio_console_control))

/* Send every waiting message there is a slot for. Under vio_lock. */
static void ctrl_flush(struct con *c)
{
	bool sent = false;

	while (c->pend_count && c->n_ctx_free) {
		unsigned slot = c->ctx_free[c->n_ctx_free - 1];
		struct vio_sg sg = { c->ctx_mem + (size_t)slot * HDR, HDR };

		/* Cleaned by the virtqueue as it queues it (device-readable). */
		memcpy(sg.buf, &c->pend[c->pend_head], HDR);
		if (vio_vq_enqueue(c->ctxq, &sg, 1, 0, (void *)(uintptr_t)(slot + 1u)))
			break;
		c->n_ctx_free--;
		c->pend_head = (c->pend_head + 1) % CON_CTRL_PENDING;
		c->pend_count--;
		sent = true;
	}
	if (sent)
		vio_vq_kick(c->ctxq);
}

/* Queue a message to the device. Under vio_lock. */
static void ctrl_send(struct con *c, uint32_t id, uint16_t event, uint16_t value)
{
	struct virtio_console_control *m;

	if (c->pend_count == CON_CTRL_PENDING) {
		c->ctrl_dropped++;
		return;
	}
	m = &c->pend[(c->pend_head + c->pend_count) % CON_CTRL_PENDING];
	m->id = con_wire32(c, id);
	m->event = con_wire16(c, event);
	m->value = con_wire16(c, value);
	c->pend_count++;
	ctrl_flush(c);
}

void con_ctrl_tx_done(struct vio_device *dev, struct vio_vq *vq, void *arg)
{
	struct con *c = arg;
	uintptr_t s;

	(void)dev;
	s = vio_lock();
	con_reclaim(vq, c->ctx_free, &c->n_ctx_free, &c->error);
	if (!c->error)
		ctrl_flush(c);
	vio_unlock(s);
}

/* Post control receive buffer slot. Under vio_lock. */
static void ctrl_post(struct con *c, unsigned slot)
{
	const struct vio_port *port = vio_port();
	struct vio_sg sg = { c->crx_mem + (size_t)slot * CON_CTRL_BUF, CON_CTRL_BUF };

	if (port->cache_clean)
		port->cache_clean(port->ctx, sg.buf, CON_CTRL_BUF);
	vio_vq_enqueue(c->crxq, &sg, 0, 1, (void *)(uintptr_t)(slot + 1u));
}

void con_ctrl_start(struct con *c)
{
	uintptr_t s = vio_lock();

	for (unsigned i = 0; i < c->ncrx; i++)
		ctrl_post(c, i);
	vio_vq_kick(c->crxq);
	/* 5.3.6.2: the driver says it is ready; the device then adds its ports. */
	ctrl_send(c, 0, VIRTIO_CONSOLE_DEVICE_READY, 1);
	vio_unlock(s);
}

/* What one message did: an event for the application, or why it was refused. */
struct outcome {
	int event;          /* 0: none */
	const char *reject; /* not NULL: the message was refused */
	uint32_t id;        /* the message's fields, for the log (0 when too short) */
	uint16_t ev, value;
};

static uint16_t rd16(const struct con *c, const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return vio_wire16(c->legacy, v);
}

static uint32_t rd32(const struct con *c, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return vio_wire32(c->legacy, v);
}

/* A port the device added: refresh its state, give it its buffers, answer. Under vio_lock. */
static void port_add(struct con *c, struct con_port *cp, struct outcome *o)
{
	if (!cp->present) {
		cp->present = true;
		cp->host_open = false;
		cp->console = false;
		cp->cols = cp->rows = 0;
		cp->name[0] = '\0';
		con_rx_drop(cp);
		o->event = VIO_CONSOLE_EV_ADDED;
	}
	if (con_rx_post(cp))
		vio_vq_kick(cp->rxq);
	/* 5.3.6.2: PORT_READY, then the driver opens the port for the application. */
	ctrl_send(c, cp->id, VIRTIO_CONSOLE_PORT_READY, 1);
	ctrl_send(c, cp->id, VIRTIO_CONSOLE_PORT_OPEN, 1);
}

/* Check and act on one message of len bytes. Under vio_lock. */
static void handle(struct con *c, const uint8_t *msg, uint32_t len, struct outcome *o)
{
	struct con_port *cp;
	uint32_t id;
	uint16_t event, value;
	const char *name;
	size_t n;

	if (len < HDR) {
		o->reject = "shorter than its header";
		return;
	}
	id = rd32(c, msg);
	event = rd16(c, msg + 4);
	value = rd16(c, msg + 6);
	o->id = id;
	o->ev = event;
	o->value = value;
	/* Only these go from the device to the driver (5.3.6.2). */
	if (event != VIRTIO_CONSOLE_DEVICE_ADD && event != VIRTIO_CONSOLE_DEVICE_REMOVE &&
	    event != VIRTIO_CONSOLE_CONSOLE_PORT && event != VIRTIO_CONSOLE_RESIZE &&
	    event != VIRTIO_CONSOLE_PORT_OPEN && event != VIRTIO_CONSOLE_PORT_NAME) {
		o->reject = "unknown event";
		return;
	}
	if (id >= c->max_nr_ports) {
		o->reject = "port beyond max_nr_ports";
		return;
	}
	if (id >= c->nports) {
		/* A real port this build does not track: say so, not an error of the device. */
		if (event == VIRTIO_CONSOLE_DEVICE_ADD)
			ctrl_send(c, id, VIRTIO_CONSOLE_PORT_READY, 0);
		return;
	}
	cp = &c->port[id];
	if (event == VIRTIO_CONSOLE_DEVICE_ADD) {
		port_add(c, cp, o);
		return;
	}
	if (!cp->present) {
		/*
		 * QEMU says PORT_OPEN for a port plugged with its chardev already
		 * connected before it says DEVICE_ADD, and says it again after
		 * PORT_READY: ignore it until then. Anything else is nonsense.
		 */
		if (event != VIRTIO_CONSOLE_PORT_OPEN)
			o->reject = "port not added";
		return;
	}
	switch (event) {
	case VIRTIO_CONSOLE_DEVICE_REMOVE:
		cp->present = false;
		cp->host_open = false;
		o->event = VIO_CONSOLE_EV_REMOVED;
		break;
	case VIRTIO_CONSOLE_CONSOLE_PORT:
		cp->console = true;
		break;
	case VIRTIO_CONSOLE_RESIZE:
		if (len < HDR + sizeof(struct virtio_console_resize)) {
			o->reject = "resize without its size";
			return;
		}
		cp->cols = rd16(c, msg + HDR);
		cp->rows = rd16(c, msg + HDR + 2);
		o->event = VIO_CONSOLE_EV_RESIZED;
		break;
	case VIRTIO_CONSOLE_PORT_OPEN:
		if (value > 1) {
			o->reject = "open state neither 0 nor 1";
			return;
		}
		if (cp->host_open != (value == 1)) {
			cp->host_open = value == 1;
			o->event = value ? VIO_CONSOLE_EV_OPENED : VIO_CONSOLE_EV_CLOSED;
		}
		break;
	default: /* VIRTIO_CONSOLE_PORT_NAME */
		name = (const char *)msg + HDR;
		n = 0;
		while (HDR + n < len && name[n])
			n++;
		if (HDR + n == len) {
			o->reject = "name without its terminator";
			return;
		}
		if (n > VIO_CONSOLE_NAME_MAX) {
			o->reject = "name too long";
			return;
		}
		memcpy(cp->name, name, n + 1);
		o->event = VIO_CONSOLE_EV_NAMED;
		break;
	}
}

void con_ctrl_rx_done(struct vio_device *dev, struct vio_vq *vq, void *arg)
{
	const struct vio_port *port = vio_port();
	struct con *c = arg;
	void *cookie;
	uint32_t len;
	uintptr_t s;
	bool posted = false;
	int rc;

	(void)dev;
	for (;;) {
		struct outcome o = { 0, NULL, 0, 0, 0 };
		const uint8_t *msg;
		unsigned slot;

		s = vio_lock();
		rc = vio_vq_dequeue(vq, &cookie, &len);
		if (rc) {
			if (rc != VIO_EAGAIN)
				c->error = rc;
			else if (posted)
				vio_vq_kick(vq); /* once for every buffer given back */
			vio_unlock(s);
			return;
		}
		slot = (unsigned)((uintptr_t)cookie - 1u);
		msg = c->crx_mem + (size_t)slot * CON_CTRL_BUF;
		if (port->cache_invalidate && len)
			port->cache_invalidate(port->ctx, msg, len);
		/*
		 * Read in place: the buffer goes back to the device only after
		 * handle(), and the log below uses the fields it kept.
		 */
		c->ctrl_msgs++;
		handle(c, msg, len, &o);
		if (o.reject)
			c->bad_ctrl++;
		ctrl_post(c, slot);
		posted = true;
		vio_unlock(s);
		if (o.reject)
			vio_warn("%s: control message rejected (%u bytes, port %u, event %u, "
				 "value %u): %s", c->dev->name, (unsigned)len, (unsigned)o.id,
				 (unsigned)o.ev, (unsigned)o.value, o.reject);
		if (o.event)
			con_notify(c, o.id, (enum vio_console_event)o.event);
	}
}
