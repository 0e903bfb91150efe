/*
 * IPv4 and IPv6 addresses and prefixes: one value type for both families, text
 * parse/format for configuration and the CLI, and the comparisons the tables need.
 *
 * Invariants: an IPv4 address lives in bytes[0..3] with bytes[4..15] zero, so two
 * equal addresses are equal byte for byte (safe to hash and memcmp). A prefix never has
 * host bits set.
 *
 * Threads: pure functions on caller-owned values.
 */
#ifndef TERN_LIB_ADDR_H
#define TERN_LIB_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum addr_family {
	ADDR_FAMILY_NONE = 0,
	ADDR_FAMILY_V4 = 4,
	ADDR_FAMILY_V6 = 6,
};

/* Longest text of an address ("ffff:...:255.255.255.255") and of a prefix, with NUL. */
#define ADDR_TEXT_MAX   46
#define PREFIX_TEXT_MAX 50

struct addr {
	uint8_t family; /* enum addr_family */
	uint8_t pad[3];
	uint8_t bytes[16];
};

struct prefix {
	struct addr addr;
	uint8_t len; /* 0..32 or 0..128 */
};

void addr_set_v4(struct addr *a, const uint8_t bytes[4]);
void addr_set_v6(struct addr *a, const uint8_t bytes[16]);
/* Length in bits of the family: 32, 128, or 0 for none. */
unsigned addr_bits(const struct addr *a);
bool addr_equal(const struct addr *a, const struct addr *b);
/* Total order: family first, then bytes. Returns <0, 0, >0. */
int addr_compare(const struct addr *a, const struct addr *b);
/* Bit i counted from the most significant bit of the first byte. */
bool addr_bit(const struct addr *a, unsigned i);

/* -EINVAL when text is not exactly one address (no spaces, no prefix length). */
int addr_parse(const char *text, struct addr *out);
/* Writes at most ADDR_TEXT_MAX bytes; -ENOSPC if out is too small, -EAFNOSUPPORT. */
int addr_format(const struct addr *a, char *out, size_t out_len);

/*
 * "10.1.0.0/24" or "2001:db8::/32"; an address without a length is a host prefix.
 * -EINVAL malformed, -ERANGE length out of range for the family, -EDOM host bits set
 * (a production router refuses "10.1.0.1/24" rather than guess what was meant).
 */
int prefix_parse(const char *text, struct prefix *out);
int prefix_format(const struct prefix *p, char *out, size_t out_len);
/* Builds a prefix from any address by clearing its host bits; -ERANGE on a bad len. */
int prefix_from_addr(struct prefix *p, const struct addr *a, unsigned len);
bool prefix_contains(const struct prefix *p, const struct addr *a);
bool prefix_equal(const struct prefix *a, const struct prefix *b);

#endif
