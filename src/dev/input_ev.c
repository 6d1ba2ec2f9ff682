/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-input queues (VirtIO 1.2 section 5.8.6): events from the device,
 * checked, grouped by SYN_REPORT and delivered in order; LED states to the
 * device on the status queue.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <vio/error.h>
#include <vio/input.h>

#include "core/log.h"
#include "input_priv.h"

static void *cookie_of(unsigned slot)
{
	return (void *)(uintptr_t)(slot + 1u);
}

static unsigned slot_of(void *cookie)
{
	return (unsigned)((uintptr_t)cookie - 1u);
}

/* Give event buffer slot to the device. Under vio_lock. */
static int ev_post(struct input *in, unsigned slot)
{
	const struct vio_port *port = vio_port();
	struct vio_sg sg = { &in->ev_mem[slot], sizeof(in->ev_mem[slot]) };

	/* No dirty line may be written back over what the device writes. */
	if (port->cache_clean)
		port->cache_clean(port->ctx, sg.buf, sg.len);
	/* 5.8.6.1: event buffers are device-writable. */
	return vio_vq_enqueue(in->evq, &sg, 0, 1, cookie_of(slot));
}

void input_ev_start(struct input *in)
{
	uintptr_t s = vio_lock();
	bool posted = false;

	for (unsigned i = 0; i < in->nev; i++)
		posted |= ev_post(in, i) == 0;
	if (posted)
		vio_vq_kick(in->evq);
	vio_unlock(s);
}

/*
 * Queue a whole group for vio_input_read, or drop it when it does not fit.
 * One slot is always kept for an EV_SYN/SYN_DROPPED mark, so the mark goes
 * in at once where the gap is, and a reader who stopped reading finds it
 * after the last group kept. Under vio_lock.
 */
static void fifo_put(struct input *in, const struct vio_input_event *ev, unsigned n)
{
	const unsigned cap = CONFIG_VIO_INPUT_QUEUE_SIZE;

	if (cap - in->fifo_count < n + 1) {
		in->dropped_events += n;
		in->dropped_groups++;
		if (!in->gap) {
			struct vio_input_event mark = { EV_SYN, SYN_DROPPED, 0 };

			/* Mark where groups went missing, as evdev does. */
			in->fifo[(in->fifo_head + in->fifo_count++) % cap] = mark;
			in->gap = true;
		}
		return;
	}
	for (unsigned i = 0; i < n; i++)
		in->fifo[(in->fifo_head + in->fifo_count++) % cap] = ev[i];
	in->gap = false;
	in->events += n;
	in->groups++;
}

/* Whether the device declared what ev carries; counts what it finds. Under vio_lock. */
static bool ev_valid(struct input *in, const struct vio_input_event *ev)
{
	if (ev->type >= VIO_INPUT_TYPES || ev->code >= VIO_INPUT_CODES ||
	    !((in->bits[ev->type][ev->code / 8] >> (ev->code % 8)) & 1u)) {
		in->bad_events++;
		return false;
	}
	if (ev->type == EV_ABS && ev->code < VIO_INPUT_AXES && ((in->have_abs >> ev->code) & 1u) &&
	    (ev->value < in->abs[ev->code].min || ev->value > in->abs[ev->code].max))
		in->abs_out_of_range++;
	return true;
}

/*
 * Check and group n staged events. A finished group goes to the queue
 * (under the lock) or to the application's callback (without it). A group
 * longer than VIO_INPUT_GROUP_MAX is dropped up to its SYN_REPORT.
 */
static void ev_deliver(struct input *in, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		const struct vio_input_event *ev = &in->stage[i];
		bool ok, end;
		uintptr_t s = vio_lock();

		ok = ev_valid(in, ev);
		end = ok && ev->type == EV_SYN && ev->code == SYN_REPORT;
		if (ok && !in->group_lost) {
			if (in->ngroup < VIO_INPUT_GROUP_MAX) {
				in->group[in->ngroup++] = *ev;
			} else {
				in->group_lost = true;
				in->dropped_events += in->ngroup;
				in->ngroup = 0;
			}
		}
		if (ok && in->group_lost)
			in->dropped_events++;
		if (!end) {
			vio_unlock(s);
			continue;
		}
		if (in->group_lost) {
			in->dropped_groups++;
			in->group_lost = false;
			vio_unlock(s);
			continue;
		}
		if (!in->p.events) {
			fifo_put(in, in->group, in->ngroup);
			in->ngroup = 0;
			vio_unlock(s);
			continue;
		}
		in->events += in->ngroup;
		in->groups++;
		vio_unlock(s);
		/* The group array is the handler's own: safe to hand out unlocked. */
		in->p.events(in->dev, in->group, in->ngroup, in->p.ctx);
		in->ngroup = 0;
	}
}

