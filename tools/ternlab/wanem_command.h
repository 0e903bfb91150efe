/*
 * The command language of ternlab-wanem: one line of words that changes the
 * impairments, as given on the command line and on the control socket.
 *
 *   delay=40ms jitter=5ms loss=2% burst-loss=p:1%,r:30% rate=20mbit queue=1000
 *   outage | outage=off | clear | show
 *   delay=10ms b-to-a: loss=100%
 *
 * Words apply in order to a copy of the current parameters, so a line changes only what
 * it names (`loss=5%` keeps the delay) and `clear` resets everything named before it
 * (`clear delay=10ms` gives a link with 10 ms delay and nothing else). The result is
 * applied all at once, or not at all if any word is wrong.
 *
 * Scopes: the words `a-to-b:` and `b-to-a:` make the words after them, up to the next
 * scope word or the end of the line, change only that direction (`clear` included);
 * `both:` returns to both. A line starts in `both:`, so a line without scopes changes
 * both directions alike. A scope must stand alone and be followed by a word.
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
	/* The complete parameters of each direction: for SET the new ones, for SHOW the
	 * current ones. */
	struct wanem_params params[WANEM_DIR_COUNT];
};

/* Longest error message with its NUL. */
#define WANEM_COMMAND_ERROR_MAX 256

/*
 * Parses len bytes of text (no NUL needed; spaces, tabs, CR and LF separate words) as
 * changes to current[WANEM_DIR_A_TO_B] and current[WANEM_DIR_B_TO_A]. Returns 0 with *out filled,
 * or -EINVAL with a one-line message in err (always NUL-terminated when err_size > 0) and *out
 * unspecified. Does not check the queue against an engine's capacity (wanem_set() does).
 */
int wanem_command_parse(const char *text, size_t len,
    const struct wanem_params current[WANEM_DIR_COUNT], struct wanem_command *out, char *err,
    size_t err_size);

/*
 * Writes p as the shortest words that give it from a perfect link ("clear" for the
 * perfect link itself), NUL-terminated. Returns the length, or -ENOBUFS if it did not
 * fit (then out holds a cut string). WANEM_COMMAND_TEXT_MAX always suffices.
 */
int wanem_params_format(const struct wanem_params *p, char *out, size_t size);

#define WANEM_COMMAND_TEXT_MAX 320

/*
 * Writes the parameters of both directions as words that give them from a perfect link:
 * those of wanem_params_format() when the two are equal, else each direction that is
 * not perfect as its scope and its words ("b-to-a: loss=100%", "a-to-b: delay=10ms
 * b-to-a: delay=20ms"). Returns the length, or -ENOBUFS (out then holds a cut string).
 * WANEM_LINK_TEXT_MAX always suffices.
 */
int wanem_link_format(const struct wanem_params p[WANEM_DIR_COUNT], char *out, size_t size);

#define WANEM_LINK_TEXT_MAX (2 * WANEM_COMMAND_TEXT_MAX + 16)

#endif
