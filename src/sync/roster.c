/*
 * roster.c: who the federation's states and offices are, derived from
 * signed records alone (docs/federation.md, section 1; sync.h).
 *
 * Four inputs, and nothing else:
 *   - the operator's roster policy (DIR/roster.policy, one keyword a line
 *     in the c2sp.org/tlog-policy style): the state keys pinned one by one
 *     (`state VKEY`, optionally with their home), the admitting keys
 *     (`admitter VKEY`) and how many of them admit a state key (`quorum K`);
 *   - `admission` records, each authored by one admitting key: "admit"
 *     (or "revoke") this state key, and where it is homed;
 *   - `party` records, each authored by a state key: this office, its
 *     keys, roles, users and home node (or its revocation);
 *   - `log-succession` records, each authored by a state key: the homes
 *     of that state's entries on the old log move to the new one.
 * The body rules are src/record/roster_body.c's (intake refuses at the
 * origin what they refuse; here such a record is skipped).
 * The records are those the node's store holds (logged here: posted by
 * their author at its home, or pulled from that home by the puller) and
 * those imported by hand into DIR/roster/.  With `apply auto` in the
 * policy, a puller that takes one applies the roster at once
 * (cy_roster_auto; one apply at a time, under auto_mu).
 * The roster is a fold over the records in an order derived from the
 * records themselves (created, then id), so two nodes holding the same
 * records and the same policy print the same roster byte for byte,
 * whatever order the records arrived in.  A record the rules do not
 * admit at its point in the fold is listed under "ignored" with the
 * reason, and has no other effect.
 *
 * The rules, once:
 *   - a state key is valid from the created time of the record that made
 *     a quorum of distinct admitters admit it (a pinned key: always),
 *     until its revocation by the record v that made a quorum revoke it,
 *     weighed by the rule of record/signer.h (cy_signed_before_revocation):
 *     a record r it signed counts iff created(r) < created(v) and W(r) <
 *     W(v), W the witnesses' time of each (an unknown W later than every
 *     known one; neither known: `created` alone).  The admissions are
 *     folded first, so the revocation is known however late its record
 *     comes in the fold order; W comes from the caller (cy_roster_build_w:
 *     for a node, from the store's record_witnessed, or the log's cosigned
 *     checkpoints for a record this node is the origin of), and
 *     cy_roster_build asks none;
 *   - a party record counts when its author is a state code, its office
 *     is an office of that state, its key is named after the office, and
 *     its signature verifies under a key of that state valid at its
 *     created time; the latest such record of an office (in fold order)
 *     is the office's entry; one with "revoked" revokes the office (its
 *     earlier records stay valid: they were signed before);
 *   - a user revoked in an office's entry leaves its other users and its
 *     past records alone;
 *   - a state key's home is the one a quorum of admitters' latest admits
 *     name (the URL of the latest of them), or its policy line's;
 *   - a succession that verifies under a key of its state valid at its
 *     created time makes every entry of that state homed at the old log
 *     name the new one (after the fold, successions in fold order).
 * No allocation outlives a call but the answers the callers free.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "record/signer.h"
#include "sync/sync.h"
#include "tlog/tlog.h"

/* ---- the policy ------------------------------------------------------------ */

struct cy_roster_policy {
    comity_vkey *admitters[CY_ROSTER_ADMITTERS_MAX];
    size_t nadmitters;
    comity_vkey *states[CY_ROSTER_STATES_MAX];
    char *homes[CY_ROSTER_STATES_MAX][3]; /* a pinned key's home: log key, URL, recipient */
    size_t nstates;
    size_t quorum;
    int apply;  /* 0: not said (manual), 1: manual, 2: auto */
    int follow; /* 0: not said (auto), 1: manual, 2: auto */
};

void cy_roster_policy_free(cy_roster_policy *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nadmitters; i++)
        comity_vkey_free(p->admitters[i]);
    for (size_t i = 0; i < p->nstates; i++) {
        comity_vkey_free(p->states[i]);
        for (size_t j = 0; j < 3; j++)
            cy_free(p->homes[i][j]);
    }
    cy_free(p);
}

/* Whether a name has no dot: a state code. */
static bool is_state(const char *name)
{
    return comity_party_valid(name, NULL) && !strchr(name, '.');
}

/* A pinned state key's home words (LOG_VKEY URL AGE1), under the rules of
 * an admission's home and recipient (record/roster_body.c); NULL when
 * they hold, else why not. */
static const char *home_words_why(char *const *home)
{
    if (!cy_roster_home_ok(home[0], home[1]))
        return "its home wants LOG_VKEY (an Ed25519 note key) and an http:// or https:// URL";
    if (!comity_recipient_valid(home[2], NULL))
        return "its home wants the state key's age recipient after the URL";
    return NULL;
}

static comity_err policy_line(cy_roster_policy *p, const char *kw, const char *arg,
                              char *const *home, size_t line, comity_error *err)
{
    if (!strcmp(kw, "quorum")) {
        uint64_t k;
        if (!arg || !cy_parse_u64(arg, strlen(arg), &k) || k == 0 ||
            k > CY_ROSTER_ADMITTERS_MAX)
            return cy_fail(err, COMITY_ERR_INVALID, "roster policy line %zu: quorum wants 1 to %d",
                           line, CY_ROSTER_ADMITTERS_MAX);
        if (p->quorum)
            return cy_fail(err, COMITY_ERR_INVALID, "roster policy line %zu: a second quorum",
                           line);
        p->quorum = (size_t)k;
        return COMITY_OK;
    }
    if (!strcmp(kw, "apply") || !strcmp(kw, "follow")) {
        int a = !arg ? 0 : !strcmp(arg, "manual") ? 1 : !strcmp(arg, "auto") ? 2 : 0;
        int *slot = !strcmp(kw, "apply") ? &p->apply : &p->follow;
        if (!a)
            return cy_fail(err, COMITY_ERR_INVALID, "roster policy line %zu: %s wants auto or "
                           "manual", line, kw);
        if (*slot)
            return cy_fail(err, COMITY_ERR_INVALID, "roster policy line %zu: a second %s",
                           line, kw);
        *slot = a;
        return COMITY_OK;
    }
    bool adm = !strcmp(kw, "admitter");
    if (!adm && strcmp(kw, "state") != 0)
        return cy_fail(err, COMITY_ERR_INVALID, "roster policy line %zu: unknown keyword '%.32s' "
                       "(want state, admitter, quorum, apply or follow)", line, kw);
    if (!arg)
        return cy_fail(err, COMITY_ERR_INVALID, "roster policy line %zu: %s wants a key", line,
                       kw);
    if ((adm ? p->nadmitters : p->nstates) == (adm ? CY_ROSTER_ADMITTERS_MAX
                                                   : CY_ROSTER_STATES_MAX))
        return cy_fail(err, COMITY_ERR_TOOBIG, "roster policy line %zu: more than %d %ss", line,
                       adm ? CY_ROSTER_ADMITTERS_MAX : CY_ROSTER_STATES_MAX, kw);
    comity_vkey *k = NULL;
    if (comity_vkey_parse(arg, strlen(arg), &k, err))
        return cy_wrap(err, "roster policy line %zu", line);
    const char *name = comity_vkey_name(k);
    comity_vkey **v = adm ? p->admitters : p->states;
    size_t n = adm ? p->nadmitters : p->nstates;
    const char *why = comity_vkey_type(k) != COMITY_NOTE_ED25519 ? "not an Ed25519 key"
                      : adm && !comity_party_valid(name, NULL) ? "not named after a party"
                      : !adm && !is_state(name)               ? "not named after a state code"
                      : home                                  ? home_words_why(home)
                                                              : NULL;
    for (size_t i = 0; !why && i < n; i++)
        if (!strcmp(comity_vkey_name(v[i]), name) && adm)
            why = "a second admitter of that name";
    if (why) {
        comity_vkey_free(k);
        return cy_fail(err, COMITY_ERR_INVALID, "roster policy line %zu: %s key: %s", line, kw,
                       why);
    }
    v[n] = k;
    if (adm) {
        p->nadmitters++;
        return COMITY_OK;
    }
    for (size_t j = 0; home && j < 3; j++)
        if (!(p->homes[n][j] = cy_strdup(home[j]))) {
            p->nstates++; /* freed with the policy */
            return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
        }
    p->nstates++;
    return COMITY_OK;
}

