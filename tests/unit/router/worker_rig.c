#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "lib/buf.h"
#include "pkt/pkt_csum.h"
#include "pkt/pkt_parse.h"
#include "worker_rig.h"

/* Site b serves b-web to corp only, and does not serve b-secret at all. */
const char worker_rig_site_b[] =
    "{ \"router\": { \"name\": \"site-b\" },"
    "  \"tenants\": [ { \"name\": \"corp\" } ],"
    "  \"lan\": [ { \"name\": \"corp\", \"tenant\": \"corp\", \"address\": \"10.2.0.1/24\","
    "             \"prefixes\": [\"10.2.0.0/24\"] } ],"
    "  \"wan\": [ { \"name\": \"wan0\", \"device\": \"wan0\", \"waypoint\": \"192.0.2.2\" } ],"
    "  \"peers\": [ { \"name\": \"site-a\", \"paths\": [ { \"wan\": \"wan0\", \"remote\": "
    "\"192.0.2.1\" } ] } ],"
    "  \"services\": ["
    "    { \"name\": \"b-web\", \"prefixes\": [\"10.2.0.0/24\"], \"access\": [\"corp\"],"
    "      \"route\": { \"lan\": \"corp\" } } ] }";

struct router_config *
worker_rig_config_parse(const char *text)
{
	struct router_config_errors errors;
	struct router_config *cfg = NULL;

	router_config_errors_init(&errors);
	if (router_config_parse(text, strlen(text), &cfg, &errors) < 0)
		router_config_errors_print(&errors, stderr);
	router_config_errors_fini(&errors);
	assert_non_null(cfg);
	return cfg;
}

size_t
worker_rig_packet_bytes(uint8_t *out, const char *src, const char *dst, uint8_t proto,
    uint16_t sport, uint16_t dport, uint8_t tcp_flags, uint16_t tcp_window, const uint8_t *payload,
    size_t n)
{
	struct addr s, d;
	struct pkt_info info;
	enum pkt_drop_reason reason;
	size_t l4 = proto == IPPROTO_TCP ? 20 : 8, len = 20 + l4 + n;

	assert_int_equal(addr_parse(src, &s), 0);
	assert_int_equal(addr_parse(dst, &d), 0);
	memset(out, 0, 20 + l4);
	out[0] = 0x45;
	buf_store_be16(out + 2, (uint16_t)len);
	out[8] = 64;
	out[9] = proto;
	memcpy(out + 12, s.bytes, 4);
	memcpy(out + 16, d.bytes, 4);
	if (proto == IPPROTO_ICMP) {
		out[20] = sport == 0 ? 0 : 8;
		buf_store_be16(out + 24, dport);
	} else {
		buf_store_be16(out + 20, sport);
		buf_store_be16(out + 22, dport);
	}
	if (proto == IPPROTO_TCP) {
		out[32] = 5 << 4;
		out[33] = tcp_flags;
		buf_store_be16(out + 34, tcp_window);
	} else if (proto == IPPROTO_UDP) {
		buf_store_be16(out + 24, (uint16_t)(8 + n));
	}
	if (n > 0)
		memcpy(out + 20 + l4, payload, n);
	buf_store_be16(out + 10, pkt_csum_ipv4_header(out, 20));
	assert_int_equal(pkt_parse_bytes(out, len, &info, &reason), 0);
	pkt_csum_fill(out, &info);
	return len;
}

size_t
worker_rig_packet_make(uint8_t *out, const char *src, const char *dst, uint8_t proto,
    uint16_t sport, uint16_t dport, const char *payload)
{
	return worker_rig_packet_bytes(out, src, dst, proto, sport, dport, 0x02 /* SYN */, 0,
	    (const uint8_t *)payload, strlen(payload));
}

void
worker_rig_inject(struct pkt_pool *pool, struct io_mem_link *lan, const uint8_t *bytes, size_t len)
{
	struct pkt_buf *p = pkt_pool_get(pool);

	assert_non_null(p);
	assert_int_equal(pkt_buf_set(p, bytes, len), 0);
	assert_int_equal(io_tx_burst(io_mem_link_port(lan, 0), &p, 1), 1);
}

