/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-input driver (keyboards, mice, tablets, touch screens; VirtIO 1.2
 * section 5.8).
 *
 * Every input device is an instance of its own ("input0", "input1", ...),
 * told apart by its name and by its kind, which the driver works out from
 * the events the device declares (a keyboard has letter keys, a mouse
 * relative X and Y, a tablet absolute X and Y, a touch screen multi-touch
 * slots).
 *
 * At probe the driver reads the whole configuration through select/subsel
 * (5.8.5): name, serial, device ids, properties, the codes of every event
 * type (EV_BITS) and the range of every absolute axis (ABS_INFO). A size
 * beyond the field it lands in, or one that cannot hold the field, is a
 * protocol error: the device is failed.
 *
 * Events: buffers are posted ahead on the event queue and given back to
 * the device as soon as their event is copied, so the device never waits
 * on the application. Events are delivered in the device's order, a group
 * at a time (the events up to and including a SYN_REPORT), either
 *   - to the callback of struct vio_input_params (from the device's
 *     deferred work: vio_service or a blocking call on the device), or
 *   - into a queue of the driver's that vio_input_read empties.
 * When that queue has no room for a whole group, the group is dropped,
 * counted (struct vio_input_info.dropped_events / dropped_groups), and one
 * EV_SYN/SYN_DROPPED event stands in the queue where groups went missing
 * (as evdev does): what is delivered is never cut, reordered or mixed.
 *
 * Nothing the device sends is trusted: an event whose type or code the
 * device did not declare, or a buffer of the wrong length, is counted in
 * bad_events and dropped.
 *
 * Status: vio_input_set_leds sends keyboard LED states (EV_LED) on the
 * status queue; the device gives the buffers back and the driver reuses
 * them.
 *
 * Threads: every function may be called from several threads (state is
 * updated under vio_lock); one thread at a time should read a device's
 * events. None may be called from an interrupt handler or with vio_lock held.
 */
#ifndef VIO_INPUT_H
#define VIO_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device.h"

#define VIO_INPUT_STRING_MAX 128 /* longest name or serial (the union's size), without NUL */
#define VIO_INPUT_TYPES 32       /* event types 0 .. EV_MAX */
#define VIO_INPUT_CODES 1024     /* codes per type a bitmap can hold (128 bytes) */
#define VIO_INPUT_AXES 64        /* absolute axes 0 .. ABS_MAX */
#define VIO_INPUT_GROUP_MAX 64   /* most events between two SYN_REPORTs */

/* What kind of device it is, from the event types and codes it declared. */
enum vio_input_kind {
	VIO_INPUT_OTHER = 0,
	VIO_INPUT_KEYBOARD, /* EV_KEY with letter keys */
	VIO_INPUT_MOUSE,    /* EV_REL with REL_X and REL_Y */
	VIO_INPUT_TABLET,   /* EV_ABS with ABS_X and ABS_Y */
	VIO_INPUT_TOUCH,    /* EV_ABS with multi-touch slots or positions */
};

/* One event, in CPU byte order (the Linux input layer's type, code, value). */
struct vio_input_event {
	uint16_t type;  /* EV_KEY, EV_REL, EV_ABS, EV_SYN, ... */
	uint16_t code;  /* KEY_A, REL_X, ABS_X, ... */
	int32_t value;  /* 1 pressed / 0 released, a movement, a position */
};

/* An absolute axis as the device describes it (ABS_INFO). */
struct vio_input_absinfo {
	int32_t min, max, fuzz, flat, res; /* as the Linux input layer's struct input_absinfo */
};

/* LED bits for vio_input_set_leds (bit n is LED code n). */
#define VIO_INPUT_LED_NUM (1u << 0)
#define VIO_INPUT_LED_CAPS (1u << 1)
#define VIO_INPUT_LED_SCROLL (1u << 2)

/*
 * Run-time parameters, given with the driver's registration
 * (vio_driver_register(&vio_input_driver, &params)); every field 0 means
 * its default.
 */
struct vio_input_params {
	/* Buffers posted on the event queue; default CONFIG_VIO_INPUT_EVENT_BUFFERS. */
	uint16_t event_buffers;
	/* Buffers for the status queue; default and most CONFIG_VIO_INPUT_STATUS_BUFFERS. */
	uint16_t status_buffers;
	/* Timeout of a call waiting for a status buffer, ms; default CONFIG_VIO_TIMEOUT_MS. */
	uint32_t timeout_ms;
	/*
	 * Called with every complete group of events (ending with SYN_REPORT),
	 * in order; NULL: groups go into the driver's queue for vio_input_read
	 * (CONFIG_VIO_INPUT_QUEUE_SIZE events). Task context, from the device's
	 * deferred work, no lock held; it must not block. ev is valid only
	 * during the call.
	 */
	void (*events)(struct vio_device *dev, const struct vio_input_event *ev, unsigned n,
		       void *ctx);
	void *ctx; /* the events callback's last argument */
};

