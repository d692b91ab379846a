/*
 * note.c: C2SP signed notes, verifier keys and note signing keys.
 *
 * c2sp.org/signed-note: a note is UTF-8 text (no control characters but
 * '\n') ending in '\n', one empty line, then signature lines
 * "— <key name> <base64(4-byte key id || signature)>\n".  A verifier key is
 * "<name>+<8 hex key id>+<base64(type || public key)>", where the key id is
 * the first four bytes of SHA-256(name || '\n' || type || public key).
 *
 * Two signature types are understood: 0x01, plain Ed25519 over the note
 * text, and 0x04, the timestamped Ed25519 cosignature of
 * c2sp.org/tlog-cosignature, whose signed message is
 * "cosignature/v1\ntime <t>\n" followed by the text and whose signature
 * bytes are an 8-byte big-endian timestamp followed by the Ed25519 signature.
 *
 * Signing keys use Go's x/mod text form PRIVATE+KEY+name+hexid+base64(type ||
 * 32-byte seed); C2SP defines no private key format.
 *
 * Keys are checked when read, not when used: a verifier key that libsodium
 * would refuse (small order, non-canonical) is refused at parse time, so a
 * misconfigured key is an error on the operator's screen rather than a note
 * that mysteriously never verifies.
 */
#include <string.h>

#include "crypto/note.h"

#define SKEY_PREFIX "PRIVATE+KEY+"

/* ---- helpers --------------------------------------------------------- */

uint32_t cy_note_key_id(const char *name, size_t name_len, uint8_t type,
                        const uint8_t pk[32])
{
    crypto_hash_sha256_state st;
    uint8_t h[32];
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)name, name_len);
    crypto_hash_sha256_update(&st, (const uint8_t *)"\n", 1);
    crypto_hash_sha256_update(&st, &type, 1);
    crypto_hash_sha256_update(&st, pk, 32);
    crypto_hash_sha256_final(&st, h);
    return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
}

static bool is_unicode_space(uint32_t cp)
{
    switch (cp) {
    case 0x09: case 0x0a: case 0x0b: case 0x0c: case 0x0d: case 0x20:
    case 0x85: case 0xa0: case 0x1680: case 0x2028: case 0x2029:
    case 0x202f: case 0x205f: case 0x3000:
        return true;
    default:
        return cp >= 0x2000 && cp <= 0x200a;
    }
}

bool cy_note_name_valid(const char *name, size_t len)
{
    if (len == 0 || len >= CY_NOTE_NAME_MAX)
        return false;
    const uint8_t *s = (const uint8_t *)name;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = cy_utf8_decode(s + i, len - i, &cp);
        if (n == 0 || cp == '+' || is_unicode_space(cp) || cp < 0x20 || cp == 0x7f)
            return false;
        i += n;
    }
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Parses exactly 8 lowercase hex digits. */
static bool parse_id(const char *s, size_t len, uint32_t *id)
{
    if (len != 8)
        return false;
    uint32_t v = 0;
    for (size_t i = 0; i < 8; i++) {
        int d = hexval(s[i]);
        if (d < 0)
            return false;
        v = v << 4 | (uint32_t)d;
    }
    *id = v;
    return true;
}

/* Refuses public keys libsodium would refuse at verification time. */
static comity_err check_ed25519_pk(const uint8_t pk[32], comity_error *err)
{
    /* crypto_sign_ed25519_pk_to_curve25519 fails on small-order and
     * non-canonical points, the same checks crypto_sign_verify_detached
     * applies to the key. */
    uint8_t x[32];
    if (crypto_sign_ed25519_pk_to_curve25519(x, pk) != 0)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "public key is not a usable Ed25519 key (small order or non-canonical)");
    sodium_memzero(x, sizeof x);
    return COMITY_OK;
}

static char *format_vkey(const char *name, uint32_t id, uint8_t type, const uint8_t pk[32])
{
    uint8_t raw[33];
    raw[0] = type;
    memcpy(raw + 1, pk, 32);
    char b64[64];
    cy_b64_encode(b64, sizeof b64, raw, sizeof raw, CY_B64_STD);
    cy_buf b;
    cy_buf_init(&b, 1024);
    if (cy_buf_printf(&b, "%s+%08x+%s", name, id, b64) != COMITY_OK) {
        cy_buf_free(&b);
        return NULL;
    }
    return (char *)cy_buf_detach(&b, NULL);
}

/* ---- verifier keys ---------------------------------------------------- */

