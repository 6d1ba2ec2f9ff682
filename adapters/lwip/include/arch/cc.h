/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lwIP's architecture header for vio's targets (picolibc on the QEMU
 * boards, glibc in host tests): the C library supplies the types, printf
 * and errno; lwIP's GCC defaults (packed structs, little-endian) hold on
 * every board vio supports.
 */
#ifndef VIO_LWIP_ARCH_CC_H
#define VIO_LWIP_ARCH_CC_H

#include <stdint.h>
#include <stdio.h>

/*
 * Packed protocol headers: a received IP header sits 14 bytes into a
 * buffer, so its 32-bit fields are misaligned; packed structs make the
 * compiler use accesses that work where unaligned ones fault (AArch64 with
 * the MMU off, built -mstrict-align).
 */
#define PACK_STRUCT_STRUCT __attribute__((packed))

#define LWIP_PLATFORM_DIAG(x) \
	do { \
		printf x; \
	} while (0)

/*
 * An lwIP assertion is a bug: stop rather than go on corrupted. How to stop
 * is the application's (a bare-metal firmware exits QEMU, a host test
 * aborts), so it supplies vio_lwip_assert, as it supplies sys_now.
 */
void vio_lwip_assert(const char *msg, int line, const char *file) __attribute__((noreturn));
#define LWIP_PLATFORM_ASSERT(x) vio_lwip_assert(x, __LINE__, __FILE__)

/*
 * Random numbers (TCP initial sequence numbers, DHCP transaction ids, local
 * ports): a small generator in vio_netif.c, which the application seeds
 * (vio_lwip_seed), e.g. from virtio-rng.
 */
uint32_t vio_lwip_rand(void);
#define LWIP_RAND() vio_lwip_rand()

#endif
