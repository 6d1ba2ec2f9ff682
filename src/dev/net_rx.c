/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-net receive path (VirtIO 1.2 sections 5.1.6.3 and 5.1.6.4).
 *
 * Each receive queue owns nbuf buffers of DMA memory taken at probe time,
 * every one in one of the states of enum net_buf_state. Free buffers are
 * posted whenever the ring has room: from the queue's completion handler
 * after it took what the device used, and from vio_net_rx_release. A
 * frame is one buffer, or with VIRTIO_NET_F_MRG_RXBUF num_buffers
 * consecutive used buffers of the same queue (5.1.6.4); it is lent to the
 * rx callback, or waits for vio_net_recv. Waiting frames never hold more
 * than half the buffers: the oldest is dropped first, so the ring keeps
 * buffers posted while nobody reads.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <vio/error.h>
#include <vio/net.h>

#include "core/log.h"
#include "dev/net_priv.h"

static uint8_t *buf_mem(const struct net_rxq *q, uint32_t id)
{
	return q->mem + (size_t)id * q->n->rx_stride;
}

int net_rx_setup(struct net *n, struct net_rxq *q)
{
	const struct vio_port *port = vio_port();
	struct vio_vq_opts opts = {
		.max_size = n->info.rx_queue_size,
		/* 5.1.6.6: the header in a descriptor of its own, the frame in the next */
		.indirect_max = n->hdr_split ? 2 : 0,
		.handler = net_rx_handler,
		.arg = q,
	};
	int rc;

	q->n = n;
	/* 5.1.2: receiveq N is virtqueue 2N */
	rc = vio_dev_vq_setup(n->dev, 2u * q->index, &opts, &q->vq);
	if (rc)
		return rc;
	q->mem = port->dma_alloc(port->ctx, (size_t)n->nbuf * n->rx_stride, NET_LINE);
	q->bufs = port->dma_alloc(port->ctx, sizeof(*q->bufs) * n->nbuf, sizeof(void *));
	q->state = port->dma_alloc(port->ctx, n->nbuf, 1);
	q->free = port->dma_alloc(port->ctx, sizeof(*q->free) * n->nbuf, sizeof(uint16_t));
	q->wait = port->dma_alloc(port->ctx, sizeof(*q->wait) * n->nbuf, sizeof(uint64_t));
	if (!q->mem || !q->bufs || !q->state || !q->free || !q->wait)
		return VIO_ENOMEM;
	memset(q->bufs, 0, sizeof(*q->bufs) * n->nbuf);
	for (uint32_t i = 0; i < n->nbuf; i++) {
		q->bufs[i].queue = q->index;
		q->bufs[i].id = (uint16_t)i;
		q->state[i] = NET_BUF_FREE;
		q->free[i] = (uint16_t)(n->nbuf - 1 - i); /* buffer 0 on top */
	}
	q->nfree = n->nbuf;
	return 0;
}

void net_rx_free(struct net *n, struct net_rxq *q)
{
	const struct vio_port *port = vio_port();

	if (q->lent) {
		/* The application still holds buffers: their memory stays valid. */
		vio_warn("%s: queue %u: %u receive buffers still lent; their memory is kept",
			 n->dev->name, q->index, (unsigned)q->lent);
		return;
	}
	if (q->mem)
		port->dma_free(port->ctx, q->mem, (size_t)n->nbuf * n->rx_stride);
	if (q->bufs)
		port->dma_free(port->ctx, q->bufs, sizeof(*q->bufs) * n->nbuf);
	if (q->state)
		port->dma_free(port->ctx, q->state, n->nbuf);
	if (q->free)
		port->dma_free(port->ctx, q->free, sizeof(*q->free) * n->nbuf);
	if (q->wait)
		port->dma_free(port->ctx, q->wait, sizeof(*q->wait) * n->nbuf);
	memset(q, 0, sizeof(*q));
}

