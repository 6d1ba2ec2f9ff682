/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit test of the boards' device-tree reader (boards/common/fdt.c and
 * dt_board.c) on the host.
 *
 *   test_fdt DIR
 *
 * DIR holds fdt_test.dtb, qemu-virt-riscv64.dtb and qemu-virt-aarch64.dtb,
 * compiled with dtc from tests/host/data/. Checks what the boards read from
 * QEMU's real trees and from a tree with the awkward cases, then feeds the
 * reader truncated and corrupted blobs, each in a heap buffer of exactly its
 * size so that AddressSanitizer catches any read past the end. Exits 0 when
 * every check passes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dt_board.h"
#include "dt_pci.h"
#include "fdt.h"

static int failures;

#define CHECK(cond)                                                                         \
	do {                                                                                \
		if (!(cond)) {                                                              \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,   \
				#cond);                                                     \
			failures++;                                                         \
		}                                                                           \
	} while (0)

#define CHECK_EQ(a, b)                                                                      \
	do {                                                                                \
		long long a_ = (long long)(a), b_ = (long long)(b);                         \
		if (a_ != b_) {                                                             \
			fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n",        \
				__FILE__, __LINE__, #a, a_, #b, b_);                        \
			failures++;                                                         \
		}                                                                           \
	} while (0)

struct blob {
	uint8_t *data;
	size_t size;
};

static struct blob load(const char *dir, const char *name)
{
	char path[4096];
	struct blob b = { NULL, 0 };
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f) {
		perror(path);
		exit(2);
	}
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "%s: cannot size\n", path);
		exit(2);
	}
	b.size = (size_t)n;
	b.data = malloc(b.size);
	if (!b.data || fread(b.data, 1, b.size, f) != b.size) {
		fprintf(stderr, "%s: cannot read\n", path);
		exit(2);
	}
	fclose(f);
	return b;
}

/* A heap copy of exactly len bytes, so ASan sees any read beyond it. */
static uint8_t *copy(const uint8_t *src, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);

	if (!p)
		exit(2);
	memcpy(p, src, len);
	return p;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * Everything a board does with a tree, plus a full walk over every node and
 * property it names. On a broken blob any result is fine but a crash or an
 * out-of-bounds read; the return is a checksum so nothing is optimized away.
 */
static uint64_t exercise(const uint8_t *data, size_t len)
{
	static const char *const uarts[] = { "ns16550a", "arm,pl011", NULL };
	static const char *const plics[] = { "riscv,plic0", "sifive,plic-1.0.0", NULL };
	struct board_info info;
	struct fdt fdt;
	uint64_t sum = 0, a, s;
	uintptr_t start;
	size_t size;
	uint32_t u;
	int n = -1, d = 0, irq, node;

	if (fdt_open(&fdt, data, len) != 0)
		return 1;
	memset(&info, 0, sizeof(info));
	sum += (uint64_t)dt_board_parse(&fdt, 0x80e00000u, &info);
	sum += info.nvirtio;
	if (info.ram_size)
		sum += (uint64_t)dt_free_ram(&fdt, &info, info.ram_base + 0x1000, &start, &size);
	sum += (uint64_t)dt_find_reg(&fdt, uarts, &a, &s, &node);
	sum += (uint64_t)dt_find_reg(&fdt, plics, &a, &s, &node);
	sum += (uint64_t)dt_timebase_frequency(&fdt, &u);
	sum += (uint64_t)dt_stdout_node(&fdt);
	sum += (uint64_t)fdt_path(&fdt, "/soc/plic");
	{
		static struct pci_host h;

		sum += (uint64_t)dt_pci_host(&fdt, UINT64_MAX, &h) + h.nroutes + h.io.size;
	}
	for (uint32_t i = 0; fdt_reserved(&fdt, i, &a, &s) == 0; i++)
		sum += a + s;
	for (int guard = 0; guard < 100000; guard++) {
		const char *name;
		const void *v;
		uint32_t plen;

		n = fdt_next_node(&fdt, n, &d);
		if (n < 0)
			break;
		name = fdt_name(&fdt, n);
		sum += name ? strlen(name) : 7;
		sum += (uint64_t)fdt_parent(&fdt, n);
		sum += (uint64_t)fdt_first_child(&fdt, n);
		sum += (uint64_t)fdt_next_sibling(&fdt, n);
		sum += (uint64_t)fdt_reg(&fdt, n, 0, &a, &s);
		sum += (uint64_t)dt_irq(&fdt, n, 0, &irq, NULL);
		sum += (uint64_t)dt_interrupt_parent(&fdt, n);
		sum += (uint64_t)fdt_is_compatible(&fdt, n, "virtio,mmio");
		sum += fdt_is_enabled(&fdt, n);
		if (fdt_getprop(&fdt, n, "compatible", &v, &plen) == 0)
			sum += plen;
	}
	return sum;
}

