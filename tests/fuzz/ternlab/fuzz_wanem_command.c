/*
 * Fuzzes the ternlab-wanem command parser. Invariants: an accepted command's
 * parameters pass wanem_params_check(), format to text that parses back to the same
 * parameters, and a refused one leaves a one-line message without control bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wanem_command.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wanem_params base, perfect;
	struct wanem_command cmd, again;
	char err[WANEM_COMMAND_ERROR_MAX], text[WANEM_COMMAND_TEXT_MAX];
	int rc, n;

	wanem_params_init(&perfect);
	/* The first byte picks the base: a perfect link or a busy one. */
	wanem_params_init(&base);
	if (size > 0 && (data[0] & 1) != 0) {
		base.delay_ns = 40000000;
		base.loss_ppm = 20000;
		base.rate_bps = 20000000;
		base.outage = true;
	}
	rc = wanem_command_parse((const char *)data, size, &base, &cmd, err, sizeof(err));
	if (rc < 0) {
		size_t len = strnlen(err, sizeof(err));

		if (rc != -22 || len == 0 || len >= sizeof(err))
			abort();
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)err[i] < 0x20)
				abort();
		return 0;
	}
	if (wanem_params_check(&cmd.params, 0) != 0)
		abort();
	if (cmd.kind == WANEM_COMMAND_SHOW && !wanem_params_equal(&cmd.params, &base))
		abort();
	n = wanem_params_format(&cmd.params, text, sizeof(text));
	if (n <= 0 || (size_t)n != strlen(text))
		abort();
	if (wanem_command_parse(text, (size_t)n, &perfect, &again, err, sizeof(err)) != 0)
		abort();
	if (again.kind != WANEM_COMMAND_SET || !wanem_params_equal(&again.params, &cmd.params))
		abort();
	return 0;
}
