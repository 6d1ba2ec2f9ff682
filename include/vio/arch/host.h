/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Host build (tests): register accesses are routed to the simulated device in
 * tests/sim, which implements these four functions. Barriers are compiler and
 * CPU fences so the sanitizers see ordered accesses.
 */
#ifndef VIO_ARCH_HOST_H
#define VIO_ARCH_HOST_H

#include <stdint.h>

uint32_t vio_host_mmio_read(uintptr_t addr, unsigned width);
void vio_host_mmio_write(uintptr_t addr, uint32_t value, unsigned width);

#define vio_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define vio_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define vio_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)

static inline uint8_t vio_read8(uintptr_t addr) { return (uint8_t)vio_host_mmio_read(addr, 1); }
static inline uint16_t vio_read16(uintptr_t addr) { return (uint16_t)vio_host_mmio_read(addr, 2); }
static inline uint32_t vio_read32(uintptr_t addr) { return vio_host_mmio_read(addr, 4); }
static inline void vio_write8(uintptr_t addr, uint8_t v) { vio_host_mmio_write(addr, v, 1); }
static inline void vio_write16(uintptr_t addr, uint16_t v) { vio_host_mmio_write(addr, v, 2); }
static inline void vio_write32(uintptr_t addr, uint32_t v) { vio_host_mmio_write(addr, v, 4); }

#endif
