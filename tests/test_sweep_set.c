/*
 * test_sweep_set.c: the sweep's exact-match engine and tokenizer: domain
 * suffixes at label boundaries, case folding, IPv4/IPv6 CIDR by longest
 * prefix, hashes, duplicates, refused values, and which tokens the scanner
 * finds where (line numbers and byte offsets).
 */
#include <stdlib.h>

#include "sweep/sweep.h"
#include "util/testutil.h"

static cy_sw_set *mk(void)
{
    cy_sw_set *s = NULL;
    TU_OK(cy_sw_set_new(&s, E));
    return s;
}

static void add(cy_sw_set *s, int path, const char *v, uint32_t ref)
{
    TU_OK(cy_sw_set_add(s, path, v, strlen(v), ref, NULL, E));
}

static size_t dom(const cy_sw_set *s, const char *v)
{
    cy_sw_found f[8];
    return cy_sw_lookup_domain(s, v, strlen(v), f, 8);
}

static void test_domain_suffix(void **state)
{
    (void)state;
    cy_sw_set *s = mk();
    add(s, CY_SW_DOMAIN, "evil.com", 1);
    add(s, CY_SW_DOMAIN, "Deep.Sub.Example.ORG.", 2);
    TU_OK(cy_sw_set_build(s, E));
    assert_int_equal(dom(s, "evil.com"), 1);
    assert_int_equal(dom(s, "a.b.evil.com"), 1);
    assert_int_equal(dom(s, "A.B.EVIL.COM"), 1);
    assert_int_equal(dom(s, "notevil.com"), 0);
    assert_int_equal(dom(s, "evil.com.au"), 0);
    assert_int_equal(dom(s, "com"), 0);
    assert_int_equal(dom(s, "vil.com"), 0);
    assert_int_equal(dom(s, "x.deep.sub.example.org"), 1);
    assert_int_equal(dom(s, "sub.example.org"), 0);
    cy_sw_found f[4];
    assert_int_equal(cy_sw_lookup_domain(s, "www.evil.com", 12, f, 4), 1);
    const uint32_t *refs;
    assert_int_equal(cy_sw_set_refs(s, f[0].entry, &refs), 1);
    assert_int_equal(refs[0], 1);
    char v[64];
    assert_string_equal(cy_sw_set_value(s, f[0].entry, v, sizeof v), "evil.com");
    cy_sw_set_free(s);
}

static void test_domain_many_labels(void **state)
{
    (void)state;
    /* every label suffix of a 12-label name is an indicator: more
     * candidates than one batch slot holds (CY_SW_DQ_MAX) */
    cy_sw_set *s = mk();
    const char *name = "a.b.c.d.e.f.g.h.i.j.k.lm";
    for (const char *p = name; p; p = strchr(p, '.') ? strchr(p, '.') + 1 : NULL)
        add(s, CY_SW_DOMAIN, p, (uint32_t)(p - name));
    TU_OK(cy_sw_set_build(s, E));
    cy_sw_found f[16];
    assert_int_equal(cy_sw_lookup_domain(s, "x.a.b.c.d.e.f.g.h.i.j.k.lm", 26, f, 16), 12);
    assert_int_equal(cy_sw_lookup_domain(s, "X.A.B.C.D.E.F.G.H.I.J.K.LM", 26, f, 16), 12);
    assert_int_equal(cy_sw_lookup_domain(s, "b.c.d.e.f.g.h.i.j.k.lm", 22, f, 16), 11);
    assert_int_equal(cy_sw_lookup_domain(s, "lmn", 3, f, 16), 0);
    cy_sw_dq q;
    assert_int_equal(cy_sw_domain_hashes(s, "x.a.b.c.d.e.f.g.h.i.j.k.lm", 26, &q), SIZE_MAX);
    assert_int_equal(cy_sw_domain_hashes(s, "q.k.lm", 6, &q), 3); /* lengths 2, 4, 6 */
    assert_int_equal(cy_sw_domain_probe(s, "q.k.lm", 6, &q, f, 16), 2);
    /* a 253-byte name of 1-byte labels */
    char big[254];
    for (int i = 0; i < 253; i++)
        big[i] = i % 2 ? '.' : 'k';
    big[252] = 'm';
    big[251] = 'l';
    big[250] = '.';
    cy_sw_lookup_domain(s, big, 253, f, 16);
    cy_sw_set_free(s);
}