comity_err cy_roster_policy_parse(const char *text, size_t len, cy_roster_policy **out,
                                  comity_error *err)
{
    *out = NULL;
    if (len > CY_ROSTER_POLICY_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "roster policy: over %u bytes",
                       CY_ROSTER_POLICY_MAX);
    cy_roster_policy *p = cy_calloc(1, sizeof *p);
    char *copy = cy_strndup(text, len);
    if (!p || !copy) {
        cy_free(p);
        cy_free(copy);
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    }
    comity_err rc = COMITY_OK;
    size_t line = 0;
    for (char *s = copy, *nl; !rc && s && *s; s = nl) {
        line++;
        nl = strchr(s, '\n');
        if (nl)
            *nl++ = '\0';
        for (char *c = s; *c && !rc; c++)
            if ((unsigned char)*c < 0x20 && *c != '\t' && !(*c == '\r' && !c[1]))
                rc = cy_fail(err, COMITY_ERR_INVALID, "roster policy line %zu: a control byte",
                             line);
        if (rc)
            break;
        char *hash = strchr(s, '#');
        if (hash)
            *hash = '\0';
        char *save = NULL, *kw = strtok_r(s, " \t\r", &save);
        if (!kw)
            continue;
        char *arg = strtok_r(NULL, " \t\r", &save), *home[4] = {NULL};
        size_t nh = 0;
        while (nh < 4 && (home[nh] = strtok_r(NULL, " \t\r", &save)))
            nh++;
        if (nh && (strcmp(kw, "state") != 0 || nh != 3))
            rc = cy_fail(err, COMITY_ERR_INVALID, "roster policy line %zu: too many words%s",
                         line, strcmp(kw, "state") ? ""
                                                   : " (state VKEY, or state VKEY LOG_VKEY URL "
                                                     "AGE1 with its home)");
        else
            rc = policy_line(p, kw, arg, nh ? home : NULL, line, err);
    }
    if (len && memchr(text, '\0', len))
        rc = rc ? rc : cy_fail(err, COMITY_ERR_INVALID, "roster policy: a NUL byte");
    if (!rc && p->nadmitters && !p->quorum)
        rc = cy_fail(err, COMITY_ERR_INVALID, "roster policy: admitters without a quorum");
    if (!rc && p->quorum > p->nadmitters)
        rc = cy_fail(err, COMITY_ERR_INVALID, "roster policy: quorum %zu of %zu admitters",
                     p->quorum, p->nadmitters);
    cy_free(copy);
    if (rc) {
        cy_roster_policy_free(p);
        return rc;
    }
    *out = p;
    return COMITY_OK;
}

/* ---- the fold ------------------------------------------------------------------ */

struct rec {
    comity_record *r;
    const char *type;
};

static int rec_order(const void *a, const void *b)
{
    const comity_record *x = ((const struct rec *)a)->r, *y = ((const struct rec *)b)->r;
    int64_t cx = comity_record_created_ms(x), cyv = comity_record_created_ms(y);
    if (cx != cyv)
        return cx < cyv ? -1 : 1;
    int c = strcmp(comity_record_id(x), comity_record_id(y));
    /* two records under one id (one imported, one logged): the same pick
     * on every node, whatever order they were read in */
    return c ? c : strcmp(comity_record_digest(x), comity_record_digest(y));
}

/* A state key met in admissions (or pinned). */
struct skey {
    char state[COMITY_PARTY_MAX + 1];
    comity_vkey *k;
    uint32_t admit, revoke; /* bit i: admitter i's latest word */
    int64_t from, until;    /* valid in [from, until); -1: not yet / never */
    bool pinned;
    const char *admitted_by, *revoked_by; /* ids of the records that made the quorum */
    const comity_record *revoked_rec;     /* the latter (borrowed from the fold) */
    int64_t w_until;                      /* its W (0: unknown), once asked */
    bool w_asked;
    char *word[CY_ROSTER_ADMITTERS_MAX];  /* admitter i's latest admit's home log key */
    json_t *home;                         /* {log_vkey, url, origin, record}, or NULL */
    char *recipient;                      /* the state key's, named with its home */
};

struct fold {
    const cy_roster_policy *p;
    struct skey *keys;
    size_t nkeys, capkeys;
    json_t *offices; /* office name -> its entry */
    json_t *ignored;
    json_t *succs;   /* the counting log successions, in fold order */
    cy_roster_w_fn w_of; /* a record's W (NULL: none known) */
    void *wctx;
};

static int64_t fold_w(const struct fold *f, const comity_record *r)
{
    return f->w_of && r ? f->w_of(f->wctx, r) : 0;
}

static void ignore(struct fold *f, const comity_record *r, const char *why)
{
    json_array_append_new(f->ignored, json_pack("{s:s, s:s, s:s}", "id", comity_record_id(r),
                                                "author", comity_record_author(r), "why", why));
}

static size_t popcount(uint32_t v)
{
    size_t n = 0;
    for (; v; v &= v - 1)
        n++;
    return n;
}

static struct skey *skey_find(struct fold *f, const char *vkey)
{
    for (size_t i = 0; i < f->nkeys; i++)
        if (!strcmp(comity_vkey_text(f->keys[i].k), vkey))
            return &f->keys[i];
    return NULL;
}

static struct skey *skey_add(struct fold *f, const char *state, const char *vkey)
{
    if (f->nkeys == f->capkeys) {
        if (f->capkeys == CY_ROSTER_STATES_MAX * 4)
            return NULL;
        size_t cap = f->capkeys ? f->capkeys * 2 : 16;
        struct skey *k = cy_realloc(f->keys, cap * sizeof *k);
        if (!k)
            return NULL;
        f->keys = k;
        f->capkeys = cap;
    }
    struct skey *s = &f->keys[f->nkeys];
    memset(s, 0, sizeof *s);
    if (comity_vkey_parse(vkey, strlen(vkey), &s->k, NULL))
        return NULL;
    snprintf(s->state, sizeof s->state, "%s", state);
    s->from = s->until = -1;
    f->nkeys++;
    return s;
}

/* A roster entry's home from a record's {log_vkey, url}: a copy with the
 * log key's name (its origin) and the id of the record that named it.
 * OUT: a new reference, NULL when out of memory. */
static json_t *home_entry(json_t *h, const char *record_id)
{
    json_t *e = json_pack("{s:O, s:O, s:s}", "log_vkey", json_object_get(h, "log_vkey"), "url",
                          json_object_get(h, "url"), "record", record_id);
    const char *lv = json_string_value(json_object_get(h, "log_vkey"));
    comity_vkey *hk = NULL;
    if (e && lv && comity_vkey_parse(lv, strlen(lv), &hk, NULL) == COMITY_OK)
        json_object_set_new(e, "origin", json_string(comity_vkey_name(hk)));
    comity_vkey_free(hk);
    return e;
}

static void fold_admission(struct fold *f, const comity_record *r)
{
    const cy_roster_policy *p = f->p;
    size_t a = 0;
    while (a < p->nadmitters && strcmp(comity_vkey_name(p->admitters[a]), comity_record_author(r)))
        a++;
    if (a == p->nadmitters) {
        ignore(f, r, "the author is no admitter of the roster policy");
        return;
    }
    const comity_vkey *ks[1] = {p->admitters[a]};
    if (comity_record_verify_parsed(r, ks, 1, NULL) != COMITY_OK) {
        ignore(f, r, "the signature does not verify under the admitter's key");
        return;
    }
    json_t *b = json_loads(comity_record_body(r), 0, NULL);
    const char *state = json_string_value(json_object_get(b, "state"));
    const char *vkey = json_string_value(json_object_get(b, "vkey"));
    bool admit = !strcmp(json_string_value(json_object_get(b, "action")), "admit");
    struct skey *s = skey_find(f, vkey);
    if (s && s->pinned) {
        ignore(f, r, "the state key is pinned by the roster policy");
        json_decref(b);
        return;
    }
    if (!s && !(s = skey_add(f, state, vkey))) {
        ignore(f, r, "too many state keys");
        json_decref(b);
        return;
    }
    int64_t at = comity_record_created_ms(r);
    json_t *h = json_object_get(b, "home");
    const char *hl = json_string_value(json_object_get(h, "log_vkey"));
    cy_free(s->word[a]);
    s->word[a] = admit && hl ? cy_strdup(hl) : NULL;
    if (admit) {
        s->admit |= 1u << a;
        s->revoke &= ~(1u << a);
        if (s->from < 0 && s->until < 0 && popcount(s->admit) >= p->quorum) {
            s->from = at;
            s->admitted_by = comity_record_id(r);
        }
        size_t same = 0;
        for (size_t i = 0; hl && i < p->nadmitters; i++)
            same += (s->admit >> i & 1) && s->word[i] && !strcmp(s->word[i], hl);
        if (hl && s->until < 0 && same >= p->quorum) {
            /* a quorum's word on the home, as on the key: the latest
             * record of that quorum gives the URL */
            json_decref(s->home);
            s->home = home_entry(h, comity_record_id(r));
            cy_free(s->recipient);
            s->recipient = cy_strdup(json_string_value(json_object_get(b, "recipient")));
        }
    } else {
        s->revoke |= 1u << a;
        s->admit &= ~(1u << a);
        if (s->until < 0 && popcount(s->revoke) >= p->quorum) {
            s->until = at;
            s->revoked_by = comity_record_id(r);
            s->revoked_rec = r;
        }
    }
    json_decref(b);
}

