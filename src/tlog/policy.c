/*
 * policy.c: c2sp.org/tlog-policy files: which logs and which witness quorum
 * make a checkpoint trusted.
 *
 *   log <vkey> [url]
 *   witness <name> <vkey> [url]
 *   group <name> <k|all|any> <member>...
 *   quorum <name|none>
 *
 * Items are separated by spaces and tabs; blank lines and lines starting
 * with '#' (after optional whitespace) are ignored; every line ends in '\n';
 * the only control characters allowed are tab and newline.  Witnesses and
 * groups share one namespace, `none` is predefined, a name is used only
 * after its definition (so groups cannot be circular), a member appears at
 * most once per group, 1 <= k <= n, no two logs and no two witnesses share a
 * public key, and there is exactly one quorum line.  Names are opaque bytes.
 *
 * A checkpoint satisfies the policy when one listed log signed it and the
 * quorum name is satisfied: a witness by a valid cosignature, a group when at
 * least k of its members are.  A signature by a listed key that fails to
 * verify rejects the checkpoint outright (signed-note rules).
 */
#include <string.h>

#include "tlog/tlog.h"

#define POLICY_MAX_ITEMS 256 /* logs, witnesses, groups each (spec: >= 32) */
#define POLICY_MAX_FIELDS 260

struct pname {
    char *name;
    bool group;
    size_t index; /* into witnesses or groups */
};

struct pgroup {
    size_t k, n;
    size_t *members; /* indices into names */
};

struct comity_policy {
    comity_vkey **logs;
    size_t nlogs;
    comity_vkey **witnesses;
    size_t nwitnesses;
    struct pgroup *groups;
    size_t ngroups;
    struct pname *names;
    size_t nnames;
    long quorum; /* index into names; -1 for none; -2 unset */
};

void comity_policy_free(comity_policy *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nlogs; i++)
        comity_vkey_free(p->logs[i]);
    for (size_t i = 0; i < p->nwitnesses; i++)
        comity_vkey_free(p->witnesses[i]);
    for (size_t i = 0; i < p->ngroups; i++)
        cy_free(p->groups[i].members);
    for (size_t i = 0; i < p->nnames; i++)
        cy_free(p->names[i].name);
    cy_free(p->logs);
    cy_free(p->witnesses);
    cy_free(p->groups);
    cy_free(p->names);
    cy_free(p);
}

static long find_name(const comity_policy *p, const char *s, size_t n)
{
    for (size_t i = 0; i < p->nnames; i++)
        if (strlen(p->names[i].name) == n && memcmp(p->names[i].name, s, n) == 0)
            return (long)i;
    return -1;
}

static comity_err add_name(comity_policy *p, const char *s, size_t n, bool group,
                           size_t index, size_t lineno, comity_error *err)
{
    if ((n == 4 && memcmp(s, "none", 4) == 0) || find_name(p, s, n) >= 0)
        return cy_fail(err, COMITY_ERR_INVALID, "policy line %zu: name '%.*s' is %s", lineno,
                       (int)n, s, n == 4 && !memcmp(s, "none", 4) ? "reserved" : "already defined");
    p->names[p->nnames].name = cy_strndup(s, n);
    if (!p->names[p->nnames].name)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    p->names[p->nnames].group = group;
    p->names[p->nnames].index = index;
    p->nnames++;
    return COMITY_OK;
}

static bool same_key(const comity_vkey *a, const comity_vkey *b)
{
    return memcmp(a->pk, b->pk, sizeof a->pk) == 0;
}

static comity_err parse_vkey(const char *s, size_t n, int want_type, const char *what,
                             size_t lineno, comity_vkey **out, comity_error *err)
{
    comity_err rc = comity_vkey_parse(s, n, out, err);
    if (rc)
        return cy_wrap(err, "policy line %zu", lineno);
    if (comity_vkey_type(*out) != want_type) {
        comity_vkey_free(*out);
        *out = NULL;
        return cy_fail(err, COMITY_ERR_INVALID, "policy line %zu: a %s key must be type 0x%02x",
                       lineno, what, want_type);
    }
    return COMITY_OK;
}

