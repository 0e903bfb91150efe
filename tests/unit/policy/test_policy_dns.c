/*
 * Unit tests of the DNS answer parser (src/policy/policy_dns.h) on messages built by
 * hand per RFC 1035: plain answers, compression, CNAME chains, IPv6, and every refusal
 * (pointer loops and forward pointers, truncation at every length, labels and names too
 * long, bad characters, wrong record lengths, left-over bytes, non-responses).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "policy/policy_dns.h"
#include "policy_dns_build.h"

struct seen {
	char name[8][260];
	struct addr addr[8];
	uint32_t ttl[8];
	int count;
	int stop_at; /* return 7 from this call (1-based); 0: never */
};

static int
collect(const char *name, const struct addr *addr, uint32_t ttl_s, void *arg)
{
	struct seen *s = arg;

	if (s->count < 8) {
		strncpy(s->name[s->count], name, sizeof(s->name[0]) - 1);
		s->addr[s->count] = *addr;
		s->ttl[s->count] = ttl_s;
	}
	s->count++;
	return s->count == s->stop_at ? 7 : 0;
}

static void
addr_expect(const struct addr *a, const char *text)
{
	char buf[ADDR_TEXT_MAX];

	assert_int_equal(addr_format(a, buf, sizeof(buf)), 0);
	assert_string_equal(buf, text);
}

/* "www.example.com A" answered with 93.184.216.34, TTL 300, the name compressed. */
static const uint8_t answer_a[] = {
    0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, /* header */
    0x03, 'w', 'w', 'w', 0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0x03, 'c', 'o', 'm', 0x00, 0x00,
    0x01, 0x00, 0x01,                                     /* QTYPE A, QCLASS IN */
    0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01,                   /* answer: pointer to 12, A, IN */
    0x00, 0x00, 0x01, 0x2c, 0x00, 0x04, 93, 184, 216, 34, /* TTL 300, 4 bytes */
};

static void
test_policy_dns_parse_answer_plain_a(void **state)
{
	struct seen s = {0};

	(void)state;
	assert_int_equal(policy_dns_parse_answer(answer_a, sizeof(answer_a), collect, &s), 1);
	assert_int_equal(s.count, 1);
	assert_string_equal(s.name[0], "www.example.com");
	addr_expect(&s.addr[0], "93.184.216.34");
	assert_int_equal(s.ttl[0], 300);
}

static void
test_policy_dns_parse_answer_every_truncation_refused(void **state)
{
	struct seen s = {0};

	(void)state;
	for (size_t len = 0; len < sizeof(answer_a); len++) {
		assert_int_equal(policy_dns_parse_answer(answer_a, len, collect, &s), -EBADMSG);
		assert_int_equal(s.count, 0);
	}
}

/* www.Example.COM CNAME edge.cdn.net (TTL 600); edge.cdn.net A and AAAA (TTL 60). */
static void
cname_message(struct dns_build *m)
{
	size_t target;

	dns_header(m, 0x8180, 1, 3, 0, 1);
	dns_labels(m, "www.Example.COM", 1);
	dns_put16(m, 1);
	dns_put16(m, 1);
	dns_pointer(m, 12);
	dns_rr(m, 5, 600, 14);
	target = m->n;
	dns_labels(m, "edge.cdn.net", 1);
	dns_pointer(m, (uint16_t)target);
	dns_rr(m, 1, 60, 4);
	dns_put32(m, 0xc6336407); /* 198.51.100.7 */
	dns_pointer(m, (uint16_t)target);
	dns_rr(m, 28, 30, 16);
	dns_put32(m, 0x20010db8);
	dns_put32(m, 0);
	dns_put32(m, 0);
	dns_put32(m, 7);
	/* An EDNS OPT record in the additional section: root name, type 41. */
	dns_put8(m, 0);
	dns_put16(m, 41);
	dns_put16(m, 1232);
	dns_put32(m, 0);
	dns_put16(m, 0);
}

static void
test_policy_dns_parse_answer_cname_chain_reports_question_name(void **state)
{
	struct dns_build m;
	struct seen s = {0};

	(void)state;
	cname_message(&m);
	assert_int_equal(policy_dns_parse_answer(m.b, m.n, collect, &s), 2);
	assert_string_equal(s.name[0], "www.example.com");
	addr_expect(&s.addr[0], "198.51.100.7");
	assert_int_equal(s.ttl[0], 60); /* the lowest along the chain */
	assert_string_equal(s.name[1], "www.example.com");
	addr_expect(&s.addr[1], "2001:db8::7");
	assert_int_equal(s.ttl[1], 30);
	/* The callback can stop the parse. */
	memset(&s, 0, sizeof(s));
	s.stop_at = 1;
	assert_int_equal(policy_dns_parse_answer(m.b, m.n, collect, &s), 7);
	assert_int_equal(s.count, 1);
	/* A left-over byte makes the whole message bad: nothing is learnt. */
	memset(&s, 0, sizeof(s));
	m.b[m.n++] = 0;
	assert_int_equal(policy_dns_parse_answer(m.b, m.n, collect, &s), -EBADMSG);
	assert_int_equal(s.count, 0);
}

