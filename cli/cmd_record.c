/*
 * cmd_record.c: `comity record sign|verify|open|digest`.
 *
 * A thin shell over comity_record_*: reads the body or envelope, calls the
 * library, prints.  Which parties may send what is the node's business.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "client.h"
#include "record_net.h"

#define ENVELOPE_CAP (COMITY_DSSE_MAX)

static int read_input(const char *path, size_t cap, char **buf, size_t *len)
{
    comity_error e = {0};
    if (comity_read_file(path ? path : "-", cap, buf, len, &e))
        return cli_error("record", &e);
    return CLI_OK;
}

static int sign(int argc, char **argv)
{
    const char *keyfile = NULL, *body_path = NULL, *out = NULL;
    comity_record_params p = {0};
    struct cli_list to = {0}, refs = {0}, seal = {0};
    struct cli_keys keys = {0};
    static const struct option opts[] = {
        {"key", required_argument, 0, 'k'},  {"type", required_argument, 0, 't'},
        {"to", required_argument, 0, 'T'},   {"tlp", required_argument, 0, 'l'},
        {"ref", required_argument, 0, 'r'},  {"seal-to", required_argument, 0, 's'},
        {"keys", required_argument, 0, 'K'}, {"body", required_argument, 0, 'b'},
        {"out", required_argument, 0, 'o'},  {"schema", required_argument, 0, 'S'},
        {0, 0, 0, 0}};
    int c, status = CLI_OK;
    optind = 1;
    while ((c = getopt_long(argc, argv, "k:t:T:l:r:s:K:b:o:S:", opts, NULL)) != -1) {
        switch (c) {
        case 'k': keyfile = optarg; break;
        case 't': p.type = optarg; break;
        case 'T': cli_list_add(&to, optarg); break;
        case 'l': p.tlp = optarg; break;
        case 'r': cli_list_add(&refs, optarg); break;
        case 's': cli_list_add(&seal, optarg); break;
        case 'K':
            if ((status = cli_keys_add(&keys, optarg)))
                goto done;
            break;
        case 'b': body_path = optarg; break;
        case 'o': out = optarg; break;
        case 'S':
        {
            char *end = NULL;
            long v = strtol(optarg, &end, 10);
            if (!*optarg || *end || v < 1 || v > COMITY_RECORD_SCHEMA_MAX) {
                status = cli_usage("record", "--schema wants a version from 1 to %d",
                                   COMITY_RECORD_SCHEMA_MAX);
                goto done;
            }
            p.schema = (int)v;
            break;
        }
        default: status = cli_usage("record", "unknown option"); goto done;
        }
    }
    if (!keyfile || !p.type) {
        status = cli_usage("record", "sign needs --key FILE and --type TYPE");
        goto done;
    }
    if (optind != argc) {
        status = cli_usage("record", "unexpected argument '%s'", argv[optind]);
        goto done;
    }
    p.to = (const char *const *)to.v, p.nto = to.n;
    p.refs = (const char *const *)refs.v, p.nrefs = refs.n;
    comity_error e = {0};
    comity_key *k;
    if (comity_key_load(keyfile, &k, &e)) {
        status = cli_error("record sign", &e);
        goto done;
    }
    char *body;
    size_t body_len;
    if ((status = read_input(body_path, COMITY_RECORD_MAX, &body, &body_len))) {
        comity_key_free(k);
        goto done;
    }
    char *env;
    size_t env_len;
    if (!(status = cli_sign("record sign", k, &p, &keys, &seal, body, body_len, &env,
                            &env_len))) {
        status = cli_output(out, env, env_len);
        if (!status && (!out || !strcmp(out, "-")))
            putchar('\n');
        comity_free(env);
    }
    free(body);
    comity_key_free(k);
done:
    cli_list_free(&to);
    cli_list_free(&refs);
    cli_list_free(&seal);
    cli_keys_free(&keys);
    return cli_finish(status);
}

/* Which user of its office signed r, by the office's entry in a roster
 * (the JSON `comity roster` prints: parties[].vkey and users[]), under
 * the library's rule (comity_record_signer).  Prints "good signature by
 * AUTHOR" and the user on stderr; a refusal is the rule's message. */
