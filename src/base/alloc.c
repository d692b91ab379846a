/*
 * alloc.c: the one allocation wrapper.
 *
 * Every heap allocation in libcomity goes through cy_malloc and friends, so
 * that tests can make the n-th allocation fail (cy_alloc_fail_after) and
 * check that every error path releases what it took, and can add up the
 * bytes asked for (cy_alloc_count_start) to bound what a request costs.
 * comity_free is the public destructor for plain memory handed out by the
 * API.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "base/base.h"

static atomic_long fail_countdown;
static atomic_bool counting;
static atomic_size_t counted;

void cy_alloc_count_start(void)
{
    atomic_store(&counted, 0);
    atomic_store(&counting, true);
}

size_t cy_alloc_counted(void) { return atomic_load(&counted); }

static inline void tally(size_t n)
{
    if (atomic_load_explicit(&counting, memory_order_relaxed))
        atomic_fetch_add_explicit(&counted, n, memory_order_relaxed);
}

void cy_alloc_fail_after(long n) { atomic_store(&fail_countdown, n); }

static bool should_fail(void)
{
    long v = atomic_load(&fail_countdown);
    if (v <= 0)
        return false;
    if (atomic_fetch_sub(&fail_countdown, 1) == 1)
        return true;
    return false;
}

void *cy_malloc(size_t n)
{
    if (should_fail())
        return NULL;
    tally(n);
    return malloc(n ? n : 1);
}

void *cy_calloc(size_t count, size_t n)
{
    if (should_fail())
        return NULL;
    tally(count * n);
    return calloc(count ? count : 1, n ? n : 1);
}

void *cy_realloc(void *p, size_t n)
{
    if (should_fail())
        return NULL;
    tally(n);
    return realloc(p, n ? n : 1);
}

char *cy_strndup(const char *s, size_t n)
{
    char *d = cy_malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

char *cy_strdup(const char *s) { return cy_strndup(s, strlen(s)); }

void cy_free(void *p) { free(p); }

void cy_free_secret(void *p, size_t len)
{
    if (p) {
        sodium_memzero(p, len);
        free(p);
    }
}

void comity_free(void *p) { free(p); }

void comity_wipe(void *p, size_t len)
{
    if (p)
        sodium_memzero(p, len);
}

void comity_free_secret(void *p, size_t len) { cy_free_secret(p, len); }

static void sqlite_quiet(void) { (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }

/* The library's start: the libraries it builds on, before their first
 * use.  SQLite (the store and the log) is told not to keep memory
 * statistics, which nothing here reads: with them on, every SQLite
 * allocation in every thread takes one global mutex (record intake: about
 * 5 us of CPU per record in bench_intake).  That setting only applies
 * before SQLite's first use; called later, SQLite refuses it harmlessly. */
comity_err comity_init(comity_error *err)
{
    if (sodium_init() < 0)
        return cy_fail(err, COMITY_ERR_INTERNAL, "libsodium failed to start");
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    (void)pthread_once(&once, sqlite_quiet);
    return COMITY_OK;
}
