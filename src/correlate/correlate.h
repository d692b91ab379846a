/*
 * correlate.h: the correlation index and blinded correlation (private to
 * libcomity; docs/correlation.md).
 *
 * The index maps normalised observable values to their holders: the
 * records (reports, cases, sightings, notifications...) whose content names
 * them.  Values are normalised by the sweep (cy_sw_normalise), so that the
 * index and a sweep agree on what "the same value" is: domains folded to
 * lowercase without a trailing dot, IPs and CIDR ranges as masked
 * networks, hashes in lowercase hex.  Two holders share infrastructure when
 * they hold the same value, or when one's value contains the other's as the
 * sweep matches them: a domain and its subdomains (at label boundaries,
 * never a bare top-level label), a CIDR range and the addresses or smaller
 * ranges inside it.
 *
 * Memory grows with the values, never with the pairs: one value is one
 * entry (its key bytes in an arena, 16 bytes of entry, a slot of the hash
 * table) with a posting list of its holders (8 bytes a holder), and each
 * holder keeps the list of its values (8 bytes a value).  A value held by
 * more than `common` holders (MISP's over-correlation limit) is "common":
 * its posting list stops growing (only a count goes on), and it is never
 * reported as shared infrastructure.  Values on the exclusion list
 * (node.conf `correlation_exclude`) are not indexed at all.
 *
 * Who sees what: a query names the asker (a principal name, NULL for an
 * anonymous caller) and answers only about holders the asker may see, by
 * the one rule of src/record (cy_record_visibility): the asked-for holder
 * itself (else NOTFOUND, as for an unknown id), and each other holder.
 *
 * Containment queries (the subdomains of a domain, the addresses in a
 * range) use sorted views of the domains (by reversed key) and of the IPs
 * (by address), rebuilt by cy_corr_prepare after values were added; the
 * queries themselves only read, so any number may run at once between
 * two prepares.  Adding and preparing need the caller's exclusive lock
 * (live.c holds it for the node).
 *
 * Layering: correlate uses base, stix (the pattern parser), sweep (the
 * normaliser) and record (the visibility rule); the framework and the node
 * may use it, nothing below does.
 */
#ifndef COMITY_CORRELATE_H
#define COMITY_CORRELATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/base.h"

/* ---- caps -------------------------------------------------------------- */

#define CY_CORR_COMMON_DEFAULT 50        /* holders beyond which a value is common */
#define CY_CORR_COMMON_MAX 100000        /* the highest cap a node may set */
#define CY_CORR_VALUES_MAX (1u << 28)    /* distinct values in one index */
#define CY_CORR_HOLDERS_MAX (1u << 24)   /* holders in one index */
#define CY_CORR_HOLDER_VALUES_MAX 100000 /* values of one holder */
#define CY_CORR_EXCLUDE_MAX 4096         /* values on the exclusion list */
#define CY_CORR_JSON_DEPTH 32            /* nesting followed in a body */
#define CY_CORR_LOOKUP_MAX 10000         /* values in one lookup request */
#define CY_CORR_LOOKUP_BODY_MAX (4 << 20) /* bytes of a lookup request */
#define CY_CORR_ID_MAX 128               /* bytes of a holder id */

/* ---- kinds of value ----------------------------------------------------- */

enum cy_corr_kind {
    CY_CK_NONE = 0,
    CY_CK_DOMAIN,      /* domain-name:value */
    CY_CK_IPV4,        /* ipv4-addr:value (and CIDR ranges) */
    CY_CK_IPV6,        /* ipv6-addr:value (and CIDR ranges) */
    CY_CK_URL,         /* url:value */
    CY_CK_EMAIL,       /* email-addr:value */
    CY_CK_MD5,         /* file:hashes.MD5 */
    CY_CK_SHA1,        /* file:hashes.'SHA-1' */
    CY_CK_SHA256,      /* file:hashes.'SHA-256' */
    CY_CK_X509_SHA1,   /* x509-certificate:hashes.'SHA-1' */
    CY_CK_X509_SHA256, /* x509-certificate:hashes.'SHA-256' */
    CY_CK_MAX
};

/* The kind a name gives: the short names (domain, ipv4, ipv6, ip, url,
 * email, md5, sha1, sha256, x509-sha1, x509-sha256) and the STIX paths
 * ("domain-name:value", "file:hashes.'SHA-256'", ...).  CY_CK_NONE when
 * unknown. */
