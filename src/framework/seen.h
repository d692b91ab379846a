/*
 * seen.h: what a party may learn of a message (seen.c; private to
 * src/framework).
 *
 * Answers and statistics say no more of a message than the message: a
 * party that may not read a message's record (record/visible.h, the one
 * rule of who sees a record) is told nothing derived from it either, and
 * an answer to it is refused as an answer to an unknown id.
 */
#ifndef COMITY_FRAMEWORK_SEEN_H
#define COMITY_FRAMEWORK_SEEN_H

#include <stdbool.h>

#include "framework/core.h"

/* Whether `viewer` may see message m: a party name, "" for an anonymous
 * caller, or NULL for the node's owner reading everything offline (the
 * library calls without a viewer). */
bool cy_fw_may_see(const msg *m, const char *viewer);

#endif
