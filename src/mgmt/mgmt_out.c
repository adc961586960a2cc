/*
 * Output of the management commands: one writer, two renderings.
 *
 * JSON: one object per command, members in call order, strings escaped
 * (RFC 8259 §7: quote, backslash and control characters), then a newline.
 * Text: "key" padded to a column, then the value; nested objects as an
 * indented "key:" heading; arrays of scalars on one line (wrapped, the
 * continuation indented to the value column); arrays of objects as one
 * heading per element.  Output is buffered (MO_BUF bytes) and handed to
 * the caller's sink in pieces; nothing is allocated.
 */
#include "mgmt_priv.h"

void mo_init(struct mo *o, const struct vnet_mgmt_sink *sink, bool json)
{
	o->sink = sink;
	o->json = json;
	o->len = 0;
	o->depth = 0;
	o->scalar_line = false;
	o->col = 0;
	for (unsigned i = 0; i < MO_DEPTH; i++) {
		o->first[i] = true;
		o->arr[i] = false;
	}
}

void mo_flush(struct mo *o)
{
	if (o->len && o->sink && o->sink->write)
		o->sink->write(o->sink->arg, o->buf, o->len);
	o->len = 0;
}

void mo_raw(struct mo *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (o->len == sizeof(o->buf))
			mo_flush(o);
		o->buf[o->len++] = s[i];
		o->col = s[i] == '\n' ? 0 : o->col + 1;
	}
}

void mo_puts(struct mo *o, const char *s)
{
	mo_raw(o, s, mp_strlen(s));
}

static void mo_spaces(struct mo *o, unsigned n)
{
	while (n--)
		mo_raw(o, " ", 1);
}

size_t mo_fmt_u64(char *buf, uint64_t v)
{
	char t[21];
	size_t n = 0;
	do {
		t[n++] = (char)('0' + v % 10u);
		v /= 10u;
	} while (v);
	for (size_t i = 0; i < n; i++)
		buf[i] = t[n - 1 - i];
	buf[n] = 0;
	return n;
}

size_t mo_fmt_hex(char *buf, uint64_t v)
{
	static const char dig[] = "0123456789abcdef";
	char t[16];
	size_t n = 0;
	do {
		t[n++] = dig[v & 15u];
		v >>= 4;
	} while (v);
	buf[0] = '0';
	buf[1] = 'x';
	for (size_t i = 0; i < n; i++)
		buf[2 + i] = t[n - 1 - i];
	buf[2 + n] = 0;
	return n + 2;
}

size_t mo_fmt_mac(char *buf, const uint8_t mac[6])
{
	static const char dig[] = "0123456789abcdef";
	for (int i = 0; i < 6; i++) {
		buf[3 * i] = dig[mac[i] >> 4];
		buf[3 * i + 1] = dig[mac[i] & 15u];
		buf[3 * i + 2] = i == 5 ? 0 : ':';
	}
	return 17;
}

/* JSON string with escapes. */
static void mo_jstr(struct mo *o, const char *s)
{
	static const char dig[] = "0123456789abcdef";
	mo_raw(o, "\"", 1);
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\') {
			char e[2] = {'\\', (char)ch};
			mo_raw(o, e, 2);
		} else if (ch < 0x20) {
			char e[6] = {'\\', 'u', '0', '0', dig[ch >> 4], dig[ch & 15u]};
			mo_raw(o, e, 6);
		} else {
			mo_raw(o, (const char *)&ch, 1);
		}
	}
	mo_raw(o, "\"", 1);
}

/* Close an open text line of scalars. */
static void mo_text_close_line(struct mo *o)
{
	if (o->scalar_line) {
		mo_raw(o, "\n", 1);
		o->scalar_line = false;
	}
}

static unsigned mo_indent(const struct mo *o)
{
	return o->depth > 1 ? 2u * (o->depth - 1u) : 0u;
}

/* Start a member: JSON comma and key; text: indent, key, padding.  In a
 * text array of scalars, a separator (wrapping long lines). */
static void mo_key(struct mo *o, const char *key, size_t vlen)
{
	unsigned d = o->depth < MO_DEPTH ? o->depth : MO_DEPTH - 1;
	if (o->json) {
		if (!o->first[d])
			mo_raw(o, ",", 1);
		o->first[d] = false;
		if (key && !o->arr[d]) {
			mo_jstr(o, key);
			mo_raw(o, ":", 1);
		}
		return;
	}
	if (o->arr[d] && o->scalar_line) {
		unsigned vcol = MO_KEY_COL;
		if (o->col + 1 + vlen > MO_WRAP && o->col > vcol) {
			mo_raw(o, "\n", 1);
			mo_spaces(o, vcol);
		} else if (!o->first[d]) {
			mo_raw(o, " ", 1);
		}
		o->first[d] = false;
		return;
	}
	mo_text_close_line(o);
	unsigned ind = mo_indent(o);
	mo_spaces(o, ind);
	size_t kl = key ? mp_strlen(key) : 0;
	if (key)
		mo_puts(o, key);
	mo_spaces(o, ind + kl + 1 < MO_KEY_COL ? (unsigned)(MO_KEY_COL - ind - kl) : 1u);
}

