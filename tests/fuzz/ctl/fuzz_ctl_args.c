/*
 * Fuzz target for ternctl's command line: the input, split at NUL bytes, is argv.
 * ternctl must answer every argument list with a usage error, a local result or an
 * attempt to reach ternd, never a crash. To stay on this machine's own test paths, the
 * socket is a path that does not exist, and argument lists that name a socket or a
 * router, or ask pubkey to read standard input, are skipped.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl_main.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ARGS_MAX 16

static bool
fuzz_arg_is_skipped(const char *arg)
{
	return strcmp(arg, "pubkey") == 0 ||
	    (arg[0] == '-' && (strchr(arg, 's') != NULL || strchr(arg, 'r') != NULL));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[1024], *argv[FUZZ_ARGS_MAX + 2];
	FILE *out, *err;
	int argc = 1;

	if (size == 0 || size >= sizeof(buf))
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[0] = "ternctl";
	for (size_t at = 0; at <= size && argc <= FUZZ_ARGS_MAX; at += strlen(buf + at) + 1) {
		if (fuzz_arg_is_skipped(buf + at))
			return 0;
		argv[argc++] = buf + at;
	}
	argv[argc] = NULL;
	setenv("TERN_SOCKET", "/nonexistent/tern-fuzz.sock", 1);
	setenv("TERNCTL_TIMEOUT_MS", "50", 1);
	out = fopen("/dev/null", "w");
	err = fopen("/dev/null", "w");
	if (out == NULL || err == NULL)
		abort();
	(void)ctl_main_run(argc, argv, out, err);
	fclose(out);
	fclose(err);
	return 0;
}
