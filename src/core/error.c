/* SPDX-License-Identifier: Apache-2.0 */
#include <vio/error.h>

const char *vio_strerror(int err)
{
	switch (err) {
	case VIO_OK: return "ok";
	case VIO_ENOENT: return "no such object on the device";
	case VIO_EIO: return "I/O error reported by the device";
	case VIO_ENXIO: return "no such unit on the device";
	case VIO_EAGAIN: return "nothing available yet";
	case VIO_ENOMEM: return "out of DMA memory";
	case VIO_EFAULT: return "buffer not reachable by the device";
	case VIO_EBUSY: return "resource busy";
	case VIO_ENODEV: return "no such device";
	case VIO_EINVAL: return "invalid argument";
	case VIO_ENOSPC: return "virtqueue full";
	case VIO_EROFS: return "read-only device";
	case VIO_ERANGE: return "out of range";
	case VIO_EPROTO: return "device broke the VirtIO protocol";
	case VIO_EMSGSIZE: return "message too long for the device";
	case VIO_ENOTSUP: return "not supported";
	case VIO_ENOBUFS: return "device out of memory";
	case VIO_ENOTCONN: return "not connected on the other side";
	case VIO_ETIMEDOUT: return "timed out";
	case VIO_ECANCELED: return "cancelled";
	case VIO_ESHUTDOWN: return "device failed";
	default: return err < 0 ? "unknown error" : "ok";
	}
}
