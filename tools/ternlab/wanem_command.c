/* The command language of ternlab-wanem: see wanem_command.h. */
#include "wanem_command.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* A word as a bounded slice of the input (not NUL-terminated). */
struct wanem_word {
	const char *p;
	size_t len;
};

struct wanem_unit {
	const char *name;
	uint64_t mult;
};

static const struct wanem_unit wanem_time_units[] = {{"ns", 1}, {"us", 1000}, {"ms", 1000000},
    {"s", 1000000000}, {NULL, 0}};
static const struct wanem_unit wanem_rate_units[] = {{"bit", 1}, {"kbit", 1000}, {"mbit", 1000000},
    {"gbit", 1000000000}, {NULL, 0}};
static const struct wanem_unit wanem_size_units[] = {{"b", 1}, {"kb", 1024}, {"mb", 1024 * 1024},
    {NULL, 0}};

/* Longest part of a word quoted in an error, so a huge input gives a short message. */
#define WANEM_QUOTE_MAX 64

static int wanem_fail(char *err, size_t err_size, struct wanem_word w, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
wanem_fail(char *err, size_t err_size, struct wanem_word w, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (err_size == 0)
		return -EINVAL;
	n = snprintf(err, err_size,
	    "%.*s%s: ", (int)(w.len > WANEM_QUOTE_MAX ? WANEM_QUOTE_MAX : w.len), w.p,
	    w.len > WANEM_QUOTE_MAX ? "..." : "");
	if (n >= 0 && (size_t)n < err_size) {
		va_start(ap, fmt);
		vsnprintf(err + n, err_size - (size_t)n, fmt, ap);
		va_end(ap);
	}
	/* Control bytes from the input must not break the one-line answer. */
	for (char *c = err; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	return -EINVAL;
}

static bool
wanem_word_is(struct wanem_word w, const char *s)
{
	return w.len == strlen(s) && memcmp(w.p, s, w.len) == 0;
}

/*
 * A decimal number at the start of v ("12", "1.5"): value = mant / 10^frac_digits.
 * Returns the bytes consumed, 0 if v does not start with a digit, or -1 for a
 * malformed or too long number.
 */
static int
wanem_decimal_parse(struct wanem_word v, uint64_t *mant, unsigned *frac_digits)
{
	size_t i = 0;
	unsigned digits = 0;

	*mant = 0;
	*frac_digits = 0;
	if (v.len == 0 || v.p[0] < '0' || v.p[0] > '9')
		return 0;
	for (; i < v.len && v.p[i] >= '0' && v.p[i] <= '9'; i++) {
		if (++digits > 18)
			return -1;
		*mant = *mant * 10 + (uint64_t)(v.p[i] - '0');
	}
	if (i < v.len && v.p[i] == '.') {
		i++;
		if (i >= v.len || v.p[i] < '0' || v.p[i] > '9')
			return -1;
		for (; i < v.len && v.p[i] >= '0' && v.p[i] <= '9'; i++) {
			if (++digits > 18)
				return -1;
			*mant = *mant * 10 + (uint64_t)(v.p[i] - '0');
			(*frac_digits)++;
		}
	}
	return (int)i;
}

/*
 * value * mult exactly as an integer, or -EDOM if it has a fraction left over, -ERANGE
 * if it exceeds max.
 */
static int
wanem_scale(uint64_t mant, unsigned frac_digits, uint64_t mult, uint64_t max, uint64_t *out)
{
	unsigned __int128 v = (unsigned __int128)mant * mult;
	uint64_t div = 1;

	for (unsigned i = 0; i < frac_digits; i++)
		div *= 10;
	if (v % div != 0)
		return -EDOM;
	v /= div;
	if (v > max)
		return -ERANGE;
	*out = (uint64_t)v;
	return 0;
}

/*
 * A number with a unit from units (case-insensitive); "0" alone needs no unit. what
 * names the kind of unit in errors, unit_list the accepted ones.
 */
static int
wanem_quantity_parse(struct wanem_word word, struct wanem_word v, const struct wanem_unit *units,
    const char *what, const char *unit_list, uint64_t max, uint64_t *out, char *err,
    size_t err_size)
{
	uint64_t mant;
	unsigned frac;
	int n = wanem_decimal_parse(v, &mant, &frac);
	struct wanem_word u;
	int rc;

	if (n <= 0)
		return wanem_fail(err, err_size, word, "expected a number");
	u.p = v.p + n;
	u.len = v.len - (size_t)n;
	if (u.len == 0) {
		if (mant == 0) {
			*out = 0;
			return 0;
		}
		return wanem_fail(err, err_size, word, "missing %s unit (use %s)", what, unit_list);
	}
	for (const struct wanem_unit *un = units; un->name != NULL; un++) {
		if (u.len != strlen(un->name) || strncasecmp(u.p, un->name, u.len) != 0)
			continue;
		rc = wanem_scale(mant, frac, un->mult, max, out);
		if (rc == -EDOM)
			return wanem_fail(err, err_size, word, "too many decimals");
		if (rc == -ERANGE)
			return wanem_fail(err, err_size, word, "too large");
		return 0;
	}
	return wanem_fail(err, err_size, word, "unknown %s unit \"%.*s\" (use %s)", what,
	    (int)(u.len > 16 ? 16 : u.len), u.p, unit_list);
}

/* A percentage "2%", "0.5%" (up to 4 decimals) or "0", as parts per million. */
static int
wanem_percent_parse(struct wanem_word word, struct wanem_word v, uint32_t *out_ppm, char *err,
    size_t err_size)
{
	uint64_t mant, ppm;
	unsigned frac;
	int n = wanem_decimal_parse(v, &mant, &frac);
	int rc;

	if (n <= 0)
		return wanem_fail(err, err_size, word, "expected a percentage");
	if ((size_t)n == v.len && mant == 0) {
		*out_ppm = 0;
		return 0;
	}
	if ((size_t)n + 1 != v.len || v.p[n] != '%')
		return wanem_fail(err, err_size, word,
		    "expected a percentage such as 2%% or 0.5%%");
	rc = wanem_scale(mant, frac, 10000, WANEM_PPM_ONE, &ppm);
	if (rc == -EDOM)
		return wanem_fail(err, err_size, word, "at most 4 decimals");
	if (rc == -ERANGE)
		return wanem_fail(err, err_size, word, "more than 100%%");
	*out_ppm = (uint32_t)ppm;
	return 0;
}

/* burst-loss=p:1%,r:30%[,h:100%] or burst-loss=off. */
static int
wanem_burst_parse(struct wanem_word word, struct wanem_word v, struct wanem_params *p, char *err,
    size_t err_size)
{
	uint32_t ppm[3] = {0, 0, WANEM_PPM_ONE};
	bool seen[3] = {false, false, false};
	size_t i = 0;
	int rc;

	if (wanem_word_is(v, "off") || wanem_word_is(v, "0")) {
		p->burst_p_ppm = p->burst_r_ppm = p->burst_h_ppm = 0;
		return 0;
	}
	while (i < v.len) {
		size_t end = i;
		struct wanem_word item, num;
		int k;

		while (end < v.len && v.p[end] != ',')
			end++;
		item.p = v.p + i;
		item.len = end - i;
		if (item.len < 2 || item.p[1] != ':')
			return wanem_fail(err, err_size, word, "expected p:P,r:P[,h:P]");
		k = item.p[0] == 'p' ? 0 : item.p[0] == 'r' ? 1 : item.p[0] == 'h' ? 2 : -1;
		if (k < 0)
			return wanem_fail(err, err_size, word,
			    "unknown parameter '%c' (use p, r or h)", item.p[0]);
		if (seen[k])
			return wanem_fail(err, err_size, word, "'%c' given twice", item.p[0]);
		num.p = item.p + 2;
		num.len = item.len - 2;
		rc = wanem_percent_parse(word, num, &ppm[k], err, err_size);
		if (rc < 0)
			return rc;
		seen[k] = true;
		i = end + 1;
		if (end + 1 == v.len)
			return wanem_fail(err, err_size, word, "trailing comma");
	}
	if (!seen[0] || !seen[1])
		return wanem_fail(err, err_size, word, "needs both p and r");
	if (ppm[0] != 0 && ppm[1] == 0)
		return wanem_fail(err, err_size, word, "r:0 would never leave the bad state");
	if (ppm[0] == 0) {
		/* p = 0 never enters the bad state: the same as off, and formats as such. */
		ppm[1] = ppm[2] = 0;
	}
	p->burst_p_ppm = ppm[0];
	p->burst_r_ppm = ppm[1];
	p->burst_h_ppm = ppm[2];
	return 0;
}

static int
wanem_word_apply(struct wanem_word word, struct wanem_params *p, bool *show, char *err,
    size_t err_size)
{
	static const char time_units[] = "ns, us, ms or s";
	static const char rate_units[] = "bit, kbit, mbit or gbit";
	static const char size_units[] = "b, kb or mb";
	struct wanem_word key = word, v = {NULL, 0};
	const char *eq = memchr(word.p, '=', word.len);
	uint64_t x;
	int rc;

	if (eq != NULL) {
		key.len = (size_t)(eq - word.p);
		v.p = eq + 1;
		v.len = word.len - key.len - 1;
		if (v.len == 0)
			return wanem_fail(err, err_size, word, "missing value");
	}
	if (wanem_word_is(key, "show") || wanem_word_is(key, "clear")) {
		if (eq != NULL)
			return wanem_fail(err, err_size, word, "takes no value");
		if (key.p[0] == 's')
			*show = true;
		else
			wanem_params_init(p);
		return 0;
	}
	if (wanem_word_is(key, "outage") || wanem_word_is(key, "drop-syn-data")) {
		bool *flag = key.p[0] == 'o' ? &p->outage : &p->drop_syn_data;

		if (eq == NULL || wanem_word_is(v, "on"))
			*flag = true;
		else if (wanem_word_is(v, "off"))
			*flag = false;
		else
			return wanem_fail(err, err_size, word, "expected on or off");
		return 0;
	}
	if (eq == NULL)
		return wanem_fail(err, err_size, word,
		    "unknown word (use key=value, outage, drop-syn-data, clear or show)");
	if (wanem_word_is(key, "delay") || wanem_word_is(key, "jitter")) {
		rc = wanem_quantity_parse(word, v, wanem_time_units, "time", time_units,
		    WANEM_DELAY_MAX_NS, &x, err, err_size);
		if (rc < 0)
			return rc;
		if (key.p[0] == 'd')
			p->delay_ns = x;
		else
			p->jitter_ns = x;
		return 0;
	}
	if (wanem_word_is(key, "jitter-dist")) {
		if (wanem_word_is(v, "uniform"))
			p->jitter_dist = WANEM_JITTER_UNIFORM;
		else if (wanem_word_is(v, "normal"))
			p->jitter_dist = WANEM_JITTER_NORMAL;
		else
			return wanem_fail(err, err_size, word, "expected uniform or normal");
		return 0;
	}
	if (wanem_word_is(key, "loss"))
		return wanem_percent_parse(word, v, &p->loss_ppm, err, err_size);
	if (wanem_word_is(key, "burst-loss"))
		return wanem_burst_parse(word, v, p, err, err_size);
	if (wanem_word_is(key, "rate")) {
		if (wanem_word_is(v, "off")) {
			p->rate_bps = 0;
			return 0;
		}
		return wanem_quantity_parse(word, v, wanem_rate_units, "rate", rate_units,
		    WANEM_RATE_MAX_BPS, &p->rate_bps, err, err_size);
	}
	if (wanem_word_is(key, "rate-burst")) {
		rc = wanem_quantity_parse(word, v, wanem_size_units, "size", size_units,
		    WANEM_RATE_BURST_MAX, &x, err, err_size);
		if (rc < 0)
			return rc;
		p->rate_burst_bytes = (uint32_t)x;
		return 0;
	}
	if (wanem_word_is(key, "queue")) {
		uint64_t mant;
		unsigned frac;
		int n = wanem_decimal_parse(v, &mant, &frac);

		if (n > 0 && (size_t)n == v.len) {
			if (frac != 0 || mant > WANEM_CAPACITY_MAX)
				return wanem_fail(err, err_size, word,
				    "packets: expected a whole number up to %u",
				    WANEM_CAPACITY_MAX);
			p->queue_packets = (uint32_t)mant;
			return 0;
		}
		return wanem_quantity_parse(word, v, wanem_size_units, "size", size_units,
		    WANEM_QUEUE_BYTES_MAX, &p->queue_bytes, err, err_size);
	}
	return wanem_fail(err, err_size, word,
	    "unknown key (use delay, jitter, jitter-dist, loss, burst-loss, rate, rate-burst, "
	    "queue, outage or drop-syn-data)");
}

static bool
wanem_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The scope words, indexed by what they select: a direction, or both (WANEM_DIR_COUNT). */
static const char *const wanem_scope_names[WANEM_DIR_COUNT + 1] = {
    [WANEM_DIR_A_TO_B] = "a-to-b:",
    [WANEM_DIR_B_TO_A] = "b-to-a:",
    [WANEM_DIR_COUNT] = "both:",
};

/* The scope word w names (0..WANEM_DIR_COUNT), or -1. */
static int
wanem_scope_find(struct wanem_word w)
{
	for (int s = 0; s <= WANEM_DIR_COUNT; s++)
		if (wanem_word_is(w, wanem_scope_names[s]))
			return s;
	return -1;
}

/*
 * Words with a colon before any '=' are scopes or typos of one; values may hold colons
 * (burst-loss=p:1%,r:30%). Returns 1 if w is a scope (its index in *scope), 0 if it is
 * not scope-like, or -EINVAL with the message.
 */
static int
wanem_scope_parse(struct wanem_word w, int *scope, char *err, size_t err_size)
{
	const char *eq = memchr(w.p, '=', w.len);
	size_t key_len = eq != NULL ? (size_t)(eq - w.p) : w.len;
	const char *colon = memchr(w.p, ':', key_len);
	struct wanem_word name;

	if (colon == NULL)
		return 0;
	name.p = w.p;
	name.len = (size_t)(colon - w.p) + 1;
	*scope = wanem_scope_find(name);
	if (name.len == w.len && *scope >= 0)
		return 1;
	if (*scope >= 0)
		return wanem_fail(err, err_size, w, "put a space after the scope \"%s\"",
		    wanem_scope_names[*scope]);
	name.len--; /* quote it without its colon, so the message reads "a-to-c: ..." */
	return wanem_fail(err, err_size, name, "unknown scope (use a-to-b:, b-to-a: or both:)");
}

int
wanem_command_parse(const char *text, size_t len,
    const struct wanem_params current[WANEM_DIR_COUNT], struct wanem_command *out, char *err,
    size_t err_size)
{
	size_t i = 0, words = 0;
	bool show = false;
	struct wanem_word open_scope = {NULL, 0}; /* the last scope word, until a word follows */
	int scope = WANEM_DIR_COUNT, rc;

	if (err_size > 0)
		err[0] = '\0';
	out->kind = WANEM_COMMAND_SET;
	for (int d = 0; d < WANEM_DIR_COUNT; d++)
		out->params[d] = current[d];
	while (i < len) {
		struct wanem_word w;

		while (i < len && wanem_is_space(text[i]))
			i++;
		if (i >= len)
			break;
		w.p = text + i;
		while (i < len && !wanem_is_space(text[i]))
			i++;
		w.len = (size_t)(text + i - w.p);
		if (memchr(w.p, '\0', w.len) != NULL)
			return wanem_fail(err, err_size, w, "NUL byte in command");
		words++;
		rc = wanem_scope_parse(w, &scope, err, err_size);
		if (rc < 0)
			return rc;
		if (rc > 0) {
			if (open_scope.p != NULL)
				break;
			open_scope = w;
			continue;
		}
		open_scope.p = NULL;
		/* A word's validity never depends on the parameters, so only the first
		 * application can fail. */
		for (int d = 0; d < WANEM_DIR_COUNT; d++) {
			if (scope != WANEM_DIR_COUNT && scope != d)
				continue;
			rc = wanem_word_apply(w, &out->params[d], &show, err, err_size);
			if (rc < 0)
				return rc;
		}
	}
	if (open_scope.p != NULL) {
		open_scope.len--;
		return wanem_fail(err, err_size, open_scope, "no words after the scope");
	}
	if (words == 0) {
		if (err_size > 0)
			snprintf(err, err_size, "empty command");
		return -EINVAL;
	}
	if (show) {
		if (words != 1) {
			if (err_size > 0)
				snprintf(err, err_size, "show: takes no other words");
			return -EINVAL;
		}
		out->kind = WANEM_COMMAND_SHOW;
		for (int d = 0; d < WANEM_DIR_COUNT; d++)
			out->params[d] = current[d];
	}
	return 0;
}

/* Appends to out at *off; remembers overflow in *full and keeps the string cut. */
static void wanem_append(char *out, size_t size, size_t *off, bool *full, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
wanem_append(char *out, size_t size, size_t *off, bool *full, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(out + *off, size - *off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size - *off) {
		*full = true;
		return;
	}
	*off += (size_t)n;
}

/* The largest unit that divides v exactly ("0" for zero). */
static void
wanem_quantity_format(char *buf, size_t size, uint64_t v, const struct wanem_unit *units,
    size_t nunits)
{
	if (v == 0) {
		snprintf(buf, size, "0");
		return;
	}
	for (size_t i = nunits; i-- > 0;) {
		if (v % units[i].mult == 0) {
			snprintf(buf, size, "%llu%s", (unsigned long long)(v / units[i].mult),
			    units[i].name);
			return;
		}
	}
	snprintf(buf, size, "%llu", (unsigned long long)v);
}

static void
wanem_percent_format(char *buf, size_t size, uint32_t ppm)
{
	uint32_t whole = ppm / 10000, frac = ppm % 10000;
	int digits = 4;

	if (frac == 0) {
		snprintf(buf, size, "%u%%", whole);
		return;
	}
	while (frac % 10 == 0) {
		frac /= 10;
		digits--;
	}
	snprintf(buf, size, "%u.%0*u%%", whole, digits, frac);
}

int
wanem_params_format(const struct wanem_params *p, char *out, size_t size)
{
	char a[32], b[32], c[32];
	size_t off = 0;
	bool full = size == 0;
	struct wanem_params perfect;

	if (size == 0)
		return -ENOBUFS;
	out[0] = '\0';
	wanem_params_init(&perfect);
	if (wanem_params_equal(p, &perfect)) {
		wanem_append(out, size, &off, &full, "clear");
		return full ? -ENOBUFS : (int)off;
	}
	/* Each word starts with a space; the first one is skipped at the end. */
	if (p->delay_ns != 0) {
		wanem_quantity_format(a, sizeof(a), p->delay_ns, wanem_time_units, 4);
		wanem_append(out, size, &off, &full, " delay=%s", a);
	}
	if (p->jitter_ns != 0) {
		wanem_quantity_format(a, sizeof(a), p->jitter_ns, wanem_time_units, 4);
		wanem_append(out, size, &off, &full, " jitter=%s", a);
	}
	if (p->jitter_dist == WANEM_JITTER_NORMAL)
		wanem_append(out, size, &off, &full, " jitter-dist=normal");
	if (p->loss_ppm != 0) {
		wanem_percent_format(a, sizeof(a), p->loss_ppm);
		wanem_append(out, size, &off, &full, " loss=%s", a);
	}
	if (p->burst_p_ppm != 0) {
		wanem_percent_format(a, sizeof(a), p->burst_p_ppm);
		wanem_percent_format(b, sizeof(b), p->burst_r_ppm);
		wanem_percent_format(c, sizeof(c), p->burst_h_ppm);
		wanem_append(out, size, &off, &full, " burst-loss=p:%s,r:%s", a, b);
		if (p->burst_h_ppm != WANEM_PPM_ONE)
			wanem_append(out, size, &off, &full, ",h:%s", c);
	}
	if (p->rate_bps != 0) {
		wanem_quantity_format(a, sizeof(a), p->rate_bps, wanem_rate_units, 4);
		wanem_append(out, size, &off, &full, " rate=%s", a);
	}
	if (p->rate_burst_bytes != 0) {
		wanem_quantity_format(a, sizeof(a), p->rate_burst_bytes, wanem_size_units, 3);
		wanem_append(out, size, &off, &full, " rate-burst=%s", a);
	}
	if (p->queue_packets != 0)
		wanem_append(out, size, &off, &full, " queue=%u", p->queue_packets);
	if (p->queue_bytes != 0) {
		/* Always with a unit (at least "b"): a bare number would read as packets. */
		wanem_quantity_format(a, sizeof(a), p->queue_bytes, wanem_size_units, 3);
		wanem_append(out, size, &off, &full, " queue=%s", a);
	}
	if (p->outage)
		wanem_append(out, size, &off, &full, " outage");
	if (p->drop_syn_data)
		wanem_append(out, size, &off, &full, " drop-syn-data");
	if (full)
		return -ENOBUFS;
	memmove(out, out + 1, off); /* drop the leading space, keep the NUL */
	return (int)off - 1;
}

int
wanem_link_format(const struct wanem_params p[WANEM_DIR_COUNT], char *out, size_t size)
{
	struct wanem_params perfect;
	size_t off = 0;
	int n;

	if (wanem_params_equal(&p[WANEM_DIR_A_TO_B], &p[WANEM_DIR_B_TO_A]))
		return wanem_params_format(&p[WANEM_DIR_A_TO_B], out, size);
	if (size == 0)
		return -ENOBUFS;
	out[0] = '\0';
	/* Read from a perfect link, a direction left out stays perfect: at least one is
	 * written, since the two differ. */
	wanem_params_init(&perfect);
	for (int d = 0; d < WANEM_DIR_COUNT; d++) {
		if (wanem_params_equal(&p[d], &perfect))
			continue;
		n = snprintf(out + off, size - off, "%s%s ", off > 0 ? " " : "",
		    wanem_scope_names[d]);
		if (n < 0 || (size_t)n >= size - off)
			return -ENOBUFS;
		off += (size_t)n;
		n = wanem_params_format(&p[d], out + off, size - off);
		if (n < 0)
			return n;
		off += (size_t)n;
	}
	return (int)off;
}
