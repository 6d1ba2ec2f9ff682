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

/*
 * Use the first virtio-console (if any; app_vio_start calls it): fault
 * reports also go out through its emergency write when it has one, and
 * with CONFIG_VIO_APP_STDIO_CONSOLE stdin and stdout move to its port 0.
 */
void app_console_start(void);

#endif
