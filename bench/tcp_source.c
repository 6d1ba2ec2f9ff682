/* SPDX-License-Identifier: Apache-2.0 */
#include "tcp_source.h"

#include <stddef.h>

#include <vio/error.h>

#include "lwip/tcp.h"

/*
 * What every connection sends: the same zeros, queued without a copy
 * (tcp_write without TCP_WRITE_FLAG_COPY keeps a reference, which is
 * safe for data that never changes).
 */
static const uint8_t zeros[TCP_MSS * 4];
static uint64_t acked;

/* Queue as much as the send buffer and lwIP's segment pool take, then send it. */
static void pump(struct tcp_pcb *pcb)
{
	for (;;) {
		u16_t n = tcp_sndbuf(pcb);

		if (n > sizeof(zeros))
			n = sizeof(zeros);
		if (n == 0 || tcp_write(pcb, zeros, n, TCP_WRITE_FLAG_MORE) != ERR_OK)
			break; /* full: the sent callback comes back */
	}
	(void)tcp_output(pcb);
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	(void)arg;
	acked += len;
	pump(pcb);
	return ERR_OK;
}

/* Whatever the peer sends is dropped; its FIN ends the connection. */
static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	(void)arg;
	(void)err;
	if (!p) {
		tcp_sent(pcb, NULL);
		tcp_recv(pcb, NULL);
		if (tcp_close(pcb) != ERR_OK) {
			tcp_abort(pcb);
			return ERR_ABRT;
		}
		return ERR_OK;
	}
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	return ERR_OK;
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg;
	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	tcp_sent(pcb, on_sent);
	tcp_recv(pcb, on_recv);
	pump(pcb);
	return ERR_OK;
}

int tcp_source_start(uint16_t port)
{
	struct tcp_pcb *pcb = tcp_new();
	struct tcp_pcb *lpcb;

	if (!pcb)
		return VIO_ENOMEM;
	if (tcp_bind(pcb, IP_ADDR_ANY, port) != ERR_OK) {
		tcp_abort(pcb);
		return VIO_EBUSY;
	}
	lpcb = tcp_listen(pcb);
	if (!lpcb) {
		tcp_abort(pcb);
		return VIO_ENOMEM;
	}
	tcp_accept(lpcb, on_accept);
	return 0;
}

uint64_t tcp_source_acked(void)
{
	return acked;
}
