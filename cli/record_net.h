/* record_net.h: `comity record post|get|receipt|list` (cmd_record_net.c),
 * dispatched from cmd_record.c.  argv[0] is the subcommand name. */
#ifndef COMITY_CLI_RECORD_NET_H
#define COMITY_CLI_RECORD_NET_H

int cmd_record_post(int argc, char **argv);
int cmd_record_get(int argc, char **argv);
int cmd_record_receipt(int argc, char **argv);
int cmd_record_list(int argc, char **argv);

#endif
