/*
 * Unit tests of router/router_config: a full configuration lands field by field, each
 * kind of error gives its exact path and message (golden tests), every error of a file
 * is reported, the example configurations in configs/ parse as they should, and random
 * mutations of a valid document never crash the parser nor yield an error without a
 * path.
 *
 * JSON documents are written with single quotes (J() turns them into double quotes) so
 * they read like the files an operator writes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "router/router_config.h"
#include "test_rand.h"

/* A copy of text with ' turned into ", freed by the caller. */
static char *
J(const char *text)
{
	char *out = strdup(text);

	assert_non_null(out);
	for (char *c = out; *c != '\0'; c++) {
		if (*c == '\'')
			*c = '"';
	}
	return out;
}

/* The path of a file in tests/unit/router/, from this file's path as the build saw it. */
static void
source_path(const char *name, char *out, size_t out_len)
{
	char exe[PATH_MAX];
	const char *file = __FILE__;
	const char *slash = strrchr(file, '/');
	ssize_t len;
	int n, rc;

	assert_non_null(slash);
	n = (int)(slash - file);
	if (file[0] == '/') {
		rc = snprintf(out, out_len, "%.*s/%s", n, file, name);
	} else {
		/* Relative to the build root, which is two levels above tests/unit/<exe>. */
		len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		assert_true(len > 0);
		exe[len] = '\0';
		*strrchr(exe, '/') = '\0';
		rc = snprintf(out, out_len, "%s/../../%.*s/%s", exe, n, file, name);
	}
	assert_true(rc > 0 && (size_t)rc < out_len);
}

struct parsed {
	int rc;
	struct router_config *cfg;
	struct router_config_errors errors;
	char text[8192]; /* the errors, one "path: message" per line */
};

static void
parsed_collect(struct parsed *p)
{
	size_t used = 0;

	p->text[0] = '\0';
	for (size_t i = 0; i < router_config_errors_count(&p->errors); i++) {
		const struct router_config_error *e = router_config_errors_at(&p->errors, i);

		used += (size_t)snprintf(p->text + used, sizeof(p->text) - used, "%s: %s\n",
		    e->path, e->message);
		assert_true(used < sizeof(p->text));
	}
}

static void
parse_json(struct parsed *p, const char *single_quoted)
{
	char *text = J(single_quoted);

	router_config_errors_init(&p->errors);
	p->rc = router_config_parse(text, strlen(text), &p->cfg, &p->errors);
	free(text);
	parsed_collect(p);
}

static void
parsed_fini(struct parsed *p)
{
	router_config_free(p->cfg);
	router_config_errors_fini(&p->errors);
}

/* Parses doc and asserts that it fails with exactly the expected error lines. */
static void
expect_errors(const char *doc, const char *expected)
{
	struct parsed p;

	parse_json(&p, doc);
	if (strcmp(p.text, expected) != 0)
		fail_msg("document:\n%s\nexpected:\n%sgot:\n%s", doc, expected, p.text);
	assert_int_equal(p.rc, -EINVAL);
	assert_null(p.cfg);
	parsed_fini(&p);
}

#define ROUTER "'router': {'name': 'r'}"

static void
test_router_config_parse_full_every_field(void **state)
{
	struct router_config_errors errors;
	struct router_config *cfg;
	const struct router_config_service *s;
	char path[PATH_MAX], text[PREFIX_TEXT_MAX];

	(void)state;
	router_config_errors_init(&errors);
	source_path("configs/full.json", path, sizeof(path));
	assert_int_equal(router_config_load(path, &cfg, &errors), 0);
	assert_int_equal(router_config_errors_count(&errors), 0);
	assert_true(router_config_is_consistent(cfg));

	assert_string_equal(cfg->name, "branch-1");
	assert_int_equal(cfg->tenant_count, 2);
	assert_string_equal(cfg->tenants[1].name, "guest");

	assert_int_equal(cfg->lan_count, 2);
	assert_string_equal(cfg->lans[0].name, "corp");
	assert_int_equal(cfg->lans[0].tenant_id, 0);
	assert_string_equal(cfg->lans[0].device, "tern-corp");
	assert_int_equal(addr_format(&cfg->lans[0].address, text, sizeof(text)), 0);
	assert_string_equal(text, "10.1.0.1");
	assert_int_equal(cfg->lans[0].address_len, 24);
	assert_int_equal(cfg->lans[0].prefix_count, 2);
	assert_int_equal(prefix_format(&cfg->lans[0].prefixes[1], text, sizeof(text)), 0);
	assert_string_equal(text, "2001:db8:1::/64");
	assert_int_equal(cfg->lans[1].tenant_id, 1);
	assert_string_equal(cfg->lans[1].device, "guest0");
	assert_int_equal(cfg->lans[1].address.family, ADDR_FAMILY_V6);
	assert_int_equal(cfg->lans[1].address_len, 64);

	assert_int_equal(cfg->wan_count, 2);
	assert_string_equal(cfg->wans[1].device, "eth2");
	assert_int_equal(cfg->wans[1].waypoint.family, ADDR_FAMILY_V6);
	assert_int_equal(cfg->wans[1].vector_count, 2);
	assert_string_equal(cfg->wans[1].vectors[1], "metered");
	assert_int_equal(cfg->wans[0].vector_count, 1);

	assert_int_equal(cfg->peer_count, 2);
	assert_int_equal(cfg->path_count, 3);
	assert_int_equal(cfg->peers[0].path_first, 0);
	assert_int_equal(cfg->peers[0].path_count, 2);
	assert_int_equal(cfg->peers[1].path_first, 2);
	assert_int_equal(cfg->peers[1].path_count, 1);
	assert_string_equal(cfg->paths[0].name, "inet"); /* named after its WAN */
	assert_int_equal(cfg->paths[0].wan_id, 0);
	assert_string_equal(cfg->paths[1].name, "hub-lte");
	assert_int_equal(cfg->paths[1].wan_id, 1);
	assert_int_equal(cfg->paths[1].peer_id, 0);
	assert_int_equal(cfg->paths[2].peer_id, 1);
	assert_int_equal(addr_format(&cfg->paths[2].remote, text, sizeof(text)), 0);
	assert_string_equal(text, "192.0.2.20");
	assert_int_equal(cfg->peers[0].probe.interval_ms, 200);
	assert_int_equal(cfg->paths[0].probe.interval_ms, 200);  /* the peer's */
	assert_int_equal(cfg->paths[0].probe.down_after, 3);     /* the default */
	assert_int_equal(cfg->paths[1].probe.interval_ms, 1000); /* its own */
	assert_int_equal(cfg->paths[1].probe.down_after, 5);
	assert_int_equal(cfg->paths[1].probe.hold_down_ms, 10000);
	assert_int_equal(cfg->paths[1].probe.hold_down_max_ms, 120000);
	assert_int_equal(cfg->paths[2].probe.interval_ms, 100);

	assert_int_equal(cfg->policy_count, 1);
	assert_string_equal(cfg->policies[0].name, "voice");
	assert_true(cfg->policies[0].sla.max_loss_pct == 1.5);
	assert_int_equal(cfg->policies[0].vector_costs[1].cost, 100);
	assert_int_equal(cfg->policies[0].default_cost, ROUTER_CONFIG_COST_MAX);

	assert_int_equal(cfg->service_count, 2);
	s = &cfg->services[0];
	assert_string_equal(s->name, "crm");
	assert_int_equal(s->prefix_count, 1);
	assert_int_equal(s->port_count, 5);
	assert_int_equal(s->ports[0].proto, ROUTER_CONFIG_PROTO_TCP);
	assert_int_equal(s->ports[0].port_first, 443);
	assert_int_equal(s->ports[0].port_last, 443);
	assert_int_equal(s->ports[1].port_first, 8000);
	assert_int_equal(s->ports[1].port_last, 8080);
	assert_int_equal(s->ports[2].proto, ROUTER_CONFIG_PROTO_UDP);
	assert_int_equal(s->ports[2].port_first, 53);
	assert_int_equal(s->ports[3].proto, ROUTER_CONFIG_PROTO_ICMP);
	assert_int_equal(s->ports[4].proto, ROUTER_CONFIG_PROTO_UDP);
	assert_int_equal(s->ports[4].port_first, 0);
	assert_int_equal(s->ports[4].port_last, 65535);
	assert_int_equal(s->access_count, 1);
	assert_int_equal(s->access_tenant_ids[0], 0);
	assert_int_equal(s->route_kind, ROUTER_CONFIG_ROUTE_PEER);
	assert_int_equal(s->route_id, 0);
	assert_true(s->has_address);
	assert_int_equal(addr_format(&s->address, text, sizeof(text)), 0);
	assert_string_equal(text, "10.99.0.10");
	assert_int_equal(s->policy_id, 0);
	s = &cfg->services[1];
	assert_null(s->policy_name);
	assert_int_equal(s->port_count, 0);
	assert_int_equal(s->access_count, 2);
	assert_int_equal(s->access_tenant_ids[1], 1);
	assert_int_equal(s->route_kind, ROUTER_CONFIG_ROUTE_LAN);
	assert_int_equal(s->route_id, 0);
	assert_false(s->has_address);

	assert_int_equal(cfg->timeouts.tcp_opening_s, 5);
	assert_int_equal(cfg->timeouts.tcp_established_s, 3600);
	assert_int_equal(cfg->timeouts.tcp_closing_s, 7);
	assert_int_equal(cfg->timeouts.udp_s, 60);
	assert_int_equal(cfg->timeouts.icmp_s, 2);
	assert_int_equal(cfg->sessions_max, 1024);

	assert_int_equal(router_config_tenant_find(cfg, "guest"), 1);
	assert_int_equal(router_config_service_find(cfg, "printers"), 1);
	assert_int_equal(router_config_peer_find(cfg, "branch-2"), 1);
	assert_int_equal(router_config_lan_find(cfg, "guest"), 1);
	assert_int_equal(router_config_wan_find(cfg, "lte"), 1);
	assert_int_equal(router_config_wan_find(cfg, "nope"), -ENOENT);

	router_config_free(cfg);
	router_config_errors_fini(&errors);
}

