/*
 * types.c: the record types the record layer itself knows (see types.h).
 *
 * Only the types no module above rules: the framework's types (messages,
 * the directory, every case mechanism's) are the framework's to name
 * (comity_framework_handles), and intake accepts a type either names, so
 * that no list is kept twice and src/record stays below src/framework.
 */
#include <string.h>

#include "base/base.h"
#include "record/types.h"

/* party and admission: the roster's records (docs/federation.md, section
 * 1), logged at their author's origin and pulled by its peers like any
 * other record; their bodies are the roster's to weigh (src/sync/roster.c),
 * a record it does not admit has no effect; log-succession: a state's
 * announcement of its node's new log (section 11), followed by its peers. */
static const char *const KNOWN_TYPES[] = {"sighting", "evidence", "note",
                                          "party",    "admission", "log-succession"};

bool cy_record_type_known(const char *type)
{
    for (size_t i = 0; i < CY_ARRAY_LEN(KNOWN_TYPES); i++)
        if (strcmp(type, KNOWN_TYPES[i]) == 0)
            return true;
    return false;
}
