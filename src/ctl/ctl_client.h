/*
 * ternctl's side of the local API (docs/api.md): one request, one answer, over ternd's
 * unix socket. ctl shares nothing with ternd but this wire protocol; it never includes
 * router code.
 *
 * Threads: no shared state; the call blocks its caller for at most timeout_ms.
 */
#ifndef TERN_CTL_CLIENT_H
#define TERN_CTL_CLIENT_H

#include <jansson.h>

/* The API version ternctl speaks; answers must carry the same "api". */
#define CTL_API_VERSION 1
#define CTL_SOCKET_DIR  "/run/tern"
#define CTL_TIMEOUT_MS  5000
/* Largest answer read (a big session table); more is -EMSGSIZE. */
#define CTL_ANSWER_MAX (512u * 1024 * 1024)

/*
 * Sends {"cmd": cmd[, "args": args]} (args borrowed, may be NULL) to the server at
 * socket_path and reads its whole answer within timeout_ms. 0 with *answer (a new
 * reference to the whole answer object, known to have "ok" as a boolean and the right
 * "api"). Errors: -ENOENT or -ECONNREFUSED (nothing serves the path), -EACCES/-EPERM,
 * -ENAMETOOLONG, -ETIMEDOUT, -EBADMSG (the answer is not an API answer), -EPROTO (another
 * API version), -EMSGSIZE, -ENOMEM, other -errno from the socket.
 */
int ctl_client_call(const char *socket_path, const char *cmd, const json_t *args, int timeout_ms,
    json_t **answer);

#endif
