/*
 * object.c: checks one STIX 2.1 object (see object.h for what and why).
 *
 * The table of required properties per type mirrors the "required" lists
 * of the OASIS STIX 2.1 JSON schemas (sdos/, sros/, observables/, common/);
 * for observables whose schema requires one of several properties (e.g.
 * `value`) the first alternative is listed.  A refusal names the first
 * problem found, so a TAXII status resource can tell the client why.
 */
#include <string.h>

#include "stix/object.h"

enum kind { K_SDO, K_SRO, K_SCO, K_MARKING, K_META };

struct type_rule {
    const char *type;
    enum kind kind;
    const char *required[4];
};

static const struct type_rule RULES[] = {
    {"attack-pattern", K_SDO, {"name"}},
    {"campaign", K_SDO, {"name"}},
    {"course-of-action", K_SDO, {"name"}},
    {"grouping", K_SDO, {"context", "object_refs"}},
    {"identity", K_SDO, {"name"}},
    {"incident", K_SDO, {"name"}},
    {"indicator", K_SDO, {"pattern", "pattern_type", "valid_from"}},
    {"infrastructure", K_SDO, {"name"}},
    {"intrusion-set", K_SDO, {"name"}},
    {"location", K_SDO, {0}},
    {"malware", K_SDO, {"is_family"}},
    {"malware-analysis", K_SDO, {"product"}},
    {"note", K_SDO, {"content", "object_refs"}},
    {"observed-data", K_SDO, {"first_observed", "last_observed", "number_observed"}},
    {"opinion", K_SDO, {"object_refs", "opinion"}},
    {"report", K_SDO, {"name", "object_refs", "published"}},
    {"threat-actor", K_SDO, {"name"}},
    {"tool", K_SDO, {"name"}},
    {"vulnerability", K_SDO, {"name"}},
    {"relationship", K_SRO, {"relationship_type", "source_ref", "target_ref"}},
    {"sighting", K_SRO, {"sighting_of_ref"}},
    {"artifact", K_SCO, {0}},
    {"autonomous-system", K_SCO, {"number"}},
    {"directory", K_SCO, {"path"}},
    {"domain-name", K_SCO, {"value"}},
    {"email-addr", K_SCO, {"value"}},
    {"email-message", K_SCO, {0}},
    {"file", K_SCO, {0}},
    {"ipv4-addr", K_SCO, {"value"}},
    {"ipv6-addr", K_SCO, {"value"}},
    {"mac-addr", K_SCO, {"value"}},
    {"mutex", K_SCO, {"name"}},
    {"network-traffic", K_SCO, {"protocols"}},
    {"process", K_SCO, {0}},
    {"software", K_SCO, {"name"}},
    {"url", K_SCO, {"value"}},
    {"user-account", K_SCO, {0}},
    {"windows-registry-key", K_SCO, {0}},
    {"x509-certificate", K_SCO, {0}},
    {"marking-definition", K_MARKING, {0}},
    {"language-content", K_META, {"object_ref", "contents"}},
    {"extension-definition", K_META, {"name", "schema", "version", "extension_types"}},
};

bool cy_stix_type_valid(const char *s, size_t len)
{
    if (len < 3 || len > 250 || s[0] < 'a' || s[0] > 'z')
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
        if (!ok || (c == '-' && i > 0 && s[i - 1] == '-'))
            return false;
    }
    return true;
}

bool cy_stix_id_valid(const char *s, size_t len)
{
    if (len < 3 + 2 + 36)
        return false;
    size_t tl = len - 36 - 2;
    const char *u = s + tl + 2;
    /* the STIX schema's identifier pattern: version 1-5, RFC 4122 variant */
    return s[tl] == '-' && s[tl + 1] == '-' && s[tl - 1] != '-' &&
           cy_stix_type_valid(s, tl) && cy_uuid_valid(u, 36) && u[14] >= '1' && u[14] <= '5' &&
           strchr("89ab", u[19]) != NULL;
}

comity_err cy_stix_time_parse_us(const char *s, size_t len, int64_t *us, comity_error *err)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    if (len < 20 || s[len - 1] != 'Z')
        return cy_fail(err, COMITY_ERR_INVALID, "timestamp must be UTC ending in 'Z'");
    for (size_t i = 0; i < 19; i++) {
        bool ok = shape[i] == 'd' ? (s[i] >= '0' && s[i] <= '9') : s[i] == shape[i];
        if (!ok)
            return cy_fail(err, COMITY_ERR_INVALID, "timestamp: unexpected character at byte %zu", i);
    }
    int64_t frac = 0;
    if (len > 20) {
        if (s[19] != '.' || len == 21)
            return cy_fail(err, COMITY_ERR_INVALID, "timestamp: bad fraction at byte 19");
        int64_t scale = 100000;
        for (size_t i = 20; i < len - 1; i++) {
            if (s[i] < '0' || s[i] > '9')
                return cy_fail(err, COMITY_ERR_INVALID, "timestamp: not a digit at byte %zu", i);
            if (scale > 0) {
                frac += (s[i] - '0') * scale;
                scale /= 10;
            }
        }
    }
    char whole[21];
    memcpy(whole, s, 19);
    whole[19] = 'Z';
    whole[20] = 0;
    int64_t ms;
    comity_err rc = cy_time_parse(whole, 20, false, &ms, err);
    if (rc)
        return cy_wrap(err, "timestamp");
    int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    *us = secs * 1000000 + frac;
    return COMITY_OK;
}

