/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The boards' device-tree queries; see dt_board.h. Section numbers refer to
 * the Devicetree Specification v0.4.
 */
#include "dt_board.h"

#include <string.h>

#define PAGE 4096u

int dt_find_compatible(const struct fdt *fdt, const char *const *compats)
{
	if (!compats)
		return FDT_EBADARG;
	for (; *compats; compats++) {
		int n = -1;

		for (;;) {
			n = fdt_find_compatible(fdt, n, *compats);
			if (n == FDT_ENOTFOUND)
				break;
			if (n < 0)
				return n;
			if (fdt_is_enabled(fdt, n))
				return n;
		}
	}
	return FDT_ENOTFOUND;
}

int dt_find_reg(const struct fdt *fdt, const char *const *compats, uint64_t *base,
		uint64_t *size, int *node)
{
	int n = dt_find_compatible(fdt, compats);

	if (n < 0)
		return n;
	if (node)
		*node = n;
	return fdt_reg(fdt, n, 0, base, size);
}

int dt_interrupt_parent(const struct fdt *fdt, int node)
{
	int n = node;

	/* 2.4.1: inherited from the nearest ancestor that names one. */
	while (n >= 0) {
		uint32_t ph;
		int err = fdt_getprop_u32(fdt, n, "interrupt-parent", &ph);

		if (err == 0)
			return fdt_find_phandle(fdt, ph);
		if (err != FDT_ENOTFOUND)
			return err;
		n = fdt_parent(fdt, n);
	}
	return n;
}

/* The controller's #interrupt-cells, which must be 1 to 3 here. */
static int irq_cells(const struct fdt *fdt, int ctrl, uint32_t *cells)
{
	int err = fdt_getprop_u32(fdt, ctrl, "#interrupt-cells", cells);

	if (err)
		return err == FDT_ENOTFOUND ? FDT_EBADVALUE : err;
	if (*cells < 1 || *cells > 3)
		return FDT_EBADVALUE;
	return 0;
}

int dt_decode_irq(const uint8_t *v, uint32_t cells, int *irq)
{
	uint32_t type, num;

	switch (cells) {
	case 1:
	case 2:
		num = fdt_be32(v);
		break;
	case 3:
		/* GIC binding: <type number flags>; SPIs start at INTID 32, PPIs at 16. */
		type = fdt_be32(v);
		num = fdt_be32(v + 4);
		if (type == 0 && num < 988)
			num += 32;
		else if (type == 1 && num < 16)
			num += 16;
		else
			return FDT_EBADVALUE;
		break;
	default:
		return FDT_EBADVALUE;
	}
	if (num > INT32_MAX)
		return FDT_EBADVALUE;
	*irq = (int)num;
	return 0;
}

/* 2.4.1: interrupts-extended is <phandle specifier...> per interrupt. */
static int irq_extended(const struct fdt *fdt, const uint8_t *v, uint32_t len, uint32_t index,
			int *irq, int *ctrl)
{
	uint32_t pos = 0, i;

	for (i = 0; pos < len; i++) {
		uint32_t cells;
		int c, err;

		if (len - pos < 4)
			return FDT_EBADVALUE;
		c = fdt_find_phandle(fdt, fdt_be32(v + pos));
		if (c < 0)
			return c == FDT_ENOTFOUND ? FDT_EBADVALUE : c;
		pos += 4;
		err = irq_cells(fdt, c, &cells);
		if (err)
			return err;
		if ((len - pos) / 4 < cells)
			return FDT_EBADVALUE;
		if (i == index) {
			if (ctrl)
				*ctrl = c;
			return dt_decode_irq(v + pos, cells, irq);
		}
		pos += cells * 4;
	}
	return FDT_ENOTFOUND;
}

int dt_irq(const struct fdt *fdt, int node, uint32_t index, int *irq, int *ctrl)
{
	const uint8_t *v;
	uint32_t len, cells;
	int c, err;

	err = fdt_getprop(fdt, node, "interrupts-extended", (const void **)&v, &len);
	if (err == 0)
		return irq_extended(fdt, v, len, index, irq, ctrl);
	if (err != FDT_ENOTFOUND)
		return err;

	err = fdt_getprop(fdt, node, "interrupts", (const void **)&v, &len);
	if (err)
		return err;
	c = dt_interrupt_parent(fdt, node);
	if (c < 0)
		return c == FDT_ENOTFOUND ? FDT_EBADVALUE : c;
	err = irq_cells(fdt, c, &cells);
	if (err)
		return err;
	if (len % (cells * 4))
		return FDT_EBADVALUE;
	if (index >= len / (cells * 4))
		return FDT_ENOTFOUND;
	if (ctrl)
		*ctrl = c;
	return dt_decode_irq(v + index * cells * 4, cells, irq);
}

