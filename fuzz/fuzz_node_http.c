/*
 * fuzz_node_http.c: libFuzzer target for the whole HTTP front of a node:
 * each input is written as raw bytes to a real node (plain HTTP, loopback,
 * in this process) and the answer read back.  It reaches libmicrohttpd's
 * request parsing, our path splitting and decoding, Basic/Token
 * authentication, the Accept/Content-Type checks, TAXII query parameters
 * and `next` tokens, and POST bodies through JSON and STIX checks into the
 * store.  The node is made once (LLVMFuzzerInitialize) with a body cap of
 * 64 KiB; the seed corpus holds requests for every endpoint.  Its origin is
 * fixed, so its collection ids are too (name-based); the operator's token
 * is random, so an input's "@T@" is replaced by it before sending, which
 * lets the fuzzer reach the authenticated paths.  The node also serves a
 * web directory (one index.html), so the static files, the login
 * challenge, session cookies and CSRF checks are reached too.
 */
#define _XOPEN_SOURCE 700 /* nftw, fuzz_tmpdir.h */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "comity.h"
#include "fuzz_tmpdir.h"

static comity_node *node;
static unsigned port;
static char *token;

/* At exit, before the directory goes: the node stops (its threads) and
 * closes its store; the token is freed. */
static void close_node(void)
{
    comity_node_close(node);
    node = NULL;
    comity_free(token);
    token = NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *dir = fuzz_tmpdir("node", close_node); /* removed at exit */
    char path[256];
    snprintf(path, sizeof path, "%s/n", dir);
    comity_node_init_opts o = {.origin = "fuzz.example", .no_tls_cert = 1};
    comity_node_created c;
    comity_error e = {0};
    if (comity_node_init(path, &o, &c, &e) || comity_node_open(path, &node, &e)) {
        fprintf(stderr, "fuzz_node_http: %s\n", e.msg);
        abort();
    }
    comity_node_created_free(&c);
    static char web[300];
    snprintf(web, sizeof web, "%s/web", dir);
    char idx[320];
    snprintf(idx, sizeof idx, "%s/index.html", web);
    FILE *f = NULL;
    if (mkdir(web, 0755) != 0 || !(f = fopen(idx, "w")))
        abort();
    fputs("<!doctype html><title>fuzz</title>\n", f);
    fclose(f);
    if (comity_node_party_token(node, "operator", &token, &e)) {
        fprintf(stderr, "fuzz_node_http: %s\n", e.msg);
        abort();
    }
    comity_serve_opts so;
    comity_serve_opts_default(&so);
    so.listen = "127.0.0.1:0";
    so.insecure_http = 1;
    so.max_body = 64 * 1024;
    so.timeout_s = 2;
    so.max_per_ip = 1000;
    so.web_dir = web;
    if (comity_node_start(node, &so, &e)) {
        fprintf(stderr, "fuzz_node_http: %s\n", e.msg);
        abort();
    }
    port = comity_node_port(node);
    return 0;
}

/* The input with every "@T@" replaced by the operator token (malloc'd). */
static uint8_t *with_token(const uint8_t *data, size_t size, size_t *out_len)
{
    size_t tl = strlen(token), cap = size + 1, n = 0;
    for (size_t i = 0; i + 3 <= size; i++)
        if (!memcmp(data + i, "@T@", 3))
            cap += tl;
    uint8_t *b = malloc(cap);
    if (!b)
        abort();
    for (size_t i = 0; i < size;) {
        if (i + 3 <= size && !memcmp(data + i, "@T@", 3)) {
            memcpy(b + n, token, tl);
            n += tl;
            i += 3;
        } else {
            b[n++] = data[i++];
        }
    }
    *out_len = n;
    return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *raw, size_t raw_size)
{
    size_t size;
    uint8_t *data = with_token(raw, raw_size, &size);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        free(data);
        return 0;
    }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
        size_t off = 0;
        while (off < size) {
            ssize_t n = send(fd, data + off, size - off, MSG_NOSIGNAL);
            if (n <= 0)
                break;
            off += (size_t)n;
        }
        shutdown(fd, SHUT_WR);
        char buf[65536];
        struct pollfd p = {.fd = fd, .events = POLLIN};
        /* wait for the answer, then only briefly for more of it (the
         * server may keep the connection open after a half-close) */
        int wait_ms = 500;
        while (poll(&p, 1, wait_ms) > 0 && recv(fd, buf, sizeof buf, 0) > 0)
            wait_ms = 20;
    }
    close(fd);
    free(data);
    return 0;
}
