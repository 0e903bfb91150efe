/*
 * The configuration snapshot (router_config.h): JSON text in, one immutable snapshot
 * out. The document is read section by section into the model, every problem reported
 * at its JSON path; then router_config_check() resolves names to ids and checks what
 * spans sections. Only a document without a single error becomes a snapshot.
 */
#include "router/router_config.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "router/router_config_read.h"

/* Defaults of the session table (session/session_table.h), in seconds. */
static const struct router_config_timeouts timeouts_default = {
    .tcp_opening_s = 10,
    .tcp_established_s = 1900,
    .tcp_closing_s = 10,
    .udp_s = 180,
    .icmp_s = 10,
};

static const char *const keys_top[] = {"router", "lan", "wan", "peers", "tenants",
    "service_policies", "services", "rules", "timeouts", "limits", "dns", "firewall", NULL};
static const char *const keys_dns[] = {"servers", "min_ttl_s", "max_ttl_s", NULL};
static const char *const keys_firewall[] = {"tcp_no_session", "half_open_max", "resets_per_s",
    NULL};
static const char *const tcp_no_session_names[] = {"drop", "reset", NULL};
static const char *const keys_router[] = {"name", "private_key_file", "cipher", "rekey_after_s",
    NULL};
static const char *const cipher_names[] = {"aes-256-gcm", "chacha20-poly1305", NULL};
static const char *const encryption_names[] = {"auto", "on", "off", NULL};
static const char *const keys_tenant[] = {"name", "limits", NULL};
static const char *const keys_tenant_limits[] = {"sessions", "new_sessions_per_s", NULL};
static const char *const keys_rule[] = {"name", "tenant", "service", "action", NULL};
static const char *const action_names[] = {"allow", "deny", NULL};
static const char *const keys_lan[] = {"name", "tenant", "device", "address", "prefixes",
    "nat_pool", "tenants", "interface", NULL};
static const char *const keys_lan_tenant[] = {"tenant", "prefixes", NULL};
static const char *const keys_wan[] = {"name", "device", "waypoint", "vectors", NULL};
static const char *const keys_peer[] = {"name", "public_key", "paths", "probe", NULL};
static const char *const keys_path[] = {"wan", "remote", "name", "probe", "udp_transform", "nat",
    NULL};
static const char *const keys_probe[] = {"interval_ms", "down_after", "hold_down_ms",
    "hold_down_max_ms", NULL};
static const char *const keys_policy[] = {"name", "sla", "vector_costs", "default_cost",
    "resiliency", "no_path", NULL};
static const char *const keys_sla[] = {"max_latency_ms", "max_jitter_ms", "max_loss_pct", "min_mos",
    NULL};
/* Written in this order in messages; resiliency_values maps them to the enum. */
static const char *const resiliency_names[] = {"none", "failover", "revertible-failover",
    "duplicate", NULL};
static const uint8_t resiliency_values[] = {ROUTER_CONFIG_RESILIENCY_NONE,
    ROUTER_CONFIG_RESILIENCY_FAILOVER, ROUTER_CONFIG_RESILIENCY_REVERTIBLE_FAILOVER,
    ROUTER_CONFIG_RESILIENCY_DUPLICATE};
static const char *const no_path_names[] = {"best-effort", "drop", NULL};
static const char *const keys_service[] = {"name", "prefixes", "ports", "access", "route",
    "encryption", "address", "policy", "domains", "apps", NULL};

static const struct router_config_probe probe_default = {
    .interval_ms = ROUTER_CONFIG_PROBE_INTERVAL_DEFAULT_MS,
    .down_after = ROUTER_CONFIG_PROBE_DOWN_AFTER_DEFAULT,
    .hold_down_ms = ROUTER_CONFIG_PROBE_HOLD_DOWN_DEFAULT_MS,
    .hold_down_max_ms = ROUTER_CONFIG_PROBE_HOLD_DOWN_CAP_DEFAULT_MS,
};
static const char *const keys_route[] = {"peer", "lan", "breakout", NULL};
static const char *const keys_timeouts[] = {"tcp_opening_s", "tcp_established_s", "tcp_closing_s",
    "udp_s", "icmp_s", NULL};
static const char *const keys_limits[] = {"sessions", "inspected_sessions", NULL};

void
router_config_free(struct router_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->name);
	free(cfg->security.private_key_file);
	for (size_t i = 0; i < cfg->tenant_count; i++)
		free(cfg->tenants[i].name);
	free(cfg->tenants);
	for (size_t i = 0; i < cfg->lan_count; i++) {
		free(cfg->lans[i].name);
		free(cfg->lans[i].tenant_name);
		free(cfg->lans[i].device);
		free(cfg->lans[i].prefixes);
		free(cfg->lans[i].interface);
		for (size_t j = 0; j < cfg->lans[i].tenant_count; j++) {
			free(cfg->lans[i].tenants[j].tenant_name);
			free(cfg->lans[i].tenants[j].prefixes);
		}
		free(cfg->lans[i].tenants);
	}
	free(cfg->lans);
	for (size_t i = 0; i < cfg->wan_count; i++) {
		free(cfg->wans[i].name);
		free(cfg->wans[i].device);
		for (size_t j = 0; j < cfg->wans[i].vector_count; j++)
			free(cfg->wans[i].vectors[j]);
		free(cfg->wans[i].vectors);
	}
	free(cfg->wans);
	for (size_t i = 0; i < cfg->peer_count; i++)
		free(cfg->peers[i].name);
	free(cfg->peers);
	for (size_t i = 0; i < cfg->path_count; i++) {
		free(cfg->paths[i].name);
		free(cfg->paths[i].wan_name);
	}
	free(cfg->paths);
	for (size_t i = 0; i < cfg->policy_count; i++) {
		struct router_config_policy *pol = &cfg->policies[i];

		free(pol->name);
		for (size_t j = 0; j < pol->vector_cost_count; j++)
			free(pol->vector_costs[j].vector);
		free(pol->vector_costs);
	}
	free(cfg->policies);
	for (size_t i = 0; i < cfg->service_count; i++) {
		struct router_config_service *s = &cfg->services[i];

		free(s->name);
		free(s->policy_name);
		free(s->prefixes);
		free(s->ports);
		for (size_t j = 0; j < s->access_count; j++)
			free(s->access_names[j]);
		free(s->access_names);
		free(s->access_tenant_ids);
		free(s->route_name);
		for (size_t j = 0; j < s->domain_count; j++)
			free(s->domains[j]);
		free(s->domains);
		for (size_t j = 0; j < s->app_count; j++)
			free(s->apps[j]);
		free(s->apps);
	}
	free(cfg->services);
	for (size_t i = 0; i < cfg->rule_count; i++) {
		free(cfg->rules[i].name);
		free(cfg->rules[i].tenant_name);
		free(cfg->rules[i].service_name);
	}
	free(cfg->rules);
	free(cfg);
}

