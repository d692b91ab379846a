/*
 * test_age.c: age v1 sealing (src/crypto/age.c, bech32.c).
 *
 * Known answers from the specs (the X25519 key pair printed in c2sp.org/age,
 * BIP 173's valid and invalid strings), round trips at every chunk boundary,
 * and one test for each way an input can be wrong, each checking the error
 * code and that the message names what and where.  Files with unusual chunk
 * layouts (a final chunk without its flag, an empty chunk after a full one,
 * a chunk after the final one) cannot come out of comity_seal_*, so
 * build_file() below writes them from the spec with libsodium directly: an
 * independent second writer of the format.
 */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/age.h"
#include "crypto/age_int.h"
#include "util/testutil.h"

/* From c2sp.org/age, "The X25519 recipient type". */
#define SPEC_IDENTITY "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"
#define SPEC_RECIPIENT "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj"

/* A key pair for the tests, made once. */
static uint8_t sk1[32], pk1[32], sk2[32], pk2[32];
static char r1[CY_AGE_RECIPIENT_MAX], r2[CY_AGE_RECIPIENT_MAX];
static char idtext1[CY_AGE_IDENTITY_MAX + 2], idtext2[CY_AGE_IDENTITY_MAX + 2];

static int setup(void **state)
{
    (void)state;
    if (sodium_init() < 0)
        return -1;
    crypto_box_keypair(pk1, sk1);
    crypto_box_keypair(pk2, sk2);
    if (cy_age_recipient_encode(pk1, r1, sizeof r1) ||
        cy_age_recipient_encode(pk2, r2, sizeof r2) ||
        cy_age_identity_encode(sk1, idtext1, sizeof idtext1) ||
        cy_age_identity_encode(sk2, idtext2, sizeof idtext2))
        return -1;
    return 0;
}

static comity_identities *ids_of(const char *text)
{
    comity_identities *ids = NULL;
    TU_OK(comity_identities_parse(text, strlen(text), &ids, E));
    return ids;
}

/* ---- Bech32 and key strings ------------------------------------------ */

static void test_spec_keypair(void **state)
{
    (void)state;
    uint8_t sk[32], pk[32], pk_dec[32];
    char out[CY_AGE_RECIPIENT_MAX], id[CY_AGE_IDENTITY_MAX];
    TU_OK(cy_age_identity_decode(SPEC_IDENTITY, strlen(SPEC_IDENTITY), sk, E));
    crypto_scalarmult_base(pk, sk);
    TU_OK(cy_age_recipient_encode(pk, out, sizeof out));
    assert_string_equal(out, SPEC_RECIPIENT);
    TU_OK(cy_age_recipient_decode(out, strlen(out), pk_dec, E));
    assert_memory_equal(pk, pk_dec, 32);
    TU_OK(cy_age_identity_encode(sk, id, sizeof id));
    assert_string_equal(id, SPEC_IDENTITY);
    assert_int_equal(comity_recipient_valid(SPEC_RECIPIENT, E), 1);
    /* too small an output buffer */
    assert_int_equal(cy_age_recipient_encode(pk, out, 20), COMITY_ERR_TOOBIG);
}

static void test_bech32_bip173(void **state)
{
    (void)state;
    uint8_t out[64];
    size_t n = 99;
    /* BIP 173 valid strings */
    TU_OK(cy_bech32_decode("A12UEL5L", 8, "a", true, out, sizeof out, &n, E));
    assert_int_equal(n, 0);
    TU_OK(cy_bech32_decode("a12uel5l", 8, "a", false, out, sizeof out, &n, E));
    /* BIP 173 invalid: checksum computed with the uppercase HRP */
    TU_FAILS(cy_bech32_decode("A1G7SGD8", 8, "a", true, out, sizeof out, &n, E),
             COMITY_ERR_INVALID, "checksum");
    /* mixed case */
    TU_FAILS(cy_bech32_decode("A12uEL5L", 8, "a", true, out, sizeof out, &n, E),
             COMITY_ERR_INVALID, "mixed case");
    /* data character outside the alphabet ('b') */
    TU_FAILS(cy_bech32_decode("x1b4n0q5v", 9, "x", false, out, sizeof out, &n, E),
             COMITY_ERR_INVALID, "byte 2");
    /* too short a checksum */
    TU_FAILS(cy_bech32_decode("li1dgmt3", 8, "li", false, out, sizeof out, &n, E),
             COMITY_ERR_INVALID, "shorter than its checksum");
    /* no separator */
    TU_FAILS(cy_bech32_decode("pzry9x0s0muk", 12, "pzry", false, out, sizeof out, &n, E),
             COMITY_ERR_INVALID, "separator");
    /* character out of range */
    TU_FAILS(cy_bech32_decode(" 1nwldj5", 8, " ", false, out, sizeof out, &n, E),
             COMITY_ERR_INVALID, "byte 0");
}

