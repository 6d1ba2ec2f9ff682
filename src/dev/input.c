/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-input driver (VirtIO 1.2 section 5.8): probe, the configuration
 * read through select/subsel, the kind of device, and the queries. The
 * event and status queues are input_ev.c.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <vio/error.h>
#include <vio/input.h>
#include <vio/spec/virtio_config.h>

#include "core/log.h"
#include "input_priv.h"
#include "params.h"

int vio_input_check(const struct vio_device *dev)
{
	if (!dev || dev->driver != &vio_input_driver)
		return VIO_ENODEV;
	if (vio_dev_state(dev) != VIO_DEV_READY)
		return vio_dev_state(dev) == VIO_DEV_FAILED ? VIO_ESHUTDOWN : VIO_ENODEV;
	return 0;
}

const char *vio_input_kind_name(enum vio_input_kind kind)
{
	switch (kind) {
	case VIO_INPUT_KEYBOARD:
		return "keyboard";
	case VIO_INPUT_MOUSE:
		return "mouse";
	case VIO_INPUT_TABLET:
		return "tablet";
	case VIO_INPUT_TOUCH:
		return "touch";
	default:
		return "other";
	}
}

static bool bit(const uint8_t *map, unsigned n)
{
	return (map[n / 8] >> (n % 8)) & 1u;
}

bool vio_input_has(const struct vio_device *dev, unsigned type, int code)
{
	const struct input *in;

	if (vio_input_check(dev) || type >= VIO_INPUT_TYPES)
		return false;
	in = dev->priv;
	if (code < 0)
		return in->bits_size[type] != 0;
	return code < VIO_INPUT_CODES && bit(in->bits[type], (unsigned)code);
}

int vio_input_get_info(struct vio_device *dev, struct vio_input_info *info)
{
	struct input *in;
	uintptr_t s;
	int rc = vio_input_check(dev);

	if (rc)
		return rc;
	if (!info)
		return VIO_EINVAL;
	in = dev->priv;
	*info = in->info;
	s = vio_lock();
	info->events = in->events;
	info->groups = in->groups;
	info->dropped_events = in->dropped_events;
	info->dropped_groups = in->dropped_groups;
	info->bad_events = in->bad_events;
	info->abs_out_of_range = in->abs_out_of_range;
	info->status_sent = in->status_sent;
	info->leds = in->leds;
	vio_unlock(s);
	return 0;
}

int vio_input_bits(struct vio_device *dev, unsigned type, uint8_t *bits, size_t len)
{
	struct input *in;
	int rc = vio_input_check(dev);

	if (rc)
		return rc;
	if (type >= VIO_INPUT_TYPES || (!bits && len))
		return VIO_EINVAL;
	in = dev->priv;
	if (len > sizeof(in->bits[type]))
		len = sizeof(in->bits[type]);
	if (len)
		memcpy(bits, in->bits[type], len);
	return in->bits_size[type];
}

int vio_input_abs(struct vio_device *dev, unsigned axis, struct vio_input_absinfo *abs)
{
	struct input *in;
	int rc = vio_input_check(dev);

	if (rc)
		return rc;
	if (!abs)
		return VIO_EINVAL;
	in = dev->priv;
	if (axis >= VIO_INPUT_AXES || !((in->have_abs >> axis) & 1u))
		return VIO_ENOTSUP;
	*abs = in->abs[axis];
	return 0;
}

/*
 * 5.8.5: select a field, then read its size. The size must fit the union
 * (128 bytes); what a size means for each field is checked by the caller.
 */
static int cfg_select(struct input *in, uint8_t select, uint8_t subsel, unsigned *size)
{
	struct vio_device *dev = in->dev;
	uint64_t v;
	int rc;

	rc = vio_dev_config_write(dev, VIRTIO_INPUT_CFG_SELECT, 1, select);
	if (!rc)
		rc = vio_dev_config_write(dev, VIRTIO_INPUT_CFG_SUBSEL, 1, subsel);
	if (!rc)
		rc = vio_dev_config_read(dev, VIRTIO_INPUT_CFG_SIZE, 1, &v);
	if (rc)
		return rc;
	if (v > VIRTIO_INPUT_CFG_U_MAX) {
		vio_err("%s: config %#x/%#x: size %u beyond the %u-byte field", dev->name, select,
			subsel, (unsigned)v, VIRTIO_INPUT_CFG_U_MAX);
		return VIO_EPROTO;
	}
	*size = (unsigned)v;
	return 0;
}

