/*
 * read.h: the sweep's input readers (private; see read.c).
 */
#ifndef COMITY_SWEEP_READ_H
#define COMITY_SWEEP_READ_H

#include "sweep/sweep.h"

/* Where readers deliver.  Every callback is called from one thread at a
 * time, in input order: hits of one record, then `record` for it. */
typedef struct cy_sw_sink {
    int (*hit)(void *ud, const char *unit, const cy_sw_hit *h); /* !0: stop */
    void (*record)(void *ud, const char *unit, uint64_t line);  /* may be NULL */
    void (*progress)(void *ud, uint64_t bytes);                 /* may be NULL */
    void (*note)(void *ud, const char *unit, const char *msg);  /* may be NULL */
    void *ud;
} cy_sw_sink;

/* Field map for JSON lines and CSV: key[i] (dotted JSON key or CSV column
 * name) holds values of path[i]. */
typedef struct cy_sw_fieldmap {
    size_t n;
    char *key[CY_SW_FIELDS_MAX];
    int path[CY_SW_FIELDS_MAX];
} cy_sw_fieldmap;

/* What the readers saw; added to, never reset. */
typedef struct cy_sw_read_stats {
    uint64_t bytes;          /* input bytes scanned (after gunzip) */
    uint64_t lines;
    uint64_t files;
    uint64_t files_hashed;
    uint64_t cut_lines;      /* lines longer than CY_SW_LINE_MAX, cut */
    uint64_t dropped_hits;   /* hits beyond the per-block cap, not listed */
    uint64_t unparsed_lines; /* JSON lines that were not objects: tokenized */
    uint64_t unreadable;     /* files or directories that could not be read */
    uint64_t skipped_paths;  /* symlinks, devices, too deep */
    uint64_t shrunk;         /* mapped blocks re-read because the file shrank */
} cy_sw_read_stats;

/* Scans a file, directory (recursively, every file also as a record of its
 * name, path and hashes) or "-" (stdin).  Plain files use `threads` workers.
 * Files that cannot be read inside a directory are reported through
 * sink->note and counted; the top path failing is an error. */
comity_err cy_sw_read_path(const cy_sw_set *set, const char *path, int threads,
                           const cy_sw_fieldmap *map, const cy_sw_sink *sink,
                           cy_sw_read_stats *st, comity_error *err);

/* Reads lines from memory as text (kind 0), JSON lines (1) or CSV (2, the
 * first line is the header) with `map`; for tests and fuzzing. */
comity_err cy_sw_read_buffer(const cy_sw_set *set, const cy_sw_fieldmap *map, int kind,
                             const char *buf, size_t len, const cy_sw_sink *sink,
                             cy_sw_read_stats *st);

/* qsort comparator for an array of C strings. */
int cy_sw_strcmp_p(const void *a, const void *b);

#endif
