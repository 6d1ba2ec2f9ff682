/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PCI Express native hot-plug; see pci_hotplug.h. Section numbers refer
 * to PCI Express Base 4.0.
 *
 * The sequence (6.7.1, 6.7.3): pressing the attention button (QEMU's
 * device_del) asks for the slot to be emptied; software stops the
 * function, then turns the power controller and the power indicator off,
 * and only then may it be pulled (QEMU detaches it on that write and
 * clears Presence Detect State). A function put into the slot (QEMU's
 * device_add) sets Presence Detect State and Changed; software powers the
 * slot on, waits for the link and enumerates it.
 */
#include "pci_hotplug.h"

#include <vio/error.h>
#include <vio/io.h>
#include <vio/spec/pci.h>

#include "board.h"

#define MS 1000000ull
#define EVENTS (PCI_EXP_SLTSTA_ABP | PCI_EXP_SLTSTA_PDC | PCI_EXP_SLTSTA_DLLSC)

static uintptr_t reg(const struct pci_host *h, const struct pci_hp_port *p, unsigned off)
{
	return pci_cfg_addr(h, h->bus_start, p->dev, 0, p->exp + off);
}

static bool powered(const struct pci_host *h, const struct pci_hp_port *p)
{
	return !p->power_ctl || !(vio_read16(reg(h, p, PCI_EXP_SLTCTL)) & PCI_EXP_SLTCTL_PCC);
}

unsigned pci_hp_find(const struct pci_host *h, struct pci_hp_port *ports, unsigned max)
{
	unsigned n = 0;

	for (uint8_t dev = 0; dev < 32 && n < max; dev++) {
		uint8_t bus = h->bus_start, sec;
		struct pci_hp_port *p = &ports[n];
		unsigned exp;

		if (vio_read16(pci_cfg_addr(h, bus, dev, 0, PCI_VENDOR_ID)) == 0xffff ||
		    !pci_port_hotplug(h, bus, dev, 0, &exp))
			continue;
		sec = vio_read8(pci_cfg_addr(h, bus, dev, 0, PCI_SECONDARY_BUS));
		if (sec <= h->bus_start || sec > h->bus_end)
			continue; /* left closed by the enumeration */
		p->dev = dev;
		p->sec = sec;
		p->exp = exp;
		p->power_ctl = vio_read32(reg(h, p, PCI_EXP_SLTCAP)) & PCI_EXP_SLTCAP_PCP;
		p->link_report = vio_read32(reg(h, p, PCI_EXP_LNKCAP)) & PCI_EXP_LNKCAP_DLLLARC;
		p->in_use = powered(h, p) &&
			    vio_read16(pci_cfg_addr(h, sec, 0, 0, PCI_VENDOR_ID)) != 0xffff;
		n++;
	}
	return n;
}

enum pci_hp_action pci_hp_poll(const struct pci_host *h, struct pci_hp_port *p)
{
	uint16_t sta = vio_read16(reg(h, p, PCI_EXP_SLTSTA));
	bool present = sta & PCI_EXP_SLTSTA_PDS;

	/* A port that reads all ones is gone itself: nothing it says is meaningful. */
	if (sta == 0xffff || !(sta & EVENTS))
		return PCI_HP_NONE;
	/* Clear exactly the events seen (RW1C): one that comes meanwhile stays set. */
	vio_write16(reg(h, p, PCI_EXP_SLTSTA), sta & EVENTS);
	if (p->in_use) {
		if (!present)
			return PCI_HP_GONE;
		/* 6.7.1.5: the button asks for the slot to be emptied */
		return (sta & PCI_EXP_SLTSTA_ABP) ? PCI_HP_REMOVE : PCI_HP_NONE;
	}
	return present ? PCI_HP_ADD : PCI_HP_NONE;
}

void pci_hp_power(const struct pci_host *h, const struct pci_hp_port *p, bool on)
{
	uint16_t ctl = vio_read16(reg(h, p, PCI_EXP_SLTCTL));

	ctl &= (uint16_t)~(PCI_EXP_SLTCTL_PIC | PCI_EXP_SLTCTL_PCC);
	/* 6.7.1.1: the power indicator says what the slot's power does; one write, one command */
	if (on)
		ctl |= PCI_EXP_SLTCTL_PIC_ON;
	else
		ctl |= PCI_EXP_SLTCTL_PIC_OFF | (p->power_ctl ? PCI_EXP_SLTCTL_PCC : 0);
	vio_write16(reg(h, p, PCI_EXP_SLTCTL), ctl);
}

int pci_hp_wait_ready(const struct pci_host *h, const struct pci_hp_port *p, uint64_t timeout_ns)
{
	uint64_t start = board_time_ns(), link;
	uint16_t vendor;

	/* 7.5.3.8: the port says when the link is up, if it can */
	while (p->link_report && !(vio_read16(reg(h, p, PCI_EXP_LNKSTA)) & PCI_EXP_LNKSTA_DLLLA)) {
		if (board_time_ns() - start > timeout_ns)
			return VIO_ETIMEDOUT;
	}
	/* 6.6.1: no configuration request for 100 ms after the link came up */
	link = board_time_ns();
	while (board_time_ns() - link < 100 * MS) {
		uintptr_t irq = board_irq_save();

		board_idle_until(link + 100 * MS);
		board_irq_restore(irq);
	}
	/* 2.3.2: 0x0001 is a retried request's vendor id, all ones an absent function */
	for (;;) {
		vendor = vio_read16(pci_cfg_addr(h, p->sec, 0, 0, PCI_VENDOR_ID));
		if (vendor != 0xffff && vendor != 0x0001)
			return 0;
		if (board_time_ns() - start > timeout_ns)
			return VIO_ETIMEDOUT;
	}
}
