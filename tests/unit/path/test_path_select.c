/*
 * Unit tests of src/path/path_select: one test per rule of path_select.h, the
 * explanation text, the failover decision, and a randomized check of the properties
 * against a naive restatement of the rules (seed printed; TERN_SEED repeats a run).
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "path/path_select.h"
#include "test_rand.h"

/* A clean path: up, 20 ms, 1 ms jitter, no loss, MOS 4.4, cost 0. */
static struct path_candidate
cand(uint32_t id)
{
	struct path_candidate c = {
	    .path_id = id,
	    .up = true,
	    .latency_us = 20000,
	    .jitter_us = 1000,
	    .loss_pct = 0,
	    .mos = 4.4,
	    .cost = 0,
	};

	return c;
}

static void
test_path_select_cost_lowest_vector_or_default(void **state)
{
	const struct path_vector_cost costs[] = {{"broadband", 10}, {"lte", 100}, {"metered", 50}};
	struct path_select_policy pol = {.vector_costs = costs,
	    .vector_cost_count = 3,
	    .default_cost = 7};
	const char *const lte[] = {"lte", "metered"};
	const char *const other[] = {"satellite"};
	const char *const bb[] = {"satellite", "broadband"};

	(void)state;
	assert_int_equal(path_select_cost(&pol, lte, 2), 50);
	assert_int_equal(path_select_cost(&pol, bb, 2), 10);
	assert_int_equal(path_select_cost(&pol, other, 1), 7);
	assert_int_equal(path_select_cost(&pol, NULL, 0), 7);
}

static void
test_path_select_sla_check_order_and_values(void **state)
{
	struct path_select_policy pol = {.max_latency_us = 150000,
	    .max_jitter_us = 30000,
	    .has_max_loss = true,
	    .max_loss_pct = 1.0,
	    .min_mos = 3.5};
	struct path_candidate c = cand(1);
	double v, l;

	(void)state;
	assert_int_equal(path_select_sla_check(&pol, &c, &v, &l), PATH_SLA_NONE);
	c.mos = 3.0;
	assert_int_equal(path_select_sla_check(&pol, &c, &v, &l), PATH_SLA_MIN_MOS);
	assert_true(v == 3.0 && l == 3.5);
	c.loss_pct = 2.5;
	assert_int_equal(path_select_sla_check(&pol, &c, &v, &l), PATH_SLA_MAX_LOSS);
	assert_true(v == 2.5 && l == 1.0);
	c.jitter_us = 40000;
	assert_int_equal(path_select_sla_check(&pol, &c, &v, &l), PATH_SLA_MAX_JITTER);
	c.latency_us = 212000;
	assert_int_equal(path_select_sla_check(&pol, &c, &v, &l), PATH_SLA_MAX_LATENCY);
	assert_true(v == 212000 && l == 150000);
	/* At the limit is within it. */
	c = cand(1);
	c.latency_us = 150000;
	c.loss_pct = 1.0;
	c.mos = 3.5;
	assert_int_equal(path_select_sla_check(&pol, &c, NULL, NULL), PATH_SLA_NONE);
	/* A NaN measurement breaks its limit rather than passing it. */
	c.loss_pct = NAN;
	assert_int_equal(path_select_sla_check(&pol, &c, NULL, NULL), PATH_SLA_MAX_LOSS);
}

static void
test_path_select_sla_zero_policy_has_no_limits(void **state)
{
	struct path_select_policy pol;
	struct path_candidate c = cand(1);

	(void)state;
	memset(&pol, 0, sizeof(pol));
	c.latency_us = UINT32_MAX;
	c.jitter_us = UINT32_MAX;
	c.loss_pct = 100;
	c.mos = 1.0;
	assert_int_equal(path_select_sla_check(&pol, &c, NULL, NULL), PATH_SLA_NONE);
}

