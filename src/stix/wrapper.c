/*
 * wrapper.c: rendering a record's x-comity-record object (see wrapper.h).
 *
 * Called once per wrapper on every TAXII page that holds one, so it is
 * written as a few appends into one reservation, without a JSON tree.
 */
#include <string.h>

#include "stix/wrapper.h"

/* Appends s as a JSON string (quotes included). */
static comity_err put_str(cy_buf *b, const char *s)
{
    size_t n = strlen(s), plain = 0;
    while (plain < n && (unsigned char)s[plain] >= 0x20 && s[plain] != '"' && s[plain] != '\\')
        plain++;
    comity_err e = cy_buf_puts(b, "\"");
    e |= cy_buf_append(b, s, plain);
    for (size_t i = plain; i < n && !e; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\')
            e = cy_buf_printf(b, "\\%c", ch);
        else if (ch < 0x20)
            e = cy_buf_printf(b, "\\u%04x", ch);
        else
            e = cy_buf_append(b, &s[i], 1);
    }
    return e | cy_buf_puts(b, "\"");
}

comity_err cy_stix_wrapper_append(cy_buf *b, const cy_stix_wrapped *r)
{
    const char *uuid = r->id ? strstr(r->id, "--") : NULL;
    if (!uuid || !r->envelope)
        return COMITY_ERR_USAGE;
    uuid += 2;
    comity_err e = cy_buf_reserve(b, 300 + strlen(r->id) * 2 + strlen(r->created) * 2 +
                                         r->envelope_len);
    e |= cy_buf_puts(b, "{\"type\":\"" CY_RECORD_WRAPPER_TYPE "\",\"spec_version\":\"2.1\","
                        "\"id\":\"" CY_RECORD_WRAPPER_TYPE "--");
    e |= cy_buf_puts(b, uuid);
    e |= cy_buf_puts(b, "\",\"created\":");
    e |= put_str(b, r->created);
    e |= cy_buf_puts(b, ",\"modified\":");
    e |= put_str(b, r->created);
    e |= cy_buf_puts(b, ",\"extensions\":{\"" CY_RECORD_EXTDEF_ID
                        "\":{\"extension_type\":\"new-sdo\"}},\"record_id\":");
    e |= put_str(b, r->id);
    e |= cy_buf_puts(b, ",\"record_type\":");
    e |= put_str(b, r->type);
    e |= cy_buf_puts(b, ",\"author\":");
    e |= put_str(b, r->author);
    e |= cy_buf_puts(b, ",\"tlp\":");
    e |= put_str(b, r->tlp);
    e |= cy_buf_puts(b, ",\"dsse_envelope\":");
    e |= cy_buf_append(b, r->envelope, r->envelope_len);
    e |= cy_buf_puts(b, "}");
    return e ? (e == COMITY_ERR_TOOBIG ? COMITY_ERR_TOOBIG : COMITY_ERR_NOMEM) : COMITY_OK;
}
