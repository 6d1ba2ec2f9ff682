/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The smallest useful vio program: start the library on the board's
 * virtio-mmio slots, print the first bytes of the first block device and
 * bytes from the first entropy device, then exit QEMU with the result.
 *
 *   BLOCK <hex>    the first 64 bytes of sector 0
 *   RANDOM <hex>   32 bytes from virtio-rng
 *   DONE           and exit status 0
 */
#include <stdint.h>
#include <stdio.h>

#include <vio/blk.h>
#include <vio/device.h>
#include <vio/error.h>
#include <vio/mmio.h>
#include <vio/rng.h>
#include <vio/spec/virtio_config.h>

#include "board.h"
#include "vio_baremetal.h"
#include "vio_config.h"

#if !CONFIG_VIO_DRIVER_BLK || !CONFIG_VIO_DRIVER_RNG || !CONFIG_VIO_TRANSPORT_MMIO
#error "this example needs a vio built with the blk and rng drivers and virtio-mmio"
#endif

#define TIMEOUT_NS 2000000000ull
#define SHOW_BYTES 64

static uint8_t sector[512] __attribute__((aligned(16)));

static void print_hex(const char *label, const uint8_t *p, size_t n)
{
	printf("%s ", label);
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
	printf("\n");
}

/* The first device of a kind, if a driver took it. */
static struct vio_device *ready(uint32_t id, const char *what)
{
	struct vio_device *dev = vio_dev_find(id, 0);

	if (!dev || dev->state != VIO_DEV_READY) {
		printf("FAIL no ready %s device\n", what);
		return NULL;
	}
	return dev;
}

int main(void)
{
	const struct board_info *b = board_info();
	struct vio_device *blk, *rng;
	uint8_t random[32];
	int err;

	vio_baremetal_init();
	err = vio_init(vio_baremetal_port(), vio_baremetal_os());
	if (!err)
		err = vio_driver_register(&vio_blk_driver, NULL);
	if (!err)
		err = vio_driver_register(&vio_rng_driver, NULL);
	if (err) {
		printf("FAIL vio start: %s\n", vio_strerror(err));
		board_exit(1);
	}
	/* Empty slots answer VIO_ENODEV; a refused device says why in the log. */
	for (unsigned i = 0; i < b->nvirtio; i++)
		(void)vio_mmio_add(b->virtio[i].base, b->virtio[i].irq, b->virtio[i].slot, NULL);

	blk = ready(VIRTIO_ID_BLOCK, "block");
	rng = ready(VIRTIO_ID_RNG, "entropy");
	if (!blk || !rng)
		board_exit(1);

	err = vio_blk_read(blk, 0, sector, 1);
	if (err) {
		printf("FAIL read sector 0: %s\n", vio_strerror(err));
		board_exit(1);
	}
	print_hex("BLOCK", sector, SHOW_BYTES);

	err = vio_rng_read(rng, random, sizeof(random), TIMEOUT_NS);
	if (err != (int)sizeof(random)) {
		printf("FAIL rng: %s\n", err < 0 ? vio_strerror(err) : "short read");
		board_exit(1);
	}
	print_hex("RANDOM", random, sizeof(random));
	printf("DONE\n");
	fflush(stdout);
	board_exit(0);
}