comity_err comity_vkey_parse(const char *text, size_t len, comity_vkey **out,
                             comity_error *err)
{
    *out = NULL;
    if (len > 1024)
        return cy_fail(err, COMITY_ERR_TOOBIG, "verifier key longer than 1024 bytes");
    const char *p1 = memchr(text, '+', len);
    const char *p2 = p1 ? memchr(p1 + 1, '+', len - (size_t)(p1 + 1 - text)) : NULL;
    if (!p1 || !p2)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "verifier key: want NAME+KEYID+KEY, found %s '+'", p1 ? "one" : "no");
    size_t name_len = (size_t)(p1 - text);
    if (!cy_note_name_valid(text, name_len))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "verifier key: bad key name (empty, whitespace or not UTF-8)");
    uint32_t id;
    if (!parse_id(p1 + 1, (size_t)(p2 - p1 - 1), &id))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "verifier key: key id at byte %zu is not 8 lowercase hex digits",
                       name_len + 1);
    const char *k = p2 + 1;
    size_t klen = len - (size_t)(k - text);
    uint8_t raw[64];
    size_t rawlen;
    comity_error sub = {0};
    if (cy_b64_decode(raw, sizeof raw, &rawlen, k, klen, CY_B64_STD, &sub))
        return cy_fail(err, COMITY_ERR_INVALID, "verifier key: key at byte %zu: %s",
                       (size_t)(k - text), sub.msg);
    if (rawlen < 1)
        return cy_fail(err, COMITY_ERR_INVALID, "verifier key: empty key");
    uint8_t type = raw[0];
    if (type != COMITY_NOTE_ED25519 && type != COMITY_NOTE_COSIG_V1)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "verifier key: unknown algorithm byte 0x%02x", type);
    if (rawlen != 33)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "verifier key: Ed25519 key is %zu bytes, want 32", rawlen - 1);
    if (cy_note_key_id(text, name_len, type, raw + 1) != id)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "verifier key: key id %08x does not match the key", id);
    if (check_ed25519_pk(raw + 1, err))
        return cy_wrap(err, "verifier key");
    comity_vkey *v = cy_calloc(1, sizeof *v);
    if (!v)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    memcpy(v->name, text, name_len);
    v->name[name_len] = 0;
    v->id = id;
    v->type = type;
    memcpy(v->pk, raw + 1, 32);
    v->text = cy_strndup(text, len);
    if (!v->text) {
        cy_free(v);
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    }
    *out = v;
    return COMITY_OK;
}

void comity_vkey_free(comity_vkey *v)
{
    if (v) {
        cy_free(v->text);
        cy_free(v);
    }
}

const char *comity_vkey_name(const comity_vkey *v) { return v->name; }
uint32_t comity_vkey_id(const comity_vkey *v) { return v->id; }
int comity_vkey_type(const comity_vkey *v) { return v->type; }
const char *comity_vkey_text(const comity_vkey *v) { return v->text; }

/* ---- signing keys ----------------------------------------------------- */

static comity_err nkey_from_seed(const char *name, size_t name_len, uint8_t type,
                                 const uint8_t seed[32], comity_nkey **out,
                                 comity_error *err)
{
    comity_nkey *k = cy_calloc(1, sizeof *k);
    if (!k)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    memcpy(k->name, name, name_len);
    k->name[name_len] = 0;
    k->type = type;
    crypto_sign_seed_keypair(k->pk, k->sk, seed);
    k->id = cy_note_key_id(name, name_len, type, k->pk);
    k->vkey = format_vkey(k->name, k->id, type, k->pk);
    uint8_t raw[33];
    raw[0] = type;
    memcpy(raw + 1, seed, 32);
    char b64[64];
    cy_b64_encode(b64, sizeof b64, raw, sizeof raw, CY_B64_STD);
    sodium_memzero(raw, sizeof raw);
    cy_buf b;
    cy_buf_init(&b, 1024);
    if (cy_buf_printf(&b, SKEY_PREFIX "%s+%08x+%s", k->name, k->id, b64) == COMITY_OK)
        k->text = (char *)cy_buf_detach(&b, NULL);
    else
        cy_buf_free_secret(&b);
    sodium_memzero(b64, sizeof b64);
    if (!k->vkey || !k->text) {
        comity_nkey_free(k);
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    }
    *out = k;
    return COMITY_OK;
}

