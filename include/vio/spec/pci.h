/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PCI configuration space as far as vio uses it (PCI Local Bus 3.0 chapter
 * 6, PCI-to-PCI Bridge 1.2 chapter 3, PCI Express 4.0 section 7.2.2 for
 * ECAM). Offsets into a function's configuration space; no logic.
 */
#ifndef VIO_SPEC_PCI_H
#define VIO_SPEC_PCI_H

/* The common header (both header types) */
#define PCI_VENDOR_ID 0x00 /* 16 bits; 0xffff: no function */
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_CLASS_REVISION 0x08 /* class << 8 | revision */
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d /* 0 none, 1..4 INTA..INTD */

/* Header type 0 */
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID 0x2e

/* Header type 1 (PCI-to-PCI bridge) */
#define PCI_PRIMARY_BUS 0x18
#define PCI_SECONDARY_BUS 0x19
#define PCI_SUBORDINATE_BUS 0x1a
#define PCI_IO_BASE 0x1c /* 8 bits: address bits 15:12 in 7:4 */
#define PCI_IO_LIMIT 0x1d
#define PCI_MEMORY_BASE 0x20 /* 16 bits: address bits 31:20 in 15:4 */
#define PCI_MEMORY_LIMIT 0x22
#define PCI_PREF_MEMORY_BASE 0x24
#define PCI_PREF_MEMORY_LIMIT 0x26
#define PCI_PREF_BASE_UPPER32 0x28
#define PCI_PREF_LIMIT_UPPER32 0x2c
#define PCI_IO_BASE_UPPER16 0x30
#define PCI_IO_LIMIT_UPPER16 0x32
#define PCI_BRIDGE_CONTROL 0x3e

#define PCI_HEADER_TYPE_MASK 0x7f
#define PCI_HEADER_TYPE_NORMAL 0
#define PCI_HEADER_TYPE_BRIDGE 1
#define PCI_HEADER_MULTI_FUNCTION 0x80

#define PCI_COMMAND_IO 0x0001
#define PCI_COMMAND_MEMORY 0x0002
#define PCI_COMMAND_MASTER 0x0004
#define PCI_COMMAND_INTX_DISABLE 0x0400

#define PCI_STATUS_CAP_LIST 0x0010

/* Base address registers (6.2.5.1) */
#define PCI_BAR_IO 0x1u
#define PCI_BAR_MEM_TYPE_MASK 0x6u
#define PCI_BAR_MEM_TYPE_64 0x4u
#define PCI_BAR_MEM_PREFETCH 0x8u
#define PCI_BAR_MEM_MASK (~0xfu)
#define PCI_BAR_IO_MASK (~0x3u)

#define PCI_BRIDGE_IO_32 0x1 /* low nibble of IO_BASE: 32-bit I/O addressing */
#define PCI_BRIDGE_PREF_64 0x1 /* low nibble of PREF_MEMORY_BASE: 64-bit */

/* Capabilities (6.7): the list starts at PCI_CAPABILITY_LIST, dword aligned */
#define PCI_CAP_ID 0
#define PCI_CAP_NEXT 1
#define PCI_CAP_ID_MSIX 0x11
#define PCI_CAP_ID_VNDR 0x09

/* PCI Local Bus 3.0 section 6.8.2: the MSI-X capability and its table. */
#define PCI_MSIX_FLAGS 2              /* le16 Message Control */
#define PCI_MSIX_FLAGS_QSIZE 0x07ff   /* table size - 1 */
#define PCI_MSIX_FLAGS_MASKALL 0x4000 /* function mask */
#define PCI_MSIX_FLAGS_ENABLE 0x8000
#define PCI_MSIX_TABLE 4              /* le32: offset | BIR */
#define PCI_MSIX_PBA 8                /* le32: offset | BIR */
#define PCI_MSIX_BIR_MASK 0x7u
#define PCI_MSIX_CAP_SIZE 12
#define PCI_MSIX_ENTRY_SIZE 16
#define PCI_MSIX_ENTRY_ADDR_LO 0
#define PCI_MSIX_ENTRY_ADDR_HI 4
#define PCI_MSIX_ENTRY_DATA 8
#define PCI_MSIX_ENTRY_CTRL 12
#define PCI_MSIX_ENTRY_CTRL_MASK 0x1u
#define PCI_MSIX_MAX_ENTRIES 2048
/*
 * PCI Express Base 4.0 section 7.5.3: the PCI Express capability, with
 * the link and slot registers of a root or downstream port (7.5.3.6-7.5.3.11)
 * that native hot-plug (6.7) works through.
 */
#define PCI_CAP_ID_EXP 0x10
#define PCI_EXP_FLAGS 2                /* le16 Capabilities Register */
#define PCI_EXP_FLAGS_TYPE 0x00f0      /* Device/Port Type */
#define PCI_EXP_TYPE_ROOT_PORT 0x4
#define PCI_EXP_TYPE_DOWNSTREAM 0x6
#define PCI_EXP_FLAGS_SLOT 0x0100      /* Slot Implemented */
#define PCI_EXP_LNKCAP 0x0c            /* le32 */
#define PCI_EXP_LNKCAP_DLLLARC 0x00100000 /* Data Link Layer Link Active Reporting Capable */
#define PCI_EXP_LNKSTA 0x12            /* le16 */
#define PCI_EXP_LNKSTA_DLLLA 0x2000    /* Data Link Layer Link Active */
#define PCI_EXP_SLTCAP 0x14            /* le32 Slot Capabilities */
#define PCI_EXP_SLTCAP_ABP 0x01        /* Attention Button Present */
#define PCI_EXP_SLTCAP_PCP 0x02        /* Power Controller Present */
#define PCI_EXP_SLTCAP_HPC 0x40        /* Hot-Plug Capable */
#define PCI_EXP_SLTCTL 0x18            /* le16 Slot Control */
#define PCI_EXP_SLTCTL_PIC 0x0300      /* Power Indicator Control */
#define PCI_EXP_SLTCTL_PIC_ON 0x0100
#define PCI_EXP_SLTCTL_PIC_OFF 0x0300
#define PCI_EXP_SLTCTL_PCC 0x0400      /* Power Controller Control: 1 = off */
#define PCI_EXP_SLTSTA 0x1a            /* le16 Slot Status (events are RW1C) */
#define PCI_EXP_SLTSTA_ABP 0x0001      /* Attention Button Pressed */
#define PCI_EXP_SLTSTA_PDC 0x0008      /* Presence Detect Changed */
#define PCI_EXP_SLTSTA_PDS 0x0040      /* Presence Detect State */
#define PCI_EXP_SLTSTA_DLLSC 0x0100    /* Data Link Layer State Changed */

/* The capability list lives above the standard header, below 256 bytes. */
#define PCI_CAP_FIRST 0x40
#define PCI_CFG_SPACE_SIZE 256
#define PCI_ECAM_FUNC_SIZE 4096

#define PCI_CLASS_BRIDGE_PCI 0x0604

/* PCI-SIG vendor of virtio devices (VirtIO 1.2 section 4.1.2) */
#define PCI_VENDOR_ID_REDHAT_QUMRANET 0x1af4

#endif
