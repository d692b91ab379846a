/*
 * cmd_request.c: `comity request`: ask a state for information, assistance
 * or mitigation under norm 13(c) or 13(h) (a signed record of type
 * request).  As `comity notify`: checked against the schema before
 * signing, sealed for amber and red, posted; prints "<id> log_index <n>".
 */
#include "client.h"

int cmd_request(int argc, char **argv)
{
    static const struct cli_field fields[] = {
        {"kind", "kind"}, {"norm", "norm"}, {"asked", "asked"}, {0, 0}};
    return cli_message_command(argc, argv, "request", "request", fields);
}
