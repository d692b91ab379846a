/*
 * fuzz_case_feed.c: the case core and its mechanisms (src/framework/case.c,
 * consult.c, evidence.c) on sequences of records chosen by the input.
 *
 * Each 4-byte step makes one record: byte 0 picks the author and the type,
 * byte 1 the recipients (bits 0-5), whether it is sealed (bit 6) and a
 * valid or a wrong body (bit 7), byte 2 which earlier case it names in
 * refs[0] (and which earlier record in refs[1]), byte 3 how many minutes
 * pass.  Records are signed for real and parsed as a node would.
 * Properties: the dry run (comity_framework_check) gives the same answer
 * as comity_framework_add; feeding the same record again is refused with
 * EXISTS; every query succeeds on the state reached; a party that never
 * took part sees no case, and every case a party lists opens for it.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "comity.h"

#define PARTIES 6
#define MAX_STEPS 48

static const char *const parties[PARTIES] = {"pk.mofa", "in.mea", "in",
                                             "un.unoda", "pk.fia", "us.cisa"};
static comity_key *keys[PARTIES];
static const char outsider[] = "zz.nobody";

static const struct { const char *type, *body; } recs[] = {
    {"consult-request", "{\"subject\":\"s\",\"summary\":\"x\"}"},
    {"consult-accept", "{\"date\":\"2026-12-20T10:00:00Z\"}"},
    {"consult-propose", "{\"format\":\"video\"}"},
    {"consult-decline", "{\"reason\":\"r\"}"},
    {"consult-good-offices", "{\"offer\":\"o\"}"},
    {"consult-agenda", "{\"items\":[\"a\"]}"},
    {"consult-document", "{\"title\":\"t\",\"content\":\"c\"}"},
    {"consult-meeting", "{\"date\":\"2026-12-20T10:00:00Z\",\"participants\":[\"pk.mofa\",\"in.mea\"]}"},
    {"consult-close", "{\"outcome\":\"no-agreement\"}"},
    {"consult-action", "{\"owner\":\"in\",\"due\":\"2026-01-03T00:00:00Z\",\"what\":\"w\"}"},
    {"consult-action-done", "{}"},
    {"preservation-request",
     "{\"requesting_authority\":\"a\",\"offence\":\"b\",\"data\":\"c\",\"custodian\":\"d\","
     "\"necessity\":\"e\",\"mla_to_follow\":true}"},
    {"preservation-confirm", "{\"period_days\":61}"},
    {"preservation-refuse", "{\"grounds\":\"political-offence\",\"explanation\":\"x\"}"},
    {"preservation-extend", "{\"days\":3}"},
    {"preservation-disclose", "{\"providers\":[\"p\"]}"},
    {"evidence-close", "{}"},
    {"mla-request", "{\"requesting_authority\":\"a\",\"subject\":\"b\",\"facts\":\"c\","
                    "\"assistance\":\"d\",\"purpose\":\"e\"}"},
    {"mla-partial", "{\"text\":\"t\"}"},
    {"mla-answer", "{\"text\":\"t\"}"},
    {"mla-more-info", "{\"asked\":\"q\"}"},
    {"mla-info", "{\"text\":\"t\"}"},
    {"mla-refuse", "{\"grounds\":\"domestic-law\",\"explanation\":\"x\"}"},
    {"emergency-request", "{\"requesting_authority\":\"a\",\"emergency\":\"b\",\"facts\":\"c\","
                          "\"assistance\":\"d\"}"},
    {"emergency-confirm", "{}"},
    {"emergency-answer", "{\"text\":\"t\"}"},
    {"emergency-refuse", "{\"grounds\":\"essential-interests\",\"explanation\":\"x\"}"},
};
#define NRECS (sizeof recs / sizeof recs[0])

static void queries(comity_framework *fw, char ids[][128], size_t nids, int64_t q)
{
    char *json;
    for (int i = 0; i < PARTIES; i++) {
        if (comity_framework_cases(fw, parties[i], q, &json, NULL))
            abort();
        json_t *j = json_loads(json, 0, NULL);
        comity_free(json);
        size_t k;
        json_t *c;
        json_array_foreach(json_object_get(j, "cases"), k, c) {
            const char *id = json_string_value(json_object_get(c, "id"));
            if (comity_framework_case(fw, id, parties[i], q, &json, NULL))
                abort();
            comity_free(json);
        }
        json_decref(j);
    }
    if (comity_framework_cases(fw, outsider, q, &json, NULL))
        abort();
    if (!strstr(json, "\"cases\":[]"))
        abort();
    comity_free(json);
    for (size_t i = 0; i < nids; i++) {
        comity_err rc = comity_framework_case(fw, ids[i], outsider, q, &json, NULL);
        if (rc != COMITY_ERR_NOTFOUND || json)
            abort();
        rc = comity_framework_case(fw, ids[i], NULL, q, &json, NULL);
        if (rc != COMITY_OK && rc != COMITY_ERR_NOTFOUND)
            abort();
        comity_free(json);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!keys[0])
        for (int i = 0; i < PARTIES; i++)
            if (comity_key_generate(parties[i], &keys[i], NULL))
                abort();
    comity_framework *fw;
    if (comity_framework_new(&fw, NULL))
        abort();
    char ids[MAX_STEPS][128];
    size_t nids = 0;
    int64_t minutes = 0;
    for (size_t s = 0; s + 4 <= size && s / 4 < MAX_STEPS; s += 4) {
        const uint8_t *b = data + s;
        int who = b[0] % PARTIES;
        size_t ti = (size_t)(b[0] / PARTIES) % NRECS;
        minutes += b[3];
        int64_t now = 1767225600000LL + minutes * 60000; /* 2026-01-01 */
        const char *to[PARTIES], *seal[PARTIES];
        size_t nto = 0;
        for (int i = 0; i < PARTIES; i++)
            if (b[1] & (1u << i)) {
                seal[nto] = comity_key_recipient(keys[i]);
                to[nto++] = parties[i];
            }
        bool sealed = (b[1] & 0x40) != 0;
        const char *body = (b[1] & 0x80) ? "{\"x\":1}" : recs[ti].body;
        const char *refv[2];
        size_t nrefs = 0;
        if (nids) {
            refv[nrefs++] = ids[b[2] % nids];
            if (b[2] & 0x80 && nids > 1 && strcmp(ids[(b[2] / 2) % nids], refv[0]))
                refv[nrefs++] = ids[(b[2] / 2) % nids];
        }
        char at[32];
        time_t secs = (time_t)(now / 1000);
        struct tm tm;
        gmtime_r(&secs, &tm);
        strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
        setenv("COMITY_FAKE_NOW", at, 1);
        comity_record_params p = {.type = recs[ti].type,
                                  .tlp = sealed ? "amber" : "green", .to = to,
                                  .nto = nto, .refs = refv, .nrefs = nrefs,
                                  .seal_to = sealed ? seal : NULL,
                                  .nseal_to = sealed ? nto : 0};
        char *env;
        size_t el;
        comity_record *r;
        if (comity_record_sign(keys[who], &p, body, strlen(body), &env, &el, NULL))
            continue;
        if (comity_record_parse(env, el, &r, NULL))
            abort();
        comity_free(env);
        comity_error e1 = {0}, e2 = {0};
        comity_err c1 = comity_framework_check(fw, r, NULL, 0, &e1);
        comity_err c2 = comity_framework_add(fw, r, NULL, 0, &e2);
        if (c1 != c2) {
            fprintf(stderr, "check: %s / add: %s\n", e1.msg, e2.msg);
            abort();
        }
        if (c2 == COMITY_OK) {
            if (comity_framework_add(fw, r, NULL, 0, NULL) != COMITY_ERR_EXISTS)
                abort();
            snprintf(ids[nids++], sizeof ids[0], "%s", comity_record_id(r));
        }
        comity_record_free(r);
        queries(fw, ids, nids, now + (int64_t)b[2] * 3600000);
    }
    unsetenv("COMITY_FAKE_NOW");
    comity_framework_free(fw);
    return 0;
}
