/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Host build (tests): register accesses are routed to the simulated device in
 * tests/sim, which implements the functions declared here. Accesses to shared
 * ring fields are atomic (acquire loads, release stores) so that the thread
 * sanitizer sees the device thread's and the driver's accesses ordered the
 * way the barriers order them on a target; the full barrier also reaches the
 * simulator, which models when the driver's stores become visible to the
 * device (sim.h: store visibility).
 */
#ifndef VIO_ARCH_HOST_H
#define VIO_ARCH_HOST_H

#include <stdint.h>

uint32_t vio_host_mmio_read(uintptr_t addr, unsigned width);
void vio_host_mmio_write(uintptr_t addr, uint32_t value, unsigned width);
/* A full barrier was executed: the simulator makes the driver's buffered stores visible. */
void vio_host_mb(void);
/*
 * A shared 16-bit field was loaded as v: returns the value the driver sees
 * (its own buffered store, if any); the simulator may let the device run
 * after the load.
 */
uint16_t vio_host_shared_load16(const uint16_t *p, uint16_t v);
/* A shared 16-bit field is stored: at once, or into the simulator's store buffer. */
void vio_host_shared_store16(uint16_t *p, uint16_t v);

#define vio_mb() (__atomic_thread_fence(__ATOMIC_SEQ_CST), vio_host_mb())
#define vio_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define vio_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)

static inline uint8_t vio_read8(uintptr_t addr) { return (uint8_t)vio_host_mmio_read(addr, 1); }
static inline uint16_t vio_read16(uintptr_t addr) { return (uint16_t)vio_host_mmio_read(addr, 2); }
static inline uint32_t vio_read32(uintptr_t addr) { return vio_host_mmio_read(addr, 4); }
static inline void vio_write8(uintptr_t addr, uint8_t v) { vio_host_mmio_write(addr, v, 1); }
static inline void vio_write16(uintptr_t addr, uint16_t v) { vio_host_mmio_write(addr, v, 2); }
static inline void vio_write32(uintptr_t addr, uint32_t v) { vio_host_mmio_write(addr, v, 4); }

#define VIO_ARCH_HAS_SHARED_ACCESS 1

static inline uint16_t vio_shared_read16(const uint16_t *p)
{
	return vio_host_shared_load16(p, __atomic_load_n(p, __ATOMIC_ACQUIRE));
}

static inline uint32_t vio_shared_read32(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void vio_shared_write16(uint16_t *p, uint16_t v)
{
	vio_host_shared_store16(p, v);
}

#endif
