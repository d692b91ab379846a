/*
 * record.c: comity records: building, sealing, signing, parsing, checking.
 *
 * A record is a DSSE envelope (payloadType application/vnd.comity.record+json)
 * over a JSON payload whose fields are fixed by specs/records.md.  This file
 * enforces those rules on every record read, whoever wrote it:
 *
 *   type     lowercase [a-z][a-z0-9-]*, at most COMITY_RECORD_TYPE_MAX bytes
 *   schema   optional: the version of the type's body schema, an integer
 *            2..COMITY_RECORD_SCHEMA_MAX written without sign, fraction,
 *            exponent or leading zero; absent means version 1, which is
 *            never written (one spelling per version)
 *   id       "<type>--<uuid v4>", lowercase, same type; the records this
 *            file makes have ids bound to their author (id.c), which a node
 *            checks on a post (comity_record_check_id)
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
 *
 * Reading is the hot path (a node checks every record it receives), so the
 * payload is read with the strict zero-copy reader of base/json.h, never
 * built into a tree: the fields are unescaped into one arena owned by the
 * record, the body is kept as the text it is in the payload (made compact
 * only if the author put whitespace in it), the signature is checked over
 * the PAE buffer the payload was decoded into, and the digest (SHA-256 over
 * that buffer, some three times the cost of the whole parse) is computed
 * the first time someone asks for it.  Writing stays on jansson.
 */
#include <pthread.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "base/json.h"
#include "crypto/dsse.h"
#include "crypto/note.h"
#include "record/delivered.h"
#include "record/id.h"
#include "record/signer.h"

struct comity_record {
    cy_dsse env;                      /* owns the payload and its PAE */
    char *arena;                      /* owns the strings below */
    const char *type, *id, *author, *created, *tlp; /* unescaped, in arena */
    int64_t created_ms;               /* `created` in ms since the epoch */
    int schema;                       /* `schema`, 1 when absent */
    const char **to, **refs;          /* arrays in arena, or NULL */
    size_t nto, nrefs;
    const char *body;                 /* compact body JSON (clear/green), in arena */
    uint8_t *sealed;                  /* decoded age file (amber/red) */
    size_t sealed_len;
    pthread_mutex_t mu;               /* guards the lazy digest below */
    bool digest_done;
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

int comity_tlp_sealed(const char *tlp)
{
    return tlp && tlp_sealed(tlp);
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

bool cy_record_id_valid(const char *id) { return id_valid(id, NULL); }

/* The payload being checked: its tokens and where the arena is filled. */
typedef struct pctx {
    const cy_json *j;
    char *at; /* next free byte of the arena */
} pctx;

/* Unescapes string token t into the arena; returns the C string. */
static const char *take(pctx *c, uint32_t t)
{
    char *s = c->at;
    size_t cap = c->j->toks[t].end - c->j->toks[t].start + 1;
    c->at += cy_json_unescape(c->j, t, s, cap) + 1;
    return s;
}

static comity_err party_array(pctx *c, uint32_t a, const char *field, size_t max, bool ids,
                              const char ***out, size_t *n, comity_error *err)
{
    const cy_json *j = c->j;
    if (j->toks[a].type != CY_JSON_ARRAY || j->toks[a].size == 0)
        return cy_fail(err, COMITY_ERR_INVALID, "record.%s: want a non-empty array", field);
    if (j->toks[a].size > max)
        return cy_fail(err, COMITY_ERR_TOOBIG, "record.%s: more than %zu entries", field, max);
    uint32_t e = a + 1;
    for (size_t i = 0; i < j->toks[a].size; i++, e = j->toks[e].next) {
        if (j->toks[e].type != CY_JSON_STRING)
            return cy_fail(err, COMITY_ERR_INVALID, "record.%s[%zu]: not a string", field, i);
        const char *s = take(c, e);
        (*out)[i] = s;
        *n = i + 1;
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
        for (size_t k = 0; k < i; k++)
            if (strcmp(s, (*out)[k]) == 0)
                return cy_fail(err, COMITY_ERR_INVALID, "record.%s[%zu]: '%.80s' repeated",
                               field, i, s);
    }
    return COMITY_OK;
}

/* Copies the body object text [st, e) to out without the whitespace between
 * tokens (strings kept byte for byte); returns the length. */
static size_t compact(const char *in, size_t st, size_t e, char *out)
{
    size_t n = 0;
    bool str = false;
    for (size_t i = st; i < e; i++) {
        char ch = in[i];
        if (str) {
            out[n++] = ch;
            if (ch == '\\')
                out[n++] = in[++i]; /* the escaped byte, perhaps a quote */
            else if (ch == '"')
                str = false;
        } else if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r') {
            out[n++] = ch;
            str = ch == '"';
        }
    }
    return n;
}

enum { F_TYPE, F_SCHEMA, F_ID, F_AUTHOR, F_CREATED, F_TO, F_TLP, F_REFS, F_BODY, F_SEALED,
       F_COUNT };
static const char *const known[F_COUNT] = {"type", "schema", "id",   "author", "created",
                                           "to",   "tlp",    "refs", "body",   "sealed"};

/* The `schema` member's value token t: digits only, no leading zero, a
 * value in 2..COMITY_RECORD_SCHEMA_MAX (1 is written by leaving the field
 * out).  OUT *v. */
static comity_err schema_read(const cy_json *j, uint32_t t, int *v, comity_error *err)
{
    const cy_json_tok *k = &j->toks[t];
    const char *s = j->text + k->start;
    size_t n = k->end - k->start;
    long x = 0;
    bool digits = k->type == CY_JSON_NUMBER && n > 0 && n <= 9 && s[0] != '0';
    for (size_t i = 0; digits && i < n; i++) {
        digits = s[i] >= '0' && s[i] <= '9';
        x = x * 10 + (s[i] - '0');
    }
    if (!digits || x < 2 || x > COMITY_RECORD_SCHEMA_MAX)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "record.schema: not an integer from 2 to %d (version 1 is written by "
                       "leaving the field out)",
                       COMITY_RECORD_SCHEMA_MAX);
    *v = (int)x;
    return COMITY_OK;
}

