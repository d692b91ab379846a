/*
 * files.h: the node's store of sealed evidence files (private to
 * libcomity; files.c).
 *
 * A file is an age file: the client seals it to the parties of a case and
 * the node never sees its plaintext.  It is stored content-addressed, under
 * the SHA-256 of those very bytes (64 lowercase hex digits, the "hash"
 * below), with its size.  This module stores and finds; it holds no rule
 * of comity: who may upload or fetch a file is decided by src/framework
 * (a case record that references the file by hash and size), and handed
 * here as nothing more than a hash.  Besides the bytes it keeps, per file,
 * a list of short strings the caller gives (refs: the node keeps the ids
 * of the records the file is attached to, and who uploaded it), so that
 * the caller can ask the framework about them.
 *
 * Layout under the directory given to cy_files_open:
 *
 *   ab/abcdef...64 hex     the file (read-only, mode 0444)
 *   ab/abcdef....refs      record ids, one a line (written whole, renamed)
 *   tmp/                   uploads in progress, and refs being rewritten
 *   attached.log           the attach journal: "HASH SIZE REF" a line, in the
 *                          order refs were added (appended, fdatasync'ed)
 *
 * Durability.  A file is written to tmp/, fsynced, checked against the
 * hash and size the writer declared, renamed into place, and the
 * directory fsynced: when cy_files_put_commit returns COMITY_OK the file
 * survives a crash of the process or the machine, and at no moment does a
 * partial file stand under a hash (a kill -9 at any point leaves at most a
 * temporary, which cy_files_open sweeps).  The refs file is replaced the
 * same way.  destroy unlinks the file and its refs and fsyncs the
 * directory.
 *
 * Threads.  Every function may be called from many threads at once on
 * one handle.  Two uploads of the same hash run side by side, each into
 * its own temporary; whichever commits second finds the file in place and
 * drops its copy (the bytes are the same, by the hash).  refs updates are
 * serialised by a mutex of the handle.
 *
 * Memory.  Constant whatever the size: a writer holds a SHA-256 state and
 * a file descriptor; a reader is a file descriptor.
 *
 * Caps: the size of one file, given to cy_files_open (COMITY_FILE_MAX_DEFAULT
 * unless configured), refused with COMITY_ERR_TOOBIG, both when declared
 * and when more bytes arrive than declared; CY_FILES_REFS_MAX record ids
 * per file (TOOBIG).
 *
 * This API is stable: retention (src/framework, later) calls
 * cy_files_destroy and cy_files_list.
 */
#ifndef COMITY_FILES_FILES_H
#define COMITY_FILES_FILES_H

#include <stdbool.h>
#include <stdint.h>

#include "base/base.h"

#define CY_FILES_HASH_LEN 64          /* lowercase hex SHA-256 */
#define CY_FILES_REFS_MAX 1024        /* record ids kept per file */
#define CY_FILES_REF_MAX 200          /* bytes of one record id */
/* The default cap on one file's size (4 GiB); a node may configure another. */
#define COMITY_FILE_MAX_DEFAULT ((uint64_t)4 << 30)

typedef struct cy_files cy_files;
typedef struct cy_files_put cy_files_put;

/* Opens (creating it, mode 0700, when absent) the file store at `dir`,
 * sweeping every temporary left by a crash.  `max_size`: the cap on one
 * file (0: COMITY_FILE_MAX_DEFAULT).  OUT *out: cy_files_close. */
comity_err cy_files_open(const char *dir, uint64_t max_size, cy_files **out,
                         comity_error *err) CY_MUST_CHECK;
/* Frees the handle (NULL: no-op).  Writers still open must be aborted or
 * committed first. */
void cy_files_close(cy_files *fs);
/* The cap on one file's size. */
uint64_t cy_files_max_size(const cy_files *fs);

/* Whether `s` is a hash as this store names files (64 lowercase hex). */
bool cy_files_hash_valid(const char *s);

/* ---- writing: put-stream ----------------------------------------------------- */

/* A size not declared at put_begin: the cap alone holds. */
#define CY_FILES_SIZE_UNKNOWN UINT64_MAX

/* Starts storing a file whose SHA-256 the writer declares (`hash`; NULL:
 * declared later, with cy_files_put_expect, before commit) and whose size
 * it declares (`size`, or CY_FILES_SIZE_UNKNOWN).  Refused before anything
 * is written: a hash that is not one (INVALID), a size over the cap
 * (TOOBIG).  OUT *out: then cy_files_put_write any number of times and
 * either cy_files_put_commit or cy_files_put_abort (each frees it). */
comity_err cy_files_put_begin(cy_files *fs, const char *hash, uint64_t size,
                              cy_files_put **out, comity_error *err) CY_MUST_CHECK;
/* Declares the hash of a file begun without one (INVALID when `hash` is
 * not one, or a hash was declared already). */
comity_err cy_files_put_expect(cy_files_put *w, const char *hash,
                               comity_error *err) CY_MUST_CHECK;
/* Appends n bytes.  More bytes than declared, or than the cap when the
 * size was not declared: TOOBIG (the writer stays usable only for
 * abort). */
comity_err cy_files_put_write(cy_files_put *w, const void *buf, size_t n,
                              comity_error *err) CY_MUST_CHECK;