static void test_header_checks(const struct blob *b)
{
	struct fdt fdt;
	uint8_t *p;

	CHECK_EQ(fdt_open(&fdt, b->data, b->size), 0);
	CHECK_EQ(fdt_peek_size(b->data), fdt.size);
	CHECK_EQ(fdt_peek_size(NULL), 0);

	/* The caller's bound below totalsize, down to nothing. */
	for (size_t len = 0; len < fdt.size; len++) {
		p = copy(b->data, len);
		CHECK(fdt_open(&fdt, p, len) < 0);
		free(p);
	}
	CHECK_EQ(fdt_open(&fdt, b->data, 7), FDT_ETRUNCATED);
	CHECK_EQ(fdt_open(&fdt, NULL, 100), FDT_EBADARG);

	p = copy(b->data, b->size);
	p[0] ^= 1;
	CHECK_EQ(fdt_open(&fdt, p, b->size), FDT_EBADMAGIC);
	CHECK(fdt.blob == NULL);
	memcpy(p, b->data, b->size);
	put_be32(p + 20, 15); /* version */
	CHECK_EQ(fdt_open(&fdt, p, b->size), FDT_EBADVERSION);
	memcpy(p, b->data, b->size);
	put_be32(p + 24, 17); /* last_comp_version beyond what we read */
	CHECK_EQ(fdt_open(&fdt, p, b->size), FDT_EBADVERSION);
	memcpy(p, b->data, b->size);
	put_be32(p + 36, 0xfffffff0u); /* size_dt_struct */
	CHECK_EQ(fdt_open(&fdt, p, b->size), FDT_ETRUNCATED);
	memcpy(p, b->data, b->size);
	put_be32(p + 12, 0xfffffff0u); /* off_dt_strings */
	CHECK_EQ(fdt_open(&fdt, p, b->size), FDT_ETRUNCATED);
	memcpy(p, b->data, b->size);
	put_be32(p + 32, (uint32_t)b->size); /* size_dt_strings */
	CHECK_EQ(fdt_open(&fdt, p, b->size), FDT_ETRUNCATED);
	memcpy(p, b->data, b->size);
	put_be32(p + 8, 0x41); /* misaligned structure block */
	CHECK_EQ(fdt_open(&fdt, p, b->size), FDT_ETRUNCATED);
	memcpy(p, b->data, b->size);
	put_be32(p + 4, 0x80000010u); /* totalsize huge, bound huge */
	CHECK_EQ(fdt_open(&fdt, p, SIZE_MAX), FDT_ETRUNCATED);
	free(p);

	/*
	 * A blob whose header claims only len bytes, in a buffer of len bytes:
	 * each cut must be refused, and refused without reading past it.
	 */
	for (size_t len = 8; len < b->size; len++) {
		p = copy(b->data, len);
		put_be32(p + 4, (uint32_t)len);
		CHECK(fdt_open(&fdt, p, len) < 0);
		exercise(p, len);
		free(p);
	}
}

