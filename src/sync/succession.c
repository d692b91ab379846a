/*
 * succession.c: a node follows a log succession (docs/federation.md,
 * section 11; the record and its rule are src/record/succession.c).
 *
 * Following one (`comity peer follow DIR FILE`) is the operator's act on a
 * peer node, and does, in this order, so that a crash between two steps
 * leaves nothing a second run would not finish:
 *   1. checks the record: its signature under a key of the author's state
 *      that the roster (roster.c) admits at the record's created time;
 *      the old log key is a pinned peer's at which a party of that state
 *      is homed (another state cannot cap it); the last checkpoint this node
 *      accepted of that peer stands under the rule (not beyond the cut,
 *      not another root at its size): else nothing changes, and the
 *      operator decides;
 *   2. keeps the record in DIR/successions/<digest>.json (0644, durable):
 *      from then on the puller of the old peer judges every page's
 *      checkpoint by it (cy_sync_verify_page, section 6 step 2), so no
 *      record beyond the cut is taken;
 *   3. pins the new log as a peer (its URL and key, from the record);
 *   4. moves the home of each party of the author's state homed at the
 *      old log to the new one (store: home_move), so its records are
 *      taken from the new log only (intake's rule `origin`);
 *   5. unpins the old peer when no party is homed there any more (a hub's
 *      other states stay, their pulls capped at the cut).
 * Allocations are freed before return, but the report the caller frees.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "sync/sync.h"

#define SUCC_DIR "successions"
#define SUCC_KEYS_MAX 64 /* keys of one state tried on one record */

/* The keys of `state` the roster admits at `at_ms` (pinned ones always;
 * by `created`: the operator's follow holds no W of the record).
 * OUT keys[*n] (comity_vkey_free each). */
static comity_err state_keys(comity_store *store, const char *dir, const char *state,
                             int64_t at_ms, comity_vkey *keys[SUCC_KEYS_MAX], size_t *n,
                             comity_error *err)
{
    *n = 0;
    json_t *r = NULL;
    if (cy_roster_json(store, dir, NULL, &r, err))
        return cy_wrap(err, "log-succession: the roster");
    *n = cy_roster_state_keys(r, state, at_ms, keys, SUCC_KEYS_MAX);
    json_decref(r);
    return COMITY_OK;
}

struct find_peer {
    const char *vkey;
    cy_peer *out;
    bool found;
};

static int find_peer_cb(const cy_peer *p, void *ctx)
{
    struct find_peer *f = ctx;
    if (strcmp(p->vkey, f->vkey) != 0)
        return 0;
    *f->out = *p;
    f->found = true;
    return 1;
}

struct names {
    char (*v)[COMITY_PARTY_MAX + 1];
    size_t n;
};

static int names_cb(const char *name, void *ctx)
{
    struct names *ns = ctx;
    if (ns->n > CY_PEER_FILTER_MAX)
        return 1;
    snprintf(ns->v[ns->n++], COMITY_PARTY_MAX + 1, "%s", name);
    return 0;
}

/* An office of `state` ("pk.mofa" of "pk"). */
/* Whether `party` is of `state`: one of its offices, or the state key
 * itself registered as a party (it posts the state's roster and
 * succession records at its home: docs/federation.md, section 1). */
static bool of_state(const char *party, const char *state)
{
    size_t sl = strlen(state);
    return strncmp(party, state, sl) == 0 && (party[sl] == '.' || party[sl] == '\0');
}

static char *origin_of(const char *vkey, char out[CY_PEER_ORIGIN_MAX + 1])
{
    comity_vkey *k = NULL;
    out[0] = '\0';
    if (comity_vkey_parse(vkey, strlen(vkey), &k, NULL) == COMITY_OK)
        snprintf(out, CY_PEER_ORIGIN_MAX + 1, "%s", comity_vkey_name(k));
    comity_vkey_free(k);
    return out;
}

