/* The WAN backend over AF_PACKET (receive) and a raw IP socket (send); see io_afpacket.h. */
#include "io/io_afpacket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pkt/pkt_csum.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

struct io_afpacket {
	struct io_port port; /* first, so an io_port pointer is the backend */
	struct pkt_pool *pool;
	int rx_fd;
	int tx_fd;
	uint8_t family;
	struct io_afpacket_stats stats;
	/* Per-burst scratch, preallocated so the data path never allocates. */
	struct mmsghdr rx_msgs[IO_AFPACKET_BURST_MAX];
	struct iovec rx_iov[IO_AFPACKET_BURST_MAX];
	union {
		struct cmsghdr align;
		uint8_t bytes[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	} rx_cmsg[IO_AFPACKET_BURST_MAX];
	struct pkt_buf *rx_bufs[IO_AFPACKET_BURST_MAX];
	struct mmsghdr tx_msgs[IO_AFPACKET_BURST_MAX];
	struct iovec tx_iov[IO_AFPACKET_BURST_MAX];
	struct sockaddr_in6 tx_addr[IO_AFPACKET_BURST_MAX]; /* large enough for both */
};

/*
 * A small classic-BPF assembler: jump targets are labels resolved once the program is
 * complete, so the filter reads top to bottom without hand-counted offsets.
 */
enum io_afpacket_label {
	L_NEXT = 0, /* fall through */
	L_ACCEPT,
	L_DROP,
	L_L4,
	L_PORT_LAST,
	L_PROBE,
	L_COUNT,
};

#define IO_AFPACKET_BPF_MAX 48

struct io_afpacket_bpf {
	struct sock_filter insn[IO_AFPACKET_BPF_MAX];
	uint8_t jt[IO_AFPACKET_BPF_MAX];
	uint8_t jf[IO_AFPACKET_BPF_MAX];
	int label_at[L_COUNT];
	unsigned n;
};

static void
bpf_emit(struct io_afpacket_bpf *b, uint16_t code, uint32_t k, uint8_t jt, uint8_t jf)
{
	/* The programs below are fixed in size and far under the bound. */
	b->insn[b->n] = (struct sock_filter){code, 0, 0, k};
	b->jt[b->n] = jt;
	b->jf[b->n] = jf;
	b->n++;
}

static void
bpf_label(struct io_afpacket_bpf *b, enum io_afpacket_label l)
{
	b->label_at[l] = (int)b->n;
}

static int
bpf_resolve(struct io_afpacket_bpf *b)
{
	for (unsigned i = 0; i < b->n; i++) {
		uint8_t labels[2] = {b->jt[i], b->jf[i]};
		uint8_t *out[2] = {&b->insn[i].jt, &b->insn[i].jf};

		for (unsigned j = 0; j < 2; j++) {
			int off;

			if (labels[j] == L_NEXT)
				continue;
			off = b->label_at[labels[j]] - (int)i - 1;
			if (b->label_at[labels[j]] < 0 || off < 0 || off > 255)
				return -EINVAL;
			*out[j] = (uint8_t)off;
		}
	}
	return 0;
}

/* Emits the checks on the 16-bit destination port already in A; proto_off is where the
 * IP protocol / next header byte is, for the probe port check (UDP only). */
static void
bpf_emit_ports(struct io_afpacket_bpf *b, const struct io_afpacket_config *c, uint32_t proto_off)
{
	bpf_emit(b, BPF_JMP | BPF_JGE | BPF_K, c->port_first, L_PORT_LAST, L_PROBE);
	bpf_label(b, L_PORT_LAST);
	bpf_emit(b, BPF_JMP | BPF_JGT | BPF_K, c->port_last, L_PROBE, L_ACCEPT);
	bpf_label(b, L_PROBE);
	if (c->probe_port) {
		bpf_emit(b, BPF_JMP | BPF_JEQ | BPF_K, IO_AFPACKET_PROBE_PORT, L_NEXT, L_DROP);
		bpf_emit(b, BPF_LD | BPF_B | BPF_ABS, proto_off, 0, 0);
		bpf_emit(b, BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, L_ACCEPT, L_DROP);
	} else if (c->relay_port) {
		/* Only the relay type: probes and the key exchange are the kernel socket's. */
		bpf_emit(b, BPF_JMP | BPF_JEQ | BPF_K, IO_AFPACKET_PROBE_PORT, L_NEXT, L_DROP);
		bpf_emit(b, BPF_LD | BPF_B | BPF_ABS, proto_off, 0, 0);
		bpf_emit(b, BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, L_NEXT, L_DROP);
		/* The first UDP payload byte: X is the IPv4 header length; IPv6 has 40 bytes. */
		if (c->waypoint.family == ADDR_FAMILY_V4)
			bpf_emit(b, BPF_LD | BPF_B | BPF_IND, 8, 0, 0);
		else
			bpf_emit(b, BPF_LD | BPF_B | BPF_ABS, 40 + 8, 0, 0);
		bpf_emit(b, BPF_JMP | BPF_JEQ | BPF_K, IO_AFPACKET_RELAY_TYPE, L_ACCEPT, L_DROP);
	}
	/* Without the probe port, L_PROBE is L_DROP: the next instruction. */
	bpf_label(b, L_DROP);
	bpf_emit(b, BPF_RET | BPF_K, 0, 0, 0);
	bpf_label(b, L_ACCEPT);
	bpf_emit(b, BPF_RET | BPF_K, 0xffffffffu, 0, 0);
}

static uint32_t
be32_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Offsets are from the IP header: a SOCK_DGRAM packet socket's filter sees no link header. */
static int
io_afpacket_bpf_build(struct io_afpacket_bpf *b, const struct io_afpacket_config *c)
{
	memset(b, 0, sizeof(*b));
	for (unsigned i = 0; i < L_COUNT; i++)
		b->label_at[i] = -1;

	if (c->waypoint.family == ADDR_FAMILY_V4) {
		bpf_emit(b, BPF_LD | BPF_B | BPF_ABS, 0, 0, 0);
		bpf_emit(b, BPF_ALU | BPF_AND | BPF_K, 0xf0, 0, 0);
		bpf_emit(b, BPF_JMP | BPF_JEQ | BPF_K, 0x40, L_NEXT, L_DROP);
		bpf_emit(b, BPF_LD | BPF_W | BPF_ABS, 16, 0, 0);
		bpf_emit(b, BPF_JMP | BPF_JEQ | BPF_K, be32_at(c->waypoint.bytes), L_NEXT, L_DROP);
		bpf_emit(b, BPF_LD | BPF_B | BPF_ABS, 9, 0, 0);
		bpf_emit(b, BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, L_L4, L_NEXT);
		bpf_emit(b, BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, L_L4, L_DROP);
		bpf_label(b, L_L4);
		/* A fragment other than the first has no ports: accept it for reassembly. */
		bpf_emit(b, BPF_LD | BPF_H | BPF_ABS, 6, 0, 0);
		bpf_emit(b, BPF_JMP | BPF_JSET | BPF_K, 0x1fff, L_ACCEPT, L_NEXT);
		bpf_emit(b, BPF_LDX | BPF_B | BPF_MSH, 0, 0, 0); /* X = 4 * IHL */
		bpf_emit(b, BPF_LD | BPF_H | BPF_IND, 2, 0, 0);
		bpf_emit_ports(b, c, 9);
	} else if (c->waypoint.family == ADDR_FAMILY_V6) {
		bpf_emit(b, BPF_LD | BPF_B | BPF_ABS, 0, 0, 0);
		bpf_emit(b, BPF_ALU | BPF_AND | BPF_K, 0xf0, 0, 0);
		bpf_emit(b, BPF_JMP | BPF_JEQ | BPF_K, 0x60, L_NEXT, L_DROP);
		for (unsigned i = 0; i < 4; i++) {
			bpf_emit(b, BPF_LD | BPF_W | BPF_ABS, 24 + 4 * i, 0, 0);
			bpf_emit(b, BPF_JMP | BPF_JEQ | BPF_K, be32_at(c->waypoint.bytes + 4 * i),
			    L_NEXT, L_DROP);
		}
		bpf_emit(b, BPF_LD | BPF_B | BPF_ABS, 6, 0, 0);
		bpf_emit(b, BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_FRAGMENT, L_ACCEPT, L_NEXT);
		bpf_emit(b, BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, L_L4, L_NEXT);
		bpf_emit(b, BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, L_L4, L_DROP);
		bpf_label(b, L_L4);
		bpf_emit(b, BPF_LD | BPF_H | BPF_ABS, 40 + 2, 0, 0);
		bpf_emit_ports(b, c, 6);
	} else {
		return -EINVAL;
	}
	return bpf_resolve(b);
}

static int
io_afpacket_setsockopt_int(int fd, int level, int name, int value)
{
	return setsockopt(fd, level, name, &value, sizeof(value)) < 0 ? -errno : 0;
}

/* FORCE ignores rmem_max/wmem_max (needs CAP_NET_ADMIN); fall back to the capped one. */
static int
io_afpacket_set_buf(int fd, int force_name, int name, int bytes)
{
	if (bytes <= 0)
		return 0;
	if (io_afpacket_setsockopt_int(fd, SOL_SOCKET, force_name, bytes) == 0)
		return 0;
	return io_afpacket_setsockopt_int(fd, SOL_SOCKET, name, bytes);
}

static int
io_afpacket_rx_open(struct io_afpacket *a, const struct io_afpacket_config *c, int ifindex)
{
	struct io_afpacket_bpf bpf;
	struct sock_fprog prog;
	struct sockaddr_ll sll;
	uint16_t ethertype = c->waypoint.family == ADDR_FAMILY_V4 ? ETH_P_IP : ETH_P_IPV6;
	int err;

	err = io_afpacket_bpf_build(&bpf, c);
	if (err < 0)
		return err;
	/* Protocol 0: nothing is queued until bind, which comes after the filter. */
	a->rx_fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (a->rx_fd < 0)
		return -errno;
	prog.len = (unsigned short)bpf.n;
	prog.filter = bpf.insn;
	if (setsockopt(a->rx_fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0)
		return -errno;
	err = io_afpacket_setsockopt_int(a->rx_fd, SOL_PACKET, PACKET_AUXDATA, 1);
	if (err < 0)
		return err;
	/* Only incoming packets are bound here, but say it in case of an ETH_P_ALL change. */
	(void)io_afpacket_setsockopt_int(a->rx_fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1);
	err = io_afpacket_set_buf(a->rx_fd, SO_RCVBUFFORCE, SO_RCVBUF, c->rcvbuf_bytes);
	if (err < 0)
		return err;
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ethertype);
	sll.sll_ifindex = ifindex;
	if (bind(a->rx_fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return -errno;
	return 0;
}

static int
io_afpacket_tx_open(struct io_afpacket *a, const struct io_afpacket_config *c)
{
	int domain = c->waypoint.family == ADDR_FAMILY_V4 ? AF_INET : AF_INET6;
	int err;

	a->tx_fd = socket(domain, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_RAW);
	if (a->tx_fd < 0)
		return -errno;
	if (setsockopt(a->tx_fd, SOL_SOCKET, SO_BINDTODEVICE, c->ifname, strlen(c->ifname)) < 0)
		return -errno;
	/* A raw socket also receives; IPPROTO_RAW never matches a packet, but be explicit. */
	(void)shutdown(a->tx_fd, SHUT_RD);
	err = io_afpacket_set_buf(a->tx_fd, SO_SNDBUFFORCE, SO_SNDBUF, c->sndbuf_bytes);
	return err;
}

/*
 * Finishes an L4 checksum the sender left to the device (CHECKSUM_PARTIAL: the field
 * holds the pseudo-header sum, the kernel says TP_STATUS_CSUMNOTREADY). Only unfragmented
 * UDP and TCP right after the IP header come here (the filter's job; a sender that
 * fragments has already summed in software). Returns false on a packet too short for it.
 */
static bool
io_afpacket_csum_finish(uint8_t *data, size_t len)
{
	size_t l4, field;
	uint8_t proto;
	uint16_t csum;

	if (len < 1)
		return false;
	if ((data[0] >> 4) == 4) {
		if (len < 20)
			return false;
		l4 = (size_t)(data[0] & 0x0f) * 4;
		proto = data[9];
	} else {
		l4 = 40;
		if (len < l4)
			return false;
		proto = data[6];
	}
	if (proto == IPPROTO_UDP)
		field = l4 + 6;
	else if (proto == IPPROTO_TCP)
		field = l4 + 16;
	else
		return true; /* not ours to finish; the parser decides */
	if (field + 2 > len)
		return false;
	csum = (uint16_t)~pkt_csum_fold(pkt_csum_partial(data + l4, len - l4, 0));
	/* UDP sends a computed 0 as 0xffff (0 means "no checksum"). */
	if (csum == 0 && proto == IPPROTO_UDP)
		csum = 0xffff;
	/* The pkt_csum sums are values, not wire bytes: store big-endian. */
	data[field] = (uint8_t)(csum >> 8);
	data[field + 1] = (uint8_t)csum;
	return true;
}

static bool
io_afpacket_csum_not_ready(struct msghdr *h)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c)) {
		struct tpacket_auxdata aux;

		if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA ||
		    c->cmsg_len < CMSG_LEN(sizeof(aux)))
			continue;
		memcpy(&aux, CMSG_DATA(c), sizeof(aux));
		return (aux.tp_status & TP_STATUS_CSUMNOTREADY) != 0;
	}
	return false;
}

