/*
 * tlog.h: internals of the transparency log (private to src/tlog and tests).
 *
 * Layers, lowest first:
 *   merkle.c     RFC 6962 hashing; root, inclusion and consistency proofs
 *                computed over any source of perfect-subtree hashes (a
 *                callback), and their verification.
 *   tile.c       c2sp.org/tlog-tiles arithmetic: tile paths, partial widths,
 *                entry bundles; the in-memory tile cache with the internal
 *                nodes of each tile, so proofs need no hashing.
 *   checkpoint.c c2sp.org/tlog-checkpoint text, signed as a note.
 *   cosig.c      c2sp.org/tlog-cosignature type 0x04 signing and checking,
 *                and the note verification the witness and policy share.
 *   proof.c      c2sp.org/tlog-proof receipts.
 *   log.c        the log on disk: tiles and bundles as immutable files, the
 *                sequencer state in SQLite, one writer, batched fsync.
 *   witness.c    c2sp.org/tlog-witness add-checkpoint, state in SQLite.
 *   policy.c     c2sp.org/tlog-policy files.
 */
#ifndef COMITY_TLOG_TLOG_H
#define COMITY_TLOG_TLOG_H

#include <stdbool.h>
#include <stdint.h>

#include "base/base.h"
#include "crypto/note.h"

#define CY_HASH 32
/* Most hashes a proof can have: inclusion <= 64, consistency <= 2 * 64. */
#define CY_TLOG_PROOF_MAX 130
#define CY_TILE_WIDTH 256
#define CY_TILE_BYTES (CY_TILE_WIDTH * CY_HASH)
/* Tile levels: 256^8 = 2^64 leaves, so levels 0..7 cover every tree size. */
#define CY_TILE_LEVELS 8

extern const uint8_t cy_tlog_empty_root[CY_HASH]; /* SHA-256("") */

/* ---- merkle.c ---------------------------------------------------------- */

void cy_tlog_leaf_hash(const void *entry, size_t len, uint8_t out[CY_HASH]);
void cy_tlog_node_hash(const uint8_t left[CY_HASH], const uint8_t right[CY_HASH],
                       uint8_t out[CY_HASH]);

/* A source of perfect-subtree hashes: (height h, index k) is the Merkle tree
 * hash of leaves [k * 2^h, (k + 1) * 2^h), which the caller guarantees lie
 * inside the tree the source serves. */
typedef comity_err (*cy_tlog_node_fn)(void *ctx, unsigned h, uint64_t k,
                                      uint8_t out[CY_HASH], comity_error *err);

/* An optional memo for hashes of ranges that are not perfect subtrees (the
 * right edge of a tree, which every proof needs): `get` returns true and
 * fills out when it knows MTH(D[a:b]); `put` offers one it computed. */
typedef struct cy_tlog_memo {
    bool (*get)(void *ctx, uint64_t a, uint64_t b, uint8_t out[CY_HASH]);
    void (*put)(void *ctx, uint64_t a, uint64_t b, const uint8_t h[CY_HASH]);
} cy_tlog_memo;

/* MTH(D[a:b]) where [a, b) is a range RFC 6962 ever asks for: a aligned to
 * the largest power of two not below b - a.  a == b gives the empty root. */
comity_err cy_tlog_range_hash(cy_tlog_node_fn fn, const cy_tlog_memo *memo, void *ctx,
                              uint64_t a, uint64_t b, uint8_t out[CY_HASH],
                              comity_error *err);

/* Inclusion proof of leaf `index` in the tree of `size` (RFC 6962 PATH);
 * proof must hold CY_TLOG_PROOF_MAX hashes; *n gets the count. */
comity_err cy_tlog_prove_inclusion(cy_tlog_node_fn fn, const cy_tlog_memo *memo,
                                   void *ctx, uint64_t index,
                                   uint64_t size, uint8_t (*proof)[CY_HASH],
                                   size_t *n, comity_error *err);
/* Consistency proof from `old` to `size` (RFC 6962 PROOF); empty when
 * old == 0 or old == size. */
comity_err cy_tlog_prove_consistency(cy_tlog_node_fn fn, const cy_tlog_memo *memo,
                                     void *ctx, uint64_t old,
                                     uint64_t size, uint8_t (*proof)[CY_HASH],
                                     size_t *n, comity_error *err);

