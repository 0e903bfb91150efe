/*
 * Unit tests of crypto/crypto_detect: real-looking first payloads of each encrypted
 * protocol (built byte by byte), near misses that must stay NONE, every truncation of
 * every sample in an exact-size buffer (so ASan sees any over-read) and random bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto_detect.h"
#include "test_rand.h"

#define SAMPLE_MAX 1400

struct sample {
	uint8_t proto;
	uint16_t sport, dport;
	uint8_t bytes[SAMPLE_MAX];
	size_t len;
};

/* Detect on an exact-size heap copy, so reading one byte too far is an ASan report. */
static enum crypto_detect_kind
detect(uint8_t proto, uint16_t sport, uint16_t dport, const uint8_t *p, size_t len)
{
	uint8_t *copy = len > 0 ? malloc(len) : NULL;
	enum crypto_detect_kind kind;

	if (len > 0) {
		assert_non_null(copy);
		memcpy(copy, p, len);
	}
	kind = crypto_detect_payload(proto, sport, dport, copy, len);
	free(copy);
	return kind;
}

static enum crypto_detect_kind
detect_sample(const struct sample *s)
{
	return detect(s->proto, s->sport, s->dport, s->bytes, s->len);
}

static void
put(struct sample *s, const void *p, size_t n)
{
	assert_true(s->len + n <= SAMPLE_MAX);
	memcpy(s->bytes + s->len, p, n);
	s->len += n;
}

static void
put_u8(struct sample *s, uint8_t v)
{
	put(s, &v, 1);
}

static void
put_be16(struct sample *s, uint16_t v)
{
	put_u8(s, (uint8_t)(v >> 8));
	put_u8(s, (uint8_t)v);
}

static void
put_be32(struct sample *s, uint32_t v)
{
	put_be16(s, (uint16_t)(v >> 16));
	put_be16(s, (uint16_t)v);
}

/* n bytes of a fixed pattern standing in for random or encrypted fields. */
static void
put_fill(struct sample *s, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		put_u8(s, (uint8_t)(seed + i * 37));
}

static void
sample_init(struct sample *s, uint8_t proto, uint16_t sport, uint16_t dport)
{
	memset(s, 0, sizeof(*s));
	s->proto = proto;
	s->sport = sport;
	s->dport = dport;
}

/* A TLS 1.2/1.3 ClientHello: record header, handshake header, legacy version, random... */
static void
make_tls_client_hello(struct sample *s)
{
	sample_init(s, IPPROTO_TCP, 50000, 443);
	put_u8(s, 22);        /* handshake */
	put_be16(s, 0x0301);  /* legacy record version TLS 1.0 */
	put_be16(s, 4 + 196); /* record length */
	put_u8(s, 1);         /* ClientHello */
	put_u8(s, 0);         /* uint24 length */
	put_be16(s, 196);
	put_be16(s, 0x0303);   /* legacy_version TLS 1.2 */
	put_fill(s, 32, 0x11); /* random */
	put_u8(s, 32);         /* session id */
	put_fill(s, 32, 0x22);
	put_be16(s, 4); /* cipher suites */
	put_be16(s, 0x1301);
	put_be16(s, 0x1302);
	put_u8(s, 1); /* compression methods: null */
	put_u8(s, 0);
	put_be16(s, (uint16_t)(200 - s->len + 5 - 2)); /* extensions fill the rest */
	put_fill(s, 200 + 5 - s->len, 0x33);
	assert_int_equal(s->len, 205);
}

static void
make_tls_record(struct sample *s, uint8_t type, uint16_t version, size_t body)
{
	sample_init(s, IPPROTO_TCP, 443, 50000);
	put_u8(s, type);
	put_be16(s, version);
	put_be16(s, (uint16_t)body);
	if (type == 20)
		put_u8(s, 1);
	else
		put_fill(s, body < 1200 ? body : 1200, 0x44); /* a first segment */
}

