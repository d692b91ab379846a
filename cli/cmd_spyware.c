/*
 * cmd_spyware.c: `comity spyware`: the commercial spyware registry
 * (docs/spyware.md): vendors, licences and denials, listings, misuse.
 *
 *   comity spyware import FILE                 a MISP galaxy's vendors as
 *                                              signed vendor records
 *   comity spyware vendor find NAME | show ID | add BODY | correct ID --reason R BODY
 *   comity spyware licence grant|deny --vendor V --product P --category C
 *          --destination ST --end-user U [--date T] [--reason R]... [--to ST]... [--force]
 *   comity spyware listing --listed-by ST --regime R --entity E [--vendor V]
 *          --legal-basis B --reason R --date T
 *   comity spyware misuse notice --to ST... --vendor V [--product P] --sector S
 *          --target-kind K
 *   comity spyware misuse check [--join]
 *   comity spyware misuse open NOTICE-ID --to PARTY [--ref ID]... [--targets N]
 *          [--evidence K] [--first-seen T] [--last-seen T]
 *   comity spyware misuse join CASE-ID --to REQUESTER [--ref JOIN-ID]
 *   comity spyware misuse admit CASE-ID REQUEST-ID
 *   comity spyware report [--state ST] [--year Y] [--json] [--html FILE]
 *   comity spyware authorise --to OVERSEER BODY;  comity spyware signoff AUTH-ID BODY
 *   comity spyware authorisations [--json]     ours, as author or overseer
 *
 * Every rule is the library's.  What needs sealed bodies runs here, on a
 * framework handle of the command's own fed with the records the party
 * opened with its key: before a grant, the denials sealed to its state
 * (the no-undercut warning, which stops the grant unless --force); for
 * `misuse check`, the notices sent to it against its own licences.  A
 * vendor named by name is resolved to its registry id first (a name that
 * several vendors bear is refused, listing them), so that licences and
 * listings name vendors by id.  `report` prints the library's transparency
 * report (the node's GET /v1/framework/spyware/report) as a table, JSON,
 * or an HTML page with a print stylesheet, each figure linking the
 * records it counts and their receipts.
 */
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "keys.h"

#define SPY_FETCH_MAX 100000 /* records one command fetches to open */

enum { O_SET = 's', O_BODY = 'b', O_TO = 't', O_REF = 'r', O_TLP = 'l', O_JSON = 'j',
       O_REASON = 'R', O_FORCE = 'f', O_JOIN = 'J', O_VENDOR = 0x200, O_PRODUCT,
       O_CATEGORY, O_DEST, O_END_USER, O_DATE, O_REFERENCE, O_LISTED_BY, O_REGIME,
       O_ENTITY, O_BASIS, O_SECTOR, O_KIND, O_TARGETS, O_EVIDENCE, O_FIRST, O_LAST,
       O_COUNTRY, O_STATE, O_YEAR, O_HTML, O_SOURCE };

struct spy_args {
    struct cli_client *cl;
    struct cli_list set, to, refs, reasons;
    const char *body, *tlp;
    const char *opt[O_SOURCE - O_VENDOR + 1];
    bool json, force, join;
};

static int on_opt(void *ctx, int c, const char *arg)
{
    struct spy_args *a = ctx;
    switch (c) {
    case O_SET: return cli_list_add(&a->set, (char *)arg) ? CLI_FAIL : CLI_OK;
    case O_TO: return cli_list_add(&a->to, (char *)arg) ? CLI_FAIL : CLI_OK;
    case O_REF: return cli_list_add(&a->refs, (char *)arg) ? CLI_FAIL : CLI_OK;
    case O_REASON: return cli_list_add(&a->reasons, (char *)arg) ? CLI_FAIL : CLI_OK;
    case O_BODY: a->body = arg; return CLI_OK;
    case O_TLP: a->tlp = arg; return CLI_OK;
    case O_JSON: a->json = true; return CLI_OK;
    case O_FORCE: a->force = true; return CLI_OK;
    case O_JOIN: a->join = true; return CLI_OK;
    default:
        if (c >= O_VENDOR && c <= O_SOURCE) {
            a->opt[c - O_VENDOR] = arg;
            return CLI_OK;
        }
        return cli_usage(a->cl->cmd, "unknown option");
    }
}

#define OPT(n) (a->opt[(n) - O_VENDOR])

static const char *s_(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "-";
}

/* The body from --body FILE then --set FIELD=VALUE (a VALUE that reads as
 * JSON is taken as such).  OUT *out (json_decref). */
static int build_body(struct spy_args *a, json_t *start, json_t **out)
{
    return cli_body_build(a->cl->cmd, a->body, start, &a->set, out);
}

/* GET /v1/framework/spyware/vendors?name=NAME.  OUT *out. */
static int find(struct cli_client *cl, const char *name, json_t **out)
{
    char *q = NULL;
    if (cli_query_add(&q, "name", name))
        return CLI_FAIL;
    char path[1024];
    snprintf(path, sizeof path, "/v1/framework/spyware/vendors?%s", q);
    free(q);
    return cli_client_get_json(cl, path, out);
}

/* The vendor id of `ref` (an id, or a name exactly one vendor bears) into
 * id[128]; a name no vendor bears is kept as given (a vendor not in the
 * registry yet), one several bear is refused. */
static int vendor_id(struct cli_client *cl, const char *ref, char id[128])
{
    snprintf(id, 128, "%s", ref);
    if (!strncmp(ref, "spyware-vendor--", 16))
        return CLI_OK;
    json_t *r = NULL;
    int st = find(cl, ref, &r);
    json_t *vs = json_object_get(r, "vendors");
    if (!st && json_array_size(vs) == 1)
        snprintf(id, 128, "%s", s_(json_array_get(vs, 0), "id"));
    else if (!st && json_array_size(vs) > 1) {
        fprintf(stderr, "comity %s: \"%s\" names %zu vendors; give one's id:\n", cl->cmd, ref,
                json_array_size(vs));
        size_t i;
        json_t *v;
        json_array_foreach(vs, i, v)
            fprintf(stderr, "  %s  %s\n", s_(v, "id"), s_(v, "name"));
        st = CLI_USAGE;
    } else if (!st)
        fprintf(stderr, "comity %s: note: no vendor \"%s\" in the registry; kept as named\n",
                cl->cmd, ref);
    json_decref(r);
    return st;
}

