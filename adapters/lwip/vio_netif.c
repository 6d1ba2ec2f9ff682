/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lwIP netif on virtio-net: see vio_netif.h for the model.
 *
 * Checksums. lwIP 2.1.3 has no per-pbuf "checksum already checked" flag;
 * what it has is per-netif control (LWIP_CHECKSUM_CTRL_PER_NETIF,
 * netif->chksum_flags), read while lwIP processes a frame. In NO_SYS mode
 * netif->input (ethernet_input) runs the whole frame up to TCP and UDP
 * before it returns, so the adapter sets the flags for one frame around its
 * input call:
 *   - VIO_NET_CSUM_VALID (VIRTIO_NET_HDR_F_DATA_VALID, 5.1.6.4.1): the
 *     device checked the TCP/UDP checksum; lwIP skips its TCP and UDP
 *     checks for this frame only. The IP header and ICMP are still checked
 *     (cheap, and DATA_VALID does not speak for them).
 *   - VIO_NET_CSUM_PARTIAL (NEEDS_CSUM): the frame came from a local sender
 *     whose data the device vouches for ("any preceding checksums have been
 *     validated"), but its checksum field holds only the pseudo-header sum,
 *     which lwIP would reject. The adapter completes the sum at
 *     csum_start/csum_offset, as the sender's device would have, so every
 *     layer sees a correct frame, and skips lwIP's TCP/UDP check as for
 *     DATA_VALID.
 *   - VIO_NET_CSUM_NONE: lwIP checks everything.
 * On transmit with VIRTIO_NET_F_CSUM, lwIP generates no TCP/UDP checksums
 * on this netif (NETIF_CHECKSUM_GEN_TCP/UDP off: it leaves the field 0);
 * linkoutput writes the pseudo-header sum there and asks the device for the
 * rest (5.1.6.2). IPv4 fragments are left alone: the device sums per frame,
 * and lwIP's TCP never fragments while a UDP datagram sent in fragments
 * then carries checksum 0, "none", which IPv4 allows.
 */
#include <string.h>

#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/ip4.h"
#include "lwip/prot/ethernet.h"
#include "lwip/prot/ip.h"
#include "lwip/prot/ip4.h"
#include "lwip/snmp.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#include <vio/device.h>
#include <vio/error.h>

#include "vio_netif.h"

#define TXQ 0 /* transmit queue pair: NO_SYS has one thread, one queue is enough */

/* ------------------------------------------------------------------ */
/* Checksum arithmetic (RFC 1071) */

/* Add len bytes at data to sum as big-endian 16-bit words; *odd tracks a byte left over. */
static uint32_t sum_bytes(uint32_t sum, const uint8_t *data, size_t len, bool *odd)
{
	for (size_t i = 0; i < len; i++) {
		sum += *odd ? data[i] : (uint32_t)data[i] << 8;
		*odd = !*odd;
		if (sum & 0x80000000u)
			sum = (sum & 0xffffu) + (sum >> 16);
	}
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffffu) + (sum >> 16);
	return (uint16_t)sum;
}

/*
 * Complete a partial checksum in the chain p: the ones' complement of the
 * sum from start to the end of the frame, stored big-endian at start + off.
 * The field holds the pseudo-header sum already, so it is summed too.
 */
static void complete_csum_chain(struct pbuf *p, uint16_t start, uint16_t off, bool udp)
{
	uint32_t sum = 0;
	uint16_t pos = 0, csum;
	bool odd = false;

	for (struct pbuf *q = p; q; q = q->next) {
		const uint8_t *d = q->payload;
		uint16_t n = q->len;

		if (pos + n > start) {
			uint16_t skip = pos < start ? (uint16_t)(start - pos) : 0;

			sum = sum_bytes(sum, d + skip, n - skip, &odd);
		}
		pos = (uint16_t)(pos + n);
	}
	csum = (uint16_t)~fold(sum);
	if (udp && csum == 0)
		csum = 0xffff; /* RFC 768: 0 would mean "no checksum" */
	pbuf_put_at(p, (uint16_t)(start + off), (uint8_t)(csum >> 8));
	pbuf_put_at(p, (uint16_t)(start + off + 1), (uint8_t)csum);
}