/* Bytes of arena needed for array token a's strings and pointers. */
static size_t array_need(const cy_json *j, uint32_t a)
{
    if (!a || j->toks[a].type != CY_JSON_ARRAY)
        return 0;
    size_t need = j->toks[a].size * sizeof(char *);
    uint32_t e = a + 1;
    for (size_t i = 0; i < j->toks[a].size; i++, e = j->toks[e].next)
        if (j->toks[e].type == CY_JSON_STRING)
            need += j->toks[e].end - j->toks[e].start + 1;
    return need;
}

/* Checks the parsed payload against specs/records.md; fills the views. */
static comity_err check_payload(comity_record *r, const cy_json *j, comity_error *err)
{
    if (j->toks[0].type != CY_JSON_OBJECT)
        return cy_fail(err, COMITY_ERR_INVALID, "record: payload is not a JSON object");
    uint32_t f[F_COUNT] = {0};
    uint32_t k = 1;
    for (uint32_t m = 0; m < j->toks[0].size; m++, k = j->toks[k + 1].next) {
        size_t i = 0;
        while (i < F_COUNT && !cy_json_str_eq(j, k, known[i], strlen(known[i])))
            i++;
        if (i == F_COUNT) {
            char name[65];
            cy_json_unescape(j, k, name, sizeof name);
            return cy_fail(err, COMITY_ERR_INVALID, "record: unknown field '%.64s'", name);
        }
        f[i] = k + 1; /* duplicates were refused by the reader */
    }
    static const int required[] = {F_TYPE, F_ID, F_AUTHOR, F_CREATED, F_TLP};
    size_t need = 0;
    for (size_t i = 0; i < CY_ARRAY_LEN(required); i++) {
        uint32_t v = f[required[i]];
        if (!v || j->toks[v].type != CY_JSON_STRING)
            return cy_fail(err, COMITY_ERR_INVALID, "record.%s: missing or not a string",
                           known[required[i]]);
        need += j->toks[v].end - j->toks[v].start + 1;
    }
    need += array_need(j, f[F_TO]) + array_need(j, f[F_REFS]);
    if (f[F_BODY] && j->toks[f[F_BODY]].type == CY_JSON_OBJECT)
        need += j->toks[f[F_BODY]].end - j->toks[f[F_BODY]].start + 1;
    /* pointer arrays first (malloc alignment), then the strings */
    if (!(r->arena = cy_malloc(need ? need : 1)))
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    pctx c = {j, r->arena};
    if (f[F_TO] && j->toks[f[F_TO]].type == CY_JSON_ARRAY) {
        r->to = (const char **)(void *)c.at;
        c.at += j->toks[f[F_TO]].size * sizeof(char *);
    }
    if (f[F_REFS] && j->toks[f[F_REFS]].type == CY_JSON_ARRAY) {
        r->refs = (const char **)(void *)c.at;
        c.at += j->toks[f[F_REFS]].size * sizeof(char *);
    }
    r->type = take(&c, f[F_TYPE]);
    r->id = take(&c, f[F_ID]);
    r->author = take(&c, f[F_AUTHOR]);
    r->created = take(&c, f[F_CREATED]);
    r->tlp = take(&c, f[F_TLP]);
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
    r->created_ms = ms;
    r->schema = 1;
    if (f[F_SCHEMA] && schema_read(j, f[F_SCHEMA], &r->schema, err))
        return cy_err_code(err);
    if (!tlp_valid(r->tlp))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "record.tlp: '%.32s' is not clear, green, amber, amber+strict or red", r->tlp);
    if (f[F_TO] && party_array(&c, f[F_TO], "to", COMITY_RECORD_MAX_TO, false, &r->to, &r->nto, err))
        return cy_err_code(err);
    if (f[F_REFS] &&
        party_array(&c, f[F_REFS], "refs", COMITY_RECORD_MAX_REFS, true, &r->refs, &r->nrefs, err))
        return cy_err_code(err);
    uint32_t body = f[F_BODY], sealed = f[F_SEALED];
    if (tlp_sealed(r->tlp)) {
        if (body)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "record.body: a %s record must not carry its body in clear", r->tlp);
        if (!sealed || j->toks[sealed].type != CY_JSON_STRING)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "record.sealed: missing or not a string (required for tlp %s)", r->tlp);
        /* standard padded base64 (escapes are legal JSON, however odd here) */
        size_t sl = j->toks[sealed].end - j->toks[sealed].start;
        char *tmp = NULL;
        const char *b64 = j->text + j->toks[sealed].start;
        if (j->toks[sealed].flags & CY_JSON_F_ESCAPED) {
            if (!(tmp = cy_malloc(sl + 1)))
                return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
            sl = cy_json_unescape(j, sealed, tmp, sl + 1);
            b64 = tmp;
        }
        size_t n = cy_b64_decoded_len(b64, sl);
        comity_err rc = (r->sealed = cy_malloc(n + 1)) ? COMITY_OK : COMITY_ERR_NOMEM;
        if (!rc)
            rc = cy_b64_decode_public(r->sealed, n, &r->sealed_len, b64, sl, CY_B64_STD, &sub);
        cy_free(tmp);
        if (rc == COMITY_ERR_NOMEM)
            return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
        if (rc)
            return cy_fail(err, COMITY_ERR_INVALID, "record.sealed: not standard padded base64: %s",
                           sub.msg);
        r->sealed[r->sealed_len] = 0;
        static const char magic[] = "age-encryption.org/v1\n";
        if (r->sealed_len < sizeof magic - 1 || memcmp(r->sealed, magic, sizeof magic - 1) != 0)
            return cy_fail(err, COMITY_ERR_INVALID, "record.sealed: not a binary age file");
    } else {
        if (sealed)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "record.sealed: a %s record carries its body in clear", r->tlp);
        if (!body || j->toks[body].type != CY_JSON_OBJECT)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "record.body: missing or not a JSON object");
        /* the body as it stands in the payload, compact unless the author
         * wrote whitespace into it */
        const cy_json_tok *b = &j->toks[body];
        char *out = c.at;
        size_t n;
        if (b->flags & CY_JSON_F_SPACE) {
            n = compact(j->text, b->start, b->end, out);
        } else {
            n = b->end - b->start;
            memcpy(out, j->text + b->start, n);
        }
        out[n] = 0;
        r->body = out;
    }
    return COMITY_OK;
}

