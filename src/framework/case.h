/*
 * case.h: the shared case core and the interface a mechanism implements.
 *
 * A case is a thread of records among a few parties, with a status, clocks
 * and an outcome: consultations (consult.c) and evidence requests
 * (evidence.c), attribution (attribution.c); norm complaints and spyware
 * misuse later.  The core (case.c) owns what every case has in common:
 *
 *   - it is opened by a record of the mechanism's opening type; the
 *     opening's author is the requester, `to[0]` the requested party (a
 *     party or a bare state, of another state), and, where the mechanism
 *     allows, `to[1..]` third parties (the secretariat: good offices), of
 *     neither state.  These parties alone may see the case: every later
 *     record names the case as `refs[0]`, comes from one of them, and is
 *     addressed (`to`) to all the others and no one else;
 *   - a case opened sealed (amber, amber+strict, red) takes only sealed
 *     records, so that its existence never shows in a clear record;
 *   - it advances by the mechanism's status table: rows of (states, record
 *     type, roles that may send it, next state, clocks started and
 *     stopped).  A record that no row allows is refused, naming the rule;
 *   - clocks: each mechanism declares its clocks (who must act), a row
 *     starts and stops them; a clock's due time is computed when asked,
 *     from its start and the handle's deadline table for the case's
 *     profile (so a table set after replay applies), unless the record
 *     that started it fixed a due time (a body's period) or extended it;
 *   - tasks: follow-up items with an owner and a due time (consultations'
 *     follow-up actions), overdue until done;
 *   - queries: a party's open cases with their clocks, and one case with
 *     its thread and the actions allowed next.
 *
 * Every mechanism declares its record types with body schemas (a table of
 * fields, checked by the core), its states, its status table, its clocks,
 * and hooks for rules the table cannot say (a body's cross-field rules, a
 * follow-up linking two cases, extra fields of the case view).  Only the
 * envelope (type, author, to, refs, created, tlp) is needed to run the
 * table and the table's clocks, because a node cannot open a sealed body;
 * docs/framework.md lists what a body adds when it can be read.
 */
#ifndef COMITY_FRAMEWORK_CASE_H
#define COMITY_FRAMEWORK_CASE_H

#include "framework/core.h"

/* ---- roles, fields, types ------------------------------------------------ */

enum {
    CY_ROLE_REQUESTER = 1u, /* the opening's author */
    CY_ROLE_REQUESTED = 2u, /* the opening's to[0] */
    CY_ROLE_THIRD = 4u      /* to[1..]: the secretariat (good offices) */
};
#define CY_ROLE_PARTIES (CY_ROLE_REQUESTER | CY_ROLE_REQUESTED)
#define CY_ROLE_ANY (CY_ROLE_PARTIES | CY_ROLE_THIRD)

/* Kinds of body fields the core checks. */
typedef enum cy_fk {
    CY_FK_TEXT,    /* a string of 1..max bytes (max 0: CY_CASE_TEXT_MAX) */
    CY_FK_TIME,    /* an RFC 3339 time */
    CY_FK_ENUM,    /* one of vocab */
    CY_FK_TRUE,    /* must be true */
    CY_FK_BOOL,    /* true or false */
    CY_FK_INT,     /* an integer in [min, max] */
    CY_FK_PARTIES, /* an array of 1..max party names (max 0: 64) */
    CY_FK_TEXTS,   /* an array of 1..max texts of at most CY_CASE_TEXT_MAX */
    CY_FK_SHA256,  /* 64 lowercase hex digits */
    CY_FK_PARTY,   /* a party name */
    CY_FK_FILES,   /* documents carried apart as sealed files: an array of
                      1..max (0: CY_CASE_FILES_MAX) objects {sha256, size,
                      name?, media_type?} (the file store's hash: SHA-256
                      of the age file; its size in bytes) */
    CY_FK_OBJECTS  /* an array of 1..max (0: CY_CASE_OBJECTS_MAX) JSON
                      objects, each checked further by the type's `check`
                      (STIX objects attached to a record) */
} cy_fk;

