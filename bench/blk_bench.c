/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The virtio-blk benchmark firmware. It brings vio up, finds the first blk
 * device and then runs the workloads the host asks for over the UART, one
 * command a line, printing one result line each. Nothing is printed while
 * a workload runs: every character on the emulated UART costs one to two
 * microseconds.
 *
 *   info
 *       INFO iface=<legacy|modern> mode=<irq|poll> event_idx=<0|1>
 *            indirect=<0|1> capacity=<sectors> queue_size=<n> seg_max=<n>
 *            max_sectors=<n>
 *
 *   run <kind> <read|write> <bytes> <depth> <count>
 *       RES kind=.. op=.. bytes=.. depth=.. n=<requests> ns=<elapsed>
 *           irqs=<interrupts taken> kicks=<notifications sent> [phases]
 *
 *     kind sync   the blocking call (vio_blk_read / vio_blk_write) on a
 *                 flat buffer of bytes, count times, one after the other;
 *     kind async  the asynchronous API with depth requests of bytes in
 *                 flight until count are done: completions re-queue their
 *                 request, and each vio_blk_wait kicks the batch once;
 *     kind prof   the asynchronous API with a timestamp around each step;
 *                 adds the nanoseconds spent in each. Depth 1: q=
 *                 (vio_blk_queue) k= (vio_blk_kick) w= (from the kick to
 *                 the completion callback) r= (from the callback until
 *                 vio_blk_wait returns). Deeper: q= (vio_blk_queue outside
 *                 the callbacks) w= (from each vio_blk_wait, which kicks,
 *                 to its first callback) r= (from there until it returns:
 *                 the drain, every callback re-queueing its request);
 *                 t= is one clock read;
 *     kind bare   the virtqueue work alone for a read, polled: enqueue
 *                 header, data and status with vio_vq_enqueue, vio_vq_kick,
 *                 spin on vio_vq_has_used, vio_vq_dequeue. No driver, no
 *                 checks beyond the virtqueue's own; the floor the driver
 *                 is compared to. Adds e= k= s= d= (enqueue, kick, spin,
 *                 dequeue).
 *
 *     Requests walk the disk sequentially from sector 0 and wrap at the
 *     smaller of the capacity and SPAN_BYTES.
 *
 *   quit
 *       leaves QEMU with status 0.
 *
 * bench_mark() runs just before and just after each workload; an
 * instruction-counting QEMU plugin (insn_plugin.c) takes its counters there
 * (count_insns.py), so instructions per request need no clock.
 *
 * Notifications are the device's notify_count (kicks that reached the
 * device); interrupts are its irq_count.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vio/device.h>
#include <vio/error.h>
#include <vio/io.h>
#include <vio/spec/virtio_config.h>
#include <vio/spec/virtio_ring.h>

#include "vio_config.h"
#if CONFIG_VIO_DRIVER_BLK
#include <vio/blk.h>
#include <vio/spec/virtio_blk.h>
#endif

#include "app.h"
#include "board.h"

#define DEPTH_MAX 64u
#define BYTES_MAX (1u << 20)         /* largest request of a workload */
#define ASYNC_BYTES_MAX (64u << 10)  /* largest request of the queued workloads */
#define SPAN_BYTES (64ull << 20)     /* the part of the disk the workloads walk */
#define TIMEOUT_NS (10ull * 1000000000ull)

#if CONFIG_VIO_DRIVER_BLK

static struct vio_device *dev;
static struct vio_blk_info info;
static uint8_t *sync_buf;   /* BYTES_MAX */
static uint8_t *async_buf;  /* DEPTH_MAX * ASYNC_BYTES_MAX */
static uint64_t span;       /* sectors the workloads walk */
static uint64_t cursor;     /* next sector */

/* The instruction-counting plugin snapshots its counters each time this runs. */
void bench_mark(unsigned tag);
__attribute__((noinline)) void bench_mark(unsigned tag)
{
	__asm__ volatile("" : : "r"(tag) : "memory");
}

static uint64_t now(void)
{
	return board_time_ns();
}

/* The next sector of a request of bytes, wrapping at the span. */
static uint64_t next_sector(uint32_t bytes)
{
	uint64_t s, n = bytes / VIO_BLK_SECTOR_SIZE;

	if (cursor + n > span)
		cursor = 0;
	s = cursor;
	cursor += n;
	return s;
}

struct result {
	uint64_t ns;
	uint32_t n;
	uint64_t phase[4];
	const char *names[4];
};

