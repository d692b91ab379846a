/*
 * doctor.c: `comity doctor DIR`: what an operator should know about a
 * node's directory, store and log, each finding with what to do (see
 * comity_node_doctor in comity.h, docs/operations.md).
 *
 * Nothing here changes the node: the store is looked at read-only
 * (src/sqlite/ops.h, src/pg/ops.h: no migration, no lock held for long),
 * the log is audited from its published files (no writer's lock), and the
 * node's origin and log key come from DIR/node.key, so a doctor can run
 * beside a serving node.  The rules it applies (which files are secret,
 * how much free space is enough, how near a certificate's expiry is too
 * near, how far a peer's clock may be from ours) are named below.
 *
 * Peers (check_peers): each pinned peer is asked for its log's
 * checkpoint (GET URL/log/checkpoint, public by c2sp.org/tlog-tiles),
 * which must verify under the pinned log key; its HTTP Date, against this
 * machine's clock at the request's middle, gives the skew (to the second:
 * Date has no finer grain).  The peer list is read through the store only
 * when the store is at this build's schema (opening it then migrates
 * nothing).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "node/node.h"
#include "pg/db.h"
#include "pg/ops.h"
#include "sqlite/ops.h"

/* Free space on the node's filesystem: below the first a problem (a full
 * disk stops intake), below the second a warning. */
#define DOCTOR_DISK_PROBLEM_BYTES (256ull << 20)
#define DOCTOR_DISK_WARN_BYTES (2ull << 30)
#define DOCTOR_DISK_WARN_PERCENT 10
/* A certificate expiring within this many days is a warning. */
#define DOCTOR_CERT_WARN_DAYS 30
/* A peer's clock this many seconds off ours is a warning, and past the
 * second a problem: the framework's deadlines and a record's `created`
 * (node.conf created_ahead) are judged on each node's own clock. */
#define DOCTOR_SKEW_WARN_S 30
#define DOCTOR_SKEW_PROBLEM_S 300
/* How long a peer may take to answer, and the most read of its answer. */
#define DOCTOR_PEER_TIMEOUT_S 10
#define DOCTOR_PEER_BODY_MAX (64u << 10)

struct doc {
    const char *dir;
    comity_finding_fn fn;
    void *ctx;
    unsigned problems;
};

static void say(struct doc *d, int level, const char *check, const char *todo, const char *fmt,
                ...) CY_PRINTF(5, 6);
static void say(struct doc *d, int level, const char *check, const char *todo, const char *fmt,
                ...)
{
    char what[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (level == COMITY_FINDING_PROBLEM)
        d->problems++;
    comity_finding f = {.level = level, .check = check, .what = what, .todo = todo ? todo : ""};
    if (d->fn)
        d->fn(d->ctx, &f);
}

/* A secret file: present (unless optional), readable, no access for group
 * or others.  Returns 1 when it is there and readable. */
static int secret_file(struct doc *d, const char *name, bool optional)
{
    char p[4200], todo[4400];
    snprintf(p, sizeof p, "%s/%s", d->dir, name);
    struct stat sb;
    if (stat(p, &sb) != 0) {
        if (!optional)
            say(d, COMITY_FINDING_PROBLEM, "keys", "restore it from a backup (comity restore)",
                "%s is missing: %s", p, strerror(errno));
        return 0;
    }
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(todo, sizeof todo, "run the node as the file's owner, or chown it to the node's"
                                    " user");
        say(d, COMITY_FINDING_PROBLEM, "keys", todo, "%s is not readable: %s", p,
            strerror(errno));
        return 0;
    }
    close(fd);
    if (sb.st_mode & 077) {
        snprintf(todo, sizeof todo, "chmod 600 %s (and replace the key if others may have read"
                                    " it)", p);
        say(d, COMITY_FINDING_PROBLEM, "keys", todo, "%s is open to group or others (mode %03o)",
            p, (unsigned)(sb.st_mode & 0777));
    } else if (sb.st_uid != geteuid()) {
        say(d, COMITY_FINDING_WARN, "keys", "chown it to the user that runs the node",
            "%s belongs to uid %u, not to this user (%u)", p, (unsigned)sb.st_uid,
            (unsigned)geteuid());
    } else {
        say(d, COMITY_FINDING_OK, "keys", NULL, "%s readable by its owner only", p);
    }
    return 1;
}

