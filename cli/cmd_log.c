/*
 * cmd_log.c: `comity log`: create, feed, publish, prove and check a C2SP
 * transparency log in a directory.
 *
 *   comity log init --origin ORIGIN --key FILE DIR
 *   comity log append DIR [--key FILE] [--file F]     (stdin: one entry a line)
 *   comity log checkpoint DIR [--key FILE]
 *   comity log prove DIR --index N [--policy FILE] [-o FILE]
 *   comity log verify --vkey VKEY [--policy FILE] --entry FILE PROOF
 *   comity log consistency DIR OLD NEW                (sizes or checkpoint files)
 *   comity log audit DIR [--vkey VKEY]
 *   comity log request DIR --old N                    (a tlog-witness request body)
 *   comity log cosigned DIR --witness VKEY [--key FILE] RESPONSE
 *   comity log get DIR --index N [--count C]           (entries, one a line)
 *   comity log succeed --key STATE.key --old-vkey V --new-vkey V --url URL
 *                      --checkpoint FILE [--reason TEXT] [-o OUT]
 *                      (a log succession record, docs/federation.md section 11)
 *
 * Everything is done by libcomity; this file only reads arguments and files
 * and maps errors to exit statuses.  `append` prints each entry's index once
 * the entry is durable (after the fsync that covers it), so whatever it has
 * printed survives a crash.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "keys.h"

#define CMD "log"
#define KEY_FILE_MAX 4096

/* Reads a PRIVATE+KEY+... file.  OUT *key: comity_nkey_free. */
static int load_nkey(const char *path, comity_nkey **key)
{
    comity_error e = {0};
    return comity_nkey_load(path, key, &e) ? cli_error(NULL, &e) : CLI_OK;
}

/* A vkey given as text, or as the path of a file holding one. */
static int load_vkey(const char *arg, comity_vkey **vk)
{
    comity_error e = {0};
    char *text = NULL;
    size_t len = strlen(arg);
    if (access(arg, R_OK) == 0) {
        if (comity_read_file(arg, KEY_FILE_MAX, &text, &len, &e))
            return cli_error("reading vkey", &e);
        while (len && (text[len - 1] == '\n' || text[len - 1] == ' '))
            text[--len] = 0;
    }
    comity_err rc = comity_vkey_parse(text ? text : arg, len, vk, &e);
    comity_free(text);
    return rc ? cli_error("vkey", &e) : CLI_OK;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    if (!*s || (s[0] == '0' && s[1]) || strspn(s, "0123456789") != strlen(s) || strlen(s) > 20)
        return false;
    errno = 0;
    unsigned long long v = strtoull(s, NULL, 10);
    if (errno)
        return false;
    *out = v;
    return true;
}

/* Option scanner: --name VALUE pairs anywhere; the rest are positionals. */
struct opts {
    const char *origin, *key, *file, *out, *entry, *policy, *witness_arg;
    const char *index, *old, *count, *interval;
    struct cli_list vkeys;
    const char *pos[4];
    int npos;
};

static int scan(int argc, char **argv, struct opts *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        if (!strcmp(a, "--origin"))
            slot = &o->origin;
        else if (!strcmp(a, "--key"))
            slot = &o->key;
        else if (!strcmp(a, "--file"))
            slot = &o->file;
        else if (!strcmp(a, "-o") || !strcmp(a, "--out"))
            slot = &o->out;
        else if (!strcmp(a, "--entry"))
            slot = &o->entry;
        else if (!strcmp(a, "--policy"))
            slot = &o->policy;
        else if (!strcmp(a, "--index"))
            slot = &o->index;
        else if (!strcmp(a, "--old"))
            slot = &o->old;
        else if (!strcmp(a, "--count"))
            slot = &o->count;
        else if (!strcmp(a, "--interval"))
            slot = &o->interval;
        else if (!strcmp(a, "--vkey") || !strcmp(a, "--witness")) {
            if (i + 1 >= argc)
                return cli_usage(CMD, "%s needs a value", a);
            if (cli_list_add(&o->vkeys, argv[++i]))
                return CLI_FAIL;
            continue;
        } else if (a[0] == '-' && a[1]) {
            return cli_usage(CMD, "unknown option %s", a);
        } else {
            if (o->npos == 4)
                return cli_usage(CMD, "too many arguments");
            o->pos[o->npos++] = a;
            continue;
        }
        if (i + 1 >= argc)
            return cli_usage(CMD, "%s needs a value", a);
        *slot = argv[++i];
    }
    return CLI_OK;
}

