/*
 * spyware.c: the commercial spyware registry (docs/spyware.md): vendors
 * and products, export licences and denials, listed entities, and the
 * misuse notices by which a misuse case finds the states that licensed
 * the product it names.  A non-case mechanism (struct cy_fw_mech, core.h).
 *
 * Seven record types:
 *
 *   spyware-vendor        a vendor (name, synonyms, products, references);
 *                         with refs[0] naming a vendor, a correction: a new
 *                         version (with its reason) that replaces the
 *                         current one; every version is kept with its
 *                         author, so that nothing changes silently.  Public
 *                         (tlp clear or green).  `comity spyware import`
 *                         turns the MISP galaxy's vendors into such records
 *                         signed by the importing party.
 *   spyware-licence       an export licence granted or denied by the
 *                         author's state (category, vendor, product,
 *                         destination, end user, date; reasons for a
 *                         denial).  Usually sealed: a denial to the
 *                         participating states, a grant to the state alone.
 *   spyware-listing       an entity listed by the author's state or regime
 *                         (legal basis, reason, date), linked to a vendor.
 *                         Public.
 *   spyware-misuse-notice that a misuse case is coming about a vendor's
 *                         product (vendor, product, sector, kind of target:
 *                         no one's name), sealed to the participating
 *                         states, so that each can match it against its own
 *                         licences where they can be read: its client.
 *   spyware-misuse-join   a state that licensed the product asks to join
 *                         (to the notice's author, refs[0] the notice); the
 *                         misuse case (spyware_misuse.c) may then name it.
 *   spyware-authorisation, spyware-authorisation-signoff   government use
 *                         under oversight (Pall Mall): an authorisation
 *                         sealed to its overseer, and the overseer's
 *                         sign-off; their receipts prove they existed.
 *
 * The registry's lookup compares names after a normalisation
 * (comity_spyware_normalise: ASCII letters lowered, every other ASCII byte
 * dropped, bytes of UTF-8 sequences kept), through an index by normalised
 * name (a jansson object used as a hash table): a lookup costs the
 * normalisation and one hash probe, whatever the registry's size.  A name
 * several vendors bear lists them all.
 *
 * A node cannot open a sealed body: it keeps such records' envelopes, and
 * the questions that need sealed bodies (was this product denied to this
 * end user by another state? does this notice name a product my state
 * licensed?) are asked of a handle the party's own client feeds with the
 * bodies it opened (comity_framework_spyware_undercut, _matches).  No
 * answer of this file shows a sealed record's body, even where a handle
 * holds one (a node's custodian's own).  Every rule is checked before
 * anything changes; a refused record leaves the handle as it was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "framework/spyware.h"

/* ---- body schemas ------------------------------------------------------------- */

#define TEXT(n, req, max) {n, CY_FK_TEXT, req, NULL, 0, max}
#define TEXTS(n, req, max) {n, CY_FK_TEXTS, req, NULL, 0, max}
#define LONG(n, req) {n, CY_FK_TEXT, req, NULL, 0, CY_CASE_LONG_TEXT_MAX}
#define TIME(n, req) {n, CY_FK_TIME, req, NULL, 0, 0}
#define ENUM(n, req, v) {n, CY_FK_ENUM, req, v, 0, 0}
#define END {NULL, CY_FK_TEXT, false, NULL, 0, 0}

static const char *const decisions[] = {"granted", "denied", NULL};
static const char *const categories[] = {"wassenaar-4.A.5", "wassenaar-4.D.4",
                                         "wassenaar-4.E.1.c", "eu-2021/821-art5",
                                         "national", NULL};
const char *const cy_spy_sectors[] = {"government", "civil-society", "media", "legal",
                                      "health", "energy", "finance", "telecom",
                                      "education", "business", "other", NULL};
const char *const cy_spy_target_kinds[] = {
    "journalist", "official", "activist", "lawyer", "human-rights-defender",
    "politician", "diplomat", "dissident", "academic", "business", "other", NULL};

static const cy_field f_vendor[] = {
    TEXT("name", true, CY_SPY_NAME_MAX), TEXTS("synonyms", false, CY_SPY_NAMES_MAX - 1),
    TEXTS("products", false, 256), TEXT("country", false, 64), LONG("description", false),
    TEXTS("refs", false, 64), TEXT("source", false, 256), TEXT("source_uuid", false, 64),
    {"withdrawn", CY_FK_BOOL, false, NULL, 0, 0}, TEXT("reason", false, 0), END};
static const cy_field f_licence[] = {
    ENUM("decision", true, decisions), ENUM("category", true, categories),
    TEXT("vendor", true, CY_SPY_NAME_MAX), TEXT("product", true, CY_SPY_NAME_MAX),
    TEXT("destination", true, COMITY_PARTY_MAX), TEXT("end_user", true, CY_SPY_NAME_MAX),
    TIME("date", true), TEXTS("reasons", false, 32), TEXT("reference", false, 128), END};
static const cy_field f_listing[] = {
    TEXT("listed_by", true, COMITY_PARTY_MAX), TEXT("regime", true, 128),
    TEXT("entity", true, CY_SPY_NAME_MAX), TEXT("vendor", false, 128),
    TEXT("country", false, 64), TEXT("legal_basis", true, 0), TEXT("reason", true, 0),
    TIME("date", true), TEXT("source", false, 0), {"delisted", CY_FK_BOOL, false, NULL, 0, 0},
    END};
static const cy_field f_notice[] = {
    TEXT("vendor", true, CY_SPY_NAME_MAX), TEXT("product", false, CY_SPY_NAME_MAX),
    ENUM("sector", true, cy_spy_sectors), ENUM("target_kind", true, cy_spy_target_kinds),
    END};
static const char *const signoffs[] = {"approved", "refused", NULL};
static const cy_field f_authorisation[] = {
    TEXT("capability", true, CY_SPY_NAME_MAX), TEXT("vendor", false, CY_SPY_NAME_MAX),
    TEXT("basis", true, 0), LONG("necessity", true), LONG("proportionality", true),
    TIME("from", true), TIME("until", true), TEXT("reference", false, 128), END};
static const cy_field f_signoff[] = {ENUM("decision", true, signoffs), TEXT("note", false, 0),
                                     END};
static const cy_field f_join[] = {{"licensed", CY_FK_TRUE, true, NULL, 0, 0},
                                  TEXT("licence", false, 128), END};

size_t comity_spyware_normalise(const char *name, char *out, size_t cap)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)name; name && *p && n + 1 < cap; p++) {
        unsigned char c = *p;
        if (c >= 'A' && c <= 'Z')
            out[n++] = (char)(c - 'A' + 'a');
        else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80)
            out[n++] = (char)c;
    }
    if (cap)
        out[n] = 0;
    return n;
}

#define NORM_CAP (CY_CASE_TEXT_MAX + 1)

static comity_err check_name(const char *t, const char *field, size_t i, const char *s,
                             comity_error *err)
{
    char n[NORM_CAP];
    if (strlen(s) > CY_SPY_NAME_MAX)
        return cy_fail(err, COMITY_ERR_INVALID, "%s.body.%s[%zu]: longer than %d bytes", t,
                       field, i, CY_SPY_NAME_MAX);
    if (!comity_spyware_normalise(s, n, sizeof n))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.%s: \"%.64s\" has no letter or digit to look it up by", t,
                       field, s);
    return COMITY_OK;
}

