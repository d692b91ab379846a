/*
 * store.c: which backend a store location names, and the check that a
 * backend fills every operation of the interface (store.h).
 *
 * Backends fill their tables of operations with designated initializers,
 * so a member added to cy_store_ops, cy_record_ops, cy_fw_store_ops or
 * cy_peer_ops and forgotten by one backend is NULL there:
 * comity_store_open refuses such a backend by name rather than crash on
 * its first call, and test_store checks both backends' tables.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "pg/db.h"
#include "store/store.h"

typedef void (*any_fn)(void);

/* The index (1-based) of the first NULL function pointer among the n at
 * `p`, or 0 when all are set.  The tables hold only function pointers
 * (after cy_store_ops.name), hence the walk. */
static size_t first_null(const void *p, size_t bytes)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < bytes / sizeof(any_fn); i++) {
        any_fn f;
        memcpy(&f, b + i * sizeof f, sizeof f);
        if (!f)
            return i + 1;
    }
    return 0;
}

_Static_assert((sizeof(cy_store_ops) - offsetof(cy_store_ops, close)) % sizeof(any_fn) == 0,
               "cy_store_ops holds only function pointers after its name");
_Static_assert(sizeof(cy_record_ops) % sizeof(any_fn) == 0, "cy_record_ops: functions only");
_Static_assert(sizeof(cy_fw_store_ops) % sizeof(any_fn) == 0, "cy_fw_store_ops: functions only");
_Static_assert(sizeof(cy_peer_ops) % sizeof(any_fn) == 0, "cy_peer_ops: functions only");

bool cy_store_ops_complete(const comity_store *st, char missing[32])
{
    size_t k;
    const char *which = NULL;
    if (!st->ops || !st->ops->name) {
        which = "store", k = 0;
    } else if ((k = first_null((const char *)st->ops + offsetof(cy_store_ops, close),
                               sizeof(cy_store_ops) - offsetof(cy_store_ops, close)))) {
        which = "store";
    } else if (!st->rec || (k = first_null(st->rec, sizeof *st->rec))) {
        which = "record";
    } else if (!st->fw || (k = first_null(st->fw, sizeof *st->fw))) {
        which = "fw";
    } else if (!st->peer || (k = first_null(st->peer, sizeof *st->peer))) {
        which = "peer";
    }
    if (missing)
        snprintf(missing, 32, "%s %zu", which ? which : "", k);
    return which == NULL;
}

comity_err comity_store_open(const char *uri, comity_store **st, comity_error *err)
{
    if (!uri || !st)
        return cy_fail(err, COMITY_ERR_USAGE, "store: no location given");
    const char *pg = cy_pg_conninfo(uri);
    comity_err rc;
    if (pg)
        rc = cy_store_pg_open(pg, st, err);
    else
        rc = cy_store_sqlite_open(strncmp(uri, "sqlite:", 7) ? uri : uri + 7, st, err);
    char missing[32];
    if (!rc && !cy_store_ops_complete(*st, missing)) {
        rc = cy_fail(err, COMITY_ERR_INTERNAL, "store: backend %s lacks operation %s",
                     (*st)->ops && (*st)->ops->name ? (*st)->ops->name : "?", missing);
        comity_store_close(*st);
        *st = NULL;
    }
    return rc;
}

void comity_store_close(comity_store *st)
{
    if (!st)
        return;
    if (st->ops && st->ops->close)
        st->ops->close(st->impl);
    cy_free(st);
}
