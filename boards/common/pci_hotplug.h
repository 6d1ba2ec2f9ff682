/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PCI Express native hot-plug of the boards' root ports (PCI Express 4.0
 * section 6.7): a port's slot events read and cleared, its power switched,
 * the link awaited. What to do with the functions below it is the
 * caller's (board_pci.c). Task context; no interrupts (the slot is polled:
 * docs/pci.md says why), no locks.
 */
#ifndef VIO_BOARD_PCI_HOTPLUG_H
#define VIO_BOARD_PCI_HOTPLUG_H

#include <stdbool.h>
#include <stdint.h>

#include "pci.h"

/* A hot-plug capable port on the root bus. */
struct pci_hp_port {
	uint8_t dev;        /* its device number on the root bus (function 0) */
	uint8_t sec;        /* its secondary bus */
	unsigned exp;       /* its PCI Express capability */
	bool power_ctl;     /* the slot has a power controller */
	bool link_report;   /* the port reports Data Link Layer Link Active */
	bool in_use;        /* functions below it are handed on */
};

/* Ports the boards follow at most. */
#define PCI_HP_MAX_PORTS 8

/* Every hot-plug port of the root bus, with in_use set where the slot holds a function. */
unsigned pci_hp_find(const struct pci_host *h, struct pci_hp_port *ports, unsigned max);

enum pci_hp_action {
	PCI_HP_NONE,    /* nothing to do */
	PCI_HP_REMOVE,  /* the button was pressed on a slot in use: stop it, then power it off */
	PCI_HP_GONE,    /* the function left without asking: it no longer answers */
	PCI_HP_ADD,     /* a function is present in an unused slot: power it on and take it */
};

/*
 * Read the port's slot status, clear the events it shows (Attention Button
 * Pressed, Presence Detect Changed, Data Link Layer State Changed) and
 * say what they ask for.
 */
enum pci_hp_action pci_hp_poll(const struct pci_host *h, struct pci_hp_port *p);

/* Switch the slot's power and power indicator (6.7.1.8: off means both off). */
void pci_hp_power(const struct pci_host *h, const struct pci_hp_port *p, bool on);

/*
 * After power-on: wait for the link (Data Link Layer Link Active, where
 * reported), the 100 ms 6.6.1 asks before the first configuration
 * request, then for function 0 to answer (not all ones, not the 0x0001
 * of a Configuration Request Retry), at most timeout_ns in all. Returns 0
 * or -110 (VIO_ETIMEDOUT).
 */
int pci_hp_wait_ready(const struct pci_host *h, const struct pci_hp_port *p, uint64_t timeout_ns);

#endif
