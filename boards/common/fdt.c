/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Checked flattened-device-tree reader; see fdt.h. Section numbers refer to
 * the Devicetree Specification v0.4.
 *
 * fdt_open() walks the whole structure block once, so a blob it accepts has
 * valid tokens, balanced nodes and in-range names and strings. The other
 * functions check every access again anyway: they are cheap checks, and
 * they keep each function safe on its own (a caller may hand in any int as
 * a node).
 */
#include "fdt.h"

#include <string.h>

/* 5.2: header fields, by byte offset. */
#define HDR_MAGIC 0
#define HDR_TOTALSIZE 4
#define HDR_OFF_STRUCT 8
#define HDR_OFF_STRINGS 12
#define HDR_OFF_RSVMAP 16
#define HDR_VERSION 20
#define HDR_LAST_COMP 24
#define HDR_SIZE_STRINGS 32
#define HDR_SIZE_STRUCT 36
#define HDR_LEN 40

#define FDT_MAGIC 0xd00dfeedu

/* 5.4.1: structure block tokens. */
#define TOK_BEGIN_NODE 1u
#define TOK_END_NODE 2u
#define TOK_PROP 3u
#define TOK_NOP 4u
#define TOK_END 9u

const char *fdt_strerror(int err)
{
	switch (err) {
	case 0:
		return "ok";
	case FDT_ENOTFOUND:
		return "not found";
	case FDT_EBADMAGIC:
		return "not a device tree (bad magic)";
	case FDT_EBADVERSION:
		return "unsupported device tree version";
	case FDT_ETRUNCATED:
		return "device tree truncated or a block out of range";
	case FDT_EBADSTRUCT:
		return "malformed device tree structure";
	case FDT_EBADVALUE:
		return "bad property value";
	case FDT_EBADARG:
		return "bad argument";
	case FDT_ETOODEEP:
		return "device tree nested too deep";
	default:
		return "unknown device tree error";
	}
}

