/* ternctl's command line and the mapping of outcomes to messages and exit codes. */
#include "ctl/ctl_main.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl_client.h"
#include "ctl/ctl_keys.h"
#include "ctl/ctl_show.h"
#include "lib/addr.h"

#ifndef TERN_VERSION
#define TERN_VERSION "unknown"
#endif

#define CTL_PATH_MAX 256

struct ctl_args {
	const char *socket_path;
	const char *router;
	bool json;
	struct ctl_show_options show;
	const char *cmd; /* API command */
	json_t *filters; /* args of the request, NULL when none */
	/* policy test: --tenant, --segment, --src, --dst, --proto, --port, --sni, --app */
	const char *policy[8];
	int timeout_ms;
};

static void
ctl_usage(FILE *f)
{
	fputs("usage: ternctl [--socket PATH | --router NAME] [--json] show WHAT [KEY=VALUE...]\n"
	      "       ternctl [--socket PATH | --router NAME] [--json] reload\n"
	      "       ternctl [...] policy test [--tenant T | --segment S] --src A --dst B\n"
	      "                     --proto P [--port N] [--sni NAME] [--app NAME]\n"
	      "                                   what a session would get, without a packet\n"
	      "       ternctl genkey              a new private key (base64), as wg genkey\n"
	      "       ternctl pubkey < PRIVATE    its public key, as wg pubkey\n"
	      "       ternctl --help | --version\n"
	      "\n"
	      "WHAT: status, sessions, peers, drops, interfaces, config, services, tenants,\n"
	      "      apps, paths, events\n"
	      "  show sessions accepts filters: tenant=, service=, peer=, proto=, limit=\n"
	      "  show drops lists only non-zero reasons unless --all is given\n"
	      "\n"
	      "options:\n"
	      "  -s, --socket PATH  ternd's API socket\n"
	      "  -r, --router NAME  the router's socket, " CTL_SOCKET_DIR "/NAME.sock\n"
	      "  -j, --json         print the result as JSON (for scripts)\n"
	      "  -a, --all          with show drops: every reason, zeros included\n"
	      "  -h, --help         this text\n"
	      "  -V, --version      ternctl's version\n"
	      "\n"
	      "exit status: 0 ok, 1 ternd answered an error, 2 bad usage, 3 ternd unreachable\n",
	    f);
}

static int
ctl_usage_error(FILE *err, const char *what, const char *arg)
{
	fprintf(err, "ternctl: %s%s%s\n", what, arg != NULL ? ": " : "", arg != NULL ? arg : "");
	ctl_usage(err);
	return CTL_EXIT_USAGE;
}

/* key=value words after "show sessions": strings, or integers when all digits. */
static int
ctl_parse_filters(struct ctl_args *a, int argc, char **argv, FILE *err)
{
	for (int i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		char key[64];
		char *end;
		long long n;
		json_t *v;

		if (eq == NULL || eq == argv[i] || (size_t)(eq - argv[i]) >= sizeof(key))
			return ctl_usage_error(err, "expected KEY=VALUE", argv[i]);
		memcpy(key, argv[i], (size_t)(eq - argv[i]));
		key[eq - argv[i]] = '\0';
		errno = 0;
		n = strtoll(eq + 1, &end, 10);
		if (eq[1] != '\0' && *end == '\0' && errno == 0)
			v = json_integer(n);
		else
			v = json_string(eq + 1);
		if (a->filters == NULL)
			a->filters = json_object();
		if (v == NULL || a->filters == NULL || json_object_set_new(a->filters, key, v) < 0)
			return ctl_usage_error(err, "bad filter (not UTF-8?)", argv[i]);
	}
	return CTL_EXIT_OK;
}

/*
 * `policy test --tenant T --src A --dst B --proto P --port N [--sni NAME]` (the options
 * were collected by getopt): checks each strictly, so a typo is a usage error here
 * rather than a question about some other session.
 */
