/*
 * fuzz_json.c: the strict JSON reader (src/base/json.c) on arbitrary bytes,
 * checked against jansson as an independent implementation.
 *
 * With CY_JSON_REJECT_NUL | CY_JSON_INT64 the reader must accept exactly
 * what jansson accepts with JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, and
 * read the same values (types, array and object sizes, every string and
 * key byte for byte, every number).  Documented differences, which are
 * therefore skipped:
 *   - nesting deeper than CY_JSON_MAX_DEPTH (128) is refused by us, while
 *     jansson allows 2048 levels;
 *   - jansson 2.14 skips one NUL byte that directly follows a number or a
 *     literal ("[1\0]" loads as [1], "[true\0]" as [true]); a NUL byte is
 *     never JSON, so we refuse it;
 *   - without the two options we also accept \u0000 in strings and numbers
 *     jansson cannot hold (RFC 8259 allows both), so the plain parse must
 *     accept a superset of the strict one; and jansson without
 *     JSON_REJECT_DUPLICATES accepts duplicate keys, which we never do.
 * Any disagreement aborts with the input saved by libFuzzer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/json.h"

static void check(bool ok)
{
    if (!ok)
        abort();
}

/* Token t of j must hold the same value as jansson's v. */
static void same(const cy_json *j, uint32_t t, const json_t *v)
{
    const cy_json_tok *k = &j->toks[t];
    switch (k->type) {
    case CY_JSON_OBJECT: {
        check(json_is_object(v) && json_object_size(v) == k->size);
        uint32_t c = t + 1;
        for (uint32_t i = 0; i < k->size; i++, c = j->toks[c + 1].next) {
            size_t n = j->toks[c].end - j->toks[c].start;
            char *key = malloc(n + 1);
            size_t kl = cy_json_unescape(j, c, key, n + 1);
            check(kl == cy_json_str_len(j, c) && cy_json_str_eq(j, c, key, kl));
            check(cy_json_get(j, t, key) == c + 1 || strlen(key) != kl);
            json_t *m = json_object_getn(v, key, kl);
            free(key);
            check(m != NULL);
            same(j, c + 1, m);
        }
        check(c == k->next);
        break;
    }
    case CY_JSON_ARRAY: {
        check(json_is_array(v) && json_array_size(v) == k->size);
        uint32_t c = t + 1;
        for (uint32_t i = 0; i < k->size; i++, c = j->toks[c].next)
            same(j, c, json_array_get(v, i));
        check(c == k->next);
        break;
    }
    case CY_JSON_STRING: {
        check(json_is_string(v));
        size_t n = k->end - k->start;
        char *s = malloc(n + 1);
        size_t sl = cy_json_unescape(j, t, s, n + 1);
        check(sl == json_string_length(v) && memcmp(s, json_string_value(v), sl) == 0);
        check(sl == cy_json_str_len(j, t) && cy_json_str_eq(j, t, s, sl));
        free(s);
        break;
    }
    case CY_JSON_NUMBER: {
        size_t n = k->end - k->start;
        char *s = malloc(n + 1);
        memcpy(s, j->text + k->start, n);
        s[n] = 0;
        if (json_is_integer(v)) {
            check(!strpbrk(s, ".eE") && strtoll(s, NULL, 10) == json_integer_value(v));
        } else {
            check(json_is_real(v) && strpbrk(s, ".eE"));
            double d = strtod(s, NULL);
            check(d == json_real_value(v));
        }
        free(s);
        break;
    }
    case CY_JSON_TRUE: check(json_is_true(v)); break;
    case CY_JSON_FALSE: check(json_is_false(v)); break;
    case CY_JSON_NULL: check(json_is_null(v)); break;
    default: check(false);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cy_json_tok inl[8];
    cy_json j;
    comity_error e = {0};
    cy_json_init(&j, inl, CY_ARRAY_LEN(inl), 0, CY_JSON_REJECT_NUL | CY_JSON_INT64);
    comity_err rc = cy_json_parse(&j, (const char *)data, size, &e);
    json_error_t je;
    json_t *v = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
    if (rc == COMITY_OK) {
        check(v != NULL);
        check(j.ntoks > 0 && j.toks[0].next == j.ntoks);
        same(&j, 0, v);
    } else {
        check(e.msg[0] != 0);
        bool too_deep = rc == COMITY_ERR_INVALID && strstr(e.msg, "nested deeper");
        bool nul_after_number = false;
        for (size_t i = 1; i < size; i++)
            if (data[i] == 0 && ((data[i - 1] >= '0' && data[i - 1] <= '9') ||
                                 data[i - 1] == 'e' || data[i - 1] == 'l'))
                nul_after_number = true;
        check(v == NULL || too_deep || nul_after_number);
    }
    json_decref(v);
    /* the plain RFC 8259 reading accepts a superset */
    cy_json p;
    cy_json_init(&p, NULL, 0, 0, 0);
    comity_err prc = cy_json_parse(&p, (const char *)data, size, NULL);
    check(rc != COMITY_OK || prc == COMITY_OK);
    if (prc == COMITY_OK && rc == COMITY_OK)
        check(p.ntoks == j.ntoks);
    cy_json_free(&p);
    cy_json_free(&j);
    return 0;
}
