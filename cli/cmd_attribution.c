/*
 * cmd_attribution.c: `comity attribution`: attribution cases
 * (docs/attribution.md): open one about incidents, add evidence, rate
 * it, claim, reply, agree a review panel, vote, publish, close, show,
 * list, correlate (which other reports share the case's infrastructure),
 * and search the vocabulary of threat actors.
 *
 *   comity attribution open --to NAMED [--to PARTY]... --ref INCIDENT... --title T --summary S
 *   comity attribution evidence CASE --what W --by SOURCE --at TIME --method M
 *                               --reliability A-F --credibility 1-6 [--stix FILE] [--file FILE]
 *   comity attribution rate CASE EVIDENCE [--reliability X] [--credibility N] [--note T]
 *   comity attribution actor CASE --name N [--synonym S]... [--country CC]
 *   comity attribution claim CASE --kind K [--incident ID] --actor NAME [--state CC]
 *                               --confidence 0-100 --likelihood WORD --evidence ID...
 *   comity attribution reply CASE CLAIM --answer A [--statement T]
 *   comity attribution panel CASE --member PARTY... | agree CASE
 *   comity attribution vote CASE CLAIM --vote V [--opinion O] --reasons T
 *   comity attribution publish CASE [--claim ID]... --statement T
 *   comity attribution close CASE --outcome O
 *   comity attribution show CASE [--json] | list | actors --search NAME
 *   comity attribution correlate CASE [--json]
 *
 * Each record goes to every other party of the case at the opening's TLP
 * (the opening: amber unless --tlp).  Every rule is the library's: bodies
 * are checked before signing, the node applies the status table, and
 * `show` of a sealed case fetches the thread, opens each record with the
 * party's own key (checking each signature against --keys when given) and
 * replays it on a handle of its own, so that the body
 * rules (a voter is a panel member...) apply there and the claims, replies
 * and tally are shown in the clear on the party's machine alone.  A claim's
 * actor is resolved in the vocabulary (--galaxy FILE or $COMITY_GALAXY,
 * plus the case's actor records) before signing: a synonym becomes the
 * actor's name.  `reply --answer offer-consultations` first opens the
 * consultation case with the claimant (consult-request), then names it.
 */
#include <stdlib.h>
#include <string.h>

#include "case_files.h"
#include "corr_local.h"
#include "keys.h"

enum {
    O_TO = 1, O_REF, O_TITLE, O_SUMMARY, O_TLP, O_WHAT, O_BY, O_AT, O_METHOD, O_HOW,
    O_REL, O_CRED, O_STIX, O_FILE, O_NOTE, O_KIND, O_INCIDENT, O_ACTOR, O_STATE, O_CONF,
    O_LIKE, O_EVID, O_BASIS, O_REPLYBY, O_ANSWER, O_STATEMENT, O_VOTE, O_OPINION,
    O_REASONS, O_CLAIM, O_OUTCOME, O_MEMBER, O_MANDATE, O_GALAXY, O_SEARCH, O_EXACT,
    O_JSON, O_NAME, O_SYN, O_COUNTRY, O_WHERE, O_CASE, O_N
};

struct attr_args {
    struct cli_client *cl;
    const char *v[O_N];
    struct cli_list to, refs, evid, claims, members, syn;
    bool exact, json;
};

static int on_opt(void *ctx, int c, const char *arg)
{
    struct attr_args *a = ctx;
    struct cli_list *l = c == O_TO       ? &a->to
                         : c == O_REF    ? &a->refs
                         : c == O_EVID   ? &a->evid
                         : c == O_CLAIM  ? &a->claims
                         : c == O_MEMBER ? &a->members
                         : c == O_SYN    ? &a->syn
                                         : NULL;
    if (l)
        return cli_list_add(l, (char *)arg) ? CLI_FAIL : CLI_OK;
    if (c == O_EXACT || c == O_JSON) {
        *(c == O_EXACT ? &a->exact : &a->json) = true;
        return CLI_OK;
    }
    if (c > 0 && c < O_N) {
        a->v[c] = arg;
        return CLI_OK;
    }
    return cli_usage(a->cl->cmd, "unknown option");
}

static const char *s_(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "-";
}

/* ---- a case as the node shows it --------------------------------------------------- */

/* GET /v1/framework/cases/ID.  OUT *view. */
static int case_view(struct cli_client *cl, const char *id, json_t **view)
{
    if (!cli_id_ok(id))
        return cli_usage(cl->cmd, "'%s' is not a case id (<type>--<uuid>)", id);
    char path[256];
    snprintf(path, sizeof path, "/v1/framework/cases/%s", id);
    return cli_client_get_json(cl, path, view);
}

/* The TLP of record `id` as the node shows it, into tlp[32] ("" if none). */
static void tlp_of(struct cli_client *cl, const char *id, char tlp[32])
{
    char path[256];
    struct cli_resp r;
    tlp[0] = 0;
    snprintf(path, sizeof path, "/v1/records/%s", id);
    if (cli_client_http(cl, "GET", path, NULL, 0, &r) == CLI_OK && r.status == 200) {
        comity_record *rec;
        if (comity_record_parse(r.data, r.len, &rec, NULL) == COMITY_OK) {
            snprintf(tlp, 32, "%s", comity_record_tlp(rec));
            comity_record_free(rec);
        }
    }
    free(r.data);
}

/* Sends a record of `type` in case `id` (refs[0]) with refs `more`, to
 * every other party of the case at the opening's TLP (--tlp overrides).
 * Takes body.  OUT *rid (may be NULL). */
