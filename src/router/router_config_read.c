/*
 * Typed reads of JSON values for the configuration parser (router_config_read.h): the
 * JSON path cursor, and one function per kind of value with its limits, each reporting
 * what it expected at the path of the value at fault.
 */
#include "router/router_config_read.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto_key.h"

/* Input text quoted in a message is cut after this many bytes. */
#define QUOTE_CHARS 40
#define QUOTE_MAX   (QUOTE_CHARS * 4 + 8)

void
router_config_reader_init(struct router_config_reader *r, struct router_config_errors *errors)
{
	memset(r, 0, sizeof(*r));
	r->errors = errors;
	r->path[0] = '$';
	r->path[1] = '\0';
	r->path_len = 1;
}

static void
reader_append(struct router_config_reader *r, const char *text)
{
	size_t n = strlen(text);

	/* A path too deep to print whole ends in "..."; it stays a valid prefix to read. */
	if (r->path_len + n + 4 > sizeof(r->path)) {
		if (r->path_len + 4 <= sizeof(r->path) &&
		    strcmp(r->path + r->path_len - 3, "...") != 0) {
			memcpy(r->path + r->path_len, "...", 4);
			r->path_len += 3;
		}
		return;
	}
	memcpy(r->path + r->path_len, text, n + 1);
	r->path_len += n;
}

static bool
key_is_plain(const char *key)
{
	if (*key == '\0')
		return false;
	for (const char *c = key; *c != '\0'; c++) {
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		        (*c >= '0' && *c <= '9') || *c == '_'))
			return false;
	}
	return true;
}

size_t
router_config_reader_key(struct router_config_reader *r, const char *key)
{
	size_t saved = r->path_len;
	char part[QUOTE_MAX + 4];

	/* Keys from the input that are not identifiers use the bracket form, quoted. */
	if (key_is_plain(key) && strlen(key) <= QUOTE_CHARS) {
		snprintf(part, sizeof(part), ".%s", key);
	} else {
		char quoted[QUOTE_MAX];

		router_config_quote(key, QUOTE_CHARS, quoted, sizeof(quoted));
		snprintf(part, sizeof(part), "[%s]", quoted);
	}
	reader_append(r, part);
	return saved;
}

size_t
router_config_reader_index(struct router_config_reader *r, size_t index)
{
	size_t saved = r->path_len;
	char part[32];

	snprintf(part, sizeof(part), "[%zu]", index);
	reader_append(r, part);
	return saved;
}

void
router_config_reader_up(struct router_config_reader *r, size_t saved)
{
	r->path_len = saved;
	r->path[saved] = '\0';
}

