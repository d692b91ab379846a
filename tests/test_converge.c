/*
 * test_converge.c: convergence (docs/federation.md section 7).  Two nodes
 * that hold the same records hold the same framework state, whatever
 * order the records arrived in.
 *
 * One set of signed records exercises every mechanism: the directory,
 * messages (a notification acknowledged, then a reply and a close of it
 * with the same `created`: a concurrent conflict; a request acknowledged
 * in the very millisecond it was sent, whose acknowledgement's id sorts
 * before the request's), pings and pongs (and a second pong of one
 * recipient, refused wherever it lands), a consultation case with a
 * custody record and its close, the norms catalogue and a declaration,
 * the spyware registry, an attribution case with evidence, and records of
 * delivery signed by a node's log key (one before its slot's ack, a second
 * of one slot, one in the millisecond of a request and its ack, one after
 * a pong, one alone); local delivered events stored beside them are
 * replayed after the records (a node upgraded keeps its history).  The set
 * is stored in a real store in several log orders (the natural one,
 * reversed, shuffled with fixed seeds), and for each the live framework
 * is built from the store (cy_fw_live_open, the fold at start) and, on
 * another store, fed record by record as a peer's intake does (relayed:
 * cy_fw_live_add, the row, cy_fw_live_done), with queries read between
 * records (so that the lazy re-fold runs mid-way).  The JSON of every
 * framework query of include/comity.h, for every party, is compared byte
 * for byte with the natural order's.  On the old code (a fold in log
 * order) the reversed order showed the notification unanswered and the
 * request unacknowledged.
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include <jansson.h>

#include "base/base.h"
#include "framework/framework.h"
#include "framework/live.h"
#include "record/delivered.h"
#include "store/store.h"
#include "util/testutil.h"

enum { PK_MOFA, PK_CERT, IN_MEA, IN_CERT, UN, US, NK };
static const char *const names[NK] = {"pk.mofa", "pk.pkcert", "in.mea",
                                      "in.cert-in", "un.unoda", "us.cisa"};
static comity_key *keys[NK];
static comity_vkey *vkeys[NK];

#define NREC_MAX 64
static struct srec {
    char *env;
    size_t len;
    comity_record *r;
} recs[NREC_MAX];
static size_t nrecs;

/* ids the queries ask about */
static char ids[NREC_MAX][128];
static size_t nids;
static char case_ids[4][128];
static size_t ncases;

static int64_t T(const char *s)
{
    int64_t ms;
    if (cy_time_parse(s, strlen(s), false, &ms, NULL))
        fail_msg("bad time %s", s);
    return ms;
}

/* Signs `body` as `who` at `at` to the comma-separated `to` (may be NULL),
 * with the comma-separated `refs` (may be NULL), green; verifies it as a
 * node does and appends it to the set.  OUT id (may be NULL). */
static void mk(int who, const char *type, const char *at, const char *to, const char *refs,
               const char *body, char *id)
{
    char tobuf[256], refbuf[512];
    const char *tov[8], *refv[8];
    size_t nto = 0, nref = 0;
    if (to) {
        snprintf(tobuf, sizeof tobuf, "%s", to);
        for (char *s = strtok(tobuf, ","); s; s = strtok(NULL, ","))
            tov[nto++] = s;
    }
    if (refs) {
        snprintf(refbuf, sizeof refbuf, "%s", refs);
        for (char *s = strtok(refbuf, ","); s; s = strtok(NULL, ","))
            refv[nref++] = s;
    }
    comity_record_params p = {.type = type, .to = tov, .nto = nto,
                              .refs = refv, .nrefs = nref, .tlp = "green"};
    setenv("COMITY_FAKE_NOW", at, 1);
    struct srec *s = &recs[nrecs++];
    assert_true(nrecs <= NREC_MAX);
    TU_OK(comity_record_sign(keys[who], &p, body, strlen(body), &s->env, &s->len, E));
    unsetenv("COMITY_FAKE_NOW");
    const comity_vkey *const *vk = (const comity_vkey *const *)vkeys;
    TU_OK(comity_record_verify(s->env, s->len, vk, NK, &s->r, E));
    snprintf(ids[nids++], sizeof ids[0], "%s", comity_record_id(s->r));
    if (id)
        snprintf(id, 128, "%s", comity_record_id(s->r));
}

/* The log key of the recipients' home node, which signs their `delivered`
 * records (docs/federation.md section 7). */
static comity_nkey *node_key;
/* the messages whose delivery the tests look at */
static char n1_id[128], p1_id[128], p2_id[128];

/* A `delivered` record of `who`'s delivery of `msg` at `at`, to `to`,
 * signed by node_key (parsed, not verified: its key is not the party's;
 * test_framework.c checks the signature). */
static void mkd(int who, const char *at, const char *msg, const char *to)
{
    char tobuf[256], body[128];
    const char *tov[8];
    size_t nto = 0;
    snprintf(tobuf, sizeof tobuf, "%s", to);
    for (char *s = strtok(tobuf, ","); s; s = strtok(NULL, ","))
        tov[nto++] = s;
    snprintf(body, sizeof body, "{\"party\":\"%s\"}", names[who]);
    const char *refs[1] = {msg};
    comity_record_params p = {.type = "delivered", .to = tov, .nto = nto,
                              .refs = refs, .nrefs = 1, .tlp = "green"};
    setenv("COMITY_FAKE_NOW", at, 1);
    struct srec *s = &recs[nrecs++];
    assert_true(nrecs <= NREC_MAX);
    TU_OK(cy_record_sign_as(node_key, names[who], comity_key_recipient(keys[who]), &p, body,
                            strlen(body), &s->env, &s->len, E));
    unsetenv("COMITY_FAKE_NOW");
    TU_OK(comity_record_parse(s->env, s->len, &s->r, E));
}

#define POC_BODY(kind, org, extra)                                                        \
    "{\"kind\":\"" kind "\",\"organisation\":\"" org "\","                                \
    "\"channels\":[{\"type\":\"email\",\"value\":\"poc@x.gov\"}],"                        \
    "\"time_zone\":\"Asia/Karachi\",\"languages\":[\"en\"],"                               \
    "\"valid_from\":\"2026-01-01T00:00:00Z\"" extra "}"
#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ITEM(h, n) "{\"sha256\":\"" h "\",\"size\":" #n ",\"name\":\"logs.tar.age\"}"
#define LISTING_OK                                                                         \
    "{\"listed_by\":\"us\",\"regime\":\"us-entity-list\",\"entity\":\"NSO Group\","        \
    "\"legal_basis\":\"15 CFR 744.11\",\"reason\":\"spyware used against journalists\","  \
    "\"date\":\"2021-11-03T00:00:00Z\"}"
#define B_EV2                                                                              \
    "{\"what\":\"the same C2 in our incident\",\"observed_by\":\"MEA\","                   \
    "\"observed_at\":\"2026-11-20T00:00:00Z\",\"method\":\"host-forensics\","              \
    "\"reliability\":\"A\",\"credibility\":1}"

