/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The virtio-net raw-frame test firmware: vio_net alone, no TCP/IP stack.
 * The host (test_net.py, case raw) feeds the first net device raw Ethernet
 * frames through a socket netdev and reads what it sends back.
 *
 * At start it prints what the driver negotiated and READY:
 *
 *     INFO mac=<mac> mtu=<n> mrg=<0|1> csum=<0|1> guest_csum=<0|1> ctrl_vq=<0|1>
 *          hdr_len=<n> rx_buffer_size=<n> status=<0|1> link=<0|1>
 *
 * then takes one line from the host over the UART:
 *
 *     CASE raw n=<frames each way> w=<window> b=<window bytes> a=<ack every>
 *
 * Frames (EtherType 0x88b5, local experimental), after the Ethernet header:
 * type (1 byte), 0, seq (4 bytes, big-endian), the frame's length
 * (2 bytes, big-endian), then pattern bytes from pat_byte(seq, dir, i). A
 * DATA frame of sequence number seq is frame_len(seq) bytes long: every
 * size from 60 to MTU + 14 in turn.
 *
 *   1. host to guest: the host sends n DATA frames; every ACK_EVERY frames
 *      (and at the last) the guest answers an ACK carrying how many it has
 *      taken (and whenever b / 2 bytes came since the last), and the host
 *      never has more than w frames (nor b bytes, but at least one frame)
 *      unacknowledged, so neither QEMU's socket nor the ring is ever
 *      overrun (b is at least twice the largest frame, so ACKs keep coming);
 *   2. guest to host: the same the other way, the host acknowledging, so
 *      the host's socket is never overrun either;
 *   3. frames one byte beyond MTU + 14 (one segment, and two) must be
 *      refused with VIO_EMSGSIZE; an END frame follows, so the host knows
 *      that any refused frame that did leave would have arrived before it;
 *   4. once every transmitted frame completed, the driver's counters:
 *
 *      STATS rx_frames=<n> rx_bytes=<n> rx_drops=<n> rx_errors=<n>
 *            tx_frames=<n> tx_bytes=<n> tx_busy=<n> tx_errors=<n>
 *
 *   5. IDLE: the guest only runs the service loop and prints LINK up / LINK
 *      down as the link_changed callback reports them (the host flips the
 *      link through QMP) until the host sends a line END.
 *
 * Before the CASE line the host may send:
 *
 *     FILTER          a new MAC address, a filter table (one unicast entry:
 *                     the address the device started with; two multicast
 *                     ones), all-multicast on, promiscuous off; answers
 *                     "FILTER mac=<rc> table=<rc> allmulti=<rc> promisc=<rc>"
 *     RECOVER         vio_dev_fail, then vio_dev_recover; answers
 *                     "RECOVER rc=<rc> state=<ready|not-ready> mac=<mac> link=<0|1>"
 *                     (what FILTER set must be in force again)
 *     RESETPAIR       waits for RP_PRE frames of type PRE from the host and
 *                     sends it RP_PRE (so both queues of pair 0 have been
 *                     used), queues RP_FRAMES frames of type BIG on pair 0
 *                     without a kick (the device never looks at them), then
 *                     vio_net_reset_pair(0); answers "RESETPAIR rc=<rc>
 *                     pre_rx=<n> pre_tx=<n> queued=<n> cancelled=<n>
 *                     state=<ready|not-ready>": each queued frame must end
 *                     with VIO_ECANCELED and none may reach the wire
 *
 * each taking the next line after; and with a vhost-user backend
 * (test_net.py, cases mq and csum: the host program is the device's data
 * path and sees every virtio-net header) the line may instead be one of:
 *
 *     PAIRS <k>       vio_net_set_queue_pairs(k); answers
 *                     "PAIRS <k> rc=<error name> in_use=<pairs in use>" and
 *                     takes the next line (the host checks which rings QEMU
 *                     enabled in the backend)
 *     CASE mq n=<frames per pair>
 *                     on every queue pair in use at once, n MQ frames each
 *                     way: the guest queues round-robin on every transmit
 *                     queue while it checks what arrives on every receive
 *                     queue (pair, per-pair sequence, length, bytes); then
 *                     "MQ q<i>=<rx>/<tx> ..." and the counters
 *     CASE csum n=<frames to send> m=<frames to take> [e=<frames to refuse>]
 *                     transmit: n UDP and TCP frames over IPv4, three in
 *                     four with VIRTIO_NET_F_CSUM (the L4 checksum field
 *                     holds the pseudo-header sum, the device completes
 *                     it), the fourth summed here; receive: m frames whose
 *                     payload says how the host flagged them, each checked
 *                     against the flags the driver reports, then
 *                     "CSUM none_ok=.. none_bad=.. valid=.. partial=.. wrong=..";
 *                     e more frames the driver must drop as marked wrong
 *                     (counted in rx_errors, which STATS must then show)
 *
 * A PASS or FAIL line per check and exactly one RESULT line end it, before
 * QEMU exits with status 1 if anything failed, else 0.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vio/device.h>
#include <vio/error.h>
#include <vio/net.h>
#include <vio/spec/virtio_config.h>

#include "vio_config.h"

#include "app.h"
#include "board.h"
#include "report.h"

#define MS 1000000ull
#define LINE_MAX 128
#define LINE_WAIT_NS (10000 * MS)
/* With nothing arriving for this long, a phase has failed. */
#define STALL_NS (5000 * MS)

#define ETHERTYPE 0x88b5u
#define HDR 22u           /* Ethernet header, type, pad, seq, length */
#define MIN_FRAME 60u     /* what Ethernet pads to: the shortest frame sent */
#define T_DATA 1
#define T_ACK 2
#define T_BIG 3           /* must never leave */
#define T_END 4
#define T_MQ 5            /* mq: byte 15 is the queue pair */
#define T_PRE 6           /* RESETPAIR: the traffic before the reset */
#define MQ_MAX 16
#define DIR_H2G 0
#define DIR_G2H 1

