/*
 * What ternlab-wanem looks for inside a frame, for the impairments that depend on
 * content (a middlebox, not a link): today whether it is a TCP segment with SYN set
 * that carries data, the frames a firewall that drops SVR SYNs drops.
 *
 * The frame is untrusted bytes off a wire: every length is checked before it is read,
 * and anything that does not parse is "not such a frame" (forwarded as usual).
 *
 * Threads: pure functions of their arguments.
 */
#ifndef TERN_TOOLS_TERNLAB_WANEM_FRAME_H
#define TERN_TOOLS_TERNLAB_WANEM_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * true if the Ethernet frame (len bytes from the destination MAC; one 802.1Q tag
 * allowed) is IPv4 or IPv6 (hop-by-hop, routing and destination options headers
 * skipped) carrying a first or only fragment of TCP whose flags have SYN set and whose
 * payload, by the IP length, is not empty. TCP options are not payload.
 */
bool wanem_frame_is_tcp_syn_data(const uint8_t *frame, size_t len);

#endif