static int
ctl_parse_policy_test(struct ctl_args *a, int argc, char **argv, FILE *err)
{
	static const char *const names[] = {"tenant", "segment", "src", "dst", "proto", "port",
	    "sni", "app"};
	const char *proto = a->policy[4], *port = a->policy[5];
	bool ports;
	char *end;
	long n;

	if (argc < 2 || strcmp(argv[1], "test") != 0)
		return ctl_usage_error(err, "expected policy test", argc > 1 ? argv[1] : NULL);
	if (argc > 2)
		return ctl_usage_error(err, "policy test takes options only", argv[2]);
	if (a->policy[2] == NULL || a->policy[3] == NULL || proto == NULL)
		return ctl_usage_error(err, "policy test needs --src, --dst and --proto", NULL);
	for (int i = 2; i <= 3; i++) {
		struct addr tmp;

		if (addr_parse(a->policy[i], &tmp) < 0)
			return ctl_usage_error(err, "not an IPv4 or IPv6 address", a->policy[i]);
	}
	a->filters = json_object();
	if (a->filters == NULL)
		return CTL_EXIT_FAILED;
	for (int i = 0; i < 8; i++)
		if (a->policy[i] != NULL && i != 4 && i != 5 &&
		    json_object_set_new(a->filters, names[i], json_string(a->policy[i])) < 0)
			return ctl_usage_error(err, "bad argument (not UTF-8?)", a->policy[i]);
	errno = 0;
	n = strtol(proto, &end, 10);
	if (proto[0] >= '0' && proto[0] <= '9' && *end == '\0' && errno == 0 && n <= 255)
		json_object_set_new(a->filters, "proto", json_integer(n));
	else if (strcmp(proto, "tcp") == 0 || strcmp(proto, "udp") == 0 ||
	    strcmp(proto, "icmp") == 0 || strcmp(proto, "icmpv6") == 0 ||
	    strcmp(proto, "sctp") == 0)
		json_object_set_new(a->filters, "proto", json_string(proto));
	else
		return ctl_usage_error(err,
		    "--proto: expected tcp, udp, icmp, icmpv6, sctp or 0-255", proto);
	ports = strcmp(proto, "tcp") == 0 || strcmp(proto, "udp") == 0 ||
	    strcmp(proto, "sctp") == 0 || strcmp(proto, "6") == 0 || strcmp(proto, "17") == 0;
	if (port == NULL && ports)
		return ctl_usage_error(err, "--port is needed with tcp, udp and sctp", NULL);
	if (port != NULL) {
		errno = 0;
		n = strtol(port, &end, 10);
		if (port[0] < '0' || port[0] > '9' || *end != '\0' || errno != 0 || n > 65535)
			return ctl_usage_error(err, "--port: expected 0-65535", port);
		json_object_set_new(a->filters, "port", json_integer(n));
	}
	a->cmd = "policy_test";
	return CTL_EXIT_OK;
}