comity_err comity_nkey_generate(const char *name, int type, comity_nkey **out,
                                comity_error *err)
{
    *out = NULL;
    if (comity_init(err))
        return cy_err_code(err);
    size_t name_len = strlen(name);
    if (!cy_note_name_valid(name, name_len))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "key name '%s' is empty, too long, or has whitespace or '+'", name);
    if (type != COMITY_NOTE_ED25519 && type != COMITY_NOTE_COSIG_V1)
        return cy_fail(err, COMITY_ERR_USAGE, "unknown signature type 0x%02x", (unsigned)type);
    uint8_t seed[32];
    randombytes_buf(seed, sizeof seed);
    comity_err rc = nkey_from_seed(name, name_len, (uint8_t)type, seed, out, err);
    sodium_memzero(seed, sizeof seed);
    return rc;
}

comity_err comity_nkey_parse(const char *text, size_t len, comity_nkey **out,
                             comity_error *err)
{
    *out = NULL;
    const size_t plen = sizeof SKEY_PREFIX - 1;
    if (len > 1024)
        return cy_fail(err, COMITY_ERR_TOOBIG, "signing key longer than 1024 bytes");
    if (len < plen || memcmp(text, SKEY_PREFIX, plen) != 0)
        return cy_fail(err, COMITY_ERR_INVALID, "signing key: does not start with " SKEY_PREFIX);
    const char *name = text + plen;
    size_t rest = len - plen;
    const char *p1 = memchr(name, '+', rest);
    const char *p2 = p1 ? memchr(p1 + 1, '+', rest - (size_t)(p1 + 1 - name)) : NULL;
    if (!p1 || !p2)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "signing key: want " SKEY_PREFIX "NAME+KEYID+KEY");
    size_t name_len = (size_t)(p1 - name);
    if (!cy_note_name_valid(name, name_len))
        return cy_fail(err, COMITY_ERR_INVALID, "signing key: bad key name");
    uint32_t id;
    if (!parse_id(p1 + 1, (size_t)(p2 - p1 - 1), &id))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "signing key: key id is not 8 lowercase hex digits");
    const char *k = p2 + 1;
    uint8_t raw[64];
    size_t rawlen;
    comity_error sub = {0};
    if (cy_b64_decode(raw, sizeof raw, &rawlen, k, len - (size_t)(k - text), CY_B64_STD, &sub))
        return cy_fail(err, COMITY_ERR_INVALID, "signing key: %s", sub.msg);
    if (rawlen != 33 || (raw[0] != COMITY_NOTE_ED25519 && raw[0] != COMITY_NOTE_COSIG_V1)) {
        sodium_memzero(raw, sizeof raw);
        return cy_fail(err, COMITY_ERR_INVALID,
                       "signing key: want type 0x01 or 0x04 and a 32-byte seed");
    }
    comity_nkey *key;
    comity_err rc = nkey_from_seed(name, name_len, raw[0], raw + 1, &key, err);
    sodium_memzero(raw, sizeof raw);
    if (rc)
        return rc;
    if (key->id != id) {
        comity_nkey_free(key);
        return cy_fail(err, COMITY_ERR_INVALID,
                       "signing key: key id %08x does not match the key", id);
    }
    *out = key;
    return COMITY_OK;
}

#define NKEY_FILE_MAX 4096

comity_err comity_nkey_load(const char *path, comity_nkey **key, comity_error *err)
{
    char *text;
    size_t len, cap;
    *key = NULL;
    comity_err rc = comity_read_file(path, NKEY_FILE_MAX, &text, &len, err);
    if (rc)
        return rc;
    cap = len;
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        len--;
    rc = comity_nkey_parse(text, len, key, err);
    cy_free_secret(text, cap);
    return rc ? cy_wrap(err, "%s", path) : COMITY_OK;
}

comity_err comity_nkey_save(const comity_nkey *k, const char *path, comity_error *err)
{
    size_t n = strlen(k->text);
    char *line = cy_malloc(n + 1);
    if (!line)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    memcpy(line, k->text, n);
    line[n] = '\n';
    comity_err rc = comity_write_file(path, line, n + 1, 0600, 1, err);
    cy_free_secret(line, n + 1);
    return rc;
}

void comity_nkey_free(comity_nkey *k)
{
    if (!k)
        return;
    if (k->text)
        cy_free_secret(k->text, strlen(k->text));
    cy_free(k->vkey);
    sodium_memzero(k, sizeof *k);
    cy_free(k);
}

const char *comity_nkey_name(const comity_nkey *k) { return k->name; }
uint32_t comity_nkey_id(const comity_nkey *k) { return k->id; }
const char *comity_nkey_vkey(const comity_nkey *k) { return k->vkey; }
const char *comity_nkey_text(const comity_nkey *k) { return k->text; }

