/*
 * schema.c: the body schemas of the framework's record types.
 *
 * Each ruled type (poc, notification, request, ack, reply, close, ping,
 * pong) has a fixed set of fields; unknown fields are refused, so that two
 * nodes never read the same body differently.  Every refusal names the
 * field and the rule ("notification.body.severity: want an integer 1-5").
 * Bodies are parsed with jansson (duplicate keys refused), after a size cap
 * (COMITY_FW_BODY_MAX) and a nesting cap (COMITY_FW_DEPTH_MAX) checked by a
 * byte scan, so that a hostile body cannot make the parser recurse deeply.
 * docs/framework.md has one table per schema.
 */
#include <string.h>

#include "framework/framework.h"

/* ---- fixed vocabularies ---------------------------------------------- */

const char *const cy_fw_poc_kinds[] = {"diplomatic", "technical", "le-24x7",
                                       "central-authority", "ci-authority",
                                       NULL};

/* Critical-infrastructure sectors: the brief's list (close to the EU NIS2
 * and US PPD-21 sector lists), see docs/framework.md. */
const char *const cy_fw_sectors[] = {
    "energy", "water", "health", "finance", "transport", "communications",
    "government", "food", "chemical", "nuclear", "space",
    "digital-infrastructure", "manufacturing", "emergency-services", NULL};

/* The eleven norms of the UN GGE 2015 report, para 13(a)-(k). */
const char *const cy_fw_norms[] = {"13a", "13b", "13c", "13d", "13e", "13f",
                                    "13g", "13h", "13i", "13j", "13k", NULL};
static const char *const request_norms[] = {"13c", "13h", NULL};
static const char *const request_kinds[] = {"information", "assistance",
                                            "mitigation", NULL};
static const char *const channel_types[] = {"email", "phone", "fax", "url",
                                            "comity", "other", NULL};
static const char *const outcomes[] = {"answered", "declined", NULL};

#define TEXT_MAX 4096          /* bytes in a short text field */
#define LONG_TEXT_MAX 65536    /* bytes in a reply's text */
#define NAME_MAX_ 256          /* organisation, name, title */
#define CHANNELS_MAX 16
#define CHANNEL_VALUE_MAX 512
#define LANGS_MAX 16
#define TZ_MAX 64
#define INDICATOR_REFS_MAX 1024

static const struct {
    const char *name;
    enum cy_fw_type t;
} types[] = {{"poc", CY_FW_POC},     {"notification", CY_FW_NOTIFICATION},
             {"request", CY_FW_REQUEST}, {"ack", CY_FW_ACK},
             {"reply", CY_FW_REPLY}, {"close", CY_FW_CLOSE},
             {"ping", CY_FW_PING},   {"pong", CY_FW_PONG},
             {"delivered", CY_FW_DELIVERED}};

enum cy_fw_type cy_fw_fixed_type(const char *type)
{
    for (size_t i = 0; type && i < CY_ARRAY_LEN(types); i++)
        if (strcmp(types[i].name, type) == 0)
            return types[i].t;
    return CY_FW_NONE;
}

static const char *type_name(enum cy_fw_type t)
{
    for (size_t i = 0; i < CY_ARRAY_LEN(types); i++)
        if (types[i].t == t)
            return types[i].name;
    return "?";
}

/* ---- parsing ---------------------------------------------------------- */

/* Deepest nesting of [ and { outside strings; stops counting past cap. */
static size_t json_depth(const char *s, size_t len, size_t cap)
{
    size_t d = 0, max = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '[' || c == '{') {
            if (++d > max && (max = d) > cap)
                return max;
        } else if ((c == ']' || c == '}') && d > 0) {
            d--;
        }
    }
    return max;
}

