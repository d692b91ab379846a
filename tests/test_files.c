/*
 * test_files.c: the store of sealed evidence files (src/files/): a file is
 * kept only whole and under the SHA-256 of its bytes (a short body, a long
 * one, a wrong hash leave nothing); the cap is refused before anything is
 * written; a second upload of a stored file is harmless; refs are kept
 * once each; destroy and list; temporaries left by a crash are swept at
 * open, but a resumable writer's partial is not, and its bytes are
 * hashed again when it resumes.  The writer's memory does not depend on the size (it keeps a hash
 * state and a descriptor), which tests/cli/case_files.sh measures.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files/files.h"
#include "util/testutil.h"

#define HELLO "hello, sealed world\n"
static char hello_hash[65];

static void hash_of(const char *s, size_t n, char out[65])
{
    comity_sha256 *h;
    TU_OK(comity_sha256_new(&h, E));
    comity_sha256_update(h, s, n);
    comity_sha256_final(h, out);
}

static int count_dir(const char *dir)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "find '%s' -type f | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p && fscanf(p, "%d", &n) != 1)
        n = -1;
    if (p)
        pclose(p);
    return n;
}

static comity_err put(cy_files *fs, const char *hash, uint64_t size, const char *data,
                      size_t n, bool *created)
{
    cy_files_put *w;
    comity_err rc = cy_files_put_begin(fs, hash, size, &w, E);
    if (rc)
        return rc;
    /* in two writes, as chunks arrive */
    if ((rc = cy_files_put_write(w, data, n / 2, E)) ||
        (rc = cy_files_put_write(w, data + n / 2, n - n / 2, E))) {
        cy_files_put_abort(w);
        return rc;
    }
    return cy_files_put_commit(w, created, E);
}

static int add_one(void *ctx, const char *hash, uint64_t size)
{
    (void)hash;
    *(uint64_t *)ctx += size;
    return 0;
}

static int count_ref(void *ctx, const char *ref)
{
    (void)ref;
    (*(int *)ctx)++;
    return 0;
}

