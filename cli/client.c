/*
 * client.c: the shared client side of every command that talks to a node
 * (record post|get|receipt|list and the framework commands: directory,
 * notify, request, ack, reply, close, pong, ping, inbox, stats, timeline).
 *
 * Configuration comes from three places, the first that has a setting
 * wins: command-line flags (--url, --token, --key, --cacert, --insecure,
 * --keys), the environment (COMITY_URL, COMITY_TOKEN), and a config file
 * (--config FILE, else $COMITY_CONFIG, else ~/.config/comity/client.conf if
 * it exists) of "name = value" lines with '#' comments.  Relative paths in
 * the file are read from the file's folder.  HTTP goes through libcurl;
 * a refusal is printed with the node's rule and description.  Records are
 * built, checked against the framework schema before signing, signed with
 * the party's key (sealed for amber and red) and posted.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "client.h"

#define URL_MAX 4096

void cli_client_init(struct cli_client *cl, const char *cmd)
{
    memset(cl, 0, sizeof *cl);
    cl->cmd = cmd;
}

void cli_client_free(struct cli_client *cl)
{
    for (int i = 0; i < CLI_CF_N; i++)
        free(cl->val[i]);
    memset(cl->val, 0, sizeof cl->val);
}

int cli_client_option(struct cli_client *cl, int c, const char *arg)
{
    switch (c) {
    case CLI_OPT_URL: cl->flag[CLI_CF_URL] = arg; return 1;
    case CLI_OPT_TOKEN: cl->flag[CLI_CF_TOKEN] = arg; return 1;
    case CLI_OPT_KEY: cl->flag[CLI_CF_KEY] = arg; return 1;
    case CLI_OPT_CACERT: cl->flag[CLI_CF_CACERT] = arg; return 1;
    case CLI_OPT_INSECURE: cl->flag[CLI_CF_INSECURE] = "true"; return 1;
    case CLI_OPT_KEYS: cl->flag[CLI_CF_KEYS] = arg; return 1;
    case CLI_OPT_CONFIG: cl->config = arg; return 1;
    default: return 0;
    }
}

/* Reads a config file into cl->val (settings not set yet only). */
static int read_config(struct cli_client *cl, const char *path, int must_exist)
{
    if (!must_exist && access(path, F_OK) != 0)
        return CLI_OK;
    comity_error e = {0};
    char *text;
    size_t len;
    if (comity_read_file(path, CLI_CONFIG_MAX, &text, &len, &e)) {
        fprintf(stderr, "comity %s: config file: %s\n", cl->cmd, e.msg);
        return CLI_USAGE;
    }
    char msg[512];
    int rc = cli_config_parse(path, text, len, cl->val, msg, sizeof msg);
    free(text);
    if (rc == -1)
        fprintf(stderr, "comity %s: %s\n", cl->cmd, msg);
    return rc == 0 ? CLI_OK : rc == -1 ? CLI_USAGE : CLI_FAIL;
}

static int set_val(struct cli_client *cl, int k, const char *v)
{
    if (!v || cl->val[k])
        return CLI_OK;
    cl->val[k] = strdup(v);
    return cl->val[k] ? CLI_OK : CLI_FAIL;
}

