/*
 * log.c: the node's log lines on stderr (cy_log, base.h), as text (the
 * default) or, once comity_logline_json(1) was called, one JSON object a line
 * for a log collector (docs/operations.md, "Log lines"):
 *
 *   {"time":"2026-12-06T14:40:01.123Z","level":"warn","event":"intake.relogged",
 *    "msg":"record ... was missing from the log: logged again at 12",
 *    "record":"...","index":12}
 *
 * time (UTC, this machine's clock, not the COMITY_FAKE_NOW one), level
 * ("info", "warn", "error"), event (a fixed dotted name a filter can
 * match), msg (the text line's words) come first, then the event's own
 * fields, strings or integers.  A field named like one of the four is
 * left out (they are the line's, not the caller's).  Text mode writes
 * "comity node: MSG".
 *
 * Each line goes out in one fwrite on unbuffered stderr, so lines of
 * concurrent threads do not interleave (one write(2) each, short of
 * PIPE_BUF on a pipe).  The format is one process-wide setting, read with
 * an atomic load: set it before the node starts.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "base/base.h"

static atomic_int json_lines;

void comity_logline_json(int on)
{
    atomic_store(&json_lines, on ? 1 : 0);
}

bool cy_log_is_json(void)
{
    return atomic_load(&json_lines) != 0;
}

int comity_logline_is_json(void)
{
    return cy_log_is_json();
}

void comity_logline(int level, const char *event, const char *msg)
{
    cy_log(level == 1 ? CY_LOG_WARN : level == 2 ? CY_LOG_ERROR : CY_LOG_INFO, event, NULL, 0,
           "%s", msg);
}

static const char *const LEVELS[] = {"info", "warn", "error"};

void cy_log(cy_log_level level, const char *event, const cy_log_kv *kv, size_t n,
            const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!cy_log_is_json()) {
        fprintf(stderr, "comity node: %s\n", msg);
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char t[COMITY_TIME_BUF];
    comity_time_format(t, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
    json_t *o = json_object();
    if (!o)
        return;
    json_object_set_new(o, "time", json_string(t));
    json_object_set_new(o, "level", json_string(LEVELS[(unsigned)level < 3 ? level : 2]));
    json_object_set_new(o, "event", json_string(event));
    /* jansson refuses invalid UTF-8: a message quoting a client's bytes
     * is kept as far as it is valid, never dropped whole */
    json_t *m = json_string(msg);
    json_object_set_new(o, "msg", m ? m : json_string("(not UTF-8)"));
    for (size_t i = 0; i < n; i++) {
        const char *k = kv[i].key;
        if (!strcmp(k, "time") || !strcmp(k, "level") || !strcmp(k, "event") ||
            !strcmp(k, "msg"))
            continue;
        json_t *v = kv[i].is_num ? json_integer((json_int_t)kv[i].num)
                    : kv[i].str  ? json_string(kv[i].str)
                                 : json_null();
        json_object_set_new(o, k, v ? v : json_string("(not UTF-8)"));
    }
    char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    json_decref(o);
    if (!line)
        return;
    size_t len = strlen(line);
    char *buf = realloc(line, len + 2);
    if (!buf) {
        free(line);
        return;
    }
    buf[len] = '\n';
    buf[len + 1] = 0;
    fwrite(buf, 1, len + 1, stderr);
    free(buf);
}
