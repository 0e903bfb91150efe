/* Unit tests of ctl/ctl_show: each view given a result in the shape of docs/api.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl_main.h"
#include "ctl/ctl_show.h"

/* Runs the view of cmd on result_json; returns its text and *rc. */
static char *
show(const char *cmd, const char *result_json, bool all, int *rc)
{
	const struct ctl_show_view *view = ctl_show_find(cmd);
	struct ctl_show_options opt = {.all = all};
	json_t *result = json_loads(result_json, 0, NULL);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(view);
	assert_non_null(result);
	assert_non_null(f);
	*rc = view->format(result, &opt, f);
	fclose(f);
	json_decref(result);
	return text;
}

static void
assert_show(const char *cmd, const char *result_json, bool all, const char *golden)
{
	int rc;
	char *text = show(cmd, result_json, all, &rc);

	assert_int_equal(rc, 0);
	assert_string_equal(text, golden);
	free(text);
}

static void
test_ctl_show_status_key_values(void **state)
{
	(void)state;
	assert_show("status",
	    "{\"router\":\"site-a\",\"version\":\"0.1.0\",\"pid\":42,\"uptime_s\":3600,"
	    "\"sessions\":3,\"config_file\":null,\"workers\":[0,1]}",
	    false,
	    "router:      site-a\n"
	    "version:     0.1.0\n"
	    "pid:         42\n"
	    "uptime_s:    3600\n"
	    "sessions:    3\n"
	    "config_file: -\n"
	    "workers:     [0,1]\n");
}

static void
test_ctl_show_sessions_table(void **state)
{
	(void)state;
	assert_show("sessions",
	    "{\"total\":4,\"sessions\":["
	    "{\"id\":7,\"tenant\":\"blue\",\"service\":\"web\",\"route\":\"peer site-b\","
	    "\"proto\":\"tcp\","
	    "\"source\":\"10.0.1.5:40000\",\"destination\":\"10.0.2.10:443\","
	    "\"waypoint\":{\"source\":\"192.0.2.1:16384\",\"destination\":\"198.51.100.1:16385\"},"
	    "\"role\":\"ingress\",\"state\":\"established\",\"age_s\":125,"
	    "\"packets_out\":10,\"packets_in\":9,\"bytes_out\":1200,\"bytes_in\":64000,"
	    "\"encryption\":\"out clear (tls), in clear (tls)\"},"
	    "{\"id\":268435456,\"tenant\":\"blue\",\"service\":\"net\","
	    "\"route\":\"breakout wan0\",\"proto\":\"udp\",\"source\":\"10.0.1.5:123\","
	    "\"destination\":\"203.0.113.5:123\",\"role\":\"breakout\",\"state\":\"open\","
	    "\"age_s\":1,\"packets_out\":1,\"packets_in\":0,\"bytes_out\":76,\"bytes_in\":0,"
	    "\"encryption\":\"off (breakout)\"},"
	    "{\"id\":12,\"tenant\":\"red\",\"service\":\"dns\",\"proto\":\"udp\","
	    "\"source\":\"10.0.1.6:5353\",\"destination\":\"10.0.2.53:53\","
	    "\"role\":\"egress\",\"state\":\"open\",\"age_s\":4,"
	    "\"packets_out\":1,\"packets_in\":1,\"bytes_out\":60,\"bytes_in\":120}]}",
	    false,
	    "       ID  TENANT  SERVICE  ROUTE          PROTO  SOURCE          DESTINATION      W"
	    "AYPOINTS                            ROLE      STATE          AGE  PKTS-OUT  PKTS-IN "
	    " BYTES-OUT  BYTES-IN  ENCRYPTION\n"
	    "        7  blue    web      peer site-b    tcp    10.0.1.5:40000  10.0.2.10:443    1"
	    "92.0.2.1:16384->198.51.100.1:16385  ingress   established  2m05s        10        9 "
	    "      1200     64000  out clear (tls), in clear (tls)\n"
	    "268435456  blue    net      breakout wan0  udp    10.0.1.5:123    203.0.113.5:123  -"
	    "                                    breakout  open            1s         1        0 "
	    "        76         0  off (breakout)\n"
	    "       12  red     dns      -              udp    10.0.1.6:5353   10.0.2.53:53     -"
	    "                                    egress    open            4s         1        1 "
	    "        60       120  -\n"
	    "3 of 4 sessions shown\n");
}

