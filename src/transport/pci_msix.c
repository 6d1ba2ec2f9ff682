/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-pci: the MSI-X vector table (PCI Local Bus 3.0 section 6.8.2),
 * the same for the modern and the legacy register sets. pci.c found the
 * capability and checked that the table lies inside its BAR; which vector
 * serves which queue is written through each register set's msix_route
 * (VirtIO 1.2 4.1.4.3, 4.1.4.8).
 */
#include <stdbool.h>
#include <stddef.h>

#include <vio/error.h>
#include <vio/io.h>
#include <vio/pci.h>
#include <vio/spec/pci.h>
#include <vio/spec/virtio_pci.h>

#include "transport/pci_priv.h"

unsigned vio_pci_msix_count(struct vio_transport *t)
{
	const struct pci_state *s = t->priv;

	return s->msix_ctrl ? s->msix_n : 0;
}

int vio_pci_msix_set(struct vio_transport *t, unsigned entry, uint64_t addr, uint32_t data)
{
	const struct pci_state *s = t->priv;
	uintptr_t e;

	if (!s->msix_ctrl || entry >= s->msix_n)
		return VIO_EINVAL;
	e = s->msix_table + (uintptr_t)entry * PCI_MSIX_ENTRY_SIZE;
	/* 6.8.2.9: change an entry only while it is masked, unmask it last */
	vio_write32(e + PCI_MSIX_ENTRY_CTRL, PCI_MSIX_ENTRY_CTRL_MASK);
	vio_write32(e + PCI_MSIX_ENTRY_ADDR_LO, (uint32_t)addr);
	vio_write32(e + PCI_MSIX_ENTRY_ADDR_HI, (uint32_t)(addr >> 32));
	vio_write32(e + PCI_MSIX_ENTRY_DATA, data);
	vio_write32(e + PCI_MSIX_ENTRY_CTRL, 0);
	return 0;
}

void vio_pci_msix_enable(struct vio_transport *t, bool on)
{
	struct pci_state *s = t->priv;
	uint16_t ctrl;

	if (!s->msix_ctrl)
		return;
	ctrl = vio_read16(s->msix_ctrl);
	if (on) {
		ctrl = (uint16_t)((ctrl | PCI_MSIX_FLAGS_ENABLE) & ~PCI_MSIX_FLAGS_MASKALL);
	} else {
		for (unsigned i = 0; i < s->msix_n; i++)
			vio_write32(s->msix_table + (uintptr_t)i * PCI_MSIX_ENTRY_SIZE +
					    PCI_MSIX_ENTRY_CTRL,
				    PCI_MSIX_ENTRY_CTRL_MASK);
		ctrl = (uint16_t)(ctrl & ~PCI_MSIX_FLAGS_ENABLE);
	}
	vio_write16(s->msix_ctrl, ctrl);
	s->msix_on = on;
	if (s->io) {
		/* 4.1.4.8: with MSI-X enabled the legacy device configuration starts at 24 */
		unsigned off = on ? VIRTIO_PCI_LEGACY_CONFIG_MSIX : VIRTIO_PCI_LEGACY_CONFIG;

		uint32_t total = s->device.len + (uint32_t)(s->device.addr - s->io);

		s->device.len = total > off ? total - off : 0;
		s->device.addr = s->io + off;
	}
}