/* Offer buffer id to the device. Under vio_lock. */
static int post(struct net_rxq *q, uint32_t id)
{
	const struct vio_port *port = vio_port();
	const struct net *n = q->n;
	uint8_t *p = buf_mem(q, id);
	struct vio_sg sg[2];
	unsigned nsg = 1;
	int rc;

	/* The application may have written a lent buffer: no dirty line may
	 * be written back over what the device puts there. */
	if (port->cache_clean)
		port->cache_clean(port->ctx, p, n->rx_len);
	sg[0].buf = p;
	sg[0].len = n->rx_len;
	if (n->hdr_split) {
		sg[0].len = n->info.hdr_len;
		sg[1].buf = p + n->info.hdr_len;
		sg[1].len = n->rx_len - n->info.hdr_len;
		nsg = 2;
	}
	rc = vio_vq_enqueue(q->vq, sg, 0, nsg, &q->bufs[id]);
	if (!rc) {
		q->state[id] = NET_BUF_POSTED;
		q->posted++;
	}
	return rc;
}

/* Buffers posted per call of vio_vq_enqueue_bufs in refill() (Kconfig). */
#define REFILL_BATCH ((unsigned)CONFIG_VIO_NET_BATCH)

/*
 * Post free buffers while the ring takes them, in batches (one call of
 * the virtqueue per batch, not per buffer); the caller kicks. Under
 * vio_lock.
 */
static void refill(struct net_rxq *q)
{
	const struct vio_port *port = vio_port();
	const struct net *n = q->n;

	if (n->cleaned || !q->vq)
		return;
	if (n->hdr_split) {
		/* Two segments a buffer (5.1.6.6): one at a time. */
		while (q->nfree && !post(q, q->free[q->nfree - 1]))
			q->nfree--;
		return;
	}
	while (q->nfree) {
		struct vio_sg sg[REFILL_BATCH];
		void *cookies[REFILL_BATCH];
		unsigned k = q->nfree < REFILL_BATCH ? q->nfree : REFILL_BATCH;
		const uint16_t *ids = &q->free[q->nfree - k]; /* taken from the top down */
		int got;

		for (unsigned i = 0; i < k; i++) {
			uint16_t id = ids[k - 1 - i];

			sg[i].buf = buf_mem(q, id);
			sg[i].len = n->rx_len;
			cookies[i] = &q->bufs[id];
			/* Posted unless the ring is full: put right below. */
			q->state[id] = NET_BUF_POSTED;
		}
		/* As in post(): no dirty line over what the device writes. */
		if (port->cache_clean)
			for (unsigned i = 0; i < k; i++)
				port->cache_clean(port->ctx, sg[i].buf, n->rx_len);
		got = vio_vq_enqueue_bufs(q->vq, sg, cookies, k, true);
		if (got < 0)
			got = 0;
		for (unsigned i = (unsigned)got; i < k; i++)
			q->state[ids[k - 1 - i]] = NET_BUF_FREE;
		q->nfree -= (uint32_t)got;
		q->posted += (uint32_t)got;
		if ((unsigned)got < k)
			return; /* the ring is full */
	}
}

void net_rx_refill(struct net_rxq *q)
{
	refill(q);
	/* Nothing new published: the virtqueue returns at once. */
	if (!q->n->cleaned && q->vq)
		vio_vq_kick(q->vq);
}

/* Buffer b is the driver's again. Under vio_lock. */
static void put_free(struct net_rxq *q, struct vio_net_rxbuf *b)
{
	b->next = NULL;
	b->app = NULL;
	q->state[b->id] = NET_BUF_FREE;
	q->free[q->nfree++] = b->id;
}

static void put_chain(struct net_rxq *q, struct vio_net_rxbuf *b)
{
	while (b) {
		struct vio_net_rxbuf *next = b->next;

		put_free(q, b);
		b = next;
	}
}

static void set_state(struct net_rxq *q, struct vio_net_rxbuf *b, uint8_t state)
{
	for (; b; b = b->next)
		q->state[b->id] = state;
}

/* The oldest waiting frame of q leaves the list. Under vio_lock. */
static struct net_wait wait_pop(struct net_rxq *q)
{
	struct net_wait w = q->wait[q->wait_head];