static int send_in(struct attr_args *a, const char *id, const char *type,
                   const char *const *more, size_t nmore, json_t *body, char **rid)
{
    struct cli_client *cl = a->cl;
    json_t *view = NULL;
    int st = case_view(cl, id, &view);
    const char *me = st ? NULL : cli_client_party(cl);
    struct cli_list to = {0};
    const char *refs[64];
    size_t nrefs = 0;
    char tlp[32] = "";
    if (!st && !me)
        st = CLI_FAIL;
    if (!st && nmore + 1 > sizeof refs / sizeof *refs)
        st = cli_usage(cl->cmd, "at most %zu references", sizeof refs / sizeof *refs - 1);
    if (!st) {
        char mine[COMITY_PARTY_MAX + 1];
        size_t n = strcspn(me, ".");
        snprintf(mine, sizeof mine, "%.*s", (int)n, me);
        json_t *p;
        size_t i;
        json_array_foreach(json_object_get(view, "parties"), i, p) {
            const char *pn = json_string_value(json_object_get(p, "party"));
            if (pn && strcmp(pn, me) != 0 && strcmp(pn, mine) != 0 &&
                cli_list_add(&to, (char *)pn))
                st = CLI_FAIL;
        }
        refs[nrefs++] = id;
        for (size_t k = 0; k < nmore; k++)
            refs[nrefs++] = more[k];
        if (!a->v[O_TLP])
            tlp_of(cl, id, tlp);
    }
    if (!st) {
        struct cli_msg m = {.type = type,
                            .tlp = a->v[O_TLP] ? a->v[O_TLP] : tlp[0] ? tlp : NULL,
                            .to = (const char *const *)to.v,
                            .nto = to.n,
                            .refs = refs,
                            .nrefs = nrefs};
        st = cli_client_send(cl, &m, body, rid);
        body = NULL;
    }
    json_decref(body);
    cli_list_free(&to);
    json_decref(view);
    return st;
}

static int replay(struct cli_client *cl, const char *id, json_t *view, json_t **out);

/* The case view with its bodies: the node's, or for a sealed case the one
 * replayed here with our key.  OUT *view. */
static int opened_view(struct cli_client *cl, const char *id, json_t **view)
{
    json_t *v = NULL, *open = NULL;
    int st = case_view(cl, id, &v);
    if (!st && json_is_true(json_object_get(v, "sealed")))
        st = replay(cl, id, v, &open);
    if (open) {
        json_decref(v);
        v = open;
    }
    if (st)
        json_decref(v), v = NULL;
    *view = v;
    return st;
}

/* ---- the vocabulary of actors ------------------------------------------------------- */

/* The galaxy (--galaxy or $COMITY_GALAXY, when either is set) and the
 * actor records of `view` (a case view, may be NULL).  OUT *out. */
static int load_actors(struct attr_args *a, json_t *view, comity_actors **out)
{
    comity_error e = {0};
    const char *g = a->v[O_GALAXY] ? a->v[O_GALAXY] : getenv("COMITY_GALAXY");
    if (comity_actors_new(out, &e))
        return cli_error(a->cl->cmd, &e);
    if (g) {
        char *text;
        size_t len;
        if (comity_read_file(g, (size_t)64 << 20, &text, &len, &e))
            return cli_error(g, &e);
        comity_err rc = comity_actors_import(*out, text, len, NULL, &e);
        free(text);
        if (rc)
            return cli_error(g, &e);
    }
    json_t *x;
    size_t i;
    json_array_foreach(json_object_get(json_object_get(view, "attribution"), "actors"), i, x) {
        if (!json_object_get(x, "name"))
            continue; /* sealed and not opened */
        char *s = json_dumps(x, JSON_COMPACT);
        int bad = !s || comity_actors_import(*out, s, strlen(s), s_(x, "id"), &e);
        free(s);
        if (bad)
            return cli_error(a->cl->cmd, &e);
    }
    return CLI_OK;
}

/* Resolves `name` to one actor of the vocabulary: OUT *actor (its name,
 * caller frees) and *id (may be NULL, caller frees). */
static int resolve_actor(struct attr_args *a, json_t *view, const char *name, char **actor,
                         char **id)
{
    comity_actors *voc = NULL;
    comity_error e = {0};
    char *json = NULL;
    int st = load_actors(a, view, &voc);
    if (!st && comity_actors_find(voc, name, 1, 20, &json, &e))
        st = cli_error(a->cl->cmd, &e);
    json_t *j = st ? NULL : json_loads(json, 0, NULL);
    json_t *list = json_object_get(j, "actors");
    if (!st && json_array_size(list) == 0)
        st = cli_usage(a->cl->cmd,
                       "--actor %s: no such actor in the vocabulary (%lld known: --galaxy FILE "
                       "or $COMITY_GALAXY, and the case's actor records; add one with "
                       "'comity attribution actor')",
                       name, (long long)json_integer_value(json_object_get(j, "known")));
    if (!st && json_array_size(list) > 1) {
        fprintf(stderr, "comity %s: --actor %s names %zu actors:\n", a->cl->cmd, name,
                json_array_size(list));
        json_t *x;
        size_t i;
        json_array_foreach(list, i, x)
            fprintf(stderr, "  %s (%s)\n", s_(x, "name"), s_(x, "id"));
        st = cli_usage(a->cl->cmd, "--actor: want one of them by its name");
    }
    if (!st) {
        json_t *x = json_array_get(list, 0);
        *actor = strdup(s_(x, "name"));
        *id = json_string_value(json_object_get(x, "id")) ? strdup(s_(x, "id")) : NULL;
        if (!*actor)
            st = CLI_FAIL;
    }
    json_decref(j);
    comity_free(json);
    comity_actors_free(voc);
    return st;
}