static unsigned
io_afpacket_rx_some(struct io_afpacket *a, struct pkt_buf **bufs, unsigned n, uint64_t now_ns)
{
	unsigned got, k = 0;
	int r;

	got = pkt_pool_get_burst(a->pool, a->rx_bufs, n);
	if (got < n)
		a->stats.rx_no_buffers++;
	if (got == 0)
		return 0;
	for (unsigned i = 0; i < got; i++) {
		struct pkt_buf *p = a->rx_bufs[i];

		a->rx_iov[i].iov_base = p->buf + p->head;
		a->rx_iov[i].iov_len = PKT_BUF_DATA_MAX;
		a->rx_msgs[i].msg_hdr.msg_control = &a->rx_cmsg[i];
		a->rx_msgs[i].msg_hdr.msg_controllen = sizeof(a->rx_cmsg[i]);
		a->rx_msgs[i].msg_hdr.msg_flags = 0;
	}
	r = recvmmsg(a->rx_fd, a->rx_msgs, got, MSG_DONTWAIT, NULL);
	if (r < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			a->stats.rx_errors++;
		r = 0;
	}
	for (unsigned i = 0; i < (unsigned)r; i++) {
		struct pkt_buf *p = a->rx_bufs[i];
		struct msghdr *h = &a->rx_msgs[i].msg_hdr;
		size_t len = a->rx_msgs[i].msg_len;

		if ((h->msg_flags & MSG_TRUNC) || len > PKT_BUF_DATA_MAX) {
			a->stats.rx_truncated++;
			goto drop;
		}
		if (io_afpacket_csum_not_ready(h) &&
		    !io_afpacket_csum_finish(p->buf + p->head, len)) {
			a->stats.rx_bad_csum++;
			goto drop;
		}
		p->len = (uint16_t)len;
		p->port = a->port.id;
		p->rx_ns = now_ns;
		a->port.stats.rx_bytes += len;
		bufs[k++] = p;
		continue;
drop:
		pkt_pool_put(a->pool, p);
	}
	if ((unsigned)r < got)
		pkt_pool_put_burst(a->pool, a->rx_bufs + r, got - (unsigned)r);
	return k;
}

