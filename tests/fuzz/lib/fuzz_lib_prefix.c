/*
 * Fuzzes addr_parse() and prefix_parse() (configuration and CLI text). Whatever parses
 * must format, parse back to the same value and format to the same text; the error codes
 * must be the documented ones; an address must also parse as its host prefix; and
 * formatting into a buffer of any size must never write past it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Formats into an exact-size heap buffer of out_len bytes so ASan sees any overflow. */
static void
check_format_bounded(const struct prefix *p, bool as_prefix, const char *full, size_t out_len)
{
	char *out = malloc(out_len > 0 ? out_len : 1);
	int rc;

	if (out == NULL)
		return;
	rc = as_prefix ? prefix_format(p, out, out_len) : addr_format(&p->addr, out, out_len);
	if (strlen(full) < out_len) {
		if (rc != 0 || strcmp(out, full) != 0)
			abort();
	} else if (rc != -ENOSPC) {
		abort();
	}
	free(out);
}

static void
check_addr(const char *text, size_t out_len)
{
	char out[ADDR_TEXT_MAX], again[ADDR_TEXT_MAX];
	struct addr a, b;
	struct prefix host;
	int rc;

	rc = addr_parse(text, &a);
	if (rc == -EINVAL)
		return;
	if (rc != 0)
		abort();
	if (addr_bits(&a) == 0)
		abort();
	/* IPv4 lives in the first four bytes; the rest is zero so equal means memcmp-equal. */
	if (a.family == ADDR_FAMILY_V4) {
		for (int i = 4; i < 16; i++) {
			if (a.bytes[i] != 0)
				abort();
		}
	}
	if (addr_format(&a, out, sizeof(out)) != 0)
		abort();
	if (addr_parse(out, &b) != 0 || !addr_equal(&a, &b) || addr_compare(&a, &b) != 0)
		abort();
	if (addr_format(&b, again, sizeof(again)) != 0 || strcmp(out, again) != 0)
		abort();
	/* An address without a length is a host prefix. */
	if (prefix_parse(text, &host) != 0 || host.len != addr_bits(&a) ||
	    !addr_equal(&host.addr, &a) || !prefix_contains(&host, &a))
		abort();
	check_format_bounded(&host, false, out, out_len);
}

static void
check_prefix(const char *text, size_t out_len)
{
	char out[PREFIX_TEXT_MAX], again[PREFIX_TEXT_MAX];
	struct prefix p, q, masked;
	int rc;

	rc = prefix_parse(text, &p);
	if (rc == -EINVAL || rc == -ERANGE || rc == -EDOM)
		return;
	if (rc != 0)
		abort();
	if (addr_bits(&p.addr) == 0 || p.len > addr_bits(&p.addr))
		abort();
	/* No host bits, and the prefix contains its own address. */
	if (prefix_from_addr(&masked, &p.addr, p.len) != 0 || !prefix_equal(&masked, &p) ||
	    !prefix_contains(&p, &p.addr))
		abort();
	if (prefix_format(&p, out, sizeof(out)) != 0)
		abort();
	if (prefix_parse(out, &q) != 0 || !prefix_equal(&p, &q))
		abort();
	if (prefix_format(&q, again, sizeof(again)) != 0 || strcmp(out, again) != 0)
		abort();
	check_format_bounded(&p, true, out, out_len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy plus the NUL, so a parser reading past the text trips ASan. */
	char *text = malloc(size + 1);
	size_t out_len;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	/* The output size to try comes from the input, so the fuzzer explores it too. */
	out_len = size > 0 ? data[size - 1] % (PREFIX_TEXT_MAX + 4) : 0;
	check_addr(text, out_len);
	check_prefix(text, out_len);
	free(text);
	return 0;
}
