/*
 * fuzz_tmpdir.h: the scratch directory of a harness that opens a node, a
 * store or a witness on disk (fuzz_node_http, fuzz_tlog_witness,
 * fuzz_tls_pin).  fuzz_tmpdir makes it once, under $TMPDIR (else /tmp),
 * and removes it with everything in it when the process exits: libFuzzer
 * ends a run (-runs, -max_total_time) with exit(), a replay
 * (tests/fuzz_replay.c) returns from main, and both run the atexit
 * handlers.  A crash (abort, a sanitizer's report) leaves the directory
 * as the failing input left it, to be looked at.  A file that includes
 * this defines _XOPEN_SOURCE 700 before any include (nftw).
 */
#ifndef COMITY_FUZZ_TMPDIR_H
#define COMITY_FUZZ_TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char fuzz_tmp[4096];
static void (*fuzz_tmp_before)(void);

static int fuzz_tmp_rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    (void)remove(p);
    return 0;
}

static void fuzz_tmp_rm(void)
{
    if (fuzz_tmp_before)
        fuzz_tmp_before();
    if (fuzz_tmp[0])
        (void)nftw(fuzz_tmp, fuzz_tmp_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    fuzz_tmp[0] = 0;
}

/* The directory (static storage), made at the first call as
 * $TMPDIR/comity-fuzz-NAME-XXXXXX; later calls give it again.  `before`
 * (may be NULL) runs at exit before the removal: it closes what the
 * harness holds open in the directory (a node and its threads).  Aborts
 * when the directory cannot be made. */
static const char *fuzz_tmpdir(const char *name, void (*before)(void))
{
    if (fuzz_tmp[0])
        return fuzz_tmp;
    const char *t = getenv("TMPDIR");
    char tmpl[sizeof fuzz_tmp];
    snprintf(tmpl, sizeof tmpl, "%s/comity-fuzz-%s-XXXXXX", t && *t ? t : "/tmp", name);
    if (!mkdtemp(tmpl))
        abort();
    snprintf(fuzz_tmp, sizeof fuzz_tmp, "%s", tmpl);
    fuzz_tmp_before = before;
    if (atexit(fuzz_tmp_rm))
        abort();
    return fuzz_tmp;
}

#endif
