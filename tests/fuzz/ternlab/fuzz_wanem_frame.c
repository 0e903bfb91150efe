/*
 * Fuzzes ternlab-wanem's look into frames (wanem_frame_is_tcp_syn_data): arbitrary
 * bytes never read out of bounds, and the answer depends only on the bytes given (a
 * copy in a buffer of exactly that size answers the same).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wanem_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	bool a, b;

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	a = wanem_frame_is_tcp_syn_data(data, size);
	b = wanem_frame_is_tcp_syn_data(copy, size);
	if (a != b)
		abort();
	free(copy);
	return 0;
}
