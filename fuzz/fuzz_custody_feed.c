/*
 * fuzz_custody_feed.c: chain-of-custody and destruction records
 * (src/framework/custody.c, retention.c) on a case, in sequences chosen by
 * the input.
 *
 * Byte 0 picks the case: a preservation request (two parties) or a
 * consultation with a secretariat (three), clear or sealed.  Then each
 * 4-byte step makes one record: byte 0 the author (a party, the node's
 * custodian or an outsider) and the type (custody-receive, -handle,
 * -transfer, evidence-destruction, or the record that closes the case),
 * byte 1 which of three files it names and their sizes, byte 2 the
 * recipient, the sender, the transfer it completes and whether `to` is
 * right, byte 3 how many minutes pass.  Records are signed for real and
 * parsed as a node would.  Properties: the dry run gives the same answer
 * as the add; a record fed twice is refused with EXISTS; the chain opens
 * for every party and for the operator, and for an outsider answers as an
 * unknown case does; what is due for destruction never names an open case
 * and is computed at any time; a destroyed file is never shown to an
 * outsider.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "comity.h"

#define NK 5
#define MAX_STEPS 40

static const char *const names[NK] = {"pk.fia", "in.cert-in", "un.unoda", "un.hub", "zz.nobody"};
static comity_key *keys[NK];
static const char *const hashes[3] = {
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
    "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"};

static char *sign(int who, const char *type, const char *const *to, size_t nto,
                  const char *const *refs, size_t nrefs, bool sealed, const char *body,
                  int64_t now, size_t *len)
{
    char at[32];
    time_t secs = (time_t)(now / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
    setenv("COMITY_FAKE_NOW", at, 1);
    const char *seal[NK];
    for (size_t i = 0; i < nto; i++)
        for (int k = 0; k < NK; k++)
            if (!strcmp(to[i], names[k]))
                seal[i] = comity_key_recipient(keys[k]);
    comity_record_params p = {.type = type, .tlp = sealed ? "amber" : "green", .to = to,
                              .nto = nto, .refs = refs, .nrefs = nrefs,
                              .seal_to = sealed ? seal : NULL, .nseal_to = sealed ? nto : 0};
    char *env = NULL;
    if (comity_record_sign(keys[who], &p, body, strlen(body), &env, len, NULL))
        return NULL;
    return env;
}

/* The files of mask m (at least one), sizes from v. */
static void files(char *out, size_t cap, unsigned m, unsigned v)
{
    size_t n = (size_t)snprintf(out, cap, "[");
    if (!(m & 7))
        m = 1;
    for (int i = 0, first = 1; i < 3; i++)
        if (m & (1u << i)) {
            n += (size_t)snprintf(out + n, cap - n, "%s{\"sha256\":\"%s\",\"size\":%u}",
                                  first ? "" : ",", hashes[i], 10 + ((v >> i) & 1));
            first = 0;
        }
    snprintf(out + n, cap - n, "]");
}

