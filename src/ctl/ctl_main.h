/*
 * ternctl's command line: parses the arguments, finds the socket, calls the API and
 * prints the answer. Kept out of main() so tests run it with their own streams.
 *
 * Exit codes (also in man/ternctl.1): CTL_EXIT_OK, CTL_EXIT_FAILED when ternd answered
 * an error or the answer could not be shown, CTL_EXIT_USAGE for a bad command line,
 * CTL_EXIT_UNREACHABLE when ternd could not be asked (not running, permission, timeout).
 *
 * Threads: uses getopt_long's globals; call from one thread.
 */
#ifndef TERN_CTL_MAIN_H
#define TERN_CTL_MAIN_H

#include <stdio.h>

enum ctl_exit {
	CTL_EXIT_OK = 0,
	CTL_EXIT_FAILED = 1,
	CTL_EXIT_USAGE = 2,
	CTL_EXIT_UNREACHABLE = 3,
};

/* Runs ternctl with argv; normal output to out, messages to err. Returns an exit code. */
int ctl_main_run(int argc, char **argv, FILE *out, FILE *err);

#endif