static void check_dir(struct doc *d)
{
    struct stat sb;
    stat(d->dir, &sb);
    char todo[4200];
    snprintf(todo, sizeof todo, "chmod go-w %s", d->dir);
    if (sb.st_mode & 022)
        say(d, COMITY_FINDING_PROBLEM, "dir", todo,
            "%s is writable by group or others (mode %03o): they could replace its keys", d->dir,
            (unsigned)(sb.st_mode & 0777));
    else
        say(d, COMITY_FINDING_OK, "dir", NULL, "%s (mode %03o)", d->dir,
            (unsigned)(sb.st_mode & 0777));
}

/* Returns whether the store is at this build's schema (so opening it
 * migrates nothing). */
static bool check_sqlite(struct doc *d, const char *path)
{
    int ver;
    char check[256];
    comity_error e = {0};
    if (cy_sqlite_inspect(path, &ver, check, sizeof check, &e)) {
        say(d, COMITY_FINDING_PROBLEM, "store", "restore the store from a backup (comity restore)",
            "cannot read the store: %s", e.msg);
        return false;
    }
    if (ver > CY_STORE_SCHEMA_VERSION)
        say(d, COMITY_FINDING_PROBLEM, "store", "run the comity that made it, or a newer one",
            "%s is at schema version %d, newer than this build's %d", path, ver,
            CY_STORE_SCHEMA_VERSION);
    else if (ver < CY_STORE_SCHEMA_VERSION)
        say(d, COMITY_FINDING_NOTE, "store", "back it up first (comity backup); the next start"
            " migrates it", "%s is at schema version %d; this build writes %d", path, ver,
            CY_STORE_SCHEMA_VERSION);
    else
        say(d, COMITY_FINDING_OK, "store", NULL, "SQLite %s at schema version %d", path, ver);
    if (strcmp(check, "ok") != 0)
        say(d, COMITY_FINDING_PROBLEM, "store", "stop the node and restore the store from a"
            " backup (comity restore)", "%s fails SQLite's quick_check: %s", path, check);
    else
        say(d, COMITY_FINDING_OK, "store", NULL, "%s passes SQLite's quick_check", path);
    return ver == CY_STORE_SCHEMA_VERSION;
}

/* As check_sqlite: whether the schema is at this build's version. */
static bool check_pg(struct doc *d, const char *conninfo)
{
    cy_pg_facts f;
    comity_error e = {0};
    char todo[512];
    if (cy_pg_inspect(conninfo, "store", &f, &e)) {
        snprintf(todo, sizeof todo, "check that the server runs and that %s/%s names it", d->dir,
                 CY_NODE_STORE_FILE);
        say(d, COMITY_FINDING_PROBLEM, "store", todo, "%s", e.msg);
        return false;
    }
    if (f.in_recovery)
        say(d, COMITY_FINDING_PROBLEM, "store", "point the store at the primary, or list every"
            " server with target_session_attrs=read-write (docs/operations.md)",
            "the PostgreSQL server named is a standby (read-only)");
    if (!f.version)
        say(d, COMITY_FINDING_PROBLEM, "store", "check the search_path in the store's URI",
            "PostgreSQL schema '%s' holds no node", f.schema);
    else if (f.version > CY_STORE_PG_SCHEMA_VERSION)
        say(d, COMITY_FINDING_PROBLEM, "store", "run the comity that made it, or a newer one",
            "PostgreSQL schema '%s' is at version %d, newer than this build's %d", f.schema,
            f.version, CY_STORE_PG_SCHEMA_VERSION);
    else if (f.version < CY_STORE_PG_SCHEMA_VERSION)
        say(d, COMITY_FINDING_NOTE, "store", "back it up first (comity backup); the next start"
            " migrates it", "PostgreSQL schema '%s' is at version %d; this build writes %d",
            f.schema, f.version, CY_STORE_PG_SCHEMA_VERSION);
    else
        say(d, COMITY_FINDING_OK, "store", NULL,
            "PostgreSQL %s, schema '%s' at version %d, fsync on", f.server, f.schema, f.version);
    if (!f.sync_standbys[0])
        say(d, COMITY_FINDING_NOTE, "store", "for a hub: a synchronous standby"
            " (docs/operations.md, \"A standby\")",
            "no synchronous standby: what the node acknowledged lives on this server's disk only");
    else if (!f.standbys)
        say(d, COMITY_FINDING_PROBLEM, "store", "start the standby, or empty"
            " synchronous_standby_names to run alone",
            "synchronous_standby_names is '%s' but no standby streams: every commit waits",
            f.sync_standbys);
    else
        say(d, COMITY_FINDING_OK, "store", NULL, "%d standby(s) streaming (synchronous: %s)",
            f.standbys, f.sync_standbys);
    return f.version == CY_STORE_PG_SCHEMA_VERSION && !f.in_recovery;
}