static comity_err parse_line(comity_policy *p, const char **f, const size_t *fl, size_t nf,
                             size_t lineno, comity_error *err)
{
    comity_err rc;
#define IS(i, s) (fl[i] == strlen(s) && memcmp(f[i], s, fl[i]) == 0)
    if (IS(0, "log")) {
        if (nf < 2 || nf > 3)
            return cy_fail(err, COMITY_ERR_INVALID, "policy line %zu: want 'log <vkey> [url]'",
                           lineno);
        if (p->nlogs == POLICY_MAX_ITEMS)
            return cy_fail(err, COMITY_ERR_TOOBIG, "policy: more than %d logs", POLICY_MAX_ITEMS);
        comity_vkey *k;
        if ((rc = parse_vkey(f[1], fl[1], COMITY_NOTE_ED25519, "log", lineno, &k, err)))
            return rc;
        for (size_t i = 0; i < p->nlogs; i++)
            if (same_key(p->logs[i], k)) {
                comity_vkey_free(k);
                return cy_fail(err, COMITY_ERR_INVALID, "policy line %zu: duplicate log key",
                               lineno);
            }
        p->logs[p->nlogs++] = k;
        return COMITY_OK;
    }
    if (IS(0, "witness")) {
        if (nf < 3 || nf > 4)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "policy line %zu: want 'witness <name> <vkey> [url]'", lineno);
        if (p->nwitnesses == POLICY_MAX_ITEMS)
            return cy_fail(err, COMITY_ERR_TOOBIG, "policy: more than %d witnesses",
                           POLICY_MAX_ITEMS);
        comity_vkey *k;
        if ((rc = parse_vkey(f[2], fl[2], COMITY_NOTE_COSIG_V1, "witness", lineno, &k, err)))
            return rc;
        for (size_t i = 0; i < p->nwitnesses; i++)
            if (same_key(p->witnesses[i], k)) {
                comity_vkey_free(k);
                return cy_fail(err, COMITY_ERR_INVALID, "policy line %zu: duplicate witness key",
                               lineno);
            }
        if ((rc = add_name(p, f[1], fl[1], false, p->nwitnesses, lineno, err))) {
            comity_vkey_free(k);
            return rc;
        }
        p->witnesses[p->nwitnesses++] = k;
        return COMITY_OK;
    }
    if (IS(0, "group")) {
        if (nf < 4)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "policy line %zu: want 'group <name> <k|all|any> <member>...'", lineno);
        if (p->ngroups == POLICY_MAX_ITEMS)
            return cy_fail(err, COMITY_ERR_TOOBIG, "policy: more than %d groups",
                           POLICY_MAX_ITEMS);
        size_t n = nf - 3;
        uint64_t k;
        if (IS(2, "all"))
            k = n;
        else if (IS(2, "any"))
            k = 1;
        else if (!cy_parse_u64(f[2], fl[2], &k) || k < 1 || k > n)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "policy line %zu: threshold must be all, any, or 1 to %zu", lineno, n);
        struct pgroup *g = &p->groups[p->ngroups];
        g->members = cy_calloc(n, sizeof *g->members);
        if (!g->members)
            return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
        g->k = (size_t)k;
        g->n = n;
        for (size_t i = 0; i < n; i++) {
            long m = find_name(p, f[3 + i], fl[3 + i]);
            if (m < 0) {
                cy_free(g->members);
                g->members = NULL;
                return cy_fail(err, COMITY_ERR_INVALID,
                               "policy line %zu: '%.*s' is not defined above", lineno,
                               (int)fl[3 + i], f[3 + i]);
            }
            for (size_t j = 0; j < i; j++)
                if (g->members[j] == (size_t)m) {
                    cy_free(g->members);
                    g->members = NULL;
                    return cy_fail(err, COMITY_ERR_INVALID,
                                   "policy line %zu: member '%.*s' listed twice", lineno,
                                   (int)fl[3 + i], f[3 + i]);
                }
            g->members[i] = (size_t)m;
        }
        if ((rc = add_name(p, f[1], fl[1], true, p->ngroups, lineno, err))) {
            cy_free(g->members);
            g->members = NULL;
            return rc;
        }
        p->ngroups++;
        return COMITY_OK;
    }
    if (IS(0, "quorum")) {
        if (nf != 2)
            return cy_fail(err, COMITY_ERR_INVALID, "policy line %zu: want 'quorum <name>'",
                           lineno);
        if (p->quorum != -2)
            return cy_fail(err, COMITY_ERR_INVALID, "policy line %zu: a second quorum line",
                           lineno);
        if (IS(1, "none")) {
            p->quorum = -1;
            return COMITY_OK;
        }
        long m = find_name(p, f[1], fl[1]);
        if (m < 0)
            return cy_fail(err, COMITY_ERR_INVALID, "policy line %zu: '%.*s' is not defined above",
                           lineno, (int)fl[1], f[1]);
        p->quorum = m;
        return COMITY_OK;
    }
#undef IS
    return cy_fail(err, COMITY_ERR_INVALID,
                   "policy line %zu: unknown keyword '%.*s' (want log, witness, group, quorum)",
                   lineno, (int)(fl[0] > 32 ? 32 : fl[0]), f[0]);
}

