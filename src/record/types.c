/*
 * types.c: the record types a node accepts (see types.h).
 */
#include <string.h>

#include "base/base.h"
#include "record/types.h"

static const char *const KNOWN_TYPES[] = {
    "notification", "request", "ack",      "reply",    "close", "ping",
    "pong",         "poc",     "sighting", "evidence", "note",
};

bool cy_record_type_known(const char *type)
{
    for (size_t i = 0; i < CY_ARRAY_LEN(KNOWN_TYPES); i++)
        if (strcmp(type, KNOWN_TYPES[i]) == 0)
            return true;
    return false;
}
