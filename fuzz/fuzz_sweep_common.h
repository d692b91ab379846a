/*
 * fuzz_sweep_common.h: the matcher set the sweep fuzz targets scan with:
 * one value of every kind of path, so every branch of the tokenizer and the
 * readers has something to find.  Built once per process.
 */
#ifndef FUZZ_SWEEP_COMMON_H
#define FUZZ_SWEEP_COMMON_H

#include <stdlib.h>
#include <string.h>

#include "sweep/read.h"

static int fuzz_hit(void *ud, const char *unit, const cy_sw_hit *h)
{
    (void)unit;
    /* touch the token: ASan checks it lies inside the input */
    volatile char c = h->tok_len ? h->tok[h->tok_len - 1] : 0;
    (void)c;
    (*(size_t *)ud)++;
    return 0;
}

static cy_sw_set *fuzz_set(int with_words)
{
    static cy_sw_set *sets[2];
    if (sets[with_words])
        return sets[with_words];
    cy_sw_set *s = NULL;
    if (cy_sw_set_new(&s, NULL) != COMITY_OK)
        abort();
    static const struct {
        int path;
        const char *v;
    } vals[] = {
        {CY_SW_DOMAIN, "evil.com"},       {CY_SW_DOMAIN, "a.b.c"},
        {CY_SW_IPV4, "10.0.0.0/8"},        {CY_SW_IPV4, "1.2.3.4"},
        {CY_SW_IPV6, "2001:db8::/32"},     {CY_SW_EMAIL, "a@b.c"},
        {CY_SW_URL, "http://x.y/z"},       {CY_SW_MD5, "d41d8cd98f00b204e9800998ecf8427e"},
        {CY_SW_SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
        {CY_SW_FILE_PATH, "/a/b"},         {CY_SW_PROCESS_NAME, "bh"},
    };
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        if (!with_words && vals[i].path >= CY_SW_MD5)
            continue;
        if (cy_sw_set_add(s, vals[i].path, vals[i].v, strlen(vals[i].v), 1, NULL, NULL) !=
            COMITY_OK)
            abort();
    }
    if (cy_sw_set_build(s, NULL) != COMITY_OK)
        abort();
    sets[with_words] = s;
    return s;
}

static void fuzz_read(int kind, const uint8_t *data, size_t size, const char *const *keys,
                      const int *paths, size_t nkeys)
{
    cy_sw_fieldmap map = {0};
    for (size_t i = 0; i < nkeys; i++) {
        map.key[i] = (char *)keys[i];
        map.path[i] = paths[i];
    }
    map.n = nkeys;
    for (int w = 0; w < 2; w++) {
        size_t hits = 0;
        cy_sw_sink sink = {.hit = fuzz_hit, .ud = &hits};
        cy_sw_read_stats st = {0};
        cy_sw_read_buffer(fuzz_set(w), &map, kind, (const char *)data, size, &sink, &st);
    }
}

#endif