static int
ctl_parse(struct ctl_args *a, int argc, char **argv, FILE *out, FILE *err)
{
	static const struct option options[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"router", required_argument, NULL, 'r'},
	    {"json", no_argument, NULL, 'j'},
	    {"all", no_argument, NULL, 'a'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {"tenant", required_argument, NULL, 0x100},
	    {"segment", required_argument, NULL, 0x101},
	    {"src", required_argument, NULL, 0x102},
	    {"dst", required_argument, NULL, 0x103},
	    {"proto", required_argument, NULL, 0x104},
	    {"port", required_argument, NULL, 0x105},
	    {"sni", required_argument, NULL, 0x106},
	    {"app", required_argument, NULL, 0x107},
	    {NULL, 0, NULL, 0},
	};
	bool policy_opts = false;
	int c;

	optind = 0; /* glibc: full re-initialization, so tests may run this repeatedly */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "s:r:jahV", options, NULL)) != -1) {
		switch (c) {
		case 's':
			a->socket_path = optarg;
			break;
		case 'r':
			a->router = optarg;
			break;
		case 'j':
			a->json = true;
			break;
		case 'a':
			a->show.all = true;
			break;
		case 'h':
			ctl_usage(out);
			return -1;
		case 'V':
			fprintf(out, "ternctl %s (API %d)\n", TERN_VERSION, CTL_API_VERSION);
			return -1;
		case 0x100:
		case 0x101:
		case 0x102:
		case 0x103:
		case 0x104:
		case 0x105:
		case 0x106:
		case 0x107:
			if (a->policy[c - 0x100] != NULL)
				return ctl_usage_error(err, "option given twice", NULL);
			a->policy[c - 0x100] = optarg;
			policy_opts = true;
			break;
		default:
			return ctl_usage_error(err, "unknown option or missing argument",
			    argv[optind - 1]);
		}
	}
	if (a->socket_path != NULL && a->router != NULL)
		return ctl_usage_error(err, "--socket and --router exclude each other", NULL);
	if (a->router != NULL &&
	    (a->router[0] == '\0' || strchr(a->router, '/') != NULL || a->router[0] == '.'))
		return ctl_usage_error(err, "bad router name", a->router);
	if (optind >= argc)
		return ctl_usage_error(err, "missing command", NULL);
	if (strcmp(argv[optind], "genkey") == 0 || strcmp(argv[optind], "pubkey") == 0) {
		if (optind + 1 != argc)
			return ctl_usage_error(err, "takes no argument", argv[optind + 1]);
		a->cmd = argv[optind][0] == 'g' ? "genkey" : "pubkey";
		return CTL_EXIT_OK;
	}
	if (strcmp(argv[optind], "policy") == 0)
		return ctl_parse_policy_test(a, argc - optind, argv + optind, err);
	if (policy_opts)
		return ctl_usage_error(err, "--tenant, --src, ... are options of policy test",
		    NULL);
	if (strcmp(argv[optind], "reload") == 0) {
		if (optind + 1 != argc)
			return ctl_usage_error(err, "reload takes no argument", argv[optind + 1]);
		a->cmd = "reload";
		return CTL_EXIT_OK;
	}
	if (strcmp(argv[optind], "show") != 0)
		return ctl_usage_error(err, "unknown command", argv[optind]);
	if (optind + 1 >= argc)
		return ctl_usage_error(err, "show what?", NULL);
	a->cmd = argv[optind + 1];
	if (strcmp(a->cmd, "reload") == 0 || strcmp(a->cmd, "policy_test") == 0 ||
	    ctl_show_find(a->cmd) == NULL)
		return ctl_usage_error(err, "cannot show", a->cmd);
	if (strcmp(a->cmd, "session") == 0) {
		char *end;
		long long id;

		/* show session ID: one session, with why it is on its path. */
		if (optind + 3 != argc)
			return ctl_usage_error(err, "show session takes one session ID",
			    optind + 2 < argc ? argv[argc - 1] : NULL);
		errno = 0;
		id = strtoll(argv[optind + 2], &end, 10);
		if (argv[optind + 2][0] == '\0' || *end != '\0' || errno != 0 || id < 0 ||
		    id > UINT32_MAX)
			return ctl_usage_error(err, "not a session ID", argv[optind + 2]);
		a->filters = json_pack("{s:I}", "id", (json_int_t)id);
		return a->filters != NULL ? CTL_EXIT_OK : CTL_EXIT_FAILED;
	}
	if (optind + 2 < argc && strcmp(a->cmd, "sessions") != 0)
		return ctl_usage_error(err, "only show sessions takes filters", argv[optind + 2]);
	return ctl_parse_filters(a, argc - optind - 2, argv + optind + 2, err);
}

/*
 * Without --socket or --router: $TERN_SOCKET, else the only socket in CTL_SOCKET_DIR,
 * else CTL_SOCKET_DIR/tern.sock (whose absence gives the "not running" message).
 */
static int
ctl_socket_resolve(const struct ctl_args *a, char *path, size_t size, FILE *err)
{
	const char *env = getenv("TERN_SOCKET");
	char found[CTL_PATH_MAX] = "";
	unsigned count = 0;
	struct dirent *d;
	DIR *dir;

	if (a->socket_path != NULL) {
		snprintf(path, size, "%s", a->socket_path);
		return CTL_EXIT_OK;
	}
	if (a->router != NULL) {
		snprintf(path, size, "%s/%s.sock", CTL_SOCKET_DIR, a->router);
		return CTL_EXIT_OK;
	}
	if (env != NULL && env[0] != '\0') {
		snprintf(path, size, "%s", env);
		return CTL_EXIT_OK;
	}
	dir = opendir(CTL_SOCKET_DIR);
	while (dir != NULL && (d = readdir(dir)) != NULL) {
		size_t len = strlen(d->d_name);

		if (len > 5 && strcmp(d->d_name + len - 5, ".sock") == 0 && d->d_name[0] != '.') {
			count++;
			snprintf(found, sizeof(found), "%s/%s", CTL_SOCKET_DIR, d->d_name);
		}
	}
	if (dir != NULL)
		closedir(dir);
	if (count > 1) {
		fprintf(err,
		    "ternctl: several routers run here (see %s); choose one with "
		    "--router NAME\n",
		    CTL_SOCKET_DIR);
		return CTL_EXIT_USAGE;
	}
	if (count == 1)
		snprintf(path, size, "%s", found);
	else
		snprintf(path, size, "%s/tern.sock", CTL_SOCKET_DIR);
	return CTL_EXIT_OK;
}

