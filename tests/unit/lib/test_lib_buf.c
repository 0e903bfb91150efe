/* Unit tests of lib/buf: bounds-checked readers and writers, sticky errors, boundaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "test_rand.h"

static const uint8_t bytes16[16] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
    0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0xf0};

static void
test_buf_read_every_type_big_endian(void **state)
{
	struct buf_reader r;
	uint8_t u8, raw[2];
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	const uint8_t *p;

	(void)state;
	buf_reader_init(&r, bytes16, sizeof(bytes16));
	assert_int_equal(buf_reader_remaining(&r), 16);
	assert_int_equal(buf_read_u8(&r, &u8), 0);
	assert_int_equal(u8, 0x01);
	assert_int_equal(buf_read_u16(&r, &u16), 0);
	assert_int_equal(u16, 0x0203);
	assert_int_equal(buf_read_u32(&r, &u32), 0);
	assert_int_equal(u32, 0x04050607);
	assert_int_equal(buf_reader_remaining(&r), 9);
	assert_int_equal(buf_read_u64(&r, &u64), 0);
	assert_true(u64 == 0x08090a0b0c0d0e0full);
	assert_int_equal(buf_reader_remaining(&r), 1);
	assert_int_equal(buf_read_u8(&r, &u8), 0);
	assert_int_equal(u8, 0xf0);
	assert_int_equal(buf_reader_remaining(&r), 0);
	assert_false(r.error);

	buf_reader_init(&r, bytes16, sizeof(bytes16));
	assert_int_equal(buf_skip(&r, 3), 0);
	assert_int_equal(buf_read_bytes(&r, raw, 2), 0);
	assert_int_equal(raw[0], 0x04);
	assert_int_equal(raw[1], 0x05);
	p = buf_read_ptr(&r, 4);
	assert_ptr_equal(p, bytes16 + 5);
	assert_int_equal(r.off, 9);
}

static void
test_buf_read_high_bit_values(void **state)
{
	static const uint8_t ff[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe};
	struct buf_reader r;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	(void)state;
	buf_reader_init(&r, ff, 8);
	assert_int_equal(buf_read_u64(&r, &u64), 0);
	assert_true(u64 == 0xfffffffffffffffeull);
	buf_reader_init(&r, ff, 8);
	assert_int_equal(buf_read_u32(&r, &u32), 0);
	assert_int_equal(u32, 0xffffffffu);
	assert_int_equal(buf_read_u16(&r, &u16), 0);
	assert_int_equal(u16, 0xffff);
}

/* Reading exactly what remains works; one byte more fails, for every reader call. */
static void
test_buf_read_exact_boundary(void **state)
{
	static const size_t widths[] = {1, 2, 4, 8};
	uint8_t out[8];

	(void)state;
	for (size_t w = 0; w < 4; w++) {
		size_t n = widths[w];

		for (int kind = 0; kind < 4; kind++) {
			struct buf_reader ok, short_r;
			int rc_ok, rc_short;

			buf_reader_init(&ok, bytes16, n);
			buf_reader_init(&short_r, bytes16, n - 1);
			switch (kind) {
			case 0: /* the typed read of width n */
				if (n == 1) {
					rc_ok = buf_read_u8(&ok, out);
					rc_short = buf_read_u8(&short_r, out);
				} else if (n == 2) {
					uint16_t v;

					rc_ok = buf_read_u16(&ok, &v);
					rc_short = buf_read_u16(&short_r, &v);
				} else if (n == 4) {
					uint32_t v;

					rc_ok = buf_read_u32(&ok, &v);
					rc_short = buf_read_u32(&short_r, &v);
				} else {
					uint64_t v;

					rc_ok = buf_read_u64(&ok, &v);
					rc_short = buf_read_u64(&short_r, &v);
				}
				break;
			case 1:
				rc_ok = buf_read_bytes(&ok, out, n);
				rc_short = buf_read_bytes(&short_r, out, n);
				break;
			case 2:
				rc_ok = buf_skip(&ok, n);
				rc_short = buf_skip(&short_r, n);
				break;
			default:
				rc_ok = buf_read_ptr(&ok, n) != NULL ? 0 : -EBADMSG;
				rc_short = buf_read_ptr(&short_r, n) != NULL ? 0 : -EBADMSG;
				break;
			}
			assert_int_equal(rc_ok, 0);
			assert_false(ok.error);
			assert_int_equal(ok.off, n);
			assert_int_equal(buf_reader_remaining(&ok), 0);
			assert_int_equal(rc_short, -EBADMSG);
			assert_true(short_r.error);
			/* A failed read consumes nothing. */
			assert_int_equal(short_r.off, 0);
		}
	}
}

