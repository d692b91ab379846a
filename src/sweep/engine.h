/*
 * engine.h: the comity_sweep handle's insides, shared by engine.c (lists,
 * running), compile.c (STIX indicators into atoms and leaves), match.c
 * (evaluating them as input is read) and report.c (sightings and output).
 *
 * Vocabulary.  An indicator's pattern is a tree of observation expressions;
 * its leaves ("[ ... ]") say what one observed object, here one input
 * record (a line, or a file of a directory), must satisfy.  Each comparison
 * in a leaf that the set can look up becomes an atom: its values go into the
 * set with the atom's index as ref.  When an atom hits, its leaf is
 * evaluated on the record: at once when the leaf is a plain OR of atoms, or
 * at the record's end when the leaf ANDs comparisons.  Leaf matches feed
 * the indicator: a single-leaf pattern is reported at once; patterns that
 * join leaves (AND, OR, REPEATS) are decided at the end of the sweep.
 */
#ifndef COMITY_SWEEP_ENGINE_H
#define COMITY_SWEEP_ENGINE_H

#include <stdio.h>

#include "sweep/read.h"

#define CY_SW_EVID_MAX 16        /* hits kept as evidence per indicator */
#define CY_SW_STIX_MAX (256u << 20) /* bytes of one STIX bundle */
#define CY_SW_PENDING_MAX 1024   /* atom hits remembered for one record */

struct cy_sw_evid {
    uint32_t unit;               /* index into sw->units */
    uint64_t line, offset;
    char *tok;                   /* owned */
};

/* What was seen of one indicator (plain-list value or STIX indicator). */
struct cy_sw_sight {
    uint64_t key;                /* list: entry | 1<<40; STIX: indicator */
    uint64_t count;
    uint32_t nev;
    struct cy_sw_evid ev[CY_SW_EVID_MAX];
};

struct cy_sw_ind {
    char *id, *name, *pattern;   /* owned */
    uint32_t src;
    char *skip;                  /* owned; NULL when evaluable */
    const void *pat;             /* const cy_pattern *, owned by a bundle */
    bool stream;                 /* one leaf, no qualifiers: report at once */
    uint32_t first_leaf, nleaves;
};

struct cy_sw_leaf {
    uint32_t ind;
    const void *obs;             /* const cy_pat_obs * */
    bool simple;                 /* an OR of atoms: true as soon as one hits */
    uint64_t count;              /* records that satisfied the leaf */
    struct cy_sw_evid first;     /* the first such record's hit */
    bool has_first;
};

struct cy_sw_atom {
    uint32_t leaf;
    const void *cmp;             /* const cy_pat_cmp * */
};

struct comity_sweep {
    cy_sw_set *set;
    char **sources;
    size_t nsrc;
    struct cy_sw_ind *inds;
    size_t ninds, inds_cap;
    struct cy_sw_leaf *leaves;
    size_t nleaves, leaves_cap;
    struct cy_sw_atom *atoms;
    size_t natoms, atoms_cap;
    size_t list_values, list_dups;
    size_t notes_normalised;
    size_t stix_dup_ids;
    size_t stix_dangling;
    void **bundles;              /* cy_bundle *, owned */
    size_t nbundles;
    cy_sw_fieldmap map;
    bool compiled;

    /* one run */
    const comity_sweep_opts *opts;
    FILE *out;
    uint64_t hits;
    char **units;
    size_t nunits;
    struct cy_sw_sight *sights;
    size_t nsights, sights_cap;
    uint32_t *sight_idx;         /* open addressing key -> sights index + 1 */
    size_t sight_mask;
    uint32_t pending[CY_SW_PENDING_MAX];
    struct cy_sw_evid pending_ev[CY_SW_PENDING_MAX];
    size_t npending;
    uint64_t pending_overflow;
    uint64_t progress_bytes;
    int64_t progress_last;
    cy_sw_read_stats st;
    comity_err run_err;
};

/* compile.c: adds the indicators of a loaded bundle (a cy_bundle *, kept by
 * the sweep) with source index `src`, compiling each pattern into atoms and
 * leaves. */
comity_err cy_sw_compile_bundle(comity_sweep *sw, const void *bundle, uint32_t src,
                                comity_error *err);

/* match.c */
/* An atom hit in the current record; `ev` is borrowed. */
void cy_sw_atom_hit(comity_sweep *sw, uint32_t atom, const struct cy_sw_evid *ev);
/* The current record is over: evaluate the leaves it touched. */
void cy_sw_record_end(comity_sweep *sw);
/* End of the sweep: decide multi-leaf patterns. */
void cy_sw_finish(comity_sweep *sw);

/* report.c */
/* Reports a hit of plain-list value `entry` (of list `src`, object path
 * `path`) with evidence `ev` (borrowed). */
void cy_sw_report_list(comity_sweep *sw, uint32_t entry, uint32_t src, int path,
                       const struct cy_sw_evid *ev);
/* Reports a match of STIX indicator `ind` with evidence `ev` (borrowed). */
void cy_sw_report_ind(comity_sweep *sw, uint32_t ind, const struct cy_sw_evid *ev);
/* The STIX 2.1 bundle of Sightings of the run, to sw->out. */
comity_err cy_sw_write_bundle(comity_sweep *sw, comity_error *err);
/* The closing summary, to opts->notes (when set). */
void cy_sw_summary(comity_sweep *sw);

#endif