/* RFC 9162 2.1.3.2 / 2.1.4.2.  COMITY_ERR_VERIFY with a reason on failure.
 * Consistency from old == 0 is refused (as transparency-dev/merkle's vectors
 * expect): any tree extends the empty one, and callers such as the witness
 * check that case themselves. */
comity_err cy_tlog_verify_inclusion(const uint8_t leaf[CY_HASH], uint64_t index,
                                    uint64_t size, const uint8_t (*proof)[CY_HASH],
                                    size_t n, const uint8_t root[CY_HASH],
                                    comity_error *err) CY_MUST_CHECK;
/* The same check, for many proofs in a row (a page of records whose
 * paths share their upper nodes): memo (zeroed before the first call,
 * CY_ARRAY_LEN(s) steps) keeps the last call's steps (node position, the
 * hash below, the sibling, the hash above), and a step made again with
 * the very same inputs takes its output from there instead of hashing.
 * Every sibling of every proof is still compared, so the answer is the
 * one cy_tlog_verify_inclusion gives for the same arguments.  Allocates
 * and frees a memo-sized scratch per call (out of memory: the memo is
 * left as it was, and the answer is the same). */
typedef struct cy_tlog_incl_memo {
    size_t n;
    struct {
        uint64_t fn, sn;
        uint8_t in[CY_HASH], sib[CY_HASH], out[CY_HASH];
    } s[64];
} cy_tlog_incl_memo;
comity_err cy_tlog_verify_inclusion_memo(cy_tlog_incl_memo *memo, const uint8_t leaf[CY_HASH],
                                         uint64_t index, uint64_t size,
                                         const uint8_t (*proof)[CY_HASH], size_t n,
                                         const uint8_t root[CY_HASH],
                                         comity_error *err) CY_MUST_CHECK;
comity_err cy_tlog_verify_consistency(uint64_t old, uint64_t size,
                                      const uint8_t old_root[CY_HASH],
                                      const uint8_t root[CY_HASH],
                                      const uint8_t (*proof)[CY_HASH], size_t n,
                                      comity_error *err) CY_MUST_CHECK;

/* That the tree of `size` (root) does not extend the tree of `old`
 * (old_root), from the larger tree's consistency proof from old to size
 * and its hash of its first `old` leaves (subroot; merkle.c says why that
 * proves it).  COMITY_OK when proven, COMITY_ERR_VERIFY naming why not. */
comity_err cy_tlog_verify_split(uint64_t old, uint64_t size, const uint8_t old_root[CY_HASH],
                                const uint8_t root[CY_HASH], const uint8_t subroot[CY_HASH],
                                const uint8_t (*proof)[CY_HASH], size_t n,
                                comity_error *err) CY_MUST_CHECK;

/* ---- backup.c ---------------------------------------------------------- */

/* Copies the log in `src` (its writer may be running) into `dst` cut at
 * one size: log.db's snapshot (OUT *size), the checkpoint of that size,
 * and the tiles and bundles of trees no larger (see backup.c).  Adds the
 * files and bytes copied to *files and *bytes. */
comity_err cy_tlog_copy(const char *src, const char *dst, uint64_t *size, uint64_t *files,
                        uint64_t *bytes, comity_error *err);

/* ---- tile.c ------------------------------------------------------------ */

/* "tile/<L>/<N>[.p/<W>]" (w == 0 or 256: full) or, for level -1, the entry
 * bundle "tile/entries/<N>[.p/<W>]".  out needs CY_TILE_PATH_MAX bytes. */
#define CY_TILE_PATH_MAX 96
void cy_tile_path(char out[CY_TILE_PATH_MAX], int level, uint64_t n, unsigned w);
/* Parses a path made by cy_tile_path (strict: no leading zeros, 3 digits per
 * element, x prefixes).  level -1 for entries; *w 0 for full tiles. */
comity_err cy_tile_path_parse(const char *path, int *level, uint64_t *n,
                              unsigned *w, comity_error *err) CY_MUST_CHECK;
/* Width of the partial tile at `level` for tree `size`:
 * floor(size / 256^level) mod 256 (0: no partial tile). */
unsigned cy_tile_partial_width(uint64_t size, unsigned level);

/* The hashes of one tile and every perfect subtree inside it: nodes at
 * sub-height r (0..8) start at cy_tile_node_off(r); r = 0 are the tile's own
 * hashes, r = 8 the tile's root (only in full tiles).  Nodes that extend past
 * `width` are not computed. */
