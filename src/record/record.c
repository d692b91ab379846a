/*
 * record.c: comity records: building, sealing, signing, parsing, checking.
 *
 * A record is a DSSE envelope (payloadType application/vnd.comity.record+json)
 * over a JSON payload whose fields are fixed by specs/records.md.  This file
 * enforces those rules on every record read, whoever wrote it:
 *
 *   type     lowercase [a-z][a-z0-9-]*, at most COMITY_RECORD_TYPE_MAX bytes
 *   id       "<type>--<uuid v4>", lowercase, same type
 *   author   a party name; the signature must verify under the author's key
 *   created  RFC 3339 UTC with milliseconds ("...T06:40:00.000Z")
 *   to       optional non-empty array of distinct party names
 *   tlp      clear | green | amber | amber+strict | red
 *   refs     optional non-empty array of record ids
 *   body     a JSON object, only for clear and green
 *   sealed   standard base64 of a binary age file, required for amber,
 *            amber+strict and red
 *
 * Unknown fields and duplicate keys are refused.  The record's digest is
 * SHA-256 over PAE(payloadType, payload): the exact bytes the author signed,
 * so whitespace or field order in the envelope never changes it.  Per-type
 * body schemas belong to the framework layer above.
 */
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "crypto/dsse.h"
#include "crypto/note.h"

struct comity_record {
    cy_dsse env;                      /* owns the payload bytes */
    json_t *payload;                  /* parsed payload */
    const char *type, *id, *author, *created, *tlp; /* borrowed from payload */
    json_t *to, *refs;                /* borrowed arrays or NULL */
    char *body;                       /* compact body JSON (clear/green) */
    uint8_t *sealed;                  /* decoded age file (amber/red) */
    size_t sealed_len;
    char digest[65];
    char entry[COMITY_RECORD_ENTRY_LEN + 1];
};

static const char *const tlps[] = {"clear", "green", "amber", "amber+strict", "red"};

static bool tlp_valid(const char *t)
{
    for (size_t i = 0; i < CY_ARRAY_LEN(tlps); i++)
        if (strcmp(t, tlps[i]) == 0)
            return true;
    return false;
}

static bool tlp_sealed(const char *t)
{
    return strcmp(t, "amber") == 0 || strcmp(t, "amber+strict") == 0 || strcmp(t, "red") == 0;
}

static bool type_valid(const char *t, size_t len)
{
    if (len == 0 || len > COMITY_RECORD_TYPE_MAX || t[0] < 'a' || t[0] > 'z')
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = t[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
        if (c == '-' && (i + 1 == len || t[i + 1] == '-'))
            return false; /* "--" separates type from uuid in ids */
    }
    return true;
}

/* "<type>--<uuid v4>"; when want_type is given, the type must equal it. */
static bool id_valid(const char *id, const char *want_type)
{
    const char *sep = strstr(id, "--");
    if (!sep)
        return false;
    size_t tl = (size_t)(sep - id);
    if (!type_valid(id, tl))
        return false;
    if (want_type && (strlen(want_type) != tl || memcmp(id, want_type, tl) != 0))
        return false;
    return cy_uuid4_valid(sep + 2, strlen(sep + 2));
}

static comity_err party_array(json_t *a, const char *field, size_t max, bool ids,
                              comity_error *err)
{
    if (!json_is_array(a) || json_array_size(a) == 0)
        return cy_fail(err, COMITY_ERR_INVALID, "record.%s: want a non-empty array", field);
    if (json_array_size(a) > max)
        return cy_fail(err, COMITY_ERR_TOOBIG, "record.%s: more than %zu entries", field, max);
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) {
        if (!json_is_string(v))
            return cy_fail(err, COMITY_ERR_INVALID, "record.%s[%zu]: not a string", field, i);
        const char *s = json_string_value(v);
        if (ids) {
            if (!id_valid(s, NULL))
                return cy_fail(err, COMITY_ERR_INVALID,
                               "record.%s[%zu]: '%.80s' is not a record id (<type>--<uuid v4>)",
                               field, i, s);
        } else {
            comity_error sub = {0};
            if (!comity_party_valid(s, &sub))
                return cy_fail(err, COMITY_ERR_INVALID, "record.%s[%zu]: %s", field, i, sub.msg);
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(s, json_string_value(json_array_get(a, j))) == 0)
                return cy_fail(err, COMITY_ERR_INVALID, "record.%s[%zu]: '%.80s' repeated",
                               field, i, s);
    }
    return COMITY_OK;
}