/* Opens DIR for writing with --key or the key recorded at init. */
static int open_writer(const char *dir, const char *keypath, int flags, comity_nkey **key,
                       comity_log **log)
{
    comity_error e = {0};
    char *recorded = NULL;
    if (!keypath) {
        if (comity_log_key_path(dir, &recorded, &e))
            return cli_error(dir, &e);
        keypath = recorded;
    }
    int st = load_nkey(keypath, key);
    comity_free(recorded);
    if (st)
        return st;
    if (comity_log_open(dir, COMITY_LOG_WRITE | flags, *key, log, &e)) {
        comity_nkey_free(*key);
        *key = NULL;
        return cli_error(NULL, &e);
    }
    return CLI_OK;
}

static int do_init(struct opts *o)
{
    if (!o->origin || !o->key || o->npos != 1)
        return cli_usage(CMD, "usage: comity log init --origin ORIGIN --key FILE DIR");
    comity_error e = {0};
    comity_nkey *key = NULL;
    int st;
    if ((st = cli_nkey_load_or_make(o->key, o->origin, COMITY_NOTE_ED25519, "log", &key)))
        return st;
    if (comity_log_create(o->pos[0], o->origin, key, o->key, &e)) {
        comity_nkey_free(key);
        return cli_error(NULL, &e);
    }
    printf("%s\n", comity_nkey_vkey(key));
    comity_nkey_free(key);
    return cli_finish(CLI_OK);
}

/* Prints indices [first, first + n) one a line, after they are durable. */
static int flush_batch(comity_log *log, uint64_t first, uint64_t n)
{
    comity_error e = {0};
    if (n == 0)
        return CLI_OK;
    if (comity_log_sync(log, &e))
        return cli_error("append", &e);
    for (uint64_t i = 0; i < n; i++)
        printf("%llu\n", (unsigned long long)(first + i));
    return fflush(stdout) == 0 ? CLI_OK : cli_finish(CLI_FAIL);
}

static int do_append(struct opts *o)
{
    if (o->npos != 1)
        return cli_usage(CMD, "usage: comity log append DIR [--key FILE] [--file F] < entries");
    uint64_t interval = 0;
    if (o->interval && (!parse_u64(o->interval, &interval) || interval == 0 || interval > 60000))
        return cli_usage(CMD, "--interval wants milliseconds, 1 to 60000");
    comity_nkey *key;
    comity_log *log;
    int st = open_writer(o->pos[0], o->key, COMITY_LOG_BACKGROUND, &key, &log);
    if (st)
        return st;
    if (interval)
        comity_log_set_interval(log, (unsigned)interval);
    comity_error e = {0};
    uint64_t idx;
    if (o->file) {
        char *data;
        size_t len;
        if (comity_read_file(o->file, COMITY_TLOG_ENTRY_MAX + 1, &data, &len, &e)) {
            st = e.code == COMITY_ERR_TOOBIG
                     ? (fprintf(stderr, "comity: %s: larger than the 65535-byte entry limit of "
                                        "tlog-tiles; log a hash of it instead\n", o->file),
                        CLI_USAGE)
                     : cli_error(NULL, &e);
        } else {
            if (comity_log_append(log, data, len, 1, &idx, &e))
                st = cli_error("append", &e);
            else
                printf("%llu\n", (unsigned long long)idx);
            comity_free(data);
        }
    } else {
        /* Each read(2) is one batch: every line it completes is appended,
         * then one sync covers them all before their indices are printed. */
        enum { LINE_MAX_ = COMITY_TLOG_ENTRY_MAX + 1 };
        size_t cap = LINE_MAX_ + 65536;
        char *buf = malloc(cap);
        size_t have = 0, lineno = 0;
        uint64_t first = 0, n = 0;
        if (!buf)
            st = CLI_FAIL;
        while (!st) {
            ssize_t r = read(0, buf + have, cap - have);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                fprintf(stderr, "comity: reading stdin: %s\n", strerror(errno));
                st = CLI_FAIL;
                break;
            }
            have += (size_t)r;
            size_t at = 0;
            for (;;) {
                char *nl = memchr(buf + at, '\n', have - at);
                size_t ll = nl ? (size_t)(nl - (buf + at)) : have - at;
                if (!nl && r > 0 && ll <= COMITY_TLOG_ENTRY_MAX)
                    break; /* incomplete line: wait for more */
                if (!nl && ll == 0)
                    break;
                lineno++;
                if (ll > COMITY_TLOG_ENTRY_MAX) {
                    fprintf(stderr,
                            "comity: stdin line %zu: entry longer than the 65535-byte limit "
                            "of tlog-tiles; log a hash of it instead\n", lineno);
                    st = CLI_USAGE;
                    break;
                }
                if (comity_log_append(log, buf + at, ll, 0, &idx, &e)) {
                    st = cli_error("append", &e);
                    break;
                }
                if (n++ == 0)
                    first = idx;
                at += ll + (nl ? 1 : 0);
                if (!nl)
                    break;
            }
            memmove(buf, buf + at, have - at);
            have -= at;
            int fs = flush_batch(log, first, n);
            n = 0;
            if (!st)
                st = fs;
            if (r == 0)
                break;
        }
        free(buf);
    }
    if (!st && comity_log_checkpoint(log, NULL, NULL, &e))
        st = cli_error("checkpoint", &e);
    comity_log_close(log);
    comity_nkey_free(key);
    return cli_finish(st);
}

