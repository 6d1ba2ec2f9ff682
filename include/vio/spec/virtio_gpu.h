/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-gpu wire formats (VirtIO 1.2 section 5.7), 2D subset plus the
 * cursor queue and EDID. Every multi-byte field is little-endian (1.4):
 * virtio-gpu is a VirtIO 1.0 device, and QEMU keeps that order when it
 * offers the device on legacy virtio-mmio too.
 */
#ifndef VIO_SPEC_VIRTIO_GPU_H
#define VIO_SPEC_VIRTIO_GPU_H

#include <stdint.h>

#include "virtio_types.h"

/* 5.7.2: virtqueues */
#define VIRTIO_GPU_CONTROLQ 0
#define VIRTIO_GPU_CURSORQ 1

/* 5.7.3: feature bits */
#define VIRTIO_GPU_F_VIRGL 0
#define VIRTIO_GPU_F_EDID 1
#define VIRTIO_GPU_F_RESOURCE_UUID 2
#define VIRTIO_GPU_F_RESOURCE_BLOB 3
#define VIRTIO_GPU_F_CONTEXT_INIT 4

/* 5.7.4: device configuration layout (offsets) */
#define VIRTIO_GPU_CFG_EVENTS_READ 0
#define VIRTIO_GPU_CFG_EVENTS_CLEAR 4
#define VIRTIO_GPU_CFG_NUM_SCANOUTS 8
#define VIRTIO_GPU_CFG_NUM_CAPSETS 12
#define VIRTIO_GPU_EVENT_DISPLAY (1u << 0)

/* 5.7.6.7: the spec's limit on scanouts */
#define VIRTIO_GPU_MAX_SCANOUTS 16

/* 5.7.6.7: command and response types */
enum virtio_gpu_ctrl_type {
	/* 2D commands */
	VIRTIO_GPU_CMD_GET_DISPLAY_INFO = 0x0100,
	VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
	VIRTIO_GPU_CMD_RESOURCE_UNREF,
	VIRTIO_GPU_CMD_SET_SCANOUT,
	VIRTIO_GPU_CMD_RESOURCE_FLUSH,
	VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D,
	VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING,
	VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING,
	VIRTIO_GPU_CMD_GET_CAPSET_INFO,
	VIRTIO_GPU_CMD_GET_CAPSET,
	VIRTIO_GPU_CMD_GET_EDID,
	/* cursor commands */
	VIRTIO_GPU_CMD_UPDATE_CURSOR = 0x0300,
	VIRTIO_GPU_CMD_MOVE_CURSOR,
	/* success responses */
	VIRTIO_GPU_RESP_OK_NODATA = 0x1100,
	VIRTIO_GPU_RESP_OK_DISPLAY_INFO,
	VIRTIO_GPU_RESP_OK_CAPSET_INFO,
	VIRTIO_GPU_RESP_OK_CAPSET,
	VIRTIO_GPU_RESP_OK_EDID,
	/* error responses */
	VIRTIO_GPU_RESP_ERR_UNSPEC = 0x1200,
	VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY,
	VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID,
	VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID,
	VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID,
	VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
};

/* 5.7.6.7: header flags */
#define VIRTIO_GPU_FLAG_FENCE (1u << 0)

/* 5.7.6.7: the header every request and response starts with (24 bytes) */
struct virtio_gpu_ctrl_hdr {
	vio_le32 type;
	vio_le32 flags;
	vio_le64 fence_id;
	vio_le32 ctx_id;
	uint8_t ring_idx;
	uint8_t padding[3];
};

struct virtio_gpu_rect {
	vio_le32 x;
	vio_le32 y;
	vio_le32 width;
	vio_le32 height;
};

/* 5.7.6.8: GET_DISPLAY_INFO response */
struct virtio_gpu_display_one {
	struct virtio_gpu_rect r;
	vio_le32 enabled;
	vio_le32 flags;
};

struct virtio_gpu_resp_display_info {
	struct virtio_gpu_ctrl_hdr hdr;
	struct virtio_gpu_display_one pmodes[VIRTIO_GPU_MAX_SCANOUTS];
};

/* 5.7.6.8: GET_EDID */
struct virtio_gpu_get_edid {
	struct virtio_gpu_ctrl_hdr hdr;
	vio_le32 scanout;
	vio_le32 padding;
};

#define VIRTIO_GPU_EDID_MAX 1024
struct virtio_gpu_resp_edid {
	struct virtio_gpu_ctrl_hdr hdr;
	vio_le32 size;
	vio_le32 padding;
	uint8_t edid[VIRTIO_GPU_EDID_MAX];
};

/* 5.7.6.8: formats of RESOURCE_CREATE_2D */
enum virtio_gpu_formats {
	VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM = 1,
	VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM = 2,
	VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM = 3,
	VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM = 4,
	VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM = 67,
	VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM = 68,
	VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM = 121,
	VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM = 134,
};

struct virtio_gpu_resource_create_2d {
	struct virtio_gpu_ctrl_hdr hdr;
	vio_le32 resource_id;
	vio_le32 format;
	vio_le32 width;
	vio_le32 height;
};

/* RESOURCE_UNREF and RESOURCE_DETACH_BACKING */
struct virtio_gpu_resource_unref {
	struct virtio_gpu_ctrl_hdr hdr;
	vio_le32 resource_id;
	vio_le32 padding;
};

struct virtio_gpu_set_scanout {
	struct virtio_gpu_ctrl_hdr hdr;
	struct virtio_gpu_rect r;
	vio_le32 scanout_id;
	vio_le32 resource_id;
};

struct virtio_gpu_resource_flush {
	struct virtio_gpu_ctrl_hdr hdr;
	struct virtio_gpu_rect r;
	vio_le32 resource_id;
	vio_le32 padding;
};

struct virtio_gpu_transfer_to_host_2d {
	struct virtio_gpu_ctrl_hdr hdr;
	struct virtio_gpu_rect r;
	vio_le64 offset;
	vio_le32 resource_id;
	vio_le32 padding;
};

/* RESOURCE_ATTACH_BACKING: the header, then nr_entries mem entries */
struct virtio_gpu_resource_attach_backing {
	struct virtio_gpu_ctrl_hdr hdr;
	vio_le32 resource_id;
	vio_le32 nr_entries;
};

struct virtio_gpu_mem_entry {
	vio_le64 addr;
	vio_le32 length;
	vio_le32 padding;
};

/* 5.7.6.10: cursor queue */
struct virtio_gpu_cursor_pos {
	vio_le32 scanout_id;
	vio_le32 x;
	vio_le32 y;
	vio_le32 padding;
};

struct virtio_gpu_update_cursor {
	struct virtio_gpu_ctrl_hdr hdr;
	struct virtio_gpu_cursor_pos pos;
	vio_le32 resource_id;
	vio_le32 hot_x;
	vio_le32 hot_y;
	vio_le32 padding;
};

#endif
