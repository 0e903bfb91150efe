/* One request and its answer over ternd's API socket (ctl_client.h). */
#include "ctl/ctl_client.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int64_t
ctl_client_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until deadline_ms: 0, -ETIMEDOUT or -errno. */
static int
ctl_client_wait(int fd, short events, int64_t deadline_ms)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	int64_t left;
	int n;

	for (;;) {
		left = deadline_ms - ctl_client_now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

static char *
ctl_client_request_format(const char *cmd, const json_t *args, size_t *len)
{
	json_t *req = json_pack("{ss}", "cmd", cmd);
	char *text = NULL;
	size_t size;

	if (req == NULL || (args != NULL && json_object_set(req, "args", (json_t *)args) < 0))
		goto out;
	size = json_dumpb(req, NULL, 0, JSON_COMPACT);
	text = size != 0 ? malloc(size + 1) : NULL;
	if (text == NULL)
		goto out;
	json_dumpb(req, text, size, JSON_COMPACT);
	text[size] = '\n';
	*len = size + 1;
out:
	json_decref(req);
	return text;
}

static int
ctl_client_send(int fd, const char *buf, size_t len, int64_t deadline_ms)
{
	size_t off = 0;
	ssize_t n;
	int rc;

	while (off < len) {
		n = send(fd, buf + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0) {
			off += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		rc = ctl_client_wait(fd, POLLOUT, deadline_ms);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Reads until the server closes; *out is malloc'd and NUL-terminated. */
static int
ctl_client_recv(int fd, int64_t deadline_ms, char **out, size_t *out_len)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	ssize_t n;
	int rc;

	if (buf == NULL)
		return -ENOMEM;
	for (;;) {
		if (len + 1 == cap) {
			char *grown;

			if (cap >= CTL_ANSWER_MAX) {
				rc = -EMSGSIZE;
				goto fail;
			}
			grown = realloc(buf, cap * 2);
			if (grown == NULL) {
				rc = -ENOMEM;
				goto fail;
			}
			buf = grown;
			cap *= 2;
		}
		n = recv(fd, buf + len, cap - len - 1, MSG_DONTWAIT);
		if (n > 0) {
			len += (size_t)n;
			continue;
		}
		if (n == 0)
			break;
		if (errno == EINTR)
			continue;
		/* A server that closed without reading all we sent resets; keep what came. */
		if (errno == ECONNRESET && len > 0)
			break;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			rc = -errno;
			goto fail;
		}
		rc = ctl_client_wait(fd, POLLIN, deadline_ms);
		if (rc < 0)
			goto fail;
	}
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	return 0;
fail:
	free(buf);
	return rc;
}

static int
ctl_client_answer_parse(const char *text, size_t len, json_t **answer)
{
	json_t *a = json_loadb(text, len, 0, NULL);
	const json_t *api;

	if (a == NULL || !json_is_object(a) || !json_is_boolean(json_object_get(a, "ok"))) {
		json_decref(a);
		return -EBADMSG;
	}
	api = json_object_get(a, "api");
	if (!json_is_integer(api) || json_integer_value(api) != CTL_API_VERSION) {
		json_decref(a);
		return -EPROTO;
	}
	*answer = a;
	return 0;
}

int
ctl_client_call(const char *socket_path, const char *cmd, const json_t *args, int timeout_ms,
    json_t **answer)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int64_t deadline_ms = ctl_client_now_ms() + timeout_ms;
	char *req = NULL, *text = NULL;
	size_t req_len = 0, text_len = 0;
	int fd = -1, rc;

	*answer = NULL;
	if (strlen(socket_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, socket_path, strlen(socket_path) + 1);
	req = ctl_client_request_format(cmd, args, &req_len);
	if (req == NULL)
		return -ENOMEM;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	/* A unix connect completes at once or fails; EAGAIN (full backlog) is a busy server. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = errno == EAGAIN ? -ETIMEDOUT : -errno;
		goto out;
	}
	rc = ctl_client_send(fd, req, req_len, deadline_ms);
	if (rc < 0 && rc != -EPIPE && rc != -ECONNRESET)
		goto out;
	/* Even if sending failed, the server may have answered why (too large, busy). */
	rc = ctl_client_recv(fd, deadline_ms, &text, &text_len);
	if (rc < 0)
		goto out;
	rc = ctl_client_answer_parse(text, text_len, answer);
out:
	if (fd >= 0)
		close(fd);
	free(req);
	free(text);
	return rc;
}