static int do_checkpoint(struct opts *o)
{
    if (o->npos != 1)
        return cli_usage(CMD, "usage: comity log checkpoint DIR [--key FILE]");
    comity_nkey *key;
    comity_log *log;
    int st = open_writer(o->pos[0], o->key, 0, &key, &log);
    if (st)
        return st;
    comity_error e = {0};
    char *note;
    size_t len;
    if (comity_log_checkpoint(log, &note, &len, &e)) {
        st = cli_error("checkpoint", &e);
    } else {
        st = cli_output(o->out, note, len);
        comity_free(note);
    }
    comity_log_close(log);
    comity_nkey_free(key);
    return cli_finish(st);
}

static int open_reader(const char *dir, comity_log **log)
{
    comity_error e = {0};
    if (comity_log_open(dir, COMITY_LOG_READ, NULL, log, &e))
        return cli_error(NULL, &e);
    return CLI_OK;
}

/* The witness policy `prove` goes by: --policy FILE; else, when DIR is a
 * node's directory (it holds log/ and no checkpoint) or a node's log
 * (NODE/log), the node's NODE/witness.policy, by which the node serves
 * its receipts (one that does not parse is left out, with a warning, as
 * the node leaves it out); else none.  OUT logdir: DIR, or DIR/log for a
 * node's directory; polpath: the policy's file ("" none); *pol:
 * comity_policy_free. */
#define PROVE_PATH 4096
static int prove_policy(const struct opts *o, char logdir[PROVE_PATH],
                        char polpath[PROVE_PATH], comity_policy **pol)
{
    const char *dir = o->pos[0];
    char cp[PROVE_PATH];
    struct stat sb;
    *pol = NULL;
    snprintf(logdir, PROVE_PATH, "%s/log", dir);
    snprintf(cp, sizeof cp, "%s/checkpoint", dir);
    bool node = stat(logdir, &sb) == 0 && S_ISDIR(sb.st_mode) && access(cp, F_OK) != 0;
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/')
        dl--;
    bool node_log = !node && dl >= 3 && !strncmp(dir + dl - 3, "log", 3) &&
                    (dl == 3 || dir[dl - 4] == '/');
    if (!node)
        snprintf(logdir, PROVE_PATH, "%s", dir);
    polpath[0] = 0;
    if (o->policy)
        snprintf(polpath, PROVE_PATH, "%s", o->policy);
    else if (node || node_log)
        snprintf(polpath, PROVE_PATH, "%s%s", dir, node ? "/witness.policy" : "/../witness.policy");
    if (!polpath[0] || (!o->policy && access(polpath, F_OK) != 0)) {
        polpath[0] = 0;
        return CLI_OK; /* no policy: the published checkpoint */
    }
    comity_error e = {0};
    char *text = NULL;
    size_t len = 0;
    comity_err rc = comity_read_file(polpath, COMITY_POLICY_MAX, &text, &len, &e);
    if (!rc)
        rc = comity_policy_parse(text, len, pol, &e);
    comity_free(text);
    if (rc && o->policy)
        return cli_error(polpath, &e);
    if (rc) {
        fprintf(stderr, "comity log prove: %s left out, as the node leaves it out: %s\n",
                polpath, e.msg);
        polpath[0] = 0;
    }
    return CLI_OK;
}

