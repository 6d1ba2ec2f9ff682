/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The lwIP adapter (adapters/lwip/vio_netif.c) against a scripted
 * virtio-net driver: this file implements the calls of <vio/net.h> the
 * adapter makes, records what it sends and which receive buffers it gives
 * back, and hands it frames through the rx callback as the driver would.
 * It covers what QEMU's user-mode and socket networks cannot offer: the
 * checksum offloads (DATA_VALID, NEEDS_CSUM, VIRTIO_NET_F_CSUM), mergeable
 * frames split across buffers, a full transmit ring.
 *
 * It links lwIP and the adapter only, not the library (its own net driver
 * would clash with these stand-ins); it has its own few checks.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/sys.h"
#include "lwip/timeouts.h"
#include "lwip/udp.h"

#include <vio/device.h>
#include <vio/error.h>
#include <vio/net.h>

#include "vio_netif.h"

static int fails, checks;

#define CHECK(c) check(!!(c), __LINE__, #c)
#define CHECK_EQ(a, b) check_eq((long long)(a), (long long)(b), __LINE__, #a, #b)

static void check(bool ok, int line, const char *what)
{
	checks++;
	if (!ok) {
		fails++;
		printf("FAIL line %d: %s\n", line, what);
	}
}

static void check_eq(long long a, long long b, int line, const char *ea, const char *eb)
{
	checks++;
	if (a != b) {
		fails++;
		printf("FAIL line %d: %s == %lld, %s == %lld\n", line, ea, a, eb, b);
	}
}

/* ------------------------------------------------------------------ */
/* The scripted driver */

#define MAX_TX 64
#define NBUF 16

struct sent {
	uint8_t frame[2048];
	size_t len;
	bool csum;
	struct vio_net_tx_csum cs;
	void *cookie;   /* NULL for a copied frame */
	bool done;
};

static struct {
	struct vio_device dev;
	struct vio_net_info info;
	const struct vio_net_ops *ops;
	void *arg;
	struct sent tx[MAX_TX];
	unsigned ntx;
	int busy_sends;       /* vio_net_send refuses this many more times */
	int busy_copies;      /* vio_net_send_copy likewise */
	unsigned polls, announce_done;
	struct vio_net_rxbuf rx[NBUF];
	uint8_t rxmem[NBUF][2048];
	bool lent[NBUF];
} d;

static uint32_t now_ms;

u32_t sys_now(void)
{
	return now_ms;
}

void vio_lwip_assert(const char *msg, int line, const char *file)
{
	printf("lwIP assertion \"%s\" at %s:%d\n", msg, file, line);
	abort();
}

int vio_net_check(const struct vio_device *dev)
{
	return dev == &d.dev ? 0 : VIO_ENODEV;
}

int vio_net_get_info(struct vio_device *dev, struct vio_net_info *info)
{
	(void)dev;
	*info = d.info;
	return 0;
}

int vio_net_set_ops(struct vio_device *dev, const struct vio_net_ops *ops, void *arg)
{
	(void)dev;
	d.ops = ops;
	d.arg = arg;
	return 0;
}

static struct sent *record(const struct vio_sg *sg, unsigned nsg)
{
	struct sent *s = &d.tx[d.ntx++ % MAX_TX];

	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < nsg; i++) {
		memcpy(s->frame + s->len, sg[i].buf, sg[i].len);
		s->len += sg[i].len;
	}
	return s;
}

int vio_net_send(struct vio_device *dev, unsigned queue, const struct vio_sg *sg, unsigned nsg,
		 const struct vio_net_tx_csum *csum, void *cookie)
{
	struct sent *s;

	(void)dev;
	(void)queue;
	if (d.busy_sends > 0) {
		d.busy_sends--;
		return VIO_EBUSY;
	}
	if (csum && !d.info.csum)
		return VIO_ENOTSUP;
	s = record(sg, nsg);
	s->cookie = cookie;
	if (csum) {
		s->csum = true;
		s->cs = *csum;
	}
	return 0;
}

