/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-pci access for the benchmarks' independent loops, written from the
 * VirtIO 1.2 specification and sharing no code with vio: the modern
 * interface through the vendor capabilities found in a function's
 * configuration space (4.1.4), and the legacy interface of a transitional
 * function through its I/O BAR (4.1.4.8, 4.1.5). The bus itself (buses
 * numbered, BARs assigned, decoding and bus mastering on, INTx routed) is
 * the board layer's (board_pci_functions), as it is for vio.
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

/*
 * 4.1.4.8: the legacy interface's registers at the start of I/O BAR0; the
 * device-specific configuration follows at 0x14 while MSI-X is off (the
 * loops never turn it on: they take INTx).
 */
#define PL_HOST_FEATURES 0x00  /* le32, read-only: feature bits 0..31 */
#define PL_GUEST_FEATURES 0x04 /* le32 */
#define PL_QUEUE_PFN 0x08      /* le32: the ring's address >> 12 */
#define PL_QUEUE_SIZE 0x0c     /* le16, read-only */
#define PL_QUEUE_SEL 0x0e      /* le16 */
#define PL_QUEUE_NOTIFY 0x10   /* le16 */
#define PL_STATUS 0x12         /* u8 */
#define PL_ISR 0x13            /* u8, reading clears it */
#define PL_CONFIG 0x14

/* One virtio-pci function: where its structures are, as CPU addresses. */
struct indep_pci {
	bool legacy;          /* driven through its legacy I/O BAR */
	uintptr_t io;         /* legacy: I/O BAR0, through the board's I/O window */
	uintptr_t common;     /* modern: struct virtio_pci_common_cfg */
	uintptr_t notify;     /* modern: the notification area's base */
	uint32_t notify_len;  /* its length in bytes */
	uint32_t notify_mul;  /* notify_off_multiplier (4.1.4.4) */
	uintptr_t isr;        /* the ISR status byte (4.1.4.5; legacy: io + PL_ISR) */
	uintptr_t device;     /* the device-specific configuration */
	int irq;              /* the INTx line as the board numbers it, -1 for none */
};

/*
 * The first virtio-pci function of virtio device type id (net or block)
 * whose device configuration match() accepts (it gets the configuration's
 * CPU address): modern when it has the modern capabilities, otherwise a
 * transitional function's legacy interface. 0 and *p filled, or -1 when
 * there is none.
 */
int indep_pci_find(unsigned id, bool (*match)(uintptr_t device_cfg), struct indep_pci *p);

#endif
