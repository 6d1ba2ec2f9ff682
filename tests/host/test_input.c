/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-input (VirtIO 1.2 section 5.8) against the simulated device
 * (tests/sim/input_model.h). Built against the default library
 * (interrupt-driven completion) and the polling configuration; the event
 * cases run on legacy and modern devices, on a coherent port and on the
 * non-coherent one.
 *
 * Covered: the configuration of each kind of device (name, serial, ids,
 * properties, event codes, axis ranges, multi-touch slots); events in
 * order through the queue and through the callback; an application slower
 * than the device (whole groups dropped, counted, marked); events the
 * device did not declare, malformed lengths and groups too long; every
 * malformed configuration size refused; LEDs on the status queue, buffers
 * reused; several devices at once.
 */
#include <string.h>

#include <vio/device.h>
#include <vio/error.h>
#include <vio/input.h>
#include <vio/mmio.h>
#include <vio/spec/virtio_config.h>
#include <vio/spec/virtio_input.h>

#include "input_model.h"
#include "sim.h"
#include "sim_cache.h"
#include "sim_port.h"
#include "test.h"
#include "vio_config.h"

#define SEC 1000000000ull

static struct sim_input model[3];
static struct vio_input_params params;
static bool noncoherent;

/* Groups the callback got, flattened. */
static struct vio_input_event got[4096];
static unsigned ngot, ngroups;

static void on_events(struct vio_device *dev, const struct vio_input_event *ev, unsigned n,
		      void *ctx)
{
	(void)dev;
	(void)ctx;
	CHECK(n > 0 && ev[n - 1].type == EV_SYN && ev[n - 1].code == SYN_REPORT);
	for (unsigned i = 0; i < n && ngot < 4096; i++)
		got[ngot++] = ev[i];
	ngroups++;
}

static struct sim_dev *new_dev(int slot, uint32_t version, enum sim_input_kind kind)
{
	struct sim_dev *d = sim_dev_new(slot, version, VIRTIO_ID_INPUT);

	if (version == 2)
		d->features |= 1ull << VIRTIO_F_VERSION_1;
	d->features |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	sim_input_attach(d, &model[slot], kind);
	return d;
}

static void init(bool callback)
{
	CHECK_EQ(vio_init(noncoherent ? sim_port_noncoherent() : sim_port(), sim_os()), 0);
	memset(&params, 0, sizeof(params));
	if (callback)
		params.events = on_events;
	CHECK_EQ(vio_driver_register(&vio_input_driver, &params), 0);
	ngot = ngroups = 0;
}

static struct vio_device *add(struct sim_dev *d)
{
	struct vio_device *dev = NULL;

	CHECK_EQ(vio_mmio_add(d->base, d->irq, d->slot, &dev), 0);
	CHECK(dev != NULL);
	if (!dev || dev->state != VIO_DEV_READY)
		return NULL;
	return dev;
}

static void settle(void)
{
	for (int i = 0; i < 30; i++) {
		sim_step_all();
		vio_service();
	}
}