static void
test_path_select_no_path_up_is_hostunreach(void **state)
{
	struct path_select_policy pol = {0};
	struct path_candidate c[2] = {cand(1), cand(2)};
	struct path_choice ch;

	(void)state;
	c[0].up = false;
	c[1].up = false;
	assert_int_equal(path_select(&pol, c, 2, 1, &ch), -EHOSTUNREACH);
	assert_int_equal(ch.result, -EHOSTUNREACH);
	assert_int_equal(ch.count, 2);
	assert_int_equal(ch.verdicts[0].kind, PATH_VERDICT_DOWN);
	assert_int_equal(ch.verdicts[1].kind, PATH_VERDICT_DOWN);
	assert_int_equal(path_select(&pol, c, 0, 1, &ch), -EHOSTUNREACH);
}

static void
test_path_select_down_path_never_chosen(void **state)
{
	struct path_select_policy pol = {0};
	struct path_candidate c[2] = {cand(1), cand(2)};
	struct path_choice ch;

	(void)state;
	c[0].up = false;
	c[0].cost = 0;
	c[1].cost = 500;
	for (uint64_t h = 0; h < 64; h++) {
		assert_int_equal(path_select(&pol, c, 2, h, &ch), 0);
		assert_int_equal(ch.path_id, 2);
		assert_int_equal(ch.reason, PATH_REASON_SLA_MET_LOWEST_COST);
	}
}

static void
test_path_select_lowest_cost_wins(void **state)
{
	struct path_select_policy pol = {0};
	struct path_candidate c[3] = {cand(1), cand(2), cand(3)};
	struct path_choice ch;

	(void)state;
	c[0].cost = 100;
	c[1].cost = 10;
	c[1].mos = 3.9; /* worse quality does not beat a lower cost */
	c[2].cost = 50;
	assert_int_equal(path_select(&pol, c, 3, 42, &ch), 0);
	assert_int_equal(ch.path_id, 2);
	assert_int_equal(ch.index, 1);
	assert_true(ch.sla_met);
	assert_int_equal(ch.reason, PATH_REASON_SLA_MET_LOWEST_COST);
	assert_int_equal(ch.equal_count, 1);
	assert_int_equal(ch.verdicts[0].kind, PATH_VERDICT_COSTLIER);
	assert_int_equal(ch.verdicts[1].kind, PATH_VERDICT_CHOSEN);
	assert_int_equal(ch.verdicts[2].kind, PATH_VERDICT_COSTLIER);
	assert_false(ch.has_second);
}

static void
test_path_select_sla_breaker_skipped_despite_lower_cost(void **state)
{
	struct path_select_policy pol = {.max_latency_us = 150000};
	struct path_candidate c[2] = {cand(1), cand(2)};
	struct path_choice ch;

	(void)state;
	c[0].latency_us = 212000;
	c[0].cost = 0;
	c[1].cost = 100;
	assert_int_equal(path_select(&pol, c, 2, 0, &ch), 0);
	assert_int_equal(ch.path_id, 2);
	assert_int_equal(ch.verdicts[0].kind, PATH_VERDICT_BREAKS_SLA);
	assert_int_equal(ch.verdicts[0].limit, PATH_SLA_MAX_LATENCY);
	assert_true(ch.verdicts[0].value == 212000 && ch.verdicts[0].limit_value == 150000);
}

static void
test_path_select_tie_broken_by_mos(void **state)
{
	struct path_select_policy pol = {0};
	struct path_candidate c[2] = {cand(1), cand(2)};
	struct path_choice ch;

	(void)state;
	c[0].mos = 4.0;
	c[1].mos = 4.3;
	c[1].latency_us = 60000; /* MOS comes before latency */
	assert_int_equal(path_select(&pol, c, 2, 7, &ch), 0);
	assert_int_equal(ch.path_id, 2);
	assert_int_equal(ch.reason, PATH_REASON_TIE_BROKEN_BY_QUALITY);
	assert_int_equal(ch.verdicts[0].kind, PATH_VERDICT_WORSE_QUALITY);
}

