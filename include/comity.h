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

/* Configuration files (node.conf, client.conf): "name = value" lines,
 * blank lines and '#' comments, spaces around names and values, CRLF.
 * Refused, with "WHAT line N: ..." in err: a file over COMITY_CONF_MAX
 * bytes, a line over COMITY_CONF_LINE_MAX, a NUL or other control byte
 * (tab aside), a line without '=', an empty name or value.  Calls `cb`
 * for each setting in file order (name and value are NUL-terminated and
 * valid during the call; `where` is "WHAT line N" for messages); a cb
 * that returns an error stops the walk with it.  Which names are known is
 * the caller's business. */
#define COMITY_CONF_MAX (64u << 10)
#define COMITY_CONF_LINE_MAX 8192
typedef comity_err (*comity_conf_cb)(void *ctx, const char *name,
                                     const char *value, const char *where,
                                     comity_error *err);
COMITY_API comity_err comity_conf_parse(const char *what, const char *text,
                                        size_t len, comity_conf_cb cb,
                                        void *ctx, comity_error *err);

/* A duration: one or more NUMBER UNIT with units s, m, h, d ("90s",
 * "30m", "24h", "7d", "1h30m"), in all at most COMITY_DURATION_MAX_MS
 * (3650 days).  OUT *ms.  COMITY_ERR_USAGE when it is not one. */
#define COMITY_DURATION_MAX_MS (3650LL * 24 * 3600 * 1000)
COMITY_API comity_err comity_duration_parse(const char *s, int64_t *ms,
                                            comity_error *err);

/* Times: RFC 3339 in UTC, milliseconds since the POSIX epoch (src/base/time.c).
 * comity_time_parse reads "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)"
 * (a 'T' or 't', 'Z' or 'z', any number of fraction digits, of which the
 * first three count) with a real calendar date and a four-digit year, no
 * sign: 2026-02-31 and +026-... are refused (COMITY_ERR_INVALID, the byte
 * named).  comity_time_format writes "YYYY-MM-DDTHH:MM:SS.mmmZ" (years
 * clamped to 0000-9999) into out[COMITY_TIME_BUF].  comity_now_ms is the
 * clock every comity function reads; COMITY_FAKE_NOW=<RFC 3339> pins it,
 * for tests and demos. */
#define COMITY_TIME_BUF 25
COMITY_API comity_err comity_time_parse(const char *s, int64_t *ms,
                                        comity_error *err);
COMITY_API void comity_time_format(char out[COMITY_TIME_BUF], int64_t ms);
COMITY_API int64_t comity_now_ms(void);

/* The node's log lines on stderr (src/base/log.c): on = 1 makes each one
 * JSON object a line ({"time", "level", "event", "msg", then the event's
 * fields}: docs/operations.md, "Log lines"); 0, the default, is text.
 * Process-wide; set it before a node starts. */
COMITY_API void comity_logline_json(int on);
/* Whether lines are JSON (comity_logline_json). */
COMITY_API int comity_logline_is_json(void);
/* Writes one such line (level 0 info, 1 warn, 2 error; event a fixed
 * dotted name; msg the words): for a program that runs a node and says
 * things of its own beside it (comity serve). */
COMITY_API void comity_logline(int level, const char *event, const char *msg);

/* Secret wiping: comity_wipe zeroes `len` bytes at p in a way the compiler
 * keeps (NULL is a no-op); comity_free_secret wipes `len` bytes, then
 * releases p like comity_free (for secrets a comity function returned,
 * such as comity_read_file's text of a key file). */
COMITY_API void comity_wipe(void *p, size_t len);
COMITY_API void comity_free_secret(void *p, size_t len);

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

/*
 * A party key file is an age identity file (so `age -i FILE` opens what was
 * sealed to the party) whose comment lines also carry the party's name,
 * public identity and Ed25519 signing key:
 *
 *   # comity party key for pk.pkcert, created 2026-11-23T06:40:00.000Z
 *   # public key: pk.pkcert+1a2b3c4d+AQ...
 *   # recipient: age1...
 *   # signing key: PRIVATE+KEY+pk.pkcert+1a2b3c4d+AQ...
 *   AGE-SECRET-KEY-1...
 */

/* Makes a fresh key for `party` (validated).  OUT *key: comity_key_free. */
COMITY_API comity_err comity_key_generate(const char *party, comity_key **key,
                                          comity_error *err);
/* Parses a key file's text.  Refuses low-order X25519 keys, signing keys
 * whose name, key id or public key do not match, and malformed lines. */
COMITY_API comity_err comity_key_parse(const char *text, size_t len,
                                       comity_key **key, comity_error *err);
COMITY_API comity_err comity_key_load(const char *path, comity_key **key,
                                      comity_error *err);
/* Writes the key file at `path` with mode 0600; never overwrites. */
COMITY_API comity_err comity_key_save(const comity_key *key, const char *path,
                                      comity_error *err);
COMITY_API void comity_key_free(comity_key *key);
/* Borrowed strings, valid while the key lives. */
COMITY_API const char *comity_key_party(const comity_key *key);
COMITY_API const char *comity_key_vkey(const comity_key *key);      /* name+id+b64 */
COMITY_API const char *comity_key_recipient(const comity_key *key); /* age1... */
/* The signed-note signing key inside a party key (borrowed). */
typedef struct comity_nkey comity_nkey;
COMITY_API const comity_nkey *comity_key_signer(const comity_key *key);

/* --- signed-note verifier keys and notes (src/crypto/note.c) --- */

/* Note signature types (c2sp.org/signed-note). */
#define COMITY_NOTE_ED25519 0x01
#define COMITY_NOTE_COSIG_V1 0x04 /* timestamped Ed25519 cosignature */

/* Caps on what a note parser accepts. */
#define COMITY_NOTE_MAX (1u << 20) /* bytes in a whole note */
#define COMITY_NOTE_MAX_SIGS 64    /* signature lines (spec: accept >= 16) */

/* Parses "name+hexid+base64(type||key)"; checks the key id against the key,
 * refuses unknown types, non-canonical base64, and Ed25519 keys libsodium
 * would refuse (low order, non-canonical).  OUT *vkey: comity_vkey_free. */
COMITY_API comity_err comity_vkey_parse(const char *text, size_t len,
                                        comity_vkey **vkey, comity_error *err);
COMITY_API void comity_vkey_free(comity_vkey *vkey);
COMITY_API const char *comity_vkey_name(const comity_vkey *vkey);
COMITY_API uint32_t comity_vkey_id(const comity_vkey *vkey);
COMITY_API int comity_vkey_type(const comity_vkey *vkey);
/* The vkey's text form (borrowed, valid while vkey lives). */
COMITY_API const char *comity_vkey_text(const comity_vkey *vkey);

/* Signed-note signing keys (a log's or witness's key, or a party's).  The
 * text form is Go's x/mod convention PRIVATE+KEY+name+hexid+base64(type||seed). */
COMITY_API comity_err comity_nkey_generate(const char *name, int type,
                                           comity_nkey **key, comity_error *err);
COMITY_API comity_err comity_nkey_parse(const char *text, size_t len,
                                        comity_nkey **key, comity_error *err);
COMITY_API void comity_nkey_free(comity_nkey *key);
COMITY_API const char *comity_nkey_name(const comity_nkey *key);
COMITY_API uint32_t comity_nkey_id(const comity_nkey *key);
/* Borrowed text forms, valid while the key lives. */
COMITY_API const char *comity_nkey_vkey(const comity_nkey *key);
COMITY_API const char *comity_nkey_text(const comity_nkey *key); /* secret */

/* Reads a signing-key file: one PRIVATE+KEY+... line (a final newline is
 * fine).  OUT *key: comity_nkey_free.  The file text is wiped after use. */
COMITY_API comity_err comity_nkey_load(const char *path, comity_nkey **key,
                                       comity_error *err);
/* Writes the key's text and a newline to `path` with mode 0600; never
 * overwrites an existing file (COMITY_ERR_EXISTS). */
COMITY_API comity_err comity_nkey_save(const comity_nkey *key, const char *path,
                                       comity_error *err);

/* Signs `text` (which must end in a newline and be valid note text) with
 * each key of type 0x01, giving a whole note.  OUT *note (NUL-terminated),
 * caller frees with comity_free. */
COMITY_API comity_err comity_note_sign(const char *text, size_t len,
                                       const comity_nkey *const *keys,
                                       size_t nkeys, char **note,
                                       size_t *note_len, comity_error *err);
/*
 * Verifies a note against the known keys (c2sp.org/signed-note rules):
 * unknown signatures are ignored, a known key's failing signature rejects the
 * note, and at least one known signature must verify.  Cosignature keys
 * (type 0x04) are checked as cosignatures.  *verified (may be NULL) gets the
 * number of known signatures that verified.  OUT *text (may be NULL): the
 * note text, caller frees.
 */
COMITY_API COMITY_MUST_CHECK comity_err
comity_note_verify(const char *note, size_t len,
                   const comity_vkey *const *keys, size_t nkeys,
                   char **text, size_t *verified, comity_error *err);

/* --- DSSE envelopes (src/crypto/dsse.c) --- */

/* Caps on a DSSE JSON envelope and the signatures it may carry. */
#define COMITY_DSSE_MAX (2u << 20)
#define COMITY_DSSE_MAX_SIGS 16

/* The payload type of every comity record. */
#define COMITY_RECORD_PAYLOAD_TYPE "application/vnd.comity.record+json"

/* Signs `payload` as a DSSE envelope (Ed25519 over PAE(type, payload)) with
 * each key; keyid = the key's 8-hex signed-note key id.  OUT *envelope:
 * compact JSON, NUL-terminated, caller frees (comity_free). */
COMITY_API comity_err comity_dsse_sign(const char *payload_type,
                                       const uint8_t *payload, size_t len,
                                       const comity_nkey *const *keys,
                                       size_t nkeys, char **envelope,
                                       size_t *envelope_len, comity_error *err);
/*
 * Verifies an envelope: well-formed JSON within COMITY_DSSE_MAX, payloadType
 * equal to `payload_type`, and at least one signature that verifies under
 * one of `keys` (keyids are hints only and never trusted).  Signatures by
 * other keys are ignored.  OUT *payload (NUL-terminated), caller frees.
 */
COMITY_API COMITY_MUST_CHECK comity_err
comity_dsse_verify(const char *envelope, size_t len, const char *payload_type,
                   const comity_vkey *const *keys, size_t nkeys,
                   uint8_t **payload, size_t *payload_len, comity_error *err);

/* --- SHA-256 of large files (src/base/sha256.c) --- */

/* An incremental SHA-256, for files too large to hold (evidence files are
 * named by it).  OUT *h: feed with comity_sha256_update, then either
 * comity_sha256_final (64 lowercase hex digits and a NUL into hex; frees
 * h) or comity_sha256_free. */
typedef struct comity_sha256 comity_sha256;
COMITY_API comity_err comity_sha256_new(comity_sha256 **h, comity_error *err);
COMITY_API void comity_sha256_update(comity_sha256 *h, const void *data, size_t len);
COMITY_API void comity_sha256_final(comity_sha256 *h, char hex[65]);
COMITY_API void comity_sha256_free(comity_sha256 *h);

/* --- age sealing (src/crypto/age.c) --- */

/* A set of age X25519 identities for opening files: read from a comity key
 * file or a standard age identity file (AGE-SECRET-KEY-1 lines, '#' comments,
 * blank lines).  OUT *ids: comity_identities_free. */
typedef struct comity_identities comity_identities;
COMITY_API comity_err comity_identities_parse(const char *text, size_t len,
                                              comity_identities **ids,
                                              comity_error *err);
COMITY_API comity_err comity_identities_load(const char *path,
                                             comity_identities **ids,
                                             comity_error *err);
COMITY_API void comity_identities_free(comity_identities *ids);

/* 1 when `recipient` is a well-formed age1 X25519 recipient (else 0 and a
 * message in err). */
COMITY_API int comity_recipient_valid(const char *recipient, comity_error *err);

/* Number of identities in the set (0 for NULL). */
COMITY_API size_t comity_identities_count(const comity_identities *ids);

/*
 * Caps on what the age parsers accept (c2sp.org/age sets none; these are
 * far above what any honest file needs).
 */
#define COMITY_AGE_CHUNK 65536              /* payload chunk (spec: 64 KiB) */
#define COMITY_AGE_HEADER_MAX (128u * 1024) /* bytes of a header, MAC line incl. */
#define COMITY_AGE_STANZAS_MAX 1024         /* recipient stanzas in a header */
#define COMITY_AGE_ARGS_MAX 32              /* arguments of one stanza */
#define COMITY_AGE_LINE_MAX 4096            /* bytes of one header line */
#define COMITY_AGE_IDFILE_MAX (64u * 1024)  /* bytes of an identity file */
#define COMITY_AGE_IDS_MAX 256              /* identities in one set */

/*
 * Seals `in` (read to its end) to the `n` age1 recipients into `out`, as a
 * binary age v1 file, or armored ("-----BEGIN AGE ENCRYPTED FILE-----")
 * when `armor` is non-zero.  Streams in 64 KiB chunks in constant memory.
 * A fresh file key, nonce and ephemeral key per call.  Flushes `out` at the
 * end but closes neither stream; on failure `out` holds part of a file and
 * the caller must discard it.
 */
COMITY_API comity_err comity_seal_stream(FILE *in, FILE *out,
                                         const char *const *recipients,
                                         size_t n, int armor,
                                         comity_error *err);