comity_err cy_fw_parse_body(const char *type, const char *body, size_t len,
                            json_t **out, comity_error *err)
{
    *out = NULL;
    if (!body)
        return cy_fail(err, COMITY_ERR_INVALID, "%s.body: missing", type);
    if (len > COMITY_FW_BODY_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG,
                       "%s.body: %zu bytes, more than %u", type, len,
                       (unsigned)COMITY_FW_BODY_MAX);
    if (json_depth(body, len, COMITY_FW_DEPTH_MAX) > COMITY_FW_DEPTH_MAX)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body: nested deeper than %d", type,
                       COMITY_FW_DEPTH_MAX);
    json_error_t je;
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        return cy_fail(err, COMITY_ERR_INVALID, "%s.body: %s at byte %d",
                       type, je.text, je.position);
    if (!json_is_object(j)) {
        json_decref(j);
        return cy_fail(err, COMITY_ERR_INVALID, "%s.body: want a JSON object",
                       type);
    }
    *out = j;
    return COMITY_OK;
}

/* ---- field checks ------------------------------------------------------ */

static comity_err only_fields(const char *t, const json_t *o,
                              const char *const *allowed, comity_error *err)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v) {
        if (!cy_fw_in_vocab(k, allowed))
            return cy_fail(err, COMITY_ERR_INVALID,
                           "%s.body.%.64s: unknown field", t, k);
    }
    return COMITY_OK;
}

/* A string field of 1..max bytes; *s NULL when absent and not required. */
static comity_err text(const char *t, const json_t *o, const char *f,
                       size_t max, bool required, const char **s,
                       comity_error *err)
{
    *s = NULL;
    json_t *v = json_object_get(o, f);
    if (!v) {
        if (required)
            return cy_fail(err, COMITY_ERR_INVALID, "%s.body.%s: missing", t, f);
        return COMITY_OK;
    }
    if (!json_is_string(v) || json_string_length(v) == 0 ||
        json_string_length(v) > max)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.%s: want a string of 1-%zu bytes", t, f, max);
    *s = json_string_value(v);
    return COMITY_OK;
}

static comity_err one_of(const char *t, const json_t *o, const char *f,
                         const char *const *list, bool required,
                         comity_error *err)
{
    json_t *v = json_object_get(o, f);
    if (!v && !required)
        return COMITY_OK;
    if (!v || !json_is_string(v) || !cy_fw_in_vocab(json_string_value(v), list)) {
        char buf[512];
        return cy_fail(err, COMITY_ERR_INVALID, "%s.body.%s: want one of %s",
                       t, f, cy_fw_vocab_text(buf, sizeof buf, list));
    }
    return COMITY_OK;
}

static comity_err time_field(const char *t, const json_t *o, const char *f,
                             bool required, int64_t *ms, comity_error *err)
{
    *ms = -1;
    json_t *v = json_object_get(o, f);
    if (!v && !required)
        return COMITY_OK;
    if (!v || !json_is_string(v) || json_string_length(v) > 64 ||
        (*ms = cy_fw_time(json_string_value(v))) < 0)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.%s: want an RFC 3339 time", t, f);
    return COMITY_OK;
}

static comity_err severity(const char *t, const json_t *o, bool required,
                           comity_error *err)
{
    json_t *v = json_object_get(o, "severity");
    if (!v && !required)
        return COMITY_OK;
    if (!v || !json_is_integer(v) || json_integer_value(v) < 1 ||
        json_integer_value(v) > 5)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.severity: want an integer 1-5", t);
    return COMITY_OK;
}

static bool is_alpha(char c) { return (c | 32) >= 'a' && (c | 32) <= 'z'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* IANA time zone name syntax: "UTC", or Area/Location[/Sub] with segments of
 * letters, digits, '_', '-', '+' starting with a letter. */
static bool tz_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > TZ_MAX)
        return false;
    bool seg_start = true;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (seg_start) {
            if (!is_alpha(c))
                return false;
            seg_start = false;
        } else if (c == '/') {
            seg_start = true;
        } else if (!is_alpha(c) && !is_digit(c) && c != '_' && c != '-' &&
                   c != '+') {
            return false;
        }
    }
    return !seg_start;
}

