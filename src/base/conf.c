/*
 * conf.c: the "name = value" configuration files that the node (node.conf)
 * and the command (client.conf) read, and the durations they hold ("24h").
 *
 * One strict reader for both, so that the two files follow the same rules
 * and every way such a file can be wrong is refused with its line number
 * (fuzz/fuzz_node_conf.c and fuzz/fuzz_client_conf.c drive it).  What the
 * names mean stays with the caller, which gets one callback per setting.
 */
#include <stdio.h>
#include <string.h>

#include "base/base.h"

/* Trims blanks (and a CR at the end) in place; returns the first kept byte. */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = 0;
    return s;
}

comity_err comity_conf_parse(const char *what, const char *text, size_t len, comity_conf_cb cb,
                             void *ctx, comity_error *err)
{
    if (len > COMITY_CONF_MAX)
        return cy_fail(err, COMITY_ERR_USAGE, "%s: larger than %u bytes", what,
                       COMITY_CONF_MAX);
    if (memchr(text, 0, len))
        return cy_fail(err, COMITY_ERR_USAGE, "%s: not a text file (a NUL byte)", what);
    char buf[COMITY_CONF_LINE_MAX + 1];
    unsigned lineno = 0;
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        char where[160];
        snprintf(where, sizeof where, "%.128s line %u", what, ++lineno);
        if (n > COMITY_CONF_LINE_MAX)
            return cy_fail(err, COMITY_ERR_USAGE, "%s: longer than %d bytes", where,
                           COMITY_CONF_LINE_MAX);
        memcpy(buf, text + pos, n);
        buf[n] = 0;
        pos += n + 1;
        if (n && buf[n - 1] == '\r')
            buf[--n] = 0;
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)buf[i];
            if ((c < ' ' && c != '\t') || c == 0x7f)
                return cy_fail(err, COMITY_ERR_USAGE, "%s: a control character at byte %zu",
                               where, i + 1);
        }
        char *s = trim(buf);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq)
            return cy_fail(err, COMITY_ERR_USAGE, "%s: want 'name = value'", where);
        *eq = 0;
        char *name = trim(s), *value = trim(eq + 1);
        if (!*name)
            return cy_fail(err, COMITY_ERR_USAGE, "%s: a setting without a name", where);
        if (!*value)
            return cy_fail(err, COMITY_ERR_USAGE, "%s: '%.64s' has no value", where, name);
        comity_err rc = cb(ctx, name, value, where, err);
        if (rc)
            return rc;
    }
    return COMITY_OK;
}

comity_err comity_duration_parse(const char *s, int64_t *ms, comity_error *err)
{
    static const struct {
        char unit;
        int64_t ms;
    } units[] = {{'s', 1000}, {'m', 60000}, {'h', 3600000}, {'d', 86400000}};
    int64_t total = 0;
    const char *p = s;
    if (!p || !*p)
        goto bad;
    while (*p) {
        int64_t v = 0;
        size_t digits = 0;
        for (; *p >= '0' && *p <= '9'; p++, digits++) {
            if (digits >= 10)
                goto bad;
            v = v * 10 + (*p - '0');
        }
        if (!digits)
            goto bad;
        int64_t unit = 0;
        for (size_t k = 0; k < CY_ARRAY_LEN(units); k++)
            if (*p == units[k].unit)
                unit = units[k].ms;
        if (!unit || v > (COMITY_DURATION_MAX_MS - total) / unit)
            goto bad;
        total += v * unit;
        p++;
    }
    *ms = total;
    return COMITY_OK;
bad:
    return cy_fail(err, COMITY_ERR_USAGE,
                   "'%.64s' is not a duration: numbers with units s, m, h, d (like 90s, 30m, "
                   "24h, 7d or 1h30m), at most 3650d in all",
                   s ? s : "");
}