/* The set, in its natural (causal) order. */
static void make_set(void)
{
    char n1[128], r1[128], p1[128], c1[128], a1[128], refs[300];
    mk(PK_CERT, "poc", "2026-12-01T00:00:00.000Z", NULL, NULL,
       POC_BODY("technical", "PKCERT", ",\"party\":\"pk.pkcert\""), NULL);
    mk(IN_MEA, "poc", "2026-12-01T00:00:00.000Z", NULL, NULL,
       POC_BODY("diplomatic", "MEA", ",\"party\":\"in.mea\""), NULL);
    mk(PK_CERT, "notification", "2026-12-01T01:00:00.000Z", "in.cert-in,us.cisa", NULL,
       "{\"severity\":4,\"sector\":\"energy\",\"summary\":\"grid\","
       "\"requested_action\":\"take down C2\",\"norm\":\"13c\"}", n1);
    mk(IN_CERT, "ack", "2026-12-01T01:10:00.000Z", NULL, n1, "{}", NULL);
    /* a reply and a close in the same millisecond: the close's id sorts
     * first or not, by chance; every node resolves it the same way */
    mk(IN_CERT, "reply", "2026-12-01T02:00:00.000Z", NULL, n1,
       "{\"outcome\":\"answered\",\"text\":\"servers taken down\"}", NULL);
    mk(PK_CERT, "close", "2026-12-01T02:00:00.000Z", NULL, n1, "{\"reason\":\"resolved\"}", NULL);
    /* acknowledged in the millisecond it was sent: "ack--" sorts before
     * "request--", so the fold tries the group again */
    mk(IN_MEA, "request", "2026-12-01T03:00:00.000Z", "pk.mofa", NULL,
       "{\"kind\":\"assistance\",\"norm\":\"13h\",\"asked\":\"share logs\","
       "\"severity\":2,\"sector\":\"energy\"}", r1);
    mk(PK_MOFA, "ack", "2026-12-01T03:00:00.000Z", NULL, r1, "{}", NULL);
    mk(UN, "ping", "2026-12-01T04:00:00.000Z", "pk.pkcert,in.mea,us.cisa", NULL,
       "{\"announced\":false,\"round\":\"Q4\"}", p1);
    snprintf(n1_id, sizeof n1_id, "%s", n1);
    snprintf(p1_id, sizeof p1_id, "%s", p1);
    /* deliveries as records: before the ack (its time counts), a second
     * of one slot (refused wherever it lands), one in the millisecond of
     * the request and its ack (after both: the ack's time), one after a
     * pong (no effect), one alone (delivered, no pong yet) */
    mkd(IN_CERT, "2026-12-01T01:05:00.000Z", n1, "pk.pkcert,us.cisa");
    mkd(US, "2026-12-01T01:30:00.000Z", n1, "pk.pkcert,in.cert-in");
    mkd(US, "2026-12-01T01:40:00.000Z", n1, "pk.pkcert,in.cert-in");
    mkd(PK_MOFA, "2026-12-01T03:00:00.000Z", r1, "in.mea");
    mkd(IN_MEA, "2026-12-01T04:25:00.000Z", p1, "un.unoda,pk.pkcert,us.cisa");
    mkd(US, "2026-12-01T04:30:00.000Z", p1, "un.unoda,pk.pkcert,in.mea");
    /* a ping with no record of its delivery: a local event's time stays */
    mk(UN, "ping", "2026-12-01T12:00:00.000Z", "in.cert-in", NULL, "{\"announced\":true}",
       p2_id);
    mk(PK_CERT, "pong", "2026-12-01T04:10:00.000Z", NULL, p1, "{}", NULL);
    mk(PK_CERT, "pong", "2026-12-01T04:15:00.000Z", NULL, p1, "{\"note\":\"again\"}", NULL);
    mk(IN_MEA, "pong", "2026-12-01T04:20:00.000Z", NULL, p1, "{\"note\":\"here\"}", NULL);
    mk(PK_MOFA, "consult-request", "2026-12-01T05:00:00.000Z", "in.mea,un.unoda",
       "notification--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
       "{\"subject\":\"grid incident\",\"summary\":\"talks on the outage\","
       "\"format\":\"video\"}", c1);
    snprintf(case_ids[ncases++], sizeof case_ids[0], "%s", c1);
    mk(IN_MEA, "consult-accept", "2026-12-01T06:00:00.000Z", "pk.mofa,un.unoda", c1,
       "{\"date\":\"2026-12-20T10:00:00Z\",\"format\":\"in-person\"}", NULL);
    mk(IN_MEA, "custody-receive", "2026-12-01T06:30:00.000Z", "pk.mofa,un.unoda", c1,
       "{\"files\":[" ITEM(SHA_A, 100) "],\"from\":\"ExampleHost Ltd\"}", NULL);
    mk(PK_MOFA, "consult-close", "2026-12-01T07:00:00.000Z", "in.mea,un.unoda", c1,
       "{\"outcome\":\"agreed-statement\",\"statement\":\"both sides will share logs\"}",
       NULL);
    mk(UN, "norm-entry", "2026-12-01T08:00:00.000Z", NULL, NULL,
       "{\"norm\":\"tr.art-3\",\"kind\":\"treaty-provision\",\"title\":\"t\",\"text\":\"x\","
       "\"source\":\"s\"}", NULL);
    mk(PK_MOFA, "norm-declaration", "2026-12-01T08:00:00.000Z", NULL, NULL,
       "{\"valid_from\":\"2026-01-01T00:00:00Z\",\"sectors\":[\"energy\",\"water\"]}", NULL);
    mk(UN, "spyware-vendor", "2026-12-01T09:00:00.000Z", NULL, NULL,
       "{\"name\":\"NSO Group\",\"synonyms\":[\"Q-Cyber\"]}", NULL);
    mk(US, "spyware-listing", "2026-12-01T09:00:00.000Z", NULL, NULL, LISTING_OK, NULL);
    snprintf(refs, sizeof refs, "%s", n1);
    mk(PK_MOFA, "attribution-open", "2026-12-01T10:00:00.000Z", "in.mea,un.unoda", refs,
       "{\"title\":\"grid outage\",\"summary\":\"the attack of 1 Dec on the grid\"}", a1);
    snprintf(case_ids[ncases++], sizeof case_ids[0], "%s", a1);
    mk(IN_MEA, "attribution-evidence", "2026-12-01T11:00:00.000Z", "pk.mofa,un.unoda", a1,
       B_EV2, NULL);
}

static int setup(void **state)
{
    (void)state;
    for (int i = 0; i < NK; i++) {
        if (comity_key_generate(names[i], &keys[i], NULL))
            return -1;
        const char *v = comity_key_vkey(keys[i]);
        if (comity_vkey_parse(v, strlen(v), &vkeys[i], NULL))
            return -1;
    }
    if (comity_nkey_generate("comity.in.example", COMITY_NOTE_ED25519, &node_key, NULL))
        return -1;
    make_set();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < nrecs; i++) {
        comity_free(recs[i].env);
        comity_record_free(recs[i].r);
    }
    for (int i = 0; i < NK; i++) {
        comity_key_free(keys[i]);
        comity_vkey_free(vkeys[i]);
    }
    comity_nkey_free(node_key);
    return 0;
}

