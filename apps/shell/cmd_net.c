/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Network commands on lwIP over the first virtio-net device
 * (adapters/lwip; SHELL_NET in shell.h): ifconfig, dhcp, ping, echo, iperf,
 * tcpsend (the client to another guest's echo). lwIP runs in NO_SYS
 * mode in the shell's own thread: the line reader calls shell_net_idle
 * while it waits for a key, so the echo and iperf servers keep serving
 * between commands, and commands that wait (dhcp, ping) run the same loop.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vio_config.h"

#include "app.h"
#include "shell.h"

#if SHELL_NET

#include "lwip/apps/lwiperf.h"
#include "lwip/dhcp.h"
#include "lwip/inet_chksum.h"
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/prot/icmp.h"
#include "lwip/raw.h"
#include "lwip/tcp.h"
#include "lwip/sys.h"
#include "lwip/timeouts.h"

#include <vio/device.h>
#include <vio/error.h>
#include <vio/spec/virtio_config.h>
#if CONFIG_VIO_DRIVER_RNG
#include <vio/rng.h>
#endif

#include "board.h"
#include "pattern.h"
#include "vio_netif.h"

#define NS_PER_MS 1000000ull
#define UART_POLL_NS 1000000ull /* the UART does not interrupt: look at it every millisecond */
#define DHCP_TIMEOUT_MS 10000u
#define PING_ID 0x7669u         /* "vi" */
#define PING_DATA 32u
#define ECHO_CONNS 4
#define TCPSEND_CHUNK 1024u       /* pattern bytes made at a time for tcp_write */
#define TCPSEND_STALL_MS 10000u   /* no progress for this long: give up */

static struct vio_netif vnif;
static bool net_up;

/* lwIP's clock (NO_SYS): milliseconds from the board's timer. */
u32_t sys_now(void)
{
	return (u32_t)(board_time_ns() / NS_PER_MS);
}

void vio_lwip_assert(const char *msg, int line, const char *file)
{
	printf("lwIP assertion \"%s\" failed at line %d in %s\n", msg, line, file);
	fflush(stdout);
	board_exit(1);
}

void shell_net_idle(void)
{
	uint64_t wait;

	(void)app_pci_hotplug_poll(); /* as app.c's idle work does */
	vio_lwip_poll();
	wait = vio_lwip_next_timeout_ns();
	if (wait > UART_POLL_NS)
		wait = UART_POLL_NS;
	/* Wakes early when a device interrupts (a frame arrived). */
	(void)vio_service_wait(wait);
}

/* Run the network for ms milliseconds, or until done(arg). */
static bool run_until(bool (*done)(void *arg), void *arg, uint32_t ms)
{
	uint64_t end = board_time_ns() + (uint64_t)ms * NS_PER_MS;

	while (!done(arg)) {
		if (board_time_ns() >= end)
			return false;
		shell_net_idle();
	}
	return true;
}

static uint64_t seed(void)
{
	uint64_t s = board_time_ns();

#if CONFIG_VIO_DRIVER_RNG
	struct vio_device *rng = vio_dev_find(VIRTIO_ID_RNG, 0);
	uint64_t r;

	if (rng && vio_dev_state(rng) == VIO_DEV_READY &&
	    vio_rng_read(rng, &r, sizeof(r), 100 * NS_PER_MS) == (int)sizeof(r))
		s ^= r;
#endif
	for (unsigned i = 0; i < VIO_NET_ALEN; i++)
		s = s * 131 + vnif.info.mac[i];
	return s;
}

void shell_net_start(void)
{
	struct vio_device *dev = vio_dev_find(VIRTIO_ID_NET, 0);
	int r;

	lwip_init();
	if (!dev || vio_dev_state(dev) != VIO_DEV_READY)
		return;
	r = vio_netif_add(&vnif, dev, "vio");
	if (r) {
		printf("net: %s: no lwIP interface: %s\n", dev->name, vio_strerror(r));
		return;
	}
	vio_lwip_seed(seed());
	netif_set_default(vio_netif_netif(&vnif));
	net_up = true;
	printf("net: lwIP %s on %s, %02x:%02x:%02x:%02x:%02x:%02x\n", LWIP_VERSION_STRING,
	       dev->name, vnif.info.mac[0], vnif.info.mac[1], vnif.info.mac[2], vnif.info.mac[3],
	       vnif.info.mac[4], vnif.info.mac[5]);
}

static struct netif *need_netif(const char *cmd)
{
	if (!net_up) {
		printf("%s: no network interface (no ready virtio-net device)\n", cmd);
		return NULL;
	}
	return vio_netif_netif(&vnif);
}

/* ------------------------------------------------------------------ */
/* ifconfig */

static void print_addr(struct netif *n)
{
	printf("  inet          %s", ip4addr_ntoa(netif_ip4_addr(n)));
	printf(" netmask %s", ip4addr_ntoa(netif_ip4_netmask(n)));
	printf(" gateway %s%s\n", ip4addr_ntoa(netif_ip4_gw(n)),
	       dhcp_supplied_address(n) ? " (dhcp)" : "");
}

static int ifconfig_show(struct netif *n)
{
	struct vio_net_stats st;
	const struct vio_netif_stats *a = &vnif.stats;
	int r = vio_net_get_stats(vnif.dev, &st);

	printf("%c%c%u: %s, link %s, mtu %u, %s\n", n->name[0], n->name[1], n->num,
	       vnif.dev->name, netif_is_link_up(n) ? "up" : "down", n->mtu,
	       vio_dev_interface(vnif.dev));
	printf("  ether         %02x:%02x:%02x:%02x:%02x:%02x\n", n->hwaddr[0], n->hwaddr[1],
	       n->hwaddr[2], n->hwaddr[3], n->hwaddr[4], n->hwaddr[5]);
	print_addr(n);
	printf("  offload       tx csum %s, rx csum %s, mergeable rx %s\n",
	       vnif.info.csum ? "on" : "off", vnif.info.guest_csum ? "on" : "off",
	       vnif.info.mrg_rxbuf ? "on" : "off");
	if (r) {
		printf("  counters      %s\n", vio_strerror(r));
		return 1;
	}
	printf("  rx            %llu frames, %llu bytes, %llu drops, %llu errors\n",
	       (unsigned long long)st.rx_frames, (unsigned long long)st.rx_bytes,
	       (unsigned long long)st.rx_drops, (unsigned long long)st.rx_errors);
	printf("  tx            %llu frames, %llu bytes, %llu busy, %llu errors\n",
	       (unsigned long long)st.tx_frames, (unsigned long long)st.tx_bytes,
	       (unsigned long long)st.tx_busy, (unsigned long long)st.tx_errors);
	printf("  adapter       rx no-pbuf %u, input errors %u, csum valid %u partial %u;"
	       " tx offloaded %u, retried %u, copied %u, dropped %u\n",
	       (unsigned)a->rx_no_pbuf, (unsigned)a->rx_input_err, (unsigned)a->rx_csum_valid,
	       (unsigned)a->rx_csum_partial, (unsigned)a->tx_csum_offload,
	       (unsigned)a->tx_busy_retry, (unsigned)a->tx_copied, (unsigned)a->tx_drops);
	return 0;
}

static int cmd_ifconfig(int argc, char **argv)
{
	struct netif *n = need_netif("ifconfig");
	ip4_addr_t ip, mask, gw;
	char addr[20], *slash, *end;
	unsigned long prefix;

	if (!n)
		return 1;
	if (argc == 1)
		return ifconfig_show(n);
	if (argc > 3 || strlen(argv[1]) >= sizeof(addr)) {
		return shell_usage("ifconfig [ADDR/PREFIX [GATEWAY]]");
	}
	strcpy(addr, argv[1]);
	slash = strchr(addr, '/');
	prefix = 24;
	if (slash) {
		*slash = '\0';
		prefix = strtoul(slash + 1, &end, 10);
		if (*end || slash[1] == '\0' || prefix > 32) {
			printf("ifconfig: bad prefix length '%s' ('help ifconfig' says more)\n",
			       slash + 1);
			return 1;
		}
	}
	if (!ip4addr_aton(addr, &ip)) {
		printf("ifconfig: bad address '%s' ('help ifconfig' says more)\n", addr);
		return 1;
	}
	ip4_addr_set_u32(&mask, prefix ? lwip_htonl(0xffffffffu << (32 - prefix)) : 0);
	ip4_addr_set_zero(&gw);
	if (argc == 3 && !ip4addr_aton(argv[2], &gw)) {
		printf("ifconfig: bad gateway '%s' ('help ifconfig' says more)\n", argv[2]);
		return 1;
	}
	/* A static address replaces a lease. */
	dhcp_release_and_stop(n);
	netif_set_addr(n, &ip, &mask, &gw);
	print_addr(n);
	return 0;
}

/* ------------------------------------------------------------------ */
/* dhcp */

static bool dhcp_bound(void *arg)
{
	return dhcp_supplied_address(arg);
}

static int cmd_dhcp(int argc, char **argv)
{
	struct netif *n = need_netif("dhcp");
	uint32_t ms = DHCP_TIMEOUT_MS;
	uint64_t t0 = board_time_ns();
	struct dhcp *d;
	err_t e;

	if (!n)
		return 1;
	if (argc > 1) {
		char *end;
		unsigned long s = strtoul(argv[1], &end, 10);

		if (*end || !s || s > 600) {
			return shell_usage("dhcp [TIMEOUT_SECONDS]");
		}
		ms = (uint32_t)s * 1000u;
	}
	if (!netif_is_link_up(n)) {
		printf("dhcp: link is down\n");
		return 1;
	}
	e = dhcp_start(n);
	if (e != ERR_OK) {
		printf("dhcp: cannot start: %s\n", lwip_strerr(e));
		return 1;
	}
	if (!run_until(dhcp_bound, n, ms)) {
		printf("dhcp: no lease after %u s (still trying in the background)\n", ms / 1000u);
		return 1;
	}
	d = netif_dhcp_data(n);
	printf("dhcp: lease %s", ip4addr_ntoa(netif_ip4_addr(n)));
	printf(" netmask %s", ip4addr_ntoa(netif_ip4_netmask(n)));
	printf(" gateway %s", ip4addr_ntoa(netif_ip4_gw(n)));
	printf(" from %s, %lu s, in %llu ms\n", ipaddr_ntoa(&d->server_ip_addr),
	       (unsigned long)d->offered_t0_lease,
	       (unsigned long long)((board_time_ns() - t0) / NS_PER_MS));
	return 0;
}

/* ------------------------------------------------------------------ */
/* ping */

struct ping {
	ip4_addr_t dst;
	uint16_t seq;
	uint64_t sent_ns;
	bool got;
	uint64_t rtt_ns;
	uint8_t ttl;
};

static u8_t ping_recv(void *arg, struct raw_pcb *pcb, struct pbuf *p, const ip_addr_t *addr)
{
	struct ping *pg = arg;
	struct icmp_echo_hdr h;
	uint16_t iphl;

	(void)pcb;
	/* A raw pcb sees the IP header first. */
	if (p->tot_len < IP_HLEN)
		return 0;
	iphl = (uint16_t)((pbuf_get_at(p, 0) & 0x0f) * 4);
	if (p->tot_len < iphl + sizeof(h) ||
	    pbuf_copy_partial(p, &h, sizeof(h), iphl) != sizeof(h))
		return 0;
	if (h.type != ICMP_ER || h.id != lwip_htons(PING_ID) || h.seqno != lwip_htons(pg->seq) ||
	    !ip4_addr_cmp(ip_2_ip4(addr), &pg->dst))
		return 0; /* not ours: lwIP goes on with it */
	pg->got = true;
	pg->rtt_ns = board_time_ns() - pg->sent_ns;
	pg->ttl = pbuf_get_at(p, 8);
	pbuf_free(p);
	return 1;
}

static bool ping_got(void *arg)
{
	return ((struct ping *)arg)->got;
}

static int ping_send(struct raw_pcb *pcb, struct ping *pg)
{
	struct pbuf *p = pbuf_alloc(PBUF_IP, sizeof(struct icmp_echo_hdr) + PING_DATA, PBUF_RAM);
	struct icmp_echo_hdr *h;
	ip_addr_t to;
	err_t e;

	if (!p)
		return ERR_MEM;
	h = p->payload;
	h->type = ICMP_ECHO;
	h->code = 0;
	h->chksum = 0;
	h->id = lwip_htons(PING_ID);
	h->seqno = lwip_htons(pg->seq);
	for (unsigned i = 0; i < PING_DATA; i++)
		((uint8_t *)(h + 1))[i] = (uint8_t)i;
	h->chksum = inet_chksum(h, (u16_t)p->len);
	ip_addr_copy_from_ip4(to, pg->dst);
	pg->got = false;
	pg->sent_ns = board_time_ns();
	e = raw_sendto(pcb, p, &to);
	pbuf_free(p);
	return e;
}

static int cmd_ping(int argc, char **argv)
{
	struct netif *n = need_netif("ping");
	unsigned long count = 4, ok = 0;
	uint64_t min = UINT64_MAX, max = 0, sum = 0;
	struct raw_pcb *pcb;
	struct ping pg;

	if (!n)
		return 1;
	memset(&pg, 0, sizeof(pg));
	if (argc < 2 || argc > 3 || !ip4addr_aton(argv[1], &pg.dst)) {
		return shell_usage("ping ADDRESS [COUNT]");
	}
	if (argc == 3) {
		char *end;

		count = strtoul(argv[2], &end, 10);
		if (*end || !count || count > 1000) {
			printf("ping: count must be 1 to 1000 ('help ping' says more)\n");
			return 1;
		}
	}
	pcb = raw_new(IP_PROTO_ICMP);
	if (!pcb) {
		printf("ping: no raw pcb\n");
		return 1;
	}
	raw_recv(pcb, ping_recv, &pg);
	printf("PING %s: %u data bytes\n", ip4addr_ntoa(&pg.dst), PING_DATA);
	for (unsigned long i = 0; i < count; i++) {
		uint64_t start = board_time_ns();
		int e;

		pg.seq = (uint16_t)(i + 1);
		e = ping_send(pcb, &pg);
		if (e != ERR_OK) {
			printf("ping: seq %u: send: %s\n", pg.seq, lwip_strerr((err_t)e));
		} else if (run_until(ping_got, &pg, 1000)) {
			ok++;
			sum += pg.rtt_ns;
			min = pg.rtt_ns < min ? pg.rtt_ns : min;
			max = pg.rtt_ns > max ? pg.rtt_ns : max;
			printf("%u bytes from %s: seq=%u ttl=%u time=%llu.%03llu ms\n",
			       (unsigned)(sizeof(struct icmp_echo_hdr) + PING_DATA),
			       ip4addr_ntoa(&pg.dst), pg.seq, pg.ttl,
			       (unsigned long long)(pg.rtt_ns / NS_PER_MS),
			       (unsigned long long)(pg.rtt_ns % NS_PER_MS / 1000u));
		} else {
			printf("seq=%u: no reply in 1 s\n", pg.seq);
		}
		fflush(stdout);
		/* One a second, as ping does; the loop keeps the network running meanwhile. */
		while (i + 1 < count && board_time_ns() - start < 1000 * NS_PER_MS)
			shell_net_idle();
	}
	raw_remove(pcb);
	printf("%lu sent, %lu received", count, ok);
	if (ok)
		printf(", rtt min/avg/max %llu/%llu/%llu us", (unsigned long long)(min / 1000u),
		       (unsigned long long)(sum / ok / 1000u), (unsigned long long)(max / 1000u));
	putchar('\n');
	return ok ? 0 : 1;
}

/* ------------------------------------------------------------------ */
/* echo: a TCP echo service in the background */

struct echo_conn {
	struct tcp_pcb *pcb;
	struct pbuf *pending; /* received, not yet written back (holds receive buffers) */
	bool closing;         /* the peer closed: close once pending is written */
	uint64_t bytes;
};

static struct echo_conn echo_conns[ECHO_CONNS];
static struct tcp_pcb *echo_listener;
static uint16_t echo_port;
static uint64_t echo_total;
static unsigned echo_accepted;

static void echo_free(struct echo_conn *c)
{
	if (c->pending)
		pbuf_free(c->pending);
	memset(c, 0, sizeof(*c));
}

static void echo_close(struct echo_conn *c)
{
	struct tcp_pcb *pcb = c->pcb;

	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
	echo_free(c);
	if (tcp_close(pcb) != ERR_OK)
		tcp_abort(pcb);
}

/*
 * Write back what the send buffer takes, a pbuf at a time; the window
 * opens (tcp_recved) only for what was written, so the peer can never
 * have more in flight than lwIP can echo.
 */
static void echo_flush(struct echo_conn *c)
{
	bool wrote = false;

	while (c->pending) {
		struct pbuf *q = c->pending;
		u16_t n = tcp_sndbuf(c->pcb);

		if (!q->len) {
			/* Nothing to write: drop the empty pbuf, keep the rest of the chain. */
			struct pbuf *next = q->next;

			if (next)
				pbuf_ref(next);
			pbuf_free(q);
			c->pending = next;
			continue;
		}
		if (!n)
			break;
		if (n > q->len)
			n = q->len;
		if (tcp_write(c->pcb, q->payload, n,
			      TCP_WRITE_FLAG_COPY | (q->next || n < q->len ? TCP_WRITE_FLAG_MORE : 0)) !=
		    ERR_OK)
			break; /* out of segments: tcp_sent calls again */
		tcp_recved(c->pcb, n);
		c->bytes += n;
		echo_total += n;
		c->pending = pbuf_free_header(q, n);
		wrote = true;
	}
	if (wrote)
		tcp_output(c->pcb);
	if (!c->pending && c->closing)
		echo_close(c);
}

static err_t echo_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct echo_conn *c = arg;

	(void)pcb;
	if (!p) {
		c->closing = true;
		echo_flush(c);
		return ERR_OK;
	}
	if (err != ERR_OK) {
		pbuf_free(p);
		return err;
	}
	if (c->pending)
		pbuf_cat(c->pending, p);
	else
		c->pending = p;
	echo_flush(c);
	return ERR_OK;
}