static void
test_router_config_parse_minimal_defaults(void **state)
{
	struct parsed p;

	(void)state;
	parse_json(&p, "{" ROUTER "}");
	assert_int_equal(p.rc, 0);
	assert_string_equal(p.text, "");
	assert_true(router_config_is_consistent(p.cfg));
	assert_int_equal(p.cfg->tenant_count + p.cfg->lan_count + p.cfg->wan_count +
	        p.cfg->peer_count + p.cfg->path_count + p.cfg->service_count,
	    0);
	assert_int_equal(p.cfg->timeouts.tcp_opening_s, 10);
	assert_int_equal(p.cfg->timeouts.tcp_established_s, 1900);
	assert_int_equal(p.cfg->timeouts.tcp_closing_s, 10);
	assert_int_equal(p.cfg->timeouts.udp_s, 180);
	assert_int_equal(p.cfg->timeouts.icmp_s, 10);
	assert_int_equal(p.cfg->sessions_max, ROUTER_CONFIG_SESSIONS_DEFAULT);
	assert_null(p.cfg->security.private_key_file);
	assert_int_equal(p.cfg->security.cipher, ROUTER_CONFIG_CIPHER_AES_256_GCM);
	assert_int_equal(p.cfg->security.rekey_after_s, ROUTER_CONFIG_REKEY_DEFAULT_S);
	parsed_fini(&p);

	/* Timeouts not given keep their default next to those given. */
	parse_json(&p, "{" ROUTER ", 'timeouts': {'udp_s': 86400}, 'limits': {}}");
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.cfg->timeouts.udp_s, 86400);
	assert_int_equal(p.cfg->timeouts.icmp_s, 10);
	parsed_fini(&p);
}

static void
test_router_config_parse_json_syntax_line_column(void **state)
{
	(void)state;
	expect_errors("{\n  'router': {'name': 'r'},\n  'tenants': [ {'name': 'a'} ,, ]\n}",
	    "$: invalid JSON at line 3, column 31: unexpected token near ','\n");
	expect_errors("{'router': {'name': 'r'}",
	    "$: invalid JSON at line 1, column 24: '}' expected near end of file\n");
	expect_errors("{'router': {'name': 'r', 'name': 's'}}",
	    "$: invalid JSON at line 1, column 31: duplicate object key near '\"name\"'\n");
	expect_errors("", "$: the document is empty (expected a JSON object)\n");
	expect_errors(" \n\t ", "$: the document is empty (expected a JSON object)\n");
	expect_errors("[]", "$: expected an object, got an array\n");
	expect_errors("{" ROUTER ", 'limits': {'sessions': 99999999999999999999999}}",
	    "$: invalid JSON at line 1, column 72: too big integer\n");
}

static void
test_router_config_parse_unknown_keys(void **state)
{
	(void)state;
	expect_errors("{" ROUTER ", 'authority': 'acme'}",
	    "$.authority: unknown key (expected one of: router, lan, wan, peers, tenants, "
	    "service_policies, services, rules, timeouts, limits, dns, firewall)\n");
	expect_errors("{'router': {'name': 'r', 'x y': 1}}",
	    "$.router[\"x y\"]: unknown key (expected one of: name, private_key_file, cipher, "
	    "rekey_after_s)\n");
	expect_errors("{" ROUTER ", 'services': [{'name': 's', 'prefixes': ['10.0.0.0/8'], "
	              "'access': [], 'route': {'internet': 'inet'}}]}",
	    "$.services[0].route.internet: unknown key (expected one of: peer, lan, breakout)\n"
	    "$.services[0].route: has 0 of \"peer\", \"lan\" and \"breakout\" (expected exactly "
	    "one of them)\n");
	expect_errors("{" ROUTER ", 'timeouts': {'tcp_s': 5}}",
	    "$.timeouts.tcp_s: unknown key (expected one of: tcp_opening_s, tcp_established_s, "
	    "tcp_closing_s, udp_s, icmp_s)\n");
}

static void
test_router_config_parse_wrong_types(void **state)
{
	(void)state;
	expect_errors("{'router': 'r'}", "$.router: expected an object, got a string\n");
	expect_errors("{'router': {'name': 5}}",
	    "$.router.name: expected a name (a string), got an integer\n");
	expect_errors("{" ROUTER ", 'lan': {}}", "$.lan: expected an array, got an object\n");
	expect_errors("{" ROUTER ", 'tenants': ['corp']}",
	    "$.tenants[0]: expected an object, got a string\n");
	expect_errors("{" ROUTER ", 'limits': {'sessions': '5'}}",
	    "$.limits.sessions: expected an integer from 1 to 16777216, got a string\n");
	expect_errors("{" ROUTER ", 'limits': {'sessions': 1.5}}",
	    "$.limits.sessions: expected an integer from 1 to 16777216, got a number with a "
	    "fraction or exponent\n");
	expect_errors("{" ROUTER ", 'limits': {'sessions': null}}",
	    "$.limits.sessions: expected an integer from 1 to 16777216, got null\n");
	expect_errors("{" ROUTER ", 'wan': [{'name': 'w', 'device': 'eth0', 'waypoint': true}]}",
	    "$.wan[0].waypoint: expected an IPv4 or IPv6 address (a string), got a boolean\n");
	expect_errors("{" ROUTER ", 'services': [{'name': 's', 'prefixes': '10.0.0.0/8', "
	              "'access': [], 'route': {'lan': 'l'}}]}",
	    "$.services[0].prefixes: expected an array, got a string\n"
	    "$.services[0].route.lan: \"l\" is not a lan (known: none defined)\n");
}

static void
test_router_config_parse_missing_required(void **state)
{
	(void)state;
	expect_errors("{}", "$.router: missing (expected {\"name\": NAME})\n");
	expect_errors("{'router': {}}", "$.router.name: missing (expected a name)\n");
	expect_errors("{" ROUTER ", 'lan': [{}]}",
	    "$.lan[0].name: missing (expected a name)\n"
	    "$.lan[0].tenant: missing (expected a name)\n"
	    "$.lan[0].address: missing (expected the router's address with a length, e.g. "
	    "\"10.1.0.1/24\")\n"
	    "$.lan[0].prefixes: missing (expected an array)\n");
	expect_errors("{" ROUTER ", 'peers': [{'name': 'p', 'paths': []}]}",
	    "$.peers[0].paths: expected at least 1 entry, got 0\n");
	expect_errors("{" ROUTER ", 'peers': [{'name': 'p', 'paths': [{}]}]}",
	    "$.peers[0].paths[0].wan: missing (expected a name)\n"
	    "$.peers[0].paths[0].remote: missing (expected an IPv4 or IPv6 address)\n");
	expect_errors("{" ROUTER ", 'services': [{'name': 's', 'prefixes': [], 'access': []}]}",
	    "$.services[0].prefixes: expected at least 1 entry, got 0\n"
	    "$.services[0].route: missing (expected {\"peer\": NAME}, {\"lan\": NAME} or "
	    "{\"breakout\": NAME})\n");
}

static void
test_router_config_parse_names_checked(void **state)
{
	(void)state;
	expect_errors("{'router': {'name': "
	              "'a123456789b123456789c123456789d123456789e123456789f123456789abcd'}}",
	    "$.router.name: name \"a123456789b123456789c123456789d123456789\"... is 64 characters "
	    "long (at most 63 allowed)\n");
	expect_errors("{'router': {'name': ''}}",
	    "$.router.name: name is empty (expected 1 to 63 characters)\n");
	expect_errors("{'router': {'name': 'a\\u0001b'}}",
	    "$.router.name: name \"a\\x01b\" has a character outside A-Z, a-z, 0-9, '.', '_', "
	    "'-'\n");
	expect_errors("{" ROUTER ", 'wan': [{'name': 'w', 'device': 'a-very-long-device', "
	              "'waypoint': '192.0.2.1'}]}",
	    "$.wan[0].device: device name \"a-very-long-device\" is 18 characters long (at most 15 "
	    "allowed)\n");
	expect_errors("{" ROUTER
	              ", 'wan': [{'name': 'w', 'device': '..', 'waypoint': '192.0.2.1'}]}",
	    "$.wan[0].device: device name \"..\" is not valid (expected 1 to 15 of A-Z, a-z, 0-9, "
	    "'.', '_', '-')\n");
	expect_errors("{" ROUTER ", 'tenants': [{'name': 't'}], 'lan': [{'name': 'long-lan-name', "
	              "'tenant': 't', 'address': '10.0.0.1/8', 'prefixes': ['10.0.0.0/8']}]}",
	    "$.lan[0].device: missing, and the default \"tern-long-lan-name\" is longer than 15 "
	    "characters (set \"device\")\n");
}

static void
test_router_config_parse_duplicates(void **state)
{
	(void)state;
	expect_errors("{" ROUTER ", 'tenants': [{'name': 'a'}, {'name': 'b'}, {'name': 'a'}, "
	              "{'name': 'a'}]}",
	    "$.tenants[2].name: duplicate name \"a\" (also $.tenants[0].name)\n"
	    "$.tenants[3].name: duplicate name \"a\" (also $.tenants[0].name)\n");
	expect_errors("{" ROUTER ", 'wan': [{'name': 'w', 'device': 'eth0', 'waypoint': "
	              "'192.0.2.1', 'vectors': ['x', 'y', 'x']}, {'name': 'w', 'device': "
	              "'eth0', 'waypoint': '192.0.2.1'}]}",
	    "$.wan[1].name: duplicate name \"w\" (also $.wan[0].name)\n"
	    "$.wan[0].vectors[2]: duplicate vector \"x\" (also vectors[0])\n"
	    "$.wan[1].waypoint: waypoint \"192.0.2.1\" is also used by $.wan[0]\n");
	expect_errors("{" ROUTER ", 'tenants': [{'name': 't'}], 'wan': [{'name': 'w', 'device': "
	              "'eth0', 'waypoint': '192.0.2.1'}], 'lan': [{'name': 'a', 'tenant': 't', "
	              "'device': 'eth0', 'address': '10.0.0.1/8', 'prefixes': ['10.0.0.0/8']}, "
	              "{'name': 'b', 'tenant': 't', 'device': 'eth0', 'address': '10.0.0.1/8', "
	              "'prefixes': ['10.0.0.0/8']}]}",
	    "$.lan[0].device: device \"eth0\" is also used by $.wan[0]\n"
	    "$.lan[1].device: device \"eth0\" is also used by $.lan[0]\n"
	    "$.lan[1].device: device \"eth0\" is also used by $.wan[0]\n");
	expect_errors("{" ROUTER ", 'wan': [{'name': 'w', 'device': 'eth0', 'waypoint': "
	              "'192.0.2.1'}], 'peers': [{'name': 'p', 'paths': [{'wan': 'w', 'remote': "
	              "'192.0.2.2'}, {'wan': 'w', 'remote': '192.0.2.3'}]}]}",
	    "$.peers[0].paths[1]: path name \"w\" is also paths[0]'s (a path is named after its "
	    "wan unless \"name\" is set)\n");
	expect_errors("{" ROUTER ", 'tenants': [{'name': 't'}], 'services': [{'name': 's', "
	              "'prefixes': ['10.0.0.0/8'], 'access': ['t', 't'], 'route': {'peer': 'p'}}]}",
	    "$.services[0].access[1]: tenant \"t\" is listed twice\n"
	    "$.services[0].route.peer: \"p\" is not a peer (known: none defined)\n");
}