#define CY_CASE_TEXT_MAX 4096       /* bytes in a short text field */
#define CY_CASE_LONG_TEXT_MAX 65536 /* statements, minutes, answers */
#define CY_CASE_FILES_MAX 64        /* files referenced by one record */
#define CY_CASE_OBJECTS_MAX 256     /* objects in a CY_FK_OBJECTS field */
#define CY_CASE_FILE_SIZE_MAX ((int64_t)1 << 53) /* a file's size field */

typedef struct cy_field {
    const char *name;
    cy_fk kind;
    bool required;
    const char *const *vocab; /* CY_FK_ENUM: NULL-terminated */
    int64_t min, max;         /* CY_FK_INT range; TEXT / arrays: max size */
} cy_field;

typedef struct cy_case_type {
    const char *name;
    const cy_field *fields; /* terminated by a field with name NULL */
    /* Rules across fields (a decline needs its reason...); may be NULL.
     * `t` is the type name for messages. */
    comity_err (*check)(const char *t, const json_t *body, comity_error *err);
} cy_case_type;

/* ---- a mechanism ----------------------------------------------------------- */

#define CY_SAME (-1)          /* a row that keeps the state */
#define CY_CASE_CLOCKS_MAX 8  /* clocks of one mechanism */
#define CY_CASE_THIRD_MAX 4   /* third parties in a case */
#define CY_BIT(s) (1u << (s))

typedef struct cy_case_row {
    unsigned from;      /* states (CY_BIT) in which the row applies */
    const char *type;   /* record type */
    unsigned who;       /* roles that may send it */
    int to;             /* next state, or CY_SAME */
    unsigned starts;    /* clocks started (CY_BIT of the clock index) */
    unsigned stops;     /* clocks stopped */
} cy_case_row;

/* Clock ids: one column each of the handle's deadline table. */
enum cy_ck {
    CY_CK_CONSULT_ANSWER = 0,
    CY_CK_PRESERVATION_ANSWER,
    CY_CK_PRESERVATION,
    CY_CK_EXTENSION, /* a duration only: a preservation's extension */
    CY_CK_MLA_ANSWER,
    CY_CK_MORE_INFO,
    CY_CK_EMERGENCY_ANSWER,
    CY_CK_EMERGENCY_CONFIRM,
    CY_CK_ATTRIBUTION_REPLY, /* the accused state's reply to a claim */
    CY_CK_NORM_ACK, CY_CK_NORM_REPLY, CY_CK_DISCLOSURE_ACK, CY_CK_EMBARGO, /* norm_*.c */
    CY_CK_COUNT
};

/* Profiles: which instrument's deadlines apply to a case. */
enum cy_profile {
    CY_PROFILE_BUDAPEST = 0,
    CY_PROFILE_SECOND_PROTOCOL,
    CY_PROFILE_UN,
    CY_PROFILE_EU,
    CY_PROFILE_COUNT
};

typedef struct cy_case_clock {
    const char *name;  /* "answer", as shown in queries */
    enum cy_ck ck;     /* its column of the deadline table */
    unsigned who;      /* the role that must act before it runs out */
} cy_case_clock;

typedef struct cy_case cy_case;
typedef struct cy_mech cy_mech;

