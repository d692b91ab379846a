/*
 * enrol_api.h: the hooks serve.c calls for registration requests
 * (enrol_api.c; private to src/node/; the rules are enrol.c's).
 */
#ifndef COMITY_NODE_ENROL_API_H
#define COMITY_NODE_ENROL_API_H

#include "node/req.h"

/* /v1/registrations... (route_v1 in serve.c). */
bool cy_enrol_owns(const cy_req *r);
void cy_enrol_handle(cy_req *r, cy_resp *w);
/* Whether r is a newcomer's request (POST /v1/registrations), which takes
 * a body without credentials (serve.c caps it at CY_ENROL_BODY_MAX). */
bool cy_enrol_open_door(const cy_req *r);

#endif
