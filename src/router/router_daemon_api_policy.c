/*
 * The running router's `policy test` for the API (router_daemon_api.c has the command
 * table): the question checked on the control thread, the live engine's decision made
 * by the worker (router_worker_policy_test()).
 */
#include "router/router_daemon_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

/* ---- answers (built on the worker thread, from its own state) -------------------------- */

/* `policy test`: the engine's decision for d->what_if, live packets' code, no packet. */
json_t *
router_daemon_policy_test_answer(struct router_daemon *d)
{
	struct router_worker_verdict *v = malloc(sizeof(*v));
	json_t *o;

	if (v == NULL)
		return NULL;
	if (router_worker_policy_test(d->worker, &d->what_if, v) < 0) {
		free(v);
		return NULL;
	}
	o = json_pack("{s:s, s:s?, s:s?, s:s, s:b, s:s?, s:s?, s:s?, s:s?, s:s?, s:s}", "segment",
	    d->cfg->lans[d->what_if.lan].name, "tenant", v->tenant[0] ? v->tenant : NULL, "service",
	    v->service[0] ? v->service : NULL, "verdict", v->verdict, "allowed", v->allowed, "rule",
	    v->rule[0] ? v->rule : NULL, "route", v->route[0] ? v->route : NULL, "path",
	    v->path[0] ? v->path : NULL, "limit", v->limit[0] ? v->limit : NULL, "drop",
	    v->drop[0] ? v->drop : NULL, "explanation", v->explanation);
	if (o != NULL && v->sni[0] != '\0')
		json_object_set_new(o, "sni", json_string(v->sni));
	if (o != NULL && v->app[0] != '\0')
		json_object_set_new(o, "app", json_string(v->app));
	free(v);
	return o;
}

/* ---- API handlers (control thread) ----------------------------------------------------- */

/* A protocol by name ("tcp", "udp", "icmp", "icmpv6") or number (0-255); -1 if neither. */
static int
daemon_proto_parse(const json_t *v)
{
	static const struct {
		const char *name;
		int number;
	} names[] = {{"tcp", IPPROTO_TCP}, {"udp", IPPROTO_UDP}, {"icmp", IPPROTO_ICMP},
	    {"icmpv6", IPPROTO_ICMPV6}, {"sctp", IPPROTO_SCTP}};

	if (json_is_integer(v))
		return json_integer_value(v) >= 0 && json_integer_value(v) <= 255 ?
		    (int)json_integer_value(v) :
		    -1;
	for (size_t i = 0; json_is_string(v) && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(json_string_value(v), names[i].name) == 0)
			return names[i].number;
	return -1;
}

static bool
daemon_lan_holds(const struct router_config_lan *lan, const struct addr *a)
{
	for (size_t i = 0; i < lan->prefix_count; i++)
		if (prefix_contains(&lan->prefixes[i], a))
			return true;
	return false;
}

/* Segment lan has hosts of tenant t: its own, or by source prefix. */
static bool
daemon_lan_has_tenant(const struct router_config_lan *lan, uint32_t t)
{
	if (lan->tenant_id == t)
		return true;
	for (size_t j = 0; j < lan->tenant_count; j++)
		if (lan->tenants[j].tenant_id == t)
			return true;
	return false;
}

/*
 * `policy test`: checks the question here (the worker only answers it), picks the LAN
 * segment the packet would arrive on (the one named; else the tenant's segment holding
 * src, or its first; else the segment holding src), then asks the worker.
 */
