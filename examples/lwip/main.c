/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lwIP brought up on vio's virtio-net driver: ask for an address by DHCP,
 * serve TCP echo on port 7 for one connection, then exit QEMU.
 *
 *   IP <address>       once DHCP has given one
 *   ECHO READY         listening on port 7
 *   ECHO DONE <bytes>  the client closed; everything it sent went back
 *
 * lwIP runs in NO_SYS mode: the main loop calls vio_lwip_poll() and sleeps
 * in vio_service_wait() until the next lwIP timer or a device interrupt.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <vio/device.h>
#include <vio/error.h>
#include <vio/mmio.h>
#include <vio/net.h>
#include <vio/spec/virtio_config.h>

#include "board.h"
#include "vio_baremetal.h"
#include "vio_netif.h"

#include "lwip/dhcp.h"
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/tcp.h"

#define NS_PER_MS 1000000ull
#define ECHO_PORT 7
#define DHCP_TIMEOUT_MS 20000u
#define LINGER_MS 500u /* after the close: let the last segments and the FIN go */

static struct vio_netif vnif;
static uint64_t echoed;
static bool closed;

/* lwIP's millisecond clock. */
u32_t sys_now(void)
{
	return (u32_t)(board_time_ns() / NS_PER_MS);
}

void vio_lwip_assert(const char *msg, int line, const char *file)
{
	printf("FAIL lwIP assertion \"%s\" at %s:%d\n", msg, file, line);
	fflush(stdout);
	board_exit(1);
}

static void run_for_a_while(void)
{
	vio_lwip_poll();
	(void)vio_service_wait(vio_lwip_next_timeout_ns());
}

/*
 * Echo what arrived, all of it or nothing: a chain the send buffer cannot
 * take yet is refused (ERR_MEM), and lwIP offers it again later.
 */
static err_t echo_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	(void)arg;
	if (!p) {
		tcp_arg(pcb, NULL);
		tcp_recv(pcb, NULL);
		closed = true;
		if (tcp_close(pcb) != ERR_OK) {
			tcp_abort(pcb);
			return ERR_ABRT;
		}
		return ERR_OK;
	}
	if (err != ERR_OK) {
		pbuf_free(p);
		return err;
	}
	if (tcp_sndbuf(pcb) < p->tot_len)
		return ERR_MEM;
	for (struct pbuf *q = p; q; q = q->next) {
		if (tcp_write(pcb, q->payload, q->len, TCP_WRITE_FLAG_COPY) != ERR_OK) {
			/* Part of the chain is queued: refusing it would echo that part twice. */
			printf("FAIL echo: out of send segments\n");
			pbuf_free(p);
			tcp_abort(pcb);
			closed = true;
			return ERR_ABRT;
		}
	}
	tcp_output(pcb);
	tcp_recved(pcb, p->tot_len);
	echoed += p->tot_len;
	pbuf_free(p);
	return ERR_OK;
}

static err_t echo_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg;
	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	tcp_recv(pcb, echo_recv);
	return ERR_OK;
}

static int start_vio(void)
{
	const struct board_info *b = board_info();
	int err;

	vio_baremetal_init();
	err = vio_init(vio_baremetal_port(), vio_baremetal_os());
	if (!err)
		err = vio_driver_register(&vio_net_driver, NULL);
	if (err)
		return err;
	for (unsigned i = 0; i < b->nvirtio; i++)
		(void)vio_mmio_add(b->virtio[i].base, b->virtio[i].irq, b->virtio[i].slot, NULL);
	return 0;
}

int main(void)
{
	struct vio_device *dev;
	struct netif *nif;
	struct tcp_pcb *listener;
	uint64_t end;
	int err;

	err = start_vio();
	if (err) {
		printf("FAIL vio start: %s\n", vio_strerror(err));
		board_exit(1);
	}
	dev = vio_dev_find(VIRTIO_ID_NET, 0);
	if (!dev || dev->state != VIO_DEV_READY) {
		printf("FAIL no ready network device\n");
		board_exit(1);
	}

	lwip_init();
	err = vio_netif_add(&vnif, dev, "vio-example");
	if (err) {
		printf("FAIL netif: %s\n", vio_strerror(err));
		board_exit(1);
	}
	vio_lwip_seed(board_time_ns());
	nif = vio_netif_netif(&vnif);
	netif_set_default(nif);

	if (dhcp_start(nif) != ERR_OK) {
		printf("FAIL dhcp_start\n");
		board_exit(1);
	}
	end = board_time_ns() + DHCP_TIMEOUT_MS * NS_PER_MS;
	while (!dhcp_supplied_address(nif)) {
		if (board_time_ns() >= end) {
			printf("FAIL no DHCP lease\n");
			board_exit(1);
		}
		run_for_a_while();
	}
	printf("IP %s\n", ip4addr_ntoa(netif_ip4_addr(nif)));

	listener = tcp_new();
	if (!listener || tcp_bind(listener, IP_ADDR_ANY, ECHO_PORT) != ERR_OK ||
	    !(listener = tcp_listen(listener))) {
		printf("FAIL cannot listen on port %d\n", ECHO_PORT);
		board_exit(1);
	}
	tcp_accept(listener, echo_accept);
	printf("ECHO READY\n");

	while (!closed)
		run_for_a_while();
	end = board_time_ns() + LINGER_MS * NS_PER_MS;
	while (board_time_ns() < end)
		run_for_a_while();
	printf("ECHO DONE %llu\n", (unsigned long long)echoed);
	fflush(stdout);
	board_exit(0);
}
