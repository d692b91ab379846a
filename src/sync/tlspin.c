/*
 * tlspin.c: TLS pinning of a peer's certificate key (docs/federation.md,
 * section 4).  `comity peer add DIR URL --log-vkey VKEY --tls-pin
 * sha256//BASE64` keeps the SHA-256 of the peer's SubjectPublicKeyInfo in
 * DIR/peers.pins, one "ORIGIN PIN" line a pinned peer.  Every libcurl
 * handle that calls that peer (its puller, the hinter, the cosigner) then
 * checks the key the peer's TLS presents against the pin
 * (CURLOPT_PINNEDPUBLICKEY) instead of the system's trust store: a node's
 * self-signed certificate (`comity init` prints its pin) is reachable over
 * https with no authority, and any other key is refused before a byte is
 * sent.  Without a pin, an https peer must have a certificate the system
 * trusts, as before.
 *
 * Every read of the file checks it whole: a line that is not "ORIGIN
 * sha256//BASE64" (an origin without spaces or control bytes, one space,
 * a pin as cy_tls_pin_parse writes it) is refused with the file and the
 * line named, never handed to libcurl; a puller then fails its pull with
 * that error (`peer list`), the hinter and the cosigner skip the peer,
 * and the node refuses to start (cy_sync_start).  Empty lines are allowed.
 *
 * Durability: the file is written whole to a temporary name, synced and
 * renamed (comity_write_file), so a reader (a puller, while the operator
 * edits) sees the old file or the new one.  Writers are the operator's
 * commands (`peer add`, `peer remove`), one at a time on one node.
 */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <sodium.h>

#include "sync/sync.h"

#define PINS_FILE "peers.pins"
#define PINS_MAX ((size_t)CY_PEERS_MAX * (CY_PEER_ORIGIN_MAX + CY_TLS_PIN_BUF + 2))
#define PIN_PREFIX "sha256//"

bool cy_tls_pin_parse(const char *in, char out[CY_TLS_PIN_BUF], comity_error *err)
{
    const char *b64 = NULL;
    if (in && !strncmp(in, PIN_PREFIX, strlen(PIN_PREFIX)))
        b64 = in + strlen(PIN_PREFIX);
    else if (in && !strncmp(in, "sha256/", 7))
        b64 = in + 7;
    unsigned char d[crypto_hash_sha256_BYTES + 1];
    size_t n = 0;
    const char *end = NULL;
    if (!b64 || strlen(b64) != 44 ||
        sodium_base642bin(d, sizeof d, b64, 44, NULL, &n, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        n != crypto_hash_sha256_BYTES || *end) {
        cy_fail(err, COMITY_ERR_USAGE, "--tls-pin: want sha256//BASE64, the base64 of the "
                "SHA-256 of the peer's certificate's public key (SubjectPublicKeyInfo), as "
                "`comity init` prints it (got '%.80s')", in ? in : "");
        return false;
    }
    snprintf(out, CY_TLS_PIN_BUF, PIN_PREFIX "%s", b64);
    return true;
}

/* Checks each line of the pins file `path` (text, len): see the top. */
static comity_err pins_check(const char *text, size_t len, const char *path,
                             comity_error *err)
{
    size_t line = 0;
    for (const char *p = text, *end = text ? text + len : NULL; p && p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
        line++;
        const char *sp = ll ? memchr(p, ' ', ll) : NULL;
        size_t ol = sp ? (size_t)(sp - p) : 0, pl = sp ? ll - ol - 1 : 0;
        bool ok = !ll;
        if (sp && ol && ol <= CY_PEER_ORIGIN_MAX && pl < CY_TLS_PIN_BUF) {
            ok = true;
            for (size_t i = 0; i < ol && ok; i++)
                ok = (unsigned char)p[i] > ' ' && (unsigned char)p[i] != 0x7f;
            char pin[CY_TLS_PIN_BUF], norm[CY_TLS_PIN_BUF];
            memcpy(pin, sp + 1, pl);
            pin[pl] = '\0';
            ok = ok && strlen(pin) == pl && cy_tls_pin_parse(pin, norm, NULL) &&
                 !strcmp(pin, norm);
        }
        if (!ok)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "peer pins: %s line %zu is not 'ORIGIN sha256//BASE64' (a peer's "
                           "origin, one space, its pin as `peer add --tls-pin` keeps it): "
                           "refused, no peer's pin is used until the line is fixed or removed",
                           path, line);
        p = nl ? nl + 1 : end;
    }
    return COMITY_OK;
}

/* Reads DIR/peers.pins and checks it (pins_check); OUT *text (cy_free)
 * and *len; an absent file is empty. */