static unsigned
io_afpacket_rx_burst(struct io_port *port, struct pkt_buf **bufs, unsigned n)
{
	struct io_afpacket *a = (struct io_afpacket *)port;
	struct timespec ts;
	uint64_t now_ns;
	unsigned total = 0;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	while (total < n) {
		unsigned want =
		    n - total < IO_AFPACKET_BURST_MAX ? n - total : IO_AFPACKET_BURST_MAX;
		unsigned got = io_afpacket_rx_some(a, bufs + total, want, now_ns);

		total += got;
		/* A short batch means the socket is empty (or the pool is): stop. */
		if (got < want)
			break;
	}
	port->stats.rx_packets += total;
	return total;
}

/* Fills the routing destination from the packet's header; false if it cannot be sent. */
static bool
io_afpacket_tx_addr(const struct io_afpacket *a, const struct pkt_buf *p, struct sockaddr_in6 *sa,
    socklen_t *sa_len)
{
	const uint8_t *d = p->buf + p->head;

	memset(sa, 0, sizeof(*sa));
	if (a->family == ADDR_FAMILY_V4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)sa;

		if (p->len < 20 || (d[0] >> 4) != 4)
			return false;
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, d + 16, 4);
		*sa_len = sizeof(*sin);
	} else {
		if (p->len < 40 || (d[0] >> 4) != 6)
			return false;
		sa->sin6_family = AF_INET6;
		memcpy(&sa->sin6_addr, d + 24, 16);
		*sa_len = sizeof(*sa);
	}
	return true;
}