/* ---- notes ------------------------------------------------------------ */

static const char em_dash[] = "\xe2\x80\x94 ";

/* Checks the note text rules: UTF-8, no control characters but '\n'. */
static comity_err check_text(const char *s, size_t len, comity_error *err)
{
    const uint8_t *u = (const uint8_t *)s;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = cy_utf8_decode(u + i, len - i, &cp);
        if (n == 0)
            return cy_fail(err, COMITY_ERR_INVALID, "note: invalid UTF-8 at byte %zu", i);
        if ((cp < 0x20 && cp != '\n') || cp == 0x7f)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "note: control character 0x%02x at byte %zu", (unsigned)cp, i);
        i += n;
    }
    return COMITY_OK;
}

comity_err cy_note_parse(const char *note, size_t len, cy_note *out, comity_error *err)
{
    memset(out, 0, sizeof *out);
    if (len > COMITY_NOTE_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "note: longer than %u bytes", COMITY_NOTE_MAX);
    if (check_text(note, len, err))
        return cy_err_code(err);
    if (len == 0 || note[len - 1] != '\n')
        return cy_fail(err, COMITY_ERR_INVALID, "note: does not end with a newline");
    /* split at the last "\n\n" */
    size_t split = 0;
    bool found = false;
    for (size_t i = len - 1; i > 0; i--) {
        if (note[i] == '\n' && note[i - 1] == '\n') {
            split = i - 1;
            found = true;
            break;
        }
    }
    if (!found)
        return cy_fail(err, COMITY_ERR_INVALID, "note: no empty line before the signatures");
    out->text = note;
    out->text_len = split + 1;
    size_t pos = split + 2;
    if (pos >= len)
        return cy_fail(err, COMITY_ERR_INVALID, "note: no signature lines");
    while (pos < len) {
        const char *line = note + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t ll = (size_t)(nl - line);
        if (ll < 4 || memcmp(line, em_dash, 4) != 0)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "note: signature line at byte %zu does not start with '\xe2\x80\x94 '", pos);
        if (out->nsigs == COMITY_NOTE_MAX_SIGS)
            return cy_fail(err, COMITY_ERR_TOOBIG, "note: more than %d signatures",
                           COMITY_NOTE_MAX_SIGS);
        const char *name = line + 4;
        const char *sp = memchr(name, ' ', (size_t)(nl - name));
        if (!sp)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "note: signature line at byte %zu has no space after the name", pos);
        size_t name_len = (size_t)(sp - name);
        if (!cy_note_name_valid(name, name_len))
            return cy_fail(err, COMITY_ERR_INVALID,
                           "note: bad key name in signature line at byte %zu", pos);
        uint8_t raw[4 + sizeof out->sigs[0].sig];
        size_t rawlen;
        comity_error sub = {0};
        if (cy_b64_decode(raw, sizeof raw, &rawlen, sp + 1, (size_t)(nl - sp - 1),
                          CY_B64_STD, &sub))
            return cy_fail(err, COMITY_ERR_INVALID,
                           "note: signature at byte %zu: %s", (size_t)(sp + 1 - note), sub.msg);
        if (rawlen < 5)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "note: signature at byte %zu is too short", (size_t)(sp + 1 - note));
        cy_note_sig *s = &out->sigs[out->nsigs++];
        s->name = name;
        s->name_len = name_len;
        s->id = (uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 | (uint32_t)raw[2] << 8 | raw[3];
        memcpy(s->sig, raw + 4, rawlen - 4);
        s->sig_len = rawlen - 4;
        pos += ll + 1;
    }
    return COMITY_OK;
}

comity_err cy_note_append_sig(cy_buf *b, const char *name, uint32_t id,
                              const uint8_t *sig, size_t sig_len)
{
    uint8_t raw[4 + 128];
    if (sig_len > 128)
        return COMITY_ERR_INTERNAL;
    raw[0] = (uint8_t)(id >> 24);
    raw[1] = (uint8_t)(id >> 16);
    raw[2] = (uint8_t)(id >> 8);
    raw[3] = (uint8_t)id;
    memcpy(raw + 4, sig, sig_len);
    char b64[200];
    cy_b64_encode(b64, sizeof b64, raw, 4 + sig_len, CY_B64_STD);
    return cy_buf_printf(b, "%s%s %s\n", em_dash, name, b64);
}

