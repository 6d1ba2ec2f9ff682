/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio over PCI (VirtIO 1.2 section 4.1): the device ids, the vendor
 * capabilities of the modern interface and the register layouts of its
 * common configuration and of the legacy I/O BAR. Offsets only; the
 * transport is src/transport/pci.c.
 */
#ifndef VIO_SPEC_VIRTIO_PCI_H
#define VIO_SPEC_VIRTIO_PCI_H

/* 4.1.2.1: modern ids are 0x1040 + virtio id; transitional 0x1000..0x103f */
#define VIRTIO_PCI_DEVICE_ID_MODERN_BASE 0x1040
#define VIRTIO_PCI_DEVICE_ID_MODERN_LAST 0x107f
#define VIRTIO_PCI_DEVICE_ID_TRANS_FIRST 0x1000
#define VIRTIO_PCI_DEVICE_ID_TRANS_LAST 0x103f

/* 4.1.4: struct virtio_pci_cap, a vendor-specific capability */
#define VIRTIO_PCI_CAP_VNDR 0
#define VIRTIO_PCI_CAP_NEXT 1
#define VIRTIO_PCI_CAP_LEN 2
#define VIRTIO_PCI_CAP_CFG_TYPE 3
#define VIRTIO_PCI_CAP_BAR 4
#define VIRTIO_PCI_CAP_ID 5
#define VIRTIO_PCI_CAP_OFFSET 8
#define VIRTIO_PCI_CAP_LENGTH 12
#define VIRTIO_PCI_CAP_SIZE 16
/* 4.1.4.4: struct virtio_pci_notify_cap adds the multiplier */
#define VIRTIO_PCI_NOTIFY_CAP_MULT 16
#define VIRTIO_PCI_NOTIFY_CAP_SIZE 20

#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG 5

/* 4.1.4.3: struct virtio_pci_common_cfg */
#define VIRTIO_PCI_COMMON_DFSELECT 0x00 /* le32 */
#define VIRTIO_PCI_COMMON_DF 0x04       /* le32 */
#define VIRTIO_PCI_COMMON_GFSELECT 0x08 /* le32 */
#define VIRTIO_PCI_COMMON_GF 0x0c       /* le32 */
#define VIRTIO_PCI_COMMON_MSIX 0x10     /* le16 config_msix_vector */
#define VIRTIO_PCI_COMMON_NUMQ 0x12     /* le16 */
#define VIRTIO_PCI_COMMON_STATUS 0x14   /* u8 */
#define VIRTIO_PCI_COMMON_CFGGENERATION 0x15 /* u8 */
#define VIRTIO_PCI_COMMON_Q_SELECT 0x16 /* le16 */
#define VIRTIO_PCI_COMMON_Q_SIZE 0x18   /* le16 */
#define VIRTIO_PCI_COMMON_Q_MSIX 0x1a   /* le16 */
#define VIRTIO_PCI_COMMON_Q_ENABLE 0x1c /* le16 */
#define VIRTIO_PCI_COMMON_Q_NOFF 0x1e   /* le16 queue_notify_off */
#define VIRTIO_PCI_COMMON_Q_DESCLO 0x20
#define VIRTIO_PCI_COMMON_Q_DESCHI 0x24
#define VIRTIO_PCI_COMMON_Q_AVAILLO 0x28
#define VIRTIO_PCI_COMMON_Q_AVAILHI 0x2c
#define VIRTIO_PCI_COMMON_Q_USEDLO 0x30
#define VIRTIO_PCI_COMMON_Q_USEDHI 0x34
#define VIRTIO_PCI_COMMON_Q_NDATA 0x38  /* le16 queue_notify_data */
#define VIRTIO_PCI_COMMON_Q_RESET 0x3a  /* le16 queue_reset */
/* The fields up to queue_device are what a 1.0 device has (56 bytes). */
#define VIRTIO_PCI_COMMON_SIZE_1_0 0x38

/* 4.1.4.5: the ISR status byte (read to clear) */
#define VIRTIO_PCI_ISR_QUEUE 0x1
#define VIRTIO_PCI_ISR_CONFIG 0x2

/* 4.1.5.1.2: no MSI-X vector */
#define VIRTIO_MSI_NO_VECTOR 0xffff

/* 4.1.4.8: the legacy interface's registers in BAR0 (I/O space) */
#define VIRTIO_PCI_LEGACY_HOST_FEATURES 0  /* le32, read-only */
#define VIRTIO_PCI_LEGACY_GUEST_FEATURES 4 /* le32 */
#define VIRTIO_PCI_LEGACY_QUEUE_PFN 8      /* le32 */
#define VIRTIO_PCI_LEGACY_QUEUE_NUM 12     /* le16, read-only */
#define VIRTIO_PCI_LEGACY_QUEUE_SEL 14     /* le16 */
#define VIRTIO_PCI_LEGACY_QUEUE_NOTIFY 16  /* le16 */
#define VIRTIO_PCI_LEGACY_STATUS 18        /* u8 */
#define VIRTIO_PCI_LEGACY_ISR 19           /* u8 */
/* 4.1.4.8: with MSI-X enabled, two vector registers come before the configuration. */
#define VIRTIO_MSI_LEGACY_CONFIG_VECTOR 20 /* le16 */
#define VIRTIO_MSI_LEGACY_QUEUE_VECTOR 22  /* le16, of the selected queue */
/* Device configuration follows: at 20, or at 24 when MSI-X is enabled. */
#define VIRTIO_PCI_LEGACY_CONFIG 20
#define VIRTIO_PCI_LEGACY_CONFIG_MSIX 24
/* 4.1.5.1: the legacy queue PFN counts 4 KiB pages; the used ring is 4 KiB aligned */
#define VIRTIO_PCI_LEGACY_PFN_SHIFT 12
#define VIRTIO_PCI_LEGACY_ALIGN 4096

#endif
