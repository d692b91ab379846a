/*
 * age.c: age v1 sealing with X25519 recipients, or with a passphrase (the
 * scrypt recipient type), per c2sp.org/age.
 *
 * An age file is a text header that wraps a random 16-byte file key for
 * each recipient, a MAC over that header, then a 16-byte nonce and the
 * plaintext in 64 KiB ChaCha20-Poly1305 chunks (STREAM: an 11-byte chunk
 * counter and a last-chunk flag form each chunk's nonce).  Files sealed here
 * open with Debian's `age`, and the reverse; tests/cli/age_interop.sh keeps
 * that true.
 *
 * Design:
 *   - Input goes through two small layers: `rawin` (a FILE* with a 256 KiB
 *     read buffer, or caller memory read in place) and `agein` (passes bytes
 *     through, or decodes the PEM-like armor line by line).  Output goes
 *     through `sink` (a FILE* or a cy_buf, optionally armoring).  Memory is
 *     constant whatever the file size: the payload goes a batch of BATCH
 *     chunks at a time, one buffer in and one out; binary input already in
 *     memory is sealed or opened where it lies.
 *   - Opening parses the whole header first (strictly: every deviation from
 *     the ABNF is refused with its line number), unwraps the file key, and
 *     verifies the header MAC before it reads a byte of payload.
 *   - Chunks are decrypted out of place, so that when a chunk fails the
 *     ciphertext is still there to tell the reader why: a full chunk at the
 *     end of the input that only authenticates as non-final means the file
 *     was truncated; a chunk followed by more data that only authenticates
 *     as final means data was appended.
 *   - Every key (file key, wrap keys, payload key, shared secrets, ephemeral
 *     secrets) lives on the stack and is wiped with sodium_memzero before the
 *     function returns; plaintext buffers are wiped before they are freed.
 *   - A passphrase wraps the file key in one scrypt stanza, alone in its
 *     header (age's rule): scrypt is libsodium's scryptsalsa208sha256_ll,
 *     with age's salt label, r = 8, p = 1; a stanza's work factor is
 *     checked against the caller's cap before any work is done (scrypt's
 *     memory is 2^logN KiB).
 *   - HKDF-SHA-256 is built from libsodium's HMAC-SHA-256 (libsodium 1.0.18
 *     has no HKDF); with a 32-byte output it is one extract and one expand
 *     block (RFC 5869).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/age.h"
#include "crypto/age_int.h"

#define VERSION_LINE "age-encryption.org/v1"
#define VERSION_PREFIX "age-encryption.org/"
#define X25519_INFO "age-encryption.org/v1/X25519"
#define SCRYPT_LABEL "age-encryption.org/v1/scrypt"
#define SCRYPT_SALT 16
#define SCRYPT_SALT_B64 22 /* unpadded base64 of 16 bytes */
#define SCRYPT_R 8
#define SCRYPT_P 1
#define ARMOR_BEGIN "-----BEGIN AGE ENCRYPTED FILE-----"
#define ARMOR_END "-----END AGE ENCRYPTED FILE-----"
#define ARMOR_COLS 64      /* base64 characters per armor line */
#define ARMOR_BYTES 48     /* bytes per full armor line */
#define ARMOR_WS_MAX 1024  /* whitespace allowed before BEGIN / after END */
#define ARMOR_BATCH (ARMOR_BYTES * 64)

#define CHUNK COMITY_AGE_CHUNK
#define TAG crypto_aead_chacha20poly1305_ietf_ABYTES
#define CT_CHUNK (CHUNK + TAG)
#define FILE_KEY 16
#define PAYLOAD_NONCE 16
#define MAC_B64 43         /* unpadded base64 of a 32-byte MAC or key */
#define RAW_BUF (256 * 1024)
#define BATCH 4            /* chunks read, sealed or opened at a time (256 KiB: in
                              and out buffers stay within a 1 MiB L2 cache) */

/* ===================================================================== */
/* Keys as Bech32 strings                                                */
/* ===================================================================== */

comity_err cy_age_recipient_encode(const uint8_t pk[32], char *out, size_t cap)
{
    return cy_bech32_encode(out, cap, "age", pk, 32, false);
}

/* 1 when the X25519 point has small order: any clamped scalar (a multiple
 * of the cofactor) maps it to the all-zero output, which libsodium reports. */
static bool low_order(const uint8_t pk[32])
{
    uint8_t scalar[32], q[32];
    memset(scalar, 0x5a, sizeof scalar);
    int rc = crypto_scalarmult(q, scalar, pk);
    sodium_memzero(q, sizeof q);
    return rc != 0;
}

comity_err cy_age_recipient_decode(const char *s, size_t len, uint8_t pk[32],
                                   comity_error *err)
{
    uint8_t tmp[32];
    size_t n = 0;
    if (len < 4 || memcmp(s, "age1", 4) != 0)
        return cy_fail(err, COMITY_ERR_INVALID, "age recipient: does not start with 'age1'");
    if (cy_bech32_decode(s, len, "age", false, tmp, sizeof tmp, &n, err))
        return cy_wrap(err, "age recipient");
    if (n != 32)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "age recipient: %zu bytes, an X25519 key has 32", n);
    if (sodium_init() < 0 || low_order(tmp))
        return cy_fail(err, COMITY_ERR_INVALID, "age recipient: low-order X25519 point");
    memcpy(pk, tmp, 32);
    return COMITY_OK;
}

comity_err cy_age_identity_encode(const uint8_t sk[32], char *out, size_t cap)
{
    return cy_bech32_encode(out, cap, "age-secret-key-", sk, 32, true);
}

comity_err cy_age_identity_decode(const char *s, size_t len, uint8_t sk[32],
                                  comity_error *err)
{
    uint8_t tmp[32];
    size_t n = 0;
    if (len < 16 || memcmp(s, "AGE-SECRET-KEY-1", 16) != 0)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "age identity: does not start with 'AGE-SECRET-KEY-1'");
    comity_err rc = cy_bech32_decode(s, len, "age-secret-key-", true, tmp,
                                     sizeof tmp, &n, err);
    if (rc == COMITY_OK && n != 32)
        rc = cy_fail(err, COMITY_ERR_INVALID,
                     "age identity: %zu bytes, an X25519 key has 32", n);
    if (rc == COMITY_OK)
        memcpy(sk, tmp, 32);
    else
        cy_wrap(err, "age identity");
    sodium_memzero(tmp, sizeof tmp);
    return rc;
}

int comity_recipient_valid(const char *recipient, comity_error *err)
{
    uint8_t pk[32];
    if (!recipient)
        return cy_fail(err, COMITY_ERR_USAGE, "age recipient: none given") == COMITY_OK;
    return cy_age_recipient_decode(recipient, strlen(recipient), pk, err) == COMITY_OK;
}

/* ===================================================================== */
/* Identity sets                                                         */
/* ===================================================================== */

struct cy_age_id {
    uint8_t sk[32];
    uint8_t pk[32];
};

struct comity_identities {
    size_t n;
    struct cy_age_id *v; /* owned, wiped on free */
};

void comity_identities_free(comity_identities *ids)
{
    if (!ids)
        return;
    cy_free_secret(ids->v, ids->n * sizeof *ids->v);
    cy_free(ids);
}

size_t comity_identities_count(const comity_identities *ids)
{
    return ids ? ids->n : 0;
}

static bool has_prefix(const char *s, size_t n, const char *p)
{
    size_t pn = strlen(p);
    return n >= pn && memcmp(s, p, pn) == 0;
}

/* Walks the lines of an identity file; with `ids` NULL only counts the
 * identity lines, otherwise decodes them into ids->v. */
static comity_err walk_identities(const char *text, size_t len,
                                  comity_identities *ids, size_t *count,
                                  comity_error *err)
{
    size_t n = 0, lineno = 0, i = 0;
    while (i < len) {
        const char *line = text + i;
        const char *nl = memchr(line, '\n', len - i);
        size_t ll = nl ? (size_t)(nl - line) : len - i;
        i += ll + (nl ? 1 : 0);
        lineno++;
        if (ll && line[ll - 1] == '\r')
            ll--;
        if (ll == 0 || line[0] == '#')
            continue;
        if (has_prefix(line, ll, "AGE-SECRET-KEY-1")) {
            if (n >= COMITY_AGE_IDS_MAX)
                return cy_fail(err, COMITY_ERR_TOOBIG,
                               "more than %d identities", COMITY_AGE_IDS_MAX);
            if (ids) {
                struct cy_age_id *id = &ids->v[n];
                if (cy_age_identity_decode(line, ll, id->sk, err))
                    return cy_wrap(err, "line %zu", lineno);
                crypto_scalarmult_base(id->pk, id->sk);
            }
            n++;
        } else if (has_prefix(line, ll, "AGE-PLUGIN-")) {
            return cy_fail(err, COMITY_ERR_INVALID,
                           "line %zu: age plugin identities are not supported", lineno);
        } else if (has_prefix(line, ll, "AGE-SECRET-KEY-")) {
            return cy_fail(err, COMITY_ERR_INVALID,
                           "line %zu: unsupported identity type (only X25519 "
                           "'AGE-SECRET-KEY-1...' keys)", lineno);
        } else {
            return cy_fail(err, COMITY_ERR_INVALID,
                           "line %zu: not an age identity, a '#' comment or a "
                           "blank line", lineno);
        }
    }
    *count = n;
    return COMITY_OK;
}