/*
 * Opens an age file (binary, or armored, as its first line says) from `in`
 * with any of `ids`, writing the plaintext to `out` chunk by chunk in
 * constant memory.  The header MAC is checked before any payload is
 * decrypted.  Because output is streamed, on failure `out` may already hold
 * the authenticated plaintext of the chunks before the bad one: the caller
 * must discard it (the comity command writes to a temporary file).
 * Errors: COMITY_ERR_NOKEY (no identity opens any stanza), COMITY_ERR_VERIFY
 * (header MAC or a payload chunk does not authenticate), COMITY_ERR_INVALID
 * (malformed: version, stanza, base64, armor, truncation, trailing data),
 * COMITY_ERR_TOOBIG (a cap above), COMITY_ERR_IO.
 */
COMITY_API COMITY_MUST_CHECK comity_err
comity_open_stream(FILE *in, FILE *out, const comity_identities *ids,
                   comity_error *err);

/* In-memory forms of the two above (records seal bodies with these).
 * OUT *out: caller frees with comity_free (comity_open_mem's output is the
 * plaintext; nothing is returned on failure). */
COMITY_API comity_err comity_seal_mem(const void *in, size_t len,
                                      const char *const *recipients, size_t n,
                                      int armor, uint8_t **out, size_t *out_len,
                                      comity_error *err);
COMITY_API COMITY_MUST_CHECK comity_err
comity_open_mem(const void *in, size_t len, const comity_identities *ids,
                uint8_t **out, size_t *out_len, comity_error *err);

/*
 * A passphrase instead of recipients: age's scrypt stanza (c2sp.org/age,
 * "The scrypt recipient type"), alone in its header.  The wrap key is
 * scrypt(passphrase, "age-encryption.org/v1/scrypt" || 16-byte salt,
 * N = 2^log_n, r = 8, p = 1, 32 bytes) (libsodium's scryptsalsa208sha256_ll),
 * which seals the file key with ChaCha20-Poly1305.  Sealing uses log_n
 * (0: COMITY_AGE_SCRYPT_LOGN, age's own; 1..COMITY_AGE_SCRYPT_LOGN_MAX);
 * opening refuses a stanza whose work factor is above max_log_n (0 or
 * above the cap: the cap), COMITY_ERR_TOOBIG, before any work: scrypt at
 * 2^log_n takes 2^log_n KiB of memory.  A wrong passphrase is
 * COMITY_ERR_NOKEY; a file with other stanzas, NOKEY naming them.  An
 * empty passphrase, or one over COMITY_AGE_PASSPHRASE_MAX bytes, is
 * COMITY_ERR_USAGE.  OUT *out: comity_free (the plaintext wiped first on
 * failure).
 */
#define COMITY_AGE_SCRYPT_LOGN 18     /* work factor comity seals with (age's) */
#define COMITY_AGE_SCRYPT_LOGN_MAX 22 /* above it a file is refused (age's cap) */
#define COMITY_AGE_PASSPHRASE_MAX 1024
COMITY_API comity_err comity_seal_passphrase_mem(const void *in, size_t len, const char *pass,
                                                 size_t pass_len, unsigned log_n, int armor,
                                                 uint8_t **out, size_t *out_len,
                                                 comity_error *err);
COMITY_API COMITY_MUST_CHECK comity_err
comity_open_passphrase_mem(const void *in, size_t len, const char *pass, size_t pass_len,
                           unsigned max_log_n, uint8_t **out, size_t *out_len,
                           comity_error *err);

/* ------------------------------------------------------------------------ */
/* Records (src/record/)                                                    */
/* ------------------------------------------------------------------------ */

/*
 * A record is a DSSE envelope over a JSON payload (specs/records.md):
 * {type, id, author, created, to?, tlp, refs?, body | sealed}.  Records of
 * tlp amber, amber+strict and red carry their body sealed (age) to every
 * recipient and the author, never in clear.
 */
#define COMITY_RECORD_MAX (1u << 20)   /* payload bytes */
#define COMITY_RECORD_MAX_TO 256       /* recipients */
#define COMITY_RECORD_MAX_REFS 256     /* references */
#define COMITY_RECORD_TYPE_MAX 48      /* bytes in a type name */
#define COMITY_RECORD_SCHEMA_MAX 9999  /* highest body schema version a
                                          record may name (`schema`) */
#define COMITY_RECORD_ENTRY_LEN 81     /* "comity-record-v1:" + 64 hex */

typedef struct comity_record comity_record;

typedef struct comity_record_params {
    const char *type;              /* lowercase, e.g. "notification" */
    const char *tlp;               /* NULL = "amber" when sealed recipients
                                      are given, else "green" */
    const char *const *to;         /* recipient party names */
    size_t nto;
    const char *const *refs;       /* ids of related records */
    size_t nrefs;
    const char *const *seal_to;    /* age recipients to seal to (besides the
                                      author's own); needed for amber/red */
    size_t nseal_to;
    int schema;                    /* the version of the type's body schema
                                      (docs/federation.md, "Versions"):
                                      0 or 1 = version 1, the field left out;
                                      2..COMITY_RECORD_SCHEMA_MAX written */
} comity_record_params;

/* Builds, (seals,) and signs a record with a fresh id and `created` = now.
 * `body` is a JSON object (at most COMITY_RECORD_MAX bytes).  OUT
 * *envelope: JSON, caller frees (comity_free). */
COMITY_API comity_err comity_record_sign(const comity_key *author,
                                         const comity_record_params *params,
                                         const char *body, size_t body_len,
                                         char **envelope, size_t *envelope_len,
                                         comity_error *err);

/* Parses an envelope and checks its payload against specs/records.md, but
 * not its signature.  OUT *rec: comity_record_free. */
COMITY_API comity_err comity_record_parse(const char *envelope, size_t len,
                                          comity_record **rec,
                                          comity_error *err);

/* Parses and checks the payload, then the signature against the keys among
 * `keys` whose name is the record's author.  No key named for the author
 * is COMITY_ERR_NOKEY; a bad signature is COMITY_ERR_VERIFY. */
COMITY_API COMITY_MUST_CHECK comity_err
comity_record_verify(const char *envelope, size_t len,
                     const comity_vkey *const *keys, size_t nkeys,
                     comity_record **rec, comity_error *err);

/* The signature check of comity_record_verify alone, for a record already
 * read by comity_record_parse (whose payload rules it passed): a signature
 * must verify over the very bytes parsed (PAE(payloadType, payload)) under
 * one of the keys among `keys` whose name is the record's author.  No key
 * named for the author is COMITY_ERR_NOKEY; a bad signature is
 * COMITY_ERR_VERIFY.  So parse + verify_parsed accepts exactly what
 * comity_record_verify accepts, reading the envelope once.  `rec` is only
 * read (it stays the caller's). */
COMITY_API COMITY_MUST_CHECK comity_err
comity_record_verify_parsed(const comity_record *rec,
                            const comity_vkey *const *keys, size_t nkeys,
                            comity_error *err);

/*
 * Which of an office's keys signed a record, and whether that key could
 * then (docs/federation.md, section 1: an office's users).  An office has
 * its own key and may list users (officers) in its party record, each
 * with a key named after the office; the envelope's keyid names the
 * signer's key.  The rule: a signature whose keyid is the office's key's
 * and verifies under it: the office signed (*user NULL); else one whose
 * keyid is a user's key's and verifies under it: that user, when its key
 * is valid at the record's `created` (from valid_from, none: always,
 * until revoked_ms, exclusive: revoked after `created`, the record stays
 * valid; at or before it, COMITY_ERR_VERIFY naming the user and the
 * revocation); else the office's key whatever the keyids say; else
 * COMITY_ERR_VERIFY (a keyid naming no key of the office is said so).
 * *user points into users[] (valid while it is).  The node's intake
 * applies this same rule (rule `signature`, or `revoked`), users read
 * from its store, with the witnesses' times of the record and of the
 * revocation besides; here the record's W is not known, so a user whose
 * revoked_w_ms is known (not 0) is valid for no record, and one whose
 * revoked_w_ms is 0 is weighed by `created` alone (docs/federation.md,
 * section 1, "Revocations by the witnesses' times").
 */
typedef struct comity_user_key {
    const comity_vkey *vkey; /* named after the office; NULL: skipped */
    const char *name;
    int64_t valid_from_ms; /* -1: none */
    int64_t revoked_ms;    /* -1: not revoked */
    const char *reason;    /* why revoked, or NULL */
    /* W of the revocation: when the witness quorum first cosigned a
     * checkpoint of its origin's log covering the record that revoked the
     * key, ms since the epoch; 0: unknown (docs/federation.md, section 1,
     * "Revocations by the witnesses' times") */
    int64_t revoked_w_ms;
} comity_user_key;

COMITY_API COMITY_MUST_CHECK comity_err
comity_record_signer(const comity_record *rec, const comity_vkey *office,
                     const comity_user_key *users, size_t nusers, const char **user,
                     comity_error *err);

/* A `delivered` record (docs/federation.md section 7) is signed by its
 * author's home node's log key, not by the author's: a signature of the
 * parsed `rec` must verify under one of `log_keys` (the home node's log
 * key, e.g. the --log-vkey of its receipt), whatever their names.
 * COMITY_ERR_USAGE for a record of another type; COMITY_ERR_VERIFY when
 * none verifies. */
COMITY_API COMITY_MUST_CHECK comity_err
comity_record_verify_delivered(const comity_record *rec, const comity_vkey *const *log_keys,
                               size_t nkeys, comity_error *err);

COMITY_API void comity_record_free(comity_record *rec);

/*
 * Bounds on `created` against the clock of the node a record is posted to
 * (docs/node.md): at most `ahead_ms` ahead of `now_ms` (rule
 * created-ahead: clocks drift) and at most `behind_ms` behind it (rule
 * created-behind: a record is posted when it is made, not dated back or
 * kept for later).  A record exactly at a bound passes.  Outside:
 * COMITY_ERR_INVALID with a message naming record.created, the rule, the
 * distance and the bound.  Negative bounds: COMITY_ERR_USAGE.  The node
 * applies the defaults below unless DIR/node.conf sets created_ahead /
 * created_behind; records already in a log are never re-checked (a
 * replay or an audit reads them at any later time).
 */
#define COMITY_RECORD_CREATED_AHEAD_MS (5LL * 60 * 1000)   /* 5 minutes */
#define COMITY_RECORD_CREATED_BEHIND_MS (10LL * 60 * 1000) /* 10 minutes */
COMITY_API comity_err comity_record_check_created(const comity_record *rec,
                                                  int64_t now_ms,
                                                  int64_t ahead_ms,
                                                  int64_t behind_ms,
                                                  comity_error *err);

/*
 * The rule id-author (docs/security.md): a record id's UUID is bound to its
 * author (its last eight bytes, less the variant bits, hash the author's
 * name and its first eight), as comity_record_sign makes it.  So a party
 * cannot post under an id made for another, and the node's answer to such
 * a post does not depend on whether a record with that id is stored.  A
 * node checks it on every record posted to it; records already in a log
 * are never re-checked.  Not bound: COMITY_ERR_INVALID naming the rule.
 */
COMITY_API comity_err comity_record_check_id(const comity_record *rec,
                                             comity_error *err);

/* 1 when records of `tlp` carry their body sealed (amber, amber+strict,
 * red), 0 otherwise (clear, green, an unknown name or NULL). */
COMITY_API int comity_tlp_sealed(const char *tlp);

/* 1 when the recipient `to` (a party "in.cert" or a bare state "in")
 * addresses `party`: the same name, or `to` is a bare state and `party`
 * one of its offices ("in" addresses "in.cert" and "in.mod.cert"). */
COMITY_API int comity_record_addresses(const char *to, const char *party);

/* The age recipients a sealed record to `to[0..nto)` is sealed to, from a
 * directory of `n` parties (`parties[i]` with age recipient
 * `recipients[i]`, NULL where none is known): for each `to` entry, that
 * party's recipient when the directory has one, else (a bare state) the
 * recipient of every office of it that has one.  Each recipient appears
 * once.  An entry that resolves to no recipient: COMITY_ERR_NOKEY, "no age
 * recipient for 'X'"; a `to` entry that is not a party name:
 * COMITY_ERR_INVALID.  OUT *out: an array of *nout pointers borrowed from
 * `recipients` (the array itself: comity_free); the author's own recipient
 * is added by comity_record_sign. */
COMITY_API comity_err comity_record_seal_recipients(
    const char *const *to, size_t nto, const char *const *parties,
    const char *const *recipients, size_t n, const char ***out, size_t *nout,
    comity_error *err);

/* Borrowed views, valid while rec lives. */
COMITY_API const char *comity_record_type(const comity_record *rec);
COMITY_API const char *comity_record_id(const comity_record *rec);
COMITY_API const char *comity_record_author(const comity_record *rec);
COMITY_API const char *comity_record_created(const comity_record *rec);
/* `created` in ms since the Unix epoch, as the parser read it. */
COMITY_API int64_t comity_record_created_ms(const comity_record *rec);
COMITY_API const char *comity_record_tlp(const comity_record *rec);
COMITY_API size_t comity_record_to_count(const comity_record *rec);
COMITY_API const char *comity_record_to(const comity_record *rec, size_t i);
COMITY_API size_t comity_record_refs_count(const comity_record *rec);
COMITY_API const char *comity_record_ref(const comity_record *rec, size_t i);
COMITY_API int comity_record_is_sealed(const comity_record *rec);
/* The version of the record type's body schema the record names: its
 * `schema` field, or 1 when it has none (docs/federation.md, "Versions"). */