static comity_err check_vendor(const char *t, const json_t *b, comity_error *err)
{
    comity_err rc = check_name(t, "name", 0, json_string_value(json_object_get(b, "name")), err);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(b, "synonyms"), i, v) {
        if (!rc)
            rc = check_name(t, "synonyms", i, json_string_value(v), err);
    }
    return rc;
}

static comity_err check_licence(const char *t, const json_t *b, comity_error *err)
{
    const char *d = json_string_value(json_object_get(b, "destination"));
    if (!comity_party_valid(d, NULL) || strchr(d, '.'))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.destination: \"%.64s\" is not a state (a bare state name "
                       "like \"ae\")", t, d);
    if (!strcmp(json_string_value(json_object_get(b, "decision")), "denied") &&
        !json_object_get(b, "reasons"))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.reasons: a denial gives its reasons (the no-undercut "
                       "rule shows them to the next state that tries)", t);
    return COMITY_OK;
}

static comity_err check_listing(const char *t, const json_t *b, comity_error *err)
{
    const char *by = json_string_value(json_object_get(b, "listed_by"));
    if (!comity_party_valid(by, NULL) || strchr(by, '.'))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.listed_by: \"%.64s\" is not a state or regime name (like "
                       "\"us\" or \"eu\")", t, by);
    return COMITY_OK;
}

static comity_err check_authorisation(const char *t, const json_t *b, comity_error *err)
{
    if (cy_fw_time(json_string_value(json_object_get(b, "until"))) <=
        cy_fw_time(json_string_value(json_object_get(b, "from"))))
        return cy_fail(err, COMITY_ERR_INVALID, "%s.body.until: want a time after from", t);
    return COMITY_OK;
}

const cy_case_type cy_spy_types[] = {
    {"spyware-vendor", f_vendor, check_vendor},
    {"spyware-licence", f_licence, check_licence},
    {"spyware-listing", f_listing, check_listing},
    {"spyware-misuse-notice", f_notice, NULL},
    {"spyware-misuse-join", f_join, NULL},
    {"spyware-authorisation", f_authorisation, check_authorisation},
    {"spyware-authorisation-signoff", f_signoff, NULL},
};
const size_t cy_spy_ntypes = CY_ARRAY_LEN(cy_spy_types);

const char *comity_spyware_tlp(const char *type)
{
    if (!type || strncmp(type, "spyware-", 8) != 0 ||
        (!cy_spy_type(type) && strcmp(type, "spyware-misuse") != 0))
        return NULL;
    if (!strcmp(type, "spyware-vendor") || !strcmp(type, "spyware-listing"))
        return "clear"; /* the registry and the lists are public */
    if (!strncmp(type, "spyware-authorisation", 21))
        return "amber+strict"; /* the state and its overseer alone */
    return "amber"; /* licences, notices, joins, misuse cases */
}

const cy_case_type *cy_spy_type(const char *type)
{
    for (size_t i = 0; type && i < cy_spy_ntypes; i++)
        if (!strcmp(cy_spy_types[i].name, type))
            return &cy_spy_types[i];
    return NULL;
}

/* ---- the handle's part ------------------------------------------------------------ */

/* "<notice id>\n<state>": a record id is a type, "--" and a UUID */
#define SPY_KEY_MAX (COMITY_RECORD_TYPE_MAX + 40 + COMITY_PARTY_MAX + 2)

enum { T_VENDOR, T_LICENCE, T_LISTING, T_NOTICE, T_JOIN, T_AUTH, T_SIGNOFF };

typedef struct spy_entry { /* all but vendors */
    int kind;              /* T_LICENCE.. */
    char *id, *author;
    int64_t created;
    bool sealed;
    json_t *body;          /* owned; NULL when sealed and not given */
    json_t *to;            /* owned array: the record's recipients */
    int64_t vendor;        /* licences, listings: the vendor index;
                              authorisations: their sign-off's entry
                              index; -1 none */
} spy_entry;

typedef struct spy_vendor {
    char *id;              /* its first record's id */
    json_t *hist;          /* owned array of {id, author, created, body},
                              oldest first; the last is current */
    json_t *links;         /* owned array of entry indexes (listings and
                              licences naming it) */
} spy_vendor;

struct cy_spyware {
    spy_vendor *v;
    size_t nv, capv;
    spy_entry *e;
    size_t ne, cape;
    json_t *by_id;         /* vendor id -> index */
    json_t *by_name;       /* normalised name -> [vendor index...] */
    json_t *by_uuid;       /* source_uuid -> vendor index */
    json_t *notices;       /* notice id -> entry index */
    json_t *joins;         /* "<notice>\n<state>" -> join entry index */
    json_t *auths;         /* authorisation id -> entry index */
};

static comity_err spy_init(comity_framework *fw, comity_error *err)
{
    struct cy_spyware *s = cy_calloc(1, sizeof *s);
    if (!s || !(s->by_id = json_object()) || !(s->by_name = json_object()) ||
        !(s->by_uuid = json_object()) || !(s->notices = json_object()) ||
        !(s->joins = json_object()) || !(s->auths = json_object())) {
        if (s) {
            json_decref(s->joins);
            json_decref(s->by_id);
            json_decref(s->by_name);
            json_decref(s->by_uuid);
            json_decref(s->notices);
        }
        cy_free(s);
        return cy_fw_nomem(err);
    }
    fw->spyware = s;
    return COMITY_OK;
}

static void entry_clear(spy_entry *e)
{
    cy_free(e->id);
    cy_free(e->author);
    json_decref(e->body);
    json_decref(e->to);
}

static void spy_clear(comity_framework *fw)
{
    struct cy_spyware *s = fw->spyware;
    if (!s)
        return;
    for (size_t i = 0; i < s->nv; i++) {
        cy_free(s->v[i].id);
        json_decref(s->v[i].hist);
        json_decref(s->v[i].links);
    }
    for (size_t i = 0; i < s->ne; i++)
        entry_clear(&s->e[i]);
    cy_free(s->v);
    cy_free(s->e);
    json_decref(s->by_id);
    json_decref(s->by_name);
    json_decref(s->by_uuid);
    json_decref(s->notices);
    json_decref(s->joins);
    json_decref(s->auths);
    cy_free(s);
    fw->spyware = NULL;
}

static const json_t *current(const spy_vendor *v)
{
    return json_object_get(json_array_get(v->hist, json_array_size(v->hist) - 1), "body");
}

static int64_t vendor_by_id(const struct cy_spyware *s, const char *id)
{
    json_t *x = id ? json_object_get(s->by_id, id) : NULL;
    return x ? (int64_t)json_integer_value(x) : -1;
}

/* The vendor a reference names: a vendor id, or a name (or synonym) that
 * exactly one vendor bears; -1 otherwise. */
static int64_t vendor_ref(const struct cy_spyware *s, const char *ref)
{
    int64_t i = vendor_by_id(s, ref);
    if (i >= 0 || !ref)
        return i;
    char n[NORM_CAP];
    comity_spyware_normalise(ref, n, sizeof n);
    json_t *a = json_object_get(s->by_name, n);
    return json_array_size(a) == 1 ? (int64_t)json_integer_value(json_array_get(a, 0)) : -1;
}

/* Calls fn(s, normalised name, vendor index) for every name of body b
 * (name and synonyms; a name twice in one body counts once); stops at
 * the first nonzero answer and returns it. */