/* Every word of the blob set to a few nasty values, one at a time. */
static void test_word_mutations(const struct blob *b)
{
	static const uint32_t values[] = {
		0, 1, 2, 3, 4, 9, 0x7fffffffu, 0x80000000u, 0xfffffffcu, 0xffffffffu,
	};
	struct fdt fdt;
	size_t accepted = 0;

	for (size_t off = 0; off + 4 <= b->size; off += 4) {
		for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
			uint8_t *p = copy(b->data, b->size);

			put_be32(p + off, values[v]);
			if (fdt_open(&fdt, p, b->size) == 0)
				accepted++;
			exercise(p, b->size);
			free(p);
		}
	}
	CHECK(accepted > 0); /* property values may change freely */
}

/* Random byte corruption, deterministic. */
static void test_random_corruption(const struct blob *b)
{
	uint32_t x = 0x12345678u;

	for (int iter = 0; iter < 3000; iter++) {
		uint8_t *p = copy(b->data, b->size);
		int flips = 1 + iter % 8;

		for (int i = 0; i < flips; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			p[x % b->size] = (uint8_t)(x >> 24);
		}
		exercise(p, b->size);
		free(p);
	}
}

/* Targeted structure-block damage that a reader must notice. */
static void test_struct_damage(const struct blob *b)
{
	struct fdt fdt;
	uint32_t soff, ssize, stroff;
	uint8_t *p;

	CHECK_EQ(fdt_open(&fdt, b->data, b->size), 0);
	soff = fdt.struct_off;
	ssize = fdt.struct_size;
	stroff = fdt.strings_size;

	/* No END token: the last word becomes a NOP. */
	p = copy(b->data, b->size);
	put_be32(p + soff + ssize - 4, 4);
	CHECK_EQ(fdt_open(&fdt, p, b->size), FDT_EBADSTRUCT);
	/* An unknown token first. */
	memcpy(p, b->data, b->size);
	put_be32(p + soff, 7);
	CHECK_EQ(fdt_open(&fdt, p, b->size), FDT_EBADSTRUCT);
	/* An extra END_NODE before END. */
	memcpy(p, b->data, b->size);
	put_be32(p + soff + ssize - 4, 2);
	CHECK_EQ(fdt_open(&fdt, p, b->size), FDT_EBADSTRUCT);
	/* The root's name without its NUL, up to the block's end. */
	memcpy(p, b->data, b->size);
	memset(p + soff + 4, 'x', ssize - 4);
	CHECK_EQ(fdt_open(&fdt, p, b->size), FDT_EBADSTRUCT);
	/* The first property's name offset beyond the strings block. */
	memcpy(p, b->data, b->size);
	CHECK_EQ(fdt_be32(p + soff + 8), 3); /* root "" then PROP */
	put_be32(p + soff + 16, stroff);
	CHECK_EQ(fdt_open(&fdt, p, b->size), FDT_EBADSTRUCT);
	/* Its length beyond the block. */
	memcpy(p, b->data, b->size);
	put_be32(p + soff + 12, ssize);
	CHECK_EQ(fdt_open(&fdt, p, b->size), FDT_EBADSTRUCT);
	/* The strings block cut right after its first string's first byte. */
	memcpy(p, b->data, b->size);
	put_be32(p + 32, 1);
	CHECK(fdt_open(&fdt, p, b->size) < 0);
	free(p);

	/* Handles that are not nodes. */
	CHECK_EQ(fdt_open(&fdt, b->data, b->size), 0);
	CHECK(fdt_name(&fdt, -5) == NULL);
	CHECK(fdt_name(&fdt, fdt.root + 1) == NULL);
	CHECK(fdt_name(&fdt, 0x7ffffff0) == NULL);
	CHECK(fdt_getprop(&fdt, fdt.root + 4, "compatible", NULL, NULL) < 0);
	CHECK(fdt_parent(&fdt, fdt.root + 8) < 0);
	CHECK_EQ(fdt_parent(&fdt, fdt.root), FDT_ENOTFOUND);
}

