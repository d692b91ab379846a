/*
 * tls.c: the node's self-signed TLS certificate, made with GnuTLS.
 *
 * `comity init` makes an ECDSA P-256 key and an X.509 v3 certificate for
 * the node (CN = origin; SANs localhost and 127.0.0.1, plus the origin when
 * it looks like a host name), valid five years, and prints its SHA-256
 * fingerprint so that clients can pin it, and its public key's pin
 * (sha256//BASE64 of its SubjectPublicKeyInfo) for peers' `peer add
 * --tls-pin`.  No openssl command is involved.
 */
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <sodium.h>

#include "node/node.h"

#define CERT_DAYS (5 * 365)

/*
 * What the node's TLS offers (a GnuTLS priority string, given to
 * libmicrohttpd by serve.c): TLS 1.3, and TLS 1.2 with ECDHE and an AEAD
 * cipher only (AES-GCM, ChaCha20-Poly1305), as TAXII 2.1 section 8.2.2
 * asks.  Not offered: CBC ciphers and their SHA-1/SHA-2 HMACs, RSA and
 * DHE key exchange (no forward secrecy or slow), SSL 3.0 to TLS 1.1, and
 * SHA-1 signatures.  Key exchange is on elliptic curves only, in both
 * versions: the groups are X25519, P-256, P-384 and P-521, so TLS 1.3's
 * finite-field groups (ffdhe2048-8192, which NORMAL keeps even with DHE
 * gone from TLS 1.2) are refused; they are not weak, but each handshake
 * costs the server a large modular exponentiation.  %SERVER_PRECEDENCE:
 * the node's order of ciphers and groups wins over the client's (AES-256-
 * GCM first, then AES-128-GCM, then ChaCha20-Poly1305; X25519 first).
 * tests/cli/node_tls.sh checks all of it with gnutls-cli; the testssl.sh
 * scan is in docs/reliability.md, "TLS".
 */
const char cy_tls_priorities[] =
    "NORMAL:%SERVER_PRECEDENCE:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
    ":-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD"
    ":-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA"
    ":-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:+GROUP-SECP521R1"
    ":-SIGN-RSA-SHA1:-SIGN-ECDSA-SHA1";

static void fp_text(const unsigned char *d, size_t n, char fp[CY_FP_BUF])
{
    static const char hx[] = "0123456789ABCDEF";
    size_t k = 0;
    for (size_t i = 0; i < n && k + 3 < CY_FP_BUF; i++) {
        if (i)
            fp[k++] = ':';
        fp[k++] = hx[d[i] >> 4];
        fp[k++] = hx[d[i] & 15];
    }
    fp[k] = 0;
}

static comity_err crt_fp(gnutls_x509_crt_t crt, char fp[CY_FP_BUF], comity_error *err)
{
    unsigned char d[32];
    size_t n = sizeof d;
    if (gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, d, &n) < 0)
        return cy_fail(err, COMITY_ERR_INTERNAL, "tls: cannot compute fingerprint");
    fp_text(d, n, fp);
    return COMITY_OK;
}

static bool hostname_like(const char *s)
{
    if (!*s || strlen(s) > 253)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
            return false;
    return true;
}

