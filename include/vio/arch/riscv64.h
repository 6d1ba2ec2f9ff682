/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RISC-V 64 register access. The fences follow the RVWMO mapping Linux uses
 * for readl/writel: a write is ordered after earlier memory writes (the ring
 * update must be visible before the notify), a read before later memory
 * reads (the used ring after the interrupt status).
 */
#ifndef VIO_ARCH_RISCV64_H
#define VIO_ARCH_RISCV64_H

#include <stdint.h>

#define vio_mb() __asm__ volatile("fence rw,rw" ::: "memory")
#define vio_rmb() __asm__ volatile("fence r,r" ::: "memory")
#define vio_wmb() __asm__ volatile("fence w,w" ::: "memory")

static inline uint8_t vio_read8(uintptr_t addr)
{
	uint8_t v = *(volatile uint8_t *)addr;
	__asm__ volatile("fence i,r" ::: "memory");
	return v;
}

static inline void vio_write8(uintptr_t addr, uint8_t v)
{
	__asm__ volatile("fence w,o" ::: "memory");
	*(volatile uint8_t *)addr = v;
}

static inline uint16_t vio_read16(uintptr_t addr)
{
	uint16_t v = *(volatile uint16_t *)addr;
	__asm__ volatile("fence i,r" ::: "memory");
	return v;
}

static inline void vio_write16(uintptr_t addr, uint16_t v)
{
	__asm__ volatile("fence w,o" ::: "memory");
	*(volatile uint16_t *)addr = v;
}

static inline uint32_t vio_read32(uintptr_t addr)
{
	uint32_t v = *(volatile uint32_t *)addr;
	__asm__ volatile("fence i,r" ::: "memory");
	return v;
}

static inline void vio_write32(uintptr_t addr, uint32_t v)
{
	__asm__ volatile("fence w,o" ::: "memory");
	*(volatile uint32_t *)addr = v;
}

#endif
