/*
 * checkpoint.c: c2sp.org/tlog-checkpoint text.
 *
 * A checkpoint's note text is three or more non-empty lines: the origin, the
 * tree size in decimal without leading zeros, the base64 root hash, then
 * optional extension lines (comity never writes any and ignores those it
 * reads; signatures cover them).  The signing and checking of the note
 * itself is the signed-note code's business (crypto/note.c) and cosig.c's.
 * Also here: the strict number and hash parsers every tlog text format
 * shares.
 */
#include <string.h>

#include <sodium.h>

#include "tlog/tlog.h"

bool cy_parse_u64(const char *s, size_t len, uint64_t *out)
{
    if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

bool cy_b64_alphabet(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || c == '='))
            return false;
    }
    return true;
}

/* A log's hashes are public: the table-driven decoder, as strict as the
 * constant-time one and about twenty times cheaper (a pulled record's
 * receipt has a dozen of them). */
bool cy_parse_hash(const char *s, size_t len, uint8_t out[CY_HASH])
{
    size_t n = 0;
    if (len != 44 || !cy_b64_alphabet(s, len))
        return false;
    return cy_b64_decode_public(out, CY_HASH, &n, s, len, CY_B64_STD, NULL) == COMITY_OK &&
           n == CY_HASH;
}

bool cy_origin_valid(const char *origin, size_t len)
{
    if (len == 0 || len > CY_ORIGIN_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)origin[i];
        if (c <= 0x20 || c >= 0x7f || c == '+')
            return false;
    }
    return true;
}

comity_err cy_checkpoint_parse_text(const char *text, size_t len,
                                    cy_checkpoint *out, comity_error *err)
{
    const char *line[3];
    size_t llen[3];
    size_t at = 0;
    if (len > CY_CHECKPOINT_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "checkpoint: larger than %d bytes",
                       CY_CHECKPOINT_MAX);
    for (int i = 0; i < 3; i++) {
        const char *nl = at < len ? memchr(text + at, '\n', len - at) : NULL;
        if (!nl)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "checkpoint: line %d is missing or lacks its newline", i + 1);
        line[i] = text + at;
        llen[i] = (size_t)(nl - line[i]);
        if (llen[i] == 0)
            return cy_fail(err, COMITY_ERR_INVALID, "checkpoint: line %d is empty", i + 1);
        at = (size_t)(nl - text) + 1;
    }
    /* extension lines: each non-empty and newline-terminated */
    while (at < len) {
        const char *nl = memchr(text + at, '\n', len - at);
        if (!nl)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "checkpoint: extension line at byte %zu lacks its newline", at);
        if (nl == text + at)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "checkpoint: empty line at byte %zu", at);
        at = (size_t)(nl - text) + 1;
    }
    if (!cy_origin_valid(line[0], llen[0]))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "checkpoint: origin must be 1 to %d printable characters without spaces or '+'",
                       CY_ORIGIN_MAX);
    if (!cy_parse_u64(line[1], llen[1], &out->size))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "checkpoint: tree size is not a decimal without leading zeros");
    if (!cy_parse_hash(line[2], llen[2], out->root))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "checkpoint: root hash is not 44 characters of standard base64");
    memcpy(out->origin, line[0], llen[0]);
    out->origin[llen[0]] = 0;
    return COMITY_OK;
}

comity_err cy_checkpoint_format(cy_buf *b, const char *origin, uint64_t size,
                                const uint8_t root[CY_HASH])
{
    char r64[64];
    cy_b64_encode(r64, sizeof r64, root, CY_HASH, CY_B64_STD);
    return cy_buf_printf(b, "%s\n%llu\n%s\n", origin, (unsigned long long)size, r64);
}
