/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-net transmit path (VirtIO 1.2 section 5.1.6.2). A frame is one
 * chain: the virtio-net header in a descriptor of its own (which 5.1.6.6
 * asks of a legacy device without ANY_LAYOUT, and any device takes), then
 * the caller's segments as they are. Headers are prebuilt at probe time,
 * one per slot (one slot per ring entry), so sending allocates nothing;
 * with indirect descriptors a frame of any segment count takes one ring
 * entry.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <vio/error.h>
#include <vio/net.h>

#include "core/log.h"
#include "dev/net_priv.h"

int net_tx_setup(struct net *n, struct net_txq *q)
{
	const struct vio_port *port = vio_port();
	const struct vio_net_params *p = n->dev->params;
	struct vio_vq_opts opts = {
		.max_size = n->info.tx_queue_size,
		.indirect_max = (uint16_t)(n->tx_max_segs + 1), /* header + segments */
		.handler = net_tx_handler,
		.arg = q,
	};
	uint32_t ncopy = p && p->tx_copy_buffers ? p->tx_copy_buffers : NET_TX_COPY_DEFAULT;
	int rc;

	q->n = n;
	/* 5.1.2: transmitq N is virtqueue 2N+1 */
	rc = vio_dev_vq_setup(n->dev, 2u * q->index + 1, &opts, &q->vq);
	if (rc)
		return rc;
	q->nslots = (uint16_t)vio_vq_size(q->vq);
	q->hdrs = port->dma_alloc(port->ctx, (size_t)q->nslots * NET_LINE, NET_LINE);
	q->slots = port->dma_alloc(port->ctx, sizeof(*q->slots) * q->nslots, sizeof(void *));
	q->free = port->dma_alloc(port->ctx, sizeof(*q->free) * q->nslots, sizeof(uint16_t));
	q->copy_stride = NET_ROUND((uint32_t)n->info.mtu + VIO_NET_ETH_HLEN);
	q->ncopy = (uint16_t)ncopy;
	q->copy_mem = port->dma_alloc(port->ctx, (size_t)ncopy * q->copy_stride, NET_LINE);
	q->copy_free = port->dma_alloc(port->ctx, sizeof(*q->copy_free) * ncopy, sizeof(uint16_t));
	if (!q->hdrs || !q->slots || !q->free || !q->copy_mem || !q->copy_free)
		return VIO_ENOMEM;
	/* 5.1.6.2: no GSO (gso_type NONE), num_buffers 0; the rest is per frame. */
	memset(q->hdrs, 0, (size_t)q->nslots * NET_LINE);
	memset(q->slots, 0, sizeof(*q->slots) * q->nslots);
	for (uint16_t i = 0; i < q->nslots; i++)
		q->free[i] = (uint16_t)(q->nslots - 1 - i);
	q->nfree = q->nslots;
	for (uint16_t i = 0; i < q->ncopy; i++)
		q->copy_free[i] = (uint16_t)(q->ncopy - 1 - i);
	q->ncopy_free = q->ncopy;
	return 0;
}

void net_tx_free(struct net *n, struct net_txq *q)
{
	const struct vio_port *port = vio_port();

	(void)n;
	if (q->hdrs)
		port->dma_free(port->ctx, q->hdrs, (size_t)q->nslots * NET_LINE);
	if (q->slots)
		port->dma_free(port->ctx, q->slots, sizeof(*q->slots) * q->nslots);
	if (q->free)
		port->dma_free(port->ctx, q->free, sizeof(*q->free) * q->nslots);
	if (q->copy_mem)
		port->dma_free(port->ctx, q->copy_mem, (size_t)q->ncopy * q->copy_stride);
	if (q->copy_free)
		port->dma_free(port->ctx, q->copy_free, sizeof(*q->copy_free) * q->ncopy);
	memset(q, 0, sizeof(*q));
}

/* Argument checks shared by vio_net_queue and vio_net_send_copy. */
static int check_frame(const struct net *n, uint64_t total, const struct vio_net_tx_csum *csum)
{
	/* 5.1.4.2: never beyond the MTU plus the Ethernet header */
	if (total < VIO_NET_ETH_HLEN || total > (uint64_t)n->info.mtu + VIO_NET_ETH_HLEN)
		return VIO_EMSGSIZE;
	if (csum) {
		if (!n->info.csum)
			return VIO_ENOTSUP;
		/* 5.1.6.2: the checksum goes at csum_start + csum_offset, inside the frame */
		if ((uint64_t)csum->start + csum->offset + 2u > total)
			return VIO_EINVAL;
	}
	return 0;
}