/* Copy n bytes of the selected field, byte by byte (it is an array of bytes). */
static int cfg_bytes(struct input *in, uint8_t *dst, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t v;
		int rc = vio_dev_config_read(in->dev, VIRTIO_INPUT_CFG_U + i, 1, &v);

		if (rc)
			return rc;
		dst[i] = (uint8_t)v;
	}
	return 0;
}

/* ID_NAME or ID_SERIAL: up to 128 bytes, with or without a NUL. */
static int cfg_string(struct input *in, uint8_t select, char *dst)
{
	unsigned size;
	int rc = cfg_select(in, select, 0, &size);

	if (!rc)
		rc = cfg_bytes(in, (uint8_t *)dst, size);
	if (rc)
		return rc;
	dst[size] = '\0';
	return 0;
}

static int cfg_devids(struct input *in)
{
	struct vio_input_info *info = &in->info;
	uint64_t v[4];
	unsigned size;
	int rc = cfg_select(in, VIRTIO_INPUT_CFG_ID_DEVIDS, 0, &size);

	if (rc || size == 0)
		return rc;
	if (size != sizeof(struct virtio_input_devids)) {
		vio_err("%s: ID_DEVIDS of %u bytes, want %u", in->dev->name, size,
			(unsigned)sizeof(struct virtio_input_devids));
		return VIO_EPROTO;
	}
	for (unsigned i = 0; i < 4; i++) {
		rc = vio_dev_config_read(in->dev, VIRTIO_INPUT_CFG_U + 2 * i, 2, &v[i]);
		if (rc)
			return rc;
	}
	info->have_ids = true;
	info->bustype = (uint16_t)v[0];
	info->vendor = (uint16_t)v[1];
	info->product = (uint16_t)v[2];
	info->version = (uint16_t)v[3];
	return 0;
}

static int cfg_props(struct input *in)
{
	uint8_t props[VIRTIO_INPUT_CFG_U_MAX];
	unsigned size;
	int rc = cfg_select(in, VIRTIO_INPUT_CFG_PROP_BITS, 0, &size);

	if (!rc)
		rc = cfg_bytes(in, props, size);
	if (rc)
		return rc;
	for (unsigned i = 0; i < size && i < 4; i++)
		in->info.props |= (uint32_t)props[i] << (8 * i);
	return 0;
}

/* EV_BITS for every event type: which codes the device sends (or takes, for EV_LED). */
static int cfg_ev_bits(struct input *in)
{
	for (unsigned type = 1; type < VIO_INPUT_TYPES; type++) {
		unsigned size;
		int rc = cfg_select(in, VIRTIO_INPUT_CFG_EV_BITS, (uint8_t)type, &size);

		if (!rc)
			rc = cfg_bytes(in, in->bits[type], size);
		if (rc)
			return rc;
		in->bits_size[type] = (uint8_t)size;
		if (size)
			in->info.types |= 1u << type;
	}
	/* EV_SYN needs no declaration: SYN_REPORT ends every group (5.8.6.1). */
	in->bits[EV_SYN][0] = 1u << SYN_REPORT;
	in->bits_size[EV_SYN] = 1;
	in->info.types |= 1u << EV_SYN;
	return 0;
}