/*
 * The event queue's completion handler: copy every event off its buffer and
 * give the buffer straight back, so the device can go on while the events
 * are checked and delivered.
 */
void input_ev_done(struct vio_device *dev, struct vio_vq *vq, void *arg)
{
	const struct vio_port *port = vio_port();
	struct input *in = arg;
	bool more = true;

	(void)dev;
	while (more) {
		unsigned n = 0;
		bool posted = false;
		void *cookie;
		uint32_t len;
		int rc = 0;
		uintptr_t s = vio_lock();

		while (n < INPUT_STAGE && (rc = vio_vq_dequeue(vq, &cookie, &len)) == 0) {
			unsigned slot = slot_of(cookie);
			const struct virtio_input_event *w = &in->ev_mem[slot];

			if (len != sizeof(*w)) {
				/* 5.8.6.1: one whole event per buffer; anything else is refused. */
				in->bad_events++;
			} else {
				if (port->cache_invalidate)
					port->cache_invalidate(port->ctx, &in->ev_mem[slot], len);
				in->stage[n].type = vio_wire16(in->legacy, w->type);
				in->stage[n].code = vio_wire16(in->legacy, w->code);
				in->stage[n].value = (int32_t)vio_wire32(in->legacy, w->value);
				n++;
			}
			posted |= ev_post(in, slot) == 0;
		}
		if (posted)
			vio_vq_kick(vq);
		if (rc != 0 && rc != VIO_EAGAIN)
			in->error = rc;
		/* Stopped for room in the stage, not for want of events: go round again. */
		more = rc == 0;
		vio_unlock(s);
		ev_deliver(in, n);
	}
}

static bool fifo_ready(void *arg)
{
	struct input *in = arg;
	uintptr_t s = vio_lock();
	bool done = in->fifo_count || in->error;

	vio_unlock(s);
	return done;
}

/* Take up to max queued events. Under vio_lock. */
static unsigned fifo_take(struct input *in, struct vio_input_event *ev, unsigned max)
{
	unsigned n = 0;

	while (n < max && in->fifo_count) {
		ev[n++] = in->fifo[in->fifo_head];
		in->fifo_head = (in->fifo_head + 1) % CONFIG_VIO_INPUT_QUEUE_SIZE;
		in->fifo_count--;
	}
	if (!in->fifo_count)
		in->gap = false; /* the mark, newest, was read */
	return n;
}

static int read_events(struct vio_device *dev, struct vio_input_event *ev, unsigned max,
		       bool block, uint64_t timeout_ns)
{
	struct input *in;
	unsigned n;
	uintptr_t s;
	int rc = vio_input_check(dev);

	if (rc)
		return rc;
	if (!ev || !max || max > INT32_MAX)
		return VIO_EINVAL;
	in = dev->priv;
	if (in->p.events)
		return VIO_ENOTSUP;
	if (block)
		rc = vio_dev_wait(dev, in->evq, fifo_ready, in, timeout_ns);
	else
		vio_dev_poll(dev); /* what the device sent meanwhile */
	s = vio_lock();
	n = fifo_take(in, ev, max);
	if (!n)
		rc = in->error ? VIO_ESHUTDOWN : rc ? rc : block ? VIO_ETIMEDOUT : VIO_EAGAIN;
	vio_unlock(s);
	return n ? (int)n : rc;
}

int vio_input_read(struct vio_device *dev, struct vio_input_event *ev, unsigned max,
		   uint64_t timeout_ns)
{
	return read_events(dev, ev, max, true, timeout_ns);
}

int vio_input_read_nonblock(struct vio_device *dev, struct vio_input_event *ev, unsigned max)
{
	return read_events(dev, ev, max, false, 0);
}

