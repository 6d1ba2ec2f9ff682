/* SPDX-License-Identifier: Apache-2.0 */
/* The simulated virtio-input device: see input_model.h. */
#include <string.h>

#include <vio/spec/virtio_config.h>
#include <vio/spec/virtio_input.h>

#include "input_model.h"

/*
 * Wire structs are filled with vio_cpu_to_le*: little-endian for a modern
 * device, and the guest's own order for a legacy one, which is the same on
 * the (little-endian) host.
 */
void sim_input_cfg(struct sim_input *in, uint8_t select, uint8_t subsel, const void *data,
		   unsigned size)
{
	struct sim_input_cfg *c = NULL;

	for (unsigned i = 0; i < in->ncfg; i++) {
		if (in->cfg[i].select == select && in->cfg[i].subsel == subsel)
			c = &in->cfg[i];
	}
	if (!c) {
		if (in->ncfg == SIM_INPUT_CFG_MAX) {
			sim_error("input model: config table full (test bug)");
			return;
		}
		c = &in->cfg[in->ncfg++];
	}
	memset(c, 0, sizeof(*c));
	c->select = select;
	c->subsel = subsel;
	c->size = (uint8_t)(size > 255 ? 255 : size);
	memcpy(c->data, data, size < sizeof(c->data) ? size : sizeof(c->data));
}

void sim_input_push_len(struct sim_input *in, uint16_t type, uint16_t code, uint32_t value,
			uint32_t len)
{
	struct sim_input_ev *e;

	if (in->ev_count == SIM_INPUT_EVENTS) {
		sim_error("input model: event queue full (test bug)");
		return;
	}
	e = &in->ev[(in->ev_head + in->ev_count++) % SIM_INPUT_EVENTS];
	e->type = type;
	e->code = code;
	e->value = value;
	e->len = len;
}

void sim_input_push(struct sim_input *in, uint16_t type, uint16_t code, uint32_t value)
{
	sim_input_push_len(in, type, code, value, 8);
}

/* 5.8.5: the driver wrote select or subsel; show the entry they name. */
static void input_config_write(struct sim_dev *d, unsigned off, unsigned width)
{
	struct sim_input *in = d->model_ctx;
	uint8_t select = d->config[VIRTIO_INPUT_CFG_SELECT];
	uint8_t subsel = d->config[VIRTIO_INPUT_CFG_SUBSEL];

	if (off > VIRTIO_INPUT_CFG_SUBSEL || off + width > VIRTIO_INPUT_CFG_SIZE) {
		sim_error("input: config write of %u bytes at %u", width, off);
		return;
	}
	d->config[VIRTIO_INPUT_CFG_SIZE] = 0;
	memset(&d->config[VIRTIO_INPUT_CFG_U], 0, VIRTIO_INPUT_CFG_U_MAX);
	for (unsigned i = 0; i < in->ncfg; i++) {
		if (in->cfg[i].select == select && in->cfg[i].subsel == subsel) {
			d->config[VIRTIO_INPUT_CFG_SIZE] = in->cfg[i].size;
			memcpy(&d->config[VIRTIO_INPUT_CFG_U], in->cfg[i].data, 128);
		}
	}
}

static int input_handle(struct sim_dev *d, unsigned q, const struct sim_chain *c)
{
	struct sim_input *in = d->model_ctx;
	struct virtio_input_event w;
	struct sim_input_ev *e;

	if (q == VIRTIO_INPUT_STATUSQ) {
		if (c->nin || c->nout != 1 || c->out_len != 8) {
			sim_error("input: status buffer of %u bytes in %u+%u segments", c->out_len,
				  c->nout, c->nin);
			return 0;
		}
		memcpy(&w, c->out[0].buf, sizeof(w));
		if (in->nstatus < SIM_INPUT_STATUS) {
			e = &in->status[in->nstatus];
			e->type = vio_le16_to_cpu(w.type);
			e->code = vio_le16_to_cpu(w.code);
			e->value = vio_le32_to_cpu(w.value);
		}
		in->nstatus++;
		return 0;
	}
	if (q != VIRTIO_INPUT_EVENTQ) {
		sim_error("input: chain on queue %u", q);
		return 0;
	}
	if (c->nout || c->nin != 1 || c->in_len < 8) {
		sim_error("input: event buffer of %u bytes in %u+%u segments", c->in_len, c->nout,
			  c->nin);
		return 0;
	}
	if (!in->ev_count)
		return SIM_HOLD;
	e = &in->ev[in->ev_head];
	in->ev_head = (in->ev_head + 1) % SIM_INPUT_EVENTS;
	in->ev_count--;
	w.type = vio_cpu_to_le16(e->type);
	w.code = vio_cpu_to_le16(e->code);
	w.value = vio_cpu_to_le32(e->value);
	memcpy(c->in[0].buf, &w, sizeof(w));
	in->events_sent++;
	return (int)(e->len < c->in_len ? e->len : c->in_len);
}

const struct sim_model sim_input_model = {
	.name = "input",
	.handle = input_handle,
	.config_write = input_config_write,
};