/* BCP 47-ish: a primary subtag of 2-3 letters, then subtags of 1-8 letters
 * or digits separated by '-'. */
static bool lang_valid(const char *s)
{
    size_t n = strlen(s), i = 0;
    while (i < n && is_alpha(s[i]))
        i++;
    if (i < 2 || i > 3)
        return false;
    while (i < n) {
        if (s[i] != '-')
            return false;
        size_t j = ++i;
        while (i < n && (is_alpha(s[i]) || is_digit(s[i])))
            i++;
        if (i - j < 1 || i - j > 8)
            return false;
    }
    return true;
}

static comity_err channels(const char *t, const json_t *o, comity_error *err)
{
    static const char *const ch_fields[] = {"type", "value", NULL};
    json_t *a = json_object_get(o, "channels");
    if (!json_is_array(a) || json_array_size(a) == 0 ||
        json_array_size(a) > CHANNELS_MAX)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.channels: want an array of 1-%d channels", t,
                       CHANNELS_MAX);
    size_t i;
    json_t *c;
    json_array_foreach(a, i, c) {
        char f[64];
        snprintf(f, sizeof f, "channels[%zu]", i);
        if (!json_is_object(c))
            return cy_fail(err, COMITY_ERR_INVALID,
                           "%s.body.%s: want an object {type, value}", t, f);
        const char *k;
        json_t *v;
        json_object_foreach(c, k, v) {
            if (!cy_fw_in_vocab(k, ch_fields))
                return cy_fail(err, COMITY_ERR_INVALID,
                               "%s.body.%s.%.64s: unknown field", t, f, k);
        }
        json_t *ty = json_object_get(c, "type");
        if (!json_is_string(ty) || !cy_fw_in_vocab(json_string_value(ty), channel_types)) {
            char buf[256];
            return cy_fail(err, COMITY_ERR_INVALID, "%s.body.%s.type: want one of %s",
                           t, f, cy_fw_vocab_text(buf, sizeof buf, channel_types));
        }
        json_t *vv = json_object_get(c, "value");
        if (!json_is_string(vv) || json_string_length(vv) == 0 ||
            json_string_length(vv) > CHANNEL_VALUE_MAX)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "%s.body.%s.value: want a string of 1-%d bytes", t,
                           f, CHANNEL_VALUE_MAX);
        const char *ts = json_string_value(ty), *vs = json_string_value(vv);
        if (strcmp(ts, "email") == 0) {
            const char *at = strchr(vs, '@');
            if (!at || at == vs || !at[1] || strchr(at + 1, '@') ||
                strpbrk(vs, " \t\r\n<>"))
                return cy_fail(err, COMITY_ERR_INVALID,
                               "%s.body.%s.value: want an e-mail address", t, f);
        } else if (strcmp(ts, "phone") == 0 || strcmp(ts, "fax") == 0) {
            size_t nd = 0;
            bool ok = vs[0] == '+';
            for (size_t k2 = 1; ok && vs[k2]; k2++) {
                if (is_digit(vs[k2]))
                    nd++;
                else if (vs[k2] != ' ' && vs[k2] != '-')
                    ok = false;
            }
            if (!ok || nd < 4 || nd > 15)
                return cy_fail(err, COMITY_ERR_INVALID,
                               "%s.body.%s.value: want an international number "
                               "(\"+\" and 4-15 digits)", t, f);
        } else if (strcmp(ts, "url") == 0) {
            if (strncmp(vs, "https://", 8) != 0 || !vs[8] ||
                strpbrk(vs, " \t\r\n"))
                return cy_fail(err, COMITY_ERR_INVALID,
                               "%s.body.%s.value: want an https:// URL", t, f);
        } else if (strcmp(ts, "comity") == 0) {
            if (!comity_party_valid(vs, NULL))
                return cy_fail(err, COMITY_ERR_INVALID,
                               "%s.body.%s.value: want a party name", t, f);
        }
    }
    return COMITY_OK;
}