static int do_prove(struct opts *o)
{
    uint64_t index;
    if (o->npos != 1 || !o->index || !parse_u64(o->index, &index))
        return cli_usage(CMD, "usage: comity log prove DIR --index N [--policy FILE] [-o FILE]");
    char logdir[PROVE_PATH], polpath[PROVE_PATH];
    comity_policy *pol = NULL;
    int st = prove_policy(o, logdir, polpath, &pol);
    comity_log *log = NULL;
    if (!st)
        st = open_reader(logdir, &log);
    if (st) {
        comity_policy_free(pol);
        return st;
    }
    comity_error e = {0};
    char *proof;
    size_t len;
    uint64_t size = 0;
    if (comity_log_prove_policy(log, index, pol, &proof, &len, &size, &e)) {
        st = cli_error("prove", &e);
    } else {
        st = cli_output(o->out, proof, len);
        comity_free(proof);
        if (pol) /* which checkpoint, on stderr: the receipt alone on stdout */
            fprintf(stderr, "receipt of entry %llu against the checkpoint of size %llu: the "
                    "newest covering it that the quorum of %s cosigned (else the newest "
                    "cosigned one)\n", (unsigned long long)index, (unsigned long long)size,
                    polpath);
    }
    comity_policy_free(pol);
    comity_log_close(log);
    return cli_finish(st);
}

static int do_verify(struct opts *o)
{
    if (o->npos != 1 || !o->entry || (o->vkeys.n == 0 && !o->policy))
        return cli_usage(CMD, "usage: comity log verify --vkey VKEY [--policy FILE] "
                              "--entry FILE PROOF");
    comity_error e = {0};
    comity_vkey *vk[16] = {0};
    comity_policy *pol = NULL;
    char *entry = NULL, *proof = NULL, *ptext = NULL;
    size_t elen, plen, tlen;
    int st = CLI_OK;
    if (o->vkeys.n > 16)
        return cli_usage(CMD, "at most 16 --vkey");
    for (size_t i = 0; i < o->vkeys.n && !st; i++)
        st = load_vkey(o->vkeys.v[i], &vk[i]);
    if (!st && o->policy) {
        if (comity_read_file(o->policy, COMITY_POLICY_MAX, &ptext, &tlen, &e) ||
            comity_policy_parse(ptext, tlen, &pol, &e))
            st = cli_error(o->policy, &e);
    }
    if (!st && comity_read_file(o->entry, COMITY_TLOG_ENTRY_MAX, &entry, &elen, &e))
        st = cli_error("entry", &e);
    if (!st && comity_read_file(o->pos[0], COMITY_TLOG_PROOF_MAX, &proof, &plen, &e))
        st = cli_error("proof", &e);
    uint64_t index;
    comity_checkpoint cp;
    if (!st) {
        if (comity_tlog_proof_verify(proof, plen, entry, elen, (const comity_vkey *const *)vk,
                                     o->vkeys.n, pol, &index, &cp, &e))
            st = cli_error(o->pos[0], &e);
        else
            printf("verified: entry %llu of %s (tree size %llu)\n", (unsigned long long)index,
                   cp.origin, (unsigned long long)cp.size);
    }
    for (size_t i = 0; i < 16; i++)
        comity_vkey_free(vk[i]);
    comity_policy_free(pol);
    comity_free(entry);
    comity_free(proof);
    comity_free(ptext);
    return cli_finish(st);
}

/* OLD/NEW: a decimal size, or a checkpoint file whose root must be this
 * log's root at that size (its signature is checked elsewhere: comity log
 * verify, comity note verify). */
static int size_or_checkpoint(comity_log *log, const char *arg, uint64_t *size,
                              uint8_t root[COMITY_TLOG_HASH], bool *from_file)
{
    comity_error e = {0};
    *from_file = false;
    if (parse_u64(arg, size)) {
        if (comity_log_root(log, *size, root, &e))
            return cli_error(arg, &e);
        return CLI_OK;
    }
    char *note;
    size_t len;
    if (comity_read_file(arg, 65536, &note, &len, &e))
        return cli_error(NULL, &e);
    comity_checkpoint cp;
    comity_err rc = comity_checkpoint_parse(note, len, &cp, &e);
    comity_free(note);
    if (rc)
        return cli_error(arg, &e);
    *size = cp.size;
    *from_file = true;
    memcpy(root, cp.root, COMITY_TLOG_HASH);
    uint8_t mine[COMITY_TLOG_HASH];
    if (comity_log_root(log, cp.size, mine, &e))
        return cli_error(arg, &e);
    if (memcmp(mine, cp.root, COMITY_TLOG_HASH) != 0) {
        fprintf(stderr,
                "comity: %s: its root at size %llu is not this log's: the log forked "
                "or the checkpoint is of another log\n",
                arg, (unsigned long long)cp.size);
        return CLI_NO;
    }
    return CLI_OK;
}

