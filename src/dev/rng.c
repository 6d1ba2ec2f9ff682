/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-rng driver (VirtIO 1.2 section 5.4).
 *
 * One request queue (5.4.2); the driver offers a device-writable buffer and
 * the device fills some of it with entropy (5.4.6). Bytes go through a DMA
 * buffer of the driver's own, so callers may pass any memory.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <vio/error.h>
#include <vio/rng.h>
#include <vio/spec/virtio_config.h>

#include "core/log.h"
#include "vio_config.h"

#define RNG_CHUNK 256u /* bytes asked for per request */

struct rng {
	struct vio_device *dev;
	struct vio_vq *vq;
	uint8_t *buf;   /* RNG_CHUNK bytes of DMA memory */
	/* Under vio_lock: */
	uint32_t have;  /* bytes in buf not yet handed out, from pos */
	uint32_t pos;
	bool busy;      /* a request is with the device */
	uint32_t gen;   /* requests made */
	uint32_t stamped; /* the request sent was last seen at: */
	uint64_t sent;  /* this time (port->time_ns; read outside the lock) */
	int error;      /* set when the queue broke */
	uint64_t timeout_ns; /* a request older than this: the device is dead */
};

/*
 * The queue's completion handler (task context, from the core's deferred
 * work): take completed requests off the queue.
 */
static void rng_done(struct vio_device *dev, struct vio_vq *vq, void *arg)
{
	const struct vio_port *port = vio_port();
	struct rng *r = arg;
	void *cookie;
	uint32_t len;
	uintptr_t s;
	int rc;

	s = vio_lock();
	while ((rc = vio_vq_dequeue(vq, &cookie, &len)) == 0) {
		/* The device wrote the bytes: drop whatever the cache holds of them. */
		if (port->cache_invalidate && len)
			port->cache_invalidate(port->ctx, r->buf, len);
		r->busy = false;
		r->have = len;
		r->pos = 0;
	}
	if (rc != VIO_EAGAIN)
		r->error = rc;
	vio_unlock(s);
}

/* Ask the device for a buffer full, unless a request is out already. Under vio_lock. */
static int request(struct rng *r)
{
	const struct vio_port *port = vio_port();
	struct vio_sg sg = { r->buf, RNG_CHUNK };
	int rc;

	if (r->busy || r->have)
		return 0;
	/* No dirty line may be written back over what the device writes. */
	if (port->cache_clean)
		port->cache_clean(port->ctx, r->buf, RNG_CHUNK);
	rc = vio_vq_enqueue(r->vq, &sg, 0, 1, r);
	if (rc)
		return rc;
	r->busy = true;
	r->gen++;
	vio_vq_kick(r->vq);
	return 0;
}

/*
 * A read timed out: with a short per-call timeout the request may just be
 * young (it stays with the device and serves a later read); but one the
 * device has held for the device's timeout will not come back, and cannot
 * be taken back from a live ring: reset the device (3.3.1).
 */
/* The request out (if any) is known to have been with the device at now. Not under vio_lock. */
static void stamp(struct rng *r, uint64_t now)
{
	uintptr_t s = vio_lock();

	if (r->busy && r->stamped != r->gen) {
		r->stamped = r->gen;
		r->sent = now;
	}
	vio_unlock(s);
}

static void check_stale(struct vio_device *dev, struct rng *r)
{
	const struct vio_port *port = vio_port();
	uint64_t now = port->time_ns(port->ctx);
	uintptr_t s = vio_lock();
	bool stale = r->busy && r->stamped == r->gen && now - r->sent >= r->timeout_ns;

	vio_unlock(s);
	if (!stale)
		return;
	vio_err("%s: no answer in %llu ms", dev->name,
		(unsigned long long)(r->timeout_ns / 1000000u));
	vio_dev_fail(dev, VIO_ETIMEDOUT);
}

/* Copy out what the device delivered. Under vio_lock. */
static size_t take(struct rng *r, uint8_t *dst, size_t len)
{
	size_t n = len < r->have ? len : r->have;

	memcpy(dst, r->buf + r->pos, n);
	r->pos += (uint32_t)n;
	r->have -= (uint32_t)n;
	return n;
}