/* ---- the store ------------------------------------------------------------------- */

/* A fresh store (SQLite in `dir`, or a fresh PostgreSQL schema).  OUT. */
static comity_store *store_new(const char *dir)
{
    char uri[600];
    const char *pg = tu_store_fresh();
    if (pg)
        snprintf(uri, sizeof uri, "%s", pg);
    else
        snprintf(uri, sizeof uri, "sqlite:%s/conv.db", dir);
    comity_store *st = NULL;
    TU_OK(comity_store_open(uri, &st, E));
    return st;
}

/* Stores record s at log index idx, as intake would (without TAXII
 * copies: the fold reads the records alone). */
static void store_rec(comity_store *st, const struct srec *s, uint64_t idx)
{
    const comity_record *r = s->r;
    const char *to[8];
    size_t nto = comity_record_to_count(r);
    for (size_t k = 0; k < nto; k++)
        to[k] = comity_record_to(r, k);
    cy_record_in in = {
        .id = comity_record_id(r), .type = comity_record_type(r),
        .author = comity_record_author(r), .tlp = comity_record_tlp(r),
        .created = comity_record_created(r), .created_ms = comity_record_created_ms(r),
        .digest = comity_record_digest(r), .log_index = idx,
        .received_us = (int64_t)idx * 1000, .envelope = s->env,
        .envelope_len = s->len, .to = to, .nto = nto};
    TU_OK(cy_store_records_add(st, &in, 1, NULL, E));
}

/* Record i of the set. */
static void store_row(comity_store *st, size_t i, uint64_t idx) { store_rec(st, &recs[i], idx); }

/* ---- every query, as one text ------------------------------------------------------- */

static void put(cy_buf *b, const char *what, comity_err rc, char *json)
{
    (void)cy_buf_printf(b, "%s: %s %s\n", what, rc ? comity_strerror(rc) : "ok",
                        !rc && json ? json : "");
    comity_free(json);
}

#define Q(what, call)                                                                      \
    do {                                                                                   \
        char *j_ = NULL;                                                                   \
        comity_error e_ = {0};                                                             \
        comity_err rc_ = (call);                                                           \
        (void)e_;                                                                          \
        put(b, what, rc_, j_);                                                             \
    } while (0)
#define J (&j_)
#define EE (&e_)

static void dump(const comity_framework *fw, cy_buf *b)
{
    int64_t now = T("2026-12-03T00:00:00Z"), from = T("2026-01-01T00:00:00Z"),
            to = T("2027-01-01T00:00:00Z");
    char w[256];
    const char *states[] = {"pk", "in", "un", "us"};
    for (size_t i = 0; i < nids; i++)
        for (int p = -1; p < NK; p++) {
            const char *party = p < 0 ? NULL : names[p];
            comity_msg_status s;
            comity_err rc = comity_framework_status(fw, ids[i], party, now, &s, NULL);
            (void)cy_buf_printf(b, "status %s %s: %d", ids[i], party ? party : "-", rc);
            if (!rc)
                (void)cy_buf_printf(b, " %d %d %s %lld %lld %lld %lld", s.state, s.overdue,
                                    s.expects ? s.expects : "-", (long long)s.due_ms,
                                    (long long)s.ack_due_ms, (long long)s.answer_due_ms,
                                    (long long)s.delivered_ms);
            (void)cy_buf_printf(b, "\n");
            snprintf(w, sizeof w, "next %s %s", ids[i], party ? party : "-");
            Q(w, comity_framework_message_next(fw, ids[i], party, J, EE));
        }
    Q("overdue", comity_framework_overdue(fw, now, J, EE));
    Q("ping_report", comity_framework_ping_report(fw, from, to, J, EE));
    for (int p = 0; p < NK; p++) {
        const char *party = names[p];
        snprintf(w, sizeof w, "inbox %s", party);
        Q(w, comity_framework_inbox(fw, party, now, J, EE));
        snprintf(w, sizeof w, "inbox_page %s", party);
        Q(w, comity_framework_inbox_page(fw, party, now, 2, NULL, J, EE));
        comity_inbox_filter f = {.sector = "energy"};
        snprintf(w, sizeof w, "inbox_find %s", party);
        Q(w, comity_framework_inbox_find(fw, party, now, 10, NULL, &f, J, EE));
        snprintf(w, sizeof w, "cases %s", party);
        Q(w, comity_framework_cases(fw, party, now, J, EE));
        for (size_t c = 0; c < ncases; c++) {
            snprintf(w, sizeof w, "case %s %s", case_ids[c], party);
            Q(w, comity_framework_case(fw, case_ids[c], party, now, J, EE));
            snprintf(w, sizeof w, "custody %s %s", case_ids[c], party);
            Q(w, comity_framework_custody(fw, case_ids[c], party, J, EE));
        }
        snprintf(w, sizeof w, "ping_report_as %s", party);
        Q(w, comity_framework_ping_report_as(fw, party, from, to, J, EE));
        snprintf(w, sizeof w, "ping_groups_as %s", party);
        Q(w, comity_framework_ping_groups_as(fw, party, NULL, NULL, from, to, J, EE));
        comity_ping_stats ps;
        const char *one[] = {party};
        comity_err rc = comity_framework_ping_stats_as(fw, party, one, 1, NULL, from, to, &ps,
                                                       NULL);
        (void)cy_buf_printf(b, "ping_stats_as %s: %d %llu %llu %lld %lld %.6f\n", party, rc,
                            (unsigned long long)ps.count, (unsigned long long)ps.answered,
                            (long long)ps.p50_ms, (long long)ps.p90_ms, ps.unanswered);
        rc = comity_framework_ping_stats(fw, one, 1, NULL, from, to, &ps, NULL);
        (void)cy_buf_printf(b, "ping_stats %s: %d %llu %llu %lld %lld %.6f\n", party, rc,
                            (unsigned long long)ps.count, (unsigned long long)ps.answered,
                            (long long)ps.p50_ms, (long long)ps.p90_ms, ps.unanswered);
        snprintf(w, sizeof w, "spyware_matches %s", party);
        Q(w, comity_framework_spyware_matches(fw, party, J, EE));
        snprintf(w, sizeof w, "spyware_authorisations %s", party);
        Q(w, comity_framework_spyware_authorisations(fw, party, J, EE));
        snprintf(w, sizeof w, "spyware_undercut %s", party);
        Q(w, comity_framework_spyware_undercut(fw, party, "NSO Group", "Pegasus", "MoI", J, EE));
        snprintf(w, sizeof w, "norm_positions %s", party);
        Q(w, comity_framework_norm_positions(fw, NULL, party, J, EE));
        const char *rid[] = {ids[0], ids[2], ids[nids - 1]};
        (void)cy_buf_printf(b, "file_visible %s: %d\n", party,
                            comity_framework_file_visible(fw, party, rid, 3));
    }
    Q("cases operator", comity_framework_cases(fw, NULL, now, J, EE));
    for (size_t c = 0; c < ncases; c++) {
        snprintf(w, sizeof w, "case %s operator", case_ids[c]);
        Q(w, comity_framework_case(fw, case_ids[c], NULL, now, J, EE));
    }
    for (size_t s = 0; s < CY_ARRAY_LEN(states); s++) {
        snprintf(w, sizeof w, "directory %s", states[s]);
        Q(w, comity_framework_directory(fw, states[s], now, J, EE));
        snprintf(w, sizeof w, "norm_declarations %s", states[s]);
        Q(w, comity_framework_norm_declarations(fw, states[s], "pk.mofa", now, J, EE));
        snprintf(w, sizeof w, "spyware_report %s", states[s]);
        Q(w, comity_framework_spyware_report(fw, states[s], 2021, J, EE));
    }
    Q("directory all", comity_framework_directory(fw, NULL, now, J, EE));
    Q("norms", comity_framework_norms(fw, J, EE));
    Q("norm_reports", comity_framework_norm_reports(fw, NULL, NULL, J, EE));
    Q("spyware_lookup", comity_framework_spyware_lookup(fw, "Q-Cyber", J, EE));
    for (size_t i = 0; i < nids; i++)
        if (!strncmp(ids[i], "spyware-vendor--", 16)) {
            snprintf(w, sizeof w, "spyware_vendor %s", ids[i]);
            Q(w, comity_framework_spyware_vendor(fw, ids[i], J, EE));
        }
    (void)cy_buf_printf(b, "spyware_count: %zu\n", comity_framework_spyware_count(fw));
    Q("retention_due", comity_framework_retention_due(fw, T("2040-01-01T00:00:00Z"), NULL, 0,
                                                      J, EE));
}

