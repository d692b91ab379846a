/*
 * equivocation.c: split views caught and kept as proof (docs/federation.md,
 * section 9; sync.h).
 *
 * An equivocation is a signed note by the node that caught it:
 *
 *     comity equivocation v1
 *     <origin>
 *     <base64 of the first signed checkpoint, whole>
 *     <base64 of the second>
 *
 *     — <reporter's origin> <signature by its node key>
 *
 * Anyone holding the accused origin's log key checks it offline: both
 * checkpoints verify under that key, name that origin, have the same size
 * and different roots.
 *
 * Two checkpoints of different sizes prove nothing by themselves; with
 * the larger tree's own nodes they do.  Then the first checkpoint is the
 * smaller (size m), the second the larger (size n), and the text goes on:
 *
 *     <base64 of the larger tree's hash of its first m leaves>
 *     <base64 of each hash of its consistency proof from m to n>...
 *
 * The path must lead to the larger checkpoint's root (so its nodes are
 * that tree's, short of a SHA-256 collision) and to a hash of the first m
 * leaves other than the smaller checkpoint's root (cy_tlog_verify_split):
 * no log holds both trees.  The accused origin itself serves those hashes
 * (GET /federation/root/M and /federation/consistency/M/N) to whoever
 * pulls from it, so the node whose view is the larger tree makes the
 * proof.  A pair that is not proven (a smaller checkpoint with nothing
 * more, a proof that fails) stops the pull all the same (puller.c) and
 * shows as its error, but is not kept.
 * The reporter's signature says who raised it; the proof does not rest on
 * it.  Kept as DIR/equivocations/<sha256 of the note>.note: the same
 * proof again is one file.  A node that holds one against an origin pulls
 * nothing more from it until the operator removes the file.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <sodium.h>

#include "crypto/note.h"
#include "sync/sync.h"
#include "tlog/tlog.h"

#define EQUIV_DIR "equivocations"
#define EQUIV_HEAD "comity equivocation v1\n"

comity_err cy_equiv_make(const comity_nkey *reporter, const char *origin, const char *a,
                         size_t alen, const char *b, size_t blen, const uint8_t *subroot,
                         const uint8_t *proof, size_t nproof, char **out, size_t *len,
                         comity_error *err)
{
    *out = NULL;
    char *ea = cy_b64_encode_alloc((const uint8_t *)a, alen, CY_B64_STD);
    char *eb = cy_b64_encode_alloc((const uint8_t *)b, blen, CY_B64_STD);
    cy_buf t;
    cy_buf_init(&t, CY_EQUIV_MAX);
    comity_err rc = ea && eb ? COMITY_OK : cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    comity_err w = rc ? COMITY_OK : cy_buf_printf(&t, EQUIV_HEAD "%s\n%s\n%s\n", origin, ea, eb);
    for (size_t i = 0; subroot && !rc && !w && i <= nproof; i++) {
        char h[COMITY_TLOG_HASH_B64];
        comity_tlog_hash_b64(i == 0 ? subroot : proof + (i - 1) * CY_HASH, h);
        w = cy_buf_printf(&t, "%s\n", h);
    }
    if (!rc && (w || cy_buf_append(&t, "", 1)))
        rc = cy_fail(err, COMITY_ERR_TOOBIG, "equivocation: over %u bytes", CY_EQUIV_MAX);
    cy_free(ea);
    cy_free(eb);
    const comity_nkey *keys[1] = {reporter};
    if (!rc)
        rc = comity_note_sign((const char *)t.data, t.len - 1, keys, 1, out, len, err);
    cy_buf_free(&t);
    return rc;
}

/* Decodes one base64 line of the note text into a checkpoint note. */
static comity_err line_note(const char **p, const char *end, char **out, size_t *len,
                            comity_error *err)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    size_t n = nl ? (size_t)(nl - *p) : 0;
    *out = NULL;
    if (!nl || !n || !cy_b64_alphabet(*p, n))
        return cy_fail(err, COMITY_ERR_INVALID, "equivocation: want a base64 checkpoint line");
    char *buf = cy_malloc(n + 1);
    if (!buf)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    if (cy_b64_decode((uint8_t *)buf, n, len, *p, n, CY_B64_STD, err)) {
        cy_free(buf);
        return cy_wrap(err, "equivocation: a checkpoint line");
    }
    buf[*len] = '\0';
    *out = buf;
    *p = nl + 1;
    return COMITY_OK;
}