/* A scalar value already formatted (JSON: quoted when `quote`). */
static void mo_val(struct mo *o, const char *key, const char *v, bool quote)
{
	size_t n = mp_strlen(v);
	mo_key(o, key, n);
	if (o->json && quote)
		mo_jstr(o, v);
	else
		mo_raw(o, v, n);
	unsigned d = o->depth < MO_DEPTH ? o->depth : MO_DEPTH - 1;
	if (!o->json && !o->arr[d])
		mo_raw(o, "\n", 1);
}

static void mo_push(struct mo *o, bool arr)
{
	if (o->depth + 1 < MO_DEPTH) {
		o->depth++;
		o->first[o->depth] = true;
		o->arr[o->depth] = arr;
	}
}

static void mo_pop(struct mo *o)
{
	if (o->depth > 0)
		o->depth--;
}

void mo_begin(struct mo *o, const char *command, const char *device)
{
	if (o->json) {
		mo_raw(o, "{", 1);
		mo_push(o, false);
		mo_bool(o, "ok", true);
		mo_str(o, "command", command);
		if (device)
			mo_str(o, "device", device);
		return;
	}
	mo_push(o, false);
	if (device) {
		mo_puts(o, device);
		mo_puts(o, ": ");
		mo_puts(o, command);
		mo_raw(o, "\n", 1);
	}
}

void mo_end(struct mo *o)
{
	if (o->json) {
		while (o->depth > 1) {
			mo_raw(o, o->arr[o->depth] ? "]" : "}", 1);
			mo_pop(o);
		}
		mo_raw(o, "}\n", 2);
	} else {
		mo_text_close_line(o);
	}
	o->depth = 0;
	mo_flush(o);
}

void mo_obj(struct mo *o, const char *key)
{
	unsigned d = o->depth < MO_DEPTH ? o->depth : MO_DEPTH - 1;
	if (o->json) {
		mo_key(o, key, 0);
		mo_raw(o, "{", 1);
	} else {
		mo_text_close_line(o);
		mo_spaces(o, mo_indent(o));
		if (key)
			mo_puts(o, key);
		mo_raw(o, ":\n", 2);
		(void)d;
	}
	mo_push(o, false);
}

void mo_obj_end(struct mo *o)
{
	if (o->json)
		mo_raw(o, "}", 1);
	else
		mo_text_close_line(o);
	mo_pop(o);
}

void mo_arr(struct mo *o, const char *key)
{
	if (o->json) {
		mo_key(o, key, 0);
		mo_raw(o, "[", 1);
		mo_push(o, true);
		return;
	}
	/* Text: the key starts a line; scalars follow on it, objects below. */
	mo_key(o, key, 0);
	o->scalar_line = true;
	mo_push(o, true);
}

void mo_arr_end(struct mo *o)
{
	if (o->json) {
		mo_raw(o, "]", 1);
	} else {
		if (o->scalar_line && o->first[o->depth < MO_DEPTH ? o->depth : MO_DEPTH - 1])
			mo_puts(o, "-");
		mo_text_close_line(o);
	}
	mo_pop(o);
}

void mo_u64(struct mo *o, const char *key, uint64_t v)
{
	char b[24];
	mo_fmt_u64(b, v);
	mo_val(o, key, b, false);
}

void mo_i64(struct mo *o, const char *key, int64_t v)
{
	char b[24];
	if (v < 0) {
		b[0] = '-';
		mo_fmt_u64(b + 1, (uint64_t)0 - (uint64_t)v);
	} else {
		mo_fmt_u64(b, (uint64_t)v);
	}
	mo_val(o, key, b, false);
}

void mo_hex(struct mo *o, const char *key, uint64_t v)
{
	char b[24];
	mo_fmt_hex(b, v);
	mo_val(o, key, b, true);
}

void mo_str(struct mo *o, const char *key, const char *s)
{
	mo_val(o, key, s ? s : "", true);
}

void mo_bool(struct mo *o, const char *key, bool v)
{
	mo_val(o, key, v ? (o->json ? "true" : "yes") : (o->json ? "false" : "no"), false);
}

void mo_null(struct mo *o, const char *key)
{
	mo_val(o, key, o->json ? "null" : "-", false);
}

void mo_mac(struct mo *o, const char *key, const uint8_t mac[6])
{
	char b[18];
	mo_fmt_mac(b, mac);
	mo_val(o, key, b, true);
}

void mo_fix2(struct mo *o, const char *key, uint64_t v100)
{
	char b[32];
	size_t n = mo_fmt_u64(b, v100 / 100u);
	unsigned f = (unsigned)(v100 % 100u);
	b[n] = '.';
	b[n + 1] = (char)('0' + f / 10u);
	b[n + 2] = (char)('0' + f % 10u);
	b[n + 3] = 0;
	mo_val(o, key, b, false);
}

void mo_features(struct mo *o, const char *key, uint64_t mask)
{
	mo_arr(o, key);
	for (unsigned b = 0; b < 64; b++) {
		if (!(mask & (1ull << b)))
			continue;
		char nb[8];
		mo_str(o, 0, mgmt_feature_name(b, nb));
	}
	mo_arr_end(o);
}

void mo_text(struct mo *o, const char *s)
{
	if (o->json)
		return;
	mo_text_close_line(o);
	mo_spaces(o, mo_indent(o));
	mo_puts(o, s);
	mo_raw(o, "\n", 1);
}