int dt_timebase_frequency(const struct fdt *fdt, uint32_t *hz)
{
	int cpus, cpu, err;

	cpus = fdt_path(fdt, "/cpus");
	if (cpus < 0)
		return cpus;
	err = fdt_getprop_u32(fdt, cpus, "timebase-frequency", hz);
	if (err == FDT_ENOTFOUND) {
		/* 3.8: a cpu node may carry it instead. */
		for (cpu = fdt_first_child(fdt, cpus); cpu >= 0; cpu = fdt_next_sibling(fdt, cpu)) {
			const char *t;

			if (fdt_getprop_str(fdt, cpu, "device_type", &t) == 0 &&
			    strcmp(t, "cpu") == 0)
				break;
		}
		if (cpu < 0)
			return cpu;
		err = fdt_getprop_u32(fdt, cpu, "timebase-frequency", hz);
	}
	if (err)
		return err;
	return *hz ? 0 : FDT_EBADVALUE;
}

int dt_stdout_node(const struct fdt *fdt)
{
	const char *path;
	int chosen, err;

	chosen = fdt_path(fdt, "/chosen");
	if (chosen < 0)
		return chosen;
	err = fdt_getprop_str(fdt, chosen, "stdout-path", &path);
	if (err == FDT_ENOTFOUND)
		err = fdt_getprop_str(fdt, chosen, "linux,stdout-path", &path);
	if (err)
		return err;
	return fdt_path(fdt, path);
}

static bool is_memory_node(const struct fdt *fdt, int node)
{
	const char *t, *name;

	/* 3.4: device_type = "memory"; the name alone for trees that omit it. */
	if (fdt_getprop_str(fdt, node, "device_type", &t) == 0)
		return strcmp(t, "memory") == 0;
	name = fdt_name(fdt, node);
	return name && (strcmp(name, "memory") == 0 || strncmp(name, "memory@", 7) == 0);
}

static int parse_memory(const struct fdt *fdt, struct board_info *info)
{
	bool found = false;
	int n = -1, d = 0;

	for (;;) {
		uint64_t base, size;
		uint32_t i;
		int err;

		n = fdt_next_node(fdt, n, &d);
		if (n == FDT_ENOTFOUND)
			break;
		if (n < 0)
			return n;
		/* Memory nodes are children of the root. */
		if (d != 1 || !is_memory_node(fdt, n) || !fdt_is_enabled(fdt, n))
			continue;
		for (i = 0;; i++) {
			err = fdt_reg(fdt, n, i, &base, &size);
			if (err == FDT_ENOTFOUND)
				break;
			if (err)
				return err;
			if (size == 0 || base > UINTPTR_MAX || size - 1 > UINT64_MAX - base)
				continue;
			if (!found || base < info->ram_base) {
				info->ram_base = (uintptr_t)base;
				info->ram_size = size;
				found = true;
			}
		}
	}
	return found ? 0 : FDT_ENOTFOUND;
}

static int parse_virtio(const struct fdt *fdt, struct board_info *info)
{
	int n = -1;

	info->nvirtio = 0;
	for (;;) {
		struct board_virtio v;
		uint64_t base, size;
		unsigned i;
		int err;

		n = fdt_find_compatible(fdt, n, "virtio,mmio");
		if (n == FDT_ENOTFOUND)
			break;
		if (n < 0)
			return n;
		if (!fdt_is_enabled(fdt, n))
			continue;
		err = fdt_reg(fdt, n, 0, &base, &size);
		if (err)
			return err == FDT_ENOTFOUND ? FDT_EBADVALUE : err;
		if (base > UINTPTR_MAX || size > UINT32_MAX || size == 0)
			return FDT_EBADVALUE;
		v.base = (uintptr_t)base;
		v.size = (uint32_t)size;
		err = dt_irq(fdt, n, 0, &v.irq, NULL);
		if (err == FDT_ENOTFOUND)
			v.irq = -1;
		else if (err)
			return err;

		/* Insertion into the address-sorted table; the highest falls off. */
		i = info->nvirtio;
		if (i == BOARD_MAX_VIRTIO) {
			if (v.base >= info->virtio[i - 1].base)
				continue;
			i--;
		} else {
			info->nvirtio++;
		}
		while (i > 0 && info->virtio[i - 1].base > v.base) {
			info->virtio[i] = info->virtio[i - 1];
			i--;
		}
		info->virtio[i] = v;
	}
	for (unsigned i = 0; i < info->nvirtio; i++)
		info->virtio[i].slot = (int)i;
	return 0;
}

