/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-net driver: probe and configuration (VirtIO 1.2 sections 5.1.3 to
 * 5.1.5). The configuration is read once and checked; a device that
 * describes itself in a way the spec forbids is refused. Then one receive
 * and one transmit queue per queue pair (5.1.2), the control queue last,
 * and once the device is live (DRIVER_OK) the receive rings are filled
 * and the queue pairs enabled (5.1.5, 5.1.6.5.5).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <vio/error.h>
#include <vio/net.h>
#include <vio/spec/virtio_config.h>
#include <vio/spec/virtio_net.h>

#include "core/log.h"
#include "dev/net_priv.h"
#include "dev/params.h"
#include "vio_config.h"

#define CFG(field) ((unsigned)offsetof(struct virtio_net_config, field))
#define BIT(f) (1ull << (f))

static const struct vio_feature_name net_feature_names[] = {
	{ VIRTIO_NET_F_CSUM, "NET_CSUM" },
	{ VIRTIO_NET_F_GUEST_CSUM, "NET_GUEST_CSUM" },
	{ VIRTIO_NET_F_CTRL_GUEST_OFFLOADS, "NET_CTRL_GUEST_OFFLOADS" },
	{ VIRTIO_NET_F_MTU, "NET_MTU" },
	{ VIRTIO_NET_F_MAC, "NET_MAC" },
	{ VIRTIO_NET_F_GSO, "NET_GSO" },
	{ VIRTIO_NET_F_GUEST_TSO4, "NET_GUEST_TSO4" },
	{ VIRTIO_NET_F_GUEST_TSO6, "NET_GUEST_TSO6" },
	{ VIRTIO_NET_F_GUEST_ECN, "NET_GUEST_ECN" },
	{ VIRTIO_NET_F_GUEST_UFO, "NET_GUEST_UFO" },
	{ VIRTIO_NET_F_HOST_TSO4, "NET_HOST_TSO4" },
	{ VIRTIO_NET_F_HOST_TSO6, "NET_HOST_TSO6" },
	{ VIRTIO_NET_F_HOST_ECN, "NET_HOST_ECN" },
	{ VIRTIO_NET_F_HOST_UFO, "NET_HOST_UFO" },
	{ VIRTIO_NET_F_MRG_RXBUF, "NET_MRG_RXBUF" },
	{ VIRTIO_NET_F_STATUS, "NET_STATUS" },
	{ VIRTIO_NET_F_CTRL_VQ, "NET_CTRL_VQ" },
	{ VIRTIO_NET_F_CTRL_RX, "NET_CTRL_RX" },
	{ VIRTIO_NET_F_CTRL_VLAN, "NET_CTRL_VLAN" },
	{ VIRTIO_NET_F_CTRL_RX_EXTRA, "NET_CTRL_RX_EXTRA" },
	{ VIRTIO_NET_F_GUEST_ANNOUNCE, "NET_GUEST_ANNOUNCE" },
	{ VIRTIO_NET_F_MQ, "NET_MQ" },
	{ VIRTIO_NET_F_CTRL_MAC_ADDR, "NET_CTRL_MAC_ADDR" },
	{ VIRTIO_NET_F_NOTF_COAL, "NET_NOTF_COAL" },
	{ VIRTIO_NET_F_GUEST_USO4, "NET_GUEST_USO4" },
	{ VIRTIO_NET_F_GUEST_USO6, "NET_GUEST_USO6" },
	{ VIRTIO_NET_F_HOST_USO, "NET_HOST_USO" },
	{ VIRTIO_NET_F_HASH_REPORT, "NET_HASH_REPORT" },
	{ VIRTIO_NET_F_GUEST_HDRLEN, "NET_GUEST_HDRLEN" },
	{ VIRTIO_NET_F_RSS, "NET_RSS" },
	{ VIRTIO_NET_F_RSC_EXT, "NET_RSC_EXT" },
	{ VIRTIO_NET_F_STANDBY, "NET_STANDBY" },
	{ VIRTIO_NET_F_SPEED_DUPLEX, "NET_SPEED_DUPLEX" },
	{ 0, NULL },
};

/* 5.1.3.1: features that need the control queue */
#define NEEDS_CTRL_VQ (BIT(VIRTIO_NET_F_CTRL_RX) | BIT(VIRTIO_NET_F_CTRL_MAC_ADDR) | \
		       BIT(VIRTIO_NET_F_GUEST_ANNOUNCE) | BIT(VIRTIO_NET_F_MQ))