static int do_consistency(struct opts *o)
{
    if (o->npos != 3)
        return cli_usage(CMD, "usage: comity log consistency DIR OLD NEW");
    comity_log *log;
    int st = open_reader(o->pos[0], &log);
    if (st)
        return st;
    uint64_t old, size;
    uint8_t r1[COMITY_TLOG_HASH], r2[COMITY_TLOG_HASH];
    bool f1, f2;
    st = size_or_checkpoint(log, o->pos[1], &old, r1, &f1);
    if (!st)
        st = size_or_checkpoint(log, o->pos[2], &size, r2, &f2);
    comity_error e = {0};
    uint8_t *h = NULL;
    size_t n = 0;
    if (!st && comity_log_consistency(log, old, size, &h, &n, &e))
        st = cli_error("consistency", &e);
    if (!st && comity_tlog_verify_consistency(old, size, r1, r2, h, n, &e))
        st = cli_error("consistency", &e);
    for (size_t i = 0; !st && i < n; i++) {
        char b[COMITY_TLOG_HASH_B64];
        comity_tlog_hash_b64(h + COMITY_TLOG_HASH * i, b);
        printf("%s\n", b);
    }
    if (!st && (f1 || f2))
        fprintf(stderr, "comity: consistent: size %llu extends size %llu\n",
                (unsigned long long)size, (unsigned long long)old);
    comity_free(h);
    comity_log_close(log);
    return cli_finish(st);
}

static int do_audit(struct opts *o)
{
    if (o->npos != 1)
        return cli_usage(CMD, "usage: comity log audit DIR [--vkey VKEY]");
    comity_vkey *vk = NULL;
    int st = o->vkeys.n ? load_vkey(o->vkeys.v[0], &vk) : CLI_OK;
    if (st)
        return st;
    comity_error e = {0};
    comity_log_audit_report rep;
    if (comity_log_audit(o->pos[0], vk, &rep, &e)) {
        st = cli_error("audit", &e);
    } else {
        printf("audit ok: %llu entries, %llu tiles, root matches the checkpoint%s\n",
               (unsigned long long)rep.entries, (unsigned long long)rep.tiles,
               vk ? " (signature verified)" : "");
    }
    comity_vkey_free(vk);
    return cli_finish(st);
}

/* The body of a tlog-witness add-checkpoint request from size --old. */
static int do_request(struct opts *o)
{
    uint64_t old;
    if (o->npos != 1 || !o->old || !parse_u64(o->old, &old))
        return cli_usage(CMD, "usage: comity log request DIR --old N");
    comity_log *log;
    int st = open_reader(o->pos[0], &log);
    if (st)
        return st;
    comity_error e = {0};
    char *body;
    size_t len;
    if (comity_log_witness_request(log, old, &body, &len, &e)) {
        st = cli_error("request", &e);
    } else {
        st = cli_output(o->out, body, len);
        comity_free(body);
    }
    comity_log_close(log);
    return cli_finish(st);
}

static int do_cosigned(struct opts *o)
{
    if (o->npos != 2 || o->vkeys.n == 0)
        return cli_usage(CMD, "usage: comity log cosigned DIR --witness VKEY [--key FILE] RESPONSE");
    const char *dir = o->pos[0], *resp = o->pos[1];
    comity_vkey *vk[16] = {0};
    int st = CLI_OK;
    if (o->vkeys.n > 16)
        return cli_usage(CMD, "at most 16 --witness");
    for (size_t i = 0; i < o->vkeys.n && !st; i++)
        st = load_vkey(o->vkeys.v[i], &vk[i]);
    comity_nkey *key = NULL;
    comity_log *log = NULL;
    if (!st)
        st = open_writer(dir, o->key, 0, &key, &log);
    comity_error e = {0};
    char *body = NULL;
    size_t len;
    if (!st && comity_read_file(resp, 65536, &body, &len, &e))
        st = cli_error(NULL, &e);
    if (!st && comity_log_add_cosignatures(log, body, len, (const comity_vkey *const *)vk,
                                           o->vkeys.n, &e))
        st = cli_error("cosignatures", &e);
    comity_free(body);
    comity_log_close(log);
    comity_nkey_free(key);
    for (size_t i = 0; i < 16; i++)
        comity_vkey_free(vk[i]);
    return cli_finish(st);
}

