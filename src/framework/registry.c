/*
 * registry.c: which mechanisms the framework has, and which record types
 * it rules.
 *
 * Two lists of descriptors: the mechanisms core.c walks to feed a record
 * (directory, messages, cases: struct cy_fw_mech, core.h), and the case
 * mechanisms the case core walks to find a type's mechanism (consultations,
 * preservation, mutual assistance, emergency: struct cy_mech, case.h).
 * Custody and destruction records (custody.c, retention.c) belong to cases
 * of every mechanism, so they are mechanisms of the first list, with their
 * own types.
 * A new mechanism is one line here and one descriptor in its own file;
 * neither core.c nor case.c names it.  This file stands above every
 * mechanism and below core.c (core.h draws the floors), and answers the
 * public questions "is this type ruled here?" and "is this body valid?",
 * and the node's "which versions of a type's body schema do I know?"
 * (docs/federation.md, "Versions").
 */
#include <string.h>

#include "framework/custody.h"
#include "framework/norms.h"
#include "framework/spyware.h"
#include "record/types.h"

const cy_fw_mech *const cy_fw_mechs[] = {&cy_fw_mech_directory,
                                         &cy_fw_mech_messages,
                                         &cy_fw_mech_cases,
                                         &cy_fw_mech_custody,
                                         &cy_fw_mech_retention,
                                         &cy_fw_mech_norms,
                                         &cy_fw_mech_spyware};
const size_t cy_fw_nmechs = CY_ARRAY_LEN(cy_fw_mechs);

const cy_mech *const cy_case_mechs[] = {&cy_mech_consultation,
                                        &cy_mech_preservation, &cy_mech_mla,
                                        &cy_mech_emergency,
                                        &cy_mech_attribution,
                                        &cy_mech_norm_complaint, &cy_mech_norm_disclosure,
                                        &cy_mech_spyware_misuse};
const size_t cy_case_nmechs = CY_ARRAY_LEN(cy_case_mechs);

enum cy_fw_type cy_fw_type_of(const char *type)
{
    enum cy_fw_type t = cy_fw_fixed_type(type);
    if (t != CY_FW_NONE || !type)
        return t;
    if (cy_custody_type(type))
        return CY_FW_CUSTODY;
    if (!strcmp(type, cy_destruction_type.name))
        return CY_FW_DESTRUCTION;
    if (cy_norm_type(type))
        return CY_FW_NORM;
    if (cy_spy_type(type))
        return CY_FW_SPYWARE;
    return cy_case_mech_in(cy_case_mechs, cy_case_nmechs, type, NULL) || cy_case_core_type(type)
               ? CY_FW_CASE
               : CY_FW_NONE;
}

int cy_fw_schema_max(const char *type) { return cy_fw_type_of(type) != CY_FW_NONE ? 1 : 0; }

bool cy_fw_knows(const char *type, int schema)
{
    if (!type || schema < 1)
        return false;
    int max = cy_fw_schema_max(type);
    if (!max)
        max = cy_record_schema_max(type);
    return schema <= max && !cy_record_forgotten(type, schema);
}

int comity_framework_handles(const char *type)
{
    return cy_fw_type_of(type) != CY_FW_NONE;
}

comity_err comity_framework_check_body(const char *type, const char *body,
                                       size_t len, comity_error *err)
{
    enum cy_fw_type t = cy_fw_type_of(type);
    if (t == CY_FW_NONE)
        return cy_fail(err, COMITY_ERR_USAGE,
                       "framework: \"%.48s\" is not a framework record type",
                       type ? type : "(null)");
    json_t *j;
    comity_err rc = cy_fw_parse_body(type, body, len, &j, err);
    if (rc)
        return rc;
    const cy_case_type *ct = NULL;
    if (t == CY_FW_CASE) {
        if (!(ct = cy_case_core_type(type)))
            cy_case_mech_in(cy_case_mechs, cy_case_nmechs, type, &ct);
        rc = cy_case_check_body(ct, j, err);
    } else if (t == CY_FW_CUSTODY) {
        rc = cy_case_check_body(cy_custody_type(type), j, err);
    } else if (t == CY_FW_DESTRUCTION) {
        rc = cy_case_check_body(&cy_destruction_type, j, err);
    } else if (t == CY_FW_NORM) {
        rc = cy_case_check_body(cy_norm_type(type), j, err);
    } else if (t == CY_FW_SPYWARE) {
        rc = cy_case_check_body(cy_spy_type(type), j, err);
    } else {
        rc = cy_fw_check(t, j, err);
    }
    json_decref(j);
    return rc;
}

comity_err comity_framework_case_types(char **json, comity_error *err)
{
    *json = NULL;
    json_t *a = cy_case_schemas(cy_case_mechs, cy_case_nmechs);
    json_t *o = a ? json_pack("{s:o}", "mechanisms", a) : NULL;
    if (!o)
        return cy_fw_nomem(err);
    return cy_fw_dump(o, json, err);
}