static int lookup_txq(struct vio_device *dev, unsigned queue, struct net **np,
		      struct net_txq **qp)
{
	struct net *n;
	uintptr_t s;
	unsigned pairs;
	int rc;

	rc = net_lookup(dev, true, &n);
	if (rc)
		return rc;
	s = vio_lock();
	pairs = n->info.queue_pairs;
	vio_unlock(s);
	if (queue >= pairs)
		return VIO_EINVAL;
	*np = n;
	*qp = &n->txq[queue];
	return 0;
}

/*
 * Put one frame on q's ring: header slot (into v[0]), then the segments
 * (v[1] to v[nsg], already checked), and notify when kick is set (in the
 * same lock hold). copy is the copy buffer the
 * frame sits in, or -1. Inline: it is most of every vio_net_queue.
 */
__attribute__((always_inline)) static inline int tx_add(struct net *n, struct net_txq *q,
							       struct vio_sg *v, unsigned nsg,
							       uint32_t total,
							       const struct vio_net_tx_csum *csum,
							       void *cookie, int copy, bool kick)
{
	const struct vio_port *port = vio_port();
	struct virtio_net_hdr *h;
	uint16_t slot;
	uintptr_t s;
	int rc;

	s = vio_lock();
	if (n->cleaned) {
		vio_unlock(s);
		return VIO_ESHUTDOWN;
	}
	/* Pairs in use (5.1.6.5.5), checked here: no lock hold of its own per frame. */
	if (q->index >= n->info.queue_pairs) {
		vio_unlock(s);
		return VIO_EINVAL;
	}
	if (!q->nfree) {
		/* A broken queue keeps what it holds: its state, not a busy ring. */
		rc = vio_vq_is_broken(q->vq) ? VIO_ESHUTDOWN : VIO_EBUSY;
		if (rc == VIO_EBUSY)
			n->stats.tx_busy++;
		vio_unlock(s);
		return rc;
	}
	slot = q->free[q->nfree - 1];
	h = (struct virtio_net_hdr *)(q->hdrs + (size_t)slot * NET_LINE);
	/* 5.1.6.2: the checksum fields only when asked; a header left without is all zero. */
	if (csum) {
		h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h->csum_start = net_dev16(n, csum->start);
		h->csum_offset = net_dev16(n, csum->offset);
	} else if (h->flags) {
		h->flags = 0;
		h->csum_start = 0;
		h->csum_offset = 0;
	}
	v[0].buf = h;
	v[0].len = n->info.hdr_len;
	/* The device reads the header and the frame from memory, not the cache. */
	if (port->cache_clean)
		for (unsigned i = 0; i <= nsg; i++)
			port->cache_clean(port->ctx, v[i].buf, v[i].len);
	rc = vio_vq_enqueue(q->vq, v, nsg + 1, 0, &q->slots[slot]);
	if (rc == VIO_ENOSPC) {
		n->stats.tx_busy++;
		rc = VIO_EBUSY;
	} else if (!rc) {
		q->nfree--;
		q->slots[slot] = (struct net_txslot){ cookie, total, copy, true };
		if (kick)
			vio_vq_kick(q->vq);
	}
	vio_unlock(s);
	return rc;
}

static int queue_frame(struct vio_device *dev, unsigned queue, const struct vio_sg *sg,
		       unsigned nsg, const struct vio_net_tx_csum *csum, void *cookie, bool kick)
{
	struct vio_sg v[NET_TX_SEGS_LIMIT + 1];
	struct net_txq *q;
	struct net *n;
	uint64_t total = 0;
	int rc;

	rc = net_lookup(dev, true, &n);
	if (rc)
		return rc;
	/* Queues set up; the pairs in use are checked in tx_add, under the lock. */
	if (queue >= n->npairs || !sg || !nsg || nsg > n->tx_max_segs)
		return VIO_EINVAL;
	q = &n->txq[queue];
	/* Checked and copied behind the header's place in one pass. */
	for (unsigned i = 0; i < nsg; i++) {
		if (!sg[i].buf || !sg[i].len)
			return VIO_EINVAL;
		total += sg[i].len;
		v[i + 1] = sg[i];
	}
	rc = check_frame(n, total, csum);
	if (rc)
		return rc;
	return tx_add(n, q, v, nsg, (uint32_t)total, csum, cookie, -1, kick);
}

int vio_net_queue(struct vio_device *dev, unsigned queue, const struct vio_sg *sg, unsigned nsg,
		  const struct vio_net_tx_csum *csum, void *cookie)
{
	return queue_frame(dev, queue, sg, nsg, csum, cookie, false);
}

void vio_net_kick(struct vio_device *dev, unsigned queue)
{
	struct net_txq *q;
	struct net *n;
	uintptr_t s;

	if (lookup_txq(dev, queue, &n, &q))
		return;
	s = vio_lock();
	vio_vq_kick(q->vq);
	vio_unlock(s);
}