static void print_vendor(const json_t *v, bool history)
{
    printf("%s  %s\n", s_(v, "id"), s_(v, "name"));
    size_t i;
    json_t *x;
    if (json_array_size(json_object_get(v, "synonyms"))) {
        printf("  also:     ");
        json_array_foreach(json_object_get(v, "synonyms"), i, x)
            printf("%s%s", i ? ", " : "", json_string_value(x));
        printf("\n");
    }
    if (json_array_size(json_object_get(v, "products"))) {
        printf("  products: ");
        json_array_foreach(json_object_get(v, "products"), i, x)
            printf("%s%s", i ? ", " : "", json_string_value(x));
        printf("\n");
    }
    printf("  made by %s on %s; version %lld by %s on %s\n", s_(v, "created_by"),
           s_(v, "created"), (long long)json_integer_value(json_object_get(v, "versions")),
           s_(v, "updated_by"), s_(v, "updated"));
    json_array_foreach(json_object_get(v, "listings"), i, x) {
        json_t *b = json_object_get(x, "body");
        printf("  LISTED by %s (%s) on %s: %s [%s] %s\n", s_(b, "listed_by"), s_(b, "regime"),
               s_(b, "date"), s_(b, "entity"), s_(b, "legal_basis"), s_(x, "id"));
    }
    json_array_foreach(json_object_get(v, "licences"), i, x) {
        json_t *b = json_object_get(x, "body");
        printf("  licence %s by %s: %s to %s (%s) %s\n", s_(b, "decision"), s_(x, "author"),
               s_(b, "product"), s_(b, "end_user"), s_(b, "destination"), s_(x, "id"));
    }
    if (history)
        json_array_foreach(json_object_get(v, "history"), i, x) {
            json_t *b = json_object_get(x, "body");
            printf("  v%zu %s by %s on %s%s%s\n", i + 1, s_(x, "id"), s_(x, "author"),
                   s_(x, "created"), json_object_get(b, "reason") ? ": " : "",
                   json_object_get(b, "reason") ? s_(b, "reason") : "");
        }
}

static int print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2));
    if (s)
        printf("%s\n", s);
    free(s);
    return s ? CLI_OK : CLI_FAIL;
}

/* ---- vendor, import ------------------------------------------------------------------ */

static int do_vendor(struct spy_args *a, int npos, char **pos)
{
    struct cli_client *cl = a->cl;
    const char *sub = npos ? pos[0] : "";
    json_t *j = NULL, *body = NULL;
    int st;
    if (!strcmp(sub, "find") && npos == 2) {
        if ((st = find(cl, pos[1], &j)))
            return st;
        if (a->json)
            st = print_json(j);
        else {
            size_t i;
            json_t *v;
            json_array_foreach(json_object_get(j, "vendors"), i, v)
                print_vendor(v, false);
            if (!json_array_size(json_object_get(j, "vendors")))
                printf("no vendor named \"%s\" (compared as \"%s\")\n", pos[1],
                       s_(j, "normalised"));
        }
        st = st ? st : json_array_size(json_object_get(j, "vendors")) ? CLI_OK : CLI_NO;
    } else if (!strcmp(sub, "show") && npos == 2) {
        if (!cli_id_ok(pos[1]))
            return cli_usage(cl->cmd, "'%s' is not a vendor id", pos[1]);
        char path[256];
        snprintf(path, sizeof path, "/v1/framework/spyware/vendors/%s", pos[1]);
        if ((st = cli_client_get_json(cl, path, &j)))
            return st;
        if (a->json)
            st = print_json(j);
        else
            print_vendor(j, true);
    } else if (!strcmp(sub, "add") && npos == 1) {
        if (!(st = build_body(a, NULL, &body))) {
            struct cli_msg m = {.type = "spyware-vendor",
                                .tlp = comity_spyware_tlp("spyware-vendor")};
            st = cli_client_send(cl, &m, body, NULL);
        }
    } else if (!strcmp(sub, "correct") && npos == 2) {
        if (!a->reasons.n)
            return cli_usage(cl->cmd, "a correction says why: --reason TEXT");
        if (!cli_id_ok(pos[1]))
            return cli_usage(cl->cmd, "'%s' is not a vendor id", pos[1]);
        char path[256];
        snprintf(path, sizeof path, "/v1/framework/spyware/vendors/%s", pos[1]);
        if ((st = cli_client_get_json(cl, path, &j)))
            return st;
        /* the current version, with the changes asked for */
        json_t *h = json_object_get(j, "history");
        json_t *cur = json_deep_copy(json_object_get(json_array_get(h, json_array_size(h) - 1),
                                                     "body"));
        if (!cur)
            st = CLI_FAIL;
        else if (!(st = build_body(a, cur, &body))) {
            json_object_set_new(body, "reason", json_string(a->reasons.v[0]));
            const char *refs[1] = {pos[1]};
            struct cli_msg m = {.type = "spyware-vendor",
                                .tlp = comity_spyware_tlp("spyware-vendor"), .refs = refs,
                                .nrefs = 1};
            st = cli_client_send(cl, &m, body, NULL);
        }
    } else {
        st = cli_usage(cl->cmd, "want find NAME, show ID, add BODY or correct ID --reason R "
                                "BODY");
    }
    json_decref(j);
    return st;
}

/* Signs body (a clear record of `type`) and posts it.  OUT *status: the
 * node's HTTP status (0 when it did not answer). */