int cli_client_setup(struct cli_client *cl, unsigned needs)
{
    int rc = CLI_OK;
    for (int i = 0; i < CLI_CF_N && !rc; i++)
        rc = set_val(cl, i, cl->flag[i]);
    if (!rc)
        rc = set_val(cl, CLI_CF_URL, getenv("COMITY_URL"));
    if (!rc)
        rc = set_val(cl, CLI_CF_TOKEN, getenv("COMITY_TOKEN"));
    if (rc)
        return rc;
    const char *env = getenv("COMITY_CONFIG");
    if (cl->config) {
        rc = read_config(cl, cl->config, 1);
    } else if (env && *env) {
        rc = read_config(cl, env, 1);
    } else {
        const char *home = getenv("HOME");
        if (home && *home) {
            char path[URL_MAX];
            snprintf(path, sizeof path, "%s/.config/comity/client.conf", home);
            rc = read_config(cl, path, 0);
        }
    }
    if (rc)
        return rc;
    cl->url = cl->val[CLI_CF_URL];
    cl->token = cl->val[CLI_CF_TOKEN];
    cl->key = cl->val[CLI_CF_KEY];
    cl->cacert = cl->val[CLI_CF_CACERT];
    cl->keys = cl->val[CLI_CF_KEYS];
    cl->insecure = cl->val[CLI_CF_INSECURE] && !strcmp(cl->val[CLI_CF_INSECURE], "true");
    if ((needs & CLI_NEED_URL) && !cl->url)
        return cli_usage(cl->cmd, "no node given: --url https://HOST:PORT, $COMITY_URL, or "
                                  "'url = ...' in the config file");
    if (cl->url && strncmp(cl->url, "https://", 8) && strncmp(cl->url, "http://", 7))
        return cli_usage(cl->cmd, "the url must start with https:// or http://");
    if ((needs & CLI_NEED_TOKEN) && !cl->token)
        return cli_usage(cl->cmd, "no token given: --token T, $COMITY_TOKEN, or 'token = ...' "
                                  "in the config file");
    if ((needs & CLI_NEED_KEY) && !cl->key)
        return cli_usage(cl->cmd, "no key given: --key FILE or 'key = FILE' in the config file");
    return CLI_OK;
}

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
    struct cli_resp *s = ctx;
    size_t k = size * n;
    if (s->len + k > CLI_RESP_MAX) {
        s->over = 1;
        return 0;
    }
    char *d = realloc(s->data, s->len + k + 1);
    if (!d)
        return 0;
    memcpy(d + s->len, p, k);
    s->len += k;
    d[s->len] = 0;
    s->data = d;
    return k;
}

int cli_client_http(const struct cli_client *cl, const char *method, const char *path,
                    const char *body, size_t body_len, struct cli_resp *r)
{
    memset(r, 0, sizeof *r);
    char url[URL_MAX];
    const char *base = cl->url;
    size_t bl = strlen(base);
    while (bl && base[bl - 1] == '/')
        bl--;
    if ((size_t)snprintf(url, sizeof url, "%.*s%s", (int)bl, base, path) >= sizeof url) {
        fprintf(stderr, "comity %s: URL too long\n", cl->cmd);
        return CLI_USAGE;
    }
    CURL *c = curl_easy_init();
    if (!c)
        return CLI_FAIL;
    struct curl_slist *h = NULL;
    char auth[600];
    if (cl->token) {
        snprintf(auth, sizeof auth, "Authorization: Token %s", cl->token);
        h = curl_slist_append(h, auth);
    }
    h = curl_slist_append(h, "Accept: application/json, text/plain");
    if (body)
        h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    if (cl->cacert)
        curl_easy_setopt(c, CURLOPT_CAINFO, cl->cacert);
    if (cl->insecure) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    else
        fprintf(stderr, "comity %s: %s %s: %s\n", cl->cmd, method, url,
                r->over ? "answer too large" : curl_easy_strerror(rc));
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        free(r->data);
        r->data = NULL;
        r->len = 0;
        return CLI_FAIL;
    }
    return CLI_OK;
}

int cli_client_answer(const struct cli_client *cl, const struct cli_resp *r)
{
    if (r->status >= 200 && r->status < 300)
        return CLI_OK;
    json_t *j = r->data ? json_loadb(r->data, r->len, 0, NULL) : NULL;
    const char *rule = json_string_value(json_object_get(j, "rule"));
    const char *desc = json_string_value(json_object_get(j, "description"));
    const char *err = json_string_value(json_object_get(j, "error"));
    if (desc || err)
        fprintf(stderr, "comity %s: the node refused (%ld%s%s): %s%s%s\n", cl->cmd, r->status,
                rule ? ", rule " : "", rule ? rule : "", err ? err : "",
                err && desc ? ": " : "", desc ? desc : "");
    if (!(desc || err) || cl->raw_errors)
        fprintf(stderr, "comity %s: the node answered %ld: %s\n", cl->cmd, r->status,
                r->data ? r->data : "");
    json_decref(j);
    return r->status >= 400 && r->status < 500 ? CLI_NO : CLI_FAIL;
}

