/*
 * client.h: what the commands that talk to a node share (client.c): the
 * client configuration (flags, environment, config file), HTTP over
 * libcurl, refusals, and signing a record (sealed when amber or red) and
 * posting it.  Private to cli/.
 */
#ifndef COMITY_CLI_CLIENT_H
#define COMITY_CLI_CLIENT_H

#include <getopt.h>
#include <stdint.h>

#include <jansson.h>

#include "cli.h"
#include "config.h"
#include "keys.h"

#define CLI_RESP_MAX (64u << 20)   /* bytes of a node's answer */

/* getopt_long codes of the client options (above any short option). */
enum {
    CLI_OPT_URL = 0x1000,
    CLI_OPT_TOKEN,
    CLI_OPT_KEY,
    CLI_OPT_CACERT,
    CLI_OPT_INSECURE,
    CLI_OPT_KEYS,
    CLI_OPT_CONFIG
};

/* Put this inside a command's struct option table. */
#define CLI_CLIENT_OPTIONS                                                              \
    {"url", required_argument, 0, CLI_OPT_URL},                                         \
        {"token", required_argument, 0, CLI_OPT_TOKEN},                                 \
        {"key", required_argument, 0, CLI_OPT_KEY},                                     \
        {"cacert", required_argument, 0, CLI_OPT_CACERT},                               \
        {"insecure", no_argument, 0, CLI_OPT_INSECURE},                                 \
        {"keys", required_argument, 0, CLI_OPT_KEYS},                                   \
        {"config", required_argument, 0, CLI_OPT_CONFIG}

/* What a command needs from the configuration (cli_client_setup). */
enum { CLI_NEED_URL = 1, CLI_NEED_TOKEN = 2, CLI_NEED_KEY = 4 };

struct cli_client {
    const char *cmd;           /* "notify", "directory set": names messages */
    const char *flag[CLI_CF_N]; /* from the command line (borrowed argv) */
    const char *config;        /* --config FILE (borrowed) */
    char *val[CLI_CF_N];       /* the settings in effect (owned) */
    const char *url, *token, *key, *cacert, *keys; /* views of val[] */
    int insecure;
    int raw_errors;            /* 1: also print a refusal's JSON as is */
};

/* Zeroes cl; `cmd` (static) names the command in messages. */
void cli_client_init(struct cli_client *cl, const char *cmd);
/* Takes a client option from getopt_long: 1 when `c` was one, else 0. */
int cli_client_option(struct cli_client *cl, int c, const char *arg);
/* Reads the config file and environment under the flags (flags win over
 * COMITY_URL / COMITY_TOKEN, which win over the file: --config, else
 * $COMITY_CONFIG, else ~/.config/comity/client.conf if it exists) and
 * checks that what `needs` asks for is there.  Returns an exit status. */
int cli_client_setup(struct cli_client *cl, unsigned needs);
void cli_client_free(struct cli_client *cl);

/* A node's answer: NUL-terminated data (owned; free()). */
struct cli_resp {
    char *data;
    size_t len;
    int over;
    long status; /* HTTP status; 0: no answer */
};

/* One request to cl->url + path (path starts with '/').  Returns 0 when
 * the node answered (whatever the status), else an exit status after
 * saying why on stderr.  OUT r->data: free(). */
int cli_client_http(const struct cli_client *cl, const char *method, const char *path,
                    const char *body, size_t body_len, struct cli_resp *r);
/* Exit status for an answer: 0 for 2xx; otherwise prints the refusal (the
 * node's status, rule and description) and returns 1 for 4xx, 3 else. */
int cli_client_answer(const struct cli_client *cl, const struct cli_resp *r);
/* GET path and parse a JSON answer.  OUT *out: json_decref.  Returns an
 * exit status (refusals printed). */
int cli_client_get_json(const struct cli_client *cl, const char *path, json_t **out);

/* Appends "&key=value" (value escaped) to the query string *q (malloc'ed,
 * may start NULL).  Returns 0 or CLI_FAIL. */
int cli_query_add(char **q, const char *key, const char *value);

/* A record body from --body FILE (a JSON object of at most
 * COMITY_RECORD_MAX bytes, duplicate keys refused), or `start` (taken) when
 * given, or {}; then each --set FIELD=VALUE of `sets`, a VALUE that reads
 * as JSON (a number, true, an array...) taken as such, else as a string.
 * `cmd` names the command in errors.  OUT *out: a new reference
 * (json_decref).  The one copy for `comity case`, `norm` and `spyware`. */
int cli_body_build(const char *cmd, const char *body_file, json_t *start,
                   const struct cli_list *sets, json_t **out);

/* Signs body (a JSON object) as a record with params p by `key`; when p's
 * TLP seals (comity_tlp_sealed), seals to the age recipients that
 * comity_record_seal_recipients resolves for p's `to` from keys (a bare
 * state: every office of it in keys) and to `seal` besides.  OUT *env,
 * *env_len: comity_free.  Returns an exit status (errors printed, `what`
 * naming the command). */
int cli_sign(const char *what, const comity_key *key, comity_record_params *p,
             const struct cli_keys *keys, struct cli_list *seal, const char *body,
             size_t body_len, char **env, size_t *env_len);

/* What a framework command sends. */
struct cli_msg {
    const char *type;        /* "notification" */
    const char *tlp;         /* NULL: green */
    const char *const *to;
    size_t nto;
    const char *const *refs;
    size_t nrefs;
    int quiet;               /* 1: print nothing on success */
    const comity_key *key;   /* the signer, loaded by the caller; NULL: the
                                configured key, loaded by cli_client_send */
};

