/*
 * body.h: the rule every JSON body that src/record rules shares (body.c):
 * a body is a closed object, and a field it does not know refuses it.
 *
 * Below the bodies' own rules, which call it: the roster's party and
 * admission bodies (roster_body.c) and log-succession's (succession.c).
 */
#ifndef COMITY_RECORD_BODY_H
#define COMITY_RECORD_BODY_H

struct json_t;

/* The key of object o that the NULL-terminated list `known` lacks (the
 * first, in o's order; a pointer into o, valid while o is), or NULL when
 * every key is known.  No allocation. */
const char *cy_body_unknown_key(struct json_t *o, const char *const *known);

#endif