/* ABS_INFO for every absolute axis the device declared. */
static int cfg_abs(struct input *in)
{
	struct vio_device *dev = in->dev;

	if (!in->bits_size[EV_ABS])
		return 0;
	for (unsigned axis = 0; axis < VIO_INPUT_AXES; axis++) {
		int32_t *f = &in->abs[axis].min;
		unsigned size;
		int rc;

		if (!bit(in->bits[EV_ABS], axis))
			continue;
		rc = cfg_select(in, VIRTIO_INPUT_CFG_ABS_INFO, (uint8_t)axis, &size);
		if (rc)
			return rc;
		if (size == 0) {
			/* Declared, but no range: events of it are still taken. */
			vio_warn("%s: axis %u has no ABS_INFO", dev->name, axis);
			continue;
		}
		if (size != sizeof(struct virtio_input_absinfo)) {
			vio_err("%s: ABS_INFO %u of %u bytes, want %u", dev->name, axis, size,
				(unsigned)sizeof(struct virtio_input_absinfo));
			return VIO_EPROTO;
		}
		/* min, max, fuzz, flat, res: five 32-bit fields in a row. */
		for (unsigned i = 0; i < 5; i++) {
			uint64_t v;

			rc = vio_dev_config_read(dev, VIRTIO_INPUT_CFG_U + 4 * i, 4, &v);
			if (rc)
				return rc;
			f[i] = (int32_t)(uint32_t)v;
		}
		if (in->abs[axis].min > in->abs[axis].max) {
			vio_err("%s: axis %u: min %ld above max %ld", dev->name, axis,
				(long)in->abs[axis].min, (long)in->abs[axis].max);
			return VIO_EPROTO;
		}
		in->have_abs |= 1ull << axis;
	}
	return 0;
}

/* What a device is, from what it declared, the most specific first. */
static enum vio_input_kind kind_of(const struct input *in)
{
	const uint8_t *abs = in->bits[EV_ABS], *rel = in->bits[EV_REL], *key = in->bits[EV_KEY];

	if (bit(abs, ABS_MT_SLOT) || bit(abs, ABS_MT_POSITION_X))
		return VIO_INPUT_TOUCH;
	if (bit(abs, ABS_X) && bit(abs, ABS_Y))
		return VIO_INPUT_TABLET;
	if (bit(rel, REL_X) && bit(rel, REL_Y))
		return VIO_INPUT_MOUSE;
	if (bit(key, KEY_A) && bit(key, KEY_Z))
		return VIO_INPUT_KEYBOARD;
	return VIO_INPUT_OTHER;
}

static int read_config(struct input *in)
{
	struct vio_input_info *info = &in->info;
	int rc;

	rc = cfg_string(in, VIRTIO_INPUT_CFG_ID_NAME, info->name);
	if (!rc)
		rc = cfg_string(in, VIRTIO_INPUT_CFG_ID_SERIAL, info->serial);
	if (!rc)
		rc = cfg_devids(in);
	if (!rc)
		rc = cfg_props(in);
	if (!rc)
		rc = cfg_ev_bits(in);
	if (!rc)
		rc = cfg_abs(in);
	/* Leave the selector cleared: nothing more to show (5.8.5). */
	if (!rc)
		rc = vio_dev_config_write(in->dev, VIRTIO_INPUT_CFG_SELECT, 1,
					  VIRTIO_INPUT_CFG_UNSET);
	if (rc)
		return rc;
	info->kind = kind_of(in);
	/* A touch screen of the older protocol ends each contact with SYN_MT_REPORT. */
	if (info->kind == VIO_INPUT_TOUCH)
		in->bits[EV_SYN][0] |= 1u << SYN_MT_REPORT;
	if (info->kind == VIO_INPUT_TOUCH && ((in->have_abs >> ABS_MT_SLOT) & 1u) &&
	    in->abs[ABS_MT_SLOT].min == 0 && in->abs[ABS_MT_SLOT].max >= 0 &&
	    in->abs[ABS_MT_SLOT].max < 1024)
		info->mt_slots = (unsigned)in->abs[ABS_MT_SLOT].max + 1;
	return 0;
}

static struct vio_input_params params_of(const struct vio_device *dev)
{
	struct vio_input_params p = { 0 };

	if (dev->params)
		p = *(const struct vio_input_params *)dev->params;
	p.event_buffers = (uint16_t)param_or(p.event_buffers, CONFIG_VIO_INPUT_EVENT_BUFFERS,
					     INPUT_BUFS_LIMIT);
	p.status_buffers = (uint16_t)param_or(p.status_buffers, CONFIG_VIO_INPUT_STATUS_BUFFERS,
					      INPUT_STATUS_LIMIT);
	p.timeout_ms = param_or(p.timeout_ms, CONFIG_VIO_TIMEOUT_MS, UINT32_MAX);
	return p;
}