COMITY_API int comity_record_schema(const comity_record *rec);
/* The exact payload bytes the author signed (NUL-terminated). */
COMITY_API const char *comity_record_payload(const comity_record *rec,
                                             size_t *len);
/* The clear body as compact JSON, or NULL when sealed (borrowed). */
COMITY_API const char *comity_record_body(const comity_record *rec);
/* 64 lowercase hex digits of SHA-256(PAE(payloadType, payload)). */
COMITY_API const char *comity_record_digest(const comity_record *rec);
/* The log entry "comity-record-v1:<digest>" (81 bytes, NUL-terminated). */
COMITY_API const char *comity_record_entry(const comity_record *rec);

/* Opens a sealed body with the reader's identities; OUT *body: the body
 * JSON, caller frees.  A clear record's body is returned as is. */
COMITY_API COMITY_MUST_CHECK comity_err
comity_record_open(const comity_record *rec, const comity_identities *ids,
                   char **body, size_t *body_len, comity_error *err);

/* ------------------------------------------------------------------------ */
/* Transparency log (src/tlog/)                                             */
/* ------------------------------------------------------------------------ */

/*
 * A C2SP transparency log: c2sp.org/tlog-tiles on disk, checkpoints as
 * signed notes (c2sp.org/tlog-checkpoint, Ed25519), receipts as
 * c2sp.org/tlog-proof, witnesses speaking c2sp.org/tlog-witness with
 * c2sp.org/tlog-cosignature (type 0x04) cosignatures, and trust decided by
 * c2sp.org/tlog-policy files.  docs/tlog.md describes the design.
 *
 * Thread safety: a comity_log handle may be used from any number of threads
 * at once (appends from many request threads feed one sequencer); the other
 * handles below are safe to share once built, except comity_witness, whose
 * calls are serialised internally.
 */

#define COMITY_TLOG_HASH 32           /* SHA-256 */
#define COMITY_TLOG_ENTRY_MAX 65535   /* bundles use 16-bit length prefixes */
#define COMITY_TLOG_PROOF_MAX (1u << 20) /* bytes in a tlog-proof file */

typedef struct comity_log comity_log;

/* Flags of comity_log_open. */
#define COMITY_LOG_READ 0          /* read the published files only */
#define COMITY_LOG_WRITE 1         /* be the one writer (takes DIR/log.lock) */
#define COMITY_LOG_BACKGROUND 2    /* with WRITE: a sequencer thread commits
                                      appends at once and publishes a
                                      checkpoint at least every second */
#define COMITY_LOG_REPLAYABLE 4    /* with WRITE: appends are kept in
                                      memory until a checkpoint covers them,
                                      so a crash (of the process or the
                                      machine) loses the entries that no
                                      checkpoint covers yet; only for a caller
                                      that keeps them durable itself and
                                      appends them again, in the same order,
                                      when it reopens the log (the node does,
                                      from its record rows).  Checkpoints
                                      stay fully durable. */

/*
 * Creates an empty log in `dir` (created if missing; refused if it already
 * holds a log) for `origin`, signed by `key` (type 0x01; its name must equal
 * the origin), and publishes the size-0 checkpoint.  `key_path`, if not
 * NULL, is remembered so that later opens can find the key.
 */
COMITY_API comity_err comity_log_create(const char *dir, const char *origin,
                                        const comity_nkey *key,
                                        const char *key_path, comity_error *err);

/*
 * Opens the log in `dir`.  With COMITY_LOG_WRITE the caller becomes its only
 * writer: a second writer, in this process or another, fails with
 * COMITY_ERR_LOCKED.  A writer needs `key` (borrowed; must outlive the log)
 * and recovers from any crash: entries that were durable are integrated and
 * a new checkpoint published.  OUT *log: comity_log_close.
 */
COMITY_API comity_err comity_log_open(const char *dir, int flags,
                                      const comity_nkey *key, comity_log **log,
                                      comity_error *err);
/* Makes every appended entry durable, publishes a final checkpoint, stops
 * the sequencer thread and releases the lock.  NULL is a no-op. */
COMITY_API void comity_log_close(comity_log *log);
/* The key path given to comity_log_create (NULL if none). OUT: caller frees. */
COMITY_API comity_err comity_log_key_path(const char *dir, char **path,
                                          comity_error *err);

/*
 * Appends one entry (at most COMITY_TLOG_ENTRY_MAX bytes) and gives its
 * index.  With `durable` the call returns only once the entry is on disk (a
 * crash cannot lose it, and it keeps this index); many concurrent durable
 * appends share one fsync.  Without it the entry is queued and becomes
 * durable at the next comity_log_sync, checkpoint, or sequencer pass.
 */
COMITY_API comity_err comity_log_append(comity_log *log, const void *entry,
                                        size_t len, int durable, uint64_t *index,
                                        comity_error *err);
/*
 * Appends n entries at the consecutive indexes *first .. *first+n-1, all or
 * none (each at most COMITY_TLOG_ENTRY_MAX bytes, 4 MiB in all), under one
 * lock: a batch costs the sequencer one wake-up, not one per entry.
 * `durable` as for comity_log_append.
 */
COMITY_API comity_err comity_log_append_many(comity_log *log,
                                             const void *const *entries,
                                             const size_t *lens, size_t n,
                                             int durable, uint64_t *first,
                                             comity_error *err);
/* Makes every entry appended so far durable (one fsync for all). */
COMITY_API comity_err comity_log_sync(comity_log *log, comity_error *err);
/*
 * Makes the entries below index `size` durable, and returns as soon as they
 * are: a commit under way that covers them (the sequencer's or another
 * caller's) is waited for rather than followed by one more, and entries
 * appended after them are not waited for.  USAGE if `size` is beyond the
 * entries appended so far.
 */
COMITY_API comity_err comity_log_sync_to(comity_log *log, uint64_t size,
                                         comity_error *err);
/* Syncs, integrates every durable entry into tiles and publishes a signed
 * checkpoint.  OUT *note (may be NULL): the checkpoint, caller frees. */
COMITY_API comity_err comity_log_checkpoint(comity_log *log, char **note,
                                            size_t *len, comity_error *err);
/* Milliseconds between the starts of the sequencer thread's integrations (default 500, so that checkpoints appear at least every second). */
COMITY_API void comity_log_set_interval(comity_log *log, unsigned ms);

/* The latest published checkpoint (OUT *note, caller frees), its size and
 * root; any OUT pointer may be NULL. */
COMITY_API comity_err comity_log_read_checkpoint(comity_log *log, char **note,
                                                 size_t *len, uint64_t *size,
                                                 uint8_t root[COMITY_TLOG_HASH],
                                                 comity_error *err);
/* The entry at `index` of the published tree. OUT *entry: caller frees. */
COMITY_API comity_err comity_log_entry(comity_log *log, uint64_t index,
                                       uint8_t **entry, size_t *len,
                                       comity_error *err);
/* The tree hash of the published tree at `size` (<= published size). */
COMITY_API comity_err comity_log_root(comity_log *log, uint64_t size,
                                      uint8_t root[COMITY_TLOG_HASH],
                                      comity_error *err);
/* A tlog-proof receipt for entry `index` against the latest checkpoint, with
 * whatever cosignatures it carries.  OUT *proof: caller frees. */
COMITY_API comity_err comity_log_prove(comity_log *log, uint64_t index,
                                       char **proof, size_t *len,
                                       comity_error *err);
struct comity_policy; /* comity_policy, below */
/* comity_log_prove as a node serves its receipts (docs/node.md,
 * "Receipts"): against the newest kept cosigned checkpoint covering entry
 * `index` whose cosignatures meet `policy`'s quorum; when none of the
 * newest such checkpoints does, the newest cosigned one covering it; when
 * none is cosigned (or `policy` is NULL, or log.db keeps none), the
 * published checkpoint.  Works on a log opened with COMITY_LOG_READ (it
 * reads log.db's kept checkpoints read-only).  OUT *proof: caller frees
 * (comity_free); *size (may be NULL): the tree size of the checkpoint the
 * receipt is against. */
COMITY_API comity_err comity_log_prove_policy(comity_log *log, uint64_t index,
                                              const struct comity_policy *policy, char **proof,
                                              size_t *len, uint64_t *size,
                                              comity_error *err);
/* RFC 6962 inclusion / consistency proofs over the published tree.  OUT
 * *hashes: n * 32 bytes, caller frees. */
COMITY_API comity_err comity_log_inclusion(comity_log *log, uint64_t index,
                                           uint64_t size, uint8_t **hashes,
                                           size_t *n, comity_error *err);
COMITY_API comity_err comity_log_consistency(comity_log *log, uint64_t old,
                                             uint64_t size, uint8_t **hashes,
                                             size_t *n, comity_error *err);
/* The body of a c2sp.org/tlog-witness add-checkpoint request for the latest
 * checkpoint, from a witness that last cosigned size `old`.  OUT *body:
 * caller frees. */
COMITY_API comity_err comity_log_witness_request(comity_log *log, uint64_t old,
                                                 char **body, size_t *len,
                                                 comity_error *err);
/* Adds witness cosignature lines (an add-checkpoint 200 body) to the current
 * checkpoint if they verify under `witnesses`; unknown ones are dropped. */
COMITY_API comity_err comity_log_add_cosignatures(comity_log *log,
                                                  const char *lines, size_t len,
                                                  const comity_vkey *const *witnesses,
                                                  size_t nwitnesses,
                                                  comity_error *err);

/* What comity_log_audit found. */
typedef struct comity_log_audit_report {
    uint64_t size;     /* tree size of the checkpoint */
    uint64_t entries;  /* entries read from bundles */
    uint64_t tiles;    /* tile files checked */
} comity_log_audit_report;
/*
 * Recomputes every tile and the root from the entry bundles of the log in
 * `dir` and checks them against the tile files and the checkpoint, whose
 * signature must verify under `vkey` (NULL: not checked).  Names the first
 * file that is missing, truncated or wrong.  Needs no lock.
 */
COMITY_API COMITY_MUST_CHECK comity_err
comity_log_audit(const char *dir, const comity_vkey *vkey,
                 comity_log_audit_report *report, comity_error *err);

/* --- hashing and proof checks, for clients --- */

COMITY_API void comity_tlog_leaf_hash(const void *entry, size_t len,
                                      uint8_t out[COMITY_TLOG_HASH]);
/* Standard base64 of a hash (44 characters and a NUL). */
#define COMITY_TLOG_HASH_B64 45
COMITY_API void comity_tlog_hash_b64(const uint8_t h[COMITY_TLOG_HASH],
                                     char out[COMITY_TLOG_HASH_B64]);
COMITY_API COMITY_MUST_CHECK comity_err comity_tlog_verify_inclusion(
    const uint8_t leaf[COMITY_TLOG_HASH], uint64_t index, uint64_t size,
    const uint8_t *hashes, size_t n, const uint8_t root[COMITY_TLOG_HASH],
    comity_error *err);
/* old == 0 is accepted with an empty proof (every tree extends the empty one). */
COMITY_API COMITY_MUST_CHECK comity_err comity_tlog_verify_consistency(
    uint64_t old, uint64_t size, const uint8_t old_root[COMITY_TLOG_HASH],
    const uint8_t root[COMITY_TLOG_HASH], const uint8_t *hashes, size_t n,
    comity_error *err);

/* --- checkpoints and cosignatures --- */

typedef struct comity_checkpoint {
    char origin[256];
    uint64_t size;
    uint8_t root[COMITY_TLOG_HASH];
} comity_checkpoint;

/* Parses a checkpoint note WITHOUT checking any signature (for display and
 * comparison only; trust needs comity_checkpoint_verify). */
COMITY_API comity_err comity_checkpoint_parse(const char *note, size_t len,
                                              comity_checkpoint *out,
                                              comity_error *err);
/*
 * Verifies a checkpoint note under the log keys `logs` (signed-note rules:
 * unknown signatures ignored, a failing known one rejects) and parses it.
 * A checkpoint's origin must equal the name of the key that signed it.
 */
COMITY_API COMITY_MUST_CHECK comity_err
comity_checkpoint_verify(const char *note, size_t len,
                         const comity_vkey *const *logs, size_t nlogs,
                         comity_checkpoint *out, comity_error *err);

/* A cosignature line "— name base64(id || time || sig)\n" by `witness`
 * (type 0x04) over the note's text at `timestamp` (POSIX seconds; 0: now).
 * OUT *line: caller frees. */
COMITY_API comity_err comity_cosign(const comity_nkey *witness, const char *note,
                                    size_t len, uint64_t timestamp, char **line,
                                    comity_error *err);

/* --- policies (c2sp.org/tlog-policy) --- */

typedef struct comity_policy comity_policy;
#define COMITY_POLICY_MAX (64u << 10) /* bytes in a policy file */
/* OUT *policy: comity_policy_free. */
COMITY_API comity_err comity_policy_parse(const char *text, size_t len,
                                          comity_policy **policy,
                                          comity_error *err);
COMITY_API void comity_policy_free(comity_policy *policy);
/* Checks a checkpoint note: signed by one of the policy's logs (when it
 * lists any: a policy may leave the log to context, as the spec allows) and
 * cosigned by a quorum of its witnesses.  OUT *out (may be NULL): the
 * checkpoint. */