/* Services by domain and application; the resolver's settings. */
static void
test_router_config_parse_names(void **state)
{
	struct parsed p;

	(void)state;
	parse_json(&p,
	    "{" ROUTER ", 'tenants': [{'name': 't'}], 'lan': [{'name': 'a', "
	    "'tenant': 't', 'device': 'eth1', 'address': '10.1.0.1/24', 'prefixes': "
	    "['10.1.0.0/24']}], 'services': [{'name': 'web', 'domains': "
	    "['App.Corp.Example.', '*.corp.example'], 'apps': ['tls', 'HTTP'], "
	    "'route': {'lan': 'a'}}], 'dns': {'servers': ['10.1.0.53', '2001:db8::53'], "
	    "'min_ttl_s': 30, 'max_ttl_s': 600}}");
	assert_int_equal(p.rc, 0);
	assert_string_equal(p.text, "");
	assert_int_equal(p.cfg->services[0].prefix_count, 0);
	assert_int_equal(p.cfg->services[0].domain_count, 2);
	assert_string_equal(p.cfg->services[0].domains[0], "app.corp.example");
	assert_string_equal(p.cfg->services[0].domains[1], "*.corp.example");
	assert_int_equal(p.cfg->services[0].app_count, 2);
	assert_int_equal(p.cfg->dns.server_count, 2);
	assert_int_equal(p.cfg->dns.min_ttl_s, 30);
	assert_int_equal(p.cfg->dns.max_ttl_s, 600);
	assert_true(router_config_is_consistent(p.cfg));
	parsed_fini(&p);

	expect_errors("{" ROUTER ", 'services': [{'name': 's', 'domains': ['a..b', 'x.*.y', 7, "
	              "'ok.example'], 'apps': ['NoSuchApp', 'DNS'], 'route': {'peer': 'p'}}]}",
	    "$.services[0].domains[0]: \"a..b\" is not a domain name (expected NAME or *.NAME: "
	    "labels of 1 to 63 letters, digits, '-' or '_' joined by dots, at most 253 "
	    "characters)\n"
	    "$.services[0].domains[1]: \"x.*.y\" is not a domain name (expected NAME or *.NAME: "
	    "labels of 1 to 63 letters, digits, '-' or '_' joined by dots, at most 253 "
	    "characters)\n"
	    "$.services[0].domains[2]: expected a domain name (a string), got an integer\n"
	    "$.services[0].route.peer: \"p\" is not a peer (known: none defined)\n"
	    "$.services[0].apps[0]: \"NoSuchApp\" is not an application nDPI knows (names as "
	    "nDPI spells them: TLS, HTTP, DNS, QUIC, Google, ...)\n");
	expect_errors("{" ROUTER ", 'services': [{'name': 's', 'route': {'peer': 'p'}}]}",
	    "$.services[0].prefixes: missing (expected an array)\n"
	    "$.services[0].route.peer: \"p\" is not a peer (known: none defined)\n");
	expect_errors("{" ROUTER ", 'dns': {'tries': 1}}",
	    "$.dns.tries: unknown key (expected one of: servers, min_ttl_s, max_ttl_s)\n");
	expect_errors("{" ROUTER
	              ", 'dns': {'servers': ['x', 5], 'min_ttl_s': 100, 'max_ttl_s': 50}}",
	    "$.dns.servers[0]: expected an IPv4 or IPv6 address (a string)\n"
	    "$.dns.servers[1]: expected an IPv4 or IPv6 address (a string)\n"
	    "$.dns.min_ttl_s: 100 is above max_ttl_s (50)\n");
}

static void
test_router_config_parse_dangling_references(void **state)
{
	(void)state;
	expect_errors("{" ROUTER ", 'tenants': [{'name': 'corp'}, {'name': 'guest'}], 'lan': "
	              "[{'name': 'l', 'tenant': 'corp2', 'address': '10.0.0.1/8', 'prefixes': "
	              "['10.0.0.0/8']}]}",
	    "$.lan[0].tenant: \"corp2\" is not a tenant (known: corp, guest)\n");
	expect_errors("{" ROUTER ", 'wan': [{'name': 'w', 'device': 'eth0', 'waypoint': "
	              "'192.0.2.1'}], 'peers': [{'name': 'p', 'paths': [{'wan': 'x', 'remote': "
	              "'192.0.2.2'}]}]}",
	    "$.peers[0].paths[0].wan: \"x\" is not a wan (known: w)\n");
	expect_errors("{" ROUTER ", 'tenants': [{'name': 't'}], 'services': [{'name': 's', "
	              "'prefixes': ['10.0.0.0/8'], 'access': ['t', 'u'], 'route': {'lan': 'l'}}]}",
	    "$.services[0].access[1]: \"u\" is not a tenant (known: t)\n"
	    "$.services[0].route.lan: \"l\" is not a lan (known: none defined)\n");
}

static void
test_router_config_parse_bad_addresses_and_prefixes(void **state)
{
	(void)state;
	expect_errors("{" ROUTER ", 'services': [{'name': 's', 'prefixes': ['10.1.0.1/24', "
	              "'10.0.0.0/33', '10.0.0.0', 'fe80::1/10', 'x'], 'access': [], 'route': "
	              "{'lan': 'l'}}]}",
	    "$.services[0].prefixes[0]: prefix \"10.1.0.1/24\" has host bits set (expected the "
	    "network address, e.g. \"10.1.0.0/24\")\n"
	    "$.services[0].prefixes[1]: prefix \"10.0.0.0/33\" has a length out of range (0-32 "
	    "for IPv4, 0-128 for IPv6)\n"
	    "$.services[0].prefixes[3]: prefix \"fe80::1/10\" has host bits set (expected the "
	    "network address, e.g. \"10.1.0.0/24\")\n"
	    "$.services[0].prefixes[4]: \"x\" is not a prefix (expected an address and length "
	    "like \"10.1.0.0/24\" or \"2001:db8::/64\")\n"
	    "$.services[0].route.lan: \"l\" is not a lan (known: none defined)\n");
	expect_errors("{" ROUTER ", 'wan': [{'name': 'w', 'device': 'eth0', 'waypoint': "
	              "'192.0.2.1/32'}]}",
	    "$.wan[0].waypoint: \"192.0.2.1/32\" is not an address (expected IPv4 like "
	    "\"192.0.2.1\" or IPv6 like \"2001:db8::1\", without a prefix length)\n");
	expect_errors("{" ROUTER ", 'tenants': [{'name': 't'}], 'lan': [{'name': 'a', 'tenant': "
	              "'t', 'address': '10.0.0.1', 'prefixes': ['10.0.0.0/8']}, {'name': 'b', "
	              "'tenant': 't', 'address': '10.0.0.1/0', 'prefixes': ['10.0.0.0/8']}, "
	              "{'name': 'c', 'tenant': 't', 'address': '10.0.0.1/+8', 'prefixes': "
	              "['10.0.0.0/8']}]}",
	    "$.lan[0].address: \"10.0.0.1\" is not an address with a length (expected e.g. "
	    "\"10.1.0.1/24\" or \"2001:db8::1/64\")\n"
	    "$.lan[1].address: \"10.0.0.1/0\" has a length out of range (1-32 for IPv4, 1-128 "
	    "for IPv6)\n"
	    "$.lan[2].address: \"10.0.0.1/+8\" is not an address with a length (expected e.g. "
	    "\"10.1.0.1/24\" or \"2001:db8::1/64\")\n");
}

