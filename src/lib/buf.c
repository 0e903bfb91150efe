/* Bounds-checked byte readers and writers; see buf.h for the contract. */
#include "lib/buf.h"

#include <errno.h>
#include <string.h>

/*
 * What a zero-length read or write of a NULL-backed (empty) buffer returns: it must
 * succeed like any zero-length access, so not NULL, and NULL + 0 is undefined in C.
 * Nothing is ever read from or written to it.
 */
static uint8_t buf_empty[1];

void
buf_reader_init(struct buf_reader *r, const void *data, size_t len)
{
	r->data = data;
	r->len = data != NULL ? len : 0;
	r->off = 0;
	r->error = false;
}

size_t
buf_reader_remaining(const struct buf_reader *r)
{
	return r->error ? 0 : r->len - r->off;
}

const uint8_t *
buf_read_ptr(struct buf_reader *r, size_t n)
{
	const uint8_t *p;

	if (r->error || n > r->len - r->off) {
		r->error = true;
		return NULL;
	}
	if (r->data == NULL)
		return buf_empty;
	p = r->data + r->off;
	r->off += n;
	return p;
}

int
buf_read_u8(struct buf_reader *r, uint8_t *out)
{
	const uint8_t *p = buf_read_ptr(r, 1);

	*out = p != NULL ? p[0] : 0;
	return p != NULL ? 0 : -EBADMSG;
}

int
buf_read_u16(struct buf_reader *r, uint16_t *out)
{
	const uint8_t *p = buf_read_ptr(r, 2);

	*out = p != NULL ? buf_load_be16(p) : 0;
	return p != NULL ? 0 : -EBADMSG;
}

int
buf_read_u32(struct buf_reader *r, uint32_t *out)
{
	const uint8_t *p = buf_read_ptr(r, 4);

	*out = p != NULL ? buf_load_be32(p) : 0;
	return p != NULL ? 0 : -EBADMSG;
}

int
buf_read_u64(struct buf_reader *r, uint64_t *out)
{
	const uint8_t *p = buf_read_ptr(r, 8);

	*out = p != NULL ? (uint64_t)buf_load_be32(p) << 32 | buf_load_be32(p + 4) : 0;
	return p != NULL ? 0 : -EBADMSG;
}

int
buf_read_bytes(struct buf_reader *r, void *out, size_t n)
{
	const uint8_t *p = buf_read_ptr(r, n);

	if (p == NULL)
		return -EBADMSG;
	if (n > 0)
		memcpy(out, p, n);
	return 0;
}

int
buf_skip(struct buf_reader *r, size_t n)
{
	return buf_read_ptr(r, n) != NULL ? 0 : -EBADMSG;
}

int
buf_read_sub(struct buf_reader *r, size_t n, struct buf_reader *sub)
{
	const uint8_t *p = buf_read_ptr(r, n);

	buf_reader_init(sub, p, p != NULL ? n : 0);
	if (p == NULL) {
		sub->error = true;
		return -EBADMSG;
	}
	return 0;
}

void
buf_writer_init(struct buf_writer *w, void *data, size_t cap)
{
	w->data = data;
	w->cap = data != NULL ? cap : 0;
	w->off = 0;
	w->error = false;
}

size_t
buf_writer_room(const struct buf_writer *w)
{
	return w->error ? 0 : w->cap - w->off;
}

uint8_t *
buf_write_reserve(struct buf_writer *w, size_t n)
{
	uint8_t *p;

	if (w->error || n > w->cap - w->off) {
		w->error = true;
		return NULL;
	}
	if (w->data == NULL)
		return buf_empty;
	p = w->data + w->off;
	w->off += n;
	return p;
}

int
buf_write_u8(struct buf_writer *w, uint8_t v)
{
	uint8_t *p = buf_write_reserve(w, 1);

	if (p == NULL)
		return -ENOBUFS;
	p[0] = v;
	return 0;
}

int
buf_write_u16(struct buf_writer *w, uint16_t v)
{
	uint8_t *p = buf_write_reserve(w, 2);

	if (p == NULL)
		return -ENOBUFS;
	buf_store_be16(p, v);
	return 0;
}

int
buf_write_u32(struct buf_writer *w, uint32_t v)
{
	uint8_t *p = buf_write_reserve(w, 4);

	if (p == NULL)
		return -ENOBUFS;
	buf_store_be32(p, v);
	return 0;
}

int
buf_write_u64(struct buf_writer *w, uint64_t v)
{
	uint8_t *p = buf_write_reserve(w, 8);

	if (p == NULL)
		return -ENOBUFS;
	buf_store_be32(p, (uint32_t)(v >> 32));
	buf_store_be32(p + 4, (uint32_t)v);
	return 0;
}

int
buf_write_bytes(struct buf_writer *w, const void *src, size_t n)
{
	uint8_t *p = buf_write_reserve(w, n);

	if (p == NULL)
		return -ENOBUFS;
	if (n > 0)
		memcpy(p, src, n);
	return 0;
}
