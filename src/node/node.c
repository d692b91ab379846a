/*
 * node.c: creating, opening and administering a node (no HTTP here).
 *
 * `comity init DIR` lays out the data directory (see comity.h), writes the
 * node's settings into the store's meta table, makes the node's signing key,
 * its transparency log (DIR/log, origin = --origin), its witness state and
 * cosigning key (DIR/witness, DIR/witness.key) and TLS certificate, creates the operator account and the default TAXII
 * collections (one per sharing level: public, community), and hands back
 * the operator's token, which is shown once and stored only as a hash.
 * Registering a party adds its principal row and its inbox collection, and
 * the shared collection of its state when that is the state's first party.
 *
 * Collection ids are name-based UUIDs of (origin, alias), so re-running a
 * step finds what it made before instead of duplicating it.
 */
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "node/node.h"

#define ORIGIN_MAX 127
#define TOKEN_BYTES 32

comity_err cy_token_new(char **token, char hash[CY_TOKEN_HASH_HEX], comity_error *err)
{
    uint8_t raw[TOKEN_BYTES];
    randombytes_buf(raw, sizeof raw);
    char *t = cy_b64_encode_alloc(raw, sizeof raw, CY_B64_URL_NOPAD);
    sodium_memzero(raw, sizeof raw);
    if (!t)
        return cy_fail(err, COMITY_ERR_NOMEM, "token: out of memory");
    cy_token_hash(t, strlen(t), hash);
    *token = t;
    return COMITY_OK;
}

void cy_token_hash(const char *token, size_t len, char hash[CY_TOKEN_HASH_HEX])
{
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const uint8_t *)token, len);
    cy_hex_encode(hash, h, sizeof h);
}

static comity_err origin_valid(const char *o, comity_error *err)
{
    size_t n = o ? strlen(o) : 0;
    if (n == 0 || n > ORIGIN_MAX)
        return cy_fail(err, COMITY_ERR_USAGE, "node: origin must be 1 to %d bytes", ORIGIN_MAX);
    for (size_t i = 0; i < n; i++)
        if (o[i] <= ' ' || o[i] > '~' || o[i] == '+')
            return cy_fail(err, COMITY_ERR_USAGE,
                           "node: origin has a space, '+' or non-ASCII byte at %zu", i);
    return COMITY_OK;
}

static comity_err path_join(char *out, size_t cap, const char *dir, const char *name,
                            comity_error *err)
{
    if ((size_t)snprintf(out, cap, "%s/%s", dir, name) >= cap)
        return cy_fail(err, COMITY_ERR_USAGE, "node: path too long: %s/%s", dir, name);
    return COMITY_OK;
}

static comity_err dir_prepare(const char *dir, comity_error *err)
{
    if (mkdir(dir, 0700) == 0)
        return COMITY_OK;
    if (errno != EEXIST)
        return cy_fail(err, COMITY_ERR_IO, "node: cannot create %s: %s", dir, strerror(errno));
    DIR *d = opendir(dir);
    if (!d)
        return cy_fail(err, COMITY_ERR_IO, "node: cannot open %s: %s", dir, strerror(errno));
    struct dirent *e;
    bool empty = true;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            empty = false;
    closedir(d);
    if (!empty)
        return cy_fail(err, COMITY_ERR_EXISTS, "node: %s exists and is not empty", dir);
    return COMITY_OK;
}

static comity_err add_collection(comity_store *st, const char *origin, const char *alias,
                                 const char *title, const char *desc, const char *read,
                                 const char *write, comity_error *err)
{
    cy_collection c;
    memset(&c, 0, sizeof c);
    cy_collection_id(origin, alias, c.id);
    snprintf(c.api_root, sizeof c.api_root, "%s", CY_API_ROOT_DEFAULT);
    snprintf(c.alias, sizeof c.alias, "%s", alias);
    snprintf(c.title, sizeof c.title, "%s", title);
    snprintf(c.description, sizeof c.description, "%s", desc);
    snprintf(c.read, sizeof c.read, "%s", read);
    snprintf(c.write, sizeof c.write, "%s", write);
    comity_err rc = cy_store_collection_add(st, &c, err);
    if (rc == COMITY_ERR_EXISTS) {
        cy_err_clear(err);
        return COMITY_OK;
    }
    return rc;
}

