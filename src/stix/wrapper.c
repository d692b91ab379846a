/*
 * wrapper.c: comity records on TAXII: the wrapper's extension definition
 * and the TLP -> collection mapping (see wrapper.h).
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
