/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The virtio-gpu benchmark firmware (run_gpu_bench.py): vio's driver doing
 * what indep_gpu_loop.c does by hand. A 1280x800 framebuffer on scanout 0,
 * then one command a line on the UART:
 *
 *   full <n>      n full-screen updates (vio_gpu_update: TRANSFER_TO_HOST_2D
 *                 and RESOURCE_FLUSH in one batch)
 *   partial <n>   n updates of 64x64 tiles walking over the screen
 *       RES kind=<full|partial> n=<n> ns=<elapsed> bad=<failed calls>
 *   quit
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vio/device.h>
#include <vio/error.h>
#include <vio/fb.h>
#include <vio/gpu.h>
#include <vio/spec/virtio_config.h>

#include "app.h"
#include "board.h"

#define TILE 64u

static struct vio_fb fb;

/* The instruction-counting plugin (run_gpu_bench.py --insns) snapshots its counters here. */
void bench_mark(unsigned tag);
__attribute__((noinline)) void bench_mark(unsigned tag)
{
	__asm__ volatile("" : : "r"(tag) : "memory");
}

static void bench(struct vio_device *dev, bool full, uint32_t n)
{
	uint32_t cols = fb.width / TILE, rows = fb.height / TILE;
	unsigned bad = 0;
	uint64_t t0 = board_time_ns();

	bench_mark(1);
	for (uint32_t k = 0; k < n; k++) {
		struct vio_gpu_rect r = { 0, 0, fb.width, fb.height };

		if (!full)
			r = (struct vio_gpu_rect){ (k % cols) * TILE, ((k / cols) % rows) * TILE, TILE,
						   TILE };
		if (vio_gpu_update(dev, fb.res[0], &r, (uint64_t)r.y * fb.stride + r.x * 4u, 0))
			bad++;
	}
	bench_mark(2);
	printf("RES kind=%s n=%lu ns=%llu bad=%u\n", full ? "full" : "partial", (unsigned long)n,
	       (unsigned long long)(board_time_ns() - t0), bad);
}

int main(void)
{
	struct vio_device *dev;
	char line[64];
	size_t n = 0;
	int rc;

	app_vio_start();
	dev = vio_dev_find(VIRTIO_ID_GPU, 0);
	rc = vio_fb_open(&fb, dev, 0, 1280, 800, VIO_FB_XRGB8888, 0);
	if (rc) {
		printf("ERR framebuffer: %s\n", vio_strerror(rc));
		board_exit(1);
	}
	for (uint32_t y = 0; y < fb.height; y++)
		for (uint32_t x = 0; x < fb.width; x++)
			fb.pixels[y * fb.width + x] = x * 255 / fb.width;
	printf("BENCH READY %s vio gpu %s %s\n", board_info()->name, vio_dev_interface(dev),
	       vio_dev_uses_irq(dev) ? "irq" : "poll");
	for (;;) {
		int c = getchar();

		if (c == EOF) {
			clearerr(stdin);
			continue;
		}
		if (c != '\r' && c != '\n') {
			if (n + 1 < sizeof(line))
				line[n++] = (char)c;
			continue;
		}
		line[n] = '\0';
		n = 0;
		if (!strncmp(line, "full ", 5))
			bench(dev, true, (uint32_t)strtoul(line + 5, NULL, 0));
		else if (!strncmp(line, "partial ", 8))
			bench(dev, false, (uint32_t)strtoul(line + 8, NULL, 0));
		else if (!strcmp(line, "quit"))
			board_exit(0);
		else if (line[0])
			printf("ERR unknown command '%s'\n", line);
	}
}