COMITY_API COMITY_MUST_CHECK comity_err
comity_policy_check(const comity_policy *policy, const char *note, size_t len,
                    comity_checkpoint *out, comity_error *err);

/* --- receipts (c2sp.org/tlog-proof) --- */

/*
 * Verifies a tlog-proof for `entry`: the checkpoint must verify under one of
 * `logs` (and, with a policy, satisfy it: then `logs` may be empty if the
 * policy lists the log; some log key is always required), and the
 * inclusion proof must lead from the entry's leaf hash to its root.  OUT
 * *index and *cp (may be NULL).
 */
COMITY_API COMITY_MUST_CHECK comity_err
comity_tlog_proof_verify(const char *proof, size_t len, const void *entry,
                         size_t entry_len, const comity_vkey *const *logs,
                         size_t nlogs, const comity_policy *policy,
                         uint64_t *index, comity_checkpoint *cp,
                         comity_error *err);

/* --- witness (c2sp.org/tlog-witness) --- */

typedef struct comity_witness comity_witness;
#define COMITY_WITNESS_BODY_MAX (1u << 20)

/* Creates witness state in `dir` (witness.db). */
COMITY_API comity_err comity_witness_create(const char *dir, comity_error *err);
/* Opens it with the witness's cosigning key (type 0x04, borrowed; must outlive
 * the handle).  OUT *w: comity_witness_free. */
COMITY_API comity_err comity_witness_open(const char *dir, const comity_nkey *key,
                                          comity_witness **w, comity_error *err);
COMITY_API void comity_witness_free(comity_witness *w);
/* Trusts a log: its origin is the vkey's name (type 0x01). */
COMITY_API comity_err comity_witness_add_log(comity_witness *w, const char *vkey,
                                             comity_error *err);
/* The latest size this witness cosigned for `origin` (0 if none). */
COMITY_API comity_err comity_witness_size(comity_witness *w, const char *origin,
                                          uint64_t *size, comity_error *err);
/*
 * Handles POST <prefix>/add-checkpoint: returns the HTTP status (200, 400,
 * 403, 404, 409, 422; 500 if the state could not be saved), OUT *body
 * (caller frees) and *content_type (static string).  The check of the old
 * size and the update of the state are one transaction, durable before this
 * returns.
 */
COMITY_API int comity_witness_add_checkpoint(comity_witness *w, const char *body,
                                             size_t len, char **resp,
                                             size_t *resp_len,
                                             const char **content_type);

/* ------------------------------------------------------------------------ */
/* STIX and sweep (src/stix/, src/sweep/)                                   */
/* ------------------------------------------------------------------------ */

/* --- STIX patterns (src/stix/pattern.c) --- */

#define COMITY_PATTERN_MAX (64u * 1024u) /* bytes of STIX pattern text */
#define COMITY_PATTERN_JSON 1u           /* flag: dump the tree as JSON */

/*
 * Checks a STIX 2.1 pattern (`len` bytes, need not be NUL-terminated).  On
 * success *out (OUT, NUL-terminated, caller frees with comity_free) gets the
 * pattern's canonical text, or with COMITY_PATTERN_JSON a JSON dump of its
 * tree.  On failure (COMITY_ERR_INVALID, or TOOBIG over COMITY_PATTERN_MAX)
 * *out is NULL, err says what was expected where ("pattern: expected ']'
 * at byte 17") and *err_at (may be NULL) gets that byte offset.
 */
COMITY_API comity_err comity_pattern_check(const char *text, size_t len,
                                           unsigned flags, char **out,
                                           size_t *err_at, comity_error *err);

/* --- sweep (src/sweep/) --- */

/*
 * A sweep: indicators compiled into one matcher set, then files, directories
 * and gzip files scanned against it.  Build it with comity_sweep_new, add
 * indicators (plain lists, STIX bundles), optionally a field map for JSON
 * lines and CSV, then comity_sweep_run.  One handle runs one sweep at a time.
 */
typedef struct comity_sweep comity_sweep;

/* Output formats of comity_sweep_run. */
#define COMITY_SWEEP_TEXT 0  /* one human line per hit */
#define COMITY_SWEEP_JSONL 1 /* one JSON object per hit */
#define COMITY_SWEEP_STIX 2  /* a STIX 2.1 bundle of Sightings, at the end */

typedef struct comity_sweep_opts {
    int threads;  /* worker threads; <= 0: one per core */
    int format;   /* COMITY_SWEEP_* */
    FILE *out;    /* where hits go (stdout when NULL) */
    FILE *notes;  /* summary, skipped indicators, warnings (NULL: none) */
    int progress; /* 1: a progress line on `notes` (a terminal) */
} comity_sweep_opts;

/* OUT *sw: comity_sweep_free. */
COMITY_API comity_err comity_sweep_new(comity_sweep **sw, comity_error *err);
COMITY_API void comity_sweep_free(comity_sweep *sw);

/*
 * Adds a plain list: one value a line, '#' starts a comment, blank lines are
 * skipped.  `type` is domain, ip, ipv4, ipv6, url, email, md5, sha1, sha256,
 * sha512, process, filename or filepath; `source` names the list in reports.
 * A malformed line fails the call with its line number.
 */
COMITY_API comity_err comity_sweep_add_list(comity_sweep *sw, const char *type,
                                            const char *text, size_t len,
                                            const char *source,
                                            comity_error *err);
/*
 * Adds the indicators of a STIX 2.1 bundle (JSON text, or a single
 * indicator object).  Indicators whose pattern the sweep cannot evaluate
 * are kept and reported as skipped, with the reason; they are never
 * dropped silently.  *added (may be NULL) gets the number of indicators read.
 */
COMITY_API comity_err comity_sweep_add_stix(comity_sweep *sw, const char *json,
                                            size_t len, const char *source,
                                            size_t *added, comity_error *err);
/*
 * Maps a field of JSON lines or a CSV column to an object path, e.g.
 * "query=domain-name:value", "id.resp_h=ipv4-addr:value", "url=url:value".
 * With no map, JSON lines and CSV are tokenized as text.  A preset name
 * ("zeek-dns", "zeek-http", "zeek-conn", "dns", "proxy") adds its usual
 * fields.
 */
COMITY_API comity_err comity_sweep_map(comity_sweep *sw, const char *spec,
                                       comity_error *err);
/* Builds the matcher set; comity_sweep_run calls it when needed. */
COMITY_API comity_err comity_sweep_compile(comity_sweep *sw, comity_error *err);

/*
 * Scans the given files and directories ("-" is stdin).  Hits are written to
 * opts->out as they are found (text, JSON lines) or as one bundle at the end
 * (STIX).  *hits (may be NULL) gets the number of hits.  An unreadable path
 * is reported on opts->notes and makes the call fail with COMITY_ERR_IO after
 * the other paths are scanned.
 */
COMITY_API comity_err comity_sweep_run(comity_sweep *sw,
                                       const char *const *paths, size_t npaths,
                                       const comity_sweep_opts *opts,
                                       uint64_t *hits, comity_error *err);

/* Number of indicators added and of those that will be skipped. */
COMITY_API size_t comity_sweep_indicators(const comity_sweep *sw,
                                          size_t *skipped);

/* ------------------------------------------------------------------------ */
/* Framework: directory, messages, pings (src/framework/)                   */
/* ------------------------------------------------------------------------ */

/*
 * The confidence-building layer (docs/framework.md): a points-of-contact
 * directory (records of type poc), messages with deadlines (notification,
 * request, answered by ack, reply, close) and communication checks (ping,
 * pong).  A comity_framework is fed verified records in log order and
 * "delivered" events (a recipient fetched a message), refuses what breaks a
 * rule (COMITY_ERR_INVALID: body schema or shape; COMITY_ERR_DENIED: not
 * allowed for this party; COMITY_ERR_CONFLICT: the state machine forbids it;
 * COMITY_ERR_NOTFOUND: refers to an unknown message; COMITY_ERR_EXISTS: fed
 * twice), and answers queries at a time the caller passes in (no hidden
 * clock).  Its state is a pure function of what was fed, in order: a node
 * rebuilds it at start by feeding its stored records and delivered events
 * again.  Not thread safe: serialise calls on one handle.
 */
#define COMITY_FW_BODY_MAX COMITY_RECORD_MAX /* bytes of a body to check */
#define COMITY_FW_DEPTH_MAX 32               /* JSON nesting in a body */

typedef struct comity_framework comity_framework;

/* OUT *fw: comity_framework_free.  Deadlines start at the defaults of
 * docs/framework.md. */
COMITY_API comity_err comity_framework_new(comity_framework **fw,
                                           comity_error *err);
COMITY_API void comity_framework_free(comity_framework *fw);

/* Sets the default time allowed to acknowledge and to answer a message of
 * `severity` 1-5 (0: severity unknown, e.g. a sealed body not given), in
 * milliseconds (> 0).  A body's respond_by overrides the answer deadline. */
COMITY_API comity_err comity_framework_set_deadline(comity_framework *fw,
                                                    int severity,
                                                    int64_t ack_ms,
                                                    int64_t answer_ms,
                                                    comity_error *err);
/* Time allowed to answer a ping with a pong (ms, > 0; default 24 hours). */
COMITY_API comity_err comity_framework_set_ping_deadline(comity_framework *fw,
                                                         int64_t pong_ms,
                                                         comity_error *err);

/* 1 when `type` is one the framework rules (poc, notification, request,
 * ack, reply, close, ping, pong, and the case types listed under "Cases"
 * below), else 0. */
COMITY_API int comity_framework_handles(const char *type);

/* Checks a body against the schema of `type` alone (no state), e.g. before
 * signing.  Messages name the field: "notification.body.severity: want an
 * integer 1-5". */
COMITY_API comity_err comity_framework_check_body(const char *type,
                                                  const char *body, size_t len,
                                                  comity_error *err);

/*
 * Feeds one verified record (borrowed; only read during the call), in log
 * order.  `body` is its opened body when the record is sealed and the
 * caller could open it, else NULL (a clear body is read from the record; a
 * sealed one not given is tracked by its envelope only, severity unknown).
 * Types the framework does not rule are ignored (COMITY_OK).  On refusal
 * nothing changes.
 */
COMITY_API comity_err comity_framework_add(comity_framework *fw,
                                           const comity_record *rec,
                                           const char *body, size_t body_len,
                                           comity_error *err);
/* The same checks as comity_framework_add without changing anything, so
 * that a node can refuse a record before it appends it to its log. */
COMITY_API comity_err comity_framework_check(const comity_framework *fw,
                                             const comity_record *rec,
                                             const char *body, size_t body_len,
                                             comity_error *err);

/* Party `party` fetched message `id` at `at_ms` (the node's event; fetching
 * is not a record).  Only recipients; later fetches change nothing. */
COMITY_API comity_err comity_framework_delivered(comity_framework *fw,
                                                 const char *id,
                                                 const char *party,
                                                 int64_t at_ms,
                                                 comity_error *err);

typedef enum comity_msg_state {
    COMITY_MSG_SENT = 0,
    COMITY_MSG_DELIVERED = 1,
    COMITY_MSG_ACKNOWLEDGED = 2,
    COMITY_MSG_ANSWERED = 3, /* a reply "answered", or a pong */
    COMITY_MSG_DECLINED = 4,
    COMITY_MSG_CLOSED = 5
} comity_msg_state;

/* "sent", "delivered", ... (static). */
COMITY_API const char *comity_msg_state_name(comity_msg_state s);

typedef struct comity_msg_status {
    comity_msg_state state;
    int overdue;           /* 1: the expected record is late at `now_ms` */
    const char *expects;   /* "ack", "reply", "pong" or NULL (static) */
    int64_t due_ms;        /* deadline of what is expected, 0 if nothing */
    int64_t ack_due_ms;    /* the message's deadlines (0: none expected) */
    int64_t answer_due_ms;
    int64_t delivered_ms;  /* when the slot was delivered, 0 if not yet: its
                            * `delivered` record's created (or an answer's,
                            * when folded first), the same on every node;
                            * before the record, this node's local event
                            * (docs/federation.md section 7) */
} comity_msg_status;

/* Status of message `id` for recipient `party` (as named in the message's
 * `to`, or an office of a state named there), or, with party NULL, of the
 * least advanced recipient.  Unknown id or party: COMITY_ERR_NOTFOUND. */
COMITY_API comity_err comity_framework_status(const comity_framework *fw,
                                              const char *id,
                                              const char *party,
                                              int64_t now_ms,
                                              comity_msg_status *out,
                                              comity_error *err);

/* The answers `party` may send now to message `id`: the status machine's
 * rule, the very one comity_framework_add applies (a recipient not yet
 * answered: ack until acknowledged, reply; of a ping, pong; its author,
 * until closed: close; nothing once closed).  OUT *json (comity_free): an
 * array [{"type": "ack"|"reply"|"pong"|"close", "who": ["recipient"] or
 * ["author"]}], empty when nothing is allowed.  COMITY_ERR_NOTFOUND when
 * there is no message `id` or `party` may not see it. */
COMITY_API comity_err comity_framework_message_next(const comity_framework *fw,
                                                    const char *id, const char *party,
                                                    char **json, comity_error *err);

/* The JSON queries below give OUT *json (caller frees, comity_free); each
 * item is {"id","type","from","to","state","expects","due","overdue",
 * "severity"} with times in RFC 3339, sorted by due then id. */

/* Every (message, recipient) whose expected record is late at `now_ms`. */
COMITY_API comity_err comity_framework_overdue(const comity_framework *fw,
                                               int64_t now_ms, char **json,
                                               comity_error *err);
