/*
 * The list of problems a configuration parse found: each is a JSON path into the
 * document ("$.services[2].route.peer", "$" for the whole document) and a message that
 * says what is wrong and what was expected. Parsing collects all of them so an operator
 * fixes a file in one round.
 *
 * Invariants: paths and messages are owned by the list, printable (control characters
 * and quotes from the input are escaped, long input text is cut), and kept in the order
 * found. After ROUTER_CONFIG_ERRORS_MAX entries one last entry says that more were
 * left out. An allocation failure while adding is remembered (has_oom) rather than
 * returned, so the checking code never has to branch on it.
 *
 * Threads: a list belongs to one thread at a time.
 */
#ifndef TERN_ROUTER_ROUTER_CONFIG_ERRORS_H
#define TERN_ROUTER_ROUTER_CONFIG_ERRORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define ROUTER_CONFIG_ERRORS_MAX 200

struct router_config_error {
	char *path;
	char *message;
};

struct router_config_errors {
	struct router_config_error *items;
	size_t count;
	size_t capacity;
	size_t dropped; /* errors past ROUTER_CONFIG_ERRORS_MAX, not stored */
	char *file;     /* name to print in front of each line, or NULL */
	bool has_oom;
};

void router_config_errors_init(struct router_config_errors *errors);
/* Releases every entry and the file name; the list is empty and reusable after. */
void router_config_errors_fini(struct router_config_errors *errors);

/*
 * Appends an error at path with a printf-style message. Never fails from the caller's
 * view: out of memory sets has_oom, past the limit only counts in dropped.
 */
__attribute__((format(printf, 3, 4))) void router_config_errors_add(struct router_config_errors
                                                                        *errors,
    const char *path, const char *fmt, ...);

/* Sets the file name printed in front of each error (copied); -ENOMEM. */
int router_config_errors_set_file(struct router_config_errors *errors, const char *file);

size_t router_config_errors_count(const struct router_config_errors *errors);
/* The i-th error (i < count), borrowed from the list. */
const struct router_config_error *router_config_errors_at(const struct router_config_errors *errors,
    size_t i);

/*
 * Prints one line per error, "FILE: $.path: message" (without "FILE: " when no file is
 * set), then "FILE: N more errors not shown" if some were dropped.
 */
void router_config_errors_print(const struct router_config_errors *errors, FILE *out);

/*
 * Writes text into out (out_len > 0) as a double-quoted string fit for a message:
 * quotes, backslashes and control characters escaped, cut with "..." after max_chars
 * input bytes. Always NUL-terminates.
 */
void router_config_quote(const char *text, size_t max_chars, char *out, size_t out_len);

#endif
