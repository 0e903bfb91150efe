/* The bounded text builder; see text.h. */
#include "lib/text.h"

#include <stdarg.h>
#include <stdio.h>

void
text_add(struct text *t, const char *fmt, ...)
{
	char *at = NULL;
	size_t room = 0;
	va_list ap;
	int n;

	if (t->used < t->len) {
		at = t->buf + t->used;
		room = t->len - t->used;
	}
	va_start(ap, fmt);
	n = vsnprintf(at, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->used += (size_t)n;
}
