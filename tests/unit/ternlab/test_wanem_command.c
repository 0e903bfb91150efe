/* Unit tests of the ternlab-wanem command language: parse, errors and format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "test_rand.h"
#include "wanem_command.h"

static int
parse_on_dirs(const struct wanem_params base[WANEM_DIR_COUNT], const char *text,
    struct wanem_command *cmd, char *err)
{
	return wanem_command_parse(text, strlen(text), base, cmd, err, WANEM_COMMAND_ERROR_MAX);
}

/* Parses on base in both directions; a line without scopes must change both alike. */
static int
parse_on(const struct wanem_params *base, const char *text, struct wanem_command *cmd, char *err)
{
	const struct wanem_params both[WANEM_DIR_COUNT] = {*base, *base};
	int rc = parse_on_dirs(both, text, cmd, err);

	if (rc == 0 && strstr(text, "-to-") == NULL)
		assert_true(wanem_params_equal(&cmd->params[0], &cmd->params[1]));
	return rc;
}

static int
parse(const char *text, struct wanem_command *cmd, char *err)
{
	struct wanem_params perfect;

	wanem_params_init(&perfect);
	return parse_on(&perfect, text, cmd, err);
}

static void
test_wanem_command_parse_full_example(void **state)
{
	struct wanem_command cmd;
	char err[WANEM_COMMAND_ERROR_MAX];

	(void)state;
	assert_int_equal(parse("delay=40ms jitter=5ms loss=2% burst-loss=p:1%,r:30% rate=20mbit "
	                       "queue=1000",
	                     &cmd, err),
	    0);
	assert_int_equal(cmd.kind, WANEM_COMMAND_SET);
	assert_int_equal(cmd.params[0].delay_ns, 40000000);
	assert_int_equal(cmd.params[0].jitter_ns, 5000000);
	assert_int_equal(cmd.params[0].jitter_dist, WANEM_JITTER_UNIFORM);
	assert_int_equal(cmd.params[0].loss_ppm, 20000);
	assert_int_equal(cmd.params[0].burst_p_ppm, 10000);
	assert_int_equal(cmd.params[0].burst_r_ppm, 300000);
	assert_int_equal(cmd.params[0].burst_h_ppm, WANEM_PPM_ONE);
	assert_int_equal(cmd.params[0].rate_bps, 20000000);
	assert_int_equal(cmd.params[0].queue_packets, 1000);
	assert_false(cmd.params[0].outage);
}

static void
test_wanem_command_parse_units_and_decimals(void **state)
{
	struct wanem_command cmd;
	char err[WANEM_COMMAND_ERROR_MAX];

	(void)state;
	assert_int_equal(parse("delay=1.5ms jitter=250us", &cmd, err), 0);
	assert_int_equal(cmd.params[0].delay_ns, 1500000);
	assert_int_equal(cmd.params[0].jitter_ns, 250000);
	assert_int_equal(parse("delay=2s jitter=0 loss=0.0001% rate=1.5GBit", &cmd, err), 0);
	assert_int_equal(cmd.params[0].delay_ns, 2000000000ull);
	assert_int_equal(cmd.params[0].jitter_ns, 0);
	assert_int_equal(cmd.params[0].loss_ppm, 1);
	assert_int_equal(cmd.params[0].rate_bps, 1500000000ull);
	assert_int_equal(parse("rate=64kbit rate-burst=32kb queue=2mb", &cmd, err), 0);
	assert_int_equal(cmd.params[0].rate_bps, 64000);
	assert_int_equal(cmd.params[0].rate_burst_bytes, 32768);
	assert_int_equal(cmd.params[0].queue_bytes, 2 * 1024 * 1024);
	assert_int_equal(cmd.params[0].queue_packets, 0);
	assert_int_equal(parse("burst-loss=p:0.5%,r:25%,h:80% jitter-dist=normal", &cmd, err), 0);
	assert_int_equal(cmd.params[0].burst_p_ppm, 5000);
	assert_int_equal(cmd.params[0].burst_r_ppm, 250000);
	assert_int_equal(cmd.params[0].burst_h_ppm, 800000);
	assert_int_equal(cmd.params[0].jitter_dist, WANEM_JITTER_NORMAL);
	assert_int_equal(parse("\tloss=100%\r\n", &cmd, err), 0);
	assert_int_equal(cmd.params[0].loss_ppm, WANEM_PPM_ONE);
}