static void
test_buf_read_short_zeroes_out(void **state)
{
	struct buf_reader r;
	uint8_t u8 = 0xaa;
	uint16_t u16 = 0xaaaa;
	uint32_t u32 = 0xaaaaaaaa;
	uint64_t u64 = 1;

	(void)state;
	buf_reader_init(&r, bytes16, 0);
	assert_int_equal(buf_read_u8(&r, &u8), -EBADMSG);
	assert_int_equal(buf_read_u16(&r, &u16), -EBADMSG);
	assert_int_equal(buf_read_u32(&r, &u32), -EBADMSG);
	assert_int_equal(buf_read_u64(&r, &u64), -EBADMSG);
	assert_int_equal(u8, 0);
	assert_int_equal(u16, 0);
	assert_int_equal(u32, 0);
	assert_true(u64 == 0);
}

static void
test_buf_read_error_sticky(void **state)
{
	struct buf_reader r;
	uint32_t u32;
	uint8_t u8;

	(void)state;
	buf_reader_init(&r, bytes16, 3);
	assert_int_equal(buf_read_u32(&r, &u32), -EBADMSG);
	assert_true(r.error);
	/* A byte remains, but after an error every call fails and nothing moves. */
	assert_int_equal(buf_reader_remaining(&r), 0);
	assert_int_equal(buf_read_u8(&r, &u8), -EBADMSG);
	assert_int_equal(buf_skip(&r, 0), -EBADMSG);
	assert_null(buf_read_ptr(&r, 0));
	assert_int_equal(buf_read_bytes(&r, &u8, 0), -EBADMSG);
	assert_int_equal(r.off, 0);
	assert_true(r.error);
}

static void
test_buf_read_huge_length_no_overflow(void **state)
{
	struct buf_reader r;

	(void)state;
	buf_reader_init(&r, bytes16, sizeof(bytes16));
	assert_int_equal(buf_skip(&r, 4), 0);
	assert_null(buf_read_ptr(&r, SIZE_MAX));
	assert_true(r.error);
	buf_reader_init(&r, bytes16, sizeof(bytes16));
	assert_int_equal(buf_skip(&r, SIZE_MAX - 3), -EBADMSG);
	assert_int_equal(r.off, 0);
}

static void
test_buf_read_zero_length(void **state)
{
	struct buf_reader r, sub;

	(void)state;
	buf_reader_init(&r, bytes16, 2);
	assert_int_equal(buf_read_bytes(&r, NULL, 0), 0);
	assert_int_equal(buf_skip(&r, 0), 0);
	assert_ptr_equal(buf_read_ptr(&r, 0), bytes16);
	assert_int_equal(buf_read_sub(&r, 0, &sub), 0);
	assert_int_equal(buf_reader_remaining(&sub), 0);
	assert_false(sub.error);
	assert_int_equal(r.off, 0);
	/* At the very end a zero-length read still succeeds. */
	assert_int_equal(buf_skip(&r, 2), 0);
	assert_int_equal(buf_read_bytes(&r, NULL, 0), 0);
	assert_non_null(buf_read_ptr(&r, 0));
	assert_false(r.error);
}

