/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small, checked reader of flattened device trees (the DTB format of the
 * Devicetree Specification v0.4, chapter 5).
 *
 * The blob comes from firmware and is treated as untrusted input: fdt_open()
 * validates the header against the number of bytes the caller says it may
 * read, and every later access checks that the token, name, property or
 * string it touches lies inside the structure or strings block. A malformed
 * blob yields a negative FDT_E... code, never a read out of bounds. Nothing
 * is allocated and nothing in the blob is modified.
 *
 * Nodes are named by their offset in the blob (that of their FDT_BEGIN_NODE
 * token), a non-negative int; functions that return a node return a
 * negative FDT_E... code when there is none or the blob is broken.
 * Multi-byte values in the blob are big-endian (5.1); fdt_be32() and
 * fdt_cells() read them byte by byte, so the blob needs no alignment.
 *
 * All functions may be called from any context; none keeps state beyond
 * the caller's struct fdt.
 */
#ifndef VIO_BOARD_FDT_H
#define VIO_BOARD_FDT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fdt_err {
	FDT_ENOTFOUND = -1,  /* no such node or property (not a broken blob) */
	FDT_EBADMAGIC = -2,  /* not a device tree */
	FDT_EBADVERSION = -3, /* a format version this reader does not know */
	FDT_ETRUNCATED = -4, /* a size or offset reaches past the blob or the caller's bound */
	FDT_EBADSTRUCT = -5, /* a malformed structure block: bad token, nesting or name */
	FDT_EBADVALUE = -6,  /* a property's value has the wrong length or format */
	FDT_EBADARG = -7,    /* a bad argument from the caller */
	FDT_ETOODEEP = -8,   /* nodes nested deeper than FDT_MAX_DEPTH */
};

/* Deepest nesting fdt_parent() follows (the root is depth 0). */
#define FDT_MAX_DEPTH 32

/* A validated view of one blob; filled by fdt_open(), read-only after. */
struct fdt {
	const uint8_t *blob;
	uint32_t size;         /* totalsize from the header */
	uint32_t struct_off;   /* structure block: [struct_off, struct_off + struct_size) */
	uint32_t struct_size;
	uint32_t strings_off;  /* strings block */
	uint32_t strings_size;
	uint32_t rsvmap_off;   /* memory reservation block (5.3) */
	uint32_t rsvmap_count; /* its entries before the terminating zero entry */
	int root;              /* offset of the root node */
};

/* A readable message for an FDT_E... code. Never NULL. */
const char *fdt_strerror(int err);

/* Big-endian 32-bit value at p (any alignment). */
uint32_t fdt_be32(const void *p);

/*
 * Read a number made of ncells (1 or 2) big-endian cells at p. Returns 0, or
 * FDT_EBADVALUE for another cell count.
 */
int fdt_cells(const void *p, uint32_t ncells, uint64_t *val);

/*
 * The header's totalsize of the blob at blob, after checking the magic,
 * reading at most the 8 bytes of magic and totalsize; 0 if blob is NULL or
 * not a device tree. Lets a board find how much to validate.
 */
uint32_t fdt_peek_size(const void *blob);

/*
 * Validate the blob at blob, of which at most max_size bytes may be read, and
 * fill fdt. Checks the magic, the version (16 or 17, compatible with 16),
 * that totalsize is within max_size, that the three blocks lie within
 * totalsize, that the reservation map ends inside the blob, and that the
 * structure block starts with the root node. Returns 0 or FDT_E....
 */
int fdt_open(struct fdt *fdt, const void *blob, size_t max_size);

/*
 * Memory reservation entry index (5.3). Returns 0, or FDT_ENOTFOUND past
 * the last one.
 */
int fdt_reserved(const struct fdt *fdt, uint32_t index, uint64_t *addr, uint64_t *size);

/*
 * Depth-first walk. node < 0 starts at the root (depth set to 0); otherwise
 * returns the node after node in document order and adds to *depth the
 * change of nesting (+1 for a child, 0 for a sibling, negative when the
 * walk climbed back up). depth may be NULL. Returns FDT_ENOTFOUND at the end
 * of the tree.
 */
int fdt_next_node(const struct fdt *fdt, int node, int *depth);

/* First child of node, or the next sibling of child; FDT_ENOTFOUND when none. */
int fdt_first_child(const struct fdt *fdt, int node);
int fdt_next_sibling(const struct fdt *fdt, int node);

/* The parent of node (a walk from the root); FDT_ENOTFOUND for the root. */
int fdt_parent(const struct fdt *fdt, int node);

/*
 * Node name with its unit address ("virtio_mmio@10001000"; "" for the root).
 * NULL when node is not a valid node offset.
 */
const char *fdt_name(const struct fdt *fdt, int node);

/*
 * Find property name of node: *val (may be NULL) points to its value in the
 * blob and *len (may be NULL) is its length. Returns 0 or FDT_E....
 */
int fdt_getprop(const struct fdt *fdt, int node, const char *name, const void **val,
		uint32_t *len);

/*
 * One-cell property name as a number. Returns 0, FDT_ENOTFOUND, or
 * FDT_EBADVALUE when the value is not 4 bytes.
 */
int fdt_getprop_u32(const struct fdt *fdt, int node, const char *name, uint32_t *val);

/*
 * String property name (checked to be NUL-terminated inside its value).
 * Returns 0 or FDT_E....
 */
int fdt_getprop_str(const struct fdt *fdt, int node, const char *name, const char **str);

/*
 * Whether the string list property name of node contains str (the
 * compatible list, for one). Returns 1 or 0, or a negative FDT_E... for a
 * broken blob.
 */
int fdt_prop_has_string(const struct fdt *fdt, int node, const char *name, const char *str);

/* fdt_prop_has_string(fdt, node, "compatible", compat). */
int fdt_is_compatible(const struct fdt *fdt, int node, const char *compat);

/*
 * Whether node is enabled: its status property is absent, "okay" or "ok"
 * (2.3.4).
 */
bool fdt_is_enabled(const struct fdt *fdt, int node);

/*
 * The next node after from (from < 0: from the start) in document order
 * whose compatible list contains compat. FDT_ENOTFOUND when none.
 */
int fdt_find_compatible(const struct fdt *fdt, int from, const char *compat);

/* The node whose phandle (or linux,phandle) property is phandle. */
int fdt_find_phandle(const struct fdt *fdt, uint32_t phandle);

/*
 * The node at an absolute path such as "/cpus" or "/soc/plic@c000000"; a
 * component without '@' also matches a name with a unit address
 * ("/memory" finds "memory@80000000"). An alias (a path not starting with
 * '/') is looked up in /aliases. Characters after ':' (options, as in
 * stdout-path) are ignored.
 */
int fdt_path(const struct fdt *fdt, const char *path);

/*
 * #address-cells and #size-cells that node gives its children (2.3.5);
 * defaults 2 and 1 when absent. Returns 0 or FDT_EBADVALUE for a value the
 * reader cannot use (address cells 1 or 2; size cells 0, 1 or 2).
 */
int fdt_child_cells(const struct fdt *fdt, int node, uint32_t *addr_cells, uint32_t *size_cells);

/*
 * Entry index of node's reg property, decoded with its parent's
 * #address-cells and #size-cells. Addresses are as the parent bus sees
 * them: this reader does not translate through ranges (the QEMU boards map
 * their buses one to one). Returns 0, FDT_ENOTFOUND when there is no such
 * entry, or FDT_E....
 */
int fdt_reg(const struct fdt *fdt, int node, uint32_t index, uint64_t *addr, uint64_t *size);

#endif
