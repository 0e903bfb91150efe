/* Control-plane logging; see log.h for the contract. */
#include "lib/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int log_min_level = LOG_LEVEL_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static void (*log_sink)(enum log_level level, const char *msg, void *arg);
static void *log_sink_arg;

static const char *const log_level_names[] = {
    [LOG_LEVEL_ERROR] = "error",
    [LOG_LEVEL_WARNING] = "warning",
    [LOG_LEVEL_INFO] = "info",
    [LOG_LEVEL_DEBUG] = "debug",
};

void
log_set_level(enum log_level level)
{
	__atomic_store_n(&log_min_level, (int)level, __ATOMIC_RELAXED);
}

enum log_level
log_get_level(void)
{
	return (enum log_level)__atomic_load_n(&log_min_level, __ATOMIC_RELAXED);
}

bool
log_is_enabled(enum log_level level)
{
	return (int)level <= __atomic_load_n(&log_min_level, __ATOMIC_RELAXED);
}

const char *
log_level_name(enum log_level level)
{
	if ((unsigned)level >= sizeof(log_level_names) / sizeof(log_level_names[0]))
		return "?";
	return log_level_names[level];
}

int
log_level_parse(const char *text, enum log_level *out)
{
	if (text == NULL)
		return -EINVAL;
	for (unsigned i = 0; i < sizeof(log_level_names) / sizeof(log_level_names[0]); i++) {
		if (strcmp(text, log_level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

void
log_set_sink(void (*sink)(enum log_level level, const char *msg, void *arg), void *arg)
{
	pthread_mutex_lock(&log_lock);
	log_sink = sink;
	log_sink_arg = arg;
	pthread_mutex_unlock(&log_lock);
}

/*
 * Formats fmt, then suffix (may be NULL), into line. A cut line ends in "..." so a
 * reader knows; control characters become '?' so one message is one line.
 */
static void __attribute__((format(printf, 3, 0)))
log_format(char line[LOG_LINE_MAX], const char *suffix, const char *fmt, va_list ap)
{
	size_t used = 0;
	bool cut = false;
	int n;

	n = vsnprintf(line, LOG_LINE_MAX, fmt, ap);
	if (n < 0) {
		/* Only an invalid format gets here; keep the format itself as the message. */
		n = snprintf(line, LOG_LINE_MAX, "%s", fmt);
	}
	if (n >= LOG_LINE_MAX) {
		used = LOG_LINE_MAX - 1;
		cut = true;
	} else {
		used = (size_t)n;
	}
	if (!cut && suffix != NULL) {
		n = snprintf(line + used, LOG_LINE_MAX - used, "%s", suffix);
		if ((size_t)n >= LOG_LINE_MAX - used) {
			used = LOG_LINE_MAX - 1;
			cut = true;
		} else {
			used += (size_t)n;
		}
	}
	if (cut)
		memcpy(line + LOG_LINE_MAX - 4, "...", 4);
	for (size_t i = 0; line[i] != '\0'; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c < 0x20 || c == 0x7f)
			line[i] = '?';
	}
}

static void
log_emit(enum log_level level, const char *msg)
{
	struct timespec ts;
	struct tm tm;
	char when[32];

	pthread_mutex_lock(&log_lock);
	if (log_sink != NULL) {
		log_sink(level, msg, log_sink_arg);
		goto out;
	}
	/* Wall-clock UTC, so lines match other hosts' logs and the conductor's events. */
	clock_gettime(CLOCK_REALTIME, &ts);
	if (gmtime_r(&ts.tv_sec, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(when, sizeof(when), "%lld", (long long)ts.tv_sec);
	fprintf(stderr, "%s.%03ldZ %s: %s\n", when, ts.tv_nsec / 1000000, log_level_name(level),
	    msg);
out:
	pthread_mutex_unlock(&log_lock);
}

void
log_msgv(enum log_level level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	int saved_errno = errno;

	if (log_is_enabled(level)) {
		log_format(line, NULL, fmt, ap);
		log_emit(level, line);
	}
	errno = saved_errno;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_msgv(level, fmt, ap);
	va_end(ap);
}

int
log_errno(enum log_level level, int err, const char *fmt, ...)
{
	char line[LOG_LINE_MAX], suffix[128], desc[96];
	int saved_errno = errno;
	va_list ap;

	if (log_is_enabled(level)) {
		/*
		 * The GNU strerror_r: thread-safe, and describes unknown codes too. labs() of a
		 * long, because abs(INT_MIN) would overflow.
		 */
		snprintf(suffix, sizeof(suffix), ": %s",
		    strerror_r((int)labs((long)err), desc, sizeof(desc)));
		va_start(ap, fmt);
		log_format(line, suffix, fmt, ap);
		va_end(ap);
		log_emit(level, line);
	}
	errno = saved_errno;
	return err;
}

bool
log_ratelimit_allow(struct log_ratelimit *rl, uint64_t now_ns, uint64_t *suppressed)
{
	/* Unsigned: a clock that went backwards also starts a new window. */
	if (now_ns - rl->window_start_ns >= rl->interval_ns) {
		rl->window_start_ns = now_ns;
		rl->emitted = 0;
	}
	if (rl->emitted >= rl->burst) {
		rl->suppressed++;
		return false;
	}
	rl->emitted++;
	*suppressed = rl->suppressed;
	rl->suppressed = 0;
	return true;
}

void
log_msg_ratelimited(struct log_ratelimit *rl, enum log_level level, const char *fmt, ...)
{
	char line[LOG_LINE_MAX], suffix[64];
	int saved_errno = errno;
	uint64_t suppressed = 0;
	struct timespec ts;
	bool allow;
	va_list ap;

	if (!log_is_enabled(level))
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	pthread_mutex_lock(&log_lock);
	allow = log_ratelimit_allow(rl, (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec,
	    &suppressed);
	pthread_mutex_unlock(&log_lock);
	if (!allow)
		goto out;
	suffix[0] = '\0';
	if (suppressed > 0)
		snprintf(suffix, sizeof(suffix), " (%llu similar messages suppressed)",
		    (unsigned long long)suppressed);
	va_start(ap, fmt);
	log_format(line, suffix, fmt, ap);
	va_end(ap);
	log_emit(level, line);
out:
	errno = saved_errno;
}