static void test_unit_tree(const struct blob *b)
{
	static const char *const uarts[] = { "arm,pl011", "ns16550a", NULL };
	struct board_info info;
	struct fdt fdt;
	uintptr_t start;
	size_t size;
	uint64_t a, s;
	uint32_t u;
	const char *str;
	int n, node, irq, ctrl, depth;

	CHECK_EQ(fdt_open(&fdt, b->data, b->size), 0);
	CHECK_EQ(fdt.rsvmap_count, 1);
	CHECK_EQ(fdt_reserved(&fdt, 0, &a, &s), 0);
	CHECK_EQ(a, 0x80f00000u);
	CHECK_EQ(s, 0x10000);
	CHECK_EQ(fdt_reserved(&fdt, 1, &a, &s), FDT_ENOTFOUND);

	memset(&info, 0, sizeof(info));
	info.name = "test";
	CHECK_EQ(dt_board_parse(&fdt, 0x80e00000u, &info), 0);
	CHECK(strcmp(info.name, "test") == 0);
	CHECK_EQ(info.ram_base, 0x80000000u);
	CHECK_EQ(info.ram_size, 0x1000000);
	CHECK_EQ(info.dtb, 0x80e00000u);
	CHECK_EQ(info.nvirtio, 4);
	CHECK_EQ(info.virtio[0].base, 0x2000);
	CHECK_EQ(info.virtio[0].irq, 32 + 7);
	CHECK_EQ(info.virtio[1].base, 0x2400);
	CHECK_EQ(info.virtio[1].irq, 16 + 3);
	CHECK_EQ(info.virtio[2].base, 0x3000);
	CHECK_EQ(info.virtio[2].irq, 5);
	CHECK_EQ(info.virtio[3].base, 0x4000);
	CHECK_EQ(info.virtio[3].irq, -1);
	for (unsigned i = 0; i < info.nvirtio; i++) {
		CHECK_EQ(info.virtio[i].slot, i);
		CHECK_EQ(info.virtio[i].size, 0x200);
	}

	/*
	 * Free RAM from just above 0x80201000: the reservation at 0x80800000
	 * splits it, the tree (at 0x80e00000) and /memreserve/ cut the top.
	 */
	CHECK_EQ(dt_free_ram(&fdt, &info, 0x80200123u, &start, &size), 0);
	CHECK_EQ(start, 0x80201000u);
	CHECK_EQ(size, 0x80800000u - 0x80201000u);
	CHECK_EQ(dt_free_ram(&fdt, &info, 0x80900000u, &start, &size), 0);
	CHECK_EQ(start, 0x80900000u);
	CHECK_EQ(size, 0x80e00000u - 0x80900000u);
	CHECK_EQ(dt_free_ram(&fdt, &info, 0x81000000u, &start, &size), FDT_ENOTFOUND);

	CHECK_EQ(dt_find_reg(&fdt, uarts, &a, &s, &node), 0);
	CHECK_EQ(a, 0x1100);
	CHECK_EQ(s, 0x100);
	CHECK_EQ(dt_stdout_node(&fdt), node);
	CHECK_EQ(fdt_path(&fdt, "/bus/uart"), node);
	CHECK_EQ(fdt_path(&fdt, "/bus@1000/uart@1100"), node);
	CHECK_EQ(fdt_path(&fdt, "/bus@1000//uart@1100/"), node);
	CHECK_EQ(fdt_path(&fdt, "serial0"), node);
	CHECK_EQ(fdt_path(&fdt, "/bus@1001/uart"), FDT_ENOTFOUND);
	CHECK_EQ(fdt_path(&fdt, "/bu"), FDT_ENOTFOUND);
	CHECK_EQ(fdt_path(&fdt, "serial1"), FDT_ENOTFOUND);
	CHECK_EQ(fdt_path(&fdt, "/"), fdt.root);
	CHECK(strcmp(fdt_name(&fdt, node), "uart@1100") == 0);
	CHECK(strcmp(fdt_name(&fdt, fdt.root), "") == 0);
	CHECK_EQ(fdt_parent(&fdt, node), fdt_path(&fdt, "/bus@1000"));
	CHECK_EQ(fdt_getprop_str(&fdt, fdt.root, "compatible", &str), 0);
	CHECK(strcmp(str, "vio,fdt-test") == 0);
	CHECK_EQ(fdt_getprop_u32(&fdt, fdt.root, "compatible", &u), FDT_EBADVALUE);
	CHECK_EQ(fdt_getprop(&fdt, node, "nothing", NULL, NULL), FDT_ENOTFOUND);

	CHECK_EQ(dt_timebase_frequency(&fdt, &u), 0);
	CHECK_EQ(u, 1000000);

	n = fdt_path(&fdt, "/bus/virtio@2800");
	CHECK(n >= 0);
	CHECK(!fdt_is_enabled(&fdt, n));
	CHECK(fdt_is_enabled(&fdt, fdt_path(&fdt, "/bus/virtio@4000")));
	CHECK_EQ(dt_irq(&fdt, n, 0, &irq, &ctrl), 0);
	CHECK_EQ(irq, 9);
	CHECK_EQ(ctrl, fdt_path(&fdt, "/ic1"));
	CHECK_EQ(dt_irq(&fdt, n, 1, &irq, NULL), FDT_ENOTFOUND);
	CHECK_EQ(dt_irq(&fdt, fdt_path(&fdt, "/bus/virtio@2400"), 0, &irq, &ctrl), 0);
	CHECK_EQ(ctrl, fdt_path(&fdt, "/ic3"));
	CHECK_EQ(dt_irq(&fdt, fdt_path(&fdt, "/bus/virtio@2400"), 1, &irq, NULL), FDT_ENOTFOUND);

	/* The memory node's second range is not the lowest. */
	n = fdt_path(&fdt, "/memory@80000000");
	CHECK_EQ(fdt_reg(&fdt, n, 1, &a, &s), 0);
	CHECK_EQ(a, 0xa0000000u);
	CHECK_EQ(fdt_reg(&fdt, n, 2, &a, &s), FDT_ENOTFOUND);
	/* #size-cells = 0 under /cpus. */
	CHECK_EQ(fdt_reg(&fdt, fdt_path(&fdt, "/cpus/cpu@0"), 0, &a, &s), 0);
	CHECK_EQ(a, 0);
	CHECK_EQ(s, 0);

	/* Walk order and depth. */
	depth = 5;
	n = fdt_next_node(&fdt, -1, &depth);
	CHECK_EQ(n, fdt.root);
	CHECK_EQ(depth, 0);
	n = fdt_next_node(&fdt, n, &depth);
	CHECK_EQ(n, fdt_path(&fdt, "/aliases"));
	CHECK_EQ(depth, 1);
	n = fdt_next_node(&fdt, n, &depth);
	CHECK_EQ(n, fdt_path(&fdt, "/chosen"));
	CHECK_EQ(depth, 1);
	n = fdt_next_node(&fdt, fdt_path(&fdt, "/cpus/cpu@0"), &depth);
	CHECK_EQ(n, fdt_path(&fdt, "/memory@90000000"));
	CHECK_EQ(depth, 0);
	CHECK_EQ(fdt_first_child(&fdt, fdt_path(&fdt, "/ic1")), FDT_ENOTFOUND);
	CHECK_EQ(fdt_next_sibling(&fdt, fdt_path(&fdt, "/bus")), FDT_ENOTFOUND);
	CHECK_EQ(fdt_next_sibling(&fdt, fdt_path(&fdt, "/ic1")), fdt_path(&fdt, "/ic3"));
	CHECK_EQ(fdt_find_phandle(&fdt, 0), FDT_EBADARG);
	CHECK_EQ(fdt_find_phandle(&fdt, 0x1234), FDT_ENOTFOUND);
}

