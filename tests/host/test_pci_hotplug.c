/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The boards' PCI Express hot-plug layer (boards/common/pci_hotplug.c)
 * against the simulated host's slot, which behaves as QEMU 7.2's
 * pcie-root-port: the attention button asks for an unplug, power off with
 * the indicator off lets the function go, presence comes back with a
 * plug. Each event must be read, cleared (and only it) and turned into
 * the right action; the power must be switched the way QEMU needs; the
 * wait for a slot powered on must end, found or not.
 */
#include <string.h>

#include <vio/device.h>
#include <vio/spec/pci.h>

#include "board.h"
#include "pci.h"
#include "pci_hotplug.h"
#include "pci_model.h"
#include "pcim_host.h"
#include "sim.h"
#include "sim_port.h"
#include "test.h"

/* The board's clock and idle, as pci_hotplug.c uses them: a fake clock. */
static uint64_t clock_ns;

uint64_t board_time_ns(void)
{
	return clock_ns += 1000000; /* a millisecond a look */
}

uintptr_t board_irq_save(void)
{
	return 0;
}

void board_irq_restore(uintptr_t state)
{
	(void)state;
}

void board_idle_until(uint64_t deadline_ns)
{
	if (clock_ns < deadline_ns)
		clock_ns = deadline_ns;
}

static struct pci_host host;
static struct vio_pci_func tab[BOARD_MAX_PCI];
static unsigned ntab;

static struct pcim_func *port_with(bool present)
{
	struct pcim_func *port, *ep;

	sim_reset_all();
	pcim_reset();
	pcim_host_init(&host, 32);
	CHECK_EQ(vio_init(sim_port(), sim_os()), 0);
	port = pcim_add(-1, 3, 0, 0x1b36, 0x000c, PCI_HEADER_TYPE_BRIDGE);
	pcim_slot_init(port, present);
	if (present) {
		ep = pcim_add(pcim_index(port), 0, 0, 0x1af4, 0x1044, 0);
		pcim_set_bar(ep, 4, 0x4000, false, true, true);
	}
	CHECK_EQ(pci_scan(&host, tab, BOARD_MAX_PCI, &ntab, NULL), 0);
	return port;
}

static uint16_t slot_sta(const struct pcim_func *port)
{
	return pcim_cfg16(port, port->slot_exp + PCI_EXP_SLTSTA);
}

static uint16_t slot_ctl(const struct pcim_func *port)
{
	return pcim_cfg16(port, port->slot_exp + PCI_EXP_SLTCTL);
}

