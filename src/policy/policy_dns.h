/*
 * The DNS learner's parser: the A and AAAA records of a DNS response (RFC 1035 wire
 * format), as (name, address, TTL), for policy_dns_learn().
 *
 * The name reported is the one the client asked for: an address record reached through
 * CNAME records of the same answer is reported under the start of that chain (the
 * question name), since that is the name an operator writes in a service.
 *
 * Strict and bounded: names are decoded with compression pointers that must point
 * strictly backwards (so no loop is possible) and at most POLICY_DNS_POINTERS_MAX of
 * them per name; labels of 1..63 bytes of letters, digits, '-' and '_' only; names up to
 * 255 wire bytes; every record must lie inside the message; at most
 * POLICY_DNS_RECORDS_MAX answer records are read. No allocation.
 *
 * Threads: pure function.
 */
#ifndef TERN_POLICY_POLICY_DNS_H
#define TERN_POLICY_POLICY_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"

#define POLICY_DNS_POINTERS_MAX 16
#define POLICY_DNS_RECORDS_MAX  64
#define POLICY_DNS_CNAMES_MAX   16

/*
 * Called per address record; name is lower case text without trailing dot (borrowed
 * for the call). A nonzero return stops the parse and is returned.
 */
typedef int (
    *policy_dns_answer_fn)(const char *name, const struct addr *addr, uint32_t ttl_s, void *arg);

/*
 * Parses the response msg (len bytes, the UDP payload, or a TCP message without its
 * length prefix) and calls fn for each IN A/AAAA answer. Returns the number of
 * records reported, or (nothing reported then, the message is checked whole first):
 * -EPROTO      not a standard query response (QR clear, opcode not QUERY, RCODE not
 *              NOERROR, or a question count other than 1);
 * -EBADMSG     a field runs past the end of the message, a record's data length is
 *              wrong for its type, or bytes are left over;
 * -ELOOP       a compression pointer that does not point backwards, or too many;
 * -ENAMETOOLONG a label over 63 bytes (a length byte 0x40..0xbf, which also covers the
 *              obsolete extended label types) or a name over 255;
 * -EILSEQ      a label with a character outside letters, digits, '-' and '_';
 * -E2BIG       more than POLICY_DNS_RECORDS_MAX answer records or CNAME records.
 */
int policy_dns_parse_answer(const uint8_t *msg, size_t len, policy_dns_answer_fn fn, void *arg);

/* A short English text for an error of policy_dns_parse_answer(). */
const char *policy_dns_strerror(int err);

#endif