static int post_clear(struct cli_client *cl, const comity_key *k, const char *type,
                      const char *body, long *status)
{
    comity_record_params p = {.type = type, .tlp = comity_spyware_tlp(type)};
    comity_error e = {0};
    char *env = NULL;
    size_t el;
    *status = 0;
    if (comity_record_sign(k, &p, body, strlen(body), &env, &el, &e))
        return cli_error(cl->cmd, &e);
    struct cli_resp r = {0};
    int st = cli_client_http(cl, "POST", "/v1/records", env, el, &r);
    comity_free(env);
    *status = r.status;
    if (!st && r.status != 201 && r.status != 200 && r.status != 409)
        st = cli_client_answer(cl, &r);
    free(r.data);
    return st;
}

static int do_import(struct spy_args *a, const char *file)
{
    struct cli_client *cl = a->cl;
    comity_error e = {0};
    char *text = NULL, *out = NULL;
    size_t len;
    comity_key *k = NULL;
    if (comity_read_file(file, (size_t)64 << 20, &text, &len, &e) ||
        comity_spyware_galaxy_bodies(text, len, &out, &e) || comity_key_load(cl->key, &k, &e)) {
        comity_free(text);
        comity_free(out);
        return cli_error(cl->cmd, &e);
    }
    comity_free(text);
    json_t *bodies = json_loads(out, 0, NULL);
    comity_free(out);
    size_t added = 0, had = 0, i;
    json_t *b;
    int st = bodies ? CLI_OK : CLI_FAIL;
    json_array_foreach(bodies, i, b) {
        char *s = json_dumps(b, JSON_COMPACT);
        long status;
        st = s ? post_clear(cl, k, "spyware-vendor", s, &status) : CLI_FAIL;
        free(s);
        if (st)
            break;
        status == 201 ? added++ : had++;
    }
    if (!st)
        printf("imported %zu vendors from %s (%zu already in the registry), signed by %s\n",
               added, file, had, comity_key_party(k));
    json_decref(bodies);
    comity_key_free(k);
    return st;
}

/* ---- opening what is sealed to us -------------------------------------------------- */

/* Feeds fw every record of `type` visible to us (GET /v1/records?type=,
 * page by page, with `author` when given), opening the sealed ones we can
 * (the others are fed as envelopes).  Returns an exit status. */
static int feed_visible(struct cli_client *cl, comity_identities *ids, comity_framework *fw,
                        const char *type, const char *author)
{
    char *cursor = NULL;
    int st = CLI_OK;
    size_t n = 0;
    while (!st && n < SPY_FETCH_MAX) {
        char *q = NULL;
        if (cli_query_add(&q, "type", type) || (author && cli_query_add(&q, "author", author)) ||
            (cursor && cli_query_add(&q, "cursor", cursor)) || cli_query_add(&q, "limit", "1000")) {
            free(q);
            st = CLI_FAIL;
            break;
        }
        char path[1024];
        snprintf(path, sizeof path, "/v1/records?%s", q);
        free(q);
        json_t *page = NULL;
        if ((st = cli_client_get_json(cl, path, &page)))
            break;
        size_t i;
        json_t *row;
        json_array_foreach(json_object_get(page, "records"), i, row) {
            char *env = json_dumps(json_object_get(row, "envelope"), JSON_COMPACT);
            comity_record *rec = NULL;
            comity_error e = {0};
            char *body = NULL;
            size_t bl = 0;
            if (env && comity_record_parse(env, strlen(env), &rec, &e) == COMITY_OK) {
                /* one we cannot open is fed as its envelope */
                if (comity_record_is_sealed(rec) &&
                    comity_record_open(rec, ids, &body, &bl, NULL) != COMITY_OK)
                    body = NULL, bl = 0;
                comity_err rc = comity_framework_add(fw, rec, body, bl, &e);
                if (rc && rc != COMITY_ERR_EXISTS)
                    fprintf(stderr, "comity %s: %s: %s (left out)\n", cl->cmd,
                            comity_record_id(rec), e.msg);
            }
            comity_free(body);
            comity_record_free(rec);
            free(env);
            n++;
        }
        free(cursor);
        cursor = NULL;
        if (json_is_true(json_object_get(page, "more")) && json_object_get(page, "next"))
            cursor = strdup(s_(page, "next"));
        json_decref(page);
        if (!cursor)
            break;
    }
    free(cursor);
    return st;
}

/* A handle fed with the records of types[] visible to us, opened with our
 * key.  OUT *fw, *me. */
static int open_handle(struct cli_client *cl, const char *const *types, const char *author,
                       comity_framework **fw)
{
    comity_error e = {0};
    comity_identities *ids = NULL;
    *fw = NULL;
    if (comity_identities_load(cl->key, &ids, &e) || comity_framework_new(fw, &e)) {
        comity_identities_free(ids);
        return cli_error(cl->cmd, &e);
    }
    int st = CLI_OK;
    for (size_t i = 0; !st && types[i]; i++)
        st = feed_visible(cl, ids, *fw, types[i], i == 0 ? NULL : author);
    comity_identities_free(ids);
    return st;
}

/* ---- licences ---------------------------------------------------------------------------- */

