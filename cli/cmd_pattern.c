/*
 * cmd_pattern.c: `comity pattern`: checks STIX 2.1 patterns and prints
 * their canonical form (or, with --json, their tree as JSON).
 *
 *   comity pattern [--json] PATTERN
 *   comity pattern [--json] -f FILE      (one pattern per line, - for stdin)
 *
 * Exit 0 when every pattern is valid, 2 when one is not (its error goes to
 * stderr with the pattern and a caret under the byte where it went wrong;
 * with -f the other lines are still checked), 3 on internal errors.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define FILE_CAP (64u << 20) /* bytes of a -f file */

/* Shows the pattern, or a window of it around the error, and a caret under
 * byte `at` (columns counted in UTF-8 characters). */
static void show_caret(const char *text, size_t len, size_t at)
{
    if (at > len)
        at = len;
    size_t start = at > 60 ? at - 60 : 0;
    while (start > 0 && start < len && ((unsigned char)text[start] & 0xC0) == 0x80)
        start--;
    size_t end = len - start > 120 ? start + 120 : len;
    if (end < at)
        end = at;
    while (end < len && ((unsigned char)text[end] & 0xC0) == 0x80)
        end++;
    const char *pre = start ? "..." : "";
    fprintf(stderr, "  %s", pre);
    for (size_t i = start; i < end; i++) {
        unsigned char c = (unsigned char)text[i];
        fputc(c < 0x20 || c == 0x7f ? ' ' : c, stderr);
    }
    fprintf(stderr, "%s\n  %s", end < len ? "..." : "", start ? "   " : "");
    for (size_t i = start; i < at; i++)
        if (((unsigned char)text[i] & 0xC0) != 0x80)
            fputc(' ', stderr);
    fputs("^\n", stderr);
}

/* Checks one pattern; prints the result or the error.  `where` names it in
 * messages ("FILE:LINE"), or is NULL for a pattern given as an argument. */
static int check_one(const char *text, size_t len, unsigned flags,
                     const char *where)
{
    char *out = NULL;
    size_t at = 0;
    comity_error err = {0};
    comity_err rc = comity_pattern_check(text, len, flags, &out, &at, &err);
    if (rc != COMITY_OK) {
        int status = cli_error(where, &err);
        if (rc == COMITY_ERR_INVALID)
            show_caret(text, len, at);
        return status;
    }
    int status = CLI_OK;
    if (fputs(out, stdout) == EOF || fputc('\n', stdout) == EOF)
        status = CLI_FAIL;
    comity_free(out);
    return status;
}

static int check_file(const char *path, unsigned flags)
{
    char *text = NULL;
    size_t len = 0;
    comity_error err = {0};
    if (comity_read_file(path, FILE_CAP, &text, &len, &err) != COMITY_OK)
        return cli_error(NULL, &err);
    const char *name = strcmp(path, "-") == 0 ? "stdin" : path;
    int worst = CLI_OK;
    size_t lineno = 0, checked = 0;
    for (size_t pos = 0; pos < len;) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + (nl != NULL);
        lineno++;
        if (n && line[n - 1] == '\r')
            n--;
        size_t lead = 0;
        while (lead < n && (line[lead] == ' ' || line[lead] == '\t'))
            lead++;
        if (lead == n || line[lead] == '#')
            continue; /* blank lines and # comments */
        char where[512];
        snprintf(where, sizeof where, "%s:%zu", name, lineno);
        int st = check_one(line, n, flags, where);
        checked++;
        if (st > worst)
            worst = st;
    }
    comity_free(text);
    if (checked == 0) {
        fprintf(stderr, "comity pattern: %s has no patterns\n", name);
        return CLI_USAGE;
    }
    return worst;
}

int cmd_pattern(int argc, char **argv)
{
    unsigned flags = 0;
    const char *file = NULL, *pattern = NULL;
    bool more_opts = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (more_opts && strcmp(a, "--") == 0) {
            more_opts = false;
        } else if (more_opts && strcmp(a, "--json") == 0) {
            flags |= COMITY_PATTERN_JSON;
        } else if (more_opts && (strcmp(a, "-f") == 0 || strcmp(a, "--file") == 0)) {
            if (i + 1 >= argc)
                return cli_usage("pattern", "%s needs a file name", a);
            file = argv[++i];
        } else if (more_opts && a[0] == '-' && a[1] != 0) {
            return cli_usage("pattern", "unknown option '%s'", a);
        } else if (!pattern) {
            pattern = a;
        } else {
            return cli_usage("pattern", "give one PATTERN (quote it), or -f FILE");
        }
    }
    if (file && pattern)
        return cli_usage("pattern", "give either PATTERN or -f FILE, not both");
    if (!file && !pattern)
        return cli_usage("pattern", "no pattern given");
    int status = file ? check_file(file, flags)
                      : check_one(pattern, strlen(pattern), flags, NULL);
    return cli_finish(status);
}