#define STORE_FILE CY_NODE_STORE_FILE
#define STORE_LOCATION_MAX 4096     /* its size cap */
comity_err cy_node_store_location(const char *dir, const char *given, char *out, size_t cap,
                                 comity_error *err)
{
    if (given) {
        if (!*given || strlen(given) >= cap || strchr(given, '\n'))
            return cy_fail(err, COMITY_ERR_USAGE, "node: --store wants one line of at most %zu"
                                                  " bytes", cap - 1);
        snprintf(out, cap, "%s", given);
        return COMITY_OK;
    }
    char file[4096];
    comity_err rc = path_join(file, sizeof file, dir, STORE_FILE, err);
    struct stat sb;
    if (rc || stat(file, &sb) != 0)
        return rc ? rc : path_join(out, cap, dir, "node.db", err);
    char *text = NULL;
    size_t len = 0;
    if ((rc = comity_read_file(file, STORE_LOCATION_MAX, &text, &len, err)))
        return rc;
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        text[--len] = '\0';
    if (!len || len >= cap)
        rc = cy_fail(err, COMITY_ERR_INVALID, "node: %s: no store location on its first line",
                     file);
    else
        snprintf(out, cap, "%s", text);
    cy_free_secret(text, len);
    return rc;
}

comity_err comity_node_init(const char *dir, const comity_node_init_opts *opts,
                            comity_node_created *out, comity_error *err)
{
    char path[4096];
    comity_store *st = NULL;
    char *cert = NULL, *key = NULL;
    comity_err rc;
    memset(out, 0, sizeof *out);
    if (!opts || (rc = origin_valid(opts->origin, err)))
        return opts ? rc : cy_fail(err, COMITY_ERR_USAGE, "node: no options");
    const char *opname = opts->operator_name ? opts->operator_name : "operator";
    if (!*opname || strlen(opname) > COMITY_PARTY_MAX || strchr(opname, ':'))
        return cy_fail(err, COMITY_ERR_USAGE, "node: operator name must be 1 to %d bytes, no ':'",
                       COMITY_PARTY_MAX);
    if ((rc = comity_init(err)) || (rc = dir_prepare(dir, err)))
        return rc;
    if ((rc = cy_node_store_location(dir, opts->store, path, sizeof path, err)) ||
        (rc = comity_store_open(path, &st, err)))
        goto done;
    char *held = NULL;
    if (cy_store_meta_get(st, "origin", &held, NULL) == COMITY_OK) {
        rc = cy_fail(err, COMITY_ERR_EXISTS, "node: the store given already holds the node %s",
                     held);
        cy_free(held);
        goto done;
    }
    if (opts->store && (rc = path_join(path, sizeof path, dir, STORE_FILE, err)))
        goto done;
    if (opts->store) {
        size_t sl = strlen(opts->store);
        char *line = cy_malloc(sl + 2);
        if (!line) {
            rc = cy_fail(err, COMITY_ERR_NOMEM, "node: out of memory");
            goto done;
        }
        memcpy(line, opts->store, sl);
        memcpy(line + sl, "\n", 2);
        rc = comity_write_file(path, line, sl + 1, 0600, 1, err);
        cy_free_secret(line, sl + 2);
        if (rc)
            goto done;
    }
    char now[CY_TIME_BUF];
    cy_time_format_ms(now, cy_now_ms());
    char title[CY_TITLE_MAX];
    snprintf(title, sizeof title, "comity node %s", opts->origin);
    if ((rc = cy_store_meta_set(st, "origin", opts->origin, err)) ||
        (rc = cy_store_meta_set(st, "api_root", CY_API_ROOT_DEFAULT, err)) ||
        (rc = cy_store_meta_set(st, "title", title, err)) ||
        (rc = cy_store_meta_set(st, "created", now, err)))
        goto done;

    /* the node's signed-note signing key, named after its origin */
    comity_nkey *nk = NULL;
    if ((rc = comity_nkey_generate(opts->origin, COMITY_NOTE_ED25519, &nk, err)))
        goto done;
    const char *text = comity_nkey_text(nk);
    if ((rc = path_join(path, sizeof path, dir, "node.key", err)) ||
        (rc = comity_write_file(path, text, strlen(text), 0600, 1, err)) ||
        (rc = cy_store_meta_set(st, "node_vkey", comity_nkey_vkey(nk), err))) {
        comity_nkey_free(nk);
        goto done;
    }
    out->node_vkey = cy_strdup(comity_nkey_vkey(nk));
    /* the node's transparency log, signed by the same key (whose path the
     * log remembers, absolute so that any working directory finds it) */
    char keypath[4096], absdir[PATH_MAX];
    if (!realpath(dir, absdir)) {
        rc = cy_fail(err, COMITY_ERR_IO, "node: cannot resolve %s: %s", dir, strerror(errno));
        comity_nkey_free(nk);
        goto done;
    }
    if ((rc = path_join(keypath, sizeof keypath, absdir, "node.key", err)) ||
        (rc = path_join(path, sizeof path, dir, "log", err)) ||
        (rc = comity_log_create(path, opts->origin, nk, keypath, err))) {
        comity_nkey_free(nk);
        goto done;
    }
    comity_nkey_free(nk);

    /* the node as a witness of its peers' logs: state in DIR/witness, a
     * cosigning key (type 0x04) named after the origin */
    comity_nkey *wk = NULL;
    if ((rc = comity_nkey_generate(opts->origin, COMITY_NOTE_COSIG_V1, &wk, err)))
        goto done;
    const char *wtext = comity_nkey_text(wk);
    if ((rc = path_join(path, sizeof path, dir, "witness.key", err)) ||
        (rc = comity_write_file(path, wtext, strlen(wtext), 0600, 1, err)) ||
        (rc = cy_store_meta_set(st, "witness_vkey", comity_nkey_vkey(wk), err)) ||
        (rc = path_join(path, sizeof path, dir, "witness", err)) ||
        (rc = comity_witness_create(path, err))) {
        comity_nkey_free(wk);
        goto done;
    }
    out->witness_vkey = cy_strdup(comity_nkey_vkey(wk));
    comity_nkey_free(wk);

    if (!opts->no_tls_cert) {
        if ((rc = path_join(path, sizeof path, dir, "tls", err)))
            goto done;
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            rc = cy_fail(err, COMITY_ERR_IO, "node: cannot create %s: %s", path, strerror(errno));
            goto done;
        }
        char pin[CY_FP_BUF];
        if ((rc = cy_tls_selfsigned(opts->origin, &cert, &key, out->cert_sha256, err)) ||
            (rc = cy_tls_pin(cert, pin, err)) ||
            (rc = path_join(path, sizeof path, dir, "tls/cert.pem", err)) ||
            (rc = comity_write_file(path, cert, strlen(cert), 0644, 1, err)) ||
            (rc = path_join(path, sizeof path, dir, "tls/key.pem", err)) ||
            (rc = comity_write_file(path, key, strlen(key), 0600, 1, err)))
            goto done;
        snprintf(out->tls_pin, sizeof out->tls_pin, "%.60s", pin); /* 52 bytes */
    }

    cy_principal op;
    memset(&op, 0, sizeof op);
    snprintf(op.name, sizeof op.name, "%s", opname);
    snprintf(op.kind, sizeof op.kind, "operator");
    op.created = cy_now_ms() * 1000;
    char hash[CY_TOKEN_HASH_HEX];
    if ((rc = cy_token_new(&out->operator_token, hash, err)) ||
        (rc = cy_store_principal_add(st, &op, hash, err)))
        goto done;
    if ((rc = add_collection(st, opts->origin, "public", "Public",
                             "TLP:CLEAR: readable by anyone, written by the operator",
                             "public", "operator", err)) ||
        (rc = add_collection(st, opts->origin, "community", "Community",
                             "TLP:GREEN: readable and writable by every registered party",
                             "parties", "parties", err)))
        goto done;
