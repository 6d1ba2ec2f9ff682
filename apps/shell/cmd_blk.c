/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Block device commands: blk info, read, write, verify, flush, discard, zero,
 * bench. Addresses and counts are 512-byte sectors, as in <vio/blk.h>. Data
 * patterns are a byte value or the shared generator (apps/common/pattern.h),
 * which the host-side tests compute too: "gen" or "gen:SEED".
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vio/blk.h>
#include <vio/device.h>
#include <vio/error.h>
#include <vio/spec/virtio_config.h>

#include "vio_config.h"

#include "board.h"
#include "pattern.h"
#include "shell.h"

#if CONFIG_VIO_DRIVER_BLK

#define SECTOR VIO_BLK_SECTOR_SIZE
#define CHUNK_SECTORS 128u   /* write and verify go 64 KiB at a time (any block size divides it) */
#define READ_MAX_SECTORS 8u  /* read prints at most 4 KiB */
#define BENCH_DEPTH 32u
#define BENCH_IO 4096u       /* bytes a benchmark read */
#define BENCH_NS 1000000000ull
#define NS_PER_MS 1000000ull

static uint8_t buf[CHUNK_SECTORS * SECTOR] __attribute__((aligned(64)));

/* A data pattern: the generator with a seed, or one byte everywhere. */
struct pat {
	bool gen;
	uint64_t seed;
	uint8_t byte;
};

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!s || !*s || *s == '-')
		return false;
	*v = strtoull(s, &end, 0);
	return !*end;
}

/* "gen", "gen:SEED" or a byte value 0..255. */
static bool parse_pat(const char *s, struct pat *p)
{
	uint64_t v;

	memset(p, 0, sizeof(*p));
	if (!strcmp(s, "gen")) {
		p->gen = true;
		p->seed = PATTERN_SEED_DEFAULT;
		return true;
	}
	if (!strncmp(s, "gen:", 4)) {
		p->gen = true;
		return parse_u64(s + 4, &p->seed);
	}
	if (!parse_u64(s, &v) || v > 0xff)
		return false;
	p->byte = (uint8_t)v;
	return true;
}

static void print_pat(const struct pat *p)
{
	if (p->gen)
		printf("gen:%llu", (unsigned long long)p->seed);
	else
		printf("0x%02x", p->byte);
}

static void pat_fill(const struct pat *p, uint64_t sector, uint8_t *dst, size_t len)
{
	if (p->gen)
		pattern_fill(p->seed, sector * SECTOR, dst, len);
	else
		memset(dst, p->byte, len);
}

/* Index of the first byte of src that differs from the pattern, or len. */
static size_t pat_check(const struct pat *p, uint64_t sector, const uint8_t *src, size_t len)
{
	if (p->gen)
		return pattern_check(p->seed, sector * SECTOR, src, len);
	for (size_t i = 0; i < len; i++)
		if (src[i] != p->byte)
			return i;
	return len;
}

static uint8_t pat_byte(const struct pat *p, uint64_t off)
{
	return p->gen ? pattern_byte(p->seed, off) : p->byte;
}

/* A size in bytes, readable: "4 MiB", "1536 KiB", "512 bytes". */
static void print_size(uint64_t bytes)
{
	if (bytes >= (1ull << 30) && bytes % (1ull << 30) == 0)
		printf("%llu GiB", (unsigned long long)(bytes >> 30));
	else if (bytes >= (1ull << 20) && bytes % (1ull << 20) == 0)
		printf("%llu MiB", (unsigned long long)(bytes >> 20));
	else if (bytes >= 1024 && bytes % 1024 == 0)
		printf("%llu KiB", (unsigned long long)(bytes >> 10));
	else
		printf("%llu bytes", (unsigned long long)bytes);
}

static void print_ms(uint64_t ns)
{
	printf("%llu.%03llu ms", (unsigned long long)(ns / NS_PER_MS),
	       (unsigned long long)(ns % NS_PER_MS / 1000u));
}

/* ------------------------------------------------------------------ */
/* The device */

/* The device named name ("blk1", or just "1"), or NULL after saying why. */
static struct vio_device *find_blk(const char *name)
{
	char want[16];

