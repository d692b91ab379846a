/*
 * config.c: the client configuration file (client.conf) of the commands
 * that talk to a node: "name = value" lines (url, token, key, cacert,
 * insecure, keys), '#' comments.  Strict: an unknown setting, a line
 * without '=', an empty value, a NUL byte, or insecure other than true or
 * false is an error naming the line.  Only libc: fuzz/fuzz_client_conf.c
 * builds this file alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static const char *const names[CLI_CF_N] = {"url", "token", "key", "cacert", "insecure",
                                            "keys"};
/* settings that are paths, read from the config file's folder when relative */
static const int is_path[CLI_CF_N] = {0, 0, 1, 1, 0, 1};

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = 0;
    return s;
}

/* One line (NUL-terminated, writable): 0, -1 (err written) or -2. */
static int line_parse(const char *path, int dirlen, size_t lineno, char *line,
                      char *val[CLI_CF_N], char *err, size_t errcap)
{
    char *p = trim(line);
    if (!*p || *p == '#')
        return 0;
    for (const char *c = p; *c; c++)
        if ((*c > 0 && *c < ' ' && *c != '\t') || *c == 0x7f) {
            snprintf(err, errcap, "%s line %zu: a control character at byte %zu", path, lineno,
                     (size_t)(c - line) + 1);
            return -1;
        }
    char *eq = strchr(p, '=');
    if (!eq) {
        snprintf(err, errcap, "%s line %zu: want 'name = value'", path, lineno);
        return -1;
    }
    *eq = 0;
    char *name = trim(p), *value = trim(eq + 1);
    int k = -1;
    for (int i = 0; i < CLI_CF_N; i++)
        if (!strcmp(name, names[i]))
            k = i;
    if (k < 0) {
        snprintf(err, errcap, "%s line %zu: unknown setting '%.64s' (url, token, key, cacert, "
                              "insecure, keys)", path, lineno, name);
        return -1;
    }
    if (!*value) {
        snprintf(err, errcap, "%s line %zu: '%s' has no value", path, lineno, name);
        return -1;
    }
    if (k == CLI_CF_INSECURE && strcmp(value, "true") && strcmp(value, "false")) {
        snprintf(err, errcap, "%s line %zu: insecure wants true or false", path, lineno);
        return -1;
    }
    if (val[k])
        return 0; /* a flag or the environment set it */
    size_t need = strlen(value) + (size_t)dirlen + 2;
    char *v = malloc(need);
    if (!v)
        return -2;
    if (is_path[k] && value[0] != '/' && dirlen)
        snprintf(v, need, "%.*s/%s", dirlen, path, value);
    else
        snprintf(v, need, "%s", value);
    val[k] = v;
    return 0;
}

int cli_config_parse(const char *path, const char *text, size_t len, char *val[CLI_CF_N],
                     char *err, size_t errcap)
{
    if (len > CLI_CONFIG_MAX) {
        snprintf(err, errcap, "%s: larger than %u bytes", path, CLI_CONFIG_MAX);
        return -1;
    }
    if (memchr(text, 0, len)) {
        snprintf(err, errcap, "%s: not a text file (a NUL byte)", path);
        return -1;
    }
    char *copy = malloc(len + 1);
    if (!copy)
        return -2;
    memcpy(copy, text, len);
    copy[len] = 0;
    const char *slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path) : 0;
    int rc = 0;
    size_t lineno = 0;
    for (char *line = copy; line && rc == 0;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = 0;
        lineno++;
        rc = line_parse(path, dirlen, lineno, line, val, err, errcap);
        line = nl ? nl + 1 : NULL;
    }
    free(copy);
    return rc;
}
