/*
 * norms.h: prohibitions and norms (issue 19) as the framework's files see
 * them: the norm catalogue (norm_catalogue.c), a state's declarations of
 * protected infrastructure (norm_declare.c); norms.c is the mechanism
 * descriptor (struct cy_fw_mech) that routes their records, and holds the
 * supply-chain alert that follows a disclosure.
 * Complaints (norm_complaint.c) and vulnerability disclosures
 * (norm_disclosure.c) are case mechanisms on the case core (case.h).
 *
 * Floors: norm_catalogue.c and norm_declare.c stand on the case core;
 * norm_complaint.c and norm_disclosure.c on norm_catalogue.c (a norm named
 * must be catalogued); norms.c on all of them; registry.c above.  docs/norms.md has the
 * tables.
 */
#ifndef COMITY_FRAMEWORK_NORMS_H
#define COMITY_FRAMEWORK_NORMS_H

#include "framework/case.h"

/* The party label of the secretariat that authors the catalogue: an
 * office of this state ("un.unoda") signs norm-entry records. */
#define CY_NORM_SECRETARIAT "un"
#define CY_NORM_ID_MAX 64        /* bytes of a norm id ("13f", "tr.art-3") */
#define CY_NORM_ENTRIES_MAX 100000 /* catalogue records one handle holds */
#define CY_NORM_DECLS_MAX 1000000  /* declaration records one handle holds */
#define CY_NORM_EMBARGO_DAYS 90  /* a disclosure's embargo by default */
#define CY_NORM_SECTIONS_MAX 1000000 /* report sections one handle holds */
#define CY_NORM_MATCH_SHOWN 8 /* offering states listed per need (the rest counted) */

/* One version of a catalogue entry. */
typedef struct cy_norm_entry {
    char *norm;      /* "13f" */
    char *id;        /* the record */
    char *author;
    int64_t created;
    int version;     /* 1, 2, ... per norm */
    bool current;    /* no later version */
    json_t *body;    /* owned */
} cy_norm_entry;

/* A declaration record: a version of a series, or a re-seal of one. */
typedef struct cy_norm_decl {
    char *id, *author, *state;
    char *series;    /* the id of the series' first version */
    char *of;        /* a re-seal: the version it re-seals; else NULL */
    int64_t created;
    int version;     /* 1, 2, ... in its series; 0 for a re-seal */
    bool current;    /* no later version of its series */
    bool sealed;
    json_t *to;      /* owned array of the `to` names */
    json_t *body;    /* owned; NULL when sealed and not given */
} cy_norm_decl;

/* A supply-chain alert about a disclosure case. */
typedef struct cy_norm_alert {
    char *id, *author, *case_id;
    int64_t created;
    bool sealed;
    json_t *to, *body; /* owned; body NULL when sealed and not given */
} cy_norm_alert;

/* One section of a state's implementation report: a norm, a period. */
typedef struct cy_norm_section {
    char *id, *author, *state, *period, *norm;
    int64_t created;
    int version;     /* 1, 2, ... per (state, period, norm) */
    bool current;
    json_t *body;    /* owned; NULL when sealed and not given */
} cy_norm_section;

/* A record of a national position: a draft, a comment, a delegation or a
 * published version (norm_position.c). */
typedef struct cy_norm_pos {
    char *id, *type, *author, *state;
    char *topic;     /* drafts (when readable) and published versions */
    int64_t created;
    int version;     /* published versions: 1, 2, ... per (state, topic); else 0 */
    bool current;
    json_t *body;    /* owned; NULL when sealed and not given */
} cy_norm_pos;

struct cy_norms {
    cy_norm_entry *e;
    size_t ne, cape;
    cy_norm_decl *d;
    size_t nd, capd;
    cy_norm_alert *a;
    size_t na, capa;
    cy_norm_section *s;
    size_t ns, caps;
    json_t *ridx;    /* the sections' index (norm_report.c); NULL: to rebuild */
    cy_norm_pos *p;
    size_t np, capp;
};

/* The norm type named `type` (catalogue, declarations, re-seals, alerts:
 * the types norms.c routes), with its body schema, or NULL. */
const cy_case_type *cy_norm_type(const char *type);

/* ---- norm_catalogue.c ------------------------------------------------------ */

extern const cy_case_type cy_norm_entry_type;
/* Whether `norm` may be named now: one of the eleven (13a-13k, always), or
 * an entry of the catalogue whose current version is not withdrawn. */
bool cy_norm_known(const comity_framework *fw, const char *norm);
/* A norm-entry record: rules, then unless dry its effects. */
comity_err cy_norm_entry_add(comity_framework *fw, const comity_record *rec,
                             const json_t *body, int64_t created, bool dry,
                             comity_error *err);
void cy_norm_catalogue_clear(struct cy_norms *n);

/* ---- norm_declare.c --------------------------------------------------------- */

extern const cy_case_type cy_norm_decl_type, cy_norm_reseal_type,
    cy_norm_alert_type;
comity_err cy_norm_decl_add(comity_framework *fw, const comity_record *rec,
                            const json_t *body, int64_t created, bool dry,
                            comity_error *err);
void cy_norm_declare_clear(struct cy_norms *n);

/* ---- norm_report.c ------------------------------------------------------------ */

extern const cy_case_type cy_norm_report_type;
comity_err cy_norm_report_add(comity_framework *fw, const comity_record *rec,
                              const json_t *body, int64_t created, bool dry,
                              comity_error *err);
void cy_norm_report_clear(struct cy_norms *n);

/* ---- norm_position.c ------------------------------------------------------------ */

extern const cy_case_type cy_norm_position_types[4];
comity_err cy_norm_position_add(comity_framework *fw, const comity_record *rec,
                                const json_t *body, int64_t created, bool dry,
                                comity_error *err);
void cy_norm_position_clear(struct cy_norms *n);

/* ---- norm_disclosure.c ------------------------------------------------------- */

/* Whether an alert about disclosure case c may be sent at `at`: published,
 * exploited in the wild, or its embargo run out; else why not into why. */
bool cy_norm_alert_due(const comity_framework *fw, const cy_case *c, int64_t at,
                       char *why, size_t cap);
/* Records that alert `id` was sent about disclosure case c (a fact). */
comity_err cy_norm_alert_note(cy_case *c, const char *id, comity_error *err);

/* ---- shared checks (norm_catalogue.c) ------------------------------------------ */

/* "CVE-YYYY-NNNN...": 4 digits of year (1999 on), 4 to 19 digits. */
bool cy_norm_cve_ok(const char *s);
/* Checks that every text of `field` in body is a CVE id (t names the type). */
comity_err cy_norm_check_cves(const char *t, const json_t *body, const char *field,
                              comity_error *err);
/* Checks that every text of `field` is a sector of the notification
 * vocabulary (cy_fw_sectors). */
comity_err cy_norm_check_sectors(const char *t, const json_t *body, const char *field,
                                 comity_error *err);

#endif
