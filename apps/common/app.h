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

/*
 * PCI hot-plug (board_pci_hotplug_poll): an unplugged virtio function is
 * removed from service (vio_dev_remove) before its slot loses power; one
 * plugged in again where it was comes back under the same device
 * (vio_dev_replug), a new one is added. Called from the firmwares' idle
 * loop; a program that streams I/O calls it from its own loop. Returns
 * the slot events handled. Task context, one thread.
 */
unsigned app_pci_hotplug_poll(void);

#endif