/* A reader over NULL is empty: zero-length reads succeed, anything else fails. */
static void
test_buf_read_null_data(void **state)
{
	struct buf_reader r, sub;
	uint8_t u8;

	(void)state;
	buf_reader_init(&r, NULL, 100);
	assert_int_equal(r.len, 0);
	assert_int_equal(buf_reader_remaining(&r), 0);
	assert_int_equal(buf_skip(&r, 0), 0);
	assert_int_equal(buf_read_bytes(&r, NULL, 0), 0);
	assert_non_null(buf_read_ptr(&r, 0));
	assert_int_equal(buf_read_sub(&r, 0, &sub), 0);
	assert_false(sub.error);
	assert_false(r.error);
	assert_int_equal(buf_read_u8(&r, &u8), -EBADMSG);
	assert_true(r.error);
}

static void
test_buf_read_sub_bounds_and_advances(void **state)
{
	struct buf_reader r, sub, bad;
	uint32_t u32;
	uint16_t u16;
	uint8_t u8;

	(void)state;
	buf_reader_init(&r, bytes16, sizeof(bytes16));
	assert_int_equal(buf_skip(&r, 1), 0);
	assert_int_equal(buf_read_sub(&r, 5, &sub), 0);
	assert_int_equal(r.off, 6);
	assert_int_equal(buf_reader_remaining(&sub), 5);
	assert_int_equal(buf_read_u32(&sub, &u32), 0);
	assert_int_equal(u32, 0x02030405);
	/* The sub-reader stops at its own end even though the parent has more. */
	assert_int_equal(buf_read_u16(&sub, &u16), -EBADMSG);
	assert_true(sub.error);
	assert_false(r.error);
	assert_int_equal(buf_read_u8(&r, &u8), 0);
	assert_int_equal(u8, 0x07);

	/* Asking for more than the parent holds fails both, and the sub-reader is empty. */
	assert_int_equal(buf_read_sub(&r, 10, &bad), -EBADMSG);
	assert_true(bad.error);
	assert_true(r.error);
	assert_int_equal(buf_reader_remaining(&bad), 0);
	assert_int_equal(buf_read_u8(&bad, &u8), -EBADMSG);

	/* A sub-reader of exactly the rest. */
	buf_reader_init(&r, bytes16, sizeof(bytes16));
	assert_int_equal(buf_read_sub(&r, 16, &sub), 0);
	assert_int_equal(buf_reader_remaining(&r), 0);
	assert_int_equal(buf_skip(&sub, 15), 0);
	assert_int_equal(buf_read_u8(&sub, &u8), 0);
	assert_int_equal(u8, 0xf0);
}

static void
test_buf_write_every_type_big_endian(void **state)
{
	static const uint8_t want[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
	    0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0xaa, 0xbb};
	uint8_t out[sizeof(want)];
	struct buf_writer w;
	uint8_t two[2] = {0xaa, 0xbb};

	(void)state;
	memset(out, 0, sizeof(out));
	buf_writer_init(&w, out, sizeof(out));
	assert_int_equal(buf_writer_room(&w), sizeof(out));
	assert_int_equal(buf_write_u8(&w, 0x01), 0);
	assert_int_equal(buf_write_u16(&w, 0x0203), 0);
	assert_int_equal(buf_write_u32(&w, 0x04050607), 0);
	assert_int_equal(buf_write_u64(&w, 0x08090a0b0c0d0e0full), 0);
	assert_int_equal(buf_write_bytes(&w, two, 2), 0);
	assert_int_equal(w.off, sizeof(out));
	assert_int_equal(buf_writer_room(&w), 0);
	assert_false(w.error);
	assert_memory_equal(out, want, sizeof(want));
}

