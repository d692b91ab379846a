/*
 * envelope.c: reading a client's TAXII envelope under named caps (see
 * envelope.h for the caps and why the body is tokenised before any tree
 * is built).
 *
 * The token reader accepts what jansson with JSON_REJECT_DUPLICATES
 * accepts (base/json.c, checked by fuzz/fuzz_json.c), so reading the
 * envelope in two steps changes no answer for a well-formed body; each
 * object's jansson tree is then built from the tokens (build), the value
 * json_loadb would give for the object's bytes (checked by
 * fuzz/fuzz_stix_envelope.c), without reading the bytes a second time.
 */
#include <stdlib.h>
#include <string.h>

#include "stix/envelope.h"
#include "stix/wrapper.h" /* the record wrapper's type and extension id */

comity_err cy_stix_envelope_open(cy_stix_envelope *e, const char *text, size_t len,
                                 comity_error *err)
{
    memset(e, 0, sizeof *e);
    cy_json_init(&e->j, NULL, 0, CY_STIX_ENVELOPE_VALUES_MAX, CY_JSON_REJECT_NUL | CY_JSON_INT64);
    comity_error je = {0};
    comity_err rc = cy_json_parse(&e->j, text, len, &je);
    if (rc == COMITY_ERR_TOOBIG && strstr(je.msg, "nested"))
        rc = COMITY_ERR_INVALID; /* as deep as no envelope is: malformed, as before */
    if (rc == COMITY_ERR_TOOBIG)
        return cy_fail(err, rc, "envelope: %s (a node takes at most %u JSON values in one POST)",
                       je.msg, CY_STIX_ENVELOPE_VALUES_MAX);
    if (rc)
        return cy_fail(err, rc, "envelope: %s", je.msg);
    e->json_ok = true;
    uint32_t objs = e->j.toks[0].type == CY_JSON_OBJECT ? cy_json_get(&e->j, 0, "objects") : 0;
    if (!objs || e->j.toks[objs].type != CY_JSON_ARRAY)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "the body must be a TAXII envelope with an \"objects\" array");
    e->objects = objs;
    e->cursor = objs + 1;
    e->n = e->j.toks[objs].size;
    if (e->n > CY_STIX_ENVELOPE_OBJECTS_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG,
                       "envelope: %zu objects; a node takes at most %u in one POST", e->n,
                       CY_STIX_ENVELOPE_OBJECTS_MAX);
    return COMITY_OK;
}

/* A string token's text, unescaped when it has escapes: into small
 * (cap bytes) when it fits, else into a new buffer (*heap, cy_free).
 * NULL when out of memory.  The reader checked it is UTF-8 without NUL. */
static const char *str_text(const cy_json *j, uint32_t t, char *small, size_t cap,
                            size_t *len, char **heap)
{
    const cy_json_tok *k = &j->toks[t];
    *heap = NULL;
    if (!(k->flags & CY_JSON_F_ESCAPED)) {
        *len = k->end - k->start;
        return j->text + k->start;
    }
    size_t raw = k->end - k->start;
    char *out = small;
    if (raw + 1 > cap && !(out = *heap = cy_malloc(raw + 1)))
        return NULL;
    *len = cy_json_unescape(j, t, out, raw + 1);
    return out;
}

/* The number token t as jansson reads it: an integer without '.', 'e' or
 * 'E' (the reader checked it fits in 64 bits), else a real (checked not
 * to overflow).  *canon stays true only when jansson writes it back as the
 * same bytes (an integer other than -0). */
static json_t *number(const cy_json *j, uint32_t t, bool *canon)
{
    const cy_json_tok *k = &j->toks[t];
    size_t n = k->end - k->start;
    const char *s = j->text + k->start;
    bool real = memchr(s, '.', n) || memchr(s, 'e', n) || memchr(s, 'E', n);
    char small[64], *buf = small;
    if (n >= sizeof small && !(buf = cy_malloc(n + 1)))
        return NULL;
    memcpy(buf, s, n);
    buf[n] = 0;
    json_t *v = real ? json_real(strtod(buf, NULL)) : json_integer(strtoll(buf, NULL, 10));
    if (real || (n == 2 && s[0] == '-' && s[1] == '0'))
        *canon = false;
    if (buf != small)
        cy_free(buf);
    return v;
}

/* The value of token t as a new jansson value (NULL when out of memory),
 * built from the tokens: each byte of the body is read once.  *canon is
 * cleared when a string has escapes or a number would be written back
 * otherwise (see cy_stix_envelope_compact). */