static void
test_router_config_parse_bad_ports(void **state)
{
	(void)state;
	expect_errors(
	    "{" ROUTER ", 'tenants': [{'name': 't'}], 'lan': [{'name': 'l', 'tenant': 't', "
	    "'address': '10.0.0.1/8', 'prefixes': ['10.0.0.0/8']}], 'services': [{'name': 's', "
	    "'prefixes': ['10.0.0.0/8'], 'access': ['t'], 'route': {'lan': 'l'}, 'ports': "
	    "['tcp/0', 'udp/65536', 'tcp/10-5', 'sctp/1', 'icmp/1', 'tcp/', 'tcp/1-', 'tcp/+1', "
	    "'TCP/1', 'udp/65535', 4]}]}",
	    "$.services[0].ports[0]: \"tcp/0\" is not a port spec (expected \"tcp\", \"udp\", "
	    "\"tcp/443\", \"udp/53\", \"tcp/8000-8080\" with ports 1-65535, or \"icmp\")\n"
	    "$.services[0].ports[1]: \"udp/65536\" is not a port spec (expected \"tcp\", \"udp\", "
	    "\"tcp/443\", \"udp/53\", \"tcp/8000-8080\" with ports 1-65535, or \"icmp\")\n"
	    "$.services[0].ports[2]: port range \"tcp/10-5\" ends before it starts (expected "
	    "first <= last)\n"
	    "$.services[0].ports[3]: \"sctp/1\" is not a port spec (expected \"tcp\", \"udp\", "
	    "\"tcp/443\", \"udp/53\", \"tcp/8000-8080\" with ports 1-65535, or \"icmp\")\n"
	    "$.services[0].ports[4]: \"icmp/1\" is not a port spec (expected \"tcp\", \"udp\", "
	    "\"tcp/443\", \"udp/53\", \"tcp/8000-8080\" with ports 1-65535, or \"icmp\")\n"
	    "$.services[0].ports[5]: \"tcp/\" is not a port spec (expected \"tcp\", \"udp\", "
	    "\"tcp/443\", \"udp/53\", \"tcp/8000-8080\" with ports 1-65535, or \"icmp\")\n"
	    "$.services[0].ports[6]: \"tcp/1-\" is not a port spec (expected \"tcp\", \"udp\", "
	    "\"tcp/443\", \"udp/53\", \"tcp/8000-8080\" with ports 1-65535, or \"icmp\")\n"
	    "$.services[0].ports[7]: \"tcp/+1\" is not a port spec (expected \"tcp\", \"udp\", "
	    "\"tcp/443\", \"udp/53\", \"tcp/8000-8080\" with ports 1-65535, or \"icmp\")\n"
	    "$.services[0].ports[8]: \"TCP/1\" is not a port spec (expected \"tcp\", \"udp\", "
	    "\"tcp/443\", \"udp/53\", \"tcp/8000-8080\" with ports 1-65535, or \"icmp\")\n"
	    "$.services[0].ports[10]: expected a port spec (a string like \"tcp/443\"), got an "
	    "integer\n");
}

static void
test_router_config_parse_route_and_families(void **state)
{
	(void)state;
	expect_errors("{" ROUTER ", 'services': [{'name': 's', 'prefixes': ['10.0.0.0/8'], "
	              "'access': [], 'route': {'peer': 'p', 'lan': 'l'}}]}",
	    "$.services[0].route: has 2 of \"peer\", \"lan\" and \"breakout\" (expected exactly "
	    "one of them)\n");
	expect_errors("{" ROUTER ", 'wan': [{'name': 'w', 'device': 'eth0', 'waypoint': "
	              "'192.0.2.1'}], 'peers': [{'name': 'p', 'paths': [{'wan': 'w', 'remote': "
	              "'2001:db8::2'}]}]}",
	    "$.peers[0].paths[0].remote: IPv6 address, but wan \"w\" has an IPv4 waypoint "
	    "(expected the same family)\n");
	expect_errors("{" ROUTER ", 'wan': [{'name': 'w', 'device': 'eth0', 'waypoint': "
	              "'192.0.2.1'}], 'peers': [{'name': 'p', 'paths': [{'wan': 'w', 'remote': "
	              "'192.0.2.2'}]}], 'services': [{'name': 's', 'prefixes': ['10.0.0.0/8'], "
	              "'access': [], 'route': {'peer': 'p'}, 'address': '2001:db8::9'}]}",
	    "$.services[0].address: a service with an address needs exactly one host prefix (the "
	    "real server the egress translates the address to)\n"
	    "$.services[0].address: IPv6 address, but the service has no IPv6 prefix (the egress "
	    "translates it to an address of the same family)\n");
	expect_errors("{" ROUTER ", 'tenants': [{'name': 't'}], 'lan': [{'name': 'l', 'tenant': "
	              "'t', 'address': '10.1.0.1/24', 'prefixes': ['10.1.0.0/24'], 'nat_pool': "
	              "'100.64.0.1/24'}]}",
	    "$.lan[0].nat_pool: prefix \"100.64.0.1/24\" has host bits set (expected the network "
	    "address, e.g. \"10.1.0.0/24\")\n");
}

static void
test_router_config_parse_numbers_out_of_range(void **state)
{
	(void)state;
	expect_errors("{" ROUTER ", 'timeouts': {'tcp_opening_s': 0, 'udp_s': 86401, 'icmp_s': "
	              "-1}, 'limits': {'sessions': 16777217}}",
	    "$.timeouts.tcp_opening_s: 0 is out of range (expected 1 to 86400)\n"
	    "$.timeouts.udp_s: 86401 is out of range (expected 1 to 86400)\n"
	    "$.timeouts.icmp_s: -1 is out of range (expected 1 to 86400)\n"
	    "$.limits.sessions: 16777217 is out of range (expected 1 to 16777216)\n");
	expect_errors("{" ROUTER ", 'limits': {'sessions': 9223372036854775807}}",
	    "$.limits.sessions: 9223372036854775807 is out of range (expected 1 to 16777216)\n");
	expect_errors("{" ROUTER ", 'limits': {'sessions': 1e3}}",
	    "$.limits.sessions: expected an integer from 1 to 16777216, got a number with a "
	    "fraction or exponent\n");
}

static void
test_router_config_parse_list_limits(void **state)
{
	size_t n = ROUTER_CONFIG_LIST_MAX + 1, used;
	char *doc = malloc(n * 3 + 64);
	struct router_config_errors errors;
	struct router_config *cfg;

	(void)state;
	assert_non_null(doc);
	used = (size_t)sprintf(doc, "{\"router\": {\"name\": \"r\"}, \"tenants\": [");
	for (size_t i = 0; i < n; i++)
		used += (size_t)sprintf(doc + used, "%s{}", i > 0 ? "," : "");
	used += (size_t)sprintf(doc + used, "]}");
	router_config_errors_init(&errors);
	assert_int_equal(router_config_parse(doc, used, &cfg, &errors), -EINVAL);
	assert_int_equal(router_config_errors_count(&errors), 1);
	assert_string_equal(router_config_errors_at(&errors, 0)->path, "$.tenants");
	assert_string_equal(router_config_errors_at(&errors, 0)->message,
	    "has 4097 entries (at most 4096 allowed)");
	router_config_errors_fini(&errors);
	free(doc);
}

/* More errors than the list keeps: the rest are counted, and the print says so. */
static void
test_router_config_errors_cap_counts_dropped(void **state)
{
	struct router_config_errors errors;
	struct router_config *cfg;
	char *doc = malloc(300 * 16 + 64), *printed = NULL;
	size_t used, printed_len = 0;
	FILE *out;

	(void)state;
	assert_non_null(doc);
	used = (size_t)sprintf(doc, "{\"router\": {\"name\": \"r\"}");
	for (int i = 0; i < 300; i++)
		used += (size_t)sprintf(doc + used, ", \"k%d\": 1", i);
	used += (size_t)sprintf(doc + used, "}");
	router_config_errors_init(&errors);
	assert_int_equal(router_config_parse(doc, used, &cfg, &errors), -EINVAL);
	assert_int_equal(router_config_errors_count(&errors), ROUTER_CONFIG_ERRORS_MAX);
	assert_int_equal(errors.dropped, 300 - ROUTER_CONFIG_ERRORS_MAX);
	assert_int_equal(router_config_errors_set_file(&errors, "x.json"), 0);
	out = open_memstream(&printed, &printed_len);
	assert_non_null(out);
	router_config_errors_print(&errors, out);
	fclose(out);
	assert_non_null(strstr(printed, "x.json: $.k0: unknown key (expected one of: router,"));
	assert_non_null(strstr(printed, "\nx.json: 100 more errors not shown\n"));
	free(printed);
	free(doc);
	router_config_errors_fini(&errors);
}

static void
test_router_config_load_example_files(void **state)
{
	static const char *const valid[] = {"configs/full.json", "configs/minimal.json",
	    "configs/site-a.json", "configs/site-b.json"};
	struct router_config_errors errors;
	struct router_config *cfg;
	char path[PATH_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		router_config_errors_init(&errors);
		source_path(valid[i], path, sizeof(path));
		if (router_config_load(path, &cfg, &errors) != 0) {
			router_config_errors_print(&errors, stdout);
			fail_msg("%s should be valid", valid[i]);
		}
		assert_true(router_config_is_consistent(cfg));
		router_config_free(cfg);
		router_config_errors_fini(&errors);
	}

	/* Two sites that mirror each other: each one's peer is the other. */
	router_config_errors_init(&errors);
	source_path("configs/site-a.json", path, sizeof(path));
	assert_int_equal(router_config_load(path, &cfg, &errors), 0);
	assert_string_equal(cfg->peers[0].name, "site-b");
	assert_int_equal(cfg->services[0].route_kind, ROUTER_CONFIG_ROUTE_PEER);
	assert_int_equal(cfg->services[1].route_kind, ROUTER_CONFIG_ROUTE_LAN);
	router_config_free(cfg);
	router_config_errors_fini(&errors);
}

/* Every error of a file is reported, in order, each with the file name when printed. */
static void
test_router_config_load_reports_every_error(void **state)
{
	struct router_config_errors errors;
	struct router_config *cfg;
	char path[PATH_MAX], *printed = NULL;
	size_t printed_len = 0;
	FILE *out;

	(void)state;
	router_config_errors_init(&errors);
	source_path("configs/invalid-many.json", path, sizeof(path));
	assert_int_equal(router_config_load(path, &cfg, &errors), -EINVAL);
	assert_null(cfg);
	assert_string_equal(errors.file, path);
	assert_int_equal(router_config_errors_set_file(&errors, "F"), 0);
	out = open_memstream(&printed, &printed_len);
	assert_non_null(out);
	router_config_errors_print(&errors, out);
	fclose(out);
	assert_string_equal(printed,
	    "F: $.router.name: name \"bad router\" has a character outside A-Z, a-z, 0-9, '.', "
	    "'_', '-'\n"
	    "F: $.lan[0].prefixes[0]: prefix \"10.1.0.1/24\" has host bits set (expected the "
	    "network address, e.g. \"10.1.0.0/24\")\n"
	    "F: $.wan[0].color: unknown key (expected one of: name, device, waypoint, "
	    "vectors)\n"
	    "F: $.services[0].ports[0]: \"tcp/0\" is not a port spec (expected \"tcp\", "
	    "\"udp\", \"tcp/443\", \"udp/53\", \"tcp/8000-8080\" with ports 1-65535, or "
	    "\"icmp\")\n"
	    "F: $.limits.sessions: 0 is out of range (expected 1 to 16777216)\n"
	    "F: $.tenants[1].name: duplicate name \"corp\" (also $.tenants[0].name)\n"
	    "F: $.lan[0].tenant: \"corp2\" is not a tenant (known: corp)\n"
	    "F: $.peers[0].paths[0].remote: IPv6 address, but wan \"inet\" has an IPv4 "
	    "waypoint (expected the same family)\n"
	    "F: $.services[0].route.peer: \"hub2\" is not a peer (known: hub)\n");
	free(printed);
	router_config_errors_fini(&errors);
}