static int run_sync(bool write, uint32_t bytes, uint32_t count, struct result *r)
{
	uint32_t sectors = bytes / VIO_BLK_SECTOR_SIZE;
	uint64_t t0 = now();

	for (uint32_t i = 0; i < count; i++) {
		uint64_t s = next_sector(bytes);
		int rc = write ? vio_blk_write(dev, s, sync_buf, sectors)
			       : vio_blk_read(dev, s, sync_buf, sectors);

		if (rc)
			return rc;
	}
	r->ns = now() - t0;
	r->n = count;
	return 0;
}

/* One in-flight request of the queued workloads. */
struct job {
	struct vio_blk_req req;
	struct vio_sg sg;
};

static struct job jobs[DEPTH_MAX];

static struct {
	uint32_t issued, done, count, bytes;
	int error;
	bool prof;          /* take the clock around each step (kind prof) */
	bool in_wait;       /* inside vio_blk_wait: callbacks run */
	uint64_t cb_time;   /* the last callback (prof) */
	uint64_t first_cb;  /* the first callback of this wait (prof) */
	uint64_t q_ns;      /* in vio_blk_queue outside the callbacks (prof) */
} aq;

static int issue(struct job *j)
{
	uint64_t t = 0;
	int rc;

	j->req.sector = next_sector(aq.bytes);
	if (aq.prof && !aq.in_wait)
		t = now();
	rc = vio_blk_queue(dev, 0, &j->req);
	if (aq.prof && !aq.in_wait)
		aq.q_ns += now() - t;
	if (rc)
		return rc;
	aq.issued++;
	return 0;
}

/* Completion callback: count it and put the request back in the queue. */
static void job_done(struct vio_blk_req *req)
{
	struct job *j = req->ctx;

	if (aq.prof) {
		aq.cb_time = now();
		if (!aq.first_cb)
			aq.first_cb = aq.cb_time;
	}
	aq.done++;
	if (req->result && !aq.error)
		aq.error = req->result;
	if (!aq.error && aq.issued < aq.count) {
		int rc = issue(j);

		if (rc)
			aq.error = rc;
	}
}

static void jobs_init(bool write, uint32_t bytes, uint32_t depth, uint32_t count)
{
	memset(&aq, 0, sizeof(aq));
	aq.count = count;
	aq.bytes = bytes;
	for (uint32_t i = 0; i < depth; i++) {
		struct job *j = &jobs[i];

		memset(j, 0, sizeof(*j));
		j->sg.buf = async_buf + (size_t)i * ASYNC_BYTES_MAX;
		j->sg.len = bytes;
		j->req.op = write ? VIO_BLK_OP_WRITE : VIO_BLK_OP_READ;
		j->req.sg = &j->sg;
		j->req.nsg = 1;
		j->req.done = job_done;
		j->req.ctx = j;
	}
}

/*
 * With prof, phases: q= in vio_blk_queue outside the callbacks, w= from
 * each vio_blk_wait (it kicks) to its first callback, r= from there until it
 * returns (the drain: every callback, each re-queueing its request).
 */
static int run_async(bool write, uint32_t bytes, uint32_t depth, uint32_t count, bool prof,
		     struct result *r)
{
	uint64_t t0, w = 0, ret = 0;
	int rc = 0;

	jobs_init(write, bytes, depth, count);
	aq.prof = prof;
	t0 = now();
	for (uint32_t i = 0; i < depth && aq.issued < count; i++) {
		rc = issue(&jobs[i]);
		if (rc)
			return rc;
	}
	/* vio_blk_wait kicks what the callbacks re-queued, then waits. */
	while (aq.done < count && !aq.error) {
		uint64_t t1 = prof ? now() : 0;

		aq.first_cb = 0;
		aq.in_wait = true;
		rc = vio_blk_wait(dev, 0, TIMEOUT_NS);
		aq.in_wait = false;
		if (prof && aq.first_cb) {
			w += aq.first_cb - t1;
			ret += now() - aq.first_cb;
		}
		if (rc < 0)
			break;
	}
	r->ns = now() - t0;
	r->n = aq.done;
	if (prof) {
		r->phase[0] = aq.q_ns;
		r->phase[1] = w;
		r->phase[2] = ret;
		r->names[0] = "q";
		r->names[1] = "w";
		r->names[2] = "r";
	}
	/* Leave nothing in flight for the next workload. */
	while (vio_blk_in_flight(dev, 0) && vio_blk_wait(dev, 0, TIMEOUT_NS) > 0)
		;
	if (aq.error)
		return aq.error;
	return rc < 0 ? rc : 0;
}

