/*
 * seen.c: what a party may learn of a message (see seen.h), by the record
 * visibility rule of src/record applied to the message's own record
 * fields (its TLP, author and recipients) as the framework keeps them.
 */
#include "framework/seen.h"
#include "record/visible.h"

bool cy_fw_may_see(const msg *m, const char *viewer)
{
    if (!viewer)
        return true;
    const char *to[COMITY_RECORD_MAX_TO];
    size_t n = 0;
    for (size_t k = 0; k < m->nr && n < COMITY_RECORD_MAX_TO; k++)
        to[n++] = m->r[k].party;
    cy_record_filter f;
    cy_record_visibility(viewer[0] ? viewer : NULL, &f);
    return cy_record_filter_passes(&f, m->tlp, m->author, to, n);
}
