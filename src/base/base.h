/*
 * base.h: the ground floor every module stands on (private).
 *
 * Error reporting (cy_fail), the one allocation wrapper, a bounded growable
 * buffer, base64 and hex (both strict: a decoder that is lenient where a spec
 * is strict is a bug), RFC 3339 time and UUID v4.  Nothing here knows about
 * records, logs or HTTP.
 *
 * Internal naming: public symbols are comity_*, internal cross-file symbols
 * are cy_*, file-local functions are static and unprefixed.
 */
#ifndef COMITY_BASE_H
#define COMITY_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "comity.h"

#if defined(__GNUC__)
#define CY_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define CY_MUST_CHECK __attribute__((warn_unused_result))
#else
#define CY_PRINTF(a, b)
#define CY_MUST_CHECK
#endif

#define CY_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- errors ---------------------------------------------------------- */

/* Records `code` and a formatted one-line message in `err` (may be NULL) and
 * returns `code`, so that callers write `return cy_fail(err, ...)`.  If
 * `err` already carries a message from a deeper call, that message is kept
 * as a suffix: "reading key file: base64: bad character at byte 3". */
comity_err cy_fail(comity_error *err, comity_err code, const char *fmt, ...)
    CY_PRINTF(3, 4);

/* Prefixes the message already in `err` with context and returns its code.
 * With `err` NULL it returns cy_err_code(NULL): the code of the failure it
 * wraps, not COMITY_ERR_INTERNAL. */
comity_err cy_wrap(comity_error *err, const char *fmt, ...) CY_PRINTF(2, 3);

/* The code of the failure a callee just reported: err->code, or with `err`
 * NULL the code of this thread's latest cy_fail() (kept per thread for this
 * case); COMITY_ERR_INTERNAL if none is set.  For callers that learn of a
 * failure without its code (a NULL pointer, a bool) and must return one. */
comity_err cy_err_code(const comity_error *err);

/* Clears `err` (NULL is fine) and this thread's latest code. */
void cy_err_clear(comity_error *err);

/* ---- allocation ------------------------------------------------------ */

/* All heap memory goes through these so that failure can be counted and, in
 * tests, injected (cy_alloc_fail_after).  cy_free(NULL) is a no-op.
 * cy_free_secret wipes `len` bytes before releasing. */
void *cy_malloc(size_t n);
void *cy_calloc(size_t count, size_t n);
void *cy_realloc(void *p, size_t n);
char *cy_strdup(const char *s);
char *cy_strndup(const char *s, size_t n);
void cy_free(void *p);
void cy_free_secret(void *p, size_t len);

/* Test hook: the n-th allocation from now fails (0 disables). */
void cy_alloc_fail_after(long n);

/* Test hook: from cy_alloc_count_start on, the bytes asked of cy_malloc,
 * cy_calloc and cy_realloc (all threads) are added up, and
 * cy_alloc_counted gives the sum: what a request cost in allocations,
 * whatever it freed.  Off until started; one relaxed load otherwise. */
void cy_alloc_count_start(void);
size_t cy_alloc_counted(void);

/* ---- arena ----------------------------------------------------------- */

/* A region: many allocations, one release.  Zero-initialise the struct
 * ({0}); cy_arena_free releases every allocation and leaves it empty.
 * Allocations are aligned for any type; cy_arena_alloc does not zero. */
typedef struct cy_arena {
    struct cy_arena_chunk *head;
} cy_arena;

void *cy_arena_alloc(cy_arena *a, size_t n);
void *cy_arena_calloc(cy_arena *a, size_t n);
char *cy_arena_strdup(cy_arena *a, const char *s);
void cy_arena_free(cy_arena *a);

/* ---- bounded buffer -------------------------------------------------- */