void
worker_rig_poll(struct router_worker *const *workers, int rounds, uint64_t now_ns)
{
	for (int i = 0; i < rounds; i++)
		for (struct router_worker *const *w = workers; *w != NULL; w++)
			router_worker_poll(*w, now_ns);
}

void
worker_rig_drops_print(const char *who, struct router_worker *w)
{
	const struct pkt_drop_counters *c = router_worker_drops(w);

	for (int i = 0; i < PKT_DROP_COUNT; i++)
		if (c->count[i])
			fprintf(stderr, "# %s drop %s %llu\n", who, pkt_drop_reason_name(i),
			    (unsigned long long)c->count[i]);
}

void
worker_rig_expect_one_at(struct pkt_pool *pool, struct io_mem_link *lan, const uint8_t *bytes,
    size_t len, struct router_worker *const *workers, int line)
{
	static const char *const two[] = {"a", "b"}, *const three[] = {"a", "hub", "b"};
	struct pkt_buf *got[2];
	unsigned n = io_rx_burst(io_mem_link_port(lan, 0), got, 2);

	if (n != 1) {
		unsigned count = 0;

		while (workers[count] != NULL)
			count++;
		for (unsigned i = 0; i < count; i++)
			worker_rig_drops_print(count == 3 ? three[i] :
			        i < 2                     ? two[i] :
			                                    "?",
			    workers[i]);
		fail_msg("line %d: %u packets delivered, expected 1", line, n);
	}
	assert_int_equal(got[0]->len, len);
	assert_memory_equal(pkt_buf_data(got[0]), bytes, len);
	pkt_pool_put(pool, got[0]);
}

void
worker_rig_expect_nothing(struct io_mem_link *lan)
{
	assert_int_equal(io_mem_link_pending(lan, 0), 0);
}

unsigned
worker_rig_drain(struct pkt_pool *pool, struct io_mem_link *lan)
{
	struct pkt_buf *got[16];
	unsigned n, total = 0;

	while ((n = io_rx_burst(io_mem_link_port(lan, 0), got, 16)) > 0) {
		for (unsigned i = 0; i < n; i++)
			pkt_pool_put(pool, got[i]);
		total += n;
	}
	return total;
}

void
worker_rig_setup(struct worker_rig *r, const char *text_a, const char *text_b)
{
	memset(r, 0, sizeof(*r));
	r->now_ns = 1000000000ull;
	r->pool = pkt_pool_new(512);
	r->cfg_a = worker_rig_config_parse(text_a);
	r->cfg_b = worker_rig_config_parse(text_b);
	for (int i = 0; i < 2; i++) {
		r->lan_a[i] = io_mem_link_new(64, 100 + i, (uint32_t)i);
		r->a_lans[i] = io_mem_link_port(r->lan_a[i], 1);
	}
	r->lan_b = io_mem_link_new(64, 200, 0);
	r->b_lans[0] = io_mem_link_port(r->lan_b, 1);
	r->wan = io_mem_link_new(64, 0, 0);
	r->a_wans[0] = io_mem_link_port(r->wan, 0);
	r->b_wans[0] = io_mem_link_port(r->wan, 1);
	assert_int_equal(router_worker_new(r->cfg_a, r->a_lans, r->a_wans, r->pool, r->now_ns,
	                     &r->a),
	    0);
	assert_int_equal(router_worker_new(r->cfg_b, r->b_lans, r->b_wans, r->pool, r->now_ns,
	                     &r->b),
	    0);
}

void
worker_rig_teardown(struct worker_rig *r)
{
	router_worker_free(r->a);
	router_worker_free(r->b);
	io_mem_link_free(r->lan_a[0], r->pool);
	io_mem_link_free(r->lan_a[1], r->pool);
	io_mem_link_free(r->lan_b, r->pool);
	io_mem_link_free(r->wan, r->pool);
	assert_int_equal(pkt_pool_available(r->pool), pkt_pool_capacity(r->pool));
	pkt_pool_free(r->pool);
	router_config_free(r->cfg_a);
	router_config_free(r->cfg_b);
}

void
worker_rig_run(struct worker_rig *r)
{
	worker_rig_poll((struct router_worker *const[]){r->a, r->b, NULL}, 4, r->now_ns);
}