static comity_err pins_read(const char *dir, char **text, size_t *len, char path[],
                            size_t cap, comity_error *err)
{
    *text = NULL;
    *len = 0;
    if (snprintf(path, cap, "%s/" PINS_FILE, dir) >= (int)cap)
        return cy_fail(err, COMITY_ERR_USAGE, "peer pins: the path %s/%s is too long", dir,
                       PINS_FILE);
    comity_error e = {0};
    comity_err rc = comity_read_file(path, PINS_MAX, text, len, &e);
    if (rc == COMITY_ERR_NOTFOUND)
        return COMITY_OK;
    if (rc && err)
        *err = e;
    if (rc)
        return cy_wrap(err, "peer pins");
    if ((rc = pins_check(*text, *len, path, err))) {
        comity_free(*text);
        *text = NULL;
        *len = 0;
    }
    return rc;
}

comity_err cy_sync_pins_check(const char *dir, comity_error *err)
{
    char path[4096], *text = NULL;
    size_t len = 0;
    comity_err rc = pins_read(dir, &text, &len, path, sizeof path, err);
    comity_free(text);
    return rc;
}

comity_err cy_sync_pin_get(const char *dir, const char *origin, char pin[CY_TLS_PIN_BUF],
                           comity_error *err)
{
    char path[4096], *text = NULL;
    size_t len = 0, ol = strlen(origin);
    pin[0] = '\0';
    if (!dir)
        return COMITY_OK;
    comity_err rc = pins_read(dir, &text, &len, path, sizeof path, err);
    if (rc || !text)
        return rc;
    for (const char *p = text, *end = text + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (ll > ol + 1 && !memcmp(p, origin, ol) && p[ol] == ' ' &&
            ll - ol - 1 < CY_TLS_PIN_BUF) {
            snprintf(pin, CY_TLS_PIN_BUF, "%.*s", (int)(ll - ol - 1), p + ol + 1);
            break;
        }
        p = nl ? nl + 1 : end;
    }
    comity_free(text);
    return COMITY_OK;
}

comity_err cy_sync_pin_set(const char *dir, const char *origin, const char *pin,
                           comity_error *err)
{
    char path[4096], *text = NULL, norm[CY_TLS_PIN_BUF] = "";
    size_t len = 0, ol = strlen(origin);
    if (pin && !cy_tls_pin_parse(pin, norm, err))
        return COMITY_ERR_USAGE;
    if (!ol || ol > CY_PEER_ORIGIN_MAX || strpbrk(origin, " \n"))
        return cy_fail(err, COMITY_ERR_USAGE, "peer pins: '%.80s' is not a peer origin", origin);
    comity_err rc = pins_read(dir, &text, &len, path, sizeof path, err);
    if (rc)
        return rc;
    cy_buf out;
    cy_buf_init(&out, PINS_MAX);
    bool had = false;
    for (const char *p = text, *end = text ? text + len : NULL; p && p < end && !rc;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
        bool mine = ll > ol && !memcmp(p, origin, ol) && p[ol] == ' ';
        had |= mine;
        if (!mine && ll)
            rc = cy_buf_append(&out, p, ll) || cy_buf_append(&out, "\n", 1)
                     ? cy_fail(err, COMITY_ERR_TOOBIG, "peer pins: over %zu bytes", PINS_MAX)
                     : COMITY_OK;
        p = nl ? nl + 1 : end;
    }
    if (!rc && pin &&
        (cy_buf_append(&out, origin, ol) || cy_buf_append(&out, " ", 1) ||
         cy_buf_append(&out, norm, strlen(norm)) || cy_buf_append(&out, "\n", 1)))
        rc = cy_fail(err, COMITY_ERR_TOOBIG, "peer pins: over %zu bytes", PINS_MAX);
    if (!rc && (pin || had))
        rc = comity_write_file(path, out.len ? (const char *)out.data : "", out.len, 0644, 0,
                               err);
    cy_buf_free(&out);
    comity_free(text);
    return rc;
}

void cy_sync_curl_tls(void *curl, const char *pin)
{
    CURL *c = curl;
    if (pin && pin[0]) {
        /* the pin is the trust: no authority vouches for a self-signed
         * node certificate, and the key is checked whatever the chain */
        curl_easy_setopt(c, CURLOPT_PINNEDPUBLICKEY, pin);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    } else {
        curl_easy_setopt(c, CURLOPT_PINNEDPUBLICKEY, NULL);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    }
}

const char *cy_sync_curl_why(int curl_code)
{
    switch ((CURLcode)curl_code) {
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        return "the peer's TLS public key is not the one pinned (peer add --tls-pin): "
               "refused, nothing sent";
    case CURLE_PEER_FAILED_VERIFICATION:
        return "the peer's TLS certificate is not trusted by this system (a node's "
               "self-signed certificate needs its pin: peer add --tls-pin)";
    default:
        return curl_easy_strerror((CURLcode)curl_code);
    }
}