/* The driver, for vio_driver_register. */
extern const struct vio_driver vio_input_driver;

/* What the device said about itself and what the driver counted. */
struct vio_input_info {
	char name[VIO_INPUT_STRING_MAX + 1];   /* ID_NAME, "" when none */
	char serial[VIO_INPUT_STRING_MAX + 1]; /* ID_SERIAL, "" when none */
	bool have_ids;                         /* ID_DEVIDS given */
	uint16_t bustype, vendor, product, version; /* ID_DEVIDS, 0 when not given */
	uint32_t props;      /* PROP_BITS, the first 32 */
	uint32_t types;      /* bit t: the device declared codes of event type t */
	enum vio_input_kind kind; /* what the declared events make it */
	unsigned mt_slots;   /* multi-touch slots (ABS_MT_SLOT's max + 1), 0 for none */
	/* Counters. */
	uint64_t events;         /* events delivered (or queued for reading) */
	uint64_t groups;         /* groups delivered */
	uint64_t dropped_events; /* events lost to a full queue (the application too slow) */
	uint64_t dropped_groups; /* groups lost to a full queue or longer than GROUP_MAX */
	uint64_t bad_events;     /* events refused: undeclared type or code, bad length */
	uint64_t abs_out_of_range; /* EV_ABS values outside the axis' range (delivered) */
	uint64_t status_sent;    /* events sent on the status queue */
	uint32_t leds;           /* LED state last sent (VIO_INPUT_LED_*) */
};

/* 0 when dev is a live input device (else VIO_ENODEV or VIO_ESHUTDOWN). Any context. */
int vio_input_check(const struct vio_device *dev);

/* Copy the device's description and counters. Task context; takes vio_lock. */
int vio_input_get_info(struct vio_device *dev, struct vio_input_info *info);

/* "keyboard", "mouse", "tablet", "touch" or "other". Any context. */
const char *vio_input_kind_name(enum vio_input_kind kind);

/* Whether the device declared event type (code < 0: any code of it). Any context once probed. */
bool vio_input_has(const struct vio_device *dev, unsigned type, int code);

/*
 * Copy the code bitmap of event type (bit c of byte c / 8 is code c) into
 * bits, at most len bytes. Returns the bytes the device gave (0 when it
 * declared none; may exceed len), or VIO_EINVAL / the errors of
 * vio_input_check. Task context.
 */
int vio_input_bits(struct vio_device *dev, unsigned type, uint8_t *bits, size_t len);

/*
 * The range of absolute axis (ABS_X, ...). Returns 0, VIO_ENOTSUP (the
 * device declared no such axis or gave no range for it) or the errors of
 * vio_input_check. Task context.
 */
int vio_input_abs(struct vio_device *dev, unsigned axis, struct vio_input_absinfo *abs);

/*
 * Take up to max queued events, waiting at most timeout_ns for the first.
 * Returns the number taken (at least 1), VIO_ETIMEDOUT, VIO_ENOTSUP (the
 * parameters have an events callback: nothing is queued) or VIO_ESHUTDOWN.
 * A group may be split over two calls; nothing is lost between them.
 * Task context; takes vio_lock briefly.
 */
int vio_input_read(struct vio_device *dev, struct vio_input_event *ev, unsigned max,
		   uint64_t timeout_ns);

/* The same without waiting: VIO_EAGAIN when nothing is queued. */
int vio_input_read_nonblock(struct vio_device *dev, struct vio_input_event *ev, unsigned max);

/*
 * Set the keyboard LEDs to leds (VIO_INPUT_LED_* bits; LED codes 0..15):
 * one EV_LED event per LED the device declared whose state changes, on the
 * status queue, waiting for free status buffers at most the parameters'
 * timeout. Bits of LEDs the device did not declare are ignored. Returns
 * the number of events sent, VIO_ENOTSUP (the device has no LEDs),
 * VIO_ETIMEDOUT (the device gave no status buffer back in time: it is
 * failed and reset; vio_dev_recover brings it back) or VIO_ESHUTDOWN.
 * Task context; takes vio_lock briefly.
 * Two threads setting one device's LEDs at once may both send a change:
 * the device ends in one of the two states; serialize them to know which.
 */
int vio_input_set_leds(struct vio_device *dev, uint32_t leds);

#endif
