/*
 * json.h: a strict, fast, zero-copy JSON reader (private).
 *
 * cy_json_parse checks a buffer against RFC 8259 exactly (no trailing
 * commas, no leading zeros, no NaN or Infinity, no control characters or
 * invalid escapes or unpaired surrogates in strings, valid UTF-8, nothing
 * after the value but whitespace), refuses duplicate keys in an object, and
 * produces a flat array of tokens over the caller's buffer: nothing is
 * copied or unescaped until a caller asks for it.  It exists for the paths
 * where jansson's tree building costs more than the signature check it
 * guards (DSSE envelopes, record payloads); jansson stays everywhere else.
 *
 * Tokens are in document order.  An object's children are key, value, key,
 * value...; an array's are its elements.  Each token knows the index just
 * past its subtree (`next`), so skipping a value is O(1):
 *
 *     for (uint32_t c = t + 1, i = 0; i < j.toks[t].size; i++, c = j.toks[c].next)
 *
 * walks the elements of array t (for an object, c is a key and c + 1 its
 * value).  Token 0 is the root.
 *
 * Limits: input length below CY_JSON_MAX_LEN and at most `max_tokens`
 * tokens (CY_JSON_MAX_TOKENS at most), refused with COMITY_ERR_TOOBIG;
 * nesting depth at most CY_JSON_MAX_DEPTH, refused with COMITY_ERR_INVALID
 * (a shape, not a size: "input exceeds a size cap" would be untrue of a
 * short text).  Never truncated.
 */
#ifndef COMITY_BASE_JSON_H
#define COMITY_BASE_JSON_H

#include "base/base.h"

#define CY_JSON_MAX_DEPTH 128          /* nested arrays/objects */
#define CY_JSON_MAX_TOKENS (1u << 20)  /* tokens in one parse (20 MiB) */
#define CY_JSON_MAX_LEN 0x7fffffffu    /* bytes of input (offsets are 32-bit) */

typedef enum cy_json_type {
    CY_JSON_OBJECT = 1,
    CY_JSON_ARRAY,
    CY_JSON_STRING,
    CY_JSON_NUMBER,
    CY_JSON_TRUE,
    CY_JSON_FALSE,
    CY_JSON_NULL
} cy_json_type;

/* Token flags. */
#define CY_JSON_F_ESCAPED 1u  /* string: contains backslash escapes */
#define CY_JSON_F_SPACE 2u    /* object/array: whitespace somewhere inside */

typedef struct cy_json_tok {
    uint32_t start; /* string: just after the opening quote; else first byte */
    uint32_t end;   /* string: the closing quote; else one past the last byte */
    uint32_t size;  /* object: members; array: elements; else 0 */
    uint32_t next;  /* index of the first token after this one's subtree */
    uint8_t type;   /* cy_json_type */
    uint8_t flags;  /* CY_JSON_F_* */
} cy_json_tok;

/* Parse options. */
#define CY_JSON_REJECT_NUL 1u  /* refuse \u0000 in strings (as jansson does) */
#define CY_JSON_INT64 2u       /* refuse integers outside int64 and numbers
                                  that overflow a double (as jansson does) */

typedef struct cy_json {
    const char *text;  /* the caller's buffer, borrowed */
    size_t len;
    cy_json_tok *toks; /* the inline array or a heap array */
    uint32_t ntoks, cap, max_toks;
    unsigned opts;
    cy_json_tok *heap; /* owned: tokens grown past the inline array */
} cy_json;

/*
 * Prepares a parser.  `inline_toks` (may be NULL with n_inline 0) is a
 * caller-owned array used first, typically on the stack; past it tokens go
 * to a heap array grown geometrically up to `max_tokens` (0 means
 * CY_JSON_MAX_TOKENS).  cy_json_free releases the heap array.
 */
void cy_json_init(cy_json *j, cy_json_tok *inline_toks, size_t n_inline,
                  size_t max_tokens, unsigned opts);

/*
 * Parses text[0..len) (no NUL needed; the text is borrowed and must outlive
 * every use of the tokens).  On failure the message names the byte offset
 * and what was expected ("json: expected ',' or '}' at byte 17").
 */
comity_err cy_json_parse(cy_json *j, const char *text, size_t len,
                         comity_error *err) CY_MUST_CHECK;

void cy_json_free(cy_json *j);

/* Index of the value of member `key` of object token `obj`, or 0 when absent
 * (0 is the root, never a member's value).  Keys are compared unescaped. */
uint32_t cy_json_get(const cy_json *j, uint32_t obj, const char *key);

/* True when string token `t` unescapes to exactly s[0..n). */
bool cy_json_str_eq(const cy_json *j, uint32_t t, const char *s, size_t n);

/* Byte length of string token `t` once unescaped (at most its raw length). */
size_t cy_json_str_len(const cy_json *j, uint32_t t);

/*
 * Unescapes string token `t` into out (UTF-8, NUL-terminated).  `cap`
 * counts the NUL; when the text is longer it is cut at cap - 1 bytes (never
 * inside a UTF-8 sequence).  Returns the number of bytes written before
 * the NUL.  A string's unescaped length never exceeds its raw length, so
 * cap = end - start + 1 always suffices.
 */
size_t cy_json_unescape(const cy_json *j, uint32_t t, char *out, size_t cap);

#endif /* COMITY_BASE_JSON_H */
