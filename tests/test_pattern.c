/*
 * test_pattern.c: the STIX 2.1 pattern parser, printer and JSON dump:
 * the 23 patterns of the specification, the quirks of real indicator files,
 * the shape of the tree (precedence, flattening, qualifiers), round trips
 * through the printer, one test per way a pattern can be wrong, and
 * allocation failure at every step.
 */
#include <stdlib.h>

#include "stix/pattern.h"
#include "util/testutil.h"

/* Parses NUL-terminated text; fails the test with the message if invalid. */
static cy_pattern *parse_ok(const char *text)
{
    cy_pattern *p = NULL;
    comity_error e = {0};
    comity_err rc = cy_pattern_parse(text, strlen(text), &p, NULL, &e);
    if (rc != COMITY_OK)
        fail_msg("parse of <%s> failed: %s", text, e.msg);
    return p;
}

/* Canonical text of a pattern (caller frees with cy_free). */
static char *print(const cy_pattern *p)
{
    cy_buf b;
    cy_buf_init(&b, 1u << 20);
    assert_int_equal(cy_pattern_print(p, &b), COMITY_OK);
    size_t n;
    char *s = (char *)cy_buf_detach(&b, &n);
    return s;
}

/* parse(print(parse(x))) == parse(x), and printing is a fixed point. */
static void round_trip(const char *text)
{
    cy_pattern *a = parse_ok(text);
    char *s1 = print(a);
    cy_pattern *b = parse_ok(s1);
    if (!cy_pattern_equal(a, b))
        fail_msg("round trip changed the tree: <%s> -> <%s>", text, s1);
    char *s2 = print(b);
    assert_string_equal(s1, s2);
    cy_free(s1);
    cy_free(s2);
    cy_pattern_free(a);
    cy_pattern_free(b);
}

static void canonical_is(const char *text, const char *want)
{
    cy_pattern *p = parse_ok(text);
    char *s = print(p);
    assert_string_equal(s, want);
    cy_free(s);
    cy_pattern_free(p);
    round_trip(text);
}

/* Asserts that text fails with `code`, the message contains `needle`, and
 * the error offset is `at` (or any offset when at is (size_t)-1). */
static void bad_len(const char *text, size_t len, comity_err code,
                    const char *needle, size_t at)
{
    cy_pattern *p = (cy_pattern *)1;
    size_t err_at = 12345;
    comity_err rc = cy_pattern_parse(text, len, &p, &err_at, E);
    if (rc != code)
        fail_msg("<%.60s>: want %s, got %s (%s)", text, comity_strerror(code),
                 comity_strerror(rc), tu_last_err.msg);
    assert_null(p);
    if (!strstr(tu_last_err.msg, needle))
        fail_msg("<%.60s>: message <%s> lacks <%s>", text, tu_last_err.msg, needle);
    if (at != (size_t)-1 && err_at != at)
        fail_msg("<%.60s>: error at byte %zu, want %zu (%s)", text, err_at, at,
                 tu_last_err.msg);
    char where[32];
    snprintf(where, sizeof where, "at byte %zu", err_at);
    if (code == COMITY_ERR_INVALID && !strstr(tu_last_err.msg, where))
        fail_msg("<%.60s>: message <%s> does not say <%s>", text,
                 tu_last_err.msg, where);
}

static void bad(const char *text, const char *needle, size_t at)
{
    bad_len(text, strlen(text), COMITY_ERR_INVALID, needle, at);
}

#define ANY_BYTE ((size_t)-1)

/* ---- the specification's examples ----------------------------------- */