uint32_t fdt_be32(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

int fdt_cells(const void *p, uint32_t ncells, uint64_t *val)
{
	const uint8_t *b = p;

	if (ncells == 1)
		*val = fdt_be32(b);
	else if (ncells == 2)
		*val = (uint64_t)fdt_be32(b) << 32 | fdt_be32(b + 4);
	else
		return FDT_EBADVALUE;
	return 0;
}

uint32_t fdt_peek_size(const void *blob)
{
	const uint8_t *b = blob;

	if (!b || fdt_be32(b + HDR_MAGIC) != FDT_MAGIC)
		return 0;
	return fdt_be32(b + HDR_TOTALSIZE);
}

static uint32_t align4(uint32_t v)
{
	return (v + 3u) & ~3u;
}

/* Length of the string at off, if a NUL ends it before limit; else -1. */
static int64_t bounded_strlen(const uint8_t *blob, uint32_t off, uint32_t limit)
{
	const void *nul;

	if (off >= limit)
		return -1;
	nul = memchr(blob + off, '\0', limit - off);
	if (!nul)
		return -1;
	return (const uint8_t *)nul - (blob + off);
}

/* The property-name string at nameoff in the strings block, or NULL (5.5). */
static const char *prop_name(const struct fdt *fdt, uint32_t nameoff)
{
	uint32_t off = fdt->strings_off + nameoff;

	if (nameoff >= fdt->strings_size)
		return NULL;
	if (bounded_strlen(fdt->blob, off, fdt->strings_off + fdt->strings_size) < 0)
		return NULL;
	return (const char *)fdt->blob + off;
}

/*
 * Decode the token at off: its tag, and the offset of the token after it.
 * For a property also its name and value. Every byte it reads is checked to
 * lie inside the structure block.
 */
struct tok {
	uint32_t tag;
	uint32_t next;
	const char *name;     /* BEGIN_NODE: node name; PROP: property name */
	const uint8_t *value; /* PROP only */
	uint32_t len;         /* PROP only */
};

static int read_token(const struct fdt *fdt, int64_t off, struct tok *t)
{
	uint32_t end = fdt->struct_off + fdt->struct_size;
	uint32_t p;
	int64_t n;

	/* 5.4: every token is 32-bit aligned. */
	if (off < fdt->struct_off || (off & 3) || off + 4 > end)
		return FDT_EBADSTRUCT;
	t->tag = fdt_be32(fdt->blob + off);
	p = (uint32_t)off + 4;
	t->name = NULL;
	t->value = NULL;
	t->len = 0;
	switch (t->tag) {
	case TOK_BEGIN_NODE:
		/* 5.4.1: the name follows, NUL-terminated, padded to 4 bytes. */
		n = bounded_strlen(fdt->blob, p, end);
		if (n < 0)
			return FDT_EBADSTRUCT;
		t->name = (const char *)fdt->blob + p;
		p = align4(p + (uint32_t)n + 1);
		break;
	case TOK_PROP:
		/* 5.4.1: struct { len; nameoff; } then len bytes of value, padded. */
		if (end - p < 8)
			return FDT_EBADSTRUCT;
		t->len = fdt_be32(fdt->blob + p);
		t->name = prop_name(fdt, fdt_be32(fdt->blob + p + 4));
		if (!t->name)
			return FDT_EBADSTRUCT;
		p += 8;
		if (t->len > end - p)
			return FDT_EBADSTRUCT;
		t->value = fdt->blob + p;
		p = align4(p + t->len);
		break;
	case TOK_END_NODE:
	case TOK_NOP:
	case TOK_END:
		break;
	default:
		return FDT_EBADSTRUCT;
	}
	if (p > end && t->tag != TOK_END)
		return FDT_EBADSTRUCT;
	t->next = p;
	return 0;
}

/* Check that node is the offset of a BEGIN_NODE token; fill t from it. */
static int node_token(const struct fdt *fdt, int node, struct tok *t)
{
	int err;

	if (!fdt || !fdt->blob || node < 0)
		return FDT_EBADARG;
	err = read_token(fdt, node, t);
	if (err)
		return err;
	return t->tag == TOK_BEGIN_NODE ? 0 : FDT_EBADARG;
}

/*
 * One pass over the structure block: valid tokens, the root node first,
 * balanced BEGIN/END_NODE, nothing but NOPs after the root, then END.
 */
static int check_struct(struct fdt *fdt)
{
	uint32_t off = fdt->struct_off;
	long depth = 0;
	bool seen_root = false;
	struct tok t;
	int err;

	for (;;) {
		err = read_token(fdt, off, &t);
		if (err)
			return err;
		switch (t.tag) {
		case TOK_BEGIN_NODE:
			if (seen_root && depth == 0)
				return FDT_EBADSTRUCT; /* a second root */
			if (!seen_root) {
				seen_root = true;
				fdt->root = (int)off;
			}
			depth++;
			break;
		case TOK_END_NODE:
			if (depth == 0)
				return FDT_EBADSTRUCT;
			depth--;
			break;
		case TOK_PROP:
			if (depth == 0)
				return FDT_EBADSTRUCT; /* a property outside any node */
			break;
		case TOK_NOP:
			break;
		case TOK_END:
			return seen_root && depth == 0 ? 0 : FDT_EBADSTRUCT;
		}
		off = t.next;
	}
}

/* Whether [off, off + size) lies within [0, limit), without overflow. */
static bool range_ok(uint32_t off, uint32_t size, uint32_t limit)
{
	return off <= limit && size <= limit - off;
}

int fdt_open(struct fdt *fdt, const void *blob, size_t max_size)
{
	const uint8_t *b = blob;
	uint32_t total, version, last_comp, i;
	int err;

	if (!fdt || !b)
		return FDT_EBADARG;
	memset(fdt, 0, sizeof(*fdt));
	fdt->root = FDT_ENOTFOUND;
	if (max_size < 8)
		return FDT_ETRUNCATED;
	if (fdt_be32(b + HDR_MAGIC) != FDT_MAGIC)
		return FDT_EBADMAGIC;
	total = fdt_be32(b + HDR_TOTALSIZE);
	/* Offsets become non-negative ints (node handles): cap the size. */
	if (total > max_size || total > INT32_MAX)
		return FDT_ETRUNCATED;
	if (total < HDR_LEN)
		return FDT_ETRUNCATED;
	version = fdt_be32(b + HDR_VERSION);
	last_comp = fdt_be32(b + HDR_LAST_COMP);
	/* 5.2: version 17 is compatible back to 16; 16 is what we read. */
	if (version < 16 || last_comp > 16)
		return FDT_EBADVERSION;

	fdt->blob = b;
	fdt->size = total;
	fdt->struct_off = fdt_be32(b + HDR_OFF_STRUCT);
	fdt->strings_off = fdt_be32(b + HDR_OFF_STRINGS);
	fdt->rsvmap_off = fdt_be32(b + HDR_OFF_RSVMAP);
	fdt->strings_size = fdt_be32(b + HDR_SIZE_STRINGS);
	/* size_dt_struct exists from version 17 on; bound v16 by the blob. */
	if (version >= 17)
		fdt->struct_size = fdt_be32(b + HDR_SIZE_STRUCT);
	else if (fdt->struct_off <= total)
		fdt->struct_size = total - fdt->struct_off;

	if (!range_ok(fdt->struct_off, fdt->struct_size, total) ||
	    !range_ok(fdt->strings_off, fdt->strings_size, total) ||
	    !range_ok(fdt->rsvmap_off, 0, total))
		goto bad;
	/* 5.3 and 5.4: the blocks' alignment. */
	if ((fdt->struct_off & 3) || (fdt->rsvmap_off & 7) || fdt->struct_off < HDR_LEN ||
	    fdt->rsvmap_off < HDR_LEN)
		goto bad;

	/* 5.3.2: the reservation map ends with an entry of zero address and size. */
	for (i = 0;; i++) {
		uint32_t e;
		uint64_t addr, size;

		if (i >= total / 16)
			goto bad;
		e = fdt->rsvmap_off + i * 16u;
		if (!range_ok(e, 16, total))
			goto bad;
		fdt_cells(b + e, 2, &addr);
		fdt_cells(b + e + 8, 2, &size);
		if (addr == 0 && size == 0)
			break;
	}
	fdt->rsvmap_count = i;

	err = check_struct(fdt);
	if (err)
		goto fail;
	return 0;

bad:
	err = FDT_ETRUNCATED;
fail:
	fdt->blob = NULL;
	fdt->root = FDT_ENOTFOUND;
	return err;
}

int fdt_reserved(const struct fdt *fdt, uint32_t index, uint64_t *addr, uint64_t *size)
{
	const uint8_t *e;

	if (!fdt || !fdt->blob)
		return FDT_EBADARG;
	if (index >= fdt->rsvmap_count)
		return FDT_ENOTFOUND;
	e = fdt->blob + fdt->rsvmap_off + index * 16u;
	fdt_cells(e, 2, addr);
	fdt_cells(e + 8, 2, size);
	return 0;
}

int fdt_next_node(const struct fdt *fdt, int node, int *depth)
{
	struct tok t;
	uint32_t off;
	int d = 0, err;

	if (!fdt || !fdt->blob)
		return FDT_EBADARG;
	if (node < 0) {
		if (depth)
			*depth = 0;
		return fdt->root;
	}
	err = node_token(fdt, node, &t);
	if (err)
		return err;
	/* Each token advances at least 4 bytes, so this ends. */
	for (off = t.next;; off = t.next) {
		err = read_token(fdt, off, &t);
		if (err)
			return err;
		switch (t.tag) {
		case TOK_BEGIN_NODE:
			if (depth)
				*depth += d + 1;
			return (int)off;
		case TOK_END_NODE:
			d--;
			break;
		case TOK_END:
			return FDT_ENOTFOUND;
		default:
			break;
		}
	}
}

int fdt_first_child(const struct fdt *fdt, int node)
{
	int d = 0;
	int n = fdt_next_node(fdt, node, &d);

	if (n < 0)
		return n;
	return d == 1 ? n : FDT_ENOTFOUND;
}

int fdt_next_sibling(const struct fdt *fdt, int node)
{
	int d = 0;
	int n = node;

	if (node < 0)
		return FDT_EBADARG;
	for (;;) {
		n = fdt_next_node(fdt, n, &d);
		if (n < 0)
			return n;
		if (d == 0)
			return n;
		if (d < 0)
			return FDT_ENOTFOUND;
	}
}

int fdt_parent(const struct fdt *fdt, int node)
{
	int stack[FDT_MAX_DEPTH];
	struct tok t;
	int n, d = 0, err;

	err = node_token(fdt, node, &t);
	if (err)
		return err;
	if (node == fdt->root)
		return FDT_ENOTFOUND;
	stack[0] = fdt->root;
	n = fdt->root;
	for (;;) {
		n = fdt_next_node(fdt, n, &d);
		if (n < 0)
			return n;
		if (d <= 0)
			return FDT_EBADSTRUCT; /* left the root: check_struct forbids it */
		if (d >= FDT_MAX_DEPTH)
			return FDT_ETOODEEP;
		stack[d] = n;
		if (n == node)
			return stack[d - 1];
		if (n > node)
			return FDT_EBADARG; /* node lies inside a token, not at one */
	}
}

const char *fdt_name(const struct fdt *fdt, int node)
{
	struct tok t;

	if (node_token(fdt, node, &t))
		return NULL;
	return t.name;
}

/* Find the property of node whose name is name[0..len); fill t from it. */
static int find_prop(const struct fdt *fdt, int node, const char *name, size_t len,
		     struct tok *t)
{
	uint32_t off;
	int err;

	err = node_token(fdt, node, t);
	if (err)
		return err;
	/* 5.4.2: a node's properties come before its children. */
	for (off = t->next;; off = t->next) {
		err = read_token(fdt, off, t);
		if (err)
			return err;
		if (t->tag == TOK_NOP)
			continue;
		if (t->tag != TOK_PROP)
			return FDT_ENOTFOUND;
		if (strncmp(t->name, name, len) == 0 && t->name[len] == '\0')
			return 0;
	}
}

int fdt_getprop(const struct fdt *fdt, int node, const char *name, const void **val,
		uint32_t *len)
{
	struct tok t;
	int err;

	if (!name)
		return FDT_EBADARG;
	err = find_prop(fdt, node, name, strlen(name), &t);
	if (err)
		return err;
	if (val)
		*val = t.value;
	if (len)
		*len = t.len;
	return 0;
}

int fdt_getprop_u32(const struct fdt *fdt, int node, const char *name, uint32_t *val)
{
	const void *v;
	uint32_t len;
	int err = fdt_getprop(fdt, node, name, &v, &len);

	if (err)
		return err;
	if (len != 4)
		return FDT_EBADVALUE;
	*val = fdt_be32(v);
	return 0;
}

int fdt_getprop_str(const struct fdt *fdt, int node, const char *name, const char **str)
{
	const void *v;
	uint32_t len;
	int err = fdt_getprop(fdt, node, name, &v, &len);

	if (err)
		return err;
	if (len == 0 || !memchr(v, '\0', len))
		return FDT_EBADVALUE;
	*str = v;
	return 0;
}

int fdt_prop_has_string(const struct fdt *fdt, int node, const char *name, const char *str)
{
	const char *v;
	uint32_t len, pos = 0;
	size_t want;
	int err;

	if (!str)
		return FDT_EBADARG;
	err = fdt_getprop(fdt, node, name, (const void **)&v, &len);
	if (err == FDT_ENOTFOUND)
		return 0;
	if (err)
		return err;
	want = strlen(str);
	/* 2.2.4: a stringlist is NUL-terminated strings back to back. */
	while (pos < len) {
		const char *nul = memchr(v + pos, '\0', len - pos);
		uint32_t n;

		if (!nul)
			return 0; /* an unterminated tail matches nothing */
		n = (uint32_t)(nul - (v + pos));
		if (n == want && memcmp(v + pos, str, want) == 0)
			return 1;
		pos += n + 1;
	}
	return 0;
}

int fdt_is_compatible(const struct fdt *fdt, int node, const char *compat)
{
	return fdt_prop_has_string(fdt, node, "compatible", compat);
}

bool fdt_is_enabled(const struct fdt *fdt, int node)
{
	const char *s;
	int err = fdt_getprop_str(fdt, node, "status", &s);

	if (err == FDT_ENOTFOUND)
		return true;
	if (err)
		return false;
	return strcmp(s, "okay") == 0 || strcmp(s, "ok") == 0;
}

int fdt_find_compatible(const struct fdt *fdt, int from, const char *compat)
{
	int n = from;

	for (;;) {
		int r;

		n = fdt_next_node(fdt, n, NULL);
		if (n < 0)
			return n;
		r = fdt_is_compatible(fdt, n, compat);
		if (r < 0)
			return r;
		if (r)
			return n;
	}
}

int fdt_find_phandle(const struct fdt *fdt, uint32_t phandle)
{
	int n = -1;

	/* 0 and 0xffffffff never name a node (they stand for "none"). */
	if (phandle == 0 || phandle == 0xffffffffu)
		return FDT_EBADARG;
	for (;;) {
		uint32_t v;

		n = fdt_next_node(fdt, n, NULL);
		if (n < 0)
			return n;
		if ((fdt_getprop_u32(fdt, n, "phandle", &v) == 0 ||
		     fdt_getprop_u32(fdt, n, "linux,phandle", &v) == 0) && v == phandle)
			return n;
	}
}

/* Whether node name matches path component comp[0..len) (2.2.1, 2.2.3). */
static bool name_matches(const char *name, const char *comp, size_t len)
{
	if (strncmp(name, comp, len) != 0)
		return false;
	if (name[len] == '\0')
		return true;
	/* A component without a unit address matches any unit address. */
	return name[len] == '@' && !memchr(comp, '@', len);
}

static int walk_path(const struct fdt *fdt, const char *p, const char *end)
{
	int node = fdt->root;

	while (p < end) {
		const char *slash;
		size_t len;
		int child;

		while (p < end && *p == '/')
			p++;
		if (p == end)
			break;
		slash = memchr(p, '/', (size_t)(end - p));
		len = (size_t)((slash ? slash : end) - p);
		for (child = fdt_first_child(fdt, node); child >= 0;
		     child = fdt_next_sibling(fdt, child)) {
			const char *name = fdt_name(fdt, child);

			if (name && name_matches(name, p, len))
				break;
		}
		if (child < 0)
			return child;
		node = child;
		p += len;
	}
	return node;
}

int fdt_path(const struct fdt *fdt, const char *path)
{
	static const char aliases_path[] = "/aliases";
	const char *end, *v;
	struct tok t;
	int aliases, err;

	if (!fdt || !fdt->blob || !path)
		return FDT_EBADARG;
	/* 3.6: stdout-path may be "path:options". */
	end = strchr(path, ':');
	if (!end)
		end = path + strlen(path);
	if (path[0] == '/')
		return walk_path(fdt, path, end);

	/* 3.3: an alias is a property of /aliases holding a full path. */
	aliases = walk_path(fdt, aliases_path, aliases_path + sizeof(aliases_path) - 1);
	if (aliases < 0)
		return aliases;
	err = find_prop(fdt, aliases, path, (size_t)(end - path), &t);
	if (err)
		return err;
	v = (const char *)t.value;
	if (t.len == 0 || !memchr(v, '\0', t.len) || v[0] != '/')
		return FDT_EBADVALUE;
	return walk_path(fdt, v, v + strlen(v));
}

int fdt_child_cells(const struct fdt *fdt, int node, uint32_t *addr_cells, uint32_t *size_cells)
{
	uint32_t ac = 2, sc = 1;
	int err;

	err = fdt_getprop_u32(fdt, node, "#address-cells", &ac);
	if (err && err != FDT_ENOTFOUND)
		return err;
	err = fdt_getprop_u32(fdt, node, "#size-cells", &sc);
	if (err && err != FDT_ENOTFOUND)
		return err;
	if (ac < 1 || ac > 2 || sc > 2)
		return FDT_EBADVALUE;
	*addr_cells = ac;
	*size_cells = sc;
	return 0;
}

int fdt_reg(const struct fdt *fdt, int node, uint32_t index, uint64_t *addr, uint64_t *size)
{
	uint32_t ac, sc, len, entry;
	const uint8_t *v;
	int parent, err;

	parent = fdt_parent(fdt, node);
	if (parent < 0)
		return parent == FDT_ENOTFOUND ? FDT_EBADARG : parent;
	err = fdt_child_cells(fdt, parent, &ac, &sc);
	if (err)
		return err;
	err = fdt_getprop(fdt, node, "reg", (const void **)&v, &len);
	if (err)
		return err;
	/* 2.3.6: reg is (address, length) pairs of the parent's cell counts. */
	entry = (ac + sc) * 4;
	if (len % entry)
		return FDT_EBADVALUE;
	if (index >= len / entry)
		return FDT_ENOTFOUND;
	v += index * entry;
	fdt_cells(v, ac, addr);
	*size = 0;
	if (sc)
		fdt_cells(v + ac * 4, sc, size);
	return 0;
}
