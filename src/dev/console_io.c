/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-console port data (VirtIO 1.2 section 5.3.6): every port's
 * receive buffers posted ahead and refilled, its writes batched into few
 * transmit buffers and one notification per call.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <vio/console.h>
#include <vio/error.h>

#include "console_priv.h"

static void *cookie_of(unsigned slot)
{
	return (void *)(uintptr_t)(slot + 1u);
}

static unsigned slot_of(void *cookie)
{
	return (unsigned)((uintptr_t)cookie - 1u);
}

bool con_rx_post(struct con_port *cp)
{
	const struct vio_port *port = vio_port();
	uint32_t size = cp->con->p.buf_size;
	bool posted = false;

	while (cp->n_rx_free) {
		unsigned slot = cp->rx_free[cp->n_rx_free - 1];
		struct vio_sg sg = { cp->rx_mem + (size_t)slot * size, size };

		/* No dirty line may be written back over what the device writes. */
		if (port->cache_clean)
			port->cache_clean(port->ctx, sg.buf, size);
		/* 5.3.6.1: receive buffers are device-writable only. */
		if (vio_vq_enqueue(cp->rxq, &sg, 0, 1, cookie_of(slot)))
			break;
		cp->n_rx_free--;
		posted = true;
	}
	return posted;
}

void con_rx_drop(struct con_port *cp)
{
	while (cp->rx_count) {
		cp->rx_free[cp->n_rx_free++] = cp->rx_fifo[cp->rx_head];
		cp->rx_head = (cp->rx_head + 1) % CON_BUFS_LIMIT;
		cp->rx_count--;
	}
	cp->rx_pos = 0;
}

/*
 * A receive queue's completion handler: filled buffers join the port's
 * queue of unread data, empty ones go straight back to the device.
 */
void con_rx_done(struct vio_device *dev, struct vio_vq *vq, void *arg)
{
	const struct vio_port *port = vio_port();
	struct con_port *cp = arg;
	struct con *c = cp->con;
	bool data = false;
	void *cookie;
	uint32_t len;
	uintptr_t s;
	int rc;

	(void)dev;
	s = vio_lock();
	while ((rc = vio_vq_dequeue(vq, &cookie, &len)) == 0) {
		unsigned slot = slot_of(cookie);

		/* The queue checked len against the buffer; a zero-length one carries nothing. */
		if (!len) {
			cp->rx_free[cp->n_rx_free++] = (uint16_t)slot;
			continue;
		}
		if (port->cache_invalidate)
			port->cache_invalidate(port->ctx, cp->rx_mem + (size_t)slot * c->p.buf_size,
					       len);
		cp->rx_fifo[(cp->rx_head + cp->rx_count) % CON_BUFS_LIMIT] = (uint16_t)slot;
		cp->rx_len[slot] = len;
		cp->rx_count++;
		cp->rx_bytes += len;
		data = true;
	}
	/*
	 * Refill, but only a port the device has added: the core may run this
	 * handler for every queue (a poll), and buffers posted ahead of
	 * DEVICE_ADD would take data that the add then throws away.
	 */
	if (rc != VIO_EAGAIN)
		c->error = rc;
	else if (cp->present && con_rx_post(cp))
		vio_vq_kick(vq);
	vio_unlock(s);
	if (data)
		con_notify(c, cp->id, VIO_CONSOLE_EV_DATA);
}

void con_reclaim(struct vio_vq *vq, uint16_t *free_list, unsigned *nfree, int *error)
{
	void *cookie;
	uint32_t len;
	int rc;

	while ((rc = vio_vq_dequeue(vq, &cookie, &len)) == 0)
		free_list[(*nfree)++] = (uint16_t)slot_of(cookie);
	if (rc != VIO_EAGAIN)
		*error = rc;
}

/*
 * A transmit descriptor covers a run of n adjacent buffers from first (up
 * to CON_BUFS_LIMIT, so both fit in a byte); its cookie says which.
 */
static void *tx_cookie(unsigned first, unsigned n)
{
	return (void *)(((uintptr_t)n << 8 | first) + 1u);
}

/* Take back the runs the device is done with. Under vio_lock. */
static void tx_reclaim(struct con_port *cp)
{
	void *cookie;
	uint32_t len;
	int rc;

	while ((rc = vio_vq_dequeue(cp->txq, &cookie, &len)) == 0) {
		uintptr_t v = (uintptr_t)cookie - 1u;
		unsigned first = v & 0xffu, n = (unsigned)(v >> 8);

		/* Highest first: the run leaves the stack again in address order. */
		while (n--)
			cp->tx_free[cp->n_tx_free++] = (uint16_t)(first + n);
	}
	if (rc != VIO_EAGAIN)
		cp->con->error = rc;
}

/* A transmit queue's completion handler: the buffers are the driver's again. */
void con_tx_done(struct vio_device *dev, struct vio_vq *vq, void *arg)
{
	struct con_port *cp = arg;
	uintptr_t s;

	(void)dev;
	(void)vq;
	s = vio_lock();
	tx_reclaim(cp);
	vio_unlock(s);
}

