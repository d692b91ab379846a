/*
 * body.c: the closed-object rule of the record bodies src/record rules
 * (body.h): one walk of an object's keys against the list of the fields
 * a body may have.  A pure function: no I/O, no allocation.
 */
#include <string.h>

#include <jansson.h>

#include "record/body.h"

const char *cy_body_unknown_key(json_t *o, const char *const *known)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        size_t i = 0;
        while (known[i] && strcmp(known[i], k))
            i++;
        if (!known[i])
            return k;
    }
    return NULL;
}
