/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-net wire formats (VirtIO 1.2 section 5.1): feature bits, the
 * configuration layout, the per-frame header and the control queue's
 * classes, commands and acks. Little-endian on modern devices; a legacy
 * device uses the guest's byte order (5.1.6.1, 5.1.4 legacy notes).
 */
#ifndef VIO_SPEC_VIRTIO_NET_H
#define VIO_SPEC_VIRTIO_NET_H

#include <stdint.h>

#include "virtio_types.h"

/* 5.1.3: feature bits */
#define VIRTIO_NET_F_CSUM 0                 /* device completes partial checksums (tx) */
#define VIRTIO_NET_F_GUEST_CSUM 1           /* driver takes partial / validated checksums (rx) */
#define VIRTIO_NET_F_CTRL_GUEST_OFFLOADS 2
#define VIRTIO_NET_F_MTU 3
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_GSO 6                  /* legacy */
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_GUEST_ECN 9
#define VIRTIO_NET_F_GUEST_UFO 10
#define VIRTIO_NET_F_HOST_TSO4 11
#define VIRTIO_NET_F_HOST_TSO6 12
#define VIRTIO_NET_F_HOST_ECN 13
#define VIRTIO_NET_F_HOST_UFO 14
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_F_CTRL_VQ 17
#define VIRTIO_NET_F_CTRL_RX 18
#define VIRTIO_NET_F_CTRL_VLAN 19
#define VIRTIO_NET_F_CTRL_RX_EXTRA 20
#define VIRTIO_NET_F_GUEST_ANNOUNCE 21
#define VIRTIO_NET_F_MQ 22
#define VIRTIO_NET_F_CTRL_MAC_ADDR 23
#define VIRTIO_NET_F_NOTF_COAL 53
#define VIRTIO_NET_F_GUEST_USO4 54
#define VIRTIO_NET_F_GUEST_USO6 55
#define VIRTIO_NET_F_HOST_USO 56
#define VIRTIO_NET_F_HASH_REPORT 57
#define VIRTIO_NET_F_GUEST_HDRLEN 59
#define VIRTIO_NET_F_RSS 60
#define VIRTIO_NET_F_RSC_EXT 61
#define VIRTIO_NET_F_STANDBY 62
#define VIRTIO_NET_F_SPEED_DUPLEX 63

/* 5.1.4: status bits */
#define VIRTIO_NET_S_LINK_UP 1u
#define VIRTIO_NET_S_ANNOUNCE 2u

/* 5.1.4: limits of the configuration fields */
#define VIRTIO_NET_MTU_MIN 68u
#define VIRTIO_NET_MTU_MAX 65535u
#define VIRTIO_NET_MQ_PAIRS_MIN 1u
#define VIRTIO_NET_MQ_PAIRS_MAX 0x8000u
#define VIRTIO_NET_DUPLEX_HALF 0u
#define VIRTIO_NET_DUPLEX_FULL 1u

/* 5.1.4: device configuration layout */
struct virtio_net_config {
	uint8_t mac[6];
	vio_le16 status;
	vio_le16 max_virtqueue_pairs;
	vio_le16 mtu;
	vio_le32 speed;
	uint8_t duplex;
	uint8_t rss_max_key_size;
	vio_le16 rss_max_indirection_table_length;
	vio_le32 supported_hash_types;
};

_Static_assert(sizeof(struct virtio_net_config) == 24, "virtio_net_config is 24 bytes");

/* 5.1.6: the header in front of every frame */
struct virtio_net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	vio_le16 hdr_len;
	vio_le16 gso_size;
	vio_le16 csum_start;
	vio_le16 csum_offset;
	vio_le16 num_buffers; /* VERSION_1 or MRG_RXBUF only: the legacy header is 10 bytes */
};

#define VIRTIO_NET_HDR_LEN_LEGACY 10u /* 5.1.6.1: legacy without MRG_RXBUF */
#define VIRTIO_NET_HDR_LEN 12u

_Static_assert(sizeof(struct virtio_net_hdr) == VIRTIO_NET_HDR_LEN, "virtio_net_hdr is 12 bytes");

#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1u
#define VIRTIO_NET_HDR_F_DATA_VALID 2u
#define VIRTIO_NET_HDR_F_RSC_INFO 4u

#define VIRTIO_NET_HDR_GSO_NONE 0u
#define VIRTIO_NET_HDR_GSO_TCPV4 1u
#define VIRTIO_NET_HDR_GSO_UDP 3u
#define VIRTIO_NET_HDR_GSO_TCPV6 4u
#define VIRTIO_NET_HDR_GSO_UDP_L4 5u
#define VIRTIO_NET_HDR_GSO_ECN 0x80u

/* 5.1.6.5: control queue: class, command, data..., then the device's ack */
struct virtio_net_ctrl_hdr {
	uint8_t class;
	uint8_t command;
};

#define VIRTIO_NET_OK 0u
#define VIRTIO_NET_ERR 1u

/* 5.1.6.5.1 */
#define VIRTIO_NET_CTRL_RX 0u
#define VIRTIO_NET_CTRL_RX_PROMISC 0u
#define VIRTIO_NET_CTRL_RX_ALLMULTI 1u
#define VIRTIO_NET_CTRL_RX_ALLUNI 2u
#define VIRTIO_NET_CTRL_RX_NOMULTI 3u
#define VIRTIO_NET_CTRL_RX_NOUNI 4u
#define VIRTIO_NET_CTRL_RX_NOBCAST 5u

/* 5.1.6.5.2: a table is a le32 count followed by that many 6-byte addresses */
#define VIRTIO_NET_CTRL_MAC 1u
#define VIRTIO_NET_CTRL_MAC_TABLE_SET 0u
#define VIRTIO_NET_CTRL_MAC_ADDR_SET 1u

/* 5.1.6.5.3 */
#define VIRTIO_NET_CTRL_VLAN 2u
#define VIRTIO_NET_CTRL_VLAN_ADD 0u
#define VIRTIO_NET_CTRL_VLAN_DEL 1u

/* 5.1.6.5.4 */
#define VIRTIO_NET_CTRL_ANNOUNCE 3u
#define VIRTIO_NET_CTRL_ANNOUNCE_ACK 0u

/* 5.1.6.5.5: data is a le16 virtqueue_pairs */
#define VIRTIO_NET_CTRL_MQ 4u
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET 0u
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN 1u
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX 0x8000u

/* 5.1.6.5.6 */
#define VIRTIO_NET_CTRL_GUEST_OFFLOADS 5u
#define VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET 0u

#endif