static void
test_buf_write_exact_boundary_and_sticky(void **state)
{
	uint8_t out[8];
	struct buf_writer w;

	(void)state;
	for (size_t n = 1; n <= 8; n *= 2) {
		for (int fits = 0; fits < 2; fits++) {
			int rc;

			memset(out, 0xee, sizeof(out));
			buf_writer_init(&w, out, fits ? n : n - 1);
			switch (n) {
			case 1:
				rc = buf_write_u8(&w, 0x11);
				break;
			case 2:
				rc = buf_write_u16(&w, 0x1122);
				break;
			case 4:
				rc = buf_write_u32(&w, 0x11223344);
				break;
			default:
				rc = buf_write_u64(&w, 0x1122334455667788ull);
				break;
			}
			if (fits) {
				assert_int_equal(rc, 0);
				assert_int_equal(out[0], 0x11);
				assert_int_equal(buf_writer_room(&w), 0);
				assert_false(w.error);
			} else {
				assert_int_equal(rc, -ENOBUFS);
				assert_true(w.error);
				assert_int_equal(w.off, 0);
				/* Nothing was written, not even the bytes that would fit. */
				assert_int_equal(out[0], 0xee);
			}
		}
	}

	buf_writer_init(&w, out, 3);
	assert_int_equal(buf_write_u32(&w, 1), -ENOBUFS);
	assert_int_equal(buf_writer_room(&w), 0);
	assert_int_equal(buf_write_u8(&w, 1), -ENOBUFS);
	assert_int_equal(buf_write_bytes(&w, out, 0), -ENOBUFS);
	assert_null(buf_write_reserve(&w, 0));
	assert_int_equal(w.off, 0);
}

static void
test_buf_write_reserve_fill_later(void **state)
{
	uint8_t out[8] = {0};
	struct buf_writer w;
	uint8_t *len_field;

	(void)state;
	buf_writer_init(&w, out, sizeof(out));
	len_field = buf_write_reserve(&w, 2);
	assert_ptr_equal(len_field, out);
	assert_int_equal(buf_write_u32(&w, 0xdeadbeef), 0);
	buf_store_be16(len_field, (uint16_t)(w.off - 2));
	assert_int_equal(buf_load_be16(out), 4);
	assert_int_equal(buf_load_be32(out + 2), 0xdeadbeef);
	/* Reserving exactly the room left works; one more byte does not. */
	assert_non_null(buf_write_reserve(&w, 2));
	assert_int_equal(buf_writer_room(&w), 0);
	assert_null(buf_write_reserve(&w, 1));
	assert_true(w.error);

	buf_writer_init(&w, out, sizeof(out));
	assert_null(buf_write_reserve(&w, SIZE_MAX));
	assert_true(w.error);
}

static void
test_buf_write_zero_length_and_null(void **state)
{
	uint8_t out[2];
	struct buf_writer w;

	(void)state;
	buf_writer_init(&w, out, sizeof(out));
	assert_int_equal(buf_write_bytes(&w, NULL, 0), 0);
	assert_non_null(buf_write_reserve(&w, 0));
	assert_int_equal(w.off, 0);

	/* A writer over NULL has no room: zero-length writes succeed, anything else fails. */
	buf_writer_init(&w, NULL, 64);
	assert_int_equal(w.cap, 0);
	assert_int_equal(buf_writer_room(&w), 0);
	assert_int_equal(buf_write_bytes(&w, NULL, 0), 0);
	assert_non_null(buf_write_reserve(&w, 0));
	assert_false(w.error);
	assert_int_equal(buf_write_u8(&w, 1), -ENOBUFS);
	assert_true(w.error);
}

static void
test_buf_load_store_helpers(void **state)
{
	uint8_t b[4];

	(void)state;
	buf_store_be16(b, 0xa1b2);
	assert_int_equal(b[0], 0xa1);
	assert_int_equal(b[1], 0xb2);
	assert_int_equal(buf_load_be16(b), 0xa1b2);
	buf_store_be32(b, 0xf1e2d3c4);
	assert_int_equal(b[0], 0xf1);
	assert_int_equal(b[3], 0xc4);
	assert_int_equal(buf_load_be32(b), 0xf1e2d3c4);
}

/*
 * Randomized roundtrip: random typed writes into a random-size buffer, then the same
 * reads back. The model predicts where the writer fills and the reader runs short.
 */
struct op {
	int kind; /* 0 u8, 1 u16, 2 u32, 3 u64, 4 bytes */
	size_t n;
	uint64_t v;
	uint8_t bytes[24];
};

static const size_t op_width[] = {1, 2, 4, 8};

