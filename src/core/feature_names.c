/* SPDX-License-Identifier: Apache-2.0 */
/* Names of device types and of the reserved feature bits, for logs and tables. */
#include <stddef.h>

#include <vio/device.h>
#include <vio/spec/virtio_config.h>

/* 6: reserved feature bits */
static const struct vio_feature_name ring_features[] = {
	{ VIRTIO_F_NOTIFY_ON_EMPTY, "NOTIFY_ON_EMPTY" },
	{ VIRTIO_F_ANY_LAYOUT, "ANY_LAYOUT" },
	{ VIRTIO_RING_F_INDIRECT_DESC, "RING_INDIRECT_DESC" },
	{ VIRTIO_RING_F_EVENT_IDX, "RING_EVENT_IDX" },
	{ VIRTIO_F_VERSION_1, "VERSION_1" },
	{ VIRTIO_F_ACCESS_PLATFORM, "ACCESS_PLATFORM" },
	{ VIRTIO_F_RING_PACKED, "RING_PACKED" },
	{ VIRTIO_F_IN_ORDER, "IN_ORDER" },
	{ VIRTIO_F_ORDER_PLATFORM, "ORDER_PLATFORM" },
	{ VIRTIO_F_SR_IOV, "SR_IOV" },
	{ VIRTIO_F_NOTIFICATION_DATA, "NOTIFICATION_DATA" },
	{ VIRTIO_F_NOTIF_CONFIG_DATA, "NOTIF_CONFIG_DATA" },
	{ VIRTIO_F_RING_RESET, "RING_RESET" },
	{ 0, NULL },
};

static const char *lookup(const struct vio_feature_name *table, unsigned bit)
{
	for (; table && table->name; table++)
		if (table->bit == bit)
			return table->name;
	return NULL;
}

const char *vio_dev_feature_name(const struct vio_device *dev, unsigned bit)
{
	const char *name = NULL;

	/* 6: bits 24..40 are the transport's and the ring's; the rest the device's */
	if (bit < 24 || bit > 40) {
		if (dev->driver)
			name = lookup(dev->driver->feature_names, bit);
	} else {
		name = lookup(ring_features, bit);
	}
	return name;
}

const char *vio_dev_type_name(uint32_t device_id)
{
	switch (device_id) {
	case VIRTIO_ID_NET: return "net";
	case VIRTIO_ID_BLOCK: return "blk";
	case VIRTIO_ID_CONSOLE: return "console";
	case VIRTIO_ID_RNG: return "rng";
	case VIRTIO_ID_BALLOON: return "balloon";
	case VIRTIO_ID_SCSI: return "scsi";
	case VIRTIO_ID_9P: return "9p";
	case VIRTIO_ID_GPU: return "gpu";
	case VIRTIO_ID_INPUT: return "input";
	case VIRTIO_ID_VSOCK: return "vsock";
	case VIRTIO_ID_CRYPTO: return "crypto";
	default: return "unknown";
	}
}
