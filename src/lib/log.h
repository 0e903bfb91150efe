/*
 * Logging for the control plane: configuration, peers, paths, the API. Never called per
 * packet; the data path counts drops instead (pkt/pkt_drop.h).
 *
 * One line per message: "<UTC time> <level>: <message>" on stderr, or the message alone
 * to a sink set with log_set_sink() (tests assert on the text; a daemon could forward to
 * syslog). Control characters in the message are replaced by '?' so text that came from
 * the network cannot forge log lines. A message longer than LOG_LINE_MAX is cut.
 *
 * "Log and return in one statement": the *_errno() helpers append ": <strerror>" and
 * return the negative errno they were given, so error paths read
 *     return log_error_errno(rc, "peer %s: cannot open socket", name);
 * Every log call preserves errno.
 *
 * Messages that the network can trigger (a malformed probe, an unknown peer) go through
 * log_ratelimited(), which lets at most a given number through per second per call site
 * and reports how many it suppressed on the next line it lets through.
 *
 * Threads: any thread may log; lines are emitted whole under one internal lock, and the
 * sink is called under that lock (it must not log). log_set_level() and log_set_sink()
 * are for start-up and tests.
 */
#ifndef TERN_LIB_LOG_H
#define TERN_LIB_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARNING = 1,
	LOG_LEVEL_INFO = 2,
	LOG_LEVEL_DEBUG = 3,
};

/* Longest message with its NUL, after formatting; longer ones end in "...". */
#define LOG_LINE_MAX 1024

/* Messages below this level (more verbose) are dropped; the default is LOG_LEVEL_INFO. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
bool log_is_enabled(enum log_level level);
/* "error", "warning", "info", "debug"; "?" for anything else. */
const char *log_level_name(enum log_level level);
/* Parses the names above; -EINVAL otherwise. */
int log_level_parse(const char *text, enum log_level *out);

/*
 * Sends every line to sink instead of stderr (NULL restores stderr). msg is the
 * formatted, sanitized message without time or level, valid only during the call.
 */
void log_set_sink(void (*sink)(enum log_level level, const char *msg, void *arg), void *arg);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_msgv(enum log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/*
 * Logs "<message>: <strerror(-err)>" and returns err unchanged, whether or not the
 * level is enabled. err is a negative errno (a positive one is described the same).
 */
int log_errno(enum log_level level, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_error(...)   log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_info(...)    log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)   log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#define log_error_errno(err, ...)   log_errno(LOG_LEVEL_ERROR, (err), __VA_ARGS__)
#define log_warning_errno(err, ...) log_errno(LOG_LEVEL_WARNING, (err), __VA_ARGS__)
#define log_info_errno(err, ...)    log_errno(LOG_LEVEL_INFO, (err), __VA_ARGS__)
#define log_debug_errno(err, ...)   log_errno(LOG_LEVEL_DEBUG, (err), __VA_ARGS__)

/*
 * State of one rate-limited call site: at most burst lines per interval_ns window.
 * Zero-initialize the counters; LOG_RATELIMIT_INIT() does.
 */
struct log_ratelimit {
	uint64_t interval_ns;
	uint32_t burst;
	uint32_t emitted; /* lines let through in the current window */
	uint64_t window_start_ns;
	uint64_t suppressed; /* lines refused since the last one let through */
};

#define LOG_RATELIMIT_INIT(per_second)                                                             \
	{                                                                                          \
		.interval_ns = 1000000000ull, .burst = (per_second)                                \
	}

/*
 * The decision alone, for tests and for callers with their own clock: true if a line
 * may go out at now_ns (CLOCK_MONOTONIC), and then *suppressed receives the number of
 * lines refused since the previous one let through (and the count restarts). Not locked.
 */
bool log_ratelimit_allow(struct log_ratelimit *rl, uint64_t now_ns, uint64_t *suppressed);

/*
 * Logs through rl (under the log lock, with the monotonic clock); a line let through
 * after refusals ends in " (N similar messages suppressed)". Disabled levels do not count.
 */
void log_msg_ratelimited(struct log_ratelimit *rl, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* At most per_second lines per second from this call site. */
#define log_ratelimited(level, per_second, ...)                                                    \
	do {                                                                                       \
		static struct log_ratelimit log_rl_ = LOG_RATELIMIT_INIT(per_second);              \
		log_msg_ratelimited(&log_rl_, (level), __VA_ARGS__);                               \
	} while (0)

#endif