static err_t echo_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	(void)pcb;
	(void)len;
	echo_flush(arg);
	return ERR_OK;
}

static void echo_err(void *arg, err_t err)
{
	(void)err;
	/* The pcb is gone already. */
	if (arg)
		echo_free(arg);
}

static err_t echo_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg;
	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	for (unsigned i = 0; i < ECHO_CONNS; i++) {
		struct echo_conn *c = &echo_conns[i];

		if (c->pcb)
			continue;
		c->pcb = pcb;
		echo_accepted++;
		tcp_arg(pcb, c);
		tcp_recv(pcb, echo_recv);
		tcp_sent(pcb, echo_sent);
		tcp_err(pcb, echo_err);
		tcp_nagle_disable(pcb);
		return ERR_OK;
	}
	tcp_abort(pcb);
	return ERR_ABRT;
}

static int cmd_echo(int argc, char **argv)
{
	struct netif *n = need_netif("echo");
	unsigned long port;
	struct tcp_pcb *pcb, *l;
	char *end;
	err_t e;

	if (!n)
		return 1;
	if (argc == 1) {
		if (echo_listener)
			printf("echo: on port %u, %u connections, %llu bytes echoed\n", echo_port,
			       echo_accepted, (unsigned long long)echo_total);
		else
			printf("echo: not running\n");
		return 0;
	}
	port = strtoul(argv[1], &end, 10);
	if (argc > 2 || *end || !port || port > 65535) {
		return shell_usage("echo [PORT]");
	}
	if (echo_listener) {
		printf("echo: already on port %u\n", echo_port);
		return 1;
	}
	pcb = tcp_new();
	if (!pcb) {
		printf("echo: no pcb\n");
		return 1;
	}
	e = tcp_bind(pcb, IP_ANY_TYPE, (u16_t)port);
	if (e != ERR_OK) {
		printf("echo: port %lu: %s\n", port, lwip_strerr(e));
		tcp_close(pcb);
		return 1;
	}
	l = tcp_listen(pcb);
	if (!l) {
		printf("echo: cannot listen\n");
		tcp_close(pcb);
		return 1;
	}
	tcp_accept(l, echo_accept);
	echo_listener = l;
	echo_port = (uint16_t)port;
	printf("echo: listening on TCP port %lu\n", port);
	return 0;
}