	if (name[0] >= '0' && name[0] <= '9')
		snprintf(want, sizeof(want), "blk%s", name);
	else
		snprintf(want, sizeof(want), "%s", name);
	for (unsigned i = 0; i < vio_dev_count(); i++) {
		struct vio_device *dev = vio_dev_at(i);

		if (strcmp(dev->name, want))
			continue;
		if (dev->t.device_id != VIRTIO_ID_BLOCK) {
			printf("blk: %s is not a block device\n", want);
			return NULL;
		}
		return dev;
	}
	printf("blk: no device %s ('list_device' shows them)\n", want);
	return NULL;
}

/* Whether dev can take I/O; says why not. Fills *in. */
static bool blk_ready(struct vio_device *dev, struct vio_blk_info *in)
{
	int r = vio_blk_get_info(dev, in);

	if (r) {
		printf("blk: %s: %s", dev->name, vio_strerror(r));
		if (dev->error)
			printf(" (%s)", vio_strerror(dev->error));
		putchar('\n');
		return false;
	}
	return true;
}

/*
 * The driver refuses a range beyond the capacity too; checking first keeps
 * a long write or verify from doing its first chunks and then failing.
 */
static bool range_ok(const struct vio_device *dev, const struct vio_blk_info *in,
		     const char *what, uint64_t sector, uint64_t count)
{
	if (sector <= in->capacity && count <= in->capacity - sector)
		return true;
	printf("blk %s: %s: sector%s %llu", what, dev->name, count > 1 ? "s" : "",
	       (unsigned long long)sector);
	if (count > 1)
		printf("..%llu", (unsigned long long)(sector + count - 1));
	printf(": %s (capacity %llu sectors)\n", vio_strerror(VIO_ERANGE),
	       (unsigned long long)in->capacity);
	return false;
}

static int io_error(const struct vio_device *dev, const char *what, uint64_t sector,
		    uint64_t count, int r)
{
	printf("blk %s: %s: %llu sectors at %llu: %s\n", what, dev->name,
	       (unsigned long long)count, (unsigned long long)sector, vio_strerror(r));
	return 1;
}

/* ------------------------------------------------------------------ */
/* Subcommands. argv[0] is the subcommand's name. */

static int sub_info(struct vio_device *dev, const struct vio_blk_info *in, int argc, char **argv)
{
	char id[VIO_BLK_ID_LEN + 1];
	int r, wb;

	(void)argc;
	(void)argv;
	printf("%s: slot %d, %s, irq %d\n", dev->name, dev->slot, vio_dev_interface(dev), dev->irq);
	printf("  capacity      %llu sectors (", (unsigned long long)in->capacity);
	print_size(in->capacity * SECTOR);
	printf(")\n  blocks        logical %u, physical %u", in->block_size,
	       in->physical_block_size);
	if (in->alignment_offset)
		printf(", alignment offset %u", in->alignment_offset);
	if (in->min_io_size || in->opt_io_size)
		printf(", I/O min %u opt %u", in->min_io_size, in->opt_io_size);
	putchar('\n');
	if (in->cylinders)
		printf("  geometry      %u cylinders, %u heads, %u sectors a track\n",
		       in->cylinders, in->heads, in->sectors_per_track);
	printf("  limits        seg_max %u, size_max ", in->seg_max);
	if (in->size_max == UINT32_MAX)
		printf("none");
	else
		printf("%u", in->size_max);
	printf(", max %u sectors a request\n", in->max_sectors);
	printf("  queues        %u of %u entries\n", in->num_queues, in->queue_size);
	if (in->discard)
		printf("  discard       max %u sectors a request, alignment %u sector%s\n",
		       in->max_discard_sectors, in->discard_alignment,
		       in->discard_alignment == 1 ? "" : "s");
	else
		printf("  discard       not offered\n");
	if (in->write_zeroes)
		printf("  write-zeroes  max %u sectors a request%s\n", in->max_write_zeroes_sectors,
		       in->write_zeroes_may_unmap ? ", may unmap" : "");
	else
		printf("  write-zeroes  not offered\n");
	wb = vio_blk_writeback(dev);
	if (wb < 0)
		printf("  cache         %s\n", vio_strerror(wb));
	else
		printf("  cache         %s%s\n", wb ? "write-back" : "write-through",
		       in->wce_config ? " (switchable)" : "");
	printf("  read-only     %s\n", in->read_only ? "yes" : "no");
	r = vio_blk_get_id(dev, id, sizeof(id));
	if (r < 0)
		printf("  serial        (%s)\n", vio_strerror(r));
	else
		printf("  serial        %s\n", r ? id : "(none)");
	shell_print_features(dev, "  features     ");
	return 0;
}

