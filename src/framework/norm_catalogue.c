/*
 * norm_catalogue.c: the catalogue of norms every other norm record names.
 *
 * The catalogue starts with the eleven voluntary norms of the UN GGE 2015
 * report (A/70/174, para 13(a)-(k)), built in under the ids the `norm`
 * field of notifications and requests already takes (13a-13k): they are
 * valid before any record, as version 0.  The secretariat (an office of
 * CY_NORM_SECRETARIAT, "un") publishes entries as norm-entry records, clear
 * or green (everyone reads the catalogue): the eleven in its own words
 * with the source cited, and further entries (treaty provisions, CBMs)
 * under ids of its choosing.  A later record for the same id is a new
 * version that supersedes the current one; it must name that version as
 * refs[0], so that two versions never fork; every version is kept.  An
 * entry withdrawn by its current version can no longer be named by new
 * complaints (the eleven cannot be withdrawn).  docs/norms.md has the
 * tables; the query is comity_framework_norms.
 */
#include <stdlib.h>
#include <string.h>

#include "framework/norms.h"

/* The eleven, in the project's own words (the UN text is not copied);
 * the source is the report's paragraph. */
static const struct {
    const char *title, *text;
} builtin[11] = {
    {"Cooperate for stability and security",
     "States work together on measures that make the use of ICTs more stable "
     "and secure, and to stop practices agreed to be harmful."},
    {"Weigh all relevant information about an incident",
     "Faced with an ICT incident, a state considers all the information at "
     "hand: the wider context, how hard attribution is, and the nature and "
     "extent of the consequences."},
    {"Do not let your territory be used for wrongful acts",
     "A state does not knowingly allow its territory to be used for "
     "internationally wrongful acts using ICTs; once aware, it takes "
     "reasonable steps and may seek or offer help."},
    {"Cooperate against criminal and terrorist use",
     "States cooperate on sharing information, assisting each other and "
     "prosecuting the criminal and terrorist use of ICTs."},
    {"Respect human rights and privacy",
     "States respect the UN resolutions on privacy in the digital age and on "
     "human rights on the Internet, including freedom of expression."},
    {"Do not damage critical infrastructure",
     "A state does not conduct or knowingly support ICT activity, contrary to "
     "international law, that intentionally damages critical infrastructure "
     "or impairs its use and operation in serving the public."},
    {"Protect your own critical infrastructure",
     "A state takes appropriate measures to protect its critical "
     "infrastructure from ICT threats."},
    {"Answer requests for assistance",
     "A state responds to appropriate requests for help from another state "
     "whose critical infrastructure is under malicious ICT attack, and to "
     "requests to mitigate such activity coming from its territory."},
    {"Secure the supply chain",
     "States take reasonable steps to ensure the integrity of the supply "
     "chain, and to prevent the spread of malicious ICT tools and of harmful "
     "hidden functions."},
    {"Report vulnerabilities responsibly",
     "States encourage responsible reporting of ICT vulnerabilities and share "
     "what they know of remedies, to limit and possibly remove threats."},
    {"Do not harm emergency response teams",
     "A state does not conduct or knowingly support activity that harms the "
     "authorised emergency response teams (CERTs, CSIRTs) of another state, "
     "and does not use its own teams for malicious activity."},
};
#define BUILTIN_SOURCE "UN GGE 2015 report (A/70/174), para 13(%c)"

static const char *const kinds[] = {"voluntary-norm", "treaty-provision", "cbm",
                                    "other", NULL};

#define TEXT(n, req) {n, CY_FK_TEXT, req, NULL, 0, 0}
#define LONG(n, req) {n, CY_FK_TEXT, req, NULL, 0, CY_CASE_LONG_TEXT_MAX}
#define END {NULL, CY_FK_TEXT, false, NULL, 0, 0}

static const cy_field f_entry[] = {
    {"norm", CY_FK_TEXT, true, NULL, 0, CY_NORM_ID_MAX},
    {"kind", CY_FK_ENUM, true, kinds, 0, 0},
    {"title", CY_FK_TEXT, true, NULL, 0, 256},
    LONG("text", true),
    TEXT("source", true),
    {"withdrawn", CY_FK_BOOL, false, NULL, 0, 0},
    TEXT("note", false),
    END};

static bool builtin_index(const char *norm, int *i)
{
    for (int k = 0; cy_fw_norms[k]; k++)
        if (strcmp(cy_fw_norms[k], norm) == 0) {
            *i = k;
            return true;
        }
    return false;
}

/* A norm id: a lowercase letter or digit, then letters, digits, '.', '-'. */
static bool id_ok(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '.' ||
              *s == '-'))
            return false;
    return true;
}

