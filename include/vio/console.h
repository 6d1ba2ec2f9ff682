/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-console driver (console and serial ports, VirtIO 1.2 section 5.3).
 *
 * A device has port 0 and, with VIRTIO_CONSOLE_F_MULTIPORT, up to
 * max_nr_ports ports that the device adds and removes while it runs (a
 * QEMU `virtserialport` plugged or unplugged). Ports are numbered by the
 * device; multiport ports also have a name and an open state on the host
 * side. Without MULTIPORT, port 0 is the only port and is always open.
 *
 * Data: every port has a receive and a transmit queue. Receive buffers of
 * the driver's own are posted ahead and refilled as soon as the
 * application has read them, so the device never waits on a port the
 * application keeps reading; when the application does not read, the
 * device is held back (nothing is lost). Writes are copied into the
 * driver's transmit buffers, whole buffers (4 KiB by default) per
 * descriptor, with one notification per call, never one per byte; the
 * transmit queue interrupts only while a writer waits for room.
 *
 * Events (a port added, removed, opened or closed by the host, resized,
 * data arrived) reach the application through the callback given in
 * struct vio_console_params; it runs in task context where the device's
 * deferred work runs (vio_service, or a blocking call on the same device),
 * without any lock held, and may call the non-blocking functions here.
 *
 * Everything the device says is checked: a control message too short, with
 * an unknown event, a port beyond max_nr_ports, a name without its
 * terminator or longer than the build takes, is rejected (logged, counted
 * in struct vio_console_info.bad_ctrl) and never acted upon.
 *
 * Threads: every function may be called from several threads; state is
 * updated under vio_lock, and one thread at a time should read a given
 * port (two readers of one port share its bytes in no useful order). No
 * function may be called from an interrupt handler, none with vio_lock
 * held, except vio_console_emerg_write (see there).
 */
#ifndef VIO_CONSOLE_H
#define VIO_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device.h"

#define VIO_CONSOLE_PORTS_LIMIT 31 /* ports of one device the driver can track */
#define VIO_CONSOLE_NAME_MAX 63    /* longest port name taken, without its NUL */

/* What happened to a port, for the event callback of the parameters. */
enum vio_console_event {
	VIO_CONSOLE_EV_ADDED = 1, /* the port appeared (its name, if any, may follow) */
	VIO_CONSOLE_EV_REMOVED,   /* the port went away */
	VIO_CONSOLE_EV_OPENED,    /* the host side opened the port */
	VIO_CONSOLE_EV_CLOSED,    /* the host side closed it */
	VIO_CONSOLE_EV_RESIZED,   /* new columns and rows */
	VIO_CONSOLE_EV_NAMED,     /* the port got its name */
	VIO_CONSOLE_EV_DATA,      /* bytes arrived for reading */
};

/*
 * Run-time parameters, given with the driver's registration
 * (vio_driver_register(&vio_console_driver, &params)); every field 0 means
 * its default.
 */
struct vio_console_params {
	/* Ports tracked per device; default and most CONFIG_VIO_CONSOLE_MAX_PORTS (at most VIO_CONSOLE_PORTS_LIMIT). */
	uint16_t max_ports;
	/* Receive buffers per port (the receive ring's size); default CONFIG_VIO_CONSOLE_RX_BUFFERS. */
	uint16_t rx_buffers;
	/* Transmit buffers per port (the transmit ring's size); default CONFIG_VIO_CONSOLE_TX_BUFFERS. */
	uint16_t tx_buffers;
	/* Bytes per receive or transmit buffer; default CONFIG_VIO_CONSOLE_BUF_SIZE. */
	uint32_t buf_size;
	/* Timeout of a blocking write waiting for room, ms; default CONFIG_VIO_TIMEOUT_MS. */
	uint32_t timeout_ms;
	/*
	 * Called for every event of every port (NULL: none). Task context,
	 * from the device's deferred work, no lock held; it must not block.
	 */
	void (*event)(struct vio_device *dev, unsigned port, enum vio_console_event ev, void *ctx);
	void *ctx; /* the event callback's last argument */
};

/* The driver, for vio_driver_register. */
extern const struct vio_driver vio_console_driver;

