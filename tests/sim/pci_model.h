/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A simulated PCI host for host tests: an ECAM with functions a test
 * declares (endpoints and bridges, BARs of any size, any capability list,
 * however broken), the windows their BARs decode in, and a virtio-pci
 * device behind them, modern (4.1.4: common, notify, ISR and device
 * configuration in one memory BAR) or legacy (4.1.4.8: I/O BAR0). The
 * addresses are fake (never dereferenced): the library's register accesses
 * reach the model through sim_region_add (sim.h).
 */
#ifndef VIO_SIM_PCI_MODEL_H
#define VIO_SIM_PCI_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#define PCIM_ECAM 0x30000000u
#define PCIM_BUSES 16u
#define PCIM_IO_CPU 0x03000000u  /* I/O window: ports 0..0xffff at this CPU address */
#define PCIM_IO_SIZE 0x10000u
#define PCIM_MEM32 0x40000000u   /* 32-bit window, PCI = CPU */
#define PCIM_MEM32_SIZE 0x40000000u
#define PCIM_MEM64 0x400000000ull /* 64-bit window, PCI = CPU */
#define PCIM_MEM64_SIZE 0x400000000ull

#define PCIM_MAX_FUNCS 24
#define PCIM_MAX_QUEUES 8

/* Where the virtio model puts its structures in its BAR (modern). */
#define PCIM_VIO_BAR 4
#define PCIM_VIO_BAR_SIZE 0x4000u
#define PCIM_COMMON_OFF 0x0000u
#define PCIM_ISR_OFF 0x1000u
#define PCIM_DEVICE_OFF 0x2000u
#define PCIM_NOTIFY_OFF 0x3000u
#define PCIM_NOTIFY_LEN 0x1000u

/* The MSI-X table the model can have (pcim_add_msix), in a BAR of its own. */
#define PCIM_MSIX_MAX 16
#define PCIM_MSIX_BAR 1
#define PCIM_MSIX_BAR_SIZE 0x1000u

struct pcim_bar {
	uint64_t size;     /* power of two, 0: the function has no such BAR */
	bool io, is64, pref;
	bool raw;          /* the sizing mask is raw_mask, whatever it means */
	uint32_t raw_mask;
};

/* The virtio side of a function. */
struct pcim_virtio {
	bool legacy;               /* the registers are legacy ones in BAR0 */
	uint64_t features;         /* what the device offers */
	uint64_t driver_features;  /* what the driver wrote */
	uint32_t dfsel, gfsel;
	uint8_t status, generation, isr;
	uint16_t numq, qsel;
	uint16_t qmax[PCIM_MAX_QUEUES], qsize[PCIM_MAX_QUEUES], qnoff[PCIM_MAX_QUEUES];
	uint16_t qenable[PCIM_MAX_QUEUES], qvector[PCIM_MAX_QUEUES], qreset[PCIM_MAX_QUEUES];
	uint32_t qpfn[PCIM_MAX_QUEUES];
	uint64_t qdesc[PCIM_MAX_QUEUES], qavail[PCIM_MAX_QUEUES], qused[PCIM_MAX_QUEUES];
	uint16_t config_vector;
	/*
	 * MSI-X: vectors below msix_accept are taken, others read back as
	 * NO_VECTOR (4.1.5.1.2); msix_ctrl points at Message Control in the
	 * function's config space (NULL: no MSI-X).
	 */
	uint16_t msix_accept;
	const uint8_t *msix_ctrl;
	uint8_t devcfg[64];
	uint32_t notify_mult;
	unsigned notifies;         /* notifications written */
	uint32_t last_notify_off;  /* offset into the notify area (modern) */
	uint16_t last_notify;      /* the value written */
	unsigned bad_accesses;     /* accesses outside the registers */
};

struct pcim_func {
	bool used;
	int parent;            /* index of the bridge it sits behind, -1: the root bus */
	uint8_t dev, fn;
	uint8_t cfg[256];      /* configuration space as the function shows it */
	uint32_t bar_reg[6];   /* the BARs' address bits as written */
	struct pcim_bar bar[6];
	struct pcim_virtio *vio; /* NULL: not a virtio device */
	struct pcim_virtio vio_state;
	unsigned cfg_reads;
	uint32_t msix_table[PCIM_MSIX_MAX][4]; /* address lo, hi, data, vector control */
	uint8_t slot_exp;      /* a hot-plug slot's PCI Express capability (pcim_slot_init), or 0 */
	unsigned slot_ctl_writes; /* Slot Control writes (commands) */
};

