/*
 * core.h: the framework handle's state, shared by its files.
 *
 * core.c owns the handle (new, free, deadline tables), the entry point that
 * feeds a record (parse and check its body, then hand it to the file of its
 * mechanism) and the helpers every mechanism uses; directory.c, messages.c
 * and pings.c each hold one mechanism's rules and queries on the state
 * declared here.  Nothing outside src/framework/ includes this header.
 */
#ifndef COMITY_FRAMEWORK_CORE_H
#define COMITY_FRAMEWORK_CORE_H

#include "framework/framework.h"

#define HOUR_MS (3600 * (int64_t)1000)

typedef struct rcpt {
    char *party;             /* as named in the message's `to` */
    char *kind;              /* pings: contact kind pinged ("unknown" if none) */
    comity_msg_state state;  /* SENT..DECLINED; CLOSED lives on the message */
    int64_t delivered_ms, acked_ms, answered_ms; /* -1: not yet */
} rcpt;

typedef struct msg {
    enum cy_fw_type type;    /* NOTIFICATION, REQUEST or PING */
    char *id, *author;
    int64_t created_ms;
    int severity;            /* 1-5, 0 unknown */
    int64_t respond_by_ms;   /* -1: none given */
    bool answer_expected;
    bool announced;          /* pings */
    bool closed;
    int64_t closed_ms;
    char tlp[16];            /* its TLP, for cy_fw_may_see */
    rcpt *r;
    size_t nr;
} msg;

typedef struct poc {
    char *state, *kind, *party, *id, *author;
    int64_t created_ms, from_ms, until_ms; /* until -1: open-ended */
    bool withdrawn;
    json_t *body;            /* owned reference */
} poc;

struct comity_framework {
    msg *msgs;
    size_t nmsgs, capmsgs;
    poc *pocs;
    size_t npocs, cappocs;
    json_t *ids;             /* record id -> message index, or -1 */
    int64_t ack_ms[6], answer_ms[6]; /* by severity, [0] unknown */
    int64_t pong_ms;
    struct cy_cases *cases;  /* owned: the case mechanisms (case.h) */
};

/* ---- core.c: helpers ---------------------------------------------------- */

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

void cy_fw_poc_clear(poc *p);
/* The kind of the contact `party` is in the directory at `at`, or NULL. */
const char *cy_fw_kind_of_party(const comity_framework *fw, const char *party,
                                int64_t at);
/* A poc record: its rules, then (unless dry) its entry. */
comity_err cy_fw_add_poc(comity_framework *fw, const comity_record *rec,
                         json_t *body, int64_t created, bool dry,
                         comity_error *err);

/* ---- messages.c --------------------------------------------------------- */

void cy_fw_msg_clear(msg *m);
/* The message (notification, request, ping) `id`, or NULL. */
const msg *cy_fw_msg_find(const comity_framework *fw, const char *id);
/* notification, request, ping: a new message with one slot per recipient. */
comity_err cy_fw_add_message(comity_framework *fw, enum cy_fw_type t,
                             const comity_record *rec, json_t *body,
                             int64_t created, bool dry, comity_error *err);
/* ack, reply, close, pong: the rules of the status machine. */
comity_err cy_fw_add_answer(comity_framework *fw, enum cy_fw_type t,
                            const comity_record *rec, json_t *body,
                            int64_t created, bool dry, comity_error *err);

#endif
