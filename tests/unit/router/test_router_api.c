/*
 * Unit tests of router/router_api: the local API server, driven by clients in the same
 * process over a real unix socket in a temporary directory, and its request parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "router/router_api.h"
#include "test_rand.h"

struct fixture {
	char dir[64];
	char path[96];
	struct router_api *api;
	unsigned handler_calls;
};

static int
fake_echo(const json_t *args, json_t **result, struct router_api_error *err, void *ctx)
{
	struct fixture *f = ctx;

	(void)err;
	f->handler_calls++;
	*result = json_deep_copy(args);
	return 0;
}

static int
fake_invalid(const json_t *args, json_t **result, struct router_api_error *err, void *ctx)
{
	(void)args;
	(void)result;
	(void)ctx;
	err->details = json_pack("[ss]", "peers[0].name: missing", "services: empty");
	return router_api_error_set(err, "config-invalid", "configuration has %d errors", 2);
}

static int
fake_broken(const json_t *args, json_t **result, struct router_api_error *err, void *ctx)
{
	(void)args;
	(void)err;
	(void)ctx;
	*result = json_string("leaked unless released");
	return -EIO;
}

static int
fake_big(const json_t *args, json_t **result, struct router_api_error *err, void *ctx)
{
	json_t *a = json_array();

	(void)args;
	(void)err;
	(void)ctx;
	/* Larger than a socket buffer, so the answer goes out over several writes. */
	for (int i = 0; i < 50000; i++)
		json_array_append_new(a, json_pack("{si ss}", "id", i, "state", "established"));
	*result = a;
	return 0;
}

static int
fixture_open(struct fixture *f, unsigned timeout_ms, unsigned max_connections)
{
	struct router_api_config config = {
	    .timeout_ms = timeout_ms,
	    .max_connections = max_connections,
	};
	const struct router_api_command cmds[] = {
	    {"echo", fake_echo, f},
	    {"invalid", fake_invalid, f},
	    {"broken", fake_broken, f},
	    {"big", fake_big, f},
	};

	config.socket_path = f->path;
	if (router_api_new(&config, &f->api) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (router_api_register(f->api, &cmds[i]) < 0)
			return -1;
	return 0;
}

static int
setup_with(void **state, unsigned timeout_ms, unsigned max_connections)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/tern-api-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	/* A subdirectory that does not exist yet: the server creates it. */
	snprintf(f->path, sizeof(f->path), "%s/run/r1.sock", f->dir);
	*state = f;
	return fixture_open(f, timeout_ms, max_connections);
}

static int
setup(void **state)
{
	return setup_with(state, 0, 0);
}

static int
setup_fast_timeout(void **state)
{
	return setup_with(state, 100, 0);
}

