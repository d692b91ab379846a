/*
 * cosig.c: checkpoint signatures and c2sp.org/tlog-cosignature type 0x04.
 *
 * A cosignature is a note signature line whose bytes are an 8-byte
 * big-endian timestamp followed by an Ed25519 signature over
 * "cosignature/v1\ntime <decimal timestamp>\n" and the whole checkpoint text.
 * The key id is SHA-256(name || '\n' || 0x04 || key)[:4], so a cosigning key
 * never matches a plain Ed25519 signature line and the reverse.
 *
 * cy_tlog_note_check applies the signed-note rules for a set of known keys
 * of either type and reports which keys signed: the witness, the policy
 * check and receipt verification all need to know *who* signed, which the
 * crypto layer's comity_note_verify (a count) does not say.
 */
#include <string.h>

#include "crypto/note.h"
#include "tlog/tlog.h"

static uint64_t be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* "cosignature/v1\ntime T\n" || text in a new buffer (caller frees). */
static uint8_t *cosig_message(uint64_t t, const char *text, size_t len, size_t *out_len)
{
    char head[64];
    int hl = snprintf(head, sizeof head, "cosignature/v1\ntime %llu\n",
                      (unsigned long long)t);
    uint8_t *m = cy_malloc((size_t)hl + len);
    if (!m)
        return NULL;
    memcpy(m, head, (size_t)hl);
    memcpy(m + hl, text, len);
    *out_len = (size_t)hl + len;
    return m;
}

bool cy_tlog_sig_ok(const comity_vkey *k, const uint8_t *sig, size_t sig_len,
                    const char *text, size_t len)
{
    if (k->type == COMITY_NOTE_ED25519)
        return sig_len == crypto_sign_BYTES &&
               crypto_sign_verify_detached(sig, (const uint8_t *)text, len, k->pk) == 0;
    if (k->type != COMITY_NOTE_COSIG_V1 || sig_len != 8 + crypto_sign_BYTES)
        return false;
    uint64_t t = be64(sig);
    if (t > (uint64_t)INT64_MAX)
        return false;
    size_t ml;
    uint8_t *m = cosig_message(t, text, len, &ml);
    if (!m)
        return false;
    bool ok = crypto_sign_verify_detached(sig + 8, m, ml, k->pk) == 0;
    cy_free(m);
    return ok;
}

comity_err cy_tlog_note_check(const char *note, size_t len,
                              const comity_vkey *const *keys, size_t nkeys,
                              bool *signed_by, cy_note *parsed, comity_error *err)
{
    comity_err rc = cy_note_parse(note, len, parsed, err);
    if (rc)
        return rc;
    for (size_t j = 0; j < nkeys; j++)
        signed_by[j] = false;
    for (size_t i = 0; i < parsed->nsigs; i++) {
        const cy_note_sig *s = &parsed->sigs[i];
        for (size_t j = 0; j < nkeys; j++) {
            const comity_vkey *k = keys[j];
            if (k->id != s->id || strlen(k->name) != s->name_len ||
                memcmp(k->name, s->name, s->name_len) != 0)
                continue;
            if (!cy_tlog_sig_ok(k, s->sig, s->sig_len, parsed->text, parsed->text_len))
                return cy_fail(err, COMITY_ERR_VERIFY,
                               "signature by %s+%08x does not verify", k->name, k->id);
            signed_by[j] = true;
        }
    }
    return COMITY_OK;
}

