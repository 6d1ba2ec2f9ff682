/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Error codes. Every vio function that can fail returns int: 0 (or a count)
 * on success, one of these negative values otherwise. The values are the
 * negated POSIX errno numbers so they read naturally in a debugger.
 */
#ifndef VIO_ERROR_H
#define VIO_ERROR_H

/* The error codes (negative) and success (0). */
enum vio_err {
	VIO_OK = 0,           /* success */
	VIO_ENOENT = -2,      /* the device knows no such object (a GPU resource id) */
	VIO_EIO = -5,         /* the device reported an I/O error */
	VIO_ENXIO = -6,       /* no such unit on the device (a GPU scanout) */
	VIO_EAGAIN = -11,     /* nothing available now; try again */
	VIO_ENOMEM = -12,     /* the port's allocator ran out */
	VIO_EFAULT = -14,     /* a buffer the device cannot reach */
	VIO_EBUSY = -16,      /* the resource is in use */
	VIO_ENODEV = -19,     /* no such device, or no device in the slot */
	VIO_EINVAL = -22,     /* a bad argument from the caller */
	VIO_ENOSPC = -28,     /* the virtqueue has no free descriptors */
	VIO_EROFS = -30,      /* the medium is read-only */
	VIO_ERANGE = -34,     /* beyond the device's capacity or limits */
	VIO_EPROTO = -71,     /* the device broke the protocol; it is marked failed */
	VIO_EMSGSIZE = -90,   /* a frame or message larger than the device takes */
	VIO_ENOTSUP = -95,    /* the device or build does not support this */
	VIO_ENOBUFS = -105,   /* the device (the host side) ran out of memory */
	VIO_ENOTCONN = -107,  /* the other side has the port closed */
	VIO_ETIMEDOUT = -110, /* the device did not answer in time */
	VIO_ECANCELED = -125, /* dropped before the device took it (a queue reset) */
	VIO_ESHUTDOWN = -108, /* the device has failed and is out of service */
};

/*
 * A readable message for an error code (or "ok" for 0). Never NULL.
 * Any context.
 */
const char *vio_strerror(int err);

#endif