/* Every query of the live state, as one string (cy_free). */
static char *dump_live(cy_fw_live *f)
{
    cy_buf b;
    cy_buf_init(&b, 64u << 20);
    const comity_framework *fw = cy_fw_live_lock(f);
    dump(fw, &b);
    cy_fw_live_unlock(f);
    size_t len;
    char *out = (char *)cy_buf_detach(&b, &len);
    assert_non_null(out);
    return out;
}

/* ---- the orders ----------------------------------------------------------------------- */

static void order_of(int k, size_t *ord)
{
    for (size_t i = 0; i < nrecs; i++)
        ord[i] = i;
    if (k == 0)
        return;
    if (k == 1) {
        for (size_t i = 0; i < nrecs; i++)
            ord[i] = nrecs - 1 - i;
        return;
    }
    uint64_t x = 0x9e3779b97f4a7c15ull * (uint64_t)k; /* a fixed seed per order */
    for (size_t i = nrecs - 1; i > 0; i--) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t j = (size_t)(x % (i + 1)), t = ord[i];
        ord[i] = ord[j];
        ord[j] = t;
    }
}

#define ORDERS 6

/* The fold at start: the set stored in each order, the live state built
 * from the store. */
static void test_fold_at_start(void **state)
{
    (void)state;
    char *first = NULL;
    cy_fw_table t = {0};
    for (int k = 0; k < ORDERS; k++) {
        char *dir = tu_tmpdir();
        comity_store *st = store_new(dir);
        size_t ord[NREC_MAX];
        order_of(k, ord);
        for (size_t i = 0; i < nrecs; i++)
            store_row(st, ord[i], i);
        /* local delivered events stored before records of delivery
         * existed (a node upgraded): replayed after the records, they
         * give way to a record's time and keep their own where none is */
        bool added;
        TU_OK(cy_store_delivered_add(st, n1_id, "in.cert-in", T("2026-12-01T01:02:00Z"), &added,
                                     E));
        TU_OK(cy_store_delivered_add(st, p1_id, "in.mea", T("2026-12-01T04:02:00Z"), &added, E));
        TU_OK(cy_store_delivered_add(st, p2_id, "in.cert-in", T("2026-12-01T12:01:00Z"), &added,
                                     E));
        cy_fw_live *f = NULL;
        TU_OK(cy_fw_live_open(st, &t, &f, E));
        char *d = dump_live(f);
        if (!first) {
            const comity_framework *fw = cy_fw_live_lock(f);
            comity_msg_status s;
            TU_OK(comity_framework_status(fw, n1_id, "in.cert-in", 0, &s, E));
            assert_int_equal(s.delivered_ms, T("2026-12-01T01:05:00Z"));
            TU_OK(comity_framework_status(fw, n1_id, "us.cisa", 0, &s, E));
            assert_int_equal(s.delivered_ms, T("2026-12-01T01:30:00Z"));
            TU_OK(comity_framework_status(fw, p1_id, "us.cisa", 0, &s, E));
            assert_int_equal(s.state, COMITY_MSG_DELIVERED);
            assert_int_equal(s.delivered_ms, T("2026-12-01T04:30:00Z"));
            /* the pong's time: neither the later record's nor the event's */
            TU_OK(comity_framework_status(fw, p1_id, "in.mea", 0, &s, E));
            assert_int_equal(s.delivered_ms, T("2026-12-01T04:20:00Z"));
            TU_OK(comity_framework_status(fw, p2_id, "in.cert-in", 0, &s, E));
            assert_int_equal(s.state, COMITY_MSG_DELIVERED);
            assert_int_equal(s.delivered_ms, T("2026-12-01T12:01:00Z")); /* history kept */
            cy_fw_live_unlock(f);
            first = d;
            /* the set did what it was meant to: the conflict resolved,
             * the request acknowledged, the case closed */
            assert_non_null(strstr(d, "\"awaiting_me\""));
        } else {
            if (strcmp(first, d) != 0) {
                size_t at = 0;
                while (first[at] == d[at])
                    at++;
                size_t from = at > 120 ? at - 120 : 0;
                fail_msg("order %d differs at byte %zu:\n  natural: %.400s\n  this:    %.400s",
                         k, at, first + from, d + from);
            }
            cy_free(d);
        }
        cy_fw_live_free(f);
        comity_store_close(st);
        tu_rmrf(dir);
        free(dir);
    }
    cy_free(first);
}

/* As a peer's intake takes the records: relayed, one at a time, each
 * stored after the live state saw it, queries read now and then (the
 * lazy re-fold).  The end state is the fold at start's. */
