/* Payload protection state of sessions; see svr_protect.h for the contract. */
#include "svr/svr_protect.h"

#include "crypto/crypto_detect.h"

const char *
svr_protection_reason_name(uint8_t reason)
{
	switch (reason) {
	case SVR_PROT_REASON_AUTO:
		return "auto";
	case SVR_PROT_REASON_FORCED_ON:
		return "forced-on";
	case SVR_PROT_REASON_FORCED_OFF:
		return "forced-off";
	default:
		if (reason < CRYPTO_DETECT_COUNT)
			return crypto_detect_kind_name((enum crypto_detect_kind)reason);
		return "unknown";
	}
}

void
svr_session_protection(const struct session *s, struct svr_protection *out)
{
	uint32_t f = s->flags;
	struct svr_protection_dir *tx = &out->dir[SESSION_DIR_LAN_TO_WAN];
	struct svr_protection_dir *rx = &out->dir[SESSION_DIR_WAN_TO_LAN];

	tx->decided = (f & SVR_PROT_TX_DECIDED) != 0;
	tx->encrypted = (f & SVR_PROT_TX_ENCRYPTED) != 0;
	tx->acked = (f & SVR_PROT_TX_ACKED) != 0;
	tx->reason = (uint8_t)((f >> SVR_PROT_TX_REASON_SHIFT) & SVR_PROT_REASON_MASK);
	tx->reason_name = tx->decided ? svr_protection_reason_name(tx->reason) : "-";
	rx->decided = (f & SVR_PROT_RX_KNOWN) != 0;
	rx->encrypted = (f & SVR_PROT_RX_ENCRYPTED) != 0;
	rx->acked = rx->decided && !(f & SVR_PROT_RX_ACK_DUE);
	rx->reason = (uint8_t)((f >> SVR_PROT_RX_REASON_SHIFT) & SVR_PROT_REASON_MASK);
	rx->reason_name = rx->decided ? svr_protection_reason_name(rx->reason) : "-";
}

uint8_t
svr_protect_decide(uint8_t mode, uint8_t proto, uint16_t sport, uint16_t dport,
    const uint8_t *payload, size_t len, bool *encrypt)
{
	enum crypto_detect_kind kind;

	if (mode == SVR_ENCRYPT_ON) {
		*encrypt = true;
		return SVR_PROT_REASON_FORCED_ON;
	}
	if (mode == SVR_ENCRYPT_OFF) {
		*encrypt = false;
		return SVR_PROT_REASON_FORCED_OFF;
	}
	kind = crypto_detect_payload(proto, sport, dport, payload, len);
	*encrypt = kind == CRYPTO_DETECT_NONE;
	return (uint8_t)kind;
}
