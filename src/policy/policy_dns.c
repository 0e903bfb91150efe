/*
 * The DNS answer parser (policy_dns.h). Two passes: the first checks the whole message
 * and notes where the address and CNAME records are, the second reports; so a message
 * that is bad anywhere teaches nothing.
 */
#include "policy/policy_dns.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "policy/policy_name.h"

#define DNS_HEADER_LEN    12
#define DNS_NAME_WIRE_MAX 255
#define DNS_NAME_TEXT_MAX 256 /* 253 characters and NUL, rounded */

enum {
	DNS_TYPE_A = 1,
	DNS_TYPE_CNAME = 5,
	DNS_TYPE_AAAA = 28,
	DNS_CLASS_IN = 1,
};

struct dns_name {
	char text[DNS_NAME_TEXT_MAX];
};

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * Decodes the name at *at into out (lower case, dot-separated, "" for the root) and
 * moves *at past it. Every pointer must point before the lowest offset this name has
 * been read from so far, so offsets strictly decrease from jump to jump and no loop is
 * possible; POLICY_DNS_POINTERS_MAX bounds the work besides.
 */
static int
name_decode(const uint8_t *msg, size_t len, size_t *at, struct dns_name *out)
{
	size_t pos = *at, lowest = *at, text = 0, wire = 0, end = 0;
	unsigned pointers = 0;
	bool jumped = false;

	for (;;) {
		uint8_t l;

		if (pos >= len)
			return -EBADMSG;
		l = msg[pos];
		if ((l & 0xc0) == 0xc0) {
			size_t target;

			if (pos + 1 >= len)
				return -EBADMSG;
			target = (size_t)(l & 0x3f) << 8 | msg[pos + 1];
			if (target >= lowest || ++pointers > POLICY_DNS_POINTERS_MAX)
				return -ELOOP;
			if (!jumped)
				end = pos + 2;
			jumped = true;
			lowest = target;
			pos = target;
			continue;
		}
		/* 0x40 and 0x80 (the extended and reserved label types) are what a label
		 * length over 63 reads as: refused as such. */
		if (l & 0xc0)
			return -ENAMETOOLONG;
		wire += (size_t)l + 1;
		if (wire > DNS_NAME_WIRE_MAX)
			return -ENAMETOOLONG;
		if (l == 0) {
			pos++;
			break;
		}
		if (pos + 1 + l > len)
			return -EBADMSG;
		if (text > 0)
			out->text[text++] = '.';
		for (size_t k = 0; k < l; k++) {
			unsigned char c = msg[pos + 1 + k];

			if (!policy_name_label_char(c))
				return -EILSEQ;
			out->text[text++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
		}
		pos += 1 + (size_t)l;
	}
	out->text[text] = '\0';
	*at = jumped ? end : pos;
	return 0;
}

/* Skips a name, checking it all the same. */
static int
name_skip(const uint8_t *msg, size_t len, size_t *at)
{
	struct dns_name n;

	return name_decode(msg, len, at, &n);
}

struct dns_record {
	size_t owner;  /* offset of the owner name */
	size_t rdata;  /* offset of the data */
	uint16_t type; /* A, AAAA or CNAME */
	uint32_t ttl_s;
};

struct dns_answer {
	struct dns_record rec[POLICY_DNS_RECORDS_MAX];
	unsigned count;
	struct dns_name cname_owner[POLICY_DNS_CNAMES_MAX], cname_target[POLICY_DNS_CNAMES_MAX];
	uint32_t cname_ttl[POLICY_DNS_CNAMES_MAX];
	unsigned cnames;
};

/* One resource record at *at; answer records of interest are noted in a (may be NULL). */
static int
record_read(const uint8_t *msg, size_t len, size_t *at, struct dns_answer *a)
{
	size_t owner = *at, rdata, next;
	uint16_t type, cls, rdlen;
	uint32_t ttl;
	int rc;

	if ((rc = name_skip(msg, len, at)) != 0)
		return rc;
	if (len - *at < 10)
		return -EBADMSG;
	type = be16(msg + *at);
	cls = be16(msg + *at + 2);
	ttl = be32(msg + *at + 4);
	rdlen = be16(msg + *at + 8);
	rdata = *at + 10;
	if (len - rdata < rdlen)
		return -EBADMSG;
	next = rdata + rdlen;
	/* RFC 2181 section 8: a TTL with the top bit set is read as 0. */
	if (ttl & 0x80000000u)
		ttl = 0;
	if (a != NULL && cls == DNS_CLASS_IN) {
		if ((type == DNS_TYPE_A && rdlen != 4) || (type == DNS_TYPE_AAAA && rdlen != 16))
			return -EBADMSG;
		if (type == DNS_TYPE_CNAME) {
			size_t t = rdata;

			if (a->cnames == POLICY_DNS_CNAMES_MAX)
				return -E2BIG;
			if ((rc = name_decode(msg, len, &owner, &a->cname_owner[a->cnames])) != 0 ||
			    (rc = name_decode(msg, len, &t, &a->cname_target[a->cnames])) != 0)
				return rc;
			if (t != next)
				return -EBADMSG;
			a->cname_ttl[a->cnames++] = ttl;
		} else if (type == DNS_TYPE_A || type == DNS_TYPE_AAAA) {
			a->rec[a->count].owner = owner;
			a->rec[a->count].rdata = rdata;
			a->rec[a->count].type = type;
			a->rec[a->count].ttl_s = ttl;
			a->count++;
		}
	}
	*at = next;
	return 0;
}

static int
message_check(const uint8_t *msg, size_t len, struct dns_answer *a)
{
	uint16_t flags, qd, an, ns, ar;
	size_t at = DNS_HEADER_LEN;
	int rc;

	if (len < DNS_HEADER_LEN)
		return -EBADMSG;
	flags = be16(msg + 2);
	qd = be16(msg + 4);
	an = be16(msg + 6);
	ns = be16(msg + 8);
	ar = be16(msg + 10);
	/* QR set, opcode QUERY, RCODE NOERROR, exactly one question. */
	if (!(flags & 0x8000) || (flags >> 11 & 0xf) != 0 || (flags & 0xf) != 0 || qd != 1)
		return -EPROTO;
	if (an > POLICY_DNS_RECORDS_MAX)
		return -E2BIG;
	if ((rc = name_skip(msg, len, &at)) != 0)
		return rc;
	if (len - at < 4)
		return -EBADMSG;
	at += 4;
	for (unsigned i = 0; i < an; i++) {
		if ((rc = record_read(msg, len, &at, a)) != 0)
			return rc;
	}
	/* The other sections teach nothing, but a message is taken whole or not at all. */
	for (unsigned i = 0; i < (unsigned)ns + ar; i++) {
		if ((rc = record_read(msg, len, &at, NULL)) != 0)
			return rc;
	}
	return at == len ? 0 : -EBADMSG;
}

/* The start of the CNAME chain that leads to name, and the lowest TTL along it. */
static const char *
chain_start(const struct dns_answer *a, const char *name, uint32_t *ttl_s)
{
	for (unsigned steps = 0; steps < POLICY_DNS_CNAMES_MAX; steps++) {
		unsigned k;

		/* A CNAME owned by the root names nothing a client asked for: stop before it. */
		for (k = 0; k < a->cnames; k++) {
			if (a->cname_owner[k].text[0] != '\0' &&
			    strcmp(a->cname_target[k].text, name) == 0)
				break;
		}
		if (k == a->cnames)
			break;
		name = a->cname_owner[k].text;
		if (a->cname_ttl[k] < *ttl_s)
			*ttl_s = a->cname_ttl[k];
	}
	return name;
}

int
policy_dns_parse_answer(const uint8_t *msg, size_t len, policy_dns_answer_fn fn, void *arg)
{
	struct dns_answer a;
	int rc, reported = 0;

	a.count = 0;
	a.cnames = 0;
	if ((rc = message_check(msg, len, &a)) != 0)
		return rc;
	for (unsigned i = 0; i < a.count; i++) {
		const struct dns_record *r = &a.rec[i];
		struct dns_name owner;
		struct addr addr;
		size_t at = r->owner;
		uint32_t ttl = r->ttl_s;
		const char *name;

		if (name_decode(msg, len, &at, &owner) != 0 || owner.text[0] == '\0')
			continue; /* decoded once already; the root owns no address */
		if (r->type == DNS_TYPE_A)
			addr_set_v4(&addr, msg + r->rdata);
		else
			addr_set_v6(&addr, msg + r->rdata);
		name = chain_start(&a, owner.text, &ttl);
		if ((rc = fn(name, &addr, ttl, arg)) != 0)
			return rc;
		reported++;
	}
	return reported;
}

const char *
policy_dns_strerror(int err)
{
	switch (err) {
	case -EPROTO:
		return "not a successful response to one standard query";
	case -EBADMSG:
		return "a field runs past the end of the message, a record has the wrong length, or bytes are left over";
	case -ELOOP:
		return "a compression pointer that does not point backwards, or too many pointers";
	case -ENAMETOOLONG:
		return "a label over 63 bytes or a name over 255";
	case -EILSEQ:
		return "a label with a character a host name cannot have";
	case -E2BIG:
		return "too many answer or CNAME records";
	default:
		return err >= 0 ? "no error" : "unknown error";
	}
}
