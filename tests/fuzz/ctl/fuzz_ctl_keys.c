/*
 * Fuzz target for ternctl pubkey's key parser: arbitrary bytes as standard input.
 * Invariant: it either refuses (printing nothing on standard output) or prints one
 * 44-character base64 line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[256], err[512];
	FILE *in, *o, *e;
	int rc;

	if (size == 0 || size > 4096)
		return 0;
	in = fmemopen((void *)data, size, "r");
	o = fmemopen(out, sizeof(out), "w");
	e = fmemopen(err, sizeof(err), "w");
	if (in == NULL || o == NULL || e == NULL)
		abort();
	memset(out, 0, sizeof(out));
	rc = ctl_keys_pubkey(in, o, e);
	fclose(in);
	fclose(o);
	fclose(e);
	if (rc == 0 ? strlen(out) != 45 || out[44] != '\n' : out[0] != '\0')
		abort();
	return 0;
}
