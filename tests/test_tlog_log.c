/*
 * test_tlog_log.c: the log on disk.
 *
 * A log written through the public API must: give every entry its index,
 * publish signed checkpoints whose roots match an independent in-memory
 * computation, serve inclusion and consistency proofs that verify, lay out
 * exactly the tiles c2sp.org/tlog-tiles names (the spec's 70,000 and 256
 * examples), survive reopening, refuse a second writer and oversized
 * entries, and pass an audit of at least 100,000 entries that catches a
 * truncated tile, a changed bundle and a changed tile.  Receipts verify and
 * fail for the wrong entry, key or proof; a forked log is caught.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "sqlite/ops.h"
#include "tlog/tlog.h"
#include "util/testutil.h"

#define ORIGIN "example.org/comity-test"

static comity_nkey *make_key(const char *name, int type)
{
    comity_nkey *k = NULL;
    TU_OK(comity_nkey_generate(name, type, &k, E));
    return k;
}

static void entry_of(uint64_t i, char *buf, size_t *len)
{
    *len = (size_t)snprintf(buf, 64, "entry %llu", (unsigned long long)i);
}

/* Root of the first n entries, computed here from scratch (recursively). */
static void ref_root(const uint8_t (*leaves)[CY_HASH], uint64_t n, uint8_t out[CY_HASH])
{
    if (n == 0) {
        memcpy(out, cy_tlog_empty_root, CY_HASH);
        return;
    }
    if (n == 1) {
        memcpy(out, leaves[0], CY_HASH);
        return;
    }
    uint64_t k = 1;
    while (k * 2 < n)
        k *= 2;
    uint8_t l[CY_HASH], r[CY_HASH];
    ref_root(leaves, k, l);
    ref_root(leaves + k, n - k, r);
    cy_tlog_node_hash(l, r, out);
}

static bool exists(const char *dir, const char *rel)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    return access(p, F_OK) == 0;
}

static char *new_log(comity_nkey **key)
{
    char *dir = tu_tmpdir();
    char sub[4096];
    snprintf(sub, sizeof sub, "%s/log", dir);
    *key = make_key(ORIGIN, COMITY_NOTE_ED25519);
    TU_OK(comity_log_create(sub, ORIGIN, *key, NULL, E));
    free(dir);
    return strdup(sub);
}

static void rm_log(char *dir)
{
    char *slash = strrchr(dir, '/');
    *slash = 0;
    tu_rmrf(dir);
    free(dir);
}