/* {"awaiting_me": [...], "awaiting_others": [...]}: what `party` (or its
 * state, when messages were sent to the state) must answer, and what it
 * sent that others have not answered yet. */
COMITY_API comity_err comity_framework_inbox(const comity_framework *fw,
                                             const char *party,
                                             int64_t now_ms, char **json,
                                             comity_error *err);
/* One page of the same inbox, in the same order (due, then id, then
 * recipient: overdue first): {"awaiting_me", "next_me", "total_me",
 * "awaiting_others", "next_others", "total_others"}, each list at most
 * `limit` items (1-COMITY_FW_INBOX_PAGE_MAX), "next_*" the cursor of the
 * page after it or null at the end, "total_*" the list's whole length.
 * `after` NULL: the first page of both lists; else a "next_*" cursor from
 * an earlier page (at most COMITY_FW_INBOX_CURSOR_MAX bytes): the page of
 * that one list after it, which may have moved meanwhile (an item answered
 * is gone; one whose deadline changed moves).  A malformed cursor or limit
 * is COMITY_ERR_INVALID. */
#define COMITY_FW_INBOX_PAGE_MAX 500
#define COMITY_FW_INBOX_CURSOR_MAX 256
COMITY_API comity_err comity_framework_inbox_page(const comity_framework *fw,
                                                  const char *party, int64_t now_ms,
                                                  size_t limit, const char *after,
                                                  char **json, comity_error *err);
/* The same page of the inbox narrowed by `filter` (NULL: none), on the
 * node: "total_*" and the cursors count what passes.  Each field NULL or
 * 0 means any: type (notification, request, ping), state (a message state
 * name), severity (1-5), sector (a sector of the framework's list), q (a
 * case-insensitive substring of the message id, its author or its
 * recipient; at most COMITY_FW_INBOX_QUERY_MAX bytes).  Severity and
 * sector travel sealed in amber and red messages: a sealed item whose
 * value is unknown here passes those two (its reader narrows it after
 * opening it); each item says "sealed".  A bad field is
 * COMITY_ERR_INVALID naming it. */
#define COMITY_FW_INBOX_QUERY_MAX 64
typedef struct comity_inbox_filter {
    const char *type, *state, *sector, *q;
    int severity;
} comity_inbox_filter;
COMITY_API comity_err comity_framework_inbox_find(const comity_framework *fw, const char *party,
                                                  int64_t now_ms, size_t limit,
                                                  const char *after,
                                                  const comity_inbox_filter *filter,
                                                  char **json, comity_error *err);
/* The directory at `at_ms`: an array of {"state","kind","current","history"}
 * sorted by state then kind; "current" is the latest entry valid at `at_ms`
 * (null when withdrawn or none valid), "history" every entry fed so far, in
 * log order, each {"id","author","created","body"}.  `state` NULL: all. */
COMITY_API comity_err comity_framework_directory(const comity_framework *fw,
                                                 const char *state,
                                                 int64_t at_ms, char **json,
                                                 comity_error *err);

typedef struct comity_ping_stats {
    uint64_t count;        /* pings sent to the party in [from, to) */
    uint64_t answered;     /* of those, answered by a pong (whenever) */
    int64_t p50_ms;        /* response time percentiles (nearest rank) over */
    int64_t p90_ms;        /*   the answered ones; -1 when none */
    double unanswered;     /* (count - answered) / count; 0 when count is 0 */
} comity_ping_stats;

/* Stats of pings created in [from_ms, to_ms) to any of `parties` (each a
 * party, or a bare state meaning all its parties, so that a region is the
 * list of its states; nparties 0: everyone) for contact kind `kind` (NULL:
 * all kinds). */
COMITY_API comity_err comity_framework_ping_stats(const comity_framework *fw,
                                                  const char *const *parties,
                                                  size_t nparties,
                                                  const char *kind,
                                                  int64_t from_ms,
                                                  int64_t to_ms,
                                                  comity_ping_stats *out,
                                                  comity_error *err);
/* The same for every (party, kind) pinged in [from_ms, to_ms): an array of
 * {"party","kind","count","answered","p50_ms","p90_ms","unanswered"}. */
COMITY_API comity_err comity_framework_ping_report(const comity_framework *fw,
                                                   int64_t from_ms,
                                                   int64_t to_ms, char **json,
                                                   comity_error *err);
/* The same two, counting only the pings `viewer` may see (the record
 * visibility rule: clear to anyone, green to any party, amber and red to
 * their author and recipients; viewer NULL or "" is anonymous): what a node
 * answers a caller.  The two above count every ping (offline tools). */
COMITY_API comity_err comity_framework_ping_stats_as(const comity_framework *fw,
                                                     const char *viewer,
                                                     const char *const *parties,
                                                     size_t nparties, const char *kind,
                                                     int64_t from_ms, int64_t to_ms,
                                                     comity_ping_stats *out,
                                                     comity_error *err);
COMITY_API comity_err comity_framework_ping_report_as(const comity_framework *fw,
                                                      const char *viewer,
                                                      int64_t from_ms, int64_t to_ms,
                                                      char **json, comity_error *err);
/* The same statistics per state or per region (`by`: "state" or "region"),
 * over the pings `viewer` may see, of contact kind `kind` (NULL: all):
 * an array sorted by key of {"state": "pk", "region": "142" (absent when
 * the state has none)} or {"region": "142" or "none", "name": "Asia"
 * (absent for none)}, each with "count", "answered", "p50_ms", "p90_ms",
 * "unanswered".  A region is the UN M49 region of the state's ISO 3166-1
 * alpha-2 code (src/framework/m49.c names the source); a state code M49
 * does not list is in "none".  USAGE for another `by`. */
COMITY_API comity_err comity_framework_ping_groups_as(const comity_framework *fw,
                                                      const char *viewer, const char *by,
                                                      const char *kind, int64_t from_ms,
                                                      int64_t to_ms, char **json,
                                                      comity_error *err);

/* ---- Cases: consultations and evidence requests ---------------------------
 *
 * A case is a thread of records among a few parties (docs/framework.md,
 * "Cases"): opened by a record whose author is the requester and whose
 * to[0] the requested party (to[1..]: the secretariat, for consultations),
 * advanced by records whose refs[0] names the case, addressed to all its
 * other parties and no one else, sealed when the case was opened sealed.
 * Each mechanism has its record types and body schemas, a status table
 * (state, record type, who may send it, next state, clocks started and
 * stopped) and clocks.  The record types are fed like the others, with
 * comity_framework_add / check (and comity_framework_check_body,
 * comity_framework_handles):
 *
 *   consultations      consult-request, consult-accept, consult-propose,
 *                      consult-decline, consult-good-offices, consult-agenda,
 *                      consult-document, consult-meeting, consult-close,
 *                      consult-action, consult-action-done
 *   preservation       preservation-request, preservation-confirm,
 *   (Art. 29/30, 42)   preservation-refuse, preservation-extend,
 *                      preservation-disclose, evidence-close
 *   mutual assistance  mla-request, mla-partial, mla-answer, mla-more-info,
 *   (Art. 31, UN 40)   mla-info, mla-refuse, evidence-close
 *   emergency          emergency-request, emergency-confirm,
 *   (2nd Prot. 9-10)   emergency-answer, emergency-refuse, evidence-close
 *
 * Refusals: COMITY_ERR_INVALID (body schema, envelope rule),
 * COMITY_ERR_DENIED (not the role that may send it now), COMITY_ERR_CONFLICT
 * (the status table forbids it in the case's state), COMITY_ERR_NOTFOUND
 * (refs[0] is no case the author is a party of: an unknown case and one the
 * author may not see get the same answer).
 */

/* Sets a case deadline (ms > 0) for `profile` ("budapest",
 * "second-protocol", "un", "eu"; NULL: every profile).  `clock` is one of
 * "consult-answer", "preservation-answer", "preservation", "extension",
 * "mla-answer", "more-info", "emergency-answer", "emergency-confirmation".
 * Defaults: docs/framework.md.  Due times are computed when asked, so a
 * table set after replay applies to every case. */
COMITY_API comity_err comity_framework_set_case_deadline(comity_framework *fw,
                                                         const char *profile,
                                                         const char *clock,
                                                         int64_t ms,
                                                         comity_error *err);
/* The instrument that binds states `a` and `b` (state codes, either order),
 * whose deadlines apply to their evidence cases; "budapest" when none is
 * set.  At most 4096 pairs (COMITY_ERR_TOOBIG). */
COMITY_API comity_err comity_framework_set_treaty(comity_framework *fw,
                                                  const char *a, const char *b,
                                                  const char *profile,
                                                  comity_error *err);

/*
 * Evidence files (docs/framework.md, "Evidence files"): a sealed file
 * carried apart, stored by a node under the SHA-256 of the age file, and
 * referenced from a case record's body by that hash and its size.
 *
 * comity_framework_file_attach: may `party` attach file (sha256, size) to
 * record `record_id`?  COMITY_OK when the record is a case record of a type
 * that takes files, `party` is its author, and its body, when readable,
 * lists the file; NOTFOUND (the same for an unknown record and one in a
 * case the party is not in), DENIED (not the author) or INVALID otherwise.
 * Changes nothing: the caller keeps the attachment.
 *
 * comity_framework_file_upload: may `party` upload a file for case
 * `case_id` before a record references it?  COMITY_OK when it is a party
 * of the case, else NOTFOUND (as for an unknown case).  Such a file stays
 * invisible until attached.
 *
 * comity_framework_file_visible: 1 when `party` is a party of the case of
 * one of the records `record_ids[0..n)` the file is attached to, else 0.
 */
COMITY_API comity_err comity_framework_file_attach(const comity_framework *fw,
                                                   const char *record_id,
                                                   const char *party,
                                                   const char *sha256, uint64_t size,
                                                   comity_error *err);
COMITY_API comity_err comity_framework_file_upload(const comity_framework *fw,
                                                   const char *case_id, const char *party,
                                                   comity_error *err);
COMITY_API int comity_framework_file_visible(const comity_framework *fw, const char *party,
                                             const char *const *record_ids, size_t n);

/* A party's open cases with their clocks at `now_ms` (party required; an
 * office of a state named as a case's party sees that case): OUT *json
 * (comity_free)
 *   {"party","now","cases":[{"id","mechanism","type","state","role",
 *     "parties":[{"party","role"}],"opened","profile","due","overdue",
 *     "clocks":[{"name","who","due","overdue"[,"task"]}]}]}
 * sorted by the earliest due time (none last), then id; a closed case with
 * a follow-up action not done stays listed. */
COMITY_API comity_err comity_framework_cases(const comity_framework *fw,
                                             const char *party,
                                             int64_t now_ms, char **json,
                                             comity_error *err);
/* One case seen by `party` (NULL: the node's operator, who sees every
 * case): its state, parties, clocks, follow-up tasks, facts read from its
 * bodies, its thread (each record's id, type, author, created and body when
 * readable) and "next": the record types the party may send now, with the
 * roles that may.  Consultations add "ladder".  A party not in the case
 * gets COMITY_ERR_NOTFOUND, as for an unknown id.  OUT *json (comity_free). */
COMITY_API comity_err comity_framework_case(const comity_framework *fw,
                                            const char *id, const char *party,
                                            int64_t now_ms, char **json,
                                            comity_error *err);
/* The case mechanisms' record types with their body schemas, as
 * comity_framework_check_body applies them, for clients that check a body
 * before sealing it (a node cannot check a sealed body): OUT *json
 * (comity_free)
 *   {"mechanisms":[{"name","opens","third_max","states":[{"name","open"}],
 *     "types":[{"name","more_rules","fields":[{"name","kind","required"
 *     [,"max"][,"min"][,"item_max"][,"vocab"]}]}]}]}
 * kind: text (1..max bytes), time (RFC 3339), enum (one of vocab), true,
 * bool, int (min..max), parties / texts (arrays of 1..max items of at most
 * item_max bytes), sha256 (64 lowercase hex), party, files, objects
 * (1..max JSON objects, e.g. STIX).  "more_rules": the
 * type has a rule across its fields too (docs/framework.md). */
COMITY_API comity_err comity_framework_case_types(char **json, comity_error *err);
/* The sharing level a client proposes for a record of `type`: for a
 * case's opening ("amber" for attribution-open: sealed by default), and
 * "amber" for the core's case-join and case-admit (a request to join
 * tells of a state's interest, and a sealed case takes only sealed
 * ones); NULL when none is proposed (the client's own default).  Static. */
COMITY_API const char *comity_framework_default_tlp(const char *type);

/* ---- Attribution: the vocabulary of threat actors (docs/attribution.md) ----
 *
 * Claims name actors from a vocabulary: a MISP galaxy cluster
 * (threat-actor.json) and attribution-actor records; any synonym resolves
 * to its actor, ASCII case folded.  For clients, before signing a claim.
 * Caps: 100,000 actors, 512 names each, 256 bytes a name, 64 MiB a
 * document (COMITY_ERR_TOOBIG). */
typedef struct comity_actors comity_actors;
/* OUT *out: comity_actors_free. */
COMITY_API comity_err comity_actors_new(comity_actors **out, comity_error *err);
COMITY_API void comity_actors_free(comity_actors *a);
/* Imports a galaxy cluster ({"values":[{"value","uuid","meta":{"synonyms",
 * "country","cfr-suspected-state-sponsor","name-attribution"}}]}), or one
 * attribution-actor body ({"name","synonyms","country"}) whose id is
 * `source` (the record's id; may be NULL). */
