/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-blk (VirtIO 1.2 section 5.2) against a hostile block device: any
 * capacity, sizes, limits and topology in config space (5.2.4), any status
 * byte and used length in the request footer (5.2.6), the ID string
 * without a terminator, writeback toggles, blocking and asynchronous
 * requests interleaved with resets, config changes and interrupts.
 */
#include <stdint.h>
#include <string.h>

#include <vio/blk.h>
#include <vio/device.h>
#include <vio/spec/virtio_config.h>

#include "blk_model.h"
#include "fuzz.h"
#include "sim.h"

#define SECTORS 64
#define NREQ 4

static struct sim_blk blk;
static uint8_t disk[SECTORS * 512];
static uint8_t buf[8 * 512];
static uint8_t abuf[NREQ][2 * 512];
static struct vio_blk_req reqs[NREQ];
static struct vio_sg sgs[NREQ][2];
static bool busy[NREQ];
static char idbuf[NREQ][VIO_BLK_ID_LEN + 1];

static void req_done(struct vio_blk_req *req)
{
	busy[req - reqs] = false;
}

static void api(struct vio_device *dev, uint8_t op)
{
	struct vio_blk_info info;
	char id[VIO_BLK_ID_LEN + 1];
	uint64_t sector = fz_u8() & 0x80 ? fz_u64() : fz_u8() % (SECTORS + 2);
	uint32_t count = fz_u8() % 9;

	switch (op % 16) {
	case 0:
		(void)vio_blk_read(dev, sector, buf, count);
		break;
	case 1:
		(void)vio_blk_write(dev, sector, buf, count);
		break;
	case 2:
		(void)vio_blk_flush(dev);
		break;
	case 3:
		(void)vio_blk_discard(dev, sector, fz_u32());
		break;
	case 4:
		(void)vio_blk_write_zeroes(dev, sector, fz_u32(), fz_u8() & 1);
		break;
	case 5:
		(void)vio_blk_get_id(dev, id, fz_u8() % sizeof(id));
		break;
	case 6:
		(void)vio_blk_writeback(dev);
		break;
	case 7:
		(void)vio_blk_set_writeback(dev, fz_u8() & 1);
		break;
	case 8:
		(void)vio_blk_get_info(dev, &info);
		break;
	case 9:
	case 10: {
		/* An asynchronous request on any queue. */
		unsigned i = fz_u8() % NREQ;
		struct vio_blk_req *r = &reqs[i];

		if (busy[i])
			break;
		memset(r, 0, sizeof(*r));
		r->op = (enum vio_blk_op)(fz_u8() % 6);
		r->sector = sector;
		r->count = count;
		sgs[i][0] = (struct vio_sg){ abuf[i], 512 };
		sgs[i][1] = (struct vio_sg){ abuf[i] + 512, 512 };
		r->sg = sgs[i];
		r->nsg = 1 + (fz_u8() & 1);
		r->id = idbuf[i];
		r->done = req_done;
		busy[i] = true;
		if ((op % 16 == 9 ? vio_blk_submit(dev, fz_u8() % 3, r)
				  : vio_blk_queue(dev, fz_u8() % 3, r)) != 0)
			busy[i] = false;
		break;
	}
	case 11:
		vio_blk_kick(dev, fz_u8() % 3);
		break;
	case 12:
		(void)vio_blk_poll(dev, fz_u8() % 3);
		break;
	case 13:
		(void)vio_blk_wait(dev, fz_u8() % 3, fz_timeout());
		break;
	case 14:
		(void)vio_blk_in_flight(dev, fz_u8() % 3);
		break;
	default:
		(void)vio_blk_set_timeout(dev, fz_timeout());
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct vio_blk_params params = {
		.max_queues = 2, .queue_size = 8, .max_segments = 4, .timeout_ms = 5,
	};
	struct sim_dev *d;
	struct vio_device *dev;

	fz_start(data, size);
	fz_begin(fz_u8());
	memset(busy, 0, sizeof(busy));
	vio_driver_register(&vio_blk_driver, &params);
	d = fz_dev_new(VIRTIO_ID_BLOCK);
	sim_blk_attach(d, &blk, disk, SECTORS);
	blk.serial = "0123456789abcdefghij"; /* 20 bytes: no terminator on the wire */
	fz_hostile(d);
	dev = fz_add(d);
	fz_run(d, dev, 256, api);
	fz_end();
	return 0;
}