static bool ready(void *arg)
{
	struct rng *r = arg;
	uintptr_t s = vio_lock();
	bool done = r->error || !r->busy;

	vio_unlock(s);
	return done;
}

/* dev is a live rng and the arguments are sane. */
static int begin(struct vio_device *dev, const void *buf, size_t len)
{
	if (!dev || dev->driver != &vio_rng_driver)
		return VIO_ENODEV;
	if (vio_dev_state(dev) != VIO_DEV_READY)
		return vio_dev_state(dev) == VIO_DEV_FAILED ? VIO_ESHUTDOWN : VIO_ENODEV;
	if (!buf || len > INT32_MAX)
		return VIO_EINVAL;
	return 0;
}

int vio_rng_read(struct vio_device *dev, void *buf, size_t len, uint64_t timeout_ns)
{
	const struct vio_port *port = vio_port();
	struct rng *r;
	size_t done = 0;
	uint64_t start;
	uintptr_t s;
	int rc;

	rc = begin(dev, buf, len);
	if (rc)
		return rc;
	r = dev->priv;
	start = port->time_ns(port->ctx);
	for (;;) {
		uint64_t elapsed, now;

		s = vio_lock();
		rc = r->error;
		if (!rc) {
			done += take(r, (uint8_t *)buf + done, len - done);
			if (done < len)
				rc = request(r);
		}
		vio_unlock(s);
		if (rc)
			return rc;
		if (done == len)
			break;
		now = port->time_ns(port->ctx);
		stamp(r, now);
		elapsed = now - start;
		rc = elapsed >= timeout_ns ? VIO_ETIMEDOUT
					   : vio_dev_wait(dev, r->vq, ready, r, timeout_ns - elapsed);
		if (rc == VIO_ETIMEDOUT)
			check_stale(dev, r);
		if (rc)
			return rc;
	}
	/* Keep one request out so the next read finds bytes waiting. */
	s = vio_lock();
	request(r);
	vio_unlock(s);
	return (int)len;
}

int vio_rng_read_nonblock(struct vio_device *dev, void *buf, size_t len)
{
	struct rng *r;
	uintptr_t s;
	size_t n;
	int rc;

	rc = begin(dev, buf, len);
	if (rc)
		return rc;
	r = dev->priv;
	vio_dev_poll(dev); /* what the device completed meanwhile */
	s = vio_lock();
	rc = r->error;
	n = rc ? 0 : take(r, buf, len);
	if (!rc)
		rc = request(r);
	vio_unlock(s);
	if (rc)
		return rc;
	return n ? (int)n : VIO_EAGAIN;
}

static int rng_probe(struct vio_device *dev)
{
	const struct vio_rng_params *p = dev->params;
	const struct vio_port *port = vio_port();
	struct rng *r = dev->priv;
	/* 5.4.2: requestq is queue 0; one request is out at a time, a few entries are plenty */
	struct vio_vq_opts opts = { .max_size = 8, .handler = rng_done, .arg = r };

	r->dev = dev;
	r->timeout_ns = (uint64_t)(p && p->timeout_ms ? p->timeout_ms : CONFIG_VIO_TIMEOUT_MS) *
			1000000u;
	r->buf = port->dma_alloc(port->ctx, RNG_CHUNK, 64);
	if (!r->buf)
		return VIO_ENOMEM;
	return vio_dev_vq_setup(dev, 0, &opts, &r->vq);
}

static void rng_remove(struct vio_device *dev)
{
	const struct vio_port *port = vio_port();
	struct rng *r = dev->priv;

	if (r && r->buf)
		port->dma_free(port->ctx, r->buf, RNG_CHUNK);
	if (r)
		r->buf = NULL;
}

/* vio_dev_recover: nothing the application set lives here; probe again. */
static int rng_resume(struct vio_device *dev)
{
	memset(dev->priv, 0, sizeof(struct rng));
	return rng_probe(dev);
}

const struct vio_driver vio_rng_driver = {
	.name = "rng",
	.device_id = VIRTIO_ID_RNG,
	.features = 0, /* 5.4.3: none defined */
	.feature_names = NULL,
	.priv_size = sizeof(struct rng),
	.probe = rng_probe,
	.remove = rng_remove,
	.resume = rng_resume,
};