comity_err comity_identities_parse(const char *text, size_t len,
                                   comity_identities **ids, comity_error *err)
{
    size_t n = 0;
    comity_err rc = comity_init(err);
    if (rc)
        return rc;
    if (len > COMITY_AGE_IDFILE_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "identity file larger than %u bytes",
                       COMITY_AGE_IDFILE_MAX);
    if ((rc = walk_identities(text, len, NULL, &n, err)))
        return rc;
    if (n == 0)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "no 'AGE-SECRET-KEY-1...' identity in the file");
    comity_identities *s = cy_calloc(1, sizeof *s);
    if (!s)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    s->v = cy_calloc(n, sizeof *s->v);
    if (!s->v) {
        cy_free(s);
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    }
    s->n = n;
    if ((rc = walk_identities(text, len, s, &n, err))) {
        comity_identities_free(s);
        return rc;
    }
    *ids = s;
    return COMITY_OK;
}

comity_err comity_identities_load(const char *path, comity_identities **ids,
                                  comity_error *err)
{
    char *text = NULL;
    size_t len = 0;
    comity_err rc = comity_read_file(path, COMITY_AGE_IDFILE_MAX, &text, &len, err);
    if (rc)
        return rc;
    rc = comity_identities_parse(text, len, ids, err);
    cy_free_secret(text, len);
    if (rc)
        return cy_wrap(err, "%s", path);
    return COMITY_OK;
}

/* ===================================================================== */
/* HKDF-SHA-256 with a 32-byte output                                    */
/* ===================================================================== */

static void hkdf(uint8_t out[32], const uint8_t *ikm, size_t ikm_len,
                 const uint8_t *salt, size_t salt_len, const char *info)
{
    static const uint8_t none[1] = {0};
    static const uint8_t one[1] = {1};
    uint8_t prk[32];
    crypto_auth_hmacsha256_state st;
    /* An empty salt is HMAC with an empty key, which equals the RFC's
     * HashLen zero bytes (HMAC pads keys with zeros). */
    crypto_auth_hmacsha256_init(&st, salt_len ? salt : none, salt_len);
    crypto_auth_hmacsha256_update(&st, ikm, ikm_len);
    crypto_auth_hmacsha256_final(&st, prk);
    crypto_auth_hmacsha256_init(&st, prk, sizeof prk);
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)info, strlen(info));
    crypto_auth_hmacsha256_update(&st, one, 1);
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(prk, sizeof prk);
    sodium_memzero(&st, sizeof st);
}

static void header_mac(uint8_t mac[32], const uint8_t file_key[FILE_KEY],
                       const uint8_t *hdr, size_t len)
{
    uint8_t k[32];
    hkdf(k, file_key, FILE_KEY, NULL, 0, "header");
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, k, sizeof k);
    crypto_auth_hmacsha256_update(&st, hdr, len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_memzero(k, sizeof k);
    sodium_memzero(&st, sizeof st);
}

/* The 12-byte chunk nonce: 11-byte big-endian counter, then the last flag. */
static void chunk_nonce(uint8_t n[12], uint64_t counter, bool last)
{
    memset(n, 0, 12);
    for (int i = 0; i < 8; i++)
        n[10 - i] = (uint8_t)(counter >> (8 * i));
    n[11] = last ? 1 : 0;
}

/* ===================================================================== */
/* Input: rawin (bytes) and agein (bytes, or armor decoded)              */
/* ===================================================================== */

typedef struct rawin {
    FILE *f;             /* NULL for memory input */
    uint8_t *own;        /* read buffer for f (RAW_BUF bytes), owned */
    const uint8_t *buf;  /* `own`, or the caller's memory */
    size_t pos, len;
    bool eof;            /* nothing left after buf[len) */
    int ioerr;           /* errno of a failed read, or 0 */
    uint64_t off;        /* bytes handed to the layer above */
} rawin;

static comity_err raw_init_file(rawin *r, FILE *f, comity_error *err)
{
    memset(r, 0, sizeof *r);
    r->f = f;
    r->own = cy_malloc(RAW_BUF);
    if (!r->own)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    r->buf = r->own;
    return COMITY_OK;
}

static void raw_init_mem(rawin *r, const uint8_t *p, size_t n)
{
    memset(r, 0, sizeof *r);
    r->buf = p;
    r->len = n;
    r->eof = true;
}

/* The buffer may have held plaintext (sealing): wiped. */
static void raw_free(rawin *r) { cy_free_secret(r->own, r->own ? RAW_BUF : 0); }

static bool raw_fill(rawin *r)
{
    if (r->pos < r->len)
        return true;
    if (r->eof || !r->f)
        return false;
    size_t n = fread(r->own, 1, RAW_BUF, r->f);
    if (n < RAW_BUF) {
        if (ferror(r->f))
            r->ioerr = errno ? errno : EIO;
        r->eof = true;
    }
    r->buf = r->own;
    r->pos = 0;
    r->len = n;
    return n > 0;
}

static int raw_getc(rawin *r)
{
    if (!raw_fill(r))
        return -1;
    r->off++;
    return r->buf[r->pos++];
}

/* Only right after a raw_getc that returned a byte. */
static void raw_ungetc(rawin *r)
{
    r->pos--;
    r->off--;
}

/* Reads up to n bytes; fewer only at the end of input (or on error). */
static size_t raw_read(rawin *r, uint8_t *dst, size_t n)
{
    size_t got = 0;
    while (got < n) {
        if (r->pos < r->len) {
            size_t k = r->len - r->pos;
            if (k > n - got)
                k = n - got;
            memcpy(dst + got, r->buf + r->pos, k);
            r->pos += k;
            got += k;
            continue;
        }
        if (r->eof || !r->f)
            break;
        if (n - got >= CHUNK) { /* large read: straight into dst, no copy */
            size_t want = n - got;
            size_t k = fread(dst + got, 1, want, r->f);
            got += k;
            if (k < want) {
                if (ferror(r->f))
                    r->ioerr = errno ? errno : EIO;
                r->eof = true;
            }
            continue;
        }
        if (!raw_fill(r))
            break;
    }
    r->off += got;
    return got;
}

/* Reads one line into line[cap] without its LF (and without a CR before
 * it).  Returns 1 for a line ended by LF, 0 at end of input (*len bytes
 * read without LF), -1 when the line is longer than cap. */
static int raw_line(rawin *r, char *line, size_t cap, size_t *len)
{
    size_t n = 0;
    while (raw_fill(r)) {
        const uint8_t *p = r->buf + r->pos;
        size_t avail = r->len - r->pos;
        const uint8_t *nl = memchr(p, '\n', avail);
        size_t k = nl ? (size_t)(nl - p) : avail;
        if (k > cap - n)
            return -1;
        memcpy(line + n, p, k);
        n += k;
        k += nl ? 1 : 0;
        r->pos += k;
        r->off += k;
        if (nl) {
            if (n && line[n - 1] == '\r')
                n--;
            *len = n;
            return 1;
        }
    }
    *len = n;
    return 0;
}

/*
 * Base64 of full armor lines (64 columns <-> 48 bytes), the bulk of an
 * armored file.  libsodium's codec is constant-time, which costs a factor of
 * several and buys nothing here: armor carries ciphertext, never a secret.
 * Key material still goes through libsodium (cy_b64_*).  Short and padded
 * lines, and any line these refuse, go through cy_b64_decode, which says
 * what is wrong and where.
 */
static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Character -> 6-bit value, -1 outside the standard alphabet (generated
 * from b64_alphabet). */
