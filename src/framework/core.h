/*
 * core.h: the framework handle's state, shared by its files, and the
 * descriptor by which a mechanism plugs into the core.
 *
 * The files stand in floors, each calling only files below it, never two
 * calling each other:
 *
 *   core.c       the handle (new, free, deadline tables) and the entry point
 *                that feeds a record, dispatched through the registry
 *   registry.c   the list of mechanisms (descriptors only), the case
 *                mechanisms' list, and which record types are ruled
 *   retention.c  retention periods and destruction records, on custody.c
 *                and the case core
 *   custody.c    chain-of-custody records of a case's items, on the core
 *   consult.c, evidence.c   case mechanisms, on the case core
 *   case.c       the case core; it knows case mechanisms only through the
 *                descriptors (struct cy_mech) it is handed
 *   pings.c, messages.c, directory.c   the message mechanisms and queries
 *   regions.c, m49.c   the UN M49 regions of states (a table, its lookups),
 *                calling no other file here
 *   schema.c     the fixed types' body schemas
 *   util.c       helpers, calling no other file here
 *
 * Nothing outside src/framework/ includes this header.
 */
#ifndef COMITY_FRAMEWORK_CORE_H
#define COMITY_FRAMEWORK_CORE_H

#include "framework/framework.h"

#define HOUR_MS (3600 * (int64_t)1000)
/* Messages one handle holds (the index by name counts them in 32 bits);
 * the next is refused TOOBIG. */
#define CY_FW_MSGS_MAX 0xfffffff0u

typedef struct rcpt {
    char *party;             /* as named in the message's `to` */
    char *kind;              /* pings: contact kind pinged ("unknown" if none) */
    comity_msg_state state;  /* SENT..DECLINED; CLOSED lives on the message */
    int64_t delivered_ms, acked_ms, answered_ms; /* -1: not yet */
    /* delivered_local: delivered_ms is a local delivered event's (this
     * node's clock), which any time a record gives replaces; delivered_rec:
     * a delivered record for this slot was folded (the first counts) */
    bool delivered_local, delivered_rec;
} rcpt;

typedef struct msg {
    enum cy_fw_type type;    /* NOTIFICATION, REQUEST or PING */
    char *id, *author;
    int64_t created_ms;
    int severity;            /* 1-5, 0 unknown */
    signed char sector;      /* index in cy_fw_sectors; -1 unknown or none */
    bool sealed;             /* its body travelled sealed (the node cannot read it) */
    int64_t respond_by_ms;   /* -1: none given */
    bool answer_expected;
    bool announced;          /* pings */
    bool closed;
    int64_t closed_ms;
    char tlp[16];            /* its TLP, for cy_fw_may_see */
    rcpt *r;
    size_t nr;
    /* the ids of the records whose refs name it, in the order the handle
     * took them (cy_fw_thread_note; owned) */
    char **thread;
    size_t nthread, capthread;
} msg;

typedef struct poc {
    char *state, *kind, *party, *id, *author;
    int64_t created_ms, from_ms, until_ms; /* until -1: open-ended */
    bool withdrawn;
    json_t *body;            /* owned reference */
} poc;

/* The messages that concern one name (a party, or a bare state named in a
 * `to`): its recipient slots and the messages it wrote, in arrival order,
 * as indexes into the handle's msgs (messages.c).  A query for one party
 * reads its lists (and its state's), never the whole msgs array. */
typedef struct slot_ref {
    uint32_t m, k;           /* msgs[m].r[k] */
} slot_ref;

typedef struct party_msgs {
    slot_ref *to;
    size_t nto, capto;
    uint32_t *sent;          /* msgs[] it authored */
    size_t nsent, capsent;
} party_msgs;

struct comity_framework {
    msg *msgs;
    size_t nmsgs, capmsgs;
    json_t *by_party;        /* name -> index into pmsgs (messages.c) */
    party_msgs *pmsgs;
    size_t npmsgs, cappmsgs;
    poc *pocs;
    size_t npocs, cappocs;
    json_t *ids;             /* record id -> message index, or -1 */
    int64_t ack_ms[6], answer_ms[6]; /* by severity, [0] unknown */
    int64_t pong_ms;
    struct cy_cases *cases;  /* owned: the case mechanisms (case.h) */
    struct cy_custody *custody;     /* owned: custody records (custody.c) */
    struct cy_retention *retention; /* owned: retention, destructions
                                       (retention.c) */
    struct cy_norms *norms;  /* owned: catalogue, declarations (norms.c) */
    struct cy_spyware *spyware;     /* owned: the spyware registry
                                       (spyware.c) */
    /* The case mechanisms (registry.c), set by core.c before any init. */
    const struct cy_mech *const *case_mechs;
    size_t ncase_mechs;
};