static const char *str_field(json_t *o, const char *name)
{
    json_t *v = json_object_get(o, name);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Checks the parsed payload against specs/records.md; fills the views. */
static comity_err check_payload(comity_record *r, comity_error *err)
{
    json_t *p = r->payload;
    if (!json_is_object(p))
        return cy_fail(err, COMITY_ERR_INVALID, "record: payload is not a JSON object");
    static const char *const known[] = {"type", "id", "author", "created", "to",
                                        "tlp", "refs", "body", "sealed"};
    const char *key;
    json_t *v;
    json_object_foreach(p, key, v) {
        bool ok = false;
        for (size_t i = 0; i < CY_ARRAY_LEN(known); i++)
            ok = ok || strcmp(key, known[i]) == 0;
        if (!ok)
            return cy_fail(err, COMITY_ERR_INVALID, "record: unknown field '%.64s'", key);
    }
    static const char *const required[] = {"type", "id", "author", "created", "tlp"};
    for (size_t i = 0; i < CY_ARRAY_LEN(required); i++)
        if (!str_field(p, required[i]))
            return cy_fail(err, COMITY_ERR_INVALID, "record.%s: missing or not a string",
                           required[i]);
    r->type = str_field(p, "type");
    r->id = str_field(p, "id");
    r->author = str_field(p, "author");
    r->created = str_field(p, "created");
    r->tlp = str_field(p, "tlp");
    if (!type_valid(r->type, strlen(r->type)))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "record.type: '%.64s' is not a lowercase type name", r->type);
    if (!id_valid(r->id, r->type))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "record.id: '%.80s' is not '%s--<lowercase uuid v4>'", r->id, r->type);
    comity_error sub = {0};
    if (!comity_party_valid(r->author, &sub))
        return cy_fail(err, COMITY_ERR_INVALID, "record.author: %s", sub.msg);
    int64_t ms;
    if (cy_time_parse(r->created, strlen(r->created), true, &ms, &sub))
        return cy_fail(err, COMITY_ERR_INVALID, "record.created: %s", sub.msg);
    if (!tlp_valid(r->tlp))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "record.tlp: '%.32s' is not clear, green, amber, amber+strict or red", r->tlp);
    if ((r->to = json_object_get(p, "to")) &&
        party_array(r->to, "to", COMITY_RECORD_MAX_TO, false, err))
        return err ? err->code : COMITY_ERR_INVALID;
    if ((r->refs = json_object_get(p, "refs")) &&
        party_array(r->refs, "refs", COMITY_RECORD_MAX_REFS, true, err))
        return err ? err->code : COMITY_ERR_INVALID;
    json_t *body = json_object_get(p, "body");
    json_t *sealed = json_object_get(p, "sealed");
    if (tlp_sealed(r->tlp)) {
        if (body)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "record.body: a %s record must not carry its body in clear", r->tlp);
        if (!json_is_string(sealed))
            return cy_fail(err, COMITY_ERR_INVALID,
                           "record.sealed: missing or not a string (required for tlp %s)", r->tlp);
        comity_err rc = cy_b64_decode_any_alloc(&r->sealed, &r->sealed_len,
                                                json_string_value(sealed),
                                                json_string_length(sealed),
                                                COMITY_RECORD_MAX, &sub);
        const char *s = json_string_value(sealed);
        if (rc || strchr(s, '-') || strchr(s, '_') || json_string_length(sealed) % 4)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "record.sealed: not standard padded base64%s%s", rc ? ": " : "",
                           rc ? sub.msg : "");
        static const char magic[] = "age-encryption.org/v1\n";
        if (r->sealed_len < sizeof magic - 1 || memcmp(r->sealed, magic, sizeof magic - 1) != 0)
            return cy_fail(err, COMITY_ERR_INVALID, "record.sealed: not a binary age file");
    } else {
        if (sealed)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "record.sealed: a %s record carries its body in clear", r->tlp);
        if (!json_is_object(body))
            return cy_fail(err, COMITY_ERR_INVALID,
                           "record.body: missing or not a JSON object");
        r->body = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!r->body)
            return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    }
    return COMITY_OK;
}