static void test_config(void)
{
	static const enum sim_input_kind kinds[] = { SIM_INPUT_KEYBOARD, SIM_INPUT_MOUSE,
						     SIM_INPUT_TABLET, SIM_INPUT_TOUCH };
	struct vio_input_absinfo abs;
	struct vio_input_info info;
	uint8_t bits[128];

	for (uint32_t version = 1; version <= 2; version++) {
		for (unsigned k = 0; k < 4; k++) {
			struct vio_device *dev;
			struct sim_dev *d;

			sim_reset_all();
			sim_port_reset();
			init(false);
			d = new_dev(0, version, kinds[k]);
			dev = add(d);
			if (!dev)
				return;
			CHECK_EQ(vio_input_get_info(dev, &info), 0);
			CHECK_EQ(info.kind, (int)VIO_INPUT_KEYBOARD + (int)k);
			CHECK(info.have_ids);
			CHECK_EQ(info.bustype, 6);
			CHECK_EQ(info.vendor, 0x0627);
			CHECK_EQ(info.product, k + 1);
			CHECK_STR(info.serial, k == 0 ? "sim-keyboard" : k == 1 ? "sim-mouse" :
					       k == 2 ? "sim-tablet" : "sim-touch");
			if (k == 0) {
				CHECK_STR(info.name, "QEMU Virtio Keyboard");
				CHECK_EQ(info.types, (1u << EV_SYN) | (1u << EV_KEY) |
							     (1u << EV_LED) | (1u << EV_REP));
				CHECK(vio_input_has(dev, EV_KEY, KEY_A));
				CHECK(!vio_input_has(dev, EV_KEY, BTN_LEFT));
				CHECK_EQ(vio_input_bits(dev, EV_LED, bits, sizeof(bits)), 1);
				CHECK_EQ(bits[0], 7);
				CHECK_EQ(vio_input_abs(dev, ABS_X, &abs), VIO_ENOTSUP);
			}
			if (k == 1) {
				CHECK(vio_input_has(dev, EV_REL, REL_WHEEL));
				CHECK(!vio_input_has(dev, EV_ABS, -1));
				CHECK_EQ(vio_input_set_leds(dev, VIO_INPUT_LED_CAPS), VIO_ENOTSUP);
			}
			if (k == 2) {
				CHECK_EQ(vio_input_abs(dev, ABS_Y, &abs), 0);
				CHECK_EQ(abs.min, 0);
				CHECK_EQ(abs.max, 0x7fff);
				CHECK_EQ(info.mt_slots, 0);
			}
			if (k == 3) {
				CHECK_EQ(info.mt_slots, 10);
				CHECK_EQ(info.props, 1u << INPUT_PROP_DIRECT);
				CHECK_EQ(vio_input_abs(dev, ABS_MT_POSITION_X, &abs), 0);
				CHECK_EQ(abs.max, 1919);
			}
			/* The selector is left cleared. */
			CHECK_EQ(d->config[VIRTIO_INPUT_CFG_SELECT], 0);
		}
	}
}

/* Push n relative motions REL_X base+1 .. base+n, each its own group. */
static void push_motions(struct sim_input *m, unsigned base, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		sim_input_push(m, EV_REL, REL_X, base + i + 1);
		sim_input_push(m, EV_SYN, SYN_REPORT, 0);
	}
}

static void events(uint32_t version)
{
	struct vio_input_event ev[64];
	struct vio_input_info info;
	struct vio_device *dev;
	unsigned next = 1, n = 0;
	int rc = 0;

	init(false);
	dev = add(new_dev(0, version, SIM_INPUT_MOUSE));
	if (!dev)
		return;
	CHECK_EQ(vio_input_read_nonblock(dev, ev, 64), VIO_EAGAIN);
	/* More than the ring holds, read as it comes: all of it, in order. */
	push_motions(&model[0], 0, 500);
	sim_input_push(&model[0], EV_REL, REL_X, 5);
	sim_input_push(&model[0], EV_REL, REL_Y, (uint32_t)-7);
	sim_input_push(&model[0], EV_KEY, BTN_LEFT, 1);
	sim_input_push(&model[0], EV_SYN, SYN_REPORT, 0);
	while (n < 1004 && (rc = vio_input_read(dev, ev, 64, SEC)) > 0) {
		for (int i = 0; i < rc; i++, n++) {
			if (n < 1000) {
				CHECK_EQ(ev[i].type, n % 2 ? EV_SYN : EV_REL);
				if (n % 2 == 0)
					CHECK_EQ(ev[i].value, (int32_t)next++);
			}
		}
	}
	CHECK_EQ(n, 1004);
	settle();
	CHECK_EQ(vio_input_read_nonblock(dev, ev, 64), VIO_EAGAIN);
	CHECK_EQ(vio_input_get_info(dev, &info), 0);
	CHECK_EQ(info.events, 1004);
	CHECK_EQ(info.groups, 501);
	CHECK_EQ(info.dropped_events, 0);
	CHECK_EQ(info.bad_events, 0);
	CHECK_EQ(model[0].events_sent, 1004);
	CHECK_EQ(dev->state, VIO_DEV_READY);
}

