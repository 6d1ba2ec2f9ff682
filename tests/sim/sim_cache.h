/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A cache model for the test port: the simulator as a platform whose DMA is
 * not cache-coherent, so that every cache-maintenance operation the library
 * leaves out fails a host test.
 *
 * Off by default: the ports of sim_port.h are coherent, and the simulated
 * device reads and writes the library's memory directly. The non-coherent
 * ports below set the port's cache_clean and cache_invalidate and turn the
 * model on until the next sim_port_reset. From then on the CPU and the
 * device each have their own view of DMA memory:
 *
 * - The CPU's view is plain memory: whatever the library (or a test) reads
 *   and writes through a pointer. It stands for the contents of the CPU's
 *   data cache.
 * - The device's view stands for RAM. The simulator's ring walking, used-
 *   ring writes and every device model read and write only this view: ring
 *   memory through a shadow of the DMA pool, the buffers of a descriptor
 *   chain through the shadow (pool memory) or through a bounce buffer over
 *   a line table (any other memory, such as a caller's data buffer).
 *
 * They meet only through the port's hooks, a whole cache line
 * (SIM_CACHE_LINE bytes) at a time, as on real hardware:
 *
 * - cache_clean(p, len) writes back every line the range touches that the
 *   CPU has written since the line was last cleaned or invalidated (a
 *   "dirty" line), whole: bytes of the line outside the range go too.
 *   A line the CPU has not written is left alone, even when its copy is
 *   stale, as a write-back cache would. Writing back a line over bytes the
 *   device wrote after the CPU last synced it (the CPU wrote a line it had
 *   not refreshed, such as a ring field next to device-written ones) puts
 *   stale data over the device's: a driver error too.
 * - cache_invalidate(p, len) replaces the CPU's copy of every line the range
 *   touches by the device's. What the CPU wrote there and never cleaned is
 *   lost: that is reported as a driver error (a "dirty discard"), whether
 *   it lies inside the range or next to it.
 *
 * So a device that reads memory the library wrote but did not clean sees
 * the old contents (for memory outside the pool, which nobody ever
 * cleaned, a poison pattern), and a library that reads memory the device
 * wrote without invalidating it first sees its own stale copy; either way
 * the test then fails on the data. One more mistake has no effect on data
 * in a deterministic simulation but corrupts it on hardware: the device
 * writing (or being handed for writing) a line the CPU holds dirty, which
 * an eviction could write back over the device's data at any moment. That
 * is reported as a driver error too.
 *
 * Memory the port's dma_alloc hands out is zero in both views (a real port
 * zeroes and cleans it, or maps it uncached). Memory outside the pool is
 * unknown to the device until the CPU cleans it: a line of it is poison in
 * the device's view and counts as dirty in the CPU's until then.
 *
 * The model never writes bytes outside the DMA pool that the library did
 * not name: an invalidate that would discard CPU data next to a caller's
 * buffer reports it and leaves those bytes alone, so a test never corrupts
 * its own stack or globals.
 */
#ifndef VIO_SIM_CACHE_H
#define VIO_SIM_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vio/port.h>

#define SIM_CACHE_LINE 64u

/* What the device's view of memory the CPU never cleaned reads as. */
#define SIM_CACHE_POISON 0xdbu

/*
 * The ports of sim_port.h with cache_clean and cache_invalidate set: with
 * interrupts, and polled. Either call turns the model on (the device's view
 * starts as a copy of the CPU's) until sim_port_reset.
 */
const struct vio_port *sim_port_noncoherent(void);
const struct vio_port *sim_port_noncoherent_polled(void);

/* The model is on. */
bool sim_cache_on(void);

/* What the model saw since it was turned on. */
struct sim_cache_stats {
	unsigned cleans;             /* cache_clean calls */
	unsigned invalidates;        /* cache_invalidate calls */
	unsigned lines_written_back; /* dirty lines a clean wrote back */
	unsigned lines_invalidated;  /* lines an invalidate refreshed */
	unsigned dirty_discards;     /* lines whose unclean CPU data an invalidate dropped */
	unsigned dirty_under_device; /* device writes to lines the CPU held dirty */
	unsigned stale_write_backs;  /* dirty lines written back over newer device data */
};
extern struct sim_cache_stats sim_cache_stats;

/*
 * The device's view, for tests and models: copy len bytes at DMA address
 * addr out of it, or into it (as the device writes: checked against dirty
 * CPU lines). With the model off, plain memory.
 */
void sim_cache_dev_read(uint64_t addr, void *dst, size_t len);
void sim_cache_dev_write(uint64_t addr, const void *src, size_t len);

/* True when the CPU holds a dirty line anywhere in [p, p+len). */
bool sim_cache_dirty(const void *p, size_t len);

/* ------------------------------------------------------------------ */
/* For the simulator (sim.c) and the test port (sim_port.c) only. */

/*
 * Where the device reaches DMA address addr for ring memory: its shadow
 * in the pool while the model is on, else addr itself. Rings are always in
 * the pool (queue set-up checks it).
 */
void *sim_cache_dev_ptr(uint64_t addr);

/*
 * The device wrote [addr, addr+len) through sim_cache_dev_ptr: report the
 * lines the CPU holds dirty there.
 */
void sim_cache_dev_wrote(uint64_t addr, size_t len);

/*
 * A buffer of a descriptor chain, as the device model gets it: the shadow,
 * or a bounce buffer filled from the device's view. Every buffer mapped is
 * given up by sim_cache_seg_release; when served is true, the writable ones
 * are then stored into the device's view (and checked like any device
 * write). With the model off, addr itself and a no-op.
 */
void *sim_cache_seg_map(uint64_t addr, uint32_t len, bool writable);
void sim_cache_seg_release(bool served);

/* The test port: the pool is at base, a block was allocated or freed. */
void sim_cache_pool(uint8_t *base, size_t size);
void sim_cache_alloc(void *p, size_t size);
void sim_cache_free(void *p, size_t size);
/*
 * The non-coherent ports turn the model on, then hand over each block
 * already live (it starts coherent).
 */
void sim_cache_enable(void);
void sim_cache_adopt(void *p, size_t size);
/* The test port was reset: the model is off and forgets everything. */
void sim_cache_reset(void);
/* The port's hooks. */
void sim_cache_clean(void *ctx, const void *p, size_t len);
void sim_cache_invalidate(void *ctx, const void *p, size_t len);

#endif
