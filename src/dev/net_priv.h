/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-net driver internals shared by net.c (lookups, callbacks, failure),
 * net_probe.c (probe and configuration), net_rx.c (receive), net_tx.c
 * (transmit) and net_ctrl.c (the control queue).
 */
#ifndef VIO_DEV_NET_PRIV_H
#define VIO_DEV_NET_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <vio/net.h>
#include <vio/spec/virtio_net.h>

#include "vio_config.h"

/* DMA memory is laid out in lines of this many bytes, so cleaning or
 * invalidating one buffer never touches another's. */
#define NET_LINE 64u
#define NET_ROUND(x) (((x) + NET_LINE - 1) & ~(uint32_t)(NET_LINE - 1))

#define NET_VLAN_HLEN 4u
/* 5.1.6.3.1: with MRG_RXBUF any buffer holding the header will do; a
 * page-sized half keeps a full-sized frame in one buffer. */
#define NET_MRG_BUF_SIZE 2048u
#define NET_TX_SEGS_DEFAULT 8u
#define NET_TX_SEGS_LIMIT 64u
#define NET_TX_COPY_DEFAULT 16u

/* Where a receive buffer is. */
enum net_buf_state {
	NET_BUF_FREE = 0,  /* the driver's, not posted */
	NET_BUF_POSTED,    /* on the receive ring */
	NET_BUF_FRAME,     /* part of a frame being put together */
	NET_BUF_WAITING,   /* part of a frame waiting for vio_net_recv */
	NET_BUF_LENT,      /* the application's until vio_net_rx_release */
};

/* A received frame waiting for vio_net_recv (or a new rx callback). */
struct net_wait {
	struct vio_net_rxbuf *head;
	uint32_t len;
	uint16_t nbufs;
	uint8_t csum;            /* enum vio_net_csum */
	uint16_t csum_start, csum_offset;
	uint64_t seq;            /* arrival order across the queues */
};

struct net;

/* One receive queue (5.1.2: receiveq N is virtqueue 2N). */
struct net_rxq {
	struct net *n;
	struct vio_vq *vq;
	uint16_t index;          /* queue pair */
	uint8_t *mem;            /* nbuf buffers of stride bytes, DMA memory */
	struct vio_net_rxbuf *bufs; /* nbuf records */
	uint8_t *state;          /* enum net_buf_state per buffer */
	uint16_t *free;          /* stack of free buffer ids */
	struct net_wait *wait;   /* ring of waiting frames (nbuf entries) */
	/* Under vio_lock: */
	uint32_t nfree;
	uint32_t posted;
	uint32_t lent;           /* buffers the application holds */
	uint32_t wait_head, wait_count, wait_bufs;
	/* The frame being put together from consecutive used buffers (5.1.6.4). */
	struct net_wait cur;
	struct vio_net_rxbuf *cur_tail;
	uint16_t cur_left;       /* buffers still to come; 0: none in progress */
	bool cur_drop;           /* the frame in progress is dropped when complete */
	/* The completion handler runs: buffers released meanwhile are re-posted
	 * without a notification, the handler sends one for all at its end. */
	bool in_handler;
};

/* What a transmit slot carries. */
struct net_txslot {
	void *cookie;            /* the application's (vio_net_queue) */
	uint32_t len;            /* frame bytes */
	int32_t copy;            /* copy buffer in use, or -1 */
	bool busy;
};

/* One transmit queue (5.1.2: transmitq N is virtqueue 2N+1). */
struct net_txq {
	struct net *n;
	struct vio_vq *vq;
	uint16_t index;
	uint16_t nslots;         /* ring entries: one frame each at most */
	uint8_t *hdrs;           /* nslots headers, NET_LINE apart, DMA memory */
	struct net_txslot *slots;
	uint16_t *free;          /* stack of free slots */
	uint8_t *copy_mem;       /* ncopy copy buffers of copy_stride bytes */
	uint16_t *copy_free;     /* stack of free copy buffers */
	uint32_t copy_stride;
	/* Under vio_lock: */
	uint16_t nfree;
	uint16_t ncopy, ncopy_free;
};

/* The control queue's one command buffer (5.1.6.5). */
struct net_ctrl_dma {
	struct virtio_net_ctrl_hdr hdr;
	uint8_t pad0[NET_LINE - sizeof(struct virtio_net_ctrl_hdr)];
	uint8_t ack;
	uint8_t pad1[NET_LINE - 1];
	uint8_t data[]; /* the command's data */
};

/*
 * The receive filtering, address and queue pairs the application set at
 * run time (under vio_lock). A reset returns the device to its defaults
 * (QEMU: promiscuous on, tables empty, the configured MAC, one pair), so
 * net_started sends them again after vio_dev_recover.
 */
struct net_applied {
	bool mac_set, promisc_set, allmulti_set;
	bool promisc, allmulti;
	uint8_t mac[VIO_NET_ALEN];
	uint16_t pairs;                  /* 0: the driver's choice (every pair set up) */
	uint32_t table_len;              /* 0: no table set; else the command's bytes */
	uint8_t table[2u * (4u + VIO_NET_ALEN * VIO_NET_MAC_FILTER_MAX)];
};