/* The port a call names, or an error. */
static int port_of(struct vio_device *dev, unsigned id, struct con_port **out)
{
	int rc = vio_console_check(dev);
	struct con *c;

	if (rc)
		return rc;
	c = dev->priv;
	if (id >= c->nports)
		return VIO_ERANGE;
	*out = &c->port[id];
	return 0;
}

/* Why port cannot take output now, or 0. Under vio_lock. */
static int tx_state(const struct con_port *cp)
{
	if (cp->con->error)
		return VIO_ESHUTDOWN;
	if (!cp->present)
		return VIO_ENODEV;
	if (!cp->host_open)
		return VIO_ENOTCONN;
	return 0;
}

/*
 * Copy what fits into free transmit buffers, each filled to buf_size, and
 * notify once for all of them. Free buffers adjacent in memory go out as
 * one descriptor: QEMU's virtio-serial passes each descriptor to its
 * chardev with one write call, so a 32 KiB run costs it one call where
 * eight 4 KiB buffers cost eight. Returns the bytes taken, or an error
 * when none was. Under vio_lock.
 */
static int tx_some(struct con_port *cp, const uint8_t *src, size_t len)
{
	uint32_t size = cp->con->p.buf_size;
	size_t done = 0;
	int rc = tx_state(cp);

	if (rc)
		return rc;
	/*
	 * Take back what the device finished since the last write: with the
	 * queue's interrupt off while nobody waits, this is where transmit
	 * buffers come back. QEMU usually consumes them during the notification
	 * itself, so the next write finds them done and no interrupt was needed.
	 */
	tx_reclaim(cp);
	if (cp->con->error)
		return VIO_ESHUTDOWN;
	while (done < len && cp->n_tx_free) {
		unsigned first = cp->tx_free[cp->n_tx_free - 1];
		unsigned nbuf = 1;
		size_t n;
		struct vio_sg sg;

		/* The run: the next free buffers on the stack that follow in memory. */
		while (nbuf < cp->n_tx_free && len - done > (size_t)nbuf * size &&
		       cp->tx_free[cp->n_tx_free - 1 - nbuf] == first + nbuf)
			nbuf++;
		n = len - done < (size_t)nbuf * size ? len - done : (size_t)nbuf * size;
		sg.buf = cp->tx_mem + (size_t)first * size;
		sg.len = (uint32_t)n;
		/* The virtqueue cleans device-readable segments as it queues them. */
		memcpy(sg.buf, src + done, n);
		rc = vio_vq_enqueue(cp->txq, &sg, 1, 0, tx_cookie(first, nbuf));
		if (rc)
			break;
		cp->n_tx_free -= nbuf;
		done += n;
	}
	if (done) {
		cp->tx_bytes += done;
		/*
		 * 2.7.7 / 2.7.10: no used-buffer interrupt for buffers nobody waits
		 * for; the next write reclaims them, and a writer that has to wait
		 * turns the interrupt back on first (tx_wait).
		 */
		if (!cp->tx_waiters && cp->tx_irq) {
			vio_vq_disable_irq(cp->txq);
			cp->tx_irq = false;
		}
		vio_vq_kick(cp->txq);
		return (int)done;
	}
	return rc ? rc : VIO_EAGAIN;
}

/*
 * Wait on port's transmit queue until pred holds, with its used-buffer
 * interrupt on for the wait (tx_some turns it off while nobody waits).
 */
static int tx_wait(struct vio_device *dev, struct con_port *cp, bool (*pred)(void *),
		   uint64_t timeout_ns)
{
	uintptr_t s = vio_lock();
	int rc;

	cp->tx_waiters++;
	if (!cp->tx_irq) {
		cp->tx_irq = true;
		/* Completions that came while it was off raise no interrupt: take them now. */
		if (vio_vq_enable_irq(cp->txq))
			tx_reclaim(cp);
	}
	vio_unlock(s);
	rc = vio_dev_wait(dev, cp->txq, pred, cp, timeout_ns);
	s = vio_lock();
	cp->tx_waiters--;
	vio_unlock(s);
	return rc;
}

static bool tx_room(void *arg)
{
	struct con_port *cp = arg;
	uintptr_t s = vio_lock();
	bool done = cp->n_tx_free || tx_state(cp);

	vio_unlock(s);
	return done;
}

static bool tx_drained(void *arg)
{
	struct con_port *cp = arg;
	uintptr_t s = vio_lock();
	bool done = cp->n_tx_free == cp->ntx || cp->con->error || !cp->present;

	vio_unlock(s);
	return done;
}