static void
test_buf_random_roundtrip(void **state)
{
	uint64_t rng = test_seed();

	(void)state;
	for (unsigned iter = 0; iter < 5000; iter++) {
		struct op ops[16];
		size_t cap = test_rand_below(&rng, 96), used = 0, fit = 0;
		size_t nops = 1 + test_rand_below(&rng, 16);
		uint8_t *mem = malloc(cap > 0 ? cap : 1);
		struct buf_writer w;
		struct buf_reader r;

		assert_non_null(mem);
		buf_writer_init(&w, mem, cap);
		for (size_t i = 0; i < nops; i++) {
			struct op *o = &ops[i];
			int rc;

			o->kind = (int)test_rand_below(&rng, 5);
			o->v = test_rand(&rng);
			o->n = o->kind < 4 ? op_width[o->kind] :
			                     test_rand_below(&rng, sizeof(o->bytes));
			for (size_t j = 0; j < sizeof(o->bytes); j++)
				o->bytes[j] = (uint8_t)test_rand(&rng);
			switch (o->kind) {
			case 0:
				rc = buf_write_u8(&w, (uint8_t)o->v);
				break;
			case 1:
				rc = buf_write_u16(&w, (uint16_t)o->v);
				break;
			case 2:
				rc = buf_write_u32(&w, (uint32_t)o->v);
				break;
			case 3:
				rc = buf_write_u64(&w, o->v);
				break;
			default:
				rc = buf_write_bytes(&w, o->bytes, o->n);
				break;
			}
			/* Model: a write fits iff no earlier one failed and it fits the room. */
			if (fit == i && used + o->n <= cap) {
				assert_int_equal(rc, 0);
				used += o->n;
				fit++;
			} else {
				assert_int_equal(rc, -ENOBUFS);
			}
			assert_int_equal(w.off, used);
		}
		/* Read back over exactly what was written: the fitting ops succeed, then errors. */
		buf_reader_init(&r, mem, used);
		for (size_t i = 0; i < nops; i++) {
			const struct op *o = &ops[i];
			uint64_t got = 0;
			uint8_t raw[24];
			int rc;

			switch (o->kind) {
			case 0: {
				uint8_t v;

				rc = buf_read_u8(&r, &v);
				got = v;
				break;
			}
			case 1: {
				uint16_t v;

				rc = buf_read_u16(&r, &v);
				got = v;
				break;
			}
			case 2: {
				uint32_t v;

				rc = buf_read_u32(&r, &v);
				got = v;
				break;
			}
			case 3:
				rc = buf_read_u64(&r, &got);
				break;
			default:
				rc = buf_read_bytes(&r, raw, o->n);
				break;
			}
			if (i < fit) {
				assert_int_equal(rc, 0);
				if (o->kind < 4) {
					uint64_t mask =
					    o->n == 8 ? UINT64_MAX : (1ull << (8 * o->n)) - 1;

					assert_true(got == (o->v & mask));
				} else if (o->n > 0) {
					assert_memory_equal(raw, o->bytes, o->n);
				}
			} else {
				/* The op that did not fit has n > 0 and finds nothing left; then
				 * sticky. */
				assert_int_equal(rc, -EBADMSG);
			}
		}
		assert_int_equal(r.off, used);
		free(mem);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_buf_read_every_type_big_endian),
	    cmocka_unit_test(test_buf_read_high_bit_values),
	    cmocka_unit_test(test_buf_read_exact_boundary),
	    cmocka_unit_test(test_buf_read_short_zeroes_out),
	    cmocka_unit_test(test_buf_read_error_sticky),
	    cmocka_unit_test(test_buf_read_huge_length_no_overflow),
	    cmocka_unit_test(test_buf_read_zero_length),
	    cmocka_unit_test(test_buf_read_null_data),
	    cmocka_unit_test(test_buf_read_sub_bounds_and_advances),
	    cmocka_unit_test(test_buf_write_every_type_big_endian),
	    cmocka_unit_test(test_buf_write_exact_boundary_and_sticky),
	    cmocka_unit_test(test_buf_write_reserve_fill_later),
	    cmocka_unit_test(test_buf_write_zero_length_and_null),
	    cmocka_unit_test(test_buf_load_store_helpers),
	    cmocka_unit_test(test_buf_random_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