static int names_each(struct cy_spyware *s, const json_t *b, size_t vi,
                      int (*fn)(struct cy_spyware *, const char *, size_t))
{
    char n[NORM_CAP], m[NORM_CAP];
    json_t *syn = json_object_get(b, "synonyms");
    for (size_t k = 0; k <= json_array_size(syn); k++) {
        const char *x = k == 0 ? json_string_value(json_object_get(b, "name"))
                               : json_string_value(json_array_get(syn, k - 1));
        comity_spyware_normalise(x, n, sizeof n);
        bool dup = false;
        for (size_t j = 0; j < k && !dup; j++) {
            const char *y = j == 0 ? json_string_value(json_object_get(b, "name"))
                                   : json_string_value(json_array_get(syn, j - 1));
            comity_spyware_normalise(y, m, sizeof m);
            dup = !strcmp(n, m);
        }
        int r = dup ? 0 : fn(s, n, vi);
        if (r)
            return r;
    }
    return 0;
}

static int name_add(struct cy_spyware *s, const char *n, size_t vi)
{
    json_t *a = json_object_get(s->by_name, n);
    if (!a && (!(a = json_array()) || json_object_set_new(s->by_name, n, a)))
        return -1;
    return json_array_append_new(a, json_integer((json_int_t)vi)) ? -1 : 0;
}

static int name_del(struct cy_spyware *s, const char *n, size_t vi)
{
    json_t *a = json_object_get(s->by_name, n);
    for (size_t i = json_array_size(a); i-- > 0;)
        if ((size_t)json_integer_value(json_array_get(a, i)) == vi)
            json_array_remove(a, i);
    if (a && !json_array_size(a))
        json_object_del(s->by_name, n);
    return 0;
}

static json_t *version_json(const comity_record *rec, int64_t created, const json_t *body)
{
    return json_pack("{s:s, s:s, s:o, s:O}", "id", comity_record_id(rec), "author",
                     comity_record_author(rec), "created", cy_fw_time_json(created), "body",
                     body);
}

static comity_err add_vendor(comity_framework *fw, const comity_record *rec, json_t *body,
                             int64_t created, bool dry, comity_error *err)
{
    struct cy_spyware *s = fw->spyware;
    if (!body || comity_record_is_sealed(rec))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "spyware-vendor: the registry is public: a vendor record is tlp "
                       "clear or green");
    const char *ref = comity_record_refs_count(rec) ? comity_record_ref(rec, 0) : NULL;
    const char *uuid = json_string_value(json_object_get(body, "source_uuid"));
    int64_t vi = -1;
    if (ref) {
        if ((vi = vendor_by_id(s, ref)) < 0)
            return cy_fail(err, COMITY_ERR_NOTFOUND,
                           "spyware-vendor.refs[0]: no vendor %.100s to correct", ref);
        if (!json_object_get(body, "reason"))
            return cy_fail(err, COMITY_ERR_INVALID,
                           "spyware-vendor.body.reason: a correction says why (nothing in "
                           "the registry changes silently)");
        json_t *u = uuid ? json_object_get(s->by_uuid, uuid) : NULL;
        if (u && json_integer_value(u) != vi)
            return cy_fail(err, COMITY_ERR_CONFLICT,
                           "spyware-vendor.body.source_uuid: %.64s is vendor %.100s's", uuid,
                           s->v[json_integer_value(u)].id);
    } else {
        json_t *u = uuid ? json_object_get(s->by_uuid, uuid) : NULL;
        if (u)
            return cy_fail(err, COMITY_ERR_CONFLICT,
                           "spyware-vendor: source_uuid %.64s is already vendor %.100s "
                           "(correct it with refs[0] naming it)", uuid,
                           s->v[json_integer_value(u)].id);
        if (json_object_get(body, "reason"))
            return cy_fail(err, COMITY_ERR_INVALID,
                           "spyware-vendor.body.reason: only a correction (refs[0] naming "
                           "the vendor) gives a reason");
        if (s->nv >= CY_SPY_VENDORS_MAX)
            return cy_fail(err, COMITY_ERR_TOOBIG,
                           "spyware-vendor: the registry holds at most %u vendors",
                           CY_SPY_VENDORS_MAX);
    }
    if (dry)
        return COMITY_OK;
    json_t *ver = version_json(rec, created, body);
    if (!ver)
        return cy_fw_nomem(err);
    if (vi < 0) {
        if (cy_fw_grow((void **)&s->v, &s->capv, s->nv, sizeof *s->v)) {
            json_decref(ver);
            return cy_fw_nomem(err);
        }
        spy_vendor v = {cy_strdup(comity_record_id(rec)), json_array(), json_array()};
        if (!v.id || !v.hist || !v.links || json_array_append_new(v.hist, ver) ||
            json_object_set_new(s->by_id, v.id, json_integer((json_int_t)s->nv))) {
            cy_free(v.id);
            json_decref(v.hist);
            json_decref(v.links);
            return cy_fw_nomem(err);
        }
        vi = (int64_t)s->nv;
        s->v[s->nv++] = v;
    } else {
        names_each(s, current(&s->v[vi]), (size_t)vi, name_del);
        const char *old = json_string_value(json_object_get(current(&s->v[vi]), "source_uuid"));
        if (old)
            json_object_del(s->by_uuid, old);
        if (json_array_append_new(s->v[vi].hist, ver))
            return cy_fw_nomem(err);
    }
    if (names_each(s, body, (size_t)vi, name_add) ||
        (uuid && json_object_set_new(s->by_uuid, uuid, json_integer((json_int_t)vi))) ||
        json_object_set_new(fw->ids, comity_record_id(rec), json_integer(-1)))
        return cy_fw_nomem(err);
    return COMITY_OK;
}

static comity_err add_entry(comity_framework *fw, int kind, const comity_record *rec,
                            json_t *body, int64_t created, int64_t vi, comity_error *err)
{
    struct cy_spyware *s = fw->spyware;
    if (cy_fw_grow((void **)&s->e, &s->cape, s->ne, sizeof *s->e))
        return cy_fw_nomem(err);
    spy_entry e = {kind, cy_strdup(comity_record_id(rec)), cy_strdup(comity_record_author(rec)),
                   created, comity_record_is_sealed(rec) != 0,
                   body ? json_incref(body) : NULL, json_array(), vi};
    bool oom = !e.id || !e.author || !e.to;
    for (size_t i = 0; !oom && i < comity_record_to_count(rec); i++)
        oom = json_array_append_new(e.to, json_string(comity_record_to(rec, i))) != 0;
    if (oom || json_object_set_new(fw->ids, e.id, json_integer(-1)) ||
        (vi >= 0 && json_array_append_new(s->v[vi].links, json_integer((json_int_t)s->ne)))) {
        entry_clear(&e);
        return cy_fw_nomem(err);
    }
    s->e[s->ne++] = e;
    return COMITY_OK;
}

static comity_err add_licence(comity_framework *fw, const comity_record *rec, json_t *body,
                              int64_t created, bool dry, comity_error *err)
{
    if (body && cy_fw_time(json_string_value(json_object_get(body, "date"))) > created)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "spyware-licence.body.date: a decision is recorded once taken (its "
                       "date is after the record's created time)");
    if (dry)
        return COMITY_OK;
    int64_t vi = body ? vendor_ref(fw->spyware, json_string_value(json_object_get(body, "vendor")))
                      : -1;
    return add_entry(fw, T_LICENCE, rec, body, created, vi, err);
}