/* Entries [N, N + C) of the published tree, each followed by a newline. */
static int do_get(struct opts *o)
{
    uint64_t index, count = 1;
    if (o->npos != 1 || !o->index || !parse_u64(o->index, &index) ||
        (o->count && !parse_u64(o->count, &count)))
        return cli_usage(CMD, "usage: comity log get DIR --index N [--count C]");
    comity_log *log;
    int st = open_reader(o->pos[0], &log);
    if (st)
        return st;
    comity_error e = {0};
    for (uint64_t i = 0; i < count && !st; i++) {
        uint8_t *entry;
        size_t len;
        if (comity_log_entry(log, index + i, &entry, &len, &e)) {
            st = cli_error("get", &e);
            break;
        }
        if (fwrite(entry, 1, len, stdout) != len || putchar('\n') == EOF)
            st = CLI_FAIL;
        comity_free(entry);
    }
    comity_log_close(log);
    return cli_finish(st);
}

/* `comity log succeed`: the log succession record a state signs when a
 * node's log key is lost or compromised (the body's rules are the
 * library's: comity_succession_body). */
static int do_succeed(int argc, char **argv)
{
    const char *key = NULL, *ov = NULL, *nv = NULL, *url = NULL, *cpf = NULL, *reason = NULL;
    const char *out = NULL;
    for (int i = 2; i < argc; i++) {
        const char **slot = !strcmp(argv[i], "--key")          ? &key
                            : !strcmp(argv[i], "--old-vkey")   ? &ov
                            : !strcmp(argv[i], "--new-vkey")   ? &nv
                            : !strcmp(argv[i], "--url")        ? &url
                            : !strcmp(argv[i], "--checkpoint") ? &cpf
                            : !strcmp(argv[i], "--reason")     ? &reason
                            : !strcmp(argv[i], "-o")           ? &out
                                                               : NULL;
        if (!slot || i + 1 == argc)
            return cli_usage(CMD, "succeed: unknown option or missing value: %s", argv[i]);
        *slot = argv[++i];
    }
    if (!key || !ov || !nv || !url || !cpf)
        return cli_usage(CMD, "succeed needs --key STATE.key --old-vkey VKEY --new-vkey VKEY "
                              "--url URL --checkpoint FILE");
    comity_error e = {0};
    comity_key *k = NULL;
    char *cp = NULL, *body = NULL, *env = NULL;
    size_t cl = 0, el = 0;
    int st = CLI_OK;
    if (comity_key_load(key, &k, &e) ||
        comity_read_file(cpf, COMITY_SUCCESSION_CKPT_MAX, &cp, &cl, &e) ||
        comity_succession_body(ov, nv, url, cp, reason, &body, &e)) {
        st = cli_error("log succeed", &e);
    } else {
        comity_record_params p = {.type = COMITY_SUCCESSION_TYPE, .tlp = "green"};
        if (comity_record_sign(k, &p, body, strlen(body), &env, &el, &e))
            st = cli_error("log succeed", &e);
        else if (!(st = cli_output(out, env, el)) && (!out || !strcmp(out, "-")))
            putchar('\n');
    }
    comity_free(env);
    comity_free(body);
    comity_free(cp);
    comity_key_free(k);
    return cli_finish(st);
}

int cmd_log(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "succeed"))
        return do_succeed(argc, argv);
    if (argc < 2)
        return cli_usage(CMD, "which action? init, append, checkpoint, prove, verify, "
                              "consistency, audit, request, cosigned, get, succeed");
    struct opts o;
    int st = scan(argc, argv, &o);
    const char *a = argv[1];
    if (st)
        ;
    else if (!strcmp(a, "init"))
        st = do_init(&o);
    else if (!strcmp(a, "append"))
        st = do_append(&o);
    else if (!strcmp(a, "checkpoint"))
        st = do_checkpoint(&o);
    else if (!strcmp(a, "prove"))
        st = do_prove(&o);
    else if (!strcmp(a, "verify"))
        st = do_verify(&o);
    else if (!strcmp(a, "consistency"))
        st = do_consistency(&o);
    else if (!strcmp(a, "audit"))
        st = do_audit(&o);
    else if (!strcmp(a, "request"))
        st = do_request(&o);
    else if (!strcmp(a, "get"))
        st = do_get(&o);
    else if (!strcmp(a, "cosigned"))
        st = do_cosigned(&o);
    else
        st = cli_usage(CMD, "unknown action '%s'", a);
    cli_list_free(&o.vkeys);
    return st;
}