comity_err cy_tls_selfsigned(const char *cn, char **cert_pem, char **key_pem,
                             char fp[CY_FP_BUF], comity_error *err)
{
    gnutls_x509_privkey_t key = NULL;
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t cd = {0}, kd = {0};
    comity_err rc = COMITY_OK;
    int g;
#define GT(call)                                                                 \
    do {                                                                         \
        if ((g = (call)) < 0) {                                                  \
            rc = cy_fail(err, COMITY_ERR_INTERNAL, "tls: %s: %s", #call,         \
                         gnutls_strerror(g));                                    \
            goto done;                                                           \
        }                                                                        \
    } while (0)
    GT(gnutls_x509_privkey_init(&key));
    GT(gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
                                    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0));
    GT(gnutls_x509_crt_init(&crt));
    GT(gnutls_x509_crt_set_version(crt, 3));
    unsigned char serial[16];
    randombytes_buf(serial, sizeof serial);
    serial[0] &= 0x7f;
    serial[0] |= 0x01;
    GT(gnutls_x509_crt_set_serial(crt, serial, sizeof serial));
    time_t now = time(NULL);
    GT(gnutls_x509_crt_set_activation_time(crt, now - 3600));
    GT(gnutls_x509_crt_set_expiration_time(crt, now + (time_t)CERT_DAYS * 86400));
    GT(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
                                     (unsigned)strlen(cn)));
    GT(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0, "comity node",
                                     11));
    GT(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, "localhost", 9,
                                            GNUTLS_FSAN_APPEND));
    static const unsigned char lo[4] = {127, 0, 0, 1};
    GT(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, lo, 4,
                                            GNUTLS_FSAN_APPEND));
    if (hostname_like(cn) && strcmp(cn, "localhost") != 0)
        GT(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, cn,
                                                (unsigned)strlen(cn), GNUTLS_FSAN_APPEND));
    GT(gnutls_x509_crt_set_key(crt, key));
    GT(gnutls_x509_crt_set_basic_constraints(crt, 0, -1));
    GT(gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE));
    GT(gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0));
    unsigned char kid[64];
    size_t kidn = sizeof kid;
    GT(gnutls_x509_crt_get_key_id(crt, 0, kid, &kidn));
    GT(gnutls_x509_crt_set_subject_key_id(crt, kid, kidn));
    GT(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0));
    GT(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &cd));
    GT(gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &kd));
#undef GT
    if ((rc = crt_fp(crt, fp, err)))
        goto done;
    *cert_pem = cy_strndup((const char *)cd.data, cd.size);
    *key_pem = cy_strndup((const char *)kd.data, kd.size);
    if (!*cert_pem || !*key_pem) {
        cy_free(*cert_pem);
        if (*key_pem)
            cy_free_secret(*key_pem, kd.size);
        *cert_pem = *key_pem = NULL;
        rc = cy_fail(err, COMITY_ERR_NOMEM, "tls: out of memory");
    }
done:
    if (kd.data) {
        sodium_memzero(kd.data, kd.size);
        gnutls_free(kd.data);
    }
    gnutls_free(cd.data);
    if (crt)
        gnutls_x509_crt_deinit(crt);
    if (key)
        gnutls_x509_privkey_deinit(key);
    return rc;
}

comity_err cy_tls_fingerprint(const char *cert_pem, char fp[CY_FP_BUF], comity_error *err)
{
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t d = {(unsigned char *)(uintptr_t)cert_pem, (unsigned)strlen(cert_pem)};
    comity_err rc;
    if (gnutls_x509_crt_init(&crt) < 0)
        return cy_fail(err, COMITY_ERR_NOMEM, "tls: out of memory");
    if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) < 0)
        rc = cy_fail(err, COMITY_ERR_INVALID, "tls: certificate is not PEM X.509");
    else
        rc = crt_fp(crt, fp, err);
    gnutls_x509_crt_deinit(crt);
    return rc;
}

comity_err cy_tls_pin(const char *cert_pem, char pin[CY_FP_BUF], comity_error *err)
{
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t d = {(unsigned char *)(uintptr_t)cert_pem, (unsigned)strlen(cert_pem)};
    unsigned char id[32];
    size_t n = sizeof id;
    comity_err rc = COMITY_OK;
    if (gnutls_x509_crt_init(&crt) < 0)
        return cy_fail(err, COMITY_ERR_NOMEM, "tls: out of memory");
    if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) < 0)
        rc = cy_fail(err, COMITY_ERR_INVALID, "tls: certificate is not PEM X.509");
    /* GnuTLS's key id with SHA-256: the hash of the DER SubjectPublicKeyInfo */
    else if (gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, id, &n) < 0 || n != 32)
        rc = cy_fail(err, COMITY_ERR_INTERNAL, "tls: cannot hash the certificate's key");
    else {
        memcpy(pin, "sha256//", 8);
        sodium_bin2base64(pin + 8, CY_FP_BUF - 8, id, n, sodium_base64_VARIANT_ORIGINAL);
    }
    gnutls_x509_crt_deinit(crt);
    return rc;
}