static void
test_wanem_command_parse_changes_only_named(void **state)
{
	struct wanem_params base;
	struct wanem_command cmd;
	char err[WANEM_COMMAND_ERROR_MAX];

	(void)state;
	wanem_params_init(&base);
	base.delay_ns = 40000000;
	base.rate_bps = 1000000;
	assert_int_equal(parse_on(&base, "loss=5%", &cmd, err), 0);
	assert_int_equal(cmd.params[0].delay_ns, 40000000);
	assert_int_equal(cmd.params[0].rate_bps, 1000000);
	assert_int_equal(cmd.params[0].loss_ppm, 50000);

	assert_int_equal(parse_on(&base, "drop-syn-data", &cmd, err), 0);
	assert_true(cmd.params[0].drop_syn_data);
	assert_true(cmd.params[1].drop_syn_data);
	assert_int_equal(parse_on(&base, "b-to-a: drop-syn-data=on", &cmd, err), 0);
	assert_false(cmd.params[0].drop_syn_data);
	assert_true(cmd.params[1].drop_syn_data);
	assert_int_equal(parse_on(&base, "drop-syn-data=off", &cmd, err), 0);
	assert_false(cmd.params[0].drop_syn_data);

	assert_int_equal(parse_on(&base, "outage", &cmd, err), 0);
	assert_true(cmd.params[0].outage);
	assert_int_equal(cmd.params[0].delay_ns, 40000000);
	base.outage = true;
	assert_int_equal(parse_on(&base, "outage=off", &cmd, err), 0);
	assert_false(cmd.params[0].outage);

	assert_int_equal(parse_on(&base, "clear", &cmd, err), 0);
	struct wanem_params perfect;

	wanem_params_init(&perfect);
	assert_true(wanem_params_equal(&cmd.params[0], &perfect));
	assert_int_equal(parse_on(&base, "clear delay=10ms", &cmd, err), 0);
	assert_int_equal(cmd.params[0].delay_ns, 10000000);
	assert_int_equal(cmd.params[0].rate_bps, 0);
	assert_false(cmd.params[0].outage);

	assert_int_equal(parse_on(&base, "rate=off burst-loss=off", &cmd, err), 0);
	assert_int_equal(cmd.params[0].rate_bps, 0);
	assert_int_equal(cmd.params[0].burst_p_ppm, 0);
}

static void
test_wanem_command_parse_show(void **state)
{
	struct wanem_params base;
	struct wanem_command cmd;
	char err[WANEM_COMMAND_ERROR_MAX];

	(void)state;
	wanem_params_init(&base);
	base.loss_ppm = 7;
	assert_int_equal(parse_on(&base, " show\n", &cmd, err), 0);
	assert_int_equal(cmd.kind, WANEM_COMMAND_SHOW);
	assert_int_equal(cmd.params[0].loss_ppm, 7);
}

