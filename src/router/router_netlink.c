/* rtnetlink configuration of links, addresses and routes; see router_netlink.h. */
#include "router/router_netlink.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/fib_rules.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

/*
 * Large enough for one link's RTM_NEWLINK answer without statistics (we ask for none)
 * and any error with its extended ack; a larger message is -ENOSPC, not truncation.
 */
#define ROUTER_NETLINK_BUF_SIZE 32768

struct router_netlink {
	struct mnl_socket *sock;
	unsigned portid;
	unsigned seq;
	char error_text[ROUTER_NETLINK_ERROR_TEXT_MAX];
	uint8_t buf[ROUTER_NETLINK_BUF_SIZE] __attribute__((aligned(8)));
};

/* One call's callbacks: the error callback needs the handle, a data callback its own data. */
struct router_netlink_ctx {
	struct router_netlink *nl;
	mnl_cb_t cb; /* may be NULL */
	void *data;
};

static int
router_netlink_on_ack_attr(const struct nlattr *attr, void *data)
{
	struct router_netlink *nl = data;

	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0) {
		/* A string the kernel ends with NUL; copy at most what fits. */
		size_t len = strnlen(mnl_attr_get_str(attr), mnl_attr_get_payload_len(attr));

		if (len >= sizeof(nl->error_text))
			len = sizeof(nl->error_text) - 1;
		memcpy(nl->error_text, mnl_attr_get_str(attr), len);
		nl->error_text[len] = '\0';
	}
	return MNL_CB_OK;
}

/* NLMSG_ERROR: an acknowledgement (error 0) ends the call; anything else fails it. */
static int
router_netlink_on_error(const struct nlmsghdr *nlh, void *data)
{
	struct router_netlink *nl = ((struct router_netlink_ctx *)data)->nl;
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	size_t offset = sizeof(*err);

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*err))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (err->error == 0)
		return MNL_CB_STOP;
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		/* The echoed request sits before the attributes unless the kernel capped it. */
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED) &&
		    err->msg.nlmsg_len >= sizeof(struct nlmsghdr))
			offset += err->msg.nlmsg_len - sizeof(struct nlmsghdr);
		if (offset <= mnl_nlmsg_get_payload_len(nlh))
			mnl_attr_parse(nlh, (unsigned)offset, router_netlink_on_ack_attr, nl);
	}
	/* A kernel error is negative; anything else would be a malformed answer. */
	errno = err->error < 0 && err->error > -4096 ? -err->error : EPROTO;
	return MNL_CB_ERROR;
}

static int
router_netlink_on_data(const struct nlmsghdr *nlh, void *data)
{
	struct router_netlink_ctx *ctx = data;

	return ctx->cb != NULL ? ctx->cb(nlh, ctx->data) : MNL_CB_OK;
}

/*
 * Sends nlh (completing its flags and sequence number) and reads answers until the
 * kernel's acknowledgement; cb (may be NULL) sees each other answer. 0 or negative errno.
 */
static int
router_netlink_call(struct router_netlink *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = {[NLMSG_ERROR] = router_netlink_on_error};
	struct router_netlink_ctx ctx = {.nl = nl, .cb = cb, .data = data};
	unsigned seq = ++nl->seq;
	ssize_t got;
	int ret;

	nl->error_text[0] = '\0';
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	/* nlh lives in nl->buf, which the answers overwrite: nothing reads it after this. */
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		got = mnl_socket_recvfrom(nl->sock, nl->buf, sizeof(nl->buf));
		if (got < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		ret = mnl_cb_run2(nl->buf, (size_t)got, seq, nl->portid, router_netlink_on_data,
		    &ctx, ctl, NLMSG_MIN_TYPE);
	} while (ret > MNL_CB_STOP);
	return ret < 0 ? -errno : 0;
}

int
router_netlink_open(struct router_netlink **out)
{
	struct router_netlink *nl;
	struct timeval tv = {
	    .tv_sec = ROUTER_NETLINK_TIMEOUT_MS / 1000,
	    .tv_usec = (ROUTER_NETLINK_TIMEOUT_MS % 1000) * 1000,
	};
	int one = 1;
	int err;

	nl = calloc(1, sizeof(*nl));
	if (nl == NULL)
		return -ENOMEM;
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (nl->sock == NULL) {
		err = -errno;
		goto fail;
	}
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto fail;
	}
	/* Extended acks are a courtesy for the log: kernels without them still work. */
	(void)mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	if (setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		err = -errno;
		goto fail;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (unsigned)time(NULL);
	*out = nl;
	return 0;
fail:
	router_netlink_close(nl);
	return err;
}

void
router_netlink_close(struct router_netlink *nl)
{
	if (nl == NULL)
		return;
	if (nl->sock != NULL)
		mnl_socket_close(nl->sock);
	free(nl);
}

