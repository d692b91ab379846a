/*
 * witness.c: a c2sp.org/tlog-witness witness: add-checkpoint.
 *
 * State lives in DIR/witness.db (SQLite, WAL, synchronous=FULL): the logs
 * this witness trusts (origin -> verifier keys) and, per origin, the latest
 * checkpoint it cosigned.  A request is answered exactly as the spec says,
 * checked in this order:
 *
 *   malformed body                          400
 *   origin unknown                          404
 *   no trusted signature, or a failing one  403
 *   old size > checkpoint size              400
 *   old size != latest cosigned size        409, body "<size>\n", text/x.tlog.size
 *   size 0 with a root other than SHA-256("")  422
 *   old 0 with a non-empty proof            422
 *   consistency proof fails (also: equal sizes, different roots)  422
 *   otherwise: state updated, then         200, the cosignature line(s)
 *
 * The comparison with the stored size and the update happen inside one
 * IMMEDIATE transaction (and under the handle's mutex), committed before the
 * reply, so two concurrent requests can never roll the state back.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "sqlite/db.h"
#include "tlog/tlog.h"

#define WITNESS_MAX_PROOF 63
#define CT_TEXT "text/plain; charset=utf-8"
#define CT_SIZE "text/x.tlog.size"

struct comity_witness {
    sqlite3 *db;
    const comity_nkey *key;
    pthread_mutex_t mu;
};

/* witness.db's schema (sqlite/db.h): WITNESS_MIGRATIONS[k] takes it from
 * version k to k+1.  Files made before it was versioned hold version 1
 * (the table `logs` marks them). */
static const char *const WITNESS_MIGRATIONS[] = {
    /* 0 -> 1 */
    "CREATE TABLE logs(origin TEXT NOT NULL, vkey TEXT NOT NULL, PRIMARY KEY(origin, vkey));"
    "CREATE TABLE state(origin TEXT PRIMARY KEY, size INTEGER NOT NULL,"
    " root BLOB NOT NULL, checkpoint TEXT NOT NULL);",
};
static const cy_sqlite_schema WITNESS_SCHEMA = {"witness.db", WITNESS_MIGRATIONS,
                                                CY_ARRAY_LEN(WITNESS_MIGRATIONS), "logs"};

/* Opens (with create: makes) dir/witness.db at the current schema
 * version, as one handle for all threads.  OUT *db: sqlite3_close it. */
static comity_err wdb_open(const char *dir, bool create, sqlite3 **db, comity_error *err)
{
    char path[PATH_MAX];
    *db = NULL;
    snprintf(path, sizeof path, "%s/witness.db", dir);
    if (!create && access(path, F_OK) != 0)
        return cy_fail(err, COMITY_ERR_NOTFOUND,
                       "%s: no witness here (create one with 'comity witness init')", dir);
    if (create && access(path, F_OK) == 0)
        return cy_fail(err, COMITY_ERR_EXISTS, "%s already holds a witness", dir);
    cy_sqlite_opts o = {.create = create, .serialized = true, .busy_ms = 10000};
    comity_err rc = cy_sqlite_open(path, &o, db, err);
    if (!rc && (rc = cy_sqlite_migrate(*db, &WITNESS_SCHEMA, NULL, err))) {
        sqlite3_close(*db);
        *db = NULL;
    }
    return rc;
}

comity_err comity_witness_create(const char *dir, comity_error *err)
{
    comity_err rc = comity_init(err);
    if (rc)
        return rc;
    if (mkdir(dir, 0755) != 0 && access(dir, F_OK) != 0)
        return cy_fail(err, COMITY_ERR_IO, "%s: cannot create", dir);
    sqlite3 *db;
    rc = wdb_open(dir, true, &db, err);
    sqlite3_close(db);
    return rc;
}

