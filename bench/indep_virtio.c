/* SPDX-License-Identifier: Apache-2.0 */
#include "indep_virtio.h"

#include "board.h"
#include "indep_ring.h"

/* 4.2.2: virtio-mmio registers (4.2.4: the legacy ones marked). */
#define R_MAGIC 0x000
#define R_VERSION 0x004
#define R_DEVICE_ID 0x008
#define R_DEV_FEATURES 0x010
#define R_DEV_FEATURES_SEL 0x014
#define R_DRV_FEATURES 0x020
#define R_DRV_FEATURES_SEL 0x024
#define R_GUEST_PAGE_SIZE 0x028 /* legacy */
#define R_QUEUE_SEL 0x030
#define R_QUEUE_NUM_MAX 0x034
#define R_QUEUE_NUM 0x038
#define R_QUEUE_ALIGN 0x03c     /* legacy */
#define R_QUEUE_PFN 0x040       /* legacy */
#define R_QUEUE_READY 0x044
#define R_QUEUE_NOTIFY 0x050
#define R_INT_STATUS 0x060
#define R_INT_ACK 0x064
#define R_STATUS 0x070
#define R_QUEUE_DESC_LO 0x080
#define R_QUEUE_DESC_HI 0x084
#define R_QUEUE_DRIVER_LO 0x090
#define R_QUEUE_DRIVER_HI 0x094
#define R_QUEUE_DEVICE_LO 0x0a0
#define R_QUEUE_DEVICE_HI 0x0a4
#define R_CONFIG 0x100

#define MMIO_MAGIC 0x74726976u /* "virt" */
#define PAGE 4096u             /* the legacy interfaces' page, and ring alignment */

static inline uint8_t rd8(uintptr_t a)
{
	return *(volatile uint8_t *)a;
}

static inline uint16_t rd16(uintptr_t a)
{
	return *(volatile uint16_t *)a;
}

static inline uint32_t rd32(uintptr_t a)
{
	return *(volatile uint32_t *)a;
}

static inline void wr8(uintptr_t a, uint8_t v)
{
	*(volatile uint8_t *)a = v;
}

static inline void wr16(uintptr_t a, uint16_t v)
{
	*(volatile uint16_t *)a = v;
}

static inline void wr32(uintptr_t a, uint32_t v)
{
	*(volatile uint32_t *)a = v;
}

/* 4.1.3.1: a 64-bit field of the common configuration, written as its two halves. */
static void wr64(uintptr_t a, uint64_t v)
{
	wr32(a, (uint32_t)v);
	wr32(a + 4, (uint32_t)(v >> 32));
}

int indep_find(unsigned id, bool (*match)(uintptr_t config), struct indep_dev *d)
{
	const struct board_info *bi = board_info();

	for (unsigned i = 0; i < bi->nvirtio; i++) {
		uintptr_t r = bi->virtio[i].base;

		if (rd32(r + R_MAGIC) != MMIO_MAGIC || rd32(r + R_DEVICE_ID) != id ||
		    !match(r + R_CONFIG))
			continue;
		d->pci = false;
		d->regs = r;
		d->legacy = rd32(r + R_VERSION) == 1;
		d->config = r + R_CONFIG;
		d->irq = bi->virtio[i].irq;
		return 0;
	}
	if (indep_pci_find(id, match, &d->p) != 0)
		return -1;
	d->pci = true;
	d->legacy = d->p.legacy;
	d->config = d->p.device;
	d->irq = d->p.irq;
	return 0;
}

static uint8_t get_status(const struct indep_dev *d)
{
	if (!d->pci)
		return (uint8_t)rd32(d->regs + R_STATUS);
	return rd8(d->legacy ? d->p.io + PL_STATUS : d->p.common + PC_STATUS);
}

static void set_status(const struct indep_dev *d, uint8_t v)
{
	if (!d->pci)
		wr32(d->regs + R_STATUS, v);
	else
		wr8(d->legacy ? d->p.io + PL_STATUS : d->p.common + PC_STATUS, v);
}

void indep_begin(const struct indep_dev *d)
{
	/* 2.4.1 (4.1.4.3.2): writing 0 resets; the device shows 0 once it is done. */
	set_status(d, 0);
	while (get_status(d) != 0)
		;
	set_status(d, S_ACKNOWLEDGE);
	set_status(d, S_ACKNOWLEDGE | S_DRIVER);
}

uint32_t indep_features(const struct indep_dev *d, unsigned word)
{
	if (!d->pci) {
		wr32(d->regs + R_DEV_FEATURES_SEL, word);
		return rd32(d->regs + R_DEV_FEATURES);
	}
	if (d->legacy)
		return word ? 0 : rd32(d->p.io + PL_HOST_FEATURES);
	wr32(d->p.common + PC_DEV_FEATURE_SEL, word);
	return rd32(d->p.common + PC_DEV_FEATURE);
}