/* ------------------------------------------------------------------ */
/* iperf: lwIP's lwiperf TCP server in the background */

static void *iperf_session;

static void iperf_report(void *arg, enum lwiperf_report_type type, const ip_addr_t *local_addr,
			 u16_t local_port, const ip_addr_t *remote_addr, u16_t remote_port,
			 u32_t bytes_transferred, u32_t ms_duration, u32_t bandwidth_kbitpsec)
{
	(void)arg;
	(void)local_addr;
	(void)local_port;
	printf("\niperf: %s:%u: %s, %lu bytes in %lu ms, %lu kbit/s\n", ipaddr_ntoa(remote_addr),
	       remote_port, type == LWIPERF_TCP_DONE_SERVER ? "done" : "aborted",
	       (unsigned long)bytes_transferred, (unsigned long)ms_duration,
	       (unsigned long)bandwidth_kbitpsec);
	fflush(stdout);
}

static int cmd_iperf(int argc, char **argv)
{
	(void)argv;
	if (!need_netif("iperf"))
		return 1;
	if (argc > 1) {
		return shell_usage("iperf");
	}
	if (iperf_session) {
		printf("iperf: server already running on port %u\n", LWIPERF_TCP_PORT_DEFAULT);
		return 0;
	}
	iperf_session = lwiperf_start_tcp_server_default(iperf_report, NULL);
	if (!iperf_session) {
		printf("iperf: cannot start the server\n");
		return 1;
	}
	printf("iperf: TCP server on port %u (iperf 2: iperf -c ADDRESS)\n",
	       LWIPERF_TCP_PORT_DEFAULT);
	return 0;
}

