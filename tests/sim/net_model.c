/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The network device model (VirtIO 1.2 section 5.1); net_model.h says what
 * it checks and which knobs it has.
 */
#include <stddef.h>
#include <string.h>

#include <vio/spec/virtio_config.h>
#include <vio/spec/virtio_net.h>

#include "net_model.h"

#define CFG(field) ((unsigned)offsetof(struct virtio_net_config, field))

static bool accepted(const struct sim_dev *d, unsigned bit)
{
	return (d->driver_features >> bit) & 1u;
}

unsigned net_model_hdr_len(const struct sim_dev *d)
{
	/* 5.1.6.1: num_buffers is there with VERSION_1 or MRG_RXBUF */
	return accepted(d, VIRTIO_F_VERSION_1) || accepted(d, VIRTIO_NET_F_MRG_RXBUF)
		       ? VIRTIO_NET_HDR_LEN : VIRTIO_NET_HDR_LEN_LEGACY;
}

/* 5.1.6.6: a legacy device without ANY_LAYOUT wants the header alone. */
static bool header_apart(const struct sim_dev *d)
{
	return sim_is_legacy(d) && !accepted(d, VIRTIO_F_ANY_LAYOUT);
}

static uint32_t cfg_get(const struct sim_dev *d, unsigned off, unsigned width)
{
	uint32_t v = 0;

	memcpy(&v, d->config + off, width); /* the host is little-endian */
	return v;
}

static unsigned ctrl_index(const struct sim_dev *d, const struct sim_net *net)
{
	return accepted(d, VIRTIO_NET_F_MQ) ? 2u * net->max_pairs : 2u;
}

/* Copy n bytes into the chain's writable segments at offset off. */
static void seg_write(const struct sim_chain *c, uint32_t off, const void *src, uint32_t n)
{
	const uint8_t *s = src;

	for (unsigned i = 0; i < c->nin && n; i++) {
		uint32_t len = c->in[i].len;

		if (off >= len) {
			off -= len;
			continue;
		}
		uint32_t k = len - off < n ? len - off : n;

		memcpy((uint8_t *)c->in[i].buf + off, s, k);
		s += k;
		n -= k;
		off = 0;
	}
}

/* Gather the readable segments, at most max bytes. Returns the bytes copied. */
static uint32_t seg_gather(const struct sim_chain *c, void *dst, uint32_t max)
{
	uint8_t *p = dst;
	uint32_t got = 0;

	for (unsigned i = 0; i < c->nout && got < max; i++) {
		uint32_t k = c->out[i].len < max - got ? c->out[i].len : max - got;

		memcpy(p + got, c->out[i].buf, k);
		got += k;
	}
	return got;
}