/*
 * cy_buf: a growable byte buffer with a hard cap.  Invariants: `data` is
 * either NULL (len == 0) or points to at least len + 1 bytes with
 * data[len] == 0, so text can be used as a C string; len <= cap.  Appending
 * past `cap` fails with COMITY_ERR_TOOBIG and leaves the buffer unchanged.
 * The buffer owns `data`; cy_buf_detach hands it to the caller.
 */
typedef struct cy_buf {
    uint8_t *data;
    size_t len;
    size_t alloc;
    size_t cap;
} cy_buf;

void cy_buf_init(cy_buf *b, size_t cap);
comity_err cy_buf_append(cy_buf *b, const void *p, size_t n);
comity_err cy_buf_puts(cy_buf *b, const char *s);
comity_err cy_buf_printf(cy_buf *b, const char *fmt, ...) CY_PRINTF(2, 3);
comity_err cy_buf_reserve(cy_buf *b, size_t extra);
/* Returns the data (caller owns it, release with cy_free) and resets b. */
uint8_t *cy_buf_detach(cy_buf *b, size_t *len);
void cy_buf_reset(cy_buf *b);
/* Frees, wiping first (for buffers that held secrets). */
void cy_buf_free_secret(cy_buf *b);
void cy_buf_free(cy_buf *b);

/* ---- base64 ---------------------------------------------------------- */

enum cy_b64_variant {
    CY_B64_STD = 0,        /* RFC 4648 section 4, padded */
    CY_B64_STD_NOPAD = 1,  /* RFC 4648 section 4, no padding (age) */
    CY_B64_URL = 2,        /* RFC 4648 section 5, padded */
    CY_B64_URL_NOPAD = 3
};

/* Encoded length including the NUL. */
size_t cy_b64_encoded_len(size_t bin_len, enum cy_b64_variant v);
/* Encodes into `out` (at least cy_b64_encoded_len bytes); returns out. */
char *cy_b64_encode(char *out, size_t out_cap, const uint8_t *bin,
                    size_t bin_len, enum cy_b64_variant v);
/* Allocating form: caller owns the result (cy_free). NULL on OOM. */
char *cy_b64_encode_alloc(const uint8_t *bin, size_t bin_len,
                          enum cy_b64_variant v);
/*
 * Strict decode of exactly `len` characters: no whitespace, canonical only
 * (non-zero trailing bits refused), padding exactly as the variant says.
 * Writes at most out_cap bytes; *out_len gets the decoded length.
 */
comity_err cy_b64_decode(uint8_t *out, size_t out_cap, size_t *out_len,
                         const char *in, size_t len, enum cy_b64_variant v,
                         comity_error *err) CY_MUST_CHECK;
/* Decodes standard or URL-safe, padded or not (DSSE reads either); still
 * canonical.  Allocates *out, NUL-terminated (caller frees, cy_free). */
comity_err cy_b64_decode_any_alloc(uint8_t **out, size_t *out_len,
                                   const char *in, size_t len, size_t cap,
                                   comity_error *err) CY_MUST_CHECK;

/*
 * Fast decoders for PUBLIC data only (DSSE payloads and signatures, sealed
 * ciphertexts): table lookups, so their timing depends on the input; secrets
 * (keys, identities) must go through cy_b64_decode above, which is constant
 * time.  Exactly as strict as cy_b64_decode (tests/test_b64.c checks them
 * against libsodium): whole input, no whitespace, canonical trailing bits,
 * padding as the variant says.  Write at most out_cap bytes.
 */
comity_err cy_b64_decode_public(uint8_t *out, size_t out_cap, size_t *out_len,
                                const char *in, size_t len,
                                enum cy_b64_variant v,
                                comity_error *err) CY_MUST_CHECK;
/* Standard or URL-safe (not mixed), padded or not: what DSSE reads, and
 * what cy_b64_decode_any_alloc accepts. */
comity_err cy_b64_decode_public_any(uint8_t *out, size_t out_cap,
                                    size_t *out_len, const char *in,
                                    size_t len,
                                    comity_error *err) CY_MUST_CHECK;
