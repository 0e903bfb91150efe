/* SVR control messages on top of the metadata codec; see svr_ctrl.h. */
#include "svr/svr_ctrl.h"

#include <errno.h>

bool
svr_control_is_valid(uint8_t control)
{
	switch ((enum svr_control)control) {
	case SVR_CONTROL_KEEPALIVE:
	case SVR_CONTROL_ENABLE_META:
	case SVR_CONTROL_DISABLE_META:
	case SVR_CONTROL_DELETE_SESSION:
	case SVR_CONTROL_HEALTH_STATE_EXISTS:
		return true;
	}
	return false;
}

bool
svr_meta_is_control(const struct svr_meta *m)
{
	return (m->present & SVR_META_F_CONTROL) != 0;
}

int
svr_ctrl_encode(enum svr_control control, const struct svr_meta *extra, uint8_t *out, size_t cap,
    size_t *len)
{
	struct svr_meta m = {0};

	if ((unsigned)control > UINT8_MAX || !svr_control_is_valid((uint8_t)control))
		return -EINVAL;
	if (extra != NULL)
		m = *extra;
	m.present |= SVR_META_F_CONTROL;
	m.control = (uint8_t)control;
	return svr_meta_encode(&m, out, cap, len);
}

int
svr_ctrl_decode(const uint8_t *data, size_t len, struct svr_meta *m, enum pkt_drop_reason *reason)
{
	size_t block_len;
	int rc;

	rc = svr_meta_decode(data, len, m, &block_len, reason);
	if (rc < 0)
		return rc;
	/* Trailing bytes would be a payload nobody forwards: refuse rather than ignore. */
	if (!svr_meta_is_control(m) || !svr_control_is_valid(m->control) || block_len != len) {
		*reason = PKT_DROP_META_BAD_CONTROL;
		return -EBADMSG;
	}
	return 0;
}
