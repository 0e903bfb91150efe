/*
 * The command language of ternlab-wanem: one line of words that changes the
 * impairments, as given on the command line and on the control socket.
 *
 *   delay=40ms jitter=5ms loss=2% burst-loss=p:1%,r:30% rate=20mbit queue=1000
 *   outage | outage=off | clear | show
 *
 * Words apply in order to a copy of the current parameters, so a line changes only what
 * it names (`loss=5%` keeps the delay) and `clear` resets everything named before it
 * (`clear delay=10ms` gives a link with 10 ms delay and nothing else). The result is
 * applied all at once, or not at all if any word is wrong.
 *
 * Words: delay=T, jitter=T (T: integer or decimal with ns, us, ms or s; 0 alone),
 * jitter-dist=uniform|normal, loss=P (P: percent with up to 4 decimals, "2%", "0.5%";
 * 0 alone), burst-loss=p:P,r:P[,h:P] (Gilbert-Elliott; h defaults to 100%) or
 * burst-loss=off, rate=R (bit, kbit, mbit, gbit; 1000-based) or rate=off,
 * rate-burst=S, queue=N (packets) or queue=S (bytes), S: b, kb or mb (1024-based),
 * outage[=on|off], clear, and show alone.
 *
 * Errors name the offending word: `delay=40xs: unknown time unit "xs" (use ns, us, ms or s)`.
 *
 * Threads: pure functions of their arguments.
 */
#ifndef TERN_TOOLS_TERNLAB_WANEM_COMMAND_H
#define TERN_TOOLS_TERNLAB_WANEM_COMMAND_H

#include <stdbool.h>
#include <stddef.h>

#include "wanem_engine.h"

enum wanem_command_kind {
	WANEM_COMMAND_SET = 0, /* apply params */
	WANEM_COMMAND_SHOW = 1,
};

struct wanem_command {
	enum wanem_command_kind kind;
	struct wanem_params params; /* for SET: the complete new parameters */
};

/* Longest error message with its NUL. */
#define WANEM_COMMAND_ERROR_MAX 256

/*
 * Parses len bytes of text (no NUL needed; spaces, tabs, CR and LF separate words) as
 * changes to *current. Returns 0 with *out filled, or -EINVAL with a one-line message
 * in err (always NUL-terminated when err_size > 0) and *out unspecified. Does not check
 * the queue against an engine's capacity (wanem_set() does).
 */
int wanem_command_parse(const char *text, size_t len, const struct wanem_params *current,
    struct wanem_command *out, char *err, size_t err_size);

/*
 * Writes p as the shortest words that give it from a perfect link ("clear" for the
 * perfect link itself), NUL-terminated. Returns the length, or -ENOBUFS if it did not
 * fit (then out holds a cut string). WANEM_COMMAND_TEXT_MAX always suffices.
 */
int wanem_params_format(const struct wanem_params *p, char *out, size_t size);

#define WANEM_COMMAND_TEXT_MAX 320

#endif