struct answer {
    cy_buf b;
};

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    struct answer *a = ctx;
    return cy_buf_append(&a->b, p, size * n) == COMITY_OK ? size * n : 0;
}

/* One peer: reachable, its checkpoint under the pinned key, its clock. */
static void check_peer(struct doc *d, CURL *c, const char *origin, const char *url,
                       const char *vkey)
{
    char u[2200], todo[2600];
    snprintf(u, sizeof u, "%s%slog/checkpoint", url,
             url[0] && url[strlen(url) - 1] == '/' ? "" : "/");
    struct answer a;
    cy_buf_init(&a.b, DOCTOR_PEER_BODY_MAX);
    curl_easy_setopt(c, CURLOPT_URL, u);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
    struct timespec t0, t1;
    clock_gettime(CLOCK_REALTIME, &t0);
    CURLcode cc = curl_easy_perform(c);
    clock_gettime(CLOCK_REALTIME, &t1);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK || status != 200) {
        snprintf(todo, sizeof todo, "check the URL (comity peer list), the network and that %s"
                 " serves; its records wait meanwhile", origin);
        if (cc != CURLE_OK)
            say(d, COMITY_FINDING_WARN, "peers", todo, "%s at %s cannot be reached: %s", origin,
                u, curl_easy_strerror(cc));
        else
            say(d, COMITY_FINDING_WARN, "peers", todo, "%s answered %ld to %s", origin, status,
                u);
        cy_buf_free(&a.b);
        return;
    }
    comity_vkey *vk = NULL;
    comity_checkpoint cp;
    comity_error e = {0};
    if (comity_vkey_parse(vkey, strlen(vkey), &vk, &e) ||
        comity_checkpoint_verify((const char *)a.b.data, a.b.len,
                                 (const comity_vkey *const *)&vk, 1, &cp, &e)) {
        snprintf(todo, sizeof todo, "ask %s's operator whether its log key changed (a log"
                 " succession, docs/operations.md), and check the pinned URL", origin);
        say(d, COMITY_FINDING_PROBLEM, "peers", todo, "%s: its checkpoint at %s does not"
            " verify under the pinned log key: %s", origin, u, e.msg);
        comity_vkey_free(vk);
        cy_buf_free(&a.b);
        return;
    }
    comity_vkey_free(vk);
    cy_buf_free(&a.b);
    struct curl_header *h = NULL;
    time_t theirs = -1;
    if (curl_easy_header(c, "Date", 0, CURLH_HEADER, -1, &h) == CURLHE_OK)
        theirs = curl_getdate(h->value, NULL);
    if (theirs == (time_t)-1) {
        say(d, COMITY_FINDING_NOTE, "peers", "", "%s reachable, checkpoint of %llu entries"
            " verifies; no Date header to compare clocks with", origin,
            (unsigned long long)cp.size);
        return;
    }
    /* our time at the request's middle, to the second */
    double ours = ((double)t0.tv_sec + (double)t1.tv_sec) / 2 +
                  ((double)t0.tv_nsec + (double)t1.tv_nsec) / 2e9;
    long long skew = (long long)((double)theirs - ours + ((double)theirs >= ours ? 0.5 : -0.5));
    long long mag = skew < 0 ? -skew : skew;
    const char *clock_todo = "keep both clocks on NTP (systemd-timesyncd or chrony): deadlines"
                             " and a record's created time are judged on each node's clock";
    if (mag > DOCTOR_SKEW_PROBLEM_S)
        say(d, COMITY_FINDING_PROBLEM, "peers", clock_todo, "%s's clock is %+lld s from this"
            " machine's (more than %d s)", origin, skew, DOCTOR_SKEW_PROBLEM_S);
    else if (mag > DOCTOR_SKEW_WARN_S)
        say(d, COMITY_FINDING_WARN, "peers", clock_todo, "%s's clock is %+lld s from this"
            " machine's (more than %d s)", origin, skew, DOCTOR_SKEW_WARN_S);
    else
        say(d, COMITY_FINDING_OK, "peers", NULL, "%s reachable, checkpoint of %llu entries"
            " verifies, clock %+lld s from ours", origin, (unsigned long long)cp.size, skew);
}