/* A DTLS 1.2 ClientHello record: type, version, epoch, 48-bit sequence, length. */
static void
make_dtls(struct sample *s, uint16_t version)
{
	sample_init(s, IPPROTO_UDP, 50000, 4433);
	put_u8(s, 22);
	put_be16(s, version);
	put_be16(s, 0); /* epoch */
	put_be16(s, 0); /* sequence number */
	put_be32(s, 0);
	put_be16(s, 12 + 60); /* record length */
	put_u8(s, 1);         /* ClientHello */
	put_u8(s, 0);
	put_be16(s, 60);
	put_be16(s, 0); /* message_seq */
	put_u8(s, 0);   /* fragment offset */
	put_be16(s, 0);
	put_u8(s, 0); /* fragment length */
	put_be16(s, 60);
	put_be16(s, 0xfefd);
	put_fill(s, 58, 0x55);
}

/* A QUIC Initial padded to 1200 bytes, as a client sends first. */
static void
make_quic_initial(struct sample *s, uint8_t first, uint32_t version)
{
	sample_init(s, IPPROTO_UDP, 50000, 443);
	put_u8(s, first); /* long header, fixed bit, Initial, 4-byte packet number */
	put_be32(s, version);
	put_u8(s, 8); /* destination connection id */
	put_fill(s, 8, 0x66);
	put_u8(s, 0);                      /* no source connection id */
	put_u8(s, 0);                      /* token length (varint 0) */
	put_be16(s, 0x4000 | (1200 - 18)); /* length (2-byte varint) */
	put_be32(s, 0);                    /* packet number */
	put_fill(s, 1200 - s->len, 0x77);
}

static void
make_quic_version_negotiation(struct sample *s)
{
	sample_init(s, IPPROTO_UDP, 443, 50000);
	put_u8(s, 0x80 | 0x2a); /* long header; the other bits are arbitrary */
	put_be32(s, 0);
	put_u8(s, 8);
	put_fill(s, 8, 0x66);
	put_u8(s, 8);
	put_fill(s, 8, 0x67);
	put_be32(s, 0x00000001);
	put_be32(s, 0x6b3343cf);
}

static void
make_wireguard(struct sample *s, uint8_t type, size_t len)
{
	sample_init(s, IPPROTO_UDP, 51820, 51820);
	put_u8(s, type);
	put_u8(s, 0); /* reserved */
	put_u8(s, 0);
	put_u8(s, 0);
	put_be32(s, 0x1a2b3c4d); /* sender / receiver index */
	put_fill(s, len - 8, 0x88);
}

/* An IKE header of the given version and exchange, length = the whole message. */
static void
put_ike(struct sample *s, uint8_t version, uint8_t exchange, size_t body)
{
	put_fill(s, 8, 0x99); /* initiator SPI */
	put_fill(s, 8, 0);    /* responder SPI: none yet (0, 37, 74, ...) */
	put_u8(s, 33);        /* next payload: SA */
	put_u8(s, version);
	put_u8(s, exchange);
	put_u8(s, 0x08); /* initiator */
	put_be32(s, 0);  /* message id */
	put_be32(s, (uint32_t)(28 + body));
	put_fill(s, body, 0xaa);
}

static void
test_crypto_detect_payload_tls(void **state)
{
	struct sample s;

	(void)state;
	make_tls_client_hello(&s);
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_TLS);
	/* ServerHello, TLS 1.3 application data, alert, change_cipher_spec, SSL 3.0. */
	make_tls_record(&s, 22, 0x0303, 90);
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_TLS);
	make_tls_record(&s, 23, 0x0303, 1000);
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_TLS);
	make_tls_record(&s, 21, 0x0303, 2);
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_TLS);
	make_tls_record(&s, 20, 0x0303, 1);
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_TLS);
	make_tls_record(&s, 22, 0x0300, 50);
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_TLS);
	/* Only the record header arrived (a small first segment). */
	make_tls_client_hello(&s);
	s.len = 5;
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_TLS);
}