COMITY_API comity_err comity_actors_import(comity_actors *a, const char *json, size_t len,
                                           const char *source, comity_error *err);
/* The actors whose name or a synonym is `query` (exact) or contains it,
 * at most `max`: OUT *json (comity_free) {"query","exact","count","known",
 * "actors":[{"name","id","country","sponsor","source","synonyms"}]}. */
COMITY_API comity_err comity_actors_find(const comity_actors *a, const char *query, int exact,
                                         size_t max, char **json, comity_error *err);

/* ---- Cases: chain of custody and retention ---------------------------------
 *
 * Records of a case (refs[0] the case, to every other party, sealed when
 * the case is) that do not move it (docs/framework.md, "Chain of custody"
 * and "Retention"):
 *
 *   custody-receive, custody-handle, custody-transfer   who received,
 *       handled and passed on an item (a file named by its document
 *       reference {"sha256", "size", "name"}), in any state of the case
 *   evidence-destruction   the files of a closed case that were destroyed,
 *       when, why and under which rule; from a party of the case or from
 *       the node's custodian (comity_framework_set_custodian)
 */

/* The chain of custody of case `case_id` as `party` sees it (NULL: the
 * operator): per item (SHA-256), its links in log order with their
 * breaks (not-holder, not-recipient, wrong-sender, hash-changed,
 * size-changed, unknown-transfer, time-order, after-destruction), its
 * holder or the party it is in transit to, and when and by which record
 * it was destroyed; custody records whose bodies are sealed and not given
 * are listed apart:
 *   {"case","mechanism","breaks","items":[{"sha256","size","name","holder",
 *     "in_transit_to","destroyed","intact","breaks","chain":[{"id","action",
 *     "author","created","at","file",...,"breaks":[{"rule","detail"}]}]}],
 *    "sealed":[{"id","type","author","created"}],
 *    "records":[every custody and destruction record of the case, as in
 *      "sealed", in log order]}
 * A party not in the case gets COMITY_ERR_NOTFOUND, as for an unknown id.
 * OUT *json (comity_free). */
COMITY_API comity_err comity_framework_custody(const comity_framework *fw,
                                               const char *case_id,
                                               const char *party, char **json,
                                               comity_error *err);

/* ---- the commercial spyware registry (docs/spyware.md) ------------------- */

/* A vendor or product name as the registry compares it: ASCII letters
 * lowered, every other ASCII byte (spaces, punctuation) dropped, the bytes
 * of UTF-8 sequences kept ("Q-Cyber" and "q cyber" give "qcyber").  Writes
 * at most cap-1 bytes and a NUL into out; returns the length. */
COMITY_API size_t comity_spyware_normalise(const char *name, char *out, size_t cap);

/* The sharing level a spyware registry record of `type` takes unless its
 * author says otherwise: "clear" for vendors and listings (public),
 * "amber+strict" for oversight records (a state and its overseer),
 * "amber" for licences, misuse notices, joins and misuse cases.  NULL for
 * a type not of the registry (docs/spyware.md). */
COMITY_API const char *comity_spyware_tlp(const char *type);

/* The vendors of a MISP galaxy cluster (text[0..len), like
 * surveillance-vendor.json) as spyware-vendor bodies, each checked against
 * the type's schema: name, synonyms, products, refs, description,
 * source, source_uuid.  OUT *json: a JSON array (comity_free). */
COMITY_API comity_err comity_spyware_galaxy_bodies(const char *text, size_t len,
                                                   char **json, comity_error *err);

/* The vendors bearing `name` (as name or synonym, after
 * comity_spyware_normalise), each with its current fields, who made and
 * last changed it, and its public listings and licences:
 * {"name", "normalised", "vendors": [...]}.  OUT *json (comity_free). */
COMITY_API comity_err comity_framework_spyware_lookup(const comity_framework *fw,
                                                      const char *name, char **json,
                                                      comity_error *err);
/* One vendor (its id: its first record's), with its whole history of
 * versions (author, time, body).  NOTFOUND when none.  OUT *json. */
COMITY_API comity_err comity_framework_spyware_vendor(const comity_framework *fw,
                                                      const char *id, char **json,
                                                      comity_error *err);
/* The number of vendors in the registry. */
COMITY_API size_t comity_framework_spyware_count(const comity_framework *fw);

/* No undercut: the denials readable in this handle (a party's client feeds
 * the ones it opened) by a state other than `party`'s of the same vendor's
 * product to the same end user: {"denials": [{id, author, state, created,
 * body}]}.  OUT *json (comity_free). */
COMITY_API comity_err comity_framework_spyware_undercut(const comity_framework *fw,
                                                        const char *party,
                                                        const char *vendor,
                                                        const char *product,
                                                        const char *end_user, char **json,
                                                        comity_error *err);
/* The misuse notices readable in this handle, sent to `party` by another
 * state, that name a product `party`'s state licensed (granted licences
 * readable here): {"matches": [{id, author, created, body, licences,
 * joined}]}.  OUT *json (comity_free). */
COMITY_API comity_err comity_framework_spyware_matches(const comity_framework *fw,
                                                       const char *party, char **json,
                                                       comity_error *err);
/* Government use under oversight: the authorisations `party` wrote or
 * oversees (exactly that party: another office of its state sees none),
 * from their envelopes alone, in log order: {"party", "authorisations":
 * [{id, author, overseer, role ("author" or "overseer"), created,
 * signoff: {id, created} or null, receipt: the path of its receipt}]}.
 * Neither body is ever shown (the decision is in the sealed sign-off).
 * OUT *json (comity_free). */
COMITY_API comity_err comity_framework_spyware_authorisations(const comity_framework *fw,
                                                              const char *party, char **json,
                                                              comity_error *err);
/* The public transparency report, from clear records only: per state (of
 * the author; of the requester for misuse cases) and year (of a decision's
 * or listing's date; of a case's opening or closing), licences granted
 * and denied (in all, by category, by destination), listings, misuse
 * cases opened and closed.  Each figure is {"count", "records": [ids]}: the
 * records it counts, whose receipts anyone can verify.  `state` NULL and
 * `year` 0 take all.  {"source", "state", "year", "records_counted",
 * "groups": [{state, year, licences, listings, misuse_cases}]} sorted by
 * state then year.  OUT *json (comity_free). */
COMITY_API comity_err comity_framework_spyware_report(const comity_framework *fw,
                                                      const char *state, int year, char **json,
                                                      comity_error *err);

/* The retention period of a kind of case after its closing: `kind` is
 * "consultation", "preservation", "disclosure" (a preservation case whose
 * data was disclosed), "mla" or "emergency"; `period` is years ("5y",
 * 1-100 years of 365 days) or a duration ("90d", "36h", "30s").  Defaults
 * (docs/framework.md): consultation 10y, preservation 1y, disclosure 2y,
 * mla 5y, emergency 2y.  COMITY_ERR_USAGE naming the setting otherwise. */
COMITY_API comity_err comity_framework_set_retention(comity_framework *fw,
                                                     const char *kind,
                                                     const char *period,
                                                     comity_error *err);
/* The party whose key the node signs its destruction records with: its
 * evidence-destruction records are taken for cases it is no party of. */
COMITY_API comity_err comity_framework_set_custodian(comity_framework *fw,
                                                     const char *party,
                                                     comity_error *err);
/* A file a node's store holds, and the records it is attached to. */
typedef struct comity_file_stored {
    const char *sha256;
    uint64_t size;
    const char *const *records;
    size_t nrecords;
} comity_file_stored;
/* What is due for destruction at `now_ms`: the closed cases whose
 * retention ran out (now >= closed + period) and whose destruction the
 * custodian has not recorded, each with the files it refers to (from
 * readable bodies, custody records, and the store's attachments) less
 * those another case still keeps; the cases due with nothing to destroy;
 * and the cases still waiting, with their due times.  `store` (may be
 * NULL: every file referenced counts) lists what a node's file store holds
 * (nstore entries): then only those files are due.
 *   {"now","next","due":[{"case","mechanism","kind","closed","rule",
 *     "retention_ms","due","parties","sealed","files":[{"sha256","size",
 *     "name",...}],"kept":[{"sha256","kept_by"}]}],
 *    "nothing":[the same, files empty],
 *    "pending":[{"case","kind","closed","rule","due"}],
 *    "leftover":[sha256...]}
 * "leftover": stored files the custodian already recorded destroyed that
 * no case keeps (a crash came between the record and the destruction). 
 * OUT *json (comity_free). */
COMITY_API comity_err comity_framework_retention_due(const comity_framework *fw,
                                                     int64_t now_ms,
                                                     const comity_file_stored *store,
                                                     size_t nstore, char **json,
                                                     comity_error *err);
/* Whether the file `sha256` was recorded destroyed in a case `party` is a
 * party of (NULL: any case): {"sha256","destroyed","record","case",
 * "custodian" (true: by the node's custodian, its retention job)}, or
 * COMITY_ERR_NOTFOUND.  OUT *json (comity_free). */
COMITY_API comity_err comity_framework_destroyed(const comity_framework *fw,
                                                 const char *sha256,
                                                 const char *party, char **json,
                                                 comity_error *err);

/* ---- Prohibitions and norms (docs/norms.md) --------------------------------
 *
 * Records (their bodies checked by comity_framework_check_body):
 *   norm-entry        a catalogue entry, by the secretariat (an office of
 *                     "un"), clear or green; a later version names the
 *                     current one as refs[0]
 *   norm-declaration  a state's protected sectors, named services and
 *                     CERTs (13(k)), public or sealed; refs[0] the version
 *                     it supersedes
 *   norm-reseal       a sealed declaration sealed again to states that
 *                     joined later
 *   norm-alert        a supply-chain alert about a disclosure case
 *   norm-report       a section (one norm, one period) of a state's
 *                     implementation report, clear or green
 *   norm-position-draft, norm-position-comment   a national position's
 *                     drafting, sealed to the state's own offices
 *   norm-position-delegation   the state key names the office that
 *                     publishes; norm-position   a published version
 * and two case mechanisms (comity_framework_cases, _case): norm-complaint
 * and norm-disclosure, with their steps. */

/* The catalogue: the eleven norms of the UN GGE 2015 report (13a-13k,
 * built in as version 0 until the secretariat records them) and every
 * entry recorded, each with its current text and every version:
 *   {"norms":[{"norm","kind","title","text","source","version","builtin",
 *     "withdrawn","versions":[{"version","record","author","created",
 *     "body"}]}]}
 * OUT *json (comity_free). */
COMITY_API comity_err comity_framework_norms(const comity_framework *fw, char **json,
                                             comity_error *err);
/* The built-in body of one of the eleven ("13f"), as a norm-entry body the
 * secretariat may publish; COMITY_ERR_NOTFOUND for any other id.
 * OUT *json (comity_free). */
COMITY_API comity_err comity_framework_norm_builtin(const char *norm, char **json,
                                                    comity_error *err);
/* The declarations of `state` (NULL: every state) that `viewer` may see
 * (NULL: the operator, every envelope): public ones, those sealed to the
 * viewer or its state, and those re-sealed to it; any other does not
 * show.  Each version: {"record","series","version","current","state",
 * "author","visibility" (public, participating, self),"created","to",
 * "open_with" (the record the viewer opens: itself or a re-seal),"body"
 * (null when sealed and not given),"in_force" (null when unreadable),
 * "reseals":[{"record","created","to"}]}, in log order:
 *   {"state","at","declarations":[...]}
 * OUT *json (comity_free). */
COMITY_API comity_err comity_framework_norm_declarations(const comity_framework *fw,
                                                         const char *state,
                                                         const char *viewer, int64_t at_ms,
                                                         char **json, comity_error *err);

/* Implementation reports of `period` ("2026", "2026-H1", "2026-Q3")
 * compared across states.  With `norm` NULL, every norm reported on,
 * counted, no section listed (a table of norms):
 *   {"period","norm":null,"norms":[{"norm","reported" (states),
 *     "needs":{TOPIC:sections},"offers":{TOPIC:sections}}],
 *    "topics":[{"topic","needed" (sections),"offering_states"}]}
 * With `norm`, that norm compared state by state, and each of its
 * capacity-building needs matched with the states offering the topic in
 * the period (the needing state left out): how many ("offers", and
 * "offers_same_norm"), and the first 8 of them, those offering it under
 * the same norm first ("norm" null for the others):
 *   {"period","norm","norms":[{"norm","reported","states":[{"state",
 *     "record","version","created","done","laws","institutions",
 *     "contacts","needs","offers"}]}],
 *    "needs":[{"state","norm","topic","offers","offers_same_norm",
 *     "offered_by":[{"state","norm","same_norm"}]}]}
 * Each state's current section only; "norms" is empty when no state
 * reported on `norm`.  COMITY_ERR_USAGE for a malformed period.  OUT
 * *json (comity_free). */
COMITY_API comity_err comity_framework_norm_reports(const comity_framework *fw,
                                                    const char *period, const char *norm,
                                                    char **json, comity_error *err);

