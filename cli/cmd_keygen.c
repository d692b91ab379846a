/*
 * cmd_keygen.c: `comity keygen`, `comity key show`, and `comity key
 * backup|restore` (with recipients and identities, or a passphrase read
 * from the terminal or a file descriptor: never from the command line,
 * where any user of the machine could read it in the process list).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"

static void print_identity(const comity_key *k)
{
    printf("%s %s\n", comity_key_vkey(k), comity_key_recipient(k));
}

int cmd_keygen(int argc, char **argv)
{
    const char *party = NULL, *out = NULL;
    static const struct option opts[] = {
        {"party", required_argument, 0, 'p'}, {"out", required_argument, 0, 'o'}, {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:o:", opts, NULL)) != -1) {
        if (c == 'p')
            party = optarg;
        else if (c == 'o')
            out = optarg;
        else
            return cli_usage("keygen", "unknown option");
    }
    if (!party)
        return cli_usage("keygen", "--party NAME is required (e.g. --party pk.pkcert)");
    if (optind != argc)
        return cli_usage("keygen", "unexpected argument '%s'", argv[optind]);
    char path[1024];
    if (!out) {
        snprintf(path, sizeof path, "%s.key", party);
        out = path;
    }
    comity_error e = {0};
    comity_key *k;
    if (comity_key_generate(party, &k, &e))
        return cli_error("keygen", &e);
    if (comity_key_save(k, out, &e)) {
        comity_key_free(k);
        return cli_error("keygen", &e);
    }
    fprintf(stderr, "wrote %s (mode 0600): keep it secret; send the line below to your peers\n", out);
    print_identity(k);
    comity_key_free(k);
    return cli_finish(CLI_OK);
}

/* Reads a passphrase: from file descriptor `fd` (>= 0: to its end or a
 * first newline, which is dropped), or else from the terminal (/dev/tty)
 * with echo off, asked twice when `confirm`.  OUT buf[*len] (the caller
 * wipes it).  A message and CLI_USAGE/CLI_FAIL when it cannot. */
static int read_passphrase(int fd, bool confirm, char *buf, size_t cap, size_t *len)
{
    *len = 0;
    if (fd >= 0) {
        size_t n = 0;
        for (;;) {
            ssize_t r = read(fd, buf + n, cap + 1 - n); /* buf holds cap + 1 */
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0)
                return cli_usage("key", "--passphrase-fd %d: %s", fd, strerror(errno));
            if (r == 0 || memchr(buf + n, '\n', (size_t)r)) {
                n += (size_t)r;
                break;
            }
            n += (size_t)r;
            if (n == cap + 1)
                break;
        }
        char *nl = memchr(buf, '\n', n);
        if (nl)
            n = (size_t)(nl - buf);
        if (n && buf[n - 1] == '\r')
            n--;
        if (n > cap)
            return cli_usage("key", "the passphrase is over %d bytes",
                             COMITY_AGE_PASSPHRASE_MAX);
        *len = n;
        return n ? CLI_OK : cli_usage("key", "an empty passphrase (--passphrase-fd %d)", fd);
    }
    int tty = open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (tty < 0)
        return cli_usage("key", "no terminal to ask the passphrase on: give it on a file "
                                "descriptor, --passphrase-fd N");
    struct termios old, quiet;
    bool echo_off = tcgetattr(tty, &old) == 0;
    int status = CLI_OK;
    char again[COMITY_AGE_PASSPHRASE_MAX + 2];
    for (int round = 0; round < (confirm ? 2 : 1) && status == CLI_OK; round++) {
        char *dst = round ? again : buf;
        const char *prompt = round ? "Confirm passphrase: " : "Passphrase: ";
        if (echo_off) { /* before the prompt: what is typed after it is kept */
            quiet = old;
            quiet.c_lflag &= (tcflag_t)~(ECHO | ECHONL);
            quiet.c_lflag |= ICANON;
            tcsetattr(tty, TCSAFLUSH, &quiet);
        }
        if (write(tty, prompt, strlen(prompt)) < 0) {
            status = cli_usage("key", "the terminal: %s", strerror(errno));
            if (echo_off)
                tcsetattr(tty, TCSANOW, &old);
            break;
        }
        size_t n = 0;
        char c;
        ssize_t r;
        while ((r = read(tty, &c, 1)) == 1 && c != '\n' && c != '\r')
            if (n < cap)
                dst[n++] = c;
            else
                n = cap + 1;
        if (echo_off)
            tcsetattr(tty, TCSANOW, &old);
        if (write(tty, "\n", 1) < 0) {
            /* the newline is cosmetic */
        }
        if (n > cap)
            status = cli_usage("key", "the passphrase is over %d bytes",
                               COMITY_AGE_PASSPHRASE_MAX);
        else if (r < 0)
            status = cli_usage("key", "the terminal: %s", strerror(errno));
        else if (n == 0)
            status = cli_usage("key", "an empty passphrase");
        else if (round && (n != *len || memcmp(buf, again, n) != 0))
            status = cli_usage("key", "the two passphrases differ");
        else if (!round)
            *len = n;
    }
    comity_wipe(again, sizeof again);
    close(tty);
    return status;
}

/* --passphrase (the terminal) or --passphrase-fd N: OUT *fd (-1: the
 * terminal); false when argv[*i] is neither. */