static comity_err languages(const char *t, const json_t *o, comity_error *err)
{
    json_t *a = json_object_get(o, "languages");
    if (!json_is_array(a) || json_array_size(a) == 0 ||
        json_array_size(a) > LANGS_MAX)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.languages: want an array of 1-%d language tags",
                       t, LANGS_MAX);
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) {
        if (!json_is_string(v) || json_string_length(v) > 35 ||
            !lang_valid(json_string_value(v)))
            return cy_fail(err, COMITY_ERR_INVALID,
                           "%s.body.languages[%zu]: want a BCP 47 language tag "
                           "(\"en\", \"fr-CA\")", t, i);
    }
    return COMITY_OK;
}

/* A STIX id "<type>--<uuid>". */
static bool stix_id_valid(const char *s)
{
    const char *dd = strstr(s, "--");
    if (!dd || dd == s || dd - s > 64)
        return false;
    for (const char *p = s; p < dd; p++)
        if (!((*p >= 'a' && *p <= 'z') || is_digit(*p) || *p == '-'))
            return false;
    return cy_uuid_valid(dd + 2, strlen(dd + 2));
}

/* indicators: a STIX 2.1 bundle object, or an array of STIX ids. */
static comity_err indicators(const char *t, const json_t *o, comity_error *err)
{
    json_t *v = json_object_get(o, "indicators");
    if (!v)
        return COMITY_OK;
    if (json_is_array(v)) {
        if (json_array_size(v) == 0 || json_array_size(v) > INDICATOR_REFS_MAX)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "%s.body.indicators: want 1-%d STIX ids", t,
                           INDICATOR_REFS_MAX);
        size_t i;
        json_t *s;
        json_array_foreach(v, i, s) {
            if (!json_is_string(s) || !stix_id_valid(json_string_value(s)))
                return cy_fail(err, COMITY_ERR_INVALID,
                               "%s.body.indicators[%zu]: want a STIX id "
                               "(\"indicator--<uuid>\")", t, i);
        }
        return COMITY_OK;
    }
    json_t *ty = json_object_get(v, "type"), *id = json_object_get(v, "id"),
           *objs = json_object_get(v, "objects");
    if (!json_is_object(v) || !json_is_string(ty) ||
        strcmp(json_string_value(ty), "bundle") != 0)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.indicators: want a STIX bundle or an array of "
                       "STIX ids", t);
    if (!json_is_string(id) || strncmp(json_string_value(id), "bundle--", 8) != 0 ||
        !stix_id_valid(json_string_value(id)))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.indicators.id: want \"bundle--<uuid>\"", t);
    if (objs && !json_is_array(objs))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.indicators.objects: want an array", t);
    size_t i;
    json_t *ob;
    json_array_foreach(objs, i, ob) {
        json_t *oid = json_object_get(ob, "id");
        if (!json_is_object(ob) || !json_is_string(json_object_get(ob, "type")) ||
            !json_is_string(oid) || !stix_id_valid(json_string_value(oid)))
            return cy_fail(err, COMITY_ERR_INVALID,
                           "%s.body.indicators.objects[%zu]: want a STIX object "
                           "with type and id", t, i);
    }
    return COMITY_OK;
}

/* ---- schemas ------------------------------------------------------------ */

