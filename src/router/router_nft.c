/* nftables rules that stop the kernel answering waypoint traffic; see router_nft.h. */
#include "router/router_nft.h"

#include <errno.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <string.h>

/* The whole rule text; a waypoint takes under 200 bytes. */
#define ROUTER_NFT_TEXT_MAX (1024 + ROUTER_NFT_WAYPOINTS_MAX * 256)

static bool
router_nft_name_is_valid(const char *name)
{
	size_t len;

	if (name == NULL)
		return false;
	len = strnlen(name, ROUTER_NFT_NAME_MAX + 1);
	if (len == 0 || len > ROUTER_NFT_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		        c == '_' || c == '-'))
			return false;
	}
	return true;
}

static void
router_nft_error_set(char *error, size_t error_len, const char *text)
{
	if (error == NULL || error_len == 0)
		return;
	snprintf(error, error_len, "%s", text != NULL ? text : "");
}

/* nft reports failures as text only; map the kernel's usual answers back to errnos. */
static int
router_nft_error_code(const char *text)
{
	if (text == NULL)
		return -EIO;
	if (strstr(text, "Operation not permitted") != NULL)
		return -EPERM;
	if (strstr(text, "Protocol not supported") != NULL ||
	    strstr(text, "Operation not supported") != NULL)
		return -EOPNOTSUPP;
	if (strstr(text, "Cannot allocate memory") != NULL)
		return -ENOMEM;
	return -EIO;
}

/* Runs text as one nft transaction; on failure copies nft's error text out. */
static int
router_nft_run(const char *text, char *error, size_t error_len)
{
	struct nft_ctx *nft;
	int err = 0;

	router_nft_error_set(error, error_len, "");
	nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (nft == NULL)
		return -ENOMEM;
	if (nft_ctx_buffer_error(nft) != 0 || nft_ctx_buffer_output(nft) != 0) {
		err = -ENOMEM;
		goto out;
	}
	if (nft_run_cmd_from_buffer(nft, text) != 0) {
		const char *msg = nft_ctx_get_error_buffer(nft);

		router_nft_error_set(error, error_len, msg);
		err = router_nft_error_code(msg);
	}
out:
	nft_ctx_free(nft);
	return err;
}

static int
router_nft_format_waypoint(char *out, size_t out_len, const struct router_nft_waypoint *w)
{
	char text[ADDR_TEXT_MAX];
	const char *fam = w->addr.family == ADDR_FAMILY_V4 ? "ip" : "ip6";
	int n, m = 0;

	if (w->port_first == 0 || w->port_first > w->port_last)
		return -EINVAL;
	if (addr_format(&w->addr, text, sizeof(text)) < 0)
		return -EINVAL;
	n = snprintf(out, out_len,
	    "\t\t%s daddr %s meta l4proto { tcp, udp } th dport %u-%u drop\n", fam, text,
	    w->port_first, w->port_last);
	if (n < 0 || (size_t)n >= out_len)
		return -EINVAL;
	if (w->probe_port) {
		m = snprintf(out + n, out_len - (size_t)n, "\t\t%s daddr %s udp dport 1280 drop\n",
		    fam, text);
		if (m < 0 || (size_t)m >= out_len - (size_t)n)
			return -EINVAL;
	}
	return n + m;
}

int
router_nft_install(const char *name, const struct router_nft_waypoint *waypoints, size_t count,
    char *error, size_t error_len)
{
	static char text[ROUTER_NFT_TEXT_MAX];
	size_t used;
	int n;

	router_nft_error_set(error, error_len, "");
	if (!router_nft_name_is_valid(name) || waypoints == NULL || count == 0 ||
	    count > ROUTER_NFT_WAYPOINTS_MAX)
		return -EINVAL;
	/*
	 * "add" first so "delete" cannot fail on a fresh system; all three statements are
	 * one transaction, so a reinstall never leaves the kernel without the rules.
	 */
	n = snprintf(text, sizeof(text),
	    "add table inet tern_%s\n"
	    "delete table inet tern_%s\n"
	    "table inet tern_%s {\n"
	    "\tchain waypoint_in {\n"
	    "\t\ttype filter hook prerouting priority -300; policy accept;\n",
	    name, name, name);
	if (n < 0 || (size_t)n >= sizeof(text))
		return -EINVAL;
	used = (size_t)n;
	for (size_t i = 0; i < count; i++) {
		const struct router_nft_waypoint *w = &waypoints[i];

		if (w->addr.family != ADDR_FAMILY_V4 && w->addr.family != ADDR_FAMILY_V6)
			return -EINVAL;
		n = router_nft_format_waypoint(text + used, sizeof(text) - used, w);
		if (n < 0)
			return n;
		used += (size_t)n;
	}
	n = snprintf(text + used, sizeof(text) - used, "\t}\n}\n");
	if (n < 0 || (size_t)n >= sizeof(text) - used)
		return -EINVAL;
	return router_nft_run(text, error, error_len);
}

int
router_nft_remove(const char *name, char *error, size_t error_len)
{
	char text[3 * (ROUTER_NFT_NAME_MAX + 64)];

	router_nft_error_set(error, error_len, "");
	if (!router_nft_name_is_valid(name))
		return -EINVAL;
	/* Adding first makes the delete succeed when the table is already gone. */
	snprintf(text, sizeof(text), "add table inet tern_%s\ndelete table inet tern_%s\n", name,
	    name);
	return router_nft_run(text, error, error_len);
}

bool
router_nft_is_installed(const char *name)
{
	char text[ROUTER_NFT_NAME_MAX + 64];

	if (!router_nft_name_is_valid(name))
		return false;
	snprintf(text, sizeof(text), "list table inet tern_%s\n", name);
	return router_nft_run(text, NULL, 0) == 0;
}