comity_err comity_policy_parse(const char *text, size_t len, comity_policy **out,
                               comity_error *err)
{
    *out = NULL;
    comity_err rc = comity_init(err);
    if (rc)
        return rc;
    if (len > COMITY_POLICY_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "policy: larger than %u bytes", COMITY_POLICY_MAX);
    comity_policy *p = cy_calloc(1, sizeof *p);
    if (!p)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    p->quorum = -2;
    p->logs = cy_calloc(POLICY_MAX_ITEMS, sizeof *p->logs);
    p->witnesses = cy_calloc(POLICY_MAX_ITEMS, sizeof *p->witnesses);
    p->groups = cy_calloc(POLICY_MAX_ITEMS, sizeof *p->groups);
    p->names = cy_calloc(2 * POLICY_MAX_ITEMS, sizeof *p->names);
    if (!p->logs || !p->witnesses || !p->groups || !p->names) {
        comity_policy_free(p);
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f) {
            comity_policy_free(p);
            return cy_fail(err, COMITY_ERR_INVALID,
                           "policy: control character 0x%02x at byte %zu", c, i);
        }
    }
    if (len && text[len - 1] != '\n') {
        comity_policy_free(p);
        return cy_fail(err, COMITY_ERR_INVALID, "policy: the last line lacks its newline");
    }
    const char *f[POLICY_MAX_FIELDS];
    size_t fl[POLICY_MAX_FIELDS];
    size_t at = 0, lineno = 0;
    while (!rc && at < len) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t end = (size_t)(nl - text);
        lineno++;
        size_t nf = 0;
        for (size_t i = at; i < end && !rc;) {
            while (i < end && (text[i] == ' ' || text[i] == '\t'))
                i++;
            if (i == end)
                break;
            if (nf == 0 && text[i] == '#')
                break;
            size_t s = i;
            while (i < end && text[i] != ' ' && text[i] != '\t')
                i++;
            if (nf == POLICY_MAX_FIELDS)
                rc = cy_fail(err, COMITY_ERR_TOOBIG, "policy line %zu: too many items", lineno);
            else {
                f[nf] = text + s;
                fl[nf++] = i - s;
            }
        }
        if (!rc && nf)
            rc = parse_line(p, f, fl, nf, lineno, err);
        at = end + 1;
    }
    if (!rc && p->quorum == -2)
        rc = cy_fail(err, COMITY_ERR_INVALID, "policy: no quorum line");
    if (rc) {
        comity_policy_free(p);
        return rc;
    }
    *out = p;
    return COMITY_OK;
}

size_t cy_policy_nlogs(const comity_policy *p) { return p->nlogs; }

comity_err comity_policy_check(const comity_policy *p, const char *note, size_t len,
                               comity_checkpoint *out, comity_error *err)
{
    return cy_policy_check_times(p, note, len, out, NULL, NULL, err);
}

/* Whether the policy's quorum is met when witness j counts iff has[j]
 * (sat: scratch of nnames). */
static bool quorum_met(const comity_policy *p, const bool *has, bool *sat)
{
    for (size_t i = 0; i < p->nnames; i++) {
        const struct pname *nm = &p->names[i];
        if (!nm->group) {
            sat[i] = has[nm->index];
            continue;
        }
        const struct pgroup *g = &p->groups[nm->index];
        size_t c = 0;
        for (size_t j = 0; j < g->n; j++)
            c += sat[g->members[j]];
        sat[i] = c >= g->k;
    }
    return p->quorum < 0 || sat[p->quorum];
}

/* The earliest t such that the witnesses whose cosignature is timestamped
 * at or before t meet the quorum (wt[j]: witness j's earliest verified
 * time; UINT64_MAX: it did not cosign; 0: it signed without a time, which
 * counts from the start).  0 when the quorum is none or met untimed,
 * UINT64_MAX when never.  Allocates scratch (freed here). */
static uint64_t quorum_time(const comity_policy *p, const uint64_t *wt)
{
    size_t nw = p->nwitnesses;
    bool *has = cy_calloc(nw ? nw : 1, sizeof *has);
    bool *sat = cy_calloc(p->nnames ? p->nnames : 1, sizeof *sat);
    uint64_t best = UINT64_MAX;
    if (!has || !sat)
        goto out;
    if (quorum_met(p, has, sat)) {
        best = 0;
        goto out;
    }
    /* each candidate is one witness's time: the earliest that meets it */
    for (size_t c = 0; c < nw; c++) {
        uint64_t t = wt[c];
        if (t == UINT64_MAX || t >= best)
            continue;
        for (size_t j = 0; j < nw; j++)
            has[j] = wt[j] <= t;
        if (quorum_met(p, has, sat))
            best = t;
    }
out:
    cy_free(has);
    cy_free(sat);
    return best;
}