comity_err comity_note_sign(const char *text, size_t len,
                            const comity_nkey *const *keys, size_t nkeys,
                            char **note, size_t *note_len, comity_error *err)
{
    *note = NULL;
    if (nkeys == 0)
        return cy_fail(err, COMITY_ERR_USAGE, "note: no signing key given");
    if (len == 0 || text[len - 1] != '\n')
        return cy_fail(err, COMITY_ERR_INVALID, "note text must end with a newline");
    if (len >= 2 && text[len - 2] == '\n')
        return cy_fail(err, COMITY_ERR_INVALID,
                       "note text must not end with an empty line");
    if (check_text(text, len, err))
        return cy_err_code(err);
    cy_buf b;
    cy_buf_init(&b, COMITY_NOTE_MAX);
    comity_err rc = cy_buf_append(&b, text, len);
    if (!rc)
        rc = cy_buf_puts(&b, "\n");
    for (size_t i = 0; !rc && i < nkeys; i++) {
        if (keys[i]->type != COMITY_NOTE_ED25519) {
            cy_buf_free(&b);
            return cy_fail(err, COMITY_ERR_USAGE,
                           "note: key '%s' is a cosigning key; cosign with the log module",
                           keys[i]->name);
        }
        uint8_t sig[crypto_sign_BYTES];
        crypto_sign_detached(sig, NULL, (const uint8_t *)text, len, keys[i]->sk);
        rc = cy_note_append_sig(&b, keys[i]->name, keys[i]->id, sig, sizeof sig);
    }
    if (rc) {
        cy_buf_free(&b);
        return cy_fail(err, rc, "note: %s", comity_strerror(rc));
    }
    *note = (char *)cy_buf_detach(&b, note_len);
    return COMITY_OK;
}

/* Checks one signature by a known key; 0 when it verifies. */
static int verify_one(const comity_vkey *k, const cy_note_sig *s, const char *text,
                      size_t text_len)
{
    if (k->type == COMITY_NOTE_ED25519) {
        if (s->sig_len != crypto_sign_BYTES)
            return -1;
        return crypto_sign_verify_detached(s->sig, (const uint8_t *)text, text_len, k->pk);
    }
    /* 0x04: timestamp (u64 BE) || Ed25519 over "cosignature/v1\ntime T\n" || text */
    if (s->sig_len != 8 + crypto_sign_BYTES)
        return -1;
    uint64_t t = 0;
    for (int i = 0; i < 8; i++)
        t = t << 8 | s->sig[i];
    if (t > INT64_MAX)
        return -1;
    char head[64];
    int hl = snprintf(head, sizeof head, "cosignature/v1\ntime %llu\n", (unsigned long long)t);
    uint8_t *msg = cy_malloc((size_t)hl + text_len);
    if (!msg)
        return -1;
    memcpy(msg, head, (size_t)hl);
    memcpy(msg + hl, text, text_len);
    int rc = crypto_sign_verify_detached(s->sig + 8, msg, (size_t)hl + text_len, k->pk);
    cy_free(msg);
    return rc;
}

comity_err comity_note_verify(const char *note, size_t len,
                              const comity_vkey *const *keys, size_t nkeys,
                              char **text, size_t *verified, comity_error *err)
{
    if (text)
        *text = NULL;
    if (verified)
        *verified = 0;
    if (comity_init(err))
        return cy_err_code(err);
    cy_note *n = cy_malloc(sizeof *n);
    if (!n)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    comity_err rc = cy_note_parse(note, len, n, err);
    if (rc)
        goto done;
    size_t ok = 0;
    for (size_t i = 0; i < n->nsigs; i++) {
        const cy_note_sig *s = &n->sigs[i];
        for (size_t j = 0; j < nkeys; j++) {
            const comity_vkey *k = keys[j];
            if (k->id != s->id || strlen(k->name) != s->name_len ||
                memcmp(k->name, s->name, s->name_len) != 0)
                continue;
            if (verify_one(k, s, n->text, n->text_len) != 0) {
                rc = cy_fail(err, COMITY_ERR_VERIFY,
                             "note: signature by %s+%08x does not verify", k->name, k->id);
                goto done;
            }
            ok++;
            break;
        }
    }
    if (ok == 0) {
        rc = cy_fail(err, COMITY_ERR_VERIFY, "note: no signature by a known key");
        goto done;
    }
    if (verified)
        *verified = ok;
    if (text) {
        *text = cy_strndup(n->text, n->text_len);
        if (!*text)
            rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    }
done:
    cy_free(n);
    return rc;
}