/* Checks the size and the hash against those declared (INVALID, and the
 * temporary is removed, when they differ or no hash was declared: nothing
 * is kept), then makes
 * the file durable under its hash.  *created (may be NULL): false when
 * the file was already stored (the new copy is dropped).  Frees w in every
 * case. */
comity_err cy_files_put_commit(cy_files_put *w, bool *created,
                               comity_error *err) CY_MUST_CHECK;
/* Starts or resumes a file kept across restarts in the caller's own
 * partial file `partial` (created when absent; outside the store's tmp/,
 * so never swept): its bytes so far are read and hashed again, and
 * writes append after them (fdatasync'ed every 8 MiB, so that a crash
 * loses at most that much).  A partial longer than `size` is emptied.
 * `hash` and `size` must be given (INVALID, TOOBIG over the cap).
 * Written so far: cy_files_put_written.  OUT *out: then writes, and
 * cy_files_put_commit (the partial linked into place, then removed),
 * cy_files_put_abort (the partial removed) or cy_files_put_keep; each
 * frees it. */
comity_err cy_files_put_resume(cy_files *fs, const char *hash, uint64_t size,
                               const char *partial, cy_files_put **out,
                               comity_error *err) CY_MUST_CHECK;
/* Closes a resumable writer keeping its partial (synced) for a later
 * cy_files_put_resume; any other writer is aborted.  Frees w (NULL:
 * no-op).  IO when the sync failed (the partial stays, maybe shorter). */
comity_err cy_files_put_keep(cy_files_put *w, comity_error *err);
/* Drops the upload and its temporary; frees w (NULL: no-op). */
void cy_files_put_abort(cy_files_put *w);
/* Bytes written so far. */
uint64_t cy_files_put_written(const cy_files_put *w);


/* ---- reading ------------------------------------------------------------------ */

/* Whether file `hash` is stored: COMITY_OK with *size, or NOTFOUND. */
comity_err cy_files_stat(cy_files *fs, const char *hash, uint64_t *size,
                         comity_error *err);
/* Opens file `hash` for reading.  OUT *fd (close it), *size.  NOTFOUND
 * when absent. */
comity_err cy_files_open_read(cy_files *fs, const char *hash, int *fd, uint64_t *size,
                              comity_error *err);

/* ---- refs: which records a party said reference the file ---------------------- */

/* Adds record id `ref` to file `hash`'s refs (no-op when there).  The file
 * must be stored (NOTFOUND).  Durable on return. */
comity_err cy_files_ref_add(cy_files *fs, const char *hash, const char *ref,
                            comity_error *err);
/* Calls fn for each record id of file `hash` (none when absent); fn
 * returns non-zero to stop. */
comity_err cy_files_refs(cy_files *fs, const char *hash,
                         int (*fn)(void *ctx, const char *ref), void *ctx,
                         comity_error *err);
/* Sets *found to whether record id `ref` is among file `hash`'s refs
 * (false when the file is absent). */
comity_err cy_files_ref_has(cy_files *fs, const char *hash, const char *ref, bool *found,
                            comity_error *err);

/* ---- the attach journal: every ref added, in order -------------------------------
 *
 * cy_files_ref_add appends "HASH SIZE REF\n" to attached.log (fdatasync'ed)
 * before it rewrites the refs file, under the handle's mutex, so that a
 * reader walking the journal meets every ref in the order it was added and
 * can follow it with a byte offset as cursor (the federation's file
 * listing, src/node/federation.c).  A line whose refs write then failed
 * (a crash in between) names a ref the refs file lacks: the reader checks
 * with cy_files_refs; adding the ref again appends it again.  The journal
 * only grows (a line is at most CY_FILES_JOURNAL_LINE bytes). */
#define CY_FILES_JOURNAL_LINE (CY_FILES_HASH_LEN + 22 + CY_FILES_REF_MAX + 1)

/* Calls fn(ctx, hash, size, ref, after) for each journal line from byte
 * offset `from`, at most `max` lines, in order; `after` is the offset
 * just past that line.  A line that does not parse (a `from` inside a
 * line) is skipped.  OUT *next: the offset past the last line read (from,
 * when none); *end: the journal's size when the walk began.  fn returns
 * non-zero to stop (then *next is past the line it stopped at). */
comity_err cy_files_journal(cy_files *fs, uint64_t from, size_t max,
                            int (*fn)(void *ctx, const char *hash, uint64_t size,
                                      const char *ref, uint64_t after),
                            void *ctx, uint64_t *next, uint64_t *end, comity_error *err);

/* ---- destroy, list ------------------------------------------------------------ */

/* Removes file `hash` and its refs, durably (NOTFOUND when absent).  The
 * caller decides when (retention); a reader that opened it before keeps
 * reading its descriptor. */
comity_err cy_files_destroy(cy_files *fs, const char *hash, comity_error *err);
/* Calls fn(ctx, hash, size) for each stored file, in no set order; fn
 * returns non-zero to stop. */
comity_err cy_files_list(cy_files *fs,
                         int (*fn)(void *ctx, const char *hash, uint64_t size),
                         void *ctx, comity_error *err);

#endif