int vio_net_send_copy(struct vio_device *dev, unsigned queue, const void *data, size_t len)
{
	struct vio_sg sg = { (void *)(uintptr_t)data, (uint32_t)len };

	(void)dev;
	(void)queue;
	if (d.busy_copies > 0) {
		d.busy_copies--;
		return VIO_EBUSY;
	}
	record(&sg, 1);
	return 0;
}

void vio_net_poll(struct vio_device *dev)
{
	(void)dev;
	d.polls++;
}

void vio_net_rx_release(struct vio_device *dev, struct vio_net_rxbuf *buf)
{
	(void)dev;
	CHECK(buf >= d.rx && buf < d.rx + NBUF);
	CHECK(d.lent[buf - d.rx]);
	d.lent[buf - d.rx] = false;
}

int vio_net_announce_done(struct vio_device *dev)
{
	(void)dev;
	d.announce_done++;
	return 0;
}

unsigned vio_service(void)
{
	return 0;
}

/* Complete every zero-copy send, as the driver's tx_done would. */
static void complete_tx(void)
{
	for (unsigned i = 0; i < d.ntx && i < MAX_TX; i++) {
		if (d.tx[i].cookie && !d.tx[i].done) {
			d.tx[i].done = true;
			d.ops->tx_done(&d.dev, d.tx[i].cookie, 0, d.arg);
		}
	}
}

static unsigned lent(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < NBUF; i++)
		n += d.lent[i];
	return n;
}

/* Lend frame (len bytes) in buffers of at most chunk bytes, as one received frame. */
static void deliver(const uint8_t *frame, size_t len, size_t chunk, enum vio_net_csum csum,
		    uint16_t start, uint16_t off)
{
	struct vio_net_frame f = { 0 };
	struct vio_net_rxbuf *prev = NULL;
	size_t at = 0;
	unsigned b = 0;

	while (at < len) {
		size_t n = len - at < chunk ? len - at : chunk;

		while (d.lent[b])
			b++;
		d.lent[b] = true;
		memcpy(d.rxmem[b], frame + at, n);
		d.rx[b] = (struct vio_net_rxbuf){ .data = d.rxmem[b], .len = (uint32_t)n };
		if (prev)
			prev->next = &d.rx[b];
		else
			f.bufs = &d.rx[b];
		prev = &d.rx[b];
		at += n;
	}
	f.len = (uint32_t)len;
	f.csum = csum;
	f.csum_start = start;
	f.csum_offset = off;
	d.ops->rx(&d.dev, &f, d.arg);
}

/* ------------------------------------------------------------------ */
/* Frames */

static const uint8_t our_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t peer_mac[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };
static const uint8_t our_ip[4] = { 10, 0, 0, 2 }, peer_ip[4] = { 10, 0, 0, 1 };

static uint32_t sum16(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		s += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	return s;
}