int
router_daemon_api_policy_test(const json_t *args, json_t **result, struct router_api_error *err,
    void *ctx)
{
	static const char *const keys[] = {"tenant", "segment", "src", "dst", "proto", "port",
	    "sni", "app", NULL};
	struct router_daemon *d = ctx;
	const struct router_config *cfg = d->cfg;
	struct router_worker_what_if *wi = &d->what_if;
	const char *tenant = json_string_value(json_object_get(args, "tenant"));
	const char *segment = json_string_value(json_object_get(args, "segment"));
	const char *src = json_string_value(json_object_get(args, "src"));
	const char *dst = json_string_value(json_object_get(args, "dst"));
	const json_t *port = json_object_get(args, "port"), *sni = json_object_get(args, "sni");
	const char *key;
	const json_t *value;
	int t = -1, proto;
	size_t lan = cfg->lan_count;

	json_object_foreach((json_t *)args, key, value)
	{
		size_t k = 0;

		while (keys[k] != NULL && strcmp(keys[k], key) != 0)
			k++;
		if (keys[k] == NULL)
			return router_api_error_set(err, ROUTER_API_E_BAD_REQUEST,
			    "unknown argument \"%s\" (expected tenant, segment, src, dst, proto, "
			    "port, sni, app)",
			    key);
	}
	memset(wi, 0, sizeof(*wi));
	if (src == NULL || addr_parse(src, &wi->src) < 0)
		return router_api_error_set(err, ROUTER_API_E_BAD_REQUEST,
		    "src: expected the source address (e.g. \"10.1.0.10\")");
	if (dst == NULL || addr_parse(dst, &wi->dst) < 0)
		return router_api_error_set(err, ROUTER_API_E_BAD_REQUEST,
		    "dst: expected the destination address (e.g. \"10.2.0.10\")");
	if (wi->src.family != wi->dst.family)
		return router_api_error_set(err, ROUTER_API_E_BAD_REQUEST,
		    "src and dst are of different address families");
	proto = daemon_proto_parse(json_object_get(args, "proto"));
	if (proto < 0)
		return router_api_error_set(err, ROUTER_API_E_BAD_REQUEST,
		    "proto: expected tcp, udp, icmp, icmpv6, sctp or a number 0-255");
	wi->proto = (uint8_t)proto;
	if (port != NULL &&
	    (!json_is_integer(port) || json_integer_value(port) < 0 ||
	        json_integer_value(port) > 65535))
		return router_api_error_set(err, ROUTER_API_E_BAD_REQUEST,
		    "port: expected an integer 0-65535");
	wi->dst_port = (uint16_t)json_integer_value(port);
	if (sni != NULL &&
	    (!json_is_string(sni) || json_string_length(sni) == 0 || json_string_length(sni) > 253))
		return router_api_error_set(err, ROUTER_API_E_BAD_REQUEST,
		    "sni: expected a server name of 1 to 253 characters");
	wi->sni = json_string_value(sni);
	if (json_object_get(args, "app") != NULL &&
	    (!json_is_string(json_object_get(args, "app")) ||
	        json_string_length(json_object_get(args, "app")) == 0 ||
	        json_string_length(json_object_get(args, "app")) > 63))
		return router_api_error_set(err, ROUTER_API_E_BAD_REQUEST,
		    "app: expected an application name of 1 to 63 characters");
	wi->app = json_string_value(json_object_get(args, "app"));
	if (json_object_get(args, "tenant") != NULL &&
	    (tenant == NULL || (t = router_config_tenant_find(cfg, tenant)) < 0))
		return router_api_error_set(err, "not-found", "no tenant %s here",
		    tenant != NULL ? tenant : "(not a string)");
	if (json_object_get(args, "segment") != NULL) {
		int l = segment != NULL ? router_config_lan_find(cfg, segment) : -ENOENT;

		if (l < 0)
			return router_api_error_set(err, "not-found", "no LAN segment %s here",
			    segment != NULL ? segment : "(not a string)");
		if (t >= 0 && !daemon_lan_has_tenant(&cfg->lans[l], (uint32_t)t))
			return router_api_error_set(err, ROUTER_API_E_BAD_REQUEST,
			    "segment %s has no hosts of tenant %s (its tenant is %s)", segment,
			    tenant, cfg->tenants[cfg->lans[l].tenant_id].name);
		lan = (size_t)l;
	}
	for (size_t l = 0; lan == cfg->lan_count && l < cfg->lan_count; l++)
		if ((t < 0 || daemon_lan_has_tenant(&cfg->lans[l], (uint32_t)t)) &&
		    daemon_lan_holds(&cfg->lans[l], &wi->src))
			lan = l;
	for (size_t l = 0; lan == cfg->lan_count && t >= 0 && l < cfg->lan_count; l++)
		if (daemon_lan_has_tenant(&cfg->lans[l], (uint32_t)t))
			lan = l;
	if (lan == cfg->lan_count)
		return t >= 0 ? router_api_error_set(err, "not-found",
		                    "tenant %s has no LAN segment on this router", tenant) :
		                router_api_error_set(err, "not-found",
		                    "no LAN segment holds %s; give the tenant or the segment", src);
	wi->lan = (uint32_t)lan;
	return router_daemon_api_ask(args, result, err, ctx, "policy_test");
}