static void
test_crypto_detect_payload_tls_near_misses(void **state)
{
	struct sample s;

	(void)state;
	make_tls_record(&s, 22, 0x0305, 50); /* no such version */
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
	make_tls_record(&s, 22, 0x0203, 50);
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
	make_tls_record(&s, 24, 0x0303, 50); /* heartbeat and beyond */
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
	make_tls_record(&s, 19, 0x0303, 50);
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
	make_tls_record(&s, 22, 0x0303, 0); /* empty record */
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
	make_tls_record(&s, 23, 0x0303, 16384 + 2049); /* longer than any record */
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
	make_tls_record(&s, 20, 0x0303, 2); /* change_cipher_spec is one byte */
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
	make_tls_client_hello(&s); /* too short for a record header */
	s.len = 4;
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
	make_tls_client_hello(&s); /* TLS is TCP; over UDP it is not DTLS either */
	s.proto = IPPROTO_UDP;
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
	s.proto = IPPROTO_ICMP;
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
}

static void
test_crypto_detect_payload_dtls(void **state)
{
	static const uint16_t versions[] = {0xfeff, 0xfefd, 0xfefc};
	struct sample s;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		make_dtls(&s, versions[i]);
		assert_int_equal(detect_sample(&s), CRYPTO_DETECT_DTLS);
	}
	make_dtls(&s, 0xfefe); /* no such version */
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
	make_dtls(&s, 0xfefd); /* the record is longer than the datagram */
	s.len -= 1;
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
	make_dtls(&s, 0xfefd); /* DTLS is UDP */
	s.proto = IPPROTO_TCP;
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
}

static void
test_crypto_detect_payload_quic(void **state)
{
	struct sample s;

	(void)state;
	make_quic_initial(&s, 0xc3, 0x00000001);
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_QUIC);
	make_quic_initial(&s, 0xd3, 0x6b3343cf); /* v2 Initial */
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_QUIC);
	make_quic_initial(&s, 0xe3, 0xff00001d); /* draft 29 handshake */
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_QUIC);
	make_quic_version_negotiation(&s);
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_QUIC);
}

static void
test_crypto_detect_payload_quic_near_misses(void **state)
{
	struct sample s;

	(void)state;
	make_quic_initial(&s, 0xc3, 0x00000002); /* unknown version */
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
	make_quic_initial(&s, 0x83, 0x00000001); /* fixed bit clear */
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
	make_quic_initial(&s, 0x43, 0x00000001); /* short header */
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
	make_quic_initial(&s, 0xc3, 0x00000001); /* connection id longer than 20 */
	s.bytes[5] = 21;
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
	make_quic_initial(&s, 0xc3, 0x00000001); /* ids run past the datagram */
	s.len = 14;
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
	make_quic_initial(&s, 0xc3, 0x00000001); /* QUIC is UDP */
	s.proto = IPPROTO_TCP;
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
	make_quic_version_negotiation(&s); /* a version list cut short */
	s.len -= 2;
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
}

static void
test_crypto_detect_payload_ssh(void **state)
{
	static const char *const yes[] = {"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n",
	    "SSH-1.99-Cisco-1.25\r\n", "SSH-2.0-"};
	static const char *const no[] = {"SSH-2.0", "SSH-1.5-old\r\n", "ssh-2.0-x\r\n",
	    " SSH-2.0-x\r\n", "SSH-1.99"};

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_int_equal(detect(IPPROTO_TCP, 22, 50000, (const uint8_t *)yes[i],
		                     strlen(yes[i])),
		    CRYPTO_DETECT_SSH);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_int_equal(detect(IPPROTO_TCP, 22, 50000, (const uint8_t *)no[i],
		                     strlen(no[i])),
		    CRYPTO_DETECT_NONE);
	assert_int_equal(detect(IPPROTO_UDP, 22, 50000, (const uint8_t *)yes[0], strlen(yes[0])),
	    CRYPTO_DETECT_NONE);
}

static void
test_crypto_detect_payload_wireguard(void **state)
{
	struct sample s;

	(void)state;
	make_wireguard(&s, 1, 148); /* handshake initiation */
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_WIREGUARD);
	make_wireguard(&s, 2, 92); /* handshake response */
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_WIREGUARD);
	make_wireguard(&s, 3, 64); /* cookie reply */
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_WIREGUARD);
	make_wireguard(&s, 4, 32); /* keepalive */
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_WIREGUARD);
	make_wireguard(&s, 4, 32 + 16 * 80); /* transport data */
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_WIREGUARD);
}

