/*
 * The SVR transforms: what a router does to each packet of a session, as functions
 * over parsed packet buffers with no I/O (docs/protocol.md, "Session setup").
 *
 * Per router (per worker) state is a struct svr_router: its session table, drop
 * counters, the names it puts in metadata and its peer paths. The caller owns all of
 * it; the transforms only read the configuration parts.
 *
 * Packets from the LAN (svr_lan_rx_burst):
 *   hit  -> rewritten to the waypoint tuple (forward metadata added at the ingress until
 *           reverse metadata arrived; reverse metadata added at the egress until a
 *           forward packet without metadata arrived) -> SVR_VERDICT_TO_WAN; at the
 *           ingress, a session whose path is down is first moved (rt->path_pick,
 *           svr_session_migrate()); at the egress, which does not own the waypoint
 *           ports, a reverse packet on a down path stays on it until the ingress moves
 *           the session (its next forward packet or the sweep's keep-alive);
 *   miss -> SVR_VERDICT_NEW_SESSION: the caller classifies (tenant, service, access,
 *           path) and calls svr_lan_first().
 * Packets from the WAN (svr_wan_rx_burst):
 *   hit  -> metadata stripped (and acted on), original tuple restored -> SVR_VERDICT_TO_LAN,
 *           or a control packet consumed -> SVR_VERDICT_CONSUMED; forward metadata of
 *           another session (other context or UUID) on a known tuple means the ingress
 *           reused it: the old session is deleted and the packet is NEW_SESSION;
 *   miss -> SVR_VERDICT_NEW_SESSION: the caller decodes with svr_wan_decode(), applies its
 *           own policy and calls svr_wan_first(), or drops.
 * Every drop is counted in rt->drops under a named reason and gives SVR_VERDICT_DROP;
 * the caller frees dropped and consumed buffers.
 *
 * The fast path (a hit with no metadata due) writes the new addresses and ports and
 * applies the session's precomputed checksum deltas: no allocation, no lock, no log.
 * Packets that carry metadata have their L4 checksum verified before and recomputed
 * after the change, so corruption on either side is never laundered into a valid sum.
 *
 * Threads: one struct svr_router per worker.
 */
#ifndef TERN_SVR_TRANSFORM_H
#define TERN_SVR_TRANSFORM_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/addr.h"
#include "lib/hash.h"
#include "pkt/pkt_buf.h"
#include "pkt/pkt_drop.h"
#include "session/session_table.h"
#include "svr/svr_keys.h"
#include "svr/svr_meta.h"
#include "svr/svr_protect.h"
#include "svr/svr_waypoint.h"

/* SVR handshake state kept in struct session.flags. */
enum svr_session_flag {
	SVR_SESSION_FWD_META = 1u << 0,     /* ingress: add forward metadata toward the peer */
	SVR_SESSION_REV_META = 1u << 1,     /* egress: add reverse metadata toward the peer */
	SVR_SESSION_AS_UDP = 1u << 2,       /* a port-less protocol carried as UDP on the wire */
	SVR_SESSION_DISABLE_SENT = 1u << 3, /* egress: disable-forward-metadata control sent */
	SVR_SESSION_XLATE = 1u << 4, /* hosts and waypoints differ in family: new IP header */
	SVR_SESSION_NAT = 1u << 5,   /* egress: the LAN tuple is translated (struct svr_accept) */
	/* egress: re-bound to a new tuple and nothing sent back since (one-way rule again) */
	SVR_SESSION_MOVED = 1u << 6,
	/*
	 * Always with SVR_SESSION_AS_UDP: a TCP session carried as UDP by the UDP transform
	 * (docs/protocol.md "UDP transform"). The carrying UDP header (waypoint ports) and
	 * the block come first; the host's TCP header follows intact. Set from the path at
	 * the ingress (struct svr_path.udp_transform, by svr_lan_first() and
	 * svr_session_migrate()) and from the packet (or TLV 0x8002) at the egress.
	 */
	SVR_SESSION_UDP_TRANSFORM = 1u << 7,
};
/*
 * Packet duplication (docs/protocol.md "Packet duplication"). A duplicated session has a
 * second WAN key, its second leg, in an alias entry of the session table
 * (SVR_SESSION_ALIAS; found with svr_session_alias()): every packet leaves on both legs
 * with a sequence number, and the receiver delivers the first copy only. Bit 28 is the
 * owner's (SVR_SESSION_INSPECT).
 */
