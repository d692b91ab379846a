/*
 * refs_scan.h: a record's `refs` read from its envelope without parsing
 * the record (refs_scan.c).
 *
 * The framework's fold (src/framework/live.c) orders the records of one
 * millisecond by their refs before it folds any of them, so it needs each
 * record's refs first and the whole record only at its turn.  The full
 * parser (comity_record_parse) checks every rule of specs/records.md and
 * allocates the record; this scanner reads only what names the refs: the
 * envelope's `payload`, base64-decoded into a buffer it reuses, and the
 * payload's top-level `refs` member, skipping every other value.
 *
 * The contract, checked by tests/test_record.c (test_refs_scan_matches)
 * and fuzz/fuzz_refs_scan.c: when the scanner answers COMITY_OK and
 * comity_record_parse accepts the same bytes, the refs are the parser's,
 * in its order.  The scanner is strict where it reads: anything it does
 * not read plainly (an escape in a key, in the payload or in a ref, a key
 * `refs` twice, a ref that is not a record id, a repeated ref, more than
 * COMITY_RECORD_MAX_REFS, an envelope over COMITY_DSSE_MAX, a payload over
 * COMITY_RECORD_MAX, a structure it cannot follow) is COMITY_ERR_INVALID,
 * and the caller then asks the full parser.  It checks neither the
 * signature nor the other fields: a record the parser refuses may scan
 * (the fold parses every record at its turn, and a record that does not
 * parse has no effect).
 */
#ifndef COMITY_RECORD_REFS_SCAN_H
#define COMITY_RECORD_REFS_SCAN_H

#include "base/base.h"

/* The scanner's state: the decoded payload (reused from call to call) and
 * the refs of the last scan, NUL-terminated strings in that buffer. */
typedef struct cy_refs_scan {
    uint8_t *buf; /* owned (cy_refs_scan_clear) */
    size_t cap;
    const char *refs[COMITY_RECORD_MAX_REFS];
    size_t n;
} cy_refs_scan;

/* Reads the refs of the record in envelope[0..len) into s->refs[0..s->n)
 * (valid until the next scan or cy_refs_scan_clear; none when the record
 * has no `refs`).  May grow s->buf (COMITY_ERR_NOMEM).  COMITY_ERR_INVALID
 * when the scanner cannot say (see the top): ask comity_record_parse. */
comity_err cy_refs_scan_envelope(cy_refs_scan *s, const char *envelope, size_t len);

/* Frees the scanner's buffer; s may be scanned with again. */
void cy_refs_scan_clear(cy_refs_scan *s);

#endif