static int
setup_one_connection(void **state)
{
	return setup_with(state, 0, 1);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char sub[160];

	router_api_free(f->api);
	snprintf(sub, sizeof(sub), "%s/run", f->dir);
	rmdir(sub);
	rmdir(f->dir);
	free(f);
	return 0;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
client_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/*
 * Runs the server and one client until the server closes the connection: writes req
 * (then shuts down the write side if shut_wr), collects the answer. Returns the answer
 * bytes (malloc'd, NUL-terminated) or NULL if nothing came back.
 */
static char *
client_exchange_fd(struct router_api *api, int fd, const char *req, size_t len, bool shut_wr,
    size_t *out_len)
{
	size_t off = 0, cap = 4096, got = 0;
	char *out = malloc(cap);
	uint64_t start = now_ms();
	bool eof = false;

	assert_non_null(out);
	while (!eof) {
		struct pollfd pfd[2] = {
		    {.fd = router_api_fd(api), .events = POLLIN},
		    {.fd = fd, .events = POLLIN | (off < len ? POLLOUT : 0)},
		};

		assert_true(now_ms() - start < 5000);
		assert_true(poll(pfd, 2, 100) >= 0);
		if (pfd[0].revents & POLLIN)
			assert_int_equal(router_api_on_readable(api), 0);
		if (off < len && (pfd[1].revents & POLLOUT)) {
			ssize_t n = send(fd, req + off, len - off, MSG_NOSIGNAL);

			if (n < 0) {
				/* The server may refuse early and close: stop writing. */
				off = len;
			} else {
				off += (size_t)n;
			}
			if (off == len && shut_wr)
				shutdown(fd, SHUT_WR);
		}
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			for (;;) {
				ssize_t n;

				if (got + 1 >= cap) {
					cap *= 2;
					out = realloc(out, cap);
					assert_non_null(out);
				}
				n = recv(fd, out + got, cap - got - 1, 0);
				if (n > 0) {
					got += (size_t)n;
					continue;
				}
				if (n == 0 || errno == ECONNRESET)
					eof = true;
				break;
			}
		}
	}
	out[got] = '\0';
	*out_len = got;
	if (got == 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* One request, parsed answer (checked to be one JSON line with "api": 1). */
static json_t *
exchange_bytes(struct fixture *f, const char *req, size_t len, bool shut_wr)
{
	json_error_t jerr;
	size_t got;
	json_t *answer;
	char *text;
	int fd = client_connect(f->path);

	text = client_exchange_fd(f->api, fd, req, len, shut_wr, &got);
	close(fd);
	assert_non_null(text);
	assert_int_equal(text[got - 1], '\n');
	assert_null(memchr(text, '\n', got - 1));
	answer = json_loadb(text, got, 0, &jerr);
	free(text);
	assert_non_null(answer);
	assert_int_equal(json_integer_value(json_object_get(answer, "api")), ROUTER_API_VERSION);
	return answer;
}

/* One request on an otherwise idle server, which must have closed every connection. */
static json_t *
exchange(struct fixture *f, const char *req)
{
	json_t *answer = exchange_bytes(f, req, strlen(req), false);

	assert_int_equal(router_api_connection_count(f->api), 0);
	return answer;
}

/* Checks an error answer and returns its message (valid while answer lives). */
static const char *
assert_error(json_t *answer, const char *code)
{
	json_t *e = json_object_get(answer, "error");

	assert_true(json_is_false(json_object_get(answer, "ok")));
	assert_non_null(e);
	assert_string_equal(json_string_value(json_object_get(e, "code")), code);
	assert_non_null(json_string_value(json_object_get(e, "message")));
	return json_string_value(json_object_get(e, "message"));
}

static void
test_router_api_on_readable_serves_command(void **state)
{
	struct fixture *f = *state;
	json_t *answer = exchange(f, "{\"cmd\":\"echo\",\"args\":{\"tenant\":\"blue\"}}\n");
	json_t *result = json_object_get(answer, "result");

	assert_true(json_is_true(json_object_get(answer, "ok")));
	assert_string_equal(json_string_value(json_object_get(result, "tenant")), "blue");
	assert_int_equal(f->handler_calls, 1);
	json_decref(answer);
}

static void
test_router_api_on_readable_no_args_gives_empty_object(void **state)
{
	struct fixture *f = *state;
	json_t *answer = exchange(f, "{\"cmd\":\"echo\"}\n");
	json_t *result = json_object_get(answer, "result");

	assert_true(json_is_object(result));
	assert_int_equal(json_object_size(result), 0);
	json_decref(answer);
}

static void
test_router_api_on_readable_eof_ends_request(void **state)
{
	struct fixture *f = *state;
	const char *req = "{\"cmd\":\"echo\",\"args\":{\"n\":7}}";
	json_t *answer = exchange_bytes(f, req, strlen(req), true);

	assert_true(json_is_true(json_object_get(answer, "ok")));
	assert_int_equal(json_integer_value(
	                     json_object_get(json_object_get(answer, "result"), "n")),
	    7);
	json_decref(answer);
}

static void
test_router_api_on_readable_malformed_json_bad_request(void **state)
{
	struct fixture *f = *state;
	json_t *answer = exchange(f, "{\"cmd\":\"echo\",}\n");

	assert_non_null(strstr(assert_error(answer, "bad-request"), "invalid JSON"));
	assert_int_equal(f->handler_calls, 0);
	json_decref(answer);
}

static void
test_router_api_on_readable_non_object_bad_request(void **state)
{
	struct fixture *f = *state;
	json_t *answer = exchange(f, "[\"echo\"]\n");

	assert_string_equal(assert_error(answer, "bad-request"),
	    "the request must be a JSON object");
	json_decref(answer);
}

static void
test_router_api_on_readable_missing_cmd_bad_request(void **state)
{
	struct fixture *f = *state;
	json_t *answer = exchange(f, "{\"args\":{}}\n");

	assert_string_equal(assert_error(answer, "bad-request"), "missing \"cmd\"");
	json_decref(answer);
}

static void
test_router_api_on_readable_unknown_cmd(void **state)
{
	struct fixture *f = *state;
	json_t *answer = exchange(f, "{\"cmd\":\"frobnicate\"}\n");

	assert_string_equal(assert_error(answer, "unknown-command"),
	    "unknown command \"frobnicate\"");
	json_decref(answer);
}

static void
test_router_api_on_readable_unknown_key_named(void **state)
{
	struct fixture *f = *state;
	json_t *answer = exchange(f, "{\"cmd\":\"echo\",\"filter\":1}\n");

	assert_non_null(strstr(assert_error(answer, "bad-request"), "unknown key \"filter\""));
	assert_int_equal(f->handler_calls, 0);
	json_decref(answer);
}

static void
test_router_api_on_readable_oversized_too_large(void **state)
{
	struct fixture *f = *state;
	size_t len = ROUTER_API_REQUEST_MAX + 1000;
	char *req = malloc(len);
	json_t *answer;

	assert_non_null(req);
	memset(req, ' ', len);
	memcpy(req, "{\"cmd\":\"echo\",\"args\":{\"pad\":\"", 29);
	answer = exchange_bytes(f, req, len, false);
	assert_error(answer, "too-large");
	json_decref(answer);
	free(req);
}

static void
test_router_api_on_readable_largest_request_served(void **state)
{
	struct fixture *f = *state;
	size_t len = ROUTER_API_REQUEST_MAX;
	char *req = malloc(len);
	json_t *answer;

	/* Exactly the limit with its newline is still a request. */
	assert_non_null(req);
	memset(req, ' ', len);
	memcpy(req, "{\"cmd\":\"echo\"}", 14);
	req[len - 1] = '\n';
	answer = exchange_bytes(f, req, len, false);
	assert_true(json_is_true(json_object_get(answer, "ok")));
	json_decref(answer);
	free(req);
}

static void
test_router_api_on_readable_trailing_data_bad_request(void **state)
{
	struct fixture *f = *state;
	json_t *answer = exchange(f, "{\"cmd\":\"echo\"}\n{\"cmd\":\"echo\"}\n");

	assert_error(answer, "bad-request");
	assert_int_equal(f->handler_calls, 0);
	json_decref(answer);
}

static void
test_router_api_on_readable_handler_error_with_details(void **state)
{
	struct fixture *f = *state;
	json_t *answer = exchange(f, "{\"cmd\":\"invalid\"}\n");
	json_t *details = json_object_get(json_object_get(answer, "error"), "details");

	assert_string_equal(assert_error(answer, "config-invalid"), "configuration has 2 errors");
	assert_int_equal(json_array_size(details), 2);
	assert_string_equal(json_string_value(json_array_get(details, 1)), "services: empty");
	json_decref(answer);
}

static void
test_router_api_on_readable_handler_errno_internal(void **state)
{
	struct fixture *f = *state;
	json_t *answer = exchange(f, "{\"cmd\":\"broken\"}\n");

	assert_non_null(strstr(assert_error(answer, "internal"), "broken failed"));
	json_decref(answer);
}

static void
test_router_api_on_readable_big_answer_complete(void **state)
{
	struct fixture *f = *state;
	json_t *answer = exchange(f, "{\"cmd\":\"big\"}\n");
	json_t *result = json_object_get(answer, "result");

	assert_int_equal(json_array_size(result), 50000);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(result, 49999), "id")),
	    49999);
	json_decref(answer);
}

