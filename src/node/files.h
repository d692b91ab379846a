/*
 * files.h: the node's evidence-file endpoints (files.c): a streamed upload
 * of a sealed file, taken by serve.c chunk by chunk as it arrives, and a
 * streamed fetch.  Private to src/node/.
 */
#ifndef COMITY_NODE_FILES_H
#define COMITY_NODE_FILES_H

#include "node/req.h"

/* The slowest a file upload may arrive on average before the connection
 * is dropped: it gets the node's body timeout plus its size at this rate. */
#define CY_UPLOAD_MIN_RATE (256u * 1024) /* bytes per second */

typedef struct cy_upload cy_upload;

/* Whether the request (path split) is an upload: PUT or POST /v1/files/X. */
bool cy_upload_owns(const cy_req *r);
/* On the headers alone, before any of the body is read: authenticates,
 * checks the declared hash and size, the cap, and the framework's rule
 * for attaching the file to the record named; opens the store's writer.
 * true: w holds the answer (a refusal), to send without reading the body.
 * false: OUT *out, to be fed with cy_upload_data and ended with
 * cy_upload_end or cy_upload_abort. */
bool cy_upload_begin(cy_req *r, cy_resp *w, cy_upload **out);
/* n more bytes of the body.  -1: drop the connection (the upload is
 * slower than CY_UPLOAD_MIN_RATE allows). */
int cy_upload_data(cy_upload *u, const char *data, size_t n);
/* The whole body is in: commits (hash and size checked), records the
 * attachment, answers in w.  Frees u. */
void cy_upload_end(cy_upload *u, cy_req *r, cy_resp *w);
/* Drops an upload that did not finish (NULL: no-op); nothing is kept. */
void cy_upload_abort(cy_upload *u);

/* GET or HEAD /v1/files/X: the file, streamed, to a party of a case one of
 * whose records it is attached to; everyone else gets the answer an
 * unknown hash gets. */
void cy_files_handle(cy_req *r, cy_resp *w);

/* Opens DIR/files (sweeping what a crash left) with the cap of o; closes. */
comity_err cy_node_files_start(comity_node *node, const comity_serve_opts *o,
                               comity_error *err);
void cy_node_files_stop(comity_node *node);

#endif