static void
test_ctl_show_sessions_empty(void **state)
{
	(void)state;
	assert_show("sessions", "{\"total\":0,\"sessions\":[]}", false, "no sessions\n");
}

static void
test_ctl_show_peers_one_row_per_path(void **state)
{
	(void)state;
	assert_show("peers",
	    "{\"peers\":[{\"name\":\"site-b\",\"paths\":["
	    "{\"name\":\"wan0\",\"interface\":\"wan0\",\"local\":\"192.0.2.1\","
	    "\"remote\":\"198.51.100.1\",\"state\":\"up\",\"sessions\":3},"
	    "{\"name\":\"lte\",\"interface\":\"wan1\",\"local\":\"203.0.113.9\","
	    "\"remote\":\"198.51.100.2\",\"state\":\"down\",\"sessions\":0}],"
	    "\"security\":{\"state\":\"established\",\"key_age_s\":42,"
	    "\"last_rekey_s_ago\":-1,\"rekeys\":0}},"
	    "{\"name\":\"site-c\",\"paths\":[]}]}",
	    false,
	    "PEER    PATH  INTERFACE  LOCAL        REMOTE        STATE  SESSIONS  KEYS         "
	    "KEY-AGE-S  REKEYED-S-AGO  REKEYS\n"
	    "site-b  wan0  wan0       192.0.2.1    198.51.100.1  up            3  established  "
	    "       42              -       0\n"
	    "site-b  lte   wan1       203.0.113.9  198.51.100.2  down          0  established  "
	    "       42              -       0\n"
	    "site-c  -     -          -            -             -             -  -            "
	    "        -              -       -\n");
}

static const char drops_json[] = "{\"drops\":[{\"reason\":\"ip-truncated\",\"count\":0},"
                                 "{\"reason\":\"meta-bad-version\",\"count\":12},"
                                 "{\"reason\":\"session-table-full\",\"count\":3}]}";

static void
test_ctl_show_drops_nonzero_by_default(void **state)
{
	(void)state;
	assert_show("drops", drops_json, false,
	    "REASON              COUNT\n"
	    "meta-bad-version       12\n"
	    "session-table-full      3\n");
}

static void
test_ctl_show_drops_all(void **state)
{
	(void)state;
	assert_show("drops", drops_json, true,
	    "REASON              COUNT\n"
	    "ip-truncated            0\n"
	    "meta-bad-version       12\n"
	    "session-table-full      3\n");
}

static void
test_ctl_show_drops_none(void **state)
{
	(void)state;
	assert_show("drops", "{\"drops\":[{\"reason\":\"ip-truncated\",\"count\":0}]}", false,
	    "no drops\n");
}

static void
test_ctl_show_interfaces_table(void **state)
{
	(void)state;
	assert_show("interfaces",
	    "{\"interfaces\":[{\"name\":\"lan0\",\"kind\":\"lan\",\"device\":\"tern-lan0\","
	    "\"address\":\"10.0.1.1/24\",\"state\":\"up\",\"rx_packets\":100,\"rx_bytes\":"
	    "150000,\"tx_packets\":90,\"tx_bytes\":8000,\"drops\":0},"
	    "{\"name\":\"wan0\",\"kind\":\"wan\",\"device\":\"eth1\",\"address\":\"192.0.2.1\","
	    "\"state\":\"up\",\"rx_packets\":91,\"rx_bytes\":9000,\"tx_packets\":101,"
	    "\"tx_bytes\":151000,\"drops\":2}]}",
	    false,
	    "NAME  KIND  DEVICE     ADDRESS      STATE  RX-PKTS  RX-BYTES  TX-PKTS  TX-BYTES  DROPS\n"
	    "lan0  lan   tern-lan0  10.0.1.1/24  up         100    150000       90      8000      0\n"
	    "wan0  wan   eth1       192.0.2.1    up          91      9000      101    151000      2\n");
}