done:
    if (key)
        cy_free_secret(key, strlen(key));
    cy_free(cert);
    comity_store_close(st);
    if (rc) {
        comity_node_created_free(out);
    }
    return rc;
}

void comity_node_created_free(comity_node_created *c)
{
    if (!c)
        return;
    if (c->operator_token)
        cy_free_secret(c->operator_token, strlen(c->operator_token));
    cy_free(c->node_vkey);
    cy_free(c->witness_vkey);
    memset(c, 0, sizeof *c);
}

/* ---- configuration: the framework's deadlines ------------------------------------------------------------ */

int64_t cy_fw_duration(const char *s)
{
    int64_t ms;
    if (comity_duration_parse(s, &ms, NULL) || ms == 0)
        return -1;
    return ms;
}

/* "ACK/REPLY" into two durations; `where` names the source in messages. */
static comity_err parse_pair(const char *where, const char *v, int64_t *ack, int64_t *answer,
                             comity_error *err)
{
    const char *slash = strchr(v, '/');
    char a[32];
    if (!slash || (size_t)(slash - v) >= sizeof a)
        return cy_fail(err, COMITY_ERR_USAGE,
                       "%s: want ACK/REPLY durations like 1h/24h (units s, m, h, d), got '%.64s'",
                       where, v);
    memcpy(a, v, (size_t)(slash - v));
    a[slash - v] = 0;
    *ack = cy_fw_duration(a);
    *answer = cy_fw_duration(slash + 1);
    if (*ack < 0 || *answer < 0)
        return cy_fail(err, COMITY_ERR_USAGE,
                       "%s: '%.64s' is not a duration pair: each a number > 0 then s, m, h "
                       "or d (at most 3650d), like 1h/24h",
                       where, v);
    return COMITY_OK;
}

