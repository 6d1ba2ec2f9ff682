/* SPDX-License-Identifier: Apache-2.0 */
/* Start-up shared by the firmwares: the bare-metal port, the drivers, the devices. */
#include <stddef.h>
#include <stdio.h>

#include <vio/device.h>
#include <vio/error.h>
#include <vio/mmio.h>
#include <vio/pci.h>

#include "vio_config.h"
/* The library links without it; these firmwares reach every device through it. */
#if !CONFIG_VIO_TRANSPORT_MMIO
#error "the firmwares need CONFIG_VIO_TRANSPORT_MMIO: the boards' devices are virtio-mmio nodes"
#endif
#if CONFIG_VIO_DRIVER_RNG
#include <vio/rng.h>
#endif
#if CONFIG_VIO_DRIVER_BLK
#include <vio/blk.h>
#endif
#if CONFIG_VIO_DRIVER_NET
#include <vio/net.h>
#endif
#if CONFIG_VIO_DRIVER_CONSOLE
#include <vio/console.h>
#endif
#if CONFIG_VIO_DRIVER_GPU
#include <vio/gpu.h>
#endif

#if CONFIG_VIO_DRIVER_INPUT
#include <vio/input.h>
#endif

#include "app.h"
#include "board.h"
#include "fdt.h"
#include "vio_baremetal.h"

/* Every driver this build enables; each is offered to the devices added after it. */
static const struct vio_driver *const drivers[] = {
#if CONFIG_VIO_DRIVER_RNG
	&vio_rng_driver,
#endif
#if CONFIG_VIO_DRIVER_BLK
	&vio_blk_driver,
#endif
#if CONFIG_VIO_DRIVER_NET
	&vio_net_driver,
#endif
#if CONFIG_VIO_DRIVER_CONSOLE
	&vio_console_driver,
#endif
#if CONFIG_VIO_DRIVER_INPUT
	&vio_input_driver,
#endif
#if CONFIG_VIO_DRIVER_GPU
	&vio_gpu_driver,
#endif
	NULL,
};

#if CONFIG_VIO_TRANSPORT_PCI
/* The device-table entry of the PCI function f, or NULL. */
static struct vio_device *pci_device(const struct vio_pci_func *f)
{
	int slot = BOARD_PCI_SLOT_BASE + (int)vio_pci_bdf(f);

	for (unsigned i = 0; i < vio_dev_count(); i++)
		if (vio_dev_at(i)->slot == slot)
			return vio_dev_at(i);
	return NULL;
}

/* An unplug: the device core ends what is in flight before the slot loses power. */
static void pci_removing(const struct vio_pci_func *f, bool present, void *arg)
{
	struct vio_device *dev = pci_device(f);

	(void)arg;
	if (dev)
		vio_dev_remove(dev, present);
}

/* A plug: the device that was there comes back under its name, a new slot is added. */
static void pci_added(const struct vio_pci_func *f, void *arg)
{
	struct vio_device *dev = pci_device(f);
	struct vio_transport t;
	int err;

	(void)arg;
	if (!dev) {
		(void)vio_pci_add(f, BOARD_PCI_SLOT_BASE + (int)vio_pci_bdf(f), NULL);
		return;
	}
	err = vio_pci_identify(&t, f);
	if (err || t.device_id == 0) {
		printf("pci %02x:%02x.%x: no virtio device plugged in\n", f->bus, f->dev, f->fn);
		return;
	}
	err = vio_dev_replug(dev, &t);
	if (err == VIO_EINVAL) {
		/* Another device type where dev was: its entry stays removed. */
		printf("pci %02x:%02x.%x: a %s device where %s was; not taken\n", f->bus, f->dev,
		       f->fn, vio_dev_type_name(t.device_id), dev->name);
		if (t.ops->release)
			t.ops->release(&t);
	} else if (err) {
		printf("%s: not recovered after the plug: %s\n", dev->name, vio_strerror(err));
	}
}

static const struct board_pci_hotplug hotplug = { pci_removing, pci_added, NULL };
#endif

unsigned app_pci_hotplug_poll(void)
{
#if CONFIG_VIO_TRANSPORT_PCI
	return board_pci_hotplug_poll(&hotplug);
#else
	return 0;
#endif
}

/*
 * While stdin waits: the work of devices nobody waits on (a console's
 * control messages), and the PCI slots' events.
 */
static void service(void)
{
	(void)app_pci_hotplug_poll();
	vio_service();
}

int app_vio_start(void)
{
	const struct board_info *b = board_info();
	int err;

	vio_baremetal_init();
	err = vio_init(vio_baremetal_port(), vio_baremetal_os());
	if (err) {
		printf("vio_init: %s\n", vio_strerror(err));
		return err;
	}
	for (unsigned i = 0; drivers[i]; i++) {
		err = vio_driver_register(drivers[i], NULL);
		if (err)
			printf("vio: cannot register driver %s: %s\n", drivers[i]->name,
			       vio_strerror(err));
	}
	for (unsigned i = 0; i < b->nvirtio; i++) {
		/*
		 * An empty slot is VIO_ENODEV and not added. Any other error leaves
		 * the device in the table, refused or failed, with the reason in
		 * dev->error; the library has logged it already.
		 */
		(void)vio_mmio_add(b->virtio[i].base, b->virtio[i].irq, b->virtio[i].slot, NULL);
	}
#if CONFIG_VIO_TRANSPORT_PCI
	{
		const struct vio_pci_func *pci;
		unsigned npci;

		err = board_pci_functions(&pci, &npci);
		if (err)
			printf("board: PCI host bridge: %s\n", fdt_strerror(err));
		/* Functions that are no virtio device are VIO_ENODEV and not added. */
		for (unsigned i = 0; i < npci; i++)
			(void)vio_pci_add(&pci[i], BOARD_PCI_SLOT_BASE + (int)vio_pci_bdf(&pci[i]),
					  NULL);
	}
#endif
	app_console_start();
	board_stdio_idle(service);
	return (int)vio_dev_count();
}