static void test_basic(void **state)
{
    (void)state;
    comity_nkey *key;
    char *dir = new_log(&key);
    comity_log *log;
    TU_OK(comity_log_open(dir, COMITY_LOG_WRITE, key, &log, E));

    /* empty log: size 0 with the empty root, signed */
    char *note;
    size_t nl;
    uint64_t size;
    uint8_t root[CY_HASH];
    TU_OK(comity_log_read_checkpoint(log, &note, &nl, &size, root, E));
    assert_int_equal(size, 0);
    assert_memory_equal(root, cy_tlog_empty_root, CY_HASH);
    comity_vkey *vk;
    TU_OK(comity_vkey_parse(comity_nkey_vkey(key), strlen(comity_nkey_vkey(key)), &vk, E));
    const comity_vkey *vks[1] = {vk};
    comity_checkpoint cp;
    TU_OK(comity_checkpoint_verify(note, nl, vks, 1, &cp, E));
    assert_string_equal(cp.origin, ORIGIN);
    comity_free(note);

    enum { N = 1000 };
    static uint8_t leaves[N][CY_HASH];
    for (uint64_t i = 0; i < N; i++) {
        char e[64];
        size_t el;
        entry_of(i, e, &el);
        cy_tlog_leaf_hash(e, el, leaves[i]);
        uint64_t idx;
        TU_OK(comity_log_append(log, e, el, i % 97 == 0, &idx, E));
        assert_int_equal(idx, i);
        if (i == 300 || i == 511)
            TU_OK(comity_log_checkpoint(log, NULL, NULL, E));
    }
    TU_OK(comity_log_checkpoint(log, &note, &nl, E));
    TU_OK(comity_checkpoint_verify(note, nl, vks, 1, &cp, E));
    assert_int_equal(cp.size, N);
    uint8_t want[CY_HASH];
    ref_root((const uint8_t(*)[CY_HASH])leaves, N, want);
    assert_memory_equal(cp.root, want, CY_HASH);
    comity_free(note);

    /* roots of every earlier size, inclusion and consistency proofs */
    for (uint64_t s = 0; s <= N; s += 37) {
        uint8_t r[CY_HASH];
        TU_OK(comity_log_root(log, s, r, E));
        ref_root((const uint8_t(*)[CY_HASH])leaves, s, want);
        assert_memory_equal(r, want, CY_HASH);
        uint8_t *h;
        size_t n;
        if (s > 0) {
            TU_OK(comity_log_consistency(log, s, N, &h, &n, E));
            TU_OK(comity_tlog_verify_consistency(s, N, r, cp.root, h, n, E));
            comity_free(h);
            TU_OK(comity_log_inclusion(log, s - 1, N, &h, &n, E));
            TU_OK(comity_tlog_verify_inclusion(leaves[s - 1], s - 1, N, h, n, cp.root, E));
            comity_free(h);
        }
    }
    for (uint64_t i = 0; i < N; i += 13) {
        uint8_t *e;
        size_t el;
        char ref[64];
        size_t rl;
        TU_OK(comity_log_entry(log, i, &e, &el, E));
        entry_of(i, ref, &rl);
        assert_int_equal(el, rl);
        assert_memory_equal(e, ref, rl);
        comity_free(e);
    }

    /* receipts */
    char *proof;
    size_t pl;
    TU_OK(comity_log_prove(log, 777, &proof, &pl, E));
    char e[64];
    size_t el;
    entry_of(777, e, &el);
    uint64_t idx;
    TU_OK(comity_tlog_proof_verify(proof, pl, e, el, vks, 1, NULL, &idx, NULL, E));
    assert_int_equal(idx, 777);
    TU_FAILS(comity_tlog_proof_verify(proof, pl, "entry 776", 9, vks, 1, NULL, &idx, NULL, E),
             COMITY_ERR_VERIFY, "not at index 777");
    comity_nkey *other = make_key(ORIGIN, COMITY_NOTE_ED25519);
    comity_vkey *ovk;
    TU_OK(comity_vkey_parse(comity_nkey_vkey(other), strlen(comity_nkey_vkey(other)), &ovk, E));
    const comity_vkey *ovks[1] = {ovk};
    TU_FAILS(comity_tlog_proof_verify(proof, pl, e, el, ovks, 1, NULL, &idx, NULL, E),
             COMITY_ERR_VERIFY, "no signature by a known key");
    /* a changed proof hash */
    char *third = strchr(strchr(strchr(proof, '\n') + 1, '\n') + 1, '\n') + 1;
    char saved = third[3];
    third[3] = saved == 'A' ? 'B' : 'A';
    TU_FAILS(comity_tlog_proof_verify(proof, pl, e, el, vks, 1, NULL, &idx, NULL, E),
             COMITY_ERR_VERIFY, NULL);
    third[3] = saved;
    /* a changed signature */
    char *sig = strstr(proof, "\xe2\x80\x94 ");
    assert_non_null(sig);
    char *b64 = strchr(sig + 4, ' ') + 10;
    *b64 = *b64 == 'A' ? 'B' : 'A';
    TU_FAILS(comity_tlog_proof_verify(proof, pl, e, el, vks, 1, NULL, &idx, NULL, E),
             COMITY_ERR_VERIFY, "does not verify");
    comity_free(proof);
    TU_FAILS(comity_log_prove(log, N, &proof, &pl, E), COMITY_ERR_NOTFOUND, "not in the");

    /* entries over 65,535 bytes are refused */
    char *big = calloc(1, 65536);
    TU_FAILS(comity_log_append(log, big, 65536, 1, &idx, E), COMITY_ERR_TOOBIG, "65535");
    TU_OK(comity_log_append(log, big, 65535, 1, &idx, E));
    assert_int_equal(idx, N);
    free(big);

    /* one writer: a second open for writing fails, a reader is fine */
    comity_log *second;
    TU_FAILS(comity_log_open(dir, COMITY_LOG_WRITE, key, &second, E), COMITY_ERR_LOCKED,
             "another process is writing");
    comity_log *reader;
    TU_OK(comity_log_open(dir, COMITY_LOG_READ, NULL, &reader, E));
    TU_OK(comity_log_read_checkpoint(reader, NULL, NULL, &size, NULL, E));
    assert_int_equal(size, N);
    TU_FAILS(comity_log_append(reader, "x", 1, 0, &idx, E), COMITY_ERR_USAGE, "reading only");

    comity_log_close(log); /* publishes the 65,535-byte entry */
    TU_OK(comity_log_read_checkpoint(reader, NULL, NULL, &size, NULL, E));
    assert_int_equal(size, N + 1);
    comity_log_close(reader);

    /* reopen: same tree, keeps growing, consistent with the old checkpoint */
    comity_log_audit_report rep;
    TU_OK(comity_log_audit(dir, vk, &rep, E));
    assert_int_equal(rep.entries, N + 1);
    TU_FAILS(comity_log_open(dir, COMITY_LOG_WRITE, other, &log, E), COMITY_ERR_NOKEY,
             "not the log's key");
    TU_OK(comity_log_open(dir, COMITY_LOG_WRITE, key, &log, E));
    TU_OK(comity_log_append(log, "after", 5, 1, &idx, E));
    assert_int_equal(idx, N + 1);
    TU_OK(comity_log_checkpoint(log, &note, &nl, E));
    comity_checkpoint cp2;
    TU_OK(comity_checkpoint_verify(note, nl, vks, 1, &cp2, E));
    comity_free(note);
    uint8_t *h;
    size_t n;
    TU_OK(comity_log_consistency(log, N, N + 2, &h, &n, E));
    TU_OK(comity_tlog_verify_consistency(N, N + 2, cp.root, cp2.root, h, n, E));
    comity_free(h);
    comity_log_close(log);

    comity_vkey_free(vk);
    comity_vkey_free(ovk);
    comity_nkey_free(other);
    comity_nkey_free(key);
    rm_log(dir);
}

