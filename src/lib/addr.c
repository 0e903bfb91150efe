/* IPv4/IPv6 addresses and prefixes; see addr.h for the contract. */
#include "lib/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
addr_set_v4(struct addr *a, const uint8_t bytes[4])
{
	memset(a, 0, sizeof(*a));
	a->family = ADDR_FAMILY_V4;
	memcpy(a->bytes, bytes, 4);
}

void
addr_set_v6(struct addr *a, const uint8_t bytes[16])
{
	memset(a, 0, sizeof(*a));
	a->family = ADDR_FAMILY_V6;
	memcpy(a->bytes, bytes, 16);
}

unsigned
addr_bits(const struct addr *a)
{
	switch (a->family) {
	case ADDR_FAMILY_V4:
		return 32;
	case ADDR_FAMILY_V6:
		return 128;
	default:
		return 0;
	}
}

bool
addr_equal(const struct addr *a, const struct addr *b)
{
	return a->family == b->family && memcmp(a->bytes, b->bytes, 16) == 0;
}

int
addr_compare(const struct addr *a, const struct addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->bytes, b->bytes, 16);
}

bool
addr_bit(const struct addr *a, unsigned i)
{
	return (a->bytes[i / 8] >> (7 - i % 8)) & 1;
}

int
addr_parse(const char *text, struct addr *out)
{
	uint8_t bytes[16];

	if (text == NULL)
		return -EINVAL;
	if (inet_pton(AF_INET, text, bytes) == 1) {
		addr_set_v4(out, bytes);
		return 0;
	}
	if (inet_pton(AF_INET6, text, bytes) == 1) {
		addr_set_v6(out, bytes);
		return 0;
	}
	return -EINVAL;
}

int
addr_format(const struct addr *a, char *out, size_t out_len)
{
	char text[ADDR_TEXT_MAX];
	int af;

	switch (a->family) {
	case ADDR_FAMILY_V4:
		af = AF_INET;
		break;
	case ADDR_FAMILY_V6:
		af = AF_INET6;
		break;
	default:
		return -EAFNOSUPPORT;
	}
	if (inet_ntop(af, a->bytes, text, sizeof(text)) == NULL)
		return -errno;
	if (strlen(text) >= out_len)
		return -ENOSPC;
	memcpy(out, text, strlen(text) + 1);
	return 0;
}

static void
addr_clear_host_bits(struct addr *a, unsigned len)
{
	unsigned i;

	for (i = len; i < 128; i++)
		a->bytes[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
}

int
prefix_from_addr(struct prefix *p, const struct addr *a, unsigned len)
{
	if (addr_bits(a) == 0 || len > addr_bits(a))
		return -ERANGE;
	p->addr = *a;
	p->len = (uint8_t)len;
	addr_clear_host_bits(&p->addr, len);
	return 0;
}

int
prefix_parse(const char *text, struct prefix *out)
{
	char head[ADDR_TEXT_MAX];
	const char *slash;
	struct addr a;
	unsigned long len;
	char *end;
	size_t n;
	int rc;

	if (text == NULL)
		return -EINVAL;
	slash = strchr(text, '/');
	n = slash != NULL ? (size_t)(slash - text) : strlen(text);
	if (n == 0 || n >= sizeof(head))
		return -EINVAL;
	memcpy(head, text, n);
	head[n] = '\0';
	rc = addr_parse(head, &a);
	if (rc < 0)
		return rc;
	if (slash == NULL) {
		len = addr_bits(&a);
	} else {
		/* Only plain decimal digits: strtoul alone would take "+8", " 8" or "0x8". */
		if (slash[1] < '0' || slash[1] > '9' || strlen(slash + 1) > 3)
			return -EINVAL;
		errno = 0;
		len = strtoul(slash + 1, &end, 10);
		if (errno != 0 || *end != '\0')
			return -EINVAL;
	}
	if (len > addr_bits(&a))
		return -ERANGE;
	rc = prefix_from_addr(out, &a, (unsigned)len);
	if (rc < 0)
		return rc;
	if (!addr_equal(&out->addr, &a))
		return -EDOM;
	return 0;
}

int
prefix_format(const struct prefix *p, char *out, size_t out_len)
{
	char text[ADDR_TEXT_MAX];
	int rc, n;

	rc = addr_format(&p->addr, text, sizeof(text));
	if (rc < 0)
		return rc;
	n = snprintf(out, out_len, "%s/%u", text, p->len);
	if (n < 0 || (size_t)n >= out_len)
		return -ENOSPC;
	return 0;
}

bool
prefix_contains(const struct prefix *p, const struct addr *a)
{
	unsigned full = p->len / 8, rest = p->len % 8;
	uint8_t mask;

	if (p->addr.family != a->family)
		return false;
	if (memcmp(p->addr.bytes, a->bytes, full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (uint8_t)(0xffu << (8 - rest));
	return (p->addr.bytes[full] & mask) == (a->bytes[full] & mask);
}

bool
prefix_equal(const struct prefix *a, const struct prefix *b)
{
	return a->len == b->len && addr_equal(&a->addr, &b->addr);
}