static int rx_handle(struct sim_dev *d, struct sim_net *net, unsigned pair,
		     const struct sim_chain *c)
{
	unsigned hl = net_model_hdr_len(d);
	bool mrg = accepted(d, VIRTIO_NET_F_MRG_RXBUF);
	uint32_t written = 0, room;
	struct sim_net_frame *f;
	int slot = net->cur[pair];

	if (c->nout)
		sim_error("dev%d rx%u: %u device-readable descriptors", d->slot, pair, c->nout);
	if (c->in_len < hl) {
		sim_error("dev%d rx%u: a %u-byte buffer cannot hold the header", d->slot, pair,
			  c->in_len);
		return 0;
	}
	if (header_apart(d) && (c->nin < 2 || c->in[0].len != hl))
		sim_error("dev%d rx%u: legacy without ANY_LAYOUT: the header is not alone (%u)",
			  d->slot, pair, c->in[0].len);
	/* 5.1.4: mtu means something only with VIRTIO_NET_F_MTU; else 1500. */
	if (!mrg && c->in_len < hl + 14u + 4u +
			       (accepted(d, VIRTIO_NET_F_MTU) ? cfg_get(d, CFG(mtu), 2) : 1500u))
		sim_error("dev%d rx%u: %u-byte buffer, less than a full frame (5.1.6.3.1)", d->slot,
			  pair, c->in_len);
	if (slot < 0) {
		struct virtio_net_hdr h;
		unsigned nb = 1;

		/* Only pairs the driver enabled receive (5.1.6.5.5). */
		if (!net->fifo_count[pair] || pair >= net->pairs)
			return SIM_HOLD;
		slot = net->fifo[pair][net->fifo_head[pair]];
		net->fifo_head[pair] = (net->fifo_head[pair] + 1) % SIM_NET_POOL;
		net->fifo_count[pair]--;
		f = &net->pool[slot];
		if (mrg)
			nb = (hl + f->len + c->in_len - 1) / c->in_len;
		else if (hl + f->len > c->in_len)
			sim_error("dev%d rx%u: a %u-byte frame does not fit a %u-byte buffer", d->slot,
				  pair, f->len, c->in_len);
		memset(&h, 0, sizeof(h));
		h.flags = f->flags;
		h.gso_type = f->gso_type;
		h.csum_start = f->csum_start;
		h.csum_offset = f->csum_offset;
		h.num_buffers = (uint16_t)nb;
		if (net->rx_num_buffers >= 0) {
			h.num_buffers = (uint16_t)net->rx_num_buffers;
			net->rx_num_buffers = -1;
		}
		seg_write(c, 0, &h, hl);
		written = hl;
		net->cur[pair] = slot;
		net->cur_off[pair] = 0;
		net->cur_left[pair] = nb;
		if (nb > net->max_num_buffers)
			net->max_num_buffers = nb;
	}
	f = &net->pool[slot];
	room = c->in_len - written;
	if (room > f->len - net->cur_off[pair])
		room = f->len - net->cur_off[pair];
	seg_write(c, written, f->data + net->cur_off[pair], room);
	written += room;
	net->cur_off[pair] += room;
	net->rx_bufs++;
	if (net->cur_left[pair])
		net->cur_left[pair]--;
	if (net->cur_off[pair] == f->len || !net->cur_left[pair]) {
		if (net->cur_off[pair] != f->len)
			sim_error("dev%d rx%u: receive buffers of different sizes", d->slot, pair);
		net->cur[pair] = -1;
		net->pool_free[net->npool_free++] = (uint16_t)slot;
		net->rx_frames++;
		net->rx_per_pair[pair]++;
	}
	if (net->rx_short_once) {
		net->rx_short_once = false;
		written = hl - 1;
	}
	return (int)written;
}