/* The users of an office's new entry e against its previous one: a user
 * (by key) is revoked from the `created` of the first entry that marks it
 * revoked, or that no longer lists it, and stays revoked in every later
 * entry ("revoked_at"; a revoked key is not valid again: a user who
 * returns gets a new key); "revoked_by" is that entry's record, whose W
 * (the witnesses' time, record/signer.h) apply writes beside it.  Users' order: the record's, then those carried
 * from prev, in prev's order. */
static void fold_users(json_t *e, const json_t *prev, const comity_record *r)
{
    json_t *users = json_object_get(e, "users");
    json_t *out = json_array();
    const json_t *pusers = json_object_get(prev, "users");
    size_t i, j;
    json_t *u, *pu;
    json_array_foreach(users, i, u) {
        json_t *c = json_deep_copy(u);
        const char *vk = json_string_value(json_object_get(u, "vkey"));
        json_array_foreach(pusers, j, pu)
            if (!strcmp(json_string_value(json_object_get(pu, "vkey")), vk) &&
                json_object_get(pu, "revoked_at")) {
                json_object_set(c, "revoked_at", json_object_get(pu, "revoked_at"));
                json_object_set(c, "revoked", json_object_get(pu, "revoked"));
                json_object_set(c, "revoked_by", json_object_get(pu, "revoked_by"));
            }
        if (json_object_get(c, "revoked") && !json_object_get(c, "revoked_at")) {
            json_object_set_new(c, "revoked_at", json_string(comity_record_created(r)));
            json_object_set_new(c, "revoked_by", json_string(comity_record_id(r)));
        }
        json_array_append_new(out, c);
    }
    json_array_foreach(pusers, j, pu) {
        const char *vk = json_string_value(json_object_get(pu, "vkey"));
        bool listed = false;
        json_array_foreach(users, i, u)
            listed = listed || !strcmp(json_string_value(json_object_get(u, "vkey")), vk);
        if (listed)
            continue;
        json_t *c = json_deep_copy(pu);
        if (!json_object_get(c, "revoked_at")) {
            json_object_set_new(c, "revoked", json_string("no longer listed by the office's "
                                                          "party record"));
            json_object_set_new(c, "revoked_at", json_string(comity_record_created(r)));
            json_object_set_new(c, "revoked_by", json_string(comity_record_id(r)));
        }
        json_array_append_new(out, c);
    }
    if (json_array_size(out))
        json_object_set_new(e, "users", out);
    else
        json_decref(out);
}

/* The keys of r's author's state valid for r (CY_ROSTER_STATES_MAX * 4
 * slots in ks): pinned, or admitted at its created time, and not revoked
 * before it under the revocation rule (record/signer.h); their number.
 * *by_w: a key left out by the witnesses' times alone (its created time
 * before the revocation's), NULL when none. */
static size_t state_keys_at(struct fold *f, const comity_record *r, const comity_vkey **ks,
                            struct skey **by_w)
{
    const char *state = comity_record_author(r);
    int64_t at = comity_record_created_ms(r), w = 0;
    bool w_asked = false;
    size_t nk = 0;
    *by_w = NULL;
    for (size_t i = 0; i < f->nkeys; i++) {
        struct skey *s = &f->keys[i];
        if (strcmp(s->state, state) || !(s->pinned || (s->from >= 0 && s->from <= at)) ||
            (s->until >= 0 && at >= s->until))
            continue;
        if (s->until >= 0) {
            if (!s->w_asked) {
                s->w_until = fold_w(f, s->revoked_rec);
                s->w_asked = true;
            }
            if (!w_asked) {
                w = fold_w(f, r);
                w_asked = true;
            }
            /* a W this node cannot tell: `created` alone, as offline */
            bool told = w != CY_ROSTER_W_UNTOLD && s->w_until != CY_ROSTER_W_UNTOLD;
            if (!cy_signed_before_revocation(at, told ? w : 0, s->until,
                                             told ? s->w_until : 0)) {
                *by_w = *by_w ? *by_w : s;
                continue;
            }
        }
        ks[nk++] = s->k;
    }
    return nk;
}

/* Whether r, authored by a state code, verifies under a key of its state
 * valid for it (state_keys_at); else it is ignored, saying why (a key
 * revoked by the witnesses' times: the rule's words, both times and W). */
static bool state_signed(struct fold *f, const comity_record *r)
{
    const comity_vkey *ks[CY_ROSTER_STATES_MAX * 4];
    struct skey *by_w = NULL;
    size_t nk = state_keys_at(f, r, ks, &by_w);
    if (nk && comity_record_verify_parsed(r, ks, nk, NULL) == COMITY_OK)
        return true;
    const comity_vkey *rk[1] = {by_w ? by_w->k : NULL};
    if (by_w && comity_record_verify_parsed(r, rk, 1, NULL) == COMITY_OK) {
        comity_error e = {0};
        char whose[COMITY_PARTY_MAX + 32];
        snprintf(whose, sizeof whose, "%s's state key", comity_record_author(r));
        (void)cy_revocation_check(r, fold_w(f, r), whose, by_w->until, NULL, by_w->w_until, &e);
        ignore(f, r, e.msg);
    } else
        ignore(f, r, nk || by_w ? "the signature verifies under no admitted key of the author's "
                                  "state"
                                : "no key of the author's state is admitted at the record's "
                                  "created time");
    return false;
}

/* A log succession counts when its author is a state code and it verifies
 * under a key of that state valid at its created time (section 11); it is
 * kept, in fold order, for follow_successions. */
static void fold_succession(struct fold *f, const comity_record *r)
{
    const char *author = comity_record_author(r);
    if (!is_state(author)) {
        ignore(f, r, "a log succession is authored by a state key");
        return;
    }
    if (!state_signed(f, r))
        return;
    json_t *b = json_loads(comity_record_body(r), 0, NULL);
    json_t *h = json_pack("{s:O, s:O}", "log_vkey", json_object_get(b, "new_log_vkey"), "url",
                          json_object_get(b, "url"));
    json_t *e = h ? home_entry(h, comity_record_id(r)) : NULL;
    if (e)
        json_array_append_new(f->succs, json_pack("{s:s, s:O, s:o}", "state", author, "old",
                                                  json_object_get(b, "old_log_vkey"), "home", e));
    json_decref(h);
    json_decref(b);
}

/* The homes the successions moved: in fold order, each names the new log
 * for every entry of its author's state (offices and state keys) whose
 * home is the old log, whatever record named that home and when; so a
 * chain of successions leads to the last log, on every node alike. */
static void follow_successions(struct fold *f)
{
    size_t i;
    json_t *sc;
    json_array_foreach(f->succs, i, sc) {
        const char *state = json_string_value(json_object_get(sc, "state"));
        const char *old = json_string_value(json_object_get(sc, "old"));
        json_t *home = json_object_get(sc, "home");
        const char *k;
        json_t *e;
        json_object_foreach(f->offices, k, e) {
            const char *lv = json_string_value(json_object_get(json_object_get(e, "home"),
                                                               "log_vkey"));
            if (lv && old && !strcmp(json_string_value(json_object_get(e, "state")), state) &&
                !strcmp(lv, old))
                json_object_set_new(e, "home", json_deep_copy(home));
        }
        for (size_t j = 0; j < f->nkeys; j++) {
            struct skey *s = &f->keys[j];
            const char *lv = json_string_value(json_object_get(s->home, "log_vkey"));
            if (lv && old && !strcmp(s->state, state) && !strcmp(lv, old)) {
                json_decref(s->home);
                s->home = json_deep_copy(home);
            }
        }
    }
}

