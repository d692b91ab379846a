/*
 * case_files.c: who may attach a sealed file to a case record, and who may
 * fetch it (docs/framework.md, "Evidence files").
 *
 * A file too large for a record (server logs, disk images) travels apart:
 * an age file sealed by the author's client to the case's parties, stored
 * by the node under the SHA-256 of its bytes (src/files/).  A case record
 * references it by that hash and its size, in a field of kind CY_FK_FILES
 * of its body (`files: [{sha256, size, name, media_type}]`; the legacy
 * `sha256` and `size` of an answer count too), so the log commits to it.
 * A node cannot read a sealed body, so the reference reaches it when the
 * record's author uploads the file naming the record ("attach"):
 *
 *   - the record must be a case record of a type whose schema takes files,
 *     in a case the uploader is a party of (else the very refusal an
 *     unknown record gets: a non-party learns nothing);
 *   - only the record's author attaches to it (the body is its word);
 *   - when the body is readable (a clear or green case), it must list the
 *     file with that hash and size.  A sealed body is taken at its
 *     author's word, which every party that opens it can check: a party
 *     could only ever lie about its own record, and the upload itself
 *     proves it holds the bytes (the node hashes them).
 *
 * A file is then visible to every party of a case one of whose records it
 * is attached to, and to no one else: not the operator, not another
 * office of a state that is not itself named.  Nothing here changes the
 * handle: the attachments are kept by the file store (the caller hands
 * their record ids back to comity_framework_file_visible).
 */
#include <string.h>

#include "framework/case.h"

/* Whether readable body b lists the file (hash, size). */
static bool body_lists(const json_t *b, const cy_case_type *t, const char *hash,
                       uint64_t size)
{
    const json_t *h = json_object_get(b, "sha256"), *n = json_object_get(b, "size");
    if (json_is_string(h) && !strcmp(json_string_value(h), hash) && json_is_integer(n) &&
        (uint64_t)json_integer_value(n) == size)
        return true;
    for (const cy_field *f = t->fields; f->name; f++) {
        if (f->kind != CY_FK_FILES)
            continue;
        size_t i;
        json_t *o;
        json_array_foreach(json_object_get(b, f->name), i, o) {
            h = json_object_get(o, "sha256");
            n = json_object_get(o, "size");
            if (json_is_string(h) && !strcmp(json_string_value(h), hash) &&
                json_is_integer(n) && (uint64_t)json_integer_value(n) == size)
                return true;
        }
    }
    return false;
}

comity_err comity_framework_file_attach(const comity_framework *fw, const char *record_id,
                                        const char *party, const char *sha256,
                                        uint64_t size, comity_error *err)
{
    if (!fw || !record_id || !party || !sha256)
        return cy_fail(err, COMITY_ERR_USAGE, "files: want a record, a party and a hash");
    const cy_case_entry *e = NULL;
    cy_case *c = cy_case_of_record(fw, record_id, &e);
    if (!c || !e || !cy_case_roles(c, party))
        return cy_fail(err, COMITY_ERR_NOTFOUND,
                       "files: no case record %.100s is known to %.64s", record_id, party);
    if (strcmp(e->author, party) != 0)
        return cy_fail(err, COMITY_ERR_DENIED,
                       "files: only the author of %.100s (%s) may attach files to it",
                       record_id, e->author);
    const cy_case_type *t = cy_case_type_of(c->m, e->type);
    if (!cy_case_type_takes_files(t))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "files: a %s record carries no files (docs/framework.md lists "
                       "the types that do)", e->type);
    if (size > (uint64_t)CY_CASE_FILE_SIZE_MAX)
        return cy_fail(err, COMITY_ERR_INVALID, "files: size over 2^53");
    if (e->body && !body_lists(e->body, t, sha256, size))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "files: %.100s does not reference file %.64s of %llu bytes "
                       "(its body's files list it by sha256 and size)", record_id, sha256,
                       (unsigned long long)size);
    return COMITY_OK;
}

int comity_framework_file_visible(const comity_framework *fw, const char *party,
                                  const char *const *record_ids, size_t n)
{
    if (!fw || !party)
        return 0;
    for (size_t i = 0; i < n; i++) {
        const cy_case *c = cy_case_of_record(fw, record_ids[i], NULL);
        if (c && cy_case_roles(c, party))
            return 1;
    }
    return 0;
}