static int verify_roster(const comity_record *r, const char *path)
{
    comity_error e = {0};
    char *text = NULL;
    size_t len = 0;
    if (comity_read_file(path, 16u << 20, &text, &len, &e))
        return cli_error("record verify: roster", &e);
    json_t *ro = json_loadb(text, len, 0, NULL), *entry = NULL, *p;
    comity_free(text);
    size_t i;
    json_array_foreach(json_object_get(ro, "parties"), i, p) {
        const char *name = json_string_value(json_object_get(p, "party"));
        if (name && !strcmp(name, comity_record_author(r)))
            entry = p;
    }
    const char *ov = json_string_value(json_object_get(entry, "vkey"));
    json_t *users = json_object_get(entry, "users");
    size_t n = json_array_size(users);
    comity_vkey *office = NULL;
    comity_vkey **vk = calloc(n ? n : 1, sizeof *vk);
    comity_user_key *uk = calloc(n ? n : 1, sizeof *uk);
    int status = CLI_OK;
    if (!ro || !vk || !uk) {
        e.code = COMITY_ERR_INVALID;
        snprintf(e.msg, sizeof e.msg, "%s: not a roster (JSON of `comity roster`)", path);
        status = cli_error("record verify", &e);
        goto out;
    }
    if (!ov || comity_vkey_parse(ov, strlen(ov), &office, &e)) {
        e.code = COMITY_ERR_NOKEY;
        snprintf(e.msg, sizeof e.msg, "%s: the roster has no key of %s", path,
                 comity_record_author(r));
        status = cli_error("record verify", &e);
        goto out;
    }
    json_t *u;
    json_array_foreach(users, i, u) {
        const char *t = json_string_value(json_object_get(u, "vkey"));
        int64_t ms;
        if (t && comity_vkey_parse(t, strlen(t), &vk[i], NULL) != COMITY_OK)
            vk[i] = NULL;
        uk[i].vkey = vk[i];
        uk[i].name = json_string_value(json_object_get(u, "name"));
        t = json_string_value(json_object_get(u, "valid_from"));
        uk[i].valid_from_ms = t && !comity_time_parse(t, &ms, NULL) ? ms : -1;
        t = json_string_value(json_object_get(u, "revoked_at"));
        uk[i].revoked_ms = t && !comity_time_parse(t, &ms, NULL) ? ms : -1;
        uk[i].reason = json_string_value(json_object_get(u, "revoked"));
    }
    const char *who = NULL;
    if (comity_record_signer(r, office, uk, n, &who, &e))
        status = cli_error("record verify", &e);
    else if (who)
        fprintf(stderr, "good signature by %s (user '%s') on %s\n", comity_record_author(r),
                who, comity_record_id(r));
    else
        fprintf(stderr, "good signature by %s (its own key) on %s\n", comity_record_author(r),
                comity_record_id(r));
out:
    for (size_t k = 0; vk && k < n; k++)
        comity_vkey_free(vk[k]);
    free(vk);
    free(uk);
    comity_vkey_free(office);
    json_decref(ro);
    return status;
}

static void print_record(const comity_record *r)
{
    size_t len;
    const char *payload = comity_record_payload(r, &len);
    json_t *j = json_loadb(payload, len, 0, NULL);
    char *pretty = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    puts(pretty ? pretty : payload);
    free(pretty);
    json_decref(j);
}

/* A log succession record (docs/federation.md, section 11) read for
 * judging receipts; its signature checked under `state_vkey` when given.
 * OUT *s: comity_succession_free. */
static int load_succession(const char *path, const char *state_vkey, comity_succession **s)
{
    comity_error e = {0};
    char *text = NULL;
    size_t len = 0;
    comity_vkey *sk = NULL;
    int status = CLI_OK;
    if (comity_read_file(path, COMITY_DSSE_MAX, &text, &len, &e) ||
        (state_vkey && comity_vkey_parse(state_vkey, strlen(state_vkey), &sk, &e)))
        status = cli_error("record verify: succession", &e);
    else if (comity_succession_parse(text, len, (const comity_vkey *const *)&sk, sk ? 1 : 0, s,
                                     &e))
        status = cli_error("record verify: succession", &e);
    else if (!sk)
        fprintf(stderr, "note: the succession's signature was not checked (give --state-vkey)\n");
    comity_vkey_free(sk);
    comity_free(text);
    return status;
}

/* Checks a receipt (c2sp.org/tlog-proof) for the record offline: envelope
 * -> digest -> entry -> leaf hash -> inclusion -> checkpoint signature under
 * the log key, and the witness quorum of a policy when one is given.  With
 * a log succession, a receipt under its old log key is judged by it, and
 * one under its new key is checked as any. */
