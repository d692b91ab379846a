/*
 * key.c: a party's key: an Ed25519 signing key and an X25519 sealing key.
 *
 * The key file is an age identity file, so `age -i FILE` opens what was
 * sealed to the party; the party name, public identity and signing key ride
 * in '#' comment lines, which age ignores:
 *
 *   # comity party key for pk.pkcert, created 2026-11-23T06:40:00.000Z
 *   # public key: pk.pkcert+1a2b3c4d+AQ...
 *   # recipient: age1...
 *   # signing key: PRIVATE+KEY+pk.pkcert+1a2b3c4d+AQ...
 *   AGE-SECRET-KEY-1...
 *
 * When a file is read, the "public key" and "recipient" lines, if present,
 * must match what the secret keys derive; a mismatch means the file was
 * edited or corrupted and is refused rather than trusted.  The signing key's
 * name must be a valid party name.  The file is written with mode 0600 and
 * never over an existing file.
 */
#include <string.h>

#include <sodium.h>

#include "crypto/age.h"
#include "crypto/note.h"

#define KEYFILE_MAX 8192

struct comity_key {
    comity_nkey *signer;
    uint8_t x_sk[crypto_scalarmult_SCALARBYTES];
    uint8_t x_pk[crypto_scalarmult_BYTES];
    char recipient[CY_AGE_RECIPIENT_MAX];
    char created[CY_TIME_BUF];
};

static comity_err finish_x25519(comity_key *k, comity_error *err)
{
    if (crypto_scalarmult_base(k->x_pk, k->x_sk) != 0)
        return cy_fail(err, COMITY_ERR_INVALID, "sealing key: not a usable X25519 key");
    if (cy_age_recipient_encode(k->x_pk, k->recipient, sizeof k->recipient))
        return cy_fail(err, COMITY_ERR_INTERNAL, "sealing key: cannot encode recipient");
    return COMITY_OK;
}

comity_err comity_key_generate(const char *party, comity_key **out, comity_error *err)
{
    *out = NULL;
    if (comity_init(err))
        return cy_err_code(err);
    if (!comity_party_valid(party, err))
        return cy_err_code(err);
    comity_key *k = cy_calloc(1, sizeof *k);
    if (!k)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    comity_err rc = comity_nkey_generate(party, COMITY_NOTE_ED25519, &k->signer, err);
    if (!rc) {
        randombytes_buf(k->x_sk, sizeof k->x_sk);
        rc = finish_x25519(k, err);
    }
    cy_time_format_ms(k->created, cy_now_ms());
    if (rc) {
        comity_key_free(k);
        return rc;
    }
    *out = k;
    return COMITY_OK;
}

void comity_key_free(comity_key *k)
{
    if (!k)
        return;
    comity_nkey_free(k->signer);
    sodium_memzero(k, sizeof *k);
    cy_free(k);
}

const char *comity_key_party(const comity_key *k) { return comity_nkey_name(k->signer); }
const char *comity_key_vkey(const comity_key *k) { return comity_nkey_vkey(k->signer); }
const char *comity_key_recipient(const comity_key *k) { return k->recipient; }
const comity_nkey *comity_key_signer(const comity_key *k) { return k->signer; }

/* Returns the value after "# <label>: " on this line, or NULL. */
static const char *labelled(const char *line, size_t len, const char *label, size_t *vlen)
{
    size_t ll = strlen(label);
    if (len < ll + 4 || memcmp(line, "# ", 2) != 0 || memcmp(line + 2, label, ll) != 0 ||
        memcmp(line + 2 + ll, ": ", 2) != 0)
        return NULL;
    *vlen = len - ll - 4;
    return line + ll + 4;
}

