/*
 * Unit tests of svr/svr_ctrl: TV7 byte for byte, every control value both ways, extra
 * fields, and the rejections that make a block not a control message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "svr/svr_ctrl.h"

static const enum svr_control all_controls[] = {SVR_CONTROL_KEEPALIVE, SVR_CONTROL_ENABLE_META,
    SVR_CONTROL_DISABLE_META, SVR_CONTROL_DELETE_SESSION, SVR_CONTROL_HEALTH_STATE_EXISTS};

static void
test_svr_ctrl_encode_tv7_keepalive(void **state)
{
	static const uint8_t tv7[] = {0x4c, 0x48, 0xdb, 0xc6, 0xdd, 0xf6, 0x67, 0x0c, 0x10, 0x11,
	    0x00, 0x00, 0x00, 0x18, 0x00, 0x01, 0x01};
	uint8_t out[64];
	size_t len = 0;
	struct svr_meta m;
	enum pkt_drop_reason reason;

	(void)state;
	assert_int_equal(svr_ctrl_encode(SVR_CONTROL_KEEPALIVE, NULL, out, sizeof(out), &len), 0);
	assert_int_equal(len, sizeof(tv7));
	assert_memory_equal(out, tv7, sizeof(tv7));
	assert_int_equal(svr_ctrl_decode(tv7, sizeof(tv7), &m, &reason), 0);
	assert_true(svr_meta_is_control(&m));
	assert_int_equal(m.control, SVR_CONTROL_KEEPALIVE);
	assert_int_equal(m.present, SVR_META_F_CONTROL);
}

static void
test_svr_ctrl_encode_each_value_roundtrips(void **state)
{
	uint8_t out[64];
	size_t len;
	struct svr_meta m;
	enum pkt_drop_reason reason;

	(void)state;
	for (size_t i = 0; i < sizeof(all_controls) / sizeof(all_controls[0]); i++) {
		assert_true(svr_control_is_valid((uint8_t)all_controls[i]));
		assert_int_equal(svr_ctrl_encode(all_controls[i], NULL, out, sizeof(out), &len), 0);
		assert_int_equal(len, 17);
		assert_int_equal(out[16], all_controls[i]);
		assert_int_equal(svr_ctrl_decode(out, len, &m, &reason), 0);
		assert_int_equal(m.control, all_controls[i]);
		assert_string_not_equal(svr_control_name(m.control), "unknown");
	}
}

static void
test_svr_ctrl_encode_invalid_value_refused(void **state)
{
	static const unsigned bad[] = {0, 4, 5, 7, 9, 255, 256, 257};
	uint8_t out[64];
	size_t len = 99;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(svr_ctrl_encode((enum svr_control)bad[i], NULL, out, sizeof(out),
		                     &len),
		    -EINVAL);
	assert_int_equal(len, 99);
	assert_int_equal(svr_ctrl_encode(SVR_CONTROL_KEEPALIVE, NULL, out, 16, &len), -ENOBUFS);
}

static void
test_svr_ctrl_encode_extra_fields_carried(void **state)
{
	struct svr_meta extra = {0}, m;
	uint8_t out[128];
	size_t len;
	enum pkt_drop_reason reason;

	(void)state;
	extra.present = SVR_META_F_UUID | SVR_META_F_DISABLE_FWD_META | SVR_META_F_CONTROL;
	extra.control = 99; /* replaced by the value asked for */
	memset(extra.uuid, 0xab, sizeof(extra.uuid));
	assert_int_equal(svr_ctrl_encode(SVR_CONTROL_DISABLE_META, &extra, out, sizeof(out), &len),
	    0);
	assert_int_equal(svr_ctrl_decode(out, len, &m, &reason), 0);
	assert_int_equal(m.present, extra.present);
	assert_int_equal(m.control, SVR_CONTROL_DISABLE_META);
	assert_memory_equal(m.uuid, extra.uuid, sizeof(m.uuid));
	/* The caller's struct is not changed. */
	assert_int_equal(extra.control, 99);
	extra.present |= 1u << 30;
	assert_int_equal(svr_ctrl_encode(SVR_CONTROL_DISABLE_META, &extra, out, sizeof(out), &len),
	    -EINVAL);
}

static void
test_svr_ctrl_decode_not_control_rejected(void **state)
{
	struct svr_meta plain = {0}, m, before;
	uint8_t out[128];
	size_t len;
	enum pkt_drop_reason reason = PKT_DROP_COUNT;

	(void)state;
	/* A metadata block without TLV 24 is not a control message. */
	plain.present = SVR_META_F_DISABLE_FWD_META;
	assert_int_equal(svr_meta_encode(&plain, out, sizeof(out), &len), 0);
	assert_int_equal(svr_ctrl_decode(out, len, &m, &reason), -EBADMSG);
	assert_int_equal(reason, PKT_DROP_META_BAD_CONTROL);
	assert_false(svr_meta_is_control(&m));
	/* An unknown control value. */
	plain.present = SVR_META_F_CONTROL;
	plain.control = 4;
	assert_int_equal(svr_meta_encode(&plain, out, sizeof(out), &len), 0);
	reason = PKT_DROP_COUNT;
	assert_int_equal(svr_ctrl_decode(out, len, &m, &reason), -EBADMSG);
	assert_int_equal(reason, PKT_DROP_META_BAD_CONTROL);
	assert_true(svr_meta_is_control(&m));
	/* Bytes after the block. */
	assert_int_equal(svr_ctrl_encode(SVR_CONTROL_KEEPALIVE, NULL, out, sizeof(out), &len), 0);
	out[len] = 0;
	reason = PKT_DROP_COUNT;
	assert_int_equal(svr_ctrl_decode(out, len + 1, &m, &reason), -EBADMSG);
	assert_int_equal(reason, PKT_DROP_META_BAD_CONTROL);
	/* Malformed metadata keeps its own reason. */
	out[9] = 0x12;
	assert_int_equal(svr_ctrl_decode(out, len, &m, &reason), -EBADMSG);
	assert_int_equal(reason, PKT_DROP_META_TOO_LONG);
	/* No cookie: not metadata at all, m untouched. */
	out[0] ^= 1;
	memset(&m, 0x5a, sizeof(m));
	before = m;
	assert_int_equal(svr_ctrl_decode(out, len, &m, &reason), -ENOMSG);
	assert_memory_equal(&m, &before, sizeof(m));
	assert_string_equal(pkt_drop_reason_name(PKT_DROP_META_BAD_CONTROL), "meta-bad-control");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_svr_ctrl_encode_tv7_keepalive),
	    cmocka_unit_test(test_svr_ctrl_encode_each_value_roundtrips),
	    cmocka_unit_test(test_svr_ctrl_encode_invalid_value_refused),
	    cmocka_unit_test(test_svr_ctrl_encode_extra_fields_carried),
	    cmocka_unit_test(test_svr_ctrl_decode_not_control_rejected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