typedef struct cy_tile {
    unsigned level;
    uint64_t index;
    unsigned width; /* 1..256 */
    uint8_t nodes[511][CY_HASH];
} cy_tile;

static inline unsigned cy_tile_node_off(unsigned r) { return 512u - (512u >> r); }
/* Fills nodes[] from the `width` hashes already in nodes[0..width). */
void cy_tile_complete(cy_tile *t);

/* ---- checkpoint.c ------------------------------------------------------ */

#define CY_ORIGIN_MAX 255
#define CY_CHECKPOINT_MAX 65536 /* a checkpoint with its signatures */

typedef struct cy_checkpoint {
    char origin[CY_ORIGIN_MAX + 1];
    uint64_t size;
    uint8_t root[CY_HASH];
} cy_checkpoint;

/* Parses checkpoint text (the note text, without signatures). */
comity_err cy_checkpoint_parse_text(const char *text, size_t len,
                                    cy_checkpoint *out, comity_error *err) CY_MUST_CHECK;
/* Appends "origin\nsize\nbase64(root)\n" to b. */
comity_err cy_checkpoint_format(cy_buf *b, const char *origin, uint64_t size,
                                const uint8_t root[CY_HASH]);
/* 1 when `origin` is acceptable: printable ASCII without spaces or '+'. */
bool cy_origin_valid(const char *origin, size_t len);

/* ---- log.c ------------------------------------------------------------- */

/* Commits (fsync'ed batches) and checkpoints published since open. */
/* The cosigned checkpoints a log keeps (table `cosigned` of log.db: one
 * row per published checkpoint that got at least one cosignature, replaced
 * as more join, never dropped: it grows like the `checkpoints` table, one
 * row per checkpoint at most).  Calls cb(ctx, size, note, len) for each
 * with max(from, *since) < size <= upto, in size order, and stops after
 * the first whose size exceeds `to` (the first covering log index `to`),
 * after `max` rows, or when cb returns nonzero.  OUT *since: the log's
 * size when it began keeping them (a log older than the table): no row
 * says when an index below it was first cosigned.  A log opened
 * COMITY_LOG_READ reads them through its own read-only handle on log.db,
 * beside the writer; when it keeps none (no log.db, or one older than the
 * table): no row, *since UINT64_MAX.  cb runs under the log's database
 * lock: it must not call the log. */
typedef int (*cy_log_cosigned_cb)(void *ctx, uint64_t size, const char *note, size_t len);
comity_err cy_log_cosigned(comity_log *log, uint64_t from, uint64_t to, uint64_t upto,
                           size_t max, uint64_t *since, cy_log_cosigned_cb cb, void *ctx,
                           comity_error *err);
void cy_log_stats(comity_log *log, uint64_t *commits, uint64_t *checkpoints);
/* The horizon of a log opened COMITY_LOG_REPLAYABLE: from the first call
 * on, the implicit checkpoints (the sequencer thread's, the one forced by
 * PEND_CAP, the one comity_log_close makes) cover only the entries below
 * the largest `size` given, which the owner advances once whatever makes
 * those entries durable on its side is durable (intake: the records' rows,
 * fsynced).  comity_log_checkpoint still covers every entry appended (an
 * explicit decision of the owner).  Entries past the horizon at a crash or
 * a close are lost, as any uncheckpointed entry of a REPLAYABLE log is: the
 * owner appends them again.  Other logs: no effect.  Thread-safe. */
void cy_log_set_durable(comity_log *log, uint64_t size);
/* Whether a kept cosigned checkpoint will do (the caller's rule, e.g. a
 * witness quorum): nonzero takes it. */
typedef bool (*cy_log_accept_fn)(void *ctx, const char *note, size_t len);
/* comity_log_prove, but against the newest kept cosigned checkpoint (table
 * `cosigned`) that covers entry `index` and that accept takes, trying the
 * `max` newest covering ones, so that a receipt keeps its cosignatures
 * while the log grows past them; when accept takes none of them, against
 * the newest of them (cosigned, short of what accept wants); when none
 * covers the entry (or accept is NULL), against the published checkpoint,
 * as comity_log_prove.  On a reader (COMITY_LOG_READ) the kept ones are
 * read from log.db read-only (none when it has no such table).  accept
 * runs without the log's locks.  OUT *out: caller frees (cy_free); *size (may
 * be NULL): the tree size of the checkpoint the receipt is against.
 * NOTFOUND when no published checkpoint covers `index` yet. */
