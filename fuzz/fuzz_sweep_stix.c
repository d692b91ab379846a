/*
 * fuzz_sweep_stix.c: indicators into the sweep: a bundle (or a plain list,
 * when the input does not start with '{') is compiled, then the input itself
 * is swept as a log against what was compiled.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    comity_sweep *sw = NULL;
    if (comity_sweep_new(&sw, NULL) != COMITY_OK)
        return 0;
    comity_err rc;
    if (size && data[0] == '{')
        rc = comity_sweep_add_stix(sw, (const char *)data, size, "fuzz", NULL, NULL);
    else
        rc = comity_sweep_add_list(sw, "domain", (const char *)data, size, "fuzz", NULL);
    if (rc == COMITY_OK) {
        FILE *out = fopen("/dev/null", "w");
        if (out && comity_sweep_compile(sw, NULL) == COMITY_OK) {
            /* sweep an in-memory copy written to a temporary file */
            char path[] = "/tmp/fuzz-sweep-XXXXXX";
            int fd = mkstemp(path);
            if (fd >= 0) {
                FILE *f = fdopen(fd, "w");
                if (f) {
                    fwrite(data, 1, size, f);
                    fclose(f);
                    const char *paths[] = {path};
                    comity_sweep_opts o = {.threads = 1, .format = COMITY_SWEEP_STIX, .out = out};
                    (void)comity_sweep_run(sw, paths, 1, &o, NULL, NULL);
                }
                remove(path);
            }
        }
        if (out)
            fclose(out);
    }
    comity_sweep_free(sw);
    return 0;
}