	/* A wrap, not a division: nbuf need not be a power of two. */
	if (++q->wait_head == q->n->nbuf)
		q->wait_head = 0;
	q->wait_count--;
	q->wait_bufs -= w.nbufs;
	return w;
}

/*
 * A frame waits for vio_net_recv. Waiting frames keep at most half the
 * buffers, the oldest dropped first, so the ring is never left empty by an
 * application that does not read. Under vio_lock.
 */
static void wait_push(struct net_rxq *q, const struct net_wait *w)
{
	struct net *n = q->n;
	uint32_t tail;

	while (q->wait_count && (q->wait_count == n->nbuf || q->wait_bufs + w->nbufs > n->nbuf / 2)) {
		struct net_wait old = wait_pop(q);

		put_chain(q, old.head);
		n->stats.rx_drops++;
	}
	tail = q->wait_head + q->wait_count; /* wait_head < nbuf, wait_count < nbuf */
	if (tail >= n->nbuf)
		tail -= n->nbuf;
	q->wait[tail] = *w;
	q->wait_count++;
	q->wait_bufs += w->nbufs;
	set_state(q, w->head, NET_BUF_WAITING);
}

/* Lend a frame's buffers to the application. Under vio_lock. */
static void lend(struct net_rxq *q, const struct net_wait *w)
{
	set_state(q, w->head, NET_BUF_LENT);
	q->lent += w->nbufs;
}

/* The application's rx callback. */
typedef void (*rx_fn)(struct vio_device *dev, const struct vio_net_frame *frame, void *arg);

static void deliver(struct net_rxq *q, const struct net_wait *w, rx_fn rx, void *arg)
{
	struct vio_net_frame f = {
		.bufs = w->head,
		.len = w->len,
		.queue = q->index,
		.csum = (enum vio_net_csum)w->csum,
		.csum_start = w->csum_start,
		.csum_offset = w->csum_offset,
	};

	rx(q->n->dev, &f, arg);
}

/*
 * The header of a frame's first buffer (5.1.6.4). Returns false when the
 * frame must be dropped (flags or offsets the driver did not ask for).
 */
static bool parse_hdr(struct net_rxq *q, const uint8_t *p, struct net_wait *w)
{
	const struct net *n = q->n;
	/*
	 * Only the fields read, each from where 5.1.6 puts it (every header
	 * size has them: the legacy one without num_buffers is 10 bytes), not
	 * a copy of the whole header: this runs for every frame.
	 */
	uint8_t flags = p[offsetof(struct virtio_net_hdr, flags)];
	uint8_t gso_type = p[offsetof(struct virtio_net_hdr, gso_type)];
	uint16_t v;

	w->csum = VIO_NET_CSUM_NONE;
	/* No GSO feature was negotiated: 5.1.6.4.1, the device MUST NOT merge segments. */
	if (gso_type != VIRTIO_NET_HDR_GSO_NONE)
		return false;
	if (!n->info.guest_csum)
		return !(flags & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID));
	if (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		w->csum = VIO_NET_CSUM_PARTIAL;
		memcpy(&v, p + offsetof(struct virtio_net_hdr, csum_start), sizeof(v));
		w->csum_start = net_cpu16(n, v);
		memcpy(&v, p + offsetof(struct virtio_net_hdr, csum_offset), sizeof(v));
		w->csum_offset = net_cpu16(n, v);
	} else if (flags & VIRTIO_NET_HDR_F_DATA_VALID) {
		w->csum = VIO_NET_CSUM_VALID;
	}
	return true;
}

/* Why take() refused a used buffer, for the log outside the lock. */
struct rx_fault {
	const char *what;
	uint32_t a, b;
};

/*
 * One used buffer (len bytes written). Fills *done and returns 1 when it
 * ends a frame, 0 when more are to come (or the frame was dropped),
 * VIO_EPROTO when the device broke the protocol. A frame of one buffer, the
 * common case, is written straight into *done; one of several is put
 * together in q->cur. Under vio_lock.
 */