const char *
router_netlink_error_text(const struct router_netlink *nl)
{
	return nl->error_text;
}

static bool
router_netlink_name_valid(const char *ifname)
{
	size_t len;

	if (ifname == NULL)
		return false;
	len = strnlen(ifname, IFNAMSIZ);
	return len > 0 && len < IFNAMSIZ;
}

static int
router_netlink_on_link(const struct nlmsghdr *nlh, void *data)
{
	uint32_t *index = data;
	const struct ifinfomsg *ifi;

	if (nlh->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return MNL_CB_OK;
	ifi = mnl_nlmsg_get_payload(nlh);
	if (ifi->ifi_index > 0)
		*index = (uint32_t)ifi->ifi_index;
	return MNL_CB_OK;
}

int
router_netlink_link_index(struct router_netlink *nl, const char *ifname, uint32_t *index)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	uint32_t found = 0;
	int err;

	if (!router_netlink_name_valid(ifname) || index == NULL)
		return -EINVAL;
	nlh = mnl_nlmsg_put_header(nl->buf);
	nlh->nlmsg_type = RTM_GETLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	err = router_netlink_call(nl, nlh, router_netlink_on_link, &found);
	if (err == 0 && found == 0)
		err = -ENODEV;
	if (err == 0)
		*index = found;
	return err;
}

/* RTM_NEWLINK on an existing link with the change asked for (flags, attributes). */
static struct nlmsghdr *
router_netlink_link_msg(struct router_netlink *nl, uint32_t index)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_NEWLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)index;
	return nlh;
}

int
router_netlink_link_set_up(struct router_netlink *nl, const char *ifname, bool up)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	uint32_t index;
	int err;

	err = router_netlink_link_index(nl, ifname, &index);
	if (err < 0)
		return err;
	nlh = router_netlink_link_msg(nl, index);
	ifi = mnl_nlmsg_get_payload(nlh);
	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = up ? IFF_UP : 0;
	return router_netlink_call(nl, nlh, NULL, NULL);
}

int
router_netlink_link_set_mtu(struct router_netlink *nl, const char *ifname, uint32_t mtu)
{
	struct nlmsghdr *nlh;
	uint32_t index;
	int err;

	err = router_netlink_link_index(nl, ifname, &index);
	if (err < 0)
		return err;
	nlh = router_netlink_link_msg(nl, index);
	mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return router_netlink_call(nl, nlh, NULL, NULL);
}

/* AF_INET or AF_INET6 and the address length, or -EAFNOSUPPORT. */
static int
router_netlink_family(const struct addr *a, size_t *len)
{
	switch (a->family) {
	case ADDR_FAMILY_V4:
		*len = 4;
		return AF_INET;
	case ADDR_FAMILY_V6:
		*len = 16;
		return AF_INET6;
	default:
		return -EAFNOSUPPORT;
	}
}

static int
router_netlink_addr_change(struct router_netlink *nl, uint16_t type, uint16_t flags,
    const char *ifname, const struct addr *a, unsigned len)
{
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	uint32_t index;
	size_t alen;
	int family;
	int err;

	if (!router_netlink_name_valid(ifname) || a == NULL)
		return -EINVAL;
	family = router_netlink_family(a, &alen);
	if (family < 0)
		return family;
	if (len > addr_bits(a))
		return -EINVAL;
	err = router_netlink_link_index(nl, ifname, &index);
	if (err < 0)
		return err;
	nlh = mnl_nlmsg_put_header(nl->buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)family;
	ifa->ifa_prefixlen = (uint8_t)len;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = index;
	mnl_attr_put(nlh, IFA_LOCAL, alen, a->bytes);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, a->bytes);
	if (family == AF_INET && type == RTM_NEWADDR && len < 31) {
		uint32_t host = len == 0 ? 0xffffffffu : 0xffffffffu >> len;
		uint8_t brd[4];

		for (unsigned i = 0; i < 4; i++)
			brd[i] = a->bytes[i] | (uint8_t)(host >> (24 - 8 * i));
		mnl_attr_put(nlh, IFA_BROADCAST, sizeof(brd), brd);
	}
	return router_netlink_call(nl, nlh, NULL, NULL);
}

int
router_netlink_addr_add(struct router_netlink *nl, const char *ifname, const struct addr *a,
    unsigned len)
{
	return router_netlink_addr_change(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifname, a,
	    len);
}

int
router_netlink_addr_del(struct router_netlink *nl, const char *ifname, const struct addr *a,
    unsigned len)
{
	return router_netlink_addr_change(nl, RTM_DELADDR, 0, ifname, a, len);
}