static void test_fold_as_relayed(void **state)
{
    (void)state;
    char *first = NULL;
    cy_fw_table t = {0};
    for (int k = 0; k < ORDERS; k++) {
        char *dir = tu_tmpdir();
        comity_store *st = store_new(dir);
        cy_fw_live *f = NULL;
        TU_OK(cy_fw_live_open(st, &t, &f, E));
        size_t ord[NREC_MAX];
        order_of(k, ord);
        for (size_t i = 0; i < nrecs; i++) {
            bool added;
            comity_error e = {0};
            (void)cy_fw_live_add(f, recs[ord[i]].r, NULL, true, &added, &e);
            store_row(st, ord[i], i);
            /* two records a batch, as a committer would */
            if (i % 2 == 1 || i + 1 == nrecs)
                cy_fw_live_done(f);
            if (i % 5 == 4)
                cy_fw_live_unlock((cy_fw_live_lock(f), f)); /* a reader: re-folds if due */
        }
        cy_fw_live_settle(f); /* the re-fold due, without waiting for its gap */
        char *d = dump_live(f);
        if (k == 1) /* reversed: nothing arrives in its place */
            assert_true(cy_fw_live_refolds(f) >= 1);
        /* the same as a fold at start of this store */
        cy_fw_live *g = NULL;
        TU_OK(cy_fw_live_open(st, &t, &g, E));
        char *dg = dump_live(g);
        assert_string_equal(d, dg);
        cy_free(dg);
        cy_fw_live_free(g);
        if (!first)
            first = d;
        else {
            assert_string_equal(first, d);
            cy_free(d);
        }
        cy_fw_live_free(f);
        comity_store_close(st);
        tu_rmrf(dir);
        free(dir);
    }
    cy_free(first);
}

/* The concurrent conflict and the same-millisecond answer, resolved: the
 * close's id and the reply's id decide which comes first (the same on
 * every node), and the request is acknowledged in every order. */
static void test_conflict_resolved(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    comity_store *st = store_new(dir);
    for (size_t i = 0; i < nrecs; i++)
        store_row(st, nrecs - 1 - i, i);
    cy_fw_live *f = NULL;
    cy_fw_table t = {0};
    TU_OK(cy_fw_live_open(st, &t, &f, E));
    const comity_framework *fw = cy_fw_live_lock(f);
    const char *n1 = ids[2], *r1 = ids[6], *reply = ids[4], *close = ids[5];
    comity_msg_status s;
    TU_OK(comity_framework_status(fw, r1, "pk.mofa", 0, &s, E));
    assert_int_equal(s.state, COMITY_MSG_ACKNOWLEDGED);
    TU_OK(comity_framework_status(fw, n1, "in.cert-in", 0, &s, E));
    /* "close--" < "reply--": the close comes first, the reply is refused */
    assert_true(strcmp(close, reply) < 0);
    assert_int_equal(s.state, COMITY_MSG_CLOSED);
    cy_fw_live_unlock(f);
    cy_fw_live_free(f);
    comity_store_close(st);
    tu_rmrf(dir);
    free(dir);
}

/* ---- one millisecond, many records ------------------------------------------------- */

/* A group of one `created`: GN notifications, an ack of each (its id
 * sorts before the notification's: it names a record of its group after
 * it), a reply to every third (it names one before it), GC chains
 * notification <- consult-request <- consult-accept (ids decreasing along
 * each chain: the order of refs runs against the order of ids twice), and
 * a chain of GL notes on the last notification, each naming the one
 * before it (ids at random along it: its thread shows the chain's order). */
#define GN 120
#define GC 40
#define GL 30
#define GREC (2 * GN + GN / 3 + 1 + 2 * GC + GL)
static struct srec grp[GREC];
static size_t ngrp;
static char gn[GN][128], gc[GC][128], ga[GC][128], gl[GL][128];

static void gsign2(int who, const char *type, const char *to, const char *ref,
                   const char *ref2, const char *body, char *id)
{
    char tobuf[256];
    const char *tov[4];
    size_t nto = 0;
    if (to) {
        snprintf(tobuf, sizeof tobuf, "%s", to);
        for (char *x = strtok(tobuf, ","); x; x = strtok(NULL, ","))
            tov[nto++] = x;
    }
    const char *refv[2] = {ref, ref2};
    comity_record_params p = {.type = type, .to = tov, .nto = nto, .refs = refv,
                              .nrefs = ref2 ? 2 : ref ? 1 : 0, .tlp = "green"};
    assert_true(ngrp < GREC);
    struct srec *g = &grp[ngrp++];
    setenv("COMITY_FAKE_NOW", "2026-12-02T00:00:00.000Z", 1);
    TU_OK(comity_record_sign(keys[who], &p, body, strlen(body), &g->env, &g->len, E));
    unsetenv("COMITY_FAKE_NOW");
    TU_OK(comity_record_parse(g->env, g->len, &g->r, E));
    if (id)
        snprintf(id, 128, "%s", comity_record_id(g->r));
}

static void gsign(int who, const char *type, const char *to, const char *ref, const char *body,
                  char *id)
{
    gsign2(who, type, to, ref, NULL, body, id);
}

static void make_group(void)
{
    for (size_t i = 0; i < GN; i++)
        gsign(PK_CERT, "notification", "in.cert-in", NULL,
              "{\"severity\":3,\"sector\":\"energy\",\"summary\":\"grid\"}", gn[i]);
    for (size_t i = 0; i < GN; i++)
        gsign(IN_CERT, "ack", NULL, gn[i], "{}", NULL);
    for (size_t i = 0; i < GN; i += 3)
        gsign(IN_CERT, "reply", NULL, gn[i], "{\"outcome\":\"answered\",\"text\":\"done\"}",
              NULL);
    for (size_t j = 0; j < GC; j++) {
        gsign(PK_MOFA, "consult-request", "in.mea,un.unoda", gn[j],
              "{\"subject\":\"grid incident\",\"summary\":\"talks\",\"format\":\"video\"}",
              gc[j]);
        gsign(IN_MEA, "consult-accept", "pk.mofa,un.unoda", gc[j],
              "{\"date\":\"2026-12-20T10:00:00Z\",\"format\":\"in-person\"}", ga[j]);
    }
    for (size_t k = 0; k < GL; k++)
        gsign2(IN_CERT, "note", NULL, gn[GN - 1], k ? gl[k - 1] : NULL,
               "{\"text\":\"one more step\"}", gl[k]);
    /* the poc that gives pk.pkcert's kind, in the same millisecond */
    gsign(PK_CERT, "poc", NULL, NULL,
          POC_BODY("technical", "PKCERT", ",\"party\":\"pk.pkcert\""), NULL);
}

static void group_order(int k, size_t *ord)
{
    for (size_t i = 0; i < ngrp; i++)
        ord[i] = k == 1 ? ngrp - 1 - i : i;
    uint64_t x = 0x2545f4914f6cdd1dull * (uint64_t)(k + 1);
    for (size_t i = ngrp - 1; k >= 2 && i > 0; i--) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t j = (size_t)(x % (i + 1)), t = ord[i];
        ord[i] = ord[j];
        ord[j] = t;
    }
}

/* Every record of the group took effect, in its order. */
static void group_effects(cy_fw_live *f)
{
    const comity_framework *fw = cy_fw_live_lock(f);
    for (size_t i = 0; i < GN; i++) {
        comity_msg_status s;
        TU_OK(comity_framework_status(fw, gn[i], "in.cert-in", 0, &s, E));
        assert_int_equal(s.state, i % 3 ? COMITY_MSG_ACKNOWLEDGED : COMITY_MSG_ANSWERED);
        const char *const *th = NULL;
        size_t n = 0;
        TU_OK(cy_fw_thread(fw, gn[i], &th, &n, E));
        /* each record once */
        assert_int_equal(n, 1 + (i % 3 == 0) + (i < GC) + (i == GN - 1 ? GL : 0));
        if (i == GN - 1) /* the ack, then the notes in the order they name each other */
            for (size_t k = 0; k < GL; k++)
                assert_string_equal(th[1 + k], gl[k]);
    }
    for (size_t j = 0; j < GC; j++) {
        char *json = NULL;
        TU_OK(comity_framework_case(fw, gc[j], NULL, 0, &json, E));
        assert_non_null(strstr(json, ga[j])); /* the acceptance took effect */
        comity_free(json);
    }
    cy_fw_live_unlock(f);
}