static void test_store(void **state)
{
    (void)state;
    hash_of(HELLO, strlen(HELLO), hello_hash);
    /* as sha256sum says */
    assert_string_equal(hello_hash,
                        "bcae05c4aa094a44ac005f3c64308ad4f21682a6ed22bc8124733e7078539052");
    char *dir = tu_tmpdir(), sub[1024], tmp[1024];
    snprintf(sub, sizeof sub, "%s/files", dir);
    snprintf(tmp, sizeof tmp, "%s/files/tmp", dir);
    cy_files *fs;
    TU_OK(cy_files_open(sub, 64, &fs, E));
    assert_int_equal(cy_files_max_size(fs), 64);
    size_t n = strlen(HELLO);
    bool created = true;

    /* refused before anything is written */
    cy_files_put *w = NULL;
    TU_FAILS(cy_files_put_begin(fs, "abc", n, &w, E), COMITY_ERR_INVALID, "64 lowercase hex");
    char upper[65];
    for (int i = 0; i < 65; i++)
        upper[i] = (char)(hello_hash[i] >= 'a' ? hello_hash[i] - 32 : hello_hash[i]);
    TU_FAILS(cy_files_put_begin(fs, upper, n, &w, E), COMITY_ERR_INVALID, "hex");
    TU_FAILS(cy_files_put_begin(fs, hello_hash, 65, &w, E), COMITY_ERR_TOOBIG,
             "65 bytes is over this node's cap on a file (64 bytes)");
    assert_null(w);
    assert_int_equal(count_dir(sub), 0);

    /* a wrong hash, a short body, a long body: nothing kept */
    char other[65];
    hash_of("x", 1, other);
    TU_FAILS(put(fs, other, n, HELLO, n, &created), COMITY_ERR_INVALID, "nothing kept");
    assert_false(created);
    TU_FAILS(put(fs, hello_hash, n + 1, HELLO, n, &created), COMITY_ERR_INVALID,
             "bytes received, 21 declared");
    TU_FAILS(put(fs, hello_hash, n - 1, HELLO, n, &created), COMITY_ERR_TOOBIG,
             "more than the 19 bytes declared");
    assert_int_equal(count_dir(sub), 0);
    uint64_t size = 0;
    TU_FAILS(cy_files_stat(fs, hello_hash, &size, E), COMITY_ERR_NOTFOUND, "no file");

    /* stored whole, read back, stored again harmlessly */
    TU_OK(put(fs, hello_hash, n, HELLO, n, &created));
    assert_true(created);
    TU_OK(cy_files_stat(fs, hello_hash, &size, E));
    assert_int_equal(size, n);
    TU_OK(put(fs, hello_hash, n, HELLO, n, &created));
    assert_false(created);
    int fd;
    TU_OK(cy_files_open_read(fs, hello_hash, &fd, &size, E));
    char buf[64] = {0};
    assert_int_equal(read(fd, buf, sizeof buf), (ssize_t)n);
    assert_string_equal(buf, HELLO);
    close(fd);
    char path[1200];
    snprintf(path, sizeof path, "%s/%.2s/%s", sub, hello_hash, hello_hash);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0444);
    assert_int_equal(count_dir(tmp), 0);

    /* refs: once each; only for a stored file */
    TU_FAILS(cy_files_ref_add(fs, other, "mla-partial--x", E), COMITY_ERR_NOTFOUND, "no file");
    TU_FAILS(cy_files_ref_add(fs, hello_hash, "two words", E), COMITY_ERR_INVALID, "printable");
    TU_OK(cy_files_ref_add(fs, hello_hash, "mla-partial--a", E));
    TU_OK(cy_files_ref_add(fs, hello_hash, "mla-partial--b", E));
    TU_OK(cy_files_ref_add(fs, hello_hash, "mla-partial--a", E));
    int nrefs = 0;
    TU_OK(cy_files_refs(fs, hello_hash, count_ref, &nrefs, E));
    assert_int_equal(nrefs, 2);
    nrefs = 0;
    TU_OK(cy_files_refs(fs, other, count_ref, &nrefs, E));
    assert_int_equal(nrefs, 0);

    /* a size not declared, a hash declared at the end (one pass) */
    TU_OK(cy_files_put_begin(fs, NULL, CY_FILES_SIZE_UNKNOWN, &w, E));
    TU_OK(cy_files_put_write(w, HELLO, n, E));
    TU_FAILS(cy_files_put_expect(w, "xyz", E), COMITY_ERR_INVALID, "64 lowercase hex");
    TU_OK(cy_files_put_expect(w, hello_hash, E));
    TU_FAILS(cy_files_put_expect(w, hello_hash, E), COMITY_ERR_INVALID, "declared already");
    TU_OK(cy_files_put_commit(w, &created, E));
    assert_false(created); /* stored before */
    TU_OK(cy_files_put_begin(fs, NULL, CY_FILES_SIZE_UNKNOWN, &w, E));
    TU_OK(cy_files_put_write(w, HELLO, n, E));
    TU_FAILS(cy_files_put_commit(w, &created, E), COMITY_ERR_INVALID, "no hash was declared");
    TU_OK(cy_files_put_begin(fs, NULL, CY_FILES_SIZE_UNKNOWN, &w, E));
    TU_OK(cy_files_put_write(w, HELLO, n, E));
    TU_OK(cy_files_put_write(w, HELLO, n, E));
    TU_OK(cy_files_put_write(w, HELLO, n, E));
    TU_FAILS(cy_files_put_write(w, HELLO, n, E), COMITY_ERR_TOOBIG,
             "over this node's cap on a file (64 bytes)");
    cy_files_put_abort(w);
    assert_int_equal(count_dir(tmp), 0);

    /* list, destroy */
    uint64_t total = 0;
    TU_OK(put(fs, other, 1, "x", 1, &created));
    TU_OK(cy_files_list(fs, add_one, &total, E));
    assert_int_equal(total, n + 1);
    TU_OK(cy_files_destroy(fs, hello_hash, E));
    TU_FAILS(cy_files_destroy(fs, hello_hash, E), COMITY_ERR_NOTFOUND, "no file");
    TU_FAILS(cy_files_stat(fs, hello_hash, &size, E), COMITY_ERR_NOTFOUND, "no file");
    nrefs = 0;
    TU_OK(cy_files_refs(fs, hello_hash, count_ref, &nrefs, E));
    assert_int_equal(nrefs, 0); /* the refs went with it */
    total = 0;
    TU_OK(cy_files_list(fs, add_one, &total, E));
    assert_int_equal(total, 1);

    /* a crash mid-upload leaves a temporary, which the next open sweeps */
    TU_OK(cy_files_put_begin(fs, hello_hash, n, &w, E));
    TU_OK(cy_files_put_write(w, HELLO, 5, E));
    assert_int_equal(count_dir(tmp), 1);
    cy_files *fs2;
    TU_OK(cy_files_open(sub, 0, &fs2, E)); /* as a restarted node would */
    assert_int_equal(cy_files_max_size(fs2), COMITY_FILE_MAX_DEFAULT);
    assert_int_equal(count_dir(tmp), 0);
    TU_FAILS(cy_files_stat(fs2, hello_hash, &size, E), COMITY_ERR_NOTFOUND, "no file");
    cy_files_put_abort(w);
    cy_files_close(fs2);
    cy_files_close(fs);
    cy_files_close(NULL);
    tu_rmrf(dir);
    free(dir);
}