comity_err cy_equiv_check(const char *note, size_t len, const comity_vkey *log,
                          char origin[CY_ORIGIN_MAX + 1], comity_error *err)
{
    origin[0] = '\0';
    if (len > CY_EQUIV_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "equivocation: over %u bytes", CY_EQUIV_MAX);
    cy_note *n = cy_malloc(sizeof *n);
    if (!n)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    comity_err rc = cy_note_parse(note, len, n, err);
    const char *p = rc ? NULL : n->text, *end = rc ? NULL : n->text + n->text_len;
    size_t hl = strlen(EQUIV_HEAD);
    if (!rc && ((size_t)(end - p) < hl || memcmp(p, EQUIV_HEAD, hl)))
        rc = cy_fail(err, COMITY_ERR_INVALID, "equivocation: not a comity equivocation v1");
    const char *nl = rc ? NULL : memchr(p + hl, '\n', (size_t)(end - p - hl));
    if (!rc && (!nl || (size_t)(nl - p - hl) > CY_ORIGIN_MAX ||
                !cy_origin_valid(p + hl, (size_t)(nl - p - hl))))
        rc = cy_fail(err, COMITY_ERR_INVALID, "equivocation: want an origin line");
    if (!rc) {
        memcpy(origin, p + hl, (size_t)(nl - p - hl));
        origin[nl - p - hl] = '\0';
        p = nl + 1;
    }
    char *ca = NULL, *cb = NULL;
    size_t la = 0, lb = 0;
    if (!rc)
        rc = line_note(&p, end, &ca, &la, err);
    if (!rc)
        rc = line_note(&p, end, &cb, &lb, err);
    /* the larger tree's hashes, when the sizes differ */
    uint8_t(*h)[CY_HASH] = rc ? NULL : cy_calloc(CY_TLOG_PROOF_MAX, CY_HASH);
    size_t nh = 0;
    if (!rc && !h)
        rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    while (!rc && p < end) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        if (!e || nh == CY_TLOG_PROOF_MAX || !cy_parse_hash(p, (size_t)(e - p), h[nh]))
            rc = cy_fail(err, COMITY_ERR_INVALID, "equivocation: after the two checkpoints, "
                         "want at most %d base64 hash lines", CY_TLOG_PROOF_MAX);
        else
            nh++;
        p = e ? e + 1 : end;
    }
    comity_checkpoint a, b;
    const comity_vkey *logs[1] = {log};
    if (!rc && (rc = comity_checkpoint_verify(ca, la, logs, 1, &a, err)))
        rc = cy_wrap(err, "equivocation: the first checkpoint");
    if (!rc && (rc = comity_checkpoint_verify(cb, lb, logs, 1, &b, err)))
        rc = cy_wrap(err, "equivocation: the second checkpoint");
    if (!rc && (strcmp(a.origin, origin) || strcmp(b.origin, origin)))
        rc = cy_fail(err, COMITY_ERR_VERIFY, "equivocation: the checkpoints are not of %s",
                     origin);
    else if (!rc && a.size != b.size && nh == 0)
        rc = cy_fail(err, COMITY_ERR_VERIFY, "equivocation: sizes %llu and %llu differ: not a "
                     "proof by itself", (unsigned long long)a.size, (unsigned long long)b.size);
    else if (!rc && a.size != b.size && a.size > b.size)
        rc = cy_fail(err, COMITY_ERR_VERIFY, "equivocation: the smaller checkpoint comes first");
    else if (!rc && a.size != b.size &&
             cy_tlog_verify_split(a.size, b.size, a.root, b.root, h[0],
                                  (const uint8_t(*)[CY_HASH])h + 1, nh - 1, err) != COMITY_OK)
        rc = cy_wrap(err, "equivocation: sizes %llu and %llu", (unsigned long long)a.size,
                     (unsigned long long)b.size);
    else if (!rc && a.size == b.size && nh)
        rc = cy_fail(err, COMITY_ERR_INVALID, "equivocation: text after two checkpoints of "
                     "one size");
    else if (!rc && a.size == b.size && !memcmp(a.root, b.root, sizeof a.root))
        rc = cy_fail(err, COMITY_ERR_VERIFY, "equivocation: the same tree twice");
    cy_free(h);
    cy_free(ca);
    cy_free(cb);
    cy_free(n);
    return rc;
}