static int do_actors(struct attr_args *a)
{
    if (!a->v[O_SEARCH])
        return cli_usage(a->cl->cmd, "want --search NAME");
    json_t *view = NULL;
    int st = a->v[O_CASE] ? opened_view(a->cl, a->v[O_CASE], &view) : CLI_OK;
    comity_actors *voc = NULL;
    if (!st)
        st = load_actors(a, view, &voc);
    char *json = NULL;
    comity_error e = {0};
    if (!st && comity_actors_find(voc, a->v[O_SEARCH], a->exact, 100, &json, &e))
        st = cli_error(a->cl->cmd, &e);
    json_t *j = st ? NULL : json_loads(json, 0, NULL);
    if (j && a->json) {
        char *s = json_dumps(j, JSON_INDENT(2));
        printf("%s\n", s ? s : "");
        free(s);
    } else if (j) {
        json_t *x, *s;
        size_t i, k;
        json_array_foreach(json_object_get(j, "actors"), i, x) {
            printf("%s  [%s%s%s]  %s\n", s_(x, "name"), s_(x, "country"),
                   json_object_get(x, "sponsor") ? ", sponsor " : "",
                   json_object_get(x, "sponsor") ? s_(x, "sponsor") : "", s_(x, "id"));
            json_array_foreach(json_object_get(x, "synonyms"), k, s)
                printf("%s%s", k ? ", " : "    also: ", json_string_value(s));
            if (json_array_size(json_object_get(x, "synonyms")))
                printf("\n");
        }
        printf("%lld match(es) among %lld actors\n",
               (long long)json_integer_value(json_object_get(j, "count")),
               (long long)json_integer_value(json_object_get(j, "known")));
    }
    json_decref(j);
    comity_free(json);
    comity_actors_free(voc);
    json_decref(view);
    return st;
}

/* ---- show: the node's view, or a sealed case replayed with our key ---------------------- */

/* GET /v1/records/ID, parsed, and its signature verified when keys are
 * given (--keys).  OUT *rec. */
static int fetch_record(struct cli_client *cl, const struct cli_keys *keys, const char *id,
                        comity_record **rec)
{
    char path[256];
    snprintf(path, sizeof path, "/v1/records/%s", id);
    struct cli_resp r;
    int st = cli_client_http(cl, "GET", path, NULL, 0, &r);
    if (!st && r.status != 200)
        st = cli_client_answer(cl, &r) ? CLI_NO : CLI_FAIL;
    comity_error e = {0};
    if (!st && (keys->n ? comity_record_verify(r.data, r.len,
                                               (const comity_vkey *const *)keys->vkeys,
                                               keys->n, rec, &e)
                        : comity_record_parse(r.data, r.len, rec, &e)))
        st = cli_error(cl->cmd, &e);
    free(r.data);
    return st;
}

/* Feeds record `id` to fw with its body opened by ids.  A record the
 * library refuses on its body is reported and left out (1). */
static int replay_one(struct cli_client *cl, const struct cli_keys *keys,
                      comity_identities *ids, comity_framework *fw, const char *id)
{
    comity_record *rec = NULL;
    comity_error e = {0};
    char *body = NULL;
    size_t bl = 0;
    int st = fetch_record(cl, keys, id, &rec);
    if (st)
        return st;
    /* a reply offering consultations names the consultation case first */
    if (!strcmp(comity_record_type(rec), "attribution-reply") &&
        comity_record_refs_count(rec) > 2)
        replay_one(cl, keys, ids, fw, comity_record_ref(rec, 2));
    if (comity_record_is_sealed(rec) && comity_record_open(rec, ids, &body, &bl, &e)) {
        fprintf(stderr, "comity %s: %s: cannot open it (%s); shown sealed\n", cl->cmd, id,
                e.msg);
        body = NULL;
    }
    if (comity_framework_add(fw, rec, body, bl, &e)) {
        fprintf(stderr, "comity %s: %s REFUSED when read: %s\n", cl->cmd, id, e.msg);
        st = 1;
    }
    comity_free(body);
    comity_record_free(rec);
    return st == 1 ? 0 : st;
}

static int replay(struct cli_client *cl, const char *id, json_t *view, json_t **out)
{
    comity_error e = {0};
    comity_identities *ids = NULL;
    comity_framework *fw = NULL;
    struct cli_keys keys = {0};
    int st = cl->keys ? cli_keys_add(&keys, cl->keys) : CLI_OK;
    if (!st && (comity_identities_load(cl->key, &ids, &e) || comity_framework_new(&fw, &e)))
        st = cli_error(cl->cmd, &e);
    json_t *t;
    size_t i;
    json_array_foreach(json_object_get(view, "thread"), i, t) {
        if (st)
            break;
        st = replay_one(cl, &keys, ids, fw, s_(t, "id"));
    }
    char *json = NULL;
    const char *me = st ? NULL : cli_client_party(cl);
    if (!st && (!me || comity_framework_case(fw, id, me,
                                             comity_now_ms(), &json, &e)))
        st = me ? cli_error(cl->cmd, &e) : CLI_FAIL;
    if (!st && !(*out = json_loads(json, 0, NULL)))
        st = CLI_FAIL;
    comity_free(json);
    comity_framework_free(fw);
    comity_identities_free(ids);
    cli_keys_free(&keys);
    return st;
}

