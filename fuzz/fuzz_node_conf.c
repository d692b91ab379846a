/*
 * fuzz_node_conf.c: the node's framework settings (src/node/node.c):
 * DIR/node.conf text and the durations it and `comity serve --deadline`
 * take.  Besides not crashing: an accepted text sets only positive
 * deadlines within the cap (or leaves them 0), case deadlines and treaties
 * within their counts, retention periods the library takes and a party
 * name as custodian, and a duration accepted on its own is positive and
 * at most 3650 days.  The connection settings of the same text
 * (max_per_ip, header_timeout, allow_many: conns.c's address blocks): an
 * accepted text gives a cap and a deadline within bounds, and at most
 * CY_ALLOW_MAX blocks, none with a bit set past its prefix.  The mail
 * settings (alerts.c): an accepted text gives a relay URL that is empty
 * or smtp(s)://, a sender address the alerts accept whenever a relay is
 * set, a TLS mode of 0-2 and an interval of 1 s to 1 day.
 */
#include <stdlib.h>
#include <string.h>

#include "node/alerts.h"
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
        /* retention: periods the library takes, a party as custodian */
        comity_framework *fw = NULL;
        if (comity_framework_new(&fw, NULL))
            abort();
        for (size_t k = 0; k < CY_FW_CONF_KINDS; k++)
            if (t.retention[k][0] &&
                comity_framework_set_retention(fw, cy_fw_retention_kinds[k], t.retention[k],
                                               NULL))
                abort();
        comity_framework_free(fw);
        if ((t.custodian[0] && !comity_party_valid(t.custodian, NULL)) ||
            t.retention_every_ms < 0 || t.retention_every_ms > cap)
            abort();
    }
    cy_conn_limits l;
    memset(&l, 0, sizeof l);
    if (cy_conn_conf_parse((const char *)data, size, &l, NULL) == COMITY_OK) {
        if (l.max_per_ip > 100000 || l.header_timeout_s > CY_HEADER_TIMEOUT_MAX ||
            l.nallow > CY_ALLOW_MAX)
            abort();
        for (size_t i = 0; i < l.nallow; i++) {
            if (l.allow[i].bits > 128)
                abort();
            for (unsigned b = l.allow[i].bits; b < 128; b++)
                if (l.allow[i].a[b / 8] & (0x80 >> (b % 8)))
                    abort(); /* a bit past the prefix: refused by the parser */
        }
    }
    cy_smtp_conf m;
    if (cy_smtp_conf_parse((const char *)data, size, &m, NULL) == COMITY_OK) {
        if ((m.url[0] && strncmp(m.url, "smtp://", 7) && strncmp(m.url, "smtps://", 8)) ||
            (m.url[0] && !cy_alert_email_valid(m.from)) || m.tls < 0 || m.tls > 2 ||
            m.interval_ms < 1000 || m.interval_ms > 24 * 3600 * 1000LL)
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
