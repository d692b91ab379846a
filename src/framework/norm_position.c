/*
 * norm_position.c: national positions on how international law applies to
 * a state's use of ICTs, drafted inside the state and published by it.
 *
 *   norm-position-draft     an office drafts a section (one topic), sealed
 *                           to its own state alone: the inter-agency work
 *                           (foreign ministry, IT ministry, legal
 *                           institutions, law enforcement) stays inside;
 *                           refs[0] may name the draft it revises
 *   norm-position-comment   an office comments on a draft (refs[0]), sealed
 *                           to its own state alone
 *   norm-position-delegation  the state key (the bare party "pk", kept
 *                           offline) delegates publication to one of its
 *                           offices, for a period; clear or green, so that
 *                           anyone can check who may publish
 *   norm-position           a delegated office publishes a version of a
 *                           section, clear or green; a later version of the
 *                           same (state, topic) names the current one as
 *                           refs[0]; every version is kept
 *
 * Published positions are compared topic by topic across states
 * (comity_framework_norm_positions), as the public collections of national
 * positions do.  Drafts and comments are listed to the state's own offices
 * only, as envelopes (their bodies are sealed; the offices' clients open
 * them).  The positions live in the catalogue's handle part (struct
 * cy_norms) as one array walked per query.
 */
#include <string.h>

#include "framework/norms.h"

static const char *const topics[] = {
    "sovereignty", "non-intervention", "use-of-force", "peaceful-settlement",
    "due-diligence", "state-responsibility", "ihl-distinction", "ihl-proportionality",
    "ihl-precaution", "human-rights", NULL};

#define LONG(n, req) {n, CY_FK_TEXT, req, NULL, 0, CY_CASE_LONG_TEXT_MAX}
#define END {NULL, CY_FK_TEXT, false, NULL, 0, 0}

static const cy_field f_draft[] = {{"topic", CY_FK_ENUM, true, topics, 0, 0},
                                   LONG("text", true), {"note", CY_FK_TEXT, false, NULL, 0, 0},
                                   END};
static const cy_field f_comment[] = {LONG("text", true), END};
static const cy_field f_delegation[] = {{"office", CY_FK_PARTY, true, NULL, 0, 0},
                                        {"valid_from", CY_FK_TIME, true, NULL, 0, 0},
                                        {"valid_until", CY_FK_TIME, false, NULL, 0, 0}, END};
static const cy_field f_position[] = {{"topic", CY_FK_ENUM, true, topics, 0, 0},
                                      LONG("text", true),
                                      {"sources", CY_FK_TEXTS, false, NULL, 0, 64}, END};

static comity_err check_delegation(const char *t, const json_t *b, comity_error *err)
{
    json_t *u = json_object_get(b, "valid_until");
    if (u && cy_fw_time(json_string_value(u)) <=
                 cy_fw_time(json_string_value(json_object_get(b, "valid_from"))))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.valid_until: want a time after valid_from", t);
    if (!strchr(json_string_value(json_object_get(b, "office")), '.'))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.office: want an office (\"pk.mofa\"), not a state", t);
    return COMITY_OK;
}

const cy_case_type cy_norm_position_types[4] = {
    {"norm-position-draft", f_draft, NULL},
    {"norm-position-comment", f_comment, NULL},
    {"norm-position-delegation", f_delegation, check_delegation},
    {"norm-position", f_position, NULL},
};

static void pos_free(cy_norm_pos *p)
{
    cy_free(p->id);
    cy_free(p->type);
    cy_free(p->author);
    cy_free(p->state);
    cy_free(p->topic);
    json_decref(p->body);
}

void cy_norm_position_clear(struct cy_norms *n)
{
    for (size_t i = 0; i < n->np; i++)
        pos_free(&n->p[i]);
    cy_free(n->p);
    n->p = NULL;
    n->np = n->capp = 0;
}

static cy_norm_pos *find(struct cy_norms *n, const char *id)
{
    for (size_t i = n->np; i-- > 0;)
        if (!strcmp(n->p[i].id, id))
            return &n->p[i];
    return NULL;
}

/* Whether `office` holds a delegation of its state key at `at`. */
static bool delegated(const struct cy_norms *n, const char *office, int64_t at)
{
    for (size_t i = 0; i < n->np; i++) {
        const cy_norm_pos *p = &n->p[i];
        if (strcmp(p->type, "norm-position-delegation") != 0 ||
            strcmp(json_string_value(json_object_get(p->body, "office")), office) != 0)
            continue;
        int64_t from = cy_fw_time(json_string_value(json_object_get(p->body, "valid_from")));
        json_t *u = json_object_get(p->body, "valid_until");
        if (from <= at && (!u || at < cy_fw_time(json_string_value(u))))
            return true;
    }
    return false;
}