static int do_licence(struct spy_args *a, const char *decision)
{
    struct cli_client *cl = a->cl;
    const char *me = cli_client_party(cl);
    if (!me)
        return CLI_FAIL;
    if (!OPT(O_VENDOR) || !OPT(O_PRODUCT) || !OPT(O_CATEGORY) || !OPT(O_DEST) ||
        !OPT(O_END_USER))
        return cli_usage(cl->cmd, "want --vendor, --product, --category, --destination and "
                                  "--end-user");
    bool deny = !strcmp(decision, "denied");
    if (deny && !a->to.n)
        return cli_usage(cl->cmd, "a denial is shared: --to each participating state");
    char vid[128];
    int st = vendor_id(cl, OPT(O_VENDOR), vid);
    json_t *body = st ? NULL : json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "decision",
                                         decision, "category", OPT(O_CATEGORY), "vendor", vid,
                                         "product", OPT(O_PRODUCT), "destination", OPT(O_DEST),
                                         "end_user", OPT(O_END_USER));
    if (!st && !body)
        st = CLI_FAIL;
    if (!st)
        st = cli_json_time(cl, body, "date", "--date", OPT(O_DATE) ? OPT(O_DATE) : "now");
    if (!st && a->reasons.n) {
        json_t *rs = json_array();
        for (size_t i = 0; rs && i < a->reasons.n; i++)
            json_array_append_new(rs, json_string(a->reasons.v[i]));
        json_object_set_new(body, "reasons", rs);
    }
    if (OPT(O_REFERENCE))
        cli_json_str(body, "reference", OPT(O_REFERENCE));
    /* no undercut: the denials sealed to us, opened here */
    if (!st && !deny) {
        static const char *const types[] = {"spyware-licence", NULL};
        comity_framework *fw = NULL;
        char *out = NULL;
        comity_error e = {0};
        if (!(st = open_handle(cl, types, NULL, &fw)) &&
            comity_framework_spyware_undercut(fw, me, vid, OPT(O_PRODUCT), OPT(O_END_USER),
                                              &out, &e))
            st = cli_error(cl->cmd, &e);
        json_t *r = out ? json_loads(out, 0, NULL) : NULL;
        json_t *ds = json_object_get(r, "denials"), *d;
        size_t i;
        json_array_foreach(ds, i, d) {
            json_t *b = json_object_get(d, "body");
            fprintf(stderr, "WARNING: %s denied %s to %s (%s) on %s: %s\n", s_(d, "state"),
                    s_(b, "product"), s_(b, "end_user"), s_(b, "destination"), s_(b, "date"),
                    s_(d, "id"));
            size_t k;
            json_t *x;
            json_array_foreach(json_object_get(b, "reasons"), k, x)
                fprintf(stderr, "  reason: %s\n", json_string_value(x));
        }
        if (!st && json_array_size(ds) && !a->force) {
            fprintf(stderr, "comity %s: not granted: another state denied this product to this "
                            "end user (no undercut; --force to grant anyway)\n", cl->cmd);
            st = CLI_NO;
        }
        json_decref(r);
        comity_free(out);
        comity_framework_free(fw);
    }
    if (st) {
        json_decref(body);
        return st;
    }
    const char *self[1] = {me};
    struct cli_msg m = {.type = "spyware-licence",
                        .tlp = a->tlp ? a->tlp : comity_spyware_tlp("spyware-licence"),
                        .to = a->to.n ? (const char *const *)a->to.v : self,
                        .nto = a->to.n ? a->to.n : 1};
    return cli_client_send(cl, &m, body, NULL);
}

static int do_listing(struct spy_args *a)
{
    struct cli_client *cl = a->cl;
    if (!OPT(O_LISTED_BY) || !OPT(O_REGIME) || !OPT(O_ENTITY) || !OPT(O_BASIS) ||
        !a->reasons.n || !OPT(O_DATE))
        return cli_usage(cl->cmd, "want --listed-by, --regime, --entity, --legal-basis, "
                                  "--reason and --date");
    char vid[128];
    int st = OPT(O_VENDOR) ? vendor_id(cl, OPT(O_VENDOR), vid) : CLI_OK;
    json_t *body = st ? NULL : json_pack("{s:s, s:s, s:s, s:s, s:s}", "listed_by",
                                         OPT(O_LISTED_BY), "regime", OPT(O_REGIME), "entity",
                                         OPT(O_ENTITY), "legal_basis", OPT(O_BASIS), "reason",
                                         a->reasons.v[0]);
    if (!st && !body)
        st = CLI_FAIL;
    if (!st && OPT(O_VENDOR))
        cli_json_str(body, "vendor", vid);
    if (!st) {
        cli_json_str(body, "country", OPT(O_COUNTRY));
        cli_json_str(body, "source", OPT(O_SOURCE));
        st = cli_json_time(cl, body, "date", "--date", OPT(O_DATE));
    }
    if (st) {
        json_decref(body);
        return st;
    }
    struct cli_msg m = {.type = "spyware-listing",
                        .tlp = comity_spyware_tlp("spyware-listing")};
    return cli_client_send(cl, &m, body, NULL);
}

/* ---- misuse ------------------------------------------------------------------------------ */

static int do_notice(struct spy_args *a)
{
    struct cli_client *cl = a->cl;
    if (!a->to.n || !OPT(O_VENDOR) || !OPT(O_SECTOR) || !OPT(O_KIND))
        return cli_usage(cl->cmd, "want --to (each participating state), --vendor, --sector "
                                  "and --target-kind");
    char vid[128];
    int st = vendor_id(cl, OPT(O_VENDOR), vid);
    if (st)
        return st;
    json_t *body = json_pack("{s:s, s:s, s:s}", "vendor", vid, "sector", OPT(O_SECTOR),
                             "target_kind", OPT(O_KIND));
    if (!body)
        return CLI_FAIL;
    cli_json_str(body, "product", OPT(O_PRODUCT));
    struct cli_msg m = {.type = "spyware-misuse-notice",
                        .tlp = a->tlp ? a->tlp : comity_spyware_tlp("spyware-misuse-notice"),
                        .to = (const char *const *)a->to.v, .nto = a->to.n};
    return cli_client_send(cl, &m, body, NULL);
}

