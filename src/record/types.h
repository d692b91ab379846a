/*
 * types.h: the record types a node accepts (types.c).
 *
 * specs/records.md lists them; the framework (src/framework/) rules some
 * of them further (notification, request, ack, reply, close, ping, pong,
 * poc).  A record of any other type is refused at intake.
 */
#ifndef COMITY_RECORD_TYPES_H
#define COMITY_RECORD_TYPES_H

#include <stdbool.h>

/* Whether `type` is one a node accepts (exact, case-sensitive). */
bool cy_record_type_known(const char *type);

#endif
