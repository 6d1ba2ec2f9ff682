/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-rng (entropy device, VirtIO 1.2 section 5.4): one request queue;
 * the device fills device-writable buffers with random bytes.
 */
#ifndef VIO_RNG_H
#define VIO_RNG_H

#include <stddef.h>
#include <stdint.h>

#include "device.h"

/* The driver, for vio_driver_register. */
extern const struct vio_driver vio_rng_driver;

/* Run-time parameters (vio_driver_register's params; NULL: defaults). */
struct vio_rng_params {
	/*
	 * A request the device holds this long (ms) is never coming back: the
	 * device is failed and reset. Default CONFIG_VIO_TIMEOUT_MS.
	 */
	uint32_t timeout_ms;
};

/*
 * Fill buf with len random bytes, waiting up to timeout_ns. Returns len,
 * VIO_ETIMEDOUT (the bytes gathered so far are in buf; the request stays
 * with the device for a later read, unless the device has held it for its
 * timeout_ms: then it is failed and reset, and vio_dev_recover brings it
 * back), VIO_ENODEV (dev is not a live rng),
 * VIO_EPROTO / VIO_ESHUTDOWN (the device failed).
 * Task context; one caller per device at a time.
 */
int vio_rng_read(struct vio_device *dev, void *buf, size_t len, uint64_t timeout_ns);

/*
 * Copy out up to len random bytes the device has already delivered, without
 * waiting, and ask it for more. Returns the count (> 0), VIO_EAGAIN when
 * none is ready yet, or an error as above. Task context.
 */
int vio_rng_read_nonblock(struct vio_device *dev, void *buf, size_t len);

#endif
