/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bare-metal port: vio's port contract implemented on the board API
 * (boards/common/board.h) with no operating system. DMA memory comes from a
 * first-fit pool over the board's free RAM; locks mask interrupts; waiting
 * sleeps in wait-for-interrupt with a timer armed for the deadline.
 */
#ifndef VIO_BAREMETAL_H
#define VIO_BAREMETAL_H

#include <stddef.h>
#include <vio/port.h>

/* Set up the DMA pool from board_dma_region(). Call once after board_init. */
void vio_baremetal_init(void);

const struct vio_port *vio_baremetal_port(void);
const struct vio_os *vio_baremetal_os(void);

/* Bytes of the DMA pool in use and in all, for the shell and benchmarks. */
void vio_baremetal_pool_stats(size_t *used, size_t *total);

#endif
