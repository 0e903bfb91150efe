/*
 * Bounds-checked readers and writers over byte buffers, for every wire decoder and
 * encoder in Tern (packets, SVR metadata, probes, control messages).
 *
 * Invariants: a reader never reads past data + len; a writer never writes past
 * data + cap. Integers on the wire are big-endian (network order).
 *
 * Errors are sticky: after the first short read (or full write) every later call
 * fails too and `error` stays set, so a decoder may read a whole fixed header and
 * check once. Each call also returns 0 or a negative errno (-EBADMSG for a short
 * read, -ENOBUFS for a full writer) for code that checks every step.
 *
 * Threads: a reader or writer belongs to its caller; no shared state.
 */
#ifndef TERN_LIB_BUF_H
#define TERN_LIB_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf_reader {
	const uint8_t *data;
	size_t len;
	size_t off;
	bool error;
};

struct buf_writer {
	uint8_t *data;
	size_t cap;
	size_t off;
	bool error;
};

void buf_reader_init(struct buf_reader *r, const void *data, size_t len);
size_t buf_reader_remaining(const struct buf_reader *r);
/* Borrowed pointer to the next n bytes, advancing past them; NULL if fewer remain. */
const uint8_t *buf_read_ptr(struct buf_reader *r, size_t n);
int buf_read_u8(struct buf_reader *r, uint8_t *out);
int buf_read_u16(struct buf_reader *r, uint16_t *out);
int buf_read_u32(struct buf_reader *r, uint32_t *out);
int buf_read_u64(struct buf_reader *r, uint64_t *out);
int buf_read_bytes(struct buf_reader *r, void *out, size_t n);
int buf_skip(struct buf_reader *r, size_t n);
/* A sub-reader over the next n bytes; the parent advances past them. */
int buf_read_sub(struct buf_reader *r, size_t n, struct buf_reader *sub);

void buf_writer_init(struct buf_writer *w, void *data, size_t cap);
size_t buf_writer_room(const struct buf_writer *w);
/* Reserve n bytes to fill later (e.g. a length field); NULL if they do not fit. */
uint8_t *buf_write_reserve(struct buf_writer *w, size_t n);
int buf_write_u8(struct buf_writer *w, uint8_t v);
int buf_write_u16(struct buf_writer *w, uint16_t v);
int buf_write_u32(struct buf_writer *w, uint32_t v);
int buf_write_u64(struct buf_writer *w, uint64_t v);
int buf_write_bytes(struct buf_writer *w, const void *src, size_t n);

/* Unaligned big-endian loads and stores for code that already checked the bounds. */
static inline uint16_t
buf_load_be16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t
buf_load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void
buf_store_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
buf_store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif
