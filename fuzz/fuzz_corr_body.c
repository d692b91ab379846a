/*
 * fuzz_corr_body.c: what the correlation index reads from outside
 * (src/correlate/): a record body or STIX content walked for observables
 * (cy_corr_add_json, patterns included), and a lookup request body
 * (cy_corr_lookup_body).  The first byte picks which.  Besides not
 * crashing: every value the index lists normalises, as the kind it is
 * listed under, to a key written back as the very same text (the sweep's
 * normaliser is idempotent on its own output, or a value would not meet
 * its own spelling), and a lookup answer is JSON.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "correlate/correlate.h"

static void check_values(cy_corr *c)
{
    char *js = NULL;
    if (cy_corr_values(c, "notification--1", "pk.cert", &js, NULL))
        abort();
    json_t *a = json_loads(js, 0, NULL);
    if (!json_is_array(a))
        abort();
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        int k = cy_corr_kind_parse(json_string_value(json_object_get(v, "type")));
        const char *t = json_string_value(json_object_get(v, "value"));
        uint8_t key[CY_CORR_KEY_MAX];
        size_t kl;
        int kk;
        if (!k || !t || cy_corr_normalise(k, t, strlen(t), key, &kl, &kk, NULL) || kk != k)
            abort();
        char text[CY_CORR_KEY_MAX + 64];
        if (strcmp(cy_corr_key_text(kk, key, kl, text, sizeof text), t))
            abort();
    }
    json_decref(a);
    cy_free(js);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    cy_corr *c = NULL;
    if (cy_corr_new(3, &c, NULL))
        abort();
    uint32_t h;
    if (cy_corr_holder(c, "notification--1", "notification", "pk.cert", "green", NULL, 0, &h,
                       NULL))
        abort();
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    if (data[0] & 1) {
        json_t *j = json_loadb(body, len, 0, NULL);
        if (j && cy_corr_add_json(c, h, j, NULL, NULL) == COMITY_OK)
            check_values(c);
        json_decref(j);
    } else {
        (void)cy_corr_add(c, h, CY_CK_DOMAIN, "c2.evil.example", 15, NULL, NULL);
        (void)cy_corr_add(c, h, CY_CK_IPV4, "203.0.113.0/24", 14, NULL, NULL);
        if (cy_corr_prepare(c, NULL))
            abort();
        char *js = NULL;
        if (cy_corr_lookup_body(c, body, len, "in.cert", &js, NULL) == COMITY_OK) {
            json_t *a = json_loads(js, 0, NULL);
            if (!json_is_object(a))
                abort();
            json_decref(a);
        }
        cy_free(js);
    }
    cy_corr_free(c);
    return 0;
}