static void fold_party(struct fold *f, const comity_record *r)
{
    const char *author = comity_record_author(r);
    if (!is_state(author)) {
        ignore(f, r, "a party record is authored by a state key");
        return;
    }
    json_t *b = json_loads(comity_record_body(r), 0, NULL);
    const char *office = json_string_value(json_object_get(b, "office"));
    size_t sl = strlen(author);
    if (strncmp(office, author, sl) != 0 || office[sl] != '.')
        ignore(f, r, "the office is not one of the author's state");
    else if (state_signed(f, r)) {
        json_t *e = json_object();
        json_t *prev = json_object_get(f->offices, office);
        json_object_set_new(e, "party", json_string(office));
        json_object_set_new(e, "state", json_string(author));
        json_object_set_new(e, "record", json_string(comity_record_id(r)));
        json_object_set_new(e, "since", json_string(comity_record_created(r)));
        const char *rev = json_string_value(json_object_get(b, "revoked"));
        if (rev) {
            /* the office's last keys stay shown, marked revoked */
            if (prev)
                json_object_update_missing(e, prev);
            json_object_set_new(e, "revoked", json_string(rev));
        } else {
            static const char *const copy[] = {"vkey", "recipient", "roles", "valid_from",
                                               "users", NULL};
            for (size_t i = 0; copy[i]; i++)
                if (json_object_get(b, copy[i]))
                    json_object_set(e, copy[i], json_object_get(b, copy[i]));
            fold_users(e, prev, r);
            json_t *home = json_object_get(b, "home");
            const char *lv = json_string_value(json_object_get(home, "log_vkey"));
            comity_vkey *hk = NULL;
            if (comity_vkey_parse(lv, strlen(lv), &hk, NULL) == COMITY_OK)
                json_object_set_new(home, "origin", json_string(comity_vkey_name(hk)));
            comity_vkey_free(hk);
            json_object_set(e, "home", home);
        }
        json_object_set_new(f->offices, office, e);
    }
    json_decref(b);
}

static int name_order(const void *a, const void *b)
{
    const char *x = json_string_value(json_object_get(*(json_t *const *)a, "key"));
    const char *y = json_string_value(json_object_get(*(json_t *const *)b, "key"));
    return strcmp(x, y);
}

comity_err cy_roster_build(const cy_roster_policy *p, const char *const *envs,
                           const size_t *lens, size_t n, char **out, comity_error *err)
{
    return cy_roster_build_w(p, envs, lens, n, NULL, NULL, out, err);
}

comity_err cy_roster_build_w(const cy_roster_policy *p, const char *const *envs,
                             const size_t *lens, size_t n, cy_roster_w_fn w_of, void *wctx,
                             char **out, comity_error *err)
{
    static const cy_roster_policy empty;
    if (!p)
        p = &empty;
    *out = NULL;
    if (n > CY_ROSTER_RECORDS_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "roster: more than %d records",
                       CY_ROSTER_RECORDS_MAX);
    struct fold f = {.p = p, .offices = json_object(), .ignored = json_array(),
                     .succs = json_array(), .w_of = w_of, .wctx = wctx};
    struct rec *rs = cy_calloc(n ? n : 1, sizeof *rs);
    json_t *root = json_object(), *states = json_array(), *parties = json_array();
    comity_err rc = COMITY_OK;
    size_t m = 0;
    if (!rs || !f.offices || !f.ignored || !f.succs || !root || !states || !parties) {
        rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
        goto out;
    }
    /* pinned state keys: valid always, whatever admissions say */
    for (size_t i = 0; i < p->nstates; i++) {
        struct skey *s = skey_add(&f, comity_vkey_name(p->states[i]),
                                  comity_vkey_text(p->states[i]));
        if (!s) {
            rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
            goto out;
        }
        s->pinned = true;
        if (p->homes[i][0]) {
            /* its home pinned with it: the policy's word, as a quorum's */
            json_t *h = json_pack("{s:s, s:s}", "log_vkey", p->homes[i][0], "url",
                                  p->homes[i][1]);
            s->home = h ? home_entry(h, "pinned") : NULL;
            s->recipient = cy_strdup(p->homes[i][2]);
            json_decref(h);
        }
    }
    for (size_t i = 0; i < n; i++) {
        comity_record *r = NULL;
        if (comity_record_parse(envs[i], lens[i], &r, NULL) != COMITY_OK)
            continue; /* the importer refuses these; a file edited by hand is skipped */
        const char *t = comity_record_type(r);
        const char *body = comity_record_body(r);
        if (!body || (strcmp(t, "party") && strcmp(t, "admission") &&
                      strcmp(t, COMITY_SUCCESSION_TYPE)) ||
            cy_record_body_check(t, body, strlen(body), NULL)) {
            comity_record_free(r);
            continue;
        }
        rs[m++] = (struct rec){r, t};
    }
    qsort(rs, m, sizeof *rs, rec_order);
    /* the admissions first (they depend on nothing else), so that a state
     * key's revocation is known to the records it signed before it; then
     * the party records and successions, in fold order */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < m; i++) /* the same record imported twice counts once */
            if ((i && !strcmp(comity_record_id(rs[i].r), comity_record_id(rs[i - 1].r))) ||
                (strcmp(rs[i].type, "admission") != 0) != pass)
                continue;
            else if (!pass)
                fold_admission(&f, rs[i].r);
            else if (!strcmp(rs[i].type, "party"))
                fold_party(&f, rs[i].r);
            else
                fold_succession(&f, rs[i].r);
    follow_successions(&f);
    for (size_t i = 0; i < f.nkeys; i++) {
        const struct skey *s = &f.keys[i];
        if (s->from < 0 && !s->pinned)
            continue; /* admitted by fewer than the quorum */
        char t[COMITY_TIME_BUF];
        json_t *o = json_pack("{s:s, s:s, s:s}", "key", comity_vkey_text(s->k), "state",
                              s->state, "vkey", comity_vkey_text(s->k));
        if (s->pinned) {
            json_object_set_new(o, "admitted", json_string("pinned"));
        } else {
            comity_time_format(t, s->from);
            json_object_set_new(o, "since", json_string(t));
            json_object_set_new(o, "admitted", json_string(s->admitted_by));
        }
        if (s->home) {
            json_object_set(o, "home", s->home);
            json_object_set_new(o, "recipient", json_string(s->recipient ? s->recipient : ""));
        }
        if (s->until >= 0) {
            comity_time_format(t, s->until);
            json_object_set_new(o, "revoked", json_string(t));
            json_object_set_new(o, "revoked_by", json_string(s->revoked_by));
        }
        json_array_append_new(states, o);
    }
    const char *k;
    json_t *v;
    json_object_foreach(f.offices, k, v)
        json_array_append_new(parties, json_pack("{s:s, s:O}", "key", k, "v", v));
    /* jansson arrays are not sortable in place: rebuild sorted */
    json_t *arrays[2] = {states, parties};
    for (int a = 0; a < 2; a++) {
        size_t na = json_array_size(arrays[a]);
        json_t **tmp = cy_calloc(na ? na : 1, sizeof *tmp);
        if (!tmp) {
            rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < na; i++)
            tmp[i] = json_incref(json_array_get(arrays[a], i));
        qsort(tmp, na, sizeof *tmp, name_order);
        json_array_clear(arrays[a]);
        for (size_t i = 0; i < na; i++) {
            json_t *val = a ? json_incref(json_object_get(tmp[i], "v")) : json_incref(tmp[i]);
            if (!a)
                json_object_del(val, "key");
            json_array_append_new(arrays[a], val);
            json_decref(tmp[i]);
        }
        cy_free(tmp);
    }
    json_object_set_new(root, "quorum", json_integer((json_int_t)p->quorum));
    json_t *adm = json_array();
    for (size_t i = 0; i < p->nadmitters; i++)
        json_array_append_new(adm, json_string(comity_vkey_name(p->admitters[i])));
    json_object_set_new(root, "admitters", adm);
    json_object_set(root, "states", states);
    json_object_set(root, "parties", parties);
    json_object_set(root, "ignored", f.ignored);
    char *s = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
    *out = s ? cy_strdup(s) : NULL;
    free(s);
    if (!*out)
        rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