static int take(const struct vio_port *port, struct net_rxq *q, struct vio_net_rxbuf *b,
		uint32_t len, struct net_wait *done, struct rx_fault *f)
{
	struct net *n = q->n;
	uint32_t hdr = n->info.hdr_len;
	uint8_t *p = buf_mem(q, b->id);
	bool drop;

	if (q->state[b->id] != NET_BUF_POSTED) {
		*f = (struct rx_fault){ "used a buffer that was not posted", b->id, 0 };
		return VIO_EPROTO;
	}
	q->posted--;
	q->state[b->id] = NET_BUF_FRAME;
	b->next = NULL;
	if (len > n->rx_len) {
		*f = (struct rx_fault){ "used length beyond the buffer", len, n->rx_len };
		put_free(q, b);
		return VIO_EPROTO;
	}
	/* What the device wrote, not what the cache kept. */
	if (port->cache_invalidate && len)
		port->cache_invalidate(port->ctx, p, len);
	if (q->cur_left) {
		/* The next buffer of a merged frame (5.1.6.4). */
		b->data = p;
		b->len = len;
		q->cur_tail->next = b;
		q->cur_tail = b;
		q->cur.len += len;
		q->cur.nbufs++;
		if (--q->cur_left)
			return 0;
		*done = q->cur;
		q->cur.head = NULL; /* the frame is done's now; net_rx_reclaim looks only with cur_left */
		drop = q->cur_drop;
		q->cur_drop = false;
	} else {
		uint32_t nb = 1;

		if (len < hdr) {
			*f = (struct rx_fault){ "used length shorter than the header", len, hdr };
			put_free(q, b);
			return VIO_EPROTO;
		}
		/* Field by field: a memset of the record is a library call per frame. */
		done->csum_start = 0;
		done->csum_offset = 0;
		drop = !parse_hdr(q, p, done);
		if (n->info.mrg_rxbuf) {
			/* 5.1.6.4: num_buffers of this frame, consecutive on this queue */
			const struct virtio_net_hdr *h = (const void *)p;

			nb = net_cpu16(n, h->num_buffers);
			if (nb == 0 || nb - 1 > q->posted) {
				*f = (struct rx_fault){ "num_buffers beyond the buffers posted", nb,
							q->posted + 1 };
				put_free(q, b);
				return VIO_EPROTO;
			}
		}
		b->data = p + hdr;
		b->len = len - hdr;
		done->head = b;
		done->len = b->len;
		done->nbufs = 1;
		if (nb > 1) {
			/* More to come: the frame is put together in q->cur. */
			q->cur = *done;
			q->cur_tail = b;
			q->cur_left = (uint16_t)(nb - 1);
			q->cur_drop = drop;
			return 0;
		}
	}
	done->seq = n->seq++;
	if (drop || done->len < VIO_NET_ETH_HLEN ||
	    (done->csum == VIO_NET_CSUM_PARTIAL &&
	     (uint32_t)done->csum_start + done->csum_offset + 2u > done->len)) {
		/* Marked or sized wrong: dropped, counted. */
		put_chain(q, done->head);
		n->stats.rx_errors++;
		return 0;
	}
	n->stats.rx_frames++;
	n->stats.rx_bytes += done->len;
	return 1;
}

/* Frames that waited go to an rx callback installed since. */
static void flush_waiting(struct net_rxq *q)
{
	struct net *n = q->n;

	for (;;) {
		struct vio_net_ops ops;
		struct net_wait w;
		uintptr_t s;
		void *arg;

		net_ops(n, &ops, &arg);
		if (!ops.rx)
			return;
		s = vio_lock();
		if (!q->wait_count || n->cleaned) {
			vio_unlock(s);
			return;
		}
		w = wait_pop(q);
		lend(q, &w);
		vio_unlock(s);
		deliver(q, &w, ops.rx, arg);
	}
}

/*
 * Used buffers are taken in batches of this many: one lock hold, one look
 * at the callbacks and one pass of the virtqueue's checks per batch, not
 * per buffer. The frames of a batch are delivered after the lock is let
 * go, in order. What it costs is on the stack of the service call: at
 * the default of 16 (CONFIG_VIO_NET_BATCH), 16 used entries and 16 frame
 * records, 768 bytes on a 64-bit target (and refill()'s 384 on top while
 * it runs).
 */