static const int8_t b64_values[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
    -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1,
    -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

/* 64 characters to 48 bytes; false if a character is not in the alphabet. */
static bool b64_line_decode(uint8_t out[ARMOR_BYTES], const char in[ARMOR_COLS])
{
    for (int q = 0; q < ARMOR_COLS / 4; q++) {
        int a = b64_values[(unsigned char)in[4 * q]];
        int b = b64_values[(unsigned char)in[4 * q + 1]];
        int c = b64_values[(unsigned char)in[4 * q + 2]];
        int d = b64_values[(unsigned char)in[4 * q + 3]];
        if ((a | b | c | d) < 0)
            return false;
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
        out[3 * q] = (uint8_t)(v >> 16);
        out[3 * q + 1] = (uint8_t)(v >> 8);
        out[3 * q + 2] = (uint8_t)v;
    }
    return true;
}

/* 48 bytes to 64 characters (no NUL). */
static void b64_line_encode(char out[ARMOR_COLS], const uint8_t in[ARMOR_BYTES])
{
    for (int q = 0; q < ARMOR_BYTES / 3; q++) {
        uint32_t v = (uint32_t)in[3 * q] << 16 | (uint32_t)in[3 * q + 1] << 8 | in[3 * q + 2];
        out[4 * q] = b64_alphabet[v >> 18];
        out[4 * q + 1] = b64_alphabet[(v >> 12) & 63];
        out[4 * q + 2] = b64_alphabet[(v >> 6) & 63];
        out[4 * q + 3] = b64_alphabet[v & 63];
    }
}

typedef struct agein {
    rawin raw;
    bool armored;
    bool armor_end;       /* the END line was read */
    bool armor_final;     /* the last data line (short or padded) was read */
    size_t armor_line;    /* armor lines read, BEGIN included */
    uint8_t dec[ARMOR_BYTES];
    size_t dpos, dlen;
} agein;

static bool is_ws(int c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static comity_err io_fail(comity_error *err, int e)
{
    return cy_fail(err, COMITY_ERR_IO, "reading input: %s", strerror(e));
}

/* Looks at the first line: armored when it is the BEGIN line (after at most
 * ARMOR_WS_MAX bytes of whitespace), binary otherwise. */
static comity_err in_start(agein *in, comity_error *err)
{
    size_t ws = 0;
    int c;
    while ((c = raw_getc(&in->raw)) >= 0 && is_ws(c))
        if (++ws > ARMOR_WS_MAX)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "armor: more than %d bytes of whitespace before the "
                           "BEGIN line", ARMOR_WS_MAX);
    if (c < 0) {
        if (in->raw.ioerr)
            return io_fail(err, in->raw.ioerr);
        return cy_fail(err, COMITY_ERR_INVALID, "not an age file: the input is %s",
                       ws ? "only whitespace" : "empty");
    }
    raw_ungetc(&in->raw);
    if (c != '-') {
        if (ws)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "not an age file: whitespace before the header");
        in->armored = false;
        return COMITY_OK;
    }
    char line[sizeof ARMOR_BEGIN + 1];
    size_t n = 0;
    int r = raw_line(&in->raw, line, sizeof line, &n);
    if (r != 1 || n != strlen(ARMOR_BEGIN) || memcmp(line, ARMOR_BEGIN, n) != 0)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "armor: line 1 is not '" ARMOR_BEGIN "'");
    in->armored = true;
    in->armor_line = 1;
    return COMITY_OK;
}

/* After the END line: only whitespace, and not much of it. */
static comity_err armor_trailer(agein *in, comity_error *err)
{
    size_t ws = 0;
    int c;
    while ((c = raw_getc(&in->raw)) >= 0) {
        if (!is_ws(c))
            return cy_fail(err, COMITY_ERR_INVALID,
                           "armor: data after the END line (line %zu)", in->armor_line);
        if (++ws > ARMOR_WS_MAX)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "armor: more than %d bytes of whitespace after the END line",
                           ARMOR_WS_MAX);
    }
    if (in->raw.ioerr)
        return io_fail(err, in->raw.ioerr);
    return COMITY_OK;
}

/* Decodes the next armor line into in->dec (strict RFC 7468 form: 64
 * columns, only the last line shorter or padded, then the END line). */
static comity_err armor_next(agein *in, comity_error *err)
{
    char line[ARMOR_COLS + 2];
    size_t n = 0;
    int r = raw_line(&in->raw, line, sizeof line, &n);
    size_t ln = ++in->armor_line;
    in->dpos = in->dlen = 0;
    if (r < 0 || n > ARMOR_COLS)
        return cy_fail(err, COMITY_ERR_INVALID, "armor line %zu: longer than %d columns",
                       ln, ARMOR_COLS);
    if (in->raw.ioerr)
        return io_fail(err, in->raw.ioerr);
    if (n == strlen(ARMOR_END) && memcmp(line, ARMOR_END, n) == 0) {
        if (ln == 2)
            return cy_fail(err, COMITY_ERR_INVALID, "armor: no data between BEGIN and END");
        in->armor_end = true;
        return armor_trailer(in, err);
    }
    if (r == 0)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "armor: truncated at line %zu (no END line)", ln);
    if (in->armor_final)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "armor line %zu: more data after a short or padded line "
                       "(only the last line may be)", ln);
    if (n == 0)
        return cy_fail(err, COMITY_ERR_INVALID, "armor line %zu: empty line", ln);
    bool padded = memchr(line, '=', n) != NULL;
    enum cy_b64_variant v = CY_B64_STD_NOPAD;
    if (n < ARMOR_COLS || padded) {
        in->armor_final = true;
        v = CY_B64_STD;
    } else if (b64_line_decode(in->dec, line)) {
        in->dlen = ARMOR_BYTES;
        return COMITY_OK;
    }
    if (cy_b64_decode(in->dec, sizeof in->dec, &in->dlen, line, n, v, err))
        return cy_fail(err, COMITY_ERR_INVALID, "armor line %zu", ln);
    return COMITY_OK;
}

/* Reads up to n decoded bytes into dst; *got < n only at the end. */
static comity_err in_read(agein *in, uint8_t *dst, size_t n, size_t *got,
                          comity_error *err)
{
    if (!in->armored) {
        *got = raw_read(&in->raw, dst, n);
        return in->raw.ioerr ? io_fail(err, in->raw.ioerr) : COMITY_OK;
    }
    size_t g = 0;
    comity_err rc = COMITY_OK;
    while (g < n) {
        if (in->dpos < in->dlen) {
            size_t k = in->dlen - in->dpos;
            if (k > n - g)
                k = n - g;
            memcpy(dst + g, in->dec + in->dpos, k);
            in->dpos += k;
            g += k;
            continue;
        }
        if (in->armor_end)
            break;
        if ((rc = armor_next(in, err)))
            break;
    }
    *got = g;
    return rc;
}

/* ===================================================================== */
/* Output: sink                                                          */
/* ===================================================================== */

typedef struct sink {
    FILE *f;          /* or */
    cy_buf *mem;
    bool armor;
    uint8_t *tmp;     /* batch buffer when not writing in place (made on
                         first use, as large as the first batch), owned */
    uint8_t *abuf;    /* armor: bytes not yet encoded (< ARMOR_BATCH), owned */
    size_t alen;
    size_t tmp_len;
} sink;

static comity_err sink_init(sink *s, FILE *f, cy_buf *mem, bool armor,
                            comity_error *err)
{
    memset(s, 0, sizeof *s);
    s->f = f;
    s->mem = mem;
    s->armor = armor;
    if (armor && !(s->abuf = cy_malloc(ARMOR_BATCH)))
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    return COMITY_OK;
}

static void sink_free(sink *s)
{
    cy_free_secret(s->tmp, s->tmp ? s->tmp_len : 0);
    cy_free_secret(s->abuf, s->abuf ? ARMOR_BATCH : 0);
}

static comity_err sink_raw(sink *s, const void *p, size_t n, comity_error *err)
{
    if (!n)
        return COMITY_OK;
    if (s->mem) {
        comity_err rc = cy_buf_append(s->mem, p, n);
        return rc ? cy_fail(err, rc, "output: %s", comity_strerror(rc)) : COMITY_OK;
    }
    if (fwrite(p, 1, n, s->f) != n)
        return cy_fail(err, COMITY_ERR_IO, "writing output: %s",
                       strerror(errno ? errno : EIO));
    return COMITY_OK;
}

/* Encodes `n` bytes (a multiple of 48, or the final rest) as armor lines. */
static comity_err armor_lines(sink *s, const uint8_t *p, size_t n, comity_error *err)
{
    char out[(ARMOR_BATCH / ARMOR_BYTES) * (ARMOR_COLS + 1) + 1];
    size_t o = 0;
    while (n) {
        size_t k = n < ARMOR_BYTES ? n : ARMOR_BYTES;
        if (k == ARMOR_BYTES) {
            b64_line_encode(out + o, p);
            o += ARMOR_COLS;
        } else {
            cy_b64_encode(out + o, sizeof out - o, p, k, CY_B64_STD);
            o += strlen(out + o);
        }
        out[o++] = '\n';
        p += k;
        n -= k;
    }
    return sink_raw(s, out, o, err);
}