static int cfg_read(struct net *n, unsigned off, unsigned width, uint64_t *v)
{
	return vio_dev_config_read(n->dev, off, width, v);
}

static int nonsense(const struct net *n, const char *field, uint64_t v, const char *why)
{
	vio_err("%s: refused: %s %llu %s", n->dev->name, field, (unsigned long long)v, why);
	return VIO_EPROTO;
}

/* The run-time parameters, each 0 replaced by its default. */
static struct vio_net_params params_of(const struct vio_device *dev)
{
	struct vio_net_params p = { 0 };

	if (dev->params)
		p = *(const struct vio_net_params *)dev->params;
	if (!p.max_queue_pairs)
		p.max_queue_pairs = CONFIG_VIO_NET_QUEUE_PAIRS;
	if (!p.rx_queue_size)
		p.rx_queue_size = CONFIG_VIO_NET_RX_QUEUE_SIZE;
	if (!p.tx_queue_size)
		p.tx_queue_size = CONFIG_VIO_NET_TX_QUEUE_SIZE;
	/* buffer ids are 16 bits */
	p.rx_buffers = param_or(p.rx_buffers, CONFIG_VIO_NET_RX_BUFFERS, UINT16_MAX);
	if (p.rx_buffers < 2)
		p.rx_buffers = 2;
	p.timeout_ms = param_or(p.timeout_ms, CONFIG_VIO_TIMEOUT_MS, UINT32_MAX);
	p.tx_max_segments = (uint16_t)param_or(p.tx_max_segments, NET_TX_SEGS_DEFAULT,
					       NET_TX_SEGS_LIMIT);
	return p;
}

static int read_mac(struct net *n, const struct vio_net_params *p)
{
	struct vio_net_info *in = &n->info;
	uint64_t v;
	int rc;

	if (vio_dev_has(n->dev, VIRTIO_NET_F_MAC)) {
		for (unsigned i = 0; i < VIO_NET_ALEN; i++) {
			rc = cfg_read(n, CFG(mac) + i, 1, &v);
			if (rc)
				return rc;
			in->mac[i] = (uint8_t)v;
		}
		in->mac_from_device = true;
		if (in->mac[0] & 1)
			vio_warn("%s: the device's MAC is a multicast address", n->dev->name);
		return 0;
	}
	if (p->mac_set) {
		memcpy(in->mac, p->mac, VIO_NET_ALEN);
		return 0;
	}
	/* 5.1.5: without VIRTIO_NET_F_MAC the driver makes one up: locally
	 * administered (bit 1), unicast (bit 0 clear), distinct per slot. */
	in->mac[0] = 0x02;
	in->mac[1] = 'v';
	in->mac[2] = 'i';
	in->mac[3] = 'o';
	in->mac[4] = (uint8_t)((unsigned)n->dev->slot >> 8);
	in->mac[5] = (uint8_t)n->dev->slot;
	return 0;
}

static int read_config(struct net *n)
{
	struct vio_device *dev = n->dev;
	struct vio_net_info *in = &n->info;
	uint64_t v;
	int rc;

	in->link_up = true;
	if (vio_dev_has(dev, VIRTIO_NET_F_STATUS)) {
		rc = cfg_read(n, CFG(status), 2, &v);
		if (rc)
			return rc;
		in->has_status = true;
		in->link_up = (v & VIRTIO_NET_S_LINK_UP) != 0;
	}
	in->max_queue_pairs = 1;
	if (vio_dev_has(dev, VIRTIO_NET_F_MQ)) {
		rc = cfg_read(n, CFG(max_virtqueue_pairs), 2, &v);
		if (rc)
			return rc;
		/* 5.1.4.1: 1 to 0x8000 */
		if (v < VIRTIO_NET_MQ_PAIRS_MIN || v > VIRTIO_NET_MQ_PAIRS_MAX)
			return nonsense(n, "max_virtqueue_pairs", v, "is outside 1..0x8000");
		in->max_queue_pairs = (uint16_t)v;
	}
	in->mtu = VIO_NET_MTU_DEFAULT;
	if (vio_dev_has(dev, VIRTIO_NET_F_MTU)) {
		rc = cfg_read(n, CFG(mtu), 2, &v);
		if (rc)
			return rc;
		/* 5.1.4.1: 68 to 65535 */
		if (v < VIRTIO_NET_MTU_MIN || v > VIRTIO_NET_MTU_MAX)
			return nonsense(n, "mtu", v, "is outside 68..65535");
		in->mtu = (uint16_t)v;
	}
	in->speed = VIO_NET_SPEED_UNKNOWN;
	in->duplex = VIO_NET_DUPLEX_UNKNOWN;
	if (vio_dev_has(dev, VIRTIO_NET_F_SPEED_DUPLEX)) {
		uint64_t d;

		rc = cfg_read(n, CFG(speed), 4, &v);
		if (!rc)
			rc = cfg_read(n, CFG(duplex), 1, &d);
		if (rc)
			return rc;
		in->speed = (uint32_t)v;
		/* 5.1.4: 0 half, 1 full, 0xff unknown; anything else reads as unknown */
		in->duplex = d <= VIRTIO_NET_DUPLEX_FULL ? (uint8_t)d : VIO_NET_DUPLEX_UNKNOWN;
	}
	return 0;
}