static void test_spec_examples(void **state)
{
    (void)state;
    size_t len;
    char *all = tu_slurp(tu_shared("data/stix/pattern_grammar/spec_examples_v21.txt"), &len);
    int count = 0;
    char *save = NULL;
    for (char *line = strtok_r(all, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\r' || line[n - 1] == ' '))
            line[--n] = 0;
        if (!n)
            continue;
        round_trip(line);
        count++;
    }
    assert_int_equal(count, 23);
    free(all);
}

/* A few spec examples checked node by node. */
static void test_spec_shapes(void **state)
{
    (void)state;
    cy_pattern *p = parse_ok(
        "([file:hashes.MD5 = '79054025255fb1a26e4bc422aef54eb4'] FOLLOWEDBY "
        "[win-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo\\\\bar']) WITHIN 300 SECONDS");
    const cy_pat_obs *r = p->root;
    assert_int_equal(r->kind, CY_OBS_FOLLOWEDBY);
    assert_int_equal(r->nkids, 2);
    assert_int_equal(r->nquals, 1);
    assert_int_equal(r->quals[0].kind, CY_QUAL_WITHIN);
    assert_true(r->quals[0].seconds == 300.0);
    const cy_pat_cmp *c = r->kids[1]->cexpr->cmp;
    assert_string_equal(c->path.type, "win-registry-key");
    assert_string_equal(c->lits[0].s, "HKEY_LOCAL_MACHINE\\foo\\bar");
    assert_int_equal(p->ncmps, 2);
    assert_int_equal(p->nleaves, 2);
    cy_pattern_free(p);

    p = parse_ok("[email-message:from_ref.value MATCHES '.+\\\\@example\\\\.com$' AND "
                 "email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\\\.exe$']");
    assert_int_equal(p->root->kind, CY_OBS_LEAF);
    const cy_pat_cexpr *ce = p->root->cexpr;
    assert_int_equal(ce->kind, CY_CEXPR_AND);
    assert_int_equal(ce->nkids, 2);
    c = ce->kids[1]->cmp;
    assert_int_equal(c->op, CY_OP_MATCHES);
    assert_int_equal(c->path.nsteps, 4);
    assert_int_equal(c->path.steps[1].kind, CY_STEP_ANY);
    assert_string_equal(c->path.steps[3].key, "name");
    assert_string_equal(c->lits[0].s, "^Final Report.+\\.exe$");
    cy_pattern_free(p);

    p = parse_ok("[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = "
                 "'example.com'] REPEATS 5 TIMES WITHIN 1800 SECONDS");
    assert_int_equal(p->root->kind, CY_OBS_LEAF);
    assert_int_equal(p->root->nquals, 2);
    assert_int_equal(p->root->quals[0].kind, CY_QUAL_REPEATS);
    assert_int_equal(p->root->quals[0].times, 5);
    assert_int_equal(p->root->quals[1].kind, CY_QUAL_WITHIN);
    cy_pattern_free(p);

    p = parse_ok("[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]");
    c = p->root->cexpr->cmp;
    assert_int_equal(c->op, CY_OP_GT);
    assert_true(c->path.steps[1].quoted);
    assert_string_equal(c->path.steps[1].key, "windows-pebinary-ext");
    assert_int_equal(c->lits[0].kind, CY_LIT_FLOAT);
    assert_true(c->lits[0].f == 7.0);
    cy_pattern_free(p);
}

/* ---- real files' quirks ---------------------------------------------- */

static void test_real_quirks(void **state)
{
    (void)state;
    cy_pattern *p = parse_ok("[domain-name:value='x.com']");
    assert_true(cy_pat_path_is(&p->root->cexpr->cmp->path, "domain-name", "value"));
    assert_false(cy_pat_path_is(&p->root->cexpr->cmp->path, "domain-name", "valu"));
    assert_false(cy_pat_path_is(&p->root->cexpr->cmp->path, "domain", "value"));
    cy_pattern_free(p);
    canonical_is("[domain-name:value='x.com']", "[domain-name:value = 'x.com']");
    canonical_is("[file:hashes.sha256='ab']", "[file:hashes.sha256 = 'ab']");
    canonical_is("[file:hashes.'SHA-256'='ab']", "[file:hashes.'SHA-256' = 'ab']");
    canonical_is("[app:id='com.example']", "[app:id = 'com.example']");
    canonical_is("[android-property:name='ro.x']", "[android-property:name = 'ro.x']");
    canonical_is("[configuration-profile:id='76DAB334-7E17-475D-A5D6-0794EB5818A5']",
                 "[configuration-profile:id = '76DAB334-7E17-475D-A5D6-0794EB5818A5']");
    canonical_is("[x-foo:bar_baz=1]", "[x-foo:bar_baz = 1]");
    canonical_is("[domain-name:value='1.2.3.4']", "[domain-name:value = '1.2.3.4']");
    canonical_is("[domain-name:value='x.com/path?q=1']", "[domain-name:value = 'x.com/path?q=1']");
    canonical_is("[process:name='fservernetd']", "[process:name = 'fservernetd']");
}

/* ---- tree shape: precedence, flattening, qualifiers ----------------- */

static void test_precedence(void **state)
{
    (void)state;
    /* AND binds tighter than OR, OR tighter than FOLLOWEDBY */
    cy_pattern *p = parse_ok("[a:b=1] OR [c:d=2] AND [e:f=3]");
    assert_int_equal(p->root->kind, CY_OBS_OR);
    assert_int_equal(p->root->kids[1]->kind, CY_OBS_AND);
    cy_pattern_free(p);
    p = parse_ok("[a:b=1] FOLLOWEDBY [c:d=2] OR [e:f=3]");
    assert_int_equal(p->root->kind, CY_OBS_FOLLOWEDBY);
    assert_int_equal(p->root->kids[1]->kind, CY_OBS_OR);
    cy_pattern_free(p);
    p = parse_ok("[a:b=1 OR c:d=2 AND e:f=3]");
    assert_int_equal(p->root->cexpr->kind, CY_CEXPR_OR);
    assert_int_equal(p->root->cexpr->kids[1]->kind, CY_CEXPR_AND);
    cy_pattern_free(p);
    p = parse_ok("[(a:b=1 OR c:d=2) AND e:f=3]");
    assert_int_equal(p->root->cexpr->kind, CY_CEXPR_AND);
    assert_int_equal(p->root->cexpr->kids[0]->kind, CY_CEXPR_OR);
    cy_pattern_free(p);
    /* qualifiers bind to the nearest observation */
    p = parse_ok("[a:b=1] AND [c:d=2] WITHIN 5 SECONDS");
    assert_int_equal(p->root->kind, CY_OBS_AND);
    assert_int_equal(p->root->nquals, 0);
    assert_int_equal(p->root->kids[1]->nquals, 1);
    cy_pattern_free(p);

    canonical_is("[a:b=1] OR [c:d=2] AND [e:f=3]", "[a:b = 1] OR [c:d = 2] AND [e:f = 3]");
    canonical_is("([a:b=1] OR [c:d=2]) AND [e:f=3]", "([a:b = 1] OR [c:d = 2]) AND [e:f = 3]");
    canonical_is("[(a:b=1 OR c:d=2) AND e:f=3]", "[(a:b = 1 OR c:d = 2) AND e:f = 3]");
    canonical_is("[a:b=1] FOLLOWEDBY ([c:d=2] FOLLOWEDBY [e:f=3])",
                 "[a:b = 1] FOLLOWEDBY ([c:d = 2] FOLLOWEDBY [e:f = 3])");
    canonical_is("([a:b=1] FOLLOWEDBY [c:d=2]) OR [e:f=3]",
                 "([a:b = 1] FOLLOWEDBY [c:d = 2]) OR [e:f = 3]");
}

static void test_flattening(void **state)
{
    (void)state;
    cy_pattern *p = parse_ok("[a:b=1] AND ([c:d=2] AND [e:f=3])");
    assert_int_equal(p->root->kind, CY_OBS_AND);
    assert_int_equal(p->root->nkids, 3);
    cy_pattern_free(p);
    p = parse_ok("[a:b=1 OR (c:d=2 OR (e:f=3))]");
    assert_int_equal(p->root->cexpr->kind, CY_CEXPR_OR);
    assert_int_equal(p->root->cexpr->nkids, 3);
    cy_pattern_free(p);
    p = parse_ok("(([a:b=1]))");
    assert_int_equal(p->root->kind, CY_OBS_LEAF);
    cy_pattern_free(p);
    /* a chain of FOLLOWEDBY is one node; a parenthesised one stays nested */
    p = parse_ok("[a:b=1] FOLLOWEDBY [c:d=2] FOLLOWEDBY [e:f=3]");
    assert_int_equal(p->root->kind, CY_OBS_FOLLOWEDBY);
    assert_int_equal(p->root->nkids, 3);
    cy_pattern_free(p);
    p = parse_ok("([a:b=1] FOLLOWEDBY [c:d=2]) FOLLOWEDBY [e:f=3]");
    assert_int_equal(p->root->nkids, 2);
    assert_int_equal(p->root->kids[0]->kind, CY_OBS_FOLLOWEDBY);
    cy_pattern_free(p);
    /* a qualified group is never merged into its parent */
    p = parse_ok("([a:b=1] AND [c:d=2]) WITHIN 5 SECONDS AND [e:f=3]");
    assert_int_equal(p->root->kind, CY_OBS_AND);
    assert_int_equal(p->root->nkids, 2);
    assert_int_equal(p->root->kids[0]->kind, CY_OBS_AND);
    assert_int_equal(p->root->kids[0]->nquals, 1);
    cy_pattern_free(p);
    canonical_is("([a:b=1] AND [c:d=2]) WITHIN 5 SECONDS AND [e:f=3]",
                 "([a:b = 1] AND [c:d = 2]) WITHIN 5 SECONDS AND [e:f = 3]");
    /* qualifiers on a parenthesised qualified leaf accumulate in order */
    p = parse_ok("([a:b=1] WITHIN 5 SECONDS) REPEATS 2 TIMES");
    assert_int_equal(p->root->kind, CY_OBS_LEAF);
    assert_int_equal(p->root->nquals, 2);
    assert_int_equal(p->root->quals[1].kind, CY_QUAL_REPEATS);
    cy_pattern_free(p);
    canonical_is("([a:b=1] WITHIN 5 SECONDS) REPEATS 2 TIMES",
                 "[a:b = 1] WITHIN 5 SECONDS REPEATS 2 TIMES");
}

/* ---- every construct of the grammar ---------------------------------- */

static void test_operators(void **state)
{
    (void)state;
    canonical_is("[a:b == 1]", "[a:b = 1]");
    canonical_is("[a:b <> 1]", "[a:b != 1]");
    canonical_is("[a:b<1 AND a:c<=2 AND a:d>3 AND a:e>=4]",
                 "[a:b < 1 AND a:c <= 2 AND a:d > 3 AND a:e >= 4]");
    canonical_is("[a:b IN ('x', 2, true)]", "[a:b IN ('x', 2, true)]");
    canonical_is("[a:b IN ()]", "[a:b IN ()]");
    canonical_is("[a:b NOT IN ('x')]", "[a:b NOT IN ('x')]");
    canonical_is("[a:b LIKE 'x%' OR a:b NOT LIKE '_y']", "[a:b LIKE 'x%' OR a:b NOT LIKE '_y']");
    canonical_is("[a:b MATCHES '^x$']", "[a:b MATCHES '^x$']");
    canonical_is("[ipv4-addr:value ISSUBSET '10.0.0.0/8']", "[ipv4-addr:value ISSUBSET '10.0.0.0/8']");
    canonical_is("[ipv4-addr:value NOT ISSUPERSET '10.0.0.0/8']",
                 "[ipv4-addr:value NOT ISSUPERSET '10.0.0.0/8']");
    canonical_is("[EXISTS a:b AND NOT EXISTS a:c]", "[EXISTS a:b AND NOT EXISTS a:c]");
    canonical_is("[a:b NOT = 'x']", "[a:b NOT = 'x']");

    cy_pattern *p = parse_ok("[a:b NOT IN (1, 'two', 3.5, false, h'00ff', b'aGk=', t'2020-01-01T00:00:00Z')]");
    const cy_pat_cmp *c = p->root->cexpr->cmp;
    assert_int_equal(c->op, CY_OP_IN);
    assert_true(c->negated);
    assert_int_equal(c->nlits, 7);
    assert_int_equal(c->lits[0].kind, CY_LIT_INT);
    assert_int_equal(c->lits[1].kind, CY_LIT_STRING);
    assert_int_equal(c->lits[2].kind, CY_LIT_FLOAT);
    assert_int_equal(c->lits[3].kind, CY_LIT_BOOL);
    assert_int_equal(c->lits[3].i, 0);
    assert_int_equal(c->lits[4].kind, CY_LIT_HEX);
    assert_int_equal(c->lits[5].kind, CY_LIT_BINARY);
    assert_int_equal(c->lits[6].kind, CY_LIT_TIMESTAMP);
    cy_pattern_free(p);

    p = parse_ok("[NOT EXISTS a:b]");
    assert_int_equal(p->root->cexpr->cmp->op, CY_OP_EXISTS);
    assert_true(p->root->cexpr->cmp->negated);
    assert_int_equal(p->root->cexpr->cmp->nlits, 0);
    cy_pattern_free(p);
    assert_string_equal(cy_pat_op_name(CY_OP_ISSUPERSET), "ISSUPERSET");
}

static void test_literals(void **state)
{
    (void)state;
    cy_pattern *p = parse_ok("[a:b = 'it\\'s a \\\\ back']");
    assert_string_equal(p->root->cexpr->cmp->lits[0].s, "it's a \\ back");
    assert_int_equal(p->root->cexpr->cmp->lits[0].len, 13);
    cy_pattern_free(p);
    canonical_is("[a:b = 'it\\'s a \\\\ back']", "[a:b = 'it\\'s a \\\\ back']");
    canonical_is("[a:b = '']", "[a:b = '']");
    canonical_is("[a:b = 'caf\xc3\xa9 \xe2\x9c\x93']", "[a:b = 'caf\xc3\xa9 \xe2\x9c\x93']");

    p = parse_ok("[a:b = -42 AND a:c = +7 AND a:d = 0 AND a:e = -0.5 AND a:f = .25 AND a:g = +1.50]");
    const cy_pat_cexpr *ce = p->root->cexpr;
    assert_int_equal(ce->kids[0]->cmp->lits[0].i, -42);
    assert_int_equal(ce->kids[1]->cmp->lits[0].i, 7);
    assert_int_equal(ce->kids[2]->cmp->lits[0].i, 0);
    assert_true(ce->kids[3]->cmp->lits[0].f == -0.5);
    assert_true(ce->kids[4]->cmp->lits[0].f == 0.25);
    assert_true(ce->kids[5]->cmp->lits[0].f == 1.5);
    cy_pattern_free(p);
    canonical_is("[a:b = +7 AND a:c = +1.50 AND a:d = .25]", "[a:b = 7 AND a:c = 1.50 AND a:d = .25]");
    canonical_is("[a:b = 9223372036854775807 AND a:c = -9223372036854775808]",
                 "[a:b = 9223372036854775807 AND a:c = -9223372036854775808]");

    p = parse_ok("[a:b = true AND a:c != false]");
    assert_int_equal(p->root->cexpr->kids[0]->cmp->lits[0].i, 1);
    cy_pattern_free(p);

    p = parse_ok("[file:magic_number_hex = h'FFd8']");
    const cy_pat_lit *l = &p->root->cexpr->cmp->lits[0];
    assert_int_equal(l->len, 2);
    assert_int_equal(l->bytes[0], 0xff);
    assert_int_equal(l->bytes[1], 0xd8);
    cy_pattern_free(p);
    canonical_is("[a:b = h'FFd8']", "[a:b = h'ffd8']");
    canonical_is("[a:b = h'']", "[a:b = h'']");

    p = parse_ok("[artifact:payload_bin = b'aGVsbG8=']");
    l = &p->root->cexpr->cmp->lits[0];
    assert_int_equal(l->kind, CY_LIT_BINARY);
    assert_int_equal(l->len, 5);
    assert_memory_equal(l->bytes, "hello", 5);
    cy_pattern_free(p);
    canonical_is("[a:b = b'aGk=' OR a:b = b'aGVsbG8h']", "[a:b = b'aGk=' OR a:b = b'aGVsbG8h']");

    p = parse_ok("[a:b = t'2016-02-29T12:00:00.123456Z']");
    l = &p->root->cexpr->cmp->lits[0];
    assert_int_equal(l->kind, CY_LIT_TIMESTAMP);
    assert_string_equal(l->s, "2016-02-29T12:00:00.123456Z");
    assert_int_equal(l->i, 1456747200123);
    cy_pattern_free(p);
    round_trip("[a:b = t'2016-12-31T23:59:60Z']"); /* leap second */
}

static void test_paths(void **state)
{
    (void)state;
    cy_pattern *p = parse_ok("[a:'first key'.b[0].c[-1].'d\\'e'[*].f_9 = 1]");
    const cy_pat_path *path = &p->root->cexpr->cmp->path;
    assert_int_equal(p->root->cexpr->cmp->op, CY_OP_EQ);
    assert_int_equal(path->nsteps, 8);
    assert_string_equal(path->steps[0].key, "first key");
    assert_true(path->steps[0].quoted);
    assert_int_equal(path->steps[2].kind, CY_STEP_INDEX);
    assert_int_equal(path->steps[2].index, 0);
    assert_int_equal(path->steps[4].index, -1);
    assert_string_equal(path->steps[5].key, "d'e");
    assert_int_equal(path->steps[6].kind, CY_STEP_ANY);
    assert_string_equal(path->steps[7].key, "f_9");
    cy_buf b;
    cy_buf_init(&b, 1000);
    TU_OK(cy_pattern_print_path(path, &b));
    assert_string_equal((char *)b.data, "a:'first key'.b[0].c[-1].'d\\'e'[*].f_9");
    cy_buf_free(&b);
    cy_pattern_free(p);
}

static void test_blank_and_comments(void **state)
{
    (void)state;
    canonical_is("  [ a:b\t=\n1 ]\r\n  /* c */ AND // line\n [c:d = 2] ",
                 "[a:b = 1] AND [c:d = 2]");
    /* Unicode spaces the grammar lists: NBSP, EM SPACE, IDEOGRAPHIC SPACE */
    canonical_is("\xc2\xa0[a:b\xe2\x80\x83=\xe3\x80\x80" "1]", "[a:b = 1]");
    canonical_is("[a:b = 1] /* trailing comment */", "[a:b = 1]");
}

static void test_qualifiers(void **state)
{
    (void)state;
    cy_pattern *p = parse_ok("[a:b=1] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'");
    const cy_pat_qual *q = &p->root->quals[0];
    assert_int_equal(q->kind, CY_QUAL_STARTSTOP);
    assert_string_equal(q->start->s, "2016-06-01T00:00:00Z");
    assert_true(q->stop->i > q->start->i);
    cy_pattern_free(p);
    canonical_is("[a:b=1] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
                 "[a:b = 1] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'");
    canonical_is("[a:b=1] WITHIN 2.5 SECONDS", "[a:b = 1] WITHIN 2.5 SECONDS");
    /* STOP later than START by less than a millisecond, or by a leap second */
    round_trip("[a:b=1] START t'2016-06-01T00:00:00Z' STOP t'2016-06-01T00:00:00.0001Z'");
    round_trip("[a:b=1] START t'2016-12-31T23:59:59.5Z' STOP t'2016-12-31T23:59:60Z'");
    bad("[a:b=1] START t'2016-06-01T00:00:00.10Z' STOP t'2016-06-01T00:00:00.1Z'",
        "STOP must be later than START", 46);
    /* a float longer than any fixed buffer keeps its magnitude */
    {
        char big[200] = "[a:b = ";
        size_t o = strlen(big);
        big[o++] = '1';
        for (int i = 0; i < 99; i++)
            big[o++] = '0';
        memcpy(big + o, ".5]", 4);
        cy_pattern *fp = parse_ok(big);
        assert_true(fp->root->cexpr->cmp->lits[0].f > 9.9e98); /* 1e99 */
        cy_pattern_free(fp);
        round_trip(big);
    }
    canonical_is("[a:b=1] REPEATS 3 TIMES WITHIN 10 SECONDS START t'2016-06-01T00:00:00Z' STOP t'2016-06-01T00:00:00.5Z'",
                 "[a:b = 1] REPEATS 3 TIMES WITHIN 10 SECONDS START t'2016-06-01T00:00:00Z' STOP t'2016-06-01T00:00:00.5Z'");
}

/* ---- each way of being wrong ----------------------------------------- */

static void test_bad_structure(void **state)
{
    (void)state;
    bad("", "empty pattern", 0);
    bad("   /* only a comment */ ", "empty pattern", 0);
    bad("[file:name = 'x'", "expected ']' or AND/OR, found end of pattern", 16);
    bad("[file:name = 'x']]", "expected end of pattern", 17);
    bad("([a:b = 1]", "expected ')'", 10);
    bad("[(a:b = 1]", "expected ')' or AND/OR", 9);
    bad("[]", "empty observation", 1);
    bad("[ ] AND [a:b=1]", "empty observation", 2);
    bad("[file.name = 'x']", "expected ':' after the object type", 5);
    bad("[file name = 'x']", "expected ':' after the object type", 6);
    bad("[file: = 'x']", "expected a property name after ':'", 7);
    bad("[a:b.  = 1]", "expected a property name after '.'", 7);
    bad("[a:b = 1] x", "expected end of pattern (or AND/OR/FOLLOWEDBY), found 'x'", 10);
    bad("[a:b = 1] [c:d = 2]", "expected end of pattern", 10);
    bad("[a:b = 1 AND]", "expected an object path", 12);
    bad("[a:b = 1] AND", "expected '[' or '('", 13);
    bad("a:b = 1", "expected '[' or '('", 0);
    bad("[a:b = 1] FOLLOWEDBY", "expected '[' or '('", 20);
    bad("[a:b[x] = 1]", "expected an index or '*'", 5);
    bad("[a:b[1 = 1]", "expected ']' after the index", 7);
    bad("[a:b[1.5] = 1]", "expected an index", 5);
    bad("[file:extensions.windows-pebinary-ext.x = 1]", "must be quoted", 17);
    bad("[a:b-c = 1]", "must be quoted", 3);
    bad("['a':b = 1]", "expected an object path", 1);
    bad("[NOT a:b = 1]", "expected EXISTS after NOT", 5);
    bad("[EXISTS]", "expected an object path", 7);
    /* keywords are case-sensitive, as in the grammar */
    bad("[a:b = 1] and [c:d = 2]", "expected end of pattern", 10);
    bad("[a:b = TRUE]", "expected a literal", 7);
    bad("[a:b like 'x']", "expected an operator", 5);
    bad("[a:b = 1] within 5 seconds", "expected end of pattern", 10);
}

static void test_bad_operators(void **state)
{
    (void)state;
    bad("[a:b ~ 1]", "unexpected character '~'", 5);
    bad("[a:b ! 1]", "unexpected character '!'", 5);
    bad("[a:b 'x']", "expected an operator", 5);
    bad("[a:b LIKES 'x']", "expected an operator", 5);
    bad("[a:b NOT 'x']", "expected an operator after NOT", 9);
    bad("[a:b = ]", "expected a literal, found ']'", 7);
    bad("[a:b > true]", "expected a literal (not a boolean)", 7);
    bad("[a:b LIKE 5]", "expected a string literal", 10);
    bad("[a:b MATCHES h'00']", "expected a string literal", 13);
    bad("[a:b ISSUBSET 10]", "expected a string literal", 14);
    bad("[a:b IN 'x']", "expected '(' to open the set after IN", 8);
    bad("[a:b IN ('x' 'y')]", "expected ',' or ')' in the set", 13);
    bad("[a:b IN ('x',)]", "expected a literal", 13);
    bad("[a:b = 1 = 2]", "expected ']' or AND/OR", 9);
}

static void test_bad_literals(void **state)
{
    (void)state;
    bad("[a:b = 'x\\n']", "bad escape '\\n'", 9);
    bad("[a:b = 'x\\\"']", "bad escape", 9);
    bad("[a:b = 'open]", "unclosed string", 7);
    bad("[a:b = 'x\\", "unclosed string", 7);
    bad("[a:b = 01]", "leading zero", 7);
    bad("[a:b = 99999999999999999999]", "integer out of range", 7);
    bad("[a:b = -]", "expected a number after '-'", 7);
    bad("[a:b = 1.]", "expected ']' or AND/OR, found '.'", 8);
    bad("[a:b = 1e5]", "expected ']' or AND/OR, found 'e5'", 8);
    bad("[a:b = \"x\"]", "unexpected character '\"'", 7);
    /* hex */
    bad("[a:b = h'abc']", "bad hex literal: odd number of digits", 7);
    bad("[a:b = h'zz']", "bad hex literal: not a hex digit", 9);
    bad("[a:b = h'00]", "unclosed h'' literal", 7);
    /* binary (base64, padded, canonical) */
    bad("[a:b = b'abc']", "bad binary literal", 7);
    bad("[a:b = b'']", "bad binary literal", 7);
    bad("[a:b = b'a=bc']", "bad binary literal", 7);
    bad("[a:b = b'ab!c']", "bad binary literal", 7);
    bad("[a:b = b'aGl=']", "bad binary literal", 7); /* non-zero pad bits */
    bad("[a:b = b'a===']", "bad binary literal", 7);
    /* timestamps */
    bad("[a:b = t'2020-02-30T00:00:00Z']", "bad timestamp", 7);
    bad("[a:b = t'2021-02-29T00:00:00Z']", "bad timestamp", 7);
    bad("[a:b = t'2020-13-01T00:00:00Z']", "bad timestamp", 7);
    bad("[a:b = t'2020-01-01T24:00:00Z']", "bad timestamp", 7);
    bad("[a:b = t'2020-01-01T00:60:00Z']", "bad timestamp", 7);
    bad("[a:b = t'2020-01-01T00:00:61Z']", "bad timestamp", 7);
    bad("[a:b = t'2020-01-01 00:00:00Z']", "bad timestamp", 7);
    bad("[a:b = t'2020-01-01T00:00:00']", "bad timestamp", 7);
    bad("[a:b = t'2020-01-01T00:00:00+01:00']", "bad timestamp", 7);
    bad("[a:b = t'2020-01-01t00:00:00z']", "bad timestamp", 7);
    bad("[a:b = t'2020-01-01T00:00:00.Z']", "bad timestamp", 7);
    bad("[a:b = t'20-01-01T00:00:00Z']", "bad timestamp", 7);
    bad("[a:b = t'']", "bad timestamp", 7);
}

static void test_bad_qualifiers(void **state)
{
    (void)state;
    bad("[a:b = 1] WITHIN 5", "expected SECONDS", 18);
    bad("[a:b = 1] WITHIN 5 MINUTES", "expected SECONDS", 19);
    bad("[a:b = 1] WITHIN SECONDS", "expected a number of seconds", 17);
    bad("[a:b = 1] WITHIN 0 SECONDS", "positive number of seconds", 17);
    bad("[a:b = 1] WITHIN -5 SECONDS", "positive number of seconds", 17);
    bad("[a:b = 1] WITHIN 'x' SECONDS", "expected a number of seconds", 17);
    bad("[a:b = 1] REPEATS 0 TIMES", "REPEATS needs a positive integer", 18);
    bad("[a:b = 1] REPEATS 1.5 TIMES", "expected an integer after REPEATS", 18);
    bad("[a:b = 1] REPEATS 2", "expected TIMES", 19);
    bad("[a:b = 1] START 'x' STOP 'y'", "expected a timestamp t'...' after START", 16);
    bad("[a:b = 1] START t'2016-06-01T00:00:00Z'", "expected STOP", 39);
    bad("[a:b = 1] START t'2016-06-01T00:00:00Z' STOP 5",
        "expected a timestamp t'...' after STOP", 45);
    bad("[a:b = 1] START t'2016-07-01T00:00:00Z' STOP t'2016-06-01T00:00:00Z'",
        "STOP must be later than START", 45);
    bad("[a:b = 1] START t'2016-07-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
        "STOP must be later than START", 45);
    bad("[a:b = 1] STOP t'2016-07-01T00:00:00Z'", "expected end of pattern", 10);
    bad("[a:b = 1] LAST 5 SECONDS", "expected end of pattern", 10);
    bad("WITHIN 5 SECONDS", "expected '[' or '('", 0);
}

static void test_bad_input(void **state)
{
    (void)state;
    bad_len("[a:b = '\0']", 11, COMITY_ERR_INVALID, "NUL byte", 8);
    bad("[a:b = '\xff']", "not UTF-8", 8);
    bad("[a:b = '\xc3']", "not UTF-8", 8);
    bad("[a:b = '\xc0\xaf']", "not UTF-8", 8); /* overlong */
    bad("[a:b = '\xed\xa0\x80']", "not UTF-8", 8); /* surrogate */
    bad("[a:b = 1] /* open", "unclosed comment", 10);
    bad("[a:b = 1] \xc2\xa9", "unexpected character 0xc2", 10);
    /* a long token quoted in a message is cut on a character boundary */
    bad("[a:b = 1] 'xxxxxxxxxxxxxxxxxxxxxx\xc3\xa9\xc3\xa9'",
        "found ''xxxxxxxxxxxxxxxxxxxxxx...'", 10);

    /* too long: one byte past the cap */
    size_t n = CY_PATTERN_MAX + 1;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, ' ', n);
    memcpy(big, "[a:b = 1]", 9);
    bad_len(big, n, COMITY_ERR_TOOBIG, "more than the 65536 allowed", CY_PATTERN_MAX);
    /* exactly at the cap is fine */
    cy_pattern *p = NULL;
    TU_OK(cy_pattern_parse(big, CY_PATTERN_MAX, &p, NULL, E));
    cy_pattern_free(p);
    free(big);

    /* too deep, at both levels, and just deep enough */
    char buf[1024];
    int d = CY_PATTERN_MAX_DEPTH; /* the '[' counts as one level */
    size_t o = 0;
    for (int i = 0; i < d - 1; i++)
        buf[o++] = '(';
    o += (size_t)snprintf(buf + o, sizeof buf - o, "[a:b=1]");
    for (int i = 0; i < d - 1; i++)
        buf[o++] = ')';
    buf[o] = 0;
    round_trip(buf);
    o = 0;
    for (int i = 0; i < d; i++)
        buf[o++] = '(';
    o += (size_t)snprintf(buf + o, sizeof buf - o, "[a:b=1]");
    for (int i = 0; i < d; i++)
        buf[o++] = ')';
    buf[o] = 0;
    bad(buf, "nested too deep", (size_t)d);
    o = 0;
    buf[o++] = '[';
    for (int i = 0; i < d; i++)
        buf[o++] = '(';
    o += (size_t)snprintf(buf + o, sizeof buf - o, "a:b=1");
    for (int i = 0; i < d; i++)
        buf[o++] = ')';
    buf[o++] = ']';
    buf[o] = 0;
    bad(buf, "nested too deep", (size_t)d);
}