static comity_err check_poc(const char *t, const json_t *b, comity_error *err)
{
    static const char *const all[] = {"state", "kind", "party", "organisation",
                                      "name", "title", "channels", "time_zone",
                                      "languages", "valid_from", "valid_until",
                                      "withdrawn", "reason", NULL};
    static const char *const wd[] = {"state", "kind", "withdrawn", "reason",
                                     NULL};
    comity_err rc;
    const char *s;
    json_t *w = json_object_get(b, "withdrawn");
    if (w && !json_is_true(w))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.withdrawn: want true (or leave it out)", t);
    if (w) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)b, k, v) {
            if (!cy_fw_in_vocab(k, wd))
                return cy_fail(err, COMITY_ERR_INVALID,
                               "%s.body.%.64s: a withdrawal has only state, "
                               "kind and reason", t, k);
        }
    } else if ((rc = only_fields(t, b, all, err))) {
        return rc;
    }
    if ((rc = text(t, b, "state", COMITY_PARTY_MAX, false, &s, err)))
        return rc;
    if (s && (strchr(s, '.') || !comity_party_valid(s, NULL)))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.state: want a state code (\"pk\")", t);
    if ((rc = one_of(t, b, "kind", cy_fw_poc_kinds, true, err)))
        return rc;
    if ((rc = text(t, b, "reason", TEXT_MAX, false, &s, err)) || w)
        return rc;
    if ((rc = text(t, b, "party", COMITY_PARTY_MAX, false, &s, err)))
        return rc;
    if (s && !comity_party_valid(s, NULL))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.party: want a party name (\"pk.pkcert\")", t);
    if ((rc = text(t, b, "organisation", NAME_MAX_, true, &s, err)) ||
        (rc = text(t, b, "name", NAME_MAX_, false, &s, err)) ||
        (rc = text(t, b, "title", NAME_MAX_, false, &s, err)) ||
        (rc = channels(t, b, err)) ||
        (rc = text(t, b, "time_zone", TZ_MAX, true, &s, err)))
        return rc;
    if (!tz_valid(s))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.time_zone: want an IANA time zone name "
                       "(\"Asia/Karachi\", \"UTC\")", t);
    if ((rc = languages(t, b, err)))
        return rc;
    int64_t from, until;
    if ((rc = time_field(t, b, "valid_from", true, &from, err)) ||
        (rc = time_field(t, b, "valid_until", false, &until, err)))
        return rc;
    if (until >= 0 && until <= from)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.valid_until: want a time after valid_from", t);
    return COMITY_OK;
}

static comity_err check_notification(const char *t, const json_t *b,
                                     comity_error *err)
{
    static const char *const all[] = {"severity", "sector", "summary",
                                      "indicators", "norm", "requested_action",
                                      "respond_by", "case", NULL};
    comity_err rc;
    const char *s;
    int64_t ms;
    if ((rc = only_fields(t, b, all, err)) || (rc = severity(t, b, true, err)) ||
        (rc = one_of(t, b, "sector", cy_fw_sectors, true, err)) ||
        (rc = text(t, b, "summary", TEXT_MAX, true, &s, err)) ||
        (rc = indicators(t, b, err)) ||
        (rc = one_of(t, b, "norm", cy_fw_norms, false, err)) ||
        (rc = text(t, b, "requested_action", TEXT_MAX, false, &s, err)) ||
        (rc = time_field(t, b, "respond_by", false, &ms, err)) ||
        (rc = text(t, b, "case", 128, false, &s, err)))
        return rc;
    return COMITY_OK;
}

static comity_err check_request(const char *t, const json_t *b,
                                comity_error *err)
{
    static const char *const all[] = {"kind", "norm", "asked", "severity",
                                      "sector", "indicators", "respond_by",
                                      "case", NULL};
    comity_err rc;
    const char *s;
    int64_t ms;
    if ((rc = only_fields(t, b, all, err)) ||
        (rc = one_of(t, b, "kind", request_kinds, true, err)) ||
        (rc = one_of(t, b, "norm", request_norms, true, err)) ||
        (rc = text(t, b, "asked", TEXT_MAX, true, &s, err)) ||
        (rc = severity(t, b, false, err)) ||
        (rc = one_of(t, b, "sector", cy_fw_sectors, false, err)) ||
        (rc = indicators(t, b, err)) ||
        (rc = time_field(t, b, "respond_by", false, &ms, err)) ||
        (rc = text(t, b, "case", 128, false, &s, err)))
        return rc;
    return COMITY_OK;
}

