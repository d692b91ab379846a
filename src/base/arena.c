/*
 * arena.c: region allocation for data whose lifetime is one unit of work
 * (an HTTP request, a parsed pattern).  Allocations are carved from 4 KiB
 * chunks (larger requests get a chunk of their own) and released all at
 * once by cy_arena_free; nothing is freed individually.
 */
#include <stddef.h>
#include <string.h>

#include "base/base.h"

#define ARENA_CHUNK 4096

struct cy_arena_chunk {
    struct cy_arena_chunk *next;
    size_t used, cap;
    max_align_t data[];
};

void *cy_arena_alloc(cy_arena *a, size_t n)
{
    if (n == 0)
        n = 1;
    if (n > SIZE_MAX - sizeof(max_align_t))
        return NULL;
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    struct cy_arena_chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
        c = cy_malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->cap = cap;
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    return p;
}

void *cy_arena_calloc(cy_arena *a, size_t n)
{
    void *p = cy_arena_alloc(a, n);
    if (p)
        memset(p, 0, n);
    return p;
}

char *cy_arena_strdup(cy_arena *a, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = cy_arena_alloc(a, n);
    if (p)
        memcpy(p, s, n);
    return p;
}

void cy_arena_free(cy_arena *a)
{
    struct cy_arena_chunk *c = a->head;
    while (c) {
        struct cy_arena_chunk *next = c->next;
        cy_free(c);
        c = next;
    }
    a->head = NULL;
}