/* Hashing a token inside a larger buffer (partial words read as single
 * loads reaching in front of the token) gives the same hashes as hashing
 * it alone, for every start offset, with few (<= 4) and many stored
 * lengths. */
static void test_domain_hashes_in_buffer(void **state)
{
    (void)state;
    const char *line = "Q-Z.ab.CDE.fghi.jklmnopq.rstuvwxyz0.a1b2c3d4e5f.gh";
    size_t ll = strlen(line);
    for (int many = 0; many < 2; many++) {
        cy_sw_set *s = mk();
        add(s, CY_SW_DOMAIN, "a1b2c3d4e5f.gh", 1);
        add(s, CY_SW_DOMAIN, "rstuvwxyz0.a1b2c3d4e5f.gh", 2);
        if (many) {
            add(s, CY_SW_DOMAIN, "x.gh", 3);
            add(s, CY_SW_DOMAIN, "xyz.gh", 4);
            add(s, CY_SW_DOMAIN, "q.xyz.gh", 5);
            add(s, CY_SW_DOMAIN, "CDE.fghi.jklmnopq.rstuvwxyz0.a1b2c3d4e5f.gh", 6);
        }
        TU_OK(cy_sw_set_build(s, E));
        for (size_t at = 0; at < ll; at++) {
            if (at > 0 && line[at - 1] != '.')
                continue;
            cy_sw_dq a, b;
            size_t na = cy_sw_domain_hashes(s, line + at, ll - at, &a);
            size_t nb = cy_sw_domain_hashes_at(s, line + at, ll - at, at, &b);
            assert_int_equal(na, nb);
            assert_true(na <= CY_SW_DQ_MAX);
            for (size_t k = 0; k < na; k++) {
                assert_true(a.h[k] == b.h[k]);
                assert_int_equal(a.at[k], b.at[k]);
            }
            cy_sw_found f[8];
            size_t want = (at <= 25) + (at <= 36) + (many && at <= 7);
            assert_int_equal(cy_sw_domain_probe(s, line + at, ll - at, &b, f, 8), want);
        }
        cy_sw_set_free(s);
    }
}

static void test_domain_nested_and_dups(void **state)
{
    (void)state;
    cy_sw_set *s = mk();
    add(s, CY_SW_DOMAIN, "evil.com", 1);
    add(s, CY_SW_DOMAIN, "cdn.evil.com", 2);
    add(s, CY_SW_DOMAIN, "EVIL.com", 1);  /* same value, same ref */
    add(s, CY_SW_DOMAIN, "evil.com", 3);  /* same value, another indicator */
    TU_OK(cy_sw_set_build(s, E));
    cy_sw_found f[4];
    /* both the subdomain and the parent indicator match */
    assert_int_equal(cy_sw_lookup_domain(s, "x.cdn.evil.com", 14, f, 4), 2);
    assert_int_equal(cy_sw_lookup_domain(s, "evil.com", 8, f, 4), 1);
    const uint32_t *refs;
    assert_int_equal(cy_sw_set_refs(s, f[0].entry, &refs), 2);
    assert_true((refs[0] == 1 && refs[1] == 3) || (refs[0] == 3 && refs[1] == 1));
    cy_sw_stats st;
    cy_sw_set_stats(s, &st);
    assert_int_equal(st.values, 2);
    assert_int_equal(st.duplicates, 2);
    cy_sw_set_free(s);
}

