/* parties.c: see parties.h. */
#include <stdlib.h>

#include "base/base.h"
#include "util/parties.h"

int tu_parties_make(tu_parties *p)
{
    for (int i = 0; i < p->n; i++) {
        if (comity_key_generate(p->names[i], &p->keys[i], NULL))
            return -1;
        const char *v = comity_key_vkey(p->keys[i]);
        if (comity_vkey_parse(v, strlen(v), &p->vkeys[i], NULL))
            return -1;
    }
    return 0;
}

void tu_parties_free(tu_parties *p)
{
    for (int i = 0; i < p->n; i++) {
        comity_key_free(p->keys[i]);
        comity_vkey_free(p->vkeys[i]);
        p->keys[i] = NULL;
        p->vkeys[i] = NULL;
    }
    unsetenv("COMITY_FAKE_NOW");
}

int64_t tu_time(const char *s)
{
    int64_t ms;
    if (cy_time_parse(s, strlen(s), false, &ms, NULL))
        fail_msg("bad time %s", s);
    return ms;
}

/* Splits the comma-separated `list` (may be NULL) in place into v[], at
 * most `max` items; fails the test past that. */
static size_t split(char *list, const char **v, size_t max, const char *what)
{
    size_t n = 0;
    for (char *s = list ? strtok(list, ",") : NULL; s; s = strtok(NULL, ",")) {
        if (n == max)
            fail_msg("tu_record: more than %zu %s", max, what);
        v[n++] = s;
    }
    return n;
}

/* Whether party `name` is one the `to` entry `t` seals to. */
static bool seals_to(const tu_parties *p, const char *name, const char *t)
{
    if (!strcmp(name, t))
        return true;
    size_t n = strlen(t);
    return p->seal_states && !strchr(t, '.') && !strncmp(name, t, n) && name[n] == '.';
}

comity_record *tu_record(const tu_parties *p, int who, const char *type, const char *at,
                         const char *to, const char *refs, const char *body, bool sealed)
{
    char tobuf[1024], refbuf[2048];
    const char *tov[TU_RECORD_TO_MAX], *refv[TU_RECORD_REFS_MAX], *seal[TU_RECORD_TO_MAX * 4];
    snprintf(tobuf, sizeof tobuf, "%s", to ? to : "");
    snprintf(refbuf, sizeof refbuf, "%s", refs ? refs : "");
    size_t nto = split(to ? tobuf : NULL, tov, TU_RECORD_TO_MAX, "recipients");
    size_t nrefs = split(refs ? refbuf : NULL, refv, TU_RECORD_REFS_MAX, "refs");
    size_t nseal = 0;
    /* exact names in the order of `to`, then (seal_states) the offices of
     * the bare states, each party once */
    for (size_t k = 0; k < nto; k++)
        for (int i = 0; i < p->n; i++)
            if (!strcmp(p->names[i], tov[k]))
                seal[nseal++] = comity_key_recipient(p->keys[i]);
    if (p->seal_states)
        for (int i = 0; i < p->n; i++) {
            bool exact = false, state = false;
            for (size_t k = 0; k < nto; k++) {
                exact |= !strcmp(p->names[i], tov[k]);
                state |= seals_to(p, p->names[i], tov[k]);
            }
            if (state && !exact) {
                if (nseal == sizeof seal / sizeof *seal)
                    fail_msg("tu_record: too many recipients to seal to");
                seal[nseal++] = comity_key_recipient(p->keys[i]);
            }
        }
    comity_record_params rp = {.type = type, .to = tov, .nto = nto, .refs = refv,
                               .nrefs = nrefs, .tlp = sealed ? "amber" : "green"};
    if (sealed) {
        rp.seal_to = seal;
        rp.nseal_to = nseal;
    }
    setenv("COMITY_FAKE_NOW", at, 1);
    char *env;
    size_t el;
    TU_OK(comity_record_sign(p->keys[who], &rp, body, strlen(body), &env, &el, E));
    unsetenv("COMITY_FAKE_NOW");
    comity_record *r;
    TU_OK(comity_record_verify(env, el, (const comity_vkey *const *)p->vkeys, (size_t)p->n, &r,
                               E));
    comity_free(env);
    return r;
}
