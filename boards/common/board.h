/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a board gives the programs (apps/, tests/qemu/) and the bare-metal
 * port (ports/baremetal/). Each board folder implements all of it; nothing
 * here names an address: everything comes from the device tree the firmware
 * was handed.
 */
#ifndef VIO_BOARD_H
#define VIO_BOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BOARD_MAX_VIRTIO 32

struct board_virtio {
	uintptr_t base; /* register block */
	uint32_t size;  /* bytes of register space */
	int irq;        /* the board's interrupt number (PLIC source / GIC INTID), -1 none */
	int slot;       /* position in ascending address order, from 0 */
};

struct board_info {
	const char *name;      /* "qemu-virt-riscv64", ... */
	uintptr_t ram_base;
	uint64_t ram_size;
	uintptr_t dtb;         /* where the device tree was (it may be overwritten later) */
	unsigned nvirtio;
	struct board_virtio virtio[BOARD_MAX_VIRTIO]; /* sorted by address */
};

/*
 * Called by the start-up code before main (C environment ready, interrupts
 * masked): parse the device tree, bring up the console (stdin/stdout through
 * picolibc), the interrupt controller, the timer and the DMA pool, then
 * unmask interrupts. On a broken device tree it prints why and exits QEMU
 * with a failure status.
 */
void board_init(uintptr_t dtb);

const struct board_info *board_info(void);

/* Exit QEMU with status code (0 pass). Never returns. */
void board_exit(int code) __attribute__((noreturn));

/* Monotonic time since boot, nanoseconds. Any context. */
uint64_t board_time_ns(void);

/* Mask / restore this CPU's interrupts; returns the previous state. */
uintptr_t board_irq_save(void);
void board_irq_restore(uintptr_t state);

/*
 * With interrupts masked by the caller: sleep until an interrupt is pending
 * or board_time_ns() reaches deadline_ns (a timer interrupt is armed for
 * it). Returns with interrupts still masked; the caller restores them, and
 * the pending handler then runs.
 */
void board_idle_until(uint64_t deadline_ns);

/*
 * Route interrupt irq to handler(arg) and enable it (level-triggered, to
 * this CPU). A device line may be shared (PCI INTx): a second handler is
 * added to the line, and every handler of a line runs on each interrupt.
 * Returns 0, or -22 (VIO_EINVAL) for a bad number or when no more
 * handlers can share (irq_share.h).
 */
int board_irq_attach(int irq, void (*handler)(void *arg), void *arg);
/* Remove the handler attached to irq with arg; the last one disables the line. */
void board_irq_detach(int irq, void *arg);
/*
 * Stop irq from being delivered, its handlers kept: for a device that
 * holds its line up with nothing to report. Attaching the line again after
 * its last handler was detached enables it. Any context, its own handler
 * included.
 */
void board_irq_mask(int irq);

/*
 * A message-signalled interrupt (PCI MSI-X) routed to handler(arg) (arg
 * not NULL), edge-triggered, to this CPU: a device raises it by writing
 * *data (32 bits) to *addr. Returns a handle (>= 0) for board_msi_detach,
 * -28 when all are taken, or -95 (VIO_ENOTSUP) on a board or interrupt
 * controller without MSIs (then PCI devices use INTx). Task context.
 */
int board_msi_attach(void (*handler)(void *arg), void *arg, uint64_t *addr, uint32_t *data);
void board_msi_detach(int handle);

/*
 * The highest CPU address the board's memory map reaches (an MMU's
 * identity map may end below the physical address space). Any context.
 */
uint64_t board_addr_limit(void);

/*
 * The PCI functions of the device tree's ECAM host bridge, set up on the
 * first call (boards/common/board_pci.c): buses numbered, BARs assigned
 * from the bridge's windows, decoding and bus mastering on, INTx routed by
 * the interrupt-map. Bridges are not listed. *funcs and *n are the table
 * (n 0 without a host bridge). Returns 0, or a negative FDT_E... code for
 * a host bridge node that cannot be used. Task context, start-up.
 */
struct vio_pci_func;
int board_pci_functions(const struct vio_pci_func **funcs, unsigned *n);

/*
 * PCI Express native hot-plug (boards/common/pci_hotplug.c, docs/pci.md):
 * the hot-plug capable ports of the root bus (QEMU's pcie-root-port)
 * found by board_pci_functions are polled for slot events. An unplug
 * request (the slot's attention button, QEMU's device_del) calls removing
 * (present true) for each function below the port while it still
 * answers, then powers the slot off, which lets it go; a function that
 * vanished without a request gets removing with present false. A function
 * put in an empty slot (device_add) has its slot powered on, the link
 * awaited, its BARs assigned from the port's windows, and added called.
 * Either way the board's table (board_pci_functions) follows. Returns how
 * many slot events were handled. The callbacks run in the caller's
 * thread; f is valid during the call only. Task context (the
 * application's service loop), one thread; it may wait up to a second
 * for a slot just powered on.
 */
struct board_pci_hotplug {
	void (*removing)(const struct vio_pci_func *f, bool present, void *arg);
	void (*added)(const struct vio_pci_func *f, void *arg);
	void *arg;
};
unsigned board_pci_hotplug_poll(const struct board_pci_hotplug *cb);

/*
 * The slot number a PCI function gets in the device table: above every
 * virtio-mmio slot, 256 + bus << 8 | device << 3 | function.
 */
#define BOARD_PCI_SLOT_BASE 256

/* The memory left for the DMA pool: from the end of the image to the end of RAM,
 * less the device tree. */
void board_dma_region(uintptr_t *start, size_t *size);

/* Console: write bytes; read one byte without waiting (-1 when none). */
void board_console_write(const char *buf, size_t len);
int board_console_getc(void);

/*
 * stdin and stdout (picolibc) go to the UART unless a program hands them
 * to other hooks (NULL: the UART again). Output reaches write with "\n"
 * already turned into "\r\n"; flush runs on fflush and before stdin
 * waits; get_byte returns a byte or -1 without waiting. Task context.
 */
struct board_stdio {
	void (*write)(const char *buf, size_t len);
	void (*flush)(void);
	int (*get_byte)(void);
};
void board_stdio_set(const struct board_stdio *io);

/*
 * What runs while stdin waits for a byte (NULL: nothing): a program's
 * main-loop work, such as vio_service for devices nobody waits on. It runs
 * between looks at the input, each followed by a nap of a millisecond.
 * Task context.
 */
void board_stdio_idle(void (*idle)(void));

/*
 * A second source stdin reads from (NULL: none), looked at after the
 * console each time stdin polls: get_byte returns a byte or -1 without
 * waiting, like board_stdio's. The shell's virtio keyboard. Task context.
 */
void board_stdio_extra_input(int (*get_byte)(void));

/*
 * The fault handlers' report goes to the UART and to sink (NULL: none),
 * which runs in the fault handler with interrupts masked: it may touch no
 * lock and no ring (a virtio-console's emergency write). board_fault_write
 * is what the handlers write with. Any context.
 */
void board_set_fault_sink(void (*sink)(const char *buf, size_t len));
void board_fault_write(const char *buf, size_t len);

#endif