/* Whether every name in rec's `to` is `state` or one of its offices. */
static bool to_own_state(const comity_record *rec, const char *state)
{
    char st[COMITY_PARTY_MAX + 1];
    for (size_t i = 0; i < comity_record_to_count(rec); i++)
        if (strcmp(cy_fw_state_of(comity_record_to(rec, i), st), state) != 0)
            return false;
    return comity_record_to_count(rec) > 0;
}

comity_err cy_norm_position_add(comity_framework *fw, const comity_record *rec,
                                const json_t *body, int64_t created, bool dry,
                                comity_error *err)
{
    struct cy_norms *n = fw->norms;
    const char *type = comity_record_type(rec), *author = comity_record_author(rec);
    bool sealed = comity_record_is_sealed(rec) != 0;
    char st[COMITY_PARTY_MAX + 1];
    cy_fw_state_of(author, st);
    const char *ref = comity_record_refs_count(rec) ? comity_record_ref(rec, 0) : NULL;
    cy_norm_pos *prev = ref ? find(n, ref) : NULL;
    const char *topic = body ? json_string_value(json_object_get(body, "topic")) : NULL;
    bool draft = !strcmp(type, "norm-position-draft");
    int version = 0;
    if (draft || !strcmp(type, "norm-position-comment")) {
        if (!sealed || !to_own_state(rec, st))
            return cy_fail(err, COMITY_ERR_INVALID,
                           "%s: drafts and comments stay inside the state: want them "
                           "sealed to %s (or its offices) alone", type, st);
        if (!draft && (!prev || strcmp(prev->type, "norm-position-draft") != 0 ||
                       strcmp(prev->state, st) != 0))
            return cy_fail(err, COMITY_ERR_NOTFOUND,
                           "norm-position-comment.refs[0]: want a draft of %s", st);
        if (draft && ref && (!prev || strcmp(prev->type, "norm-position-draft") != 0 ||
                             strcmp(prev->state, st) != 0))
            return cy_fail(err, COMITY_ERR_NOTFOUND,
                           "norm-position-draft.refs[0]: want a draft of %s to revise", st);
    } else if (!strcmp(type, "norm-position-delegation")) {
        if (strcmp(author, st) != 0)
            return cy_fail(err, COMITY_ERR_DENIED,
                           "norm-position-delegation: only the state key (%s) delegates; "
                           "%s is an office", st, author);
        if (!body)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "norm-position-delegation: want tlp clear or green (anyone "
                           "checks who may publish)");
        char os[COMITY_PARTY_MAX + 1];
        const char *office = json_string_value(json_object_get(body, "office"));
        if (strcmp(cy_fw_state_of(office, os), st) != 0)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "norm-position-delegation.body.office: %s is not an office of %s",
                           office, st);
    } else { /* norm-position */
        if (!body)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "norm-position: a published position is public: want tlp clear "
                           "or green");
        if (!delegated(n, author, created))
            return cy_fail(err, COMITY_ERR_DENIED,
                           "norm-position: %s holds no delegation of the state key %s to "
                           "publish positions at this time", author, st);
        const cy_norm_pos *cur = NULL;
        for (size_t i = n->np; i-- > 0 && !cur;)
            if (n->p[i].current && !strcmp(n->p[i].type, "norm-position") &&
                !strcmp(n->p[i].state, st) && !strcmp(n->p[i].topic, topic))
                cur = &n->p[i];
        if (cur && (!ref || strcmp(ref, cur->id) != 0))
            return cy_fail(err, COMITY_ERR_CONFLICT,
                           "norm-position: %s's position on %s is at version %d (%.100s); a "
                           "new version must name it as refs[0]",
                           st, topic, cur->version, cur->id);
        if (!cur && ref && prev && !strcmp(prev->type, "norm-position"))
            return cy_fail(err, COMITY_ERR_CONFLICT,
                           "norm-position.refs[0]: %.100s is not %s's current position on %s",
                           ref, st, topic);
        version = cur ? cur->version + 1 : 1;
        prev = (cy_norm_pos *)cur;
    }
    if (n->np >= CY_NORM_SECTIONS_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "%s: a handle holds at most %d position records",
                       type, CY_NORM_SECTIONS_MAX);
    if (dry)
        return COMITY_OK;
    size_t pi = prev ? (size_t)(prev - n->p) : 0;
    if (cy_fw_grow((void **)&n->p, &n->capp, n->np, sizeof *n->p))
        return cy_fw_nomem(err);
    cy_norm_pos p = {.id = cy_strdup(comity_record_id(rec)), .type = cy_strdup(type),
                     .author = cy_strdup(author), .state = cy_strdup(st),
                     .topic = topic ? cy_strdup(topic) : NULL, .created = created,
                     .version = version, .current = version > 0,
                     .body = body ? json_incref((json_t *)body) : NULL};
    if (!p.id || !p.type || !p.author || !p.state || (topic && !p.topic) ||
        json_object_set_new(fw->ids, p.id, json_integer(-1))) {
        pos_free(&p);
        return cy_fw_nomem(err);
    }
    if (version > 1)
        n->p[pi].current = false;
    n->p[n->np++] = p;
    return COMITY_OK;
}

