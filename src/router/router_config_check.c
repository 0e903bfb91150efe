/*
 * The semantic pass of the configuration parser: what one value alone cannot tell.
 * Names must be unique in their list, references must name an existing entry (and
 * become its id), device names and waypoints must not clash, and a path's remote must
 * have its WAN's address family. Each problem is reported at the value at fault, and
 * a reference error lists the names that would have been valid.
 *
 * Names are looked up through a sorted index per list, so a large document costs
 * O(n log n) rather than one scan of the list per reference.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpi/dpi_app.h"
#include "router/router_config_read.h"

#define QUOTE_CHARS 40
#define QUOTE_MAX   (QUOTE_CHARS * 4 + 8)
/* A dangling reference message lists at most this many valid names. */
#define KNOWN_MAX 8

struct name_entry {
	const char *name;
	uint32_t id;
};

/* One list's names: sorted for lookups, plus the list in document order for messages. */
struct name_index {
	const char *list; /* JSON key of the list, for "also at" messages */
	const char *what; /* "a tenant", "a wan", ... */
	struct name_entry *sorted;
	size_t count;      /* entries with a name */
	const char *known; /* "corp, guest" (sorted) or "none defined" */
	char known_buf[KNOWN_MAX * (ROUTER_CONFIG_NAME_MAX + 2) + 8];
};

static int
name_entry_compare(const void *a, const void *b)
{
	const struct name_entry *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	/* Equal names keep document order, so the first one is the original. */
	if (c != 0)
		return c;
	return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * Builds the index of the n names (char *) at offset in each of n entries of stride
 * bytes from base,
 * reporting every later duplicate at $.<list>[i].name.
 */
static void
name_index_build(struct router_config_reader *r, struct name_index *idx, const char *list,
    const char *what, const void *base, size_t offset, size_t stride, size_t n)
{
	size_t used = 0, shown = 0;

	memset(idx, 0, sizeof(*idx));
	idx->list = list;
	idx->what = what;
	idx->known = "none defined";
	if (n == 0)
		return;
	idx->sorted = router_config_reader_calloc(r, n, sizeof(*idx->sorted));
	if (idx->sorted == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		const char *name;

		/* memcpy: the entry is reached through a byte pointer, which -Wcast-align flags. */
		memcpy(&name, (const char *)base + i * stride + offset, sizeof(name));

		if (name == NULL)
			continue;
		idx->sorted[idx->count].name = name;
		idx->sorted[idx->count].id = (uint32_t)i;
		idx->count++;
	}
	qsort(idx->sorted, idx->count, sizeof(*idx->sorted), name_entry_compare);
	/* The valid names for messages: sorted, each once, the first KNOWN_MAX of them. */
	for (size_t i = 0; i < idx->count; i++) {
		const char *name = idx->sorted[i].name;

		if (i > 0 && strcmp(name, idx->sorted[i - 1].name) == 0)
			continue;
		if (used >= sizeof(idx->known_buf))
			break;
		if (shown < KNOWN_MAX)
			used += (size_t)snprintf(idx->known_buf + used,
			    sizeof(idx->known_buf) - used, "%s%s", shown > 0 ? ", " : "", name);
		else if (shown == KNOWN_MAX)
			used += (size_t)snprintf(idx->known_buf + used,
			    sizeof(idx->known_buf) - used, ", ...");
		shown++;
	}
	if (shown > 0)
		idx->known = idx->known_buf;
	for (size_t i = 1; i < idx->count; i++) {
		size_t first_of = i;
		size_t saved;
		char quoted[QUOTE_MAX];

		if (strcmp(idx->sorted[i].name, idx->sorted[i - 1].name) != 0)
			continue;
		while (first_of > 0 &&
		    strcmp(idx->sorted[first_of - 1].name, idx->sorted[i].name) == 0)
			first_of--;
		router_config_quote(idx->sorted[i].name, QUOTE_CHARS, quoted, sizeof(quoted));
		saved = router_config_reader_key(r, list);
		router_config_reader_index(r, idx->sorted[i].id);
		router_config_reader_key(r, "name");
		router_config_reader_error(r, "duplicate name %s (also $.%s[%u].name)", quoted,
		    list, idx->sorted[first_of].id);
		router_config_reader_up(r, saved);
	}
}

static void
name_index_fini(struct name_index *idx)
{
	free(idx->sorted);
}

/* The id of the first entry named name, or -ENOENT. */
static int
name_index_find(const struct name_index *idx, const char *name)
{
	size_t lo = 0, hi = idx->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(idx->sorted[mid].name, name);

		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < idx->count && strcmp(idx->sorted[lo].name, name) == 0)
		return (int)idx->sorted[lo].id;
	return -ENOENT;
}