/* Reads a list of prefixes at obj[key] into a new array. */
static void
read_prefixes(struct router_config_reader *r, const json_t *obj, const char *key, bool required,
    struct prefix **out, size_t *count)
{
	const json_t *array, *item;
	size_t i, saved;

	array = router_config_read_array(r, obj, key, required, required ? 1 : 0,
	    ROUTER_CONFIG_ITEMS_MAX);
	if (array == NULL)
		return;
	*out = router_config_reader_calloc(r, json_array_size(array), sizeof(**out));
	if (*out == NULL)
		return;
	saved = router_config_reader_key(r, key);
	json_array_foreach(array, i, item)
	{
		size_t at = router_config_reader_index(r, i);

		if (router_config_value_prefix(r, item, &(*out)[*count]))
			(*count)++;
		router_config_reader_up(r, at);
	}
	router_config_reader_up(r, saved);
}

/* Reads a list of names at obj[key] into a new array of strings. */
static void
read_names(struct router_config_reader *r, const json_t *obj, const char *key, bool required,
    char ***out, size_t *count)
{
	const json_t *array, *item;
	size_t i, saved;

	array = router_config_read_array(r, obj, key, required, required ? 1 : 0,
	    ROUTER_CONFIG_ITEMS_MAX);
	if (array == NULL)
		return;
	*out = router_config_reader_calloc(r, json_array_size(array), sizeof(**out));
	if (*out == NULL)
		return;
	saved = router_config_reader_key(r, key);
	json_array_foreach(array, i, item)
	{
		size_t at = router_config_reader_index(r, i);

		/* Keep positions so later checks can name the entry's index. */
		router_config_value_name(r, item, &(*out)[i]);
		router_config_reader_up(r, at);
	}
	*count = json_array_size(array);
	router_config_reader_up(r, saved);
}

/*
 * A domain name as a service names it: "example.com" or "*.example.com" (every name
 * below it), labels of 1..63 letters, digits, '-' or '_', at most 253 characters, one
 * optional trailing dot. Lower-cased copy in *out, or false with the error at r.
 */
static bool
read_domain(struct router_config_reader *r, const json_t *value, char **out)
{
	const char *text = json_string_value(value), *c;
	char buf[256], quoted[80 * 4 + 8];
	size_t n, label = 0;

	if (text == NULL) {
		router_config_reader_error(r, "expected a domain name (a string), got %s",
		    router_config_json_type(value));
		return false;
	}
	n = strlen(text);
	c = strncmp(text, "*.", 2) == 0 ? text + 2 : text;
	if (n > 0 && text[n - 1] == '.')
		n--;
	if (n == 0 || n > 253 || (size_t)(c - text) >= n)
		goto bad;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)text[i];

		if (text + i < c) {
			buf[i] = (char)ch;
			continue;
		}
		if (ch == '.') {
			if (label == 0)
				goto bad;
			label = 0;
		} else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_') {
			if (++label > 63)
				goto bad;
		} else {
			goto bad;
		}
		buf[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
	}
	if (label == 0)
		goto bad;
	buf[n] = '\0';
	*out = router_config_reader_strdup(r, buf);
	return *out != NULL;
bad:
	/* Quoted: the name is the user's bytes and may hold control characters. */
	router_config_quote(text, 80, quoted, sizeof(quoted));
	router_config_reader_error(r,
	    "%s is not a domain name (expected NAME or *.NAME: labels of 1 to 63 "
	    "letters, digits, '-' or '_' joined by dots, at most 253 characters)",
	    quoted);
	return false;
}

static void
read_domains(struct router_config_reader *r, const json_t *obj, struct router_config_service *s)
{
	const json_t *array, *item;
	size_t i, saved;

	array = router_config_read_array(r, obj, "domains", false, 0, ROUTER_CONFIG_ITEMS_MAX);
	if (array == NULL)
		return;
	s->domains = router_config_reader_calloc(r, json_array_size(array), sizeof(*s->domains));
	if (s->domains == NULL)
		return;
	saved = router_config_reader_key(r, "domains");
	json_array_foreach(array, i, item)
	{
		size_t at = router_config_reader_index(r, i);

		if (read_domain(r, item, &s->domains[s->domain_count]))
			s->domain_count++;
		router_config_reader_up(r, at);
	}
	router_config_reader_up(r, saved);
}

/*
 * Calls read_one for each element of the top-level list key into a zeroed array of
 * n elements of size bytes; elements that fail stay zeroed (NULL names) so indices in
 * paths stay the document's.
 */
static void *
read_list(struct router_config_reader *r, const json_t *root, const char *key, size_t size,
    size_t *count, void (*read_one)(struct router_config_reader *, const json_t *, void *, void *),
    void *ctx)
{
	const json_t *array, *item;
	size_t i, saved;
	char *items;

	array = router_config_read_array(r, root, key, false, 0, ROUTER_CONFIG_LIST_MAX);
	if (array == NULL)
		return NULL;
	items = router_config_reader_calloc(r, json_array_size(array), size);
	if (items == NULL)
		return NULL;
	*count = json_array_size(array);
	saved = router_config_reader_key(r, key);
	json_array_foreach(array, i, item)
	{
		size_t at = router_config_reader_index(r, i);

		read_one(r, item, items + i * size, ctx);
		router_config_reader_up(r, at);
	}
	router_config_reader_up(r, saved);
	return items;
}

static void
read_tenant(struct router_config_reader *r, const json_t *obj, void *item, void *ctx)
{
	struct router_config_tenant *t = item;

	const json_t *limits;
	size_t saved;

	(void)ctx;
	if (!router_config_read_object(r, obj, keys_tenant))
		return;
	router_config_read_name(r, obj, "name", true, &t->name);
	limits = json_object_get(obj, "limits");
	if (limits == NULL)
		return;
	saved = router_config_reader_key(r, "limits");
	if (router_config_read_object(r, limits, keys_tenant_limits)) {
		router_config_read_uint(r, limits, "sessions", 1, ROUTER_CONFIG_TENANT_SESSIONS_MAX,
		    &t->max_sessions);
		router_config_read_uint(r, limits, "new_sessions_per_s", 1,
		    ROUTER_CONFIG_TENANT_RATE_MAX, &t->max_new_per_s);
	}
	router_config_reader_up(r, saved);
}

/* Names are resolved (or taken as "any") by the semantic pass. */
static void
read_rule(struct router_config_reader *r, const json_t *obj, void *item, void *ctx)
{
	struct router_config_rule *rule = item;
	uint8_t choice;
	size_t saved;

	(void)ctx;
	if (!router_config_read_object(r, obj, keys_rule))
		return;
	router_config_read_name(r, obj, "name", true, &rule->name);
	router_config_read_name(r, obj, "tenant", true, &rule->tenant_name);
	router_config_read_name(r, obj, "service", true, &rule->service_name);
	if (json_object_get(obj, "action") == NULL) {
		saved = router_config_reader_key(r, "action");
		router_config_reader_error(r, "missing (expected \"allow\" or \"deny\")");
		router_config_reader_up(r, saved);
	} else if (router_config_read_choice(r, obj, "action", action_names, &choice)) {
		rule->action = choice == 0 ? ROUTER_CONFIG_ACTION_ALLOW : ROUTER_CONFIG_ACTION_DENY;
	}
}