static void test_key_strings_strict(void **state)
{
    (void)state;
    uint8_t k[32];
    char s[CY_AGE_IDENTITY_MAX];
    /* case: identities uppercase, recipients lowercase */
    strcpy(s, SPEC_IDENTITY);
    for (char *p = s; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
    TU_FAILS(cy_age_identity_decode(s, strlen(s), k, E), COMITY_ERR_INVALID, NULL);
    strcpy(s, SPEC_RECIPIENT);
    for (char *p = s; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 32);
    TU_FAILS(cy_age_recipient_decode(s, strlen(s), k, E), COMITY_ERR_INVALID, "age1");
    /* one character changed: the checksum catches it */
    strcpy(s, SPEC_RECIPIENT);
    s[10] = s[10] == 'q' ? 'p' : 'q';
    TU_FAILS(cy_age_recipient_decode(s, strlen(s), k, E), COMITY_ERR_INVALID, "checksum");
    /* wrong human-readable part: an identity where a recipient is expected */
    TU_FAILS(cy_age_recipient_decode(SPEC_IDENTITY, strlen(SPEC_IDENTITY), k, E),
             COMITY_ERR_INVALID, "age1");
    TU_FAILS(cy_age_identity_decode(SPEC_RECIPIENT, strlen(SPEC_RECIPIENT), k, E),
             COMITY_ERR_INVALID, "AGE-SECRET-KEY-1");
    /* a valid Bech32 string of the wrong length */
    uint8_t b31[31] = {1};
    TU_OK(cy_bech32_encode(s, sizeof s, "age", b31, sizeof b31, false));
    TU_FAILS(cy_age_recipient_decode(s, strlen(s), k, E), COMITY_ERR_INVALID, "31 bytes");
    /* the all-zero point and another low-order point */
    uint8_t zero[32] = {0};
    TU_OK(cy_age_recipient_encode(zero, s, sizeof s));
    TU_FAILS(cy_age_recipient_decode(s, strlen(s), k, E), COMITY_ERR_INVALID, "low-order");
    uint8_t one[32] = {1};
    TU_OK(cy_age_recipient_encode(one, s, sizeof s));
    assert_int_equal(comity_recipient_valid(s, E), 0);
    tu_check_msg("low-order 1", "low-order");
    assert_int_equal(comity_recipient_valid("age1", E), 0);
    assert_int_equal(comity_recipient_valid(NULL, E), 0);
}

/* ---- identity files -------------------------------------------------- */

static void test_identity_files(void **state)
{
    (void)state;
    comity_identities *ids = NULL;
    char text[1024];
    /* a comity party key file: '#' lines carry the rest */
    snprintf(text, sizeof text,
             "# comity party key for pk.pkcert, created 2026-11-23T06:40:00.000Z\n"
             "# public key: pk.pkcert+1a2b3c4d+AQ...\n"
             "# recipient: %s\n"
             "# signing key: PRIVATE+KEY+pk.pkcert+1a2b3c4d+AQ...\n"
             "%s\n",
             r1, idtext1);
    TU_OK(comity_identities_parse(text, strlen(text), &ids, E));
    assert_int_equal(comity_identities_count(ids), 1);
    comity_identities_free(ids);
    /* age-keygen style, two keys, blank lines, CRLF, no final newline */
    snprintf(text, sizeof text, "# created: x\r\n%s\r\n\r\n%s", idtext1, idtext2);
    TU_OK(comity_identities_parse(text, strlen(text), &ids, E));
    assert_int_equal(comity_identities_count(ids), 2);
    comity_identities_free(ids);
    assert_int_equal(comity_identities_count(NULL), 0);
    comity_identities_free(NULL);

    snprintf(text, sizeof text, "# k\n%s\nhello\n", idtext1);
    TU_FAILS(comity_identities_parse(text, strlen(text), &ids, E), COMITY_ERR_INVALID,
             "line 3: not an age identity");
    snprintf(text, sizeof text, "%s \n", idtext1); /* trailing space */
    TU_FAILS(comity_identities_parse(text, strlen(text), &ids, E), COMITY_ERR_INVALID,
             "line 1: age identity: bech32");
    snprintf(text, sizeof text, " # indented comment\n%s\n", idtext1);
    TU_FAILS(comity_identities_parse(text, strlen(text), &ids, E), COMITY_ERR_INVALID,
             "line 1");
    strcpy(text, "AGE-PLUGIN-YUBIKEY-1QQQQQQ\n");
    TU_FAILS(comity_identities_parse(text, strlen(text), &ids, E), COMITY_ERR_INVALID,
             "plugin");
    strcpy(text, "AGE-SECRET-KEY-PQ-1QQQQQQ\n");
    TU_FAILS(comity_identities_parse(text, strlen(text), &ids, E), COMITY_ERR_INVALID,
             "only X25519");
    strcpy(text, "# nothing here\n\n");
    TU_FAILS(comity_identities_parse(text, strlen(text), &ids, E), COMITY_ERR_INVALID,
             "no 'AGE-SECRET-KEY-1");
    snprintf(text, sizeof text, "%s\n", idtext1);
    text[30] = text[30] == 'Q' ? 'P' : 'Q';
    TU_FAILS(comity_identities_parse(text, strlen(text), &ids, E), COMITY_ERR_INVALID,
             "checksum");
    size_t big = COMITY_AGE_IDFILE_MAX + 1;
    char *huge = calloc(1, big + 1);
    memset(huge, '\n', big);
    TU_FAILS(comity_identities_parse(huge, big, &ids, E), COMITY_ERR_TOOBIG, "larger");
    free(huge);
    /* from a file, and a missing file */
    char *dir = tu_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/k.txt", dir);
    snprintf(text, sizeof text, "%s\n", idtext1);
    TU_OK(comity_write_file(path, text, strlen(text), 0600, 1, E));
    TU_OK(comity_identities_load(path, &ids, E));
    comity_identities_free(ids);
    snprintf(path, sizeof path, "%s/none.txt", dir);
    TU_FAILS(comity_identities_load(path, &ids, E), COMITY_ERR_NOTFOUND, "none.txt");
    tu_rmrf(dir);
    free(dir);
}

/* ---- round trips ----------------------------------------------------- */

/* Bytes after the header of a sealed file (nonce + chunks). */
static size_t payload_len(const uint8_t *f, size_t n)
{
    size_t hl = 0;
    TU_OK(cy_age_header_check(f, n, NULL, &hl, E));
    return n - hl;
}

static void test_roundtrip_sizes(void **state)
{
    (void)state;
    /* around the chunk size, and around batches (age.c works a few chunks
     * at a time; these sizes cross batch boundaries for any batch size
     * that divides 32) */
    static const size_t sizes[] = {0,          1,          65535,          65536,
                                   65537,      131072,     3 * 65536 + 5,  4 * 65536,
                                   32 * 65536 - 1, 32 * 65536, 32 * 65536 + 1, 64 * 65536 + 7};
    const char *rc[2] = {r1, r2};
    comity_identities *id2 = ids_of(idtext2);
    for (size_t i = 0; i < CY_ARRAY_LEN(sizes); i++) {
        size_t n = sizes[i];
        uint8_t *pt = malloc(n + 1);
        randombytes_buf(pt, n);
        for (int armor = 0; armor < 2; armor++) {
            uint8_t *ct = NULL, *back = NULL;
            size_t cl = 0, bl = 0;
            TU_OK(comity_seal_mem(pt, n, rc, 2, armor, &ct, &cl, E));
            if (!armor) {
                /* nonce + ceil(n / 64 KiB) chunks (one when empty), each + tag */
                size_t chunks = n == 0 ? 1 : (n + 65535) / 65536;
                assert_int_equal(payload_len(ct, cl), 16 + n + 16 * chunks);
            } else {
                assert_memory_equal(ct, "-----BEGIN AGE ENCRYPTED FILE-----\n", 35);
            }
            /* the second recipient opens it */
            TU_OK(comity_open_mem(ct, cl, id2, &back, &bl, E));
            assert_int_equal(bl, n);
            if (n)
                assert_memory_equal(back, pt, n);
            comity_free(back);
            comity_free(ct);
        }
        free(pt);
    }
    comity_identities_free(id2);
}

static void test_stream(void **state)
{
    (void)state;
    size_t n = 3 * 1000 * 1000;
    uint8_t *pt = malloc(n);
    randombytes_buf(pt, n);
    FILE *in = tmpfile(), *mid = tmpfile(), *out = tmpfile();
    assert_non_null(in);
    assert_int_equal(fwrite(pt, 1, n, in), n);
    rewind(in);
    const char *rc[1] = {r1};
    TU_OK(comity_seal_stream(in, mid, rc, 1, 1, E));
    rewind(mid);
    comity_identities *ids = ids_of(idtext1);
    TU_OK(comity_open_stream(mid, out, ids, E));
    assert_int_equal(ftell(out), (long)n);
    rewind(out);
    uint8_t *back = malloc(n);
    assert_int_equal(fread(back, 1, n, out), n);
    assert_memory_equal(back, pt, n);
    /* usage errors */
    TU_FAILS(comity_seal_stream(in, mid, rc, 0, 0, E), COMITY_ERR_USAGE, "no recipients");
    TU_FAILS(comity_open_stream(mid, out, NULL, E), COMITY_ERR_USAGE, "no identities");
    comity_identities_free(ids);
    fclose(in);
    fclose(mid);
    fclose(out);
    free(pt);
    free(back);
}

static void test_wrong_key(void **state)
{
    (void)state;
    const char *rc[1] = {r1};
    uint8_t *ct = NULL, *back = NULL;
    size_t cl = 0, bl = 0;
    TU_OK(comity_seal_mem("hi", 2, rc, 1, 0, &ct, &cl, E));
    comity_identities *ids = ids_of(idtext2);
    TU_FAILS(comity_open_mem(ct, cl, ids, &back, &bl, E), COMITY_ERR_NOKEY, "wrong key");
    assert_null(back);
    comity_identities_free(ids);
    comity_free(ct);
    /* NULL with length 0 is an empty input */
    TU_OK(comity_seal_mem(NULL, 0, rc, 1, 0, &ct, &cl, E));
    comity_identities *ids1 = ids_of(idtext1);
    TU_OK(comity_open_mem(ct, cl, ids1, &back, &bl, E));
    assert_int_equal(bl, 0);
    comity_free(back);
    back = NULL;
    TU_FAILS(comity_open_mem(NULL, 0, ids1, &back, &bl, E), COMITY_ERR_INVALID, "empty");
    comity_identities_free(ids1);
    comity_free(ct);
    /* a bad recipient is named */
    const char *bad[2] = {r1, "age1qqqq"};
    TU_FAILS(comity_seal_mem("hi", 2, bad, 2, 0, &ct, &cl, E), COMITY_ERR_INVALID,
             "recipient 2");
}

/* ---- malformed headers ----------------------------------------------- */

/* Seals "hello" to r1 and returns the file as a NUL-terminated string
 * (binary after the header; tests edit the header part). */
static char *sealed(size_t *len, size_t *hlen)
{
    const char *rc[1] = {r1};
    uint8_t *ct = NULL;
    TU_OK(comity_seal_mem("hello", 5, rc, 1, 0, &ct, len, E));
    TU_OK(cy_age_header_check(ct, *len, NULL, hlen, E));
    return (char *)ct;
}

/* Builds header-part + the original payload, then opens it with key 1. */
static comity_err open_edited(const char *header, const char *orig, size_t olen,
                              size_t ohlen)
{
    size_t hl = strlen(header);
    size_t n = hl + olen - ohlen;
    uint8_t *f = malloc(n);
    memcpy(f, header, hl);
    memcpy(f + hl, orig + ohlen, olen - ohlen);
    comity_identities *ids = ids_of(idtext1);
    uint8_t *out = NULL;
    size_t ol = 0;
    comity_err rc = comity_open_mem(f, n, ids, &out, &ol, E);
    comity_free(out);
    comity_identities_free(ids);
    free(f);
    return rc;
}

/* The header of `f` with the first occurrence of `from` replaced by `to`. */
static char *hdr_replace(const char *f, size_t hlen, const char *from, const char *to)
{
    char *h = strndup(f, hlen);
    char *p = strstr(h, from);
    assert_non_null(p);
    char *r = malloc(hlen + strlen(to) + 1);
    size_t pre = (size_t)(p - h);
    memcpy(r, h, pre);
    strcpy(r + pre, to);
    strcat(r, p + strlen(from));
    free(h);
    return r;
}

static void test_header_errors(void **state)
{
    (void)state;
    size_t n, hl;
    char *f = sealed(&n, &hl);
    char *h;
    /* sanity: the unedited header opens */
    h = strndup(f, hl);
    TU_OK(open_edited(h, f, n, hl));
    free(h);

    /* version line */
    h = hdr_replace(f, hl, "age-encryption.org/v1\n", "age-encryption.org/v2\n");
    TU_FAILS(open_edited(h, f, n, hl), COMITY_ERR_INVALID, "unsupported age version 'v2'");
    free(h);
    h = hdr_replace(f, hl, "age-encryption.org/v1\n", "age-encryption.org/v1 \n");
    TU_FAILS(open_edited(h, f, n, hl), COMITY_ERR_INVALID, "line 1");
    free(h);
    TU_FAILS(open_edited("hello world\n", f, n, hl), COMITY_ERR_INVALID,
             "not an age file");
    TU_FAILS(open_edited("", "", 0, 0), COMITY_ERR_INVALID, "empty");
    h = hdr_replace(f, hl, "age", " age");
    TU_FAILS(open_edited(h, f, n, hl), COMITY_ERR_INVALID, "whitespace before the header");
    free(h);

    /* stanza argument line */
    h = hdr_replace(f, hl, "-> X25519 ", "-> X25519  ");
    TU_FAILS(open_edited(h, f, n, hl), COMITY_ERR_INVALID, "line 2: empty stanza argument");
    free(h);
    h = hdr_replace(f, hl, "-> X25519 ", "-> X25519 extra ");
    TU_FAILS(open_edited(h, f, n, hl), COMITY_ERR_INVALID, "has 2 arguments, not 3");
    free(h);
    h = hdr_replace(f, hl, "-> X25519 ", "-> X25\t19 ");
    TU_FAILS(open_edited(h, f, n, hl), COMITY_ERR_INVALID, "byte 0x09 not allowed");
    free(h);
    h = hdr_replace(f, hl, "-> X25519 ", "->X25519 ");
    TU_FAILS(open_edited(h, f, n, hl), COMITY_ERR_INVALID,
             "line 2: expected a stanza ('-> ') or the MAC line");
    free(h);
    h = hdr_replace(f, hl, "\n-> ", "\n");
    TU_FAILS(open_edited(h, f, n, hl), COMITY_ERR_INVALID, "line 2: expected a stanza");
    free(h);
    /* no stanza at all */
    {
        const char *mac = strstr(f, "\n---") + 1;
        char *h2 = malloc(hl + 1);
        snprintf(h2, hl + 1, "age-encryption.org/v1\n%.*s", (int)(f + hl - mac), mac);
        TU_FAILS(open_edited(h2, f, n, hl), COMITY_ERR_INVALID, "no recipient stanza");
        free(h2);
    }

    /* X25519 share: padded, non-canonical, wrong length */
    {
        char share[64];
        const char *p = strstr(f, "-> X25519 ") + 10;
        size_t sl = (size_t)(strchr(p, '\n') - p);
        memcpy(share, p, sl);
        share[sl] = 0;
        char mod[80];
        snprintf(mod, sizeof mod, "%s=", share);
        h = hdr_replace(f, hl, share, mod);
        TU_FAILS(open_edited(h, f, n, hl), COMITY_ERR_INVALID, "not canonical unpadded");
        free(h);
        strcpy(mod, share);
        /* last character carries 2 unused bits: flipping the lowest makes it
         * a non-canonical encoding of the same bytes */
        const char *alpha =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        int v = (int)(strchr(alpha, mod[sl - 1]) - alpha);
        mod[sl - 1] = alpha[v ^ 1];
        h = hdr_replace(f, hl, share, mod);
        TU_FAILS(open_edited(h, f, n, hl), COMITY_ERR_INVALID, "stanza 1 (header line 2)");
        free(h);
        mod[sl - 4] = 0;
        h = hdr_replace(f, hl, share, mod);
        TU_FAILS(open_edited(h, f, n, hl), COMITY_ERR_INVALID, "32 bytes");
        free(h);
        /* a low-order share: all-zero shared secret, refused before the MAC */
        h = hdr_replace(f, hl, share, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        TU_FAILS(open_edited(h, f, n, hl), COMITY_ERR_INVALID, "low-order");
        free(h);
    }

    /* stanza body: non-canonical, padded, too long, missing final line */
    {
        const char *p = strchr(strstr(f, "-> X25519 "), '\n') + 1;
        size_t bl = (size_t)(strchr(p, '\n') - p);
        char body[80], mod[160];
        memcpy(body, p, bl);
        body[bl] = 0;
        snprintf(mod, sizeof mod, "%s=", body);
        h = hdr_replace(f, hl, body, mod);
        TU_FAILS(open_edited(h, f, n, hl), COMITY_ERR_INVALID, "header line 3: stanza body");
        free(h);
        const char *alpha =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        strcpy(mod, body);
        mod[bl - 1] = alpha[(strchr(alpha, mod[bl - 1]) - alpha) ^ 1];
        h = hdr_replace(f, hl, body, mod);
        TU_FAILS(open_edited(h, f, n, hl), COMITY_ERR_INVALID, "not canonical");
        free(h);
        /* 43 + 22 = 65 columns */
        snprintf(mod, sizeof mod, "%sAAAAAAAAAAAAAAAAAAAAAA", body);
        h = hdr_replace(f, hl, body, mod);
        TU_FAILS(open_edited(h, f, n, hl), COMITY_ERR_INVALID, "longer than 64 columns");
        free(h);
        /* a full 64-column line, then the MAC line: no final short line */
        snprintf(mod, sizeof mod, "%sAAAAAAAAAAAAAAAAAAAAA", body);
        h = hdr_replace(f, hl, body, mod);
        TU_FAILS(open_edited(h, f, n, hl), COMITY_ERR_INVALID, "no final body line");
        free(h);
        /* a body of 48 + 32 bytes: well formed, but not 32 bytes */
        snprintf(mod, sizeof mod, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n%s",
                 body);
        h = hdr_replace(f, hl, body, mod);
        TU_FAILS(open_edited(h, f, n, hl), COMITY_ERR_INVALID, "body is 80 bytes");
        free(h);
        /* a CR before LF is not part of the format */
        snprintf(mod, sizeof mod, "%s\r", body);
        h = hdr_replace(f, hl, body, mod);
        TU_FAILS(open_edited(h, f, n, hl), COMITY_ERR_INVALID, "stanza body");
        free(h);
    }

    /* MAC line: malformed, or not matching */
    h = hdr_replace(f, hl, "--- ", "---");
    TU_FAILS(open_edited(h, f, n, hl), COMITY_ERR_INVALID, "MAC line must be");
    free(h);
    h = hdr_replace(f, hl, "--- ", "--- A");
    TU_FAILS(open_edited(h, f, n, hl), COMITY_ERR_INVALID, "MAC line must be");
    free(h);
    {
        const char *m = strstr(f, "\n--- ") + 5;
        char mac[44], mod[44];
        memcpy(mac, m, 43);
        mac[43] = 0;
        strcpy(mod, mac);
        mod[0] = mod[0] == 'A' ? 'B' : 'A';
        h = hdr_replace(f, hl, mac, mod);
        TU_FAILS(open_edited(h, f, n, hl), COMITY_ERR_VERIFY, "header MAC");
        free(h);
    }
    /* an unknown stanza is skipped, but the MAC covers it */
    h = hdr_replace(f, hl, "\n---", "\n-> example.org/x 1 2\nAAAA\n---");
    TU_FAILS(open_edited(h, f, n, hl), COMITY_ERR_VERIFY, "header MAC");
    free(h);

    /* truncated header */
    h = strndup(f, hl - 10);
    TU_FAILS(open_edited(h, h, strlen(h), strlen(h)), COMITY_ERR_INVALID,
             "header truncated in line 4");
    free(h);
    comity_free(f);
}

static void test_header_caps(void **state)
{
    (void)state;
    cy_buf b;
    size_t ns = 0;
    const char *mac = "--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n";
    /* well formed, with unknown stanzas only: the parser accepts it */
    cy_buf_init(&b, SIZE_MAX - 1);
    TU_OK(cy_buf_puts(&b, "age-encryption.org/v1\n-> a b\n\n-> c\nAAAA\n"));
    TU_OK(cy_buf_puts(&b, mac));
    TU_OK(cy_age_header_check(b.data, b.len, &ns, NULL, E));
    assert_int_equal(ns, 2);
    /* ... and opening says no stanza is for us */
    comity_identities *ids = ids_of(idtext1);
    uint8_t *out = NULL;
    size_t ol;
    TU_FAILS(comity_open_mem(b.data, b.len, ids, &out, &ol, E), COMITY_ERR_NOKEY,
             "no X25519 stanza");
    cy_buf_reset(&b);
    TU_OK(cy_buf_puts(&b, "age-encryption.org/v1\n-> scrypt AAAAAAAAAAAAAAAAAAAAAA 18\n"
                          "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"));
    TU_OK(cy_buf_puts(&b, mac));
    TU_FAILS(comity_open_mem(b.data, b.len, ids, &out, &ol, E), COMITY_ERR_NOKEY,
             "passphrase");
    /* an scrypt stanza beside another one is refused outright */
    cy_buf_reset(&b);
    TU_OK(cy_buf_puts(&b, "age-encryption.org/v1\n-> X25519 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
                          "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
                          "-> scrypt AAAAAAAAAAAAAAAAAAAAAA 18\n"
                          "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"));
    TU_OK(cy_buf_puts(&b, mac));
    TU_FAILS(comity_open_mem(b.data, b.len, ids, &out, &ol, E), COMITY_ERR_INVALID,
             "stanza 2 (header line 4): an scrypt stanza must be the only");
    comity_identities_free(ids);

    /* too many stanzas */
    cy_buf_reset(&b);
    TU_OK(cy_buf_puts(&b, "age-encryption.org/v1\n"));
    for (int i = 0; i <= COMITY_AGE_STANZAS_MAX; i++)
        TU_OK(cy_buf_puts(&b, "-> a\n\n"));
    TU_OK(cy_buf_puts(&b, mac));
    TU_FAILS(cy_age_header_check(b.data, b.len, NULL, NULL, E), COMITY_ERR_TOOBIG,
             "more than 1024 recipient stanzas");
    /* too long a header */
    cy_buf_reset(&b);
    TU_OK(cy_buf_puts(&b, "age-encryption.org/v1\n-> a\n"));
    for (size_t i = 0; i < COMITY_AGE_HEADER_MAX / 65 + 1; i++)
        TU_OK(cy_buf_puts(&b, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"));
    TU_OK(cy_buf_puts(&b, "\n"));
    TU_OK(cy_buf_puts(&b, mac));
    TU_FAILS(cy_age_header_check(b.data, b.len, NULL, NULL, E), COMITY_ERR_TOOBIG,
             "header longer than");
    /* too long a line */
    cy_buf_reset(&b);
    TU_OK(cy_buf_puts(&b, "age-encryption.org/v1\n-> "));
    for (int i = 0; i < COMITY_AGE_LINE_MAX; i++)
        TU_OK(cy_buf_puts(&b, "x"));
    TU_OK(cy_buf_puts(&b, "\n\n"));
    TU_OK(cy_buf_puts(&b, mac));
    TU_FAILS(cy_age_header_check(b.data, b.len, NULL, NULL, E), COMITY_ERR_TOOBIG,
             "line 2 longer than");
    /* too many arguments */
    cy_buf_reset(&b);
    TU_OK(cy_buf_puts(&b, "age-encryption.org/v1\n->"));
    for (int i = 0; i <= COMITY_AGE_ARGS_MAX; i++)
        TU_OK(cy_buf_puts(&b, " x"));
    TU_OK(cy_buf_puts(&b, "\n\n"));
    TU_OK(cy_buf_puts(&b, mac));
    TU_FAILS(cy_age_header_check(b.data, b.len, NULL, NULL, E), COMITY_ERR_TOOBIG,
             "stanza arguments");
    cy_buf_free(&b);
}

/* ---- payload --------------------------------------------------------- */

static void hkdf32(uint8_t out[32], const uint8_t *ikm, size_t ikm_len,
                   const uint8_t *salt, size_t salt_len, const char *info)
{
    uint8_t prk[32], zero[32] = {0};
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, salt_len ? salt : zero, salt_len ? salt_len : 32);
    crypto_auth_hmacsha256_update(&st, ikm, ikm_len);
    crypto_auth_hmacsha256_final(&st, prk);
    crypto_auth_hmacsha256_init(&st, prk, 32);
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)info, strlen(info));
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)"\x01", 1);
    crypto_auth_hmacsha256_final(&st, out);
}