static int check_receipt(const comity_record *r, const char *path, struct cli_keys *logs,
                         const char *policy_path, const comity_succession *succ)
{
    comity_error e = {0};
    char *proof = NULL, *ptext = NULL;
    size_t plen = 0, tlen = 0;
    comity_policy *pol = NULL;
    int status = CLI_OK;
    if (comity_read_file(path, COMITY_TLOG_PROOF_MAX, &proof, &plen, &e))
        return cli_error("record verify: receipt", &e);
    if (policy_path) {
        if (comity_read_file(policy_path, COMITY_POLICY_MAX, &ptext, &tlen, &e) ||
            comity_policy_parse(ptext, tlen, &pol, &e)) {
            status = cli_error("record verify: policy", &e);
            goto out;
        }
    }
    const char *entry = comity_record_entry(r);
    uint64_t index = 0;
    comity_checkpoint cp;
    if (succ) {
        const char *st = NULL;
        comity_err rc = comity_succession_receipt(succ, proof, plen, entry, strlen(entry), pol,
                                                  &st, &index, &cp, &e);
        if (rc == COMITY_OK) {
            fprintf(stderr, "good receipt under the old log key: %s is entry %llu of %s, in "
                    "the checkpoint of size %llu, %s the succession's (size %llu)\n",
                    comity_record_id(r), (unsigned long long)index, cp.origin,
                    (unsigned long long)cp.size, st, (unsigned long long)comity_succession_size(succ));
            goto out;
        }
        if (rc != COMITY_ERR_NOKEY) {
            status = cli_error("record verify: receipt", &e);
            goto out;
        }
        const char *nv = comity_succession_get(succ, "new_log_vkey");
        if ((status = cli_keys_add(logs, nv)))
            goto out;
    }
    if (comity_tlog_proof_verify(proof, plen, entry, strlen(entry),
                                 (const comity_vkey *const *)logs->vkeys, logs->n, pol, &index,
                                 &cp, &e)) {
        status = cli_error("record verify: receipt", &e);
        goto out;
    }
    fprintf(stderr, "good receipt: %s is entry %llu of %s, in the checkpoint of size %llu%s\n",
            comity_record_id(r), (unsigned long long)index, cp.origin,
            (unsigned long long)cp.size, pol ? " (witness quorum met)" : "");
out:
    comity_policy_free(pol);
    comity_free(ptext);
    comity_free(proof);
    return status;
}