/* Forget every function and map the ECAM and the windows (after sim_reset_all). */
void pcim_reset(void);
/* A new function: header type 0 or 1 (bridge), behind bridge parent (-1: root). */
struct pcim_func *pcim_add(int parent, uint8_t dev, uint8_t fn, uint16_t vendor,
			   uint16_t device, uint8_t header_type);
int pcim_index(const struct pcim_func *f);
void pcim_set_bar(struct pcim_func *f, unsigned i, uint64_t size, bool io, bool is64, bool pref);
/* Add a vendor capability at pos (linked after the last one added). */
void pcim_add_cap(struct pcim_func *f, uint8_t pos, uint8_t id, uint8_t len);
/* A virtio-pci modern device (virtio id) with its capabilities at 0x40.. in BAR4. */
struct pcim_func *pcim_add_virtio(uint8_t dev, uint32_t virtio_id, uint16_t numq);
/* A transitional device with the legacy interface only: I/O BAR0 of 32 bytes. */
struct pcim_func *pcim_add_virtio_legacy(uint8_t dev, uint32_t virtio_id, uint16_t numq);
/*
 * An MSI-X capability at pos with n vectors (at most PCIM_MSIX_MAX), its
 * table at table_off and pending bits at pba_off of BAR PCIM_MSIX_BAR
 * (made a 4 KiB memory BAR); bir_table / bir_pba name the BARs in the
 * capability (a test may lie there). Every vector is accepted.
 */
void pcim_add_msix(struct pcim_func *f, uint8_t pos, unsigned n, uint32_t table_off,
		   unsigned bir_table, uint32_t pba_off, unsigned bir_pba);
/* Whether the function has MSI-X enabled (Message Control bit 15). */
bool pcim_msix_enabled(const struct pcim_func *f);
/* The bus number the function answers on now (its bridges' secondary bus numbers). */
int pcim_bus(const struct pcim_func *f);
uint16_t pcim_cfg16(const struct pcim_func *f, unsigned off);
uint32_t pcim_cfg32(const struct pcim_func *f, unsigned off);
void pcim_put8(struct pcim_func *f, unsigned off, uint8_t v);
void pcim_put16(struct pcim_func *f, unsigned off, uint16_t v);
void pcim_put32(struct pcim_func *f, unsigned off, uint32_t v);
/* The PCI address BAR i decodes at now (0: none). */
uint64_t pcim_bar_addr(const struct pcim_func *f, unsigned i);
/*
 * Pull f out without warning (a surprise removal): its configuration
 * space reads all ones, and so does every window address no BAR decodes
 * any more, as QEMU's generic host answers them, counted instead of
 * reported as an error.
 */
void pcim_unplug(struct pcim_func *f);
/* Accesses to window addresses nobody decodes since pcim_unplug. */
unsigned pcim_stray_accesses(void);

/*
 * A PCI Express hot-plug slot on bridge port, modelled on QEMU 7.2's
 * pcie-root-port (hw/pci/pcie.c): a PCI Express capability at 0x40 with
 * Slot Implemented, an attention button, a power controller, hot-plug
 * capable, link active reporting. present: a function sits there (added
 * by the test behind port), powered and linked, else the slot is off.
 * Slot Status events are RW1C; a Slot Control write that turns the power
 * and its indicator off with a function present detaches it (used false),
 * clears Presence Detect State and Link Active and sets Presence Detect
 * Changed, as QEMU does.
 */
void pcim_slot_init(struct pcim_func *port, bool present);
/* Press the attention button (QEMU's device_del). */
void pcim_slot_button(struct pcim_func *port);
/* A function was put behind port (pcim_add): presence, link, PDC and ABP (QEMU's device_add). */
void pcim_slot_inserted(struct pcim_func *port);
/* Pull what sits behind port without asking (a surprise removal). */
void pcim_slot_yank(struct pcim_func *port);

#endif