static comity_err sink_write(sink *s, const uint8_t *p, size_t n, comity_error *err)
{
    if (!s->armor)
        return sink_raw(s, p, n, err);
    while (n) {
        size_t k = ARMOR_BATCH - s->alen;
        if (k > n)
            k = n;
        memcpy(s->abuf + s->alen, p, k);
        s->alen += k;
        p += k;
        n -= k;
        if (s->alen == ARMOR_BATCH) {
            comity_err rc = armor_lines(s, s->abuf, s->alen, err);
            s->alen = 0;
            if (rc)
                return rc;
        }
    }
    return COMITY_OK;
}

/* Where to put n bytes that will be committed with sink_commit: in place at
 * the end of a memory buffer, or the chunk buffer. */
static comity_err sink_space(sink *s, size_t n, uint8_t **p, comity_error *err)
{
    if (s->mem && !s->armor) {
        comity_err rc = cy_buf_reserve(s->mem, n);
        if (rc)
            return cy_fail(err, rc, "output: %s", comity_strerror(rc));
        *p = s->mem->data + s->mem->len;
        return COMITY_OK;
    }
    if (n > s->tmp_len || !s->tmp) {
        cy_free_secret(s->tmp, s->tmp_len);
        s->tmp_len = 0;
        if (!(s->tmp = cy_malloc(n)))
            return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
        s->tmp_len = n;
    }
    *p = s->tmp;
    return COMITY_OK;
}

static comity_err sink_commit(sink *s, size_t n, comity_error *err)
{
    if (s->mem && !s->armor) {
        s->mem->len += n;
        s->mem->data[s->mem->len] = 0;
        return COMITY_OK;
    }
    return sink_write(s, s->tmp, n, err);
}

static comity_err sink_begin(sink *s, comity_error *err)
{
    return s->armor ? sink_raw(s, ARMOR_BEGIN "\n", strlen(ARMOR_BEGIN) + 1, err)
                    : COMITY_OK;
}

static comity_err sink_finish(sink *s, comity_error *err)
{
    comity_err rc = COMITY_OK;
    if (s->armor) {
        rc = armor_lines(s, s->abuf, s->alen, err);
        s->alen = 0;
        if (!rc)
            rc = sink_raw(s, ARMOR_END "\n", strlen(ARMOR_END) + 1, err);
    }
    if (!rc && s->f && fflush(s->f) != 0)
        rc = cy_fail(err, COMITY_ERR_IO, "writing output: %s", strerror(errno));
    return rc;
}

/* ===================================================================== */
/* Header parsing                                                        */
/* ===================================================================== */

/* A header buffer could not grow: past its cap, or out of memory. */
static comity_err header_grow_fail(comity_error *err, comity_err rc)
{
    if (rc == COMITY_ERR_TOOBIG)
        return cy_fail(err, rc, "header longer than %u bytes", COMITY_AGE_HEADER_MAX);
    return cy_fail(err, rc, "header: %s", comity_strerror(rc));
}

typedef struct stanza {
    char *argl;                       /* owned: argument line, NUL-separated */
    char *args[COMITY_AGE_ARGS_MAX];  /* point into argl */
    size_t nargs;
    uint8_t *body;                    /* owned */
    size_t body_len;
    size_t line;                      /* header line of its "-> " */
} stanza;

typedef struct hdr {
    cy_buf raw;    /* header bytes; after parsing, up to and including "---" */
    stanza *st;
    size_t n;
    uint8_t mac[32];
    size_t lineno;
    char line[COMITY_AGE_LINE_MAX + 1];
} hdr;

static hdr *hdr_new(void)
{
    hdr *h = cy_calloc(1, sizeof *h);
    if (h)
        cy_buf_init(&h->raw, COMITY_AGE_HEADER_MAX);
    return h;
}

static void hdr_free(hdr *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n; i++) {
        cy_free(h->st[i].argl);
        cy_free(h->st[i].body);
    }
    cy_free(h->st);
    cy_buf_free(&h->raw);
    cy_free(h);
}

/* Reads the next header line (without its LF) into h->line, and keeps the
 * line with its LF in h->raw for the MAC. */
static comity_err hdr_line(agein *in, hdr *h, size_t *len, comity_error *err)
{
    size_t n = 0;
    h->lineno++;
    for (;;) {
        uint8_t c;
        size_t got = 0;
        comity_err rc = in_read(in, &c, 1, &got, err);
        if (rc)
            return rc;
        if (got == 0)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "header truncated in line %zu (no end of line)", h->lineno);
        if ((rc = cy_buf_append(&h->raw, &c, 1)))
            return header_grow_fail(err, rc);
        if (c == '\n')
            break;
        if (n >= COMITY_AGE_LINE_MAX)
            return cy_fail(err, COMITY_ERR_TOOBIG, "header line %zu longer than %d bytes",
                           h->lineno, COMITY_AGE_LINE_MAX);
        h->line[n++] = (char)c;
    }
    h->line[n] = 0;
    *len = n;
    return COMITY_OK;
}

static comity_err parse_args(hdr *h, stanza *s, size_t n, comity_error *err)
{
    /* h->line[0..n) is "-> arg arg..." */
    const char *p = h->line + 3;
    size_t len = n - 3;
    s->argl = cy_strndup(p, len);
    if (!s->argl)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        unsigned char c = i < len ? (unsigned char)s->argl[i] : ' ';
        if (c == ' ') {
            if (i == start)
                return cy_fail(err, COMITY_ERR_INVALID,
                               "header line %zu: empty stanza argument at column %zu",
                               h->lineno, i + 4);
            if (s->nargs == COMITY_AGE_ARGS_MAX)
                return cy_fail(err, COMITY_ERR_TOOBIG,
                               "header line %zu: more than %d stanza arguments",
                               h->lineno, COMITY_AGE_ARGS_MAX);
            s->args[s->nargs++] = s->argl + start;
            if (i < len)
                s->argl[i] = 0;
            start = i + 1;
        } else if (c < 0x21 || c > 0x7e) {
            return cy_fail(err, COMITY_ERR_INVALID,
                           "header line %zu: byte 0x%02x not allowed in a stanza "
                           "argument at column %zu", h->lineno, c, i + 4);
        }
    }
    return COMITY_OK;
}

/* Body lines: 64 base64 columns each, ended by a shorter (maybe empty) one. */
static comity_err parse_body(agein *in, hdr *h, stanza *s, comity_error *err)
{
    cy_buf body;
    cy_buf_init(&body, COMITY_AGE_HEADER_MAX);
    comity_err rc = COMITY_OK;
    for (;;) {
        size_t n = 0;
        if ((rc = hdr_line(in, h, &n, err)))
            break;
        if (n > 64) {
            rc = cy_fail(err, COMITY_ERR_INVALID,
                         "header line %zu: stanza body line longer than 64 columns",
                         h->lineno);
            break;
        }
        if (n && h->line[0] == '-') {
            rc = cy_fail(err, COMITY_ERR_INVALID,
                         "header line %zu: stanza of line %zu has no final body line "
                         "(a body ends with a line shorter than 64 columns)",
                         h->lineno, s->line);
            break;
        }
        uint8_t dec[48];
        size_t dn = 0;
        if (cy_b64_decode(dec, sizeof dec, &dn, h->line, n, CY_B64_STD_NOPAD, err)) {
            rc = cy_fail(err, COMITY_ERR_INVALID, "header line %zu: stanza body", h->lineno);
            break;
        }
        if ((rc = cy_buf_append(&body, dec, dn))) {
            rc = cy_fail(err, rc, "header line %zu: stanza body too large", h->lineno);
            break;
        }
        if (n < 64)
            break;
    }
    if (rc) {
        cy_buf_free(&body);
        return rc;
    }
    s->body = cy_buf_detach(&body, &s->body_len);
    if (!s->body)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    return COMITY_OK;
}