static int tx_handle(struct sim_dev *d, struct sim_net *net, unsigned pair,
		     const struct sim_chain *c)
{
	static uint8_t buf[VIRTIO_NET_HDR_LEN + SIM_NET_FRAME_MAX];
	unsigned hl = net_model_hdr_len(d);
	struct sim_net_frame *f;
	struct virtio_net_hdr h;
	uint32_t len, mtu = cfg_get(d, CFG(mtu), 2);

	if (net->tx_hold)
		return SIM_HOLD;
	if (c->nin)
		sim_error("dev%d tx%u: %u device-writable descriptors", d->slot, pair, c->nin);
	if (c->out_len < hl) {
		sim_error("dev%d tx%u: %u bytes, shorter than the header", d->slot, pair, c->out_len);
		return 0;
	}
	if (header_apart(d) && c->out[0].len != hl)
		sim_error("dev%d tx%u: legacy without ANY_LAYOUT: the header is not alone (%u)",
			  d->slot, pair, c->out[0].len);
	if (pair >= net->pairs)
		sim_error("dev%d tx%u: transmit on a pair not enabled", d->slot, pair);
	seg_gather(c, buf, sizeof(buf));
	memset(&h, 0, sizeof(h));
	memcpy(&h, buf, hl);
	len = c->out_len - hl;
	if (h.gso_type != VIRTIO_NET_HDR_GSO_NONE)
		sim_error("dev%d tx%u: gso_type %u without a GSO feature", d->slot, pair, h.gso_type);
	if ((h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && !accepted(d, VIRTIO_NET_F_CSUM))
		sim_error("dev%d tx%u: NEEDS_CSUM without VIRTIO_NET_F_CSUM", d->slot, pair);
	/* 5.1.4.2: at most the MTU plus the Ethernet header (default 1500) */
	if (!accepted(d, VIRTIO_NET_F_MTU))
		mtu = 1500;
	if (len > mtu + 14u)
		sim_error("dev%d tx%u: %u-byte frame beyond the MTU %u", d->slot, pair, len, mtu);
	f = &net->tx_log[net->tx_frames % SIM_NET_TX_LOG];
	f->len = len;
	f->pair = (uint16_t)pair;
	f->flags = h.flags;
	f->gso_type = h.gso_type;
	f->csum_start = h.csum_start;
	f->csum_offset = h.csum_offset;
	memcpy(f->data, buf + hl, len < SIM_NET_FRAME_MAX ? len : SIM_NET_FRAME_MAX);
	net->tx_frames++;
	net->tx_per_pair[pair]++;
	if (c->nout > net->max_tx_segs)
		net->max_tx_segs = c->nout;
	return 0;
}

/* A MAC table (5.1.6.5.2): le32 count, entries. Returns the bytes it takes, 0 if malformed. */
static uint32_t mac_table(const uint8_t *p, uint32_t len, unsigned *n, uint8_t (*out)[6])
{
	uint32_t count;

	if (len < 4)
		return 0;
	memcpy(&count, p, 4);
	if (count > SIM_NET_MAC_MAX || len - 4 < count * 6u)
		return 0;
	*n = count;
	memcpy(out, p + 4, count * 6u);
	return 4 + count * 6u;
}

static uint8_t ctrl_cmd(struct sim_dev *d, struct sim_net *net, struct sim_net_cmd *cmd)
{
	const uint8_t *p = cmd->data;
	uint32_t len = cmd->len;
	unsigned need = 0;
	uint8_t ack = VIRTIO_NET_OK;
	uint16_t v;

	switch (cmd->class) {
	case VIRTIO_NET_CTRL_RX:
		need = VIRTIO_NET_F_CTRL_RX;
		if (len != 1 || cmd->command > VIRTIO_NET_CTRL_RX_ALLMULTI) {
			sim_error("dev%d ctrl: rx command %u with %u bytes", d->slot, cmd->command, len);
			return VIRTIO_NET_ERR;
		}
		if (cmd->command == VIRTIO_NET_CTRL_RX_PROMISC)
			net->promisc = p[0] != 0;
		else
			net->allmulti = p[0] != 0;
		break;
	case VIRTIO_NET_CTRL_MAC:
		if (cmd->command == VIRTIO_NET_CTRL_MAC_ADDR_SET) {
			need = VIRTIO_NET_F_CTRL_MAC_ADDR;
			if (len != 6) {
				sim_error("dev%d ctrl: MAC_ADDR_SET with %u bytes", d->slot, len);
				return VIRTIO_NET_ERR;
			}
			memcpy(d->config + CFG(mac), p, 6);
		} else if (cmd->command == VIRTIO_NET_CTRL_MAC_TABLE_SET) {
			uint32_t a, b;

			need = VIRTIO_NET_F_CTRL_RX;
			a = mac_table(p, len, &net->n_uc, net->uc);
			b = a ? mac_table(p + a, len - a, &net->n_mc, net->mc) : 0;
			if (!a || !b || a + b != len) {
				sim_error("dev%d ctrl: malformed MAC table (%u bytes)", d->slot, len);
				return VIRTIO_NET_ERR;
			}
		} else {
			return VIRTIO_NET_ERR;
		}
		break;
	case VIRTIO_NET_CTRL_ANNOUNCE:
		need = VIRTIO_NET_F_GUEST_ANNOUNCE;
		if (cmd->command != VIRTIO_NET_CTRL_ANNOUNCE_ACK || len) {
			sim_error("dev%d ctrl: announce command %u with %u bytes", d->slot,
				  cmd->command, len);
			return VIRTIO_NET_ERR;
		}
		/* 5.1.6.5.4: the ack clears ANNOUNCE */
		d->config[CFG(status)] &= (uint8_t)~VIRTIO_NET_S_ANNOUNCE;
		net->announce_acks++;
		break;
	case VIRTIO_NET_CTRL_MQ:
		need = VIRTIO_NET_F_MQ;
		if (cmd->command != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET || len != 2) {
			sim_error("dev%d ctrl: mq command %u with %u bytes", d->slot, cmd->command, len);
			return VIRTIO_NET_ERR;
		}
		memcpy(&v, p, 2);
		if (v < 1 || v > net->max_pairs) {
			sim_error("dev%d ctrl: %u queue pairs of %u", d->slot, v, net->max_pairs);
			return VIRTIO_NET_ERR;
		}
		net->pairs = v;
		break;
	default:
		ack = VIRTIO_NET_ERR;
		break;
	}
	if (need && !accepted(d, need))
		sim_error("dev%d ctrl: class %u command %u without feature %u", d->slot, cmd->class,
			  cmd->command, need);
	return ack;
}

static int ctrl_handle(struct sim_dev *d, struct sim_net *net, const struct sim_chain *c)
{
	static uint8_t buf[2 + sizeof(((struct sim_net_cmd *)0)->data)];
	struct sim_net_cmd *cmd;
	uint32_t got;
	uint8_t ack;

	if (net->ctrl_hold)
		return SIM_HOLD;
	if (c->nin != 1 || c->in[0].len != 1 || c->out_len < 2) {
		sim_error("dev%d ctrl: malformed chain (%u readable bytes, %u writable)", d->slot,
			  c->out_len, c->in_len);
		return 0;
	}
	if (header_apart(d) && c->out[0].len != 2)
		sim_error("dev%d ctrl: legacy without ANY_LAYOUT: the header is not alone", d->slot);
	got = seg_gather(c, buf, sizeof(buf));
	if (got < c->out_len)
		sim_error("dev%d ctrl: command of %u bytes", d->slot, c->out_len);
	cmd = &net->cmds[net->ncmds++ % 16];
	memset(cmd, 0, sizeof(*cmd));
	cmd->class = buf[0];
	cmd->command = buf[1];
	cmd->len = got - 2;
	memcpy(cmd->data, buf + 2, cmd->len);
	ack = ctrl_cmd(d, net, cmd);
	if (net->ctrl_ack >= 0)
		ack = (uint8_t)net->ctrl_ack;
	cmd->ack = ack;
	if (net->ctrl_no_ack)
		return 0;
	*(uint8_t *)c->in[0].buf = ack;
	return 1;
}

static int net_handle(struct sim_dev *d, unsigned q, const struct sim_chain *c)
{
	struct sim_net *net = d->model_ctx;

	if (accepted(d, VIRTIO_NET_F_CTRL_VQ) && q == ctrl_index(d, net))
		return ctrl_handle(d, net, c);
	if (q >= 2u * net->max_pairs) {
		sim_error("dev%d: request on queue %u, which is no net queue", d->slot, q);
		return 0;
	}
	return q % 2 ? tx_handle(d, net, q / 2, c) : rx_handle(d, net, q / 2, c);
}

/* The address the device is configured with (QEMU: -device ...,mac=). */
static const uint8_t net_mac0[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static void net_reset(struct sim_dev *d)
{
	struct sim_net *net = d->model_ctx;

	/*
	 * 5.1.6.5.5: one pair after a reset; a frame under way is lost. As
	 * QEMU's reset: the filters are forgotten and the MAC address is the
	 * configured one again.
	 */
	net->pairs = 1;
	net->promisc = net->allmulti = false;
	net->n_uc = net->n_mc = 0;
	memcpy(d->config + CFG(mac), net_mac0, 6);
	for (unsigned p = 0; p < SIM_NET_PAIRS; p++) {
		if (net->cur[p] >= 0)
			net->pool_free[net->npool_free++] = (uint16_t)net->cur[p];
		net->cur[p] = -1;
	}
}

const struct sim_model sim_net_model = {
	.name = "net",
	.handle = net_handle,
	.reset = net_reset,
};

void net_model_attach(struct sim_dev *d, struct sim_net *net, unsigned max_pairs)
{

	memset(net, 0, offsetof(struct sim_net, pool));
	if (max_pairs < 1)
		max_pairs = 1;
	if (max_pairs > SIM_NET_PAIRS)
		max_pairs = SIM_NET_PAIRS;
	net->max_pairs = (uint16_t)max_pairs;
	net->pairs = 1;
	net->rx_num_buffers = -1;
	net->ctrl_ack = -1;
	for (unsigned p = 0; p < SIM_NET_PAIRS; p++)
		net->cur[p] = -1;
	for (unsigned i = 0; i < SIM_NET_POOL; i++)
		net->pool_free[i] = (uint16_t)(SIM_NET_POOL - 1 - i);
	net->npool_free = SIM_NET_POOL;

	d->device_id = VIRTIO_ID_NET;
	d->model = &sim_net_model;
	d->model_ctx = net;
	d->features = (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_STATUS) |
		      (1ull << VIRTIO_NET_F_MTU) | (1ull << VIRTIO_NET_F_MRG_RXBUF) |
		      (1ull << VIRTIO_NET_F_CSUM) | (1ull << VIRTIO_NET_F_GUEST_CSUM) |
		      (1ull << VIRTIO_NET_F_CTRL_VQ) | (1ull << VIRTIO_NET_F_CTRL_RX) |
		      (1ull << VIRTIO_NET_F_CTRL_MAC_ADDR) |
		      (1ull << VIRTIO_NET_F_GUEST_ANNOUNCE) |
		      (1ull << VIRTIO_NET_F_SPEED_DUPLEX) |
		      (1ull << VIRTIO_RING_F_INDIRECT_DESC) | (1ull << VIRTIO_RING_F_EVENT_IDX);
	if (max_pairs > 1)
		d->features |= 1ull << VIRTIO_NET_F_MQ;
	d->features |= sim_is_legacy(d) ? 1ull << VIRTIO_F_ANY_LAYOUT : 1ull << VIRTIO_F_VERSION_1;
	/* rx/tx per pair, the control queue after them */
	for (unsigned q = 0; q <= 2 * max_pairs; q++)
		d->q[q].num_max = 256;
	d->config_size = sizeof(struct virtio_net_config);
	memcpy(d->config + CFG(mac), net_mac0, 6);
	sim_config_set(d, CFG(status), 2, VIRTIO_NET_S_LINK_UP);
	sim_config_set(d, CFG(max_virtqueue_pairs), 2, max_pairs);
	sim_config_set(d, CFG(mtu), 2, 1500);
	sim_config_set(d, CFG(speed), 4, 1000);
	sim_config_set(d, CFG(duplex), 1, VIRTIO_NET_DUPLEX_FULL);
}

int net_model_inject_hdr(struct sim_dev *d, unsigned q, const void *bytes, uint32_t len,
			 uint8_t flags, uint8_t gso_type, uint16_t csum_start,
			 uint16_t csum_offset)
{
	struct sim_net *net = d->model_ctx;
	struct sim_net_frame *f;
	uint16_t slot;

	if (q >= net->max_pairs || len > SIM_NET_FRAME_MAX || !net->npool_free)
		return -1;
	slot = net->pool_free[--net->npool_free];
	f = &net->pool[slot];
	f->len = len;
	f->pair = (uint16_t)q;
	f->flags = flags;
	f->gso_type = gso_type;
	f->csum_start = csum_start;
	f->csum_offset = csum_offset;
	memcpy(f->data, bytes, len);
	net->fifo[q][(net->fifo_head[q] + net->fifo_count[q]) % SIM_NET_POOL] = slot;
	net->fifo_count[q]++;
	return 0;
}

int net_model_inject(struct sim_dev *d, unsigned q, const void *bytes, uint32_t len,
		     uint8_t flags)
{
	return net_model_inject_hdr(d, q, bytes, len, flags, VIRTIO_NET_HDR_GSO_NONE, 0, 0);
}

unsigned net_model_pending(const struct sim_dev *d, unsigned q)
{
	const struct sim_net *net = d->model_ctx;

	if (q >= SIM_NET_PAIRS)
		return 0;
	return net->fifo_count[q] + (net->cur[q] >= 0);
}

const struct sim_net_frame *net_model_tx(const struct sim_dev *d, unsigned i)
{
	const struct sim_net *net = d->model_ctx;

	if (i >= net->tx_frames || net->tx_frames - i > SIM_NET_TX_LOG)
		return NULL;
	return &net->tx_log[i % SIM_NET_TX_LOG];
}