static unsigned
io_afpacket_tx_burst(struct io_port *port, struct pkt_buf **bufs, unsigned n)
{
	struct io_afpacket *a = (struct io_afpacket *)port;
	unsigned done = 0;

	while (done < n) {
		unsigned want = n - done < IO_AFPACKET_BURST_MAX ? n - done : IO_AFPACKET_BURST_MAX;
		int r;

		for (unsigned i = 0; i < want; i++) {
			struct pkt_buf *p = bufs[done + i];
			struct msghdr *h = &a->tx_msgs[i].msg_hdr;

			if (!io_afpacket_tx_addr(a, p, &a->tx_addr[i], &h->msg_namelen)) {
				/* Cut the batch before it; it is handled when it comes first. */
				want = i;
				break;
			}
			a->tx_iov[i].iov_base = p->buf + p->head;
			a->tx_iov[i].iov_len = p->len;
		}
		if (want == 0) {
			/* bufs[done] is unsendable: count it and give it back. */
			a->stats.tx_bad++;
			pkt_pool_put(a->pool, bufs[done]);
			done++;
			continue;
		}
		r = sendmmsg(a->tx_fd, a->tx_msgs, want, MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS ||
			    errno == EINTR)
				break;
			/* The first packet was refused for itself (route, size): drop it. */
			a->stats.tx_errors++;
			pkt_pool_put(a->pool, bufs[done]);
			done++;
			continue;
		}
		for (unsigned i = 0; i < (unsigned)r; i++) {
			port->stats.tx_bytes += bufs[done + i]->len;
			port->stats.tx_packets++;
		}
		pkt_pool_put_burst(a->pool, bufs + done, (unsigned)r);
		done += (unsigned)r;
		/* Short without an error means the next one would fail: the loop sees it. */
	}
	port->stats.tx_full += n - done;
	return done;
}

