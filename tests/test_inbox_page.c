/*
 * test_inbox_page.c: a party's inbox a page at a time
 * (comity_framework_inbox_page) and the counts behind the node's e-mail
 * alerts (cy_fw_awaiting), both read through the framework's index by
 * name.
 *
 * One handle holds messages to in.mea, to its state "in", to in.mea and
 * its state together, to other parties, and sent by in.mea, with deadlines
 * spread so that some are overdue at the test's `now`.  Walking the pages
 * with their cursors, at several page sizes, must give exactly the whole
 * inbox (comity_framework_inbox) in its order; a cursor keeps its place
 * when an item before it is answered between two pages; malformed cursors
 * and limits are refused with a message.
 */
#include <stdlib.h>

#include <jansson.h>

#include "base/base.h"
#include "framework/framework.h"
#include "util/parties.h"

enum { IN_MEA, IN_CERT, PK_MOFA, FR, NK };
static const char *const names[NK] = {"in.mea", "in.cert-in", "pk.mofa", "fr.anssi"};
static comity_key *keys[NK];
static comity_vkey *vkeys[NK];
static tu_parties cast = {names, keys, vkeys, NK, false};

static int setup(void **state)
{
    (void)state;
    return tu_parties_make(&cast);
}

static int teardown(void **state)
{
    (void)state;
    tu_parties_free(&cast);
    return 0;
}

static int64_t T(const char *s) { return tu_time(s); }

/* Signs and feeds a record of `who` at `at` to the comma-separated `to`
 * (may be NULL), answering `ref` (may be NULL); its id into id (may be
 * NULL). */
static void add(comity_framework *fw, int who, const char *type, const char *at, const char *to,
                const char *ref, const char *body, char *id)
{
    comity_record *r = tu_record(&cast, who, type, at, to, ref, body, false);
    if (id)
        snprintf(id, 128, "%s", comity_record_id(r));
    TU_OK(comity_framework_add(fw, r, NULL, 0, E));
    comity_record_free(r);
}

static json_t *parse(char *json)
{
    json_t *j = json_loads(json, 0, NULL);
    comity_free(json);
    assert_non_null(j);
    return j;
}

/* A notification of severity sev at minute `min` after 2026-12-01T00:00. */
static void note(comity_framework *fw, int who, const char *to, int min, int sev, char *id)
{
    char at[40], body[128];
    snprintf(at, sizeof at, "2026-12-01T%02d:%02d:00.000Z", min / 60, min % 60);
    snprintf(body, sizeof body, "{\"severity\":%d,\"sector\":\"energy\",\"summary\":\"s\"}",
             sev);
    add(fw, who, "notification", at, to, NULL, body, id);
}

#define NOW "2026-12-01T20:00:00Z"

/* 120 messages in all: 60 for in.mea (to it, to "in", to both), 40 to
 * others, 20 sent by in.mea (to two parties each). */
static comity_framework *fill(char first_mine[128])
{
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    static const char *const mine_to[] = {"in.mea", "in", "in.mea,in", "in.mea,fr.anssi"};
    for (int i = 0; i < 120; i++) {
        int min = (i * 7) % 600, sev = 1 + i % 5;
        if (i % 2 == 0)
            note(fw, i % 4 ? PK_MOFA : FR, mine_to[(i / 2) % 4], min, sev,
                 i == 0 ? first_mine : NULL);
        else if (i % 6 == 1)
            note(fw, IN_MEA, "pk.mofa,fr.anssi", min, sev, NULL);
        else
            note(fw, PK_MOFA, i % 3 ? "fr.anssi" : "in.cert-in", min, sev, NULL);
    }
    return fw;
}

/* Every page of box `b` ("me" or "others") at page size `limit`,
 * appended to an array, equals the whole list. */
