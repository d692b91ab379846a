/*
 * cli.h: what the subcommands of the comity command share (private to cli/).
 *
 * The command is a thin client of libcomity: it parses arguments, reads and
 * writes files, and maps library errors to exit statuses.  No business rule
 * lives here.  Exit statuses: 0 success, 1 a negative answer (verification
 * failed, sweep found hits), 2 usage or input error, 3 internal error.
 */
#ifndef COMITY_CLI_H
#define COMITY_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "comity.h"

enum { CLI_OK = 0, CLI_NO = 1, CLI_USAGE = 2, CLI_FAIL = 3 };

typedef int (*cli_fn)(int argc, char **argv);

struct cli_command {
    const char *name;    /* "record", "keygen" */
    cli_fn run;          /* NULL when not built in this binary */
    const char *summary; /* one line for `comity --help` */
    const char *help;    /* full text for `comity help NAME` */
};

/* Prints "comity: <what>: <message>" on stderr and returns the exit status
 * for the error: 1 for COMITY_ERR_VERIFY, 2 for input and usage problems, 3
 * for the rest. */
int cli_error(const char *what, const comity_error *err);

/* Prints "comity CMD: message" and "try 'comity help CMD'" to stderr; returns 2. */
int cli_usage(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints the help of a command to stdout (for -h/--help inside a command). */
int cli_help(const char *cmd);

/* Writes all of buf to stdout, or to path atomically (mode 0644); 2/3 on error. */
int cli_output(const char *path, const void *buf, size_t len);

/* Flushes stdout and reports a write error (a full disk, a closed pipe). */
int cli_finish(int status);

/* Growable list of strings for repeated options (--to A --to B). */
struct cli_list {
    char **v;
    size_t n, cap;
};
int cli_list_add(struct cli_list *l, char *s);
void cli_list_free(struct cli_list *l);

#endif