static comity_err hdr_parse(agein *in, hdr *h, comity_error *err)
{
    size_t n = 0;
    comity_err rc = hdr_line(in, h, &n, err);
    if (rc)
        return rc;
    if (n != strlen(VERSION_LINE) || memcmp(h->line, VERSION_LINE, n) != 0) {
        if (has_prefix(h->line, n, VERSION_PREFIX))
            return cy_fail(err, COMITY_ERR_INVALID,
                           "unsupported age version '%.40s' in line 1 (only v1)",
                           h->line + strlen(VERSION_PREFIX));
        return cy_fail(err, COMITY_ERR_INVALID,
                       "not an age file: line 1 is not '" VERSION_LINE "'");
    }
    size_t cap = 0;
    for (;;) {
        if ((rc = hdr_line(in, h, &n, err)))
            return rc;
        if (has_prefix(h->line, n, "-> ")) {
            if (h->n == COMITY_AGE_STANZAS_MAX)
                return cy_fail(err, COMITY_ERR_TOOBIG, "more than %d recipient stanzas",
                               COMITY_AGE_STANZAS_MAX);
            if (h->n == cap) {
                size_t nc = cap ? cap * 2 : 4;
                stanza *ns = cy_realloc(h->st, nc * sizeof *ns);
                if (!ns)
                    return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
                h->st = ns;
                cap = nc;
            }
            stanza *s = &h->st[h->n++];
            memset(s, 0, sizeof *s);
            s->line = h->lineno;
            if ((rc = parse_args(h, s, n, err)) || (rc = parse_body(in, h, s, err)))
                return rc;
        } else if (has_prefix(h->line, n, "---")) {
            if (h->n == 0)
                return cy_fail(err, COMITY_ERR_INVALID, "header has no recipient stanza");
            size_t mn = 0;
            if (n != 4 + MAC_B64 || h->line[3] != ' ')
                return cy_fail(err, COMITY_ERR_INVALID,
                               "header line %zu: the MAC line must be '--- ' and %d "
                               "base64 characters", h->lineno, MAC_B64);
            if (cy_b64_decode(h->mac, sizeof h->mac, &mn, h->line + 4, MAC_B64,
                              CY_B64_STD_NOPAD, err) || mn != 32)
                return cy_fail(err, COMITY_ERR_INVALID, "header line %zu: MAC", h->lineno);
            h->raw.len -= n + 1 - 3; /* the MAC covers up to "---" */
            return COMITY_OK;
        } else {
            return cy_fail(err, COMITY_ERR_INVALID,
                           "header line %zu: expected a stanza ('-> ') or the MAC "
                           "line ('--- ')", h->lineno);
        }
    }
}

/* ===================================================================== */
/* X25519 stanzas                                                        */
/* ===================================================================== */

static const uint8_t zero_nonce[12];

/* Tries every identity on one X25519 stanza (index i, 1-based in messages).
 * Malformed stanzas and low-order shares are errors; a stanza for someone
 * else simply leaves *found false. */
static comity_err x25519_unwrap(const stanza *s, size_t i,
                                const comity_identities *ids,
                                uint8_t file_key[FILE_KEY], bool *found,
                                comity_error *err)
{
    uint8_t share[32], shared[32], salt[64], wrap[32];
    size_t n = 0;
    comity_err rc = COMITY_OK;
    comity_error e2 = {0};
    if (s->nargs != 2)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "stanza %zu (header line %zu): an X25519 stanza has 2 "
                       "arguments, not %zu", i, s->line, s->nargs);
    if (cy_b64_decode(share, sizeof share, &n, s->args[1], strlen(s->args[1]),
                      CY_B64_STD_NOPAD, &e2) || n != 32)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "stanza %zu (header line %zu): the X25519 share is not "
                       "canonical unpadded base64 of 32 bytes", i, s->line);
    if (s->body_len != 32)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "stanza %zu (header line %zu): X25519 body is %zu bytes, not 32",
                       i, s->line, s->body_len);
    memcpy(salt, share, 32);
    for (size_t k = 0; k < ids->n && !*found; k++) {
        if (crypto_scalarmult(shared, ids->v[k].sk, share) != 0) {
            rc = cy_fail(err, COMITY_ERR_INVALID,
                         "stanza %zu (header line %zu): X25519 share is a low-order "
                         "point (all-zero shared secret)", i, s->line);
            break;
        }
        memcpy(salt + 32, ids->v[k].pk, 32);
        hkdf(wrap, shared, sizeof shared, salt, sizeof salt, X25519_INFO);
        if (crypto_aead_chacha20poly1305_ietf_decrypt(file_key, NULL, NULL, s->body,
                                                      32, NULL, 0, zero_nonce,
                                                      wrap) == 0)
            *found = true;
    }
    sodium_memzero(shared, sizeof shared);
    sodium_memzero(wrap, sizeof wrap);
    return rc;
}

/* Appends an X25519 stanza for recipient pk wrapping file_key. */
static comity_err x25519_wrap(cy_buf *hb, const uint8_t pk[32], size_t i,
                              const uint8_t file_key[FILE_KEY], comity_error *err)
{
    uint8_t eph[32], share[32], shared[32], salt[64], wrap[32], body[32];
    char s64[MAC_B64 + 1], b64[MAC_B64 + 1];
    comity_err rc = COMITY_OK;
    randombytes_buf(eph, sizeof eph);
    crypto_scalarmult_base(share, eph);
    if (crypto_scalarmult(shared, eph, pk) != 0) {
        rc = cy_fail(err, COMITY_ERR_INVALID, "recipient %zu: low-order X25519 point", i);
        goto done;
    }
    memcpy(salt, share, 32);
    memcpy(salt + 32, pk, 32);
    hkdf(wrap, shared, sizeof shared, salt, sizeof salt, X25519_INFO);
    crypto_aead_chacha20poly1305_ietf_encrypt(body, NULL, file_key, FILE_KEY, NULL, 0,
                                              NULL, zero_nonce, wrap);
    cy_b64_encode(s64, sizeof s64, share, 32, CY_B64_STD_NOPAD);
    cy_b64_encode(b64, sizeof b64, body, 32, CY_B64_STD_NOPAD);
    if ((rc = cy_buf_printf(hb, "-> X25519 %s\n%s\n", s64, b64)))
        rc = header_grow_fail(err, rc);
done:
    sodium_memzero(eph, sizeof eph);
    sodium_memzero(shared, sizeof shared);
    sodium_memzero(wrap, sizeof wrap);
    return rc;
}

/* ===================================================================== */
/* scrypt stanzas (a passphrase)                                         */
/* ===================================================================== */

/* A passphrase for sealing or opening (borrowed). */
typedef struct passphrase {
    const uint8_t *p;
    size_t n;
    unsigned log_n; /* seal: the work factor; open: the largest accepted */
} passphrase;

/* The wrap key: scrypt(pass, label || salt, 2^log_n, r, p). */
static comity_err scrypt_key(uint8_t key[32], const passphrase *pw, const uint8_t salt[SCRYPT_SALT],
                             unsigned log_n, comity_error *err)
{
    uint8_t s[sizeof SCRYPT_LABEL - 1 + SCRYPT_SALT];
    memcpy(s, SCRYPT_LABEL, sizeof SCRYPT_LABEL - 1);
    memcpy(s + sizeof SCRYPT_LABEL - 1, salt, SCRYPT_SALT);
    if (crypto_pwhash_scryptsalsa208sha256_ll(pw->p, pw->n, s, sizeof s, (uint64_t)1 << log_n,
                                              SCRYPT_R, SCRYPT_P, key, 32) != 0)
        return cy_fail(err, COMITY_ERR_NOMEM, "scrypt at work factor 2^%u: out of memory",
                       log_n);
    return COMITY_OK;
}

/* Opens the one scrypt stanza with the passphrase.  A wrong passphrase
 * leaves *found false. */
static comity_err scrypt_unwrap(const stanza *s, const passphrase *pw,
                                uint8_t file_key[FILE_KEY], bool *found, comity_error *err)
{
    uint8_t salt[SCRYPT_SALT], wrap[32];
    size_t n = 0;
    comity_error e2 = {0};
    if (s->nargs != 3)
        return cy_fail(err, COMITY_ERR_INVALID, "scrypt stanza (header line %zu): 3 arguments, "
                       "not %zu", s->line, s->nargs);
    if (strlen(s->args[1]) != SCRYPT_SALT_B64 ||
        cy_b64_decode(salt, sizeof salt, &n, s->args[1], SCRYPT_SALT_B64, CY_B64_STD_NOPAD,
                      &e2) || n != SCRYPT_SALT)
        return cy_fail(err, COMITY_ERR_INVALID, "scrypt stanza (header line %zu): the salt is "
                       "not canonical unpadded base64 of 16 bytes", s->line);
    const char *w = s->args[2];
    size_t wl = strlen(w);
    if (wl == 0 || wl > 2 || w[0] == '0' || strspn(w, "0123456789") != wl)
        return cy_fail(err, COMITY_ERR_INVALID, "scrypt stanza (header line %zu): the work "
                       "factor '%.8s' is not a decimal from 1 to 99 without leading zeros",
                       s->line, w);
    unsigned log_n = (unsigned)strtoul(w, NULL, 10);
    if (log_n > pw->log_n)
        return cy_fail(err, COMITY_ERR_TOOBIG, "scrypt stanza (header line %zu): work factor "
                       "2^%u above the cap 2^%u (COMITY_AGE_SCRYPT_LOGN_MAX %d)", s->line, log_n,
                       pw->log_n, COMITY_AGE_SCRYPT_LOGN_MAX);
    if (s->body_len != FILE_KEY + TAG)
        return cy_fail(err, COMITY_ERR_INVALID, "scrypt stanza (header line %zu): body is %zu "
                       "bytes, not 32", s->line, s->body_len);
    comity_err rc = scrypt_key(wrap, pw, salt, log_n, err);
    if (!rc && crypto_aead_chacha20poly1305_ietf_decrypt(file_key, NULL, NULL, s->body,
                                                         s->body_len, NULL, 0, zero_nonce,
                                                         wrap) == 0)
        *found = true;
    sodium_memzero(wrap, sizeof wrap);
    return rc;
}