int cli_client_get_json(const struct cli_client *cl, const char *path, json_t **out)
{
    struct cli_resp r;
    *out = NULL;
    int st = cli_client_http(cl, "GET", path, NULL, 0, &r);
    if (!st)
        st = cli_client_answer(cl, &r);
    if (!st) {
        json_error_t je;
        *out = json_loadb(r.data ? r.data : "", r.len, 0, &je);
        if (!*out) {
            fprintf(stderr, "comity %s: GET %s: the answer is not JSON: %s\n", cl->cmd, path,
                    je.text);
            st = CLI_FAIL;
        }
    }
    free(r.data);
    return st;
}

int cli_body_build(const char *cmd, const char *body_file, json_t *start,
                   const struct cli_list *sets, json_t **out)
{
    json_t *b = start;
    if (!b && body_file) {
        comity_error e = {0};
        char *text;
        size_t len;
        if (comity_read_file(body_file, COMITY_RECORD_MAX, &text, &len, &e))
            return cli_error(cmd, &e);
        json_error_t je;
        b = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
        free(text);
        if (!json_is_object(b)) {
            json_decref(b);
            return cli_usage(cmd, "--body %s: want a JSON object (line %d: %s)", body_file,
                             je.line, je.text);
        }
    } else if (!b && !(b = json_object())) {
        return CLI_FAIL;
    }
    for (size_t i = 0; i < sets->n; i++) {
        const char *eq = strchr(sets->v[i], '=');
        if (!eq || eq == sets->v[i]) {
            json_decref(b);
            return cli_usage(cmd, "--set %s: want FIELD=VALUE", sets->v[i]);
        }
        char *key = strndup(sets->v[i], (size_t)(eq - sets->v[i]));
        json_t *v = json_loads(eq + 1, JSON_DECODE_ANY, NULL);
        if (!v || json_is_string(v)) {
            json_decref(v);
            v = json_string(eq + 1);
        }
        if (!key || !v || json_object_set_new(b, key, v)) {
            free(key);
            json_decref(b);
            return CLI_FAIL;
        }
        free(key);
    }
    *out = b;
    return CLI_OK;
}

int cli_query_add(char **q, const char *key, const char *value)
{
    CURL *c = curl_easy_init();
    char *esc = c ? curl_easy_escape(c, value, 0) : NULL;
    size_t old = *q ? strlen(*q) : 0;
    size_t need = old + strlen(key) + (esc ? strlen(esc) : 0) + 3;
    char *nq = esc ? realloc(*q, need) : NULL;
    if (nq) {
        snprintf(nq + old, need - old, "%s%s=%s", old ? "&" : "", key, esc);
        *q = nq;
    }
    curl_free(esc);
    curl_easy_cleanup(c);
    return nq ? CLI_OK : CLI_FAIL;
}

int cli_sign(const char *what, const comity_key *key, comity_record_params *p,
             const struct cli_keys *keys, struct cli_list *seal, const char *body,
             size_t body_len, char **env, size_t *env_len)
{
    size_t nseal0 = seal->n;
    if (comity_tlp_sealed(p->tlp) && p->nto) {
        /* the recipients' age keys from --keys (a bare state: its offices) */
        const char **names = calloc(keys && keys->n ? keys->n : 1, sizeof *names);
        const char **rcpt = NULL;
        size_t nrcpt = 0;
        comity_error e = {0};
        for (size_t k = 0; names && keys && k < keys->n; k++)
            names[k] = comity_vkey_name(keys->vkeys[k]);
        if (!names) {
            fprintf(stderr, "comity %s: out of memory\n", what);
            return CLI_FAIL;
        }
        comity_err rc = comity_record_seal_recipients(
            p->to, p->nto, names, keys ? (const char *const *)keys->recipients : NULL,
            keys ? keys->n : 0, &rcpt, &nrcpt, &e);
        free(names);
        if (rc == COMITY_ERR_NOKEY) {
            fprintf(stderr, "comity %s: %s: give --keys FILE (or 'keys = FILE' in the "
                            "config) with a line for it, or --seal-to age1...\n", what, e.msg);
            return CLI_USAGE;
        }
        if (rc)
            return cli_error(what, &e);
        for (size_t i = 0; i < nrcpt; i++)
            cli_list_add(seal, (char *)rcpt[i]);
        comity_free(rcpt);
    }
    p->seal_to = (const char *const *)seal->v;
    p->nseal_to = seal->n;
    comity_error e = {0};
    int st = CLI_OK;
    if (comity_record_sign(key, p, body, body_len, env, env_len, &e)) {
        char ctx[64];
        snprintf(ctx, sizeof ctx, "%s: signing", what);
        st = cli_error(ctx, &e);
    }
    seal->n = nseal0;
    return st;
}