static void
test_path_select_tie_mos_within_tolerance_then_latency(void **state)
{
	struct path_select_policy pol = {0};
	struct path_candidate c[2] = {cand(1), cand(2)};
	struct path_choice ch;

	(void)state;
	c[0].mos = 4.35; /* within 0.1 of 4.40: equal */
	c[0].latency_us = 10000;
	c[1].mos = 4.40;
	c[1].latency_us = 30000;
	assert_int_equal(path_select(&pol, c, 2, 7, &ch), 0);
	assert_int_equal(ch.path_id, 1);
	assert_int_equal(ch.reason, PATH_REASON_TIE_BROKEN_BY_QUALITY);
	assert_int_equal(ch.verdicts[1].kind, PATH_VERDICT_WORSE_QUALITY);
}

static void
test_path_select_equal_paths_share_load(void **state)
{
	struct path_select_policy pol = {0};
	struct path_candidate c[3] = {cand(1), cand(2), cand(3)};
	struct path_choice ch;
	unsigned hits[3] = {0};

	(void)state;
	c[0].latency_us = 20000;
	c[1].latency_us = 23000; /* within 5 ms: equal */
	c[2].latency_us = 21000;
	c[2].mos = 4.35;
	for (uint64_t h = 0; h < 3000; h++) {
		uint32_t first;

		assert_int_equal(path_select(&pol, c, 3, h * 0x9e3779b97f4a7c15ull, &ch), 0);
		assert_int_equal(ch.reason, PATH_REASON_LOAD_SHARED);
		assert_int_equal(ch.equal_count, 3);
		first = ch.path_id;
		hits[ch.index]++;
		/* The same hash, the same path. */
		assert_int_equal(path_select(&pol, c, 3, h * 0x9e3779b97f4a7c15ull, &ch), 0);
		assert_int_equal(ch.path_id, first);
		for (uint32_t i = 0; i < 3; i++)
			assert_int_equal(ch.verdicts[i].kind,
			    i == ch.index ? PATH_VERDICT_CHOSEN :
			                    PATH_VERDICT_LOAD_SHARED_ELSEWHERE);
	}
	for (int i = 0; i < 3; i++)
		assert_true(hits[i] > 800 && hits[i] < 1200);
}

static void
test_path_select_load_share_moves_only_sessions_of_removed_path(void **state)
{
	struct path_select_policy pol = {0};
	struct path_candidate c[3] = {cand(1), cand(2), cand(3)};
	struct path_choice before, after;

	(void)state;
	for (uint64_t h = 0; h < 1000; h++) {
		assert_int_equal(path_select(&pol, c, 3, h, &before), 0);
		c[2].up = false;
		assert_int_equal(path_select(&pol, c, 3, h, &after), 0);
		c[2].up = true;
		if (before.path_id != 3)
			assert_int_equal(after.path_id, before.path_id);
	}
}

static void
test_path_select_best_effort_when_no_path_meets(void **state)
{
	struct path_select_policy pol = {.max_latency_us = 50000};
	struct path_candidate c[3] = {cand(1), cand(2), cand(3)};
	struct path_choice ch;

	(void)state;
	c[0].latency_us = 80000;
	c[0].mos = 4.2;
	c[0].cost = 0;
	c[1].latency_us = 70000;
	c[1].mos = 4.3;
	c[1].cost = 100;
	c[2].up = false;
	assert_int_equal(path_select(&pol, c, 3, 3, &ch), 0);
	assert_int_equal(ch.path_id, 2); /* quality before cost */
	assert_false(ch.sla_met);
	assert_int_equal(ch.reason, PATH_REASON_BEST_EFFORT);
	assert_int_equal(ch.verdicts[0].kind, PATH_VERDICT_BREAKS_SLA);
	assert_int_equal(ch.verdicts[1].kind, PATH_VERDICT_CHOSEN);
	assert_int_equal(ch.verdicts[1].limit, PATH_SLA_MAX_LATENCY);
	assert_int_equal(ch.verdicts[2].kind, PATH_VERDICT_DOWN);
	/* Equal quality: the cheaper one. */
	c[0].mos = 4.3;
	c[0].latency_us = 71000;
	assert_int_equal(path_select(&pol, c, 3, 3, &ch), 0);
	assert_int_equal(ch.path_id, 1);
}

