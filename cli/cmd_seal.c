/*
 * cmd_seal.c: `comity seal`: encrypt a file to age X25519 recipients.
 *
 * A thin client of comity_seal_stream: collects recipients from -r and -R,
 * opens the input, and writes the age file (binary, or armored with -a) to
 * stdout or, via a temporary file renamed on success, to -o OUT.
 */
#include <errno.h>
#include <string.h>

#include "age_out.h"
#include "cli.h"

#define RECIPIENTS_FILE_MAX (1u << 20)

/* Adds the recipients of a file to `l`, as pointers into the file's text,
 * which is added to `texts` (the caller frees those with comity_free).  A
 * line is an age recipient (age's -R format), or a line of a comity keys
 * file, "<verifier key> <age1...>" as `comity keygen` prints it, whose last
 * field is taken; '#' comments and blank lines are skipped. */
static int read_recipients(const char *path, struct cli_list *l, struct cli_list *texts)
{
    comity_error e = {0};
    char *text = NULL;
    size_t len = 0;
    if (comity_read_file(path, RECIPIENTS_FILE_MAX, &text, &len, &e))
        return cli_error(NULL, &e);
    if (cli_list_add(texts, text) != 0) {
        comity_free(text);
        fprintf(stderr, "comity: out of memory\n");
        return CLI_FAIL;
    }
    size_t lineno = 0;
    char *p = text, *end = text + len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *next = nl ? nl + 1 : end;
        if (nl)
            *nl = 0;
        lineno++;
        size_t n = strlen(p);
        if (n && p[n - 1] == '\r')
            p[--n] = 0;
        if (n && p[0] != '#') {
            char *sp = strrchr(p, ' ');
            if (sp && strncmp(p, "age1", 4) != 0)
                p = sp + 1; /* "<verifier key> <recipient>" */
            if (!comity_recipient_valid(p, &e)) {
                fprintf(stderr, "comity: %s line %zu: %s\n", path, lineno, e.msg);
                return CLI_USAGE;
            }
            if (cli_list_add(l, p) != 0) {
                fprintf(stderr, "comity: out of memory\n");
                return CLI_FAIL;
            }
        }
        p = next;
    }
    return CLI_OK;
}

int cmd_seal(int argc, char **argv)
{
    struct cli_list rcpt = {0}, texts = {0};
    const char *out_path = NULL, *in_path = NULL;
    int armor = 0, st = CLI_OK;
    FILE *in = NULL;
    struct age_out out = {0};

    for (int i = 1; i < argc && st == CLI_OK; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            st = cli_help("seal");
            goto done;
        } else if (strcmp(a, "-a") == 0 || strcmp(a, "--armor") == 0) {
            armor = 1;
        } else if (strcmp(a, "-r") == 0 || strcmp(a, "-R") == 0 || strcmp(a, "-o") == 0) {
            if (i + 1 >= argc) {
                st = cli_usage("seal", "%s needs a value", a);
                break;
            }
            const char *v = argv[++i];
            if (a[1] == 'o') {
                out_path = v;
            } else if (a[1] == 'R') {
                st = read_recipients(v, &rcpt, &texts);
            } else {
                comity_error e = {0};
                if (!comity_recipient_valid(v, &e))
                    st = cli_usage("seal", "-r %s: %s", v, e.msg);
                else if (cli_list_add(&rcpt, argv[i]) != 0)
                    st = CLI_FAIL;
            }
        } else if (a[0] == '-' && a[1]) {
            st = cli_usage("seal", "unknown option %s", a);
        } else if (in_path) {
            st = cli_usage("seal", "one input file at most (got %s and %s)", in_path, a);
        } else {
            in_path = a;
        }
    }
    if (st == CLI_OK && rcpt.n == 0)
        st = cli_usage("seal", "no recipient: give -r age1... or -R FILE");
    if (st == CLI_OK) {
        if (!in_path || strcmp(in_path, "-") == 0) {
            in = stdin;
        } else if (!(in = fopen(in_path, "rb"))) {
            fprintf(stderr, "comity: %s: %s\n", in_path, strerror(errno));
            st = CLI_USAGE;
        }
    }
    if (st == CLI_OK)
        st = age_out_open(&out, out_path, 0644);
    if (st == CLI_OK && !armor && age_out_is_tty(&out)) {
        st = cli_usage("seal", "refusing to write binary to a terminal: use -a or -o FILE");
        out.f = NULL;
    }
    if (st == CLI_OK) {
        comity_error e = {0};
        if (comity_seal_stream(in, out.f, (const char *const *)rcpt.v, rcpt.n, armor, &e)) {
            st = cli_error("seal", &e);
            age_out_abort(&out);
        } else {
            st = age_out_commit(&out);
        }
    }
done:
    if (in && in != stdin)
        fclose(in);
    for (size_t k = 0; k < texts.n; k++)
        comity_free(texts.v[k]);
    cli_list_free(&texts);
    cli_list_free(&rcpt);
    return st;
}
