/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Library-internal logging through the port's log hook. Formats with a
 * small freestanding formatter: %s %c %d %i %u %x %X %p %% with the flags
 * '0', '-' and '#', a width, and the length modifiers l, ll and z.
 */
#ifndef VIO_CORE_LOG_H
#define VIO_CORE_LOG_H

#include <stdarg.h>
#include <stddef.h>

#include <vio/port.h>

#include "vio_config.h"

int vio_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int vio_snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Log a line through the port set by vio_init (dropped before it). Task context. */
void vio_log(enum vio_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define VIO_LOG_IF(level, ...)                           \
	do {                                             \
		if ((level) <= CONFIG_VIO_LOG_LEVEL)     \
			vio_log((level), __VA_ARGS__);   \
	} while (0)

#define vio_err(...) VIO_LOG_IF(VIO_LOG_ERR, __VA_ARGS__)
#define vio_warn(...) VIO_LOG_IF(VIO_LOG_WARN, __VA_ARGS__)
#define vio_info(...) VIO_LOG_IF(VIO_LOG_INFO, __VA_ARGS__)
#define vio_dbg(...) VIO_LOG_IF(VIO_LOG_DEBUG, __VA_ARGS__)

#endif
