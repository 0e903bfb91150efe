/*
 * A bounded text builder for explanations and reports: each text_add() appends like
 * snprintf and keeps counting past the end of the buffer, so a caller learns the length
 * the whole text needed (t->used) and the buffer always holds a NUL-terminated prefix.
 *
 * Threads: a struct text belongs to its caller.
 */
#ifndef TERN_LIB_TEXT_H
#define TERN_LIB_TEXT_H

#include <stddef.h>

struct text {
	char *buf;
	size_t len;  /* size of buf (0: count only) */
	size_t used; /* length of the full text so far, even past len */
};

__attribute__((format(printf, 2, 3))) void text_add(struct text *t, const char *fmt, ...);

#endif
