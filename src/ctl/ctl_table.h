/*
 * A plain-text table for ternctl's human output: column widths come from the content,
 * numeric columns are right-aligned, columns are separated by two spaces and no line
 * ends in spaces. Cells are copied; control characters in them (which could come from
 * names the network or a configuration chose) are printed as '?', so a cell can never
 * move the terminal's cursor or forge a line. Widths count UTF-8 code points.
 *
 * Threads: a table belongs to its caller; nothing is shared.
 */
#ifndef TERN_CTL_TABLE_H
#define TERN_CTL_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct ctl_table_column {
	const char *header;
	bool right; /* right-align (numbers) */
};

struct ctl_table {
	const struct ctl_table_column *cols; /* borrowed */
	unsigned ncols;
	char **cells; /* rows * ncols owned strings, row-major */
	size_t rows;
	size_t cap_rows;
};

/* cols is borrowed and must outlive the table. */
void ctl_table_init(struct ctl_table *t, const struct ctl_table_column *cols, unsigned ncols);
/* Frees every cell; the table may be initialized again. */
void ctl_table_fini(struct ctl_table *t);
/* Appends a row of t->ncols cells (copied; NULL prints "-"). -ENOMEM. */
int ctl_table_add_row(struct ctl_table *t, const char *const *cells);
/* Writes the header and every row. -EIO if out reports an error. */
int ctl_table_print(const struct ctl_table *t, FILE *out);
/* Display width of s in code points. */
size_t ctl_table_text_width(const char *s);

#endif