/* One chunk of a hand-built file: plaintext size and last flag. */
struct chunk_spec {
    size_t len;
    int last;
};

/*
 * Writes an age file for pk1 straight from the spec, with the chunk layout
 * given (sizes and flags, in order), so that layouts no honest writer makes
 * can be tested.  Caller frees *out (free).
 */
static void build_file(const struct chunk_spec *cs, size_t ncs, uint8_t **out,
                       size_t *out_len)
{
    uint8_t fk[16], eph[32], share[32], shared[32], salt[64], wrap[32], body[32];
    uint8_t hk[32], mac[32], nonce[16], pkey[32], n12[12] = {0};
    char s64[64], b64[64], m64[64];
    randombytes_buf(fk, 16);
    randombytes_buf(eph, 32);
    crypto_scalarmult_base(share, eph);
    assert_int_equal(crypto_scalarmult(shared, eph, pk1), 0);
    memcpy(salt, share, 32);
    memcpy(salt + 32, pk1, 32);
    hkdf32(wrap, shared, 32, salt, 64, "age-encryption.org/v1/X25519");
    crypto_aead_chacha20poly1305_ietf_encrypt(body, NULL, fk, 16, NULL, 0, NULL, n12, wrap);
    sodium_bin2base64(s64, sizeof s64, share, 32, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    sodium_bin2base64(b64, sizeof b64, body, 32, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    char hdr[512];
    int hn = snprintf(hdr, sizeof hdr, "age-encryption.org/v1\n-> X25519 %s\n%s\n---", s64, b64);
    hkdf32(hk, fk, 16, NULL, 0, "header");
    crypto_auth_hmacsha256(mac, (uint8_t *)hdr, (size_t)hn, hk);
    sodium_bin2base64(m64, sizeof m64, mac, 32, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    hn += snprintf(hdr + hn, sizeof hdr - (size_t)hn, " %s\n", m64);
    size_t total = (size_t)hn + 16;
    for (size_t i = 0; i < ncs; i++)
        total += cs[i].len + 16;
    uint8_t *f = malloc(total), *p = f;
    memcpy(p, hdr, (size_t)hn);
    p += hn;
    randombytes_buf(nonce, 16);
    memcpy(p, nonce, 16);
    p += 16;
    hkdf32(pkey, fk, 16, nonce, 16, "payload");
    uint8_t *pt = calloc(1, 65536 + 1);
    for (size_t i = 0; i < ncs; i++) {
        memset(n12, 0, 12);
        n12[10] = (uint8_t)i;
        n12[11] = (uint8_t)cs[i].last;
        memset(pt, (int)i + 'a', cs[i].len);
        crypto_aead_chacha20poly1305_ietf_encrypt(p, NULL, pt, cs[i].len, NULL, 0, NULL,
                                                  n12, pkey);
        p += cs[i].len + 16;
    }
    free(pt);
    *out = f;
    *out_len = total;
}

static comity_err open1(const uint8_t *f, size_t n, size_t *plen)
{
    comity_identities *ids = ids_of(idtext1);
    uint8_t *out = NULL;
    size_t ol = 0;
    comity_err rc = comity_open_mem(f, n, ids, &out, &ol, E);
    if (plen)
        *plen = rc ? 0 : ol;
    if (rc)
        assert_null(out);
    comity_free(out);
    comity_identities_free(ids);
    return rc;
}

static void test_chunk_layouts(void **state)
{
    (void)state;
    uint8_t *f;
    size_t n, pl;
    /* the honest layouts, written independently, open */
    struct chunk_spec ok1[] = {{0, 1}};
    build_file(ok1, 1, &f, &n);
    TU_OK(open1(f, n, &pl));
    assert_int_equal(pl, 0);
    free(f);
    struct chunk_spec ok2[] = {{65536, 0}, {65536, 1}}; /* full final chunk */
    build_file(ok2, 2, &f, &n);
    TU_OK(open1(f, n, &pl));
    assert_int_equal(pl, 131072);
    free(f);
    struct chunk_spec ok3[] = {{65536, 0}, {7, 1}};
    build_file(ok3, 2, &f, &n);
    TU_OK(open1(f, n, &pl));
    assert_int_equal(pl, 65543);
    free(f);

    /* last chunk flag missing (also: truncated at a chunk boundary) */
    struct chunk_spec b1[] = {{65536, 0}, {65536, 0}};
    build_file(b1, 2, &f, &n);
    TU_FAILS(open1(f, n, NULL), COMITY_ERR_INVALID, "ends after chunk 1, which is not flagged as the final");
    free(f);
    struct chunk_spec b2[] = {{10, 0}};
    build_file(b2, 1, &f, &n);
    TU_FAILS(open1(f, n, NULL), COMITY_ERR_INVALID, "chunk 0, which is not flagged as the final");
    free(f);
    /* a trailing empty chunk after a full one */
    struct chunk_spec b3[] = {{65536, 0}, {0, 1}};
    build_file(b3, 2, &f, &n);
    TU_FAILS(open1(f, n, NULL), COMITY_ERR_INVALID, "final chunk 1 is empty");
    free(f);
    /* a chunk after the final one */
    struct chunk_spec b4[] = {{65536, 1}, {5, 1}};
    build_file(b4, 2, &f, &n);
    TU_FAILS(open1(f, n, NULL), COMITY_ERR_INVALID, "trailing data after the final chunk (chunk 0)");
    free(f);
    /* a short chunk that claims not to be last, then more */
    struct chunk_spec b5[] = {{100, 0}, {5, 1}};
    build_file(b5, 2, &f, &n);
    TU_FAILS(open1(f, n, NULL), COMITY_ERR_VERIFY, "does not authenticate");
    free(f);
}

static void test_payload_tampering(void **state)
{
    (void)state;
    const char *rc[1] = {r1};
    size_t pn = 3 * 65536 + 100, cl, hl, pl;
    uint8_t *pt = malloc(pn), *ct = NULL;
    randombytes_buf(pt, pn);
    TU_OK(comity_seal_mem(pt, pn, rc, 1, 0, &ct, &cl, E));
    TU_OK(cy_age_header_check(ct, cl, NULL, &hl, E));
    size_t c0 = hl + 16; /* first chunk */
    uint8_t *t = malloc(cl + 10);

    /* a flipped bit in chunk 2 */
    memcpy(t, ct, cl);
    t[c0 + 2 * 65552 + 77] ^= 1;
    TU_FAILS(open1(t, cl, NULL), COMITY_ERR_VERIFY, "chunk 2 does not authenticate");
    /* chunks 0 and 1 swapped */
    memcpy(t, ct, cl);
    memcpy(t + c0, ct + c0 + 65552, 65552);
    memcpy(t + c0 + 65552, ct + c0, 65552);
    TU_FAILS(open1(t, cl, NULL), COMITY_ERR_VERIFY, "chunk 0 does not authenticate");
    /* a flipped bit in the nonce: every key changes */
    memcpy(t, ct, cl);
    t[hl + 3] ^= 0x80;
    TU_FAILS(open1(t, cl, NULL), COMITY_ERR_VERIFY, "chunk 0");
    /* truncated in the last chunk, at a chunk boundary, in the tag, in the nonce */
    TU_FAILS(open1(ct, cl - 1, NULL), COMITY_ERR_VERIFY, "chunk 3 does not authenticate");
    TU_FAILS(open1(ct, c0 + 2 * 65552, NULL), COMITY_ERR_INVALID,
             "ends after chunk 1, which is not flagged as the final chunk (truncated)");
    TU_FAILS(open1(ct, c0 + 3 * 65552 + 10, NULL), COMITY_ERR_INVALID,
             "chunk 3 has 10 bytes, fewer than its 16-byte tag");
    TU_FAILS(open1(ct, hl + 7, NULL), COMITY_ERR_INVALID, "nonce has 7 of 16 bytes");
    TU_FAILS(open1(ct, hl + 16, NULL), COMITY_ERR_INVALID, "no chunk after the nonce");
    /* data appended after a short final chunk: it no longer authenticates */
    memcpy(t, ct, cl);
    memcpy(t + cl, "garbage", 7);
    TU_FAILS(open1(t, cl + 7, NULL), COMITY_ERR_VERIFY, "chunk 3");
    TU_OK(open1(ct, cl, &pl));
    assert_int_equal(pl, pn);
    comity_free(ct);

    /* the same across batch boundaries (chunks 31 and 32 are in different
     * batches for any batch size that divides 32): counters carry on */
    pn = 70 * 65536 + 3;
    pt = realloc(pt, pn);
    randombytes_buf(pt, pn);
    TU_OK(comity_seal_mem(pt, pn, rc, 1, 0, &ct, &cl, E));
    TU_OK(cy_age_header_check(ct, cl, NULL, &hl, E));
    c0 = hl + 16;
    t = realloc(t, cl + 10);
    memcpy(t, ct, cl);
    t[c0 + 40 * 65552 + 5] ^= 0x10;
    TU_FAILS(open1(t, cl, NULL), COMITY_ERR_VERIFY, "chunk 40 does not authenticate");
    memcpy(t, ct, cl);
    memcpy(t + c0 + 31 * 65552, ct + c0 + 32 * 65552, 65552);
    memcpy(t + c0 + 32 * 65552, ct + c0 + 31 * 65552, 65552);
    TU_FAILS(open1(t, cl, NULL), COMITY_ERR_VERIFY, "chunk 31 does not authenticate");
    TU_FAILS(open1(ct, c0 + 33 * 65552, NULL), COMITY_ERR_INVALID,
             "ends after chunk 32, which is not flagged as the final chunk");
    TU_FAILS(open1(ct, c0 + 64 * 65552 + 3, NULL), COMITY_ERR_INVALID,
             "chunk 64 has 3 bytes");
    TU_OK(open1(ct, cl, &pl));
    assert_int_equal(pl, pn);
    comity_free(ct);

    /* data appended after a full final chunk is named as such */
    TU_OK(comity_seal_mem(pt, 65536, rc, 1, 0, &ct, &cl, E));
    memcpy(t, ct, cl);
    t[cl] = 'x';
    TU_FAILS(open1(t, cl + 1, NULL), COMITY_ERR_INVALID, "trailing data after the final chunk");
    comity_free(ct);
    free(t);
    free(pt);
}

/* ---- armor ----------------------------------------------------------- */

static char *armored(const char *msg, size_t *len)
{
    const char *rc[1] = {r1};
    uint8_t *ct = NULL;
    TU_OK(comity_seal_mem(msg, strlen(msg), rc, 1, 1, &ct, len, E));
    return (char *)ct;
}

static comity_err open_text(const char *text)
{
    return open1((const uint8_t *)text, strlen(text), NULL);
}

static char *str_replace1(const char *s, const char *from, const char *to)
{
    const char *p = strstr(s, from);
    assert_non_null(p);
    char *r = malloc(strlen(s) + strlen(to) + 1);
    memcpy(r, s, (size_t)(p - s));
    strcpy(r + (p - s), to);
    strcat(r, p + strlen(from));
    return r;
}

static void test_armor(void **state)
{
    (void)state;
    size_t n;
    char *a = armored("a message long enough to need more than one armor line, "
                      "which is 48 bytes of file; the header alone is more.", &n);
    char *t;
    TU_OK(open_text(a));
    /* lines are 64 columns, the last shorter, then the END line */
    const char *l2 = strchr(a, '\n') + 1;
    assert_int_equal(strchr(l2, '\n') - l2, 64);
    assert_non_null(strstr(a, "\n-----END AGE ENCRYPTED FILE-----\n"));
    assert_int_equal(a[n - 1], '\n');

    /* allowed: whitespace around the block, CRLF line endings */
    size_t sl = strlen(a);
    t = malloc(2 * sl + 16);
    sprintf(t, "\n  \t\n%s\n\n  ", a);
    TU_OK(open_text(t));
    size_t o = 0;
    for (const char *p = a; *p; p++) {
        if (*p == '\n')
            t[o++] = '\r';
        t[o++] = *p;
    }
    t[o] = 0;
    TU_OK(open_text(t));
    free(t);

    /* refused */
    t = str_replace1(a, "BEGIN AGE ENCRYPTED FILE", "BEGIN AGE ENCRYPTED FILES");
    TU_FAILS(open_text(t), COMITY_ERR_INVALID, "armor: line 1");
    free(t);
    t = str_replace1(a, "-----END AGE ENCRYPTED FILE-----\n", "");
    TU_FAILS(open_text(t), COMITY_ERR_INVALID, "no END line");
    free(t);
    t = str_replace1(a, "-----END AGE ENCRYPTED FILE-----\n",
                     "-----END AGE ENCRYPTED FILE-----\nmore\n");
    TU_FAILS(open_text(t), COMITY_ERR_INVALID, "data after the END line");
    free(t);
    t = malloc(sl + 8);
    sprintf(t, "x%s", a);
    TU_FAILS(open_text(t), COMITY_ERR_INVALID, "not an age file");
    free(t);
    /* line 2 split in two: a short line before the last */
    {
        char l[70], mod[80];
        memcpy(l, l2, 64);
        l[64] = 0;
        snprintf(mod, sizeof mod, "%.32s\n%s", l, l + 32);
        t = str_replace1(a, l, mod);
        TU_FAILS(open_text(t), COMITY_ERR_INVALID, "armor line 3: more data after a short");
        free(t);
        /* two lines joined: longer than 64 columns */
        snprintf(mod, sizeof mod, "%s\n", l);
        t = str_replace1(a, mod, l);
        TU_FAILS(open_text(t), COMITY_ERR_INVALID, "armor line 2: longer than 64 columns");
        free(t);
        /* a bad character */
        strcpy(mod, l);
        mod[5] = '*';
        t = str_replace1(a, l, mod);
        TU_FAILS(open_text(t), COMITY_ERR_INVALID, "armor line 2");
        free(t);
        /* an empty line in the middle */
        snprintf(mod, sizeof mod, "%s\n", l);
        char mod2[80];
        snprintf(mod2, sizeof mod2, "%s\n\n", l);
        t = str_replace1(a, mod, mod2);
        TU_FAILS(open_text(t), COMITY_ERR_INVALID, "armor line 3: empty line");
        free(t);
        /* a space at the end of a line */
        snprintf(mod2, sizeof mod2, "%s \n", l);
        t = str_replace1(a, mod, mod2);
        TU_FAILS(open_text(t), COMITY_ERR_INVALID, "armor line 2: longer than 64");
        free(t);
    }
    /* the last line: padding removed, or non-canonical */
    {
        const char *end = strstr(a, "\n-----END");
        const char *last = end - 1;
        while (*last != '\n')
            last--;
        last++;
        char l[70], mod[80];
        size_t ll = (size_t)(end - last);
        memcpy(l, last, ll);
        l[ll] = 0;
        strcpy(mod, l);
        while (ll && mod[ll - 1] == '=')
            mod[--ll] = 0;
        if (ll < strlen(l)) { /* there was padding */
            t = str_replace1(a, l, mod);
            TU_FAILS(open_text(t), COMITY_ERR_INVALID, "armor line");
            free(t);
        }
        snprintf(mod, sizeof mod, "%s==", l);
        t = str_replace1(a, l, mod);
        TU_FAILS(open_text(t), COMITY_ERR_INVALID, "armor line");
        free(t);
    }
    TU_FAILS(open_text("-----BEGIN AGE ENCRYPTED FILE-----\n-----END AGE ENCRYPTED FILE-----\n"),
             COMITY_ERR_INVALID, "no data");
    /* armor around garbage decodes, then the header parser refuses it */
    TU_FAILS(open_text("-----BEGIN AGE ENCRYPTED FILE-----\naGVsbG8=\n"
                       "-----END AGE ENCRYPTED FILE-----\n"),
             COMITY_ERR_INVALID, "header truncated");
    /* the decoder on its own */
    uint8_t *bin = NULL;
    size_t bl = 0;
    TU_OK(cy_age_dearmor((const uint8_t *)a, n, &bin, &bl, E));
    assert_memory_equal(bin, "age-encryption.org/v1\n", 22);
    cy_free(bin);
    TU_FAILS(cy_age_dearmor((const uint8_t *)"age", 3, &bin, &bl, E), COMITY_ERR_INVALID,
             "no BEGIN");
    comity_free(a);
}

/* ---- keys written by comity, used by Debian's age ------------------- */

/* Runs a shell command; returns its exit status. */
static int sh(const char *fmt, ...) CY_PRINTF(1, 2);
static int sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_age_command_keys(void **state)
{
    (void)state;
    if (access("/usr/bin/age", X_OK) != 0)
        skip(); /* tests/cli/age_interop.sh fails loudly without age */
    char *dir = tu_tmpdir();
    char path[512], text[512];
    /* an identity file written with cy_age_identity_encode */
    snprintf(path, sizeof path, "%s/id.txt", dir);
    snprintf(text, sizeof text, "# made by test_age\n%s\n", idtext1);
    TU_OK(comity_write_file(path, text, strlen(text), 0600, 1, E));
    /* age derives the same recipient as cy_age_recipient_encode */
    assert_int_equal(sh("age-keygen -y %s/id.txt > %s/r.txt", dir, dir), 0);
    size_t rl = 0;
    char rpath[512];
    snprintf(rpath, sizeof rpath, "%s/r.txt", dir);
    char *rtext = tu_slurp(rpath, &rl);
    assert_true(rl > 0 && rtext[rl - 1] == '\n');
    rtext[rl - 1] = 0;
    assert_string_equal(rtext, r1);
    free(rtext);
    /* comity seals to the recipient, age opens with the identity */
    const char *rc[1] = {r1};
    uint8_t *ct = NULL;
    size_t cl = 0;
    TU_OK(comity_seal_mem("made by comity", 14, rc, 1, 0, &ct, &cl, E));
    snprintf(path, sizeof path, "%s/c.age", dir);
    TU_OK(comity_write_file(path, ct, cl, 0600, 1, E));
    comity_free(ct);
    assert_int_equal(sh("age -d -i %s/id.txt -o %s/p.txt %s/c.age", dir, dir, dir), 0);
    snprintf(path, sizeof path, "%s/p.txt", dir);
    char *pt = tu_slurp(path, &rl);
    assert_int_equal(rl, 14);
    assert_memory_equal(pt, "made by comity", 14);
    free(pt);
    /* age seals to comity's recipient string, comity opens */
    assert_int_equal(sh("echo -n 'made by age' | age -e -r %s -o %s/a.age", r1, dir), 0);
    snprintf(path, sizeof path, "%s/a.age", dir);
    size_t al = 0;
    char *af = tu_slurp(path, &al);
    comity_identities *ids = ids_of(idtext1);
    uint8_t *out = NULL;
    size_t ol = 0;
    TU_OK(comity_open_mem(af, al, ids, &out, &ol, E));
    assert_int_equal(ol, 11);
    assert_memory_equal(out, "made by age", 11);
    comity_free(out);
    comity_identities_free(ids);
    free(af);
    tu_rmrf(dir);
    free(dir);
}

/* ---- allocation failures --------------------------------------------- */

static void test_oom(void **state)
{
    (void)state;
    const char *rc[1] = {r1};
    comity_identities *ids = ids_of(idtext1);
    uint8_t *ct = NULL, *pt = NULL;
    size_t cl = 0, pl = 0;
    TU_OK(comity_seal_mem("hello", 5, rc, 1, 1, &ct, &cl, E));
    int failed = 0;
    for (long k = 1; k < 40; k++) {
        uint8_t *c2 = NULL, *p2 = NULL;
        size_t l2;
        cy_alloc_fail_after(k);
        comity_err a = comity_seal_mem("hello", 5, rc, 1, 1, &c2, &l2, E);
        cy_alloc_fail_after(k);
        comity_err b = comity_open_mem(ct, cl, ids, &p2, &l2, E);
        cy_alloc_fail_after(0);
        if (a)
            assert_int_equal(a, COMITY_ERR_NOMEM);
        if (b)
            assert_int_equal(b, COMITY_ERR_NOMEM);
        failed += (a != 0) + (b != 0);
        comity_free(c2);
        comity_free(p2);
    }
    assert_true(failed > 4);
    TU_OK(comity_open_mem(ct, cl, ids, &pt, &pl, E));
    assert_int_equal(pl, 5);
    comity_free(pt);
    comity_free(ct);
    comity_identities_free(ids);
}

/* ---- a passphrase: the scrypt stanza ------------------------------------- */

/* Made by Debian's age 1.1.1: `age -p -a` of "hello from age\n" with the
 * passphrase "comity test vector" (work factor 2^18). */
static const char AGE_SCRYPT_VECTOR[] =
    "-----BEGIN AGE ENCRYPTED FILE-----\n"
    "YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IHNjcnlwdCBPZExUVXZ6SGlCbUIzbmd1\n"
    "aGlrTXZnIDE4Clptald4a3VGMzJJRC8xUDR1azdiQ2czdFFCaDZwMEdjdDJKZDJC\n"
    "WExJR3cKLS0tIEZ4bFg4SUM2RWhrd0t3QjY1Tm13Z0R1U1BhZVZxVERzVnJCSENx\n"
    "Q3FBdW8K4OoJhO9bGf6umAvTHgSJZ5Gde1don5a2gTOmfYsGkgLEOqGD/Ox1wS7e\n"
    "TOdUuq4=\n"
    "-----END AGE ENCRYPTED FILE-----\n";

/* A binary file's header with its scrypt line replaced by `line`. */
static void with_stanza_line(const uint8_t *file, size_t len, const char *line, cy_buf *b)
{
    const uint8_t *a = memchr(file, '\n', len) + 1, *z = memchr(a, '\n', len - (size_t)(a - file));
    cy_buf_init(b, 1u << 20);
    TU_OK(cy_buf_append(b, file, (size_t)(a - file)));
    TU_OK(cy_buf_puts(b, line));
    TU_OK(cy_buf_append(b, z, len - (size_t)(z - file)));
}

static void test_scrypt(void **state)
{
    (void)state;
    const char pw[] = "comity test vector", msg[] = "hello from age\n";
    uint8_t *out = NULL, *sealed = NULL;
    size_t ol = 0, sl = 0;
    /* age's own file opens */
    TU_OK(comity_open_passphrase_mem(AGE_SCRYPT_VECTOR, strlen(AGE_SCRYPT_VECTOR), pw,
                                     strlen(pw), 0, &out, &ol, E));
    assert_int_equal(ol, strlen(msg));
    assert_memory_equal(out, msg, ol);
    comity_free(out);
    TU_FAILS(comity_open_passphrase_mem(AGE_SCRYPT_VECTOR, strlen(AGE_SCRYPT_VECTOR), "other", 5,
                                        0, &out, &ol, E), COMITY_ERR_NOKEY, "wrong passphrase");
    /* a cap below its work factor: refused before any work */
    TU_FAILS(comity_open_passphrase_mem(AGE_SCRYPT_VECTOR, strlen(AGE_SCRYPT_VECTOR), pw,
                                        strlen(pw), 17, &out, &ol, E), COMITY_ERR_TOOBIG,
             "work factor 2^18 above the cap 2^17");
    /* ours, at a small work factor, round trips; its stanza is age's */
    TU_OK(comity_seal_passphrase_mem(msg, strlen(msg), pw, strlen(pw), 10, 0, &sealed, &sl, E));
    assert_non_null(strstr((const char *)sealed, "\n-> scrypt "));
    assert_non_null(strstr((const char *)sealed, " 10\n"));
    TU_OK(comity_open_passphrase_mem(sealed, sl, pw, strlen(pw), 10, &out, &ol, E));
    assert_memory_equal(out, msg, ol);
    comity_free(out);
    /* an identity does not open it, a passphrase does not open X25519 */
    comity_identities *ids = ids_of(idtext1);
    TU_FAILS(comity_open_mem(sealed, sl, ids, &out, &ol, E), COMITY_ERR_NOKEY,
             "open it with the passphrase");
    uint8_t *x = NULL;
    size_t xl = 0;
    const char *rs[1] = {r1};
    TU_OK(comity_seal_mem(msg, strlen(msg), rs, 1, 0, &x, &xl, E));
    TU_FAILS(comity_open_passphrase_mem(x, xl, pw, strlen(pw), 0, &out, &ol, E),
             COMITY_ERR_NOKEY, "not sealed with a passphrase");
    comity_free(x);
    comity_identities_free(ids);
    /* malformed stanzas, each named */
    static const struct {
        const char *line, *why;
    } bad[] = {
        {"-> scrypt AAAAAAAAAAAAAAAAAAAAAA 010", "without leading zeros"},
        {"-> scrypt AAAAAAAAAAAAAAAAAAAAAA 1x", "without leading zeros"},
        {"-> scrypt AAAAAAAAAAAAAAAAAAAAAA 23", "work factor 2^23 above the cap 2^22"},
        {"-> scrypt AAAAAAAAAAAAAAAAAAAAA 10", "the salt"},
        {"-> scrypt AAAAAAAAAAAAAAAAAAAAAA", "3 arguments"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cy_buf b;
        with_stanza_line(sealed, sl, bad[i].line, &b);
        TU_FAILS(comity_open_passphrase_mem(b.data, b.len, pw, strlen(pw), 0, &out, &ol, E),
                 i == 2 ? COMITY_ERR_TOOBIG : COMITY_ERR_INVALID, bad[i].why);
        cy_buf_free(&b);
    }
    comity_free(sealed);
    /* sealing: the cap, an empty passphrase, one too long */
    TU_FAILS(comity_seal_passphrase_mem(msg, 1, pw, strlen(pw), COMITY_AGE_SCRYPT_LOGN_MAX + 1, 0,
                                        &sealed, &sl, E), COMITY_ERR_USAGE, "above the cap");
    TU_FAILS(comity_seal_passphrase_mem(msg, 1, "", 0, 10, 0, &sealed, &sl, E), COMITY_ERR_USAGE,
             "an empty passphrase");
    char longpw[COMITY_AGE_PASSPHRASE_MAX + 1];
    memset(longpw, 'p', sizeof longpw);
    TU_FAILS(comity_seal_passphrase_mem(msg, 1, longpw, sizeof longpw, 10, 0, &sealed, &sl, E),
             COMITY_ERR_USAGE, "over 1024 bytes");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_keypair),    cmocka_unit_test(test_bech32_bip173),
        cmocka_unit_test(test_key_strings_strict), cmocka_unit_test(test_identity_files),
        cmocka_unit_test(test_roundtrip_sizes), cmocka_unit_test(test_stream),
        cmocka_unit_test(test_wrong_key),       cmocka_unit_test(test_header_errors),
        cmocka_unit_test(test_header_caps),     cmocka_unit_test(test_chunk_layouts),
        cmocka_unit_test(test_payload_tampering), cmocka_unit_test(test_armor),
        cmocka_unit_test(test_age_command_keys), cmocka_unit_test(test_oom),
        cmocka_unit_test(test_scrypt),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