/* Appends the scrypt stanza wrapping file_key. */
static comity_err scrypt_wrap(cy_buf *hb, const passphrase *pw, const uint8_t file_key[FILE_KEY],
                              comity_error *err)
{
    uint8_t salt[SCRYPT_SALT], wrap[32], body[FILE_KEY + TAG];
    char s64[SCRYPT_SALT_B64 + 1], b64[MAC_B64 + 1];
    randombytes_buf(salt, sizeof salt);
    comity_err rc = scrypt_key(wrap, pw, salt, pw->log_n, err);
    if (!rc) {
        crypto_aead_chacha20poly1305_ietf_encrypt(body, NULL, file_key, FILE_KEY, NULL, 0, NULL,
                                                  zero_nonce, wrap);
        cy_b64_encode(s64, sizeof s64, salt, sizeof salt, CY_B64_STD_NOPAD);
        cy_b64_encode(b64, sizeof b64, body, sizeof body, CY_B64_STD_NOPAD);
        if ((rc = cy_buf_printf(hb, "-> scrypt %s %u\n%s\n", s64, pw->log_n, b64)))
            rc = header_grow_fail(err, rc);
    }
    sodium_memzero(wrap, sizeof wrap);
    return rc;
}

/* ===================================================================== */
/* Batches of chunks                                                     */
/* ===================================================================== */

/*
 * The payload is processed BATCH chunks at a time: fewer, larger reads and
 * writes, and a plan of the chunk layout made once per batch.  Results are
 * used strictly in chunk order.  (Chunks are independent, so a batch could
 * be shared between threads; measured on the shared 2-core build machine,
 * a helper thread per batch was slower under load than one thread, and a
 * library should not spawn threads behind its caller's back anyway.)
 */
typedef struct batch {
    bool seal;              /* encrypt (else decrypt) */
    const uint8_t *in;      /* chunks back to back: CHUNK (seal) / CT_CHUNK */
    uint8_t *out;           /* CT_CHUNK (seal) / CHUNK (open) apart */
    size_t m;               /* chunks in the batch, >= 1 */
    size_t last_len;        /* input bytes of the last chunk */
    bool final;             /* the last chunk is the file's final chunk */
    uint64_t counter0;      /* chunk number of the first */
    const uint8_t *key;     /* payload key */
    bool ok[BATCH];         /* open: chunk i authenticated */
} batch;

/* Splits `len` input bytes into chunks (the last one final when `final`;
 * an empty final input is one empty chunk). */
static void batch_plan(batch *b, bool seal, const uint8_t *in, size_t len, bool final,
                       uint64_t counter0)
{
    size_t unit = seal ? CHUNK : CT_CHUNK;
    memset(b, 0, sizeof *b);
    b->seal = seal;
    b->in = in;
    b->final = final;
    b->counter0 = counter0;
    b->m = len == 0 ? 1 : (len + unit - 1) / unit;
    b->last_len = len - (b->m - 1) * unit;
}

static size_t chunk_in_len(const batch *b, size_t i)
{
    return i == b->m - 1 ? b->last_len : (b->seal ? CHUNK : CT_CHUNK);
}

/* Seals or opens every chunk of the batch (open: chunks of at least TAG
 * bytes, which the caller checks; each chunk's verdict goes to ok[]). */
static void batch_run(batch *b)
{
    uint8_t n[12];
    for (size_t i = 0; i < b->m; i++) {
        size_t len = chunk_in_len(b, i);
        chunk_nonce(n, b->counter0 + i, b->final && i == b->m - 1);
        if (b->seal) {
            uint8_t *c = b->out + i * CT_CHUNK;
            crypto_aead_chacha20poly1305_ietf_encrypt_detached(
                c, c + len, NULL, b->in + i * CHUNK, len, NULL, 0, NULL, n, b->key);
        } else {
            const uint8_t *c = b->in + i * CT_CHUNK;
            b->ok[i] = crypto_aead_chacha20poly1305_ietf_decrypt_detached(
                           b->out + i * CHUNK, NULL, c, len - TAG, c + len - TAG, NULL, 0,
                           n, b->key) == 0;
        }
    }
}

/* ===================================================================== */
/* Seal                                                                  */
/* ===================================================================== */

static comity_err seal_core(rawin *src, sink *out, const char *const *rcpt,
                            size_t n, const passphrase *pw, comity_error *err)
{
    uint8_t file_key[FILE_KEY], nonce[PAYLOAD_NONCE], pkey[32], mac[32];
    char mac64[MAC_B64 + 1];
    uint8_t *pks = NULL, *in = NULL;
    cy_buf hb;
    cy_buf_init(&hb, COMITY_AGE_HEADER_MAX);
    comity_err rc = COMITY_OK;
    if (n == 0 && !pw)
        return cy_fail(err, COMITY_ERR_USAGE, "no recipients to seal to");
    if (n > COMITY_AGE_STANZAS_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "more than %d recipients",
                       COMITY_AGE_STANZAS_MAX);
    pks = cy_malloc(n ? n * 32 : 1);
    if (src->f)
        in = cy_malloc(BATCH * CHUNK + 1);
    if (!pks || (src->f && !in)) {
        rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        if (!rcpt[i]) {
            rc = cy_fail(err, COMITY_ERR_USAGE, "recipient %zu is NULL", i + 1);
            goto done;
        }
        if ((rc = cy_age_recipient_decode(rcpt[i], strlen(rcpt[i]), pks + 32 * i, err))) {
            cy_wrap(err, "recipient %zu", i + 1);
            goto done;
        }
    }
    randombytes_buf(file_key, sizeof file_key);
    if ((rc = cy_buf_puts(&hb, VERSION_LINE "\n"))) {
        rc = header_grow_fail(err, rc);
        goto done;
    }
    if (pw && (rc = scrypt_wrap(&hb, pw, file_key, err)))
        goto done;
    for (size_t i = 0; !pw && i < n; i++)
        if ((rc = x25519_wrap(&hb, pks + 32 * i, i + 1, file_key, err)))
            goto done;
    if ((rc = cy_buf_puts(&hb, "---"))) {
        rc = header_grow_fail(err, rc);
        goto done;
    }
    header_mac(mac, file_key, hb.data, hb.len);
    cy_b64_encode(mac64, sizeof mac64, mac, sizeof mac, CY_B64_STD_NOPAD);
    if ((rc = cy_buf_printf(&hb, " %s\n", mac64))) {
        rc = header_grow_fail(err, rc);
        goto done;
    }
    randombytes_buf(nonce, sizeof nonce);
    hkdf(pkey, file_key, FILE_KEY, nonce, sizeof nonce, "payload");
    if ((rc = sink_begin(out, err)) || (rc = sink_write(out, hb.data, hb.len, err)) ||
        (rc = sink_write(out, nonce, sizeof nonce, err)))
        goto done;

    /* A batch at a time.  One byte of look-ahead past a full batch tells
     * whether its last chunk is the final one: an empty input is one empty
     * final chunk, and an input of exactly k * 64 KiB ends in a full final
     * chunk (never in an extra empty one).  Input in memory is encrypted
     * where it lies. */
    size_t have = 0;
    for (uint64_t counter = 0;;) {
        const uint8_t *pt = in;
        if (!src->f) {
            pt = src->buf + src->pos;
            have = src->len - src->pos;
        } else {
            have += raw_read(src, in + have, BATCH * CHUNK + 1 - have);
            if (src->ioerr) {
                rc = io_fail(err, src->ioerr);
                goto done;
            }
        }
        bool final = have <= BATCH * CHUNK;
        size_t body = final ? have : BATCH * CHUNK;
        batch b;
        batch_plan(&b, true, pt, body, final, counter);
        size_t outlen = body + b.m * TAG;
        if ((rc = sink_space(out, outlen, &b.out, err)))
            goto done;
        b.key = pkey;
        batch_run(&b);
        if ((rc = sink_commit(out, outlen, err)) || final)
            break;
        counter += b.m;
        if (!src->f) {
            src->pos += body;
        } else {
            in[0] = in[BATCH * CHUNK];
            have = 1;
        }
    }
    if (!rc)
        rc = sink_finish(out, err);
done:
    sodium_memzero(file_key, sizeof file_key);
    sodium_memzero(pkey, sizeof pkey);
    cy_free(pks);
    cy_free_secret(in, in ? BATCH * CHUNK + 1 : 0);
    cy_buf_free(&hb);
    return rc;
}

