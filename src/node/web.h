/*
 * web.h: the hooks serve.c calls for the browser UI's files (web.c;
 * private to src/node/): the UI's static files at / (from opts.web_dir)
 * and the security headers every answer carries (Content-Security-Policy...).
 * Logins are session.h's.
 */
#ifndef COMITY_NODE_WEB_H
#define COMITY_NODE_WEB_H

#include "node/req.h"

/* Caps of web.c. */
#define CY_WEB_FILE_MAX (8u << 20) /* bytes of one static file */
#define CY_WEB_SEG_MAX 128         /* bytes of one path segment */

/* The UI's static files: true for a GET or HEAD that is not under /v1/,
 * /log/ or /witness/, when the node serves a web directory.  The router
 * asks TAXII first (cy_taxii_owns), so TAXII paths never come here. */
bool cy_web_owns(cy_req *r);
void cy_web_handle(cy_req *r, cy_resp *w);

/* Adds the headers every answer carries (CSP, framing, referrer, the
 * session cookie when set); `resp` is a struct MHD_Response. */
void cy_web_headers(cy_req *r, cy_resp *w, void *resp);

#endif