static void
test_router_api_on_readable_slow_client_dropped(void **state)
{
	struct fixture *f = *state;
	int fd = client_connect(f->path);
	size_t got;
	char *text;
	json_t *answer;

	/* Half a request, then silence: the 100 ms timeout of this fixture drops it. */
	text = client_exchange_fd(f->api, fd, "{\"cmd\":", 7, false, &got);
	close(fd);
	assert_non_null(text);
	answer = json_loads(text, 0, NULL);
	free(text);
	assert_error(answer, "timeout");
	assert_int_equal(router_api_connection_count(f->api), 0);
	json_decref(answer);
}

static void
test_router_api_on_readable_over_cap_busy(void **state)
{
	struct fixture *f = *state;
	int idle = client_connect(f->path);
	struct pollfd pfd = {.fd = router_api_fd(f->api), .events = POLLIN};
	json_t *answer;

	while (router_api_connection_count(f->api) == 0) {
		assert_true(poll(&pfd, 1, 1000) == 1);
		assert_int_equal(router_api_on_readable(f->api), 0);
	}
	answer = exchange_bytes(f, "{\"cmd\":\"echo\"}\n", 15, false);
	assert_error(answer, "busy");
	json_decref(answer);
	close(idle);
	/* The idle client's hang-up frees its slot; then requests are served again. */
	while (router_api_connection_count(f->api) == 1) {
		assert_true(poll(&pfd, 1, 1000) == 1);
		assert_int_equal(router_api_on_readable(f->api), 0);
	}
	answer = exchange(f, "{\"cmd\":\"echo\"}\n");
	assert_true(json_is_true(json_object_get(answer, "ok")));
	json_decref(answer);
}