/* "tenants": [{"tenant": NAME, "prefixes": [...]}, ...] of one LAN segment. */
static void
read_lan_tenants(struct router_config_reader *r, const json_t *obj, struct router_config_lan *lan)
{
	const json_t *array, *item;
	size_t i, saved;

	array = router_config_read_array(r, obj, "tenants", false, 0, ROUTER_CONFIG_ITEMS_MAX);
	if (array == NULL || json_array_size(array) == 0)
		return;
	lan->tenants =
	    router_config_reader_calloc(r, json_array_size(array), sizeof(*lan->tenants));
	if (lan->tenants == NULL)
		return;
	lan->tenant_count = json_array_size(array);
	saved = router_config_reader_key(r, "tenants");
	json_array_foreach(array, i, item)
	{
		struct router_config_lan_tenant *t = &lan->tenants[i];
		size_t at = router_config_reader_index(r, i);

		if (router_config_read_object(r, item, keys_lan_tenant)) {
			router_config_read_name(r, item, "tenant", true, &t->tenant_name);
			read_prefixes(r, item, "prefixes", true, &t->prefixes, &t->prefix_count);
		}
		router_config_reader_up(r, at);
	}
	router_config_reader_up(r, saved);
}

static void
read_lan(struct router_config_reader *r, const json_t *obj, void *item, void *ctx)
{
	struct router_config_lan *lan = item;
	const json_t *address;
	size_t saved;

	(void)ctx;
	if (!router_config_read_object(r, obj, keys_lan))
		return;
	router_config_read_name(r, obj, "name", true, &lan->name);
	router_config_read_name(r, obj, "tenant", true, &lan->tenant_name);
	if (json_object_get(obj, "device") != NULL) {
		router_config_read_device(r, obj, "device", false, &lan->device);
	} else if (lan->name != NULL) {
		char device[ROUTER_CONFIG_NAME_MAX + 8];

		snprintf(device, sizeof(device), "tern-%s", lan->name);
		saved = router_config_reader_key(r, "device");
		if (strlen(device) > ROUTER_CONFIG_DEVICE_MAX)
			router_config_reader_error(r,
			    "missing, and the default \"%s\" is longer than %d characters (set "
			    "\"device\")",
			    device, ROUTER_CONFIG_DEVICE_MAX);
		else
			lan->device = router_config_reader_strdup(r, device);
		router_config_reader_up(r, saved);
	}
	address = json_object_get(obj, "address");
	saved = router_config_reader_key(r, "address");
	if (address == NULL)
		router_config_reader_error(r,
		    "missing (expected the router's address with a length, e.g. \"10.1.0.1/24\")");
	else
		router_config_value_addr_len(r, address, &lan->address, &lan->address_len);
	router_config_reader_up(r, saved);
	read_prefixes(r, obj, "prefixes", true, &lan->prefixes, &lan->prefix_count);
	if (json_object_get(obj, "nat_pool") != NULL) {
		saved = router_config_reader_key(r, "nat_pool");
		lan->has_nat_pool =
		    router_config_value_prefix(r, json_object_get(obj, "nat_pool"), &lan->nat_pool);
		router_config_reader_up(r, saved);
	}
	if (json_object_get(obj, "interface") != NULL)
		router_config_read_device(r, obj, "interface", false, &lan->interface);
	read_lan_tenants(r, obj, lan);
}

static void
read_wan(struct router_config_reader *r, const json_t *obj, void *item, void *ctx)
{
	struct router_config_wan *wan = item;

	(void)ctx;
	if (!router_config_read_object(r, obj, keys_wan))
		return;
	router_config_read_name(r, obj, "name", true, &wan->name);
	router_config_read_device(r, obj, "device", true, &wan->device);
	router_config_read_addr(r, obj, "waypoint", true, &wan->waypoint);
	read_names(r, obj, "vectors", false, &wan->vectors, &wan->vector_count);
}

/*
 * Reads obj["probe"], if present, over *probe (the peer's values for a path, the
 * defaults for a peer). The hold-down cap is checked against the first hold-down only
 * when this object sets one of them, so a peer's mistake is reported once, at the peer.
 */
static void
read_probe(struct router_config_reader *r, const json_t *obj, struct router_config_probe *probe)
{
	const json_t *value = json_object_get(obj, "probe");
	size_t saved, at;

	if (value == NULL)
		return;
	saved = router_config_reader_key(r, "probe");
	if (!router_config_read_object(r, value, keys_probe))
		goto out;
	router_config_read_uint(r, value, "interval_ms", ROUTER_CONFIG_PROBE_INTERVAL_MIN_MS,
	    ROUTER_CONFIG_PROBE_INTERVAL_MAX_MS, &probe->interval_ms);
	router_config_read_uint(r, value, "down_after", ROUTER_CONFIG_PROBE_DOWN_AFTER_MIN,
	    ROUTER_CONFIG_PROBE_DOWN_AFTER_MAX, &probe->down_after);
	router_config_read_uint(r, value, "hold_down_ms", 0, ROUTER_CONFIG_PROBE_HOLD_DOWN_MAX_MS,
	    &probe->hold_down_ms);
	router_config_read_uint(r, value, "hold_down_max_ms", 0,
	    ROUTER_CONFIG_PROBE_HOLD_DOWN_CAP_MAX_MS, &probe->hold_down_max_ms);
	if (probe->hold_down_max_ms >= probe->hold_down_ms)
		goto out;
	if (json_object_get(value, "hold_down_max_ms") != NULL) {
		at = router_config_reader_key(r, "hold_down_max_ms");
		router_config_reader_error(r,
		    "%u is less than hold_down_ms %u (expected the longest hold-down, at least "
		    "the first)",
		    probe->hold_down_max_ms, probe->hold_down_ms);
		router_config_reader_up(r, at);
	} else if (json_object_get(value, "hold_down_ms") != NULL) {
		at = router_config_reader_key(r, "hold_down_ms");
		router_config_reader_error(r,
		    "%u is more than hold_down_max_ms %u (inherited; set hold_down_max_ms too)",
		    probe->hold_down_ms, probe->hold_down_max_ms);
		router_config_reader_up(r, at);
	}
out:
	router_config_reader_up(r, saved);
}