static int input_probe(struct vio_device *dev)
{
	const struct vio_port *port = vio_port();
	struct input *in = dev->priv;
	struct vio_vq_opts ev, st;
	int rc;

	in->dev = dev;
	in->p = params_of(dev);
	in->timeout_ns = (uint64_t)in->p.timeout_ms * 1000000u;
	in->legacy = dev->t.legacy;
	rc = read_config(in);
	if (rc)
		return rc;
	ev = (struct vio_vq_opts){ .max_size = in->p.event_buffers, .handler = input_ev_done,
				   .arg = in };
	/*
	 * QEMU (up to 7.2 at least) completes a status buffer with the length
	 * it read, in a buffer the device may only read; nothing is taken
	 * from that length, so it is clamped rather than a protocol error.
	 */
	st = (struct vio_vq_opts){ .max_size = in->p.status_buffers, .clamp_used_len = true,
				   .handler = input_st_done, .arg = in };
	rc = vio_dev_vq_setup(dev, VIRTIO_INPUT_EVENTQ, &ev, &in->evq);
	if (!rc)
		rc = vio_dev_vq_setup(dev, VIRTIO_INPUT_STATUSQ, &st, &in->stq);
	if (rc)
		return rc;
	/* One buffer per ring entry: every one is with the device all the time. */
	in->nev = vio_vq_size(in->evq) < in->p.event_buffers ? vio_vq_size(in->evq)
							      : in->p.event_buffers;
	in->nst = vio_vq_size(in->stq) < in->p.status_buffers ? vio_vq_size(in->stq)
							       : in->p.status_buffers;
	in->ev_mem = port->dma_alloc(port->ctx, in->nev * sizeof(*in->ev_mem), 64);
	in->st_mem = port->dma_alloc(port->ctx, in->nst * sizeof(*in->st_mem), 64);
	if (!in->ev_mem || !in->st_mem)
		return VIO_ENOMEM;
	for (unsigned i = 0; i < in->nst; i++)
		in->st_free[in->n_st_free++] = (uint16_t)(in->nst - 1 - i);
	vio_info("%s: %s \"%s\"", dev->name, vio_input_kind_name(in->info.kind), in->info.name);
	return 0;
}

static void input_started(struct vio_device *dev)
{
	struct input *in = dev->priv;

	input_ev_start(in);
	/* Only a recovery sets it before started: probe cleared the state. */
	if (in->leds_set)
		input_replay_leds(in, in->replay_leds);
}

static void input_remove(struct vio_device *dev)
{
	const struct vio_port *port = vio_port();
	struct input *in = dev->priv;

	if (!in)
		return;
	if (in->ev_mem)
		port->dma_free(port->ctx, in->ev_mem, in->nev * sizeof(*in->ev_mem));
	if (in->st_mem)
		port->dma_free(port->ctx, in->st_mem, in->nst * sizeof(*in->st_mem));
	in->ev_mem = in->st_mem = NULL;
}

/*
 * vio_dev_recover: the device was reset and input_remove gave back the
 * buffers. Probe again (the configuration is read anew); started posts
 * the event buffers and sends the LEDs the application had set again (the
 * reset forgot them).
 */
static int input_resume(struct vio_device *dev)
{
	struct input *in = dev->priv;
	bool set = in->leds_set;
	uint32_t leds = in->leds;
	int rc;

	memset(in, 0, sizeof(*in));
	rc = input_probe(dev);
	in->leds_set = set;
	in->replay_leds = leds;
	return rc;
}

const struct vio_driver vio_input_driver = {
	.name = "input",
	.device_id = VIRTIO_ID_INPUT,
	.features = 0, /* 5.8.3: none defined */
	.priv_size = sizeof(struct input),
	.probe = input_probe,
	.remove = input_remove,
	.started = input_started,
	.resume = input_resume,
};