static void print_case(json_t *j)
{
    json_t *a = json_object_get(j, "attribution"), *x, *y;
    size_t i, k;
    printf("case %s  %s%s  (you: %s)\n", s_(j, "id"), s_(j, "state"),
           json_is_true(json_object_get(j, "sealed")) ? ", sealed" : "", s_(j, "role"));
    json_array_foreach(json_object_get(j, "parties"), i, x)
        printf("  %-8s %s\n", s_(x, "role"), s_(x, "party"));
    json_array_foreach(json_object_get(j, "clocks"), i, x)
        printf("  clock %s: %s due %s%s%s\n", s_(x, "name"), s_(x, "who"), s_(x, "due"),
               json_is_true(json_object_get(x, "running")) ? "" : " (stopped)",
               json_is_true(json_object_get(x, "overdue")) ? "  OVERDUE" : "");
    printf("\nevidence\n");
    json_array_foreach(json_object_get(a, "evidence"), i, x) {
        if (json_is_true(json_object_get(x, "sealed"))) {
            printf("  %s by %s: sealed\n", s_(x, "id"), s_(x, "by"));
            continue;
        }
        printf("  %s by %s\n    %s\n    observed by %s at %s (%s); reliability %s, "
               "credibility %lld; %zu STIX object(s), %zu file(s)\n",
               s_(x, "id"), s_(x, "by"), s_(x, "what"), s_(x, "observed_by"),
               s_(x, "observed_at"), s_(x, "method"), s_(x, "reliability"),
               (long long)json_integer_value(json_object_get(x, "credibility")),
               json_array_size(json_object_get(x, "stix")),
               json_array_size(json_object_get(x, "files")));
        json_array_foreach(json_object_get(x, "ratings"), k, y) {
            char cred[24] = "-";
            if (json_object_get(y, "credibility"))
                snprintf(cred, sizeof cred, "%lld",
                         (long long)json_integer_value(json_object_get(y, "credibility")));
            printf("    rated by %s: reliability %s, credibility %s%s%s\n", s_(y, "by"),
                   s_(y, "reliability"), cred, json_object_get(y, "note") ? ": " : "",
                   json_object_get(y, "note") ? s_(y, "note") : "");
        }
    }
    printf("\nclaims\n");
    json_array_foreach(json_object_get(a, "claims"), i, x) {
        if (json_is_true(json_object_get(x, "sealed")))
            printf("  %s by %s: sealed\n", s_(x, "id"), s_(x, "by"));
        else if (!strcmp(s_(x, "kind"), "incident-actor"))
            printf("  %s by %s\n    incident %s is attributed to actor %s\n", s_(x, "id"),
                   s_(x, "by"), s_(x, "incident"), s_(x, "actor"));
        else
            printf("  %s by %s\n    actor %s acts on behalf of state %s\n", s_(x, "id"),
                   s_(x, "by"), s_(x, "actor"), s_(x, "state"));
        if (!json_is_true(json_object_get(x, "sealed")))
            printf("    confidence: %lld/100\n    likelihood: %s\n",
                   (long long)json_integer_value(json_object_get(x, "confidence")),
                   s_(x, "likelihood"));
        json_array_foreach(json_object_get(x, "replies"), k, y)
            printf("    REPLY by %s: %s%s%s%s%s\n", s_(y, "by"), s_(y, "answer"),
                   json_object_get(y, "statement") ? ": " : "",
                   json_object_get(y, "statement") ? s_(y, "statement") : "",
                   json_object_get(y, "consultation") ? "; consultations: " : "",
                   json_object_get(y, "consultation") ? s_(y, "consultation") : "");
        if (json_array_size(json_object_get(x, "replies")) == 0)
            printf("    no reply yet\n");
        json_t *t = json_object_get(x, "tally");
        printf("    panel: %lld concur, %lld dissent, %lld abstain%s\n",
               (long long)json_integer_value(json_object_get(t, "concur")),
               (long long)json_integer_value(json_object_get(t, "dissent")),
               (long long)json_integer_value(json_object_get(t, "abstain")),
               json_integer_value(json_object_get(t, "sealed")) ? " (some sealed)" : "");
        json_array_foreach(json_object_get(x, "votes"), k, y)
            printf("      %s: %s (%s) %s\n", s_(y, "by"), s_(y, "vote"), s_(y, "opinion"),
                   s_(y, "reasons"));
    }
    json_t *p = json_object_get(a, "panel");
    if (p) {
        printf("\npanel %s proposed by %s: ", s_(p, "record"), s_(p, "by"));
        json_array_foreach(json_object_get(p, "members"), i, x)
            printf("%s%s", i ? ", " : "", json_string_value(x));
        printf("%s\n", json_is_true(json_object_get(p, "agreed_by_all"))
                           ? "; agreed by every party"
                           : "; awaiting agreement");
    }
    json_array_foreach(json_object_get(a, "published"), i, x)
        printf("\npublished by %s at %s: %s\n", s_(x, "by"), s_(x, "at"),
               json_object_get(x, "statement") ? s_(x, "statement") : "(sealed)");
}

static int do_show(struct attr_args *a, const char *id)
{
    json_t *view = NULL, *open = NULL;
    int st = case_view(a->cl, id, &view);
    if (!st && strcmp(s_(view, "mechanism"), "attribution") != 0)
        st = cli_usage(a->cl->cmd, "%s is a %s case, not an attribution case", id,
                       s_(view, "mechanism"));
    if (!st && json_is_true(json_object_get(view, "sealed")))
        st = replay(a->cl, id, view, &open);
    json_t *j = open ? open : view;
    if (!st && a->json) {
        char *s = json_dumps(j, JSON_INDENT(2));
        printf("%s\n", s ? s : "");
        free(s);
    } else if (!st) {
        print_case(j);
    }
    json_decref(open);
    json_decref(view);
    return st;
}

/* ---- correlate: which other reports share infrastructure with the case ------------ */

#define CORR_KEY_MAX 4400 /* "TYPE VALUE": a kind's path and a normalised value */

static bool in_list(const struct cli_list *l, size_t n, const char *id)
{
    for (size_t i = 0; i < n && i < l->n; i++)
        if (!strcmp(l->v[i], id))
            return true;
    return false;
}

/* Adds the holders of one shared value (`e`: {"type","value","holders"})
 * held by case record `rid` to `by` (keyed "TYPE VALUE"), leaving out the
 * case's own records (the first ncase of ids) and repeats. */
static void merge_shared(json_t *by, const json_t *e, const char *rid,
                         const struct cli_list *ids, size_t ncase)
{
    const char *type = json_string_value(json_object_get(e, "type"));
    const char *value = json_string_value(json_object_get(e, "value"));
    if (!type || !value)
        return;
    size_t i;
    json_t *h;
    json_array_foreach(json_object_get(e, "holders"), i, h)
    {
        const char *hid = json_string_value(json_object_get(h, "id"));
        if (!hid || in_list(ids, ncase, hid))
            continue; /* the case's own records share with each other */
        char key[CORR_KEY_MAX];
        snprintf(key, sizeof key, "%s %s", type, value);
        json_t *v = json_object_get(by, key);
        if (!v) {
            v = json_pack("{s:s, s:s, s:[], s:{}}", "type", type, "value", value, "in",
                          "holders");
            json_object_set_new(by, key, v);
        }
        json_t *in = json_object_get(v, "in");
        bool seen = false;
        size_t k;
        json_t *x;
        json_array_foreach(in, k, x) seen = seen || !strcmp(json_string_value(x), rid);
        if (!seen)
            json_array_append_new(in, json_string(rid));
        json_object_set(json_object_get(v, "holders"), hid, h);
    }
}