static bool passphrase_opt(int argc, char **argv, int *i, bool *want, int *fd, int *status)
{
    if (!strcmp(argv[*i], "--passphrase")) {
        *want = true;
        return true;
    }
    if (strcmp(argv[*i], "--passphrase-fd") != 0 || *i + 1 >= argc)
        return false;
    char *end = NULL;
    long v = strtol(argv[++*i], &end, 10);
    if (!*argv[*i] || *end || v < 0 || v > 1024)
        *status = cli_usage("key", "--passphrase-fd wants a file descriptor number");
    *want = true;
    *fd = (int)v;
    return true;
}

/* comity key backup OUT --to AGE1...|--passphrase[-fd N] [--node DIR] [KEYFILE...] */
static int key_backup(int argc, char **argv)
{
    const char *out = NULL, *dir = NULL;
    const char *to[16], *files[256];
    size_t nto = 0, nfiles = 0;
    bool pass = false;
    int fd = -1, status = CLI_OK;
    for (int i = 2; i < argc && status == CLI_OK; i++) {
        if (passphrase_opt(argc, argv, &i, &pass, &fd, &status)) {
            continue;
        } else if (!strcmp(argv[i], "--to") && i + 1 < argc) {
            if (nto == 16)
                return cli_usage("key", "backup: at most 16 --to");
            to[nto++] = argv[++i];
        } else if (!strcmp(argv[i], "--node") && i + 1 < argc) {
            dir = argv[++i];
        } else if (argv[i][0] == '-') {
            return cli_usage("key", "backup: unknown or incomplete option %s", argv[i]);
        } else if (!out) {
            out = argv[i];
        } else {
            if (nfiles == 256)
                return cli_usage("key", "backup: at most 256 key files");
            files[nfiles++] = argv[i];
        }
    }
    if (status != CLI_OK)
        return status;
    if (!out || (!nto && !pass) || (nto && pass) || (!dir && !nfiles))
        return cli_usage("key", "want 'comity key backup OUT --to AGE1...|--passphrase"
                                "|--passphrase-fd N [--node DIR] [KEYFILE...]'");
    size_t n = 0;
    comity_error e = {0};
    if (pass) {
        char pw[COMITY_AGE_PASSPHRASE_MAX + 2];
        size_t pl = 0;
        if ((status = read_passphrase(fd, true, pw, COMITY_AGE_PASSPHRASE_MAX, &pl)) == CLI_OK &&
            comity_keys_backup_passphrase(dir, files, nfiles, pw, pl, out, &n, &e))
            status = cli_error("key backup", &e);
        comity_wipe(pw, sizeof pw);
        if (status != CLI_OK)
            return status;
        printf("sealed %zu key file(s) with a passphrase (scrypt, work factor 2^%d) in %s\n", n,
               COMITY_AGE_SCRYPT_LOGN, out);
        return cli_finish(CLI_OK);
    }
    if (comity_keys_backup(dir, files, nfiles, to, nto, out, &n, &e))
        return cli_error("key backup", &e);
    printf("sealed %zu key file(s) to %zu recipient(s) in %s\n", n, nto, out);
    return cli_finish(CLI_OK);
}

/* comity key restore IN OUTDIR --identity FILE */
static int key_restore(int argc, char **argv)
{
    const char *a[2] = {NULL, NULL}, *idf = NULL;
    int n = 0, fd = -1, status = CLI_OK;
    bool pass = false;
    for (int i = 2; i < argc && status == CLI_OK; i++) {
        if (passphrase_opt(argc, argv, &i, &pass, &fd, &status))
            continue;
        else if (!strcmp(argv[i], "--identity") && i + 1 < argc)
            idf = argv[++i];
        else if (argv[i][0] == '-' && argv[i][1])
            return cli_usage("key", "restore: unknown or incomplete option %s", argv[i]);
        else if (n == 2)
            return cli_usage("key", "restore: two arguments, IN and OUTDIR");
        else
            a[n++] = argv[i];
    }
    if (status != CLI_OK)
        return status;
    if (n != 2 || (!idf && !pass) || (idf && pass))
        return cli_usage("key", "want 'comity key restore IN OUTDIR --identity FILE"
                                "|--passphrase|--passphrase-fd N'");
    comity_error e = {0};
    comity_identities *ids = NULL;
    char *listing = NULL;
    if (pass) {
        char pw[COMITY_AGE_PASSPHRASE_MAX + 2];
        size_t pl = 0;
        if ((status = read_passphrase(fd, false, pw, COMITY_AGE_PASSPHRASE_MAX, &pl)) == CLI_OK &&
            comity_keys_restore_passphrase(a[0], pw, pl, a[1], &listing, &e))
            status = cli_error("key restore", &e);
        comity_wipe(pw, sizeof pw);
        if (status == CLI_OK)
            printf("%s\n", listing);
        comity_free(listing);
        return cli_finish(status);
    }
    if (comity_identities_load(idf, &ids, &e) || comity_keys_restore(a[0], ids, a[1], &listing,
                                                                     &e)) {
        comity_identities_free(ids);
        return cli_error("key restore", &e);
    }
    comity_identities_free(ids);
    printf("%s\n", listing);
    comity_free(listing);
    return cli_finish(CLI_OK);
}

int cmd_key(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "backup"))
        return key_backup(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "restore"))
        return key_restore(argc, argv);
    if (argc < 2 || strcmp(argv[1], "show") != 0)
        return cli_usage("key", "want 'comity key show|backup|restore ...'");
    if (argc > 3)
        return cli_usage("key", "unexpected argument '%s'", argv[3]);
    const char *path = argc == 3 ? argv[2] : "-";
    comity_error e = {0};
    comity_key *k;
    if (comity_key_load(path, &k, &e))
        return cli_error("key show", &e);
    print_identity(k);
    comity_key_free(k);
    return cli_finish(CLI_OK);
}