/* Every pinned peer (see the top), read from the store at `loc`. */
static void check_peers(struct doc *d, const char *loc)
{
    comity_store *st = NULL;
    comity_error e = {0};
    char *text = NULL;
    if (comity_store_open(loc, &st, &e) || cy_sync_peer_list(st, &text, &e)) {
        say(d, COMITY_FINDING_WARN, "peers", "", "cannot list the peers: %s", e.msg);
        comity_store_close(st);
        return;
    }
    comity_store_close(st);
    json_t *v = json_loads(text, 0, NULL);
    cy_free(text);
    json_t *list = json_is_array(v) ? v : json_object_get(v, "peers");
    if (!json_array_size(list)) {
        say(d, COMITY_FINDING_NOTE, "peers", "", "no peer pinned (comity peer add)");
        json_decref(v);
        return;
    }
    CURL *c = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? curl_easy_init() : NULL;
    if (!c) {
        say(d, COMITY_FINDING_WARN, "peers", "", "cannot check the peers: libcurl failed");
        json_decref(v);
        curl_global_cleanup();
        return;
    }
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*"); /* as the pullers (src/sync/puller.c) */
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)DOCTOR_PEER_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "comity-doctor");
    size_t i;
    json_t *p;
    json_array_foreach(list, i, p) {
        const char *origin = json_string_value(json_object_get(p, "origin"));
        const char *url = json_string_value(json_object_get(p, "url"));
        const char *vkey = json_string_value(json_object_get(p, "log_vkey"));
        if (origin && url && vkey)
            check_peer(d, c, origin, url, vkey);
    }
    curl_easy_cleanup(c);
    curl_global_cleanup();
    json_decref(v);
}

static void check_log(struct doc *d, const comity_nkey *key)
{
    char p[4200], todo[4400];
    snprintf(p, sizeof p, "%s/log", d->dir);
    comity_vkey *vk = NULL;
    comity_error e = {0};
    const char *vt = comity_nkey_vkey(key);
    if (comity_vkey_parse(vt, strlen(vt), &vk, &e)) {
        say(d, COMITY_FINDING_PROBLEM, "log", NULL, "the node key's verifier: %s", e.msg);
        return;
    }
    comity_log_audit_report rep = {0};
    snprintf(todo, sizeof todo, "stop the node; restore %s from a backup (comity restore)", p);
    if (comity_log_audit(p, vk, &rep, &e))
        say(d, COMITY_FINDING_PROBLEM, "log", todo, "the log does not audit: %s", e.msg);
    else
        say(d, COMITY_FINDING_OK, "log", NULL,
            "%s audits clean: %llu entries, %llu tiles, checkpoint signed by the node's key", p,
            (unsigned long long)rep.size, (unsigned long long)rep.tiles);
    comity_vkey_free(vk);
    struct stat sb;
    snprintf(p, sizeof p, "%s/log/checkpoint", d->dir);
    if (stat(p, &sb) == 0)
        say(d, COMITY_FINDING_NOTE, "log", NULL,
            "checkpoint written %lld s ago (a serving node writes one at least every second"
            " while records come in)", (long long)(time(NULL) - sb.st_mtime));
}

static void check_witness(struct doc *d)
{
    char p[4200], kp[4200];
    snprintf(p, sizeof p, "%s/witness", d->dir);
    snprintf(kp, sizeof kp, "%s/witness.key", d->dir);
    struct stat sb;
    if (stat(p, &sb) != 0) {
        say(d, COMITY_FINDING_NOTE, "witness", NULL, "no witness state (%s): this node cosigns"
            " no peer's log", p);
        return;
    }
    comity_nkey *wk = NULL;
    comity_witness *w = NULL;
    comity_error e = {0};
    if (comity_nkey_load(kp, &wk, &e) || comity_witness_open(p, wk, &w, &e))
        say(d, e.code == COMITY_ERR_LOCKED ? COMITY_FINDING_NOTE : COMITY_FINDING_PROBLEM,
            "witness", e.code == COMITY_ERR_LOCKED ? "" : "restore DIR/witness and DIR/witness.key"
            " from a backup (comity restore)", "%s: %s", p, e.msg);
    else
        say(d, COMITY_FINDING_OK, "witness", NULL, "%s opens with %s", p, kp);
    comity_witness_free(w);
    comity_nkey_free(wk);
}