static void print_correlation(const json_t *j)
{
    const json_t *sh = json_object_get(j, "shared");
    printf("case %s: %lld record(s) correlated on this machine\n",
           json_string_value(json_object_get(j, "case")),
           (long long)json_integer_value(json_object_get(j, "records")));
    if (!json_array_size(sh))
        printf("no other report you may see shares infrastructure with this case\n");
    size_t i, k;
    json_t *v, *h;
    json_array_foreach(sh, i, v)
    {
        printf("%s %s\n  in:", s_(v, "type"), s_(v, "value"));
        json_array_foreach(json_object_get(v, "in"), k, h) printf(" %s", json_string_value(h));
        printf("\n");
        json_array_foreach(json_object_get(v, "holders"), k, h)
            printf("  %s %s of %s (state %s): %s\n", s_(h, "kind"), s_(h, "id"), s_(h, "author"),
                   s_(h, "state"), s_(h, "value"));
    }
    json_array_foreach(json_object_get(j, "common"), i, v)
        printf("common (held by too many to say anything): %s %s\n", s_(v, "type"),
               s_(v, "value"));
}

/* The case's records (its thread and the incidents it is about, those this
 * party is shown) correlated where they are opened, then against the
 * party's other sealed records and the node's index. */
static int do_correlate(struct attr_args *a, const char *id)
{
    json_t *view = NULL, *res = NULL;
    struct cli_list ids = {0};
    int st = case_view(a->cl, id, &view);
    if (!st && strcmp(s_(view, "mechanism"), "attribution") != 0)
        st = cli_usage(a->cl->cmd, "%s is a %s case, not an attribution case", id,
                       s_(view, "mechanism"));
    size_t i;
    json_t *t;
    json_t *about = json_object_get(json_object_get(view, "facts"), "about");
    json_array_foreach(json_object_get(view, "thread"), i, t)
    {
        char *d = st ? NULL : strdup(s_(t, "id"));
        if (!st && (!d || cli_list_add(&ids, d)))
            free(d), st = CLI_FAIL;
    }
    json_array_foreach(about, i, t)
    {
        const char *x = json_string_value(t);
        char *d = st || !x || in_list(&ids, ids.n, x) ? NULL : strdup(x);
        if (d && cli_list_add(&ids, d))
            free(d), st = CLI_FAIL;
    }
    size_t ncase = ids.n;
    if (!st)
        st = cli_corr_sealed_ids(a->cl, &ids); /* the party's own sealed reports */
    if (!st)
        st = cli_corr_local(a->cl, ids.v, ids.n, ncase, 0, false, &res);
    json_t *by = json_object(), *common = json_object();
    json_array_foreach(res, i, t)
    {
        const char *rid = s_(t, "id");
        size_t k;
        json_t *e;
        json_array_foreach(json_object_get(json_object_get(t, "local"), "shared"), k, e)
            merge_shared(by, e, rid, &ids, ncase);
        json_array_foreach(json_object_get(json_object_get(t, "node"), "shared"), k, e)
            merge_shared(by, e, rid, &ids, ncase);
        json_array_foreach(json_object_get(json_object_get(t, "local"), "common"), k, e)
        {
            char key[CORR_KEY_MAX];
            snprintf(key, sizeof key, "%s %s", s_(e, "type"), s_(e, "value"));
            json_object_set(common, key, e);
        }
        json_array_foreach(json_object_get(json_object_get(t, "node"), "common"), k, e)
        {
            char key[CORR_KEY_MAX];
            snprintf(key, sizeof key, "%s %s", s_(e, "type"), s_(e, "value"));
            json_object_set(common, key, e);
        }
    }
    json_t *shared = json_array(), *commons = json_array();
    const char *key;
    json_t *v;
    json_object_foreach(by, key, v)
    {
        json_t *hs = json_array();
        const char *hk;
        json_t *h;
        json_object_foreach(json_object_get(v, "holders"), hk, h) json_array_append(hs, h);
        json_object_set_new(v, "holders", hs);
        json_array_append(shared, v);
    }
    json_object_foreach(common, key, v) json_array_append(commons, v);
    json_t *out = json_pack("{s:s, s:I, s:o, s:o}", "case", id, "records",
                            (json_int_t)json_array_size(res), "shared", shared, "common",
                            commons);
    if (!st && a->json) {
        char *txt = out ? json_dumps(out, JSON_INDENT(2)) : NULL;
        printf("%s\n", txt ? txt : "");
        free(txt);
    } else if (!st && out) {
        print_correlation(out);
    }
    json_decref(out);
    json_decref(by);
    json_decref(common);
    json_decref(res);
    json_decref(view);
    for (size_t x = 0; x < ids.n; x++)
        free(ids.v[x]);
    cli_list_free(&ids);
    return st;
}

static int do_list(struct attr_args *a)
{
    json_t *j = NULL;
    int st = cli_client_get_json(a->cl, "/v1/framework/cases", &j);
    json_t *c, *k;
    size_t i, n = 0, m;
    json_array_foreach(json_object_get(j, "cases"), i, c) {
        if (strcmp(s_(c, "mechanism"), "attribution") != 0)
            continue;
        n++;
        printf("%s  %s  %s  due %s%s\n", s_(c, "id"), s_(c, "state"), s_(c, "role"),
               s_(c, "due"), json_is_true(json_object_get(c, "overdue")) ? "  OVERDUE" : "");
        json_array_foreach(json_object_get(c, "clocks"), m, k)
            printf("    %s  %s  due %s%s\n", s_(k, "name"), s_(k, "who"), s_(k, "due"),
                   json_is_true(json_object_get(k, "overdue")) ? "  OVERDUE" : "");
    }
    if (!st && n == 0)
        printf("no open attribution cases\n");
    json_decref(j);
    return st;
}

