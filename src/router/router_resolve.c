/* ternd's own DNS resolution of service names; see router_resolve.h. */
#include "router/router_resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "policy/policy_dns.h"

#define RESOLVE_TYPE_A    1
#define RESOLVE_TYPE_AAAA 28
#define RESOLVE_MSG_MAX   1500

/* One question: a name and a type. */
struct resolve_query {
	const char *name;
	uint16_t type;
	uint16_t id; /* of the query in flight */
	bool in_flight;
	uint32_t server; /* index of the server asked (rotates on timeouts) */
	uint64_t due_ns; /* when to ask (again) */
	uint64_t sent_ns;
};

struct router_resolve {
	const struct router_config *cfg;
	struct addr servers[ROUTER_CONFIG_DNS_SERVERS_MAX];
	size_t server_count;
	int fd4, fd6;
	uint16_t port; /* the servers' (53; tests use another) */
	struct resolve_query *queries;
	size_t query_count;
	const char **names;
	size_t name_count;
	struct router_resolve_stats stats;
};

static void
resolve_read_conf(struct router_resolve *r, const char *path)
{
	char line[256];
	FILE *f = fopen(path, "re");

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL &&
	    r->server_count < ROUTER_CONFIG_DNS_SERVERS_MAX) {
		char word[32], text[64];

		if (sscanf(line, "%31s %63s", word, text) == 2 && strcmp(word, "nameserver") == 0 &&
		    addr_parse(text, &r->servers[r->server_count]) == 0)
			r->server_count++;
	}
	fclose(f);
}

static int
resolve_socket(int family)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	return fd < 0 ? -errno : fd;
}

static bool
resolve_name_known(const struct router_resolve *r, const char *name)
{
	for (size_t i = 0; i < r->name_count; i++)
		if (strcmp(r->names[i], name) == 0)
			return true;
	return false;
}

int
router_resolve_new(const struct router_config *cfg, const char *resolv_conf,
    struct router_resolve **out)
{
	struct router_resolve *r;
	size_t n = 0;
	bool v4 = false, v6 = false;
	int rc = -ENOMEM;

	*out = NULL;
	for (size_t i = 0; i < cfg->service_count; i++)
		n += cfg->services[i].domain_count;
	if (n == 0)
		return 0;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	r->cfg = cfg;
	r->fd4 = r->fd6 = -1;
	r->port = 53;
	r->names = calloc(n, sizeof(*r->names));
	r->queries = calloc(2 * n, sizeof(*r->queries));
	if (r->names == NULL || r->queries == NULL)
		goto fail;
	for (size_t i = 0; i < cfg->service_count; i++)
		for (size_t j = 0; j < cfg->services[i].domain_count; j++) {
			const char *name = cfg->services[i].domains[j];

			if (name[0] == '*' || resolve_name_known(r, name))
				continue;
			r->names[r->name_count++] = name;
			r->queries[r->query_count++] =
			    (struct resolve_query){.name = name, .type = RESOLVE_TYPE_A};
			r->queries[r->query_count++] =
			    (struct resolve_query){.name = name, .type = RESOLVE_TYPE_AAAA};
		}
	if (r->name_count == 0) {
		router_resolve_free(r);
		return 0;
	}
	memcpy(r->servers, cfg->dns.servers, cfg->dns.server_count * sizeof(r->servers[0]));
	r->server_count = cfg->dns.server_count;
	if (r->server_count == 0)
		resolve_read_conf(r, resolv_conf != NULL ? resolv_conf : "/etc/resolv.conf");
	if (r->server_count == 0) {
		rc = -ENOENT;
		goto fail;
	}
	for (size_t i = 0; i < r->server_count; i++) {
		v4 |= r->servers[i].family == ADDR_FAMILY_V4;
		v6 |= r->servers[i].family == ADDR_FAMILY_V6;
	}
	if (v4 && (rc = r->fd4 = resolve_socket(AF_INET)) < 0)
		goto fail;
	if (v6 && (rc = r->fd6 = resolve_socket(AF_INET6)) < 0)
		goto fail;
	*out = r;
	return 0;
fail:
	if (rc >= 0)
		rc = -ENOMEM;
	router_resolve_free(r);
	return rc;
}

void
router_resolve_free(struct router_resolve *r)
{
	if (r == NULL)
		return;
	if (r->fd4 >= 0)
		close(r->fd4);
	if (r->fd6 >= 0)
		close(r->fd6);
	free(r->queries);
	free(r->names);
	free(r);
}

