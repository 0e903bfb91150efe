/*
 * ternd, the router daemon: command line. `--check FILE` validates a configuration and
 * exits; `--config FILE` runs the router (router_daemon.c) until SIGTERM.
 *
 * Exit status: 0 success, 1 the configuration is invalid (or could not be read) or the
 * router could not start, 2 usage errors.
 */
#include <errno.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto_key.h"
#include "router/router_config.h"
#include "router/router_daemon.h"

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
	    "Usage: ternd --config FILE [--socket PATH]\n"
	    "       ternd --check FILE\n"
	    "       ternd --version | --help\n"
	    "\n"
	    "Tern router daemon.\n"
	    "\n"
	    "  -c, --config FILE  run the router with the configuration FILE until SIGTERM;\n"
	    "                     SIGHUP (or `ternctl reload`) reloads it, all or nothing\n"
	    "  -s, --socket PATH  the local API socket (default /run/tern/ROUTER.sock)\n"
	    "  -n, --check FILE   validate the configuration FILE, print every error found\n"
	    "                     (FILE: $.json.path: message) or a summary, and exit\n"
	    "  -V, --version      print the version and exit\n"
	    "  -h, --help         print this help and exit\n"
	    "\n"
	    "See ternd(8), docs/configuration.md and docs/api.md.\n"
	    "\n"
	    "Exit status: 0 success, 1 invalid configuration or failure to start, 2 usage.\n");
}

static int
ternd_check(const char *file)
{
	struct router_config_errors errors;
	struct router_config *cfg = NULL;
	int rc, status;

	router_config_errors_init(&errors);
	rc = router_config_load(file, &cfg, &errors);
	if (rc == 0 && cfg->security.private_key_file != NULL) {
		uint8_t key[CRYPTO_KEY_LEN];
		char why[256];

		/* The key file is part of what makes the configuration runnable. */
		if (crypto_key_read_private_file(cfg->security.private_key_file, key, why,
		        sizeof(why)) < 0) {
			fprintf(stderr, "%s: $.router.private_key_file: %s: %s\n", file,
			    cfg->security.private_key_file, why);
			fprintf(stderr, "%s: configuration invalid (1 error)\n", file);
			rc = -EINVAL;
		}
		OPENSSL_cleanse(key, sizeof(key));
		if (rc < 0) {
			router_config_free(cfg);
			router_config_errors_fini(&errors);
			return EXIT_INVALID;
		}
	}
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
	    {"config", required_argument, NULL, 'c'},
	    {"socket", required_argument, NULL, 's'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *check = NULL, *config = NULL, *socket_path = NULL;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":n:c:s:Vh", options, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (check != NULL) {
				fprintf(stderr, "ternd: --check given twice\n");
				goto usage_error;
			}
			check = optarg;
			break;
		case 'c':
			if (config != NULL) {
				fprintf(stderr, "ternd: --config given twice\n");
				goto usage_error;
			}
			config = optarg;
			break;
		case 's':
			socket_path = optarg;
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
	if (check != NULL && config != NULL) {
		fprintf(stderr, "ternd: --check and --config exclude each other\n");
		goto usage_error;
	}
	if (check != NULL)
		return ternd_check(check);
	if (config != NULL) {
		struct router_daemon_options o = {.config_path = config,
		    .socket_path = socket_path};

		return router_daemon_run(&o);
	}
	fprintf(stderr, "ternd: say what to do: --config FILE to run, --check FILE to validate\n");
	goto usage_error;

usage_error:
	usage(stderr);
	return EXIT_USAGE;
}
