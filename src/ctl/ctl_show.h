/*
 * ternctl's human views: one formatter per command, each given the "result" of the
 * API answer (shapes in docs/api.md) and writing text. Fields are looked up by name;
 * a missing field prints "-", so an older or newer ternd still gives a readable table.
 * A result without the expected top-level shape (e.g. no "sessions" array) is
 * -EBADMSG and nothing is printed.
 *
 * Threads: no shared state.
 */
#ifndef TERN_CTL_SHOW_H
#define TERN_CTL_SHOW_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

struct ctl_show_options {
	bool all; /* drops: list every reason, zeros included */
};

int ctl_show_status(const json_t *result, const struct ctl_show_options *opt, FILE *out);
int ctl_show_sessions(const json_t *result, const struct ctl_show_options *opt, FILE *out);
int ctl_show_peers(const json_t *result, const struct ctl_show_options *opt, FILE *out);
int ctl_show_paths(const json_t *result, const struct ctl_show_options *opt, FILE *out);
int ctl_show_events(const json_t *result, const struct ctl_show_options *opt, FILE *out);
int ctl_show_session(const json_t *result, const struct ctl_show_options *opt, FILE *out);
int ctl_show_drops(const json_t *result, const struct ctl_show_options *opt, FILE *out);
int ctl_show_interfaces(const json_t *result, const struct ctl_show_options *opt, FILE *out);
int ctl_show_config(const json_t *result, const struct ctl_show_options *opt, FILE *out);
int ctl_show_reload(const json_t *result, const struct ctl_show_options *opt, FILE *out);
/* `show services|tenants|apps`: sessions and bytes per service, tenant, application. */
int ctl_show_services(const json_t *result, const struct ctl_show_options *opt, FILE *out);
int ctl_show_tenants(const json_t *result, const struct ctl_show_options *opt, FILE *out);
int ctl_show_apps(const json_t *result, const struct ctl_show_options *opt, FILE *out);
int ctl_show_policy_test(const json_t *result, const struct ctl_show_options *opt, FILE *out);

struct ctl_show_view {
	const char *cmd; /* the API command */
	int (*format)(const json_t *result, const struct ctl_show_options *opt, FILE *out);
};

/* The view of an API command name ("status", "reload", ...), or NULL. */
const struct ctl_show_view *ctl_show_find(const char *cmd);

/*
 * The text of one JSON value in a cell: strings as they are, integers in decimal,
 * reals with one decimal, booleans, "-" for null or NULL, anything else compact JSON.
 * Writes at most size bytes with the NUL (cut if longer).
 */
void ctl_show_value_text(const json_t *v, char *buf, size_t size);
/* A duration in seconds as "45s", "12m05s", "3h04m", "2d03h"; "-" for negatives. */
void ctl_show_duration(long long s, char *buf, size_t size);

#endif
