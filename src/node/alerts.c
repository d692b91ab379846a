/*
 * alerts.c: e-mail alerts without content (docs/ui.md, "Alerts").
 *
 * Three parts:
 *
 *   choices   each party's choice (an address, and whether to be told of
 *             new items, of overdue ones, or both) in DIR/alerts.json,
 *             rewritten whole and atomically (comity_write_file: temporary
 *             file, fsync, rename, fsync of the directory) on every change,
 *             read when the node starts.  At most CY_ALERTS_MAX parties.
 *   endpoint  /v1/alerts: GET a party's choice, PUT it, DELETE it.  Only a
 *             party sets its own (the operator has no inbox); a browser
 *             session needs its CSRF token as for every write (serve.c).
 *   sender    one thread, started only when node.conf names a relay
 *             (smtp_url).  Every alerts_interval it asks the framework, for
 *             each party that chose alerts, how many items it must answer
 *             arrived since its last mark and how many fell due since then
 *             (cy_fw_awaiting: the index by party, under the framework's
 *             lock for well under a millisecond a party), and sends one
 *             mail to each party that has something it asked to be told of.
 *             A mail sent moves the party's marks on; a failure leaves them
 *             (so the next try still counts what it missed) and makes the
 *             thread wait, doubling from one interval up to
 *             CY_ALERTS_BACKOFF_MAX_MS, before it tries the relay again.
 *             The marks are kept in alerts.json with the choices, written
 *             after every round that moved one: a node that restarts counts
 *             from where it stopped, so what arrived or fell overdue while
 *             it was down is told in its first round, once (a crash between
 *             a mail and the write that follows it may tell it twice; never
 *             not at all).  A party opting in counts from that moment, and
 *             is told nothing of what was there before; a file written
 *             before marks were kept counts from the start, as then.
 *
 * What a mail says: a fixed subject and text naming only the node's URL
 * (public_url).  It carries nothing of a record: no type, id, sender,
 * state, severity, summary, and no count (mail_text() takes no record
 * argument at all).  The relay and anyone reading the mailbox learn only
 * that the party's node has something for it.
 *
 * Locks: `mu` guards the choices and the thread's flags.  The thread takes
 * mu to copy the choices, releases it, takes the framework's lock once per
 * party for the count, and holds no lock while it talks to the relay; so
 * intake (which takes the framework's lock per record) never waits for
 * mail, and a PUT waits at most for a copy of the table.  Stopping sets
 * `stop` under mu and signals the thread; a conversation in progress is cut
 * short by libcurl's progress callback, which reads the same flag.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "framework/framework.h"
#include "node/alerts.h"

struct choice {
    char party[COMITY_PARTY_MAX + 1];
    char email[CY_ALERT_EMAIL_MAX + 1];
    bool on_new, on_overdue;
    size_t seq;       /* the framework's message count at the last mark */
    int64_t due_from; /* items due from here on were not yet told of */
};

struct cy_alerts {
    pthread_mutex_t mu;
    pthread_cond_t cv;    /* CLOCK_MONOTONIC: the thread's wait */
    pthread_t thread;
    bool running;         /* the thread was started */
    bool curl;            /* curl_global_init was called (stop cleans up) */
    atomic_bool stop;
    comity_node *node;    /* borrowed */
    cy_smtp_conf conf;
    char path[4096];      /* DIR/alerts.json */
    struct choice *c;     /* [n], at most CY_ALERTS_MAX */
    size_t n, cap;
    unsigned fails;       /* relay failures in a row */
};

/* ---- configuration ---------------------------------------------------------- */

static bool printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
            return false;
    return true;
}

bool cy_alert_email_valid(const char *s)
{
    size_t len = s ? strlen(s) : 0;
    const char *at = len ? strrchr(s, '@') : NULL;
    if (len < 3 || len > CY_ALERT_EMAIL_MAX || !at || at == s || !at[1] || !printable(s) ||
        strpbrk(s, "\"'<>()[]\\,;:") || strchr(s, '@') != at)
        return false;
    for (const char *d = at + 1; *d; d++)
        if (!((*d >= 'a' && *d <= 'z') || (*d >= 'A' && *d <= 'Z') || (*d >= '0' && *d <= '9') ||
              *d == '-' || *d == '.'))
            return false;
    return at[1] != '.' && s[len - 1] != '.' && !strstr(at, "..");
}