comity_err cy_equiv_keep(const char *dir, const char *note, size_t len, comity_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/" EQUIV_DIR, dir);
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return cy_fail(err, COMITY_ERR_IO, "%s: %s", path, strerror(errno));
    uint8_t h[32];
    char hex[65];
    crypto_hash_sha256(h, (const uint8_t *)note, len);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    snprintf(path, sizeof path, "%s/" EQUIV_DIR "/%s.note", dir, hex);
    comity_err rc = comity_write_file(path, note, len, 0644, 1, err);
    if (rc == COMITY_ERR_EXISTS) {
        cy_err_clear(err);
        rc = COMITY_OK; /* kept before */
    }
    return rc;
}

/* Calls cb on every kept note (stops at a non-zero answer). */
static comity_err each(const char *dir, int (*cb)(const char *note, size_t len, void *ctx),
                       void *ctx, comity_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/" EQUIV_DIR, dir);
    DIR *d = opendir(path);
    if (!d)
        return errno == ENOENT ? COMITY_OK
                               : cy_fail(err, COMITY_ERR_IO, "%s: %s", path, strerror(errno));
    comity_err rc = COMITY_OK;
    struct dirent *de;
    size_t n = 0;
    while (!rc && (de = readdir(d))) {
        size_t nl = strlen(de->d_name);
        if (nl < 6 || strcmp(de->d_name + nl - 5, ".note"))
            continue;
        if (++n > CY_EQUIV_KEPT_MAX) {
            rc = cy_fail(err, COMITY_ERR_TOOBIG, "%s: more than %d equivocations", path,
                         CY_EQUIV_KEPT_MAX);
            break;
        }
        char f[4400], *text = NULL;
        size_t len = 0;
        snprintf(f, sizeof f, "%s/%s", path, de->d_name);
        if ((rc = comity_read_file(f, CY_EQUIV_MAX, &text, &len, err)))
            break;
        int stop = cb(text, len, ctx);
        comity_free(text);
        if (stop)
            break;
    }
    closedir(d);
    return rc;
}

struct against {
    const char *origin;
    bool found;
};

static int against_one(const char *note, size_t len, void *ctx)
{
    struct against *a = ctx;
    size_t hl = strlen(EQUIV_HEAD), ol = strlen(a->origin);
    /* the origin line (the proof was checked when it was kept) */
    if (len > hl + ol && !memcmp(note, EQUIV_HEAD, hl) && !memcmp(note + hl, a->origin, ol) &&
        note[hl + ol] == '\n')
        a->found = true;
    return a->found;
}

bool cy_equiv_against(const char *dir, const char *origin)
{
    struct against a = {origin, false};
    (void)each(dir, against_one, &a, NULL);
    return a.found;
}

static int list_one(const char *note, size_t len, void *ctx)
{
    json_array_append_new(ctx, json_stringn(note, len));
    return 0;
}

comity_err cy_equiv_list(const char *dir, char **json, comity_error *err)
{
    *json = NULL;
    json_t *a = json_array();
    if (!a)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    comity_err rc = each(dir, list_one, a, err);
    char *s = rc ? NULL : json_dumps(a, JSON_COMPACT);
    json_decref(a);
    if (rc)
        return rc;
    *json = s ? cy_strdup(s) : NULL;
    free(s);
    return *json ? COMITY_OK : cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
}

comity_err comity_equivocation_verify(const char *note, size_t len, const comity_vkey *log,
                                      char origin[256], comity_error *err)
{
    if (!note || !log || !origin)
        return cy_fail(err, COMITY_ERR_USAGE, "equivocation: note, log key and origin needed");
    return cy_equiv_check(note, len, log, origin, err);
}
