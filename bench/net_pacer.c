/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The net benchmark's paced sender (run_net_bench.py, workloads rx64-paced
 * and rx1514-paced): sends count Ethernet frames of bytes to a guest's UDP
 * socket netdev on 127.0.0.1 at a given rate, so that the guest's receive
 * path can be judged at a rate it is offered rather than at whatever a
 * sender blasting from Python happens to reach. A host program, not guest
 * code: Linux sockets, built by run_net_bench.py with the host's compiler.
 *
 *   net_pacer PORT BYTES COUNT RATE
 *
 * PORT is the netdev's localaddr port (where QEMU listens), BYTES the frame
 * as the guest's device sees it (Ethernet header and payload, no FCS), RATE
 * frames per second. Frames are broadcast, source 02:00:00:00:00:09,
 * EtherType 0x88b5, payload zero. Prints one line:
 *
 *   SENT n=<frames> ns=<first to last send> errors=<sends refused>
 *
 * Pacing: frame i is due at i / RATE seconds after the first. The sender
 * sends every frame that is due in one sendmmsg (at most BURST), then
 * sleeps until the next one is due; with the timer slack set to 1 µs the
 * bursts stay a few frames long at the rates measured here (a burst is what
 * the guest's posted buffers must absorb). A send the kernel refuses
 * (ENOBUFS, EAGAIN) is retried, never dropped silently; only a hard error
 * counts in errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>

#define FRAME_MAX 1514
#define BURST 64
#define ETHERTYPE 0x88b5

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = { (time_t)(t / 1000000000ull), (long)(t % 1000000000ull) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

int main(int argc, char **argv)
{
	static uint8_t frame[FRAME_MAX];
	struct sockaddr_in dst = { .sin_family = AF_INET };
	struct mmsghdr msgs[BURST];
	struct iovec iov = { frame, 0 };
	unsigned long port, bytes, count, errors = 0, sent = 0;
	double rate;
	uint64_t t0, t1 = 0;
	int fd;

	if (argc != 5) {
		fprintf(stderr, "usage: net_pacer PORT BYTES COUNT RATE\n");
		return 2;
	}
	port = strtoul(argv[1], NULL, 0);
	bytes = strtoul(argv[2], NULL, 0);
	count = strtoul(argv[3], NULL, 0);
	rate = strtod(argv[4], NULL);
	if (!port || port > 65535 || bytes < 60 || bytes > FRAME_MAX || !count || !(rate > 0)) {
		fprintf(stderr, "net_pacer: bad arguments\n");
		return 2;
	}
	memset(frame, 0xff, 6);
	memcpy(frame + 6, "\x02\x00\x00\x00\x00\x09", 6);
	frame[12] = ETHERTYPE >> 8;
	frame[13] = ETHERTYPE & 0xff;
	iov.iov_len = bytes;
	/* Loopback only: the guest's QEMU listens on 127.0.0.1. */
	dst.sin_port = htons((uint16_t)port);
	dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	memset(msgs, 0, sizeof(msgs));
	for (unsigned i = 0; i < BURST; i++) {
		msgs[i].msg_hdr.msg_name = &dst;
		msgs[i].msg_hdr.msg_namelen = sizeof(dst);
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("net_pacer: socket");
		return 1;
	}
	(void)prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	t0 = now_ns();
	while (sent < count) {
		uint64_t t = now_ns();
		/* Frames due by now: frame i is due at t0 + i / rate. */
		double due_f = (double)(t - t0) * rate / 1e9 + 1.0;
		unsigned long due = due_f > (double)count ? count : (unsigned long)due_f;
		unsigned n;
		int r;

		if (due <= sent) {
			sleep_until(t0 + (uint64_t)((double)sent * 1e9 / rate));
			continue;
		}
		n = due - sent > BURST ? BURST : (unsigned)(due - sent);
		r = sendmmsg(fd, msgs, n, 0);
		if (r < 0) {
			if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR)
				continue;
			errors++;
			if (errors > 100) {
				perror("net_pacer: sendmmsg");
				return 1;
			}
			continue;
		}
		sent += (unsigned long)r;
		t1 = now_ns();
	}
	printf("SENT n=%lu ns=%llu errors=%lu\n", sent, (unsigned long long)(t1 - t0), errors);
	return 0;
}