static int do_check(struct spy_args *a)
{
    struct cli_client *cl = a->cl;
    const char *me = cli_client_party(cl);
    if (!me)
        return CLI_FAIL;
    char mine[COMITY_PARTY_MAX + 1];
    snprintf(mine, sizeof mine, "%.*s", (int)strcspn(me, "."), me);
    /* notices sent to us, our joins, our own licences (any office of our
     * state that sealed them to us) */
    static const char *const types[] = {"spyware-misuse-notice", "spyware-licence",
                                        "spyware-misuse-join", NULL};
    comity_framework *fw = NULL;
    char *out = NULL;
    comity_error e = {0};
    int st = open_handle(cl, types, NULL, &fw);
    if (!st && comity_framework_spyware_matches(fw, me, &out, &e))
        st = cli_error(cl->cmd, &e);
    json_t *r = out ? json_loads(out, 0, NULL) : NULL;
    comity_free(out);
    comity_framework_free(fw);
    json_t *ms = json_object_get(r, "matches"), *m;
    size_t i;
    if (!st && a->json)
        st = print_json(r);
    json_array_foreach(ms, i, m) {
        if (st)
            break;
        json_t *b = json_object_get(m, "body");
        bool joined = json_is_true(json_object_get(m, "joined"));
        if (!a->json)
            printf("notice %s from %s: %s %s (%s, %s); your state licensed it (%zu licence(s))%s\n",
                   s_(m, "id"), s_(m, "author"), s_(b, "vendor"), s_(b, "product"),
                   s_(b, "sector"), s_(b, "target_kind"),
                   json_array_size(json_object_get(m, "licences")),
                   joined ? "; joined" : a->join ? "" : "; ask to join with --join");
        if (a->join && !joined) {
            const char *to[1] = {s_(m, "author")}, *refs[1] = {s_(m, "id")};
            json_t *lic = json_array_get(json_object_get(m, "licences"), 0);
            json_t *jb = json_pack("{s:b, s:s}", "licensed", 1, "licence", s_(lic, "id"));
            struct cli_msg msg = {.type = "spyware-misuse-join",
                                  .tlp = comity_spyware_tlp("spyware-misuse-join"), .to = to,
                                  .nto = 1, .refs = refs, .nrefs = 1};
            st = jb ? cli_client_send(cl, &msg, jb, NULL) : CLI_FAIL;
        }
    }
    if (!st && !a->json && !json_array_size(ms))
        printf("no misuse notice names a product %s licensed\n", mine);
    json_decref(r);
    return st;
}

/* `misuse open NOTICE`: the case, to --to and the states that asked to
 * join the notice (from the joins' envelopes), with the notice's fields. */
static int do_open(struct spy_args *a, const char *notice)
{
    struct cli_client *cl = a->cl;
    if (a->to.n != 1)
        return cli_usage(cl->cmd, "want --to PARTY: the requested party (the secretariat, or "
                                  "the state hosting the infrastructure)");
    if (!cli_id_ok(notice))
        return cli_usage(cl->cmd, "'%s' is not a notice id", notice);
    const char *me = cli_client_party(cl);
    if (!me)
        return CLI_FAIL;
    static const char *const types[] = {"spyware-misuse-notice", NULL};
    comity_framework *fw = NULL;
    int st = open_handle(cl, types, NULL, &fw);
    comity_framework_free(fw);
    /* the notice's body, opened */
    comity_identities *ids = NULL;
    comity_error e = {0};
    char path[256];
    snprintf(path, sizeof path, "/v1/records/%s", notice);
    struct cli_resp r = {0};
    comity_record *rec = NULL;
    char *nb = NULL;
    size_t nbl = 0;
    if (!st && !(st = cli_client_http(cl, "GET", path, NULL, 0, &r)) && r.status != 200)
        st = cli_client_answer(cl, &r);
    if (!st && (comity_identities_load(cl->key, &ids, &e) ||
                comity_record_parse(r.data, r.len, &rec, &e) ||
                comity_record_open(rec, ids, &nb, &nbl, &e)))
        st = cli_error(cl->cmd, &e);
    free(r.data);
    comity_record_free(rec);
    comity_identities_free(ids);
    json_t *body = nb ? json_loadb(nb, nbl, 0, NULL) : NULL;
    comity_free(nb);
    if (!st && !body)
        st = CLI_FAIL;
    /* the states that asked to join */
    struct cli_list to = {0};
    if (!st)
        cli_list_add(&to, a->to.v[0]);
    char *q = NULL;
    json_t *page = NULL;
    if (!st && (cli_query_add(&q, "type", "spyware-misuse-join") || cli_query_add(&q, "to", me) ||
                cli_query_add(&q, "limit", "1000")))
        st = CLI_FAIL;
    if (!st) {
        snprintf(path, sizeof path, "/v1/records?%s", q);
        st = cli_client_get_json(cl, path, &page);
    }
    free(q);
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(page, "records"), i, row) {
        char *env = json_dumps(json_object_get(row, "envelope"), JSON_COMPACT);
        comity_record *j = NULL;
        if (!st && env && !comity_record_parse(env, strlen(env), &j, NULL) &&
            comity_record_refs_count(j) && !strcmp(comity_record_ref(j, 0), notice))
            cli_list_add(&to, strdup(comity_record_author(j)));
        comity_record_free(j);
        free(env);
    }
    json_decref(page);
    if (!st) {
        if (OPT(O_TARGETS))
            cli_json_int(body, "targets", OPT(O_TARGETS));
        cli_json_str(body, "evidence", OPT(O_EVIDENCE));
        if (OPT(O_FIRST))
            st = cli_json_time(cl, body, "first_seen", "--first-seen", OPT(O_FIRST));
        if (!st && OPT(O_LAST))
            st = cli_json_time(cl, body, "last_seen", "--last-seen", OPT(O_LAST));
    }
    struct cli_list refs = {0};
    cli_list_add(&refs, (char *)notice);
    for (size_t k = 0; k < a->refs.n; k++)
        cli_list_add(&refs, a->refs.v[k]);
    if (!st) {
        for (size_t k = 1; k < to.n; k++)
            fprintf(stderr, "comity %s: %s asked to join: it sees the case\n", cl->cmd, to.v[k]);
        struct cli_msg m = {.type = "spyware-misuse",
                            .tlp = a->tlp ? a->tlp : comity_spyware_tlp("spyware-misuse"),
                            .to = (const char *const *)to.v, .nto = to.n,
                            .refs = (const char *const *)refs.v, .nrefs = refs.n};
        st = cli_client_send(cl, &m, body, NULL);
        body = NULL;
    }
    json_decref(body);
    for (size_t k = 1; k < to.n; k++)
        free(to.v[k]);
    cli_list_free(&to);
    cli_list_free(&refs);
    return st;
}

/* `misuse join CASE --to REQUESTER [--ref JOIN-ID]`: a state that asked to
 * join the case's notice after the case opened asks to join the case
 * itself (the core's case-join, basis "licensed"), sealed to the
 * requester; the requester admits it with `misuse admit`. */