static void
test_policy_dns_parse_answer_pointer_loops_refused(void **state)
{
	struct dns_build m;
	struct seen s = {0};
	size_t at;

	(void)state;
	/* The answer's name points at itself. */
	dns_header(&m, 0x8180, 1, 1, 0, 0);
	dns_labels(&m, "a.test", 1);
	dns_put32(&m, 0x00010001);
	at = m.n;
	dns_pointer(&m, (uint16_t)at);
	dns_rr(&m, 1, 60, 4);
	dns_put32(&m, 0x01020304);
	assert_int_equal(policy_dns_parse_answer(m.b, m.n, collect, &s), -ELOOP);
	/* A label, then a pointer back to that label: the classic two-step loop. */
	dns_header(&m, 0x8180, 1, 1, 0, 0);
	dns_labels(&m, "a.test", 1);
	dns_put32(&m, 0x00010001);
	at = m.n;
	dns_labels(&m, "x", 0);
	dns_pointer(&m, (uint16_t)at);
	dns_rr(&m, 1, 60, 4);
	dns_put32(&m, 0x01020304);
	assert_int_equal(policy_dns_parse_answer(m.b, m.n, collect, &s), -ELOOP);
	/* A forward pointer (to the record's own data). */
	dns_header(&m, 0x8180, 1, 1, 0, 0);
	dns_labels(&m, "a.test", 1);
	dns_put32(&m, 0x00010001);
	dns_pointer(&m, (uint16_t)(m.n + 12));
	dns_rr(&m, 1, 60, 4);
	dns_put32(&m, 0x01020304);
	assert_int_equal(policy_dns_parse_answer(m.b, m.n, collect, &s), -ELOOP);
	/* The question's name a pointer to itself. */
	dns_header(&m, 0x8180, 1, 0, 0, 0);
	dns_pointer(&m, 12);
	dns_put32(&m, 0x00010001);
	assert_int_equal(policy_dns_parse_answer(m.b, m.n, collect, &s), -ELOOP);
	assert_int_equal(s.count, 0);
	assert_non_null(strstr(policy_dns_strerror(-ELOOP), "compression pointer"));
}

static void
test_policy_dns_parse_answer_long_labels_and_names_refused(void **state)
{
	struct dns_build m;
	char label[70], name[300];
	struct seen s = {0};

	(void)state;
	memset(label, 'a', 64);
	label[64] = '\0';
	dns_header(&m, 0x8180, 1, 0, 0, 0);
	dns_labels(&m, label, 1);
	dns_put32(&m, 0x00010001);
	assert_int_equal(policy_dns_parse_answer(m.b, m.n, collect, &s), -ENAMETOOLONG);
	/* 63 is fine... */
	label[63] = '\0';
	dns_header(&m, 0x8180, 1, 0, 0, 0);
	dns_labels(&m, label, 1);
	dns_put32(&m, 0x00010001);
	assert_int_equal(policy_dns_parse_answer(m.b, m.n, collect, &s), 0);
	/* ...but five of them make a name of 321 bytes. */
	snprintf(name, sizeof(name), "%s.%s.%s.%s", label, label, label, label);
	dns_header(&m, 0x8180, 1, 0, 0, 0);
	dns_labels(&m, name, 0);
	dns_labels(&m, "abc", 1); /* 4 * 64 + 4 + 1 = 261 */
	dns_put32(&m, 0x00010001);
	assert_int_equal(policy_dns_parse_answer(m.b, m.n, collect, &s), -ENAMETOOLONG);
	/* Exactly 255: 3 * 64 + 62 + 1. */
	label[61] = '\0';
	snprintf(name, sizeof(name), "%s.%s.%s", label, label, label);
	{
		char l63[64];

		memset(l63, 'b', 63);
		l63[63] = '\0';
		dns_header(&m, 0x8180, 1, 0, 0, 0);
		dns_labels(&m, l63, 0);
		dns_labels(&m, l63, 0);
		dns_labels(&m, l63, 0);
		dns_labels(&m, label, 1); /* 3 * 64 + 62 + 1 = 255 */
		dns_put32(&m, 0x00010001);
		assert_int_equal(policy_dns_parse_answer(m.b, m.n, collect, &s), 0);
		dns_header(&m, 0x8180, 1, 0, 0, 0);
		dns_labels(&m, l63, 0);
		dns_labels(&m, l63, 0);
		dns_labels(&m, l63, 0);
		dns_labels(&m, l63, 1); /* 256 */
		dns_put32(&m, 0x00010001);
		assert_int_equal(policy_dns_parse_answer(m.b, m.n, collect, &s), -ENAMETOOLONG);
	}
	assert_int_equal(s.count, 0);
}