static int sub_read(struct vio_device *dev, const struct vio_blk_info *in, int argc, char **argv)
{
	uint64_t sector, count = 1;
	int r;

	if (!parse_u64(argv[1], &sector) || (argc > 2 && !parse_u64(argv[2], &count))) {
		return shell_usage("blk read SECTOR [COUNT]");
	}
	if (count > READ_MAX_SECTORS) {
		printf("blk read: at most %u sectors at a time\n", READ_MAX_SECTORS);
		return 1;
	}
	if (!range_ok(dev, in, "read", sector, count))
		return 1;
	r = vio_blk_read(dev, sector, buf, (uint32_t)count);
	if (r)
		return io_error(dev, "read", sector, count, r);
	printf("%s sector %llu, %llu sector%s:\n", dev->name, (unsigned long long)sector,
	       (unsigned long long)count, count == 1 ? "" : "s");
	shell_hexdump(buf, (size_t)count * SECTOR);
	return 0;
}

static int sub_write(struct vio_device *dev, const struct vio_blk_info *in, int argc, char **argv)
{
	uint64_t sector, count, left, t0;
	struct pat p;
	int r;

	(void)argc;
	if (!parse_u64(argv[1], &sector) || !parse_u64(argv[2], &count) ||
	    !parse_pat(argv[3], &p)) {
		return shell_usage("blk write SECTOR COUNT BYTE|gen[:SEED]");
	}
	if (!range_ok(dev, in, "write", sector, count))
		return 1;
	t0 = board_time_ns();
	left = count;
	/* At least one call, so that a count of 0 gets the driver's answer. */
	do {
		uint32_t n = left < CHUNK_SECTORS ? (uint32_t)left : CHUNK_SECTORS;
		uint64_t at = sector + (count - left);

		pat_fill(&p, at, buf, (size_t)n * SECTOR);
		r = vio_blk_write(dev, at, buf, n);
		if (r)
			return io_error(dev, "write", at, n, r);
		left -= n;
	} while (left);
	printf("wrote %llu sectors at %llu (", (unsigned long long)count,
	       (unsigned long long)sector);
	print_pat(&p);
	printf(") in ");
	print_ms(board_time_ns() - t0);
	putchar('\n');
	return 0;
}

static int sub_verify(struct vio_device *dev, const struct vio_blk_info *in, int argc,
		      char **argv)
{
	struct pat p = { true, PATTERN_SEED_DEFAULT, 0 };
	uint64_t sector, count, left, t0;
	int r;

	if (!parse_u64(argv[1], &sector) || !parse_u64(argv[2], &count) ||
	    (argc > 3 && !parse_pat(argv[3], &p))) {
		return shell_usage("blk verify SECTOR COUNT [BYTE|gen[:SEED]]");
	}
	if (!range_ok(dev, in, "verify", sector, count))
		return 1;
	t0 = board_time_ns();
	left = count;
	do {
		uint32_t n = left < CHUNK_SECTORS ? (uint32_t)left : CHUNK_SECTORS;
		uint64_t at = sector + (count - left);
		size_t bad;

		r = vio_blk_read(dev, at, buf, n);
		if (r)
			return io_error(dev, "verify", at, n, r);
		bad = pat_check(&p, at, buf, (size_t)n * SECTOR);
		if (bad < (size_t)n * SECTOR) {
			uint64_t off = at * SECTOR + bad;

			printf("mismatch at sector %llu byte %u (disk offset %llu): read 0x%02x, "
			       "want 0x%02x (", (unsigned long long)(off / SECTOR),
			       (unsigned)(off % SECTOR), (unsigned long long)off, buf[bad],
			       pat_byte(&p, off));
			print_pat(&p);
			printf(")\n");
			return 1;
		}
		left -= n;
	} while (left);
	printf("ok: %llu sectors at %llu match ", (unsigned long long)count,
	       (unsigned long long)sector);
	print_pat(&p);
	printf(" (");
	print_ms(board_time_ns() - t0);
	printf(")\n");
	return 0;
}

static int sub_flush(struct vio_device *dev, const struct vio_blk_info *in, int argc, char **argv)
{
	int r = vio_blk_flush(dev);

	(void)in;
	(void)argc;
	(void)argv;
	if (r) {
		printf("blk flush: %s: %s\n", dev->name, vio_strerror(r));
		return 1;
	}
	printf("flushed %s\n", dev->name);
	return 0;
}

