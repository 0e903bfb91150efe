/*
 * Unit tests of ctl/ctl_client and ctl/ctl_main: ternctl run end to end against a fake
 * ternd (a thread serving one canned answer on a socket in a temporary directory).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl/ctl_client.h"
#include "ctl/ctl_main.h"

struct fake_server {
	char dir[64];
	char path[96];
	int fd;
	const char *answer; /* NULL: read the request, never answer, wait for the client */
	char request[4096];
	size_t request_len;
	pthread_t thread;
};

static void *
fake_server_run(void *arg)
{
	struct fake_server *s = arg;
	int c = accept(s->fd, NULL, NULL);
	ssize_t n;

	if (c < 0)
		return NULL;
	while (s->request_len < sizeof(s->request) - 1) {
		n = recv(c, s->request + s->request_len, sizeof(s->request) - 1 - s->request_len,
		    0);
		if (n <= 0)
			break;
		s->request_len += (size_t)n;
		if (memchr(s->request, '\n', s->request_len) != NULL)
			break;
	}
	s->request[s->request_len] = '\0';
	if (s->answer != NULL) {
		if (send(c, s->answer, strlen(s->answer), MSG_NOSIGNAL) < 0)
			perror("fake server send");
	} else {
		char sink[64];

		while (recv(c, sink, sizeof(sink), 0) > 0)
			;
	}
	close(c);
	return NULL;
}

static int
setup(void **state)
{
	struct fake_server *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return -1;
	snprintf(s->dir, sizeof(s->dir), "/tmp/tern-ctl-XXXXXX");
	if (mkdtemp(s->dir) == NULL)
		return -1;
	snprintf(s->path, sizeof(s->path), "%s/r.sock", s->dir);
	s->fd = -1;
	*state = s;
	return 0;
}

static int
teardown(void **state)
{
	struct fake_server *s = *state;

	if (s->fd >= 0)
		close(s->fd);
	unlink(s->path);
	rmdir(s->dir);
	free(s);
	unsetenv("TERNCTL_TIMEOUT_MS");
	return 0;
}

/* Binds the socket; listens and serves one connection when answer is set or serve. */
static void
fake_server_start(struct fake_server *s, const char *answer, bool listening)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	s->answer = answer;
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->fd >= 0);
	memcpy(sa.sun_path, s->path, strlen(s->path) + 1);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (!listening)
		return;
	assert_int_equal(listen(s->fd, 4), 0);
	assert_int_equal(pthread_create(&s->thread, NULL, fake_server_run, s), 0);
}

struct run {
	int rc;
	char *out;
	char *err;
};

