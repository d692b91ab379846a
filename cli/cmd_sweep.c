/*
 * cmd_sweep.c: `comity sweep`: scan logs and artefacts against indicators.
 *
 * A thin client of comity_sweep_*: reads the indicator files (STIX bundles,
 * or plain lists after --type), passes the field maps and paths through,
 * and turns the result into the exit status the issue fixes: 0 no hit,
 * 1 hits, 2 any error (usage, unreadable input, bad indicators).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static int fail(const comity_error *e)
{
    (void)cli_error("sweep", e);
    return CLI_USAGE;
}

int cmd_sweep(int argc, char **argv)
{
    comity_sweep *sw = NULL;
    comity_error e = {0};
    struct cli_list paths = {0};
    comity_sweep_opts o = {.format = COMITY_SWEEP_TEXT, .notes = stderr};
    const char *type = NULL;
    size_t nioc = 0;
    bool quiet = false;
    int status = CLI_USAGE;

    if (comity_sweep_new(&sw, &e) != COMITY_OK)
        return fail(&e);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            status = cli_help("sweep");
            goto done;
        } else if (strcmp(a, "--iocs") == 0 || strcmp(a, "--type") == 0 ||
                   strcmp(a, "--format") == 0 || strcmp(a, "--threads") == 0 ||
                   strcmp(a, "--map") == 0) {
            if (!val) {
                status = cli_usage("sweep", "%s needs a value", a);
                goto done;
            }
            i++;
            if (strcmp(a, "--type") == 0) {
                type = strcmp(val, "stix") == 0 ? NULL : val;
            } else if (strcmp(a, "--format") == 0) {
                if (strcmp(val, "text") == 0)
                    o.format = COMITY_SWEEP_TEXT;
                else if (strcmp(val, "json") == 0 || strcmp(val, "jsonl") == 0)
                    o.format = COMITY_SWEEP_JSONL;
                else if (strcmp(val, "stix") == 0)
                    o.format = COMITY_SWEEP_STIX;
                else {
                    status = cli_usage("sweep", "--format is text, json or stix, not '%s'", val);
                    goto done;
                }
            } else if (strcmp(a, "--threads") == 0) {
                char *end;
                long n = strtol(val, &end, 10);
                if (*end || n < 1 || n > 256) {
                    status = cli_usage("sweep", "--threads wants 1..256, not '%s'", val);
                    goto done;
                }
                o.threads = (int)n;
            } else if (strcmp(a, "--map") == 0) {
                if (comity_sweep_map(sw, val, &e) != COMITY_OK) {
                    status = fail(&e);
                    goto done;
                }
            } else { /* --iocs */
                char *text = NULL;
                size_t len = 0;
                if (comity_read_file(val, 1u << 30, &text, &len, &e) != COMITY_OK) {
                    status = fail(&e);
                    goto done;
                }
                size_t k = 0;
                while (k < len && (text[k] == ' ' || text[k] == '\n' || text[k] == '\t' ||
                                   text[k] == '\r'))
                    k++;
                comity_err rc;
                if (type)
                    rc = comity_sweep_add_list(sw, type, text, len, val, &e);
                else if (k < len && text[k] == '{')
                    rc = comity_sweep_add_stix(sw, text, len, val, NULL, &e);
                else {
                    e.code = rc = COMITY_ERR_USAGE;
                    snprintf(e.msg, sizeof e.msg,
                             "%s is not a STIX bundle; for a plain list say --type "
                             "domain|ip|url|email|md5|sha1|sha256|...", val);
                }
                comity_free(text);
                if (rc != COMITY_OK) {
                    status = fail(&e);
                    goto done;
                }
                nioc++;
            }
        } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            quiet = true;
        } else if (a[0] == '-' && a[1] != 0) {
            status = cli_usage("sweep", "unknown option '%s'", a);
            goto done;
        } else {
            cli_list_add(&paths, argv[i]);
        }
    }
    if (nioc == 0) {
        status = cli_usage("sweep", "give indicators with --iocs FILE");
        goto done;
    }
    if (paths.n == 0) {
        status = cli_usage("sweep", "give files or directories to sweep ('-' for stdin)");
        goto done;
    }
    o.notes = quiet ? NULL : stderr;
    o.progress = !quiet && isatty(2);
    uint64_t hits = 0;
    comity_err rc = comity_sweep_run(sw, (const char *const *)paths.v, paths.n, &o, &hits, &e);
    if (rc != COMITY_OK) {
        cli_finish(0);
        status = fail(&e);
        goto done;
    }
    status = cli_finish(hits ? CLI_NO : CLI_OK);
    if (status == CLI_FAIL)
        status = CLI_USAGE;
done:
    cli_list_free(&paths);
    comity_sweep_free(sw);
    return status;
}
