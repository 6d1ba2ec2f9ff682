/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-net control queue (VirtIO 1.2 section 5.1.6.5): one command at a
 * time, each a chain of the class/command header, its data (both
 * device-readable) and the ack byte the device writes; the caller waits
 * for the ack with vio_dev_wait. A device that never answers is failed
 * (reset) before the command buffer is used again.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <vio/error.h>
#include <vio/net.h>

#include "core/log.h"
#include "dev/net_priv.h"

/* Not an ack: the device has not written the byte (5.1.6.5 defines 0 and 1). */
#define ACK_UNSET 0xffu

int net_ctrl_setup(struct net *n, unsigned index)
{
	const struct vio_port *port = vio_port();
	const struct vio_os *os = vio_os();
	/* One command out at a time: header, data, ack. */
	struct vio_vq_opts opts = { .max_size = 8, .indirect_max = 3,
				    .handler = net_ctrl_handler, .arg = n };
	int rc;

	rc = vio_dev_vq_setup(n->dev, index, &opts, &n->cvq);
	if (rc)
		return rc;
	/* The largest command: a MAC table of each kind (5.1.6.5.2). */
	n->ctrl_data_max = NET_ROUND(2u * (4u + VIO_NET_ALEN * VIO_NET_MAC_FILTER_MAX));
	n->ctrl_size = (uint32_t)sizeof(struct net_ctrl_dma) + n->ctrl_data_max;
	n->ctrl = port->dma_alloc(port->ctx, n->ctrl_size, NET_LINE);
	if (!n->ctrl)
		return VIO_ENOMEM;
	memset(n->ctrl, 0, n->ctrl_size);
	if (os && os->mutex_create && os->mutex_lock && os->mutex_unlock &&
	    os->mutex_create(os->ctx, &n->ctrl_mutex))
		n->ctrl_mutex = NULL;
	return 0;
}

void net_ctrl_free(struct net *n)
{
	const struct vio_port *port = vio_port();
	const struct vio_os *os = vio_os();

	if (n->ctrl)
		port->dma_free(port->ctx, n->ctrl, n->ctrl_size);
	n->ctrl = NULL;
	if (n->ctrl_mutex && os && os->mutex_destroy)
		os->mutex_destroy(os->ctx, n->ctrl_mutex);
	n->ctrl_mutex = NULL;
}

static int send_locked(struct net *n, uint8_t class, uint8_t cmd, const void *data,
		       uint32_t len);

/*
 * The announcement ack goes out without a waiter (vio_net_announce_done may
 * be called from the announce callback): now if the command buffer is
 * free, else when the command holding it is done. Under vio_lock.
 */
static void ack_announce_locked(struct net *n)
{
	if (!n->ack_wanted || n->ctrl_busy || n->ctrl_out || n->cleaned)
		return;
	n->ack_wanted = false;
	if (!send_locked(n, VIRTIO_NET_CTRL_ANNOUNCE, VIRTIO_NET_CTRL_ANNOUNCE_ACK, NULL, 0))
		n->ctrl_async = true;
}

void net_ctrl_handler(struct vio_device *dev, struct vio_vq *vq, void *arg)
{
	const struct vio_port *port = vio_port();
	struct net *n = arg;
	int async_rc = 0;
	void *cookie;
	uint32_t len;
	uintptr_t s;
	int rc;

	s = vio_lock();
	while ((rc = vio_vq_dequeue(vq, &cookie, &len)) == 0) {
		uint8_t ack;

		if (port->cache_invalidate)
			port->cache_invalidate(port->ctx, &n->ctrl->ack, 1);
		ack = *(volatile uint8_t *)&n->ctrl->ack;
		/* 5.1.6.5: the device writes the ack; a used length without it means it did not */
		if (len < 1 || ack == ACK_UNSET)
			n->ctrl_result = VIO_EPROTO;
		else
			n->ctrl_result = ack == VIRTIO_NET_OK ? 0 : VIO_EIO;
		n->ctrl_out = false;
		if (n->ctrl_async) {
			/* Nobody waits for the announcement ack: its result ends here. */
			n->ctrl_async = false;
			async_rc = n->ctrl_result;
			/* Taken or refused: the next ANNOUNCE the device shows asks again. */
			n->announce_pending = false;
		}
	}
	if (rc == VIO_EAGAIN && async_rc != VIO_EPROTO)
		ack_announce_locked(n);
	vio_unlock(s);
	if (async_rc)
		vio_err("%s: the announcement ack was answered with %s", dev->name,
			vio_strerror(async_rc));
	if (rc != VIO_EAGAIN || async_rc == VIO_EPROTO)
		net_fail(n, rc == VIO_EPROTO || async_rc == VIO_EPROTO ? VIO_EPROTO : VIO_ESHUTDOWN);
}