/* ===================================================================== */
/* Open                                                                  */
/* ===================================================================== */

/* Says why chunk i of an opened batch did not authenticate: if it does
 * with the other last-chunk flag, the file was cut after a chunk or had a
 * chunk added after its end; otherwise it was altered (verification only,
 * nothing is decrypted). */
static comity_err chunk_failure(const batch *b, size_t i, comity_error *err)
{
    uint8_t cn[12];
    unsigned long long c = (unsigned long long)(b->counter0 + i);
    bool final = b->final && i == b->m - 1;
    size_t clen = chunk_in_len(b, i);
    const uint8_t *ct = b->in + i * CT_CHUNK;
    chunk_nonce(cn, b->counter0 + i, !final);
    bool other = crypto_aead_chacha20poly1305_ietf_decrypt_detached(
                     NULL, NULL, ct, clen - TAG, ct + clen - TAG, NULL, 0, cn, b->key) == 0;
    if (other && final)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "payload ends after chunk %llu, which is not flagged as "
                       "the final chunk (truncated)", c);
    if (other)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "trailing data after the final chunk (chunk %llu)", c);
    return cy_fail(err, COMITY_ERR_VERIFY,
                   "payload chunk %llu does not authenticate (altered, "
                   "reordered, truncated or with data appended)", c);
}

/* Opens one batch and emits its plaintext, or the plaintext of the chunks
 * before the first one that fails, and the failure. */
static comity_err open_batch(batch *b, sink *out, comity_error *err)
{
    unsigned long long last = (unsigned long long)(b->counter0 + b->m - 1);
    comity_err rc;
    if (b->last_len < TAG && b->m > 1) {
        /* the chunks before a truncated one are judged first, in order */
        batch head = *b;
        head.m--;
        head.last_len = CT_CHUNK;
        head.final = false;
        if ((rc = open_batch(&head, out, err)))
            return rc;
    }
    if (b->last_len < TAG)
        return b->counter0 + b->m == 1 && b->last_len == 0
                   ? cy_fail(err, COMITY_ERR_INVALID,
                             "payload truncated: no chunk after the nonce")
                   : cy_fail(err, COMITY_ERR_INVALID,
                             "payload truncated: chunk %llu has %zu bytes, fewer than "
                             "its 16-byte tag", last, b->last_len);
    size_t ptlen = (b->m - 1) * CHUNK + b->last_len - TAG;
    if ((rc = sink_space(out, ptlen, &b->out, err)))
        return rc;
    batch_run(b);
    size_t good = 0;
    while (good < b->m && b->ok[good])
        good++;
    if (good < b->m) {
        if (good && (rc = sink_commit(out, good * CHUNK, err)))
            return rc;
        return chunk_failure(b, good, err);
    }
    if (b->final && b->last_len == TAG && last > 0) {
        if ((rc = sink_commit(out, ptlen, err)))
            return rc;
        return cy_fail(err, COMITY_ERR_INVALID,
                       "final chunk %llu is empty (only an empty file ends in an "
                       "empty chunk)", last);
    }
    return sink_commit(out, ptlen, err);
}

/* Decrypts the payload after the header, a batch of chunks at a time.  The
 * last batch is the one followed by nothing (one byte of look-ahead).
 * Binary input in memory is decrypted where it lies; other input is read
 * into one batch buffer. */
static comity_err open_payload(agein *in, sink *out, const uint8_t file_key[FILE_KEY],
                               comity_error *err)
{
    uint8_t nonce[PAYLOAD_NONCE], pkey[32];
    size_t got = 0, have = 0;
    uint8_t *ct = NULL;
    bool mem = !in->armored && !in->raw.f;
    comity_err rc = in_read(in, nonce, sizeof nonce, &got, err);
    if (rc)
        return rc;
    if (got < sizeof nonce)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "payload truncated: its nonce has %zu of 16 bytes", got);
    hkdf(pkey, file_key, FILE_KEY, nonce, sizeof nonce, "payload");
    if (!mem && !(ct = cy_malloc(BATCH * CT_CHUNK + 1))) {
        rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (uint64_t counter = 0;;) {
        const uint8_t *src = ct;
        if (mem) {
            src = in->raw.buf + in->raw.pos;
            have = in->raw.len - in->raw.pos;
        } else {
            if ((rc = in_read(in, ct + have, BATCH * CT_CHUNK + 1 - have, &got, err)))
                break;
            have += got;
        }
        bool final = have <= BATCH * CT_CHUNK;
        size_t body = final ? have : BATCH * CT_CHUNK;
        batch b;
        batch_plan(&b, false, src, body, final, counter);
        b.key = pkey;
        if ((rc = open_batch(&b, out, err)) || final)
            break;
        counter += b.m;
        if (mem) {
            in->raw.pos += body;
            in->raw.off += body;
        } else {
            ct[0] = ct[BATCH * CT_CHUNK];
            have = 1;
        }
    }
done:
    if (!rc)
        rc = sink_finish(out, err);
    sodium_memzero(pkey, sizeof pkey);
    cy_free(ct);
    return rc;
}

static comity_err open_core(agein *in, sink *out, const comity_identities *ids,
                            const passphrase *pw, comity_error *err)
{
    uint8_t file_key[FILE_KEY], mac[32];
    bool found = false;
    size_t nx = 0, nscrypt = 0;
    if (!pw && (!ids || ids->n == 0))
        return cy_fail(err, COMITY_ERR_USAGE, "no identities to open with");
    hdr *h = hdr_new();
    if (!h)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    comity_err rc = in_start(in, err);
    if (!rc)
        rc = hdr_parse(in, h, err);
    /* c2sp.org/age: an scrypt stanza must be alone (passphrase files carry
     * an implicit promise of authenticity that other stanzas would break). */
    for (size_t i = 0; !rc && h->n > 1 && i < h->n; i++)
        if (strcmp(h->st[i].args[0], "scrypt") == 0)
            rc = cy_fail(err, COMITY_ERR_INVALID,
                         "stanza %zu (header line %zu): an scrypt stanza must be the "
                         "only stanza in the header", i + 1, h->st[i].line);
    if (!rc && pw) {
        if (h->n == 1 && strcmp(h->st[0].args[0], "scrypt") == 0) {
            rc = scrypt_unwrap(&h->st[0], pw, file_key, &found, err);
            if (!rc && !found)
                rc = cy_fail(err, COMITY_ERR_NOKEY, "wrong passphrase: the scrypt stanza does "
                             "not open with it");
        } else {
            rc = cy_fail(err, COMITY_ERR_NOKEY, "not sealed with a passphrase: its %zu stanza(s) "
                         "are for recipients ('%.16s'...): open it with an identity", h->n,
                         h->st[0].args[0]);
        }
    }
    for (size_t i = 0; !rc && !pw && !found && i < h->n; i++) {
        if (strcmp(h->st[i].args[0], "X25519") == 0) {
            nx++;
            rc = x25519_unwrap(&h->st[i], i + 1, ids, file_key, &found, err);
        } else if (strcmp(h->st[i].args[0], "scrypt") == 0) {
            nscrypt++;
        }
    }
    if (!rc && !found) {
        if (nx == 0 && nscrypt)
            rc = cy_fail(err, COMITY_ERR_NOKEY,
                         "sealed with a passphrase (scrypt): open it with the passphrase, "
                         "not an identity");
        else if (nx == 0)
            rc = cy_fail(err, COMITY_ERR_NOKEY,
                         "no X25519 stanza among the %zu recipient stanzas (other "
                         "recipient types are not supported)", h->n);
        else
            rc = cy_fail(err, COMITY_ERR_NOKEY,
                         "wrong key: none of the %zu identities opens any of the %zu "
                         "X25519 stanzas", ids->n, nx);
    }
    if (!rc) {
        header_mac(mac, file_key, h->raw.data, h->raw.len);
        if (crypto_verify_32(mac, h->mac) != 0)
            rc = cy_fail(err, COMITY_ERR_VERIFY,
                         "header MAC does not verify (the header was altered)");
    }
    if (!rc)
        rc = open_payload(in, out, file_key, err);
    sodium_memzero(file_key, sizeof file_key);
    hdr_free(h);
    return rc;
}

