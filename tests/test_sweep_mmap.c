/*
 * test_sweep_mmap.c: plain files are scanned from mappings of the file
 * (read.c), with pread as the fallback (COMITY_NO_MMAP forces it).  Both
 * ways must report exactly the same hits, line numbers and offsets, on the
 * edges a mapping has and a buffer does not: an empty file, a file whose
 * size is an exact multiple of the page size and of the 64-byte SIMD
 * window (nothing readable after its last byte), a file ending without a
 * newline with a hit in its last bytes, files of exactly one block and one
 * byte more, lines straddling block edges, for 1 and 3 threads.  The hits
 * are also checked against a plain search of the file.  And a file cut
 * short while it is being scanned (log rotation by truncation) must not
 * kill the process (SIGBUS on the mapping): the block is read again with
 * pread and only what is still in the file is reported.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "sweep/read.h"
#include "sweep/sweep.h"
#include "util/testutil.h"

#define TOK " evil.com"

/* What a sweep reported: one "line offset token" line per hit. */
struct got {
    char *out;
    size_t len;
    FILE *f;
    uint64_t hits;
    const char *truncate_path; /* on the first hit: cut the file here */
    off_t truncate_at;
};

static int on_hit(void *ud, const char *unit, const cy_sw_hit *h)
{
    (void)unit;
    struct got *g = ud;
    fprintf(g->f, "%llu %llu %.*s\n", (unsigned long long)h->line,
            (unsigned long long)h->offset, (int)h->tok_len, h->tok);
    if (g->hits++ == 0 && g->truncate_path)
        assert_int_equal(truncate(g->truncate_path, g->truncate_at), 0);
    return 0;
}

static cy_sw_set *evil_set(void)
{
    cy_sw_set *set = NULL;
    TU_OK(cy_sw_set_new(&set, E));
    TU_OK(cy_sw_set_add(set, CY_SW_DOMAIN, "evil.com", 8, CY_SW_REF_LIST, NULL, E));
    TU_OK(cy_sw_set_build(set, E));
    return set;
}

/* Sweeps path; returns the hit lines (caller frees) and the read stats. */
static char *run(const cy_sw_set *set, const char *path, int threads, bool mapped,
                 cy_sw_read_stats *st, const char *cut_path, off_t cut_at)
{
    struct got g = {.truncate_path = cut_path, .truncate_at = cut_at};
    g.f = open_memstream(&g.out, &g.len);
    cy_sw_sink sink = {.hit = on_hit, .ud = &g};
    if (mapped)
        unsetenv("COMITY_NO_MMAP");
    else
        setenv("COMITY_NO_MMAP", "1", 1);
    memset(st, 0, sizeof *st);
    TU_OK(cy_sw_read_path(set, path, threads, NULL, &sink, st, E));
    unsetenv("COMITY_NO_MMAP");
    fclose(g.f);
    return g.out;
}

/* The first TOK at or after p, or NULL. */
static const char *find_tok(const char *p, const char *end)
{
    size_t n = strlen(TOK);
    for (; p + n <= end; p++)
        if (memcmp(p, TOK, n) == 0)
            return p;
    return NULL;
}

/* The expected report: every TOK in buf[0..len) (planted only after a space
 * and followed by a newline or the end), with its line. */
static char *expected(const char *buf, size_t len)
{
    char *out = NULL;
    size_t olen = 0;
    FILE *f = open_memstream(&out, &olen);
    uint64_t line = 1;
    const char *p = buf, *end = buf + len;
    while (p < end) {
        const char *t = find_tok(p, end);
        if (!t)
            break;
        for (const char *q = p; q < t; q++)
            line += *q == '\n';
        fprintf(f, "%llu %zu %s\n", (unsigned long long)line, (size_t)(t + 1 - buf), &TOK[1]);
        p = t + strlen(TOK);
    }
    fclose(f);
    return out;
}

/* Builds a file of exactly `size` bytes of filler lines with TOK planted on
 * the first line, on the line that straddles each multiple of `every`
 * (when not 0), and at the very end (then without a final newline when
 * `no_nl`). */
