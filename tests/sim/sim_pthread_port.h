/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A test port on POSIX threads: vio's port contract (include/vio/port.h)
 * for a simulated device that runs in a thread of its own, as hardware runs
 * beside the CPU. The deterministic port (sim_port.h) proves what the
 * library does; this one proves that it holds when several threads, the
 * device and its interrupt really run at once (under ThreadSanitizer in
 * the host-tsan build).
 *
 * What it models:
 *
 * - The device. One device thread plays every simulated device: it sleeps
 *   until a queue notification (QueueNotify), a raised line or a stop, then
 *   runs sim_step_all under the simulator's lock and goes on while steps
 *   complete chains. Requests are served in the device thread, which writes
 *   the caller's buffers there; ring memory is shared with the CPU threads
 *   without a lock, as DMA is (sim.h: ring fields are atomic).
 * - The simulator's lock. The simulator is single-threaded code; every
 *   entry into it takes one mutex: the library's register accesses, the
 *   device thread's steps, and a test that touches a device
 *   (sim_thread_lock). The library's threads and the device thread never
 *   hold it while they take the port's lock, so the lock order is always
 *   vio_lock, then the simulator's.
 * - Interrupts. irq_attach records the handler; a line raised by the
 *   device (sim_raise) is delivered by the device thread after it dropped
 *   the simulator's lock, by calling the handler there, as an interrupt
 *   runs on whatever the CPU was doing. Interrupt context is a property of
 *   that call: inside it, logging, waiting, allocating, taking the sleeping
 *   mutex and any register access but reading InterruptStatus and writing
 *   InterruptACK are driver errors (sim_error). irq_mask stops a line.
 * - The interrupt-safe lock (os->lock). A mutex, as a spin lock on a
 *   multi-core RTOS: a handler that wants it while a task holds it waits.
 *   It is not recursive: taking it twice in one thread is a library bug and
 *   aborts. Waiting (event_wait, mutex_lock) or logging with it held is a
 *   driver error.
 * - Events: a flag under a mutex and a condition variable; a signal before
 *   the wait is kept (a binary semaphore). Timeouts run on the real
 *   monotonic clock (CLOCK_MONOTONIC), which is also time_ns.
 * - The sleeping mutex hooks (mutex_create / lock / unlock / destroy):
 *   pthread mutexes.
 * - DMA memory: the deterministic port's pool (sim_port.h), taken under
 *   the simulator's lock, so the simulator's checks that rings lie in DMA
 *   memory hold; virt_to_dma is the identity; coherent (no cache hooks).
 * - The log: kept (the last lines, searchable) and printed to stderr from
 *   VIO_LOG_WARN up.
 *
 * Use: sim_reset_all and sim_port_reset (test_run does both), create the
 * simulated devices, sim_thread_start, vio_init(sim_thread_port(),
 * sim_thread_os()), add the devices, run; then sim_thread_stop before the
 * case ends. Between start and stop a test reads or changes a simulated
 * device only inside sim_thread_lock / sim_thread_unlock, and never calls
 * the library in between (its register accesses take the same lock).
 */
#ifndef VIO_SIM_PTHREAD_PORT_H
#define VIO_SIM_PTHREAD_PORT_H

#include <stdbool.h>

#include <vio/port.h>

const struct vio_port *sim_thread_port(void);
const struct vio_os *sim_thread_os(void);

/* Start the device thread and route the simulator through this port. */
void sim_thread_start(void);

/*
 * Stop and join the device thread, restore the simulator to no threads,
 * free every event and mutex the library created, detach the interrupts.
 */
void sim_thread_stop(void);

/* The simulator's lock, for a test that reads or changes a device meanwhile. */
void sim_thread_lock(void);
void sim_thread_unlock(void);

/* Interrupts delivered (handlers called) since sim_thread_start. */
unsigned sim_thread_irqs(void);

/* Log lines (of the last 1024) that contain needle. Any thread. */
unsigned sim_thread_log_count(const char *needle);

#endif