/* ---- printer, JSON, walker, allocation failure ----------------------- */

struct walk {
    int n;
    char seen[256];
};

static comity_err collect(const cy_pat_obs *leaf, const cy_pat_cmp *cmp, void *ctx)
{
    struct walk *w = ctx;
    assert_int_equal(leaf->kind, CY_OBS_LEAF);
    size_t len = strlen(w->seen);
    snprintf(w->seen + len, sizeof w->seen - len, "%s%s", len ? "," : "",
             cmp->path.type);
    return ++w->n == 3 ? COMITY_ERR_USAGE : COMITY_OK;
}

static void test_walk(void **state)
{
    (void)state;
    cy_pattern *p = parse_ok("([a:x=1 OR b:x=2] FOLLOWEDBY [c:x=3]) AND [d:x=4]");
    struct walk w = {0};
    assert_int_equal(cy_pattern_each_cmp(p, collect, &w), COMITY_ERR_USAGE);
    assert_int_equal(w.n, 3); /* stopped at the third */
    assert_string_equal(w.seen, "a,b,c");
    cy_pattern_free(p);
}

static void test_json(void **state)
{
    (void)state;
    cy_pattern *p = parse_ok("[file:hashes.'SHA-256' = 'ab' AND file:size IN (1, 2.5)] "
                             "REPEATS 2 TIMES FOLLOWEDBY [NOT EXISTS x-foo:bar[*]]");
    cy_buf b;
    cy_buf_init(&b, 1u << 20);
    TU_OK(cy_pattern_json(p, &b));
    const char *j = (const char *)b.data;
    assert_non_null(strstr(j, "\"type\": \"followedby\""));
    assert_non_null(strstr(j, "\"text\": \"file:hashes.'SHA-256'\""));
    assert_non_null(strstr(j, "\"key\": \"SHA-256\""));
    assert_non_null(strstr(j, "\"operator\": \"IN\""));
    assert_non_null(strstr(j, "\"times\": 2"));
    assert_non_null(strstr(j, "\"negated\": true"));
    assert_non_null(strstr(j, "\"index\": \"*\""));
    assert_non_null(strstr(j, "\"comparisons\": 3"));
    cy_buf_free(&b);
    cy_pattern_free(p);
}