/* The interrupt-map's line for INTx pin of root-bus device dev. */
static int route(const struct pci_host *h, unsigned dev, unsigned pin)
{
	for (unsigned i = 0; i < h->nroutes; i++)
		if (h->route[i].devfn_hi == ((dev << 11) & h->map_mask_hi) &&
		    h->route[i].pin == (pin & h->map_mask_pin))
			return h->route[i].irq;
	return -1;
}

/* QEMU's generic PCIe host: ECAM, windows, and INTx lines rotated by device number. */
static void test_pci_riscv64(const struct fdt *fdt)
{
	static struct pci_host h;

	CHECK_EQ(dt_pci_host(fdt, UINT64_MAX, &h), 0);
	CHECK_EQ(h.ecam, 0x30000000u);
	CHECK_EQ(h.bus_start, 0);
	CHECK_EQ(h.bus_end, 255);
	CHECK_EQ(h.io.cpu, 0x3000000u);
	CHECK_EQ(h.io.pci, 0);
	CHECK_EQ(h.io.size, 0x10000u);
	CHECK_EQ(h.mem32.cpu, 0x40000000u);
	CHECK_EQ(h.mem32.size, 0x40000000u);
	CHECK_EQ(h.mem64.cpu, 0x400000000ull);
	CHECK_EQ(h.mem64.size, 0x400000000ull);
	CHECK_EQ(h.map_mask_hi, 0x1800);
	CHECK_EQ(h.map_mask_pin, 7);
	CHECK_EQ(h.nroutes, 16);
	/* PLIC sources 32..35: device 0 INTA is 32, device 1 INTA 33, device 3 INTD 34 */
	CHECK_EQ(route(&h, 0, 1), 32);
	CHECK_EQ(route(&h, 1, 1), 33);
	CHECK_EQ(route(&h, 3, 4), 34);
	CHECK_EQ(route(&h, 5, 1), 33);
}

