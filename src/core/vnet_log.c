/*
 * Freestanding printf subset for the core's log lines (see vnet_log.h).
 * Kept deliberately small: logs are for humans debugging a device, not a
 * general formatter.
 */
#include "vnet_log.h"

#include <stdint.h>

#include "vnet/vnet_error.h"

struct vnet_out {
	char *buf;
	size_t size;
	size_t pos;
};

static void out_ch(struct vnet_out *o, char c)
{
	if (o->size && o->pos + 1 < o->size)
		o->buf[o->pos] = c;
	o->pos++;
}

static void out_num(struct vnet_out *o, uint64_t v, unsigned base, int upper, int neg, unsigned width, char pad)
{
	char tmp[24];
	unsigned n = 0;
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v && n < sizeof(tmp));
	unsigned len = n + (neg ? 1u : 0u);
	if (neg && pad == '0')
		out_ch(o, '-');
	while (width > len) {
		out_ch(o, pad);
		width--;
	}
	if (neg && pad != '0')
		out_ch(o, '-');
	while (n)
		out_ch(o, tmp[--n]);
}

size_t vnet_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct vnet_out o = {buf, size, 0};
	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			out_ch(&o, *p);
			continue;
		}
		p++;
		char pad = ' ';
		unsigned width = 0;
		int lng = 0, sz = 0;
		if (*p == '0') {
			pad = '0';
			p++;
		}
		while (*p >= '0' && *p <= '9')
			width = width * 10u + (unsigned)(*p++ - '0');
		while (*p == 'l') {
			lng++;
			p++;
		}
		if (*p == 'z') {
			sz = 1;
			p++;
		}
		switch (*p) {
		case 'd':
		case 'i': {
			int64_t v = sz ? (int64_t)va_arg(ap, long) : lng >= 2 ? va_arg(ap, long long)
			          : lng == 1 ? va_arg(ap, long) : va_arg(ap, int);
			uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
			out_num(&o, u, 10, 0, v < 0, width, pad);
			break;
		}
		case 'u':
		case 'x':
		case 'X': {
			uint64_t v = sz ? (uint64_t)va_arg(ap, size_t) : lng >= 2 ? va_arg(ap, unsigned long long)
			           : lng == 1 ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
			out_num(&o, v, *p == 'u' ? 10u : 16u, *p == 'X', 0, width, pad);
			break;
		}
		case 'p':
			out_ch(&o, '0');
			out_ch(&o, 'x');
			out_num(&o, (uint64_t)(uintptr_t)va_arg(ap, void *), 16, 0, 0, width, pad);
			break;
		case 'c':
			out_ch(&o, (char)va_arg(ap, int));
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			size_t len = 0;
			while (s[len])
				len++;
			while (width > len) {
				out_ch(&o, ' ');
				width--;
			}
			while (*s)
				out_ch(&o, *s++);
			break;
		}
		case '%':
			out_ch(&o, '%');
			break;
		case '\0':
			p--; /* lone '%' at the end: stop */
			break;
		default:
			out_ch(&o, '%');
			out_ch(&o, *p);
			break;
		}
	}
	if (size)
		buf[o.pos < size ? o.pos : size - 1] = '\0';
	return o.pos;
}

size_t vnet_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t n = vnet_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

void vnet_log(enum vnet_log_level level, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	vnet_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	vnet_hal_log(level, line);
}

const char *vnet_strerror(int err)
{
	switch (err) {
	case VNET_OK: return "success";
	case VNET_EINVAL: return "invalid argument";
	case VNET_ENOMEM: return "out of memory";
	case VNET_ENOSPC: return "no space in ring";
	case VNET_EBROKEN: return "device misbehaved: queue or device latched broken";
	case VNET_ETIMEDOUT: return "device did not respond in time";
	case VNET_ENOTSUP: return "not supported or not negotiated";
	case VNET_EIO: return "device refused the request";
	case VNET_EAGAIN: return "try again";
	case VNET_ERANGE: return "value from device out of range";
	case VNET_EPROTO: return "protocol error";
	case VNET_ENODEV: return "no such device";
	case VNET_EBUSY: return "busy";
	default: return "unknown error";
	}
}
