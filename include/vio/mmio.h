/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-mmio transport (VirtIO 1.2 section 4.2): version 2 (modern) and the
 * legacy version 1 in one build, chosen per device from the Version register.
 */
#ifndef VIO_MMIO_H
#define VIO_MMIO_H

#include <stdint.h>
#include "transport.h"

extern const struct vio_transport_ops vio_mmio_ops;

/*
 * Identify the device at base: check MagicValue, read Version, DeviceID and
 * VendorID into t. Returns 0 (t->device_id is 0 for an empty slot),
 * VIO_ENODEV on a wrong magic value, VIO_ENOTSUP on an unknown version or an
 * interface the build leaves out (CONFIG_VIO_IFACE_*). Task context.
 */
int vio_mmio_identify(struct vio_transport *t, uintptr_t base);

#endif
