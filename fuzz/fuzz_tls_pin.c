/*
 * fuzz_tls_pin.c: a peer's TLS key pin (src/sync/tlspin.c,
 * docs/federation.md section 4) on arbitrary bytes: the `--tls-pin`
 * argument's parser, and the reader of DIR/peers.pins given any file.  A
 * pin that parses must be canonical ("sha256//" and 44 base64 digits) and
 * parse again to itself; any file is either refused whole (a malformed
 * line) or every pin read from it is a canonical pin, and a pin kept for
 * an origin is read back as kept.
 */
#define _XOPEN_SOURCE 700 /* nftw, fuzz_tmpdir.h */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_tmpdir.h"
#include "sync/sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *dir = fuzz_tmpdir("tls_pin", NULL); /* removed at exit */
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    char pin[CY_TLS_PIN_BUF], again[CY_TLS_PIN_BUF];
    char path[sizeof fuzz_tmp + 16];
    snprintf(path, sizeof path, "%s/peers.pins", dir);
    if (cy_tls_pin_parse(s, pin, NULL)) {
        /* into a fresh file: one an earlier input left may be refused */
        (void)unlink(path);
        if (strlen(pin) != 52 || strncmp(pin, "sha256//", 8) ||
            !cy_tls_pin_parse(pin, again, NULL) || strcmp(pin, again))
            abort();
        /* kept for an origin, read back as kept */
        if (cy_sync_pin_set(dir, "comity.fuzz.test", pin, NULL) != COMITY_OK ||
            cy_sync_pin_get(dir, "comity.fuzz.test", again, NULL) != COMITY_OK ||
            strcmp(pin, again))
            abort();
    }
    /* any bytes as the pins file: refused (no pin), or a pin read is a
     * canonical one, and the whole file passes the check */
    if (comity_write_file(path, data, size, 0644, 0, NULL) == COMITY_OK) {
        comity_err rc = cy_sync_pin_get(dir, "comity.fuzz.test", again, NULL);
        if (rc != COMITY_OK && again[0])
            abort();
        if (rc == COMITY_OK && again[0] &&
            (!cy_tls_pin_parse(again, pin, NULL) || strcmp(pin, again)))
            abort();
        if ((cy_sync_pins_check(dir, NULL) == COMITY_OK) != (rc == COMITY_OK))
            abort();
    }
    free(s);
    return 0;
}