static uint16_t fold16(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Ethernet + IPv4 + UDP from the peer to us, port 9, with a correct checksum. */
static size_t udp_frame(uint8_t *f, const uint8_t *data, size_t n)
{
	size_t udplen = 8 + n, iplen = 20 + udplen;
	uint32_t s;

	memset(f, 0, 14 + iplen);
	memcpy(f, our_mac, 6);
	memcpy(f + 6, peer_mac, 6);
	put16(f + 12, 0x0800);
	f[14] = 0x45;
	put16(f + 16, (uint16_t)iplen);
	f[22] = 64;
	f[23] = 17;
	memcpy(f + 26, peer_ip, 4);
	memcpy(f + 30, our_ip, 4);
	put16(f + 24, (uint16_t)~fold16(sum16(0, f + 14, 20)));
	put16(f + 34, 4000);
	put16(f + 36, 9);
	put16(f + 38, (uint16_t)udplen);
	memcpy(f + 42, data, n);
	s = sum16(0, f + 26, 8) + 17 + (uint32_t)udplen;
	s = sum16(s, f + 34, udplen);
	put16(f + 40, (uint16_t)~fold16(s));
	return 14 + iplen;
}

/* Whether the UDP (or TCP) checksum of frame f verifies. */
static bool l4_ok(const uint8_t *f, size_t len)
{
	size_t ihl = (size_t)(f[14] & 15) * 4, l4 = len - 14 - ihl;
	uint32_t s = sum16(0, f + 26, 8) + f[23] + (uint32_t)l4;

	return fold16(sum16(s, f + 14 + ihl, l4)) == 0xffff;
}

/* ------------------------------------------------------------------ */
/* Cases */

static struct vio_netif nif;
static struct udp_pcb *upcb;
static unsigned udp_got;
static uint8_t udp_data[2048];
static size_t udp_len;

static void on_udp(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port)
{
	(void)arg;
	(void)pcb;
	(void)addr;
	(void)port;
	udp_got++;
	udp_len = pbuf_copy_partial(p, udp_data, sizeof(udp_data), 0);
	pbuf_free(p);
}

static void setup(bool csum)
{
	ip4_addr_t ip, mask, gw;

	memset(&d, 0, sizeof(d));
	d.dev.state = VIO_DEV_READY;
	d.info.mtu = 1500;
	d.info.link_up = true;
	d.info.csum = csum;
	d.info.guest_csum = csum;
	memcpy(d.info.mac, our_mac, 6);
	CHECK_EQ(vio_netif_add(&nif, &d.dev, "test"), 0);
	IP4_ADDR(&ip, 10, 0, 0, 2);
	IP4_ADDR(&mask, 255, 255, 255, 0);
	IP4_ADDR(&gw, 10, 0, 0, 1);
	netif_set_addr(vio_netif_netif(&nif), &ip, &mask, &gw);
	upcb = udp_new();
	CHECK(upcb != NULL);
	CHECK_EQ(udp_bind(upcb, IP_ANY_TYPE, 9), ERR_OK);
	udp_recv(upcb, on_udp, NULL);
	udp_got = 0;
}

static void teardown(void)
{
	complete_tx();
	udp_remove(upcb);
	netif_remove(vio_netif_netif(&nif));
	CHECK_EQ(lent(), 0); /* every receive buffer went back */
}

static void test_add(void)
{
	setup(false);
	struct netif *n = vio_netif_netif(&nif);

	CHECK_EQ(memcmp(n->hwaddr, our_mac, 6), 0);
	CHECK_EQ(n->mtu, 1500);
	CHECK(netif_is_up(n));
	CHECK(netif_is_link_up(n));
	/* Link changes are noted by the callback and applied by the poll. */
	d.ops->link_changed(&d.dev, false, d.arg);
	CHECK(netif_is_link_up(n));
	vio_lwip_poll();
	CHECK(!netif_is_link_up(n));
	d.ops->link_changed(&d.dev, true, d.arg);
	vio_lwip_poll();
	CHECK(netif_is_link_up(n));
	/* An announcement: a gratuitous ARP, then the acknowledgement. */
	d.ntx = 0;
	d.ops->announce(&d.dev, d.arg);
	vio_lwip_poll();
	CHECK_EQ(d.announce_done, 1);
	CHECK(d.ntx >= 1 && d.tx[d.ntx - 1].frame[12] == 0x08 && d.tx[d.ntx - 1].frame[13] == 0x06);
	teardown();
}

/* A failed device takes the link down; recovered (vio_dev_recover), the device's word counts again. */
static void test_recovery(void)
{
	setup(false);
	struct netif *n = vio_netif_netif(&nif);

	CHECK(netif_is_link_up(n));
	d.dev.state = VIO_DEV_FAILED;
	vio_lwip_poll();
	CHECK(!netif_is_link_up(n));
	/* A link change noted while it is out of service does not bring the link up. */
	d.ops->link_changed(&d.dev, true, d.arg);
	vio_lwip_poll();
	CHECK(!netif_is_link_up(n));
	/* Recovered with the link down: it stays down, until the device says up. */
	d.info.link_up = false;
	d.dev.state = VIO_DEV_READY;
	vio_lwip_poll();
	CHECK(!netif_is_link_up(n));
	d.ops->link_changed(&d.dev, true, d.arg);
	vio_lwip_poll();
	CHECK(netif_is_link_up(n));
	/* Failed and recovered with the link up: up again at the next poll. */
	d.dev.state = VIO_DEV_FAILED;
	vio_lwip_poll();
	CHECK(!netif_is_link_up(n));
	d.info.link_up = true;
	d.dev.state = VIO_DEV_READY;
	vio_lwip_poll();
	CHECK(netif_is_link_up(n));
	teardown();
}

static void test_rx_csum(void)
{
	uint8_t f[1600], data[1000];
	size_t len;

	setup(false);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	len = udp_frame(f, data, sizeof(data));

	/* A good frame in three buffers (mergeable): delivered whole, buffers back. */
	deliver(f, len, 400, VIO_NET_CSUM_NONE, 0, 0);
	CHECK_EQ(lent(), 3);
	vio_lwip_poll();
	CHECK_EQ(udp_got, 1);
	CHECK_EQ(udp_len, sizeof(data));
	CHECK_EQ(memcmp(udp_data, data, sizeof(data)), 0);
	CHECK_EQ(lent(), 0);

	/* A bad checksum is dropped by lwIP when nothing vouches for it ... */
	f[41] ^= 0x55;
	deliver(f, len, 2048, VIO_NET_CSUM_NONE, 0, 0);
	vio_lwip_poll();
	CHECK_EQ(udp_got, 1);
	/* ... and passed when the device says DATA_VALID, for that frame only. */
	deliver(f, len, 2048, VIO_NET_CSUM_VALID, 0, 0);
	vio_lwip_poll();
	CHECK_EQ(udp_got, 2);
	CHECK_EQ(nif.stats.rx_csum_valid, 1);
	deliver(f, len, 2048, VIO_NET_CSUM_NONE, 0, 0);
	vio_lwip_poll();
	CHECK_EQ(udp_got, 2);
	f[41] ^= 0x55;

	/*
	 * NEEDS_CSUM: the field holds the pseudo-header sum only. The adapter
	 * completes it in the buffer and lwIP takes the frame.
	 */
	{
		uint32_t s = sum16(0, f + 26, 8) + 17 + (uint32_t)(len - 34);

		put16(f + 40, fold16(s));
		deliver(f, len, 300, VIO_NET_CSUM_PARTIAL, 34, 6);
		/* Before the poll: the adapter completed the sum as the frame came in. */
		{
			uint8_t flat[1600];
			size_t at = 0;

			for (struct vio_net_rxbuf *b = &d.rx[0]; b && at < len; b = b->next) {
				memcpy(flat + at, b->data, b->len);
				at += b->len;
			}
			CHECK_EQ(at, len);
			CHECK(l4_ok(flat, len));
		}
		vio_lwip_poll();
		CHECK_EQ(udp_got, 3);
		CHECK_EQ(nif.stats.rx_csum_partial, 1);
	}
	teardown();
}

/* Send a UDP datagram of n bytes from port 9 to the peer (its MAC known). */
static void send_udp(size_t n)
{
	struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)n, PBUF_RAM);
	ip_addr_t to;

	memset(p->payload, 0xa5, n);
	IP_ADDR4(&to, 10, 0, 0, 1);
	CHECK_EQ(udp_sendto(upcb, p, &to, 4000), ERR_OK);
	pbuf_free(p);
}