static void
test_crypto_detect_payload_wireguard_near_misses(void **state)
{
	struct sample s;

	(void)state;
	make_wireguard(&s, 1, 149);
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
	make_wireguard(&s, 1, 147);
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
	make_wireguard(&s, 2, 148);
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
	make_wireguard(&s, 3, 92);
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
	make_wireguard(&s, 4, 40); /* not padded to 16 */
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
	make_wireguard(&s, 4, 16);
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
	make_wireguard(&s, 5, 148);
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
	make_wireguard(&s, 0, 148);
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
	make_wireguard(&s, 1, 148); /* reserved bytes must be zero */
	s.bytes[2] = 1;
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
	make_wireguard(&s, 1, 148); /* WireGuard is UDP */
	s.proto = IPPROTO_TCP;
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
}

static void
test_crypto_detect_payload_esp(void **state)
{
	static const uint8_t esp[] = {0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1, 0xde, 0xad};
	struct sample s;

	(void)state;
	assert_int_equal(detect(IPPROTO_ESP, 0, 0, esp, sizeof(esp)), CRYPTO_DETECT_ESP);
	assert_int_equal(detect(IPPROTO_ESP, 0, 0, NULL, 0), CRYPTO_DETECT_ESP);
	/* ESP in UDP on the NAT-T port, either direction. */
	assert_int_equal(detect(IPPROTO_UDP, 4500, 4500, esp, sizeof(esp)), CRYPTO_DETECT_ESP);
	assert_int_equal(detect(IPPROTO_UDP, 40000, 4500, esp, sizeof(esp)), CRYPTO_DETECT_ESP);
	/* SPI 1..255 is reserved, and an ESP header is 8 bytes. */
	sample_init(&s, IPPROTO_UDP, 4500, 4500);
	put_be32(&s, 200);
	put_be32(&s, 1);
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
	assert_int_equal(detect(IPPROTO_UDP, 4500, 4500, esp, 7), CRYPTO_DETECT_NONE);
	/* The same bytes off the NAT-T port are nothing. */
	assert_int_equal(detect(IPPROTO_UDP, 40000, 4000, esp, sizeof(esp)), CRYPTO_DETECT_NONE);
}

static void
test_crypto_detect_payload_ike(void **state)
{
	struct sample s;

	(void)state;
	sample_init(&s, IPPROTO_UDP, 500, 500); /* IKEv2 IKE_SA_INIT */
	put_ike(&s, 0x20, 34, 300);
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_IKE);
	sample_init(&s, IPPROTO_UDP, 500, 500); /* IKEv1 main mode */
	put_ike(&s, 0x10, 2, 100);
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_IKE);
	sample_init(&s, IPPROTO_UDP, 4500, 4500); /* IKE_AUTH after the non-ESP marker */
	put_be32(&s, 0);
	put_ike(&s, 0x20, 35, 200);
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_IKE);
	sample_init(&s, IPPROTO_UDP, 4500, 4500); /* NAT-keepalive */
	put_u8(&s, 0xff);
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_IKE);
}

