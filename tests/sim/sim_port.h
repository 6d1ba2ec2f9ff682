/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The port the host tests hand to vio_init: the port contract
 * (include/vio/port.h) implemented for the simulator, with no threads.
 *
 * - DMA memory comes from a pool low in the address space (a legacy device
 *   takes a 32-bit page number), poisoned for AddressSanitizer outside the
 *   live blocks. Blocks are tracked, so a test can check that everything
 *   allocated was given back with the same size, and the simulator can
 *   check that rings lie inside DMA memory.
 * - virt_to_dma is the identity.
 * - cache_clean and cache_invalidate are NULL (a coherent platform), except
 *   in the non-coherent ports of sim_cache.h, which model a CPU cache.
 * - The clock is fake. It advances by sim_time_tick_ns at every time_ns
 *   call (and, when sim_step_in_time is set, the simulated devices run: the
 *   device works while the CPU spins) and by a whole wait when an
 *   event_wait finds nothing to do, so timeouts are reached at once.
 * - irq_attach records the handler (msi_attach too, on lines of its
 *   own); the simulator "raises a line" by calling it, unless the OS lock is held, in which case the interrupt is
 *   delivered at unlock, as an interrupt controller would. irq_mask stops
 *   a line for good (until it is attached again).
 * - event_wait runs the simulated devices (which may raise an interrupt,
 *   whose handler signals the event) before it blocks: blocking calls
 *   complete deterministically.
 */
#ifndef VIO_SIM_PORT_H
#define VIO_SIM_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vio/port.h>

/* The port with interrupts (irq_attach set) and the one without (polled). */
const struct vio_port *sim_port(void);
const struct vio_port *sim_port_polled(void);
const struct vio_os *sim_os(void);

/*
 * Free all DMA memory and events, detach every interrupt, reset the clock
 * and every knob below to its default, clear the log.
 */
void sim_port_reset(void);

/* DMA */
unsigned sim_dma_live(void);             /* allocations not freed */
size_t sim_dma_live_bytes(void);
unsigned sim_dma_allocs(void);           /* allocations made since the reset */
bool sim_dma_owns(const void *p, size_t len); /* [p, p+len) inside one live allocation */
/*
 * [p, p+len) is memory a descriptor may name: inside one live allocation
 * when it touches the DMA pool, else memory AddressSanitizer has not
 * poisoned (a test's or an application's buffer).
 */
bool sim_dma_reachable(const void *p, size_t len);
extern int sim_dma_fail_after;           /* knob: allocations that succeed before all
					  * fail; -1 (default) never fail */

/* Clock */
uint64_t sim_now(void);
void sim_advance(uint64_t ns);
extern uint64_t sim_time_tick_ns;        /* knob: per time_ns call (default 1 us) */
extern uint64_t sim_idle_ns;             /* knob: an empty wait lasts at most this (1 ms) */
extern bool sim_step_in_time;            /* knob: time_ns runs the devices (default true) */

/* Interrupts */
void sim_irq_line(int irq);              /* the simulator raises line irq */
bool sim_irq_attached(int irq);
unsigned sim_irqs_delivered(void);
bool sim_irq_masked(int irq);            /* the library masked it (port irq_mask) */
/*
 * The line stays high (a device that keeps interrupting): deliver it back
 * to back until the library masks it, at most max times. Returns the
 * deliveries.
 */
unsigned sim_irq_storm(int irq, unsigned max);
extern int sim_irq_attach_result;        /* knob: what irq_attach returns (default 0) */
/*
 * MSIs (sim_port() only): msi_attach hands out lines SIM_MSI_BASE + n,
 * message data SIM_MSI_BASE + n at SIM_MSI_ADDR; sim_irq_line raises them.
 */
#define SIM_MSI_BASE 48
#define SIM_MSI_MAX 16
#define SIM_MSI_ADDR 0xfee00000u
extern int sim_msi_limit;                /* knob: MSIs the port has (default SIM_MSI_MAX) */

/* Waiting */
extern unsigned sim_waits;               /* event_wait calls since the reset */
extern unsigned sim_wait_timeouts;       /* ... that returned VIO_ETIMEDOUT */
extern unsigned sim_runs;                /* times the devices ran while the CPU waited */
/*
 * Called each time the devices are about to run while the CPU waits (in
 * event_wait, or in time_ns when sim_step_in_time), with sim_runs: a test
 * scripts what a device does during a blocking call here.
 */
extern void (*sim_on_run)(unsigned nrun);

/* Log */
bool sim_log_contains(const char *needle);
unsigned sim_log_count(enum vio_log_level level);
extern bool sim_log_print;               /* knob: echo log lines to stderr (default true) */

#endif