static void set_bit(uint8_t *map, unsigned n)
{
	map[n / 8] |= (uint8_t)(1u << (n % 8));
}

/* EV_BITS of type: the codes listed, size up to the highest. */
static void bits(struct sim_input *in, uint8_t type, const uint16_t *codes, unsigned n)
{
	uint8_t map[128] = { 0 };
	unsigned size = 0;

	for (unsigned i = 0; i < n; i++) {
		set_bit(map, codes[i]);
		if (codes[i] / 8u + 1 > size)
			size = codes[i] / 8u + 1;
	}
	sim_input_cfg(in, VIRTIO_INPUT_CFG_EV_BITS, type, map, size ? size : 1);
}

static void absinfo(struct sim_input *in, uint8_t axis, uint32_t min, uint32_t max)
{
	struct virtio_input_absinfo a = { 0 };

	a.min = vio_cpu_to_le32(min);
	a.max = vio_cpu_to_le32(max);
	sim_input_cfg(in, VIRTIO_INPUT_CFG_ABS_INFO, axis, &a, sizeof(a));
}

void sim_input_attach(struct sim_dev *d, struct sim_input *in, enum sim_input_kind kind)
{
	static const char *const names[] = { "QEMU Virtio Keyboard", "QEMU Virtio Mouse",
					     "QEMU Virtio Tablet", "Sim MultiTouch" };
	static const char *const serials[] = { "sim-keyboard", "sim-mouse", "sim-tablet",
					       "sim-touch" };
	static const uint16_t buttons[] = { BTN_LEFT, BTN_RIGHT, BTN_MIDDLE, 0x113, 0x114,
					    0x150, 0x151 };
	static const uint16_t leds[] = { LED_NUML, LED_CAPSL, LED_SCROLLL };
	static const uint16_t rel_mouse[] = { REL_X, REL_Y, REL_WHEEL };
	static const uint16_t rel_wheel[] = { REL_WHEEL };
	static const uint16_t abs_xy[] = { ABS_X, ABS_Y };
	static const uint16_t abs_mt[] = { ABS_X, ABS_Y, ABS_MT_SLOT, ABS_MT_POSITION_X,
					   ABS_MT_POSITION_Y, ABS_MT_TRACKING_ID };
	static const uint16_t touch[] = { BTN_TOUCH };
	struct virtio_input_devids ids;
	uint16_t keys[KEY_Z];

	memset(in, 0, sizeof(*in));
	d->device_id = VIRTIO_ID_INPUT;
	d->model = &sim_input_model;
	d->model_ctx = in;
	d->q[0].num_max = 64;
	d->q[1].num_max = 64;
	d->config_size = sizeof(struct virtio_input_config);
	/* QEMU counts the name's NUL, not the serial's. */
	sim_input_cfg(in, VIRTIO_INPUT_CFG_ID_NAME, 0, names[kind],
		      (unsigned)strlen(names[kind]) + 1);
	sim_input_cfg(in, VIRTIO_INPUT_CFG_ID_SERIAL, 0, serials[kind],
		      (unsigned)strlen(serials[kind]));
	ids.bustype = vio_cpu_to_le16(0x06);
	ids.vendor = vio_cpu_to_le16(0x0627);
	ids.product = vio_cpu_to_le16((uint16_t)(kind + 1));
	ids.version = vio_cpu_to_le16(1);
	sim_input_cfg(in, VIRTIO_INPUT_CFG_ID_DEVIDS, 0, &ids, sizeof(ids));
	switch (kind) {
	case SIM_INPUT_KEYBOARD:
		for (unsigned i = 0; i < KEY_Z; i++)
			keys[i] = (uint16_t)(i + 1);
		bits(in, EV_KEY, keys, KEY_Z);
		bits(in, EV_LED, leds, 3);
		bits(in, EV_REP, NULL, 0);
		break;
	case SIM_INPUT_MOUSE:
		bits(in, EV_KEY, buttons, 7);
		bits(in, EV_REL, rel_mouse, 3);
		break;
	case SIM_INPUT_TABLET:
		bits(in, EV_KEY, buttons, 7);
		bits(in, EV_REL, rel_wheel, 1);
		bits(in, EV_ABS, abs_xy, 2);
		absinfo(in, ABS_X, 0, 0x7fff);
		absinfo(in, ABS_Y, 0, 0x7fff);
		break;
	case SIM_INPUT_TOUCH:
		bits(in, EV_KEY, touch, 1);
		bits(in, EV_ABS, abs_mt, 6);
		absinfo(in, ABS_X, 0, 1919);
		absinfo(in, ABS_Y, 0, 1079);
		absinfo(in, ABS_MT_SLOT, 0, 9);
		absinfo(in, ABS_MT_POSITION_X, 0, 1919);
		absinfo(in, ABS_MT_POSITION_Y, 0, 1079);
		absinfo(in, ABS_MT_TRACKING_ID, 0, 0xffff);
		sim_input_cfg(in, VIRTIO_INPUT_CFG_PROP_BITS, 0, "\x02", 1);
		break;
	}
}