static comity_err copy_setting(char *dst, size_t cap, const char *key, const char *val,
                               const char *where, comity_error *err)
{
    if (strlen(val) >= cap || !printable(val))
        return cy_fail(err, COMITY_ERR_USAGE,
                       "%s: %s: want at most %zu bytes of printable ASCII without spaces",
                       where, key, cap - 1);
    memcpy(dst, val, strlen(val) + 1);
    return COMITY_OK;
}

static comity_err smtp_setting(void *ctx, const char *key, const char *val, const char *where,
                               comity_error *err)
{
    cy_smtp_conf *c = ctx;
    comity_err rc = COMITY_OK;
    if (!strcmp(key, "smtp_url")) {
        if ((rc = copy_setting(c->url, sizeof c->url, key, val, where, err)))
            return rc;
        if (strncmp(val, "smtp://", 7) && strncmp(val, "smtps://", 8))
            return cy_fail(err, COMITY_ERR_USAGE,
                           "%s: smtp_url '%.64s': want smtp://HOST[:PORT] or smtps://HOST[:PORT]",
                           where, val);
    } else if (!strcmp(key, "smtp_from")) {
        if (!cy_alert_email_valid(val))
            return cy_fail(err, COMITY_ERR_USAGE, "%s: smtp_from '%.64s': want an e-mail address",
                           where, val);
        snprintf(c->from, sizeof c->from, "%s", val);
    } else if (!strcmp(key, "smtp_tls")) {
        if (!strcmp(val, "required"))
            c->tls = 0;
        else if (!strcmp(val, "try"))
            c->tls = 1;
        else if (!strcmp(val, "none"))
            c->tls = 2;
        else
            return cy_fail(err, COMITY_ERR_USAGE,
                           "%s: smtp_tls '%.64s': want required, try or none", where, val);
    } else if (!strcmp(key, "smtp_ca")) {
        rc = copy_setting(c->ca_file, sizeof c->ca_file, key, val, where, err);
    } else if (!strcmp(key, "smtp_user")) {
        rc = copy_setting(c->user, sizeof c->user, key, val, where, err);
    } else if (!strcmp(key, "smtp_password_file")) {
        rc = copy_setting(c->password_file, sizeof c->password_file, key, val, where, err);
    } else if (!strcmp(key, "public_url")) {
        if ((rc = copy_setting(c->public_url, sizeof c->public_url, key, val, where, err)))
            return rc;
        if (strncmp(val, "https://", 8) && strncmp(val, "http://", 7))
            return cy_fail(err, COMITY_ERR_USAGE,
                           "%s: public_url '%.64s': want the https:// URL people open", where,
                           val);
    } else if (!strcmp(key, "alerts_interval")) {
        int64_t ms;
        if (comity_duration_parse(val, &ms, NULL) || ms < 1000 || ms > 24 * 3600 * 1000LL)
            return cy_fail(err, COMITY_ERR_USAGE,
                           "%s: alerts_interval '%.64s': want a duration of 1s to 1d (like 5m)",
                           where, val);
        c->interval_ms = ms;
    }
    /* other keys belong to other parts of the node */
    return rc;
}

comity_err cy_smtp_conf_parse(const char *text, size_t len, cy_smtp_conf *c, comity_error *err)
{
    memset(c, 0, sizeof *c);
    c->interval_ms = CY_ALERTS_INTERVAL_MS;
    comity_err rc = comity_conf_parse("node.conf", text, len, smtp_setting, c, err);
    if (!rc && c->url[0] && !c->from[0])
        return cy_fail(err, COMITY_ERR_USAGE,
                       "node.conf: smtp_url is set but smtp_from is not (the sender address)");
    if (!rc && c->password_file[0] && !c->user[0])
        return cy_fail(err, COMITY_ERR_USAGE,
                       "node.conf: smtp_password_file is set but smtp_user is not");
    return rc;
}

static comity_err smtp_conf(const char *text, size_t len, void *c, comity_error *err)
{
    return cy_smtp_conf_parse(text, len, c, err);
}

/* ---- the choices and their file ------------------------------------------------ */

