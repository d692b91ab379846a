/*
 * types.h: the record types a node accepts (types.c).
 *
 * specs/records.md lists the types a node accepts: those the framework
 * rules (src/framework/, comity_framework_handles: messages, the directory,
 * cases) and the few it does not, listed here (sighting, evidence, note,
 * the roster's party and admission, and log-succession).
 * Intake asks both; a record of any other type is refused there.
 */
#ifndef COMITY_RECORD_TYPES_H
#define COMITY_RECORD_TYPES_H

#include <stdbool.h>

/* Whether `type` is one of the types no framework mechanism rules that a
 * node accepts (exact, case-sensitive). */
bool cy_record_type_known(const char *type);

#endif
