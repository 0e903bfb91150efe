/* ternctl genkey / pubkey; see ctl_keys.h. */
#include "ctl/ctl_keys.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>
#include <sys/stat.h>

#define CTL_KEY_LEN     32
#define CTL_KEY_B64_LEN 44 /* 4 * ceil(32 / 3) */

/* ternctl's exit statuses (ctl_main.c): ok, failed, usage. */
#define CTL_KEYS_OK     0
#define CTL_KEYS_FAILED 1
#define CTL_KEYS_USAGE  2

static int
ctl_keys_write(FILE *out, const unsigned char key[CTL_KEY_LEN])
{
	unsigned char text[CTL_KEY_B64_LEN + 1];
	int n = EVP_EncodeBlock(text, key, CTL_KEY_LEN);
	int ok = n == CTL_KEY_B64_LEN && fprintf(out, "%s\n", (char *)text) > 0 && fflush(out) == 0;

	OPENSSL_cleanse(text, sizeof(text));
	return ok ? 0 : -1;
}

int
ctl_keys_genkey(FILE *out, FILE *err)
{
	unsigned char key[CTL_KEY_LEN];
	struct stat st;
	int rc = CTL_KEYS_OK;

	if (fstat(fileno(out), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) != 0)
		fprintf(err,
		    "ternctl: warning: writing a private key to a file others may read "
		    "(use umask 077)\n");
	if (RAND_priv_bytes(key, sizeof(key)) != 1) {
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
	unsigned char raw[CTL_KEY_LEN + 3], pub[CTL_KEY_LEN];
	size_t len, pub_len = sizeof(pub);
	EVP_PKEY *pkey = NULL;
	int n, rc = CTL_KEYS_FAILED;

	if (fgets(line, sizeof(line), in) == NULL) {
		fprintf(err, "ternctl: pubkey reads a private key from standard input\n");
		return CTL_KEYS_USAGE;
	}
	len = strcspn(line, "\r\n");
	line[len] = '\0';
	/* 44 base64 characters ending in one '=': exactly 32 bytes. */
	if (len != CTL_KEY_B64_LEN || line[CTL_KEY_B64_LEN - 1] != '=' ||
	    line[CTL_KEY_B64_LEN - 2] == '=' ||
	    (n = EVP_DecodeBlock(raw, (unsigned char *)line, (int)len)) != CTL_KEY_LEN + 1) {
		fprintf(err,
		    "ternctl: not a key: expected 44 base64 characters (ternctl genkey)\n");
		goto out;
	}
	pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, raw, CTL_KEY_LEN);
	if (pkey == NULL || EVP_PKEY_get_raw_public_key(pkey, pub, &pub_len) != 1 ||
	    pub_len != CTL_KEY_LEN) {
		fprintf(err, "ternctl: cannot derive the public key\n");
		goto out;
	}
	if (ctl_keys_write(out, pub) < 0) {
		fprintf(err, "ternctl: cannot write the key\n");
		goto out;
	}
	rc = CTL_KEYS_OK;
out:
	EVP_PKEY_free(pkey);
	OPENSSL_cleanse(line, sizeof(line));
	OPENSSL_cleanse(raw, sizeof(raw));
	return rc;
}