static void
test_wanem_command_parse_errors_name_the_word(void **state)
{
	static const struct {
		const char *in;
		const char *msg;
	} cases[] = {
	    {"", "empty command"},
	    {"  \n", "empty command"},
	    {"delay=40xs", "delay=40xs: unknown time unit \"xs\" (use ns, us, ms or s)"},
	    {"delay=40", "delay=40: missing time unit (use ns, us, ms or s)"},
	    {"delay=", "delay=: missing value"},
	    {"delay=ms", "delay=ms: expected a number"},
	    {"delay=-5ms", "delay=-5ms: expected a number"},
	    {"delay=61s", "delay=61s: too large"},
	    {"delay=1.5ns", "delay=1.5ns: too many decimals"},
	    {"delay=1.ms", "delay=1.ms: expected a number"},
	    {"delay=1234567890123456789ms", "delay=1234567890123456789ms: expected a number"},
	    {"loss=2", "loss=2: expected a percentage such as 2% or 0.5%"},
	    {"loss=101%", "loss=101%: more than 100%"},
	    {"loss=0.00001%", "loss=0.00001%: at most 4 decimals"},
	    {"loss=abc", "loss=abc: expected a percentage"},
	    {"rate=20mbps",
	        "rate=20mbps: unknown rate unit \"mbps\" (use bit, kbit, mbit or gbit)"},
	    {"rate=401gbit", "rate=401gbit: too large"},
	    {"queue=1.5", "queue=1.5: packets: expected a whole number up to 4194304"},
	    {"queue=10kbit", "queue=10kbit: unknown size unit \"kbit\" (use b, kb or mb)"},
	    {"burst-loss=p:1%", "burst-loss=p:1%: needs both p and r"},
	    {"burst-loss=p:1%,r:0%", "burst-loss=p:1%,r:0%: r:0 would never leave the bad state"},
	    {"burst-loss=p:1%,r:3%,", "burst-loss=p:1%,r:3%,: trailing comma"},
	    {"burst-loss=p:1%,p:3%", "burst-loss=p:1%,p:3%: 'p' given twice"},
	    {"burst-loss=x:1%", "burst-loss=x:1%: unknown parameter 'x' (use p, r or h)"},
	    {"burst-loss=p1%", "burst-loss=p1%: expected p:P,r:P[,h:P]"},
	    {"burst-loss=p:1,r:3%",
	        "burst-loss=p:1,r:3%: expected a percentage such as 2% or 0.5%"},
	    {"outage=maybe", "outage=maybe: expected on or off"},
	    {"drop-syn-data=yes", "drop-syn-data=yes: expected on or off"},
	    {"jitter-dist=pareto", "jitter-dist=pareto: expected uniform or normal"},
	    {"clear=1", "clear=1: takes no value"},
	    {"bogus", "bogus: unknown word (use key=value, outage, drop-syn-data, clear or show)"},
	    {"delay=1ms foo=1",
	        "foo=1: unknown key (use delay, jitter, jitter-dist, loss, "
	        "burst-loss, rate, rate-burst, queue, outage or drop-syn-data)"},
	    {"show delay=1ms", "show: takes no other words"},
	    {"a-to-c: loss=1%", "a-to-c: unknown scope (use a-to-b:, b-to-a: or both:)"},
	    {"A-to-B: loss=1%", "A-to-B: unknown scope (use a-to-b:, b-to-a: or both:)"},
	    {"loss=1% outage:", "outage: unknown scope (use a-to-b:, b-to-a: or both:)"},
	    {"a-to-b:loss=1%", "a-to-b:loss=1%: put a space after the scope \"a-to-b:\""},
	    {"b-to-a:outage", "b-to-a:outage: put a space after the scope \"b-to-a:\""},
	    {"a-to-b:", "a-to-b: no words after the scope"},
	    {"loss=1% b-to-a:", "b-to-a: no words after the scope"},
	    {"a-to-b: b-to-a: loss=1%", "a-to-b: no words after the scope"},
	    {"both:", "both: no words after the scope"},
	    {"a-to-b: show", "show: takes no other words"},
	    {"b-to-a: delay=1ms a-to-b: loss=101%", "loss=101%: more than 100%"},
	};
	struct wanem_command cmd;
	char err[WANEM_COMMAND_ERROR_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(err, 'x', sizeof(err));
		assert_int_equal(parse(cases[i].in, &cmd, err), -EINVAL);
		if (strcmp(err, cases[i].msg) != 0)
			fail_msg("input \"%s\": got \"%s\", want \"%s\"", cases[i].in, err,
			    cases[i].msg);
	}
}