/* The group, stored in several orders and folded at start, or fed as a
 * peer's intake feeds it: one state, every record in effect. */
static void test_one_ms_group(void **state)
{
    (void)state;
    make_group();
    cy_fw_table t = {0};
    char *first = NULL;
    for (int k = 0; k < 4; k++) {
        size_t ord[GREC];
        group_order(k, ord);
        char *dir = tu_tmpdir();
        comity_store *st = store_new(dir);
        for (size_t i = 0; i < ngrp; i++)
            store_rec(st, &grp[ord[i]], i);
        cy_fw_live *f = NULL;
        TU_OK(cy_fw_live_open(st, &t, &f, E));
        group_effects(f);
        char *d = dump_live(f);
        cy_fw_live_free(f);
        comity_store_close(st);
        tu_rmrf(dir);
        free(dir);
        /* fed: relayed, stored, a reader now and then */
        dir = tu_tmpdir();
        st = store_new(dir);
        TU_OK(cy_fw_live_open(st, &t, &f, E));
        for (size_t i = 0; i < ngrp; i++) {
            bool added;
            comity_error e = {0};
            (void)cy_fw_live_add(f, grp[ord[i]].r, NULL, true, &added, &e);
            store_rec(st, &grp[ord[i]], i);
            cy_fw_live_done(f);
            if (i % 37 == 0)
                cy_fw_live_unlock((cy_fw_live_lock(f), f));
        }
        cy_fw_live_settle(f);
        group_effects(f);
        char *d2 = dump_live(f);
        assert_string_equal(d, d2);
        cy_free(d2);
        cy_fw_live_free(f);
        comity_store_close(st);
        tu_rmrf(dir);
        free(dir);
        if (!first) {
            first = d;
        } else {
            assert_string_equal(first, d);
            cy_free(d);
        }
    }
    cy_free(first);
    for (size_t i = 0; i < ngrp; i++) {
        comity_free(grp[i].env);
        comity_record_free(grp[i].r);
    }
    ngrp = 0;
}

/* ---- the re-fold off the lock ------------------------------------------------------ */

struct feeder {
    cy_fw_live *f;
    comity_store *st;
    const size_t *ord;
    size_t from, to;
};

/* Feeds records from..to of the order as a committer does. */
static void *feed_thread(void *arg)
{
    struct feeder *fd = arg;
    for (size_t i = fd->from; i < fd->to; i++) {
        bool added;
        comity_error e = {0};
        (void)cy_fw_live_add(fd->f, grp[fd->ord[i]].r, NULL, true, &added, &e);
        store_rec(fd->st, &grp[fd->ord[i]], i);
        cy_fw_live_done(fd->f);
    }
    return NULL;
}

/* Re-folds run while another thread feeds records (the fold from the
 * store off the lock, then what arrived meanwhile replayed at the swap):
 * whatever the interleaving, the state once settled is the fold at start
 * of the same store. */
static void test_refold_while_fed(void **state)
{
    (void)state;
    make_group();
    cy_fw_table t = {0};
    size_t ord[GREC];
    group_order(1, ord); /* reversed: most records land before the folded */
    char *dir = tu_tmpdir();
    comity_store *st = store_new(dir);
    size_t half = ngrp / 2;
    for (size_t i = 0; i < half; i++)
        store_rec(st, &grp[ord[i]], i);
    cy_fw_live *f = NULL;
    TU_OK(cy_fw_live_open(st, &t, &f, E));
    struct feeder fd = {f, st, ord, half, ngrp};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, feed_thread, &fd), 0);
    uint64_t before = cy_fw_live_refolds(f);
    for (int i = 0; i < 200; i++) {
        cy_fw_live_settle(f); /* forced: a re-fold whenever one is due */
        cy_fw_live_unlock((cy_fw_live_lock(f), f));
    }
    pthread_join(th, NULL);
    cy_fw_live_settle(f);
    assert_true(cy_fw_live_refolds(f) > before);
    group_effects(f);
    char *d = dump_live(f);
    cy_fw_live *g = NULL;
    TU_OK(cy_fw_live_open(st, &t, &g, E));
    char *dg = dump_live(g);
    assert_string_equal(d, dg);
    cy_free(d);
    cy_free(dg);
    cy_fw_live_free(g);
    cy_fw_live_free(f);
    comity_store_close(st);
    tu_rmrf(dir);
    free(dir);
    for (size_t i = 0; i < ngrp; i++) {
        comity_free(grp[i].env);
        comity_record_free(grp[i].r);
    }
    ngrp = 0;
}


/* ---- a record signed after its signer's revocation ------------------------------ */

/* alice, an officer of pk.mofa (a key named after the office), and her
 * revocation v: revoked_at 10:30, W(v) 11:00 (docs/federation.md,
 * section 1).  r_ok (created 10:00, W 10:05) was signed before v by both
 * times; r_late (created 10:20, W 11:10: witnessed after v) was not, so
 * a node that had v first refused it (never logged) and one that logged
 * it first folds it without effect.  r_late names r_ok (its thread) and
 * in.cert-in acknowledges r_ok. */
#define REV_AT "2026-12-02T10:30:00Z"
#define REV_W "2026-12-02T11:00:00Z"
static comity_key *alice, *alice2; /* alice2: the new key she was given */
static size_t r_ok, r_late, r_ack, r_new;
/* each record's W and signer as a puller stores them (by index in recs) */
static int64_t rw[NREC_MAX];
static const char *rsigner[NREC_MAX];
/* writes the revocation v (`revoked`) or the keys without it */
static void (*revoke_row)(comity_store *st, bool revoked);

static void mk_alice(const char *at, const char *refs, const char *summary)
{
    char body[256];
    snprintf(body, sizeof body,
             "{\"severity\":3,\"sector\":\"energy\",\"summary\":\"%s\"}", summary);
    const char *refv[1] = {refs};
    const char *to[1] = {"in.cert-in"};
    comity_record_params p = {.type = "notification", .to = to, .nto = 1,
                              .refs = refv, .nrefs = refs ? 1 : 0, .tlp = "green"};
    setenv("COMITY_FAKE_NOW", at, 1);
    struct srec *s = &recs[nrecs++];
    assert_true(nrecs <= NREC_MAX);
    TU_OK(comity_record_sign(r_new == nrecs - 1 ? alice2 : alice, &p, body, strlen(body),
                             &s->env, &s->len, E));
    unsetenv("COMITY_FAKE_NOW");
    TU_OK(comity_record_parse(s->env, s->len, &s->r, E));
    snprintf(ids[nids++], sizeof ids[0], "%s", comity_record_id(s->r));
}