static void walk(comity_framework *fw, const char *b, size_t limit, const json_t *whole)
{
    char list[32], next[32], total[32];
    snprintf(list, sizeof list, "awaiting_%s", b);
    snprintf(next, sizeof next, "next_%s", b);
    snprintf(total, sizeof total, "total_%s", b);
    json_t *all = json_array();
    char *after = NULL, *json;
    size_t pages = 0;
    for (;;) {
        TU_OK(comity_framework_inbox_page(fw, "in.mea", T(NOW), limit, after, &json, E));
        json_t *o = parse(json);
        json_t *items = json_object_get(o, list);
        assert_true(json_array_size(items) <= limit);
        assert_int_equal(json_integer_value(json_object_get(o, total)), json_array_size(whole));
        if (after) /* a cursor continues its own list only */
            assert_null(json_object_get(o, strcmp(b, "me") ? "awaiting_me" : "awaiting_others"));
        json_array_extend(all, items);
        pages++;
        free(after);
        const char *n = json_string_value(json_object_get(o, next));
        after = n ? strdup(n) : NULL;
        if (n)
            assert_int_equal(json_array_size(items), limit);
        json_decref(o);
        if (!after)
            break;
        if (pages > json_array_size(whole)) /* a cursor that does not move on */
            fail_msg("%s: more pages than items at limit %zu", b, limit);
    }
    assert_true(json_equal(all, whole));
    assert_int_equal(pages, json_array_size(whole) ? (json_array_size(whole) + limit - 1) / limit
                                                   : 1);
    json_decref(all);
}

static void test_pages_are_the_whole_inbox(void **state)
{
    (void)state;
    char first[128];
    comity_framework *fw = fill(first);
    char *json;
    TU_OK(comity_framework_inbox(fw, "in.mea", T(NOW), &json, E));
    json_t *whole = parse(json);
    json_t *me = json_object_get(whole, "awaiting_me"), *others =
                                                           json_object_get(whole, "awaiting_others");
    /* to in.mea, to "in" and to both (one slot: its own): 60 items */
    assert_int_equal(json_array_size(me), 60);
    assert_int_equal(json_array_size(others), 40);
    /* overdue first: the inbox's order puts every overdue item first */
    size_t i;
    json_t *it;
    bool seen_not_overdue = false;
    json_array_foreach(me, i, it) {
        if (!json_is_true(json_object_get(it, "overdue")))
            seen_not_overdue = true;
        else
            assert_false(seen_not_overdue);
    }
    assert_true(seen_not_overdue);
    assert_true(json_is_true(json_object_get(json_array_get(me, 0), "overdue")));
    static const size_t sizes[] = {1, 7, 50, 60, 500};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        walk(fw, "me", sizes[k], me);
        walk(fw, "others", sizes[k], others);
    }
    /* the first page holds both lists */
    TU_OK(comity_framework_inbox_page(fw, "in.mea", T(NOW), 50, NULL, &json, E));
    json_t *o = parse(json);
    assert_int_equal(json_array_size(json_object_get(o, "awaiting_me")), 50);
    assert_int_equal(json_array_size(json_object_get(o, "awaiting_others")), 40);
    assert_true(json_is_string(json_object_get(o, "next_me")));
    assert_true(json_is_null(json_object_get(o, "next_others")));
    json_decref(o);
    /* a party with nothing: empty lists, no cursor */
    TU_OK(comity_framework_inbox_page(fw, "de.bsi", T(NOW), 50, NULL, &json, E));
    o = parse(json);
    assert_int_equal(json_array_size(json_object_get(o, "awaiting_me")), 0);
    assert_true(json_is_null(json_object_get(o, "next_me")));
    assert_int_equal(json_integer_value(json_object_get(o, "total_others")), 0);
    json_decref(o);
    json_decref(whole);
    comity_framework_free(fw);
}

/* An item before the cursor is answered between two pages: the next page
 * starts where it would have, nothing repeated and nothing skipped. */