/* The tile layout of c2sp.org/tlog-tiles for sizes 256 and 70,000, then an
 * audit of 100,000 entries that catches damage. */
/* comity_log_sync_to: the entries below the size are durable when it
 * returns.  A child appends 40 entries without waiting, syncs the first
 * 25 and dies at once (_exit: no close, no flush); the log reopened by the
 * parent must hold at least those 25, at their indexes.  A size beyond the
 * appended entries is refused.  REPLAYABLE keeps entries in memory until a
 * checkpoint covers them, so the death may take any entry past the last
 * checkpoint: the log holds a prefix, and appending the rest again, in
 * order (what the node does from its record rows), gives each its index. */
static void sync_to_with(int flags)
{
    comity_nkey *key;
    char *dir = new_log(&key);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        comity_log *log;
        uint64_t idx;
        if (comity_log_open(dir, COMITY_LOG_WRITE | flags, key, &log, NULL))
            _exit(2);
        for (uint64_t i = 0; i < 40; i++) {
            char e[64];
            size_t el;
            entry_of(i, e, &el);
            if (comity_log_append(log, e, el, 0, &idx, NULL) || idx != i)
                _exit(3);
        }
        comity_error e = {0};
        if (comity_log_sync_to(log, 41, &e) != COMITY_ERR_USAGE || !strstr(e.msg, "never"))
            _exit(4);
        if (comity_log_sync_to(log, 25, NULL) != COMITY_OK)
            _exit(5);
        _exit(0);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    comity_log *log;
    TU_OK(comity_log_open(dir, COMITY_LOG_WRITE, key, &log, E));
    TU_OK(comity_log_checkpoint(log, NULL, NULL, E));
    uint64_t size;
    TU_OK(comity_log_read_checkpoint(log, NULL, NULL, &size, NULL, E));
    assert_true(size <= 40);
    if (flags & COMITY_LOG_REPLAYABLE) {
        for (uint64_t i = size; i < 40; i++) { /* the replay */
            char e[64];
            size_t el;
            uint64_t idx;
            entry_of(i, e, &el);
            TU_OK(comity_log_append(log, e, el, 1, &idx, E));
            assert_int_equal(idx, i);
        }
        TU_OK(comity_log_checkpoint(log, NULL, NULL, E));
        TU_OK(comity_log_read_checkpoint(log, NULL, NULL, &size, NULL, E));
        assert_int_equal(size, 40);
    }
    assert_true(size >= 25);
    for (uint64_t i = 0; i < size; i++) {
        uint8_t *got;
        size_t gl;
        char ref[64];
        size_t rl;
        TU_OK(comity_log_entry(log, i, &got, &gl, E));
        entry_of(i, ref, &rl);
        assert_int_equal(gl, rl);
        assert_memory_equal(got, ref, rl);
        comity_free(got);
    }
    comity_log_close(log);
    comity_nkey_free(key);
    rm_log(dir);
}

/* The same with a sequencer thread, and REPLAYABLE. */
static void test_sync_to(void **state)
{
    (void)state;
    sync_to_with(0);
    sync_to_with(COMITY_LOG_BACKGROUND);
    sync_to_with(COMITY_LOG_BACKGROUND | COMITY_LOG_REPLAYABLE);
}

