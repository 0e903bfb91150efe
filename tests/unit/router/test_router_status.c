/*
 * The SVR counters of the `status` API result (router_status.h): every counter of
 * struct svr_stats appears once, under its documented name, with its own value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "router/router_status.h"

#define COUNTERS (sizeof(struct svr_stats) / sizeof(uint64_t))

/* Each counter gets its place in the struct plus 1000: the value says which one it is. */
static void
stats_fill(struct svr_stats *st)
{
	uint64_t v[COUNTERS];

	for (size_t i = 0; i < COUNTERS; i++)
		v[i] = 1000 + i;
	memcpy(st, v, sizeof(*st));
}

static void
test_router_status_svr_add_every_counter_once(void **state)
{
	bool seen[COUNTERS] = {false};
	struct svr_stats st;
	json_t *o = json_object();
	const char *key;
	json_t *value;

	(void)state;
	stats_fill(&st);
	assert_int_equal(router_status_svr_add(o, &st), 0);
	assert_int_equal(json_object_size(o), COUNTERS);
	json_object_foreach(o, key, value)
	{
		json_int_t n = json_integer_value(value);

		assert_true(json_is_integer(value));
		assert_in_range(n, 1000, 1000 + COUNTERS - 1);
		assert_false(seen[n - 1000]);
		seen[n - 1000] = true;
		/* snake_case names only: ternctl prints them as keys */
		for (const char *p = key; *p != '\0'; p++)
			assert_true(
			    (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_');
	}
	json_decref(o);
}

static json_int_t
get(const json_t *o, const char *name)
{
	const json_t *v = json_object_get(o, name);

	assert_non_null(v);
	return json_integer_value(v);
}

static void
test_router_status_svr_add_names(void **state)
{
	struct svr_stats st;
	json_t *o = json_object();

	(void)state;
	memset(&st, 0, sizeof(st));
	st.meta_tx = 40;
	st.rebinds = 3;
	st.ingress_rebinds = 2;
	st.keepalives_tx = 7;
	st.enable_meta_tx = 5;
	st.icmp_errors_tx = 11;
	st.icmp_errors_rx = 13;
	st.dup_stale = 17;
	st.decisions[SVR_PROT_REASON_FORCED_OFF] = 19;
	st.decisions[SVR_PROT_REASON_AUTO] = 23;
	assert_int_equal(router_status_svr_add(o, &st), 0);
	assert_int_equal(get(o, "metadata_sent"), 40);
	assert_int_equal(get(o, "sessions_rebound"), 3);
	assert_int_equal(get(o, "sessions_rebound_ingress"), 2);
	assert_int_equal(get(o, "keepalives_sent"), 7);
	assert_int_equal(get(o, "enable_metadata_sent"), 5);
	assert_int_equal(get(o, "icmp_errors_sent"), 11);
	assert_int_equal(get(o, "icmp_errors_received"), 13);
	assert_int_equal(get(o, "duplicate_copies_stale"), 17);
	assert_int_equal(get(o, "protection_decisions_forced_off"), 19);
	assert_int_equal(get(o, "protection_decisions_auto"), 23);
	assert_int_equal(get(o, "protection_decisions_wireguard"), 0);
	/* the older names keep their place at the front (docs/api.md) */
	assert_string_equal(json_object_iter_key(json_object_iter(o)), "metadata_sent");
	json_decref(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_router_status_svr_add_every_counter_once),
	    cmocka_unit_test(test_router_status_svr_add_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