/* Resolves name at the reader's current path; false (after an error) if it is unknown. */
static bool
resolve(struct router_config_reader *r, const struct name_index *idx, const char *name,
    uint32_t *id)
{
	char quoted[QUOTE_MAX];
	int rc = name_index_find(idx, name);

	if (rc >= 0) {
		*id = (uint32_t)rc;
		return true;
	}
	router_config_quote(name, QUOTE_CHARS, quoted, sizeof(quoted));
	router_config_reader_error(r, "%s is not %s (known: %s)", quoted, idx->what, idx->known);
	return false;
}

static const char *
family_name(const struct addr *a)
{
	return a->family == ADDR_FAMILY_V6 ? "IPv6" : "IPv4";
}

/*
 * A segment's tenants by source prefix: each names a tenant, and a source prefix belongs
 * to one tenant of the segment only (the longest match decides, so a prefix given twice
 * would be a coin toss). The reader is at $.lan[i].
 */
static void
check_lan_tenants(struct router_config_reader *r, struct router_config_lan *lan,
    const struct name_index *tenants)
{
	for (size_t j = 0; j < lan->tenant_count; j++) {
		struct router_config_lan_tenant *t = &lan->tenants[j];
		size_t at = router_config_reader_key(r, "tenants");

		router_config_reader_index(r, j);
		if (t->tenant_name != NULL) {
			size_t k = router_config_reader_key(r, "tenant");

			resolve(r, tenants, t->tenant_name, &t->tenant_id);
			router_config_reader_up(r, k);
		}
		for (size_t p = 0; p < t->prefix_count; p++) {
			bool dup = false;

			for (size_t oj = 0; oj <= j && !dup; oj++)
				for (size_t op = 0;
				     op < (oj == j ? p : lan->tenants[oj].prefix_count); op++)
					if (prefix_equal(&lan->tenants[oj].prefixes[op],
					        &t->prefixes[p])) {
						char text[PREFIX_TEXT_MAX];
						size_t k = router_config_reader_key(r, "prefixes");

						router_config_reader_index(r, p);
						prefix_format(&t->prefixes[p], text, sizeof(text));
						router_config_reader_error(r,
						    "prefix %s is also tenants[%zu].prefixes[%zu] (a "
						    "source prefix belongs to one tenant)",
						    text, oj, op);
						router_config_reader_up(r, k);
						dup = true;
						break;
					}
		}
		router_config_reader_up(r, at);
	}
}

static void
check_lans(struct router_config_reader *r, struct router_config *cfg,
    const struct name_index *tenants)
{
	for (size_t i = 0; i < cfg->lan_count; i++) {
		struct router_config_lan *lan = &cfg->lans[i];
		size_t saved = router_config_reader_key(r, "lan");

		router_config_reader_index(r, i);
		if (lan->tenant_name != NULL) {
			size_t at = router_config_reader_key(r, "tenant");

			resolve(r, tenants, lan->tenant_name, &lan->tenant_id);
			router_config_reader_up(r, at);
		}
		check_lan_tenants(r, lan, tenants);
		router_config_reader_up(r, saved);
	}
}

/* Reports the entry at $.<list>[i].<key> whose text equals an earlier one's. */
static void
check_clash(struct router_config_reader *r, const char *list, size_t i, const char *key,
    const char *what, const char *text, const char *other_list, size_t other)
{
	size_t saved = router_config_reader_key(r, list);
	char quoted[QUOTE_MAX];

	router_config_quote(text, QUOTE_CHARS, quoted, sizeof(quoted));
	router_config_reader_index(r, i);
	router_config_reader_key(r, key);
	router_config_reader_error(r, "%s %s is also used by $.%s[%zu]", what, quoted, other_list,
	    other);
	router_config_reader_up(r, saved);
}

