/*
 * A router's static X25519 keys as text and as files: base64 of the 32 raw bytes, one
 * per line, the format of `ternctl genkey` and `wg genkey`. Shared by ternctl (which
 * makes and prints keys) and ternd (which reads its private key file and its peers'
 * public keys from the configuration).
 *
 * Invariants: every buffer that held a private key is wiped with OPENSSL_cleanse()
 * before return, on success and on failure; nothing here prints or logs a key.
 *
 * Threads: no shared state; any thread.
 */
#ifndef TERN_CRYPTO_KEY_H
#define TERN_CRYPTO_KEY_H

#include <stddef.h>
#include <stdint.h>

#define CRYPTO_KEY_LEN     32
#define CRYPTO_KEY_B64_LEN 44 /* 4 * ceil(32 / 3), ending in one '=' */

/* Writes the base64 text of key and a NUL into text (CRYPTO_KEY_B64_LEN + 1 bytes). */
void crypto_key_encode(const uint8_t key[CRYPTO_KEY_LEN], char text[CRYPTO_KEY_B64_LEN + 1]);

/*
 * Decodes text[0..len): exactly 44 base64 characters ending in one '=' (trailing
 * newline characters are not accepted here; the caller strips them). 0, or -EINVAL for
 * anything else (out is then zeroed).
 */
int crypto_key_decode(const char *text, size_t len, uint8_t out[CRYPTO_KEY_LEN]);

/* The public key of an X25519 private key. 0, or -EINVAL if OpenSSL refuses it. */
int crypto_key_public(const uint8_t priv[CRYPTO_KEY_LEN], uint8_t pub[CRYPTO_KEY_LEN]);

/*
 * A key for another use of the same secret: HKDF-SHA256 (RFC 5869) of key with the
 * label as info and no salt. 0, or -EIO if OpenSSL fails (out is then zeroed).
 */
int crypto_key_derive(const uint8_t key[CRYPTO_KEY_LEN], const char *label,
    uint8_t out[CRYPTO_KEY_LEN]);

/* A new random private key from RAND_priv_bytes(). 0, or -EIO. */
int crypto_key_generate(uint8_t priv[CRYPTO_KEY_LEN]);

/*
 * Reads a private key file: a regular file of one base64 key (an optional final
 * newline), that neither the group nor others may read or write, as the file of `wg`
 * is. 0, or a negative errno with why[0..why_len) set to a sentence for the operator:
 * -ENOENT / -EACCES / ... from open(), -EPERM when the mode lets others read it,
 * -EINVAL when it holds no key.
 */
int crypto_key_read_private_file(const char *path, uint8_t out[CRYPTO_KEY_LEN], char *why,
    size_t why_len);

#endif
