/*
 * fuzz_framework_feed.c: the framework's state machine
 * (src/framework/framework.c) on sequences of records chosen by the input.
 *
 * Each 4-byte step makes one record: byte 0 picks the author and the type,
 * byte 1 the recipients and the body (a valid one for the type, or one of a
 * few wrong ones), byte 2 which earlier record it refers to, byte 3 how many
 * minutes pass; a step may instead be a "delivered" event.  Records are
 * signed for real and parsed as a node would.  Properties: the dry run
 * (comity_framework_check) gives the same answer as comity_framework_add,
 * feeding the same record again is refused with EXISTS, and every query
 * succeeds on whatever state results.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "comity.h"

#define PARTIES 5
#define MAX_STEPS 48

static const char *const parties[PARTIES] = {"pk.mofa", "pk.pkcert", "in.mea",
                                             "in", "un.unoda"};
static comity_key *keys[PARTIES];

static const char *const types[] = {"poc", "notification", "request", "ack",
                                    "reply", "close", "ping", "pong"};

static const char *const bodies[8][4] = {
    {"{\"kind\":\"technical\",\"organisation\":\"X\",\"party\":\"pk.pkcert\","
     "\"channels\":[{\"type\":\"email\",\"value\":\"a@b\"}],\"time_zone\":\"UTC\","
     "\"languages\":[\"en\"],\"valid_from\":\"2026-01-01T00:00:00Z\"}",
     "{\"kind\":\"technical\",\"withdrawn\":true}",
     "{\"kind\":\"diplomatic\",\"state\":\"pk\",\"organisation\":\"Y\","
     "\"channels\":[{\"type\":\"url\",\"value\":\"https://y\"}],\"time_zone\":\"UTC\","
     "\"languages\":[\"fr\"],\"valid_from\":\"2026-01-02T00:00:00Z\","
     "\"valid_until\":\"2026-01-03T00:00:00Z\"}",
     "{\"kind\":\"technical\"}"},
    {"{\"severity\":5,\"sector\":\"energy\",\"summary\":\"x\"}",
     "{\"severity\":1,\"sector\":\"water\",\"summary\":\"x\",\"requested_action\":\"y\"}",
     "{\"severity\":3,\"sector\":\"health\",\"summary\":\"x\",\"respond_by\":\"2026-01-01T06:00:00Z\"}",
     "{\"severity\":9}"},
    {"{\"kind\":\"assistance\",\"norm\":\"13h\",\"asked\":\"x\"}",
     "{\"kind\":\"mitigation\",\"norm\":\"13c\",\"asked\":\"x\",\"severity\":4}",
     "{\"kind\":\"information\",\"norm\":\"13c\",\"asked\":\"x\",\"respond_by\":\"2026-01-02T00:00:00Z\"}",
     "{\"kind\":\"x\"}"},
    {"{}", "{\"note\":\"n\"}", "{}", "{\"x\":1}"},
    {"{\"outcome\":\"answered\",\"text\":\"t\"}",
     "{\"outcome\":\"declined\",\"reasons\":\"r\"}",
     "{\"outcome\":\"answered\",\"text\":\"t\"}", "{\"outcome\":\"declined\"}"},
    {"{}", "{\"reason\":\"r\"}", "{}", "[]"},
    {"{\"announced\":true}", "{\"announced\":false,\"kind\":\"technical\"}",
     "{\"announced\":false}", "{}"},
    {"{}", "{\"note\":\"n\"}", "{}", "{\"note\":1}"},
};

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
        unsigned ti = (b[0] / PARTIES) % 9;
        minutes += b[3];
        int64_t now = 1767225600000LL + minutes * 60000; /* 2026-01-01 */
        const char *ref = nids ? ids[b[2] % nids] : NULL;
        if (ti == 8) { /* delivered event */
            if (ref)
                (void)comity_framework_delivered(fw, ref, parties[who], now, NULL);
            continue;
        }
        const char *to[PARTIES];
        size_t nto = 0;
        for (int i = 0; i < PARTIES; i++)
            if (b[1] & (1u << i))
                to[nto++] = parties[i];
        const char *body = bodies[ti][(b[1] >> 5) & 3];
        char at[32];
        time_t secs = (time_t)(now / 1000);
        struct tm tm;
        gmtime_r(&secs, &tm);
        strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
        setenv("COMITY_FAKE_NOW", at, 1);
        comity_record_params p = {.type = types[ti], .tlp = "green", .to = to,
                                  .nto = nto, .refs = &ref,
                                  .nrefs = ref && (b[2] & 0x80) == 0 ? 1 : 0};
        char *env;
        size_t el;
        comity_record *r;
        if (comity_record_sign(keys[who], &p, body, strlen(body), &env, &el, NULL))
            continue; /* e.g. a body that is not an object */
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
            if (comity_framework_add(fw, r, NULL, 0, NULL) != COMITY_ERR_EXISTS &&
                comity_framework_handles(types[ti]))
                abort();
            snprintf(ids[nids++], sizeof ids[0], "%s", comity_record_id(r));
        }
        comity_record_free(r);
        /* every query works on the state reached */
        int64_t q = now + (int64_t)b[2] * 3600000;
        char *json;
        for (int i = 0; i < PARTIES; i++) {
            if (comity_framework_inbox(fw, parties[i], q, &json, NULL))
                abort();
            comity_free(json);
        }
        if (comity_framework_overdue(fw, q, &json, NULL))
            abort();
        comity_free(json);
        if (comity_framework_directory(fw, NULL, q, &json, NULL))
            abort();
        comity_free(json);
        if (comity_framework_ping_report(fw, 0, q, &json, NULL))
            abort();
        comity_free(json);
        for (size_t i = 0; i < nids; i++) {
            comity_msg_status st;
            comity_err rc = comity_framework_status(fw, ids[i], NULL, q, &st, NULL);
            if (rc != COMITY_OK && rc != COMITY_ERR_NOTFOUND)
                abort();
            if (rc == COMITY_OK && st.overdue && !st.expects)
                abort();
        }
    }
    unsetenv("COMITY_FAKE_NOW");
    comity_framework_free(fw);
    return 0;
}