static int
router_netlink_route_change(struct router_netlink *nl, uint16_t type, uint16_t flags,
    const struct prefix *dst, const char *ifname, const struct addr *gw, uint32_t table)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	uint32_t index;
	size_t alen;
	size_t gw_len;
	int family;
	int err;

	if (!router_netlink_name_valid(ifname) || dst == NULL)
		return -EINVAL;
	family = router_netlink_family(&dst->addr, &alen);
	if (family < 0)
		return family;
	if (dst->len > addr_bits(&dst->addr))
		return -EINVAL;
	if (gw != NULL && router_netlink_family(gw, &gw_len) != family)
		return -EINVAL;
	if (table == 0)
		table = RT_TABLE_MAIN;
	err = router_netlink_link_index(nl, ifname, &index);
	if (err < 0)
		return err;
	nlh = mnl_nlmsg_put_header(nl->buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_dst_len = dst->len;
	/* Table ids above 255 only fit the attribute; the header says "see attribute". */
	rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	if (type == RTM_NEWROUTE) {
		rtm->rtm_protocol = ROUTER_NETLINK_RTPROT;
		rtm->rtm_scope = gw == NULL ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
		rtm->rtm_type = RTN_UNICAST;
	} else {
		/* As `ip route del`: match a route of any scope. */
		rtm->rtm_scope = RT_SCOPE_NOWHERE;
	}
	if (dst->len > 0)
		mnl_attr_put(nlh, RTA_DST, alen, dst->addr.bytes);
	mnl_attr_put_u32(nlh, RTA_OIF, index);
	if (gw != NULL)
		mnl_attr_put(nlh, RTA_GATEWAY, alen, gw->bytes);
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	return router_netlink_call(nl, nlh, NULL, NULL);
}

int
router_netlink_route_add(struct router_netlink *nl, const struct prefix *dst, const char *ifname,
    const struct addr *gw, uint32_t table)
{
	return router_netlink_route_change(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, dst, ifname,
	    gw, table);
}

int
router_netlink_route_del(struct router_netlink *nl, const struct prefix *dst, const char *ifname,
    const struct addr *gw, uint32_t table)
{
	return router_netlink_route_change(nl, RTM_DELROUTE, 0, dst, ifname, gw, table);
}

int
router_netlink_rule_msg(void *buf, size_t len, uint16_t type, uint8_t family, const char *ifname,
    uint32_t table, uint32_t priority)
{
	struct nlmsghdr *nlh;
	struct fib_rule_hdr *frh;
	size_t need;

	if (!router_netlink_name_valid(ifname) || table == 0 ||
	    (type != RTM_NEWRULE && type != RTM_DELRULE))
		return -EINVAL;
	if (family != ADDR_FAMILY_V4 && family != ADDR_FAMILY_V6)
		return -EAFNOSUPPORT;
	need = MNL_ALIGN(sizeof(*nlh)) + MNL_ALIGN(sizeof(*frh)) + MNL_ATTR_HDRLEN +
	    MNL_ALIGN(strlen(ifname) + 1) + 2 * (MNL_ATTR_HDRLEN + MNL_ALIGN(sizeof(uint32_t)));
	if (buf == NULL || len < need)
		return -ENOSPC;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = type == RTM_NEWRULE ? NLM_F_CREATE | NLM_F_EXCL : 0;
	frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	frh->family = family == ADDR_FAMILY_V4 ? AF_INET : AF_INET6;
	frh->action = FR_ACT_TO_TBL;
	/* Table ids above 255 only fit the attribute, as for routes. */
	frh->table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	mnl_attr_put_strz(nlh, FRA_IIFNAME, ifname);
	mnl_attr_put_u32(nlh, FRA_TABLE, table);
	mnl_attr_put_u32(nlh, FRA_PRIORITY, priority);
	return (int)nlh->nlmsg_len;
}

static int
router_netlink_rule_change(struct router_netlink *nl, uint16_t type, uint8_t family,
    const char *ifname, uint32_t table, uint32_t priority)
{
	int rc = router_netlink_rule_msg(nl->buf, sizeof(nl->buf), type, family, ifname, table,
	    priority);

	if (rc < 0)
		return rc;
	/* nl->buf is 8-byte aligned (its declaration). */
	return router_netlink_call(nl, (struct nlmsghdr *)(void *)nl->buf, NULL, NULL);
}

int
router_netlink_rule_add(struct router_netlink *nl, uint8_t family, const char *ifname,
    uint32_t table, uint32_t priority)
{
	return router_netlink_rule_change(nl, RTM_NEWRULE, family, ifname, table, priority);
}

int
router_netlink_rule_del(struct router_netlink *nl, uint8_t family, const char *ifname,
    uint32_t table, uint32_t priority)
{
	return router_netlink_rule_change(nl, RTM_DELRULE, family, ifname, table, priority);
}