static int verify_or_open(int argc, char **argv, bool open)
{
    const char *keyfile = NULL, *receipt = NULL, *policy = NULL, *succ_path = NULL;
    const char *state_vkey = NULL, *roster = NULL;
    comity_succession *succ = NULL;
    struct cli_keys keys = {0}, logs = {0};
    static const struct option opts[] = {
        {"vkey", required_argument, 0, 'v'},     {"key", required_argument, 0, 'k'},
        {"receipt", required_argument, 0, 'r'},  {"log-vkey", required_argument, 0, 'l'},
        {"policy", required_argument, 0, 'p'},   {"succession", required_argument, 0, 'S'},
        {"state-vkey", required_argument, 0, 'V'}, {"roster", required_argument, 0, 'R'},
        {0, 0, 0, 0}};
    int c, status = CLI_OK;
    optind = 1;
    while ((c = getopt_long(argc, argv, "v:k:r:l:p:S:V:R:", opts, NULL)) != -1) {
        if (c == 'R') {
            roster = optarg;
        } else if (c == 'S') {
            succ_path = optarg;
        } else if (c == 'V') {
            state_vkey = optarg;
        } else if (c == 'v') {
            if ((status = cli_keys_add(&keys, optarg)))
                goto done;
        } else if (c == 'l') {
            if ((status = cli_keys_add(&logs, optarg)))
                goto done;
        } else if (c == 'r') {
            receipt = optarg;
        } else if (c == 'p') {
            policy = optarg;
        } else if (c == 'k') {
            keyfile = optarg;
        } else {
            status = cli_usage("record", "unknown option");
            goto done;
        }
    }
    if (!open && keys.n == 0 && !receipt && !roster) {
        status = cli_usage("record", "verify needs --vkey VKEY or --vkey KEYSFILE, "
                                     "--roster FILE, or --receipt FILE --log-vkey VKEY");
        goto done;
    }
    if (roster && (open || keys.n)) {
        status = cli_usage("record", "--roster goes with verify, instead of --vkey");
        goto done;
    }
    if (open && (receipt || logs.n || policy)) {
        status = cli_usage("record", "--receipt, --log-vkey and --policy go with verify");
        goto done;
    }
    if ((succ_path || state_vkey) && (!receipt || !succ_path)) {
        status = cli_usage("record", "--succession FILE [--state-vkey VKEY] judges a --receipt");
        goto done;
    }
    if (receipt && !logs.n && !policy && !succ_path) {
        status = cli_usage("record", "--receipt needs the node's log key: --log-vkey VKEY "
                                     "(or --policy FILE)");
        goto done;
    }
    if (!receipt && (logs.n || policy)) {
        status = cli_usage("record", "--log-vkey and --policy check a --receipt FILE");
        goto done;
    }
    if (open && !keyfile) {
        status = cli_usage("record", "open needs --key FILE (your key or an age identity file)");
        goto done;
    }
    if (argc - optind > 1) {
        status = cli_usage("record", "unexpected argument '%s'", argv[optind + 1]);
        goto done;
    }
    char *env;
    size_t env_len;
    if ((status = read_input(optind < argc ? argv[optind] : NULL, ENVELOPE_CAP, &env, &env_len)))
        goto done;
    comity_error e = {0};
    comity_record *r = NULL;
    comity_err rc = comity_record_parse(env, env_len, &r, &e);
    free(env);
    /* a delivered record is signed by its author's home node: its log key,
     * the receipt's (docs/federation.md section 7) */
    bool by_node = !rc && !strcmp(comity_record_type(r), "delivered");
    if (!rc && keys.n && by_node)
        rc = logs.n ? comity_record_verify_delivered(r, (const comity_vkey *const *)logs.vkeys,
                                                     logs.n, &e)
                    : comity_record_verify_parsed(r, (const comity_vkey *const *)keys.vkeys,
                                                  keys.n, &e);
    else if (!rc && keys.n)
        rc = comity_record_verify_parsed(r, (const comity_vkey *const *)keys.vkeys, keys.n, &e);
    if (rc) {
        comity_record_free(r);
        r = NULL;
    }
    if (rc) {
        status = cli_error(open ? "record open" : "record verify", &e);
        goto done;
    }
    if (!open && receipt) {
        if ((succ_path && (status = load_succession(succ_path, state_vkey, &succ))) ||
            (status = check_receipt(r, receipt, &logs, policy, succ)))
            goto free_rec;
        if (!keys.n)
            fprintf(stderr, "note: the author's signature was not checked (give --vkey)\n");
    }
    if (!open && roster && (status = verify_roster(r, roster)))
        goto free_rec;
    if (!open) {
        if (keys.n && by_node && logs.n)
            fprintf(stderr, "good signature by the home node of %s on %s\n",
                    comity_record_author(r), comity_record_id(r));
        else if (keys.n)
            fprintf(stderr, "good signature by %s on %s\n", comity_record_author(r),
                    comity_record_id(r));
        print_record(r);
    } else {
        if (!keys.n)
            fprintf(stderr, "note: signature not checked (give --vkey to check it)\n");
        comity_identities *ids;
        char *body;
        size_t bl;
        if (comity_identities_load(keyfile, &ids, &e)) {
            status = cli_error("record open", &e);
        } else {
            if (comity_record_open(r, ids, &body, &bl, &e)) {
                status = cli_error("record open", &e);
            } else {
                json_t *j = json_loadb(body, bl, 0, NULL);
                char *pretty = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
                puts(pretty ? pretty : body);
                free(pretty);
                json_decref(j);
                comity_free(body);
            }
            comity_identities_free(ids);
        }
    }
free_rec:
    comity_record_free(r);
done:
    comity_succession_free(succ);
    cli_keys_free(&keys);
    cli_keys_free(&logs);
    return cli_finish(status);
}

static int digest(int argc, char **argv)
{
    if (argc > 2)
        return cli_usage("record", "digest takes at most one file");
    char *env;
    size_t len;
    int status = read_input(argc == 2 ? argv[1] : NULL, ENVELOPE_CAP, &env, &len);
    if (status)
        return status;
    comity_error e = {0};
    comity_record *r;
    if (comity_record_parse(env, len, &r, &e)) {
        free(env);
        return cli_error("record digest", &e);
    }
    printf("id      %s\ndigest  %s\nentry   %s\n", comity_record_id(r), comity_record_digest(r),
           comity_record_entry(r));
    comity_record_free(r);
    free(env);
    return cli_finish(CLI_OK);
}

int cmd_record(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage("record", "want a subcommand: sign, verify, open, digest, post, get, "
                                   "receipt or list");
    const char *sub = argv[1];
    if (!strcmp(sub, "sign"))
        return sign(argc - 1, argv + 1);
    if (!strcmp(sub, "verify"))
        return verify_or_open(argc - 1, argv + 1, false);
    if (!strcmp(sub, "open"))
        return verify_or_open(argc - 1, argv + 1, true);
    if (!strcmp(sub, "digest"))
        return digest(argc - 1, argv + 1);
    if (!strcmp(sub, "post"))
        return cmd_record_post(argc - 1, argv + 1);
    if (!strcmp(sub, "get"))
        return cmd_record_get(argc - 1, argv + 1);
    if (!strcmp(sub, "receipt"))
        return cmd_record_receipt(argc - 1, argv + 1);
    if (!strcmp(sub, "list"))
        return cmd_record_list(argc - 1, argv + 1);
    return cli_usage("record", "no subcommand '%s' (sign, verify, open, digest, post, get, "
                               "receipt, list)", sub);
}