comity_err comity_key_parse(const char *text, size_t len, comity_key **out, comity_error *err)
{
    *out = NULL;
    if (comity_init(err))
        return cy_err_code(err);
    if (len > KEYFILE_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "key file: larger than %d bytes", KEYFILE_MAX);
    comity_key *k = cy_calloc(1, sizeof *k);
    if (!k)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    comity_err rc = COMITY_OK;
    const char *pub = NULL, *rcpt = NULL;
    size_t pub_len = 0, rcpt_len = 0;
    int identities = 0;
    size_t lineno = 0;
    for (size_t pos = 0; pos < len && !rc;) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - line) : len - pos;
        pos += ll + (nl ? 1 : 0);
        lineno++;
        if (ll && line[ll - 1] == '\r')
            ll--;
        size_t vl;
        const char *v;
        if (ll == 0)
            continue;
        if ((v = labelled(line, ll, "signing key", &vl))) {
            if (k->signer) {
                rc = cy_fail(err, COMITY_ERR_INVALID, "key file line %zu: a second signing key", lineno);
                break;
            }
            if ((rc = comity_nkey_parse(v, vl, &k->signer, err))) {
                cy_wrap(err, "key file line %zu", lineno);
                break;
            }
        } else if ((v = labelled(line, ll, "public key", &vl))) {
            pub = v, pub_len = vl;
        } else if ((v = labelled(line, ll, "recipient", &vl))) {
            rcpt = v, rcpt_len = vl;
        } else if (line[0] == '#') {
            continue;
        } else {
            if (identities++) {
                rc = cy_fail(err, COMITY_ERR_INVALID,
                             "key file line %zu: more than one sealing identity", lineno);
                break;
            }
            if ((rc = cy_age_identity_decode(line, ll, k->x_sk, err))) {
                cy_wrap(err, "key file line %zu", lineno);
                break;
            }
        }
    }
    if (!rc && !k->signer)
        rc = cy_fail(err, COMITY_ERR_INVALID, "key file: no '# signing key:' line (is this an age identity file rather than a comity key?)");
    if (!rc && !identities)
        rc = cy_fail(err, COMITY_ERR_INVALID, "key file: no AGE-SECRET-KEY-1 line");
    if (!rc && !comity_party_valid(comity_nkey_name(k->signer), err))
        rc = cy_wrap(err, "key file: signing key name");
    if (!rc)
        rc = finish_x25519(k, err);
    if (!rc && pub && (pub_len != strlen(comity_nkey_vkey(k->signer)) ||
                       memcmp(pub, comity_nkey_vkey(k->signer), pub_len) != 0))
        rc = cy_fail(err, COMITY_ERR_INVALID,
                     "key file: '# public key:' does not match the signing key (edited or corrupted file)");
    if (!rc && rcpt && (rcpt_len != strlen(k->recipient) || memcmp(rcpt, k->recipient, rcpt_len) != 0))
        rc = cy_fail(err, COMITY_ERR_INVALID,
                     "key file: '# recipient:' does not match the sealing key (edited or corrupted file)");
    if (rc) {
        comity_key_free(k);
        return rc;
    }
    *out = k;
    return COMITY_OK;
}

comity_err comity_key_load(const char *path, comity_key **out, comity_error *err)
{
    char *text;
    size_t len;
    *out = NULL;
    comity_err rc = comity_read_file(path, KEYFILE_MAX, &text, &len, err);
    if (rc)
        return rc;
    rc = comity_key_parse(text, len, out, err);
    cy_free_secret(text, len);
    if (rc)
        cy_wrap(err, "%s", path);
    return rc;
}

comity_err comity_key_save(const comity_key *k, const char *path, comity_error *err)
{
    char ident[CY_AGE_IDENTITY_MAX];
    if (cy_age_identity_encode(k->x_sk, ident, sizeof ident))
        return cy_fail(err, COMITY_ERR_INTERNAL, "cannot encode the sealing key");
    cy_buf b;
    cy_buf_init(&b, KEYFILE_MAX);
    comity_err rc = cy_buf_printf(&b,
                                  "# comity party key for %s, created %s\n"
                                  "# public key: %s\n"
                                  "# recipient: %s\n"
                                  "# signing key: %s\n"
                                  "%s\n",
                                  comity_key_party(k), k->created[0] ? k->created : "unknown",
                                  comity_key_vkey(k), k->recipient,
                                  comity_nkey_text(k->signer), ident);
    sodium_memzero(ident, sizeof ident);
    if (rc) {
        cy_buf_free_secret(&b);
        return cy_fail(err, rc, "key file: %s", comity_strerror(rc));
    }
    rc = comity_write_file(path, b.data, b.len, 0600, 1, err);
    cy_buf_free_secret(&b);
    return rc;
}
