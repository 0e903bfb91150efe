/* Unit tests of ctl/ctl_table: column widths, alignment and cell sanitizing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl_table.h"
#include "test_rand.h"

static char *
table_text(const struct ctl_table *t)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(ctl_table_print(t, f), 0);
	fclose(f);
	return text;
}

static void
test_ctl_table_print_widths_from_content(void **state)
{
	static const struct ctl_table_column cols[] = {{"NAME", false}, {"COUNT", true},
	    {"NOTE", false}};
	const char *r1[] = {"a", "5", "x"};
	const char *r2[] = {"longer", "12345", ""};
	const char *r3[] = {"b", NULL, "last"};
	struct ctl_table t;
	char *text;

	(void)state;
	ctl_table_init(&t, cols, 3);
	assert_int_equal(ctl_table_add_row(&t, r1), 0);
	assert_int_equal(ctl_table_add_row(&t, r2), 0);
	assert_int_equal(ctl_table_add_row(&t, r3), 0);
	text = table_text(&t);
	assert_string_equal(text,
	    "NAME    COUNT  NOTE\n"
	    "a           5  x\n"
	    "longer  12345\n"
	    "b           -  last\n");
	free(text);
	ctl_table_fini(&t);
}

static void
test_ctl_table_print_header_only(void **state)
{
	static const struct ctl_table_column cols[] = {{"REASON", false}, {"COUNT", true}};
	struct ctl_table t;
	char *text;

	(void)state;
	ctl_table_init(&t, cols, 2);
	text = table_text(&t);
	assert_string_equal(text, "REASON  COUNT\n");
	free(text);
	ctl_table_fini(&t);
}

static void
test_ctl_table_add_row_control_chars_replaced(void **state)
{
	static const struct ctl_table_column cols[] = {{"A", false}, {"B", false}};
	const char *r[] = {"evil\x1b[2Jname\n", "caf\xc3\xa9"};
	const char *r2[] = {"x", "cafe!"};
	struct ctl_table t;
	char *text;

	(void)state;
	ctl_table_init(&t, cols, 2);
	assert_int_equal(ctl_table_add_row(&t, r), 0);
	assert_int_equal(ctl_table_add_row(&t, r2), 0);
	text = table_text(&t);
	/* "café" is four columns wide although it is five bytes. */
	assert_string_equal(text,
	    "A              B\n"
	    "evil?[2Jname?  caf\xc3\xa9\n"
	    "x              cafe!\n");
	free(text);
	ctl_table_fini(&t);
}

/*
 * Random tables against a naive model: every line has the same width up to the last
 * right-aligned column, and each cell starts at the column offset the model computes.
 */
static void
test_ctl_table_print_random_model(void **state)
{
	static const struct ctl_table_column cols[] = {{"ID", true}, {"NAME", false}, {"N", true}};
	uint64_t rng = test_seed();

	(void)state;
	for (int iter = 0; iter < 300; iter++) {
		unsigned rows = (unsigned)test_rand_below(&rng, 20);
		char cells[20][3][16];
		size_t w[3] = {2, 4, 1};
		struct ctl_table t;
		char *text, *line;

		ctl_table_init(&t, cols, 3);
		for (unsigned r = 0; r < rows; r++) {
			const char *ptrs[3];

			for (unsigned c = 0; c < 3; c++) {
				unsigned len = 1 + (unsigned)test_rand_below(&rng, 12);

				for (unsigned k = 0; k < len; k++)
					cells[r][c][k] = (char)('a' + test_rand_below(&rng, 26));
				cells[r][c][len] = '\0';
				if (len > w[c])
					w[c] = len;
				ptrs[c] = cells[r][c];
			}
			assert_int_equal(ctl_table_add_row(&t, ptrs), 0);
		}
		text = table_text(&t);
		line = text;
		for (unsigned r = 0; r <= rows; r++) {
			char *nl = strchr(line, '\n');
			char expect[128];

			assert_non_null(nl);
			if (r == 0)
				snprintf(expect, sizeof(expect), "%*s  %-*s  %*s", (int)w[0], "ID",
				    (int)w[1], "NAME", (int)w[2], "N");
			else
				snprintf(expect, sizeof(expect), "%*s  %-*s  %*s", (int)w[0],
				    cells[r - 1][0], (int)w[1], cells[r - 1][1], (int)w[2],
				    cells[r - 1][2]);
			assert_int_equal((size_t)(nl - line), strlen(expect));
			assert_memory_equal(line, expect, strlen(expect));
			line = nl + 1;
		}
		assert_int_equal(*line, '\0');
		free(text);
		ctl_table_fini(&t);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ctl_table_print_widths_from_content),
	    cmocka_unit_test(test_ctl_table_print_header_only),
	    cmocka_unit_test(test_ctl_table_add_row_control_chars_replaced),
	    cmocka_unit_test(test_ctl_table_print_random_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
