/*
 * The operator's explanation of a decision (policy_decision_format) and the stable
 * names of the verdicts and routes. Text only: the same sentence serves `ternctl policy
 * test` and the session detail of `ternctl show session`.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "policy/policy_engine.h"
#include "policy/policy_engine_impl.h"
#include "lib/text.h"

const char *
policy_verdict_name(uint8_t verdict)
{
	switch (verdict) {
	case POLICY_VERDICT_ALLOW:
		return "allow";
	case POLICY_VERDICT_DENY_BY_RULE:
		return "deny-by-rule";
	case POLICY_VERDICT_NO_RULE:
		return "no-rule";
	case POLICY_VERDICT_NO_SERVICE:
		return "no-service";
	case POLICY_VERDICT_NO_TENANT:
		return "no-tenant";
	default:
		return "unknown";
	}
}

const char *
policy_route_kind_name(uint8_t kind)
{
	switch (kind) {
	case POLICY_ROUTE_PEER:
		return "peer";
	case POLICY_ROUTE_LAN:
		return "lan";
	case POLICY_ROUTE_BREAKOUT:
		return "breakout";
	default:
		return "none";
	}
}

static void
text_prefix(struct text *t, const struct prefix *pf)
{
	char s[PREFIX_TEXT_MAX];

	if (prefix_format(pf, s, sizeof(s)) == 0)
		text_add(t, "%s", s);
}

static const char *
proto_name(uint8_t proto, char *buf, size_t len)
{
	switch (proto) {
	case 0:
		return "any";
	case 1:
		return "icmp";
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 58:
		return "icmpv6";
	case 132:
		return "sctp";
	default:
		snprintf(buf, len, "proto %u", proto);
		return buf;
	}
}

static void
text_ports(struct text *t, const struct policy_port_range *r)
{
	char buf[16];

	text_add(t, "%s", proto_name(r->proto, buf, sizeof(buf)));
	if (r->port_lo == 0 && r->port_hi == 65535)
		return;
	if (r->port_lo == r->port_hi)
		text_add(t, "/%u", r->port_lo);
	else
		text_add(t, "/%u-%u", r->port_lo, r->port_hi);
}

static void
text_tenant(struct text *t, const struct policy *p, const struct policy_query *q,
    const struct policy_decision *d)
{
	uint32_t seg;
	const char *seg_name = NULL;

	for (seg = 0; seg < p->segment_count; seg++) {
		if (p->segments[seg].id == q->segment_id) {
			seg_name = p->segments[seg].name;
			break;
		}
	}
	if (d->tenant_index == POLICY_INDEX_NONE) {
		char a[ADDR_TEXT_MAX] = "?";

		(void)addr_format(&q->src, a, sizeof(a));
		if (seg_name == NULL)
			text_add(t, "no tenant (no segment with id %u)", q->segment_id);
		else
			text_add(t, "no tenant (segment %s has no tenant for %s and no default)",
			    seg_name, a);
		return;
	}
	text_add(t, "tenant %s (segment %s, ", p->tenants[d->tenant_index].name,
	    seg_name != NULL ? seg_name : "?");
	if (d->tenant_by == POLICY_TENANT_BY_PREFIX)
		text_prefix(t, &d->tenant_prefix);
	else
		text_add(t, "its default tenant");
	text_add(t, ")");
}

static void
text_service(struct text *t, const struct policy *p, const struct policy_query *q,
    const struct policy_decision *d)
{
	const struct policy_service *s;
	char a[ADDR_TEXT_MAX] = "?";

	if (d->service_index == POLICY_INDEX_NONE) {
		(void)addr_format(&q->dst, a, sizeof(a));
		text_add(t, "no service for %s", a);
		if (q->domain != NULL)
			text_add(t, " (%s)", q->domain);
		return;
	}
	s = &p->services[d->service_index];
	text_add(t, "service %s (", s->name);
	switch (d->service_by) {
	case POLICY_SERVICE_BY_APP:
		text_add(t, "application %s", p->apps[s->app_first + d->service_pattern]);
		break;
	case POLICY_SERVICE_BY_DOMAIN:
		text_add(t, "domain %s", p->domains[s->domain_first + d->service_pattern]);
		break;
	case POLICY_SERVICE_BY_DNS:
		(void)addr_format(&q->dst, a, sizeof(a));
		text_add(t, "domain %s, %s learnt from DNS",
		    p->domains[s->domain_first + d->service_pattern], a);
		break;
	case POLICY_SERVICE_BY_PREFIX:
		text_add(t, "prefix ");
		text_prefix(t, &d->service_prefix);
		break;
	default:
		text_add(t, "any destination");
		break;
	}
	if (d->port_entry != POLICY_INDEX_NONE) {
		text_add(t, ", ");
		text_ports(t, &p->ports[s->port_first + d->port_entry]);
	}
	text_add(t, ")");
}

static void
text_rule(struct text *t, const struct policy *p, const struct policy_rule *r)
{
	text_add(t, "rule %u (", r->id);
	if (r->name != NULL)
		text_add(t, "%s: ", r->name);
	text_add(t, "%s -> %s %s)",
	    r->tenant == POLICY_INDEX_ANY ? "any" : p->tenants[r->tenant].name,
	    r->service == POLICY_INDEX_ANY ? "any" : p->services[r->service].name,
	    r->action == POLICY_DENY ? "deny" : "allow");
}

int
policy_decision_format(const struct policy *p, const struct policy_query *q,
    const struct policy_decision *d, char *buf, size_t len)
{
	struct text t = {.buf = buf, .len = len};

	if (len > 0)
		buf[0] = '\0';
	text_tenant(&t, p, q, d);
	if (d->verdict == POLICY_VERDICT_NO_TENANT) {
		text_add(&t, "; verdict no-tenant (default deny)");
		goto out;
	}
	text_add(&t, "; ");
	text_service(&t, p, q, d);
	switch (d->verdict) {
	case POLICY_VERDICT_ALLOW:
	case POLICY_VERDICT_DENY_BY_RULE:
		text_add(&t, "; verdict %s by ",
		    d->verdict == POLICY_VERDICT_ALLOW ? "allow" : "deny");
		if (d->rule_index < p->rule_count)
			text_rule(&t, p, &p->rules[d->rule_index]);
		break;
	case POLICY_VERDICT_NO_RULE:
		text_add(&t, "; verdict no-rule (no rule allows %s -> %s: default deny)",
		    p->tenants[d->tenant_index].name, p->services[d->service_index].name);
		break;
	default:
		text_add(&t, "; verdict no-service (default deny)");
		goto out;
	}
	if (d->service_index < p->service_count) {
		const struct policy_service *s = &p->services[d->service_index];

		text_add(&t, "; route %s", policy_route_kind_name(s->route_kind));
		if (s->route_target_name != NULL)
			text_add(&t, " %s", s->route_target_name);
		else if (s->route_kind != POLICY_ROUTE_NONE)
			text_add(&t, " %u", s->route_target_id);
	}
out:
	return (int)t.used;
}
