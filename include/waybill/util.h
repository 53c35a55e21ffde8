/*
 * waybill/util.h: bounded reader, capped builder, base64, hex, size math.
 *
 * The reader and builder follow BoringSSL's CBS/CBB habit: every byte that
 * comes from outside is read through wb_reader, whose get functions check the
 * remaining length first and return 1 on success, 0 when the input is short;
 * every output that grows is built in a wb_buf that has a maximum size and a
 * sticky error, so a caller checks once, at wb_buf_finish or wb_buf_error.
 *
 * base64 is RFC 4648 §4 (standard alphabet, padding required, canonical:
 * non-zero pad bits are rejected). hex is lowercase on output and accepts
 * only lowercase on input, so that an identifier has exactly one spelling.
 */
#ifndef WAYBILL_UTIL_H
#define WAYBILL_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* ---- overflow-checked size math: 0 on success, WB_E_LIMIT on overflow ---- */
int wb_size_add(size_t *out, size_t a, size_t b);
int wb_size_mul(size_t *out, size_t a, size_t b);

/* ---- bounded reader ---- */
typedef struct {
    const uint8_t *ptr;
    size_t len;
} wb_reader;

void wb_reader_init(wb_reader *r, const void *data, size_t len);
size_t wb_reader_left(const wb_reader *r);
int wb_reader_get_u8(wb_reader *r, uint8_t *out);
int wb_reader_get_u16be(wb_reader *r, uint16_t *out);
int wb_reader_get_u32be(wb_reader *r, uint32_t *out);
int wb_reader_get_u64be(wb_reader *r, uint64_t *out);
/* copies n bytes to out */
int wb_reader_copy(wb_reader *r, void *out, size_t n);
/* points *out at the next n bytes without copying and advances */
int wb_reader_get_bytes(wb_reader *r, const uint8_t **out, size_t n);
/* splits off the next n bytes as a sub-reader */
int wb_reader_get_sub(wb_reader *r, wb_reader *out, size_t n);
/* a sub-reader prefixed by a big-endian uint16 length */
int wb_reader_get_u16_prefixed(wb_reader *r, wb_reader *out);
int wb_reader_skip(wb_reader *r, size_t n);
/* splits off everything up to (not including) byte c and consumes c too;
 * 0 if c does not occur */
int wb_reader_get_until(wb_reader *r, wb_reader *out, uint8_t c);

/* ---- capped builder ---- */
typedef struct {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t max; /* hard maximum of len */
    int err;    /* sticky: first error code, 0 if none */
} wb_buf;

/* wb_buf_init prepares an empty buffer that may grow to max bytes. */
void wb_buf_init(wb_buf *b, size_t max);
/* wb_buf_cleanup frees the data; the buffer may be initialised again. */
void wb_buf_cleanup(wb_buf *b);
/* wb_buf_reset empties the buffer and clears the error, keeping memory. */
void wb_buf_reset(wb_buf *b);
int wb_buf_add(wb_buf *b, const void *p, size_t n);
int wb_buf_add_u8(wb_buf *b, uint8_t v);
int wb_buf_add_u16be(wb_buf *b, uint16_t v);
int wb_buf_add_u32be(wb_buf *b, uint32_t v);
int wb_buf_add_u64be(wb_buf *b, uint64_t v);
int wb_buf_add_str(wb_buf *b, const char *s);
int wb_buf_printf(wb_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* appends the base64 / lowercase hex form of p[0..n) */
int wb_buf_add_base64(wb_buf *b, const void *p, size_t n);
int wb_buf_add_hex(wb_buf *b, const void *p, size_t n);
/* reserves n bytes at the end, returns a pointer to them (NULL on error) */
uint8_t *wb_buf_extend(wb_buf *b, size_t n);
/* returns the sticky error (0 if none), with the message set */
int wb_buf_error(const wb_buf *b);
/*
 * wb_buf_finish hands the bytes to the caller (*out, *len; NUL-terminated one
 * past len for convenience; free with free()) and leaves b empty. Returns the
 * sticky error instead if there was one (and frees the data).
 */
int wb_buf_finish(wb_buf *b, uint8_t **out, size_t *len);

/* ---- base64 (RFC 4648 §4, padded) ---- */
size_t wb_base64_encoded_len(size_t n);
/* out must hold wb_base64_encoded_len(n)+1 bytes; NUL-terminated */
void wb_base64_encode(char *out, const void *p, size_t n);
/*
 * wb_base64_decode decodes exactly len characters of s into out (capacity
 * cap), writing the decoded length to *n. Rejects bad characters, missing or
 * extra padding, non-zero pad bits and output longer than cap: WB_E_INVALID.
 */
int wb_base64_decode(uint8_t *out, size_t cap, size_t *n, const char *s,
                     size_t len);

/* ---- hex (lowercase) ---- */
/* out must hold 2n+1 bytes; NUL-terminated */
void wb_hex_encode(char *out, const void *p, size_t n);
/* decodes exactly len characters (even, lowercase) into out of exactly
 * len/2 == n bytes */
int wb_hex_decode(uint8_t *out, size_t n, const char *s, size_t len);

/* ---- small parsing helpers ---- */
/*
 * wb_parse_u64 parses a decimal uint64 from exactly len characters: digits
 * only, no sign, no leading zeros (except "0" itself), no overflow.
 */
int wb_parse_u64(uint64_t *out, const char *s, size_t len);

/* constant-time comparison of n bytes: 1 if equal */
int wb_ct_equal(const void *a, const void *b, size_t n);

/* ---- files (file.c) ---- */
/*
 * wb_file_read reads a whole file of at most max bytes (malloc'd,
 * NUL-terminated). WB_E_NOTFOUND if missing, WB_E_LIMIT if larger than max.
 * path "-" reads standard input.
 */
int wb_file_read(const char *path, size_t max, uint8_t **data, size_t *len);
/*
 * wb_file_write_new creates path (refusing to overwrite: WB_E_EXISTS) with
 * the given mode, writes all of data, fsyncs the file and its directory.
 * On failure the partial file is removed.
 */
int wb_file_write_new(const char *path, const void *data, size_t len,
                      unsigned mode);
/*
 * wb_file_replace writes data to a temporary file beside path, fsyncs it and
 * renames it over path: readers see the old file or the new, never a part.
 */
int wb_file_replace(const char *path, const void *data, size_t len, unsigned mode);
/* fsync the directory containing path (or path itself if a directory) */
int wb_fsync_dir(const char *dir);

/*
 * wb_parallel_for runs fn(ctx, i) for i in [0, n) on threads threads (0
 * or more than n: capped), the calling thread waiting and calling
 * progress (may be NULL) with the count done every 200 ms and at the end.
 * The first non-zero return stops the rest and is returned with its
 * message; WB_E_INTERNAL if no thread could start.
 */
/*
 * wb_parse_listen reads a listen address, "ADDR:PORT" or "[v6addr]:PORT",
 * numeric (port 0: any free port), into *ss and *sl. WB_E_INVALID naming it.
 */
struct sockaddr_storage;
int wb_parse_listen(struct sockaddr_storage *ss, socklen_t *sl, const char *listen);

int wb_parallel_for(unsigned threads, size_t n, int (*fn)(void *ctx, size_t i), void *ctx,
                    void (*progress)(void *pctx, size_t done, size_t total), void *pctx);

#endif