static struct choice *find(struct cy_alerts *a, const char *party)
{
    for (size_t i = 0; i < a->n; i++)
        if (!strcmp(a->c[i].party, party))
            return &a->c[i];
    return NULL;
}

/* The marks of a new choice: from now on (the framework's count, now). */
static void mark_now(struct cy_alerts *a, struct choice *c)
{
    size_t n_new, n_due;
    const comity_framework *fw = cy_fw_live_lock(a->node->fw);
    cy_fw_awaiting(fw, c->party, 0, 0, 0, &n_new, &n_due, &c->seq);
    cy_fw_live_unlock(a->node->fw);
    c->due_from = cy_now_ms();
}

/* Adds (or replaces) the choice of c->party; TOOBIG at the cap. */
static comity_err put_choice(struct cy_alerts *a, const struct choice *c, comity_error *err)
{
    struct choice *o = find(a, c->party);
    if (o) {
        *o = *c;
        return COMITY_OK;
    }
    if (a->n == CY_ALERTS_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG,
                       "alerts: %d parties have alerts on, the node's cap (CY_ALERTS_MAX)",
                       CY_ALERTS_MAX);
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 16;
        struct choice *p = cy_realloc(a->c, nc * sizeof *p);
        if (!p)
            return cy_fail(err, COMITY_ERR_NOMEM, "alerts: out of memory");
        a->c = p;
        a->cap = nc;
    }
    a->c[a->n++] = *c;
    return COMITY_OK;
}

