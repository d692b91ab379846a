/*
 * test_correlate.c: the correlation index and blinded correlation
 * (src/correlate/): on a generated set with planted overlaps the index
 * reports exactly the pairs of holders an independent oracle finds (none
 * missed, none invented), including subdomains and CIDR ranges, the common
 * cap and the exclusion list; what an asker may not see is never shown
 * (and a holder it may not see is answered as unknown); bodies and STIX
 * patterns give their values; blinded intersection is exact and shows
 * nothing to a non-participant.
 */
#include <arpa/inet.h>
#include <stdlib.h>

#include <jansson.h>

#include "correlate/correlate.h"
#include "util/testutil.h"

static uint64_t rs = 42;
static uint64_t rnd(void)
{
    uint64_t z = (rs += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void label(char *o, size_t n)
{
    for (size_t i = 0; i < n; i++)
        o[i] = (char)('a' + rnd() % 26);
    o[n] = 0;
}

/* ---- the oracle: canonical values and containment, written apart ------- */

#define NH 80        /* holders */
#define NV 20        /* own values per holder */
#define MAXV (NH * NV + 400)

struct tv {
    int kind;            /* CY_CK_* */
    char canon[128];     /* lowercase domain / address text / hash */
    char spelled[160];   /* what is fed to the index */
    int holder;
};

static struct tv tvs[MAXV];
static size_t ntv;

static void put(int holder, int kind, const char *canon, const char *spelled)
{
    assert_true(ntv < MAXV);
    tvs[ntv].kind = kind;
    snprintf(tvs[ntv].canon, sizeof tvs[ntv].canon, "%s", canon);
    snprintf(tvs[ntv].spelled, sizeof tvs[ntv].spelled, "%s", spelled ? spelled : canon);
    tvs[ntv].holder = holder;
    ntv++;
}

/* a parses as addr/prefix; family 4 or 6 */
static void cidr(const char *s, int *fam, uint8_t a[16], unsigned *p)
{
    char t[64];
    snprintf(t, sizeof t, "%s", s);
    char *sl = strchr(t, '/');
    if (sl)
        *sl = 0;
    memset(a, 0, 16);
    if (inet_pton(AF_INET, t, a) == 1) {
        *fam = 4;
        *p = sl ? (unsigned)atoi(sl + 1) : 32;
    } else {
        assert_int_equal(inet_pton(AF_INET6, t, a), 1);
        *fam = 6;
        *p = sl ? (unsigned)atoi(sl + 1) : 128;
    }
}

/* x contains y (or equals it) */
static bool contains(const struct tv *x, const struct tv *y)
{
    if (x->kind != y->kind)
        return false;
    if (!strcmp(x->canon, y->canon))
        return true;
    if (x->kind == CY_CK_DOMAIN) {
        size_t lx = strlen(x->canon), ly = strlen(y->canon);
        return strchr(x->canon, '.') && ly > lx + 1 && y->canon[ly - lx - 1] == '.' &&
               !strcmp(y->canon + ly - lx, x->canon);
    }
    if (x->kind == CY_CK_IPV4 || x->kind == CY_CK_IPV6) {
        int fx, fy;
        uint8_t ax[16], ay[16];
        unsigned px, py;
        cidr(x->canon, &fx, ax, &px);
        cidr(y->canon, &fy, ay, &py);
        if (fx != fy || py < px)
            return false;
        for (unsigned b = 0; b < px; b++)
            if (((ax[b / 8] >> (7 - b % 8)) & 1) != ((ay[b / 8] >> (7 - b % 8)) & 1))
                return false;
        return true;
    }
    return false;
}

/* holders of a canonical value */
static size_t holders_of(const struct tv *x)
{
    bool seen[NH + 16] = {0};
    size_t n = 0;
    for (size_t i = 0; i < ntv; i++)
        if (tvs[i].kind == x->kind && !strcmp(tvs[i].canon, x->canon) && !seen[tvs[i].holder]) {
            seen[tvs[i].holder] = true;
            n++;
        }
    return n;
}

static bool excluded_canon(const char *canon)
{
    return !strcmp(canon, "resolver.example.net");
}

/* ---- generation ----------------------------------------------------------- */

static void own_values(int h)
{
    char a[64], b[64], t[160], u[160];
    for (int i = 0; i < NV; i++) {
        switch (i % 6) {
        case 0:
            label(a, 12);
            label(b, 8);
            snprintf(t, sizeof t, "%s.%s.com", a, b);
            snprintf(u, sizeof u, "%s.%s.COM.", a, b); /* folded by the sweep's rule */
            put(h, CY_CK_DOMAIN, t, u);
            break;
        case 1: /* own addresses from 100.64/10: planted ranges are in 10/8 */
            snprintf(t, sizeof t, "100.%u.%u.%u", 64 + (unsigned)(rnd() % 64),
                     (unsigned)(rnd() % 256), (unsigned)(rnd() % 256));
            put(h, CY_CK_IPV4, t, NULL);
            break;
        case 2: {
            static const char hex[] = "0123456789abcdef";
            for (int k = 0; k < 64; k++)
                t[k] = hex[rnd() % 16];
            t[64] = 0;
            for (int k = 0; k < 65; k++)
                u[k] = (char)(t[k] >= 'a' ? t[k] - 32 : t[k]);
            put(h, CY_CK_SHA256, t, u);
            break;
        }
        case 3:
            label(a, 10);
            snprintf(t, sizeof t, "%s@mail-%d.org", a, h);
            put(h, CY_CK_EMAIL, t, NULL);
            break;
        case 4:
            snprintf(t, sizeof t, "2001:db8:%x:%x::%x", (unsigned)(rnd() % 65536),
                     (unsigned)(rnd() % 65536), (unsigned)(rnd() % 65536));
            put(h, CY_CK_IPV6, t, NULL);
            break;
        default:
            label(a, 16);
            snprintf(t, sizeof t, "https://%s.example/x/%d", a, h);
            put(h, CY_CK_URL, t, NULL);
            break;
        }
    }
}

static void plant(void)
{
    char t[160], u[160], a[32];
    /* 40 exact overlaps among 2..4 holders, spelled differently */
    for (int g = 0; g < 40; g++) {
        int k = 2 + (int)(rnd() % 3);
        label(a, 10);
        snprintf(t, sizeof t, "c2-%s.net", a);
        for (int j = 0; j < k; j++) {
            snprintf(u, sizeof u, j % 2 ? "C2-%s.NET" : "c2-%s.net.", a);
            for (char *p = u; *p && j % 2; p++)
                if (*p >= 'a' && *p <= 'z')
                    *p = (char)(*p - 32);
            put((int)(rnd() % NH), CY_CK_DOMAIN, t, u);
        }
    }
    /* 20 subdomain plants: one holds the parent, another a subdomain */
    for (int g = 0; g < 20; g++) {
        label(a, 9);
        snprintf(t, sizeof t, "%s.org", a);
        put((int)(rnd() % NH), CY_CK_DOMAIN, t, NULL);
        snprintf(u, sizeof u, "mail.%s.org", a);
        put((int)(rnd() % NH), CY_CK_DOMAIN, u, NULL);
    }
    /* 20 CIDR plants: a /24 and an address inside; 10 IPv6 /48 and one inside */
    for (int g = 0; g < 20; g++) {
        snprintf(t, sizeof t, "10.%d.%d.0/24", g, (int)(rnd() % 256));
        put((int)(rnd() % NH), CY_CK_IPV4, t, NULL);
        char *dot = strrchr(t, '.');
        snprintf(u, sizeof u, "%.*s.%d", (int)(dot - t), t, 1 + (int)(rnd() % 254));
        put((int)(rnd() % NH), CY_CK_IPV4, u, NULL);
    }
    for (int g = 0; g < 10; g++) {
        snprintf(t, sizeof t, "2001:db9:%x::/48", g);
        put((int)(rnd() % NH), CY_CK_IPV6, t, NULL);
        snprintf(u, sizeof u, "2001:db9:%x:1::%x", g, 1 + g);
        put((int)(rnd() % NH), CY_CK_IPV6, u, NULL);
    }
    /* hashes and certificate fingerprints shared by two */
    for (int g = 0; g < 10; g++) {
        static const char hex[] = "0123456789abcdef";
        for (int k = 0; k < 40; k++)
            t[k] = hex[rnd() % 16];
        t[40] = 0;
        put((int)(rnd() % NH), CY_CK_X509_SHA1, t, NULL);
        size_t n = 0;
        for (int k = 0; k < 40; k++) {
            if (k && k % 2 == 0)
                u[n++] = ':';
            u[n++] = (char)(t[k] >= 'a' ? t[k] - 32 : t[k]);
        }
        u[n] = 0;
        put((int)(rnd() % NH), CY_CK_X509_SHA1, t, u);
    }
    /* a value everybody's resolver logs hold: over the cap (common) */
    for (int h = 0; h < 12; h++)
        put(h * 5, CY_CK_DOMAIN, "cdn.bigcloud.example", NULL);
    /* a value on the exclusion list, held by three */
    for (int h = 0; h < 3; h++)
        put(h * 7 + 1, CY_CK_DOMAIN, "resolver.example.net", NULL);
}

#define CAP 10

static void test_planted_exact(void **state)
{
    (void)state;
    ntv = 0;
    for (int h = 0; h < NH; h++)
        own_values(h);
    plant();

    cy_corr *c = NULL;
    TU_OK(cy_corr_new(CAP, &c, E));
    TU_OK(cy_corr_exclude(c, CY_CK_DOMAIN, "Resolver.Example.NET.", 21, E));
    static const char *const states[] = {"pk", "in", "fr", "de", "br", "za", "jp", "ng"};
    for (int h = 0; h < NH; h++) {
        char id[64], au[32];
        snprintf(id, sizeof id, "notification--%08d-0000-4000-8000-000000000000", h);
        snprintf(au, sizeof au, "%s.cert", states[h % 8]);
        uint32_t x;
        TU_OK(cy_corr_holder(c, id, "notification", au, "green", NULL, 0, &x, E));
        assert_int_equal(x, (uint32_t)h);
    }
    for (size_t i = 0; i < ntv; i++)
        TU_OK(cy_corr_add(c, (uint32_t)tvs[i].holder, tvs[i].kind, tvs[i].spelled,
                          strlen(tvs[i].spelled), NULL, E));
    TU_OK(cy_corr_prepare(c, E));

    /* the oracle: holders a and b share when a value of one contains a
     * value of the other, neither being common nor excluded */
    static bool want[NH][NH], got[NH][NH];
    memset(want, 0, sizeof want);
    memset(got, 0, sizeof got);
    static size_t count[MAXV];
    for (size_t i = 0; i < ntv; i++)
        count[i] = holders_of(&tvs[i]);
    size_t pairs = 0;
    for (size_t i = 0; i < ntv; i++)
        for (size_t j = 0; j < ntv; j++) {
            const struct tv *x = &tvs[i], *y = &tvs[j];
            if (x->holder == y->holder || count[i] > CAP || count[j] > CAP ||
                excluded_canon(x->canon) || excluded_canon(y->canon))
                continue;
            if (contains(x, y) || contains(y, x)) {
                if (!want[x->holder][y->holder])
                    pairs++;
                want[x->holder][y->holder] = true;
            }
        }
    assert_true(pairs > 100); /* the plants made real overlaps */

    size_t commons = 0;
    for (int h = 0; h < NH; h++) {
        char id[64];
        snprintf(id, sizeof id, "notification--%08d-0000-4000-8000-000000000000", h);
        char *js = NULL;
        TU_OK(cy_corr_shared(c, id, "pk.cert", &js, E));
        json_t *j = json_loads(js, 0, NULL);
        assert_non_null(j);
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(j, "shared"), i, v)
        {
            size_t k;
            json_t *o;
            assert_string_not_equal(json_string_value(json_object_get(v, "value")),
                                    "cdn.bigcloud.example");
            assert_string_not_equal(json_string_value(json_object_get(v, "value")),
                                    "resolver.example.net");
            json_array_foreach(json_object_get(v, "holders"), k, o)
            {
                int other = atoi(json_string_value(json_object_get(o, "id")) + 14);
                assert_true(other >= 0 && other < NH && other != h);
                got[h][other] = true;
                assert_string_equal(json_string_value(json_object_get(o, "state")),
                                    states[other % 8]);
            }
        }
        json_array_foreach(json_object_get(j, "common"), i, v)
        {
            assert_string_equal(json_string_value(json_object_get(v, "value")),
                                "cdn.bigcloud.example");
            commons++;
        }
        json_decref(j);
        cy_free(js);
    }
    for (int a = 0; a < NH; a++)
        for (int b = 0; b < NH; b++)
            if (want[a][b] != got[a][b])
                fail_msg("holders %d and %d: oracle says %d, index says %d", a, b, want[a][b],
                         got[a][b]);
    assert_int_equal(commons, 12); /* every holder of the common value is told */

    cy_corr_stats st;
    cy_corr_stats_get(c, &st);
    assert_int_equal(st.common, 1);
    assert_int_equal(st.excluded_skipped, 3);
    /* the common value's postings stopped at the cap */
    assert_true(st.postings < ntv);
    cy_corr_free(c);
}

/* ---- visibility -------------------------------------------------------------- */

static const char *A = "notification--aaaaaaaa-0000-4000-8000-000000000000";
static const char *B = "case--bbbbbbbb-0000-4000-8000-000000000000";
static const char *C = "sighting--cccccccc-0000-4000-8000-000000000000";

static cy_corr *three(void)
{
    cy_corr *c = NULL;
    TU_OK(cy_corr_new(0, &c, E));
    uint32_t a, b, x;
    const char *to_b[] = {"pk"};
    TU_OK(cy_corr_holder(c, A, "notification", "fr.cert", "green", NULL, 0, &a, E));
    TU_OK(cy_corr_holder(c, B, "case", "in.cert", "amber", to_b, 1, &b, E));
    TU_OK(cy_corr_holder(c, C, "sighting", "de.cert", "clear", NULL, 0, &x, E));
    TU_OK(cy_corr_add(c, a, CY_CK_DOMAIN, "evil.example", 12, NULL, E));
    TU_OK(cy_corr_add(c, b, CY_CK_DOMAIN, "x.evil.example", 14, NULL, E));
    TU_OK(cy_corr_add(c, x, CY_CK_DOMAIN, "EVIL.example", 12, NULL, E));
    TU_OK(cy_corr_prepare(c, E));
    return c;
}

static char *shared(cy_corr *c, const char *id, const char *viewer)
{
    char *js = NULL;
    TU_OK(cy_corr_shared(c, id, viewer, &js, E));
    return js;
}

static void test_visibility(void **state)
{
    (void)state;
    cy_corr *c = three();
    char *js;
    /* a recipient of the sealed case sees all three */
    js = shared(c, A, "pk.mofa");
    assert_non_null(strstr(js, B));
    assert_non_null(strstr(js, C));
    cy_free(js);
    /* another state sees the green and clear ones, never the case */
    js = shared(c, A, "br.cert");
    assert_null(strstr(js, B));
    assert_null(strstr(js, "in.cert"));
    assert_null(strstr(js, "x.evil.example"));
    assert_non_null(strstr(js, C));
    cy_free(js);
    /* anonymous: only clear holders, and a green one is unknown */
    js = shared(c, C, NULL);
    assert_null(strstr(js, A));
    assert_null(strstr(js, B));
    cy_free(js);
    char *out = NULL;
    TU_FAILS(cy_corr_shared(c, A, NULL, &out, E), COMITY_ERR_NOTFOUND, "no holder");
    /* the sealed case, asked by a non-party, answers as an unknown id */
    comity_error e1 = {0}, e2 = {0};
    assert_int_equal(cy_corr_shared(c, B, "br.cert", &out, &e1), COMITY_ERR_NOTFOUND);
    assert_int_equal(cy_corr_shared(c, "case--dddddddd-0000-4000-8000-000000000000", "br.cert",
                                    &out, &e2),
                     COMITY_ERR_NOTFOUND);
    assert_null(out);
    assert_int_equal(strncmp(e1.msg, e2.msg, 28), 0); /* the same words, only the id differs */
    TU_FAILS(cy_corr_values(c, B, "br.cert", &out, E), COMITY_ERR_NOTFOUND, "no holder");
    /* the case's own parties see what it shares */
    js = shared(c, B, "in.cert");
    assert_non_null(strstr(js, A));
    assert_non_null(strstr(js, C));
    cy_free(js);
    /* a lookup by value (a client's sealed content) obeys the same rule */
    int kinds[] = {CY_CK_DOMAIN, CY_CK_DOMAIN, CY_CK_SHA256};
    const char *vals[] = {"deep.x.evil.example", "other.example", "nothex"};
    TU_OK(cy_corr_lookup(c, kinds, vals, 3, "br.cert", &out, E));
    assert_non_null(strstr(out, A));
    assert_non_null(strstr(out, C));
    assert_null(strstr(out, B));
    assert_non_null(strstr(out, "\"invalid\":[{"));
    cy_free(out);
    TU_OK(cy_corr_lookup(c, kinds, vals, 1, "pk.cert", &out, E));
    assert_non_null(strstr(out, B));
    cy_free(out);
    cy_corr_free(c);
}

/* A gate as a node's would be: "who" is a reader's name; the rule
 * "only:NAME" lets that one reader in, "anyone" everybody (anonymous too). */
static bool test_gate(const char *rule, const void *who)
{
    if (!strcmp(rule, "anyone"))
        return true;
    return who && !strncmp(rule, "only:", 5) && !strcmp(rule + 5, (const char *)who);
}

static void test_gated(void **state)
{
    (void)state;
    cy_corr *c = three();
    const char *G = "indicator--eeeeeeee-0000-4000-8000-000000000000";
    const char *P = "indicator--ffffffff-0000-4000-8000-000000000000";
    uint32_t g, p;
    TU_OK(cy_corr_holder_gated(c, G, "indicator", "pk.cert", "only:pk.cert", &g, E));
    TU_OK(cy_corr_holder_gated(c, P, "indicator", "", "anyone", &p, E));
    TU_OK(cy_corr_add(c, g, CY_CK_DOMAIN, "c2.evil.example", 15, NULL, E));
    TU_OK(cy_corr_add(c, p, CY_CK_DOMAIN, "evil.example", 12, NULL, E));
    /* a second description of a known holder changes nothing */
    TU_OK(cy_corr_holder_gated(c, G, "indicator", "x", "anyone", &p, E));
    assert_int_equal(p, g);
    TU_FAILS(cy_corr_holder_gated(c, "indicator--1", "indicator", "", "", &p, E),
             COMITY_ERR_USAGE, "read rule");
    TU_OK(cy_corr_prepare(c, E));
    char *out = NULL;
    /* without a gate nobody sees a gated holder, not even its owner */
    TU_OK(cy_corr_shared(c, A, "pk.cert", &out, E));
    assert_null(strstr(out, G));
    assert_null(strstr(out, P));
    cy_free(out);
    cy_corr_set_gate(c, test_gate);
    /* the rule's reader sees it (its author's name plays no part) */
    TU_OK(cy_corr_shared_as(c, A, "pk.cert", "pk.cert", &out, E));
    assert_non_null(strstr(out, G));
    assert_non_null(strstr(out, P));
    cy_free(out);
    TU_OK(cy_corr_shared_as(c, A, "in.cert", "in.cert", &out, E));
    assert_null(strstr(out, G));
    assert_non_null(strstr(out, P));
    cy_free(out);
    /* the owner as a viewer name but another reader for the gate: not shown */
    TU_OK(cy_corr_shared_as(c, A, "pk.cert", "in.cert", &out, E));
    assert_null(strstr(out, G));
    cy_free(out);
    /* asked about directly: unknown to those the rule keeps out */
    TU_FAILS(cy_corr_shared_as(c, G, "in.cert", "in.cert", &out, E), COMITY_ERR_NOTFOUND,
             "no holder");
    TU_OK(cy_corr_shared_as(c, G, "pk.cert", "pk.cert", &out, E));
    assert_non_null(strstr(out, A));
    cy_free(out);
    /* lookups obey the gate as well; anonymous reaches only "anyone" */
    const char *body = "{\"values\":[{\"type\":\"domain\",\"value\":\"www.c2.evil.example\"}]}";
    TU_OK(cy_corr_lookup_body_as(c, body, strlen(body), "in.cert", "in.cert", &out, E));
    assert_null(strstr(out, G));
    assert_non_null(strstr(out, P));
    cy_free(out);
    TU_OK(cy_corr_lookup_body_as(c, body, strlen(body), "pk.cert", "pk.cert", &out, E));
    assert_non_null(strstr(out, G));
    cy_free(out);
    TU_OK(cy_corr_lookup_body_as(c, body, strlen(body), NULL, NULL, &out, E));
    assert_null(strstr(out, G));
    assert_non_null(strstr(out, P));
    cy_free(out);
    cy_corr_free(c);
}

/* ---- bodies ------------------------------------------------------------------ */

static void test_feed_json(void **state)
{
    (void)state;
    const char *body =
        "{\"severity\":3,\"indicators\":{\"type\":\"bundle\",\"id\":\"bundle--1\",\"objects\":["
        "{\"type\":\"indicator\",\"pattern_type\":\"stix\",\"pattern\":"
        "\"[domain-name:value = 'Evil.COM.'] OR [ipv4-addr:value IN ('1.2.3.4', "
        "'5.6.7.9/24')] OR [file:hashes.sha256 = "
        "'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'] AND "
        "[url:value != 'http://skip.me/'] AND [email-addr:value NOT = 'skip@me.org']\"},"
        "{\"type\":\"indicator\",\"pattern_type\":\"sigma\",\"pattern\":\"title: x\"},"
        "{\"type\":\"indicator\",\"pattern\":\"[broken\"},"
        "{\"type\":\"observed-data\",\"objects\":{\"0\":{\"type\":\"file\",\"hashes\":"
        "{\"MD5\":\"0123456789ABCDEF0123456789ABCDEF\",\"SHA-512\":\"ff\"}},"
        "\"1\":{\"type\":\"email-addr\",\"value\":\"Boss@Evil.com\"}}},"
        "{\"type\":\"x509-certificate\",\"hashes\":{\"SHA-256\":"
        "\"BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB\"}},"
        "{\"type\":\"ipv6-addr\",\"value\":\"2001:DB8::1\"},"
        "{\"type\":\"domain-name\",\"value\":\"bad domain\"},"
        "{\"type\":\"infrastructure\",\"name\":\"c2\"}]}}";
    json_t *j = json_loads(body, 0, NULL);
    assert_non_null(j);
    cy_corr *c = NULL;
    TU_OK(cy_corr_new(0, &c, E));
    uint32_t h;
    TU_OK(cy_corr_holder(c, "notification--1", "notification", "pk.cert", "clear", NULL, 0, &h,
                         E));
    size_t skipped = 0;
    TU_OK(cy_corr_add_json(c, h, j, &skipped, E));
    json_decref(j);
    assert_int_equal(skipped, 2); /* the broken pattern, the bad domain */
    char *js = NULL;
    TU_OK(cy_corr_values(c, "notification--1", NULL, &js, E));
    static const char *const want[] = {
        "\"domain-name:value\",\"value\":\"evil.com\"",
        "\"ipv4-addr:value\",\"value\":\"1.2.3.4\"",
        "\"ipv4-addr:value\",\"value\":\"5.6.7.0/24\"",
        "\"file:hashes.'SHA-256'\",\"value\":\"aaaaaaaa",
        "\"file:hashes.MD5\",\"value\":\"0123456789abcdef0123456789abcdef\"",
        "\"email-addr:value\",\"value\":\"boss@evil.com\"",
        "\"x509-certificate:hashes.'SHA-256'\",\"value\":\"bbbbbbbb",
        "\"ipv6-addr:value\",\"value\":\"2001:db8::1\"",
    };
    for (size_t i = 0; i < CY_ARRAY_LEN(want); i++)
        if (!strstr(js, want[i]))
            fail_msg("%s not in %s", want[i], js);
    assert_null(strstr(js, "skip"));
    assert_null(strstr(js, "title"));
    json_t *a = json_loads(js, 0, NULL);
    assert_int_equal(json_array_size(a), CY_ARRAY_LEN(want));
    json_decref(a);
    cy_free(js);
    /* kinds by name */
    assert_int_equal(cy_corr_kind_parse("domain"), CY_CK_DOMAIN);
    assert_int_equal(cy_corr_kind_parse("file:hashes.'SHA-256'"), CY_CK_SHA256);
    assert_int_equal(cy_corr_kind_parse("x509-certificate:hashes.sha1"), CY_CK_X509_SHA1);
    assert_int_equal(cy_corr_kind_parse("process:name"), CY_CK_NONE);
    cy_corr_free(c);
    TU_FAILS(cy_corr_new(CY_CORR_COMMON_MAX + 1, &c, E), COMITY_ERR_USAGE, "common cap");
}

/* ---- blinded ---------------------------------------------------------------- */

static char *submit_body(const uint8_t key[32], const char *const *vals, size_t n,
                         const char *participants)
{
    uint8_t *h = malloc(n * CY_BLIND_HASH_LEN + 1);
    for (size_t i = 0; i < n; i++)
        TU_OK(cy_blind_hash(key, CY_CK_DOMAIN, vals[i], strlen(vals[i]),
                            h + i * CY_BLIND_HASH_LEN, E));
    size_t bl = cy_b64_encoded_len(n * CY_BLIND_HASH_LEN, CY_B64_STD);
    char *b64 = malloc(bl);
    cy_b64_encode(b64, bl, h, n * CY_BLIND_HASH_LEN, CY_B64_STD);
    char *body = malloc(bl + 256);
    snprintf(body, bl + 256, "{%s%s\"hashes\":\"%s\"}", participants ? participants : "",
             participants ? "," : "", b64);
    free(h);
    free(b64);
    return body;
}

static void test_blind(void **state)
{
    (void)state;
    enum { N = 1000, SHARED = 137 };
    static char va[N][40], vb[N][40];
    const char *pa[N], *pb[N];
    for (int i = 0; i < N; i++) {
        char l[16];
        label(l, 12);
        snprintf(va[i], sizeof va[i], "a-%s.com", l);
        label(l, 12);
        snprintf(vb[i], sizeof vb[i], "b-%s.com", l);
        if (i < SHARED) /* the same value, spelled otherwise */
            snprintf(vb[i], sizeof vb[i], "A-%.12s.COM.", va[i] + 2);
        pa[i] = va[i];
        pb[i] = vb[i];
    }
    for (int i = 0; i < SHARED; i++)
        for (char *p = vb[i]; *p; p++)
            if (*p >= 'a' && *p <= 'z')
                *p = (char)(*p - 32);
    uint8_t key[32], other[32];
    for (int i = 0; i < 32; i++) {
        key[i] = (uint8_t)rnd();
        other[i] = (uint8_t)rnd();
    }
    cy_blind_rounds *r = NULL;
    TU_OK(cy_blind_rounds_new(&r, E));
    const char *parts = "\"participants\":[\"pk\",\"in.cert\"]";
    char *ba = submit_body(key, pa, N, parts), *bb = submit_body(key, pb, N, NULL);
    char *out = NULL;
    /* a non-participant can neither open nor join nor read */
    TU_FAILS(cy_blind_submit(r, "r1", "fr.cert", ba, strlen(ba), E), COMITY_ERR_DENIED,
             "none of the participants");
    TU_FAILS(cy_blind_submit(r, "r1", "in.cert", bb, strlen(bb), E), COMITY_ERR_NOTFOUND,
             "no round");
    TU_OK(cy_blind_submit(r, "r1", "pk.mofa", ba, strlen(ba), E));
    TU_FAILS(cy_blind_submit(r, "r1", "fr.cert", bb, strlen(bb), E), COMITY_ERR_NOTFOUND,
             "no round");
    TU_FAILS(cy_blind_result(r, "r1", "fr.cert", &out, E), COMITY_ERR_NOTFOUND, "no round");
    TU_FAILS(cy_blind_result(r, "r1", NULL, &out, E), COMITY_ERR_NOTFOUND, "no round");
    TU_OK(cy_blind_submit(r, "r1", "in.cert", bb, strlen(bb), E));
    /* each side learns exactly the shared hashes */
    uint8_t want[SHARED][CY_BLIND_HASH_LEN];
    for (int i = 0; i < SHARED; i++)
        TU_OK(cy_blind_hash(key, CY_CK_DOMAIN, va[i], strlen(va[i]), want[i], E));
    const char *who[] = {"pk.cert", "in.cert"};
    for (int w = 0; w < 2; w++) {
        TU_OK(cy_blind_result(r, "r1", who[w], &out, E));
        json_t *j = json_loads(out, 0, NULL);
        json_t *ov = json_array_get(json_object_get(j, "overlaps"), 0);
        assert_int_equal(json_array_size(json_object_get(j, "overlaps")), 1);
        assert_string_equal(json_string_value(json_object_get(ov, "party")),
                            w ? "pk" : "in.cert");
        assert_int_equal(json_integer_value(json_object_get(ov, "count")), SHARED);
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(ov, "hashes"), i, v)
        {
            uint8_t hb[CY_BLIND_HASH_LEN];
            size_t hl;
            TU_OK(cy_b64_decode(hb, sizeof hb, &hl, json_string_value(v),
                                json_string_length(v), CY_B64_STD, E));
            bool found = false;
            for (int k = 0; k < SHARED && !found; k++)
                found = !memcmp(hb, want[k], CY_BLIND_HASH_LEN);
            assert_true(found);
        }
        json_decref(j);
        cy_free(out);
    }
    /* under another key nothing meets */
    char *bo = submit_body(other, pb, N, NULL);
    TU_OK(cy_blind_submit(r, "r1", "in.cert", bo, strlen(bo), E));
    TU_OK(cy_blind_result(r, "r1", "pk.cert", &out, E));
    assert_non_null(strstr(out, "\"count\":0"));
    cy_free(out);
    /* refusals name what is wrong */
    const char *bad_parts = "{\"participants\":[\"pk\",\"de\"],\"hashes\":\"\"}";
    TU_FAILS(cy_blind_submit(r, "r1", "pk.cert", bad_parts, strlen(bad_parts), E),
             COMITY_ERR_CONFLICT, "other participants");
    const char *bad_len = "{\"hashes\":\"AAAA\"}";
    TU_FAILS(cy_blind_submit(r, "r1", "pk.cert", bad_len, strlen(bad_len), E),
             COMITY_ERR_INVALID, "multiple of 16");
    const char *bad_b64 = "{\"hashes\":\"@@@@\"}";
    TU_FAILS(cy_blind_submit(r, "r1", "pk.cert", bad_b64, strlen(bad_b64), E),
             COMITY_ERR_INVALID, "blind.hashes");
    const char *bad_member = "{\"hashes\":\"\",\"x\":1}";
    TU_FAILS(cy_blind_submit(r, "r1", "pk.cert", bad_member, strlen(bad_member), E),
             COMITY_ERR_INVALID, "unknown member");
    const char *one = "{\"participants\":[\"pk\"],\"hashes\":\"\"}";
    TU_FAILS(cy_blind_submit(r, "r2", "pk.cert", one, strlen(one), E), COMITY_ERR_INVALID,
             "participants");
    TU_FAILS(cy_blind_submit(r, "R 2", "pk.cert", one, strlen(one), E), COMITY_ERR_INVALID,
             "round name");
    free(ba);
    free(bb);
    free(bo);
    cy_blind_rounds_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_planted_exact),
        cmocka_unit_test(test_visibility),
        cmocka_unit_test(test_gated),
        cmocka_unit_test(test_feed_json),
        cmocka_unit_test(test_blind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