int vio_console_drain(struct vio_device *dev, unsigned port, uint64_t timeout_ns)
{
	struct con_port *cp;
	uintptr_t s;
	int rc = port_of(dev, port, &cp);

	if (rc)
		return rc;
	rc = tx_wait(dev, cp, tx_drained, timeout_ns);
	if (rc)
		return rc;
	s = vio_lock();
	rc = cp->n_tx_free == cp->ntx ? 0 : cp->con->error ? VIO_ESHUTDOWN : VIO_ENODEV;
	vio_unlock(s);
	return rc;
}

/* Copy out unread bytes, giving emptied buffers back to the device. Under vio_lock. */
static size_t rx_some(struct con_port *cp, uint8_t *dst, size_t len)
{
	uint32_t size = cp->con->p.buf_size;
	size_t done = 0;

	while (done < len && cp->rx_count) {
		unsigned slot = cp->rx_fifo[cp->rx_head];
		uint32_t left = cp->rx_len[slot] - cp->rx_pos;
		uint32_t n = len - done < left ? (uint32_t)(len - done) : left;

		memcpy(dst + done, cp->rx_mem + (size_t)slot * size + cp->rx_pos, n);
		done += n;
		cp->rx_pos += n;
		if (cp->rx_pos == cp->rx_len[slot]) {
			cp->rx_free[cp->n_rx_free++] = (uint16_t)slot;
			cp->rx_head = (cp->rx_head + 1) % CON_BUFS_LIMIT;
			cp->rx_count--;
			cp->rx_pos = 0;
		}
	}
	/* Refill at once: the device may be waiting for room to deliver more. */
	if (done && cp->present && !cp->con->error && con_rx_post(cp))
		vio_vq_kick(cp->rxq);
	return done;
}

static int rx_state(const struct con_port *cp)
{
	if (cp->con->error)
		return VIO_ESHUTDOWN;
	return cp->present ? VIO_EAGAIN : VIO_ENODEV;
}

static bool rx_ready(void *arg)
{
	struct con_port *cp = arg;
	uintptr_t s = vio_lock();
	bool done = cp->rx_count || rx_state(cp) != VIO_EAGAIN;

	vio_unlock(s);
	return done;
}

/* rx_some for transfer(): bytes read, or why there are none. Under vio_lock. */
static int rx_step(struct con_port *cp, uint8_t *dst, size_t len)
{
	size_t n = rx_some(cp, dst, len);

	return n ? (int)n : rx_state(cp);
}

/*
 * Every read and write: move bytes under vio_lock and, when block, wait on
 * the port's queue for room (a write, until all of len is queued) or for
 * data (a read, until some arrived), at most timeout_ns. Returns the bytes
 * moved, or the reason none were.
 */
static int transfer(struct vio_device *dev, unsigned port, uint8_t *buf, size_t len, bool tx,
		    bool block, uint64_t timeout_ns)
{
	const struct vio_port *vp = vio_port();
	struct con_port *cp;
	uint64_t start;
	size_t done = 0;
	uintptr_t s;
	int rc = port_of(dev, port, &cp);

	if (!rc && ((!buf && len) || len > INT32_MAX))
		rc = VIO_EINVAL;
	if (rc || !len)
		return rc;
	if (!block)
		vio_dev_poll(dev); /* what the device did meanwhile */
	start = vp->time_ns(vp->ctx);
	for (;;) {
		uint64_t elapsed;

		s = vio_lock();
		rc = tx ? tx_some(cp, buf + done, len - done) : rx_step(cp, buf, len);
		vio_unlock(s);
		if (rc > 0) {
			done += (size_t)rc;
			if (!tx || done == len)
				break;
		} else if (rc != VIO_EAGAIN) {
			break;
		}
		if (!block)
			break;
		elapsed = vp->time_ns(vp->ctx) - start;
		if (elapsed >= timeout_ns) {
			rc = VIO_ETIMEDOUT;
			break;
		}
		rc = tx ? tx_wait(dev, cp, tx_room, timeout_ns - elapsed)
			: vio_dev_wait(dev, cp->rxq, rx_ready, cp, timeout_ns - elapsed);
		if (rc && rc != VIO_ETIMEDOUT)
			break;
	}
	return done ? (int)done : rc;
}

int vio_console_write(struct vio_device *dev, unsigned port, const void *buf, size_t len)
{
	struct con *c = vio_console_check(dev) ? NULL : dev->priv;

	/* The bytes are only read: transfer() takes one pointer type for both ways. */
	return transfer(dev, port, (uint8_t *)(uintptr_t)buf, len, true, true,
			c ? c->timeout_ns : 0);
}

int vio_console_write_nonblock(struct vio_device *dev, unsigned port, const void *buf,
			       size_t len)
{
	return transfer(dev, port, (uint8_t *)(uintptr_t)buf, len, true, false, 0);
}

int vio_console_read(struct vio_device *dev, unsigned port, void *buf, size_t len,
		     uint64_t timeout_ns)
{
	return transfer(dev, port, buf, len, false, true, timeout_ns);
}

int vio_console_read_nonblock(struct vio_device *dev, unsigned port, void *buf, size_t len)
{
	return transfer(dev, port, buf, len, false, false, 0);
}