/* ---- writing ------------------------------------------------------------------------- */

/* ICD 203's seven terms, and their equivalents, into the term. */
static const char *likelihood(const char *w)
{
    static const char *const t[][3] = {
        {"almost no chance", "remote", "almost-no-chance"},
        {"very unlikely", "highly improbable", "very-unlikely"},
        {"unlikely", "improbable", "unlikely"},
        {"roughly even chance", "roughly even odds", "roughly-even-chance"},
        {"likely", "probable", "likely"},
        {"very likely", "highly probable", "very-likely"},
        {"almost certain", "nearly certain", "almost-certain"}};
    for (size_t i = 0; w && i < sizeof t / sizeof *t; i++)
        for (int k = 0; k < 3; k++)
            if (!strcmp(w, t[i][k]))
                return t[i][0];
    return w; /* the schema check names the field */
}

static int need(struct attr_args *a, int npos, int want, const char *synopsis)
{
    if (npos != want)
        return cli_usage(a->cl->cmd, "usage: comity %s", synopsis);
    return CLI_OK;
}

/* Reads --stix FILE: a bundle's objects or one object, into body.stix. */
static int stix_file(struct attr_args *a, json_t *body)
{
    json_error_t je;
    json_t *j = json_load_file(a->v[O_STIX], JSON_REJECT_DUPLICATES, &je);
    json_t *objs = json_is_object(j) && json_is_array(json_object_get(j, "objects"))
                       ? json_incref(json_object_get(j, "objects"))
                   : json_is_object(j) ? json_pack("[O]", j)
                                       : NULL;
    json_decref(j);
    if (!objs)
        return cli_usage(a->cl->cmd, "--stix %s: want a STIX bundle or object (%s)",
                         a->v[O_STIX], je.text);
    json_object_set_new(body, "stix", objs);
    return CLI_OK;
}

