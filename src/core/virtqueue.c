/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The virtqueue front: the calls of <vio/virtqueue.h>, dispatched to the
 * ring layout a queue was created with (virtqueue_priv.h).
 */
#include <stddef.h>

#include <vio/error.h>
#include <vio/port.h>
#include <vio/virtqueue.h>

#include "core/log.h"
#include "core/virtqueue_priv.h"

int vio_vq_create(const struct vio_port *port, const struct vio_vq_config *cfg,
		  struct vio_vq **out)
{
	if (!port || !cfg || !out || !cfg->max_size || !cfg->notify)
		return VIO_EINVAL;
	*out = NULL;
	if (cfg->packed)
		return vio_vq_packed_ops.create(port, cfg, out);
	return vio_vq_split_ops.create(port, cfg, out);
}

void vio_vq_destroy(struct vio_vq *vq)
{
	if (vq)
		vq->ops->destroy(vq);
}

void vio_vq_addrs(const struct vio_vq *vq, struct vio_queue_addrs *addrs)
{
	vq->ops->addrs(vq, addrs);
}

unsigned vio_vq_index(const struct vio_vq *vq)
{
	return vq->cfg.index;
}

unsigned vio_vq_size(const struct vio_vq *vq)
{
	return vq->size;
}

unsigned vio_vq_num_free(const struct vio_vq *vq)
{
	return vq->num_free;
}

unsigned vio_vq_in_flight(const struct vio_vq *vq)
{
	return vq->in_flight;
}

unsigned vio_vq_max_chain(const struct vio_vq *vq)
{
	/* 2.7.5.3.1 / 2.8.17: a chain, indirect or not, is at most the queue size */
	return vq->size;
}

int vio_vq_enqueue(struct vio_vq *vq, const struct vio_sg *sg, unsigned out, unsigned in,
		   void *cookie)
{
	unsigned n = out + in;

	if (vq->broken)
		return VIO_ESHUTDOWN;
	if (!cookie || !sg || n == 0 || n < out || n > vq->size)
		return VIO_EINVAL;
	for (unsigned i = 0; i < n; i++)
		if (!sg[i].len || !sg[i].buf)
			return VIO_EINVAL;
	return vq->ops->enqueue(vq, sg, out, in, cookie);
}

int vio_vq_enqueue_bufs(struct vio_vq *vq, const struct vio_sg *sg, void *const *cookies,
			unsigned n, bool dev_writes)
{
	unsigned i;

	if (vq->broken)
		return VIO_ESHUTDOWN;
	if (!sg || !cookies)
		return VIO_EINVAL;
	for (i = 0; i < n; i++)
		if (!sg[i].len || !sg[i].buf || !cookies[i])
			return VIO_EINVAL;
	if (vq->ops->enqueue_bufs)
		return vq->ops->enqueue_bufs(vq, sg, cookies, n, dev_writes);
	for (i = 0; i < n; i++)
		if (vq->ops->enqueue(vq, &sg[i], !dev_writes, dev_writes, cookies[i]))
			break; /* VIO_ENOSPC, the one error left after the checks */
	return (int)i;
}

bool vio_vq_kick(struct vio_vq *vq)
{
	return vq->broken ? false : vq->ops->kick(vq);
}

int vio_vq_dequeue(struct vio_vq *vq, void **cookie, uint32_t *len)
{
	struct vio_vq_used u;
	int rc;

	if (vq->broken)
		return VIO_ESHUTDOWN;
	rc = vq->ops->dequeue_batch(vq, &u, 1);
	if (rc <= 0)
		return rc ? rc : VIO_EAGAIN;
	*cookie = u.cookie;
	if (len)
		*len = u.len;
	return 0;
}

int vio_vq_dequeue_batch(struct vio_vq *vq, struct vio_vq_used *used, unsigned max)
{
	if (vq->broken)
		return VIO_ESHUTDOWN;
	if (!used || !max)
		return VIO_EINVAL;
	return vq->ops->dequeue_batch(vq, used, max);
}

bool vio_vq_has_used(const struct vio_vq *vq)
{
	return !vq->broken && vq->ops->has_used(vq);
}

void vio_vq_disable_irq(struct vio_vq *vq)
{
	vq->ops->disable_irq(vq);
}

bool vio_vq_enable_irq(struct vio_vq *vq)
{
	return vq->ops->enable_irq(vq);
}

void vio_vq_break(struct vio_vq *vq)
{
	vq->broken = true;
}

bool vio_vq_is_broken(const struct vio_vq *vq)
{
	return vq->broken;
}

void *vio_vq_detach_unused(struct vio_vq *vq)
{
	return vq->ops->detach_unused(vq);
}

int vio_vq_reinit(struct vio_vq *vq)
{
	if (vq->in_flight)
		return VIO_EBUSY;
	vq->ops->reinit(vq);
	vq->broken = false;
	return 0;
}

unsigned vio_vq_chain_cost(const struct vio_vq *vq, unsigned nseg)
{
	if (!nseg || nseg > VIO_VQ_CHAIN_SEGS)
		return 0;
	return vq->ops->chain_cost(vq, nseg);
}

int vio_vq_chain_reserve(struct vio_vq *vq, unsigned nseg, struct vio_vq_chain *chain)
{
	if (vq->broken)
		return VIO_ESHUTDOWN;
	if (!chain || !nseg || nseg > VIO_VQ_CHAIN_SEGS || nseg > vq->size || chain->nseg)
		return VIO_EINVAL;
	for (unsigned i = 0; i < VIO_VQ_CHAIN_SEGS; i++) {
		chain->buf[i] = NULL;
		chain->len[i] = 0;
	}
	chain->in_len = 0;
	chain->set = 0;
	chain->dirty = 0;
	chain->writable = 0;
	return vq->ops->chain_reserve(vq, nseg, chain);
}

void vio_vq_chain_release(struct vio_vq *vq, struct vio_vq_chain *chain)
{
	if (chain && chain->nseg) {
		vq->ops->chain_release(vq, chain);
		chain->nseg = 0;
	}
}

int vio_vq_chain_submit(struct vio_vq *vq, struct vio_vq_chain *chain, void *cookie)
{
	unsigned all = (1u << chain->nseg) - 1, w = chain->writable;

	if (vq->broken)
		return VIO_ESHUTDOWN;
	/* 2.7.4.2: device-writable segments after every readable one */
	if (!cookie || !chain->nseg || chain->set != all || ((w << 1) & all & ~w))
		return VIO_EINVAL;
	return vq->ops->chain_submit(vq, chain, cookie);
}

int vio_vq_chain_submit_seg(struct vio_vq *vq, struct vio_vq_chain *chain, unsigned seg,
			    void *buf, uint32_t len, bool dev_writes, void *cookie)
{
	if (vq->broken)
		return VIO_ESHUTDOWN;
	return vq->ops->chain_submit_seg(vq, chain, seg, buf, len, dev_writes, cookie);
}

int vio_vq_protocol_error(struct vio_vq *vq, const char *what, uint32_t a, uint32_t b)
{
	if (!vq->broken) {
		vq->broken = true;
		vio_err("virtqueue %u: %s (%u, %u); queue stopped", vq->cfg.index, what, a, b);
		if (vq->cfg.fail)
			vq->cfg.fail(vq->cfg.ctx);
	}
	return VIO_EPROTO;
}