/*
 * Devices: each LAN needs a TUN device of its own, and it cannot be a WAN device.
 * WANs may share a device (two waypoints on one interface) but not a waypoint.
 * Quadratic, but over LAN and WAN lists, which are short (interfaces of one router).
 */
static void
check_devices(struct router_config_reader *r, const struct router_config *cfg)
{
	for (size_t i = 0; i < cfg->lan_count; i++) {
		const char *dev = cfg->lans[i].device;

		if (dev == NULL)
			continue;
		for (size_t j = 0; j < i; j++) {
			if (cfg->lans[j].device != NULL && strcmp(cfg->lans[j].device, dev) == 0) {
				check_clash(r, "lan", i, "device", "device", dev, "lan", j);
				break;
			}
		}
		for (size_t j = 0; j < cfg->wan_count; j++) {
			if (cfg->wans[j].device != NULL && strcmp(cfg->wans[j].device, dev) == 0) {
				check_clash(r, "lan", i, "device", "device", dev, "wan", j);
				break;
			}
		}
	}
	for (size_t i = 0; i < cfg->lan_count; i++) {
		const char *dev = cfg->lans[i].interface;

		if (dev == NULL)
			continue;
		for (size_t j = 0; j < cfg->lan_count; j++) {
			if ((cfg->lans[j].device != NULL &&
			        strcmp(cfg->lans[j].device, dev) == 0) ||
			    (j < i && cfg->lans[j].interface != NULL &&
			        strcmp(cfg->lans[j].interface, dev) == 0)) {
				check_clash(r, "lan", i, "interface", "interface", dev, "lan", j);
				break;
			}
		}
		for (size_t j = 0; j < cfg->wan_count; j++) {
			if (cfg->wans[j].device != NULL && strcmp(cfg->wans[j].device, dev) == 0) {
				check_clash(r, "lan", i, "interface", "interface", dev, "wan", j);
				break;
			}
		}
	}
	for (size_t i = 0; i < cfg->wan_count; i++) {
		const struct router_config_wan *wan = &cfg->wans[i];
		char text[ADDR_TEXT_MAX];

		if (wan->waypoint.family == ADDR_FAMILY_NONE)
			continue;
		for (size_t j = 0; j < i; j++) {
			if (addr_equal(&cfg->wans[j].waypoint, &wan->waypoint)) {
				addr_format(&wan->waypoint, text, sizeof(text));
				check_clash(r, "wan", i, "waypoint", "waypoint", text, "wan", j);
				break;
			}
		}
		for (size_t v = 0; v < wan->vector_count; v++) {
			for (size_t w = 0; w < v; w++) {
				size_t saved;
				char quoted[QUOTE_MAX];

				if (wan->vectors[v] == NULL || wan->vectors[w] == NULL ||
				    strcmp(wan->vectors[v], wan->vectors[w]) != 0)
					continue;
				router_config_quote(wan->vectors[v], QUOTE_CHARS, quoted,
				    sizeof(quoted));
				saved = router_config_reader_key(r, "wan");
				router_config_reader_index(r, i);
				router_config_reader_key(r, "vectors");
				router_config_reader_index(r, v);
				router_config_reader_error(r,
				    "duplicate vector %s (also vectors[%zu])", quoted, w);
				router_config_reader_up(r, saved);
				break;
			}
		}
	}
}

/*
 * Peer keys: a router with a private key authenticates every peer, so each needs its
 * public key, and two peers may not share one (a handshake names its peer by key).
 */
