/*
 * Fuzzes the ternlab-wanem command parser. Invariants: an accepted command's
 * parameters pass wanem_params_check() in both directions; each direction formats to
 * text that parses back to the same parameters, and so does the whole link (scopes
 * included); a line without scope words changes both directions alike; a refused
 * line leaves a one-line message without control bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wanem_command.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
has_scope(const uint8_t *data, size_t size)
{
	static const char *const scopes[] = {"a-to-b:", "b-to-a:", "both:"};

	for (size_t s = 0; s < sizeof(scopes) / sizeof(scopes[0]); s++) {
		size_t n = strlen(scopes[s]);

		for (size_t i = 0; i + n <= size; i++)
			if (memcmp(data + i, scopes[s], n) == 0)
				return true;
	}
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wanem_params base[WANEM_DIR_COUNT], perfect[WANEM_DIR_COUNT];
	struct wanem_command cmd, again;
	char err[WANEM_COMMAND_ERROR_MAX], text[WANEM_LINK_TEXT_MAX];
	int rc, n;

	/* The first byte picks the base: bit 0 a busy a_to_b, bit 1 a busy b_to_a (so a
	 * link that starts symmetric or not). */
	for (int d = 0; d < WANEM_DIR_COUNT; d++) {
		wanem_params_init(&perfect[d]);
		wanem_params_init(&base[d]);
	}
	if (size > 0 && (data[0] & 1) != 0) {
		base[WANEM_DIR_A_TO_B].delay_ns = 40000000;
		base[WANEM_DIR_A_TO_B].loss_ppm = 20000;
		base[WANEM_DIR_A_TO_B].rate_bps = 20000000;
		base[WANEM_DIR_A_TO_B].outage = true;
	}
	if (size > 0 && (data[0] & 2) != 0) {
		base[WANEM_DIR_B_TO_A].delay_ns = 40000000;
		base[WANEM_DIR_B_TO_A].loss_ppm = 20000;
		base[WANEM_DIR_B_TO_A].rate_bps = 20000000;
		base[WANEM_DIR_B_TO_A].outage = true;
	}
	rc = wanem_command_parse((const char *)data, size, base, &cmd, err, sizeof(err));
	if (rc < 0) {
		size_t len = strnlen(err, sizeof(err));

		if (rc != -22 || len == 0 || len >= sizeof(err))
			abort();
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)err[i] < 0x20)
				abort();
		return 0;
	}
	for (int d = 0; d < WANEM_DIR_COUNT; d++) {
		if (wanem_params_check(&cmd.params[d], 0) != 0)
			abort();
		if (cmd.kind == WANEM_COMMAND_SHOW && !wanem_params_equal(&cmd.params[d], &base[d]))
			abort();
		n = wanem_params_format(&cmd.params[d], text, WANEM_COMMAND_TEXT_MAX);
		if (n <= 0 || (size_t)n != strlen(text))
			abort();
		if (wanem_command_parse(text, (size_t)n, perfect, &again, err, sizeof(err)) != 0)
			abort();
		if (again.kind != WANEM_COMMAND_SET ||
		    !wanem_params_equal(&again.params[d], &cmd.params[d]))
			abort();
	}
	/* Without a scope, what was alike stays alike. */
	if (!has_scope(data, size) && wanem_params_equal(&base[0], &base[1]) &&
	    !wanem_params_equal(&cmd.params[0], &cmd.params[1]))
		abort();
	n = wanem_link_format(cmd.params, text, sizeof(text));
	if (n <= 0 || (size_t)n != strlen(text))
		abort();
	if (wanem_command_parse(text, (size_t)n, perfect, &again, err, sizeof(err)) != 0)
		abort();
	for (int d = 0; d < WANEM_DIR_COUNT; d++)
		if (again.kind != WANEM_COMMAND_SET ||
		    !wanem_params_equal(&again.params[d], &cmd.params[d]))
			abort();
	return 0;
}
