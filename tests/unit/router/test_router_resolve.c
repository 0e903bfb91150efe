/*
 * Unit tests of router/router_resolve: ternd's own resolution of service names against
 * a DNS server played by the test on a loopback UDP socket. The queries asked, answers
 * accepted only with the right id, the TTL clamped and re-asked when it runs out, a
 * silent server left for the next, wildcards never asked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../policy/policy_dns_build.h"
#include "router/router_config.h"
#include "router/router_resolve.h"

static const char config[] =
    "{ \"router\": { \"name\": \"r\" },"
    "  \"tenants\": [ { \"name\": \"corp\" } ],"
    "  \"lan\": [ { \"name\": \"corp\", \"tenant\": \"corp\", \"address\": \"10.1.0.1/24\","
    "             \"prefixes\": [\"10.1.0.0/24\"] } ],"
    "  \"services\": [ { \"name\": \"app\", \"domains\": [\"app.corp.example\", "
    "\"*.corp.example\", \"APP.corp.example\"], \"route\": { \"lan\": \"corp\" } } ],"
    "  \"dns\": { \"servers\": [\"127.0.0.1\", \"127.0.0.2\"], \"min_ttl_s\": 20, "
    "\"max_ttl_s\": 100 } }";

struct learnt {
	char name[64];
	struct addr addr;
	uint32_t ttl_s;
	unsigned count;
};

static void
on_learnt(const char *name, const struct addr *addr, uint32_t ttl_s, void *arg)
{
	struct learnt *l = arg;

	snprintf(l->name, sizeof(l->name), "%s", name);
	l->addr = *addr;
	l->ttl_s = ttl_s;
	l->count++;
}

/* The test's DNS server: 127.0.0.1, an ephemeral port. */
static int
server_open(uint16_t *port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct timeval tv = {.tv_sec = 2};

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	*port = ntohs(sin.sin_port);
	return fd;
}

/* Receives one query; returns its length, the sender in *from. */
static size_t
server_recv(int fd, uint8_t *q, size_t cap, struct sockaddr_in *from)
{
	socklen_t sl = sizeof(*from);
	ssize_t n = recvfrom(fd, q, cap, 0, (struct sockaddr *)from, &sl);

	assert_true(n > 12);
	return (size_t)n;
}

/* Answers query q (qlen bytes) with one A record 10.2.0.80 of ttl_s; id as given. */
static void
server_answer(int fd, const uint8_t *q, size_t qlen, uint16_t id, uint32_t ttl_s,
    const struct sockaddr_in *to)
{
	struct dns_build m;

	m.n = 0;
	dns_put16(&m, id);
	dns_put16(&m, 0x8180);
	dns_put16(&m, 1);
	dns_put16(&m, 1);
	dns_put16(&m, 0);
	dns_put16(&m, 0);
	for (size_t i = 12; i < qlen; i++)
		dns_put8(&m, q[i]);
	dns_pointer(&m, 12);
	dns_rr(&m, 1, ttl_s, 4);
	dns_put32(&m, 0x0a020050);
	assert_int_equal(sendto(fd, m.b, m.n, 0, (const struct sockaddr *)to, sizeof(*to)),
	    (ssize_t)m.n);
}

/* Whether an A query (not AAAA) is waiting at the server; drains what is there. */
static bool
server_has_a_query(int fd)
{
	uint8_t q[512];
	bool found = false;
	ssize_t n;

	while ((n = recv(fd, q, sizeof(q), MSG_DONTWAIT)) > 12)
		found |= q[n - 3] == 1 && q[n - 4] == 0;
	return found;
}

static struct router_config *
config_parse(void)
{
	struct router_config_errors errors;
	struct router_config *cfg = NULL;

	router_config_errors_init(&errors);
	if (router_config_parse(config, strlen(config), &cfg, &errors) < 0)
		router_config_errors_print(&errors, stderr);
	router_config_errors_fini(&errors);
	assert_non_null(cfg);
	return cfg;
}