static void
test_router_config_load_missing_file(void **state)
{
	struct router_config_errors errors;
	struct router_config *cfg;

	(void)state;
	router_config_errors_init(&errors);
	assert_int_equal(router_config_load("/nonexistent/tern.json", &cfg, &errors), -EINVAL);
	assert_int_equal(router_config_errors_count(&errors), 1);
	assert_string_equal(errors.file, "/nonexistent/tern.json");
	assert_string_equal(router_config_errors_at(&errors, 0)->path, "$");
	assert_string_equal(router_config_errors_at(&errors, 0)->message,
	    "cannot open the file: No such file or directory");
	router_config_errors_fini(&errors);

	router_config_errors_init(&errors);
	assert_int_equal(router_config_load("/", &cfg, &errors), -EINVAL);
	assert_string_equal(router_config_errors_at(&errors, 0)->message, "not a regular file");
	router_config_errors_fini(&errors);
}

static void
test_router_config_quote_escapes_and_cuts(void **state)
{
	char out[64];

	(void)state;
	router_config_quote("a\"b\\c\n", 40, out, sizeof(out));
	assert_string_equal(out, "\"a\\\"b\\\\c\\x0a\"");
	router_config_quote("abcdef", 3, out, sizeof(out));
	assert_string_equal(out, "\"abc\"...");
	router_config_quote("abcdefghijkl", 40, out, 10);
	assert_string_equal(out, "\"abcd\"...");
}

/* Mutations of a JSON tree for the random test: every node with its parent. */
struct node_ref {
	json_t *parent;  /* NULL for the root */
	const char *key; /* in an object parent */
	size_t index;    /* in an array parent */
	json_t *value;
};

static size_t
collect_nodes(json_t *parent, const char *key, size_t index, json_t *value, struct node_ref *nodes,
    size_t n, size_t max)
{
	const char *k;
	json_t *v;
	size_t i;

	if (n < max)
		nodes[n++] = (struct node_ref){parent, key, index, value};
	if (json_is_object(value)) {
		json_object_foreach(value, k, v) n = collect_nodes(value, k, 0, v, nodes, n, max);
	} else if (json_is_array(value)) {
		json_array_foreach(value, i, v) n = collect_nodes(value, NULL, i, v, nodes, n, max);
	}
	return n;
}

static json_t *
random_value(uint64_t *rng)
{
	static const char *const strings[] = {"corp", "guest", "hub", "inet", "lte", "crm",
	    "10.1.0.0/24", "10.1.0.1/24", "198.51.100.1", "2001:db8::1", "tcp/443", "", "x y",
	    "a123456789b123456789c123456789d123456789e123456789f123456789abcdef"};

	switch (test_rand_below(rng, 8)) {
	case 0:
		return json_null();
	case 1:
		return json_true();
	case 2:
		return json_integer((json_int_t)test_rand(rng));
	case 3:
		return json_real(1.5);
	case 4:
		return json_object();
	case 5:
		return json_array();
	default:
		return json_string(
		    strings[test_rand_below(rng, sizeof(strings) / sizeof(strings[0]))]);
	}
}

static void
mutate(json_t *root, uint64_t *rng)
{
	struct node_ref nodes[512];
	size_t n = collect_nodes(NULL, NULL, 0, root, nodes, 0, 512);
	struct node_ref *at = &nodes[1 + test_rand_below(rng, n - 1)];
	json_t *copy;

	switch (test_rand_below(rng, 5)) {
	case 0: /* delete */
		if (at->key != NULL)
			json_object_del(at->parent, at->key);
		else
			json_array_remove(at->parent, at->index);
		break;
	case 1: /* change the type or the value */
		if (at->key != NULL)
			json_object_set_new(at->parent, at->key, random_value(rng));
		else
			json_array_set_new(at->parent, at->index, random_value(rng));
		break;
	case 2: /* duplicate an entry of a list */
		if (json_is_array(at->parent)) {
			copy = json_deep_copy(at->value);
			json_array_append_new(at->parent, copy);
		}
		break;
	case 3: /* add a key or an entry */
		if (json_is_object(at->value))
			json_object_set_new(at->value, "name", random_value(rng));
		else if (json_is_array(at->value))
			json_array_append_new(at->value, random_value(rng));
		break;
	default: /* break a reference: rename a string */
		if (json_is_string(at->value))
			json_string_set(at->value, "nobody");
		break;
	}
}

static void
test_router_config_parse_random_mutations(void **state)
{
	uint64_t rng = test_seed();
	char path[PATH_MAX];
	json_error_t jerr;
	json_t *base;
	unsigned ok = 0, invalid = 0;

	(void)state;
	source_path("configs/full.json", path, sizeof(path));
	base = json_load_file(path, 0, &jerr);
	assert_non_null(base);
	for (int round = 0; round < 10000; round++) {
		json_t *doc = json_deep_copy(base);
		struct router_config_errors errors;
		struct router_config *cfg;
		unsigned mutations = 1 + (unsigned)test_rand_below(&rng, 3);
		char *text;
		int rc;

		for (unsigned m = 0; m < mutations; m++)
			mutate(doc, &rng);
		text = json_dumps(doc, JSON_COMPACT);
		assert_non_null(text);
		router_config_errors_init(&errors);
		rc = router_config_parse(text, strlen(text), &cfg, &errors);
		if (rc == 0) {
			assert_int_equal(router_config_errors_count(&errors), 0);
			if (!router_config_is_consistent(cfg))
				fail_msg("inconsistent snapshot from %s", text);
			ok++;
		} else {
			assert_int_equal(rc, -EINVAL);
			assert_null(cfg);
			assert_true(router_config_errors_count(&errors) > 0);
			for (size_t i = 0; i < router_config_errors_count(&errors); i++) {
				const struct router_config_error *e =
				    router_config_errors_at(&errors, i);

				if (e->path[0] != '$' || e->message[0] == '\0')
					fail_msg("bad error %s: %s from %s", e->path, e->message,
					    text);
			}
			invalid++;
		}
		router_config_free(cfg);
		router_config_errors_fini(&errors);
		free(text);
		json_decref(doc);
	}
	printf("# %u valid, %u invalid\n", ok, invalid);
	assert_true(ok > 0 && invalid > 0);
	json_decref(base);
}

/* RFC 7748's two public keys, as ternctl pubkey prints them. */
#define KEY_A "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="
#define KEY_B "3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08="
#define SECURE_PEERS(ka, kb)                                                                       \
	"'wan': [{'name': 'w', 'device': 'eth0', 'waypoint': '192.0.2.1'}], "                      \
	"'peers': [{'name': 'p1', " ka "'paths': [{'wan': 'w', 'remote': '192.0.2.2'}]}, "         \
	"{'name': 'p2', " kb "'paths': [{'wan': 'w', 'remote': '192.0.2.3'}]}]"

static void
test_router_config_parse_security(void **state)
{
	struct parsed p;

	(void)state;
	parse_json(&p,
	    "{'router': {'name': 'r', 'private_key_file': 'r.key', 'cipher': "
	    "'chacha20-poly1305', 'rekey_after_s': 30}, " SECURE_PEERS("'public_key': '" KEY_A
	                                                               "', ",
	        "'public_key': '" KEY_B
	        "', ") ", "
	               "'tenants': [{'name': 't'}], 'services': [{'name': 's', 'prefixes': "
	               "['10.9.0.0/16'], 'access': ['t'], 'route': {'peer': 'p1'}, "
	               "'encryption': 'off'}]}");
	assert_string_equal(p.text, "");
	assert_int_equal(p.rc, 0);
	assert_string_equal(p.cfg->security.private_key_file, "r.key");
	assert_int_equal(p.cfg->security.cipher, ROUTER_CONFIG_CIPHER_CHACHA20_POLY1305);
	assert_int_equal(p.cfg->security.rekey_after_s, 30);
	assert_true(p.cfg->peers[0].has_public_key);
	assert_int_equal(p.cfg->peers[0].public_key[0], 0x85);
	assert_int_equal(p.cfg->peers[1].public_key[0], 0xde);
	assert_int_equal(p.cfg->services[0].encryption, ROUTER_CONFIG_ENCRYPTION_OFF);
	parsed_fini(&p);

	expect_errors("{'router': {'name': 'r', 'private_key_file': 'k'}, " SECURE_PEERS(
	                  "'public_key': '" KEY_A "', ", "") "}",
	    "$.peers[1].public_key: missing (the router has a private_key_file, so every peer "
	    "needs its public key: `ternctl pubkey` on the peer)\n");
	expect_errors("{" ROUTER ", " SECURE_PEERS("'public_key': '" KEY_A "', ", "") "}",
	    "$.peers[0].public_key: set, but $.router.private_key_file is not (peer keys need "
	    "this router's own key too)\n");
	expect_errors("{'router': {'name': 'r', 'private_key_file': 'k'}, " SECURE_PEERS(
	                  "'public_key': '" KEY_A "', ", "'public_key': '" KEY_A "', ") "}",
	    "$.peers[1].public_key: same key as $.peers[0] (each peer has its own key)\n");
	expect_errors("{'router': {'name': 'r', 'private_key_file': 'k'}, " SECURE_PEERS(
	                  "'public_key': 'c2VjcmV0', ", "'public_key': '" KEY_B "', ") "}",
	    "$.peers[0].public_key: not a public key (expected 44 base64 characters, as "
	    "`ternctl pubkey` prints)\n");
	expect_errors("{'router': {'name': 'r', 'cipher': 'des', 'rekey_after_s': 600, "
	              "'private_key_file': ''}}",
	    "$.router.private_key_file: expected a file name of 1 to 1024 characters\n"
	    "$.router.cipher: \"des\" is not one of \"aes-256-gcm\", \"chacha20-poly1305\"\n"
	    "$.router.rekey_after_s: 600 is out of range (expected 2 to 120)\n");
}

