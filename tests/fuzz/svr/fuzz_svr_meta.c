/*
 * Fuzz target for the SVR metadata decoder (and the control decoder on top of it).
 *
 * Invariants checked with abort(): an accepted block lies inside the input and every
 * borrowed pointer points inside it; the decoded fields re-encode without error, to a
 * block no longer than the input's (unknown TLVs are dropped); that block decodes to the
 * same fields and re-encodes to the same bytes (canonical form); a control message is
 * accepted only when the metadata decode says it is one and fills the input.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "svr/svr_ctrl.h"
#include "svr/svr_meta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A header length of 4095 and a payload length of 65535 bound every decodable block. */
#define FUZZ_BLOCK_MAX (0xfff + 0xffff)

static uint8_t fuzz_enc1[FUZZ_BLOCK_MAX], fuzz_enc2[FUZZ_BLOCK_MAX];

static void
fuzz_check_inside(const void *p, size_t n, const uint8_t *data, size_t block_len)
{
	const uint8_t *b = p;

	if (n == 0)
		return;
	if (b == NULL || b < data || b + n > data + block_len)
		abort();
}

static void
fuzz_check_borrowed(const struct svr_meta *m, const uint8_t *data, size_t block_len)
{
	const struct svr_str *strs[] = {&m->tenant, &m->service, &m->source_router,
	    &m->security_policy, &m->dest_router, &m->peer_path_id, &m->application};

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		fuzz_check_inside(strs[i]->ptr, strs[i]->len, data, block_len);
	if (m->present & SVR_META_F_MCAST_EGRESS_LIST)
		fuzz_check_inside(m->mcast_egress_list, m->mcast_egress_list_len, data, block_len);
}

static void
fuzz_check_control(const uint8_t *data, size_t size, int meta_rc, const struct svr_meta *m,
    size_t block_len)
{
	enum pkt_drop_reason reason;
	struct svr_meta c;
	int rc = svr_ctrl_decode(data, size, &c, &reason);

	if (rc == 0 &&
	    (meta_rc != 0 || !svr_meta_is_control(m) || !svr_control_is_valid(m->control) ||
	        block_len != size || !svr_meta_equal(&c, m)))
		abort();
	if (rc == -ENOMSG && meta_rc != -ENOMSG)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct svr_meta m, back, again;
	enum pkt_drop_reason reason = PKT_DROP_COUNT;
	size_t block_len = 0, len1, len2, back_len;
	int rc;

	rc = svr_meta_decode(data, size, &m, &block_len, &reason);
	fuzz_check_control(data, size, rc, &m, block_len);
	if (rc == -EBADMSG && (unsigned)reason >= PKT_DROP_COUNT)
		abort();
	if (rc != 0)
		return 0;
	if (block_len < SVR_META_FIXED_LEN || block_len > size ||
	    svr_meta_header_len(data) + svr_meta_payload_len(data) != block_len)
		abort();
	fuzz_check_borrowed(&m, data, block_len);

	if (svr_meta_encode(&m, fuzz_enc1, sizeof(fuzz_enc1), &len1) != 0 || len1 > block_len)
		abort();
	if (svr_meta_decode(fuzz_enc1, len1, &back, &back_len, &reason) != 0 || back_len != len1)
		abort();
	if (!svr_meta_equal(&back, &m) || !svr_meta_equal(&m, &back))
		abort();
	if (svr_meta_encode(&back, fuzz_enc2, sizeof(fuzz_enc2), &len2) != 0 || len2 != len1 ||
	    memcmp(fuzz_enc1, fuzz_enc2, len1) != 0)
		abort();
	if (svr_meta_decode(fuzz_enc2, len2, &again, &back_len, &reason) != 0 ||
	    !svr_meta_equal(&again, &m))
		abort();
	return 0;
}
