/* Name normalisation for the policy (policy_name.h). */
#include "policy/policy_name.h"

#include <errno.h>
#include <string.h>

#include "policy/policy_engine.h"

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

int
policy_name_domain(const char *in, char *out, size_t cap)
{
	size_t n, label = 0;

	if (in == NULL)
		return -EINVAL;
	n = strlen(in);
	if (n > 0 && in[n - 1] == '.')
		n--;
	if (n == 0 || n > POLICY_DOMAIN_MAX || n >= cap)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (in[i] == '.') {
			if (label == 0)
				return -EINVAL;
			label = 0;
		} else if (!policy_name_label_char((unsigned char)in[i]) || ++label > 63) {
			return -EINVAL;
		}
		out[i] = lower(in[i]);
	}
	if (label == 0)
		return -EINVAL;
	out[n] = '\0';
	return (int)n;
}

int
policy_name_app(const char *in, char *out, size_t cap)
{
	size_t n;

	if (in == NULL)
		return -EINVAL;
	n = strlen(in);
	if (n == 0 || n > POLICY_APP_MAX || n >= cap)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (in[i] <= ' ' || in[i] > '~')
			return -EINVAL;
		out[i] = lower(in[i]);
	}
	out[n] = '\0';
	return (int)n;
}