/* ------------------------------------------------------------------ */
/* tcpsend: send a pattern to a TCP echo service and check what comes back */

struct tcpsend {
	struct tcp_pcb *pcb;
	uint64_t total, sent, got;
	uint64_t bad_at;      /* offset of the first byte that differs, or UINT64_MAX */
	bool connected, closed, failed;
	err_t err;
};

/* Queue as much of the pattern as the send buffer takes. */
static void tcpsend_pump(struct tcpsend *t)
{
	uint8_t chunk[TCPSEND_CHUNK];
	bool wrote = false;

	while (t->pcb && t->sent < t->total) {
		u16_t n = tcp_sndbuf(t->pcb);

		if (!n)
			break;
		if (n > sizeof(chunk))
			n = sizeof(chunk);
		if (n > t->total - t->sent)
			n = (u16_t)(t->total - t->sent);
		pattern_fill(PATTERN_SEED_DEFAULT, t->sent, chunk, n);
		if (tcp_write(t->pcb, chunk, n,
			      TCP_WRITE_FLAG_COPY | (t->sent + n < t->total ? TCP_WRITE_FLAG_MORE : 0)) !=
		    ERR_OK)
			break; /* out of segments: tcp_sent calls again */
		t->sent += n;
		wrote = true;
	}
	if (wrote)
		tcp_output(t->pcb);
}