static int sub_discard(struct vio_device *dev, const struct vio_blk_info *in, int argc,
		       char **argv)
{
	uint64_t sector, count;
	int r;

	(void)in;
	(void)argc;
	if (!parse_u64(argv[1], &sector) || !parse_u64(argv[2], &count)) {
		return shell_usage("blk discard SECTOR COUNT");
	}
	r = vio_blk_discard(dev, sector, count);
	if (r)
		return io_error(dev, "discard", sector, count, r);
	printf("discarded %llu sectors at %llu\n", (unsigned long long)count,
	       (unsigned long long)sector);
	return 0;
}

static int sub_zero(struct vio_device *dev, const struct vio_blk_info *in, int argc, char **argv)
{
	uint64_t sector, count;
	bool unmap = false;
	int r;

	(void)in;
	if (!parse_u64(argv[1], &sector) || !parse_u64(argv[2], &count) ||
	    (argc > 3 && !(unmap = !strcmp(argv[3], "unmap")))) {
		return shell_usage("blk zero SECTOR COUNT [unmap]");
	}
	r = vio_blk_write_zeroes(dev, sector, count, unmap);
	if (r)
		return io_error(dev, "zero", sector, count, r);
	printf("zeroed %llu sectors at %llu%s\n", (unsigned long long)count,
	       (unsigned long long)sector, unmap ? " (unmap allowed)" : "");
	return 0;
}

/*
 * bench: sequential reads, with depth requests kept in flight on queue 0
 * for BENCH_NS. Nothing is printed while the clock runs: every character on
 * the UART costs the guest time.
 */
struct bench {
	struct vio_device *dev;
	uint64_t next;     /* sector of the next read */
	uint64_t end;      /* the reads wrap around before this sector */
	uint32_t sectors;  /* a read */
	uint64_t done;     /* reads completed */
	int error;         /* the first error */
};

static struct vio_blk_req bench_req[BENCH_DEPTH];
static struct vio_sg bench_sg[BENCH_DEPTH];
static uint8_t bench_buf[BENCH_DEPTH][BENCH_IO] __attribute__((aligned(4096)));

static void bench_done(struct vio_blk_req *req)
{
	struct bench *b = req->ctx;

	if (req->result && !b->error)
		b->error = req->result;
	b->done++;
}

/* Queue bench_req[i] for the next read; 0 or the driver's error. */
static int bench_queue(struct bench *b, unsigned i)
{
	struct vio_blk_req *req = &bench_req[i];

	memset(req, 0, sizeof(*req));
	bench_sg[i].buf = bench_buf[i];
	bench_sg[i].len = b->sectors * SECTOR;
	req->op = VIO_BLK_OP_READ;
	req->sector = b->next;
	req->sg = &bench_sg[i];
	req->nsg = 1;
	req->done = bench_done;
	req->ctx = b;
	b->next += b->sectors;
	if (b->next + b->sectors > b->end)
		b->next = 0;
	return vio_blk_queue(b->dev, 0, req);
}

/* Run one timed pass at depth; reads done and nanoseconds in *ios, *ns. */
static int bench_pass(struct bench *b, unsigned depth, uint64_t *ios, uint64_t *ns)
{
	uint64_t t0, stop, now;
	unsigned busy = 0;
	int r = 0, w;

	b->next = 0;
	b->done = 0;
	b->error = 0;
	t0 = board_time_ns();
	stop = t0 + BENCH_NS;
	for (;;) {
		now = board_time_ns();
		/* Refill: every idle request goes back in while time is left. */
		busy = 0;
		for (unsigned i = 0; i < depth; i++) {
			if (!bench_req[i].busy && now < stop && !b->error && !r) {
				r = bench_queue(b, i);
				if (r == VIO_ENOSPC)
					r = 0; /* the ring is full: fewer in flight */
			}
			busy += bench_req[i].busy;
		}
		if (!busy)
			break;
		/* Kicks the queue, waits for a completion, runs the callbacks. */
		w = vio_blk_wait(b->dev, 0, (uint64_t)CONFIG_VIO_TIMEOUT_MS * NS_PER_MS);

		if (w < 0) {
			r = w;
			break;
		}
	}
	*ns = board_time_ns() - t0;
	*ios = b->done;
	return r ? r : b->error;
}