struct conf_ctx {
    cy_fw_table *t;
    comity_framework *check; /* a scratch handle: the library judges names */
};

/* "case_deadline.[PROFILE.]CLOCK = DURATION": the library's setter on the
 * scratch handle judges the names; kept in the table for every handle. */
static comity_err conf_case(struct conf_ctx *c, const char *key, const char *val,
                            const char *where, comity_error *err)
{
    cy_fw_table *t = c->t;
    if (t->ncases == CY_FW_CONF_CASES_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "%s: more than %d case_deadline lines", where,
                       CY_FW_CONF_CASES_MAX);
    cy_fw_conf_case *s = &t->cases[t->ncases];
    const char *name = key + strlen("case_deadline."), *dot = strchr(name, '.');
    size_t np = dot ? (size_t)(dot - name) : 0;
    const char *clock = dot ? dot + 1 : name;
    if (np >= sizeof s->profile || strlen(clock) >= sizeof s->clock)
        return cy_fail(err, COMITY_ERR_USAGE,
                       "%s: %.64s: want case_deadline.CLOCK or case_deadline.PROFILE.CLOCK",
                       where, key);
    memcpy(s->profile, name, np);
    s->profile[np] = 0;
    snprintf(s->clock, sizeof s->clock, "%s", clock);
    if ((s->ms = cy_fw_duration(val)) < 0)
        return cy_fail(err, COMITY_ERR_USAGE, "%s: %.64s: '%.64s' is not a duration (like 60d)",
                       where, key, val);
    comity_error e = {0};
    if (comity_framework_set_case_deadline(c->check, np ? s->profile : NULL, s->clock, s->ms,
                                           &e))
        return cy_fail(err, COMITY_ERR_USAGE, "%s: %s", where, e.msg);
    t->ncases++;
    return COMITY_OK;
}

/* "treaty.A.B = PROFILE": the instrument binding states A and B. */
static comity_err conf_treaty(struct conf_ctx *c, const char *key, const char *val,
                              const char *where, comity_error *err)
{
    cy_fw_table *t = c->t;
    if (t->ntreaties == CY_FW_CONF_TREATIES_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "%s: more than %d treaty lines", where,
                       CY_FW_CONF_TREATIES_MAX);
    cy_fw_conf_treaty *s = &t->treaties[t->ntreaties];
    const char *a = key + strlen("treaty."), *dot = strchr(a, '.');
    if (!dot || (size_t)(dot - a) > CY_FW_CONF_STATE_MAX || strlen(dot + 1) > CY_FW_CONF_STATE_MAX ||
        strlen(val) >= sizeof s->profile)
        return cy_fail(err, COMITY_ERR_USAGE,
                       "%s: %.64s: want treaty.A.B = PROFILE, A and B state codes of at most %d "
                       "bytes",
                       where, key, CY_FW_CONF_STATE_MAX);
    memcpy(s->a, a, (size_t)(dot - a));
    s->a[dot - a] = 0;
    snprintf(s->b, sizeof s->b, "%s", dot + 1);
    snprintf(s->profile, sizeof s->profile, "%s", val);
    comity_error e = {0};
    if (comity_framework_set_treaty(c->check, s->a, s->b, s->profile, &e))
        return cy_fail(err, COMITY_ERR_USAGE, "%s: %s", where, e.msg);
    t->ntreaties++;
    return COMITY_OK;
}

/* "retention.KIND = PERIOD" (the library judges both), "retention.author
 * = PARTY", "retention.key = PATH", "retention.every = DURATION". */
