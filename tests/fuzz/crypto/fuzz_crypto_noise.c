/*
 * Fuzz target of crypto/noise: arbitrary bytes as a Noise IK handshake or transport
 * message to a peer whose keys, prologue and ephemerals are those of the public
 * cacophony vectors (so the seed corpus holds genuine messages).
 *
 * data[0] chooses the mode (data[0] % 3) and the suite ((data[0] / 3) % 8, in the
 * vectors' order: ChaChaPoly then AESGCM, each with SHA256, SHA512, BLAKE2s, BLAKE2b);
 * the rest is the message:
 *   0: message 1 to a fresh responder;
 *   1: message 2 to an initiator that sent the genuine message 1;
 *   2: a transport message to the responder after the genuine handshake.
 *
 * Invariant: whatever is accepted is exactly the genuine message, i.e. the honest peer
 * sending the accepted payload produces the same bytes; a rejected message leaves the
 * state unchanged. Anything else aborts.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto_noise.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t init_static[NOISE_KEY_LEN] = {0xe6, 0x1e, 0xf9, 0x91, 0x9c, 0xde, 0x45, 0xdd,
    0x5f, 0x82, 0x16, 0x64, 0x04, 0xbd, 0x08, 0xe3, 0x8b, 0xce, 0xb5, 0xdf, 0xdf, 0xde, 0xd0, 0xa3,
    0x4c, 0x8d, 0xf7, 0xed, 0x54, 0x22, 0x14, 0xd1};
static const uint8_t init_ephemeral[NOISE_KEY_LEN] = {0x89, 0x3e, 0x28, 0xb9, 0xdc, 0x6c, 0xa8,
    0xd6, 0x11, 0xab, 0x66, 0x47, 0x54, 0xb8, 0xce, 0xb7, 0xba, 0xc5, 0x11, 0x73, 0x49, 0xa4, 0x43,
    0x9a, 0x6b, 0x05, 0x69, 0xda, 0x97, 0x7c, 0x46, 0x4a};
static const uint8_t resp_static[NOISE_KEY_LEN] = {0x4a, 0x3a, 0xcb, 0xfd, 0xb1, 0x63, 0xde, 0xc6,
    0x51, 0xdf, 0xa3, 0x19, 0x4d, 0xec, 0xe6, 0x76, 0xd4, 0x37, 0x02, 0x9c, 0x62, 0xa4, 0x08, 0xb4,
    0xc5, 0xea, 0x91, 0x14, 0x24, 0x6e, 0x48, 0x93};
static const uint8_t resp_public[NOISE_KEY_LEN] = {0x31, 0xe0, 0x30, 0x3f, 0xd6, 0x41, 0x8d, 0x2f,
    0x8c, 0x0e, 0x78, 0xb9, 0x1f, 0x22, 0xe8, 0xca, 0xed, 0x0f, 0xbe, 0x48, 0x65, 0x6d, 0xcf, 0x47,
    0x67, 0xe4, 0x83, 0x4f, 0x70, 0x1b, 0x8f, 0x62};
static const uint8_t resp_ephemeral[NOISE_KEY_LEN] = {0xbb, 0xdb, 0x4c, 0xdb, 0xd3, 0x09, 0xf1,
    0xa1, 0xf2, 0xe1, 0x45, 0x69, 0x67, 0xfe, 0x28, 0x8c, 0xad, 0xd6, 0xf7, 0x12, 0xd6, 0x5d, 0xc7,
    0xb7, 0x79, 0x3d, 0x5e, 0x63, 0xda, 0x6b, 0x37, 0x5b};
static const char prologue[] = "John Galt";
static const char payload1[] = "Ludwig von Mises";
static const char payload2[] = "Murray Rothbard";

static const char *const ciphers[] = {"ChaChaPoly", "AESGCM"};
static const char *const hashes[] = {"SHA256", "SHA512", "BLAKE2s", "BLAKE2b"};

enum {
	FUZZ_BUF = NOISE_MESSAGE_MAX
};

static uint8_t got[FUZZ_BUF], again[FUZZ_BUF];

static void
check(int cond)
{
	if (!cond)
		abort();
}

/* A fresh initiator and responder with the vectors' keys and ephemerals. */
static void
fuzz_start(const struct noise_suite *suite, struct noise_handshake *ini,
    struct noise_handshake *resp)
{
	check(noise_handshake_init(ini, suite, true, (const uint8_t *)prologue,
	          sizeof(prologue) - 1, init_static, resp_public) == 0);
	check(noise_handshake_set_ephemeral(ini, init_ephemeral) == 0);
	check(noise_handshake_init(resp, suite, false, (const uint8_t *)prologue,
	          sizeof(prologue) - 1, resp_static, NULL) == 0);
	check(noise_handshake_set_ephemeral(resp, resp_ephemeral) == 0);
}

/* Feed msg to reader; if it is accepted, writer must produce the same bytes. */
static void
fuzz_read(struct noise_handshake *reader, struct noise_handshake *writer, const uint8_t *msg,
    size_t len)
{
	struct noise_handshake before = *reader;
	size_t glen, alen;
	int err;

	err = noise_handshake_read_message(reader, msg, len, got, sizeof(got), &glen);
	if (err != 0) {
		check(err == -EBADMSG);
		check(memcmp(&before, reader, sizeof(before)) == 0);
	} else {
		check(noise_handshake_write_message(writer, got, glen, again, sizeof(again),
		          &alen) == 0);
		check(alen == len && memcmp(again, msg, len) == 0);
	}
	noise_handshake_fini(&before);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct noise_handshake ini, resp;
	struct noise_cipher is, ir, rs, rr;
	struct noise_suite suite;
	uint8_t m[256];
	size_t mlen, glen, alen;
	unsigned mode, idx;
	int err;

	if (size < 1)
		return 0;
	mode = data[0] % 3;
	idx = (data[0] / 3) % 8;
	data++;
	size--;
	check(noise_suite_init(&suite, ciphers[idx / 4], hashes[idx % 4]) == 0);
	fuzz_start(&suite, &ini, &resp);

	if (mode == 0) {
		fuzz_read(&resp, &ini, data, size);
		goto out;
	}
	check(noise_handshake_write_message(&ini, (const uint8_t *)payload1, sizeof(payload1) - 1,
	          m, sizeof(m), &mlen) == 0);
	check(noise_handshake_read_message(&resp, m, mlen, got, sizeof(got), &glen) == 0);
	if (mode == 1) {
		fuzz_read(&ini, &resp, data, size);
		goto out;
	}
	check(noise_handshake_write_message(&resp, (const uint8_t *)payload2, sizeof(payload2) - 1,
	          m, sizeof(m), &mlen) == 0);
	check(noise_handshake_read_message(&ini, m, mlen, got, sizeof(got), &glen) == 0);
	check(noise_handshake_split(&ini, &is, &ir) == 0);
	check(noise_handshake_split(&resp, &rs, &rr) == 0);
	err = noise_cipher_decrypt(&rr, NULL, 0, data, size, got, sizeof(got), &glen);
	if (err == 0) {
		check(noise_cipher_encrypt(&is, NULL, 0, got, glen, again, sizeof(again), &alen) ==
		    0);
		check(alen == size && memcmp(again, data, size) == 0);
	} else {
		check(err == -EBADMSG || err == -EMSGSIZE);
		check(rr.nonce == 0);
	}
	noise_cipher_fini(&is);
	noise_cipher_fini(&ir);
	noise_cipher_fini(&rs);
	noise_cipher_fini(&rr);
out:
	noise_handshake_fini(&ini);
	noise_handshake_fini(&resp);
	return 0;
}
