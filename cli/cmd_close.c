/*
 * cmd_close.c: `comity close ID [--reason TEXT]`: close a notification or
 * request you sent (a signed record of type close).  Nothing follows a
 * close: the node refuses later acks and replies.
 */
#include "client.h"

int cmd_close(int argc, char **argv)
{
    return cli_answer_command(argc, argv, "close", "close", "reason");
}