const char *cli_client_party(struct cli_client *cl)
{
    static char party[256];
    if (party[0])
        return party;
    if (!cl->key) {
        cli_usage(cl->cmd, "no key given: --key FILE or 'key = FILE' in the config file");
        return NULL;
    }
    comity_error e = {0};
    comity_key *k;
    if (comity_key_load(cl->key, &k, &e)) {
        cli_error(cl->cmd, &e);
        return NULL;
    }
    snprintf(party, sizeof party, "%s", comity_key_party(k));
    comity_key_free(k);
    return party;
}

int cli_client_send(struct cli_client *cl, const struct cli_msg *m, json_t *body, char **id)
{
    if (id)
        *id = NULL;
    char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(body);
    if (!text)
        return CLI_FAIL;
    size_t len = strlen(text);
    comity_error e = {0};
    struct cli_keys keys = {0};
    struct cli_list seal = {0};
    comity_key *k = NULL;
    char *env = NULL;
    size_t env_len = 0;
    struct cli_resp r = {0};
    int st;
    if (comity_framework_check_body(m->type, text, len, &e)) {
        st = cli_error(cl->cmd, &e);
        goto out;
    }
    if (!m->key && comity_key_load(cl->key, &k, &e)) {
        st = cli_error(cl->cmd, &e);
        goto out;
    }
    if (cl->keys && (st = cli_keys_add(&keys, cl->keys)))
        goto out;
    comity_record_params p = {0};
    p.type = m->type;
    p.tlp = m->tlp ? m->tlp : "green";
    p.to = m->to, p.nto = m->nto;
    p.refs = m->refs, p.nrefs = m->nrefs;
    if ((st = cli_sign(cl->cmd, m->key ? m->key : k, &p, &keys, &seal, text, len, &env,
                       &env_len)))
        goto out;
    if ((st = cli_client_http(cl, "POST", "/v1/records", env, env_len, &r)) ||
        (st = cli_client_answer(cl, &r)))
        goto out;
    json_t *a = json_loadb(r.data ? r.data : "", r.len, 0, NULL);
    const char *rid = json_string_value(json_object_get(a, "id"));
    json_t *idx = json_object_get(a, "log_index");
    if (!rid || !json_is_integer(idx)) {
        fprintf(stderr, "comity %s: the node's answer has no id and log_index: %s\n", cl->cmd,
                r.data ? r.data : "");
        st = CLI_FAIL;
    } else {
        if (!m->quiet)
            printf("%s log_index %lld%s\n", rid, (long long)json_integer_value(idx),
                   json_is_true(json_object_get(a, "existed")) ? " (posted before)" : "");
        if (id)
            *id = strdup(rid);
    }
    json_decref(a);
out:
    free(r.data);
    comity_free(env);
    comity_key_free(k);
    cli_keys_free(&keys);
    cli_list_free(&seal);
    free(text);
    return st;
}

int cli_id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > 128)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= '0' && id[i] <= '9') || id[i] == '-'))
            return 0;
    return 1;
}

/* ---- time ---------------------------------------------------------------- */

int cli_duration_parse(const char *s, int64_t *ms)
{
    return comity_duration_parse(s, ms, NULL) ? -1 : 0;
}