/* The status queue's completion handler: the buffers are the driver's again. */
void input_st_done(struct vio_device *dev, struct vio_vq *vq, void *arg)
{
	struct input *in = arg;
	void *cookie;
	uint32_t len;
	uintptr_t s;
	int rc;

	(void)dev;
	s = vio_lock();
	while ((rc = vio_vq_dequeue(vq, &cookie, &len)) == 0)
		in->st_free[in->n_st_free++] = (uint16_t)slot_of(cookie);
	if (rc != VIO_EAGAIN)
		in->error = rc;
	vio_unlock(s);
}

static bool st_room(void *arg)
{
	struct input *in = arg;
	uintptr_t s = vio_lock();
	bool done = in->n_st_free || in->error;

	vio_unlock(s);
	return done;
}

/* Send one status event; waits for a free buffer. */
static int st_send(struct input *in, uint16_t type, uint16_t code, int32_t value)
{
	uint64_t timeout = in->timeout_ns;
	uintptr_t s;
	int rc;

	for (;;) {
		s = vio_lock();
		rc = in->error ? VIO_ESHUTDOWN : 0;
		if (!rc && in->n_st_free) {
			unsigned slot = in->st_free[in->n_st_free - 1];
			struct virtio_input_event *w = &in->st_mem[slot];
			struct vio_sg sg = { w, sizeof(*w) };

			w->type = vio_wire16(in->legacy, type);
			w->code = vio_wire16(in->legacy, code);
			w->value = vio_wire32(in->legacy, (uint32_t)value);
			/* 5.8.6.2: status buffers are device-readable (the queue cleans them). */
			rc = vio_vq_enqueue(in->stq, &sg, 1, 0, cookie_of(slot));
			if (!rc) {
				in->n_st_free--;
				in->status_sent++;
				vio_vq_kick(in->stq);
				vio_unlock(s);
				return 0;
			}
		}
		vio_unlock(s);
		if (rc && rc != VIO_ENOSPC)
			return rc;
		if (!timeout)
			return VIO_ETIMEDOUT;
		rc = vio_dev_wait(in->dev, in->stq, st_room, in, timeout);
		if (rc == VIO_ETIMEDOUT) {
			/*
			 * Every status buffer is with a device that answers none
			 * (5.8.6.2: it should take them at once): they cannot be
			 * taken back from a live ring, so reset it (3.3.1).
			 */
			vio_err("%s: no status buffer back in %llu ms", in->dev->name,
				(unsigned long long)(timeout / 1000000u));
			vio_dev_fail(in->dev, VIO_ETIMEDOUT);
		}
		if (rc)
			return rc;
		timeout = 0; /* one full wait: a free buffer came or none will */
	}
}

/*
 * One EV_LED event for each LED the device declared whose state in leds
 * differs from the last one sent, or for each declared LED when all is
 * set. Returns the events sent, or an error when none was.
 */
static int send_leds(struct input *in, uint32_t leds, bool all)
{
	int sent = 0, rc;

	for (unsigned led = 0; led <= LED_MAX; led++) {
		bool on = (leds >> led) & 1u;
		uintptr_t s;
		bool was;

		if (!((in->bits[EV_LED][led / 8] >> (led % 8)) & 1u))
			continue;
		s = vio_lock();
		was = (in->leds >> led) & 1u;
		vio_unlock(s);
		if (on == was && !all)
			continue;
		/* 5.8.6.2: one EV_LED event per LED; QEMU takes no EV_SYN here. */
		rc = st_send(in, EV_LED, (uint16_t)led, on ? 1 : 0);
		if (rc)
			return sent ? sent : rc;
		s = vio_lock();
		in->leds = on ? in->leds | (1u << led) : in->leds & ~(1u << led);
		in->leds_set = true;
		vio_unlock(s);
		sent++;
	}
	return sent;
}

int vio_input_set_leds(struct vio_device *dev, uint32_t leds)
{
	struct input *in;
	int rc = vio_input_check(dev);

	if (rc)
		return rc;
	in = dev->priv;
	if (!in->bits_size[EV_LED])
		return VIO_ENOTSUP;
	return send_leds(in, leds, false);
}

void input_replay_leds(struct input *in, uint32_t leds)
{
	int rc;

	if (!in->bits_size[EV_LED])
		return;
	rc = send_leds(in, leds, true);
	if (rc < 0)
		vio_warn("%s: LEDs not set again after the reset: %s", in->dev->name,
			 vio_strerror(rc));
}