size_t
router_resolve_fds(const struct router_resolve *r, int *fds, size_t max)
{
	size_t n = 0;

	if (r == NULL)
		return 0;
	if (r->fd4 >= 0 && n < max)
		fds[n++] = r->fd4;
	if (r->fd6 >= 0 && n < max)
		fds[n++] = r->fd6;
	return n;
}

static uint64_t
resolve_query_next(const struct resolve_query *q)
{
	return q->in_flight ? q->sent_ns + ROUTER_RESOLVE_TIMEOUT_MS * 1000000ull : q->due_ns;
}

uint64_t
router_resolve_next_ns(const struct router_resolve *r)
{
	uint64_t next = UINT64_MAX;

	for (size_t i = 0; r != NULL && i < r->query_count; i++) {
		uint64_t t = resolve_query_next(&r->queries[i]);

		if (t < next)
			next = t;
	}
	return next;
}

/* The wire query for q: header (RD), the name as labels, type, class IN; 0 if too long. */
static size_t
resolve_query_encode(const struct resolve_query *q, uint8_t *out, size_t cap)
{
	size_t name_len = strlen(q->name), n = 12;
	const char *label = q->name;

	if (12 + name_len + 2 + 4 > cap)
		return 0;
	memset(out, 0, 12);
	buf_store_be16(out, q->id);
	buf_store_be16(out + 2, 0x0100);
	buf_store_be16(out + 4, 1);
	while (*label != '\0') {
		const char *dot = strchr(label, '.');
		size_t len = dot != NULL ? (size_t)(dot - label) : strlen(label);

		out[n++] = (uint8_t)len;
		memcpy(out + n, label, len);
		n += len;
		label += len + (dot != NULL);
	}
	out[n++] = 0;
	buf_store_be16(out + n, q->type);
	buf_store_be16(out + n + 2, 1);
	return n + 4;
}

void
router_resolve_set_port(struct router_resolve *r, uint16_t port)
{
	r->port = port;
}

static void
resolve_sockaddr(const struct addr *a, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == ADDR_FAMILY_V4) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		memcpy(&in->sin_addr, a->bytes, 4);
		*len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		memcpy(&in6->sin6_addr, a->bytes, 16);
		*len = sizeof(*in6);
	}
}

static void
resolve_send(struct router_resolve *r, struct resolve_query *q, uint64_t now_ns)
{
	const struct addr *server = &r->servers[q->server % r->server_count];
	struct sockaddr_storage ss;
	uint8_t msg[512];
	socklen_t sl;
	size_t len;
	int fd = server->family == ADDR_FAMILY_V4 ? r->fd4 : r->fd6;

	if (getrandom(&q->id, sizeof(q->id), 0) != sizeof(q->id))
		q->id = (uint16_t)(now_ns ^ (now_ns >> 17));
	len = resolve_query_encode(q, msg, sizeof(msg));
	resolve_sockaddr(server, r->port, &ss, &sl);
	q->in_flight = true;
	q->sent_ns = now_ns;
	if (len == 0 || sendto(fd, msg, len, 0, (struct sockaddr *)&ss, sl) < 0)
		log_debug("resolve: cannot ask for %s: %s", q->name, strerror(errno));
	r->stats.queries++;
}

void
router_resolve_tick(struct router_resolve *r, uint64_t now_ns)
{
	for (size_t i = 0; r != NULL && i < r->query_count; i++) {
		struct resolve_query *q = &r->queries[i];

		if (resolve_query_next(q) > now_ns)
			continue;
		if (q->in_flight) {
			/* No answer: the next server, now. */
			r->stats.timeouts++;
			q->server++;
		}
		resolve_send(r, q, now_ns);
	}
}

struct resolve_answer {
	struct router_resolve *r;
	const struct resolve_query *q;
	router_resolve_fn fn;
	void *arg;
	uint32_t min_ttl_s;
	unsigned count;
};

static uint32_t
resolve_clamp(const struct router_resolve *r, uint32_t ttl_s)
{
	if (ttl_s < r->cfg->dns.min_ttl_s)
		return r->cfg->dns.min_ttl_s;
	return ttl_s > r->cfg->dns.max_ttl_s ? r->cfg->dns.max_ttl_s : ttl_s;
}