void
router_config_reader_error(struct router_config_reader *r, const char *fmt, ...)
{
	char message[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	router_config_errors_add(r->errors, r->path, "%s", message);
}

const char *
router_config_json_type(const json_t *value)
{
	switch (json_typeof(value)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number with a fraction or exponent";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "an unknown JSON value";
}

bool
router_config_read_object(struct router_config_reader *r, const json_t *value,
    const char *const *known)
{
	const char *key;
	json_t *member;

	if (!json_is_object(value)) {
		router_config_reader_error(r, "expected an object, got %s",
		    router_config_json_type(value));
		return false;
	}
	json_object_foreach((json_t *)value, key, member)
	{
		size_t i, saved;
		char list[256];
		size_t used = 0;

		for (i = 0; known[i] != NULL; i++) {
			if (strcmp(known[i], key) == 0)
				break;
		}
		if (known[i] != NULL)
			continue;
		list[0] = '\0';
		for (i = 0; known[i] != NULL && used < sizeof(list); i++)
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
			    i > 0 ? ", " : "", known[i]);
		saved = router_config_reader_key(r, key);
		router_config_reader_error(r, "unknown key (expected one of: %s)", list);
		router_config_reader_up(r, saved);
	}
	return true;
}

bool
router_config_name_is_valid(const char *text)
{
	size_t n = strlen(text);

	if (n == 0 || n > ROUTER_CONFIG_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = text[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		        c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

char *
router_config_reader_strdup(struct router_config_reader *r, const char *s)
{
	char *copy = strdup(s);

	if (copy == NULL)
		r->has_oom = true;
	return copy;
}

void *
router_config_reader_calloc(struct router_config_reader *r, size_t n, size_t size)
{
	void *p = calloc(n > 0 ? n : 1, size);

	if (p == NULL)
		r->has_oom = true;
	return p;
}

/* The string at the current path, or NULL after reporting what it is instead. */
static const char *
value_string(struct router_config_reader *r, const json_t *value, const char *what)
{
	if (!json_is_string(value)) {
		router_config_reader_error(r, "expected %s, got %s", what,
		    router_config_json_type(value));
		return NULL;
	}
	return json_string_value(value);
}

bool
router_config_value_name(struct router_config_reader *r, const json_t *value, char **out)
{
	const char *text = value_string(r, value, "a name (a string)");
	char quoted[QUOTE_MAX];

	if (text == NULL)
		return false;
	if (!router_config_name_is_valid(text)) {
		size_t n = strlen(text);

		router_config_quote(text, QUOTE_CHARS, quoted, sizeof(quoted));
		if (n == 0)
			router_config_reader_error(r, "name is empty (expected 1 to %d characters)",
			    ROUTER_CONFIG_NAME_MAX);
		else if (n > ROUTER_CONFIG_NAME_MAX)
			router_config_reader_error(r,
			    "name %s is %zu characters long (at most %d allowed)", quoted, n,
			    ROUTER_CONFIG_NAME_MAX);
		else
			router_config_reader_error(r,
			    "name %s has a character outside A-Z, a-z, 0-9, '.', '_', '-'", quoted);
		return false;
	}
	*out = router_config_reader_strdup(r, text);
	return *out != NULL;
}

bool
router_config_read_name(struct router_config_reader *r, const json_t *obj, const char *key,
    bool required, char **out)
{
	const json_t *value = json_object_get(obj, key);
	size_t saved;
	bool ok;

	saved = router_config_reader_key(r, key);
	if (value == NULL) {
		if (required)
			router_config_reader_error(r, "missing (expected a name)");
		ok = false;
	} else {
		ok = router_config_value_name(r, value, out);
	}
	router_config_reader_up(r, saved);
	return ok;
}

bool
router_config_read_device(struct router_config_reader *r, const json_t *obj, const char *key,
    bool required, char **out)
{
	const json_t *value = json_object_get(obj, key);
	char quoted[QUOTE_MAX];
	const char *text;
	size_t saved, n;
	bool ok = false;

	saved = router_config_reader_key(r, key);
	if (value == NULL) {
		if (required)
			router_config_reader_error(r, "missing (expected a device name)");
		goto out;
	}
	text = value_string(r, value, "a device name (a string)");
	if (text == NULL)
		goto out;
	n = strlen(text);
	router_config_quote(text, QUOTE_CHARS, quoted, sizeof(quoted));
	/* The same characters as names, without the Linux names "." and "..". */
	if (n > ROUTER_CONFIG_DEVICE_MAX) {
		router_config_reader_error(r,
		    "device name %s is %zu characters long (at most %d allowed)", quoted, n,
		    ROUTER_CONFIG_DEVICE_MAX);
		goto out;
	}
	if (!router_config_name_is_valid(text) || strcmp(text, ".") == 0 ||
	    strcmp(text, "..") == 0) {
		router_config_reader_error(r,
		    "device name %s is not valid (expected 1 to %d of A-Z, a-z, 0-9, '.', '_', "
		    "'-')",
		    quoted, ROUTER_CONFIG_DEVICE_MAX);
		goto out;
	}
	*out = router_config_reader_strdup(r, text);
	ok = *out != NULL;
out:
	router_config_reader_up(r, saved);
	return ok;
}

bool
router_config_read_uint(struct router_config_reader *r, const json_t *obj, const char *key,
    uint32_t min, uint32_t max, uint32_t *out)
{
	const json_t *value = json_object_get(obj, key);
	json_int_t v;
	size_t saved;
	bool ok = false;

	if (value == NULL)
		return false;
	saved = router_config_reader_key(r, key);
	if (!json_is_integer(value)) {
		router_config_reader_error(r, "expected an integer from %u to %u, got %s", min, max,
		    router_config_json_type(value));
		goto out;
	}
	v = json_integer_value(value);
	if (v < (json_int_t)min || v > (json_int_t)max) {
		router_config_reader_error(r, "%lld is out of range (expected %u to %u)",
		    (long long)v, min, max);
		goto out;
	}
	*out = (uint32_t)v;
	ok = true;
out:
	router_config_reader_up(r, saved);
	return ok;
}

bool
router_config_read_bool(struct router_config_reader *r, const json_t *obj, const char *key,
    bool *out)
{
	const json_t *value = json_object_get(obj, key);
	size_t saved;

	if (value == NULL)
		return false;
	saved = router_config_reader_key(r, key);
	if (json_is_boolean(value))
		*out = json_is_true(value);
	else
		router_config_reader_error(r, "expected true or false, got %s",
		    router_config_json_type(value));
	router_config_reader_up(r, saved);
	return json_is_boolean(value);
}

bool
router_config_read_number(struct router_config_reader *r, const json_t *obj, const char *key,
    double min, double max, double *out)
{
	const json_t *value = json_object_get(obj, key);
	size_t saved;
	double v;
	bool ok = false;

	if (value == NULL)
		return false;
	saved = router_config_reader_key(r, key);
	if (!json_is_number(value)) {
		router_config_reader_error(r, "expected a number from %g to %g, got %s", min, max,
		    router_config_json_type(value));
		goto out;
	}
	v = json_number_value(value);
	if (!(v >= min && v <= max)) {
		router_config_reader_error(r, "%g is out of range (expected %g to %g)", v, min,
		    max);
		goto out;
	}
	*out = v;
	ok = true;
out:
	router_config_reader_up(r, saved);
	return ok;
}

bool
router_config_read_addr(struct router_config_reader *r, const json_t *obj, const char *key,
    bool required, struct addr *out)
{
	const json_t *value = json_object_get(obj, key);
	char quoted[QUOTE_MAX];
	const char *text;
	size_t saved;
	bool ok = false;

	saved = router_config_reader_key(r, key);
	if (value == NULL) {
		if (required)
			router_config_reader_error(r, "missing (expected an IPv4 or IPv6 address)");
		goto out;
	}
	text = value_string(r, value, "an IPv4 or IPv6 address (a string)");
	if (text == NULL)
		goto out;
	if (addr_parse(text, out) != 0) {
		router_config_quote(text, QUOTE_CHARS, quoted, sizeof(quoted));
		router_config_reader_error(r,
		    "%s is not an address (expected IPv4 like \"192.0.2.1\" or IPv6 like "
		    "\"2001:db8::1\", without a prefix length)",
		    quoted);
		goto out;
	}
	ok = true;
out:
	router_config_reader_up(r, saved);
	return ok;
}

const json_t *
router_config_read_array(struct router_config_reader *r, const json_t *obj, const char *key,
    bool required, size_t min_count, size_t max_count)
{
	const json_t *value = json_object_get(obj, key);
	const json_t *result = NULL;
	size_t saved, n;

	saved = router_config_reader_key(r, key);
	if (value == NULL) {
		if (required)
			router_config_reader_error(r, "missing (expected an array)");
		goto out;
	}
	if (!json_is_array(value)) {
		router_config_reader_error(r, "expected an array, got %s",
		    router_config_json_type(value));
		goto out;
	}
	n = json_array_size(value);
	if (n < min_count) {
		router_config_reader_error(r, "expected at least %zu %s, got %zu", min_count,
		    min_count == 1 ? "entry" : "entries", n);
		goto out;
	}
	if (n > max_count) {
		router_config_reader_error(r, "has %zu entries (at most %zu allowed)", n,
		    max_count);
		goto out;
	}
	result = value;
out:
	router_config_reader_up(r, saved);
	return result;
}

bool
router_config_value_prefix(struct router_config_reader *r, const json_t *value, struct prefix *out)
{
	const char *text = value_string(r, value, "a prefix (a string like \"10.1.0.0/24\")");
	char quoted[QUOTE_MAX];
	int rc;

	if (text == NULL)
		return false;
	rc = prefix_parse(text, out);
	if (rc == 0)
		return true;
	router_config_quote(text, QUOTE_CHARS, quoted, sizeof(quoted));
	if (rc == -EDOM)
		router_config_reader_error(r,
		    "prefix %s has host bits set (expected the network address, e.g. "
		    "\"10.1.0.0/24\")",
		    quoted);
	else if (rc == -ERANGE)
		router_config_reader_error(r,
		    "prefix %s has a length out of range (0-32 for IPv4, 0-128 for IPv6)", quoted);
	else
		router_config_reader_error(r,
		    "%s is not a prefix (expected an address and length like \"10.1.0.0/24\" or "
		    "\"2001:db8::/64\")",
		    quoted);
	return false;
}

bool
router_config_value_addr_len(struct router_config_reader *r, const json_t *value, struct addr *addr,
    uint8_t *len)
{
	const char *text = value_string(r, value, "an address with a length (a string)");
	char quoted[QUOTE_MAX], head[ADDR_TEXT_MAX];
	const char *slash, *digits;
	unsigned long n = 0;
	struct addr a;
	size_t head_len;

	if (text == NULL)
		return false;
	router_config_quote(text, QUOTE_CHARS, quoted, sizeof(quoted));
	slash = strchr(text, '/');
	head_len = slash != NULL ? (size_t)(slash - text) : 0;
	if (slash == NULL || head_len == 0 || head_len >= sizeof(head))
		goto bad;
	memcpy(head, text, head_len);
	head[head_len] = '\0';
	if (addr_parse(head, &a) != 0)
		goto bad;
	/* Plain decimal digits only, one to three of them. */
	digits = slash + 1;
	if (*digits == '\0' || strlen(digits) > 3)
		goto bad;
	for (const char *d = digits; *d != '\0'; d++) {
		if (*d < '0' || *d > '9')
			goto bad;
		n = n * 10 + (unsigned long)(*d - '0');
	}
	if (n < 1 || n > addr_bits(&a)) {
		router_config_reader_error(r,
		    "%s has a length out of range (1-32 for IPv4, 1-128 for IPv6)", quoted);
		return false;
	}
	*addr = a;
	*len = (uint8_t)n;
	return true;
bad:
	router_config_reader_error(r,
	    "%s is not an address with a length (expected e.g. \"10.1.0.1/24\" or "
	    "\"2001:db8::1/64\")",
	    quoted);
	return false;
}

/* A port number 1..65535 of plain digits, all of [text, end). */
static bool
port_parse(const char *text, const char *end, uint16_t *out)
{
	unsigned long v = 0;

	if (text == end || end - text > 5)
		return false;
	for (const char *c = text; c < end; c++) {
		if (*c < '0' || *c > '9')
			return false;
		v = v * 10 + (unsigned long)(*c - '0');
	}
	if (v < 1 || v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

bool
router_config_value_ports(struct router_config_reader *r, const json_t *value,
    struct router_config_ports *out)
{
	const char *text = value_string(r, value, "a port spec (a string like \"tcp/443\")");
	char quoted[QUOTE_MAX];
	const char *slash, *dash, *end;
	struct router_config_ports p = {0};

	if (text == NULL)
		return false;
	router_config_quote(text, QUOTE_CHARS, quoted, sizeof(quoted));
	if (strcmp(text, "icmp") == 0) {
		p.proto = ROUTER_CONFIG_PROTO_ICMP;
		p.port_last = 65535;
		goto ok;
	}
	slash = strchr(text, '/');
	if (strncmp(text, "tcp", 3) == 0 && (text[3] == '\0' || text[3] == '/'))
		p.proto = ROUTER_CONFIG_PROTO_TCP;
	else if (strncmp(text, "udp", 3) == 0 && (text[3] == '\0' || text[3] == '/'))
		p.proto = ROUTER_CONFIG_PROTO_UDP;
	else
		goto bad;
	if (slash == NULL) {
		p.port_last = 65535;
		goto ok;
	}
	end = slash + strlen(slash);
	dash = strchr(slash + 1, '-');
	if (dash == NULL) {
		if (!port_parse(slash + 1, end, &p.port_first))
			goto bad;
		p.port_last = p.port_first;
	} else {
		if (!port_parse(slash + 1, dash, &p.port_first) ||
		    !port_parse(dash + 1, end, &p.port_last))
			goto bad;
		if (p.port_last < p.port_first) {
			router_config_reader_error(r,
			    "port range %s ends before it starts (expected first <= last)", quoted);
			return false;
		}
	}
ok:
	*out = p;
	return true;
bad:
	router_config_reader_error(r,
	    "%s is not a port spec (expected \"tcp\", \"udp\", \"tcp/443\", \"udp/53\", "
	    "\"tcp/8000-8080\" with ports 1-65535, or \"icmp\")",
	    quoted);
	return false;
}

bool
router_config_read_path(struct router_config_reader *r, const json_t *obj, const char *key,
    bool required, char **out)
{
	const json_t *value = json_object_get(obj, key);
	const char *text;
	size_t saved = router_config_reader_key(r, key);
	bool ok = false;

	if (value == NULL) {
		if (required)
			router_config_reader_error(r, "missing (expected a file name)");
		goto out;
	}
	text = value_string(r, value, "a file name (a string)");
	if (text == NULL)
		goto out;
	if (text[0] == '\0' || strlen(text) > ROUTER_CONFIG_FILE_NAME_MAX) {
		router_config_reader_error(r, "expected a file name of 1 to %d characters",
		    ROUTER_CONFIG_FILE_NAME_MAX);
		goto out;
	}
	*out = router_config_reader_strdup(r, text);
	ok = *out != NULL;
out:
	router_config_reader_up(r, saved);
	return ok;
}

bool
router_config_read_choice(struct router_config_reader *r, const json_t *obj, const char *key,
    const char *const *choices, uint8_t *out)
{
	const json_t *value = json_object_get(obj, key);
	char quoted[QUOTE_MAX], list[160] = "";
	const char *text;
	size_t saved, used = 0;
	bool ok = false;

	if (value == NULL)
		return false;
	saved = router_config_reader_key(r, key);
	for (size_t i = 0; choices[i] != NULL; i++)
		used += (size_t)snprintf(list + used, used < sizeof(list) ? sizeof(list) - used : 0,
		    "%s\"%s\"", i > 0 ? ", " : "", choices[i]);
	text = value_string(r, value, "a string");
	if (text == NULL)
		goto out;
	for (size_t i = 0; choices[i] != NULL; i++) {
		if (strcmp(text, choices[i]) == 0) {
			*out = (uint8_t)i;
			ok = true;
			goto out;
		}
	}
	router_config_quote(text, QUOTE_CHARS, quoted, sizeof(quoted));
	router_config_reader_error(r, "%s is not one of %s", quoted, list);
out:
	router_config_reader_up(r, saved);
	return ok;
}

bool
router_config_read_public_key(struct router_config_reader *r, const json_t *obj, const char *key,
    uint8_t out[CRYPTO_KEY_LEN])
{
	const json_t *value = json_object_get(obj, key);
	const char *text;
	size_t saved;
	bool ok = false;

	if (value == NULL)
		return false;
	saved = router_config_reader_key(r, key);
	text = value_string(r, value, "a public key (a string)");
	if (text != NULL && crypto_key_decode(text, strlen(text), out) == 0)
		ok = true;
	else if (text != NULL)
		router_config_reader_error(r,
		    "not a public key (expected 44 base64 characters, as `ternctl pubkey` "
		    "prints)");
	router_config_reader_up(r, saved);
	return ok;
}
