/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lwIP's options for vio's adapter (adapters/lwip): an IPv4 stack in lwIP's
 * NO_SYS mode, called from one thread (the application's main loop, which
 * runs vio_service and sys_check_timeouts), over virtio-net netifs.
 *
 * Sizes aim at a few MB/s of TCP on QEMU: a window of 40 segments, the same
 * send buffer, and enough segments and pbufs to keep both full. Received
 * frames cost no lwIP memory: they stay in the driver's receive buffers as
 * custom pbufs (vio_netif.c).
 */
#ifndef VIO_LWIPOPTS_H
#define VIO_LWIPOPTS_H

/* One thread, no OS: no sequential or socket API, no locking inside lwIP. */
#define NO_SYS 1
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
#define SYS_LIGHTWEIGHT_PROT 0
/* lwIP is never called from an interrupt: vio's handlers only note work. */
#define LWIP_TCPIP_CORE_LOCKING 0

/* Memory: lwIP's own heap for PBUF_RAM and small pools. */
#define MEM_ALIGNMENT 8
#define MEM_SIZE (512 * 1024)
#define MEMP_NUM_PBUF 128          /* PBUF_REF/ROM: tcp_write without copy, ARP queue */
#define MEMP_NUM_TCP_PCB 16
#define MEMP_NUM_TCP_PCB_LISTEN 8
#define MEMP_NUM_UDP_PCB 8
#define MEMP_NUM_RAW_PCB 4
#define MEMP_NUM_SYS_TIMEOUT (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 4)
/*
 * The pool backs nothing received (custom pbufs do); lwIP takes from it
 * only when it must copy (ICMP echo replies, reassembly).
 */
#define PBUF_POOL_SIZE 32
#define PBUF_POOL_BUFSIZE 1536

/* Protocols. */
#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define ARP_QUEUEING 1
#define ETHARP_SUPPORT_STATIC_ENTRIES 0
#define LWIP_ICMP 1
#define LWIP_RAW 1
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_DHCP 1
#define LWIP_DHCP_DOES_ACD_CHECK 0
#define DHCP_DOES_ARP_CHECK 0     /* a lease is usable at once (QEMU's server) */
#define LWIP_AUTOIP 0
#define LWIP_IGMP 0
#define LWIP_DNS 0
#define IP_REASSEMBLY 1
#define IP_FRAG 1

/* TCP. */
#define TCP_MSS 1460
#define TCP_WND (40 * TCP_MSS)
#define TCP_SND_BUF (40 * TCP_MSS)
#define TCP_SND_QUEUELEN (4 * TCP_SND_BUF / TCP_MSS)
#define MEMP_NUM_TCP_SEG (TCP_SND_QUEUELEN + 32)
#define TCP_QUEUE_OOSEQ 1
/* Out-of-order segments hold the driver's receive buffers: bound them. */
#define TCP_OOSEQ_MAX_PBUFS 32
#define LWIP_TCP_KEEPALIVE 1
#define LWIP_CALLBACK_API 1
/*
 * lwIP's sanity check wants TCP_WND to fit in the pbuf pool; here received
 * segments sit in the driver's receive buffers (CONFIG_VIO_NET_RX_BUFFERS,
 * 256 by default, more than the window's 40 frames), not in the pool.
 */
#define LWIP_DISABLE_TCP_SANITY_CHECKS 1

/* The netif: status and link callbacks, per-netif checksum control. */
#define LWIP_NETIF_STATUS_CALLBACK 1
#define LWIP_NETIF_LINK_CALLBACK 1
#define LWIP_NETIF_HOSTNAME 1
#define LWIP_NETIF_TX_SINGLE_PBUF 0  /* vio_net_queue takes a chain as it is */
#define LWIP_SINGLE_NETIF 0
/*
 * lwIP computes and checks every checksum unless the netif says otherwise
 * (netif->chksum_flags): vio_netif.c turns off what the device does
 * (VIRTIO_NET_F_CSUM on transmit; DATA_VALID frames on receive).
 */
#define LWIP_CHECKSUM_CTRL_PER_NETIF 1
#define CHECKSUM_GEN_IP 1
#define CHECKSUM_GEN_UDP 1
#define CHECKSUM_GEN_TCP 1
#define CHECKSUM_GEN_ICMP 1
#define CHECKSUM_CHECK_IP 1
#define CHECKSUM_CHECK_UDP 1
#define CHECKSUM_CHECK_TCP 1
#define CHECKSUM_CHECK_ICMP 1
/* Headers and payload for a frame are at most MTU + 14 bytes: no padding. */
#define ETH_PAD_SIZE 0

/* Statistics off: the driver counts frames, vio_netif.c the adapter's drops. */
#define LWIP_STATS 0
#define LWIP_STATS_DISPLAY 0

#endif