static comity_err conf_retention(struct conf_ctx *c, const char *key, const char *val,
                                 const char *where, comity_error *err)
{
    cy_fw_table *t = c->t;
    const char *k = key + strlen("retention.");
    if (!strcmp(k, "author")) {
        comity_error e = {0};
        if (strlen(val) >= sizeof t->custodian || !comity_party_valid(val, &e))
            return cy_fail(err, COMITY_ERR_USAGE, "%s: retention.author: '%.64s' is not a party "
                           "name", where, val);
        snprintf(t->custodian, sizeof t->custodian, "%s", val);
        return COMITY_OK;
    }
    if (!strcmp(k, "key")) {
        if (!*val || strlen(val) >= sizeof t->custodian_key)
            return cy_fail(err, COMITY_ERR_USAGE, "%s: retention.key: want a path of 1-%zu bytes",
                           where, sizeof t->custodian_key - 1);
        snprintf(t->custodian_key, sizeof t->custodian_key, "%s", val);
        return COMITY_OK;
    }
    if (!strcmp(k, "every")) {
        if ((t->retention_every_ms = cy_fw_duration(val)) < 0)
            return cy_fail(err, COMITY_ERR_USAGE,
                           "%s: retention.every '%.64s' is not a duration (like 1h)", where, val);
        return COMITY_OK;
    }
    for (size_t i = 0; i < CY_FW_CONF_KINDS; i++) {
        if (strcmp(k, cy_fw_retention_kinds[i]) != 0)
            continue;
        comity_error e = {0};
        if (strlen(val) >= sizeof t->retention[i] ||
            comity_framework_set_retention(c->check, k, val, &e))
            return cy_fail(err, COMITY_ERR_USAGE, "%s: %s", where,
                           e.msg[0] ? e.msg : "retention period too long");
        snprintf(t->retention[i], sizeof t->retention[i], "%s", val);
        return COMITY_OK;
    }
    return cy_fail(err, COMITY_ERR_USAGE,
                   "%s: %.64s: want retention.consultation, .preservation, .disclosure, .mla, "
                   ".emergency, .author, .key or .every", where, key);
}

static comity_err conf_setting(void *ctx, const char *key, const char *val, const char *where,
                               comity_error *err)
{
    struct conf_ctx *c = ctx;
    cy_fw_table *t = c->t;
    if (!strncmp(key, "deadline.", 9)) {
        const char *sev = key + 9;
        if (sev[0] < '0' || sev[0] > '5' || sev[1])
            return cy_fail(err, COMITY_ERR_USAGE, "%s: %.32s: the severity must be 0-5", where,
                           key);
        int k = sev[0] - '0';
        return parse_pair(where, val, &t->ack_ms[k], &t->answer_ms[k], err);
    }
    if (!strcmp(key, "ping_deadline") && (t->pong_ms = cy_fw_duration(val)) < 0)
        return cy_fail(err, COMITY_ERR_USAGE,
                       "%s: ping_deadline '%.64s' is not a duration (like 24h)", where, val);
    if (!strcmp(key, "created_ahead") && (t->created_ahead_ms = cy_fw_duration(val)) < 0)
        return cy_fail(err, COMITY_ERR_USAGE,
                       "%s: created_ahead '%.64s' is not a duration (like 5m)", where, val);
    if (!strcmp(key, "created_behind") && (t->created_behind_ms = cy_fw_duration(val)) < 0)
        return cy_fail(err, COMITY_ERR_USAGE,
                       "%s: created_behind '%.64s' is not a duration (like 10m)", where, val);
    if (!strncmp(key, "case_deadline.", 14))
        return conf_case(c, key, val, where, err);
    if (!strncmp(key, "treaty.", 7))
        return conf_treaty(c, key, val, where, err);
    if (!strncmp(key, "retention.", 10))
        return conf_retention(c, key, val, where, err);
    /* other keys belong to other parts of the node */
    return COMITY_OK;
}

comity_err cy_fw_conf_parse(const char *text, size_t len, cy_fw_table *t, comity_error *err)
{
    struct conf_ctx c = {.t = t};
    comity_err rc = comity_framework_new(&c.check, err);
    if (rc)
        return rc;
    rc = comity_conf_parse("node.conf", text, len, conf_setting, &c, err);
    comity_framework_free(c.check);
    return rc;
}

comity_err cy_node_read_conf(const comity_node *node,
                             comity_err (*parse)(const char *, size_t, void *, comity_error *),
                             void *ctx, comity_error *err)
{
    char path[4096];
    struct stat sb;
    if ((size_t)snprintf(path, sizeof path, "%s/node.conf", node->dir) >= sizeof path ||
        stat(path, &sb) != 0)
        return COMITY_OK;
    char *text = NULL;
    size_t len = 0;
    comity_err rc = comity_read_file(path, COMITY_CONF_MAX, &text, &len, err);
    if (rc)
        return cy_wrap(err, "node.conf");
    rc = parse(text, len, ctx, err);
    cy_free(text);
    return rc;
}

static comity_err fw_conf(const char *text, size_t len, void *t, comity_error *err)
{
    return cy_fw_conf_parse(text, len, t, err);
}

static comity_err read_opts(const comity_serve_opts *o, cy_fw_table *t, comity_error *err)
{
    for (int k = 0; k < 6; k++) {
        if (!o->deadline[k])
            continue;
        char where[32];
        snprintf(where, sizeof where, "--deadline %d", k);
        comity_err rc = parse_pair(where, o->deadline[k], &t->ack_ms[k], &t->answer_ms[k], err);
        if (rc)
            return rc;
    }
    if (o->ping_deadline && (t->pong_ms = cy_fw_duration(o->ping_deadline)) < 0)
        return cy_fail(err, COMITY_ERR_USAGE,
                       "--ping-deadline: '%.64s' is not a duration (a number > 0 then s, m, "
                       "h or d, like 24h)",
                       o->ping_deadline);
    return COMITY_OK;
}