/* The same over a flat frame of len bytes. */
static void complete_csum_buf(uint8_t *f, size_t len, uint16_t start, uint16_t off, bool udp)
{
	bool odd = false;
	uint16_t csum = (uint16_t)~fold(sum_bytes(0, f + start, len - start, &odd));

	if (udp && csum == 0)
		csum = 0xffff;
	f[start + off] = (uint8_t)(csum >> 8);
	f[start + off + 1] = (uint8_t)csum;
}

/* ------------------------------------------------------------------ */
/* Random numbers for LWIP_RAND */

/*
 * lwIP's LWIP_RAND() takes no context, so its state is the one piece of
 * global state here; only the lwIP thread touches it.
 */
static uint64_t rand_state = 0x9e3779b97f4a7c15ull;

void vio_lwip_seed(uint64_t seed)
{
	rand_state = seed ^ 0x9e3779b97f4a7c15ull;
	if (!rand_state)
		rand_state = 1;
}

uint32_t vio_lwip_rand(void)
{
	/* xorshift64*: not cryptographic; enough for ports, ISNs and DHCP xids. */
	rand_state ^= rand_state >> 12;
	rand_state ^= rand_state << 25;
	rand_state ^= rand_state >> 27;
	return (uint32_t)((rand_state * 0x2545f4914f6cdd1dull) >> 32);
}

/* ------------------------------------------------------------------ */
/* Transmit */

/*
 * With VIRTIO_NET_F_CSUM: when f (the frame's first bytes, flen of them in
 * the first pbuf) is an unfragmented IPv4 TCP or UDP packet whose headers
 * lie in the first pbuf, write the pseudo-header sum into its checksum
 * field and fill *cs for the device. Returns whether the device is to sum.
 */
static bool tx_csum_prepare(uint8_t *f, uint16_t flen, uint16_t tot_len,
			    struct vio_net_tx_csum *cs)
{
	uint16_t ihl, iplen, l4len, off, frag;
	uint32_t sum = 0;
	bool odd = false;
	uint8_t proto;

	if (flen < VIO_NET_ETH_HLEN + IP_HLEN)
		return false;
	if (((uint16_t)f[12] << 8 | f[13]) != ETHTYPE_IP || (f[14] >> 4) != 4)
		return false;
	ihl = (uint16_t)((f[14] & 0x0f) * 4);
	iplen = (uint16_t)((uint16_t)f[16] << 8 | f[17]);
	frag = (uint16_t)((uint16_t)f[20] << 8 | f[21]);
	proto = f[23];
	if (frag & (IP_MF | IP_OFFMASK))
		return false;
	if (proto == IP_PROTO_TCP)
		off = 16;
	else if (proto == IP_PROTO_UDP)
		off = 6;
	else
		return false;
	if (ihl < IP_HLEN || iplen < ihl || VIO_NET_ETH_HLEN + iplen > tot_len ||
	    VIO_NET_ETH_HLEN + ihl + off + 2 > flen)
		return false;
	l4len = (uint16_t)(iplen - ihl);
	/* Pseudo header (RFC 793, 768): addresses, protocol, L4 length. */
	sum = sum_bytes(sum, f + 26, 8, &odd);
	sum += proto;
	sum += l4len;
	sum = fold(sum);
	f[VIO_NET_ETH_HLEN + ihl + off] = (uint8_t)(sum >> 8);
	f[VIO_NET_ETH_HLEN + ihl + off + 1] = (uint8_t)sum;
	cs->start = (uint16_t)(VIO_NET_ETH_HLEN + ihl);
	cs->offset = off;
	return true;
}