int cy_corr_kind_parse(const char *name);
/* The STIX path of a kind ("domain-name:value"). */
const char *cy_corr_kind_name(int kind);

/*
 * Normalises one value of `kind` as the sweep does (cy_sw_normalise; an
 * X.509 fingerprint may be written with ':' between its bytes).  OUT
 * key[CY_CORR_KEY_MAX], *klen, *kkind (an IP written as a domain is an
 * IP).  INVALID or TOOBIG with a message naming the value otherwise.
 */
#define CY_CORR_KEY_MAX 4096
comity_err cy_corr_normalise(int kind, const char *v, size_t len, uint8_t *key, size_t *klen,
                             int *kkind, comity_error *err);

/* A key of cy_corr_normalise as text (IPs written back, "/p" for a range),
 * NUL-terminated into out[cap]; returns out. */
const char *cy_corr_key_text(int kind, const uint8_t *key, size_t klen, char *out, size_t cap);

/* ---- the index ---------------------------------------------------------- */

typedef struct cy_corr cy_corr;

/* A new empty index: values held by more than `common` holders are common
 * (0: CY_CORR_COMMON_DEFAULT; above CY_CORR_COMMON_MAX: USAGE).  OUT *out:
 * cy_corr_free. */
comity_err cy_corr_new(size_t common, cy_corr **out, comity_error *err);
void cy_corr_free(cy_corr *c);

/* Puts a value of `kind` on the exclusion list: it is never indexed nor
 * reported (the value itself only: a domain's subdomains are still
 * indexed, and still share with each other).  A value already indexed is
 * hidden from then on.  At most CY_CORR_EXCLUDE_MAX (TOOBIG). */
comity_err cy_corr_exclude(cy_corr *c, int kind, const char *v, size_t len, comity_error *err);

/*
 * The holder `id` (a record id), made on first use: `kind` is what it is
 * (the record type: notification, sighting, case...), author, tlp and
 * to[0..nto) what the visibility rule reads.  A holder already known keeps
 * its first description.  All strings are copied.  OUT *h: its number.
 */
comity_err cy_corr_holder(cy_corr *c, const char *id, const char *kind, const char *author,
                          const char *tlp, const char *const *to, size_t nto, uint32_t *h,
                          comity_error *err);
/*
 * Gated holders: content the node reads that is no record, such as a
 * plain STIX object posted to a TAXII collection, whose readers are named
 * by a rule string (the collection's read rule) that this module does not
 * interpret.  The index's gate decides: gate(rule, who) says whether the
 * asker `who` (what the caller passed to the *_as queries; NULL for an
 * anonymous asker or a query without it) may read what the rule guards.
 * The node sets the gate of src/node/access.c; an index without a gate
 * shows gated holders to nobody.
 */
typedef bool (*cy_corr_gate)(const char *rule, const void *who);
void cy_corr_set_gate(cy_corr *c, cy_corr_gate gate);
/* The holder `id` guarded by `rule` (copied): `kind` what it is (the STIX
 * type), `owner` who posted it ("" when unknown); made on first use, a
 * holder already known keeps its first description (and rule).  OUT *h. */
comity_err cy_corr_holder_gated(cy_corr *c, const char *id, const char *kind, const char *owner,
                                const char *rule, uint32_t *h, comity_error *err);

/* The number of holder `id`; false when unknown. */
bool cy_corr_find_holder(const cy_corr *c, const char *id, uint32_t *h);

/* Adds one value of `kind` to holder h (normalised; excluded values are
 * skipped; a value the holder already has is not added twice).  *added
 * (may be NULL) says whether it was. */
comity_err cy_corr_add(cy_corr *c, uint32_t h, int kind, const char *v, size_t len,
                       bool *added, comity_error *err);

/*
 * Adds every observable value found in `body` (a record's clear or opened
 * body, or a STIX bundle or object) to holder h: indicator patterns
 * (each comparison `=` or IN on a known path, not negated), cyber-
 * observable objects (domain-name, ipv4-addr, ipv6-addr, url, email-addr,
 * file and artifact hashes, x509-certificate hashes) wherever they sit
 * (bundles, observed-data, any member of the body), nested at most
 * CY_CORR_JSON_DEPTH deep.  A value the normaliser refuses is skipped and
 * counted in *skipped (may be NULL); a pattern that does not parse too.
 */