out:
    for (size_t i = 0; rs && i < m; i++)
        comity_record_free(rs[i].r);
    cy_free(rs);
    for (size_t i = 0; i < f.nkeys; i++) {
        comity_vkey_free(f.keys[i].k);
        for (size_t a = 0; a < CY_ROSTER_ADMITTERS_MAX; a++)
            cy_free(f.keys[i].word[a]);
        json_decref(f.keys[i].home);
        cy_free(f.keys[i].recipient);
    }
    cy_free(f.keys);
    json_decref(f.offices);
    json_decref(f.ignored);
    json_decref(f.succs);
    json_decref(states);
    json_decref(parties);
    json_decref(root);
    return rc;
}

/* ---- the node's roster directory ------------------------------------------------ */

#define ROSTER_DIR "roster"
#define ROSTER_POLICY "roster.policy"

comity_err cy_roster_import(const char *dir, const char *env, size_t len, char **id,
                            comity_error *err)
{
    comity_record *r = NULL;
    *id = NULL;
    if (comity_record_parse(env, len, &r, err))
        return cy_wrap(err, "roster");
    const char *t = comity_record_type(r), *body = comity_record_body(r);
    comity_err rc = COMITY_OK;
    if (strcmp(t, "party") && strcmp(t, "admission"))
        rc = cy_fail(err, COMITY_ERR_INVALID, "roster: a %.48s record (want party or admission)",
                     t);
    else if (!body)
        rc = cy_fail(err, COMITY_ERR_INVALID, "roster: a sealed record (the roster is public: "
                     "tlp clear or green)");
    else if (!strcmp(t, "party"))
        rc = cy_roster_party_check(body, strlen(body), err);
    else
        rc = cy_roster_admission_check(body, strlen(body), err);
    char path[4096];
    if (!rc) {
        snprintf(path, sizeof path, "%s/" ROSTER_DIR, dir);
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            rc = cy_fail(err, COMITY_ERR_IO, "%s: %s", path, strerror(errno));
    }
    if (!rc) {
        snprintf(path, sizeof path, "%s/" ROSTER_DIR "/%s.json", dir, comity_record_digest(r));
        rc = comity_write_file(path, env, len, 0644, 1, err);
        if (rc == COMITY_ERR_EXISTS)
            cy_err_clear(err); /* imported before: the same signed bytes */
        rc = rc == COMITY_ERR_EXISTS ? COMITY_OK : rc;
    }
    if (!rc && !(*id = cy_strdup(comity_record_id(r))))
        rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    comity_record_free(r);
    return rc;
}

comity_err cy_roster_set_policy(const char *dir, const char *text, size_t len, comity_error *err)
{
    cy_roster_policy *p = NULL;
    comity_err rc = cy_roster_policy_parse(text, len, &p, err);
    cy_roster_policy_free(p);
    if (rc)
        return rc;
    char path[4096];
    snprintf(path, sizeof path, "%s/" ROSTER_POLICY, dir);
    return comity_write_file(path, text, len, 0644, 0, err);
}

/* DIR/roster.policy parsed (none: an empty policy, which admits no state).
 * OUT *out: cy_roster_policy_free. */
static comity_err read_policy(const char *dir, cy_roster_policy **out, comity_error *err)
{
    char path[4096], *text = NULL;
    size_t len = 0;
    *out = NULL;
    snprintf(path, sizeof path, "%s/" ROSTER_POLICY, dir);
    comity_err rc = comity_read_file(path, CY_ROSTER_POLICY_MAX, &text, &len, err);
    if (rc == COMITY_ERR_NOTFOUND || (rc == COMITY_ERR_IO && access(path, F_OK) != 0)) {
        cy_err_clear(err);
        rc = COMITY_OK; /* no policy: no state admitted, every record ignored */
    }
    if (!rc)
        rc = cy_roster_policy_parse(text ? text : "", len, out, err);
    comity_free(text);
    return rc;
}

struct files {
    char **v;
    size_t *len;
    size_t n;
};

static void files_free(struct files *fs)
{
    for (size_t i = 0; i < fs->n; i++)
        cy_free(fs->v[i]);
    cy_free(fs->v);
    cy_free(fs->len);
}

/* Appends one envelope to fs (a copy); TOOBIG past CY_ROSTER_RECORDS_MAX. */
static comity_err files_add(struct files *fs, size_t *cap, const char *env, size_t len,
                            const char *where, comity_error *err)
{
    if (fs->n == CY_ROSTER_RECORDS_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "%s: more than %d records", where,
                       CY_ROSTER_RECORDS_MAX);
    if (fs->n == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        char **v = cy_realloc(fs->v, c * sizeof *v);
        if (v)
            fs->v = v;
        size_t *l = v ? cy_realloc(fs->len, c * sizeof *l) : NULL;
        if (l)
            fs->len = l;
        if (!v || !l)
            return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
        *cap = c;
    }
    if (!(fs->v[fs->n] = cy_strndup(env, len)))
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    fs->len[fs->n++] = len;
    return COMITY_OK;
}

/* Every DIR/roster/<digest>.json (in no particular order: the fold orders),
 * appended to fs. */
static comity_err read_records(const char *dir, struct files *fs, size_t *cap,
                               comity_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/" ROSTER_DIR, dir);
    DIR *d = opendir(path);
    if (!d)
        return errno == ENOENT ? COMITY_OK
                               : cy_fail(err, COMITY_ERR_IO, "%s: %s", path, strerror(errno));
    comity_err rc = COMITY_OK;
    struct dirent *de;
    while (!rc && (de = readdir(d))) {
        size_t nl = strlen(de->d_name);
        if (nl < 6 || strcmp(de->d_name + nl - 5, ".json"))
            continue;
        char f[4400], *text = NULL;
        size_t len = 0;
        snprintf(f, sizeof f, "%s/%s", path, de->d_name);
        if ((rc = comity_read_file(f, COMITY_DSSE_MAX, &text, &len, err)))
            break;
        rc = files_add(fs, cap, text, len, path, err);
        comity_free(text);
    }
    closedir(d);
    return rc;
}

struct stored {
    struct files *fs;
    size_t *cap;
    int64_t last_seq;
    comity_err rc;
    comity_error *err;
};

static int stored_cb(const cy_record_row *row, void *ctx)
{
    struct stored *s = ctx;
    s->last_seq = row->seq;
    if (row->envelope &&
        (s->rc = files_add(s->fs, s->cap, row->envelope, row->envelope_len, "the stored roster",
                           s->err)))
        return 1;
    return 0;
}

/* Every party and admission record of the store (clear or green: the
 * roster is public), appended to fs: the records this node logged, posted
 * here by their author or pulled from the author's origin (section 1). */
static comity_err read_stored(comity_store *st, struct files *fs, size_t *cap,
                              comity_error *err)
{
    static const char *const types[] = {"party", "admission", COMITY_SUCCESSION_TYPE};
    cy_record_filter vis = {.tlps = {"clear", "green"}, .ntlps = 2};
    for (size_t t = 0; t < CY_ARRAY_LEN(types); t++) {
        struct stored s = {fs, cap, 0, COMITY_OK, err};
        bool more = true;
        while (more) {
            cy_record_query q = {.type = types[t], .after_seq = s.last_seq, .limit = 1000,
                                 .visible = &vis, .with_envelope = true};
            comity_err rc = cy_store_records_query(st, &q, stored_cb, &s, &more, err);
            if (s.rc)
                return s.rc;
            if (rc)
                return cy_wrap(err, "the stored roster");
        }
    }
    return COMITY_OK;
}

/* Where a record's W is read (record/signer.h): the store's
 * record_witnessed (a record pulled with a witness policy), else, for a
 * record this node is the origin of (its author a party of this node),
 * its log's table `cosigned` under the node's witness policy (pol NULL:
 * the node asks no W; log: the node's writer, or, for the CLI beside a
 * serving node, the log opened COMITY_LOG_READ (src/node/peers.c); NULL,
 * none opened or none that opens: the W of a record logged here cannot
 * be told, CY_ROSTER_W_UNTOLD). */
