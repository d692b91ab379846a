/*
 * fuzz_client_conf.c: the comity command's client.conf parser
 * (cli/config.c, built here on its own) on arbitrary bytes.  Besides not
 * crashing: an accepted file gives values with no surrounding blanks, no
 * line breaks and no NUL, insecure only true or false, relative paths
 * under the file's folder; a setting already given (a flag) is never
 * replaced.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../cli/config.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *val[CLI_CF_N] = {0};
    char flag[] = "https://flag.example";
    val[CLI_CF_URL] = flag; /* as if --url was given */
    char err[512];
    int rc = cli_config_parse("conf.d/client.conf", (const char *)data, size, val, err,
                              sizeof err);
    if (val[CLI_CF_URL] != flag)
        abort();
    val[CLI_CF_URL] = NULL;
    if (rc == 0) {
        for (int k = 0; k < CLI_CF_N; k++) {
            const char *v = val[k];
            if (!v)
                continue;
            size_t n = strlen(v);
            if (n == 0 || v[0] == ' ' || v[0] == '\t' || v[n - 1] == ' ' || v[n - 1] == '\t' ||
                strpbrk(v, "\r\n"))
                abort();
            if (k == CLI_CF_INSECURE && strcmp(v, "true") && strcmp(v, "false"))
                abort();
            if ((k == CLI_CF_KEY || k == CLI_CF_CACERT || k == CLI_CF_KEYS) && v[0] != '/' &&
                strncmp(v, "conf.d/", 7))
                abort();
        }
    } else if (rc == -1 && !err[0]) {
        abort();
    }
    for (int k = 0; k < CLI_CF_N; k++)
        free(val[k]);
    return 0;
}