static void test_cursor_keeps_its_place(void **state)
{
    (void)state;
    char first[128];
    comity_framework *fw = fill(first);
    char *json;
    TU_OK(comity_framework_inbox(fw, "in.mea", T(NOW), &json, E));
    json_t *whole = parse(json), *me = json_object_get(whole, "awaiting_me");
    TU_OK(comity_framework_inbox_page(fw, "in.mea", T(NOW), 10, NULL, &json, E));
    json_t *p1 = parse(json);
    char after[COMITY_FW_INBOX_CURSOR_MAX + 1];
    snprintf(after, sizeof after, "%s", json_string_value(json_object_get(p1, "next_me")));
    /* in.mea acknowledges the first item of page 1 */
    const char *id0 = json_string_value(json_object_get(json_array_get(me, 0), "id"));
    add(fw, IN_MEA, "ack", "2026-12-01T19:00:00.000Z", NULL, id0, "{}", NULL);
    TU_OK(comity_framework_inbox_page(fw, "in.mea", T(NOW), 10, after, &json, E));
    json_t *p2 = parse(json), *items = json_object_get(p2, "awaiting_me");
    assert_int_equal(json_array_size(items), 10);
    for (size_t i = 0; i < 10; i++)
        assert_true(json_equal(json_array_get(items, i), json_array_get(me, 10 + i)));
    assert_int_equal(json_integer_value(json_object_get(p2, "total_me")), 59);
    json_decref(p1);
    json_decref(p2);
    json_decref(whole);
    comity_framework_free(fw);
}

static void test_refusals(void **state)
{
    (void)state;
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    char *json = NULL;
    TU_FAILS(comity_framework_inbox_page(fw, "in.mea", 0, 0, NULL, &json, E),
             COMITY_ERR_INVALID, "limit 0: want 1-500");
    TU_FAILS(comity_framework_inbox_page(fw, "in.mea", 0, 501, NULL, &json, E),
             COMITY_ERR_INVALID, "limit 501");
    TU_FAILS(comity_framework_inbox_page(fw, "IN", 0, 5, NULL, &json, E), COMITY_ERR_INVALID,
             "inbox");
    static const struct {
        const char *c, *why;
    } bad[] = {
        {"", "want m. or o. first"},
        {"x.1.notification--a.in.mea", "want m. or o. first"},
        {"m1.notification--a.in.mea", "want m. or o. first"},
        {"m..notification--a.in.mea", "want the due time"},
        {"m.12a.notification--a.in.mea", "want the due time"},
        {"m.1234567890123456.n.in.mea", "want the due time"},
        {"m.12.notification--a", "want a message id"},
        {"m.12..in.mea", "want a message id"},
        {"m.12.notification--a.IN", "want a party last"},
        {"m.12.notification--a.", "want a party last"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        TU_FAILS(comity_framework_inbox_page(fw, "in.mea", 0, 5, bad[i].c, &json, E),
                 COMITY_ERR_INVALID, bad[i].why);
        assert_null(json);
    }
    char longc[400];
    memset(longc, 'a', sizeof longc - 1);
    longc[sizeof longc - 1] = 0;
    longc[0] = 'm', longc[1] = '.';
    TU_FAILS(comity_framework_inbox_page(fw, "in.mea", 0, 5, longc, &json, E),
             COMITY_ERR_INVALID, "too long");
    /* a well-formed cursor naming no item still pages from its place */
    TU_OK(comity_framework_inbox_page(fw, "in.mea", 0, 5, "o.0.notification--x.in.mea", &json,
                                      E));
    json_t *o = parse(json);
    assert_int_equal(json_array_size(json_object_get(o, "awaiting_others")), 0);
    assert_null(json_object_get(o, "awaiting_me"));
    json_decref(o);
    comity_framework_free(fw);
}

/* The alert counts: new since a sequence, fell due in a span. */
/* Filters on the node: every page of a filtered inbox, put together, is
 * the whole inbox with the same filter applied here; totals count what
 * passes; a sealed message passes severity and sector (unknown here),
 * not type, state or search; bad filters are refused naming them. */
static void keep_json(const json_t *whole, const char *box, int sev, const char *q, json_t *out)
{
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(whole, box), i, it)
    {
        json_t *s = json_object_get(it, "severity");
        bool ok = !sev || (json_is_integer(s) && json_integer_value(s) == sev) ||
                  (json_is_true(json_object_get(it, "sealed")) && json_is_null(s));
        if (q)
            ok = ok && (strstr(json_string_value(json_object_get(it, "id")), q) ||
                        strstr(json_string_value(json_object_get(it, "from")), q) ||
                        strstr(json_string_value(json_object_get(it, "to")), q));
        if (ok)
            json_array_append(out, it);
    }
}