int cli_time_arg(const char *s, char out[32], comity_error *err)
{
    int64_t ms;
    if (!strcmp(s, "now")) {
        comity_time_format(out, comity_now_ms());
        return 0;
    }
    if (s[0] == '+' || s[0] == '-') {
        if (comity_duration_parse(s + 1, &ms, NULL)) {
            /* "+026-01-01T..." is a signed year, not a duration: say so */
            if (strchr(s, ':') || strchr(s, 'T'))
                (void)comity_time_parse(s, &ms, err);
            else
                (void)comity_duration_parse(s + 1, &ms, err);
            return -1;
        }
        comity_time_format(out, comity_now_ms() + (s[0] == '+' ? ms : -ms));
        return 0;
    }
    if (comity_time_parse(s, &ms, err))
        return -1;
    snprintf(out, 32, "%s", s);
    return 0;
}

void cli_duration_format(char out[32], int64_t ms)
{
    const char *sign = "";
    if (ms < 0) {
        sign = "-";
        ms = -ms;
    }
    int64_t s = ms / 1000;
    if (s < 60)
        snprintf(out, 32, "%s%llds", sign, (long long)s);
    else if (s < 3600)
        snprintf(out, 32, "%s%lldm%02llds", sign, (long long)(s / 60), (long long)(s % 60));
    else if (s < 86400)
        snprintf(out, 32, "%s%lldh%02lldm", sign, (long long)(s / 3600),
                 (long long)(s / 60 % 60));
    else
        snprintf(out, 32, "%s%lldd%02lldh", sign, (long long)(s / 86400),
                 (long long)(s / 3600 % 24));
}

/* ---- arguments and bodies ------------------------------------------------ */

int cli_client_args(struct cli_client *cl, int argc, char **argv, const struct option *extra,
                    int (*on)(void *ctx, int c, const char *arg), void *ctx)
{
    static const struct option base[] = {CLI_CLIENT_OPTIONS};
    size_t nb = sizeof base / sizeof base[0], ne = 0;
    while (extra && extra[ne].name)
        ne++;
    struct option *all = calloc(nb + ne + 1, sizeof *all);
    if (!all)
        return CLI_FAIL;
    memcpy(all, base, sizeof base);
    if (ne)
        memcpy(all + nb, extra, ne * sizeof *all);
    int c, st = CLI_OK;
    optind = 1;
    opterr = 0;
    while (!st && (c = getopt_long(argc, argv, ":", all, NULL)) != -1) {
        if (cli_client_option(cl, c, optarg))
            continue;
        if (c == '?' || c == ':')
            st = cli_usage(cl->cmd, "unknown option or missing value: %s",
                           argv[optind - 1 > 0 ? optind - 1 : 1]);
        else
            st = on(ctx, c, optarg);
    }
    free(all);
    return st;
}

void cli_json_str(json_t *body, const char *key, const char *v)
{
    if (v)
        json_object_set_new(body, key, json_string(v));
}

void cli_json_int(json_t *body, const char *key, const char *v)
{
    if (!v)
        return;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (*v && !*end && !errno && !isspace((unsigned char)*v))
        json_object_set_new(body, key, json_integer(n));
    else
        json_object_set_new(body, key, json_string(v));
}

int cli_json_time(struct cli_client *cl, json_t *body, const char *key, const char *opt,
                  const char *v)
{
    char t[32];
    if (!v)
        return CLI_OK;
    comity_error e = {0};
    if (cli_time_arg(v, t, &e))
        return cli_usage(cl->cmd, "%s wants a time: RFC 3339 (2026-11-24T09:00:00Z), now, or "
                                  "+DURATION from now (+4h, +2d): %s", opt, e.msg);
    json_object_set_new(body, key, json_string(t));
    return CLI_OK;
}

/* Frees a list of strings this file copied, and the list. */
static void answer_recips_free(struct cli_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    cli_list_free(l);
}