/* Depth 1 through the asynchronous API, timing each step. */
static int run_prof(bool write, uint32_t bytes, uint32_t count, struct result *r)
{
	uint64_t q = 0, k = 0, w = 0, ret = 0, t0, t1, t2, t3;
	struct job *j = &jobs[0];
	int rc;

	jobs_init(write, bytes, 1, count);
	aq.prof = true;
	aq.count = 0; /* the callback must not re-queue: this loop does */
	t0 = now();
	for (uint32_t i = 0; i < count; i++) {
		uint32_t before = aq.done;

		t1 = now();
		j->req.sector = next_sector(bytes);
		rc = vio_blk_queue(dev, 0, &j->req);
		if (rc)
			return rc;
		t2 = now();
		q += t2 - t1;
		vio_blk_kick(dev, 0);
		t1 = now();
		k += t1 - t2;
		while (aq.done == before) {
			rc = vio_blk_wait(dev, 0, TIMEOUT_NS);
			if (rc < 0)
				return rc;
		}
		t3 = now();
		w += aq.cb_time - t1;
		ret += t3 - aq.cb_time;
		if (aq.error)
			return aq.error;
	}
	r->ns = now() - t0;
	r->n = count;
	r->phase[0] = q;
	r->phase[1] = k;
	r->phase[2] = w;
	r->phase[3] = ret;
	r->names[0] = "q";
	r->names[1] = "k";
	r->names[2] = "w";
	r->names[3] = "r";
	return 0;
}

/*
 * The floor: a read as the virtqueue alone does it, polled, with vio's own
 * ring functions on the device's queue 0 (the driver has nothing in flight
 * on it meanwhile, so the cookies cannot mix).
 */
static int run_bare(uint32_t bytes, uint32_t count, struct result *r)
{
	struct vio_vq *vq = vio_dev_vq(dev, 0);
	struct {
		struct virtio_blk_outhdr hdr;
		uint8_t status;
	} *h = (void *)(async_buf + (size_t)(DEPTH_MAX - 1) * ASYNC_BYTES_MAX);
	struct vio_sg sg[3] = {
		{ &h->hdr, sizeof(h->hdr) }, { async_buf, bytes }, { &h->status, 1 },
	};
	uint64_t e = 0, k = 0, s = 0, d = 0, t0, t1, t2;
	bool irq_was_off = !vio_dev_uses_irq(dev);
	int rc = 0;

	if (vio_blk_in_flight(dev, 0))
		return VIO_EBUSY;
	if (!irq_was_off)
		vio_vq_disable_irq(vq);
	t0 = now();
	for (uint32_t i = 0; i < count; i++) {
		void *cookie;
		uint32_t len;

		t1 = now();
		/*
		 * 5.2.6.3: legacy headers are in the guest's byte order, modern
		 * ones little-endian; both boards are little-endian.
		 */
		h->hdr.type = vio_cpu_to_le32(VIRTIO_BLK_T_IN);
		h->hdr.ioprio = 0;
		h->hdr.sector = vio_cpu_to_le64(next_sector(bytes));
		h->status = 0xff;
		rc = vio_vq_enqueue(vq, sg, 1, 2, h);
		if (rc)
			break;
		t2 = now();
		e += t2 - t1;
		vio_vq_kick(vq);
		t1 = now();
		k += t1 - t2;
		while (!vio_vq_has_used(vq))
			;
		t2 = now();
		s += t2 - t1;
		rc = vio_vq_dequeue(vq, &cookie, &len);
		d += now() - t2;
		if (rc)
			break;
		if (cookie != h || h->status != VIRTIO_BLK_S_OK) {
			rc = VIO_EIO;
			break;
		}
	}
	r->ns = now() - t0;
	r->n = count;
	if (!irq_was_off)
		(void)vio_vq_enable_irq(vq); /* nothing is in flight: nothing to collect */
	r->phase[0] = e;
	r->phase[1] = k;
	r->phase[2] = s;
	r->phase[3] = d;
	r->names[0] = "e";
	r->names[1] = "k";
	r->names[2] = "s";
	r->names[3] = "d";
	return rc;
}

static void cmd_info(void)
{
	printf("INFO iface=%s mode=%s event_idx=%d indirect=%d capacity=%llu queue_size=%u "
	       "seg_max=%u max_sectors=%u\n", vio_dev_interface(dev),
	       vio_dev_uses_irq(dev) ? "irq" : "poll",
	       vio_dev_has(dev, VIRTIO_RING_F_EVENT_IDX),
	       vio_dev_has(dev, VIRTIO_RING_F_INDIRECT_DESC),
	       (unsigned long long)info.capacity, info.queue_size, info.seg_max,
	       info.max_sectors);
}

