/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cache model of the test port (sim_cache.h): two views of DMA memory
 * that meet only through cache_clean and cache_invalidate, a line at a time.
 *
 * Three copies of every line the model knows:
 *   cpu  the CPU's view: the memory itself;
 *   dev  the device's view (RAM);
 *   snap the CPU's view as of the line's last clean or invalidate, so that
 *        "dirty" (written by the CPU since) is cpu != snap, byte by byte.
 * For the DMA pool, dev and snap are two arrays as large as the pool, at the
 * same offsets (mapped lazily, so only lines in use cost memory). For any
 * other memory a chain may name (a caller's data buffer), they live in a
 * table of lines created on first use: dev as poison, snap as poison too,
 * so that the line counts as dirty until the CPU cleans it.
 *
 * Whole lines reach past the bytes a block owns into red zones that
 * AddressSanitizer poisons, so the few functions that touch the CPU's view
 * line-wide are not instrumented; they copy through volatile pointers so
 * that the compiler cannot turn the loops back into (intercepted) memcpy.
 */
#define _DEFAULT_SOURCE /* mmap flags */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "sim.h"
#include "sim_asan.h"
#include "sim_cache.h"

#define LINE ((uintptr_t)SIM_CACHE_LINE)
#define LINE_OF(a) ((uintptr_t)(a) & ~(LINE - 1))

struct sim_cache_stats sim_cache_stats;

static bool on;
/* The model was on since the last reset (its shadow may have been written). */
static bool touched;
/* The shadow below this offset may be unpoisoned (agree() is the only unpoisoner). */
static size_t agreed_end;

/* The pool and its two companions. */
static uint8_t *pool;
static size_t pool_size;
static uint8_t *shadow; /* dev */
static uint8_t *snap;

/* Lines outside the pool. */
struct xline {
	uintptr_t addr;
	uint8_t dev[SIM_CACHE_LINE];
	uint8_t snap[SIM_CACHE_LINE];
};
static struct xline **xtab;
static size_t xcap, xcount;

/* Buffers of the chain being served. */
struct seg {
	uint64_t addr;
	uint32_t len;
	bool writable;
	bool bounce;
	uint8_t *buf;
};
static struct seg *segs;
static unsigned nsegs, capsegs;

/* One line in its three copies. */
struct view {
	uintptr_t addr;
	uint8_t *cpu;
	uint8_t *dev;
	uint8_t *snap;
	bool pool;
};

/* A bug in a test or in the simulator, not in the library: stop at once. */
static void bug(const char *what)
{
	fprintf(stderr, "sim: cache model: test bug: %s\n", what);
	abort();
}

static void *map_like_pool(void)
{
	void *p = mmap(NULL, pool_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED) {
		perror("sim: mmap of the cache model's shadow");
		abort();
	}
	return p;
}

void sim_cache_pool(uint8_t *base, size_t size)
{
	if (pool)
		return;
	if ((uintptr_t)base % LINE || size % LINE)
		bug("the DMA pool is not made of whole lines");
	pool = base;
	pool_size = size;
	shadow = map_like_pool();
	snap = map_like_pool();
	/* The device's view of the pool is as strict as the pool itself. */
	POISON(shadow, pool_size);
}

static bool in_pool(uintptr_t a, size_t len)
{
	uintptr_t b = (uintptr_t)pool;

	return pool && a >= b && len <= pool_size && a - b <= pool_size - len;
}

static size_t xhash(uintptr_t line, size_t cap)
{
	return (size_t)((line / LINE) * 0x9e3779b97f4a7c15ull) & (cap - 1);
}

static void xgrow(void)
{
	size_t ncap = xcap ? 2 * xcap : 4096;
	struct xline **n = calloc(ncap, sizeof(*n));

	if (!n)
		bug("out of memory");
	for (size_t i = 0; i < xcap; i++) {
		size_t h;

		if (!xtab[i])
			continue;
		for (h = xhash(xtab[i]->addr, ncap); n[h]; h = (h + 1) & (ncap - 1))
			;
		n[h] = xtab[i];
	}
	free(xtab);
	xtab = n;
	xcap = ncap;
}

/* The line at address line (aligned), created as "never cleaned" if new. */
static struct xline *xline(uintptr_t line)
{
	size_t h;
	struct xline *x;

	if (2 * (xcount + 1) > xcap)
		xgrow();
	for (h = xhash(line, xcap); xtab[h]; h = (h + 1) & (xcap - 1)) {
		if (xtab[h]->addr == line)
			return xtab[h];
	}
	x = malloc(sizeof(*x));
	if (!x)
		bug("out of memory");
	x->addr = line;
	memset(x->dev, SIM_CACHE_POISON, sizeof(x->dev));
	memset(x->snap, SIM_CACHE_POISON, sizeof(x->snap));
	xtab[h] = x;
	xcount++;
	return x;
}

static void view_of(uintptr_t line, struct view *v)
{
	v->addr = line;
	v->cpu = (uint8_t *)line;
	v->pool = in_pool(line, LINE);
	if (v->pool) {
		size_t off = line - (uintptr_t)pool;

		v->dev = shadow + off;
		v->snap = snap + off;
	} else {
		struct xline *x = xline(line);

		v->dev = x->dev;
		v->snap = x->snap;
	}
}

/*
 * The three copies of a line are all 8-byte aligned (lines, the shadow
 * and snapshot maps, struct xline), so whole lines go a word at a time:
 * these loops were a quarter of a fuzz input's time byte by byte.
 */
static bool words(const void *a, const void *b, size_t n)
{
	return (((uintptr_t)a | (uintptr_t)b | n) & 7) == 0;
}

SIM_NO_ASAN static void raw_copy(uint8_t *dst, const uint8_t *src, size_t n)
{
	if (words(dst, src, n)) {
		volatile uint64_t *d = (volatile uint64_t *)(void *)dst;
		const volatile uint64_t *s = (const volatile uint64_t *)(const void *)src;

		for (size_t i = 0; i < n / 8; i++)
			d[i] = s[i];
		return;
	}
	volatile uint8_t *d = dst;
	const volatile uint8_t *s = src;

	for (size_t i = 0; i < n; i++)
		d[i] = s[i];
}

SIM_NO_ASAN static bool raw_differs(const uint8_t *a, const uint8_t *b, size_t n)
{
	if (words(a, b, n)) {
		const volatile uint64_t *x = (const volatile uint64_t *)(const void *)a;
		const volatile uint64_t *y = (const volatile uint64_t *)(const void *)b;

		for (size_t i = 0; i < n / 8; i++) {
			if (x[i] != y[i])
				return true;
		}
		return false;
	}
	const volatile uint8_t *x = a, *y = b;

	for (size_t i = 0; i < n; i++) {
		if (x[i] != y[i])
			return true;
	}
	return false;
}

/* Lines of [a, a+len), one at a time; len 0 touches none. */
#define FOR_LINES(line, a, len)                                                         \
	for (uintptr_t line = LINE_OF(a), line##_end = (uintptr_t)(a) + (len);            \
	     (len) && line < line##_end; line += LINE)

static bool dirty(const struct view *v)
{
	return raw_differs(v->cpu, v->snap, LINE);
}

/* ------------------------------------------------------------------ */
/* The port's hooks */

/*
 * Bytes of a dirty line the CPU did not write but the device did since the
 * CPU last synced the line: a write-back puts the CPU's stale copy over them.
 */
SIM_NO_ASAN static unsigned stale_over_device(const struct view *v, uintptr_t *first)
{
	const volatile uint8_t *cpu = v->cpu, *dev = v->dev, *snp = v->snap;
	unsigned n = 0;

	for (uintptr_t i = 0; i < LINE; i++) {
		if (cpu[i] == snp[i] && dev[i] != snp[i]) {
			if (!n)
				*first = v->addr + i;
			n++;
		}
	}
	return n;
}

void sim_cache_clean(void *ctx, const void *p, size_t len)
{
	(void)ctx;
	if (!on)
		return;
	sim_cache_stats.cleans++;
	FOR_LINES(line, (uintptr_t)p, len) {
		struct view v;
		uintptr_t first = 0;
		unsigned stale;

		view_of(line, &v);
		/* A write-back cache writes back dirty lines only, and whole. */
		if (!dirty(&v))
			continue;
		stale = stale_over_device(&v, &first);
		if (stale) {
			sim_cache_stats.stale_write_backs++;
			sim_error("cache_clean(%p, %zu) writes back line %#lx over %u byte(s) the "
				  "device wrote since the CPU last read it (first at %#lx)", p, len,
				  (unsigned long)line, stale, (unsigned long)first);
		}
		raw_copy(v.dev, v.cpu, LINE);
		raw_copy(v.snap, v.cpu, LINE);
		sim_cache_stats.lines_written_back++;
	}
}

SIM_NO_ASAN static void invalidate_line(const struct view *v, uintptr_t lo, uintptr_t hi,
					const void *p, size_t len)
{
	volatile uint8_t *cpu = v->cpu, *dev = v->dev, *snp = v->snap;
	unsigned inside = 0, beside = 0;
	uintptr_t first = 0;
	bool written = dirty(v); /* most lines are not: skip the count */

	for (uintptr_t i = 0; written && i < LINE; i++) {
		uintptr_t a = v->addr + i;

		if (cpu[i] == snp[i])
			continue;
		if (!inside && !beside)
			first = a;
		if (a >= lo && a < hi)
			inside++;
		else
			beside++;
	}
	if (inside || beside) {
		sim_cache_stats.dirty_discards++;
		sim_error("cache_invalidate(%p, %zu) drops %u byte(s) the CPU wrote and never "
			  "cleaned (first at %#lx, line %#lx%s)", p, len, inside + beside,
			  (unsigned long)first, (unsigned long)v->addr,
			  beside ? ", some next to the range" : "");
	}
	if (v->pool) {
		raw_copy(v->cpu, v->dev, LINE);
		raw_copy(v->snap, v->cpu, LINE);
		return;
	}
	for (uintptr_t i = 0; i < LINE; i++) {
		uintptr_t a = v->addr + i;

		/* Outside the pool, bytes the library did not name stay the test's. */
		if (a >= lo && a < hi)
			cpu[i] = dev[i];
		snp[i] = cpu[i];
	}
}

void sim_cache_invalidate(void *ctx, const void *p, size_t len)
{
	uintptr_t lo = (uintptr_t)p, hi = lo + len;

	(void)ctx;
	if (!on)
		return;
	sim_cache_stats.invalidates++;
	FOR_LINES(line, lo, len) {
		struct view v;

		view_of(line, &v);
		invalidate_line(&v, lo, hi, p, len);
		sim_cache_stats.lines_invalidated++;
	}
}

/* ------------------------------------------------------------------ */
/* The device's side */

bool sim_cache_on(void)
{
	return on;
}

bool sim_cache_dirty(const void *p, size_t len)
{
	if (!on)
		return false;
	FOR_LINES(line, (uintptr_t)p, len) {
		struct view v;

		view_of(line, &v);
		if (dirty(&v))
			return true;
	}
	return false;
}

void sim_cache_dev_wrote(uint64_t addr, size_t len)
{
	unsigned n = 0;
	uintptr_t first = 0;

	if (!on)
		return;
	FOR_LINES(line, (uintptr_t)addr, len) {
		struct view v;

		view_of(line, &v);
		if (dirty(&v)) {
			if (!n)
				first = line;
			n++;
		}
	}
	if (n) {
		sim_cache_stats.dirty_under_device += n;
		sim_error("device writes %#llx+%zu while the CPU holds %u line(s) there dirty "
			  "(first %#lx): a write-back would overwrite the device's data",
			  (unsigned long long)addr, len, n, (unsigned long)first);
	}
}

/* Copy between the device's view of [addr, addr+len) and buf. */
static void dev_copy(uint64_t addr, uint8_t *buf, size_t len, bool to_dev)
{
	uintptr_t a = (uintptr_t)addr, end = a + len;

	FOR_LINES(line, a, len) {
		struct view v;
		uintptr_t lo = line > a ? line : a;
		uintptr_t hi = line + LINE < end ? line + LINE : end;

		view_of(line, &v);
		if (to_dev)
			raw_copy(v.dev + (lo - line), buf + (lo - a), hi - lo);
		else
			raw_copy(buf + (lo - a), v.dev + (lo - line), hi - lo);
	}
}

void sim_cache_dev_read(uint64_t addr, void *dst, size_t len)
{
	if (!on) {
		memcpy(dst, (const void *)(uintptr_t)addr, len);
		return;
	}
	dev_copy(addr, dst, len, false);
}

void sim_cache_dev_write(uint64_t addr, const void *src, size_t len)
{
	if (!on) {
		memcpy((void *)(uintptr_t)addr, src, len);
		return;
	}
	dev_copy(addr, (uint8_t *)(uintptr_t)src, len, true);
	sim_cache_dev_wrote(addr, len);
}

void *sim_cache_dev_ptr(uint64_t addr)
{
	if (on && in_pool((uintptr_t)addr, 0))
		return shadow + ((uintptr_t)addr - (uintptr_t)pool);
	return (void *)(uintptr_t)addr;
}

void *sim_cache_seg_map(uint64_t addr, uint32_t len, bool writable)
{
	struct seg *s;

	if (!on)
		return (void *)(uintptr_t)addr;
	if (nsegs == capsegs) {
		unsigned cap = capsegs ? 2 * capsegs : 64;
		struct seg *n = realloc(segs, cap * sizeof(*n));

		if (!n)
			bug("out of memory");
		segs = n;
		capsegs = cap;
	}
	s = &segs[nsegs++];
	s->addr = addr;
	s->len = len;
	s->writable = writable;
	s->bounce = !in_pool((uintptr_t)addr, len);
	if (!s->bounce) {
		s->buf = sim_cache_dev_ptr(addr);
		return s->buf;
	}
	/* Not contiguous in any view the model keeps: the model works on a copy. */
	s->buf = malloc(len ? len : 1);
	if (!s->buf)
		bug("out of memory");
	dev_copy(addr, s->buf, len, false);
	return s->buf;
}

void sim_cache_seg_release(bool served)
{
	for (unsigned i = 0; i < nsegs; i++) {
		struct seg *s = &segs[i];

		if (served && s->writable) {
			if (s->bounce)
				dev_copy(s->addr, s->buf, s->len, true);
			/* The device owned all of it for writing, written or not. */
			sim_cache_dev_wrote(s->addr, s->len);
		}
		if (s->bounce)
			free(s->buf);
	}
	nsegs = 0;
}

/* ------------------------------------------------------------------ */
/* The test port's side */

/* Both views agree on [p, p+size): the line is clean and known to the device. */
static void agree(void *p, size_t size, bool zero)
{
	size_t off = (uintptr_t)p - (uintptr_t)pool;

	UNPOISON(shadow + off, size);
	if (off + size > agreed_end)
		agreed_end = off + size;
	if (zero) {
		memset(shadow + off, 0, size);
		memset(snap + off, 0, size);
	} else {
		raw_copy(shadow + off, p, size);
		raw_copy(snap + off, p, size);
	}
}

void sim_cache_alloc(void *p, size_t size)
{
	if (!on)
		return;
	if (!in_pool((uintptr_t)p, size))
		bug("sim_cache_alloc outside the pool");
	agree(p, size, true);
}

void sim_cache_free(void *p, size_t size)
{
	if (!on || !in_pool((uintptr_t)p, size))
		return;
	/* A device access after the free is caught like a CPU access. */
	POISON(shadow + ((uintptr_t)p - (uintptr_t)pool), size);
}

void sim_cache_enable(void)
{
	on = true;
	touched = true;
}

void sim_cache_adopt(void *p, size_t size)
{
	if (!in_pool((uintptr_t)p, size))
		bug("sim_cache_adopt outside the pool");
	/* Memory allocated before the model came on starts coherent. */
	agree(p, size, false);
}

void sim_cache_reset(void)
{
	on = false;
	/* Untouched, the shadow is still clean: skip 64 MiB of work per reset. */
	if (pool && touched) {
		madvise(shadow, pool_size, MADV_DONTNEED);
		madvise(snap, pool_size, MADV_DONTNEED);
		/* Only what agree() unpoisoned: poisoning all 64 MiB wrote
		 * 8 MiB of ASan's shadow, most of a fuzz input's time. */
		POISON(shadow, agreed_end);
	}
	touched = false;
	agreed_end = 0;
	for (size_t i = 0; i < xcap; i++)
		free(xtab[i]);
	free(xtab);
	xtab = NULL;
	xcap = 0;
	xcount = 0;
	sim_cache_seg_release(false);
	free(segs);
	segs = NULL;
	capsegs = 0;
	memset(&sim_cache_stats, 0, sizeof(sim_cache_stats));
}
