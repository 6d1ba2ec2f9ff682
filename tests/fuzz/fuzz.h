/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The libFuzzer targets' common part: the fuzz input is a script, read as
 * a byte stream. A target takes a few header bytes (interface version,
 * features, config space), brings a simulated device up through the real
 * probe path, then runs a loop of one-byte opcodes: opcodes below
 * FZ_DEV_OPS are device actions (fz_device_op: run the device, raise an
 * interrupt with any status, set NEEDS_RESET, change the config, push a
 * used entry with any id, length and index step, turn a misbehaviour knob
 * of struct sim_dev), the others are the target's driver API calls.
 *
 * Every chain the device serves goes through the hostile model
 * (fz_hostile): the stream decides whether the real model of the device
 * type answers it, or the chain is held, or its writable bytes are filled
 * with fuzz bytes and any length up to the writable space is reported
 * (lengths beyond it come from the SIM_EVIL_LEN knob and sim_used_push).
 * Every config write may be followed by fuzz bytes in config space (the
 * input device's select/subsel answers, the blk writeback byte, ...).
 *
 * When the stream runs out every read gives 0: the device turns honest
 * (the real model answers), so every blocking call ends.
 */
#ifndef VIO_FUZZ_H
#define VIO_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sim_dev;
struct vio_device;

/* What each target defines: libFuzzer calls it with every input. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The stream. Reads past its end give zeros. */
void fz_start(const uint8_t *data, size_t size);
bool fz_more(void);
uint8_t fz_u8(void);
uint16_t fz_u16(void);
uint32_t fz_u32(void);
uint64_t fz_u64(void);
void fz_bytes(void *dst, size_t n);

/*
 * A fresh simulator, port and library (vio_init) for one input; the
 * simulator's and the port's chatter off. mode, a byte from the stream:
 * bit 0 the port without interrupts; bits 1 and 2 both set, the port
 * without cache coherency (cache maintenance hooks, sim_cache.h). Returns
 * the port.
 */
struct vio_port;
const struct vio_port *fz_begin(uint8_t mode);
/* Drop everything (devices, DMA memory, events) after an input. */
void fz_end(void);

/*
 * Register every driver the library has, with small queues, a dozen
 * receive buffers and 5 ms timeouts: for the targets that let the device
 * say what it is (fuzz_transport, fuzz_pci).
 */
void fz_register_all(void);

/*
 * Create device id in slot 0: interface version from the stream (legacy,
 * modern, or modern with packed rings offered).
 */
struct sim_dev *fz_dev_new(uint32_t device_id);
/*
 * Put the hostile model in front of d's model (attach the real model
 * first). Reads from the stream which features to drop from what the
 * model offers and which config bytes to overwrite before the probe.
 */
void fz_hostile(struct sim_dev *d);
/* vio_mmio_add for d; the device or NULL. */
struct vio_device *fz_add(struct sim_dev *d);

/* Opcodes below this are device actions. */
#define FZ_DEV_OPS 16
/* One device action (op < FZ_DEV_OPS), its operands from the stream. */
void fz_device_op(struct sim_dev *d, uint8_t op);

/*
 * The script loop: up to max_ops opcodes; device actions are done here,
 * the others go to api(dev, op - FZ_DEV_OPS).
 */
void fz_run(struct sim_dev *d, struct vio_device *dev, unsigned max_ops,
	    void (*api)(struct vio_device *dev, uint8_t op));

/* A timeout for blocking calls from the stream: 0 to a few fake milliseconds. */
uint64_t fz_timeout(void);

#endif