static void learn_peer(void)
{
	uint8_t f[60];

	/* The peer's ARP reply to the request the first datagram makes. */
	memset(f, 0, 60);
	memcpy(f, our_mac, 6);
	memcpy(f + 6, peer_mac, 6);
	put16(f + 12, 0x0806);
	put16(f + 14, 1);
	put16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	put16(f + 20, 2);
	memcpy(f + 22, peer_mac, 6);
	memcpy(f + 28, peer_ip, 4);
	memcpy(f + 32, our_mac, 6);
	memcpy(f + 38, our_ip, 4);
	send_udp(4);
	deliver(f, 60, 2048, VIO_NET_CSUM_NONE, 0, 0);
	vio_lwip_poll();
	complete_tx();
}

static void test_tx(void)
{
	struct sent *s;

	setup(false);
	learn_peer();
	d.ntx = 0;
	send_udp(100);
	CHECK_EQ(d.ntx, 1);
	s = &d.tx[0];
	CHECK(!s->csum);
	CHECK(s->cookie != NULL);
	CHECK(l4_ok(s->frame, s->len));
	complete_tx();

	/* A full ring: completions run, then the send goes through. */
	d.ntx = 0;
	d.busy_sends = 1;
	send_udp(100);
	CHECK_EQ(d.ntx, 1);
	CHECK_EQ(d.polls, 1);
	CHECK_EQ(nif.stats.tx_busy_retry, 1);
	complete_tx();
	/* Still full: the frame is copied. */
	d.ntx = 0;
	d.busy_sends = 2;
	send_udp(100);
	CHECK_EQ(d.ntx, 1);
	CHECK(d.tx[0].cookie == NULL);
	CHECK(l4_ok(d.tx[0].frame, d.tx[0].len));
	CHECK_EQ(nif.stats.tx_copied, 1);
	/* And the copy buffers full too: lost, but counted. */
	d.ntx = 0;
	d.busy_sends = 2;
	d.busy_copies = 2;
	{
		struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, 10, PBUF_RAM);
		ip_addr_t to;

		IP_ADDR4(&to, 10, 0, 0, 1);
		CHECK(udp_sendto(upcb, p, &to, 4000) != ERR_OK);
		pbuf_free(p);
	}
	CHECK_EQ(d.ntx, 0);
	CHECK_EQ(nif.stats.tx_drops, 1);
	teardown();
}

