/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-mmio register layout (VirtIO 1.2 section 4.2.2 for version 2,
 * section 4.2.4 for the legacy version 1).
 */
#ifndef VIO_SPEC_VIRTIO_MMIO_H
#define VIO_SPEC_VIRTIO_MMIO_H

#define VIRTIO_MMIO_MAGIC_VALUE 0x000       /* "virt" */
#define VIRTIO_MMIO_VERSION 0x004           /* 1 legacy, 2 modern */
#define VIRTIO_MMIO_DEVICE_ID 0x008
#define VIRTIO_MMIO_VENDOR_ID 0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES 0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES 0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_GUEST_PAGE_SIZE 0x028   /* legacy only */
#define VIRTIO_MMIO_QUEUE_SEL 0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX 0x034
#define VIRTIO_MMIO_QUEUE_NUM 0x038
#define VIRTIO_MMIO_QUEUE_ALIGN 0x03c       /* legacy only */
#define VIRTIO_MMIO_QUEUE_PFN 0x040         /* legacy only */
#define VIRTIO_MMIO_QUEUE_READY 0x044       /* modern only */
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060
#define VIRTIO_MMIO_INTERRUPT_ACK 0x064
#define VIRTIO_MMIO_STATUS 0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW 0x080    /* modern only, 0x080..0x0a4 */
#define VIRTIO_MMIO_QUEUE_DESC_HIGH 0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW 0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH 0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW 0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4
#define VIRTIO_MMIO_SHM_SEL 0x0ac
#define VIRTIO_MMIO_CONFIG_GENERATION 0x0fc /* modern only */
#define VIRTIO_MMIO_CONFIG 0x100            /* device-specific space */

#define VIRTIO_MMIO_MAGIC 0x74726976u       /* little-endian "virt" */

/* 4.2.2: InterruptStatus bits */
#define VIRTIO_MMIO_INT_VRING 1u
#define VIRTIO_MMIO_INT_CONFIG 2u

#endif