static int do_join_case(struct spy_args *a, const char *id)
{
    struct cli_client *cl = a->cl;
    if (!cli_id_ok(id))
        return cli_usage(cl->cmd, "'%s' is not a case id", id);
    if (a->to.n != 1)
        return cli_usage(cl->cmd, "want --to PARTY: the case's requester, who admits new parties");
    json_t *body = NULL;
    int st = build_body(a, json_pack("{s:s}", "basis", "licensed"), &body);
    if (st)
        return st;
    struct cli_list refs = {0};
    cli_list_add(&refs, (char *)id);
    for (size_t k = 0; k < a->refs.n; k++)
        cli_list_add(&refs, a->refs.v[k]);
    struct cli_msg m = {.type = "case-join", .tlp = a->tlp ? a->tlp : comity_framework_default_tlp("case-join"),
                        .to = (const char *const *)a->to.v, .nto = 1,
                        .refs = (const char *const *)refs.v, .nrefs = refs.n};
    st = cli_client_send(cl, &m, body, NULL);
    cli_list_free(&refs);
    return st;
}

/* `misuse admit CASE REQUEST`: the requester admits the author of a
 * case-join: to every other party of the case (as the node shows it to
 * us) and the newcomer; amber unless --tlp (the library proposes it). */
static int do_admit(struct spy_args *a, const char *id, const char *req)
{
    struct cli_client *cl = a->cl;
    if (!cli_id_ok(id) || !cli_id_ok(req))
        return cli_usage(cl->cmd, "want a case id and a request's id (case-join--<uuid>)");
    const char *me = cli_client_party(cl);
    if (!me)
        return CLI_FAIL;
    char path[256];
    snprintf(path, sizeof path, "/v1/framework/cases/%s", id);
    json_t *c = NULL;
    int st = cli_client_get_json(cl, path, &c);
    if (st)
        return st;
    const char *who = NULL;
    json_t *x;
    size_t i;
    json_array_foreach(json_object_get(c, "thread"), i, x) {
        if (!strcmp(s_(x, "id") ? s_(x, "id") : "", req) && !strcmp(s_(x, "type"), "case-join"))
            who = s_(x, "author");
    }
    if (!who) {
        json_decref(c);
        fprintf(stderr, "comity %s: %s is no request to join case %s\n", cl->cmd, req, id);
        return CLI_FAIL;
    }
    char mine[COMITY_PARTY_MAX + 1];
    snprintf(mine, sizeof mine, "%.*s", (int)strcspn(me, "."), me);
    struct cli_list to = {0};
    json_array_foreach(json_object_get(c, "parties"), i, x) {
        const char *n = s_(x, "party");
        if (n && strcmp(n, me) && strcmp(n, mine))
            cli_list_add(&to, (char *)n);
    }
    cli_list_add(&to, (char *)who);
    const char *refs[2] = {id, req};
    struct cli_msg m = {.type = "case-admit",
                        .tlp = a->tlp ? a->tlp : comity_framework_default_tlp("case-admit"),
                        .to = (const char *const *)to.v, .nto = to.n, .refs = refs, .nrefs = 2};
    json_t *body = json_object();
    st = body ? cli_client_send(cl, &m, body, NULL) : CLI_FAIL;
    if (!st)
        fprintf(stderr, "comity %s: %s is a party of case %s from now on\n", cl->cmd, who, id);
    cli_list_free(&to);
    json_decref(c);
    return st;
}

/* ---- government use under oversight ---------------------------------------------------- */

/* `authorisations`: ours, as author or overseer, from the node's query
 * (envelopes only: ids, times, whether signed off, the receipt's path). */
static int do_auth_list(struct spy_args *a)
{
    json_t *r = NULL;
    int st = cli_client_get_json(a->cl, "/v1/framework/spyware/authorisations", &r);
    if (st)
        return st;
    if (a->json) {
        st = print_json(r);
        json_decref(r);
        return st;
    }
    json_t *x;
    size_t i;
    json_array_foreach(json_object_get(r, "authorisations"), i, x) {
        json_t *so = json_object_get(x, "signoff");
        printf("%s  %s  by %s, overseen by %s  %s%s\n", s_(x, "id"), s_(x, "created"),
               s_(x, "author"), s_(x, "overseer"),
               json_is_object(so) ? "signed off " : "awaiting sign-off",
               json_is_object(so) ? s_(so, "created") : "");
    }
    if (!json_array_size(json_object_get(r, "authorisations")))
        printf("no authorisation written or overseen by %s\n", s_(r, "party"));
    json_decref(r);
    return CLI_OK;
}

/* `authorise --overseer P BODY`: sealed (amber+strict) to the overseer;
 * `signoff AUTH-ID --set decision=approved`: sealed to its author. */
static int do_oversight(struct spy_args *a, bool signoff, const char *auth)
{
    struct cli_client *cl = a->cl;
    json_t *body = NULL;
    char author[COMITY_PARTY_MAX + 1] = "";
    if (!signoff && a->to.n != 1)
        return cli_usage(cl->cmd, "want --to OVERSEER: the office of your state that oversees");
    if (signoff) {
        if (!cli_id_ok(auth))
            return cli_usage(cl->cmd, "'%s' is not an authorisation id", auth);
        char path[256];
        snprintf(path, sizeof path, "/v1/records/%s", auth);
        struct cli_resp r = {0};
        comity_record *rec = NULL;
        int st = cli_client_http(cl, "GET", path, NULL, 0, &r);
        if (!st && r.status != 200)
            st = cli_client_answer(cl, &r);
        if (!st && comity_record_parse(r.data, r.len, &rec, NULL) == COMITY_OK)
            snprintf(author, sizeof author, "%s", comity_record_author(rec));
        comity_record_free(rec);
        free(r.data);
        if (st)
            return st;
    }
    int st = build_body(a, NULL, &body);
    if (st)
        return st;
    const char *to[1] = {signoff ? author : a->to.v[0]}, *refs[1] = {auth};
    const char *m_type = signoff ? "spyware-authorisation-signoff" : "spyware-authorisation";
    struct cli_msg m = {.type = m_type,
                        .tlp = a->tlp ? a->tlp : comity_spyware_tlp(m_type), .to = to, .nto = 1,
                        .refs = refs, .nrefs = signoff ? 1 : 0};
    return cli_client_send(cl, &m, body, NULL);
}

