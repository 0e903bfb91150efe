/*
 * The local API server framework (router_api.h): socket set-up, one epoll set holding
 * the listening socket, a timerfd for client deadlines and every connection, so the
 * control loop polls a single fd.
 */
#include "router/router_api.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/log.h"

/* epoll data: small values name the server's own fds, the rest are connection slots. */
enum {
	API_EV_LISTEN = 0,
	API_EV_TIMER = 1,
	API_EV_CONN = 2,
};

/* Events handled per router_api_on_readable(); the fd stays readable for the rest. */
#define API_EVENTS_MAX 32
/* Connections accepted per call, so a flood cannot starve the control thread. */
#define API_ACCEPT_MAX 64
/* Bytes of a client-chosen string quoted in an error message. */
#define API_QUOTE_MAX 64

enum api_conn_state {
	API_CONN_FREE = 0,
	API_CONN_READING,
	API_CONN_WRITING,
};

struct api_conn {
	int fd;
	enum api_conn_state state;
	uint64_t deadline_ns;
	char *in; /* ROUTER_API_REQUEST_MAX bytes, allocated at start-up */
	size_t in_len;
	char *out; /* the answer, malloc'd when the request is complete */
	size_t out_len;
	size_t out_off;
};

struct router_api {
	int listen_fd;
	int epoll_fd;
	int timer_fd;
	char *path;
	dev_t sock_dev; /* identity of our socket file, so free never unlinks another's */
	ino_t sock_ino;
	uint64_t timeout_ns;
	unsigned conn_max;
	unsigned conn_count;
	struct api_conn *conns;
	struct router_api_command commands[ROUTER_API_COMMANDS_MAX];
	unsigned command_count;
	json_t *empty_args;
};

/* The longest prefix of s within max bytes that does not split a UTF-8 sequence. */
static size_t
api_utf8_prefix_len(const char *s, size_t max)
{
	size_t len = strlen(s);
	size_t i;

	if (len <= max)
		return len;
	i = max;
	while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80)
		i--;
	return i;
}