/* Send p flattened into the bounce buffer, the checksum done here if it was to be offloaded. */
static err_t tx_copy(struct vio_netif *nif, struct pbuf *p, const struct vio_net_tx_csum *cs)
{
	uint16_t len = p->tot_len;
	int r;

	if (pbuf_copy_partial(p, nif->bounce, len, 0) != len) {
		nif->stats.tx_drops++;
		return ERR_BUF;
	}
	if (cs) {
		uint8_t proto = nif->bounce[23];

		complete_csum_buf(nif->bounce, len, cs->start, cs->offset, proto == IP_PROTO_UDP);
	}
	r = vio_net_send_copy(nif->dev, TXQ, nif->bounce, len);
	if (r == VIO_EBUSY) {
		vio_net_poll(nif->dev);
		r = vio_net_send_copy(nif->dev, TXQ, nif->bounce, len);
	}
	if (r) {
		nif->stats.tx_drops++;
		return r == VIO_EBUSY ? ERR_MEM : ERR_IF;
	}
	nif->stats.tx_copied++;
	return ERR_OK;
}

static err_t vio_netif_linkoutput(struct netif *netif, struct pbuf *p)
{
	struct vio_netif *nif = netif->state;
	struct vio_sg sg[VIO_NETIF_TX_SEGS];
	struct vio_net_tx_csum cs;
	bool offload = false;
	unsigned n = 0;
	int r;

	if (nif->info.csum)
		offload = tx_csum_prepare(p->payload, p->len, p->tot_len, &cs);
	if (offload)
		nif->stats.tx_csum_offload++;
	for (struct pbuf *q = p; q; q = q->next) {
		if (!q->len)
			continue;
		if (n == VIO_NETIF_TX_SEGS)
			return tx_copy(nif, p, offload ? &cs : NULL);
		sg[n].buf = q->payload;
		sg[n].len = q->len;
		n++;
	}
	/* Held until tx_done: lwIP's TCP does not rewrite a segment whose pbuf is referenced. */
	pbuf_ref(p);
	r = vio_net_send(nif->dev, TXQ, sg, n, offload ? &cs : NULL, p);
	if (r == VIO_EBUSY) {
		/* The ring is full: run the completions, which free entries, and try again. */
		nif->stats.tx_busy_retry++;
		vio_net_poll(nif->dev);
		r = vio_net_send(nif->dev, TXQ, sg, n, offload ? &cs : NULL, p);
	}
	if (!r) {
		MIB2_STATS_NETIF_ADD(netif, ifoutoctets, p->tot_len);
		return ERR_OK;
	}
	pbuf_free(p); /* the reference taken for the driver */
	if (r == VIO_EBUSY)
		return tx_copy(nif, p, offload ? &cs : NULL);
	nif->stats.tx_drops++;
	return r == VIO_EMSGSIZE ? ERR_BUF : ERR_IF;
}

static void on_tx_done(struct vio_device *dev, void *cookie, int result, void *arg)
{
	(void)dev;
	(void)result; /* a dropped frame is counted by the driver (tx_errors) */
	(void)arg;
	pbuf_free(cookie);
}

/* ------------------------------------------------------------------ */
/* Receive */

static void rxp_free(struct pbuf *p)
{
	struct vio_netif_rxp *rxp = (struct vio_netif_rxp *)p;
	struct vio_netif *nif = rxp->nif;

	vio_net_rx_release(nif->dev, rxp->buf);
	rxp->buf = NULL;
	rxp->next_free = nif->free_rxp;
	nif->free_rxp = rxp;
}