#define SVR_SESSION_DUP   (1u << 29) /* the session is duplicated: it has an alias */
#define SVR_SESSION_ALIAS (1u << 30) /* not a session: the second leg of one */
/* This WAN key carries the ingress's second leg (the ingress's alias always does). */
#define SVR_SESSION_LEG1 (1u << 31)
/*
 * An alias entry's keys. Its LAN key is in zone SVR_ALIAS_ZONE (never a tenant) with
 * the primary's index in src[0..3], so the primary finds it in one lookup; its WAN key
 * is the second leg's waypoint tuple, or while the leg has no path a placeholder in WAN
 * zone SVR_ALIAS_UNBOUND_ZONE that no packet carries.
 */
#define SVR_ALIAS_ZONE         0x7fffu
#define SVR_ALIAS_UNBOUND_ZONE (SESSION_ZONE_WAN | 0x7fffu)
/*
 * The owner's bit: while set, svr_lan_rx_burst() hands each packet of the session to
 * rt->inspect before transforming it (application identification on the first packets).
 */
#define SVR_SESSION_INSPECT (1u << 28)

/* Bits 8..11 of flags: forward metadata packets received at the egress (saturating). */
#define SVR_SESSION_META_RX_SHIFT 8
#define SVR_SESSION_META_RX_MASK  (0xfu << SVR_SESSION_META_RX_SHIFT)
/*
 * A one-way flow: after this many forward metadata packets, or when one arrives this
 * long after the session began, the egress tells the ingress to stop sending them.
 */
#define SVR_UNIDIRECTIONAL_META_PACKETS 4
#define SVR_UNIDIRECTIONAL_META_NS      1000000000ull

/* Largest burst the rx functions take; more are not looked at (give at most this). */
#define SVR_BURST_MAX 64

/*
 * Packets one burst may originate: controls, and the second copies of duplicated
 * sessions' packets (one per packet of the burst at most).
 */
#define SVR_CTRL_OUT_MAX (2 * SVR_BURST_MAX)

/* struct svr_path.state: what the prober last said, as the data path sees it. */
enum svr_path_state {
	SVR_PATH_UP = 0,   /* usable (the zero value: a path nobody marked is up) */
	SVR_PATH_DOWN = 1, /* dead or failing its SLA: ingress sessions on it move */
};

/* Path ids with a meaning for path_pick (never valid indices into rt->paths). */
#define SVR_PATH_NONE UINT16_MAX       /* keep the session where it is */
#define SVR_PATH_DROP (UINT16_MAX - 1) /* policy says drop: the packet is SVR_NO_PATH */

/* One peer path: a (local waypoint, remote waypoint) pair. */
struct svr_path {
	struct addr local;  /* our waypoint address */
	struct addr remote; /* the peer's waypoint address */
	uint16_t wan_zone;  /* SESSION_ZONE_WAN | WAN interface id: zone of the WAN keys */
	uint32_t wan_port;  /* I/O port the path sends on */
	struct svr_waypoint_ports *ports; /* pairs this router allocates on the path */
	const char *name;                 /* peer path id TLV; NULL leaves it out */
	uint16_t peer_id;                 /* index into rt->peer_keys of the path's peer */
	/*
	 * UDP transform (docs/protocol.md "UDP transform"): TCP sessions this router opens on
	 * the path, or moves to it, travel as UDP on the waypoint ports (a middlebox on the
	 * path drops TCP SYNs with data). Set by the router from configuration or when it
	 * detects the middlebox (udp_transform_detect); read by
	 * svr_lan_first() and svr_session_migrate() only, so changing it affects new and
	 * moved sessions, never the carriage of a session already on the path. The egress
	 * follows what arrives and does not read it.
	 */
	bool udp_transform;
	/*
	 * Detection ("udp_transform": "auto"; docs/protocol.md "UDP transform"): an ingress
	 * TCP session on the path whose SYN went out with forward metadata
	 * SVR_UDP_TRANSFORM_DETECT_SYNS times with nothing coming back is moved to the UDP
	 * transform before its next SYN leaves (svr_udp_transform_detect()), and the router
	 * is told (on_udp_transform_detected) so it can turn udp_transform on for the path.
	 */
	bool udp_transform_detect;
	/*
	 * enum svr_path_state. Written by the worker that owns the router, between bursts,
	 * when the control plane reports a path change; the fast path reads it with one
	 * load per LAN packet. The transforms never write it.
	 */
	uint8_t state;
	/*
	 * The largest IP packet the path carries (0: no limit known). A packet that forward
	 * metadata would push past it sends the metadata ahead in a keep-alive instead: a
	 * session moved mid-stream has full-size segments to send, not a SYN.
	 */
	uint16_t mtu;
	/*
	 * NAT (docs/decisions/0008-nat.md). learn: the peer is behind a NAT, so the port its
	 * answers come from is not the one this router chose: ingress sessions on the path
	 * are indexed by UUID (rt->uuid_index) and re-bound by a keep-alive with reverse
	 * metadata (svr_wan_rebind_ingress()). behind_nat: this router is behind a NAT on
	 * the path: a new egress session at once sends such a keep-alive, so the peer learns
	 * the translated tuple before the first answer. Set by the router from configuration.
	 */
	bool learn;
	bool behind_nat;
};