comity_err cy_node_fw_table(const comity_node *node, const comity_serve_opts *o, cy_fw_table *t,
                            comity_error *err)
{
    memset(t, 0, sizeof *t);
    comity_err rc = cy_node_read_conf(node, fw_conf, t, err);
    if (!rc && t->custodian[0] && !t->custodian_key[0] &&
        (size_t)snprintf(t->custodian_key, sizeof t->custodian_key, "%s/retention.key",
                         node->dir) >= sizeof t->custodian_key)
        return cy_fail(err, COMITY_ERR_USAGE, "node: path too long: %s/retention.key", node->dir);
    return rc ? rc : read_opts(o, t, err);
}

/* ---- configuration: who may hold connections (conns.c) ------------------------------------------------ */

static comity_err conn_setting(void *ctx, const char *key, const char *val, const char *where,
                               comity_error *err)
{
    cy_conn_limits *l = ctx;
    if (!strcmp(key, "max_per_ip")) {
        char *end = NULL;
        unsigned long v = strtoul(val, &end, 10);
        if (end == val || *end || v == 0 || v > 100000 || val[0] == '-')
            return cy_fail(err, COMITY_ERR_USAGE,
                           "%s: max_per_ip '%.64s' is not a count of 1-100000", where, val);
        l->max_per_ip = (unsigned)v;
    } else if (!strcmp(key, "header_timeout")) {
        int64_t ms = cy_fw_duration(val);
        if (ms < 1000 || ms > (int64_t)CY_HEADER_TIMEOUT_MAX * 1000 || ms % 1000)
            return cy_fail(err, COMITY_ERR_USAGE,
                           "%s: header_timeout '%.64s' is not a duration of whole seconds "
                           "from 1s to 1h (like 20s)",
                           where, val);
        l->header_timeout_s = (unsigned)(ms / 1000);
    } else if (!strcmp(key, "allow_many")) {
        return cy_allow_parse(val, l, where, err);
    }
    /* other keys belong to other parts of the node */
    return COMITY_OK;
}

comity_err cy_conn_conf_parse(const char *text, size_t len, cy_conn_limits *l, comity_error *err)
{
    return comity_conf_parse("node.conf", text, len, conn_setting, l, err);
}

static comity_err conn_conf(const char *text, size_t len, void *l, comity_error *err)
{
    return cy_conn_conf_parse(text, len, l, err);
}

comity_err cy_node_conn_limits(const comity_node *node, const comity_serve_opts *o,
                               cy_conn_limits *l, comity_error *err)
{
    memset(l, 0, sizeof *l);
    comity_err rc = cy_node_read_conf(node, conn_conf, l, err);
    if (rc)
        return rc;
    if (o->max_per_ip)
        l->max_per_ip = o->max_per_ip;
    if (o->header_timeout_s) {
        if (o->header_timeout_s > CY_HEADER_TIMEOUT_MAX)
            return cy_fail(err, COMITY_ERR_USAGE, "--header-timeout: %u s is over the cap of %d",
                           o->header_timeout_s, CY_HEADER_TIMEOUT_MAX);
        l->header_timeout_s = o->header_timeout_s;
    }
    if (o->allow_many && (rc = cy_allow_parse(o->allow_many, l, "--allow-many", err)))
        return rc;
    if (!l->max_per_ip)
        l->max_per_ip = CY_PER_IP_DEFAULT;
    if (!l->header_timeout_s)
        l->header_timeout_s = CY_HEADER_TIMEOUT_DEFAULT;
    return COMITY_OK;
}

