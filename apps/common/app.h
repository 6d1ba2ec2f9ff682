/* SPDX-License-Identifier: Apache-2.0 */
/* Start-up shared by the firmwares in apps/ and tests/qemu/. */
#ifndef VIO_APP_H
#define VIO_APP_H

/*
 * Initialize vio with the bare-metal port, register every driver the build
 * enables, and add every virtio-mmio device the board found (the device
 * table then lists them). Returns the number of devices added.
 */
int app_vio_start(void);

#endif