static void
check_peer_keys(struct router_config_reader *r, const struct router_config *cfg)
{
	bool secure = cfg->security.private_key_file != NULL;

	for (size_t i = 0; i < cfg->peer_count; i++) {
		const struct router_config_peer *peer = &cfg->peers[i];
		size_t saved = router_config_reader_key(r, "peers");

		router_config_reader_index(r, i);
		router_config_reader_key(r, "public_key");
		if (secure && !peer->public_key_given) {
			router_config_reader_error(r,
			    "missing (the router has a private_key_file, so every peer needs its "
			    "public key: `ternctl pubkey` on the peer)");
		} else if (!secure && peer->public_key_given) {
			router_config_reader_error(r,
			    "set, but $.router.private_key_file is not (peer keys need this "
			    "router's own key too)");
		} else if (peer->has_public_key) {
			for (size_t j = 0; j < i; j++) {
				if (cfg->peers[j].has_public_key &&
				    memcmp(cfg->peers[j].public_key, peer->public_key,
				        sizeof(peer->public_key)) == 0) {
					router_config_reader_error(r,
					    "same key as $.peers[%zu] (each peer has its own key)",
					    j);
					break;
				}
			}
		}
		router_config_reader_up(r, saved);
	}
}

/*
 * A path across a NAT (docs/decisions/0008-nat.md): the public side ("remote": "auto")
 * learns the peer's translated address from its probes, which must be authenticated;
 * the side behind it ("nat": true) trusts the reflexive address its peer echoes, which
 * must be too. Both carry TCP as UDP, so data and controls share one NAT mapping.
 */
static void
check_path_nat(struct router_config_reader *r, struct router_config *cfg,
    struct router_config_path *p, bool wan_ok)
{
	size_t k;

	if (!p->remote_auto && !p->nat)
		return;
	k = router_config_reader_key(r, p->remote_auto ? "remote" : "nat");
	if (p->remote_auto && p->nat)
		router_config_reader_error(r,
		    "\"auto\" and \"nat\": true together: two routers that are both behind NATs "
		    "cannot find each other without a third party");
	else if (cfg->security.private_key_file == NULL)
		router_config_reader_error(r,
		    "%s needs $.router.private_key_file: the translated address is learned only "
		    "from authenticated probes",
		    p->remote_auto ? "\"auto\"" : "\"nat\": true");
	router_config_reader_up(r, k);
	if (p->remote_auto && wan_ok) {
		memset(&p->remote, 0, sizeof(p->remote));
		p->remote.family = cfg->wans[p->wan_id].waypoint.family;
	}
	p->udp_transform = true;
	p->udp_transform_auto = false;
}

static void
check_peers(struct router_config_reader *r, struct router_config *cfg,
    const struct name_index *wans)
{
	for (size_t i = 0; i < cfg->peer_count; i++) {
		const struct router_config_peer *peer = &cfg->peers[i];
		size_t saved = router_config_reader_key(r, "peers");

		router_config_reader_index(r, i);
		router_config_reader_key(r, "paths");
		for (uint32_t j = 0; j < peer->path_count; j++) {
			struct router_config_path *p = &cfg->paths[peer->path_first + j];
			size_t at = router_config_reader_index(r, j);
			bool wan_ok = false;

			if (p->wan_name != NULL) {
				size_t k = router_config_reader_key(r, "wan");

				wan_ok = resolve(r, wans, p->wan_name, &p->wan_id);
				router_config_reader_up(r, k);
			}
			if (wan_ok && p->remote.family != ADDR_FAMILY_NONE &&
			    p->remote.family != cfg->wans[p->wan_id].waypoint.family &&
			    cfg->wans[p->wan_id].waypoint.family != ADDR_FAMILY_NONE) {
				size_t k = router_config_reader_key(r, "remote");

				router_config_reader_error(r,
				    "%s address, but wan \"%s\" has an %s waypoint (expected the "
				    "same family)",
				    family_name(&p->remote), p->wan_name,
				    family_name(&cfg->wans[p->wan_id].waypoint));
				router_config_reader_up(r, k);
			}
			check_path_nat(r, cfg, p, wan_ok);
			if (p->name == NULL && p->wan_name != NULL)
				p->name = router_config_reader_strdup(r, p->wan_name);
			for (uint32_t q = 0; q < j && p->name != NULL; q++) {
				const struct router_config_path *o =
				    &cfg->paths[peer->path_first + q];

				if (o->name == NULL || strcmp(o->name, p->name) != 0)
					continue;
				router_config_reader_error(r,
				    "path name \"%s\" is also paths[%u]'s (a path is named after its "
				    "wan unless \"name\" is set)",
				    p->name, q);
				break;
			}
			router_config_reader_up(r, at);
		}
		router_config_reader_up(r, saved);
	}
}

