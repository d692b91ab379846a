/*
 * time.c: RFC 3339 timestamps and the clock.
 *
 * comity writes times as "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC, milliseconds) and
 * reads them strictly in that form for records; STIX timestamps may carry
 * any fraction and, when reading others' data, an offset.  Calendar
 * arithmetic is done by hand (days from civil) so that it does not depend on
 * the process time zone; no time zone database is consulted.
 *
 * For tests and demos, COMITY_FAKE_NOW=<RFC 3339> pins the clock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/base.h"

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t yy = (int64_t)yoe + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}

int64_t cy_now_ms(void)
{
    const char *fake = getenv("COMITY_FAKE_NOW");
    if (fake && *fake) {
        int64_t ms;
        if (cy_time_parse(fake, strlen(fake), false, &ms, NULL) == COMITY_OK)
            return ms;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cy_time_format_ms(char out[CY_TIME_BUF], int64_t ms)
{
    int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    int milli = (int)(ms - secs * 1000);
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t rem = secs - days * 86400;
    int y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999)
        y = y < 0 ? 0 : 9999;
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", y, m % 13,
             d % 32, (int)(rem / 3600) % 24, (int)(rem / 60 % 60),
             (int)(rem % 60), milli % 1000);
    memcpy(out, tmp, CY_TIME_BUF - 1);
    out[CY_TIME_BUF - 1] = 0;
}

static int digits(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

comity_err cy_time_parse(const char *s, size_t len, bool strict_ms,
                         int64_t *out, comity_error *err)
{
    /* YYYY-MM-DDTHH:MM:SS */
    if (len < 20)
        return cy_fail(err, COMITY_ERR_INVALID, "not RFC 3339: too short (%zu bytes)", len);
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    for (size_t i = 0; i < 19; i++) {
        char c = s[i];
        bool ok = shape[i] == 'd' ? (c >= '0' && c <= '9')
                                  : (c == shape[i] || (i == 10 && !strict_ms && c == 't'));
        if (!ok)
            return cy_fail(err, COMITY_ERR_INVALID, "not RFC 3339 at byte %zu", i);
    }
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
    int h = digits(s + 11, 2), mi = digits(s + 14, 2), se = digits(s + 17, 2);
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12)
        return cy_fail(err, COMITY_ERR_INVALID, "not RFC 3339: month at byte 5");
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap))
        return cy_fail(err, COMITY_ERR_INVALID, "not RFC 3339: day at byte 8");
    if (h > 23)
        return cy_fail(err, COMITY_ERR_INVALID, "not RFC 3339: hour at byte 11");
    if (mi > 59)
        return cy_fail(err, COMITY_ERR_INVALID, "not RFC 3339: minute at byte 14");
    if (se > 60)
        return cy_fail(err, COMITY_ERR_INVALID, "not RFC 3339: second at byte 17");
    if (se == 60)
        se = 59; /* leap second: clamp, as most systems do */
    size_t i = 19;
    int ms = 0;
    if (i < len && s[i] == '.') {
        size_t start = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        size_t nd = i - start;
        if (nd == 0)
            return cy_fail(err, COMITY_ERR_INVALID, "not RFC 3339: empty fraction at byte %zu", start);
        if (strict_ms && nd != 3)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "not millisecond precision at byte %zu (want 3 digits)", start);
        for (size_t k = 0; k < 3; k++)
            ms = ms * 10 + (k < nd ? s[start + k] - '0' : 0);
    } else if (strict_ms) {
        return cy_fail(err, COMITY_ERR_INVALID,
                       "not millisecond precision at byte 19 (want .mmm)");
    }
    int64_t offset_min = 0;
    if (i < len && (s[i] == 'Z' || (!strict_ms && s[i] == 'z'))) {
        i++;
    } else if (!strict_ms && i + 6 == len && (s[i] == '+' || s[i] == '-') &&
               s[i + 3] == ':') {
        int oh = digits(s + i + 1, 2), om = digits(s + i + 4, 2);
        if (oh < 0 || om < 0 || oh > 23 || om > 59)
            return cy_fail(err, COMITY_ERR_INVALID, "not RFC 3339: offset at byte %zu", i);
        offset_min = (int64_t)(oh * 60 + om) * (s[i] == '+' ? 1 : -1);
        i += 6;
    } else {
        return cy_fail(err, COMITY_ERR_INVALID,
                       strict_ms ? "not UTC at byte %zu (want Z)"
                                 : "not RFC 3339: want Z or offset at byte %zu",
                       i);
    }
    if (i != len)
        return cy_fail(err, COMITY_ERR_INVALID, "not RFC 3339: trailing data at byte %zu", i);
    int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - offset_min * 60;
    *out = secs * 1000 + ms;
    return COMITY_OK;
}

/* ---- public ------------------------------------------------------------ */

int64_t comity_now_ms(void) { return cy_now_ms(); }

void comity_time_format(char out[COMITY_TIME_BUF], int64_t ms)
{
    cy_time_format_ms(out, ms);
}

comity_err comity_time_parse(const char *s, int64_t *ms, comity_error *err)
{
    if (!s)
        return cy_fail(err, COMITY_ERR_USAGE, "no time given");
    comity_err rc = cy_time_parse(s, strlen(s), false, ms, err);
    return rc ? cy_wrap(err, "'%.40s'", s) : COMITY_OK;
}
_Static_assert(CY_TIME_BUF == COMITY_TIME_BUF, "one size for a formatted time");
