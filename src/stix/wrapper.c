/*
 * wrapper.c: comity records on TAXII: the wrapper's extension definition,
 * the TLP -> collection mapping, and rendering a record's x-comity-record
 * object (see wrapper.h).  The rendering runs once per wrapper on every
 * TAXII page that holds one, so it is a few appends into one reservation,
 * without a JSON tree.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "stix/wrapper.h"

#define EXTDEF_CREATOR "identity--9d102db0-e403-4779-96f4-440fbd8250a8"

/* The STIX extension definition of the wrapper type (STIX 2.1, 7.3). */
static const char EXTDEF_JSON[] =
    "{\"type\":\"extension-definition\",\"spec_version\":\"2.1\",\"id\":\"" CY_STIX_EXTDEF_ID
    "\",\"created_by_ref\":\"" EXTDEF_CREATOR "\",\"created\":\"" CY_STIX_EXTDEF_TIME "\","
    "\"modified\":\"" CY_STIX_EXTDEF_TIME "\",\"name\":\"comity record\","
    "\"description\":\"A comity record: a DSSE envelope (payloadType "
    COMITY_RECORD_PAYLOAD_TYPE ") signed by its author, in the property dsse_envelope. "
    "Check the envelope's signature and receipt, never this wrapper.\","
    "\"schema\":\"https://comity.invalid/specs/records.md\",\"version\":\"1.0.0\","
    "\"extension_types\":[\"new-sdo\"]}";

const char *cy_stix_extdef_json(size_t *len)
{
    *len = sizeof EXTDEF_JSON - 1;
    return EXTDEF_JSON;
}

void cy_collection_id(const char *origin, const char *alias, char out[CY_UUID_BUF])
{
    crypto_hash_sha256_state st;
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)"comity collection\n", 18);
    crypto_hash_sha256_update(&st, (const uint8_t *)origin, strlen(origin));
    crypto_hash_sha256_update(&st, (const uint8_t *)"\n", 1);
    crypto_hash_sha256_update(&st, (const uint8_t *)alias, strlen(alias));
    crypto_hash_sha256_final(&st, h);
    h[6] = (uint8_t)((h[6] & 0x0f) | 0x50); /* name-based (version 5 layout) */
    h[8] = (uint8_t)((h[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    char hex[33];
    cy_hex_encode(hex, h, 16);
    snprintf(out, CY_UUID_BUF, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
             hex + 20);
}

int cy_stix_record_collections(const comity_record *rec,
                               int (*fn)(void *ctx, const char *alias), void *ctx)
{
    const char *tlp = comity_record_tlp(rec);
    if (!strcmp(tlp, "clear"))
        return fn(ctx, CY_STIX_COLL_PUBLIC);
    if (!strcmp(tlp, "green"))
        return fn(ctx, CY_STIX_COLL_COMMUNITY);
    /* amber and red: the inboxes of the author and of each recipient */
    size_t nto = comity_record_to_count(rec);
    for (size_t i = 0; i <= nto; i++) {
        const char *p = i == 0 ? comity_record_author(rec) : comity_record_to(rec, i - 1);
        char alias[CY_STIX_ALIAS_MAX];
        snprintf(alias, sizeof alias, "inbox.%s", p);
        int rc = fn(ctx, alias);
        if (rc)
            return rc;
    }
    return 0;
}

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
    e |= cy_buf_puts(b, "{\"type\":\"" CY_STIX_WRAPPER_TYPE "\",\"spec_version\":\"2.1\","
                        "\"id\":\"" CY_STIX_WRAPPER_TYPE "--");
    e |= cy_buf_puts(b, uuid);
    e |= cy_buf_puts(b, "\",\"created\":");
    e |= put_str(b, r->created);
    e |= cy_buf_puts(b, ",\"modified\":");
    e |= put_str(b, r->created);
    e |= cy_buf_puts(b, ",\"extensions\":{\"" CY_STIX_EXTDEF_ID
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