int cli_client_answer_msg(struct cli_client *cl, const char *type, const char *id,
                          const char *tlp, const char *to, json_t *body)
{
    if (!cli_id_ok(id)) {
        json_decref(body);
        return cli_usage(cl->cmd, "'%s' is not a record id (<type>--<uuid>)", id);
    }
    char path[256], author[256] = "", mtlp[32] = "";
    /* the answerer, loaded once (it signs the answer): when it is the
     * message's author (a close), the answer goes to the message's
     * recipients, so that it reaches their nodes */
    if (!cl->key) {
        json_decref(body);
        return cli_usage(cl->cmd, "no key given: --key FILE or 'key = FILE' in the config file");
    }
    comity_key *k = NULL;
    comity_error ke = {0};
    if (comity_key_load(cl->key, &k, &ke)) {
        json_decref(body);
        return cli_error(cl->cmd, &ke);
    }
    const char *self = comity_key_party(k);
    snprintf(path, sizeof path, "/v1/records/%s", id);
    struct cli_resp r;
    struct cli_list recips = {0};
    /* who sent it and how it was shared: the answer goes back the same way */
    int st = cli_client_http(cl, "GET", path, NULL, 0, &r);
    if (st == CLI_OK && r.status == 200) {
        comity_record *rec;
        comity_error e = {0};
        if (comity_record_parse(r.data, r.len, &rec, &e) == COMITY_OK) {
            snprintf(author, sizeof author, "%s", comity_record_author(rec));
            snprintf(mtlp, sizeof mtlp, "%s", comity_record_tlp(rec));
            for (size_t i = 0; !strcmp(author, self) &&
                               i < comity_record_to_count(rec) && st == CLI_OK; i++)
            {
                char *dup = strdup(comity_record_to(rec, i));
                if (!dup || cli_list_add(&recips, dup)) {
                    free(dup);
                    st = CLI_FAIL;
                }
            }
            comity_record_free(rec);
        }
    }
    long status = r.status;
    free(r.data);
    if (st) {
        json_decref(body);
        answer_recips_free(&recips);
        comity_key_free(k);
        return st;
    }
    if (!mtlp[0] && !tlp) {
        /* never guess how to share an answer to a message we cannot read */
        json_decref(body);
        answer_recips_free(&recips);
        comity_key_free(k);
        fprintf(stderr, "comity %s: cannot read %s on the node (HTTP %ld), so the answer "
                        "cannot follow its sharing level: give --tlp LEVEL (and --to AUTHOR "
                        "for amber or red)\n", cl->cmd, id, status);
        return CLI_USAGE;
    }
    if (to)
        snprintf(author, sizeof author, "%s", to);
    const char *tov[1] = {author};
    const char *refs[1] = {id};
    struct cli_msg m = {.type = type, .tlp = tlp ? tlp : mtlp, .to = tov,
                        .nto = author[0] ? 1 : 0, .refs = refs, .nrefs = 1, .key = k};
    if (!to && recips.n) {
        m.to = (const char *const *)recips.v;
        m.nto = recips.n;
    }
    st = cli_client_send(cl, &m, body, NULL);
    answer_recips_free(&recips);
    comity_key_free(k);
    return st;
}

int cli_json_file(struct cli_client *cl, json_t *body, const char *key, const char *opt,
                  const char *path)
{
    comity_error e = {0};
    char *text;
    size_t len;
    if (comity_read_file(path, COMITY_RECORD_MAX, &text, &len, &e)) {
        fprintf(stderr, "comity %s: %s: %s\n", cl->cmd, opt, e.msg);
        return CLI_USAGE;
    }
    json_error_t je;
    json_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    free(text);
    if (!v) {
        fprintf(stderr, "comity %s: %s %s: not JSON: line %d: %s\n", cl->cmd, opt, path,
                je.line, je.text);
        return CLI_USAGE;
    }
    json_object_set_new(body, key, v);
    return CLI_OK;
}

struct message {
    struct cli_client *cl;
    struct cli_message_flags f;
    const char *text[CLI_FIELDS_MAX];
};

static int message_opt(void *ctx, int c, const char *arg)
{
    struct message *m = ctx;
    struct cli_message_flags *f = &m->f;
    switch (c) {
    case CLI_OPT_TO: return cli_list_add(&f->to, (char *)arg) ? CLI_FAIL : CLI_OK;
    case CLI_OPT_SEVERITY: f->severity = arg; break;
    case CLI_OPT_SECTOR: f->sector = arg; break;
    case CLI_OPT_INDICATORS: f->indicators = arg; break;
    case CLI_OPT_RESPOND_BY: f->respond_by = arg; break;
    case CLI_OPT_TLP: f->tlp = arg; break;
    case CLI_OPT_CASE: f->kase = arg; break;
    default:
        if (c < 1 || c > CLI_FIELDS_MAX)
            return cli_usage(m->cl->cmd, "unknown option");
        m->text[c - 1] = arg;
    }
    return CLI_OK;
}

