/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The virtio-pci transport (VirtIO 1.2 section 4.1) and the boards' PCI
 * enumeration behind it against a hostile function: BAR sizing masks of
 * any value (PCI 3.0 6.2.5.1), a capability list rewritten with any bytes
 * (loops, pointers into the header or past 256 bytes, vendor capabilities
 * of any cfg_type, BAR, offset and length, 4.1.4), any notify multiplier
 * and per-queue notify offset (4.1.4.4), any queue sizes, features,
 * device status and ISR (4.1.4.5), modern or legacy (4.1.4.8); with a
 * driver registered for every device type, so whichever device id the
 * function shows, its probe runs. Then interrupts with any ISR value,
 * config reads of any offset and width, and service passes.
 */
#include <stdint.h>
#include <string.h>

#include <vio/device.h>
#include <vio/pci.h>
#include <vio/spec/pci.h>
#include <vio/spec/virtio_config.h>

#include "fuzz.h"
#include "pci.h"
#include "pci_model.h"
#include "pcim_host.h"
#include "sim.h"
#include "sim_port.h"

#define IRQ_BASE 32

static struct pci_host host;
static struct vio_pci_func tab[BOARD_MAX_PCI];

/* The function's config space and virtio registers as the stream says. */
static void lie(struct pcim_func *f)
{
	uint8_t flags = fz_u8();
	uint8_t n;

	if (flags & 1) {
		/* BARs of any size and kind, or sizing masks that are no size at all. */
		for (unsigned i = 0; i < 6; i++) {
			uint8_t b = fz_u8();

			if (!(b & 1))
				continue;
			if (b & 2) {
				f->bar[i].raw = true;
				f->bar[i].raw_mask = fz_u32();
			} else {
				pcim_set_bar(f, i, (uint64_t)1 << (fz_u8() % 40), b & 4, b & 8, b & 16);
			}
		}
	}
	/* Spans of config space rewritten: the capability pointer and list. */
	n = fz_u8() % 8;
	for (uint8_t i = 0; i < n; i++) {
		unsigned at = fz_u8();
		unsigned len = fz_u8() % 24;

		if (at < PCI_CAPABILITY_LIST)
			at = PCI_CAPABILITY_LIST + at % 4;
		if (len > sizeof(f->cfg) - at)
			len = sizeof(f->cfg) - at;
		fz_bytes(f->cfg + at, len);
	}
	if (f->vio && (flags & 2)) {
		struct pcim_virtio *v = f->vio;

		v->features &= ~fz_u64();
		v->notify_mult = flags & 4 ? fz_u32() : v->notify_mult;
		for (unsigned q = 0; q < PCIM_MAX_QUEUES; q++) {
			if (fz_u8() & 1) {
				v->qmax[q] = fz_u16();
				v->qnoff[q] = fz_u16();
			}
		}
		fz_bytes(v->devcfg, fz_u8() % (sizeof(v->devcfg) + 1));
	}
}

static void api(struct pcim_func *f, struct vio_device *dev, uint8_t op)
{
	uint64_t v;

	switch (op % 7) {
	case 6:
		/* A message on any of the port's MSI lines (a vector of this device or not). */
		sim_irq_line(SIM_MSI_BASE + fz_u8() % SIM_MSI_MAX);
		break;
	case 0:
		/* An interrupt with any ISR value (4.1.4.5), on the function's line. */
		if (f->vio)
			f->vio->isr = fz_u8();
		if (dev && dev->irq >= 0)
			sim_irq_line(dev->irq);
		break;
	case 1:
		(void)vio_service();
		break;
	case 2:
		if (dev)
			(void)vio_dev_config_read(dev, fz_u8(), 1u << (fz_u8() % 4), &v);
		break;
	case 3:
		/* The device sets NEEDS_RESET or anything else in its status. */
		if (f->vio)
			f->vio->status |= fz_u8();
		if (f->vio && (fz_u8() & 1))
			f->vio->generation++;
		break;
	case 4:
		if (dev)
			(void)vio_dev_poll(dev);
		break;
	default:
		lie(f);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t ids[] = { VIRTIO_ID_NET, VIRTIO_ID_BLOCK, VIRTIO_ID_CONSOLE,
					VIRTIO_ID_RNG, VIRTIO_ID_INPUT, VIRTIO_ID_GPU, 0 };
	struct vio_device *dev = NULL;
	struct vio_transport t;
	struct pci_scan_stats stats;
	struct pcim_func *f;
	unsigned ntab = 0;
	uint8_t kind;

	fz_start(data, size);
	fz_begin(fz_u8());
	fz_register_all();
	pcim_reset();
	pcim_host_init(&host, IRQ_BASE);
	kind = fz_u8();
	if (kind & 1)
		f = pcim_add_virtio_legacy(1, ids[fz_u8() % 7], 1 + fz_u8() % 4);
	else
		f = pcim_add_virtio(1, ids[fz_u8() % 7], 1 + fz_u8() % 4);
	pcim_put8(f, PCI_INTERRUPT_PIN, 1 + fz_u8() % 5);
	if (kind & 4) {
		/*
		 * MSI-X (4.1.4.3, 4.1.5.1.2): a table of any size, where the
		 * capability says (in the MSI-X BAR or any other), vectors
		 * refused (NO_VECTOR) from any number on, and a platform with
		 * any number of MSIs to give.
		 */
		uint8_t m = fz_u8();

		pcim_add_msix(f, (uint8_t)(0x80 + 4 * (m % 8)), 1 + fz_u8() % PCIM_MSIX_MAX,
			      fz_u16() & 0x7f8u, m & 8 ? fz_u8() % 8 : PCIM_MSIX_BAR, 0x800,
			      m & 16 ? fz_u8() % 8 : PCIM_MSIX_BAR);
		f->vio->msix_accept = fz_u8() % (PCIM_MSIX_MAX + 2);
		sim_msi_limit = fz_u8() % (SIM_MSI_MAX + 1);
	}
	lie(f);
	memset(tab, 0, sizeof(tab));
	(void)pci_scan(&host, tab, BOARD_MAX_PCI, &ntab, &stats);
	for (unsigned i = 0; i < ntab; i++) {
		(void)vio_pci_identify(&t, &tab[i]);
		if (kind & 2)
			lie(f); /* config space that changes between identify and add */
		(void)vio_pci_add(&tab[i], 256 + 8 * (int)i, &dev);
	}
	for (unsigned i = 0; i < 64 && fz_more(); i++)
		api(f, dev, fz_u8());
	fz_end();
	return 0;
}