static void test_hash_algo(void **state)
{
    (void)state;
    assert_string_equal(cy_pat_hash_algo("sha256", 6), "SHA-256");
    assert_string_equal(cy_pat_hash_algo("SHA-256", 7), "SHA-256");
    assert_string_equal(cy_pat_hash_algo("Sha_256", 7), "SHA-256");
    assert_string_equal(cy_pat_hash_algo("md5", 3), "MD5");
    assert_string_equal(cy_pat_hash_algo("SHA1", 4), "SHA-1");
    assert_string_equal(cy_pat_hash_algo("sha3-512", 8), "SHA3-512");
    assert_string_equal(cy_pat_hash_algo("ssdeep", 6), "SSDEEP");
    assert_null(cy_pat_hash_algo("sha", 3));
    assert_null(cy_pat_hash_algo("sha2567", 7));
    assert_null(cy_pat_hash_algo("a-very-long-key-name-indeed", 27));
    assert_null(cy_pat_hash_algo("", 0));
    /* as a compiler would use it on the two spellings of real files */
    cy_pattern *a = parse_ok("[file:hashes.sha256 = 'ab']");
    cy_pattern *b = parse_ok("[file:hashes.'SHA-256' = 'ab']");
    const cy_pat_step *sa = &a->root->cexpr->cmp->path.steps[1];
    const cy_pat_step *sb = &b->root->cexpr->cmp->path.steps[1];
    assert_ptr_equal(cy_pat_hash_algo(sa->key, sa->key_len),
                     cy_pat_hash_algo(sb->key, sb->key_len));
    cy_pattern_free(a);
    cy_pattern_free(b);
}