/* Runs ternctl with the given arguments (a NULL-terminated list after argv[0]). */
static struct run
run_ternctl(const char *first, ...)
{
	char *argv[16] = {"ternctl"};
	struct run r = {0};
	size_t out_len, err_len;
	FILE *out = open_memstream(&r.out, &out_len);
	FILE *err = open_memstream(&r.err, &err_len);
	int argc = 1;
	va_list ap;

	va_start(ap, first);
	for (const char *a = first; a != NULL && argc < 15; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	r.rc = ctl_main_run(argc, argv, out, err);
	fclose(out);
	fclose(err);
	return r;
}

static void
run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

static void
test_ctl_main_run_json_passes_result_through(void **state)
{
	struct fake_server *s = *state;
	struct run r;

	fake_server_start(s,
	    "{\"api\":1,\"ok\":true,\"result\":{\"router\":\"r1\",\"pid\":7,\"x\":[true]}}\n",
	    true);
	r = run_ternctl("--socket", s->path, "--json", "show", "status", NULL);
	pthread_join(s->thread, NULL);
	assert_int_equal(r.rc, CTL_EXIT_OK);
	assert_string_equal(s->request, "{\"cmd\":\"status\"}\n");
	assert_string_equal(r.out,
	    "{\n  \"router\": \"r1\",\n  \"pid\": 7,\n  \"x\": [\n    "
	    "true\n  ]\n}\n");
	assert_string_equal(r.err, "");
	run_free(&r);
}

static void
test_ctl_main_run_filters_sent_as_args(void **state)
{
	struct fake_server *s = *state;
	struct run r;

	fake_server_start(s, "{\"api\":1,\"ok\":true,\"result\":{\"sessions\":[],\"total\":0}}",
	    true);
	r = run_ternctl("--socket", s->path, "show", "sessions", "tenant=blue", "limit=5", NULL);
	pthread_join(s->thread, NULL);
	assert_int_equal(r.rc, CTL_EXIT_OK);
	assert_string_equal(s->request,
	    "{\"cmd\":\"sessions\",\"args\":{\"tenant\":\"blue\",\"limit\":5}}\n");
	assert_string_equal(r.out, "no sessions\n");
	run_free(&r);
}

static void
test_ctl_main_run_human_drops(void **state)
{
	struct fake_server *s = *state;
	struct run r;

	fake_server_start(s,
	    "{\"api\":1,\"ok\":true,\"result\":{\"drops\":[{\"reason\":\"ip-truncated\","
	    "\"count\":2},{\"reason\":\"frag-timeout\",\"count\":0}]}}\n",
	    true);
	r = run_ternctl("--socket", s->path, "show", "drops", NULL);
	pthread_join(s->thread, NULL);
	assert_int_equal(r.rc, CTL_EXIT_OK);
	assert_string_equal(r.out, "REASON        COUNT\nip-truncated      2\n");
	run_free(&r);
}

static void
test_ctl_main_run_error_answer_code_and_message(void **state)
{
	struct fake_server *s = *state;
	struct run r;

	fake_server_start(s,
	    "{\"api\":1,\"ok\":false,\"error\":{\"code\":\"config-invalid\",\"message\":"
	    "\"2 errors\",\"details\":[\"peers[0].name: missing\",\"services: empty\"]}}\n",
	    true);
	r = run_ternctl("--socket", s->path, "reload", NULL);
	pthread_join(s->thread, NULL);
	assert_int_equal(r.rc, CTL_EXIT_FAILED);
	assert_string_equal(s->request, "{\"cmd\":\"reload\"}\n");
	assert_string_equal(r.out, "");
	assert_string_equal(r.err,
	    "ternctl: config-invalid: 2 errors\n"
	    "  peers[0].name: missing\n"
	    "  services: empty\n");
	run_free(&r);
}

static void
test_ctl_main_run_reload_ok(void **state)
{
	struct fake_server *s = *state;
	struct run r;

	fake_server_start(s, "{\"api\":1,\"ok\":true,\"result\":{\"generation\":2}}\n", true);
	r = run_ternctl("--socket", s->path, "reload", NULL);
	pthread_join(s->thread, NULL);
	assert_int_equal(r.rc, CTL_EXIT_OK);
	assert_string_equal(r.out, "configuration reloaded\ngeneration: 2\n");
	run_free(&r);
}

static void
test_ctl_main_run_no_socket_not_running(void **state)
{
	struct fake_server *s = *state;
	char expect[256];
	struct run r;

	r = run_ternctl("--socket", s->path, "show", "status", NULL);
	snprintf(expect, sizeof(expect), "ternctl: ternd is not running (no socket at %s)\n",
	    s->path);
	assert_int_equal(r.rc, CTL_EXIT_UNREACHABLE);
	assert_string_equal(r.err, expect);
	run_free(&r);
}

static void
test_ctl_main_run_refused_not_running(void **state)
{
	struct fake_server *s = *state;
	char expect[256];
	struct run r;

	/* A socket file with no listener, as a crashed ternd leaves it: ECONNREFUSED. */
	fake_server_start(s, NULL, false);
	r = run_ternctl("--socket", s->path, "show", "status", NULL);
	snprintf(expect, sizeof(expect), "ternctl: ternd is not running (no socket at %s)\n",
	    s->path);
	assert_int_equal(r.rc, CTL_EXIT_UNREACHABLE);
	assert_string_equal(r.err, expect);
	run_free(&r);
}

/*
 * A socket the caller may not open. Root passes every permission check, so as root the
 * check runs in a child that became nobody.
 */
static void
test_ctl_main_run_permission_denied(void **state)
{
	struct fake_server *s = *state;
	char expect[256];
	struct run r;
	pid_t pid = -1;
	int status;

	fake_server_start(s, NULL, false);
	assert_int_equal(listen(s->fd, 1), 0);
	assert_int_equal(chmod(s->path, 0), 0);
	assert_int_equal(chmod(s->dir, 0755), 0);
	if (geteuid() == 0) {
		pid = fork();
		assert_true(pid >= 0);
		if (pid > 0) {
			assert_int_equal(waitpid(pid, &status, 0), pid);
			assert_true(WIFEXITED(status));
			assert_int_equal(WEXITSTATUS(status), 0);
			return;
		}
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(2);
	}
	r = run_ternctl("--socket", s->path, "show", "status", NULL);
	snprintf(expect, sizeof(expect),
	    "ternctl: cannot open %s: permission denied; run as root or a member of the tern "
	    "group\n",
	    s->path);
	if (pid == 0)
		_exit(r.rc == CTL_EXIT_UNREACHABLE && strcmp(r.err, expect) == 0 ? 0 : 1);
	assert_int_equal(r.rc, CTL_EXIT_UNREACHABLE);
	assert_string_equal(r.err, expect);
	run_free(&r);
}

static void
test_ctl_client_call_missing_dir_enoent(void **state)
{
	json_t *answer;

	(void)state;
	assert_int_equal(ctl_client_call("/nonexistent-tern-dir/x.sock", "status", NULL, 100,
	                     &answer),
	    -ENOENT);
	assert_null(answer);
}

static void
test_ctl_main_run_silent_server_times_out(void **state)
{
	struct fake_server *s = *state;
	char expect[256];
	struct run r;

	setenv("TERNCTL_TIMEOUT_MS", "200", 1);
	fake_server_start(s, NULL, true);
	r = run_ternctl("--socket", s->path, "show", "peers", NULL);
	pthread_join(s->thread, NULL);
	snprintf(expect, sizeof(expect), "ternctl: ternd did not answer within 200 ms on %s\n",
	    s->path);
	assert_int_equal(r.rc, CTL_EXIT_UNREACHABLE);
	assert_string_equal(r.err, expect);
	run_free(&r);
}

static void
test_ctl_main_run_garbage_answer(void **state)
{
	struct fake_server *s = *state;
	struct run r;

	fake_server_start(s, "HTTP/1.0 200 OK\r\n\r\n", true);
	r = run_ternctl("--socket", s->path, "show", "status", NULL);
	pthread_join(s->thread, NULL);
	assert_int_equal(r.rc, CTL_EXIT_FAILED);
	assert_non_null(strstr(r.err, "not a ternd API answer"));
	run_free(&r);
}

static void
test_ctl_main_run_other_api_version(void **state)
{
	struct fake_server *s = *state;
	struct run r;

	fake_server_start(s, "{\"api\":2,\"ok\":true,\"result\":{}}\n", true);
	r = run_ternctl("--socket", s->path, "show", "status", NULL);
	pthread_join(s->thread, NULL);
	assert_int_equal(r.rc, CTL_EXIT_FAILED);
	assert_non_null(strstr(r.err, "another API version"));
	run_free(&r);
}

static void
test_ctl_main_run_unexpected_shape(void **state)
{
	struct fake_server *s = *state;
	struct run r;

	fake_server_start(s, "{\"api\":1,\"ok\":true,\"result\":[1]}\n", true);
	r = run_ternctl("--socket", s->path, "show", "sessions", NULL);
	pthread_join(s->thread, NULL);
	assert_int_equal(r.rc, CTL_EXIT_FAILED);
	assert_string_equal(r.err,
	    "ternctl: the sessions answer has an unexpected shape; try "
	    "--json\n");
	run_free(&r);
}

static void
test_ctl_main_run_bad_usage_exit_2(void **state)
{
	static const char *const cases[][5] = {
	    {NULL},
	    {"show", NULL},
	    {"show", "nothing", NULL},
	    {"show", "status", "x=1", NULL},
	    {"show", "sessions", "tenant", NULL},
	    {"reload", "now", NULL},
	    {"frobnicate", NULL},
	    {"--bogus", "show", "status", NULL},
	    {"--socket", "a", "--router", "b", NULL}, /* no command either; one message */
	    {"--router", "../etc", "show", "status"},
	};
	struct run r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = run_ternctl(cases[i][0], cases[i][0] ? cases[i][1] : NULL,
		    cases[i][0] && cases[i][1] ? cases[i][2] : NULL,
		    cases[i][0] && cases[i][1] && cases[i][2] ? cases[i][3] : NULL, NULL);
		assert_int_equal(r.rc, CTL_EXIT_USAGE);
		assert_non_null(strstr(r.err, "usage: ternctl"));
		assert_string_equal(r.out, "");
		run_free(&r);
	}
}

static void
test_ctl_main_run_help_and_version(void **state)
{
	struct run r;

	(void)state;
	r = run_ternctl("--help", NULL);
	assert_int_equal(r.rc, CTL_EXIT_OK);
	assert_non_null(strstr(r.out, "usage: ternctl"));
	run_free(&r);
	r = run_ternctl("--version", NULL);
	assert_int_equal(r.rc, CTL_EXIT_OK);
	assert_non_null(strstr(r.out, "ternctl "));
	run_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_ctl_main_run_json_passes_result_through, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(test_ctl_main_run_filters_sent_as_args, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(test_ctl_main_run_human_drops, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ctl_main_run_error_answer_code_and_message, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(test_ctl_main_run_reload_ok, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ctl_main_run_no_socket_not_running, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(test_ctl_main_run_refused_not_running, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ctl_main_run_permission_denied, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ctl_client_call_missing_dir_enoent, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(test_ctl_main_run_silent_server_times_out, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(test_ctl_main_run_garbage_answer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ctl_main_run_other_api_version, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ctl_main_run_unexpected_shape, setup, teardown),
	    cmocka_unit_test(test_ctl_main_run_bad_usage_exit_2),
	    cmocka_unit_test(test_ctl_main_run_help_and_version),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