static void cmd_run(char *args)
{
	char *kind = strtok(args, " "), *op = strtok(NULL, " ");
	char *sb = strtok(NULL, " "), *sd = strtok(NULL, " "), *sc = strtok(NULL, " ");
	struct result r = { 0 };
	uint32_t bytes, depth, count, irq0, kick0;
	uint64_t t0, tclock;
	bool write;
	int rc;

	if (!kind || !op || !sb || !sd || !sc) {
		printf("ERR usage: run <sync|async|prof|bare> <read|write> <bytes> <depth> <count>\n");
		return;
	}
	write = strcmp(op, "write") == 0;
	bytes = (uint32_t)strtoul(sb, NULL, 0);
	depth = (uint32_t)strtoul(sd, NULL, 0);
	count = (uint32_t)strtoul(sc, NULL, 0);
	if (!bytes || bytes % info.block_size || bytes > BYTES_MAX || !depth ||
	    depth > DEPTH_MAX || !count || (!write && strcmp(op, "read"))) {
		printf("ERR bad arguments\n");
		return;
	}
	if (bytes / VIO_BLK_SECTOR_SIZE > span) {
		printf("ERR the disk is smaller than one request\n");
		return;
	}

	irq0 = dev->irq_count;
	kick0 = dev->notify_count;
	bench_mark(1);
	if (strcmp(kind, "sync") == 0) {
		rc = run_sync(write, bytes, count, &r);
	} else if (strcmp(kind, "async") == 0 && bytes <= ASYNC_BYTES_MAX) {
		rc = run_async(write, bytes, depth, count, false, &r);
	} else if (strcmp(kind, "prof") == 0 && bytes <= ASYNC_BYTES_MAX) {
		rc = depth > 1 ? run_async(write, bytes, depth, count, true, &r)
			       : run_prof(write, bytes, count, &r);
	} else if (strcmp(kind, "bare") == 0 && !write && bytes <= ASYNC_BYTES_MAX) {
		rc = run_bare(bytes, count, &r);
	} else {
		printf("ERR unknown workload\n");
		return;
	}
	bench_mark(2);
	if (rc) {
		printf("ERR %s %s: %s\n", kind, op, vio_strerror(rc));
		return;
	}
	t0 = now();
	tclock = now() - t0;
	printf("RES kind=%s op=%s bytes=%u depth=%u n=%u ns=%llu irqs=%u kicks=%u", kind, op,
	       bytes, depth, r.n, (unsigned long long)r.ns, dev->irq_count - irq0, dev->notify_count - kick0);
	for (unsigned i = 0; i < 4; i++)
		if (r.names[i])
			printf(" %s=%llu", r.names[i], (unsigned long long)r.phase[i]);
	printf(" t=%llu\n", (unsigned long long)tclock);
}

/* Read one line from the console, without echo. */
static void read_line(char *buf, size_t size)
{
	size_t n = 0;

	for (;;) {
		int c = getchar();

		if (c == EOF) {
			clearerr(stdin);
			continue;
		}
		if (c == '\r' || c == '\n') {
			if (n == 0)
				continue;
			break;
		}
		if (n + 1 < size)
			buf[n++] = (char)c;
	}
	buf[n] = '\0';
}

static int setup(void)
{
	const struct vio_port *port = vio_port();
	int rc;

	dev = vio_dev_find(VIRTIO_ID_BLOCK, 0);
	if (!dev) {
		printf("ERR no virtio-blk device\n");
		return VIO_ENODEV;
	}
	rc = vio_blk_get_info(dev, &info);
	if (rc) {
		printf("ERR %s: %s\n", dev->name, vio_strerror(rc));
		return rc;
	}
	sync_buf = port->dma_alloc(port->ctx, BYTES_MAX, 4096);
	async_buf = port->dma_alloc(port->ctx, (size_t)DEPTH_MAX * ASYNC_BYTES_MAX, 4096);
	if (!sync_buf || !async_buf) {
		printf("ERR out of DMA memory\n");
		return VIO_ENOMEM;
	}
	span = SPAN_BYTES / VIO_BLK_SECTOR_SIZE;
	if (info.capacity < span)
		span = info.capacity;
	return 0;
}

int main(void)
{
	char line[128];

	app_vio_start();
	if (setup())
		board_exit(1);
	printf("BENCH READY %s\n", board_info()->name);
	for (;;) {
		read_line(line, sizeof(line));
		if (strcmp(line, "info") == 0) {
			cmd_info();
		} else if (strncmp(line, "run ", 4) == 0) {
			cmd_run(line + 4);
		} else if (strcmp(line, "quit") == 0) {
			board_exit(0);
		} else {
			printf("ERR unknown command '%s'\n", line);
		}
	}
}

#else /* !CONFIG_VIO_DRIVER_BLK */

int main(void)
{
	printf("ERR this build has no virtio-blk driver (CONFIG_VIO_DRIVER_BLK)\n");
	board_exit(1);
}

#endif
