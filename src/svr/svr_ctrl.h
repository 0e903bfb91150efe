/*
 * SVR control messages: a packet whose L4 payload is exactly one metadata block that
 * carries the control TLV (24), optionally with other fields such as the session UUID
 * or a context. A receiver consumes a control message and never forwards it.
 *
 * Invariants: an encoded control message always holds a control value from enum
 * svr_control; a decoded one was checked for that and for filling the payload exactly.
 *
 * Threads: pure functions over caller-owned memory.
 */
#ifndef TERN_SVR_CTRL_H
#define TERN_SVR_CTRL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkt/pkt_drop.h"
#include "svr/svr_meta.h"

/* True for the values of enum svr_control. */
bool svr_control_is_valid(uint8_t control);

/* True when the decoded block m carries a control TLV (whatever its value). */
bool svr_meta_is_control(const struct svr_meta *m);

/*
 * Encodes a control message into out (cap bytes); *len receives its length. extra may
 * be NULL or carry other fields to send along (its control field is ignored and
 * replaced by control). -EINVAL for a control value outside enum svr_control or an
 * extra field svr_meta_encode refuses, -ENOBUFS if it does not fit.
 */
int svr_ctrl_encode(enum svr_control control, const struct svr_meta *extra, uint8_t *out,
    size_t cap, size_t *len);

/*
 * Decodes the L4 payload data (len bytes) as a control message; m borrows from data as
 * with svr_meta_decode and m->control holds the value. Returns 0, -ENOMSG when there is
 * no cookie (m untouched), or -EBADMSG with *reason: any reason of svr_meta_decode, or
 * META_BAD_CONTROL when the block has no control TLV, an unknown control value, or
 * bytes after it.
 */
int svr_ctrl_decode(const uint8_t *data, size_t len, struct svr_meta *m,
    enum pkt_drop_reason *reason);

#endif