static char *make(size_t size, size_t every, bool no_nl)
{
    char *buf = malloc(size + 1);
    assert_non_null(buf);
    size_t len = 0, n = 0, next = every ? every : SIZE_MAX;
    const size_t tail = strlen(TOK) + (no_nl ? 0 : 1);
    if (size >= 2 * tail + 2) {
        memcpy(buf, "a" TOK "\n", strlen(TOK) + 2);
        len = strlen(TOK) + 2;
    }
    while (len + 64 + tail < size) {
        int k;
        if (len + 40 > next) { /* this line crosses the edge */
            k = sprintf(buf + len, "%07zu q x.y%s tail\n", n, TOK);
            next += every;
        } else {
            k = sprintf(buf + len, "%07zu query f%zu.example.org 10.0.0.%zu\n", n, n % 977,
                        n % 250);
        }
        len += (size_t)k;
        n++;
    }
    /* pad with one line of letters (no dot: no token), then the tail */
    size_t pad = size - len - (size >= tail ? tail : 0);
    if (size < tail) {
        memset(buf + len, 'p', pad);
        len += pad;
    } else {
        if (pad) {
            memset(buf + len, 'p', pad - 1);
            buf[len + pad - 1] = '\n';
            len += pad;
        }
        memcpy(buf + len, TOK "\n", tail);
        len += tail;
    }
    assert_int_equal(len, size);
    return buf;
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void test_edges(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/edge.log", dir);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    const struct {
        size_t size, every;
        bool no_nl;
    } cases[] = {
        {0, 0, false},
        {5, 0, false},                             /* shorter than the token */
        {2 * page, 0, true},                       /* page and SIMD multiple */
        {2 * page, 0, false},
        {2 * page + 1, 0, true},
        {64, 0, true},                             /* one SIMD window */
        {CY_SW_BLOCK, 0, true},                    /* exactly one block */
        {CY_SW_BLOCK + 1, 0, true},
        {CY_SW_BLOCK + 9, 0, false},               /* the tail line alone in block 2 */
        {3 * (size_t)CY_SW_BLOCK, 1u << 20, true}, /* every MiB, all block edges */
    };
    cy_sw_set *set = evil_set();
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char *buf = make(cases[c].size, cases[c].every, cases[c].no_nl);
        write_file(path, buf, cases[c].size);
        char *want = expected(buf, cases[c].size);
        uint64_t want_lines = 0;
        for (size_t i = 0; i < cases[c].size; i++)
            want_lines += buf[i] == '\n';
        if (cases[c].size && buf[cases[c].size - 1] != '\n')
            want_lines++;
        for (int threads = 1; threads <= 3; threads += 2) {
            for (int mapped = 0; mapped < 2; mapped++) {
                cy_sw_read_stats st;
                char *got = run(set, path, threads, mapped, &st, NULL, 0);
                if (strcmp(got, want) != 0)
                    fail_msg("size %zu, %d threads, %s: got\n%s\nwant\n%s", cases[c].size,
                             threads, mapped ? "mapped" : "pread", got, want);
                assert_int_equal(st.lines, want_lines);
                assert_int_equal(st.bytes, cases[c].size);
                assert_int_equal(st.shrunk, 0);
                free(got);
            }
        }
        free(want);
        free(buf);
    }
    cy_sw_set_free(set);
    tu_rmrf(dir);
    free(dir);
}

/* The file is cut to 1.5 blocks at the first hit (reported while block 1
 * is still unread: one thread scans block by block): no SIGBUS death, the
 * hits before the cut and none after, the lost blocks counted. */
static void test_truncated_while_mapped(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/rotated.log", dir);
    size_t size = 3 * (size_t)CY_SW_BLOCK + 12345;
    char *buf = make(size, 1u << 19, true);
    size_t cut = CY_SW_BLOCK + CY_SW_BLOCK / 2;
    while (buf[cut - 1] != '\n')
        cut++;
    char *want = expected(buf, cut);
    cy_sw_set *set = evil_set();
    for (int mapped = 0; mapped < 2; mapped++) {
        write_file(path, buf, size);
        cy_sw_read_stats st;
        char *got = run(set, path, 1, mapped, &st, path, (off_t)cut);
        if (strcmp(got, want) != 0)
            fail_msg("%s: got\n%s\nwant\n%s", mapped ? "mapped" : "pread", got, want);
        if (mapped)
            assert_true(st.shrunk >= 1); /* the SIGBUS path was taken */
        free(got);
    }
    free(want);
    free(buf);
    cy_sw_set_free(set);
    tu_rmrf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_truncated_while_mapped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