#define RX_BATCH ((unsigned)CONFIG_VIO_NET_BATCH)

/* The device broke the protocol in take(): say what, fail it. */
static void rx_fault(struct net_rxq *q, const struct rx_fault *f)
{
	vio_err("%s: rx queue %u: %s (%u, %u)", q->n->dev->name, q->index, f->what,
		(unsigned)f->a, (unsigned)f->b);
	net_fail(q->n, VIO_EPROTO);
}

void net_rx_handler(struct vio_device *dev, struct vio_vq *vq, void *arg)
{
	const struct vio_port *port = vio_port();
	struct net_rxq *q = arg;
	struct net *n = q->n;
	uintptr_t s;
	int rc;

	flush_waiting(q);
	for (;;) {
		struct vio_vq_used used[RX_BATCH];
		struct net_wait done[RX_BATCH];
		struct rx_fault fault = { 0 };
		unsigned ndone = 0;
		bool bad = false;
		void *oarg;
		rx_fn rx;

		s = vio_lock();
		/*
		 * What the last batch's callbacks released goes back in one
		 * refill, published at once: the ring stays fed while a long
		 * run is taken.
		 */
		if (q->nfree && vio_dev_state(dev) == VIO_DEV_READY)
			net_rx_refill(q);
		rc = vio_vq_dequeue_batch(vq, used, RX_BATCH);
		if (rc <= 0) {
			vio_unlock(s);
			break;
		}
		rx = n->ops ? n->ops->rx : NULL;
		oarg = n->arg;
		for (int i = 0; i < rc; i++) {
			int got = take(port, q, used[i].cookie, used[i].len, &done[ndone], &fault);

			if (got < 0) {
				/* The rest of the batch left the ring: the driver's again. */
				for (int j = i + 1; j < rc; j++) {
					q->posted--;
					put_free(q, used[j].cookie);
				}
				bad = true;
				break;
			}
			if (got == 1) {
				if (rx)
					lend(q, &done[ndone++]);
				else
					wait_push(q, &done[ndone]);
			}
		}
		/* Released while the frames are out: posted by the next refill here. */
		q->in_handler = true;
		vio_unlock(s);
		for (unsigned i = 0; i < ndone; i++)
			deliver(q, &done[i], rx, oarg);
		if (bad) {
			s = vio_lock();
			q->in_handler = false;
			vio_unlock(s);
			rx_fault(q, &fault);
			return;
		}
	}
	if (rc == 0)
		rc = VIO_EAGAIN;
	s = vio_lock();
	q->in_handler = false;
	if (rc == VIO_EAGAIN && vio_dev_state(dev) == VIO_DEV_READY) {
		/* One notification for this pass's re-posts and the refill. */
		net_rx_refill(q);
		vio_unlock(s);
		return;
	}
	vio_unlock(s);
	net_fail(n, rc == VIO_EPROTO ? VIO_EPROTO : VIO_ESHUTDOWN);
}

void net_rx_reclaim(struct net_rxq *q)
{
	struct vio_net_rxbuf *b;
	uintptr_t s;

	if (!q->vq)
		return;
	s = vio_lock();
	while ((b = vio_vq_detach_unused(q->vq)) != NULL) {
		q->posted--;
		put_free(q, b);
	}
	if (q->cur_left) {
		put_chain(q, q->cur.head);
		memset(&q->cur, 0, sizeof(q->cur));
		q->cur_left = 0;
		q->cur_drop = false;
	}
	vio_unlock(s);
}

