/* Control-plane UDP sockets on the waypoints; see router_wansock.h. */
#include "router/router_wansock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Longer than any message of either protocol: a longer datagram is seen as such. */
#define ROUTER_WANSOCK_MSG_MAX 512

struct router_wansock {
	int *fds; /* by WAN id */
	size_t count;
	unsigned long long send_errors;
};

static socklen_t
router_wansock_sockaddr(const struct addr *a, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == ADDR_FAMILY_V4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a->bytes, 4);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	memcpy(&sin6->sin6_addr, a->bytes, 16);
	return sizeof(*sin6);
}

static int
router_wansock_open(const struct addr *waypoint, int *out, char *why, size_t why_len)
{
	struct sockaddr_storage ss;
	socklen_t sl = router_wansock_sockaddr(waypoint, ROUTER_WANSOCK_PORT, &ss);
	int one = 1, err, fd, family = waypoint->family == ADDR_FAMILY_V4 ? AF_INET : AF_INET6;
	char text[ADDR_TEXT_MAX];

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	/* The waypoint may be configured on the device a moment after ternd starts. */
	if (family == AF_INET)
		setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	else
		setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0)
		goto fail;
	*out = fd;
	return 0;
fail:
	err = errno;
	addr_format(waypoint, text, sizeof(text));
	snprintf(why, why_len, "cannot open the control socket on %s port %d: %s", text,
	    ROUTER_WANSOCK_PORT, strerror(err));
	if (fd >= 0)
		close(fd);
	return -err;
}

int
router_wansock_new(const struct router_config *cfg, struct router_wansock **out, char *why,
    size_t why_len)
{
	struct router_wansock *ws = calloc(1, sizeof(*ws));
	int rc;

	*out = NULL;
	if (ws == NULL)
		return -ENOMEM;
	ws->count = cfg->wan_count;
	ws->fds = calloc(ws->count ? ws->count : 1, sizeof(*ws->fds));
	if (ws->fds == NULL) {
		free(ws);
		return -ENOMEM;
	}
	for (size_t i = 0; i < ws->count; i++)
		ws->fds[i] = -1;
	for (size_t i = 0; i < ws->count; i++) {
		rc = router_wansock_open(&cfg->wans[i].waypoint, &ws->fds[i], why, why_len);
		if (rc < 0) {
			router_wansock_free(ws);
			return rc;
		}
	}
	*out = ws;
	return 0;
}

void
router_wansock_free(struct router_wansock *ws)
{
	if (ws == NULL)
		return;
	for (size_t i = 0; i < ws->count; i++)
		if (ws->fds[i] >= 0)
			close(ws->fds[i]);
	free(ws->fds);
	free(ws);
}

size_t
router_wansock_fds(const struct router_wansock *ws, int *fds, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < ws->count && n < max; i++)
		if (ws->fds[i] >= 0)
			fds[n++] = ws->fds[i];
	return n;
}

void
router_wansock_read(struct router_wansock *ws, router_wansock_rx_fn rx, void *arg)
{
	uint8_t buf[ROUTER_WANSOCK_MSG_MAX];

	for (size_t wan = 0; wan < ws->count; wan++) {
		for (unsigned n = 0; n < ROUTER_WANSOCK_BURST && ws->fds[wan] >= 0; n++) {
			struct sockaddr_storage ss;
			socklen_t sl = sizeof(ss);
			struct addr from;
			uint16_t port;
			ssize_t len = recvfrom(ws->fds[wan], buf, sizeof(buf), MSG_DONTWAIT,
			    (struct sockaddr *)&ss, &sl);

			if (len < 0)
				break;
			if (ss.ss_family == AF_INET) {
				const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;

				addr_set_v4(&from, (const uint8_t *)&sin->sin_addr);
				port = ntohs(sin->sin_port);
			} else if (ss.ss_family == AF_INET6) {
				const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;

				addr_set_v6(&from, (const uint8_t *)&sin6->sin6_addr);
				port = ntohs(sin6->sin6_port);
			} else {
				continue;
			}
			rx(arg, (uint32_t)wan, &from, port, buf, (size_t)len);
		}
	}
}

int
router_wansock_send(struct router_wansock *ws, uint32_t wan, const struct addr *to, uint16_t port,
    const uint8_t *msg, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	if (wan >= ws->count || ws->fds[wan] < 0) {
		ws->send_errors++;
		return -ENOTCONN;
	}
	sl = router_wansock_sockaddr(to, port, &ss);
	if (sendto(ws->fds[wan], msg, len, MSG_DONTWAIT, (struct sockaddr *)&ss, sl) < 0) {
		ws->send_errors++;
		return -errno;
	}
	return 0;
}

unsigned long long
router_wansock_send_errors(const struct router_wansock *ws)
{
	return ws->send_errors;
}