struct cy_mech {
    const char *name;            /* "consultation" */
    const char *opens;           /* the opening record type */
    const cy_case_type *types;   /* every type of the mechanism, opening too */
    size_t ntypes;
    const char *const *states;   /* state names by index */
    size_t nstates;
    unsigned open_states;        /* CY_BIT of the states where it is open */
    int initial;                 /* state after the opening */
    unsigned open_starts;        /* clocks the opening starts */
    const cy_case_row *rows;
    size_t nrows;
    const cy_case_clock *clocks;
    size_t nclocks;
    size_t third_max;            /* third parties allowed in `to` (0: none) */
    bool profiled;               /* deadlines depend on the case's profile */
    /* The sharing level a client proposes for a new case of this
     * mechanism (comity_framework_default_tlp); NULL: the client's own. */
    const char *default_tlp;
    /* Names of the three roles (requester, requested, third) as views and
     * messages show them; NULL: "requester", "requested", "secretariat". */
    const char *const *role_names;
    /* Extra rules and effects, each may be NULL.  Called with dry true
     * before anything changes (refuse here), then, when the record is
     * taken, with dry false after the core has applied the row (record
     * effects: facts, tasks, clock periods; may only fail for memory).
     * `row` is NULL for the opening; `body` is NULL when sealed and not
     * given. */
    comity_err (*hook)(comity_framework *fw, cy_case *c, const cy_case_row *row,
                       const comity_record *rec, const json_t *body,
                       int64_t created, bool dry, comity_error *err);
    /* Extra fields of the case view (e.g. the escalation ladder); may be
     * NULL.  Adds them to `o`; -1 on OOM. */
    int (*view)(const comity_framework *fw, const cy_case *c, json_t *o);
    /* Writes the default durations (ms) of the deadline table's columns
     * this mechanism owns, for every profile; may be NULL. */
    void (*defaults)(int64_t dur[CY_PROFILE_COUNT][CY_CK_COUNT]);
    /* Late parties (the core's case-join and case-admit, case.c): whether
     * `party`, not a party of open case c, may ask to join it and be
     * admitted (e.g. spyware misuse: its state asked to join the case's
     * notice).  NULL: the mechanism's cases take no late party.  A party
     * it refuses is told what an unknown case would tell it. */
    bool (*may_join)(const comity_framework *fw, const cy_case *c, const char *party);
    /* The roles that admit a late party (0: the requester). */
    unsigned admits;
};

/* ---- a case ---------------------------------------------------------------- */

typedef struct cy_case_entry {
    char *id, *type, *author;
    int64_t created;
    json_t *body; /* owned; NULL when sealed and not given */
} cy_case_entry;

typedef struct cy_case_clk {
    int64_t start;     /* -1: never started */
    int64_t stopped;   /* -1: running (when started) */
    int64_t fixed_due; /* -1: start + the table's duration */
    int64_t extra;     /* added to the due time (extensions) */
} cy_case_clk;

/* A request to join a case after it opened (a case-join record). */
typedef struct cy_case_join {
    char *id;          /* the case-join record */
    char *party;       /* its author: who asks */
    int64_t at;        /* its created time */
    char *admitted;    /* the case-admit record; NULL while pending */
} cy_case_join;

typedef struct cy_case_task {
    char *id;          /* the record that set it */
    char *owner;       /* a party; NULL when not readable (sealed) */
    char *what;        /* short text, NULL when not readable */
    int64_t due;       /* -1: unknown */
    int64_t done;      /* -1: not done */
} cy_case_task;

struct cy_case {
    const cy_mech *m;
    char *id;                /* the opening record's id */
    char **parties;          /* [0] requester, [1] requested, [2..] third */
    size_t nparties;
    int state;
    int profile;             /* enum cy_profile */
    bool sealed;             /* opened amber, amber+strict or red */
    int64_t opened;
    int64_t closed;          /* when it left its open states; -1 while open */
    cy_case_entry *e;        /* the thread, in log order ([0] the opening) */
    size_t ne, cape;
    cy_case_clk clk[CY_CASE_CLOCKS_MAX];
    cy_case_task *tasks;
    size_t ntasks, captasks;
    json_t *facts;           /* owned object: what the mechanism derived
                                from bodies (outcome, period, links) */
    cy_case_join *joins;     /* requests to join, in log order; an
                                admitted party is then in parties[] */
    size_t njoins, capjoins;
};

/* All the cases of a handle; lives in struct comity_framework. */
typedef struct cy_cases {
    cy_case **c;             /* owned, in opening (log) order */
    size_t n, cap;
    json_t *ids;             /* case id -> index in c */
    json_t *recs;            /* record id of every case record (the
                                opening too) -> index in c */
    json_t *by_party;        /* party or bare state named as a case's party
                                -> index in plists */
    struct cy_plist { size_t *v; size_t n, cap; } *plists; /* case indexes,
                                ascending */
    size_t nplists, capplists;
    int64_t dur[CY_PROFILE_COUNT][CY_CK_COUNT]; /* deadline table, ms */
    struct cy_treaty { char a[COMITY_PARTY_MAX + 1], b[COMITY_PARTY_MAX + 1];
                       int profile; } *treaties; /* pairs of states */
    size_t ntreaties, captreaties;
} cy_cases;

