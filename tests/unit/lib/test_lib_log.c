/* Unit tests of lib/log: levels, the errno helpers, truncation, rate limiting, stderr. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"

struct capture {
	unsigned lines;
	enum log_level level;
	char msg[LOG_LINE_MAX];
};

static struct capture cap;

static void
capture_sink(enum log_level level, const char *msg, void *arg)
{
	struct capture *c = arg;

	c->lines++;
	c->level = level;
	snprintf(c->msg, sizeof(c->msg), "%s", msg);
}

static int
setup(void **state)
{
	(void)state;
	memset(&cap, 0, sizeof(cap));
	log_set_level(LOG_LEVEL_INFO);
	log_set_sink(capture_sink, &cap);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	log_set_sink(NULL, NULL);
	log_set_level(LOG_LEVEL_INFO);
	return 0;
}

static void
test_log_msg_reaches_sink_with_level(void **state)
{
	(void)state;
	log_warning("peer %s: %d paths", "east", 3);
	assert_int_equal(cap.lines, 1);
	assert_int_equal(cap.level, LOG_LEVEL_WARNING);
	assert_string_equal(cap.msg, "peer east: 3 paths");
}

static void
test_log_msg_below_level_dropped(void **state)
{
	(void)state;
	log_debug("hidden");
	assert_int_equal(cap.lines, 0);
	assert_false(log_is_enabled(LOG_LEVEL_DEBUG));
	assert_true(log_is_enabled(LOG_LEVEL_INFO));

	log_set_level(LOG_LEVEL_DEBUG);
	assert_int_equal(log_get_level(), LOG_LEVEL_DEBUG);
	log_debug("shown");
	assert_int_equal(cap.lines, 1);
	assert_string_equal(cap.msg, "shown");

	log_set_level(LOG_LEVEL_ERROR);
	log_warning("hidden");
	log_info("hidden");
	assert_int_equal(cap.lines, 1);
	log_error("kept");
	assert_int_equal(cap.lines, 2);
	assert_int_equal(cap.level, LOG_LEVEL_ERROR);
}

static void
test_log_errno_appends_strerror_and_returns_err(void **state)
{
	int rc;

	(void)state;
	rc = log_error_errno(-ENOENT, "config %s", "/etc/tern.conf");
	assert_int_equal(rc, -ENOENT);
	assert_int_equal(cap.lines, 1);
	assert_int_equal(cap.level, LOG_LEVEL_ERROR);
	assert_string_equal(cap.msg, "config /etc/tern.conf: No such file or directory");

	/* A positive errno is described the same and still returned as given. */
	assert_int_equal(log_warning_errno(EACCES, "x"), EACCES);
	assert_string_equal(cap.msg, "x: Permission denied");
	assert_int_equal(cap.level, LOG_LEVEL_WARNING);
}

static void
test_log_errno_disabled_level_still_returns_err(void **state)
{
	(void)state;
	assert_int_equal(log_debug_errno(-EIO, "hidden"), -EIO);
	assert_int_equal(cap.lines, 0);
}

static void
test_log_errno_unknown_code_described(void **state)
{
	(void)state;
	assert_int_equal(log_info_errno(-123456, "odd"), -123456);
	assert_int_equal(cap.lines, 1);
	assert_string_equal(cap.msg, "odd: Unknown error 123456");
	assert_int_equal(log_info_errno(INT_MIN, "min"), INT_MIN);
	assert_int_equal(cap.lines, 2);
}

static void
test_log_msg_preserves_errno(void **state)
{
	(void)state;
	errno = EAGAIN;
	log_info("a");
	assert_int_equal(errno, EAGAIN);
	log_error_errno(-EINVAL, "b");
	assert_int_equal(errno, EAGAIN);
	log_debug("c");
	assert_int_equal(errno, EAGAIN);
	log_ratelimited(LOG_LEVEL_INFO, 1, "d");
	assert_int_equal(errno, EAGAIN);
}

static void
test_log_msg_long_line_cut_with_ellipsis(void **state)
{
	static char big[3 * LOG_LINE_MAX];

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_info("%s", big);
	assert_int_equal(strlen(cap.msg), LOG_LINE_MAX - 1);
	assert_string_equal(cap.msg + LOG_LINE_MAX - 4, "...");
	assert_int_equal(cap.msg[LOG_LINE_MAX - 5], 'a');

	/* Exactly fitting: not cut. */
	big[LOG_LINE_MAX - 1] = '\0';
	log_info("%s", big);
	assert_int_equal(strlen(cap.msg), LOG_LINE_MAX - 1);
	assert_int_equal(cap.msg[LOG_LINE_MAX - 2], 'a');

	/* The errno suffix pushes a fitting message over: cut too. */
	log_error_errno(-EIO, "%s", big);
	assert_int_equal(strlen(cap.msg), LOG_LINE_MAX - 1);
	assert_string_equal(cap.msg + LOG_LINE_MAX - 4, "...");
}

static void
test_log_msg_control_chars_replaced(void **state)
{
	(void)state;
	log_warning("name \"%s\"", "evil\nFAKE error: x\r\t\x7f\x1b[0m");
	assert_string_equal(cap.msg, "name \"evil?FAKE error: x????[0m\"");
	assert_int_equal(cap.lines, 1);
}