/* Writes every choice to DIR/alerts.json (under mu). */
static comity_err save(struct cy_alerts *a, comity_error *err)
{
    json_t *parties = json_object(), *o = json_pack("{s:i, s:o}", "version", 1, "parties", parties);
    for (size_t i = 0; o && i < a->n; i++)
        if (json_object_set_new(parties, a->c[i].party,
                                json_pack("{s:s, s:b, s:b, s:I, s:I}", "email", a->c[i].email,
                                          "new", a->c[i].on_new, "overdue", a->c[i].on_overdue,
                                          "seq", (json_int_t)a->c[i].seq, "due_from",
                                          (json_int_t)a->c[i].due_from))) {
            json_decref(o);
            o = NULL;
        }
    char *text = o ? json_dumps(o, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    if (!text)
        return cy_fail(err, COMITY_ERR_NOMEM, "alerts: out of memory");
    comity_err rc = comity_write_file(a->path, text, strlen(text), 0600, 0, err);
    free(text);
    return rc ? cy_wrap(err, "alerts") : COMITY_OK;
}

/* Reads DIR/alerts.json when it exists: every choice checked as a PUT is. */
static comity_err load(struct cy_alerts *a, comity_error *err)
{
    struct stat sb;
    if (stat(a->path, &sb) != 0)
        return COMITY_OK;
    char *text = NULL;
    size_t len = 0;
    comity_err rc = comity_read_file(a->path, CY_ALERTS_FILE_MAX, &text, &len, err);
    if (rc)
        return cy_wrap(err, "alerts");
    json_error_t je;
    json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    cy_free(text);
    json_t *parties = json_object_get(o, "parties");
    const char *bad = !o ? "not JSON" : !json_is_object(parties) ? "no \"parties\" object" : NULL;
    const char *k;
    json_t *v;
    json_object_foreach(bad ? NULL : parties, k, v) {
        struct choice c = {0};
        const char *email = json_string_value(json_object_get(v, "email"));
        if (!comity_party_valid(k, NULL) || !cy_alert_email_valid(email) ||
            !json_is_boolean(json_object_get(v, "new")) ||
            !json_is_boolean(json_object_get(v, "overdue"))) {
            bad = "a party's entry is malformed";
            break;
        }
        snprintf(c.party, sizeof c.party, "%s", k);
        snprintf(c.email, sizeof c.email, "%s", email);
        c.on_new = json_is_true(json_object_get(v, "new"));
        c.on_overdue = json_is_true(json_object_get(v, "overdue"));
        /* the marks it had when the node stopped; a file without them
         * (written before they were kept) counts from now */
        json_t *seq = json_object_get(v, "seq"), *due = json_object_get(v, "due_from");
        if (json_is_integer(seq) && json_is_integer(due) && json_integer_value(seq) >= 0 &&
            json_integer_value(due) >= 0) {
            c.seq = (size_t)json_integer_value(seq);
            c.due_from = (int64_t)json_integer_value(due);
        } else if (seq || due) {
            bad = "a party's marks (seq, due_from) are malformed";
            break;
        } else {
            mark_now(a, &c);
        }
        if ((rc = put_choice(a, &c, err))) {
            json_decref(o);
            return cy_wrap(err, "%s", a->path);
        }
    }
    json_decref(o);
    if (bad)
        return cy_fail(err, COMITY_ERR_USAGE, "%s: %s (the node writes this file; fix or "
                                              "remove it)", a->path, bad);
    return COMITY_OK;
}

/* ---- one mail ------------------------------------------------------------------- */

/* The whole message to `to`: headers and text.  It takes no record, on
 * purpose: nothing of what awaits can get into it.  OUT: cy_free. */
static char *mail_text(const cy_smtp_conf *conf, const char *origin, const char *to)
{
    char date[64], id[33], url[CY_SMTP_URL_MAX + 1];
    time_t t = (time_t)(cy_now_ms() / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    uint8_t r[16];
    randombytes_buf(r, sizeof r);
    cy_hex_encode(id, r, sizeof r);
    if (conf->public_url[0])
        snprintf(url, sizeof url, "%s", conf->public_url);
    else
        snprintf(url, sizeof url, "https://%s/", origin);
    const char *host = strrchr(conf->from, '@') + 1;
    size_t cap = 2048 + 2 * sizeof url;
    char *m = cy_malloc(cap);
    if (m)
        snprintf(m, cap,
                 "Date: %s\r\n"
                 "From: <%s>\r\n"
                 "To: <%s>\r\n"
                 "Subject: Something awaits you on your comity node\r\n"
                 "Message-ID: <%s@%s>\r\n"
                 "Auto-Submitted: auto-generated\r\n"
                 "MIME-Version: 1.0\r\n"
                 "Content-Type: text/plain; charset=us-ascii\r\n"
                 "Content-Transfer-Encoding: 7bit\r\n"
                 "\r\n"
                 "Something awaits you on your comity node:\r\n"
                 "\r\n"
                 "    %s\r\n"
                 "\r\n"
                 "Log in there to see what it is. This mail says nothing more, on\r\n"
                 "purpose: what awaits you stays on the node.\r\n"
                 "\r\n"
                 "You get this mail because your party asked its node for e-mail\r\n"
                 "alerts. To stop them, open Alerts in the web UI, or run\r\n"
                 "`comity alerts off`.\r\n",
                 date, conf->from, to, id, host, url);
    return m;
}

struct upload {
    const char *p;
    size_t left;
};

static size_t read_cb(char *buf, size_t size, size_t n, void *ctx)
{
    struct upload *u = ctx;
    size_t k = size * n < u->left ? size * n : u->left;
    memcpy(buf, u->p, k);
    u->p += k;
    u->left -= k;
    return k;
}

/* Non-zero aborts the transfer: the node is stopping. */
static int progress_cb(void *ctx, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    (void)a, (void)b, (void)c, (void)d;
    return atomic_load(&((struct cy_alerts *)ctx)->stop) ? 1 : 0;
}

/* Sends one alert to `to` through the relay; false on any failure (said
 * on stderr, without the address: the log need not hold it). */
static bool send_mail(struct cy_alerts *a, const char *to)
{
    const cy_smtp_conf *conf = &a->conf;
    char *text = mail_text(conf, a->node->origin, to);
    CURL *c = text ? curl_easy_init() : NULL;
    char from[CY_ALERT_EMAIL_MAX + 3], rcpt[CY_ALERT_EMAIL_MAX + 3], password[512] = "";
    snprintf(from, sizeof from, "<%s>", conf->from);
    snprintf(rcpt, sizeof rcpt, "<%s>", to);
    struct curl_slist *rl = c ? curl_slist_append(NULL, rcpt) : NULL;
    bool ok = false;
    if (rl && conf->password_file[0]) {
        char *pw = NULL;
        size_t n = 0;
        if (comity_read_file(conf->password_file, sizeof password - 1, &pw, &n, NULL) ==
            COMITY_OK) {
            while (n && (pw[n - 1] == '\n' || pw[n - 1] == '\r'))
                n--;
            memcpy(password, pw, n);
            password[n] = 0;
            sodium_memzero(pw, n);
        }
        cy_free(pw);
    }
    if (rl) {
        struct upload u = {text, strlen(text)};
        char errbuf[CURL_ERROR_SIZE] = "";
        static const long ssl[] = {CURLUSESSL_ALL, CURLUSESSL_TRY, CURLUSESSL_NONE};
        curl_easy_setopt(c, CURLOPT_URL, conf->url);
        curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
        curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rl);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
        curl_easy_setopt(c, CURLOPT_READDATA, &u);
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_USE_SSL, ssl[conf->tls]);
        if (conf->ca_file[0])
            curl_easy_setopt(c, CURLOPT_CAINFO, conf->ca_file);
        if (conf->user[0]) {
            curl_easy_setopt(c, CURLOPT_USERNAME, conf->user);
            curl_easy_setopt(c, CURLOPT_PASSWORD, password);
        }
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)CY_SMTP_TIMEOUT_S);
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress_cb);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, a);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
        CURLcode rc = curl_easy_perform(c);
        ok = rc == CURLE_OK;
        if (!ok && !atomic_load(&a->stop))
            cy_log(CY_LOG_WARN, "alerts.relay_failed", (cy_log_kv[]){CY_KV_S("relay", conf->url)},
                   1, "alerts: the SMTP relay %s refused or failed: %s", conf->url,
                   errbuf[0] ? errbuf : curl_easy_strerror(rc));
    }
    sodium_memzero(password, sizeof password);
    curl_slist_free_all(rl);
    curl_easy_cleanup(c);
    cy_free(text);
    return ok;
}

