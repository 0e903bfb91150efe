/*
 * Fuzz target of the TLS SNI learner: an arbitrary first payload to policy_tls_sni().
 *
 * Invariants: only the documented results; a name is NUL-terminated, of the returned
 * length, lower case, made of labels; a shorter buffer gives -ENOSPC, not a cut name;
 * and any prefix of the payload gives -EAGAIN or the same result and name as the whole.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy_sni.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond)
{
	if (!cond)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[256], again[256];
	size_t cut;
	int rc, rc2;

	rc = policy_tls_sni(data, size, name, sizeof(name));
	check(rc >= 0 || rc == -EAGAIN || rc == -EINVAL || rc == -ENOENT || rc == -EILSEQ ||
	    rc == -EOPNOTSUPP);
	if (rc >= 0) {
		check(rc > 0 && rc <= 253 && strlen(name) == (size_t)rc);
		check(name[0] != '.' && name[rc - 1] != '.');
		for (int i = 0; i < rc; i++)
			check(name[i] == '.' || name[i] == '-' || name[i] == '_' ||
			    (name[i] >= 'a' && name[i] <= 'z') ||
			    (name[i] >= '0' && name[i] <= '9'));
		check(policy_tls_sni(data, size, again, (size_t)rc) == -ENOSPC);
	}
	/* A prefix whose length the input's last byte picks. */
	cut = size > 0 ? data[size - 1] % (size + 1) : 0;
	rc2 = policy_tls_sni(data, cut, again, sizeof(again));
	check(rc2 == -EAGAIN || rc2 == rc);
	if (rc2 >= 0)
		check(strcmp(again, name) == 0);
	return 0;
}