static void
check_route(struct router_config_reader *r, struct router_config_service *s,
    const struct name_index *peers, const struct name_index *lans, const struct name_index *wans)
{
	size_t saved;

	if (s->route_name == NULL)
		return;
	saved = router_config_reader_key(r, "route");
	if (s->route_kind == ROUTER_CONFIG_ROUTE_PEER) {
		router_config_reader_key(r, "peer");
		resolve(r, peers, s->route_name, &s->route_id);
	} else if (s->route_kind == ROUTER_CONFIG_ROUTE_BREAKOUT) {
		router_config_reader_key(r, "breakout");
		resolve(r, wans, s->route_name, &s->route_id);
		/* A service address is translated at an SVR egress; breakout has none. */
		if (s->has_address)
			router_config_reader_error(r,
			    "a service with an \"address\" cannot break out (expected a peer or "
			    "lan route, or no address)");
	} else {
		router_config_reader_key(r, "lan");
		resolve(r, lans, s->route_name, &s->route_id);
	}
	router_config_reader_up(r, saved);
}

static void
check_services(struct router_config_reader *r, struct router_config *cfg,
    const struct name_index *tenants, const struct name_index *peers, const struct name_index *lans,
    const struct name_index *wans, const struct name_index *policies)
{
	/* seen[t] == service index + 1 when tenant t is already in that service's access. */
	uint32_t *seen = router_config_reader_calloc(r, cfg->tenant_count, sizeof(*seen));

	if (seen == NULL)
		return;
	for (size_t i = 0; i < cfg->service_count; i++) {
		struct router_config_service *s = &cfg->services[i];
		size_t saved = router_config_reader_key(r, "services");

		router_config_reader_index(r, i);
		for (size_t j = 0; j < s->access_count && s->access_tenant_ids != NULL; j++) {
			size_t at;
			uint32_t id;

			if (s->access_names[j] == NULL)
				continue;
			at = router_config_reader_key(r, "access");
			router_config_reader_index(r, j);
			if (resolve(r, tenants, s->access_names[j], &id)) {
				if (seen[id] == i + 1)
					router_config_reader_error(r,
					    "tenant \"%s\" is listed twice", s->access_names[j]);
				seen[id] = (uint32_t)i + 1;
				s->access_tenant_ids[j] = id;
			}
			router_config_reader_up(r, at);
		}
		check_route(r, s, peers, lans, wans);
		for (size_t j = 0; j < s->app_count; j++) {
			char quoted[QUOTE_MAX];
			size_t at;

			if (s->apps[j] == NULL || dpi_app_known(s->apps[j]))
				continue;
			at = router_config_reader_key(r, "apps");
			router_config_reader_index(r, j);
			router_config_quote(s->apps[j], QUOTE_CHARS, quoted, sizeof(quoted));
			router_config_reader_error(r,
			    "%s is not an application nDPI knows (names as nDPI spells them: "
			    "TLS, HTTP, DNS, QUIC, Google, ...)",
			    quoted);
			router_config_reader_up(r, at);
		}
		if (s->policy_name != NULL) {
			size_t at = router_config_reader_key(r, "policy");

			resolve(r, policies, s->policy_name, &s->policy_id);
			router_config_reader_up(r, at);
		}
		if (s->has_address &&
		    (s->prefix_count != 1 ||
		        s->prefixes[0].len != addr_bits(&s->prefixes[0].addr))) {
			size_t at = router_config_reader_key(r, "address");

			router_config_reader_error(r,
			    "a service with an address needs exactly one host prefix (the real "
			    "server the egress translates the address to)");
			router_config_reader_up(r, at);
		}
		if (s->has_address && s->prefix_count > 0) {
			bool family_ok = false;

			for (size_t j = 0; j < s->prefix_count; j++)
				family_ok |= s->prefixes[j].addr.family == s->address.family;
			if (!family_ok) {
				size_t at = router_config_reader_key(r, "address");

				router_config_reader_error(r,
				    "%s address, but the service has no %s prefix (the egress "
				    "translates it to an address of the same family)",
				    family_name(&s->address), family_name(&s->address));
				router_config_reader_up(r, at);
			}
		}
		router_config_reader_up(r, saved);
	}
	free(seen);
}