struct wsrc {
    comity_store *st;
    comity_log *log;
    comity_policy *pol; /* DIR's witness policy, owned (wsrc_done) */
};

static void wsrc_init(struct wsrc *ws, comity_store *st, const char *dir, comity_log *log)
{
    *ws = (struct wsrc){st, log, NULL};
    if (st && cy_witness_policy_load(dir, &ws->pol, NULL) != COMITY_OK)
        ws->pol = NULL;
}

static void wsrc_done(struct wsrc *ws)
{
    comity_policy_free(ws->pol);
    ws->pol = NULL;
}

struct w_row {
    char author[COMITY_PARTY_MAX + 1];
    uint64_t index;
    bool found;
};

static int w_row_cb(const cy_record_row *row, void *ctx)
{
    struct w_row *w = ctx;
    snprintf(w->author, sizeof w->author, "%s", row->author);
    w->index = row->log_index;
    w->found = true;
    return 1;
}

/* W of the stored record `id` (ms; 0: unknown; CY_ROSTER_W_UNTOLD: logged
 * here, and no log to tell it). */
static int64_t stored_w(const struct wsrc *ws, const char *id)
{
    int64_t w = 0;
    if (!ws->st || !id)
        return 0;
    if (cy_store_record_witnessed(ws->st, id, &w, NULL) == COMITY_OK)
        return w;
    cy_record_filter vis = {.tlps = {"clear", "green"}, .ntlps = 2};
    cy_record_query q = {.id = id, .limit = 1, .visible = &vis};
    struct w_row row = {0};
    bool more = false;
    cy_principal p;
    if (!ws->pol ||
        cy_store_records_query(ws->st, &q, w_row_cb, &row, &more, NULL) != COMITY_OK ||
        !row.found || cy_store_principal_get(ws->st, row.author, &p, NULL, NULL) != COMITY_OK ||
        strcmp(p.kind, "party") != 0)
        return 0;
    if (!ws->log)
        return CY_ROSTER_W_UNTOLD;
    return cy_firstseen_local(ws->log, ws->pol, row.index, &w, NULL) == COMITY_OK ? w : 0;
}

/* stored_w as the directory keeps it: untold is unknown. */
static int64_t stored_w_known(const struct wsrc *ws, const char *id)
{
    int64_t w = stored_w(ws, id);
    return w > 0 ? w : 0;
}

static int64_t fold_stored_w(void *ctx, const comity_record *r)
{
    return stored_w(ctx, comity_record_id(r));
}

/* The roster of DIR and the store, its W from ws (the fold asks none
 * without a log and a witness policy: `created` decides then). */
static comity_err roster_show_w(const struct wsrc *ws, const char *dir, char **json,
                                comity_error *err)
{
    *json = NULL;
    cy_roster_policy *p = NULL;
    comity_err rc = read_policy(dir, &p, err);
    struct files fs = {0};
    size_t cap = 0;
    if (!rc)
        rc = read_records(dir, &fs, &cap, err);
    if (!rc && ws->st)
        rc = read_stored(ws->st, &fs, &cap, err);
    bool w = ws->pol != NULL;
    if (!rc)
        rc = cy_roster_build_w(p, (const char *const *)fs.v, fs.len, fs.n,
                               w ? fold_stored_w : NULL, (void *)ws, json, err);
    files_free(&fs);
    cy_roster_policy_free(p);
    return rc;
}

/* roster_show_w's text into *text (may be NULL), parsed into *out (may be
 * NULL: json_decref). */
static comity_err roster_w(const struct wsrc *ws, const char *dir, char **text, json_t **out,
                           comity_error *err)
{
    char *t = NULL;
    if (out)
        *out = NULL;
    comity_err rc = roster_show_w(ws, dir, &t, err);
    if (!rc && out && !(*out = json_loads(t, 0, NULL)))
        rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    if (!rc && text)
        *text = t;
    else
        cy_free(t);
    return rc;
}

/* roster_w with the W of this node's log (NULL: none). */
static comity_err roster_at(comity_store *st, const char *dir, comity_log *log, char **text,
                            json_t **out, comity_error *err)
{
    struct wsrc ws;
    wsrc_init(&ws, st, dir, log);
    comity_err rc = roster_w(&ws, dir, text, out, err);
    wsrc_done(&ws);
    return rc;
}

comity_err cy_roster_show(comity_store *st, const char *dir, comity_log *log, char **json,
                          comity_error *err)
{
    *json = NULL;
    return roster_at(st, dir, log, json, NULL, err);
}

comity_err cy_roster_json(comity_store *st, const char *dir, comity_log *log, json_t **out,
                          comity_error *err)
{
    return roster_at(st, dir, log, NULL, out, err);
}

/* A state key's entry in the roster's "states", its fields borrowed. */
struct state_row {
    const char *state, *vkey, *recipient, *since, *revoked, *revoked_by, *lv, *url;
};

static void state_row(const json_t *e, struct state_row *s)
{
    json_t *home = json_object_get(e, "home");
    *s = (struct state_row){
        json_string_value(json_object_get(e, "state")),
        json_string_value(json_object_get(e, "vkey")),
        json_string_value(json_object_get(e, "recipient")),
        json_string_value(json_object_get(e, "since")),
        json_string_value(json_object_get(e, "revoked")),
        json_string_value(json_object_get(e, "revoked_by")),
        json_string_value(json_object_get(home, "log_vkey")),
        json_string_value(json_object_get(home, "url")),
    };
}

size_t cy_roster_state_keys(const json_t *roster, const char *state, int64_t at_ms,
                            comity_vkey **keys, size_t max)
{
    size_t n = 0, i;
    json_t *e;
    json_array_foreach(json_object_get(roster, "states"), i, e) {
        struct state_row s;
        state_row(e, &s);
        int64_t from = INT64_MIN, until = INT64_MAX;
        if (!s.state || !s.vkey || strcmp(s.state, state) != 0 || n == max ||
            (s.since && comity_time_parse(s.since, &from, NULL)) ||
            (s.revoked && comity_time_parse(s.revoked, &until, NULL)) || at_ms < from ||
            at_ms >= until)
            continue;
        if (comity_vkey_parse(s.vkey, strlen(s.vkey), &keys[n], NULL) == COMITY_OK)
            n++;
    }
    return n;
}

comity_err cy_sync_party_retire(comity_store *st, const char *name, bool *already,
                                comity_error *err)
{
    cy_principal p;
    char hash[CY_TOKEN_HASH_HEX];
    *already = false;
    comity_err rc = cy_store_principal_get(st, name, &p, hash, err);
    if (rc)
        return rc;
    if (strcmp(p.kind, "party") != 0)
        return cy_fail(err, COMITY_ERR_USAGE, "'%s' is a %s account, not a party of this node",
                       name, p.kind);
    if (strncmp(hash, "removed-", 8) == 0) {
        *already = true;
        return COMITY_OK;
    }
    uint8_t rnd[28];
    randombytes_buf(rnd, sizeof rnd);
    char gone[CY_TOKEN_HASH_HEX] = "removed-";
    sodium_bin2hex(gone + 8, sizeof gone - 8, rnd, sizeof rnd);
    return cy_store_principal_set_token(st, name, gone, err);
}

/* What apply does with an office its entry revokes, as one report item:
 * homed here, it is removed (its token stops working: it posts nothing
 * more here, its origin, so nothing after the revocation is logged
 * anywhere); homed at a peer, it stays known (its records signed before
 * the revocation, not all pulled yet perhaps, must still verify). */
static json_t *revoke_office(comity_store *st, const char *office)
{
    cy_principal p;
    comity_error e = {0};
    bool already = false;
    if (cy_store_principal_get(st, office, &p, NULL, NULL) != COMITY_OK)
        return json_pack("{s:s, s:s}", "party", office, "now", "not registered here");
    if (strcmp(p.kind, "remote") == 0)
        return json_pack("{s:s, s:s}", "party", office, "now",
                         "kept: homed at a peer, its records signed before the revocation "
                         "stay valid");
    if (cy_sync_party_retire(st, office, &already, &e) != COMITY_OK)
        return json_pack("{s:s, s:s}", "party", office, "now", e.msg);
    return json_pack("{s:s, s:s}", "party", office, "now",
                     already ? "removed before"
                             : "removed: its token no longer works; its records stay valid");
}