comity_err comity_witness_open(const char *dir, const comity_nkey *key, comity_witness **out,
                               comity_error *err)
{
    *out = NULL;
    comity_err rc = comity_init(err);
    if (rc)
        return rc;
    if (!key || key->type != COMITY_NOTE_COSIG_V1)
        return cy_fail(err, COMITY_ERR_NOKEY,
                       "a witness needs a cosignature (type 0x04) key");
    comity_witness *w = cy_calloc(1, sizeof *w);
    if (!w)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    rc = wdb_open(dir, false, &w->db, err);
    if (rc) {
        cy_free(w);
        return rc;
    }
    w->key = key;
    pthread_mutex_init(&w->mu, NULL);
    *out = w;
    return COMITY_OK;
}

void comity_witness_free(comity_witness *w)
{
    if (!w)
        return;
    sqlite3_close(w->db);
    pthread_mutex_destroy(&w->mu);
    cy_free(w);
}

comity_err comity_witness_add_log(comity_witness *w, const char *vkey, comity_error *err)
{
    comity_vkey *k;
    comity_err rc = comity_vkey_parse(vkey, strlen(vkey), &k, err);
    if (rc)
        return rc;
    if (k->type != COMITY_NOTE_ED25519) {
        comity_vkey_free(k);
        return cy_fail(err, COMITY_ERR_INVALID, "a log key must be Ed25519 (type 0x01)");
    }
    if (!cy_origin_valid(k->name, strlen(k->name))) {
        comity_vkey_free(k);
        return cy_fail(err, COMITY_ERR_INVALID, "the key name is not a valid origin");
    }
    sqlite3_stmt *st;
    pthread_mutex_lock(&w->mu);
    if (sqlite3_prepare_v2(w->db, "INSERT OR IGNORE INTO logs(origin, vkey) VALUES(?, ?)", -1,
                           &st, NULL) != SQLITE_OK) {
        rc = cy_fail(err, COMITY_ERR_DB, "witness.db: %s", sqlite3_errmsg(w->db));
    } else {
        sqlite3_bind_text(st, 1, k->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, k->text, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = cy_fail(err, COMITY_ERR_DB, "witness.db: %s", sqlite3_errmsg(w->db));
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&w->mu);
    comity_vkey_free(k);
    return rc;
}

/* Latest cosigned size and root of `origin` (0 and the empty root if none). */
static comity_err get_state(comity_witness *w, const char *origin, uint64_t *size,
                            uint8_t root[CY_HASH], comity_error *err)
{
    sqlite3_stmt *st;
    *size = 0;
    memcpy(root, cy_tlog_empty_root, CY_HASH);
    if (sqlite3_prepare_v2(w->db, "SELECT size, root FROM state WHERE origin = ?", -1, &st,
                           NULL) != SQLITE_OK)
        return cy_fail(err, COMITY_ERR_DB, "witness.db: %s", sqlite3_errmsg(w->db));
    sqlite3_bind_text(st, 1, origin, -1, SQLITE_STATIC);
    comity_err rc = COMITY_OK;
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        *size = (uint64_t)sqlite3_column_int64(st, 0);
        if (sqlite3_column_bytes(st, 1) == CY_HASH)
            memcpy(root, sqlite3_column_blob(st, 1), CY_HASH);
    } else if (s != SQLITE_DONE) {
        rc = cy_fail(err, COMITY_ERR_DB, "witness.db: %s", sqlite3_errmsg(w->db));
    }
    sqlite3_finalize(st);
    return rc;
}

comity_err comity_witness_size(comity_witness *w, const char *origin, uint64_t *size,
                               comity_error *err)
{
    uint8_t root[CY_HASH];
    pthread_mutex_lock(&w->mu);
    comity_err rc = get_state(w, origin, size, root, err);
    pthread_mutex_unlock(&w->mu);
    return rc;
}