/* "udp_transform": true, false or "auto" (detect). */
static void
read_udp_transform(struct router_config_reader *r, const json_t *path, struct router_config_path *p)
{
	const json_t *value = json_object_get(path, "udp_transform");
	size_t saved;

	if (value == NULL || json_is_boolean(value)) {
		router_config_read_bool(r, path, "udp_transform", &p->udp_transform);
		return;
	}
	saved = router_config_reader_key(r, "udp_transform");
	if (json_is_string(value) && strcmp(json_string_value(value), "auto") == 0)
		p->udp_transform_auto = true;
	else if (json_is_string(value)) {
		char quoted[64];

		router_config_quote(json_string_value(value), 40, quoted, sizeof(quoted));
		router_config_reader_error(r, "expected true, false or \"auto\", got %s", quoted);
	} else
		router_config_reader_error(r, "expected true, false or \"auto\", got %s",
		    router_config_json_type(value));
	router_config_reader_up(r, saved);
}

/* Peers fill cfg->paths, which read_config sized from every valid "paths" array. */
static void
read_peer(struct router_config_reader *r, const json_t *obj, void *item, void *ctx)
{
	struct router_config_peer *peer = item;
	struct router_config *cfg = ctx;
	const json_t *array, *path;
	size_t i, saved;

	if (!router_config_read_object(r, obj, keys_peer))
		return;
	router_config_read_name(r, obj, "name", true, &peer->name);
	peer->probe = probe_default;
	read_probe(r, obj, &peer->probe);
	peer->public_key_given = json_object_get(obj, "public_key") != NULL;
	peer->has_public_key =
	    router_config_read_public_key(r, obj, "public_key", peer->public_key);
	array = router_config_read_array(r, obj, "paths", true, 1, ROUTER_CONFIG_ITEMS_MAX);
	if (array == NULL || cfg->paths == NULL)
		return;
	peer->path_first = (uint32_t)cfg->path_count;
	peer->path_count = (uint32_t)json_array_size(array);
	saved = router_config_reader_key(r, "paths");
	json_array_foreach(array, i, path)
	{
		struct router_config_path *p = &cfg->paths[cfg->path_count++];
		size_t at = router_config_reader_index(r, i);

		p->probe = peer->probe;
		if (router_config_read_object(r, path, keys_path)) {
			router_config_read_name(r, path, "wan", true, &p->wan_name);
			const json_t *remote = json_object_get(path, "remote");

			/* "auto": the peer is behind a NAT (check_peers() sets the family). */
			if (json_is_string(remote) &&
			    strcmp(json_string_value(remote), "auto") == 0)
				p->remote_auto = true;
			else
				router_config_read_addr(r, path, "remote", true, &p->remote);
			router_config_read_name(r, path, "name", false, &p->name);
			read_udp_transform(r, path, p);
			router_config_read_bool(r, path, "nat", &p->nat);
			read_probe(r, path, &p->probe);
		}
		router_config_reader_up(r, at);
	}
	router_config_reader_up(r, saved);
}

static void
read_route(struct router_config_reader *r, const json_t *obj, struct router_config_service *s)
{
	const json_t *route = json_object_get(obj, "route");
	static const char *const kinds[] = {"peer", "lan", "breakout"};
	static const uint8_t kind_values[] = {ROUTER_CONFIG_ROUTE_PEER, ROUTER_CONFIG_ROUTE_LAN,
	    ROUTER_CONFIG_ROUTE_BREAKOUT};
	size_t saved, given = 0, kind = 0;

	saved = router_config_reader_key(r, "route");
	if (route == NULL) {
		router_config_reader_error(r,
		    "missing (expected {\"peer\": NAME}, {\"lan\": NAME} or {\"breakout\": "
		    "NAME})");
		goto out;
	}
	if (!router_config_read_object(r, route, keys_route))
		goto out;
	for (size_t i = 0; i < 3; i++)
		if (json_object_get(route, kinds[i]) != NULL) {
			given++;
			kind = i;
		}
	if (given != 1) {
		router_config_reader_error(r,
		    "has %zu of \"peer\", \"lan\" and \"breakout\" (expected exactly one of them)",
		    given);
	} else if (router_config_read_name(r, route, kinds[kind], true, &s->route_name)) {
		s->route_kind = kind_values[kind];
	}
out:
	router_config_reader_up(r, saved);
}

static void
read_sla(struct router_config_reader *r, const json_t *obj, struct router_config_sla *sla)
{
	const json_t *value = json_object_get(obj, "sla");
	size_t saved;

	if (value == NULL)
		return;
	saved = router_config_reader_key(r, "sla");
	if (router_config_read_object(r, value, keys_sla)) {
		router_config_read_uint(r, value, "max_latency_ms", 1, ROUTER_CONFIG_SLA_MS_MAX,
		    &sla->max_latency_ms);
		router_config_read_uint(r, value, "max_jitter_ms", 1, ROUTER_CONFIG_SLA_MS_MAX,
		    &sla->max_jitter_ms);
		sla->has_max_loss =
		    router_config_read_number(r, value, "max_loss_pct", 0, 100, &sla->max_loss_pct);
		router_config_read_number(r, value, "min_mos", ROUTER_CONFIG_MOS_MIN,
		    ROUTER_CONFIG_MOS_MAX, &sla->min_mos);
	}
	router_config_reader_up(r, saved);
}

/* "vector_costs": an object from vector label to cost; JSON itself refuses a key twice. */
static void
read_vector_costs(struct router_config_reader *r, const json_t *obj,
    struct router_config_policy *pol)
{
	const json_t *value = json_object_get(obj, "vector_costs"), *cost;
	const char *key;
	size_t saved;

	if (value == NULL)
		return;
	saved = router_config_reader_key(r, "vector_costs");
	if (!json_is_object(value)) {
		router_config_reader_error(r,
		    "expected an object of vector costs (e.g. {\"broadband\": 10}), got %s",
		    router_config_json_type(value));
		goto out;
	}
	if (json_object_size(value) > ROUTER_CONFIG_ITEMS_MAX) {
		router_config_reader_error(r, "%zu vectors (at most %d allowed)",
		    json_object_size(value), ROUTER_CONFIG_ITEMS_MAX);
		goto out;
	}
	pol->vector_costs =
	    router_config_reader_calloc(r, json_object_size(value), sizeof(*pol->vector_costs));
	if (pol->vector_costs == NULL)
		goto out;
	json_object_foreach((json_t *)value, key, cost)
	{
		struct router_config_vector_cost *vc = &pol->vector_costs[pol->vector_cost_count];

		if (!router_config_name_is_valid(key)) {
			size_t at = router_config_reader_key(r, key);

			router_config_reader_error(r,
			    "not a vector name (expected 1 to %d characters of A-Z, a-z, 0-9, '.', "
			    "'_', '-')",
			    ROUTER_CONFIG_NAME_MAX);
			router_config_reader_up(r, at);
			continue;
		}
		if (!json_is_integer(cost)) {
			size_t at = router_config_reader_key(r, key);

			router_config_reader_error(r,
			    "expected a cost, an integer from 0 to %d, got %s",
			    ROUTER_CONFIG_COST_MAX, router_config_json_type(cost));
			router_config_reader_up(r, at);
			continue;
		}
		if (!router_config_read_uint(r, value, key, 0, ROUTER_CONFIG_COST_MAX, &vc->cost))
			continue;
		vc->vector = router_config_reader_strdup(r, key);
		if (vc->vector != NULL)
			pol->vector_cost_count++;
	}
out:
	router_config_reader_up(r, saved);
}