static void test_tx_offload(void)
{
	struct sent *s;
	uint32_t pseudo, offloaded;

	setup(true);
	learn_peer();
	offloaded = nif.stats.tx_csum_offload;
	d.ntx = 0;
	send_udp(300);
	CHECK_EQ(d.ntx, 1);
	s = &d.tx[0];
	CHECK(s->csum);
	CHECK_EQ(s->cs.start, 34);
	CHECK_EQ(s->cs.offset, 6);
	/* The field holds the pseudo-header sum (5.1.6.2) ... */
	pseudo = fold16(sum16(0, s->frame + 26, 8) + 17 + (uint32_t)(s->len - 34));
	CHECK_EQ((uint32_t)s->frame[40] << 8 | s->frame[41], pseudo);
	/* ... so the device's sum over the rest makes it right. */
	{
		uint16_t c = (uint16_t)~fold16(sum16(0, s->frame + 34, s->len - 34));

		put16(s->frame + 40, c);
		CHECK(l4_ok(s->frame, s->len));
	}
	CHECK_EQ(nif.stats.tx_csum_offload, offloaded + 1);
	complete_tx();
	/* Copied because the ring is full: the adapter sums in software. */
	d.ntx = 0;
	d.busy_sends = 2;
	send_udp(300);
	CHECK_EQ(d.ntx, 1);
	CHECK(d.tx[0].cookie == NULL);
	CHECK(l4_ok(d.tx[0].frame, d.tx[0].len));
	teardown();
}

int main(void)
{
	lwip_init();
	vio_lwip_seed(1);
	test_add();
	test_recovery();
	test_rx_csum();
	test_tx();
	test_tx_offload();
	printf("%d passed, %d failed\n", checks - fails, fails);
	return fails ? 1 : 0;
}
