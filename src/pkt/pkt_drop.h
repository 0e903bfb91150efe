/*
 * Every reason the data path drops a packet, in one X-macro: it yields the enum, the
 * name that `ternctl show drops` prints and tests assert on, and the per-worker counter
 * array. A drop without an entry here is a bug.
 *
 * Adding a reason: append one X(ENUM_SUFFIX, "kebab-name") line in the section of the
 * area that drops. Names are stable: operators graph them.
 *
 * Threads: a struct pkt_drop_counters belongs to one worker; the control thread sums
 * them when asked.
 */
#ifndef TERN_PKT_DROP_H
#define TERN_PKT_DROP_H

#include <stdint.h>

#define PKT_DROP_REASONS(X)                                                                        \
	/* packet buffers */                                                                       \
	X(PKT_POOL_EMPTY, "pkt-pool-empty")                                                        \
	X(PKT_NO_HEADROOM, "pkt-no-headroom")                                                      \
	X(PKT_TOO_BIG, "pkt-too-big")                                                              \
	/* IPv4 / IPv6 */                                                                          \
	X(IP_TRUNCATED, "ip-truncated")                                                            \
	X(IP_BAD_VERSION, "ip-bad-version")                                                        \
	X(IPV4_BAD_HEADER_LENGTH, "ipv4-bad-header-length")                                        \
	X(IPV4_BAD_TOTAL_LENGTH, "ipv4-bad-total-length")                                          \
	X(IPV4_BAD_CHECKSUM, "ipv4-bad-checksum")                                                  \
	X(IPV4_BAD_OPTIONS, "ipv4-bad-options")                                                    \
	X(IPV6_BAD_PAYLOAD_LENGTH, "ipv6-bad-payload-length")                                      \
	X(IPV6_EXT_TRUNCATED, "ipv6-ext-truncated")                                                \
	X(IPV6_EXT_TOO_MANY, "ipv6-ext-too-many")                                                  \
	X(IPV6_EXT_BAD_ORDER, "ipv6-ext-bad-order")                                                \
	/* L4 */                                                                                   \
	X(TCP_TRUNCATED, "tcp-truncated")                                                          \
	X(TCP_BAD_DATA_OFFSET, "tcp-bad-data-offset")                                              \
	X(TCP_BAD_OPTIONS, "tcp-bad-options")                                                      \
	X(UDP_TRUNCATED, "udp-truncated")                                                          \
	X(UDP_BAD_LENGTH, "udp-bad-length")                                                        \
	X(ICMP_TRUNCATED, "icmp-truncated")                                                        \
	X(ICMPV6_TRUNCATED, "icmpv6-truncated")                                                    \
	X(L4_BAD_CHECKSUM, "l4-bad-checksum")                                                      \
	/* fragments */                                                                            \
	X(FRAG_BAD_OFFSET, "frag-bad-offset")                                                      \
	X(FRAG_OVERLAP, "frag-overlap")                                                            \
	X(FRAG_TOO_BIG, "frag-too-big")                                                            \
	X(FRAG_TOO_MANY, "frag-too-many")                                                          \
	X(FRAG_TABLE_FULL, "frag-table-full")                                                      \
	X(FRAG_TIMEOUT, "frag-timeout")                                                            \
	X(FRAG_RELOAD, "frag-reload")                                                              \
	/* SVR metadata (src/svr) */                                                               \
	X(META_TRUNCATED, "meta-truncated")                                                        \
	X(META_BAD_VERSION, "meta-bad-version")                                                    \
	X(META_BAD_HEADER_LENGTH, "meta-bad-header-length")                                        \
	X(META_TOO_LONG, "meta-too-long")                                                          \
	X(META_TLV_OVERRUN, "meta-tlv-overrun")                                                    \
	X(META_BAD_TLV_LENGTH, "meta-bad-tlv-length")                                              \
	X(META_MISSING_CONTEXT, "meta-missing-context")                                            \
	X(META_REQUIRED, "meta-required")                                                          \
	X(META_WRONG_SECTION, "meta-wrong-section")                                                \
	X(META_DUPLICATE_TLV, "meta-duplicate-tlv")                                                \
	X(META_BAD_CONTROL, "meta-bad-control")                                                    \
	/* sessions and waypoints (src/session, src/svr) */                                        \
	X(SESSION_TABLE_FULL, "session-table-full")                                                \
	X(WAYPOINT_PORTS_EXHAUSTED, "waypoint-ports-exhausted")                                    \
	X(PROTO_UNSUPPORTED, "proto-unsupported")                                                  \
	/* SVR transforms (src/svr/svr_transform.c) */                                             \
	X(SVR_FRAGMENT_NOT_REASSEMBLED, "svr-fragment-not-reassembled")                            \
	X(SVR_CONTEXT_MISMATCH, "svr-context-mismatch")                                            \
	X(SVR_NOT_CARRIED_AS_UDP, "svr-not-carried-as-udp")                                        \
	X(SVR_CONTROL_NO_SESSION, "svr-control-no-session")                                        \
	X(SVR_CONTROL_BAD, "svr-control-bad")                                                      \
	X(SVR_SESSION_CONFLICT, "svr-session-conflict")                                            \
	X(SVR_NO_PATH, "svr-no-path")                                                              \
	/* security (src/svr data path, src/keyx handshakes; svr-profile section 6) */             \
	X(SEC_AUTH_FAILED, "sec-auth-failed")                                                      \
	X(SEC_REPLAY, "sec-replay")                                                                \
	X(SEC_UNKNOWN_KEY_INDEX, "sec-unknown-key-index")                                          \
	X(SEC_NO_KEY, "sec-no-key")                                                                \
	X(SEC_META_UNSEALED, "sec-meta-unsealed")                                                  \
	X(SEC_KEY_EXHAUSTED, "sec-key-exhausted")                                                  \
	X(SEC_DECISION_MISSING, "sec-decision-missing")                                            \
	X(SEC_BAD_COOKIE, "sec-bad-cookie")                                                        \
	X(SEC_HANDSHAKE_REJECTED, "sec-handshake-rejected")                                        \
	X(SEC_HANDSHAKE_RATE_LIMITED, "sec-handshake-rate-limited")                                \
	/* path probes on UDP 1280 (src/path, counted by ternd's control thread) */                \
	X(PROBE_MALFORMED, "probe-malformed")                                                      \
	X(PROBE_UNKNOWN_PATH, "probe-unknown-path")                                                \
	X(PROBE_UNKNOWN_KEY, "probe-unknown-key")                                                  \
	X(PROBE_BAD_TAG, "probe-bad-tag")                                                          \
	X(PROBE_REPLAY, "probe-replay")                                                            \
	/* the router's worker (src/router/router_worker*.c) */                                    \
	X(ROUTER_LOCAL_SCOPE, "router-local-scope")                                                \
	/* access policy (src/policy, applied by the router's worker) */                           \
	X(POLICY_NO_TENANT, "policy-no-tenant")                                                    \
	X(POLICY_NO_SERVICE, "policy-no-service")                                                  \
	X(POLICY_DENIED, "policy-denied")                                                          \
	X(POLICY_NO_RULE, "policy-no-rule")                                                        \
	X(POLICY_TENANT_SESSION_LIMIT, "policy-tenant-session-limit")                              \
	X(POLICY_TENANT_RATE_LIMIT, "policy-tenant-rate-limit")                                    \
	X(ROUTER_UNKNOWN_PEER, "router-unknown-peer")                                              \
	X(ROUTER_UNKNOWN_SERVICE, "router-unknown-service")                                        \
	X(ROUTER_NAT_UNAVAILABLE, "router-nat-unavailable")                                        \
	X(ROUTER_BREAKOUT_UNSUPPORTED, "router-breakout-unsupported")                              \
	X(ROUTER_BREAKOUT_PORTS_EXHAUSTED, "router-breakout-ports-exhausted")                      \
	/* hub transit (docs/protocol.md "Hub") */                                                 \
	X(ROUTER_HUB_LOOP, "router-hub-loop")                                                      \
	X(ROUTER_HUB_NO_SESSION, "router-hub-no-session")                                          \
	/* NAT between routers (src/router/router_nat.c, docs/decisions/0008-nat.md) */            \
	X(NAT_RELAY_TOO_BIG, "nat-relay-too-big")                                                  \
	X(NAT_RELAY_MALFORMED, "nat-relay-malformed")                                              \
	X(NAT_RELAY_NO_PORT, "nat-relay-no-port")                                                  \
	X(IO_TX_FULL, "io-tx-full")                                                                \
	X(IO_NO_PORT, "io-no-port")                                                                \
	/* stateful firewall (router worker and svr egress; docs/policy.md) */                     \
	X(FW_TCP_NO_SESSION, "fw-tcp-no-session")                                                  \
	X(FW_TCP_NO_SESSION_RESET, "fw-tcp-no-session-reset")                                      \
	X(FW_HALF_OPEN_LIMIT, "fw-half-open-limit")                                                \
	X(FW_ICMP_ERROR_NO_SESSION, "fw-icmp-error-no-session")                                    \
	X(FW_ICMP_ERROR_MALFORMED, "fw-icmp-error-malformed")

enum pkt_drop_reason {
#define PKT_DROP_ENUM(name, text) PKT_DROP_##name,
	PKT_DROP_REASONS(PKT_DROP_ENUM)
#undef PKT_DROP_ENUM
	PKT_DROP_COUNT
};

struct pkt_drop_counters {
	uint64_t count[PKT_DROP_COUNT];
};

/* The stable kebab-case name of a reason; "unknown" for values out of range. */
const char *pkt_drop_reason_name(enum pkt_drop_reason reason);

static inline void
pkt_drop_count(struct pkt_drop_counters *c, enum pkt_drop_reason reason)
{
	c->count[reason]++;
}

#endif