void comity_record_free(comity_record *r)
{
    if (!r)
        return;
    cy_dsse_clear(&r->env);
    json_decref(r->payload);
    free(r->body); /* from jansson */
    cy_free(r->sealed);
    cy_free(r);
}

comity_err comity_record_parse(const char *envelope, size_t len, comity_record **out,
                               comity_error *err)
{
    *out = NULL;
    if (comity_init(err))
        return err ? err->code : COMITY_ERR_INTERNAL;
    comity_record *r = cy_calloc(1, sizeof *r);
    if (!r)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    comity_err rc = cy_dsse_parse(envelope, len, &r->env, err);
    if (rc)
        goto fail;
    if (strcmp(r->env.payload_type, COMITY_RECORD_PAYLOAD_TYPE) != 0) {
        rc = cy_fail(err, COMITY_ERR_INVALID, "record: payloadType is '%.64s', want '%s'",
                     r->env.payload_type, COMITY_RECORD_PAYLOAD_TYPE);
        goto fail;
    }
    if (r->env.payload_len > COMITY_RECORD_MAX) {
        rc = cy_fail(err, COMITY_ERR_TOOBIG, "record: payload of %zu bytes is over the cap of %u",
                     r->env.payload_len, COMITY_RECORD_MAX);
        goto fail;
    }
    json_error_t je;
    r->payload = json_loadb((const char *)r->env.payload, r->env.payload_len,
                            JSON_REJECT_DUPLICATES, &je);
    if (!r->payload) {
        rc = cy_fail(err, COMITY_ERR_INVALID, "record: payload is not JSON at byte %d: %s",
                     je.position, je.text);
        goto fail;
    }
    if ((rc = check_payload(r, err)))
        goto fail;
    uint8_t d[32];
    cy_dsse_pae_hash(r->env.payload_type, r->env.payload, r->env.payload_len, d);
    cy_hex_encode(r->digest, d, sizeof d);
    snprintf(r->entry, sizeof r->entry, "comity-record-v1:%s", r->digest);
    *out = r;
    return COMITY_OK;
fail:
    comity_record_free(r);
    return rc;
}

comity_err comity_record_verify(const char *envelope, size_t len,
                                const comity_vkey *const *keys, size_t nkeys,
                                comity_record **out, comity_error *err)
{
    *out = NULL;
    comity_record *r;
    comity_err rc = comity_record_parse(envelope, len, &r, err);
    if (rc)
        return rc;
    size_t pae_len;
    uint8_t *pae = cy_dsse_pae(r->env.payload_type, r->env.payload, r->env.payload_len, &pae_len);
    if (!pae) {
        comity_record_free(r);
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    }
    bool have_key = false, ok = false;
    for (size_t j = 0; j < nkeys && !ok; j++) {
        if (keys[j]->type != COMITY_NOTE_ED25519 || strcmp(keys[j]->name, r->author) != 0)
            continue;
        have_key = true;
        for (size_t i = 0; i < r->env.nsigs && !ok; i++)
            ok = r->env.sigs[i].sig_len == crypto_sign_BYTES &&
                 crypto_sign_verify_detached(r->env.sigs[i].sig, pae, pae_len, keys[j]->pk) == 0;
    }
    cy_free(pae);
    if (!have_key)
        rc = cy_fail(err, COMITY_ERR_NOKEY, "record: no key given for its author '%s'", r->author);
    else if (!ok)
        rc = cy_fail(err, COMITY_ERR_VERIFY,
                     "record: signature does not verify under %s's key", r->author);
    if (rc) {
        comity_record_free(r);
        return rc;
    }
    *out = r;
    return COMITY_OK;
}