static comity_err add_listing(comity_framework *fw, const comity_record *rec, json_t *body,
                              int64_t created, bool dry, comity_error *err)
{
    if (!body || comity_record_is_sealed(rec))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "spyware-listing: a listing is public: tlp clear or green");
    char ast[COMITY_PARTY_MAX + 1];
    cy_fw_state_of(comity_record_author(rec), ast);
    const char *by = json_string_value(json_object_get(body, "listed_by"));
    if (strcmp(by, ast) != 0)
        return cy_fail(err, COMITY_ERR_DENIED,
                       "spyware-listing.body.listed_by: only an office of %s records %s's "
                       "listings; %s belongs to %s", by, by, comity_record_author(rec), ast);
    const char *v = json_string_value(json_object_get(body, "vendor"));
    int64_t vi = v ? vendor_by_id(fw->spyware, v) : -1;
    if (v && vi < 0)
        return cy_fail(err, COMITY_ERR_NOTFOUND,
                       "spyware-listing.body.vendor: no vendor %.100s in the registry", v);
    if (dry)
        return COMITY_OK;
    return add_entry(fw, T_LISTING, rec, body, created, vi, err);
}

static comity_err add_notice(comity_framework *fw, const comity_record *rec, json_t *body,
                             int64_t created, bool dry, comity_error *err)
{
    if (!comity_record_is_sealed(rec))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "spyware-misuse-notice: a notice is sealed to the participating "
                       "states (tlp amber or red)");
    if (comity_record_to_count(rec) == 0)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "spyware-misuse-notice.to: want the participating states");
    if (dry)
        return COMITY_OK;
    struct cy_spyware *s = fw->spyware;
    if (json_object_set_new(s->notices, comity_record_id(rec), json_integer((json_int_t)s->ne)))
        return cy_fw_nomem(err);
    comity_err rc = add_entry(fw, T_NOTICE, rec, body, created, -1, err);
    if (rc)
        json_object_del(s->notices, comity_record_id(rec));
    return rc;
}

static const spy_entry *notice_of(const struct cy_spyware *s, const char *id)
{
    json_t *x = id ? json_object_get(s->notices, id) : NULL;
    return x ? &s->e[json_integer_value(x)] : NULL;
}

/* Whether `party` is named among the recipients `to` (itself, or its
 * bare state). */
static bool among(const json_t *to, const char *party)
{
    char st[COMITY_PARTY_MAX + 1];
    cy_fw_state_of(party, st);
    size_t i;
    json_t *v;
    json_array_foreach(to, i, v) {
        const char *p = json_string_value(v);
        if (!strcmp(p, party) || !strcmp(p, st))
            return true;
    }
    return false;
}

static comity_err add_join(comity_framework *fw, const comity_record *rec, json_t *body,
                           int64_t created, bool dry, comity_error *err)
{
    struct cy_spyware *s = fw->spyware;
    const char *author = comity_record_author(rec);
    const char *ref = comity_record_refs_count(rec) ? comity_record_ref(rec, 0) : NULL;
    const spy_entry *n = notice_of(s, ref);
    if (!n || !among(n->to, author)) /* the same answer: it never saw one */
        return cy_fail(err, COMITY_ERR_NOTFOUND,
                       "spyware-misuse-join.refs[0]: no misuse notice %.100s sent to %s",
                       ref ? ref : "(none)", author);
    char ast[COMITY_PARTY_MAX + 1], nst[COMITY_PARTY_MAX + 1];
    cy_fw_state_of(author, ast);
    cy_fw_state_of(n->author, nst);
    if (!strcmp(ast, nst))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "spyware-misuse-join: %s is of the notice's own state", author);
    if (comity_record_to_count(rec) != 1 || strcmp(comity_record_to(rec, 0), n->author) != 0)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "spyware-misuse-join.to: want the notice's author %s alone", n->author);
    if (comity_record_is_sealed(rec) != n->sealed)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "spyware-misuse-join: sealed as its notice is (tlp amber or red)");
    char key[SPY_KEY_MAX];
    snprintf(key, sizeof key, "%s\n%s", n->id, ast);
    if (json_object_get(s->joins, key))
        return cy_fail(err, COMITY_ERR_CONFLICT,
                       "spyware-misuse-join: %s already asked to join %.100s", ast, n->id);
    if (dry)
        return COMITY_OK;
    if (json_object_set_new(s->joins, key, json_integer((json_int_t)s->ne)))
        return cy_fw_nomem(err);
    comity_err rc = add_entry(fw, T_JOIN, rec, body, created, -1, err);
    if (rc)
        json_object_del(s->joins, key);
    return rc;
}

/* Government use under oversight (Pall Mall): an authorisation to use such
 * a capability, sealed to the authorising office and its overseer (an
 * office of the same state, to[0]), and the overseer's sign-off.  Only the
 * envelopes are needed for the rules; the log's receipt of the sealed
 * record proves later that it existed at that time without showing it. */
static comity_err add_auth(comity_framework *fw, const comity_record *rec, json_t *body,
                           int64_t created, bool dry, comity_error *err)
{
    struct cy_spyware *s = fw->spyware;
    const char *author = comity_record_author(rec);
    char ast[COMITY_PARTY_MAX + 1], ost[COMITY_PARTY_MAX + 1];
    cy_fw_state_of(author, ast);
    if (!comity_record_is_sealed(rec))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "spyware-authorisation: sealed to its state and overseer (tlp amber+strict "
                       "or red): only its receipt is ever shown");
    if (comity_record_to_count(rec) != 1 || !strchr(comity_record_to(rec, 0), '.') ||
        strcmp(cy_fw_state_of(comity_record_to(rec, 0), ost), ast) != 0 ||
        !strcmp(comity_record_to(rec, 0), author))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "spyware-authorisation.to: want its overseer alone: another office of %s",
                       ast);
    if (dry)
        return COMITY_OK;
    if (json_object_set_new(s->auths, comity_record_id(rec), json_integer((json_int_t)s->ne)))
        return cy_fw_nomem(err);
    comity_err rc = add_entry(fw, T_AUTH, rec, body, created, -1, err);
    if (rc)
        json_object_del(s->auths, comity_record_id(rec));
    return rc;
}

static comity_err add_signoff(comity_framework *fw, const comity_record *rec, json_t *body,
                              int64_t created, bool dry, comity_error *err)
{
    struct cy_spyware *s = fw->spyware;
    const char *ref = comity_record_refs_count(rec) ? comity_record_ref(rec, 0) : NULL;
    json_t *x = ref ? json_object_get(s->auths, ref) : NULL;
    spy_entry *a = x ? &s->e[json_integer_value(x)] : NULL;
    const char *overseer = a ? json_string_value(json_array_get(a->to, 0)) : NULL;
    if (!a || (strcmp(overseer, comity_record_author(rec)) != 0 &&
               strcmp(a->author, comity_record_author(rec)) != 0))
        return cy_fail(err, COMITY_ERR_NOTFOUND,
                       "spyware-authorisation-signoff.refs[0]: no authorisation %.100s overseen "
                       "by %s", ref ? ref : "(none)", comity_record_author(rec));
    if (strcmp(overseer, comity_record_author(rec)) != 0)
        return cy_fail(err, COMITY_ERR_DENIED,
                       "spyware-authorisation-signoff: only the overseer %s signs off", overseer);
    if (!comity_record_is_sealed(rec) || comity_record_to_count(rec) != 1 ||
        strcmp(comity_record_to(rec, 0), a->author) != 0)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "spyware-authorisation-signoff: sealed, to %s alone", a->author);
    if (a->vendor >= 0) /* signed off before */
        return cy_fail(err, COMITY_ERR_CONFLICT,
                       "spyware-authorisation-signoff: %.100s is already signed off", a->id);
    if (dry)
        return COMITY_OK;
    int64_t ai = (int64_t)json_integer_value(x);
    comity_err rc = add_entry(fw, T_SIGNOFF, rec, body, created, -1, err);
    if (!rc)
        s->e[ai].vendor = (int64_t)s->ne - 1;
    return rc;
}