struct svr_stats {
	uint64_t meta_tx;           /* packets sent with forward or reverse metadata */
	uint64_t meta_rx;           /* packets received with metadata (stripped) */
	uint64_t false_positive_tx; /* empty blocks added to payloads that began with the cookie */
	uint64_t control_tx;
	uint64_t control_rx;
	uint64_t rebinds;         /* sessions moved to a new waypoint tuple with the same UUID */
	uint64_t ingress_rebinds; /* ... of them at the ingress, by reverse metadata (NAT) */
	uint64_t keepalives_tx;   /* svr_session_keepalive() controls built */
	uint64_t enable_meta_tx;  /* svr_wan_enable_meta() controls built */
	uint64_t replaced;        /* sessions dropped because their tuple began a new session */
	/* failover (svr_session_migrate) */
	uint64_t migrations;       /* ingress sessions moved to another path */
	uint64_t migrate_failures; /* moves refused (no ports, another peer, ...) */
	uint64_t down_path_tx;     /* packets sent on a path marked down (nothing better) */
	/*
	 * Forward metadata that would have pushed a packet past its path's MTU went ahead
	 * in a keep-alive of its own instead (the packet left without it).
	 */
	uint64_t meta_split;
	/* security (rt->security) */
	uint64_t meta_sealed;    /* metadata blocks sealed (control packets included) */
	uint64_t meta_opened;    /* sealed metadata blocks opened */
	uint64_t payload_sealed; /* packets whose L4 payload was encrypted */
	uint64_t payload_opened; /* packets whose L4 payload was decrypted */
	uint64_t payload_clear;  /* payload packets sent clear by decision */
	uint64_t prot_acks_tx;   /* protection acks sent (in metadata or control packets) */
	uint64_t mss_clamped;    /* TCP SYN / SYN-ACK whose MSS was lowered */
	/* TCP sessions moved to the UDP transform on their own path (detection) */
	uint64_t udp_transform_moves;
	uint64_t decisions[SVR_PROT_REASON_COUNT]; /* decisions made, by enum svr_prot_reason */
	/* packet duplication */
	uint64_t dup_tx;       /* second copies sent (on the second leg) */
	uint64_t dup_filtered; /* copies not delivered: the other copy was delivered first */
	/*
	 * Copies not delivered because they were older than the filter's window: mostly late
	 * copies of packets delivered long before, so not counted as drops.
	 */
	uint64_t dup_stale;
	uint64_t dup_legs;         /* second legs made or bound */
	uint64_t dup_leg_moves;    /* second legs moved to another path */
	uint64_t dup_leg_failures; /* second legs that could not be made (table full, ...) */
	/* ICMP errors carried along their session (docs/protocol.md "ICMP errors") */
	uint64_t icmp_errors_tx; /* from the LAN, sent to the peer */
	uint64_t icmp_errors_rx; /* from the peer, delivered to the host */
};

