/*
 * files.c: the node's evidence-file endpoints (docs/framework.md,
 * "Evidence files"): HTTP only.  The bytes go to the file store
 * (src/files/), the rule of who may attach and who may fetch is the
 * framework's (comity_framework_file_attach, _visible).
 *
 *   PUT|POST /v1/files/{sha256}?record={id}   body: the age file, raw
 *   PUT|POST /v1/files?case={id}              body: the age file, raw, its
 *                                             SHA-256 in the header or the
 *                                             trailer Comity-Sha256
 *   POST /v1/files/{sha256}/attach?record={id}  no body
 *   GET|HEAD /v1/files/{sha256}               the age file, raw
 *
 * The first form attaches the file to a record that names it, at once.
 * The second lets a client seal and send in one pass, learning the hash
 * only at the end (it comes in a trailer of the chunked body; the size is
 * then capped as the bytes arrive): the uploader must be a party of the
 * case, and the file, kept as "uploaded by" that party, is visible to no
 * one until the third form attaches it to a record (sent meanwhile) by its
 * uploader: having sent the bytes is what a body-less attach requires.
 *
 * An upload is decided on its headers before any of its body is read
 * (serve.c calls cy_upload_begin from on_headers): credentials (401), a
 * hash (400), Content-Length (411 when absent: the size is declared),
 * the cap (413), the framework's rule for attaching the file to the record
 * (404 / 403 / 422).  The body then streams into a temporary of the store
 * as it arrives, in constant memory, and is committed only when its
 * SHA-256 and size are those declared (else 422, nothing kept).  Sending a
 * failed upload again is always safe: an upload is idempotent, and a file
 * already stored is answered 200 instead of 201 (its bytes were still
 * received and hashed: the upload proves the sender holds them).
 *
 * A fetch answers the file from its descriptor (libmicrohttpd sends it
 * with sendfile where it can) to a party of a case one of whose records
 * the file is attached to; anyone else, and a hash not stored, get the
 * same 404, except that a party of a case under which the file was
 * destroyed gets 410 "destroyed on DATE by record ID" (rule retention).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "files/files.h"
#include "node/files.h"

#define CY_FILES_HASH_HEADER "Comity-Sha256"
#define UPLOADED_BY "uploaded-by:"

struct cy_upload {
    cy_files_put *put;
    char hash[CY_FILES_HASH_LEN + 1]; /* "" until declared (a trailer) */
    char record[CY_FILES_REF_MAX + 1]; /* the record, or "uploaded-by:PARTY" */
    char kase[CY_FILES_REF_MAX + 1];   /* the case of a one-pass upload, or "" */
    uint64_t size;
    time_t deadline;
    uint64_t received;
    comity_err rc;        /* the first write error, answered at the end */
    comity_error err;
};

comity_err cy_node_files_start(comity_node *node, const comity_serve_opts *o,
                               comity_error *err)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/files", node->dir) >= sizeof path)
        return cy_fail(err, COMITY_ERR_USAGE, "node: directory path too long");
    return cy_files_open(path, o->max_file, &node->files, err);
}

void cy_node_files_stop(comity_node *node)
{
    cy_files_close(node->files);
    node->files = NULL;
}

bool cy_upload_owns(const cy_req *r)
{
    return (r->nseg == 2 || r->nseg == 3) && !strcmp(r->segs[0], "v1") &&
           !strcmp(r->segs[1], "files") &&
           (!strcmp(r->method, "PUT") || !strcmp(r->method, "POST"));
}

/* A library refusal of the framework as HTTP. */
static void fw_refusal(cy_req *r, cy_resp *w, comity_err rc, const comity_error *e)
{
    unsigned st = rc == COMITY_ERR_NOTFOUND ? 404
                  : rc == COMITY_ERR_DENIED ? 403
                  : rc == COMITY_ERR_INVALID ? 422
                                             : 500;
    cy_resp_rule(r, w, st, st == 500 ? "internal" : "refused", "framework", "%s", e->msg);
}

