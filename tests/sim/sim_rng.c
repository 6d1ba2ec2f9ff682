/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The entropy device model (VirtIO 1.2 section 5.4): every request is one
 * or more device-writable buffers; the device fills them from a fixed,
 * predictable stream so a test can check each byte it gets.
 */
#include <string.h>

#include <vio/spec/virtio_config.h>

#include "sim.h"

uint8_t sim_rng_byte(uint32_t pos)
{
	/* A multiplicative hash: no runs, no short cycles, easy to recompute. */
	return (uint8_t)((pos * 2654435761u) >> 24);
}

static int rng_handle(struct sim_dev *d, unsigned q, const struct sim_chain *c)
{
	struct sim_rng *rng = d->model_ctx;
	uint32_t budget, written = 0;

	if (rng->hold)
		return SIM_HOLD;
	if (rng->waited < rng->delay) {
		rng->waited++;
		return SIM_HOLD;
	}
	rng->waited = 0;
	/* 5.4.6.1: the driver offers only device-writable buffers. */
	if (c->nout)
		sim_error("dev%d: rng request with %u device-readable buffers", d->slot, c->nout);
	if (q != 0)
		sim_error("dev%d: rng request on queue %u", d->slot, q);
	budget = rng->max_fill && rng->max_fill < c->in_len ? rng->max_fill : c->in_len;
	if (rng->zero_fills) {
		rng->zero_fills--;
		budget = 0;
	}
	for (unsigned i = 0; i < c->nin && written < budget; i++) {
		uint8_t *p = c->in[i].buf;
		uint32_t n = c->in[i].len < budget - written ? c->in[i].len : budget - written;

		for (uint32_t k = 0; k < n; k++)
			p[k] = sim_rng_byte(rng->pos++);
		written += n;
	}
	rng->requests++;
	return (int)written;
}

const struct sim_model sim_rng_model = {
	.name = "rng",
	.handle = rng_handle,
};

void sim_rng_attach(struct sim_dev *d, struct sim_rng *rng)
{
	memset(rng, 0, sizeof(*rng));
	d->device_id = VIRTIO_ID_RNG;
	d->model = &sim_rng_model;
	d->model_ctx = rng;
}