static void test_pci_aarch64(const struct fdt *fdt)
{
	static struct pci_host h;

	CHECK_EQ(dt_pci_host(fdt, (1ull << 39) - 1, &h), 0);
	CHECK_EQ(h.ecam, 0x4010000000ull);
	CHECK_EQ(h.io.cpu, 0x3eff0000u);
	CHECK_EQ(h.mem32.cpu, 0x10000000u);
	CHECK_EQ(h.mem32.size, 0x2eff0000u);
	CHECK_EQ(h.mem64.cpu, 0x8000000000ull);
	CHECK_EQ(h.cpu_limit, (1ull << 39) - 1);
	/* Entries of 10 cells (the GIC has 2 address cells and 3 interrupt cells): SPI 3.. */
	CHECK_EQ(h.nroutes, 16);
	CHECK_EQ(route(&h, 0, 1), 35);
	CHECK_EQ(route(&h, 1, 1), 36);
	CHECK_EQ(route(&h, 2, 4), 36);
}

static void test_qemu_riscv64(const struct blob *b)
{
	static const char *const test_dev[] = { "sifive,test1", "sifive,test0", NULL };
	static const char *const plic[] = { "riscv,plic0", "sifive,plic-1.0.0", NULL };
	static const char *const uart[] = { "ns16550a", NULL };
	struct board_info info;
	struct fdt fdt;
	uint64_t a, s;
	uint32_t u;
	int node;

	CHECK_EQ(fdt_open(&fdt, b->data, b->size), 0);
	memset(&info, 0, sizeof(info));
	CHECK_EQ(dt_board_parse(&fdt, 0, &info), 0);
	CHECK_EQ(info.ram_base, 0x80000000u);
	CHECK_EQ(info.ram_size, 256u << 20);
	CHECK_EQ(info.nvirtio, 8);
	for (unsigned i = 0; i < info.nvirtio; i++) {
		CHECK_EQ(info.virtio[i].base, 0x10001000u + 0x1000u * i);
		CHECK_EQ(info.virtio[i].size, 0x1000);
		CHECK_EQ(info.virtio[i].irq, i + 1);
		CHECK_EQ(info.virtio[i].slot, i);
	}
	CHECK_EQ(dt_find_reg(&fdt, uart, &a, &s, &node), 0);
	CHECK_EQ(a, 0x10000000u);
	CHECK_EQ(dt_stdout_node(&fdt), node);
	CHECK_EQ(dt_find_reg(&fdt, plic, &a, &s, NULL), 0);
	CHECK_EQ(a, 0x0c000000u);
	CHECK_EQ(dt_find_reg(&fdt, test_dev, &a, &s, NULL), 0);
	CHECK_EQ(a, 0x100000u);
	CHECK_EQ(dt_timebase_frequency(&fdt, &u), 0);
	CHECK_EQ(u, 10000000);
	test_pci_riscv64(&fdt);
	CHECK(exercise(b->data, b->size) != 1);
}