/* "any" means every tenant or service in a rule, so no tenant or service may be named so. */
static void
check_reserved(struct router_config_reader *r, const char *list, const char *name, size_t i)
{
	size_t saved;

	if (name == NULL || strcmp(name, "any") != 0)
		return;
	saved = router_config_reader_key(r, list);
	router_config_reader_index(r, i);
	router_config_reader_key(r, "name");
	router_config_reader_error(r,
	    "\"any\" is reserved (a rule's \"any\" means every one; choose another name)");
	router_config_reader_up(r, saved);
}

/* Resolves a rule's tenant or service at key: "any", or an entry's name. */
static void
check_rule_ref(struct router_config_reader *r, const char *key, const char *name,
    const struct name_index *idx, uint32_t *id)
{
	size_t at;

	if (name == NULL)
		return;
	if (strcmp(name, "any") == 0) {
		*id = ROUTER_CONFIG_ID_ANY;
		return;
	}
	at = router_config_reader_key(r, key);
	resolve(r, idx, name, id);
	router_config_reader_up(r, at);
}

static void
check_rules(struct router_config_reader *r, struct router_config *cfg,
    const struct name_index *tenants, const struct name_index *services)
{
	for (size_t i = 0; i < cfg->tenant_count; i++)
		check_reserved(r, "tenants", cfg->tenants[i].name, i);
	for (size_t i = 0; i < cfg->service_count; i++)
		check_reserved(r, "services", cfg->services[i].name, i);
	for (size_t i = 0; i < cfg->rule_count; i++) {
		struct router_config_rule *rule = &cfg->rules[i];
		size_t saved = router_config_reader_key(r, "rules");

		router_config_reader_index(r, i);
		check_rule_ref(r, "tenant", rule->tenant_name, tenants, &rule->tenant_id);
		check_rule_ref(r, "service", rule->service_name, services, &rule->service_id);
		router_config_reader_up(r, saved);
	}
}

void
router_config_check(struct router_config_reader *r, struct router_config *cfg)
{
	struct name_index tenants, lans, wans, peers, services, policies, rules;

	name_index_build(r, &tenants, "tenants", "a tenant", cfg->tenants,
	    offsetof(struct router_config_tenant, name), sizeof(*cfg->tenants), cfg->tenant_count);
	name_index_build(r, &lans, "lan", "a lan", cfg->lans,
	    offsetof(struct router_config_lan, name), sizeof(*cfg->lans), cfg->lan_count);
	name_index_build(r, &wans, "wan", "a wan", cfg->wans,
	    offsetof(struct router_config_wan, name), sizeof(*cfg->wans), cfg->wan_count);
	name_index_build(r, &peers, "peers", "a peer", cfg->peers,
	    offsetof(struct router_config_peer, name), sizeof(*cfg->peers), cfg->peer_count);
	name_index_build(r, &services, "services", "a service", cfg->services,
	    offsetof(struct router_config_service, name), sizeof(*cfg->services),
	    cfg->service_count);
	name_index_build(r, &policies, "service_policies", "a service policy", cfg->policies,
	    offsetof(struct router_config_policy, name), sizeof(*cfg->policies), cfg->policy_count);
	name_index_build(r, &rules, "rules", "a rule", cfg->rules,
	    offsetof(struct router_config_rule, name), sizeof(*cfg->rules), cfg->rule_count);
	if (!r->has_oom) {
		check_lans(r, cfg, &tenants);
		check_devices(r, cfg);
		check_peers(r, cfg, &wans);
		check_peer_keys(r, cfg);
		check_services(r, cfg, &tenants, &peers, &lans, &wans, &policies);
		check_rules(r, cfg, &tenants, &services);
	}
	name_index_fini(&tenants);
	name_index_fini(&lans);
	name_index_fini(&wans);
	name_index_fini(&peers);
	name_index_fini(&services);
	name_index_fini(&policies);
	name_index_fini(&rules);
}