static void check_tls(struct doc *d)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/tls/cert.pem", d->dir);
    char *pem = NULL;
    size_t len = 0;
    comity_error e = {0};
    if (comity_read_file(p, 1u << 20, &pem, &len, &e)) {
        say(d, COMITY_FINDING_NOTE, "tls", "", "no certificate in %s (serve with --cert, or"
            " --insecure-http behind a proxy that does TLS)", p);
        return;
    }
    gnutls_x509_crt_t crt;
    gnutls_datum_t dat = {(unsigned char *)pem, (unsigned)len};
    time_t exp = (time_t)-1;
    if (gnutls_x509_crt_init(&crt) == 0) {
        if (gnutls_x509_crt_import(crt, &dat, GNUTLS_X509_FMT_PEM) == 0)
            exp = gnutls_x509_crt_get_expiration_time(crt);
        gnutls_x509_crt_deinit(crt);
    }
    cy_free(pem);
    if (exp == (time_t)-1) {
        say(d, COMITY_FINDING_PROBLEM, "tls", "replace it with a valid PEM certificate",
            "%s is not a certificate GnuTLS can read", p);
        return;
    }
    char when[32];
    struct tm tm;
    gmtime_r(&exp, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
    double days = difftime(exp, time(NULL)) / 86400.0;
    if (days < 0)
        say(d, COMITY_FINDING_PROBLEM, "tls", "renew it (or make a new one and give peers its"
            " fingerprint)", "%s expired on %s", p, when);
    else if (days < DOCTOR_CERT_WARN_DAYS)
        say(d, COMITY_FINDING_WARN, "tls", "renew it before then", "%s expires on %s, in %.0f"
            " days", p, when, days);
    else
        say(d, COMITY_FINDING_OK, "tls", NULL, "%s valid until %s", p, when);
}

static void check_disk(struct doc *d)
{
    struct statvfs vs;
    if (statvfs(d->dir, &vs) != 0) {
        say(d, COMITY_FINDING_WARN, "disk", NULL, "cannot read the free space of %s: %s", d->dir,
            strerror(errno));
        return;
    }
    unsigned long long avail = (unsigned long long)vs.f_bavail * vs.f_frsize;
    unsigned long long total = (unsigned long long)vs.f_blocks * vs.f_frsize;
    unsigned pct = total ? (unsigned)(avail * 100 / total) : 0;
    if (avail < DOCTOR_DISK_PROBLEM_BYTES)
        say(d, COMITY_FINDING_PROBLEM, "disk", "free space now: a full disk stops intake (503)",
            "%llu MiB free on %s's filesystem (%u%%)", avail >> 20, d->dir, pct);
    else if (avail < DOCTOR_DISK_WARN_BYTES || pct < DOCTOR_DISK_WARN_PERCENT)
        say(d, COMITY_FINDING_WARN, "disk", "free space or grow the filesystem soon",
            "%llu MiB free on %s's filesystem (%u%%)", avail >> 20, d->dir, pct);
    else
        say(d, COMITY_FINDING_OK, "disk", NULL, "%llu MiB free on %s's filesystem (%u%%)",
            avail >> 20, d->dir, pct);
}

comity_err comity_node_doctor(const char *dir, comity_finding_fn fn, void *ctx,
                              unsigned *problems, comity_error *err)
{
    struct doc d = {.dir = dir, .fn = fn, .ctx = ctx};
    *problems = 0;
    comity_err rc = comity_init(err);
    struct stat sb;
    if (rc)
        return rc;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return cy_fail(err, COMITY_ERR_NOTFOUND, "doctor: %s is not a directory", dir);
    check_dir(&d);
    /* keys, and the store's location (it may hold a password) */
    comity_nkey *key = NULL;
    char p[4200];
    snprintf(p, sizeof p, "%s/node.key", dir);
    comity_error e = {0};
    if (secret_file(&d, "node.key", false) && comity_nkey_load(p, &key, &e))
        say(&d, COMITY_FINDING_PROBLEM, "keys", "restore it from a backup (comity restore)",
            "%s", e.msg);
    secret_file(&d, "witness.key", true);
    secret_file(&d, "tls/key.pem", true);
    secret_file(&d, "retention.key", true);
    secret_file(&d, CY_NODE_STORE_FILE, true);
    /* the store */
    char loc[4096];
    if (cy_node_store_location(dir, NULL, loc, sizeof loc, &e))
        say(&d, COMITY_FINDING_PROBLEM, "store", "", "%s", e.msg);
    else if (cy_pg_conninfo(loc) ? check_pg(&d, cy_pg_conninfo(loc))
                                 : check_sqlite(&d, !strncmp(loc, "sqlite:", 7) ? loc + 7 : loc))
        check_peers(&d, loc);
    if (key)
        check_log(&d, key);
    comity_nkey_free(key);
    check_witness(&d);
    check_tls(&d);
    check_disk(&d);
    *problems = d.problems;
    return COMITY_OK;
}