static void test_events_modern(void)
{
	events(2);
}

static void test_events_legacy(void)
{
	events(1);
}

static void test_negative_values(void)
{
	struct vio_input_event ev[8];
	struct vio_device *dev;

	init(false);
	dev = add(new_dev(0, 2, SIM_INPUT_MOUSE));
	if (!dev)
		return;
	sim_input_push(&model[0], EV_REL, REL_Y, (uint32_t)-7);
	sim_input_push(&model[0], EV_SYN, SYN_REPORT, 0);
	CHECK_EQ(vio_input_read(dev, ev, 8, SEC), 2);
	CHECK_EQ(ev[0].code, REL_Y);
	CHECK_EQ(ev[0].value, -7);
}

static void test_callback(void)
{
	struct vio_input_event ev[4];
	struct vio_device *dev;

	init(true);
	dev = add(new_dev(0, 2, SIM_INPUT_KEYBOARD));
	if (!dev)
		return;
	sim_input_push(&model[0], EV_KEY, 42, 1);
	sim_input_push(&model[0], EV_KEY, KEY_A, 1);
	sim_input_push(&model[0], EV_SYN, SYN_REPORT, 0);
	sim_input_push(&model[0], EV_KEY, KEY_A, 0);
	settle();
	/* A group without its SYN_REPORT yet is held back. */
	CHECK_EQ(ngroups, 1);
	CHECK_EQ(ngot, 3);
	sim_input_push(&model[0], EV_SYN, SYN_REPORT, 0);
	settle();
	CHECK_EQ(ngroups, 2);
	CHECK_EQ(ngot, 5);
	CHECK_EQ(got[0].code, 42);
	CHECK_EQ(got[1].code, KEY_A);
	CHECK_EQ(got[3].value, 0);
	CHECK_EQ(vio_input_read_nonblock(dev, ev, 4), VIO_ENOTSUP);
}

/* The application reads nothing while the device sends 200 groups: whole groups are dropped. */
static void test_overrun(void)
{
	const unsigned cap = CONFIG_VIO_INPUT_QUEUE_SIZE;
	const unsigned kept = (cap - 1) / 2, total = kept + 73;
	struct vio_input_event ev[64];
	struct vio_input_info info;
	struct vio_device *dev;
	unsigned n = 0, marks = 0, last = 0;
	int rc;

	init(false);
	dev = add(new_dev(0, 2, SIM_INPUT_MOUSE));
	if (!dev)
		return;
	push_motions(&model[0], 0, total);
	settle();
	CHECK_EQ(model[0].events_sent, 2 * total); /* the device never waited */
	CHECK_EQ(vio_input_get_info(dev, &info), 0);
	CHECK_EQ(info.groups, kept);
	CHECK_EQ(info.dropped_groups, total - kept);
	CHECK_EQ(info.dropped_events, 2 * (total - kept));
	/* Then more, read as they come. */
	while ((rc = vio_input_read_nonblock(dev, ev, 64)) > 0) {
		for (int i = 0; i < rc; i++, n++) {
			if (ev[i].type == EV_SYN && ev[i].code == SYN_DROPPED) {
				marks++;
				CHECK(n % 2 == 0); /* never inside a group */
				continue;
			}
			if (ev[i].type == EV_REL) {
				CHECK((unsigned)ev[i].value > last);
				last = (unsigned)ev[i].value;
			}
		}
	}
	CHECK_EQ(marks, 1);
	CHECK_EQ(last, kept);
	push_motions(&model[0], 1000, 3);
	settle();
	CHECK_EQ(vio_input_read_nonblock(dev, ev, 64), 6);
	CHECK_EQ(ev[0].value, 1001);
	CHECK_EQ(ev[4].value, 1003);
}

