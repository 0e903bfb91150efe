/*
 * Writes the seed corpus of fuzz_keyx_msg: the genuine message of every type, as the
 * fuzz target's routers exchange them (fuzz_keyx_setup.h), plus damaged variants.
 * Usage: gen_fuzz_keyx_corpus <dir>  (tests/fuzz/corpus/fuzz_keyx_msg)
 */
#include <errno.h>
#include <stdio.h>

#include "fuzz_keyx_setup.h"

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
	struct fuzz_keyx f;
	uint8_t msg[KEYX_MSG_MAX];
	size_t len;

	if (argc != 2) {
		fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
		return 2;
	}
	/* Message 1 to the fresh responder, also under load (answered by a cookie). */
	(void)fuzz_keyx_setup(&f, 2, false);
	put(argv[1], "init", 0, f.msg1, f.msg1_len);
	put(argv[1], "init-load", 3, f.msg1, f.msg1_len);
	put(argv[1], "init-truncated", 0, f.msg1, f.msg1_len - 1);
	/* Message 2 to the initiator. */
	put(argv[1], "resp", 1, f.msg2, f.msg2_len);
	put(argv[1], "resp-load", 4, f.msg2, f.msg2_len);
	/* The confirm, made by the initiator from message 2. */
	f.ev.count = 0;
	if (keyx_receive(f.i, &f.ep_r, f.msg2, f.msg2_len, FUZZ_KEYX_T0, &f.ev) != 0 ||
	    !fuzz_keyx_take_send(&f, msg, &len))
		return 1;
	put(argv[1], "confirm", 2, msg, len);
	msg[len - 1] ^= 1;
	put(argv[1], "confirm-bad-tag", 2, msg, len);
	fuzz_keyx_teardown(&f);
	/* A cookie reply to the initiator's message 1 from a responder under load. */
	(void)fuzz_keyx_setup(&f, 1, false);
	fuzz_keyx_load(&f, f.r, fuzz_keyx_priv_r);
	f.ev.count = 0;
	if (keyx_receive(f.r, &f.ep_i, f.msg1, f.msg1_len, FUZZ_KEYX_T0, &f.ev) != -EBUSY ||
	    !fuzz_keyx_take_send(&f, msg, &len) || msg[0] != KEYX_MSG_COOKIE)
		return 1;
	put(argv[1], "cookie", 1, msg, len);
	put(argv[1], "cookie-load", 4, msg, len);
	fuzz_keyx_teardown(&f);
	memset(msg, 0, sizeof(msg));
	put(argv[1], "empty", 0, msg, 0);
	put(argv[1], "zeros", 1, msg, 92);
	return 0;
}