struct svr_router {
	struct session_table *sessions;
	struct pkt_drop_counters *drops;
	struct pkt_pool *pool;           /* buffers for control packets the router originates */
	const char *name;                /* source router TLV; NULL leaves it out */
	const char *const *tenant_names; /* by tenant id */
	uint16_t tenant_count;
	const char *const *service_names; /* by service id */
	uint16_t service_count;
	const struct svr_path *paths; /* by path id */
	uint16_t path_count;
	const uint32_t *lan_ports; /* I/O port of each LAN zone (tenant id) */
	/* Called by svr_session_release() for what the owner allocated (NULL: nothing). */
	void (*on_release)(const struct session *s, void *arg);
	void *release_arg;
	uint64_t uuid_state[2]; /* xorshift128+ state for session UUIDs */
	/*
	 * UUID (16 bytes) -> session index of the ingress sessions on learn paths, or NULL
	 * when no path learns. Owned by the caller (hash_new() with the session capacity).
	 */
	struct hash *uuid_index;
	/*
	 * Security (docs/protocol.md "Security"). With security set, every metadata block
	 * sent is sealed with the peer's send key and every block received must be sealed
	 * (else SEC_META_UNSEALED); payloads are encrypted per the adaptive decision. Off,
	 * the transforms behave as without these fields.
	 */
	bool security;
	struct svr_peer_keys *peer_keys; /* by peer id (struct svr_path.peer_id) */
	uint16_t peer_count;
	/* Largest TCP MSS a host may announce, by host family (0 = v4, 1 = v6); 0: none. */
	uint16_t tcp_mss_max[2];
	struct svr_stats stats;
	/*
	 * Control packets the router originated during a burst (each with p->port set);
	 * the worker sends and clears them after the burst. Full: counted PKT_POOL_EMPTY.
	 */
	struct pkt_buf *ctrl_out[SVR_CTRL_OUT_MAX];
	unsigned ctrl_out_count;
	/* Internal to the transforms (security): sessions that owe the peer a protection ack. */
	uint32_t ack_pending[SVR_BURST_MAX];
	unsigned ack_pending_count;
	/* Internal: WAN packets handed back as NEW_SESSION whose sealed block is open already. */
	const struct pkt_buf *opened[SVR_BURST_MAX];
	unsigned opened_count;
	/*
	 * Failover. path_pick (NULL: sessions never move by themselves) is called for an
	 * ingress session that must leave its path: by svr_lan_rx_burst() when the path is
	 * down, by svr_sessions_migrate_path() for every session of the swept path. It
	 * returns the path to move to (same peer), SVR_PATH_NONE to keep the session where
	 * it is (its packets still leave by the old path: a path declared down by probes
	 * may still carry some traffic, and the session survives if it comes back), or
	 * SVR_PATH_DROP when the service's policy prefers a drop (counted SVR_NO_PATH).
	 * It runs on the worker thread, per packet while a path is down: keep it cheap.
	 */
	uint16_t (*path_pick)(struct svr_router *rt, const struct session *s, void *arg);
	void *path_pick_arg;
	/*
	 * UDP transform detection (struct svr_path.udp_transform_detect): called once per
	 * session moved to the UDP transform, with its path, on the worker thread in the
	 * middle of a burst (NULL: nobody is told). The router may set udp_transform on the
	 * path from here; the transforms read it for sessions opened afterwards.
	 */
	void (*on_udp_transform_detected)(struct svr_router *rt, uint16_t path_id, void *arg);
	void *udp_transform_arg;
	/*
	 * Called for a LAN packet of a session flagged SVR_SESSION_INSPECT, as it arrived
	 * (untransformed), before the transform; the owner clears the flag when done. NULL:
	 * never. On the worker thread, per packet of such sessions: keep it bounded.
	 */
	void (*inspect)(struct svr_router *rt, const struct pkt_buf *p, struct session *s,
	    uint32_t index, void *arg);
	void *inspect_arg;
	/*
	 * Duplication (NULL: second legs never move). For an ingress session s with
	 * SVR_SESSION_DUP whose second leg is on leg_path (SVR_PATH_NONE: no path yet),
	 * returns the path the second leg should be on: the best path of the policy other
	 * than s->path_id (same peer), leg_path to stay, or SVR_PATH_NONE when there is no
	 * such path. Called with path_pick_arg, per packet while the leg has no usable path.
	 */
	uint16_t (*dup_path_pick)(struct svr_router *rt, const struct session *s, uint16_t leg_path,
	    void *arg);
	/* Internal: the pass of svr_sessions_migrate_path() in progress. */
	struct {
		uint32_t next;      /* next session index to look at */
		uint16_t from_path; /* the path being swept */
		bool active;
	} sweep;
};

enum svr_verdict {
	SVR_VERDICT_DROP = 0,    /* counted in rt->drops; the caller frees the buffer */
	SVR_VERDICT_TO_WAN,      /* send on p->port */
	SVR_VERDICT_TO_LAN,      /* deliver on p->port */
	SVR_VERDICT_CONSUMED,    /* a control packet was acted on; free the buffer */
	SVR_VERDICT_NEW_SESSION, /* no session: classify, then svr_*_first() */
};

