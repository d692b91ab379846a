/*
 * comity.h: the one public API of libcomity.
 *
 * If a function or type does not appear in this file, it is not part of the
 * API: the comity command, the HTTP node and the tests of other modules use
 * only what is declared here.  Everything behind it (the headers under src/) is
 * private and may change at any time.
 *
 * Conventions, which hold for every function below unless its comment says
 * otherwise:
 *
 *   - Functions that can fail return a comity_err (COMITY_OK is 0) and take a
 *     last argument `comity_error *err`, which may be NULL.  On failure the
 *     code and a one-line message saying what was wrong and where
 *     ("record.created: not RFC 3339 at byte 17") are written to it.
 *   - Handles are opaque.  A *_free() function accepts NULL.
 *   - Ownership: an `OUT` pointer to allocated memory is owned by the caller
 *     and released with comity_free() unless a more specific destructor is
 *     named.  Input pointers are borrowed for the duration of the call.
 *   - Secret material is wiped before its memory is released.
 *   - Verify and open functions are marked warn_unused_result: ignoring their
 *     answer is always a bug.
 *
 * Numbers in comity_err only grow; a code is never renumbered or reused.
 */
#ifndef COMITY_H
#define COMITY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define COMITY_API __attribute__((visibility("default")))
#define COMITY_MUST_CHECK __attribute__((warn_unused_result))
#else
#define COMITY_API
#define COMITY_MUST_CHECK
#endif

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

typedef enum comity_err {
    COMITY_OK = 0,
    COMITY_ERR_NOMEM = 1,     /* out of memory */
    COMITY_ERR_INVALID = 2,   /* input is malformed (message says where) */
    COMITY_ERR_TOOBIG = 3,    /* input exceeds a named size cap */
    COMITY_ERR_VERIFY = 4,    /* a signature, MAC or proof does not verify */
    COMITY_ERR_IO = 5,        /* reading or writing a file or stream failed */
    COMITY_ERR_NOTFOUND = 6,  /* no such key, record, file or entry */
    COMITY_ERR_EXISTS = 7,    /* refusing to overwrite something that exists */
    COMITY_ERR_USAGE = 8,     /* the caller asked for something impossible */
    COMITY_ERR_NOKEY = 9,     /* no identity or key can open / check this */
    COMITY_ERR_LOCKED = 10,   /* another writer holds the resource */
    COMITY_ERR_DB = 11,       /* the store failed */
    COMITY_ERR_DENIED = 12,   /* not allowed for this party */
    COMITY_ERR_CONFLICT = 13, /* state changed underneath (e.g. witness size) */
    COMITY_ERR_INTERNAL = 14  /* a bug: an invariant did not hold */
} comity_err;

#define COMITY_ERRMSG_MAX 256

/* Where a failing call explains itself.  Plain data: put one on the stack. */
typedef struct comity_error {
    comity_err code;
    char msg[COMITY_ERRMSG_MAX];
} comity_error;

/* A static English name for a code ("signature does not verify"). */
COMITY_API const char *comity_strerror(comity_err code);

/* Releases memory returned by any comity function (NULL is a no-op). */
COMITY_API void comity_free(void *p);

/* Initialises libsodium; every other function calls it as needed, so an
 * application needs to call it only to fail early.  Thread-safe. */
COMITY_API comity_err comity_init(comity_error *err);

/* ------------------------------------------------------------------------ */
/* Base utilities that the command and the node share                       */
/* ------------------------------------------------------------------------ */

/* Writes `len` bytes to `path` atomically: a temporary file in the same
 * directory, fsync, rename, fsync of the directory.  `mode` as for open(2).
 * If `exclusive`, fails with COMITY_ERR_EXISTS when `path` exists. */
COMITY_API comity_err comity_write_file(const char *path, const void *data,
                                        size_t len, unsigned mode,
                                        int exclusive, comity_error *err);

/* Reads a whole file (or stdin when path is "-") of at most `cap` bytes into
 * a new buffer (OUT, NUL-terminated for convenience; *len excludes the NUL). */
COMITY_API comity_err comity_read_file(const char *path, size_t cap,
                                       char **out, size_t *len,
                                       comity_error *err);

/* ------------------------------------------------------------------------ */
/* Party names and keys                                                     */
/* ------------------------------------------------------------------------ */

#define COMITY_PARTY_MAX 64

/* 1 when `name` is a valid party name (specs/records.md), else 0; on 0 and a
 * non-NULL err, says what is wrong. */
COMITY_API int comity_party_valid(const char *name, comity_error *err);

/* A party's secret key: Ed25519 signing key and X25519 sealing key. */
typedef struct comity_key comity_key;

/* A signed-note verifier key (Ed25519, type 0x01 or cosignature 0x04). */
typedef struct comity_vkey comity_vkey;

/* --- party keys (src/crypto/key.c) --- */

/* --- signed-note verifier keys and notes (src/crypto/note.c) --- */

/* --- DSSE envelopes (src/crypto/dsse.c) --- */

/* --- age sealing (src/crypto/age.c) --- */

/* ------------------------------------------------------------------------ */
/* Records (src/record/)                                                    */
/* ------------------------------------------------------------------------ */

/* ------------------------------------------------------------------------ */
/* Transparency log (src/tlog/)                                             */
/* ------------------------------------------------------------------------ */

/* ------------------------------------------------------------------------ */
/* STIX and sweep (src/stix/, src/sweep/)                                   */
/* ------------------------------------------------------------------------ */

#ifdef __cplusplus
}
#endif
#endif /* COMITY_H */