struct jwalk {
    char lines[8][300];
    uint64_t after[8];
    size_t n;
    size_t stop_at; /* stop after this many (0: never) */
};

static int jline(void *ctx, const char *hash, uint64_t size, const char *ref, uint64_t after)
{
    struct jwalk *j = ctx;
    snprintf(j->lines[j->n], sizeof j->lines[0], "%.8s %llu %s", hash,
             (unsigned long long)size, ref);
    j->after[j->n++] = after;
    return j->stop_at && j->n == j->stop_at;
}

/* The attach journal: every ref added, once, in order, followed by byte
 * offset; a cursor inside a line skips that line; a crash's stale line
 * (its ref not in the refs file) is the reader's to skip. */
static void test_journal(void **state)
{
    (void)state;
    char *dir = tu_tmpdir(), sub[1024], jpath[1100];
    snprintf(sub, sizeof sub, "%s/files", dir);
    snprintf(jpath, sizeof jpath, "%s/attached.log", sub);
    cy_files *fs;
    TU_OK(cy_files_open(sub, 0, &fs, E));
    uint64_t next = 99, end = 99;
    struct jwalk j = {0};
    TU_OK(cy_files_journal(fs, 0, 10, jline, &j, &next, &end, E));
    assert_int_equal(j.n, 0); /* no journal yet */
    assert_int_equal(next, 0);
    assert_int_equal(end, 0);
    char h2[65];
    hash_of("two", 3, h2);
    hash_of(HELLO, strlen(HELLO), hello_hash);
    bool created;
    TU_OK(put(fs, hello_hash, strlen(HELLO), HELLO, strlen(HELLO), &created));
    TU_OK(put(fs, h2, 3, "two", 3, &created));
    TU_OK(cy_files_ref_add(fs, hello_hash, "mla-partial--1", E));
    TU_OK(cy_files_ref_add(fs, h2, "uploaded-by:pk.fia", E));
    TU_OK(cy_files_ref_add(fs, hello_hash, "mla-partial--1", E)); /* there: no line */
    TU_OK(cy_files_ref_add(fs, h2, "mla-answer--2", E));
    TU_OK(cy_files_journal(fs, 0, 10, jline, &j, &next, &end, E));
    assert_int_equal(j.n, 3);
    assert_string_equal(j.lines[0], "bcae05c4 20 mla-partial--1");
    assert_string_equal(j.lines[1], "3fc4ccfe 3 uploaded-by:pk.fia");
    assert_string_equal(j.lines[2], "3fc4ccfe 3 mla-answer--2");
    assert_int_equal(next, end);
    struct stat st;
    assert_int_equal(stat(jpath, &st), 0);
    assert_int_equal((uint64_t)st.st_size, end);
    /* from the cursor after the first line, at most one line */
    struct jwalk k = {0};
    TU_OK(cy_files_journal(fs, j.after[0], 1, jline, &k, &next, &end, E));
    assert_int_equal(k.n, 1);
    assert_string_equal(k.lines[0], j.lines[1]);
    assert_int_equal(next, j.after[1]);
    /* fn stops: next is past the line it stopped at */
    struct jwalk s = {.stop_at = 2};
    TU_OK(cy_files_journal(fs, 0, 10, jline, &s, &next, &end, E));
    assert_int_equal(s.n, 2);
    assert_int_equal(next, j.after[1]);
    /* a cursor inside a line: that line is skipped, the next ones read */
    struct jwalk m = {0};
    TU_OK(cy_files_journal(fs, 5, 10, jline, &m, &next, &end, E));
    assert_int_equal(m.n, 2);
    assert_string_equal(m.lines[0], j.lines[1]);
    /* at or past the end: nothing */
    struct jwalk z = {0};
    TU_OK(cy_files_journal(fs, end + 100, 10, jline, &z, &next, &end, E));
    assert_int_equal(z.n, 0);
    assert_int_equal(next, end + 100);
    /* a garbage line (not written by the store) is skipped */
    FILE *f = fopen(jpath, "a");
    assert_non_null(f);
    fputs("not a line at all\nzz 1 x\n", f);
    fclose(f);
    TU_OK(cy_files_ref_add(fs, hello_hash, "mla-info--3", E));
    struct jwalk g = {0};
    TU_OK(cy_files_journal(fs, j.after[2], 10, jline, &g, &next, &end, E));
    assert_int_equal(g.n, 1);
    assert_string_equal(g.lines[0], "bcae05c4 20 mla-info--3");
    cy_files_close(fs);
    tu_rmrf(dir);
    free(dir);
}

