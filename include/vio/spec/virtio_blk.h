/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-blk wire format (VirtIO 1.2 section 5.2).
 *
 * Multi-byte fields are little-endian on a modern device and in the guest's
 * byte order on a legacy one (5.2.4.1, 5.2.6.3); the driver converts them
 * where it reads or writes them.
 */
#ifndef VIO_SPEC_VIRTIO_BLK_H
#define VIO_SPEC_VIRTIO_BLK_H

#include <stddef.h>
#include <stdint.h>

#include "virtio_types.h"

/* 5.2.3: feature bits */
#define VIRTIO_BLK_F_BARRIER 0       /* legacy: request barriers */
#define VIRTIO_BLK_F_SIZE_MAX 1      /* size_max: largest segment */
#define VIRTIO_BLK_F_SEG_MAX 2       /* seg_max: most data segments per request */
#define VIRTIO_BLK_F_GEOMETRY 4      /* geometry is valid */
#define VIRTIO_BLK_F_RO 5            /* the device is read-only */
#define VIRTIO_BLK_F_BLK_SIZE 6      /* blk_size is valid */
#define VIRTIO_BLK_F_SCSI 7          /* legacy: SCSI packet commands */
#define VIRTIO_BLK_F_FLUSH 9         /* VIRTIO_BLK_T_FLUSH (legacy name: WCE) */
#define VIRTIO_BLK_F_TOPOLOGY 10     /* topology is valid */
#define VIRTIO_BLK_F_CONFIG_WCE 11   /* writeback can be read and toggled */
#define VIRTIO_BLK_F_MQ 12           /* num_queues request queues */
#define VIRTIO_BLK_F_DISCARD 13      /* VIRTIO_BLK_T_DISCARD and its limits */
#define VIRTIO_BLK_F_WRITE_ZEROES 14 /* VIRTIO_BLK_T_WRITE_ZEROES and its limits */
#define VIRTIO_BLK_F_LIFETIME 15     /* VIRTIO_BLK_T_GET_LIFETIME */
#define VIRTIO_BLK_F_SECURE_ERASE 16 /* VIRTIO_BLK_T_SECURE_ERASE and its limits */
#define VIRTIO_BLK_F_ZONED 17        /* a zoned block device */

/* 5.2.4: the protocol's sector, whatever blk_size says */
#define VIRTIO_BLK_SECTOR_SIZE 512u
#define VIRTIO_BLK_SECTOR_SHIFT 9

/* 5.2.4: device configuration layout */
struct virtio_blk_geometry {
	vio_le16 cylinders;
	uint8_t heads;
	uint8_t sectors;
};

struct virtio_blk_topology {
	uint8_t physical_block_exp; /* log2 of logical blocks per physical block */
	uint8_t alignment_offset;   /* offset of the first aligned logical block */
	vio_le16 min_io_size;       /* suggested minimum I/O size, in blocks */
	vio_le32 opt_io_size;       /* optimal (suggested maximum) I/O size, in blocks */
};

struct virtio_blk_zoned_characteristics {
	vio_le32 zone_sectors;
	vio_le32 max_open_zones;
	vio_le32 max_active_zones;
	vio_le32 max_append_sectors;
	vio_le32 write_granularity;
	uint8_t model;
	uint8_t unused2[3];
};

struct virtio_blk_config {
	vio_le64 capacity; /* in 512-byte sectors, always present */
	vio_le32 size_max;
	vio_le32 seg_max;
	struct virtio_blk_geometry geometry;
	vio_le32 blk_size;
	struct virtio_blk_topology topology;
	uint8_t writeback; /* 0 writethrough, 1 writeback (VIRTIO_BLK_F_CONFIG_WCE) */
	uint8_t unused0;
	vio_le16 num_queues;
	vio_le32 max_discard_sectors;
	vio_le32 max_discard_seg;
	vio_le32 discard_sector_alignment;
	vio_le32 max_write_zeroes_sectors;
	vio_le32 max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap;
	uint8_t unused1[3];
	vio_le32 max_secure_erase_sectors;
	vio_le32 max_secure_erase_seg;
	vio_le32 secure_erase_sector_alignment;
	struct virtio_blk_zoned_characteristics zoned;
};

_Static_assert(offsetof(struct virtio_blk_config, blk_size) == 20, "virtio_blk_config layout");
_Static_assert(offsetof(struct virtio_blk_config, writeback) == 32, "virtio_blk_config layout");
_Static_assert(offsetof(struct virtio_blk_config, num_queues) == 34, "virtio_blk_config layout");
_Static_assert(offsetof(struct virtio_blk_config, write_zeroes_may_unmap) == 56,
	       "virtio_blk_config layout");
_Static_assert(sizeof(struct virtio_blk_config) == 96, "virtio_blk_config layout");

/* 5.2.6: request types */
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_SCSI_CMD 2      /* legacy */
#define VIRTIO_BLK_T_SCSI_CMD_OUT 3  /* legacy */
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_FLUSH_OUT 5     /* legacy synonym of FLUSH */
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_GET_LIFETIME 10
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_T_SECURE_ERASE 14
#define VIRTIO_BLK_T_BARRIER 0x80000000u /* legacy flag */

/* 5.2.6: the device-readable header at the start of every request */
struct virtio_blk_outhdr {
	vio_le32 type;
	vio_le32 ioprio; /* "reserved" in VirtIO 1.x; 0 */
	vio_le64 sector;
};

_Static_assert(sizeof(struct virtio_blk_outhdr) == 16, "virtio_blk_outhdr layout");

/* 5.2.6: the last, device-writable byte of every request */
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

/* 5.2.6: GET_ID data: a NUL-padded ASCII string, unterminated when 20 bytes long */
#define VIRTIO_BLK_ID_BYTES 20

/* 5.2.6: one range of a DISCARD or WRITE_ZEROES request */
struct virtio_blk_discard_write_zeroes {
	vio_le64 sector;
	vio_le32 num_sectors;
	vio_le32 flags; /* VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP; reserved bits 0 */
};

_Static_assert(sizeof(struct virtio_blk_discard_write_zeroes) == 16,
	       "virtio_blk_discard_write_zeroes layout");

/* 5.2.6: the device may deallocate the range (WRITE_ZEROES only; 0 for DISCARD) */
#define VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP 1u

#endif
