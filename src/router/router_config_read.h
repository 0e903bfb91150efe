/*
 * Internal to the configuration parser: typed reads of JSON values that report every
 * problem at its JSON path, shared by the document reader (router_config.c) and the
 * semantic checks (router_config_check.c). Not for use outside src/router/router_config*.
 *
 * A reader is a cursor: its path names the value being read. Each read appends one
 * error when the value is missing, of the wrong type or out of its limits, and leaves
 * the output untouched in that case, so callers go on reading the rest of the document.
 */
#ifndef TERN_ROUTER_ROUTER_CONFIG_READ_H
#define TERN_ROUTER_ROUTER_CONFIG_READ_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"
#include "router/router_config.h"
#include "router/router_config_errors.h"

/* Deep enough for "$.peers[4095].paths[1023].remote" with long keys cut short. */
#define ROUTER_CONFIG_PATH_MAX 256

struct router_config_reader {
	struct router_config_errors *errors;
	char path[ROUTER_CONFIG_PATH_MAX];
	size_t path_len;
	bool has_oom; /* an allocation of the snapshot failed */
};

void router_config_reader_init(struct router_config_reader *r, struct router_config_errors *errors);

/*
 * Moves the path down to a key or an index; returns the length to give back to
 * router_config_reader_up() to return to where it was.
 */
size_t router_config_reader_key(struct router_config_reader *r, const char *key);
size_t router_config_reader_index(struct router_config_reader *r, size_t index);
void router_config_reader_up(struct router_config_reader *r, size_t saved);

/* Appends an error at the current path. */
__attribute__((format(printf, 2, 3))) void router_config_reader_error(struct router_config_reader
                                                                          *r,
    const char *fmt, ...);

/* "an object", "a string", ... for messages; "null" for JSON null. */
const char *router_config_json_type(const json_t *value);

/*
 * Checks that value (at the current path) is an object whose keys are all in known
 * (NULL-terminated); reports each other key as unknown at its own path. Returns false
 * (one error) when value is not an object.
 */
bool router_config_read_object(struct router_config_reader *r, const json_t *value,
    const char *const *known);

/*
 * Reads obj[key] (obj was checked with router_config_read_object()). A missing key is
 * an error when required, else returns false quietly. Each returns true when it stored
 * a valid value into *out.
 */
bool router_config_read_name(struct router_config_reader *r, const json_t *obj, const char *key,
    bool required, char **out);
bool router_config_read_device(struct router_config_reader *r, const json_t *obj, const char *key,
    bool required, char **out);
bool router_config_read_uint(struct router_config_reader *r, const json_t *obj, const char *key,
    uint32_t min, uint32_t max, uint32_t *out);
/* true or false. Optional: absent is false quietly (and *out untouched). */
bool router_config_read_bool(struct router_config_reader *r, const json_t *obj, const char *key,
    bool *out);
/* An integer or a fraction from min to max. */
bool router_config_read_number(struct router_config_reader *r, const json_t *obj, const char *key,
    double min, double max, double *out);
bool router_config_read_addr(struct router_config_reader *r, const json_t *obj, const char *key,
    bool required, struct addr *out);

/*
 * Reads obj[key] as an array of at most max entries (and at least min_count, when the
 * key is present or required). Returns the array (borrowed) or NULL.
 */
const json_t *router_config_read_array(struct router_config_reader *r, const json_t *obj,
    const char *key, bool required, size_t min_count, size_t max_count);

/* A file name of 1..ROUTER_CONFIG_FILE_NAME_MAX characters, kept as written. */
bool router_config_read_path(struct router_config_reader *r, const json_t *obj, const char *key,
    bool required, char **out);
/* One of the NULL-terminated choices; *out is its index. Optional: absent is false quietly. */
bool router_config_read_choice(struct router_config_reader *r, const json_t *obj, const char *key,
    const char *const *choices, uint8_t *out);
/* A base64 X25519 public key (crypto_key.h). Optional: absent is false quietly. */
bool router_config_read_public_key(struct router_config_reader *r, const json_t *obj,
    const char *key, uint8_t out[32]);

/* Value checks at the current path (for array elements). */
bool router_config_value_name(struct router_config_reader *r, const json_t *value, char **out);
bool router_config_value_prefix(struct router_config_reader *r, const json_t *value,
    struct prefix *out);
bool router_config_value_ports(struct router_config_reader *r, const json_t *value,
    struct router_config_ports *out);
/* "10.1.0.1/24": an address with its prefix length, host bits allowed. */
bool router_config_value_addr_len(struct router_config_reader *r, const json_t *value,
    struct addr *addr, uint8_t *len);

/* strdup that records an allocation failure in the reader. */
char *router_config_reader_strdup(struct router_config_reader *r, const char *s);
/* calloc(n, size) (at least one element) that records a failure. */
void *router_config_reader_calloc(struct router_config_reader *r, size_t n, size_t size);

/* True when text is 1..ROUTER_CONFIG_NAME_MAX characters of [A-Za-z0-9._-]. */
bool router_config_name_is_valid(const char *text);

/*
 * The semantic pass (router_config_check.c): unique names, references resolved to ids,
 * address families consistent. Errors go to r at the paths of the values at fault.
 * Parts of the model left unset by the reader (NULL names) are skipped: they were
 * already reported.
 */
void router_config_check(struct router_config_reader *r, struct router_config *cfg);

#endif
