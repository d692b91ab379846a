/*
 * buf.c: cy_buf, the bounded growable buffer (see base.h for invariants).
 *
 * Every buffer that holds input from outside has a cap; growing past it is
 * an error, never a silent truncation.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "base/base.h"

void cy_buf_init(cy_buf *b, size_t cap)
{
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->cap = cap;
}

comity_err cy_buf_reserve(cy_buf *b, size_t extra)
{
    if (extra > b->cap - b->len)
        return COMITY_ERR_TOOBIG;
    size_t need = b->len + extra + 1;
    if (need <= b->alloc)
        return COMITY_OK;
    size_t n = b->alloc ? b->alloc : 64;
    while (n < need)
        n = n > SIZE_MAX / 2 ? need : n * 2;
    uint8_t *p = cy_realloc(b->data, n);
    if (!p)
        return COMITY_ERR_NOMEM;
    b->data = p;
    b->alloc = n;
    return COMITY_OK;
}

comity_err cy_buf_append(cy_buf *b, const void *p, size_t n)
{
    comity_err rc = cy_buf_reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
    return COMITY_OK;
}

comity_err cy_buf_puts(cy_buf *b, const char *s) { return cy_buf_append(b, s, strlen(s)); }

comity_err cy_buf_printf(cy_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return COMITY_ERR_INTERNAL;
    comity_err rc = cy_buf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return COMITY_OK;
}

uint8_t *cy_buf_detach(cy_buf *b, size_t *len)
{
    uint8_t *d = b->data;
    if (len)
        *len = b->len;
    if (!d)
        d = (uint8_t *)cy_strdup("");
    b->data = NULL;
    b->len = b->alloc = 0;
    return d;
}

void cy_buf_reset(cy_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = 0;
}

void cy_buf_free(cy_buf *b)
{
    cy_free(b->data);
    b->data = NULL;
    b->len = b->alloc = 0;
}

void cy_buf_free_secret(cy_buf *b)
{
    if (b->data)
        sodium_memzero(b->data, b->alloc);
    cy_buf_free(b);
}