const char *cy_spy_notice_author(const comity_framework *fw, const char *id)
{
    const spy_entry *n = notice_of(fw->spyware, id);
    return n ? n->author : NULL;
}

bool cy_spy_joined(const comity_framework *fw, const char *id, const char *party)
{
    char st[COMITY_PARTY_MAX + 1], key[SPY_KEY_MAX];
    cy_fw_state_of(party, st);
    snprintf(key, sizeof key, "%s\n%s", id, st);
    return json_object_get(fw->spyware->joins, key) != NULL;
}

static comity_err spy_add(comity_framework *fw, enum cy_fw_type t, const comity_record *rec,
                          json_t *body, int64_t created, bool dry, comity_error *err)
{
    (void)t;
    const char *type = comity_record_type(rec);
    const cy_case_type *ct = cy_spy_type(type);
    if (!ct)
        return cy_fail(err, COMITY_ERR_INTERNAL, "%s: not a spyware registry type", type);
    comity_err rc;
    if (body && (rc = cy_case_check_body(ct, body, err)))
        return rc;
    switch (ct - cy_spy_types) {
    case T_VENDOR: return add_vendor(fw, rec, body, created, dry, err);
    case T_LICENCE: return add_licence(fw, rec, body, created, dry, err);
    case T_LISTING: return add_listing(fw, rec, body, created, dry, err);
    case T_NOTICE: return add_notice(fw, rec, body, created, dry, err);
    case T_AUTH: return add_auth(fw, rec, body, created, dry, err);
    case T_SIGNOFF: return add_signoff(fw, rec, body, created, dry, err);
    default: return add_join(fw, rec, body, created, dry, err);
    }
}

const cy_fw_mech cy_fw_mech_spyware = {
    .name = "spyware",
    .types = CY_FW_BIT(CY_FW_SPYWARE),
    .init = spy_init,
    .clear = spy_clear,
    .add = spy_add,
};

/* ---- queries ------------------------------------------------------------------------ */

static bool readable_clear(const spy_entry *e)
{
    return e->body && !e->sealed;
}

static json_t *entry_json(const spy_entry *e)
{
    return json_pack("{s:s, s:s, s:o, s:O}", "id", e->id, "author", e->author, "created",
                     cy_fw_time_json(e->created), "body", e->body);
}

/* A vendor as answers show it: its current version's fields, who made
 * and last changed it, its history (with `full`), and the public
 * listings and licences linked to it. */
static json_t *vendor_json(const struct cy_spyware *s, const spy_vendor *v, bool full)
{
    const json_t *first = json_array_get(v->hist, 0);
    const json_t *last = json_array_get(v->hist, json_array_size(v->hist) - 1);
    json_t *o = json_deep_copy(json_object_get(last, "body"));
    json_t *listings = json_array(), *licences = json_array(), *hist = NULL;
    bool oom = !o || !listings || !licences ||
               json_object_set_new(o, "id", json_string(v->id)) ||
               json_object_set(o, "created_by", json_object_get(first, "author")) ||
               json_object_set(o, "created", json_object_get(first, "created")) ||
               json_object_set(o, "updated_by", json_object_get(last, "author")) ||
               json_object_set(o, "updated", json_object_get(last, "created")) ||
               json_object_set(o, "version", json_object_get(last, "id")) ||
               json_object_set_new(o, "versions",
                                   json_integer((json_int_t)json_array_size(v->hist)));
    json_object_del(o, "reason");
    size_t i;
    json_t *x;
    json_array_foreach(v->links, i, x) {
        const spy_entry *e = &s->e[json_integer_value(x)];
        if (!oom && readable_clear(e))
            oom = json_array_append_new(e->kind == T_LISTING ? listings : licences,
                                        entry_json(e)) != 0;
    }
    if (!oom && full) {
        oom = !(hist = json_array());
        json_array_foreach(v->hist, i, x) {
            json_t *h = oom ? NULL
                            : json_pack("{s:O, s:O, s:O, s:O}", "id", json_object_get(x, "id"),
                                        "author", json_object_get(x, "author"), "created",
                                        json_object_get(x, "created"), "body",
                                        json_object_get(x, "body"));
            oom = oom || !h || json_array_append_new(hist, h);
        }
        oom = oom || json_object_set_new(o, "history", hist);
        hist = NULL;
    }
    oom = oom || json_object_set_new(o, "listings", listings);
    listings = NULL;
    oom = oom || json_object_set_new(o, "licences", licences);
    licences = NULL;
    json_decref(listings);
    json_decref(licences);
    json_decref(hist);
    if (oom) {
        json_decref(o);
        return NULL;
    }
    return o;
}

comity_err comity_framework_spyware_lookup(const comity_framework *fw, const char *name,
                                           char **json, comity_error *err)
{
    *json = NULL;
    const struct cy_spyware *s = fw->spyware;
    char n[NORM_CAP];
    if (!name || strlen(name) > CY_SPY_NAME_MAX || !comity_spyware_normalise(name, n, sizeof n))
        return cy_fail(err, COMITY_ERR_USAGE,
                       "spyware: look up a name of 1-%d bytes with a letter or digit",
                       CY_SPY_NAME_MAX);
    json_t *a = json_array();
    bool oom = !a;
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(s->by_name, n), i, x) {
        if (oom || i >= CY_SPY_LOOKUP_MAX)
            break;
        json_t *v = vendor_json(s, &s->v[json_integer_value(x)], false);
        oom = !v || json_array_append_new(a, v);
    }
    json_t *o = oom ? NULL : json_pack("{s:s, s:s, s:o}", "name", name, "normalised", n,
                                       "vendors", a);
    if (!o) {
        if (oom)
            json_decref(a);
        return cy_fw_nomem(err);
    }
    return cy_fw_dump(o, json, err);
}

comity_err comity_framework_spyware_vendor(const comity_framework *fw, const char *id,
                                           char **json, comity_error *err)
{
    *json = NULL;
    int64_t vi = vendor_by_id(fw->spyware, id);
    if (vi < 0)
        return cy_fail(err, COMITY_ERR_NOTFOUND, "spyware: no vendor %.100s",
                       id ? id : "(null)");
    json_t *o = vendor_json(fw->spyware, &fw->spyware->v[vi], true);
    if (!o)
        return cy_fw_nomem(err);
    return cy_fw_dump(o, json, err);
}

size_t comity_framework_spyware_count(const comity_framework *fw)
{
    return fw->spyware ? fw->spyware->nv : 0;
}

/* Whether vendor references a and b name the same vendor: the same
 * registry vendor, else the same normalised text. */
static bool same_vendor(const struct cy_spyware *s, const char *a, const char *b)
{
    int64_t x = vendor_ref(s, a), y = vendor_ref(s, b);
    if (x >= 0 || y >= 0)
        return x == y;
    char n[NORM_CAP], m[NORM_CAP];
    comity_spyware_normalise(a, n, sizeof n);
    comity_spyware_normalise(b, m, sizeof m);
    return !strcmp(n, m);
}

