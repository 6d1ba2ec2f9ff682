/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An lwIP network interface on one virtio-net device (include/vio/net.h),
 * for lwIP in NO_SYS mode.
 *
 * Receive is zero-copy: each of the driver's receive buffers that holds a
 * frame becomes a custom pbuf over the buffer itself (a chain for a
 * mergeable frame), and the buffer goes back to the driver
 * (vio_net_rx_release) when lwIP frees the pbuf. Transmit is zero-copy too:
 * linkoutput hands the pbuf chain to vio_net_send as a scatter list and holds
 * a reference until the driver's tx_done, which is how lwIP's TCP knows not
 * to rewrite a segment the device may still be reading.
 *
 * Threading: lwIP in NO_SYS mode is called from one thread, and so is
 * everything here. The driver's callbacks only note what happened (frames
 * are queued, link and announcement requests flagged; tx_done frees its
 * pbuf at once); vio_lwip_poll feeds lwIP from that thread at a known
 * point, so lwIP is never entered again from inside itself (linkoutput may
 * run the driver's completions to free a full ring).
 *
 * The application supplies sys_now() (lwIP's millisecond clock) and
 * vio_lwip_assert() (see arch/cc.h), and calls vio_lwip_poll() from its
 * main loop:
 *
 *     lwip_init();
 *     vio_netif_add(&vnif, dev, NULL);  // then netif_set_default, dhcp_start ...
 *     for (;;) {
 *         vio_lwip_poll();                    // vio_service + input + timers
 *         vio_service_wait(vio_lwip_next_timeout_ns());
 *     }
 */
#ifndef VIO_LWIP_NETIF_H
#define VIO_LWIP_NETIF_H

#include <stdbool.h>
#include <stdint.h>

#include "lwip/netif.h"
#include "lwip/pbuf.h"

#include <vio/net.h>

#include "vio_config.h"

/*
 * Custom pbufs per netif: one for every receive buffer the driver may lend
 * (its default rx_buffers on every queue pair). An application that gives
 * the driver more (struct vio_net_params.rx_buffers) defines this to match;
 * short of pbufs, a frame is given back and counted (rx_no_pbuf).
 */
#ifndef VIO_NETIF_RX_PBUFS
#define VIO_NETIF_RX_PBUFS (CONFIG_VIO_NET_RX_BUFFERS * CONFIG_VIO_NET_QUEUE_PAIRS)
#endif
/* Segments of a frame handed to the driver without copying (its default tx_max_segments). */
#define VIO_NETIF_TX_SEGS 8

/* The adapter's own counters; the driver's are vio_net_get_stats. */
struct vio_netif_stats {
	uint32_t rx_no_pbuf;    /* frames dropped: no custom pbuf left (should stay 0) */
	uint32_t rx_input_err;  /* frames lwIP's input refused */
	uint32_t rx_csum_valid; /* frames the device checked (DATA_VALID): lwIP skipped TCP/UDP sums */
	uint32_t rx_csum_partial; /* frames with NEEDS_CSUM: sum completed here */
	uint32_t tx_csum_offload; /* frames the device sums (VIRTIO_NET_F_CSUM) */
	uint32_t tx_busy_retry; /* ring full: completions run, then sent */
	uint32_t tx_copied;     /* sent through vio_net_send_copy (busy ring, long chain) */
	uint32_t tx_drops;      /* frames lost: ring and copy buffers full, or an error */
	uint32_t announces;     /* gratuitous ARPs sent at the device's request */
};

struct vio_netif_rxp {
	struct pbuf_custom pc;   /* first: the free function gets a struct pbuf * */
	struct vio_netif *nif;
	struct vio_net_rxbuf *buf;
	struct vio_netif_rxp *next_free;
};

/* One frame received and not yet given to lwIP. */
struct vio_netif_rxq {
	struct pbuf *p;
	bool l4_valid; /* the device checked (or vouched for) TCP/UDP checksums */
};

/* The caller's storage for one interface; everything inside is private. */
struct vio_netif {
	struct netif netif;
	struct vio_device *dev;
	struct vio_net_ops ops;
	struct vio_net_info info;
	uint16_t base_chksum;  /* netif chksum_flags outside input: what lwIP must do */
	bool link_pending, link_up, announce_pending;
	bool out_of_service;   /* the device was not READY at the last poll: link down */
	struct vio_netif_stats stats;
	struct vio_netif_rxp *free_rxp;
	struct vio_netif_rxp rxp[VIO_NETIF_RX_PBUFS];
	/* Frames queued by the rx callback for vio_lwip_poll; one slot per pbuf is enough. */
	struct vio_netif_rxq rxq[VIO_NETIF_RX_PBUFS];
	unsigned rxq_head, rxq_count;
	/* A frame flattened for vio_net_send_copy (busy ring or too many segments). */
	uint8_t bounce[65536] __attribute__((aligned(8))); /* a pbuf chain's tot_len is 16 bits */
};

/*
 * Add dev as an lwIP interface (netif_add with no address; then set one,
 * or start DHCP) and take its callbacks. The interface is up; its link
 * follows the device's (VIRTIO_NET_F_STATUS). nif must outlive the device.
 * Returns 0, or a VIO_E... code (the device is not a live net device,
 * netif_add failed). Task context, the lwIP thread.
 */
int vio_netif_add(struct vio_netif *nif, struct vio_device *dev, const char *hostname);

/* nif's struct netif, for lwIP's calls. */
static inline struct netif *vio_netif_netif(struct vio_netif *nif)
{
	return &nif->netif;
}

/* The vio_netif behind an lwIP netif added by vio_netif_add, else NULL. */
struct vio_netif *vio_netif_from(struct netif *netif);

/*
 * The lwIP thread's one call in its loop: run vio's deferred work
 * (vio_service), give every vio netif's received frames to lwIP, apply
 * link changes and announcements, run lwIP's timers (sys_check_timeouts).
 */
void vio_lwip_poll(void);

/* Nanoseconds until lwIP's next timer is due (at most 100 ms), for the loop's wait. */
uint64_t vio_lwip_next_timeout_ns(void);

/* Seed LWIP_RAND's generator (e.g. from virtio-rng); any value is fine, 0 too. */
void vio_lwip_seed(uint64_t seed);

#endif