static void test_equal(void **state)
{
    (void)state;
    cy_pattern *a = parse_ok("[a:b = 1]"), *b = parse_ok("[a:b = 2]");
    cy_pattern *c = parse_ok("[a:b = 1] WITHIN 1 SECONDS"), *d = parse_ok("[a:'b' == 1]");
    assert_false(cy_pattern_equal(a, b));
    assert_false(cy_pattern_equal(a, c));
    assert_true(cy_pattern_equal(a, d)); /* quoting and spelling do not matter */
    cy_pattern_free(a);
    cy_pattern_free(b);
    cy_pattern_free(c);
    cy_pattern_free(d);
}

static void test_oom(void **state)
{
    (void)state;
    const char *text = "([file:hashes.'SHA-256' = 'ab' AND file:size IN (1, 2.5, b'aGk=', h'00')] "
                       "REPEATS 2 TIMES FOLLOWEDBY [NOT EXISTS x-foo:bar[*].c[3]] OR [a:b=1]) "
                       "WITHIN 5 SECONDS";
    int failures = 0;
    for (long n = 1; n < 200; n++) {
        cy_pattern *p = NULL;
        cy_alloc_fail_after(n);
        comity_err rc = cy_pattern_parse(text, strlen(text), &p, NULL, E);
        cy_alloc_fail_after(0);
        if (rc == COMITY_OK) {
            cy_pattern_free(p);
            break;
        }
        assert_int_equal(rc, COMITY_ERR_NOMEM);
        assert_null(p);
        failures++;
    }
    assert_true(failures >= 2); /* the arena and at least one chunk */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_examples),
        cmocka_unit_test(test_spec_shapes),
        cmocka_unit_test(test_real_quirks),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_flattening),
        cmocka_unit_test(test_operators),
        cmocka_unit_test(test_literals),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_blank_and_comments),
        cmocka_unit_test(test_qualifiers),
        cmocka_unit_test(test_bad_structure),
        cmocka_unit_test(test_bad_operators),
        cmocka_unit_test(test_bad_literals),
        cmocka_unit_test(test_bad_qualifiers),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_walk),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_hash_algo),
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
