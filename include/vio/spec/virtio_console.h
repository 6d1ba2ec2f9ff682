/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-console wire format (VirtIO 1.2 section 5.3).
 *
 * Multi-byte fields are little-endian on a modern device and in the guest's
 * byte order on a legacy one; the driver converts them where it reads or
 * writes them.
 */
#ifndef VIO_SPEC_VIRTIO_CONSOLE_H
#define VIO_SPEC_VIRTIO_CONSOLE_H

#include <stdint.h>

#include "virtio_types.h"

/* 5.3.3: feature bits */
#define VIRTIO_CONSOLE_F_SIZE 0        /* cols and rows are valid */
#define VIRTIO_CONSOLE_F_MULTIPORT 1   /* max_nr_ports and the control queues */
#define VIRTIO_CONSOLE_F_EMERG_WRITE 2 /* emerg_wr writes one character */

/* 5.3.4: device configuration layout */
struct virtio_console_config {
	vio_le16 cols;
	vio_le16 rows;
	vio_le32 max_nr_ports;
	vio_le32 emerg_wr;
};

#define VIRTIO_CONSOLE_CFG_COLS 0
#define VIRTIO_CONSOLE_CFG_ROWS 2
#define VIRTIO_CONSOLE_CFG_MAX_NR_PORTS 4
#define VIRTIO_CONSOLE_CFG_EMERG_WR 8

/*
 * 5.3.2: queue numbers. Port 0 has queues 0 and 1, the control queues are
 * 2 and 3 (MULTIPORT only), port n >= 1 has 2n + 2 and 2n + 3.
 */
#define VIRTIO_CONSOLE_CTRL_RX 2u
#define VIRTIO_CONSOLE_CTRL_TX 3u

static inline unsigned virtio_console_rxq(unsigned port)
{
	return port == 0 ? 0u : 2u * port + 2u;
}

static inline unsigned virtio_console_txq(unsigned port)
{
	return port == 0 ? 1u : 2u * port + 3u;
}

/* 5.3.6.2: a control message; PORT_NAME and RESIZE carry more bytes after it */
struct virtio_console_control {
	vio_le32 id;    /* port number */
	vio_le16 event; /* VIRTIO_CONSOLE_* below */
	vio_le16 value;
};

#define VIRTIO_CONSOLE_DEVICE_READY 0  /* driver: ready (value 1) or not (0) */
#define VIRTIO_CONSOLE_DEVICE_ADD 1    /* device: port id was added */
#define VIRTIO_CONSOLE_DEVICE_REMOVE 2 /* device: port id was removed */
#define VIRTIO_CONSOLE_PORT_READY 3    /* driver: port id is ready (1) or failed (0) */
#define VIRTIO_CONSOLE_CONSOLE_PORT 4  /* device: port id is a console */
#define VIRTIO_CONSOLE_RESIZE 5        /* device: a console's size, struct after the header */
#define VIRTIO_CONSOLE_PORT_OPEN 6     /* both: the sender opened (1) or closed (0) port id */
#define VIRTIO_CONSOLE_PORT_NAME 7     /* device: port id's name follows the header */

/* 5.3.6.2: what follows a RESIZE message */
struct virtio_console_resize {
	vio_le16 cols;
	vio_le16 rows;
};

#endif
