/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the boards read from their device tree, on top of the checked reader
 * in fdt.h. Architecture-neutral: both QEMU boards use it. All functions
 * return 0 (or a node offset) on success and a negative FDT_E... code
 * otherwise; FDT_ENOTFOUND means the tree is fine but lacks the thing.
 * Start-up code only (they walk the tree; nothing is cached).
 */
#ifndef VIO_BOARD_DT_BOARD_H
#define VIO_BOARD_DT_BOARD_H

#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "fdt.h"

/*
 * Fill info from the tree: RAM (ram_base/ram_size: the lowest range of the
 * memory nodes), every enabled "virtio,mmio" node (base and size from reg,
 * irq decoded by dt_irq(), -1 when it has none), sorted by address with
 * slot = position, and info->dtb = dtb. Beyond BOARD_MAX_VIRTIO nodes the
 * highest addresses are left out. Leaves info->name alone. Returns 0,
 * FDT_ENOTFOUND when there is no memory node, or FDT_E... for a broken tree.
 */
int dt_board_parse(const struct fdt *fdt, uintptr_t dtb, struct board_info *info);

/*
 * The first enabled node in document order compatible with one of compats
 * (a NULL-terminated list, in order of preference: the first string that
 * any node matches wins).
 */
int dt_find_compatible(const struct fdt *fdt, const char *const *compats);

/*
 * dt_find_compatible(), then the first reg entry of the node found. node
 * (may be NULL) receives the node.
 */
int dt_find_reg(const struct fdt *fdt, const char *const *compats, uint64_t *base,
		uint64_t *size, int *node);

/*
 * The interrupt parent of node (2.4.1): the phandle in its own or its
 * nearest ancestor's interrupt-parent property.
 */
int dt_interrupt_parent(const struct fdt *fdt, int node);

/*
 * Interrupt index of node as the board numbers it, from interrupts-extended
 * or from interrupts through the interrupt parent. Decoding by the
 * controller's #interrupt-cells (2.4.2): 1 cell is the number itself (PLIC
 * source); 2 cells are <number flags>; 3 cells are the GIC's
 * <type number flags>, giving INTID 32 + number for an SPI (type 0) and
 * 16 + number for a PPI (type 1). If ctrl is not NULL it receives the
 * controller node.
 */
int dt_irq(const struct fdt *fdt, int node, uint32_t index, int *irq, int *ctrl);

/*
 * One interrupt specifier of cells cells at v (big-endian), decoded as
 * dt_irq() does into the board's interrupt number.
 */
int dt_decode_irq(const uint8_t *v, uint32_t cells, int *irq);

/*
 * timebase-frequency of /cpus, or else of the first cpu node (3.7, 3.8):
 * the frequency of the RISC-V time CSR. Zero is refused (FDT_EBADVALUE).
 */
int dt_timebase_frequency(const struct fdt *fdt, uint32_t *hz);

/* The node /chosen's stdout-path (or linux,stdout-path) names (3.6). */
int dt_stdout_node(const struct fdt *fdt);

/*
 * The largest free piece of RAM above the image: from image_end rounded up
 * to 4 KiB to the end of info's RAM range, less the device tree itself
 * ([info->dtb, + totalsize)), the memory reservation block's entries and
 * the /reserved-memory nodes. Every piece starts and ends on 4 KiB.
 * Returns 0, or FDT_ENOTFOUND when nothing is left.
 */
int dt_free_ram(const struct fdt *fdt, const struct board_info *info, uintptr_t image_end,
		uintptr_t *start, size_t *size);

#endif