static void test_domain_quirks(void **state)
{
    (void)state;
    cy_sw_set *s = mk();
    const char *note;
    TU_OK(cy_sw_set_add(s, CY_SW_DOMAIN, "1.2.3.4", 7, 1, &note, E));
    assert_non_null(note); /* an IP stored as a domain name */
    TU_OK(cy_sw_set_add(s, CY_SW_DOMAIN, "pathy.com/x/y", 13, 2, &note, E));
    assert_non_null(note); /* a domain with a path */
    TU_OK(cy_sw_set_add(s, CY_SW_DOMAIN, "https://urly.net/a", 18, 3, &note, E));
    assert_non_null(note);
    TU_FAILS(cy_sw_set_add(s, CY_SW_DOMAIN, "bad domain.com", 14, 4, NULL, E),
             COMITY_ERR_INVALID, "byte 3");
    TU_FAILS(cy_sw_set_add(s, CY_SW_DOMAIN, "...", 3, 4, NULL, E), COMITY_ERR_INVALID, "empty");
    TU_FAILS(cy_sw_set_add(s, CY_SW_DOMAIN, "", 0, 4, NULL, E), COMITY_ERR_INVALID, "empty");
    TU_OK(cy_sw_set_build(s, E));
    uint8_t a[4] = {1, 2, 3, 4};
    cy_sw_found f[4];
    assert_int_equal(cy_sw_lookup_ip(s, a, 4, f, 4), 1);
    assert_int_equal(dom(s, "www.pathy.com"), 1);
    assert_int_equal(dom(s, "urly.net"), 1);
    TU_FAILS(cy_sw_set_add(s, CY_SW_DOMAIN, "late.com", 8, 1, NULL, E), COMITY_ERR_USAGE, "built");
    cy_sw_set_free(s);
}

static void test_ip_cidr(void **state)
{
    (void)state;
    cy_sw_set *s = mk();
    add(s, CY_SW_IPV4, "10.0.0.0/8", 1);
    add(s, CY_SW_IPV4, "10.1.0.0/16", 2);
    add(s, CY_SW_IPV4, "10.1.2.3", 3);
    add(s, CY_SW_IPV4, "192.168.77.9/24", 4); /* host bits are masked */
    add(s, CY_SW_IPV6, "2001:db8::/32", 5);
    add(s, CY_SW_IPV6, "2001:db8::1", 6);
    TU_FAILS(cy_sw_set_add(s, CY_SW_IPV4, "10.0.0.0/33", 11, 9, NULL, E), COMITY_ERR_INVALID,
             "/33");
    TU_FAILS(cy_sw_set_add(s, CY_SW_IPV4, "10.0.0/8", 8, 9, NULL, E), COMITY_ERR_INVALID, NULL);
    TU_FAILS(cy_sw_set_add(s, CY_SW_IPV4, "256.0.0.1", 9, 9, NULL, E), COMITY_ERR_INVALID, NULL);
    TU_FAILS(cy_sw_set_add(s, CY_SW_IPV4, "1.2.3.4/", 8, 9, NULL, E), COMITY_ERR_INVALID, NULL);
    TU_OK(cy_sw_set_build(s, E));
    struct {
        const char *ip;
        int ref; /* longest prefix's ref, 0 for none */
    } cases[] = {
        {"10.1.2.3", 3}, {"10.1.2.4", 2}, {"10.2.0.1", 1}, {"11.0.0.1", 0},
        {"192.168.77.1", 4}, {"192.168.78.1", 0}, {"2001:db8::1", 6},
        {"2001:db8:ffff::2", 5}, {"2001:db9::1", 0},
    };
    for (size_t i = 0; i < CY_ARRAY_LEN(cases); i++) {
        uint8_t a[16];
        size_t al = cy_sw_parse_ipv4(cases[i].ip, strlen(cases[i].ip), a) ? 4 : 16;
        if (al == 16)
            assert_true(cy_sw_parse_ipv6(cases[i].ip, strlen(cases[i].ip), a));
        cy_sw_found f[4];
        size_t n = cy_sw_lookup_ip(s, a, al, f, 4);
        if (!cases[i].ref) {
            assert_int_equal(n, 0);
            continue;
        }
        assert_int_equal(n, 1);
        const uint32_t *refs;
        cy_sw_set_refs(s, f[0].entry, &refs);
        if ((int)refs[0] != cases[i].ref)
            fail_msg("%s: ref %u, want %d", cases[i].ip, refs[0], cases[i].ref);
    }
    uint8_t a[4];
    assert_false(cy_sw_parse_ipv4("1.2.3", 5, a));
    assert_false(cy_sw_parse_ipv4("1.2.3.4.5", 9, a));
    assert_false(cy_sw_parse_ipv4("1.2.3.1234", 10, a));
    assert_false(cy_sw_parse_ipv4("1..3.4", 6, a));
    cy_sw_set_free(s);
}