static void
test_path_select_drop_policy_refuses(void **state)
{
	struct path_select_policy pol = {.min_mos = 4.0, .no_path = PATH_NO_PATH_DROP};
	struct path_candidate c[2] = {cand(1), cand(2)};
	struct path_choice ch;

	(void)state;
	c[0].mos = 3.0;
	c[1].mos = 3.9;
	assert_int_equal(path_select(&pol, c, 2, 0, &ch), -ENETUNREACH);
	assert_int_equal(ch.result, -ENETUNREACH);
	assert_int_equal(ch.verdicts[0].limit, PATH_SLA_MIN_MOS);
	assert_int_equal(ch.verdicts[1].limit, PATH_SLA_MIN_MOS);
}

static void
test_path_select_too_many_candidates(void **state)
{
	struct path_select_policy pol = {0};
	struct path_candidate c[PATH_SELECT_CANDIDATES_MAX + 1];
	struct path_choice ch;
	char text[128];

	(void)state;
	for (uint32_t i = 0; i <= PATH_SELECT_CANDIDATES_MAX; i++)
		c[i] = cand(i);
	assert_int_equal(path_select(&pol, c, PATH_SELECT_CANDIDATES_MAX + 1, 0, &ch), -E2BIG);
	assert_int_equal(path_select(&pol, c, PATH_SELECT_CANDIDATES_MAX, 0, &ch), 0);
	assert_int_equal(path_select(&pol, c, PATH_SELECT_CANDIDATES_MAX + 1, 0, &ch), -E2BIG);
	path_choice_format(&ch, NULL, text, sizeof(text));
	assert_string_equal(text, "too many paths to consider (at most 16)");
}

static void
test_path_select_duplicate_names_second_path(void **state)
{
	struct path_select_policy pol = {.resiliency = PATH_RESILIENCY_DUPLICATE};
	struct path_candidate c[3] = {cand(1), cand(2), cand(3)};
	struct path_choice ch;

	(void)state;
	c[0].cost = 10;
	c[1].cost = 20;
	c[2].cost = 30;
	assert_int_equal(path_select(&pol, c, 3, 0, &ch), 0);
	assert_int_equal(ch.path_id, 1);
	assert_true(ch.has_second);
	assert_int_equal(ch.second_path_id, 2);
	assert_int_equal(ch.second_index, 1);
	c[1].up = false;
	c[2].up = false;
	assert_int_equal(path_select(&pol, c, 3, 0, &ch), 0);
	assert_false(ch.has_second);
}

static void
test_path_choice_format_explains(void **state)
{
	struct path_select_policy pol = {.max_latency_us = 150000};
	struct path_candidate c[2] = {cand(1), cand(2)};
	const char *const names[] = {"wan0", "lte"};
	struct path_choice ch;
	char text[PATH_CHOICE_TEXT_MAX];
	int n;

	(void)state;
	c[0].latency_us = 212000;
	c[1].cost = 100;
	assert_int_equal(path_select(&pol, c, 2, 0, &ch), 0);
	n = path_choice_format(&ch, names, text, sizeof(text));
	assert_string_equal(text,
	    "considered 2 paths: wan0 breaks max-latency (212 ms > 150 ms); "
	    "lte meets the SLA at cost 100: chosen");
	assert_int_equal(n, (int)strlen(text));
	/* Cut: snprintf's contract. */
	assert_int_equal(path_choice_format(&ch, names, text, 10), n);
	assert_string_equal(text, "considere");
}

