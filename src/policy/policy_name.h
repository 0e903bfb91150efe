/*
 * Domain and application names as the policy compares them (internal to src/policy):
 * lower case, no trailing dot, labels of letters, digits, '-' and '_'.
 *
 * Threads: pure functions.
 */
#ifndef TERN_POLICY_POLICY_NAME_H
#define TERN_POLICY_POLICY_NAME_H

#include <stdbool.h>
#include <stddef.h>

/* Letters, digits, '-' and '_' (the '_' of service labels like _sip._tcp). */
static inline bool
policy_name_label_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '_';
}

/*
 * Copies the domain name in (one optional trailing dot) into out (cap bytes) in lower
 * case and returns its length, or -EINVAL: empty, an empty label, a label over 63
 * bytes, a name over POLICY_DOMAIN_MAX, a character outside the label set, or longer
 * than cap - 1.
 */
int policy_name_domain(const char *in, char *out, size_t cap);

/* Same for an application name: 1..POLICY_APP_MAX printable characters but spaces. */
int policy_name_app(const char *in, char *out, size_t cap);

#endif