static void test_layout_and_audit(void **state)
{
    (void)state;
    comity_nkey *key;
    char *dir = new_log(&key);
    comity_log *log;
    TU_OK(comity_log_open(dir, COMITY_LOG_WRITE, key, &log, E));
    uint64_t idx;
    for (uint64_t i = 0; i < 100000; i++) {
        char e[64];
        size_t el;
        entry_of(i, e, &el);
        TU_OK(comity_log_append(log, e, el, 0, &idx, E));
        if (i + 1 == 256 || i + 1 == 70000 || i + 1 == 100000)
            TU_OK(comity_log_checkpoint(log, NULL, NULL, E));
        if (i + 1 == 256) {
            assert_true(exists(dir, "tile/0/000"));
            assert_true(exists(dir, "tile/entries/000"));
            assert_true(exists(dir, "tile/1/000.p/1"));
            assert_false(exists(dir, "tile/0/001.p/0"));
        }
        if (i + 1 == 70000) {
            assert_true(exists(dir, "tile/0/272"));
            assert_false(exists(dir, "tile/0/273"));
            assert_true(exists(dir, "tile/0/273.p/112"));
            assert_true(exists(dir, "tile/entries/273.p/112"));
            assert_true(exists(dir, "tile/1/000"));
            assert_true(exists(dir, "tile/1/001.p/17"));
            assert_true(exists(dir, "tile/2/000.p/1"));
            assert_false(exists(dir, "tile/3/000.p/1"));
        }
    }
    comity_log_close(log);
    assert_true(exists(dir, "tile/0/390.p/160")); /* 100000 = 390*256 + 160 */
    comity_vkey *vk;
    TU_OK(comity_vkey_parse(comity_nkey_vkey(key), strlen(comity_nkey_vkey(key)), &vk, E));
    comity_log_audit_report rep;
    TU_OK(comity_log_audit(dir, vk, &rep, E));
    assert_int_equal(rep.size, 100000);
    assert_int_equal(rep.entries, 100000);
    assert_true(rep.tiles >= 390 + 1 + 1 + 1);

    char p[4096];
    /* a truncated tile */
    snprintf(p, sizeof p, "%s/tile/0/100", dir);
    assert_int_equal(truncate(p, 8000), 0);
    TU_FAILS(comity_log_audit(dir, vk, &rep, E), COMITY_ERR_INVALID, "tile/0/100");
    comity_vkey_free(vk);
    comity_nkey_free(key);
    rm_log(dir);

    /* a changed entry in a bundle, and a changed hash in an upper tile */
    dir = new_log(&key);
    TU_OK(comity_vkey_parse(comity_nkey_vkey(key), strlen(comity_nkey_vkey(key)), &vk, E));
    TU_OK(comity_log_open(dir, COMITY_LOG_WRITE, key, &log, E));
    for (uint64_t i = 0; i < 600; i++) {
        char e[64];
        size_t el;
        entry_of(i, e, &el);
        TU_OK(comity_log_append(log, e, el, 0, &idx, E));
    }
    comity_log_close(log);
    TU_OK(comity_log_audit(dir, vk, &rep, E));
    snprintf(p, sizeof p, "%s/tile/entries/001", dir);
    int fd = open(p, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "X", 1, 5), 1);
    TU_FAILS(comity_log_audit(dir, vk, &rep, E), COMITY_ERR_VERIFY, "tile/0/001");
    assert_int_equal(pwrite(fd, "r", 1, 5), 1); /* bundle bytes 2.. are "entry 256" */
    close(fd);
    TU_OK(comity_log_audit(dir, vk, &rep, E));
    snprintf(p, sizeof p, "%s/tile/1/000.p/2", dir);
    fd = open(p, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "\x01\x02", 2, 40), 2);
    close(fd);
    TU_FAILS(comity_log_audit(dir, vk, &rep, E), COMITY_ERR_VERIFY, "tile/1/000.p/2");
    comity_vkey_free(vk);
    comity_nkey_free(key);
    rm_log(dir);
}

/* A fork: the same key signs two different histories.  A consistency proof
 * from the fork does not verify against the original's checkpoint. */
static void test_fork_caught(void **state)
{
    (void)state;
    comity_nkey *key;
    char *a = new_log(&key);
    char *b = tu_tmpdir();
    char bdir[4096];
    snprintf(bdir, sizeof bdir, "%s/log", b);
    TU_OK(comity_log_create(bdir, ORIGIN, key, NULL, E));
    comity_log *la, *lb;
    TU_OK(comity_log_open(a, COMITY_LOG_WRITE, key, &la, E));
    TU_OK(comity_log_open(bdir, COMITY_LOG_WRITE, key, &lb, E));
    uint64_t idx;
    for (int i = 0; i < 10; i++) {
        char e[32];
        snprintf(e, sizeof e, "e%d", i);
        TU_OK(comity_log_append(la, e, strlen(e), 0, &idx, E));
        if (i == 5)
            snprintf(e, sizeof e, "forged%d", i);
        TU_OK(comity_log_append(lb, e, strlen(e), 0, &idx, E));
    }
    TU_OK(comity_log_checkpoint(la, NULL, NULL, E));
    TU_OK(comity_log_append(lb, "more", 4, 0, &idx, E));
    TU_OK(comity_log_checkpoint(lb, NULL, NULL, E));
    uint8_t ra[CY_HASH], rb[CY_HASH];
    uint64_t sa, sb;
    TU_OK(comity_log_read_checkpoint(la, NULL, NULL, &sa, ra, E));
    TU_OK(comity_log_read_checkpoint(lb, NULL, NULL, &sb, rb, E));
    uint8_t *h;
    size_t n;
    TU_OK(comity_log_consistency(lb, sa, sb, &h, &n, E));
    TU_FAILS(comity_tlog_verify_consistency(sa, sb, ra, rb, h, n, E), COMITY_ERR_VERIFY,
             "old root");
    comity_free(h);
    comity_log_close(la);
    comity_log_close(lb);
    comity_nkey_free(key);
    rm_log(a);
    tu_rmrf(b);
    free(b);
}

/* Many threads appending durably through the sequencer thread: every index
 * given once, everything published. */
struct worker {
    comity_log *log;
    int id;
    uint64_t idx[200];
};

static void *work(void *arg)
{
    struct worker *w = arg;
    comity_error e = {0};
    for (int i = 0; i < 200; i++) {
        char buf[32];
        int n = snprintf(buf, sizeof buf, "t%d-%d", w->id, i);
        if (comity_log_append(w->log, buf, (size_t)n, 1, &w->idx[i], &e) != COMITY_OK)
            w->idx[i] = UINT64_MAX;
    }
    return NULL;
}

