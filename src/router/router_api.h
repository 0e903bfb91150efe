/*
 * The local API server: ternd's unix stream socket that ternctl and scripts talk to
 * (protocol in docs/api.md). This module is the framework only: socket, connections,
 * framing, request parsing and dispatch to a table of registered commands. What a
 * command answers is the router's business; handlers are given their args and a ctx.
 *
 * One request per connection: the client writes one JSON object ended by "\n" (at most
 * ROUTER_API_REQUEST_MAX bytes with the newline), the server answers one JSON object
 * ended by "\n" and closes. Every answer carries "api": ROUTER_API_VERSION and either
 * "ok": true with "result", or "ok": false with "error": {"code", "message"[, "details"]}.
 *
 * Invariants: at most max_connections clients are served at once (one more is answered
 * "busy" and closed); each has a preallocated request buffer; a client that has not sent
 * its whole request within timeout_ms of connecting, or that reads nothing of its answer
 * for timeout_ms, is dropped. No input from a client is fatal to the server.
 *
 * Threads: everything here runs on the control thread only (no locks inside). The
 * control loop polls router_api_fd() for POLLIN and calls router_api_on_readable();
 * timeouts arrive through that same fd (an internal timerfd), so no other hook exists.
 */
#ifndef TERN_ROUTER_API_H
#define TERN_ROUTER_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define ROUTER_API_VERSION 1
/* Largest request, its "\n" included. */
#define ROUTER_API_REQUEST_MAX (64 * 1024)
#define ROUTER_API_SOCKET_DIR  "/run/tern"
/* Longest command name. */
#define ROUTER_API_CMD_MAX         32
#define ROUTER_API_COMMANDS_MAX    32
#define ROUTER_API_TIMEOUT_MS      2000
#define ROUTER_API_CONNECTIONS_MAX 16
#define ROUTER_API_MESSAGE_MAX     256

/* Error codes of the protocol (a handler may use others, in kebab-case). */
#define ROUTER_API_E_BAD_REQUEST     "bad-request"
#define ROUTER_API_E_UNKNOWN_COMMAND "unknown-command"
#define ROUTER_API_E_TOO_LARGE       "too-large"
#define ROUTER_API_E_TIMEOUT         "timeout"
#define ROUTER_API_E_BUSY            "busy"
#define ROUTER_API_E_INTERNAL        "internal"

/*
 * An error answer under construction. code points to a string that outlives the
 * request (a literal); details, if set, is an owned JSON array of strings (e.g. every
 * error of a rejected configuration) that the framework sends and releases.
 */
struct router_api_error {
	const char *code;
	char message[ROUTER_API_MESSAGE_MAX];
	json_t *details;
};

/*
 * Fills err (message printf-style, cut to fit) and returns -EINVAL, so a handler
 * reads `return router_api_error_set(err, "bad-request", "unknown filter %s", k);`.
 */
int router_api_error_set(struct router_api_error *err, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * A command handler. args is the request's "args" object (an empty object when the
 * request had none; borrowed). On success return 0 and set *result to a new reference
 * that the framework takes (NULL answers "result": null). On failure return a negative
 * errno: with err->code set that is the answer, otherwise "internal" with strerror.
 */
struct router_api_command {
	const char *name; /* borrowed; must outlive the api */
	int (
	    *handler)(const json_t *args, json_t **result, struct router_api_error *err, void *ctx);
	void *ctx;
};

struct router_api_config {
	const char *socket_path;  /* required; its directory is created (0755) if missing */
	mode_t mode;              /* permissions of the socket; 0: 0660 */
	unsigned timeout_ms;      /* 0: ROUTER_API_TIMEOUT_MS */
	unsigned max_connections; /* 0: ROUTER_API_CONNECTIONS_MAX */
};

/* A parsed request: cmd and args borrow from root. */
struct router_api_request {
	json_t *root;
	const char *cmd;
	const json_t *args; /* NULL when the request has no "args" */
};

struct router_api;

/*
 * Creates the socket and starts listening. A leftover socket file nobody answers on is
 * replaced; a live server on the path gives -EADDRINUSE, a path that exists and is not a
 * socket -EEXIST; -ENAMETOOLONG for a path too long for sockaddr_un; -EINVAL without a
 * path; other -errno from the system. The socket appears atomically with its final mode
 * (bound under a temporary name, then renamed). Logs why it failed.
 */
int router_api_new(const struct router_api_config *config, struct router_api **out);
/* Closes every connection and removes the socket if it is still ours. Accepts NULL. */
void router_api_free(struct router_api *api);

/* Adds a command (copied; cmd->name borrowed). -EEXIST, -ENOSPC, -EINVAL (bad name). */
int router_api_register(struct router_api *api, const struct router_api_command *cmd);

/* The fd to poll for POLLIN; owned by api. */
int router_api_fd(const struct router_api *api);
/*
 * Call when router_api_fd() is readable (calling it when not is harmless): accepts
 * connections, reads requests, runs handlers, writes answers and drops clients past
 * their timeout, without ever blocking. Returns 0, or -errno if the server itself
 * failed (epoll or timerfd); client errors only close that client.
 */
int router_api_on_readable(struct router_api *api);
/* Connections currently open (tests). */
unsigned router_api_connection_count(const struct router_api *api);
/* The socket path the server listens on (borrowed). */
const char *router_api_socket_path(const struct router_api *api);

/*
 * The strict request parser, a pure function: buf holds one request without its "\n"
 * (len bytes, need not be NUL-terminated). It must be a JSON object whose keys are
 * "cmd" (a non-empty string of at most ROUTER_API_CMD_MAX - 1 bytes) and optionally
 * "args" (an object), nothing else, no duplicate key. 0 with *req filled (release with
 * router_api_request_fini()); -EINVAL with err filled ("bad-request", naming the key or
 * the JSON error); -EMSGSIZE ("too-large") when len >= ROUTER_API_REQUEST_MAX; -ENOMEM.
 */
int router_api_request_parse(const char *buf, size_t len, struct router_api_request *req,
    struct router_api_error *err);
void router_api_request_fini(struct router_api_request *req);

/*
 * Builds the answer line (JSON + "\n") for a result (borrowed; NULL is null) or, when
 * err is non-NULL, for that error (its details are borrowed). Returns a malloc'd string
 * and its length, or NULL on allocation failure.
 */
char *router_api_answer_format(const json_t *result, const struct router_api_error *err,
    size_t *len);

#endif