static int do_write(struct attr_args *a, const char *sub, int npos, char **pos)
{
    struct cli_client *cl = a->cl;
    json_t *body = json_object();
    int st = body ? CLI_OK : CLI_FAIL;
    const char *type = NULL;
    const char *more[64];
    size_t nmore = 0;
    char *actor = NULL, *actor_id = NULL, *rid = NULL;
    json_t *view = NULL;
#define ADD_MORE(list)                                                                  \
    for (size_t i_ = 0; i_ < (list).n && nmore < 63; i_++)                              \
        more[nmore++] = (list).v[i_];
    if (st) {
    } else if (!strcmp(sub, "open")) {
        type = "attribution-open";
        if (!(st = need(a, npos, 0, "attribution open --to NAMED-STATE [--to PARTY]... --ref "
                                    "INCIDENT... --title T --summary S")) &&
            (a->to.n == 0 || a->refs.n == 0))
            st = cli_usage(cl->cmd, "want --to (the named state first) and --ref INCIDENT");
        cli_json_str(body, "title", a->v[O_TITLE]);
        cli_json_str(body, "summary", a->v[O_SUMMARY]);
        if (!st) {
            struct cli_msg m = {.type = type,
                                .tlp = a->v[O_TLP] ? a->v[O_TLP]
                                                : comity_framework_default_tlp(type),
                                .to = (const char *const *)a->to.v,
                                .nto = a->to.n,
                                .refs = (const char *const *)a->refs.v,
                                .nrefs = a->refs.n};
            st = cli_client_send(cl, &m, body, NULL);
        } else {
            json_decref(body);
        }
        return st;
    } else if (!strcmp(sub, "evidence")) {
        type = "attribution-evidence";
        st = need(a, npos, 1, "attribution evidence CASE --what W --by SOURCE --at TIME "
                              "--method M --reliability A-F --credibility 1-6 ...");
        cli_json_str(body, "what", a->v[O_WHAT]);
        cli_json_str(body, "observed_by", a->v[O_BY]);
        cli_json_str(body, "method", a->v[O_METHOD]);
        cli_json_str(body, "how", a->v[O_HOW]);
        cli_json_str(body, "reliability", a->v[O_REL]);
        cli_json_int(body, "credibility", a->v[O_CRED]);
        if (!st)
            st = cli_json_time(cl, body, "observed_at", "--at", a->v[O_AT]);
        if (!st && a->v[O_STIX])
            st = stix_file(a, body);
    } else if (!strcmp(sub, "rate")) {
        type = "attribution-rating";
        st = need(a, npos, 2, "attribution rate CASE EVIDENCE [--reliability X] "
                              "[--credibility N] [--note T]");
        cli_json_str(body, "reliability", a->v[O_REL]);
        cli_json_int(body, "credibility", a->v[O_CRED]);
        cli_json_str(body, "note", a->v[O_NOTE]);
        if (!st)
            more[nmore++] = pos[1];
    } else if (!strcmp(sub, "actor")) {
        type = "attribution-actor";
        st = need(a, npos, 1, "attribution actor CASE --name N [--synonym S]... [--country CC]");
        cli_json_str(body, "name", a->v[O_NAME]);
        cli_json_str(body, "country", a->v[O_COUNTRY]);
        json_t *s = a->syn.n ? json_array() : NULL;
        for (size_t i = 0; s && i < a->syn.n; i++)
            json_array_append_new(s, json_string(a->syn.v[i]));
        if (s)
            json_object_set_new(body, "synonyms", s);
    } else if (!strcmp(sub, "claim")) {
        type = "attribution-claim";
        st = need(a, npos, 1, "attribution claim CASE --kind incident-actor|actor-state "
                              "[--incident ID] --actor NAME [--state CC] --confidence 0-100 "
                              "--likelihood WORD --evidence ID...");
        if (!st && !a->v[O_ACTOR])
            st = cli_usage(cl->cmd, "want --actor NAME");
        if (!st && !(st = opened_view(cl, pos[0], &view)))
            st = resolve_actor(a, view, a->v[O_ACTOR], &actor, &actor_id);
        cli_json_str(body, "kind", a->v[O_KIND]);
        cli_json_str(body, "incident", a->v[O_INCIDENT]);
        cli_json_str(body, "actor", actor);
        cli_json_str(body, "actor_id", actor_id);
        cli_json_str(body, "state", a->v[O_STATE]);
        cli_json_int(body, "confidence", a->v[O_CONF]);
        cli_json_str(body, "likelihood", likelihood(a->v[O_LIKE]));
        cli_json_str(body, "basis", a->v[O_BASIS]);
        if (!st)
            st = cli_json_time(cl, body, "reply_by", "--reply-by", a->v[O_REPLYBY]);
        ADD_MORE(a->evid);
    } else if (!strcmp(sub, "reply")) {
        type = "attribution-reply";
        st = need(a, npos, 2, "attribution reply CASE CLAIM --answer deny|acknowledge|"
                              "ask-evidence|offer-consultations [--statement T]");
        cli_json_str(body, "answer", a->v[O_ANSWER]);
        cli_json_str(body, "statement", a->v[O_STATEMENT]);
        if (!st)
            more[nmore++] = pos[1];
        if (!st && a->v[O_ANSWER] && !strcmp(a->v[O_ANSWER], "offer-consultations")) {
            /* the consultation case first, with the claim's author */
            const char *claimant = NULL;
            json_t *t;
            size_t i;
            if (!(st = case_view(cl, pos[0], &view)))
                json_array_foreach(json_object_get(view, "thread"), i, t)
                    if (!strcmp(s_(t, "id"), pos[1]))
                        claimant = s_(t, "author");
            if (!st && !claimant)
                st = cli_usage(cl->cmd, "%s is no claim of case %s", pos[1], pos[0]);
            char tlp[32] = "";
            if (!st)
                tlp_of(cl, pos[0], tlp);
            json_t *cb = st ? NULL : json_pack("{s:s, s:s}", "subject",
                                               "consultations on an attribution claim",
                                               "summary", a->v[O_STATEMENT] ? a->v[O_STATEMENT]
                                                                            : "we offer consultations");
            const char *refs[1] = {pos[1]};
            struct cli_msg m = {.type = "consult-request",
                                .tlp = a->v[O_TLP] ? a->v[O_TLP] : tlp[0] ? tlp : NULL,
                                .to = &claimant,
                                .nto = 1,
                                .refs = refs,
                                .nrefs = 1};
            if (!st)
                st = cb ? cli_client_send(cl, &m, cb, &rid) : CLI_FAIL;
            if (!st)
                more[nmore++] = rid;
        }
    } else if (!strcmp(sub, "panel")) {
        type = "attribution-panel";
        st = need(a, npos, 1, "attribution panel CASE --member PARTY... [--mandate T]");
        json_t *m = a->members.n ? json_array() : NULL;
        for (size_t i = 0; m && i < a->members.n; i++)
            json_array_append_new(m, json_string(a->members.v[i]));
        if (m)
            json_object_set_new(body, "members", m);
        cli_json_str(body, "mandate", a->v[O_MANDATE]);
    } else if (!strcmp(sub, "agree")) {
        type = "attribution-panel-agree";
        st = need(a, npos, 1, "attribution agree CASE [--note T]");
        cli_json_str(body, "note", a->v[O_NOTE]);
        if (!st && !(st = case_view(cl, pos[0], &view))) {
            const char *p = json_string_value(json_object_get(
                json_object_get(json_object_get(view, "attribution"), "panel"), "record"));
            if (!p)
                st = cli_usage(cl->cmd, "case %s has no panel proposal to agree to", pos[0]);
            else
                more[nmore++] = p;
        }
    } else if (!strcmp(sub, "vote")) {
        type = "attribution-vote";
        st = need(a, npos, 2, "attribution vote CASE CLAIM --vote concur|dissent|abstain "
                              "[--opinion O] --reasons T");
        const char *v = a->v[O_VOTE], *o = a->v[O_OPINION];
        if (v && !o)
            o = !strcmp(v, "concur") ? "agree" : !strcmp(v, "dissent") ? "disagree" : "neutral";
        cli_json_str(body, "vote", v);
        cli_json_str(body, "opinion", o);
        cli_json_str(body, "reasons", a->v[O_REASONS]);
        if (!st)
            more[nmore++] = pos[1];
    } else if (!strcmp(sub, "publish")) {
        type = "attribution-publish";
        st = need(a, npos, 1, "attribution publish CASE [--claim ID]... --statement T");
        cli_json_str(body, "statement", a->v[O_STATEMENT]);
        cli_json_str(body, "where", a->v[O_WHERE]);
        if (!st)
            st = cli_json_time(cl, body, "at", "--at", a->v[O_AT]);
        ADD_MORE(a->claims);
    } else if (!strcmp(sub, "close")) {
        type = "attribution-close";
        st = need(a, npos, 1, "attribution close CASE --outcome attributed|not-attributed|"
                              "inconclusive|withdrawn [--note T]");
        cli_json_str(body, "outcome", a->v[O_OUTCOME]);
        cli_json_str(body, "note", a->v[O_NOTE]);
    }
    /* a file: sealed to the case's parties and sent first, then named */
    char hash[65] = "";
    if (!st && !strcmp(sub, "evidence") && a->v[O_FILE]) {
        json_t *cv = NULL;
        struct cli_list to = {0};
        const char *me = cli_client_party(cl);
        if (!me || (st = case_view(cl, pos[0], &cv)) == 0) {
            json_t *p;
            size_t i;
            json_array_foreach(json_object_get(cv, "parties"), i, p)
                if (me && strcmp(s_(p, "party"), me) != 0)
                    cli_list_add(&to, (char *)s_(p, "party"));
            uint64_t size = 0;
            st = me ? cli_case_send_file(cl, pos[0], a->v[O_FILE], (const char *const *)to.v,
                                         to.n, NULL, hash, &size)
                    : CLI_FAIL;
            const char *name = strrchr(a->v[O_FILE], '/');
            json_t *f = st ? NULL : json_pack("[{s:s, s:I, s:s}]", "sha256", hash, "size",
                                              (json_int_t)size, "name",
                                              name ? name + 1 : a->v[O_FILE]);
            if (f)
                json_object_set_new(body, "files", f);
        }
        cli_list_free(&to);
        json_decref(cv);
    }
    char *eid = NULL;
    if (!st)
        st = send_in(a, pos[0], type, more, nmore, body, hash[0] ? &eid : NULL);
    else
        json_decref(body);
    if (!st && hash[0])
        st = cli_case_attach_hash(cl, eid, hash);
    free(eid);
    free(actor);
    free(actor_id);
    free(rid);
    json_decref(view);
    return st;
#undef ADD_MORE
}