/* ---- feeding a record with its body parsed once (core.c) -------------------- */

/* The body of a record the framework rules, parsed and checked against its
 * type's fixed schema: what comity_framework_check and _add do first with
 * a clear body, without the handle (so it may run outside any lock).
 * OUT *body: a new reference (json_decref), NULL for a type not ruled here
 * or a sealed body. */
comity_err cy_fw_body_parse(const comity_record *rec, json_t **body, comity_error *err);
/* comity_framework_check (dry) or _add of rec whose body cy_fw_body_parse
 * gave (borrowed; the mechanisms may keep references): the re-post test,
 * `created`, then the mechanism's rules, without parsing the body again. */
comity_err cy_fw_feed_parsed(comity_framework *fw, const comity_record *rec, json_t *body,
                             bool dry, comity_error *err);

/* ---- mechanisms, as the core sees them ------------------------------------ */

#define CY_FW_BIT(t) (1u << (unsigned)(t))

/* A mechanism: the record types it rules and its handlers.  Each mechanism
 * file exports one const descriptor; registry.c lists them and core.c
 * walks that list, knowing no mechanism's functions. */
typedef struct cy_fw_mech {
    const char *name;
    unsigned types; /* CY_FW_BIT of each enum cy_fw_type it rules */
    /* Sets up its part of a new handle (may allocate; COMITY_ERR_NOMEM);
     * may be NULL. */
    comity_err (*init)(comity_framework *fw, comity_error *err);
    /* Frees its part; tolerates a part never set up. */
    void (*clear)(comity_framework *fw);
    /* A record of one of its types (body parsed and checked against the
     * fixed schema, borrowed; NULL when sealed and not given): its rules,
     * then unless dry its effects.  A refusal changes nothing. */
    comity_err (*add)(comity_framework *fw, enum cy_fw_type t,
                      const comity_record *rec, json_t *body,
                      int64_t created, bool dry, comity_error *err);
} cy_fw_mech;

extern const cy_fw_mech cy_fw_mech_directory; /* directory.c */
extern const cy_fw_mech cy_fw_mech_messages;  /* messages.c */
extern const cy_fw_mech cy_fw_mech_cases;     /* case.c */
extern const cy_fw_mech cy_fw_mech_custody;   /* custody.c */
extern const cy_fw_mech cy_fw_mech_retention; /* retention.c */
extern const cy_fw_mech cy_fw_mech_norms;     /* norms.c */
extern const cy_fw_mech cy_fw_mech_spyware;   /* spyware.c */

/* registry.c: the mechanisms, and the case mechanisms. */
extern const cy_fw_mech *const cy_fw_mechs[];
extern const size_t cy_fw_nmechs;
struct cy_mech;
extern const struct cy_mech *const cy_case_mechs[];
extern const size_t cy_case_nmechs;

/* ---- util.c: helpers ------------------------------------------------------ */

/* The state a party belongs to: its first label, into buf. */
const char *cy_fw_state_of(const char *party, char buf[COMITY_PARTY_MAX + 1]);
/* COMITY_ERR_NOMEM with the framework's message. */
comity_err cy_fw_nomem(comity_error *err);
/* Makes room for element n of *arr (capacity *cap, elements of `elem`
 * bytes), doubling; COMITY_ERR_NOMEM (nothing changed) on failure. */
comity_err cy_fw_grow(void **arr, size_t *cap, size_t n, size_t elem);
/* A new JSON string of time ms in RFC 3339, or null when ms < 0. */
json_t *cy_fw_time_json(int64_t ms);
/* Takes j (a new reference, may be NULL after an OOM) and writes it as
 * compact JSON into OUT *json (comity_free). */
comity_err cy_fw_dump(json_t *j, char **json, comity_error *err);

/* ---- directory.c -------------------------------------------------------- */

/* The kind of the contact `party` is in the directory at `at`, or NULL. */
const char *cy_fw_kind_of_party(const comity_framework *fw, const char *party,
                                int64_t at);

/* ---- messages.c --------------------------------------------------------- */

/* The message (notification, request, ping) `id`, or NULL. */
const msg *cy_fw_msg_find(const comity_framework *fw, const char *id);
/* Whether nothing is left to record of `party`'s delivery of message
 * `id`: a delivered record for its slot was folded, or there is no such
 * message or slot (messages.c). */
bool cy_fw_delivery_recorded(const comity_framework *fw, const char *id, const char *party);

#endif