/* A WAN, a peer with two paths, and a service; POLICIES and PEER_PROBE/PATH_PROBE vary. */
#define NET(policies, peer_extra, path_extra, service_extra)                                       \
	"{" ROUTER ", 'tenants': [{'name': 't'}], "                                                \
	"'wan': [{'name': 'inet', 'device': 'eth0', 'waypoint': '192.0.2.1', 'vectors': "          \
	"['broadband']}, {'name': 'lte', 'device': 'eth1', 'waypoint': '192.0.2.2'}], "            \
	"'peers': [{'name': 'hub'" peer_extra ", 'paths': [{'wan': 'inet', 'remote': "             \
	"'198.51.100.1'" path_extra "}, {'wan': 'lte', 'remote': '198.51.100.2'}]}], "             \
	"'service_policies': [" policies "], "                                                     \
	"'services': [{'name': 's', 'prefixes': ['10.0.0.0/8'], 'access': ['t'], 'route': "        \
	"{'peer': 'hub'}" service_extra "}]}"

static void
test_router_config_parse_service_policies(void **state)
{
	const struct router_config_policy *pol;
	struct parsed p;

	(void)state;
	parse_json(&p,
	    NET("{'name': 'voice', 'sla': {'max_latency_ms': 150, 'max_jitter_ms': 30, "
	        "'max_loss_pct': 0.5, 'min_mos': 3.6}, 'vector_costs': {'broadband': "
	        "10, 'lte': 100}, 'default_cost': 50, 'resiliency': "
	        "'revertible-failover', 'no_path': 'drop'}, {'name': 'bulk'}, "
	        "{'name': 'dup', 'vector_costs': {'lte': 1}, 'resiliency': 'duplicate'}, "
	        "{'name': 'pinned', 'resiliency': 'none', 'sla': {'max_loss_pct': 0}}",
	        "", "", ", 'policy': 'voice'"));
	assert_string_equal(p.text, "");
	assert_int_equal(p.rc, 0);
	assert_true(router_config_is_consistent(p.cfg));
	assert_int_equal(p.cfg->policy_count, 4);
	pol = &p.cfg->policies[0];
	assert_string_equal(pol->name, "voice");
	assert_int_equal(pol->sla.max_latency_ms, 150);
	assert_int_equal(pol->sla.max_jitter_ms, 30);
	assert_true(pol->sla.has_max_loss);
	assert_true(pol->sla.max_loss_pct == 0.5);
	assert_true(pol->sla.min_mos == 3.6);
	assert_int_equal(pol->vector_cost_count, 2);
	assert_string_equal(pol->vector_costs[0].vector, "broadband");
	assert_int_equal(pol->vector_costs[0].cost, 10);
	assert_string_equal(pol->vector_costs[1].vector, "lte");
	assert_int_equal(pol->vector_costs[1].cost, 100);
	assert_int_equal(pol->default_cost, 50);
	assert_int_equal(pol->resiliency, ROUTER_CONFIG_RESILIENCY_REVERTIBLE_FAILOVER);
	assert_int_equal(pol->no_path, ROUTER_CONFIG_NO_PATH_DROP);
	/* Defaults: no SLA, cost 0, failover, best effort. */
	pol = &p.cfg->policies[1];
	assert_int_equal(pol->sla.max_latency_ms, 0);
	assert_int_equal(pol->sla.max_jitter_ms, 0);
	assert_false(pol->sla.has_max_loss);
	assert_true(pol->sla.min_mos == 0);
	assert_int_equal(pol->vector_cost_count, 0);
	assert_int_equal(pol->default_cost, 0);
	assert_int_equal(pol->resiliency, ROUTER_CONFIG_RESILIENCY_FAILOVER);
	assert_int_equal(pol->no_path, ROUTER_CONFIG_NO_PATH_BEST_EFFORT);
	/* Unlisted vectors are the last resort once some are listed. */
	pol = &p.cfg->policies[2];
	assert_int_equal(pol->default_cost, ROUTER_CONFIG_COST_MAX);
	assert_int_equal(pol->resiliency, ROUTER_CONFIG_RESILIENCY_DUPLICATE);
	pol = &p.cfg->policies[3];
	assert_int_equal(pol->resiliency, ROUTER_CONFIG_RESILIENCY_NONE);
	assert_true(pol->sla.has_max_loss);
	assert_true(pol->sla.max_loss_pct == 0);
	assert_string_equal(p.cfg->services[0].policy_name, "voice");
	assert_int_equal(p.cfg->services[0].policy_id, 0);
	assert_int_equal(router_config_policy_find(p.cfg, "dup"), 2);
	assert_int_equal(router_config_policy_find(p.cfg, "nope"), -ENOENT);
	parsed_fini(&p);

	/* A service without a policy. */
	parse_json(&p, NET("", "", "", ""));
	assert_int_equal(p.rc, 0);
	assert_null(p.cfg->services[0].policy_name);
	assert_int_equal(p.cfg->policy_count, 0);
	parsed_fini(&p);
}

static void
test_router_config_parse_service_policy_errors(void **state)
{
	(void)state;
	expect_errors(NET("{'name': 'v', 'sla': {'max_latency_ms': 0, 'max_jitter_ms': 60001, "
	                  "'max_loss_pct': 100.5, 'min_mos': 4.6, 'max_rtt_ms': 1}}, "
	                  "{'name': 'w', 'sla': {'max_loss_pct': '1%', 'min_mos': 0.9}}",
	                  "", "", ""),
	    "$.service_policies[0].sla.max_rtt_ms: unknown key (expected one of: max_latency_ms, "
	    "max_jitter_ms, max_loss_pct, min_mos)\n"
	    "$.service_policies[0].sla.max_latency_ms: 0 is out of range (expected 1 to 60000)\n"
	    "$.service_policies[0].sla.max_jitter_ms: 60001 is out of range (expected 1 to "
	    "60000)\n"
	    "$.service_policies[0].sla.max_loss_pct: 100.5 is out of range (expected 0 to 100)\n"
	    "$.service_policies[0].sla.min_mos: 4.6 is out of range (expected 1 to 4.5)\n"
	    "$.service_policies[1].sla.max_loss_pct: expected a number from 0 to 100, got a "
	    "string\n"
	    "$.service_policies[1].sla.min_mos: 0.9 is out of range (expected 1 to 4.5)\n");
	expect_errors(NET("{'name': 'v', 'vector_costs': {'broadband': 1000001, 'bad name': 1, "
	                  "'lte': 1.5, 'x': -1}, 'default_cost': 2000000, 'resiliency': 'always', "
	                  "'no_path': 'queue'}, {'name': 'w', 'vector_costs': ['lte']}, "
	                  "{'sla': 3}",
	                  "", "", ""),
	    "$.service_policies[0].vector_costs.broadband: 1000001 is out of range (expected 0 to "
	    "1000000)\n"
	    "$.service_policies[0].vector_costs[\"bad name\"]: not a vector name (expected 1 to 63 "
	    "characters of A-Z, a-z, 0-9, '.', '_', '-')\n"
	    "$.service_policies[0].vector_costs.lte: expected a cost, an integer from 0 to "
	    "1000000, got a number with a fraction or exponent\n"
	    "$.service_policies[0].vector_costs.x: -1 is out of range (expected 0 to 1000000)\n"
	    "$.service_policies[0].default_cost: 2000000 is out of range (expected 0 to "
	    "1000000)\n"
	    "$.service_policies[0].resiliency: \"always\" is not one of \"none\", \"failover\", "
	    "\"revertible-failover\", \"duplicate\"\n"
	    "$.service_policies[0].no_path: \"queue\" is not one of \"best-effort\", \"drop\"\n"
	    "$.service_policies[1].vector_costs: expected an object of vector costs (e.g. "
	    "{\"broadband\": 10}), got an array\n"
	    "$.service_policies[2].name: missing (expected a name)\n"
	    "$.service_policies[2].sla: expected an object, got an integer\n");
	/* References: unknown and duplicate policy names. */
	expect_errors(NET("{'name': 'gold'}, {'name': 'silver'}, {'name': 'gold'}", "", "",
	                  ", 'policy': 'platinum'"),
	    "$.service_policies[2].name: duplicate name \"gold\" (also "
	    "$.service_policies[0].name)\n"
	    "$.services[0].policy: \"platinum\" is not a service policy (known: gold, silver)\n");
	expect_errors(NET("", "", "", ", 'policy': 'gold'"),
	    "$.services[0].policy: \"gold\" is not a service policy (known: none defined)\n");
	expect_errors(NET("", "", "", ", 'policy': 7"),
	    "$.services[0].policy: expected a name (a string), got an integer\n");
}

static void
test_router_config_parse_probe_defaults_and_overrides(void **state)
{
	const struct router_config_probe *pr;
	struct parsed p;

	(void)state;
	parse_json(&p, NET("", "", "", ""));
	assert_int_equal(p.rc, 0);
	for (size_t i = 0; i < 2; i++) {
		pr = &p.cfg->paths[i].probe;
		assert_int_equal(pr->interval_ms, 100);
		assert_int_equal(pr->down_after, 3);
		assert_int_equal(pr->hold_down_ms, 5000);
		assert_int_equal(pr->hold_down_max_ms, 120000);
	}
	assert_int_equal(p.cfg->peers[0].probe.interval_ms, 100);
	parsed_fini(&p);

	/* Path over peer over defaults, key by key. */
	parse_json(&p,
	    NET("", ", 'probe': {'interval_ms': 50, 'hold_down_ms': 1000}",
	        ", 'probe': {'interval_ms': 20, 'down_after': 5, 'hold_down_max_ms': "
	        "2000}",
	        ""));
	assert_string_equal(p.text, "");
	assert_int_equal(p.rc, 0);
	assert_true(router_config_is_consistent(p.cfg));
	pr = &p.cfg->peers[0].probe;
	assert_int_equal(pr->interval_ms, 50);
	assert_int_equal(pr->down_after, 3);
	assert_int_equal(pr->hold_down_ms, 1000);
	assert_int_equal(pr->hold_down_max_ms, 120000);
	pr = &p.cfg->paths[0].probe;
	assert_int_equal(pr->interval_ms, 20);
	assert_int_equal(pr->down_after, 5);
	assert_int_equal(pr->hold_down_ms, 1000);
	assert_int_equal(pr->hold_down_max_ms, 2000);
	pr = &p.cfg->paths[1].probe;
	assert_int_equal(pr->interval_ms, 50);
	assert_int_equal(pr->down_after, 3);
	assert_int_equal(pr->hold_down_ms, 1000);
	assert_int_equal(pr->hold_down_max_ms, 120000);
	parsed_fini(&p);

	/* Limits are accepted. */
	parse_json(&p,
	    NET("",
	        ", 'probe': {'interval_ms': 10, 'down_after': 100, 'hold_down_ms': "
	        "0, 'hold_down_max_ms': 0}",
	        ", 'probe': {'interval_ms': 10000, 'down_after': 1, 'hold_down_ms': "
	        "600000, 'hold_down_max_ms': 3600000}",
	        ""));
	assert_string_equal(p.text, "");
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.cfg->paths[0].probe.hold_down_max_ms, 3600000);
	assert_int_equal(p.cfg->paths[1].probe.hold_down_max_ms, 0);
	parsed_fini(&p);
}

