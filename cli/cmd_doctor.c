/*
 * cmd_doctor.c: `comity doctor DIR`, `comity backup DIR OUT` and
 * `comity restore BACKUP DIR [--store URI]`: the operator's tools, thin
 * clients of comity_node_doctor, comity_node_backup and
 * comity_node_restore (docs/operations.md).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void print_finding(void *ctx, const comity_finding *f)
{
    static const char *const label[] = {"ok", "note", "WARN", "PROBLEM"};
    int *quiet = ctx;
    if (*quiet && f->level == COMITY_FINDING_OK)
        return;
    printf("%-7s %-7s %s\n", label[f->level & 3], f->check, f->what);
    if (f->todo && *f->todo)
        printf("%-15s do: %s\n", "", f->todo);
}

int cmd_doctor(int argc, char **argv)
{
    const char *dir = NULL;
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return cli_help("doctor");
        if (!strcmp(argv[i], "--quiet"))
            quiet = 1;
        else if (argv[i][0] == '-')
            return cli_usage("doctor", "unknown option %s", argv[i]);
        else if (!dir)
            dir = argv[i];
        else
            return cli_usage("doctor", "one directory only");
    }
    if (!dir)
        return cli_usage("doctor", "no directory given");
    unsigned problems = 0;
    comity_error e = {0};
    if (comity_node_doctor(dir, print_finding, &quiet, &problems, &e))
        return cli_error("doctor", &e);
    if (problems)
        printf("%u problem(s): see 'do:' above\n", problems);
    else
        printf("no problems found\n");
    return cli_finish(problems ? CLI_NO : CLI_OK);
}

static void print_report(const char *verb, const comity_backup_report *r)
{
    printf("%s %s (store: %s): %llu files, %llu bytes, log size %llu\n", verb, r->origin,
           r->store, (unsigned long long)r->files, (unsigned long long)r->bytes,
           (unsigned long long)r->log_size);
}

int cmd_backup(int argc, char **argv)
{
    const char *a[2] = {NULL, NULL};
    int n = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return cli_help("backup");
        if (argv[i][0] == '-')
            return cli_usage("backup", "unknown option %s", argv[i]);
        if (n == 2)
            return cli_usage("backup", "two arguments: DIR OUT");
        a[n++] = argv[i];
    }
    if (n != 2)
        return cli_usage("backup", "two arguments: DIR OUT");
    comity_backup_report r;
    comity_error e = {0};
    if (comity_node_backup(a[0], a[1], &r, &e))
        return cli_error(NULL, &e);
    print_report("backed up", &r);
    return cli_finish(CLI_OK);
}

int cmd_restore(int argc, char **argv)
{
    const char *a[2] = {NULL, NULL}, *store = NULL;
    int n = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return cli_help("restore");
        if (!strcmp(argv[i], "--store") && i + 1 < argc)
            store = argv[++i];
        else if (argv[i][0] == '-')
            return cli_usage("restore", "unknown option %s", argv[i]);
        else if (n == 2)
            return cli_usage("restore", "two arguments: BACKUP DIR");
        else
            a[n++] = argv[i];
    }
    if (n != 2)
        return cli_usage("restore", "two arguments: BACKUP DIR");
    comity_backup_report r;
    comity_error e = {0};
    if (comity_node_restore(a[0], a[1], store, &r, &e))
        return cli_error(NULL, &e);
    print_report("restored", &r);
    printf("log audits clean; %llu record(s) in the store, %llu newer than the log copy"
           " (logged again when the node starts)\n", (unsigned long long)r.records,
           (unsigned long long)r.records_ahead);
    return cli_finish(CLI_OK);
}