static err_t tcpsend_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct tcpsend *t = arg;

	if (!p) {
		t->closed = true;
		return ERR_OK;
	}
	if (err != ERR_OK) {
		pbuf_free(p);
		return err;
	}
	for (struct pbuf *q = p; q; q = q->next) {
		size_t i = pattern_check(PATTERN_SEED_DEFAULT, t->got, q->payload, q->len);

		if (i < q->len && t->bad_at == UINT64_MAX)
			t->bad_at = t->got + i;
		t->got += q->len;
	}
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	return ERR_OK;
}

static err_t tcpsend_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	(void)pcb;
	(void)len;
	tcpsend_pump(arg);
	return ERR_OK;
}

static void tcpsend_err(void *arg, err_t err)
{
	struct tcpsend *t = arg;

	/* The pcb is gone already. */
	t->pcb = NULL;
	t->failed = true;
	t->err = err;
}

static err_t tcpsend_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct tcpsend *t = arg;

	(void)pcb;
	if (err != ERR_OK) {
		t->failed = true;
		t->err = err;
		return err;
	}
	t->connected = true;
	tcpsend_pump(t);
	return ERR_OK;
}

static bool tcpsend_done(void *arg)
{
	struct tcpsend *t = arg;

	return t->failed || t->closed || t->got >= t->total;
}