/* ===================================================================== */
/* Public entry points                                                   */
/* ===================================================================== */

/* Stands in for a NULL input of length 0 (no arithmetic on NULL). */
static const uint8_t empty_input[1];

comity_err comity_seal_stream(FILE *in, FILE *out, const char *const *recipients,
                              size_t n, int armor, comity_error *err)
{
    rawin src;
    sink snk;
    comity_err rc = comity_init(err);
    if (rc)
        return rc;
    if (!in || !out || (n && !recipients))
        return cy_fail(err, COMITY_ERR_USAGE, "seal: missing stream or recipients");
    if ((rc = raw_init_file(&src, in, err)))
        return rc;
    if (!(rc = sink_init(&snk, out, NULL, armor != 0, err)))
        rc = seal_core(&src, &snk, recipients, n, NULL, err);
    sink_free(&snk);
    raw_free(&src);
    return rc;
}

comity_err comity_open_stream(FILE *in, FILE *out, const comity_identities *ids,
                              comity_error *err)
{
    agein src;
    sink snk;
    comity_err rc = comity_init(err);
    if (rc)
        return rc;
    if (!in || !out)
        return cy_fail(err, COMITY_ERR_USAGE, "open: missing stream");
    memset(&src, 0, sizeof src);
    if ((rc = raw_init_file(&src.raw, in, err)))
        return rc;
    if (!(rc = sink_init(&snk, out, NULL, false, err)))
        rc = open_core(&src, &snk, ids, NULL, err);
    sink_free(&snk);
    raw_free(&src.raw);
    return rc;
}

comity_err comity_seal_mem(const void *in, size_t len, const char *const *recipients,
                           size_t n, int armor, uint8_t **out, size_t *out_len,
                           comity_error *err)
{
    rawin src;
    sink snk;
    cy_buf buf;
    comity_err rc = comity_init(err);
    if (rc)
        return rc;
    if ((!in && len) || !out || (n && !recipients))
        return cy_fail(err, COMITY_ERR_USAGE, "seal: missing input or output");
    raw_init_mem(&src, len ? in : empty_input, len);
    cy_buf_init(&buf, SIZE_MAX - 1);
    /* binary size: header + nonce + len + a tag per chunk (armor grows) */
    size_t est = 64 + n * 128 + PAYLOAD_NONCE + len + (len / CHUNK + 1) * TAG;
    if (!armor && est > len && cy_buf_reserve(&buf, est))
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    if (!(rc = sink_init(&snk, NULL, &buf, armor != 0, err)))
        rc = seal_core(&src, &snk, recipients, n, NULL, err);
    sink_free(&snk);
    if (rc) {
        cy_buf_free(&buf);
        return rc;
    }
    *out = cy_buf_detach(&buf, out_len);
    if (!*out)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    return COMITY_OK;
}

comity_err comity_open_mem(const void *in, size_t len, const comity_identities *ids,
                           uint8_t **out, size_t *out_len, comity_error *err)
{
    agein src;
    sink snk;
    cy_buf buf;
    comity_err rc = comity_init(err);
    if (rc)
        return rc;
    if ((!in && len) || !out)
        return cy_fail(err, COMITY_ERR_USAGE, "open: missing input or output");
    memset(&src, 0, sizeof src);
    raw_init_mem(&src.raw, len ? in : empty_input, len);
    /* The plaintext is never longer than the file: one allocation. */
    cy_buf_init(&buf, len);
    if (cy_buf_reserve(&buf, len))
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    if (!(rc = sink_init(&snk, NULL, &buf, false, err)))
        rc = open_core(&src, &snk, ids, NULL, err);
    sink_free(&snk);
    if (rc) {
        cy_buf_free_secret(&buf);
        return rc;
    }
    *out = cy_buf_detach(&buf, out_len);
    if (!*out)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    return COMITY_OK;
}

/* A passphrase's bounds (both directions). */
static comity_err pass_check(const char *pass, size_t len, comity_error *err)
{
    if (!pass || len == 0)
        return cy_fail(err, COMITY_ERR_USAGE, "an empty passphrase");
    if (len > COMITY_AGE_PASSPHRASE_MAX)
        return cy_fail(err, COMITY_ERR_USAGE, "a passphrase over %d bytes",
                       COMITY_AGE_PASSPHRASE_MAX);
    return COMITY_OK;
}

comity_err comity_seal_passphrase_mem(const void *in, size_t len, const char *pass,
                                      size_t pass_len, unsigned log_n, int armor, uint8_t **out,
                                      size_t *out_len, comity_error *err)
{
    rawin src;
    sink snk;
    cy_buf buf;
    comity_err rc = comity_init(err);
    if (rc || (rc = pass_check(pass, pass_len, err)))
        return rc;
    if ((!in && len) || !out)
        return cy_fail(err, COMITY_ERR_USAGE, "seal: missing input or output");
    if (log_n == 0)
        log_n = COMITY_AGE_SCRYPT_LOGN;
    if (log_n > COMITY_AGE_SCRYPT_LOGN_MAX)
        return cy_fail(err, COMITY_ERR_USAGE, "seal: scrypt work factor 2^%u above the cap 2^%d",
                       log_n, COMITY_AGE_SCRYPT_LOGN_MAX);
    passphrase pw = {(const uint8_t *)pass, pass_len, log_n};
    raw_init_mem(&src, len ? in : empty_input, len);
    cy_buf_init(&buf, SIZE_MAX - 1);
    if (!(rc = sink_init(&snk, NULL, &buf, armor != 0, err)))
        rc = seal_core(&src, &snk, NULL, 0, &pw, err);
    sink_free(&snk);
    if (rc) {
        cy_buf_free(&buf);
        return rc;
    }
    *out = cy_buf_detach(&buf, out_len);
    return *out ? COMITY_OK : cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
}

comity_err comity_open_passphrase_mem(const void *in, size_t len, const char *pass,
                                      size_t pass_len, unsigned max_log_n, uint8_t **out,
                                      size_t *out_len, comity_error *err)
{
    agein src;
    sink snk;
    cy_buf buf;
    comity_err rc = comity_init(err);
    if (rc || (rc = pass_check(pass, pass_len, err)))
        return rc;
    if ((!in && len) || !out)
        return cy_fail(err, COMITY_ERR_USAGE, "open: missing input or output");
    if (max_log_n == 0 || max_log_n > COMITY_AGE_SCRYPT_LOGN_MAX)
        max_log_n = COMITY_AGE_SCRYPT_LOGN_MAX;
    passphrase pw = {(const uint8_t *)pass, pass_len, max_log_n};
    memset(&src, 0, sizeof src);
    raw_init_mem(&src.raw, len ? in : empty_input, len);
    cy_buf_init(&buf, len);
    if (cy_buf_reserve(&buf, len))
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    if (!(rc = sink_init(&snk, NULL, &buf, false, err)))
        rc = open_core(&src, &snk, NULL, &pw, err);
    sink_free(&snk);
    if (rc) {
        cy_buf_free_secret(&buf);
        return rc;
    }
    *out = cy_buf_detach(&buf, out_len);
    return *out ? COMITY_OK : cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
}

comity_err cy_age_header_check(const uint8_t *data, size_t len, size_t *nstanzas,
                               size_t *header_len, comity_error *err)
{
    agein src;
    memset(&src, 0, sizeof src);
    raw_init_mem(&src.raw, data, len);
    hdr *h = hdr_new();
    if (!h)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    comity_err rc = hdr_parse(&src, h, err);
    if (!rc && nstanzas)
        *nstanzas = h->n;
    if (!rc && header_len)
        *header_len = (size_t)src.raw.off;
    hdr_free(h);
    return rc;
}

comity_err cy_age_dearmor(const uint8_t *data, size_t len, uint8_t **out,
                          size_t *out_len, comity_error *err)
{
    agein src;
    memset(&src, 0, sizeof src);
    raw_init_mem(&src.raw, data, len);
    comity_err rc = in_start(&src, err);
    if (!rc && !src.armored)
        rc = cy_fail(err, COMITY_ERR_INVALID, "armor: no BEGIN line");
    cy_buf b;
    cy_buf_init(&b, len);
    uint8_t tmp[4096];
    while (!rc) {
        size_t got = 0;
        if ((rc = in_read(&src, tmp, sizeof tmp, &got, err)))
            break;
        if (got && (rc = cy_buf_append(&b, tmp, got)))
            rc = cy_fail(err, rc, "armor: output too large");
        if (got < sizeof tmp)
            break;
    }
    if (rc) {
        cy_buf_free(&b);
        return rc;
    }
    *out = cy_buf_detach(&b, out_len);
    return *out ? COMITY_OK : cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
}
