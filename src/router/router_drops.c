/* Control-thread drops in the API's list; see router_drops.h. */
#include "router/router_drops.h"

#include <string.h>

void
router_drops_add(json_t *list, enum pkt_drop_reason reason, uint64_t n)
{
	const char *name = pkt_drop_reason_name(reason);
	size_t i;
	json_t *e;

	json_array_foreach(list, i, e)
	{
		const char *r = json_string_value(json_object_get(e, "reason"));

		if (r != NULL && strcmp(r, name) == 0) {
			json_object_set_new(e, "count",
			    json_integer(
			        json_integer_value(json_object_get(e, "count")) + (json_int_t)n));
			return;
		}
	}
}
