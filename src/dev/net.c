/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-net driver (VirtIO 1.2 section 5.1): lookups, the application's
 * callbacks, information, counters, failure and resetting one pair. Probe is in net_probe.c,
 * the data paths in net_rx.c and net_tx.c, the control queue in net_ctrl.c.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <vio/error.h>
#include <vio/net.h>
#include <vio/spec/virtio_config.h>
#include <vio/virtqueue.h>

#include "core/log.h"
#include "dev/net_priv.h"

int vio_net_check(const struct vio_device *dev)
{
	if (!dev || dev->driver != &vio_net_driver)
		return VIO_ENODEV;
	if (vio_dev_state(dev) != VIO_DEV_READY)
		return vio_dev_state(dev) == VIO_DEV_FAILED ? VIO_ESHUTDOWN : VIO_ENODEV;
	return 0;
}

int net_lookup_slow(struct vio_device *dev, bool live, struct net **np)
{
	struct net *n;

	if (!dev || dev->driver != &vio_net_driver || !dev->priv)
		return VIO_ENODEV;
	n = dev->priv;
	if (n->dev != dev || !n->npairs)
		return VIO_ENODEV; /* probe did not finish */
	*np = n;
	if (live && vio_dev_state(dev) != VIO_DEV_READY) {
		if (vio_dev_state(dev) != VIO_DEV_FAILED)
			return VIO_ENODEV;
		/* Failed elsewhere (a timeout, DEVICE_NEEDS_RESET): take back what it held. */
		net_fail(n, dev->error ? dev->error : VIO_ESHUTDOWN);
		return VIO_ESHUTDOWN;
	}
	return 0;
}

void net_fail(struct net *n, int err)
{
	uintptr_t s;
	bool first;

	/* 3.3.1: the device may use a buffer until it is reset; only then do they come back. */
	vio_dev_fail(n->dev, err);
	s = vio_lock();
	first = !n->cleaned;
	n->cleaned = true;
	vio_unlock(s);
	if (!first)
		return;
	for (unsigned i = 0; i < n->npairs; i++) {
		net_rx_reclaim(&n->rxq[i]);
		net_tx_reclaim(&n->txq[i], VIO_ESHUTDOWN);
	}
	net_ctrl_reclaim(n, VIO_ESHUTDOWN);
}

static void reclaim_rx(void *arg)
{
	net_rx_reclaim(arg);
}

static void reclaim_tx(void *arg)
{
	net_tx_reclaim(arg, VIO_ECANCELED);
}

int vio_net_reset_pair(struct vio_device *dev, unsigned pair)
{
	struct net_rxq *rq;
	struct net *n;
	uintptr_t s;
	int rc = net_lookup(dev, true, &n);

	if (rc)
		return rc;
	if (!vio_dev_has(dev, VIRTIO_F_RING_RESET))
		return VIO_ENOTSUP;
	if (pair >= n->npairs)
		return VIO_ERANGE;
	rq = &n->rxq[pair];
	rc = vio_dev_vq_reset(dev, vio_vq_index(n->txq[pair].vq), reclaim_tx, &n->txq[pair]);
	if (!rc)
		rc = vio_dev_vq_reset(dev, vio_vq_index(rq->vq), reclaim_rx, rq);
	if (rc) {
		/* A queue the device did not give back failed it: take back the rest too. */
		if (vio_dev_state(dev) == VIO_DEV_FAILED)
			net_fail(n, rc);
		return rc;
	}
	s = vio_lock();
	net_rx_refill(rq);
	vio_unlock(s);
	return 0;
}

void net_ops_locked(const struct net *n, struct vio_net_ops *ops, void **arg)
{
	if (n->ops)
		*ops = *n->ops;
	else
		memset(ops, 0, sizeof(*ops));
	*arg = n->arg;
}

void net_ops(struct net *n, struct vio_net_ops *ops, void **arg)
{
	uintptr_t s = vio_lock();

	net_ops_locked(n, ops, arg);
	vio_unlock(s);
}

int vio_net_set_ops(struct vio_device *dev, const struct vio_net_ops *ops, void *arg)
{
	struct net *n;
	uintptr_t s;
	int rc;

	rc = net_lookup(dev, false, &n);
	if (rc)
		return rc;
	s = vio_lock();
	n->ops = ops;
	n->arg = arg;
	vio_unlock(s);
	return 0;
}

int vio_net_get_info(struct vio_device *dev, struct vio_net_info *info)
{
	struct net *n;
	uintptr_t s;
	int rc;

	if (!info)
		return VIO_EINVAL;
	rc = net_lookup(dev, false, &n);
	if (rc)
		return rc;
	s = vio_lock(); /* link state and MAC change at run time */
	*info = n->info;
	vio_unlock(s);
	return 0;
}

int vio_net_get_stats(struct vio_device *dev, struct vio_net_stats *stats)
{
	struct net *n;
	uintptr_t s;
	int rc;

	if (!stats)
		return VIO_EINVAL;
	rc = net_lookup(dev, false, &n);
	if (rc)
		return rc;
	s = vio_lock();
	*stats = n->stats;
	vio_unlock(s);
	return 0;
}

void vio_net_poll(struct vio_device *dev)
{
	struct net *n;

	if (net_lookup(dev, true, &n))
		return;
	vio_dev_poll(dev);
	if (vio_dev_state(dev) == VIO_DEV_FAILED)
		net_fail(n, dev->error ? dev->error : VIO_ESHUTDOWN);
}