static void
read_policy(struct router_config_reader *r, const json_t *obj, void *item, void *ctx)
{
	struct router_config_policy *pol = item;
	uint8_t choice;

	(void)ctx;
	if (!router_config_read_object(r, obj, keys_policy))
		return;
	router_config_read_name(r, obj, "name", true, &pol->name);
	read_sla(r, obj, &pol->sla);
	read_vector_costs(r, obj, pol);
	pol->default_cost = pol->vector_cost_count > 0 ? ROUTER_CONFIG_COST_MAX : 0;
	router_config_read_uint(r, obj, "default_cost", 0, ROUTER_CONFIG_COST_MAX,
	    &pol->default_cost);
	pol->resiliency = ROUTER_CONFIG_RESILIENCY_FAILOVER;
	if (router_config_read_choice(r, obj, "resiliency", resiliency_names, &choice))
		pol->resiliency = resiliency_values[choice];
	router_config_read_choice(r, obj, "no_path", no_path_names, &pol->no_path);
}

static void
read_service(struct router_config_reader *r, const json_t *obj, void *item, void *ctx)
{
	struct router_config_service *s = item;
	const json_t *array, *port;
	size_t i, saved;

	(void)ctx;
	if (!router_config_read_object(r, obj, keys_service))
		return;
	router_config_read_name(r, obj, "name", true, &s->name);
	/* A service named by domain or application needs no prefix. */
	read_prefixes(r, obj, "prefixes",
	    json_object_get(obj, "domains") == NULL && json_object_get(obj, "apps") == NULL,
	    &s->prefixes, &s->prefix_count);
	read_domains(r, obj, s);
	read_names(r, obj, "apps", false, &s->apps, &s->app_count);
	array = router_config_read_array(r, obj, "ports", false, 0, ROUTER_CONFIG_ITEMS_MAX);
	if (array != NULL) {
		s->ports =
		    router_config_reader_calloc(r, json_array_size(array), sizeof(*s->ports));
		saved = router_config_reader_key(r, "ports");
		json_array_foreach(array, i, port)
		{
			size_t at = router_config_reader_index(r, i);

			if (s->ports != NULL &&
			    router_config_value_ports(r, port, &s->ports[s->port_count]))
				s->port_count++;
			router_config_reader_up(r, at);
		}
		router_config_reader_up(r, saved);
	}
	read_names(r, obj, "access", false, &s->access_names, &s->access_count);
	if (s->access_count > 0)
		s->access_tenant_ids =
		    router_config_reader_calloc(r, s->access_count, sizeof(*s->access_tenant_ids));
	read_route(r, obj, s);
	router_config_read_choice(r, obj, "encryption", encryption_names, &s->encryption);
	s->has_address = router_config_read_addr(r, obj, "address", false, &s->address);
	router_config_read_name(r, obj, "policy", false, &s->policy_name);
}

static void
read_settings(struct router_config_reader *r, const json_t *root, struct router_config *cfg)
{
	const json_t *obj;
	size_t saved;

	cfg->timeouts = timeouts_default;
	cfg->sessions_max = ROUTER_CONFIG_SESSIONS_DEFAULT;
	cfg->inspected_max = ROUTER_CONFIG_INSPECTED_DEFAULT;

	obj = json_object_get(root, "timeouts");
	if (obj != NULL) {
		struct router_config_timeouts *t = &cfg->timeouts;
		const uint32_t lo = ROUTER_CONFIG_TIMEOUT_MIN_S, hi = ROUTER_CONFIG_TIMEOUT_MAX_S;

		saved = router_config_reader_key(r, "timeouts");
		if (router_config_read_object(r, obj, keys_timeouts)) {
			router_config_read_uint(r, obj, "tcp_opening_s", lo, hi, &t->tcp_opening_s);
			router_config_read_uint(r, obj, "tcp_established_s", lo, hi,
			    &t->tcp_established_s);
			router_config_read_uint(r, obj, "tcp_closing_s", lo, hi, &t->tcp_closing_s);
			router_config_read_uint(r, obj, "udp_s", lo, hi, &t->udp_s);
			router_config_read_uint(r, obj, "icmp_s", lo, hi, &t->icmp_s);
		}
		router_config_reader_up(r, saved);
	}
	cfg->dns.min_ttl_s = ROUTER_CONFIG_DNS_MIN_DEFAULT_S;
	cfg->dns.max_ttl_s = ROUTER_CONFIG_DNS_MAX_DEFAULT_S;
	obj = json_object_get(root, "dns");
	if (obj != NULL) {
		const json_t *array, *item;
		size_t i;

		saved = router_config_reader_key(r, "dns");
		if (router_config_read_object(r, obj, keys_dns)) {
			array = router_config_read_array(r, obj, "servers", false, 1,
			    ROUTER_CONFIG_DNS_SERVERS_MAX);
			json_array_foreach(array, i, item)
			{
				size_t at = router_config_reader_key(r, "servers");

				router_config_reader_index(r, i);
				if (json_is_string(item) &&
				    addr_parse(json_string_value(item),
				        &cfg->dns.servers[cfg->dns.server_count]) == 0)
					cfg->dns.server_count++;
				else
					router_config_reader_error(r,
					    "expected an IPv4 or IPv6 address (a string)");
				router_config_reader_up(r, at);
			}
			router_config_read_uint(r, obj, "min_ttl_s", ROUTER_CONFIG_DNS_MIN_TTL_S,
			    ROUTER_CONFIG_DNS_MAX_TTL_S, &cfg->dns.min_ttl_s);
			router_config_read_uint(r, obj, "max_ttl_s", ROUTER_CONFIG_DNS_MIN_TTL_S,
			    ROUTER_CONFIG_DNS_MAX_TTL_S, &cfg->dns.max_ttl_s);
			if (cfg->dns.min_ttl_s > cfg->dns.max_ttl_s) {
				size_t at = router_config_reader_key(r, "min_ttl_s");

				router_config_reader_error(r, "%u is above max_ttl_s (%u)",
				    cfg->dns.min_ttl_s, cfg->dns.max_ttl_s);
				router_config_reader_up(r, at);
			}
		}
		router_config_reader_up(r, saved);
	}
	obj = json_object_get(root, "limits");
	if (obj != NULL) {
		saved = router_config_reader_key(r, "limits");
		if (router_config_read_object(r, obj, keys_limits)) {
			router_config_read_uint(r, obj, "sessions", ROUTER_CONFIG_SESSIONS_MIN,
			    ROUTER_CONFIG_SESSIONS_MAX, &cfg->sessions_max);
			router_config_read_uint(r, obj, "inspected_sessions", 0,
			    ROUTER_CONFIG_INSPECTED_MAX, &cfg->inspected_max);
		}
		router_config_reader_up(r, saved);
	}
	cfg->firewall.resets_per_s = ROUTER_CONFIG_RESETS_PER_S_DEFAULT;
	obj = json_object_get(root, "firewall");
	if (obj != NULL) {
		struct router_config_firewall *fw = &cfg->firewall;

		saved = router_config_reader_key(r, "firewall");
		if (router_config_read_object(r, obj, keys_firewall)) {
			router_config_read_choice(r, obj, "tcp_no_session", tcp_no_session_names,
			    &fw->tcp_no_session);
			router_config_read_uint(r, obj, "half_open_max", 0,
			    ROUTER_CONFIG_SESSIONS_MAX, &fw->half_open_max);
			router_config_read_uint(r, obj, "resets_per_s", 1,
			    ROUTER_CONFIG_RESETS_PER_S_MAX, &fw->resets_per_s);
		}
		router_config_reader_up(r, saved);
	}
}

