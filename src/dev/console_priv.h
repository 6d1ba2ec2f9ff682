/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-console driver internals, shared by console.c (probe, queries,
 * emergency write), console_io.c (the ports' data) and console_ctrl.c (the
 * multiport control protocol).
 */
#ifndef VIO_DEV_CONSOLE_PRIV_H
#define VIO_DEV_CONSOLE_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <vio/console.h>
#include <vio/spec/virtio_console.h>

#include "vio_config.h"

#define CON_BUFS_LIMIT 64     /* receive or transmit buffers per port */
#define CON_CTRL_RX_BUFS 16   /* control messages posted ahead */
/*
 * A control receive buffer: the header and a name of up to 119 bytes with
 * its NUL, so a name longer than VIO_CONSOLE_NAME_MAX arrives whole and is
 * refused as too long; a longer one arrives cut (QEMU truncates to the
 * buffer) and is refused for its missing terminator.
 */
#define CON_CTRL_BUF 128u
#define CON_CTRL_TX_SLOTS 16  /* control messages to the device in flight */
#define CON_CTRL_PENDING 32   /* ... and waiting for a slot */

struct con;

struct con_port {
	struct con *con;
	unsigned id;
	struct vio_vq *rxq, *txq;
	uint8_t *rx_mem, *tx_mem; /* nrx / ntx buffers of buf_size bytes, DMA memory */
	unsigned nrx, ntx;

	/* Under vio_lock: */
	uint16_t rx_free[CON_BUFS_LIMIT]; /* empty receive buffers the driver holds */
	unsigned n_rx_free;
	uint16_t rx_fifo[CON_BUFS_LIMIT]; /* filled ones, oldest first */
	uint32_t rx_len[CON_BUFS_LIMIT];  /* bytes the device wrote, by buffer */
	unsigned rx_head, rx_count;
	uint32_t rx_pos;                  /* bytes of the oldest one already read */
	uint16_t tx_free[CON_BUFS_LIMIT]; /* transmit buffers not with the device */
	unsigned n_tx_free;
	unsigned tx_waiters;              /* threads in tx_wait */
	bool tx_irq;                      /* the transmit queue's interrupt is on */
	bool present;
	bool host_open;
	bool console;
	uint16_t cols, rows;
	char name[VIO_CONSOLE_NAME_MAX + 1];
	uint64_t rx_bytes, tx_bytes;
};

struct con {
	struct vio_device *dev;
	struct vio_console_params p; /* with the defaults filled in */
	uint64_t timeout_ns;
	bool legacy;
	bool multiport;
	uint32_t max_nr_ports;       /* the device's */
	unsigned nports;             /* tracked: ports [0, nports) have queues */

	struct vio_vq *crxq, *ctxq;  /* control queues (MULTIPORT) */
	uint8_t *crx_mem;            /* CON_CTRL_RX_BUFS x CON_CTRL_BUF */
	unsigned ncrx;               /* of them posted (the ring may be smaller) */
	uint8_t *ctx_mem;            /* CON_CTRL_TX_SLOTS messages */

	/* Under vio_lock: */
	uint16_t ctx_free[CON_CTRL_TX_SLOTS];
	unsigned n_ctx_free;
	struct virtio_console_control pend[CON_CTRL_PENDING]; /* wire order already */
	unsigned pend_head, pend_count;
	uint32_t bad_ctrl;
	uint32_t ctrl_msgs;
	uint32_t ctrl_dropped;       /* messages to the device lost for want of room */
	int error;                   /* a queue broke */
	struct con_port port[CONFIG_VIO_CONSOLE_MAX_PORTS]; /* as many as the build tracks */
};

/* 5.3.6.2 (legacy: the guest's byte order) */
static inline uint16_t con_wire16(const struct con *c, uint16_t v)
{
	return vio_wire16(c->legacy, v);
}

static inline uint32_t con_wire32(const struct con *c, uint32_t v)
{
	return vio_wire32(c->legacy, v);
}

/* Give the application an event, no lock held. */
void con_notify(struct con *c, unsigned port, enum vio_console_event ev);

/* console_io.c */
void con_rx_done(struct vio_device *dev, struct vio_vq *vq, void *arg);
void con_tx_done(struct vio_device *dev, struct vio_vq *vq, void *arg);
/*
 * Take the device-readable buffers vq is done with back onto free_list
 * (cookies are buffer number + 1); a broken queue sets *error. Under vio_lock.
 */
void con_reclaim(struct vio_vq *vq, uint16_t *free_list, unsigned *nfree, int *error);
/* Post every empty receive buffer of port; true when some went to the device. Under vio_lock. */
bool con_rx_post(struct con_port *cp);
/* Forget what port received and is unread (a port added anew). Under vio_lock. */
void con_rx_drop(struct con_port *cp);

/* console_ctrl.c */
void con_ctrl_rx_done(struct vio_device *dev, struct vio_vq *vq, void *arg);
void con_ctrl_tx_done(struct vio_device *dev, struct vio_vq *vq, void *arg);
/* Post the control receive buffers and say DEVICE_READY (after DRIVER_OK). */
void con_ctrl_start(struct con *c);

#endif
