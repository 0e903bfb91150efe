/*
 * Fuzz target for crypto_detect_payload(): the first byte picks the IP protocol (TCP,
 * UDP, ESP or the byte itself), the next four the ports (so the IKE and NAT-T ports
 * come up often), the rest is the payload, copied to an exact-size buffer so ASan sees
 * any over-read. The result must be a valid kind with a name, the same on a second call
 * and on a copy, and no kind but ESP may come from an empty payload.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto_detect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int ok)
{
	if (!ok)
		abort();
}

static uint16_t
pick_port(uint8_t sel, uint8_t low)
{
	/* Half the inputs hit one of the ports the detectors care about. */
	static const uint16_t ports[] = {500, 4500, 443, 22, 51820, 53, 80};

	if (sel & 0x80)
		return ports[(sel & 0x7f) % (sizeof(ports) / sizeof(ports[0]))];
	return (uint16_t)((sel << 8) | low);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t protos[] = {IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ESP};
	enum crypto_detect_kind kind;
	uint8_t proto, *payload = NULL;
	uint16_t sport, dport;
	size_t len;

	if (size < 5)
		return 0;
	proto = data[0] < 0xf0 ? protos[data[0] % 3] : data[0];
	sport = pick_port(data[1], data[2]);
	dport = pick_port(data[3], data[4]);
	len = size - 5;
	if (len > 0) {
		payload = malloc(len);
		if (payload == NULL)
			return 0;
		memcpy(payload, data + 5, len);
	}
	kind = crypto_detect_payload(proto, sport, dport, payload, len);
	check(kind < CRYPTO_DETECT_COUNT);
	check(strcmp(crypto_detect_kind_name(kind), "unknown") != 0);
	check(crypto_detect_payload(proto, sport, dport, payload, len) == kind);
	check(crypto_detect_payload(proto, sport, dport, data + 5, len) == kind);
	if (len == 0)
		check(kind == (proto == IPPROTO_ESP ? CRYPTO_DETECT_ESP : CRYPTO_DETECT_NONE));
	if (proto == IPPROTO_ESP)
		check(kind == CRYPTO_DETECT_ESP);
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP && proto != IPPROTO_ESP)
		check(kind == CRYPTO_DETECT_NONE);
	free(payload);
	return 0;
}