/* Sizes the flat path list from the peers whose "paths" will be read. */
static size_t
count_paths(const json_t *root)
{
	const json_t *peers = json_object_get(root, "peers"), *peer, *paths;
	size_t i, total = 0;

	if (!json_is_array(peers) || json_array_size(peers) > ROUTER_CONFIG_LIST_MAX)
		return 0;
	json_array_foreach(peers, i, peer)
	{
		paths = json_object_get(peer, "paths");
		if (json_is_array(paths) && json_array_size(paths) <= ROUTER_CONFIG_ITEMS_MAX)
			total += json_array_size(paths);
	}
	return total;
}

static void
read_config(struct router_config_reader *r, const json_t *root, struct router_config *cfg)
{
	const json_t *router;
	size_t paths, saved;

	if (!router_config_read_object(r, root, keys_top))
		return;
	router = json_object_get(root, "router");
	saved = router_config_reader_key(r, "router");
	if (router == NULL)
		router_config_reader_error(r, "missing (expected {\"name\": NAME})");
	else if (router_config_read_object(r, router, keys_router)) {
		router_config_read_name(r, router, "name", true, &cfg->name);
		router_config_read_path(r, router, "private_key_file", false,
		    &cfg->security.private_key_file);
		router_config_read_choice(r, router, "cipher", cipher_names, &cfg->security.cipher);
		cfg->security.rekey_after_s = ROUTER_CONFIG_REKEY_DEFAULT_S;
		router_config_read_uint(r, router, "rekey_after_s", ROUTER_CONFIG_REKEY_MIN_S,
		    ROUTER_CONFIG_REKEY_MAX_S, &cfg->security.rekey_after_s);
	}
	router_config_reader_up(r, saved);

	cfg->tenants = read_list(r, root, "tenants", sizeof(*cfg->tenants), &cfg->tenant_count,
	    read_tenant, NULL);
	cfg->lans = read_list(r, root, "lan", sizeof(*cfg->lans), &cfg->lan_count, read_lan, NULL);
	cfg->wans = read_list(r, root, "wan", sizeof(*cfg->wans), &cfg->wan_count, read_wan, NULL);
	paths = count_paths(root);
	if (paths > 0)
		cfg->paths = router_config_reader_calloc(r, paths, sizeof(*cfg->paths));
	cfg->peers =
	    read_list(r, root, "peers", sizeof(*cfg->peers), &cfg->peer_count, read_peer, cfg);
	for (size_t i = 0; i < cfg->peer_count; i++) {
		const struct router_config_peer *peer = &cfg->peers[i];

		for (uint32_t j = 0; j < peer->path_count; j++)
			cfg->paths[peer->path_first + j].peer_id = (uint32_t)i;
	}
	cfg->policies = read_list(r, root, "service_policies", sizeof(*cfg->policies),
	    &cfg->policy_count, read_policy, NULL);
	cfg->services = read_list(r, root, "services", sizeof(*cfg->services), &cfg->service_count,
	    read_service, NULL);
	cfg->rules =
	    read_list(r, root, "rules", sizeof(*cfg->rules), &cfg->rule_count, read_rule, NULL);
	read_settings(r, root, cfg);
}

/* Replaces control characters of a jansson message, which can quote the input. */
static void
sanitize(char *text)
{
	for (char *c = text; *c != '\0'; c++) {
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	}
}

static bool
is_blank(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (text[i] != ' ' && text[i] != '\t' && text[i] != '\n' && text[i] != '\r')
			return false;
	}
	return true;
}

int
router_config_parse(const char *text, size_t len, struct router_config **out,
    struct router_config_errors *errors)
{
	struct router_config_reader r;
	struct router_config *cfg = NULL;
	size_t errors_before = errors->count + errors->dropped;
	json_error_t jerr;
	json_t *root;
	int rc;

	*out = NULL;
	router_config_reader_init(&r, errors);
	if (is_blank(text, len)) {
		router_config_reader_error(&r, "the document is empty (expected a JSON object)");
		return -EINVAL;
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		if (json_error_code(&jerr) == json_error_out_of_memory)
			return -ENOMEM;
		sanitize(jerr.text);
		router_config_reader_error(&r, "invalid JSON at line %d, column %d: %s", jerr.line,
		    jerr.column, jerr.text);
		return -EINVAL;
	}
	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	read_config(&r, root, cfg);
	if (!r.has_oom)
		router_config_check(&r, cfg);
	if (r.has_oom || errors->has_oom)
		rc = -ENOMEM;
	else if (errors->count + errors->dropped != errors_before)
		rc = -EINVAL;
	else
		rc = 0;
out:
	json_decref(root);
	if (rc == 0)
		*out = cfg;
	else
		router_config_free(cfg);
	return rc;
}

