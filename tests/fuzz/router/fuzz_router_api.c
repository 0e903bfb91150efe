/*
 * Fuzz target of router_api_request_parse(): arbitrary bytes as one request line. It
 * must never crash or leak; an accepted request must satisfy what the parser promises
 * (a non-empty short cmd, args absent or an object, nothing else in the object), and a
 * refused one must carry a code and a message that encode as JSON, since both go back
 * to the client.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "router/router_api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_check_error(const struct router_api_error *err)
{
	struct router_api_error copy = *err;
	size_t len;
	char *text;
	json_t *s;

	if (err->code == NULL || err->message[0] == '\0')
		abort();
	if (strnlen(err->message, sizeof(err->message)) == sizeof(err->message))
		abort();
	/* The message quotes client bytes: it must stay valid UTF-8 for the answer. */
	s = json_string(err->message);
	if (s == NULL)
		abort();
	json_decref(s);
	copy.details = NULL;
	text = router_api_answer_format(NULL, &copy, &len);
	if (text == NULL || len == 0 || text[len - 1] != '\n' || memchr(text, '\n', len - 1))
		abort();
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct router_api_error err = {0};
	struct router_api_request req;
	int rc;

	rc = router_api_request_parse((const char *)data, size, &req, &err);
	if (rc == 0) {
		size_t cmd_len = strlen(req.cmd);
		size_t keys = json_object_size(req.root);

		if (cmd_len == 0 || cmd_len >= ROUTER_API_CMD_MAX)
			abort();
		if (req.args != NULL && !json_is_object(req.args))
			abort();
		if (keys != 1u + (req.args != NULL))
			abort();
		router_api_request_fini(&req);
		if (req.root != NULL)
			abort();
		return 0;
	}
	if (rc != -EINVAL && rc != -EMSGSIZE && rc != -ENOMEM)
		abort();
	if (req.root != NULL)
		abort();
	if (rc != -ENOMEM)
		fuzz_check_error(&err);
	return 0;
}