static void on_rx(struct vio_device *dev, const struct vio_net_frame *frame, void *arg)
{
	struct vio_netif *nif = arg;
	struct vio_net_rxbuf *b = frame->bufs;
	struct pbuf *head = NULL;
	bool l4_valid = false;

	while (b) {
		struct vio_net_rxbuf *next = b->next;
		struct vio_netif_rxp *rxp = nif->free_rxp;
		struct pbuf *p;

		if (!rxp || b->len > 0xffffu) {
			/* Cannot happen with one pbuf per buffer; give the frame back whole. */
			nif->stats.rx_no_pbuf++;
			for (; b; b = next) {
				next = b->next;
				vio_net_rx_release(dev, b);
			}
			if (head)
				pbuf_free(head);
			return;
		}
		nif->free_rxp = rxp->next_free;
		rxp->buf = b;
		rxp->pc.custom_free_function = rxp_free;
		p = pbuf_alloced_custom(PBUF_RAW, (uint16_t)b->len, PBUF_REF, &rxp->pc, b->data,
					(uint16_t)b->len);
		if (head)
			pbuf_cat(head, p);
		else
			head = p;
		b = next;
	}
	if (!head)
		return;
	if (frame->csum == VIO_NET_CSUM_VALID) {
		l4_valid = true;
		nif->stats.rx_csum_valid++;
	} else if (frame->csum == VIO_NET_CSUM_PARTIAL) {
		uint32_t end = (uint32_t)frame->csum_start + frame->csum_offset + 2;

		/* Out of the frame: leave the sum to lwIP, which drops the frame if it is bad. */
		if (end <= head->tot_len && frame->csum_start >= VIO_NET_ETH_HLEN + IP_HLEN) {
			uint8_t proto = pbuf_get_at(head, VIO_NET_ETH_HLEN + 9);

			complete_csum_chain(head, frame->csum_start, frame->csum_offset,
					    proto == IP_PROTO_UDP);
			l4_valid = true;
			nif->stats.rx_csum_partial++;
		}
	}
	/* There are as many slots as custom pbufs, and every frame holds one. */
	nif->rxq[(nif->rxq_head + nif->rxq_count) % VIO_NETIF_RX_PBUFS] =
		(struct vio_netif_rxq){ head, l4_valid };
	nif->rxq_count++;
}

static void on_link_changed(struct vio_device *dev, bool up, void *arg)
{
	struct vio_netif *nif = arg;

	(void)dev;
	nif->link_up = up;
	nif->link_pending = true;
}

static void on_announce(struct vio_device *dev, void *arg)
{
	struct vio_netif *nif = arg;

	(void)dev;
	/* vio_net_announce_done waits for the device: not from a callback. */
	nif->announce_pending = true;
}

/* ------------------------------------------------------------------ */
/* The lwIP side */

static void set_chksum(struct vio_netif *nif, uint16_t flags)
{
	NETIF_SET_CHECKSUM_CTRL(&nif->netif, flags);
}

static err_t vio_netif_init(struct netif *netif)
{
	struct vio_netif *nif = netif->state;

	netif->name[0] = 'v';
	netif->name[1] = 'n';
	netif->output = etharp_output;
	netif->linkoutput = vio_netif_linkoutput;
	netif->mtu = nif->info.mtu;
	netif->hwaddr_len = ETH_HWADDR_LEN;
	memcpy(netif->hwaddr, nif->info.mac, ETH_HWADDR_LEN);
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
	nif->base_chksum = NETIF_CHECKSUM_ENABLE_ALL;
	if (nif->info.csum)
		nif->base_chksum &= (uint16_t)~(NETIF_CHECKSUM_GEN_TCP | NETIF_CHECKSUM_GEN_UDP);
	set_chksum(nif, nif->base_chksum);
	MIB2_INIT_NETIF(netif, snmp_ifType_ethernet_csmacd, 0);
	return ERR_OK;
}