static bool same_name(const char *a, const char *b)
{
    char n[NORM_CAP], m[NORM_CAP];
    comity_spyware_normalise(a, n, sizeof n);
    comity_spyware_normalise(b, m, sizeof m);
    return n[0] && !strcmp(n, m);
}

static const char *str(const json_t *b, const char *k)
{
    return json_string_value(json_object_get(b, k));
}

comity_err comity_framework_spyware_undercut(const comity_framework *fw, const char *party,
                                             const char *vendor, const char *product,
                                             const char *end_user, char **json,
                                             comity_error *err)
{
    *json = NULL;
    if (!party || !vendor || !product || !end_user)
        return cy_fail(err, COMITY_ERR_USAGE,
                       "spyware: the no-undercut check wants a party, vendor, product and "
                       "end user");
    const struct cy_spyware *s = fw->spyware;
    char ps[COMITY_PARTY_MAX + 1], es[COMITY_PARTY_MAX + 1];
    cy_fw_state_of(party, ps);
    json_t *a = json_array();
    bool oom = !a;
    for (size_t i = 0; i < s->ne && !oom; i++) {
        const spy_entry *e = &s->e[i];
        if (e->kind != T_LICENCE || !e->body || strcmp(str(e->body, "decision"), "denied") ||
            !strcmp(cy_fw_state_of(e->author, es), ps) ||
            !same_vendor(s, str(e->body, "vendor"), vendor) ||
            !same_name(str(e->body, "product"), product) ||
            !same_name(str(e->body, "end_user"), end_user))
            continue;
        json_t *d = entry_json(e);
        oom = !d || json_object_set_new(d, "state", json_string(es)) ||
              json_array_append_new(a, d);
    }
    json_t *o = oom ? NULL : json_pack("{s:o}", "denials", a);
    if (!o) {
        if (oom)
            json_decref(a);
        return cy_fw_nomem(err);
    }
    return cy_fw_dump(o, json, err);
}

comity_err comity_framework_spyware_matches(const comity_framework *fw, const char *party,
                                            char **json, comity_error *err)
{
    *json = NULL;
    if (!party)
        return cy_fail(err, COMITY_ERR_USAGE, "spyware: matches for which party?");
    const struct cy_spyware *s = fw->spyware;
    char ps[COMITY_PARTY_MAX + 1], es[COMITY_PARTY_MAX + 1];
    cy_fw_state_of(party, ps);
    json_t *a = json_array();
    bool oom = !a;
    for (size_t i = 0; i < s->ne && !oom; i++) {
        const spy_entry *n = &s->e[i];
        if (n->kind != T_NOTICE || !n->body || !among(n->to, party) ||
            !strcmp(cy_fw_state_of(n->author, es), ps))
            continue;
        json_t *lic = json_array();
        oom = !lic;
        for (size_t k = 0; k < s->ne && !oom; k++) {
            const spy_entry *l = &s->e[k];
            if (l->kind != T_LICENCE || !l->body || strcmp(str(l->body, "decision"), "granted") ||
                strcmp(cy_fw_state_of(l->author, es), ps) ||
                !same_vendor(s, str(l->body, "vendor"), str(n->body, "vendor")) ||
                (str(n->body, "product") && !same_name(str(l->body, "product"),
                                                       str(n->body, "product"))))
                continue;
            oom = json_array_append_new(lic, entry_json(l)) != 0;
        }
        if (oom || !json_array_size(lic)) {
            json_decref(lic);
            continue;
        }
        json_t *m = entry_json(n);
        oom = !m || json_object_set_new(m, "licences", lic) ||
              json_object_set_new(m, "joined",
                                  json_boolean(cy_spy_joined(fw, n->id, party))) ||
              json_array_append_new(a, m);
    }
    json_t *o = oom ? NULL : json_pack("{s:o}", "matches", a);
    if (!o) {
        if (oom)
            json_decref(a);
        return cy_fw_nomem(err);
    }
    return cy_fw_dump(o, json, err);
}

/* ---- the MISP galaxy's vendors as vendor bodies ------------------------------------ */

#define GALAXY_MAX ((size_t)64 << 20) /* bytes of a galaxy file */

/* Copies the strings of galaxy array `from` (at most `max`) into a new
 * array set as o[key] when there are any. */
static int put_texts(json_t *o, const char *key, const json_t *from, const json_t *more,
                     size_t max)
{
    json_t *a = json_array();
    if (!a)
        return -1;
    for (int k = 0; k < 2; k++) {
        size_t i;
        json_t *v;
        json_array_foreach(k ? more : from, i, v) {
            if (json_is_string(v) && json_string_length(v) > 0 &&
                json_string_length(v) <= CY_CASE_TEXT_MAX && json_array_size(a) < max &&
                json_array_append(a, v))
                break;
        }
    }
    int r = json_array_size(a) ? json_object_set_new(o, key, a) : (json_decref(a), 0);
    return r ? -1 : 0;
}

comity_err comity_spyware_galaxy_bodies(const char *text, size_t len, char **json,
                                        comity_error *err)
{
    *json = NULL;
    if (len > GALAXY_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "spyware: a galaxy file is at most %zu bytes",
                       GALAXY_MAX);
    json_error_t je;
    json_t *g = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    json_t *vals = json_object_get(g, "values");
    if (!json_is_array(vals)) {
        json_decref(g);
        return cy_fail(err, COMITY_ERR_INVALID,
                       "spyware: not a MISP galaxy cluster (want an object with \"values\"; "
                       "line %d: %s)", je.line, g ? "no values" : je.text);
    }
    const char *src = json_string_value(json_object_get(g, "name"));
    char source[300];
    snprintf(source, sizeof source, "misp-galaxy:%.200s", src ? src : "?");
    json_t *out = json_array();
    comity_err rc = out ? COMITY_OK : cy_fw_nomem(err);
    size_t i;
    json_t *v;
    json_array_foreach(vals, i, v) {
        if (rc)
            break;
        json_t *meta = json_object_get(v, "meta");
        json_t *b = json_object();
        if (!b || json_object_set(b, "name", json_object_get(v, "value")) ||
            put_texts(b, "synonyms", json_object_get(meta, "synonyms"), NULL,
                      CY_SPY_NAMES_MAX - 1) ||
            put_texts(b, "products", json_object_get(meta, "products"), NULL, 256) ||
            put_texts(b, "refs", json_object_get(meta, "official-refs"),
                      json_object_get(meta, "refs"), 64) ||
            json_object_set_new(b, "source", json_string(source)) ||
            (json_is_string(json_object_get(v, "description")) &&
             json_object_set(b, "description", json_object_get(v, "description"))) ||
            (json_is_string(json_object_get(meta, "country")) &&
             json_object_set(b, "country", json_object_get(meta, "country"))) ||
            (json_is_string(json_object_get(v, "uuid")) &&
             json_object_set(b, "source_uuid", json_object_get(v, "uuid")))) {
            json_decref(b);
            rc = cy_fw_nomem(err);
            break;
        }
        comity_error ce = {0};
        if ((rc = cy_case_check_body(&cy_spy_types[T_VENDOR], b, &ce))) {
            json_decref(b);
            rc = cy_fail(err, rc, "spyware: galaxy value %zu: %s", i, ce.msg);
            break;
        }
        if (json_array_append_new(out, b))
            rc = cy_fw_nomem(err);
    }
    json_decref(g);
    if (rc) {
        json_decref(out);
        return rc;
    }
    return cy_fw_dump(out, json, err);
}

/* ---- government use under oversight: a party's own ------------------------------------ */

