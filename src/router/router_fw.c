/* The stateful firewall's decisions for packets without a session; see router_fw.h. */
#include "router/router_fw.h"

#include <netinet/in.h>

#define ROUTER_FW_NS 1000000000ull

void
router_fw_init(struct router_fw *fw, const struct router_config_firewall *cfg, uint64_t now_ns)
{
	fw->tcp_no_session = cfg->tcp_no_session;
	fw->half_open_max = cfg->half_open_max;
	fw->resets_per_s = cfg->resets_per_s != 0 ? cfg->resets_per_s : 1;
	fw->tokens_ns = ROUTER_FW_NS; /* a second's worth: resets_per_s tokens */
	fw->last_ns = now_ns;
}

/* One reset token, if the bucket (a second of the rate at most) holds one. */
static bool
router_fw_reset_take(struct router_fw *fw, uint64_t now_ns)
{
	uint64_t cost = ROUTER_FW_NS / fw->resets_per_s;

	if (now_ns > fw->last_ns) {
		fw->tokens_ns += now_ns - fw->last_ns;
		if (fw->tokens_ns > ROUTER_FW_NS)
			fw->tokens_ns = ROUTER_FW_NS;
		fw->last_ns = now_ns;
	}
	if (fw->tokens_ns < cost)
		return false;
	fw->tokens_ns -= cost;
	return true;
}

enum router_fw_verdict
router_fw_lan_new(struct router_fw *fw, const struct pkt_buf *p, uint32_t half_open,
    uint64_t now_ns, enum pkt_drop_reason *reason)
{
	const struct pkt_info *info = &p->info;

	if (info->l4_proto != IPPROTO_TCP || !(info->flags & PKT_INFO_HAS_L4))
		return ROUTER_FW_PASS;
	if (!router_fw_tcp_opens(info->tcp_flags)) {
		/* Never answer a reset with one (RFC 9293), nor beyond the rate. */
		if (fw->tcp_no_session == ROUTER_CONFIG_TCP_NO_SESSION_RESET &&
		    !(info->tcp_flags & 0x04) && router_fw_reset_take(fw, now_ns)) {
			*reason = PKT_DROP_FW_TCP_NO_SESSION_RESET;
			return ROUTER_FW_RESET;
		}
		*reason = PKT_DROP_FW_TCP_NO_SESSION;
		return ROUTER_FW_DROP;
	}
	if (router_fw_half_open_full(fw, half_open)) {
		*reason = PKT_DROP_FW_HALF_OPEN_LIMIT;
		return ROUTER_FW_DROP;
	}
	return ROUTER_FW_PASS;
}