/* Table-driven encoder for PUBLIC data only (a log's hashes in receipts):
 * the same output and contract as cy_b64_encode, in less time, but its
 * timing depends on the bytes; secrets go through cy_b64_encode. */
char *cy_b64_encode_public(char *out, size_t out_cap, const uint8_t *bin,
                           size_t bin_len, enum cy_b64_variant v);
/* The number of bytes that in[0..len) decodes to if it is well formed
 * (trailing '=' ignored), so that callers can size a buffer exactly. */
size_t cy_b64_decoded_len(const char *in, size_t len);

/* ---- UTF-8 ---------------------------------------------------------- */

/* Decodes one strict UTF-8 sequence at s[0..len) (len >= 1): its length,
 * or 0 when malformed (overlong, surrogate, > U+10FFFF, truncated). */
size_t cy_utf8_decode(const uint8_t *s, size_t len, uint32_t *cp);
/* Offset of the first byte that does not start a valid sequence, or len. */
size_t cy_utf8_check(const uint8_t *s, size_t len);

/* ---- hex ------------------------------------------------------------- */

/* Lowercase hex of `len` bytes into out (2*len+1 bytes). */
void cy_hex_encode(char *out, const uint8_t *bin, size_t len);
/* Strict: exactly 2*out_len characters, lowercase or uppercase. */
comity_err cy_hex_decode(uint8_t *out, size_t out_len, const char *in,
                         size_t in_len, comity_error *err) CY_MUST_CHECK;

/* ---- time ------------------------------------------------------------ */

/* Milliseconds since the Unix epoch, from the real clock, or from the
 * COMITY_FAKE_NOW environment variable (RFC 3339) when set, for tests. */
int64_t cy_now_ms(void);
/* Formats as "2026-11-23T06:40:00.000Z" (25 bytes incl. NUL). */
#define CY_TIME_BUF 25
void cy_time_format_ms(char out[CY_TIME_BUF], int64_t ms);
/* Parses RFC 3339.  With `strict_ms`, requires exactly the comity form
 * (UTC, Z, millisecond precision).  Otherwise accepts any fraction and a
 * numeric offset, as STIX timestamps need. */
comity_err cy_time_parse(const char *s, size_t len, bool strict_ms,
                         int64_t *ms, comity_error *err) CY_MUST_CHECK;

/* ---- uuid ------------------------------------------------------------ */

/* A fresh random UUID v4, lowercase, 36 chars + NUL. */
#define CY_UUID_BUF 37
void cy_uuid4(char out[CY_UUID_BUF]);
/* 1 when s[0..len) is a lowercase RFC 4122 UUID v4 (version 4, variant 10). */
bool cy_uuid4_valid(const char *s, size_t len);
/* 1 when s is any lowercase RFC 4122 UUID (STIX ids allow v5 too). */
bool cy_uuid_valid(const char *s, size_t len);

/* ---- log lines (log.c) --------------------------------------------------- */

typedef enum { CY_LOG_INFO, CY_LOG_WARN, CY_LOG_ERROR } cy_log_level;
/* One field of a log line: a string (NULL: null) or an integer (is_num). */
typedef struct cy_log_kv {
    const char *key;
    const char *str;
    long long num;
    bool is_num;
} cy_log_kv;
#define CY_KV_S(k, v) ((cy_log_kv){(k), (v), 0, false})
#define CY_KV_N(k, v) ((cy_log_kv){(k), NULL, (long long)(v), true})
/* Writes one line on stderr: "comity node: MSG" as text, or, after
 * comity_log_json(1), a JSON object with time, level, event (a fixed
 * dotted name), msg and the n fields kv (see log.c). */
void cy_log(cy_log_level level, const char *event, const cy_log_kv *kv, size_t n,
            const char *fmt, ...) CY_PRINTF(5, 6);
/* Whether lines are JSON (for a caller with a text format of its own). */
bool cy_log_is_json(void);

#endif /* COMITY_BASE_H */