static void log_info(const struct net *n)
{
	const struct vio_net_info *in = &n->info;

	vio_info("%s: mac %02x:%02x:%02x:%02x:%02x:%02x%s, mtu %u, link %s, %u queue pair%s "
		 "(device %u) of %u/%u, header %u%s%s%s", n->dev->name, in->mac[0], in->mac[1],
		 in->mac[2], in->mac[3], in->mac[4], in->mac[5],
		 in->mac_from_device ? "" : " (local)", in->mtu, in->link_up ? "up" : "down",
		 n->npairs, n->npairs == 1 ? "" : "s", in->max_queue_pairs, in->rx_queue_size,
		 in->tx_queue_size, in->hdr_len, in->mrg_rxbuf ? ", mergeable" : "",
		 in->csum ? ", tx csum" : "", n->hdr_split ? ", header apart" : "");
}

static int setup_queues(struct net *n, unsigned want, unsigned *got)
{
	unsigned i;
	int rc = 0;

	for (i = 0; i < want; i++) {
		n->rxq[i].index = (uint16_t)i;
		n->txq[i].index = (uint16_t)i;
		rc = net_rx_setup(n, &n->rxq[i]);
		if (!rc)
			rc = net_tx_setup(n, &n->txq[i]);
		if (rc == VIO_ENODEV && i > 0) {
			/* max_virtqueue_pairs promised more than there are: use what exists */
			vio_warn("%s: queue pair %u does not exist", n->dev->name, i);
			rc = 0;
			break;
		}
		if (rc)
			break;
	}
	*got = i;
	return rc;
}

/*
 * 5.1.3.1: the control features need CTRL_VQ, and a device must not offer
 * them without it; QEMU does (ctrl_vq=off leaves CTRL_RX and the others
 * on). The driver does not accept them then (5.1.3.2: it must not accept
 * a feature whose prerequisite is missing) and goes on without a control
 * queue.
 */
static void net_fix_features(struct vio_device *dev, uint64_t *features)
{
	if (!(*features & BIT(VIRTIO_NET_F_CTRL_VQ)) && (*features & NEEDS_CTRL_VQ)) {
		vio_warn("%s: control features %#llx offered without CTRL_VQ; not accepted",
			 dev->name, (unsigned long long)(*features & NEEDS_CTRL_VQ));
		*features &= ~NEEDS_CTRL_VQ;
	}
}

