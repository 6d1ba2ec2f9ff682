/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <vio/device.h>

#include "log.h"

struct out {
	char *buf;
	size_t size;
	size_t len; /* characters produced, even past size */
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_padded(struct out *o, const char *s, size_t n, unsigned width, bool left,
		       char pad)
{
	size_t fill = width > n ? width - n : 0;

	if (!left)
		while (fill--)
			put(o, pad);
	while (n--)
		put(o, *s++);
	if (left)
		while (fill--)
			put(o, ' ');
}

static void put_number(struct out *o, unsigned long long v, bool negative, unsigned base,
		       bool upper, bool alt, unsigned width, bool left, bool zero)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	char out[28];
	size_t n = 0, m = 0;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	if (negative)
		out[m++] = '-';
	if (alt && base == 16) {
		out[m++] = '0';
		out[m++] = upper ? 'X' : 'x';
	}
	if (zero && !left) {
		/* zero padding goes between the prefix and the digits */
		while (m + n < width && m + n < sizeof(out))
			out[m++] = '0';
	}
	while (n)
		out[m++] = tmp[--n];
	put_padded(o, out, m, width, left, ' ');
}

int vio_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };

	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			put(&o, *p);
			continue;
		}
		bool left = false, zero = false, alt = false;
		unsigned width = 0;
		int lng = 0;

		for (p++;; p++) {
			if (*p == '-')
				left = true;
			else if (*p == '0')
				zero = true;
			else if (*p == '#')
				alt = true;
			else
				break;
		}
		while (*p >= '0' && *p <= '9')
			width = width * 10 + (unsigned)(*p++ - '0');
		if (*p == 'z') {
			lng = 3;
			p++;
		} else {
			while (*p == 'l') {
				lng++;
				p++;
			}
		}
		unsigned long long u;
		long long s;
		switch (*p) {
		case 'd':
		case 'i':
			s = lng >= 2 ? va_arg(ap, long long)
			    : lng == 1 ? va_arg(ap, long)
			    : lng == 3 ? (long long)va_arg(ap, size_t)
				       : va_arg(ap, int);
			u = s < 0 ? 0ull - (unsigned long long)s : (unsigned long long)s;
			put_number(&o, u, s < 0, 10, false, false, width, left, zero);
			break;
		case 'u':
		case 'x':
		case 'X':
			u = lng >= 2 ? va_arg(ap, unsigned long long)
			    : lng == 1 ? va_arg(ap, unsigned long)
			    : lng == 3 ? va_arg(ap, size_t)
				       : va_arg(ap, unsigned int);
			put_number(&o, u, false, *p == 'u' ? 10 : 16, *p == 'X', alt, width, left, zero);
			break;
		case 'p':
			u = (uintptr_t)va_arg(ap, void *);
			put_number(&o, u, false, 16, false, true, width, left, zero);
			break;
		case 'c': {
			char c = (char)va_arg(ap, int);
			put_padded(&o, &c, 1, width, left, ' ');
			break;
		}
		case 's': {
			const char *str = va_arg(ap, const char *);
			if (!str)
				str = "(null)";
			put_padded(&o, str, strlen(str), width, left, ' ');
			break;
		}
		case '%':
			put(&o, '%');
			break;
		case '\0':
			p--; /* a lone '%' at the end */
			break;
		default:
			put(&o, '%');
			put(&o, *p);
			break;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int vio_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vio_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

void vio_log(enum vio_log_level level, const char *fmt, ...)
{
	const struct vio_port *port = vio_port();
	char line[256];
	va_list ap;

	if (!port || !port->log)
		return;
	va_start(ap, fmt);
	vio_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	port->log(port->ctx, level, line);
}