comity_err comity_cosign(const comity_nkey *witness, const char *note, size_t len,
                         uint64_t timestamp, char **line, comity_error *err)
{
    *line = NULL;
    if (witness->type != COMITY_NOTE_COSIG_V1)
        return cy_fail(err, COMITY_ERR_USAGE,
                       "cosign: key '%s' is not a cosignature (type 0x04) key", witness->name);
    if (timestamp == 0)
        timestamp = (uint64_t)(cy_now_ms() / 1000);
    if (timestamp > (uint64_t)INT64_MAX)
        return cy_fail(err, COMITY_ERR_USAGE, "cosign: timestamp out of range");
    /* The checkpoint may arrive with or without its signatures. */
    const char *text = note;
    size_t text_len = len;
    cy_note *n = cy_malloc(sizeof *n);
    if (!n)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    if (cy_note_parse(note, len, n, NULL) == COMITY_OK) {
        text = n->text;
        text_len = n->text_len;
    }
    size_t ml;
    uint8_t *m = cosig_message(timestamp, text, text_len, &ml);
    cy_free(n);
    if (!m)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    uint8_t sig[8 + crypto_sign_BYTES];
    for (int i = 0; i < 8; i++)
        sig[i] = (uint8_t)(timestamp >> (56 - 8 * i));
    crypto_sign_detached(sig + 8, NULL, m, ml, witness->sk);
    cy_free(m);
    cy_buf b;
    cy_buf_init(&b, 1024);
    comity_err rc = cy_note_append_sig(&b, witness->name, witness->id, sig, sizeof sig);
    if (rc) {
        cy_buf_free(&b);
        return cy_fail(err, rc, "cosign: %s", comity_strerror(rc));
    }
    *line = (char *)cy_buf_detach(&b, NULL);
    return *line ? COMITY_OK : cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
}

comity_err cy_checkpoint_verify(const char *note, size_t len,
                                const comity_vkey *const *logs, size_t nlogs,
                                cy_checkpoint *out, comity_error *err)
{
    if (len > CY_CHECKPOINT_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "checkpoint: larger than %d bytes",
                       CY_CHECKPOINT_MAX);
    cy_note *n = cy_malloc(sizeof *n);
    bool *by = cy_calloc(nlogs ? nlogs : 1, sizeof *by);
    comity_err rc = COMITY_OK;
    if (!n || !by) {
        rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
        goto done;
    }
    rc = cy_tlog_note_check(note, len, logs, nlogs, by, n, err);
    if (rc) {
        cy_wrap(err, "checkpoint");
        goto done;
    }
    rc = cy_checkpoint_parse_text(n->text, n->text_len, out, err);
    if (rc)
        goto done;
    bool ok = false;
    for (size_t j = 0; j < nlogs; j++)
        if (by[j] && logs[j]->type == COMITY_NOTE_ED25519 &&
            strcmp(logs[j]->name, out->origin) == 0)
            ok = true;
    if (!ok)
        rc = cy_fail(err, COMITY_ERR_VERIFY,
                     "checkpoint of %s: no signature by a known key of that log", out->origin);
done:
    cy_free(n);
    cy_free(by);
    return rc;
}

comity_err comity_checkpoint_verify(const char *note, size_t len,
                                    const comity_vkey *const *logs, size_t nlogs,
                                    comity_checkpoint *out, comity_error *err)
{
    cy_checkpoint cp;
    comity_err rc = cy_checkpoint_verify(note, len, logs, nlogs, &cp, err);
    if (rc)
        return rc;
    if (out) {
        memset(out, 0, sizeof *out);
        memcpy(out->origin, cp.origin, sizeof out->origin);
        out->size = cp.size;
        memcpy(out->root, cp.root, CY_HASH);
    }
    return COMITY_OK;
}

comity_err comity_checkpoint_parse(const char *note, size_t len, comity_checkpoint *out,
                                   comity_error *err)
{
    cy_note *n = cy_malloc(sizeof *n);
    if (!n)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    cy_checkpoint cp;
    comity_err rc = len > CY_CHECKPOINT_MAX
                        ? cy_fail(err, COMITY_ERR_TOOBIG, "checkpoint: larger than %d bytes",
                                  CY_CHECKPOINT_MAX)
                        : cy_note_parse(note, len, n, err);
    if (!rc)
        rc = cy_checkpoint_parse_text(n->text, n->text_len, &cp, err);
    cy_free(n);
    if (rc)
        return rc;
    memset(out, 0, sizeof *out);
    memcpy(out->origin, cp.origin, sizeof out->origin);
    out->size = cp.size;
    memcpy(out->root, cp.root, CY_HASH);
    return COMITY_OK;
}