comity_err comity_framework_spyware_authorisations(const comity_framework *fw,
                                                   const char *party, char **json,
                                                   comity_error *err)
{
    *json = NULL;
    if (!party || !comity_party_valid(party, err))
        return party ? cy_wrap(err, "spyware authorisations")
                     : cy_fail(err, COMITY_ERR_USAGE, "spyware authorisations: want a party");
    const struct cy_spyware *s = fw->spyware;
    json_t *a = json_array();
    bool oom = !a;
    for (size_t i = 0; i < s->ne && !oom; i++) {
        const spy_entry *e = &s->e[i];
        if (e->kind != T_AUTH)
            continue;
        const char *overseer = json_string_value(json_array_get(e->to, 0));
        bool mine = !strcmp(e->author, party);
        if (!mine && strcmp(overseer, party) != 0)
            continue; /* neither its author nor its overseer: not even its existence */
        const spy_entry *so = e->vendor >= 0 ? &s->e[e->vendor] : NULL;
        json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:s, s:o, s:o}", "id", e->id, "author",
                              e->author, "overseer", overseer, "created",
                              cy_fw_time_json(e->created), "role", mine ? "author" : "overseer",
                              "signoff", so ? json_pack("{s:s, s:o}", "id", so->id, "created",
                                                        cy_fw_time_json(so->created))
                                            : json_null(),
                              "receipt", json_sprintf("/v1/records/%s/receipt", e->id));
        oom = !o || json_array_append_new(a, o);
    }
    json_t *o = oom ? NULL : json_pack("{s:s, s:o}", "party", party, "authorisations", a);
    if (!o) {
        if (oom)
            json_decref(a);
        return cy_fw_nomem(err);
    }
    return cy_fw_dump(o, json, err);
}

/* ---- the public transparency report ------------------------------------------------- */

/* The UTC year of ms. */
static int year_of(int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    return gmtime_r(&t, &tm) ? tm.tm_year + 1900 : 0;
}

/*
 * The report is written as text from arrays, not built as a jansson tree:
 * at 1,000,000 records a tree of figures costs several allocations per
 * record id (three figures name each licence), which was most of the
 * time.  Each counted record or case becomes an item; items are put in
 * their group's bucket (a counting sort by the group's rank, which keeps
 * the registry's order inside a bucket), and each group is written from
 * its bucket: the categories by a pass each, the destinations after a
 * sort of the group's licences by destination.
 */
enum { R_GRANTED, R_DENIED, R_LISTING, R_OPENED, R_CLOSED };

typedef struct rep_item {
    uint32_t g;       /* the group's index */
    uint8_t what;     /* R_* */
    uint8_t cat;      /* licences: the index in categories[] */
    const char *dest; /* licences: the destination (borrowed) */
    const char *id;   /* the record's or case's id (borrowed) */
} rep_item;

typedef struct rep_group {
    char key[COMITY_PARTY_MAX + 16]; /* "state yyyy": the order of groups */
    size_t state_len;                /* the state is key[0..state_len) */
    int year;
} rep_group;

typedef struct rep {
    rep_item *it;
    size_t n, cap;
    rep_group *g;
    size_t ng, capg;
    json_t *by_key; /* "state yyyy" -> group index */
} rep;

/* Adds an item to the group of (state, year), made when absent; -1 on OOM
 * or when there are more than 2^32 groups. */
static int rep_add(rep *r, const char *state, int year, int what, int cat, const char *dest,
                   const char *id)
{
    char key[COMITY_PARTY_MAX + 16];
    snprintf(key, sizeof key, "%s %04d", state, year);
    json_t *gi = json_object_get(r->by_key, key);
    size_t g;
    if (gi) {
        g = (size_t)json_integer_value(gi);
    } else {
        if (r->ng >= UINT32_MAX || cy_fw_grow((void **)&r->g, &r->capg, r->ng, sizeof *r->g) ||
            json_object_set_new(r->by_key, key, json_integer((json_int_t)r->ng)))
            return -1;
        g = r->ng++;
        snprintf(r->g[g].key, sizeof r->g[g].key, "%s", key);
        r->g[g].state_len = strlen(state);
        r->g[g].year = year;
    }
    if (cy_fw_grow((void **)&r->it, &r->cap, r->n, sizeof *r->it))
        return -1;
    r->it[r->n++] = (rep_item){(uint32_t)g, (uint8_t)what, (uint8_t)cat, dest, id};
    return 0;
}

static int group_cmp(const void *a, const void *b)
{
    return strcmp((*(const rep_group *const *)a)->key, (*(const rep_group *const *)b)->key);
}

/* By destination, then the registry's order (items sit in an array in
 * that order, so their addresses give it). */
static int dest_cmp(const void *a, const void *b)
{
    const rep_item *x = *(const rep_item *const *)a, *y = *(const rep_item *const *)b;
    int c = strcmp(x->dest, y->dest);
    return c ? c : (x > y) - (x < y);
}

/* s as a JSON string (quotes, backslashes and control bytes escaped; the
 * rest is UTF-8 checked on the way in). */
static comity_err put_str(cy_buf *b, const char *s, size_t n)
{
    comity_err rc = cy_buf_puts(b, "\"");
    size_t from = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        char esc[8];
        snprintf(esc, sizeof esc, "\\u%04x", c);
        rc = cy_buf_append(b, s + from, i - from);
        if (!rc)
            rc = cy_buf_puts(b, esc);
        from = i + 1;
    }
    if (!rc)
        rc = cy_buf_append(b, s + from, n - from);
    return rc ? rc : cy_buf_puts(b, "\"");
}

/* `"name":{"count":n,"records":[ids]}` for the items of v[0..n) that are
 * `what`, after a comma when comma. */
static comity_err put_fig(cy_buf *b, bool comma, const char *name, rep_item *const *v, size_t n,
                          int what)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += v[i]->what == what;
    comity_err rc = cy_buf_printf(b, "%s\"%s\":{\"count\":%zu,\"records\":[", comma ? "," : "",
                                  name, c);
    bool first = true;
    for (size_t i = 0; i < n && !rc; i++) {
        if (v[i]->what != what)
            continue;
        rc = first ? COMITY_OK : cy_buf_puts(b, ",");
        if (!rc)
            rc = put_str(b, v[i]->id, strlen(v[i]->id));
        first = false;
    }
    return rc ? rc : cy_buf_puts(b, "]}");
}

/* `name:{"granted":F,"denied":F}` with the decisions v[0..n) holds only
 * (a split lists what it saw). */
static comity_err put_split(cy_buf *b, bool comma, const char *name, rep_item *const *v,
                            size_t n)
{
    bool has[2] = {false, false};
    for (size_t i = 0; i < n; i++)
        has[v[i]->what == R_DENIED] = true;
    comity_err rc = comma ? cy_buf_puts(b, ",") : COMITY_OK;
    if (!rc)
        rc = put_str(b, name, strlen(name));
    if (!rc)
        rc = cy_buf_puts(b, ":{");
    if (!rc && has[0])
        rc = put_fig(b, false, "granted", v, n, R_GRANTED);
    if (!rc && has[1])
        rc = put_fig(b, has[0], "denied", v, n, R_DENIED);
    return rc ? rc : cy_buf_puts(b, "}");
}