static void
test_crypto_detect_payload_ike_near_misses(void **state)
{
	struct sample s;

	(void)state;
	sample_init(&s, IPPROTO_UDP, 500, 500); /* length field disagrees */
	put_ike(&s, 0x20, 34, 300);
	s.len--;
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
	sample_init(&s, IPPROTO_UDP, 500, 500); /* version 3 */
	put_ike(&s, 0x30, 34, 30);
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
	sample_init(&s, IPPROTO_UDP, 500, 500); /* unknown exchange */
	put_ike(&s, 0x20, 99, 30);
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
	sample_init(&s, IPPROTO_UDP, 500, 500); /* zero initiator SPI */
	put_ike(&s, 0x20, 34, 30);
	memset(s.bytes, 0, 8);
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
	sample_init(&s, IPPROTO_UDP, 40000, 53); /* an IKE header off the IKE ports */
	put_ike(&s, 0x20, 34, 30);
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
	sample_init(&s, IPPROTO_UDP, 500, 500); /* IKE on 500 has no marker */
	put_be32(&s, 0);
	put_ike(&s, 0x20, 34, 30);
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
	sample_init(&s, IPPROTO_UDP, 4500, 4500); /* marker then garbage */
	put_be32(&s, 0);
	put_fill(&s, 40, 1);
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
	sample_init(&s, IPPROTO_UDP, 4500, 4500); /* a two-byte "keepalive" */
	put_be16(&s, 0xffff);
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
	sample_init(&s, IPPROTO_TCP, 500, 500); /* IKE is UDP here */
	put_ike(&s, 0x20, 34, 30);
	assert_int_equal(detect_sample(&s), CRYPTO_DETECT_NONE);
}

static void
test_crypto_detect_payload_cleartext_none(void **state)
{
	static const char http[] = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";
	static const char post[] = "POST /api HTTP/1.1\r\nContent-Length: 0\r\n\r\n";
	static const char smtp[] = "220 mail.example.com ESMTP\r\n";
	/* TV8's DNS query for example.com. */
	static const uint8_t dns[] = {0xab, 0xcd, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	    0x00, 0x00, 0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0x03, 'c', 'o', 'm', 0x00, 0x00,
	    0x01, 0x00, 0x01};
	/* A DNS query whose id and flags start like a WireGuard header. */
	static const uint8_t dns_wg[] = {0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	    0x00, 0x00, 0x01, 'a', 0x00, 0x00, 0x01, 0x00, 0x01};

	(void)state;
	assert_int_equal(detect(IPPROTO_TCP, 50000, 80, (const uint8_t *)http, strlen(http)),
	    CRYPTO_DETECT_NONE);
	assert_int_equal(detect(IPPROTO_TCP, 50000, 443, (const uint8_t *)post, strlen(post)),
	    CRYPTO_DETECT_NONE);
	assert_int_equal(detect(IPPROTO_TCP, 25, 50000, (const uint8_t *)smtp, strlen(smtp)),
	    CRYPTO_DETECT_NONE);
	assert_int_equal(detect(IPPROTO_UDP, 50000, 80, (const uint8_t *)http, strlen(http)),
	    CRYPTO_DETECT_NONE);
	assert_int_equal(detect(IPPROTO_UDP, 40000, 53, dns, sizeof(dns)), CRYPTO_DETECT_NONE);
	assert_int_equal(detect(IPPROTO_UDP, 53, 40000, dns, sizeof(dns)), CRYPTO_DETECT_NONE);
	assert_int_equal(detect(IPPROTO_UDP, 40000, 53, dns_wg, sizeof(dns_wg)),
	    CRYPTO_DETECT_NONE);
	assert_int_equal(detect(IPPROTO_TCP, 1, 2, NULL, 0), CRYPTO_DETECT_NONE);
	assert_int_equal(detect(IPPROTO_UDP, 1, 2, NULL, 0), CRYPTO_DETECT_NONE);
}

/* Every prefix of every sample, in an exact-size buffer: no over-read, no crash. */
static void
test_crypto_detect_payload_truncations_safe(void **state)
{
	struct sample *s = calloc(12, sizeof(*s));
	size_t n = 0;

	(void)state;
	assert_non_null(s);
	make_tls_client_hello(&s[n++]);
	make_dtls(&s[n++], 0xfefd);
	make_quic_initial(&s[n++], 0xc3, 1);
	make_quic_version_negotiation(&s[n++]);
	make_wireguard(&s[n++], 1, 148);
	make_wireguard(&s[n++], 4, 64);
	sample_init(&s[n], IPPROTO_UDP, 500, 500);
	put_ike(&s[n++], 0x20, 34, 100);
	sample_init(&s[n], IPPROTO_UDP, 4500, 4500);
	put_be32(&s[n], 0);
	put_ike(&s[n++], 0x20, 35, 100);
	sample_init(&s[n], IPPROTO_TCP, 22, 50000);
	put(&s[n++], "SSH-1.99-x\r\n", 12);
	for (size_t i = 0; i < n; i++)
		for (size_t len = 0; len <= s[i].len; len++) {
			enum crypto_detect_kind k =
			    detect(s[i].proto, s[i].sport, s[i].dport, s[i].bytes, len);

			assert_true(k < CRYPTO_DETECT_COUNT);
		}
	free(s);
}

