/*
 * ternd, the router daemon: command line. For now it validates a configuration file
 * (--check) and nothing else; running the router comes with the rest of issue 3, and
 * the program says so rather than pretend.
 *
 * Exit status: 0 success, 1 the configuration is invalid (or could not be read),
 * 2 usage errors and what is not implemented yet.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router/router_config.h"

#ifndef TERN_VERSION
#define TERN_VERSION "unknown"
#endif

enum {
	EXIT_INVALID = 1,
	EXIT_USAGE = 2,
};

static void
usage(FILE *out)
{
	fprintf(out,
	    "Usage: ternd --check FILE\n"
	    "       ternd --version | --help\n"
	    "\n"
	    "Tern router daemon.\n"
	    "\n"
	    "  -n, --check FILE  validate the configuration FILE, print every error found\n"
	    "                    (FILE: $.json.path: message) or a summary, and exit\n"
	    "  -V, --version     print the version and exit\n"
	    "  -h, --help        print this help and exit\n"
	    "\n"
	    "Running the router is not implemented yet: this build only checks\n"
	    "configuration files. See ternd(8) and docs/configuration.md.\n"
	    "\n"
	    "Exit status: 0 valid, 1 invalid configuration, 2 usage error or not implemented.\n");
}

static int
ternd_check(const char *file)
{
	struct router_config_errors errors;
	struct router_config *cfg = NULL;
	int rc, status;

	router_config_errors_init(&errors);
	rc = router_config_load(file, &cfg, &errors);
	if (rc == 0) {
		printf("%s: configuration OK (router %s: %zu tenants, %zu lan, %zu wan, %zu peers "
		       "with %zu paths, %zu services)\n",
		    file, cfg->name, cfg->tenant_count, cfg->lan_count, cfg->wan_count,
		    cfg->peer_count, cfg->path_count, cfg->service_count);
		status = EXIT_SUCCESS;
	} else {
		router_config_errors_print(&errors, stderr);
		if (rc == -ENOMEM)
			fprintf(stderr, "%s: out of memory while checking the configuration\n",
			    file);
		else
			fprintf(stderr, "%s: configuration invalid (%zu error%s)\n", file,
			    router_config_errors_count(&errors) + errors.dropped,
			    router_config_errors_count(&errors) + errors.dropped == 1 ? "" : "s");
		status = EXIT_INVALID;
	}
	router_config_free(cfg);
	router_config_errors_fini(&errors);
	return status;
}

int
main(int argc, char **argv)
{
	static const struct option options[] = {
	    {"check", required_argument, NULL, 'n'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *check = NULL;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":n:Vh", options, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (check != NULL) {
				fprintf(stderr, "ternd: --check given twice\n");
				goto usage_error;
			}
			check = optarg;
			break;
		case 'V':
			printf("ternd %s\n", TERN_VERSION);
			return EXIT_SUCCESS;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		case ':':
			fprintf(stderr, "ternd: option %s needs an argument\n", argv[optind - 1]);
			goto usage_error;
		default:
			if (optopt != 0)
				fprintf(stderr, "ternd: unknown option -%c\n", optopt);
			else
				fprintf(stderr, "ternd: unknown option %s\n", argv[optind - 1]);
			goto usage_error;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ternd: unexpected argument \"%s\"\n", argv[optind]);
		goto usage_error;
	}
	if (check != NULL)
		return ternd_check(check);
	fprintf(stderr,
	    "ternd: running the router is not implemented yet; this build only checks "
	    "configuration files (ternd --check FILE)\n");
	return EXIT_USAGE;

usage_error:
	usage(stderr);
	return EXIT_USAGE;
}