void indep_set_features(const struct indep_dev *d, uint64_t features)
{
	for (unsigned word = 0; word < 2; word++) {
		uint32_t v = (uint32_t)(features >> (32 * word));

		if (!d->pci) {
			wr32(d->regs + R_DRV_FEATURES_SEL, word);
			wr32(d->regs + R_DRV_FEATURES, v);
		} else if (d->legacy) {
			if (!word)
				wr32(d->p.io + PL_GUEST_FEATURES, v);
		} else {
			wr32(d->p.common + PC_DRV_FEATURE_SEL, word);
			wr32(d->p.common + PC_DRV_FEATURE, v);
		}
	}
}

int indep_features_ok(const struct indep_dev *d)
{
	if (d->legacy) {
		/* 4.2.4: legacy virtio-mmio needs the guest's page size before any queue. */
		if (!d->pci)
			wr32(d->regs + R_GUEST_PAGE_SIZE, PAGE);
		return 0;
	}
	set_status(d, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
	return get_status(d) & S_FEATURES_OK ? 0 : -1;
}

void indep_driver_ok(const struct indep_dev *d)
{
	set_status(d, (uint8_t)(get_status(d) | S_DRIVER_OK));
}

static int pci_queue(const struct indep_dev *d, unsigned index, uintptr_t desc, uintptr_t driver,
		     uintptr_t device, uintptr_t *notify_at)
{
	uintptr_t c = d->p.common;
	uint32_t off;

	if (d->legacy) {
		/* 4.1.5.1: the device's queue size cannot be changed; one page number for the ring. */
		wr16(d->p.io + PL_QUEUE_SEL, (uint16_t)index);
		if (rd16(d->p.io + PL_QUEUE_SIZE) != INDEP_QSIZE || (desc & (PAGE - 1)) ||
		    (uint64_t)desc / PAGE > UINT32_MAX)
			return -1;
		wr32(d->p.io + PL_QUEUE_PFN, (uint32_t)(desc / PAGE));
		*notify_at = d->p.io + PL_QUEUE_NOTIFY;
		return 0;
	}
	wr16(c + PC_QUEUE_SEL, (uint16_t)index);
	if (rd16(c + PC_QUEUE_SIZE) < INDEP_QSIZE)
		return -1;
	wr16(c + PC_QUEUE_SIZE, INDEP_QSIZE);
	wr64(c + PC_QUEUE_DESC, desc);
	wr64(c + PC_QUEUE_DRIVER, driver);
	wr64(c + PC_QUEUE_DEVICE, device);
	/* 4.1.4.4: the queue's notification address, inside the capability's range. */
	off = rd16(c + PC_QUEUE_NOTIFY_OFF) * d->p.notify_mul;
	if (off > d->p.notify_len || d->p.notify_len - off < 2)
		return -1;
	*notify_at = d->p.notify + off;
	wr16(c + PC_QUEUE_ENABLE, 1);
	return 0;
}

int indep_queue(const struct indep_dev *d, unsigned index, uintptr_t desc, uintptr_t driver,
		uintptr_t device, uintptr_t *notify_at)
{
	uintptr_t r = d->regs;

	if (d->pci)
		return pci_queue(d, index, desc, driver, device, notify_at);
	wr32(r + R_QUEUE_SEL, index);
	if (rd32(r + R_QUEUE_NUM_MAX) < INDEP_QSIZE)
		return -1;
	wr32(r + R_QUEUE_NUM, INDEP_QSIZE);
	*notify_at = r + R_QUEUE_NOTIFY;
	if (d->legacy) {
		/* 4.2.4: the legacy device finds the rings from one page number. */
		wr32(r + R_QUEUE_ALIGN, PAGE);
		wr32(r + R_QUEUE_PFN, (uint32_t)(desc / PAGE));
		return 0;
	}
	wr32(r + R_QUEUE_DESC_LO, (uint32_t)desc);
	wr32(r + R_QUEUE_DESC_HI, (uint32_t)((uint64_t)desc >> 32));
	wr32(r + R_QUEUE_DRIVER_LO, (uint32_t)driver);
	wr32(r + R_QUEUE_DRIVER_HI, (uint32_t)((uint64_t)driver >> 32));
	wr32(r + R_QUEUE_DEVICE_LO, (uint32_t)device);
	wr32(r + R_QUEUE_DEVICE_HI, (uint32_t)((uint64_t)device >> 32));
	wr32(r + R_QUEUE_READY, 1);
	return 0;
}

uint32_t indep_ack_irq(const struct indep_dev *d)
{
	uint32_t st;

	if (d->pci)
		return rd8(d->p.isr);
	st = rd32(d->regs + R_INT_STATUS);
	wr32(d->regs + R_INT_ACK, st);
	return st;
}

uint32_t indep_isr(const struct indep_dev *d)
{
	return d->pci ? rd8(d->p.isr) : rd32(d->regs + R_INT_STATUS);
}
