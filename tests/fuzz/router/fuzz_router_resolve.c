/*
 * Fuzzes router_resolve_answer(): what ternd's own resolver does with a datagram from
 * a DNS server. Input: byte 0 picks the query in flight whose id the datagram carries
 * (so the parser behind the id check is reached), the rest is the datagram from its
 * third byte on (its first two, the id, are that query's). Whatever the bytes, every
 * address handed on must be for the name asked, with a TTL inside the configured
 * bounds plus the grace, and nothing may crash or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "router/router_config.h"
#include "router/router_resolve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char config[] =
    "{ \"router\": { \"name\": \"r\" }, \"tenants\": [ { \"name\": \"t\" } ],"
    "  \"lan\": [ { \"name\": \"l\", \"tenant\": \"t\", \"address\": \"10.1.0.1/24\","
    "  \"prefixes\": [\"10.1.0.0/24\"] } ],"
    "  \"services\": [ { \"name\": \"s\", \"domains\": [\"app.corp.example\"], "
    "\"route\": { \"lan\": \"l\" } } ],"
    "  \"dns\": { \"servers\": [\"127.0.0.1\"], \"min_ttl_s\": 10, \"max_ttl_s\": 100 } }";

static void
on_address(const char *name, const struct addr *addr, uint32_t ttl_s, void *arg)
{
	(void)arg;
	if (strcmp(name, "app.corp.example") != 0 || ttl_s < 10 ||
	    ttl_s > 100 + ROUTER_RESOLVE_GRACE_S ||
	    (addr->family != ADDR_FAMILY_V4 && addr->family != ADDR_FAMILY_V6))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct router_config *cfg;
	static struct router_resolve *r;
	static uint64_t now = 1;
	uint8_t msg[1500];
	int id;

	if (cfg == NULL) {
		struct router_config_errors errors;

		router_config_errors_init(&errors);
		if (router_config_parse(config, strlen(config), &cfg, &errors) < 0 ||
		    router_resolve_new(cfg, NULL, &r) < 0 || r == NULL)
			abort();
		router_config_errors_fini(&errors);
		/* The discard port: the queries go nowhere; only their ids matter here. */
		router_resolve_set_port(r, 9);
	}
	if (size < 1 || size - 1 + 2 > sizeof(msg))
		return 0;
	/* Every query due again: fresh ids in flight. */
	now += 1000000000000ull;
	router_resolve_tick(r, now);
	id = router_resolve_inflight_id(r, data[0] & 1);
	if (id < 0)
		abort();
	msg[0] = (uint8_t)(id >> 8);
	msg[1] = (uint8_t)id;
	memcpy(msg + 2, data + 1, size - 1);
	router_resolve_answer(r, msg, size + 1, now, on_address, NULL);
	return 0;
}
