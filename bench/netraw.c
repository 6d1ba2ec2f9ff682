/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Linux reference guest's frame sender and receiver (run_net_bench.py):
 * a static program for the initramfs, built with Debian's cross compiler by
 * fetch_refs.sh. Raw AF_PACKET sockets, batches of sendmmsg / recvmmsg, the
 * qdisc bypassed, so the figure is the driver's and the stack's least.
 *
 *   netraw tx IFACE BYTES COUNT
 *       send COUNT broadcast frames of BYTES bytes (EtherType 0x88b5)
 *   netraw rx IFACE COUNT IDLE_MS
 *       receive frames of EtherType 0x88b5 until COUNT came or none came
 *       for IDLE_MS
 *
 * One line answer: "RES n=<frames> ns=<first to last>" (tx: the whole loop),
 * or "BENCH ERR <why>".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ETYPE 0x88b5
#define BATCH 64
#define FRAME_MAX 1514

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

static int fail(const char *what)
{
	printf("BENCH ERR %s: %s\n", what, strerror(errno));
	return 1;
}

static unsigned char frames[BATCH][FRAME_MAX];

int main(int argc, char **argv)
{
	struct sockaddr_ll sll;
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH];
	unsigned long long t0, t1 = 0;
	unsigned long count, n = 0;
	int s, one = 1;

	if (argc != 5 || (strcmp(argv[1], "tx") && strcmp(argv[1], "rx"))) {
		printf("BENCH ERR usage: netraw tx IFACE BYTES COUNT | rx IFACE COUNT IDLE_MS\n");
		return 2;
	}
	s = socket(AF_PACKET, SOCK_RAW, htons(ETYPE));
	if (s < 0)
		return fail("socket");
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETYPE);
	sll.sll_ifindex = (int)if_nametoindex(argv[2]);
	if (!sll.sll_ifindex)
		return fail(argv[2]);
	if (bind(s, (struct sockaddr *)&sll, sizeof(sll)))
		return fail("bind");
	memset(msg, 0, sizeof(msg));

	if (argv[1][0] == 't') {
		unsigned long bytes = strtoul(argv[3], NULL, 0);

		count = strtoul(argv[4], NULL, 0);
		if (bytes < 60 || bytes > FRAME_MAX)
			bytes = bytes < 60 ? 60 : FRAME_MAX;
		setsockopt(s, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
		for (int i = 0; i < BATCH; i++) {
			memset(frames[i], 0xff, 6);
			memset(frames[i] + 6, 0x02, 6);
			frames[i][12] = ETYPE >> 8;
			frames[i][13] = ETYPE & 0xff;
			iov[i].iov_base = frames[i];
			iov[i].iov_len = bytes;
			msg[i].msg_hdr.msg_iov = &iov[i];
			msg[i].msg_hdr.msg_iovlen = 1;
		}
		t0 = now_ns();
		while (n < count) {
			unsigned int k = count - n < BATCH ? (unsigned int)(count - n) : BATCH;
			int r = sendmmsg(s, msg, k, 0);

			if (r < 0) {
				if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR)
					continue; /* the ring is full: try again */
				return fail("sendmmsg");
			}
			n += (unsigned long)r;
		}
		t1 = now_ns();
		printf("RES n=%lu ns=%llu\n", n, t1 - t0);
		return 0;
	}

	count = strtoul(argv[3], NULL, 0);
	int idle = (int)strtoul(argv[4], NULL, 0);
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = frames[i];
		iov[i].iov_len = FRAME_MAX;
		msg[i].msg_hdr.msg_iov = &iov[i];
		msg[i].msg_hdr.msg_iovlen = 1;
	}
	/* Ready: the host starts sending when it sees this. */
	printf("RX READY\n");
	fflush(stdout);
	t0 = 0;
	while (n < count) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		int r = poll(&p, 1, n ? idle : 30000);

		if (r <= 0)
			break;
		r = recvmmsg(s, msg, BATCH, MSG_DONTWAIT, NULL);
		if (r <= 0)
			continue;
		if (!t0)
			t0 = now_ns();
		n += (unsigned long)r;
		t1 = now_ns();
	}
	/* The first batch's time is not known: it counts as the start. */
	printf("RES n=%lu ns=%llu\n", n, t0 ? t1 - t0 : 0ull);
	return 0;
}