static comity_err check_entry(const char *t, const json_t *b, comity_error *err)
{
    const char *norm = json_string_value(json_object_get(b, "norm"));
    const char *kind = json_string_value(json_object_get(b, "kind"));
    int i;
    if (!id_ok(norm))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.norm: want an id of lowercase letters, digits, "
                       "'.' and '-' (\"13f\", \"treaty.art-3\")", t);
    if (builtin_index(norm, &i) && strcmp(kind, "voluntary-norm") != 0)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.kind: %s is a norm of the UN GGE 2015 report: "
                       "want voluntary-norm", t, norm);
    if (builtin_index(norm, &i) && json_is_true(json_object_get(b, "withdrawn")))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.withdrawn: %s is one of the eleven norms every "
                       "notification may name; it cannot be withdrawn", t, norm);
    return COMITY_OK;
}

const cy_case_type cy_norm_entry_type = {"norm-entry", f_entry, check_entry};

/* ---- shared checks ----------------------------------------------------------- */

bool cy_norm_cve_ok(const char *s)
{
    if (strncmp(s, "CVE-", 4) != 0)
        return false;
    s += 4;
    for (int i = 0; i < 4; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    if (atoi(s) < 1999 || s[4] != '-')
        return false;
    s += 5;
    size_t n = strlen(s);
    if (n < 4 || n > 19)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

comity_err cy_norm_check_cves(const char *t, const json_t *body, const char *field,
                              comity_error *err)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(body, field), i, v) {
        if (!cy_norm_cve_ok(json_string_value(v)))
            return cy_fail(err, COMITY_ERR_INVALID,
                           "%s.body.%s[%zu]: want a CVE id (CVE-YYYY-NNNN, "
                           "4 to 19 digits)", t, field, i);
    }
    return COMITY_OK;
}

comity_err cy_norm_check_sectors(const char *t, const json_t *body, const char *field,
                                 comity_error *err)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(body, field), i, v) {
        if (!cy_fw_in_vocab(json_string_value(v), cy_fw_sectors)) {
            char buf[512];
            return cy_fail(err, COMITY_ERR_INVALID, "%s.body.%s[%zu]: want one of %s", t,
                           field, i, cy_fw_vocab_text(buf, sizeof buf, cy_fw_sectors));
        }
    }
    return COMITY_OK;
}

/* ---- the catalogue ----------------------------------------------------------------- */

static const cy_norm_entry *current(const struct cy_norms *n, const char *norm)
{
    for (size_t i = n->ne; i-- > 0;)
        if (strcmp(n->e[i].norm, norm) == 0)
            return &n->e[i];
    return NULL;
}

bool cy_norm_known(const comity_framework *fw, const char *norm)
{
    int i;
    if (!norm)
        return false;
    if (builtin_index(norm, &i))
        return true;
    const cy_norm_entry *e = current(fw->norms, norm);
    return e && !json_is_true(json_object_get(e->body, "withdrawn"));
}

comity_err cy_norm_entry_add(comity_framework *fw, const comity_record *rec,
                             const json_t *body, int64_t created, bool dry,
                             comity_error *err)
{
    struct cy_norms *n = fw->norms;
    const char *author = comity_record_author(rec);
    char st[COMITY_PARTY_MAX + 1];
    if (strcmp(cy_fw_state_of(author, st), CY_NORM_SECRETARIAT) != 0)
        return cy_fail(err, COMITY_ERR_DENIED,
                       "norm-entry: only the secretariat (an office of %s) "
                       "publishes the catalogue; %s is not one",
                       CY_NORM_SECRETARIAT, author);
    if (!body)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "norm-entry: the catalogue is public: want tlp clear or "
                       "green");
    const char *norm = json_string_value(json_object_get(body, "norm"));
    const cy_norm_entry *cur = current(n, norm);
    const char *ref = comity_record_refs_count(rec) ? comity_record_ref(rec, 0) : NULL;
    if (cur && (!ref || strcmp(ref, cur->id) != 0))
        return cy_fail(err, COMITY_ERR_CONFLICT,
                       "norm-entry: %s is at version %d (%.100s); a new version "
                       "must name it as refs[0]", norm, cur->version, cur->id);
    if (!cur && ref)
        return cy_fail(err, COMITY_ERR_CONFLICT,
                       "norm-entry.refs[0]: %s has no recorded version to "
                       "supersede; a first version names none", norm);
    if (n->ne >= CY_NORM_ENTRIES_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG,
                       "norm-entry: the catalogue holds at most %d records",
                       CY_NORM_ENTRIES_MAX);
    if (dry)
        return COMITY_OK;
    if (cy_fw_grow((void **)&n->e, &n->cape, n->ne, sizeof *n->e))
        return cy_fw_nomem(err);
    cy_norm_entry e = {.norm = cy_strdup(norm), .id = cy_strdup(comity_record_id(rec)),
                       .author = cy_strdup(author), .created = created,
                       .version = cur ? cur->version + 1 : 1, .current = true,
                       .body = json_incref((json_t *)body)};
    if (!e.norm || !e.id || !e.author || json_object_set_new(fw->ids, e.id, json_integer(-1))) {
        cy_free(e.norm);
        cy_free(e.id);
        cy_free(e.author);
        json_decref(e.body);
        return cy_fw_nomem(err);
    }
    if (cur)
        n->e[cur - n->e].current = false;
    n->e[n->ne++] = e;
    return COMITY_OK;
}