/* ---- the transparency report -------------------------------------------------------- */

static void html_esc(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* One figure as a table row: its count, and the records it counts, each
 * linked to its envelope and receipt on the node. */
static void html_row(FILE *f, const char *url, const char *label, const json_t *fig)
{
    fputs("<tr><th>", f);
    html_esc(f, label);
    fprintf(f, "</th><td class=n>%lld</td><td>",
            (long long)json_integer_value(json_object_get(fig, "count")));
    if (json_array_size(json_object_get(fig, "records"))) {
        fputs("<details><summary>records</summary><ol>", f);
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(fig, "records"), i, v) {
            fputs("<li><a href=\"", f);
            html_esc(f, url);
            fputs("/v1/records/", f);
            html_esc(f, json_string_value(v));
            fputs("\">", f);
            html_esc(f, json_string_value(v));
            fputs("</a> <a class=r href=\"", f);
            html_esc(f, url);
            fputs("/v1/records/", f);
            html_esc(f, json_string_value(v));
            fputs("/receipt\">receipt</a></li>", f);
        }
        fputs("</ol></details>", f);
    }
    fputs("</td></tr>\n", f);
}

static void html_split(FILE *f, const char *url, const char *what, const json_t *by)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)by, k, v) {
        for (int d = 0; d < 2; d++) {
            const json_t *fig = json_object_get(v, d ? "denied" : "granted");
            if (!fig)
                continue;
            char label[256];
            snprintf(label, sizeof label, "%s %s: %s", d ? "denied" : "granted", what, k);
            html_row(f, url, label, fig);
        }
    }
}

static int write_html(const char *path, const char *url, const json_t *rep)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "comity spyware report: %s: cannot write\n", path);
        return CLI_USAGE;
    }
    fputs("<!doctype html>\n<html lang=en><head><meta charset=utf-8>\n"
          "<title>Commercial spyware registry: transparency report</title>\n<style>\n"
          "body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;"
          "padding:0 1rem;color:#111}\n"
          "table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}\n"
          "th,td{border-bottom:1px solid #ccc;padding:.3rem .5rem;text-align:left;"
          "vertical-align:top}\n"
          "td.n{text-align:right;font-variant-numeric:tabular-nums;width:5rem}\n"
          "ol{margin:.2rem 0;padding-left:1.5rem;font:12px ui-monospace,monospace}\n"
          "a.r{color:#555}\n"
          "@media print{body{margin:0;max-width:none;font-size:10pt}"
          "details>summary{display:none}details{display:block}"
          "h2{break-before:page}h2:first-of-type{break-before:auto}"
          "tr{break-inside:avoid}a{color:#000;text-decoration:none}"
          "a.r::after{content:\" (\" attr(href) \")\"}}\n"
          "</style></head><body>\n"
          "<h1>Commercial spyware registry: transparency report</h1>\n<p>",
          f);
    html_esc(f, s_(rep, "source"));
    fprintf(f, ". %lld records counted; node: ",
            (long long)json_integer_value(json_object_get(rep, "records_counted")));
    html_esc(f, url);
    fputs(". Verify a record's receipt offline with <code>comity record verify --receipt "
          "PROOF --log-vkey VKEY ENVELOPE</code>.</p>\n",
          f);
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(rep, "groups"), i, g) {
        json_t *l = json_object_get(g, "licences"), *m = json_object_get(g, "misuse_cases");
        fputs("<h2>", f);
        html_esc(f, s_(g, "state"));
        fprintf(f, ", %lld</h2>\n<table>\n",
                (long long)json_integer_value(json_object_get(g, "year")));
        html_row(f, url, "licences granted", json_object_get(l, "granted"));
        html_row(f, url, "licences denied", json_object_get(l, "denied"));
        html_split(f, url, "by category", json_object_get(l, "by_category"));
        html_split(f, url, "to", json_object_get(l, "by_destination"));
        html_row(f, url, "entities listed", json_object_get(g, "listings"));
        html_row(f, url, "misuse cases opened", json_object_get(m, "opened"));
        html_row(f, url, "misuse cases closed", json_object_get(m, "closed"));
        fputs("</table>\n", f);
    }
    fputs("</body></html>\n", f);
    if (fclose(f)) {
        fprintf(stderr, "comity spyware report: %s: write failed\n", path);
        return CLI_FAIL;
    }
    return CLI_OK;
}

static int do_report(struct spy_args *a)
{
    struct cli_client *cl = a->cl;
    char *q = NULL;
    if ((OPT(O_STATE) && cli_query_add(&q, "state", OPT(O_STATE))) ||
        (OPT(O_YEAR) && cli_query_add(&q, "year", OPT(O_YEAR))))
        return CLI_FAIL;
    char path[512];
    snprintf(path, sizeof path, "/v1/framework/spyware/report%s%s", q ? "?" : "", q ? q : "");
    free(q);
    json_t *rep = NULL;
    int st = cli_client_get_json(cl, path, &rep);
    if (!st && OPT(O_HTML))
        st = write_html(OPT(O_HTML), cl->url, rep);
    if (!st && a->json)
        st = print_json(rep);
    else if (!st && !OPT(O_HTML)) {
        size_t i;
        json_t *g;
        printf("%-8s %4s %8s %7s %8s %7s %7s   (clear records only)\n", "STATE", "YEAR",
               "GRANTED", "DENIED", "LISTED", "OPENED", "CLOSED");
        json_array_foreach(json_object_get(rep, "groups"), i, g) {
            json_t *l = json_object_get(g, "licences"), *m = json_object_get(g, "misuse_cases");
#define CNT(x) (long long)json_integer_value(json_object_get((x), "count"))
            printf("%-8s %4lld %8lld %7lld %8lld %7lld %7lld\n", s_(g, "state"),
                   (long long)json_integer_value(json_object_get(g, "year")),
                   CNT(json_object_get(l, "granted")), CNT(json_object_get(l, "denied")),
                   CNT(json_object_get(g, "listings")), CNT(json_object_get(m, "opened")),
                   CNT(json_object_get(m, "closed")));
#undef CNT
        }
    }
    json_decref(rep);
    return st;
}