/* One group from its bucket v[0..n); tmp has room for n pointers. */
static comity_err put_group(cy_buf *b, const rep_group *g, rep_item **v, size_t n,
                            rep_item **tmp)
{
    comity_err rc = cy_buf_puts(b, "{\"state\":");
    if (!rc)
        rc = put_str(b, g->key, g->state_len);
    if (!rc)
        rc = cy_buf_printf(b, ",\"year\":%d,\"licences\":{", g->year);
    if (!rc)
        rc = put_fig(b, false, "granted", v, n, R_GRANTED);
    if (!rc)
        rc = put_fig(b, true, "denied", v, n, R_DENIED);
    if (!rc)
        rc = cy_buf_puts(b, ",\"by_category\":{");
    bool comma = false;
    for (uint8_t c = 0; categories[c] && !rc; c++) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (v[i]->what <= R_DENIED && v[i]->cat == c)
                tmp[k++] = v[i];
        if (k) {
            rc = put_split(b, comma, categories[c], tmp, k);
            comma = true;
        }
    }
    if (!rc)
        rc = cy_buf_puts(b, "},\"by_destination\":{");
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i]->what <= R_DENIED)
            tmp[k++] = v[i];
    if (k)
        qsort(tmp, k, sizeof *tmp, dest_cmp);
    for (size_t i = 0, j; i < k && !rc; i = j) {
        for (j = i + 1; j < k && !strcmp(tmp[j]->dest, tmp[i]->dest); j++)
            ;
        rc = put_split(b, i > 0, tmp[i]->dest, tmp + i, j - i);
    }
    if (!rc)
        rc = cy_buf_puts(b, "}}");
    if (!rc)
        rc = put_fig(b, true, "listings", v, n, R_LISTING);
    if (!rc)
        rc = cy_buf_puts(b, ",\"misuse_cases\":{");
    if (!rc)
        rc = put_fig(b, false, "opened", v, n, R_OPENED);
    if (!rc)
        rc = put_fig(b, true, "closed", v, n, R_CLOSED);
    return rc ? rc : cy_buf_puts(b, "}}");
}

static int cat_index(const char *c)
{
    for (int i = 0; c && categories[i]; i++)
        if (!strcmp(categories[i], c))
            return i;
    return -1;
}

static comity_err rep_fail(comity_err rc, comity_error *err)
{
    if (rc == COMITY_ERR_TOOBIG)
        return cy_fail(err, COMITY_ERR_TOOBIG,
                       "spyware report: longer than %zu bytes (CY_SPY_REPORT_MAX): ask for "
                       "one state or one year",
                       (size_t)CY_SPY_REPORT_MAX);
    return cy_fw_nomem(err);
}

comity_err comity_framework_spyware_report(const comity_framework *fw, const char *state,
                                           int year, char **json, comity_error *err)
{
    *json = NULL;
    const struct cy_spyware *s = fw->spyware;
    rep r = {.by_key = json_object()};
    bool oom = !r.by_key;
    char st[COMITY_PARTY_MAX + 1];
    for (size_t i = 0; i < s->ne && !oom; i++) {
        const spy_entry *e = &s->e[i];
        if ((e->kind != T_LICENCE && e->kind != T_LISTING) || !readable_clear(e))
            continue;
        cy_fw_state_of(e->author, st);
        if (state && strcmp(state, st) != 0)
            continue;
        int y = year_of(cy_fw_time(str(e->body, "date")));
        if (year && year != y)
            continue;
        if (e->kind == T_LISTING) {
            oom = rep_add(&r, st, y, R_LISTING, 0, NULL, e->id) != 0;
            continue;
        }
        int c = cat_index(str(e->body, "category"));
        const char *d = str(e->body, "destination");
        if (c < 0 || !d) /* the schema requires both: not a licence it let in */
            continue;
        oom = rep_add(&r, st, y, strcmp(str(e->body, "decision"), "denied") ? R_GRANTED : R_DENIED,
                      c, d, e->id) != 0;
    }
    /* misuse cases opened in clear (a sealed case's existence is its
     * parties' alone), by the requester's state */
    const cy_cases *cs = fw->cases;
    for (size_t i = 0; cs && i < cs->n && !oom; i++) {
        const cy_case *c = cs->c[i];
        if (c->m != &cy_mech_spyware_misuse || c->sealed)
            continue;
        cy_fw_state_of(c->parties[0], st);
        if (state && strcmp(state, st) != 0)
            continue;
        for (int k = 0; k < 2 && !oom; k++) {
            int64_t at = k ? c->closed : c->opened;
            if (at < 0 || (year && year != year_of(at)))
                continue;
            oom = rep_add(&r, st, year_of(at), k ? R_CLOSED : R_OPENED, 0, NULL, c->id) != 0;
        }
    }
    /* the groups by state then year; the items by group, a counting sort */
    rep_group **order = oom ? NULL : cy_calloc(r.ng + 1, sizeof *order);
    size_t *start = order ? cy_calloc(r.ng + 1, sizeof *start) : NULL;
    rep_item **v = start ? cy_calloc(r.n + 1, sizeof *v) : NULL;
    rep_item **tmp = v ? cy_calloc(r.n + 1, sizeof *tmp) : NULL;
    comity_err rc = tmp ? COMITY_OK : COMITY_ERR_NOMEM;
    cy_buf b;
    cy_buf_init(&b, CY_SPY_REPORT_MAX);
    if (!rc) {
        for (size_t g = 0; g < r.ng; g++)
            order[g] = &r.g[g];
        qsort(order, r.ng, sizeof *order, group_cmp);
        /* start[g]: the size of group g's bucket */
        for (size_t i = 0; i < r.n; i++)
            start[r.it[i].g]++;
        size_t at = 0;
        size_t *rank_start = cy_calloc(r.ng + 1, sizeof *rank_start);
        if (!rank_start) {
            rc = COMITY_ERR_NOMEM;
        } else {
            for (uint32_t k = 0; k < r.ng; k++) {
                size_t g = (size_t)(order[k] - r.g), c = start[g];
                rank_start[g] = at;
                at += c;
            }
            for (size_t i = 0; i < r.n; i++)
                v[rank_start[r.it[i].g]++] = &r.it[i];
            cy_free(rank_start);
        }
        rc = rc ? rc
                : cy_buf_printf(&b, "{\"source\":\"clear records only: each figure lists the "
                                    "records it counts, whose receipts verify offline\","
                                    "\"state\":");
        if (!rc)
            rc = state ? put_str(&b, state, strlen(state)) : cy_buf_puts(&b, "null");
        if (!rc)
            rc = year ? cy_buf_printf(&b, ",\"year\":%d", year) : cy_buf_puts(&b, ",\"year\":null");
        if (!rc)
            rc = cy_buf_printf(&b, ",\"records_counted\":%zu,\"groups\":[", r.n);
        at = 0;
        for (uint32_t k = 0; k < r.ng && !rc; k++) {
            size_t c = start[order[k] - r.g];
            rc = k ? cy_buf_puts(&b, ",") : COMITY_OK;
            if (!rc)
                rc = put_group(&b, order[k], v + at, c, tmp);
            at += c;
        }
        if (!rc)
            rc = cy_buf_puts(&b, "]}");
    }
    cy_free(order);
    cy_free(start);
    cy_free(v);
    cy_free(tmp);
    cy_free(r.it);
    cy_free(r.g);
    json_decref(r.by_key);
    if (rc || oom) {
        cy_buf_free(&b);
        return rep_fail(oom ? COMITY_ERR_NOMEM : rc, err);
    }
    *json = (char *)cy_buf_detach(&b, NULL);
    return COMITY_OK;
}
