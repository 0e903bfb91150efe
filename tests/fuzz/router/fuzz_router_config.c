/*
 * Fuzzes router_config_parse() (the ternd configuration file). Whatever the bytes, the
 * parse must return 0 with a snapshot and no errors, or -EINVAL with no snapshot and at
 * least one error whose path starts with "$" and whose message is printable; a
 * snapshot must keep every invariant of router_config.h (ids in range, references
 * resolved to the names written, names unique). Everything is freed, so LeakSanitizer
 * sees any leak on either path.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router/router_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_error_text(const char *text)
{
	for (const char *c = text; *c != '\0'; c++) {
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct router_config_errors errors;
	struct router_config *cfg = (struct router_config *)1;
	FILE *null_out;
	int rc;

	router_config_errors_init(&errors);
	rc = router_config_parse((const char *)data, size, &cfg, &errors);
	if (rc == 0) {
		if (cfg == NULL || router_config_errors_count(&errors) != 0 ||
		    !router_config_is_consistent(cfg))
			abort();
	} else if (rc == -EINVAL) {
		if (cfg != NULL || router_config_errors_count(&errors) == 0)
			abort();
		for (size_t i = 0; i < router_config_errors_count(&errors); i++) {
			const struct router_config_error *e = router_config_errors_at(&errors, i);

			if (e->path[0] != '$' || e->message[0] == '\0')
				abort();
			check_error_text(e->path);
			check_error_text(e->message);
		}
		/* Printing walks every entry: it must not trip on anything the parse stored. */
		null_out = fopen("/dev/null", "w");
		if (null_out != NULL) {
			router_config_errors_print(&errors, null_out);
			fclose(null_out);
		}
	} else if (rc != -ENOMEM || cfg != NULL) {
		abort();
	}
	router_config_free(cfg);
	router_config_errors_fini(&errors);
	return 0;
}
