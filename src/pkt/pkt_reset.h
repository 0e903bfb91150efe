/*
 * TCP resets the router answers with (the stateful firewall, docs/policy.md): the RST
 * RFC 9293 section 3.10.7.1 says a closed port sends, built into a buffer from the
 * pool, never allocated.
 *
 * Threads: pure functions of their arguments and the buffer they fill.
 */
#ifndef TERN_PKT_RESET_H
#define TERN_PKT_RESET_H

#include "pkt/pkt_buf.h"
#include "pkt/pkt_drop.h"

/*
 * Fills out with the reset that answers the parsed TCP segment in (IPv4 or IPv6, not a
 * fragment, not itself a RST): addresses and ports swapped; if in has ACK, seq = its
 * ack number and flags RST; else seq 0, ack = its seq + its length (SYN and FIN count
 * one each) and flags RST|ACK; TTL / hop limit 64, no options, checksums filled, out
 * parsed. out->port is left to the caller. 0, or -EINVAL (in is no such segment).
 */
int pkt_tcp_reset_build(const struct pkt_buf *in, struct pkt_buf *out);

#endif