static const struct io_ops io_afpacket_ops = {
    .name = "afpacket",
    .rx_burst = io_afpacket_rx_burst,
    .tx_burst = io_afpacket_tx_burst,
};

int
io_afpacket_open(const struct io_afpacket_config *config, struct pkt_pool *pool,
    struct io_afpacket **out)
{
	struct io_afpacket_config c = *config;
	struct io_afpacket *a = NULL;
	unsigned ifindex;
	int err;

	*out = NULL;
	if (c.port_first == 0 && c.port_last == 0) {
		c.port_first = IO_AFPACKET_PORT_FIRST;
		c.port_last = IO_AFPACKET_PORT_LAST;
	}
	if (pool == NULL || c.port_first == 0 || c.port_first > c.port_last ||
	    memchr(c.ifname, 0, sizeof(c.ifname)) == NULL || c.ifname[0] == 0 ||
	    (c.waypoint.family != ADDR_FAMILY_V4 && c.waypoint.family != ADDR_FAMILY_V6))
		return -EINVAL;
	ifindex = if_nametoindex(c.ifname);
	if (ifindex == 0)
		return -ENODEV;
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return -ENOMEM;
	a->rx_fd = -1;
	a->tx_fd = -1;
	a->pool = pool;
	a->family = c.waypoint.family;
	a->port.ops = &io_afpacket_ops;
	a->port.id = c.port_id;
	for (unsigned i = 0; i < IO_AFPACKET_BURST_MAX; i++) {
		a->rx_msgs[i].msg_hdr.msg_iov = &a->rx_iov[i];
		a->rx_msgs[i].msg_hdr.msg_iovlen = 1;
		a->tx_msgs[i].msg_hdr.msg_iov = &a->tx_iov[i];
		a->tx_msgs[i].msg_hdr.msg_iovlen = 1;
		a->tx_msgs[i].msg_hdr.msg_name = &a->tx_addr[i];
	}
	err = io_afpacket_rx_open(a, &c, (int)ifindex);
	if (err < 0)
		goto fail;
	err = io_afpacket_tx_open(a, &c);
	if (err < 0)
		goto fail;
	*out = a;
	return 0;
fail:
	io_afpacket_close(a);
	return err;
}

void
io_afpacket_close(struct io_afpacket *a)
{
	if (a == NULL)
		return;
	if (a->rx_fd >= 0)
		close(a->rx_fd);
	if (a->tx_fd >= 0)
		close(a->tx_fd);
	free(a);
}

struct io_port *
io_afpacket_port(struct io_afpacket *a)
{
	return &a->port;
}

int
io_afpacket_rx_fd(const struct io_afpacket *a)
{
	return a->rx_fd;
}

int
io_afpacket_tx_fd(const struct io_afpacket *a)
{
	return a->tx_fd;
}

void
io_afpacket_stats_read(struct io_afpacket *a, struct io_afpacket_stats *out)
{
	struct tpacket_stats st;
	socklen_t len = sizeof(st);

	if (getsockopt(a->rx_fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
		a->stats.rx_kernel_drops += st.tp_drops;
	*out = a->stats;
}
