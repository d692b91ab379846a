/* fuzz_refs_scan.c: the refs scanner (src/record/refs_scan.c) against the
 * record parser.  The input is scanned both as a whole envelope and as a
 * payload wrapped in a (validly signed) envelope, so the fuzzer reaches
 * the payload's structure without forging base64.  Whenever the scanner
 * answers and comity_record_parse accepts the same bytes, they must name
 * the same refs in the same order (the contract of refs_scan.h); the
 * scanner never reads past the input (the sanitizers). */
#include <stdlib.h>
#include <string.h>

#include "crypto/dsse.h"
#include "crypto/note.h"
#include "record/refs_scan.h"

static void check(cy_refs_scan *s, const char *env, size_t len)
{
    if (cy_refs_scan_envelope(s, env, len) != COMITY_OK)
        return;
    if (s->n > COMITY_RECORD_MAX_REFS)
        abort();
    comity_record *r;
    if (comity_record_parse(env, len, &r, NULL) != COMITY_OK)
        return;
    if (comity_record_refs_count(r) != s->n)
        abort();
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(comity_record_ref(r, i), s->refs[i]) != 0)
            abort();
    comity_record_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static comity_nkey *k;
    if (!k && comity_nkey_generate("pk.pkcert", COMITY_NOTE_ED25519, &k, NULL))
        abort();
    cy_refs_scan s = {0};
    check(&s, (const char *)data, size);
    const comity_nkey *ks[] = {k};
    char *env;
    size_t el;
    if (size <= COMITY_RECORD_MAX &&
        comity_dsse_sign(COMITY_RECORD_PAYLOAD_TYPE, data, size, ks, 1, &env, &el, NULL) ==
            COMITY_OK) {
        check(&s, env, el);
        comity_free(env);
    }
    cy_refs_scan_clear(&s);
    return 0;
}