/* Reads the whole file into a new buffer; an error entry describes any failure. */
static int
read_file(struct router_config_reader *r, const char *path, char **text, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	size_t used = 0;
	ssize_t n;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		router_config_reader_error(r, "cannot open the file: %s", strerror(-rc));
		return -EINVAL;
	}
	if (fstat(fd, &st) != 0) {
		router_config_reader_error(r, "cannot read the file: %s", strerror(errno));
		rc = -EINVAL;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		router_config_reader_error(r, "not a regular file");
		rc = -EINVAL;
		goto out;
	}
	if (st.st_size > (off_t)ROUTER_CONFIG_FILE_MAX) {
		router_config_reader_error(r, "the file is %lld bytes (at most %u allowed)",
		    (long long)st.st_size, ROUTER_CONFIG_FILE_MAX);
		rc = -EINVAL;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	/* Read to the end even if the file grew, up to the size seen. */
	while (used < (size_t)st.st_size) {
		n = read(fd, buf + used, (size_t)st.st_size - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			router_config_reader_error(r, "cannot read the file: %s", strerror(errno));
			rc = -EINVAL;
			goto out;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	*text = buf;
	*len = used;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return rc;
}

/* A relative private_key_file is relative to the configuration file's directory. */
static int
resolve_key_file(struct router_config *cfg, const char *config_path)
{
	const char *file = cfg->security.private_key_file, *slash;
	char *joined;
	int dir_len;

	if (file == NULL || file[0] == '/')
		return 0;
	slash = strrchr(config_path, '/');
	if (slash == NULL)
		return 0;
	dir_len = (int)(slash - config_path);
	if (asprintf(&joined, "%.*s/%s", dir_len, config_path, file) < 0)
		return -ENOMEM;
	free(cfg->security.private_key_file);
	cfg->security.private_key_file = joined;
	return 0;
}

int
router_config_load(const char *path, struct router_config **out,
    struct router_config_errors *errors)
{
	struct router_config_reader r;
	char *text = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	rc = router_config_errors_set_file(errors, path);
	if (rc < 0)
		return rc;
	router_config_reader_init(&r, errors);
	rc = read_file(&r, path, &text, &len);
	if (rc < 0)
		return rc;
	rc = router_config_parse(text, len, out, errors);
	free(text);
	if (rc == 0)
		rc = resolve_key_file(*out, path);
	if (rc < 0) {
		router_config_free(*out);
		*out = NULL;
	}
	return rc;
}

/* Linear: for the control plane, which looks up one name at a time. */
#define FIND(list, count)                                                                          \
	do {                                                                                       \
		for (size_t i_ = 0; i_ < (count); i_++) {                                          \
			if (strcmp((list)[i_].name, name) == 0)                                    \
				return (int)i_;                                                    \
		}                                                                                  \
		return -ENOENT;                                                                    \
	} while (0)

int
router_config_tenant_find(const struct router_config *cfg, const char *name)
{
	FIND(cfg->tenants, cfg->tenant_count);
}

int
router_config_service_find(const struct router_config *cfg, const char *name)
{
	FIND(cfg->services, cfg->service_count);
}

int
router_config_peer_find(const struct router_config *cfg, const char *name)
{
	FIND(cfg->peers, cfg->peer_count);
}

int
router_config_lan_find(const struct router_config *cfg, const char *name)
{
	FIND(cfg->lans, cfg->lan_count);
}

int
router_config_wan_find(const struct router_config *cfg, const char *name)
{
	FIND(cfg->wans, cfg->wan_count);
}

int
router_config_policy_find(const struct router_config *cfg, const char *name)
{
	FIND(cfg->policies, cfg->policy_count);
}

int
router_config_rule_find(const struct router_config *cfg, const char *name)
{
	FIND(cfg->rules, cfg->rule_count);
}

static bool
names_unique(const void *base, size_t stride, size_t offset, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *a, *b;

		memcpy(&a, (const char *)base + i * stride + offset, sizeof(a));
		if (a == NULL || !router_config_name_is_valid(a))
			return false;
		for (size_t j = 0; j < i; j++) {
			memcpy(&b, (const char *)base + j * stride + offset, sizeof(b));
			if (strcmp(a, b) == 0)
				return false;
		}
	}
	return true;
}

static bool
prefixes_valid(const struct prefix *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct prefix again;

		if (addr_bits(&p[i].addr) == 0 || p[i].len > addr_bits(&p[i].addr))
			return false;
		if (prefix_from_addr(&again, &p[i].addr, p[i].len) != 0 ||
		    !prefix_equal(&again, &p[i]))
			return false;
	}
	return true;
}

static bool
probe_valid(const struct router_config_probe *p)
{
	return p->interval_ms >= ROUTER_CONFIG_PROBE_INTERVAL_MIN_MS &&
	    p->interval_ms <= ROUTER_CONFIG_PROBE_INTERVAL_MAX_MS &&
	    p->down_after >= ROUTER_CONFIG_PROBE_DOWN_AFTER_MIN &&
	    p->down_after <= ROUTER_CONFIG_PROBE_DOWN_AFTER_MAX &&
	    p->hold_down_ms <= ROUTER_CONFIG_PROBE_HOLD_DOWN_MAX_MS &&
	    p->hold_down_max_ms <= ROUTER_CONFIG_PROBE_HOLD_DOWN_CAP_MAX_MS &&
	    p->hold_down_max_ms >= p->hold_down_ms;
}

static bool
policy_valid(const struct router_config_policy *pol)
{
	const struct router_config_sla *sla = &pol->sla;

	if (sla->max_latency_ms > ROUTER_CONFIG_SLA_MS_MAX ||
	    sla->max_jitter_ms > ROUTER_CONFIG_SLA_MS_MAX ||
	    (sla->has_max_loss && !(sla->max_loss_pct >= 0 && sla->max_loss_pct <= 100)) ||
	    (sla->min_mos != 0 &&
	        !(sla->min_mos >= ROUTER_CONFIG_MOS_MIN && sla->min_mos <= ROUTER_CONFIG_MOS_MAX)))
		return false;
	if (pol->default_cost > ROUTER_CONFIG_COST_MAX ||
	    pol->resiliency > ROUTER_CONFIG_RESILIENCY_DUPLICATE ||
	    pol->no_path > ROUTER_CONFIG_NO_PATH_DROP)
		return false;
	for (size_t i = 0; i < pol->vector_cost_count; i++) {
		const struct router_config_vector_cost *vc = &pol->vector_costs[i];

		if (vc->vector == NULL || !router_config_name_is_valid(vc->vector) ||
		    vc->cost > ROUTER_CONFIG_COST_MAX)
			return false;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(pol->vector_costs[j].vector, vc->vector) == 0)
				return false;
		}
	}
	return true;
}

static bool
timeout_valid(uint32_t s)
{
	return s >= ROUTER_CONFIG_TIMEOUT_MIN_S && s <= ROUTER_CONFIG_TIMEOUT_MAX_S;
}

