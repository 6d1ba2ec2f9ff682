/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Virtqueue layouts: split (VirtIO 1.2 section 2.7) and packed (2.8).
 *
 * Fields are little-endian on modern devices and guest-native on legacy
 * ones; the virtqueue converts them where it reads or writes shared memory.
 */
#ifndef VIO_SPEC_VIRTIO_RING_H
#define VIO_SPEC_VIRTIO_RING_H

#include <stdint.h>
#include "virtio_types.h"

/* 2.7.5: descriptor flags */
#define VIRTQ_DESC_F_NEXT 1u
#define VIRTQ_DESC_F_WRITE 2u
#define VIRTQ_DESC_F_INDIRECT 4u

/* 2.7.6 / 2.7.8: notification suppression flags */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1u
#define VIRTQ_USED_F_NO_NOTIFY 1u

/* 2.7.5 */
struct virtq_desc {
	vio_le64 addr;
	vio_le32 len;
	uint16_t flags;
	uint16_t next;
};

/* 2.7.6: followed by used_event (le16) when VIRTIO_RING_F_EVENT_IDX */
struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};

/* 2.7.8 */
struct virtq_used_elem {
	vio_le32 id; /* 32 bits for padding reasons; only 16 are meaningful */
	vio_le32 len;
};

/* 2.7.8: followed by avail_event (le16) when VIRTIO_RING_F_EVENT_IDX */
struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[];
};

/* 2.7: alignment of each part of a split virtqueue (modern interface) */
#define VIRTQ_DESC_ALIGN 16u
#define VIRTQ_AVAIL_ALIGN 2u
#define VIRTQ_USED_ALIGN 4u

/* 2.7.7.2: does the event index ask for a notification? */
static inline int virtq_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old_idx);
}

/*
 * Packed virtqueue layout (section 2.8), negotiated by VIRTIO_F_RING_PACKED
 * (modern devices only): one ring of descriptors both sides write, and two
 * event suppression structures.
 */

/* 2.8.1: the wrap-counter flags of a packed descriptor */
#define PVIRTQ_DESC_F_AVAIL (1u << 7)
#define PVIRTQ_DESC_F_USED (1u << 15)

/* 2.8.13 */
struct pvirtq_desc {
	vio_le64 addr;
	vio_le32 len;
	uint16_t id;
	uint16_t flags;
};

/* 2.8.14: desc is the event offset (bits 0-14) and wrap counter (bit 15) */
struct pvirtq_event_suppress {
	uint16_t desc;
	uint16_t flags;
};

/* 2.8.10: event suppression flags */
#define PVIRTQ_EVENT_F_ENABLE 0u
#define PVIRTQ_EVENT_F_DISABLE 1u
#define PVIRTQ_EVENT_F_DESC 2u /* only with VIRTIO_RING_F_EVENT_IDX */

/* 2.8.10.1: alignment of each part of a packed virtqueue */
#define PVIRTQ_DESC_ALIGN 16u
#define PVIRTQ_EVENT_ALIGN 4u
#define PVIRTQ_SIZE_MAX 32768u /* 2.8: up to 2^15 entries */

#endif