int dt_board_parse(const struct fdt *fdt, uintptr_t dtb, struct board_info *info)
{
	int err;

	if (!fdt || !fdt->blob || !info)
		return FDT_EBADARG;
	info->dtb = dtb;
	info->ram_base = 0;
	info->ram_size = 0;
	info->nvirtio = 0;
	err = parse_memory(fdt, info);
	if (err)
		return err;
	return parse_virtio(fdt, info);
}

/* Free RAM bookkeeping: a few disjoint pieces, cut by each reservation. */
#define MAX_PIECES 16

struct pieces {
	uint64_t start[MAX_PIECES];
	uint64_t end[MAX_PIECES]; /* exclusive */
	unsigned n;
};

static void drop_piece(struct pieces *p, unsigned i)
{
	p->n--;
	p->start[i] = p->start[p->n];
	p->end[i] = p->end[p->n];
}

/* Remove [rs, re) from every piece, keeping pieces page-aligned. */
static void cut(struct pieces *p, uint64_t rs, uint64_t re)
{
	rs &= ~(uint64_t)(PAGE - 1);
	re = re > UINT64_MAX - (PAGE - 1) ? UINT64_MAX & ~(uint64_t)(PAGE - 1)
					  : (re + PAGE - 1) & ~(uint64_t)(PAGE - 1);
	for (unsigned i = 0; i < p->n; i++) {
		uint64_t s = p->start[i], e = p->end[i];

		if (re <= s || rs >= e)
			continue;
		if (rs > s && re < e) {
			/* A hole in the middle: two pieces, or keep the larger if full. */
			if (p->n < MAX_PIECES) {
				p->start[p->n] = re;
				p->end[p->n] = e;
				p->n++;
				p->end[i] = rs;
			} else if (rs - s >= e - re) {
				p->end[i] = rs;
			} else {
				p->start[i] = re;
			}
		} else if (rs > s) {
			p->end[i] = rs;
		} else if (re < e) {
			p->start[i] = re;
		} else {
			drop_piece(p, i);
			i--;
		}
	}
}

int dt_free_ram(const struct fdt *fdt, const struct board_info *info, uintptr_t image_end,
		uintptr_t *start, size_t *size)
{
	struct pieces p;
	uint64_t ram_end, a, s, best = 0;
	int resv, n;

	if (!fdt || !fdt->blob || !info || !start || !size)
		return FDT_EBADARG;
	ram_end = info->ram_base + info->ram_size;
	if (ram_end < info->ram_base)
		ram_end = UINT64_MAX;
	p.n = 1;
	p.start[0] = ((uint64_t)image_end + PAGE - 1) & ~(uint64_t)(PAGE - 1);
	p.end[0] = ram_end & ~(uint64_t)(PAGE - 1);
	if (p.end[0] <= p.start[0])
		return FDT_ENOTFOUND;

	if (info->dtb)
		cut(&p, info->dtb, (uint64_t)info->dtb + fdt->size);
	for (uint32_t i = 0; fdt_reserved(fdt, i, &a, &s) == 0; i++)
		cut(&p, a, s > UINT64_MAX - a ? UINT64_MAX : a + s);
	/* 3.5: /reserved-memory children with a reg are fixed reservations. */
	resv = fdt_path(fdt, "/reserved-memory");
	n = resv >= 0 ? fdt_first_child(fdt, resv) : FDT_ENOTFOUND;
	for (; n >= 0; n = fdt_next_sibling(fdt, n)) {
		for (uint32_t i = 0; fdt_reg(fdt, n, i, &a, &s) == 0; i++)
			cut(&p, a, s > UINT64_MAX - a ? UINT64_MAX : a + s);
	}

	for (unsigned i = 0; i < p.n; i++) {
		uint64_t len = p.end[i] - p.start[i];

		if (len > best && p.end[i] - 1 <= UINTPTR_MAX && len <= SIZE_MAX) {
			best = len;
			*start = (uintptr_t)p.start[i];
			*size = (size_t)len;
		}
	}
	return best ? 0 : FDT_ENOTFOUND;
}