/* Whatever the device did not declare is refused and counted; the rest goes on. */
static void test_bad_events(void)
{
	struct vio_input_event ev[16];
	struct vio_input_info info;
	struct vio_device *dev;

	init(false);
	dev = add(new_dev(0, 2, SIM_INPUT_MOUSE));
	if (!dev)
		return;
	sim_input_push(&model[0], EV_REL, REL_X, 1);
	sim_input_push(&model[0], EV_ABS, ABS_X, 5);          /* type not declared */
	sim_input_push(&model[0], EV_REL, 0x05, 5);           /* code not declared */
	sim_input_push(&model[0], EV_KEY, KEY_A, 1);          /* a mouse with letter keys? */
	sim_input_push(&model[0], 0x40, 0, 0);                /* type beyond EV_MAX */
	sim_input_push(&model[0], EV_REL, 0x8000, 0);         /* code beyond any bitmap */
	sim_input_push(&model[0], EV_SYN, SYN_CONFIG, 0);     /* not a SYN a device sends */
	sim_input_push_len(&model[0], EV_REL, REL_Y, 9, 4);   /* half an event */
	sim_input_push_len(&model[0], EV_REL, REL_Y, 9, 0);   /* none */
	sim_input_push(&model[0], EV_REL, REL_Y, 2);
	sim_input_push(&model[0], EV_SYN, SYN_REPORT, 0);
	CHECK_EQ(vio_input_read(dev, ev, 16, SEC), 3);
	CHECK_EQ(ev[0].code, REL_X);
	CHECK_EQ(ev[1].code, REL_Y);
	CHECK_EQ(ev[1].value, 2);
	CHECK_EQ(ev[2].type, EV_SYN);
	CHECK_EQ(vio_input_get_info(dev, &info), 0);
	CHECK_EQ(info.bad_events, 8);
	CHECK_EQ(dev->state, VIO_DEV_READY);

	/* A group longer than the driver takes is dropped up to its SYN_REPORT. */
	for (unsigned i = 0; i < VIO_INPUT_GROUP_MAX + 10; i++)
		sim_input_push(&model[0], EV_REL, REL_X, i);
	sim_input_push(&model[0], EV_SYN, SYN_REPORT, 0);
	sim_input_push(&model[0], EV_REL, REL_X, 77);
	sim_input_push(&model[0], EV_SYN, SYN_REPORT, 0);
	CHECK_EQ(vio_input_read(dev, ev, 16, SEC), 2);
	CHECK_EQ(ev[0].value, 77);
	CHECK_EQ(vio_input_get_info(dev, &info), 0);
	CHECK_EQ(info.dropped_groups, 1);
	CHECK_EQ(info.dropped_events, VIO_INPUT_GROUP_MAX + 11);
}

/* Each malformed configuration: the device is failed with VIO_EPROTO at probe. */
static void bad_config(uint8_t select, uint8_t subsel, unsigned size, const char *what)
{
	static uint8_t junk[128];
	struct vio_device *dev = NULL;
	struct sim_dev *d;

	sim_reset_all();
	sim_port_reset();
	init(false);
	d = new_dev(0, 2, SIM_INPUT_TABLET);
	memset(junk, 'x', sizeof(junk));
	sim_input_cfg(&model[0], select, subsel, junk, size);
	if (select == VIRTIO_INPUT_CFG_ABS_INFO && size == 20) {
		/* min above max */
		junk[0] = 10;
		memset(junk + 1, 0, 7);
		sim_input_cfg(&model[0], select, subsel, junk, size);
	}
	CHECK_EQ(vio_mmio_add(d->base, d->irq, 0, &dev), VIO_EPROTO);
	if (!dev || dev->state != VIO_DEV_FAILED)
		test_check(false, __FILE__, __LINE__, what);
}

static void test_bad_config(void)
{
	bad_config(VIRTIO_INPUT_CFG_ID_NAME, 0, 129, "name of 129 bytes");
	bad_config(VIRTIO_INPUT_CFG_ID_SERIAL, 0, 255, "serial of 255 bytes");
	bad_config(VIRTIO_INPUT_CFG_ID_DEVIDS, 0, 6, "devids of 6 bytes");
	bad_config(VIRTIO_INPUT_CFG_ID_DEVIDS, 0, 9, "devids of 9 bytes");
	bad_config(VIRTIO_INPUT_CFG_PROP_BITS, 0, 200, "props of 200 bytes");
	bad_config(VIRTIO_INPUT_CFG_EV_BITS, EV_KEY, 129, "EV_KEY bits of 129 bytes");
	bad_config(VIRTIO_INPUT_CFG_EV_BITS, 0x1f, 130, "bits of the last type, 130 bytes");
	bad_config(VIRTIO_INPUT_CFG_ABS_INFO, ABS_X, 24, "ABS_INFO of 24 bytes");
	bad_config(VIRTIO_INPUT_CFG_ABS_INFO, ABS_Y, 12, "ABS_INFO of 12 bytes");
	bad_config(VIRTIO_INPUT_CFG_ABS_INFO, ABS_X, 20, "ABS_INFO min above max");
}