bool cy_upload_begin(cy_req *r, cy_resp *w, cy_upload **out)
{
    *out = NULL;
    comity_node *node = r->node;
    bool one_pass = r->nseg == 2; /* /v1/files?case=ID */
    const char *hash = one_pass ? cy_req_header(r, CY_FILES_HASH_HEADER) : r->segs[2];
    if (r->anon) {
        cy_resp_rule(r, w, 401, "unauthorized", "authenticated",
                     "uploading a file needs credentials (HTTP Basic with party name and "
                     "token, or 'Authorization: Token ...'); its body was not read");
        return true;
    }
    if (!node->files || !node->fw) {
        cy_resp_rule(r, w, 503, "unavailable", "files", "the file store is not open");
        return true;
    }
    if (hash && !cy_files_hash_valid(hash)) {
        cy_resp_rule(r, w, 400, "bad request", "files",
                     "a file is named by the SHA-256 of its age file: 64 lowercase hex digits");
        return true;
    }
    const char *arg = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
                                                  one_pass ? "case" : "record");
    if (!arg || !*arg || strlen(arg) > CY_FILES_REF_MAX - sizeof UPLOADED_BY) {
        cy_resp_rule(r, w, 400, "bad request", "files",
                     one_pass ? "want ?case=ID: the case the file is for"
                              : "want ?record=ID: the case record that references the file");
        return true;
    }
    const char *cl = cy_req_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
    uint64_t size = CY_FILES_SIZE_UNKNOWN;
    if (cl) {
        char *end = NULL;
        unsigned long long n = strtoull(cl, &end, 10);
        if (end == cl || *end || cl[0] == '-') {
            cy_resp_rule(r, w, 400, "bad request", "files", "Content-Length is not a number");
            return true;
        }
        size = n;
    } else if (!one_pass) {
        cy_resp_rule(r, w, 411, "length required", "files",
                     "an upload to a record declares its size: send Content-Length (not "
                     "chunked)");
        return true;
    }
    if (size != CY_FILES_SIZE_UNKNOWN && size > cy_files_max_size(node->files)) {
        cy_resp_rule(r, w, 413, "request too large", "files",
                     "the file is %llu bytes, over this node's cap on a file of %llu bytes "
                     "(serve --max-file)", (unsigned long long)size,
                     (unsigned long long)cy_files_max_size(node->files));
        return true;
    }
    comity_error e = {0};
    const comity_framework *fw = cy_fw_live_lock(node->fw);
    comity_err rc = one_pass ? comity_framework_file_upload(fw, arg, r->who.name, &e)
                             : comity_framework_file_attach(fw, arg, r->who.name, hash, size, &e);
    cy_fw_live_unlock(node->fw);
    if (rc) {
        fw_refusal(r, w, rc, &e);
        return true;
    }
    cy_upload *u = cy_calloc(1, sizeof *u);
    if (!u) {
        cy_resp_rule(r, w, 500, "internal", "files", "out of memory");
        return true;
    }
    if ((rc = cy_files_put_begin(node->files, hash, size, &u->put, &e))) {
        cy_free(u);
        cy_resp_rule(r, w, rc == COMITY_ERR_TOOBIG ? 413 : 500,
                     rc == COMITY_ERR_TOOBIG ? "request too large" : "internal", "files", "%s",
                     e.msg);
        return true;
    }
    snprintf(u->hash, sizeof u->hash, "%s", hash ? hash : "");
    if (one_pass) {
        snprintf(u->kase, sizeof u->kase, "%s", arg);
        snprintf(u->record, sizeof u->record, UPLOADED_BY "%s", r->who.name);
    } else {
        snprintf(u->record, sizeof u->record, "%s", arg);
    }
    u->size = size;
    u->deadline = time(NULL) + (time_t)node->opts.body_timeout_s +
                  (time_t)((size == CY_FILES_SIZE_UNKNOWN ? cy_files_max_size(node->files)
                                                          : size) /
                           CY_UPLOAD_MIN_RATE);
    *out = u;
    return false;
}

int cy_upload_data(cy_upload *u, const char *data, size_t n)
{
    if (time(NULL) > u->deadline)
        return -1;
    if (!u->rc)
        u->rc = cy_files_put_write(u->put, data, n, &u->err);
    if (!u->rc)
        u->received += n;
    return 0;
}