void cy_norm_catalogue_clear(struct cy_norms *n)
{
    for (size_t i = 0; i < n->ne; i++) {
        cy_free(n->e[i].norm);
        cy_free(n->e[i].id);
        cy_free(n->e[i].author);
        json_decref(n->e[i].body);
    }
    cy_free(n->e);
    n->e = NULL;
    n->ne = n->cape = 0;
}

/* ---- the query ---------------------------------------------------------------------- */

static json_t *version_json(const cy_norm_entry *e)
{
    return json_pack("{s:i, s:s, s:s, s:o, s:O}", "version", e->version, "record", e->id,
                     "author", e->author, "created", cy_fw_time_json(e->created), "body",
                     e->body);
}

/* The entry `norm` (built in and/or recorded) as JSON; NULL on OOM. */
static json_t *entry_json(const struct cy_norms *n, const char *norm, int bi)
{
    json_t *versions = json_array();
    const cy_norm_entry *cur = NULL;
    for (size_t i = 0; versions && i < n->ne; i++)
        if (strcmp(n->e[i].norm, norm) == 0) {
            cur = &n->e[i];
            if (json_array_append_new(versions, version_json(cur))) {
                json_decref(versions);
                return NULL;
            }
        }
    if (!versions)
        return NULL;
    json_t *o;
    if (cur) {
        const json_t *b = cur->body;
        o = json_pack("{s:s, s:O, s:O, s:O, s:O, s:i, s:b, s:b, s:o}", "norm", norm, "kind",
                      json_object_get(b, "kind"), "title", json_object_get(b, "title"),
                      "text", json_object_get(b, "text"), "source",
                      json_object_get(b, "source"), "version", cur->version, "builtin",
                      bi >= 0, "withdrawn", json_is_true(json_object_get(b, "withdrawn")),
                      "versions", versions);
    } else {
        char src[96];
        snprintf(src, sizeof src, BUILTIN_SOURCE, 'a' + bi);
        o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:b, s:b, s:o}", "norm", norm, "kind",
                      "voluntary-norm", "title", builtin[bi].title, "text",
                      builtin[bi].text, "source", src, "version", 0, "builtin", 1,
                      "withdrawn", 0, "versions", versions);
    }
    return o;
}

comity_err comity_framework_norms(const comity_framework *fw, char **json, comity_error *err)
{
    *json = NULL;
    const struct cy_norms *n = fw->norms;
    json_t *a = json_array(), *seen = json_object();
    bool oom = !a || !seen;
    for (int k = 0; !oom && cy_fw_norms[k]; k++)
        oom = json_array_append_new(a, entry_json(n, cy_fw_norms[k], k)) ||
              json_object_set_new(seen, cy_fw_norms[k], json_true());
    for (size_t i = 0; !oom && i < n->ne; i++) {
        if (json_object_get(seen, n->e[i].norm))
            continue;
        oom = json_array_append_new(a, entry_json(n, n->e[i].norm, -1)) ||
              json_object_set_new(seen, n->e[i].norm, json_true());
    }
    json_decref(seen);
    if (oom) {
        json_decref(a);
        return cy_fw_nomem(err);
    }
    return cy_fw_dump(json_pack("{s:o}", "norms", a), json, err);
}

/* The built-in text of one of the eleven, for clients that publish them
 * (comity norm catalogue seed): a new JSON body, NULL if not one. */
comity_err comity_framework_norm_builtin(const char *norm, char **json, comity_error *err)
{
    *json = NULL;
    int i;
    if (!norm || !builtin_index(norm, &i))
        return cy_fail(err, COMITY_ERR_NOTFOUND,
                       "norms: \"%.64s\" is not one of the eleven (13a-13k)",
                       norm ? norm : "(null)");
    char src[96];
    snprintf(src, sizeof src, BUILTIN_SOURCE, 'a' + i);
    return cy_fw_dump(json_pack("{s:s, s:s, s:s, s:s, s:s}", "norm", norm, "kind",
                                "voluntary-norm", "title", builtin[i].title, "text",
                                builtin[i].text, "source", src),
                      json, err);
}
