/*
 * age_out.h: the output file of `comity seal` and `comity open` (private to
 * cli/).
 *
 * Sealing and opening stream, so a failure can come after bytes were
 * written.  To a named file that is harmless: the output goes to a
 * temporary file in the same directory (so that rename(2) is atomic) and
 * replaces the target only once everything succeeded; on failure the
 * temporary file is removed and the target is untouched.  To stdout it
 * cannot be undone, which both commands' help says.
 */
#ifndef COMITY_CLI_AGE_OUT_H
#define COMITY_CLI_AGE_OUT_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

struct age_out {
    FILE *f;              /* stdout, or the temporary file */
    const char *path;     /* target (borrowed), NULL for stdout */
    char tmp[PATH_MAX];   /* temporary file beside the target */
};

/* Opens the output: stdout when path is NULL or "-", else a fresh
 * temporary file beside `path` created with `mode`.  Returns a CLI status
 * (0 or 3) after printing what failed. */
int age_out_open(struct age_out *o, const char *path, unsigned mode);

/* Flushes, syncs and renames the temporary file over the target.  Returns
 * a CLI status; on failure the temporary file is removed. */
int age_out_commit(struct age_out *o);

/* Closes and removes the temporary file (no-op for stdout). */
void age_out_abort(struct age_out *o);

/* 1 when the output is a terminal (binary output there is refused). */
bool age_out_is_tty(const struct age_out *o);

#endif