static void
test_path_choice_format_every_verdict(void **state)
{
	struct path_select_policy pol = {.has_max_loss = true, .max_loss_pct = 1};
	struct path_candidate c[5] = {cand(1), cand(2), cand(3), cand(4), cand(5)};
	const char *const names[] = {"a", NULL, "c", "d", "e"};
	struct path_choice ch;
	char text[PATH_CHOICE_TEXT_MAX];

	(void)state;
	c[0].up = false;
	c[1].loss_pct = 2.5;
	c[2].cost = 5;
	c[3].mos = 4.0;
	c[3].latency_us = 30500;
	assert_int_equal(path_select(&pol, c, 5, 0, &ch), 0);
	path_choice_format(&ch, names, text, sizeof(text));
	assert_string_equal(text,
	    "considered 5 paths: a is down; path 2 breaks max-loss (2.5% > 1%); c "
	    "meets the SLA at cost 5: costlier; d meets the SLA at cost 0: worse quality (MOS "
	    "4.00, 30.5 ms); e meets the SLA at cost 0: chosen (tie broken by quality: MOS 4.40, "
	    "20 ms)");
}

static void
test_path_choice_format_load_shared_and_refusals(void **state)
{
	struct path_select_policy pol = {.min_mos = 4.5, .no_path = PATH_NO_PATH_DROP};
	struct path_candidate c[2] = {cand(1), cand(2)};
	const char *const names[] = {"a", "b"};
	struct path_choice ch;
	char text[PATH_CHOICE_TEXT_MAX];

	(void)state;
	assert_int_equal(path_select(&pol, c, 2, 0, &ch), -ENETUNREACH);
	path_choice_format(&ch, names, text, sizeof(text));
	assert_string_equal(text,
	    "considered 2 paths: a breaks min-mos (4.40 < 4.50); b breaks min-mos "
	    "(4.40 < 4.50); no path meets the SLA and the policy drops: session "
	    "refused");
	pol.no_path = PATH_NO_PATH_BEST_EFFORT;
	c[1].up = false;
	assert_int_equal(path_select(&pol, c, 2, 0, &ch), 0);
	path_choice_format(&ch, names, text, sizeof(text));
	assert_string_equal(text,
	    "considered 2 paths: a breaks min-mos (4.40 < 4.50): chosen as best effort (no "
	    "path meets the SLA; MOS 4.40, 20 ms, cost 0); b is down");
	c[0].up = false;
	assert_int_equal(path_select(&pol, c, 2, 0, &ch), -EHOSTUNREACH);
	path_choice_format(&ch, names, text, sizeof(text));
	assert_string_equal(text,
	    "considered 2 paths: a is down; b is down; no path is up: "
	    "session refused");
	assert_int_equal(path_select(&pol, c, 0, 0, &ch), -EHOSTUNREACH);
	path_choice_format(&ch, names, text, sizeof(text));
	assert_string_equal(text, "considered 0 paths: no path is up: session refused");
	memset(&pol, 0, sizeof(pol));
	pol.resiliency = PATH_RESILIENCY_DUPLICATE;
	c[0].up = c[1].up = true;
	assert_int_equal(path_select(&pol, c, 2, 0, &ch), 0);
	path_choice_format(&ch, names, text, sizeof(text));
	assert_non_null(strstr(text, ": chosen (load shared over 2 equal paths); duplicated on "));
}