comity_err cy_succession_follow(comity_store *st, const char *dir, const char *self,
                                const char *env, size_t len, char **report, comity_error *err)
{
    *report = NULL;
    comity_succession *s = NULL;
    comity_err rc = comity_succession_parse(env, len, NULL, 0, &s, err);
    if (rc)
        return rc;
    const char *state = comity_succession_get(s, "state");
    int64_t at = 0;
    comity_vkey *keys[SUCC_KEYS_MAX];
    size_t nk = 0;
    cy_peer *old = cy_calloc(1, sizeof *old);
    struct names ns = {cy_calloc(CY_PEER_FILTER_MAX + 1, sizeof *ns.v), 0};
    struct names have = {cy_calloc(CY_PEER_FILTER_MAX + 1, sizeof *have.v), 0};
    json_t *moved = json_array();
    char oo[CY_PEER_ORIGIN_MAX + 1], no[CY_PEER_ORIGIN_MAX + 1];
    origin_of(comity_succession_get(s, "old_log_vkey"), oo);
    origin_of(comity_succession_get(s, "new_log_vkey"), no);
    if (!old || !ns.v || !have.v || !moved) {
        rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
        goto out;
    }
    /* 1. the state's signature, under the roster */
    if ((rc = comity_time_parse(comity_succession_get(s, "created"), &at, err)) ||
        (rc = state_keys(st, dir, state, at, keys, &nk, err)))
        goto out;
    comity_succession *checked = NULL;
    if (!nk) {
        rc = cy_fail(err, COMITY_ERR_NOKEY, "log-succession %s: the roster admits no key of "
                     "the state %s at %s (comity roster)", comity_succession_get(s, "id"),
                     state, comity_succession_get(s, "created"));
        goto out;
    }
    if ((rc = comity_succession_parse(env, len, (const comity_vkey *const *)keys, nk, &checked,
                                      err)))
        goto out;
    comity_succession_free(checked);
    /* the old log is a pinned peer's; the new one is another */
    struct find_peer fp = {comity_succession_get(s, "old_log_vkey"), old, false};
    if ((rc = cy_store_peer_list(st, find_peer_cb, &fp, err)))
        goto out;
    if (!fp.found) {
        rc = cy_fail(err, COMITY_ERR_NOTFOUND, "log-succession: no peer is pinned with the old "
                     "log key of %s (followed before? `comity peer list`)", oo);
        goto out;
    }
    if (self && !strcmp(no, self)) {
        rc = cy_fail(err, COMITY_ERR_USAGE, "log-succession: the new log %s is this node", no);
        goto out;
    }
    /* what this node accepted of the old log stands under the rule */
    comity_checkpoint last;
    if (old->checkpoint[0] &&
        comity_checkpoint_parse(old->checkpoint, strlen(old->checkpoint), &last, NULL) ==
            COMITY_OK) {
        const char *status = NULL;
        comity_error je = {0};
        if (comity_succession_judge(s, &last, NULL, 0, &status, &je) != COMITY_OK) {
            rc = cy_fail(err, COMITY_ERR_CONFLICT, "this node accepted a checkpoint of %s that "
                         "the succession refuses, and may hold records beyond the cut: nothing "
                         "changed, the operator decides (%s)", oo, je.msg);
            goto out;
        }
    }
    /* the parties that move, and the new peer's filter cap */
    if ((rc = cy_store_home_list(st, old->origin, names_cb, &ns, err)) ||
        (rc = cy_store_home_list(st, no, names_cb, &have, err)))
        goto out;
    size_t nmove = 0;
    for (size_t i = 0; i < ns.n; i++)
        nmove += of_state(ns.v[i], state);
    if (nmove == 0) { /* only a state whose offices the old log serves speaks for it */
        rc = cy_fail(err, COMITY_ERR_DENIED, "log-succession: no party of %s is homed at %s "
                     "here: %s cannot announce that log's succession", state, oo, state);
        goto out;
    }
    if (have.n + nmove > CY_PEER_FILTER_MAX) {
        rc = cy_fail(err, COMITY_ERR_TOOBIG, "log-succession: more than %d parties would be "
                     "homed at %s", CY_PEER_FILTER_MAX, no);
        goto out;
    }
    /* 2. kept: the old peer's puller is capped at the cut from now on */
    char path[4096];
    snprintf(path, sizeof path, "%s/" SUCC_DIR, dir);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        rc = cy_fail(err, COMITY_ERR_IO, "%s: %s", path, strerror(errno));
        goto out;
    }
    comity_record *r = NULL;
    if ((rc = comity_record_parse(env, len, &r, err)))
        goto out;
    snprintf(path, sizeof path, "%s/" SUCC_DIR "/%s.json", dir, comity_record_digest(r));
    comity_record_free(r);
    rc = comity_write_file(path, env, len, 0644, 1, err);
    if (rc == COMITY_ERR_EXISTS) {
        cy_err_clear(err);
        rc = COMITY_OK;
    }
    /* 3. the new log pinned; 4. the state's parties move to it */
    if (rc || (rc = cy_sync_peer_add(st, self, comity_succession_get(s, "url"),
                                     comity_succession_get(s, "new_log_vkey"), NULL, NULL, 0,
                                     err)))
        goto out;
    size_t stay = 0;
    for (size_t i = 0; i < ns.n; i++) {
        if (!of_state(ns.v[i], state)) {
            stay++;
            continue;
        }
        if ((rc = cy_store_home_move(st, ns.v[i], old->origin, no, err)))
            goto out;
        json_array_append_new(moved, json_string(ns.v[i]));
    }
    /* 5. the old peer unpinned once nobody is homed there */
    if (!stay && (rc = cy_store_peer_remove(st, old->origin, err)))
        goto out;
    uint64_t cut = comity_succession_size(s);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:O, s:s, s:I}", "succession",
                          comity_succession_get(s, "id"), "state", state, "old_origin", oo,
                          "new_origin", no, "cut_size", (json_int_t)cut, "moved", moved,
                          "old_peer", stay ? "kept: other states' parties are homed there; its "
                                             "pulls stop at the cut"
                                           : "removed",
                          "not_pulled",
                          (json_int_t)(old->cursor < cut ? cut - old->cursor : 0));
    char *txt = o ? json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    *report = txt ? cy_strdup(txt) : NULL;
    free(txt);
    if (!*report)
        rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