comity_err comity_framework_norm_positions(const comity_framework *fw, const char *topic,
                                           const char *viewer, char **json, comity_error *err)
{
    *json = NULL;
    if (topic && !cy_fw_in_vocab(topic, topics)) {
        char buf[512];
        return cy_fail(err, COMITY_ERR_USAGE, "norms: topic \"%.32s\": want one of %s", topic,
                       cy_fw_vocab_text(buf, sizeof buf, topics));
    }
    const struct cy_norms *n = fw->norms;
    char vs[COMITY_PARTY_MAX + 1];
    if (viewer)
        cy_fw_state_of(viewer, vs);
    json_t *out = json_array(), *drafts = json_array(), *dele = json_array();
    bool oom = !out || !drafts || !dele;
    for (int t = 0; !oom && topics[t]; t++) {
        if (topic && strcmp(topic, topics[t]) != 0)
            continue;
        json_t *states = json_array();
        oom = !states || json_array_append_new(out, json_pack("{s:s, s:o}", "topic", topics[t],
                                                              "states", states));
        for (size_t i = 0; !oom && i < n->np; i++) {
            const cy_norm_pos *p = &n->p[i];
            if (!p->current || strcmp(p->topic, topics[t]) != 0)
                continue;
            json_t *versions = json_array();
            for (size_t k = 0; versions && k < n->np; k++) {
                const cy_norm_pos *v = &n->p[k];
                if (v->version > 0 && !strcmp(v->state, p->state) && !strcmp(v->topic, p->topic) &&
                    json_array_append_new(versions,
                                          json_pack("{s:i, s:s, s:s, s:o}", "version", v->version,
                                                    "record", v->id, "author", v->author,
                                                    "created", cy_fw_time_json(v->created))))
                    json_decref(versions), versions = NULL;
            }
            oom = !versions ||
                  json_array_append_new(states,
                                        json_pack("{s:s, s:i, s:s, s:s, s:O, s:O*, s:o}", "state",
                                                  p->state, "version", p->version, "record",
                                                  p->id, "author", p->author, "text",
                                                  json_object_get(p->body, "text"), "sources",
                                                  json_object_get(p->body, "sources"),
                                                  "versions", versions));
        }
    }
    for (size_t i = 0; !oom && i < n->np; i++) {
        const cy_norm_pos *p = &n->p[i];
        if (!strcmp(p->type, "norm-position-delegation"))
            oom = json_array_append_new(dele, json_pack("{s:s, s:s, s:O, s:O}", "record", p->id,
                                                        "state", p->state, "office",
                                                        json_object_get(p->body, "office"),
                                                        "valid_from",
                                                        json_object_get(p->body, "valid_from")));
        else if (p->version == 0 && viewer && !strcmp(p->state, vs))
            oom = json_array_append_new(drafts, json_pack("{s:s, s:s, s:s, s:o}", "record", p->id,
                                                          "type", p->type, "author", p->author,
                                                          "created",
                                                          cy_fw_time_json(p->created)));
    }
    json_t *ans = oom ? NULL
                      : json_pack("{s:s?, s:O, s:O, s:O}", "topic", topic, "topics", out,
                                  "delegations", dele, "drafts", drafts);
    json_decref(out);
    json_decref(drafts);
    json_decref(dele);
    if (!ans)
        return cy_fw_nomem(err);
    return cy_fw_dump(ans, json, err);
}
