/*
 * party.c: party names (specs/records.md).
 *
 * `<state>[.<office>...]`: labels of lowercase ASCII letters, digits and
 * '-', separated by single dots, at most COMITY_PARTY_MAX bytes.  The first
 * label is the state: a two-letter ISO 3166-1 code or the code of an
 * international body (letters only, 2 to 8 of them).
 */
#include <string.h>

#include "base/base.h"

int comity_party_valid(const char *name, comity_error *err)
{
    if (!name || !*name) {
        cy_fail(err, COMITY_ERR_INVALID, "party name is empty");
        return 0;
    }
    size_t len = strlen(name);
    if (len > COMITY_PARTY_MAX) {
        cy_fail(err, COMITY_ERR_INVALID, "party name longer than %d bytes", COMITY_PARTY_MAX);
        return 0;
    }
    size_t label_start = 0;
    for (size_t i = 0; i <= len; i++) {
        char c = name[i];
        if (c == '.' || c == 0) {
            size_t ll = i - label_start;
            if (ll == 0) {
                cy_fail(err, COMITY_ERR_INVALID, "party name '%s': empty label at byte %zu", name, i);
                return 0;
            }
            if (name[label_start] == '-' || name[i - 1] == '-') {
                cy_fail(err, COMITY_ERR_INVALID,
                        "party name '%s': label starts or ends with '-' at byte %zu", name, label_start);
                return 0;
            }
            if (label_start == 0) {
                if (ll < 2 || ll > 8) {
                    cy_fail(err, COMITY_ERR_INVALID,
                            "party name '%s': state code must be 2 to 8 letters", name);
                    return 0;
                }
                for (size_t k = 0; k < ll; k++)
                    if (name[k] < 'a' || name[k] > 'z') {
                        cy_fail(err, COMITY_ERR_INVALID,
                                "party name '%s': state code has a non-letter at byte %zu", name, k);
                        return 0;
                    }
            }
            label_start = i + 1;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
            cy_fail(err, COMITY_ERR_INVALID,
                    "party name '%s': character 0x%02x at byte %zu is not a-z, 0-9, '-' or '.'",
                    name, (unsigned char)c, i);
            return 0;
        }
    }
    return 1;
}
