/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Little-endian wire types (VirtIO 1.2 section 1.4).
 *
 * The typedefs only document which fields are little-endian on the wire; the
 * conversion helpers are no-ops on little-endian CPUs and byte swaps on
 * big-endian ones. Legacy devices (section 2.7, "legacy interface") use the
 * guest's native byte order instead: code that serves both interfaces goes
 * through the vio_vq_* / vio_dev_* accessors, which pick the right order.
 */
#ifndef VIO_SPEC_VIRTIO_TYPES_H
#define VIO_SPEC_VIRTIO_TYPES_H

#include <stdint.h>

typedef uint16_t vio_le16;
typedef uint32_t vio_le32;
typedef uint64_t vio_le64;

#if defined(__BYTE_ORDER__) && (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
#define VIO_CPU_BIG_ENDIAN 1
#else
#define VIO_CPU_BIG_ENDIAN 0
#endif

static inline uint16_t vio_le16_to_cpu(vio_le16 v)
{
#if VIO_CPU_BIG_ENDIAN
	return __builtin_bswap16(v);
#else
	return v;
#endif
}

static inline uint32_t vio_le32_to_cpu(vio_le32 v)
{
#if VIO_CPU_BIG_ENDIAN
	return __builtin_bswap32(v);
#else
	return v;
#endif
}

static inline uint64_t vio_le64_to_cpu(vio_le64 v)
{
#if VIO_CPU_BIG_ENDIAN
	return __builtin_bswap64(v);
#else
	return v;
#endif
}

#define vio_cpu_to_le16(v) vio_le16_to_cpu(v)
#define vio_cpu_to_le32(v) vio_le32_to_cpu(v)
#define vio_cpu_to_le64(v) vio_le64_to_cpu(v)

#endif
