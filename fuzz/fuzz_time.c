/*
 * fuzz_time.c: comity_time_parse, the one RFC 3339 reader of the library
 * and the command, on arbitrary bytes.  Besides not crashing: an accepted
 * time is a real calendar date of a four-digit year, and formatting it and
 * reading it back gives the same instant (to the millisecond it keeps).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "comity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char s[64];
    if (size >= sizeof s)
        return 0;
    memcpy(s, data, size);
    s[size] = 0;
    int64_t ms, back;
    if (comity_time_parse(s, &ms, NULL) != COMITY_OK)
        return 0;
    if (s[0] < '0' || s[0] > '9')
        abort(); /* no sign, no blank before the year */
    char out[COMITY_TIME_BUF];
    comity_time_format(out, ms);
    /* an offset can move an instant out of 0000..9999, which the format clamps */
    if (ms < -62167219200000LL || ms >= 253402300800000LL)
        return 0;
    if (comity_time_parse(out, &back, NULL) != COMITY_OK || back != ms)
        abort();
    return 0;
}
