/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-pci modern access for the benchmarks' independent loops, written
 * from the VirtIO 1.2 specification (4.1.4) and sharing no code with vio:
 * the vendor capabilities found in a function's configuration space and
 * the common configuration's fields. The bus itself (buses numbered, BARs
 * assigned, decoding and bus mastering on) is the board layer's
 * (board_pci_functions), as it is for vio.
 */
#ifndef INDEP_VIRTIO_PCI_H
#define INDEP_VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

/* 4.1.4.3: struct virtio_pci_common_cfg, byte offsets. */
#define PC_DEV_FEATURE_SEL 0x00  /* le32 */
#define PC_DEV_FEATURE 0x04      /* le32 */
#define PC_DRV_FEATURE_SEL 0x08  /* le32 */
#define PC_DRV_FEATURE 0x0c      /* le32 */
#define PC_MSIX_CONFIG 0x10      /* le16 */
#define PC_NUM_QUEUES 0x12       /* le16 */
#define PC_STATUS 0x14           /* u8 */
#define PC_CONFIG_GEN 0x15       /* u8 */
#define PC_QUEUE_SEL 0x16        /* le16 */
#define PC_QUEUE_SIZE 0x18       /* le16 */
#define PC_QUEUE_MSIX 0x1a       /* le16 */
#define PC_QUEUE_ENABLE 0x1c     /* le16 */
#define PC_QUEUE_NOTIFY_OFF 0x1e /* le16 */
#define PC_QUEUE_DESC 0x20       /* le64 */
#define PC_QUEUE_DRIVER 0x28     /* le64 */
#define PC_QUEUE_DEVICE 0x30     /* le64 */

/* One modern function: where its structures are, as CPU addresses. */
struct indep_pci {
	uintptr_t common;     /* struct virtio_pci_common_cfg */
	uintptr_t notify;     /* the notification area's base */
	uint32_t notify_len;  /* its length in bytes */
	uint32_t notify_mul;  /* notify_off_multiplier (4.1.4.4) */
	uintptr_t device;     /* the device-specific configuration */
};

/*
 * The first modern virtio-pci function of virtio device type id whose
 * device configuration match() accepts (it gets the configuration's CPU
 * address); 0 and *p filled, or -1 when there is none.
 */
int indep_pci_find(unsigned id, bool (*match)(uintptr_t device_cfg), struct indep_pci *p);

#endif