comity_err cy_corr_add_json(cy_corr *c, uint32_t h, const json_t *body, size_t *skipped,
                            comity_error *err);

/* Rebuilds the sorted views after adds (a no-op when nothing changed). */
comity_err cy_corr_prepare(cy_corr *c, comity_error *err);

/* Counts, for reports and the benchmark. */
typedef struct cy_corr_stats {
    size_t values, holders, postings, common, excluded_skipped;
    size_t bytes; /* heap bytes held */
} cy_corr_stats;
void cy_corr_stats_get(const cy_corr *c, cy_corr_stats *st);

/*
 * "Which other holders share infrastructure with holder `id`?", as seen by
 * `viewer` (a principal name, NULL: anonymous).  OUT *json (cy_free):
 *   {"holder": ID, "values": N,
 *    "shared": [{"type", "value", "holders": [{"id","kind","author",
 *                "state","value"}...]}...],
 *    "common": [{"type", "value"}...]}
 * where each shared value lists the other holders the viewer may see that
 * hold it or a value containing it or contained in it ("value": theirs);
 * a common value is listed without its holders.  NOTFOUND (the same
 * message as for an unknown id) when the viewer may not see holder `id`.
 * Call cy_corr_prepare first after adds.
 */
comity_err cy_corr_shared(const cy_corr *c, const char *id, const char *viewer, char **json,
                          comity_error *err);
/* The same, with `who` handed to the gate for gated holders. */
comity_err cy_corr_shared_as(const cy_corr *c, const char *id, const char *viewer,
                             const void *who, char **json, comity_error *err);
/* The same for loose values (a client correlating its sealed content
 * against a node): values[i] of kinds[i], normalised here; the answer
 * lists, per value, the holders the viewer may see ("shared" as above,
 * without "holder"; refused values in "invalid").  At most
 * CY_CORR_LOOKUP_MAX values (TOOBIG). */
comity_err cy_corr_lookup(const cy_corr *c, const int *kinds, const char *const *values,
                          size_t n, const char *viewer, char **json, comity_error *err);
/* A lookup request body {"values": [{"type": KIND, "value": V}...]}
 * (at most CY_CORR_LOOKUP_BODY_MAX bytes, CY_CORR_LOOKUP_MAX values;
 * INVALID naming the member otherwise), answered by cy_corr_lookup. */
comity_err cy_corr_lookup_body(const cy_corr *c, const char *body, size_t len,
                               const char *viewer, char **json, comity_error *err);
/* The same, with `who` handed to the gate for gated holders. */
comity_err cy_corr_lookup_body_as(const cy_corr *c, const char *body, size_t len,
                                  const char *viewer, const void *who, char **json,
                                  comity_error *err);
/* The normalised values of holder `id` as JSON [{"type","value"}...]
 * (the viewer must see it, as above). */
comity_err cy_corr_values(const cy_corr *c, const char *id, const char *viewer, char **json,
                          comity_error *err);

/* ---- blinded correlation (blind.c) --------------------------------------- */

#define CY_BLIND_KEY_LEN 32              /* the participants' shared key */
#define CY_BLIND_HASH_LEN 16             /* bytes of one keyed hash */
#define CY_BLIND_SET_MAX 1000000         /* hashes one participant submits */
#define CY_BLIND_PARTIES_MAX 64          /* participants of one round */
#define CY_BLIND_ROUNDS_MAX 1024         /* rounds a node holds at once */
#define CY_BLIND_ROUND_NAME_MAX 64       /* bytes of a round's name */

/* The keyed hash of one normalised value: BLAKE2b-128 (libsodium's
 * crypto_generichash) keyed with `key`, over the kind byte then the key
 * bytes of cy_corr_normalise.  OUT out[CY_BLIND_HASH_LEN]. */
comity_err cy_blind_hash(const uint8_t key[CY_BLIND_KEY_LEN], int kind, const char *v, size_t len,
                         uint8_t out[CY_BLIND_HASH_LEN], comity_error *err);

/* Sorts n hashes in place and drops repeats; returns the new count. */
size_t cy_blind_sort(uint8_t *h, size_t n);
/* The hashes both sorted sets hold, into out (room for min(na, nb));
 * returns their count.  O(na + nb). */