static int sub_bench(struct vio_device *dev, const struct vio_blk_info *in, int argc,
		     char **argv)
{
	static const unsigned depths[] = { 1, BENCH_DEPTH };
	struct bench b = { .dev = dev };

	(void)argc;
	(void)argv;
	b.sectors = BENCH_IO / SECTOR;
	if (in->block_size > BENCH_IO || in->capacity < b.sectors) {
		printf("blk bench: %s: needs blocks of at most %u bytes and a disk of one read\n",
		       dev->name, BENCH_IO);
		return 1;
	}
	b.end = in->capacity - in->capacity % b.sectors;
	printf("%s: sequential %u KiB reads on queue 0, %llu ms each\n", dev->name,
	       BENCH_IO / 1024, BENCH_NS / NS_PER_MS);
	fflush(stdout);
	for (unsigned d = 0; d < sizeof(depths) / sizeof(depths[0]); d++) {
		uint64_t ios, ns, bytes, tenths;
		int r = bench_pass(&b, depths[d], &ios, &ns);

		if (r) {
			printf("blk bench: %s: %s\n", dev->name, vio_strerror(r));
			return 1;
		}
		if (!ns)
			ns = 1;
		bytes = ios * b.sectors * SECTOR;
		/* Tenths of MiB/s, kept clear of overflow for any rate a guest reaches. */
		tenths = bytes * 10 / 1024 * 1000000000ull / ns / 1024;
		printf("  depth %2u: %7llu IOPS %5llu.%llu MiB/s (%llu reads in ", depths[d],
		       (unsigned long long)(ios * 1000000000ull / ns),
		       (unsigned long long)(tenths / 10), (unsigned long long)(tenths % 10),
		       (unsigned long long)ios);
		print_ms(ns);
		printf(")\n");
		fflush(stdout);
	}
	return 0;
}

static const struct {
	const char *name;
	int min_args, max_args; /* after the subcommand's name */
	const char *usage;
	int (*run)(struct vio_device *dev, const struct vio_blk_info *in, int argc, char **argv);
} subs[] = {
	{ "info", 0, 1, "info [N]", sub_info },
	{ "read", 1, 2, "read SECTOR [COUNT]", sub_read },
	{ "write", 3, 3, "write SECTOR COUNT BYTE|gen[:SEED]", sub_write },
	{ "verify", 2, 3, "verify SECTOR COUNT [BYTE|gen[:SEED]]", sub_verify },
	{ "flush", 0, 0, "flush", sub_flush },
	{ "discard", 2, 2, "discard SECTOR COUNT", sub_discard },
	{ "zero", 2, 3, "zero SECTOR COUNT [unmap]", sub_zero },
	{ "bench", 0, 0, "bench", sub_bench },
};

static void usage(void)
{
	printf("usage: blk [-d blkN] SUBCOMMAND (default device blk0; sectors of 512 bytes)\n");
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		printf("  blk %s\n", subs[i].usage);
	printf("patterns: a byte (0x5a) or the test generator, gen:SEED (gen: seed %u)\n",
	       PATTERN_SEED_DEFAULT);
}

static int cmd_blk(int argc, char **argv)
{
	const char *devname = "blk0";
	struct vio_blk_info in;
	struct vio_device *dev;
	int arg = 1;

	if (arg + 1 < argc && !strcmp(argv[arg], "-d")) {
		devname = argv[arg + 1];
		arg += 2;
	}
	if (arg >= argc || !strcmp(argv[arg], "help")) {
		usage();
		return arg >= argc;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		int n = argc - arg - 1;

		if (strcmp(subs[i].name, argv[arg]))
			continue;
		if (n < subs[i].min_args || n > subs[i].max_args) {
			char line[80];

			snprintf(line, sizeof(line), "blk [-d blkN] %s", subs[i].usage);
			return shell_usage(line);
		}
		/* blk info N: the N-th blk device. */
		if (subs[i].run == sub_info && n == 1)
			devname = argv[arg + 1];
		dev = find_blk(devname);
		if (!dev || !blk_ready(dev, &in))
			return 1;
		return subs[i].run(dev, &in, n + 1, argv + arg);
	}
	printf("blk: unknown subcommand '%s'; 'help blk' lists them\n", argv[arg]);
	return 1;
}

const struct shell_cmd shell_blk_cmds[] = {
	{ "blk", "[-d blkN] SUBCMD ...",
	  "block device: info read write verify flush discard zero bench ('blk help')", cmd_blk,
	  "-d info read write verify flush discard zero bench help" },
	{ NULL, NULL, NULL, NULL, NULL },
};

#endif
