/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-input wire format (VirtIO 1.2 section 5.8) and the subset of the
 * Linux evdev codes it carries (5.8.6: "event type, code and value as in
 * the Linux input layer").
 *
 * Multi-byte fields are little-endian on a modern device and in the guest's
 * byte order on a legacy one; the driver converts them where it reads or
 * writes them (configuration space through the core's accessors).
 */
#ifndef VIO_SPEC_VIRTIO_INPUT_H
#define VIO_SPEC_VIRTIO_INPUT_H

#include <stdint.h>

#include "virtio_types.h"

/* 5.8.2: queues */
#define VIRTIO_INPUT_EVENTQ 0u
#define VIRTIO_INPUT_STATUSQ 1u

/* 5.8.5: what the driver writes to select */
enum virtio_input_config_select {
	VIRTIO_INPUT_CFG_UNSET = 0x00,
	VIRTIO_INPUT_CFG_ID_NAME = 0x01,
	VIRTIO_INPUT_CFG_ID_SERIAL = 0x02,
	VIRTIO_INPUT_CFG_ID_DEVIDS = 0x03,
	VIRTIO_INPUT_CFG_PROP_BITS = 0x10,
	VIRTIO_INPUT_CFG_EV_BITS = 0x11,
	VIRTIO_INPUT_CFG_ABS_INFO = 0x12,
};

struct virtio_input_absinfo {
	vio_le32 min;
	vio_le32 max;
	vio_le32 fuzz;
	vio_le32 flat;
	vio_le32 res;
};

struct virtio_input_devids {
	vio_le16 bustype;
	vio_le16 vendor;
	vio_le16 product;
	vio_le16 version;
};

/* 5.8.5: device configuration layout */
struct virtio_input_config {
	uint8_t select;
	uint8_t subsel;
	uint8_t size;
	uint8_t reserved[5];
	union {
		char string[128];
		uint8_t bitmap[128];
		struct virtio_input_absinfo abs;
		struct virtio_input_devids ids;
	} u;
};

#define VIRTIO_INPUT_CFG_SELECT 0
#define VIRTIO_INPUT_CFG_SUBSEL 1
#define VIRTIO_INPUT_CFG_SIZE 2
#define VIRTIO_INPUT_CFG_U 8
#define VIRTIO_INPUT_CFG_U_MAX 128 /* bytes of the union */

/* 5.8.6: one event, on the event queue (device to driver) and the status queue */
struct virtio_input_event {
	vio_le16 type;
	vio_le16 code;
	vio_le32 value;
};

/* Event types (Linux input-event-codes.h). */
#define EV_SYN 0x00
#define EV_KEY 0x01
#define EV_REL 0x02
#define EV_ABS 0x03
#define EV_MSC 0x04
#define EV_SW 0x05
#define EV_LED 0x11
#define EV_SND 0x12
#define EV_REP 0x14
#define EV_FF 0x15
#define EV_PWR 0x16
#define EV_FF_STATUS 0x17
#define EV_MAX 0x1f

#define SYN_REPORT 0
#define SYN_CONFIG 1
#define SYN_MT_REPORT 2
#define SYN_DROPPED 3

#define REL_X 0x00
#define REL_Y 0x01
#define REL_HWHEEL 0x06
#define REL_WHEEL 0x08

#define ABS_X 0x00
#define ABS_Y 0x01
#define ABS_MT_SLOT 0x2f
#define ABS_MT_POSITION_X 0x35
#define ABS_MT_POSITION_Y 0x36
#define ABS_MT_TRACKING_ID 0x39
#define ABS_MAX 0x3f

#define KEY_ESC 1
#define KEY_A 30
#define KEY_Z 44
#define KEY_CAPSLOCK 58
#define KEY_NUMLOCK 69
#define KEY_SCROLLLOCK 70
#define BTN_MOUSE 0x110
#define BTN_LEFT 0x110
#define BTN_RIGHT 0x111
#define BTN_MIDDLE 0x112
#define BTN_TOUCH 0x14a
#define KEY_MAX 0x2ff

#define LED_NUML 0x00
#define LED_CAPSL 0x01
#define LED_SCROLLL 0x02
#define LED_MAX 0x0f

/* PROP_BITS */
#define INPUT_PROP_POINTER 0x00
#define INPUT_PROP_DIRECT 0x01

#endif