/* What the device said about itself and what the driver counted. */
struct vio_console_info {
	bool multiport;      /* VIRTIO_CONSOLE_F_MULTIPORT negotiated */
	bool size;           /* VIRTIO_CONSOLE_F_SIZE negotiated */
	bool emerg_write;    /* VIRTIO_CONSOLE_F_EMERG_WRITE negotiated */
	uint32_t max_nr_ports; /* the device's (1 without MULTIPORT) */
	uint16_t ports;      /* ports the driver tracks (the lower of the above and max_ports) */
	uint32_t bad_ctrl;   /* control messages rejected */
	uint32_t ctrl_msgs;  /* control messages received */
};

/* One port's state. */
struct vio_console_port_info {
	bool present;        /* the device added it (port 0 is always present) */
	bool host_open;      /* the host side has it open */
	bool console;        /* the device said it is a console (CONSOLE_PORT) */
	uint16_t cols, rows; /* size, 0 when unknown */
	char name[VIO_CONSOLE_NAME_MAX + 1]; /* "" when it has none */
	uint64_t rx_bytes, tx_bytes; /* bytes received and sent since probe */
};

/* 0 when dev is a live console device (else VIO_ENODEV or VIO_ESHUTDOWN). Any context. */
int vio_console_check(const struct vio_device *dev);

/* Copy the device's information. Task context; takes vio_lock. */
int vio_console_get_info(struct vio_device *dev, struct vio_console_info *info);

/*
 * Copy port's state. Returns 0, VIO_ERANGE (beyond the ports tracked) or
 * the errors of vio_console_check. A port that is not present is reported
 * too (present false). Task context; takes vio_lock.
 */
int vio_console_port_info(struct vio_device *dev, unsigned port,
			  struct vio_console_port_info *info);

/*
 * The number of the present port named name, or VIO_ENODEV. Task
 * context; takes vio_lock.
 */
int vio_console_find(struct vio_device *dev, const char *name);

/*
 * Write len bytes to port, waiting for room in the transmit ring while it
 * is full, at most the parameters' timeout. Returns the bytes queued (len,
 * or fewer when the timeout came first) or, when none was queued:
 *   VIO_ENOTCONN  the host side has the port closed (its bytes would be dropped);
 *   VIO_ENODEV    the port is not present;
 *   VIO_ERANGE    no such port number;
 *   VIO_ETIMEDOUT no room within the timeout;
 *   VIO_ESHUTDOWN the device failed.
 * Task context, any thread; takes vio_lock briefly.
 */
int vio_console_write(struct vio_device *dev, unsigned port, const void *buf, size_t len);

/*
 * The same without waiting: queues what fits now and returns how many bytes
 * it took, VIO_EAGAIN when the ring is full, or an error as above.
 */
int vio_console_write_nonblock(struct vio_device *dev, unsigned port, const void *buf,
			       size_t len);

/*
 * Wait until the device has taken every byte written to port (all transmit
 * buffers are back), at most timeout_ns: before a program exits or resets
 * the device, so nothing written is lost. Returns 0, VIO_ETIMEDOUT, or an
 * error as for the writes when the port went away or the device failed
 * (the bytes then are lost either way). Task context; takes vio_lock briefly.
 */
int vio_console_drain(struct vio_device *dev, unsigned port, uint64_t timeout_ns);

/*
 * Read up to len bytes that arrived on port, waiting at most timeout_ns for
 * the first one. Returns the bytes read (at least 1), VIO_ETIMEDOUT, or an
 * error as for the writes (a closed port may still hold bytes to read).
 * Task context; takes vio_lock briefly.
 */
int vio_console_read(struct vio_device *dev, unsigned port, void *buf, size_t len,
		     uint64_t timeout_ns);

/* The same without waiting: VIO_EAGAIN when nothing is there. */
int vio_console_read_nonblock(struct vio_device *dev, unsigned port, void *buf, size_t len);

/*
 * Emergency write (VIRTIO_CONSOLE_F_EMERG_WRITE, 5.3.4): hand len bytes to
 * the device one by one through the configuration space, bypassing the
 * queues, for a crash report when the queues may be broken. Returns len,
 * VIO_ENOTSUP (not negotiated) or VIO_ENODEV. Any context, even a fault
 * handler with interrupts masked: it touches no ring, takes no lock and
 * only writes configuration space; works on a failed device too, as long
 * as it had negotiated the feature.
 */
int vio_console_emerg_write(struct vio_device *dev, const void *buf, size_t len);

#endif
