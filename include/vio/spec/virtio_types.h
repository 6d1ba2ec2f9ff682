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

#include <stdbool.h>
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

/*
 * Fields of buffers (request headers, net headers, control messages) in a
 * device's byte order: little-endian for modern devices (spec 1.4), the
 * guest's own order for legacy ones (VirtIO 1.0 2.4.3 "Legacy Interfaces: A Note
 * on Virtqueue Endianness"). A swap is its own inverse, so one function
 * serves both directions.
 */
static inline uint16_t vio_wire16(bool legacy, uint16_t v)
{
	return legacy ? v : vio_cpu_to_le16(v);
}

static inline uint32_t vio_wire32(bool legacy, uint32_t v)
{
	return legacy ? v : vio_cpu_to_le32(v);
}

static inline uint64_t vio_wire64(bool legacy, uint64_t v)
{
	return legacy ? v : vio_cpu_to_le64(v);
}

#endif
