/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A TCP source for the net benchmark's guest → host workload (tcp-tx): a
 * listener that, for every connection, sends zeros as fast as lwIP takes
 * them until the peer closes. The host connects through user-mode net's
 * 127.0.0.1 forward and measures what arrives; the guest never opens a
 * connection, which restrict=on would not let through.
 */
#ifndef VIO_BENCH_TCP_SOURCE_H
#define VIO_BENCH_TCP_SOURCE_H

#include <stdint.h>

/* Listen on port of every lwIP netif; 0, or a VIO_E* code. */
int tcp_source_start(uint16_t port);

/* Bytes the peers acknowledged, over all connections so far. */
uint64_t tcp_source_acked(void);

#endif