void comity_record_free(comity_record *r)
{
    if (!r)
        return;
    cy_dsse_clear(&r->env);
    cy_free(r->arena);
    cy_free(r->sealed);
    pthread_mutex_destroy(&r->mu);
    cy_free(r);
}

comity_err comity_record_parse(const char *envelope, size_t len, comity_record **out,
                               comity_error *err)
{
    *out = NULL;
    if (comity_init(err))
        return cy_err_code(err);
    /* env (first, and with its inline signatures most of the struct) is
     * cleared by cy_dsse_parse, which comes first; the rest here */
    comity_record *r = cy_malloc(sizeof *r);
    if (!r)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    memset((char *)r + offsetof(comity_record, arena), 0,
           sizeof *r - offsetof(comity_record, arena));
    if (pthread_mutex_init(&r->mu, NULL) != 0) {
        cy_free(r);
        return cy_fail(err, COMITY_ERR_INTERNAL, "record: cannot create a mutex");
    }
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
    cy_json_tok inl[64];
    cy_json j;
    cy_json_init(&j, inl, CY_ARRAY_LEN(inl), 0, CY_JSON_REJECT_NUL | CY_JSON_INT64);
    rc = cy_json_parse(&j, (const char *)r->env.payload, r->env.payload_len, err);
    if (rc)
        cy_wrap(err, "record: payload is not JSON");
    else
        rc = check_payload(r, &j, err);
    cy_json_free(&j);
    if (rc)
        goto fail;
    *out = r;
    return COMITY_OK;
fail:
    comity_record_free(r);
    return rc;
}

