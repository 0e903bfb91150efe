/* Key text and key files; see crypto_key.h. */
#include "crypto/crypto_key.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void
crypto_key_encode(const uint8_t key[CRYPTO_KEY_LEN], char text[CRYPTO_KEY_B64_LEN + 1])
{
	EVP_EncodeBlock((unsigned char *)text, key, CRYPTO_KEY_LEN);
	text[CRYPTO_KEY_B64_LEN] = '\0';
}

int
crypto_key_decode(const char *text, size_t len, uint8_t out[CRYPTO_KEY_LEN])
{
	/* EVP_DecodeBlock counts the padding byte: 33 bytes for a 32-byte key. */
	unsigned char raw[CRYPTO_KEY_LEN + 3];
	int rc = -EINVAL;

	memset(out, 0, CRYPTO_KEY_LEN);
	if (text == NULL || len != CRYPTO_KEY_B64_LEN || text[len - 1] != '=' ||
	    text[len - 2] == '=')
		return -EINVAL;
	for (size_t i = 0; i + 1 < len; i++) {
		char c = text[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		        c == '+' || c == '/'))
			return -EINVAL;
	}
	if (EVP_DecodeBlock(raw, (const unsigned char *)text, (int)len) == CRYPTO_KEY_LEN + 1) {
		memcpy(out, raw, CRYPTO_KEY_LEN);
		rc = 0;
	}
	OPENSSL_cleanse(raw, sizeof(raw));
	return rc;
}

int
crypto_key_public(const uint8_t priv[CRYPTO_KEY_LEN], uint8_t pub[CRYPTO_KEY_LEN])
{
	EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, CRYPTO_KEY_LEN);
	size_t len = CRYPTO_KEY_LEN;
	int rc = -EINVAL;

	if (pkey != NULL && EVP_PKEY_get_raw_public_key(pkey, pub, &len) == 1 &&
	    len == CRYPTO_KEY_LEN)
		rc = 0;
	EVP_PKEY_free(pkey);
	return rc;
}

int
crypto_key_derive(const uint8_t key[CRYPTO_KEY_LEN], const char *label, uint8_t out[CRYPTO_KEY_LEN])
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[4];
	int rc = -EIO;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] =
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, CRYPTO_KEY_LEN);
	params[2] =
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)label, strlen(label));
	params[3] = OSSL_PARAM_construct_end();
	if (ctx != NULL && EVP_KDF_derive(ctx, out, CRYPTO_KEY_LEN, params) == 1)
		rc = 0;
	else
		OPENSSL_cleanse(out, CRYPTO_KEY_LEN);
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return rc;
}

int
crypto_key_generate(uint8_t priv[CRYPTO_KEY_LEN])
{
	return RAND_priv_bytes(priv, CRYPTO_KEY_LEN) == 1 ? 0 : -EIO;
}

int
crypto_key_read_private_file(const char *path, uint8_t out[CRYPTO_KEY_LEN], char *why,
    size_t why_len)
{
	char text[CRYPTO_KEY_B64_LEN + 4];
	struct stat st;
	ssize_t n;
	size_t len;
	int fd, rc;

	memset(out, 0, CRYPTO_KEY_LEN);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		rc = -errno;
		snprintf(why, why_len, "cannot open the private key file: %s", strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(why, why_len, "the private key file is not a regular file");
		return -EINVAL;
	}
	if ((st.st_mode & 077) != 0) {
		close(fd);
		snprintf(why, why_len,
		    "the private key file has mode %03o: others may read it (chmod 600)",
		    (unsigned)(st.st_mode & 0777));
		return -EPERM;
	}
	n = read(fd, text, sizeof(text));
	rc = n < 0 ? -errno : 0;
	close(fd);
	if (rc < 0) {
		snprintf(why, why_len, "cannot read the private key file: %s", strerror(-rc));
		OPENSSL_cleanse(text, sizeof(text));
		return rc;
	}
	len = (size_t)n;
	if (len > 0 && text[len - 1] == '\n')
		len--;
	rc = crypto_key_decode(text, len, out);
	OPENSSL_cleanse(text, sizeof(text));
	if (rc < 0)
		snprintf(why, why_len,
		    "the private key file holds no key (expected one line of 44 base64 "
		    "characters, as `ternctl genkey` writes)");
	return rc;
}
