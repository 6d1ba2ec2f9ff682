/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The boards' PCI enumeration (boards/common/pci.c) and the virtio-pci
 * transport (src/transport/pci*.c) against the simulated PCI host of
 * tests/sim/pci_model.h: a tree with a bridge and multi-function devices,
 * then config space that lies: BAR masks that are no size, BARs larger
 * than any window, bridges nested past the limit or past the bus range,
 * more functions than the table, capability lists that loop or point
 * outside config space, capabilities outside their BAR, and a notification
 * offset outside the notify area. MSI-X: a vector per queue, the fallbacks
 * when the device refuses a vector or the port runs out (shared, then
 * INTx), and tables that lie about where they are or how large.
 */
#include <string.h>

#include <vio/device.h>
#include <vio/error.h>
#include <vio/pci.h>
#include <vio/rng.h>
#include <vio/spec/pci.h>
#include <vio/spec/virtio_config.h>
#include <vio/spec/virtio_pci.h>

#include "pci.h"
#include "pci_model.h"
#include "pcim_host.h"
#include "sim.h"
#include "sim_port.h"
#include "test.h"

#define IRQ_BASE 32

static struct pci_host host;
static struct vio_pci_func tab[BOARD_MAX_PCI];
static unsigned ntab;
static struct pci_scan_stats stats;

static void setup(void)
{
	pcim_reset();
	pcim_host_init(&host, IRQ_BASE);
	CHECK_EQ(vio_init(sim_port(), sim_os()), 0);
}

static int scan(void)
{
	memset(tab, 0, sizeof(tab));
	return pci_scan(&host, tab, BOARD_MAX_PCI, &ntab, &stats);
}

static bool inside(uint64_t a, uint64_t size, const struct pci_window *w)
{
	return a >= w->pci && a + size <= w->pci + w->size;
}

/* Every assigned BAR of the table: aligned, in its window, overlapping no other. */
static void check_bars_sane(void)
{
	for (unsigned i = 0; i < ntab; i++) {
		for (unsigned b = 0; b < VIO_PCI_NUM_BARS; b++) {
			const struct vio_pci_bar *x = &tab[i].bar[b];
			uint64_t pci;

			if (!x->size)
				continue;
			pci = x->io ? x->addr - PCIM_IO_CPU : x->addr;
			CHECK_EQ(pci % x->size, 0);
			CHECK(x->io ? inside(pci, x->size, &host.io)
				    : inside(pci, x->size, &host.mem32) ||
					      inside(pci, x->size, &host.mem64));
			for (unsigned j = 0; j < ntab; j++) {
				for (unsigned c = 0; c < VIO_PCI_NUM_BARS; c++) {
					const struct vio_pci_bar *y = &tab[j].bar[c];

					if ((i == j && b == c) || !y->size || y->io != x->io)
						continue;
					CHECK(x->addr + x->size <= y->addr || y->addr + y->size <= x->addr);
				}
			}
		}
	}
}