static void
test_router_config_parse_probe_errors(void **state)
{
	(void)state;
	expect_errors(NET("",
	                  ", 'probe': {'interval_ms': 9, 'down_after': 0, 'hold_down_ms': "
	                  "600001, 'hold_down_max_ms': 3600001, 'jitter': 1}",
	                  ", 'probe': {'interval_ms': 10001, 'down_after': 101, 'hold_down_ms': "
	                  "-1}",
	                  ""),
	    "$.peers[0].probe.jitter: unknown key (expected one of: interval_ms, down_after, "
	    "hold_down_ms, hold_down_max_ms)\n"
	    "$.peers[0].probe.interval_ms: 9 is out of range (expected 10 to 10000)\n"
	    "$.peers[0].probe.down_after: 0 is out of range (expected 1 to 100)\n"
	    "$.peers[0].probe.hold_down_ms: 600001 is out of range (expected 0 to 600000)\n"
	    "$.peers[0].probe.hold_down_max_ms: 3600001 is out of range (expected 0 to 3600000)\n"
	    "$.peers[0].paths[0].probe.interval_ms: 10001 is out of range (expected 10 to "
	    "10000)\n"
	    "$.peers[0].paths[0].probe.down_after: 101 is out of range (expected 1 to 100)\n"
	    "$.peers[0].paths[0].probe.hold_down_ms: -1 is out of range (expected 0 to 600000)\n");
	/* The hold-down cap below the first hold-down, set here or inherited. */
	expect_errors(NET("", ", 'probe': {'hold_down_ms': 10000, 'hold_down_max_ms': 9000}",
	                  ", 'probe': {'hold_down_ms': 200000}", ""),
	    "$.peers[0].probe.hold_down_max_ms: 9000 is less than hold_down_ms 10000 (expected "
	    "the longest hold-down, at least the first)\n"
	    "$.peers[0].paths[0].probe.hold_down_ms: 200000 is more than hold_down_max_ms 9000 "
	    "(inherited; set hold_down_max_ms too)\n");
	expect_errors(NET("", ", 'probe': 100", ", 'probe': null", ""),
	    "$.peers[0].probe: expected an object, got an integer\n"
	    "$.peers[0].paths[0].probe: expected an object, got null\n");
}

static void
test_router_config_parse_udp_transform(void **state)
{
	struct parsed p;

	(void)state;
	parse_json(&p,
	    "{" ROUTER ", 'wan': [{'name': 'w', 'device': 'eth0', 'waypoint': "
	    "'192.0.2.1'}], 'peers': [{'name': 'p', 'paths': [{'wan': 'w', 'remote': "
	    "'192.0.2.2', 'udp_transform': true}, {'wan': 'w', 'name': 'x', "
	    "'remote': '192.0.2.3'}, {'wan': 'w', 'name': 'y', 'remote': '192.0.2.4', "
	    "'udp_transform': 'auto'}]}]}");
	assert_string_equal(p.text, "");
	assert_int_equal(p.rc, 0);
	assert_true(p.cfg->paths[0].udp_transform);
	assert_false(p.cfg->paths[0].udp_transform_auto);
	assert_false(p.cfg->paths[1].udp_transform);
	assert_false(p.cfg->paths[1].udp_transform_auto);
	assert_false(p.cfg->paths[2].udp_transform);
	assert_true(p.cfg->paths[2].udp_transform_auto);
	parsed_fini(&p);
	expect_errors("{" ROUTER ", 'wan': [{'name': 'w', 'device': 'eth0', 'waypoint': "
	              "'192.0.2.1'}], 'peers': [{'name': 'p', 'paths': [{'wan': 'w', 'remote': "
	              "'192.0.2.2', 'udp_transform': 'yes'}, {'wan': 'w', 'name': 'x', "
	              "'remote': '192.0.2.3', 'udp_transform': 1}]}]}",
	    "$.peers[0].paths[0].udp_transform: expected true, false or \"auto\", got \"yes\"\n"
	    "$.peers[0].paths[1].udp_transform: expected true, false or \"auto\", got an "
	    "integer\n");
}

/* A path across a NAT: "remote": "auto" on the public side, "nat": true behind it. */
static void
test_router_config_parse_nat_paths(void **state)
{
	struct parsed p;

	(void)state;
	parse_json(&p,
	    "{'router': {'name': 'r', 'private_key_file': 'r.key'}, "
	    "'wan': [{'name': 'w', 'device': 'eth0', 'waypoint': '192.0.2.1'}], "
	    "'peers': [{'name': 'p1', 'public_key': '" KEY_A "', 'paths': [{'wan': 'w', "
	    "'remote': 'auto'}]}, {'name': 'p2', 'public_key': '" KEY_B "', 'paths': "
	    "[{'wan': 'w', 'remote': '192.0.2.3', 'nat': true}]}]}");
	assert_string_equal(p.text, "");
	assert_int_equal(p.rc, 0);
	assert_true(p.cfg->paths[0].remote_auto);
	assert_false(p.cfg->paths[0].nat);
	assert_int_equal(p.cfg->paths[0].remote.family, ADDR_FAMILY_V4);
	{
		static const uint8_t zero[16];

		assert_memory_equal(p.cfg->paths[0].remote.bytes, zero, sizeof(zero));
	}
	assert_true(p.cfg->paths[0].udp_transform); /* data and controls share one mapping */
	assert_false(p.cfg->paths[1].remote_auto);
	assert_true(p.cfg->paths[1].nat);
	assert_true(p.cfg->paths[1].udp_transform);
	parsed_fini(&p);
	/* Learning needs authenticated probes; two NATs need a third party. */
	expect_errors("{" ROUTER ", 'wan': [{'name': 'w', 'device': 'eth0', 'waypoint': "
	              "'192.0.2.1'}], 'peers': [{'name': 'p', 'paths': [{'wan': 'w', 'remote': "
	              "'auto'}, {'wan': 'w', 'name': 'x', 'remote': '192.0.2.3', 'nat': true}, "
	              "{'wan': 'w', 'name': 'y', 'remote': 'auto', 'nat': true}, "
	              "{'wan': 'w', 'name': 'z', 'remote': 'automatic', 'nat': 1}]}]}",
	    "$.peers[0].paths[3].remote: \"automatic\" is not an address (expected IPv4 like "
	    "\"192.0.2.1\" or IPv6 like \"2001:db8::1\", without a prefix length)\n"
	    "$.peers[0].paths[3].nat: expected true or false, got an integer\n"
	    "$.peers[0].paths[0].remote: \"auto\" needs $.router.private_key_file: the "
	    "translated address is learned only from authenticated probes\n"
	    "$.peers[0].paths[1].nat: \"nat\": true needs $.router.private_key_file: the "
	    "translated address is learned only from authenticated probes\n"
	    "$.peers[0].paths[2].remote: \"auto\" and \"nat\": true together: two routers "
	    "that are both behind NATs cannot find each other without a third party\n");
}

#define RULES_BASE                                                                                 \
	ROUTER                                                                                     \
	", 'tenants': [{'name': 'corp', 'limits': {'sessions': 100, 'new_sessions_per_s': 50}}, "  \
	"{'name': 'guest'}], 'peers': [{'name': 'p', 'paths': [{'wan': 'w', 'remote': "            \
	"'192.0.2.2'}]}], 'wan': [{'name': 'w', 'device': 'eth0', 'waypoint': '192.0.2.1'}], "     \
	"'services': [{'name': 'web', 'prefixes': ['10.2.0.0/24'], 'route': {'peer': 'p'}}, "      \
	"{'name': 'db', 'prefixes': ['10.3.0.0/24'], 'access': ['guest'], "                        \
	"'route': {'peer': 'p'}}]"

static void
test_router_config_parse_firewall(void **state)
{
	struct parsed p;

	(void)state;
	parse_json(&p, "{" ROUTER "}");
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.cfg->firewall.tcp_no_session, ROUTER_CONFIG_TCP_NO_SESSION_DROP);
	assert_int_equal(p.cfg->firewall.half_open_max, 0);
	assert_int_equal(p.cfg->firewall.resets_per_s, ROUTER_CONFIG_RESETS_PER_S_DEFAULT);
	parsed_fini(&p);
	parse_json(&p,
	    "{" ROUTER ", 'firewall': {'tcp_no_session': 'reset', 'half_open_max': 500, "
	    "'resets_per_s': 20}}");
	assert_string_equal(p.text, "");
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.cfg->firewall.tcp_no_session, ROUTER_CONFIG_TCP_NO_SESSION_RESET);
	assert_int_equal(p.cfg->firewall.half_open_max, 500);
	assert_int_equal(p.cfg->firewall.resets_per_s, 20);
	parsed_fini(&p);
	parse_json(&p,
	    "{" ROUTER ", 'firewall': {'tcp_no_session': 'rst', 'resets_per_s': 0, "
	    "'half_open': 1}}");
	assert_int_not_equal(p.rc, 0);
	assert_non_null(strstr(p.text, "$.firewall.tcp_no_session: "));
	assert_non_null(strstr(p.text, "$.firewall.resets_per_s: "));
	assert_non_null(strstr(p.text, "$.firewall.half_open: unknown key"));
	parsed_fini(&p);
}

