/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the independent loops (indep_loop.c, indep_net_loop.c) share beyond
 * reaching the device and the rings: memory for rings and buffers, the
 * console's command lines, the instruction-counting plugin's mark.
 */
#ifndef INDEP_COMMON_H
#define INDEP_COMMON_H

#include <stddef.h>

/*
 * The instruction-counting plugin (insn_plugin.c) snapshots its counters
 * each time this runs: just before and just after each workload.
 */
void bench_mark(unsigned tag);

/*
 * size zeroed bytes aligned to align (a power of two) from the board's
 * DMA region, never freed: rings and buffers are set up once. NULL when
 * the region is used up.
 */
void *indep_dma_zalloc(size_t size, size_t align);

/* One line from the console (no echo, empty lines skipped), NUL-terminated. */
void indep_read_line(char *buf, size_t size);

#endif