void net_ctrl_reclaim(struct net *n, int err)
{
	uintptr_t s;

	if (!n->cvq)
		return;
	s = vio_lock();
	while (vio_vq_detach_unused(n->cvq))
		;
	if (n->ctrl_out) {
		n->ctrl_out = false;
		n->ctrl_result = err;
	}
	n->ctrl_async = false;
	n->ack_wanted = false;
	vio_unlock(s);
}

static bool ctrl_done(void *arg)
{
	struct net *n = arg;
	uintptr_t s = vio_lock();
	bool done = !n->ctrl_out;

	vio_unlock(s);
	return done || vio_dev_state(n->dev) != VIO_DEV_READY;
}

/*
 * Build a command in the one command buffer and give it to the device.
 * The buffer must be free (!ctrl_out). Under vio_lock.
 */
static int send_locked(struct net *n, uint8_t class, uint8_t cmd, const void *data,
		       uint32_t len)
{
	const struct vio_port *port = vio_port();
	struct net_ctrl_dma *c = n->ctrl;
	struct vio_sg sg[3];
	unsigned k = 0;
	int rc;

	if (n->cleaned)
		return VIO_ESHUTDOWN;
	c->hdr.class = class;
	c->hdr.command = cmd;
	c->ack = ACK_UNSET;
	if (len)
		memcpy(c->data, data, len);
	sg[k].buf = &c->hdr;
	sg[k++].len = sizeof(c->hdr);
	if (len) {
		sg[k].buf = c->data;
		sg[k++].len = len;
	}
	sg[k].buf = &c->ack;
	sg[k++].len = 1;
	/* The header and data lines are read, the ack line written, by the device. */
	if (port->cache_clean)
		port->cache_clean(port->ctx, c, sizeof(*c) + len);
	rc = vio_vq_enqueue(n->cvq, sg, k - 1, 1, c);
	if (rc)
		return rc == VIO_ENOSPC ? VIO_EBUSY : rc;
	n->ctrl_out = true;
	n->ctrl_result = 0;
	vio_vq_kick(n->cvq);
	return 0;
}

/* Send one command and wait for its ack. Serialized by the caller (ctrl_busy). */
static int run(struct net *n, uint8_t class, uint8_t cmd, const void *data, uint32_t len)
{
	uintptr_t s;
	int rc;

	/* An announcement ack may still hold the buffer. */
	rc = vio_dev_wait(n->dev, n->cvq, ctrl_done, n, n->timeout_ns);
	s = vio_lock();
	if (!rc)
		rc = n->ctrl_out ? VIO_ETIMEDOUT : send_locked(n, class, cmd, data, len);
	vio_unlock(s);
	if (rc == VIO_ETIMEDOUT) {
		vio_err("%s: the announcement ack was not answered; giving up on the device",
			n->dev->name);
		net_fail(n, VIO_ETIMEDOUT);
	}
	if (rc)
		return rc;
	rc = vio_dev_wait(n->dev, n->cvq, ctrl_done, n, n->timeout_ns);
	if (rc == VIO_ETIMEDOUT) {
		/* The command buffer is still the device's: reset it before reuse (3.3.1). */
		vio_err("%s: control command %u.%u not acknowledged in %llu ms; giving up on the "
			"device", n->dev->name, class, cmd,
			(unsigned long long)(n->timeout_ns / 1000000u));
		net_fail(n, VIO_ETIMEDOUT);
		return rc;
	}
	s = vio_lock();
	if (!rc && n->ctrl_out)
		rc = VIO_ESHUTDOWN;
	if (!rc)
		rc = n->ctrl_result;
	vio_unlock(s);
	if (rc == VIO_EPROTO) {
		vio_err("%s: control command %u.%u completed without an ack", n->dev->name, class,
			cmd);
		net_fail(n, VIO_EPROTO);
	} else if (rc == VIO_ESHUTDOWN && vio_dev_state(n->dev) == VIO_DEV_FAILED) {
		net_fail(n, n->dev->error ? n->dev->error : VIO_ESHUTDOWN);
	}
	return rc;
}

/* dev is a live net device with a control queue and the command's feature. */
static int ctrl_lookup(struct vio_device *dev, unsigned feature, struct net **np)
{
	int rc = net_lookup(dev, true, np);

	if (rc)
		return rc;
	if (!(*np)->cvq || !vio_dev_has(dev, feature))
		return VIO_ENOTSUP;
	return 0;
}

