/*
 * session.h: the hooks serve.c calls for browser logins (session.c;
 * private to src/node/): login by a challenge the party signs with its own
 * key, the session cookie and its CSRF token, logout, and the parties'
 * public keys (GET /v1/parties) a browser needs to seal.
 *
 * A session yields exactly the principal a token yields (the store's row
 * for the party), so every /v1/ handler serves a browser unchanged.
 */
#ifndef COMITY_NODE_SESSION_H
#define COMITY_NODE_SESSION_H

#include "node/req.h"

/* Caps of session.c (docs/ui.md). */
#define CY_SESSIONS_MAX 4096            /* live sessions at once */
#define CY_CHALLENGES_MAX 1024          /* login challenges not yet used */
#define CY_CHALLENGE_TTL_MS (120 * 1000) /* a challenge is good for 2 minutes */
#define CY_SESSION_TTL_MS (8ll * 3600 * 1000) /* a session lasts 8 hours */
#define CY_SESSION_COOKIE "comity_session"
#define CY_CSRF_HEADER "X-CSRF-Token"
/* The header the UI's own scripts send on every request. */
#define CY_UI_HEADER "X-Comity-UI"

#define CY_SESSION_BODY_MAX (16u << 10) /* bytes of an anonymous login post */

/* Session and challenge tables: made at comity_node_start, freed at stop. */
comity_err cy_session_start(comity_node *node, comity_error *err);
void cy_session_stop(comity_node *node);

/* Called by authenticate() (serve.c) when the request has no Authorization
 * header.  No session cookie, or one that names no live session: 0 and
 * the request stays anonymous.  A live session: fills r->who from the
 * store (as the token check does) and returns 0; but a request other than
 * GET or HEAD must also carry the session's CSRF token in X-CSRF-Token,
 * else -1 (answer 401). */
int cy_session_auth(cy_req *r);

/* Whether the request comes from a browser session (the UI header or a
 * session cookie): its 401s then get no WWW-Authenticate, since a browser
 * would answer that with a password dialog (or, headless, wait forever). */
bool cy_session_browser(cy_req *r);

/* Whether r is a login step (a POST under /v1/session), the one request
 * besides the witness's that takes a body without credentials (serve.c's
 * on_headers caps it at CY_SESSION_BODY_MAX). */
bool cy_session_login(const cy_req *r);

/* /v1/session... and /v1/parties (route_v1 in serve.c). */
bool cy_session_owns(cy_req *r);
void cy_session_handle(cy_req *r, cy_resp *w);

#endif