/* What the ingress decided for a new session (classification is the caller's). */
struct svr_route {
	uint16_t tenant_id; /* also the LAN zone of the session's LAN key */
	uint16_t service_id;
	uint16_t path_id;
	const uint8_t *uuid;  /* NULL: a fresh random UUID */
	uint8_t encrypt;      /* enum svr_encrypt_mode of the service here */
	bool duplicate;       /* send on two paths (a second leg on dup_path_id) */
	uint16_t dup_path_id; /* SVR_PATH_NONE: no second path yet (it is picked later) */
};

/* What the egress decided for a new session from a peer. */
struct svr_accept {
	uint16_t tenant_id; /* LAN zone to deliver into */
	uint16_t service_id;
	uint16_t path_id; /* the path it arrived on; reverse traffic leaves by it */
	/*
	 * Address translation at the egress (NULL: none). server replaces the service
	 * address the client used; client and client_port replace the client's address and
	 * port (its address overlaps this site's). A translated session sends reverse
	 * metadata without a context and is recognised by its UUID alone.
	 */
	const struct addr *server;
	const struct addr *client;
	uint16_t client_port;
	uint8_t encrypt; /* enum svr_encrypt_mode of the service here */
	/*
	 * Stateful firewall, for a TCP packet that would make a new session (never a
	 * re-bind): tcp_syn_required refuses one whose carried TCP flags are not a SYN
	 * without ACK (FW_TCP_NO_SESSION); half_open_full refuses every one
	 * (FW_HALF_OPEN_LIMIT).
	 */
	bool tcp_syn_required;
	bool half_open_full;
};

/* Seeds the UUID generator from getrandom(); -errno if that fails. */
int svr_router_seed(struct svr_router *rt);

/*
 * Fast path for n (<= SVR_BURST_MAX) parsed packets from the LAN zone `zone`. verdicts[i] for
 * each; a packet with SVR_VERDICT_NEW_SESSION is untouched. p->user is set to the
 * session index of hits.
 */
void svr_lan_rx_burst(struct svr_router *rt, struct pkt_buf **pkts, unsigned n, uint16_t zone,
    enum svr_verdict *verdicts, uint64_t now_ns);

/*
 * First packet of a session at the ingress: allocates the waypoint pair on the route's
 * path, installs the session, adds forward metadata and rewrites. Returns
 * SVR_VERDICT_TO_WAN or SVR_VERDICT_DROP (WAYPOINT_PORTS_EXHAUSTED, SESSION_TABLE_FULL,
 * PKT_NO_HEADROOM, PKT_TOO_BIG, L4_BAD_CHECKSUM, ...).
 */
enum svr_verdict svr_lan_first(struct svr_router *rt, struct pkt_buf *p, uint16_t zone,
    const struct svr_route *route, uint64_t now_ns);

/* Fast path for n (<= SVR_BURST_MAX) parsed packets from the WAN zone `wan_zone`. */
void svr_wan_rx_burst(struct svr_router *rt, struct pkt_buf **pkts, unsigned n, uint16_t wan_zone,
    enum svr_verdict *verdicts, uint64_t now_ns);

/*
 * Decodes the metadata of a WAN packet that matched no session. 0 with *m filled (it
 * borrows from p); -EBADMSG counted in rt->drops (META_REQUIRED when there is no
 * block, the decoder's reason when it is malformed, META_MISSING_CONTEXT when it lacks
 * a forward context, SVR_CONTROL_NO_SESSION for a control packet other than a
 * keep-alive with forward context and UUID, which goes on to svr_wan_first()).
 */
int svr_wan_decode(struct svr_router *rt, struct pkt_buf *p, struct svr_meta *m);

/*
 * First packet of a session at the egress, after svr_wan_decode() and the caller's
 * policy: installs the session (or re-binds an existing one with the same UUID to the
 * new waypoint tuple), strips the metadata, restores the original tuple.
 * Returns SVR_VERDICT_TO_LAN or SVR_VERDICT_DROP.
 *
 * Re-binding (the ingress moved the session, svr_session_migrate()): the session keeps
 * its UUID, protection decisions and counters; its WAN key becomes the packet's tuple
 * and reverse traffic leaves by accept->path_id from then on. The path must lead to the
 * same peer as before (else SVR_SESSION_CONFLICT). A keep-alive control that carries
 * forward metadata (the ingress's sweep) only re-binds: SVR_VERDICT_CONSUMED, or a drop
 * SVR_CONTROL_NO_SESSION when there is no session to re-bind.
 */
