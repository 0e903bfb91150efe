/* The bounded path event log (path_log.h). */
#include "path/path_log.h"

#include <string.h>

void
path_log_init(struct path_log *log)
{
	memset(log, 0, sizeof(*log));
}

void
path_log_append(struct path_log *log, const struct path_log_entry *e)
{
	if (log->total >= PATH_LOG_SIZE)
		log->dropped++;
	log->ring[log->total % PATH_LOG_SIZE] = *e;
	log->total++;
}

size_t
path_log_count(const struct path_log *log)
{
	return log->total < PATH_LOG_SIZE ? (size_t)log->total : PATH_LOG_SIZE;
}

const struct path_log_entry *
path_log_get(const struct path_log *log, size_t i)
{
	size_t n = path_log_count(log);

	if (i >= n)
		return NULL;
	return &log->ring[(log->total - n + i) % PATH_LOG_SIZE];
}

const char *
path_log_kind_name(enum path_log_kind k)
{
	switch (k) {
	case PATH_LOG_STATE:
		return "state";
	case PATH_LOG_SLA_BREACH:
		return "sla-breach";
	case PATH_LOG_FAILOVER:
		return "failover";
	case PATH_LOG_UDP_TRANSFORM:
		return "udp-transform-detected";
	case PATH_LOG_NAT_BINDING:
		return "nat-binding";
	}
	return "unknown";
}