static void test_filters(void **state)
{
    (void)state;
    char first[128];
    comity_framework *fw = fill(first);
    /* a sealed notification to in.mea: its severity (5) and sector are
     * sealed, unknown to the framework */
    const char *to[] = {"in.mea"};
    comity_record_params p = {.type = "notification", .to = to, .nto = 1, .tlp = "amber",
                              .seal_to = NULL, .nseal_to = 0};
    const char *rcpt = comity_key_recipient(keys[IN_MEA]);
    p.seal_to = &rcpt;
    p.nseal_to = 1;
    setenv("COMITY_FAKE_NOW", "2026-12-01T03:00:00.000Z", 1);
    char *env;
    size_t el;
    const char *body = "{\"severity\":5,\"sector\":\"water\",\"summary\":\"sealed\"}";
    TU_OK(comity_record_sign(keys[PK_MOFA], &p, body, strlen(body), &env, &el, E));
    unsetenv("COMITY_FAKE_NOW");
    comity_record *r;
    TU_OK(comity_record_verify(env, el, (const comity_vkey *const *)vkeys, NK, &r, E));
    comity_free(env);
    char sealed_id[128];
    snprintf(sealed_id, sizeof sealed_id, "%s", comity_record_id(r));
    TU_OK(comity_framework_add(fw, r, NULL, 0, E));
    comity_record_free(r);

    char *json;
    TU_OK(comity_framework_inbox(fw, "in.mea", T(NOW), &json, E));
    json_t *whole = parse(json);
    static const struct { int sev; const char *q; } cases[] = {{3, NULL}, {0, "fr.anssi"},
                                                               {2, "pk"}, {0, "ZZZ-none"}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        comity_inbox_filter f = {.severity = cases[c].sev, .q = cases[c].q};
        for (int box = 0; box < 2; box++) {
            const char *b = box ? "awaiting_others" : "awaiting_me";
            json_t *want = json_array(), *got = json_array();
            keep_json(whole, b, cases[c].sev, cases[c].q, want);
            char after[COMITY_FW_INBOX_CURSOR_MAX + 1] = "";
            json_int_t total = -1;
            for (int guard = 0; guard < 100; guard++) {
                TU_OK(comity_framework_inbox_find(fw, "in.mea", T(NOW), 7, *after ? after : NULL,
                                                  &f, &json, E));
                json_t *pg = parse(json);
                json_array_extend(got, json_object_get(pg, b));
                total = json_integer_value(json_object_get(pg, box ? "total_others" : "total_me"));
                const char *next = json_string_value(
                    json_object_get(pg, box ? "next_others" : "next_me"));
                snprintf(after, sizeof after, "%s", next ? next : "");
                json_decref(pg);
                if (!*after)
                    break;
            }
            if (!json_equal(want, got))
                fail_msg("filter %zu, %s: pages differ from the whole inbox filtered", c, b);
            assert_int_equal(total, (json_int_t)json_array_size(want));
            if (c == 0 && !box) {
                /* severity 3 keeps the sealed one (unknown), marked sealed */
                bool seen = false;
                size_t i;
                json_t *it;
                json_array_foreach(got, i, it)
                    seen = seen || !strcmp(json_string_value(json_object_get(it, "id")), sealed_id);
                assert_true(seen);
                assert_true(json_array_size(got) > 1);
            }
            json_decref(want);
            json_decref(got);
        }
    }
    json_decref(whole);
    /* sector: clear ones by their value, sealed ones pass; type and state
     * are clear: a sealed notification is one */
    comity_inbox_filter f = {.sector = "water"};
    TU_OK(comity_framework_inbox_find(fw, "in.mea", T(NOW), 500, NULL, &f, &json, E));
    json_t *pg = parse(json);
    assert_int_equal(json_array_size(json_object_get(pg, "awaiting_me")), 1); /* only the sealed */
    assert_true(json_is_true(json_object_get(json_array_get(json_object_get(pg, "awaiting_me"), 0),
                                             "sealed")));
    json_decref(pg);
    f = (comity_inbox_filter){.sector = "energy", .type = "request"};
    TU_OK(comity_framework_inbox_find(fw, "in.mea", T(NOW), 500, NULL, &f, &json, E));
    pg = parse(json);
    assert_int_equal(json_integer_value(json_object_get(pg, "total_me")), 0);
    json_decref(pg);
    f = (comity_inbox_filter){.sector = "energy", .state = "sent"};
    TU_OK(comity_framework_inbox_find(fw, "in.mea", T(NOW), 500, NULL, &f, &json, E));
    pg = parse(json);
    assert_true(json_integer_value(json_object_get(pg, "total_me")) > 1);
    json_decref(pg);
    /* refusals name the filter */
    static const struct { comity_inbox_filter f; const char *msg; } bad[] = {
        {{.type = "memo"}, "type 'memo'"},
        {{.state = "lost"}, "state 'lost'"},
        {{.severity = 6}, "severity 6"},
        {{.sector = "fishing"}, "sector 'fishing'"},
        {{.q = "0123456789012345678901234567890123456789012345678901234567890123456789"},
         "search text longer than 64"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        TU_FAILS(comity_framework_inbox_find(fw, "in.mea", T(NOW), 5, NULL, &bad[i].f, &json, E),
                 COMITY_ERR_INVALID, bad[i].msg);
    comity_framework_free(fw);
}

static void test_awaiting_counts(void **state)
{
    (void)state;
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    size_t n_new, n_due, seq;
    cy_fw_awaiting(fw, "in.mea", 0, 0, T(NOW), &n_new, &n_due, &seq);
    assert_int_equal(n_new + n_due + seq, 0);
    /* severity 5: ack due an hour after created (the default table) */
    note(fw, PK_MOFA, "in.mea", 60, 5, NULL);  /* due 02:00 */
    note(fw, PK_MOFA, "in", 120, 5, NULL);     /* due 03:00, to the state */
    note(fw, PK_MOFA, "fr.anssi", 60, 5, NULL); /* not in.mea's */
    note(fw, IN_MEA, "pk.mofa", 60, 5, NULL);   /* in.mea sent it: not awaiting it */
    cy_fw_awaiting(fw, "in.mea", 0, T("2026-12-01T01:00:00Z"), T("2026-12-01T02:30:00Z"), &n_new,
                   &n_due, &seq);
    assert_int_equal(n_new, 2);
    assert_int_equal(n_due, 1);
    assert_int_equal(seq, 4);
    /* nothing new since 4; the second falls due in [02:30, 03:30) */
    cy_fw_awaiting(fw, "in.mea", seq, T("2026-12-01T02:30:00Z"), T("2026-12-01T03:30:00Z"),
                   &n_new, &n_due, &seq);
    assert_int_equal(n_new, 0);
    assert_int_equal(n_due, 1);
    /* a due time at the span's end is not yet in it */
    cy_fw_awaiting(fw, "in.mea", seq, T("2026-12-01T02:30:00Z"), T("2026-12-01T03:00:00Z"),
                   &n_new, &n_due, &seq);
    assert_int_equal(n_due, 0);
    note(fw, FR, "in.mea", 180, 3, NULL);
    cy_fw_awaiting(fw, "in.mea", seq, 0, 0, &n_new, &n_due, &seq);
    assert_int_equal(n_new, 1);
    assert_int_equal(seq, 5);
    /* in.cert-in shares the state's message only */
    cy_fw_awaiting(fw, "in.cert-in", 0, 0, 0, &n_new, &n_due, &seq);
    assert_int_equal(n_new, 1);
    comity_framework_free(fw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pages_are_the_whole_inbox),
        cmocka_unit_test(test_cursor_keeps_its_place),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_awaiting_counts),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
