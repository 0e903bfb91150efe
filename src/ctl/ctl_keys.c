/* ternctl genkey / pubkey; see ctl_keys.h. The key codec is crypto_key's. */
#include "ctl/ctl_keys.h"

#include <openssl/crypto.h>
#include <string.h>
#include <sys/stat.h>

#include "crypto/crypto_key.h"

/* ternctl's exit statuses (ctl_main.c): ok, failed, usage. */
#define CTL_KEYS_OK     0
#define CTL_KEYS_FAILED 1
#define CTL_KEYS_USAGE  2

static int
ctl_keys_write(FILE *out, const uint8_t key[CRYPTO_KEY_LEN])
{
	char text[CRYPTO_KEY_B64_LEN + 1];
	int ok;

	crypto_key_encode(key, text);
	ok = fprintf(out, "%s\n", text) > 0 && fflush(out) == 0;
	OPENSSL_cleanse(text, sizeof(text));
	return ok ? 0 : -1;
}

int
ctl_keys_genkey(FILE *out, FILE *err)
{
	uint8_t key[CRYPTO_KEY_LEN];
	struct stat st;
	int rc = CTL_KEYS_OK;

	if (fstat(fileno(out), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) != 0)
		fprintf(err,
		    "ternctl: warning: writing a private key to a file others may read "
		    "(use umask 077)\n");
	if (crypto_key_generate(key) < 0) {
		fprintf(err, "ternctl: no random bytes for a key\n");
		return CTL_KEYS_FAILED;
	}
	if (ctl_keys_write(out, key) < 0) {
		fprintf(err, "ternctl: cannot write the key\n");
		rc = CTL_KEYS_FAILED;
	}
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

int
ctl_keys_pubkey(FILE *in, FILE *out, FILE *err)
{
	char line[128];
	uint8_t priv[CRYPTO_KEY_LEN], pub[CRYPTO_KEY_LEN];
	int rc = CTL_KEYS_FAILED;

	if (fgets(line, sizeof(line), in) == NULL) {
		fprintf(err, "ternctl: pubkey reads a private key from standard input\n");
		return CTL_KEYS_USAGE;
	}
	if (crypto_key_decode(line, strcspn(line, "\r\n"), priv) < 0) {
		fprintf(err,
		    "ternctl: not a key: expected 44 base64 characters (ternctl genkey)\n");
		goto out;
	}
	if (crypto_key_public(priv, pub) < 0) {
		fprintf(err, "ternctl: cannot derive the public key\n");
		goto out;
	}
	if (ctl_keys_write(out, pub) < 0) {
		fprintf(err, "ternctl: cannot write the key\n");
		goto out;
	}
	rc = CTL_KEYS_OK;
out:
	OPENSSL_cleanse(line, sizeof(line));
	OPENSSL_cleanse(priv, sizeof(priv));
	return rc;
}