static comity_err check_reply(const char *t, const json_t *b,
                              comity_error *err)
{
    static const char *const all[] = {"outcome", "text", "reasons", NULL};
    comity_err rc;
    const char *s;
    if ((rc = only_fields(t, b, all, err)) ||
        (rc = one_of(t, b, "outcome", outcomes, true, err)))
        return rc;
    bool declined = strcmp(json_string_value(json_object_get(b, "outcome")),
                           "declined") == 0;
    if (declined && !json_object_get(b, "reasons"))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.reasons: a decline must give reasons", t);
    if ((rc = text(t, b, "text", LONG_TEXT_MAX, !declined, &s, err)) ||
        (rc = text(t, b, "reasons", TEXT_MAX, declined, &s, err)))
        return rc;
    return COMITY_OK;
}

static comity_err check_note_only(const char *t, const json_t *b,
                                  const char *field, comity_error *err)
{
    const char *const all[] = {field, NULL};
    comity_err rc;
    const char *s;
    if ((rc = only_fields(t, b, all, err)) ||
        (rc = text(t, b, field, TEXT_MAX, false, &s, err)))
        return rc;
    return COMITY_OK;
}

static comity_err check_ping(const char *t, const json_t *b, comity_error *err)
{
    static const char *const all[] = {"announced", "kind", "round", NULL};
    comity_err rc;
    const char *s;
    if ((rc = only_fields(t, b, all, err)))
        return rc;
    if (!json_is_boolean(json_object_get(b, "announced")))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.announced: want true or false", t);
    if ((rc = one_of(t, b, "kind", cy_fw_poc_kinds, false, err)) ||
        (rc = text(t, b, "round", 128, false, &s, err)))
        return rc;
    return COMITY_OK;
}

/* delivered: {"party": <the recipient handed the message>}, nothing else
 * (that the party is the record's author is the message rule's,
 * messages.c, which sees the record). */
static comity_err check_delivered(const char *t, const json_t *b, comity_error *err)
{
    static const char *const all[] = {"party", NULL};
    comity_err rc;
    const char *s;
    if ((rc = only_fields(t, b, all, err)) ||
        (rc = text(t, b, "party", COMITY_PARTY_MAX, true, &s, err)))
        return rc;
    if (!comity_party_valid(s, NULL))
        return cy_fail(err, COMITY_ERR_INVALID, "%s.body.party: '%.64s' is not a party name", t,
                       s);
    return COMITY_OK;
}

comity_err cy_fw_check(enum cy_fw_type ty, const json_t *b, comity_error *err)
{
    const char *t = type_name(ty);
    switch (ty) {
    case CY_FW_POC: return check_poc(t, b, err);
    case CY_FW_NOTIFICATION: return check_notification(t, b, err);
    case CY_FW_REQUEST: return check_request(t, b, err);
    case CY_FW_ACK: return check_note_only(t, b, "note", err);
    case CY_FW_REPLY: return check_reply(t, b, err);
    case CY_FW_CLOSE: return check_note_only(t, b, "reason", err);
    case CY_FW_PING: return check_ping(t, b, err);
    case CY_FW_PONG: return check_note_only(t, b, "note", err);
    case CY_FW_DELIVERED: return check_delivered(t, b, err);
    case CY_FW_CASE:        /* case.c checks its own types, */
    case CY_FW_CUSTODY:     /* custody.c its own */
    case CY_FW_DESTRUCTION: /* and retention.c its own, */
    case CY_FW_NORM:        /* the norm files theirs, */
    case CY_FW_SPYWARE:     /* spyware.c its own */
        return COMITY_OK;
    case CY_FW_NONE: break;
    }
    return cy_fail(err, COMITY_ERR_USAGE, "framework: not a framework type");
}