enum svr_verdict svr_wan_first(struct svr_router *rt, struct pkt_buf *p, const struct svr_meta *m,
    const struct svr_accept *accept, uint64_t now_ns);

/*
 * NAT: a packet on an unknown tuple that carries reverse metadata and a UUID, a
 * keep-alive or an answer (svr_wan_decode() returned 0 without SVR_META_F_FWD_CTX),
 * re-binds the ingress session of that UUID to the packet's tuple: the egress is behind
 * a NAT that gave its port a new mapping (or the first one). The session must be an
 * ingress session on a learn path of path_id's peer, and with security the block must
 * be under that peer's key. A keep-alive is consumed and stops forward metadata (the
 * egress has the session): SVR_VERDICT_CONSUMED; an answer then goes on as any packet
 * of the session (SVR_VERDICT_TO_LAN). Drops: SVR_CONTROL_NO_SESSION (no such session),
 * SVR_SESSION_CONFLICT (another peer's, or the tuple is taken), SEC_UNKNOWN_KEY_INDEX,
 * or those of the session's own packets.
 */
enum svr_verdict svr_wan_rebind_ingress(struct svr_router *rt, struct pkt_buf *p,
    const struct svr_meta *m, uint16_t path_id, uint64_t now_ns);

/*
 * NAT: p came from a peer behind a NAT on path_id, on a tuple no session has and without
 * metadata (its NAT gave a session a new mapping): answers it with an "enable metadata"
 * control to where it came from (into rt->ctrl_out), so the peer's session sends its
 * metadata and this router re-binds it by UUID one round trip later. The caller rate
 * limits it. Counted in stats.enable_meta_tx; failures are counted drops.
 */
void svr_wan_enable_meta(struct svr_router *rt, const struct pkt_buf *p, uint16_t path_id);

/*
 * A keep-alive control for session index on its waypoint tuple (into rt->ctrl_out, sent
 * by the worker after the call) that carries the session's handshake metadata: forward
 * metadata from the ingress, reverse metadata with the UUID from the egress, so the
 * peer can re-bind it after a NAT gave it a new tuple, and the NAT mapping stays fresh.
 * A duplicated session's goes on both legs; an alias (second leg) index sends on that
 * leg only. 0, or -ENOENT; a control that cannot be built is a counted drop.
 */
int svr_session_keepalive(struct svr_router *rt, uint32_t index);

/*
 * The alias (second leg) of duplicated session index, or SESSION_INDEX_NONE. Borrowed
 * through session_table_get(); for `ternctl show session` and tests.
 */
uint32_t svr_session_alias(struct svr_router *rt, uint32_t index);

/*
 * Moves the second leg of ingress session index (SVR_SESSION_DUP) to path new_path_id,
 * as svr_session_migrate() moves the first: a new waypoint pair on that path, forward
 * metadata again on that leg (same UUID) so the egress binds the new tuple to the leg.
 * 0; -ENOENT (no duplicated session there), -EPERM (not the ingress), -EINVAL (no such
 * path, or the first leg's), -EALREADY, -EXDEV (another peer), -EAFNOSUPPORT,
 * -EADDRNOTAVAIL, -EEXIST as for svr_session_migrate(); on error nothing changed.
 */
int svr_session_dup_move(struct svr_router *rt, uint32_t index, uint16_t new_path_id,
    uint64_t now_ns);

/*
 * Session ended (expired or deleted): returns its waypoint pair if this router
 * allocated it. Call from the session table's on_expire hook before deletion. For a
 * duplicated session it also deletes the alias (second leg) and returns its pair; for
 * an alias that expires by itself it returns the alias's pair and the session goes on
 * with one leg until the next packet makes a new one (on_release is not called).
 */
void svr_session_release(struct svr_router *rt, const struct session *s);