void cy_upload_abort(cy_upload *u)
{
    if (!u)
        return;
    cy_files_put_abort(u->put);
    cy_free(u);
}

void cy_upload_end(cy_upload *u, cy_req *r, cy_resp *w)
{
    comity_error e = {0};
    bool created = false;
    comity_err rc = u->rc;
    if (!rc && !u->hash[0]) {
        /* a one-pass upload: the hash comes in the trailer */
        const char *h = MHD_lookup_connection_value(r->conn, MHD_FOOTER_KIND,
                                                    CY_FILES_HASH_HEADER);
        if (h && !(rc = cy_files_put_expect(u->put, h, &e)))
            snprintf(u->hash, sizeof u->hash, "%s", h);
    }
    if (rc) {
        cy_files_put_abort(u->put);
        if (u->rc)
            e = u->err;
    } else {
        rc = cy_files_put_commit(u->put, &created, &e);
    }
    u->put = NULL;
    if (!rc)
        rc = cy_files_ref_add(r->node->files, u->hash, u->record, &e);
    if (rc == COMITY_ERR_INVALID)
        cy_resp_rule(r, w, 422, "refused", "files", "%s", e.msg);
    else if (rc == COMITY_ERR_TOOBIG)
        cy_resp_rule(r, w, 413, "request too large", "files", "%s", e.msg);
    else if (rc)
        cy_resp_rule(r, w, 500, "internal", "files", "%s", e.msg);
    else
        cy_resp_json(r, w, created ? 201 : 200, "application/json",
                     json_pack("{s:s, s:I, s:s, s:b}", "sha256", u->hash, "size",
                               (json_int_t)u->received, u->kase[0] ? "case"
                                                                                    : "record",
                               u->kase[0] ? u->kase : u->record, "created", created));
    cy_free(u);
}

/* Collects a file's refs into an array of strings (arena-allocated). */
struct refs_ctx {
    cy_req *r;
    const char **v;
    size_t n, cap;
    bool oom;
};

static int collect_ref(void *ctx, const char *ref)
{
    struct refs_ctx *c = ctx;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        const char **v = cy_arena_alloc(&c->r->arena, cap * sizeof *v);
        if (!v) {
            c->oom = true;
            return 1;
        }
        if (c->n)
            memcpy(v, c->v, c->n * sizeof *v);
        c->v = v;
        c->cap = cap;
    }
    if (!(c->v[c->n] = cy_arena_strdup(&c->r->arena, ref))) {
        c->oom = true;
        return 1;
    }
    c->n++;
    return 0;
}

/* POST /v1/files/{hash}/attach?record=ID: a file this party uploaded in
 * one pass, attached to the record that now names it. */
static void attach(cy_req *r, cy_resp *w)
{
    comity_node *node = r->node;
    const char *hash = r->segs[2];
    if (strcmp(r->method, "POST") != 0) {
        w->allow = "POST";
        cy_resp_error(r, w, false, 405, "method not allowed", "POST attaches a file");
        return;
    }
    if (r->anon) {
        cy_resp_rule(r, w, 401, "unauthorized", "authenticated",
                     "attaching a file needs credentials");
        return;
    }
    const char *record = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "record");
    if (!record || !*record || strlen(record) > CY_FILES_REF_MAX) {
        cy_resp_rule(r, w, 400, "bad request", "files",
                     "want ?record=ID: the case record that references the file");
        return;
    }
    char by[CY_FILES_REF_MAX + 1];
    snprintf(by, sizeof by, UPLOADED_BY "%s", r->who.name);
    bool found = false;
    comity_error e = {0};
    uint64_t size = 0;
    if (!node->files || !node->fw || !cy_files_hash_valid(hash) ||
        cy_files_ref_has(node->files, hash, by, &found, &e) != COMITY_OK || !found ||
        cy_files_stat(node->files, hash, &size, &e) != COMITY_OK) {
        /* the bytes were not sent by this party: it must send them */
        cy_resp_rule(r, w, 404, "not found", "files",
                     "no file %.64s uploaded by you: send it (PUT /v1/files/%.64s?record=ID)",
                     hash, hash);
        return;
    }
    comity_err rc = comity_framework_file_attach(cy_fw_live_lock(node->fw), record,
                                                 r->who.name, hash, size, &e);
    cy_fw_live_unlock(node->fw);
    if (!rc)
        rc = cy_files_ref_add(node->files, hash, record, &e);
    if (rc == COMITY_ERR_NOTFOUND || rc == COMITY_ERR_DENIED || rc == COMITY_ERR_INVALID)
        fw_refusal(r, w, rc, &e);
    else if (rc)
        cy_resp_rule(r, w, 500, "internal", "files", "%s", e.msg);
    else
        cy_resp_json(r, w, 200, "application/json",
                     json_pack("{s:s, s:I, s:s}", "sha256", hash, "size", (json_int_t)size,
                               "record", record));
}