/* Readers (one handle shared by two threads) prove entries of whatever is
 * published while the writer goes on. */
struct reader {
    comity_log *log;
    atomic_int *stop;
    int proofs, bad;
};

static void *read_work(void *arg)
{
    struct reader *r = arg;
    comity_error e = {0};
    while (!atomic_load(r->stop)) {
        uint64_t size;
        uint8_t root[CY_HASH];
        if (comity_log_read_checkpoint(r->log, NULL, NULL, &size, root, &e) != COMITY_OK) {
            r->bad++;
            continue;
        }
        if (size == 0)
            continue;
        uint64_t i = (uint64_t)r->proofs * 7919 % size;
        uint8_t *h, *entry;
        size_t n, el;
        if (comity_log_inclusion(r->log, i, size, &h, &n, &e) != COMITY_OK ||
            comity_log_entry(r->log, i, &entry, &el, &e) != COMITY_OK) {
            r->bad++;
            continue;
        }
        uint8_t leaf[CY_HASH];
        cy_tlog_leaf_hash(entry, el, leaf);
        if (comity_tlog_verify_inclusion(leaf, i, size, h, n, root, &e) != COMITY_OK)
            r->bad++;
        comity_free(h);
        comity_free(entry);
        r->proofs++;
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    comity_nkey *key;
    char *dir = new_log(&key);
    comity_log *log;
    TU_OK(comity_log_open(dir, COMITY_LOG_WRITE | COMITY_LOG_BACKGROUND, key, &log, E));
    comity_log_set_interval(log, 20);
    enum { T = 8 };
    static struct worker ws[T];
    pthread_t th[T];
    for (int i = 0; i < T; i++) {
        ws[i].log = log;
        ws[i].id = i;
        assert_int_equal(pthread_create(&th[i], NULL, work, &ws[i]), 0);
    }
    comity_log *rd;
    TU_OK(comity_log_open(dir, COMITY_LOG_READ, NULL, &rd, E));
    atomic_int stop = 0;
    struct reader rs[2] = {{rd, &stop, 0, 0}, {rd, &stop, 0, 0}};
    pthread_t rth[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&rth[i], NULL, read_work, &rs[i]), 0);
    for (int i = 0; i < T; i++)
        pthread_join(th[i], NULL);
    atomic_store(&stop, 1);
    for (int i = 0; i < 2; i++) {
        pthread_join(rth[i], NULL);
        assert_int_equal(rs[i].bad, 0);
    }
    comity_log_close(rd);
    static bool seen[T * 200];
    for (int i = 0; i < T; i++)
        for (int j = 0; j < 200; j++) {
            assert_true(ws[i].idx[j] < T * 200);
            assert_false(seen[ws[i].idx[j]]);
            seen[ws[i].idx[j]] = true;
        }
    /* the sequencer publishes without being asked */
    uint64_t size = 0;
    for (int i = 0; i < 500 && size < T * 200; i++) {
        usleep(10000);
        TU_OK(comity_log_read_checkpoint(log, NULL, NULL, &size, NULL, E));
    }
    assert_int_equal(size, T * 200);
    uint8_t *e;
    size_t el;
    TU_OK(comity_log_entry(log, ws[3].idx[17], &e, &el, E));
    assert_memory_equal(e, "t3-17", 5);
    comity_free(e);
    comity_log_close(log);
    comity_log_audit_report rep;
    TU_OK(comity_log_audit(dir, NULL, &rep, E));
    assert_int_equal(rep.entries, T * 200);
    comity_nkey_free(key);
    rm_log(dir);
}

static void test_create_checks(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char sub[4096];
    snprintf(sub, sizeof sub, "%s/l", dir);
    comity_nkey *k = make_key("other.example/log", COMITY_NOTE_ED25519);
    TU_FAILS(comity_log_create(sub, ORIGIN, k, NULL, E), COMITY_ERR_USAGE, "must equal the origin");
    TU_FAILS(comity_log_create(sub, "bad origin", k, NULL, E), COMITY_ERR_INVALID, "origin");
    comity_nkey *w = make_key(ORIGIN, COMITY_NOTE_COSIG_V1);
    TU_FAILS(comity_log_create(sub, ORIGIN, w, NULL, E), COMITY_ERR_USAGE, "Ed25519");
    comity_nkey *good = make_key(ORIGIN, COMITY_NOTE_ED25519);
    TU_OK(comity_log_create(sub, ORIGIN, good, NULL, E));
    TU_FAILS(comity_log_create(sub, ORIGIN, good, NULL, E), COMITY_ERR_EXISTS, "already holds");
    comity_log *log;
    TU_FAILS(comity_log_open(dir, COMITY_LOG_WRITE, good, &log, E), COMITY_ERR_NOTFOUND, "no log");
    comity_nkey_free(k);
    comity_nkey_free(w);
    comity_nkey_free(good);
    tu_rmrf(dir);
    free(dir);
}