int cmd_spyware(int argc, char **argv)
{
    static const struct option opts[] = {
        {"set", required_argument, 0, O_SET},
        {"body", required_argument, 0, O_BODY},
        {"to", required_argument, 0, O_TO},
        {"ref", required_argument, 0, O_REF},
        {"tlp", required_argument, 0, O_TLP},
        {"json", no_argument, 0, O_JSON},
        {"reason", required_argument, 0, O_REASON},
        {"force", no_argument, 0, O_FORCE},
        {"join", no_argument, 0, O_JOIN},
        {"vendor", required_argument, 0, O_VENDOR},
        {"product", required_argument, 0, O_PRODUCT},
        {"category", required_argument, 0, O_CATEGORY},
        {"destination", required_argument, 0, O_DEST},
        {"end-user", required_argument, 0, O_END_USER},
        {"date", required_argument, 0, O_DATE},
        {"reference", required_argument, 0, O_REFERENCE},
        {"listed-by", required_argument, 0, O_LISTED_BY},
        {"regime", required_argument, 0, O_REGIME},
        {"entity", required_argument, 0, O_ENTITY},
        {"legal-basis", required_argument, 0, O_BASIS},
        {"sector", required_argument, 0, O_SECTOR},
        {"target-kind", required_argument, 0, O_KIND},
        {"targets", required_argument, 0, O_TARGETS},
        {"evidence", required_argument, 0, O_EVIDENCE},
        {"first-seen", required_argument, 0, O_FIRST},
        {"last-seen", required_argument, 0, O_LAST},
        {"country", required_argument, 0, O_COUNTRY},
        {"source", required_argument, 0, O_SOURCE},
        {"state", required_argument, 0, O_STATE},
        {"year", required_argument, 0, O_YEAR},
        {"html", required_argument, 0, O_HTML},
        {0, 0, 0, 0}};
    if (argc < 2)
        return cli_usage("spyware", "want import, vendor, licence, listing or misuse "
                                    "(comity help spyware)");
    const char *sub = argv[1];
    struct cli_client cl;
    cli_client_init(&cl, !strcmp(sub, "import")    ? "spyware import"
                         : !strcmp(sub, "vendor")  ? "spyware vendor"
                         : !strcmp(sub, "licence") ? "spyware licence"
                         : !strcmp(sub, "listing") ? "spyware listing"
                         : !strcmp(sub, "report")  ? "spyware report"
                         : !strcmp(sub, "authorise") ? "spyware authorise"
                         : !strcmp(sub, "signoff") ? "spyware signoff"
                         : !strcmp(sub, "authorisations") ? "spyware authorisations"
                                                   : "spyware misuse");
    struct spy_args a = {.cl = &cl};
    int st = cli_client_args(&cl, argc - 1, argv + 1, opts, on_opt, &a);
    int npos = argc - 1 - optind;
    char **pos = argv + 1 + optind;
    bool reads = (!strcmp(sub, "vendor") && npos >= 1 &&
                  (!strcmp(pos[0], "find") || !strcmp(pos[0], "show"))) ||
                 !strcmp(sub, "report") || !strcmp(sub, "authorisations");
    if (!st)
        st = cli_client_setup(&cl, CLI_NEED_URL | CLI_NEED_TOKEN | (reads ? 0 : CLI_NEED_KEY));
    if (st)
        ;
    else if (!strcmp(sub, "import"))
        st = npos == 1 ? do_import(&a, pos[0]) : cli_usage(cl.cmd, "want one galaxy file");
    else if (!strcmp(sub, "vendor"))
        st = do_vendor(&a, npos, pos);
    else if (!strcmp(sub, "licence"))
        st = npos == 1 && (!strcmp(pos[0], "grant") || !strcmp(pos[0], "deny"))
                 ? do_licence(&a, !strcmp(pos[0], "grant") ? "granted" : "denied")
                 : cli_usage(cl.cmd, "want grant or deny");
    else if (!strcmp(sub, "authorise"))
        st = npos == 0 ? do_oversight(&a, false, NULL) : cli_usage(cl.cmd, "takes options only");
    else if (!strcmp(sub, "authorisations"))
        st = npos == 0 ? do_auth_list(&a) : cli_usage(cl.cmd, "takes options only");
    else if (!strcmp(sub, "signoff"))
        st = npos == 1 ? do_oversight(&a, true, pos[0])
                       : cli_usage(cl.cmd, "want the authorisation's id");
    else if (!strcmp(sub, "report"))
        st = npos == 0 ? do_report(&a) : cli_usage(cl.cmd, "takes options only");
    else if (!strcmp(sub, "listing"))
        st = npos == 0 ? do_listing(&a) : cli_usage(cl.cmd, "takes options only");
    else if (!strcmp(sub, "misuse") && npos == 1 && !strcmp(pos[0], "notice"))
        st = do_notice(&a);
    else if (!strcmp(sub, "misuse") && npos == 1 && !strcmp(pos[0], "check"))
        st = do_check(&a);
    else if (!strcmp(sub, "misuse") && npos == 2 && !strcmp(pos[0], "open"))
        st = do_open(&a, pos[1]);
    else if (!strcmp(sub, "misuse") && npos == 2 && !strcmp(pos[0], "join"))
        st = do_join_case(&a, pos[1]);
    else if (!strcmp(sub, "misuse") && npos == 3 && !strcmp(pos[0], "admit"))
        st = do_admit(&a, pos[1], pos[2]);
    else
        st = cli_usage("spyware", "'%s': want import, vendor, licence, listing, or misuse "
                                  "notice|check|open|join|admit", sub);
    cli_list_free(&a.set);
    cli_list_free(&a.to);
    cli_list_free(&a.refs);
    cli_list_free(&a.reasons);
    cli_client_free(&cl);
    return cli_finish(st);
}