static void
test_ctl_show_config_pretty(void **state)
{
	(void)state;
	assert_show("config", "{\"router\":{\"name\":\"a\"},\"peers\":[]}", false,
	    "{\n  \"router\": {\n    \"name\": \"a\"\n  },\n  \"peers\": []\n}\n");
}

static void
test_ctl_show_reload_generation(void **state)
{
	(void)state;
	assert_show("reload", "{\"generation\":4}", false,
	    "configuration reloaded\ngeneration: 4\n");
}

static void
test_ctl_show_wrong_shape_ebadmsg(void **state)
{
	static const char *const cmds[] = {"sessions", "peers", "drops", "interfaces", "status",
	    "config"};
	int rc;

	(void)state;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char *text = show(cmds[i], "[1,2]", false, &rc);

		assert_int_equal(rc, -EBADMSG);
		assert_string_equal(text, "");
		free(text);
	}
	free(show("sessions", "{\"sessions\":[1]}", false, &rc));
	assert_int_equal(rc, -EBADMSG);
}

static void
test_ctl_show_duration_units(void **state)
{
	char buf[16];

	(void)state;
	ctl_show_duration(0, buf, sizeof(buf));
	assert_string_equal(buf, "0s");
	ctl_show_duration(3599, buf, sizeof(buf));
	assert_string_equal(buf, "59m59s");
	ctl_show_duration(3 * 3600 + 4 * 60, buf, sizeof(buf));
	assert_string_equal(buf, "3h04m");
	ctl_show_duration(2 * 86400 + 3 * 3600 + 5, buf, sizeof(buf));
	assert_string_equal(buf, "2d03h");
	ctl_show_duration(-1, buf, sizeof(buf));
	assert_string_equal(buf, "-");
}

static void
test_ctl_show_policy_test_key_values(void **state)
{
	int rc;
	char *text;

	(void)state;
	assert_show("policy_test",
	    "{\"segment\":\"corp\",\"tenant\":\"corp\",\"service\":\"b-web\",\"verdict\":\"allow\","
	    "\"allowed\":true,\"rule\":\"corp-web\",\"route\":\"peer site-b\",\"path\":\"wan0\"}",
	    false,
	    "segment: corp\n"
	    "tenant:  corp\n"
	    "service: b-web\n"
	    "verdict: allow\n"
	    "allowed: true\n"
	    "rule:    corp-web\n"
	    "route:   peer site-b\n"
	    "path:    wan0\n");
	text = show("policy_test", "{\"tenant\":\"corp\"}", false, &rc);
	assert_int_equal(rc, -EBADMSG);
	free(text);
}

/* ternctl's exit status and first error line for argv (no ternd is asked: usage errors). */
static int
ctl_run(const char *const *args, char *first_line, size_t size)
{
	char *argv[24];
	int argc = 0, rc;
	char *text = NULL;
	size_t len = 0;
	FILE *err = open_memstream(&text, &len), *out = fopen("/dev/null", "w");

	for (; args[argc] != NULL; argc++)
		argv[argc] = (char *)args[argc];
	argv[argc] = NULL;
	rc = ctl_main_run(argc, argv, out, err);
	fclose(err);
	fclose(out);
	snprintf(first_line, size, "%.*s", (int)strcspn(text, "\n"), text);
	free(text);
	return rc;
}