int cmd_attribution(int argc, char **argv)
{
    static const struct option opts[] = {
        {"to", required_argument, 0, O_TO},         {"ref", required_argument, 0, O_REF},
        {"title", required_argument, 0, O_TITLE},   {"summary", required_argument, 0, O_SUMMARY},
        {"tlp", required_argument, 0, O_TLP},       {"what", required_argument, 0, O_WHAT},
        {"by", required_argument, 0, O_BY},         {"at", required_argument, 0, O_AT},
        {"method", required_argument, 0, O_METHOD}, {"how", required_argument, 0, O_HOW},
        {"reliability", required_argument, 0, O_REL},
        {"credibility", required_argument, 0, O_CRED},
        {"stix", required_argument, 0, O_STIX},     {"file", required_argument, 0, O_FILE},
        {"note", required_argument, 0, O_NOTE},     {"kind", required_argument, 0, O_KIND},
        {"incident", required_argument, 0, O_INCIDENT},
        {"actor", required_argument, 0, O_ACTOR},   {"state", required_argument, 0, O_STATE},
        {"confidence", required_argument, 0, O_CONF},
        {"likelihood", required_argument, 0, O_LIKE},
        {"evidence", required_argument, 0, O_EVID}, {"basis", required_argument, 0, O_BASIS},
        {"reply-by", required_argument, 0, O_REPLYBY},
        {"answer", required_argument, 0, O_ANSWER},
        {"statement", required_argument, 0, O_STATEMENT},
        {"vote", required_argument, 0, O_VOTE},     {"opinion", required_argument, 0, O_OPINION},
        {"reasons", required_argument, 0, O_REASONS},
        {"claim", required_argument, 0, O_CLAIM},   {"outcome", required_argument, 0, O_OUTCOME},
        {"member", required_argument, 0, O_MEMBER}, {"mandate", required_argument, 0, O_MANDATE},
        {"galaxy", required_argument, 0, O_GALAXY}, {"search", required_argument, 0, O_SEARCH},
        {"exact", no_argument, 0, O_EXACT},         {"json", no_argument, 0, O_JSON},
        {"name", required_argument, 0, O_NAME},     {"synonym", required_argument, 0, O_SYN},
        {"country", required_argument, 0, O_COUNTRY},
        {"where", required_argument, 0, O_WHERE},   {"case", required_argument, 0, O_CASE},
        {0, 0, 0, 0}};
    static const char *const subs[] = {"open", "evidence", "rate", "actor", "claim", "reply",
                                       "panel", "agree", "vote", "publish", "close", "show",
                                       "list", "actors", "correlate", NULL};
    if (argc < 2)
        return cli_usage("attribution", "want open, evidence, rate, claim, reply, panel, agree, "
                                        "vote, publish, close, show, list, correlate or actors (comity "
                                        "help attribution)");
    const char *sub = argv[1];
    size_t si = 0;
    while (subs[si] && strcmp(subs[si], sub) != 0)
        si++;
    if (!subs[si])
        return cli_usage("attribution", "'%s': want open, evidence, rate, actor, claim, reply, "
                                        "panel, agree, vote, publish, close, show, list, correlate or "
                                        "actors", sub);
    static char cmdname[64];
    snprintf(cmdname, sizeof cmdname, "attribution %s", sub);
    struct cli_client cl;
    cli_client_init(&cl, cmdname);
    struct attr_args a = {.cl = &cl};
    int st = cli_client_args(&cl, argc - 1, argv + 1, opts, on_opt, &a);
    int npos = argc - 1 - optind;
    char **pos = argv + 1 + optind;
    bool actors = !strcmp(sub, "actors");
    bool corr = !strcmp(sub, "correlate");
    bool reads = actors || corr || !strcmp(sub, "show") || !strcmp(sub, "list");
    if (!st && actors && !a.v[O_CASE] && npos == 0) {
        /* the vocabulary alone needs no node */
        st = do_actors(&a);
        goto out;
    }
    if (!st)
        st = cli_client_setup(&cl, CLI_NEED_URL | CLI_NEED_TOKEN |
                                       (!reads || !strcmp(sub, "show") || actors || corr
                                            ? CLI_NEED_KEY
                                                                                 : 0));
    if (st) {
    } else if (actors) {
        st = do_actors(&a);
    } else if (!strcmp(sub, "show")) {
        st = need(&a, npos, 1, "attribution show CASE [--json]");
        if (!st)
            st = do_show(&a, pos[0]);
    } else if (corr) {
        st = need(&a, npos, 1, "attribution correlate CASE [--json]");
        if (!st)
            st = do_correlate(&a, pos[0]);
    } else if (!strcmp(sub, "list")) {
        st = need(&a, npos, 0, "attribution list");
        if (!st)
            st = do_list(&a);
    } else {
        st = do_write(&a, sub, npos, pos);
    }
out:
    cli_list_free(&a.to);
    cli_list_free(&a.refs);
    cli_list_free(&a.evid);
    cli_list_free(&a.claims);
    cli_list_free(&a.members);
    cli_list_free(&a.syn);
    cli_client_free(&cl);
    return cli_finish(st);
}