static int
ctl_report_call_error(int rc, const char *path, int timeout_ms, FILE *err)
{
	switch (rc) {
	case -ENOENT:
	case -ECONNREFUSED:
		fprintf(err, "ternctl: ternd is not running (no socket at %s)\n", path);
		return CTL_EXIT_UNREACHABLE;
	case -EACCES:
	case -EPERM:
		fprintf(err,
		    "ternctl: cannot open %s: permission denied; run as root or a member of "
		    "the tern group\n",
		    path);
		return CTL_EXIT_UNREACHABLE;
	case -ETIMEDOUT:
		fprintf(err, "ternctl: ternd did not answer within %d ms on %s\n", timeout_ms,
		    path);
		return CTL_EXIT_UNREACHABLE;
	case -ENOTSOCK:
		fprintf(err, "ternctl: %s is not a socket\n", path);
		return CTL_EXIT_UNREACHABLE;
	case -EBADMSG:
		fprintf(err, "ternctl: %s answered something that is not a ternd API answer\n",
		    path);
		return CTL_EXIT_FAILED;
	case -EPROTO:
		fprintf(err, "ternctl: ternd on %s speaks another API version than ternctl (%d)\n",
		    path, CTL_API_VERSION);
		return CTL_EXIT_FAILED;
	default:
		fprintf(err, "ternctl: %s: %s\n", path, strerror(-rc));
		return CTL_EXIT_UNREACHABLE;
	}
}

/* Prints "ternctl: CODE: MESSAGE" and each detail of an error answer. */
static int
ctl_report_answer_error(const json_t *answer, FILE *err)
{
	const json_t *e = json_object_get(answer, "error");
	const json_t *details = json_object_get(e, "details");
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *message = json_string_value(json_object_get(e, "message"));
	const json_t *d;
	size_t i;

	fprintf(err, "ternctl: %s: %s\n", code != NULL ? code : "error",
	    message != NULL ? message : "(no message)");
	json_array_foreach(details, i, d)
	{
		if (json_is_string(d))
			fprintf(err, "  %s\n", json_string_value(d));
	}
	return CTL_EXIT_FAILED;
}

static int
ctl_print(const struct ctl_args *a, const json_t *result, FILE *out, FILE *err)
{
	const struct ctl_show_view *view = ctl_show_find(a->cmd);
	int rc;

	if (a->json) {
		if (json_dumpf(result, out, JSON_INDENT(2) | JSON_ENCODE_ANY) < 0)
			return CTL_EXIT_FAILED;
		fputc('\n', out);
		return CTL_EXIT_OK;
	}
	rc = view->format(result, &a->show, out);
	if (rc == -EBADMSG) {
		fprintf(err, "ternctl: the %s answer has an unexpected shape; try --json\n",
		    a->cmd);
		return CTL_EXIT_FAILED;
	}
	if (rc < 0) {
		fprintf(err, "ternctl: cannot print the %s answer: %s\n", a->cmd, strerror(-rc));
		return CTL_EXIT_FAILED;
	}
	return CTL_EXIT_OK;
}

int
ctl_main_run(int argc, char **argv, FILE *out, FILE *err)
{
	struct ctl_args a = {.timeout_ms = CTL_TIMEOUT_MS};
	char path[CTL_PATH_MAX];
	json_t *answer = NULL;
	const char *timeout = getenv("TERNCTL_TIMEOUT_MS");
	int rc;

	if (timeout != NULL && atoi(timeout) > 0)
		a.timeout_ms = atoi(timeout);
	rc = ctl_parse(&a, argc, argv, out, err);
	if (rc < 0) {
		rc = CTL_EXIT_OK; /* --help or --version */
		goto out;
	}
	if (rc != CTL_EXIT_OK)
		goto out;
	/* Key commands are local: no ternd involved. */
	if (strcmp(a.cmd, "genkey") == 0) {
		rc = ctl_keys_genkey(out, err);
		goto out;
	}
	if (strcmp(a.cmd, "pubkey") == 0) {
		rc = ctl_keys_pubkey(stdin, out, err);
		goto out;
	}
	rc = ctl_socket_resolve(&a, path, sizeof(path), err);
	if (rc != CTL_EXIT_OK)
		goto out;
	rc = ctl_client_call(path, a.cmd, a.filters, a.timeout_ms, &answer);
	if (rc < 0) {
		rc = ctl_report_call_error(rc, path, a.timeout_ms, err);
		goto out;
	}
	if (!json_is_true(json_object_get(answer, "ok")))
		rc = ctl_report_answer_error(answer, err);
	else
		rc = ctl_print(&a, json_object_get(answer, "result"), out, err);
out:
	fflush(out);
	json_decref(answer);
	json_decref(a.filters);
	return rc;
}