/* Length of the valid UTF-8 sequence (RFC 3629) at s, or 0 if the bytes there are not one. */
static size_t
api_utf8_seq_len(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	/* The second byte's range excludes overlong forms, surrogates and > U+10FFFF. */
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/*
 * Replaces every byte that is not part of valid UTF-8 with '?': messages quote client
 * input (jansson's error text shows the bytes it choked on) and a cut may split a
 * character, but the answer must be valid JSON.
 */
static void
api_utf8_sanitize(char *s)
{
	unsigned char *p = (unsigned char *)s;

	while (*p != '\0') {
		size_t n = api_utf8_seq_len(p);

		if (n == 0) {
			*p++ = '?';
			continue;
		}
		p += n;
	}
}

int
router_api_error_set(struct router_api_error *err, const char *code, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	api_utf8_sanitize(err->message);
	return -EINVAL;
}

int
router_api_request_parse(const char *buf, size_t len, struct router_api_request *req,
    struct router_api_error *err)
{
	json_error_t jerr;
	const char *key;
	json_t *value;
	int rc;

	memset(req, 0, sizeof(*req));
	if (len >= ROUTER_API_REQUEST_MAX) {
		router_api_error_set(err, ROUTER_API_E_TOO_LARGE, "request is larger than %d bytes",
		    ROUTER_API_REQUEST_MAX - 1);
		return -EMSGSIZE;
	}
	/* Duplicate keys are rejected: "cmd" twice must not mean whichever came last. */
	req->root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (req->root == NULL) {
		if (json_error_code(&jerr) == json_error_out_of_memory)
			return -ENOMEM;
		return router_api_error_set(err, ROUTER_API_E_BAD_REQUEST,
		    "invalid JSON at line %d column %d: %s", jerr.line, jerr.column, jerr.text);
	}
	if (!json_is_object(req->root)) {
		rc = router_api_error_set(err, ROUTER_API_E_BAD_REQUEST,
		    "the request must be a JSON object");
		goto fail;
	}
	json_object_foreach(req->root, key, value)
	{
		if (strcmp(key, "cmd") == 0) {
			if (!json_is_string(value)) {
				rc = router_api_error_set(err, ROUTER_API_E_BAD_REQUEST,
				    "\"cmd\" must be a string");
				goto fail;
			}
			if (json_string_length(value) == 0 ||
			    json_string_length(value) >= ROUTER_API_CMD_MAX) {
				rc = router_api_error_set(err, ROUTER_API_E_BAD_REQUEST,
				    "\"cmd\" must have 1 to %d bytes", ROUTER_API_CMD_MAX - 1);
				goto fail;
			}
			req->cmd = json_string_value(value);
		} else if (strcmp(key, "args") == 0) {
			if (!json_is_object(value)) {
				rc = router_api_error_set(err, ROUTER_API_E_BAD_REQUEST,
				    "\"args\" must be an object");
				goto fail;
			}
			req->args = value;
		} else {
			rc = router_api_error_set(err, ROUTER_API_E_BAD_REQUEST,
			    "unknown key \"%.*s\" (a request has \"cmd\" and \"args\")",
			    (int)api_utf8_prefix_len(key, API_QUOTE_MAX), key);
			goto fail;
		}
	}
	if (req->cmd == NULL) {
		rc = router_api_error_set(err, ROUTER_API_E_BAD_REQUEST, "missing \"cmd\"");
		goto fail;
	}
	return 0;
fail:
	router_api_request_fini(req);
	return rc;
}

void
router_api_request_fini(struct router_api_request *req)
{
	json_decref(req->root);
	memset(req, 0, sizeof(*req));
}

char *
router_api_answer_format(const json_t *result, const struct router_api_error *err, size_t *len)
{
	json_t *answer = json_object();
	json_t *e = NULL;
	json_t *message = NULL;
	char *text = NULL;
	size_t size;
	int rc = 0;

	if (answer == NULL)
		return NULL;
	rc |= json_object_set_new(answer, "api", json_integer(ROUTER_API_VERSION));
	if (err != NULL) {
		rc |= json_object_set_new(answer, "ok", json_false());
		e = json_object();
		rc |= json_object_set_new(answer, "error", e);
		rc |= json_object_set_new(e, "code",
		    json_string(err->code != NULL ? err->code : ROUTER_API_E_INTERNAL));
		message = json_string(err->message);
		/* A handler's message might not be UTF-8; never lose the whole answer to it. */
		if (message == NULL)
			message = json_string("(message is not valid UTF-8)");
		rc |= json_object_set_new(e, "message", message);
		if (err->details != NULL)
			rc |= json_object_set(e, "details", (json_t *)err->details);
	} else {
		rc |= json_object_set_new(answer, "ok", json_true());
		rc |= json_object_set(answer, "result",
		    result != NULL ? (json_t *)result : json_null());
	}
	if (rc != 0)
		goto out;
	size = json_dumpb(answer, NULL, 0, JSON_COMPACT);
	if (size == 0)
		goto out;
	text = malloc(size + 1);
	if (text == NULL)
		goto out;
	if (json_dumpb(answer, text, size, JSON_COMPACT) != size) {
		free(text);
		text = NULL;
		goto out;
	}
	text[size] = '\n';
	*len = size + 1;
out:
	json_decref(answer);
	return text;
}

/* Sends a short answer to a client we will not serve further; best effort. */
static void
api_send_error_now(int fd, const char *code, const char *message)
{
	struct router_api_error err = {.code = code};
	size_t len;
	char *text;

	snprintf(err.message, sizeof(err.message), "%s", message);
	text = router_api_answer_format(NULL, &err, &len);
	if (text != NULL && send(fd, text, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("api: could not send \"%s\" to a client: %s", code, strerror(errno));
	free(text);
}

static void
api_conn_close(struct router_api *api, struct api_conn *c)
{
	epoll_ctl(api->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->state = API_CONN_FREE;
	c->in_len = 0;
	free(c->out);
	c->out = NULL;
	c->out_len = 0;
	c->out_off = 0;
	api->conn_count--;
}

static const struct router_api_command *
api_command_find(const struct router_api *api, const char *name)
{
	for (unsigned i = 0; i < api->command_count; i++)
		if (strcmp(api->commands[i].name, name) == 0)
			return &api->commands[i];
	return NULL;
}

/* Runs one complete request and produces the answer text; never fails the server. */
static char *
api_serve(struct router_api *api, const char *buf, size_t len, size_t *out_len)
{
	struct router_api_error err = {0};
	struct router_api_request req;
	const struct router_api_command *cmd;
	json_t *result = NULL;
	char *text = NULL;
	int rc;

	rc = router_api_request_parse(buf, len, &req, &err);
	if (rc == -ENOMEM) {
		router_api_error_set(&err, ROUTER_API_E_INTERNAL, "out of memory");
		goto answer_error;
	}
	if (rc < 0)
		goto answer_error;
	cmd = api_command_find(api, req.cmd);
	if (cmd == NULL) {
		router_api_error_set(&err, ROUTER_API_E_UNKNOWN_COMMAND, "unknown command \"%s\"",
		    req.cmd);
		goto answer_error;
	}
	log_debug("api: command %s", cmd->name);
	rc = cmd->handler(req.args != NULL ? req.args : api->empty_args, &result, &err, cmd->ctx);
	if (rc < 0) {
		json_decref(result);
		result = NULL;
		if (err.code == NULL)
			router_api_error_set(&err, ROUTER_API_E_INTERNAL, "%s failed: %s",
			    cmd->name, strerror(-rc));
		goto answer_error;
	}
	text = router_api_answer_format(result, NULL, out_len);
	json_decref(result);
	if (text == NULL) {
		router_api_error_set(&err, ROUTER_API_E_INTERNAL, "cannot encode the answer");
		goto answer_error;
	}
	router_api_request_fini(&req);
	return text;
answer_error:
	text = router_api_answer_format(NULL, &err, out_len);
	json_decref(err.details);
	router_api_request_fini(&req);
	return text;
}

/* Writes what the socket takes; closes the connection when done or broken. */
static void
api_conn_write(struct router_api *api, struct api_conn *c, uint64_t now_ns)
{
	ssize_t n;

	while (c->out_off < c->out_len) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			log_debug("api: client went away before its answer: %s", strerror(errno));
			api_conn_close(api, c);
			return;
		}
		c->out_off += (size_t)n;
		/* Progress: a client that reads slowly is not dropped while it reads. */
		c->deadline_ns = now_ns + api->timeout_ns;
	}
	api_conn_close(api, c);
}

static void
api_conn_respond(struct router_api *api, struct api_conn *c, size_t req_len, uint64_t now_ns)
{
	struct epoll_event ev = {.events = EPOLLOUT};

	c->out = api_serve(api, c->in, req_len, &c->out_len);
	if (c->out == NULL) {
		api_send_error_now(c->fd, ROUTER_API_E_INTERNAL, "out of memory");
		api_conn_close(api, c);
		return;
	}
	c->out_off = 0;
	c->state = API_CONN_WRITING;
	c->deadline_ns = now_ns + api->timeout_ns;
	ev.data.u64 = API_EV_CONN + (uint64_t)(c - api->conns);
	if (epoll_ctl(api->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
		api_conn_close(api, c);
		return;
	}
	api_conn_write(api, c, now_ns);
}

static void
api_conn_read(struct router_api *api, struct api_conn *c, uint64_t now_ns)
{
	char *nl;
	ssize_t n;

	for (;;) {
		if (c->in_len == ROUTER_API_REQUEST_MAX) {
			api_send_error_now(c->fd, ROUTER_API_E_TOO_LARGE,
			    "request is larger than 65535 bytes without its newline");
			api_conn_close(api, c);
			return;
		}
		n = recv(c->fd, c->in + c->in_len, ROUTER_API_REQUEST_MAX - c->in_len,
		    MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				api_conn_close(api, c);
			return;
		}
		if (n == 0) {
			/* A client that shut its side down sent its whole request: serve it. */
			if (c->in_len == 0)
				api_conn_close(api, c);
			else
				api_conn_respond(api, c, c->in_len, now_ns);
			return;
		}
		nl = memchr(c->in + c->in_len, '\n', (size_t)n);
		c->in_len += (size_t)n;
		if (nl != NULL) {
			if ((size_t)(nl - c->in) + 1 != c->in_len) {
				api_send_error_now(c->fd, ROUTER_API_E_BAD_REQUEST,
				    "data after the request's newline (one request per connection)");
				api_conn_close(api, c);
				return;
			}
			api_conn_respond(api, c, (size_t)(nl - c->in), now_ns);
			return;
		}
	}
}

static void
api_accept(struct router_api *api, uint64_t now_ns)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct api_conn *c = NULL;
	int fd;

	for (unsigned k = 0; k < API_ACCEPT_MAX; k++) {
		fd = accept4(api->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_ratelimited(LOG_LEVEL_WARNING, 1, "api: accept on %s: %s",
				    api->path, strerror(errno));
			return;
		}
		if (api->conn_count == api->conn_max) {
			api_send_error_now(fd, ROUTER_API_E_BUSY,
			    "too many API clients at once; try again");
			close(fd);
			continue;
		}
		for (unsigned i = 0; i < api->conn_max; i++) {
			if (api->conns[i].state == API_CONN_FREE) {
				c = &api->conns[i];
				break;
			}
		}
		ev.data.u64 = API_EV_CONN + (uint64_t)(c - api->conns);
		if (epoll_ctl(api->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->state = API_CONN_READING;
		c->in_len = 0;
		c->deadline_ns = now_ns + api->timeout_ns;
		api->conn_count++;
	}
}

static void
api_expire(struct router_api *api, uint64_t now_ns)
{
	for (unsigned i = 0; i < api->conn_max; i++) {
		struct api_conn *c = &api->conns[i];

		if (c->state == API_CONN_FREE || c->deadline_ns > now_ns)
			continue;
		if (c->state == API_CONN_READING)
			api_send_error_now(c->fd, ROUTER_API_E_TIMEOUT,
			    "no complete request in time");
		log_debug("api: dropped a client that was %s too slowly",
		    c->state == API_CONN_READING ? "sending" : "reading");
		api_conn_close(api, c);
	}
}

static int
api_timer_arm(struct router_api *api)
{
	struct itimerspec its = {0};
	uint64_t next = UINT64_MAX;

	for (unsigned i = 0; i < api->conn_max; i++)
		if (api->conns[i].state != API_CONN_FREE && api->conns[i].deadline_ns < next)
			next = api->conns[i].deadline_ns;
	if (next != UINT64_MAX) {
		/* An all-zero it_value disarms, so a deadline at 0 must still be non-zero. */
		if (next == 0)
			next = 1;
		its.it_value.tv_sec = (time_t)(next / 1000000000ull);
		its.it_value.tv_nsec = (long)(next % 1000000000ull);
	}
	if (timerfd_settime(api->timer_fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		return -errno;
	return 0;
}

int
router_api_on_readable(struct router_api *api)
{
	struct epoll_event events[API_EVENTS_MAX];
	uint64_t expirations;
	uint64_t now_ns;
	int n;

	n = epoll_wait(api->epoll_fd, events, API_EVENTS_MAX, 0);
	if (n < 0) {
		if (errno == EINTR)
			return 0;
		return log_error_errno(-errno, "api: epoll_wait");
	}
	now_ns = clock_now_ns();
	for (int i = 0; i < n; i++) {
		uint64_t id = events[i].data.u64;
		struct api_conn *c;

		if (id == API_EV_LISTEN) {
			api_accept(api, now_ns);
			continue;
		}
		if (id == API_EV_TIMER) {
			if (read(api->timer_fd, &expirations, sizeof(expirations)) < 0 &&
			    errno != EAGAIN)
				return log_error_errno(-errno, "api: timerfd read");
			continue;
		}
		c = &api->conns[id - API_EV_CONN];
		/* An earlier event of this batch may have closed (or reused) the slot. */
		if (c->state == API_CONN_READING &&
		    (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
			api_conn_read(api, c, now_ns);
		else if (c->state == API_CONN_WRITING &&
		    (events[i].events & (EPOLLOUT | EPOLLHUP | EPOLLERR)))
			api_conn_write(api, c, now_ns);
	}
	api_expire(api, clock_now_ns());
	n = api_timer_arm(api);
	if (n < 0)
		return log_error_errno(n, "api: timerfd_settime");
	return 0;
}

int
router_api_register(struct router_api *api, const struct router_api_command *cmd)
{
	if (cmd->name == NULL || cmd->handler == NULL || cmd->name[0] == '\0' ||
	    strlen(cmd->name) >= ROUTER_API_CMD_MAX)
		return -EINVAL;
	if (api_command_find(api, cmd->name) != NULL)
		return -EEXIST;
	if (api->command_count == ROUTER_API_COMMANDS_MAX)
		return -ENOSPC;
	api->commands[api->command_count++] = *cmd;
	return 0;
}

int
router_api_fd(const struct router_api *api)
{
	return api->epoll_fd;
}

unsigned
router_api_connection_count(const struct router_api *api)
{
	return api->conn_count;
}

const char *
router_api_socket_path(const struct router_api *api)
{
	return api->path;
}

/* mkdir -p of the directory that will hold path. */
static int
api_mkdir_parents(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* 0 if nothing (or only a dead socket, now removed) is at path. */
static int
api_clear_stale(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, rc;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	if (rc == 0 || errno == EAGAIN || errno == EINPROGRESS) {
		rc = -EADDRINUSE;
	} else if (errno == ECONNREFUSED) {
		rc = unlink(sa->sun_path) < 0 && errno != ENOENT ? -errno : 0;
	} else {
		rc = -errno;
	}
	close(fd);
	return rc;
}

static int
api_listen(struct router_api *api, mode_t mode)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct sockaddr_un tmp = {.sun_family = AF_UNIX};
	struct stat st;
	int rc;

	if (strlen(api->path) >= sizeof(sa.sun_path) ||
	    snprintf(tmp.sun_path, sizeof(tmp.sun_path), "%s.%ld", api->path, (long)getpid()) >=
	        (int)sizeof(tmp.sun_path))
		return log_error_errno(-ENAMETOOLONG, "api: socket path %s", api->path);
	memcpy(sa.sun_path, api->path, strlen(api->path) + 1);
	rc = api_mkdir_parents(api->path);
	if (rc < 0)
		return log_error_errno(rc, "api: cannot create the directory of %s", api->path);
	rc = api_clear_stale(&sa);
	if (rc == -EADDRINUSE)
		return log_error_errno(rc, "api: another server answers on %s", api->path);
	if (rc == -EEXIST)
		return log_error_errno(rc, "api: %s exists and is not a socket", api->path);
	if (rc < 0)
		return log_error_errno(rc, "api: cannot check %s", api->path);

	api->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (api->listen_fd < 0)
		return log_error_errno(-errno, "api: socket");
	/* Bound under a temporary name and renamed: nobody sees it with the wrong mode. */
	unlink(tmp.sun_path);
	if (bind(api->listen_fd, (struct sockaddr *)&tmp, sizeof(tmp)) < 0)
		return log_error_errno(-errno, "api: cannot bind %s", tmp.sun_path);
	if (chmod(tmp.sun_path, mode) < 0 || rename(tmp.sun_path, api->path) < 0) {
		rc = -errno;
		unlink(tmp.sun_path);
		return log_error_errno(rc, "api: cannot install %s", api->path);
	}
	if (lstat(api->path, &st) < 0)
		return log_error_errno(-errno, "api: %s", api->path);
	api->sock_dev = st.st_dev;
	api->sock_ino = st.st_ino;
	if (listen(api->listen_fd, 64) < 0)
		return log_error_errno(-errno, "api: listen on %s", api->path);
	return 0;
}

int
router_api_new(const struct router_api_config *config, struct router_api **out)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct router_api *api;
	int rc = -ENOMEM;

	*out = NULL;
	if (config->socket_path == NULL || config->socket_path[0] == '\0')
		return -EINVAL;
	api = calloc(1, sizeof(*api));
	if (api == NULL)
		return -ENOMEM;
	api->listen_fd = -1;
	api->epoll_fd = -1;
	api->timer_fd = -1;
	api->timeout_ns =
	    (uint64_t)(config->timeout_ms != 0 ? config->timeout_ms : ROUTER_API_TIMEOUT_MS) *
	    1000000ull;
	api->conn_max =
	    config->max_connections != 0 ? config->max_connections : ROUTER_API_CONNECTIONS_MAX;
	api->path = strdup(config->socket_path);
	api->empty_args = json_object();
	api->conns = calloc(api->conn_max, sizeof(*api->conns));
	if (api->path == NULL || api->empty_args == NULL || api->conns == NULL)
		goto fail;
	for (unsigned i = 0; i < api->conn_max; i++) {
		api->conns[i].fd = -1;
		api->conns[i].in = malloc(ROUTER_API_REQUEST_MAX);
		if (api->conns[i].in == NULL)
			goto fail;
	}
	api->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	api->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (api->epoll_fd < 0 || api->timer_fd < 0) {
		rc = log_error_errno(-errno, "api: epoll or timerfd");
		goto fail;
	}
	rc = api_listen(api, config->mode != 0 ? config->mode : 0660);
	if (rc < 0)
		goto fail;
	ev.data.u64 = API_EV_LISTEN;
	if (epoll_ctl(api->epoll_fd, EPOLL_CTL_ADD, api->listen_fd, &ev) < 0)
		goto fail_errno;
	ev.data.u64 = API_EV_TIMER;
	if (epoll_ctl(api->epoll_fd, EPOLL_CTL_ADD, api->timer_fd, &ev) < 0)
		goto fail_errno;
	*out = api;
	return 0;
fail_errno:
	rc = log_error_errno(-errno, "api: epoll_ctl");
fail:
	router_api_free(api);
	return rc;
}

void
router_api_free(struct router_api *api)
{
	struct stat st;

	if (api == NULL)
		return;
	for (unsigned i = 0; api->conns != NULL && i < api->conn_max; i++) {
		if (api->conns[i].state != API_CONN_FREE)
			api_conn_close(api, &api->conns[i]);
		free(api->conns[i].in);
	}
	if (api->listen_fd >= 0) {
		/* Only our own socket: a newer server may have taken the path over. */
		if (lstat(api->path, &st) == 0 && st.st_dev == api->sock_dev &&
		    st.st_ino == api->sock_ino)
			unlink(api->path);
		close(api->listen_fd);
	}
	if (api->epoll_fd >= 0)
		close(api->epoll_fd);
	if (api->timer_fd >= 0)
		close(api->timer_fd);
	json_decref(api->empty_args);
	free(api->conns);
	free(api->path);
	free(api);
}
