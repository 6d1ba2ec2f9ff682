/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The console device model (VirtIO 1.2 section 5.3) for host tests: port 0
 * and, with MULTIPORT, ports that the test plugs, names, opens, resizes and
 * unplugs while the driver runs, with the control protocol of 5.3.6.2 as
 * QEMU 7.2's virtio-serial plays it: after DEVICE_READY it adds every port
 * that exists; after a port's PORT_READY it says CONSOLE_PORT, PORT_NAME
 * (with its NUL, as QEMU sends it) and PORT_OPEN when the host has it open.
 *
 * The host side of a port is a test buffer each way: bytes the test wants
 * the guest to read (delivered into its receive buffers as they come) and
 * bytes the guest wrote (up to a capacity; a transmit chain that does not
 * fit is held, as QEMU holds it when the chardev takes no more). Like
 * QEMU, output to a port the host has closed is dropped.
 *
 * The driver is checked: receive buffers device-writable only, transmit
 * and control buffers device-readable only, control messages of 8 bytes
 * with an event a driver may send, PORT_READY / PORT_OPEN only for ports
 * that exist, nothing before DEVICE_READY.
 */
#ifndef VIO_SIM_CONSOLE_MODEL_H
#define VIO_SIM_CONSOLE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim.h"

#define SIM_CON_PORTS 31
#define SIM_CON_CTRL_QUEUE 64   /* control messages waiting for a buffer */
#define SIM_CON_CTRL_MSG 256    /* longest control message */
#define SIM_CON_QUEUE_SIZE 128  /* QueueNumMax of every queue (QEMU's for virtio-serial) */

struct sim_con_port {
	bool exists;          /* plugged on the device side */
	bool console;         /* a virtconsole: CONSOLE_PORT is sent */
	bool host_open;       /* the host side has it open */
	char name[200];       /* sent as PORT_NAME when not empty */
	/* host -> guest: the test's bytes, delivered from in_pos */
	const uint8_t *in;
	size_t in_len, in_pos;
	/* guest -> host: what the guest wrote (out_len bytes of out_cap) */
	uint8_t *out;
	size_t out_cap, out_len;
	/* observed */
	int ready;            /* the driver's last PORT_READY value, -1 none */
	int guest_open;       /* the driver's last PORT_OPEN value, -1 none */
	unsigned tx_chains;   /* transmit chains served */
	unsigned rx_chains;   /* receive chains filled */
};

struct sim_console {
	bool multiport;
	uint32_t max_nr_ports;
	struct sim_con_port port[SIM_CON_PORTS];
	/* control messages to the driver, waiting for a receive buffer */
	uint8_t ctrl[SIM_CON_CTRL_QUEUE][SIM_CON_CTRL_MSG];
	uint32_t ctrl_len[SIM_CON_CTRL_QUEUE];
	unsigned ctrl_head, ctrl_count;
	/* observed */
	bool device_ready;
	unsigned ctrl_from_driver;    /* control messages the driver sent */
	uint8_t emerg[4096];          /* characters written to emerg_wr */
	size_t emerg_len;
};

extern const struct sim_model sim_console_model;

/*
 * Make d a console driven by con (zeroed by this call): MULTIPORT with
 * max_nr_ports ports when max_nr_ports > 1 (and queues for them all),
 * otherwise port 0 alone. SIZE and EMERG_WRITE are offered too.
 */
void sim_console_attach(struct sim_dev *d, struct sim_console *con, uint32_t max_nr_ports);

/* Queue a control message to the driver, raw (any bytes) or built. */
void sim_console_ctrl_raw(struct sim_dev *d, const void *msg, uint32_t len);
void sim_console_ctrl(struct sim_dev *d, uint32_t id, uint16_t event, uint16_t value);

/* Plug a port (DEVICE_ADD once the driver is ready) and unplug it (DEVICE_REMOVE). */
void sim_console_plug(struct sim_dev *d, unsigned id, const char *name, bool console);
void sim_console_unplug(struct sim_dev *d, unsigned id);
/* The host opens or closes its side (PORT_OPEN to the driver). */
void sim_console_host_open(struct sim_dev *d, unsigned id, bool open);
/* A console's new size: a RESIZE message (multiport) or the config space and a change. */
void sim_console_resize(struct sim_dev *d, unsigned id, uint16_t cols, uint16_t rows);

/* The host writes len bytes of buf (kept by the test until delivered) to the guest. */
void sim_console_host_write(struct sim_dev *d, unsigned id, const void *buf, size_t len);
/* Where the guest's writes go: cap bytes at buf; transmit chains wait once it is full. */
void sim_console_host_sink(struct sim_dev *d, unsigned id, void *buf, size_t cap);

#endif
