/*
 * web.c: the browser UI's static files, served at / from a directory
 * (opts.web_dir: the files built from web/, installed beside the binary or
 * named by `comity serve --web DIR`), and the security headers of every
 * answer the node gives.
 *
 * Only GET and HEAD of paths outside /v1/, /log/, /witness/, /metrics,
 * /federation/ and TAXII come here.  "/" is index.html.  A path maps to
 * a file only if every segment is 1-CY_WEB_SEG_MAX bytes of [A-Za-z0-9._-]
 * not starting with '.' (so no
 * "..", no hidden files, no encoded slashes: the router has already
 * decoded and split the path) and the last one has an extension of the
 * table below (which gives the Content-Type; anything else is 404).  The
 * file is opened relative to the web directory with O_NOFOLLOW, must be a
 * regular file of at most CY_WEB_FILE_MAX bytes, and is read whole.
 * Nothing is cached by the node: the files are small and the page cache
 * holds them; browsers revalidate (Cache-Control: no-cache).
 *
 * Headers on every answer (static or API): a Content-Security-Policy that
 * allows only this origin's scripts, styles, images and connections, no
 * inline script, no eval, no framing, no plugins; Referrer-Policy
 * no-referrer; X-Frame-Options DENY; Cross-Origin-Opener-Policy and
 * -Resource-Policy same-origin; over TLS, Strict-Transport-Security for a
 * year (RFC 6797: a browser that reached the node once over HTTPS does not
 * fall back to plain HTTP, where a login token could be read; not
 * includeSubDomains, since other services may share the node's domain).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

#include "node/web.h"

#define CSP                                                                                \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "     \
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "           \
    "form-action 'self'; frame-ancestors 'none'"

static const struct {
    const char *ext, *ctype;
} TYPES[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".map", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".txt", "text/plain; charset=utf-8"},
    {".woff2", "font/woff2"},
};

bool cy_web_owns(cy_req *r)
{
    if (!r->node->web_dir || (strcmp(r->method, "GET") && strcmp(r->method, "HEAD")))
        return false;
    if (r->nseg == 0)
        return true;
    const char *s = r->segs[0];
    /* the router asked TAXII, /metrics and the federation first (serve.c) */
    return strcmp(s, "v1") && strcmp(s, "log") && strcmp(s, "witness");
}

static bool seg_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > CY_WEB_SEG_MAX || s[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static const char *ctype_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot)
        return NULL;
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
        if (!strcmp(dot, TYPES[i].ext))
            return TYPES[i].ctype;
    return NULL;
}

/* Reads the regular file `rel` under `dir` into w->body.  0 or an HTTP
 * status (404, 500). */
static unsigned read_file(const char *dir, const char *rel, cy_resp *w)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return 404;
    int fd = openat(dfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    close(dfd);
    if (fd < 0)
        return 404;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > CY_WEB_FILE_MAX) {
        close(fd);
        return 404;
    }
    cy_buf_reset(&w->body);
    unsigned status = 0;
    uint8_t chunk[16384];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            status = 500;
            break;
        }
        if (n == 0)
            break;
        if (w->body.len + (size_t)n > CY_WEB_FILE_MAX ||
            cy_buf_append(&w->body, chunk, (size_t)n)) {
            status = 500;
            break;
        }
    }
    close(fd);
    return status;
}

void cy_web_handle(cy_req *r, cy_resp *w)
{
    char rel[CY_PATH_SEGS * (CY_WEB_SEG_MAX + 1) + 16];
    size_t off = 0;
    if (r->nseg == 0) {
        snprintf(rel, sizeof rel, "index.html");
    } else {
        rel[0] = 0;
        for (size_t i = 0; i < r->nseg; i++) {
            if (!seg_ok(r->segs[i])) {
                cy_resp_error(r, w, false, 404, "not found", "no such file");
                return;
            }
            off += (size_t)snprintf(rel + off, sizeof rel - off, "%s%s", i ? "/" : "",
                                    r->segs[i]);
        }
    }
    const char *ct = ctype_of(rel);
    if (!ct) {
        cy_resp_error(r, w, false, 404, "not found", "no such file");
        return;
    }
    unsigned st = read_file(r->node->web_dir, rel, w);
    if (st) {
        cy_resp_error(r, w, false, st, st == 404 ? "not found" : "read error",
                      st == 404 ? "no such file" : "cannot read the file");
        return;
    }
    w->status = 200;
    w->ctype = ct;
    w->cache = "no-cache";
}

void cy_web_headers(cy_req *r, cy_resp *w, void *resp)
{
    struct MHD_Response *m = resp;
    MHD_add_response_header(m, "Content-Security-Policy", CSP);
    MHD_add_response_header(m, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(m, "X-Frame-Options", "DENY");
    MHD_add_response_header(m, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(m, "Cross-Origin-Resource-Policy", "same-origin");
    if (r->node->tls)
        MHD_add_response_header(m, "Strict-Transport-Security", "max-age=31536000");
    if (w->set_cookie)
        MHD_add_response_header(m, MHD_HTTP_HEADER_SET_COOKIE, w->set_cookie);
}
