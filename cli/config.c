/*
 * config.c: the client configuration file (client.conf) of the commands
 * that talk to a node: url, token, key, cacert, insecure, keys.  The file
 * format and its refusals (line length, control bytes, lines without '=',
 * empty values) are the library's comity_conf_parse, shared with the
 * node's node.conf; here: which names exist, insecure true or false, and
 * paths read from the file's folder.  fuzz/fuzz_client_conf.c builds this
 * file against the library.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comity.h"
#include "config.h"

static const char *const names[CLI_CF_N] = {"url", "token", "key", "cacert", "insecure",
                                            "keys"};
/* settings that are paths, read from the config file's folder when relative */
static const int is_path[CLI_CF_N] = {0, 0, 1, 1, 0, 1};

struct cf {
    const char *path;
    int dirlen;
    char **val;
    int nomem;
};

static comity_err refuse(comity_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static comity_err refuse(comity_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return err->code = COMITY_ERR_USAGE;
}

static comity_err setting(void *ctx, const char *name, const char *value, const char *where,
                          comity_error *err)
{
    struct cf *cf = ctx;
    int k = -1;
    for (int i = 0; i < CLI_CF_N; i++)
        if (!strcmp(name, names[i]))
            k = i;
    if (k < 0)
        return refuse(err, "%s: unknown setting '%.64s' (url, token, key, cacert, "
                           "insecure, keys)", where, name);
    if (k == CLI_CF_INSECURE && strcmp(value, "true") && strcmp(value, "false"))
        return refuse(err, "%s: insecure wants true or false", where);
    if (cf->val[k])
        return COMITY_OK; /* a flag or the environment set it */
    size_t need = strlen(value) + (size_t)cf->dirlen + 2;
    char *v = malloc(need);
    if (!v) {
        cf->nomem = 1;
        return COMITY_ERR_NOMEM;
    }
    if (is_path[k] && value[0] != '/' && cf->dirlen)
        snprintf(v, need, "%.*s/%s", cf->dirlen, cf->path, value);
    else
        snprintf(v, need, "%s", value);
    cf->val[k] = v;
    return COMITY_OK;
}

int cli_config_parse(const char *path, const char *text, size_t len, char *val[CLI_CF_N],
                     char *err, size_t errcap)
{
    const char *slash = strrchr(path, '/');
    struct cf cf = {.path = path, .dirlen = slash ? (int)(slash - path) : 0, .val = val};
    comity_error e = {0};
    if (comity_conf_parse(path, text, len, setting, &cf, &e) == COMITY_OK)
        return 0;
    if (cf.nomem)
        return -2;
    snprintf(err, errcap, "%s", e.msg);
    return -1;
}
