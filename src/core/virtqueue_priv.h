/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a ring layout implements behind the opaque struct vio_vq of
 * <vio/virtqueue.h>. The common part (struct vio_vq) is all virtqueue.c
 * knows; each ring file embeds it first in its own queue struct and keeps
 * its layout, indices and size rules to itself. A new layout (the packed
 * ring, section 2.8) is one new file with its ops and one line in
 * vio_vq_create.
 */
#ifndef VIO_CORE_VIRTQUEUE_PRIV_H
#define VIO_CORE_VIRTQUEUE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vio/error.h>
#include <vio/port.h>
#include <vio/virtqueue.h>

struct vio_vq_ops {
	/* Allocate a queue of this layout for cfg (see vio_vq_create). */
	int (*create)(const struct vio_port *port, const struct vio_vq_config *cfg,
		      struct vio_vq **out);
	void (*destroy)(struct vio_vq *vq);
	void (*addrs)(const struct vio_vq *vq, struct vio_queue_addrs *addrs);
	int (*enqueue)(struct vio_vq *vq, const struct vio_sg *sg, unsigned out, unsigned in,
		       void *cookie);
	/* Arguments checked; NULL: the front calls enqueue per chain. */
	int (*enqueue_bufs)(struct vio_vq *vq, const struct vio_sg *sg, void *const *cookies,
			    unsigned n, bool dev_writes);
	bool (*kick)(struct vio_vq *vq);
	/* Up to max completions, checked (see vio_vq_dequeue_batch; max >= 1). */
	int (*dequeue_batch)(struct vio_vq *vq, struct vio_vq_used *used, unsigned max);
	bool (*has_used)(const struct vio_vq *vq);
	void (*disable_irq)(struct vio_vq *vq);
	bool (*enable_irq)(struct vio_vq *vq);
	void *(*detach_unused)(struct vio_vq *vq);
	/* Start the rings over, nothing in flight (see vio_vq_reinit). */
	void (*reinit)(struct vio_vq *vq);
	unsigned (*chain_cost)(const struct vio_vq *vq, unsigned nseg);
	int (*chain_reserve)(struct vio_vq *vq, unsigned nseg, struct vio_vq_chain *chain);
	void (*chain_release)(struct vio_vq *vq, struct vio_vq_chain *chain);
	int (*chain_submit)(struct vio_vq *vq, struct vio_vq_chain *chain, void *cookie);
	/* Checks its arguments itself (see vio_vq_chain_submit_seg). */
	int (*chain_submit_seg)(struct vio_vq *vq, struct vio_vq_chain *chain, unsigned seg,
				void *buf, uint32_t len, bool dev_writes, void *cookie);
};

/* The part every layout shares; the layout's own state follows it. */
struct vio_vq {
	const struct vio_vq_ops *ops;
	const struct vio_port *port;
	struct vio_vq_config cfg;
	uint32_t size;      /* entries */
	uint32_t num_free;  /* free descriptors */
	uint32_t in_flight; /* chains queued and not yet dequeued */
	bool irq_off;       /* the driver asked for no interrupts */
	bool broken;
};

/* The device's address for ptr: the port's map, or ptr itself without one. */
static inline uint64_t vq_dma_addr(const struct vio_port *port, const void *ptr)
{
	return port->virt_to_dma ? port->virt_to_dma(port->ctx, ptr) : (uint64_t)(uintptr_t)ptr;
}

/*
 * vio_vq_chain_submit_seg, shared by the layouts: the checks of
 * vio_vq_chain_set and vio_vq_chain_submit on the arguments and the
 * template (before anything changes; 0 or VIO_EINVAL), then the template
 * as vio_vq_chain_set keeps it (in driver-private memory: what the device
 * could have written is never read back to learn a length).
 */
static inline int vq_chain_seg_check(const struct vio_vq_chain *chain, unsigned seg,
				     const void *buf, uint32_t len, bool dev_writes,
				     const void *cookie)
{
	unsigned nseg = chain->nseg, all = (1u << nseg) - 1, bit, w;

	if (seg >= nseg || !buf || !len || !cookie)
		return VIO_EINVAL;
	bit = 1u << seg;
	w = dev_writes ? chain->writable | bit : chain->writable & ~bit;
	/* Every segment set; 2.7.4.2: device-writable segments after every readable one. */
	if ((chain->set | bit) != all || ((w << 1) & all & ~w))
		return VIO_EINVAL;
	return 0;
}

static inline void vq_chain_seg_set(struct vio_vq_chain *chain, unsigned seg, void *buf,
				    uint32_t len, bool dev_writes)
{
	/* The public setter, after vq_chain_seg_check passed: it cannot fail here. */
	(void)vio_vq_chain_set(NULL, chain, seg, buf, len, dev_writes);
}

extern const struct vio_vq_ops vio_vq_split_ops;
extern const struct vio_vq_ops vio_vq_packed_ops;

/*
 * The device broke the protocol on this queue: stop it for good, log what
 * and call the failure hook once. Returns VIO_EPROTO.
 */
int vio_vq_protocol_error(struct vio_vq *vq, const char *what, uint32_t a, uint32_t b);

#endif