/* PRAGMA user_version of a database file (-1 if unreadable). */
static int file_version(const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void set_file_version(const char *path, int v)
{
    sqlite3 *db = NULL;
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version=%d", v);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* A log made by d514d87, before log.db had a schema version
 * (tests/data/legacy-d514d87): this build opens it as version 1, reads
 * its entries, appends to it; a log.db newer than this build is refused. */
/* A backup's copy of a log is cut at the size its log.db snapshot holds,
 * though tiles of a larger tree were written after that snapshot was read
 * (a writer running during the copy): the copy audits at that size, and a
 * node restored from it can log other entries past it without meeting
 * the tiles of the tree it never had. */
static void test_copy_cut(void **state)
{
    (void)state;
    comity_nkey *key;
    char *dir = new_log(&key);
    comity_log *log;
    uint64_t idx;
    char e[64], old[4200], db[4200], dst[4200];
    size_t el;
    TU_OK(comity_log_open(dir, COMITY_LOG_WRITE, key, &log, E));
    for (uint64_t i = 0; i < 300; i++) {
        entry_of(i, e, &el);
        TU_OK(comity_log_append(log, e, el, 0, &idx, E));
    }
    TU_OK(comity_log_checkpoint(log, NULL, NULL, E));
    comity_log_close(log);
    snprintf(db, sizeof db, "%s/log.db", dir);
    snprintf(old, sizeof old, "%s.old.db", dir);
    TU_OK(cy_sqlite_copy(db, old, E));
    /* the writer goes on to 500 */
    TU_OK(comity_log_open(dir, COMITY_LOG_WRITE, key, &log, E));
    for (uint64_t i = 300; i < 500; i++) {
        entry_of(i, e, &el);
        TU_OK(comity_log_append(log, e, el, 0, &idx, E));
    }
    TU_OK(comity_log_checkpoint(log, NULL, NULL, E));
    comity_log_close(log);
    assert_true(exists(dir, "tile/entries/001.p/244"));
    /* what a copy sees when it read log.db before that: state at 300 */
    assert_int_equal(rename(old, db), 0);
    char side[4300];
    snprintf(side, sizeof side, "%s-wal", db);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", db);
    unlink(side);
    snprintf(dst, sizeof dst, "%s.copy", dir);
    uint64_t size = 0, files = 0, bytes = 0;
    TU_OK(cy_tlog_copy(dir, dst, &size, &files, &bytes, E));
    assert_int_equal(size, 300);
    assert_true(exists(dst, "tile/entries/001.p/44"));
    assert_true(exists(dst, "tile/0/001.p/44"));
    assert_false(exists(dst, "tile/entries/001.p/244"));
    assert_false(exists(dst, "tile/0/001.p/244"));
    comity_vkey *vk;
    TU_OK(comity_vkey_parse(comity_nkey_vkey(key), strlen(comity_nkey_vkey(key)), &vk, E));
    comity_log_audit_report rep;
    TU_OK(comity_log_audit(dst, vk, &rep, E));
    assert_int_equal(rep.size, 300);
    /* other entries past 300, as a restored node logs its own */
    TU_OK(comity_log_open(dst, COMITY_LOG_WRITE, key, &log, E));
    for (uint64_t i = 300; i < 500; i++) {
        el = (size_t)snprintf(e, sizeof e, "other %llu", (unsigned long long)i);
        TU_OK(comity_log_append(log, e, el, 0, &idx, E));
        assert_int_equal(idx, i);
    }
    TU_OK(comity_log_checkpoint(log, NULL, NULL, E));
    comity_log_close(log);
    TU_OK(comity_log_audit(dst, vk, &rep, E));
    assert_int_equal(rep.size, 500);
    comity_vkey_free(vk);
    comity_nkey_free(key);
    rm_log(dir);
}

/* A kill between an integration's tile renames and its log.db commit
 * leaves tiles past the committed size.  Opened REPLAYABLE, the entries in
 * them were lost with the process and the caller appends others at those
 * indexes (the node re-logs only the records it stored, not a post the
 * kill cut), so the next integration finds those tiles with other content.
 * They were never in a published checkpoint: they are replaced, and the
 * log audits (before, the sequencer refused to overwrite them and the node
 * did not start again: scripts/campaign-kill on PostgreSQL, round 117). */
static void test_replayable_cut_integration(void **state)
{
    (void)state;
    comity_nkey *key;
    char *dir = new_log(&key);
    comity_log *log;
    uint64_t idx;
    char e[64], db[4200], old[4200], cpf[4200], side[4300];
    size_t el;
    int fl = COMITY_LOG_WRITE | COMITY_LOG_REPLAYABLE;
    TU_OK(comity_log_open(dir, fl, key, &log, E));
    for (uint64_t i = 0; i < 10; i++) {
        entry_of(i, e, &el);
        TU_OK(comity_log_append(log, e, el, 0, &idx, E));
    }
    TU_OK(comity_log_checkpoint(log, NULL, NULL, E));
    comity_log_close(log);
    snprintf(db, sizeof db, "%s/log.db", dir);
    snprintf(old, sizeof old, "%s.old.db", dir);
    snprintf(cpf, sizeof cpf, "%s/checkpoint", dir);
    TU_OK(cy_sqlite_copy(db, old, E));
    size_t cplen;
    char *cp = tu_slurp(cpf, &cplen);
    /* three entries integrated (tiles renamed into place), then the state
     * put back as before the commit: the kill's leftovers */
    TU_OK(comity_log_open(dir, fl, key, &log, E));
    for (uint64_t i = 10; i < 13; i++) {
        el = (size_t)snprintf(e, sizeof e, "lost %llu", (unsigned long long)i);
        TU_OK(comity_log_append(log, e, el, 0, &idx, E));
    }
    TU_OK(comity_log_checkpoint(log, NULL, NULL, E));
    comity_log_close(log);
    assert_true(exists(dir, "tile/0/000.p/13"));
    assert_int_equal(rename(old, db), 0);
    snprintf(side, sizeof side, "%s-wal", db);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", db);
    unlink(side);
    FILE *f = fopen(cpf, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(cp, 1, cplen, f), cplen);
    assert_int_equal(fclose(f), 0);
    free(cp);
    /* other entries at 10-12, integrated over the leftovers */
    TU_OK(comity_log_open(dir, fl, key, &log, E));
    for (uint64_t i = 10; i < 13; i++) {
        entry_of(i, e, &el);
        TU_OK(comity_log_append(log, e, el, 0, &idx, E));
        assert_int_equal(idx, i);
    }
    TU_OK(comity_log_checkpoint(log, NULL, NULL, E));
    uint8_t *got;
    size_t gl;
    TU_OK(comity_log_entry(log, 11, &got, &gl, E));
    entry_of(11, e, &el);
    assert_int_equal(gl, el);
    assert_memory_equal(got, e, el);
    comity_free(got);
    comity_log_close(log);
    comity_vkey *vk;
    TU_OK(comity_vkey_parse(comity_nkey_vkey(key), strlen(comity_nkey_vkey(key)), &vk, E));
    comity_log_audit_report rep;
    TU_OK(comity_log_audit(dir, vk, &rep, E));
    assert_int_equal(rep.size, 13);
    comity_vkey_free(vk);
    comity_nkey_free(key);
    rm_log(dir);
}

/* The horizon of a REPLAYABLE log (cy_log_set_durable): implicit
 * checkpoints cover only the entries below it, the explicit one every
 * entry.  Without a thread: 70 entries of 60,000 bytes pass PEND_CAP, so
 * the commit integrates by itself (the back-pressure), and only up to the
 * horizon, 3; a close (implicit too) covers up to the horizon then, 5;
 * comity_log_checkpoint covers all.  With the sequencer thread (every
 * millisecond), a child appends 10 entries, moves the horizon to 6, waits
 * for the checkpoint of 6 and dies (_exit: no close): the log reopened
 * holds 6 entries, whatever the sequencer did meanwhile (without the
 * horizon: all 10, the intake's crash window, src/intake/intake.c). */
static void horizon_big_entry(uint64_t i, uint8_t *buf, size_t len)
{
    memset(buf, (int)('a' + i % 26), len);
    memcpy(buf, &i, sizeof i);
}

static void test_replayable_horizon(void **state)
{
    (void)state;
    comity_nkey *key;
    char *dir = new_log(&key);
    comity_log *log;
    uint64_t idx, size = 0;
    enum { BIG = 60000 };
    uint8_t *big = malloc(BIG);
    assert_non_null(big);
    int fl = COMITY_LOG_WRITE | COMITY_LOG_REPLAYABLE;
    TU_OK(comity_log_open(dir, fl, key, &log, E));
    cy_log_set_durable(log, 3);
    for (uint64_t i = 0; i < 70; i++) {
        horizon_big_entry(i, big, BIG);
        TU_OK(comity_log_append(log, big, BIG, 0, &idx, E));
        assert_int_equal(idx, i);
    }
    TU_OK(comity_log_sync(log, E));
    uint64_t commits, checkpoints;
    cy_log_stats(log, &commits, &checkpoints);
    assert_true(checkpoints >= 1); /* PEND_CAP forced an integration */
    TU_OK(comity_log_read_checkpoint(log, NULL, NULL, &size, NULL, E));
    assert_int_equal(size, 3);
    cy_log_set_durable(log, 2); /* a horizon never moves back */
    cy_log_set_durable(log, 5);
    comity_log_close(log);
    TU_OK(comity_log_open(dir, fl, key, &log, E));
    TU_OK(comity_log_read_checkpoint(log, NULL, NULL, &size, NULL, E));
    assert_int_equal(size, 5);
    for (uint64_t i = 5; i < 8; i++) { /* the owner appends the rest again */
        horizon_big_entry(i, big, BIG);
        TU_OK(comity_log_append(log, big, BIG, 0, &idx, E));
        assert_int_equal(idx, i);
    }
    cy_log_set_durable(log, 6);
    TU_OK(comity_log_checkpoint(log, NULL, NULL, E)); /* explicit: all */
    TU_OK(comity_log_read_checkpoint(log, NULL, NULL, &size, NULL, E));
    assert_int_equal(size, 8);
    for (uint64_t i = 0; i < size; i++) {
        uint8_t *got;
        size_t gl;
        TU_OK(comity_log_entry(log, i, &got, &gl, E));
        horizon_big_entry(i, big, BIG);
        assert_int_equal(gl, BIG);
        assert_memory_equal(got, big, BIG);
        comity_free(got);
    }
    comity_log_close(log);
    free(big);
    comity_nkey_free(key);
    rm_log(dir);

    dir = new_log(&key);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (comity_log_open(dir, fl | COMITY_LOG_BACKGROUND, key, &log, NULL))
            _exit(2);
        comity_log_set_interval(log, 1);
        cy_log_set_durable(log, 0);
        for (uint64_t i = 0; i < 10; i++) {
            char e[64];
            size_t el;
            entry_of(i, e, &el);
            if (comity_log_append(log, e, el, 0, &idx, NULL))
                _exit(3);
        }
        if (comity_log_sync(log, NULL))
            _exit(4);
        cy_log_set_durable(log, 6);
        /* the sequencer's checkpoint of 6 (then a few more passes of it) */
        uint64_t got = 0, passes = 0;
        for (int t = 0; t < 20000 && passes < 50; t++) {
            if (comity_log_read_checkpoint(log, NULL, NULL, &got, NULL, NULL))
                _exit(5);
            passes += got >= 6;
            usleep(1000);
        }
        _exit(got >= 6 ? 0 : 6);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    TU_OK(comity_log_open(dir, fl, key, &log, E));
    TU_OK(comity_log_read_checkpoint(log, NULL, NULL, &size, NULL, E));
    assert_int_equal(size, 6);
    comity_log_close(log);
    comity_nkey_free(key);
    rm_log(dir);
}

static int no_row(void *ctx, uint64_t size, const char *note, size_t len)
{
    (void)ctx;
    (void)size;
    (void)note;
    (void)len;
    fail_msg("no cosigned checkpoint was kept");
    return 1;
}

static void test_legacy_log(void **state)
{
    (void)state;
    char *tmp = tu_tmpdir();
    char cmd[8192], dir[4096], db[4200], kpath[4096];
    snprintf(dir, sizeof dir, "%s/log", tmp);
    snprintf(db, sizeof db, "%s/log.db", dir);
    snprintf(cmd, sizeof cmd, "cp -r '%s' '%s'", tu_src("tests/data/legacy-d514d87/log"), dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(file_version(db), 0);
    snprintf(kpath, sizeof kpath, "%s", tu_src("tests/data/legacy-d514d87/log.key"));
    comity_log *log = NULL;
    TU_OK(comity_log_open(dir, COMITY_LOG_READ, NULL, &log, E));
    uint64_t size = 0;
    TU_OK(comity_log_read_checkpoint(log, NULL, NULL, &size, NULL, E));
    assert_int_equal(size, 3);
    uint8_t *ent = NULL;
    size_t len = 0;
    TU_OK(comity_log_entry(log, 1, &ent, &len, E));
    assert_int_equal(len, 3);
    assert_memory_equal(ent, "two", 3);
    comity_free(ent);
    /* a log.db older than the table `cosigned`: a reader finds none kept,
     * from no size (nothing is known of any index), and fails not */
    uint64_t since = 0;
    TU_OK(cy_log_cosigned(log, 0, 9, 9, 8, &since, no_row, NULL, E));
    assert_true(since == UINT64_MAX);
    comity_log_close(log);
    assert_int_equal(file_version(db), 0); /* a reader reads the files, not log.db */
    comity_nkey *key = NULL;
    TU_OK(comity_nkey_load(kpath, &key, E));
    TU_OK(comity_log_open(dir, COMITY_LOG_WRITE, key, &log, E));
    uint64_t idx = 0;
    TU_OK(comity_log_append(log, "four", 4, 1, &idx, E));
    assert_int_equal(idx, 3);
    TU_OK(comity_log_sync(log, E));
    /* cosigned checkpoints are kept from the size the log had when it
     * began keeping them: nothing says when its first 3 were cosigned */
    TU_OK(cy_log_cosigned(log, 0, 9, 9, 8, &since, no_row, NULL, E));
    assert_int_equal(since, 3);
    comity_log_close(log);
    assert_int_equal(file_version(db), 2);
    /* newer than this build: refused, and left as it is */
    set_file_version(db, 99);
    TU_FAILS(comity_log_open(dir, COMITY_LOG_WRITE, key, &log, E), COMITY_ERR_DB,
             "newer than this build");
    assert_int_equal(file_version(db), 99);
    comity_nkey_free(key);
    tu_rmrf(tmp);
    free(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_sync_to),
        cmocka_unit_test(test_layout_and_audit),
        cmocka_unit_test(test_fork_caught),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_create_checks),
        cmocka_unit_test(test_legacy_log),
        cmocka_unit_test(test_copy_cut),
        cmocka_unit_test(test_replayable_cut_integration),
        cmocka_unit_test(test_replayable_horizon),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
