/*
 * Argument parsers of the management commands: strict (the whole string
 * must parse, no sign, no overflow), so a typo is an error, never a
 * silently different value.
 */
#include "mgmt_priv.h"

size_t mp_strlen(const char *s)
{
	size_t n = 0;
	while (s && s[n])
		n++;
	return n;
}

bool mp_streq(const char *a, const char *b)
{
	if (!a || !b)
		return false;
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

static char mp_lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

bool mp_streq_nocase(const char *a, const char *b)
{
	if (!a || !b)
		return false;
	while (*a && mp_lower(*a) == mp_lower(*b)) {
		a++;
		b++;
	}
	return mp_lower(*a) == mp_lower(*b);
}

static int mp_hexdig(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = mp_lower(ch);
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

bool mp_u64(const char *s, uint64_t *v)
{
	if (!s || !*s)
		return false;
	uint64_t x = 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		if (!*s)
			return false;
		for (; *s; s++) {
			int d = mp_hexdig(*s);
			if (d < 0 || x > (UINT64_MAX >> 4))
				return false;
			x = (x << 4) | (uint64_t)d;
		}
	} else {
		for (; *s; s++) {
			if (*s < '0' || *s > '9')
				return false;
			uint64_t d = (uint64_t)(*s - '0');
			if (x > (UINT64_MAX - d) / 10u)
				return false;
			x = x * 10u + d;
		}
	}
	*v = x;
	return true;
}

bool mp_u64_max(const char *s, uint64_t max, uint64_t *v)
{
	uint64_t x;
	if (!mp_u64(s, &x) || x > max)
		return false;
	*v = x;
	return true;
}

bool mp_bool(const char *s, bool *v)
{
	static const char *const on[] = {"on", "1", "true", "yes"};
	static const char *const off[] = {"off", "0", "false", "no"};
	for (unsigned i = 0; i < 4; i++) {
		if (mp_streq_nocase(s, on[i])) {
			*v = true;
			return true;
		}
		if (mp_streq_nocase(s, off[i])) {
			*v = false;
			return true;
		}
	}
	return false;
}

bool mp_mac(const char *s, uint8_t mac[6])
{
	if (!s || mp_strlen(s) != 17)
		return false;
	uint8_t t[6];
	for (int i = 0; i < 6; i++) {
		int h = mp_hexdig(s[3 * i]), l = mp_hexdig(s[3 * i + 1]);
		if (h < 0 || l < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return false;
		t[i] = (uint8_t)(h << 4 | l);
	}
	for (int i = 0; i < 6; i++)
		mac[i] = t[i];
	return true;
}

/* s without a leading prefix p (case-insensitive), or s. */
static const char *mp_skip_prefix(const char *s, const char *p)
{
	const char *q = s;
	while (*p && mp_lower(*q) == mp_lower(*p)) {
		q++;
		p++;
	}
	return *p ? s : q;
}

int mp_feature(const char *s)
{
	if (!s || !*s)
		return -1;
	uint64_t b;
	if (mp_u64(s, &b))
		return b < 64 ? (int)b : -1;
	const char *n = mp_skip_prefix(mp_skip_prefix(s, "VIRTIO_NET_F_"), "VIRTIO_F_");
	for (unsigned bit = 0; bit < 64; bit++) {
		const char *name = vnet_feature_name(bit);
		if (name && mp_streq_nocase(n, name))
			return (int)bit;
	}
	return -1;
}

bool mp_queue(const char *s, uint16_t max_pairs, struct mp_queue *q)
{
	uint64_t n;
	if (mp_streq_nocase(s, "ctrl") || mp_streq_nocase(s, "controlq")) {
		q->kind = MP_Q_CTRL;
		q->pair = 0;
		return true;
	}
	static const struct {
		const char *p;
		enum mp_qkind k;
	} pre[] = {{"rx", MP_Q_RX}, {"tx", MP_Q_TX}, {"pair", MP_Q_PAIR}};
	for (unsigned i = 0; i < 3; i++) {
		const char *r = mp_skip_prefix(s, pre[i].p);
		if (r != s) {
			if (!mp_u64_max(r, 0xffffu, &n))
				return false;
			q->kind = pre[i].k;
			q->pair = (uint16_t)n;
			return true;
		}
	}
	/* A virtqueue index (spec 5.1.2): receiveq N = 2N, transmitq 2N + 1,
	 * controlq 2 * max_virtqueue_pairs. */
	if (!mp_u64_max(s, 0xffffu, &n))
		return false;
	if (n == 2u * max_pairs) {
		q->kind = MP_Q_CTRL;
		q->pair = 0;
	} else {
		q->kind = (n & 1u) ? MP_Q_TX : MP_Q_RX;
		q->pair = (uint16_t)(n / 2u);
	}
	return true;
}