/* Sizes at the edge of the field are taken; a name of 128 bytes has no NUL. */
static void test_config_edges(void)
{
	static char name[128];
	struct vio_input_info info;
	struct vio_device *dev;
	struct sim_dev *d;

	init(false);
	d = new_dev(0, 1, SIM_INPUT_KEYBOARD);
	memset(name, 'n', sizeof(name));
	sim_input_cfg(&model[0], VIRTIO_INPUT_CFG_ID_NAME, 0, name, 128);
	sim_input_cfg(&model[0], VIRTIO_INPUT_CFG_ID_SERIAL, 0, "", 0);
	sim_input_cfg(&model[0], VIRTIO_INPUT_CFG_ID_DEVIDS, 0, "", 0);
	dev = add(d);
	if (!dev)
		return;
	CHECK_EQ(vio_input_get_info(dev, &info), 0);
	CHECK_EQ(strlen(info.name), 128);
	CHECK_STR(info.serial, "");
	CHECK(!info.have_ids);
	CHECK_EQ(info.kind, VIO_INPUT_KEYBOARD);
}

static void test_leds(void)
{
	struct vio_input_info info;
	struct vio_device *dev;
	struct sim_input *m = &model[0];

	init(false);
	dev = add(new_dev(0, 2, SIM_INPUT_KEYBOARD));
	if (!dev)
		return;
	CHECK_EQ(vio_input_set_leds(dev, VIO_INPUT_LED_CAPS), 1);
	settle();
	CHECK_EQ(m->nstatus, 1);
	CHECK_EQ(m->status[0].type, EV_LED);
	CHECK_EQ(m->status[0].code, LED_CAPSL);
	CHECK_EQ(m->status[0].value, 1);
	CHECK_EQ(vio_input_set_leds(dev, VIO_INPUT_LED_CAPS), 0); /* no change */
	/*
	 * QEMU completes status buffers with the bytes it read as the used
	 * length, beyond the (no) writable bytes: taken, not a protocol error.
	 */
	sim_dev_at_slot(0)->evil = SIM_EVIL_LEN;
	sim_dev_at_slot(0)->evil_sticky = true;
	CHECK_EQ(vio_input_set_leds(dev, VIO_INPUT_LED_NUM | VIO_INPUT_LED_SCROLL | (1u << 9)), 3);
	settle();
	CHECK_EQ(m->nstatus, 4);
	CHECK_EQ(m->status[1].code, LED_NUML);
	CHECK_EQ(m->status[2].code, LED_CAPSL);
	CHECK_EQ(m->status[2].value, 0);
	CHECK_EQ(m->status[3].code, LED_SCROLLL);
	/* Many more changes than status buffers: each buffer comes back and is reused. */
	for (unsigned i = 0; i < 100; i++)
		CHECK_EQ(vio_input_set_leds(dev, i % 2 ? VIO_INPUT_LED_CAPS : 0), 1 + (i == 0) * 1);
	settle();
	CHECK_EQ(vio_input_get_info(dev, &info), 0);
	CHECK_EQ(m->nstatus, info.status_sent);
	sim_dev_at_slot(0)->evil = SIM_EVIL_NONE;
	CHECK_EQ(info.leds, VIO_INPUT_LED_CAPS);
	CHECK_EQ(dev->state, VIO_DEV_READY);
}