static json_t *build(const cy_json *j, uint32_t t, bool *canon)
{
    const cy_json_tok *k = &j->toks[t];
    char small[256], *heap;
    size_t len;
    switch (k->type) {
    case CY_JSON_OBJECT: {
        json_t *o = json_object();
        for (uint32_t c = t + 1, i = 0; o && i < k->size; i++, c = j->toks[c + 1].next) {
            const char *key = str_text(j, c, small, sizeof small, &len, &heap);
            json_t *v = key ? build(j, c + 1, canon) : NULL;
            if (j->toks[c].flags & CY_JSON_F_ESCAPED)
                *canon = false;
            /* keys: UTF-8 without NUL and never twice (the reader's checks) */
            if (!v || json_object_setn_new_nocheck(o, key, len, v)) {
                json_decref(o);
                o = NULL;
            }
            cy_free(heap);
        }
        return o;
    }
    case CY_JSON_ARRAY: {
        json_t *a = json_array();
        for (uint32_t c = t + 1, i = 0; a && i < k->size; i++, c = j->toks[c].next) {
            if (json_array_append_new(a, build(j, c, canon))) {
                json_decref(a);
                a = NULL;
            }
        }
        return a;
    }
    case CY_JSON_STRING: {
        const char *v = str_text(j, t, small, sizeof small, &len, &heap);
        if (k->flags & CY_JSON_F_ESCAPED)
            *canon = false;
        json_t *s = v ? json_stringn_nocheck(v, len) : NULL;
        cy_free(heap);
        return s;
    }
    case CY_JSON_NUMBER:
        return number(j, t, canon);
    case CY_JSON_TRUE:
        return json_true();
    case CY_JSON_FALSE:
        return json_false();
    default:
        return json_null();
    }
}

json_t *cy_stix_envelope_next(cy_stix_envelope *e)
{
    e->compact = false;
    if (e->next >= e->n)
        return NULL;
    uint32_t t = e->cursor;
    e->cursor = e->j.toks[t].next;
    e->next++;
    bool canon = !(e->j.toks[t].flags & CY_JSON_F_SPACE);
    json_t *v = build(&e->j, t, &canon);
    e->compact = v && canon && e->j.toks[t].type == CY_JSON_OBJECT;
    e->last = t;
    return v;
}

const char *cy_stix_envelope_compact(const cy_stix_envelope *e, size_t *len)
{
    if (!e->compact)
        return NULL;
    const cy_json_tok *k = &e->j.toks[e->last];
    *len = k->end - k->start;
    return e->j.text + k->start;
}

void cy_stix_envelope_close(cy_stix_envelope *e) { cy_json_free(&e->j); }

comity_err cy_stix_reserved(const cy_stix_info *info, comity_error *err)
{
    if (info->type && strcmp(info->type, CY_STIX_WRAPPER_TYPE) == 0)
        return cy_fail(err, COMITY_ERR_DENIED,
                       "%s objects are the node's own copies of signed records; post the "
                       "record to /v1/records",
                       CY_STIX_WRAPPER_TYPE);
    if (info->id && strcmp(info->id, CY_STIX_EXTDEF_ID) == 0)
        return cy_fail(err, COMITY_ERR_DENIED,
                       "%s is the node's own definition of its record wrappers", info->id);
    return COMITY_OK;
}

comity_err cy_stix_owner_allows(const char *owner, const char *caller, bool is_operator,
                                cy_stix_change what, comity_error *err)
{
    if (!owner)
        return cy_fail(err, COMITY_ERR_DENIED, "this object is the node's own");
    if (caller && owner[0] && strcmp(owner, caller) == 0)
        return COMITY_OK;
    if (what == CY_STIX_DELETE && is_operator)
        return COMITY_OK;
    return cy_fail(err, COMITY_ERR_DENIED,
                   what == CY_STIX_DELETE
                       ? "only the party that posted this object may delete it"
                       : "this id belongs to an object another party posted; use a new id");
}

void cy_stix_status_text(char *out, size_t cap, const char *s)
{
    if (!cap)
        return;
    size_t n = s ? strlen(s) : 0;
    if (n >= cap) {
        n = cap - 1;
        while (n && ((unsigned char)s[n] & 0xc0) == 0x80) /* s[n] continues a sequence */
            n--;
    }
    if (n)
        memcpy(out, s, n);
    out[n] = 0;
}

/* The worst status the caps allow, every string escaped as \u00XX (six
 * bytes a byte), stays below CY_STIX_STATUS_MAX: the cap on the status is
 * a consequence of the caps on what it lists. */
_Static_assert((size_t)CY_STIX_ENVELOPE_OBJECTS_MAX * (CY_STIX_ID_MAX + CY_STIX_TIME_BUF + 64) +
                       (size_t)CY_STIX_STATUS_FAILURES_MAX * 6 *
                           (CY_STIX_ID_MAX + CY_STIX_TIME_BUF + COMITY_ERRMSG_MAX + 64) +
                       1024 <=
                   CY_STIX_STATUS_MAX,
               "a status resource within the caps fits CY_STIX_STATUS_MAX");
