/* node.c: see node.h. */
#include "util/node.h"

void tu_node_make(const char *dir, const char *origin, const char *store, comity_node **node,
                  char *optoken, size_t cap)
{
    comity_node_init_opts o = {.origin = origin, .no_tls_cert = 1, .store = store};
    comity_node_created made;
    comity_error e = {0};
    if (comity_node_init(dir, &o, &made, &e))
        fail_msg("making the node %s: %s", dir, e.msg);
    snprintf(optoken, cap, "%s", made.operator_token);
    comity_node_created_free(&made);
    if (comity_node_open(dir, node, &e))
        fail_msg("opening the node %s: %s", dir, e.msg);
}

void tu_serve_opts(comity_serve_opts *so)
{
    comity_serve_opts_default(so);
    so->listen = "127.0.0.1:0";
    so->insecure_http = 1;
}

void tu_node_serve(comity_node *node, const comity_serve_opts *so, char *base, size_t cap)
{
    comity_serve_opts d;
    if (!so) {
        tu_serve_opts(&d);
        so = &d;
    }
    comity_error e = {0};
    if (comity_node_start(node, so, &e))
        fail_msg("starting the node: %s", e.msg);
    snprintf(base, cap, "http://127.0.0.1:%u", comity_node_port(node));
}