static void test_several(void)
{
	struct vio_input_event ev[8];
	struct vio_device *dev[3];
	struct vio_input_info info;

	init(false);
	for (int i = 0; i < 3; i++)
		dev[i] = add(new_dev(i, (uint32_t)(1 + i % 2), (enum sim_input_kind)i));
	if (!dev[0] || !dev[1] || !dev[2])
		return;
	CHECK_STR(dev[2]->name, "input2");
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(vio_input_get_info(dev[i], &info), 0);
		CHECK_EQ(info.kind, VIO_INPUT_KEYBOARD + i);
	}
	sim_input_push(&model[2], EV_ABS, ABS_X, 100);
	sim_input_push(&model[2], EV_SYN, SYN_REPORT, 0);
	sim_input_push(&model[0], EV_KEY, KEY_A, 1);
	sim_input_push(&model[0], EV_SYN, SYN_REPORT, 0);
	settle();
	CHECK_EQ(vio_input_read_nonblock(dev[1], ev, 8), VIO_EAGAIN);
	CHECK_EQ(vio_input_read_nonblock(dev[0], ev, 8), 2);
	CHECK_EQ(ev[0].code, KEY_A);
	CHECK_EQ(vio_input_read_nonblock(dev[2], ev, 8), 2);
	CHECK_EQ(ev[0].value, 100);
	/* An absolute value out of the declared range is delivered and counted. */
	sim_input_push(&model[2], EV_ABS, ABS_X, 0x8000);
	sim_input_push(&model[2], EV_SYN, SYN_REPORT, 0);
	CHECK_EQ(vio_input_read(dev[2], ev, 8, SEC), 2);
	CHECK_EQ(vio_input_get_info(dev[2], &info), 0);
	CHECK_EQ(info.abs_out_of_range, 1);
	/* Bad calls. */
	CHECK_EQ(vio_input_read_nonblock(NULL, ev, 8), VIO_ENODEV);
	CHECK_EQ(vio_input_read_nonblock(dev[0], NULL, 8), VIO_EINVAL);
	CHECK_EQ(vio_input_read_nonblock(dev[0], ev, 0), VIO_EINVAL);
	CHECK_EQ(vio_input_abs(dev[2], 99, &(struct vio_input_absinfo){ 0 }), VIO_ENOTSUP);
	CHECK_EQ(vio_input_bits(dev[0], 32, NULL, 0), VIO_EINVAL);
}

/* A touch screen: slots and positions, and the older protocol's SYN_MT_REPORT. */
static void test_touch(void)
{
	struct vio_input_event ev[8];
	struct vio_input_info info;
	struct vio_device *dev;

	init(false);
	dev = add(new_dev(0, 2, SIM_INPUT_TOUCH));
	if (!dev)
		return;
	sim_input_push(&model[0], EV_ABS, ABS_MT_SLOT, 3);
	sim_input_push(&model[0], EV_ABS, ABS_MT_TRACKING_ID, 7);
	sim_input_push(&model[0], EV_ABS, ABS_MT_POSITION_X, 1000);
	sim_input_push(&model[0], EV_SYN, SYN_MT_REPORT, 0);
	sim_input_push(&model[0], EV_KEY, BTN_TOUCH, 1);
	sim_input_push(&model[0], EV_SYN, SYN_REPORT, 0);
	CHECK_EQ(vio_input_read(dev, ev, 8, SEC), 6);
	CHECK_EQ(ev[0].value, 3);
	CHECK_EQ(ev[3].code, SYN_MT_REPORT);
	CHECK_EQ(vio_input_get_info(dev, &info), 0);
	CHECK_EQ(info.bad_events, 0);
	CHECK_EQ(info.abs_out_of_range, 0);
}

static void all(void)
{
	RUN(test_config);
	RUN(test_events_modern);
	RUN(test_events_legacy);
	RUN(test_negative_values);
	RUN(test_callback);
	RUN(test_overrun);
	RUN(test_bad_events);
	RUN(test_bad_config);
	RUN(test_config_edges);
	RUN(test_leds);
	RUN(test_several);
	RUN(test_touch);
}

int main(void)
{
	all();
	noncoherent = true;
	all();
	return test_report();
}
