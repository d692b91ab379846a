/*
 * cmd_ping.c: `comity ping`: communication checks.  A ping is a signed
 * record to one party or state; the answer is a signed pong (`comity pong
 * ID`), and the node measures how long answers take (`comity stats
 * pings`).
 *
 *   --to PARTY|STATE ...   ping these (one ping each)
 *   --directory            ping every current contact of the directory
 *                          (its `party`, else its state), optionally only
 *                          --kind K and --state S...; your own state's
 *                          contacts are skipped (a party does not ping
 *                          its own state)
 *   --unannounced          the round was not announced beforehand
 *   --round NAME           groups the pings of one round
 *   --every D [--rounds N] a schedule: a round every D (N rounds, default
 *                          until stopped); announced rounds start at the
 *                          top of each period, unannounced ones at a random
 *                          moment inside it, so that contacts cannot time
 *                          their readiness.  Round names get "-<n>"
 *                          appended (default name: the period's start).
 *
 * Prints one line per ping: "<id> to <party> [kind]".
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "client.h"

#define PING_ROUNDS_MAX 1000000

struct ping {
    struct cli_client *cl;
    struct cli_list to, states;
    const char *kind, *round;
    int directory, unannounced;
    const char *every;     /* --every, as given */
    int64_t every_ms;      /* 0: one round now */
    long rounds;           /* 0: until stopped */
};

static int on_opt(void *ctx, int c, const char *arg)
{
    struct ping *p = ctx;
    switch (c) {
    case 'T': cli_list_add(&p->to, (char *)arg); break;
    case 's': cli_list_add(&p->states, (char *)arg); break;
    case 'k': p->kind = arg; break;
    case 'r': p->round = arg; break;
    case 'd': p->directory = 1; break;
    case 'u': p->unannounced = 1; break;
    case 'e': p->every = arg; break;
    case 'n': {
        char *end;
        errno = 0;
        long n = strtol(arg, &end, 10);
        if (errno || *end || end == arg || n < 1 || n > PING_ROUNDS_MAX)
            return cli_usage(p->cl->cmd, "--rounds: want a number from 1 to %d, not '%s'",
                             PING_ROUNDS_MAX, arg);
        p->rounds = n;
        break;
    }
    default: return cli_usage(p->cl->cmd, "unknown option");
    }
    return CLI_OK;
}

static int ping_one(struct cli_client *cl, const struct ping *p, const char *to,
                    const char *kind)
{
    json_t *body = json_object();
    json_object_set_new(body, "announced", json_boolean(!p->unannounced));
    cli_json_str(body, "kind", kind);
    cli_json_str(body, "round", p->round);
    const char *tov[1] = {to};
    struct cli_msg m = {.type = "ping", .to = tov, .nto = 1, .quiet = 1};
    char *id = NULL;
    int st = cli_client_send(cl, &m, body, &id);
    if (!st)
        printf("%s to %s%s%s\n", id, to, kind ? " " : "", kind ? kind : "");
    free(id);
    return st;
}

static bool listed(const struct cli_list *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i], s))
            return true;
    return false;
}

/* Pings every current contact of the directory (filtered). */
static int ping_directory(struct cli_client *cl, const struct ping *p)
{
    const char *me = cli_client_party(cl);
    if (!me)
        return CLI_USAGE;
    size_t mystate = strcspn(me, ".");
    json_t *dir = NULL;
    int st = cli_client_get_json(cl, "/v1/directory", &dir);
    if (st)
        return st;
    json_t *entries = json_object_get(dir, "entries"), *e;
    size_t i, sent = 0;
    int worst = CLI_OK;
    json_array_foreach(entries, i, e) {
        const char *state = json_string_value(json_object_get(e, "state"));
        const char *kind = json_string_value(json_object_get(e, "kind"));
        json_t *cur = json_object_get(json_object_get(e, "current"), "body");
        if (!state || !kind || !json_is_object(cur))
            continue;
        if ((p->kind && strcmp(p->kind, kind)) || (p->states.n && !listed(&p->states, state)))
            continue;
        if (strlen(state) == mystate && !strncmp(state, me, mystate))
            continue;
        const char *party = json_string_value(json_object_get(cur, "party"));
        if ((st = ping_one(cl, p, party ? party : state, kind)))
            worst = st;
        else
            sent++;
    }
    json_decref(dir);
    fprintf(stderr, "comity ping: %zu ping(s) sent from the directory\n", sent);
    if (!sent && !worst)
        fprintf(stderr, "comity ping: no current contact matched\n");
    return worst;
}