static int cmd_tcpsend(int argc, char **argv)
{
	struct netif *n = need_netif("tcpsend");
	static struct tcpsend t;
	unsigned long port;
	unsigned long long bytes;
	uint64_t t0, ms, last_got = 0, last_sent = 0;
	ip_addr_t to;
	char *end;
	err_t e;

	if (!n)
		return 1;
	if (argc != 4 || !ipaddr_aton(argv[1], &to)) {
		return shell_usage("tcpsend ADDRESS PORT BYTES");
	}
	port = strtoul(argv[2], &end, 10);
	if (*end || !port || port > 65535) {
		printf("tcpsend: bad port '%s' ('help tcpsend' says more)\n", argv[2]);
		return 1;
	}
	bytes = strtoull(argv[3], &end, 0);
	if (*end || !bytes) {
		printf("tcpsend: bad byte count '%s' ('help tcpsend' says more)\n", argv[3]);
		return 1;
	}
	memset(&t, 0, sizeof(t));
	t.total = bytes;
	t.bad_at = UINT64_MAX;
	t.pcb = tcp_new();
	if (!t.pcb) {
		printf("tcpsend: no pcb\n");
		return 1;
	}
	tcp_arg(t.pcb, &t);
	tcp_recv(t.pcb, tcpsend_recv);
	tcp_sent(t.pcb, tcpsend_sent);
	tcp_err(t.pcb, tcpsend_err);
	tcp_nagle_disable(t.pcb);
	t0 = board_time_ns();
	e = tcp_connect(t.pcb, &to, (u16_t)port, tcpsend_connected);
	if (e != ERR_OK) {
		printf("tcpsend: connect: %s\n", lwip_strerr(e));
		tcp_abort(t.pcb);
		return 1;
	}
	/* As long as bytes keep moving; a stalled peer ends it. */
	while (!run_until(tcpsend_done, &t, TCPSEND_STALL_MS)) {
		if (t.got == last_got && t.sent == last_sent)
			break;
		last_got = t.got;
		last_sent = t.sent;
	}
	ms = (board_time_ns() - t0) / NS_PER_MS;
	if (t.pcb) {
		tcp_arg(t.pcb, NULL);
		tcp_recv(t.pcb, NULL);
		tcp_sent(t.pcb, NULL);
		tcp_err(t.pcb, NULL);
		if (tcp_close(t.pcb) != ERR_OK)
			tcp_abort(t.pcb);
		t.pcb = NULL;
	}
	if (t.failed) {
		printf("tcpsend: %s after %llu bytes sent, %llu echoed\n",
		       t.connected ? lwip_strerr(t.err) : "cannot connect",
		       (unsigned long long)t.sent, (unsigned long long)t.got);
		return 1;
	}
	if (t.got < t.total || t.bad_at != UINT64_MAX) {
		printf("tcpsend: %llu bytes sent, %llu echoed", (unsigned long long)t.sent,
		       (unsigned long long)t.got);
		if (t.bad_at != UINT64_MAX)
			printf(", first difference at byte %llu", (unsigned long long)t.bad_at);
		printf("%s\n", t.closed ? " (the peer closed)" : " (stalled)");
		return 1;
	}
	printf("tcpsend: %llu bytes echoed intact in %llu ms (%llu KiB/s)\n",
	       (unsigned long long)t.got, (unsigned long long)ms,
	       (unsigned long long)(t.got * 1000u / 1024u / (ms ? ms : 1)));
	return 0;
}

const struct shell_cmd shell_net_cmds[] = {
	{ "ifconfig", "[ADDR/PREFIX [GATEWAY]]", "show the interface, or set a static address",
	  cmd_ifconfig, NULL },
	{ "dhcp", "[TIMEOUT_S]", "get an address by DHCP and print the lease", cmd_dhcp, NULL },
	{ "ping", "ADDRESS [COUNT]", "ICMP echo requests, one a second", cmd_ping, NULL },
	{ "echo", "[PORT]", "start a TCP echo service in the background (no port: its state)",
	  cmd_echo, NULL },
	{ "iperf", "", "start lwIP's iperf 2 TCP server in the background", cmd_iperf, NULL },
	{ "tcpsend", "ADDRESS PORT BYTES",
	  "send BYTES of a pattern to a TCP echo service, check the echo", cmd_tcpsend,
	  NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

#endif