/* The store's rows of one office's users, read to compare with its entry. */
struct have_users {
    cy_principal_user *v;
    size_t n, cap;
    bool nomem;
};

static int have_row(const cy_principal_user *u, void *ctx)
{
    struct have_users *h = ctx;
    if (h->n == h->cap) {
        size_t c = h->cap ? h->cap * 2 : 8;
        cy_principal_user *v = cy_realloc(h->v, c * sizeof *v);
        if (!v) {
            h->nomem = true;
            return 1;
        }
        h->v = v;
        h->cap = c;
    }
    h->v[h->n++] = *u;
    return 0;
}

static int64_t ms_or_none(const char *t)
{
    int64_t ms;
    return t && comity_time_parse(t, &ms, NULL) == COMITY_OK ? ms : -1;
}

/* Writes the users of office's entry e into the store, beside the
 * office's key (each a row by key: added, or replaced when its name,
 * validity or revocation changed); appends what changed to `changes`
 * ({party, user, now: added|revoked|changed}; revoked: its key is known
 * revoked here from now on, whether it was known before or not).  A row the entry no longer
 * holds cannot be: the fold carries every user it ever listed. */
static comity_err write_users(comity_store *st, const struct wsrc *ws, const char *office,
                              const json_t *e, json_t *changes, comity_error *err)
{
    const json_t *users = json_object_get(e, "users");
    if (!json_array_size(users))
        return COMITY_OK;
    struct have_users h = {0};
    comity_err rc = cy_store_user_list(st, office, have_row, &h, err);
    if (!rc && h.nomem)
        rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    size_t i;
    json_t *u;
    json_array_foreach(users, i, u) {
        if (rc)
            break;
        cy_principal_user w;
        memset(&w, 0, sizeof w);
        snprintf(w.principal, sizeof w.principal, "%s", office);
        snprintf(w.name, sizeof w.name, "%s", json_string_value(json_object_get(u, "name")));
        snprintf(w.vkey, sizeof w.vkey, "%s", json_string_value(json_object_get(u, "vkey")));
        w.valid_from_ms = ms_or_none(json_string_value(json_object_get(u, "valid_from")));
        w.revoked_ms = ms_or_none(json_string_value(json_object_get(u, "revoked_at")));
        if (w.revoked_ms >= 0)
            snprintf(w.reason, sizeof w.reason, "%s",
                     json_string_value(json_object_get(u, "revoked")));
        /* the revocation's W, when its record was pulled with a witness
         * policy (kept with it); else unknown (0) */
        const char *by = json_string_value(json_object_get(u, "revoked_by"));
        if (w.revoked_ms >= 0 && by)
            w.revoked_w_ms = stored_w_known(ws, by);
        const cy_principal_user *old = NULL;
        for (size_t k = 0; k < h.n && !old; k++)
            if (!strcmp(h.v[k].vkey, w.vkey))
                old = &h.v[k];
        if (old && !strcmp(old->name, w.name) && old->valid_from_ms == w.valid_from_ms &&
            old->revoked_ms == w.revoked_ms && !strcmp(old->reason, w.reason) &&
            old->revoked_w_ms == w.revoked_w_ms)
            continue;
        if ((rc = cy_store_user_put(st, &w, err)))
            break;
        const char *now = w.revoked_ms >= 0 && (!old || old->revoked_ms < 0) ? "revoked"
                          : !old ? "added" : "changed";
        json_array_append_new(changes, json_pack("{s:s, s:s, s:s}", "party", office, "user",
                                                 w.name, "now", now));
    }
    cy_free(h.v);
    return rc ? cy_wrap(err, "%s's users", office) : COMITY_OK;
}

/* Writes the revocation of principal `name`'s own key `vkey` (an office's
 * or a state key's), created at `at` (roster time text) by record `by`,
 * with that record's W, when the principal holds that key and it is not
 * written so already; appends {party, now: revoked|changed, w} to `out`
 * then.  A principal not registered here, or under another key, is left
 * alone (nothing of it is taken here). */
static void write_revoked(const struct wsrc *ws, const char *name, const char *vkey,
                          const char *at, const char *by, json_t *out)
{
    cy_principal p;
    int64_t ms = ms_or_none(at);
    if (!name || !vkey || ms <= 0 ||
        cy_store_principal_get(ws->st, name, &p, NULL, NULL) != COMITY_OK ||
        strcmp(p.vkey, vkey) != 0)
        return;
    int64_t w = stored_w_known(ws, by);
    if (p.revoked_ms == ms && p.revoked_w_ms == w)
        return;
    comity_error e = {0};
    char t[COMITY_TIME_BUF] = "unknown";
    if (w > 0)
        comity_time_format(t, w);
    if (cy_store_principal_set_revoked(ws->st, name, vkey, ms, w, &e) != COMITY_OK)
        json_array_append_new(out, json_pack("{s:s, s:s}", "party", name, "why", e.msg));
    else
        json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:s}", "party", name, "now",
                                             p.revoked_ms > 0 ? "changed" : "revoked",
                                             "revoked_at", at, "revoked_w", t));
}

comity_err cy_roster_apply(comity_store *st, const char *dir, comity_log *log,
                           const char *self_vkey, const char *self_origin, char **report,
                           comity_error *err)
{
    *report = NULL;
    /* the witness policy, for the W of revocations logged here (freed below) */
    struct wsrc ws;
    wsrc_init(&ws, st, dir, log);
    json_t *r = NULL;
    comity_err rc = roster_w(&ws, dir, NULL, &r, err);
    json_t *out = rc ? NULL : json_pack("{s:[], s:[], s:[], s:[], s:[], s:[]}", "homed_at_peers",
                                        "local", "revoked", "refused", "users", "keys_revoked");
    if (!rc && !out)
        rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    if (rc) {
        json_decref(r);
        wsrc_done(&ws);
        return rc;
    }
    size_t i;
    json_t *e;
    /* a state key whose home a quorum named (section 1): a party of its
     * own, homed there like an office; one revoked is left homed as it
     * is, its revocation (and the W of the record that made the quorum)
     * written beside its key, which intake weighs (record/signer.h) */
    json_array_foreach(json_object_get(r, "states"), i, e) {
        struct state_row sr;
        state_row(e, &sr);
        const char *state = sr.state, *vkey = sr.vkey, *recip = sr.recipient, *lv = sr.lv,
                   *url = sr.url;
        if (sr.revoked)
            write_revoked(&ws, state, vkey, sr.revoked, sr.revoked_by,
                          json_object_get(out, "keys_revoked"));
        if (!lv || sr.revoked)
            continue;
        if (!strcmp(lv, self_vkey)) {
            cy_principal have;
            bool same = cy_store_principal_get(st, state, &have, NULL, NULL) == COMITY_OK &&
                        !strcmp(have.kind, "party") && !strcmp(have.vkey, vkey);
            json_array_append_new(json_object_get(out, same ? "local" : "refused"),
                                  same ? json_string(state)
                                       : json_pack("{s:s, s:s}", "party", state, "why",
                                                   "a state key homed here: register it with "
                                                   "`comity party add DIR STATE --vkey VKEY "
                                                   "--recipient AGE1`"));
            continue;
        }
        comity_error pe = {0};
        const char *vk[1] = {vkey}, *rp[1] = {recip};
        if (cy_sync_peer_add(st, self_origin, url, lv, vk, rp, 1, &pe) == COMITY_OK)
            json_array_append_new(json_object_get(out, "homed_at_peers"), json_string(state));
        else
            json_array_append_new(json_object_get(out, "refused"),
                                  json_pack("{s:s, s:s}", "party", state, "why", pe.msg));
    }
    json_array_foreach(json_object_get(r, "parties"), i, e) {
        const char *office = json_string_value(json_object_get(e, "party"));
        json_t *home = json_object_get(e, "home");
        const char *lv = json_string_value(json_object_get(home, "log_vkey"));
        const char *url = json_string_value(json_object_get(home, "url"));
        const char *vkey = json_string_value(json_object_get(e, "vkey"));
        const char *recip = json_string_value(json_object_get(e, "recipient"));
        if (json_object_get(e, "revoked")) {
            /* its key's revocation and W first: a peer's office's records
             * are weighed by them (record/signer.h) */
            write_revoked(&ws, office, vkey, json_string_value(json_object_get(e, "since")),
                          json_string_value(json_object_get(e, "record")),
                          json_object_get(out, "keys_revoked"));
            json_array_append_new(json_object_get(out, "revoked"), revoke_office(st, office));
            continue;
        }
        comity_error ue = {0};
        if (!strcmp(lv, self_vkey)) {
            /* homed here: registered by the operator (`comity party add`,
             * which hands out the office's login) with these keys */
            cy_principal have;
            bool same = cy_store_principal_get(st, office, &have, NULL, NULL) == COMITY_OK &&
                        !strcmp(have.vkey, vkey) && !strcmp(have.recipient, recip);
            json_array_append_new(json_object_get(out, same ? "local" : "refused"),
                                  same ? json_string(office)
                                       : json_pack("{s:s, s:s}", "party", office, "why",
                                                   "homed here: register it with `comity party "
                                                   "add --record` and its party record"));
            if (same && write_users(st, &ws, office, e, json_object_get(out, "users"), &ue))
                json_array_append_new(json_object_get(out, "refused"),
                                      json_pack("{s:s, s:s}", "party", office, "why", ue.msg));
            continue;
        }
        comity_error pe = {0};
        const char *vk[1] = {vkey}, *rp[1] = {recip};
        if (cy_sync_peer_add(st, self_origin, url, lv, vk, rp, 1, &pe) == COMITY_OK) {
            json_array_append_new(json_object_get(out, "homed_at_peers"), json_string(office));
            if (write_users(st, &ws, office, e, json_object_get(out, "users"), &ue))
                json_array_append_new(json_object_get(out, "refused"),
                                      json_pack("{s:s, s:s}", "party", office, "why", ue.msg));
        } else
            json_array_append_new(json_object_get(out, "refused"),
                                  json_pack("{s:s, s:s}", "party", office, "why", pe.msg));
    }
    char *s = json_dumps(out, JSON_INDENT(2) | JSON_SORT_KEYS);
    *report = s ? cy_strdup(s) : NULL;
    free(s);
    json_decref(out);
    json_decref(r);
    wsrc_done(&ws);
    return *report ? COMITY_OK : cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
}