/* One round: the directory, or every --to. */
static int ping_round(struct cli_client *cl, const struct ping *p)
{
    if (p->directory)
        return ping_directory(cl, p);
    int st = CLI_OK;
    for (size_t i = 0; !st && i < p->to.n; i++)
        st = ping_one(cl, p, p->to.v[i], p->kind);
    return st;
}

static volatile sig_atomic_t stop_asked;
static void on_stop(int sig)
{
    (void)sig;
    stop_asked = 1;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps until `when_ms` on the monotonic clock (so a wall-clock step
 * neither skips nor repeats a round), or until SIGINT/SIGTERM; 0 if the
 * time came. */
static int sleep_until(int64_t when_ms)
{
    for (;;) {
        if (stop_asked)
            return -1;
        int64_t left = when_ms - mono_ms();
        if (left <= 0)
            return 0;
        if (left > 1000)
            left = 1000; /* wake each second to see a stop */
        struct timespec ts = {.tv_sec = (time_t)(left / 1000),
                              .tv_nsec = (long)(left % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* --every: rounds on a schedule until --rounds are done or a signal comes.
 * A round that fails is reported and the schedule goes on (a node that is
 * down for one round must not end a months-long schedule); the exit status
 * is the worst round's. */
static int ping_schedule(struct cli_client *cl, struct ping *p)
{
    struct sigaction sa = {.sa_handler = on_stop};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    const char *base = p->round;
    int worst = CLI_OK;
    int64_t start = mono_ms(), wall = comity_now_ms();
    for (long n = 1; !p->rounds || n <= p->rounds; n++) {
        int64_t period = start + (n - 1) * p->every_ms, at = period;
        if (p->unannounced && p->every_ms > 1)
            at += (int64_t)randombytes_uniform(
                (uint32_t)(p->every_ms > UINT32_MAX ? UINT32_MAX : p->every_ms));
        if (sleep_until(at))
            break;
        char name[160], when[32];
        comity_time_format(when, wall + (period - start));
        if (base)
            snprintf(name, sizeof name, "%s-%ld", base, n);
        else
            snprintf(name, sizeof name, "%s", when);
        p->round = name;
        fprintf(stderr, "comity ping: round %ld (%s) at %s\n", n, name, when);
        int st = ping_round(cl, p);
        if (st && (worst == CLI_OK || st > worst))
            worst = st;
        if (st)
            fprintf(stderr, "comity ping: round %ld had failures; the schedule goes on\n", n);
        if (sleep_until(period + p->every_ms) && (!p->rounds || n < p->rounds))
            break;
    }
    p->round = base;
    if (stop_asked)
        fprintf(stderr, "comity ping: schedule stopped\n");
    return worst;
}

int cmd_ping(int argc, char **argv)
{
    static const struct option opts[] = {
        {"to", required_argument, 0, 'T'},    {"directory", no_argument, 0, 'd'},
        {"kind", required_argument, 0, 'k'},  {"state", required_argument, 0, 's'},
        {"round", required_argument, 0, 'r'}, {"unannounced", no_argument, 0, 'u'},
        {"every", required_argument, 0, 'e'}, {"rounds", required_argument, 0, 'n'},
        {0, 0, 0, 0}};
    struct cli_client cl;
    cli_client_init(&cl, "ping");
    struct ping p = {.cl = &cl};
    int st = cli_client_args(&cl, argc, argv, opts, on_opt, &p);
    if (!st && optind != argc)
        st = cli_usage("ping", "unexpected argument '%s' (to answer a ping: comity pong ID)",
                       argv[optind]);
    if (!st && !!p.to.n + p.directory != 1)
        st = cli_usage("ping", "give --to PARTY... or --directory");
    if (!st && p.states.n && !p.directory)
        st = cli_usage("ping", "--state goes with --directory");
    if (!st && p.every && (cli_duration_parse(p.every, &p.every_ms) || p.every_ms < 1000))
        st = cli_usage("ping", "--every: want a duration of at least 1s like 90s, 30m, 24h "
                               "or 7d, not '%s'", p.every);
    if (!st && p.rounds && !p.every)
        st = cli_usage("ping", "--rounds goes with --every");
    if (!st)
        st = cli_client_setup(&cl, CLI_NEED_URL | CLI_NEED_TOKEN | CLI_NEED_KEY);
    if (!st)
        st = p.every ? ping_schedule(&cl, &p) : ping_round(&cl, &p);
    cli_list_free(&p.to);
    cli_list_free(&p.states);
    cli_client_free(&cl);
    return cli_finish(st);
}
