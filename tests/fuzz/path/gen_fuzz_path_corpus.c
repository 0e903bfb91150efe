/*
 * Writes the seed corpus of fuzz_path_probe: genuine probes from A to B in every mode
 * (fuzz_path_setup.h), plus a replay, damaged and truncated variants.
 * Usage: gen_fuzz_path_corpus <dir>  (tests/fuzz/corpus/fuzz_path_probe)
 */
#include <stdio.h>

#include "fuzz_path_setup.h"

static void
put(const char *dir, const char *name, uint8_t mode, const uint8_t *msg, size_t len)
{
	char path[4096];
	FILE *out;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	out = fopen(path, "wb");
	if (out == NULL || fwrite(&mode, 1, 1, out) != 1 || fwrite(msg, 1, len, out) != len ||
	    fclose(out) != 0) {
		perror(path);
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	static const char *names[4] = {"keyed", "plain", "keyed-fresh", "plain-fresh"};
	struct fuzz_path f;
	uint8_t msg[PATH_PROBE_LEN_MAX];
	char name[64];

	if (argc != 2) {
		fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
		return 2;
	}
	for (uint8_t mode = 0; mode < 4; mode++) {
		fuzz_path_setup(&f, mode);
		snprintf(name, sizeof(name), "%s", names[mode]);
		put(argv[1], name, mode, f.next, PATH_PROBE_LEN);
		snprintf(name, sizeof(name), "%s-nat", names[mode]);
		put(argv[1], name, (uint8_t)(mode | 4), f.next, PATH_PROBE_LEN);
		if (!(mode & 2)) {
			snprintf(name, sizeof(name), "%s-replay", names[mode]);
			put(argv[1], name, mode, f.prev, PATH_PROBE_LEN);
		}
		memcpy(msg, f.next, sizeof(msg));
		msg[PATH_PROBE_LEN - 1] ^= 1;
		snprintf(name, sizeof(name), "%s-bad-tag", names[mode]);
		put(argv[1], name, mode, msg, PATH_PROBE_LEN);
		snprintf(name, sizeof(name), "%s-truncated", names[mode]);
		put(argv[1], name, mode, f.next, PATH_PROBE_LEN - 1);
		/* The genuine probe must pass, or the corpus seeds nothing deep. */
		if (path_prober_receive(f.b, 1, &f.addr_a, PATH_PROBE_PORT, f.next, PATH_PROBE_LEN,
		        f.now, &f.ev) != 0) {
			fprintf(stderr, "mode %u: the genuine probe was refused\n", mode);
			return 1;
		}
		fuzz_path_teardown(&f);
	}
	/* B learns A (A behind a NAT): A's genuine probes carry the OBSERVED field. */
	fuzz_path_setup(&f, 8);
	if (f.next_len != PATH_PROBE_LEN_MAX) {
		fprintf(stderr, "learn: A's probe has no observed address\n");
		return 1;
	}
	put(argv[1], "keyed-learn", 8, f.next, f.next_len);
	put(argv[1], "keyed-learn-moved", 8 | 4, f.next, f.next_len);
	memcpy(msg, f.next, f.next_len);
	msg[50] ^= 0x40; /* another observed port: the tag no longer matches */
	put(argv[1], "keyed-learn-bad-tag", 8, msg, f.next_len);
	if (path_prober_receive(f.b, 1, &f.addr_a, PATH_PROBE_PORT, f.next, f.next_len, f.now,
	        &f.ev) != 0) {
		fprintf(stderr, "learn: the genuine probe was refused\n");
		return 1;
	}
	fuzz_path_teardown(&f);
	fuzz_path_setup(&f, 8 | 2);
	put(argv[1], "keyed-learn-fresh", 8 | 2, f.next, f.next_len);
	fuzz_path_teardown(&f);
	memset(msg, 0, sizeof(msg));
	put(argv[1], "empty", 0, msg, 0);
	msg[0] = PATH_PROBE_TYPE;
	msg[2] = PATH_PROBE_VERSION;
	put(argv[1], "zeros", 1, msg, PATH_PROBE_LEN);
	return 0;
}
