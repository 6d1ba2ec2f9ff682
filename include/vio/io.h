/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Register access and memory barriers, one small inline header per
 * architecture. Transports use the register accessors, ring files the barriers
 * and the shared-memory accessors; nothing else includes this file.
 *
 *   vio_read32(addr) / vio_write32(addr, v)  32-bit device register access,
 *       ordered after earlier memory accesses (write) and before later
 *       ones (read), like Linux's readl/writel
 *   vio_read8/16, vio_write8/16               narrower config-space access
 *   vio_mb() / vio_rmb() / vio_wmb()          barriers between the CPU and a
 *       device sharing normal memory (the rings)
 *   vio_shared_read16/32, vio_shared_write16  one access to a field of shared
 *       memory the device also writes or reads (a ring index, an event
 *       field), done exactly once and never torn; ordering is the
 *       barriers' job
 */
#ifndef VIO_IO_H
#define VIO_IO_H

#include <stdint.h>

#if defined(VIO_HOST_SIM)
#include "arch/host.h"
#elif defined(__riscv) && __riscv_xlen == 64
#include "arch/riscv64.h"
#elif defined(__aarch64__)
#include "arch/aarch64.h"
#else
#error "vio: no register-access header for this architecture (see include/vio/arch/)"
#endif

#ifndef VIO_ARCH_HAS_SHARED_ACCESS
/* Read a 16-bit field the device also writes, once. */
static inline uint16_t vio_shared_read16(const uint16_t *p)
{
	return *(const volatile uint16_t *)p;
}

/* Read a 32-bit field the device also writes, once. */
static inline uint32_t vio_shared_read32(const uint32_t *p)
{
	return *(const volatile uint32_t *)p;
}

/* Write a 16-bit field the device reads, once. */
static inline void vio_shared_write16(uint16_t *p, uint16_t v)
{
	*(volatile uint16_t *)p = v;
}
#endif

#endif