/* Waits for r's socket to have input (the loopback answer is there at once). */
static void
wait_readable(const struct router_resolve *r)
{
	int fds[2];
	size_t n = router_resolve_fds(r, fds, 2);
	fd_set set;
	struct timeval tv = {.tv_sec = 2};

	assert_int_equal(n, 1);
	FD_ZERO(&set);
	FD_SET(fds[0], &set);
	assert_int_equal(select(fds[0] + 1, &set, NULL, NULL, &tv), 1);
}

static void
test_router_resolve_asks_learns_and_reasks(void **state)
{
	struct router_config *cfg = config_parse();
	struct router_resolve *r;
	struct learnt l;
	struct sockaddr_in from;
	uint8_t q[2][512];
	size_t qlen[2];
	uint16_t port;
	uint64_t now = 5000000000ull;
	int srv = server_open(&port);

	(void)state;
	memset(&l, 0, sizeof(l));
	assert_int_equal(router_resolve_new(cfg, NULL, &r), 0);
	assert_non_null(r);
	router_resolve_set_port(r, port);
	/* One name (the wildcard is never asked; the duplicate only once), A and AAAA. */
	assert_int_equal(router_resolve_count(r), 1);
	assert_string_equal(router_resolve_name(r, 0), "app.corp.example");
	assert_int_equal(router_resolve_next_ns(r), 0);
	router_resolve_tick(r, now);
	assert_int_equal(router_resolve_stats(r)->queries, 2);
	for (int i = 0; i < 2; i++)
		qlen[i] = server_recv(srv, q[i], sizeof(q[i]), &from);
	assert_memory_equal(q[0] + 12,
	    "\x03"
	    "app\x04"
	    "corp\x07"
	    "example",
	    18);
	/* A wrong id teaches nothing. */
	server_answer(srv, q[0], qlen[0], (uint16_t)(q[0][0] << 8 | q[0][1]) ^ 1, 1, &from);
	wait_readable(r);
	router_resolve_read(r, now, on_learnt, &l);
	assert_int_equal(l.count, 0);
	assert_int_equal(router_resolve_stats(r)->refused, 1);
	/* The right one: the TTL (1 s) is clamped to min_ttl_s, plus the grace. */
	server_answer(srv, q[0], qlen[0], (uint16_t)(q[0][0] << 8 | q[0][1]), 1, &from);
	wait_readable(r);
	router_resolve_read(r, now, on_learnt, &l);
	assert_int_equal(l.count, 1);
	assert_string_equal(l.name, "app.corp.example");
	assert_int_equal(l.addr.bytes[3], 80);
	assert_int_equal(l.ttl_s, 20 + ROUTER_RESOLVE_GRACE_S);
	/* The AAAA query is unanswered: after the timeout it goes to the next server. */
	assert_int_equal(router_resolve_next_ns(r), now + ROUTER_RESOLVE_TIMEOUT_MS * 1000000ull);
	router_resolve_tick(r, now + ROUTER_RESOLVE_TIMEOUT_MS * 1000000ull);
	assert_int_equal(router_resolve_stats(r)->timeouts, 1);
	assert_int_equal(router_resolve_stats(r)->queries, 3);
	/* The A record is asked again when its (clamped) TTL is up, not before. */
	assert_false(server_has_a_query(srv));
	router_resolve_tick(r, now + 19000000000ull);
	assert_false(server_has_a_query(srv));
	router_resolve_tick(r, now + 20000000000ull);
	assert_true(server_has_a_query(srv));
	router_resolve_free(r);
	close(srv);
	router_config_free(cfg);
}

static void
test_router_resolve_nothing_to_resolve(void **state)
{
	struct router_config *cfg = config_parse();
	struct router_resolve *r = (struct router_resolve *)&r;
	size_t domains;

	(void)state;
	domains = cfg->services[0].domain_count;
	cfg->services[0].domain_count = 0;
	assert_int_equal(router_resolve_new(cfg, NULL, &r), 0);
	assert_null(r);
	/* Names but no server anywhere: -ENOENT. */
	cfg->services[0].domain_count = domains;
	cfg->dns.server_count = 0;
	assert_int_equal(router_resolve_new(cfg, "/nonexistent/resolv.conf", &r), -ENOENT);
	router_config_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_router_resolve_asks_learns_and_reasks),
	    cmocka_unit_test(test_router_resolve_nothing_to_resolve),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