/* The trusted keys of `origin` (OUT *keys, caller frees each and the array). */
static comity_err log_keys(comity_witness *w, const char *origin, comity_vkey ***keys,
                           size_t *n, comity_error *err)
{
    sqlite3_stmt *st;
    *keys = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(w->db, "SELECT vkey FROM logs WHERE origin = ? LIMIT 16", -1, &st,
                           NULL) != SQLITE_OK)
        return cy_fail(err, COMITY_ERR_DB, "witness.db: %s", sqlite3_errmsg(w->db));
    sqlite3_bind_text(st, 1, origin, -1, SQLITE_STATIC);
    comity_vkey **k = cy_calloc(16, sizeof *k);
    comity_err rc = k ? COMITY_OK : cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        if (comity_vkey_parse(t, strlen(t), &k[*n], NULL) == COMITY_OK)
            (*n)++;
    }
    sqlite3_finalize(st);
    *keys = k;
    return rc;
}

struct reply {
    int status;
    cy_buf body;
    const char *ct;
};

static int say(struct reply *r, int status, const char *ct, const char *fmt, ...)
    CY_PRINTF(4, 5);
static int say(struct reply *r, int status, const char *ct, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->status = status;
    r->ct = ct;
    r->body.len = 0;
    (void)cy_buf_puts(&r->body, msg);
    return status;
}