int vio_netif_add(struct vio_netif *nif, struct vio_device *dev, const char *hostname)
{
	int r = vio_net_check(dev);

	if (r)
		return r;
	memset(nif, 0, sizeof(*nif));
	nif->dev = dev;
	r = vio_net_get_info(dev, &nif->info);
	if (r)
		return r;
	for (unsigned i = 0; i < VIO_NETIF_RX_PBUFS; i++) {
		nif->rxp[i].nif = nif;
		nif->rxp[i].next_free = nif->free_rxp;
		nif->free_rxp = &nif->rxp[i];
	}
	if (!netif_add(&nif->netif, NULL, NULL, NULL, nif, vio_netif_init, ethernet_input))
		return VIO_EIO;
#if LWIP_NETIF_HOSTNAME
	netif_set_hostname(&nif->netif, hostname);
#else
	(void)hostname;
#endif
	nif->ops.rx = on_rx;
	nif->ops.tx_done = on_tx_done;
	nif->ops.link_changed = on_link_changed;
	nif->ops.announce = on_announce;
	r = vio_net_set_ops(dev, &nif->ops, nif);
	if (r) {
		netif_remove(&nif->netif);
		return r;
	}
	netif_set_up(&nif->netif);
	/* The device's word now; later changes come through link_changed. */
	if (nif->info.link_up)
		netif_set_link_up(&nif->netif);
	else
		netif_set_link_down(&nif->netif);
	return 0;
}

struct vio_netif *vio_netif_from(struct netif *netif)
{
	return netif && netif->linkoutput == vio_netif_linkoutput ? netif->state : NULL;
}

/*
 * A failed device takes the link down; once it is recovered
 * (vio_dev_recover) the link is what the device says again.
 */
static void follow_state(struct vio_netif *nif)
{
	bool ready = vio_dev_state(nif->dev) == VIO_DEV_READY;

	if (!ready && !nif->out_of_service) {
		nif->out_of_service = true;
		nif->link_pending = false;
		netif_set_link_down(&nif->netif);
	} else if (ready && nif->out_of_service) {
		nif->out_of_service = false;
		if (!vio_net_get_info(nif->dev, &nif->info)) {
			nif->link_up = nif->info.link_up;
			nif->link_pending = true;
		}
	}
}

static void process(struct vio_netif *nif)
{
	struct netif *netif = &nif->netif;

	follow_state(nif);
	if (nif->link_pending && !nif->out_of_service) {
		nif->link_pending = false;
		if (nif->link_up)
			netif_set_link_up(netif);
		else
			netif_set_link_down(netif);
	}
	while (nif->rxq_count) {
		struct vio_netif_rxq q = nif->rxq[nif->rxq_head];

		nif->rxq_head = (nif->rxq_head + 1) % VIO_NETIF_RX_PBUFS;
		nif->rxq_count--;
		if (q.l4_valid)
			set_chksum(nif, nif->base_chksum & (uint16_t)~(NETIF_CHECKSUM_CHECK_TCP |
								     NETIF_CHECKSUM_CHECK_UDP));
		if (netif->input(q.p, netif) != ERR_OK) {
			nif->stats.rx_input_err++;
			pbuf_free(q.p);
		}
		if (q.l4_valid)
			set_chksum(nif, nif->base_chksum);
	}
	if (nif->announce_pending) {
		nif->announce_pending = false;
		if (netif_is_link_up(netif) && !ip4_addr_isany_val(*netif_ip4_addr(netif))) {
			etharp_gratuitous(netif);
			nif->stats.announces++;
		}
		(void)vio_net_announce_done(nif->dev);
	}
}

void vio_lwip_poll(void)
{
	struct netif *netif;

	vio_service();
	NETIF_FOREACH(netif) {
		struct vio_netif *nif = vio_netif_from(netif);

		if (nif)
			process(nif);
	}
	sys_check_timeouts();
}

uint64_t vio_lwip_next_timeout_ns(void)
{
	uint32_t ms = sys_timeouts_sleeptime();

	if (ms > 100)
		ms = 100;
	return (uint64_t)ms * 1000000u;
}
