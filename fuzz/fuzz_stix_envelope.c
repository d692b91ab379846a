/*
 * fuzz_stix_envelope.c: libFuzzer target for reading a client's TAXII
 * envelope under the node's caps (src/stix/envelope.c).  Input: the body
 * of a POST.  Checks that a body jansson reads as an envelope is read the
 * same way here (same number of objects, each the same JSON value, and
 * the body's bytes given as an object's compact text only when they are
 * jansson's compact text of it) unless a cap refused it (values, objects,
 * or CY_JSON_MAX_DEPTH nesting), and that a status text is always cut
 * within its cap and on a UTF-8 boundary.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "stix/envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    cy_stix_envelope e;
    comity_error err = {0};
    comity_err rc = cy_stix_envelope_open(&e, (const char *)data, size, &err);
    json_t *ref = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    json_t *objs = json_is_object(ref) ? json_object_get(ref, "objects") : NULL;
    if (rc == COMITY_OK) {
        if (!json_is_array(objs) || json_array_size(objs) != cy_stix_envelope_count(&e))
            abort();
        for (size_t i = 0; i < cy_stix_envelope_count(&e); i++) {
            json_t *o = cy_stix_envelope_next(&e);
            if (!o || !json_equal(o, json_array_get(objs, i)))
                abort();
            /* the body's bytes stand for the object only when they are
             * exactly what jansson writes for it */
            size_t clen = 0;
            const char *c = cy_stix_envelope_compact(&e, &clen);
            if (c) {
                char *d = json_dumps(o, JSON_COMPACT);
                if (!d || strlen(d) != clen || memcmp(d, c, clen) != 0)
                    abort();
                free(d);
            }
            cy_stix_info info;
            if (cy_stix_object_check(o, &info, NULL) == COMITY_OK &&
                strcmp(info.type, "x-comity-record") == 0 &&
                cy_stix_reserved(&info, NULL) == COMITY_OK)
                abort(); /* a record wrapper from a client is always refused */
            json_decref(o);
        }
    } else if (rc != COMITY_ERR_TOOBIG && json_is_array(objs) && !strstr(err.msg, "nested")) {
        abort(); /* an envelope jansson reads was refused without a cap (depth is one) */
    }
    cy_stix_envelope_close(&e);
    json_decref(ref);
    char cut[CY_STIX_ID_MAX + 1];
    char *s = strndup((const char *)data, size);
    if (s) {
        cy_stix_status_text(cut, sizeof cut, s);
        size_t n = strlen(cut);
        if (n > CY_STIX_ID_MAX || (n < strlen(s) && ((unsigned char)s[n] & 0xc0) == 0x80))
            abort();
        free(s);
    }
    return 0;
}