static int handle(comity_witness *w, const char *body, size_t len, struct reply *r)
{
    if (len > COMITY_WITNESS_BODY_MAX)
        return say(r, 400, CT_TEXT, "request body larger than %u bytes\n",
                   COMITY_WITNESS_BODY_MAX);
    /* old <size>\n, proof lines, empty line, checkpoint */
    const char *nl = memchr(body, '\n', len);
    uint64_t old;
    if (!nl || (size_t)(nl - body) < 4 || memcmp(body, "old ", 4) != 0 ||
        !cy_parse_u64(body + 4, (size_t)(nl - body) - 4, &old))
        return say(r, 400, CT_TEXT, "first line must be 'old <size>'\n");
    size_t at = (size_t)(nl - body) + 1;
    uint8_t proof[WITNESS_MAX_PROOF][CY_HASH];
    size_t np = 0;
    for (;;) {
        nl = at < len ? memchr(body + at, '\n', len - at) : NULL;
        if (!nl)
            return say(r, 400, CT_TEXT, "missing the empty line before the checkpoint\n");
        size_t ll = (size_t)(nl - (body + at));
        if (ll == 0) {
            at++;
            break;
        }
        if (np == WITNESS_MAX_PROOF)
            return say(r, 400, CT_TEXT, "more than %d consistency proof lines\n",
                       WITNESS_MAX_PROOF);
        if (!cy_parse_hash(body + at, ll, proof[np]))
            return say(r, 400, CT_TEXT, "proof line %zu is not a base64 SHA-256 hash\n", np + 1);
        np++;
        at += ll + 1;
    }
    const char *note = body + at;
    size_t note_len = len - at;
    cy_note *n = cy_malloc(sizeof *n);
    if (!n)
        return say(r, 500, CT_TEXT, "out of memory\n");
    comity_error e = {0};
    cy_checkpoint cp;
    int status = 0;
    comity_vkey **keys = NULL;
    size_t nkeys = 0;
    bool by[16];
    if (cy_note_parse(note, note_len, n, &e) ||
        cy_checkpoint_parse_text(n->text, n->text_len, &cp, &e)) {
        status = say(r, 400, CT_TEXT, "%s\n", e.msg);
        goto done;
    }
    if (log_keys(w, cp.origin, &keys, &nkeys, &e)) {
        status = say(r, 500, CT_TEXT, "%s\n", e.msg);
        goto done;
    }
    if (nkeys == 0) {
        status = say(r, 404, CT_TEXT, "unknown log origin %s\n", cp.origin);
        goto done;
    }
    if (cy_tlog_note_check(note, note_len, (const comity_vkey *const *)keys, nkeys, by, n, &e)) {
        status = say(r, 403, CT_TEXT, "%s\n", e.msg);
        goto done;
    }
    bool any = false;
    for (size_t i = 0; i < nkeys; i++)
        any |= by[i];
    if (!any) {
        status = say(r, 403, CT_TEXT, "no signature by a trusted key of %s\n", cp.origin);
        goto done;
    }
    if (old > cp.size) {
        status = say(r, 400, CT_TEXT, "old size %llu exceeds the checkpoint size %llu\n",
                     (unsigned long long)old, (unsigned long long)cp.size);
        goto done;
    }
    /* from here on: one transaction */
    if (sqlite3_exec(w->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        status = say(r, 500, CT_TEXT, "witness state: %s\n", sqlite3_errmsg(w->db));
        goto done;
    }
    uint64_t have;
    uint8_t have_root[CY_HASH];
    if (get_state(w, cp.origin, &have, have_root, &e)) {
        status = say(r, 500, CT_TEXT, "%s\n", e.msg);
    } else if (old != have) {
        status = say(r, 409, CT_SIZE, "%llu\n", (unsigned long long)have);
    } else if (cp.size == 0 && memcmp(cp.root, cy_tlog_empty_root, CY_HASH) != 0) {
        status = say(r, 422, CT_TEXT, "size 0 with a root that is not SHA-256 of nothing\n");
    } else if (old == 0 && np) {
        status = say(r, 422, CT_TEXT, "old size 0 needs an empty proof\n");
    } else if (old > 0 &&
               cy_tlog_verify_consistency(old, cp.size, have_root, cp.root,
                                          (const uint8_t(*)[CY_HASH])proof, np, &e)) {
        status = say(r, 422, CT_TEXT, "%s\n", e.msg);
    }
    if (!status) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(w->db,
                               "INSERT OR REPLACE INTO state(origin, size, root, checkpoint)"
                               " VALUES(?, ?, ?, ?)",
                               -1, &st, NULL) != SQLITE_OK) {
            status = say(r, 500, CT_TEXT, "witness state: %s\n", sqlite3_errmsg(w->db));
        } else {
            sqlite3_bind_text(st, 1, cp.origin, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, (sqlite3_int64)cp.size);
            sqlite3_bind_blob(st, 3, cp.root, CY_HASH, SQLITE_STATIC);
            sqlite3_bind_text(st, 4, note, (int)note_len, SQLITE_STATIC);
            if (sqlite3_step(st) != SQLITE_DONE)
                status = say(r, 500, CT_TEXT, "witness state: %s\n", sqlite3_errmsg(w->db));
            sqlite3_finalize(st);
        }
    }
    if (!status && sqlite3_exec(w->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        status = say(r, 500, CT_TEXT, "witness state: %s\n", sqlite3_errmsg(w->db));
    if (status) {
        sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
        goto done;
    }
    char *line = NULL;
    if (comity_cosign(w->key, note, note_len, 0, &line, &e)) {
        status = say(r, 500, CT_TEXT, "%s\n", e.msg);
        goto done;
    }
    r->body.len = 0;
    (void)cy_buf_puts(&r->body, line);
    cy_free(line);
    r->status = status = 200;
    r->ct = CT_TEXT;
done:
    for (size_t i = 0; i < nkeys; i++)
        comity_vkey_free(keys[i]);
    cy_free(keys);
    cy_free(n);
    return status;
}

int comity_witness_add_checkpoint(comity_witness *w, const char *body, size_t len,
                                  char **resp, size_t *resp_len, const char **content_type)
{
    struct reply r = {0};
    cy_buf_init(&r.body, 4096);
    pthread_mutex_lock(&w->mu);
    int status = handle(w, body, len, &r);
    pthread_mutex_unlock(&w->mu);
    *content_type = r.ct ? r.ct : CT_TEXT;
    *resp = (char *)cy_buf_detach(&r.body, resp_len);
    if (!*resp) {
        *resp_len = 0;
        return 500;
    }
    return status;
}