/* ---- following the roster as records arrive ------------------------------------ */

bool cy_roster_record_id(const char *record_id)
{
    return record_id && (!strncmp(record_id, "party--", 7) ||
                         !strncmp(record_id, "admission--", 11) ||
                         !strncmp(record_id, COMITY_SUCCESSION_TYPE "--",
                                  strlen(COMITY_SUCCESSION_TYPE "--")));
}

bool cy_roster_follow_auto(const char *dir)
{
    cy_roster_policy *p = NULL;
    if (read_policy(dir, &p, NULL) != COMITY_OK)
        return false;
    bool on = p->follow != 1;
    cy_roster_policy_free(p);
    return on;
}

/* One apply at a time: the pullers of several peers may each bring a
 * roster record at once, and an apply reads the directory it then edits. */
static pthread_mutex_t auto_mu = PTHREAD_MUTEX_INITIALIZER;

comity_err cy_roster_auto(comity_store *st, const char *dir, comity_log *log,
                          const char *self_vkey, const char *self_origin, bool *applied,
                          comity_error *err)
{
    *applied = false;
    cy_roster_policy *p = NULL;
    comity_err rc = read_policy(dir, &p, err);
    bool on = !rc && p->apply == 2;
    cy_roster_policy_free(p);
    if (rc || !on)
        return rc;
    char *report = NULL;
    pthread_mutex_lock(&auto_mu);
    rc = cy_roster_apply(st, dir, log, self_vkey, self_origin, &report, err);
    pthread_mutex_unlock(&auto_mu);
    if (rc)
        return rc;
    json_t *r = json_loads(report, 0, NULL);
    size_t n[4];
    static const char *const keys[4] = {"homed_at_peers", "local", "revoked", "refused"};
    for (size_t i = 0; i < 4; i++)
        n[i] = json_array_size(json_object_get(r, keys[i]));
    cy_log(CY_LOG_INFO, "roster.applied",
           (cy_log_kv[]){CY_KV_N(keys[0], n[0]), CY_KV_N(keys[1], n[1]), CY_KV_N(keys[2], n[2]),
                         CY_KV_N(keys[3], n[3])},
           4, "the key directory follows the roster (apply auto)");
    json_decref(r);
    cy_free(report);
    *applied = true;
    return COMITY_OK;
}

comity_err cy_roster_party_local(comity_store *st, const char *dir, comity_log *log,
                                 const char *self_vkey, const char *env, size_t len,
                                 char **office, char **vkey, char **recipient,
                                 comity_error *err)
{
    *office = *vkey = *recipient = NULL;
    comity_record *r = NULL;
    char *id = NULL;
    json_t *ro = NULL, *e = NULL;
    comity_err rc = comity_record_parse(env, len, &r, err);
    if (rc)
        return cy_wrap(err, "party record");
    if (strcmp(comity_record_type(r), "party") != 0)
        rc = cy_fail(err, COMITY_ERR_INVALID, "party record: a %.48s record (want party)",
                     comity_record_type(r));
    if (!rc)
        rc = cy_roster_import(dir, env, len, &id, err);
    if (!rc)
        rc = cy_roster_json(st, dir, log, &ro, err);
    json_t *b = rc ? NULL : json_loads(comity_record_body(r), 0, NULL);
    const char *name = json_string_value(json_object_get(b, "office"));
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(ro, "ignored"), i, it)
        if (!rc && !strcmp(json_string_value(json_object_get(it, "id")), id))
            rc = cy_fail(err, COMITY_ERR_DENIED, "party record %s: the roster ignores it: %s",
                         id, json_string_value(json_object_get(it, "why")));
    json_array_foreach(json_object_get(ro, "parties"), i, it)
        if (name && !strcmp(json_string_value(json_object_get(it, "party")), name))
            e = it;
    const char *entry = json_string_value(json_object_get(e, "record"));
    const char *home = json_string_value(json_object_get(json_object_get(e, "home"), "log_vkey"));
    const char *origin = json_string_value(json_object_get(json_object_get(e, "home"), "origin"));
    if (rc)
        ;
    else if (!e || !entry)
        rc = cy_fail(err, COMITY_ERR_DENIED, "party record %s: no entry of %s in the roster",
                     id, name ? name : "?");
    else if (strcmp(entry, id) != 0)
        rc = cy_fail(err, COMITY_ERR_CONFLICT, "party record %s: a later record of %s, %s, is "
                     "its entry (comity roster)", id, name, entry);
    else if (json_object_get(e, "revoked"))
        rc = cy_fail(err, COMITY_ERR_DENIED, "party record %s: it revokes %s", id, name);
    else if (!home || strcmp(home, self_vkey) != 0)
        rc = cy_fail(err, COMITY_ERR_DENIED, "party record %s: %s is homed at %s, not here "
                     "(`comity roster apply` homes it at that peer)", id, name,
                     origin ? origin : "another node");
    else if (!(*office = cy_strdup(name)) ||
             !(*vkey = cy_strdup(json_string_value(json_object_get(e, "vkey")))) ||
             !(*recipient = cy_strdup(json_string_value(json_object_get(e, "recipient")))))
        rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    if (rc) {
        cy_free(*office);
        cy_free(*vkey);
        cy_free(*recipient);
        *office = *vkey = *recipient = NULL;
    }
    json_decref(b);
    json_decref(ro);
    cy_free(id);
    comity_record_free(r);
    return rc;
}

comity_err cy_roster_users_apply(comity_store *st, const char *dir, comity_log *log,
                                 const char *office, size_t *changed, comity_error *err)
{
    *changed = 0;
    struct wsrc ws;
    wsrc_init(&ws, st, dir, log);
    json_t *ro = NULL, *changes = NULL;
    comity_err rc = roster_w(&ws, dir, NULL, &ro, err);
    if (!rc && !(changes = json_array()))
        rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(ro, "parties"), i, e)
        if (!rc && !strcmp(json_string_value(json_object_get(e, "party")), office))
            rc = write_users(st, &ws, office, e, changes, err);
    *changed = json_array_size(changes);
    json_decref(changes);
    json_decref(ro);
    wsrc_done(&ws);
    return rc;
}
