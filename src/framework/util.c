/*
 * util.c: the helpers every file of the framework uses, at the bottom of
 * the module: party names, growing arrays, times and vocabularies, JSON
 * out.  It calls no other file of src/framework, so that the mechanisms
 * above it (directory.c, messages.c, pings.c, case.c and the case
 * mechanisms) and the core (core.c) share them without calling each other.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "framework/core.h"

/* The state a party belongs to: its first label, into buf. */
const char *cy_fw_state_of(const char *party, char buf[COMITY_PARTY_MAX + 1])
{
    size_t n = strcspn(party, ".");
    if (n > COMITY_PARTY_MAX)
        n = COMITY_PARTY_MAX;
    memcpy(buf, party, n);
    buf[n] = 0;
    return buf;
}

comity_err cy_fw_nomem(comity_error *err)
{
    return cy_fail(err, COMITY_ERR_NOMEM, "framework: out of memory");
}

comity_err cy_fw_grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return COMITY_OK;
    size_t nc = *cap ? *cap * 2 : 16;
    void *p = cy_realloc(*arr, nc * elem);
    if (!p)
        return COMITY_ERR_NOMEM;
    *arr = p;
    *cap = nc;
    return COMITY_OK;
}

json_t *cy_fw_time_json(int64_t ms)
{
    if (ms < 0)
        return json_null();
    char buf[CY_TIME_BUF];
    cy_time_format_ms(buf, ms);
    return json_string(buf);
}

comity_err cy_fw_dump(json_t *j, char **json, comity_error *err)
{
    *json = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!*json)
        return cy_fw_nomem(err);
    /* hand out memory the caller can release with comity_free */
    char *c = cy_strdup(*json);
    free(*json);
    *json = c;
    return c ? COMITY_OK : cy_fw_nomem(err);
}

int64_t cy_fw_time(const char *s)
{
    int64_t ms;
    if (!s || cy_time_parse(s, strlen(s), false, &ms, NULL) != COMITY_OK)
        return -1;
    return ms;
}

bool cy_fw_in_vocab(const char *s, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

/* "a, b or c" into buf. */
const char *cy_fw_vocab_text(char *buf, size_t cap, const char *const *list)
{
    size_t n = 0, used = 0;
    while (list[n])
        n++;
    buf[0] = 0;
    for (size_t i = 0; i < n && used < cap; i++) {
        int w = snprintf(buf + used, cap - used, "%s%s",
                         i == 0 ? "" : i + 1 == n ? " or " : ", ", list[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return buf;
}
