/* ternctl's human views of each API result (ctl_show.h; shapes in docs/api.md). */
#include "ctl/ctl_show.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl_table.h"

/* Longest cell text; longer values (a huge nested object) are cut. */
#define CTL_SHOW_CELL_MAX 256

void
ctl_show_value_text(const json_t *v, char *buf, size_t size)
{
	size_t n;

	if (v == NULL || json_is_null(v)) {
		snprintf(buf, size, "-");
	} else if (json_is_string(v)) {
		snprintf(buf, size, "%s", json_string_value(v));
	} else if (json_is_integer(v)) {
		snprintf(buf, size, "%lld", (long long)json_integer_value(v));
	} else if (json_is_real(v)) {
		snprintf(buf, size, "%.1f", json_real_value(v));
	} else if (json_is_boolean(v)) {
		snprintf(buf, size, "%s", json_is_true(v) ? "true" : "false");
	} else {
		n = json_dumpb(v, buf, size - 1, JSON_COMPACT);
		buf[n < size ? n : size - 1] = '\0';
	}
}

void
ctl_show_duration(long long s, char *buf, size_t size)
{
	if (s < 0)
		snprintf(buf, size, "-");
	else if (s < 60)
		snprintf(buf, size, "%llds", s);
	else if (s < 3600)
		snprintf(buf, size, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, size, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, size, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
}

/* The array under key of an object result, or NULL if the shape is not that. */
static const json_t *
ctl_show_list(const json_t *result, const char *key)
{
	const json_t *list = json_is_object(result) ? json_object_get(result, key) : NULL;

	return json_is_array(list) ? list : NULL;
}

/* "key: value" lines with the values aligned, for every member of an object. */
static int
ctl_show_key_values(const json_t *obj, FILE *out)
{
	char text[CTL_SHOW_CELL_MAX];
	const char *key;
	json_t *value;
	size_t width = 0;

	json_object_foreach((json_t *)obj, key, value)
	{
		if (strlen(key) > width)
			width = strlen(key);
	}
	json_object_foreach((json_t *)obj, key, value)
	{
		ctl_show_value_text(value, text, sizeof(text));
		for (char *p = text; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
				*p = '?';
		fprintf(out, "%s:%*s %s\n", key, (int)(width - strlen(key)), "", text);
	}
	return ferror(out) ? -EIO : 0;
}

int
ctl_show_status(const json_t *result, const struct ctl_show_options *opt, FILE *out)
{
	(void)opt;
	if (!json_is_object(result))
		return -EBADMSG;
	return ctl_show_key_values(result, out);
}

/*
 * Fills a table from the objects of list: column c shows field fields[c] of each row
 * (a NULL field leaves the cell to fill(), which gets the row and the cell buffer).
 */
static int
ctl_show_rows(struct ctl_table *t, const json_t *list, const char *const *fields,
    void (*fill)(const json_t *row, unsigned col, char *buf, size_t size),
    bool (*keep)(const json_t *row, const struct ctl_show_options *opt),
    const struct ctl_show_options *opt)
{
	char(*cells)[CTL_SHOW_CELL_MAX] = calloc(t->ncols, CTL_SHOW_CELL_MAX);
	const char **ptrs = calloc(t->ncols, sizeof(*ptrs));
	const json_t *row;
	size_t i;
	int rc = 0;

	if (cells == NULL || ptrs == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	json_array_foreach(list, i, row)
	{
		if (!json_is_object(row)) {
			rc = -EBADMSG;
			goto out;
		}
		if (keep != NULL && !keep(row, opt))
			continue;
		for (unsigned c = 0; c < t->ncols; c++) {
			if (fields[c] != NULL)
				ctl_show_value_text(json_object_get(row, fields[c]), cells[c],
				    CTL_SHOW_CELL_MAX);
			else
				fill(row, c, cells[c], CTL_SHOW_CELL_MAX);
			ptrs[c] = cells[c];
		}
		rc = ctl_table_add_row(t, ptrs);
		if (rc < 0)
			goto out;
	}
out:
	free(cells);
	free(ptrs);
	return rc;
}

static int
ctl_show_table(const json_t *list, const struct ctl_table_column *cols, unsigned ncols,
    const char *const *fields, void (*fill)(const json_t *, unsigned, char *, size_t),
    bool (*keep)(const json_t *, const struct ctl_show_options *),
    const struct ctl_show_options *opt, const char *none, FILE *out)
{
	struct ctl_table t;
	int rc;

	ctl_table_init(&t, cols, ncols);
	rc = ctl_show_rows(&t, list, fields, fill, keep, opt);
	if (rc == 0) {
		if (t.rows == 0)
			fprintf(out, "%s\n", none);
		else
			rc = ctl_table_print(&t, out);
	}
	ctl_table_fini(&t);
	return rc;
}

enum {
	SESSION_COL_WAYPOINT = 7,
	SESSION_COL_ROLE = 8,
	SESSION_COL_AGE = 10
};

static void
ctl_show_session_fill(const json_t *row, unsigned col, char *buf, size_t size)
{
	const json_t *wp = json_object_get(row, "waypoint");
	char src[CTL_SHOW_CELL_MAX / 2], dst[CTL_SHOW_CELL_MAX / 2];
	const json_t *age;
	int n;

	if (col == SESSION_COL_WAYPOINT) {
		if (!json_is_object(wp)) {
			snprintf(buf, size, "-");
			return;
		}
		ctl_show_value_text(json_object_get(wp, "source"), src, sizeof(src));
		ctl_show_value_text(json_object_get(wp, "destination"), dst, sizeof(dst));
		n = snprintf(buf, size, "%s->%s", src, dst);
		if (n < 0 || (size_t)n >= size)
			buf[size - 1] = '\0'; /* a cut cell is fine: the table shows what fits */
	} else if (col == SESSION_COL_ROLE) {
		/* A hub's leg says which one it is and between which peers. */
		ctl_show_value_text(json_object_get(row, "role"), buf, size);
		if (!json_is_string(json_object_get(row, "leg")))
			return;
		ctl_show_value_text(json_object_get(row, "from_peer"), src, sizeof(src));
		ctl_show_value_text(json_object_get(row, "to_peer"), dst, sizeof(dst));
		n = snprintf(buf, size, "transit-%s %s>%s",
		    json_string_value(json_object_get(row, "leg")), src, dst);
		if (n < 0 || (size_t)n >= size)
			buf[size - 1] = '\0';
	} else {
		age = json_object_get(row, "age_s");
		if (json_is_integer(age))
			ctl_show_duration((long long)json_integer_value(age), buf, size);
		else
			ctl_show_value_text(age, buf, size);
	}
}

int
ctl_show_sessions(const json_t *result, const struct ctl_show_options *opt, FILE *out)
{
	static const struct ctl_table_column cols[] = {
	    {"ID", true},
	    {"TENANT", false},
	    {"SERVICE", false},
	    {"ROUTE", false},
	    {"PROTO", false},
	    {"SOURCE", false},
	    {"DESTINATION", false},
	    {"WAYPOINTS", false},
	    {"ROLE", false},
	    {"STATE", false},
	    {"AGE", true},
	    {"PKTS-OUT", true},
	    {"PKTS-IN", true},
	    {"BYTES-OUT", true},
	    {"BYTES-IN", true},
	    {"ENCRYPTION", false},
	};
	static const char *const fields[] = {"id", "tenant", "service", "route", "proto", "source",
	    "destination", NULL, NULL, "state", NULL, "packets_out", "packets_in", "bytes_out",
	    "bytes_in", "encryption"};
	const json_t *list = ctl_show_list(result, "sessions");
	const json_t *total;
	int rc;

	if (list == NULL)
		return -EBADMSG;
	rc = ctl_show_table(list, cols, sizeof(cols) / sizeof(cols[0]), fields,
	    ctl_show_session_fill, NULL, opt, "no sessions", out);
	total = json_object_get(result, "total");
	if (rc == 0 && json_is_integer(total) &&
	    (size_t)json_integer_value(total) > json_array_size(list))
		fprintf(out, "%zu of %lld sessions shown\n", json_array_size(list),
		    (long long)json_integer_value(total));
	return rc;
}

/* The peer's key exchange on each of its path rows; -1 ages (never) show as "-". */
static void
ctl_show_peer_security(json_t *row, const json_t *sec)
{
	static const char *const ages[] = {"key_age_s", "last_rekey_s_ago"};
	const json_t *state = json_object_get(sec, "state");

	json_object_set_new(row, "keys",
	    json_string(json_is_string(state) ? json_string_value(state) : "-"));
	for (size_t i = 0; i < 2; i++) {
		const json_t *v = json_object_get(sec, ages[i]);

		json_object_set_new(row, ages[i],
		    json_is_integer(v) && json_integer_value(v) >= 0 ? json_copy((json_t *)v) :
		                                                       json_string("-"));
	}
	json_object_set(row, "rekeys",
	    json_object_get(sec, "rekeys") ? json_object_get(sec, "rekeys") : json_null());
}

/* Peers are a list of paths per peer: one row per path, the peer named on each. */
int
ctl_show_peers(const json_t *result, const struct ctl_show_options *opt, FILE *out)
{
	static const struct ctl_table_column cols[] = {
	    {"PEER", false},
	    {"PATH", false},
	    {"INTERFACE", false},
	    {"LOCAL", false},
	    {"REMOTE", false},
	    {"STATE", false},
	    {"SESSIONS", true},
	    {"KEYS", false},
	    {"KEY-AGE-S", true},
	    {"REKEYED-S-AGO", true},
	    {"REKEYS", true},
	};
	static const char *const fields[] = {"peer", "name", "interface", "local", "remote",
	    "state", "sessions", "keys", "key_age_s", "last_rekey_s_ago", "rekeys"};
	const json_t *list = ctl_show_list(result, "peers");
	json_t *rows = json_array();
	const json_t *peer, *path, *paths;
	size_t i, j;
	int rc = 0;

	if (list == NULL || rows == NULL) {
		rc = list == NULL ? -EBADMSG : -ENOMEM;
		goto out;
	}
	json_array_foreach(list, i, peer)
	{
		if (!json_is_object(peer)) {
			rc = -EBADMSG;
			goto out;
		}
		paths = json_object_get(peer, "paths");
		if (json_array_size(paths) == 0) {
			json_array_append_new(rows,
			    json_pack("{sO?}", "peer", json_object_get(peer, "name")));
			continue;
		}
		json_array_foreach(paths, j, path)
		{
			json_t *row = json_is_object(path) ? json_copy((json_t *)path) : NULL;

			if (row == NULL) {
				rc = -EBADMSG;
				goto out;
			}
			json_object_set(row, "peer", json_object_get(peer, "name"));
			ctl_show_peer_security(row, json_object_get(peer, "security"));
			json_array_append_new(rows, row);
		}
	}
	rc = ctl_show_table(rows, cols, sizeof(cols) / sizeof(cols[0]), fields, NULL, NULL, opt,
	    "no peers", out);
out:
	json_decref(rows);
	return rc;
}

static bool
ctl_show_drop_keep(const json_t *row, const struct ctl_show_options *opt)
{
	const json_t *count = json_object_get(row, "count");

	return opt->all || !json_is_integer(count) || json_integer_value(count) != 0;
}

int
ctl_show_drops(const json_t *result, const struct ctl_show_options *opt, FILE *out)
{
	static const struct ctl_table_column cols[] = {{"REASON", false}, {"COUNT", true}};
	static const char *const fields[] = {"reason", "count"};
	const json_t *list = ctl_show_list(result, "drops");

	if (list == NULL)
		return -EBADMSG;
	return ctl_show_table(list, cols, 2, fields, NULL, ctl_show_drop_keep, opt, "no drops",
	    out);
}

int
ctl_show_interfaces(const json_t *result, const struct ctl_show_options *opt, FILE *out)
{
	static const struct ctl_table_column cols[] = {
	    {"NAME", false},
	    {"KIND", false},
	    {"DEVICE", false},
	    {"ADDRESS", false},
	    {"STATE", false},
	    {"RX-PKTS", true},
	    {"RX-BYTES", true},
	    {"TX-PKTS", true},
	    {"TX-BYTES", true},
	    {"DROPS", true},
	};
	static const char *const fields[] = {"name", "kind", "device", "address", "state",
	    "rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "drops"};
	const json_t *list = ctl_show_list(result, "interfaces");

	if (list == NULL)
		return -EBADMSG;
	return ctl_show_table(list, cols, sizeof(cols) / sizeof(cols[0]), fields, NULL, NULL, opt,
	    "no interfaces", out);
}

int
ctl_show_config(const json_t *result, const struct ctl_show_options *opt, FILE *out)
{
	(void)opt;
	if (!json_is_object(result))
		return -EBADMSG;
	if (json_dumpf(result, out, JSON_INDENT(2)) < 0)
		return -EIO;
	fputc('\n', out);
	return ferror(out) ? -EIO : 0;
}

int
ctl_show_reload(const json_t *result, const struct ctl_show_options *opt, FILE *out)
{
	(void)opt;
	fprintf(out, "configuration reloaded\n");
	if (json_is_object(result))
		return ctl_show_key_values(result, out);
	return ferror(out) ? -EIO : 0;
}

/* Paths: state and quality per (local WAN, remote waypoint) of every peer. */
int
ctl_show_paths(const json_t *result, const struct ctl_show_options *opt, FILE *out)
{
	static const struct ctl_table_column cols[] = {
	    {"PEER", false},
	    {"PATH", false},
	    {"INTERFACE", false},
	    {"REMOTE", false},
	    {"STATE", false},
	    {"LATENCY-MS", true},
	    {"JITTER-MS", true},
	    {"LOSS-PCT", true},
	    {"MOS", true},
	    {"HOLD-DOWN-S", true},
	    {"FLAPS", true},
	    {"SESSIONS", true},
	    {"TCP-AS", false},
	};
	static const char *const fields[] = {"peer", "name", "interface", "remote", "state",
	    "latency_avg_ms", "jitter_ms", "loss_pct", "mos", "hold_down_s", "flaps", "sessions",
	    "carriage"};
	const json_t *list = ctl_show_list(result, "paths");

	if (list == NULL)
		return -EBADMSG;
	return ctl_show_table(list, cols, sizeof(cols) / sizeof(cols[0]), fields, NULL, NULL, opt,
	    "no paths", out);
}

/* Events: path state changes, SLA breaches and failovers, oldest first. */
int
ctl_show_events(const json_t *result, const struct ctl_show_options *opt, FILE *out)
{
	static const struct ctl_table_column cols[] = {
	    {"TIME-S", true},
	    {"KIND", false},
	    {"PEER", false},
	    {"PATH", false},
	    {"DETAIL", false},
	};
	static const char *const fields[] = {"ts_s", "kind", "peer", "path", "detail"};
	const json_t *list = ctl_show_list(result, "events");

	if (list == NULL)
		return -EBADMSG;
	return ctl_show_table(list, cols, sizeof(cols) / sizeof(cols[0]), fields, NULL, NULL, opt,
	    "no events", out);
}

/* One session as key: value lines, with why it is on its path. */
int
ctl_show_session(const json_t *result, const struct ctl_show_options *opt, FILE *out)
{
	const json_t *s = json_object_get(result, "session");

	(void)opt;
	if (!json_is_object(s))
		return -EBADMSG;
	return ctl_show_key_values(s, out);
}

/* `policy test`: the decision as key: value lines (tenant, service, verdict, rule, ...). */
int
ctl_show_policy_test(const json_t *result, const struct ctl_show_options *opt, FILE *out)
{
	(void)opt;
	if (!json_is_object(result) || !json_is_string(json_object_get(result, "verdict")))
		return -EBADMSG;
	return ctl_show_key_values(result, out);
}

/* Sessions and bytes per service, tenant or application (key), then the learners. */
static int
ctl_show_counts(const json_t *result, const struct ctl_show_options *opt, FILE *out,
    const char *key, const char *title, const char *none)
{
	const struct ctl_table_column cols[] = {
	    {title, false},
	    {"SESSIONS", true},
	    {"TOTAL", true},
	    {"BYTES-OUT", true},
	    {"BYTES-IN", true},
	};
	static const char *const fields[] = {"name", "sessions", "sessions_total", "bytes_out",
	    "bytes_in"};
	const json_t *list = ctl_show_list(result, key);
	int rc;

	if (list == NULL)
		return -EBADMSG;
	rc = ctl_show_table(list, cols, sizeof(cols) / sizeof(cols[0]), fields, NULL, NULL, opt,
	    none, out);
	if (rc == 0 && json_is_object(json_object_get(result, "inspection"))) {
		fprintf(out, "\ninspection (nDPI):\n");
		rc = ctl_show_key_values(json_object_get(result, "inspection"), out);
	}
	if (rc == 0 && json_is_object(json_object_get(result, "resolver"))) {
		fprintf(out, "\nresolver:\n");
		rc = ctl_show_key_values(json_object_get(result, "resolver"), out);
	}
	if (rc == 0 && json_is_object(json_object_get(result, "learnt"))) {
		fprintf(out, "\nlearnt:\n");
		rc = ctl_show_key_values(json_object_get(result, "learnt"), out);
	}
	return rc;
}

int
ctl_show_services(const json_t *result, const struct ctl_show_options *opt, FILE *out)
{
	return ctl_show_counts(result, opt, out, "services", "SERVICE", "no services");
}

int
ctl_show_tenants(const json_t *result, const struct ctl_show_options *opt, FILE *out)
{
	return ctl_show_counts(result, opt, out, "tenants", "TENANT", "no tenants");
}

int
ctl_show_apps(const json_t *result, const struct ctl_show_options *opt, FILE *out)
{
	return ctl_show_counts(result, opt, out, "apps", "APPLICATION", "no application seen");
}

static const struct ctl_show_view ctl_show_views[] = {
    {"status", ctl_show_status},
    {"sessions", ctl_show_sessions},
    {"session", ctl_show_session},
    {"peers", ctl_show_peers},
    {"paths", ctl_show_paths},
    {"events", ctl_show_events},
    {"drops", ctl_show_drops},
    {"interfaces", ctl_show_interfaces},
    {"config", ctl_show_config},
    {"reload", ctl_show_reload},
    {"policy_test", ctl_show_policy_test},
    {"services", ctl_show_services},
    {"tenants", ctl_show_tenants},
    {"apps", ctl_show_apps},
};

const struct ctl_show_view *
ctl_show_find(const char *cmd)
{
	for (size_t i = 0; i < sizeof(ctl_show_views) / sizeof(ctl_show_views[0]); i++)
		if (strcmp(ctl_show_views[i].cmd, cmd) == 0)
			return &ctl_show_views[i];
	return NULL;
}