const char *comity_record_type(const comity_record *r) { return r->type; }
const char *comity_record_id(const comity_record *r) { return r->id; }
const char *comity_record_author(const comity_record *r) { return r->author; }
const char *comity_record_created(const comity_record *r) { return r->created; }
const char *comity_record_tlp(const comity_record *r) { return r->tlp; }
size_t comity_record_to_count(const comity_record *r) { return r->to ? json_array_size(r->to) : 0; }
const char *comity_record_to(const comity_record *r, size_t i)
{
    return r->to ? json_string_value(json_array_get(r->to, i)) : NULL;
}
size_t comity_record_refs_count(const comity_record *r) { return r->refs ? json_array_size(r->refs) : 0; }
const char *comity_record_ref(const comity_record *r, size_t i)
{
    return r->refs ? json_string_value(json_array_get(r->refs, i)) : NULL;
}
int comity_record_is_sealed(const comity_record *r) { return r->sealed != NULL; }
const char *comity_record_payload(const comity_record *r, size_t *len)
{
    if (len)
        *len = r->env.payload_len;
    return (const char *)r->env.payload;
}
const char *comity_record_body(const comity_record *r) { return r->body; }
const char *comity_record_digest(const comity_record *r) { return r->digest; }
const char *comity_record_entry(const comity_record *r) { return r->entry; }

comity_err comity_record_open(const comity_record *r, const comity_identities *ids,
                              char **body, size_t *body_len, comity_error *err)
{
    *body = NULL;
    if (!r->sealed) {
        *body = cy_strdup(r->body);
        if (!*body)
            return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
        if (body_len)
            *body_len = strlen(*body);
        return COMITY_OK;
    }
    uint8_t *pt;
    size_t pl;
    comity_err rc = comity_open_mem(r->sealed, r->sealed_len, ids, &pt, &pl, err);
    if (rc)
        return cy_wrap(err, "record.sealed");
    json_error_t je;
    json_t *b = json_loadb((const char *)pt, pl, JSON_REJECT_DUPLICATES, &je);
    bool ok = json_is_object(b);
    json_decref(b);
    if (!ok) {
        cy_free_secret(pt, pl);
        return cy_fail(err, COMITY_ERR_INVALID, "record.sealed: the opened body is not a JSON object");
    }
    uint8_t *t = cy_realloc(pt, pl + 1);
    if (!t) {
        cy_free_secret(pt, pl);
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    }
    t[pl] = 0;
    *body = (char *)t;
    if (body_len)
        *body_len = pl;
    return COMITY_OK;
}

/* ---- signing ---------------------------------------------------------- */

