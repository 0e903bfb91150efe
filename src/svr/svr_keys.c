/* Per-peer key slots; see svr_keys.h for the contract. */
#include "svr/svr_keys.h"

#include <errno.h>
#include <string.h>

void
svr_peer_keys_init(struct svr_peer_keys *k)
{
	memset(k, 0, sizeof(*k));
}

static struct crypto_aead *
svr_recv_slot_take(struct svr_recv_key *r)
{
	struct crypto_aead *old = r->aead;

	r->aead = NULL;
	r->index = 0;
	r->age = 0;
	return old;
}

struct crypto_aead *
svr_peer_keys_install_recv(struct svr_peer_keys *k, uint32_t index, struct crypto_aead *aead)
{
	struct svr_recv_key *slot = NULL;
	struct crypto_aead *old;
	unsigned i;

	/* Same index first, then the same selector byte, then free, then the oldest. */
	for (i = 0; i < SVR_KEYS_RECV_SLOTS && slot == NULL; i++)
		if (k->recv[i].aead != NULL && k->recv[i].index == index)
			slot = &k->recv[i];
	for (i = 0; i < SVR_KEYS_RECV_SLOTS && slot == NULL; i++)
		if (k->recv[i].aead != NULL && (uint8_t)k->recv[i].index == (uint8_t)index)
			slot = &k->recv[i];
	for (i = 0; i < SVR_KEYS_RECV_SLOTS && slot == NULL; i++)
		if (k->recv[i].aead == NULL)
			slot = &k->recv[i];
	if (slot == NULL) {
		slot = &k->recv[0];
		for (i = 1; i < SVR_KEYS_RECV_SLOTS; i++)
			if (k->recv[i].age < slot->age)
				slot = &k->recv[i];
	}
	old = svr_recv_slot_take(slot);
	slot->aead = aead;
	slot->index = index;
	slot->age = ++k->age_next;
	crypto_replay_init(&slot->replay);
	k->stats.recv_installs++;
	return old;
}

struct crypto_aead *
svr_peer_keys_install_send(struct svr_peer_keys *k, uint32_t peer_index, struct crypto_aead *aead)
{
	struct crypto_aead *old = k->send.aead;

	k->send.aead = aead;
	k->send.peer_index = peer_index;
	k->send.next_seq = 0;
	k->stats.send_installs++;
	return old;
}

struct crypto_aead *
svr_peer_keys_expire_recv(struct svr_peer_keys *k, uint32_t index)
{
	struct svr_recv_key *r = svr_peer_keys_find_recv(k, index);

	return r != NULL ? svr_recv_slot_take(r) : NULL;
}

void
svr_peer_keys_clear(struct svr_peer_keys *k, struct crypto_aead *freed[SVR_KEYS_CTX_MAX],
    unsigned *n)
{
	unsigned i, count = 0;

	if (k->send.aead != NULL)
		freed[count++] = k->send.aead;
	k->send.aead = NULL;
	k->send.peer_index = 0;
	k->send.next_seq = 0;
	for (i = 0; i < SVR_KEYS_RECV_SLOTS; i++)
		if (k->recv[i].aead != NULL)
			freed[count++] = svr_recv_slot_take(&k->recv[i]);
	*n = count;
}

void
svr_peer_keys_fini(struct svr_peer_keys *k)
{
	struct crypto_aead *freed[SVR_KEYS_CTX_MAX];
	unsigned n, i;

	svr_peer_keys_clear(k, freed, &n);
	for (i = 0; i < n; i++)
		crypto_aead_free(freed[i]);
}

struct svr_recv_key *
svr_peer_keys_find_recv(struct svr_peer_keys *k, uint32_t index)
{
	unsigned i;

	for (i = 0; i < SVR_KEYS_RECV_SLOTS; i++)
		if (k->recv[i].aead != NULL && k->recv[i].index == index)
			return &k->recv[i];
	return NULL;
}

struct svr_recv_key *
svr_peer_keys_recv_by_counter(struct svr_peer_keys *k, uint64_t counter)
{
	uint8_t sel = (uint8_t)(counter >> SVR_KEYS_SEQ_BITS);
	unsigned i;

	for (i = 0; i < SVR_KEYS_RECV_SLOTS; i++)
		if (k->recv[i].aead != NULL && (uint8_t)k->recv[i].index == sel)
			return &k->recv[i];
	return NULL;
}

int
svr_peer_keys_seal(struct svr_peer_keys *k, const uint8_t *ad, size_t ad_len, uint8_t *data,
    size_t len, uint8_t trailer[CRYPTO_AEAD_TRAILER_LEN])
{
	uint64_t counter;
	int err;

	if (k->send.aead == NULL)
		return -ENOKEY;
	if (k->send.next_seq >= SVR_KEYS_SEQ_LIMIT)
		return -ERANGE;
	counter = ((uint64_t)(uint8_t)k->send.peer_index << SVR_KEYS_SEQ_BITS) | k->send.next_seq;
	err = crypto_aead_seal(k->send.aead, counter, ad, ad_len, data, len, trailer);
	if (err < 0)
		return err;
	/* Spent even if the caller drops the packet later: a nonce is never reused. */
	k->send.next_seq++;
	k->stats.sealed++;
	return 0;
}

int
svr_peer_keys_open(struct svr_peer_keys *k, struct svr_recv_key *r, const uint8_t *ad,
    size_t ad_len, uint8_t *data, size_t len, const uint8_t trailer[CRYPTO_AEAD_TRAILER_LEN])
{
	uint64_t counter = crypto_aead_trailer_counter(trailer);
	int err;

	err = crypto_replay_check(&r->replay, counter);
	if (err == -EALREADY || err == -ESTALE) {
		k->stats.replayed++;
		return err;
	}
	if (err < 0)
		goto auth_failed;
	err = crypto_aead_open(r->aead, ad, ad_len, data, len, trailer);
	if (err < 0)
		goto auth_failed;
	(void)crypto_replay_update(&r->replay, counter);
	k->stats.opened++;
	return 0;
auth_failed:
	k->stats.auth_failed++;
	return -EBADMSG;
}
