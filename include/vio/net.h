/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-net (network device, VirtIO 1.2 section 5.1): Ethernet frames over
 * receive/transmit queue pairs, an optional control queue, offloads.
 *
 * Receive. The driver owns its receive buffers (DMA memory taken at probe
 * time) and keeps them posted on the receive rings; the completion path
 * refills the rings as buffers come back, so a ring never runs dry while
 * the application keeps up. A received frame is lent to the application:
 * its buffers (one, or several with mergeable receive buffers) stay the
 * application's until it gives each one back with vio_net_rx_release, now
 * or later (a TCP/IP stack can hold them as zero-copy packet buffers and
 * release them when it frees the packet). Frames go to the rx callback
 * (struct vio_net_ops) in task context, where the device's deferred work
 * runs (vio_service, or any call that waits on the device); without one
 * they wait, a bounded number, for vio_net_recv.
 *
 * Transmit. vio_net_queue takes a frame as a scatter-gather list without
 * copying it; the caller's buffers stay the driver's until the tx_done
 * callback gives them back (or vio_net_send_copy copies a frame into the
 * driver's own buffers). A full ring is VIO_EBUSY with nothing taken.
 *
 * Everything the device writes is checked: used lengths against the header
 * and the buffer, num_buffers against what was posted, config values
 * (MTU, queue pairs) against the spec's ranges. A violation fails the device
 * (VIO_EPROTO).
 *
 * Contexts: every function is task context. Several threads may call them
 * at once on one device (the driver's tables are under vio_lock);
 * callbacks run without any lock held and may call back into the driver,
 * except vio_net_recv and other waiting calls.
 */
#ifndef VIO_NET_H
#define VIO_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device.h"
#include "virtqueue.h"

#define VIO_NET_ALEN 6             /* bytes of a MAC address */
#define VIO_NET_ETH_HLEN 14        /* Ethernet header, without a VLAN tag */
#define VIO_NET_MTU_DEFAULT 1500u  /* without VIRTIO_NET_F_MTU */
#define VIO_NET_SPEED_UNKNOWN 0xffffffffu /* vio_net_info.speed when not given */
#define VIO_NET_DUPLEX_UNKNOWN 0xffu     /* vio_net_info.duplex when not given */
#define VIO_NET_MAC_FILTER_MAX 64u /* entries of each kind vio_net_set_mac_filter takes */

/* The driver, for vio_driver_register. */
extern const struct vio_driver vio_net_driver;

/*
 * Run-time parameters, given with the driver's registration
 * (vio_driver_register(&vio_net_driver, &params)); every field 0 means its
 * default, and the device's own limits lower them further.
 */
struct vio_net_params {
	/* Queue pairs used (VIRTIO_NET_F_MQ); default CONFIG_VIO_NET_QUEUE_PAIRS. */
	uint16_t max_queue_pairs;
	/* Entries per receive / transmit ring; default CONFIG_VIO_NET_RX/TX_QUEUE_SIZE. */
	uint32_t rx_queue_size;
	uint32_t tx_queue_size; /* (the transmit rings') */
	/*
	 * Receive buffers per receive queue (posted or lent to the
	 * application); default CONFIG_VIO_NET_RX_BUFFERS. More buffers than
	 * ring entries let the application hold frames while the ring stays
	 * full.
	 */
	uint32_t rx_buffers;
	/* Segments of the longest frame vio_net_queue takes; default 8. */
	uint16_t tx_max_segments;
	/* Driver-owned transmit buffers for vio_net_send_copy per queue; default 16. */
	uint16_t tx_copy_buffers;
	/*
	 * Used when the device has no MAC (no VIRTIO_NET_F_MAC) and mac_set:
	 * else the driver makes up a locally administered unicast address.
	 */
	bool mac_set;
	uint8_t mac[VIO_NET_ALEN]; /* the address mac_set gives */
	/*
	 * How long a control command waits for the device's ack before the
	 * device is failed; default CONFIG_VIO_TIMEOUT_MS.
	 */
	uint32_t timeout_ms;
};

/* What the device said about itself, checked, and what is in force. */
struct vio_net_info {
	uint8_t mac[VIO_NET_ALEN]; /* the address in use */
	bool mac_from_device;      /* VIRTIO_NET_F_MAC; else made up or from the parameters */
	bool link_up;              /* VIRTIO_NET_S_LINK_UP; always true without VIRTIO_NET_F_STATUS */
	bool has_status;           /* VIRTIO_NET_F_STATUS: link_up is the device's word */
	uint16_t mtu;              /* largest payload after the Ethernet header */
	uint32_t speed;            /* Mbit/s (VIRTIO_NET_F_SPEED_DUPLEX) or VIO_NET_SPEED_UNKNOWN */
	uint8_t duplex;            /* 0 half, 1 full, or VIO_NET_DUPLEX_UNKNOWN */
	uint16_t queue_pairs;      /* in use */
	uint16_t max_queue_pairs;  /* the device's (1 without VIRTIO_NET_F_MQ) */
	uint16_t rx_queue_size;    /* entries */
	uint16_t tx_queue_size;    /* entries */
	uint32_t rx_buffer_size;   /* bytes of frame one receive buffer holds */
	uint16_t hdr_len;          /* virtio-net header bytes (10 or 12) */
	bool mrg_rxbuf;            /* VIRTIO_NET_F_MRG_RXBUF */
	bool csum;                 /* VIRTIO_NET_F_CSUM: the device completes transmit checksums */
	bool guest_csum;           /* VIRTIO_NET_F_GUEST_CSUM: receive checksums may be flagged */
	bool ctrl_vq;              /* VIRTIO_NET_F_CTRL_VQ */
	bool ctrl_rx;              /* VIRTIO_NET_F_CTRL_RX: promiscuous, all-multicast */
	bool ctrl_mac;             /* VIRTIO_NET_F_CTRL_MAC_ADDR */
	bool announce;             /* VIRTIO_NET_F_GUEST_ANNOUNCE */
};

/* Counters since probe. */
struct vio_net_stats {
	uint64_t rx_frames, rx_bytes; /* frames handed to the application, and their bytes */
	uint64_t rx_drops;    /* frames dropped by the driver (nobody took them) */
	uint64_t rx_errors;   /* frames the device marked or sized wrong */
	uint64_t tx_frames, tx_bytes; /* frames the device took, and their bytes */
	uint64_t tx_busy;     /* sends refused because the ring was full */
	uint64_t tx_errors;   /* frames completed with an error (the device failed) */
};

/*
 * One receive buffer, lent to the application with a received frame until
 * vio_net_rx_release. The frame's bytes start at data (the virtio-net
 * header is already taken off).
 */
struct vio_net_rxbuf {
	struct vio_net_rxbuf *next; /* the frame's next buffer, or NULL */
	uint8_t *data;              /* where the frame's bytes in this buffer start */
	uint32_t len;               /* frame bytes at data */
	void *app;                  /* the application's, while it holds the buffer */
	/* Private to the driver. */
	uint16_t queue;
	uint16_t id;                /* (private) */
};

/* Receive checksum state (5.1.6.4.1). */
enum vio_net_csum {
	VIO_NET_CSUM_NONE = 0,   /* nothing known: the stack checks */
	VIO_NET_CSUM_VALID,      /* VIRTIO_NET_HDR_F_DATA_VALID: checked by the device */
	VIO_NET_CSUM_PARTIAL,    /* VIRTIO_NET_HDR_F_NEEDS_CSUM: csum_start/offset not filled */
};

/* A received frame, as the rx callback sees it. */
struct vio_net_frame {
	struct vio_net_rxbuf *bufs; /* first buffer; ->next for the rest */
	uint32_t len;               /* frame bytes in all buffers */
	uint16_t queue;             /* receive queue pair it came on */
	enum vio_net_csum csum;     /* what the device says of its checksum */
	uint16_t csum_start;        /* VIO_NET_CSUM_PARTIAL: checksum from here ... */
	uint16_t csum_offset;       /* ... stored at csum_start + csum_offset */
};

/* Transmit checksum offload (VIRTIO_NET_F_CSUM, 5.1.6.2). */
struct vio_net_tx_csum {
	uint16_t start;   /* the device sums from here to the end of the frame ... */
	uint16_t offset;  /* ... and stores the result at start + offset */
};

/* The application's callbacks; each may be NULL. Task context, no lock held. */
struct vio_net_ops {
	/*
	 * A frame arrived. The application owns frame->bufs until it gives each
	 * buffer back with vio_net_rx_release (at once, or later). frame itself
	 * is only valid during the call.
	 */
	void (*rx)(struct vio_device *dev, const struct vio_net_frame *frame, void *arg);
	/* A frame from vio_net_queue was sent (result 0) or dropped (the device failed). */
	void (*tx_done)(struct vio_device *dev, void *cookie, int result, void *arg);
	/* The link went up or down (VIRTIO_NET_F_STATUS), also on an idle device. */
	void (*link_changed)(struct vio_device *dev, bool up, void *arg);
	/*
	 * The device asks for an announcement (VIRTIO_NET_S_ANNOUNCE): send a
	 * gratuitous ARP (or IPv6 unsolicited neighbour advertisement), then
	 * call vio_net_announce_done (here or later). Asked once until the
	 * device took the ack.
	 */
	void (*announce)(struct vio_device *dev, void *arg);
};

/* 0 when dev is a live net device (else VIO_ENODEV or VIO_ESHUTDOWN). */
int vio_net_check(const struct vio_device *dev);

/*
 * Install the callbacks (ops must outlive the device; NULL removes them).
 * Frames that waited for vio_net_recv go to the new rx callback the next
 * time their receive queue's work runs (a frame arrives, or vio_net_poll),
 * before any newer frame.
 */
int vio_net_set_ops(struct vio_device *dev, const struct vio_net_ops *ops, void *arg);

/*
 * Fill info / stats. Return 0, VIO_EINVAL (a NULL pointer), VIO_ENODEV or
 * VIO_ESHUTDOWN (dev is not a live net device).
 */
int vio_net_get_info(struct vio_device *dev, struct vio_net_info *info);
int vio_net_get_stats(struct vio_device *dev, struct vio_net_stats *stats);

/*
 * Transmit. vio_net_queue adds one frame (the Ethernet header first; at
 * most MTU + VIO_NET_ETH_HLEN bytes; with csum, the device fills in the
 * checksum, which needs VIRTIO_NET_F_CSUM) to transmit queue pair queue
 * without telling the device; the buffers stay the driver's until tx_done
 * (cookie). Returns 0, or with nothing taken:
 *   VIO_EMSGSIZE  longer than the MTU allows, or shorter than an Ethernet header;
 *   VIO_EINVAL    bad arguments (too many segments, csum outside the frame);
 *   VIO_ENOTSUP   csum without VIRTIO_NET_F_CSUM;
 *   VIO_EBUSY     the ring is full now: completions free it (counted in tx_busy);
 *   VIO_ESHUTDOWN / VIO_ENODEV.
 */
int vio_net_queue(struct vio_device *dev, unsigned queue, const struct vio_sg *sg, unsigned nsg,
		  const struct vio_net_tx_csum *csum, void *cookie);

/* Tell the device about the frames queued on queue since the last kick. */
void vio_net_kick(struct vio_device *dev, unsigned queue);

/* vio_net_queue and vio_net_kick in one. */
int vio_net_send(struct vio_device *dev, unsigned queue, const struct vio_sg *sg, unsigned nsg,
		 const struct vio_net_tx_csum *csum, void *cookie);

/*
 * Copy a frame of len bytes into one of the driver's transmit buffers and
 * send it; data is the caller's again at return. Errors as vio_net_send,
 * VIO_EBUSY also when every copy buffer is in flight.
 */
int vio_net_send_copy(struct vio_device *dev, unsigned queue, const void *data, size_t len);

/*
 * Receive without a callback: copy the oldest waiting frame (of any queue
 * pair) into buf (at most len bytes), give its buffers back and return its
 * length. With timeout_ns 0 it looks once (after vio_net_poll) and returns
 * VIO_EAGAIN when nothing waits; else it waits up to timeout_ns and returns
 * VIO_ETIMEDOUT (it sleeps on pair 0's event: frames of other pairs are
 * seen at its next wake-up). VIO_EMSGSIZE when the frame is longer than len
 * (the frame is dropped and counted in rx_drops). With an rx callback
 * installed frames never wait here: VIO_EBUSY. While nobody reads, waiting
 * frames keep at most half of a queue's receive buffers: the oldest are
 * dropped (rx_drops) so the ring never runs dry.
 */
int vio_net_recv(struct vio_device *dev, void *buf, size_t len, uint64_t timeout_ns);

/*
 * Give a lent receive buffer back to the driver, which re-posts it. Lent
 * buffers stay valid after the device failed (they are then only taken
 * back); a buffer that is not lent is refused with a warning.
 */
void vio_net_rx_release(struct vio_device *dev, struct vio_net_rxbuf *buf);

/* Look at the rings now and run the device's deferred work (vio_dev_poll). */
void vio_net_poll(struct vio_device *dev);

/*
 * Start queue pair's two queues over without resetting the device
 * (VIRTIO_F_RING_RESET, VirtIO 1.2 section 2.6.1; virtio-pci modern):
 * frames queued on its transmit queue and not yet completed end with
 * VIO_ECANCELED (tx_done; tx_errors counts them), a frame half received is
 * dropped, and every receive buffer is posted afresh. The address, the
 * filters, the link and the other pairs go on as they were. For a transmit
 * queue the device stopped serving (vio_net_send keeps saying VIO_EBUSY),
 * or frames that went stale before they were sent. VIO_ENOTSUP without
 * RING_RESET, VIO_ERANGE for a pair not set up; if the device does not
 * take a queue back it is failed (vio_dev_recover). Task context, never
 * from a callback; no other thread may use the pair meanwhile, and the
 * tx_done callbacks it makes must not send on the pair (the queue is
 * between its reset and its restart then).
 */
int vio_net_reset_pair(struct vio_device *dev, unsigned pair);

/*
 * Control queue (VIRTIO_NET_F_CTRL_VQ, 5.1.6.5). Each waits for the device's
 * ack (never call them from a callback; vio_net_announce_done aside): VIO_EIO when it is not
 * VIRTIO_NET_OK, VIO_ENOTSUP when the feature the command needs was not
 * negotiated, VIO_ETIMEDOUT when no ack came within params.timeout_ms (the
 * device is then failed), VIO_EPROTO when the device completed the command
 * without an ack (failed too), VIO_EBUSY when another thread's command is
 * out and the OS hooks have no mutex to wait on.
 */
int vio_net_set_promisc(struct vio_device *dev, bool on);   /* VIRTIO_NET_F_CTRL_RX */
int vio_net_set_allmulti(struct vio_device *dev, bool on);  /* VIRTIO_NET_F_CTRL_RX */
/*
 * The MAC filter table (VIRTIO_NET_CTRL_MAC_TABLE_SET): unicast and
 * multicast entries, at most VIO_NET_MAC_FILTER_MAX of each (VIO_ERANGE).
 */
int vio_net_set_mac_filter(struct vio_device *dev, const uint8_t (*uc)[VIO_NET_ALEN],
			   unsigned nuc, const uint8_t (*mc)[VIO_NET_ALEN], unsigned nmc);
/* The device's address (VIRTIO_NET_F_CTRL_MAC_ADDR; legacy: config space). */
int vio_net_set_mac(struct vio_device *dev, const uint8_t mac[VIO_NET_ALEN]);
/*
 * Queue pairs in use, 1 .. the pairs set up (VIRTIO_NET_F_MQ,
 * VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET; VIO_ERANGE beyond). The driver sets up
 * min(params.max_queue_pairs, max_virtqueue_pairs) pairs and enables them
 * all once the device is live; info.queue_pairs says how many are in use.
 */
int vio_net_set_queue_pairs(struct vio_device *dev, unsigned pairs);
/*
 * The announcement asked for is done (VIRTIO_NET_CTRL_ANNOUNCE_ACK). The
 * one control call that does not wait: the ack is queued (behind a command
 * in flight) and 0 returned, so the announce callback may call it; an ack
 * the device refuses is logged, and the next configuration change that
 * still shows VIRTIO_NET_S_ANNOUNCE asks again.
 */
int vio_net_announce_done(struct vio_device *dev);

#endif
