/*
 * err.c: error codes, their names, and the message channel.
 *
 * A failing function calls cy_fail() once, where it knows what was wrong;
 * callers above it may add context with cy_wrap().  Messages are one line
 * and never end in a newline.
 *
 * The code does not depend on the message channel: every public function's
 * documented code holds whether or not its caller passes an error buffer.
 * For the NULL case cy_fail() also notes its code in a per-thread slot
 * (like errno, but written only by cy_fail), which cy_wrap() and
 * cy_err_code() return when they have no buffer to read the code from.
 */
#include <stdio.h>
#include <string.h>

#include "base/base.h"

static const char *const names[] = {
    [COMITY_OK] = "ok",
    [COMITY_ERR_NOMEM] = "out of memory",
    [COMITY_ERR_INVALID] = "malformed input",
    [COMITY_ERR_TOOBIG] = "input too large",
    [COMITY_ERR_VERIFY] = "does not verify",
    [COMITY_ERR_IO] = "input/output error",
    [COMITY_ERR_NOTFOUND] = "not found",
    [COMITY_ERR_EXISTS] = "already exists",
    [COMITY_ERR_USAGE] = "bad usage",
    [COMITY_ERR_NOKEY] = "no matching key",
    [COMITY_ERR_LOCKED] = "locked by another writer",
    [COMITY_ERR_DB] = "store error",
    [COMITY_ERR_DENIED] = "not allowed",
    [COMITY_ERR_CONFLICT] = "conflict",
    [COMITY_ERR_INTERNAL] = "internal error",
};

/* dst = a ": " b, truncated to fit (messages are one line, best effort). */
static void join(char dst[COMITY_ERRMSG_MAX], const char *a, const char *b)
{
    size_t o = 0;
    for (const char *p = a; *p && o < COMITY_ERRMSG_MAX - 1; p++)
        dst[o++] = *p;
    for (const char *p = ": "; *p && o < COMITY_ERRMSG_MAX - 1; p++)
        dst[o++] = *p;
    for (const char *p = b; *p && o < COMITY_ERRMSG_MAX - 1; p++)
        dst[o++] = *p;
    dst[o] = 0;
}

/* The code of this thread's latest cy_fail(); see the comment at the top. */
static _Thread_local comity_err last_code;

const char *comity_strerror(comity_err code)
{
    if ((unsigned)code < CY_ARRAY_LEN(names) && names[code])
        return names[code];
    return "unknown error";
}

void cy_err_clear(comity_error *err)
{
    last_code = COMITY_OK;
    if (err) {
        err->code = COMITY_OK;
        err->msg[0] = 0;
    }
}

comity_err cy_err_code(const comity_error *err)
{
    comity_err code = err ? err->code : last_code;
    return code != COMITY_OK ? code : COMITY_ERR_INTERNAL;
}

comity_err cy_fail(comity_error *err, comity_err code, const char *fmt, ...)
{
    last_code = code;
    if (!err)
        return code;
    char msg[COMITY_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (err->code != COMITY_OK && err->msg[0]) {
        /* keep the deeper explanation */
        char old[COMITY_ERRMSG_MAX];
        memcpy(old, err->msg, sizeof old);
        join(err->msg, msg, old);
    } else {
        memcpy(err->msg, msg, sizeof msg);
    }
    err->code = code;
    return code;
}

comity_err cy_wrap(comity_error *err, const char *fmt, ...)
{
    if (!err)
        return cy_err_code(NULL);
    char pre[COMITY_ERRMSG_MAX], old[COMITY_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    if (old[0])
        join(err->msg, pre, old);
    else
        snprintf(err->msg, sizeof err->msg, "%s", pre);
    if (err->code == COMITY_OK)
        err->code = COMITY_ERR_INTERNAL;
    return err->code;
}