static uint64_t file_len(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : UINT64_MAX;
}

/* A resumable writer: its partial survives put_keep and a reopen of the
 * store (no sweep), the bytes it holds are hashed again on resume, a
 * partial whose bytes are wrong is refused whole and removed, and one
 * longer than the file is started again. */
static void test_resume(void **state)
{
    (void)state;
    hash_of(HELLO, strlen(HELLO), hello_hash);
    char *dir = tu_tmpdir(), sub[1024], part[1024];
    snprintf(sub, sizeof sub, "%s/files", dir);
    snprintf(part, sizeof part, "%s/%s.part", dir, hello_hash);
    size_t n = strlen(HELLO);
    cy_files *fs;
    TU_OK(cy_files_open(sub, 64, &fs, E));
    cy_files_put *w = NULL;
    TU_FAILS(cy_files_put_resume(fs, hello_hash, 65, part, &w, E), COMITY_ERR_TOOBIG, "cap");
    TU_FAILS(cy_files_put_resume(fs, "abc", n, part, &w, E), COMITY_ERR_INVALID, "hex");
    /* half written, kept, the store reopened (it sweeps its tmp/ only) */
    TU_OK(cy_files_put_resume(fs, hello_hash, n, part, &w, E));
    assert_int_equal(cy_files_put_written(w), 0);
    TU_OK(cy_files_put_write(w, HELLO, 7, E));
    TU_OK(cy_files_put_keep(w, E));
    cy_files_close(fs);
    TU_OK(cy_files_open(sub, 64, &fs, E));
    assert_int_equal(file_len(part), 7);
    /* resumed: 7 bytes held and hashed again, the rest appended */
    TU_OK(cy_files_put_resume(fs, hello_hash, n, part, &w, E));
    assert_int_equal(cy_files_put_written(w), 7);
    TU_FAILS(cy_files_put_write(w, HELLO + 7, n - 7 + 1, E), COMITY_ERR_TOOBIG, "declared");
    cy_files_put_abort(w);
    assert_int_equal(file_len(part), UINT64_MAX); /* abort removes the partial */
    /* a partial whose held bytes are wrong: refused at commit, removed */
    FILE *f = fopen(part, "w");
    assert_non_null(f);
    fputs("HELLO, ", f); /* not the file's first 7 bytes */
    fclose(f);
    TU_OK(cy_files_put_resume(fs, hello_hash, n, part, &w, E));
    assert_int_equal(cy_files_put_written(w), 7);
    TU_OK(cy_files_put_write(w, HELLO + 7, n - 7, E));
    TU_FAILS(cy_files_put_commit(w, NULL, E), COMITY_ERR_INVALID, "hash to");
    assert_int_equal(file_len(part), UINT64_MAX);
    uint64_t size = 0;
    TU_FAILS(cy_files_stat(fs, hello_hash, &size, E), COMITY_ERR_NOTFOUND, "");
    /* a partial longer than the file: started again from nothing */
    f = fopen(part, "w");
    assert_non_null(f);
    fputs(HELLO "and more", f);
    fclose(f);
    TU_OK(cy_files_put_resume(fs, hello_hash, n, part, &w, E));
    assert_int_equal(cy_files_put_written(w), 0);
    TU_OK(cy_files_put_write(w, HELLO, 5, E));
    TU_OK(cy_files_put_keep(w, E));
    /* resumed right: stored under its hash, the partial gone */
    TU_OK(cy_files_put_resume(fs, hello_hash, n, part, &w, E));
    assert_int_equal(cy_files_put_written(w), 5);
    TU_OK(cy_files_put_write(w, HELLO + 5, n - 5, E));
    bool created = false;
    TU_OK(cy_files_put_commit(w, &created, E));
    assert_true(created);
    TU_OK(cy_files_stat(fs, hello_hash, &size, E));
    assert_int_equal(size, n);
    assert_int_equal(file_len(part), UINT64_MAX);
    cy_files_close(fs);
    tu_rmrf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store),
        cmocka_unit_test(test_journal),
        cmocka_unit_test(test_resume),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
