/* SPDX-License-Identifier: Apache-2.0 */
#include "indep_common.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "board.h"

__attribute__((noinline)) void bench_mark(unsigned tag)
{
	__asm__ volatile("" : : "r"(tag) : "memory");
}

/* A bump allocator over the board's free memory. */
static uintptr_t heap, heap_end;
static bool heap_ready;

void *indep_dma_zalloc(size_t size, size_t align)
{
	uintptr_t p;

	if (!heap_ready) {
		size_t n;

		board_dma_region(&heap, &n);
		heap_end = heap + n;
		heap_ready = true;
	}
	p = (heap + align - 1) & ~(uintptr_t)(align - 1);
	if (p > heap_end || heap_end - p < size)
		return NULL;
	heap = p + size;
	memset((void *)p, 0, size);
	return (void *)p;
}

void indep_read_line(char *buf, size_t size)
{
	size_t n = 0;

	for (;;) {
		int c = getchar();

		if (c == EOF) {
			clearerr(stdin);
			continue;
		}
		if (c == '\r' || c == '\n') {
			if (n == 0)
				continue;
			break;
		}
		if (n + 1 < size)
			buf[n++] = (char)c;
	}
	buf[n] = '\0';
}