/* Stores record i as a puller with a witness policy does: its W and its
 * signer kept with the row. */
static void store_pulled(comity_store *st, size_t i, uint64_t idx, int64_t w, const char *signer)
{
    const comity_record *r = recs[i].r;
    const char *to[8];
    size_t nto = comity_record_to_count(r);
    for (size_t k = 0; k < nto; k++)
        to[k] = comity_record_to(r, k);
    cy_record_in in = {
        .id = comity_record_id(r), .type = comity_record_type(r),
        .author = comity_record_author(r), .tlp = comity_record_tlp(r),
        .created = comity_record_created(r), .created_ms = comity_record_created_ms(r),
        .digest = comity_record_digest(r), .log_index = idx,
        .received_us = (int64_t)idx * 1000, .envelope = recs[i].env,
        .envelope_len = recs[i].len, .to = to, .nto = nto, .witnessed_ms = w,
        .signer = signer};
    TU_OK(cy_store_records_add(st, &in, 1, NULL, E));
}

/* alice's rows in the store: her first key revoked (as `roster apply`
 * writes v) or not, and her new key. */
static void alice_row(comity_store *st, bool revoked)
{
    cy_principal_user n = {.valid_from_ms = -1, .revoked_ms = -1};
    snprintf(n.principal, sizeof n.principal, "pk.mofa");
    snprintf(n.name, sizeof n.name, "alice");
    snprintf(n.vkey, sizeof n.vkey, "%s", comity_key_vkey(alice2));
    TU_OK(cy_store_user_put(st, &n, E));
    cy_principal_user u = {.valid_from_ms = -1, .revoked_ms = -1};
    snprintf(u.principal, sizeof u.principal, "pk.mofa");
    snprintf(u.name, sizeof u.name, "alice");
    snprintf(u.vkey, sizeof u.vkey, "%s", comity_key_vkey(alice));
    if (revoked) {
        u.revoked_ms = T(REV_AT);
        u.revoked_w_ms = T(REV_W);
        snprintf(u.reason, sizeof u.reason, "key lost");
    }
    TU_OK(cy_store_user_put(st, &u, E));
}

/* us.cisa's own key revoked (as `roster apply` writes an office's or a
 * state key's revocation: principals.revoked_at, revoked_w) or not. */
static void office_row(comity_store *st, bool revoked)
{
    cy_principal p;
    if (cy_store_principal_get(st, names[US], &p, NULL, NULL) != COMITY_OK) {
        memset(&p, 0, sizeof p);
        snprintf(p.name, sizeof p.name, "%s", names[US]);
        snprintf(p.kind, sizeof p.kind, "party");
        snprintf(p.vkey, sizeof p.vkey, "%s", comity_key_vkey(keys[US]));
        snprintf(p.recipient, sizeof p.recipient, "%s", comity_key_recipient(keys[US]));
        TU_OK(cy_store_principal_add(st, &p, "us-token", E));
    }
    if (revoked)
        TU_OK(cy_store_principal_set_revoked(st, names[US], comity_key_vkey(keys[US]), T(REV_AT),
                                             T(REV_W), E));
}

/* Every query, and the threads of the three records. */
static char *dump_rev(cy_fw_live *f)
{
    char *d = dump_live(f);
    cy_buf b;
    cy_buf_init(&b, 1u << 20);
    (void)cy_buf_puts(&b, d);
    cy_free(d);
    const comity_framework *fw = cy_fw_live_lock(f);
    size_t who[3] = {r_ok, r_late, r_ack};
    for (size_t k = 0; k < 3; k++) {
        const char *const *t = NULL;
        size_t n = 0;
        const char *id = comity_record_id(recs[who[k]].r);
        comity_err rc = cy_fw_thread(fw, id, &t, &n, NULL);
        (void)cy_buf_printf(&b, "thread %s: %d", id, rc);
        for (size_t i = 0; !rc && i < n; i++)
            (void)cy_buf_printf(&b, " %s", t[i]);
        (void)cy_buf_puts(&b, "\n");
    }
    cy_fw_live_unlock(f);
    size_t len;
    char *out = (char *)cy_buf_detach(&b, &len);
    assert_non_null(out);
    return out;
}

/* The answers of a store holding `which` of the three records (stored in
 * that order), alice revoked before (`v_first`) or after they were
 * stored; live: fed as relayed records, then the revocation applied
 * (cy_fw_live_keys_changed) and read again; else folded at start.  OUT
 * (cy_free); *before (may be NULL) gets the answers before the
 * revocation (live only). */
static char *rev_run(const size_t *which, size_t n, bool v_first, bool live, char **before)
{
    char *dir = tu_tmpdir();
    comity_store *st = store_new(dir);
    cy_fw_table t = {0};
    revoke_row(st, v_first);
    cy_fw_live *f = NULL;
    if (live)
        TU_OK(cy_fw_live_open(st, &t, &f, E));
    for (size_t i = 0; i < n; i++) {
        size_t r = which[i];
        if (live) {
            bool added;
            comity_error e = {0};
            (void)cy_fw_live_add(f, recs[r].r, NULL, true, &added, &e);
        }
        store_pulled(st, r, i, rw[r], rsigner[r]);
        if (live)
            cy_fw_live_done(f);
    }
    if (live) {
        cy_fw_live_settle(f);
        if (before)
            *before = dump_rev(f);
        uint64_t k = cy_fw_live_refolds(f);
        char *g0 = NULL, *g1 = NULL;
        if (cy_store_meta_get(st, "users_gen", &g0, NULL) != COMITY_OK)
            g0 = NULL; /* no key written yet (an office's alone) */
        revoke_row(st, true); /* v arrives: roster apply writes it */
        /* the store counts writes to the users' keys (another process's
         * apply is seen by it) */
        TU_OK(cy_store_meta_get(st, "users_gen", &g1, E));
        assert_true(!g0 || strcmp(g0, g1) != 0);
        cy_free(g0);
        cy_free(g1);
        cy_fw_live_keys_changed(f);
        cy_fw_live_settle(f);
        assert_true(cy_fw_live_refolds(f) == k + 1);
    } else {
        if (!v_first)
            revoke_row(st, true);
        TU_OK(cy_fw_live_open(st, &t, &f, E));
    }
    char *d = dump_rev(f);
    cy_fw_live_free(f);
    comity_store_close(st);
    tu_rmrf(dir);
    free(dir);
    return d;
}