void vio_net_rx_release(struct vio_device *dev, struct vio_net_rxbuf *b)
{
	struct net_rxq *q;
	struct net *n;
	uintptr_t s;

	if (!b || net_lookup(dev, false, &n) || b->queue >= n->npairs)
		return;
	q = &n->rxq[b->queue];
	if (b->id >= n->nbuf || &q->bufs[b->id] != b) {
		vio_warn("%s: rx_release of a buffer that is not the driver's", dev->name);
		return;
	}
	s = vio_lock();
	if (q->state[b->id] != NET_BUF_LENT) {
		vio_unlock(s);
		vio_warn("%s: rx_release of buffer %u, which is not lent", dev->name, b->id);
		return;
	}
	q->lent--;
	if (q->in_handler) {
		/* The completion handler runs: its next refill posts it with others. */
		put_free(q, b);
	} else if (vio_dev_state(dev) == VIO_DEV_READY && !n->cleaned && q->vq && !post(q, b->id)) {
		/* Straight back onto the ring, no stop on the free list. */
		b->next = NULL;
		b->app = NULL;
		if (q->nfree)
			refill(q);
		vio_vq_kick(q->vq);
	} else {
		/* Not now (a full ring, a device going away): the free list has it. */
		put_free(q, b);
		if (vio_dev_state(dev) == VIO_DEV_READY)
			net_rx_refill(q);
	}
	vio_unlock(s);
}

/* The oldest waiting frame of every queue, or NULL. Under vio_lock. */
static struct net_rxq *oldest(struct net *n)
{
	struct net_rxq *best = NULL;

	for (unsigned i = 0; i < n->npairs; i++) {
		struct net_rxq *q = &n->rxq[i];

		if (q->wait_count && (!best || q->wait[q->wait_head].seq < best->wait[best->wait_head].seq))
			best = q;
	}
	return best;
}

static bool frame_waits(void *arg)
{
	struct net *n = arg;
	uintptr_t s = vio_lock();
	bool any = oldest(n) != NULL;

	vio_unlock(s);
	return any || vio_dev_state(n->dev) != VIO_DEV_READY;
}

/* Copy a waiting frame out and give its buffers back. */
static int copy_out(struct net_rxq *q, const struct net_wait *w, void *buf, size_t len)
{
	struct net *n = q->n;
	uint8_t *dst = buf;
	size_t off = 0;
	uintptr_t s;
	int rc = (int)w->len;

	if (w->len > len) {
		rc = VIO_EMSGSIZE;
	} else {
		for (const struct vio_net_rxbuf *b = w->head; b; b = b->next) {
			memcpy(dst + off, b->data, b->len);
			off += b->len;
		}
	}
	s = vio_lock();
	put_chain(q, w->head);
	if (rc < 0)
		n->stats.rx_drops++;
	if (vio_dev_state(n->dev) == VIO_DEV_READY)
		net_rx_refill(q);
	vio_unlock(s);
	return rc;
}

int vio_net_recv(struct vio_device *dev, void *buf, size_t len, uint64_t timeout_ns)
{
	const struct vio_port *port = vio_port();
	uint64_t start;
	struct net *n;
	int rc;

	rc = net_lookup(dev, true, &n);
	if (rc)
		return rc;
	if (!buf && len)
		return VIO_EINVAL;
	start = port->time_ns(port->ctx);
	/* What the device completed meanwhile, without waiting for a service pass. */
	vio_dev_poll(dev);
	for (;;) {
		struct vio_net_ops ops;
		struct net_rxq *q;
		struct net_wait w;
		uint64_t elapsed;
		uintptr_t s;
		void *arg;

		net_ops(n, &ops, &arg);
		if (ops.rx)
			return VIO_EBUSY;
		rc = net_lookup(dev, true, &n);
		if (rc)
			return rc;
		s = vio_lock();
		q = oldest(n);
		if (q)
			w = wait_pop(q);
		vio_unlock(s);
		if (q)
			return copy_out(q, &w, buf, len);
		if (!timeout_ns)
			return VIO_EAGAIN;
		elapsed = port->time_ns(port->ctx) - start;
		if (elapsed >= timeout_ns)
			return VIO_ETIMEDOUT;
		/* Sleeps on pair 0's event; frames of other pairs are seen at its next wake-up. */
		rc = vio_dev_wait(dev, n->rxq[0].vq, frame_waits, n, timeout_ns - elapsed);
		if (rc == VIO_ETIMEDOUT)
			return rc;
	}
}
