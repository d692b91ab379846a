/*
 * fuzz_node_conf.c: the node's framework settings (src/node/node.c):
 * DIR/node.conf text and the durations it and `comity serve --deadline`
 * take.  Besides not crashing: an accepted text sets only positive
 * deadlines within the cap (or leaves them 0), case deadlines and treaties
 * within their counts, and a duration accepted on
 * its own is positive and at most 3650 days.
 */
#include <stdlib.h>
#include <string.h>

#include "node/node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cy_fw_table t;
    memset(&t, 0, sizeof t);
    const int64_t cap = 3650LL * 24 * 3600 * 1000;
    if (cy_fw_conf_parse((const char *)data, size, &t, NULL) == COMITY_OK) {
        for (int k = 0; k < 6; k++)
            if (t.ack_ms[k] < 0 || t.ack_ms[k] > cap || t.answer_ms[k] < 0 ||
                t.answer_ms[k] > cap || (t.ack_ms[k] == 0) != (t.answer_ms[k] == 0))
                abort();
        if (t.pong_ms < 0 || t.pong_ms > cap || t.ncases > CY_FW_CONF_CASES_MAX ||
            t.ntreaties > CY_FW_CONF_TREATIES_MAX)
            abort();
        for (size_t i = 0; i < t.ncases; i++)
            if (t.cases[i].ms <= 0 || t.cases[i].ms > cap)
                abort();
    }
    if (size < 64) {
        char s[64];
        memcpy(s, data, size);
        s[size] = 0;
        int64_t d = cy_fw_duration(s);
        if (d != -1 && (d <= 0 || d > cap))
            abort();
    }
    return 0;
}