static void test_tree(void)
{
	struct pcim_func *ep, *br, *child, *mf0, *mf1;
	uint64_t mbase, mlimit, pbase, plimit;

	setup();
	ep = pcim_add(-1, 1, 0, 0x1234, 0x0001, 0);
	pcim_set_bar(ep, 0, 0x1000, false, false, false);
	pcim_set_bar(ep, 1, 32, true, false, false);
	pcim_set_bar(ep, 2, 0x100000, false, true, true);
	pcim_put8(ep, PCI_INTERRUPT_PIN, 1);
	br = pcim_add(-1, 2, 0, 0x1234, 0x0002, PCI_HEADER_TYPE_BRIDGE);
	child = pcim_add(pcim_index(br), 0, 0, 0x1234, 0x0003, 0);
	pcim_set_bar(child, 0, 0x10000, false, false, false);
	pcim_set_bar(child, 2, 0x4000, false, true, true);
	pcim_put8(child, PCI_INTERRUPT_PIN, 2);
	mf0 = pcim_add(-1, 3, 0, 0x1234, 0x0004, PCI_HEADER_MULTI_FUNCTION);
	mf1 = pcim_add(-1, 3, 1, 0x1234, 0x0005, 0);
	pcim_set_bar(mf1, 0, 0x2000, false, false, false);

	CHECK_EQ(scan(), 0);
	CHECK_EQ(ntab, 4);
	CHECK_EQ(stats.bridges, 1);
	CHECK_EQ(stats.bad_bars, 0);
	CHECK_EQ(stats.last_bus, 1);
	/* In bus order: 00:01.0, the bridge's child 01:00.0, 00:03.0, 00:03.1 */
	CHECK_EQ(vio_pci_bdf(&tab[0]), 0x08);
	CHECK_EQ(vio_pci_bdf(&tab[1]), 0x100);
	CHECK_EQ(vio_pci_bdf(&tab[2]), 0x18);
	CHECK_EQ(vio_pci_bdf(&tab[3]), 0x19);
	CHECK_EQ(tab[1].cfg, PCIM_ECAM + (1u << 20));
	check_bars_sane();

	/* 64-bit prefetchable BARs go to the 64-bit window; the others below 4 GiB. */
	CHECK(inside(tab[0].bar[2].addr, 0x100000, &host.mem64));
	CHECK(inside(tab[0].bar[0].addr, 0x1000, &host.mem32));
	CHECK(tab[0].bar[1].io);
	CHECK_EQ(pcim_cfg16(ep, PCI_COMMAND),
		 PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	CHECK_EQ(pcim_bar_addr(ep, 2), tab[0].bar[2].addr);

	/* The bridge: bus numbers, and windows that hold its child's BARs. */
	CHECK_EQ(br->cfg[PCI_PRIMARY_BUS], 0);
	CHECK_EQ(br->cfg[PCI_SECONDARY_BUS], 1);
	CHECK_EQ(br->cfg[PCI_SUBORDINATE_BUS], 1);
	mbase = (uint64_t)(pcim_cfg16(br, PCI_MEMORY_BASE) & 0xfff0) << 16;
	mlimit = ((uint64_t)(pcim_cfg16(br, PCI_MEMORY_LIMIT) & 0xfff0) << 16) | 0xfffff;
	CHECK(tab[1].bar[0].addr >= mbase && tab[1].bar[0].addr + 0x10000 - 1 <= mlimit);
	pbase = (uint64_t)pcim_cfg32(br, PCI_PREF_BASE_UPPER32) << 32 |
		(uint64_t)(pcim_cfg16(br, PCI_PREF_MEMORY_BASE) & 0xfff0) << 16;
	plimit = (uint64_t)pcim_cfg32(br, PCI_PREF_LIMIT_UPPER32) << 32 |
		 (uint64_t)(pcim_cfg16(br, PCI_PREF_MEMORY_LIMIT) & 0xfff0) << 16 | 0xfffff;
	CHECK(tab[1].bar[2].addr >= pbase && tab[1].bar[2].addr + 0x4000 - 1 <= plimit);
	/* The siblings' BARs stay out of the bridge's windows. */
	CHECK(tab[0].bar[0].addr > mlimit || tab[0].bar[0].addr + 0x1000 - 1 < mbase);
	CHECK(tab[3].bar[0].addr > mlimit || tab[3].bar[0].addr + 0x2000 - 1 < mbase);
	CHECK(pcim_cfg16(br, PCI_COMMAND) & PCI_COMMAND_MASTER);

	/* INTx: INTA of 00:01 is line 1; INTB of 01:00 turns into INTB at 00:02: line 3. */
	CHECK_EQ(tab[0].irq, IRQ_BASE + 1);
	CHECK_EQ(tab[1].irq, IRQ_BASE + 3);
	CHECK_EQ(child->cfg[PCI_INTERRUPT_LINE], IRQ_BASE + 3);
	CHECK_EQ(tab[2].irq, -1); /* no pin */
	(void)mf0;
}

/* A PCI Express root port at dev whose slot is hot-plug capable (hotplug) or only implemented. */
static struct pcim_func *add_root_port(uint8_t dev, bool hotplug)
{
	struct pcim_func *p = pcim_add(-1, dev, 0, 0x1b36, 0x000c, PCI_HEADER_TYPE_BRIDGE);

	pcim_slot_init(p, false);
	if (!hotplug)
		pcim_put32(p, 0x40 + PCI_EXP_SLTCAP, PCI_EXP_SLTCAP_ABP | PCI_EXP_SLTCAP_PCP);
	return p;
}

/* The bridge's windows as [base, limit] pairs: I/O, memory, prefetchable memory. */
static void bridge_windows(const struct pcim_func *br, uint64_t w[3][2])
{
	w[0][0] = (uint64_t)(br->cfg[PCI_IO_BASE] & 0xf0) << 8 |
		  (uint64_t)pcim_cfg16(br, PCI_IO_BASE_UPPER16) << 16;
	w[0][1] = ((uint64_t)(br->cfg[PCI_IO_LIMIT] & 0xf0) << 8 |
		   (uint64_t)pcim_cfg16(br, PCI_IO_LIMIT_UPPER16) << 16) | 0xfff;
	w[1][0] = (uint64_t)(pcim_cfg16(br, PCI_MEMORY_BASE) & 0xfff0) << 16;
	w[1][1] = ((uint64_t)(pcim_cfg16(br, PCI_MEMORY_LIMIT) & 0xfff0) << 16) | 0xfffff;
	w[2][0] = (uint64_t)pcim_cfg32(br, PCI_PREF_BASE_UPPER32) << 32 |
		  (uint64_t)(pcim_cfg16(br, PCI_PREF_MEMORY_BASE) & 0xfff0) << 16;
	w[2][1] = (uint64_t)pcim_cfg32(br, PCI_PREF_LIMIT_UPPER32) << 32 |
		  (uint64_t)(pcim_cfg16(br, PCI_PREF_MEMORY_LIMIT) & 0xfff0) << 16 | 0xfffff;
}

/*
 * Hot-plug: an empty hot-plug capable slot gets windows of the reserved
 * sizes at boot (an empty slot that cannot hot-plug gets none); a
 * function put in it later is found by pci_scan_slot, with its BARs
 * inside the port's windows and its INTx routed through the port.
 */
static void test_hotplug_slot(void)
{
	struct pcim_func *hp, *plain, *child;
	struct vio_pci_func found[4];
	uint64_t w[3][2];
	unsigned n = 99;

	setup();
	plain = add_root_port(1, false);
	hp = add_root_port(2, true);
	CHECK_EQ(scan(), 0);
	CHECK_EQ(ntab, 0);
	CHECK(pci_port_hotplug(&host, 0, 2, 0, NULL));
	CHECK(!pci_port_hotplug(&host, 0, 1, 0, NULL));
	bridge_windows(hp, w);
	CHECK(w[0][1] >= w[0][0] && w[0][1] - w[0][0] + 1 >= PCI_HOTPLUG_IO);
	CHECK(w[1][1] >= w[1][0] && w[1][1] - w[1][0] + 1 >= PCI_HOTPLUG_MEM);
	CHECK(w[2][1] >= w[2][0] && w[2][1] - w[2][0] + 1 >= PCI_HOTPLUG_MEM);
	bridge_windows(plain, w);
	CHECK(w[1][0] > w[1][1]); /* closed */
	CHECK_EQ(pci_scan_slot(&host, 1, found, 4, &n), -22);

	/* Plugged in: memory, 64-bit prefetchable and I/O BARs, INTA. */
	child = pcim_add(pcim_index(hp), 0, 0, 0x1af4, 0x1042, 0);
	pcim_set_bar(child, 0, 0x80, true, false, false);
	pcim_set_bar(child, 1, 0x1000, false, false, false);
	pcim_set_bar(child, 4, 0x4000, false, true, true);
	pcim_put8(child, PCI_INTERRUPT_PIN, 1);
	CHECK_EQ(pci_scan_slot(&host, 2, found, 4, &n), 0);
	CHECK_EQ(n, 1);
	if (n != 1)
		return;
	bridge_windows(hp, w);
	CHECK_EQ(found[0].bus, hp->cfg[PCI_SECONDARY_BUS]);
	CHECK(found[0].bar[0].io && found[0].bar[0].size == 0x80);
	CHECK(found[0].bar[0].addr - PCIM_IO_CPU >= w[0][0] &&
	      found[0].bar[0].addr - PCIM_IO_CPU + 0x80 - 1 <= w[0][1]);
	CHECK(found[0].bar[1].addr >= w[1][0] && found[0].bar[1].addr + 0x1000 - 1 <= w[1][1]);
	CHECK(found[0].bar[4].addr >= w[2][0] && found[0].bar[4].addr + 0x4000 - 1 <= w[2][1]);
	CHECK_EQ(pcim_bar_addr(child, 4), found[0].bar[4].addr);
	CHECK_EQ(pcim_cfg16(child, PCI_COMMAND),
		 PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	/* INTA of device 0 stays INTA through the port; the host map swizzles it by device 2. */
	CHECK_EQ(found[0].irq, IRQ_BASE + (2 + 0) % 4);
}

static void test_bad_bars(void)
{
	struct pcim_func *f, *g;

	setup();
	f = pcim_add(-1, 1, 0, 0x1234, 1, 0);
	pcim_set_bar(f, 0, 0x1000, false, false, false);
	/* A mask that is not ones from the top: no size at all. */
	pcim_set_bar(f, 1, 0, false, false, false);
	f->bar[1].raw = true;
	f->bar[1].raw_mask = 0xf0f0f000u;
	/* 2 GiB: larger than the 1 GiB 32-bit window. */
	pcim_set_bar(f, 2, 0x80000000ull, false, false, false);
	/* A 64-bit BAR in the last slot has no upper half. */
	pcim_set_bar(f, 5, 0x1000, false, true, false);
	g = pcim_add(-1, 2, 0, 0x1234, 2, 0);
	/* 2^62 bytes of 64-bit BAR: no window holds it. */
	pcim_set_bar(g, 0, 1ull << 62, false, true, true);
	pcim_set_bar(g, 2, 64, true, false, false);

	CHECK_EQ(scan(), 0);
	CHECK_EQ(ntab, 2);
	CHECK_EQ(stats.bad_bars, 4);
	CHECK_EQ(tab[0].bar[1].size, 0);
	CHECK_EQ(tab[0].bar[2].size, 0);
	CHECK_EQ(tab[0].bar[5].size, 0);
	/* A bad memory BAR holds no address of ours: memory decoding stays off. */
	CHECK_EQ(pcim_cfg16(f, PCI_COMMAND) & PCI_COMMAND_MEMORY, 0);
	CHECK_EQ(tab[1].bar[0].size, 0);
	CHECK_EQ(pcim_cfg16(g, PCI_COMMAND) & (PCI_COMMAND_MEMORY | PCI_COMMAND_IO),
		 PCI_COMMAND_IO);
	check_bars_sane();
}

static void test_windows_beyond_reach(void)
{
	struct pcim_func *f;

	setup();
	/* The board reaches nothing above 4 GiB: 64-bit BARs go below. */
	host.cpu_limit = 0xffffffffu;
	f = pcim_add(-1, 1, 0, 0x1234, 1, 0);
	pcim_set_bar(f, 0, 0x4000, false, true, true);
	CHECK_EQ(scan(), 0);
	CHECK_EQ(ntab, 1);
	CHECK(inside(tab[0].bar[0].addr, 0x4000, &host.mem32));
	CHECK_EQ(pcim_cfg16(f, PCI_COMMAND) & PCI_COMMAND_MEMORY, PCI_COMMAND_MEMORY);
}

static void test_deep_bridges(void)
{
	int parent = -1;
	struct pcim_func *leaf;

	setup();
	/* Twelve bridges in a chain, an endpoint at the end: deeper than the walk goes. */
	for (unsigned i = 0; i < 12; i++)
		parent = pcim_index(pcim_add(parent, 0, 0, 0x1234, 0x10, PCI_HEADER_TYPE_BRIDGE));
	leaf = pcim_add(parent, 0, 0, 0x1234, 0x11, 0);
	pcim_set_bar(leaf, 0, 0x1000, false, false, false);
	CHECK_EQ(scan(), 0);
	CHECK_EQ(ntab, 0);
	CHECK_EQ(stats.bridges, PCI_MAX_DEPTH + 1);
	CHECK_EQ(pcim_bus(leaf), -1);

	/* Bus numbers run out before the bridges do: the rest stay closed. */
	setup();
	host.bus_end = 2;
	parent = -1;
	for (unsigned i = 0; i < 4; i++)
		parent = pcim_index(pcim_add(parent, 0, 0, 0x1234, 0x10, PCI_HEADER_TYPE_BRIDGE));
	leaf = pcim_add(parent, 0, 0, 0x1234, 0x11, 0);
	CHECK_EQ(scan(), 0);
	CHECK_EQ(ntab, 0);
	CHECK_EQ(stats.last_bus, 2);
	CHECK_EQ(stats.bridges, 3);
}

static void test_table_full(void)
{
	struct pcim_func *f[5];
	unsigned n;

	setup();
	for (unsigned i = 0; i < 5; i++) {
		f[i] = pcim_add(-1, (uint8_t)(i + 1), 0, 0x1234, 1, 0);
		pcim_set_bar(f[i], 0, 0x1000, false, false, false);
	}
	CHECK_EQ(pci_scan(&host, tab, 3, &n, &stats), 0);
	CHECK_EQ(n, 3);
	CHECK_EQ(stats.dropped, 2);
	/* What has no place in the table gets no decoding and no DMA. */
	CHECK_EQ(pcim_cfg16(f[3], PCI_COMMAND), 0);
	CHECK_EQ(pcim_cfg16(f[4], PCI_COMMAND), 0);
	CHECK_EQ(pci_scan(NULL, tab, 3, &n, NULL), -22);
}

/* ------------------------------------------------------------------ */
/* The virtio-pci transport */

static void test_modern_ops(void)
{
	struct pcim_func *f;
	struct pcim_virtio *v;
	struct vio_transport t;
	struct vio_queue_addrs a = { 0x10000, 0x10400, 0x11000 };

	setup();
	f = pcim_add_virtio(1, VIRTIO_ID_RNG, 2);
	v = f->vio;
	v->features |= 1ull << VIRTIO_F_RING_RESET;
	v->devcfg[0] = 0x5a;
	CHECK_EQ(scan(), 0);
	CHECK_EQ(ntab, 1);
	CHECK_EQ(vio_pci_identify(&t, &tab[0]), 0);
	CHECK(t.ops == &vio_pci_modern_ops);
	CHECK_EQ(t.device_id, VIRTIO_ID_RNG);
	CHECK(!t.legacy && !t.unsupported);
	CHECK_EQ(t.bus_addr, 0x08);
	CHECK_EQ(t.irq, IRQ_BASE + 1);

	v->status = 0x0f;
	CHECK_EQ(t.ops->reset(&t, sim_port(), 1000000), 0);
	CHECK_EQ(v->status, 0);
	CHECK_EQ(t.ops->get_features(&t), v->features);
	t.ops->set_features(&t, 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_F_RING_RESET | 5);
	CHECK_EQ(v->driver_features, 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_F_RING_RESET | 5);
	v->generation = 7;
	CHECK_EQ(t.ops->config_generation(&t), 7);
	CHECK_EQ(t.ops->config_read(&t, 0, 1), 0x5a);
	/* Outside the 64 bytes the capability gives: 0, and no access. */
	CHECK_EQ(t.ops->config_read(&t, 62, 4), 0);
	t.ops->config_write(&t, 64, 1, 1);
	CHECK_EQ(v->bad_accesses, 0);

	CHECK_EQ(t.ops->queue_max(&t, 1), 64);
	CHECK_EQ(t.ops->queue_max(&t, 2), 0);
	CHECK_EQ(t.ops->ring_align(&t), 4);
	CHECK_EQ(t.ops->queue_enable(&t, 1, 32, &a), 0);
	CHECK_EQ(v->qsize[1], 32);
	CHECK_EQ(v->qdesc[1], a.desc);
	CHECK_EQ(v->qavail[1], a.avail);
	CHECK_EQ(v->qused[1], a.used);
	CHECK_EQ(v->qenable[1], 1);
	CHECK_EQ(v->qvector[1], VIRTIO_MSI_NO_VECTOR);
	CHECK_EQ(t.ops->queue_enable(&t, 1, 32, &a), VIO_EBUSY);
	CHECK_EQ(t.ops->queue_enable(&t, 0, 128, &a), VIO_EINVAL);
	/* 4.1.4.4: queue 1's notify_off 1 times the multiplier 4 */
	t.ops->notify(&t, 1);
	CHECK_EQ(v->notifies, 1);
	CHECK_EQ(v->last_notify_off, 4);
	CHECK_EQ(v->last_notify, 1);
	/* A queue never enabled has no notification address: nothing is written. */
	t.ops->notify(&t, 0);
	CHECK_EQ(v->notifies, 1);

	v->isr = VIRTIO_PCI_ISR_QUEUE | VIRTIO_PCI_ISR_CONFIG | 0x80;
	CHECK_EQ(t.ops->ack_irq(&t), VIO_IRQ_QUEUE | VIO_IRQ_CONFIG);
	CHECK_EQ(t.ops->ack_irq(&t), 0);

	/* Live, with RING_RESET negotiated: the one queue is reset. */
	v->status = 0x0f;
	CHECK_EQ(t.ops->queue_disable(&t, 1), 0);
	CHECK_EQ(v->qenable[1], 0);
	t.ops->release(&t);
	CHECK_EQ(sim_dma_live(), 0);
}

static void test_modern_driver(void)
{
	struct pcim_func *f;
	struct vio_device *dev = NULL;

	setup();
	CHECK_EQ(vio_driver_register(&vio_rng_driver, NULL), 0);
	f = pcim_add_virtio(1, VIRTIO_ID_RNG, 1);
	pcim_add(-1, 2, 0, 0x8086, 0x1234, 0); /* not virtio */
	CHECK_EQ(scan(), 0);
	CHECK_EQ(ntab, 2);
	CHECK_EQ(vio_pci_add(&tab[0], 256 + 8, &dev), 0);
	CHECK(dev != NULL);
	if (dev) {
		CHECK_EQ(dev->state, VIO_DEV_READY);
		CHECK_STR(dev->t.ops->name, "virtio-pci");
		CHECK_EQ(dev->irq, IRQ_BASE + 1);
	}
	CHECK_EQ(f->vio->status & VIRTIO_CONFIG_S_DRIVER_OK, VIRTIO_CONFIG_S_DRIVER_OK);
	CHECK_EQ(f->vio->qenable[0], 1);
	CHECK_EQ(f->vio->qvector[0], VIRTIO_MSI_NO_VECTOR);
	CHECK_EQ(f->vio->bad_accesses, 0);
	CHECK_EQ(vio_pci_add(&tab[1], 256 + 16, NULL), VIO_ENODEV);
	CHECK_EQ(vio_dev_count(), 1);
}

/*
 * A surprise removal: the function vanishes while the driver runs, so
 * every register reads all ones until the board notices. An interrupt
 * then (all ones: every ISR bit), the service it triggers (status all
 * ones: DEVICE_NEEDS_RESET), a configuration read and a recovery attempt
 * must each end (the reset's bounded wait), with the device FAILED and
 * nothing indexed from what was read. Once removed (vio_dev_remove), the
 * core reaches for it no more.
 */
static void test_surprise_removal(void)
{
	struct pcim_func *f;
	struct vio_device *dev = NULL;
	uint64_t v;
	unsigned stray;

	setup();
	CHECK_EQ(vio_driver_register(&vio_rng_driver, NULL), 0);
	f = pcim_add_virtio(1, VIRTIO_ID_RNG, 1);
	CHECK_EQ(scan(), 0);
	CHECK_EQ(vio_pci_add(&tab[0], 256 + 8, &dev), 0);
	if (!dev)
		return;
	pcim_unplug(f);
	vio_dev_irq(dev);
	(void)vio_service();
	CHECK_EQ(dev->state, VIO_DEV_FAILED);
	(void)vio_dev_config_read(dev, 0, 8, &v); /* garbage, but it returns */
	CHECK(vio_dev_recover(dev) != 0);
	CHECK_EQ(dev->state, VIO_DEV_FAILED);
	CHECK(pcim_stray_accesses() > 0);

	vio_dev_remove(dev, false);
	stray = pcim_stray_accesses();
	vio_dev_irq(dev);
	(void)vio_service();
	CHECK_EQ(vio_dev_config_read(dev, 0, 4, &v), VIO_ENODEV);
	CHECK_EQ(vio_dev_recover(dev), VIO_ENODEV);
	CHECK_EQ(pcim_stray_accesses(), stray);
}

static void test_cap_loop(void)
{
	struct pcim_func *f;
	struct vio_transport t;

	setup();
	f = pcim_add(-1, 1, 0, PCI_VENDOR_ID_REDHAT_QUMRANET, VIRTIO_PCI_DEVICE_ID_MODERN_BASE + 4, 0);
	pcim_set_bar(f, 4, 0x4000, false, true, true);
	/* Three vendor capabilities of no use, the last pointing back at the first. */
	pcim_add_cap(f, 0x40, PCI_CAP_ID_VNDR, 16);
	pcim_add_cap(f, 0x60, PCI_CAP_ID_VNDR, 16);
	pcim_add_cap(f, 0x80, PCI_CAP_ID_VNDR, 16);
	f->cfg[0x81] = 0x40;
	CHECK_EQ(scan(), 0);
	f->cfg_reads = 0;
	CHECK_EQ(vio_pci_identify(&t, &tab[0]), 0);
	CHECK(t.unsupported);
	CHECK_EQ(t.device_id, 4);
	/* The walk ended: at most a capability's reads for every dword of config space. */
	CHECK(f->cfg_reads < 64 * 8);

	/*
	 * Added anyway, it enters the table refused, with no transport
	 * state: the configuration calls and vio_dev_fail must not reach
	 * for registers it does not have (found by fuzz_pci: a NULL
	 * dereference in the config generation read).
	 */
	{
		struct vio_device *dev = NULL;
		uint64_t v = 0;

		CHECK_EQ(vio_pci_add(&tab[0], 264, &dev), VIO_ENOTSUP);
		CHECK(dev != NULL);
		if (dev) {
			CHECK_EQ(dev->state, VIO_DEV_REFUSED);
			CHECK_EQ(vio_dev_config_read(dev, 0, 4, &v), VIO_ENODEV);
			CHECK_EQ(vio_dev_config_write(dev, 0, 1, 1), VIO_ENODEV);
			vio_dev_fail(dev, VIO_EIO);
			CHECK_EQ(dev->state, VIO_DEV_REFUSED);
			vio_dev_poll(dev);
			(void)vio_service();
		}
	}

	/* A capability that points at itself. */
	setup();
	f = pcim_add(-1, 1, 0, PCI_VENDOR_ID_REDHAT_QUMRANET, VIRTIO_PCI_DEVICE_ID_MODERN_BASE + 4, 0);
	pcim_add_cap(f, 0x40, PCI_CAP_ID_VNDR, 16);
	f->cfg[0x41] = 0x40;
	CHECK_EQ(scan(), 0);
	CHECK_EQ(vio_pci_identify(&t, &tab[0]), 0);
	CHECK(t.unsupported);
}

static void test_cap_outside(void)
{
	struct pcim_func *f;
	struct vio_transport t;

	/* The list starts inside the standard header, or runs past 256 bytes. */
	setup();
	f = pcim_add_virtio(1, VIRTIO_ID_RNG, 1);
	f->cfg[PCI_CAPABILITY_LIST] = 0x20;
	CHECK_EQ(scan(), 0);
	CHECK_EQ(vio_pci_identify(&t, &tab[0]), 0);
	CHECK(t.unsupported);
	f->cfg[PCI_CAPABILITY_LIST] = 0xfe; /* masked to 0xfc: then the cap would end past 256 */
	f->cfg[0xfc] = PCI_CAP_ID_VNDR;
	f->cfg[0xfd] = 0;
	f->cfg[0xfe] = 16;
	f->cfg[0xff] = VIRTIO_PCI_CAP_COMMON_CFG;
	CHECK_EQ(vio_pci_identify(&t, &tab[0]), 0);
	CHECK(t.unsupported);

	/* The common configuration reaches past the end of its BAR. */
	setup();
	f = pcim_add_virtio(1, VIRTIO_ID_RNG, 1);
	pcim_put32(f, 0x40 + VIRTIO_PCI_CAP_OFFSET, PCIM_VIO_BAR_SIZE - 0x20);
	CHECK_EQ(scan(), 0);
	CHECK_EQ(vio_pci_identify(&t, &tab[0]), 0);
	CHECK(t.unsupported);

	/* An offset that wraps 32 bits, and a BAR number that does not exist. */
	setup();
	f = pcim_add_virtio(1, VIRTIO_ID_RNG, 1);
	pcim_put32(f, 0x40 + VIRTIO_PCI_CAP_OFFSET, 0xffffffe0u);
	f->cfg[0x50 + VIRTIO_PCI_CAP_BAR] = 7;
	CHECK_EQ(scan(), 0);
	CHECK_EQ(vio_pci_identify(&t, &tab[0]), 0);
	CHECK(t.unsupported);
	CHECK_EQ(vio_pci_add(&tab[0], 264, NULL), VIO_ENOTSUP);
}

static void test_notify_offset_outside(void)
{
	struct pcim_func *f;
	struct vio_device *dev = NULL;

	setup();
	CHECK_EQ(vio_driver_register(&vio_rng_driver, NULL), 0);
	f = pcim_add_virtio(1, VIRTIO_ID_RNG, 1);
	/* notify_off * multiplier beyond the 4 KiB notify area */
	f->vio->qnoff[0] = 0x400;
	CHECK_EQ(scan(), 0);
	CHECK_EQ(vio_pci_add(&tab[0], 264, &dev), VIO_EPROTO);
	CHECK(dev != NULL);
	if (dev)
		CHECK_EQ(dev->state, VIO_DEV_FAILED);
	CHECK_EQ(f->vio->notifies, 0);
	CHECK_EQ(f->vio->bad_accesses, 0);
}

static void test_legacy(void)
{
	struct pcim_func *f;
	struct pcim_virtio *v;
	struct vio_transport t;
	struct vio_queue_addrs a = { 0x20000, 0x20000 + 16 * 64, 0x21000 };
	struct vio_device *dev = NULL;

	setup();
	f = pcim_add_virtio_legacy(1, VIRTIO_ID_RNG, 1);
	v = f->vio;
	v->features = 0xffffffffull | 1ull << 40;
	v->devcfg[0] = 0xa5;
	CHECK_EQ(scan(), 0);
	CHECK(tab[0].bar[0].io);
	CHECK_EQ(vio_pci_identify(&t, &tab[0]), 0);
	CHECK(t.ops == &vio_pci_legacy_ops);
	CHECK(t.legacy && t.fixed_queue_size);
	CHECK_EQ(t.device_id, VIRTIO_ID_RNG);
	/* 4.1.4.8: 32 feature bits only */
	CHECK_EQ(t.ops->get_features(&t), 0xffffffffull);
	CHECK_EQ(t.ops->config_read(&t, 0, 1), 0xa5);
	CHECK_EQ(t.ops->queue_max(&t, 0), 64);
	CHECK_EQ(t.ops->ring_align(&t), 4096);
	CHECK_EQ(t.ops->queue_enable(&t, 0, 32, &a), VIO_EINVAL); /* the size is the device's */
	CHECK_EQ(t.ops->queue_enable(&t, 0, 64, &a), 0);
	CHECK_EQ(v->qpfn[0], 0x20);
	t.ops->notify(&t, 0);
	CHECK_EQ(v->notifies, 1);
	v->isr = 1;
	CHECK_EQ(t.ops->ack_irq(&t), VIO_IRQ_QUEUE);
	CHECK_EQ(t.ops->ack_irq(&t), 0);
	t.ops->release(&t);

	/* And with the driver: ready on the legacy interface. */
	CHECK_EQ(vio_driver_register(&vio_rng_driver, NULL), 0);
	v->features = 0;
	CHECK_EQ(vio_pci_add(&tab[0], 264, &dev), 0);
	if (dev)
		CHECK_EQ(dev->state, VIO_DEV_READY);
	CHECK(v->qpfn[0] != 0);
}

/* ------------------------------------------------------------------ */
/* MSI-X */

/* An rng with numq queues and an n-vector MSI-X table, added with its driver. */
static void msix_rng(struct pcim_func **fp, bool legacy, uint16_t numq, unsigned n)
{
	struct pcim_func *f;

	/* A case may try several: each starts from nothing, as a case does. */
	sim_reset_all();
	sim_port_reset();
	setup();
	CHECK_EQ(vio_driver_register(&vio_rng_driver, NULL), 0);
	f = legacy ? pcim_add_virtio_legacy(1, VIRTIO_ID_RNG, numq)
		   : pcim_add_virtio(1, VIRTIO_ID_RNG, numq);
	f->vio->devcfg[0] = 0x5a;
	pcim_add_msix(f, 0x80, n, 0, PCIM_MSIX_BAR, 0x800, PCIM_MSIX_BAR);
	*fp = f;
}

static struct vio_device *msix_add(void)
{
	struct vio_device *dev = NULL;

	CHECK_EQ(scan(), 0);
	CHECK_EQ(vio_pci_add(&tab[0], 264, &dev), 0);
	CHECK(dev != NULL);
	return dev;
}

/* Table entry v holds the port's message for MSI n, unmasked. */
static void check_entry(const struct pcim_func *f, unsigned v, unsigned n)
{
	CHECK_EQ(f->msix_table[v][0], SIM_MSI_ADDR);
	CHECK_EQ(f->msix_table[v][1], 0);
	CHECK_EQ(f->msix_table[v][2], SIM_MSI_BASE + n);
	CHECK_EQ(f->msix_table[v][3], 0);
}

static void test_msix_per_queue(void)
{
	struct pcim_func *f;
	struct vio_device *dev;

	msix_rng(&f, false, 2, 3);
	dev = msix_add();
	if (!dev)
		return;
	CHECK_EQ(dev->state, VIO_DEV_READY);
	CHECK_EQ(vio_dev_irq_mode(dev), VIO_IRQ_MODE_MSIX);
	CHECK_STR(vio_dev_irq_mode_name(dev), "msix");
	CHECK_EQ(dev->nvectors, 3);
	CHECK(pcim_msix_enabled(f));
	/* vector 0: configuration; 1 + N: queue N, each read back as written */
	CHECK_EQ(f->vio->config_vector, 0);
	CHECK_EQ(f->vio->qvector[0], 1);
	CHECK_EQ(f->vio->qvector[1], 2);
	for (unsigned v = 0; v < 3; v++)
		check_entry(f, v, v);
	/* No INTx line: the vectors say it all. */
	CHECK(!sim_irq_attached(IRQ_BASE + 1));
	/* Each vector is taken as itself, without an ISR read. */
	f->vio->isr = VIRTIO_PCI_ISR_CONFIG;
	sim_irq_line(SIM_MSI_BASE + 1);
	CHECK_EQ(dev->irq_count, 1);
	CHECK_EQ(f->vio->isr, VIRTIO_PCI_ISR_CONFIG);
	CHECK_EQ(f->vio->bad_accesses, 0);
}

static void test_msix_refused(void)
{
	struct pcim_func *f;
	struct vio_device *dev;

	/* 4.1.5.1.2: vector 2 reads back NO_VECTOR: one shared vector for the queues. */
	msix_rng(&f, false, 2, 3);
	f->vio->msix_accept = 2;
	dev = msix_add();
	if (dev) {
		CHECK_EQ(vio_dev_irq_mode(dev), VIO_IRQ_MODE_MSIX_SHARED);
		CHECK_EQ(dev->nvectors, 2);
	}
	CHECK_EQ(f->vio->config_vector, 0);
	CHECK_EQ(f->vio->qvector[0], 1);
	CHECK_EQ(f->vio->qvector[1], 1);
	CHECK(!sim_irq_attached(SIM_MSI_BASE + 2)); /* the per-queue try gave it back */
	CHECK(f->msix_table[2][3] & PCI_MSIX_ENTRY_CTRL_MASK);

	/* Every vector refused: INTx, MSI-X off, no MSI kept. */
	msix_rng(&f, false, 1, 2);
	f->vio->msix_accept = 0;
	dev = msix_add();
	if (dev) {
		CHECK_EQ(dev->state, VIO_DEV_READY);
		CHECK_EQ(vio_dev_irq_mode(dev), VIO_IRQ_MODE_LINE);
		CHECK_EQ(dev->nvectors, 0);
	}
	CHECK(!pcim_msix_enabled(f));
	CHECK(sim_irq_attached(IRQ_BASE + 1));
	for (unsigned i = 0; i < SIM_MSI_MAX; i++)
		CHECK(!sim_irq_attached(SIM_MSI_BASE + (int)i));
	CHECK_EQ(f->vio->qvector[0], VIRTIO_MSI_NO_VECTOR);
}

static void test_msix_few_vectors(void)
{
	struct pcim_func *f;
	struct vio_device *dev;

	/* The port has one MSI left: everything on it, config told by the ISR. */
	msix_rng(&f, false, 1, 4);
	sim_msi_limit = 1;
	dev = msix_add();
	if (!dev)
		return;
	CHECK_EQ(vio_dev_irq_mode(dev), VIO_IRQ_MODE_MSIX_SHARED);
	CHECK_EQ(dev->nvectors, 1);
	CHECK_EQ(f->vio->config_vector, 0);
	CHECK_EQ(f->vio->qvector[0], 0);
	f->vio->isr = VIRTIO_PCI_ISR_CONFIG;
	sim_irq_line(SIM_MSI_BASE);
	CHECK_EQ(f->vio->isr, 0); /* read, to tell a configuration change */
	CHECK_EQ(dev->irq_count, 1);

	/* A one-entry table: the same. */
	msix_rng(&f, false, 2, 1);
	dev = msix_add();
	if (dev) {
		CHECK_EQ(vio_dev_irq_mode(dev), VIO_IRQ_MODE_MSIX_SHARED);
		CHECK_EQ(dev->nvectors, 1);
	}
	CHECK_EQ(f->vio->qvector[1], 0);

	/* None at all: INTx. */
	msix_rng(&f, false, 1, 2);
	sim_msi_limit = 0;
	dev = msix_add();
	if (dev)
		CHECK_EQ(vio_dev_irq_mode(dev), VIO_IRQ_MODE_LINE);
	CHECK(!pcim_msix_enabled(f));
}

static void test_msix_bad_table(void)
{
	static const struct {
		unsigned n;
		uint32_t table, pba;
		unsigned bir_table, bir_pba;
	} bad[] = {
		{ 2, 0xff0, 0x800, PCIM_MSIX_BAR, PCIM_MSIX_BAR },   /* table past the BAR's end */
		{ 2, 0, 0x1000, PCIM_MSIX_BAR, PCIM_MSIX_BAR },      /* pending bits past it */
		{ 2048, 0, 0x800, PCIM_MSIX_BAR, PCIM_MSIX_BAR },    /* 32 KiB of table in 4 KiB */
		{ 2, 0, 0x800, 6, PCIM_MSIX_BAR },                   /* reserved BIR */
		{ 2, 0, 0x800, PCIM_MSIX_BAR, 7 },
		{ 2, 0, 0x800, 2, PCIM_MSIX_BAR },                   /* a BAR the function lacks */
		{ 2, 0, 0x800, PCIM_MSIX_BAR, PCIM_VIO_BAR + 1 },    /* the upper half of a 64-bit BAR */
	};

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pcim_func *f;
		struct vio_device *dev;

		sim_reset_all();
		sim_port_reset();
		setup();
		CHECK_EQ(vio_driver_register(&vio_rng_driver, NULL), 0);
		f = pcim_add_virtio(1, VIRTIO_ID_RNG, 1);
		pcim_add_msix(f, 0x80, bad[i].n, bad[i].table, bad[i].bir_table, bad[i].pba,
			      bad[i].bir_pba);
		dev = msix_add();
		if (dev) {
			CHECK_EQ(dev->state, VIO_DEV_READY);
			CHECK_EQ(vio_dev_irq_mode(dev), VIO_IRQ_MODE_LINE);
		}
		CHECK(!pcim_msix_enabled(f));
		CHECK_EQ(f->msix_table[0][2], 0); /* never written */
		CHECK(sim_log_contains("MSI-X table or pending bits outside a memory BAR"));
	}
}

static void test_msix_legacy(void)
{
	struct pcim_func *f;
	struct vio_device *dev;
	uint64_t v = 0;

	/* 4.1.4.8: the vectors at 20 and 22, the configuration moves to 24. */
	msix_rng(&f, true, 1, 2);
	dev = msix_add();
	if (!dev)
		return;
	CHECK_EQ(vio_dev_irq_mode(dev), VIO_IRQ_MODE_MSIX);
	CHECK_EQ(f->vio->config_vector, 0);
	CHECK_EQ(f->vio->qvector[0], 1);
	CHECK_EQ(vio_dev_config_read(dev, 0, 1, &v), 0);
	CHECK_EQ(v, 0x5a);
	CHECK_EQ(f->vio->bad_accesses, 0);
}

int main(void)
{
	RUN(test_tree);
	RUN(test_bad_bars);
	RUN(test_windows_beyond_reach);
	RUN(test_deep_bridges);
	RUN(test_hotplug_slot);
	RUN(test_surprise_removal);
	RUN(test_table_full);
	RUN(test_modern_ops);
	RUN(test_modern_driver);
	RUN(test_cap_loop);
	RUN(test_cap_outside);
	RUN(test_notify_offset_outside);
	RUN(test_legacy);
	RUN(test_msix_per_queue);
	RUN(test_msix_refused);
	RUN(test_msix_few_vectors);
	RUN(test_msix_bad_table);
	RUN(test_msix_legacy);
	return test_report();
}