struct net {
	struct vio_device *dev;
	struct vio_net_info info;
	struct vio_net_stats stats;      /* under vio_lock */
	struct net_rxq *rxq;             /* npairs entries */
	struct net_txq *txq;
	unsigned npairs;                 /* queue pairs set up */
	unsigned nalloc;                 /* entries of rxq / txq allocated */
	uint32_t nbuf;                   /* receive buffers per queue */
	uint32_t rx_stride;              /* bytes between receive buffers */
	uint32_t rx_len;                 /* bytes offered per receive buffer, header included */
	uint16_t tx_max_segs;
	uint64_t timeout_ns;             /* control commands */
	bool legacy;                     /* guest byte order in headers */
	bool hdr_split;                  /* 5.1.6.6: legacy without ANY_LAYOUT */
	uint64_t seq;                    /* frames received, for the waiting order */

	/* Callbacks, under vio_lock. */
	const struct vio_net_ops *ops;
	void *arg;

	/* The control queue. */
	struct vio_vq *cvq;
	struct net_ctrl_dma *ctrl;
	uint32_t ctrl_size;              /* bytes of ctrl */
	uint32_t ctrl_data_max;          /* bytes of ctrl->data */
	void *ctrl_mutex;                /* os->mutex_*: one command at a time, or NULL */
	bool ctrl_busy;                  /* a command is being made (under vio_lock) */
	bool ctrl_out;                   /* the device has it */
	int ctrl_result;
	bool ctrl_async;                 /* the command out is the announcement ack */
	bool ack_wanted;                 /* the announcement ack waits for the buffer */
	bool announce_pending;           /* asked, not yet acknowledged */

	bool cleaned;                    /* after a failure: what the device held is back */

	/*
	 * What the application set, replayed after vio_dev_recover
	 * (net_replay). Last: net_resume clears everything before it.
	 */
	struct net_applied applied;
};

/* Head-field byte order: 5.1.6 legacy note, guest order; else little-endian. */
static inline uint16_t net_dev16(const struct net *n, uint16_t v)
{
	return vio_wire16(n->legacy, v);
}

static inline uint16_t net_cpu16(const struct net *n, uint16_t v)
{
	return vio_wire16(n->legacy, v);
}

/*
 * dev's driver state when dev is a net device that finished probe (and
 * the device is READY when live is set). Returns 0, VIO_ENODEV or
 * VIO_ESHUTDOWN (after cleaning up what the failed device held). Callers
 * use net_lookup below.
 */
int net_lookup_slow(struct vio_device *dev, bool live, struct net **np);

/* net_lookup_slow, with its answer for a ready device inline: it starts every call per frame. */
static inline int net_lookup(struct vio_device *dev, bool live, struct net **np)
{
	struct net *n;

	if (dev && dev->driver == &vio_net_driver && (n = dev->priv) != NULL && n->dev == dev &&
	    n->npairs && (!live || vio_dev_state(dev) == VIO_DEV_READY)) {
		*np = n;
		return 0;
	}
	return net_lookup_slow(dev, live, np);
}

/*
 * The device broke the protocol or stopped: fail it (reset first, 3.3.1),
 * then take back what it held: receive buffers become free, transmitted
 * frames complete with an error (tx_done), a control command ends.
 * Idempotent. Task context, no lock held.
 */
void net_fail(struct net *n, int err);

/*
 * After vio_dev_recover, once the device is live: send what the
 * application had set (struct net_applied) again. Task context.
 */
void net_replay(struct vio_device *dev);

/* The callbacks in force now (copied under the lock). */
void net_ops(struct net *n, struct vio_net_ops *ops, void **arg);
/* The same, with vio_lock already held. */
void net_ops_locked(const struct net *n, struct vio_net_ops *ops, void **arg);

/* net_rx.c */
int net_rx_setup(struct net *n, struct net_rxq *q);
void net_rx_free(struct net *n, struct net_rxq *q);
/* Post free buffers while the ring takes them, and kick. Under vio_lock. */
void net_rx_refill(struct net_rxq *q);
void net_rx_handler(struct vio_device *dev, struct vio_vq *vq, void *arg);
/* After the reset: take back every posted buffer and the frame in progress. */
void net_rx_reclaim(struct net_rxq *q);

/* net_tx.c */
int net_tx_setup(struct net *n, struct net_txq *q);
void net_tx_free(struct net *n, struct net_txq *q);
void net_tx_handler(struct vio_device *dev, struct vio_vq *vq, void *arg);
void net_tx_reclaim(struct net_txq *q, int err);

/* net_ctrl.c */
int net_ctrl_setup(struct net *n, unsigned index);
void net_ctrl_free(struct net *n);
void net_ctrl_handler(struct vio_device *dev, struct vio_vq *vq, void *arg);
void net_ctrl_reclaim(struct net *n, int err);
/* VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, pairs already checked. */
int net_ctrl_set_pairs(struct vio_device *dev, unsigned pairs);

#endif
