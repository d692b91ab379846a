/*
 * cmd_notify.c: `comity notify`: send an incident notification to one or
 * more states or parties (a signed record of type notification).
 *
 * Builds the body from flags (client.c, cli_message_command: --to,
 * --severity, --sector, --indicators, --respond-by, --tlp, --case, and the
 * fields below), checks it against the framework schema before signing (a
 * mistake names the field), signs with the party's key, seals it for
 * amber and red, posts it and prints "<id> log_index <n>".
 */
#include "client.h"

int cmd_notify(int argc, char **argv)
{
    static const struct cli_field fields[] = {
        {"summary", "summary"}, {"norm", "norm"}, {"action", "requested_action"}, {0, 0}};
    return cli_message_command(argc, argv, "notify", "notification", fields);
}