static int net_probe(struct vio_device *dev)
{
	const struct vio_port *port = vio_port();
	struct vio_net_params p = params_of(dev);
	struct net *n = dev->priv;
	struct vio_net_info *in = &n->info;
	unsigned want, got = 0;
	int rc;

	n->dev = dev;
	n->legacy = dev->t.legacy;
	/* net_fix_features took these away; a transport that ignored it is refused. */
	if ((dev->negotiated & NEEDS_CTRL_VQ) && !vio_dev_has(dev, VIRTIO_NET_F_CTRL_VQ))
		return VIO_EPROTO;
	in->mrg_rxbuf = vio_dev_has(dev, VIRTIO_NET_F_MRG_RXBUF);
	in->csum = vio_dev_has(dev, VIRTIO_NET_F_CSUM);
	in->guest_csum = vio_dev_has(dev, VIRTIO_NET_F_GUEST_CSUM);
	in->ctrl_vq = vio_dev_has(dev, VIRTIO_NET_F_CTRL_VQ);
	in->ctrl_rx = vio_dev_has(dev, VIRTIO_NET_F_CTRL_RX);
	in->ctrl_mac = vio_dev_has(dev, VIRTIO_NET_F_CTRL_MAC_ADDR);
	in->announce = vio_dev_has(dev, VIRTIO_NET_F_GUEST_ANNOUNCE);
	/* 5.1.6.1: num_buffers is there with VERSION_1 or MRG_RXBUF */
	in->hdr_len = (uint16_t)(vio_dev_has(dev, VIRTIO_F_VERSION_1) || in->mrg_rxbuf
				 ? VIRTIO_NET_HDR_LEN : VIRTIO_NET_HDR_LEN_LEGACY);
	/* 5.1.6.6: a legacy device without ANY_LAYOUT wants the header on its own */
	n->hdr_split = n->legacy && !vio_dev_has(dev, VIRTIO_F_ANY_LAYOUT);

	rc = read_mac(n, &p);
	if (!rc)
		rc = read_config(n);
	if (rc)
		return rc;

	/* 5.1.6.3.1: a full frame (with a VLAN tag) in one buffer, unless mergeable */
	n->rx_len = in->mrg_rxbuf ? NET_MRG_BUF_SIZE
				  : in->hdr_len + VIO_NET_ETH_HLEN + NET_VLAN_HLEN + in->mtu;
	n->rx_stride = NET_ROUND(n->rx_len);
	in->rx_buffer_size = n->rx_len - in->hdr_len;
	n->nbuf = p.rx_buffers;
	n->tx_max_segs = p.tx_max_segments;
	n->timeout_ns = (uint64_t)p.timeout_ms * 1000000u;
	in->rx_queue_size = (uint16_t)(p.rx_queue_size > UINT16_MAX ? UINT16_MAX : p.rx_queue_size);
	in->tx_queue_size = (uint16_t)(p.tx_queue_size > UINT16_MAX ? UINT16_MAX : p.tx_queue_size);

	want = p.max_queue_pairs < in->max_queue_pairs ? p.max_queue_pairs : in->max_queue_pairs;
	n->rxq = port->dma_alloc(port->ctx, sizeof(*n->rxq) * want, sizeof(void *));
	n->txq = port->dma_alloc(port->ctx, sizeof(*n->txq) * want, sizeof(void *));
	n->nalloc = want; /* remove frees what was allocated */
	if (!n->rxq || !n->txq)
		return VIO_ENOMEM;
	memset(n->rxq, 0, sizeof(*n->rxq) * want);
	memset(n->txq, 0, sizeof(*n->txq) * want);
	rc = setup_queues(n, want, &got);
	if (!rc && in->ctrl_vq)
		/* 5.1.2: controlq is 2 * max_virtqueue_pairs with MQ, else 2 */
		rc = net_ctrl_setup(n, 2u * in->max_queue_pairs);
	if (rc)
		return rc;
	in->rx_queue_size = (uint16_t)vio_vq_size(n->rxq[0].vq);
	in->tx_queue_size = (uint16_t)vio_vq_size(n->txq[0].vq);
	in->queue_pairs = 1; /* 5.1.6.5.5: until VQ_PAIRS_SET, only pair 0 is used */
	n->npairs = got;
	log_info(n);
	return 0;
}

/* The device is live: fill the receive rings, enable the queue pairs. */
static void net_started(struct vio_device *dev)
{
	struct net *n = dev->priv;
	uintptr_t s;
	int rc;

	if (!n || !n->npairs)
		return;
	s = vio_lock();
	for (unsigned i = 0; i < n->npairs; i++)
		net_rx_refill(&n->rxq[i]);
	vio_unlock(s);
	if (n->npairs > 1) {
		rc = net_ctrl_set_pairs(dev, n->npairs);
		if (rc)
			vio_warn("%s: %u queue pairs not enabled (%s); using one", dev->name,
				 n->npairs, vio_strerror(rc));
	}
	net_replay(dev); /* nothing on the first start */
}