int vio_net_send(struct vio_device *dev, unsigned queue, const struct vio_sg *sg, unsigned nsg,
		 const struct vio_net_tx_csum *csum, void *cookie)
{
	/* One lookup and one lock hold for the frame and its notification. */
	return queue_frame(dev, queue, sg, nsg, csum, cookie, true);
}

int vio_net_send_copy(struct vio_device *dev, unsigned queue, const void *data, size_t len)
{
	struct net_txq *q;
	struct net *n;
	struct vio_sg v[2]; /* the header's place, then the copy */
	uint16_t copy;
	uintptr_t s;
	int rc;

	rc = lookup_txq(dev, queue, &n, &q);
	if (rc)
		return rc;
	if (!data)
		return VIO_EINVAL;
	rc = check_frame(n, len, NULL);
	if (rc)
		return rc;
	s = vio_lock();
	if (!q->ncopy_free) {
		n->stats.tx_busy++;
		vio_unlock(s);
		return VIO_EBUSY;
	}
	copy = q->copy_free[--q->ncopy_free];
	vio_unlock(s);
	v[1].buf = q->copy_mem + (size_t)copy * q->copy_stride;
	v[1].len = (uint32_t)len;
	memcpy(v[1].buf, data, len);
	rc = tx_add(n, q, v, 1, (uint32_t)len, NULL, NULL, copy, true);
	if (rc) {
		s = vio_lock();
		q->copy_free[q->ncopy_free++] = copy;
		vio_unlock(s);
	}
	return rc;
}

/* Slot t is free again; returns what it carried. Under vio_lock. */
static struct net_txslot release(struct net_txq *q, struct net_txslot *t)
{
	struct net_txslot was = *t;

	t->busy = false;
	t->cookie = NULL;
	q->free[q->nfree++] = (uint16_t)(t - q->slots);
	if (was.copy >= 0)
		q->copy_free[q->ncopy_free++] = (uint16_t)was.copy;
	return was;
}

/*
 * Completions are taken in batches of this many: one lock hold and one
 * pass of the virtqueue's checks per batch, the tx_done callbacks after
 * the lock is let go, in order (CONFIG_VIO_NET_BATCH).
 */
#define TX_BATCH ((unsigned)CONFIG_VIO_NET_BATCH)

void net_tx_handler(struct vio_device *dev, struct vio_vq *vq, void *arg)
{
	struct net_txq *q = arg;
	struct net *n = q->n;
	int rc;

	for (;;) {
		void (*tx_done)(struct vio_device *, void *, int, void *);
		struct vio_vq_used used[TX_BATCH];
		void *cookies[TX_BATCH];
		unsigned ndone = 0;
		uintptr_t s;
		void *oarg;

		s = vio_lock();
		rc = vio_vq_dequeue_batch(vq, used, TX_BATCH);
		if (rc <= 0) {
			vio_unlock(s);
			break;
		}
		tx_done = n->ops ? n->ops->tx_done : NULL;
		oarg = n->arg;
		for (int i = 0; i < rc; i++) {
			/* The virtqueue checked len against the writable bytes: none here. */
			struct net_txslot was = release(q, used[i].cookie);

			n->stats.tx_bytes += was.len;
			/* A copied frame has no cookie of the application's. */
			if (was.copy < 0)
				cookies[ndone++] = was.cookie;
		}
		n->stats.tx_frames += (unsigned)rc;
		vio_unlock(s);
		if (tx_done)
			for (unsigned i = 0; i < ndone; i++)
				tx_done(dev, cookies[i], 0, oarg);
	}
	if (rc == 0)
		rc = VIO_EAGAIN;
	if (rc != VIO_EAGAIN || vio_dev_state(dev) != VIO_DEV_READY)
		net_fail(n, rc == VIO_EPROTO ? VIO_EPROTO : VIO_ESHUTDOWN);
}

void net_tx_reclaim(struct net_txq *q, int err)
{
	struct net *n = q->n;

	if (!q->vq)
		return;
	for (;;) {
		struct vio_net_ops ops;
		struct net_txslot was;
		struct net_txslot *t;
		void *oarg;
		uintptr_t s;

		s = vio_lock();
		net_ops_locked(n, &ops, &oarg);
		t = vio_vq_detach_unused(q->vq);
		if (t) {
			was = release(q, t);
			n->stats.tx_errors++;
		}
		vio_unlock(s);
		if (!t)
			return;
		if (was.copy < 0 && ops.tx_done)
			ops.tx_done(n->dev, was.cookie, err, oarg);
	}
}
