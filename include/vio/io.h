/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Register access and memory barriers, one small inline header per
 * architecture. Only transports include this file.
 *
 *   vio_read32(addr) / vio_write32(addr, v)  32-bit device register access,
 *       ordered after earlier memory accesses (write) and before later
 *       ones (read), like Linux's readl/writel
 *   vio_read8/16, vio_write8/16               narrower config-space access
 *   vio_mb() / vio_rmb() / vio_wmb()          barriers between the CPU and a
 *       device sharing normal memory (the rings)
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

#endif