static void
test_path_select_should_move_rules(void **state)
{
	struct path_select_policy pol = {.max_latency_us = 100000,
	    .resiliency = PATH_RESILIENCY_FAILOVER};
	struct path_candidate c[2] = {cand(1), cand(2)};
	struct path_choice ch;

	(void)state;
	/* The session is on path 2 (cost 100); path 1 (cost 10) comes back. */
	c[0].cost = 10;
	c[1].cost = 100;
	assert_int_equal(path_select(&pol, c, 2, 0, &ch), 0);
	assert_int_equal(ch.path_id, 1);
	assert_false(path_select_should_move(&pol, &c[1], &ch)); /* failover stays */
	pol.resiliency = PATH_RESILIENCY_REVERTIBLE_FAILOVER;
	assert_true(path_select_should_move(&pol, &c[1], &ch)); /* revertible goes back */
	pol.resiliency = PATH_RESILIENCY_DUPLICATE;
	assert_true(path_select_should_move(&pol, &c[1], &ch));
	pol.resiliency = PATH_RESILIENCY_NONE;
	assert_false(path_select_should_move(&pol, &c[1], &ch));
	/* Current path down or breaking the SLA: move, unless resiliency is none. */
	pol.resiliency = PATH_RESILIENCY_FAILOVER;
	c[1].up = false;
	assert_true(path_select_should_move(&pol, &c[1], &ch));
	c[1].up = true;
	c[1].latency_us = 120000;
	assert_true(path_select_should_move(&pol, &c[1], &ch));
	/* Already on the chosen path: stay. */
	assert_false(path_select_should_move(&pol, &c[0], &ch));
	/* Nothing meets the SLA: a best-effort choice does not move an up session. */
	c[0].latency_us = 130000;
	c[0].mos = 4.4;
	c[1].mos = 4.0;
	assert_int_equal(path_select(&pol, c, 2, 0, &ch), 0);
	assert_false(ch.sla_met);
	assert_int_equal(ch.path_id, 1);
	assert_false(path_select_should_move(&pol, &c[1], &ch));
	/* A refused choice moves nothing. */
	pol.no_path = PATH_NO_PATH_DROP;
	assert_int_equal(path_select(&pol, c, 2, 0, &ch), -ENETUNREACH);
	c[1].up = false;
	assert_false(path_select_should_move(&pol, &c[1], &ch));
}

static void
test_path_select_should_move_revertible_ignores_load_sharing(void **state)
{
	struct path_select_policy pol = {.resiliency = PATH_RESILIENCY_REVERTIBLE_FAILOVER};
	struct path_candidate c[2] = {cand(1), cand(2)};
	struct path_choice ch;

	(void)state;
	for (uint64_t h = 0; h < 200; h++) {
		assert_int_equal(path_select(&pol, c, 2, h, &ch), 0);
		assert_false(path_select_should_move(&pol, &c[0], &ch));
		assert_false(path_select_should_move(&pol, &c[1], &ch));
	}
	/* Same cost, clearly better quality: revert. */
	c[1].mos = 3.9;
	assert_int_equal(path_select(&pol, c, 2, 0, &ch), 0);
	assert_int_equal(ch.path_id, 1);
	assert_true(path_select_should_move(&pol, &c[1], &ch));
	c[1].mos = 4.4;
	c[1].latency_us = 40000;
	assert_int_equal(path_select(&pol, c, 2, 0, &ch), 0);
	assert_true(path_select_should_move(&pol, &c[1], &ch));
	/* Costlier but better: stay. */
	c[0].cost = 5;
	assert_int_equal(path_select(&pol, c, 2, 0, &ch), 0);
	assert_int_equal(ch.path_id, 2);
	assert_false(path_select_should_move(&pol, &c[1], &ch));
}

/* A random candidate: metrics on a coarse grid so that ties happen often. */
static struct path_candidate
random_cand(uint64_t *rs, uint32_t id)
{
	struct path_candidate c;

	c.path_id = id;
	c.up = test_rand_below(rs, 5) != 0;
	c.latency_us = (uint32_t)test_rand_below(rs, 8) * 10000;
	c.jitter_us = (uint32_t)test_rand_below(rs, 4) * 5000;
	c.loss_pct = (double)test_rand_below(rs, 4) * 0.5;
	c.mos = 3.0 + (double)test_rand_below(rs, 8) * 0.2;
	c.cost = (uint32_t)test_rand_below(rs, 3) * 100;
	return c;
}