comity_err comity_node_open(const char *dir, comity_node **out, comity_error *err)
{
    char path[4096];
    comity_err rc;
    struct stat sb;
    if ((rc = comity_init(err)) || (rc = path_join(path, sizeof path, dir, "node.key", err)))
        return rc;
    if (stat(path, &sb) != 0)
        return cy_fail(err, COMITY_ERR_NOTFOUND, "node: no node in %s (run 'comity init %s')",
                       dir, dir);
    if ((rc = cy_node_store_location(dir, NULL, path, sizeof path, err)))
        return rc;
    comity_node *n = cy_calloc(1, sizeof *n);
    if (!n || !(n->dir = cy_strdup(dir))) {
        cy_free(n);
        return cy_fail(err, COMITY_ERR_NOMEM, "node: out of memory");
    }
    char *v = NULL;
    if ((rc = comity_store_open(path, &n->store, err)))
        goto fail;
    if ((rc = cy_store_meta_get(n->store, "origin", &v, err)))
        goto fail;
    snprintf(n->origin, sizeof n->origin, "%s", v);
    cy_free(v);
    v = NULL;
    if ((rc = cy_store_meta_get(n->store, "api_root", &v, err)))
        goto fail;
    snprintf(n->api_root, sizeof n->api_root, "%s", v);
    cy_free(v);
    v = NULL;
    if ((rc = cy_store_meta_get(n->store, "title", &v, err)))
        goto fail;
    snprintf(n->title, sizeof n->title, "%s", v);
    cy_free(v);
    v = NULL;
    size_t klen = 0;
    if ((rc = path_join(path, sizeof path, dir, "node.key", err)) ||
        (rc = comity_read_file(path, 4096, &v, &klen, err)) ||
        (rc = comity_nkey_parse(v, klen, &n->key, err))) {
        if (v)
            cy_free_secret(v, klen);
        goto fail;
    }
    cy_free_secret(v, klen);
    v = NULL;
    /* the witness, when this node has one */
    struct stat ws;
    if (path_join(path, sizeof path, dir, "witness.key", NULL) == COMITY_OK &&
        stat(path, &ws) == 0) {
        if ((rc = comity_read_file(path, 4096, &v, &klen, err)) ||
            (rc = comity_nkey_parse(v, klen, &n->wkey, err)) ||
            (rc = path_join(path, sizeof path, dir, "witness", err)) ||
            (rc = comity_witness_open(path, n->wkey, &n->witness, err))) {
            if (v)
                cy_free_secret(v, klen);
            goto fail;
        }
        cy_free_secret(v, klen);
    }
    *out = n;
    return COMITY_OK;
fail:
    cy_wrap(err, "opening node %s", dir);
    cy_node_free(n);
    return rc;
}

void cy_node_free(comity_node *node)
{
    if (!node)
        return;
    comity_store_close(node->store);
    comity_witness_free(node->witness);
    comity_nkey_free(node->wkey);
    comity_nkey_free(node->key);
    if (node->key_pem)
        cy_free_secret(node->key_pem, strlen(node->key_pem));
    cy_free(node->cert_pem);
    cy_free(node->web_dir);
    cy_free(node->dir);
    cy_free(node);
}

comity_err cy_node_party_check(const char *name, const char *vkey, const char *recipient,
                                comity_error *err)
{
    if (!comity_party_valid(name, err))
        return COMITY_ERR_INVALID;
    size_t nl = strlen(name);
    if (!vkey || strlen(vkey) >= CY_VKEY_MAX)
        return cy_fail(err, COMITY_ERR_INVALID, "party %s: verifier key missing or too long", name);
    if (!recipient || strlen(recipient) >= CY_RECIPIENT_MAX)
        return cy_fail(err, COMITY_ERR_INVALID, "party %s: age recipient missing or too long",
                       name);
    if (strncmp(vkey, name, nl) != 0 || vkey[nl] != '+')
        return cy_fail(err, COMITY_ERR_INVALID, "party %s: verifier key is not named '%s+...'",
                       name, name);
    comity_vkey *vk = NULL;
    if (comity_vkey_parse(vkey, strlen(vkey), &vk, err))
        return cy_wrap(err, "party %s: verifier key", name);
    bool named = strcmp(comity_vkey_name(vk), name) == 0;
    comity_vkey_free(vk);
    if (!named)
        return cy_fail(err, COMITY_ERR_INVALID, "party %s: verifier key is for another name", name);
    if (!comity_recipient_valid(recipient, err))
        return cy_wrap(err, "party %s: age recipient", name);
    return COMITY_OK;
}