/* Unplug request, power off, plug, power on, enumerate: QEMU's device_del then device_add. */
static void test_unplug_replug(void)
{
	struct pcim_func *port = port_with(true), *ep;
	struct pci_hp_port p[PCI_HP_MAX_PORTS];
	struct vio_pci_func found[4];
	unsigned n;

	CHECK_EQ(ntab, 1);
	CHECK_EQ(pci_hp_find(&host, p, PCI_HP_MAX_PORTS), 1);
	CHECK_EQ(p[0].dev, 3);
	CHECK_EQ(p[0].sec, port->cfg[PCI_SECONDARY_BUS]);
	CHECK(p[0].in_use && p[0].power_ctl && p[0].link_report);
	CHECK_EQ(pci_hp_poll(&host, &p[0]), PCI_HP_NONE);

	pcim_slot_button(port);
	CHECK_EQ(pci_hp_poll(&host, &p[0]), PCI_HP_REMOVE);
	CHECK_EQ(slot_sta(port) & PCI_EXP_SLTSTA_ABP, 0); /* cleared */
	CHECK(slot_sta(port) & PCI_EXP_SLTSTA_PDS);       /* still there until the power goes */
	p[0].in_use = false;
	pci_hp_power(&host, &p[0], false);
	CHECK_EQ(slot_ctl(port) & (PCI_EXP_SLTCTL_PCC | PCI_EXP_SLTCTL_PIC),
		 PCI_EXP_SLTCTL_PCC | PCI_EXP_SLTCTL_PIC_OFF);
	CHECK_EQ(port->slot_ctl_writes, 1); /* one command */
	CHECK_EQ(slot_sta(port) & PCI_EXP_SLTSTA_PDS, 0);  /* let go */
	CHECK_EQ(pci_hp_poll(&host, &p[0]), PCI_HP_NONE);   /* its own PDC: nothing to do */
	CHECK_EQ(slot_sta(port) & PCI_EXP_SLTSTA_PDC, 0);

	ep = pcim_add(pcim_index(port), 0, 0, 0x1af4, 0x1044, 0);
	pcim_set_bar(ep, 4, 0x4000, false, true, true);
	pcim_slot_inserted(port);
	CHECK_EQ(pci_hp_poll(&host, &p[0]), PCI_HP_ADD);
	CHECK_EQ(slot_sta(port) & (PCI_EXP_SLTSTA_ABP | PCI_EXP_SLTSTA_PDC), 0);
	pci_hp_power(&host, &p[0], true);
	CHECK_EQ(slot_ctl(port) & (PCI_EXP_SLTCTL_PCC | PCI_EXP_SLTCTL_PIC), PCI_EXP_SLTCTL_PIC_ON);
	CHECK_EQ(pci_hp_wait_ready(&host, &p[0], 1000000000ull), 0);
	CHECK_EQ(pci_scan_slot(&host, 3, found, 4, &n), 0);
	CHECK_EQ(n, 1);
	CHECK(found[0].bar[4].size == 0x4000 && found[0].bar[4].addr != 0);
	CHECK_EQ(pcim_bar_addr(ep, 4), found[0].bar[4].addr);
}

/* The function vanishes while in use: GONE, and no event is lost or made up. */
static void test_surprise(void)
{
	struct pcim_func *port = port_with(true);
	struct pci_hp_port p[PCI_HP_MAX_PORTS];

	CHECK_EQ(pci_hp_find(&host, p, PCI_HP_MAX_PORTS), 1);
	pcim_slot_yank(port);
	CHECK_EQ(pci_hp_poll(&host, &p[0]), PCI_HP_GONE);
	CHECK_EQ(pci_hp_poll(&host, &p[0]), PCI_HP_NONE);
}

/* Powered on with nothing answering: the wait ends, a second later on the clock. */
static void test_nothing_answers(void)
{
	struct pcim_func *port = port_with(false);
	struct pci_hp_port p[PCI_HP_MAX_PORTS];
	uint64_t t0;

	CHECK_EQ(ntab, 0);
	CHECK_EQ(pci_hp_find(&host, p, PCI_HP_MAX_PORTS), 1);
	CHECK(!p[0].in_use);
	CHECK_EQ(pci_hp_poll(&host, &p[0]), PCI_HP_NONE);
	pcim_slot_inserted(port); /* presence and link, but no function */
	CHECK_EQ(pci_hp_poll(&host, &p[0]), PCI_HP_ADD);
	pci_hp_power(&host, &p[0], true);
	t0 = clock_ns;
	CHECK_EQ(pci_hp_wait_ready(&host, &p[0], 1000000000ull), -110);
	CHECK(clock_ns - t0 >= 1000000000ull && clock_ns - t0 < 1100000000ull);
}

/* A port that reads all ones (itself gone) reports nothing. */
static void test_port_gone(void)
{
	struct pcim_func *port = port_with(true);
	struct pci_hp_port p[PCI_HP_MAX_PORTS];

	CHECK_EQ(pci_hp_find(&host, p, PCI_HP_MAX_PORTS), 1);
	pcim_unplug(port);
	CHECK_EQ(pci_hp_poll(&host, &p[0]), PCI_HP_NONE);
}

int main(void)
{
	RUN(test_unplug_replug);
	RUN(test_surprise);
	RUN(test_nothing_answers);
	RUN(test_port_gone);
	return test_report();
}