/* National positions on international law, compared topic by topic
 * (`topic` NULL: every topic: sovereignty, non-intervention, use-of-force,
 * peaceful-settlement, due-diligence, state-responsibility,
 * ihl-distinction, ihl-proportionality, ihl-precaution, human-rights):
 * each state's current published version with every version; the state
 * keys' delegations; and the drafts and comments of the viewer's own state
 * (envelopes; NULL viewer: none):
 *   {"topic","topics":[{"topic","states":[{"state","version","record",
 *     "author","text","sources","versions":[{"version","record","author",
 *     "created"}]}]}],
 *    "delegations":[{"record","state","office","valid_from"}],
 *    "drafts":[{"record","type","author","created"}]}
 * COMITY_ERR_USAGE for an unknown topic.  OUT *json (comity_free). */
COMITY_API comity_err comity_framework_norm_positions(const comity_framework *fw,
                                                      const char *topic, const char *viewer,
                                                      char **json, comity_error *err);

/* ------------------------------------------------------------------------ */
/* Node and store (src/store/, src/node/)                                   */
/* ------------------------------------------------------------------------ */

/* A node: its data directory DIR holds
 *   node.db            the store (SQLite, WAL)
 *   node.key           the node's signed-note signing key (mode 0600)
 *   log/               its transparency log (origin = the node's origin)
 *   witness/, witness.key   its witness of peer logs (c2sp.org/tlog-witness;
 *                      trust a log with `comity witness add-log DIR/witness VKEY`)
 *   tls/cert.pem, tls/key.pem   its self-signed TLS certificate and key
 */
typedef struct comity_node comity_node;

typedef struct comity_node_init_opts {
    const char *origin;   /* log origin / node name, e.g. "comity.pk.example" */
    const char *operator_name; /* operator account (default "operator") */
    int no_tls_cert;      /* 1: do not make a self-signed certificate */
    /* Where the store lives: NULL for SQLite in DIR/node.db, or a
     * PostgreSQL database, "postgresql://..." (a libpq URI) or
     * "postgres:KEY=VALUE ..." (docs/operations.md).  Kept in DIR/store
     * (mode 0600: it may hold a password); the database must hold no
     * node yet. */
    const char *store;
} comity_node_init_opts;

/* What init made.  Release with comity_node_created_free. */
typedef struct comity_node_created {
    char *operator_token;  /* shown once; only its hash is stored */
    char *node_vkey;       /* node signing key's verifier key (also the log's) */
    char *witness_vkey;    /* the node's witness cosigning key (type 0x04) */
    char cert_sha256[96];  /* "AB:CD:..." of the certificate, or "" */
    char tls_pin[64];      /* "sha256//BASE64" of its public key (peer add
                            * --tls-pin), or "" */
} comity_node_created;

/* Creates a node in `dir` (which must not exist or be empty). */
COMITY_API comity_err comity_node_init(const char *dir,
                                       const comity_node_init_opts *opts,
                                       comity_node_created *out,
                                       comity_error *err);
COMITY_API void comity_node_created_free(comity_node_created *c);

/* Opens the node in `dir`.  OUT *node: comity_node_close. */
COMITY_API comity_err comity_node_open(const char *dir, comity_node **node,
                                       comity_error *err);
/* Stops serving (if started) and releases the node. */
COMITY_API void comity_node_close(comity_node *node);

/* --- operating a node: doctor, backup, restore (docs/operations.md) --- */

/* How serious a finding of comity_node_doctor is. */
#define COMITY_FINDING_OK 0      /* checked, fine */
#define COMITY_FINDING_NOTE 1    /* worth knowing, nothing to fix */
#define COMITY_FINDING_WARN 2    /* fix it soon (a certificate near expiry) */
#define COMITY_FINDING_PROBLEM 3 /* fix it now: the node is or will be unsafe */

typedef struct comity_finding {
    int level;         /* COMITY_FINDING_* */
    const char *check; /* "dir", "keys", "store", "log", "witness", "tls", "disk" */
    const char *what;  /* what was found, naming the file or setting */
    const char *todo;  /* what to do about it ("" when nothing) */
} comity_finding;
typedef void (*comity_finding_fn)(void *ctx, const comity_finding *f);

/* Checks the node in `dir` without changing anything (it may be serving):
 * the directory and its key files (present, readable, mode 0600, the
 * node's key parses), the store (reachable, its schema version against
 * this build's, SQLite's quick_check or PostgreSQL's durability and
 * standbys), the log (comity_log_audit under the node's key), the
 * witness state, the TLS certificate's expiry and the free disk space.
 * Each finding goes to fn (its strings valid during the call); OUT
 * *problems: the number at COMITY_FINDING_PROBLEM.  An error only when
 * the checks could not run at all (dir missing: NOTFOUND). */
COMITY_API comity_err comity_node_doctor(const char *dir, comity_finding_fn fn, void *ctx,
                                         unsigned *problems, comity_error *err);

/* What comity_node_backup wrote or comity_node_restore put back. */
typedef struct comity_backup_report {
    char origin[128];
    char store[16];          /* "sqlite" or "postgresql" */
    uint64_t log_size;       /* entries under the log's checkpoint */
    uint64_t files;          /* files copied (the store's dump counts one) */
    uint64_t bytes;          /* their bytes */
    uint64_t records;        /* restore: record rows in the store */
    uint64_t records_ahead;  /* restore: rows newer than the log copy,
                                logged again when the node starts */
} comity_backup_report;

/* Backs the node in `dir` up into the new directory `out`, while it may
 * be serving: first its log (checkpoint, sequencer state, tiles), then its
 * store (SQLite's online backup API, or pg_dump of its schema), then its
 * keys, settings, witness state, certificates and evidence files, and
 * last a manifest (out/BACKUP) that marks the backup complete.  Store
 * after log: every record the log copy holds is in the store copy, and
 * the store's newer rows are logged again when a restored node starts, at
 * the same indexes.  The copy holds the node's secret keys: keep it as
 * such.  OUT *r (may be NULL). */
COMITY_API comity_err comity_node_backup(const char *dir, const char *out,
                                         comity_backup_report *r, comity_error *err);

/* Restores a backup made by comity_node_backup into `dir` (must not exist
 * or be empty).  `store`: for a PostgreSQL backup, the database to
 * restore into (NULL: the one the backup names); its current schema must
 * be the backed-up one and hold no node.  Then checks what came back
 * before anything may serve it: the log audits clean under the node's
 * key, every record row within the log's size is the log's entry at its
 * index, and rows beyond it are only newer ones (COMITY_ERR_VERIFY
 * naming the first that is not).  OUT *r (may be NULL). */
COMITY_API comity_err comity_node_restore(const char *backup, const char *dir,
                                          const char *store, comity_backup_report *r,
                                          comity_error *err);

/* Key custody (src/node/keyvault.c, docs/operations.md "Key custody"):
 * seals the secret files of the node in `dir` (NULL: none; node.key must
 * be there, and witness.key, retention.key, tls/key.pem and DIR/store are
 * taken when present) and the party key files `party_keys`, each checked
 * to load, to the `nrec` age recipients, into the new file `out` (mode
 * 0600, armored; EXISTS if it is there).  OUT *nkeys (may be NULL): the
 * files sealed. */
COMITY_API comity_err comity_keys_backup(const char *dir, const char *const *party_keys,
                                         size_t nparty, const char *const *recipients,
                                         size_t nrec, const char *out, size_t *nkeys,
                                         comity_error *err);
/* Opens a key backup with `ids`, checks every key in it (each parses, its
 * public key is the one recorded when it was sealed, a party's key file
 * is that party's) before writing anything, then writes the files under
 * the new directory `outdir` (mode 0700; files 0600; a party's key as
 * parties/NAME.key).  OUT *listing: JSON {"created", "keys": [{"path",
 * "vkey"?}]}, comity_free. */
COMITY_API comity_err comity_keys_restore(const char *in, const comity_identities *ids,
                                          const char *outdir, char **listing,
                                          comity_error *err);
/* The same two with a passphrase instead of recipients and identities:
 * age's scrypt stanza (comity_seal_passphrase_mem, work factor
 * COMITY_AGE_SCRYPT_LOGN; opening refuses one above
 * COMITY_AGE_SCRYPT_LOGN_MAX), so `age -d` opens the backup with the
 * passphrase, and a backup `age -p` made of the same plaintext opens
 * here.  A wrong passphrase is COMITY_ERR_NOKEY. */
COMITY_API comity_err comity_keys_backup_passphrase(const char *dir,
                                                    const char *const *party_keys,
                                                    size_t nparty, const char *pass,
                                                    size_t pass_len, const char *out,
                                                    size_t *nkeys, comity_error *err);
COMITY_API comity_err comity_keys_restore_passphrase(const char *in, const char *pass,
                                                     size_t pass_len, const char *outdir,
                                                     char **listing, comity_error *err);

/* What is due for destruction at `now_ms` under the node's retention
 * settings (DIR/node.conf retention.*): comity_framework_retention_due on
 * the node's state and its file store (while it serves), or on a replay of
 * its store (a node opened and not serving: a dry run that changes
 * nothing, and counts every file the readable records name, since it does
 * not open the file store a serving node may be writing).  OUT *json
 * (comity_free). */
COMITY_API comity_err comity_node_retention_due(comity_node *node,
                                                int64_t now_ms, char **json,
                                                comity_error *err);

typedef struct comity_serve_opts {
    const char *listen;   /* "ADDR:PORT" (default 127.0.0.1:8443; port 0 = any) */
    const char *cert_file, *key_file; /* PEM; default DIR/tls/{cert,key}.pem */
    int insecure_http;    /* 1: plain HTTP (local use only) */
    unsigned threads;     /* worker threads (default 4) */
    size_t max_body;      /* request body cap in bytes (default 8 MiB) */
    unsigned max_connections; /* total (default 256) */
    unsigned max_per_ip;  /* connections per client address (IPv6: per /64);
                           * 0: DIR/node.conf's max_per_ip, else 16 */
    unsigned timeout_s;   /* idle connection timeout (default 30) */
    unsigned body_timeout_s; /* whole-body upload deadline (default 120) */
    int access_log;       /* 1: one line per request on stderr (default 0) */
    /* Framework deadlines (docs/framework.md): deadline[s] is "ACK/REPLY"
     * for severity s (0 = unknown, 1-5), durations like "30m", "4h", "7d";
     * ping_deadline is one duration ("24h").  NULL: the value from
     * DIR/node.conf ("deadline.5 = 1h/24h", "ping_deadline = 24h") if it
     * gives one, else the framework's default.  Bad values: USAGE. */
    const char *deadline[6];
    const char *ping_deadline;
    /* The web UI's built files, served at / (docs/ui.md); NULL: no UI
     * (then / answers a JSON pointer to the API). */
    const char *web_dir;
    /* Deadline in seconds for a request's whole header block (the TLS
     * handshake and an idle keep-alive wait count); 0: DIR/node.conf's
     * header_timeout, else 20.  At most 3600. */
    unsigned header_timeout_s;
    /* Addresses and CIDR blocks exempt from max_per_ip ("127.0.0.0/8,
     * 2001:db8::/32"), added to DIR/node.conf's allow_many lines; NULL:
     * none.  Checked when the node starts (USAGE). */
    const char *allow_many;
    /* The cap on one evidence file uploaded to /v1/files (bytes); 0: 4 GiB
     * (COMITY_FILE_MAX_DEFAULT in docs/framework.md). */
    uint64_t max_file;
    /* "ADDR:PORT" of a listener of its own, plain HTTP, that answers GET
     * /metrics without a token and nothing else (docs/operations.md,
     * "Metrics"); meant for loopback or a monitoring network; port 0 =
     * any; NULL: none (then /metrics is on the node's listener only, to
     * the operator's token). */
    const char *metrics_listen;
} comity_serve_opts;

COMITY_API void comity_serve_opts_default(comity_serve_opts *o);
/* Starts the HTTP server in background threads; returns once listening. */
COMITY_API comity_err comity_node_start(comity_node *node,
                                        const comity_serve_opts *o,
                                        comity_error *err);
/* The SHA-256 fingerprint ("AB:CD:...") of the certificate being served,
 * or "" when serving plain HTTP or not serving. */
COMITY_API void comity_node_tls_fingerprint(const comity_node *node,
                                            char out[96]);
/* The bound port (useful with port 0), 0 when not serving. */
COMITY_API unsigned comity_node_port(const comity_node *node);
/* The metrics listener's bound port (comity_serve_opts.metrics_listen),
 * 0 when there is none. */
COMITY_API unsigned comity_node_metrics_port(const comity_node *node);
/* Stops accepting, lets in-flight requests finish (up to grace_ms), stops. */
COMITY_API void comity_node_stop(comity_node *node, unsigned grace_ms);

/* Registers a party (name valid per specs/records.md; vkey a signed-note
 * verifier key named after the party; recipient an age1 recipient), creates
 * its TAXII inbox collection, and returns a fresh API token (OUT *token,
 * comity_free).  EXISTS when the name is taken. */
COMITY_API comity_err comity_node_party_add(comity_node *node, const char *name,
                                            const char *vkey,
                                            const char *recipient, char **token,
                                            comity_error *err);
/* Registers an office homed here from its signed party record
 * (docs/federation.md, section 1; `comity party add --record`): the record
 * is kept with the roster's records, must be its office's entry in the
 * roster (not ignored by its rules: DENIED, saying why; not superseded by
 * a later record: CONFLICT), not a revocation, and name this node as the
 * office's home (else DENIED); the name, key and age recipient are the
 * entry's.  Then as comity_node_party_add.  OUT *name (the office) and
 * *token: comity_free each. */
COMITY_API comity_err comity_node_party_add_record(comity_node *node, const char *envelope,
                                                   size_t len, char **name, char **token,
                                                   comity_error *err);
