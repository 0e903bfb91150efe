/*
 * Writes the seed corpora of fuzz_policy_dns and fuzz_policy_sni: the unit tests' DNS
 * messages (plain, compressed CNAME chain with AAAA and EDNS, pointer loops, long
 * labels, truncations) and the captured ClientHellos (whole, cut, damaged).
 * Usage: gen_fuzz_policy_corpus <tests/fuzz/corpus>
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../unit/policy/policy_dns_build.h"
#include "../../unit/policy/policy_tls_samples.h"

static const char *root;

static void
put(const char *target, const char *name, const uint8_t *data, size_t len)
{
	char path[4096];
	FILE *out;

	snprintf(path, sizeof(path), "%s/%s/%s", root, target, name);
	out = fopen(path, "wb");
	if (out == NULL || (len > 0 && fwrite(data, 1, len, out) != len) || fclose(out) != 0) {
		perror(path);
		exit(1);
	}
}

static void
question(struct dns_build *m, const char *name, uint16_t an, uint16_t ar)
{
	dns_header(m, 0x8180, 1, an, 0, ar);
	dns_labels(m, name, 1);
	dns_put16(m, 1);
	dns_put16(m, 1);
}

static void
dns_corpus(void)
{
	struct dns_build m;
	size_t target;
	char l63[64];

	question(&m, "www.example.com", 1, 0);
	dns_pointer(&m, 12);
	dns_rr(&m, 1, 300, 4);
	dns_put32(&m, 0x5db8d822);
	put("fuzz_policy_dns", "a", m.b, m.n);
	put("fuzz_policy_dns", "a-truncated", m.b, m.n - 3);
	/* CNAME chain, A and AAAA, EDNS OPT. */
	question(&m, "www.Example.COM", 3, 1);
	dns_pointer(&m, 12);
	dns_rr(&m, 5, 600, 14);
	target = m.n;
	dns_labels(&m, "edge.cdn.net", 1);
	dns_pointer(&m, (uint16_t)target);
	dns_rr(&m, 1, 60, 4);
	dns_put32(&m, 0xc6336407);
	dns_pointer(&m, (uint16_t)target);
	dns_rr(&m, 28, 30, 16);
	dns_put32(&m, 0x20010db8);
	dns_put32(&m, 0);
	dns_put32(&m, 0);
	dns_put32(&m, 7);
	dns_put8(&m, 0);
	dns_put16(&m, 41);
	dns_put16(&m, 1232);
	dns_put32(&m, 0);
	dns_put16(&m, 0);
	put("fuzz_policy_dns", "cname-chain", m.b, m.n);
	/* A self pointer and a two-step loop. */
	question(&m, "a.test", 1, 0);
	target = m.n;
	dns_pointer(&m, (uint16_t)target);
	dns_rr(&m, 1, 60, 4);
	dns_put32(&m, 0x01020304);
	put("fuzz_policy_dns", "loop-self", m.b, m.n);
	question(&m, "a.test", 1, 0);
	target = m.n;
	dns_labels(&m, "x", 0);
	dns_pointer(&m, (uint16_t)target);
	dns_rr(&m, 1, 60, 4);
	dns_put32(&m, 0x01020304);
	put("fuzz_policy_dns", "loop-two-step", m.b, m.n);
	/* A name of exactly 255 bytes. */
	memset(l63, 'b', 63);
	l63[63] = '\0';
	dns_header(&m, 0x8180, 1, 0, 0, 0);
	dns_labels(&m, l63, 0);
	dns_labels(&m, l63, 0);
	dns_labels(&m, l63, 0);
	l63[61] = '\0';
	dns_labels(&m, l63, 1);
	dns_put32(&m, 0x00010001);
	put("fuzz_policy_dns", "name-255", m.b, m.n);
	put("fuzz_policy_dns", "empty", m.b, 0);
}

static void
sni_corpus(void)
{
	uint8_t ch[sizeof(policy_sample_ch13)];

	put("fuzz_policy_sni", "tls13", policy_sample_ch13, sizeof(policy_sample_ch13));
	put("fuzz_policy_sni", "tls12", policy_sample_ch12, sizeof(policy_sample_ch12));
	put("fuzz_policy_sni", "no-sni", policy_sample_ch_nosni, sizeof(policy_sample_ch_nosni));
	put("fuzz_policy_sni", "tls13-cut", policy_sample_ch13, 100);
	memcpy(ch, policy_sample_ch13, sizeof(ch));
	ch[8]++;
	put("fuzz_policy_sni", "tls13-split", ch, sizeof(ch));
	put("fuzz_policy_sni", "http", (const uint8_t *)"GET / HTTP/1.1\r\n\r\n", 18);
	put("fuzz_policy_sni", "empty", ch, 0);
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s <corpus root, e.g. tests/fuzz/corpus>\n", argv[0]);
		return 2;
	}
	root = argv[1];
	dns_corpus();
	sni_corpus();
	return 0;
}
