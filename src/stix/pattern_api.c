/*
 * pattern_api.c: the public face of the pattern parser
 * (comity_pattern_check), for the comity command and other clients that
 * only need to know whether a pattern is valid and what it looks like in
 * canonical form or as JSON.
 */
#include "stix/pattern.h"

_Static_assert(COMITY_PATTERN_MAX == CY_PATTERN_MAX,
               "the public and private pattern caps agree");

/* Canonical text is at most a few times longer than its source (spaces
 * around operators, ", " in sets); JSON is bigger.  Both are capped. */
#define OUT_CAP (64u * CY_PATTERN_MAX)

comity_err comity_pattern_check(const char *text, size_t len, unsigned flags,
                                char **out, size_t *err_at, comity_error *err)
{
    *out = NULL;
    cy_pattern *p = NULL;
    comity_err rc = cy_pattern_parse(text, len, &p, err_at, err);
    if (rc != COMITY_OK)
        return rc;
    cy_buf b;
    cy_buf_init(&b, OUT_CAP);
    rc = (flags & COMITY_PATTERN_JSON) ? cy_pattern_json(p, &b)
                                       : cy_pattern_print(p, &b);
    cy_pattern_free(p);
    if (rc != COMITY_OK) {
        cy_buf_free(&b);
        return cy_fail(err, rc, "pattern: %s while printing",
                       comity_strerror(rc));
    }
    size_t n; /* the printers always write something, so data is not NULL */
    *out = (char *)cy_buf_detach(&b, &n);
    return COMITY_OK;
}