static void
test_router_api_new_socket_mode_0660(void **state)
{
	struct fixture *f = *state;
	struct stat st;

	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_string_equal(router_api_socket_path(f->api), f->path);
}

static void
test_router_api_new_live_server_refused(void **state)
{
	struct fixture *f = *state;
	struct router_api_config config = {.socket_path = f->path};
	struct router_api *second;

	assert_int_equal(router_api_new(&config, &second), -EADDRINUSE);
	assert_null(second);
}

static void
test_router_api_new_stale_socket_replaced(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	json_t *answer;

	/* A socket file nobody listens on, as a crashed ternd leaves behind. */
	router_api_free(f->api);
	f->api = NULL;
	memcpy(sa.sun_path, f->path, strlen(f->path) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(fixture_open(f, 0, 0), 0);
	answer = exchange(f, "{\"cmd\":\"echo\"}\n");
	assert_true(json_is_true(json_object_get(answer, "ok")));
	json_decref(answer);
}

static void
test_router_api_new_regular_file_refused(void **state)
{
	struct fixture *f = *state;
	struct router_api_config config = {0};
	struct router_api *api;
	char path[160];
	int fd;

	snprintf(path, sizeof(path), "%s/run/file.sock", f->dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	config.socket_path = path;
	assert_int_equal(router_api_new(&config, &api), -EEXIST);
	unlink(path);
}

static void
test_router_api_free_removes_socket(void **state)
{
	struct fixture *f = *state;

	router_api_free(f->api);
	f->api = NULL;
	assert_int_equal(access(f->path, F_OK), -1);
	assert_int_equal(errno, ENOENT);
}

static void
test_router_api_register_rejects_duplicates(void **state)
{
	struct fixture *f = *state;
	const struct router_api_command dup = {"echo", fake_echo, f};
	const struct router_api_command empty = {"", fake_echo, f};

	assert_int_equal(router_api_register(f->api, &dup), -EEXIST);
	assert_int_equal(router_api_register(f->api, &empty), -EINVAL);
}

static int
parse(const char *text, struct router_api_error *err)
{
	struct router_api_request req;
	int rc;

	memset(err, 0, sizeof(*err));
	rc = router_api_request_parse(text, strlen(text), &req, err);
	if (rc == 0) {
		assert_non_null(req.cmd);
		router_api_request_fini(&req);
	}
	return rc;
}

static void
test_router_api_request_parse_strict(void **state)
{
	struct router_api_error err;

	(void)state;
	assert_int_equal(parse("{\"cmd\":\"status\"}", &err), 0);
	assert_int_equal(parse(" {\"args\":{\"a\":[1]},\"cmd\":\"x\"} ", &err), 0);
	assert_int_equal(parse("{\"cmd\":\"a\",\"cmd\":\"b\"}", &err), -EINVAL);
	assert_int_equal(parse("{\"cmd\":1}", &err), -EINVAL);
	assert_string_equal(err.message, "\"cmd\" must be a string");
	assert_int_equal(parse("{\"cmd\":\"\"}", &err), -EINVAL);
	assert_int_equal(parse("{\"cmd\":\"status\",\"args\":[]}", &err), -EINVAL);
	assert_string_equal(err.message, "\"args\" must be an object");
	assert_int_equal(parse("{\"cmd\":\"status\"} x", &err), -EINVAL);
	assert_int_equal(parse("", &err), -EINVAL);
	assert_int_equal(parse("null", &err), -EINVAL);
	assert_int_equal(parse("{\"cmd\":\"0123456789012345678901234567890123\"}", &err), -EINVAL);
	assert_string_equal(err.code, "bad-request");
}

static void
test_router_api_request_parse_invalid_utf8_message_sanitized(void **state)
{
	struct router_api_error err;
	json_t *s;

	(void)state;
	/* jansson's error text quotes the bytes it refused; the message must stay UTF-8. */
	assert_int_equal(parse("{\"cmd\":\"x\",\"\xc3\xa9\xa9\xff\":1}", &err), -EINVAL);
	s = json_string(err.message);
	assert_non_null(s);
	json_decref(s);
}

static void
test_router_api_request_parse_long_key_cut_on_char(void **state)
{
	char text[512];
	struct router_api_error err;
	size_t len;

	(void)state;
	/* 40 two-byte characters: the quoted key is cut before 64 bytes, never mid-char. */
	len = (size_t)snprintf(text, sizeof(text), "{\"cmd\":\"x\",\"");
	for (int i = 0; i < 40; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "\xc3\xa9");
	snprintf(text + len, sizeof(text) - len, "\":1}");
	assert_int_equal(parse(text, &err), -EINVAL);
	{
		json_t *s = json_string(err.message);

		assert_non_null(s);
		json_decref(s);
	}
}

/* Random requests from a small grammar against a model of what must be accepted. */
static void
test_router_api_request_parse_random_model(void **state)
{
	uint64_t rng = test_seed();

	(void)state;
	for (int iter = 0; iter < 5000; iter++) {
		json_t *o = json_object();
		struct router_api_error err;
		struct router_api_request req;
		bool want_ok = true, has_cmd = false;
		char *text;
		int rc;

		if (test_rand_below(&rng, 8) != 0) {
			switch (test_rand_below(&rng, 4)) {
			case 0:
				json_object_set_new(o, "cmd", json_integer(3));
				want_ok = false;
				break;
			case 1:
				json_object_set_new(o, "cmd", json_string(""));
				want_ok = false;
				break;
			default:
				json_object_set_new(o, "cmd", json_string("status"));
				break;
			}
			has_cmd = true;
		}
		switch (test_rand_below(&rng, 4)) {
		case 0:
			json_object_set_new(o, "args", json_array());
			want_ok = false;
			break;
		case 1:
			json_object_set_new(o, "args", json_pack("{si}", "limit", 5));
			break;
		default:
			break;
		}
		if (test_rand_below(&rng, 6) == 0) {
			json_object_set_new(o, "extra", json_true());
			want_ok = false;
		}
		if (!has_cmd)
			want_ok = false;
		text = json_dumps(o, test_rand_below(&rng, 2) ? JSON_COMPACT : JSON_INDENT(2));
		assert_non_null(text);
		memset(&err, 0, sizeof(err));
		rc = router_api_request_parse(text, strlen(text), &req, &err);
		if (want_ok) {
			assert_int_equal(rc, 0);
			assert_string_equal(req.cmd, "status");
			router_api_request_fini(&req);
		} else {
			assert_int_equal(rc, -EINVAL);
			assert_string_equal(err.code, "bad-request");
			assert_null(req.root);
		}
		free(text);
		json_decref(o);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_router_api_on_readable_serves_command, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(test_router_api_on_readable_no_args_gives_empty_object,
	        setup, teardown),
	    cmocka_unit_test_setup_teardown(test_router_api_on_readable_eof_ends_request, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(test_router_api_on_readable_malformed_json_bad_request,
	        setup, teardown),
	    cmocka_unit_test_setup_teardown(test_router_api_on_readable_non_object_bad_request,
	        setup, teardown),
	    cmocka_unit_test_setup_teardown(test_router_api_on_readable_missing_cmd_bad_request,
	        setup, teardown),
	    cmocka_unit_test_setup_teardown(test_router_api_on_readable_unknown_cmd, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(test_router_api_on_readable_unknown_key_named, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(test_router_api_on_readable_oversized_too_large, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(test_router_api_on_readable_largest_request_served,
	        setup, teardown),
	    cmocka_unit_test_setup_teardown(test_router_api_on_readable_trailing_data_bad_request,
	        setup, teardown),
	    cmocka_unit_test_setup_teardown(test_router_api_on_readable_handler_error_with_details,
	        setup, teardown),
	    cmocka_unit_test_setup_teardown(test_router_api_on_readable_handler_errno_internal,
	        setup, teardown),
	    cmocka_unit_test_setup_teardown(test_router_api_on_readable_big_answer_complete, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(test_router_api_on_readable_slow_client_dropped,
	        setup_fast_timeout, teardown),
	    cmocka_unit_test_setup_teardown(test_router_api_on_readable_over_cap_busy,
	        setup_one_connection, teardown),
	    cmocka_unit_test_setup_teardown(test_router_api_new_socket_mode_0660, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_router_api_new_live_server_refused, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(test_router_api_new_stale_socket_replaced, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(test_router_api_new_regular_file_refused, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(test_router_api_free_removes_socket, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_router_api_register_rejects_duplicates, setup,
	        teardown),
	    cmocka_unit_test(test_router_api_request_parse_strict),
	    cmocka_unit_test(test_router_api_request_parse_long_key_cut_on_char),
	    cmocka_unit_test(test_router_api_request_parse_invalid_utf8_message_sanitized),
	    cmocka_unit_test(test_router_api_request_parse_random_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