/* Check the device and the feature, take the control queue, run, let go. */
static int command(struct vio_device *dev, unsigned feature, uint8_t class, uint8_t cmd,
		   const void *data, uint32_t len)
{
	const struct vio_os *os = vio_os();
	struct net *n;
	uintptr_t s;
	bool busy;
	int rc;

	rc = ctrl_lookup(dev, feature, &n);
	if (rc)
		return rc;
	if (len > n->ctrl_data_max)
		return VIO_ERANGE;
	if (n->ctrl_mutex)
		os->mutex_lock(os->ctx, n->ctrl_mutex);
	s = vio_lock();
	/* Without a mutex, one thread uses the queue at a time (docs/threading.md). */
	busy = n->ctrl_busy;
	n->ctrl_busy = true;
	vio_unlock(s);
	if (busy) {
		rc = VIO_EBUSY;
	} else {
		rc = run(n, class, cmd, data, len);
		s = vio_lock();
		n->ctrl_busy = false;
		ack_announce_locked(n);
		vio_unlock(s);
	}
	if (n->ctrl_mutex)
		os->mutex_unlock(os->ctx, n->ctrl_mutex);
	return rc;
}

/* 5.1.6.5.1: promiscuous (PROMISC) or all-multicast (ALLMULTI) mode on or off. */
static int set_rx_mode(struct vio_device *dev, uint8_t cmd, bool on)
{
	struct net_applied *a;
	uint8_t v = on;
	uintptr_t s;
	int rc;

	rc = command(dev, VIRTIO_NET_F_CTRL_RX, VIRTIO_NET_CTRL_RX, cmd, &v, 1);
	if (rc)
		return rc;
	a = &((struct net *)dev->priv)->applied;
	s = vio_lock();
	if (cmd == VIRTIO_NET_CTRL_RX_PROMISC) {
		a->promisc_set = true;
		a->promisc = on;
	} else {
		a->allmulti_set = true;
		a->allmulti = on;
	}
	vio_unlock(s);
	return 0;
}

int vio_net_set_promisc(struct vio_device *dev, bool on)
{
	return set_rx_mode(dev, VIRTIO_NET_CTRL_RX_PROMISC, on);
}

int vio_net_set_allmulti(struct vio_device *dev, bool on)
{
	return set_rx_mode(dev, VIRTIO_NET_CTRL_RX_ALLMULTI, on);
}

/* MAC_TABLE_SET with the command's bytes as they were built; kept for net_replay. */
static int set_table(struct vio_device *dev, const uint8_t *data, uint32_t len)
{
	struct net_applied *a;
	uintptr_t s;
	int rc;

	rc = command(dev, VIRTIO_NET_F_CTRL_RX, VIRTIO_NET_CTRL_MAC,
		     VIRTIO_NET_CTRL_MAC_TABLE_SET, data, len);
	if (rc)
		return rc;
	a = &((struct net *)dev->priv)->applied;
	s = vio_lock();
	if (data != a->table)
		memcpy(a->table, data, len);
	a->table_len = len;
	vio_unlock(s);
	return 0;
}

/* 5.1.6.5.2: a le32 entry count, then the entries. Returns the bytes written. */
static uint32_t put_table(const struct net *n, uint8_t *p, const uint8_t (*mac)[VIO_NET_ALEN],
			  unsigned count)
{
	uint32_t c = n->legacy ? count : vio_cpu_to_le32(count);

	memcpy(p, &c, 4);
	if (count)
		memcpy(p + 4, mac, (size_t)count * VIO_NET_ALEN);
	return 4u + (uint32_t)count * VIO_NET_ALEN;
}

int vio_net_set_mac_filter(struct vio_device *dev, const uint8_t (*uc)[VIO_NET_ALEN],
			   unsigned nuc, const uint8_t (*mc)[VIO_NET_ALEN], unsigned nmc)
{
	uint8_t data[2u * (4u + VIO_NET_ALEN * VIO_NET_MAC_FILTER_MAX)];
	struct net *n;
	uint32_t len;
	int rc;

	rc = net_lookup(dev, true, &n);
	if (rc)
		return rc;
	if ((nuc && !uc) || (nmc && !mc))
		return VIO_EINVAL;
	if (nuc > VIO_NET_MAC_FILTER_MAX || nmc > VIO_NET_MAC_FILTER_MAX)
		return VIO_ERANGE;
	len = put_table(n, data, uc, nuc);
	len += put_table(n, data + len, mc, nmc);
	return set_table(dev, data, len);
}

