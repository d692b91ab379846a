/*
 * cmd_ack.c: `comity ack ID [--note TEXT]`: acknowledge a notification or
 * request sent to you or your state (a signed record of type ack that
 * refers to it).  Only recipients may; the node refuses others (exit 1,
 * with its rule).
 */
#include "client.h"

int cmd_ack(int argc, char **argv)
{
    return cli_answer_command(argc, argv, "ack", "ack", "note");
}