comity_err cy_log_prove_accepted(comity_log *log, uint64_t index, size_t max,
                                 cy_log_accept_fn accept, void *ctx, char **out, size_t *len,
                                 uint64_t *size, comity_error *err);


/* ---- cosig.c ----------------------------------------------------------- */

/* 1 when `sig` (key id stripped) by key k verifies over note text. */
bool cy_tlog_sig_ok(const comity_vkey *k, const uint8_t *sig, size_t sig_len,
                    const char *text, size_t len);
/* Parses `note` into *parsed and checks every signature by a known key
 * (name and id both match): one that fails rejects the note
 * (COMITY_ERR_VERIFY); signed_by[j] tells whether keys[j] signed.  Unknown
 * signatures are ignored.  Does not require any signature to be known. */
comity_err cy_tlog_note_check(const char *note, size_t len,
                              const comity_vkey *const *keys, size_t nkeys,
                              bool *signed_by, cy_note *parsed,
                              comity_error *err) CY_MUST_CHECK;
/* A checkpoint signed (type 0x01) by a log key whose name is its origin. */
comity_err cy_checkpoint_verify(const char *note, size_t len,
                                const comity_vkey *const *logs, size_t nlogs,
                                cy_checkpoint *out, comity_error *err) CY_MUST_CHECK;

/* ---- proof.c ----------------------------------------------------------- */

typedef struct cy_tlog_proof {
    bool has_extra;
    uint8_t extra[4096];
    size_t extra_len;
    uint64_t index;
    uint8_t proof[64][CY_HASH];
    size_t n;
    const char *note; /* points into the parsed text */
    size_t note_len;
} cy_tlog_proof;

/* Parses a tlog-proof (borrowing: out->note points into s). */
comity_err cy_tlog_proof_parse(const char *s, size_t len, cy_tlog_proof *out,
                               comity_error *err) CY_MUST_CHECK;
/* Formats one.  OUT *out: caller frees (cy_free). */
comity_err cy_tlog_proof_format(uint64_t index, const uint8_t (*proof)[CY_HASH], size_t n,
                                const char *note, size_t note_len, char **out,
                                size_t *len, comity_error *err);

/* ---- policy.c ---------------------------------------------------------- */

/* How many logs a policy lists (a policy may list none). */
size_t cy_policy_nlogs(const comity_policy *p);
/* comity_policy_check, and OUT *t_min, *t_max (each may be NULL): the
 * earliest and latest timestamps (POSIX seconds) of the cosignatures by
 * the policy's witnesses that verified on the note (0 when none). */
comity_err cy_policy_check_times(const comity_policy *p, const char *note, size_t len,
                                 comity_checkpoint *out, uint64_t *t_min, uint64_t *t_max,
                                 comity_error *err) CY_MUST_CHECK;
/* comity_policy_check, and OUT *t_quorum: the time (POSIX seconds) the
 * quorum first held, the earliest t such that the policy's witnesses whose
 * verified cosignatures are timestamped at or before t meet it (a witness
 * counts from its earliest such cosignature; one that signed without a
 * time, a plain Ed25519 witness key, counts from 0).  0 when the quorum is
 * `none`.  Fewer colluding witnesses than the quorum cannot move it
 * earlier: the quorum needs an honest witness's time too. */
comity_err cy_policy_quorum_time(const comity_policy *p, const char *note, size_t len,
                                 comity_checkpoint *out, uint64_t *t_quorum,
                                 comity_error *err) CY_MUST_CHECK;

/* ---- parse helpers shared by the text formats -------------------------- */

/* Strict decimal: no sign, no leading zeros, fits in uint64. */
bool cy_parse_u64(const char *s, size_t len, uint64_t *out);
/* 1 when every byte is in the standard base64 alphabet or '='.  libsodium
 * 1.0.18's decoder accepts every byte >= 0x80 as a digit, so parsers of
 * outside input check this first. */
bool cy_b64_alphabet(const char *s, size_t len);
/* Standard padded base64 of exactly 32 bytes. */
bool cy_parse_hash(const char *s, size_t len, uint8_t out[CY_HASH]);

#endif