int vio_net_announce_done(struct vio_device *dev)
{
	struct net *n;
	uintptr_t s;
	int rc;

	rc = ctrl_lookup(dev, VIRTIO_NET_F_GUEST_ANNOUNCE, &n);
	if (rc)
		return rc;
	/* 5.1.6.5.4: ANNOUNCE_ACK, without data; nobody waits for it */
	s = vio_lock();
	n->ack_wanted = true;
	ack_announce_locked(n);
	vio_unlock(s);
	return 0;
}

int net_ctrl_set_pairs(struct vio_device *dev, unsigned pairs)
{
	struct net *n = dev->priv;
	uint16_t v = (uint16_t)pairs;
	uintptr_t s;
	int rc;

	v = vio_wire16(n->legacy, v);
	rc = command(dev, VIRTIO_NET_F_MQ, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &v,
		     2);
	if (!rc) {
		s = vio_lock();
		n->info.queue_pairs = (uint16_t)pairs;
		vio_unlock(s);
	}
	return rc;
}

int vio_net_set_queue_pairs(struct vio_device *dev, unsigned pairs)
{
	struct net *n;
	int rc;

	rc = ctrl_lookup(dev, VIRTIO_NET_F_MQ, &n);
	if (rc)
		return rc;
	/* 5.1.6.5.5: 1 .. max_virtqueue_pairs, and only pairs the driver set up */
	if (pairs < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || pairs > n->npairs)
		return VIO_ERANGE;
	rc = net_ctrl_set_pairs(dev, pairs);
	if (!rc) {
		uintptr_t s = vio_lock();

		n->applied.pairs = (uint16_t)pairs;
		vio_unlock(s);
	}
	return rc;
}

int vio_net_set_mac(struct vio_device *dev, const uint8_t mac[VIO_NET_ALEN])
{
	struct net *n;
	uintptr_t s;
	int rc;

	rc = net_lookup(dev, true, &n);
	if (rc)
		return rc;
	if (!mac)
		return VIO_EINVAL;
	if (n->cvq && vio_dev_has(dev, VIRTIO_NET_F_CTRL_MAC_ADDR)) {
		rc = command(dev, VIRTIO_NET_F_CTRL_MAC_ADDR, VIRTIO_NET_CTRL_MAC,
			     VIRTIO_NET_CTRL_MAC_ADDR_SET, mac, VIO_NET_ALEN);
	} else if (n->legacy) {
		/* 5.1.6.5.2 (legacy): without CTRL_MAC_ADDR the driver writes the config field */
		for (unsigned i = 0; i < VIO_NET_ALEN && !rc; i++)
			rc = vio_dev_config_write(dev, i, 1, mac[i]);
	} else {
		return VIO_ENOTSUP;
	}
	if (!rc) {
		s = vio_lock();
		memcpy(n->info.mac, mac, VIO_NET_ALEN);
		memcpy(n->applied.mac, mac, VIO_NET_ALEN);
		n->applied.mac_set = true;
		vio_unlock(s);
	}
	return rc;
}

/* Say what a replayed setting met (the device took it before its reset). */
static void replayed(struct vio_device *dev, const char *what, int rc)
{
	if (rc)
		vio_warn("%s: %s not set again after the reset: %s", dev->name, what,
			 vio_strerror(rc));
}

void net_replay(struct vio_device *dev)
{
	struct net *n = dev->priv;
	const struct net_applied *a = &n->applied;
	uint8_t mac[VIO_NET_ALEN];
	uintptr_t s;

	/*
	 * Read in place: recovery runs with no other thread inside a call on
	 * the device (vio_dev_recover), and each command below stores back
	 * what it sends (the table from where it lies: set_table copies
	 * nothing then). The address is copied: vio_net_set_mac writes it.
	 */
	s = vio_lock();
	memcpy(mac, a->mac, VIO_NET_ALEN);
	vio_unlock(s);
	/* The address first: a filter table may name it. */
	if (a->mac_set)
		replayed(dev, "the MAC address", vio_net_set_mac(dev, mac));
	if (a->table_len)
		replayed(dev, "the MAC filter table", set_table(dev, a->table, a->table_len));
	if (a->promisc_set)
		replayed(dev, "promiscuous mode", vio_net_set_promisc(dev, a->promisc));
	if (a->allmulti_set)
		replayed(dev, "all-multicast mode", vio_net_set_allmulti(dev, a->allmulti));
	/* Fewer pairs than set up (net_started enabled them all); more may be gone. */
	if (a->pairs && a->pairs < n->npairs)
		replayed(dev, "the queue pairs", vio_net_set_queue_pairs(dev, a->pairs));
}
