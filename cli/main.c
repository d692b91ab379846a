/*
 * main.c: the comity command: a table of subcommands, like git.
 *
 * Each subcommand lives in its own file (cmd_<name>.c) and is declared here
 * as a weak symbol, so a binary built without one simply does not list it.
 * `comity --help` prints the table; `comity help CMD` and `comity CMD --help`
 * print the command's own text, which teaches by example.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define WEAK __attribute__((weak))
int cmd_keygen(int, char **) WEAK;
int cmd_key(int, char **) WEAK;
int cmd_record(int, char **) WEAK;
int cmd_seal(int, char **) WEAK;
int cmd_open(int, char **) WEAK;
int cmd_note(int, char **) WEAK;
int cmd_log(int, char **) WEAK;
int cmd_witness(int, char **) WEAK;
int cmd_sweep(int, char **) WEAK;
int cmd_pattern(int, char **) WEAK;
int cmd_init(int, char **) WEAK;
int cmd_serve(int, char **) WEAK;
int cmd_party(int, char **) WEAK;
int cmd_peer(int, char **) WEAK;
int cmd_roster(int, char **) WEAK;
int cmd_directory(int, char **) WEAK;
int cmd_notify(int, char **) WEAK;
int cmd_request(int, char **) WEAK;
int cmd_ack(int, char **) WEAK;
int cmd_reply(int, char **) WEAK;
int cmd_close(int, char **) WEAK;
int cmd_inbox(int, char **) WEAK;
int cmd_ping(int, char **) WEAK;
int cmd_pong(int, char **) WEAK;
int cmd_stats(int, char **) WEAK;
int cmd_timeline(int, char **) WEAK;
int cmd_case(int, char **) WEAK;
int cmd_alerts(int, char **) WEAK;
int cmd_correlate(int, char **) WEAK;
int cmd_doctor(int, char **) WEAK;
int cmd_backup(int, char **) WEAK;
int cmd_restore(int, char **) WEAK;
int cmd_attribution(int, char **) WEAK;
int cmd_norm(int, char **) WEAK;
int cmd_spyware(int, char **) WEAK;
static int cmd_help(int, char **);

#include "help.inc"

static const struct cli_command commands[] = {
    {"keygen", cmd_keygen, "make a party's key file (signing + sealing)", HELP_KEYGEN},
    {"key", cmd_key, "show a key file's identity; seal and restore keys", HELP_KEY},
    {"record", cmd_record, "sign, verify, open and digest signed records", HELP_RECORD},
    {"seal", cmd_seal, "encrypt a file to age recipients", HELP_SEAL},
    {"open", cmd_open, "decrypt an age file with a key or identity file", HELP_OPEN},
    {"note", cmd_note, "sign and verify C2SP signed notes", HELP_NOTE},
    {"log", cmd_log, "run and check a C2SP transparency log", HELP_LOG},
    {"witness", cmd_witness, "witness another log's checkpoints", HELP_WITNESS},
    {"sweep", cmd_sweep, "scan logs and files against STIX indicators", HELP_SWEEP},
    {"pattern", cmd_pattern, "check a STIX 2.1 pattern", HELP_PATTERN},
    {"init", cmd_init, "create a node in a directory", HELP_INIT},
    {"serve", cmd_serve, "run a node", HELP_SERVE},
    {"party", cmd_party, "register parties on a node", HELP_PARTY},
    {"peer", cmd_peer, "pin the peer nodes a node federates with", HELP_PEER},
    {"roster", cmd_roster, "the federation's states and offices, from signed records", HELP_ROSTER},
    {"directory", cmd_directory, "list, show, set and withdraw points of contact", HELP_DIRECTORY},
    {"notify", cmd_notify, "notify states of an incident", HELP_NOTIFY},
    {"request", cmd_request, "ask for information, assistance or mitigation", HELP_REQUEST},
    {"ack", cmd_ack, "acknowledge a notification or request", HELP_ACK},
    {"reply", cmd_reply, "answer (or decline) a notification or request", HELP_REPLY},
    {"close", cmd_close, "close a notification or request you sent", HELP_CLOSE},
    {"inbox", cmd_inbox, "what awaits you, what is overdue", HELP_INBOX},
    {"ping", cmd_ping, "check that contacts answer", HELP_PING},
    {"pong", cmd_pong, "answer pings", HELP_PONG},
    {"stats", cmd_stats, "ping response times per party and kind", HELP_STATS},
    {"timeline", cmd_timeline, "records in log order with their status", HELP_TIMELINE},
    {"case", cmd_case, "open, advance and list cases; upload and fetch files", HELP_CASE},
    {"alerts", cmd_alerts, "e-mail alerts: told that something awaits, never what", HELP_ALERTS},
    {"correlate", cmd_correlate, "shared infrastructure across records and states", HELP_CORRELATE},
    {"doctor", cmd_doctor, "check a node's keys, store, log, certificate and disk", HELP_DOCTOR},
    {"backup", cmd_backup, "copy a node, while it serves, for restore", HELP_BACKUP},
    {"restore", cmd_restore, "put a node back from a backup and check it", HELP_RESTORE},
    {"attribution", cmd_attribution, "attribution cases: evidence, claims, replies, review", HELP_ATTRIBUTION},
    {"norm", cmd_norm, "norm catalogue, declarations, complaints, disclosures", HELP_NORM},
    {"spyware", cmd_spyware, "the spyware registry: vendors, licences, listings, misuse", HELP_SPYWARE},
    {"help", cmd_help, "show help for a command", HELP_HELP},
};

static const struct cli_command *find(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0 && commands[i].run)
            return &commands[i];
    return NULL;
}

static void overview(FILE *f)
{
    fputs("usage: comity COMMAND [ARGS...]\n\n"
          "comity: signed, logged and sealed exchange between states' cyber\n"
          "contacts, and a sweep of your own logs against shared indicators.\n\n"
          "commands:\n", f);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (commands[i].run)
            fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fputs("\n'comity help COMMAND' shows what a command does, with examples.\n"
          "Exit status: 0 ok, 1 negative answer (e.g. bad signature), 2 usage or\n"
          "input error, 3 internal error.\n", f);
}

int cli_help(const char *cmd)
{
    const struct cli_command *c = find(cmd);
    if (!c) {
        fprintf(stderr, "comity: no command '%s'\n", cmd);
        return CLI_USAGE;
    }
    fputs(c->help, stdout);
    return cli_finish(CLI_OK);
}

static int cmd_help(int argc, char **argv)
{
    if (argc < 2) {
        overview(stdout);
        return cli_finish(CLI_OK);
    }
    return cli_help(argv[1]);
}

int cli_error(const char *what, const comity_error *err)
{
    const char *msg = err->msg[0] ? err->msg : comity_strerror(err->code);
    if (what && *what)
        fprintf(stderr, "comity: %s: %s\n", what, msg);
    else
        fprintf(stderr, "comity: %s\n", msg);
    switch (err->code) {
    case COMITY_ERR_VERIFY: return CLI_NO;
    case COMITY_ERR_INVALID:
    case COMITY_ERR_TOOBIG:
    case COMITY_ERR_NOTFOUND:
    case COMITY_ERR_EXISTS:
    case COMITY_ERR_USAGE:
    case COMITY_ERR_NOKEY:
    case COMITY_ERR_DENIED:
    case COMITY_ERR_LOCKED:
    case COMITY_ERR_CONFLICT: return CLI_USAGE;
    default: return CLI_FAIL;
    }
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "comity %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\ntry 'comity help %s'\n", cmd);
    return CLI_USAGE;
}

int cli_output(const char *path, const void *buf, size_t len)
{
    if (!path || strcmp(path, "-") == 0) {
        if (len && fwrite(buf, 1, len, stdout) != len) {
            fprintf(stderr, "comity: writing output: %s\n", strerror(errno));
            return CLI_FAIL;
        }
        return CLI_OK;
    }
    comity_error e = {0};
    if (comity_write_file(path, buf, len, 0644, 0, &e))
        return cli_error(NULL, &e);
    return CLI_OK;
}

int cli_finish(int status)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "comity: writing output: %s\n", strerror(errno));
        return status ? status : CLI_FAIL;
    }
    return status;
}

int cli_list_add(struct cli_list *l, char *s)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 4;
        char **nv = realloc(l->v, nc * sizeof *nv);
        if (!nv)
            return -1;
        l->v = nv;
        l->cap = nc;
    }
    l->v[l->n++] = s;
    return 0;
}

void cli_list_free(struct cli_list *l)
{
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

int main(int argc, char **argv)
{
    comity_error e = {0};
    if (comity_init(&e))
        return cli_error(NULL, &e);
    if (argc < 2) {
        overview(stderr);
        return CLI_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        overview(stdout);
        return cli_finish(CLI_OK);
    }
    if (strcmp(name, "--version") == 0) {
        puts("comity 0.1.0");
        return cli_finish(CLI_OK);
    }
    const struct cli_command *c = find(name);
    if (!c) {
        fprintf(stderr, "comity: '%s' is not a comity command; see 'comity --help'\n", name);
        return CLI_USAGE;
    }
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return cli_help(name);
    }
    return c->run(argc - 1, argv + 1);
}