void cy_files_handle(cy_req *r, cy_resp *w)
{
    comity_node *node = r->node;
    if (r->nseg == 4 && !strcmp(r->segs[1], "files") && !strcmp(r->segs[3], "attach")) {
        attach(r, w);
        return;
    }
    if (r->nseg != 3 || strcmp(r->segs[1], "files") != 0) {
        cy_resp_error(r, w, false, 404, "not found", "no such endpoint: %s", r->url);
        return;
    }
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
        w->allow = "GET, HEAD, PUT, POST";
        cy_resp_error(r, w, false, 405, "method not allowed",
                      "GET fetches a file; PUT or POST uploads one");
        return;
    }
    if (r->anon) {
        cy_resp_rule(r, w, 401, "unauthorized", "authenticated",
                     "fetching a file needs credentials");
        return;
    }
    const char *hash = r->segs[2];
    struct refs_ctx c = {.r = r};
    comity_error e = {0};
    bool visible = false;
    if (node->files && node->fw && cy_files_hash_valid(hash) &&
        cy_files_refs(node->files, hash, collect_ref, &c, &e) == COMITY_OK && !c.oom) {
        visible = comity_framework_file_visible(cy_fw_live_lock(node->fw), r->who.name,
                                                c.v, c.n) != 0;
        cy_fw_live_unlock(node->fw);
    }
    int fd = -1;
    uint64_t size = 0;
    if (!visible || cy_files_open_read(node->files, hash, &fd, &size, &e) != COMITY_OK) {
        /* destroyed under a case the caller is a party of: say when and by
         * which record (retention.c), not "not found" */
        char *gone = NULL;
        if (node->fw && cy_files_hash_valid(hash)) {
            comity_error ge = {0};
            (void)comity_framework_destroyed(cy_fw_live_lock(node->fw), hash, r->who.name,
                                             &gone, &ge);
            cy_fw_live_unlock(node->fw);
        }
        json_t *g = gone ? json_loads(gone, 0, NULL) : NULL;
        comity_free(gone);
        if (g) {
            /* the description, and the same facts as fields for a client
             * to say in its words (the web UI): when, which record, which
             * case, and whether the node's retention job (its custodian)
             * destroyed it */
            const char *when = json_string_value(json_object_get(g, "destroyed"));
            const char *rec = json_string_value(json_object_get(g, "record"));
            const char *kase = json_string_value(json_object_get(g, "case"));
            char desc[512];
            snprintf(desc, sizeof desc, "file %.64s was destroyed on %s by record %s (case %s)",
                     hash, when ? when : "?", rec ? rec : "?", kase ? kase : "?");
            cy_resp_json(r, w, 410, "application/json",
                         json_pack("{s:s, s:s, s:s, s:i, s:s?, s:s?, s:s?, s:b}", "error", "gone",
                                   "rule", "retention", "description", desc, "status", 410,
                                   "destroyed", when, "record", rec, "case", kase,
                                   "by_retention",
                                   json_is_true(json_object_get(g, "custodian"))));
            json_decref(g);
            return;
        }
        /* one answer for a hash not stored and a file not visible to you */
        cy_resp_rule(r, w, 404, "not found", "framework", "no file %.64s visible to you",
                     hash);
        return;
    }
    w->status = 200;
    w->ctype = "application/octet-stream";
    w->fd = fd;
    w->fd_size = size;
    w->has_fd = true;
}
