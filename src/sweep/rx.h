/*
 * rx.h: LIKE and MATCHES through vectorscan (private; see rx.c).
 */
#ifndef COMITY_SWEEP_RX_H
#define COMITY_SWEEP_RX_H

#include "sweep/sweep.h"

typedef struct cy_sw_rx cy_sw_rx;

/* Adds an expression (LIKE text when `like`, else a PCRE regex) for `path`
 * whose matches are reported as hits of `entry`; creates *rx on first use.
 * Fails with COMITY_ERR_INVALID and vectorscan's message when vectorscan
 * cannot compile it. */
comity_err cy_sw_rx_add(cy_sw_rx **rx, int path, const char *val, size_t len,
                        bool like, uint32_t entry, comity_error *err);
/* Compiles one database per path (hs_compile_multi). */
comity_err cy_sw_rx_build(cy_sw_rx *rx, comity_error *err);
bool cy_sw_rx_has(const cy_sw_rx *rx, int path);
/* Entries whose expression matches v (thread-safe after build). */
size_t cy_sw_rx_match(const cy_sw_rx *rx, int path, const char *v, size_t len,
                      cy_sw_found *out, size_t cap);
/* Frees the calling thread's scratch space (other threads: at exit). */
void cy_sw_rx_thread_done(void);
void cy_sw_rx_free(cy_sw_rx *rx);

#endif
