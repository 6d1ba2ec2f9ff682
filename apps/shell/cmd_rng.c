/* SPDX-License-Identifier: Apache-2.0 */
/* Entropy commands: rng. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vio/error.h>
#include <vio/rng.h>
#include <vio/spec/virtio_config.h>

#include "vio_config.h"

#include "shell.h"

#if CONFIG_VIO_DRIVER_RNG

#define RNG_MAX 4096
#define RNG_DEFAULT 16

static int cmd_rng(int argc, char **argv)
{
	static uint8_t buf[RNG_MAX];
	struct vio_device *dev = vio_dev_find(VIRTIO_ID_RNG, 0);
	bool nonblock = false;
	unsigned long len = RNG_DEFAULT;
	int arg = 1;
	int r;

	if (arg < argc && !strcmp(argv[arg], "-n")) {
		nonblock = true;
		arg++;
	}
	if (arg < argc) {
		char *end;

		len = strtoul(argv[arg], &end, 0);
		if (*end || len < 1 || len > RNG_MAX) {
			printf("rng: byte count must be 1 to %d ('help rng' says more)\n", RNG_MAX);
			return 1;
		}
		arg++;
	}
	if (arg < argc) {
		return shell_usage("rng [-n] [N]");
	}
	if (!dev) {
		printf("rng: no virtio-rng device\n");
		return 1;
	}
	if (vio_dev_state(dev) != VIO_DEV_READY) {
		printf("rng: %s is not ready: %s\n", dev->name, vio_strerror(dev->error));
		return 1;
	}
	if (nonblock)
		r = vio_rng_read_nonblock(dev, buf, len);
	else
		r = vio_rng_read(dev, buf, len, (uint64_t)CONFIG_VIO_TIMEOUT_MS * 1000000u);
	if (r == VIO_EAGAIN) {
		printf("rng: nothing delivered yet; try again\n");
		return 1;
	}
	if (r < 0) {
		printf("rng: %s: %s\n", dev->name, vio_strerror(r));
		return 1;
	}
	shell_hexdump(buf, (size_t)r);
	return 0;
}

const struct shell_cmd shell_rng_cmds[] = {
	{ "rng", "[-n] [N]", "N random bytes from rng0 (default 16, at most 4096); -n: no waiting",
	  cmd_rng, "-n" },
	{ NULL, NULL, NULL, NULL, NULL },
};

#endif
