/*
 * cmd_open.c: `comity open`: decrypt an age file with identity files.
 *
 * A thin client of comity_open_stream.  Each -i file is a comity party key
 * file or a standard age identity file (age-keygen output); all of them are
 * tried.  The plaintext goes to stdout or, via a temporary file renamed on
 * success, to -o OUT (mode 0600: it is the secret).
 *
 * Exit status: 0 opened; 1 the file does not open: no identity matches
 * (wrong key) or it does not authenticate (header MAC or a payload chunk:
 * altered); 2 usage or malformed input (not an age file, bad armor,
 * truncated, trailing data); 3 internal or I/O error.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "age_out.h"
#include "cli.h"

/* Reads every identity file, checking each on its own (so a message names
 * the file), then parses them together into one set (OUT *ids). */
static int load_identities(const struct cli_list *files, comity_identities **ids)
{
    comity_error e = {0};
    char *all = NULL;
    size_t all_len = 0, all_cap = 0;
    int st = CLI_OK;
    for (size_t i = 0; i < files->n && st == CLI_OK; i++) {
        comity_identities *one = NULL;
        char *text = NULL;
        size_t len = 0;
        if (comity_read_file(files->v[i], COMITY_AGE_IDFILE_MAX, &text, &len, &e)) {
            st = cli_error("open", &e);
            break;
        }
        if (comity_identities_parse(text, len, &one, &e)) {
            char what[COMITY_ERRMSG_MAX];
            snprintf(what, sizeof what, "open: %s", files->v[i]);
            st = cli_error(what, &e);
            comity_free_secret(text, len);
            break;
        }
        comity_identities_free(one);
        if (all_len + len + 1 > all_cap) {
            size_t nc = (all_len + len + 1) * 2;
            char *n = malloc(nc);
            if (!n) {
                fprintf(stderr, "comity: out of memory\n");
                st = CLI_FAIL;
                comity_free_secret(text, len);
                break;
            }
            if (all) {
                memcpy(n, all, all_len);
                comity_wipe(all, all_cap);
                free(all);
            }
            all = n;
            all_cap = nc;
        }
        memcpy(all + all_len, text, len);
        all_len += len;
        all[all_len++] = '\n';
        comity_free_secret(text, len);
    }
    if (st == CLI_OK && comity_identities_parse(all, all_len, ids, &e)) {
        if (e.code == COMITY_ERR_TOOBIG)
            snprintf(e.msg, sizeof e.msg,
                     "the identity files together exceed %u bytes", COMITY_AGE_IDFILE_MAX);
        st = cli_error("open", &e);
    }
    comity_wipe(all, all_cap);
    free(all);
    return st;
}

int cmd_open(int argc, char **argv)
{
    struct cli_list idfiles = {0};
    const char *out_path = NULL, *in_path = NULL;
    int st = CLI_OK;
    FILE *in = NULL;
    comity_identities *ids = NULL;
    struct age_out out = {0};

    for (int i = 1; i < argc && st == CLI_OK; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            st = cli_help("open");
            goto done;
        } else if (strcmp(a, "-i") == 0 || strcmp(a, "-o") == 0) {
            if (i + 1 >= argc) {
                st = cli_usage("open", "%s needs a value", a);
                break;
            }
            if (a[1] == 'o')
                out_path = argv[++i];
            else if (cli_list_add(&idfiles, argv[++i]) != 0)
                st = CLI_FAIL;
        } else if (a[0] == '-' && a[1]) {
            st = cli_usage("open", "unknown option %s", a);
        } else if (in_path) {
            st = cli_usage("open", "one input file at most (got %s and %s)", in_path, a);
        } else {
            in_path = a;
        }
    }
    if (st == CLI_OK && idfiles.n == 0)
        st = cli_usage("open", "no identity: give -i KEYFILE");
    if (st == CLI_OK)
        st = load_identities(&idfiles, &ids);
    if (st == CLI_OK) {
        if (!in_path || strcmp(in_path, "-") == 0) {
            in = stdin;
        } else if (!(in = fopen(in_path, "rb"))) {
            fprintf(stderr, "comity: %s: %s\n", in_path, strerror(errno));
            st = CLI_USAGE;
        }
    }
    if (st == CLI_OK)
        st = age_out_open(&out, out_path, 0600);
    if (st == CLI_OK) {
        comity_error e = {0};
        comity_err rc = comity_open_stream(in, out.f, ids, &e);
        if (rc) {
            const char *what = in_path && strcmp(in_path, "-") ? in_path : "open";
            st = cli_error(what, &e);
            if (rc == COMITY_ERR_NOKEY || rc == COMITY_ERR_VERIFY)
                st = CLI_NO;
            age_out_abort(&out);
        } else {
            st = age_out_commit(&out);
        }
    }
done:
    if (in && in != stdin)
        fclose(in);
    comity_identities_free(ids);
    cli_list_free(&idfiles);
    return st;
}