/* Replaces a party's (or the operator's) token; OUT *token as above. */
COMITY_API comity_err comity_node_party_token(comity_node *node,
                                              const char *name, char **token,
                                              comity_error *err);
/* Removes a party: its token stops working (every request with it is 401,
 * so it posts nothing more), while its registration, key, records and
 * their validity stay.  NOTFOUND for an unknown name, USAGE for the
 * operator's account; removing a removed party is harmless.
 * comity_node_party_token gives it a token again. */
COMITY_API comity_err comity_node_party_remove(comity_node *node, const char *name,
                                               comity_error *err);
/* The registered parties as a JSON array (OUT *json, comity_free). */
COMITY_API comity_err comity_node_party_list(comity_node *node, char **json,
                                             comity_error *err);

/* ---- Federation (docs/federation.md) -------------------------------------
 *
 * Peers are other nodes the operator pins, each by its URL and its log key
 * (the vkey `comity init` printed there, named after its origin), with the
 * parties whose home it is: party_vkeys[i] (named after the party) and age
 * recipients[i].  A serving node pulls from every peer what that peer's
 * origin lets it see and logs it; a peer logs in here with its node key
 * to pull in turn.  Works on a serving node's store (picked up within
 * 10 s). */

/* Pins a peer (and its parties).  Harmless when repeated with the same
 * keys; EXISTS when a name is taken by another key, or a party is homed
 * elsewhere or here; TOOBIG past 64 peers or 256 names in its filter;
 * USAGE for a bad URL or key. */
COMITY_API comity_err comity_node_peer_add(comity_node *node, const char *url,
                                           const char *log_vkey,
                                           const char *const *party_vkeys,
                                           const char *const *recipients,
                                           size_t nparties, comity_error *err);
/* The peers as a JSON array: origin, url, log_vkey, cursor, pulled,
 * checkpoint (the last accepted) and its size, lag_entries, last_ok,
 * lag_seconds, last_try, error, parties, tls_pin ("" when none).  OUT
 * *json: comity_free. */
COMITY_API comity_err comity_node_peer_list(comity_node *node, char **json,
                                            comity_error *err);
/* Unpins a peer by origin: no more pulls from it, its login here refused;
 * its parties' keys and records stay, its records still waiting for their
 * refs are dropped (OUT *waiting_dropped, may be NULL: how many).
 * NOTFOUND when unknown. */
COMITY_API comity_err comity_node_peer_remove(comity_node *node, const char *origin,
                                              size_t *waiting_dropped, comity_error *err);
/* Pins the TLS key of the peer whose log key is `log_vkey`: `pin` is
 * "sha256//BASE64" (the SHA-256 of its certificate's SubjectPublicKeyInfo,
 * as `comity init` prints it), kept in DIR/peers.pins; every call to that
 * peer then trusts that key and no other, whatever its certificate's
 * chain (a node's self-signed certificate works).  `pin` NULL removes it.
 * USAGE for a malformed pin or key. */
COMITY_API comity_err comity_node_peer_tls_pin(comity_node *node, const char *log_vkey,
                                               const char *pin, comity_error *err);

/* Checks an equivocation offline (docs/federation.md, section 9): a note,
 * signed by the node that caught it, holding two checkpoints of one
 * origin; it proves a split view when both verify under that origin's log
 * key `log` and either have the same size and different roots, or have
 * different sizes and the note's hashes of the larger tree show that it
 * does not extend the smaller.  OUT origin: the
 * accused origin.  COMITY_ERR_VERIFY when it proves nothing, INVALID when
 * malformed. */
COMITY_API COMITY_MUST_CHECK comity_err
comity_equivocation_verify(const char *note, size_t len, const comity_vkey *log,
                           char origin[256], comity_error *err);

/* ---- Log succession (docs/federation.md, section 11; src/record/succession.c)
 *
 * When a node's log key is lost or compromised, its state announces a new
 * log with a record of type "log-succession" (tlp clear or green, authored
 * by the state key, a state code) whose body is
 *   {"old_log_vkey", "new_log_vkey", "url" (the new log's), "checkpoint"
 *    (the old log's last checkpoint the state stands by: the cut), "reason"?}
 * The rule: a checkpoint signed by the old log key stands when it is the
 * cut or below it and consistent with it; one beyond the cut, or not
 * consistent with it, is refused (COMITY_ERR_DENIED, "log-succession"). */
#define COMITY_SUCCESSION_TYPE "log-succession"
#define COMITY_SUCCESSION_CKPT_MAX 8192   /* bytes of the cut's note */
#define COMITY_SUCCESSION_VKEY_MAX 256    /* bytes of a log key */
#define COMITY_SUCCESSION_URL_MAX 512
#define COMITY_SUCCESSION_REASON_MAX 200
typedef struct comity_succession comity_succession;

/* The body rules alone (fuzzed): fields, keys, URL, and the checkpoint
 * signed by the old key.  COMITY_ERR_INVALID naming the field. */
COMITY_API comity_err comity_succession_check_body(const char *body, size_t len,
                                                   comity_error *err);
/* Makes a body (reason may be NULL), checked as above.  OUT *json:
 * comity_free. */
COMITY_API comity_err comity_succession_body(const char *old_vkey, const char *new_vkey,
                                             const char *url, const char *checkpoint,
                                             const char *reason, char **json,
                                             comity_error *err);
/* Parses a succession record: its type, author (a state code), tlp and
 * body; with nkeys > 0 its signature under those of `state_keys` named
 * after the author (NOKEY / VERIFY otherwise).  OUT *out:
 * comity_succession_free. */
COMITY_API COMITY_MUST_CHECK comity_err
comity_succession_parse(const char *envelope, size_t len, const comity_vkey *const *state_keys,
                        size_t nkeys, comity_succession **out, comity_error *err);
COMITY_API void comity_succession_free(comity_succession *s);
/* A field, borrowed: "id", "state", "created", "old_log_vkey",
 * "new_log_vkey", "url", "checkpoint", "reason" (NULL when absent). */
COMITY_API const char *comity_succession_get(const comity_succession *s, const char *field);
/* The size of the cut. */
COMITY_API uint64_t comity_succession_size(const comity_succession *s);
/* Judges a checkpoint already verified under the old log key (cp): the
 * cut's size and root, "at"; a smaller size, "before" (with `proof`, the
 * consistency proof from cp's size to the cut's, nproof hashes, checked;
 * without, the status says it was not).  COMITY_ERR_DENIED, naming the
 * rule and "beyond" or "not-consistent"; USAGE for another log's.  OUT
 * *status: a static string. */
COMITY_API COMITY_MUST_CHECK comity_err
comity_succession_judge(const comity_succession *s, const comity_checkpoint *cp,
                        const uint8_t *proof, size_t nproof, const char **status,
                        comity_error *err);
/* Verifies a receipt (c2sp.org/tlog-proof) for `entry` under the old log
 * key (and `policy`'s quorum when given), then judges its checkpoint.
 * COMITY_ERR_NOKEY when it is a receipt under the new log key instead
 * (check it as any receipt of the new log).  OUT *status, *index, *cp
 * (may be NULL). */
COMITY_API COMITY_MUST_CHECK comity_err
comity_succession_receipt(const comity_succession *s, const char *proof, size_t len,
                          const void *entry, size_t entry_len, const comity_policy *policy,
                          const char **status, uint64_t *index, comity_checkpoint *cp,
                          comity_error *err);

/* Follows a log succession record on this node (docs/federation.md,
 * section 11): its signature under a key of its state that the node's
 * roster admits; the old log key a pinned peer's, at which a party of
 * that state is homed (DENIED otherwise), whose last checkpoint accepted
 * here the rule does not refuse (CONFLICT otherwise: nothing changes);
 * then the record is kept (DIR/successions/), the new log is
 * pinned at the record's URL, the state's parties homed at the old log
 * are homed at the new one, and the old peer is unpinned when nobody is
 * homed there any more (else its pulls stop at the cut).  OUT *json: what
 * was done (comity_free). */
COMITY_API comity_err comity_node_succession_follow(comity_node *node, const char *envelope,
                                                    size_t len, char **json,
                                                    comity_error *err);
/* The roster (docs/federation.md, section 1): the federation's states and
 * offices, folded from signed `admission` and `party` records under the
 * operator's roster policy, so that two nodes holding the same records
 * and policy show the same roster.  import: keeps one record (a party or
 * admission record, clear or green, its body valid); OUT *id
 * (comity_free).  policy: checks and replaces the policy text.  show: the
 * roster as JSON (OUT *json: comity_free). */
COMITY_API comity_err comity_node_roster_import(comity_node *node, const char *envelope,
                                                size_t len, char **id, comity_error *err);
COMITY_API comity_err comity_node_roster_policy(comity_node *node, const char *text,
                                                size_t len, comity_error *err);
COMITY_API comity_err comity_node_roster_show(comity_node *node, char **json,
                                              comity_error *err);
/* The node's witness policy (docs/federation.md, section 8): a
 * c2sp.org/tlog-policy text whose witness quorum every checkpoint of a
 * peer must meet before its pullers take the records it covers; checked
 * and kept as DIR/witness.policy.  len 0 removes it (NOTFOUND when there
 * is none). */
COMITY_API comity_err comity_node_witness_policy(comity_node *node, const char *text,
                                                 size_t len, comity_error *err);
/* Makes the node's key directory follow the roster: each office homed at
 * another node is known here as a party homed at that peer (which is
 * pinned at the URL of the office's entry); an office homed here must be
 * registered (`comity party add`) with its entry's keys.  OUT *json: what
 * was done, and what was refused and why (comity_free). */
COMITY_API comity_err comity_node_roster_apply(comity_node *node, char **json,
                                               comity_error *err);

/* ------------------------------------------------------------------------ */
/* Correlation (src/correlate/, docs/correlation.md)                        */
/* ------------------------------------------------------------------------ */

/*
 * An index from observable values (normalised as the sweep normalises
 * them) to the records that hold them, answering "which other records
 * share infrastructure with this one?" only about records the asker may
 * see.  A node runs one over what it can read; a party's client runs one
 * over the sealed records it opened, and asks the node about their values
 * (POST /v1/framework/correlation/lookup).  Kinds of value: domain, ipv4,
 * ipv6 (or ip), url, email, md5, sha1, sha256, x509-sha1, x509-sha256, or
 * the STIX paths ("domain-name:value", "file:hashes.'SHA-256'", ...).
 */
typedef struct comity_corr comity_corr;
#define COMITY_CORR_COMMON_DEFAULT 50 /* holders beyond which a value is common */

/* A new index; values held by more than `common` holders (0: the default)
 * are common and never reported as shared.  OUT *out: comity_corr_free. */
COMITY_API comity_err comity_corr_new(size_t common, comity_corr **out,
                                      comity_error *err);
COMITY_API void comity_corr_free(comity_corr *c);
/* Never index this value (a resolver, a CDN). */
COMITY_API comity_err comity_corr_exclude(comity_corr *c, const char *kind,
                                          const char *value, comity_error *err);
/* Adds record `rec` (borrowed) as a holder with the values of `body` (its
 * clear or opened body, JSON text; NULL: the record's clear body): STIX
 * indicator patterns and observables anywhere in it.  *skipped (may be
 * NULL) counts values the normaliser refused. */
COMITY_API comity_err comity_corr_add_record(comity_corr *c, const comity_record *rec,
                                             const char *body, size_t *skipped,
                                             comity_error *err);
/* What holder `id` shares with the other holders `viewer` may see (NULL:
 * anonymous), as JSON (the shape of GET /v1/framework/correlation).
 * NOTFOUND for a holder the viewer may not see.  OUT *json: comity_free. */
COMITY_API comity_err comity_corr_shared(comity_corr *c, const char *id,
                                         const char *viewer, char **json,
                                         comity_error *err);
/* The normalised values of holder `id`: [{"type", "value"}...].  OUT
 * *json: comity_free. */
COMITY_API comity_err comity_corr_values(comity_corr *c, const char *id,
                                         const char *viewer, char **json,
                                         comity_error *err);

/* Blinded correlation: the keyed hash a participant submits for a value
 * (normalised first), under the key the participants share.  INVALID
 * when the value is not one of its kind. */
#define COMITY_BLIND_KEY_LEN 32
#define COMITY_BLIND_HASH_LEN 16
COMITY_API comity_err comity_blind_hash(const uint8_t key[COMITY_BLIND_KEY_LEN],
                                        const char *kind, const char *value,
                                        size_t len,
                                        uint8_t out[COMITY_BLIND_HASH_LEN],
                                        comity_error *err);
/* A fresh random round key (to seal to the participants with
 * comity_seal_mem). */
COMITY_API void comity_blind_key_new(uint8_t key[COMITY_BLIND_KEY_LEN]);
/* The body of a submission to POST /v1/framework/correlation/blind/ROUND:
 * n hashes, and the participants when opening the round (np 0: none).
 * OUT *json: comity_free. */
COMITY_API comity_err comity_blind_body(const uint8_t *hashes, size_t n,
                                        const char *const *participants,
                                        size_t np, char **json,
                                        comity_error *err);
/* A hash as the node's answers write it (base64, NUL-terminated). */
#define COMITY_BLIND_HASH_B64 25
COMITY_API void comity_blind_hash_text(const uint8_t h[COMITY_BLIND_HASH_LEN],
                                       char out[COMITY_BLIND_HASH_B64]);

#ifdef __cplusplus
}
#endif
#endif /* COMITY_H */