static void
test_router_config_parse_rules_and_limits(void **state)
{
	struct parsed p;

	(void)state;
	parse_json(&p,
	    "{" RULES_BASE ", 'rules': [{'name': 'corp-web', 'tenant': 'corp', "
	    "'service': 'web', 'action': 'allow'}, {'name': 'no-guest', 'tenant': "
	    "'guest', 'service': 'any', 'action': 'deny'}, {'name': 'all', 'tenant': "
	    "'any', 'service': 'any', 'action': 'allow'}]}");
	assert_string_equal(p.text, "");
	assert_int_equal(p.rc, 0);
	assert_true(router_config_is_consistent(p.cfg));
	assert_int_equal(p.cfg->rule_count, 3);
	assert_string_equal(p.cfg->rules[0].name, "corp-web");
	assert_int_equal(p.cfg->rules[0].tenant_id, 0);
	assert_int_equal(p.cfg->rules[0].service_id, 0);
	assert_int_equal(p.cfg->rules[0].action, ROUTER_CONFIG_ACTION_ALLOW);
	assert_int_equal(p.cfg->rules[1].tenant_id, 1);
	assert_int_equal(p.cfg->rules[1].service_id, ROUTER_CONFIG_ID_ANY);
	assert_int_equal(p.cfg->rules[1].action, ROUTER_CONFIG_ACTION_DENY);
	assert_int_equal(p.cfg->rules[2].tenant_id, ROUTER_CONFIG_ID_ANY);
	assert_int_equal(router_config_rule_find(p.cfg, "no-guest"), 1);
	assert_int_equal(p.cfg->tenants[0].max_sessions, 100);
	assert_int_equal(p.cfg->tenants[0].max_new_per_s, 50);
	assert_int_equal(p.cfg->tenants[1].max_sessions, 0);
	assert_int_equal(p.cfg->tenants[1].max_new_per_s, 0);
	/* A service without "access" is fine: without a rule, nobody reaches it. */
	assert_int_equal(p.cfg->services[0].access_count, 0);
	assert_int_equal(p.cfg->services[1].access_count, 1);
	parsed_fini(&p);

	/* No rules at all is valid too (everything is denied). */
	parse_json(&p, "{" RULES_BASE "}");
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.cfg->rule_count, 0);
	parsed_fini(&p);
}

static void
test_router_config_parse_rule_errors(void **state)
{
	(void)state;
	expect_errors(
	    "{" RULES_BASE ", 'rules': [{'name': 'a', 'tenant': 'corp2', 'service': "
	    "'web', 'action': 'allow'}, {'name': 'b', 'tenant': 'any', 'service': 'mail', "
	    "'action': 'deny'}, {'name': 'a', 'tenant': 'corp', 'service': 'web', "
	    "'action': 'permit'}, {'tenant': 'corp', 'service': 'web', 'colour': 1}]}",
	    "$.rules[2].action: \"permit\" is not one of \"allow\", \"deny\"\n"
	    "$.rules[3].colour: unknown key (expected one of: name, tenant, service, action)\n"
	    "$.rules[3].name: missing (expected a name)\n"
	    "$.rules[3].action: missing (expected \"allow\" or \"deny\")\n"
	    "$.rules[2].name: duplicate name \"a\" (also $.rules[0].name)\n"
	    "$.rules[0].tenant: \"corp2\" is not a tenant (known: corp, guest)\n"
	    "$.rules[1].service: \"mail\" is not a service (known: db, web)\n");
	expect_errors("{" ROUTER ", 'tenants': [{'name': 'any', 'limits': {'sessions': 0, "
	              "'new_sessions_per_s': 'x', 'burst': 1}}], 'rules': {}}",
	    "$.tenants[0].limits.burst: unknown key (expected one of: sessions, new_sessions_per_s)\n"
	    "$.tenants[0].limits.sessions: 0 is out of range (expected 1 to 16777216)\n"
	    "$.tenants[0].limits.new_sessions_per_s: expected an integer from 1 to 1000000, got a "
	    "string\n"
	    "$.rules: expected an array, got an object\n"
	    "$.tenants[0].name: \"any\" is reserved (a rule's \"any\" means every one; choose "
	    "another name)\n");
}

#define LAN_BASE                                                                                   \
	ROUTER ", 'tenants': [{'name': 'corp'}, {'name': 'guest'}], 'wan': [{'name': 'w', "        \
	       "'device': 'eth0', 'waypoint': '192.0.2.1'}]"

static void
test_router_config_parse_lan_tenants_and_breakout(void **state)
{
	struct parsed p;
	char text[PREFIX_TEXT_MAX];

	(void)state;
	parse_json(&p,
	    "{" LAN_BASE ", 'lan': [{'name': 'c', 'tenant': 'corp', 'address': '10.1.0.1/24', "
	    "'prefixes': ['10.1.0.0/24'], 'interface': 'br-c', 'tenants': [{'tenant': 'guest', "
	    "'prefixes': ['10.1.0.128/25', '10.1.0.64/26']}]}], 'services': [{'name': 'inet', "
	    "'prefixes': ['0.0.0.0/0'], 'ports': ['tcp', 'udp'], 'access': ['guest'], "
	    "'route': {'breakout': 'w'}}]}");
	assert_string_equal(p.text, "");
	assert_int_equal(p.rc, 0);
	assert_true(router_config_is_consistent(p.cfg));
	assert_string_equal(p.cfg->lans[0].interface, "br-c");
	assert_int_equal(p.cfg->lans[0].tenant_count, 1);
	assert_int_equal(p.cfg->lans[0].tenants[0].tenant_id, 1);
	assert_int_equal(p.cfg->lans[0].tenants[0].prefix_count, 2);
	prefix_format(&p.cfg->lans[0].tenants[0].prefixes[1], text, sizeof(text));
	assert_string_equal(text, "10.1.0.64/26");
	assert_int_equal(p.cfg->services[0].route_kind, ROUTER_CONFIG_ROUTE_BREAKOUT);
	assert_int_equal(p.cfg->services[0].route_id, 0);
	parsed_fini(&p);

	expect_errors("{" LAN_BASE ", 'lan': [{'name': 'c', 'tenant': 'corp', 'address': "
	              "'10.1.0.1/24', 'prefixes': ['10.1.0.0/24'], 'interface': 'eth0', "
	              "'tenants': [{'tenant': 'staff', 'prefixes': ['10.1.0.128/25']}, "
	              "{'tenant': 'guest', 'prefixes': ['10.1.0.128/25'], 'x': 1}, "
	              "{'prefixes': []}]}], 'services': [{'name': 's', 'prefixes': "
	              "['10.9.0.1/32'], 'address': '10.99.0.1', 'route': {'breakout': 'v'}}]}",
	    "$.lan[0].tenants[1].x: unknown key (expected one of: tenant, prefixes)\n"
	    "$.lan[0].tenants[2].tenant: missing (expected a name)\n"
	    "$.lan[0].tenants[2].prefixes: expected at least 1 entry, got 0\n"
	    "$.lan[0].tenants[0].tenant: \"staff\" is not a tenant (known: corp, guest)\n"
	    "$.lan[0].tenants[1].prefixes[0]: prefix 10.1.0.128/25 is also "
	    "tenants[0].prefixes[0] (a source prefix belongs to one tenant)\n"
	    "$.lan[0].interface: interface \"eth0\" is also used by $.wan[0]\n"
	    "$.services[0].route.breakout: \"v\" is not a wan (known: w)\n"
	    "$.services[0].route.breakout: a service with an \"address\" cannot break out "
	    "(expected a peer or lan route, or no address)\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_router_config_parse_full_every_field),
	    cmocka_unit_test(test_router_config_parse_minimal_defaults),
	    cmocka_unit_test(test_router_config_parse_json_syntax_line_column),
	    cmocka_unit_test(test_router_config_parse_unknown_keys),
	    cmocka_unit_test(test_router_config_parse_wrong_types),
	    cmocka_unit_test(test_router_config_parse_missing_required),
	    cmocka_unit_test(test_router_config_parse_names_checked),
	    cmocka_unit_test(test_router_config_parse_duplicates),
	    cmocka_unit_test(test_router_config_parse_dangling_references),
	    cmocka_unit_test(test_router_config_parse_bad_addresses_and_prefixes),
	    cmocka_unit_test(test_router_config_parse_bad_ports),
	    cmocka_unit_test(test_router_config_parse_route_and_families),
	    cmocka_unit_test(test_router_config_parse_numbers_out_of_range),
	    cmocka_unit_test(test_router_config_parse_list_limits),
	    cmocka_unit_test(test_router_config_errors_cap_counts_dropped),
	    cmocka_unit_test(test_router_config_load_example_files),
	    cmocka_unit_test(test_router_config_load_reports_every_error),
	    cmocka_unit_test(test_router_config_load_missing_file),
	    cmocka_unit_test(test_router_config_quote_escapes_and_cuts),
	    cmocka_unit_test(test_router_config_parse_random_mutations),
	    cmocka_unit_test(test_router_config_parse_security),
	    cmocka_unit_test(test_router_config_parse_udp_transform),
	    cmocka_unit_test(test_router_config_parse_firewall),
	    cmocka_unit_test(test_router_config_parse_nat_paths),
	    cmocka_unit_test(test_router_config_parse_service_policies),
	    cmocka_unit_test(test_router_config_parse_service_policy_errors),
	    cmocka_unit_test(test_router_config_parse_probe_defaults_and_overrides),
	    cmocka_unit_test(test_router_config_parse_probe_errors),
	    cmocka_unit_test(test_router_config_parse_rules_and_limits),
	    cmocka_unit_test(test_router_config_parse_rule_errors),
	    cmocka_unit_test(test_router_config_parse_lan_tenants_and_breakout),
	    cmocka_unit_test(test_router_config_parse_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