static void net_remove(struct vio_device *dev)
{
	const struct vio_port *port = vio_port();
	struct net *n = dev->priv;
	bool lent = false;

	if (!n->rxq || !n->txq) {
		if (n->rxq)
			port->dma_free(port->ctx, n->rxq, sizeof(*n->rxq) * n->nalloc);
		if (n->txq)
			port->dma_free(port->ctx, n->txq, sizeof(*n->txq) * n->nalloc);
		return;
	}
	for (unsigned i = 0; i < n->nalloc; i++) {
		net_rx_free(n, &n->rxq[i]);
		lent = lent || n->rxq[i].lent;
		net_tx_free(n, &n->txq[i]);
	}
	net_ctrl_free(n);
	/* Lent buffers name their queue record: it stays with them. */
	if (!lent)
		port->dma_free(port->ctx, n->rxq, sizeof(*n->rxq) * n->nalloc);
	port->dma_free(port->ctx, n->txq, sizeof(*n->txq) * n->nalloc);
	n->rxq = NULL;
	n->txq = NULL;
	n->npairs = 0;
}

/*
 * vio_dev_recover: the device was reset and net_remove gave back the
 * buffers (those the application still held stay its own: releasing one
 * later only draws a warning). Probe again, keeping the callbacks and the
 * counters and what the application set (struct net_applied); started
 * refills the receive rings and sends the MAC address, filters, modes and
 * queue pairs again.
 */
static int net_resume(struct vio_device *dev)
{
	struct net *n = dev->priv;
	const struct vio_net_ops *ops = n->ops;
	struct vio_net_stats stats = n->stats;
	void *arg = n->arg;

	/* Everything but applied, the last member (kept in place: no stack copy). */
	memset(n, 0, offsetof(struct net, applied));
	n->ops = ops;
	n->arg = arg;
	n->stats = stats;
	return net_probe(dev);
}

/* 5.1.4: the status (link, announce) and speed may change, with a config change. */
static void net_config_changed(struct vio_device *dev)
{
	struct vio_net_ops ops;
	struct net *n = dev->priv;
	bool changed, up, ann = false;
	uint64_t v, speed, duplex;
	uintptr_t s;
	void *arg;

	if (!n || !n->npairs || !n->info.has_status || cfg_read(n, CFG(status), 2, &v))
		return;
	up = (v & VIRTIO_NET_S_LINK_UP) != 0;
	s = vio_lock();
	changed = up != n->info.link_up;
	n->info.link_up = up;
	/* 5.1.6.5.4: asked once; the bit stays set until the driver's ack */
	if (n->info.announce && (v & VIRTIO_NET_S_ANNOUNCE) && !n->announce_pending) {
		n->announce_pending = true;
		ann = true;
	}
	vio_unlock(s);
	if (vio_dev_has(dev, VIRTIO_NET_F_SPEED_DUPLEX) && !cfg_read(n, CFG(speed), 4, &speed) &&
	    !cfg_read(n, CFG(duplex), 1, &duplex)) {
		s = vio_lock();
		n->info.speed = (uint32_t)speed;
		n->info.duplex = duplex <= VIRTIO_NET_DUPLEX_FULL ? (uint8_t)duplex
								  : VIO_NET_DUPLEX_UNKNOWN;
		vio_unlock(s);
	}
	if (changed)
		vio_info("%s: link %s", dev->name, up ? "up" : "down");
	net_ops(n, &ops, &arg);
	if (changed && ops.link_changed)
		ops.link_changed(dev, up, arg);
	if (ann && ops.announce)
		ops.announce(dev, arg);
}

const struct vio_driver vio_net_driver = {
	.name = "net",
	.device_id = VIRTIO_ID_NET,
	/* 5.1.3: no GSO/TSO/UFO, VLAN filtering, RSS or coalescing */
	.features = BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_GUEST_CSUM) | BIT(VIRTIO_NET_F_MTU) |
		    BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_MRG_RXBUF) |
		    BIT(VIRTIO_NET_F_STATUS) | BIT(VIRTIO_NET_F_CTRL_VQ) |
		    BIT(VIRTIO_NET_F_CTRL_RX) | BIT(VIRTIO_NET_F_GUEST_ANNOUNCE) |
		    BIT(VIRTIO_NET_F_MQ) | BIT(VIRTIO_NET_F_CTRL_MAC_ADDR) |
		    BIT(VIRTIO_NET_F_SPEED_DUPLEX),
	.feature_names = net_feature_names,
	.priv_size = sizeof(struct net),
	.uses_indirect = true, /* header + the caller's segments in one ring entry */
	.uses_queue_reset = true, /* vio_net_reset_pair */
	.fix_features = net_fix_features,
	.probe = net_probe,
	.started = net_started,
	.remove = net_remove,
	.config_changed = net_config_changed,
	.resume = net_resume,
};