static void
test_wanem_command_parse_long_word_cut_in_error(void **state)
{
	char text[400], err[WANEM_COMMAND_ERROR_MAX];
	struct wanem_command cmd;
	struct wanem_params base[WANEM_DIR_COUNT];

	(void)state;
	memset(text, 'a', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	text[5] = '\x01';
	assert_int_equal(parse(text, &cmd, err), -EINVAL);
	assert_true(strlen(err) < 140);
	assert_non_null(strstr(err, "aaaa?aaa"));
	assert_non_null(strstr(err, "...: unknown word"));
	/* A NUL inside the length is an error, not the end of the text. */
	wanem_params_init(&base[0]);
	wanem_params_init(&base[1]);
	assert_int_equal(wanem_command_parse("loss=1%\0x", 9, base, &cmd, err, sizeof(err)),
	    -EINVAL);
	/* A tiny error buffer still gets a terminated, cut message. */
	assert_int_equal(wanem_command_parse("bogus", 5, base, &cmd, err, 4), -EINVAL);
	assert_string_equal(err, "bog");
}

static void
test_wanem_params_format_canonical(void **state)
{
	struct wanem_command cmd;
	char err[WANEM_COMMAND_ERROR_MAX], text[WANEM_COMMAND_TEXT_MAX];
	struct wanem_params p;

	(void)state;
	wanem_params_init(&p);
	assert_int_equal(wanem_params_format(&p, text, sizeof(text)), 5);
	assert_string_equal(text, "clear");
	assert_int_equal(parse("queue=1000 rate=20000kbit loss=2.50% burst-loss=p:1%,r:30%,h:50% "
	                       "delay=40000us jitter=1500us outage queue=1500b",
	                     &cmd, err),
	    0);
	assert_true(wanem_params_format(&cmd.params[0], text, sizeof(text)) > 0);
	assert_string_equal(text,
	    "delay=40ms jitter=1500us loss=2.5% burst-loss=p:1%,r:30%,h:50% "
	    "rate=20mbit queue=1000 queue=1500b outage");
	assert_int_equal(wanem_params_format(&cmd.params[0], text, 10), -ENOBUFS);
	assert_true(strlen(text) < 10);
}

/* Random parameters within the parser's ranges, perfect about one time in four. */
static void
random_params(uint64_t *rng, struct wanem_params *p)
{
	static const uint64_t scales[] = {1, 1000, 1000000, 1000000000};

	wanem_params_init(p);
	if (test_rand_below(rng, 4) == 0)
		return;
	if (test_rand_below(rng, 2))
		p->delay_ns = test_rand_below(rng, 60001) * scales[test_rand_below(rng, 3)];
	if (test_rand_below(rng, 2))
		p->jitter_ns = test_rand_below(rng, WANEM_DELAY_MAX_NS + 1);
	p->jitter_dist = (enum wanem_jitter_dist)test_rand_below(rng, 2);
	if (test_rand_below(rng, 2))
		p->loss_ppm = (uint32_t)test_rand_below(rng, WANEM_PPM_ONE + 1);
	if (test_rand_below(rng, 2)) {
		p->burst_p_ppm = 1 + (uint32_t)test_rand_below(rng, WANEM_PPM_ONE);
		p->burst_r_ppm = 1 + (uint32_t)test_rand_below(rng, WANEM_PPM_ONE);
		p->burst_h_ppm = (uint32_t)test_rand_below(rng, WANEM_PPM_ONE + 1);
	}
	if (test_rand_below(rng, 2))
		p->rate_bps = test_rand_below(rng, WANEM_RATE_MAX_BPS + 1);
	if (test_rand_below(rng, 2))
		p->rate_burst_bytes = (uint32_t)test_rand_below(rng, WANEM_RATE_BURST_MAX + 1);
	if (test_rand_below(rng, 2))
		p->queue_packets = (uint32_t)test_rand_below(rng, WANEM_CAPACITY_MAX + 1);
	if (test_rand_below(rng, 2))
		p->queue_bytes = test_rand_below(rng, WANEM_QUEUE_BYTES_MAX + 1);
	p->outage = test_rand_below(rng, 2);
	p->drop_syn_data = test_rand_below(rng, 2);
}

static void
test_wanem_params_format_roundtrip_random(void **state)
{
	uint64_t rng = test_seed();

	(void)state;
	for (int i = 0; i < 20000; i++) {
		struct wanem_params p, perfect;
		struct wanem_command cmd;
		char text[WANEM_COMMAND_TEXT_MAX], err[WANEM_COMMAND_ERROR_MAX];
		int n;

		random_params(&rng, &p);
		wanem_params_init(&perfect);
		assert_int_equal(wanem_params_check(&p, 0), 0);
		n = wanem_params_format(&p, text, sizeof(text));
		assert_true(n > 0);
		assert_int_equal((size_t)n, strlen(text));
		if (parse_on(&perfect, text, &cmd, err) != 0)
			fail_msg("\"%s\" does not parse: %s", text, err);
		if (!wanem_params_equal(&cmd.params[0], &p))
			fail_msg("\"%s\" parses to other parameters", text);
	}
}

static void
test_wanem_command_parse_scoped_words_one_direction(void **state)
{
	struct wanem_params perfect;
	struct wanem_command cmd, plain;
	char err[WANEM_COMMAND_ERROR_MAX];

	(void)state;
	wanem_params_init(&perfect);
	/* The SYN-ACK case: lose what b sends, keep what a sends. */
	assert_int_equal(parse("b-to-a: loss=100%", &cmd, err), 0);
	assert_int_equal(cmd.kind, WANEM_COMMAND_SET);
	assert_true(wanem_params_equal(&cmd.params[WANEM_DIR_A_TO_B], &perfect));
	assert_int_equal(cmd.params[WANEM_DIR_B_TO_A].loss_ppm, WANEM_PPM_ONE);

	/* A scope runs to the next scope; both: returns to both directions. */
	assert_int_equal(parse("delay=10ms a-to-b: loss=5% outage b-to-a: delay=20ms both: "
	                       "jitter=1ms",
	                     &cmd, err),
	    0);
	assert_int_equal(cmd.params[WANEM_DIR_A_TO_B].delay_ns, 10000000);
	assert_int_equal(cmd.params[WANEM_DIR_A_TO_B].loss_ppm, 50000);
	assert_true(cmd.params[WANEM_DIR_A_TO_B].outage);
	assert_int_equal(cmd.params[WANEM_DIR_A_TO_B].jitter_ns, 1000000);
	assert_int_equal(cmd.params[WANEM_DIR_B_TO_A].delay_ns, 20000000);
	assert_int_equal(cmd.params[WANEM_DIR_B_TO_A].loss_ppm, 0);
	assert_false(cmd.params[WANEM_DIR_B_TO_A].outage);
	assert_int_equal(cmd.params[WANEM_DIR_B_TO_A].jitter_ns, 1000000);

	/* both: at the start is the same as no scope; values may hold colons. */
	assert_int_equal(parse("both: loss=1% burst-loss=p:1%,r:30%", &cmd, err), 0);
	assert_int_equal(parse("loss=1% burst-loss=p:1%,r:30%", &plain, err), 0);
	for (int d = 0; d < WANEM_DIR_COUNT; d++)
		assert_true(wanem_params_equal(&cmd.params[d], &plain.params[d]));
	/* Later words win, per direction. */
	assert_int_equal(parse("loss=1% a-to-b: loss=2%", &cmd, err), 0);
	assert_int_equal(cmd.params[WANEM_DIR_A_TO_B].loss_ppm, 20000);
	assert_int_equal(cmd.params[WANEM_DIR_B_TO_A].loss_ppm, 10000);
}

static void
test_wanem_command_parse_clear_scoped_one_direction(void **state)
{
	struct wanem_params base[WANEM_DIR_COUNT], perfect;
	struct wanem_command cmd;
	char err[WANEM_COMMAND_ERROR_MAX];

	(void)state;
	wanem_params_init(&perfect);
	wanem_params_init(&base[WANEM_DIR_A_TO_B]);
	wanem_params_init(&base[WANEM_DIR_B_TO_A]);
	base[WANEM_DIR_A_TO_B].delay_ns = 10000000;
	base[WANEM_DIR_B_TO_A].delay_ns = 20000000;
	base[WANEM_DIR_B_TO_A].loss_ppm = 10000;

	assert_int_equal(parse_on_dirs(base, "b-to-a: clear", &cmd, err), 0);
	assert_true(wanem_params_equal(&cmd.params[WANEM_DIR_A_TO_B], &base[WANEM_DIR_A_TO_B]));
	assert_true(wanem_params_equal(&cmd.params[WANEM_DIR_B_TO_A], &perfect));

	assert_int_equal(parse_on_dirs(base, "a-to-b: clear rate=1mbit", &cmd, err), 0);
	assert_int_equal(cmd.params[WANEM_DIR_A_TO_B].delay_ns, 0);
	assert_int_equal(cmd.params[WANEM_DIR_A_TO_B].rate_bps, 1000000);
	assert_true(wanem_params_equal(&cmd.params[WANEM_DIR_B_TO_A], &base[WANEM_DIR_B_TO_A]));

	/* Unscoped words still change both; an unscoped clear resets both. */
	assert_int_equal(parse_on_dirs(base, "clear b-to-a: outage", &cmd, err), 0);
	assert_true(wanem_params_equal(&cmd.params[WANEM_DIR_A_TO_B], &perfect));
	assert_true(cmd.params[WANEM_DIR_B_TO_A].outage);
	assert_int_equal(cmd.params[WANEM_DIR_B_TO_A].delay_ns, 0);
	assert_int_equal(parse_on_dirs(base, "loss=3%", &cmd, err), 0);
	assert_int_equal(cmd.params[WANEM_DIR_A_TO_B].delay_ns, 10000000);
	assert_int_equal(cmd.params[WANEM_DIR_B_TO_A].delay_ns, 20000000);
	assert_int_equal(cmd.params[WANEM_DIR_A_TO_B].loss_ppm, 30000);
	assert_int_equal(cmd.params[WANEM_DIR_B_TO_A].loss_ppm, 30000);

	/* show answers each direction's current parameters. */
	assert_int_equal(parse_on_dirs(base, "show", &cmd, err), 0);
	assert_int_equal(cmd.kind, WANEM_COMMAND_SHOW);
	for (int d = 0; d < WANEM_DIR_COUNT; d++)
		assert_true(wanem_params_equal(&cmd.params[d], &base[d]));
}

static void
test_wanem_link_format_canonical(void **state)
{
	struct wanem_params p[WANEM_DIR_COUNT];
	char text[WANEM_LINK_TEXT_MAX];

	(void)state;
	wanem_params_init(&p[0]);
	wanem_params_init(&p[1]);
	assert_int_equal(wanem_link_format(p, text, sizeof(text)), 5);
	assert_string_equal(text, "clear");
	p[0].delay_ns = p[1].delay_ns = 10000000;
	assert_true(wanem_link_format(p, text, sizeof(text)) > 0);
	assert_string_equal(text, "delay=10ms");
	p[1].loss_ppm = WANEM_PPM_ONE;
	assert_true(wanem_link_format(p, text, sizeof(text)) > 0);
	assert_string_equal(text, "a-to-b: delay=10ms b-to-a: delay=10ms loss=100%");
	wanem_params_init(&p[0]);
	assert_true(wanem_link_format(p, text, sizeof(text)) > 0);
	assert_string_equal(text, "b-to-a: delay=10ms loss=100%");
	wanem_params_init(&p[1]);
	p[0].outage = true;
	assert_int_equal(wanem_link_format(p, text, sizeof(text)), (int)strlen("a-to-b: outage"));
	assert_string_equal(text, "a-to-b: outage");
	for (size_t size = 0; size < strlen("a-to-b: outage") + 1; size++) {
		assert_int_equal(wanem_link_format(p, text, size), -ENOBUFS);
		if (size > 0)
			assert_true(strlen(text) < size);
	}
}

static void
test_wanem_link_format_roundtrip_random(void **state)
{
	uint64_t rng = test_seed();

	(void)state;
	for (int i = 0; i < 20000; i++) {
		struct wanem_params p[WANEM_DIR_COUNT], base[WANEM_DIR_COUNT], perfect[2];
		struct wanem_command cmd;
		char text[WANEM_LINK_TEXT_MAX + 6], err[WANEM_COMMAND_ERROR_MAX];
		int n;

		random_params(&rng, &p[0]);
		if (test_rand_below(&rng, 4) == 0)
			p[1] = p[0];
		else
			random_params(&rng, &p[1]);
		wanem_params_init(&perfect[0]);
		wanem_params_init(&perfect[1]);
		n = wanem_link_format(p, text, WANEM_LINK_TEXT_MAX);
		assert_true(n > 0);
		assert_int_equal((size_t)n, strlen(text));
		if (parse_on_dirs(perfect, text, &cmd, err) != 0)
			fail_msg("\"%s\" does not parse: %s", text, err);
		for (int d = 0; d < WANEM_DIR_COUNT; d++)
			if (!wanem_params_equal(&cmd.params[d], &p[d]))
				fail_msg("\"%s\" parses to other parameters", text);
		/* Behind a clear, the words give the same link from any start. */
		random_params(&rng, &base[0]);
		random_params(&rng, &base[1]);
		memmove(text + 6, text, (size_t)n + 1);
		memcpy(text, "clear ", 6);
		if (parse_on_dirs(base, text, &cmd, err) != 0)
			fail_msg("\"%s\" does not parse: %s", text, err);
		for (int d = 0; d < WANEM_DIR_COUNT; d++)
			if (!wanem_params_equal(&cmd.params[d], &p[d]))
				fail_msg("\"%s\" parses to other parameters from another base",
				    text);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wanem_command_parse_full_example),
	    cmocka_unit_test(test_wanem_command_parse_units_and_decimals),
	    cmocka_unit_test(test_wanem_command_parse_changes_only_named),
	    cmocka_unit_test(test_wanem_command_parse_show),
	    cmocka_unit_test(test_wanem_command_parse_errors_name_the_word),
	    cmocka_unit_test(test_wanem_command_parse_long_word_cut_in_error),
	    cmocka_unit_test(test_wanem_params_format_canonical),
	    cmocka_unit_test(test_wanem_params_format_roundtrip_random),
	    cmocka_unit_test(test_wanem_command_parse_scoped_words_one_direction),
	    cmocka_unit_test(test_wanem_command_parse_clear_scoped_one_direction),
	    cmocka_unit_test(test_wanem_link_format_canonical),
	    cmocka_unit_test(test_wanem_link_format_roundtrip_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
