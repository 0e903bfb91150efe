/* The control socket of ternlab-wanem: see wanem_ctl.h. */
#include "wanem_ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"

static int
wanem_ctl_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	strcpy(sun->sun_path, path);
	return 0;
}

int
wanem_ctl_open(struct wanem_ctl *ctl, const char *path)
{
	struct sockaddr_un sun;
	struct stat st;
	int rc, fd;

	memset(ctl, 0, sizeof(*ctl));
	ctl->listen_fd = -1;
	for (int i = 0; i < WANEM_CTL_CLIENTS; i++)
		ctl->clients[i].fd = -1;
	rc = wanem_ctl_addr(path, &sun);
	if (rc < 0)
		return log_error_errno(rc, "control socket %s: path too long", path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return log_error_errno(-EEXIST, "control socket %s: a file is in the way",
			    path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			close(fd);
			return log_error_errno(-EADDRINUSE,
			    "control socket %s: another emulator is listening there", path);
		}
		if (fd >= 0)
			close(fd);
		unlink(path); /* stale: its emulator is gone */
	}
	ctl->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->listen_fd < 0)
		return log_error_errno(-errno, "control socket %s: socket", path);
	if (bind(ctl->listen_fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		rc = log_error_errno(-errno, "control socket %s: cannot bind", path);
		goto fail;
	}
	strcpy(ctl->path, path);
	if (listen(ctl->listen_fd, 16) < 0) {
		rc = log_error_errno(-errno, "control socket %s: cannot listen", path);
		goto fail;
	}
	return 0;

fail:
	wanem_ctl_close(ctl);
	return rc;
}

static void
wanem_ctl_client_close(struct wanem_ctl_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->len = 0;
}

void
wanem_ctl_close(struct wanem_ctl *ctl)
{
	for (int i = 0; i < WANEM_CTL_CLIENTS; i++)
		wanem_ctl_client_close(&ctl->clients[i]);
	if (ctl->listen_fd >= 0)
		close(ctl->listen_fd);
	ctl->listen_fd = -1;
	if (ctl->path[0] != '\0')
		unlink(ctl->path);
	ctl->path[0] = '\0';
}

size_t
wanem_ctl_pollfds(const struct wanem_ctl *ctl, struct pollfd *pfd)
{
	size_t n = 0;

	pfd[n].fd = ctl->listen_fd;
	pfd[n].events = POLLIN;
	pfd[n++].revents = 0;
	for (int i = 0; i < WANEM_CTL_CLIENTS; i++) {
		if (ctl->clients[i].fd < 0)
			continue;
		pfd[n].fd = ctl->clients[i].fd;
		pfd[n].events = POLLIN;
		pfd[n++].revents = 0;
	}
	return n;
}

/* Best effort: the reply is small and the socket buffer empty, so one write does it. */
static void
wanem_ctl_reply(struct wanem_ctl_client *c, const char *text)
{
	size_t len = strlen(text);
	ssize_t rc;

	rc = send(c->fd, text, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (rc >= 0)
		rc = send(c->fd, "\n", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)rc;
	wanem_ctl_client_close(c);
}

static void
wanem_ctl_client_read(struct wanem_ctl_client *c,
    void (*handle)(const char *line, char *reply, size_t size, void *arg), void *arg)
{
	char reply[WANEM_CTL_REPLY_MAX];
	ssize_t got;
	char *nl;
	bool eof = false;

	got = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, MSG_DONTWAIT);
	if (got < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		wanem_ctl_client_close(c);
		return;
	}
	if (got == 0)
		eof = true;
	c->len += (size_t)got;
	c->buf[c->len] = '\0';
	nl = memchr(c->buf, '\n', c->len);
	if (nl != NULL)
		*nl = '\0';
	else if (c->len == sizeof(c->buf) - 1) {
		wanem_ctl_reply(c, "error: command longer than 1023 bytes");
		return;
	} else if (!eof)
		return;
	if (strlen(c->buf) != (size_t)((nl != NULL ? nl : c->buf + c->len) - c->buf)) {
		wanem_ctl_reply(c, "error: NUL byte in command");
		return;
	}
	handle(c->buf, reply, sizeof(reply), arg);
	wanem_ctl_reply(c, reply);
}

void
wanem_ctl_serve(struct wanem_ctl *ctl, const struct pollfd *pfd, size_t n,
    void (*handle)(const char *line, char *reply, size_t size, void *arg), void *arg)
{
	for (size_t i = 0; i < n; i++) {
		if (pfd[i].revents == 0)
			continue;
		if (pfd[i].fd == ctl->listen_fd) {
			int fd;

			while ((fd = accept4(ctl->listen_fd, NULL, NULL,
			            SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
				struct wanem_ctl_client *slot = NULL;

				for (int k = 0; k < WANEM_CTL_CLIENTS && slot == NULL; k++)
					if (ctl->clients[k].fd < 0)
						slot = &ctl->clients[k];
				if (slot == NULL) {
					struct wanem_ctl_client busy = {.fd = fd};

					wanem_ctl_reply(&busy,
					    "error: too many control connections");
					continue;
				}
				slot->fd = fd;
				slot->len = 0;
			}
			continue;
		}
		for (int k = 0; k < WANEM_CTL_CLIENTS; k++)
			if (ctl->clients[k].fd == pfd[i].fd)
				wanem_ctl_client_read(&ctl->clients[k], handle, arg);
	}
}

static int
wanem_ctl_wait(int fd, short events, const struct timespec *end)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	struct timespec now;
	long ms;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (end->tv_sec - now.tv_sec) * 1000 + (end->tv_nsec - now.tv_nsec) / 1000000;
	if (ms <= 0)
		return -ETIMEDOUT;
	rc = poll(&pfd, 1, (int)ms);
	if (rc < 0)
		return -errno;
	return rc == 0 ? -ETIMEDOUT : 0;
}

int
wanem_ctl_request(const char *path, const char *line, char *reply, size_t size, int timeout_ms)
{
	struct sockaddr_un sun;
	struct timespec end;
	size_t len = strlen(line), off = 0;
	int fd = -1, rc;

	if (size == 0)
		return -EINVAL;
	reply[0] = '\0';
	rc = wanem_ctl_addr(path, &sun);
	if (rc < 0)
		return rc;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += timeout_ms / 1000;
	end.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (end.tv_nsec >= 1000000000) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		rc = -errno;
		goto out;
	}
	if (send(fd, line, len, MSG_NOSIGNAL) != (ssize_t)len ||
	    send(fd, "\n", 1, MSG_NOSIGNAL) != 1) {
		rc = -EIO;
		goto out;
	}
	for (;;) {
		ssize_t got;

		rc = wanem_ctl_wait(fd, POLLIN, &end);
		if (rc < 0)
			goto out;
		got = recv(fd, reply + off, size - 1 - off, 0);
		if (got < 0) {
			rc = -errno;
			goto out;
		}
		if (got == 0 || off + (size_t)got == size - 1) {
			off += (size_t)got;
			break;
		}
		off += (size_t)got;
	}
	reply[off] = '\0';
	if (off > 0 && reply[off - 1] == '\n')
		reply[off - 1] = '\0';
	rc = 0;
out:
	close(fd);
	return rc;
}