static void test_hashes_and_paths(void **state)
{
    (void)state;
    cy_sw_set *s = mk();
    const char *sha = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
    int p1 = cy_sw_path_id(s, "file:hashes.'SHA-256'", 21);
    int p2 = cy_sw_path_id(s, "file:hashes.sha256", 18);
    int p3 = cy_sw_path_id(s, "file:hashes.SHA256", 18);
    assert_int_equal(p1, CY_SW_SHA256);
    assert_int_equal(p2, CY_SW_SHA256);
    assert_int_equal(p3, CY_SW_SHA256);
    assert_int_equal(cy_sw_path_id(s, "file:hashes.MD5", 15), CY_SW_MD5);
    assert_int_equal(cy_sw_path_id(s, "file:hashes.'SHA-1'", 19), CY_SW_SHA1);
    int app = cy_sw_path_id(s, "app:id", 6);
    assert_true(app >= CY_SW_WORD0);
    assert_int_equal(cy_sw_path_id(s, "app:id", 6), app);
    assert_int_not_equal(cy_sw_path_id(s, "android-property:name", 21), app);
    add(s, p1, sha, 1);
    add(s, CY_SW_MD5, "d41d8cd98f00b204e9800998ecf8427e", 2);
    add(s, app, "com.Evil.App", 3);
    TU_FAILS(cy_sw_set_add(s, CY_SW_MD5, "d41d8cd98f00b204e9800998ecf8427", 31, 9, NULL, E),
             COMITY_ERR_INVALID, "32 hex");
    TU_FAILS(cy_sw_set_add(s, CY_SW_SHA1, "zz1d8cd98f00b204e9800998ecf8427e00000000", 40, 9, NULL,
                           E),
             COMITY_ERR_INVALID, "40 hex");
    TU_FAILS(cy_sw_set_add(s, CY_SW_EMAIL, "nobody", 6, 9, NULL, E), COMITY_ERR_INVALID, "@");
    TU_OK(cy_sw_set_build(s, E));
    cy_sw_found f[2];
    const char *lower = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    assert_int_equal(cy_sw_lookup_exact(s, CY_SW_SHA256, lower, 64, f, 2), 1);
    assert_int_equal(cy_sw_lookup_exact(s, CY_SW_MD5, lower, 32, f, 2), 0);
    /* names are case-sensitive */
    assert_int_equal(cy_sw_lookup_exact(s, app, "com.Evil.App", 12, f, 2), 1);
    assert_int_equal(cy_sw_lookup_exact(s, app, "com.evil.app", 12, f, 2), 0);
    assert_true(cy_sw_set_has(s, app));
    assert_false(cy_sw_set_has(s, CY_SW_URL));
    cy_sw_set_free(s);
}

static void test_many_values(void **state)
{
    (void)state;
    /* 50,000 values: every one found, near misses not. */
    cy_sw_set *s = mk();
    char v[64];
    for (int i = 0; i < 50000; i++) {
        int n = snprintf(v, sizeof v, "host%d.example%d.net", i, i % 97);
        TU_OK(cy_sw_set_add(s, CY_SW_DOMAIN, v, (size_t)n, (uint32_t)i, NULL, E));
    }
    TU_OK(cy_sw_set_build(s, E));
    cy_sw_stats st;
    cy_sw_set_stats(s, &st);
    assert_int_equal(st.values, 50000);
    assert_true(st.bytes / 50000 <= 64);
    for (int i = 0; i < 50000; i++) {
        int n = snprintf(v, sizeof v, "a.host%d.example%d.net", i, i % 97);
        cy_sw_found f[2];
        assert_int_equal(cy_sw_lookup_domain(s, v, (size_t)n, f, 2), 1);
        n = snprintf(v, sizeof v, "host%d.example%d.net", i, (i + 1) % 97);
        assert_int_equal(cy_sw_lookup_domain(s, v, (size_t)n, f, 2), 0);
    }
    cy_sw_set_free(s);
}