void cy_stix_time_format_us(char out[CY_STIX_TIME_BUF], int64_t us)
{
    int64_t ms = us >= 0 ? us / 1000 : -((-us + 999) / 1000);
    int micro = (int)(us - ms * 1000);
    char tmp[CY_TIME_BUF];
    cy_time_format_ms(tmp, ms);
    /* tmp: "YYYY-MM-DDTHH:MM:SS.mmmZ" */
    memcpy(out, tmp, 23);
    micro %= 1000;
    out[23] = (char)('0' + micro / 100);
    out[24] = (char)('0' + micro / 10 % 10);
    out[25] = (char)('0' + micro % 10);
    out[26] = 'Z';
    out[27] = 0;
}

static comity_err check_time(const json_t *obj, const char *type, const char *name,
                             bool required, const char **text, int64_t *us, comity_error *err)
{
    const json_t *v = json_object_get(obj, name);
    *text = NULL;
    if (!v) {
        if (required)
            return cy_fail(err, COMITY_ERR_INVALID, "%s: missing required '%s'", type, name);
        return COMITY_OK;
    }
    if (!json_is_string(v))
        return cy_fail(err, COMITY_ERR_INVALID, "%s: '%s' is not a string", type, name);
    const char *s = json_string_value(v);
    if (cy_stix_time_parse_us(s, json_string_length(v), us, err))
        return cy_wrap(err, "%s: '%s'", type, name);
    *text = s;
    return COMITY_OK;
}

comity_err cy_stix_object_check(const json_t *obj, cy_stix_info *info, comity_error *err)
{
    memset(info, 0, sizeof *info);
    if (!json_is_object(obj))
        return cy_fail(err, COMITY_ERR_INVALID, "object: not a JSON object");
    const json_t *jt = json_object_get(obj, "type");
    if (!json_is_string(jt))
        return cy_fail(err, COMITY_ERR_INVALID, "object: missing required 'type'");
    const char *type = json_string_value(jt);
    size_t tl = json_string_length(jt);
    if (!cy_stix_type_valid(type, tl) || strlen(type) != tl)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "object: 'type' is not 3-250 characters of a-z, 0-9 and single '-'");
    if (strcmp(type, "bundle") == 0)
        return cy_fail(err, COMITY_ERR_INVALID, "object: a bundle is not a STIX object");
    const json_t *jid = json_object_get(obj, "id");
    if (!json_is_string(jid))
        return cy_fail(err, COMITY_ERR_INVALID, "%s: missing required 'id'", type);
    const char *id = json_string_value(jid);
    size_t il = json_string_length(jid);
    if (!cy_stix_id_valid(id, il) || strlen(id) != il)
        return cy_fail(err, COMITY_ERR_INVALID, "%s: 'id' is not <type>--<lowercase UUID>", type);
    if (il != tl + 38 || memcmp(id, type, tl) != 0)
        return cy_fail(err, COMITY_ERR_INVALID, "%s: 'id' does not start with its type", type);

    const struct type_rule *rule = NULL;
    for (size_t i = 0; i < CY_ARRAY_LEN(RULES); i++)
        if (strcmp(RULES[i].type, type) == 0) {
            rule = &RULES[i];
            break;
        }
    enum kind kind;
    if (rule)
        kind = rule->kind;
    else
        kind = json_object_get(obj, "created") ? K_SDO : K_SCO;

    const json_t *sv = json_object_get(obj, "spec_version");
    if (!sv && kind != K_SCO)
        return cy_fail(err, COMITY_ERR_INVALID, "%s: missing required 'spec_version'", type);
    if (sv && (!json_is_string(sv) || strcmp(json_string_value(sv), "2.1") != 0))
        return cy_fail(err, COMITY_ERR_INVALID, "%s: 'spec_version' must be \"2.1\"", type);

    const char *created = NULL, *modified = NULL;
    int64_t c_us = 0, m_us = 0;
    bool need_c = kind != K_SCO, need_m = kind == K_SDO || kind == K_SRO || kind == K_META;
    comity_err rc;
    if ((rc = check_time(obj, type, "created", need_c, &created, &c_us, err)) ||
        (rc = check_time(obj, type, "modified", need_m, &modified, &m_us, err)))
        return rc;
    if (modified && !created)
        return cy_fail(err, COMITY_ERR_INVALID, "%s: 'modified' without 'created'", type);
    if (modified && m_us < c_us)
        return cy_fail(err, COMITY_ERR_INVALID, "%s: 'modified' is before 'created'", type);
    if (rule)
        for (size_t i = 0; i < CY_ARRAY_LEN(rule->required) && rule->required[i]; i++)
            if (!json_object_get(obj, rule->required[i]))
                return cy_fail(err, COMITY_ERR_INVALID, "%s: missing required '%s'", type,
                               rule->required[i]);
    const json_t *cbr = json_object_get(obj, "created_by_ref");
    if (cbr && (!json_is_string(cbr) ||
                strncmp(json_string_value(cbr), "identity--", 10) != 0 ||
                !cy_stix_id_valid(json_string_value(cbr), json_string_length(cbr))))
        return cy_fail(err, COMITY_ERR_INVALID, "%s: 'created_by_ref' is not an identity id", type);

    info->id = id;
    info->type = type;
    info->spec_version = sv ? json_string_value(sv) : "2.1";
    info->version = modified ? modified : created;
    info->version_us = modified ? m_us : created ? c_us : 0;
    return COMITY_OK;
}
