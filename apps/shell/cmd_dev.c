/* SPDX-License-Identifier: Apache-2.0 */
/* Device commands: list_device, reset_device. */
#include <stdio.h>
#include <string.h>

#include <vio/device.h>
#include <vio/error.h>

#include "shell.h"


static void print_state(const struct vio_device *dev)
{
	if (__atomic_load_n(&dev->gone, __ATOMIC_ACQUIRE)) {
		printf("removed (unplugged)\n");
		return;
	}
	switch (vio_dev_state(dev)) {
	case VIO_DEV_READY:
		printf("ready\n");
		break;
	case VIO_DEV_NO_DRIVER:
		printf("no driver\n");
		break;
	case VIO_DEV_REFUSED:
		printf("refused: %s\n", vio_strerror(dev->error));
		break;
	case VIO_DEV_FAILED:
		printf("failed: %s\n", vio_strerror(dev->error));
		break;
	default:
		printf("empty\n");
		break;
	}
}

/* The negotiated features by name, wrapped on indented lines. */
static void print_features(const struct vio_device *dev)
{
	static const char head[] = "     features:";

	if (!dev->negotiated) {
		/* Nothing negotiated (no driver, refused): what it offered, as a hint. */
		if (dev->offered)
			printf("%s none (offered %#llx)\n", head, (unsigned long long)dev->offered);
		else
			printf("%s none\n", head);
		return;
	}
	shell_print_features(dev, head);
}

/* Where the device is and how it interrupts, on an indented line. */
static void print_transport(const struct vio_device *dev)
{
	const char *irq = vio_dev_uses_irq(dev) ? "interrupt" : "polled";
	uint32_t a = dev->t.bus_addr;

	if (strcmp(dev->t.ops->name, "virtio-pci") == 0) {
		/* bus_addr is bus << 8 | device << 3 | function */
		static const char *const mode[] = {
			[VIO_IRQ_MODE_POLLED] = "polled",
			[VIO_IRQ_MODE_LINE] = "INTx",
			[VIO_IRQ_MODE_MSIX_SHARED] = "MSI-X shared",
			[VIO_IRQ_MODE_MSIX] = "MSI-X per-queue",
		};

		printf("     transport: pci %02x:%02x.%x, %s", (unsigned)(a >> 8),
		       (unsigned)(a >> 3 & 31), (unsigned)(a & 7), mode[vio_dev_irq_mode(dev)]);
		if (dev->nvectors)
			printf(" (%u vector%s)", (unsigned)dev->nvectors, dev->nvectors > 1 ? "s" : "");
		printf("\n");
	} else {
		printf("     transport: mmio %#lx, %s\n", (unsigned long)dev->t.base, irq);
	}
}

static int cmd_list_device(int argc, char **argv)
{
	unsigned n = vio_dev_count();

	(void)argc;
	(void)argv;
	if (!n) {
		printf("no virtio devices\n");
		return 0;
	}
	printf("slot name     type     iface   irq  state\n");
	for (unsigned i = 0; i < n; i++) {
		const struct vio_device *dev = vio_dev_at(i);

		printf("%4d %-8s %-8s %-7s %3d  ", dev->slot, dev->name,
		       vio_dev_type_name(dev->t.device_id), vio_dev_interface(dev), dev->irq);
		print_state(dev);
		print_features(dev);
		print_transport(dev);
	}
	return 0;
}

/*
 * Reset a device and set it up again (vio_dev_recover): one that failed
 * (a timeout, DEVICE_NEEDS_RESET, a protocol violation), or a ready one,
 * which is taken out of service first, as a failure would.
 */
static int cmd_reset_device(int argc, char **argv)
{
	struct vio_device *dev = NULL;
	int rc;

	if (argc != 2)
		return shell_usage("reset_device NAME");
	for (unsigned i = 0; i < vio_dev_count() && !dev; i++)
		if (!strcmp(vio_dev_at(i)->name, argv[1]))
			dev = vio_dev_at(i);
	if (!dev) {
		printf("reset_device: no device %s (list_device shows them)\n", argv[1]);
		return 1;
	}
	if (vio_dev_state(dev) == VIO_DEV_READY)
		vio_dev_fail(dev, VIO_ESHUTDOWN);
	rc = vio_dev_recover(dev);
	if (rc) {
		printf("reset_device: %s: %s\n", dev->name, vio_strerror(rc));
		return 1;
	}
	printf("%s: reset and ready\n", dev->name);
	return 0;
}

const struct shell_cmd shell_dev_cmds[] = {
	{ "list_device", "", "the device table: slot, type, interface, state, features",
	  cmd_list_device, NULL },
	{ "reset_device", "NAME", "reset a device (failed or ready) and set it up again",
	  cmd_reset_device, NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};
