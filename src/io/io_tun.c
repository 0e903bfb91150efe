/* The TUN I/O backend; see io_tun.h. */
#include "io/io_tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"

struct io_tun {
	struct io_port port; /* first, so an io_port pointer is its io_tun */
	int fd;
	struct pkt_pool *pool;
	struct pkt_drop_counters *drops; /* optional */
	struct io_tun_stats stats;
	char name[IFNAMSIZ];
	uint8_t overflow; /* one byte past the buffer: a read that fills it was too big */
};

static unsigned
io_tun_rx_burst(struct io_port *port, struct pkt_buf **bufs, unsigned n)
{
	struct io_tun *tun = (struct io_tun *)port;
	uint64_t now_ns = 0;
	unsigned k = 0;

	while (k < n) {
		struct pkt_buf *p = pkt_pool_get(tun->pool);
		struct iovec iov[2];
		ssize_t got;

		if (p == NULL) {
			/* Not a drop: the packet waits in the device queue for the next burst. */
			tun->stats.rx_pool_empty++;
			break;
		}
		/*
		 * The kernel truncates a packet larger than what it is given and returns what
		 * it copied: the extra byte tells a packet of exactly the buffer's size from
		 * a larger one.
		 */
		iov[0].iov_base = pkt_buf_data(p);
		iov[0].iov_len = PKT_BUF_DATA_MAX;
		iov[1].iov_base = &tun->overflow;
		iov[1].iov_len = 1;
		got = readv(tun->fd, iov, 2);
		if (got <= 0) {
			pkt_pool_put(tun->pool, p);
			/* EAGAIN ends the burst; other errors too, so a broken device cannot spin.
			 */
			if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
				tun->stats.rx_errors++;
			break;
		}
		if ((size_t)got > PKT_BUF_DATA_MAX)
			goto drop_too_big;
		if (now_ns == 0)
			now_ns = clock_now_ns();
		p->len = (uint16_t)got;
		p->port = port->id;
		p->rx_ns = now_ns;
		port->stats.rx_bytes += (uint64_t)got;
		bufs[k++] = p;
		continue;
drop_too_big:
		tun->stats.rx_too_big++;
		if (tun->drops != NULL)
			pkt_drop_count(tun->drops, PKT_DROP_PKT_TOO_BIG);
		pkt_pool_put(tun->pool, p);
	}
	port->stats.rx_packets += k;
	return k;
}

static unsigned
io_tun_tx_burst(struct io_port *port, struct pkt_buf **bufs, unsigned n)
{
	struct io_tun *tun = (struct io_tun *)port;
	unsigned k = 0;

	for (; k < n; k++) {
		struct pkt_buf *p = bufs[k];
		ssize_t put = write(tun->fd, pkt_buf_data(p), p->len);

		if (put < 0 &&
		    (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS || errno == EINTR))
			break;
		if (put == (ssize_t)p->len) {
			port->stats.tx_packets++;
			port->stats.tx_bytes += p->len;
		} else {
			/*
			 * The kernel refused this packet (malformed, device gone): retrying it
			 * would fail again, so it is taken and counted, and the burst goes on.
			 */
			tun->stats.tx_errors++;
		}
		pkt_pool_put(tun->pool, p);
	}
	port->stats.tx_full += n - k;
	return k;
}

static const struct io_ops io_tun_ops = {
    .name = "tun",
    .rx_burst = io_tun_rx_burst,
    .tx_burst = io_tun_tx_burst,
};

int
io_tun_open(const char *name, struct pkt_pool *pool, uint32_t id, struct io_tun **out)
{
	struct io_tun *tun = NULL;
	struct ifreq ifr;
	size_t name_len;
	int flags;
	int err;

	if (name == NULL || pool == NULL || out == NULL)
		return -EINVAL;
	name_len = strnlen(name, IFNAMSIZ);
	if (name_len == 0 || name_len >= IFNAMSIZ)
		return -EINVAL;
	tun = calloc(1, sizeof(*tun));
	if (tun == NULL)
		return -ENOMEM;
	tun->fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (tun->fd < 0) {
		err = -errno;
		goto fail;
	}
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, name_len);
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	if (ioctl(tun->fd, TUNSETIFF, &ifr) < 0) {
		err = -errno;
		goto fail;
	}
	flags = fcntl(tun->fd, F_GETFL);
	if (flags < 0 || fcntl(tun->fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		err = -errno;
		goto fail;
	}
	memcpy(tun->name, ifr.ifr_name, IFNAMSIZ);
	tun->name[IFNAMSIZ - 1] = '\0';
	tun->pool = pool;
	tun->port.ops = &io_tun_ops;
	tun->port.id = id;
	*out = tun;
	return 0;
fail:
	io_tun_close(tun);
	return err;
}

void
io_tun_close(struct io_tun *tun)
{
	if (tun == NULL)
		return;
	if (tun->fd >= 0)
		close(tun->fd);
	free(tun);
}

struct io_port *
io_tun_port(struct io_tun *tun)
{
	return &tun->port;
}

int
io_tun_fd(const struct io_tun *tun)
{
	return tun->fd;
}

const char *
io_tun_name(const struct io_tun *tun)
{
	return tun->name;
}

const struct io_tun_stats *
io_tun_stats(const struct io_tun *tun)
{
	return &tun->stats;
}

void
io_tun_set_drop_counters(struct io_tun *tun, struct pkt_drop_counters *drops)
{
	tun->drops = drops;
}
