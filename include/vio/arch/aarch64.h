/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AArch64 register access. Device registers are mapped Device-nGnRE; the
 * barriers order them against the rings in normal memory the way Linux's
 * readl/writel do (dmb oshst before a write, dmb oshld after a read). The
 * accesses are single plain ldr/str instructions so that a hypervisor can
 * decode a trapped access (no writeback addressing modes). The ring barriers
 * are inner-shareable: the device is, in effect, another CPU.
 */
#ifndef VIO_ARCH_AARCH64_H
#define VIO_ARCH_AARCH64_H

#include <stdint.h>

#define vio_mb() __asm__ volatile("dmb ish" ::: "memory")
#define vio_rmb() __asm__ volatile("dmb ishld" ::: "memory")
#define vio_wmb() __asm__ volatile("dmb ishst" ::: "memory")

static inline uint8_t vio_read8(uintptr_t addr)
{
	uint8_t v;

	__asm__ volatile("ldrb %w0, [%1]" : "=r"(v) : "r"(addr) : "memory");
	__asm__ volatile("dmb oshld" ::: "memory");
	return v;
}

static inline void vio_write8(uintptr_t addr, uint8_t v)
{
	__asm__ volatile("dmb oshst" ::: "memory");
	__asm__ volatile("strb %w0, [%1]" : : "r"(v), "r"(addr) : "memory");
}

static inline uint16_t vio_read16(uintptr_t addr)
{
	uint16_t v;

	__asm__ volatile("ldrh %w0, [%1]" : "=r"(v) : "r"(addr) : "memory");
	__asm__ volatile("dmb oshld" ::: "memory");
	return v;
}

static inline void vio_write16(uintptr_t addr, uint16_t v)
{
	__asm__ volatile("dmb oshst" ::: "memory");
	__asm__ volatile("strh %w0, [%1]" : : "r"(v), "r"(addr) : "memory");
}

static inline uint32_t vio_read32(uintptr_t addr)
{
	uint32_t v;

	__asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(addr) : "memory");
	__asm__ volatile("dmb oshld" ::: "memory");
	return v;
}

static inline void vio_write32(uintptr_t addr, uint32_t v)
{
	__asm__ volatile("dmb oshst" ::: "memory");
	__asm__ volatile("str %w0, [%1]" : : "r"(v), "r"(addr) : "memory");
}

#endif
