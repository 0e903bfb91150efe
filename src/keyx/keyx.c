/* Placeholder until the key exchange lands: see keyx.h. */
#include <errno.h>
int keyx_placeholder(void);
int
keyx_placeholder(void)
{
	return -ENOSYS;
}
