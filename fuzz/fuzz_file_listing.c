/*
 * fuzz_file_listing.c: the file listing a peer node reads from an origin
 * (GET /federation/files/, src/sync/files.c, docs/federation.md section
 * 6) on arbitrary bytes.  Whatever it accepts must hold what the parser
 * promises: every entry a hash as the file store names files, a record id
 * that is safe as a ref (no '/', ':', space or control byte), and a next
 * at or past the cursor.
 */
#include <stdlib.h>
#include <string.h>

#include "files/files.h"
#include "sync/sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static comity_err entry(void *ctx, const char *sha256, uint64_t size, const char *record,
                        comity_error *err)
{
    (void)err;
    (void)size;
    size_t *n = ctx;
    if (!cy_files_hash_valid(sha256) || !record[0] || strlen(record) > CY_FILES_REF_MAX ||
        strchr(record, '/') || strchr(record, ':'))
        abort();
    for (const char *c = record; *c; c++)
        if ((unsigned char)*c <= ' ')
            abort();
    (*n)++;
    return COMITY_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = 0;
    uint64_t next = 0;
    bool more = false;
    comity_error e = {0};
    uint64_t cursor = size ? data[0] : 0;
    if (cy_sync_files_listing_parse((const char *)data, size, cursor, entry, &n, &next, &more,
                                    &e) == COMITY_OK &&
        (next < cursor || n > CY_FED_PAGE_MAX))
        abort();
    return 0;
}
