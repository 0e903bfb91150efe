/*
 * A tiny DNS message writer for the tests and the fuzz corpus generator: names are
 * written label by label (or as a compression pointer), everything else as bytes, so a
 * test can make exactly the malformed message it needs.
 */
#ifndef TERN_TESTS_POLICY_DNS_BUILD_H
#define TERN_TESTS_POLICY_DNS_BUILD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct dns_build {
	uint8_t b[1024];
	size_t n;
};

static inline void
dns_put8(struct dns_build *m, uint8_t v)
{
	if (m->n < sizeof(m->b))
		m->b[m->n++] = v;
}

static inline void
dns_put16(struct dns_build *m, uint16_t v)
{
	dns_put8(m, (uint8_t)(v >> 8));
	dns_put8(m, (uint8_t)v);
}

static inline void
dns_put32(struct dns_build *m, uint32_t v)
{
	dns_put16(m, (uint16_t)(v >> 16));
	dns_put16(m, (uint16_t)v);
}

/* Header: id 0x1234, the given flags and counts. */
static inline void
dns_header(struct dns_build *m, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar)
{
	m->n = 0;
	dns_put16(m, 0x1234);
	dns_put16(m, flags);
	dns_put16(m, qd);
	dns_put16(m, an);
	dns_put16(m, ns);
	dns_put16(m, ar);
}

/* "www.example.com" as labels, then the root (end_with_root) or nothing. */
static inline void
dns_labels(struct dns_build *m, const char *dotted, int end_with_root)
{
	while (*dotted != '\0') {
		const char *dot = strchr(dotted, '.');
		size_t len = dot != NULL ? (size_t)(dot - dotted) : strlen(dotted);

		dns_put8(m, (uint8_t)len);
		for (size_t i = 0; i < len; i++)
			dns_put8(m, (uint8_t)dotted[i]);
		dotted += len + (dot != NULL);
	}
	if (end_with_root)
		dns_put8(m, 0);
}

static inline void
dns_pointer(struct dns_build *m, uint16_t offset)
{
	dns_put16(m, (uint16_t)(0xc000 | offset));
}

/* Type, class IN, TTL, data length (the data follows). */
static inline void
dns_rr(struct dns_build *m, uint16_t type, uint32_t ttl, uint16_t rdlen)
{
	dns_put16(m, type);
	dns_put16(m, 1);
	dns_put32(m, ttl);
	dns_put16(m, rdlen);
}

#endif