/*
 * Failover (svr-profile section 7, docs/protocol.md "Failover"), at the ingress only:
 * moves session index to path new_path_id. A new waypoint pair is taken from the new
 * path's allocator, the session's WAN key becomes the new tuple (new waypoint
 * addresses, ports and WAN zone), the checksum deltas are recomputed, the old pair goes
 * back to the old path, and forward metadata (same UUID) is due again so the egress
 * re-binds the session on the first packet that reaches it. The payload protection
 * state is kept: same peer, same keys, same UUID in the associated data. Sends nothing
 * itself: the next forward packet (or the sweep's keep-alive) carries the metadata.
 * A TCP session takes the carriage of the new path: as UDP when it has udp_transform
 * set, as TCP otherwise (the egress follows; the sweep's keep-alive says which).
 * Packets of the session still in flight on the old tuple are lost.
 * 0; -ENOENT (no session there), -EPERM (not an ingress session), -EINVAL (no such
 * path), -EALREADY (already on that path), -EXDEV (the path leads to another peer),
 * -EAFNOSUPPORT (the path's waypoints differ in family), -EADDRNOTAVAIL (no free pair
 * on the new path), -EEXIST (the new tuple is taken); on error nothing changed.
 * Counted in rt->stats (migrations, migrate_failures).
 */
int svr_session_migrate(struct svr_router *rt, uint32_t index, uint16_t new_path_id,
    uint64_t now_ns);

/*
 * SYNs with metadata an ingress TCP session may send unanswered on a path with
 * udp_transform_detect before its next SYN goes as UDP: with Linux's SYN retransmission
 * timer (1 s, then 2 s) the session is carried as UDP about 3 s after its first SYN.
 */
#define SVR_UDP_TRANSFORM_DETECT_SYNS 2

/*
 * Moves ingress TCP session index to the UDP transform on its own path: a new waypoint
 * pair, UDP carriage, forward metadata due again (as svr_session_migrate(), which the
 * egress follows by the UUID). 0; -ENOENT, -EPERM (not an ingress session),
 * -EPROTONOSUPPORT (not TCP), -EALREADY (carried as UDP already), -EADDRNOTAVAIL,
 * -EEXIST as svr_session_migrate(); on error nothing changed. Counted in
 * rt->stats.udp_transform_moves.
 */
int svr_session_udp_transform(struct svr_router *rt, uint32_t index);

/*
 * Detection, for a LAN packet p of session index that is about to leave (the fast path
 * calls it for a SYN without ACK of a session that still sends forward metadata): when
 * the session's path has udp_transform_detect, the session is TCP carried as TCP, has
 * received nothing and has sent SVR_UDP_TRANSFORM_DETECT_SYNS packets already, it is
 * moved to the UDP transform (so p leaves as UDP) and rt->on_udp_transform_detected is
 * called. Returns true when it moved the session.
 */
bool svr_udp_transform_detect(struct svr_router *rt, struct session *s, uint32_t index);

/*
 * Proactive failover and revert: walks the sessions (at most budget of them per call;
 * the cursor stays in rt) and, for every ingress session on from_path, asks path_pick
 * and migrates it. Each migrated session gets a keep-alive control with its forward
 * metadata on the new path (into rt->ctrl_out: the worker sends them after the call, as
 * after a burst), so the egress re-binds it even if the client is silent. A call with
 * another from_path than the pass in progress starts a new pass; a pass also pauses when
 * rt->ctrl_out is full. Returns the sessions migrated by this call. Call it every tick
 * while the path is down (or, for a revert, for the path the sessions moved to once the
 * preferred one is back) until svr_sessions_migrate_done().
 */
unsigned svr_sessions_migrate_path(struct svr_router *rt, uint16_t from_path, unsigned budget,
    uint64_t now_ns);

/* True unless a pass over from_path is in progress (so also before the first call). */
bool svr_sessions_migrate_done(const struct svr_router *rt, uint16_t from_path);

/*
 * Sends what the router owes its peers at the end of a burst: protection acks that no
 * packet toward the peer carried become control packets (UDP-borne sessions) in
 * rt->ctrl_out. svr_lan_rx_burst() calls it at its end and svr_wan_rx_burst() at its
 * start; a worker that goes idle calls it too.
 */
void svr_router_flush(struct svr_router *rt);

/* Builds the LAN key of a parsed packet from the LAN zone (0, or -EPROTONOSUPPORT). */
int svr_lan_key(const struct pkt_buf *p, uint16_t zone, struct session_key *key);
/* Builds the WAN key of a parsed packet from the WAN (0, or -EPROTONOSUPPORT). */
int svr_wan_key(const struct pkt_buf *p, uint16_t wan_zone, struct session_key *key);

#endif