static int
resolve_on_record(const char *name, const struct addr *addr, uint32_t ttl_s, void *arg)
{
	struct resolve_answer *a = arg;
	uint32_t ttl = resolve_clamp(a->r, ttl_s);

	/* The parser reports the question's name: it must be the one asked. */
	if (strcmp(name, a->q->name) != 0)
		return -EPROTO;
	if (ttl < a->min_ttl_s)
		a->min_ttl_s = ttl;
	a->count++;
	a->r->stats.addresses++;
	a->fn(a->q->name, addr, ttl + ROUTER_RESOLVE_GRACE_S, a->arg);
	return 0;
}

static bool
resolve_from_server(const struct router_resolve *r, const struct sockaddr_storage *ss)
{
	struct addr from;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

		if (ntohs(in->sin_port) != r->port)
			return false;
		addr_set_v4(&from, (const uint8_t *)&in->sin_addr);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

		if (ntohs(in6->sin6_port) != r->port)
			return false;
		addr_set_v6(&from, (const uint8_t *)&in6->sin6_addr);
	} else {
		return false;
	}
	for (size_t i = 0; i < r->server_count; i++)
		if (addr_equal(&r->servers[i], &from))
			return true;
	return false;
}

void
router_resolve_answer(struct router_resolve *r, const uint8_t *msg, size_t len, uint64_t now_ns,
    router_resolve_fn fn, void *arg)
{
	struct resolve_answer a = {.r = r, .fn = fn, .arg = arg, .min_ttl_s = UINT32_MAX};
	uint16_t id, qtype = 0;
	struct resolve_query *q = NULL;
	size_t off = 12;

	if (len < 12)
		goto refused;
	id = (uint16_t)(msg[0] << 8 | msg[1]);
	/* The question's type follows its name: skip the labels (no pointer there). */
	while (off < len && msg[off] != 0 && msg[off] < 64)
		off += 1u + msg[off];
	if (off + 5 > len || msg[off] != 0)
		goto refused;
	qtype = (uint16_t)(msg[off + 1] << 8 | msg[off + 2]);
	for (size_t i = 0; i < r->query_count; i++)
		if (r->queries[i].in_flight && r->queries[i].id == id &&
		    r->queries[i].type == qtype)
			q = &r->queries[i];
	if (q == NULL)
		goto refused;
	a.q = q;
	if (policy_dns_parse_answer(msg, len, resolve_on_record, &a) < 0 && a.count == 0) {
		/* NXDOMAIN, SERVFAIL or garbage: ask again later, not at once. */
		r->stats.refused++;
		q->in_flight = false;
		q->due_ns = now_ns + (uint64_t)r->cfg->dns.min_ttl_s * 1000000000ull;
		return;
	}
	r->stats.answers++;
	q->in_flight = false;
	/* No address of this type: nothing to refresh; ask again at the upper bound. */
	q->due_ns =
	    now_ns + (uint64_t)(a.count > 0 ? a.min_ttl_s : r->cfg->dns.max_ttl_s) * 1000000000ull;
	return;
refused:
	r->stats.refused++;
}

void
router_resolve_read(struct router_resolve *r, uint64_t now_ns, router_resolve_fn fn, void *arg)
{
	int fds[2];
	size_t nfd = router_resolve_fds(r, fds, 2);

	for (size_t i = 0; i < nfd; i++) {
		for (int k = 0; k < 64; k++) {
			uint8_t msg[RESOLVE_MSG_MAX];
			struct sockaddr_storage ss;
			socklen_t sl = sizeof(ss);
			ssize_t n =
			    recvfrom(fds[i], msg, sizeof(msg), 0, (struct sockaddr *)&ss, &sl);

			if (n < 0)
				break;
			if (!resolve_from_server(r, &ss)) {
				r->stats.refused++;
				continue;
			}
			router_resolve_answer(r, msg, (size_t)n, now_ns, fn, arg);
		}
	}
}

int
router_resolve_inflight_id(const struct router_resolve *r, size_t i)
{
	return i < r->query_count && r->queries[i].in_flight ? r->queries[i].id : -1;
}

const struct router_resolve_stats *
router_resolve_stats(const struct router_resolve *r)
{
	return &r->stats;
}

size_t
router_resolve_count(const struct router_resolve *r)
{
	return r != NULL ? r->name_count : 0;
}

const char *
router_resolve_name(const struct router_resolve *r, size_t i)
{
	return i < r->name_count ? r->names[i] : NULL;
}
