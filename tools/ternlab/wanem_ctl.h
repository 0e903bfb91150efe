/*
 * The control socket of ternlab-wanem: a unix stream socket that takes one command line
 * per connection and answers one reply ("ok", "error: ...", or the JSON of `show`), then
 * closes. Also the client side, for `ternlab-wanem --control PATH --send WORDS`.
 *
 * The server never blocks the forwarding thread: the listening socket and up to
 * WANEM_CTL_CLIENTS connections sit in the same poll set as the packet sockets, and a
 * connection is answered once its line (up to a newline or its end) is complete.
 *
 * Threads: the server belongs to the forwarding thread.
 */
#ifndef TERN_TOOLS_TERNLAB_WANEM_CTL_H
#define TERN_TOOLS_TERNLAB_WANEM_CTL_H

#include <poll.h>
#include <stddef.h>
#include <sys/un.h>

#define WANEM_CTL_CLIENTS  8
#define WANEM_CTL_LINE_MAX 1024
/* Longest reply with its NUL (the JSON of show fits easily). */
#define WANEM_CTL_REPLY_MAX 4096

struct wanem_ctl_client {
	int fd; /* -1: slot free */
	size_t len;
	char buf[WANEM_CTL_LINE_MAX];
};

struct wanem_ctl {
	int listen_fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct wanem_ctl_client clients[WANEM_CTL_CLIENTS];
};

/*
 * Listens on path, replacing a stale socket file left by a dead emulator but refusing a
 * live one (-EADDRINUSE) or any other file (-EEXIST). Returns 0 or a negative errno,
 * logged.
 */
int wanem_ctl_open(struct wanem_ctl *ctl, const char *path);
/* Closes every connection and removes the socket file. Safe on a failed open. */
void wanem_ctl_close(struct wanem_ctl *ctl);

/* Fills pfd (room for 1 + WANEM_CTL_CLIENTS) with the sockets to watch; returns how many. */
size_t wanem_ctl_pollfds(const struct wanem_ctl *ctl, struct pollfd *pfd);

/*
 * Serves the sockets of pfd[0..n) that poll found ready: accepts connections, reads
 * lines and answers each complete line with handle(line, reply, size, arg), which
 * writes a NUL-terminated reply without its newline.
 */
void wanem_ctl_serve(struct wanem_ctl *ctl, const struct pollfd *pfd, size_t n,
    void (*handle)(const char *line, char *reply, size_t size, void *arg), void *arg);

/*
 * Client: sends line to the emulator at path and copies its reply (without the final
 * newline) to reply. Waits at most timeout_ms. Returns 0, or a negative errno (-ENOENT:
 * no socket there; -ECONNREFUSED: nothing listening; -ETIMEDOUT) without logging.
 */
int wanem_ctl_request(const char *path, const char *line, char *reply, size_t size, int timeout_ms);

#endif