/* The pattern: a xorshift32 stream the host builds the same way. */
#define PAT_SPAN 65536u
#define PAT_LEN (PAT_SPAN + 65536u)
static uint8_t pat[PAT_LEN];

static uint8_t frame[65536 + 64] __attribute__((aligned(64)));

static struct vio_device *dev;
static struct vio_net_info info;
static const uint8_t host_mac[VIO_NET_ALEN] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };

enum { CASE_RAW, CASE_MQ, CASE_CSUM };

static struct {
	int kind;
	uint64_t n, w, b, a, m, e;
} arg = { CASE_RAW, 0, 64, 65536, 16, 0, 0 };

/* Receive state, written by the rx callback. */
static struct {
	uint32_t data;       /* DATA frames taken */
	uint32_t expect;     /* the next sequence number */
	uint32_t bad;        /* frames out of order, of the wrong size or content */
	uint32_t acked;      /* the host's latest ACK */
	uint32_t other;      /* frames of no type expected */
	uint32_t pre;        /* T_PRE frames taken */
	uint32_t sent;       /* frames this guest handed the driver */
	uint32_t unacked;    /* bytes taken since the last ACK due */
	bool ack_due;
	bool link_seen;
	/* mq: per receive queue pair */
	uint32_t mq_got[MQ_MAX];
	uint32_t mq_bad;
	/* csum: frames taken by the flags the driver reported */
	uint32_t cs_none_ok, cs_none_bad, cs_valid, cs_partial, cs_wrong, cs_got;
} rx;

static void on_rx_mq(const struct vio_net_frame *f, const uint8_t *head);
static bool on_rx_ip(const struct vio_net_frame *f);

static void pat_init(void)
{
	uint32_t x = 0x12345678u;

	for (uint32_t i = 0; i < PAT_LEN; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		pat[i] = (uint8_t)x;
	}
}

/* Where in pat the payload of frame seq of direction dir starts. */
static const uint8_t *pat_at(uint32_t seq, unsigned dir)
{
	return pat + ((seq * 251u + dir * 30011u) & (PAT_SPAN - 1));
}

static uint32_t max_frame(void)
{
	return (uint32_t)info.mtu + VIO_NET_ETH_HLEN;
}

static uint32_t frame_len(uint32_t seq)
{
	return MIN_FRAME + seq % (max_frame() - MIN_FRAME + 1);
}