/* Random bytes of each length 0..64 (fixed seed) are almost never taken as encrypted. */
static void
test_crypto_detect_payload_random_mostly_none(void **state)
{
	static const struct {
		uint8_t proto;
		uint16_t sport, dport;
	} flows[] = {{IPPROTO_TCP, 50000, 443}, {IPPROTO_UDP, 50000, 443}, {IPPROTO_UDP, 500, 500},
	    {IPPROTO_TCP, 22, 50000}};
	uint64_t rng = 0x7465726e; /* fixed: the threshold below is for this stream */
	uint8_t buf[64];
	unsigned total = 0, hits = 0;

	(void)state;
	for (size_t f = 0; f < sizeof(flows) / sizeof(flows[0]); f++)
		for (size_t len = 0; len <= 64; len++)
			for (int i = 0; i < 200; i++) {
				enum crypto_detect_kind k;

				for (size_t j = 0; j < len; j++)
					buf[j] = (uint8_t)test_rand(&rng);
				k = detect(flows[f].proto, flows[f].sport, flows[f].dport, buf,
				    len);
				assert_true(k < CRYPTO_DETECT_COUNT);
				assert_int_equal(k,
				    crypto_detect_payload(flows[f].proto, flows[f].sport,
				        flows[f].dport, buf, len));
				total++;
				hits += k != CRYPTO_DETECT_NONE;
			}
	printf("# %u of %u random payloads detected\n", hits, total);
	assert_true(hits * 1000 <= total);
}

static void
test_crypto_detect_kind_name_all_distinct(void **state)
{
	(void)state;
	for (int a = 0; a < CRYPTO_DETECT_COUNT; a++) {
		const char *name = crypto_detect_kind_name((enum crypto_detect_kind)a);

		assert_non_null(name);
		assert_true(strlen(name) > 0);
		assert_string_not_equal(name, "unknown");
		for (int b = 0; b < a; b++)
			assert_string_not_equal(name,
			    crypto_detect_kind_name((enum crypto_detect_kind)b));
	}
	assert_string_equal(crypto_detect_kind_name(CRYPTO_DETECT_NONE), "none");
	assert_string_equal(crypto_detect_kind_name(CRYPTO_DETECT_WIREGUARD), "wireguard");
	assert_string_equal(crypto_detect_kind_name(CRYPTO_DETECT_COUNT), "unknown");
	assert_string_equal(crypto_detect_kind_name((enum crypto_detect_kind) - 1), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crypto_detect_payload_tls),
	    cmocka_unit_test(test_crypto_detect_payload_tls_near_misses),
	    cmocka_unit_test(test_crypto_detect_payload_dtls),
	    cmocka_unit_test(test_crypto_detect_payload_quic),
	    cmocka_unit_test(test_crypto_detect_payload_quic_near_misses),
	    cmocka_unit_test(test_crypto_detect_payload_ssh),
	    cmocka_unit_test(test_crypto_detect_payload_wireguard),
	    cmocka_unit_test(test_crypto_detect_payload_wireguard_near_misses),
	    cmocka_unit_test(test_crypto_detect_payload_esp),
	    cmocka_unit_test(test_crypto_detect_payload_ike),
	    cmocka_unit_test(test_crypto_detect_payload_ike_near_misses),
	    cmocka_unit_test(test_crypto_detect_payload_cleartext_none),
	    cmocka_unit_test(test_crypto_detect_payload_truncations_safe),
	    cmocka_unit_test(test_crypto_detect_payload_random_mostly_none),
	    cmocka_unit_test(test_crypto_detect_kind_name_all_distinct),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
