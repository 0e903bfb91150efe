/* The list of configuration errors (router_config_errors.h). */
#include "router/router_config_errors.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* A message longer than this is cut; messages quote at most a few short input values. */
#define ROUTER_CONFIG_MESSAGE_MAX 512

void
router_config_errors_init(struct router_config_errors *errors)
{
	memset(errors, 0, sizeof(*errors));
}

void
router_config_errors_fini(struct router_config_errors *errors)
{
	for (size_t i = 0; i < errors->count; i++) {
		free(errors->items[i].path);
		free(errors->items[i].message);
	}
	free(errors->items);
	free(errors->file);
	router_config_errors_init(errors);
}

void
router_config_errors_add(struct router_config_errors *errors, const char *path, const char *fmt,
    ...)
{
	char message[ROUTER_CONFIG_MESSAGE_MAX];
	struct router_config_error *e;
	va_list ap;

	if (errors->count >= ROUTER_CONFIG_ERRORS_MAX) {
		errors->dropped++;
		return;
	}
	if (errors->count == errors->capacity) {
		size_t capacity = errors->capacity ? errors->capacity * 2 : 16;
		struct router_config_error *items;

		items = realloc(errors->items, capacity * sizeof(*items));
		if (items == NULL) {
			errors->has_oom = true;
			return;
		}
		errors->items = items;
		errors->capacity = capacity;
	}
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);

	e = &errors->items[errors->count];
	e->path = strdup(path);
	e->message = strdup(message);
	if (e->path == NULL || e->message == NULL) {
		free(e->path);
		free(e->message);
		errors->has_oom = true;
		return;
	}
	errors->count++;
}

int
router_config_errors_set_file(struct router_config_errors *errors, const char *file)
{
	char *copy = strdup(file);

	if (copy == NULL)
		return -ENOMEM;
	free(errors->file);
	errors->file = copy;
	return 0;
}

size_t
router_config_errors_count(const struct router_config_errors *errors)
{
	return errors->count;
}

const struct router_config_error *
router_config_errors_at(const struct router_config_errors *errors, size_t i)
{
	return i < errors->count ? &errors->items[i] : NULL;
}

void
router_config_errors_print(const struct router_config_errors *errors, FILE *out)
{
	const char *file = errors->file;
	const char *sep = file != NULL ? ": " : "";

	if (file == NULL)
		file = "";
	for (size_t i = 0; i < errors->count; i++)
		fprintf(out, "%s%s%s: %s\n", file, sep, errors->items[i].path,
		    errors->items[i].message);
	if (errors->dropped > 0)
		fprintf(out, "%s%s%zu more errors not shown\n", file, sep, errors->dropped);
	if (errors->has_oom)
		fprintf(out, "%s%sout of memory while collecting errors\n", file, sep);
}

void
router_config_quote(const char *text, size_t max_chars, char *out, size_t out_len)
{
	size_t o = 0, i;

	/* Reserve room for the closing quote, "..." and the NUL. */
	if (out_len < 6) {
		out[0] = '\0';
		return;
	}
	out[o++] = '"';
	for (i = 0; text[i] != '\0' && i < max_chars; i++) {
		unsigned char c = (unsigned char)text[i];
		char esc[8];
		size_t n;

		if (c == '"' || c == '\\')
			n = (size_t)snprintf(esc, sizeof(esc), "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			n = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", c);
		else
			n = (size_t)snprintf(esc, sizeof(esc), "%c", c);
		if (o + n + 5 > out_len)
			break;
		memcpy(out + o, esc, n);
		o += n;
	}
	out[o++] = '"';
	if (text[i] != '\0') {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}