static void put_hdr(uint8_t *f, uint8_t type, uint32_t seq, uint32_t len)
{
	memcpy(f, host_mac, VIO_NET_ALEN);
	memcpy(f + 6, info.mac, VIO_NET_ALEN);
	f[12] = ETHERTYPE >> 8;
	f[13] = ETHERTYPE & 0xff;
	f[14] = type;
	f[15] = 0;
	f[16] = (uint8_t)(seq >> 24);
	f[17] = (uint8_t)(seq >> 16);
	f[18] = (uint8_t)(seq >> 8);
	f[19] = (uint8_t)seq;
	f[20] = (uint8_t)(len >> 8);
	f[21] = (uint8_t)len;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Send a control frame (ACK or END), padded to MIN_FRAME, retrying while the ring is full. */
static int send_ctl(uint8_t type, uint32_t seq)
{
	static uint8_t f[MIN_FRAME];
	uint64_t t0 = board_time_ns();
	int r;

	memset(f, 0, sizeof(f));
	put_hdr(f, type, seq, MIN_FRAME);
	while ((r = vio_net_send_copy(dev, 0, f, sizeof(f))) == VIO_EBUSY &&
	       board_time_ns() - t0 < STALL_NS) {
		vio_service();
		(void)vio_service_wait(MS);
	}
	if (!r)
		rx.sent++;
	return r;
}

/*
 * Check a received frame against what the host must have sent. The frame
 * may span several buffers (mergeable receive buffers): its bytes are
 * compared piece by piece, wherever the buffer boundaries fall.
 */
static void on_rx(struct vio_device *d, const struct vio_net_frame *f, void *a)
{
	uint8_t head[HDR];
	const struct vio_net_rxbuf *b;
	uint32_t off = 0, seq, len;
	const uint8_t *want;
	bool ok = true;

	(void)a;
	/* The header may itself be split: gather it first. */
	for (b = f->bufs; b && off < HDR; b = b->next) {
		uint32_t k = b->len < HDR - off ? b->len : HDR - off;

		memcpy(head + off, b->data, k);
		off += k;
	}
	if (off >= HDR && head[12] == 0x08 && head[13] == 0x00 && on_rx_ip(f))
		goto out;
	if (off < HDR || head[12] != (ETHERTYPE >> 8) || head[13] != (ETHERTYPE & 0xff)) {
		rx.other++;
		goto out;
	}
	if (head[14] == T_MQ) {
		on_rx_mq(f, head);
		goto out;
	}
	if (head[14] == T_PRE) {
		rx.pre++;
		goto out;
	}
	seq = get32(head + 16);
	len = (uint32_t)head[20] << 8 | head[21];
	if (head[14] == T_ACK) {
		rx.acked = seq;
		goto out;
	}
	if (head[14] != T_DATA) {
		rx.other++;
		goto out;
	}
	if (seq != rx.expect) {
		if (rx.bad < 8)
			printf("BAD h2g: seq %lu, want %lu\n", (unsigned long)seq,
			       (unsigned long)rx.expect);
		ok = false;
	} else if (f->len != frame_len(seq) || len != f->len) {
		if (rx.bad < 8)
			printf("BAD h2g: seq %lu is %lu bytes (says %lu), want %lu\n",
			       (unsigned long)seq, (unsigned long)f->len, (unsigned long)len,
			       (unsigned long)frame_len(seq));
		ok = false;
	} else {
		/* Payload byte i of the frame is want[i - HDR]. */
		want = pat_at(seq, DIR_H2G);
		off = 0;
		for (b = f->bufs; b && ok; b = b->next) {
			uint32_t from = off < HDR ? HDR - off : 0;

			if (from < b->len && memcmp(b->data + from, want + off + from - HDR,
						    b->len - from)) {
				for (uint32_t i = from; i < b->len; i++) {
					if (b->data[i] != want[off + i - HDR]) {
						if (rx.bad < 8)
							printf("BAD h2g: seq %lu byte %lu is %#x, "
							       "want %#x\n", (unsigned long)seq,
							       (unsigned long)(off + i),
							       b->data[i], want[off + i - HDR]);
						break;
					}
				}
				ok = false;
			}
			off += b->len;
		}
	}
	if (!ok)
		rx.bad++;
	rx.expect = seq + 1;
	rx.data++;
	rx.unacked += f->len;
	/* By bytes too: a byte-limited window may hold fewer than a frames. */
	if (rx.data % arg.a == 0 || rx.unacked >= arg.b / 2 || rx.data == arg.n) {
		rx.ack_due = true;
		rx.unacked = 0;
	}
out:
	for (struct vio_net_rxbuf *n = f->bufs, *next; n; n = next) {
		next = n->next;
		vio_net_rx_release(d, n);
	}
}

static void on_link(struct vio_device *d, bool up, void *a)
{
	struct vio_net_info in;

	(void)a;
	if (vio_net_get_info(d, &in))
		in.link_up = !up;
	printf("LINK %s info=%s\n", up ? "up" : "down", in.link_up ? "up" : "down");
	rx.link_seen = true;
}

/* csum: frames sent with vio_net_send stay the driver's until tx_done. */
#define CS_POOL 8
#define CS_BUF 1536
static uint8_t cs_buf[CS_POOL][CS_BUF] __attribute__((aligned(64)));
static bool cs_busy[CS_POOL];
static uint32_t cs_done, cs_tx_err;

/* RESETPAIR: the frames queued before the reset, their cookies from RP_COOKIE on. */
#define RP_FRAMES 4u
#define RP_COOKIE 1000u
static uint32_t rp_cancelled, rp_pre_tx;

static void on_tx_done(struct vio_device *d, void *cookie, int result, void *a)
{
	uintptr_t i = (uintptr_t)cookie;

	(void)d;
	(void)a;
	if (i >= RP_COOKIE) {
		if (result == VIO_ECANCELED)
			rp_cancelled++;
		return;
	}
	if (i >= 1 && i <= CS_POOL)
		cs_busy[i - 1] = false;
	cs_done++;
	if (result)
		cs_tx_err++;
}

static const struct vio_net_ops ops = {
	.rx = on_rx,
	.tx_done = on_tx_done,
	.link_changed = on_link,
};

static void phase_h2g(void)
{
	uint64_t last = board_time_ns();
	uint32_t seen = 0;
	int r;

	printf("H2G n=%lu\n", (unsigned long)arg.n);
	while (rx.data < arg.n) {
		vio_service();
		if (rx.ack_due) {
			rx.ack_due = false;
			r = send_ctl(T_ACK, rx.data);
			if (r) {
				fail("h2g-ack", "%s", vio_strerror(r));
				return;
			}
		}
		if (rx.data != seen) {
			seen = rx.data;
			last = board_time_ns();
		} else if (board_time_ns() - last > STALL_NS) {
			fail("h2g", "stalled at %lu of %lu frames", (unsigned long)rx.data,
			     (unsigned long)arg.n);
			return;
		}
		if (!rx.ack_due)
			(void)vio_service_wait(MS);
	}
	if (rx.ack_due) {
		rx.ack_due = false;
		(void)send_ctl(T_ACK, rx.data);
	}
	printf("H2G got=%lu bad=%lu other=%lu\n", (unsigned long)rx.data, (unsigned long)rx.bad,
	       (unsigned long)rx.other);
	if (rx.bad)
		fail("h2g", "%lu of %lu frames lost, reordered or corrupt", (unsigned long)rx.bad,
		     (unsigned long)rx.data);
	else
		pass("h2g");
}

static void phase_g2h(void)
{
	uint64_t last = board_time_ns();
	uint32_t seq = 0, acked = 0;
	uint64_t flight = 0; /* bytes of the frames sent and not acknowledged */
	int r;

	printf("G2H n=%lu\n", (unsigned long)arg.n);
	while (rx.acked < arg.n) {
		vio_service();
		if (rx.acked != acked) {
			if (rx.acked < acked || rx.acked > seq) {
				fail("g2h", "ACK %lu after %lu, %lu sent", (unsigned long)rx.acked,
				     (unsigned long)acked, (unsigned long)seq);
				return;
			}
			for (; acked < rx.acked; acked++)
				flight -= frame_len(acked);
			last = board_time_ns();
		} else if (board_time_ns() - last > STALL_NS) {
			fail("g2h", "stalled: %lu sent, %lu acknowledged", (unsigned long)seq,
			     (unsigned long)rx.acked);
			return;
		}
		if (seq < arg.n && seq - acked < arg.w &&
		    (seq == acked || flight + frame_len(seq) <= arg.b)) {
			uint32_t len = frame_len(seq);

			put_hdr(frame, T_DATA, seq, len);
			memcpy(frame + HDR, pat_at(seq, DIR_G2H), len - HDR);
			r = vio_net_send_copy(dev, 0, frame, len);
			if (!r) {
				seq++;
				flight += len;
				rx.sent++;
				continue;
			}
			if (r != VIO_EBUSY) {
				fail("g2h", "send %lu: %s", (unsigned long)seq, vio_strerror(r));
				return;
			}
		}
		(void)vio_service_wait(MS);
	}
	printf("G2H sent=%lu acked=%lu\n", (unsigned long)seq, (unsigned long)rx.acked);
	pass("g2h");
}

static const char *errname(int err)
{
	switch (err) {
	case 0: return "OK";
	case VIO_EMSGSIZE: return "VIO_EMSGSIZE";
	case VIO_EBUSY: return "VIO_EBUSY";
	case VIO_EINVAL: return "VIO_EINVAL";
	case VIO_ESHUTDOWN: return "VIO_ESHUTDOWN";
	case VIO_ERANGE: return "VIO_ERANGE";
	case VIO_ENOTSUP: return "VIO_ENOTSUP";
	default: return "VIO_E?";
	}
}

static void expect_err(const char *name, int got, int want)
{
	printf("ERR %s %s\n", name, errname(got));
	if (got != want)
		fail(name, "returned %s (%s), want %s", errname(got), vio_strerror(got),
		     errname(want));
	else
		pass(name);
}

/* Frames the MTU does not allow are refused before the device sees them. */
static void phase_oversize(void)
{
	uint32_t len = max_frame() + 1;
	struct vio_sg sg[2];
	int r;

	put_hdr(frame, T_BIG, 0, len);
	memset(frame + HDR, 0xb1, len - HDR);
	expect_err("oversize-copy", vio_net_send_copy(dev, 0, frame, len), VIO_EMSGSIZE);
	sg[0].buf = frame;
	sg[0].len = 100;
	sg[1].buf = frame + 100;
	sg[1].len = len - 100;
	expect_err("oversize-queue", vio_net_send(dev, 0, sg, 2, NULL, NULL), VIO_EMSGSIZE);
	expect_err("short-copy", vio_net_send_copy(dev, 0, frame, VIO_NET_ETH_HLEN - 1),
		   VIO_EMSGSIZE);
	r = send_ctl(T_END, 0);
	if (r)
		fail("end", "%s", vio_strerror(r));
}

/* Every transmitted frame completed: then the counters are final. */
static void phase_stats(void)
{
	struct vio_net_stats st;
	uint64_t t0 = board_time_ns();
	/* RESETPAIR's frames: those sent before the reset, and those it cancelled. */
	uint64_t sent = rx.sent + rp_pre_tx;

	do {
		vio_service();
		if (vio_net_get_stats(dev, &st))
			break;
		if (st.tx_frames + st.tx_errors >= sent + rp_cancelled)
			break;
		(void)vio_service_wait(MS);
	} while (board_time_ns() - t0 < STALL_NS);
	printf("STATS rx_frames=%llu rx_bytes=%llu rx_drops=%llu rx_errors=%llu "
	       "tx_frames=%llu tx_bytes=%llu tx_busy=%llu tx_errors=%llu\n",
	       (unsigned long long)st.rx_frames, (unsigned long long)st.rx_bytes,
	       (unsigned long long)st.rx_drops, (unsigned long long)st.rx_errors,
	       (unsigned long long)st.tx_frames, (unsigned long long)st.tx_bytes,
	       (unsigned long long)st.tx_busy, (unsigned long long)st.tx_errors);
	if (st.tx_frames != sent || st.tx_errors != rp_cancelled || st.rx_drops ||
	    st.rx_errors != arg.e)
		fail("stats", "%llu frames sent, want %llu; %llu receive errors, want %llu; "
		     "errors or drops counted", (unsigned long long)st.tx_frames,
		     (unsigned long long)sent, (unsigned long long)st.rx_errors,
		     (unsigned long long)arg.e);
	else
		pass("stats");
}

/* A line from the console while the service loop runs; false at the deadline. */
static bool idle_line(char *buf, size_t size, uint64_t wait_ns)
{
	uint64_t deadline = board_time_ns() + wait_ns;
	size_t n = 0;

	while (board_time_ns() < deadline) {
		int c = board_console_getc();

		if (c < 0) {
			vio_service();
			/* The UART does not interrupt: look at it every millisecond. */
			(void)vio_service_wait(MS);
			continue;
		}
		if (c == '\r' || c == '\n') {
			if (!n)
				continue;
			buf[n] = '\0';
			return true;
		}
		if (n + 1 < size)
			buf[n++] = (char)c;
	}
	return false;
}

static bool parse_case(char *line)
{
	char *p = line, *w;

	if (!strncmp(p, "CASE raw", 8)) {
		arg.kind = CASE_RAW;
		p += 8;
	} else if (!strncmp(p, "CASE mq", 7)) {
		arg.kind = CASE_MQ;
		p += 7;
	} else if (!strncmp(p, "CASE csum", 9)) {
		arg.kind = CASE_CSUM;
		p += 9;
	} else {
		return false;
	}
	while ((w = strtok(p, " ")) != NULL) {
		p = NULL;
		if (!strncmp(w, "n=", 2))
			arg.n = strtoull(w + 2, NULL, 0);
		else if (!strncmp(w, "w=", 2))
			arg.w = strtoull(w + 2, NULL, 0);
		else if (!strncmp(w, "b=", 2))
			arg.b = strtoull(w + 2, NULL, 0);
		else if (!strncmp(w, "a=", 2))
			arg.a = strtoull(w + 2, NULL, 0);
		else if (!strncmp(w, "m=", 2))
			arg.m = strtoull(w + 2, NULL, 0);
		else if (!strncmp(w, "e=", 2))
			arg.e = strtoull(w + 2, NULL, 0);
		else
			return false;
	}
	return arg.n && arg.w && arg.b && arg.a;
}

/* ------------------------------------------------------------------ */
/* mq: every queue pair at once (vhost-user backend) */

static uint32_t mq_len(unsigned q, uint32_t seq)
{
	return MIN_FRAME + (seq * 7u + q * 131u) % (max_frame() - MIN_FRAME + 1);
}

static const uint8_t *mq_pat(unsigned q, uint32_t seq, unsigned dir)
{
	return pat_at(seq + q * 7919u, dir);
}

/* A frame's bytes in one piece (the test's frames fit in frame[]). */
static uint32_t gather(const struct vio_net_frame *f, uint8_t *buf, uint32_t size)
{
	uint32_t off = 0;

	for (const struct vio_net_rxbuf *b = f->bufs; b; b = b->next) {
		uint32_t k = b->len < size - off ? b->len : size - off;

		memcpy(buf + off, b->data, k);
		off += k;
	}
	return off;
}

static void on_rx_mq(const struct vio_net_frame *f, const uint8_t *head)
{
	static uint8_t buf[65536 + 64];
	unsigned q = head[15];
	uint32_t seq = get32(head + 16);
	uint32_t len = (uint32_t)head[20] << 8 | head[21];
	const char *why = NULL;

	if (q >= MQ_MAX || q != f->queue)
		why = "on the wrong queue";
	else if (seq != rx.mq_got[q])
		why = "out of order";
	else if (f->len != mq_len(q, seq) || len != f->len)
		why = "of the wrong length";
	else if (gather(f, buf, sizeof(buf)) != f->len ||
		 memcmp(buf + HDR, mq_pat(q, seq, DIR_H2G), f->len - HDR))
		why = "corrupt";
	if (why) {
		if (rx.mq_bad < 8)
			printf("BAD mq: pair %u seq %lu (%lu bytes) came on queue %u, %s (want seq %lu)\n",
			       q, (unsigned long)seq, (unsigned long)f->len, f->queue, why,
			       q < MQ_MAX ? (unsigned long)rx.mq_got[q] : 0ul);
		rx.mq_bad++;
	}
	if (q < MQ_MAX && q == f->queue)
		rx.mq_got[q] = seq + 1;
}

/* PAIRS k: enable k queue pairs through the control queue (5.1.6.5.5). */
static void cmd_pairs(const char *text)
{
	unsigned k = (unsigned)strtoul(text, NULL, 0);
	int r = vio_net_set_queue_pairs(dev, k);

	if (vio_net_get_info(dev, &info))
		info.queue_pairs = 0;
	printf("PAIRS %u rc=%s in_use=%u\n", k, errname(r), info.queue_pairs);
	fflush(stdout);
}

/*
 * FILTER: a new MAC address, a filter table whose one unicast entry is the
 * address the device started with (the host's frames are sent to it),
 * two multicast entries, all-multicast on, promiscuous off (5.1.6.5.1,
 * 5.1.6.5.2). The host reads them back with QMP query-rx-filter.
 */
static const uint8_t new_mac[VIO_NET_ALEN] = { 0x02, 0x76, 0x69, 0x6f, 0x72, 0x31 };

static void cmd_filter(void)
{
	static const uint8_t mc[2][VIO_NET_ALEN] = { { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb },
						      { 0x33, 0x33, 0x00, 0x00, 0x00, 0xfb } };
	uint8_t uc[1][VIO_NET_ALEN];
	int r[4];

	memcpy(uc[0], info.mac, VIO_NET_ALEN);
	r[0] = vio_net_set_mac(dev, new_mac);
	r[1] = vio_net_set_mac_filter(dev, (const uint8_t(*)[VIO_NET_ALEN])uc, 1, mc, 2);
	r[2] = vio_net_set_allmulti(dev, true);
	r[3] = vio_net_set_promisc(dev, false);
	printf("FILTER mac=%s table=%s allmulti=%s promisc=%s\n", errname(r[0]), errname(r[1]),
	       errname(r[2]), errname(r[3]));
	fflush(stdout);
}

/*
 * RECOVER: fail the device (it is reset, vio_dev_fail) and bring it back
 * with vio_dev_recover; the driver sends the address, table and modes
 * FILTER set again. Prints what is in force after it.
 */
static void cmd_recover(void)
{
	struct vio_net_info now;
	int r;

	vio_dev_fail(dev, VIO_EIO);
	r = vio_dev_recover(dev);
	if (vio_net_get_info(dev, &now))
		memset(&now, 0, sizeof(now));
	printf("RECOVER rc=%s state=%s mac=%02x:%02x:%02x:%02x:%02x:%02x link=%d\n", errname(r),
	       vio_dev_state(dev) == VIO_DEV_READY ? "ready" : "not-ready", now.mac[0], now.mac[1],
	       now.mac[2], now.mac[3], now.mac[4], now.mac[5], now.link_up);
	fflush(stdout);
}

/*
 * RESETPAIR: first RP_PRE frames each way on pair 0, so that the device's
 * view of both queues has moved on (QEMU's indices at RP_PRE: a queue
 * the device did not reset would then disagree with the driver's fresh
 * one). Frames queued on pair 0 and never kicked are still the driver's
 * when vio_net_reset_pair resets the pair's queues (2.6.1): each must
 * come back with VIO_ECANCELED, and the host checks that none left (type
 * BIG). The raw exchange that follows runs through the reset queues.
 */
#define RP_PRE 8u

static void cmd_reset_pair(void)
{
	static uint8_t rp[RP_FRAMES][MIN_FRAME] __attribute__((aligned(64)));
	struct vio_net_stats st0, st;
	uint64_t t0 = board_time_ns();
	uint32_t queued = 0, pre_tx = 0;
	int r;

	while (rx.pre < RP_PRE && board_time_ns() - t0 < STALL_NS)
		vio_service();
	if (vio_net_get_stats(dev, &st0))
		memset(&st0, 0, sizeof(st0));
	for (uint32_t i = 0; i < RP_PRE; i++) {
		put_hdr(frame, T_PRE, i, MIN_FRAME);
		memset(frame + HDR, 0, MIN_FRAME - HDR);
		if (vio_net_send_copy(dev, 0, frame, MIN_FRAME) == 0)
			pre_tx++;
	}
	/* Sent means completed: the device took them before the reset. */
	st = st0;
	do {
		vio_service();
		if (vio_net_get_stats(dev, &st))
			break;
	} while (st.tx_frames - st0.tx_frames < pre_tx && board_time_ns() - t0 < STALL_NS);

	rp_cancelled = 0;
	for (uint32_t i = 0; i < RP_FRAMES; i++) {
		struct vio_sg sg = { rp[i], MIN_FRAME };

		put_hdr(rp[i], T_BIG, i, MIN_FRAME);
		memset(rp[i] + HDR, 0, MIN_FRAME - HDR);
		if (vio_net_queue(dev, 0, &sg, 1, NULL, (void *)(uintptr_t)(RP_COOKIE + i)) == 0)
			queued++;
	}
	r = vio_net_reset_pair(dev, 0);
	rp_pre_tx = (uint32_t)(st.tx_frames - st0.tx_frames);
	printf("RESETPAIR rc=%s pre_rx=%u pre_tx=%u queued=%u cancelled=%u state=%s\n", errname(r),
	       (unsigned)rx.pre, (unsigned)rp_pre_tx, (unsigned)queued,
	       (unsigned)rp_cancelled, vio_dev_state(dev) == VIO_DEV_READY ? "ready" : "not-ready");
	fflush(stdout);
}

static void phase_mq(void)
{
	uint32_t sent[MQ_MAX] = { 0 };
	uint64_t last = board_time_ns(), t0 = last;
	uint32_t seen = 0;
	unsigned pairs;
	bool done = false;

	if (vio_net_get_info(dev, &info) || !info.queue_pairs || info.queue_pairs > MQ_MAX) {
		fail("mq", "no queue pairs");
		return;
	}
	pairs = info.queue_pairs;
	printf("MQ pairs=%u n=%lu\n", pairs, (unsigned long)arg.n);
	while (!done) {
		uint32_t total = 0;
		bool queued = false;

		vio_service();
		/* One frame per pair in turn: every transmit ring has frames in flight at once. */
		for (unsigned q = 0; q < pairs; q++) {
			uint32_t len;
			int r;

			if (sent[q] >= arg.n)
				continue;
			len = mq_len(q, sent[q]);
			put_hdr(frame, T_MQ, sent[q], len);
			frame[15] = (uint8_t)q;
			memcpy(frame + HDR, mq_pat(q, sent[q], DIR_G2H), len - HDR);
			r = vio_net_send_copy(dev, q, frame, len);
			if (!r) {
				sent[q]++;
				rx.sent++;
				queued = true;
			} else if (r != VIO_EBUSY) {
				fail("mq", "send on pair %u: %s", q, vio_strerror(r));
				return;
			}
		}
		done = true;
		for (unsigned q = 0; q < pairs; q++) {
			total += sent[q] + rx.mq_got[q];
			if (sent[q] < arg.n || rx.mq_got[q] < arg.n)
				done = false;
		}
		if (total != seen) {
			seen = total;
			last = board_time_ns();
		} else if (board_time_ns() - last > STALL_NS) {
			break;
		}
		if (!queued && !done)
			(void)vio_service_wait(MS);
	}
	printf("MQ");
	for (unsigned q = 0; q < pairs; q++)
		printf(" q%u=%lu/%lu", q, (unsigned long)rx.mq_got[q], (unsigned long)sent[q]);
	printf(" bad=%lu ms=%lu\n", (unsigned long)rx.mq_bad,
	       (unsigned long)((board_time_ns() - t0) / MS));
	if (!done)
		fail("mq", "stalled before %lu frames each way on every pair", (unsigned long)arg.n);
	else if (rx.mq_bad)
		fail("mq", "%lu frames lost, misrouted, reordered or corrupt",
		     (unsigned long)rx.mq_bad);
	else
		pass("mq");
}

/* ------------------------------------------------------------------ */
/* csum: checksum offload both ways (vhost-user backend) */

#define CS_SUBNET 192, 168, 79
static const uint8_t cs_guest_ip[4] = { CS_SUBNET, 2 };
static const uint8_t cs_host_ip[4] = { CS_SUBNET, 1 };
#define IP_HDR 20u
#define L4_OFF (VIO_NET_ETH_HLEN + IP_HDR)

/* RFC 1071: big-endian 16-bit words, an odd last byte padded with zero. */
static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* The TCP/UDP pseudo-header's sum (RFC 793, RFC 768) for the IPv4 header at ip. */
static uint32_t pseudo_sum(const uint8_t *ip, uint32_t l4len)
{
	return sum16(ip + 12, 8, 0) + ip[9] + l4len;
}

/*
 * Build the n-th transmit frame in f: IPv4, UDP for even n, TCP for odd,
 * a pattern payload of every length up to 1400 in turn. Returns the
 * frame's length and the L4 header length in *l4h.
 */
static uint32_t cs_build(uint8_t *f, uint32_t n, uint32_t *l4h)
{
	bool udp = !(n & 1);
	uint32_t plen = (n * 37u) % 1401u, hl = udp ? 8u : 20u;
	uint32_t l4len = hl + plen, len = L4_OFF + l4len;
	uint8_t *ip = f + VIO_NET_ETH_HLEN, *l4 = f + L4_OFF;
	uint16_t c;

	memcpy(f, host_mac, VIO_NET_ALEN);
	memcpy(f + 6, info.mac, VIO_NET_ALEN);
	f[12] = 0x08;
	f[13] = 0x00;
	memset(ip, 0, IP_HDR);
	ip[0] = 0x45;
	ip[2] = (uint8_t)((IP_HDR + l4len) >> 8);
	ip[3] = (uint8_t)(IP_HDR + l4len);
	ip[4] = (uint8_t)(n >> 8);
	ip[5] = (uint8_t)n;
	ip[8] = 64;
	ip[9] = udp ? 17 : 6;
	memcpy(ip + 12, cs_guest_ip, 4);
	memcpy(ip + 16, cs_host_ip, 4);
	c = (uint16_t)~fold(sum16(ip, IP_HDR, 0));
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	memset(l4, 0, hl);
	l4[0] = (uint8_t)((40000u + n % 100u) >> 8);
	l4[1] = (uint8_t)(40000u + n % 100u);
	l4[2] = 0;
	l4[3] = 9;
	if (udp) {
		l4[4] = (uint8_t)(l4len >> 8);
		l4[5] = (uint8_t)l4len;
	} else {
		l4[4] = (uint8_t)(n >> 24);
		l4[5] = (uint8_t)(n >> 16);
		l4[6] = (uint8_t)(n >> 8);
		l4[7] = (uint8_t)n;
		l4[12] = 0x50;
		l4[13] = 0x18; /* PSH, ACK */
		l4[14] = 0x20;
	}
	memcpy(l4 + hl, pat_at(n, DIR_G2H), plen);
	*l4h = hl;
	return len;
}

/* The L4 checksum field's offset from the L4 header (5.1.6.2: csum_offset). */
static uint16_t cs_field(const uint8_t *f)
{
	return f[VIO_NET_ETH_HLEN + 9] == 17 ? 6 : 16;
}

static bool cs_verify(const uint8_t *f, uint32_t len)
{
	const uint8_t *ip = f + VIO_NET_ETH_HLEN;
	uint32_t ihl = (ip[0] & 15u) * 4u, l4 = VIO_NET_ETH_HLEN + ihl;

	return fold(sum16(f + l4, len - l4, pseudo_sum(ip, len - l4))) == 0xffff;
}

/*
 * A received IPv4 frame of the csum case: its payload starts with "VC",
 * how the host flagged it ('a' no flags and a right checksum, 'b'
 * DATA_VALID and a wrong one, 'c' NEEDS_CSUM with the pseudo-header sum,
 * 'd' no flags and a wrong one) and its number. False: not one of them.
 */
static bool on_rx_ip(const struct vio_net_frame *f)
{
	static uint8_t b[CS_BUF];
	uint32_t len, ihl, l4, hl;
	const uint8_t *pl;
	bool ok;

	if (f->len > sizeof(b))
		return false;
	len = gather(f, b, sizeof(b));
	ihl = (b[VIO_NET_ETH_HLEN] & 15u) * 4u;
	l4 = VIO_NET_ETH_HLEN + ihl;
	if (len < l4 + 8 || memcmp(b + VIO_NET_ETH_HLEN + 16, cs_guest_ip, 4) ||
	    (b[VIO_NET_ETH_HLEN + 9] != 17 && b[VIO_NET_ETH_HLEN + 9] != 6))
		return false;
	hl = b[VIO_NET_ETH_HLEN + 9] == 17 ? 8u : (b[l4 + 12] >> 4) * 4u;
	if (len < l4 + hl + 7)
		return false;
	pl = b + l4 + hl;
	if (pl[0] != 'V' || pl[1] != 'C')
		return false;
	rx.cs_got++;
	switch (pl[2]) {
	case 'a':
	case 'd':
		ok = f->csum == VIO_NET_CSUM_NONE;
		if (ok && cs_verify(b, len))
			rx.cs_none_ok++;
		else if (ok)
			rx.cs_none_bad++;
		break;
	case 'b':
		/* 5.1.6.4.1: DATA_VALID: the driver need not look at the checksum. */
		ok = f->csum == VIO_NET_CSUM_VALID;
		if (ok)
			rx.cs_valid++;
		break;
	case 'c':
		/* 5.1.6.4.1: NEEDS_CSUM: complete it as the sender's device would. */
		ok = f->csum == VIO_NET_CSUM_PARTIAL && f->csum_start == l4 &&
		     f->csum_offset == cs_field(b) && (uint32_t)l4 + f->csum_offset + 2 <= len;
		if (ok) {
			uint16_t c = (uint16_t)~fold(sum16(b + l4, len - l4, 0));

			b[l4 + f->csum_offset] = (uint8_t)(c >> 8);
			b[l4 + f->csum_offset + 1] = (uint8_t)c;
			ok = cs_verify(b, len);
		}
		if (ok)
			rx.cs_partial++;
		break;
	default:
		ok = false;
	}
	if (!ok) {
		if (rx.cs_wrong < 8)
			printf("BAD csum: frame %lu kind %c: csum %d start %u offset %u\n",
			       (unsigned long)get32(pl + 3), pl[2], (int)f->csum, f->csum_start,
			       f->csum_offset);
		rx.cs_wrong++;
	}
	return true;
}

static void phase_csum(void)
{
	uint64_t last = board_time_ns();
	uint32_t i = 0, offloaded = 0, seen = 0;

	printf("CSUM n=%lu m=%lu csum=%d guest_csum=%d\n", (unsigned long)arg.n,
	       (unsigned long)arg.m, info.csum, info.guest_csum);
	if (!info.csum || !info.guest_csum) {
		fail("csum", "VIRTIO_NET_F_CSUM and GUEST_CSUM not both negotiated");
		return;
	}
	while (i < arg.n || rx.cs_got < arg.m || cs_done < i) {
		int slot = -1;

		vio_service();
		for (int k = 0; k < CS_POOL && i < arg.n; k++) {
			if (!cs_busy[k]) {
				slot = k;
				break;
			}
		}
		if (slot >= 0) {
			uint8_t *f = cs_buf[slot];
			uint32_t hl, len = cs_build(f, i, &hl);
			uint8_t *ip = f + VIO_NET_ETH_HLEN;
			uint16_t c, field = cs_field(f);
			struct vio_net_tx_csum cs = { L4_OFF, field };
			/* Headers and payload in two segments: the device sums across them. */
			struct vio_sg sg[2] = { { f, L4_OFF + hl }, { f + L4_OFF + hl, len - L4_OFF - hl } };
			bool off = i % 4 != 3;
			int r;

			if (off) {
				/* 5.1.6.2: the field holds the pseudo-header sum; the device adds the rest. */
				c = fold(pseudo_sum(ip, len - L4_OFF));
			} else {
				c = (uint16_t)~fold(sum16(f + L4_OFF, len - L4_OFF,
							  pseudo_sum(ip, len - L4_OFF)));
				if (!c && ip[9] == 17)
					c = 0xffff; /* RFC 768 */
			}
			f[L4_OFF + field] = (uint8_t)(c >> 8);
			f[L4_OFF + field + 1] = (uint8_t)c;
			cs_busy[slot] = true;
			r = vio_net_send(dev, 0, sg, sg[1].len ? 2 : 1, off ? &cs : NULL,
					 (void *)(uintptr_t)(slot + 1));
			if (!r) {
				i++;
				offloaded += off;
				rx.sent++;
				last = board_time_ns();
				continue;
			}
			cs_busy[slot] = false;
			if (r != VIO_EBUSY) {
				fail("csum-tx", "send %lu: %s", (unsigned long)i, vio_strerror(r));
				return;
			}
		}
		if (rx.cs_got + cs_done != seen) {
			seen = rx.cs_got + cs_done;
			last = board_time_ns();
		} else if (board_time_ns() - last > STALL_NS) {
			fail("csum", "stalled: %lu of %lu sent (%lu done), %lu of %lu received",
			     (unsigned long)i, (unsigned long)arg.n, (unsigned long)cs_done,
			     (unsigned long)rx.cs_got, (unsigned long)arg.m);
			return;
		}
		(void)vio_service_wait(MS);
	}
	printf("CSUM sent=%lu offloaded=%lu tx_errors=%lu got=%lu none_ok=%lu none_bad=%lu "
	       "valid=%lu partial=%lu wrong=%lu\n", (unsigned long)i, (unsigned long)offloaded,
	       (unsigned long)cs_tx_err, (unsigned long)rx.cs_got, (unsigned long)rx.cs_none_ok,
	       (unsigned long)rx.cs_none_bad, (unsigned long)rx.cs_valid,
	       (unsigned long)rx.cs_partial, (unsigned long)rx.cs_wrong);
	if (rx.cs_wrong || cs_tx_err)
		fail("csum", "%lu frames flagged other than sent, %lu transmit errors",
		     (unsigned long)rx.cs_wrong, (unsigned long)cs_tx_err);
	else
		pass("csum");
}

int main(void)
{
	char line[LINE_MAX];
	int r;

	printf("vio-net-test on %s\n", board_info()->name);
	pat_init();
	r = app_vio_start();
	if (r < 0)
		fail("start", "app_vio_start: %s", vio_strerror(r));
	dev = vio_dev_find(VIRTIO_ID_NET, 0);
	if (!dev || vio_net_check(dev) || vio_net_get_info(dev, &info)) {
		fail("net", "no live net device");
		report_finish();
	}
	if (max_frame() + 64 > sizeof(frame)) {
		fail("net", "MTU %u is beyond this test's frame buffer", info.mtu);
		report_finish();
	}
	printf("INFO mac=%02x:%02x:%02x:%02x:%02x:%02x mtu=%u mrg=%d csum=%d guest_csum=%d "
	       "ctrl_vq=%d hdr_len=%u rx_buffer_size=%lu status=%d link=%d pairs=%u max_pairs=%u\n",
	       info.mac[0], info.mac[1], info.mac[2], info.mac[3], info.mac[4], info.mac[5],
	       info.mtu, info.mrg_rxbuf, info.csum, info.guest_csum, info.ctrl_vq, info.hdr_len,
	       (unsigned long)info.rx_buffer_size, info.has_status, info.link_up, info.queue_pairs,
	       info.max_queue_pairs);
	vio_net_set_ops(dev, &ops, NULL);
	printf("READY\n");
	fflush(stdout);
	for (;;) {
		if (!idle_line(line, sizeof(line), LINE_WAIT_NS)) {
			fail("case", "no CASE line");
			report_finish();
		}
		if (!strncmp(line, "PAIRS ", 6)) {
			cmd_pairs(line + 6);
			continue;
		}
		if (!strcmp(line, "FILTER")) {
			cmd_filter();
			continue;
		}
		if (!strcmp(line, "RECOVER")) {
			cmd_recover();
			continue;
		}
		if (!strcmp(line, "RESETPAIR")) {
			cmd_reset_pair();
			continue;
		}
		if (parse_case(line))
			break;
		fail("case", "expected 'CASE raw|mq|csum n=<frames> [w=<frames>] [b=<bytes>] "
		     "[a=<ack every>] [m=<frames>]' or 'PAIRS <k>', got '%s'", line);
		report_finish();
	}
	if (arg.kind != CASE_RAW) {
		if (arg.kind == CASE_MQ)
			phase_mq();
		else
			phase_csum();
		phase_stats();
		if (rx.other)
			fail("other", "%lu frames of no expected kind arrived",
			     (unsigned long)rx.other);
		report_finish();
	}
	phase_h2g();
	phase_g2h();
	phase_oversize();
	phase_stats();
	printf("IDLE\n");
	fflush(stdout);
	while (idle_line(line, sizeof(line), LINE_WAIT_NS) && strcmp(line, "END"))
		;
	if (rx.other)
		fail("other", "%lu frames of no expected kind arrived", (unsigned long)rx.other);
	report_finish();
}