/* Sets up the client and puts the shared fields into body. */
static int message_body(struct cli_client *cl, const struct cli_message_flags *f, json_t *body)
{
    if (f->to.n == 0)
        return cli_usage(cl->cmd, "say to whom: --to STATE or --to PARTY (repeatable)");
    int st = cli_client_setup(cl, CLI_NEED_URL | CLI_NEED_TOKEN | CLI_NEED_KEY);
    if (st)
        return st;
    cli_json_int(body, "severity", f->severity);
    cli_json_str(body, "sector", f->sector);
    if (f->indicators &&
        (st = cli_json_file(cl, body, "indicators", "--indicators", f->indicators)))
        return st;
    if ((st = cli_json_time(cl, body, "respond_by", "--respond-by", f->respond_by)))
        return st;
    cli_json_str(body, "case", f->kase);
    return CLI_OK;
}

int cli_message_command(int argc, char **argv, const char *cmd, const char *type,
                        const struct cli_field *fields)
{
    static const struct option shared[] = {CLI_MESSAGE_OPTIONS};
    size_t ns = sizeof shared / sizeof shared[0], nf = 0;
    struct option opts[sizeof shared / sizeof shared[0] + CLI_FIELDS_MAX + 1];
    memset(opts, 0, sizeof opts);
    memcpy(opts, shared, sizeof shared);
    for (; nf < CLI_FIELDS_MAX && fields[nf].option; nf++)
        opts[ns + nf] = (struct option){fields[nf].option, required_argument, 0, (int)nf + 1};
    struct cli_client cl;
    cli_client_init(&cl, cmd);
    struct message m = {.cl = &cl};
    json_t *body = json_object();
    int st = cli_client_args(&cl, argc, argv, opts, message_opt, &m);
    if (!st && optind != argc)
        st = cli_usage(cmd, "unexpected argument '%s'", argv[optind]);
    if (!st)
        st = message_body(&cl, &m.f, body);
    if (!st) {
        for (size_t i = 0; i < nf; i++)
            cli_json_str(body, fields[i].key, m.text[i]);
        struct cli_msg msg = {.type = type, .tlp = m.f.tlp,
                              .to = (const char *const *)m.f.to.v, .nto = m.f.to.n};
        st = cli_client_send(&cl, &msg, body, NULL);
        body = NULL;
    }
    json_decref(body);
    cli_list_free(&m.f.to);
    cli_client_free(&cl);
    return cli_finish(st);
}

struct answer_flags {
    struct cli_client *cl;
    const char *text, *tlp, *to;
};

static int answer_opt(void *ctx, int c, const char *arg)
{
    struct answer_flags *a = ctx;
    if (c == 'x')
        a->text = arg;
    else if (c == 'l')
        a->tlp = arg;
    else if (c == 'T')
        a->to = arg;
    else
        return cli_usage(a->cl->cmd, "unknown option");
    return CLI_OK;
}

int cli_answer_command(int argc, char **argv, const char *cmd, const char *type,
                       const char *opt)
{
    const struct option opts[] = {{opt, required_argument, 0, 'x'},
                                  {"tlp", required_argument, 0, 'l'},
                                  {"to", required_argument, 0, 'T'},
                                  {0, 0, 0, 0}};
    struct cli_client cl;
    cli_client_init(&cl, cmd);
    struct answer_flags a = {.cl = &cl};
    int st = cli_client_args(&cl, argc, argv, opts, answer_opt, &a);
    if (!st && argc - optind != 1)
        st = cli_usage(cmd, "want one message id: comity %s ID", cmd);
    if (!st)
        st = cli_client_setup(&cl, CLI_NEED_URL | CLI_NEED_TOKEN | CLI_NEED_KEY);
    if (!st) {
        json_t *body = json_object();
        cli_json_str(body, opt, a.text);
        st = cli_client_answer_msg(&cl, type, argv[optind], a.tlp, a.to, body);
    }
    cli_client_free(&cl);
    return cli_finish(st);
}