static void
test_log_level_parse_names(void **state)
{
	enum log_level l;

	(void)state;
	assert_int_equal(log_level_parse("error", &l), 0);
	assert_int_equal(l, LOG_LEVEL_ERROR);
	assert_int_equal(log_level_parse("warning", &l), 0);
	assert_int_equal(l, LOG_LEVEL_WARNING);
	assert_int_equal(log_level_parse("info", &l), 0);
	assert_int_equal(l, LOG_LEVEL_INFO);
	assert_int_equal(log_level_parse("debug", &l), 0);
	assert_int_equal(l, LOG_LEVEL_DEBUG);
	assert_int_equal(log_level_parse("Debug", &l), -EINVAL);
	assert_int_equal(log_level_parse("", &l), -EINVAL);
	assert_int_equal(log_level_parse(NULL, &l), -EINVAL);
	assert_string_equal(log_level_name(LOG_LEVEL_WARNING), "warning");
	assert_string_equal(log_level_name((enum log_level)7), "?");
}

static void
test_log_ratelimit_allow_window(void **state)
{
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(3);
	uint64_t sup = 99, t0 = 5000000000ull;

	(void)state;
	for (int i = 0; i < 3; i++) {
		assert_true(log_ratelimit_allow(&rl, t0 + (uint64_t)i, &sup));
		assert_int_equal(sup, 0);
	}
	for (int i = 0; i < 10; i++)
		assert_false(log_ratelimit_allow(&rl, t0 + 999999999ull, &sup));
	/* A new window one interval after the first line: the count of refusals comes out. */
	assert_true(log_ratelimit_allow(&rl, t0 + 1000000000ull, &sup));
	assert_int_equal(sup, 10);
	assert_true(log_ratelimit_allow(&rl, t0 + 1000000001ull, &sup));
	assert_int_equal(sup, 0);
	/* A clock that goes backwards starts a new window rather than silencing forever. */
	assert_true(log_ratelimit_allow(&rl, 1, &sup));
}

static void
test_log_ratelimit_allow_zero_burst_never(void **state)
{
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(0);
	uint64_t sup;

	(void)state;
	assert_false(log_ratelimit_allow(&rl, 0, &sup));
	assert_false(log_ratelimit_allow(&rl, 10000000000ull, &sup));
	assert_int_equal(rl.suppressed, 2);
}

static void
test_log_ratelimited_call_site_limits_burst(void **state)
{
	(void)state;
	for (int i = 0; i < 100; i++)
		log_ratelimited(LOG_LEVEL_WARNING, 5, "bad probe %d", i);
	/* 100 calls well inside one second; a slow sanitizer run could span two windows. */
	assert_in_range(cap.lines, 5, 10);
	assert_int_equal(cap.level, LOG_LEVEL_WARNING);
}

static void
test_log_msg_ratelimited_reports_suppressed(void **state)
{
	struct log_ratelimit rl = {.interval_ns = 20000000ull, .burst = 1};
	struct timespec pause = {.tv_sec = 0, .tv_nsec = 30000000};

	(void)state;
	log_msg_ratelimited(&rl, LOG_LEVEL_INFO, "first");
	assert_string_equal(cap.msg, "first");
	log_msg_ratelimited(&rl, LOG_LEVEL_INFO, "second");
	log_msg_ratelimited(&rl, LOG_LEVEL_INFO, "third");
	assert_int_equal(cap.lines, 1);
	nanosleep(&pause, NULL);
	log_msg_ratelimited(&rl, LOG_LEVEL_INFO, "fourth %d", 4);
	assert_int_equal(cap.lines, 2);
	assert_string_equal(cap.msg, "fourth 4 (2 similar messages suppressed)");

	/* Disabled levels neither print nor use up the budget. */
	nanosleep(&pause, NULL);
	log_msg_ratelimited(&rl, LOG_LEVEL_DEBUG, "hidden");
	log_msg_ratelimited(&rl, LOG_LEVEL_INFO, "fifth");
	assert_int_equal(cap.lines, 3);
	assert_string_equal(cap.msg, "fifth");
}

/* The default sink: one "<UTC time> <level>: <msg>" line on stderr. */
static void
test_log_stderr_line_format(void **state)
{
	char text[512] = {0};
	regex_t re;
	FILE *tmp;
	int saved;
	size_t n;

	(void)state;
	log_set_sink(NULL, NULL);
	tmp = tmpfile();
	assert_non_null(tmp);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
	log_warning("path %u down", 7u);
	log_error_errno(-ETIMEDOUT, "peer west");
	log_debug("hidden");
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	rewind(tmp);
	n = fread(text, 1, sizeof(text) - 1, tmp);
	fclose(tmp);
	text[n] = '\0';

	assert_int_equal(regcomp(&re,
	                     "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
	                     "warning: path 7 down\n"
	                     "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
	                     "error: peer west: Connection timed out\n$",
	                     REG_EXTENDED),
	    0);
	if (regexec(&re, text, 0, NULL, 0) != 0)
		fail_msg("unexpected stderr output: [%s]", text);
	regfree(&re);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_log_msg_reaches_sink_with_level, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_log_msg_below_level_dropped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_log_errno_appends_strerror_and_returns_err, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(test_log_errno_disabled_level_still_returns_err, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(test_log_errno_unknown_code_described, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_log_msg_preserves_errno, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_log_msg_long_line_cut_with_ellipsis, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(test_log_msg_control_chars_replaced, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_log_level_parse_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_log_ratelimit_allow_window, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_log_ratelimit_allow_zero_burst_never, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(test_log_ratelimited_call_site_limits_burst, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(test_log_msg_ratelimited_reports_suppressed, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(test_log_stderr_line_format, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