comity_err comity_record_sign(const comity_key *author, const comity_record_params *pp,
                              const char *body_text, size_t body_len, char **envelope,
                              size_t *envelope_len, comity_error *err)
{
    *envelope = NULL;
    if (comity_init(err))
        return err ? err->code : COMITY_ERR_INTERNAL;
    const char *tlp = pp->tlp ? pp->tlp : (pp->nseal_to ? "amber" : "green");
    if (!pp->type || !type_valid(pp->type, strlen(pp->type)))
        return cy_fail(err, COMITY_ERR_USAGE, "record type '%s' is not a lowercase type name",
                       pp->type ? pp->type : "");
    if (!tlp_valid(tlp))
        return cy_fail(err, COMITY_ERR_USAGE,
                       "tlp '%s' is not clear, green, amber, amber+strict or red", tlp);
    if (!tlp_sealed(tlp) && pp->nseal_to)
        return cy_fail(err, COMITY_ERR_USAGE,
                       "sealing keys given, but a %s record carries its body in clear", tlp);
    if (body_len > COMITY_RECORD_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "body of %zu bytes is over the cap of %u",
                       body_len, COMITY_RECORD_MAX);
    json_error_t je;
    json_t *body = json_loadb(body_text, body_len, JSON_REJECT_DUPLICATES, &je);
    if (!body)
        return cy_fail(err, COMITY_ERR_INVALID, "body: not JSON at line %d column %d: %s",
                       je.line, je.column, je.text);
    comity_err rc = COMITY_OK;
    json_t *p = json_object();
    char *payload = NULL, *bodyc = NULL;
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    const char **rcpts = NULL;
    if (!json_is_object(body)) {
        rc = cy_fail(err, COMITY_ERR_INVALID, "body: not a JSON object");
        goto done;
    }
    char uuid[CY_UUID_BUF], created[CY_TIME_BUF], id[COMITY_RECORD_TYPE_MAX + CY_UUID_BUF + 2];
    cy_uuid4(uuid);
    cy_time_format_ms(created, cy_now_ms());
    snprintf(id, sizeof id, "%s--%s", pp->type, uuid);
    json_object_set_new(p, "type", json_string(pp->type));
    json_object_set_new(p, "id", json_string(id));
    json_object_set_new(p, "author", json_string(comity_key_party(author)));
    json_object_set_new(p, "created", json_string(created));
    if (pp->nto) {
        json_t *a = json_array();
        for (size_t i = 0; i < pp->nto; i++)
            json_array_append_new(a, json_string(pp->to[i]));
        json_object_set_new(p, "to", a);
    }
    json_object_set_new(p, "tlp", json_string(tlp));
    if (pp->nrefs) {
        json_t *a = json_array();
        for (size_t i = 0; i < pp->nrefs; i++)
            json_array_append_new(a, json_string(pp->refs[i]));
        json_object_set_new(p, "refs", a);
    }
    if (tlp_sealed(tlp)) {
        bodyc = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
        rcpts = cy_calloc(pp->nseal_to + 1, sizeof *rcpts);
        if (!bodyc || !rcpts) {
            rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
            goto done;
        }
        rcpts[0] = comity_key_recipient(author);
        for (size_t i = 0; i < pp->nseal_to; i++)
            rcpts[i + 1] = pp->seal_to[i];
        rc = comity_seal_mem((const uint8_t *)bodyc, strlen(bodyc), rcpts, pp->nseal_to + 1,
                             0, &sealed, &sealed_len, err);
        if (rc) {
            cy_wrap(err, "sealing the body");
            goto done;
        }
        char *b64 = cy_b64_encode_alloc(sealed, sealed_len, CY_B64_STD);
        if (!b64) {
            rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
            goto done;
        }
        json_object_set_new(p, "sealed", json_string(b64));
        cy_free(b64);
    } else {
        json_object_set(p, "body", body);
    }
    payload = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!payload) {
        rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
        goto done;
    }
    /* Check what we built exactly as a reader will (to/refs syntax etc.). */
    comity_record *check;
    const comity_nkey *keys[] = {comity_key_signer(author)};
    char *env;
    size_t env_len;
    rc = comity_dsse_sign(COMITY_RECORD_PAYLOAD_TYPE, (const uint8_t *)payload, strlen(payload),
                          keys, 1, &env, &env_len, err);
    if (rc)
        goto done;
    rc = comity_record_parse(env, env_len, &check, err);
    if (rc) {
        comity_free(env);
        goto done;
    }
    comity_record_free(check);
    *envelope = env;
    if (envelope_len)
        *envelope_len = env_len;
done:
    if (bodyc) {
        sodium_memzero(bodyc, strlen(bodyc));
        free(bodyc);
    }
    free(payload);
    cy_free(sealed);
    cy_free(rcpts);
    json_decref(p);
    json_decref(body);
    return rc;
}
