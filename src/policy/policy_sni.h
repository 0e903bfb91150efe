/*
 * The TLS SNI learner: the server name a client asks for in its ClientHello (RFC 8446
 * 4.1.2, RFC 6066 section 3), read from the first bytes of a TCP session's payload, so
 * a service defined by a domain name matches before the server answers.
 *
 * Strict: one TLS record of type handshake (22) holding exactly one ClientHello (a
 * ClientHello split over several records is refused), every length checked against the
 * one that contains it, and the host name made of labels of letters, digits, '-' and
 * '_'. The walk stops at the server_name extension, so a name in the first TCP segment
 * of a long ClientHello (post-quantum key shares) is known without waiting for the
 * second; what follows that extension is the server's to check. Any prefix of a
 * payload gives -EAGAIN or the same result as the whole payload.
 *
 * Threads: pure function, no allocation.
 */
#ifndef TERN_POLICY_POLICY_SNI_H
#define TERN_POLICY_POLICY_SNI_H

#include <stddef.h>
#include <stdint.h>

/*
 * Writes the host name (lower case, NUL-terminated, no trailing dot) into out (cap
 * bytes) and returns its length, or:
 * -EAGAIN   the bytes so far are a valid beginning but end before the name is known
 *           (wait for more payload);
 * -EINVAL   not a TLS ClientHello, or a malformed one;
 * -ENOENT   a valid ClientHello without a host name;
 * -EILSEQ   the host name has a character a DNS name cannot have;
 * -ENOSPC   the name does not fit in cap bytes;
 * -EOPNOTSUPP a ClientHello split over several records.
 */
int policy_tls_sni(const uint8_t *payload, size_t len, char *out, size_t cap);

#endif
