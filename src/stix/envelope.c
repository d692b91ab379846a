/*
 * envelope.c: reading a client's TAXII envelope under named caps (see
 * envelope.h for the caps and why the body is tokenised before any tree
 * is built).
 *
 * The token reader accepts what jansson with JSON_REJECT_DUPLICATES
 * accepts (base/json.c, checked by fuzz/fuzz_json.c), so reading the
 * envelope in two steps changes no answer for a well-formed body; each
 * object's tree is then built by jansson from the object's own bytes.
 */
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

json_t *cy_stix_envelope_next(cy_stix_envelope *e)
{
    if (e->next >= e->n)
        return NULL;
    const cy_json_tok *t = &e->j.toks[e->cursor];
    size_t start = t->start, end = t->end;
    if (t->type == CY_JSON_STRING) { /* the token spans the inside of the quotes */
        start--;
        end++;
    }
    e->cursor = t->next;
    e->next++;
    json_error_t je;
    return json_loadb(e->j.text + start, end - start, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
                      &je);
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
