/* Names of the data path's drop reasons; the list itself is in pkt_drop.h. */
#include "pkt/pkt_drop.h"

static const char *const pkt_drop_names[PKT_DROP_COUNT] = {
#define PKT_DROP_NAME(name, text) [PKT_DROP_##name] = text,
    PKT_DROP_REASONS(PKT_DROP_NAME)
#undef PKT_DROP_NAME
};

const char *
pkt_drop_reason_name(enum pkt_drop_reason reason)
{
	if ((unsigned)reason >= PKT_DROP_COUNT)
		return "unknown";
	return pkt_drop_names[reason];
}
