/* Frame I/O of ternlab-wanem: see wanem_io.h. */
#include "wanem_io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"

#define WANEM_VNET_HDR_LEN sizeof(struct virtio_net_hdr)
/* Socket buffers large enough to ride out a scheduling delay at 1 Gbit/s. */
#define WANEM_SOCK_BUF_BYTES (16 * 1024 * 1024)

int
wanem_pool_init(struct wanem_pool *pool, uint32_t count)
{
	memset(pool, 0, sizeof(*pool));
	if (count == 0)
		return -EINVAL;
	/* mmap so untouched buffers cost no memory until a deep queue needs them. */
	pool->mem = mmap(NULL, (size_t)count * WANEM_IO_BUF_SIZE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pool->mem == MAP_FAILED) {
		pool->mem = NULL;
		return -ENOMEM;
	}
	pool->free_list = calloc(count, sizeof(pool->free_list[0]));
	if (pool->free_list == NULL) {
		wanem_pool_fini(pool);
		return -ENOMEM;
	}
	pool->count = count;
	/* Lowest indices on top, so a light load keeps touching the same few pages. */
	for (uint32_t i = 0; i < count; i++)
		pool->free_list[i] = count - 1 - i;
	pool->nfree = count;
	return 0;
}

void
wanem_pool_fini(struct wanem_pool *pool)
{
	if (pool->mem != NULL)
		munmap(pool->mem, (size_t)pool->count * WANEM_IO_BUF_SIZE);
	free(pool->free_list);
	memset(pool, 0, sizeof(*pool));
}

void
wanem_pool_put(struct wanem_pool *pool, uint32_t index)
{
	pool->free_list[pool->nfree++] = index;
}

static uint8_t *
wanem_pool_buf(struct wanem_pool *pool, uint32_t index)
{
	return pool->mem + (size_t)index * WANEM_IO_BUF_SIZE;
}

const uint8_t *
wanem_pool_frame(const struct wanem_pool *pool, uint32_t index)
{
	return pool->mem + (size_t)index * WANEM_IO_BUF_SIZE + WANEM_VNET_HDR_LEN;
}

int
wanem_port_open(struct wanem_port *port, const char *ifname)
{
	struct sockaddr_ll sll;
	struct packet_mreq mreq;
	int one = 1, buf = WANEM_SOCK_BUF_BYTES, rc;

	memset(port, 0, sizeof(*port));
	port->fd = -1;
	if (strlen(ifname) >= sizeof(port->name))
		return log_error_errno(-ENAMETOOLONG, "interface \"%s\": name too long", ifname);
	strcpy(port->name, ifname);
	port->ifindex = (int)if_nametoindex(ifname);
	if (port->ifindex == 0)
		return log_error_errno(-ENODEV, "interface %s: not found", ifname);
	port->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (port->fd < 0) {
		rc = log_error_errno(-errno, "interface %s: cannot open a packet socket", ifname);
		goto fail;
	}
	if (setsockopt(port->fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0) {
		rc = log_error_errno(-errno, "interface %s: cannot enable PACKET_VNET_HDR", ifname);
		goto fail;
	}
	if (setsockopt(port->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0) {
		rc = log_error_errno(-errno, "interface %s: cannot set PACKET_IGNORE_OUTGOING",
		    ifname);
		goto fail;
	}
	/* Best effort: the FORCE variants need CAP_NET_ADMIN, which a lab has. */
	if (setsockopt(port->fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
		(void)setsockopt(port->fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (setsockopt(port->fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) < 0)
		(void)setsockopt(port->fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	(void)setsockopt(port->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));

	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = port->ifindex;
	if (bind(port->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		rc = log_error_errno(-errno, "interface %s: cannot bind the packet socket", ifname);
		goto fail;
	}
	memset(&mreq, 0, sizeof(mreq));
	mreq.mr_ifindex = port->ifindex;
	mreq.mr_type = PACKET_MR_PROMISC;
	if (setsockopt(port->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mreq, sizeof(mreq)) < 0) {
		rc = log_error_errno(-errno, "interface %s: cannot set promiscuous mode", ifname);
		goto fail;
	}
	return 0;

fail:
	wanem_port_close(port);
	return rc;
}

void
wanem_port_close(struct wanem_port *port)
{
	if (port->fd >= 0)
		close(port->fd);
	port->fd = -1;
}

size_t
wanem_port_recv(struct wanem_port *port, struct wanem_pool *pool, uint32_t *refs, uint32_t *lens,
    size_t max)
{
	struct mmsghdr msgs[WANEM_IO_BATCH];
	struct iovec iov[WANEM_IO_BATCH];
	uint32_t idx[WANEM_IO_BATCH];
	size_t want = max, out = 0;
	int got;

	if (want > WANEM_IO_BATCH)
		want = WANEM_IO_BATCH;
	if (want > pool->nfree)
		want = pool->nfree;
	if (want == 0)
		return 0;
	memset(msgs, 0, sizeof(msgs[0]) * want);
	for (size_t i = 0; i < want; i++) {
		idx[i] = pool->free_list[--pool->nfree];
		iov[i].iov_base = wanem_pool_buf(pool, idx[i]);
		iov[i].iov_len = WANEM_IO_BUF_SIZE;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	got = recvmmsg(port->fd, msgs, (unsigned)want, MSG_DONTWAIT, NULL);
	if (got < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			port->rx_errors++;
		got = 0;
	}
	for (size_t i = 0; i < want; i++) {
		size_t n = msgs[i].msg_len;

		if ((int)i >= got || (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0 ||
		    n <= WANEM_VNET_HDR_LEN) {
			if ((int)i < got)
				port->rx_truncated++;
			wanem_pool_put(pool, idx[i]);
			continue;
		}
		refs[out] = idx[i];
		lens[out] = (uint32_t)(n - WANEM_VNET_HDR_LEN);
		out++;
	}
	return out;
}

size_t
wanem_port_send(struct wanem_port *port, struct wanem_pool *pool, const uint32_t *refs,
    const uint32_t *lens, size_t n)
{
	struct mmsghdr msgs[WANEM_IO_BATCH];
	struct iovec iov[WANEM_IO_BATCH];
	size_t done = 0, sent_total = 0;

	if (n > WANEM_IO_BATCH)
		n = WANEM_IO_BATCH;
	memset(msgs, 0, sizeof(msgs[0]) * n);
	for (size_t i = 0; i < n; i++) {
		uint8_t *b = wanem_pool_buf(pool, refs[i]);

		/* Only the checksum request travels on; "already valid" means nothing on send. */
		b[offsetof(struct virtio_net_hdr, flags)] &= VIRTIO_NET_HDR_F_NEEDS_CSUM;
		iov[i].iov_base = b;
		iov[i].iov_len = WANEM_VNET_HDR_LEN + lens[i];
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	while (done < n) {
		int sent = sendmmsg(port->fd, msgs + done, (unsigned)(n - done), MSG_DONTWAIT);

		if (sent < 0) {
			if (errno == EINTR)
				continue;
			/* A full buffer or a refused frame: drop it and try the rest. */
			port->tx_dropped++;
			done++;
			continue;
		}
		done += (size_t)sent;
		sent_total += (size_t)sent;
	}
	for (size_t i = 0; i < n; i++)
		wanem_pool_put(pool, refs[i]);
	return sent_total;
}