out:
    for (size_t i = 0; i < nk; i++)
        comity_vkey_free(keys[i]);
    json_decref(moved);
    cy_free(ns.v);
    cy_free(have.v);
    cy_free(old);
    comity_succession_free(s);
    return rc;
}

/* The followed succession whose `field` (old_log_vkey or new_log_vkey) is
 * log_vkey. */
static comity_err find_by(const char *dir, const char *field, const char *log_vkey,
                          comity_succession **out)
{
    *out = NULL;
    char path[4096];
    snprintf(path, sizeof path, "%s/" SUCC_DIR, dir);
    DIR *d = opendir(path);
    if (!d)
        return errno == ENOENT ? COMITY_OK : COMITY_ERR_IO;
    comity_err rc = COMITY_OK;
    struct dirent *de;
    while (!*out && (de = readdir(d))) {
        size_t nl = strlen(de->d_name);
        if (nl < 6 || strcmp(de->d_name + nl - 5, ".json"))
            continue;
        char f[4400], *text = NULL;
        size_t len = 0;
        snprintf(f, sizeof f, "%s/%s", path, de->d_name);
        if (comity_read_file(f, COMITY_DSSE_MAX, &text, &len, NULL) != COMITY_OK) {
            rc = COMITY_ERR_IO;
            break;
        }
        comity_succession *s = NULL;
        /* its signature was checked when it was followed */
        if (comity_succession_parse(text, len, NULL, 0, &s, NULL) == COMITY_OK &&
            !strcmp(comity_succession_get(s, field), log_vkey))
            *out = s;
        else
            comity_succession_free(s);
        comity_free(text);
    }
    closedir(d);
    return rc;
}

comity_err cy_succession_find(const char *dir, const char *log_vkey, comity_succession **out)
{
    return find_by(dir, "old_log_vkey", log_vkey, out);
}

comity_err cy_succession_find_new(const char *dir, const char *log_vkey, comity_succession **out)
{
    return find_by(dir, "new_log_vkey", log_vkey, out);
}

bool cy_succession_record_id(const char *record_id)
{
    return record_id && !strncmp(record_id, "log-succession--", 16);
}

comity_err cy_succession_auto(comity_store *st, const char *dir, const char *self,
                              const char *env, size_t len, bool *followed, comity_error *err)
{
    *followed = false;
    if (!cy_roster_follow_auto(dir))
        return COMITY_OK; /* `follow manual`: the operator's `comity peer follow` */
    comity_succession *s = NULL, *had = NULL;
    comity_err rc = comity_succession_parse(env, len, NULL, 0, &s, err);
    if (rc)
        return rc;
    if (cy_succession_find(dir, comity_succession_get(s, "old_log_vkey"), &had) == COMITY_OK &&
        had) { /* followed before (this one, or another of that log: the operator's) */
        comity_succession_free(had);
        comity_succession_free(s);
        return COMITY_OK;
    }
    comity_succession_free(s);
    char *report = NULL;
    rc = cy_succession_follow(st, dir, self, env, len, &report, err);
    if (rc)
        return rc;
    json_t *o = json_loads(report, 0, NULL);
    const char *oo = json_string_value(json_object_get(o, "old_origin"));
    const char *no = json_string_value(json_object_get(o, "new_origin"));
    cy_log(CY_LOG_INFO, "succession.followed",
           (cy_log_kv[]){CY_KV_S("old_origin", oo), CY_KV_S("new_origin", no)}, 2,
           "followed a log succession pulled from a peer: %s", report);
    json_decref(o);
    cy_free(report);
    *followed = true;
    return COMITY_OK;
}

comity_err cy_succession_annotate(const char *dir, char **listing, comity_error *err)
{
    json_t *a = json_loads(*listing, 0, NULL);
    if (!json_is_array(a)) {
        json_decref(a);
        return COMITY_OK;
    }
    size_t i;
    json_t *o;
    json_array_foreach(a, i, o) {
        comity_succession *s = NULL;
        const char *vk = json_string_value(json_object_get(o, "log_vkey"));
        if (!vk || cy_succession_find_new(dir, vk, &s) != COMITY_OK || !s)
            continue;
        char oo[CY_PEER_ORIGIN_MAX + 1];
        origin_of(comity_succession_get(s, "old_log_vkey"), oo);
        json_object_set_new(o, "succession",
                            json_pack("{s:s, s:s, s:s, s:I}", "id", comity_succession_get(s, "id"),
                                      "state", comity_succession_get(s, "state"), "old_origin",
                                      oo, "cut_size", (json_int_t)comity_succession_size(s)));
        comity_succession_free(s);
    }
    char *t = json_dumps(a, JSON_INDENT(2));
    json_decref(a);
    char *c = t ? cy_strdup(t) : NULL;
    free(t);
    if (!c)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    cy_free(*listing);
    *listing = c;
    return COMITY_OK;
}
