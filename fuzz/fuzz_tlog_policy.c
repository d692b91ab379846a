/*
 * fuzz_tlog_policy.c: tlog-policy files (c2sp.org/tlog-policy) on arbitrary
 * bytes; a policy that parses is then used to check a fixed checkpoint,
 * which must not crash whatever the policy says.
 */
#include <stdlib.h>
#include <string.h>

#include "tlog/tlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char note[] =
        "fuzz.example/log\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n"
        "\xe2\x80\x94 fuzz.example/log AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
    comity_policy *p;
    if (comity_policy_parse((const char *)data, size, &p, NULL) == COMITY_OK) {
        comity_checkpoint cp;
        (void)comity_policy_check(p, note, sizeof note - 1, &cp, NULL);
        comity_policy_free(p);
    }
    return 0;
}
