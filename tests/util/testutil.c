/* testutil.c: see testutil.h. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/testutil.h"

comity_error tu_last_err;

static const char *join(const char *env, const char *fallback, const char *rel)
{
    static char buf[4][PATH_MAX];
    static int i;
    const char *root = getenv(env);
    if (!root)
        root = fallback;
    char *b = buf[i++ & 3];
    snprintf(b, PATH_MAX, "%s/%s", root, rel);
    return b;
}

const char *tu_shared(const char *rel) { return join("COMITY_SHARED", "../shared", rel); }
const char *tu_src(const char *rel) { return join("COMITY_SRC", ".", rel); }

char *tu_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    if (fread(b, 1, (size_t)n, f) != (size_t)n)
        fail_msg("short read on %s", path);
    b[n] = 0;
    fclose(f);
    if (len)
        *len = (size_t)n;
    return b;
}

char *tu_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[PATH_MAX];
    snprintf(tmpl, sizeof tmpl, "%s/comity-test-XXXXXX", base ? base : "/tmp");
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return strdup(d);
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(p);
}

void tu_rmrf(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void tu_check_msg(const char *what, const char *needle)
{
    if (needle && !strstr(tu_last_err.msg, needle))
        fail_msg("%s: message '%s' lacks '%s'", what, tu_last_err.msg, needle);
}