static void
test_policy_dns_parse_answer_bad_fields_refused(void **state)
{
	uint8_t msg[sizeof(answer_a)];
	struct seen s = {0};

	(void)state;
	/* A query, not a response. */
	memcpy(msg, answer_a, sizeof(msg));
	msg[2] &= 0x7f;
	assert_int_equal(policy_dns_parse_answer(msg, sizeof(msg), collect, &s), -EPROTO);
	/* NXDOMAIN. */
	memcpy(msg, answer_a, sizeof(msg));
	msg[3] = 0x83;
	assert_int_equal(policy_dns_parse_answer(msg, sizeof(msg), collect, &s), -EPROTO);
	/* Two questions. */
	memcpy(msg, answer_a, sizeof(msg));
	msg[5] = 2;
	assert_int_equal(policy_dns_parse_answer(msg, sizeof(msg), collect, &s), -EPROTO);
	/* A space in a label. */
	memcpy(msg, answer_a, sizeof(msg));
	msg[14] = ' ';
	assert_int_equal(policy_dns_parse_answer(msg, sizeof(msg), collect, &s), -EILSEQ);
	/* An A record of 3 bytes (and a byte left over). */
	memcpy(msg, answer_a, sizeof(msg));
	msg[sizeof(msg) - 5] = 3;
	assert_int_equal(policy_dns_parse_answer(msg, sizeof(msg), collect, &s), -EBADMSG);
	/* More answers than the message holds. */
	memcpy(msg, answer_a, sizeof(msg));
	msg[7] = 2;
	assert_int_equal(policy_dns_parse_answer(msg, sizeof(msg), collect, &s), -EBADMSG);
	/* More answers than we read. */
	memcpy(msg, answer_a, sizeof(msg));
	msg[7] = POLICY_DNS_RECORDS_MAX + 1;
	assert_int_equal(policy_dns_parse_answer(msg, sizeof(msg), collect, &s), -E2BIG);
	assert_int_equal(s.count, 0);
}

static void
test_policy_dns_parse_answer_ignores_other_types_and_classes(void **state)
{
	struct dns_build m;
	struct seen s = {0};

	(void)state;
	dns_header(&m, 0x8180, 1, 2, 0, 0);
	dns_labels(&m, "t.example", 1);
	dns_put32(&m, 0x00100001);
	dns_pointer(&m, 12);
	dns_rr(&m, 16, 60, 4); /* TXT */
	dns_put32(&m, 0x03616263);
	dns_pointer(&m, 12);
	dns_put16(&m, 1); /* A, class CHAOS */
	dns_put16(&m, 3);
	dns_put32(&m, 60);
	dns_put16(&m, 4);
	dns_put32(&m, 0x01020304);
	assert_int_equal(policy_dns_parse_answer(m.b, m.n, collect, &s), 0);
	assert_int_equal(s.count, 0);
	/* A TTL with the top bit set reads as 0 (RFC 2181). */
	dns_header(&m, 0x8180, 1, 1, 0, 0);
	dns_labels(&m, "t.example", 1);
	dns_put32(&m, 0x00010001);
	dns_pointer(&m, 12);
	dns_rr(&m, 1, 0x80000001u, 4);
	dns_put32(&m, 0x01020304);
	assert_int_equal(policy_dns_parse_answer(m.b, m.n, collect, &s), 1);
	assert_int_equal(s.ttl[0], 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_policy_dns_parse_answer_plain_a),
	    cmocka_unit_test(test_policy_dns_parse_answer_every_truncation_refused),
	    cmocka_unit_test(test_policy_dns_parse_answer_cname_chain_reports_question_name),
	    cmocka_unit_test(test_policy_dns_parse_answer_pointer_loops_refused),
	    cmocka_unit_test(test_policy_dns_parse_answer_long_labels_and_names_refused),
	    cmocka_unit_test(test_policy_dns_parse_answer_bad_fields_refused),
	    cmocka_unit_test(test_policy_dns_parse_answer_ignores_other_types_and_classes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
