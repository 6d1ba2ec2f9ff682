/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-mmio transport (VirtIO 1.2 section 4.2): version 2 (modern) and the
 * legacy version 1 in one build, chosen per device from the Version register.
 */
#ifndef VIO_MMIO_H
#define VIO_MMIO_H

#include <stdint.h>

#include "device.h"
#include "transport.h"

/* The virtio-mmio transport's operations (versions 1 and 2). */
extern const struct vio_transport_ops vio_mmio_ops;

/*
 * Identify the device at base and fill t for vio_dev_add: check
 * MagicValue, read Version and DeviceID and, for a slot that holds a
 * device, VendorID (4.2.3.1.1: a slot with DeviceID 0 gets no other
 * access). irq is the device's interrupt line (-1 for none). Returns 0
 * (t->device_id is 0 for an empty slot; t->unsupported for a version this
 * transport does not know) or VIO_ENODEV on a wrong magic value. Task
 * context.
 */
int vio_mmio_identify(struct vio_transport *t, uintptr_t base, int irq);

/*
 * Identify the virtio-mmio device at base and add it (vio_dev_add) with
 * interrupt line irq (-1 for none) and the board's slot number. Returns
 * what vio_dev_add returns; VIO_ENODEV for a wrong magic value (logged) or
 * an empty slot. Task context, start-up.
 */
int vio_mmio_add(uintptr_t base, int irq, int slot, struct vio_device **out);

#endif