/* ---- the sending thread ----------------------------------------------------------- */

/* One round: every party that has something it asked to hear of gets one
 * mail.  false when the relay failed (the round stops there). */
static bool round_once(struct cy_alerts *a)
{
    pthread_mutex_lock(&a->mu);
    size_t n = a->n;
    struct choice *cs = n ? cy_malloc(n * sizeof *cs) : NULL;
    if (cs)
        memcpy(cs, a->c, n * sizeof *cs);
    pthread_mutex_unlock(&a->mu);
    bool ok = true, moved = false;
    for (size_t i = 0; cs && i < n && ok && !atomic_load(&a->stop); i++) {
        struct choice *c = &cs[i];
        int64_t now = cy_now_ms();
        size_t n_new = 0, n_due = 0, seq = c->seq;
        const comity_framework *fw = cy_fw_live_lock(a->node->fw);
        cy_fw_awaiting(fw, c->party, c->seq, c->due_from, now, &n_new, &n_due, &seq);
        cy_fw_live_unlock(a->node->fw);
        if (seq < c->seq) /* the state was rebuilt shorter: count from its end */
            n_new = 0;
        bool tell = (c->on_new && n_new) || (c->on_overdue && n_due);
        if (tell && !(ok = send_mail(a, c->email)))
            break;
        /* told, or nothing to tell: the marks move on (unless the choice
         * changed meanwhile: then it keeps the marks it was given) */
        pthread_mutex_lock(&a->mu);
        struct choice *live = find(a, c->party);
        if (live && !strcmp(live->email, c->email) && live->seq == c->seq &&
            live->due_from == c->due_from) {
            moved = moved || live->seq != seq || live->due_from < now;
            live->seq = seq;
            live->due_from = now > c->due_from ? now : c->due_from;
        }
        pthread_mutex_unlock(&a->mu);
    }
    cy_free(cs);
    /* the marks kept, so that a restart neither repeats nor loses what
     * was told (a failure is said; the marks in memory stay right) */
    comity_error e = {0};
    pthread_mutex_lock(&a->mu);
    comity_err rc = moved ? save(a, &e) : COMITY_OK;
    pthread_mutex_unlock(&a->mu);
    if (rc)
        cy_log(CY_LOG_WARN, "alerts.marks_not_saved", NULL, 0,
               "alerts: the marks were not written: %s", e.msg);
    return ok;
}