static void test_revoked_signer(void **state)
{
    (void)state;
    TU_OK(comity_key_generate("pk.mofa", &alice, E));
    TU_OK(comity_key_generate("pk.mofa", &alice2, E));
    r_new = SIZE_MAX;
    r_ok = nrecs;
    mk_alice("2026-12-02T10:00:00Z", NULL, "before the revocation");
    char ok_id[128];
    snprintf(ok_id, sizeof ok_id, "%s", comity_record_id(recs[r_ok].r));
    r_late = nrecs;
    mk_alice("2026-12-02T10:20:00Z", ok_id, "witnessed after it");
    r_ack = nrecs;
    mk(IN_CERT, "ack", "2026-12-02T10:40:00Z", NULL, ok_id, "{}", NULL);
    r_new = nrecs; /* by her new key, after: in effect everywhere */
    mk_alice("2026-12-02T11:30:00Z", NULL, "by her new key");
    revoke_row = alice_row;
    rw[r_ok] = T("2026-12-02T10:05:00Z");
    rw[r_late] = T("2026-12-02T11:10:00Z");
    rw[r_ack] = T("2026-12-02T10:45:00Z");
    rw[r_new] = T("2026-12-02T11:35:00Z");
    rsigner[r_ok] = rsigner[r_late] = rsigner[r_new] = "alice";

    /* v first: r_late refused at intake, never logged */
    size_t without[3] = {r_ok, r_ack, r_new};
    char *want = rev_run(without, 3, true, false, NULL);
    assert_non_null(strstr(want, "thread"));
    /* r before v, in three orders, folded at start and fed live */
    size_t orders[3][4] = {{r_ok, r_late, r_ack, r_new},
                           {r_late, r_new, r_ack, r_ok},
                           {r_new, r_ack, r_late, r_ok}};
    for (int k = 0; k < 3; k++) {
        char *d = rev_run(orders[k], 4, false, false, NULL);
        assert_string_equal(want, d);
        cy_free(d);
        char *before = NULL;
        d = rev_run(orders[k], 4, false, true, &before);
        assert_string_equal(want, d);
        /* before v, r_late had its effect (the test can fail) */
        assert_string_not_equal(want, before);
        assert_non_null(strstr(before, comity_record_id(recs[r_late].r)));
        cy_free(before);
        cy_free(d);
    }
    /* r_ok keeps its effect, r_late has none and is in no thread */
    const char *late = comity_record_id(recs[r_late].r);
    char line[300];
    snprintf(line, sizeof line, "status %s in.cert-in: 0", ok_id);
    assert_non_null(strstr(want, line));
    snprintf(line, sizeof line, "status %s in.cert-in: 0", late);
    assert_null(strstr(want, line));
    /* her new key's record, signed as "alice" too, keeps its effect */
    snprintf(line, sizeof line, "status %s in.cert-in: 0", comity_record_id(recs[r_new].r));
    assert_non_null(strstr(want, line));
    snprintf(line, sizeof line, "thread %s: 0 %s\n", ok_id,
             comity_record_id(recs[r_ack].r));
    assert_non_null(strstr(want, line));
    cy_free(want);
    comity_key_free(alice);
    comity_key_free(alice2);
}

/* The same for an office's own key (us.cisa's, revoked as `roster apply`
 * writes it: REV_AT, W REV_W): o_ok (created 10:00, W 10:05) keeps its
 * effect, o_late (created 10:20, W 11:10: witnessed after v) has none and
 * is in no thread, wherever v landed.  A `delivered` record in us.cisa's
 * name (o_del: created 10:50, W 11:20) is signed by its home node's log
 * key, not by the revoked key: it keeps its effect (us.cisa's delivery
 * of o_msg). */
static void test_revoked_office(void **state)
{
    (void)state;
    char ok_id[128], msg_id[128];
    r_new = SIZE_MAX;
    r_ok = nrecs;
    mk(US, "notification", "2026-12-02T10:00:00Z", "in.cert-in", NULL,
       "{\"severity\":3,\"sector\":\"energy\",\"summary\":\"office before\"}", ok_id);
    r_late = nrecs;
    mk(US, "notification", "2026-12-02T10:20:00Z", "in.cert-in", ok_id,
       "{\"severity\":3,\"sector\":\"energy\",\"summary\":\"office late\"}", NULL);
    r_ack = nrecs;
    mk(IN_CERT, "ack", "2026-12-02T10:40:00Z", NULL, ok_id, "{}", NULL);
    size_t o_msg = nrecs;
    mk(IN_CERT, "notification", "2026-12-02T10:10:00Z", "us.cisa", NULL,
       "{\"severity\":2,\"sector\":\"water\",\"summary\":\"to the office\"}", msg_id);
    size_t o_del = nrecs;
    mkd(US, "2026-12-02T10:50:00Z", msg_id, "in.cert-in");
    revoke_row = office_row;
    rw[r_ok] = T("2026-12-02T10:05:00Z");
    rw[r_late] = T("2026-12-02T11:10:00Z");
    rw[r_ack] = T("2026-12-02T10:45:00Z");
    rw[o_msg] = T("2026-12-02T10:12:00Z");
    rw[o_del] = T("2026-12-02T11:20:00Z");
    for (size_t i = r_ok; i < nrecs; i++)
        rsigner[i] = NULL; /* the office's own key, or the node's log key */

    /* v first: o_late refused at intake, never logged */
    size_t without[4] = {r_ok, r_ack, o_msg, o_del};
    char *want = rev_run(without, 4, true, false, NULL);
    size_t orders[3][5] = {{r_ok, r_late, r_ack, o_msg, o_del},
                           {o_del, r_late, o_msg, r_ack, r_ok},
                           {r_late, o_msg, r_ok, o_del, r_ack}};
    for (int k = 0; k < 3; k++) {
        char *d = rev_run(orders[k], 5, false, false, NULL);
        assert_string_equal(want, d);
        cy_free(d);
        char *before = NULL;
        d = rev_run(orders[k], 5, false, true, &before);
        assert_string_equal(want, d);
        /* before v, o_late had its effect (the test can fail) */
        assert_string_not_equal(want, before);
        cy_free(before);
        cy_free(d);
    }
    const char *late = comity_record_id(recs[r_late].r);
    char line[300];
    snprintf(line, sizeof line, "status %s in.cert-in: 0", ok_id);
    assert_non_null(strstr(want, line));
    snprintf(line, sizeof line, "status %s in.cert-in: 0", late);
    assert_null(strstr(want, line));
    snprintf(line, sizeof line, "thread %s: 0 %s\n", ok_id, comity_record_id(recs[r_ack].r));
    assert_non_null(strstr(want, line));
    /* the node log key's record kept its effect: o_msg delivered to
     * us.cisa at o_del's time */
    snprintf(line, sizeof line, "status %s us.cisa: 0", msg_id);
    const char *st = strstr(want, line);
    assert_non_null(st);
    snprintf(line, sizeof line, " %lld\n", (long long)T("2026-12-02T10:50:00Z"));
    const char *nl = strchr(st, '\n');
    assert_non_null(nl);
    assert_true((size_t)(nl + 1 - st) > strlen(line));
    assert_memory_equal(nl + 1 - strlen(line), line, strlen(line));
    cy_free(want);
}

int main(void)
{
    int skip = tu_store_skip();
    if (skip)
        return skip;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fold_at_start),
        cmocka_unit_test(test_fold_as_relayed),
        cmocka_unit_test(test_conflict_resolved),
        cmocka_unit_test(test_one_ms_group),
        cmocka_unit_test(test_refold_while_fed),
        cmocka_unit_test(test_revoked_signer), /* last ones: they add to the set */
        cmocka_unit_test(test_revoked_office),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
