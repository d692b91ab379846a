/*
 * fuzz_pattern.c: libFuzzer target for the STIX pattern parser.
 *
 * Any input must either be refused with an error (never a crash, leak or
 * read past the end) whose message is valid UTF-8, or parse to a tree that
 * survives the printer: parse(print(p)) must equal p, printing must be a
 * fixed point, and the JSON dump must succeed.  Seeds: fuzz/corpus/pattern/
 * (the 23 patterns of the STIX 2.1 specification and real files' quirks).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "stix/pattern.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *print(const cy_pattern *p, size_t *len)
{
    cy_buf b;
    cy_buf_init(&b, 64u * CY_PATTERN_MAX);
    if (cy_pattern_print(p, &b) != COMITY_OK)
        abort();
    return (char *)cy_buf_detach(&b, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cy_pattern *p = NULL;
    comity_error err = {0};
    size_t at = 0;
    if (cy_pattern_parse((const char *)data, size, &p, &at, &err) != COMITY_OK) {
        if (p || !err.msg[0] || at > size)
            abort();
        /* messages go into JSON reports: they must stay valid UTF-8 */
        json_t *m = json_string(err.msg);
        if (!m)
            abort();
        json_decref(m);
        return 0;
    }
    size_t n1, n2;
    char *s1 = print(p, &n1);
    cy_pattern *q = NULL;
    /* the canonical text may be longer than the cap; then it may be refused */
    comity_err rc = cy_pattern_parse(s1, n1, &q, NULL, NULL);
    if (rc != COMITY_OK && !(rc == COMITY_ERR_TOOBIG && n1 > CY_PATTERN_MAX))
        abort();
    if (q) {
        if (!cy_pattern_equal(p, q))
            abort();
        char *s2 = print(q, &n2);
        if (n1 != n2 || memcmp(s1, s2, n1) != 0)
            abort();
        cy_free(s2);
    }
    cy_buf j;
    cy_buf_init(&j, 1u << 30);
    if (cy_pattern_json(p, &j) != COMITY_OK)
        abort();
    cy_buf_free(&j);
    cy_free(s1);
    cy_pattern_free(q);
    cy_pattern_free(p);
    return 0;
}