static void test_qemu_aarch64(const struct blob *b)
{
	static const char *const gic[] = { "arm,cortex-a15-gic", "arm,gic-400", NULL };
	static const char *const uart[] = { "arm,pl011", NULL };
	struct board_info info;
	struct fdt fdt;
	uint64_t a, s;
	int node;

	CHECK_EQ(fdt_open(&fdt, b->data, b->size), 0);
	memset(&info, 0, sizeof(info));
	CHECK_EQ(dt_board_parse(&fdt, 0x40000000u, &info), 0);
	CHECK_EQ(info.ram_base, 0x40000000u);
	CHECK_EQ(info.ram_size, 256u << 20);
	CHECK_EQ(info.nvirtio, 32);
	for (unsigned i = 0; i < info.nvirtio; i++) {
		CHECK_EQ(info.virtio[i].base, 0x0a000000u + 0x200u * i);
		CHECK_EQ(info.virtio[i].size, 0x200);
		CHECK_EQ(info.virtio[i].irq, 48 + i);
		CHECK_EQ(info.virtio[i].slot, i);
	}
	CHECK_EQ(dt_find_reg(&fdt, uart, &a, &s, &node), 0);
	CHECK_EQ(a, 0x09000000u);
	CHECK_EQ(dt_stdout_node(&fdt), node);
	CHECK_EQ(dt_find_reg(&fdt, gic, &a, &s, &node), 0);
	CHECK_EQ(a, 0x08000000u);
	CHECK_EQ(fdt_reg(&fdt, node, 1, &a, &s), 0);
	CHECK_EQ(a, 0x08010000u);
	test_pci_aarch64(&fdt);
	CHECK(exercise(b->data, b->size) != 1);
}

int main(int argc, char **argv)
{
	struct blob unit, rv, arm;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR-WITH-DTBS\n", argv[0]);
		return 2;
	}
	unit = load(argv[1], "fdt_test.dtb");
	rv = load(argv[1], "qemu-virt-riscv64.dtb");
	arm = load(argv[1], "qemu-virt-aarch64.dtb");

	test_unit_tree(&unit);
	test_qemu_riscv64(&rv);
	test_qemu_aarch64(&arm);
	test_header_checks(&unit);
	test_struct_damage(&unit);
	test_word_mutations(&unit);
	test_random_corruption(&unit);
	test_random_corruption(&rv);

	free(unit.data);
	free(rv.data);
	free(arm.data);
	if (failures) {
		fprintf(stderr, "test_fdt: %d check(s) failed\n", failures);
		return 1;
	}
	printf("test_fdt: all checks passed\n");
	return 0;
}