comity_err comity_node_party_add(comity_node *node, const char *name, const char *vkey,
                                 const char *recipient, char **token, comity_error *err)
{
    comity_err rc;
    if ((rc = cy_node_party_check(name, vkey, recipient, err)))
        return rc;
    cy_principal p;
    memset(&p, 0, sizeof p);
    snprintf(p.name, sizeof p.name, "%s", name);
    snprintf(p.kind, sizeof p.kind, "party");
    snprintf(p.vkey, sizeof p.vkey, "%s", vkey);
    snprintf(p.recipient, sizeof p.recipient, "%s", recipient);
    p.created = cy_now_ms() * 1000;
    char hash[CY_TOKEN_HASH_HEX];
    char *tok = NULL;
    if ((rc = cy_token_new(&tok, hash, err)))
        return rc;
    if ((rc = cy_store_principal_add(node->store, &p, hash, err)))
        goto fail;
    char alias[CY_ACCESS_MAX], title[CY_TITLE_MAX], rule[CY_ACCESS_MAX];
    snprintf(alias, sizeof alias, "inbox.%s", name);
    snprintf(title, sizeof title, "Inbox of %s", name);
    snprintf(rule, sizeof rule, "party:%s", name);
    if ((rc = add_collection(node->store, node->origin, alias, title,
                             "TLP:AMBER for one party: read by it, written by any party", rule,
                             "parties", err)))
        goto fail;
    char state[COMITY_PARTY_MAX + 1];
    snprintf(state, sizeof state, "%.*s", (int)strcspn(name, "."), name);
    snprintf(alias, sizeof alias, "state.%s", state);
    snprintf(title, sizeof title, "State %s", state);
    snprintf(rule, sizeof rule, "state:%s", state);
    if ((rc = add_collection(node->store, node->origin, alias, title,
                             "shared among the offices of one state", rule, rule, err)))
        goto fail;
    *token = tok;
    return COMITY_OK;
fail:
    cy_free_secret(tok, strlen(tok));
    return rc;
}

comity_err comity_node_party_token(comity_node *node, const char *name, char **token,
                                   comity_error *err)
{
    char hash[CY_TOKEN_HASH_HEX];
    char *tok = NULL;
    comity_err rc = cy_token_new(&tok, hash, err);
    if (rc)
        return rc;
    if ((rc = cy_store_principal_set_token(node->store, name, hash, err))) {
        cy_free_secret(tok, strlen(tok));
        return rc;
    }
    *token = tok;
    return COMITY_OK;
}

/* Removing a party: its token hash is replaced by a value no token hashes
 * to (a SHA-256 hash is 64 hex digits; this starts "removed-"), so its
 * token stops working at once, also on a serving node (the principal
 * cache follows the store's principals_gen).  Its row, and so its
 * verifier key, stays: its records and their signatures stay valid, and
 * its name cannot be registered again for someone else.  `party token`
 * gives it a token again. */
comity_err comity_node_party_remove(comity_node *node, const char *name, comity_error *err)
{
    cy_principal p;
    comity_err rc = cy_store_principal_get(node->store, name, &p, NULL, err);
    if (rc)
        return rc;
    if (strcmp(p.kind, "party") != 0)
        return cy_fail(err, COMITY_ERR_USAGE,
                       "node: '%s' is the operator's account, not a party; replace its "
                       "token with `comity party token`",
                       name);
    bool already = false;
    return cy_sync_party_retire(node->store, name, &already, err);
}

static int list_one(const cy_principal *p, void *ctx)
{
    json_t *a = ctx;
    json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s}", "name", p->name, "kind", p->kind,
                                       "vkey", p->vkey, "recipient", p->recipient));
    return 0;
}

/* A principal's users' keys (the store's principal_users, written by the
 * roster: docs/federation.md, section 1), each under its principal's
 * entry in the list `a` as "users". */
static int list_user(const cy_principal_user *u, void *ctx)
{
    json_t *a = ctx;
    size_t i;
    json_t *p;
    json_array_foreach(a, i, p) {
        if (strcmp(json_string_value(json_object_get(p, "name")), u->principal))
            continue;
        json_t *us = json_object_get(p, "users");
        if (!us)
            json_object_set_new(p, "users", us = json_array());
        json_t *o = json_pack("{s:s, s:s}", "name", u->name, "vkey", u->vkey);
        char t[COMITY_TIME_BUF];
        if (u->valid_from_ms >= 0) {
            comity_time_format(t, u->valid_from_ms);
            json_object_set_new(o, "valid_from", json_string(t));
        }
        if (u->revoked_ms >= 0) {
            comity_time_format(t, u->revoked_ms);
            json_object_set_new(o, "revoked_at", json_string(t));
            json_object_set_new(o, "revoked", json_string(u->reason));
        }
        json_array_append_new(us, o);
        break;
    }
    return 0;
}

comity_err comity_node_party_list(comity_node *node, char **out, comity_error *err)
{
    json_t *a = json_array();
    if (!a)
        return cy_fail(err, COMITY_ERR_NOMEM, "node: out of memory");
    comity_err rc = cy_store_principal_list(node->store, list_one, a, err);
    if (rc == COMITY_OK)
        rc = cy_store_user_list(node->store, NULL, list_user, a, err);
    if (rc == COMITY_OK) {
        char *s = json_dumps(a, JSON_INDENT(2));
        *out = s ? cy_strdup(s) : NULL;
        free(s);
        if (!*out)
            rc = cy_fail(err, COMITY_ERR_NOMEM, "node: out of memory");
    }
    json_decref(a);
    return rc;
}