static void
test_path_select_random_properties(void **state)
{
	uint64_t rs = test_seed();

	(void)state;
	for (int round = 0; round < 20000; round++) {
		struct path_select_policy pol = {0};
		struct path_candidate c[PATH_SELECT_CANDIDATES_MAX];
		struct path_choice ch, again;
		size_t n = (size_t)test_rand_below(&rs, PATH_SELECT_CANDIDATES_MAX + 1);
		uint64_t h = test_rand(&rs);
		bool any_up = false, any_meets = false;
		uint32_t min_cost = UINT32_MAX;
		int rc;

		pol.max_latency_us = (uint32_t)test_rand_below(&rs, 3) * 30000;
		pol.max_jitter_us = (uint32_t)test_rand_below(&rs, 3) * 6000;
		pol.has_max_loss = test_rand_below(&rs, 2);
		pol.max_loss_pct = (double)test_rand_below(&rs, 3) * 0.5;
		pol.min_mos = test_rand_below(&rs, 2) ? 3.5 : 0;
		pol.no_path = (uint8_t)test_rand_below(&rs, 2);
		pol.resiliency = (uint8_t)test_rand_below(&rs, 4);
		for (size_t i = 0; i < n; i++) {
			c[i] = random_cand(&rs, (uint32_t)(i * 7 + 3));
			any_up |= c[i].up;
			if (c[i].up && path_select_sla_check(&pol, &c[i], NULL, NULL) == 0) {
				any_meets = true;
				if (c[i].cost < min_cost)
					min_cost = c[i].cost;
			}
		}
		rc = path_select(&pol, c, n, h, &ch);
		if (!any_up) {
			assert_int_equal(rc, -EHOSTUNREACH);
			continue;
		}
		if (!any_meets && pol.no_path == PATH_NO_PATH_DROP) {
			assert_int_equal(rc, -ENETUNREACH);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_true(ch.index < n);
		assert_int_equal(ch.path_id, c[ch.index].path_id);
		/* Never a down path; the SLA is met whenever any path meets it. */
		assert_true(c[ch.index].up);
		assert_int_equal(ch.sla_met, any_meets);
		if (any_meets) {
			assert_int_equal(path_select_sla_check(&pol, &c[ch.index], NULL, NULL), 0);
			assert_int_equal(c[ch.index].cost, min_cost);
		}
		/* Exactly one chosen verdict; only down paths are marked down. */
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(ch.verdicts[i].kind == PATH_VERDICT_CHOSEN, i == ch.index);
			assert_int_equal(ch.verdicts[i].kind == PATH_VERDICT_DOWN, !c[i].up);
		}
		if (ch.has_second) {
			assert_int_not_equal(ch.second_index, ch.index);
			assert_true(c[ch.second_index].up);
		}
		/* Stable per session. */
		assert_int_equal(path_select(&pol, c, n, h, &again), 0);
		assert_int_equal(again.path_id, ch.path_id);
		/* Never move a session off the path it would be given anyway. */
		assert_false(path_select_should_move(&pol, &c[ch.index], &ch));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_path_select_cost_lowest_vector_or_default),
	    cmocka_unit_test(test_path_select_sla_check_order_and_values),
	    cmocka_unit_test(test_path_select_sla_zero_policy_has_no_limits),
	    cmocka_unit_test(test_path_select_no_path_up_is_hostunreach),
	    cmocka_unit_test(test_path_select_down_path_never_chosen),
	    cmocka_unit_test(test_path_select_lowest_cost_wins),
	    cmocka_unit_test(test_path_select_sla_breaker_skipped_despite_lower_cost),
	    cmocka_unit_test(test_path_select_tie_broken_by_mos),
	    cmocka_unit_test(test_path_select_tie_mos_within_tolerance_then_latency),
	    cmocka_unit_test(test_path_select_equal_paths_share_load),
	    cmocka_unit_test(test_path_select_load_share_moves_only_sessions_of_removed_path),
	    cmocka_unit_test(test_path_select_best_effort_when_no_path_meets),
	    cmocka_unit_test(test_path_select_drop_policy_refuses),
	    cmocka_unit_test(test_path_select_too_many_candidates),
	    cmocka_unit_test(test_path_select_duplicate_names_second_path),
	    cmocka_unit_test(test_path_choice_format_explains),
	    cmocka_unit_test(test_path_choice_format_every_verdict),
	    cmocka_unit_test(test_path_choice_format_load_shared_and_refusals),
	    cmocka_unit_test(test_path_select_should_move_rules),
	    cmocka_unit_test(test_path_select_should_move_revertible_ignores_load_sharing),
	    cmocka_unit_test(test_path_select_random_properties),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