static void queries(comity_framework *fw, const char *c, int nparties, int64_t now)
{
    char *json = NULL;
    for (int i = 0; i < nparties; i++) {
        if (comity_framework_custody(fw, c, names[i], &json, NULL))
            abort();
        comity_free(json);
    }
    if (comity_framework_custody(fw, c, NULL, &json, NULL))
        abort();
    comity_free(json);
    comity_error e1 = {0}, e2 = {0};
    if (comity_framework_custody(fw, c, names[4], &json, &e1) != COMITY_ERR_NOTFOUND || json)
        abort();
    char fake[160];
    snprintf(fake, sizeof fake, "%.*s%c", (int)strlen(c) - 1, c, c[strlen(c) - 1] == '0' ? '1' : '0');
    if (comity_framework_custody(fw, fake, names[4], &json, &e2) != COMITY_ERR_NOTFOUND ||
        strlen(e1.msg) != strlen(e2.msg))
        abort();
    for (int k = 0; k < 3; k++)
        if (comity_framework_destroyed(fw, hashes[k], names[4], &json, NULL) != COMITY_ERR_NOTFOUND)
            abort();
    if (comity_framework_case(fw, c, NULL, now, &json, NULL))
        abort();
    json_t *cv = json_loads(json, 0, NULL);
    comity_free(json);
    bool open = json_is_true(json_object_get(cv, "open"));
    json_decref(cv);
    int64_t when[2] = {now, now + 3650LL * 86400000};
    for (int w = 0; w < 2; w++) {
        if (comity_framework_retention_due(fw, when[w], NULL, 0, &json, NULL))
            abort();
        if (open && strstr(json, c))
            abort(); /* an open case is never due, nor waiting */
        comity_free(json);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (!keys[0])
        for (int i = 0; i < NK; i++)
            if (comity_key_generate(names[i], &keys[i], NULL))
                abort();
    comity_framework *fw;
    if (comity_framework_new(&fw, NULL) || comity_framework_set_custodian(fw, "un.hub", NULL) ||
        comity_framework_set_retention(fw, "preservation", "1h", NULL))
        abort();
    bool consult = data[0] & 1, sealed = data[0] & 2;
    int nparties = consult ? 3 : 2;
    int64_t now = 1767225600000LL; /* 2026-01-01 */
    const char *to_open[2] = {"in.cert-in", "un.unoda"};
    const char *about = "notification--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
    size_t el;
    char *env = sign(0, consult ? "consult-request" : "preservation-request", to_open,
                     consult ? 2 : 1, &about, consult ? 1 : 0, sealed,
                     consult ? "{\"subject\":\"s\",\"summary\":\"x\"}"
                             : "{\"requesting_authority\":\"a\",\"offence\":\"b\",\"data\":\"c\","
                               "\"custodian\":\"d\",\"necessity\":\"e\",\"mla_to_follow\":true}",
                     now, &el);
    comity_record *r = NULL;
    if (!env || comity_record_parse(env, el, &r, NULL) || comity_framework_add(fw, r, NULL, 0, NULL))
        abort();
    comity_free(env);
    char c[128];
    snprintf(c, sizeof c, "%s", comity_record_id(r));
    comity_record_free(r);
    char ids[MAX_STEPS][128];
    size_t nids = 0;
    for (size_t s = 1; s + 4 <= size && s / 4 < MAX_STEPS; s += 4) {
        const uint8_t *b = data + s;
        int who = b[0] % NK;
        if (!consult && who == 2)
            who = 4;
        int kind = (b[0] / NK) % 5;
        now += (int64_t)b[3] * 60000;
        static const char *const types[] = {"custody-receive", "custody-handle",
                                            "custody-transfer", "evidence-destruction"};
        const char *type = kind < 4 ? types[kind] : consult ? "consult-close" : "evidence-close";
        char fl[512], body[1024];
        files(fl, sizeof fl, b[1] & 7, b[1] >> 3);
        const char *other = names[(b[2] & 3) % nparties];
        switch (kind) {
        case 0:
            if ((b[2] & 4) && nids)
                snprintf(body, sizeof body, "{\"files\":%s,\"from\":\"%s\",\"transfer\":\"%s\"}",
                         fl, other, ids[(b[2] >> 3) % nids]);
            else
                snprintf(body, sizeof body, "{\"files\":%s,\"from\":\"%s\"}", fl,
                         b[2] & 8 ? "ExampleHost Ltd" : other);
            break;
        case 1:
            snprintf(body, sizeof body, "{\"files\":%s,\"action\":\"imaged\"%s}", fl,
                     b[2] & 4 ? ",\"results\":[{\"sha256\":\"cccccccccccccccccccccccccccccccc"
                                "cccccccccccccccccccccccccccccccc\",\"size\":12}]" : "");
            break;
        case 2:
            snprintf(body, sizeof body, "{\"files\":%s,\"recipient\":\"%s\"}", fl, other);
            break;
        case 3:
            snprintf(body, sizeof body, "{\"reason\":\"%s\",\"rule\":\"retention.preservation = 1h\",\"files\":%s}",
                     b[2] & 4 ? "retention" : "request", fl);
            break;
        default:
            snprintf(body, sizeof body, consult ? "{\"outcome\":\"withdrawn\"}" : "{}");
        }
        /* to: every party but the author (or, when bit 7, one too few) */
        const char *to[NK];
        size_t nto = 0;
        for (int i = 0; i < nparties; i++)
            if (i != who && !((b[2] & 0x80) && nto == 0 && i == 1))
                to[nto++] = names[i];
        const char *refs[1] = {c};
        env = sign(who, type, to, nto, refs, 1, sealed, body, now, &el);
        if (!env)
            continue;
        if (comity_record_parse(env, el, &r, NULL))
            abort();
        comity_free(env);
        /* the parties' view: bodies given (b[2] bit 6), else the node's */
        const char *given = sealed && (b[2] & 0x40) ? body : NULL;
        size_t glen = given ? strlen(given) : 0;
        comity_error e1 = {0}, e2 = {0};
        comity_err c1 = comity_framework_check(fw, r, given, glen, &e1);
        comity_err c2 = comity_framework_add(fw, r, given, glen, &e2);
        if (c1 != c2) {
            fprintf(stderr, "check: %s / add: %s\n", e1.msg, e2.msg);
            abort();
        }
        if (c2 == COMITY_OK) {
            if (comity_framework_add(fw, r, given, glen, NULL) != COMITY_ERR_EXISTS)
                abort();
            snprintf(ids[nids++], sizeof ids[0], "%s", comity_record_id(r));
        }
        comity_record_free(r);
        queries(fw, c, nparties, now);
    }
    unsetenv("COMITY_FAKE_NOW");
    comity_framework_free(fw);
    return 0;
}
