/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The network device model (VirtIO 1.2 section 5.1) for host tests: a
 * virtio-net device behind the simulated virtio-mmio device, with receive
 * queues the test feeds (net_model_inject), transmit queues that record
 * what the driver sent, and a control queue that answers commands.
 *
 * The model checks what a driver MUST do: receive chains device-writable
 * only, at least a header long, big enough for a full frame without
 * MRG_RXBUF, the header alone in the first descriptor on a legacy device
 * without ANY_LAYOUT (5.1.6.6), on both queues; transmit chains readable
 * only, a header with gso_type NONE, frames within the MTU, no checksum
 * request without CSUM; control commands well formed. A violation is a
 * driver error (sim_error).
 *
 * Receiving plays the device's side of 5.1.6.4: a frame takes one buffer,
 * or with MRG_RXBUF as many consecutive buffers as it needs, num_buffers
 * in the first one's header. Without a frame to deliver the model holds
 * the receive chains (the ring stays full of posted buffers, which a test
 * counts with sim_held).
 *
 * Knobs make the device misbehave: used lengths shorter than the header,
 * num_buffers 0 or beyond what was posted, acks other than OK, no ack,
 * control commands never answered, transmit chains held.
 */
#ifndef VIO_SIM_NET_MODEL_H
#define VIO_SIM_NET_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "sim.h"

#define SIM_NET_FRAME_MAX 9216u  /* longest frame a test injects or the log keeps */
#define SIM_NET_POOL 512u        /* injected frames not yet delivered, all queues */
#define SIM_NET_TX_LOG 512u      /* transmitted frames remembered (the last ones) */
#define SIM_NET_PAIRS 8u
#define SIM_NET_MAC_MAX 64u

/* A frame as the model keeps it. */
struct sim_net_frame {
	uint32_t len;
	uint16_t pair;
	uint8_t flags;         /* header flags */
	uint8_t gso_type;
	uint16_t csum_start, csum_offset;
	uint8_t data[SIM_NET_FRAME_MAX];
};

/* One control command as the device saw it. */
struct sim_net_cmd {
	uint8_t class, command;
	uint32_t len;          /* data bytes */
	uint8_t data[2 * (4 + 6 * SIM_NET_MAC_MAX)];
	uint8_t ack;           /* what the device answered */
};

struct sim_net {
	/* knobs */
	bool tx_hold;          /* keep every transmit chain pending until cleared */
	bool rx_short_once;    /* next receive completion: used length hdr_len - 1 */
	int rx_num_buffers;    /* -1: the truth; else written into the next frame's header */
	int ctrl_ack;          /* -1: the real ack; else every ack is this byte */
	bool ctrl_no_ack;      /* answer with used length 0 and the ack byte untouched */
	bool ctrl_hold;        /* never answer a command */

	/* state */
	uint16_t pairs;        /* queue pairs in use (VQ_PAIRS_SET), 1 after a reset */
	uint16_t max_pairs;    /* as the config says */
	bool promisc, allmulti;
	unsigned n_uc, n_mc;
	uint8_t uc[SIM_NET_MAC_MAX][6], mc[SIM_NET_MAC_MAX][6];

	/* receive: injected frames waiting per pair, in order (frames in pool) */
	uint16_t pool_free[SIM_NET_POOL];
	unsigned npool_free;
	uint16_t fifo[SIM_NET_PAIRS][SIM_NET_POOL];
	unsigned fifo_head[SIM_NET_PAIRS], fifo_count[SIM_NET_PAIRS];
	/* the frame being delivered on each pair, and where */
	int cur[SIM_NET_PAIRS];        /* pool slot, -1: none */
	uint32_t cur_off[SIM_NET_PAIRS];
	unsigned cur_left[SIM_NET_PAIRS];

	/* observed */
	unsigned rx_frames;    /* frames delivered */
	unsigned rx_bufs;      /* receive buffers used */
	unsigned rx_per_pair[SIM_NET_PAIRS];
	unsigned max_num_buffers;
	unsigned tx_frames;    /* frames transmitted */
	unsigned tx_per_pair[SIM_NET_PAIRS];
	unsigned max_tx_segs;  /* longest transmit chain (descriptors, header included) */
	struct sim_net_cmd cmds[16];   /* command i at i % 16 */
	unsigned ncmds;
	unsigned announce_acks;

	/*
	 * The frame stores, last: 9 MiB that net_model_attach leaves as they
	 * are (a frame's fields and bytes are written whenever it is stored,
	 * and nothing reads a slot before that), so attaching costs no more
	 * than the rest of the struct (the fuzz target attaches per input).
	 */
	struct sim_net_frame pool[SIM_NET_POOL];
	struct sim_net_frame tx_log[SIM_NET_TX_LOG]; /* frame i at i % SIM_NET_TX_LOG */
};

extern const struct sim_model sim_net_model;

/*
 * Make d a net device with max_pairs queue pairs (1 .. SIM_NET_PAIRS;
 * more than 1 offers MQ), like QEMU's virtio-net-device for the features
 * vio uses: MAC 52:54:00:12:34:56, STATUS (link up), MTU 1500, SPEED_DUPLEX
 * (1000, full), MRG_RXBUF, CSUM, GUEST_CSUM, CTRL_VQ, CTRL_RX,
 * CTRL_MAC_ADDR, GUEST_ANNOUNCE, the ring's INDIRECT_DESC and EVENT_IDX,
 * VERSION_1 on a modern device and ANY_LAYOUT on a legacy one. Change any
 * of it with d->features and sim_config_set before the driver probes. net
 * is zeroed, all but the contents of its frame stores (pool, tx_log).
 */
void net_model_attach(struct sim_dev *d, struct sim_net *net, unsigned max_pairs);

/*
 * Queue a frame for receive queue pair q with header flags (NEEDS_CSUM,
 * DATA_VALID); the device delivers it at a later sim_step. Returns 0, or
 * -1 when the model has no room.
 */
int net_model_inject(struct sim_dev *d, unsigned q, const void *bytes, uint32_t len,
		     uint8_t flags);
/* The same with every header field chosen. */
int net_model_inject_hdr(struct sim_dev *d, unsigned q, const void *bytes, uint32_t len,
			 uint8_t flags, uint8_t gso_type, uint16_t csum_start,
			 uint16_t csum_offset);

/* Frames injected for pair q and not yet delivered (the one under way included). */
unsigned net_model_pending(const struct sim_dev *d, unsigned q);

/* Transmitted frame i (0 = the first since attach), or NULL if no longer kept. */
const struct sim_net_frame *net_model_tx(const struct sim_dev *d, unsigned i);

/* The header length the model uses with what the driver accepted (10 or 12). */
unsigned net_model_hdr_len(const struct sim_dev *d);

#endif