static comity_err check_times(const comity_policy *p, const char *note, size_t len,
                              comity_checkpoint *out, uint64_t *t_min, uint64_t *t_max,
                              uint64_t *t_quorum, comity_error *err)
{
    comity_err rc = comity_init(err);
    if (rc)
        return rc;
    size_t nk = p->nlogs + p->nwitnesses;
    const comity_vkey **keys = cy_calloc(nk ? nk : 1, sizeof *keys);
    bool *by = cy_calloc(nk ? nk : 1, sizeof *by);
    bool *sat = cy_calloc(p->nnames ? p->nnames : 1, sizeof *sat);
    uint64_t *wt = cy_malloc((p->nwitnesses ? p->nwitnesses : 1) * sizeof *wt);
    cy_note *n = cy_malloc(sizeof *n);
    comity_checkpoint cp;
    if (!keys || !by || !sat || !wt || !n) {
        rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < p->nlogs; i++)
        keys[i] = p->logs[i];
    for (size_t i = 0; i < p->nwitnesses; i++)
        keys[p->nlogs + i] = p->witnesses[i];
    /* the log signature (and the origin = key name rule) */
    if (p->nlogs) {
        rc = comity_checkpoint_verify(note, len, (const comity_vkey *const *)p->logs,
                                      p->nlogs, &cp, err);
        if (rc)
            goto done;
    } else {
        cy_checkpoint c;
        rc = cy_note_parse(note, len, n, err);
        if (!rc)
            rc = cy_checkpoint_parse_text(n->text, n->text_len, &c, err);
        if (rc)
            goto done;
        memcpy(cp.origin, c.origin, sizeof cp.origin);
        cp.size = c.size;
        memcpy(cp.root, c.root, CY_HASH);
    }
    rc = cy_tlog_note_check(note, len, keys, nk, by, n, err);
    if (rc)
        goto done;
    /* the times of the verified cosignatures by the policy's witnesses
     * (a type 0x04 signature is timestamp || Ed25519 signature) */
    uint64_t lo = 0, hi = 0;
    for (size_t j = 0; j < p->nwitnesses; j++) /* untimed (plain Ed25519) witnesses: 0 */
        wt[j] = by[p->nlogs + j] && p->witnesses[j]->type != COMITY_NOTE_COSIG_V1 ? 0
                                                                                 : UINT64_MAX;
    for (size_t i = 0; i < n->nsigs; i++) {
        const cy_note_sig *s = &n->sigs[i];
        for (size_t j = 0; j < p->nwitnesses; j++) {
            const comity_vkey *k = p->witnesses[j];
            if (!by[p->nlogs + j] || k->type != COMITY_NOTE_COSIG_V1 || k->id != s->id ||
                strlen(k->name) != s->name_len || memcmp(k->name, s->name, s->name_len) ||
                s->sig_len < 8)
                continue;
            uint64_t t = 0;
            for (int b = 0; b < 8; b++)
                t = t << 8 | s->sig[b];
            wt[j] = t < wt[j] ? t : wt[j];
            lo = lo == 0 || t < lo ? t : lo;
            hi = t > hi ? t : hi;
        }
    }
    if (t_min)
        *t_min = lo;
    if (t_max)
        *t_max = hi;
    if (!quorum_met(p, by + p->nlogs, sat))
        rc = cy_fail(err, COMITY_ERR_VERIFY,
                     "policy: checkpoint of %s lacks the witness quorum '%s'", cp.origin,
                     p->names[p->quorum].name);
    if (!rc && out)
        *out = cp;
    if (!rc && t_quorum) {
        *t_quorum = quorum_time(p, wt);
        if (*t_quorum == UINT64_MAX) /* met above, so only out of memory */
            rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    }
done:
    cy_free(keys);
    cy_free(by);
    cy_free(sat);
    cy_free(wt);
    cy_free(n);
    return rc;
}

comity_err cy_policy_check_times(const comity_policy *p, const char *note, size_t len,
                                 comity_checkpoint *out, uint64_t *t_min, uint64_t *t_max,
                                 comity_error *err)
{
    return check_times(p, note, len, out, t_min, t_max, NULL, err);
}

comity_err cy_policy_quorum_time(const comity_policy *p, const char *note, size_t len,
                                 comity_checkpoint *out, uint64_t *t_quorum, comity_error *err)
{
    *t_quorum = 0;
    return check_times(p, note, len, out, NULL, NULL, t_quorum, err);
}