comity_err comity_record_verify_parsed(const comity_record *r, const comity_vkey *const *keys,
                                       size_t nkeys, comity_error *err)
{
    bool have_key = false, ok = false;
    for (size_t j = 0; j < nkeys && !ok; j++) {
        if (keys[j]->type != COMITY_NOTE_ED25519 || strcmp(keys[j]->name, r->author) != 0)
            continue;
        have_key = true;
        for (size_t i = 0; i < r->env.nsigs && !ok; i++)
            ok = r->env.sigs[i].sig_len == crypto_sign_BYTES &&
                 crypto_sign_verify_detached(r->env.sigs[i].sig, r->env.pae, r->env.pae_len,
                                             keys[j]->pk) == 0;
    }
    if (!have_key)
        return cy_fail(err, COMITY_ERR_NOKEY, "record: no key given for its author '%s'",
                       r->author);
    if (!ok)
        return cy_fail(err, COMITY_ERR_VERIFY, "record: signature does not verify under %s's key",
                       r->author);
    return COMITY_OK;
}

comity_err comity_record_verify(const char *envelope, size_t len,
                                const comity_vkey *const *keys, size_t nkeys,
                                comity_record **out, comity_error *err)
{
    *out = NULL;
    comity_record *r;
    comity_err rc = comity_record_parse(envelope, len, &r, err);
    if (!rc)
        rc = comity_record_verify_parsed(r, keys, nkeys, err);
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
int64_t comity_record_created_ms(const comity_record *r) { return r->created_ms; }
const char *comity_record_tlp(const comity_record *r) { return r->tlp; }
size_t comity_record_to_count(const comity_record *r) { return r->nto; }
const char *comity_record_to(const comity_record *r, size_t i)
{
    return i < r->nto ? r->to[i] : NULL;
}
size_t comity_record_refs_count(const comity_record *r) { return r->nrefs; }
const char *comity_record_ref(const comity_record *r, size_t i)
{
    return i < r->nrefs ? r->refs[i] : NULL;
}
int comity_record_is_sealed(const comity_record *r) { return r->sealed != NULL; }
int comity_record_schema(const comity_record *r) { return r->schema; }

/* "10m", "5m30s", "2d03h", "3650000d": a bound or a distance, for messages. */
static void span_text(char out[32], int64_t ms)
{
    int64_t s = ms / 1000, d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60;
    if (d)
        snprintf(out, 32, h ? "%lldd%02lldh" : "%lldd", (long long)d, (long long)h);
    else if (h)
        snprintf(out, 32, m ? "%lldh%02lldm" : "%lldh", (long long)h, (long long)m);
    else if (m)
        snprintf(out, 32, s % 60 ? "%lldm%02llds" : "%lldm", (long long)m, (long long)(s % 60));
    else
        snprintf(out, 32, "%llds", (long long)s);
}

comity_err comity_record_check_created(const comity_record *r, int64_t now_ms,
                                       int64_t ahead_ms, int64_t behind_ms,
                                       comity_error *err)
{
    if (ahead_ms < 0 || behind_ms < 0)
        return cy_fail(err, COMITY_ERR_USAGE, "created bounds must not be negative");
    char now[CY_TIME_BUF], dist[32], bound[32];
    int64_t c = r->created_ms;
    /* compared as differences that cannot overflow: created is a year
     * 0000-9999 time and now a clock reading */
    if (c > now_ms && c - now_ms > ahead_ms) {
        cy_time_format_ms(now, now_ms);
        span_text(dist, c - now_ms);
        span_text(bound, ahead_ms);
        return cy_fail(err, COMITY_ERR_INVALID,
                       "record.created: %s is %s ahead of this node's clock (%s); the rule "
                       "created-ahead allows at most %s",
                       r->created, dist, now, bound);
    }
    if (c < now_ms && now_ms - c > behind_ms) {
        cy_time_format_ms(now, now_ms);
        span_text(dist, now_ms - c);
        span_text(bound, behind_ms);
        return cy_fail(err, COMITY_ERR_INVALID,
                       "record.created: %s is %s behind this node's clock (%s); the rule "
                       "created-behind allows at most %s",
                       r->created, dist, now, bound);
    }
    return COMITY_OK;
}

comity_err comity_record_check_id(const comity_record *r, comity_error *err)
{
    if (cy_record_id_bound(r->id, r->author))
        return COMITY_OK;
    return cy_fail(err, COMITY_ERR_INVALID,
                   "record.id: %s is not an id made for %s; the rule id-author wants the "
                   "last half of the uuid bound to the author (make records with comity)",
                   r->id, r->author);
}

const char *comity_record_payload(const comity_record *r, size_t *len)
{
    if (len)
        *len = r->env.payload_len;
    return (const char *)r->env.payload;
}
const char *comity_record_body(const comity_record *r) { return r->body; }

/* Computes the digest and entry once, on first use.  The record is const
 * to its readers but owned by nobody else, so filling the cache is safe;
 * the mutex makes it safe for readers in several threads too. */
static void ensure_digest(const comity_record *cr)
{
    comity_record *r = (comity_record *)cr;
    pthread_mutex_lock(&r->mu);
    if (!r->digest_done) {
        uint8_t d[32];
        crypto_hash_sha256(d, r->env.pae, r->env.pae_len);
        cy_hex_encode(r->digest, d, sizeof d);
        memcpy(r->entry, "comity-record-v1:", 17);
        memcpy(r->entry + 17, r->digest, 65);
        r->digest_done = true;
    }
    pthread_mutex_unlock(&r->mu);
}

const char *comity_record_digest(const comity_record *r)
{
    ensure_digest(r);
    return r->digest;
}

const char *comity_record_entry(const comity_record *r)
{
    ensure_digest(r);
    return r->entry;
}

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

/* The one signing path: the record of `author` (a party name), sealed to
 * `author_rcpt` (its age recipient, for a sealed tlp) and pp->seal_to,
 * signed by `signer`, dated now. */
static comity_err sign_impl(const comity_nkey *signer, const char *author_name,
                            const char *author_rcpt, const comity_record_params *pp,
                            const char *body_text, size_t body_len, char **envelope,
                            size_t *envelope_len, comity_error *err);

comity_err comity_record_sign(const comity_key *author, const comity_record_params *pp,
                              const char *body_text, size_t body_len, char **envelope,
                              size_t *envelope_len, comity_error *err)
{
    *envelope = NULL;
    if (comity_init(err))
        return cy_err_code(err);
    return sign_impl(comity_key_signer(author), comity_key_party(author),
                     comity_key_recipient(author), pp, body_text, body_len, envelope,
                     envelope_len, err);
}

comity_err cy_record_sign_as(const comity_nkey *signer, const char *author,
                             const char *author_rcpt, const comity_record_params *pp,
                             const char *body, size_t body_len, char **envelope,
                             size_t *envelope_len, comity_error *err)
{
    *envelope = NULL;
    if (comity_init(err))
        return cy_err_code(err);
    if (!comity_party_valid(author, err))
        return cy_err_code(err);
    const char *tlp = pp->tlp ? pp->tlp : (pp->nseal_to ? "amber" : "green");
    if (tlp_sealed(tlp) && (!author_rcpt || !*author_rcpt))
        return cy_fail(err, COMITY_ERR_NOKEY, "sealing a record of %s: no age recipient for it",
                       author);
    return sign_impl(signer, author, author_rcpt, pp, body, body_len, envelope,
                     envelope_len, err);
}

comity_err cy_record_verify_under(const comity_record *r, const comity_vkey *vk,
                                  comity_error *err)
{
    bool ok = false;
    for (size_t i = 0; vk && vk->type == COMITY_NOTE_ED25519 && i < r->env.nsigs && !ok; i++)
        ok = r->env.sigs[i].sig_len == crypto_sign_BYTES &&
             crypto_sign_verify_detached(r->env.sigs[i].sig, r->env.pae, r->env.pae_len,
                                         vk->pk) == 0;
    if (!ok)
        return cy_fail(err, COMITY_ERR_VERIFY, "record: signature does not verify under %s",
                       vk ? vk->name : "(no key)");
    return COMITY_OK;
}

comity_err comity_record_verify_delivered(const comity_record *r,
                                          const comity_vkey *const *log_keys, size_t nkeys,
                                          comity_error *err)
{
    if (strcmp(r->type, CY_RECORD_DELIVERED) != 0)
        return cy_fail(err, COMITY_ERR_USAGE, "record: %s is not a delivered record", r->id);
    for (size_t i = 0; i < nkeys; i++)
        if (cy_record_verify_under(r, log_keys[i], NULL) == COMITY_OK)
            return COMITY_OK;
    return cy_fail(err, COMITY_ERR_VERIFY,
                   "record: the delivered record %s does not verify under the log key of %s's "
                   "home node",
                   r->id, r->author);
}

static comity_err sign_impl(const comity_nkey *signer, const char *author_name,
                            const char *author_rcpt, const comity_record_params *pp,
                            const char *body_text, size_t body_len, char **envelope,
                            size_t *envelope_len, comity_error *err)
{
    const char *tlp = pp->tlp ? pp->tlp : (pp->nseal_to ? "amber" : "green");
    if (!pp->type || !type_valid(pp->type, strlen(pp->type)))
        return cy_fail(err, COMITY_ERR_USAGE, "record type '%s' is not a lowercase type name",
                       pp->type ? pp->type : "");
    if (pp->schema < 0 || pp->schema > COMITY_RECORD_SCHEMA_MAX)
        return cy_fail(err, COMITY_ERR_USAGE, "schema version %d is not from 1 to %d", pp->schema,
                       COMITY_RECORD_SCHEMA_MAX);
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
    cy_record_uuid_new(author_name, uuid);
    cy_time_format_ms(created, cy_now_ms());
    snprintf(id, sizeof id, "%s--%s", pp->type, uuid);
    json_object_set_new(p, "type", json_string(pp->type));
    if (pp->schema > 1)
        json_object_set_new(p, "schema", json_integer(pp->schema));
    json_object_set_new(p, "id", json_string(id));
    json_object_set_new(p, "author", json_string(author_name));
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
        rcpts[0] = author_rcpt;
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
    const comity_nkey *keys[] = {signer};
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

size_t cy_record_nsigs(const comity_record *r) { return r->env.nsigs; }

const char *cy_record_sig_keyid(const comity_record *r, size_t i)
{
    return i < r->env.nsigs ? r->env.sigs[i].keyid : "";
}