/* ---- tokenizer --------------------------------------------------------- */

struct got {
    char tok[16][64];
    uint64_t line[16], off[16];
    int path[16];
    int n;
    int records;
};

static int on_hit(void *ud, const cy_sw_hit *h)
{
    struct got *g = ud;
    if (g->n < 16) {
        snprintf(g->tok[g->n], 64, "%.*s", (int)h->tok_len, h->tok);
        g->line[g->n] = h->line;
        g->off[g->n] = h->offset;
        g->path[g->n] = h->path;
        g->n++;
    }
    return 0;
}

static void test_scan_tokens(void **state)
{
    (void)state;
    cy_sw_set *s = mk();
    add(s, CY_SW_DOMAIN, "evil.com", 1);
    add(s, CY_SW_IPV4, "203.0.113.0/24", 2);
    add(s, CY_SW_IPV6, "2001:db8::/32", 3);
    add(s, CY_SW_EMAIL, "Spy@Mail.example", 4);
    add(s, CY_SW_URL, "https://cdn.example/x.js", 5);
    add(s, CY_SW_SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709", 6);
    add(s, CY_SW_PROCESS_NAME, "bh", 7);
    add(s, CY_SW_FILE_PATH, "/private/var/tmp/hooker", 8);
    TU_OK(cy_sw_set_build(s, E));
    const char *text =
        "06:40:00 query[A] WWW.Evil.Com. from 10.0.0.1\n"          /* 1 */
        "notevil.com evil.community evil.com-x 203.0.113.77:443\n"  /* 2 */
        "src=[2001:db8::5]:53 mail from spy@mail.example ok\n"     /* 3 */
        "GET https://cdn.example/x.js\tDA39A3EE5E6B4B0D3255BFEF95601890AFD80709\n" /* 4 */
        "ps: 12 bh bhx /private/var/tmp/hooker\n"                  /* 5 */
        "1.2.3.4.5 203.0.113.5.6 evil.com";                        /* 6, no newline */
    struct got g = {0};
    uint64_t lines = cy_sw_scan_text(s, text, strlen(text), 1, 1000, on_hit, &g);
    assert_int_equal(lines, 6);
    const char *want[] = {"WWW.Evil.Com", "203.0.113.77", "2001:db8::5", "spy@mail.example",
                          "https://cdn.example/x.js", "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709",
                          "bh", "/private/var/tmp/hooker", "evil.com"};
    uint64_t want_line[] = {1, 2, 3, 3, 4, 4, 5, 5, 6};
    if (g.n != (int)CY_ARRAY_LEN(want)) {
        for (int i = 0; i < g.n; i++)
            print_message("got %s line %llu\n", g.tok[i], (unsigned long long)g.line[i]);
        fail_msg("want %zu hits, got %d", CY_ARRAY_LEN(want), g.n);
    }
    for (int i = 0; i < g.n; i++) {
        assert_string_equal(g.tok[i], want[i]);
        assert_int_equal(g.line[i], want_line[i]);
        /* the offset points at the token in the input */
        assert_memory_equal(text + (g.off[i] - 1000), want[i], strlen(want[i]));
    }
    cy_sw_set_free(s);
}

static void test_scan_empty_set(void **state)
{
    (void)state;
    cy_sw_set *s = mk();
    TU_OK(cy_sw_set_build(s, E));
    struct got g = {0};
    assert_int_equal(cy_sw_scan_text(s, "a.com\n\n1.2.3.4\n", 15, 1, 0, on_hit, &g), 3);
    assert_int_equal(g.n, 0);
    assert_int_equal(cy_sw_scan_text(s, "", 0, 1, 0, on_hit, &g), 0);
    cy_sw_set_free(s);
}

/* The dot-anchored fast path (sets of domains and IPv4 only) must find
 * exactly what the byte-by-byte path finds (forced by adding a hash). */
struct all {
    char toks[32768];
    size_t len;
    int n;
};

static int on_all(void *ud, const cy_sw_hit *h)
{
    struct all *a = ud;
    int k = snprintf(a->toks + a->len, sizeof a->toks - a->len, "%llu:%llu:%.*s|",
                     (unsigned long long)h->line, (unsigned long long)h->offset,
                     (int)h->tok_len, h->tok);
    if (k > 0 && a->len + (size_t)k < sizeof a->toks)
        a->len += (size_t)k;
    a->n++;
    return 0;
}

/* The fast path (scan_dots) and the byte-by-byte path (forced by an MD5
 * value) report the same hits for pseudo-random text made of pieces.  With
 * IPv4 values the fast path visits every dot; with domains only it visits
 * only runs holding a dot and a letter, found with carries that cross its
 * 64-byte windows: long digit and letter runs put dots and letters of one
 * run on both sides of a window edge. */
static void agree(bool with_ip)
{
    cy_sw_set *fast = mk(), *slow = mk();
    const char *vals[] = {"evil.com", "a.bad.net", "203.0.113.0/24", "x-y_z.org", "10.9.8.7",
                          "1.2a", "7.z9", "0000.b", "q9.8.7.6", "ab.12"};
    for (size_t i = 0; i < CY_ARRAY_LEN(vals); i++) {
        int path = i == 2 || i == 4 ? CY_SW_IPV4 : CY_SW_DOMAIN;
        if (path == CY_SW_IPV4 && !with_ip)
            continue;
        add(fast, path, vals[i], (uint32_t)i);
        add(slow, path, vals[i], (uint32_t)i);
    }
    add(slow, CY_SW_MD5, "00000000000000000000000000000000", 99);
    TU_OK(cy_sw_set_build(fast, E));
    TU_OK(cy_sw_set_build(slow, E));
    /* deterministic pseudo-random text built from pieces */
    const char *pieces[] = {"evil.com", "EVIL.COM.", "notevil.com", ".", "..", "a.bad.net",
                            "bad.net", " ", "\n", ":", "203.0.113.9", "203.0.114.9",
                            "10.9.8.7:53", "x-y_z.org", "(", ")", "q.evil.com:443",
                            "\n\n", "1.2", "evil.com.", "a", "-", "_", "\t", "@",
                            "http://evil.com/x", "w.x-y_z.org", "0000000000000", "1.2a",
                            "a", "7.", "z9", "000000000.b", "q9.8.7.6", "9", "\xc3\xa9",
                            "bbbbbbbbbbbbbbbbbbbbbb", "2026-11-23", "12:34:56.789", "ab", ".12",
                            "ab.12"};
    char text[8192];
    uint64_t r = 7;
    int total = 0;
    for (int round = 0; round < 400; round++) {
        size_t len = 0;
        for (int k = 0; k < 80; k++) {
            r = r * 6364136223846793005ULL + 1442695040888963407ULL;
            const char *p = pieces[(r >> 33) % CY_ARRAY_LEN(pieces)];
            size_t pl = strlen(p);
            if (len + pl >= sizeof text)
                break;
            memcpy(text + len, p, pl);
            len += pl;
        }
        struct all a = {0}, b = {0};
        uint64_t la = cy_sw_scan_text(fast, text, len, 1, 0, on_all, &a);
        uint64_t lb = cy_sw_scan_text(slow, text, len, 1, 0, on_all, &b);
        assert_int_equal(la, lb);
        total += a.n;
        if (a.len != b.len || memcmp(a.toks, b.toks, a.len) != 0)
            fail_msg("round %d (ip %d): text %.*s\nfast %.*s\nslow %.*s", round, with_ip, (int)len, text, (int)a.len,
                     a.toks, (int)b.len, b.toks);
    }
    assert_true(total > 1000); /* the text does hit, often */
    cy_sw_set_free(fast);
    cy_sw_set_free(slow);
}

static void test_scan_fast_path_agrees(void **state)
{
    (void)state;
    bool avx2 = cy_sw_scan_avx2(-1);
    for (int k = 0; k < 2; k++) { /* SSE2, then AVX2 when the CPU has it */
        cy_sw_scan_avx2(k);
        agree(true);
        agree(false);
    }
    cy_sw_scan_avx2(avx2);
}

/* DNS-log lines name each query twice: the scanner neither hashes the
 * repeat again nor probes it again when the first had no hit.  Every
 * occurrence must still be reported, at its own line and byte, across
 * batch flushes (more than 32 tokens) and after non-repeats of the same
 * length.  Expected hits come from cy_sw_lookup_domain, token by token. */
static void test_scan_repeated_names(void **state)
{
    (void)state;
    cy_sw_set *s = mk();
    add(s, CY_SW_DOMAIN, "evil.com", 1);
    add(s, CY_SW_DOMAIN, "bad.net", 2);
    add(s, CY_SW_DOMAIN, "x.evil.com", 3);
    TU_OK(cy_sw_set_build(s, E));
    const char *names[] = {"evil.com", "EVIL.com", "good.com", "bad.net", "bbd.net",
                           "x.evil.com", "y.evil.com", "nothing.org", "a.b.c.d"};
    static char text[65536];
    size_t len = 0;
    struct all want = {0};
    uint64_t r = 11;
    for (int line = 1; line <= 300; line++) {
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        const char *nm = names[(r >> 33) % CY_ARRAY_LEN(names)];
        size_t nl = strlen(nm);
        for (uint64_t rep = 0; rep < ((r >> 40) % 3) + 1; rep++) {
            const char *pre = rep ? ": query: " : "10:00:00.000 client 10.0.0.1#53 (";
            memcpy(text + len, pre, strlen(pre));
            len += strlen(pre);
            cy_sw_found f[8];
            size_t k = cy_sw_lookup_domain(s, nm, nl, f, 8);
            for (size_t i = 0; i < k; i++) {
                cy_sw_hit h = {.entry = f[i].entry, .line = (uint64_t)line,
                               .offset = len, .tok = text + len, .tok_len = nl};
                memcpy(text + len, nm, nl);
                on_all(&want, &h);
            }
            memcpy(text + len, nm, nl);
            len += nl;
            text[len++] = rep ? ' ' : ')';
        }
        text[len++] = '\n';
        assert_true(len + 256 < sizeof text);
    }
    struct all got = {0};
    assert_int_equal(cy_sw_scan_text(s, text, len, 1, 0, on_all, &got), 300);
    assert_true(want.n > 100);
    assert_int_equal(got.n, want.n);
    if (got.len != want.len || memcmp(got.toks, want.toks, got.len) != 0)
        fail_msg("got %.*s\nwant %.*s", (int)got.len, got.toks, (int)want.len, want.toks);
    cy_sw_set_free(s);
}

static void test_type_names(void **state)
{
    (void)state;
    assert_int_equal(cy_sw_type_path("domain"), CY_SW_DOMAIN);
    assert_int_equal(cy_sw_type_path("sha256"), CY_SW_SHA256);
    assert_int_equal(cy_sw_type_path("ip"), CY_SW_IPV4);
    assert_int_equal(cy_sw_type_path("nonsense"), CY_SW_NONE);
    assert_string_equal(cy_sw_path_name(NULL, CY_SW_DOMAIN), "domain-name:value");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_domain_suffix),
        cmocka_unit_test(test_domain_many_labels),
        cmocka_unit_test(test_domain_nested_and_dups),
        cmocka_unit_test(test_domain_quirks),
        cmocka_unit_test(test_ip_cidr),
        cmocka_unit_test(test_hashes_and_paths),
        cmocka_unit_test(test_many_values),
        cmocka_unit_test(test_scan_tokens),
        cmocka_unit_test(test_scan_empty_set),
        cmocka_unit_test(test_domain_hashes_in_buffer),
        cmocka_unit_test(test_scan_fast_path_agrees),
        cmocka_unit_test(test_scan_repeated_names),
        cmocka_unit_test(test_type_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