static void *sender(void *arg)
{
    struct cy_alerts *a = arg;
    int64_t wait_ms = a->conf.interval_ms;
    for (;;) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += (time_t)(wait_ms / 1000);
        ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&a->mu);
        while (!atomic_load(&a->stop) && pthread_cond_timedwait(&a->cv, &a->mu, &ts) != ETIMEDOUT)
            ;
        pthread_mutex_unlock(&a->mu);
        if (atomic_load(&a->stop))
            break;
        if (round_once(a)) {
            a->fails = 0;
            wait_ms = a->conf.interval_ms;
        } else {
            /* the relay failed: wait one interval, then two, four... */
            a->fails++;
            wait_ms = a->conf.interval_ms;
            for (unsigned k = 1; k < a->fails && wait_ms < CY_ALERTS_BACKOFF_MAX_MS; k++)
                wait_ms *= 2;
            if (wait_ms > CY_ALERTS_BACKOFF_MAX_MS)
                wait_ms = CY_ALERTS_BACKOFF_MAX_MS;
        }
    }
    return NULL;
}

comity_err cy_alerts_start(comity_node *node, comity_error *err)
{
    struct cy_alerts *a = cy_calloc(1, sizeof *a);
    if (!a)
        return cy_fail(err, COMITY_ERR_NOMEM, "alerts: out of memory");
    a->node = node;
    comity_err rc = cy_node_read_conf(node, smtp_conf, &a->conf, err);
    if (!rc && !a->conf.interval_ms)
        a->conf.interval_ms = CY_ALERTS_INTERVAL_MS; /* no node.conf */
    if (!rc && (size_t)snprintf(a->path, sizeof a->path, "%s/alerts.json", node->dir) >=
                   sizeof a->path)
        rc = cy_fail(err, COMITY_ERR_USAGE, "alerts: the node's directory path is too long");
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, &ca);
    pthread_condattr_destroy(&ca);
    node->alerts = a;
    if (!rc)
        rc = load(a, err);
    if (!rc && a->conf.url[0]) {
        /* libcurl's global state, set up here on the starting thread (not
         * by curl_easy_init on the sender, which is not thread-safe) */
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            rc = cy_fail(err, COMITY_ERR_IO, "alerts: libcurl cannot start");
        else
            a->curl = true;
    }
    if (!rc && a->conf.url[0]) {
        if (pthread_create(&a->thread, NULL, sender, a) != 0)
            rc = cy_fail(err, COMITY_ERR_IO, "alerts: cannot start the sending thread");
        else
            a->running = true;
    }
    if (rc)
        cy_alerts_stop(node);
    return rc;
}

void cy_alerts_stop(comity_node *node)
{
    struct cy_alerts *a = node ? node->alerts : NULL;
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    atomic_store(&a->stop, true);
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    if (a->running)
        pthread_join(a->thread, NULL);
    if (a->curl)
        curl_global_cleanup();
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
    cy_free(a->c);
    cy_free(a);
    node->alerts = NULL;
}

/* ---- /v1/alerts ------------------------------------------------------------------ */

bool cy_alerts_owns(const cy_req *r)
{
    return r->nseg == 2 && !strcmp(r->segs[0], "v1") && !strcmp(r->segs[1], "alerts");
}

#define alert_error(r, w, status, title, ...) cy_resp_rule(r, w, status, title, "alerts", __VA_ARGS__)

/* The caller's choice as the API shows it (under mu). */
static json_t *choice_json(const struct cy_alerts *a, const char *party, const struct choice *c)
{
    char iv[32];
    snprintf(iv, sizeof iv, "%llds", (long long)(a->conf.interval_ms / 1000));
    return json_pack("{s:s, s:s?, s:b, s:b, s:b, s:s}", "party", party, "email",
                     c ? c->email : NULL, "new", c && c->on_new, "overdue", c && c->on_overdue,
                     "relay", a->conf.url[0] != 0, "interval", iv);
}

/* PUT's body: {"email": ADDRESS, "new": BOOL, "overdue": BOOL}, the two
 * booleans true when left out, at least one true.  0, or -1 with w set. */
