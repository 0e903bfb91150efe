/* The text table of ternctl's human output (ctl_table.h). */
#include "ctl/ctl_table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void
ctl_table_init(struct ctl_table *t, const struct ctl_table_column *cols, unsigned ncols)
{
	memset(t, 0, sizeof(*t));
	t->cols = cols;
	t->ncols = ncols;
}

void
ctl_table_fini(struct ctl_table *t)
{
	for (size_t i = 0; i < t->rows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->rows = 0;
	t->cap_rows = 0;
}

/* A copy of s with every control character (C0 and DEL) replaced by '?'. */
static char *
ctl_table_cell_dup(const char *s)
{
	char *copy = strdup(s != NULL ? s : "-");

	if (copy == NULL)
		return NULL;
	for (char *p = copy; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			*p = '?';
	return copy;
}

int
ctl_table_add_row(struct ctl_table *t, const char *const *cells)
{
	char **row;

	if (t->rows == t->cap_rows) {
		size_t cap = t->cap_rows != 0 ? t->cap_rows * 2 : 16;
		char **grown = realloc(t->cells, cap * t->ncols * sizeof(*grown));

		if (grown == NULL)
			return -ENOMEM;
		t->cells = grown;
		t->cap_rows = cap;
	}
	row = t->cells + t->rows * t->ncols;
	for (unsigned c = 0; c < t->ncols; c++) {
		row[c] = ctl_table_cell_dup(cells[c]);
		if (row[c] == NULL) {
			while (c-- > 0)
				free(row[c]);
			return -ENOMEM;
		}
	}
	t->rows++;
	return 0;
}

size_t
ctl_table_text_width(const char *s)
{
	size_t w = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

static void
ctl_table_print_cell(FILE *out, const char *text, size_t width, bool right, bool last)
{
	size_t pad = width - ctl_table_text_width(text);

	if (right)
		fprintf(out, "%*s%s", (int)pad, "", text);
	else if (last)
		fputs(text, out);
	else
		fprintf(out, "%s%*s", text, (int)pad, "");
}

static void
ctl_table_print_line(const struct ctl_table *t, FILE *out, const size_t *widths,
    const char *const *cells)
{
	unsigned last = t->ncols - 1;

	/* Trailing left-aligned empty cells would only add spaces: stop before them. */
	while (last > 0 && !t->cols[last].right && cells[last][0] == '\0')
		last--;
	for (unsigned c = 0; c <= last; c++) {
		if (c > 0)
			fputs("  ", out);
		ctl_table_print_cell(out, cells[c], widths[c], t->cols[c].right, c == last);
	}
	fputc('\n', out);
}

int
ctl_table_print(const struct ctl_table *t, FILE *out)
{
	const char **headers;
	size_t *widths;

	if (t->ncols == 0)
		return 0;
	widths = calloc(t->ncols, sizeof(*widths));
	headers = calloc(t->ncols, sizeof(*headers));
	if (widths == NULL || headers == NULL) {
		free(widths);
		free(headers);
		return -ENOMEM;
	}
	for (unsigned c = 0; c < t->ncols; c++) {
		headers[c] = t->cols[c].header;
		widths[c] = ctl_table_text_width(headers[c]);
		for (size_t r = 0; r < t->rows; r++) {
			size_t w = ctl_table_text_width(t->cells[r * t->ncols + c]);

			if (w > widths[c])
				widths[c] = w;
		}
	}
	ctl_table_print_line(t, out, widths, headers);
	for (size_t r = 0; r < t->rows; r++)
		ctl_table_print_line(t, out, widths, (const char *const *)t->cells + r * t->ncols);
	free(widths);
	free(headers);
	return ferror(out) ? -EIO : 0;
}
