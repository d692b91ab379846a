/*
 * types.c: the record types the record layer itself knows, the versions
 * of their body schemas, and the knob that forgets some (see types.h).
 *
 * Only the types no module above rules: the framework's types (messages,
 * the directory, every case mechanism's) are the framework's to name
 * (comity_framework_handles), and intake accepts a type either names, so
 * that no list is kept twice and src/record stays below src/framework.
 *
 * COMITY_FORGET_TYPES is read once per process (pthread_once) into a
 * fixed table that is only read afterwards, so readers need no lock;
 * cy_record_forget_set rewrites it for tests that run single-threaded.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "record/types.h"

/* party and admission: the roster's records (docs/federation.md, section
 * 1), logged at their author's origin and pulled by its peers like any
 * other record; their bodies are the roster's to weigh (src/sync/roster.c),
 * a record it does not admit has no effect; log-succession: a state's
 * announcement of its node's new log (section 11), followed by its peers. */
static const char *const KNOWN_TYPES[] = {"sighting", "evidence", "note",
                                          "party",    "admission", "log-succession"};

bool cy_record_type_known(const char *type)
{
    for (size_t i = 0; i < CY_ARRAY_LEN(KNOWN_TYPES); i++)
        if (strcmp(type, KNOWN_TYPES[i]) == 0)
            return true;
    return false;
}

int cy_record_schema_max(const char *type) { return cy_record_type_known(type) ? 1 : 0; }

/* ---- COMITY_FORGET_TYPES ------------------------------------------------------------ */

struct forget {
    char type[COMITY_RECORD_TYPE_MAX + 1];
    int from; /* versions from this one up are forgotten (1: the type) */
};

static struct forget forget_list[CY_RECORD_FORGET_MAX];
static size_t forget_n;
static comity_error forget_err; /* the environment's value's fault, if any */
static pthread_once_t forget_once = PTHREAD_ONCE_INIT;

/* One entry s[0..n) of the knob into *f. */
static comity_err forget_entry(const char *s, size_t n, struct forget *f, comity_error *err)
{
    const char *at = memchr(s, '@', n);
    size_t tl = at ? (size_t)(at - s) : n;
    bool ok = tl > 0 && tl <= COMITY_RECORD_TYPE_MAX && s[0] >= 'a' && s[0] <= 'z';
    for (size_t i = 0; ok && i < tl; i++)
        ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-';
    if (!ok)
        return cy_fail(err, COMITY_ERR_USAGE,
                       CY_RECORD_FORGET_ENV ": '%.*s' is not a lowercase record type name",
                       (int)(tl > 64 ? 64 : tl), s);
    memcpy(f->type, s, tl);
    f->type[tl] = '\0';
    f->from = 1;
    if (!at)
        return COMITY_OK;
    size_t dl = n - tl - 1;
    long v = 0;
    ok = dl > 0 && dl <= 9 && at[1] != '0';
    for (size_t i = 1; ok && i <= dl; i++) {
        ok = at[i] >= '0' && at[i] <= '9';
        v = v * 10 + (at[i] - '0');
    }
    if (!ok || v > COMITY_RECORD_SCHEMA_MAX)
        return cy_fail(err, COMITY_ERR_USAGE,
                       CY_RECORD_FORGET_ENV ": in '%s@...', the version is not an integer from "
                       "1 to %d",
                       f->type, COMITY_RECORD_SCHEMA_MAX);
    f->from = (int)v;
    return COMITY_OK;
}

comity_err cy_record_forget_set(const char *spec, comity_error *err)
{
    struct forget list[CY_RECORD_FORGET_MAX];
    size_t n = 0, len = strlen(spec);
    if (len > CY_RECORD_FORGET_LEN)
        return cy_fail(err, COMITY_ERR_TOOBIG, CY_RECORD_FORGET_ENV ": over %d bytes",
                       CY_RECORD_FORGET_LEN);
    for (const char *s = spec; len && s <= spec + len;) {
        const char *comma = memchr(s, ',', (size_t)(spec + len - s));
        size_t el = comma ? (size_t)(comma - s) : (size_t)(spec + len - s);
        if (n == CY_RECORD_FORGET_MAX)
            return cy_fail(err, COMITY_ERR_TOOBIG, CY_RECORD_FORGET_ENV ": over %d entries",
                           CY_RECORD_FORGET_MAX);
        comity_err rc = forget_entry(s, el, &list[n++], err);
        if (rc)
            return rc;
        s += el + 1;
    }
    memcpy(forget_list, list, n * sizeof *list);
    forget_n = n;
    return COMITY_OK;
}

static void forget_load(void)
{
    const char *s = getenv(CY_RECORD_FORGET_ENV);
    if (s)
        (void)cy_record_forget_set(s, &forget_err);
}

comity_err cy_record_forget_init(comity_error *err)
{
    pthread_once(&forget_once, forget_load);
    if (forget_err.code)
        return cy_fail(err, forget_err.code, "%s", forget_err.msg);
    return COMITY_OK;
}

bool cy_record_forgotten(const char *type, int schema)
{
    pthread_once(&forget_once, forget_load);
    for (size_t i = 0; i < forget_n; i++)
        if (schema >= forget_list[i].from && strcmp(type, forget_list[i].type) == 0)
            return true;
    return false;
}