/* ---- the core's functions (case.c) ------------------------------------------ */

/* The mechanism among mechs[0..n) and the type of a record type name, or
 * NULL.  The list is the caller's (registry.c's cy_case_mechs, kept in the
 * handle as fw->case_mechs): the core knows no mechanism by name. */
const cy_mech *cy_case_mech_in(const cy_mech *const *mechs, size_t n,
                               const char *type, const cy_case_type **t);

/* Checks a parsed body (borrowed) against the schema of case type t. */
comity_err cy_case_check_body(const cy_case_type *t, const json_t *body,
                              comity_error *err);

/* The core's own record types, common to every case mechanism:
 * "case-join" (a party asks to join an open case) and "case-admit" (it is
 * admitted), or NULL for any other name. */
const cy_case_type *cy_case_core_type(const char *name);
extern const cy_case_type cy_case_core_types[];
extern const size_t cy_case_ncore_types;

/* The case `id`, or NULL. */
cy_case *cy_case_find(const comity_framework *fw, const char *id);

/* The case record `id` belongs to (the opening or a later record), or
 * NULL; OUT *entry (may be NULL): its entry in the case's thread. */
cy_case *cy_case_of_record(const comity_framework *fw, const char *id,
                           const cy_case_entry **entry);

/* Whether case type t declares a field of kind CY_FK_FILES. */
bool cy_case_type_takes_files(const cy_case_type *t);

/* The type `name` of mechanism m, or NULL. */
const cy_case_type *cy_case_type_of(const cy_mech *m, const char *name);

/* The roles `party` holds in case c (0: none): its own name among the
 * parties, or an office of a bare state named there. */
unsigned cy_case_roles(const cy_case *c, const char *party);

/* The envelope rules every record of a case obeys (its refs[0] names the
 * case, its author is one of the case's parties, its `to` names every
 * other party and no one else, it is sealed when the case is, it is not
 * dated before the opening), for a record of type `type` (for messages).
 * `outsider`: the author need not be a party (the caller has decided who
 * it is: the node's custodian writing a destruction record), and then
 * `to` must name every party.  OUT *out: the case (borrowed).  Refusals:
 * NOTFOUND (no such case, or the author is in none: the same answer),
 * INVALID (the envelope). */
comity_err cy_case_envelope(const comity_framework *fw, const char *type,
                            const comity_record *rec, int64_t created,
                            bool outsider, cy_case **out, comity_error *err);

/* The party slots of case c (CY_BIT of the index in c->parties) that
 * `party` answers for: its own name, or an office of a bare state named
 * there. */
unsigned cy_case_slots(const cy_case *c, const char *party);

/* Whether case c is in one of its mechanism's open states. */
bool cy_case_is_open(const cy_case *c);

/* Adds a follow-up task (strings copied; owner and what may be NULL). */
comity_err cy_case_task_add(cy_case *c, const char *id, const char *owner,
                            const char *what, int64_t due, comity_error *err);

/* The record types of mechs[0..n), each with its body schema as the core
 * checks it (kinds, required, limits with their defaults, enum words;
 * "more_rules" when a cross-field rule applies too), and each mechanism's
 * opening type and states: a new JSON array (the caller owns it), NULL on
 * OOM.  For clients that check a body before sealing it. */
json_t *cy_case_schemas(const cy_mech *const *mechs, size_t n);

/* The mechanisms' descriptors (consult.c, evidence.c, ...), listed by
 * registry.c; case.c never names them. */
extern const cy_mech cy_mech_consultation;
extern const cy_mech cy_mech_preservation;
extern const cy_mech cy_mech_mla;
extern const cy_mech cy_mech_emergency;
extern const cy_mech cy_mech_attribution; /* attribution.c */
extern const cy_mech cy_mech_norm_complaint, cy_mech_norm_disclosure; /* norm_*.c */
extern const cy_mech cy_mech_spyware_misuse; /* spyware_misuse.c */

/* Names of profiles and deadline columns, for the public setters. */
extern const char *const cy_profile_names[CY_PROFILE_COUNT];
extern const char *const cy_ck_names[CY_CK_COUNT];

#endif