size_t cy_blind_intersect(const uint8_t *a, size_t na, const uint8_t *b, size_t nb, uint8_t *out);

/*
 * The rounds a node runs: a round is named, has a fixed list of
 * participants (set by whoever opens it, who must be one of them), and
 * holds each participant's latest submitted set.  A participant learns,
 * for each other participant that submitted, the hashes their sets share;
 * nobody else learns anything (a non-participant's read is NOTFOUND, as for
 * an unknown round).  Held in memory, and, once cy_blind_rounds_persist
 * named a store, in the store too (a restart keeps them).
 */
typedef struct cy_blind_rounds cy_blind_rounds;
comity_err cy_blind_rounds_new(cy_blind_rounds **out, comity_error *err);
void cy_blind_rounds_free(cy_blind_rounds *r);
typedef struct comity_store comity_store;
/* Reads back the rounds kept in `st` (borrowed; must outlive r) and keeps
 * every later accepted submission there before answering it (blind.c,
 * "Durability").  Errors of the store, or INVALID for a stored set that is
 * not whole hashes. */
comity_err cy_blind_rounds_persist(cy_blind_rounds *r, comity_store *st, comity_error *err);
/*
 * Submits `party`'s set to round `name`: the request body, JSON
 *   {"participants": ["pk", "in.cert", ...],   (to open the round; when
 *                                               the round exists, must be
 *                                               absent or the same list)
 *    "hashes": "<base64 of n * CY_BLIND_HASH_LEN bytes>"}
 * parsed here (the caps above; errors name the member).  DENIED when
 * `party` is not a participant.  Thread-safe.
 */
comity_err cy_blind_submit(cy_blind_rounds *r, const char *name, const char *party,
                           const char *body, size_t len, comity_error *err);
/* What `party` learns of round `name`: OUT *json (cy_free)
 *   {"round", "participants": [...], "submitted": [...],
 *    "overlaps": [{"party", "count", "hashes": [base64...]}...]}
 * NOTFOUND when there is no such round or `party` is none of its
 * participants.  Thread-safe. */
comity_err cy_blind_result(cy_blind_rounds *r, const char *name, const char *party, char **json,
                           comity_error *err);

/* ---- the node's index (live.c) -------------------------------------------- */

/* node.conf's correlation settings: `correlation_common = N`,
 * `correlation_exclude = KIND:VALUE` (lines add up). */
typedef struct cy_corr_conf {
    size_t common; /* 0: CY_CORR_COMMON_DEFAULT */
    struct {
        int kind;
        char *value; /* owned */
    } exclude[CY_CORR_EXCLUDE_MAX];
    size_t nexclude;
} cy_corr_conf;
/* Reads node.conf text into *conf (zeroed by the caller); other names are
 * left to other parts of the node.  USAGE naming the line otherwise. */
comity_err cy_corr_conf_parse(const char *text, size_t len, cy_corr_conf *conf,
                              comity_error *err);
void cy_corr_conf_free(cy_corr_conf *conf);

typedef struct cy_corr_live cy_corr_live;
/* The node's index over store `st` (borrowed; must outlive it), with
 * `conf` applied (may be NULL), and the node's blinded rounds.  The plain
 * objects of the TAXII collections of `api_root` (NULL: none) are indexed
 * as gated holders under their collection's read rule, decided by `gate`.
 * OUT *out: cy_corr_live_free. */
comity_err cy_corr_live_open(comity_store *st, const cy_corr_conf *conf, const char *api_root,
                             cy_corr_gate gate, cy_corr_live **out, comity_error *err);
void cy_corr_live_free(cy_corr_live *l);
/* cy_corr_shared on the node's index, after catching up with the store. */
comity_err cy_corr_live_shared(cy_corr_live *l, const char *id, const char *viewer,
                               const void *who, char **json, comity_error *err);
/* cy_corr_lookup_body on the node's index, after catching up. */
comity_err cy_corr_live_lookup(cy_corr_live *l, const char *body, size_t len,
                               const char *viewer, const void *who, char **json,
                               comity_error *err);
/* The node's blinded rounds (owned by l). */
cy_blind_rounds *cy_corr_live_blind(cy_corr_live *l);

#endif