static int parse_put(cy_req *r, cy_resp *w, struct choice *c)
{
    if (r->body_len > CY_ALERTS_BODY_MAX) {
        alert_error(r, w, 413, "too large", "the body is over %d bytes", CY_ALERTS_BODY_MAX);
        return -1;
    }
    json_error_t je;
    json_t *o = json_loadb((const char *)r->body, r->body_len, JSON_REJECT_DUPLICATES, &je);
    const char *k, *bad = NULL;
    json_t *v;
    if (!json_is_object(o))
        bad = "want a JSON object {\"email\", \"new\", \"overdue\"}";
    json_object_foreach(bad ? NULL : o, k, v) {
        if (!strcmp(k, "email") && cy_alert_email_valid(json_string_value(v)))
            snprintf(c->email, sizeof c->email, "%s", json_string_value(v));
        else if (!strcmp(k, "email"))
            bad = "email: want an address like name@ministry.example (printable ASCII, no "
                  "spaces, quotes, brackets, commas or semicolons, at most 254 bytes)";
        else if ((!strcmp(k, "new") || !strcmp(k, "overdue")) && !json_is_boolean(v))
            bad = "new and overdue: want true or false";
        else if (strcmp(k, "new") && strcmp(k, "overdue"))
            bad = "unknown field (email, new, overdue)";
        if (bad)
            break;
    }
    if (!bad && !c->email[0])
        bad = "email: missing";
    if (!bad) {
        json_t *nw = json_object_get(o, "new"), *od = json_object_get(o, "overdue");
        c->on_new = !nw || json_is_true(nw);
        c->on_overdue = !od || json_is_true(od);
        if (!c->on_new && !c->on_overdue)
            bad = "new and overdue are both false: to stop alerts, DELETE /v1/alerts";
    }
    json_decref(o);
    if (bad) {
        alert_error(r, w, 400, "bad request", "%s", bad);
        return -1;
    }
    return 0;
}

void cy_alerts_handle(cy_req *r, cy_resp *w)
{
    struct cy_alerts *a = r->node->alerts;
    bool get = !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD");
    bool put = !strcmp(r->method, "PUT"), del = !strcmp(r->method, "DELETE");
    if (!get && !put && !del) {
        w->allow = "GET, HEAD, PUT, DELETE";
        alert_error(r, w, 405, "method not allowed", "GET, PUT or DELETE your alerts");
        return;
    }
    if (r->anon) {
        alert_error(r, w, 401, "unauthorized", "log in as a party to set its alerts");
        return;
    }
    if (strcmp(r->who.kind, "party") != 0) {
        alert_error(r, w, 403, "forbidden",
                    "the operator has no inbox: a party sets its own alerts");
        return;
    }
    if (!a) {
        alert_error(r, w, 503, "not serving", "alerts are not running");
        return;
    }
    const char *party = r->who.name;
    struct choice c = {0};
    snprintf(c.party, sizeof c.party, "%s", party);
    if (put && parse_put(r, w, &c))
        return;
    if (put && !a->conf.url[0]) {
        alert_error(r, w, 409, "conflict",
                    "this node sends no e-mail: its operator has set no smtp_url in node.conf");
        return;
    }
    if (put)
        mark_now(a, &c); /* outside mu: the framework's lock is never taken under it */
    comity_error e = {0};
    comity_err rc = COMITY_OK;
    pthread_mutex_lock(&a->mu);
    if (put || del) {
        struct choice *old = find(a, party), keep = old ? *old : c;
        if (put) {
            rc = put_choice(a, &c, &e);
        } else if (old) {
            *old = a->c[--a->n];
        }
        if (!rc && (put || old) && (rc = save(a, &e))) {
            /* not written: the table goes back to what the file holds */
            if (put && old)
                *find(a, party) = keep;
            else if (put)
                a->n--;
            else if (a->n < a->cap)
                a->c[a->n++] = keep;
        }
    }
    json_t *v = rc ? NULL : choice_json(a, party, find(a, party));
    pthread_mutex_unlock(&a->mu);
    if (rc == COMITY_ERR_TOOBIG)
        alert_error(r, w, 503, "full", "%s", e.msg);
    else if (rc)
        alert_error(r, w, 500, "internal", "%s", e.msg);
    else if (!v)
        alert_error(r, w, 500, "internal", "out of memory");
    else
        cy_resp_json(r, w, 200, "application/json", v);
}