bool
router_config_is_consistent(const struct router_config *cfg)
{
	const struct router_config_timeouts *t = &cfg->timeouts;
	size_t paths = 0;

	if (cfg->name == NULL || !router_config_name_is_valid(cfg->name))
		return false;
	if (!names_unique(cfg->tenants, sizeof(*cfg->tenants),
	        offsetof(struct router_config_tenant, name), cfg->tenant_count) ||
	    !names_unique(cfg->lans, sizeof(*cfg->lans), offsetof(struct router_config_lan, name),
	        cfg->lan_count) ||
	    !names_unique(cfg->wans, sizeof(*cfg->wans), offsetof(struct router_config_wan, name),
	        cfg->wan_count) ||
	    !names_unique(cfg->peers, sizeof(*cfg->peers),
	        offsetof(struct router_config_peer, name), cfg->peer_count) ||
	    !names_unique(cfg->services, sizeof(*cfg->services),
	        offsetof(struct router_config_service, name), cfg->service_count) ||
	    !names_unique(cfg->policies, sizeof(*cfg->policies),
	        offsetof(struct router_config_policy, name), cfg->policy_count) ||
	    !names_unique(cfg->rules, sizeof(*cfg->rules),
	        offsetof(struct router_config_rule, name), cfg->rule_count))
		return false;
	for (size_t i = 0; i < cfg->tenant_count; i++) {
		const struct router_config_tenant *ten = &cfg->tenants[i];

		if (strcmp(ten->name, "any") == 0 ||
		    ten->max_sessions > ROUTER_CONFIG_TENANT_SESSIONS_MAX ||
		    ten->max_new_per_s > ROUTER_CONFIG_TENANT_RATE_MAX)
			return false;
	}
	for (size_t i = 0; i < cfg->service_count; i++)
		if (strcmp(cfg->services[i].name, "any") == 0)
			return false;
	for (size_t i = 0; i < cfg->rule_count; i++) {
		const struct router_config_rule *rule = &cfg->rules[i];

		if (rule->action != ROUTER_CONFIG_ACTION_ALLOW &&
		    rule->action != ROUTER_CONFIG_ACTION_DENY)
			return false;
		if (rule->tenant_id == ROUTER_CONFIG_ID_ANY ?
		        strcmp(rule->tenant_name, "any") != 0 :
		        rule->tenant_id >= cfg->tenant_count ||
		            strcmp(cfg->tenants[rule->tenant_id].name, rule->tenant_name) != 0)
			return false;
		if (rule->service_id == ROUTER_CONFIG_ID_ANY ?
		        strcmp(rule->service_name, "any") != 0 :
		        rule->service_id >= cfg->service_count ||
		            strcmp(cfg->services[rule->service_id].name, rule->service_name) != 0)
			return false;
	}
	for (size_t i = 0; i < cfg->policy_count; i++) {
		if (!policy_valid(&cfg->policies[i]))
			return false;
	}
	for (size_t i = 0; i < cfg->lan_count; i++) {
		const struct router_config_lan *lan = &cfg->lans[i];

		if (lan->tenant_id >= cfg->tenant_count ||
		    strcmp(cfg->tenants[lan->tenant_id].name, lan->tenant_name) != 0)
			return false;
		if (lan->device == NULL || strlen(lan->device) > ROUTER_CONFIG_DEVICE_MAX)
			return false;
		if (lan->address_len < 1 || lan->address_len > addr_bits(&lan->address))
			return false;
		if (lan->prefix_count < 1 || !prefixes_valid(lan->prefixes, lan->prefix_count))
			return false;
		for (size_t j = 0; j < lan->tenant_count; j++) {
			const struct router_config_lan_tenant *lt = &lan->tenants[j];

			if (lt->tenant_id >= cfg->tenant_count ||
			    strcmp(cfg->tenants[lt->tenant_id].name, lt->tenant_name) != 0 ||
			    lt->prefix_count < 1 || !prefixes_valid(lt->prefixes, lt->prefix_count))
				return false;
		}
		if (lan->interface != NULL && strlen(lan->interface) > ROUTER_CONFIG_DEVICE_MAX)
			return false;
	}
	for (size_t i = 0; i < cfg->wan_count; i++) {
		const struct router_config_wan *wan = &cfg->wans[i];

		if (wan->device == NULL || strlen(wan->device) > ROUTER_CONFIG_DEVICE_MAX ||
		    addr_bits(&wan->waypoint) == 0)
			return false;
		for (size_t j = 0; j < wan->vector_count; j++) {
			if (wan->vectors[j] == NULL ||
			    !router_config_name_is_valid(wan->vectors[j]))
				return false;
		}
	}
	for (size_t i = 0; i < cfg->peer_count; i++) {
		const struct router_config_peer *peer = &cfg->peers[i];

		/* Each peer's paths follow the previous peer's, and none is left over. */
		if (peer->path_count < 1 || peer->path_first != paths || !probe_valid(&peer->probe))
			return false;
		paths += peer->path_count;
		if (paths > cfg->path_count)
			return false;
		for (uint32_t j = peer->path_first; j < peer->path_first + peer->path_count; j++) {
			const struct router_config_path *p = &cfg->paths[j];

			if (p->peer_id != i || p->wan_id >= cfg->wan_count || p->name == NULL ||
			    strcmp(cfg->wans[p->wan_id].name, p->wan_name) != 0 ||
			    p->remote.family != cfg->wans[p->wan_id].waypoint.family ||
			    !probe_valid(&p->probe))
				return false;
			for (uint32_t k = peer->path_first; k < j; k++) {
				if (strcmp(cfg->paths[k].name, p->name) == 0)
					return false;
			}
		}
	}
	if (paths != cfg->path_count)
		return false;
	for (size_t i = 0; i < cfg->service_count; i++) {
		const struct router_config_service *s = &cfg->services[i];

		if ((s->prefix_count < 1 && s->domain_count + s->app_count == 0) ||
		    !prefixes_valid(s->prefixes, s->prefix_count))
			return false;
		for (size_t j = 0; j < s->port_count; j++) {
			const struct router_config_ports *p = &s->ports[j];

			if ((p->proto != ROUTER_CONFIG_PROTO_TCP &&
			        p->proto != ROUTER_CONFIG_PROTO_UDP &&
			        p->proto != ROUTER_CONFIG_PROTO_ICMP) ||
			    p->port_first > p->port_last)
				return false;
		}
		for (size_t j = 0; j < s->access_count; j++) {
			if (s->access_tenant_ids[j] >= cfg->tenant_count ||
			    strcmp(cfg->tenants[s->access_tenant_ids[j]].name,
			        s->access_names[j]) != 0)
				return false;
		}
		if (s->route_kind == ROUTER_CONFIG_ROUTE_PEER) {
			if (s->route_id >= cfg->peer_count ||
			    strcmp(cfg->peers[s->route_id].name, s->route_name) != 0)
				return false;
		} else if (s->route_kind == ROUTER_CONFIG_ROUTE_LAN) {
			if (s->route_id >= cfg->lan_count ||
			    strcmp(cfg->lans[s->route_id].name, s->route_name) != 0)
				return false;
		} else if (s->route_kind == ROUTER_CONFIG_ROUTE_BREAKOUT) {
			if (s->route_id >= cfg->wan_count ||
			    strcmp(cfg->wans[s->route_id].name, s->route_name) != 0 ||
			    s->has_address)
				return false;
		} else {
			return false;
		}
		if (s->has_address && addr_bits(&s->address) == 0)
			return false;
		if (s->policy_name != NULL &&
		    (s->policy_id >= cfg->policy_count ||
		        strcmp(cfg->policies[s->policy_id].name, s->policy_name) != 0))
			return false;
	}
	return timeout_valid(t->tcp_opening_s) && timeout_valid(t->tcp_established_s) &&
	    timeout_valid(t->tcp_closing_s) && timeout_valid(t->udp_s) &&
	    timeout_valid(t->icmp_s) && cfg->sessions_max >= ROUTER_CONFIG_SESSIONS_MIN &&
	    cfg->sessions_max <= ROUTER_CONFIG_SESSIONS_MAX;
}