/* Checks body against the framework schema of m->type (a refusal names the
 * field, exit 2), signs it with the configured key (sealing amber/red to
 * the --keys recipients), posts it to POST /v1/records and prints
 * "<id> log_index <n>".  Takes the reference of body.  OUT *id (may be
 * NULL): the record id, free().  Returns an exit status. */
int cli_client_send(struct cli_client *cl, const struct cli_msg *m, json_t *body, char **id);

/* The party name of the configured key (loads it once).  NULL after
 * printing an error. */
const char *cli_client_party(struct cli_client *cl);

/* Times are the library's (comity_time_parse, comity_time_format,
 * comity_now_ms, which honours COMITY_FAKE_NOW). */
/* Parses "90s", "30m", "4h", "7d" (or combinations "1h30m") into ms. */
int cli_duration_parse(const char *s, int64_t *ms);
/* A time argument: RFC 3339 (comity_time_parse), "now", or "+DURATION" /
 * "-DURATION" from now.  Writes RFC 3339 into out[32]; 0 on success, else
 * -1 and, for a time that is not one, why in err (may be NULL). */
int cli_time_arg(const char *s, char out[32], comity_error *err);
/* "3h05m", "12m", "45s", "2d04h" into out[32] (negative: "-" first). */
void cli_duration_format(char out[32], int64_t ms);

/* A record id (<type>--<uuid>) safe as a path segment. */
int cli_id_ok(const char *id);

/* Parses argv with the client options plus `extra` (a {0}-terminated
 * table; codes below 0x1000), handing each extra option to on(ctx, c, arg)
 * (which returns an exit status).  Positional arguments are left in
 * argv[optind..].  Returns an exit status. */
int cli_client_args(struct cli_client *cl, int argc, char **argv, const struct option *extra,
                    int (*on)(void *ctx, int c, const char *arg), void *ctx);

/* Sets body[key] to the string v when v is not NULL. */
void cli_json_str(json_t *body, const char *key, const char *v);
/* Sets body[key] to v as an integer when it is one, else as the string (so
 * that the schema check names the field). */
void cli_json_int(json_t *body, const char *key, const char *v);
/* Sets body[key] to the time argument v (cli_time_arg); exit status. */
int cli_json_time(struct cli_client *cl, json_t *body, const char *key, const char *opt,
                  const char *v);

/* Sends an answer (ack, reply, close, pong) to message `id`: refs [id],
 * to the message's author, at the message's tlp, both read from the node
 * (GET /v1/records/{id}); when the answerer is that author (a close), to
 * the message's recipients instead, so that an amber answer is sealed to
 * them and travels to their nodes (docs/federation.md, section 3).  `tlp`
 * and `to` (may be NULL) override them.  A
 * message the node does not show needs `tlp` given: the answer never
 * guesses its sharing level.  Takes the reference of body.  Returns an
 * exit status. */
int cli_client_answer_msg(struct cli_client *cl, const char *type, const char *id,
                          const char *tlp, const char *to, json_t *body);
/* Sets body[key] to the JSON read from file `path` (capped at the record
 * size); exit status. */
int cli_json_file(struct cli_client *cl, json_t *body, const char *key, const char *opt,
                  const char *path);

/* The flags notify and request share: --to (repeatable), --severity,
 * --sector, --indicators FILE, --respond-by, --tlp, --case. */
struct cli_message_flags {
    struct cli_list to;
    const char *severity, *sector, *indicators, *respond_by, *tlp, *kase;
};
enum { CLI_OPT_TO = 0x1100, CLI_OPT_SEVERITY, CLI_OPT_SECTOR, CLI_OPT_INDICATORS,
       CLI_OPT_RESPOND_BY, CLI_OPT_TLP, CLI_OPT_CASE };
#define CLI_MESSAGE_OPTIONS                                                             \
    {"to", required_argument, 0, CLI_OPT_TO},                                           \
        {"severity", required_argument, 0, CLI_OPT_SEVERITY},                           \
        {"sector", required_argument, 0, CLI_OPT_SECTOR},                               \
        {"indicators", required_argument, 0, CLI_OPT_INDICATORS},                       \
        {"respond-by", required_argument, 0, CLI_OPT_RESPOND_BY},                       \
        {"tlp", required_argument, 0, CLI_OPT_TLP},                                     \
        {"case", required_argument, 0, CLI_OPT_CASE}
/* A text option of one message type and the body field it fills. */
struct cli_field {
    const char *option; /* "summary" for --summary */
    const char *key;    /* "summary" */
};
#define CLI_FIELDS_MAX 8

/* The whole of `comity notify` and `comity request`: the shared flags
 * above plus `fields` (at most CLI_FIELDS_MAX, {0}-terminated), a body
 * built from them, checked, signed and sent as a record of `type`.
 * Returns an exit status. */
int cli_message_command(int argc, char **argv, const char *cmd, const char *type,
                        const struct cli_field *fields);

/* The whole of `comity ack ID [--note T]` and `comity close ID [--reason
 * T]`: one message id, an optional text put in body[opt], --tlp, the
 * client options.  Returns an exit status. */
int cli_answer_command(int argc, char **argv, const char *cmd, const char *type,
                       const char *opt);

#endif