static void
test_ctl_policy_test_usage_errors(void **state)
{
	static const char *const no_dst[] = {"ternctl", "policy", "test", "--src", "10.1.0.10",
	    "--proto", "tcp", "--port", "80", NULL};
	static const char *const bad_addr[] = {"ternctl", "policy", "test", "--src", "10.1.0.300",
	    "--dst", "10.2.0.10", "--proto", "udp", "--port", "53", NULL};
	static const char *const bad_proto[] = {"ternctl", "policy", "test", "--src", "10.1.0.10",
	    "--dst", "10.2.0.10", "--proto", "gre0", NULL};
	static const char *const no_port[] = {"ternctl", "policy", "test", "--src", "10.1.0.10",
	    "--dst", "10.2.0.10", "--proto", "tcp", NULL};
	static const char *const bad_port[] = {"ternctl", "policy", "test", "--src", "10.1.0.10",
	    "--dst", "10.2.0.10", "--proto", "tcp", "--port", "65536", NULL};
	static const char *const twice[] = {"ternctl", "--tenant", "a", "--tenant", "b", "policy",
	    "test", NULL};
	static const char *const elsewhere[] = {"ternctl", "--tenant", "a", "show", "status", NULL};
	static const char *const extra[] = {"ternctl", "policy", "test", "now", NULL};
	char line[256];

	(void)state;
	assert_int_equal(ctl_run(no_dst, line, sizeof(line)), CTL_EXIT_USAGE);
	assert_string_equal(line, "ternctl: policy test needs --src, --dst and --proto");
	assert_int_equal(ctl_run(bad_addr, line, sizeof(line)), CTL_EXIT_USAGE);
	assert_string_equal(line, "ternctl: not an IPv4 or IPv6 address: 10.1.0.300");
	assert_int_equal(ctl_run(bad_proto, line, sizeof(line)), CTL_EXIT_USAGE);
	assert_string_equal(line,
	    "ternctl: --proto: expected tcp, udp, icmp, icmpv6, sctp or 0-255: gre0");
	assert_int_equal(ctl_run(no_port, line, sizeof(line)), CTL_EXIT_USAGE);
	assert_string_equal(line, "ternctl: --port is needed with tcp, udp and sctp");
	assert_int_equal(ctl_run(bad_port, line, sizeof(line)), CTL_EXIT_USAGE);
	assert_string_equal(line, "ternctl: --port: expected 0-65535: 65536");
	assert_int_equal(ctl_run(twice, line, sizeof(line)), CTL_EXIT_USAGE);
	assert_string_equal(line, "ternctl: option given twice");
	assert_int_equal(ctl_run(elsewhere, line, sizeof(line)), CTL_EXIT_USAGE);
	assert_string_equal(line, "ternctl: --tenant, --src, ... are options of policy test");
	assert_int_equal(ctl_run(extra, line, sizeof(line)), CTL_EXIT_USAGE);
	assert_string_equal(line, "ternctl: policy test takes options only: now");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ctl_show_status_key_values),
	    cmocka_unit_test(test_ctl_show_sessions_table),
	    cmocka_unit_test(test_ctl_show_sessions_empty),
	    cmocka_unit_test(test_ctl_show_peers_one_row_per_path),
	    cmocka_unit_test(test_ctl_show_drops_nonzero_by_default),
	    cmocka_unit_test(test_ctl_show_drops_all),
	    cmocka_unit_test(test_ctl_show_drops_none),
	    cmocka_unit_test(test_ctl_show_interfaces_table),
	    cmocka_unit_test(test_ctl_show_config_pretty),
	    cmocka_unit_test(test_ctl_show_reload_generation),
	    cmocka_unit_test(test_ctl_show_wrong_shape_ebadmsg),
	    cmocka_unit_test(test_ctl_show_duration_units),
	    cmocka_unit_test(test_ctl_show_policy_test_key_values),
	    cmocka_unit_test(test_ctl_policy_test_usage_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
