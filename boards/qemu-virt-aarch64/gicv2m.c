/* SPDX-License-Identifier: Apache-2.0 */
/*
 * board_msi_attach through a GICv2m MSI frame ("arm,gic-v2m-frame", a
 * child of the GIC node; Arm Server Base System Architecture, appendix
 * "GICv2m"): the frame owns a range of SPIs, MSI_TYPER says which, and a
 * device raises one by writing its INTID to MSI_SETSPI_NS. The write is a
 * pulse, not a level, so the SPI is configured edge-triggered.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "virt.h"

#define V2M_MSI_TYPER 0x008
#define V2M_MSI_SETSPI_NS 0x040
#define V2M_TYPER_BASE(t) (((t) >> 16) & 0x3ffu) /* first SPI's INTID */
#define V2M_TYPER_NUM(t) ((t) & 0x3ffu)          /* how many */

#define V2M_MAX_SPIS 64 /* what vio uses of a frame (QEMU's virt has 64) */

static uintptr_t frame;
static unsigned base_spi, nspis;
static void *owner[V2M_MAX_SPIS]; /* the arg of each SPI in use, NULL when free */

int gicv2m_init(uintptr_t f)
{
	uint32_t typer = mmio_read32(f + V2M_MSI_TYPER);
	unsigned base = V2M_TYPER_BASE(typer), num = V2M_TYPER_NUM(typer);

	/* SPIs are INTIDs 32..1019: a frame claiming others is not used. */
	if (base < 32 || num == 0 || base + num > 1020)
		return -22;
	frame = f;
	base_spi = base;
	nspis = num < V2M_MAX_SPIS ? num : V2M_MAX_SPIS;
	return 0;
}

int board_msi_attach(void (*handler)(void *arg), void *arg, uint64_t *addr, uint32_t *data)
{
	uintptr_t flags;
	unsigned i;
	int err;

	if (!frame || !handler || !arg)
		return -22;
	flags = board_irq_save();
	for (i = 0; i < nspis && owner[i]; i++)
		;
	if (i == nspis) {
		board_irq_restore(flags);
		return -28; /* all taken: the caller shares or falls back to INTx */
	}
	owner[i] = arg;
	board_irq_restore(flags);
	err = gic_attach_edge((int)(base_spi + i), handler, arg);
	if (err) {
		owner[i] = NULL;
		return err;
	}
	*addr = frame + V2M_MSI_SETSPI_NS;
	*data = base_spi + i;
	return (int)i;
}

void board_msi_detach(int handle)
{
	unsigned i = (unsigned)handle;

	if (handle < 0 || i >= nspis || !owner[i])
		return;
	board_irq_detach((int)(base_spi + i), owner[i]);
	owner[i] = NULL;
}
